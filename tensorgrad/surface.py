"""More of PyTorch's tensor functions that model code meets: products with a sum (``addmv``,
``addr``, ``inner``, ``vdot``, ``ger``), selection (``argwhere``, ``msort``,
``split_with_sizes``, ``unique_consecutive``, ``masked_scatter``), writing a piece into a
copy (``diagonal_scatter``, ``select_scatter``, ``slice_scatter``, ``index_reduce``), and
the floating-point helpers (``frexp``, ``ldexp``, ``nextafter``, ``renorm``). Each is a
``torch.*`` function and a Tensor method where PyTorch has both; the gradients are PyTorch's.

Loaded when first used: ``tensorgrad/__init__.py`` reaches these names lazily and the Tensor
methods import this module inside their bodies, so ``import tensorgrad`` does not pay for it.
"""

from __future__ import annotations

import math
import mmap
import sys
from collections import namedtuple
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import composite, ops, torch_functions
from .creation import LegacyTensorType
from .dtypes import short_name
from .tensor import Function, Tensor, as_leaf, normalize_dim, print_options, quiet, tensor_of


def _scaled(x: Tensor, factor: Any) -> Tensor:
    return x if factor == 1 else x * factor


def _summed(input: Tensor, product: Tensor, beta: Any, alpha: Any) -> Tensor:
    """beta * input + alpha * product; with beta 0, input is not read (NaN in it stays out)."""
    product = _scaled(product, alpha)
    if beta == 0:
        shape = np.broadcast_shapes(tensor_of(input).shape, product.shape)
        return product if shape == product.shape else product.expand(shape)
    return _scaled(tensor_of(input), beta) + product


# ---- products with a sum ---------------------------------------------------------------------


def addmv(input: Tensor, mat: Tensor, vec: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    """``beta * input + alpha * (mat @ vec)``, ``mat`` a matrix and ``vec`` a vector."""
    m, v = tensor_of(mat), tensor_of(vec)
    if m.ndim != 2 or v.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {tensor_of(input).ndim}, "
                           f"{m.ndim}, {v.ndim}")
    return _summed(input, m @ v, beta, alpha)


def addr(input: Tensor, vec1: Tensor, vec2: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    """``beta * input + alpha * outer(vec1, vec2)``."""
    a, b = tensor_of(vec1), tensor_of(vec2)
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"addr: Expected 1-D argument vec1 and vec2, but got {a.ndim}-D and "
                           f"{b.ndim}-D")
    product = torch_functions.outer(a, b)
    target = tensor_of(input)
    if not _broadcasts_to(target.shape, product.shape):
        raise RuntimeError(f"The expanded size of the tensor ({product.shape[-1]}) must match the "
                           f"existing size ({target.shape[-1]}) at non-singleton dimension 1.")
    return _summed(target, product, beta, alpha)


def _broadcasts_to(shape: tuple[int, ...], target: tuple[int, ...]) -> bool:
    try:
        return np.broadcast_shapes(shape, target) == target
    except ValueError:
        return False


def _same_dtype(a: Tensor, b: Tensor, message: str) -> None:
    if a.dtype != b.dtype:
        raise RuntimeError(message.format(short_name(a.dtype), short_name(b.dtype)))


def inner(input: Tensor, other: Tensor) -> Tensor:
    """The sums of products over the last dimension of both (a 0-d operand: the product)."""
    a, b = tensor_of(input), tensor_of(other)
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    _same_dtype(a, b, "both inputs should have same dtype")
    if a.shape[-1] != b.shape[-1]:
        raise RuntimeError("inner() the last dimension must match on both input tensors but "
                           f"got shapes {list(a.shape)} and {list(b.shape)}")
    return composite.tensordot(a, b, ([-1], [-1]))


def vdot(input: Tensor, other: Tensor) -> Tensor:
    """The inner product of two vectors (conjugating the first: nothing, for real numbers)."""
    a, b = tensor_of(input), tensor_of(other)
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors")
    _same_dtype(a, b, "dot : expected both vectors to have same dtype, but found {} and {}")
    if a.shape != b.shape:
        n, m = a.shape[0], b.shape[0]
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{n}] and src [{m}] to "
                           f"have the same number of elements, but got {n} and {m} elements "
                           "respectively")
    return composite.dot(a, b)


def ger(input: Tensor, vec2: Tensor) -> Tensor:
    """``outer``'s old name."""
    return torch_functions.outer(input, vec2)


# ---- selection -------------------------------------------------------------------------------


def argwhere(input: Tensor) -> Tensor:
    """The coordinates of the nonzero entries, one row each (``nonzero``)."""
    return torch_functions.nonzero(input)


def msort(input: Tensor) -> Tensor:
    """Sorted along the first dimension (the values of ``sort(input, dim=0)``)."""
    return tensor_of(input).sort(0)[0]


def split_with_sizes(input: Tensor, split_sizes: Sequence[int], dim: int = 0
                     ) -> tuple[Tensor, ...]:
    """Pieces of the given sizes along ``dim``, which must add up to its length."""
    x = tensor_of(input)
    dim = normalize_dim(dim, x.ndim)
    sizes = [int(s) for s in split_sizes]
    if sum(sizes) != x.shape[dim] or any(s < 0 for s in sizes):
        raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to "
                           f"{x.shape[dim]} (input tensor's size at dimension {dim}), but got "
                           f"split_sizes={sizes}")
    return tuple(ops.split(x, sizes, dim))


class _NoGradient(Function):
    """Values with a backward that refuses, as PyTorch's unique_consecutive's."""

    @staticmethod
    def forward(ctx, a, values):
        return values

    @staticmethod
    def backward(ctx, grad):
        raise NotImplementedError("the derivative for 'unique_consecutive' is not implemented.")


def unique_consecutive(input: Tensor, return_inverse: bool = False, return_counts: bool = False,
                       dim: int | None = None) -> Any:
    """Each run of equal consecutive entries (or slices along ``dim``) once; with
    ``return_inverse`` the run each entry belongs to, with ``return_counts`` each run's
    length. NaNs are never equal, so each is a run of its own."""
    x = tensor_of(input)
    data = x._data
    if dim is None:
        flat = data.reshape(-1)
        starts = np.ones(flat.size, bool)
        starts[1:] = flat[1:] != flat[:-1]
        values = flat[starts]
        inverse_shape = data.shape
        length = flat.size
    else:
        dim = normalize_dim(dim, data.ndim)
        if data.size == 0 and data.shape[dim] != 0:
            raise RuntimeError("There are 0 sized dimensions, and they aren't selected, so "
                               "unique cannot be applied")
        rest = math.prod(data.shape) // max(data.shape[dim], 1)
        moved = np.moveaxis(data, dim, 0).reshape(data.shape[dim], rest)
        length = moved.shape[0]
        starts = np.ones(length, bool)
        starts[1:] = (moved[1:] != moved[:-1]).any(axis=1)
        values = np.take(data, np.flatnonzero(starts), axis=dim)
        inverse_shape = (length,)
    run = np.cumsum(starts) - 1
    result = as_leaf(values) if x._data.dtype.kind != "f" or not x.requires_grad \
        else _NoGradient.apply(x, values)
    if not return_inverse and not return_counts:
        return result
    out = [result]
    if return_inverse:
        out.append(as_leaf(run.astype(np.int64).reshape(inverse_shape)))
    if return_counts:
        edges = np.append(np.flatnonzero(starts), length)
        out.append(as_leaf(np.diff(edges).astype(np.int64)))
    return tuple(out)


# ---- writing a piece into a copy -------------------------------------------------------------


class _IntoCopy(Function):
    """A copy of ``a`` with ``src`` written where ``place(array)`` (a writable view, or a tuple
    of index arrays) points; ``src``'s gradient is the gradient there, ``a``'s the rest."""

    @staticmethod
    def forward(ctx, a, src, place):
        ctx.place = place
        out = a.copy()
        where = place(out)
        if where.shape != src.shape:
            raise RuntimeError("expected src to have a size equal to the slice of self. src size "
                               f"= {list(src.shape)}, slice size = {list(where.shape)}")
        where[...] = src
        return out

    @staticmethod
    def backward(ctx, grad):
        rest = grad.copy()
        ctx.place(rest)[...] = 0
        return rest, ctx.place(grad).copy(), None


def _into_copy(input: Tensor, src: Tensor, place: Callable[[np.ndarray], Any]) -> Tensor:
    x, s = tensor_of(input), tensor_of(src)
    if s.dtype != x.dtype:  # written into the copy in its dtype, as PyTorch's
        s = s.to(x.dtype) if x.dtype.kind == "f" or s.dtype.kind != "f" else s.detach().to(x.dtype)
    return _IntoCopy.apply(x, s, place)


def _diagonal_place(offset: int, dim1: int, dim2: int) -> Callable[[np.ndarray], Any]:
    def place(array: np.ndarray) -> Any:
        moved = np.moveaxis(array, (dim1, dim2), (-2, -1))
        rows, cols = moved.shape[-2:]
        length = max(0, min(rows - max(-offset, 0), cols - max(offset, 0)))
        i = np.arange(length)
        return _Indexed(moved, (Ellipsis, i + max(-offset, 0), i + max(offset, 0)))
    return place


class _Indexed:
    """A place given by index arrays, read and written as a view would be."""

    def __init__(self, array: np.ndarray, key: tuple) -> None:
        self.array, self.key = array, key

    @property
    def shape(self) -> tuple[int, ...]:
        return self.array[self.key].shape

    def __setitem__(self, _: Any, value: Any) -> None:
        self.array[self.key] = value

    def copy(self) -> np.ndarray:
        return self.array[self.key]


def diagonal_scatter(input: Tensor, src: Tensor, offset: int = 0, dim1: int = 0,
                     dim2: int = 1) -> Tensor:
    """A copy of ``input`` with ``src`` as its diagonal (that ``diagonal(offset, dim1, dim2)``
    would read)."""
    x = tensor_of(input)
    d1, d2 = normalize_dim(dim1, x.ndim), normalize_dim(dim2, x.ndim)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return _into_copy(x, src, _diagonal_place(int(offset), d1, d2))


def select_scatter(input: Tensor, src: Tensor, dim: int, index: int) -> Tensor:
    """A copy of ``input`` with ``src`` at ``index`` along ``dim`` (``select``'s place)."""
    x = tensor_of(input)
    dim = normalize_dim(dim, x.ndim)
    size = x.shape[dim]
    if not -size <= index < size:
        raise IndexError(f"select(): index {index} out of range for tensor of size "
                         f"{list(x.shape)} at dimension {dim}")
    key = (slice(None),) * dim + (int(index),)
    return _into_copy(x, src, lambda array: array[key])


def slice_scatter(input: Tensor, src: Tensor, dim: int = 0, start: int | None = None,
                  end: int | None = None, step: int = 1) -> Tensor:
    """A copy of ``input`` with ``src`` at ``start:end:step`` along ``dim``."""
    x = tensor_of(input)
    dim = normalize_dim(dim, x.ndim)
    if step <= 0:
        raise RuntimeError("slice step must be positive")
    key = (slice(None),) * dim + (slice(start, end, step),)
    return _into_copy(x, src, lambda array: array[key])


def index_reduce(input: Tensor, dim: int, index: Tensor, source: Tensor, reduce: str, *,
                 include_self: bool = True) -> Tensor:
    """A copy of ``input`` whose slices ``index[i]`` along ``dim`` are combined by ``reduce``
    ("prod", "mean", "amax", "amin") with ``source``'s slice i (and themselves, unless not
    ``include_self``): ``scatter_reduce`` with the index spread along the other dimensions."""
    x, src, idx = tensor_of(input), tensor_of(source), tensor_of(index)
    if reduce not in ("prod", "mean", "amax", "amin"):
        raise RuntimeError("index_reduce(): Expected reduce to be one of prod, mean, amax or amin "
                           f"but got {reduce}.")
    if idx.dtype not in (np.int32, np.int64):
        raise RuntimeError("index_reduce_(): Expected dtype int32/int64 for index but got: "
                           f"{short_name(idx.dtype)}")
    if idx.ndim > 1:
        raise IndexError("index_reduce_(): Index is supposed to be a vector")
    dim = normalize_dim(dim, max(x.ndim, 1))
    if src.ndim and idx.numel() != src.shape[dim]:
        raise RuntimeError(f"index_reduce_(): Number of indices ({idx.numel()}) should be equal "
                           f"to source.size(dim): ({src.shape[dim]}), for dim: {dim}")
    if x.dtype != src.dtype:
        raise RuntimeError(f"index_reduce_(): self ({short_name(x.dtype)}) and source "
                           f"({short_name(src.dtype)}) must have the same scalar type")
    positions = idx._data.reshape(-1).astype(np.int64)
    size = x.shape[dim] if x.ndim else 1
    if ((positions < -size) | (positions >= size)).any():
        raise IndexError("index out of range in self")
    positions = np.where(positions < 0, positions + size, positions)
    if reduce == "prod" and x.ndim and src.ndim:  # (scatter_reduce has no gradient of prod)
        return _IndexProd.apply(x, src, positions, dim, include_self)
    shape = [1] * src.ndim
    if src.ndim:
        shape[dim] = -1
    spread = np.broadcast_to(positions.reshape(shape), src.shape)
    return x.scatter_reduce(dim, as_leaf(np.ascontiguousarray(spread)), src, reduce,
                            include_self=include_self)


class _IndexProd(Function):
    """index_reduce's "prod": each slot named in ``index`` (along ``dim``) the product of the
    source slices sent to it (and its own, if ``include_self``). The gradient of a factor is
    the product of the others: of the nonzero ones over it, or where it is the one zero of
    its product the product of the rest (0 where there are more zeros)."""

    @staticmethod
    def forward(ctx, a, src, index, dim, include_self):
        a0, s0 = np.moveaxis(a, dim, 0), np.moveaxis(src, dim, 0)
        products = np.where(a0 == 0, 1, a0) if include_self else np.ones_like(a0)
        zeros = (a0 == 0).astype(np.int64) if include_self else np.zeros(a0.shape, np.int64)
        np.multiply.at(products, index, np.where(s0 == 0, 1, s0))
        np.add.at(zeros, index, (s0 == 0).astype(np.int64))
        touched = np.zeros(a0.shape[0], bool)
        touched[index] = True
        touched = touched.reshape((-1,) + (1,) * (a0.ndim - 1))
        ctx.saved = a0, s0, index, products, zeros, touched
        ctx.dim, ctx.include_self = dim, include_self
        return np.moveaxis(np.where(touched, np.where(zeros > 0, 0, products), a0), 0, dim)

    @staticmethod
    @quiet
    def backward(ctx, grad):
        a0, s0, index, products, zeros, touched = ctx.saved
        g = np.moveaxis(grad, ctx.dim, 0)

        def of_factor(value, upstream, zero_count, product):
            others = np.where(zero_count == 0, product / np.where(value == 0, 1, value),
                              np.where((zero_count == 1) & (value == 0), product, 0))
            return upstream * others

        own = of_factor(a0, g, zeros, products) if ctx.include_self else np.zeros_like(g)
        a_grad = np.where(touched, own, g)
        s_grad = of_factor(s0, g[index], zeros[index], products[index])
        return (np.moveaxis(a_grad, 0, ctx.dim), np.moveaxis(s_grad, 0, ctx.dim), None,
                None, None)


# ---- masked_scatter --------------------------------------------------------------------------


class _MaskedScatter(Function):
    """``a`` (broadcast with ``mask``) with ``src``'s first entries, in order, where ``mask``."""

    @staticmethod
    def forward(ctx, a, mask, src):
        shape = np.broadcast_shapes(a.shape, mask.shape)
        mask = np.broadcast_to(mask, shape)
        count = int(mask.sum())
        if src.size < count:
            raise RuntimeError("Number of elements of source < number of ones in mask")
        ctx.shapes, ctx.mask, ctx.count = (a.shape, src.shape), mask, count
        out = np.array(np.broadcast_to(a, shape))
        out[mask] = src.reshape(-1)[:count]
        return out

    @staticmethod
    def backward(ctx, grad):
        from .ops import sum_to

        a_shape, src_shape = ctx.shapes
        rest = np.where(ctx.mask, np.zeros((), grad.dtype), grad)
        src_grad = np.zeros(math.prod(src_shape), grad.dtype)
        src_grad[:ctx.count] = grad[ctx.mask]
        return sum_to(rest, a_shape), None, src_grad.reshape(src_shape)


def _check_mask_and_source(x: Tensor, mask: Any, source: Any) -> tuple[Tensor, Tensor]:
    mask, src = tensor_of(mask), tensor_of(source)
    if mask.dtype != np.bool_:
        raise RuntimeError("masked_scatter_ only supports boolean masks, but got mask with "
                           f"dtype {short_name(mask.dtype)}")
    if src.dtype != x.dtype:
        raise RuntimeError("masked_scatter: expected self and source to have same dtypes but got"
                           f"{short_name(x.dtype)} and {short_name(src.dtype)}")
    return mask, src


def masked_scatter(input: Tensor, mask: Tensor, source: Tensor) -> Tensor:
    """A copy of ``input`` (broadcast with ``mask``) with ``source``'s entries, in row-major
    order, where ``mask`` is True."""
    x = tensor_of(input)
    mask, src = _check_mask_and_source(x, mask, source)
    try:
        np.broadcast_shapes(x.shape, mask.shape)
    except ValueError:
        raise ops.broadcast_error(x.shape, mask.shape) from None
    return _MaskedScatter.apply(x, mask._data, src)


def masked_scatter_(input: Tensor, mask: Tensor, source: Tensor) -> Tensor:
    """``masked_scatter`` written into ``input``: the mask broadcasts to its shape."""
    from .tensor import written_in_place

    x = tensor_of(input)
    mask, src = _check_mask_and_source(x, mask, source)
    if mask.ndim > x.ndim or np.broadcast_shapes(x.shape, mask.shape) != x.shape:
        raise RuntimeError(f"masked_scatter_: the mask of shape {list(mask.shape)} does not "
                           f"broadcast to the tensor's shape {list(x.shape)}")
    return written_in_place(x, lambda: _MaskedScatter.apply(x, mask._data, src))


# ---- floating point --------------------------------------------------------------------------


frexp_result = namedtuple("frexp", ["mantissa", "exponent"])  # type: ignore[name-match]


class _Mantissa(Function):
    """frexp's mantissa, input / 2**exponent: its gradient is the gradient over 2**exponent."""

    @staticmethod
    def forward(ctx, a):
        mantissa, exponent = np.frexp(a)
        ctx.exponent = exponent
        return mantissa

    @staticmethod
    def backward(ctx, grad):
        return np.ldexp(grad, -ctx.exponent)


def frexp(input: Tensor) -> Any:
    """The mantissa (|m| in [0.5, 1), the input's dtype) and the int32 exponent of each entry:
    input = mantissa * 2**exponent."""
    x = tensor_of(input)
    if x.dtype.kind != "f":
        raise RuntimeError("torch.frexp() only supports floating-point dtypes")
    mantissa = _Mantissa.apply(x)
    exponent = np.frexp(x._data)[1].astype(np.int32)
    exponent[~np.isfinite(x._data)] = 0  # PyTorch's exponent of inf and NaN
    return frexp_result(mantissa, as_leaf(exponent))


def ldexp(input: Tensor, other: Tensor) -> Tensor:
    """``input * 2**other`` (integers both: in the default float dtype)."""
    from .dtypes import get_default_dtype

    x, e = tensor_of(input), tensor_of(other)
    if e.dtype.kind != "f":
        e = e.to(x.dtype if x.dtype.kind == "f" else get_default_dtype())
    return x * (2.0 ** e)


class _NextAfter(Function):
    """The next float after ``a`` towards ``b``: the gradient passes to ``a`` unchanged, as
    PyTorch's (``b`` gets 0)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = a.shape, b.shape
        return np.nextafter(a, b)

    @staticmethod
    def backward(ctx, grad):
        from .ops import sum_to

        a_shape, b_shape = ctx.shapes
        return sum_to(grad, a_shape), np.zeros(b_shape, grad.dtype)


def nextafter(input: Tensor, other: Tensor) -> Tensor:
    """The next representable number after each entry of ``input`` towards ``other``."""
    x, y = tensor_of(input), tensor_of(other)
    for t in (x, y):
        if t.dtype.kind != "f":
            raise NotImplementedError(f'"nextafter_cpu" not implemented for '
                                      f"'{short_name(t.dtype)}'")
    dtype = np.promote_types(x.dtype, y.dtype)
    return _NextAfter.apply(x.to(dtype), y.to(dtype))


def renorm(input: Tensor, p: float, dim: int, maxnorm: float) -> Tensor:
    """Each slice along ``dim`` whose ``p``-norm exceeds ``maxnorm`` scaled down to that norm
    (to ``maxnorm / (norm + 1e-7)`` of itself, as PyTorch's)."""
    x = tensor_of(input)
    if x.ndim < 2:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {x.ndim} dimensions")
    if p <= 0:
        raise RuntimeError("renorm: non-positive-norm not supported")
    if maxnorm < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm}")
    if x.dtype.kind != "f":
        raise RuntimeError("linalg.vector_norm: Expected a floating point or complex tensor as "
                           f"input. Got {short_name(x.dtype)}")
    dim = normalize_dim(dim, x.ndim)
    others = tuple(d for d in range(x.ndim) if d != dim)
    norms = x.norm(p, others, keepdim=True)
    # scaled where the norm exceeds maxnorm, through the norm (PyTorch's gradient)
    factor = ops.where(norms._data > maxnorm, maxnorm / (norms + 1e-7),
                       as_leaf(np.ones((), x.dtype)))
    return x * factor


# ---- a tensor's memory -----------------------------------------------------------------------


def storage_offset(input: Tensor) -> int:
    """How many entries into the memory it shares with the tensors it is a view of the
    tensor's first entry lies."""
    from .tensor import _owner

    data = tensor_of(input)._data
    owner = _owner(data)
    start = owner.__array_interface__["data"][0]
    return (data.__array_interface__["data"][0] - start) // data.itemsize


def new_empty_strided(input: Tensor, size: Sequence[int], stride: Sequence[int], *,
                      dtype: Any = None, device: Any = None, requires_grad: bool = False,
                      **_: Any) -> Tensor:
    """A new tensor (of zeros: PyTorch leaves it uninitialized) of ``size`` whose entries lie
    ``stride`` apart, in ``input``'s dtype unless ``dtype``."""
    from .devices import check_device

    check_device(device)
    kind = np.dtype(tensor_of(input).dtype if dtype is None else dtype)
    size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
    if len(size) != len(stride):
        raise RuntimeError(f"mismatch in length of strides and shape: {len(stride)} and "
                           f"{len(size)}")
    if any(s < 0 for s in size) or any(s < 0 for s in stride):
        raise RuntimeError(f"Negative dimensions or strides are not allowed: {list(size)}, "
                           f"{list(stride)}")
    extent = 0 if 0 in size else 1 + sum((n - 1) * s for n, s in zip(size, stride))
    memory = np.zeros(max(extent, 1), kind)
    array = np.lib.stride_tricks.as_strided(
        memory, size, tuple(s * kind.itemsize for s in stride), writeable=True)
    return as_leaf(array, requires_grad)


# ---- a tensor's type, its memory as another dtype, its adjoint ------------------------------

_TYPE_NAMES = {d: f"torch.{short_name(d)}Tensor" for d in (
    np.dtype(t) for t in ("float32", "float64", "float16", "int64", "int32", "int16", "int8",
                          "uint8", "bool"))}
_TYPES_BY_NAME = {name: dtype for dtype, name in _TYPE_NAMES.items()}


def tensor_type(x: Tensor, dtype: Any = None) -> Any:
    """``Tensor.type()``: PyTorch's name of the tensor's type without ``dtype``; with one (a
    dtype, a name as 'torch.DoubleTensor', or a typed constructor as ``DoubleTensor``), the
    tensor in it (itself if it is already)."""
    if dtype is None:
        return _TYPE_NAMES[x._data.dtype]
    if isinstance(dtype, LegacyTensorType):
        return x.to(dtype.dtype)
    if isinstance(dtype, str) or callable(dtype) and not isinstance(dtype, type):
        name = dtype if isinstance(dtype, str) else f"torch.{getattr(dtype, '__name__', '')}"
        if name.startswith("torch.cuda."):
            raise RuntimeError("tensorgrad runs on the CPU only: no CUDA (run the same code on "
                               "PyTorch for GPUs)")
        if name not in _TYPES_BY_NAME:
            raise ValueError(f"invalid type: {dtype!r}")
        dtype = _TYPES_BY_NAME[name]
    return x.to(dtype)


# PyTorch's named print profiles: precision, threshold, edgeitems, linewidth
_PROFILES = {"default": (4, 1000, 3, 80), "short": (2, 1000, 2, 80), "full": (4, math.inf, 3, 80)}


def set_printoptions(precision: int | None = None, threshold: float | None = None,
                     edgeitems: int | None = None, linewidth: int | None = None,
                     profile: str | None = None, sci_mode: bool | None = None) -> None:
    """How tensors print, as ``torch.set_printoptions``: digits after the point, how many
    entries before a summary with ``...`` (``edgeitems`` at each end), the line width, or a
    ``profile`` ("default", "short", "full"); ``sci_mode`` True always, False never, None
    NumPy's choice of scientific notation. Tensors only: NumPy's own arrays print as
    before::

        tensorgrad.set_printoptions(precision=2)
    """
    options = print_options
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(f"Invalid profile: {profile}")
        options.clear()
        options.update(zip(("precision", "threshold", "edgeitems", "max_line_width"),
                           _PROFILES[profile]))
    for name, value in (("precision", precision), ("threshold", threshold),
                        ("edgeitems", edgeitems), ("max_line_width", linewidth)):
        if value is not None:
            options[name] = value
    if options.get("threshold") == math.inf:
        options["threshold"] = sys.maxsize  # (NumPy takes an int)
    if sci_mode is not None:
        digits = options.get("precision", 8)
        options.pop("formatter", None)
        options.pop("suppress", None)
        if sci_mode:
            options["formatter"] = {"float_kind": lambda x: f"{x:.{digits}e}"}
        else:
            options["suppress"] = True


def set_flush_denormal(mode: bool) -> bool:
    """Whether denormal numbers could be flushed to zero: NumPy cannot (PyTorch's answer
    where the CPU cannot), so False, and nothing changes."""
    return False


def typename(obj: Any) -> str:
    """PyTorch's name of ``obj``'s type: a tensor's as ``Tensor.type()`` gives it
    ('torch.FloatTensor'); a class or function by its module and qualified name; anything else
    by its class's (a builtin without its module)::

        typename(tensorgrad.zeros(2, dtype=tensorgrad.float32))    # 'torch.FloatTensor'
    """
    if isinstance(obj, Tensor):
        return str(tensor_type(obj))
    named = obj if hasattr(obj, "__qualname__") or hasattr(obj, "__name__") else type(obj)
    module = getattr(named, "__module__", None) or ""
    name = getattr(named, "__qualname__", None) or named.__name__
    return name if module in ("", "builtins") else f"{module}.{name}"


def view_as_dtype(x: Tensor, dtype: Any) -> Tensor:
    """The tensor's memory read as ``dtype``, as PyTorch's ``view(dtype)``: outside the graph.
    Of another item size, the last dimension scales (it must be contiguous and, to a larger
    item, of a length, offset and other strides that divide)."""
    data = x._data
    wanted = np.dtype(dtype)
    if wanted.kind not in "biuf":
        raise TypeError(f"a Tensor holds numbers or booleans, not {wanted}")
    old, new = data.itemsize, wanted.itemsize
    if old != new:
        where = (f"to view {short_name(data.dtype)} as {short_name(wanted)} (different element "
                 "sizes)")
        if data.ndim == 0:
            raise RuntimeError(f"self.dim() cannot be 0 {where}")
        steps = x.stride()
        assert isinstance(steps, tuple)
        if steps[-1] != 1 and data.shape[-1] != 1:  # (a dimension of 1 has any stride)
            raise RuntimeError(f"self.stride(-1) must be 1 {where}, but got {steps[-1]}")
        if new > old:
            ratio = new // old
            if data.shape[-1] % ratio:
                raise RuntimeError(f"self.size(-1) must be divisible by {ratio} {where}, but got "
                                   f"{data.shape[-1]}")
            offset = storage_offset(x)
            if offset % ratio:
                raise RuntimeError(f"self.storage_offset() must be divisible by {ratio} {where}, "
                                   f"but got {offset}")
            for d, step in enumerate(steps[:-1]):
                if step % ratio and data.shape[d] != 1:
                    raise RuntimeError(f"self.stride({d}) must be divisible by {ratio} {where}, "
                                       f"but got {step}")
    if data.size == 0 or data.ndim == 0:
        shape = data.shape if old == new else data.shape[:-1] + (data.shape[-1] * old // new,)
        return as_leaf(np.zeros(shape, wanted) if data.size == 0 else data.view(wanted))
    # of another item size, a last dimension of stride 1 in NumPy's sense too, so that
    # ndarray.view reinterprets it in place (a dimension of 1 may carry any stride)
    last = data if old == new or data.strides[-1] == old else np.lib.stride_tricks.as_strided(
        data, data.shape, data.strides[:-1] + (old,))
    return as_leaf(last.view(wanted))


def adjoint(x: Tensor, name: str) -> Tensor:
    """``H`` (matrices), ``mH`` and ``adjoint()`` (batches of matrices too): the last two
    dimensions swapped (the numbers are real: nothing to conjugate); a 0-d tensor is itself,
    with PyTorch's warning."""
    import warnings

    if x.ndim == 0:
        what = name.removeprefix("tensor.")
        warnings.warn(f"{'Tensor.' + what if what in ('H', 'mH') else what} is deprecated on "
                      "0-D tensors. Consider using x.conj().", UserWarning, stacklevel=3)
        return x
    if name == "tensor.H" and x.ndim != 2:
        batches = " For batches of matrices, consider using tensor.mH" if x.ndim > 2 else ""
        raise RuntimeError(f"tensor.H is only supported on matrices (2-D tensors). Got "
                           f"{x.ndim}-D tensor.{batches}")
    if x.ndim < 2:
        raise RuntimeError(f"{name} is only supported on matrices or batches of matrices. Got "
                           f"{x.ndim}-D tensor.")
    return x.mT


# ---- nn.functional: gumbel_softmax, pdist ------------------------------------------------------


def gumbel_softmax(logits: Tensor, tau: float = 1.0, hard: bool = False, eps: float = 1e-10,
                   dim: int = -1) -> Tensor:
    """A sample of the Gumbel-softmax (concrete) distribution: softmax((logits + g) / tau)
    with g standard Gumbel noise (-log of an exponential draw, from tensorgrad's generator).
    ``hard``: the one-hot of each sample's largest entry in the forward pass, with the soft
    sample's gradient (straight-through: ``one_hot - soft.detach() + soft``)."""
    from .random import rng

    x = tensor_of(logits)
    noise = -np.log(rng(None).exponential(size=x.shape))
    gumbels = (x + as_leaf(noise.astype(x.dtype, copy=False))) / tau
    soft = gumbels.softmax(dim)
    if not hard:
        return soft
    picked = soft._data.argmax(axis=dim)
    one_hot = np.zeros(soft.shape, soft.dtype)
    np.put_along_axis(one_hot, np.expand_dims(picked, dim), 1, axis=dim)
    return as_leaf(one_hot) - soft.detach() + soft


def pdist(input: Tensor, p: float = 2) -> Tensor:
    """The ``p``-norm distances between the rows of an (N, M) tensor, each pair i < j once,
    in row-major order of the pairs: N (N - 1) / 2 of them (``cdist``'s upper triangle)."""
    x = tensor_of(input)
    if x.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {x.ndim}D")
    if x.dtype.kind != "f":
        raise RuntimeError("pdist only supports floating-point dtypes")
    if p < 0:
        raise RuntimeError("pdist only supports non-negative p values")
    first, second = np.triu_indices(x.shape[0], 1)
    differences = x[first] - x[second]
    if x.shape[1] == 0:  # (rows of no entries: all at distance 0)
        return differences.sum(-1)
    return differences.norm(p, -1)


def embedding_bag(input: Any, weight: Tensor, offsets: Any = None, max_norm: float | None = None,
                  norm_type: float = 2, scale_grad_by_freq: bool = False, mode: str = "mean",
                  sparse: bool = False, per_sample_weights: Tensor | None = None,
                  include_last_offset: bool = False, padding_idx: int | None = None) -> Tensor:
    """The rows of ``weight`` at ``input``, reduced by bag ("sum", "mean" or "max"): a 2-D
    ``input`` is one bag a row; a 1-D one is cut into bags starting at ``offsets`` (the last
    offset the end if ``include_last_offset``). An empty bag gives zeros; entries equal to
    ``padding_idx`` are left out of their bag; ``per_sample_weights`` (mode "sum") scale each
    row first. The gradients are those of the lookup and of the sum, mean or max."""
    from .functional import embedding

    if mode not in ("sum", "mean", "max"):
        raise ValueError("mode has to be one of sum, mean or max")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(
            "embedding_bag: per_sample_weights was not None. per_sample_weights is only "
            f"supported for mode='sum' (got mode='{mode}'). Please open a feature request on "
            "GitHub.")
    indices = np.asarray(tensor_of(input)._data)
    if indices.ndim == 2:
        if offsets is not None:
            raise ValueError("if input is 2D, then offsets has to be None, as input is treated "
                             "is a mini-batch of fixed length sequences. However, found offsets "
                             f"of type {type(offsets)}")
        length = indices.shape[1]
        starts = np.arange(0, indices.size, length) if length else np.zeros(indices.shape[0],
                                                                            np.int64)
        indices = indices.reshape(-1)
    elif indices.ndim == 1:
        if offsets is None or tensor_of(offsets).ndim != 1:
            raise ValueError("offsets has to be a 1D Tensor but got "
                             f"{None if offsets is None else tensor_of(offsets).ndim}")
        starts = np.asarray(tensor_of(offsets)._data).astype(np.int64)
        if starts.size and starts[0] != 0:
            raise RuntimeError("offsets[0] has to be 0, i.e., the first sequence in the "
                               "mini-batch has to start from position 0. However, got "
                               f"{starts[0]}")
        if starts.size and starts[-1] > indices.size:
            raise RuntimeError(f"offsets[-1] can not be greater than input's length "
                               f"{indices.size} but got offsets[-1] of {starts[-1]}")
        if include_last_offset:
            starts = starts[:-1]
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension "
                         f"{indices.ndim}")
    rows = tensor_of(weight).shape[0]
    outside = (indices < 0) | (indices >= rows)
    if outside.any():
        where = int(np.flatnonzero(outside)[0])
        raise RuntimeError(f"Index {where} of input takes value {indices[where]} which is not in "
                           f"the valid range [0, {rows})")
    bags = len(starts)
    bag_of = np.searchsorted(starts, np.arange(indices.size), side="right") - 1
    kept = np.ones(indices.size, bool)
    if padding_idx is not None:
        kept = indices != (padding_idx + rows if padding_idx < 0 else padding_idx)
    looked_up = embedding(indices[kept], weight, max_norm=max_norm, norm_type=norm_type,
                          scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)
    bag_of = bag_of[kept]
    zeros = as_leaf(np.zeros((bags, looked_up.shape[-1]), looked_up.dtype))
    if mode == "max":
        spread = np.broadcast_to(bag_of[:, None], looked_up.shape)
        return zeros.scatter_reduce(0, as_leaf(np.ascontiguousarray(spread)), looked_up,
                                    "amax", include_self=False)
    if per_sample_weights is not None:
        scale = tensor_of(per_sample_weights).reshape(-1)[as_leaf(np.flatnonzero(kept))]
        looked_up = looked_up * scale.unsqueeze(-1)
    summed = zeros.index_add(0, as_leaf(bag_of.astype(np.int64)), looked_up)
    if mode == "sum":
        return summed
    counts = np.maximum(np.bincount(bag_of, minlength=bags), 1).astype(looked_up.dtype)
    return summed / as_leaf(counts[:, None])


# ---- more of the Tensor's surface: comparisons, legacy constructors, memory, per element ------


def allclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
             equal_nan: bool = False) -> bool:
    """True if ``isclose`` holds everywhere (the two broadcast); as PyTorch's, ``other`` is a
    tensor of ``input``'s dtype (a number or another dtype raises)."""
    x = tensor_of(input)
    if not isinstance(other, Tensor):
        raise TypeError(f"allclose(): argument 'other' (position 1) must be Tensor, not "
                        f"{type(other).__name__}")
    if x.dtype != other.dtype:
        raise RuntimeError(f"{short_name(x.dtype)} did not match {short_name(other.dtype)}")
    if rtol < 0:
        raise RuntimeError(f"rtol must be greater than or equal to zero, but got {rtol}")
    if atol < 0:
        raise RuntimeError(f"atol must be greater than or equal to zero, but got {atol}")
    return bool(x.isclose(other, rtol, atol, equal_nan)._data.all())


def _diagonal_mask(shape: tuple[int, ...], wrap: bool) -> np.ndarray:
    """Where ``fill_diagonal_`` writes: every entry whose indices are all equal; with ``wrap``
    a tall matrix's diagonal starts again after each block of ``cols + 1`` rows (positions
    ``cols + 1`` apart in row-major order, as NumPy's ``fill_diagonal``)."""
    if len(shape) < 2:
        raise RuntimeError("dimensions must larger than 1")
    if len(shape) > 2 and len(set(shape)) > 1:
        raise RuntimeError("all dimensions of input must be of equal length")
    size = math.prod(shape)
    step = sum(math.prod(shape[d + 1:]) for d in range(len(shape)))  # one more along each
    count = min(shape)
    positions = np.arange(0, size, step) if wrap and len(shape) == 2 else \
        np.arange(count) * step
    mask = np.zeros(size, bool)
    mask[positions] = True
    return mask.reshape(shape)


def fill_diagonal_(input: Tensor, fill_value: Any, wrap: bool = False) -> Tensor:
    """Write ``fill_value`` on the main diagonal, in place (a tensor of 2 dimensions, or more
    of one length); ``wrap``: see ``_diagonal_mask``. In the graph the diagonal's gradient
    is 0, as PyTorch's."""
    from .tensor import written_in_place

    x = tensor_of(input)
    mask = as_leaf(_diagonal_mask(x.shape, bool(wrap)))
    value = np.array(fill_value).astype(x.dtype).item()  # (2.7 into an integer tensor: 2)
    return written_in_place(x, lambda: x.masked_fill(mask, value))


def new(input: Tensor, *args: Any, device: Any = None, **kwargs: Any) -> Tensor:
    """PyTorch's legacy constructor in the tensor's dtype: ``x.new()`` (empty),
    ``x.new(2, 3)`` or ``x.new(size)`` (a shape: zeros here, uninitialized in PyTorch),
    ``x.new([1, 2])`` (values), ``x.new(t)`` (a tensor of the same dtype: its memory, shared).
    It takes no ``dtype``, nor ``requires_grad``, as PyTorch's."""
    from .devices import check_device
    from .size import Size
    from .tensor import _is_size

    check_device(device)
    x = tensor_of(input)
    if kwargs:
        raise TypeError(f"new() received an invalid combination of arguments - got "
                        f"{', '.join(kwargs)}: it takes the data or the sizes, and device")
    if not args:
        return as_leaf(np.zeros(0, x.dtype))
    if len(args) == 1 and isinstance(args[0], Tensor):
        if args[0].dtype != x.dtype:
            raise TypeError(f"expected {short_name(x.dtype)} (got {short_name(args[0].dtype)})")
        return as_leaf(args[0]._data)
    if len(args) == 1 and isinstance(args[0], Size) or all(
            _is_size(n) or isinstance(n, np.integer) for n in args):  # (NumPy's ints too)
        shape = tuple(int(n) for n in (args[0] if isinstance(args[0], Size) else args))
        if any(n < 0 for n in shape):
            raise RuntimeError(f"Trying to create tensor with negative dimension "
                               f"{min(shape)}: {list(shape)}")
        return as_leaf(np.zeros(shape, x.dtype))
    if len(args) > 1:
        raise TypeError(f"new() takes sizes (ints) or one data argument, not {args!r}")
    data = args[0]
    if not isinstance(data, (Sequence, np.ndarray)) or isinstance(data, (str, bytes)):
        raise TypeError(f"new(): data must be a sequence (got {type(data).__name__})")
    with np.errstate(all="ignore"):  # (1.5 into an integer tensor: 1, as PyTorch's)
        values = np.array(data).astype(x.dtype)
    return as_leaf(values)


def _is_shared(data: np.ndarray) -> bool:
    from .tensor import _owner

    return isinstance(_owner(data).base, mmap.mmap)


def share_memory_(input: Tensor) -> Tensor:
    """Move the tensor's values into memory shared with the processes this one forks from now
    on, as PyTorch's ``share_memory_`` (a no-op where they are there already): an anonymous
    shared mapping, so that a forked child's in-place writes (an optimizer's step, as in
    Hogwild training) are seen here. Unlike PyTorch's, only forked children share it (a
    tensor pickled to a spawned process is a copy), the tensor's earlier views keep the old
    memory, and an optimizer that moves a parameter into its own buffer (Adam's) leaves it."""
    x = tensor_of(input)
    data = x._data
    if _is_shared(data):
        return x
    memory = mmap.mmap(-1, max(data.nbytes, 1))
    shared = np.ndarray(data.shape, data.dtype, buffer=memory)
    shared[...] = data
    x._data = shared
    return x


def is_shared(input: Tensor) -> bool:
    """Whether the tensor's values are in shared memory (``share_memory_``)."""
    return _is_shared(tensor_of(input)._data)


def is_inference(input: Tensor) -> bool:
    """False: a tensor made under ``inference_mode()`` here is an ordinary tensor (none of
    PyTorch's limits on inference tensors apply), so code that asks, to clone one before it
    joins a graph, takes the path that works."""
    tensor_of(input)
    return False


def _output_nr(input: Tensor) -> int:
    """Which of its op's results the tensor is: 0, each op here having one result."""
    return 0


def _element_function(x: Tensor, name: str) -> Callable[[Any], Any]:
    """What ``apply_`` and ``map_`` turn a callable's result into: a Python number of the
    tensor's kind (a float result truncated into an integer tensor, as PyTorch's)."""
    if x._requires_grad:
        raise RuntimeError(f"Can't call {name}() on Variable that requires grad. Use "
                           f"var.detach().{name}() instead.")
    kind = x.dtype.kind
    convert = bool if kind == "b" else float if kind == "f" else int

    def converted(value: Any) -> Any:
        if not isinstance(value, (int, float, np.number, np.bool_)):
            raise TypeError(f"must be real number, not {type(value).__name__}")
        return convert(value)
    return converted


def _written_each(x: Tensor, values: list) -> Tensor:
    from .tensor import note_in_place_write

    x._data[...] = np.array(values, x.dtype).reshape(x.shape)
    note_in_place_write(x._data)
    return x


def apply_(input: Tensor, callable: Callable[[Any], Any]) -> Tensor:  # noqa: A002 (PyTorch's)
    """Replace each entry by ``callable(entry)`` (entries as Python numbers), in place, as
    PyTorch's (on the CPU only, there too): a Python call per entry, outside the graph."""
    x = tensor_of(input)
    convert = _element_function(x, "apply_")
    return _written_each(x, [convert(callable(v)) for v in x._data.reshape(-1).tolist()])


def map_(input: Tensor, tensor: Tensor, callable: Callable[[Any, Any], Any]  # noqa: A002
         ) -> Tensor:
    """Replace each entry by ``callable(entry, other)``, ``other`` the entry of ``tensor``
    (of this dtype, broadcast to this shape) at its place, in place, as PyTorch's."""
    x = tensor_of(input)
    if not isinstance(tensor, Tensor):
        raise TypeError(f"map_(): argument 'other' (position 1) must be Tensor, not "
                        f"{type(tensor).__name__}")
    convert = _element_function(x, "map_")
    if tensor._requires_grad:
        raise RuntimeError("Can't call map_() on Variable that requires grad. Use "
                           "var.detach().map_() instead.")
    if tensor.dtype != x.dtype:
        raise TypeError(f"map_: expected {tensor_type(x)} for 'other' (got "
                        f"{tensor_type(tensor)})")
    others = tensor.expand(x.shape)._data.reshape(-1).tolist()
    return _written_each(x, [convert(callable(a, b))
                             for a, b in zip(x._data.reshape(-1).tolist(), others)])


def resize_(input: Tensor, *sizes: Any, memory_format: Any = None) -> Tensor:
    """Give the tensor the shape ``sizes``, as PyTorch's: the same shape changes nothing; any
    other reads the tensor's memory, from its first entry on, in order (row-major), as a
    contiguous tensor of that shape; where that memory is too short the tensor gets new
    memory holding the old values first (the rest zeros: PyTorch leaves them uninitialized).
    Not on a tensor that requires grad."""
    from .tensor import _owner

    x = tensor_of(input)
    shape = ops.shape_argument(sizes)
    if any(n < 0 for n in shape):
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(shape)}: "
                           f"{list(shape)}")
    if x._requires_grad:
        raise RuntimeError("cannot resize variables that require grad")
    data = x._data
    if shape == data.shape:
        return x
    owner = _owner(data)
    if owner.flags.c_contiguous or owner.flags.f_contiguous:  # its memory, in memory order
        memory = owner.ravel(order="K")
        start = storage_offset(x)
    else:  # (memory that is no array of its own, as a broadcast's: the values, in order)
        memory, start = data.reshape(-1), 0
    numel = math.prod(shape)
    if start + numel <= memory.size:
        x._data = memory[start:start + numel].reshape(shape)
    else:
        grown = np.zeros(numel, data.dtype)
        kept = memory[start:]
        grown[:kept.size] = kept
        x._data = grown.reshape(shape)
    return x


def resize_as_(input: Tensor, the_template: Tensor, *, memory_format: Any = None) -> Tensor:
    """``resize_`` to the shape of ``the_template``."""
    return resize_(input, *tensor_of(the_template).shape)


def nonzero_static(input: Tensor, *, size: int, fill_value: int = -1) -> Tensor:
    """``nonzero``'s coordinates with a fixed number of rows, ``size``: the first ``size``
    of them, padded with rows of ``fill_value`` (for code compiled to static shapes)."""
    x = tensor_of(input)
    if not isinstance(size, (int, np.integer)) or isinstance(size, bool) or size < 0:
        raise RuntimeError("nonzero_static: 'size' must be an non-negative integer")
    found = np.argwhere(x._data)[:size] if x.ndim else np.zeros((int(bool(x._data)), 0),
                                                                 np.int64)[:size]
    out = np.full((size, x.ndim), fill_value, np.int64)
    out[:len(found)] = found
    return as_leaf(out)


def put(input: Tensor, index: Tensor, source: Tensor, accumulate: bool = False) -> Tensor:
    """A copy of ``input`` with ``source``'s entries written at the flat (row-major) places
    ``index`` (negative from the end), or added there with ``accumulate``; the gradients are
    ``index_put``'s."""
    x, idx, src = tensor_of(input), tensor_of(index), tensor_of(source)
    if idx.dtype != np.int64:
        raise RuntimeError(f"put_(): Expected a long tensor for index, but got "
                           f"{short_name(idx.dtype)}")
    if src.dtype != x.dtype:
        raise RuntimeError(f"put_(): self and source expected to have the same dtype, but got "
                           f"self.dtype = {short_name(x.dtype)} and source.dtype = "
                           f"{short_name(src.dtype)}")
    if idx.numel() != src.numel():
        raise IndexError(f"put_(): Expected source and index to have the same number of "
                           f"elements, but got source.numel() = {src.numel()}, index.numel() "
                           f"= {idx.numel()}")
    numel = x.numel()
    places = idx._data.reshape(-1)
    outside = (places < -numel) | (places >= numel)
    if outside.any():
        raise IndexError(f"out of range: tried to access index {places[outside][0]} on a "
                         f"tensor of {numel} elements.")
    flat = x.reshape(-1).index_put((as_leaf(places),), src.reshape(-1), bool(accumulate))
    return flat.reshape(x.shape)


# ---- products: addbmm, chain_matmul ----------------------------------------------------------


def addbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta: Any = 1,
           alpha: Any = 1) -> Tensor:
    """``beta * input + alpha * sum_b batch1[b] @ batch2[b]``: the batch of products summed."""
    b1, b2 = tensor_of(batch1), tensor_of(batch2)
    for name, b in (("batch1", b1), ("batch2", b2)):
        if b.ndim < 3:
            raise IndexError(f"Dimension out of range (expected to be in range of "
                             f"[-{max(b.ndim, 1)}, {max(b.ndim, 1) - 1}], but got 2)")
        if b.ndim > 3:
            raise RuntimeError(f"{name} must be a 3D tensor")
    if b1.shape[0] != b2.shape[0]:
        raise RuntimeError(f"batch1 and batch2 must have same number of batches, got "
                           f"{b1.shape[0]} and {b2.shape[0]}")
    _same_dtype(b1, b2, "self and mat2 must have the same dtype, but got {} and {}")
    product = b1.bmm(b2).sum(0)
    target = tensor_of(input)
    if not _broadcasts_to(target.shape, product.shape):
        raise RuntimeError(f"The expanded size of the tensor ({product.shape[-1]}) must match the "
                           f"existing size ({target.shape[-1] if target.ndim else 1}) at "
                           f"non-singleton dimension 1.  Target sizes: {list(product.shape)}.  "
                           f"Tensor sizes: {list(target.shape)}")
    return _summed(target, product, beta, alpha)


def chain_matmul(*matrices: Tensor, out: Any = None) -> Tensor:
    """The product of the matrices, left to right (PyTorch's deprecated name: its warning;
    ``linalg.multi_dot`` takes a list)."""
    import warnings

    if out is not None:
        raise TypeError("chain_matmul: out= is not supported (tensorgrad returns new tensors)")
    warnings.warn("torch.chain_matmul is deprecated and will be removed in a future PyTorch "
                  "release. Use torch.linalg.multi_dot instead, which accepts a list of two or "
                  "more tensors rather than multiple parameters.", UserWarning, stacklevel=2)
    if not matrices:
        raise RuntimeError("chain_matmul(): Expected one or more matrices")
    tensors = [tensor_of(m) for m in matrices]
    for m in tensors:
        if m.ndim != 2:
            raise RuntimeError(f"Tensor dimension is {m.ndim}, expected 2 instead.")
    if len(tensors) == 1:
        return tensors[0].clone()
    result = tensors[0]
    for m in tensors[1:]:
        result = result.mm(m)
    return result


# ---- matrix functions: matrix_exp, pinverse, qr (linalg.py's) ------------------------------


def matrix_exp(A: Tensor) -> Tensor:  # noqa: N803 (PyTorch's name)
    """``torch.matrix_exp`` and ``Tensor.matrix_exp``: ``linalg.matrix_exp``."""
    from .linalg import matrix_exp as exp

    return exp(A)


def pinverse(input: Tensor, rcond: float = 1e-15) -> Tensor:
    """``torch.pinverse`` and ``Tensor.pinverse``: ``linalg.pinv`` with ``rtol=rcond``."""
    from .linalg import pinv

    return pinv(input, rtol=rcond)


def qr(input: Tensor, some: bool = True) -> Any:
    """``torch.qr`` and ``Tensor.qr``: ``linalg.qr`` in mode "reduced" (``some``) or
    "complete", with PyTorch's deprecation warning."""
    import warnings

    from .linalg import qr as linalg_qr

    warnings.warn("torch.qr is deprecated in favor of torch.linalg.qr and will be removed in a "
                  "future PyTorch release.\nThe boolean parameter 'some' has been replaced with "
                  "a string parameter 'mode'.\nQ, R = torch.qr(A, some)\nshould be replaced "
                  "with\nQ, R = torch.linalg.qr(A, 'reduced' if some else 'complete')",
                  UserWarning, stacklevel=2)
    return linalg_qr(input, "reduced" if some else "complete")


# ---- torch.* functions: conversions, and the in-place ones of the tensor's methods ----------


def asarray(obj: Any, *, dtype: Any = None, device: Any = None, copy: bool | None = None,
            requires_grad: bool | None = None) -> Tensor:
    """``obj`` as a tensor, sharing its memory where it can, as PyTorch's: a tensor itself
    (of ``dtype``: itself, else converted), a NumPy array by its memory (a copy with
    ``copy=True`` or another ``dtype``; ``copy=False`` then raises ValueError), anything else
    (numbers, nested lists) a new tensor. ``requires_grad`` unset keeps a tensor's (PyTorch's
    new default, with its warning)."""
    import warnings

    from .creation import as_dtype, as_tensor
    from .devices import check_device

    check_device(device)
    wanted = None if dtype is None else as_dtype(dtype)
    source = obj._data if isinstance(obj, Tensor) else obj if isinstance(obj, np.ndarray) \
        else None
    if source is not None:
        converted = wanted is not None and wanted != source.dtype
        if copy is False and wanted is not None and converted:
            raise ValueError(f"can't alias tensor with dtype '{short_name(source.dtype)}' into "
                             f"dtype '{short_name(wanted)}'.")
        if isinstance(obj, Tensor):
            out = obj.to(wanted) if converted else obj
            out = out.clone() if copy and out is obj else out
            if requires_grad is None:
                if obj._requires_grad:
                    warnings.warn("torch.asarray: unspecified requires_grad now defaults to "
                                  "obj.requires_grad instead of False. Pass "
                                  "requires_grad=False explicitly to get the old behavior and "
                                  "silence this warning.", UserWarning, stacklevel=2)
                return out
            # (set on the tensor itself, either way, as PyTorch's)
            return out if out._requires_grad == bool(requires_grad) else \
                out.requires_grad_(bool(requires_grad))
        out = as_tensor(source, wanted)
        if copy and out._data is source:
            out = as_leaf(source.copy())
    else:
        out = as_tensor(obj, wanted)
    return out.requires_grad_() if requires_grad else out


def frombuffer(buffer: Any, *, dtype: Any, count: int = -1, offset: int = 0,
               requires_grad: bool = False) -> Tensor:
    """A 1-D tensor over an object's memory (the buffer protocol: ``bytearray``, ``array``,
    ``mmap``), shared, from byte ``offset``, ``count`` entries (-1: to the end), as
    PyTorch's. A read-only buffer (``bytes``) gives PyTorch's warning; here its tensor is
    read-only too, so that a write raises rather than changing immutable memory."""
    import warnings

    from .creation import as_dtype

    kind = as_dtype(dtype)
    view = memoryview(buffer)
    length = view.nbytes
    if length <= 0 and count == -1 or count == 0:
        raise ValueError(f"both buffer length ({length}) and count ({count}) must not be 0")
    if offset < 0 or offset > length - 1:
        raise ValueError(f"offset ({offset} bytes) must be non-negative and no greater than "
                         f"buffer length ({length} bytes) minus 1")
    if count < 0:
        if (length - offset) % kind.itemsize:
            raise ValueError(f"buffer length ({length - offset} bytes) after offset ({offset} "
                             f"bytes) must be a multiple of element size ({kind.itemsize})")
        count = (length - offset) // kind.itemsize
    elif offset + count * kind.itemsize > length:
        raise ValueError(f"requested buffer length ({count} * {kind.itemsize} bytes) after "
                         f"offset ({offset} bytes) must not be greater than actual buffer "
                         f"length ({length} bytes)")
    if view.readonly:
        warnings.warn("The given buffer is not writable, and PyTorch does not support "
                      "non-writable tensors. This means you can write to the underlying "
                      "(supposedly non-writable) buffer using the tensor. You may want to copy "
                      "the buffer to protect its data or make it writable before converting "
                      "it to a tensor.", UserWarning, stacklevel=2)
    out = as_leaf(np.frombuffer(buffer, kind, count, offset))
    return out.requires_grad_() if requires_grad else out


def detach(input: Tensor) -> Tensor:
    """``input.detach()``: the same memory, outside the graph."""
    return tensor_of(input).detach()


def fill(input: Tensor, value: Any) -> Tensor:
    """A copy of ``input`` with every entry ``value`` (a number or a 0-d tensor, whose
    gradient is the sum of the result's; ``input``'s is 0)."""
    if isinstance(value, Tensor) and value.ndim:
        raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with "
                           f"{value.ndim} dimensions.")
    return tensor_of(input).clone().fill_(value)


def index_put_(input: Tensor, indices: Any, values: Tensor, accumulate: bool = False) -> Tensor:
    return tensor_of(input).index_put_(indices, values, accumulate)


def _method_as_function(name: str) -> Callable[..., Any]:
    """``torch.name(input, ...)``: the tensor's method ``name`` (an in-place one)."""

    def function(input: Tensor, *args: Any, **kwargs: Any) -> Any:
        return getattr(tensor_of(input), name)(*args, **kwargs)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"``input.{name}(...)``: in place."
    return function


# torch.* names that are the tensor's in-place methods (each of dir(torch) that ends in "_" and
# is a method of PyTorch's Tensor, but as_strided_, conj_physical_ and resize_as_sparse_:
# memory tricks and complex and sparse tensors, which tensorgrad has not)
IN_PLACE_FUNCTIONS = (
    "abs_", "acos_", "acosh_", "addmv_", "arccos_", "arccosh_", "arcsin_", "arcsinh_", "arctan_",
    "arctanh_", "asin_", "asinh_", "atan_", "atanh_", "ceil_", "clamp_", "clamp_max_",
    "clamp_min_", "clip_", "cos_", "cosh_", "deg2rad_", "detach_", "erf_", "erfc_", "exp2_",
    "exp_", "expm1_", "fill_", "fix_", "floor_", "frac_", "gcd_", "i0_", "lcm_", "ldexp_",
    "log10_", "log1p_", "log2_", "log_", "logit_", "nan_to_num_", "neg_", "negative_", "rad2deg_",
    "reciprocal_", "relu_", "resize_as_", "round_", "rsqrt_", "sigmoid_", "sin_", "sinc_",
    "sinh_", "sqrt_", "square_", "tan_", "tanh_", "trunc_", "xlogy_", "zero_", "index_put_")
globals().update({name: _method_as_function(name) for name in IN_PLACE_FUNCTIONS
                  if name not in globals()})  # (resize_as_ and index_put_: above)


# ---- the Tensor methods (tensor.py's stand-ins put these on the class when first used) -------


def _in_place(compute: Callable[..., Tensor]) -> Callable[..., Tensor]:
    """The in-place method of an out-of-place function of the tensor first."""
    from .tensor import written_in_place

    def method(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        return written_in_place(self, lambda: compute(self, *args, **kwargs))

    method.__name__ = method.__qualname__ = f"{compute.__name__}_"
    method.__doc__ = f"``{compute.__name__}`` written into the tensor."
    return method


def _addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta: Any = 1,
           alpha: Any = 1) -> Tensor:
    return composite.addmm(input, mat1, mat2, beta=beta, alpha=alpha)


_addmm.__name__ = "addmm"

TENSOR_METHODS: dict[str, Any] = {  # (functions, and output_nr's property)
    "addmm_": _in_place(_addmm), "addmv": addmv, "addmv_": _in_place(addmv), "addr": addr,
    "addr_": _in_place(addr), "inner": inner, "vdot": vdot, "ger": ger, "argwhere": argwhere,
    "msort": msort, "split_with_sizes": split_with_sizes,
    "unique_consecutive": unique_consecutive, "masked_scatter": masked_scatter,
    "masked_scatter_": masked_scatter_, "renorm": renorm, "renorm_": _in_place(renorm),
    "storage_offset": storage_offset, "new_empty_strided": new_empty_strided, "frexp": frexp,
    "ldexp": ldexp, "ldexp_": _in_place(ldexp), "nextafter": nextafter,
    "nextafter_": _in_place(nextafter), "diagonal_scatter": diagonal_scatter,
    "select_scatter": select_scatter, "slice_scatter": slice_scatter,
    "index_reduce": index_reduce, "index_reduce_": _in_place(index_reduce),
    "equal": torch_functions.equal, "prelu": composite.prelu, "hardshrink": composite.hardshrink,
    "allclose": allclose, "fill_diagonal_": fill_diagonal_, "new": new,
    "share_memory_": share_memory_, "is_shared": is_shared, "is_inference": is_inference,
    "output_nr": property(_output_nr), "apply_": apply_, "map_": map_, "resize_": resize_,
    "resize_as_": resize_as_, "nonzero_static": nonzero_static, "put": put,
    "put_": _in_place(put), "addbmm": addbmm, "addbmm_": _in_place(addbmm),
    "matrix_exp": matrix_exp, "pinverse": pinverse, "qr": qr,
}
