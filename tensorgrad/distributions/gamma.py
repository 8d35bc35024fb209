"""``Gamma(concentration, rate)``, with samples reparameterized implicitly: the gradient of
a draw x with respect to the concentration is -(dF/dalpha) / f at x (F the cumulative
distribution function, f the density), as PyTorch's."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..dtypes import finfo
from ..gamma import digamma_array, lgamma_array
from ..random import rng
from ..size import Size
from ..special_more import gammainc_array
from ..tensor import Context, Function, Tensor, quiet
from . import constraints
from .distribution import Distribution
from .utils import _is_number, broadcast_all


def _standard_gamma_grad_array(x: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """d x / d alpha for a standard gamma draw x of shape ``alpha``, holding F(x; alpha)
    fixed (float64).

    F's series, P(alpha, x) = sum_n x^(alpha+n) e^-x / Gamma(alpha+n+1), gives, divided by
    the density x^(alpha-1) e^-x / Gamma(alpha),
    dF/dalpha / f = sum_n r_n (log x - digamma(alpha+n+1)), r_n = x^(n+1) / (alpha
    (alpha+1) ... (alpha+n)): every term a ratio, summed until the terms vanish (about
    x + 10 sqrt(x) of them)."""
    x = np.asarray(x, np.float64)
    alpha = np.asarray(alpha, np.float64)
    if x.size == 0:
        return np.zeros(x.shape)
    with np.errstate(all="ignore"):
        log_x = np.log(x)
        r = x / alpha
        psi = digamma_array(alpha) + 1 / alpha
        total = r * (log_x - psi)
        weight = r.copy()
        n = 1
        while True:
            r = r * x / (alpha + n)
            psi = psi + 1 / (alpha + n)
            total = total + r * (log_x - psi)
            weight = weight + r
            n += 1
            # past the peak of the terms (alpha + n > x), stop when they no longer count
            done = ((alpha + n > x) & (r <= 1e-17 * weight)) | ~np.isfinite(r)
            if done.all() or n > 100_000:
                break
    return -total


def _gammainc_grad_a_array(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    """dP(a, x)/da (float64), by P's series differentiated term by term, each term
    t_n = x^(a+n) e^-x / Gamma(a+n+1) kept as its logarithm (no overflow far in the tail):
    sum_n t_n (log x - digamma(a+n+1)). Where P is 1 to double precision (x beyond
    a + 40 sqrt(a) + 60) the slope is 0 to it."""
    a, x = np.broadcast_arrays(np.asarray(a, np.float64), np.asarray(x, np.float64))
    out = np.zeros(a.shape)
    live = (x > 0) & np.isfinite(x) & (x < a + 40 * np.sqrt(a) + 60) & (a > 0)
    if not live.any():
        return np.where(np.isnan(a) | np.isnan(x), np.nan, out)
    aa, xx = a[live], x[live]
    with np.errstate(all="ignore"):
        log_x = np.log(xx)
        log_t = aa * log_x - xx - lgamma_array(aa + 1)
        psi = digamma_array(aa + 1)
        total = np.exp(log_t) * (log_x - psi)
        mass = np.exp(log_t)
        n = 1
        while True:
            log_t = log_t + log_x - np.log(aa + n)
            psi = psi + 1 / (aa + n)
            term = np.exp(log_t)
            total = total + term * (log_x - psi)
            mass = mass + term
            n += 1
            if np.all((aa + n > xx) & (term <= 1e-17 * mass)) or n > 200_000:
                break
    out[live] = total
    return np.where(np.isnan(a) | np.isnan(x), np.nan, out)


class _Gammainc(Function):
    """P(a, x) as an op: dP/dx is the gamma density at x; dP/da = -density * dx/da, the
    implicit slope of the draws (PyTorch has no gradient to a: tensorgrad's is exact)."""

    @staticmethod
    @quiet
    def forward(ctx: Context, a: np.ndarray, x: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(a, x)
        return gammainc_array(a, x, False).astype(np.result_type(a, x))

    @staticmethod
    @quiet
    def backward(ctx: Context, grad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        a, x = (np.asarray(v, np.float64) for v in ctx.saved_tensors)
        density = np.exp((a - 1) * np.log(x) - x - lgamma_array(a))
        density = np.where(x > 0, density, np.where(a == 1, 1.0, np.where(a < 1, np.inf, 0)))
        grad_a = _gammainc_grad_a_array(a, x)
        kind = grad.dtype
        return (grad * grad_a).astype(kind), (grad * density).astype(kind)

    @staticmethod
    def recorded_backward(ctx: Context, grad: Tensor) -> tuple[Any, Any]:
        a, x = ctx.inputs
        if a.requires_grad:
            raise NotImplementedError("the gradient of the gradient of the regularized "
                                      "incomplete gamma function to its first argument")
        density = ((a - 1) * x.log() - x - a.lgamma()).exp()
        return None, grad * density


def _gammainc(a: Tensor, x: Tensor) -> Tensor:
    """P(a, x), differentiable in both (``torch.special.gammainc``'s values)."""
    from ..torch_functions import broadcast_tensors

    a, x = broadcast_tensors(a, x)
    return _Gammainc.apply(a, x)


def _standard_gamma(concentration: Tensor) -> Tensor:
    """Draws from Gamma(concentration, 1), of its shape and dtype (kept off 0: at least
    the dtype's smallest normal number), whose gradient to the concentration is the
    implicit one: written ``x + (alpha - alpha.detach()) * dx/dalpha``, the value x and the
    slope outside the graph."""
    given = concentration.detach().numpy()
    alpha = given.astype(np.float64)
    draws = rng().standard_gamma(alpha) if alpha.size else np.zeros(alpha.shape)
    draws = np.maximum(np.asarray(draws).astype(given.dtype), finfo(concentration.dtype).tiny)
    x = Tensor(draws)
    if not concentration.requires_grad:
        return x
    slope = Tensor(_standard_gamma_grad_array(draws, alpha).astype(given.dtype))
    return x + (concentration - concentration.detach()) * slope


class Gamma(Distribution):
    """The gamma distribution of shape ``concentration`` and inverse scale ``rate`` (both
    positive), on [0, inf).

    >>> d = Gamma(tensorgrad.tensor([2.0]), 3.0)
    >>> d.mean, d.variance  # 2/3, 2/9
    """

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, concentration: Any, rate: Any, validate_args: bool | None = None) -> None:
        self.concentration, self.rate = broadcast_all(concentration, rate)
        scalar = _is_number(concentration) and _is_number(rate)
        super().__init__(Size() if scalar else self.concentration.size(),
                         validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> Gamma:
        return self._expand_params(Gamma, batch_shape, _instance, "concentration", "rate")

    @property
    def mean(self) -> Tensor:
        return self.concentration / self.rate

    @property
    def mode(self) -> Tensor:
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self) -> Tensor:
        return self.concentration / self.rate.pow(2)

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        """Draw x / rate, x from Gamma(concentration, 1) with its implicit gradient."""
        shape = self._extended_shape(sample_shape)
        value = _standard_gamma(self.concentration.expand(shape)) / self.rate.expand(shape)
        return value.clamp(min=finfo(value.dtype).tiny)

    def log_prob(self, value: Any) -> Tensor:
        from ..creation import as_tensor

        # in the parameters' dtype, whatever the value's (PyTorch's)
        value = (value.to(self.rate.dtype) if isinstance(value, Tensor)
                 else as_tensor(value, dtype=self.rate.dtype))
        if self._validate_args:
            self._validate_sample(value)
        return (self.concentration.xlogy(self.rate) + (self.concentration - 1).xlogy(value)
                - self.rate * value - self.concentration.lgamma())

    def cdf(self, value: Any) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return _gammainc(self.concentration, self.rate * value)

    def entropy(self) -> Tensor:
        c = self.concentration
        return c - self.rate.log() + c.lgamma() + (1.0 - c) * c.digamma()


__all__ = ["Gamma"]
