"""Writing into a tensor at indices, out of place: ``scatter``, ``scatter_add``,
``index_add``, ``index_fill``, ``scatter_reduce``, ``index_copy`` and ``index_put``, each a
``Function`` whose forward copies the tensor and writes into the copy, with its backward
right below it (and the functions that check their arguments at the end). The in-place forms
(``Tensor.scatter_`` ...) write the same result into the tensor's own array (tensor.py).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .higher_order import Spread
from .ops import Index, sum_to, tensor_argument
from .tensor import Function, Tensor, normalize_dim, quiet, tensor_of

_REDUCTIONS = (None, "add", "multiply")


def _integer_index(index: np.ndarray, name: str) -> None:
    if index.dtype.kind not in "iu":
        raise RuntimeError(f"{name}(): Expected dtype int64 for index, not {index.dtype}")


def _in_bounds(picks: np.ndarray, size: int, dim: int) -> None:
    """IndexError-free indices: each in [0, size), as PyTorch's scatter family wants."""
    bad = picks[(picks < 0) | (picks >= size)]
    if bad.size:
        raise RuntimeError(f"index {bad.flat[0]} is out of bounds for dimension {dim} with "
                           f"size {size}")


def _larger(shape: tuple[int, ...], bound: tuple[int, ...], free: int | None) -> bool:
    """Whether ``shape`` exceeds ``bound`` along a dimension other than ``free``."""
    return any(n > m for d, (n, m) in enumerate(zip(shape, bound)) if d != free)


def _scatter_places(a: np.ndarray, dim: int, index: np.ndarray, src: np.ndarray | None,
                    name: str) -> tuple[tuple[Any, ...], tuple[slice, ...]]:
    """Where ``index`` writes into ``a`` (0-d arrays taken as 1-D) along ``dim``: the
    coordinates for NumPy's fancy indexing, and the part of ``src`` that is written (its
    leading block of ``index``'s shape)."""
    _integer_index(index, name)
    ndim = max(a.ndim, 1)
    picks = index.reshape(index.shape or (1,))
    if max(index.ndim, 1) != ndim:
        raise RuntimeError("Index tensor must have the same number of dimensions as self "
                           "tensor")
    shape = a.shape or (1,)
    too_large = _larger(picks.shape, shape, dim)
    if src is not None:
        if max(src.ndim, 1) != ndim:
            raise RuntimeError("Index tensor must have the same number of dimensions as src "
                               "tensor")
        too_large = too_large or _larger(picks.shape, src.shape or (1,), None)
    if too_large:
        raise RuntimeError(f"Expected index {list(index.shape)} to be no larger than self "
                           f"{list(a.shape)} apart from dimension {dim}" + (
                               "" if src is None else
                               f" and to be no larger size than src {list(src.shape)}"))
    _in_bounds(picks, shape[dim], dim)
    coordinates: list[Any] = list(np.indices(picks.shape, sparse=True))
    coordinates[dim] = picks
    sizes: tuple[int, ...] = picks.shape
    block = tuple(slice(0, n) for n in sizes)
    return tuple(coordinates), block


def _checked_reduce(reduce: str | None) -> None:
    if reduce not in _REDUCTIONS:
        raise RuntimeError("reduce argument must be either add or multiply.")


def _refuse_reduce_backward(reduce: str | None) -> None:
    if reduce is not None:  # (PyTorch computes no gradient of these either)
        raise RuntimeError(f"the derivative of scatter with reduce={reduce!r} is not "
                           "implemented")


class Scatter(Function):
    """``scatter(a, dim, index, src, reduce)``: a copy of ``a`` with, for dim 0,
    out[index[i][j]][j] = src[i][j] (``reduce`` "add" or "multiply": combined with what is
    there). Where indices repeat, one of the values wins (the last here). Gradients: ``a``'s
    flows where nothing was written, ``src``'s is the output's gradient at the written places
    (none with ``reduce``, as in PyTorch)."""

    @staticmethod
    def forward(ctx, a, dim, index, src, reduce):
        _checked_reduce(reduce)
        if src.dtype != a.dtype:
            raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")
        places, block = _scatter_places(a, dim, index, src, "scatter")
        out = a.reshape(a.shape or (1,)).copy()
        values = src.reshape(src.shape or (1,))[block]
        if reduce is None:
            out[places] = values
        else:
            (np.add if reduce == "add" else np.multiply).at(out, places, values)
        ctx.save_for_backward(places)
        ctx.block, ctx.src_shape, ctx.reduce = block, src.shape, reduce
        return out.reshape(a.shape)

    @staticmethod
    def backward(ctx, grad):
        _refuse_reduce_backward(ctx.reduce)
        (places,) = ctx.saved_tensors
        flat = grad.reshape(grad.shape or (1,))
        grad_a = flat.copy()
        grad_a[places] = 0
        grad_src = np.zeros(ctx.src_shape or (1,), grad.dtype)
        grad_src[ctx.block] = flat[places]
        return (grad_a.reshape(grad.shape), None, None, grad_src.reshape(ctx.src_shape),
                None)


class ScatterValue(Function):
    """``scatter(a, dim, index, value, reduce)`` of a number: ``value`` (in ``a``'s dtype) at
    the places ``index`` names, as ``Scatter``; ``a``'s gradient flows elsewhere."""

    @staticmethod
    def forward(ctx, a, dim, index, value, reduce):
        _checked_reduce(reduce)
        places, _ = _scatter_places(a, dim, index, None, "scatter")
        out = a.reshape(a.shape or (1,)).copy()
        if reduce is None:
            out[places] = value
        else:
            values = np.full(places[dim].shape, value).astype(a.dtype, copy=False)
            (np.add if reduce == "add" else np.multiply).at(out, places, values)
        ctx.save_for_backward(places)
        ctx.reduce = reduce
        return out.reshape(a.shape)

    @staticmethod
    def backward(ctx, grad):
        _refuse_reduce_backward(ctx.reduce)
        (places,) = ctx.saved_tensors
        grad_a = grad.reshape(grad.shape or (1,)).copy()
        grad_a[places] = 0
        return grad_a.reshape(grad.shape), None, None, None, None


class ScatterAdd(Function):
    """``scatter_add(a, dim, index, src)``: a copy of ``a`` with, for dim 0,
    out[index[i][j]][j] += src[i][j], repeated indices adding up. Gradients: ``a``'s is the
    output's, ``src``'s the output's at the places written."""

    @staticmethod
    @quiet
    def forward(ctx, a, dim, index, src):
        if src.dtype != a.dtype:
            raise RuntimeError("scatter_add(): Expected self.dtype to be equal to src.dtype")
        places, block = _scatter_places(a, dim, index, src, "scatter_add")
        out = a.reshape(a.shape or (1,)).copy()
        np.add.at(out, places, src.reshape(src.shape or (1,))[block])
        ctx.save_for_backward(places)
        ctx.block, ctx.src_shape = block, src.shape
        return out.reshape(a.shape)

    @staticmethod
    def backward(ctx, grad):
        (places,) = ctx.saved_tensors
        grad_src = np.zeros(ctx.src_shape or (1,), grad.dtype)
        grad_src[ctx.block] = grad.reshape(grad.shape or (1,))[places]
        return grad, None, None, grad_src.reshape(ctx.src_shape)

    @staticmethod
    def recorded_backward(ctx, grad):
        (places,) = ctx.saved_tensors
        shape = ctx.src_shape or (1,)
        picked = Index.apply(grad.reshape(tuple(grad.shape) or (1,)), places)
        return grad, None, None, Spread.apply(picked, ctx.block, shape).reshape(ctx.src_shape)


def _index_vector(a: np.ndarray, dim: int, index: np.ndarray, name: str) -> np.ndarray:
    """``index`` (a vector, or a 0-d index as one entry) checked against ``a``'s ``dim``."""
    _integer_index(index, name)
    if index.ndim > 1:  # (PyTorch's two ops say it two ways)
        if name == "index_fill_":
            raise RuntimeError("Index has to be a vector/scalar")
        raise IndexError(f"{name}(): Index is supposed to be a vector, but got dim: "
                         f"{index.ndim} with size: {list(index.shape)}")
    picks = index.reshape(-1)
    _in_bounds(picks, (a.shape or (1,))[dim], dim)
    return picks


class IndexAdd(Function):
    """``index_add(a, dim, index, source, alpha)``: a copy of ``a`` with ``alpha`` times
    source's i-th slice along ``dim`` added to slice ``index[i]`` (repeats add up).
    Gradients: ``a``'s is the output's; ``source``'s is ``alpha`` times the output's slices
    at ``index``."""

    @staticmethod
    @quiet
    def forward(ctx, a, dim, index, source, alpha):
        picks = _index_vector(a, dim, index, "index_add_")
        if source.dtype != a.dtype:
            raise RuntimeError(f"index_add_(): self ({a.dtype}) and source ({source.dtype}) "
                               "must have the same scalar type")
        shape = a.shape or (1,)
        slices = source.reshape(source.shape or (1,))
        wanted = shape[:dim] + (picks.size,) + shape[dim + 1:]
        if slices.shape != wanted:
            raise RuntimeError(f"source tensor shape must match self tensor shape, excluding "
                               f"the specified dimension. Got self.shape = {list(a.shape)} "
                               f"source.shape = {list(source.shape)}")
        if a.dtype.kind in "biu":
            alpha = int(alpha)  # (as PyTorch: into integers, a float alpha is truncated)
        out = a.reshape(shape).copy()
        np.add.at(np.moveaxis(out, dim, 0), picks,
                  np.moveaxis(slices if alpha == 1 else slices * alpha, dim, 0)
                  .astype(a.dtype, copy=False))
        ctx.save_for_backward(picks)
        ctx.dim, ctx.alpha, ctx.source_shape = dim, alpha, source.shape
        return out.reshape(a.shape)

    @staticmethod
    def backward(ctx, grad):
        (picks,) = ctx.saved_tensors
        taken = np.take(grad.reshape(grad.shape or (1,)), picks, axis=ctx.dim)
        if ctx.alpha != 1:
            taken = taken * ctx.alpha
        return grad, None, None, taken.reshape(ctx.source_shape), None

    @staticmethod
    def recorded_backward(ctx, grad):
        (picks,) = ctx.saved_tensors
        rows = grad.reshape(tuple(grad.shape) or (1,))
        picked = Index.apply(rows, (slice(None),) * ctx.dim + (picks,))
        return grad, None, None, (picked * ctx.alpha).reshape(ctx.source_shape), None


class IndexFill(Function):
    """``index_fill(a, dim, index, value)``: a copy of ``a`` with its slices along ``dim`` at
    ``index`` set to ``value`` (a number or a 0-d tensor, in ``a``'s dtype). Gradients:
    ``a``'s flows outside those slices; a tensor ``value``'s is the sum of the output's
    gradient over them (each slice once, however often it is named)."""

    @staticmethod
    def forward(ctx, a, dim, index, value):
        picks = _index_vector(a, dim, index, "index_fill_")
        if np.ndim(value):
            raise RuntimeError(f"index_fill_ only supports a 0-dimensional value tensor, but "
                               f"got tensor with {np.ndim(value)} dimension(s).")
        out = a.reshape(a.shape or (1,)).copy()
        np.moveaxis(out, dim, 0)[picks] = value
        ctx.save_for_backward(picks)
        ctx.dim, ctx.value_is_tensor = dim, isinstance(value, np.ndarray)
        return out.reshape(a.shape)

    @staticmethod
    def backward(ctx, grad):
        (picks,) = ctx.saved_tensors
        grad_a = grad.reshape(grad.shape or (1,)).copy()
        filled = np.moveaxis(grad_a, ctx.dim, 0)
        grad_value = None
        if ctx.value_is_tensor:
            grad_value = filled[np.unique(picks)].sum()
        filled[picks] = 0
        return grad_a.reshape(grad.shape), None, None, grad_value


_SCATTER_REDUCTIONS = {"sum": np.add, "prod": np.multiply, "mean": np.add, "amax": np.maximum,
                       "amin": np.minimum}


def _identity(reduce: str, dtype: np.dtype) -> Any:
    """What a reduction starts from where ``include_self=False`` leaves the tensor's entry out."""
    if reduce in ("amax", "amin"):
        if dtype.kind == "f":
            return -np.inf if reduce == "amax" else np.inf
        if dtype.kind == "b":
            return reduce == "amin"
        info = np.iinfo(dtype)
        return info.min if reduce == "amax" else info.max
    return 1 if reduce == "prod" else 0


class ScatterReduce(Function):
    """``scatter_reduce(a, dim, index, src, reduce, include_self)``: a copy of ``a`` with, for
    dim 0, src[i][j] combined into out[index[i][j]][j] by ``reduce`` ("sum", "prod", "mean",
    "amax" or "amin"), starting from ``a``'s entry (``include_self``) or without it; a mean of
    integers rounds down. Gradients are PyTorch's for all but "prod" (refused): a mean shares
    it among what was averaged, and tied extremes share it equally, counting ``a``'s entries
    equal to the result even where ``include_self`` left them out (as PyTorch counts them)."""

    @staticmethod
    @quiet
    def forward(ctx, a, dim, index, src, reduce, include_self):
        if reduce not in _SCATTER_REDUCTIONS:
            raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, "
                               f"got {reduce}")
        if src.dtype != a.dtype:
            raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")
        places, block = _scatter_places(a, dim, index, src, "scatter_reduce")
        values = src.reshape(src.shape or (1,))[block]
        out = a.reshape(a.shape or (1,)).copy()
        hit = np.zeros(out.shape, bool)
        hit[places] = True
        if not include_self:
            out[hit] = _identity(reduce, a.dtype)
        _SCATTER_REDUCTIONS[reduce].at(out, places, values)
        count = None
        if reduce == "mean":
            count = np.zeros(out.shape, np.int64)
            np.add.at(count, places, 1)
            count = np.where(hit, count + include_self, 1)  # (1: untouched entries stay)
            out = out // count if a.dtype.kind in "biu" else (out / count).astype(a.dtype)
        ctx.save_for_backward(a, out, values, places, hit, count)
        ctx.reduce, ctx.include_self, ctx.src_shape = reduce, include_self, src.shape
        ctx.block = block
        return out.reshape(a.shape)

    @staticmethod
    def backward(ctx, grad):
        a, out, values, places, hit, count = ctx.saved_tensors
        reduce = ctx.reduce
        g = grad.reshape(out.shape)
        # (NaN where PyTorch has NaN)
        if reduce == "sum":
            grad_a, picked = g, g[places]
        elif reduce == "mean":
            shared = g / count
            grad_a, picked = shared, shared[places]
        elif reduce in ("amax", "amin"):
            a_chosen = a.reshape(out.shape) == out
            src_chosen = values == out[places]
            chosen = a_chosen.astype(np.int64)
            np.add.at(chosen, places, src_chosen)
            shared = g / chosen
            grad_a, picked = a_chosen * shared, src_chosen * shared[places]
        else:
            raise NotImplementedError("the derivative of scatter_reduce with reduce='prod' "
                                      "is not implemented")
        if not ctx.include_self:
            grad_a = np.where(hit, 0, grad_a)
        grad_src = np.zeros(ctx.src_shape or (1,), grad.dtype)
        grad_src[ctx.block] = picked
        return (grad_a.astype(grad.dtype, copy=False).reshape(grad.shape), None, None,
                grad_src.reshape(ctx.src_shape), None, None)


class IndexCopy(Function):
    """``index_copy(a, dim, index, source)``: a copy of ``a`` with slice ``index[i]`` along
    ``dim`` replaced by source's i-th slice (of repeated indices, one wins). Gradients:
    ``a``'s outside the slices written, ``source``'s the output's at ``index``."""

    @staticmethod
    def forward(ctx, a, dim, index, source):
        if index.dtype.kind not in "iu":
            raise RuntimeError(f"index_copy_(): Expected a long tensor for index, but got "
                               f"{index.dtype}")
        if source.dtype != a.dtype:
            raise RuntimeError(f"index_copy_(): self and source expected to have the same "
                               f"dtype, but got (self) {a.dtype} and (source) {source.dtype}")
        if index.ndim > 1:
            raise IndexError("index_copy_(): Index should have dimension 1 or 0 (got "
                             f"{index.ndim})")
        picks = index.reshape(-1)
        shape = a.shape or (1,)
        slices = source.reshape(source.shape or (1,))
        if slices.ndim != len(shape) or any(n != m for d, (n, m) in
                                            enumerate(zip(slices.shape, shape)) if d != dim):
            raise RuntimeError(f"index_copy_(): Source/destination tensor must have same "
                               f"slice shapes. Destination shape: {list(a.shape)}, source "
                               f"shape: {list(source.shape)}")
        if slices.shape[dim] != picks.size:
            raise IndexError(f"index_copy_(): Number of indices ({picks.size}) should be equal "
                             f"to source.size(dim) ({slices.shape[dim]})")
        bad = picks[(picks < 0) | (picks >= shape[dim])]
        if bad.size:
            raise IndexError(f"index_copy_(): index {bad[0]} is out of bounds for dimension "
                             f"{dim} with size {shape[dim]}")
        out = a.reshape(shape).copy()
        np.moveaxis(out, dim, 0)[picks] = np.moveaxis(slices, dim, 0)
        ctx.save_for_backward(picks)
        ctx.dim, ctx.source_shape = dim, source.shape
        return out.reshape(a.shape)

    @staticmethod
    def backward(ctx, grad):
        (picks,) = ctx.saved_tensors
        flat = grad.reshape(grad.shape or (1,))
        grad_a = flat.copy()
        np.moveaxis(grad_a, ctx.dim, 0)[picks] = 0
        grad_source = np.take(flat, picks, axis=ctx.dim)
        return grad_a.reshape(grad.shape), None, None, grad_source.reshape(ctx.source_shape)


def _put_index(indices: Any) -> tuple[Any, ...]:
    """``index_put``'s tuple of index tensors (None: a whole dim) as a NumPy index."""
    if not isinstance(indices, (tuple, list)):
        raise TypeError("index_put(): indices must be a tuple (or list) of tensors")
    out: list[Any] = []
    for i in indices:
        if i is None:
            out.append(slice(None))
            continue
        array = i._data if isinstance(i, Tensor) else np.asarray(i)
        if array.dtype.kind not in "biu":
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        out.append(array)
    return tuple(out)


class IndexPut(Function):
    """``index_put(a, index, values, accumulate)``: a copy of ``a`` with ``values``
    (broadcast) written at ``a[index]``, or added there (``accumulate``: repeated places add
    up). Gradients: ``a``'s, the output's except at the places written (all of it with
    ``accumulate``); ``values``', the output's at them, summed to its shape."""

    @staticmethod
    @quiet
    def forward(ctx, a, index, values, accumulate):
        if values.dtype != a.dtype:
            raise RuntimeError(f"Index put requires the source and destination dtypes match, "
                               f"got {a.dtype} for the destination and {values.dtype} for "
                               f"the source.")
        out = a.copy()
        try:
            target = out[index].shape
        except IndexError as error:
            raise IndexError(f"index_put: {error}") from None
        try:
            spread = np.broadcast_to(values, target)
        except ValueError:
            raise RuntimeError(f"shape mismatch: value tensor of shape {list(values.shape)} "
                               f"cannot be broadcast to indexing result of shape "
                               f"{list(target)}") from None
        if accumulate:
            np.add.at(out, index, spread)
        else:
            out[index] = spread
        ctx.save_for_backward(index)
        ctx.accumulate, ctx.values_shape = accumulate, values.shape
        return out

    @staticmethod
    def backward(ctx, grad):
        (index,) = ctx.saved_tensors
        grad_a = grad
        if not ctx.accumulate:
            grad_a = grad.copy()
            grad_a[index] = 0
        return grad_a, None, sum_to(grad[index], ctx.values_shape), None


# ---- the functions (and Tensor's methods, which call them) -------------------------------------


def scatter_reduce(input: Tensor, dim: int, index: Tensor, src: Tensor, reduce: str, *,
                   include_self: bool = True) -> Tensor:
    """A copy of ``input`` with ``src``'s entries combined by ``reduce`` ("sum", "prod",
    "mean", "amax", "amin") into the places ``index`` names along ``dim`` (for dim 0,
    out[index[i][j]][j]), with ``input``'s entry there unless not ``include_self``::

        tg.zeros(2).scatter_reduce(0, tg.tensor([0, 0, 1]), tg.tensor([1.0, 3.0, 5.0]), "amax")
        # [3., 5.]
    """
    x = tensor_of(input)
    return ScatterReduce.apply(x, normalize_dim(dim, x.ndim),
                               tensor_argument(index, "scatter_reduce", "the index"),
                               tensor_argument(src, "scatter_reduce", "src"), reduce,
                               bool(include_self))


def index_copy(input: Tensor, dim: int, index: Tensor, source: Tensor) -> Tensor:
    """A copy of ``input`` with its slices along ``dim`` at ``index`` replaced by
    ``source``'s, in order::

        tg.zeros(3).index_copy(0, tg.tensor([2, 0]), tg.tensor([5.0, 6.0]))  # [6., 0., 5.]
    """
    x = tensor_of(input)
    return IndexCopy.apply(x, normalize_dim(dim, x.ndim),
                           tensor_argument(index, "index_copy", "the index"),
                           tensor_argument(source, "index_copy", "source"))


def assigned(input: Tensor, index: Any, value: Any) -> Tensor:
    """A copy of ``input`` with ``value`` (cast to its dtype, broadcast) written at
    ``input[index]`` (an index NumPy takes): ``x[index] = value`` as an op of the graph."""
    values = tensor_of(value)
    shape = values._data.shape
    if shape[:1] == (1,):  # as set_items: a value's leading dimensions of length 1 go first
        values = values.reshape(shape[next((i for i, n in enumerate(shape) if n != 1),
                                           len(shape)):])
    if values._data.dtype != input._data.dtype:
        values = values.to(input._data.dtype)
    return IndexPut.apply(input, index, values, False)


def index_put(input: Tensor, indices: Any, values: Tensor, accumulate: bool = False) -> Tensor:
    """A copy of ``input`` with ``values`` written at ``input[indices]`` (a tuple of index
    tensors), or added there with ``accumulate`` (repeated places then add up)::

        tg.zeros(3).index_put((tg.tensor([0, 0]),), tg.tensor(1.0), accumulate=True)
        # [2., 0., 0.]
    """
    return IndexPut.apply(tensor_of(input), _put_index(indices),
                          tensor_argument(values, "index_put", "values"), bool(accumulate))
