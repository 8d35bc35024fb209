"""``HalfCauchy(scale)``: |X| for X Cauchy of median 0."""

from __future__ import annotations

import math
from typing import Any

from ..creation import as_tensor, full
from ..size import Size
from ..tensor import Tensor
from .cauchy import Cauchy
from .half import _FoldedAtZero
from .transforms import AbsTransform


class HalfCauchy(_FoldedAtZero):
    """The absolute value of a Cauchy variable of median 0 and half-width ``scale``, on
    [0, inf); its mean is infinite.

    >>> HalfCauchy(1.0).cdf(tensorgrad.tensor(1.0))  # 0.5
    """

    def __init__(self, scale: Any, validate_args: bool | None = None) -> None:
        base = Cauchy(0, scale, validate_args=False)
        super().__init__(base, AbsTransform(), validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> HalfCauchy:
        new = self._get_checked_instance(HalfCauchy, _instance)
        return super().expand(Size(batch_shape), _instance=new)  # type: ignore[return-value]

    @property
    def mean(self) -> Tensor:
        return full(tuple(self._extended_shape()), math.inf, dtype=self.scale.dtype)

    @property
    def variance(self) -> Tensor:
        return self.base_dist.variance

    def _log_prob_value(self, value: Any) -> Tensor:
        # a tensor of the scale's dtype, as PyTorch's HalfCauchy (HalfNormal does not)
        return (value.to(self.scale.dtype) if isinstance(value, Tensor)
                else as_tensor(value, dtype=self.scale.dtype))


__all__ = ["HalfCauchy"]
