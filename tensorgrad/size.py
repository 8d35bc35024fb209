"""``Size``: a tensor's shape, as PyTorch's ``torch.Size``."""

from __future__ import annotations

import math
import operator
from collections.abc import Iterable
from typing import Any, SupportsIndex, overload

import numpy as np


class Size(tuple[int, ...]):
    """A tensor's shape (``x.shape``, ``x.size()``): a tuple of ints whose slices, sums and
    repeats stay ``Size``s, as PyTorch's ``torch.Size``; it equals the plain tuple of its
    ints::

        >>> Size([2, 3]) + (4,)
        tensorgrad.Size([2, 3, 4])
        >>> Size([2, 3, 4])[1:].numel(), Size([2, 3]) == (2, 3)
        (12, True)
    """

    __slots__ = ()

    def __new__(cls, sizes: Iterable[Any] = ()) -> Size:
        items = []
        for i, size in enumerate(sizes):
            try:
                items.append(operator.index(size))
            except TypeError:
                raise TypeError(f"tensorgrad.Size() takes an iterable of 'int' (item {i} is "
                                f"'{type(size).__name__}')") from None
        return tuple.__new__(cls, items)

    def numel(self) -> int:
        """The number of elements of a tensor of this shape."""
        return math.prod(self)

    @overload
    def __getitem__(self, index: SupportsIndex) -> int: ...

    @overload
    def __getitem__(self, index: slice) -> Size: ...

    def __getitem__(self, index: SupportsIndex | slice) -> int | Size:
        if isinstance(index, slice):
            return as_size(tuple.__getitem__(self, index))
        return tuple.__getitem__(self, index)

    def __add__(self, other: Any) -> Any:
        joined = tuple.__add__(self, other)
        return joined if joined is NotImplemented else as_size(joined)

    def __radd__(self, other: Any) -> Any:
        # (a tuple first: Python asks this subclass before tuple's own __add__)
        return as_size(other + tuple(self)) if isinstance(other, tuple) else NotImplemented

    def __mul__(self, times: SupportsIndex) -> Any:
        repeated = tuple.__mul__(self, times)
        return repeated if repeated is NotImplemented else as_size(repeated)

    __rmul__ = __mul__

    def __repr__(self) -> str:
        return f"tensorgrad.Size({list(self)})"

    def __reduce__(self) -> tuple[type[Size], tuple[tuple[int, ...]]]:
        return Size, (tuple(self),)


def as_size(shape: tuple[int, ...]) -> Size:
    """``shape`` (ints already, as an array's shape) as a ``Size``, unchecked (speed)."""
    return tuple.__new__(Size, shape)


def broadcast_shapes(*shapes: int | Iterable[int]) -> Size:
    """The shape tensors of these shapes broadcast to, as ``torch.broadcast_shapes`` (an int
    is a 1-d shape); RuntimeError if they do not broadcast::

        broadcast_shapes((2, 1), (3,))    # Size([2, 3])
    """
    given = [(shape,) if isinstance(shape, int) else tuple(shape) for shape in shapes]
    if any(n < 0 for shape in given for n in shape):
        raise ValueError("Attempting to broadcast a dimension with negative length!")
    try:
        return Size(np.broadcast_shapes(*given))
    except ValueError:
        raise RuntimeError(f"Shape mismatch: objects cannot be broadcast to a single shape; "
                           f"got {', '.join(str(list(s)) for s in given)}") from None

