"""torch.nn's layers over ``tensorgrad/sampling.py``: ``LocalResponseNorm``,
``MaxUnpool1d/2d/3d`` and ``LPPool1d/2d/3d``, with PyTorch's arguments and printed forms.
(``Upsample`` and its two older names are in ``conv.py``.)

The ops are reached through ``functional``'s lazy names, so importing ``tensorgrad.nn``
does not load ``sampling.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .. import functional as F
from ..tensor import Tensor
from .module import Module

Size = int | Sequence[int]


def _tuple(value: Any, n: int) -> tuple[int, ...]:
    return (value,) * n if isinstance(value, int) else tuple(value)


class LocalResponseNorm(Module):
    """Each entry of (N, C, *) inputs over (k + alpha * mean of the squares of ``size``
    neighbouring channels)^beta, as ``F.local_response_norm``::

        nn.LocalResponseNorm(5)  # AlexNet's
    """

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0
                 ) -> None:
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input: Tensor) -> Tensor:
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"


class _MaxUnpoolNd(Module):
    n = 0

    def __init__(self, kernel_size: Size, stride: Size | None = None, padding: Size = 0
                 ) -> None:
        super().__init__()
        self.kernel_size = _tuple(kernel_size, self.n)
        self.stride = self.kernel_size if stride is None else _tuple(stride, self.n)
        self.padding = _tuple(padding, self.n)

    def forward(self, input: Tensor, indices: Tensor,
                output_size: Sequence[int] | None = None) -> Tensor:
        unpool = getattr(F, f"max_unpool{self.n}d")
        return unpool(input, indices, self.kernel_size, self.stride, self.padding, output_size)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool1d(_MaxUnpoolNd):
    """The inverse of ``MaxPool1d(return_indices=True)``: each value put back at its index
    among zeros, as ``F.max_unpool1d``::

        pool, unpool = nn.MaxPool1d(2, return_indices=True), nn.MaxUnpool1d(2)
        y, where = pool(x)
        unpool(y, where, output_size=x.shape)
    """

    n = 1


class MaxUnpool2d(_MaxUnpoolNd):
    """``MaxUnpool1d`` over (N, C, H, W) (or (C, H, W)), as ``F.max_unpool2d``."""

    n = 2


class MaxUnpool3d(_MaxUnpoolNd):
    """``MaxUnpool1d`` over (N, C, D, H, W) (or (C, D, H, W)), as ``F.max_unpool3d``."""

    n = 3


class _LPPoolNd(Module):
    n = 0

    def __init__(self, norm_type: float, kernel_size: Size, stride: Size | None = None,
                 ceil_mode: bool = False) -> None:
        super().__init__()
        self.norm_type, self.kernel_size, self.stride = norm_type, kernel_size, stride
        self.ceil_mode = ceil_mode

    def forward(self, input: Tensor) -> Tensor:
        pool = getattr(F, f"lp_pool{self.n}d")
        return pool(input, float(self.norm_type), self.kernel_size, self.stride, self.ceil_mode)

    def extra_repr(self) -> str:
        return (f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, ceil_mode={self.ceil_mode}")


class LPPool1d(_LPPoolNd):
    """The p-norm of each window along (N, C, L) (or (C, L)), as ``F.lp_pool1d``::

        nn.LPPool1d(2, 3, stride=2)
    """

    n = 1


class LPPool2d(_LPPoolNd):
    """``LPPool1d`` over (N, C, H, W) (or (C, H, W)), as ``F.lp_pool2d``."""

    n = 2


class LPPool3d(_LPPoolNd):
    """``LPPool1d`` over (N, C, D, H, W) (or (C, D, H, W)), finite p, as ``F.lp_pool3d``."""

    n = 3
