"""The everyday torch.* functions and Tensor methods added last (trigonometric and hyperbolic
functions, log2, log10, exp2, square, atan2, fmax, fmin, float_power, the comparisons and
logical ops by name, nonzero, count_nonzero, unique, bincount, masked_select, diagonal, trace,
broadcast_to, broadcast_tensors, concat, hstack, vstack, finfo, iinfo, set_default_dtype,
stride, is_contiguous and the other facts of a tensor) held against PyTorch: values, dtypes,
whether the result requires grad, every gradient, in both float dtypes and drawn memory
layouts, at NaN, infinities and the edges of the domains, 0-d and size-0. Skipped without
torch (``test_torch_more.py`` checks them without it)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import (
    ANY,
    SMALL,
    TIES,
    Domain,
    broadcastable_shapes,
    float_dtypes,
    laid_out,
    shapes,
    upstream_layouts,
)
from torch_compare import against_torch, assert_same

import tensorgrad as tg
from tensorgrad import Tensor

torch = pytest.importorskip("torch")
# PyTorch with tensorgrad's default float dtype, float64, in every test here
pytestmark = pytest.mark.usefixtures("torch_float64_default")

INSIDE_ONE = Domain(((-0.875, 0.875),))
ABOVE_ONE = Domain(((1.125, 4.0),))
POSITIVE = Domain(((0.125, 5.0),))
# NaN, the infinities, signed zeros, the edges of asin's, acosh's and atanh's domains, beyond
SPECIAL = np.array([np.nan, np.inf, -np.inf, -0.0, 0.0, 1.0, -1.0, 0.5, -1.5, 2.5, 1e-10, 30.0])


UNARY = {  # name: the domain of the drawn values (the op is the method of that name in both)
    "sin": ANY, "cos": ANY, "tan": SMALL, "asin": INSIDE_ONE, "acos": INSIDE_ONE, "atan": ANY,
    "sinh": ANY, "cosh": ANY, "asinh": ANY, "acosh": ABOVE_ONE, "atanh": INSIDE_ONE,
    "log2": POSITIVE, "log10": POSITIVE, "exp2": ANY, "square": ANY,
}


def method(name):
    return lambda t, *args: getattr(t, name)(*args)


@pytest.mark.parametrize("name", list(UNARY))
@settings(max_examples=10)
@given(data=st.data())
def test_unary_ops_match_torch(name, data):
    shape = data.draw(shapes(size_zero=True), label="shape")
    dtype = data.draw(float_dtypes, label="dtype")
    x = data.draw(laid_out(shape, dtype, UNARY[name]), label="input")
    against_torch(torch, method(name), method(name), x, upstream=data.draw(upstream_layouts))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", list(UNARY))
def test_unary_ops_at_nan_infinities_and_domain_edges_match_torch(name, dtype):
    against_torch(torch, method(name), method(name), SPECIAL.astype(dtype))
    against_torch(torch, method(name), method(name), np.array(0.25, dtype))  # 0-d


@pytest.mark.parametrize("name", list(UNARY))
def test_unary_torch_functions_of_integers_and_booleans_match_torch(name):
    """Integers and booleans become the default float dtype (square: int64, as PyTorch's)."""
    for values in (np.array([-2, 0, 3]), np.array([True, False]), np.array([0, 7], np.uint8),
                   np.array(2, np.int32)):
        with np.errstate(all="ignore"):
            ours = getattr(tg, name)(Tensor(values))
        assert_same(ours, getattr(torch, name)(torch.tensor(values)), name, 1e-7)


BINARY = {  # name: the domain of both operands
    "atan2": ANY, "fmax": TIES, "fmin": TIES, "float_power": POSITIVE,
}


@pytest.mark.parametrize("name", list(BINARY))
@settings(max_examples=15)
@given(data=st.data())
def test_binary_ops_with_broadcasting_match_torch(name, data):
    shape_a, shape_b = data.draw(broadcastable_shapes(2, size_zero=True), label="shapes")
    dtype = data.draw(float_dtypes, label="dtype")
    a = data.draw(laid_out(shape_a, dtype, BINARY[name]), label="a")
    b = data.draw(laid_out(shape_b, dtype, BINARY[name] if name != "float_power" else SMALL),
                  label="b")
    against_torch(torch, method(name), method(name), a, b, upstream=data.draw(upstream_layouts))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", list(BINARY))
def test_binary_ops_at_nan_infinities_and_zeros_match_torch(name, dtype):
    a = SPECIAL.astype(dtype)
    b = np.array([2.0, np.nan, 2.0, -0.0, 0.0, np.nan, -1.0, 0.5, np.inf, -np.inf, 0.0,
                  -3.0]).astype(dtype)
    against_torch(torch, method(name), method(name), a, b)
    against_torch(torch, method(name), method(name), b, a)


def test_binary_ops_promote_as_torch():
    """float32 with a float64 0-d tensor stays float32; integers become floating (atan2)
    or stay integers (fmax); float_power is float64 whatever it is given; a number may be
    float_power's base or exponent."""
    pairs = [(np.array([1.5, -2.0], np.float32), np.array(2.0)),
             (np.array([1, -2]), np.array([3, 4], np.int32)),
             (np.array([1, 2], np.uint8), np.array([0.5, 2.0], np.float32)),
             (np.array([True, False]), np.array([2, 0]))]
    for a, b in pairs:
        for name in BINARY:
            with np.errstate(all="ignore"):
                ours = getattr(tg, name)(Tensor(a), Tensor(b))
            assert_same(ours, getattr(torch, name)(torch.tensor(a), torch.tensor(b)),
                        f"{name} of {a.dtype} and {b.dtype}", 1e-6)
    x = np.array([0.5, 2.0], np.float32)
    assert_same(tg.float_power(Tensor(x), 3), torch.float_power(torch.tensor(x), 3), "")
    assert_same(tg.float_power(2, Tensor(x)), torch.float_power(2, torch.tensor(x)), "")
    against_torch(torch, lambda t: tg.float_power(t, 2.5),
                  lambda t: torch.float_power(t, 2.5), x)
    against_torch(torch, lambda t: tg.float_power(3, t), lambda t: torch.float_power(3, t), x)


def test_binary_ops_refuse_numbers_as_torch():
    for name in ("atan2", "fmax", "fmin"):
        with pytest.raises(TypeError):
            getattr(torch, name)(torch.ones(2), 2.0)
        with pytest.raises(TypeError):
            getattr(tg, name)(tg.ones(2), 2.0)


# ---- comparisons and logic ----------------------------------------------------------------------

COMPARISONS = ("eq", "ne", "lt", "le", "gt", "ge")
LOGICAL = ("logical_and", "logical_or", "logical_xor")
OPERANDS = [
    (np.array([1.0, np.nan, -np.inf, 0.0, 2.0]), np.array([1.0, np.nan, 3.0, -0.0, 2.5])),
    (np.array([1, 0, 3], np.int32), np.array([1.0, 0.0, 2.5], np.float32)),
    (np.array([[True], [False]]), np.array([True, False, True])),
    (np.array(2.0), np.array([2, 3])),
    (np.zeros((0, 3)), np.ones(3, np.uint8)),
]


@pytest.mark.parametrize("a, b", OPERANDS)
def test_comparisons_and_logical_ops_match_torch(a, b):
    for name in COMPARISONS + LOGICAL:
        theirs = getattr(torch, name)(torch.tensor(a), torch.tensor(b))
        assert_same(getattr(tg, name)(Tensor(a), Tensor(b)), theirs, f"torch.{name}")
        assert_same(getattr(Tensor(a), name)(Tensor(b)), theirs, f"Tensor.{name}")
    theirs = torch.logical_not(torch.tensor(a))
    assert_same(tg.logical_not(Tensor(a)), theirs, "logical_not")
    assert_same(Tensor(a).logical_not(), theirs, "Tensor.logical_not")


def test_comparisons_with_numbers_and_the_wrong_arguments_match_torch():
    x = np.array([1, 2, 3])
    for name in COMPARISONS:
        for other in (2, 2.5, True):
            assert_same(getattr(Tensor(x), name)(other), getattr(torch.tensor(x), name)(other),
                        f"{name}({other})")
        for other in (None, "2", [2]):
            with pytest.raises(TypeError):
                getattr(torch.tensor(x), name)(other)
            with pytest.raises(TypeError):
                getattr(Tensor(x), name)(other)
    for name in LOGICAL:
        with pytest.raises(TypeError):
            getattr(torch, name)(torch.tensor(x), 1)
        with pytest.raises(TypeError):
            getattr(tg, name)(Tensor(x), 1)


# ---- selection and counting ---------------------------------------------------------------------

VALUES = [
    np.array([[0.0, 1.5, np.nan], [-0.0, 2.0, 0.0]]),
    np.array([3, 0, 3, 1, 0, 3]),
    np.array([[True, False], [False, True]]),
    np.array(2.5),
    np.array(0),
    np.zeros((2, 0)),
    np.array([2.0, np.nan, 1.0, np.nan, 2.0, -np.inf, np.inf, -0.0, 0.0], np.float32),
]


@pytest.mark.parametrize("values", VALUES, ids=lambda v: f"{v.dtype}{v.shape}")
def test_nonzero_count_nonzero_and_unique_match_torch(values):
    x, t = Tensor(values), torch.tensor(values)
    assert_same(tg.nonzero(x), torch.nonzero(t), "nonzero")
    assert_same(x.nonzero(), t.nonzero(), "Tensor.nonzero")
    ours, theirs = tg.nonzero(x, as_tuple=True), torch.nonzero(t, as_tuple=True)
    assert len(ours) == len(theirs)
    for o, e in zip(ours, theirs):
        assert_same(o, e, "nonzero(as_tuple=True)")
    assert_same(tg.count_nonzero(x), torch.count_nonzero(t), "count_nonzero")
    dims = [0, -1, (0, 1), (1, 0)] if values.ndim == 2 else [0] if values.ndim else []
    for dim in dims:
        assert_same(x.count_nonzero(dim), t.count_nonzero(dim), f"count_nonzero({dim})")
    for inverse in (False, True):
        for counts in (False, True):
            ours = tg.unique(x, return_inverse=inverse, return_counts=counts)
            theirs = torch.unique(t, return_inverse=inverse, return_counts=counts)
            ours, theirs = (ours, theirs) if isinstance(theirs, tuple) else ((ours,), (theirs,))
            assert len(ours) == len(theirs)
            for o, e in zip(ours, theirs):
                assert_same(o, e, f"unique(return_inverse={inverse}, return_counts={counts})")
    assert_same(x.unique(sorted=False), t.unique(sorted=False), "unique(sorted=False)")


def test_unique_refuses_backward_as_torch():
    x, t = tg.ones(3, requires_grad=True), torch.ones(3, requires_grad=True)
    assert tg.unique(x).requires_grad == torch.unique(t).requires_grad
    with pytest.raises(NotImplementedError):
        torch.unique(t).sum().backward()
    with pytest.raises(NotImplementedError):
        tg.unique(x).sum().backward()
    x, t = tg.ones(2, 2, requires_grad=True), torch.ones(2, 2, requires_grad=True)
    for unique in (tg.unique(x, dim=0), torch.unique(t, dim=0)):
        with pytest.raises(NotImplementedError):
            unique.sum().backward()


@pytest.mark.parametrize("weights", [None, np.array([0.5, 2.0, -1.0, 4.0, 1.0]),
                                     np.array([0.5, 2.0, -1.0, 4.0, 1.0], np.float32),
                                     np.array([1, 2, 3, 4, 5])], ids=str)
def test_bincount_matches_torch(weights):
    for values in (np.array([0, 1, 1, 4, 1]), np.array([3, 3, 0, 0, 2], np.uint8)):
        for minlength in (0, 3, 8):
            w = None if weights is None else (Tensor(weights), torch.tensor(weights))
            assert_same(tg.bincount(Tensor(values), None if w is None else w[0], minlength),
                        torch.bincount(torch.tensor(values), None if w is None else w[1],
                                       minlength), f"bincount({minlength})")
    empty = np.zeros(0, np.int64)
    assert_same(Tensor(empty).bincount(minlength=2), torch.tensor(empty).bincount(minlength=2),
                "bincount of nothing")


def test_bincount_refuses_what_torch_refuses():
    for values in (np.array([[1, 2]]), np.array([-1, 2]), np.array([1.0, 2.0])):
        with pytest.raises(Exception) as theirs:  # noqa: B017 (its type is the check)
            torch.bincount(torch.tensor(values))
        with pytest.raises(theirs.type):
            tg.bincount(Tensor(values))
    w, tw = tg.ones(2, requires_grad=True), torch.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError):
        torch.bincount(torch.tensor([0, 1]), tw).sum().backward()
    with pytest.raises(RuntimeError):
        tg.bincount(Tensor([0, 1]), w).sum().backward()


@settings(max_examples=25)
@given(data=st.data())
def test_masked_select_matches_torch(data):
    shape_x, shape_m = data.draw(broadcastable_shapes(2, size_zero=True), label="shapes")
    dtype = data.draw(float_dtypes, label="dtype")
    x = data.draw(laid_out(shape_x, dtype), label="input")
    mask = data.draw(st.integers(0, 2**31), label="mask seed")
    mask = np.random.default_rng(mask).random(shape_m) < 0.5
    against_torch(torch, lambda t: tg.masked_select(t, Tensor(mask)),
                  lambda t: torch.masked_select(t, torch.tensor(mask)), x,
                  upstream=data.draw(upstream_layouts))
    against_torch(torch, lambda t: t.masked_select(Tensor(mask)),
                  lambda t: t.masked_select(torch.tensor(mask)), x)


def test_masked_select_refuses_what_torch_refuses():
    with pytest.raises(RuntimeError):
        torch.masked_select(torch.ones(3), torch.tensor([1, 0, 1]))
    with pytest.raises(RuntimeError):
        tg.masked_select(tg.ones(3), Tensor([1, 0, 1]))


DIAGONALS = [(0, 0, 1), (1, 0, 1), (-1, 0, 1), (2, 1, 0), (0, 0, 2), (-2, 2, 0), (1, -1, -3),
             (5, 0, 1), (-4, 1, 2)]


@pytest.mark.parametrize("offset, dim1, dim2", DIAGONALS)
@settings(max_examples=8)
@given(data=st.data())
def test_diagonal_matches_torch(offset, dim1, dim2, data):
    shape = data.draw(shapes(min_dims=3, max_dims=3, max_side=4, size_zero=True),
                      label="shape")
    dtype = data.draw(float_dtypes, label="dtype")
    x = data.draw(laid_out(shape, dtype), label="input")
    against_torch(torch, lambda t: tg.diagonal(t, offset, dim1, dim2),
                  lambda t: torch.diagonal(t, offset, dim1, dim2), x,
                  upstream=data.draw(upstream_layouts))


def test_diagonal_of_matrices_and_its_errors_match_torch():
    x = np.arange(12.0).reshape(3, 4)
    for offset in (-3, -1, 0, 2, 4):
        against_torch(torch, lambda t, k=offset: t.diagonal(k),
                      lambda t, k=offset: t.diagonal(k), x)
        against_torch(torch, lambda t, k=offset: t.diagonal(offset=k, dim1=1, dim2=0),
                      lambda t, k=offset: t.diagonal(offset=k, dim1=1, dim2=0), x)
    for args in ((0, 1, 1), (0, 0, 2), (0, -1, 1)):
        with pytest.raises(Exception) as theirs:  # noqa: B017 (its type is the check)
            torch.diagonal(torch.tensor(x), *args)
        with pytest.raises(theirs.type):
            tg.diagonal(Tensor(x), *args)


@pytest.mark.parametrize("shape", [(3, 3), (2, 4), (4, 1), (0, 3)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_trace_matches_torch(shape, dtype):
    values = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    against_torch(torch, tg.trace, torch.trace, values)
    against_torch(torch, lambda t: t.T.trace(), lambda t: t.T.trace(), values)
    for ints in (np.array([[1, 2], [3, 4]], np.int32), np.array([[200, 1], [1, 200]], np.uint8)):
        assert_same(tg.trace(Tensor(ints)), torch.trace(torch.tensor(ints)), "trace of ints")
    with pytest.raises(NotImplementedError):
        torch.trace(torch.tensor([[True]]))
    with pytest.raises(NotImplementedError):
        tg.trace(Tensor([[True]]))
    with pytest.raises(RuntimeError):
        tg.trace(tg.ones(2))


def test_broadcasting_and_joining_match_torch():
    rng = np.random.default_rng(1)
    a, b, c = rng.standard_normal((2, 1)), rng.standard_normal(3), rng.standard_normal(())
    against_torch(torch, lambda t: tg.broadcast_to(t, (4, 2, 3)),
                  lambda t: torch.broadcast_to(t, (4, 2, 3)), a)
    against_torch(torch, lambda t: t.broadcast_to((-1, 3)), lambda t: t.broadcast_to((-1, 3)), a)

    def weighted(*ts):  # each broadcast tensor weighted differently, so each gradient shows
        return sum(t * (i + 1) for i, t in enumerate(ts))

    against_torch(torch, lambda x, y, z: weighted(*tg.broadcast_tensors(x, y, z)),
                  lambda x, y, z: weighted(*torch.broadcast_tensors(x, y, z)), a, b, c)
    for name in ("concat", "concatenate"):
        against_torch(torch, lambda x, y, n=name: getattr(tg, n)([x, y], dim=1),
                      lambda x, y, n=name: getattr(torch, n)([x, y], dim=1), a, a)
    groups = [[b, b], [a, a], [c, b], [c, c], [rng.standard_normal((2, 3)), b],
              [rng.standard_normal((2, 0)), a], [np.zeros(0), b]]
    for stack in ("hstack", "vstack"):
        for group in groups:
            ours = lambda *ts, s=stack: getattr(tg, s)(list(ts))  # noqa: E731
            theirs = lambda *ts, s=stack: getattr(torch, s)(list(ts))  # noqa: E731
            try:
                theirs(*(torch.tensor(g) for g in group))
            except RuntimeError:
                with pytest.raises((RuntimeError, ValueError)):
                    ours(*(Tensor(g) for g in group))
                continue
            against_torch(torch, ours, theirs, *group)
    assert_same(tg.vstack([Tensor([1, 2]), Tensor([3.5, 4.0])]),
                torch.vstack([torch.tensor([1, 2]), torch.tensor([3.5, 4.0])]), "promoted")


# ---- information --------------------------------------------------------------------------------

DTYPES = [(tg.float16, torch.float16), (tg.float32, torch.float32), (tg.float64, torch.float64),
          (tg.uint8, torch.uint8), (tg.int8, torch.int8), (tg.int16, torch.int16),
          (tg.int32, torch.int32), (tg.int64, torch.int64), (tg.bool, torch.bool)]


@pytest.mark.parametrize("ours, theirs", DTYPES, ids=lambda d: str(d))
def test_finfo_iinfo_and_is_floating_point_match_torch(ours, theirs):
    if theirs.is_floating_point:
        got, expected = tg.finfo(ours), torch.finfo(theirs)
        for name in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution"):
            assert getattr(got, name) == getattr(expected, name), name
            assert type(getattr(got, name)) is type(getattr(expected, name)), name
        assert got.dtype == expected.dtype
        assert repr(got) == repr(expected)
        with pytest.raises(TypeError):
            tg.iinfo(ours)
    else:
        with pytest.raises(TypeError):
            tg.finfo(ours)
        try:
            expected = torch.iinfo(theirs)
        except TypeError:
            with pytest.raises(TypeError):
                tg.iinfo(ours)
        else:
            got = tg.iinfo(ours)
            assert (got.bits, got.max, got.min, got.dtype) == (
                expected.bits, expected.max, expected.min, expected.dtype)
            assert repr(got) == repr(expected)
    x, t = tg.zeros(2, dtype=ours), torch.zeros(2, dtype=theirs)
    assert tg.is_floating_point(x) == torch.is_floating_point(t) == x.is_floating_point()
    assert x.element_size() == t.element_size()
    assert x.nbytes == t.nbytes


def test_finfo_of_bfloat16_matches_torch_though_no_tensor_holds_it():
    got, expected = tg.finfo(tg.bfloat16), torch.finfo(torch.bfloat16)
    for name in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution"):
        assert getattr(got, name) == getattr(expected, name), name
        assert type(getattr(got, name)) is type(getattr(expected, name)), name
    assert got.dtype == expected.dtype and repr(got) == repr(expected)
    with pytest.raises(TypeError, match="bfloat16"):
        tg.zeros(2, dtype=tg.bfloat16)


def test_finfo_of_the_default_dtype_follows_it_as_torch():
    assert repr(tg.finfo()) == repr(torch.finfo())  # both float64 here
    previous = tg.get_default_dtype()
    tg.set_default_dtype(tg.float32)
    torch.set_default_dtype(torch.float32)
    try:
        assert repr(tg.finfo()) == repr(torch.finfo())
    finally:
        tg.set_default_dtype(previous)


def test_set_default_dtype_changes_what_is_made_as_torch():
    previous = tg.get_default_dtype()
    try:
        for ours, theirs in ((tg.float32, torch.float32), (tg.float16, torch.float16),
                             (tg.float64, torch.float64)):
            tg.set_default_dtype(ours)
            torch.set_default_dtype(theirs)
            assert tg.get_default_dtype() == ours
            made = {
                "tensor(1.5)": (tg.tensor(1.5), torch.tensor(1.5)),
                "tensor([1, 2.5])": (tg.tensor([1, 2.5]), torch.tensor([1, 2.5])),
                "zeros": (tg.zeros(2), torch.zeros(2)),
                "arange(0.5)": (tg.arange(0, 2, 0.5), torch.arange(0, 2, 0.5)),
                "exp of int64": (tg.tensor([1, 2]).exp(), torch.tensor([1, 2]).exp()),
                "sin of bool": (tg.sin(tg.tensor([True])), torch.sin(torch.tensor([True]))),
                "int64 * 0.5": (tg.tensor([1, 2]) * 0.5, torch.tensor([1, 2]) * 0.5),
                "int64 / int64": (tg.tensor([1, 2]) / tg.tensor([2, 2]),
                                  torch.tensor([1, 2]) / torch.tensor([2, 2])),
                "an array's float64": (tg.tensor(np.array([1.5])),
                                       torch.tensor(np.array([1.5]))),
                "float32 * 2.5": (tg.ones(2, dtype=tg.float32) * 2.5,
                                  torch.ones(2, dtype=torch.float32) * 2.5),
            }
            for what, (got, expected) in made.items():
                assert_same(got, expected, what, 1e-3)
        for bad_ours, bad_theirs in ((tg.int64, torch.int64), (tg.bool, torch.bool)):
            with pytest.raises(TypeError):
                torch.set_default_dtype(bad_theirs)
            with pytest.raises(TypeError):
                tg.set_default_dtype(bad_ours)
    finally:
        tg.set_default_dtype(previous)


def test_strides_contiguity_and_sizes_match_torch():
    base, t = tg.zeros(3, 4, 5), torch.zeros(3, 4, 5)
    views = {
        "itself": lambda x: x,
        "transposed": lambda x: x.transpose(0, 2),
        "permuted": lambda x: x.permute(1, 2, 0),
        "sliced": lambda x: x[:, 1:3, ::2],
        "a row": lambda x: x[1],
        "expanded": lambda x: x[:, :1].expand(3, 6, 5),
        "0-d": lambda x: x[0, 0, 0],
    }
    for what, view in views.items():
        ours, theirs = view(base), view(t)
        assert ours.stride() == theirs.stride(), what
        for d in range(ours.ndim):
            assert ours.stride(d) == theirs.stride(d) == ours.stride(d - ours.ndim), what
        assert ours.is_contiguous() == theirs.is_contiguous(), what
        assert ours.ndimension() == theirs.ndimension(), what
        assert ours.nbytes == theirs.nbytes, what
        assert ours.element_size() == theirs.element_size(), what
    with pytest.raises(IndexError):
        base.stride(3)


@settings(max_examples=15)
@given(data=st.data(), dtype=float_dtypes, n=st.integers(0, 3), k=st.integers(0, 3),
       m=st.integers(0, 3))
def test_spmm_of_dense_matrices_is_torchs(data, dtype, n, k, m):
    """On dense matrices (there are no sparse ones here) PyTorch's spmm is mm: pytorch/examples'
    GCN calls it."""
    a = data.draw(laid_out((n, k), dtype), label="a")
    b = data.draw(laid_out((k, m), dtype), label="b")
    against_torch(torch, tg.spmm, torch.spmm, a, b, upstream=data.draw(upstream_layouts))


def test_spmm_refuses_what_torchs_refuses():
    for a, b in [((3,), (3, 3)), ((2, 3), (4, 5)), ((2, 2, 2), (2, 2))]:
        with pytest.raises(RuntimeError):
            torch.spmm(torch.ones(a), torch.ones(b))
        with pytest.raises(RuntimeError):
            tg.spmm(tg.ones(a), tg.ones(b))
