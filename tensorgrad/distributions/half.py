"""The base of ``HalfNormal`` and ``HalfCauchy``: |X| for X symmetric about 0."""

from __future__ import annotations

import math
from typing import Any

from ..ops import where
from ..tensor import Tensor
from . import constraints
from .transformed_distribution import TransformedDistribution


class _FoldedAtZero(TransformedDistribution):
    """|X| for X (``base_dist``, of a ``scale``) symmetric about 0: the density doubled on
    [0, inf), the cdf ``2 F(x) - 1``, the entropy less log 2."""

    arg_constraints = {"scale": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    @property
    def scale(self) -> Tensor:
        return self.base_dist.scale  # type: ignore[attr-defined]

    @property
    def mode(self) -> Tensor:
        return self.scale.new_zeros(self.scale.shape)

    def _log_prob_value(self, value: Any) -> Any:
        """``value`` as ``log_prob`` reads it (a subclass converts it where PyTorch does)."""
        return value

    def log_prob(self, value: Any) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        value = self._log_prob_value(value)
        log_prob = self.base_dist.log_prob(value) + math.log(2)
        return where(value >= 0, log_prob, -math.inf)

    def cdf(self, value: Any) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return 2 * self.base_dist.cdf(value) - 1

    def icdf(self, prob: Any) -> Tensor:
        return self.base_dist.icdf((prob + 1) / 2)

    def entropy(self) -> Tensor:
        return self.base_dist.entropy() - math.log(2)
