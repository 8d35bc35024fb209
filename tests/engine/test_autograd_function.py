"""``tensorgrad.autograd.Function``: PyTorch's custom ops, on tensors, as written for PyTorch
(both forms: ``forward(ctx, ...)``, and ``forward(...)`` with ``setup_context``)."""

from __future__ import annotations

import numpy as np
import pytest

import tensorgrad as tg
from tensorgrad import Tensor
from tensorgrad.autograd import Function

seen: dict[str, object] = {}


class ReLU(Function):
    @staticmethod
    def forward(ctx, x):
        seen["forward"], seen["grad enabled"] = x, tg.is_grad_enabled()
        ctx.save_for_backward(x)
        return x.clamp(min=0)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        seen["saved"], seen["grad"] = x, grad
        grad = grad.clone()
        grad[x < 0] = 0
        return grad


class Linear(Function):  # PyTorch's other form
    @staticmethod
    def forward(x, weight, bias):
        out = x.mm(weight.t())
        if bias is not None:
            out += bias.unsqueeze(0).expand_as(out)
        return out

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(*inputs)

    @staticmethod
    def backward(ctx, grad):
        x, weight, bias = ctx.saved_tensors
        grads = [None, None, None]
        if ctx.needs_input_grad[0]:
            grads[0] = grad.mm(weight)
        if ctx.needs_input_grad[1]:
            grads[1] = grad.t().mm(x)
        if bias is not None and ctx.needs_input_grad[2]:
            grads[2] = grad.sum(0)
        return tuple(grads)


class Scale(Function):
    @staticmethod
    def forward(ctx, x, constant):
        ctx.constant = constant
        return x * constant

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.constant, None


def _arrays(seed):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((4, 3)), rng.standard_normal((5, 3)), rng.standard_normal(5)


def _loss(x, w, b, relu, linear, scale):
    return (scale(linear(relu(x), w, b), 0.1).exp()).sum()


def test_forward_and_backward_see_tensors_outside_the_graph():
    x = Tensor([-1.0, 2.0], requires_grad=True)
    ReLU.apply(x).sum().backward()
    for name in ("forward", "saved", "grad"):
        value = seen[name]
        assert isinstance(value, Tensor) and not value.requires_grad, name
    assert seen["grad enabled"] is False  # forward runs under no_grad, as PyTorch's
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 1.0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_custom_ops_give_the_gradients_of_the_built_in_ones(dtype):
    arrays = [a.astype(dtype) for a in _arrays(0)]
    custom = [Tensor(a, requires_grad=True) for a in arrays]
    built_in = [Tensor(a, requires_grad=True) for a in arrays]
    out = _loss(*custom, ReLU.apply, Linear.apply, Scale.apply)
    expected = _loss(*built_in, tg.relu, tg.nn.functional.linear, lambda y, c: y * c)
    out.backward()
    expected.backward()
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    assert out.dtype == dtype
    np.testing.assert_allclose(out.item(), expected.item(), rtol=rtol)
    for ours, theirs in zip(custom, built_in):
        assert ours.grad.dtype == dtype
        np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=rtol)


def test_an_input_written_in_place_after_forward_refuses_backward():
    x = Tensor([-1.0, 2.0], requires_grad=True)
    h = x * 1.0
    y = ReLU.apply(h)  # saves h
    with tg.no_grad():
        h.mul_(2.0)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.sum().backward()


def test_a_captured_step_replays_a_custom_op_as_eager():
    x, w, b = (Tensor(a, requires_grad=i > 0) for i, a in enumerate(_arrays(1)))
    step = tg.capture(lambda x: _loss(x, w, b, ReLU.apply, Linear.apply, Scale.apply))
    for _ in range(3):
        w.grad = b.grad = None
        replayed = step(x).item(), w.grad.numpy().copy()
    w.grad = b.grad = None
    eager = _loss(x, w, b, ReLU.apply, Linear.apply, Scale.apply)
    eager.backward()
    assert replayed[0] == eager.item()
    np.testing.assert_array_equal(replayed[1], w.grad.numpy())


def test_the_engines_function_still_takes_arrays():
    class Square(tg.Function):
        @staticmethod
        def forward(ctx, x):
            seen["array"] = x
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return 2 * x * grad

    x = Tensor([1.0, 3.0], requires_grad=True)
    Square.apply(x).sum().backward()
    assert type(seen["array"]) is np.ndarray
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 6.0])


def test_custom_ops_as_torchs():
    torch = pytest.importorskip("torch")
    results = []
    for lib in (tg, torch):
        class Cube(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x ** 3

            @staticmethod
            def backward(ctx, grad):
                (x,) = ctx.saved_tensors
                return grad * 3 * x ** 2

        x = lib.tensor([[0.5, -1.0], [2.0, 0.0]], dtype=lib.float64, requires_grad=True)
        y = Cube.apply(x)
        (y * y).sum().backward()
        results.append((y.detach().numpy(), x.grad.numpy()))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-12)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-12)
