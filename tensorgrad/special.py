"""The error function on NumPy arrays, to float64 accuracy: NumPy has none, and GELU needs it.

``erf`` and ``erfc`` follow W. J. Cody's rational Chebyshev approximations ("Rational
Chebyshev approximations for the error function", Mathematics of Computation 23, 1969), in
three ranges of |x|: a rational function of x**2 near 0, and exp(-x**2) times a rational
function of |x| (up to 4) or of 1/x**2 (beyond) for erfc. Their relative error is below
6e-19 in exact arithmetic: what is left is float64's rounding. The coefficients are Cody's.

Written here rather than taken from SciPy (``scipy.special.erf``): SciPy is a large
dependency for one function, and Python's ``math.erf`` works on one number at a time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .threads import each_block

_SMALL = 0.46875  # |x| up to which erf is computed directly
_ONE_OVER_SQRT_PI = 0.56418958354775628695

# erf(x) = x * P(x**2) / Q(x**2) for |x| <= 0.46875
_A = (3.16112374387056560e00, 1.13864154151050156e02, 3.77485237685302021e02,
      3.20937758913846947e03, 1.85777706184603153e-1)
_B = (2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03,
      2.84423683343917062e03)
# erfc(x) = exp(-x**2) * P(x) / Q(x) for 0.46875 < x <= 4
_C = (5.64188496988670089e-1, 8.88314979438837594e00, 6.61191906371416295e01,
      2.98635138197400131e02, 8.81952221241769090e02, 1.71204761263407058e03,
      2.05107837782607147e03, 1.23033935479799725e03, 2.15311535474403846e-8)
_D = (1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02,
      1.62138957456669019e03, 3.29079923573345963e03, 4.36261909014324716e03,
      3.43936767414372164e03, 1.23033935480374942e03)
# erfc(x) = exp(-x**2) / x * (1/sqrt(pi) + 1/x**2 * P(1/x**2) / Q(1/x**2)) for x > 4
_P = (3.05326634961232344e-1, 3.60344899949804439e-1, 1.25781726111229246e-1,
      1.60837851487422766e-2, 6.58749161529837803e-4, 1.63153871373020978e-2)
_Q = (2.56852019228982242e00, 1.87295284992346725e00, 5.27905102951428412e-1,
      6.05183413124413191e-2, 2.33520497626869185e-3)

_LARGE = 28.0  # erfc(x) underflows to 0 before this (at about 27.3): larger x is clipped to it


def _near_zero(x: np.ndarray) -> np.ndarray:
    """erf(x) for |x| <= 0.46875."""
    square = x * x
    numerator, denominator = square * _A[4], square.copy()
    for a, b in zip(_A[:3], _B[:3]):
        numerator += a
        numerator *= square
        denominator += b
        denominator *= square
    numerator += _A[3]
    numerator *= x
    denominator += _B[3]
    numerator /= denominator
    return numerator


def _exp_minus_square(y: np.ndarray) -> np.ndarray:
    """exp(-y**2), with y**2 split into a part exact in float64 and a small rest, so that
    rounding y**2 does not cost erfc its relative accuracy for large y."""
    whole = np.trunc(y * 16)
    whole /= 16
    rest = y - whole
    rest *= y + whole
    np.negative(rest, out=rest)
    np.exp(rest, out=rest)
    np.multiply(whole, whole, out=whole)
    np.negative(whole, out=whole)
    np.exp(whole, out=whole)
    whole *= rest
    return whole


def _middle(y: np.ndarray) -> np.ndarray:
    """erfc(y) / exp(-y**2) for 0.46875 < y <= 4."""
    numerator, denominator = y * _C[8], y.copy()
    for c, d in zip(_C[:7], _D[:7]):
        numerator += c
        numerator *= y
        denominator += d
        denominator *= y
    numerator += _C[7]
    denominator += _D[7]
    numerator /= denominator
    return numerator


def _tail(y: np.ndarray) -> np.ndarray:
    """erfc(y) / exp(-y**2) for y > 4 (and NaN)."""
    inverse_square = 1 / (y * y)
    numerator, denominator = inverse_square * _P[5], inverse_square.copy()
    for p, q in zip(_P[:4], _Q[:4]):
        numerator += p
        numerator *= inverse_square
        denominator += q
        denominator *= inverse_square
    numerator += _P[4]
    numerator *= inverse_square
    denominator += _Q[4]
    numerator /= denominator
    np.subtract(_ONE_OVER_SQRT_PI, numerator, out=numerator)
    numerator /= y
    return numerator


def _erfc_positive(y: np.ndarray) -> np.ndarray:
    """erfc(y) for y > 0.46875 (NaN stays NaN)."""
    y = np.minimum(y, _LARGE)
    middle = y <= 4
    if middle.all():
        out = _middle(y)
    else:  # (NaN goes to the tail, which keeps it)
        out = np.empty_like(y)
        inside, outside = np.flatnonzero(middle), np.flatnonzero(~middle)
        out[inside] = _middle(y[inside])
        out[outside] = _tail(y[outside])
    out *= _exp_minus_square(y)
    return out


def _erf_block(x: np.ndarray) -> np.ndarray:
    y = np.abs(x)
    small = y <= _SMALL
    if small.all():
        return _near_zero(x)
    near, far = np.flatnonzero(small), np.flatnonzero(~small)
    out = np.empty_like(x)
    out[near] = _near_zero(x[near])
    out[far] = np.copysign(1 - _erfc_positive(y[far]), x[far])
    return out


def _erfc_block(x: np.ndarray) -> np.ndarray:
    y = np.abs(x)
    small = y <= _SMALL
    if small.all():
        return 1 - _near_zero(x)
    near, far = np.flatnonzero(small), np.flatnonzero(~small)
    out = np.empty_like(x)
    out[near] = 1 - _near_zero(x[near])
    positive = _erfc_positive(y[far])
    out[far] = np.where(x[far] < 0, 2 - positive, positive)
    return out


def _blockwise(block: Callable[[np.ndarray], np.ndarray], x: np.ndarray) -> np.ndarray:
    """``block`` over float64 ``x``, in the dtype of ``x`` (float64 for integers).

    speed: a block of entries at a time, each block's passes in cache, each entry through its
    own range's formula only, the blocks shared between threads (``each_block``;
    benchmarks/SPEED.md, "Round five"); the arithmetic is the same however it is cut.
    """
    x = np.asarray(x)
    dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float64)
    flat = np.ravel(x.astype(np.float64, copy=False))  # (read only: no copy needed)
    out = np.empty_like(flat)

    def one(part: slice) -> None:
        out[part] = block(flat[part])

    each_block(one, flat.size)
    return out.reshape(x.shape).astype(dtype, copy=False)


def erf(x: np.ndarray) -> np.ndarray:
    """The error function, 2/sqrt(pi) * integral of exp(-t**2) from 0 to x, elementwise (of
    a tensor too, as ``torch.special.erf``: then an op of the graph)."""
    if not isinstance(x, np.ndarray) and _is_tensor(x):
        return x.erf()
    return _blockwise(_erf_block, x)


def erfc(x: np.ndarray) -> np.ndarray:
    """1 - erf(x), accurate where erf(x) is close to 1 (large x)."""
    if not isinstance(x, np.ndarray) and _is_tensor(x):
        return x.erfc()
    return _blockwise(_erfc_block, x)


def _is_tensor(x: Any) -> bool:
    from .tensor import Tensor

    return isinstance(x, Tensor)


# PyTorch's torch.special functions of tensors, in gamma.py (imported when first used): the
# functions above work on NumPy arrays, for the ops
_OF_TENSORS = {"digamma": "digamma", "psi": "digamma", "gammaln": "lgamma",
               "polygamma": "polygamma", "erfinv": "erfinv", "i0": "i0", "i1": "i1",
               "multigammaln": "mvlgamma"}


# and the ones that are tensorgrad's functions under another name or the same
_ELSEWHERE = {"expit": "sigmoid", "exp2": "exp2", "expm1": "expm1", "log1p": "log1p",
              "logit": "logit", "xlogy": "xlogy", "sinc": "sinc", "round": "round",
              "softmax": "softmax", "log_softmax": "log_softmax", "logsumexp": "logsumexp"}


# and the rest, in special_more.py (imported when first used)
_MORE = ("xlog1py", "entr", "erfcx", "ndtr", "ndtri", "log_ndtr", "i0e", "i1e",
         "modified_bessel_i0", "modified_bessel_i1", "modified_bessel_k0", "modified_bessel_k1",
         "scaled_modified_bessel_k0", "scaled_modified_bessel_k1", "bessel_j0", "bessel_j1",
         "bessel_y0", "bessel_y1", "spherical_bessel_j0", "airy_ai", "gammainc", "gammaincc",
         "zeta", "chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v",
         "chebyshev_polynomial_w", "shifted_chebyshev_polynomial_t",
         "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
         "shifted_chebyshev_polynomial_w", "hermite_polynomial_h", "hermite_polynomial_he",
         "laguerre_polynomial_l", "legendre_polynomial_p")


def __getattr__(name: str) -> Any:
    if name in _MORE:
        from . import special_more

        return getattr(special_more, name)
    if name in _OF_TENSORS:
        from . import gamma

        return getattr(gamma, _OF_TENSORS[name])
    if name in _ELSEWHERE:
        import tensorgrad

        return getattr(tensorgrad, _ELSEWHERE[name])
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
