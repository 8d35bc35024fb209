"""Writing into a tensor at indices, out of place: ``scatter``, ``scatter_add``,
``index_add`` and ``index_fill``, each a ``Function`` whose forward copies the tensor and
writes into the copy, with its backward right below it. The in-place forms
(``Tensor.scatter_`` ...) write the same result into the tensor's own array (tensor.py).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .tensor import Function

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
