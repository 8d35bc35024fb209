"""``Chi2(df)``: sums of ``df`` squared standard normals, Gamma(df / 2, 1 / 2)."""

from __future__ import annotations

from typing import Any

from ..size import Size
from ..tensor import Tensor
from . import constraints
from .gamma import Gamma


class Chi2(Gamma):
    """The chi-squared distribution of ``df`` (positive) degrees of freedom.

    >>> Chi2(3.0).mean, Chi2(3.0).variance  # 3, 6
    """

    arg_constraints = {"df": constraints.positive}

    def __init__(self, df: Any, validate_args: bool | None = None) -> None:
        super().__init__(0.5 * df, 0.5, validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> Chi2:
        new = self._get_checked_instance(Chi2, _instance)
        return super().expand(Size(batch_shape), new)  # type: ignore[return-value]

    @property
    def df(self) -> Tensor:
        return self.concentration * 2


__all__ = ["Chi2"]
