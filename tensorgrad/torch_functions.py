"""The functions of ``torch.*`` that are a tensor's methods (``torch.exp(x)`` is
``x.exp()``), so that ``import tensorgrad as torch`` finds them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from . import functional
from .tensor import Tensor


def _tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


def clamp(input: Tensor, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
    return _tensor(input).clamp(min, max)


def clip(input: Tensor, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
    return _tensor(input).clamp(min, max)


def isnan(input: Tensor) -> Tensor:
    return _tensor(input).isnan()


def isinf(input: Tensor) -> Tensor:
    return _tensor(input).isinf()


def isfinite(input: Tensor) -> Tensor:
    return _tensor(input).isfinite()


def allclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
             equal_nan: bool = False) -> bool:
    """True if every |input - other| <= atol + rtol * |other|, as ``torch.allclose``."""
    return bool(np.allclose(_tensor(input).data, _tensor(other).data, rtol, atol, equal_nan))


def equal(input: Tensor, other: Tensor) -> bool:
    """True if both have the same shape and the same values."""
    a, b = _tensor(input).data, _tensor(other).data
    return a.shape == b.shape and bool((a == b).all())


def cumsum(input: Tensor, dim: int) -> Tensor:
    return _tensor(input).cumsum(dim)


def sort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Any:
    return _tensor(input).sort(dim, descending, stable)


def flip(input: Tensor, dims: Sequence[int]) -> Tensor:
    return _tensor(input).flip(dims)


def var(input: Tensor, dim: Any = None, unbiased: bool = True, keepdim: bool = False, *,
        correction: int | None = None) -> Tensor:
    return _tensor(input).var(dim, unbiased, keepdim, correction=correction)


def std(input: Tensor, dim: Any = None, unbiased: bool = True, keepdim: bool = False, *,
        correction: int | None = None) -> Tensor:
    return _tensor(input).std(dim, unbiased, keepdim, correction=correction)


def exp(input: Tensor) -> Tensor:
    return _tensor(input).exp()


def log(input: Tensor) -> Tensor:
    return _tensor(input).log()


def sqrt(input: Tensor) -> Tensor:
    return _tensor(input).sqrt()


def rsqrt(input: Tensor) -> Tensor:
    return _tensor(input).rsqrt()


def abs(input: Tensor) -> Tensor:  # noqa: A001 (PyTorch's name)
    return _tensor(input).abs()


def erf(input: Tensor) -> Tensor:
    return _tensor(input).erf()


def tanh(input: Tensor) -> Tensor:
    return _tensor(input).tanh()


def sigmoid(input: Tensor) -> Tensor:
    return _tensor(input).sigmoid()


def relu(input: Tensor) -> Tensor:
    return _tensor(input).relu()


def pow(input: Any, exponent: Any) -> Tensor:  # noqa: A001 (PyTorch's name)
    """``input ** exponent``; either may be a number."""
    if isinstance(exponent, Tensor) and not isinstance(input, Tensor):
        return exponent.__rpow__(input)  # a number base stays a number: PyTorch's promotion
    return _tensor(input) ** exponent


def matmul(input: Tensor, other: Tensor) -> Tensor:
    return _tensor(input) @ other


def sum(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:  # noqa: A001
    return _tensor(input).sum(dim, keepdim)


def mean(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    return _tensor(input).mean(dim, keepdim)


def max(input: Tensor, dim: Any = None, keepdim: bool = False) -> Any:  # noqa: A001
    return _tensor(input).max(dim, keepdim)


def min(input: Tensor, dim: Any = None, keepdim: bool = False) -> Any:  # noqa: A001
    return _tensor(input).min(dim, keepdim)


def maximum(input: Tensor, other: Tensor) -> Tensor:
    return _tensor(input).max(_tensor(other))


def minimum(input: Tensor, other: Tensor) -> Tensor:
    return _tensor(input).min(_tensor(other))


def amax(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    return _tensor(input).amax(dim, keepdim)


def amin(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    return _tensor(input).amin(dim, keepdim)


def argmax(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    return _tensor(input).argmax(dim, keepdim)


def argmin(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    return _tensor(input).argmin(dim, keepdim)


def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True,
         sorted: bool = True) -> Any:  # noqa: A002 (PyTorch's name)
    return _tensor(input).topk(k, dim, largest, sorted)


def norm(input: Tensor, p: Any = "fro", dim: Any = None, keepdim: bool = False) -> Tensor:
    return _tensor(input).norm(p, dim, keepdim)


def split(tensor: Tensor, split_size_or_sections: int | Sequence[int], dim: int = 0
          ) -> tuple[Tensor, ...]:
    return _tensor(tensor).split(split_size_or_sections, dim)


def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    return _tensor(input).chunk(chunks, dim)


def unbind(input: Tensor, dim: int = 0) -> tuple[Tensor, ...]:
    return _tensor(input).unbind(dim)


def reshape(input: Tensor, shape: Sequence[int]) -> Tensor:
    return _tensor(input).reshape(shape)


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    return _tensor(input).flatten(start_dim, end_dim)


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    return _tensor(input).transpose(dim0, dim1)


def permute(input: Tensor, dims: Sequence[int]) -> Tensor:
    return _tensor(input).permute(dims)


def unsqueeze(input: Tensor, dim: int) -> Tensor:
    return _tensor(input).unsqueeze(dim)


def squeeze(input: Tensor, dim: Any = None) -> Tensor:
    return _tensor(input).squeeze(dim)


def masked_fill(input: Tensor, mask: Any, value: Any) -> Tensor:
    return _tensor(input).masked_fill(mask, value)


def softmax(input: Tensor, dim: int) -> Tensor:
    return functional.softmax(_tensor(input), dim)


def log_softmax(input: Tensor, dim: int) -> Tensor:
    return functional.log_softmax(_tensor(input), dim)


def numel(input: Tensor) -> int:
    return _tensor(input).numel()


def is_tensor(obj: Any) -> bool:
    return isinstance(obj, Tensor)
