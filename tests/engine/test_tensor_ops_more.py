"""The second set of PyTorch's tensor ops that model code uses: shape and index ops (t, narrow,
roll, movedim, swapaxes, tile, repeat_interleave, gather, index_select, diag, meshgrid), the
elementwise ones (log1p, expm1, sign, the roundings, nan_to_num, fmod, remainder, lerp,
maximum, addcmul, addcdiv), the reductions (logsumexp, prod, cumprod, all, any, argsort,
sum and mean with dtype=), the products (mm, bmm, outer, einsum), isclose, tril_indices and
inference_mode.

Two halves. Where PyTorch is installed, each op runs on the same drawn inputs in both engines
(ours in a drawn memory layout and dtype, 0-d, size-0, NaN and infinities included): values,
dtypes, whether the result requires grad, every input's gradient and the type of the error a
bad argument raises must agree. Without PyTorch (CI), the gradients are held against the
scalar ``Value`` engine and a few results against values worked out by hand.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from reference import (
    as_value_array,
    check_against_values,
    data_of,
    v_exp,
    v_log,
    v_matmul,
    v_sum,
)
from strategies import (
    ANY,
    AWAY_FROM_ZERO,
    SMALL,
    TIES,
    Domain,
    broadcastable_shapes,
    dims_for,
    float_dtypes,
    laid_out,
    shapes,
    upstream_layouts,
)
from torch_compare import against_torch, assert_same

import tensorgrad as tg
from tensorgrad import Tensor, Value

# Halves and quarters: where the roundings decide (half to even), zeros for sign.
HALVES = Domain(((-2.5, -2.5), (-1.5, -1.5), (-0.5, -0.5), (0.0, 0.0), (0.5, 0.5), (1.5, 1.5),
                 (1.25, 1.25), (2.75, 2.75), (-0.25, -0.25)))
TENS = Domain(((-25.0, -25.0), (-15.0, -15.0), (5.0, 5.0), (15.0, 15.0), (12.5, 12.5),
               (-4.0, -4.0)))
ABOVE_MINUS_ONE = Domain(((-0.875, 3.0),))
# Every special float an op meets: NaN, the infinities, signed zeros, tiny and ordinary numbers.
SPECIAL = np.array([np.nan, np.inf, -np.inf, -0.0, 0.0, 0.5, -1.5, 2.5, 1e-10, -1.0, -2.0,
                    3.75])


@pytest.fixture(scope="module")
def torch():
    """PyTorch, with float64 as its default dtype (this engine's, for Python floats)."""
    torch = pytest.importorskip("torch")
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield torch
    torch.set_default_dtype(previous)


def draw(data, *shapes_, domain=ANY, dtype=None, unique=False):
    """One drawn float dtype (unless given), then an input of each shape in a drawn layout."""
    dtype = data.draw(float_dtypes, label="dtype") if dtype is None else dtype
    return [data.draw(laid_out(s, dtype, domain, unique), label=f"input {i}")
            for i, s in enumerate(shapes_)]


def same_error(torch, ours, theirs) -> None:
    """Both raise, and ours raises PyTorch's exception type (or a subclass of it)."""
    with pytest.raises(Exception) as their_error:  # noqa: B017 (any: its type is the check)
        theirs(torch)
    with pytest.raises(their_error.type):
        ours()


# ======================================= against PyTorch ========================================

# ---- elementwise, one operand -------------------------------------------------------------------

UNARY = {  # name: (ours, PyTorch's, the domain of the drawn values)
    "log1p": (Tensor.log1p, lambda t: t.log1p(), ABOVE_MINUS_ONE),
    "expm1": (Tensor.expm1, lambda t: t.expm1(), ANY),
    "sign": (Tensor.sign, lambda t: t.sign(), HALVES),
    "floor": (Tensor.floor, lambda t: t.floor(), HALVES),
    "ceil": (Tensor.ceil, lambda t: t.ceil(), HALVES),
    "trunc": (Tensor.trunc, lambda t: t.trunc(), HALVES),
    "round": (Tensor.round, lambda t: t.round(), HALVES),
    "round to 1 decimal": (lambda t: t.round(decimals=1), lambda t: t.round(decimals=1), HALVES),
    "round to tens": (lambda t: t.round(decimals=-1), lambda t: t.round(decimals=-1), TENS),
    "nan_to_num": (Tensor.nan_to_num, lambda t: t.nan_to_num(), ANY),
    "nan_to_num given": (lambda t: t.nan_to_num(1.5, 2.0, -3.0),
                         lambda t: t.nan_to_num(1.5, 2.0, -3.0), ANY),
}


@pytest.mark.parametrize("name", list(UNARY))
@given(data=st.data())
def test_unary_ops_match_torch(torch, name, data):
    ours, theirs, domain = UNARY[name]
    (x,) = draw(data, data.draw(shapes(size_zero=True), label="shape"), domain=domain)
    against_torch(torch, ours, lambda t: theirs(t), x, upstream=data.draw(upstream_layouts))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", list(UNARY))
def test_unary_ops_at_nan_infinities_and_zeros_match_torch(torch, name, dtype):
    ours, theirs, _ = UNARY[name]
    against_torch(torch, ours, theirs, SPECIAL.astype(dtype))
    against_torch(torch, ours, theirs, np.array(-1.5, dtype))  # 0-d


@pytest.mark.parametrize("values", [np.array([-2, 0, 3]), np.array([True, False]),
                                    np.array([0, 7, 255], np.uint8), np.array(-4, np.int32)],
                         ids=["int64", "bool", "uint8", "0-d int32"])
@pytest.mark.parametrize("name", list(UNARY))
def test_unary_ops_of_integers_and_booleans_match_torch(torch, name, values):
    """Their dtypes (log1p: floating, floor: the integers as they are, sign of booleans:
    booleans) or the error (rounding booleans, round(decimals=) of integers)."""
    ours, theirs, _ = UNARY[name]
    try:
        expected = theirs(torch.tensor(values))
    except Exception as error:  # noqa: BLE001 (its type is the check)
        with pytest.raises(type(error)):
            ours(Tensor(values))
        return
    with np.errstate(invalid="ignore"):  # (log1p(-2) is NaN, as PyTorch's)
        assert_same(ours(Tensor(values)), expected, name, 1e-7)


# ---- elementwise, several operands --------------------------------------------------------------

BINARY = {  # name: (op, the domain of the second operand)
    "fmod": (lambda a, b: a.fmod(b), AWAY_FROM_ZERO),
    "remainder": (lambda a, b: a.remainder(b), AWAY_FROM_ZERO),
    "maximum": (lambda a, b: a.maximum(b), TIES),
    "minimum": (lambda a, b: a.minimum(b), TIES),
    "lerp by a number": (lambda a, b: a.lerp(b, 0.75), ANY),
    "lerp by a small number": (lambda a, b: a.lerp(b, -0.25), ANY),
}


@pytest.mark.parametrize("name", list(BINARY))
@given(data=st.data())
def test_binary_ops_with_broadcasting_match_torch(torch, name, data):
    op, domain = BINARY[name]
    shape_a, shape_b = data.draw(broadcastable_shapes(2, size_zero=True), label="shapes")
    dtype = data.draw(float_dtypes, label="dtype")
    (a,) = draw(data, shape_a, domain=TIES if "imum" in name else ANY, dtype=dtype)
    (b,) = draw(data, shape_b, domain=domain, dtype=dtype)
    against_torch(torch, op, op, a, b, upstream=data.draw(upstream_layouts))


TERNARY = {
    "lerp": lambda a, b, c: a.lerp(b, c),
    "addcmul": lambda a, b, c: a.addcmul(b, c),
    "addcmul by 0.5": lambda a, b, c: a.addcmul(b, c, value=0.5),
    "addcdiv": lambda a, b, c: a.addcdiv(b, c),
    "addcdiv by -2": lambda a, b, c: a.addcdiv(b, c, value=-2),
}


@pytest.mark.parametrize("name", list(TERNARY))
@given(data=st.data())
def test_ops_of_three_broadcast_tensors_match_torch(torch, name, data):
    op = TERNARY[name]
    shapes_ = data.draw(broadcastable_shapes(3, size_zero=True), label="shapes")
    dtype = data.draw(float_dtypes, label="dtype")
    a, b = draw(data, *shapes_[:2], dtype=dtype)
    (c,) = draw(data, shapes_[2], domain=AWAY_FROM_ZERO if "div" in name else SMALL, dtype=dtype)
    against_torch(torch, op, op, a, b, c)


def test_elementwise_ops_at_nan_and_infinities_match_torch(torch):
    a = SPECIAL
    b = np.array([2.0, np.inf, 2.0, -np.inf, 0.0, np.nan, 0.75, -0.5, 3.0, np.inf, 1.0, -4.0])
    for op in (*(op for op, _ in BINARY.values()), lambda x, y: x.lerp(y, 0.25),
               lambda x, y: x.addcmul(x, y), lambda x, y: x.addcdiv(x, y)):
        against_torch(torch, op, op, a, b)
    for weight in (0.0, 0.5, 1.0, np.inf):
        against_torch(torch, lambda x, y, w=weight: x.lerp(y, w),
                      lambda x, y, w=weight: x.lerp(y, w), a, b)
    against_torch(torch, lambda x, y, w: x.lerp(y, w), lambda x, y, w: x.lerp(y, w), a, b, b)


@pytest.mark.parametrize("op", ["fmod", "remainder"])
def test_fmod_and_remainder_of_integers_and_by_numbers_match_torch(torch, op):
    values = np.array([-7, -3, 0, 3, 7])
    for other in (2, -2, 2.5, np.array([2, -3, 4, -5, 1])):
        def run(x, o=other, make=None):
            return getattr(x, op)(make(o) if isinstance(o, np.ndarray) else o)

        assert_same(run(Tensor(values), make=Tensor), run(torch.tensor(values),
                                                          make=torch.tensor), f"{op} {other}")
    for make in (Tensor, torch.tensor):
        with pytest.raises(RuntimeError, match="ZeroDivisionError"):
            getattr(make(values), op)(0)
    assert_same(tg.remainder(5, Tensor([3.0, -2.0])), torch.remainder(5, torch.tensor([3.0, -2.0])),
                "remainder of a number")


# ---- reductions ---------------------------------------------------------------------------------


@given(data=st.data())
def test_logsumexp_matches_torch(torch, data):
    shape = data.draw(shapes(size_zero=True), label="shape")
    dim = data.draw(dims_for(len(shape)).filter(lambda d: d is not None), label="dim")
    keepdim = data.draw(st.booleans(), label="keepdim")
    (x,) = draw(data, shape)
    against_torch(torch, lambda t: t.logsumexp(dim, keepdim),
                  lambda t: t.logsumexp(dim, keepdim), x, upstream=data.draw(upstream_layouts))


@pytest.mark.parametrize("name", ["prod", "cumprod"])
@given(data=st.data())
def test_prod_and_cumprod_match_torch_zeros_included(torch, name, data):
    """TIES draws many zeros: one, two and none in a line, and in the whole tensor."""
    shape = data.draw(shapes(size_zero=True), label="shape")
    ndim = len(shape)
    choices = st.integers(-max(ndim, 1), max(ndim, 1) - 1)
    dim = data.draw(choices if name == "cumprod" else st.one_of(st.none(), choices), label="dim")
    keepdim = data.draw(st.booleans(), label="keepdim")
    (x,) = draw(data, shape, domain=TIES)

    def run(t):
        if name == "cumprod":
            return t.cumprod(dim)
        return t.prod() if dim is None else t.prod(dim, keepdim)

    against_torch(torch, run, run, x, upstream=data.draw(upstream_layouts))


@pytest.mark.parametrize("row", [[2.0, 0.0, 3.0, 4.0], [0.0, 0.0, 3.0, 1.0],
                                 [np.inf, 2.0, 1.0, 0.5], [np.nan, 2.0, 0.0, 1.0],
                                 [1.0, np.inf, 0.0, 2.0], [2.0, 3.0, 0.0, -1.0],
                                 [-np.inf, 0.0, 0.0, 2.0], [0.0, 2.0, 0.0, np.inf]])
def test_prod_and_cumprod_gradients_at_zeros_nan_and_infinities_match_torch(torch, row):
    """PyTorch's rules, bit for bit in what is NaN and what is not: out / x with no zero
    anywhere; products of the others with zeros; 0 for a product of all with two zeros."""
    values = np.array(row)
    for run in (lambda t: t.prod(), lambda t: t.prod(0), lambda t: t.cumprod(0),
                lambda t: t.reshape(2, 2).prod(1), lambda t: t.reshape(2, 2).cumprod(1),
                lambda t: t.reshape(2, 2).cumprod(0)):
        against_torch(torch, run, run, values)


@pytest.mark.parametrize("name", ["all", "any"])
@given(data=st.data())
def test_all_and_any_match_torch(torch, name, data):
    shape = data.draw(shapes(size_zero=True), label="shape")
    dim = data.draw(st.one_of(dims_for(len(shape)), st.just(())), label="dim")
    keepdim = data.draw(st.booleans(), label="keepdim")
    (x,) = draw(data, shape, domain=TIES)
    against_torch(torch, lambda t: getattr(t, name)(dim, keepdim),
                  lambda t: getattr(t, name)() if dim is None and not keepdim
                  else getattr(t, name)(dim, keepdim), x)


def test_all_and_any_of_nan_integers_and_uint8_match_torch(torch):
    for values in (np.array([np.nan, 1.0]), np.array([[0, 3], [2, 5]]),
                   np.array([[0, 3], [2, 5]], np.uint8), np.array([], np.uint8), np.array(True)):
        for name in ("all", "any"):
            assert_same(getattr(Tensor(values), name)(), getattr(torch.tensor(values), name)(),
                        f"{name} of {values.dtype}")
            if values.ndim:
                assert_same(getattr(Tensor(values), name)(0),
                            getattr(torch.tensor(values), name)(0), f"{name}(0)")


@given(data=st.data())
def test_argsort_matches_torch_ties_nan_and_infinities_included(torch, data):
    shape = data.draw(shapes(size_zero=True), label="shape")
    dim = data.draw(st.integers(-max(len(shape), 1), max(len(shape), 1) - 1), label="dim")
    descending = data.draw(st.booleans(), label="descending")
    special = Domain(((-1.0, -1.0), (0.0, 0.0), (2.0, 2.0)))
    values = data.draw(hnp.arrays(np.float64, shape, elements=st.one_of(
        special.elements(np.float64), st.sampled_from([np.nan, np.inf, -np.inf]))))
    against_torch(torch, lambda t: t.argsort(dim, descending),
                  lambda t: torch.argsort(t, dim=dim, descending=descending, stable=True), values)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "uint8", "bool"])
@pytest.mark.parametrize("name", ["sum", "mean", "prod", "cumsum", "cumprod"])
def test_a_dtype_argument_converts_first_as_torch(torch, name, dtype):
    if name.startswith("cum") and dtype == "bool":
        pytest.skip("PyTorch has no running sums or products of booleans")
    values = np.array([[1.5, 200.0, 3.0], [-2.25, 100.0, 0.5]])
    mine, wanted = np.dtype(dtype), getattr(torch, dtype)
    for source in (values, values.astype(np.float32), np.abs(values).astype(np.uint8)):
        def run(t):
            kind = mine if isinstance(t, Tensor) else wanted
            return getattr(t, name)(1, dtype=kind) if name.startswith("cum") \
                else getattr(t, name)(dtype=kind)

        try:
            expected = run(torch.tensor(source))
        except Exception as error:  # noqa: BLE001 (mean of an integer dtype)
            with pytest.raises(type(error)):
                run(Tensor(source))
            continue
        if source.dtype.kind == "f" and np.dtype(dtype).kind == "f":
            against_torch(torch, run, run, source)
        else:
            assert_same(run(Tensor(source)), expected, f"{name}(dtype={dtype})", 1e-6)


# ---- isclose ------------------------------------------------------------------------------------


@pytest.mark.parametrize("equal_nan", [False, True])
@pytest.mark.parametrize("tolerances", [{}, {"rtol": 0.0, "atol": 0.0}, {"rtol": 0.1},
                                        {"atol": 0.5, "rtol": 0.0}])
def test_isclose_matches_torch(torch, equal_nan, tolerances):
    a = np.array([1.0, 1.0 + 1e-9, np.inf, np.inf, np.nan, np.nan, 100.0, -0.0, 3.0])
    b = np.array([1.0, 1.0, np.inf, -np.inf, np.nan, 1.0, 109.0, 0.0, 3.3])
    for x, y in ((a, b), (a.astype(np.float32), b.astype(np.float32)), (a[:, None], b),
                 (np.array([3, 100, 7]), np.array([3, 109, 8])),
                 (np.array([True, False]), np.array([True, True]))):
        assert_same(Tensor(x).isclose(Tensor(y), equal_nan=equal_nan, **tolerances),
                    torch.isclose(torch.tensor(x), torch.tensor(y), equal_nan=equal_nan,
                                  **tolerances), "isclose")


# ---- shape and index ops ------------------------------------------------------------------------


@given(data=st.data())
def test_shape_ops_match_torch(torch, data):
    shape = data.draw(shapes(max_side=3, size_zero=True), label="shape")
    ndim = len(shape)
    one = max(ndim, 1)
    a0, a1 = (data.draw(st.integers(-one, one - 1), label=n) for n in ("axis0", "axis1"))
    moved = data.draw(st.lists(st.integers(-one, one - 1), unique_by=lambda d: d % one,
                               max_size=one), label="source")
    places = [d - one * data.draw(st.booleans(), label="from the end") for d in
              data.draw(st.permutations(range(one)), label="destination")[:len(moved)]]
    counts = tuple(data.draw(st.lists(st.integers(0, 2), max_size=ndim + 1), label="tile"))
    (x,) = draw(data, shape)
    ops = [
        lambda t: t.swapaxes(a0, a1),
        lambda t: t.swapdims(a0, a1),
        lambda t: t.movedim(moved, places),
        lambda t: t.moveaxis(moved[0], places[0]) if moved else t.moveaxis(0, -1),
        lambda t: t.tile(counts),
    ]
    if ndim <= 2:
        ops.append(lambda t: t.t())
    for op in ops:
        against_torch(torch, op, op, x)


@given(data=st.data())
def test_narrow_and_roll_match_torch(torch, data):
    shape = data.draw(shapes(min_dims=1, size_zero=True), label="shape")
    dim = data.draw(st.integers(-len(shape), len(shape) - 1), label="dim")
    size = shape[dim]
    start = data.draw(st.integers(-size, size), label="start")
    length = data.draw(st.integers(0, size - start % max(size, 1) if start < size else 0),
                       label="length")
    dims = data.draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1),
                               st.lists(st.integers(0, len(shape) - 1), min_size=1, max_size=3)),
                     label="roll dims")
    count = 1 if dims is None or isinstance(dims, int) else len(dims)
    shifts = data.draw(st.lists(st.integers(-4, 4), min_size=count, max_size=count), label="by")
    shifts = shifts[0] if count == 1 and not isinstance(dims, list) else shifts
    (x,) = draw(data, shape)
    against_torch(torch, lambda t: t.narrow(dim, start, length),
                  lambda t: t.narrow(dim, start, length), x)
    against_torch(torch, lambda t: t.roll(shifts, dims), lambda t: t.roll(shifts, dims), x)


@given(data=st.data())
def test_repeat_interleave_matches_torch(torch, data):
    shape = data.draw(shapes(min_dims=1, max_dims=3, size_zero=True), label="shape")
    dim = data.draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1)), label="dim")
    length = math.prod(shape) if dim is None else shape[dim]
    repeats = data.draw(st.one_of(st.integers(0, 3), hnp.arrays(np.int64, st.sampled_from(
        [(), (1,), (length,)]), elements=st.integers(0, 3))), label="repeats")
    (x,) = draw(data, shape)

    def run(t):
        counts = repeats
        if isinstance(repeats, np.ndarray):
            counts = Tensor(repeats) if isinstance(t, Tensor) else torch.tensor(repeats)
        return t.repeat_interleave(counts, dim)

    against_torch(torch, run, run, x)
    counts = np.array([1, 0, 3, 2])
    assert_same(tg.repeat_interleave(Tensor(counts)), torch.repeat_interleave(
        torch.tensor(counts)), "repeat_interleave of counts")


@given(data=st.data())
def test_gather_and_index_select_match_torch(torch, data):
    shape = data.draw(shapes(max_dims=3, size_zero=True), label="shape")
    ndim = len(shape)
    dim = data.draw(st.integers(-max(ndim, 1), max(ndim, 1) - 1), label="dim")
    d = dim % max(ndim, 1)
    length = shape[d] if ndim else 1
    along = data.draw(st.integers(0, 4 if length else 0), label="picks")
    index_shape = tuple(along if i == d else data.draw(st.integers(0, n), label="side")
                        for i, n in enumerate(shape))
    vector_shape = (along,)
    if not ndim:  # a 0-d tensor: one entry, indices 0-d or 1-D
        index_shape = data.draw(st.sampled_from([(), (2,)]), label="0-d index")
        vector_shape = data.draw(st.sampled_from([(), (1,)]), label="0-d vector")
    entries = st.integers(0, max(length - 1, 0))
    index = data.draw(hnp.arrays(np.int64, index_shape, elements=entries), label="index")
    vector = data.draw(hnp.arrays(np.int64, vector_shape, elements=entries), label="vector")
    (x,) = draw(data, shape)

    def as_index(t, array):
        return Tensor(array) if isinstance(t, Tensor) else torch.from_numpy(array)

    against_torch(torch, lambda t: t.gather(dim, as_index(t, index)),
                  lambda t: t.gather(dim, as_index(t, index)), x)
    against_torch(torch, lambda t: t.index_select(dim, as_index(t, vector)),
                  lambda t: t.index_select(dim, as_index(t, vector)), x)


@given(data=st.data())
def test_diag_and_meshgrid_match_torch(torch, data):
    shape = data.draw(shapes(min_dims=1, max_dims=2, size_zero=True), label="shape")
    diagonal = data.draw(st.integers(-3, 3), label="diagonal")
    (x,) = draw(data, shape)
    against_torch(torch, lambda t: t.diag(diagonal), lambda t: t.diag(diagonal), x)
    count = data.draw(st.integers(1, 3), label="count")
    vectors = draw(data, *(data.draw(st.sampled_from([(), (0,), (1,), (2,), (3,)]))
                           for _ in range(count)))
    indexing = data.draw(st.sampled_from(["ij", "xy"]), label="indexing")
    for i in range(count):  # each grid in turn, with the gradient of each input
        against_torch(torch, lambda *t, i=i: tg.meshgrid(*t, indexing=indexing)[i],
                      lambda *t, i=i: torch.meshgrid(*t, indexing=indexing)[i], *vectors)


def test_tril_and_triu_indices_match_torch(torch):
    for row, col, offset in ((3, 4, 1), (3, 2, -1), (0, 2, 0), (3, 3, 10), (4, 3, -10), (1, 1, 0)):
        for name in ("tril_indices", "triu_indices"):
            assert_same(getattr(tg, name)(row, col, offset),
                        getattr(torch, name)(row, col, offset), name)
    assert_same(tg.tril_indices(3, 3, dtype=tg.int32), torch.tril_indices(3, 3, dtype=torch.int32),
                "int32")


# ---- products -----------------------------------------------------------------------------------


@given(data=st.data())
def test_mm_bmm_and_outer_match_torch(torch, data):
    b, n, k, m = (data.draw(st.integers(0, 3), label=name) for name in "bnkm")
    dtype = data.draw(float_dtypes, label="dtype")
    x, y = draw(data, (n, k), (k, m), dtype=dtype)
    against_torch(torch, lambda s, t: s.mm(t), lambda s, t: s.mm(t), x, y)
    x, y = draw(data, (b, n, k), (b, k, m), dtype=dtype)
    against_torch(torch, lambda s, t: tg.bmm(s, t), lambda s, t: torch.bmm(s, t), x, y)
    x, y = draw(data, (n,), (m,), dtype=dtype)
    against_torch(torch, lambda s, t: s.outer(t), lambda s, t: s.outer(t), x, y)


EINSUM = [  # equations, with operand shapes, that models write and that test the rules
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("bhqd,bhkd->bhqk", [(2, 1, 3, 2), (2, 1, 2, 2)]),
    ("ii->i", [(3, 3)]),
    ("ii", [(3, 3)]),
    ("iji,jk->k", [(2, 3, 2), (3, 2)]),
    ("...ij,...jk", [(2, 2, 3), (3, 2)]),
    ("...i,...i->...", [(2, 1, 3), (2, 3)]),
    ("i...->...", [(2, 3, 1)]),
    ("b...a", [(2, 3, 2)]),
    ("bA", [(2, 3)]),
    ("aB", [(2, 3)]),
    ("i,i->i", [(1,), (3,)]),
    ("ij,jk->ik", [(2, 1), (3, 2)]),
    (",->", [(), ()]),
    ("...,...->...", [(), (3,)]),
    ("ij,jk->ik", [(2, 0), (0, 3)]),
    ("i...i->...", [(2, 3, 2)]),
    ("ij->", [(2, 3)]),
    ("ij,kl->ijkl", [(2, 3), (1, 2)]),
    ("ab,bc,cd->ad", [(2, 3), (3, 2), (2, 2)]),
    ("i->...i", [(2,)]),
    ("...i->i", [(3, 2)]),
    ("i j , j k -> i k", [(2, 3), (3, 1)]),
    ("ij->ji", [(2, 3)]),
    ("ij,ij->ij", [(2, 3), (2, 3)]),
]


@pytest.mark.parametrize(("equation", "shapes_"), EINSUM, ids=[e for e, _ in EINSUM])
@settings(max_examples=8)
@given(data=st.data())
def test_einsum_matches_torch(torch, equation, shapes_, data):
    inputs = draw(data, *shapes_)
    against_torch(torch, lambda *t: tg.einsum(equation, *t),
                  lambda *t: torch.einsum(equation, *t), *inputs,
                  upstream=data.draw(upstream_layouts))


def test_matmul_of_two_dtypes_raises_as_torch(torch):
    for left, right in ((np.float32, np.float64), (np.int64, np.float64), (np.int32, np.int64)):
        for shapes_ in (((2, 3), (3,)), ((3,), (3,)), ((2, 3), (3, 2)), ((2, 2, 3), (3, 2))):
            a, b = (np.ones(s, dt) for s, dt in zip(shapes_, (left, right)))
            same_error(torch, lambda a=a, b=b: Tensor(a) @ Tensor(b),
                       lambda t, a=a, b=b: t.tensor(a) @ t.tensor(b))
            same_error(torch, lambda a=a, b=b: tg.matmul(Tensor(a), b),
                       lambda t, a=a, b=b: t.matmul(t.tensor(a), t.tensor(b)))


# ---- bad arguments raise what PyTorch raises ----------------------------------------------------

M = np.arange(6.0).reshape(2, 3)
ERRORS = {  # what: (ours, PyTorch's, given the module)
    "t of 3-d": (lambda: Tensor(np.ones((2, 2, 2))).t(), lambda t: t.ones(2, 2, 2).t()),
    "narrow of 0-d": (lambda: Tensor(1.0).narrow(0, 0, 1), lambda t: t.tensor(1.0).narrow(0, 0, 1)),
    "narrow start": (lambda: Tensor(M).narrow(1, 4, 0), lambda t: t.tensor(M).narrow(1, 4, 0)),
    "narrow -start": (lambda: Tensor(M).narrow(1, -4, 1), lambda t: t.tensor(M).narrow(1, -4, 1)),
    "narrow long": (lambda: Tensor(M).narrow(1, 1, 3), lambda t: t.tensor(M).narrow(1, 1, 3)),
    "narrow length": (lambda: Tensor(M).narrow(1, 1, -1),
                      lambda t: t.tensor(M).narrow(1, 1, -1)),
    "narrow dim": (lambda: Tensor(M).narrow(2, 0, 1), lambda t: t.tensor(M).narrow(2, 0, 1)),
    "roll pairs": (lambda: Tensor(M).roll((1, 2), 0), lambda t: t.tensor(M).roll((1, 2), 0)),
    "roll no dims": (lambda: Tensor(M).roll((1, 2)), lambda t: t.tensor(M).roll((1, 2))),
    "roll 0-d": (lambda: Tensor(1.0).roll(1, 0), lambda t: t.tensor(1.0).roll(1, 0)),
    "roll dim": (lambda: Tensor(M).roll(1, 2), lambda t: t.tensor(M).roll(1, 2)),
    "movedim twice": (lambda: Tensor(M).movedim((0, 0), (0, 1)),
                      lambda t: t.tensor(M).movedim((0, 0), (0, 1))),
    "movedim counts": (lambda: Tensor(M).movedim((0, 1), 0),
                       lambda t: t.tensor(M).movedim((0, 1), (0,))),
    "movedim dim": (lambda: Tensor(M).movedim(2, 0), lambda t: t.tensor(M).movedim(2, 0)),
    "gather float": (lambda: Tensor(M).gather(1, Tensor([[0.0]])),
                     lambda t: t.tensor(M).gather(1, t.tensor([[0.0]]))),
    "gather bounds": (lambda: Tensor(M).gather(1, Tensor([[3]])),
                      lambda t: t.tensor(M).gather(1, t.tensor([[3]]))),
    "gather -1": (lambda: Tensor(M).gather(1, Tensor([[-1]])),
                  lambda t: t.tensor(M).gather(1, t.tensor([[-1]]))),
    "gather dims": (lambda: Tensor(M).gather(1, Tensor([0])),
                    lambda t: t.tensor(M).gather(1, t.tensor([0]))),
    "gather size": (lambda: Tensor(M).gather(1, Tensor([[0], [1], [0]])),
                    lambda t: t.tensor(M).gather(1, t.tensor([[0], [1], [0]]))),
    "gather list": (lambda: tg.gather(Tensor(M), 1, [[0]]), lambda t: t.gather(t.tensor(M), 1,
                                                                              [[0]])),
    "index_select matrix": (lambda: Tensor(M).index_select(1, Tensor([[0]])),
                            lambda t: t.tensor(M).index_select(1, t.tensor([[0]]))),
    "index_select bounds": (lambda: Tensor(M).index_select(1, Tensor([-1])),
                            lambda t: t.tensor(M).index_select(1, t.tensor([-1]))),
    "index_select float": (lambda: Tensor(M).index_select(1, Tensor([1.0])),
                           lambda t: t.tensor(M).index_select(1, t.tensor([1.0]))),
    "index_select of 0-d": (lambda: Tensor(5.0).index_select(0, Tensor([0, 0])),
                            lambda t: t.tensor(5.0).index_select(0, t.tensor([0, 0]))),
    "index_select empty": (lambda: Tensor(np.zeros((2, 0))).index_select(1, Tensor([0])),
                           lambda t: t.zeros(2, 0).index_select(1, t.tensor([0]))),
    "logsumexp no dim": (lambda: tg.logsumexp(Tensor(M)), lambda t: t.logsumexp(t.tensor(M))),
    "prod of dims": (lambda: Tensor(M).prod((0, 1)), lambda t: t.tensor(M).prod((0, 1))),
    "prod dim": (lambda: Tensor(M).prod(2), lambda t: t.tensor(M).prod(2)),
    "all dim": (lambda: Tensor(M).all(2), lambda t: t.tensor(M).all(2)),
    "floor of bool": (lambda: Tensor([True]).floor(), lambda t: t.tensor([True]).floor()),
    "round decimals of int": (lambda: Tensor([15]).round(decimals=-1),
                              lambda t: t.tensor([15]).round(decimals=-1)),
    "mean to int": (lambda: Tensor([1, 2]).mean(dtype=tg.int64),
                    lambda t: t.tensor([1, 2]).mean(dtype=t.int64)),
    "repeats < 0": (lambda: Tensor(M).repeat_interleave(-1),
                    lambda t: t.tensor(M).repeat_interleave(-1)),
    "repeats float": (lambda: Tensor(M).repeat_interleave(Tensor([1.0, 2.0]), 0),
                      lambda t: t.tensor(M).repeat_interleave(t.tensor([1.0, 2.0]), 0)),
    "repeats count": (lambda: Tensor(M).repeat_interleave(Tensor([1, 2, 3]), 0),
                      lambda t: t.tensor(M).repeat_interleave(t.tensor([1, 2, 3]), 0)),
    "repeats matrix": (lambda: Tensor(M).repeat_interleave(Tensor([[2]]), 0),
                       lambda t: t.tensor(M).repeat_interleave(t.tensor([[2]]), 0)),
    "repeats tensor < 0": (lambda: Tensor(M).repeat_interleave(Tensor([1, -1]), 0),
                           lambda t: t.tensor(M).repeat_interleave(t.tensor([1, -1]), 0)),
    "output_size": (lambda: Tensor(M).repeat_interleave(2, 0, output_size=3),
                    lambda t: t.tensor(M).repeat_interleave(2, 0, output_size=3)),
    "repeat 0-d along": (lambda: Tensor(5.0).repeat_interleave(2, 0),
                         lambda t: t.tensor(5.0).repeat_interleave(2, 0)),
    "tile < 0": (lambda: Tensor(M).tile(-1), lambda t: t.tensor(M).tile(-1)),
    "mm of a vector": (lambda: tg.mm(Tensor(np.ones(3)), Tensor(M.T)),
                       lambda t: t.mm(t.ones(3), t.tensor(M.T))),
    "mm dtypes": (lambda: tg.mm(Tensor(M), Tensor(M.T.astype(np.float32))),
                  lambda t: t.mm(t.tensor(M), t.tensor(M.T.astype(np.float32)))),
    "mm shapes": (lambda: tg.mm(Tensor(M), Tensor(M)), lambda t: t.mm(t.tensor(M), t.tensor(M))),
    "bmm batches": (lambda: tg.bmm(Tensor(np.ones((2, 2, 3))), Tensor(np.ones((1, 3, 2)))),
                    lambda t: t.bmm(t.ones(2, 2, 3), t.ones(1, 3, 2))),
    "bmm of matrices": (lambda: tg.bmm(Tensor(M), Tensor(M.T)),
                        lambda t: t.bmm(t.tensor(M), t.tensor(M.T))),
    "outer of a matrix": (lambda: tg.outer(Tensor(M), Tensor(np.ones(2))),
                          lambda t: t.outer(t.tensor(M), t.ones(2))),
    "maximum of a number": (lambda: Tensor(M).maximum(2.0), lambda t: t.tensor(M).maximum(2.0)),
    "minimum of a number": (lambda: tg.minimum(Tensor(M), 2.0),
                            lambda t: t.minimum(t.tensor(M), 2.0)),
    "isclose dtypes": (lambda: tg.isclose(Tensor(M), Tensor(M.astype(np.float32))),
                       lambda t: t.isclose(t.tensor(M), t.tensor(M.astype(np.float32)))),
    "isclose number": (lambda: Tensor(M).isclose(1.0), lambda t: t.tensor(M).isclose(1.0)),
    "isclose rtol": (lambda: Tensor(M).isclose(Tensor(M), rtol=-1),
                     lambda t: t.tensor(M).isclose(t.tensor(M), rtol=-1)),
    "lerp dtypes": (lambda: Tensor(M).lerp(Tensor(M.astype(np.float32)), 0.5),
                    lambda t: t.tensor(M).lerp(t.tensor(M.astype(np.float32)), 0.5)),
    "lerp weight": (lambda: Tensor(M).lerp(Tensor(M), Tensor(M.astype(np.float32))),
                    lambda t: t.tensor(M).lerp(t.tensor(M), t.tensor(M.astype(np.float32)))),
    "lerp of ints": (lambda: Tensor([1]).lerp(Tensor([3]), 0.5),
                     lambda t: t.tensor([1]).lerp(t.tensor([3]), 0.5)),
    "lerp to a number": (lambda: Tensor(M).lerp(1.0, 0.5), lambda t: t.tensor(M).lerp(1.0, 0.5)),
    "addcdiv of ints": (lambda: Tensor(M).addcdiv(Tensor([2]), Tensor([4])),
                        lambda t: t.tensor(M).addcdiv(t.tensor([2]), t.tensor([4]))),
    "fmod by 0": (lambda: Tensor([3, -3]).fmod(0), lambda t: t.tensor([3, -3]).fmod(0)),
    "diag of 0-d": (lambda: tg.diag(Tensor(1.0)), lambda t: t.diag(t.tensor(1.0))),
    "diag of 3-d": (lambda: tg.diag(Tensor(np.ones((2, 2, 2)))), lambda t: t.diag(t.ones(2, 2, 2))),
    "tril_indices < 0": (lambda: tg.tril_indices(-1, 2), lambda t: t.tril_indices(-1, 2)),
    "tril_indices float": (lambda: tg.tril_indices(2, 2, dtype=tg.float32),
                           lambda t: t.tril_indices(2, 2, dtype=t.float32)),
    "meshgrid dtypes": (lambda: tg.meshgrid(Tensor([1, 2]), Tensor([1.0]), indexing="ij"),
                        lambda t: t.meshgrid(t.tensor([1, 2]), t.tensor([1.0]), indexing="ij")),
    "meshgrid matrix": (lambda: tg.meshgrid(Tensor(M), Tensor([1.0]), indexing="ij"),
                        lambda t: t.meshgrid(t.tensor(M), t.tensor([1.0]), indexing="ij")),
    "meshgrid indexing": (lambda: tg.meshgrid(Tensor([1.0]), indexing="xx"),
                          lambda t: t.meshgrid(t.tensor([1.0]), indexing="xx")),
    "meshgrid of none": (lambda: tg.meshgrid(indexing="ij"), lambda t: t.meshgrid(indexing="ij")),
}
EINSUM_ERRORS = {  # equation: shapes
    "a1->a": [(2, 3)], "i,j": [(2,)], "ij": [(2,)], "ii": [(2, 3)], "i,i": [(2,), (3,)],
    "i->ii": [(2,)], "i->j": [(2,)], "...i...->i": [(2, 3)], "i.->i": [(2,)],
}


@pytest.mark.parametrize("what", list(ERRORS))
def test_bad_arguments_raise_what_torch_raises(torch, what):
    ours, theirs = ERRORS[what]
    same_error(torch, ours, theirs)


@pytest.mark.parametrize("equation", list(EINSUM_ERRORS))
def test_bad_einsum_equations_raise_what_torch_raises(torch, equation):
    arrays = [np.ones(s) for s in EINSUM_ERRORS[equation]]
    same_error(torch, lambda: tg.einsum(equation, *map(Tensor, arrays)),
               lambda t: t.einsum(equation, *map(t.tensor, arrays)))
    same_error(torch, lambda: tg.einsum("i,i", Tensor(np.ones(2)), Tensor(np.ones(2, np.float32))),
               lambda t: t.einsum("i,i", t.ones(2), t.ones(2, dtype=t.float32)))


# ---- inference_mode -----------------------------------------------------------------------------


def recorded(engine) -> list[bool]:
    """Whether an op records, in each way inference_mode can be used (and nested)."""
    x = engine.ones(2, requires_grad=True)
    seen = []
    with engine.inference_mode():
        seen.append((x * 2).requires_grad)
        with engine.inference_mode(False):
            seen.append((x * 2).requires_grad)
    with engine.no_grad(), engine.inference_mode(False):
        seen.append((x * 2).requires_grad)
    with engine.inference_mode(mode=False):
        seen.append((x * 2).requires_grad)

    @engine.inference_mode
    def bare():
        return (x * 2).requires_grad

    @engine.inference_mode()
    def called():
        return (x * 2).requires_grad

    @engine.inference_mode(False)
    def off():
        return (x * 2).requires_grad

    return [*seen, bare(), called(), off(), (x * 2).requires_grad]


def test_inference_mode_records_as_torch(torch):
    assert recorded(tg) == recorded(torch) == [False, True, True, True, False, False, True, True]


# =============================== without PyTorch: the Value engine ===============================


def elementwise(fn, values):
    return np.vectorize(fn, otypes=[object])(as_value_array(values))


@pytest.mark.parametrize("name", ["log1p", "expm1"])
@settings(max_examples=10)
@given(data=st.data())
def test_log1p_and_expm1_match_values(name, data):
    (x,) = draw(data, data.draw(shapes(size_zero=True), label="shape"),
                domain=ABOVE_MINUS_ONE if name == "log1p" else ANY)
    reference = (lambda v: (v + 1.0).log()) if name == "log1p" else (lambda v: v.exp() - 1.0)
    check_against_values(getattr(Tensor, name), lambda v: elementwise(reference, v), x,
                         upstream=data.draw(upstream_layouts))


@settings(max_examples=10)
@given(data=st.data())
def test_lerp_addcmul_and_addcdiv_match_values(data):
    shapes_ = data.draw(broadcastable_shapes(3), label="shapes")
    dtype = data.draw(float_dtypes, label="dtype")
    a, b = draw(data, *shapes_[:2], dtype=dtype)
    (c,) = draw(data, shapes_[2], domain=AWAY_FROM_ZERO, dtype=dtype)
    check_against_values(lambda s, e, w: s.lerp(e, w), lambda s, e, w: s + w * (e - s), a, b, c)
    check_against_values(lambda s, e: s.lerp(e, 0.75), lambda s, e: s + 0.75 * (e - s), a, b)
    check_against_values(lambda s, p, q: s.addcmul(p, q, value=0.5),
                         lambda s, p, q: s + p * q * 0.5, a, b, c)  # (arrays first: 0-d)
    check_against_values(lambda s, p, q: tg.addcdiv(s, p, q, value=-2),
                         lambda s, p, q: s + p / q * -2, a, b, c)


@settings(max_examples=10)
@given(data=st.data())
def test_fmod_matches_values(data):
    dtype = data.draw(float_dtypes, label="dtype")
    (a,) = draw(data, (3,), dtype=dtype)
    (b,) = draw(data, (3,), domain=AWAY_FROM_ZERO, dtype=dtype)
    quotient = np.trunc(a.values / b.values).astype(np.float64)  # a constant: steps are flat

    check_against_values(lambda x, y: x.fmod(y), lambda x, y: x - y * quotient, a, b)


@settings(max_examples=10)
@given(data=st.data())
def test_logsumexp_matches_values(data):
    shape = data.draw(shapes(), label="shape")
    dim = data.draw(dims_for(len(shape)).filter(lambda d: d is not None), label="dim")
    keepdim = data.draw(st.booleans(), label="keepdim")
    (x,) = draw(data, shape)
    axes = None if not shape else dim

    def reference(v):  # shifted by the largest entry, a constant
        peak = data_of(v).max(axis=axes, keepdims=True) if v.ndim else data_of(v)
        total = v_log(v_sum(v_exp(v - peak), axes, keepdims=True)) + peak
        return total if keepdim or not v.ndim else total.reshape(
            Tensor(x.values).logsumexp(dim).shape)

    check_against_values(lambda t: t.logsumexp(dim, keepdim), reference, x)


@pytest.mark.parametrize("name", ["prod", "cumprod"])
@settings(max_examples=15)
@given(data=st.data())
def test_prod_and_cumprod_match_values_zeros_included(name, data):
    shape = data.draw(shapes(min_dims=1), label="shape")
    dim = data.draw(st.integers(-len(shape), len(shape) - 1), label="dim")
    whole = name == "prod" and data.draw(st.booleans(), label="all entries")
    (x,) = draw(data, shape, domain=TIES)

    def ours(t):
        return t.cumprod(dim) if name == "cumprod" else t.prod() if whole else t.prod(dim)

    def reference(v):
        if name == "cumprod":
            return np.cumprod(v, axis=dim)
        return as_value_array(np.prod(v) if whole else np.prod(v, axis=dim))

    check_against_values(ours, reference, x)


@settings(max_examples=15)
@given(data=st.data())
def test_shape_ops_match_values(data):
    shape = data.draw(shapes(min_dims=1, max_dims=3), label="shape")
    ndim = len(shape)
    dim = data.draw(st.integers(-ndim, ndim - 1), label="dim")
    size = shape[dim]
    start = data.draw(st.integers(-size, size - 1), label="start")
    length = data.draw(st.integers(0, size - start % size), label="length")
    shift = data.draw(st.integers(-3, 3), label="shift")
    target = data.draw(st.integers(-ndim, ndim - 1), label="destination")
    counts = tuple(data.draw(st.lists(st.integers(1, 2), max_size=ndim + 1), label="tile"))
    repeats = data.draw(st.integers(0, 2), label="repeats")
    (x,) = draw(data, shape)
    d, begin = dim % ndim, start % size
    cases = [
        (lambda t: t.narrow(dim, start, length),
         lambda v: v[(slice(None),) * d + (slice(begin, begin + length),)]),
        (lambda t: t.roll(shift, dim), lambda v: np.roll(v, shift, dim)),
        (lambda t: t.roll(shift), lambda v: np.roll(v, shift)),
        (lambda t: t.movedim(dim, target), lambda v: np.moveaxis(v, dim, target)),
        (lambda t: tg.swapdims(t, dim, target), lambda v: np.swapaxes(v, dim, target)),
        (lambda t: t.tile(counts), lambda v: np.tile(v, counts)),
        (lambda t: t.repeat_interleave(repeats, dim), lambda v: np.repeat(v, repeats, dim)),
        (lambda t: t.repeat_interleave(repeats), lambda v: np.repeat(v.reshape(-1), repeats)),
    ]
    if ndim <= 2:
        cases.append((tg.t, lambda v: v.T))
    for ours, reference in cases:
        check_against_values(ours, reference, x)


@settings(max_examples=15)
@given(data=st.data())
def test_gather_index_select_and_diag_match_values(data):
    shape = data.draw(shapes(min_dims=1, max_dims=3), label="shape")
    dim = data.draw(st.integers(-len(shape), len(shape) - 1), label="dim")
    d = dim % len(shape)
    index_shape = tuple(data.draw(st.integers(1, n), label="side") if i != d
                        else data.draw(st.integers(0, 4), label="picks")
                        for i, n in enumerate(shape))
    entries = st.integers(0, shape[d] - 1)
    index = data.draw(hnp.arrays(np.int64, index_shape, elements=entries), label="index")
    vector = data.draw(hnp.arrays(np.int64, index_shape[d], elements=entries), label="vector")
    (x,) = draw(data, shape)
    within = tuple(slice(n) for n in index_shape)  # gather's index may be smaller elsewhere

    check_against_values(lambda t: t.gather(dim, Tensor(index)),
                         lambda v: np.take_along_axis(v[within[:d] + (slice(None),) +
                                                        within[d + 1:]], index, axis=d), x)
    check_against_values(lambda t: tg.index_select(t, dim, Tensor(vector)),
                         lambda v: np.take(v, vector, axis=d), x)
    diagonal = data.draw(st.integers(-2, 2), label="diagonal")
    (m,) = draw(data, shape[:2])

    def value_diag(v):
        if v.ndim == 2:
            return np.diagonal(v, diagonal)
        out = np.full((len(v) + abs(diagonal),) * 2, Value(0.0), dtype=object)
        steps = np.arange(len(v))
        out[steps + max(-diagonal, 0), steps + max(diagonal, 0)] = v
        return out

    check_against_values(lambda t: t.diag(diagonal), value_diag, m)


@settings(max_examples=10)
@given(data=st.data())
def test_meshgrid_mm_bmm_outer_and_einsum_match_values(data):
    n, k, m = (data.draw(st.integers(1, 3), label=name) for name in "nkm")
    dtype = data.draw(float_dtypes, label="dtype")
    a, b, c = draw(data, (n,), (k,), (m,), dtype=dtype)
    indexing = data.draw(st.sampled_from(["ij", "xy"]), label="indexing")
    check_against_values(lambda *t: tg.stack(tg.meshgrid(*t, indexing=indexing)),
                         lambda *v: np.stack(np.meshgrid(*v, indexing=indexing)), a, b, c)
    check_against_values(tg.outer, np.multiply.outer, a, b)
    x, y = draw(data, (n, k), (k, m), dtype=dtype)
    check_against_values(tg.mm, v_matmul, x, y)
    check_against_values(lambda s, t: tg.einsum("ij,jk->ki", s, t),
                         lambda s, t: np.einsum("ij,jk->ki", s, t), x, y)
    x, y = draw(data, (2, n, k), (2, k, m), dtype=dtype)
    check_against_values(tg.bmm, v_matmul, x, y)
    z, w = draw(data, (k, n, k), (k, m), dtype=dtype)
    for equation in ("iji->j", "iji", "i...i->...", "...ij->...", "ijk,kl->jil"):
        operands = (z, w) if equation.count(",") else (z,)
        check_against_values(lambda *t, e=equation: tg.einsum(e, *t),
                             lambda *v, e=equation: as_value_array(np.einsum(e, *v)), *operands)


# ---- exact values -------------------------------------------------------------------------------


def test_roundings_sign_and_nan_to_num_give_pytorchs_values_and_zero_gradients():
    x = Tensor([-2.5, -0.5, 0.5, 1.5, 2.5, np.nan, np.inf, -0.0], requires_grad=True)
    assert x.round().tolist()[:5] == [-2.0, -0.0, 0.0, 2.0, 2.0]  # halves to even
    assert x.floor().tolist()[:5] == [-3.0, -1.0, 0.0, 1.0, 2.0]
    assert x.ceil().tolist()[:5] == [-2.0, -0.0, 1.0, 2.0, 3.0]
    assert x.trunc().tolist()[:5] == [-2.0, -0.0, 0.0, 1.0, 2.0]
    assert x.sign().tolist()[5:] == [0.0, 1.0, 0.0]  # NaN's sign is 0
    assert Tensor([1.25, 2.35, 150.0]).round(decimals=1).tolist() == [1.2, 2.4, 150.0]
    assert Tensor([15.0, 25.0, -150.0]).round(decimals=-1).tolist() == [20.0, 20.0, -150.0]
    assert Tensor([-3, 0, 4]).sign().tolist() == [-1, 0, 1]
    assert Tensor([True, False]).sign().dtype == np.bool_
    finite = np.finfo(np.float32)
    assert tg.nan_to_num(Tensor(np.array([np.nan, np.inf, -np.inf, 1.0], np.float32))
                         ).tolist() == [0.0, finite.max, finite.min, 1.0]
    for op in (Tensor.round, Tensor.floor, Tensor.ceil, Tensor.trunc, Tensor.sign):
        out = op(x)
        assert out.requires_grad
        x.grad = None
        out.backward(np.ones(8))
        assert not x.grad.any() and x.grad.dtype == np.float64
    x.grad = None
    x.nan_to_num().sum().backward()
    assert x.grad.tolist() == [1.0] * 5 + [0.0, 0.0, 1.0]


def test_prod_and_cumprod_gradients_with_zeros_are_the_products_of_the_others():
    x = Tensor([2.0, 0.0, 3.0, 4.0], requires_grad=True)
    x.prod().backward()
    assert x.grad.tolist() == [0.0, 24.0, 0.0, 0.0]
    x.grad = None
    x.cumprod(0).backward(np.array([1.0, 2.0, 3.0, 4.0]))
    assert x.grad.tolist() == [1.0, 118.0, 0.0, 0.0]  # 2*2 + 3*6 + 4*24 at the zero
    twice = Tensor([0.0, np.inf, 0.0], requires_grad=True)
    with np.errstate(invalid="ignore"):  # (0 * inf in the forward: NaN, as PyTorch's)
        twice.prod().backward()
    assert twice.grad.tolist() == [0.0, 0.0, 0.0]  # two zeros: 0, not inf * 0
    # the first zero's gradient: products up to the second zero, not inf * 0 beyond it
    line = Tensor([0.0, 2.0, 0.0, np.inf], requires_grad=True)
    with np.errstate(invalid="ignore"):
        line.cumprod(0).backward(np.array([1.0, 2.0, 3.0, 4.0]))
    assert line.grad.tolist() == [5.0, 0.0, 0.0, 0.0]  # 1 + 2 * 2
    assert Tensor([[2, 3], [4, 5]]).prod(1).tolist() == [6, 20]
    assert Tensor(np.array([200, 2], np.uint8)).prod().dtype == np.int64
    assert Tensor(np.zeros((0, 2))).prod(0).tolist() == [1.0, 1.0]


def test_logsumexp_at_infinities_and_over_nothing():
    x = Tensor([[np.inf, np.inf], [-np.inf, -np.inf], [np.inf, -np.inf], [-np.inf, 1.0]],
               requires_grad=True)
    out = x.logsumexp(1)
    assert out.tolist() == [np.inf, -np.inf, np.inf, 1.0]
    with np.errstate(invalid="ignore"):
        out.backward(np.ones(4))
    np.testing.assert_array_equal(x.grad, [[np.nan, np.nan], [np.nan, np.nan], [np.nan, 0.0],
                                           [0.0, 1.0]])  # exp(x - out), as PyTorch's
    assert Tensor(np.zeros((0, 2))).logsumexp(0).tolist() == [-np.inf, -np.inf]
    big = Tensor([1000.0, 1000.0])
    assert big.logsumexp(0).item() == pytest.approx(1000.0 + math.log(2.0))


def test_all_any_argsort_and_isclose_give_pytorchs_values_outside_the_graph():
    x = Tensor([[1.0, 0.0], [np.nan, 2.0]], requires_grad=True)
    assert x.all(1).tolist() == [False, True] and x.any(1).tolist() == [True, True]
    assert x.all(()).tolist() == [[True, False], [True, True]]  # an empty tuple: no reduction
    flags = Tensor(np.array([1, 0], np.uint8))
    assert flags.all().dtype == np.uint8 and flags.any(0).item() == 1
    order = tg.argsort(Tensor([3.0, np.nan, 1.0, 3.0, -np.inf]), descending=True)
    assert order.tolist() == [1, 0, 3, 2, 4] and order.dtype == np.int64
    assert not order.requires_grad and not x.all().requires_grad
    assert x.argsort(0).tolist() == [[0, 0], [1, 1]]
    close = tg.isclose(Tensor([1.0, np.inf, np.nan, 1.0]),
                       Tensor([1.0 + 1e-9, np.inf, np.nan, 2.0]))
    assert close.tolist() == [True, True, False, False]
    assert not tg.isclose(Tensor([np.inf]), Tensor([-np.inf]), rtol=1.0).item()
    assert Tensor([np.nan]).isclose(Tensor([np.nan]), equal_nan=True).tolist() == [True]
    assert tg.isclose(Tensor([100]), Tensor([101]), rtol=0.1).tolist() == [True]


def test_reductions_with_a_dtype_convert_first():
    assert Tensor([1.5, 2.7]).sum(dtype=tg.int64).item() == 3  # 1 + 2
    assert Tensor([200, 100]).sum(dtype=tg.uint8).item() == 44  # wraps, as PyTorch's
    assert Tensor([1, 2]).mean(dtype=tg.float32).dtype == np.float32
    x = Tensor([1.0, 2.0], requires_grad=True)
    total = x.sum(dtype=tg.float32)
    total.backward()
    assert total.dtype == np.float32 and x.grad.dtype == np.float64
    assert tg.cumsum(Tensor([2, 3]), 0, dtype=tg.float32).dtype == np.float32
    assert tg.cumprod(Tensor([200, 2]), 0, dtype=tg.uint8).tolist() == [200, 144]
    with pytest.raises(RuntimeError, match="floating"):
        Tensor([1, 2]).mean(dtype=tg.int64)


def test_shape_and_index_ops_give_the_expected_entries():
    x = Tensor(np.arange(6.0).reshape(2, 3))
    assert x.t().tolist() == [[0, 3], [1, 4], [2, 5]] and Tensor([1.0]).t().shape == (1,)
    assert x.narrow(1, -2, 2).tolist() == [[1, 2], [4, 5]]
    assert x.roll(1).tolist() == [[5, 0, 1], [2, 3, 4]]
    assert x.roll((1, -1), (0, 1)).tolist() == [[4, 5, 3], [1, 2, 0]]
    assert tg.zeros(2, 3, 4).movedim((0, 1), (2, 0)).shape == (3, 4, 2)
    assert tg.zeros(2, 3, 4).movedim(0, -1).shape == (3, 4, 2)
    assert x.gather(1, Tensor([[1, 1], [0, 2]])).tolist() == [[1, 1], [3, 5]]
    assert x.index_select(1, Tensor([2, 0, 2])).tolist() == [[2, 0, 2], [5, 3, 5]]
    assert x.where(x > 2, -1.0).tolist() == [[-1, -1, -1], [3, 4, 5]]
    assert Tensor([1.0, 2.0]).repeat_interleave(2).tolist() == [1, 1, 2, 2]
    assert x.repeat_interleave(Tensor([0, 2]), 0).tolist() == [[3, 4, 5], [3, 4, 5]]
    assert tg.repeat_interleave(Tensor([1, 0, 2])).tolist() == [0, 2, 2]
    assert x.tile(2).shape == (2, 6) and x.tile(2, 1, 1).shape == (2, 2, 3)
    assert tg.diag(Tensor([1.0, 2.0]), 1).tolist() == [[0, 1, 0], [0, 0, 2], [0, 0, 0]]
    assert x.diag(-1).tolist() == [3.0]
    assert tg.tril_indices(2, 2).tolist() == [[0, 1, 1], [0, 0, 1]]
    assert tg.triu_indices(3, 2, -1).tolist() == [[0, 0, 1, 1, 2], [0, 1, 0, 1, 1]]
    rows, cols = tg.meshgrid(Tensor([1, 2]), Tensor([3, 4, 5]), indexing="xy")
    assert rows.shape == cols.shape == (3, 2) and cols.tolist()[0] == [3, 3]
    with pytest.warns(UserWarning, match="indexing"):
        assert tg.meshgrid([Tensor([1, 2]), Tensor([3])])[0].shape == (2, 1)


def test_products_and_remainders_give_the_expected_values():
    a = Tensor([[1.0, 2.0], [3.0, 4.0]])
    assert tg.mm(a, a).tolist() == [[7, 10], [15, 22]]
    assert tg.bmm(a[None], a[None]).shape == (1, 2, 2)
    assert tg.outer(Tensor([1, 2]), Tensor([1.0, 3.0])).tolist() == [[1, 3], [2, 6]]
    assert tg.einsum("ii", a).item() == 5.0 and tg.einsum("ij->j", [a]).tolist() == [4, 6]
    assert tg.einsum("bA", Tensor(np.zeros((2, 3)))).shape == (3, 2)  # A-Z before a-z
    assert tg.einsum("aB", Tensor(np.zeros((2, 3)))).shape == (3, 2)
    assert Tensor([-3.0, 3.0, -3.5]).fmod(2).tolist() == [-1.0, 1.0, -1.5]
    assert Tensor([-3.0, 3.0]).remainder(2).tolist() == [1.0, 1.0]
    start, end = Tensor(np.float32([1e8, 1e8])), Tensor(np.float32([1.0, 1.0]))
    assert tg.lerp(start, end, Tensor(np.float32([1.0, 0.25]))).tolist() == [1.0, 75000000.0]
    assert tg.maximum(Tensor([1.0, np.nan]), Tensor([2.0, 0.0])).tolist()[0] == 2.0
    assert np.isnan(Tensor([1.0, np.nan]).minimum(Tensor([2.0, 0.0])).data[1])
    assert tg.addcmul(Tensor([1.0]), Tensor([2.0]), Tensor([3.0]), value=0.5).item() == 4.0
    assert tg.addcdiv(Tensor([1.0]), Tensor([2.0]), Tensor([4.0]), value=0.5).item() == 1.25


def test_indices_out_of_range_raise_rather_than_wrap():
    x = Tensor(np.arange(6.0).reshape(2, 3))
    for bad in ([[-1]], [[3]]):
        with pytest.raises(RuntimeError, match="out of bounds"):
            x.gather(1, Tensor(bad))
        with pytest.raises(RuntimeError, match="out of bounds"):
            x.index_select(1, Tensor(bad[0]))
    with pytest.raises(TypeError, match="must be a tensor"):
        x.gather(1, [[0]])


def test_matmul_of_two_dtypes_raises_and_of_one_dtype_does_not():
    with pytest.raises(RuntimeError, match="same dtype"):
        Tensor(np.ones((2, 3), np.float32)) @ Tensor(np.ones(3))
    with pytest.raises(RuntimeError, match="same dtype"):
        np.ones(3) @ Tensor(np.ones((3, 2), np.float32))
    assert (Tensor(np.ones((2, 3), np.float32)) @ np.ones(3, np.float32)).dtype == np.float32
    assert (Tensor(np.ones(3, np.int64)) @ Tensor(np.ones(3, np.int64))).item() == 3


def test_inference_mode_records_nothing_inside_and_restores_after():
    x = Tensor([1.0], requires_grad=True)
    assert recorded(tg) == [False, True, True, True, False, False, True, True]

    @tg.inference_mode()
    def doubled():
        while True:
            yield x * 2

    results = doubled()
    assert not next(results).requires_grad and (x * 2).requires_grad


def test_new_ops_replay_in_a_captured_step_as_they_ran():
    w = Tensor(np.linspace(-1.0, 1.0, 12).reshape(3, 4), requires_grad=True)
    index = Tensor(np.array([[0, 2], [1, 1], [3, 0]]))

    def loss_fn(x):
        h = tg.einsum("ij,jk->ik", x, w).gather(1, index).logsumexp(1)
        return (h.cumprod(0).sum() + (w.roll(1, 0) * w).prod(1).sum()
                + w.lerp(tg.einsum("ij->ji", x), 0.25).sum())

    step = tg.capture(loss_fn)
    inputs = [np.linspace(0.5, 1.5, 12).reshape(4, 3) * s for s in (1.0, -0.5, 2.0)]
    for x in inputs:
        w.grad = None
        replayed = step(x).item()  # recorded twice, then replayed
        got = w.grad
        w.grad = None
        loss_fn(Tensor(x)).backward()
        assert replayed == loss_fn(Tensor(x)).item()
        np.testing.assert_array_equal(got, w.grad)


@pytest.mark.parametrize("p", [2, 3, 1, -1, float("inf")])
def test_the_norm_of_one_entry_is_its_size_exactly_as_torchs(p):
    # (PyTorch's; by sum of squares, 3e-24 squared underflows in float32 and the norm was 0)
    x = tg.tensor(np.array([[3e-24], [-2e-24]], np.float32), requires_grad=True)
    norm = x.norm(p, dim=1)
    np.testing.assert_array_equal(norm.detach().numpy(), np.float32([3e-24, 2e-24]))
    norm.sum().backward()
    if p in (2, 1, float("inf")):  # (the others' slopes under- and overflow: NaN, as PyTorch's)
        np.testing.assert_array_equal(x.grad.numpy(), [[1.0], [-1.0]])
