"""``Normal(loc, scale)``, the Gaussian: reparameterized samples, log-density, entropy, the
cumulative distribution function and its inverse."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..special import erf as _erf_array
from ..special import erfc as _erfc_array
from ..tensor import Context, Function, Tensor, quiet
from ..torch_functions import erf
from .loc_scale import _LocScale
from .utils import _standard_normal

_LOG_SQRT_2PI = math.log(math.sqrt(2 * math.pi))


class Normal(_LocScale):
    """The normal distribution of mean ``loc`` and standard deviation ``scale`` (tensors or
    numbers, broadcast together).

    >>> tensorgrad.manual_seed(0)
    >>> loc = tensorgrad.zeros(2, requires_grad=True)
    >>> d = Normal(loc, 2.0)
    >>> d.rsample((4,)).sum().backward()  # loc.grad: Tensor([4., 4.])
    >>> d.log_prob(tensorgrad.zeros(2))  # -log(2 sqrt(2 pi)) each
    """

    def expand(self, batch_shape: Any, _instance: Any = None) -> Normal:
        return self._expand_params(Normal, batch_shape, _instance, "loc", "scale")

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def stddev(self) -> Tensor:
        return self.scale

    @property
    def variance(self) -> Tensor:
        return self.scale.pow(2)

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        """Draw ``loc + eps * scale`` with eps from N(0, 1): differentiable in both
        parameters."""
        eps = _standard_normal(self._extended_shape(sample_shape), self.loc.dtype)
        return self.loc + eps * self.scale

    def log_prob(self, value: Any) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        variance = self.scale**2
        return -((value - self.loc) ** 2) / (2 * variance) - self.scale.log() - _LOG_SQRT_2PI

    def cdf(self, value: Any) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return 0.5 * (1 + erf((value - self.loc) * self.scale.reciprocal() / math.sqrt(2)))

    def icdf(self, value: Any) -> Tensor:
        """Return the value below which the probability is ``value`` (in [0, 1]; 0 and 1 give
        -inf and inf)."""
        return self.loc + self.scale * erfinv(2 * value - 1) * math.sqrt(2)

    def entropy(self) -> Tensor:
        return 0.5 + 0.5 * math.log(2 * math.pi) + self.scale.log()


def _erfinv_array(y: np.ndarray) -> np.ndarray:
    """The inverse error function of ``y`` (float64), to float64 accuracy: a rough start
    (Winitzki's closed form, 2e-3 off), then three Halley steps, each cubing the error.

    Where |y| > 1/2 the steps solve erfc(x) = 1 - |y| (exact in floating point there) rather
    than erf(x) = |y|: erf is flat near 1, and erfc keeps the relative accuracy of the tail."""
    y = np.asarray(y, dtype=np.float64)
    a = np.abs(y)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        log_term = np.log((1 - a) * (1 + a))  # log(1 - y**2), -inf at |y| = 1
        k = 0.147
        first = 2 / (math.pi * k) + log_term / 2
        x = np.sqrt(np.sqrt(first * first - log_term / k) - first)
        x = np.where(np.isfinite(x), x, 0.0)
        tail = a > 0.5
        for _ in range(3):
            # f = erf(x) - |y|, written as (1 - |y|) - erfc(x) in the tail
            f = np.where(tail, (1 - a) - _erfc_array(x), _erf_array(x) - a)
            slope = 2 / math.sqrt(math.pi) * np.exp(-x * x)
            x = x - f / (slope + x * f)  # Halley: erf'' = -2x erf'
        x = np.where(a == 1, np.inf, x)
        x = np.where((a > 1) | np.isnan(a), np.nan, x)
    return np.copysign(x, y)


class _Erfinv(Function):
    """erfinv as an engine op, with its derivative sqrt(pi)/2 * exp(erfinv(y)**2): the engine
    has no erfinv, and ``icdf`` must pass gradients back to the probabilities."""

    @staticmethod
    @quiet
    def forward(ctx: Context, y: np.ndarray) -> np.ndarray:
        x = _erfinv_array(y).astype(y.dtype)
        ctx.save_for_backward(x)
        return x

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        (x,) = ctx.saved_tensors
        return grad * (math.sqrt(math.pi) / 2) * np.exp(x * x)


def erfinv(y: Any) -> Tensor:
    """Return the inverse error function of ``y`` (in [-1, 1]), differentiable.

    >>> erfinv(tensorgrad.tensor([0.0, 0.5]))  # Tensor([0., 0.47693628])
    """
    if not isinstance(y, Tensor):
        y = Tensor(np.asarray(y, dtype=np.float64))
    return _Erfinv.apply(y)


__all__ = ["Normal"]
