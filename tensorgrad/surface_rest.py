"""More of PyTorch's top-level names: histograms, numerical integration and differentiation
(``trapezoid``, ``cumulative_trapezoid``, ``gradient``), ``unravel_index``, ``vander``, the
``*_copy`` forms of the view ops, ``empty_strided``/``empty_permuted``, the ATen forms of a few
functional ops (``poisson_nll_loss``, ``triplet_margin_loss``, ``feature_dropout``, ...), random
``binomial``, and switches (``set_warn_always``, ``set_anomaly_enabled``,
``set_deterministic_debug_mode``, the inter-op thread count, ``set_default_tensor_type``).

Loaded when first used (``tensorgrad/__init__.py`` finds the names here).
"""

from __future__ import annotations

import builtins
import math
import operator
import warnings
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from . import dtypes, ops
from .creation import _made, as_dtype, size_argument
from .random import Generator, rng
from .tensor import Tensor, as_leaf, normalize_dim, tensor_of

# ---- histograms --------------------------------------------------------------------------


class HistogramResult(NamedTuple):
    """``histogram``'s result: the counts and the ``bins + 1`` edges."""

    hist: Tensor
    bin_edges: Tensor


class HistogramddResult(NamedTuple):
    """``histogramdd``'s result: the counts and each dimension's edges."""

    hist: Tensor
    bin_edges: tuple[Tensor, ...]


def _histogram_edges(points: np.ndarray, bins: Any, bounds: tuple[float, float] | None,
                     dtype: np.dtype, dimension: int) -> np.ndarray:
    """The edges of one dimension: ``bins`` (a tensor of edges, increasing) or that many
    equal bins over ``bounds`` (the points' least and greatest by default, widened by 1/2 on
    each side where they are equal, [0, 1] with no points)."""
    if isinstance(bins, Tensor):
        edges = bins._data
        if edges.ndim != 1 or edges.size < 1:
            raise RuntimeError("torch.histogramdd: bins tensor should have one dimension and "
                               "at least 1 element")
        if (np.diff(edges) < 0).any():
            raise ValueError("torch.histogramdd: bins must increase monotonically")
        return edges.astype(dtype)
    count = operator.index(bins)
    if count <= 0:
        raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {count} for "
                           f"dimension {dimension}")
    if bounds is None:
        low, high = (float(points.min()), float(points.max())) if points.size else (0.0, 1.0)
    else:
        low, high = float(bounds[0]), float(bounds[1])
    if low > high:
        raise RuntimeError(f"torch.histogramdd: min should not exceed max, but got min {low:g} "
                           f"max {high:g} for dimension {dimension}")
    if not (math.isfinite(low) and math.isfinite(high)):
        raise RuntimeError(f"torch.histogramdd: dimension {dimension}'s range [{low:g}, "
                           f"{high:g}] is not finite")
    if low == high:
        low, high = low - 0.5, high + 0.5
    return np.linspace(low, high, count + 1).astype(dtype)


def _bin_of(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Each value's bin (the last one includes its right edge), -1 outside the edges."""
    place = np.searchsorted(edges, values, side="right") - 1
    place = np.where(values == edges[-1], len(edges) - 2, place)
    outside = ~((values >= edges[0]) & (values <= edges[-1]))  # (NaN too)
    return np.where(outside, -1, place)


def _histogram(points: np.ndarray, bins: Sequence[Any], bounds: Sequence[float] | None,
               weight: Tensor | None, density: bool) -> tuple[np.ndarray, list[np.ndarray]]:
    dtype = points.dtype
    count = points.shape[1]
    if bounds is not None and len(bounds) != 2 * count:
        raise RuntimeError(f"torch.histogramdd: for a {count}-dimensional histogram, range "
                           f"should have {2 * count} elements, but got {len(bounds)}")
    edges = [_histogram_edges(points[:, d], bins[d],
                              None if bounds is None else (bounds[2 * d], bounds[2 * d + 1]),
                              dtype, d) for d in builtins.range(count)]
    places = [_bin_of(points[:, d], edges[d]) for d in builtins.range(count)]
    inside = np.logical_and.reduce([p >= 0 for p in places]) if places else np.ones(0, bool)
    shape = tuple(len(e) - 1 for e in edges)
    flat = np.ravel_multi_index(tuple(p[inside] for p in places), shape)
    weights = None
    if weight is not None:
        weights = tensor_of(weight)._data.reshape(-1)
        if weights.dtype != dtype:
            raise RuntimeError(f"torch.histogramdd: the weights must be of the input's dtype "
                               f"({dtype}), not {weights.dtype}")
        if weights.size != points.shape[0]:
            raise RuntimeError("torch.histogramdd: if weight tensor is provided it should have "
                               "the same shape as the input tensor excluding its innermost "
                               "dimension")
        weights = weights[inside]
    size = int(np.prod(shape))
    hist = np.bincount(flat, weights, minlength=size).astype(dtype).reshape(shape)
    if density:
        total = hist.sum()
        for d, e in enumerate(edges):
            widths = np.diff(e).reshape([-1 if i == d else 1 for i in builtins.range(count)])
            hist = hist / widths
        hist = (hist / total).astype(dtype)
    return hist, edges


def _floating_input(input: Any, name: str) -> np.ndarray:
    data = tensor_of(input)._data
    if data.dtype.kind != "f":
        raise NotImplementedError(f'"{name}" not implemented for \'{data.dtype}\'')
    return data


def histogram(input: Tensor, bins: Any = 100, *, range: Sequence[float] | None = None,
              weight: Tensor | None = None, density: bool = False) -> HistogramResult:
    """The histogram of ``input``'s values (flattened): ``bins`` equal bins over ``range``
    (its least and greatest value by default), or the edges ``bins`` (a tensor); each value
    counts ``weight`` (1 by default); ``density`` scales it to integrate to 1::

        histogram(tensor([1.0, 2.0, 1.0]), bins=2)    # hist [2., 1.], edges [1., 1.5, 2.]
    """
    data = _floating_input(input, "histogram_cpu")
    hist, edges = _histogram(data.reshape(-1, 1), [bins], range, weight, density)
    return HistogramResult(as_leaf(hist), as_leaf(edges[0]))


def histogramdd(input: Tensor, bins: Any = 10, *, range: Sequence[float] | None = None,
                weight: Tensor | None = None, density: bool = False) -> HistogramddResult:
    """The histogram of the points in ``input``'s last dimension (..., D): ``bins`` an int,
    D ints or D tensors of edges; ``range`` D pairs flattened (min0, max0, min1, ...)."""
    data = _floating_input(input, "histogramdd")
    if data.ndim < 2:
        raise RuntimeError("torch.histogramdd: input tensor should have at least 2 dimensions")
    count = data.shape[-1]
    if isinstance(bins, (int, np.integer)):
        per_dim: list[Any] = [bins] * count
    else:
        per_dim = list(bins)
        if len(per_dim) != count:
            raise RuntimeError(f"torch.histogramdd: expected {count} sequences of bin edges "
                               f"for each dimension, but got {len(per_dim)}")
    hist, edges = _histogram(data.reshape(-1, count), per_dim, range, weight, density)
    return HistogramddResult(as_leaf(hist), tuple(as_leaf(e) for e in edges))


# ---- integration and differentiation -----------------------------------------------------


def _floating_tensor(x: Any) -> Tensor:
    t = tensor_of(x)
    return t if t.dtype.kind == "f" else t.to(dtypes.DEFAULT_FLOAT)


def _along(t: Tensor, dim: int, start: int | None, stop: int | None) -> Tensor:
    index = [slice(None)] * t.ndim
    index[dim] = slice(start, stop)
    return t[tuple(index)]


def _spacing_of(x: Tensor, y: Tensor, dim: int) -> Tensor:
    """The differences of the sample points ``x`` along ``dim`` of ``y``: a vector of them
    lines up with that dimension; otherwise x broadcasts against y."""
    if x.ndim == 1:
        steps = x[1:] - x[:-1]
        shape = [1] * y.ndim
        shape[dim] = steps.shape[0]
        return steps.reshape(shape)
    dim_x = dim - y.ndim + x.ndim
    return _along(x, dim_x, 1, None) - _along(x, dim_x, None, -1)


def trapezoid(y: Tensor, x: Any = None, *, dx: float | None = None, dim: int = -1) -> Tensor:
    """The trapezoid rule's integral of ``y`` along ``dim``: at the sample points ``x``, or
    ``dx`` apart (1 by default)::

        trapezoid(tensor([1.0, 2.0, 3.0]))    # 4.
    """
    values = _floating_tensor(y)
    d = normalize_dim(dim, values.ndim)
    if x is not None and dx is not None:
        raise TypeError("trapezoid(): give the sample points x or the spacing dx, not both")
    if values.shape[d] == 0:  # (PyTorch's zeros here are outside the graph)
        return as_leaf(np.zeros(values._data.sum(d).shape, values._data.dtype))
    if isinstance(x, Tensor):
        if x.ndim == 1 and x.shape[0] != values.shape[d]:
            raise RuntimeError(f"trapezoid: There must be one `x` value for each sample point "
                               f"({x.shape[0]} given, {values.shape[d]} needed)")
        pairs = _along(values, d, 1, None) + _along(values, d, None, -1)
        return (_spacing_of(_floating_tensor(x), values, d) * pairs).sum(d) / 2
    step = 1.0 if x is None and dx is None else float(dx if dx is not None else x)
    ends = values.select(d, 0) + values.select(d, -1)
    return (values.sum(d) - ends * 0.5) * step


def trapz(y: Tensor, x: Any = None, *, dx: float | None = None, dim: int = -1) -> Tensor:
    """``trapezoid``'s older name."""
    return trapezoid(y, x, dx=dx, dim=dim)


def cumulative_trapezoid(y: Tensor, x: Any = None, *, dx: float | None = None,
                         dim: int = -1) -> Tensor:
    """The running trapezoid rule along ``dim``: one fewer value than ``y`` there, the k-th the
    integral from the first point to the (k + 1)-th."""
    values = _floating_tensor(y)
    d = normalize_dim(dim, values.ndim)
    if x is not None and dx is not None:
        raise TypeError("cumulative_trapezoid(): give x or dx, not both")
    pairs = _along(values, d, 1, None) + _along(values, d, None, -1)
    if isinstance(x, Tensor):
        if x.ndim == 1 and x.shape[0] != values.shape[d]:
            raise RuntimeError(f"cumulative_trapezoid: There must be one `x` value for each "
                               f"sample point ({x.shape[0]} given, {values.shape[d]} needed)")
        return (_spacing_of(_floating_tensor(x), values, d) * pairs / 2).cumsum(d)
    step = 1.0 if x is None and dx is None else float(dx if dx is not None else x)
    return (pairs * (step / 2)).cumsum(d)


def _gradient_one(f: Tensor, dim: int, spacing: Any, edge_order: int) -> Tensor:
    """numpy.gradient's differences along ``dim``: central inside (second order, for uneven
    coordinates too), one-sided of ``edge_order`` at the two ends."""
    n = f.shape[dim]

    def at(start: int | None, stop: int | None) -> Tensor:
        return _along(f, dim, start, stop)

    def lined_up(v: Tensor) -> Tensor:
        shape = [1] * f.ndim
        shape[dim] = v.shape[0]
        return v.reshape(shape)

    if not isinstance(spacing, Tensor):
        h = float(spacing)
        inside = (at(2, None) - at(None, -2)) / (2 * h)
        if edge_order == 1:
            first = (at(1, 2) - at(0, 1)) / h
            last = (at(n - 1, n) - at(n - 2, n - 1)) / h
        else:
            first = (-1.5 * at(0, 1) + 2 * at(1, 2) - 0.5 * at(2, 3)) / h
            last = (0.5 * at(n - 3, n - 2) - 2 * at(n - 2, n - 1) + 1.5 * at(n - 1, n)) / h
        return ops.cat([first, inside, last], dim)
    coordinates = spacing if spacing.dtype.kind == "f" else spacing.to(f.dtype)
    steps = coordinates[1:] - coordinates[:-1]
    hs, hd = steps[:-1], steps[1:]
    a = lined_up(-hd / (hs * (hd + hs)))
    b = lined_up((hd - hs) / (hd * hs))
    c = lined_up(hs / (hd * (hd + hs)))
    inside = a * at(None, -2) + b * at(1, -1) + c * at(2, None)
    if edge_order == 1:
        first = (at(1, 2) - at(0, 1)) / steps[0]
        last = (at(n - 1, n) - at(n - 2, n - 1)) / steps[-1]
    else:
        h1, h2 = steps[0], steps[1]
        first = (-(2 * h1 + h2) / (h1 * (h1 + h2)) * at(0, 1) + (h1 + h2) / (h1 * h2) * at(1, 2)
                 - h1 / (h2 * (h1 + h2)) * at(2, 3))
        h1, h2 = steps[-1], steps[-2]
        last = (h1 / (h2 * (h1 + h2)) * at(n - 3, n - 2) - (h1 + h2) / (h1 * h2) * at(n - 2, n - 1)
                + (2 * h1 + h2) / (h1 * (h1 + h2)) * at(n - 1, n))
    return ops.cat([first, inside, last], dim)


def gradient(input: Tensor, *, spacing: Any = 1, dim: Any = None,
             edge_order: int = 1) -> tuple[Tensor, ...]:
    """The derivative of the function sampled by ``input`` along each of ``dim`` (all by
    default), one tensor each: second-order central differences inside, one-sided ones of
    ``edge_order`` (1 or 2) at the ends; ``spacing`` a step, one per dim, or the sample
    coordinates (tensors) of each dim::

        gradient(tensor([1.0, 4.0, 9.0, 16.0]))    # (tensor([3., 4., 6., 7.]),)
    """
    f = _floating_tensor(input)
    if edge_order not in (1, 2):
        raise RuntimeError("torch.gradient only supports edge_order=1 and edge_order=2.")
    if dim is None:
        dims = list(builtins.range(f.ndim))
    elif isinstance(dim, (int, np.integer)):
        dims = [int(dim)]
    else:
        dims = [int(d) for d in dim]
    dims = [normalize_dim(d, f.ndim) for d in dims]
    if isinstance(spacing, (list, tuple)):
        if len(spacing) != len(dims):
            raise RuntimeError(f"torch.gradient expected spacing to be unspecified, a scalar or "
                               f"it's spacing and dim arguments to have the same length, but got "
                               f"a spacing argument of length {len(spacing)} and a dim argument "
                               f"of length {len(dims)}.")
        spacings = list(spacing)
    else:
        spacings = [spacing] * len(dims)
    results = []
    for d, s in zip(dims, spacings):
        if f.shape[d] < edge_order + 1:
            raise RuntimeError("torch.gradient expected each dimension size to be at least "
                               "edge_order+1")
        if isinstance(s, Tensor) and (s.ndim != 1 or s.shape[0] != f.shape[d]):
            raise RuntimeError("torch.gradient expected each tensor to be on the same device "
                               "and to have as many coordinates as its dimension's size")
        results.append(_gradient_one(f, d, s, edge_order))
    return tuple(results)


# ---- indices and matrices ----------------------------------------------------------------


def unravel_index(indices: Tensor, shape: Any) -> tuple[Tensor, ...]:
    """The coordinates in an array of ``shape`` of each flat index (PyTorch's reading: taken
    modulo the number of elements)::

        unravel_index(tensor([4, 5]), (2, 3))    # (tensor([1, 1]), tensor([1, 2]))
    """
    t = tensor_of(indices)
    if t._data.dtype.kind not in "iu":
        raise TypeError(f"expected 'indices' to be integer dtype, but got {t.dtype}")
    sizes = (operator.index(shape),) if isinstance(shape, (int, np.integer)) else tuple(
        operator.index(s) for s in shape)
    if any(s < 0 for s in sizes):
        raise ValueError("'shape' cannot have negative values, but got " + str(sizes))
    total = int(np.prod(sizes))
    flat = t._data.astype(np.int64)
    if total == 0:
        if flat.size:
            raise RuntimeError("unravel_index: an index into an empty shape")
        return tuple(as_leaf(np.zeros(flat.shape, np.int64)) for _ in sizes)
    coordinates = np.unravel_index(np.mod(flat, total), sizes)
    return tuple(as_leaf(np.asarray(c, np.int64)) for c in coordinates)


def vander(x: Tensor, N: int | None = None, increasing: bool = False) -> Tensor:  # noqa: N803
    """The Vandermonde matrix of the vector ``x``: its columns x**(N-1), ..., x**0 (the other
    way with ``increasing``), N = len(x) by default."""
    from . import linalg

    t = tensor_of(x)
    if t.ndim != 1:
        raise RuntimeError("x must be a one-dimensional tensor.")
    count = t.shape[0] if N is None else operator.index(N)
    if count < 0:
        raise RuntimeError("N must be non-negative.")
    if t._data.dtype == np.bool_:
        t = t.to(np.int64)
    dtype = t._data.dtype
    if count <= 1:
        out = as_leaf(np.ones((t.shape[0], count), dtype))
        return out
    powers = linalg.vander(t, N=count)
    return powers if increasing else powers.flip(-1)


def adjoint(input: Tensor) -> Tensor:
    """The conjugate transpose of the last two dimensions (a view; real tensors: their
    transpose)."""
    t = tensor_of(input)
    if t.ndim < 2:
        raise RuntimeError("tensor.adjoint() is only supported on matrices or batches of "
                           "matrices. Got 1-D tensor.")
    return t.transpose(-2, -1)


def index_fill(input: Tensor, dim: int, index: Tensor, value: Any) -> Tensor:
    """``input.index_fill(dim, index, value)``: a copy with the slices at ``index`` set."""
    return tensor_of(input).index_fill(dim, index, value)


def pdist(input: Tensor, p: float = 2) -> Tensor:
    """``nn.functional.pdist``: the p-norm distances between the rows, pair by pair."""
    from .functional import pdist as fused

    return fused(input, p)


def channel_shuffle(input: Tensor, groups: int) -> Tensor:
    """``nn.functional.channel_shuffle``."""
    from .conv import channel_shuffle as shuffle

    return shuffle(input, groups)


native_channel_shuffle = channel_shuffle


# ---- the *_copy forms: the view op's result, copied (gradients flow through the copy) -----


def _copied(name: str, view: Callable[..., Any]) -> Callable[..., Any]:
    def function(input: Tensor, *args: Any, **kwargs: Any) -> Any:
        result = view(tensor_of(input), *args, **kwargs)
        if isinstance(result, (tuple, list)):
            return tuple(r.clone() for r in result)
        return result.clone()

    function.__name__ = function.__qualname__ = name
    function.__doc__ = (f"``{name[:-5]}``'s result as a tensor of its own (a copy, not a "
                        "view); gradients flow through it.")
    return function


def _slice(t: Tensor, dim: int = 0, start: int | None = None, end: int | None = None,
           step: int = 1) -> Tensor:
    return t[(slice(None),) * normalize_dim(dim, t.ndim) + (slice(start, end, step),)]


alias_copy = _copied("alias_copy", lambda t: t)


def detach_copy(input: Tensor) -> Tensor:
    """A copy of ``input``'s values. As PyTorch's, it joins the graph (requires grad when
    ``input`` does) but has no derivative: backward through it raises RuntimeError."""
    from .ops import NoDerivative

    t = tensor_of(input)
    return NoDerivative.apply(np.copy, "detach_copy", RuntimeError, t)


diagonal_copy = _copied("diagonal_copy", lambda t, *a, **k: t.diagonal(*a, **k))
expand_copy = _copied("expand_copy", lambda t, size, implicit=False: t.expand(*size))
permute_copy = _copied("permute_copy", lambda t, dims: t.permute(*dims))
select_copy = _copied("select_copy", lambda t, dim, index: t.select(dim, index))
slice_copy = _copied("slice_copy", _slice)
split_copy = _copied("split_copy", lambda t, size, dim=0: t.split(size, dim))
split_with_sizes_copy = _copied("split_with_sizes_copy",
                                lambda t, sizes, dim=0: t.split(list(sizes), dim))
squeeze_copy = _copied("squeeze_copy", lambda t, *a: t.squeeze(*a))
t_copy = _copied("t_copy", lambda t: t.t())
transpose_copy = _copied("transpose_copy", lambda t, dim0, dim1: t.transpose(dim0, dim1))
unbind_copy = _copied("unbind_copy", lambda t, dim=0: t.unbind(dim))
unfold_copy = _copied("unfold_copy", lambda t, dimension, size, step: t.unfold(dimension, size,
                                                                               step))
unsqueeze_copy = _copied("unsqueeze_copy", lambda t, dim: t.unsqueeze(dim))
view_copy = _copied("view_copy", lambda t, *shape: t.view(*shape))


# ---- creation ----------------------------------------------------------------------------


def empty_strided(size: Sequence[int], stride: Sequence[int], *, dtype: Any = None,
                  layout: Any = None, device: Any = None, requires_grad: bool = False,
                  pin_memory: bool = False) -> Tensor:
    """A tensor of ``size`` laid out with the strides ``stride`` (in elements) over memory of
    its own; its values are zeros here (PyTorch leaves them unset)."""
    shape = size_argument((tuple(size),))
    strides = tuple(operator.index(s) for s in stride)
    if len(strides) != len(shape):
        raise RuntimeError(f"mismatch in length of strides and shape: {len(strides)} strides "
                           f"for {len(shape)} sizes")
    if any(s < 0 for s in strides):
        raise RuntimeError("as_strided: Negative strides are not supported at the moment, got "
                           f"strides: {list(strides)}")
    resolved = np.dtype(dtypes.DEFAULT_FLOAT) if dtype is None else as_dtype(dtype)
    extent = 0 if 0 in shape else 1 + sum((n - 1) * s for n, s in zip(shape, strides))
    memory = np.zeros(max(extent, 1), resolved)
    data = np.lib.stride_tricks.as_strided(memory, shape,
                                           tuple(s * resolved.itemsize for s in strides))
    return _made(data, device, requires_grad)


def empty_permuted(size: Sequence[int], physical_layout: Sequence[int], *, dtype: Any = None,
                   layout: Any = None, device: Any = None, requires_grad: bool = False,
                   pin_memory: bool = False) -> Tensor:
    """A tensor of ``size`` whose dimensions lie in memory in the order ``physical_layout``
    (outermost first): ``empty(size[physical_layout]).permute(inverse)``."""
    shape = size_argument((tuple(size),))
    order = [operator.index(d) for d in physical_layout]
    if sorted(order) != list(builtins.range(len(shape))):
        raise RuntimeError(f"Number of dimensions in size does not match the length of the "
                           f"physical_layout; or physical_layout is not a permutation of "
                           f"0..{len(shape) - 1}")
    resolved = np.dtype(dtypes.DEFAULT_FLOAT) if dtype is None else as_dtype(dtype)
    memory = np.zeros([shape[d] for d in order], resolved)
    return _made(memory.transpose(np.argsort(order)), device, requires_grad)


def range(start: float = 0, end: float | None = None, step: float = 1, *, dtype: Any = None,
          layout: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """``start``, ``start + step``, ... up to ``end`` included, in the default float dtype
    (PyTorch's deprecated function: its warning; ``arange`` stops before ``end``)."""
    warnings.warn("torch.range is deprecated and will be removed in a future release because "
                  "its behavior is inconsistent with Python's range builtin. Instead, use "
                  "torch.arange, which produces values in [start, end).", UserWarning,
                  stacklevel=2)
    if end is None:
        start, end = 0, start
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (step > 0 and end < start) or (step < 0 and end > start):
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    resolved = np.dtype(dtypes.DEFAULT_FLOAT) if dtype is None else as_dtype(dtype)
    count = int(math.floor((end - start) / step)) + 1
    values = start + step * np.arange(count, dtype=np.float64)
    return _made(values.astype(resolved), device, requires_grad)


def binomial(count: Tensor, prob: Tensor, generator: Generator | None = None) -> Tensor:
    """Draws from the binomial distribution of each ``count`` (floating) and ``prob``."""
    n, p = tensor_of(count), tensor_of(prob)
    if n._data.dtype.kind != "f":
        raise ValueError(f"binomial only supports floating-point dtypes for count, got: "
                         f"{n.dtype}")
    counts, probs = np.broadcast_arrays(n._data, p._data)
    if (probs < 0).any() or (probs > 1).any() or np.isnan(probs).any():
        raise RuntimeError("binomial: the probabilities must be in [0, 1]")
    drawn = rng(generator).binomial(counts.astype(np.int64), probs.astype(np.float64))
    return as_leaf(drawn.astype(n._data.dtype))


# ---- the ATen forms of functional ops ----------------------------------------------------


def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool, full: bool, eps: float,
                     reduction: int) -> Tensor:
    """``nn.functional.poisson_nll_loss`` with every argument given, the reduction a number
    (0 none, 1 mean, 2 sum)."""
    from .aten_forms import _reduction
    from .functional import poisson_nll_loss as loss

    return loss(input, target, log_input=log_input, full=full, eps=eps,
                reduction=_reduction(reduction, "poisson_nll_loss", 6))


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor,
                        margin: float = 1.0, p: float = 2, eps: float = 1e-6,
                        swap: bool = False, reduction: int = 0) -> Tensor:
    """``nn.functional.triplet_margin_loss`` with the reduction a number (none by default)."""
    from .aten_forms import _reduction
    from .functional import triplet_margin_loss as loss

    return loss(anchor, positive, negative, margin=margin, p=p, eps=eps, swap=swap,
                reduction=_reduction(reduction, "triplet_margin_loss", 8))


def _probability(p: float) -> float:
    if not 0 <= p <= 1:
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got {p}")
    return p


def dropout_(input: Tensor, p: float, train: bool) -> Tensor:
    """``nn.functional.dropout(input, p, train, inplace=True)``."""
    from .functional import dropout

    return dropout(input, _probability(p), train, inplace=True)


def _feature_mask(x: Tensor, p: float) -> Tensor:
    """The kept (scaled by 1 / (1 - p)) or dropped channels: one draw per (sample, channel)."""
    from .functional import dropout

    shape = (*x.shape[:2], *([1] * (x.ndim - 2)))
    return dropout(as_leaf(np.ones(shape, x._data.dtype)), p, True)


def feature_dropout(input: Tensor, p: float, train: bool) -> Tensor:
    """Dropout of whole channels (dimension 1), each sample's own: what ``dropout2d`` and
    ``dropout3d`` do."""
    x = tensor_of(input)
    if not train or _probability(p) == 0:
        return x.clone() if not train else x * 1
    return x * _feature_mask(x, p)


def feature_dropout_(input: Tensor, p: float, train: bool) -> Tensor:
    """``feature_dropout`` written into ``input``."""
    from .tensor import written_in_place

    x = tensor_of(input)
    if not train or _probability(p) == 0:
        return x
    mask = _feature_mask(x, p)
    return written_in_place(x, lambda: x * mask)


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """``nn.functional.celu`` in place."""
    from .functional import celu_ as celu

    return celu(input, alpha)


def selu_(input: Tensor) -> Tensor:
    """``nn.functional.selu`` in place."""
    from .functional import selu_ as selu

    return selu(input)


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:
    """``nn.functional.threshold`` in place."""
    from .functional import threshold_ as written

    return written(input, threshold, value)


def vmap(func: Callable[..., Any], in_dims: Any = 0, out_dims: Any = 0,
         randomness: str = "error", *, chunk_size: int | None = None) -> Callable[..., Any]:
    """``func.vmap``."""
    from .func import vmap as mapped

    return mapped(func, in_dims, out_dims, randomness, chunk_size=chunk_size)


# ---- switches ----------------------------------------------------------------------------

_warn_always = False
_interop_threads = 1
_check_nan = True


def set_warn_always(b: bool) -> None:
    """Ask warnings that PyTorch gives once per process to be given every time (kept as a
    switch: tensorgrad's warnings follow Python's filters)."""
    global _warn_always
    _warn_always = bool(b)


def is_warn_always_enabled() -> bool:
    """Whether ``set_warn_always(True)`` is in force."""
    return _warn_always


def get_device(input: Tensor) -> int:
    """The index of the device ``input`` is on: -1 for the CPU, where all tensors are."""
    if not isinstance(input, Tensor):
        raise TypeError(f"get_device(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    return -1


def get_num_interop_threads() -> int:
    """The number of threads for running independent ops at once (tensorgrad runs one at a
    time; the number set is kept)."""
    return _interop_threads


def set_num_interop_threads(nthreads: int) -> None:
    """Set the number ``get_num_interop_threads`` reports (a positive int)."""
    global _interop_threads
    if isinstance(nthreads, bool) or not isinstance(nthreads, (int, np.integer)):
        raise TypeError(f"set_num_interop_threads(): argument 'nthreads' must be int, not "
                        f"{type(nthreads).__name__}")
    if nthreads <= 0:
        raise RuntimeError("set_num_interop_threads expects a positive integer")
    _interop_threads = int(nthreads)


def set_anomaly_enabled(enabled: bool, check_nan: bool = True) -> None:
    """Turn anomaly mode on or off (``autograd.set_detect_anomaly`` as a plain call)."""
    global _check_nan
    from .autograd import set_detect_anomaly

    set_detect_anomaly(enabled, check_nan)
    _check_nan = bool(check_nan)


def is_anomaly_check_nan_enabled() -> bool:
    """Whether anomaly mode checks the gradients for NaN (as last set by
    ``set_anomaly_enabled``; True by default)."""
    return _check_nan


_DEBUG_MODES = {"default": 0, "warn": 1, "error": 2}


def set_deterministic_debug_mode(debug_mode: str | int) -> None:
    """0 / "default": nondeterministic ops allowed; 1 / "warn": they warn; 2 / "error": they
    raise (``use_deterministic_algorithms`` with ``warn_only``)."""
    from .switches import use_deterministic_algorithms

    if isinstance(debug_mode, str):
        if debug_mode not in _DEBUG_MODES:
            raise RuntimeError(f"invalid value of debug_mode, expected one of `default`, `warn`, "
                               f"`error`, but got {debug_mode}")
        mode = _DEBUG_MODES[debug_mode]
    elif isinstance(debug_mode, int) and not isinstance(debug_mode, bool):
        if debug_mode not in (0, 1, 2):
            raise RuntimeError(f"invalid value of debug_mode, expected 0, 1, or 2, but got "
                               f"{debug_mode}")
        mode = debug_mode
    else:
        raise TypeError(f"debug_mode must be str or int, but got {type(debug_mode)}")
    use_deterministic_algorithms(mode != 0, warn_only=mode == 1)


def get_deterministic_debug_mode() -> int:
    """0, 1 or 2, as ``set_deterministic_debug_mode`` takes them."""
    from .switches import (
        are_deterministic_algorithms_enabled,
        is_deterministic_algorithms_warn_only_enabled,
    )

    if not are_deterministic_algorithms_enabled():
        return 0
    return 1 if is_deterministic_algorithms_warn_only_enabled() else 2


def set_default_tensor_type(t: Any) -> None:
    """Make the float tensor type ``t`` (``FloatTensor``, ``DoubleTensor`` or their names)
    the default: ``set_default_dtype`` of its dtype (PyTorch's deprecated function: its
    warning)."""
    from .creation import LegacyTensorType

    warnings.warn("torch.set_default_tensor_type() is deprecated as of PyTorch 2.1, please use "
                  "torch.set_default_dtype() and torch.set_default_device() as alternatives.",
                  UserWarning, stacklevel=2)
    if isinstance(t, str):
        import tensorgrad

        name = t.removeprefix("torch.")
        kind = getattr(tensorgrad, name, None)
        if not isinstance(kind, LegacyTensorType):
            raise TypeError(f"invalid type: '{t}'")
        t = kind
    if not isinstance(t, LegacyTensorType):
        raise TypeError(f"invalid type: {t!r}")
    if t.dtype.kind != "f":
        raise TypeError("only floating-point types are supported as the default type")
    dtypes.set_default_dtype(t.dtype)
