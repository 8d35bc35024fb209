"""The functions of ``torch.*`` that are a tensor's methods (``torch.exp(x)`` is
``x.exp()``), so that ``import tensorgrad as torch`` finds them."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import functional, ops
from .tensor import Tensor, as_leaf, normalize_dim, tensor_of


def clamp(input: Tensor, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
    return tensor_of(input).clamp(min, max)


def clip(input: Tensor, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
    return tensor_of(input).clamp(min, max)


def isnan(input: Tensor) -> Tensor:
    return tensor_of(input).isnan()


def isinf(input: Tensor) -> Tensor:
    return tensor_of(input).isinf()


def isfinite(input: Tensor) -> Tensor:
    return tensor_of(input).isfinite()


def allclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
             equal_nan: bool = False) -> bool:
    """True if every |input - other| <= atol + rtol * |other|, as ``torch.allclose``: of
    tensors of one dtype (``Tensor.allclose``, in surface.py)."""
    from .surface import allclose as close

    return close(input, other, rtol, atol, equal_nan)


def equal(input: Tensor, other: Tensor) -> bool:
    """True if both have the same shape and the same values."""
    a, b = tensor_of(input)._data, tensor_of(other)._data
    return a.shape == b.shape and bool((a == b).all())


def isclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
            equal_nan: bool = False) -> Tensor:
    return tensor_of(input).isclose(other, rtol, atol, equal_nan)


def cumsum(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    return tensor_of(input).cumsum(dim, dtype=dtype)


def cumprod(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    return tensor_of(input).cumprod(dim, dtype=dtype)


def argsort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False
            ) -> Tensor:
    return tensor_of(input).argsort(dim, descending, stable=stable)


def sort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Any:
    return tensor_of(input).sort(dim, descending, stable)


def flip(input: Tensor, dims: Sequence[int]) -> Tensor:
    return tensor_of(input).flip(dims)


def var(input: Tensor, dim: Any = None, unbiased: bool = True, keepdim: bool = False, *,
        correction: int | None = None) -> Tensor:
    return tensor_of(input).var(dim, unbiased, keepdim, correction=correction)


def std(input: Tensor, dim: Any = None, unbiased: bool = True, keepdim: bool = False, *,
        correction: int | None = None) -> Tensor:
    return tensor_of(input).std(dim, unbiased, keepdim, correction=correction)


def exp(input: Tensor) -> Tensor:
    return tensor_of(input).exp()


def log(input: Tensor) -> Tensor:
    return tensor_of(input).log()


def sqrt(input: Tensor) -> Tensor:
    return tensor_of(input).sqrt()


def rsqrt(input: Tensor) -> Tensor:
    return tensor_of(input).rsqrt()


def log1p(input: Tensor) -> Tensor:
    return tensor_of(input).log1p()


def expm1(input: Tensor) -> Tensor:
    return tensor_of(input).expm1()


def sign(input: Tensor) -> Tensor:
    return tensor_of(input).sign()


def floor(input: Tensor) -> Tensor:
    return tensor_of(input).floor()


def ceil(input: Tensor) -> Tensor:
    return tensor_of(input).ceil()


def trunc(input: Tensor) -> Tensor:
    return tensor_of(input).trunc()


def round(input: Tensor, *, decimals: int | None = None) -> Tensor:  # noqa: A001
    return tensor_of(input).round(decimals=decimals)


def nan_to_num(input: Tensor, nan: float = 0.0, posinf: float | None = None,
               neginf: float | None = None) -> Tensor:
    return tensor_of(input).nan_to_num(nan, posinf, neginf)


def abs(input: Tensor) -> Tensor:  # noqa: A001 (PyTorch's name)
    return tensor_of(input).abs()


def erf(input: Tensor) -> Tensor:
    return tensor_of(input).erf()


def tanh(input: Tensor) -> Tensor:
    return tensor_of(input).tanh()


def sigmoid(input: Tensor) -> Tensor:
    return tensor_of(input).sigmoid()


def relu(input: Tensor) -> Tensor:
    return tensor_of(input).relu()


def pow(input: Any, exponent: Any) -> Tensor:  # noqa: A001 (PyTorch's name)
    """``input ** exponent``; either may be a number."""
    if isinstance(exponent, Tensor) and not isinstance(input, Tensor):
        return exponent.__rpow__(input)  # a number base stays a number: PyTorch's promotion
    return tensor_of(input) ** exponent


def remainder(input: Any, other: Any) -> Tensor:
    """``input % other``; either may be a number."""
    return ops.Remainder.apply(input, other)


def fmod(input: Tensor, other: Any) -> Tensor:
    return tensor_of(input).fmod(other)


def lerp(input: Tensor, end: Tensor, weight: Any) -> Tensor:
    return tensor_of(input).lerp(end, weight)


def addcmul(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1) -> Tensor:
    return tensor_of(input).addcmul(tensor1, tensor2, value=value)


def addcdiv(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1) -> Tensor:
    return tensor_of(input).addcdiv(tensor1, tensor2, value=value)


def matmul(input: Tensor, other: Tensor) -> Tensor:
    return tensor_of(input) @ other


def mm(input: Tensor, mat2: Tensor) -> Tensor:
    return tensor_of(input).mm(mat2)


def spmm(input: Tensor, mat2: Tensor) -> Tensor:
    """PyTorch's sparse-by-dense product; there are no sparse tensors here, and on two dense
    matrices PyTorch's is ``mm`` (its results and errors), as this is (pytorch/examples' GCN)."""
    return mm(input, mat2)


def bmm(input: Tensor, mat2: Tensor) -> Tensor:
    return tensor_of(input).bmm(mat2)


def outer(input: Tensor, vec2: Tensor) -> Tensor:
    return tensor_of(input).outer(vec2)


def sum(input: Tensor, dim: Any = None, keepdim: bool = False, *,  # noqa: A001
        dtype: Any = None) -> Tensor:
    return tensor_of(input).sum(dim, keepdim, dtype=dtype)


def mean(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None
         ) -> Tensor:
    return tensor_of(input).mean(dim, keepdim, dtype=dtype)


def prod(input: Tensor, dim: int | None = None, keepdim: bool = False, *, dtype: Any = None
         ) -> Tensor:
    return tensor_of(input).prod(dim, keepdim, dtype=dtype)


def logsumexp(input: Tensor, dim: Any, keepdim: bool = False) -> Tensor:
    return tensor_of(input).logsumexp(dim, keepdim)


def all(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:  # noqa: A001
    return tensor_of(input).all(dim, keepdim)


def any(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:  # noqa: A001
    return tensor_of(input).any(dim, keepdim)


def max(input: Tensor, dim: Any = None, keepdim: bool = False, *,  # noqa: A001
        other: Any = None) -> Any:
    return tensor_of(input).max(dim if other is None else other, keepdim)


def min(input: Tensor, dim: Any = None, keepdim: bool = False, *,  # noqa: A001
        other: Any = None) -> Any:
    return tensor_of(input).min(dim if other is None else other, keepdim)


def maximum(input: Tensor, other: Tensor) -> Tensor:
    return tensor_of(input).maximum(other)


def minimum(input: Tensor, other: Tensor) -> Tensor:
    return tensor_of(input).minimum(other)


def amax(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    return tensor_of(input).amax(dim, keepdim)


def amin(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    return tensor_of(input).amin(dim, keepdim)


def argmax(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    return tensor_of(input).argmax(dim, keepdim)


def argmin(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    return tensor_of(input).argmin(dim, keepdim)


def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True,
         sorted: bool = True) -> Any:  # noqa: A002 (PyTorch's name)
    return tensor_of(input).topk(k, dim, largest, sorted)


def norm(input: Tensor, p: Any = "fro", dim: Any = None, keepdim: bool = False,
         out: Any = None, dtype: Any = None) -> Tensor:
    if out is not None:
        raise TypeError("norm(): out= is not supported (tensorgrad returns new tensors)")
    return tensor_of(input).norm(p, dim, keepdim, dtype)


def split(tensor: Tensor, split_size_or_sections: int | Sequence[int], dim: int = 0
          ) -> tuple[Tensor, ...]:
    return tensor_of(tensor).split(split_size_or_sections, dim)


def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    return tensor_of(input).chunk(chunks, dim)


def unbind(input: Tensor, dim: int = 0) -> tuple[Tensor, ...]:
    return tensor_of(input).unbind(dim)


def reshape(input: Tensor, shape: Sequence[int]) -> Tensor:
    return tensor_of(input).reshape(shape)


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    return tensor_of(input).flatten(start_dim, end_dim)


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    return tensor_of(input).transpose(dim0, dim1)


def swapaxes(input: Tensor, axis0: int, axis1: int) -> Tensor:
    return tensor_of(input).swapaxes(axis0, axis1)


def swapdims(input: Tensor, dim0: int, dim1: int) -> Tensor:
    return tensor_of(input).swapdims(dim0, dim1)


def t(input: Tensor) -> Tensor:
    return tensor_of(input).t()


def movedim(input: Tensor, source: Any, destination: Any) -> Tensor:
    return tensor_of(input).movedim(source, destination)


def moveaxis(input: Tensor, source: Any, destination: Any) -> Tensor:
    return tensor_of(input).movedim(source, destination)


def narrow(input: Tensor, dim: int, start: int, length: int) -> Tensor:
    return tensor_of(input).narrow(dim, start, length)


def roll(input: Tensor, shifts: Any, dims: Any = None) -> Tensor:
    return tensor_of(input).roll(shifts, dims)


def tile(input: Tensor, dims: Sequence[int]) -> Tensor:
    return tensor_of(input).tile(dims)


def repeat_interleave(input: Tensor, repeats: Any = None, dim: int | None = None, *,
                      output_size: int | None = None) -> Tensor:
    """``input.repeat_interleave(repeats, dim)``; with no ``repeats``, ``input`` holds the
    counts and the result is 0, 1, ... each repeated that many times (int64)::

        repeat_interleave(tensor([1, 0, 2]))    # [0, 2, 2]
    """
    if repeats is None:
        counts = tensor_of(input)
        if counts._data.ndim > 1:
            raise RuntimeError("repeat_interleave: the repeats must be a 0-d or 1-D tensor")
        positions = as_leaf(np.arange(counts._data.size))
        return ops.repeat_interleave(positions, counts, 0, output_size)
    return tensor_of(input).repeat_interleave(repeats, dim, output_size=output_size)


def diag(input: Tensor, diagonal: int = 0) -> Tensor:
    return tensor_of(input).diag(diagonal)


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
    return ops.meshgrid([tensor_of(t) for t in tensors], indexing)


def gather(input: Tensor, dim: int, index: Tensor, *, sparse_grad: bool = False) -> Tensor:
    return tensor_of(input).gather(dim, index, sparse_grad=sparse_grad)


def index_select(input: Tensor, dim: int, index: Tensor) -> Tensor:
    return tensor_of(input).index_select(dim, index)


def scatter(input: Tensor, dim: int, index: Tensor, src: Any = None, *, value: Any = None,
            reduce: str | None = None) -> Tensor:
    return tensor_of(input).scatter(dim, index, src, value=value, reduce=reduce)


def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    return tensor_of(input).scatter_add(dim, index, src)


def index_add(input: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha: Any = 1
              ) -> Tensor:
    return tensor_of(input).index_add(dim, index, source, alpha=alpha)


def permute(input: Tensor, dims: Sequence[int]) -> Tensor:
    return tensor_of(input).permute(dims)


def unsqueeze(input: Tensor, dim: int) -> Tensor:
    return tensor_of(input).unsqueeze(dim)


def squeeze(input: Tensor, dim: Any = None) -> Tensor:
    return tensor_of(input).squeeze(dim)


def masked_fill(input: Tensor, mask: Any, value: Any) -> Tensor:
    return tensor_of(input).masked_fill(mask, value)


def softmax(input: Tensor, dim: int, dtype: Any = None) -> Tensor:
    return functional.softmax(tensor_of(input), dim, dtype=dtype)


def log_softmax(input: Tensor, dim: int, dtype: Any = None) -> Tensor:
    return functional.log_softmax(tensor_of(input), dim, dtype=dtype)


def numel(input: Tensor) -> int:
    return tensor_of(input).numel()


def is_tensor(obj: Any) -> bool:
    return isinstance(obj, Tensor)


# ---- elementwise math: integers and booleans become the default float dtype ---------------------


def sin(input: Tensor) -> Tensor:
    return tensor_of(input).sin()


def cos(input: Tensor) -> Tensor:
    return tensor_of(input).cos()


def tan(input: Tensor) -> Tensor:
    return tensor_of(input).tan()


def asin(input: Tensor) -> Tensor:
    return tensor_of(input).asin()


def acos(input: Tensor) -> Tensor:
    return tensor_of(input).acos()


def atan(input: Tensor) -> Tensor:
    return tensor_of(input).atan()


def atan2(input: Tensor, other: Tensor) -> Tensor:
    return tensor_of(input).atan2(other)


def sinh(input: Tensor) -> Tensor:
    return tensor_of(input).sinh()


def cosh(input: Tensor) -> Tensor:
    return tensor_of(input).cosh()


def asinh(input: Tensor) -> Tensor:
    return tensor_of(input).asinh()


def acosh(input: Tensor) -> Tensor:
    return tensor_of(input).acosh()


def atanh(input: Tensor) -> Tensor:
    return tensor_of(input).atanh()


def log2(input: Tensor) -> Tensor:
    return tensor_of(input).log2()


def log10(input: Tensor) -> Tensor:
    return tensor_of(input).log10()


def exp2(input: Tensor) -> Tensor:
    return tensor_of(input).exp2()


def square(input: Tensor) -> Tensor:
    return tensor_of(input).square()


def fmax(input: Tensor, other: Tensor) -> Tensor:
    return tensor_of(input).fmax(other)


def fmin(input: Tensor, other: Tensor) -> Tensor:
    return tensor_of(input).fmin(other)


def float_power(input: Any, exponent: Any) -> Tensor:
    """``input ** exponent`` computed in float64, whatever the operands' dtypes; either may
    be a number::

        float_power(tensor([2, 3]), 2)    # float64 [4., 9.]
    """
    if not isinstance(input, Tensor):
        if not isinstance(exponent, Tensor):
            raise TypeError("float_power takes a tensor as input or as exponent")
        return pow(float(input), ops.Cast.apply(exponent, np.float64))
    exponent = ops.Cast.apply(exponent, np.float64) if isinstance(exponent, Tensor) else exponent
    return ops.Cast.apply(input, np.float64) ** exponent


# ---- comparisons and logic: boolean results, outside the graph ----------------------------------


def eq(input: Tensor, other: Any) -> Tensor:
    return tensor_of(input).eq(other)


def ne(input: Tensor, other: Any) -> Tensor:
    return tensor_of(input).ne(other)


def lt(input: Tensor, other: Any) -> Tensor:
    return tensor_of(input).lt(other)


def le(input: Tensor, other: Any) -> Tensor:
    return tensor_of(input).le(other)


def gt(input: Tensor, other: Any) -> Tensor:
    return tensor_of(input).gt(other)


def ge(input: Tensor, other: Any) -> Tensor:
    return tensor_of(input).ge(other)


def compared(op: np.ufunc, name: str, input: Tensor, other: Any) -> Tensor:
    """``input <op> other`` (a tensor or a number), as the operators compute it; anything
    else is a TypeError, as PyTorch's methods raise."""
    if not isinstance(other, (Tensor, np.ndarray, int, float, np.number, np.bool_)):
        raise TypeError(f"{name}(): other must be a tensor or a number, not "
                        f"{type(other).__name__}")
    return ops.compare(op, input, other)


def _logical(op: np.ufunc, input: Any, other: Any, name: str) -> Tensor:
    """``op`` of the entries' truth (nonzero, NaN too): a boolean tensor, outside the graph."""
    if not isinstance(input, Tensor) or not isinstance(other, Tensor):
        raise TypeError(f"{name}(): the arguments must be tensors, not "
                        f"{type(input).__name__} and {type(other).__name__}")
    a, b = input._data, other._data
    try:
        return as_leaf(op(a, b))
    except ValueError:
        raise ops.broadcast_error(a.shape, b.shape) from None


def logical_and(input: Tensor, other: Tensor) -> Tensor:
    return _logical(np.logical_and, input, other, "logical_and")


def logical_or(input: Tensor, other: Tensor) -> Tensor:
    return _logical(np.logical_or, input, other, "logical_or")


def logical_xor(input: Tensor, other: Tensor) -> Tensor:
    return _logical(np.logical_xor, input, other, "logical_xor")


def logical_not(input: Tensor) -> Tensor:
    if not isinstance(input, Tensor):
        raise TypeError(f"logical_not(): the argument must be a tensor, not "
                        f"{type(input).__name__}")
    return as_leaf(np.logical_not(input._data))


# ---- selection and counting ---------------------------------------------------------------------


def nonzero(input: Tensor, *, as_tuple: bool = False) -> Any:
    """The int64 coordinates of the nonzero entries (NaN counts), one row each, in order;
    ``as_tuple``: one vector per dimension instead (a 0-d tensor counts as a vector)::

        nonzero(tensor([[0, 1], [2, 0]]))    # [[0, 1], [1, 0]]
    """
    data = tensor_of(input)._data
    if as_tuple:
        return tuple(as_leaf(c.astype(np.int64)) for c in np.nonzero(np.atleast_1d(data)))
    return as_leaf(np.argwhere(data).astype(np.int64))


def count_nonzero(input: Tensor, dim: int | Sequence[int] | None = None) -> Tensor:
    """How many entries over ``dim`` (an int, a tuple, or None: all) are nonzero: int64."""
    data = tensor_of(input)._data
    counted = None if dim is None else ops.dims(dim, None, data.ndim)
    return as_leaf(np.asarray(np.count_nonzero(data, axis=counted), np.int64))


def unique(input: Tensor, sorted: bool = True, return_inverse: bool = False,  # noqa: A002
           return_counts: bool = False, dim: int | None = None) -> Any:
    """The distinct entries in ascending order (every NaN its own, last), as a vector; with
    ``return_inverse`` also where each entry went (an int64 tensor of the input's shape),
    with ``return_counts`` how often each came. The values are always sorted, as PyTorch's
    on the CPU; along ``dim``, the distinct slices. As PyTorch's, ``backward()`` through the values
    raises NotImplementedError::

        unique(tensor([3, 1, 3]), return_counts=True)    # ([1, 3], [1, 2])
    """
    x = tensor_of(input)
    if dim is not None:
        return _unique_slices(x, normalize_dim(dim, x.ndim), return_inverse, return_counts)
    out = ops.NoDerivative.apply(_distinct, "unique", NotImplementedError, x)
    if not (return_inverse or return_counts):
        return out
    _, inverse, counts = np.unique(x._data, return_inverse=True, return_counts=True,
                                   equal_nan=False)
    extra = ([as_leaf(inverse.reshape(x._data.shape).astype(np.int64))] if return_inverse
             else []) + ([as_leaf(counts.astype(np.int64))] if return_counts else [])
    return (out, *extra)


def _unique_slices(x: Tensor, dim: int, return_inverse: bool, return_counts: bool) -> Any:
    """``unique(dim=dim)``: the distinct slices along ``dim``, in lexicographic order, and
    where each slice went and how often each came (int64 vectors along ``dim``)."""
    data = x._data
    if not data.ndim:
        raise IndexError(f"Dimension out of range (expected to be in range of [-1, 0], but "
                         f"got {dim})")
    if data.size == 0 and data.shape[dim] != 0:
        raise RuntimeError("There are 0 sized dimensions, and they aren't selected, so unique "
                           "cannot be applied")
    out = ops.NoDerivative.apply(lambda a: np.unique(a, axis=dim), "unique",
                                 NotImplementedError, x)
    if not (return_inverse or return_counts):
        return out
    _, inverse, counts = np.unique(data, axis=dim, return_inverse=True, return_counts=True)
    extra = ([as_leaf(inverse.reshape(-1).astype(np.int64))] if return_inverse else []) + (
        [as_leaf(counts.astype(np.int64))] if return_counts else [])
    return (out, *extra)


def _distinct(a: np.ndarray) -> np.ndarray:
    return np.unique(a, equal_nan=False)  # (every NaN its own, as PyTorch's)


def bincount(input: Tensor, weights: Tensor | None = None, minlength: int = 0) -> Tensor:
    """How often each of 0, 1, ..., max(input) occurs in ``input`` (a vector of non-negative
    integers), at least ``minlength`` counts: int64; with ``weights``, the sums of the
    weights instead (float64, or the weights' floating dtype). As PyTorch's, ``backward()``
    through the weights raises RuntimeError."""
    counted = tensor_of(input)
    data = counted._data
    if data.dtype.kind not in "iu":
        raise NotImplementedError(f"bincount of {data.dtype} data: it counts integers")
    if data.ndim != 1 or (data.size and data.min() < 0):
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    if weights is None:
        return as_leaf(np.bincount(data, minlength=minlength).astype(np.int64))
    w = tensor_of(weights)
    if w._data.shape != data.shape:
        raise RuntimeError("weights should be 1-d and have the same length as input")
    return ops.NoDerivative.apply(_weighted_counts, "bincount", RuntimeError, w, counted,
                                  minlength)


def _weighted_counts(weights: np.ndarray, values: np.ndarray, minlength: int) -> np.ndarray:
    """The sums of ``weights`` by ``values``, in the weights' floating dtype (else float64)."""
    dtype = weights.dtype if weights.dtype.kind == "f" else np.dtype(np.float64)
    return np.bincount(values, weights, minlength).astype(dtype)


def masked_select(input: Tensor, mask: Tensor) -> Tensor:
    return tensor_of(input).masked_select(mask)


def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    return tensor_of(input).diagonal(offset, dim1, dim2)


def trace(input: Tensor) -> Tensor:
    return tensor_of(input).trace()


def broadcast_to(input: Tensor, size: Sequence[int]) -> Tensor:
    return tensor_of(input).broadcast_to(size)


def broadcast_tensors(*tensors: Tensor) -> tuple[Tensor, ...]:
    """The tensors expanded to the one shape they broadcast to."""
    shapes = [tensor_of(t)._data.shape for t in tensors]
    try:
        shape = np.broadcast_shapes(*shapes)
    except ValueError:
        raise ops.broadcast_error(*shapes) from None
    return tuple(tensor_of(t).expand(shape) for t in tensors)


def concat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    return ops.cat(tensors, dim)


def concatenate(tensors: Sequence[Tensor], dim: int = 0, *, axis: int | None = None) -> Tensor:
    """``cat``'s other name; ``axis`` is ``dim``'s (NumPy's)."""
    return ops.cat(tensors, dim if axis is None else axis)


def hstack(tensors: Sequence[Tensor]) -> Tensor:
    """The tensors joined column-wise: vectors (and 0-d tensors) end to end, else along
    dimension 1."""
    rows = [t if t._data.ndim else t.reshape(1) for t in map(tensor_of, tensors)]
    return ops.cat(rows, 0 if rows and rows[0]._data.ndim == 1 else 1)


def vstack(tensors: Sequence[Tensor]) -> Tensor:
    """The tensors joined row-wise: each vector (or 0-d tensor) a row of its own."""
    rows = [t if t._data.ndim >= 2 else t.reshape(1, t._data.size)
            for t in map(tensor_of, tensors)]
    return ops.cat(rows, 0)


# ---- information --------------------------------------------------------------------------------


def is_floating_point(input: Tensor) -> bool:
    if not isinstance(input, Tensor):
        raise TypeError(f"is_floating_point(): the argument must be a tensor, not "
                        f"{type(input).__name__}")
    return input.is_floating_point()
