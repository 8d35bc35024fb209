"""The scalar `Value` engine, checked against central finite differences.

Everything else is tested against `Value`, so `Value` itself is tested against numbers
that need no autograd at all.
"""

from __future__ import annotations

import gc
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tensorgrad import Value

STEP = 1e-6
FD_TOL = 1e-6


def floats(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False, allow_subnormal=False)


any_x = floats(-3.0, 3.0)
positive_x = floats(0.1, 5.0)
# Bounded away from zero: for the relu kink and for denominators.
away_from_zero = st.one_of(floats(0.1, 3.0), floats(-3.0, -0.1))


def central_difference(f, x: float) -> float:
    return (f(x + STEP) - f(x - STEP)) / (2 * STEP)


def grad_via_value(f, x: float) -> tuple[float, float]:
    """(forward value, d f / d x) from the Value engine."""
    leaf = Value(x)
    out = f(leaf)
    out.backward()
    return out.data, leaf.grad


def assert_matches_finite_difference(f, x: float) -> None:
    _, grad = grad_via_value(f, x)
    numeric = central_difference(lambda t: f(Value(t)).data, x)
    assert grad == pytest.approx(numeric, rel=FD_TOL, abs=FD_TOL)


# ---- forward values -----------------------------------------------------------------------------


@given(x=positive_x, y=away_from_zero)
def test_forward_values_equal_plain_float_arithmetic(x, y):
    a, b = Value(x), Value(y)
    assert (a + b).data == x + y
    assert (a - b).data == x - y
    assert (a * b).data == x * y
    assert (a / b).data == pytest.approx(x / y, rel=1e-15)  # computed as a * b**-1
    assert (-a).data == -x
    assert (a**1.5).data == x**1.5
    assert a.exp().data == math.exp(x)
    assert a.log().data == math.log(x)
    assert b.relu().data == max(y, 0.0)
    assert (2 * a).data == 2 * x
    assert (1 - a).data == 1 - x
    assert (1 / b).data == pytest.approx(1 / y, rel=1e-15)


# ---- one op at a time -------------------------------------------------------------------------


@given(x=any_x, y=any_x)
def test_add_grads_match_finite_differences(x, y):
    assert_matches_finite_difference(lambda a: a + Value(y), x)
    assert_matches_finite_difference(lambda b: Value(x) + b, y)


@given(x=any_x, y=any_x)
def test_sub_grads_match_finite_differences(x, y):
    assert_matches_finite_difference(lambda a: a - Value(y), x)
    assert_matches_finite_difference(lambda b: Value(x) - b, y)


@given(x=any_x, y=any_x)
def test_mul_grads_match_finite_differences(x, y):
    assert_matches_finite_difference(lambda a: a * Value(y), x)
    assert_matches_finite_difference(lambda b: Value(x) * b, y)


@given(x=any_x, y=away_from_zero)
def test_div_grads_match_finite_differences(x, y):
    assert_matches_finite_difference(lambda a: a / Value(y), x)
    assert_matches_finite_difference(lambda b: Value(x) / b, y)


@given(x=any_x)
def test_neg_grad_matches_finite_difference(x):
    assert_matches_finite_difference(lambda a: -a, x)


@given(x=positive_x, exponent=st.sampled_from([2, 3, 0.5, -1, -2, -0.5, 1.5, 0]))
def test_pow_grad_matches_finite_difference_on_positive_data(x, exponent):
    assert_matches_finite_difference(lambda a: a**exponent, x)


@given(x=any_x, exponent=st.sampled_from([1, 2, 3]))
def test_integer_pow_grad_matches_finite_difference_on_any_sign(x, exponent):
    assert_matches_finite_difference(lambda a: a**exponent, x)


@given(x=floats(-5.0, 5.0))
def test_exp_grad_matches_finite_difference(x):
    assert_matches_finite_difference(lambda a: a.exp(), x)


@given(x=positive_x)
def test_log_grad_matches_finite_difference(x):
    assert_matches_finite_difference(lambda a: a.log(), x)


@given(x=away_from_zero)
def test_relu_grad_matches_finite_difference_away_from_kink(x):
    assert_matches_finite_difference(lambda a: a.relu(), x)


def test_relu_forward_and_grad_values():
    for x, out, grad in [(2.5, 2.5, 1.0), (-1.5, 0.0, 0.0)]:
        assert grad_via_value(lambda a: a.relu(), x) == (out, grad)


# ---- reflected forms ----------------------------------------------------------------------------


@given(x=away_from_zero)
def test_reflected_forms_with_a_number_on_the_left(x):
    assert_matches_finite_difference(lambda a: 2 * a, x)
    assert_matches_finite_difference(lambda a: 2.5 + a, x)
    assert_matches_finite_difference(lambda a: 1 - a, x)
    assert_matches_finite_difference(lambda a: 1 / a, x)


def test_reflected_forms_return_values_with_exact_grads():
    x = Value(4.0)
    for expr, data, grad in [
        (lambda: 2 * x, 8.0, 2.0),
        (lambda: 3 + x, 7.0, 1.0),
        (lambda: 1 - x, -3.0, -1.0),
        (lambda: 1 / x, 0.25, -1 / 16),
    ]:
        x.grad = 0.0
        out = expr()
        assert isinstance(out, Value)
        out.backward()
        assert out.data == pytest.approx(data)
        assert x.grad == pytest.approx(grad)


# ---- composition and graph structure ------------------------------------------------------------


@given(x=floats(0.2, 2.0), y=floats(-2.0, 2.0))
def test_composite_expression_matches_finite_differences(x, y):
    def f(a, b):
        return ((a * b + 1.0).exp() / (a**2 + 1.0) - (a + 1.0).log() * b).relu() + a / 3.0

    value_x, value_y = Value(x), Value(y)
    f(value_x, value_y).backward()
    numeric_x = central_difference(lambda t: f(Value(t), Value(y)).data, x)
    numeric_y = central_difference(lambda t: f(Value(x), Value(t)).data, y)
    assert value_x.grad == pytest.approx(numeric_x, rel=1e-5, abs=1e-6)
    assert value_y.grad == pytest.approx(numeric_y, rel=1e-5, abs=1e-6)


def test_reused_node_accumulates_gradient():
    x = Value(3.0)
    y = x * x + x  # dy/dx = 2x + 1
    y.backward()
    assert x.grad == 7.0


def test_node_used_through_several_paths_accumulates_gradient():
    x = Value(2.0)
    a = x * 3.0
    b = a * x  # 3x^2
    y = b + a + x.exp()  # dy/dx = 6x + 3 + e^x
    y.backward()
    assert x.grad == pytest.approx(6 * 2.0 + 3 + math.exp(2.0), rel=1e-15)


def test_long_chain_backpropagates_without_recursion_error():
    x = Value(0.5)
    one, zero = Value(1.0), Value(0.0)  # shared constants: every new node is a link of the chain
    # The graph has no cycles, so the cyclic garbage collector only costs time here.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        y = x
        for _ in range(100_000):  # two nodes per step: a chain of 200,000 nodes
            y = y * one + zero
        y.backward()
    finally:
        if gc_was_enabled:
            gc.enable()
    assert y.data == 0.5
    assert x.grad == 1.0
    assert one.grad == pytest.approx(100_000 * 0.5)
