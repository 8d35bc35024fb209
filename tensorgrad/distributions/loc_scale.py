"""The base of ``Normal``, ``Laplace`` and ``Cauchy``: a real variable of a location and a
positive scale, the two broadcast together."""

from __future__ import annotations

from typing import Any

from ..size import Size
from . import constraints
from .distribution import Distribution
from .utils import _is_number, broadcast_all


class _LocScale(Distribution):
    """``loc`` and ``scale`` broadcast together (tensors or numbers); the batch shape is
    theirs (numbers alone make one distribution). A subclass writes the rest, ``expand``
    too (naming its own class, as ``_get_checked_instance`` wants)."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc: Any, scale: Any, validate_args: bool | None = None) -> None:
        self.loc, self.scale = broadcast_all(loc, scale)
        batch_shape = Size() if _is_number(loc) and _is_number(scale) else self.loc.size()
        super().__init__(batch_shape, validate_args=validate_args)
