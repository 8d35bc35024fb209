"""PyTorch's memory formats and layouts: how a tensor's entries lie in memory.

Every tensor here is strided (``tg.strided``, a NumPy array's strides). Of the memory formats,
``contiguous_format`` is C order, and ``channels_last`` (4-d) and ``channels_last_3d`` (5-d)
put the channels dimension last in memory while the shape stays (N, C, H, W) or
(N, C, D, H, W), as PyTorch lays them out::

    x = tg.zeros(2, 3, 4, 5).to(memory_format=tg.channels_last)
    x.stride()    # (60, 1, 15, 3)
"""

from __future__ import annotations

from typing import Any

import numpy as np


class memory_format:  # noqa: N801 (PyTorch's name)
    """One of PyTorch's memory formats (``tg.contiguous_format``, ``tg.channels_last``,
    ``tg.channels_last_3d``, ``tg.preserve_format``)."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"torch.{self.name}"

    def __reduce__(self) -> str:
        return self.name  # (the module's constant of that name: one object each)


class layout:  # noqa: N801 (PyTorch's name)
    """How a tensor is stored: ``tg.strided`` only (no sparse tensors here)."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"torch.{self.name}"

    def __reduce__(self) -> str:
        return self.name


contiguous_format = memory_format("contiguous_format")
channels_last = memory_format("channels_last")
channels_last_3d = memory_format("channels_last_3d")
preserve_format = memory_format("preserve_format")
strided = layout("strided")

# the dimension order in memory of each channels-last format, and the rank it takes
_ORDER = {channels_last: (0, 2, 3, 1), channels_last_3d: (0, 2, 3, 4, 1)}


def checked(format: Any) -> memory_format:  # noqa: A002 (PyTorch's keyword is memory_format)
    """``format`` if it is a memory format (TypeError otherwise)."""
    if not isinstance(format, memory_format):
        raise TypeError(f"memory_format must be a torch.memory_format (tg.channels_last, ...), "
                        f"not {type(format).__name__}")
    return format


def order(format: memory_format, ndim: int) -> tuple[int, ...] | None:
    """The order in memory of the dimensions of a tensor of ``ndim`` in ``format``, the
    outermost first (None: C order). RuntimeError for a channels-last format of another
    rank, as PyTorch's."""
    wanted = _ORDER.get(format)
    if wanted is not None and ndim != len(wanted):
        raise RuntimeError(f"required rank {len(wanted)} tensor to use {format.name} format")
    return wanted


def strides(shape: tuple[int, ...], dims: tuple[int, ...]) -> tuple[int, ...]:
    """PyTorch's strides (in entries) of ``shape`` laid out in the order ``dims``."""
    out, step = [0] * len(shape), 1
    for d in reversed(dims):
        out[d] = step
        step *= max(shape[d], 1)
    return tuple(out)


def is_laid_out(array: np.ndarray, format: memory_format) -> bool:
    """Whether ``array``'s entries lie in ``format``'s order with no gaps, by PyTorch's rule
    (a dimension of length 1 may have any stride)."""
    if format is preserve_format:
        raise RuntimeError("is_contiguous: preserve_format is not a format to check")
    wanted = _ORDER.get(format)
    if wanted is None:
        return bool(array.flags.c_contiguous)
    if array.ndim != len(wanted):
        return False
    step = 1
    for d in reversed(wanted):
        n = array.shape[d]
        if n != 1:
            if array.strides[d] != step * array.itemsize:
                return False
            step *= n
    return True


def kept_format(array: np.ndarray) -> memory_format | None:
    """The format ``array`` is laid out in (C order first), or None: ``preserve_format``'s."""
    for format in (contiguous_format, channels_last, channels_last_3d):
        if is_laid_out(array, format):
            return format
    return None
