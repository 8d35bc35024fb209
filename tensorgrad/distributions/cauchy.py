"""``Cauchy(loc, scale)``: the Lorentz distribution, without a mean."""

from __future__ import annotations

import math
from typing import Any

from ..creation import full
from ..random import rng
from ..tensor import Tensor
from .loc_scale import _LocScale


class Cauchy(_LocScale):
    """The Cauchy distribution of median ``loc`` and half-width ``scale``; its mean is NaN
    and its variance infinite, as PyTorch's.

    >>> Cauchy(0.0, 1.0).cdf(tensorgrad.tensor(1.0))  # 0.75
    """

    def expand(self, batch_shape: Any, _instance: Any = None) -> Cauchy:
        return self._expand_params(Cauchy, batch_shape, _instance, "loc", "scale")

    @property
    def mean(self) -> Tensor:
        return full(tuple(self._extended_shape()), math.nan, dtype=self.loc.dtype)

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        return full(tuple(self._extended_shape()), math.inf, dtype=self.loc.dtype)

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        """Draw loc + eps scale, eps a standard Cauchy draw."""
        shape = tuple(self._extended_shape(sample_shape))
        eps = Tensor(rng().standard_cauchy(shape).astype(self.loc.detach().numpy().dtype))
        return self.loc + eps * self.scale

    def log_prob(self, value: Any) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return (-math.log(math.pi) - self.scale.log()
                - ((value - self.loc) / self.scale).pow(2).log1p())

    def cdf(self, value: Any) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return ((value - self.loc) / self.scale).atan() / math.pi + 0.5

    def icdf(self, value: Any) -> Tensor:
        return (math.pi * (value - 0.5)).tan() * self.scale + self.loc

    def entropy(self) -> Tensor:
        return math.log(4 * math.pi) + self.scale.log()


__all__ = ["Cauchy"]
