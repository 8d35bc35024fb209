"""The rest of ``torch.special``: the normal distribution's functions (``ndtr``, ``log_ndtr``,
``ndtri``), ``erfcx``, ``entr``, ``xlog1py``, the Bessel functions (``i0e``, ``i1e``,
``modified_bessel_*``, ``bessel_*``, ``spherical_bessel_j0``), ``airy_ai``, the incomplete gamma
functions (``gammainc``, ``gammaincc``), Hurwitz's ``zeta`` and the orthogonal polynomials.

Computed with NumPy in float64 (float32 results are those rounded), from textbook formulas:

- ``erfcx`` from Cody's erfc of ``special.py``, whose middle and tail ranges are erfc / exp(-x**2)
  already; ``ndtri`` from a rough start (Abramowitz and Stegun 26.2.23) and Halley steps on ndtr;
- the Bessel functions by their power series for small x, the trapezoid rule on their integral
  representations (exponentially accurate: periodic integrands, or ones that fall off
  doubly exponentially) in the middle, and Hankel's asymptotic series for large x;
- Ai(x) by its Maclaurin series near 0, by K_1/3 for x > 1 and by Hankel's series below -8;
- the incomplete gamma functions by their power series for x < a + 1, else Legendre's continued
  fraction (evaluated by the modified Lentz method).

Gradients are PyTorch's: where PyTorch has none (the Bessel functions of the ``modified_bessel``
and ``bessel`` families, ``airy_ai``, the polynomials) the result does not require grad; where
PyTorch raises on backward (``gammainc``'s ``input``, ``zeta``'s ``input``) so do these, with
the same exception type.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from . import gamma as _gamma
from . import ops
from .special import _SMALL, _middle, _near_zero, _tail
from .special import erfc as _erfc
from .tensor import Function, Tensor, as_leaf, quiet, tensor_of

_F64 = np.float64
_SQRT2 = math.sqrt(2.0)
_SQRT_2PI = math.sqrt(2 * math.pi)
_EULER = 0.57721566490153286061


# ---- NumPy kernels (float64 in, float64 out) -----------------------------------------------


@quiet
def erfcx_array(x: np.ndarray) -> np.ndarray:
    """exp(x**2) erfc(x): 1 / (x sqrt(pi)) for large x, without the underflow."""
    x = np.asarray(x, _F64)
    y = np.abs(x)
    out = np.empty_like(x)
    small = y <= _SMALL
    out[small] = np.exp(x[small] ** 2) * (1 - _near_zero(x[small]))
    middle = ~small & (y <= 4)
    out[middle] = _middle(y[middle])
    tail = ~small & ~middle  # (and NaN)
    out[tail] = np.where(np.isinf(y[tail]), 0.0, _tail(np.where(np.isinf(y[tail]), 1.0,
                                                                     y[tail])))
    negative = (x < 0) & ~small  # erfc(-y) = 2 - erfc(y)
    out[negative] = 2 * np.exp(y[negative] ** 2) - out[negative]
    return out


@quiet
def ndtr_array(x: np.ndarray) -> np.ndarray:
    """The standard normal distribution function."""
    return 0.5 * _erfc(-np.asarray(x, _F64) / _SQRT2)


@quiet
def log_ndtr_array(x: np.ndarray) -> np.ndarray:
    """log ndtr(x), accurate in both tails: through erfcx for x < 0, log1p above."""
    x = np.asarray(x, _F64)
    below = np.log(0.5 * erfcx_array(-np.minimum(x, 0.0) / _SQRT2)) - 0.5 * np.minimum(x, 0) ** 2
    above = np.log1p(-0.5 * _erfc(np.maximum(x, 0.0) / _SQRT2))
    return np.where(x < 0, below, above)


@quiet
def ndtri_array(p: np.ndarray) -> np.ndarray:
    """The inverse of ndtr: -inf at 0, inf at 1, NaN outside [0, 1]."""
    p = np.asarray(p, _F64)
    q = np.minimum(p, 1 - p)  # solve ndtr(x) = q for x <= 0, where ndtr is accurate
    safe = np.where((q > 0) & (q <= 0.5), q, 0.25)
    t = np.sqrt(-2 * np.log(safe))
    x = -(t - (2.515517 + t * (0.802853 + t * 0.010328))
          / (1 + t * (1.432788 + t * (0.189269 + t * 0.001308))))
    for _ in range(4):  # Halley: cubic convergence from about 4.5e-4
        density = np.exp(-0.5 * x * x) / _SQRT_2PI
        step = (ndtr_array(x) - safe) / density
        x = x - step / (1 + 0.5 * x * step)
    x = np.where(p > 0.5, -x, x)
    x = np.where(q == 0.5, 0.0, x)
    x = np.where(p == 0, -np.inf, np.where(p == 1, np.inf, x))
    return np.where((p < 0) | (p > 1) | np.isnan(p), np.nan, x)


def _hankel(x: np.ndarray, order: float, sign: float, terms: int = 40) -> np.ndarray:
    """Sum over k of sign**k a_k / x**k, a_k = prod_j (4 order**2 - (2j - 1)**2) / (k! 8**k):
    Hankel's asymptotic series of I (sign -1) and K (sign +1)."""
    mu = 4.0 * order * order
    term = np.ones_like(x)
    total = term.copy()
    for k in range(1, terms):
        term = term * sign * (mu - (2 * k - 1) ** 2) / (k * 8.0 * x)
        total += term
    return total


@quiet
def scaled_i_array(x: np.ndarray, order: int) -> np.ndarray:
    """exp(-|x|) I_order(x) (``i0e``, ``i1e``)."""
    x = np.asarray(x, _F64)
    a = np.abs(x)
    near = np.where(a <= 20, a, 0.0)
    far = np.where(a > 20, a, 21.0)
    out = np.where(a <= 20, _gamma._bessel_series(near, order) * np.exp(-near),
                   _hankel(far, order, -1.0) / np.sqrt(2 * math.pi * far))
    out = np.where(np.isinf(a), 0.0, out)
    if order:
        out = np.copysign(out, x)
    return np.where(np.isnan(x), np.nan, out)


def _harmonic_series(quarter: np.ndarray, order: int) -> np.ndarray:
    """The sums of K's series for x <= 2: sum over k of c_k (x**2 / 4)**k / (k! (k + order)!),
    c_k = H_k for order 0, psi(k + 1) + psi(k + 2) for order 1."""
    term = np.ones_like(quarter)
    digamma_k = -_EULER  # psi(k + 1)
    harmonic = 0.0
    total = np.zeros_like(quarter) if order == 0 else term * (2 * digamma_k + 1)
    for k in range(1, 40):
        term = term * quarter / (k * (k + order))
        harmonic += 1.0 / k
        digamma_k += 1.0 / k
        coefficient = harmonic if order == 0 else 2 * digamma_k + 1.0 / (k + 1)
        total += coefficient * term
    return total


_TRAPEZOID_STEP = 0.05
_NODES = np.arange(0.0, 8.0 + _TRAPEZOID_STEP / 2, _TRAPEZOID_STEP)


def _scaled_k_middle(x: np.ndarray, order: float) -> np.ndarray:
    """exp(x) K_order(x) for 1 <= x <= 20: the trapezoid rule on
    integral over t >= 0 of exp(-x (cosh t - 1)) cosh(order t)."""
    total = 0.5 * np.ones_like(x)  # (the node t = 0 counts half)
    for t in _NODES[1:]:
        total += np.exp(-x * (math.cosh(t) - 1)) * math.cosh(order * t)
    return total * _TRAPEZOID_STEP


@quiet
def scaled_k_array(x: np.ndarray, order: int) -> np.ndarray:
    """exp(x) K_order(x): inf at 0, NaN below."""
    x = np.asarray(x, _F64)
    small = np.where((x > 0) & (x <= 2), x, 1.0)
    quarter = 0.25 * small * small
    log_half = np.log(0.5 * small)
    if order == 0:
        series = (-(log_half + _EULER) * _gamma._bessel_series(small, 0)
                  + _harmonic_series(quarter, 0))
    else:
        series = (1 / small + log_half * _gamma._bessel_series(small, 1)
                  - 0.25 * small * _harmonic_series(quarter, 1))
    series *= np.exp(small)
    middle = _scaled_k_middle(np.where((x > 2) & (x <= 20), x, 4.0), order)
    far = np.where(x > 20, x, 21.0)
    asymptotic = np.sqrt(math.pi / (2 * far)) * _hankel(far, order, 1.0)
    out = np.where(x <= 2, series, np.where(x <= 20, middle, asymptotic))
    out = np.where(x == np.inf, 0.0, out)
    out = np.where(x == 0, np.inf, out)
    return np.where((x < 0) | np.isnan(x), np.nan, out)


_J_NODES = 2 * math.pi * np.arange(128) / 128
_Y_LEGENDRE = np.polynomial.legendre.leggauss(96)


def _j_middle(x: np.ndarray, order: int) -> np.ndarray:
    """J_order(x) for |x| <= 25: the mean of cos(order t - x sin t) over a period, which the
    trapezoid rule gets to float64 accuracy with 128 nodes."""
    total = np.zeros_like(x)
    for t in _J_NODES:
        total += np.cos(order * t - x * math.sin(t))
    return total / len(_J_NODES)


def _hankel_oscillating(x: np.ndarray, order: int) -> tuple[np.ndarray, np.ndarray]:
    """J_order and Y_order for x > 25 by Hankel's series P and Q."""
    mu = 4.0 * order * order
    term = np.ones_like(x)
    p, q = term.copy(), np.zeros_like(x)
    for k in range(1, 40):
        term = term * (mu - (2 * k - 1) ** 2) / (k * 8.0 * x)
        if k % 2:
            q += term if k % 4 == 1 else -term
        else:
            p += term if k % 4 == 0 else -term
    phase = x - (0.5 * order + 0.25) * math.pi
    scale = np.sqrt(2 / (math.pi * x))
    return (scale * (p * np.cos(phase) - q * np.sin(phase)),
            scale * (p * np.sin(phase) + q * np.cos(phase)))


@quiet
def bessel_j_array(x: np.ndarray, order: int) -> np.ndarray:
    """The Bessel function of the first kind J_0 or J_1."""
    x = np.asarray(x, _F64)
    a = np.abs(x)
    middle = _j_middle(np.where(a <= 25, a, 0.0), order)
    far = _hankel_oscillating(np.where(a > 25, a, 26.0), order)[0]
    out = np.where(a <= 25, middle, far)  # (NaN at +-inf, as PyTorch's)
    if order:
        out = np.where(x < 0, -out, out)
    return np.where(np.isnan(x), np.nan, out)


def _y_middle(x: np.ndarray, order: int) -> np.ndarray:
    """Y_order(x) for 2 < x <= 25 from its integrals (Gauss-Legendre quadrature):
    (1/pi) int_0^pi sin(x sin t - order t) dt
    - (1/pi) int_0^inf (e^(order t) + (-1)^order e^(-order t)) e^(-x sinh t) dt."""
    nodes, weights = _Y_LEGENDRE
    first = np.zeros_like(x)
    for t, w in zip(0.5 * math.pi * (nodes + 1), 0.5 * math.pi * weights):
        first += w * np.sin(x * math.sin(t) - order * t)
    end = np.arcsinh(60.0 / x)  # beyond it the integrand is below 1e-24
    second = np.zeros_like(x)
    for u, w in zip(0.5 * (nodes + 1), 0.5 * weights):
        t = u * end
        second += w * (np.exp(order * t) + (-1) ** order * np.exp(-order * t)) * np.exp(
            -x * np.sinh(t))
    second *= end
    return (first - second) / math.pi


@quiet
def bessel_y_array(x: np.ndarray, order: int) -> np.ndarray:
    """The Bessel function of the second kind Y_0 or Y_1: -inf at 0, NaN below (and at inf,
    as PyTorch's)."""
    x = np.asarray(x, _F64)
    small = np.where((x > 0) & (x <= 2), x, 1.0)
    quarter = 0.25 * small * small
    log_half = np.log(0.5 * small)
    term = np.ones_like(small)
    if order == 0:
        total = np.zeros_like(small)
        harmonic = 0.0
        for k in range(1, 30):
            term = -term * quarter / (k * k)
            harmonic += 1.0 / k
            total -= harmonic * term
        series = 2 / math.pi * ((log_half + _EULER) * _j_middle(small, 0) + total)
    else:
        digamma_k = -_EULER
        total = term * (2 * digamma_k + 1)
        for k in range(1, 30):
            term = -term * quarter / (k * (k + 1))
            digamma_k += 1.0 / k
            total += (2 * digamma_k + 1.0 / (k + 1)) * term
        series = (-2 / (math.pi * small) + 2 / math.pi * log_half * _j_middle(small, 1)
                  - 0.5 * small * total / math.pi)
    middle = _y_middle(np.where((x > 2) & (x <= 25), x, 4.0), order)
    far = _hankel_oscillating(np.where(x > 25, x, 26.0), order)[1]
    out = np.where(x <= 2, series, np.where(x <= 25, middle, far))
    out = np.where(x == 0, -np.inf, out)
    return np.where((x < 0) | np.isnan(x) | (x == np.inf), np.nan, out)


@quiet
def spherical_bessel_j0_array(x: np.ndarray) -> np.ndarray:
    """sin(x) / x, 1 at 0 and 0 at +-inf."""
    x = np.asarray(x, _F64)
    safe = np.where(x == 0, 1.0, x)
    out = np.where(x == 0, 1.0, np.sin(safe) / safe)
    return np.where(np.isinf(x), 0.0, out)


_AI_0 = 0.35502805388781723926  # Ai(0)
_AI_PRIME_0 = 0.25881940379280679840  # -Ai'(0)


def _airy_series(x: np.ndarray) -> np.ndarray:
    """Ai(x) by its Maclaurin series (for |x| <= 8: from -8 the cancellation costs digits)."""
    cube = x ** 3
    f_term, g_term = np.ones_like(x), x.copy()
    f, g = f_term.copy(), g_term.copy()
    for k in range(1, 80):
        f_term = f_term * cube / ((3 * k - 1) * (3 * k))
        g_term = g_term * cube / ((3 * k) * (3 * k + 1))
        f += f_term
        g += g_term
    return _AI_0 * f - _AI_PRIME_0 * g


@quiet
def airy_ai_array(x: np.ndarray) -> np.ndarray:
    """The Airy function Ai (NaN at +-inf, as PyTorch's)."""
    x = np.asarray(x, _F64)
    near = _airy_series(np.where(np.abs(x) <= 1, x, 0.0))
    right = np.where(x > 1, x, 2.0)
    zeta = 2.0 / 3.0 * right ** 1.5
    # Ai(x) = sqrt(x / 3) / pi * K_1/3(zeta); K_1/3 from its scaled integral (middle) or series
    scaled_k = np.where(zeta <= 20, _scaled_k_middle(np.where(zeta <= 20, zeta, 4.0), 1 / 3),
                        np.sqrt(math.pi / (2 * zeta)) * _hankel(zeta, 1 / 3, 1.0))
    positive = np.sqrt(right / 3) / math.pi * scaled_k * np.exp(-zeta)
    left = np.where(x < -1, -x, 2.0)
    moderate = _airy_series(np.where((x < -1) & (x >= -8), x, 0.0))
    oscillating = _airy_left(np.where(x < -8, left, 9.0))
    out = np.where(np.abs(x) <= 1, near,
                   np.where(x > 1, positive, np.where(x >= -8, moderate, oscillating)))
    return np.where(np.isnan(x) | np.isinf(x), np.nan, out)  # (NaN at +inf: PyTorch's)


def _airy_left(y: np.ndarray) -> np.ndarray:
    """Ai(-y) for y > 8: (pi**-0.5 y**-0.25)(sin(z + pi/4) P - cos(z + pi/4) Q), z = 2/3 y**1.5,
    with Hankel's series of J_1/3 and J_-1/3 combined (the u_k of the Airy expansion)."""
    z = 2.0 / 3.0 * y ** 1.5
    # u_k = (6k - 5)(6k - 3)(6k - 1) / ((2k - 1) 216 k) u_{k-1}
    u = 1.0
    term_sign = 1.0
    p, q = np.ones_like(z), np.zeros_like(z)
    power = np.ones_like(z)
    for k in range(1, 30):
        u *= (6 * k - 5) * (6 * k - 3) * (6 * k - 1) / ((2 * k - 1) * 216.0 * k)
        power = power / z
        if k % 2:
            q += term_sign * u * power
        else:
            term_sign = -term_sign
            p += term_sign * u * power
    phase = z + 0.25 * math.pi
    return (np.sin(phase) * p - np.cos(phase) * q) / (math.sqrt(math.pi) * y ** 0.25)


def _incomplete_series(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    """P(a, x) by x**a e**-x / Gamma(a + 1) * sum over k of x**k / ((a + 1)...(a + k))."""
    term = np.ones_like(x)
    total = term.copy()
    for k in range(1, 5000):
        term = term * x / (a + k)
        total += term
        if not (np.abs(term) > 1e-17 * np.abs(total)).any():
            break
    log_front = a * np.log(x) - x - _gamma.lgamma_array(a + 1)
    return np.exp(log_front) * total


def _incomplete_fraction(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Q(a, x) by Legendre's continued fraction, evaluated by the modified Lentz method."""
    tiny = 1e-300
    b = x + 1 - a
    c = np.full_like(x, 1 / tiny)
    d = 1 / np.where(b == 0, tiny, b)
    h = d.copy()
    for i in range(1, 5000):
        an = -i * (i - a)
        b = b + 2
        d = an * d + b
        d = np.where(np.abs(d) < tiny, tiny, d)
        c = b + an / c
        c = np.where(np.abs(c) < tiny, tiny, c)
        d = 1 / d
        change = d * c
        h = h * change
        if not (np.abs(change - 1) > 1e-16).any():
            break
    return np.exp(a * np.log(x) - x - _gamma.lgamma_array(a)) * h


@quiet
def gammainc_array(a: np.ndarray, x: np.ndarray, upper: bool) -> np.ndarray:
    """The regularized lower (P) or upper (Q = 1 - P) incomplete gamma function."""
    a, x = np.broadcast_arrays(np.asarray(a, _F64), np.asarray(x, _F64))
    valid = (a >= 0) & (x >= 0) & ~(np.isnan(a) | np.isnan(x))
    ordinary = valid & (a > 0) & (x > 0) & np.isfinite(a) & np.isfinite(x)
    by_series = ordinary & (x < a + 1)
    by_fraction = ordinary & ~by_series
    out = np.full(a.shape, np.nan)
    if by_series.any():
        p = _incomplete_series(a[by_series], x[by_series])
        out[by_series] = 1 - p if upper else p
    if by_fraction.any():
        q = _incomplete_fraction(a[by_fraction], x[by_fraction])
        out[by_fraction] = q if upper else 1 - q
    # the edges, as PyTorch's: a = 0 (with x > 0) is P = 1, x = 0 is P = 0, x = inf is P = 1
    lower_edge = np.where(x == 0, 0.0, np.where((a == 0) | (x == np.inf), 1.0, np.nan))
    lower_edge = np.where((a == np.inf) & (x < np.inf), 0.0, lower_edge)
    edge = valid & ~ordinary
    out[edge] = (1 - lower_edge[edge]) if upper else lower_edge[edge]
    both_zero = (a == 0) & (x == 0)
    out[both_zero] = np.nan
    both_inf = (a == np.inf) & (x == np.inf)
    out[both_inf] = np.nan
    return out


@quiet
def zeta_array(s: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Hurwitz's zeta(s, q) elementwise: inf at s = 1, NaN for s < 1."""
    s, q = np.broadcast_arrays(np.asarray(s, _F64), np.asarray(q, _F64))
    out = np.full(s.shape, np.nan)
    for value in np.unique(s[(s > 1) & (s <= 200)]):
        at = s == value
        out[at] = _gamma.zeta(float(value), q[at])
    # for large s the terms fall off at once: a few of them are the sum
    steep = s > 200
    if steep.any():
        total = np.zeros(int(steep.sum()))
        for k in range(60):
            total += np.power(q[steep] + k, -s[steep])
        out[steep] = total
    out = np.where(s == 1, np.inf, out)
    out = np.where(q == np.inf, np.nan, out)  # (PyTorch's, though the limit is 0)
    # q <= 0 and not an integer: q**-s is real only for integer s
    negative = (q < 0) & (q != np.floor(q)) & (s != np.floor(s))
    out = np.where(negative, np.nan, out)
    return np.where(np.isnan(q) | np.isnan(s), np.nan, out)


# ---- orthogonal polynomials: by their three-term recurrences -------------------------------


def _recurrence(x: np.ndarray, n: np.ndarray, first: Callable[[np.ndarray], np.ndarray],
                step: Callable[[np.ndarray, np.ndarray, np.ndarray, int], np.ndarray]
                ) -> np.ndarray:
    """p_n(x) for p_0 = 1, p_1 = first(x), p_{k+1} = step(x, p_k, p_{k-1}, k); 0 for n < 0."""
    x, n = np.broadcast_arrays(x, n)
    degree = np.where(np.isnan(n), -1, np.trunc(np.nan_to_num(n, posinf=-1, neginf=-1)))
    out = np.where(degree == 0, 1.0, 0.0)
    top = int(degree.max(initial=0))
    if top >= 1:
        previous, current = np.ones_like(x), first(x)
        out = np.where(degree == 1, current, out)
        for k in range(1, top):
            previous, current = current, step(x, current, previous, k)
            out = np.where(degree == k + 1, current, out)
    return out


def _chebyshev(first: Callable[[np.ndarray], np.ndarray]) -> Callable[..., np.ndarray]:
    return lambda x, n: _recurrence(x, n, first, lambda x, p, q, k: 2 * x * p - q)


_POLYNOMIALS: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "chebyshev_polynomial_t": _chebyshev(lambda x: x),
    "chebyshev_polynomial_u": _chebyshev(lambda x: 2 * x),
    "chebyshev_polynomial_v": _chebyshev(lambda x: 2 * x - 1),
    "chebyshev_polynomial_w": _chebyshev(lambda x: 2 * x + 1),
    "hermite_polynomial_h": lambda x, n: _recurrence(
        x, n, lambda x: 2 * x, lambda x, p, q, k: 2 * x * p - 2 * k * q),
    "hermite_polynomial_he": lambda x, n: _recurrence(
        x, n, lambda x: x, lambda x, p, q, k: x * p - k * q),
    "laguerre_polynomial_l": lambda x, n: _recurrence(
        x, n, lambda x: 1 - x, lambda x, p, q, k: ((2 * k + 1 - x) * p - k * q) / (k + 1)),
    "legendre_polynomial_p": lambda x, n: _recurrence(
        x, n, lambda x: x, lambda x, p, q, k: ((2 * k + 1) * x * p - k * q) / (k + 1)),
}


def _shifted(of: Callable[[np.ndarray, np.ndarray], np.ndarray]
             ) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    return lambda x, n: of(2 * x - 1, n)


for _kind in "tuvw":  # the shifted ones: of 2x - 1
    _POLYNOMIALS[f"shifted_chebyshev_polynomial_{_kind}"] = _shifted(
        _POLYNOMIALS[f"chebyshev_polynomial_{_kind}"])


# ---- the ops -------------------------------------------------------------------------------


def _of_input(x: Any, name: str) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"special_{name}(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(x).__name__}")
    return x


def _unary_values(x: Tensor, compute: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    a = ops.floating(x._data)
    return np.asarray(compute(a)).astype(a.dtype, copy=False)


class _Unary(Function):
    """``compute`` elementwise, its gradient the incoming one times ``slope(input, output)``
    (arrays in float64); recorded (``create_graph=True``), times ``recorded(input)``, the
    same slope in tensor ops."""

    @staticmethod
    def forward(ctx, a, compute, slope, recorded):
        a = ops.floating(a)
        out = np.asarray(compute(a)).astype(a.dtype, copy=False)
        ctx.save_for_backward(a, out)
        ctx.slope, ctx.recorded = slope, recorded
        return out

    @staticmethod
    @quiet
    def backward(ctx, grad):
        a, out = ctx.saved_tensors
        slope = ctx.slope(a.astype(_F64), out.astype(_F64))
        return (grad * slope).astype(grad.dtype, copy=False), None, None, None

    @staticmethod
    def recorded_backward(ctx, grad):
        return grad * ctx.recorded(ctx.inputs[0]), None, None, None


def _unary(name: str, compute: Callable[[np.ndarray], np.ndarray],
           slope: Callable[[np.ndarray, np.ndarray], np.ndarray] | None, doc: str,
           recorded: Callable[[Tensor], Tensor] | None = None) -> Callable[..., Tensor]:
    def function(input: Tensor, *, out: Tensor | None = None) -> Tensor:
        x = _of_input(input, name)
        if slope is None:  # PyTorch defines no derivative: the result is outside the graph
            result = as_leaf(_unary_values(x, compute))
        else:
            result = _Unary.apply(x, compute, slope, recorded)
        return _written_to(out, result)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = doc
    return function


def _written_to(out: Tensor | None, result: Tensor) -> Tensor:
    if out is None:
        return result
    from .grad_mode import no_grad

    if tuple(out.shape) != tuple(result.shape):
        raise RuntimeError(f"out= has shape {tuple(out.shape)}; the result's is "
                           f"{tuple(result.shape)}")
    with no_grad():
        out.copy_(result)
    return out


def _slope_i1e(a: np.ndarray, out: np.ndarray) -> np.ndarray:
    # i1e' = i0e - i1e (sign(x) + 1 / x), 1/2 at 0
    safe = np.where(a == 0, 1.0, a)
    return np.where(a == 0, 0.5, scaled_i_array(a, 0) - out * (np.sign(a) + 1 / safe))


def _recorded_i1e_slope(x: Tensor) -> Tensor:
    zero = x.detach() == 0
    safe = ops.where(zero, 1.0, x)
    return ops.where(zero, 0.5, i0e(x) - i1e(x) * (x.sign() + 1 / safe))


_Op = Callable[..., Tensor]


@quiet
def _unscaled_k(a: np.ndarray, order: int) -> np.ndarray:
    return scaled_k_array(a, order) * np.exp(-a.astype(_F64))


ndtr: _Op = _unary(
    "ndtr", ndtr_array, lambda a, out: np.exp(-0.5 * a * a) / _SQRT_2PI,
    "The standard normal distribution function, elementwise.",
    lambda x: (x * x * -0.5).exp() / _SQRT_2PI)
log_ndtr: _Op = _unary(
    "log_ndtr", log_ndtr_array, lambda a, out: np.exp(-0.5 * a * a - out) / _SQRT_2PI,
    "log(ndtr(input)), accurate far into both tails.",
    lambda x: (x * x * -0.5 - log_ndtr(x)).exp() / _SQRT_2PI)
ndtri: _Op = _unary(
    "ndtri", ndtri_array, lambda a, out: _SQRT_2PI * np.exp(0.5 * out * out),
    "The inverse of ndtr: the x with ndtr(x) = input.",
    lambda p: (ndtri(p) ** 2 * 0.5).exp() * _SQRT_2PI)
erfcx: _Op = _unary(
    "erfcx", erfcx_array, lambda a, out: 2 * a * out - 2 / math.sqrt(math.pi),
    "The scaled complementary error function exp(input**2) * erfc(input).",
    lambda x: 2 * x * erfcx(x) - 2 / math.sqrt(math.pi))
i0e: _Op = _unary(
    "i0e", lambda a: scaled_i_array(a, 0),
    lambda a, out: scaled_i_array(a, 1) - np.sign(a) * out,
    "exp(-|input|) * i0(input), elementwise.", lambda x: i1e(x) - x.sign() * i0e(x))
i1e: _Op = _unary(
    "i1e", lambda a: scaled_i_array(a, 1), _slope_i1e,
    "exp(-|input|) * i1(input), elementwise.", _recorded_i1e_slope)
modified_bessel_i0 = _unary("modified_bessel_i0", lambda a: _gamma.bessel_i(a, 0), None,
                            "The modified Bessel function of the first kind I_0.")
modified_bessel_i1 = _unary("modified_bessel_i1", lambda a: _gamma.bessel_i(a, 1), None,
                            "The modified Bessel function of the first kind I_1.")
modified_bessel_k0 = _unary("modified_bessel_k0", lambda a: _unscaled_k(a, 0), None,
                            "The modified Bessel function of the second kind K_0.")
modified_bessel_k1 = _unary("modified_bessel_k1", lambda a: _unscaled_k(a, 1), None,
                            "The modified Bessel function of the second kind K_1.")
scaled_modified_bessel_k0 = _unary("scaled_modified_bessel_k0", lambda a: scaled_k_array(a, 0),
                                   None, "exp(input) * modified_bessel_k0(input).")
scaled_modified_bessel_k1 = _unary("scaled_modified_bessel_k1", lambda a: scaled_k_array(a, 1),
                                   None, "exp(input) * modified_bessel_k1(input).")
bessel_j0 = _unary("bessel_j0", lambda a: bessel_j_array(a, 0), None,
                   "The Bessel function of the first kind J_0.")
bessel_j1 = _unary("bessel_j1", lambda a: bessel_j_array(a, 1), None,
                   "The Bessel function of the first kind J_1.")
bessel_y0 = _unary("bessel_y0", lambda a: bessel_y_array(a, 0), None,
                   "The Bessel function of the second kind Y_0.")
bessel_y1 = _unary("bessel_y1", lambda a: bessel_y_array(a, 1), None,
                   "The Bessel function of the second kind Y_1.")
spherical_bessel_j0 = _unary("spherical_bessel_j0", spherical_bessel_j0_array, None,
                             "The spherical Bessel function of the first kind j_0: sin(x) / x.")
airy_ai = _unary("airy_ai", airy_ai_array, None, "The Airy function Ai.")


@quiet
def _entr_array(a: np.ndarray) -> np.ndarray:
    safe = np.where(a > 0, a, 1.0)
    out = np.where(a > 0, -a * np.log(safe), np.where(a == 0, 0.0, -np.inf))
    return np.where(np.isnan(a), np.nan, out)


entr = _unary("entr", _entr_array, lambda a, out: -(1 + np.log(a)),
              """-input * log(input) elementwise: 0 at 0, -inf below 0::

        entr(tensor([0.0, 0.5, -1.0]))    # [0., 0.3466, -inf]
    """, lambda x: -(1 + x.log()))


def xlog1py(input: Any, other: Any, *, out: Tensor | None = None) -> Tensor:
    """``input * log1p(other)``, 0 where input is 0 (unless other is NaN)::

        xlog1py(tensor([0.0, 2.0]), tensor([-1.0, 0.0]))    # [0., 0.]
    """
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError("special_xlog1py(): expected a tensor as input or as other")
    return _written_to(out, _XLog1PY.apply(input, other))


class _XLog1PY(Function):
    """x * log1p(y), 0 where x == 0 and y is not NaN; d/dx is log1p(y) (0 where x == 0 and
    y <= -1, as PyTorch's), d/dy is x / (1 + y)."""

    @staticmethod
    @quiet
    def forward(ctx, x, y):
        x, y = ops.float_operands(x, y)
        ctx.save_for_backward(x, y)
        return _x_log1p_y(x, y)

    @staticmethod
    @quiet
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        to_x = to_y = None
        if ctx.needs_input_grad[0]:
            values = np.where((x == 0) & (y <= -1), 0.0, np.log1p(y)) * grad
            to_x = ops.sum_to(values.astype(grad.dtype, copy=False), x.shape)
        if ctx.needs_input_grad[1]:
            to_y = ops.sum_to(grad * x / (1 + y), y.shape)
        return to_x, to_y

    @staticmethod
    def recorded_backward(ctx, grad):
        from .higher_order import constant, needs_grad, shape_of, summed_to

        x, y = ctx.inputs
        x_data, y_data = ctx.saved_tensors
        nothing = constant((x_data == 0) & (y_data <= -1))
        to_x = to_y = None
        if needs_grad(ctx, 0):
            to_x = summed_to(ops.where(nothing, 0.0, grad * ops.where(nothing, 0.0, y).log1p()),
                             shape_of(x))
        if needs_grad(ctx, 1):
            to_y = summed_to(grad * x / (1 + y), shape_of(y))
        return to_x, to_y


def _x_log1p_y(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    out = x * np.log1p(y)
    return np.where((x == 0) & ~np.isnan(y), np.zeros((), out.dtype), out)


# ---- the functions of two tensors ----------------------------------------------------------


class _Binary(Function):
    """``compute(a, b)``; the slope in ``b`` from ``slope_b(a, b, out)``; a gradient for ``a``
    raises ``NotImplementedError`` as PyTorch's (its derivative is not implemented)."""

    @staticmethod
    def forward(ctx, a, b, compute, slope_b, name, recorded_b):
        a, b = ops.float_operands(a, b)
        out = np.asarray(compute(a, b)).astype(a.dtype, copy=False)
        ctx.save_for_backward(a, b, out)
        ctx.slope_b, ctx.name, ctx.recorded_b = slope_b, name, recorded_b
        return out

    @staticmethod
    @quiet
    def backward(ctx, grad):
        a, b, out = ctx.saved_tensors
        if ctx.needs_input_grad[0]:
            raise NotImplementedError(f"the derivative for '{ctx.name}' is not implemented.")
        to_b = None
        if ctx.needs_input_grad[1]:
            slope = ctx.slope_b(a.astype(_F64), b.astype(_F64), out.astype(_F64))
            to_b = ops.sum_to((grad * slope).astype(grad.dtype, copy=False), b.shape)
        return None, to_b, None, None, None, None

    @staticmethod
    def recorded_backward(ctx, grad):
        from .higher_order import needs_grad, shape_of, summed_to

        a, b = ctx.inputs[:2]
        if needs_grad(ctx, 0):
            raise NotImplementedError(f"the derivative for '{ctx.name}' is not implemented.")
        to_b = None
        if needs_grad(ctx, 1):
            to_b = summed_to(grad * ctx.recorded_b(a, b), shape_of(b))
        return None, to_b, None, None, None, None


def _binary_operands(input: Any, other: Any, name: str) -> tuple[Any, Any]:
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError(f"{name}(): expected a tensor as input or as other")
    for value in (input, other):
        data = value._data if isinstance(value, Tensor) else np.asarray(value)
        if data.dtype.kind == "c":
            raise RuntimeError(f"{name} is not implemented for complex tensors")
    return input, other


@quiet
def _lower_density(a: np.ndarray, x: np.ndarray, out: np.ndarray) -> np.ndarray:
    """d/dx P(a, x) = x**(a - 1) e**-x / Gamma(a)."""
    return np.exp((a - 1) * np.log(x) - x - _gamma.lgamma_array(a))


def _gamma_operands(input: Any, other: Any, name: str) -> tuple[Tensor, Tensor]:
    """Both tensors (PyTorch's incomplete gamma functions take no numbers), not both
    integers."""
    for value, argument, position in ((input, "input", 1), (other, "other", 2)):
        if not isinstance(value, Tensor):
            raise TypeError(f"special_{name}(): argument '{argument}' (position {position}) "
                            f"must be Tensor, not {type(value).__name__}")
    if input._data.dtype.kind in "biu" and other._data.dtype.kind in "biu":
        raise NotImplementedError(f'"igamma_cpu" not implemented for \'{input.dtype}\'')
    return input, other


def _recorded_density(a: Any, x: Tensor) -> Tensor:
    """``_lower_density`` in tensor ops (a is a constant: its derivative is not defined)."""
    from .gamma import lgamma

    a = a if isinstance(a, Tensor) else tensor_of(a)
    return ((a - 1) * x.log() - x - lgamma(a)).exp()


def gammainc(input: Any, other: Any, *, out: Tensor | None = None) -> Tensor:
    """The regularized lower incomplete gamma function P(input, other)
    (``torch.igamma``)::

        gammainc(tensor([1.0]), tensor([2.0]))    # 1 - exp(-2) = [0.8647]
    """
    a, x = _gamma_operands(input, other, "gammainc")
    return _written_to(out, _Binary.apply(a, x, lambda a, x: gammainc_array(a, x, False),
                                          _lower_density, "igamma: input",
                                          _recorded_density))


def gammaincc(input: Any, other: Any, *, out: Tensor | None = None) -> Tensor:
    """The regularized upper incomplete gamma function Q(input, other) = 1 - P
    (``torch.igammac``)."""
    a, x = _gamma_operands(input, other, "gammaincc")
    return _written_to(out, _Binary.apply(
        a, x, lambda a, x: gammainc_array(a, x, True),
        lambda a, x, out: -_lower_density(a, x, out), "igammac: input",
        lambda a, x: -_recorded_density(a, x)))


def zeta(input: Any, other: Any, *, out: Tensor | None = None) -> Tensor:
    """Hurwitz's zeta function: the sum over k >= 0 of (other + k) ** -input
    (Riemann's at other = 1)::

        zeta(tensor([2.0]), tensor([1.0]))    # pi**2 / 6 = [1.6449]
    """
    s, q = _binary_operands(input, other, "special_zeta")
    return _written_to(out, _Binary.apply(s, q, zeta_array,
                                          lambda s, q, out: -s * zeta_array(s + 1, q), "zeta",
                                          lambda s, q: -s * zeta(s + 1, q)))


igamma = gammainc
igammac = gammaincc


def _polynomial(name: str) -> Callable[..., Tensor]:
    compute = _POLYNOMIALS[name]

    @quiet
    def function(input: Any, n: Any, *, out: Tensor | None = None) -> Tensor:
        if not isinstance(input, Tensor) and not isinstance(n, Tensor):
            raise TypeError(f"special_{name}(): expected a tensor as input or as n")
        x, degree = ops.float_operands(*(v._data if isinstance(v, Tensor) else v
                                         for v in (input, n)))
        values = compute(x.astype(_F64), degree.astype(_F64)).astype(x.dtype, copy=False)
        return _written_to(out, as_leaf(np.asarray(values)))

    function.__name__ = function.__qualname__ = name
    function.__doc__ = (f"The {name.replace('_', ' ')} of degree ``n`` at ``input``, elementwise "
                        "(0 for n < 0; PyTorch gives it no gradient).")
    return function


chebyshev_polynomial_t = _polynomial("chebyshev_polynomial_t")
chebyshev_polynomial_u = _polynomial("chebyshev_polynomial_u")
chebyshev_polynomial_v = _polynomial("chebyshev_polynomial_v")
chebyshev_polynomial_w = _polynomial("chebyshev_polynomial_w")
shifted_chebyshev_polynomial_t = _polynomial("shifted_chebyshev_polynomial_t")
shifted_chebyshev_polynomial_u = _polynomial("shifted_chebyshev_polynomial_u")
shifted_chebyshev_polynomial_v = _polynomial("shifted_chebyshev_polynomial_v")
shifted_chebyshev_polynomial_w = _polynomial("shifted_chebyshev_polynomial_w")
hermite_polynomial_h = _polynomial("hermite_polynomial_h")
hermite_polynomial_he = _polynomial("hermite_polynomial_he")
laguerre_polynomial_l = _polynomial("laguerre_polynomial_l")
legendre_polynomial_p = _polynomial("legendre_polynomial_p")


def _default_float() -> Any:
    from .dtypes import get_default_dtype

    return get_default_dtype()
