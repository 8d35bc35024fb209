"""torch.nn's padding layers: each calls ``F.pad`` with its mode and widths, with PyTorch's
arguments and reprs. ``padding`` is an int (the same width on every side) or the widths
(left, right) for the 1-d layers, (left, right, top, bottom) for the 2-d ones, (left, right,
top, bottom, front, back) for the 3-d ones.
"""

from __future__ import annotations

from collections.abc import Sequence

from .. import functional as F
from ..tensor import Tensor
from .module import Module


class _PadNd(Module):
    """What the padding layers share: ``n`` padded dimensions, F.pad's ``mode``."""

    n = 1
    mode = "constant"

    def __init__(self, padding: int | Sequence[int]) -> None:
        super().__init__()
        self.padding: tuple[int, ...] = (padding,) * 2 * self.n if isinstance(padding, int) \
            else tuple(padding)

    def forward(self, input: Tensor) -> Tensor:
        return F.pad(input, self.padding, self.mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding: int | Sequence[int], value: float) -> None:
        super().__init__(padding)
        self.value = value

    def forward(self, input: Tensor) -> Tensor:
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """A border of ``value`` along the last dimension::

        nn.ConstantPad1d(2, 3.5)  # (N, C, L) -> (N, C, L + 4)
    """


class ConstantPad2d(_ConstantPadNd):
    """A border of ``value`` along the last two dimensions::

        nn.ConstantPad2d((1, 1, 2, 0), 0.5)  # (N, C, H, W) -> (N, C, H + 2, W + 2)
    """

    n = 2


class ConstantPad3d(_ConstantPadNd):
    """A border of ``value`` around the last three dimensions::

        nn.ConstantPad3d(1, 0.5)  # (N, C, D, H, W) -> (N, C, D + 2, H + 2, W + 2)
    """

    n = 3


class ZeroPad1d(_ConstantPadNd):
    """A border of zeros along the last dimension::

        nn.ZeroPad1d((0, 3))  # (N, C, L) -> (N, C, L + 3)
    """

    def __init__(self, padding: int | Sequence[int]) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad2d(ZeroPad1d):
    """A border of zeros along the last two dimensions::

        nn.ZeroPad2d(1)  # (N, C, H, W) -> (N, C, H + 2, W + 2)
    """

    n = 2


class ZeroPad3d(ZeroPad1d):
    """A border of zeros around the last three dimensions::

        nn.ZeroPad3d((1, 1, 0, 0, 2, 0))  # (N, C, D, H, W) -> (N, C, D + 2, H, W + 2)
    """

    n = 3


class ReflectionPad1d(_PadNd):
    """The last dimension of (N, C, L) (or (C, L)) mirrored about its edges (each width
    less than L)::

        nn.ReflectionPad1d(2)  # [1, 2, 3] -> [3, 2, 1, 2, 3, 2, 1]
    """

    mode = "reflect"


class ReflectionPad2d(ReflectionPad1d):
    """The last two dimensions of (N, C, H, W) (or (C, H, W)) mirrored about their edges::

        nn.ReflectionPad2d(1)  # (N, C, H, W) -> (N, C, H + 2, W + 2)
    """

    n = 2


class ReflectionPad3d(ReflectionPad1d):
    """The last three dimensions of (N, C, D, H, W) (or (C, D, H, W)) mirrored about their
    edges::

        nn.ReflectionPad3d(1)  # (N, C, D, H, W) -> (N, C, D + 2, H + 2, W + 2)
    """

    n = 3


class ReplicationPad1d(_PadNd):
    """The edges of the last dimension of (N, C, L) (or (C, L)) repeated::

        nn.ReplicationPad1d(2)  # [1, 2, 3] -> [1, 1, 1, 2, 3, 3, 3]
    """

    mode = "replicate"


class ReplicationPad2d(ReplicationPad1d):
    """The edges of the last two dimensions of (N, C, H, W) (or (C, H, W)) repeated::

        nn.ReplicationPad2d((1, 1, 0, 2))  # (N, C, H, W) -> (N, C, H + 2, W + 2)
    """

    n = 2


class ReplicationPad3d(ReplicationPad1d):
    """The edges of the last three dimensions of (N, C, D, H, W) (or (C, D, H, W))
    repeated::

        nn.ReplicationPad3d(1)  # (N, C, D, H, W) -> (N, C, D + 2, H + 2, W + 2)
    """

    n = 3


class CircularPad1d(_PadNd):
    """The last dimension of (N, C, L) (or (C, L)) wrapped around (each width at most L)::

        nn.CircularPad1d(2)  # [1, 2, 3] -> [2, 3, 1, 2, 3, 1, 2]
    """

    mode = "circular"

    def forward(self, input: Tensor) -> Tensor:
        ndim = input._data.ndim
        if ndim not in (self.n + 1, self.n + 2):
            raise ValueError(f"expected {self.n + 1}D or {self.n + 2}D input (got {ndim}D "
                             "input)")
        return super().forward(input)


class CircularPad2d(CircularPad1d):
    """The last two dimensions of (N, C, H, W) (or (C, H, W)) wrapped around::

        nn.CircularPad2d(1)  # (N, C, H, W) -> (N, C, H + 2, W + 2)
    """

    n = 2


class CircularPad3d(CircularPad1d):
    """The last three dimensions of (N, C, D, H, W) (or (C, D, H, W)) wrapped around::

        nn.CircularPad3d(1)  # (N, C, D, H, W) -> (N, C, D + 2, H + 2, W + 2)
    """

    n = 3
