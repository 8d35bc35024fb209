"""Statistics and selection along a dim, made of sort, gather and lerp so that their gradients
are those ops' (``quantile``, ``nanquantile``, ``kthvalue``, ``mode``, ``nanmedian``, ``cov``,
``corrcoef``), with ``histc`` (counts, outside the graph) and ``unfold`` (sliding windows).
Each is also a method (``x.quantile(0.5)``), as in PyTorch."""

from __future__ import annotations

import operator
import warnings
from typing import Any

import numpy as np

from . import dtypes
from .ops import ValuesAndIndices
from .tensor import Function, Tensor, as_leaf, normalize_dim, tensor_of

_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile(input: Any, q: Any, dim: int | None, keepdim: bool, interpolation: str,
              ignore_nan: bool, name: str) -> Tensor:
    x = tensor_of(input)
    if x.dtype not in (np.float32, np.float64):
        raise RuntimeError(f"{name}() input tensor must be either float or double dtype")
    if isinstance(q, Tensor):
        if q.dtype != x.dtype:
            raise RuntimeError(f"{name}() q tensor must be same dtype as the input tensor")
        if q.ndim > 1:
            raise RuntimeError(f"{name}() q must be a scalar or 1D tensor")
        qs = q._data
        if not ((qs >= 0) & (qs <= 1)).all():
            raise RuntimeError(f"{name}() q values must be in the range [0, 1]")
    else:
        qs = np.asarray(q, x.dtype)
        if qs.ndim or not 0 <= qs <= 1:
            raise RuntimeError(f"{name}() q must be in the range [0, 1] but got {q}")
    if interpolation not in _INTERPOLATIONS:
        raise RuntimeError(f"{name}() interpolation must be one of linear, lower, higher, "
                           f"midpoint or nearest, but got {interpolation}")
    if not x.numel():
        raise RuntimeError(f"{name}() input tensor must be non-empty")
    if dim is None:
        rows, d = x.reshape(-1), 0
    else:
        d = normalize_dim(dim, x.ndim)
        rows = x if x.ndim else x.reshape(1)
    ordered = rows.sort(dim=d).values.movedim(d, -1)  # (*batch, n), NaN last
    data = ordered._data
    n = data.shape[-1]
    nan_count = np.isnan(data).sum(-1, keepdims=True)
    wanted = qs.reshape(-1)
    # the (fractional) rank of each quantile among the sorted entries, in the input's dtype; a
    # row whose quantiles are NaN (one NaN, or for nanquantile NaN only) takes its last, a NaN
    if ignore_nan:
        ranks = wanted * (n - nan_count - 1).astype(x.dtype)
        ranks = np.where(nan_count == n, n - 1, ranks)
    else:
        ranks = np.where(nan_count > 0, n - 1, wanted * x.dtype.type(n - 1))
    ranks = ranks.astype(x.dtype)

    def at(positions: np.ndarray) -> Tensor:
        return ordered.gather(-1, Tensor(positions.astype(np.int64)))

    if interpolation == "lower":
        out = at(np.floor(ranks))
    elif interpolation == "higher":
        out = at(np.ceil(ranks))
    elif interpolation == "nearest":
        out = at(np.round(ranks))  # (halves to even, as PyTorch rounds them)
    else:
        below = np.floor(ranks)
        weights = np.full_like(ranks, 0.5) if interpolation == "midpoint" else ranks - below
        out = at(below).lerp(at(np.ceil(ranks)), Tensor(weights))
    if keepdim:
        if dim is None:
            out = out.reshape(*(1,) * x.ndim, out.shape[-1])
        elif x.ndim:
            out = out.unsqueeze(d)
    return out.movedim(-1, 0) if qs.ndim else out.squeeze(-1)


def quantile(input: Tensor, q: Any, dim: int | None = None, keepdim: bool = False, *,
             interpolation: str = "linear") -> Tensor:
    """The ``q``-quantiles (a number or a 1-D tensor in [0, 1], whose entries then make a new
    first dim) along ``dim`` (of all entries if None), between the two nearest sorted entries
    by ``interpolation``: "linear", "lower", "higher", "midpoint" or "nearest". A NaN makes
    its row's quantiles NaN; the gradient flows to the entries used::

        tg.quantile(tg.tensor([1.0, 2.0, 4.0, 8.0]), 0.5)  # tensor(3.)
    """
    return _quantile(input, q, dim, keepdim, interpolation, False, "quantile")


def nanquantile(input: Tensor, q: Any, dim: int | None = None, keepdim: bool = False, *,
                interpolation: str = "linear") -> Tensor:
    """``quantile`` of the entries that are not NaN (NaN for a row of NaN only)."""
    return _quantile(input, q, dim, keepdim, interpolation, True, "nanquantile")


def _length(x: Tensor, d: int) -> int:
    return x.shape[d] if x.ndim else 1


def _taken(x: Tensor, d: int, picks: np.ndarray, keepdim: bool) -> ValuesAndIndices:
    """The entries of ``x`` at ``picks`` (kept length 1 along ``d``) and the picks, as the
    named tuple; the values carry the gradient to the entries picked."""
    picks = picks.astype(np.int64, copy=False)
    if not x.ndim:
        return ValuesAndIndices(x.reshape(1).gather(0, Tensor(picks.reshape(1))).reshape(()),
                                as_leaf(picks.reshape(())))
    values = x.gather(d, Tensor(picks))
    if not keepdim:
        values, picks = values.squeeze(d), picks.squeeze(d)
    return ValuesAndIndices(values, as_leaf(picks))


def _order(x: Tensor, d: int) -> np.ndarray:
    """The stable ascending order along ``d`` (NaN last) of ``x``'s entries (0-d: as 1-D)."""
    a = x._data if x.ndim else x._data.reshape(1)
    return np.argsort(a, axis=d, kind="stable")


def kthvalue(input: Tensor, k: int, dim: int = -1, keepdim: bool = False) -> ValuesAndIndices:
    """The named tuple ``(values, indices)`` of the ``k``-th smallest entry (from 1) along
    ``dim``, NaN counting as the largest; of tied entries, the index of the first one::

        tg.kthvalue(tg.tensor([3.0, 1.0, 2.0]), 2)  # values=tensor(2.), indices=tensor(2)
    """
    x = tensor_of(input)
    if x.dtype == bool:
        raise NotImplementedError("\"kthvalue_cpu\" not implemented for 'Bool'")
    d = normalize_dim(dim, x.ndim)
    k = operator.index(k)
    if not 1 <= k <= _length(x, d):
        # (of an empty dim, PyTorch's IndexError, as its other reductions over one)
        kind = IndexError if _length(x, d) == 0 else RuntimeError
        raise kind(f"kthvalue(): selected number k out of range for dimension {d}")
    return _taken(x, d, np.take(_order(x, d), [k - 1], axis=d), keepdim)


def mode(input: Tensor, dim: int = -1, keepdim: bool = False) -> ValuesAndIndices:
    """The named tuple ``(values, indices)`` of the most frequent value along ``dim`` (the
    smallest of the most frequent ones) and the last index where it is; NaN entries count
    once each. The values carry the gradient to that entry."""
    x = tensor_of(input)
    d = normalize_dim(dim, x.ndim)
    n = _length(x, d)
    if not n:
        raise IndexError(f"mode(): Expected reduction dim {d} to have non-zero size.")
    order = np.moveaxis(_order(x, d), d, -1)
    rows = np.take_along_axis(np.moveaxis(x._data if x.ndim else x._data.reshape(1), d, -1),
                              order, axis=-1)
    # at each sorted position, how many equal entries end there: a run's length at its end
    position = np.arange(n)
    starts = np.ones(rows.shape, bool)
    starts[..., 1:] = rows[..., 1:] != rows[..., :-1]
    run_start = np.maximum.accumulate(np.where(starts, position, 0), axis=-1)
    counted = position - run_start + 1
    # the first position reaching the largest count ends the smallest most frequent value's
    # run, where the stable order puts its last index
    end = np.argmax(counted == counted.max(axis=-1, keepdims=True), axis=-1)[..., None]
    picks = np.moveaxis(np.take_along_axis(order, end, axis=-1), -1, d)
    return _taken(x, d, picks, keepdim)


class SharedAmongEqual(Function):
    """``value``, a 0-d array found among ``a``'s entries, whose gradient is shared evenly by
    every entry equal to it (NaN ones if it is NaN), as PyTorch's ``median()``'s (also
    ``composite.median``'s)."""

    @staticmethod
    def forward(ctx, a, value):
        equal = np.isnan(a) if np.isnan(value) else a == value
        ctx.save_for_backward(equal)
        return value.copy()

    @staticmethod
    def backward(ctx, grad):
        (equal,) = ctx.saved_tensors
        return np.where(equal, grad / equal.sum(), 0).astype(grad.dtype, copy=False), None


def nanmedian(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Any:
    """The median of the entries that are not NaN (the lower middle one of an even count; NaN
    if all are); along ``dim``, the named tuple ``(values, indices)``. Without ``dim`` the
    gradient is shared by the entries equal to the median, as PyTorch's."""
    x = tensor_of(input)
    if x.dtype == bool:
        raise NotImplementedError("\"median_cpu\" not implemented for 'Bool'")
    if dim is None:
        flat = x._data.reshape(-1)
        kept = np.sort(flat[~np.isnan(flat)]) if flat.dtype.kind == "f" else np.sort(flat)
        if kept.size:
            value = np.asarray(kept[(kept.size - 1) // 2])
        else:  # NaN (for integers, none: PyTorch's smallest int64)
            value = np.array(np.nan if x.dtype.kind == "f" else np.iinfo(np.int64).min,
                             x.dtype if x.dtype.kind == "f" else np.int64)
        return SharedAmongEqual.apply(x, value)
    d = normalize_dim(dim, x.ndim)
    n = _length(x, d)
    if not n:
        raise IndexError(f"median(): Expected reduction dim {d} to have non-zero size.")
    order = _order(x, d)
    a = x._data if x.ndim else x._data.reshape(1)
    valid = (~np.isnan(a)).sum(axis=d, keepdims=True) if a.dtype.kind == "f" else \
        np.full_like(np.take(order, [0], axis=d), n)
    middle = np.maximum(valid - 1, 0) // 2  # a row of NaN only: its first NaN
    return _taken(x, d, np.take_along_axis(order, middle, axis=d), keepdim)


def _weights(w: Any, name: str, observations: int, integral: bool) -> Tensor:
    t = tensor_of(w)
    if t.ndim > 1:
        raise RuntimeError(f"cov(): expected {name} to have one or fewer dimensions but got "
                           f"{name} with {t.ndim} dimensions")
    if t.numel() != observations:
        raise RuntimeError(f"cov(): expected {name} to have the same numel as there are "
                           f"observations in the input but got {t.numel()} != {observations}")
    if integral and t.dtype.kind not in "iu":
        raise RuntimeError(f"cov(): expected {name} to have integral dtype but got {name} "
                           f"with {t.dtype} dtype")
    if not integral and t.dtype.kind != "f":
        raise RuntimeError(f"cov(): expected {name} to have floating point dtype but got "
                           f"{name} with {t.dtype} dtype")
    if (t._data < 0).any():
        raise RuntimeError(f"cov(): {name} cannot be negative")
    return t.reshape(-1)


def cov(input: Tensor, *, correction: int = 1, fweights: Tensor | None = None,
        aweights: Tensor | None = None) -> Tensor:
    """The covariance matrix of the variables in the rows of ``input`` (a 1-D input is one
    variable; one variable gives a 0-d result), observed in its columns, each observation
    weighted by ``fweights`` (integer counts) times ``aweights`` (floating weights), divided
    by the weights' sum less ``correction`` (a divisor <= 0 warns and gives inf or NaN)::

        tg.cov(tg.tensor([1.0, 2.0, 4.0]))  # tensor(2.3333)
    """
    x = tensor_of(input)
    if x.ndim > 2:
        raise RuntimeError(f"cov(): expected input to have two or fewer dimensions but got an "
                           f"input with {x.ndim} dimensions")
    if x.dtype.kind != "f":
        x = x.to(dtypes.get_default_dtype())
    table = x.reshape(1, -1) if x.ndim < 2 else x
    n = table.shape[1]
    f = None if fweights is None else _weights(fweights, "fweights", n, True)
    a = None if aweights is None else _weights(aweights, "aweights", n, False)
    w = a if f is None else f if a is None else f * a
    divisor: Any
    if w is None:
        average, divisor = table.mean(dim=1, keepdim=True), n - correction
    else:
        total = w.sum()
        average = (table * w).sum(dim=1, keepdim=True) / total
        divisor = total - correction if a is None else \
            total - correction * (w * a).sum() / total
    if float(divisor.detach() if isinstance(divisor, Tensor) else divisor) <= 0:  # (no warning)
        warnings.warn("cov(): degrees of freedom is <= 0. Correction should be strictly less "
                      "than the number of observations.", UserWarning, stacklevel=2)
        divisor = divisor * 0 if isinstance(divisor, Tensor) else 0
    centered = table - average
    with np.errstate(divide="ignore", invalid="ignore"):  # (inf or NaN, warned about above)
        c = (centered if w is None else centered * w) @ centered.mT / divisor
    return c.squeeze()  # (as PyTorch: one variable gives a 0-d result, even as a row)


def corrcoef(input: Tensor) -> Tensor:
    """The correlation coefficients of the variables in the rows (``cov`` scaled by their
    standard deviations), limited to [-1, 1]."""
    c = cov(input)
    if not c.ndim:
        return c / c
    spread = c.diagonal().sqrt()
    return (c / spread.unsqueeze(1) / spread.unsqueeze(0)).clamp(-1, 1)


def histc(input: Tensor, bins: int = 100, min: float = 0, max: float = 0  # noqa: A002
          ) -> Tensor:
    """The counts of entries in ``bins`` equal bins over [min, max] (the entries' own range
    if both are equal; entries outside it and NaN are not counted), in the input's dtype,
    outside the graph::

        tg.histc(tg.tensor([1.0, 2.0, 1.0]), bins=4, min=0, max=3)  # [0., 2., 1., 0.]
    """
    x = tensor_of(input)
    if x.dtype.kind != "f":
        raise NotImplementedError(f"\"histogram_cpu\" not implemented for "
                                  f"'{dtypes.short_name(x.dtype)}'")
    bins = operator.index(bins)
    if bins <= 0:
        raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for "
                           "dimension 0")
    a = x._data.reshape(-1)
    low, high = x.dtype.type(min), x.dtype.type(max)
    if low == high and a.size:
        low, high = a.min(), a.max()  # (NaN, if there is one: refused below)
    if low == high:
        low, high = low - 1, high + 1
    if not (np.isfinite(low) and np.isfinite(high)):
        raise RuntimeError(f"torch.histc: range of [{low}, {high}] is not finite")
    if low > high:
        raise RuntimeError("torch.histc: max must be larger than min")
    inside = a[(a >= low) & (a <= high)]
    # PyTorch's arithmetic, in the input's dtype, so that entries near an edge fall alike
    with np.errstate(all="ignore"):  # (a range beyond the dtype's: inf, without a warning)
        at = ((inside - low) * x.dtype.type(bins) / (high - low)).astype(np.int64)
    counts = np.bincount(np.minimum(at, bins - 1), minlength=bins)
    return as_leaf(counts.astype(x.dtype))


def unfold(input: Tensor, dimension: int, size: int, step: int) -> Tensor:
    """The windows of ``size`` entries along ``dimension``, one every ``step``: that dimension
    becomes the windows' count and a new last one holds each window. PyTorch's is a view;
    this is a copy (writing into it leaves ``input`` alone). Overlapping windows add their
    gradients::

        tg.arange(5.0).unfold(0, 2, 2)  # [[0., 1.], [2., 3.]]
    """
    x = tensor_of(input)
    d = normalize_dim(dimension, x.ndim)
    size, step = operator.index(size), operator.index(step)
    length = _length(x, d)
    if size < 0:
        raise RuntimeError(f"size is {size} but must be >= 0")
    if size > length:
        raise RuntimeError(f"maximum size for tensor at dimension {d} is {length} but size "
                           f"is {size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    starts = np.arange((length - size) // step + 1) * step
    windows = starts[:, None] + np.arange(size)
    if not x.ndim:
        return x.reshape(1)[windows[0]]
    return x[(slice(None),) * d + (windows,)].movedim(d + 1, -1)
