"""``torch.*`` functions made of other ops, so that their gradients are those ops': products
with a sum (``addmm``, ``baddbmm``, ``dot``, ``mv``, ``tensordot``), distances (``cdist``),
reductions that skip NaN, ``median``, ``diff``, ``take_along_dim`` and PyTorch's other names
for ops there are (``negative``, ``absolute``, ``true_divide``, ...). Each is also a method
(``x.addmm(a, b)``) where PyTorch has one."""

from __future__ import annotations

import itertools
import math
import operator
import warnings
from collections import namedtuple
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import dtypes, ops, special, torch_functions
from .dtypes import short_name
from .higher_order import constant, flat, needs_grad, shape_of, summed_to, times_slope
from .statistics import SharedAmongEqual
from .tensor import Function, Tensor, as_leaf, normalize_dim, quiet, tensor_of


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


def cdist(x1: Tensor, x2: Tensor, p: float = 2.0, compute_mode: str | None = None) -> Tensor:
    """The ``p``-norm distance of each row of ``x1`` (..., P, M) to each row of ``x2``
    (..., R, M): (..., P, R). ``compute_mode`` is taken and not needed: the distances are
    always computed directly (PyTorch's matrix-product modes only round differently)."""
    a, b = tensor_of(x1), tensor_of(x2)
    if a.ndim < 2 or b.ndim < 2 or a.shape[-1] != b.shape[-1]:
        raise RuntimeError(f"cdist: X1 and X2 need at least 2 dimensions and the same number "
                           f"of columns, not shapes {a.shape} and {b.shape}")
    return (a.unsqueeze(-2) - b.unsqueeze(-3)).norm(p, dim=-1)


def clamp_min(input: Tensor, min: Any) -> Tensor:  # noqa: A002 (PyTorch's name)
    return tensor_of(input).clamp(min=min)


def clamp_max(input: Tensor, max: Any) -> Tensor:  # noqa: A002 (PyTorch's name)
    return tensor_of(input).clamp(max=max)


def nansum(input: Tensor, dim: Any = None, keepdim: bool = False, *,
           dtype: Any = None) -> Tensor:
    """The sum with NaN entries counted as 0 (their gradient 0); of integers or booleans,
    their sum (int64); with ``dtype``, of the entries converted to it."""
    x = tensor_of(input)
    if dtype is not None:
        x = x.to(dtype)
    if x.dtype.kind != "f":
        return x.sum(dim=dim, keepdim=keepdim)
    return ops.where(x.isnan(), 0.0, x).sum(dim=dim, keepdim=keepdim)


def nanmean(input: Tensor, dim: Any = None, keepdim: bool = False, *,
            dtype: Any = None) -> Tensor:
    """The mean of the entries that are not NaN (of floating tensors only, as PyTorch's,
    even with a floating ``dtype``); with ``dtype``, of the entries converted to it."""
    x = tensor_of(input)
    if x.dtype.kind != "f":
        raise RuntimeError(f"nanmean(): expected input to have floating point or complex dtype "
                           f"but got {short_name(x.dtype)}")
    if dtype is not None:
        x = x.to(dtype)
    counted = (~x.isnan()).sum(dim=dim, keepdim=keepdim)
    return nansum(x, dim, keepdim) / counted


_Median = namedtuple("_Median", ["values", "indices"])


def median(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Any:
    """The lower of the two middle entries for an even count, as PyTorch's (NaN if there is
    one); along ``dim``, the named tuple ``(values, indices)``."""
    x = tensor_of(input)
    if x.dtype == bool:
        raise NotImplementedError(f'"median_{"cpu" if dim is None else "out"}" not implemented '
                                  "for 'Bool'")
    if dim is None:
        flat = x.reshape(-1)
        if not flat.numel():
            # NaN, in the graph (integers: NaN cast, as PyTorch's, their lowest value)
            nothing = np.nan if x.dtype.kind == "f" else np.iinfo(x.dtype).min
            return SharedAmongEqual.apply(x, np.array(nothing, x.dtype))
        # (the gradient shared by the entries equal to it, as PyTorch's)
        middle = flat._data[_middle(flat._data.reshape(1, -1))[0, 0]]
        return SharedAmongEqual.apply(x, np.asarray(middle))
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


def std_mean(input: Tensor, dim: Any = None, unbiased: bool = True, keepdim: bool = False, *,
             correction: Any = None) -> tuple[Tensor, Tensor]:
    """``(std, mean)`` over ``dim``, ``std`` as ``Tensor.std`` takes its arguments."""
    x = tensor_of(input)
    if isinstance(dim, bool):  # PyTorch's std_mean(input, unbiased) overload
        dim, unbiased = None, dim
    return (x.std(dim, unbiased, keepdim, correction=correction),
            x.mean(dim=dim, keepdim=keepdim))


def var_mean(input: Tensor, dim: Any = None, unbiased: bool = True, keepdim: bool = False, *,
             correction: Any = None) -> tuple[Tensor, Tensor]:
    """``(var, mean)`` over ``dim``, ``var`` as ``Tensor.var`` takes its arguments."""
    x = tensor_of(input)
    if isinstance(dim, bool):  # PyTorch's var_mean(input, unbiased) overload
        dim, unbiased = None, dim
    return (x.var(dim, unbiased, keepdim, correction=correction),
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
    return +tensor_of(input)


def absolute(input: Tensor) -> Tensor:
    return tensor_of(input).abs()


def sgn(input: Tensor) -> Tensor:
    return tensor_of(input).sign()


def true_divide(input: Tensor, other: Any) -> Tensor:
    return tensor_of(input) / other


def floor_divide(input: Tensor, other: Any) -> Tensor:
    return tensor_of(input) // other


# ---- PyTorch's functions for the arithmetic operators, and their other names --------------------


def _data(x: Any) -> Any:
    return x._data if isinstance(x, Tensor) else x


def _times_alpha(operands: tuple[Any, Any], scaled: Any, alpha: Any) -> Any:
    """``alpha * scaled``, for ``add``, ``sub`` and ``rsub`` on ``operands``: the dtype is
    theirs alone, as PyTorch's (an integer tensor scaled by 2.5 into a float32 sum stays
    float32); a float ``alpha`` with integer operands is refused."""
    dtype = ops.result_dtype(*map(_data, operands))
    if isinstance(alpha, (bool, np.bool_)):
        if dtype.kind != "b":
            raise RuntimeError("Boolean alpha only supported for Boolean results.")
        return scaled if alpha else scaled * False
    if alpha == 1:
        return scaled
    if dtype.kind in "biu" and not isinstance(alpha, (int, np.integer)):
        raise RuntimeError("For integral input tensors, argument alpha must not be a floating "
                           "point number.")
    if isinstance(scaled, Tensor) and scaled._data.dtype != dtype:
        scaled = ops.Cast.apply(scaled, dtype)
    return scaled * alpha


def add(input: Tensor, other: Any, *, alpha: Any = 1) -> Tensor:
    """``input + alpha * other``, broadcast::

        add(tensor([1.0, 2.0]), tensor([10.0, 20.0]), alpha=0.5)    # [6., 12.]
    """
    x = tensor_of(input)
    return x + _times_alpha((x, other), other, alpha)


def sub(input: Tensor, other: Any, *, alpha: Any = 1) -> Tensor:
    """``input - alpha * other``, broadcast."""
    x = tensor_of(input)
    return x - _times_alpha((x, other), other, alpha)


subtract = sub


def rsub(input: Tensor, other: Any, *, alpha: Any = 1) -> Tensor:
    """``other - alpha * input`` (the operands of ``sub`` swapped)."""
    x = tensor_of(input)
    scaled = _times_alpha((x, other), x, alpha)
    return other - scaled if isinstance(other, Tensor) else scaled.__rsub__(other)


def mul(input: Tensor, other: Any) -> Tensor:
    """``input * other``, broadcast."""
    return tensor_of(input) * other


multiply = mul


class _TruncDivide(Function):
    """``a / b`` rounded toward zero, integers exactly; as PyTorch's, its gradient is 0."""

    @staticmethod
    @quiet
    def forward(ctx, a, b):
        a, b = ops._operands(a, b)
        if a.dtype.kind == "b":
            raise NotImplementedError("\"div_trunc_cpu\" not implemented for 'Bool'")
        ops._check_divisor(a, b)
        ctx.shapes = a.shape, b.shape
        if a.dtype.kind == "f":
            return np.trunc(ops._broadcasting(np.divide, a, b, "div"))
        # floor division, then one up where it rounded a negative inexact quotient down
        floored = ops._broadcasting(np.floor_divide, a, b, "div")
        inexact = np.remainder(a, b) != 0
        return floored + (inexact & ((a < 0) != (b < 0))).astype(floored.dtype)

    @staticmethod
    def backward(ctx, grad):
        return tuple(np.zeros(shape, grad.dtype) for shape in ctx.shapes)

    recorded_backward = staticmethod(flat)


def div(input: Tensor, other: Any, *, rounding_mode: str | None = None) -> Tensor:
    """``input / other`` (always floating), or rounded toward zero (``rounding_mode="trunc"``)
    or down (``"floor"``) in the operands' dtype::

        div(tensor([7, -7]), 2, rounding_mode="trunc")    # [3, -3]
    """
    x = tensor_of(input)
    if rounding_mode is None:
        return x / other
    if rounding_mode == "trunc":
        return _TruncDivide.apply(x, other)
    if rounding_mode == "floor":
        return x // other
    raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but "
                       f"found '{rounding_mode}'")


divide = div


def neg(input: Tensor) -> Tensor:
    return -tensor_of(input)


def reciprocal(input: Tensor) -> Tensor:
    """``1 / input``, floating."""
    return tensor_of(input).reciprocal()


class _Erfc(Function):
    """1 - erf(a), accurate where erf(a) is close to 1."""

    @staticmethod
    @quiet
    def forward(ctx, a):
        a = ops.floating(a)
        ctx.save_for_backward(a)
        return special.erfc(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad * ((-2 / math.sqrt(math.pi)) * np.exp(-a * a))

    recorded_backward = staticmethod(times_slope(
        lambda a: (-2 / math.sqrt(math.pi)) * (-a * a).exp()))


def erfc(input: Tensor) -> Tensor:
    """The complementary error function, 1 - erf(x), without erf's cancellation for large x::

        erfc(tensor([0.0, 10.0]))    # [1., 2.0885e-45]
    """
    return _Erfc.apply(tensor_of(input))


# PyTorch's longer names for the comparisons
greater, greater_equal, less, less_equal, not_equal = torch_functions.gt, torch_functions.ge, \
    torch_functions.lt, torch_functions.le, torch_functions.ne


def _bitwise(op: np.ufunc, name: str, input: Any, other: Any = None) -> Tensor:
    """``op`` of boolean or integer operands, outside the graph; floating ones raise
    NotImplementedError, PyTorch's type."""
    x = tensor_of(input)
    dtype = x._data.dtype if other is None else ops.result_dtype(x._data, _data(other))
    if dtype.kind not in "biu":
        raise NotImplementedError(f'"{name}_cpu" not implemented for \'{short_name(dtype)}\'')
    return ops.logical(op, x, other)


def bitwise_and(input: Tensor, other: Any) -> Tensor:
    """The bits set in both (for booleans: logical and)."""
    return _bitwise(np.bitwise_and, "bitwise_and", input, other)


def bitwise_or(input: Tensor, other: Any) -> Tensor:
    return _bitwise(np.bitwise_or, "bitwise_or", input, other)


def bitwise_xor(input: Tensor, other: Any) -> Tensor:
    return _bitwise(np.bitwise_xor, "bitwise_xor", input, other)


def bitwise_not(input: Tensor) -> Tensor:
    """Every bit flipped (for booleans: logical not)."""
    return _bitwise(np.invert, "bitwise_not", input)


def bitwise_left_shift(input: Any, other: Any) -> Tensor:
    """``input << other`` of integer operands, outside the graph; a shift by a negative
    amount, or by the type's width or more, leaves 0 (NumPy's and PyTorch's rule)::

        bitwise_left_shift(tensor([1, 3]), tensor([2, 64]))  # [4, 0]
    """
    return _shifted(np.left_shift, "lshift", input, other)


def bitwise_right_shift(input: Any, other: Any) -> Tensor:
    """``input >> other`` of integer operands (the sign kept); a shift by a negative amount,
    or by the type's width or more, leaves 0, or -1 for a negative ``input``."""
    return _shifted(np.right_shift, "rshift", input, other)


def _shifted(shift: np.ufunc, name: str, input: Any, other: Any) -> Tensor:
    if ops.result_dtype(_data(input), _data(other)).kind == "b":  # (PyTorch has no shift of
        raise NotImplementedError(f'"{name}_cpu" not implemented for \'Bool\'')  # booleans)
    return _bitwise(shift, name, input, other)


# NumPy's names for the inverse trigonometric functions, which PyTorch has too
arcsin, arccos, arctan, arctan2 = torch_functions.asin, torch_functions.acos, \
    torch_functions.atan, torch_functions.atan2
arcsinh, arccosh, arctanh = torch_functions.asinh, torch_functions.acosh, torch_functions.atanh


def fix(input: Tensor) -> Tensor:
    """``trunc``: each entry rounded toward zero."""
    return tensor_of(input).trunc()


def in_place_view(a: Tensor, view: Callable[[], Tensor]) -> Tensor:
    """``a`` turned, in place, into ``view()`` (a view of it of another shape: ``t_``,
    ``squeeze_``, ...), where in-place ops are allowed; its entries are not written."""
    ops.check_in_place(a)
    a._data = view()._data
    return a


# ---- shapes: more ways to join, split, turn and flip ------------------------------------------


def _tensors(tensors: tuple[Any, ...]) -> tuple[list[Tensor], bool]:
    """The tensors of ``atleast_*``'s arguments (one tensor, several, or one list of them),
    and whether one tensor alone was given."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        return [tensor_of(t) for t in tensors[0]], False
    for t in tensors:
        if not isinstance(t, Tensor):
            raise TypeError(f"atleast_nd() takes tensors, not {type(t).__name__}")
    return list(tensors), len(tensors) == 1


def _at_least(tensors: tuple[Any, ...], shaped: Callable[[Tensor], Tensor]) -> Any:
    listed, alone = _tensors(tensors)
    out = tuple(shaped(t) for t in listed)
    return out[0] if alone else out


def _at_least_1d(t: Tensor) -> Tensor:
    return t if t.ndim else t.reshape(1)


def _at_least_2d(t: Tensor) -> Tensor:
    return t if t.ndim >= 2 else t.reshape(1, -1) if t.ndim else t.reshape(1, 1)


def _at_least_3d(t: Tensor) -> Tensor:
    if t.ndim >= 3:
        return t
    return t.reshape({0: (1, 1, 1), 1: (1, -1, 1), 2: (*t.shape, 1)}[t.ndim])


def atleast_1d(*tensors: Any) -> Any:
    """Each tensor with at least one dimension (a 0-d one becomes a vector of one); one
    tensor in, one out, else a tuple::

        atleast_1d(tensor(5.0)).shape    # (1,)
    """
    return _at_least(tensors, _at_least_1d)


def atleast_2d(*tensors: Any) -> Any:
    """Each tensor with at least two dimensions: a vector becomes a row (1, n)."""
    return _at_least(tensors, _at_least_2d)


def atleast_3d(*tensors: Any) -> Any:
    """Each tensor with at least three dimensions: a vector (n) becomes (1, n, 1), a matrix
    (m, n) becomes (m, n, 1)."""
    return _at_least(tensors, _at_least_3d)


def row_stack(tensors: Sequence[Tensor]) -> Tensor:
    """``vstack``: the tensors joined row-wise, each vector a row of its own."""
    rows = [_at_least_2d(tensor_of(t)) for t in tensors]
    return ops.cat(rows, 0)


def dstack(tensors: Sequence[Tensor]) -> Tensor:
    """The tensors joined along their third dimension (each made at least 3-D first)."""
    return ops.cat([_at_least_3d(tensor_of(t)) for t in tensors], 2)


def column_stack(tensors: Sequence[Tensor]) -> Tensor:
    """The tensors joined column-wise, each vector (or 0-d tensor) a column of its own::

        column_stack([tensor([1, 2]), tensor([3, 4])])    # [[1, 3], [2, 4]]
    """
    columns = [t if t.ndim >= 2 else t.reshape(-1, 1) for t in map(tensor_of, tensors)]
    return ops.cat(columns, 1)


def _along(x: Tensor, d: int, start: int | None, stop: int | None) -> Tensor:
    return x[(slice(None),) * d + (slice(start, stop),)]


def tensor_split(input: Tensor, indices_or_sections: Any = None, dim: int = 0, *,
                 sections: int | None = None, indices: Any = None) -> tuple[Tensor, ...]:
    """Views of ``input`` along ``dim``: ``sections`` (an int) pieces as equal as can be (the
    first ones one longer), or the pieces between the ``indices`` (a list), which may be
    empty; either by its own name too::

        [p.tolist() for p in tensor_split(arange(7), 3)]    # [[0, 1, 2], [3, 4], [5, 6]]
    """
    named = [given for given in (sections, indices) if given is not None]
    if len(named) + (indices_or_sections is not None) != 1:
        raise TypeError("tensor_split() takes one of indices_or_sections, sections, indices")
    if named:
        indices_or_sections = named[0]
    x = tensor_of(input)
    if not x.ndim:
        raise RuntimeError("tensor_split expected at least a 1-dimensional tensor, but got a "
                           "tensor with 0 dims")
    d = normalize_dim(dim, x.ndim)
    cut = indices_or_sections
    if isinstance(cut, Tensor):
        if cut._data.dtype != np.int64:
            raise RuntimeError(f"tensor_split expected tensor_indices_or_sections to have dtype "
                               f"of long, but got {short_name(cut._data.dtype)}")
        if cut.ndim > 1:
            raise RuntimeError(f"tensor_split expected tensor_indices_or_sections to be a "
                               f"zero-dimensional or one-dimensional tensor, but got a tensor "
                               f"with {cut.ndim} dims")
        cut = int(cut.item()) if not cut.ndim else cut.tolist()
    if isinstance(cut, (int, np.integer)):
        if cut <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {cut}")
        size, extra = divmod(x.shape[d], int(cut))
        lengths = [size + 1] * extra + [size] * (int(cut) - extra)
        ends = list(itertools.accumulate(lengths))
        return tuple(_along(x, d, end - n, end) for n, end in zip(lengths, ends))
    bounds = [None, *(operator.index(i) for i in cut), None]
    return tuple(_along(x, d, a, b) for a, b in zip(bounds, bounds[1:]))


def _split_at(x: Tensor, cut: Any, dim: int, name: str) -> tuple[Tensor, ...]:
    """``tensor_split`` for ``hsplit``, ``vsplit`` and ``dsplit``: sections must be equal."""
    if isinstance(cut, (int, np.integer)):
        length = x.shape[dim]
        if cut == 0 or length % cut:
            raise RuntimeError(f"torch.{name} attempted to split along dimension {dim}, but the "
                               f"size of the dimension {length} is not divisible by the "
                               f"split_size {cut}!")
    return tensor_split(x, cut, dim)


def hsplit(input: Tensor, indices_or_sections: Any) -> tuple[Tensor, ...]:
    """``tensor_split`` along the columns: dimension 1 (a vector's 0), equal sections."""
    x = tensor_of(input)
    if not x.ndim:
        raise RuntimeError("torch.hsplit requires a tensor with at least 1 dimension, but got "
                           "a tensor with 0 dimensions!")
    return _split_at(x, indices_or_sections, 1 if x.ndim > 1 else 0, "hsplit")


def vsplit(input: Tensor, indices_or_sections: Any) -> tuple[Tensor, ...]:
    """``tensor_split`` along the rows (dimension 0) of a tensor of 2 or more dimensions."""
    x = tensor_of(input)
    if x.ndim < 2:
        raise RuntimeError(f"torch.vsplit requires a tensor with at least 2 dimension, but got "
                           f"a tensor with {x.ndim} dimensions!")
    return _split_at(x, indices_or_sections, 0, "vsplit")


def dsplit(input: Tensor, indices_or_sections: Any) -> tuple[Tensor, ...]:
    """``tensor_split`` along dimension 2 of a tensor of 3 or more dimensions."""
    x = tensor_of(input)
    if x.ndim < 3:
        raise RuntimeError(f"torch.dsplit requires a tensor with at least 3 dimension, but got "
                           f"a tensor with {x.ndim} dimensions!")
    return _split_at(x, indices_or_sections, 2, "dsplit")


def fliplr(input: Tensor) -> Tensor:
    """The columns (dimension 1) in reverse order."""
    x = tensor_of(input)
    if x.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return x.flip(1)


def flipud(input: Tensor) -> Tensor:
    """The rows (dimension 0) in reverse order."""
    x = tensor_of(input)
    if x.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return x.flip(0)


def rot90(input: Tensor, k: int = 1, dims: Sequence[int] = (0, 1)) -> Tensor:
    """The plane of ``dims`` turned ``k`` quarter turns, from the first dimension toward the
    second::

        rot90(tensor([[1, 2], [3, 4]])).tolist()    # [[2, 4], [1, 3]]
    """
    x = tensor_of(input)
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if x.ndim < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {x.ndim}")
    first, second = (normalize_dim(d, x.ndim) for d in dims)
    if first == second:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {first} "
                           f"and dim1 = {second}")
    turns = operator.index(k) % 4
    if turns == 1:
        return x.flip(second).transpose(first, second)
    if turns == 2:
        return x.flip(first, second)
    if turns == 3:
        return x.flip(first).transpose(first, second)
    return x[...]


def unflatten(input: Tensor, dim: int, sizes: Sequence[int]) -> Tensor:
    return tensor_of(input).unflatten(dim, sizes)


def take(input: Tensor, index: Tensor) -> Tensor:
    """The entries of the flattened ``input`` at ``index`` (int64; negative ones count from
    the end), in ``index``'s shape."""
    x, at = tensor_of(input), ops.tensor_argument(index, "take", "index")
    if at._data.dtype != np.int64:
        raise RuntimeError(f"take(): Expected a long tensor for index, but got "
                           f"{short_name(at._data.dtype)}")
    count = x._data.size
    outside = (at._data < -count) | (at._data >= count)
    if outside.any():
        raise IndexError(f"out of range: tried to access index {at._data[outside].flat[0]} on "
                         f"a tensor of {count} elements.")
    flat = np.where(at._data < 0, at._data + count, at._data).reshape(-1)
    return x.reshape(-1)[Tensor(flat)].reshape(at.shape)


def diag_embed(input: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """Each vector along the last dimension placed on a diagonal (``offset`` > 0: above the
    main one) of a square matrix in dimensions ``dim1`` (rows) and ``dim2`` (columns) of the
    result, zeros elsewhere::

        diag_embed(tensor([1, 2])).tolist()    # [[1, 0], [0, 2]]
    """
    x = tensor_of(input)
    rows, columns = (normalize_dim(d, x.ndim + 1) for d in (dim1, dim2))
    if rows == columns:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    n, shift = x.shape[-1], abs(operator.index(offset))
    # where, not a product with the identity: NaN and inf must not spill off the diagonal
    square = ops.where(Tensor(np.eye(n, dtype=bool)), x.unsqueeze(-1), x.new_zeros(()))
    if shift:
        lead = square.shape[:-2]
        beside, below = x.new_zeros((*lead, n, shift)), x.new_zeros((*lead, shift, n + shift))
        if offset > 0:  # the diagonal starts ``shift`` columns right of the corner
            square = ops.cat([ops.cat([beside, square], -1), below], -2)
        else:
            square = ops.cat([below, ops.cat([square, beside], -1)], -2)
    return square.movedim((-2, -1), (rows, columns))


def diagflat(input: Tensor, offset: int = 0) -> Tensor:
    """The flattened ``input`` on a diagonal of a square matrix (``offset`` as ``diag``'s)."""
    return diag_embed(tensor_of(input).reshape(-1), offset)


def kron(input: Tensor, other: Tensor) -> Tensor:
    """The Kronecker product: each entry of ``input`` times the whole of ``other``, as
    blocks (the one of fewer dimensions gets leading ones)::

        kron(tensor([1, 2]), tensor([1, 10])).tolist()    # [1, 10, 2, 20]
    """
    a, b = tensor_of(input), tensor_of(other)
    ndim = max(a.ndim, b.ndim)
    first = (1,) * (ndim - a.ndim) + tuple(a.shape)
    second = (1,) * (ndim - b.ndim) + tuple(b.shape)
    spread = a.reshape(tuple(n for m in first for n in (m, 1)))
    blocks = b.reshape(tuple(n for m in second for n in (1, m)))
    return (spread * blocks).reshape(tuple(m * n for m, n in zip(first, second)))


def cross(input: Tensor, other: Tensor, dim: int | None = None) -> Tensor:
    """The cross product of the 3-vectors along ``dim`` (the two broadcast; None: the first
    dimension of length 3, which PyTorch warns of: give it)."""
    a, b = tensor_of(input), tensor_of(other)
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(f"expected scalar type {short_name(a._data.dtype)} but found "
                           f"{short_name(b._data.dtype)}")
    if a.ndim != b.ndim:
        raise RuntimeError(f"linalg.cross: inputs must have the same number of dimensions, "
                           f"got {a.ndim} and {b.ndim}")
    try:
        shape = np.broadcast_shapes(a._data.shape, b._data.shape)
    except ValueError:
        raise ops.broadcast_error(a._data.shape, b._data.shape) from None
    if dim is None:
        d = next((i for i, n in enumerate(shape) if n == 3), None)
        if d is None:
            raise RuntimeError("no dimension of size 3 in input")
        warnings.warn("torch.cross without dim picks the first dimension of length 3; give "
                      "dim (or use linalg.cross, whose default is -1)", UserWarning,
                      stacklevel=2)
    else:
        d = normalize_dim(dim, len(shape))
    if a.shape[d] != 3 or b.shape[d] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {d} must have length 3. Got "
                           f"{a.shape[d]} and {b.shape[d]}")
    a, b = a.expand(shape), b.expand(shape)
    x, y, z = (a.select(d, i) for i in range(3))
    u, v, w = (b.select(d, i) for i in range(3))
    return ops.stack([y * w - z * v, z * u - x * w, x * v - y * u], d)


def narrow_copy(input: Tensor, dim: int, start: int, length: int) -> Tensor:
    """``narrow``, as a copy of its own."""
    return tensor_of(input).narrow(dim, start, length).clone()


def ravel(input: Tensor) -> Tensor:
    """The entries as a vector, in order."""
    return tensor_of(input).reshape(-1)


def sum_to_size(input: Tensor, *size: Any) -> Tensor:
    """The sum down to ``size``, a shape that broadcasts to this one's (a gradient's shape
    back to its broadcast input's)::

        ones(2, 3).sum_to_size(1, 3).tolist()    # [[2., 2., 2.]]
    """
    x = tensor_of(input)
    wanted = ops.shape_argument(size)
    shape = tuple(x.shape)
    lead = len(shape) - len(wanted)
    if lead < 0 or any(n not in (1, m) for n, m in zip(wanted, shape[lead:])):
        raise RuntimeError(f"size {{{list(wanted)}}} is not expandable to size "
                           f"{{{list(shape)}}}.")
    summed = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(wanted)
                                        if n == 1 and shape[lead + i] != 1)
    return x.sum(summed, keepdim=True).reshape(wanted) if summed else x[...]


def is_same_size(input: Tensor, other: Tensor) -> bool:
    return tuple(tensor_of(input).shape) == tuple(tensor_of(other).shape)


def is_signed(input: Tensor) -> bool:
    """Whether the dtype holds negative numbers (not bool, not uint8)."""
    return tensor_of(input)._data.dtype.kind in "if"


def is_nonzero(input: Tensor) -> bool:
    """The truth of a tensor of one entry (NaN is true)."""
    data = tensor_of(input)._data
    if data.size != 1:
        raise RuntimeError(f"Boolean value of Tensor with "
                           f"{'no values' if not data.size else 'more than one value'} is "
                           f"ambiguous")
    return bool(data.reshape(()) != 0)


# ---- more elementwise math ----------------------------------------------------------------------


def _floating_operands(a: Any, b: Any, name: str) -> tuple[np.ndarray, np.ndarray]:
    """``a`` and ``b`` in their common dtype, which must be floating (PyTorch's kernels for
    ``logaddexp``, ``hypot`` have no integer versions)."""
    a, b = ops._operands(a, b)
    if a.dtype.kind != "f":
        raise NotImplementedError(f'"{name}_cpu" not implemented for \'{short_name(a.dtype)}\'')
    return a, b


class _LogAddExp(Function):
    """log(exp(a) + exp(b)) (``base`` 2: log2(2**a + 2**b)), without overflow; d/da is
    1 / (1 + base**(b - a)), NaN where both are the same infinity, as PyTorch's."""

    @staticmethod
    @quiet
    def forward(ctx, a, b, base):
        a, b = _floating_operands(a, b, "logaddexp" if base == math.e else "logaddexp2")
        ctx.save_for_backward(a, b)
        ctx.base = base
        pair = np.logaddexp if base == math.e else np.logaddexp2
        return ops._broadcasting(pair, a, b, pair.__name__)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        to_a = grad / (1 + np.power(a.dtype.type(ctx.base), b - a))
        to_b = grad / (1 + np.power(a.dtype.type(ctx.base), a - b))
        return ops.sum_to(to_a, a.shape), ops.sum_to(to_b, b.shape), None

    @staticmethod
    def recorded_backward(ctx, grad):
        a, b, base = ctx.inputs
        return (summed_to(grad / (1 + base ** (b - a)), shape_of(a)) if needs_grad(ctx, 0)
                else None,
                summed_to(grad / (1 + base ** (a - b)), shape_of(b)) if needs_grad(ctx, 1)
                else None, None)


def logaddexp(input: Tensor, other: Tensor) -> Tensor:
    """log(exp(input) + exp(other)), exact where either exp would overflow::

        logaddexp(tensor([1000.0]), tensor([1000.0]))    # [1000.6931]
    """
    return _LogAddExp.apply(tensor_of(input), ops.tensor_argument(other, "logaddexp", "other"),
                            math.e)


def logaddexp2(input: Tensor, other: Tensor) -> Tensor:
    """log2(2**input + 2**other), exact where either power would overflow."""
    return _LogAddExp.apply(tensor_of(input), ops.tensor_argument(other, "logaddexp2", "other"),
                            2.0)


class _Hypot(Function):
    """sqrt(a**2 + b**2) without overflow; d/da is a / out (NaN at 0, as PyTorch's)."""

    @staticmethod
    @quiet
    def forward(ctx, a, b):
        a, b = _floating_operands(a, b, "hypot")
        out = ops._broadcasting(np.hypot, a, b, "hypot")
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b, out = ctx.saved_tensors
        return (ops.sum_to(grad * a / out, a.shape), ops.sum_to(grad * b / out, b.shape))

    @staticmethod
    def recorded_backward(ctx, grad):
        a, b = ctx.inputs
        out = _Hypot.apply(a, b)
        return (summed_to(grad * a / out, shape_of(a)) if needs_grad(ctx, 0) else None,
                summed_to(grad * b / out, shape_of(b)) if needs_grad(ctx, 1) else None)


def hypot(input: Tensor, other: Tensor) -> Tensor:
    """The length of the hypotenuse, sqrt(input**2 + other**2), without overflow."""
    return _Hypot.apply(tensor_of(input), ops.tensor_argument(other, "hypot", "other"))


def _x_log_y(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """x * log(y), 0 where x is 0 and y is not NaN."""
    with np.errstate(divide="ignore", invalid="ignore"):
        product = x * np.log(y)
    return np.where((x == 0) & ~np.isnan(y), np.zeros((), product.dtype), product)


class _XLogY(Function):
    """x * log(y), 0 where x == 0 (unless y is NaN); gradients PyTorch's: d/dx is log(y),
    but 0 where x == 0 and y <= 0, and d/dy is x / y."""

    @staticmethod
    @quiet
    def forward(ctx, x, y):
        x, y = ops.float_operands(x, y)
        ctx.save_for_backward(x, y)
        return _x_log_y(x, y)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        to_x = to_y = None
        if ctx.needs_input_grad[0]:
            to_x = np.where((x == 0) & (y <= 0), np.zeros((), grad.dtype),
                            _x_log_y(np.broadcast_to(grad, np.broadcast_shapes(
                                grad.shape, y.shape)), y))
            to_x = ops.sum_to(to_x, x.shape)
        if ctx.needs_input_grad[1]:
            to_y = ops.sum_to(grad * x / y, y.shape)
        return to_x, to_y

    @staticmethod
    def recorded_backward(ctx, grad):
        x, y = ctx.inputs
        x_data, y_data = ctx.saved_tensors
        nothing = constant((x_data == 0) & (y_data <= 0))  # 0 there, as backward's
        to_x = to_y = None
        if needs_grad(ctx, 0):
            to_x = summed_to(ops.where(nothing, 0.0, grad * ops.where(nothing, 1.0, y).log()),
                             shape_of(x))
        if needs_grad(ctx, 1):
            to_y = summed_to(grad * x / y, shape_of(y))
        return to_x, to_y


def xlogy(input: Any, other: Any) -> Tensor:
    """``input * log(other)``, 0 where input is 0 (entropy terms); either may be a number::

        xlogy(tensor([0.0, 2.0]), tensor([0.0, 1.0]))    # [0., 0.]
    """
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError("xlogy() takes a tensor as input or as other")
    return _XLogY.apply(input, other)


class _Logit(Function):
    """log(p / (1 - p)), p clamped to [eps, 1 - eps] first where ``eps`` is given. The slope
    1 / (p (1 - p)) is PyTorch's: NaN outside [0, 1] without ``eps``, 0 beyond the clamp
    with it."""

    @staticmethod
    @quiet
    def forward(ctx, a, eps):
        a = ops.floating(a)
        ctx.save_for_backward(a)
        ctx.eps = eps
        p = a if eps is None else np.clip(a, a.dtype.type(eps), a.dtype.type(1 - eps))
        return np.log(p / (1 - p))

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        eps = ctx.eps
        low, high = (0, 1) if eps is None else (a.dtype.type(eps), a.dtype.type(1 - eps))
        outside = np.full((), np.nan if eps is None else 0, grad.dtype)
        slope = grad / (a * (1 - a))
        return np.where((a < low) | (a > high), outside, slope), None

    @staticmethod
    def recorded_backward(ctx, grad):
        a, eps = ctx.inputs
        low, high = (0, 1) if eps is None else (eps, 1 - eps)
        outside = constant((a._data < low) | (a._data > high))
        return ops.where(outside, math.nan if eps is None else 0.0, grad / (a * (1 - a))), None


def logit(input: Tensor, eps: float | None = None) -> Tensor:
    """log(p / (1 - p)), the inverse of ``sigmoid``; with ``eps``, p is first clamped to
    [eps, 1 - eps] (its gradient then 0 outside)::

        logit(tensor([0.5, 0.75]))    # [0., 1.0986]
    """
    return _Logit.apply(tensor_of(input), eps)


def heaviside(input: Tensor, values: Tensor) -> Tensor:
    """The step function: 0 where ``input`` < 0, 1 where > 0, ``values`` where 0 (the two
    of one dtype, broadcast). As PyTorch's, ``backward()`` through it raises."""
    x, v = tensor_of(input), ops.tensor_argument(values, "heaviside", "values")
    if x._data.dtype != v._data.dtype:
        raise RuntimeError("heaviside is not yet implemented for tensors with different "
                           "dtypes.")
    return ops.NoDerivative.apply(_step, "heaviside", RuntimeError, x, v)


def _step(x: np.ndarray, v: np.ndarray) -> np.ndarray:
    one, zero = np.ones((), x.dtype), np.zeros((), x.dtype)
    return ops._broadcasting(lambda a, b: np.where(a == 0, b, np.where(a > 0, one, zero)),
                             x, v, "heaviside")


class _CopySign(Function):
    """|a| with the sign of b (floating); d/da is copysign(a, b) / a, 0 where a is 0, and b
    gets none, as PyTorch's."""

    @staticmethod
    def forward(ctx, a, b):
        a, b = ops.float_operands(a, b)
        out = ops._broadcasting(np.copysign, a, b, "copysign")
        ctx.save_for_backward(a, out)
        ctx.b_shape = b.shape
        return out

    @staticmethod
    def backward(ctx, grad):
        a, out = ctx.saved_tensors
        ratio = np.where(a == 0, np.zeros((), out.dtype), out / a)
        return ops.sum_to(grad * ratio, a.shape), np.zeros(ctx.b_shape, grad.dtype)


def copysign(input: Tensor, other: Any) -> Tensor:
    """The magnitudes of ``input`` with the signs of ``other`` (-0.0 and NaN's sign bit
    count), floating."""
    return _CopySign.apply(tensor_of(input), other)


class Angle(Function):
    """The angle of each entry as a complex number: pi for a negative real, else 0 (NaN
    stays NaN); its gradient is 0, as PyTorch's for real inputs."""

    @staticmethod
    def forward(ctx, a):
        ctx.shape = a.shape
        return np.where(a < 0, np.pi, np.where(np.isnan(a), a, 0)).astype(a.dtype)

    @staticmethod
    def backward(ctx, grad):
        return np.zeros(ctx.shape, grad.dtype)

    recorded_backward = staticmethod(flat)


def angle(input: Tensor) -> Tensor:
    """pi where an entry is negative, else 0 (NaN stays NaN): floating, of the default dtype
    for integers and booleans."""
    x = tensor_of(input)
    return Angle.apply(x if x.dtype.kind == "f" else x.to(dtypes.get_default_dtype()))


def signbit(input: Tensor) -> Tensor:
    """Where the sign bit is set (-0.0 too): boolean."""
    return as_leaf(np.signbit(tensor_of(input)._data))


def frac(input: Tensor) -> Tensor:
    """The fractional part, input - trunc(input), with input's sign (NaN at the infinities,
    as PyTorch's); its gradient is 1."""
    x = tensor_of(input)
    if x._data.dtype.kind != "f":
        raise NotImplementedError(f'"frac_cpu" not implemented for '
                                  f"'{short_name(x._data.dtype)}'")
    return x - x.trunc()


class _Sinc(Function):
    """sin(pi a) / (pi a), 1 at 0 (and its slope 0 there)."""

    @staticmethod
    @quiet
    def forward(ctx, a):
        a = ops.floating(a)
        ctx.save_for_backward(a)
        turned = a * a.dtype.type(math.pi)
        return np.where(a == 0, np.ones((), a.dtype), np.sin(turned) / turned)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        turned = a * a.dtype.type(math.pi)
        slope = (np.cos(turned) * turned - np.sin(turned)) / (turned * a)
        return np.where(a == 0, np.zeros((), slope.dtype), grad * slope)  # (0 at 0, as PyTorch)

    @staticmethod
    def recorded_backward(ctx, grad):
        (a,) = ctx.inputs
        zero = constant(a._data == 0)
        turned = ops.where(zero, 1.0, a) * math.pi
        slope = (turned.cos() * turned - turned.sin()) / (turned * ops.where(zero, 1.0, a))
        return (ops.where(zero, 0.0, grad * slope),)


def sinc(input: Tensor) -> Tensor:
    """The normalized sinc, sin(pi x) / (pi x), 1 at 0."""
    return _Sinc.apply(tensor_of(input))


def _floating(x: Tensor) -> Tensor:
    return x if x._data.dtype.kind == "f" else ops.Cast.apply(x, ops.DEFAULT_FLOAT)


def deg2rad(input: Tensor) -> Tensor:
    """Degrees to radians (floating)."""
    return _floating(tensor_of(input)) * (math.pi / 180)


def rad2deg(input: Tensor) -> Tensor:
    """Radians to degrees (floating)."""
    return _floating(tensor_of(input)) * (180 / math.pi)


def isposinf(input: Tensor) -> Tensor:
    return as_leaf(np.isposinf(tensor_of(input)._data))


def isneginf(input: Tensor) -> Tensor:
    return as_leaf(np.isneginf(tensor_of(input)._data))


def isreal(input: Tensor) -> Tensor:
    """True everywhere: a tensor here holds no complex numbers."""
    return as_leaf(np.ones(tensor_of(input)._data.shape, bool))


def isin(elements: Any, test_elements: Any, *, assume_unique: bool = False,
         invert: bool = False) -> Tensor:
    """Where each of ``elements`` equals one of ``test_elements`` (either may be a number;
    NaN equals nothing): boolean, in ``elements``' shape."""
    if not isinstance(elements, Tensor) and not isinstance(test_elements, Tensor):
        raise TypeError("isin() takes a tensor as elements or as test_elements")
    a, b = ops._operands(_data(elements), _data(test_elements))
    return as_leaf(np.isin(a, b, assume_unique=assume_unique, invert=invert))


def _search(rows: np.ndarray, values: np.ndarray, right: bool) -> np.ndarray:
    """For each value, the first position in its row of ``rows`` (sorted, the last
    dimension) at which it could be placed: PyTorch's binary search, whose comparisons count
    NaN as neither smaller nor larger, so that NaN values go last."""
    length = rows.shape[-1]
    low = np.zeros(values.shape, np.int64)
    high = np.full(values.shape, length, np.int64)
    row = rows.reshape(-1, length) if rows.ndim > 1 else rows.reshape(1, length)
    which = (np.arange(row.shape[0]).reshape(rows.shape[:-1] + (1,)) if rows.ndim > 1
             else np.zeros((), np.int64))
    which = np.broadcast_to(which, values.shape)
    while True:
        active = low < high
        if not active.any():
            return low
        middle = (low + high) // 2
        seen = row[which, np.minimum(middle, length - 1)]
        # right: pass over entries <= the value; else entries < it (neither by NaN)
        onward = ~(seen > values) if right else ~(seen >= values)
        low = np.where(active & onward, middle + 1, low)
        high = np.where(active & ~onward, middle, high)


def searchsorted(sorted_sequence: Tensor, input: Any, *, out_int32: bool = False,
                 right: bool = False, side: str | None = None, sorter: Tensor | None = None
                 ) -> Tensor:
    """Where each of ``input`` would be inserted into ``sorted_sequence`` (along its last
    dimension; its leading ones match ``input``'s) to keep it sorted: before equal entries,
    or after them with ``right`` (or ``side="right"``); int64 (int32 with ``out_int32``)::

        searchsorted(tensor([1, 3, 5]), tensor([3, 4]))    # [1, 2]
    """
    boundaries = ops.tensor_argument(sorted_sequence, "searchsorted", "sorted_sequence")
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' but "
                               f"got {side}")
        if right and side == "left":
            raise RuntimeError("torch.searchsorted(): side and right can't be set to "
                               "opposites, got side of left while right was True")
        right = side == "right"
    rows = boundaries._data
    if sorter is not None:
        order = ops.tensor_argument(sorter, "searchsorted", "sorter")._data
        if order.shape != rows.shape or order.dtype != np.int64:
            raise RuntimeError("torch.searchsorted(): sorter must be an int64 tensor of the "
                               "boundaries' shape")
        rows = np.take_along_axis(rows, order, -1)
    values = np.asarray(_data(input))
    if not rows.ndim:
        raise RuntimeError("torch.searchsorted(): boundaries tensor should be 1 dimension or "
                           "the first N-1 dimensions of boundaries tensor and input value "
                           "tensor must match")
    if rows.ndim > 1 and (values.ndim != rows.ndim or values.shape[:-1] != rows.shape[:-1]):
        raise RuntimeError(f"torch.searchsorted(): boundaries tensor should be 1 dimension or "
                           f"the first N-1 dimensions of boundaries tensor and input value "
                           f"tensor must match, but we got boundaries tensor "
                           f"{list(rows.shape)} and input value tensor {list(values.shape)}")
    dtype = ops.result_dtype(rows, values)
    rows, values = rows.astype(dtype, copy=False), values.astype(dtype, copy=False)
    found = _search(rows, values, right) if rows.shape[-1] else np.zeros(values.shape, np.int64)
    return as_leaf(found.astype(np.int32 if out_int32 else np.int64))


def bucketize(input: Any, boundaries: Tensor, *, out_int32: bool = False,
              right: bool = False) -> Tensor:
    """The bucket of each of ``input`` among the sorted 1-D ``boundaries``: the index i with
    boundaries[i - 1] < x <= boundaries[i] (with ``right``: boundaries[i - 1] <= x <
    boundaries[i])::

        bucketize(tensor([1, 4, 9]), tensor([2, 4, 6]))    # [0, 1, 3]
    """
    edges = ops.tensor_argument(boundaries, "bucketize", "boundaries")
    if edges.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim({edges.ndim})")
    return searchsorted(edges, input, out_int32=out_int32, right=right)


def _running_extreme(x: Tensor, dim: int, larger: bool) -> _Extremes:
    """``cummax`` (``larger``) or ``cummin``: the running extreme along ``dim`` and where it
    last was; a NaN takes over from where it is. Each value is its entry's, so the gradient
    goes to that entry."""
    if not x.ndim:
        normalize_dim(dim, 0)
        return _Extremes(x[...], as_leaf(np.zeros((), np.int64)))
    d = normalize_dim(dim, x.ndim)
    a = np.moveaxis(x._data, d, -1)
    if not a.size:
        return _Extremes(x[...], as_leaf(np.zeros(x._data.shape, np.int64)))
    pick = np.maximum if larger else np.minimum
    running = pick.accumulate(a, axis=-1)  # (NaN carries on, as PyTorch's)
    before = running[..., :-1]
    later = a[..., 1:]
    with np.errstate(invalid="ignore"):
        taken = (later >= before) if larger else (later <= before)
    if a.dtype.kind == "f":
        taken |= np.isnan(later)
    taken = np.concatenate([np.ones(a.shape[:-1] + (1,), bool), taken], axis=-1)
    where = np.maximum.accumulate(np.where(taken, np.arange(a.shape[-1]), 0), axis=-1)
    indices = np.moveaxis(where, -1, d).astype(np.int64)
    return _Extremes(x.gather(d, Tensor(indices)), as_leaf(indices))


_Extremes = namedtuple("_Extremes", ["values", "indices"])


def cummax(input: Tensor, dim: int) -> Any:
    """The running maximum along ``dim`` and the index of the entry it is (the last of
    equal ones), as ``(values, indices)``::

        cummax(tensor([1, 3, 2]), 0).indices    # [0, 1, 1]
    """
    return _running_extreme(tensor_of(input), dim, True)


def cummin(input: Tensor, dim: int) -> Any:
    """The running minimum along ``dim`` and the index of the entry it is."""
    return _running_extreme(tensor_of(input), dim, False)


class _LogCumSumExp(Function):
    """log of the running sums of exp along ``dim``, without overflow."""

    @staticmethod
    @quiet
    def forward(ctx, a, dim):
        out = np.logaddexp.accumulate(a, axis=dim)
        ctx.save_for_backward(a, out)
        ctx.dim = dim
        return out

    @staticmethod
    def backward(ctx, grad):
        a, out = ctx.saved_tensors
        d = ctx.dim
        # d out_i / d a_j = exp(a_j - out_i) for j <= i: the gradient of a_j sums grad_i of
        # the later i. Summed in log space, the positive and the negative grad apart, it
        # neither overflows nor underflows.
        def later_sum(log_terms: np.ndarray) -> np.ndarray:
            flipped = np.flip(log_terms, axis=d)
            return np.flip(np.logaddexp.accumulate(flipped, axis=d), axis=d)

        lowest = np.finfo(grad.dtype).min
        size = np.log(np.abs(grad))
        up = np.exp(later_sum(np.where(grad > 0, size, lowest) - out) + a)
        down = np.exp(later_sum(np.where(grad < 0, size, lowest) - out) + a)
        return (up - down).astype(grad.dtype, copy=False), None

    @staticmethod
    def recorded_backward(ctx, grad):
        a, dim = ctx.inputs
        # d out_i / d a_j = exp(a_j - out_i) for j <= i
        later = (grad * (-_LogCumSumExp.apply(a, dim)).exp()).flip(dim).cumsum(dim).flip(dim)
        return later * a.exp(), None


def logcumsumexp(input: Tensor, dim: int) -> Tensor:
    """log(cumsum(exp(input), dim)), without overflow or underflow::

        logcumsumexp(tensor([0.0, 0.0]), 0)    # [0., 0.6931]
    """
    x = tensor_of(input)
    if x._data.dtype.kind != "f":
        raise NotImplementedError(f'"logcumsumexp_out_cpu" not implemented for '
                                  f"'{short_name(x._data.dtype)}'")
    d = normalize_dim(dim, x.ndim)
    return _LogCumSumExp.apply(x, d) if x.ndim else x[...]


_MinMax = namedtuple("_MinMax", ["min", "max"])


def aminmax(input: Tensor, *, dim: int | None = None, keepdim: bool = False) -> Any:
    """``(amin, amax)`` over ``dim`` (None: all entries), as a named tuple ``(min, max)``."""
    x = tensor_of(input)
    if dim is None:
        if not x._data.size:
            raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as "
                               "the operation has no identity.")
        low, high = x.amin(), x.amax()
        if keepdim:
            low, high = (t.reshape((1,) * x.ndim) for t in (low, high))
        return _MinMax(low, high)
    d = normalize_dim(dim, x.ndim)
    if x.ndim and not x.shape[d]:
        raise IndexError(f"aminmax: Expected reduction dim {dim} to have non-zero size.")
    if not x.ndim:
        return _MinMax(x[...], x[...])
    return _MinMax(x.amin(d, keepdim), x.amax(d, keepdim))


def _whole(op: np.ufunc, name: str, input: Tensor, other: Tensor) -> Tensor:
    """``gcd`` or ``lcm`` of integer tensors (non-negative results), outside the graph."""
    x = tensor_of(input)
    y = ops.tensor_argument(other, name, "other")
    a, b = ops._operands(x._data, y._data)
    if a.dtype.kind not in "iu":
        raise NotImplementedError(f'"{name}_cpu" not implemented for \'{short_name(a.dtype)}\'')
    return as_leaf(ops._broadcasting(op, a, b, name))


def gcd(input: Tensor, other: Tensor) -> Tensor:
    """The greatest common divisor of each pair (gcd(0, 0) is 0)."""
    return _whole(np.gcd, "gcd", input, other)


def lcm(input: Tensor, other: Tensor) -> Tensor:
    """The least common multiple of each pair (0 if either is 0)."""
    return _whole(np.lcm, "lcm", input, other)


# ---- the functional ops PyTorch also has at the top level, with its signatures there ------------
# (imported when called: torch.* code that never calls them does not pay for the import)


def dropout(input: Tensor, p: float, train: bool) -> Tensor:
    """``nn.functional.dropout``, all three arguments required."""
    from .functional import dropout as fused

    return fused(input, p, train)


def layer_norm(input: Tensor, normalized_shape: Sequence[int] | int,
               weight: Tensor | None = None, bias: Tensor | None = None, eps: float = 1e-5,
               cudnn_enable: bool = True) -> Tensor:
    """``nn.functional.layer_norm`` (``cudnn_enable`` is ignored: there is no GPU)."""
    from .functional import layer_norm as fused

    return fused(input, _shape(normalized_shape), weight, bias, eps)


def _shape(normalized_shape: Sequence[int] | int) -> int | tuple[int, ...]:
    return normalized_shape if isinstance(normalized_shape, int) else tuple(normalized_shape)


def rms_norm(input: Tensor, normalized_shape: Sequence[int] | int,
             weight: Tensor | None = None, eps: float | None = None) -> Tensor:
    from .functional import rms_norm as fused

    return fused(input, _shape(normalized_shape), weight, eps)


def embedding(weight: Tensor, indices: Tensor, padding_idx: int = -1,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """The rows of ``weight`` at ``indices``: ``nn.functional.embedding`` with the table
    first, as ``torch.embedding``; a negative ``padding_idx`` means none."""
    from .functional import embedding as looked_up

    return looked_up(indices, weight, padding_idx if padding_idx >= 0 else None,
                     scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
           padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor:
    from .conv import conv1d as fused

    return fused(input, weight, bias, stride, padding, dilation, groups)


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
           padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor:
    from .conv import conv2d as fused

    return fused(input, weight, bias, stride, padding, dilation, groups)


def conv3d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
           padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor:
    from .conv import conv3d as fused

    return fused(input, weight, bias, stride, padding, dilation, groups)


def conv_transpose1d(input: Tensor, weight: Tensor, bias: Tensor | None = None,
                     stride: Any = 1, padding: Any = 0, output_padding: Any = 0,
                     groups: int = 1, dilation: Any = 1) -> Tensor:
    from .conv import conv_transpose1d as fused

    return fused(input, weight, bias, stride, padding, output_padding, groups, dilation)


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None,
                     stride: Any = 1, padding: Any = 0, output_padding: Any = 0,
                     groups: int = 1, dilation: Any = 1) -> Tensor:
    from .conv import conv_transpose2d as fused

    return fused(input, weight, bias, stride, padding, output_padding, groups, dilation)


def conv_transpose3d(input: Tensor, weight: Tensor, bias: Tensor | None = None,
                     stride: Any = 1, padding: Any = 0, output_padding: Any = 0,
                     groups: int = 1, dilation: Any = 1) -> Tensor:
    from .conv import conv_transpose3d as fused

    return fused(input, weight, bias, stride, padding, output_padding, groups, dilation)


def max_pool1d(input: Tensor, kernel_size: Any, stride: Any = (), padding: Any = 0,
               dilation: Any = 1, ceil_mode: bool = False) -> Tensor:
    """``nn.functional.max_pool1d`` (``stride`` empty: the kernel's size)."""
    from .conv import max_pool1d as pooled

    return pooled(input, kernel_size, stride if _given(stride) else None, padding, dilation,
                  ceil_mode)


def max_pool2d(input: Tensor, kernel_size: Any, stride: Any = (), padding: Any = 0,
               dilation: Any = 1, ceil_mode: bool = False) -> Tensor:
    """``nn.functional.max_pool2d`` (``stride`` empty: the kernel's size)."""
    from .conv import max_pool2d as pooled

    return pooled(input, kernel_size, stride if _given(stride) else None, padding, dilation,
                  ceil_mode)


def max_pool3d(input: Tensor, kernel_size: Any, stride: Any = (), padding: Any = 0,
               dilation: Any = 1, ceil_mode: bool = False) -> Tensor:
    """``nn.functional.max_pool3d`` (``stride`` empty: the kernel's size)."""
    from .conv import max_pool3d as pooled

    return pooled(input, kernel_size, stride if _given(stride) else None, padding, dilation,
                  ceil_mode)


def _given(stride: Any) -> bool:
    return stride is not None and not (isinstance(stride, (list, tuple)) and not stride)


def avg_pool1d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
               ceil_mode: bool = False, count_include_pad: bool = True) -> Tensor:
    from .conv import avg_pool1d as pooled

    return pooled(input, kernel_size, stride if _given(stride) else None, padding, ceil_mode,
                  count_include_pad)


def adaptive_avg_pool1d(input: Tensor, output_size: Any) -> Tensor:
    from .conv import adaptive_avg_pool1d as pooled

    return pooled(input, output_size)


def adaptive_max_pool1d(input: Tensor, output_size: Any) -> tuple[Tensor, Tensor]:
    """The pooled values and their indices (always both, as ``torch.adaptive_max_pool1d``)."""
    from .conv import adaptive_max_pool1d as pooled

    return pooled(input, output_size, return_indices=True)


def batch_norm(input: Tensor, weight: Tensor | None, bias: Tensor | None,
               running_mean: Tensor | None, running_var: Tensor | None, training: bool,
               momentum: float, eps: float, cudnn_enabled: bool) -> Tensor:
    """``nn.functional.batch_norm`` in ``torch.batch_norm``'s order: the affine parameters
    before the running statistics, every argument required."""
    from .conv import batch_norm as normalized

    return normalized(input, running_mean, running_var, weight, bias, training, momentum, eps)


def instance_norm(input: Tensor, weight: Tensor | None, bias: Tensor | None,
                  running_mean: Tensor | None, running_var: Tensor | None,
                  use_input_stats: bool, momentum: float, eps: float,
                  cudnn_enabled: bool) -> Tensor:
    """``nn.functional.instance_norm`` in ``torch.instance_norm``'s order."""
    from .normalization import instance_norm as normalized

    return normalized(input, running_mean, running_var, weight, bias, use_input_stats,
                      momentum, eps)


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5,
               cudnn_enabled: bool = True) -> Tensor:
    from .normalization import group_norm as normalized

    return normalized(input, num_groups, weight, bias, eps)


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    from .conv import pixel_shuffle as shuffled

    return shuffled(input, upscale_factor)


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    from .conv import pixel_unshuffle as unshuffled

    return unshuffled(input, downscale_factor)


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    from .functional import cosine_similarity as similarity

    return similarity(x1, x2, dim, eps)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    from .functional import pairwise_distance as distance

    return distance(x1, x2, p, eps, keepdim)


def dist(input: Tensor, other: Tensor, p: float = 2) -> Tensor:
    """The ``p``-norm of ``input - other`` (broadcast), over all entries: a 0-d tensor."""
    a = tensor_of(input)
    return (a - ops.tensor_argument(other, "dist", "other")).norm(p)


def selu(input: Tensor) -> Tensor:
    from .functional import selu as activated

    return activated(input)


def celu(input: Tensor, alpha: float = 1.0) -> Tensor:
    from .functional import celu as activated

    return activated(input, alpha)


def threshold(input: Tensor, threshold: float, value: float) -> Tensor:
    from .functional import threshold as activated

    return activated(input, threshold, value)


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    from .functional import prelu as activated

    return activated(input, weight)


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    from .functional import hardshrink as shrunk

    return shrunk(input, lambd)


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None
             ) -> Tensor:
    from .functional import bilinear as product

    return product(input1, input2, weight, bias)


# ---- products and combinations of vectors, block diagonals ----------------------------------


def cartesian_prod(*tensors: Tensor) -> Tensor:
    """Every tuple of one entry from each vector, in order, as the rows of an (N, k) tensor
    (a single vector comes back as it is), as ``itertools.product``; gradients flow::

        cartesian_prod(tensor([1, 2]), tensor([3, 4]))    # [[1, 3], [1, 4], [2, 3], [2, 4]]
    """
    vectors = [tensor_of(t) for t in tensors]
    if any(v._data.ndim != 1 for v in vectors):
        raise RuntimeError("Expect a 1D vector, but got shape "
                           f"{next(list(v.shape) for v in vectors if v._data.ndim != 1)}")
    if len(vectors) == 1:
        return vectors[0]
    grids = ops.meshgrid(vectors, "ij")
    return ops.stack([g.reshape(-1) for g in grids], 1)


def combinations(input: Tensor, r: int = 2, with_replacement: bool = False) -> Tensor:
    """The ``r``-entry combinations of a vector's entries, in order, as the rows of an
    (N, r) tensor, as ``itertools.combinations`` (``with_replacement``:
    ``combinations_with_replacement``); gradients flow::

        combinations(tensor([1, 2, 3]))    # [[1, 2], [1, 3], [2, 3]]
    """
    x = tensor_of(input)
    if x._data.ndim != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(x.shape)}")
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    if r == 0:
        return x[:0]
    pick = itertools.combinations_with_replacement if with_replacement else \
        itertools.combinations
    rows = np.array(list(pick(range(x._data.shape[0]), r)), np.intp).reshape(-1, r)
    return x[rows]


def block_diag(*tensors: Tensor) -> Tensor:
    """The tensors (0-d, 1-d as one row, or 2-d) along the diagonal of one matrix, zeros
    elsewhere, of their promoted dtype; gradients flow::

        block_diag(ones(2, 2), tensor([5., 6.]))    # 3 x 4
    """
    blocks = []
    for i, t in enumerate(tensor_of(t) for t in tensors):
        if t._data.ndim > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer "
                               f"dimensions. Input {i} has {t._data.ndim} dimensions")
        blocks.append(t.reshape(1, -1) if t._data.ndim == 1 else t.reshape(1, 1)
                      if t._data.ndim == 0 else t)
    if not blocks:
        return as_leaf(np.zeros((1, 0), ops.DEFAULT_FLOAT))
    dtype = ops.result_dtype(*(b._data for b in blocks))
    width = sum(b._data.shape[1] for b in blocks)
    rows, left = [], 0
    for b in blocks:
        height, cols = b._data.shape
        rows.append(ops.cat([as_leaf(np.zeros((height, left), dtype)), b.to(dtype),
                             as_leaf(np.zeros((height, width - left - cols), dtype))], 1))
        left += cols
    return ops.cat(rows, 0)

