"""Making tensors, as ``torch.*`` does: ``tensor``, ``zeros``, ``ones``, ``full``, ``empty``,
``arange``, ``eye``, the ``*_like`` forms, the random draws (``randn``, ``rand``, ``randint``,
``randperm``, ``multinomial``: from ``tensorgrad.random``'s one generator), ``tril`` and
``triu`` and the coordinates of triangles, ``tril_indices`` and ``triu_indices``.

Every factory takes ``dtype=``, ``device=`` and ``requires_grad=`` keywords as PyTorch's
do (the triangles' coordinates, integers, no ``requires_grad=``). Floating factories make
float64 by default (PyTorch: float32).
"""

from __future__ import annotations

import math
import operator
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from . import dtypes, ops
from .devices import check_device
from .random import Generator, rng
from .tensor import Tensor, as_leaf, from_values

# ---- arguments ----------------------------------------------------------------------------------


def as_dtype(dtype: Any) -> np.dtype:
    """``dtype`` (a NumPy dtype, a tensorgrad dtype name, a NumPy scalar type) as a dtype a
    tensor can hold."""
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"not a dtype: {dtype!r}") from None
    if resolved.kind not in "biuf":
        raise TypeError(f"a Tensor holds numbers or booleans, not {resolved}")
    return resolved


def size_argument(size: tuple, keyword: Any = None) -> tuple[int, ...]:
    """``zeros(2, 3)``, ``zeros((2, 3))``, ``zeros([2, 3])`` and ``zeros(size=(2, 3))`` alike."""
    if keyword is not None:
        if size:
            raise TypeError("give the size by position or as size=, not both")
        size = (keyword,)
    if len(size) == 1 and not isinstance(size[0], (int, np.integer, Tensor)):
        size = tuple(size[0])
    try:
        shape = tuple(operator.index(n) for n in size)
    except TypeError:
        raise TypeError(f"a size is a sequence of integers, not {size!r}") from None
    if any(n < 0 for n in shape):
        raise RuntimeError(f"a size of {shape}: a dimension cannot be negative")
    return shape


def _made(data: np.ndarray, device: Any, requires_grad: bool) -> Tensor:
    check_device(device)
    out = as_leaf(data)
    if requires_grad:
        out.requires_grad_()
    return out


def _floating_dtype(dtype: Any, name: str) -> np.dtype:
    resolved = dtypes.DEFAULT_FLOAT if dtype is None else as_dtype(dtype)
    if resolved.kind != "f":
        raise TypeError(f"{name} draws floating numbers, not {resolved}")
    return resolved


# ---- from data ----------------------------------------------------------------------------------


def tensor(data: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False
           ) -> Tensor:
    """A new leaf holding a copy of ``data`` (numbers, nested lists, an array, a tensor), as
    ``torch.tensor``: Python floats become float64, ints int64, bools bool. Of a tensor it
    warns, as PyTorch's, that ``detach().clone()`` says what it does."""
    check_device(device)
    if isinstance(data, Tensor):
        warnings.warn("To copy construct from a tensor, it is recommended to use "
                      "sourceTensor.detach().clone() or sourceTensor.detach().clone()."
                      "requires_grad_(True), rather than torch.tensor(sourceTensor).",
                      UserWarning, stacklevel=2)
    return from_values(data, requires_grad, None if dtype is None else as_dtype(dtype))


def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    """``data`` itself if it is a tensor of ``dtype`` already; a tensor of another dtype
    converted (``to``: in the graph, as PyTorch's); anything else, a new tensor of it."""
    check_device(device)
    if isinstance(data, Tensor):
        return data if dtype is None else data.to(as_dtype(dtype))
    if isinstance(data, np.ndarray) and (dtype is None or as_dtype(dtype) == data.dtype) \
            and data.dtype.kind in "biuf":
        return as_leaf(data)
    return tensor(data, dtype)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor that shares ``array``'s memory (writes show in both), as PyTorch's."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy takes a NumPy array, not {type(array).__name__}")
    as_dtype(array.dtype)
    return as_leaf(array)


# ---- filled -------------------------------------------------------------------------------------


def zeros(*shape: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False,
          size: Any = None) -> Tensor:
    """A tensor of zeros: ``zeros(2, 3)`` or ``zeros((2, 3))``; float64 unless ``dtype``."""
    return _filled(shape, size, 0, dtype, device, requires_grad)


def ones(*shape: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False,
         size: Any = None) -> Tensor:
    """A tensor of ones, as ``zeros``."""
    return _filled(shape, size, 1, dtype, device, requires_grad)


def empty(*shape: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False,
          size: Any = None) -> Tensor:
    """A tensor whose values are whatever the memory held: write them before reading."""
    shape = size_argument(shape, size)
    return _made(np.empty(shape, dtypes.DEFAULT_FLOAT if dtype is None else as_dtype(dtype)),
                 device, requires_grad)


def _filled(size: tuple, keyword: Any, value: Any, dtype: Any, device: Any,
            requires_grad: bool) -> Tensor:
    shape = size_argument(size, keyword)
    return _made(np.full(shape, value, dtypes.DEFAULT_FLOAT if dtype is None else as_dtype(dtype)),
                 device, requires_grad)


def full(size: Any, fill_value: Any, *, dtype: Any = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:
    """A tensor of ``size`` filled with ``fill_value``; its dtype follows the value's (a
    bool, an int: int64, a float: float64) unless ``dtype`` is given."""
    if isinstance(fill_value, Tensor):
        if fill_value._data.ndim:
            raise RuntimeError("full: fill_value must be a number or a 0-d tensor")
        fill_value = fill_value.item()
    if dtype is None:
        dtype = ops.result_dtype(fill_value)
    return _made(np.full(size_argument((size,)), fill_value, as_dtype(dtype)), device,
                 requires_grad)


def eye(n: int, m: int | None = None, *, dtype: Any = None, device: Any = None,
        requires_grad: bool = False) -> Tensor:
    """The n-by-m identity matrix (square if ``m`` is None)."""
    n, m = size_argument((n, n if m is None else m))
    return _made(np.eye(n, m, dtype=dtypes.DEFAULT_FLOAT if dtype is None else as_dtype(dtype)),
                 device, requires_grad)


def _like(input: Tensor, dtype: Any) -> tuple[tuple[int, ...], np.dtype]:
    if not isinstance(input, Tensor):
        raise TypeError(f"a *_like factory takes a tensor, not {type(input).__name__}")
    return input._data.shape, input._data.dtype if dtype is None else as_dtype(dtype)


def _laid_like(data: np.ndarray, input: Tensor, memory_format: Any) -> np.ndarray:
    """``data`` (a new array of ``input``'s shape) laid out as ``memory_format`` says:
    by default (``preserve_format``) as ``input`` is, where it is laid out in a format."""
    from . import layouts

    if memory_format is None or layouts.checked(memory_format) is layouts.preserve_format:
        # NumPy's order "K" follows the order of input's strides, as PyTorch's does: its
        # very strides where it is dense
        laid = np.empty_like(input._data, dtype=data.dtype, order="K")
        laid[...] = data
        return laid
    return as_leaf(data)._laid_out(memory_format, always=not data.size)._data


def zeros_like(input: Tensor, *, dtype: Any = None, device: Any = None,
               requires_grad: bool = False, memory_format: Any = None) -> Tensor:
    """Zeros of ``input``'s shape and dtype (or ``dtype``), laid out as it is (or in
    ``memory_format``)."""
    shape, kind = _like(input, dtype)
    return _made(_laid_like(np.zeros(shape, kind), input, memory_format), device,
                 requires_grad)


def ones_like(input: Tensor, *, dtype: Any = None, device: Any = None,
              requires_grad: bool = False, memory_format: Any = None) -> Tensor:
    """Ones of ``input``'s shape and dtype (or ``dtype``), laid out as it is (or in
    ``memory_format``)."""
    shape, kind = _like(input, dtype)
    return _made(_laid_like(np.ones(shape, kind), input, memory_format), device,
                 requires_grad)


def empty_like(input: Tensor, *, dtype: Any = None, device: Any = None,
               requires_grad: bool = False, memory_format: Any = None) -> Tensor:
    """An uninitialized tensor of ``input``'s shape and dtype (or ``dtype``), laid out as
    it is (or in ``memory_format``)."""
    shape, kind = _like(input, dtype)
    return _made(_laid_like(np.empty(shape, kind), input, memory_format), device,
                 requires_grad)


def full_like(input: Tensor, fill_value: Any, *, dtype: Any = None, device: Any = None,
              requires_grad: bool = False, memory_format: Any = None) -> Tensor:
    """``fill_value`` in ``input``'s shape and dtype (or ``dtype``), laid out as it is (or
    in ``memory_format``)."""
    shape, kind = _like(input, dtype)
    return _made(_laid_like(np.full(shape, fill_value, kind), input, memory_format), device,
                 requires_grad)


# ---- ranges -------------------------------------------------------------------------------------


def arange(start: Any = None, end: Any = None, step: Any = 1, *, dtype: Any = None,
           device: Any = None, requires_grad: bool = False) -> Tensor:
    """start, start + step, ... up to (not including) ``end``; ``arange(n)`` and
    ``arange(end=n)`` are 0..n-1.

    int64 if every bound is an integer, else float64 (PyTorch: the default float dtype).
    """
    if start is None and end is None:
        raise TypeError("arange() needs an end")
    if end is None:
        start, end = 0, start
    elif start is None:
        start = 0
    bounds = [x.item() if isinstance(x, Tensor) else x for x in (start, end, step)]
    for x in bounds:
        if isinstance(x, bool) or not isinstance(x, (int, float, np.integer, np.floating)):
            raise TypeError(f"arange takes numbers, not {type(x).__name__}")
    first, last, stride = bounds
    if not all(math.isfinite(x) for x in bounds):
        raise RuntimeError("arange: the bounds and the step must be finite")
    if stride == 0:
        raise RuntimeError("arange: the step must be nonzero")
    if (last - first) * stride < 0:
        raise RuntimeError(f"arange: the step {stride} goes away from end {last} "
                           f"(start {first})")
    if dtype is None:
        integral = all(isinstance(x, (int, np.integer)) for x in bounds)
        resolved = np.dtype(np.int64) if integral else dtypes.DEFAULT_FLOAT
    else:
        resolved = as_dtype(dtype)
    count = max(0, math.ceil((last - first) / stride))
    values = first + stride * np.arange(count, dtype=np.float64 if resolved.kind == "f"
                                        or not isinstance(stride, (int, np.integer))
                                        else np.int64)
    with np.errstate(over="ignore"):  # beyond the dtype's range: inf, as in PyTorch
        return _made(values.astype(resolved), device, requires_grad)


def linspace(start: float, end: float, steps: int, *, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    """``steps`` evenly spaced numbers from ``start`` to ``end``, both included."""
    steps = operator.index(steps)
    if steps < 0:
        raise RuntimeError("linspace: the number of steps cannot be negative")
    resolved = dtypes.DEFAULT_FLOAT if dtype is None else as_dtype(dtype)
    if resolved.kind == "f":  # an end beyond the dtype's range: PyTorch refuses it
        largest = float(np.finfo(resolved).max)
        if any(math.isfinite(v) and abs(v) > largest for v in (float(start), float(end))):
            raise RuntimeError(f"linspace: value cannot be converted to type {resolved} "
                               "without overflow")
    return _made(np.linspace(start, end, steps).astype(resolved), device, requires_grad)


def logspace(start: float, end: float, steps: int, base: float = 10.0, *, dtype: Any = None,
             device: Any = None, requires_grad: bool = False) -> Tensor:
    """``steps`` numbers from base**start to base**end, their exponents evenly spaced::

        logspace(0, 2, 3)    # [1., 10., 100.]
    """
    exponents = linspace(start, end, steps, dtype=np.float64)._data
    resolved = dtypes.DEFAULT_FLOAT if dtype is None else as_dtype(dtype)
    data = np.power(np.float64(base), exponents).astype(resolved)
    return _made(data, device, requires_grad)


def scalar_tensor(s: Any, *, dtype: Any = None, device: Any = None,
                  requires_grad: bool = False) -> Tensor:
    """A 0-d tensor of the number ``s``, of the default float dtype unless ``dtype`` says."""
    resolved = dtypes.DEFAULT_FLOAT if dtype is None else as_dtype(dtype)
    return _made(np.asarray(s, resolved), device, requires_grad)


# ---- random -------------------------------------------------------------------------------------


def randn(*shape: Any, generator: Generator | None = None, dtype: Any = None,
          device: Any = None, requires_grad: bool = False, size: Any = None) -> Tensor:
    """Draws from the standard normal distribution (``tensorgrad.random``'s generator)."""
    shape, kind = size_argument(shape, size), _floating_dtype(dtype, "randn")
    data = rng(generator).standard_normal(shape, np.float64).astype(kind, copy=False)
    return _made(data, device, requires_grad)


def rand(*shape: Any, generator: Generator | None = None, dtype: Any = None,
         device: Any = None, requires_grad: bool = False, size: Any = None) -> Tensor:
    """Draws from the uniform distribution on [0, 1)."""
    shape, kind = size_argument(shape, size), _floating_dtype(dtype, "rand")
    data = rng(generator).random(shape, np.float64).astype(kind, copy=False)
    if kind != np.float64:  # rounding up to 1.0 would leave [0, 1)
        np.minimum(data, np.nextafter(kind.type(1), kind.type(0)), out=data)
    return _made(data, device, requires_grad)


def randn_like(input: Tensor, *, dtype: Any = None, device: Any = None,
               requires_grad: bool = False, memory_format: Any = None) -> Tensor:
    shape, kind = _like(input, dtype)
    drawn = randn(shape, dtype=kind, device=device)._data
    return _made(_laid_like(drawn, input, memory_format), device, requires_grad)


def rand_like(input: Tensor, *, dtype: Any = None, device: Any = None,
              requires_grad: bool = False, memory_format: Any = None) -> Tensor:
    shape, kind = _like(input, dtype)
    drawn = rand(shape, dtype=kind, device=device)._data
    return _made(_laid_like(drawn, input, memory_format), device, requires_grad)


def randint(*args: Any, low: Any = None, high: Any = None, size: Any = None,
            generator: Generator | None = None, dtype: Any = None, device: Any = None,
            requires_grad: bool = False) -> Tensor:
    """Integers drawn uniformly from [low, high): ``randint(high, size)`` or
    ``randint(low, high, size)`` (each by name too); int64 unless ``dtype``."""
    args = args + tuple(bound for bound in (low, high) if bound is not None)
    if size is None and args and not isinstance(args[-1], (int, np.integer, Tensor)):
        *args, size = args  # type: ignore[assignment]  # (a tuple of the bounds, as given)
    if size is None or len(args) not in (1, 2):
        raise TypeError("randint(high, size) or randint(low, high, size)")
    low, high = (0, args[0]) if len(args) == 1 else args
    low, high = operator.index(low), operator.index(high)
    if low >= high:
        raise RuntimeError(f"randint: low {low} must be below high {high}")
    kind = np.dtype(np.int64) if dtype is None else as_dtype(dtype)
    data = rng(generator).integers(low, high, size_argument((size,)), dtype=np.int64)
    return _made(data.astype(kind, copy=False), device, requires_grad)


def randint_like(input: Tensor, *bounds: Any, low: Any = None, high: Any = None,
                 dtype: Any = None, device: Any = None, requires_grad: bool = False,
                 memory_format: Any = None, generator: Generator | None = None) -> Tensor:
    """Integers drawn uniformly from [low, high), of ``input``'s shape and dtype (or
    ``dtype``), laid out as it is (or in ``memory_format``): ``randint_like(x, high)`` or
    ``randint_like(x, low, high)``, floating
    ``x`` giving whole numbers of its floating dtype, as PyTorch's::

        randint_like(zeros(2, 3), 10)    # float64, each of 0., 1., ..., 9.
    """
    given = [b for b in (low, high) if b is not None]
    if len(bounds) + len(given) not in (1, 2) or (low is not None and high is None):
        raise TypeError("randint_like(input, high) or randint_like(input, low, high)")
    shape, kind = _like(input, dtype)
    low_, high_ = (0, *bounds, *given) if len(bounds) + len(given) == 1 else (*bounds, *given)
    # (Python numbers: an int beyond float64's range compares without NumPy's cast)
    smallest, largest = (0, 1) if kind.kind == "b" else (
        (int(np.iinfo(kind).min), int(np.iinfo(kind).max)) if kind.kind in "iu" else
        (-float(np.finfo(kind).max), float(np.finfo(kind).max)))
    if operator.index(high_) - 1 > largest:
        raise RuntimeError(f"randint_like: to - 1 is out of bounds for {kind}: "
                           f"{high_} - 1 > {largest}")
    if operator.index(low_) < smallest:
        raise RuntimeError(f"randint_like: from is out of bounds for {kind}: "
                           f"{low_} < {smallest}")
    drawn = randint(*bounds, *given, size=shape, generator=generator)._data.astype(kind)
    return _made(_laid_like(drawn, input, memory_format), device, requires_grad)


def randperm(n: int, *, generator: Generator | None = None, dtype: Any = None,
             device: Any = None, requires_grad: bool = False) -> Tensor:
    """A random order of 0..n-1."""
    n = operator.index(n)
    if n < 0:
        raise RuntimeError(f"randperm of {n}: n cannot be negative")
    kind = np.dtype(np.int64) if dtype is None else as_dtype(dtype)
    return _made(rng(generator).permutation(n).astype(kind), device, requires_grad)


def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *,
                generator: Generator | None = None) -> Tensor:
    """Category indices drawn from each row of ``input`` (non-negative weights, 1-D or 2-D,
    not necessarily summing to 1): ``num_samples`` per row, int64, as PyTorch's."""
    weights = input._data if isinstance(input, Tensor) else np.asarray(input)
    if weights.ndim not in (1, 2):
        raise RuntimeError(f"multinomial: the weights must be 1-D or 2-D, not {weights.ndim}-D")
    if weights.dtype.kind != "f":
        raise RuntimeError(f"multinomial: the weights must be floating, not {weights.dtype}")
    num_samples = operator.index(num_samples)
    if num_samples <= 0:
        raise RuntimeError(f"multinomial: cannot draw {num_samples} samples")
    categories = weights.shape[-1]
    if categories == 0:
        raise RuntimeError("multinomial: no categories to draw from")
    rows = weights.reshape(-1, categories).astype(np.float64)
    if not replacement and num_samples > categories:
        raise RuntimeError(f"multinomial: cannot draw {num_samples} samples from "
                           f"{categories} categories without replacement")
    if not np.isfinite(rows).all() or (rows < 0).any():
        raise RuntimeError("multinomial: the weights contain inf, NaN or a negative number")
    totals = rows.sum(axis=1)
    if (totals <= 0).any():
        raise RuntimeError("multinomial: a row of weights sums to 0")
    draw = rng(generator)
    if replacement:
        cumulative = np.cumsum(rows, axis=1)
        targets = draw.random((len(rows), num_samples)) * totals[:, None]
        picked = np.stack([np.searchsorted(c, t, side="right")
                           for c, t in zip(cumulative, targets)])
        last = categories - 1 - np.argmax(rows[:, ::-1] > 0, axis=1)  # the last possible one
        picked = np.minimum(picked, last[:, None])  # (a target rounded up to the total)
    else:
        # Draws without replacement in proportion to the weights: the categories in the
        # order of exponential waiting times divided by their weights. Categories of weight
        # 0 come last, in their order (as PyTorch's, which draws them once the rest is used).
        with np.errstate(divide="ignore"):
            keys = draw.exponential(size=rows.shape) / rows
        picked = np.argsort(keys, axis=1, kind="stable")[:, :num_samples]
    shape = (num_samples,) if weights.ndim == 1 else (len(rows), num_samples)
    return as_leaf(picked.astype(np.int64).reshape(shape))


# ---- triangles ----------------------------------------------------------------------------------


def tril_indices(row: int, col: int, offset: int = 0, *, dtype: Any = None,
                 device: Any = None) -> Tensor:
    """The coordinates of the lower triangle of a ``row`` by ``col`` matrix (on and below the
    ``offset``-th diagonal), row by row: a 2 x N tensor of row and column indices, int64
    unless ``dtype``::

        tril_indices(2, 2)    # [[0, 1, 1], [0, 0, 1]]
    """
    return _triangle_indices(row, col, offset, dtype, device, np.tril_indices)


def triu_indices(row: int, col: int, offset: int = 0, *, dtype: Any = None,
                 device: Any = None) -> Tensor:
    """The coordinates of the upper triangle (on and above the ``offset``-th diagonal), as
    ``tril_indices``."""
    return _triangle_indices(row, col, offset, dtype, device, np.triu_indices)


def _triangle_indices(row: int, col: int, offset: int, dtype: Any, device: Any,
                      indices: Callable[..., tuple[np.ndarray, ...]]) -> Tensor:
    row, col, offset = operator.index(row), operator.index(col), operator.index(offset)
    if row < 0 or col < 0:
        raise RuntimeError(f"a {row} by {col} matrix: neither can be negative")
    kind = np.dtype(np.int64) if dtype is None else as_dtype(dtype)
    if kind.kind not in "iu":
        raise NotImplementedError(f"triangle indices are integers, not {kind}")
    return _made(np.stack(indices(row, offset, col)).astype(kind), device, False)


def tril(input: Tensor, diagonal: int = 0) -> Tensor:
    """The lower triangle of the last two dimensions (on and below ``diagonal``), zeros above."""
    return ops.triangle(input, diagonal, upper=False)


def triu(input: Tensor, diagonal: int = 0) -> Tensor:
    """The upper triangle of the last two dimensions (on and above ``diagonal``), zeros below."""
    return ops.triangle(input, diagonal, upper=True)



# ---- draws shaped by tensors: torch.bernoulli, torch.normal, torch.poisson ----------------------


def bernoulli(input: Tensor, p: float | None = None, *,
              generator: Generator | None = None) -> Tensor:
    """1 with the probability each entry of the floating ``input`` gives (or ``p`` for
    every entry), else 0, in ``input``'s dtype and outside the graph:
    ``bernoulli(tensor([0.1, 0.9]))``."""
    x = input if isinstance(input, Tensor) else Tensor(input)
    if x._data.dtype.kind != "f":
        raise NotImplementedError(f"bernoulli: not implemented for {x._data.dtype} tensors "
                                  "(probabilities are floating)")
    chance = x._data if p is None else np.full(x._data.shape, p, np.float64)
    if np.isnan(chance).any() or (chance < 0).any() or (chance > 1).any():
        raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.")
    return as_leaf((rng(generator).random(x._data.shape) < chance).astype(x._data.dtype))


def normal(mean: Any, std: Any = 1.0, size: Any = None, *,
           generator: Generator | None = None, dtype: Any = None) -> Tensor:
    """Draws from N(mean, std**2): ``mean`` and ``std`` tensors (or one of them a number)
    broadcast together (their gradient from the draws is 0, as PyTorch's), or two numbers and
    a ``size``:
    ``normal(0.0, 1.0, (2, 3))``, ``normal(tensor([0.0, 10.0]), 0.5)``."""
    tensors = [a for a in (mean, std) if isinstance(a, Tensor)]
    if not tensors:
        if size is None:
            raise TypeError("normal() of two numbers takes a size: normal(mean, std, size)")
        shape = tuple(size) if isinstance(size, (tuple, list)) else (operator.index(size),)
        kind = dtypes.DEFAULT_FLOAT if dtype is None else as_dtype(dtype)
        if std < 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
        return as_leaf((rng(generator).standard_normal(shape) * std + mean).astype(kind))
    arrays = [a._data if isinstance(a, Tensor) else np.asarray(a) for a in (mean, std)]
    if (arrays[1] < 0).any():
        raise RuntimeError(f"normal expects all elements of std >= 0.0, but found std "
                           f"{arrays[1].min()}")
    kind = np.result_type(*(t._data.dtype for t in tensors))
    if kind.kind != "f":
        raise NotImplementedError(f"normal: not implemented for {kind} tensors")
    shape = np.broadcast_shapes(*(a.shape for a in arrays))
    draws = as_leaf(np.asarray(rng(generator).standard_normal(shape) * arrays[1] + arrays[0])
                    .astype(kind))
    for t in tensors:  # in the graph, as PyTorch's: the draws' gradient to mean and std is 0
        if t.requires_grad:
            draws = ops.Where.apply(np.ones(shape, bool), draws, t)
    return draws


def poisson(input: Tensor, generator: Generator | None = None) -> Tensor:
    """Draws from the Poisson distribution of each rate in ``input`` (non-negative), as
    ``input``'s floating dtype, outside the graph."""
    rates = input._data if isinstance(input, Tensor) else np.asarray(input, np.float64)
    if rates.dtype.kind != "f":
        raise NotImplementedError(f"poisson: not implemented for {rates.dtype} tensors")
    if (rates < 0).any() or np.isnan(rates).any():
        raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
    return as_leaf(rng(generator).poisson(rates).astype(rates.dtype))


# ---- PyTorch's legacy constructors of one dtype: torch.FloatTensor(2, 3), LongTensor([1, 2]) ----


class LegacyTensorType(type):
    """The type of PyTorch's legacy tensor types of one dtype (``FloatTensor``, ...): calling
    one makes a tensor in its dtype (``FloatTensor(2, 3)``: zeros of that shape;
    ``LongTensor([1, 2])``: those values), and ``isinstance`` asks a tensor's dtype."""

    dtype: np.dtype

    def __call__(cls, *args: Any) -> Tensor:
        return Tensor(*args, dtype=cls.dtype)

    def __instancecheck__(cls, instance: Any) -> bool:
        return isinstance(instance, Tensor) and instance._data.dtype == cls.dtype


def _typed_constructor(name: str, kind: Any) -> LegacyTensorType:
    return LegacyTensorType(name, (), {
        "dtype": np.dtype(kind), "__module__": "tensorgrad",
        "__doc__": f"``Tensor(...)`` in {np.dtype(kind)}: the sizes of a shape (zeros) or the "
                   "values; ``isinstance(x, ...)``: is x a tensor of that dtype."})


FloatTensor = _typed_constructor("FloatTensor", np.float32)
DoubleTensor = _typed_constructor("DoubleTensor", np.float64)
HalfTensor = _typed_constructor("HalfTensor", np.float16)
LongTensor = _typed_constructor("LongTensor", np.int64)
IntTensor = _typed_constructor("IntTensor", np.int32)
ShortTensor = _typed_constructor("ShortTensor", np.int16)
CharTensor = _typed_constructor("CharTensor", np.int8)
ByteTensor = _typed_constructor("ByteTensor", np.uint8)
BoolTensor = _typed_constructor("BoolTensor", np.bool_)
