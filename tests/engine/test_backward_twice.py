"""A second ``backward()`` through a graph, as PyTorch's: the first lets go of the arrays the
ops saved, so the second raises where an op needs one, unless the first kept them
(``retain_graph=True``); an op that saved no array (a sum, a slice, a reshape) can run again.
The first also lets go of the results it passed through, which PyTorch's graph never holds.
"""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest

import tensorgrad as tg
from tensorgrad import Function, Tensor

SECOND_TIME = "backward through the graph a second time"

# name -> (the loss of x, whether PyTorch 2.13 refuses a second backward through it)
LOSSES = {
    "x * x": (lambda x: (x * x).sum(), True),
    "x * 2": (lambda x: (x * 2).sum(), True),
    "x / 2": (lambda x: (x / 2).sum(), True),
    "x ** 2": (lambda x: (x**2).sum(), True),
    "exp": (lambda x: x.exp().sum(), True),
    "tanh": (lambda x: x.tanh().sum(), True),
    "relu": (lambda x: x.relu().sum(), True),
    "matmul": (lambda x: (x.reshape(3, 1) @ x.reshape(1, 3)).sum(), True),
    "x[[0, 1]]": (lambda x: x[[0, 1]].sum(), True),
    "x + 1": (lambda x: (x + 1).sum(), False),
    "sum": (lambda x: x.sum(), False),
    "mean": (lambda x: x.mean(), False),
    "x[0:2]": (lambda x: x[0:2].sum(), False),
    "reshape": (lambda x: x.reshape(3, 1).sum(), False),
    "-(x - 1)": (lambda x: (-(x - 1)).sum(), False),
}


@pytest.mark.parametrize("name", LOSSES)
def test_a_second_backward_raises_where_an_op_saved_an_array(name):
    loss_of, refused = LOSSES[name]
    x = Tensor([0.5, -1.0, 2.0], requires_grad=True)
    loss = loss_of(x)
    loss.backward()
    first = x.grad.numpy().copy()
    if refused:
        with pytest.raises(RuntimeError, match=SECOND_TIME):
            loss.backward()
        np.testing.assert_array_equal(x.grad, first)  # nothing added
    else:
        loss.backward()
        np.testing.assert_array_equal(x.grad, 2 * first)


@pytest.mark.parametrize("name", LOSSES)
def test_retain_graph_keeps_what_a_second_backward_needs(name):
    x = Tensor([0.5, -1.0, 2.0], requires_grad=True)
    loss = LOSSES[name][0](x)
    loss.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    loss.backward(retain_graph=True)
    loss.backward()
    np.testing.assert_array_equal(x.grad, 3 * first)


def test_two_losses_of_one_graph_need_retain_graph_as_in_pytorch():
    x = Tensor([0.5, -1.0, 2.0], requires_grad=True)
    h = x.exp()
    first, second = h.sum(), (h * 3).sum()
    first.backward()
    with pytest.raises(RuntimeError, match=SECOND_TIME):
        second.backward()  # reaches exp's backward, whose saved result is gone
    x.grad = None
    h = x.exp()
    first, second = h.sum(), (h * 3).sum()
    first.backward(retain_graph=True)
    second.backward()
    np.testing.assert_allclose(x.grad, 4 * np.exp([0.5, -1.0, 2.0]))


class Cube(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return 3 * x**2 * grad


class Double(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.factor = 2.0  # a number kept on ctx, not a saved array
        return x * 2

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.factor


def test_a_users_op_loses_its_saved_arrays_after_backward():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = Cube.apply(x)
    y.sum().backward()
    with pytest.raises(RuntimeError, match="saved_tensors"):
        (_,) = y.grad_fn.saved_tensors
    with pytest.raises(RuntimeError, match=SECOND_TIME):
        y.sum().backward()
    z = Double.apply(x)
    z.sum().backward()
    z.sum().backward()  # it saved no array: nothing to free
    np.testing.assert_array_equal(x.grad, 3 * np.array([1.0, 4.0]) + 4)


def test_a_captured_step_still_records_and_replays():
    w = Tensor([1.0, -2.0, 0.5], requires_grad=True)
    step = tg.capture(lambda x: (w * x).exp().sum())
    x = np.array([0.1, 0.2, 0.3])
    for _ in range(4):  # two recordings, then replays
        w.grad = None
        step(x)
        np.testing.assert_allclose(w.grad, x * np.exp(w.detach().numpy() * x))


@pytest.mark.parametrize("name", LOSSES)
def test_the_table_above_is_pytorchs(name):
    torch = pytest.importorskip("torch")
    loss = LOSSES[name][0](torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64,
                                        requires_grad=True))
    loss.backward()
    try:
        loss.backward()
    except RuntimeError as error:
        assert SECOND_TIME in str(error)
        refused = True
    else:
        refused = False
    assert refused == LOSSES[name][1]


def _alive(refs):
    gc.collect()  # (not reference counting: what is unreachable must be gone after a collection)
    return [ref() is not None for ref in refs]


def _results_and_loss(x, mask):
    """A loss whose graph passes through results no one else holds, and a constant tensor."""
    h = (x * 2).exp()
    g = h.tanh() + mask
    # (the arrays themselves: what the graph holds, no public name reaches)
    return [weakref.ref(h._data), weakref.ref(g._data)], (g * g).sum()


def _another_backward():
    Tensor([1.0], requires_grad=True).exp().sum().backward()


@pytest.mark.parametrize("retain", [False, True])
def test_backward_lets_go_of_the_results_it_passed_through(retain):
    x = Tensor(np.linspace(-1.0, 1.0, 1000), requires_grad=True)
    mask = Tensor(np.ones(1000))
    refs, loss = _results_and_loss(x, mask)
    assert _alive(refs) == [True, True]  # the graph holds them until its backward
    loss.backward(retain_graph=retain)
    spent = [type(a) is not Tensor for a in loss.grad_fn.inputs if isinstance(a, Tensor)]
    assert spent == [not retain]  # stand-ins in the graph at once, without retain_graph
    _another_backward()  # which frees the arrays the last one let go of
    # kept for another backward with retain_graph, as PyTorch keeps its saved tensors
    assert _alive(refs) == [retain, retain]
    assert x.grad is not None and loss.item() > 0  # the loss and the leaf are the user's
    assert mask.data.sum() == 1000  # and a leaf given to an op is as it was


def test_losses_kept_after_their_backward_keep_no_activations():
    # `total = total + loss` (not loss.item()): a slip PyTorch forgives, memory-wise
    x = Tensor(np.linspace(-1.0, 1.0, 1000), requires_grad=True)
    total, refs = 0, []
    for _ in range(3):
        step_refs, loss = _results_and_loss(x, Tensor(np.ones(1000)))
        loss.backward()
        total = total + loss
        refs += step_refs
    # the last step's arrays are freed when the next backward starts (its memory reused)
    assert _alive(refs) == [False] * 4 + [True] * 2
    _another_backward()
    assert not any(_alive(refs))
    assert total.requires_grad and total.grad_fn is not None


def test_the_graph_after_backward_keeps_its_shape_without_the_values():
    x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    h = x + 1
    loss = (h + h).sum()  # h used twice: one stand-in for it, as one tensor
    summed = loss.grad_fn.inputs[0]
    before = (summed.shape, summed.dtype, summed.grad_fn, True)
    loss.backward()
    y = loss.grad_fn.inputs[0]
    assert type(y) is not Tensor and (y.shape, y.dtype, y.grad_fn, y.requires_grad) == before
    a, b = y.grad_fn.inputs
    assert a is b and a.grad_fn is h.grad_fn and a.shape == (2, 3)
    assert h.grad_fn.inputs[0] is x  # a leaf that requires grad stays: gradients go to it
    assert "let go of by backward()" in repr(a) and np.isnan(a.detach().numpy()).all()
    assert tg.to_dot(loss).count("let go by backward()") == 2  # (h + h) and h, drawn once each
    loss.backward()  # sums and adds saved nothing: a second pass needs only the shapes
    np.testing.assert_array_equal(x.grad, np.full((2, 3), 4.0))
