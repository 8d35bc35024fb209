"""What users hand the engine, as Hypothesis strategies shared by every op test.

Users pass arrays in any memory layout (C or Fortran order, transposed views, sliced views
with steps, negative strides), in float32 or float64, of any shape (0-d and size-0 ones
too). The op tests draw their inputs here, so every op sees all of these.

A ``Layout`` is a recipe of view ops: a permutation of the dimensions, then a slice with a
step along each. It runs on a ``Tensor`` (as graph ops, so the op under test receives a
strided view and the gradient flows back through the views to a plain leaf) and on an
object array of ``Value``s alike, so the reference computes on the same numbers. The
leaf itself may be in C or Fortran order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tensorgrad import Tensor

FLOAT_DTYPES = (np.dtype(np.float64), np.dtype(np.float32))
float_dtypes = st.sampled_from(FLOAT_DTYPES)

MAX_DIMS = 4
MAX_SIDE = 3


# ---- numbers ------------------------------------------------------------------------------------


def floats(lo: float, hi: float, width: int = 64) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False, allow_subnormal=False,
                     width=width)


@dataclass(frozen=True)
class Domain:
    """Where an op's inputs may lie: one or more closed ranges. The bounds are exact in
    float32, so one domain serves both dtypes (each value drawn exactly representable)."""

    ranges: tuple[tuple[float, float], ...]

    def elements(self, dtype: np.dtype) -> st.SearchStrategy[float]:
        width = 32 if np.dtype(dtype) == np.float32 else 64
        return st.one_of(*(floats(lo, hi, width) for lo, hi in self.ranges))


ANY = Domain(((-3.0, 3.0),))
SMALL = Domain(((-2.0, 2.0),))
POSITIVE = Domain(((0.125, 5.0),))
AWAY_FROM_ZERO = Domain(((0.5, 3.0), (-3.0, -0.5)))
# Few distinct values, so that ties (in max, amax, comparisons) are common.
TIES = Domain(((-1.0, -1.0), (0.0, 0.0), (0.5, 0.5), (2.0, 2.0)))


# ---- shapes -------------------------------------------------------------------------------------


def shapes(min_dims: int = 0, max_dims: int = MAX_DIMS, min_side: int = 1,
           max_side: int = MAX_SIDE, size_zero: bool = False) -> st.SearchStrategy[tuple]:
    """Array shapes; with ``size_zero`` some have a dimension of length 0."""
    nonempty = hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                                max_side=max_side)
    if not size_zero:
        return nonempty
    with_zero = hnp.array_shapes(min_dims=max(min_dims, 1), max_dims=max_dims, min_side=0,
                                 max_side=max_side).filter(lambda shape: 0 in shape)
    return st.one_of(nonempty, with_zero)


def broadcastable_shapes(count: int, min_dims: int = 0, max_dims: int = MAX_DIMS,
                         size_zero: bool = False) -> st.SearchStrategy[tuple]:
    """``count`` shapes that broadcast together (size-0 dimensions among them if asked)."""
    return hnp.mutually_broadcastable_shapes(
        num_shapes=count, min_dims=min_dims, max_dims=max_dims,
        min_side=0 if size_zero else 1, max_side=MAX_SIDE).map(lambda b: b.input_shapes)


@st.composite
def dims_for(draw, ndim: int) -> int | tuple[int, ...] | None:
    """A ``dim`` argument for a reduction: None, one dim (either sign), or a tuple of them.
    A 0-d tensor takes None, 0 and -1, as in PyTorch."""
    if ndim == 0:
        return draw(st.sampled_from([None, 0, -1]))
    single = st.integers(-ndim, ndim - 1)
    return draw(st.one_of(st.none(), single, hnp.valid_tuple_axes(ndim, min_size=1)))


# ---- layouts ------------------------------------------------------------------------------------


def _slice(step: int) -> slice:
    """Along a dimension of n * |step| entries, the n that a view with this step sees."""
    if step == 1:
        return slice(None)
    return slice(1, None, step) if step > 0 else slice(None, None, step)


@dataclass(frozen=True)
class Layout:
    """A view recipe: the leaf (in ``order``) permuted by ``permutation``, then each
    dimension sliced with its entry of ``steps`` (negative: reversed)."""

    kind: str
    order: str
    permutation: tuple[int, ...]
    steps: tuple[int, ...]

    def view(self, x):
        """The view of ``x`` (a Tensor, or an ndarray of numbers or of Values)."""
        if self.permutation != tuple(range(len(self.permutation))):
            x = x.permute(*self.permutation) if isinstance(x, Tensor) else \
                x.transpose(self.permutation)
        if any(step != 1 for step in self.steps):
            x = x[tuple(_slice(step) for step in self.steps)]
        return x

    def leaf_for(self, values: np.ndarray, filler: float) -> np.ndarray:
        """An array in ``order`` whose view holds ``values``; its other entries hold
        ``filler`` (an op reading the wrong entries sees it)."""
        spread = tuple(n * abs(step) for n, step in zip(values.shape, self.steps))
        space = np.full(spread, filler, values.dtype)
        space[tuple(_slice(step) for step in self.steps)] = values
        leaf = space.transpose(np.argsort(self.permutation))
        return np.array(leaf, order=self.order)  # (np.ascontiguousarray makes 0-d 1-d)

    def arrange(self, values: np.ndarray, filler: float = 0.0) -> np.ndarray:
        """``values`` in this layout, as a plain ndarray (a view into a bigger array)."""
        return self.view(self.leaf_for(values, filler))


def c_layout(ndim: int) -> Layout:
    return Layout("C", "C", tuple(range(ndim)), (1,) * ndim)


LAYOUT_KINDS = ("C", "F", "transposed", "sliced", "negative strides", "mixed")


@st.composite
def layouts(draw, ndim: int) -> Layout:
    """A layout for a view with ``ndim`` dimensions; at most two dimensions take a step of
    two, so that the leaf stays small (the reference builds a Value per entry)."""
    if ndim == 0:
        return c_layout(0)
    kind = draw(st.sampled_from(LAYOUT_KINDS), label="layout")
    identity, ones = tuple(range(ndim)), (1,) * ndim
    if kind in ("C", "F"):
        return Layout(kind, kind, identity, ones)

    def some_dims() -> set[int]:
        return set(draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=2)))

    if kind == "transposed":
        permutation = tuple(draw(st.permutations(identity)))
        if ndim > 1 and permutation == identity:
            permutation = identity[::-1]
        return Layout(kind, "C", permutation, ones)
    if kind == "sliced":
        chosen = some_dims()
        return Layout(kind, "C", identity, tuple(2 if d in chosen else 1 for d in identity))
    if kind == "negative strides":
        reversed_dims = set(draw(st.lists(st.integers(0, ndim - 1), min_size=1)))
        return Layout(kind, "C", identity, tuple(-1 if d in reversed_dims else 1
                                                 for d in identity))
    strided = some_dims()
    steps = tuple(draw(st.sampled_from([2, -2] if d in strided else [1, -1])) for d in identity)
    return Layout(kind, draw(st.sampled_from("CF")), tuple(draw(st.permutations(identity))),
                  steps)


@dataclass(frozen=True)
class LaidOut:
    """An op input: ``values`` as the op sees them, reached as ``layout.view(leaf)``."""

    values: np.ndarray
    layout: Layout
    leaf: np.ndarray

    @property
    def dtype(self) -> np.dtype:
        return self.values.dtype

    def array(self) -> np.ndarray:
        """The values as a plain ndarray in this layout (for non-Tensor operands)."""
        return self.layout.view(self.leaf)


def as_laid_out(values: np.ndarray) -> LaidOut:
    """A plain C-ordered input (the values as they are)."""
    values = np.asarray(values)
    return LaidOut(values, c_layout(values.ndim), np.array(values, order="C"))


MATRIX_LAYOUTS = ("C", "F", "transposed", "sliced")


def matrices_laid_out(values: np.ndarray, layout: str) -> Tensor:
    """A tensor of ``values`` (matrices in the last two dims) in ``layout``, one of
    ``MATRIX_LAYOUTS``: for parametrized tests that want each layout by name."""
    if layout == "F":
        return Tensor(np.asfortranarray(values))
    if layout == "transposed":
        return Tensor(np.ascontiguousarray(values.swapaxes(-1, -2))).mT
    if layout == "sliced":
        wide = np.zeros(values.shape[:-1] + (2 * values.shape[-1],), values.dtype)
        wide[..., ::2] = values
        return Tensor(wide)[..., ::2]
    return Tensor(values)


@st.composite
def laid_out(draw, shape: tuple[int, ...], dtype: np.dtype = np.float64,
             domain: Domain = ANY, unique: bool = False, layout: bool = True) -> LaidOut:
    """Values of ``shape`` and ``dtype`` from ``domain``, in a drawn layout (plain C order
    if ``layout`` is False)."""
    dtype = np.dtype(dtype)
    values = draw(hnp.arrays(dtype, shape, elements=domain.elements(dtype), unique=unique),
                  label="values")
    chosen = draw(layouts(len(shape)), label="layout") if layout else c_layout(len(shape))
    filler = draw(domain.elements(dtype), label="filler")
    return LaidOut(values, chosen, chosen.leaf_for(values, filler))


# The upstream gradient handed to backward() comes in a layout too; these apply to any shape.
UPSTREAM_LAYOUTS = ("C", "F", "reversed", "strided")
upstream_layouts = st.sampled_from(UPSTREAM_LAYOUTS)


def arrange_upstream(weights: np.ndarray, kind: str) -> np.ndarray:
    """``weights`` (same values) in the memory layout ``kind``."""
    ndim = weights.ndim
    if kind in ("C", "F") or ndim == 0:
        return np.array(weights, order="F" if kind == "F" else "C")
    identity = tuple(range(ndim))
    steps = (-1,) * ndim if kind == "reversed" else (2,) * ndim
    return Layout(kind, "C", identity, steps).arrange(weights)
