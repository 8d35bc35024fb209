"""``torch.*`` functions made of other ops, so that their gradients are those ops': products
with a sum (``addmm``, ``baddbmm``, ``dot``, ``mv``, ``tensordot``), distances (``cdist``),
reductions that skip NaN, ``median``, ``diff``, ``take_along_dim`` and PyTorch's other names
for ops there are (``negative``, ``absolute``, ``true_divide``, ...). Each is also a method
(``x.addmm(a, b)``) where PyTorch has one."""

from __future__ import annotations

from collections import namedtuple
from typing import Any

import numpy as np

from . import ops
from .tensor import Tensor, normalize_dim, tensor_of


def _scaled(x: Tensor, factor: Any) -> Tensor:
    return x if factor == 1 else x * factor


def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta: Any = 1,
          alpha: Any = 1) -> Tensor:
    """``beta * input + alpha * (mat1 @ mat2)``, the two matrices 2-D (GPT-2's ``Conv1D``)."""
    if tensor_of(mat1).ndim != 2 or tensor_of(mat2).ndim != 2:
        raise RuntimeError(f"addmm: mat1 and mat2 must be matrices, not {tensor_of(mat1).ndim}-D "
                           f"and {tensor_of(mat2).ndim}-D")
    product = _scaled(tensor_of(mat1) @ tensor_of(mat2), alpha)
    return product if beta == 0 else _scaled(tensor_of(input), beta) + product


def baddbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta: Any = 1,
            alpha: Any = 1) -> Tensor:
    """``beta * input + alpha * bmm(batch1, batch2)``."""
    product = _scaled(tensor_of(batch1).bmm(tensor_of(batch2)), alpha)
    return product if beta == 0 else _scaled(tensor_of(input), beta) + product


def dot(input: Tensor, other: Tensor) -> Tensor:
    """The inner product of two vectors of one length (a 0-d tensor)."""
    a, b = tensor_of(input), tensor_of(other)
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors")
    return a @ b


def mv(input: Tensor, vec: Tensor) -> Tensor:
    """A matrix times a vector."""
    a, v = tensor_of(input), tensor_of(vec)
    if a.ndim != 2 or v.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {a.ndim}D and {v.ndim}D")
    return a @ v


def tensordot(a: Tensor, b: Tensor, dims: Any = 2) -> Tensor:
    """The sum over the last ``dims`` dimensions of ``a`` and the first of ``b`` (an int), or
    over the dimensions paired in ``dims`` (two lists)."""
    a, b = tensor_of(a), tensor_of(b)
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        left, right = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        left, right = ([d] if isinstance(d, int) else list(d) for d in dims)
    left = [normalize_dim(d, a.ndim) for d in left]
    right = [normalize_dim(d, b.ndim) for d in right]
    if len(left) != len(right):
        raise RuntimeError("both dimension lists should have same length")
    letters = iter("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
    first = [next(letters) for _ in range(a.ndim)]
    second = [next(letters) for _ in range(b.ndim)]
    for i, j in zip(left, right):
        second[j] = first[i]
    kept = [c for i, c in enumerate(first) if i not in left] + \
        [c for j, c in enumerate(second) if j not in right]
    return ops.einsum(f"{''.join(first)},{''.join(second)}->{''.join(kept)}", a, b)


def cdist(x1: Tensor, x2: Tensor, p: float = 2.0) -> Tensor:
    """The ``p``-norm distance of each row of ``x1`` (..., P, M) to each row of ``x2``
    (..., R, M): (..., P, R)."""
    a, b = tensor_of(x1), tensor_of(x2)
    if a.ndim < 2 or b.ndim < 2 or a.shape[-1] != b.shape[-1]:
        raise RuntimeError(f"cdist: X1 and X2 need at least 2 dimensions and the same number "
                           f"of columns, not shapes {a.shape} and {b.shape}")
    return (a.unsqueeze(-2) - b.unsqueeze(-3)).norm(p, dim=-1)


def clamp_min(input: Tensor, min: Any) -> Tensor:  # noqa: A002 (PyTorch's name)
    return tensor_of(input).clamp(min=min)


def clamp_max(input: Tensor, max: Any) -> Tensor:  # noqa: A002 (PyTorch's name)
    return tensor_of(input).clamp(max=max)


def nansum(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """The sum with NaN entries counted as 0 (their gradient 0)."""
    x = tensor_of(input)
    return ops.where(x.isnan(), 0.0, x).sum(dim=dim, keepdim=keepdim)


def nanmean(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """The mean of the entries that are not NaN."""
    x = tensor_of(input)
    counted = (~x.isnan()).sum(dim=dim, keepdim=keepdim)
    return nansum(x, dim, keepdim) / counted


_Median = namedtuple("_Median", ["values", "indices"])


def median(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Any:
    """The lower of the two middle entries for an even count, as PyTorch's (NaN if there is
    one); along ``dim``, the named tuple ``(values, indices)``."""
    x = tensor_of(input)
    if dim is None:
        flat = x.reshape(-1)
        if not flat.numel():
            return Tensor(np.array(np.nan, x.dtype))
        return flat[_middle(flat._data.reshape(1, -1))[0, 0]]
    d = normalize_dim(dim, x.ndim)
    length = x.shape[d] if x.ndim else 1
    if not length:
        raise IndexError(f"median(): Expected reduction dim {dim} to have non-zero size.")
    if not x.ndim:
        return _Median(x, Tensor(np.zeros((), np.int64)))
    rows = np.moveaxis(x._data, d, -1)
    pick = Tensor(np.moveaxis(_middle(rows.reshape(-1, length)).reshape(
        *rows.shape[:-1], 1), -1, d))
    values = x.gather(d, pick)
    if x.ndim and not keepdim:
        values, pick = values.squeeze(d), pick.squeeze(d)
    return _Median(values, pick)


def _middle(rows: np.ndarray) -> np.ndarray:
    """For each row, the index of its lower middle entry, or of its first NaN (NaN sorts
    last); (rows, 1)."""
    order = np.argsort(rows, axis=1, kind="stable")
    counted = (~np.isnan(rows)).sum(axis=1) if rows.dtype.kind == "f" else \
        np.full(len(rows), rows.shape[1])
    at = np.where(counted < rows.shape[1], counted, (rows.shape[1] - 1) // 2)
    return np.take_along_axis(order, at[:, None], axis=1)


def diff(input: Tensor, n: int = 1, dim: int = -1, prepend: Any = None,
         append: Any = None) -> Tensor:
    """The ``n``-th differences along ``dim``, after ``prepend`` and before ``append``."""
    x = tensor_of(input)
    if not x.ndim:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    d = normalize_dim(dim, x.ndim)
    if prepend is not None or append is not None:
        parts = [tensor_of(p) for p in (prepend, x, append) if p is not None]
        x = ops.cat(parts, d)
    for _ in range(n):
        length = x.shape[d]
        if length <= 1:
            return x.narrow(d, 0, 0)
        x = x.narrow(d, 1, length - 1) - x.narrow(d, 0, length - 1)
    return x


def take_along_dim(input: Tensor, indices: Tensor, dim: int | None = None) -> Tensor:
    """The entries at ``indices`` along ``dim`` (the two broadcast elsewhere), or of the
    flattened tensor with ``dim`` None."""
    x, index = tensor_of(input), tensor_of(indices)
    if dim is None:
        return x.reshape(-1).gather(0, index.reshape(-1))
    d = normalize_dim(dim, x.ndim)
    if x.ndim != index.ndim:
        raise RuntimeError(f"torch.take_along_dim(): input and indices should have the same "
                           f"number of dimensions, but got {x.ndim} dimensions for input, and "
                           f"{index.ndim} dimensions for indices")
    shape = np.broadcast_shapes(tuple(n for i, n in enumerate(x.shape) if i != d),
                                tuple(n for i, n in enumerate(index.shape) if i != d))
    def spread(t: Tensor) -> Tensor:
        return t.expand(*shape[:d], t.shape[d], *shape[d:])
    return spread(x).gather(d, spread(index))


def std_mean(input: Tensor, dim: Any = None, *, correction: Any = 1,
             keepdim: bool = False) -> tuple[Tensor, Tensor]:
    x = tensor_of(input)
    return (x.std(dim=dim, correction=correction, keepdim=keepdim),
            x.mean(dim=dim, keepdim=keepdim))


def var_mean(input: Tensor, dim: Any = None, *, correction: Any = 1,
             keepdim: bool = False) -> tuple[Tensor, Tensor]:
    x = tensor_of(input)
    return (x.var(dim=dim, correction=correction, keepdim=keepdim),
            x.mean(dim=dim, keepdim=keepdim))


def select(input: Tensor, dim: int, index: int) -> Tensor:
    """The slice at ``index`` along ``dim``, without that dimension."""
    x = tensor_of(input)
    d = normalize_dim(dim, x.ndim)
    return x[(slice(None),) * d + (index,)]


def clone(input: Tensor) -> Tensor:
    return tensor_of(input).clone()


def negative(input: Tensor) -> Tensor:
    return -tensor_of(input)


def positive(input: Tensor) -> Tensor:
    return tensor_of(input)


def absolute(input: Tensor) -> Tensor:
    return tensor_of(input).abs()


def sgn(input: Tensor) -> Tensor:
    return tensor_of(input).sign()


def true_divide(input: Tensor, other: Any) -> Tensor:
    return tensor_of(input) / other


def floor_divide(input: Tensor, other: Any) -> Tensor:
    return tensor_of(input) // other
