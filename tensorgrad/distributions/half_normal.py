"""``HalfNormal(scale)``: |X| for X normal of mean 0."""

from __future__ import annotations

import math
from typing import Any

from ..size import Size
from ..tensor import Tensor
from .half import _FoldedAtZero
from .normal import Normal
from .transforms import AbsTransform


class HalfNormal(_FoldedAtZero):
    """The absolute value of a normal variable of mean 0 and standard deviation
    ``scale``, on [0, inf).

    >>> HalfNormal(1.0).mean  # sqrt(2 / pi)
    """

    def __init__(self, scale: Any, validate_args: bool | None = None) -> None:
        base = Normal(0, scale, validate_args=False)
        super().__init__(base, AbsTransform(), validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> HalfNormal:
        new = self._get_checked_instance(HalfNormal, _instance)
        return super().expand(Size(batch_shape), _instance=new)  # type: ignore[return-value]

    @property
    def mean(self) -> Tensor:
        return self.scale * math.sqrt(2 / math.pi)

    @property
    def variance(self) -> Tensor:
        return self.scale.pow(2) * (1 - 2 / math.pi)


__all__ = ["HalfNormal"]
