"""``Laplace(loc, scale)``: the double exponential."""

from __future__ import annotations

import math
from typing import Any

from ..creation import empty
from ..dtypes import finfo
from ..tensor import Tensor
from .loc_scale import _LocScale


class Laplace(_LocScale):
    """The Laplace distribution of center ``loc`` and positive ``scale``: density
    exp(-|x - loc| / scale) / (2 scale).

    >>> Laplace(0.0, 1.0).variance  # 2
    """

    def expand(self, batch_shape: Any, _instance: Any = None) -> Laplace:
        return self._expand_params(Laplace, batch_shape, _instance, "loc", "scale")

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        return 2 * self.scale.pow(2)

    @property
    def stddev(self) -> Tensor:
        return math.sqrt(2) * self.scale

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        """Draw loc - scale sign(u) log(1 - |u|), u uniform on (-1, 1) (off -1 by eps:
        the log stays finite)."""
        shape = tuple(self._extended_shape(sample_shape))
        u = empty(shape, dtype=self.loc.dtype).uniform_(finfo(self.loc.dtype).eps - 1, 1)
        return self.loc - self.scale * u.sign() * (-u.abs()).log1p()

    def log_prob(self, value: Any) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return -(2 * self.scale).log() - (value - self.loc).abs() / self.scale

    def cdf(self, value: Any) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        distance = value - self.loc
        return 0.5 - 0.5 * distance.sign() * (-distance.abs() / self.scale).expm1()

    def icdf(self, value: Any) -> Tensor:
        term = value - 0.5
        return self.loc - self.scale * term.sign() * (-2 * term.abs()).log1p()

    def entropy(self) -> Tensor:
        return 1 + (2 * self.scale).log()


__all__ = ["Laplace"]
