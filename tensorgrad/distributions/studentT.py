"""``StudentT(df, loc, scale)``: the t distribution, heavy-tailed."""

from __future__ import annotations

import math
from typing import Any

from ..ops import where
from ..tensor import Tensor
from . import constraints
from .chi2 import Chi2
from .distribution import Distribution
from .utils import _standard_normal, broadcast_all


class StudentT(Distribution):
    """Student's t distribution of ``df`` degrees of freedom, shifted by ``loc`` and scaled
    by ``scale``: draws are loc + scale X / sqrt(Z / df), X standard normal, Z chi-squared.

    >>> StudentT(3.0).variance  # 3
    """

    arg_constraints = {"df": constraints.positive, "loc": constraints.real,
                       "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, df: Any, loc: Any = 0.0, scale: Any = 1.0,
                 validate_args: bool | None = None) -> None:
        self.df, self.loc, self.scale = broadcast_all(df, loc, scale)
        self._chi2 = Chi2(self.df)
        super().__init__(self.df.size(), validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> StudentT:
        return self._expand_params(StudentT, batch_shape, _instance, "df", "loc", "scale", "_chi2")

    @property
    def mean(self) -> Tensor:
        # no mean for df <= 1
        return where(self.df > 1, self.loc, math.nan)

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        # (df = 2 kept out of the division: its NaN would reach the gradient)
        df = where(self.df > 2, self.df, 3.0)
        finite = self.scale.pow(2) * df / (df - 2)
        # infinite for 1 < df <= 2, undefined for df <= 1
        infinite = finite.detach().new_full(finite.shape, math.inf)
        undefined = finite.detach().new_full(finite.shape, math.nan)
        return where(self.df > 2, finite, where(self.df > 1, infinite, undefined))

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        x = _standard_normal(self._extended_shape(sample_shape), self.df.dtype)
        z = self._chi2.rsample(sample_shape)
        return self.loc + self.scale * x * (z / self.df).rsqrt()

    def log_prob(self, value: Any) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        y = (value - self.loc) / self.scale
        normalizer = (self.scale.log() + 0.5 * self.df.log() + 0.5 * math.log(math.pi)
                      + (0.5 * self.df).lgamma() - (0.5 * (self.df + 1.0)).lgamma())
        return -0.5 * (self.df + 1.0) * (y.pow(2.0) / self.df).log1p() - normalizer

    def entropy(self) -> Tensor:
        half_df, half_next = 0.5 * self.df, 0.5 * (self.df + 1)
        log_beta = half_df.lgamma() + math.lgamma(0.5) - half_next.lgamma()
        return (self.scale.log() + half_next * (half_next.digamma() - half_df.digamma())
                + 0.5 * self.df.log() + log_beta)


__all__ = ["StudentT"]
