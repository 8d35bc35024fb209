"""In-place ops on views of tensors in the graph, without torch: the base's history is
rewritten (gradients in closed form, over the layouts a base may have), a view that a later
write changed is refused rather than sent a stale gradient, and what cannot be recorded is
refused. ``test_in_place_views_torch.py`` holds the same against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import tensorgrad as tg

LAYOUTS = {
    "C": lambda a: a.copy(),
    "Fortran": np.asfortranarray,
    "transposed": lambda a: a.T.copy().T,
    "sliced": lambda a: np.repeat(a, 2, axis=-1)[..., ::2],
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_a_column_added_to_in_place_gives_the_gradient_of_the_sum(layout, dtype):
    values = np.arange(12.0, dtype=dtype).reshape(3, 4) - 5
    x = tg.tensor(LAYOUTS[layout](values), requires_grad=True)
    y = x * 2
    y[:, 1] += 1  # y = 2x, and 2x + 1 in column 1
    (y * y).sum().backward()
    expected = 4 * (2 * values)
    expected[:, 1] += 4
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-6)
    assert x.grad.dtype == dtype


@pytest.mark.parametrize("layout", LAYOUTS)
def test_a_row_of_a_transpose_multiplied_in_place_by_a_tensor(layout):
    values = np.arange(12.0).reshape(3, 4) + 1
    x = tg.tensor(LAYOUTS[layout](values), requires_grad=True)
    w = tg.tensor([2.0, 3.0, 4.0], requires_grad=True)
    y = x + 0
    y.T[1].mul_(w)  # column 1 of y scaled by w entry by entry
    y.sum().backward()
    expected = np.ones((3, 4))
    expected[:, 1] = [2.0, 3.0, 4.0]
    np.testing.assert_array_equal(x.grad.numpy(), expected)
    np.testing.assert_array_equal(w.grad.numpy(), values[:, 1])
    np.testing.assert_array_equal(y.detach().numpy()[:, 1], values[:, 1] * [2, 3, 4])


def test_one_entry_and_the_diagonal_are_views_that_write_their_base():
    x = tg.zeros(3, 3, requires_grad=True)
    y = x + 1
    y[1, 2].mul_(5)
    y.diagonal().zero_()
    np.testing.assert_array_equal(y.detach().numpy(), [[0, 1, 1], [1, 0, 5], [1, 1, 0]])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 1, 1], [1, 0, 5], [1, 1, 0]])


def test_a_sibling_view_the_write_did_not_touch_keeps_its_gradient():
    x = tg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    y = x * 1
    first, second = y[0], y[1]
    first.mul_(10)
    (second * 3).sum().backward()  # second's op came before the write, which missed it
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 0], [3, 3]])


def test_a_view_whose_values_a_later_write_changed_is_refused():
    x = tg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    y = x * 1
    row = y[0]
    y.mul_(10)  # row's values are now ten times what its op read
    with pytest.raises(RuntimeError, match="made a view of a tensor whose values"):
        (row * 3).sum().backward()


def test_an_op_that_used_a_tensor_before_the_write_sends_its_gradient_to_the_old_values():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    before = (y + 1).sum()
    y[0] = 7.0
    (before + (y * y).sum()).backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0 + 2 * 4.0 * 2])


def test_what_cannot_be_recorded_is_refused():
    x = tg.ones(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match="view made outside it"):
        tg.zeros(4, 3)[1:3].copy_(x)  # the zeros never joined the graph
    with pytest.raises(RuntimeError, match="view of a leaf Variable"):
        x[0].mul_(2)
    with pytest.raises(RuntimeError, match="more than one element"):
        (x * 1)[:1].expand(3, 3).mul_(2)
    h = x * 1.0
    z = h.exp().sum()
    h[0].add_(1.0)
    with pytest.raises(RuntimeError, match="in-place"):
        tg.autograd.grad(z, x, create_graph=True)


def test_an_in_place_op_on_a_view_outside_the_graph_is_a_plain_write():
    x = tg.ones(2, 3, requires_grad=True)
    y = x * 2
    with tg.no_grad():
        y[0].mul_(3)
    np.testing.assert_array_equal(y.detach().numpy(), [[6, 6, 6], [2, 2, 2]])
    assert y.grad_fn is not None and y.grad_fn.name() == "Mul"
