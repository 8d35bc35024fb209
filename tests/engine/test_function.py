"""A user's own op: a ``tensorgrad.Function`` with a hand-written backward, written exactly as
the built-in ops are (``torch.autograd.Function``'s form)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from reference import assert_close, check_against_values, upstream_weights, v_exp, v_log
from strategies import broadcastable_shapes, float_dtypes, laid_out, shapes, upstream_layouts

import tensorgrad
from tensorgrad import Function, Tensor


class Softplus(Function):
    """log(1 + exp(x)), computed stably; its derivative is sigmoid(x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.logaddexp(0, x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (1 + np.exp(-x))


def sum_to(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """A broadcast gradient summed back to ``shape``."""
    while grad.ndim > len(shape):
        grad = grad.sum(axis=0)
    return grad.sum(axis=tuple(i for i, n in enumerate(shape) if n == 1), keepdims=True)


class ScaledProduct(Function):
    """scale * a * b, with broadcasting; ``scale`` is a plain number (no gradient)."""

    @staticmethod
    def forward(ctx, a, b, scale):
        ctx.save_for_backward(a, b)
        ctx.scale = scale
        return scale * a * b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        a_needs, b_needs, _ = ctx.needs_input_grad
        return (sum_to(ctx.scale * grad * b, a.shape) if a_needs else None,
                sum_to(ctx.scale * grad * a, b.shape) if b_needs else None,
                None)


@given(data=st.data())
def test_a_user_function_matches_values_in_every_layout_and_dtype(data):
    dtype = data.draw(float_dtypes, label="dtype")
    x = data.draw(laid_out(data.draw(shapes(size_zero=True)), dtype), label="x")
    out = check_against_values(Softplus.apply, lambda v: v_log(v_exp(v) + 1.0), x,
                               upstream=data.draw(upstream_layouts))
    assert out.dtype == dtype and out.grad_fn.function is Softplus


@given(data=st.data())
def test_a_user_function_with_two_inputs_matches_its_composition(data):
    shape_a, shape_b = data.draw(broadcastable_shapes(2), label="shapes")
    dtype = data.draw(float_dtypes, label="dtype")
    a = data.draw(laid_out(shape_a, dtype), label="a")
    b = data.draw(laid_out(shape_b, dtype), label="b")
    results = []
    for fn in (lambda x, y: ScaledProduct.apply(x, y, 1.5), lambda x, y: 1.5 * x * y):
        x, y = Tensor(a.leaf, requires_grad=True), Tensor(b.leaf, requires_grad=True)
        out = fn(a.layout.view(x), b.layout.view(y))
        out.backward(upstream_weights(out.shape).astype(dtype))
        results.append((out.data, x.grad, y.grad))
    rtol = 1e-10 if dtype == np.float64 else 1e-5
    for got, expected in zip(*results):
        assert got.dtype == expected.dtype
        assert_close(got, expected, "user function vs composition", rtol)


def test_needs_input_grad_says_which_arguments_need_a_gradient():
    seen = {}

    class Record(Function):
        @staticmethod
        def forward(ctx, a, b, c):
            seen["forward"] = ctx.needs_input_grad
            return a * b

        @staticmethod
        def backward(ctx, grad):
            seen["backward"] = ctx.needs_input_grad
            return grad, None, None

    x = Tensor([1.0, 2.0], requires_grad=True)
    Record.apply(x, Tensor([3.0, 4.0]), 2.0).sum().backward()
    assert seen == {"forward": (True, False, False), "backward": (True, False, False)}


def test_forward_gets_arrays_for_tensors_and_other_arguments_as_they_are():
    seen = []

    class Look(Function):
        @staticmethod
        def forward(ctx, a, n, name):
            seen.extend([type(a), n, name])
            return a * n

        @staticmethod
        def backward(ctx, grad):
            return grad * ctx.inputs[1], None, None

    x = Tensor([1.0, 2.0], requires_grad=True)
    out = Look.apply(x, 3, "three")
    assert seen == [np.ndarray, 3, "three"]
    assert out.grad_fn.function is Look and out.grad_fn.inputs == (x, 3, "three")
    out.backward(np.ones(2))
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])


def test_a_gradient_is_cast_to_its_input_dtype_and_may_be_a_number_or_a_list():
    class Loose(Function):
        @staticmethod
        def forward(ctx, a, b):
            return a.sum() + b.sum()

        @staticmethod
        def backward(ctx, grad):
            return [float(grad)] * 2, float(grad)  # a list for a (2,), a float for a 0-d

    a = Tensor(np.array([1.0, 2.0], np.float32), requires_grad=True)
    b = Tensor(np.float32(3.0), requires_grad=True)
    Loose.apply(a, b).backward()
    assert a.grad.dtype == b.grad.dtype == np.float32
    np.testing.assert_array_equal(a.grad, [1.0, 1.0])
    assert b.grad == 1.0


def test_a_none_gradient_leaves_the_input_without_grad():
    class NoGrad(Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, grad):
            return None

    x = Tensor([1.0], requires_grad=True)
    out = NoGrad.apply(x) + x
    out.backward(np.ones(1))
    np.testing.assert_array_equal(x.grad, [1.0])  # only through the + x


def test_trailing_none_gradients_beyond_the_inputs_are_allowed_as_in_pytorch():
    class Extra(Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, grad):
            return grad * 2, None, None

    x = Tensor([1.0], requires_grad=True)
    Extra.apply(x).backward(np.ones(1))
    np.testing.assert_array_equal(x.grad, [2.0])


class WrongShape(Function):
    @staticmethod
    def forward(ctx, a):
        return a.sum()

    @staticmethod
    def backward(ctx, grad):
        return np.ones(3)  # the input has shape (2,)


class TooFew(Function):
    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def backward(ctx, grad):
        return (grad,)


class TooMany(Function):
    @staticmethod
    def forward(ctx, a):
        return a * 1

    @staticmethod
    def backward(ctx, grad):
        return grad, grad


def test_a_backward_returning_the_wrong_shape_raises_naming_the_function():
    with pytest.raises(RuntimeError, match=r"WrongShapeBackward .* got \[3\] but expected shape "
                                           r"compatible with \[2\]"):
        WrongShape.apply(Tensor([1.0, 2.0], requires_grad=True)).backward()


@pytest.mark.parametrize("op, args", [(TooFew, 2), (TooMany, 1)], ids=["too few", "too many"])
def test_a_backward_returning_the_wrong_count_raises_naming_the_function(op, args):
    inputs = [Tensor([1.0], requires_grad=True) for _ in range(args)]
    with pytest.raises(RuntimeError,
                       match=rf"{op.__name__}Backward returned an incorrect number of gradients "
                             rf"\(expected {args}, got \d\)"):
        op.apply(*inputs).backward(np.ones(1))


def test_a_function_without_backward_says_so():
    class ForwardOnly(Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2

    out = ForwardOnly.apply(Tensor([1.0], requires_grad=True))
    with pytest.raises(NotImplementedError, match="ForwardOnly defines no backward"):
        out.backward(np.ones(1))


def test_a_function_records_nothing_under_no_grad_or_for_non_float_results():
    x = Tensor([1.0, 2.0], requires_grad=True)
    with tensorgrad.no_grad():
        out = Softplus.apply(x)
    assert out.grad_fn is None and not out.requires_grad

    class Rounded(Function):
        @staticmethod
        def forward(ctx, a):
            return np.round(a).astype(np.int64)

    out = Rounded.apply(x)
    assert out.dtype == np.int64 and out.grad_fn is None and not out.requires_grad
