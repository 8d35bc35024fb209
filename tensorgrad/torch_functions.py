"""The functions of ``torch.*`` that are a tensor's methods (``torch.exp(x)`` is
``x.exp()``), so that ``import tensorgrad as torch`` finds them."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import functional, ops
from .tensor import Tensor, as_leaf


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


def isclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
            equal_nan: bool = False) -> Tensor:
    return _tensor(input).isclose(other, rtol, atol, equal_nan)


def cumsum(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    return _tensor(input).cumsum(dim, dtype=dtype)


def cumprod(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    return _tensor(input).cumprod(dim, dtype=dtype)


def argsort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False
            ) -> Tensor:
    return _tensor(input).argsort(dim, descending, stable=stable)


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


def log1p(input: Tensor) -> Tensor:
    return _tensor(input).log1p()


def expm1(input: Tensor) -> Tensor:
    return _tensor(input).expm1()


def sign(input: Tensor) -> Tensor:
    return _tensor(input).sign()


def floor(input: Tensor) -> Tensor:
    return _tensor(input).floor()


def ceil(input: Tensor) -> Tensor:
    return _tensor(input).ceil()


def trunc(input: Tensor) -> Tensor:
    return _tensor(input).trunc()


def round(input: Tensor, *, decimals: int | None = None) -> Tensor:  # noqa: A001
    return _tensor(input).round(decimals=decimals)


def nan_to_num(input: Tensor, nan: float = 0.0, posinf: float | None = None,
               neginf: float | None = None) -> Tensor:
    return _tensor(input).nan_to_num(nan, posinf, neginf)


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


def remainder(input: Any, other: Any) -> Tensor:
    """``input % other``; either may be a number."""
    return ops.Remainder.apply(input, other)


def fmod(input: Tensor, other: Any) -> Tensor:
    return _tensor(input).fmod(other)


def lerp(input: Tensor, end: Tensor, weight: Any) -> Tensor:
    return _tensor(input).lerp(end, weight)


def addcmul(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1) -> Tensor:
    return _tensor(input).addcmul(tensor1, tensor2, value=value)


def addcdiv(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1) -> Tensor:
    return _tensor(input).addcdiv(tensor1, tensor2, value=value)


def matmul(input: Tensor, other: Tensor) -> Tensor:
    return _tensor(input) @ other


def mm(input: Tensor, mat2: Tensor) -> Tensor:
    return _tensor(input).mm(mat2)


def bmm(input: Tensor, mat2: Tensor) -> Tensor:
    return _tensor(input).bmm(mat2)


def outer(input: Tensor, vec2: Tensor) -> Tensor:
    return _tensor(input).outer(vec2)


def sum(input: Tensor, dim: Any = None, keepdim: bool = False, *,  # noqa: A001
        dtype: Any = None) -> Tensor:
    return _tensor(input).sum(dim, keepdim, dtype=dtype)


def mean(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None
         ) -> Tensor:
    return _tensor(input).mean(dim, keepdim, dtype=dtype)


def prod(input: Tensor, dim: int | None = None, keepdim: bool = False, *, dtype: Any = None
         ) -> Tensor:
    return _tensor(input).prod(dim, keepdim, dtype=dtype)


def logsumexp(input: Tensor, dim: Any, keepdim: bool = False) -> Tensor:
    return _tensor(input).logsumexp(dim, keepdim)


def all(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:  # noqa: A001
    return _tensor(input).all(dim, keepdim)


def any(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:  # noqa: A001
    return _tensor(input).any(dim, keepdim)


def max(input: Tensor, dim: Any = None, keepdim: bool = False) -> Any:  # noqa: A001
    return _tensor(input).max(dim, keepdim)


def min(input: Tensor, dim: Any = None, keepdim: bool = False) -> Any:  # noqa: A001
    return _tensor(input).min(dim, keepdim)


def maximum(input: Tensor, other: Tensor) -> Tensor:
    return _tensor(input).maximum(other)


def minimum(input: Tensor, other: Tensor) -> Tensor:
    return _tensor(input).minimum(other)


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


def swapaxes(input: Tensor, axis0: int, axis1: int) -> Tensor:
    return _tensor(input).swapaxes(axis0, axis1)


def swapdims(input: Tensor, dim0: int, dim1: int) -> Tensor:
    return _tensor(input).swapdims(dim0, dim1)


def t(input: Tensor) -> Tensor:
    return _tensor(input).t()


def movedim(input: Tensor, source: Any, destination: Any) -> Tensor:
    return _tensor(input).movedim(source, destination)


def moveaxis(input: Tensor, source: Any, destination: Any) -> Tensor:
    return _tensor(input).movedim(source, destination)


def narrow(input: Tensor, dim: int, start: int, length: int) -> Tensor:
    return _tensor(input).narrow(dim, start, length)


def roll(input: Tensor, shifts: Any, dims: Any = None) -> Tensor:
    return _tensor(input).roll(shifts, dims)


def tile(input: Tensor, dims: Sequence[int]) -> Tensor:
    return _tensor(input).tile(dims)


def repeat_interleave(input: Tensor, repeats: Any = None, dim: int | None = None, *,
                      output_size: int | None = None) -> Tensor:
    """``input.repeat_interleave(repeats, dim)``; with no ``repeats``, ``input`` holds the
    counts and the result is 0, 1, ... each repeated that many times (int64)::

        repeat_interleave(tensor([1, 0, 2]))    # [0, 2, 2]
    """
    if repeats is None:
        counts = _tensor(input)
        if counts.data.ndim > 1:
            raise RuntimeError("repeat_interleave: the repeats must be a 0-d or 1-D tensor")
        positions = as_leaf(np.arange(counts.data.size))
        return ops.repeat_interleave(positions, counts, 0, output_size)
    return _tensor(input).repeat_interleave(repeats, dim, output_size=output_size)


def diag(input: Tensor, diagonal: int = 0) -> Tensor:
    return _tensor(input).diag(diagonal)


def meshgrid(*tensors: Any, indexing: str | None = None) -> tuple[Tensor, ...]:
    """Coordinate grids: for n vectors of lengths (l1, l2, ...), n tensors of shape (l1,
    l2, ...), the i-th holding the i-th vector's entries along its dimension ("ij"
    indexing; "xy" swaps the first two lengths, as for images' x and y). A list of tensors
    may be given instead; without ``indexing`` a UserWarning says to give it, as PyTorch's."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        warnings.warn("meshgrid: give indexing='ij' (the default) or 'xy'; PyTorch will "
                      "require it", UserWarning, stacklevel=2)
        indexing = "ij"
    return ops.meshgrid([_tensor(t) for t in tensors], indexing)


def gather(input: Tensor, dim: int, index: Tensor, *, sparse_grad: bool = False) -> Tensor:
    return _tensor(input).gather(dim, index, sparse_grad=sparse_grad)


def index_select(input: Tensor, dim: int, index: Tensor) -> Tensor:
    return _tensor(input).index_select(dim, index)


def permute(input: Tensor, dims: Sequence[int]) -> Tensor:
    return _tensor(input).permute(dims)


def unsqueeze(input: Tensor, dim: int) -> Tensor:
    return _tensor(input).unsqueeze(dim)


def squeeze(input: Tensor, dim: Any = None) -> Tensor:
    return _tensor(input).squeeze(dim)


def masked_fill(input: Tensor, mask: Any, value: Any) -> Tensor:
    return _tensor(input).masked_fill(mask, value)


def softmax(input: Tensor, dim: int, dtype: Any = None) -> Tensor:
    return functional.softmax(_tensor(input), dim, dtype=dtype)


def log_softmax(input: Tensor, dim: int, dtype: Any = None) -> Tensor:
    return functional.log_softmax(_tensor(input), dim, dtype=dtype)


def numel(input: Tensor) -> int:
    return _tensor(input).numel()


def is_tensor(obj: Any) -> bool:
    return isinstance(obj, Tensor)
