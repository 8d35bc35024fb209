"""``tensorgrad.gradcheck``: a user's op against the exact scalar engine, or finite differences."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

import tensorgrad as tg
from tensorgrad import Tensor


class Cube(tg.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * x ** 2


def exp_of_product(off_by: tuple[float, float] = (1.0, 1.0)) -> type[tg.Function]:
    """exp(x @ w), its backward scaled by ``off_by`` for x and for w (1: correct)."""

    class ExpOfProduct(tg.Function):
        @staticmethod
        def forward(ctx, x, w):
            out = np.exp(x @ w)
            ctx.save_for_backward(x, w, out)
            return out

        @staticmethod
        def backward(ctx, grad):
            x, w, out = ctx.saved_tensors
            g = grad * out
            return g @ w.T * off_by[0], x.T @ g * off_by[1]

    return ExpOfProduct


def tanh(off_by: float = 1.0) -> type[tg.Function]:
    """np.tanh, which NumPy cannot apply to Values (they have no tanh method)."""

    class Tanh(tg.Function):
        @staticmethod
        def forward(ctx, x):
            out = np.tanh(x)
            ctx.save_for_backward(out)
            return out

        @staticmethod
        def backward(ctx, grad):
            (out,) = ctx.saved_tensors
            return grad * (1 - out ** 2) * off_by

    return Tanh


def inputs(seed: int = 0) -> tuple[Tensor, Tensor]:
    rng = np.random.default_rng(seed)
    return (Tensor(rng.standard_normal((3, 4)), requires_grad=True),
            Tensor(rng.standard_normal((4, 2)) * 0.5, requires_grad=True))


def test_correct_functions_pass_against_the_scalar_engine():
    x, w = inputs()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no fallback: the exact reference was used
        assert tg.gradcheck(Cube.apply, x) is True
        assert tg.gradcheck(exp_of_product().apply, x, w) is True
        assert tg.gradcheck(lambda a, b: tg.functional.linear(a, b.T), x, w) is True


@pytest.mark.parametrize("broken, name", [(0, "x"), (1, "w")])
def test_a_backward_off_by_a_thousandth_fails_naming_the_input(broken, name):
    x, w = inputs()
    off_by = [1.0, 1.0]
    off_by[broken] = 1.001
    with pytest.raises(tg.GradcheckError) as error:
        tg.gradcheck(exp_of_product(tuple(off_by)).apply, x, w)
    message = str(error.value)
    assert f"the gradient of input {broken} ('{name}')" in message
    assert f"input {1 - broken}" not in message
    assert "the scalar engine (exact)" in message
    assert "atol 1e-10 + rtol 1e-07" in message


def test_the_message_gives_the_worst_entry_both_values_and_the_tolerance():
    class OneEntryWrong(tg.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2.0

        @staticmethod
        def backward(ctx, grad):
            g = grad * 2.0
            g[1, 2] *= 1.001
            return g

    x, _ = inputs()
    with pytest.raises(tg.GradcheckError) as error:
        tg.gradcheck(OneEntryWrong.apply, x)
    cotangent = np.random.default_rng(0).standard_normal((3, 4))  # gradcheck's fixed v
    reference = 2.0 * cotangent[1, 2]
    match = re.search(r"wrong at \[1, 2\] of its \(3, 4\): (\S+), where the scalar engine "
                      r"\(exact\) gives (\S+); \|difference\| (\S+) > tolerance (\S+) ",
                      str(error.value))
    assert match, str(error.value)
    assert float(match[1]) == pytest.approx(reference * 1.001, rel=1e-12)
    assert float(match[2]) == pytest.approx(reference, rel=1e-12)
    assert float(match[4]) == pytest.approx(1e-10 + 1e-7 * abs(reference), rel=1e-2)


def test_a_forward_that_cannot_run_on_values_falls_back_to_finite_differences():
    x, _ = inputs()
    with pytest.warns(tg.GradcheckWarning, match="cannot run on Values.*tanh.*finite differences"):
        assert tg.gradcheck(tanh().apply, x) is True
    with pytest.warns(tg.GradcheckWarning), pytest.raises(tg.GradcheckError) as error:
        tg.gradcheck(tanh(1.001).apply, x)
    assert "input 0 ('x')" in str(error.value)
    assert "central finite differences give" in str(error.value)


def test_references_can_be_chosen():
    x, w = inputs()
    with pytest.raises(ValueError, match="cannot run on Values"):
        tg.gradcheck(tanh().apply, x, reference="scalar")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert tg.gradcheck(exp_of_product().apply, x, w, reference="finite-difference")
    with pytest.raises(tg.GradcheckError, match="finite differences"):
        tg.gradcheck(exp_of_product((1.0, 1.001)).apply, x, w, reference="finite-difference")


def test_inputs_are_left_as_they_were():
    x, w = inputs()
    before = x.detach().numpy().copy(), w.detach().numpy().copy()
    tg.gradcheck(exp_of_product().apply, x, w)
    assert np.array_equal(x.data, before[0]) and np.array_equal(w.data, before[1])
    assert x.grad is None and w.grad is None


def test_inputs_that_need_no_gradient_are_passed_through():
    x, w = inputs()
    w.requires_grad_(False)
    with pytest.raises(tg.GradcheckError, match="input 0"):
        tg.gradcheck(exp_of_product((1.001, 1.001)).apply, x, w)  # only x is checked


@pytest.mark.parametrize("case, error", [
    (lambda: tg.gradcheck(Cube.apply, Tensor([1.0, 2.0])), "no input is a tensor"),
    (lambda: tg.gradcheck(Cube.apply, Tensor(np.ones(2, np.float32), requires_grad=True)),
     "float32"),
    (lambda: tg.gradcheck(Cube.apply, Tensor([1.0], requires_grad=True), reference="exact"),
     "reference must be"),
])
def test_bad_arguments(case, error):
    with pytest.raises(ValueError, match=error):
        case()


def test_pytorchs_form_of_the_call_is_taken_too():
    x, w = inputs()
    assert tg.gradcheck(exp_of_product().apply, (x, w), eps=1e-6, atol=1e-10, rtol=1e-7,
                        check_undefined_grad=False) is True
    broken = exp_of_product((1.0, 1.001)).apply
    assert tg.gradcheck(broken, (x, w), raise_exception=False) is False
    with pytest.raises(tg.GradcheckError):
        tg.gradcheck(broken, (x, w))
    with pytest.raises(TypeError, match="unexpected keyword argument 'fast'"):
        tg.gradcheck(broken, (x, w), fast=True)
