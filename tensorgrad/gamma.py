"""The gamma function's family on NumPy arrays and as ops with gradients: ``lgamma``,
``digamma``, ``polygamma``, ``mvlgamma``, ``erfinv``, ``i0`` (and ``i1``, its derivative).

NumPy has none of them and SciPy is not a dependency, so they are computed here, in float64
(float32 results are the float64 ones rounded), from textbook series:

- the Hurwitz zeta function ``zeta(s, q) = sum over k >= 0 of (q + k) ** -s`` by summing terms
  until ``q + k`` is large, then the Euler-Maclaurin formula for the rest; ``polygamma(n, x)``
  is ``(-1) ** (n + 1) * n! * zeta(n + 1, x)``;
- ``lgamma`` by the Taylor series of log Gamma about 1 and about 2 (whose coefficients are
  zeta values, so it is exact in relative terms near its zeros at 1 and 2), the recurrence
  Gamma(x + 1) = x Gamma(x) down to them, Stirling's series for large x and the reflection
  formula for negative x;
- ``digamma`` by the recurrence up to x >= 10, then its asymptotic series (PyTorch's scheme);
- ``erfinv`` by a rough start and Halley steps on ``erf`` (``erfc`` near +-1, where
  ``1 - |y|`` is exact and ``erf`` would lose the digits);
- ``i0`` and ``i1`` by their power series (all terms positive: no cancellation) up to 20 and
  their asymptotic series beyond.

Loaded when first used (``tensorgrad/__init__.py`` and ``special.py`` reach it lazily).
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import numpy as np

from .higher_order import constant, times_slope
from .ops import floating, where
from .tensor import Function, Tensor, quiet, tensor_of

_F64 = np.float64


def _bernoulli_even(count: int) -> list[Fraction]:
    """B_2, B_4, ..., B_{2 count} (exact), from the recurrence sum_{j<=m} C(m+1, j) B_j = 0."""
    b = [Fraction(1)]
    for m in range(1, 2 * count + 1):
        b.append(-sum((math.comb(m + 1, j) * b[j] for j in range(m)), Fraction(0)) / (m + 1))
    return b[2::2]


_B = _bernoulli_even(14)
# Euler-Maclaurin's B_2j / (2j)!, for the zeta function's tail
_EM = [float(b / math.factorial(2 * j)) for j, b in enumerate(_B, 1)]
# Stirling's B_2j / (2j (2j - 1)) for log Gamma and B_2j / 2j for digamma
_STIRLING = [float(b / (2 * j * (2 * j - 1))) for j, b in enumerate(_B[:10], 1)]
_DIGAMMA = [float(b / (2 * j)) for j, b in enumerate(_B[:10], 1)]
_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)
_EULER = 0.57721566490153286061


def _odd_integer(x: np.ndarray) -> np.ndarray:
    return np.fmod(x, 2) != 0


def _sinpi(x: np.ndarray) -> np.ndarray:
    """sin(pi x), exact at the integers: x less its nearest integer is exact in float64."""
    n = np.round(x)
    s = np.sin(np.pi * (x - n))
    return np.where(_odd_integer(n), -s, s)


@quiet
def zeta(s: float, q: np.ndarray) -> np.ndarray:
    """Hurwitz's zeta(s, q) for a number s > 1: inf at the poles (q = 0, -1, ...), +inf at
    q = -inf, 0 at q = +inf."""
    q = np.asarray(q, _F64)
    poles = (q <= 0) & (q == np.floor(q))  # (and -inf)
    far = (q < _FAR) & ~poles
    start = 10.0 + s  # where Euler-Maclaurin takes over: its terms fall fast beyond
    # the terms summed one by one, per entry: until q + k >= start
    count = np.where(np.isfinite(q) & ~poles & ~far, np.maximum(np.ceil(start - q), 0), 0)
    total = np.zeros_like(q)
    a = q.copy()
    for k in range(int(count.max(initial=0))):
        more = k < count
        total += np.where(more, a ** -s, 0.0)
        a = np.where(more, a + 1.0, a)
    # the tail from a on: integral + half the first term + the Bernoulli corrections
    b = a ** -s
    tail = b * a / (s - 1) + 0.5 * b
    term = s * b / a
    a2 = a * a
    for j, c in enumerate(_EM, 1):
        tail += c * term
        term *= (s + 2 * j - 1) * (s + 2 * j) / a2
    out = total + tail
    if far.any():
        out[far] = _reflected_zeta(s, q[far])
    out = np.where(q == np.inf, 0.0, out)
    out = np.where(poles, np.inf, out)
    return np.where(np.isnan(q), np.nan, out)


_FAR = -1000.0  # below it, zeta(s, q) comes from zeta(s, 1 - q) by the reflection formula
# (which loses digits where the result is near 0: summing the terms keeps more, up to here)


def _reflected_zeta(s: float, q: np.ndarray) -> np.ndarray:
    """zeta(n + 1, q) for q < -1000, not an integer, from the reflection formula of the
    polygamma functions: psi_n(1 - q) + (-1)**(n + 1) psi_n(q) = (-1)**n pi d^n/dq^n cot(pi q),
    the n-th derivative of cot(pi q) being pi**n P_n(cot(pi q)) with P_0(c) = c and
    P_{k+1}(c) = -(1 + c**2) P_k'(c)."""
    n = int(s) - 1
    if n != s - 1 or n < 1:
        return np.full_like(q, np.nan)  # (q**-s of a negative q: not a real number)
    from numpy.polynomial import polynomial as P

    coefficients = np.array([0.0, 1.0])
    for _ in range(n):
        coefficients = -P.polymul([1.0, 0.0, 1.0], P.polyder(coefficients))
    c = 1.0 / np.tan(np.pi * (q - np.round(q)))  # cot(pi q), q less its integer exactly
    derivative = math.pi ** n * P.polyval(c, coefficients)
    # psi_n(q) = (-1)**(n+1) [(-1)**n pi derivative - psi_n(1 - q)], zeta = psi_n * (-1)**(n+1) / n!
    psi_reflected = (-1) ** (n + 1) * math.factorial(n) * zeta(s, 1.0 - q)
    psi = (-1) ** (n + 1) * ((-1) ** n * math.pi * derivative - psi_reflected)
    return psi * (-1) ** (n + 1) / math.factorial(n)


def _series_coefficients() -> tuple[np.ndarray, np.ndarray]:
    """The Taylor coefficients of log Gamma about 1 and about 2 from z**2 on, highest first:
    (-1)**k zeta(k) / k and (-1)**k (zeta(k) - 1) / k."""
    ks = np.arange(2, 60)
    about_1 = np.array([(-1) ** k * float(zeta(float(k), np.array(1.0))) / k for k in ks])
    about_2 = np.array([(-1) ** k * float(zeta(float(k), np.array(2.0))) / k for k in ks])
    return about_1[::-1], about_2[::-1]


_ABOUT_1, _ABOUT_2 = _series_coefficients()


def _horner(coefficients: np.ndarray, z: np.ndarray) -> np.ndarray:
    out = np.full_like(z, coefficients[0])
    for c in coefficients[1:]:
        out = out * z + c
    return out


def _lgamma_near(z: np.ndarray, coefficients: np.ndarray, linear: float) -> np.ndarray:
    """log Gamma(centre + z) for |z| <= 1/2 by its Taylor series (without its constant 0)."""
    return z * (linear + z * _horner(coefficients, z))


@quiet
def lgamma_array(x: np.ndarray) -> np.ndarray:
    """log |Gamma(x)|: +inf at 0, the negative integers and +-inf."""
    x = np.asarray(x, _F64)
    positive = np.where(x > 0, x, np.where(x < 0, 1.0 - x, 1.0))  # reflection's 1 - x
    out = _lgamma_positive(positive)
    # x < 0: log(pi / |sin(pi x)|) - lgamma(1 - x)
    reflected = math.log(math.pi) - np.log(np.abs(_sinpi(x))) - out
    out = np.where(x < 0, reflected, out)
    poles = (x <= 0) & (x == np.floor(x))  # 0, the negative integers, -inf
    out = np.where(poles | np.isinf(x), np.inf, out)
    return np.where(np.isnan(x), np.nan, out)


def _lgamma_positive(x: np.ndarray) -> np.ndarray:
    """log Gamma(x) for x > 0 (inf and NaN pass through unchecked)."""
    out = np.empty_like(x)
    small = x < 0.5  # log Gamma(x) = log Gamma(1 + x) - log(x)
    z = np.where(small, x, x - 1.0)
    near_1 = _lgamma_near(z, _ABOUT_1, -_EULER) + 0.0  # (+0, not -0, at 1: PyTorch's)
    out = np.where(small, near_1 - np.log(x), near_1)
    # [1.5, 13): down to [1.5, 2.5) by Gamma(x) = (x - 1) Gamma(x - 1), exact steps
    middle = (x >= 1.5) & (x < 13)
    steps = np.where(middle, np.floor(x - 1.5), 0.0)
    y = x - steps
    product = np.ones_like(x)
    for k in range(int(steps.max(initial=0))):
        product = np.where(k < steps, product * (y + k), product)
    near_2 = _lgamma_near(y - 2.0, _ABOUT_2, 1.0 - _EULER) + np.log(product)
    out = np.where(middle, near_2, out)
    # from 13: Stirling's series
    large = np.where(x >= 13, x, 13.0)
    inverse = 1.0 / large
    square = inverse * inverse
    correction = _horner(np.array(_STIRLING[::-1]), square) * inverse
    stirling = (large - 0.5) * np.log(large) - large + _HALF_LOG_2PI + correction
    return np.where(x >= 13, stirling, out)


@quiet
def digamma_array(x: np.ndarray) -> np.ndarray:
    """The derivative of log Gamma: +-inf at -+0, NaN at the negative integers and -inf."""
    x = np.asarray(x, _F64)
    negative = x < 0
    # x < 0: digamma(1 - x) - pi / tan(pi x), with x's fraction (exact) in the tangent
    reflection = np.where(negative, -np.pi / np.tan(np.pi * np.fmod(x, 1.0)), 0.0)
    y = np.where(negative, 1.0 - x, x)
    out = reflection
    for _ in range(10):  # up to 10 by digamma(y) = digamma(y + 1) - 1 / y
        below = y < 10
        out = out - np.where(below, 1.0 / np.where(below, y, 1.0), 0.0)
        y = np.where(below, y + 1.0, y)
    square = 1.0 / (y * y)
    series = _horner(np.array(_DIGAMMA[::-1]), square) * square
    out = out + np.log(y) - 0.5 / y - series
    out = np.where(x == 0, np.copysign(np.inf, -x), out)
    out = np.where(negative & (x == np.floor(x)), np.nan, out)  # the integers, and -inf
    return np.where(x == np.inf, np.inf, out)


def polygamma_array(n: int, x: np.ndarray) -> np.ndarray:
    """The n-th derivative of digamma (n >= 0)."""
    if n == 0:
        return digamma_array(x)
    sign = 1.0 if n % 2 else -1.0
    with np.errstate(all="ignore"):
        return sign * float(math.factorial(n)) * zeta(n + 1.0, x)


_SQRT_PI = math.sqrt(math.pi)


@quiet
def erfinv_array(y: np.ndarray) -> np.ndarray:
    """The inverse of erf on [-1, 1]: +-inf at +-1, NaN outside."""
    from .special import erf, erfc

    y = np.asarray(y, _F64)
    a = np.abs(y)
    tail = a > 0.5
    rest = 1.0 - a  # exact where it is used (a > 0.5)
    # a rough start: the series about 0, or erfc(x) ~ exp(-x**2) / (x sqrt(pi)) solved once
    series = 0.5 * _SQRT_PI * a * (1 + a * a * (math.pi / 12 + a * a * 7 * math.pi ** 2 / 480))
    first = np.sqrt(-np.log(np.where(tail, rest, 0.5)))
    rough = np.sqrt(-np.log(np.where(tail, rest, 0.5) * first * _SQRT_PI))
    x = np.where(tail, np.maximum(rough, 0.45), series)
    for _ in range(5):  # Halley's steps on erf(x) - a, cubic: from 10% to float64 in four
        residual = np.where(tail, rest - erfc(x), erf(x) - a)
        step = residual / (2 / _SQRT_PI * np.exp(-x * x))
        x = x - step / (1 + x * step)
    x = np.where(a == 1, np.inf, x)
    x = np.where((a > 1) | np.isnan(a), np.nan, x)
    return np.copysign(x, y)


def _bessel_series(x: np.ndarray, order: int) -> np.ndarray:
    """I_order(x) for |x| <= 20 by its power series: (x/2)**(2k + order) / (k! (k + order)!)."""
    quarter = 0.25 * x * x
    term = np.ones_like(x) if order == 0 else 0.5 * x
    total = term.copy()
    for k in range(1, 60):  # the terms fall below 2**-53 of the sum well before k = 60
        term = term * quarter / (k * (k + order))
        total += term
    return total


def _bessel_asymptotic(x: np.ndarray, order: int) -> np.ndarray:
    """I_order(|x|) for |x| > 20: exp(x) / sqrt(2 pi x) times Hankel's series (asymptotic:
    its smallest term, near k = 2x, is below 1e-18 from x = 20)."""
    mu = 4.0 * order * order
    term = np.ones_like(x)
    total = term.copy()
    for k in range(1, 40):
        term = term * -(mu - (2 * k - 1) ** 2) / (k * 8.0 * x)
        total += term
    half = np.exp(0.5 * x)  # exp(x) as its half squared: it overflows only where I does
    return half * (half / np.sqrt(2 * math.pi * x)) * total


@quiet
def bessel_i(x: np.ndarray, order: int) -> np.ndarray:
    """The modified Bessel function I_0 or I_1 (odd): NaN at +-inf, as PyTorch's."""
    x = np.asarray(x, _F64)
    a = np.abs(x)
    near = np.where(a <= 20, a, 0.0)
    far = np.where(a > 20, a, 21.0)
    out = np.where(a <= 20, _bessel_series(near, order), _bessel_asymptotic(far, order))
    if order:
        out = np.copysign(out, x)
    return np.where(np.isfinite(x), out, np.nan)


# ---- the ops ---------------------------------------------------------------------------------


def _result(values: np.ndarray, like: np.ndarray) -> np.ndarray:
    return values.astype(like.dtype, copy=False)


class Lgamma(Function):
    @staticmethod
    def forward(ctx, a):
        a = floating(a)
        ctx.save_for_backward(a)
        return _result(lgamma_array(a), a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad * digamma_array(a)

    recorded_backward = staticmethod(times_slope(lambda a: Polygamma.apply(a, 0)))


class Polygamma(Function):
    """polygamma(n, a); digamma is n = 0."""

    @staticmethod
    def forward(ctx, a, n):
        a = floating(a)
        ctx.save_for_backward(a)
        ctx.n = n
        return _result(polygamma_array(n, a), a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad * polygamma_array(ctx.n + 1, a), None

    @staticmethod
    def recorded_backward(ctx, grad):
        return grad * Polygamma.apply(ctx.inputs[0], ctx.n + 1), None


class Erfinv(Function):
    @staticmethod
    def forward(ctx, a):
        a = floating(a)
        out = _result(erfinv_array(a), a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    @quiet
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * (0.5 * _SQRT_PI * np.exp(out.astype(_F64) ** 2))

    recorded_backward = staticmethod(times_slope(
        lambda a: 0.5 * _SQRT_PI * (Erfinv.apply(a) ** 2).exp()))


class I0(Function):
    @staticmethod
    def forward(ctx, a):
        a = floating(a)
        ctx.save_for_backward(a)
        return _result(bessel_i(a, 0), a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad * bessel_i(a, 1)

    recorded_backward = staticmethod(times_slope(lambda a: I1.apply(a)))


class I1(Function):
    @staticmethod
    def forward(ctx, a):
        a = floating(a)
        ctx.save_for_backward(a)
        return _result(bessel_i(a, 1), a)

    @staticmethod
    @quiet
    def backward(ctx, grad):  # I1' = I0 - I1 / x, which is 1/2 at 0
        (a,) = ctx.saved_tensors
        a = a.astype(_F64)
        ratio = np.where(a == 0, 0.5, bessel_i(a, 1) / np.where(a == 0, 1.0, a))
        return grad * (bessel_i(a, 0) - ratio)

    @staticmethod
    def recorded_backward(ctx, grad):  # I1' = I0 - I1 / x, which is 1/2 at 0
        (a,) = ctx.inputs
        zero = constant(a._data == 0)
        ratio = where(zero, 0.5, I1.apply(a) / where(zero, 1.0, a))
        return (grad * (I0.apply(a) - ratio),)


# ---- torch.* functions -----------------------------------------------------------------------


def _unary(function: type[Function], input: Any, name: str, *args: Any) -> Tensor:
    x = tensor_of(input)
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument 'input' must be Tensor, not {type(input).__name__}")
    return function.apply(x, *args)


def lgamma(input: Tensor) -> Tensor:
    """log |Gamma(input)|, elementwise."""
    return _unary(Lgamma, input, "lgamma")


def digamma(input: Tensor) -> Tensor:
    """The logarithmic derivative of Gamma, elementwise (``torch.special.psi``)."""
    return _unary(Polygamma, input, "digamma", 0)


def polygamma(n: int, input: Tensor) -> Tensor:
    """The ``n``-th derivative of digamma, elementwise."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"polygamma(): argument 'n' must be int, not {type(n).__name__}")
    if n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    return _unary(Polygamma, input, "polygamma", int(n))


def erfinv(input: Tensor) -> Tensor:
    """The inverse of erf, elementwise."""
    return _unary(Erfinv, input, "erfinv")


def i0(input: Tensor) -> Tensor:
    """The modified Bessel function of the first kind of order 0, elementwise."""
    return _unary(I0, input, "i0")


def i1(input: Tensor) -> Tensor:
    """The modified Bessel function of the first kind of order 1, elementwise."""
    return _unary(I1, input, "i1")


def mvlgamma(input: Tensor, p: int) -> Tensor:
    """The log of the multivariate gamma function of dimension ``p``:
    p (p - 1) / 4 log(pi) + the sum over j < p of lgamma(input - j / 2)."""
    if p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")
    x = tensor_of(input)
    if x.dtype.kind != "f":
        x = x.to(_default_float())
    shifts = Tensor(-0.5 * np.arange(p), dtype=x.dtype)
    terms = lgamma(x.unsqueeze(-1) + shifts).sum(-1)
    return terms + p * (p - 1) / 4 * math.log(math.pi)


def _default_float() -> Any:
    from .dtypes import get_default_dtype

    return get_default_dtype()


# ---- the Tensor methods (tensor.py's stand-ins put these on the class when first used) -------


def _polygamma_method(input: Tensor, n: int) -> Tensor:
    """``polygamma(n, input)``: the method takes the tensor first."""
    return polygamma(n, input)


def _in_place(compute: Any, name: str) -> Any:
    from .tensor import written_in_place

    def method(self: Tensor, *args: Any) -> Tensor:
        return written_in_place(self, lambda: compute(self, *args))

    method.__name__ = method.__qualname__ = name
    return method


TENSOR_METHODS: dict[str, Any] = {
    "lgamma": lgamma, "lgamma_": _in_place(lgamma, "lgamma_"), "digamma": digamma,
    "digamma_": _in_place(digamma, "digamma_"), "polygamma": _polygamma_method,
    "polygamma_": _in_place(_polygamma_method, "polygamma_"), "erfinv": erfinv,
    "erfinv_": _in_place(erfinv, "erfinv_"), "i0": i0, "i0_": _in_place(i0, "i0_"),
    "mvlgamma": mvlgamma, "mvlgamma_": _in_place(mvlgamma, "mvlgamma_"),
}
