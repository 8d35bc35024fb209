"""``.data`` and ``.grad`` are tensors, as PyTorch's: outside the graph, sharing memory with
what the tensor holds, so that PyTorch's habits (``p.data -= lr * p.grad``,
``p.grad.zero_()``, ``x.grad.numpy()``) do what they do there. And NumPy's ufuncs given
tensors."""

from __future__ import annotations

import numpy as np
import pytest

import tensorgrad as tg
from tensorgrad import Tensor, nn, optim


def test_data_is_a_tensor_outside_the_graph_that_shares_the_memory():
    w = Tensor([1.0, 2.0], requires_grad=True)
    data = w.data
    assert isinstance(data, Tensor) and not data.requires_grad and data.grad_fn is None
    data.mul_(3.0)  # allowed on .data of a leaf that requires grad, as PyTorch's
    np.testing.assert_array_equal(w.detach().numpy(), [3.0, 6.0])
    data[0] = -1.0
    assert w[0].item() == -1.0
    assert type(nn.Parameter(tg.zeros(2)).data) is Tensor  # not a Parameter, as PyTorch's


def test_assigning_data_replaces_the_values_of_any_shape():
    w = Tensor([1.0, 2.0], requires_grad=True)
    w.data = tg.zeros(3, 2)
    assert w.shape == (3, 2) and w.requires_grad and not w.detach().numpy().any()
    w.data = np.ones(4)  # an array too
    np.testing.assert_array_equal(w.detach().numpy(), np.ones(4))
    with pytest.raises(TypeError, match="has to be a tensor"):
        w.data = [1.0, 2.0]
    with pytest.raises(RuntimeError, match="only floating tensors can require grad"):
        w.data = tg.tensor([1, 2])
    np.testing.assert_array_equal(w.detach().numpy(), np.ones(4))  # as it was


def test_grad_is_a_tensor_whose_in_place_ops_change_the_gradient():
    w = Tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    assert isinstance(w.grad, Tensor) and not w.grad.requires_grad
    np.testing.assert_array_equal(w.grad.numpy(), [2.0, 4.0])
    w.grad.mul_(10.0)
    np.testing.assert_array_equal(w.grad.numpy(), [20.0, 40.0])
    w.grad.data.zero_()  # .data of the gradient: the same memory again
    assert not w.grad.any()
    (w * w).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [2.0, 4.0])


def test_a_gradient_scaled_in_place_is_what_the_optimizer_steps_by():
    a, b = Tensor([1.0, -2.0], requires_grad=True), Tensor([1.0, -2.0], requires_grad=True)
    for p, scale in ((a, 1.0), (b, 0.5)):
        opt = optim.SGD([p], lr=0.1)
        (p * p).sum().backward()
        p.grad.mul_(scale)
        opt.step()
    np.testing.assert_allclose(b.detach().numpy(), [0.9, -1.8])
    np.testing.assert_allclose(a.detach().numpy(), [0.8, -1.6])


def test_the_hand_written_update_of_older_pytorch_code_trains():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((16, 3)), rng.standard_normal(16)
    w = Tensor(np.zeros(3), requires_grad=True)
    for _ in range(3):
        w.grad = None
        loss = ((Tensor(x) @ w - Tensor(y)) ** 2).mean()
        loss.backward()
        w.data += -0.1 * w.grad  # makemore's step
    expected = np.zeros(3)
    for _ in range(3):
        expected = expected - 0.1 * 2 * x.T @ (x @ expected - y) / 16
    np.testing.assert_allclose(w.detach().numpy(), expected, rtol=1e-12)
    w.data.add_(w.grad, alpha=-0.1)  # and its other spelling
    w.data = w.data - 0.1 * w.grad
    np.testing.assert_allclose(w.detach().numpy(), expected - 0.2 * w.grad.numpy(), rtol=1e-12)


def test_clipping_scales_a_gradient_the_caller_holds_in_place():
    w = Tensor([3.0, 4.0], requires_grad=True)
    (w * w).sum().backward()
    kept = w.grad  # (6, 8): norm 10
    total = nn.utils.clip_grad_norm_([w], 1.0)
    assert total.item() == pytest.approx(10.0)
    np.testing.assert_allclose(kept.numpy(), [0.6, 0.8], rtol=1e-5)
    nn.utils.clip_grad_value_([w], 0.7)
    np.testing.assert_allclose(kept.numpy(), [0.6, 0.7], rtol=1e-5)


def test_numpy_arithmetic_with_a_tensor_stays_in_the_graph():
    w = Tensor([1.0, 2.0], requires_grad=True)
    for y in (np.ones(2) * w, np.float64(2.0) - w, np.ones(2) / w, np.ones(2) @ w):
        assert isinstance(y, Tensor) and y.requires_grad
    (np.array([3.0, 4.0]) * w).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [3.0, 4.0])
    compared = np.array([1.0, 1.0]) < w
    assert isinstance(compared, Tensor) and compared.tolist() == [False, True]


def test_other_ufuncs_compute_on_the_values_and_give_tensors():
    x = Tensor([1.0, np.nan, np.inf])
    nan = np.isnan(x)
    assert isinstance(nan, Tensor) and nan.tolist() == [False, True, False]
    assert isinstance(np.exp(Tensor(0.0)), Tensor) and np.exp(Tensor(0.0)).item() == 1.0
    assert np.add.reduce(Tensor([1.0, 2.0])).item() == 3.0
    values = np.zeros(2)
    values += Tensor([1.0, 2.0])  # into the array
    np.testing.assert_array_equal(values, [1.0, 2.0])
    with pytest.raises(RuntimeError, match="requires grad"):
        np.exp(Tensor([1.0], requires_grad=True))  # as PyTorch's: detach() first
    with pytest.raises(TypeError, match="in-place methods"):
        np.add(x, 1.0, out=(x,))


def test_comparisons_with_other_types_let_those_types_compare():
    assert Tensor(2.0) == pytest.approx(2.0 + 1e-9)
    assert not (Tensor(2.0) == object())  # noqa: SIM201 (the comparison is what is tested)
    with pytest.raises(TypeError):
        Tensor([1.0, 2.0]) < [1.0, 2.0]  # noqa: B015 (as PyTorch's: no lists)


def test_data_and_grad_as_pytorchs():
    torch = pytest.importorskip("torch")
    ours, theirs = Tensor([1.0, -2.0, 3.0], requires_grad=True), \
        torch.tensor([1.0, -2.0, 3.0], dtype=torch.float64, requires_grad=True)
    kept = {}
    for name, w, no_grad in (("ours", ours, tg.no_grad), ("theirs", theirs, torch.no_grad)):
        (w * w).sum().backward()
        held = w.grad
        (w * 3.0).sum().backward()  # accumulates into the held gradient
        w.grad.mul_(0.5)
        with no_grad():
            w.data.add_(w.grad, alpha=-0.1)
        w.data[0] = 5.0
        kept[name] = (held.numpy().copy(), w.detach().numpy().copy(),
                      w.data.requires_grad, w.grad.requires_grad)
    assert kept["ours"][2:] == kept["theirs"][2:]
    np.testing.assert_array_equal(kept["ours"][0], kept["theirs"][0])
    np.testing.assert_array_equal(kept["ours"][1], kept["theirs"][1])


def test_grad_is_one_tensor_whose_data_may_be_replaced_as_pytorchs():
    torch = pytest.importorskip("torch")
    seen = {}
    for name, lib in (("ours", tg), ("theirs", torch)):
        w = lib.tensor([1.0, -2.0, 3.0], dtype=lib.float64, requires_grad=True)
        (w * 2).sum().backward()
        held = w.grad
        same = w.grad is w.grad and w.grad is held
        w.grad.data = lib.tensor([5.0, 6.0, 7.0], dtype=lib.float64)  # the gradient is these
        (w * w).sum().backward()  # added into them: the held tensor is that same one
        after = w.grad
        w.grad = None
        (w * 3).sum().backward()
        seen[name] = (same, after.tolist(), held.tolist(), w.grad.tolist(),
                      after is w.grad)
    assert seen["ours"] == seen["theirs"]
    with pytest.raises(RuntimeError, match="shape"):
        w = Tensor([1.0, 2.0], requires_grad=True)
        w.sum().backward()
        w.grad.data = Tensor([1.0, 2.0, 3.0])  # a gradient of another shape, as grad = ...
