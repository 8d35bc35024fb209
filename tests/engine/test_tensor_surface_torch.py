"""The Tensor methods and torch.* functions model code reached for and did not find, held
against PyTorch: ``where(cond)``, ``type()``, ``view(dtype)``, ``H``/``mH``/``adjoint()``,
the products with a sum (``addmv``, ``addr``, ``inner``, ``vdot``, ``ger``), selection
(``argwhere``, ``msort``, ``split_with_sizes``, ``unique_consecutive``, ``masked_scatter``),
writing into a copy (``diagonal_scatter``, ``select_scatter``, ``slice_scatter``,
``index_reduce``), ``frexp``/``ldexp``/``nextafter``/``renorm``, a tensor's memory
(``storage_offset``, ``new_empty_strided``), and the gamma function's family (``lgamma``,
``digamma``, ``polygamma``, ``erfinv``, ``i0``, ``mvlgamma``, torch.special's names): values
(the special functions to a few ulps of float64 over their domain, poles, infinities and
NaN), dtypes, whether the result requires grad, every gradient, in both float dtypes and
drawn memory layouts, 0-d and size-0, and the type of the error a bad argument raises.
Skipped without torch (``test_tensor_surface.py`` checks them without it)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import Domain, float_dtypes, laid_out, shapes, upstream_layouts
from torch_compare import against_torch, assert_same, same_error

import tensorgrad as tg
from tensorgrad import Tensor

torch = pytest.importorskip("torch")
# PyTorch with tensorgrad's default float dtype, float64, in every test here
pytestmark = pytest.mark.usefixtures("torch_float64_default")


def ours_and_theirs(values):
    return Tensor(np.array(values)), torch.tensor(np.array(values))


# ---- the special functions: values over the domain, in ulps of float64 -----------------------


def ulps(ours, theirs):
    """How many float64 spacings ``ours`` is from ``theirs`` (0 where both are the same
    non-finite value); inf where only one is finite."""
    ours, theirs = np.asarray(ours, np.float64), np.asarray(theirs, np.float64)
    same = (ours == theirs) | (np.isnan(ours) & np.isnan(theirs))
    with np.errstate(all="ignore"):
        distance = np.abs(ours - theirs) / np.spacing(np.abs(theirs))
    return np.where(same, 0.0, np.where(np.isfinite(distance), distance, np.inf))


RNG = np.random.default_rng(7)
# wide and near: ordinary numbers, near 0, 1 and 2, tiny and huge magnitudes
POSITIVE_GRID = np.concatenate([RNG.uniform(0, 30, 4000), RNG.uniform(0.5, 2.5, 4000),
                                np.exp(RNG.uniform(-700, 700, 2000)), [1.0, 2.0, 3.0, 0.5]])
NEGATIVE_GRID = -np.concatenate([RNG.uniform(0, 30, 4000), np.exp(RNG.uniform(-30, 3, 1000))])
# where every one of them has a fixed value: NaN, the infinities, signed zeros, the poles
EDGES = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, -1.0, -2.0, -7.0, 1.0, 2.0, 1e-300,
                  -1e-300, 1e300, -1e300, 5e-324])


def test_lgamma_is_within_a_few_ulps_of_torch():
    x = np.concatenate([POSITIVE_GRID, EDGES])
    assert ulps(tg.lgamma(Tensor(x)).numpy(), torch.lgamma(torch.tensor(x))).max() <= 4
    # negative x: reflection; near lgamma's zeros there (where |Gamma| = 1) the digits
    # left are those of a difference of two numbers of order 1
    x = NEGATIVE_GRID
    expected = torch.lgamma(torch.tensor(x)).numpy()
    err = np.abs(tg.lgamma(Tensor(x)).numpy() - expected) / np.spacing(np.maximum(
        np.abs(expected), 1.0))
    assert err.max() <= 8


def test_digamma_is_within_a_few_ulps_of_torch():
    x = np.concatenate([POSITIVE_GRID, NEGATIVE_GRID, EDGES])
    expected = torch.digamma(torch.tensor(x)).numpy()
    ours = tg.digamma(Tensor(x)).numpy()
    # absolute near its zeros (1.4616..., and one between each pair of negative integers),
    # where both add terms of order 1 to a result near 0
    scale = np.maximum(np.abs(expected), np.where(x < 0, np.abs(x), 1.0))
    scale[~np.isfinite(scale)] = 1.0
    with np.errstate(all="ignore"):  # (inf - inf where both are inf: ulps says 0 there)
        err = np.where(ulps(ours, expected) == 0, 0, np.abs(ours - expected) / np.spacing(scale))
    assert err.max() <= 16
    assert np.array_equal(np.isnan(ours), np.isnan(expected))


@pytest.mark.parametrize("n", [2, 3, 4, 7])
def test_polygamma_is_within_a_few_ulps_of_torch(n):
    """PyTorch's is n! (as exp(lgamma(n + 1))) times a zeta sum that stops early: up to
    about 20 ulps from the exact value where ours is within 3 (checked with mpmath), so the
    two may differ by as much."""
    rng = np.random.default_rng(n)
    x = np.concatenate([POSITIVE_GRID[:6000], rng.uniform(-8, 0, 1000), rng.uniform(-60, -20, 200),
                        EDGES])
    x = x[x != np.inf]  # (PyTorch's polygamma(n >= 2, inf) is NaN: the limit is 0)
    expected = torch.polygamma(n, torch.tensor(x)).numpy()
    ours = tg.polygamma(n, Tensor(x)).numpy()
    err = ulps(ours, expected)
    # near a pole its sum's terms are of both signs: allow the digits of the largest
    with np.errstate(invalid="ignore"):  # (-inf less -inf)
        far = np.abs(x - np.round(x)) > 0.05
    assert err[far | (x > 0)].max() <= 24
    assert np.isinf(ours[np.isinf(expected)]).all()
    # below -1000 by the reflection formula (digits lost where the value is near 0)
    y = rng.uniform(-1500, -1000, 200)
    y = y[np.abs(y - np.round(y)) > 0.05]
    reflected = torch.polygamma(n, torch.tensor(y)).numpy()
    np.testing.assert_allclose(tg.polygamma(n, Tensor(y)).numpy(), reflected, rtol=1e-9,
                               atol=1e-9 * np.abs(reflected).max())
    zeta = {2: 1.2020569031595942, 4: 1.0369277551433699, 3: math.pi ** 4 / 90}
    if n in zeta:  # polygamma(n, 1) = (-1)**(n + 1) n! zeta(n + 1)
        exact = (-1) ** (n + 1) * math.factorial(n) * zeta[n]
        assert tg.polygamma(n, Tensor([1.0])).item() == pytest.approx(exact, rel=4e-16)
    assert np.isinf(ours[np.isinf(expected)]).all()
    assert tg.polygamma(n, Tensor([np.inf])).item() == 0.0


def test_trigamma_is_torch_to_its_accuracy():
    """PyTorch's polygamma(1, x) stops its asymptotic series early: ours is the exact sum
    (pi**2 / 6 at 1) and agrees with PyTorch's to PyTorch's 1e-8."""
    x = np.concatenate([POSITIVE_GRID[:6000], RNG.uniform(-8, 0, 1000)])
    x = x[np.abs(x - np.round(x)) > 1e-3]
    np.testing.assert_allclose(tg.polygamma(1, Tensor(x)).numpy(),
                               torch.polygamma(1, torch.tensor(x)).numpy(), rtol=1e-8)
    assert tg.polygamma(1, Tensor([1.0, 0.5])).tolist() == pytest.approx(
        [math.pi ** 2 / 6, math.pi ** 2 / 2], rel=1e-15)


def test_erfinv_is_within_a_few_ulps_of_torch():
    y = np.concatenate([RNG.uniform(-1, 1, 10000), 1 - np.exp(RNG.uniform(-37, 0, 2000)),
                        -1 + np.exp(RNG.uniform(-37, 0, 2000)), np.exp(RNG.uniform(-700, 0, 500)),
                        [0.0, -0.0, 1.0, -1.0, 1.5, -2.0, np.nan, np.inf, -np.inf, 0.5, -0.5]])
    assert ulps(tg.erfinv(Tensor(y)).numpy(), torch.erfinv(torch.tensor(y))).max() <= 4
    assert math.copysign(1, tg.erfinv(Tensor(-0.0)).item()) == -1


@pytest.mark.parametrize("name", ["i0", "i1"])
def test_bessel_i_is_within_a_few_ulps_of_torch(name):
    x = np.concatenate([RNG.uniform(-50, 50, 6000), RNG.uniform(-709, 709, 1000),
                        [0.0, -0.0, np.nan, np.inf, -np.inf, 1e-300, 20.0, -20.0]])
    ours = getattr(tg.special, name)(Tensor(x)).numpy()
    expected = getattr(torch.special, name)(torch.tensor(x)).numpy()
    assert ulps(ours, expected).max() <= 16
    # beyond 709.78 PyTorch's exp(x) overflows first: I0(712) is 5.8e307, finite
    assert np.isfinite(tg.i0(Tensor([712.0])).item())


def test_special_functions_of_integers_and_float32_match_torch():
    for values in (np.array([1, 2, 5]), np.array([True, False]), np.array(3, np.int32)):
        for name in ("lgamma", "digamma", "i0", "erfinv"):
            with np.errstate(all="ignore"):
                assert_same(getattr(tg, name)(Tensor(values)),
                            getattr(torch, name)(torch.tensor(values)), name, 1e-6)
        assert_same(tg.polygamma(2, Tensor(values)),
                    torch.polygamma(2, torch.tensor(values)), "polygamma", 1e-6)
    x = np.concatenate([RNG.uniform(0.01, 30, 500), RNG.uniform(-0.999, 0.999, 500)])
    for name in ("lgamma", "digamma", "i0"):
        assert_same(getattr(tg, name)(Tensor(x.astype(np.float32))),
                    getattr(torch, name)(torch.tensor(x.astype(np.float32))), name, 1e-5)
    y = x[500:].astype(np.float32)
    assert_same(tg.erfinv(Tensor(y)), torch.erfinv(torch.tensor(y)), "erfinv", 1e-5)


SPECIAL_DOMAINS = {  # name: (ours, theirs, the domain of the drawn values)
    "lgamma": (lambda t: t.lgamma(), lambda t: t.lgamma(),
               Domain(((0.0625, 9.0), (-3.875, -3.125), (-1.875, -1.125)))),
    "digamma": (lambda t: t.digamma(), lambda t: t.digamma(), Domain(((0.0625, 9.0),
                                                                      (-2.875, -2.125)))),
    "polygamma2": (lambda t: t.polygamma(2), lambda t: t.polygamma(2), Domain(((0.25, 9.0),))),
    "erfinv": (lambda t: t.erfinv(), lambda t: t.erfinv(), Domain(((-0.984375, 0.984375),))),
    "i0": (lambda t: t.i0(), lambda t: t.i0(), Domain(((-25.0, 25.0),))),
    "i1": (tg.special.i1, torch.special.i1, Domain(((-25.0, 25.0),))),
    "mvlgamma": (lambda t: t.mvlgamma(3), lambda t: t.mvlgamma(3), Domain(((1.0625, 9.0),))),
}


@pytest.mark.parametrize("name", list(SPECIAL_DOMAINS))
@settings(max_examples=12)
@given(data=st.data())
def test_special_functions_and_their_gradients_match_torch(name, data):
    ours, theirs, domain = SPECIAL_DOMAINS[name]
    shape = data.draw(shapes(size_zero=True), label="shape")
    dtype = data.draw(float_dtypes, label="dtype")
    x = data.draw(laid_out(shape, dtype, domain), label="input")
    against_torch(torch, ours, theirs, x, upstream=data.draw(upstream_layouts))


def test_digamma_gradient_is_torchs_trigamma():
    x = np.array([0.3, 1.0, 2.5, 7.0, -0.5, -2.5])
    against_torch(torch, tg.digamma, torch.digamma, x)  # (to 1e-10: PyTorch's 1e-8 at most)


def test_special_names_are_torch_specials():
    x = np.array([0.25, 1.5, 3.0])
    for name in ("gammaln", "digamma", "psi", "erfinv", "i0", "i1", "erf", "erfc", "expit",
                 "exp2", "expm1", "log1p", "logit", "sinc"):
        assert_same(getattr(tg.special, name)(Tensor(x / 4)),
                    getattr(torch.special, name)(torch.tensor(x / 4)), name)
    assert_same(tg.special.polygamma(3, Tensor(x)), torch.special.polygamma(3, torch.tensor(x)),
                "polygamma")
    assert_same(tg.special.multigammaln(Tensor(x + 2), 2),
                torch.special.multigammaln(torch.tensor(x + 2), 2), "multigammaln")
    assert_same(tg.mvlgamma(Tensor([3, 4]), 2), torch.mvlgamma(torch.tensor([3, 4]), 2),
                "mvlgamma of integers", 1e-6)
    t = Tensor(x, requires_grad=True)
    assert tg.special.erf(t).requires_grad  # an op of the graph, not an array


def test_special_function_errors_match_torch():
    x, tx = ours_and_theirs([1.0, 2.0])
    same_error(lambda: tg.polygamma(-1, x), lambda: torch.polygamma(-1, tx))
    same_error(lambda: tg.polygamma(1.5, x), lambda: torch.polygamma(1.5, tx))
    same_error(lambda: x.mvlgamma(0), lambda: tx.mvlgamma(0))


def test_in_place_special_functions_match_torch():
    for name, args in (("lgamma_", ()), ("digamma_", ()), ("polygamma_", (2,)),
                       ("erfinv_", ()), ("i0_", ()), ("mvlgamma_", (2,))):
        x, tx = ours_and_theirs([1.5, 2.25, 3.0])
        if name == "erfinv_":
            x, tx = x / 4, tx / 4
        assert getattr(x, name)(*args) is x
        getattr(tx, name)(*args)
        assert_same(x, tx, name)


def test_trunc_normal_draws_the_truncated_normal():
    """nn.init.trunc_normal_ redraws what falls outside [a, b] where PyTorch inverts the CDF
    with erfinv: the same distribution (not the same bits). Kolmogorov-Smirnov distance of
    40,000 draws from the exact truncated CDF, and from PyTorch's draws."""
    from tensorgrad.special import erf

    mean, std, a, b = 0.5, 2.0, -1.0, 4.0
    tg.manual_seed(0)
    ours = np.sort(tg.nn.init.trunc_normal_(tg.empty(40_000), mean, std, a, b).numpy())
    torch.manual_seed(0)
    theirs = np.sort(torch.nn.init.trunc_normal_(torch.empty(40_000), mean, std, a, b).numpy())
    assert ours.min() >= a and ours.max() <= b

    def cdf(v):
        lo, hi = erf(np.array([(a - mean), (b - mean)]) / (std * math.sqrt(2)))
        return (erf((v - mean) / (std * math.sqrt(2))) - lo) / (hi - lo)

    empirical = np.arange(1, ours.size + 1) / ours.size
    assert np.abs(cdf(ours) - empirical).max() < 0.01  # (1.36 / sqrt(n) = 0.0068 at 5%)
    both = np.sort(np.concatenate([ours, theirs]))
    gap = np.searchsorted(ours, both, "right") - np.searchsorted(theirs, both, "right")
    assert np.abs(gap).max() / ours.size < 0.012


# ---- where, type, view(dtype), H -------------------------------------------------------------


@pytest.mark.parametrize("values", [[[0, 1], [2, 0]], [0.0, np.nan, -1.0], 1.0, 0, [],
                                    [[True, False, True]]])
def test_where_of_a_condition_alone_is_nonzero_as_tuple(values):
    ours, theirs = tg.where(Tensor(np.array(values))), torch.where(torch.tensor(values))
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert_same(a, b, "where(cond)")


def test_where_with_one_operand_is_a_type_error_as_torch():
    same_error(lambda: tg.where(Tensor([True]), Tensor([1.0])),
               lambda: torch.where(torch.tensor([True]), torch.tensor([1.0])))


TYPES = ["torch.FloatTensor", "torch.DoubleTensor", "torch.HalfTensor", "torch.LongTensor",
         "torch.IntTensor", "torch.ShortTensor", "torch.CharTensor", "torch.ByteTensor",
         "torch.BoolTensor"]


@pytest.mark.parametrize("name", TYPES)
def test_type_names_and_converts_as_torch(name):
    values = np.array([[1.5, 0.0], [-2.0, 3.0]], np.float32)
    theirs = torch.tensor(values).type(name)
    assert theirs.type() == name
    ours = Tensor(values).type(name)
    assert ours.type() == name
    assert_same(ours, theirs, name)
    dtype = theirs.dtype  # by dtype, by name, by the typed constructor: the same
    ours_dtype = getattr(tg, str(dtype).removeprefix("torch."))
    assert_same(Tensor(values).type(ours_dtype), torch.tensor(values).type(dtype), name)
    constructor = getattr(tg, name.removeprefix("torch."))
    assert_same(Tensor(values).type(constructor), theirs, name)
    assert tg.typename(ours) == torch.typename(theirs) == name
    for other in TYPES:  # isinstance of a typed constructor asks the dtype
        short = other.removeprefix("torch.")
        assert isinstance(ours, getattr(tg, short)) == isinstance(theirs, getattr(torch, short))


def test_typename_of_other_objects_as_torch():
    for value in (np.zeros(1), 3, len, "text"):
        assert tg.typename(value) == torch.typename(value)
    assert tg.typename(tg.nn.Linear).endswith(".Linear")


def test_bfloat16_is_refused_with_numpys_type_error():
    for convert in (lambda: Tensor([1.0]).bfloat16(), lambda: tg.nn.Linear(1, 1).bfloat16()):
        with pytest.raises(TypeError, match="NumPy has no bfloat16"):
            convert()


def test_type_keeps_the_tensor_and_the_graph_as_torch():
    x = Tensor([1.0, 2.0], dtype=tg.float32, requires_grad=True)
    assert x.type("torch.FloatTensor") is x
    y = x.type("torch.DoubleTensor")
    y.sum().backward()
    assert x.grad.dtype == tg.float32 and x.grad.tolist() == [1.0, 1.0]
    for bad in ("FloatTensor", "torch.float32", "foo"):
        same_error(lambda b=bad: x.type(b), lambda b=bad: torch.ones(2).type(b))


VIEW_DTYPES = ["float32", "float64", "int64", "int32", "int16", "int8", "uint8", "float16"]


@pytest.mark.parametrize("to", VIEW_DTYPES)
@pytest.mark.parametrize("source", ["float32", "float64", "int64", "int16", "uint8"])
@pytest.mark.parametrize("case", ["C", "transposed", "row slice", "column slice", "0-d",
                                  "size 0", "step", "offset"])
def test_view_dtype_reinterprets_or_refuses_as_torch(case, source, to):
    base = np.random.default_rng(3).integers(0, 2, (4, 8)).astype(source)
    pick = {"C": lambda t: t, "transposed": lambda t: t.t(), "row slice": lambda t: t[1:3],
            "column slice": lambda t: t[:, 2:6], "0-d": lambda t: t[1, 1],
            "size 0": lambda t: t[:, :0], "step": lambda t: t[:, ::2],
            "offset": lambda t: t[:, 1:3]}[case]
    ours, theirs = pick(Tensor(base)), pick(torch.tensor(base))
    wanted_ours, wanted_theirs = getattr(tg, to), getattr(torch, to)
    try:
        expected = theirs.view(wanted_theirs)
    except RuntimeError:
        with pytest.raises(RuntimeError):
            ours.view(wanted_ours)
        return
    result = ours.view(wanted_ours)
    assert_same(result, expected, f"{case} {source} as {to}")
    if result.numel():  # the same memory: a write shows through
        assert np.shares_memory(result.numpy(), ours.numpy())


def test_view_dtype_of_bytes_as_booleans_and_back_matches_torch():
    values = np.array([[1, 0, 1], [0, 0, 1]], np.uint8)
    assert_same(Tensor(values).view(tg.bool), torch.tensor(values).view(torch.bool), "bool")
    flags = values.astype(bool)
    assert_same(Tensor(flags).view(tg.int8), torch.tensor(flags).view(torch.int8), "int8")


def test_view_dtype_is_outside_the_graph_as_torch():
    for dtype, theirs_dtype in ((tg.float32, torch.float32), (tg.int32, torch.int32),
                                (tg.float64, torch.float64)):
        x = Tensor(np.ones((2, 4), np.float32), requires_grad=True)
        t = torch.ones(2, 4, requires_grad=True)
        assert x.view(dtype).requires_grad == t.view(theirs_dtype).requires_grad is False


@pytest.mark.parametrize("name", ["H", "mH", "adjoint"])
@pytest.mark.parametrize("shape", [(), (3,), (2, 3), (2, 3, 4), (0, 2), (2, 0, 3)])
def test_conjugate_transposes_match_torch(name, shape):
    get = (lambda t: t.adjoint()) if name == "adjoint" else (lambda t: getattr(t, name))
    values = np.arange(math.prod(shape), dtype=np.float64).reshape(shape)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            get(torch.tensor(values))
    except RuntimeError:
        with pytest.raises(RuntimeError):
            get(Tensor(values))
        return
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        against_torch(torch, get, get, values)
    assert bool(caught) == (shape == ())  # 0-d: PyTorch's deprecation warning


# ---- products with a sum ---------------------------------------------------------------------


@settings(max_examples=15)
@given(data=st.data())
def test_addmv_addr_inner_vdot_ger_match_torch(data):
    n, m = data.draw(st.integers(0, 3), label="n"), data.draw(st.integers(0, 3), label="m")
    dtype = data.draw(float_dtypes, label="dtype")
    beta = data.draw(st.sampled_from([1, 0.5, 0]), label="beta")
    alpha = data.draw(st.sampled_from([1, -2.0]), label="alpha")
    draw = lambda shape, name: data.draw(laid_out(shape, dtype), label=name)  # noqa: E731
    inp, mat, vec = draw((n,), "input"), draw((n, m), "mat"), draw((m,), "vec")
    against_torch(torch, lambda i, a, v: tg.addmv(i, a, v, beta=beta, alpha=alpha),
                  lambda i, a, v: torch.addmv(i, a, v, beta=beta, alpha=alpha), inp, mat, vec)
    against_torch(torch, lambda i, a, v: i.addmv(a, v, beta=beta, alpha=alpha),
                  lambda i, a, v: i.addmv(a, v, beta=beta, alpha=alpha), inp, mat, vec)
    outer_in, v1 = draw((n, m), "addr input"), draw((n,), "vec1")
    against_torch(torch, lambda i, a, b: i.addr(a, b, beta=beta, alpha=alpha),
                  lambda i, a, b: i.addr(a, b, beta=beta, alpha=alpha), outer_in, v1, vec)
    against_torch(torch, tg.ger, torch.ger, v1, draw((m,), "vec2"))
    against_torch(torch, tg.vdot, torch.vdot, vec, draw((m,), "other"))
    against_torch(torch, tg.inner, torch.inner, mat, draw((2, m), "inner other"))
    against_torch(torch, tg.inner, torch.inner, draw((), "0-d"), mat)


def test_products_with_a_sum_refuse_as_torch():
    a, ta = ours_and_theirs(np.ones((2, 3)))
    v, tv = ours_and_theirs(np.ones(3))
    w, tw = ours_and_theirs(np.ones(2))
    f32, tf32 = Tensor(np.ones(3, np.float32)), torch.ones(3, dtype=torch.float32)
    same_error(lambda: tg.addmv(v, a, w), lambda: torch.addmv(tv, ta, tw))
    same_error(lambda: tg.addmv(w, v, v), lambda: torch.addmv(tw, tv, tv))
    same_error(lambda: tg.addr(a, v, w), lambda: torch.addr(ta, tv, tw))
    same_error(lambda: tg.vdot(v, w), lambda: torch.vdot(tv, tw))
    same_error(lambda: tg.vdot(a, a), lambda: torch.vdot(ta, ta))
    same_error(lambda: tg.vdot(v, f32), lambda: torch.vdot(tv, tf32))
    same_error(lambda: tg.inner(a, w), lambda: torch.inner(ta, tw))
    same_error(lambda: tg.inner(v, f32), lambda: torch.inner(tv, tf32))
    n, tn = ours_and_theirs([np.nan, 1.0])  # beta = 0: the input's NaN is not read
    m, tm = ours_and_theirs(np.eye(2))
    assert_same(tg.addmv(n, m, Tensor([1.0, 2.0]), beta=0),
                torch.addmv(tn, tm, torch.tensor([1.0, 2.0]), beta=0), "beta 0")


def test_addmm_in_place_matches_torch():
    x, tx = ours_and_theirs(np.ones((2, 2)))
    a, ta = ours_and_theirs(np.arange(6.0).reshape(2, 3))
    assert x.addmm_(a, a.T, beta=0.5, alpha=2) is x
    tx.addmm_(ta, ta.T, beta=0.5, alpha=2)
    assert_same(x, tx, "addmm_")
    for name in ("addmv_", "addr_"):
        y, ty = ours_and_theirs([1.0, 2.0])
        if name == "addmv_":
            y.addmv_(a, Tensor([1.0, 0.0, -1.0]))
            ty.addmv_(ta, torch.tensor([1.0, 0.0, -1.0]))
        else:
            y, ty = ours_and_theirs(np.ones((2, 3)))
            y.addr_(Tensor([1.0, 2.0]), Tensor([3.0, 4.0, 5.0]), alpha=0.5)
            ty.addr_(torch.tensor([1.0, 2.0]), torch.tensor([3.0, 4.0, 5.0]), alpha=0.5)
        assert_same(y, ty, name)


# ---- selection -------------------------------------------------------------------------------


@settings(max_examples=15)
@given(data=st.data())
def test_argwhere_msort_equal_match_torch(data):
    shape = data.draw(shapes(size_zero=True), label="shape")
    dtype = data.draw(float_dtypes, label="dtype")
    x = data.draw(laid_out(shape, dtype, Domain(((-1.0, -1.0), (0.0, 0.0), (2.0, 2.0)))),
                  label="x")
    ours, theirs = Tensor(x.array()), torch.tensor(x.values)
    assert_same(tg.argwhere(ours), torch.argwhere(theirs), "argwhere")
    assert_same(ours.argwhere(), theirs.argwhere(), "argwhere method")
    assert ours.equal(Tensor(x.values)) == theirs.equal(torch.tensor(x.values))
    if len(shape) >= 1:
        against_torch(torch, tg.msort, torch.msort, x, upstream=data.draw(upstream_layouts))
        against_torch(torch, lambda t: t.msort(), lambda t: t.msort(), x)


def test_split_with_sizes_matches_torch():
    values = np.arange(24.0).reshape(4, 6)
    for sizes, dim in (([1, 3], 0), ([2, 0, 4], 1), ([6], -1), ([0, 4], 0)):
        ours_parts = Tensor(values).split_with_sizes(sizes, dim)
        theirs_parts = torch.tensor(values).split_with_sizes(sizes, dim)
        assert len(ours_parts) == len(theirs_parts)
        for a, b in zip(ours_parts, theirs_parts):
            assert_same(a, b, f"split_with_sizes({sizes}, {dim})")
        against_torch(torch, lambda t, s=sizes, d=dim: tg.cat(
            [p * (i + 1) for i, p in enumerate(tg.split_with_sizes(t, s, d))], d),
            lambda t, s=sizes, d=dim: torch.cat(
                [p * (i + 1) for i, p in enumerate(torch.split_with_sizes(t, s, d))], d),
            values)
    x, tx = ours_and_theirs(values)
    for sizes in ([1, 1], [5, 0], [-1, 5]):
        same_error(lambda s=sizes: x.split_with_sizes(s), lambda s=sizes: tx.split_with_sizes(s))


UNIQUE_CASES = [[1, 1, 2, 2, 3, 1, 1, 2], [[1, 3], [1, 3], [2, 3], [1, 3]], 3.0, [],
                [np.nan, np.nan, 1.0, 1.0], [[True, True], [False, True]], np.zeros((2, 0)),
                np.zeros((0, 3)), [[[1, 2], [1, 2]], [[1, 2], [3, 2]]]]


@pytest.mark.parametrize("values", UNIQUE_CASES)
@pytest.mark.parametrize("dim", [None, 0, 1, -1])
def test_unique_consecutive_matches_torch(values, dim):
    ours, theirs = ours_and_theirs(values)
    for inverse in (False, True):
        for counts in (False, True):
            try:
                expected = torch.unique_consecutive(theirs, return_inverse=inverse,
                                                    return_counts=counts, dim=dim)
            except (RuntimeError, IndexError) as error:
                with pytest.raises(type(error)):
                    ours.unique_consecutive(inverse, counts, dim)
                return
            result = ours.unique_consecutive(inverse, counts, dim)
            if not isinstance(expected, tuple):
                result, expected = (result,), (expected,)
            assert len(result) == len(expected)
            for a, b in zip(result, expected):
                assert_same(a, b, f"unique_consecutive({inverse}, {counts}, {dim})")


def test_unique_consecutive_has_no_gradient_as_torch():
    x = Tensor([1.0, 1.0, 2.0], requires_grad=True)
    y = tg.unique_consecutive(x)
    assert y.requires_grad
    with pytest.raises(NotImplementedError):
        y.sum().backward()


@settings(max_examples=20)
@given(data=st.data())
def test_masked_scatter_matches_torch(data):
    shape = data.draw(shapes(size_zero=True), label="shape")
    dtype = data.draw(float_dtypes, label="dtype")
    x = data.draw(laid_out(shape, dtype), label="x")
    cut = data.draw(st.integers(0, len(shape)), label="mask dims")
    mask_shape = tuple(data.draw(st.sampled_from([1, n])) for n in shape[cut:])
    mask = data.draw(st.lists(st.booleans(), min_size=math.prod(mask_shape),
                              max_size=math.prod(mask_shape)), label="mask")
    mask = np.array(mask, bool).reshape(mask_shape)
    count = int(np.broadcast_to(mask, shape).sum())
    extra = data.draw(st.integers(0, 2), label="extra")
    source = data.draw(laid_out((count + extra,), dtype), label="source")
    against_torch(torch, lambda t, s: t.masked_scatter(Tensor(mask), s),
                  lambda t, s: t.masked_scatter(torch.tensor(mask), s), x, source,
                  upstream=data.draw(upstream_layouts))


def test_masked_scatter_broadcasts_and_refuses_as_torch():
    x, tx = ours_and_theirs(np.ones(3))
    rows = np.array([[True, False, True]])
    assert_same(tg.masked_scatter(x, Tensor(rows), Tensor(np.arange(6.0).reshape(2, 3))),
                torch.masked_scatter(tx, torch.tensor(rows), torch.arange(6.0).reshape(2, 3)),
                "broadcast")
    y, ty = ours_and_theirs(np.zeros((2, 3)))
    assert y.masked_scatter_(Tensor(rows), Tensor(np.arange(6.0))) is y
    ty.masked_scatter_(torch.tensor(rows), torch.arange(6.0))
    assert_same(y, ty, "in place")
    mask, tmask = ours_and_theirs([True, False, True])
    same_error(lambda: x.masked_scatter(mask, Tensor([1.0])),
               lambda: tx.masked_scatter(tmask, torch.tensor([1.0])))
    same_error(lambda: x.masked_scatter(Tensor([1, 0, 1]), x),
               lambda: tx.masked_scatter(torch.tensor([1, 0, 1]), tx))
    same_error(lambda: x.masked_scatter(mask, Tensor(np.ones(3, np.float32))),
               lambda: tx.masked_scatter(tmask, torch.ones(3, dtype=torch.float32)))
    same_error(lambda: x.masked_scatter_(Tensor(rows), x),
               lambda: tx.masked_scatter_(torch.tensor(rows), tx))


# ---- writing into a copy ---------------------------------------------------------------------


SCATTERS = [  # (input shape, src shape, name, arguments)
    ((3, 4), (3,), "diagonal_scatter", ()),
    ((3, 4), (3,), "diagonal_scatter", (1,)),
    ((3, 4), (2,), "diagonal_scatter", (2,)),
    ((3, 4), (2,), "diagonal_scatter", (-1,)),
    ((2, 3, 4), (2, 3), "diagonal_scatter", (0, 1, 2)),
    ((2, 3, 4), (4, 2), "diagonal_scatter", (0, 0, 1)),
    ((3, 4), (0,), "diagonal_scatter", (5,)),
    ((3, 4), (4,), "select_scatter", (0, 1)),
    ((3, 4), (3,), "select_scatter", (1, -1)),
    ((2, 3, 4), (2, 4), "select_scatter", (1, 2)),
    ((4, 3), (2, 3), "slice_scatter", (0, 0, 4, 2)),
    ((4, 3), (2, 3), "slice_scatter", (0, -2)),
    ((4, 3), (4, 1), "slice_scatter", (1, 1, 2)),
    ((4, 3), (4, 3), "slice_scatter", ()),
    ((4, 3), (0, 3), "slice_scatter", (0, 9)),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", SCATTERS, ids=lambda c: f"{c[2]}{c[3]}")
def test_scatters_into_a_copy_match_torch(case, dtype):
    shape, src_shape, name, args = case
    rng = np.random.default_rng(1)
    x, src = rng.standard_normal(shape).astype(dtype), rng.standard_normal(src_shape)
    against_torch(torch, lambda t, s: getattr(tg, name)(t, s, *args),
                  lambda t, s: getattr(torch, name)(t, s, *args), x, src.astype(dtype))
    against_torch(torch, lambda t, s: getattr(t, name)(s, *args),
                  lambda t, s: getattr(t, name)(s, *args), x.T.copy().T, src.astype(dtype))
    # a source of another dtype is written in the input's, as PyTorch's
    assert_same(getattr(tg, name)(Tensor(x), Tensor(src.astype(np.float16)), *args),
                 getattr(torch, name)(torch.tensor(x), torch.tensor(src.astype(np.float16)),
                                      *args), "cast", 1e-3)


def test_scatters_into_a_copy_refuse_as_torch():
    x, tx = ours_and_theirs(np.zeros((2, 3)))
    s3, ts3 = ours_and_theirs(np.ones(3))
    same_error(lambda: tg.diagonal_scatter(x, s3), lambda: torch.diagonal_scatter(tx, ts3))
    same_error(lambda: tg.diagonal_scatter(x, s3, 0, 1, 1),
               lambda: torch.diagonal_scatter(tx, ts3, 0, 1, 1))
    same_error(lambda: tg.select_scatter(x, s3, 0, 5), lambda: torch.select_scatter(tx, ts3, 0, 5))
    same_error(lambda: tg.select_scatter(x, s3, 1, 0), lambda: torch.select_scatter(tx, ts3, 1, 0))
    same_error(lambda: tg.slice_scatter(x, s3), lambda: torch.slice_scatter(tx, ts3))
    same_error(lambda: tg.select_scatter(x, s3, 2, 0), lambda: torch.select_scatter(tx, ts3, 2, 0))


@pytest.mark.filterwarnings("ignore:index_reduce\\(\\) is in beta")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("reduce", ["prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_index_reduce_matches_torch(reduce, include_self, dim, dtype):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((5, 4)).astype(dtype)
    index = np.array([0, 3, 0, 1])
    source_shape = [5, 4]
    source_shape[dim] = 4
    source = rng.standard_normal(source_shape).astype(dtype)
    against_torch(torch, lambda t, s: t.index_reduce(dim, Tensor(index), s, reduce,
                                                    include_self=include_self),
                  lambda t, s: t.index_reduce(dim, torch.tensor(index), s, reduce,
                                              include_self=include_self), x, source)
    against_torch(torch, lambda t, s: tg.index_reduce(t, dim, Tensor(index), s, reduce,
                                                      include_self=include_self),
                  lambda t, s: torch.index_reduce(t, dim, torch.tensor(index), s, reduce,
                                                  include_self=include_self), x, source)


@pytest.mark.filterwarnings("ignore:index_reduce\\(\\) is in beta")
def test_index_reduce_refuses_and_writes_in_place_as_torch():
    x, tx = ours_and_theirs(np.ones((5, 2)))
    s, ts = ours_and_theirs(np.arange(6.0).reshape(3, 2) + 1)
    for index, reduce in (([0, 4, 0], "sum"), ([0, 4, 9], "amax"), ([0.0, 4.0, 0.0], "amax"),
                          ([0, 4], "amax"), ([[0, 1, 2]], "prod")):
        same_error(lambda i=index, r=reduce: x.index_reduce(0, Tensor(i), s, r),
                   lambda i=index, r=reduce: tx.index_reduce(0, torch.tensor(i), ts, r))
    same_error(lambda: x.index_reduce(0, Tensor([0, 1, 2]), Tensor([[1, 2]] * 3), "prod"),
               lambda: tx.index_reduce(0, torch.tensor([0, 1, 2]), torch.tensor([[1, 2]] * 3),
                                       "prod"))
    assert x.index_reduce_(0, Tensor([0, 4, 0]), s, "prod") is x
    tx.index_reduce_(0, torch.tensor([0, 4, 0]), ts, "prod")
    assert_same(x, tx, "index_reduce_")


# ---- floating point --------------------------------------------------------------------------


FLOATS = np.array([1.5, -3.0, 0.0, -0.0, 1e-310, 3e38, np.inf, -np.inf, np.nan, 0.1, -7.25])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_frexp_matches_torch(dtype):
    x = FLOATS.astype(dtype)
    ours, theirs = tg.frexp(Tensor(x)), torch.frexp(torch.tensor(x))
    assert_same(ours.mantissa, theirs.mantissa, "mantissa")
    assert_same(ours.exponent, theirs.exponent, "exponent")
    mantissa, exponent = Tensor(x).frexp()
    assert_same(exponent, theirs[1], "exponent")
    finite = x[np.isfinite(x)]
    against_torch(torch, lambda t: t.frexp()[0], lambda t: t.frexp()[0], finite)
    same_error(lambda: tg.frexp(Tensor([1, 2])), lambda: torch.frexp(torch.tensor([1, 2])))


def test_ldexp_matches_torch():
    """(Integer exponents not below 0: PyTorch's gradient of ldexp(x, -2) is 0, from 2**-2
    computed in integers; ours is 0.25.)"""
    for dtype in (np.float64, np.float32):
        x = np.array([1.5, -3.0, 0.0, 0.1, 2.0], dtype)
        for exponent in (np.array([1, 2, 5, 0, 3]), np.array([1.0, -2.0, 0.5, 0.0, 3.0],
                                                            dtype)):
            against_torch(torch, tg.ldexp, torch.ldexp, x, exponent)
            against_torch(torch, lambda a, b: a.ldexp(b), lambda a, b: a.ldexp(b), x, exponent)
    assert_same(tg.ldexp(Tensor([1.0, -3.0]), Tensor([-2, -1])),
                torch.ldexp(torch.tensor([1.0, -3.0]), torch.tensor([-2, -1])), "negative")
    x = Tensor([1.0, -3.0], requires_grad=True)
    tg.ldexp(x, Tensor([-2, -1])).sum().backward()
    assert x.grad.tolist() == [0.25, 0.5]
    assert_same(tg.ldexp(Tensor([1, 2]), Tensor([1, 2])),
                torch.ldexp(torch.tensor([1, 2]), torch.tensor([1, 2])), "integers")
    y, ty = ours_and_theirs([1.0, 2.0])
    assert y.ldexp_(Tensor([3, 4])) is y
    ty.ldexp_(torch.tensor([3, 4]))
    assert_same(y, ty, "ldexp_")


def test_nextafter_matches_torch():
    for dtype in (np.float64, np.float32):
        x = FLOATS.astype(dtype)
        towards = np.roll(FLOATS, 3).astype(dtype)
        against_torch(torch, tg.nextafter, torch.nextafter, x[np.isfinite(x)],
                      towards[np.isfinite(x)])
        assert_same(Tensor(x).nextafter(Tensor(towards)),
                    torch.tensor(x).nextafter(torch.tensor(towards)), "nextafter")
    assert_same(tg.nextafter(Tensor(np.ones(2, np.float32)), Tensor([0.0, 2.0])),
                torch.nextafter(torch.ones(2, dtype=torch.float32), torch.tensor([0.0, 2.0])),
                "promoted")
    same_error(lambda: tg.nextafter(Tensor([1, 2]), Tensor([3, 0])),
               lambda: torch.nextafter(torch.tensor([1, 2]), torch.tensor([3, 0])))
    y, ty = ours_and_theirs([1.0, 2.0])
    assert y.nextafter_(Tensor([3.0, 0.0])) is y
    ty.nextafter_(torch.tensor([3.0, 0.0]))
    assert_same(y, ty, "nextafter_")


@settings(max_examples=20)
@given(data=st.data())
def test_renorm_matches_torch(data):
    shape = data.draw(shapes(min_dims=2, size_zero=True), label="shape")
    dtype = data.draw(float_dtypes, label="dtype")
    x = data.draw(laid_out(shape, dtype, Domain(((-3.0, 3.0),))), label="x")
    p = data.draw(st.sampled_from([1, 2, 3.5, math.inf]), label="p")
    dim = data.draw(st.integers(-len(shape), len(shape) - 1), label="dim")
    maxnorm = data.draw(st.sampled_from([0.0, 0.5, 2.0, 100.0]), label="maxnorm")
    try:  # the inf norm of empty slices: PyTorch's error, and ours
        torch.tensor(x.values).renorm(p, dim, maxnorm)
    except RuntimeError:
        with pytest.raises(RuntimeError):
            Tensor(x.values).renorm(p, dim, maxnorm)
        return
    against_torch(torch, lambda t: t.renorm(p, dim, maxnorm),
                  lambda t: t.renorm(p, dim, maxnorm), x, upstream=data.draw(upstream_layouts))


def test_renorm_refuses_and_writes_in_place_as_torch():
    x, tx = ours_and_theirs(np.arange(6.0).reshape(2, 3))
    for args in ((2, 0, -1.0), (0, 0, 1.0), (-1, 0, 1.0), (2, 2, 1.0)):
        same_error(lambda a=args: x.renorm(*a), lambda a=args: tx.renorm(*a))
    same_error(lambda: tg.renorm(Tensor([1.0]), 2, 0, 1.0),
               lambda: torch.renorm(torch.tensor([1.0]), 2, 0, 1.0))
    same_error(lambda: tg.renorm(Tensor([[1, 2]]), 2, 0, 1.0),
               lambda: torch.renorm(torch.tensor([[1, 2]]), 2, 0, 1.0))
    assert x.renorm_(2, 0, 1.0) is x
    tx.renorm_(2, 0, 1.0)
    assert_same(x, tx, "renorm_")


# ---- a tensor's memory, and the methods that were only functions -----------------------------


def test_storage_offset_matches_torch():
    values = np.arange(24.0).reshape(4, 6)
    for pick in (lambda t: t, lambda t: t[1:, 2:], lambda t: t[2], lambda t: t[:, 3],
                 lambda t: t.t()[1:], lambda t: t[1:3].reshape(-1)[4:]):
        assert pick(Tensor(values)).storage_offset() == pick(torch.tensor(values)).storage_offset()


@pytest.mark.parametrize("size,stride", [((2, 3), (3, 1)), ((2, 3), (1, 2)), ((4,), (2,)),
                                          ((), ()), ((0, 3), (3, 1)), ((2, 2), (0, 1))])
def test_new_empty_strided_matches_torch(size, stride):
    ours = Tensor(np.ones(2, np.float32)).new_empty_strided(size, stride)
    theirs = torch.ones(2, dtype=torch.float32).new_empty_strided(size, stride)
    assert ours.shape == tuple(theirs.shape) and ours.dtype == tg.float32
    assert ours.stride() == theirs.stride() and not ours.requires_grad
    wider = Tensor([1.0]).new_empty_strided(size, stride, dtype=tg.int64, requires_grad=False)
    assert wider.dtype == tg.int64
    same_error(lambda: Tensor([1.0]).new_empty_strided((2, 3), (1,)),
               lambda: torch.ones(1).new_empty_strided((2, 3), (1,)))


def test_prelu_and_hardshrink_methods_match_torch():
    x = np.array([[-2.0, -0.25, 0.0, 0.3, 1.5]] * 2)
    against_torch(torch, lambda t, w: t.prelu(w), lambda t, w: t.prelu(w), x, np.array([0.25]))
    for lambd in (0.5, 0.3):
        against_torch(torch, lambda t, k=lambd: t.hardshrink(k),
                      lambda t, k=lambd: t.hardshrink(k), x)
    against_torch(torch, lambda t: t.hardshrink(), lambda t: t.hardshrink(), x)


# ---- nn.functional: gumbel_softmax, pdist, max pooling's indices, embedding_bag ------------


def test_gumbel_softmax_draws_the_distribution_of_torch():
    """Noise from each engine's own generator: the same shapes, rows summing to 1, one-hot
    rows when hard, and (Gumbel-max) the largest entry of a row at i with probability
    softmax(logits)[i], for both; the hard sample's gradient is the soft one's."""
    logits = np.log(np.array([0.1, 0.2, 0.3, 0.4]))
    batch = np.tile(logits, (20_000, 1))
    tg.manual_seed(1)
    ours = tg.functional.gumbel_softmax(Tensor(batch), tau=0.5).numpy()
    torch.manual_seed(1)
    theirs = torch.nn.functional.gumbel_softmax(torch.tensor(batch), tau=0.5).numpy()
    assert ours.shape == theirs.shape and ours.dtype == theirs.dtype
    np.testing.assert_allclose(ours.sum(-1), 1, rtol=1e-12)
    for sample in (ours, theirs):
        frequencies = np.bincount(sample.argmax(-1), minlength=4) / len(sample)
        np.testing.assert_allclose(frequencies, [0.1, 0.2, 0.3, 0.4], atol=0.015)
    # the soft sample's mean entries agree between the engines (same distribution)
    np.testing.assert_allclose(ours.mean(0), theirs.mean(0), atol=0.01)
    x = Tensor(np.array([[0.5, -1.0, 2.0], [0.0, 0.0, 0.0]], np.float32), requires_grad=True)
    tg.manual_seed(2)
    hard = tg.functional.gumbel_softmax(x, tau=2.0, hard=True, dim=1)
    assert hard.dtype == tg.float32
    assert sorted(hard.detach().numpy().ravel().tolist()) == [0, 0, 0, 0, 1, 1]
    weights = Tensor(np.array([[1.0, 2.0, 3.0], [-1.0, 0.5, 4.0]], np.float32))
    (hard * weights).sum().backward()
    tg.manual_seed(2)  # the same noise, without hard: the same gradient
    x_soft = Tensor(x.detach().numpy(), requires_grad=True)
    (tg.functional.gumbel_softmax(x_soft, tau=2.0, dim=1) * weights).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), x_soft.grad.numpy(), rtol=1e-6)


@settings(max_examples=20)
@given(data=st.data())
def test_pdist_matches_torch(data):
    # (from 1 row: PyTorch 2.13's backward of pdist of no rows crashes, a segmentation fault)
    n, m = data.draw(st.integers(1, 5), label="rows"), data.draw(st.integers(0, 3), label="m")
    dtype = data.draw(float_dtypes, label="dtype")
    x = data.draw(laid_out((n, m), dtype, Domain(((-2.0, 2.0), (1.0, 1.0)))), label="x")
    p = data.draw(st.sampled_from([2, 1, 0, 0.5, 3, math.inf]), label="p")
    against_torch(torch, lambda t: tg.functional.pdist(t, p),
                  lambda t: torch.nn.functional.pdist(t, p), x,
                  upstream=data.draw(upstream_layouts))


def test_pdist_of_no_rows_is_empty():
    x = Tensor(np.ones((0, 3)), requires_grad=True)
    distances = tg.functional.pdist(x)
    assert distances.shape == (0,)
    distances.sum().backward()
    assert x.grad.shape == (0, 3)


def test_pdist_refuses_as_torch():
    for values, p in ((np.ones(3), 2), (np.ones((2, 2)), -1), (np.ones((2, 2), np.int64), 2)):
        same_error(lambda v=values, q=p: tg.functional.pdist(Tensor(v), q),
                   lambda v=values, q=p: torch.nn.functional.pdist(torch.tensor(v), q))


@pytest.mark.parametrize("n", [1, 2])
@pytest.mark.parametrize("settings_", [dict(kernel_size=2),
                                       dict(kernel_size=3, stride=2, padding=1),
                                       dict(kernel_size=2, dilation=2),
                                       dict(kernel_size=2, stride=1)])
@pytest.mark.parametrize("batched", [True, False])
def test_max_pool_with_indices_matches_torch(n, settings_, batched):
    rng = np.random.default_rng(4)
    shape = (2, 3) + (7,) * n if batched else (3,) + (7,) * n
    x = rng.standard_normal(shape)
    x.reshape(-1)[::5] = 1.0  # ties: the first of equals
    ours_fn = getattr(tg.functional, f"max_pool{n}d_with_indices")
    theirs_fn = getattr(torch.nn.functional, f"max_pool{n}d_with_indices")
    (ours, ours_at), (theirs, theirs_at) = ours_fn(Tensor(x), **settings_), theirs_fn(
        torch.tensor(x), **settings_)
    assert_same(ours, theirs, "values")
    assert_same(ours_at, theirs_at, "indices")
    plain = getattr(tg.functional, f"max_pool{n}d")(Tensor(x), **settings_, return_indices=True)
    assert_same(plain[1], theirs_at, "return_indices=True")
    against_torch(torch, lambda t: ours_fn(t, **settings_)[0],
                  lambda t: theirs_fn(t, **settings_)[0], x)


BAGS = [  # (input, offsets, settings)
    ([0, 2, 1, 3, 3], [0, 2, 2], {}),
    ([0, 2, 1, 3, 3], [0, 2, 5], dict(include_last_offset=True)),
    ([0, 2, 1, 3, 3], [0, 3], dict(mode="sum")),
    ([0, 2, 1, 3, 0], [0, 1, 1, 4], dict(mode="max")),
    ([0, 2, 1, 2, 3], [0, 2], dict(padding_idx=2)),
    ([0, 2, 1, 2, 3], [0, 2], dict(padding_idx=-2, mode="sum")),
    ([[0, 2], [1, 1], [3, 0]], None, {}),
    ([[0, 2], [1, 1], [3, 0]], None, dict(mode="max")),
    ([], [0, 0], {}),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", BAGS)
def test_embedding_bag_matches_torch(case, dtype):
    indices, offsets, options = case
    weight = np.random.default_rng(5).standard_normal((4, 3)).astype(dtype)

    def to_ours(v):
        return None if v is None else Tensor(np.array(v, np.int64))

    def to_theirs(v):
        return None if v is None else torch.tensor(np.array(v, np.int64))

    against_torch(torch, lambda w: tg.functional.embedding_bag(
        to_ours(indices), w, to_ours(offsets), **options),
        lambda w: torch.nn.functional.embedding_bag(to_theirs(indices), w, to_theirs(offsets),
                                                    **options), weight)


def test_embedding_bag_per_sample_weights_and_errors_match_torch():
    weight = np.random.default_rng(6).standard_normal((4, 3))
    indices, offsets = np.array([0, 2, 1, 3]), np.array([0, 1])
    scale = np.array([0.5, -1.0, 2.0, 3.0])
    against_torch(torch, lambda w, s: tg.functional.embedding_bag(
        Tensor(indices), w, Tensor(offsets), mode="sum", per_sample_weights=s),
        lambda w, s: torch.nn.functional.embedding_bag(
            torch.tensor(indices), w, torch.tensor(offsets), mode="sum", per_sample_weights=s),
        weight, scale)
    w, tw = ours_and_theirs(weight)
    for args, options in (((indices, None), {}), ((indices, [0, 5]), {}), ((indices, [1, 2]), {}),
                          (([[0, 1]], [0]), {}), ((indices, offsets), dict(mode="min")),
                          ((indices, offsets), dict(mode="mean", per_sample_weights=scale)),
                          (([0, 7], [0]), {})):
        i, o = args

        def run(module, tensor, i=i, o=o, options=options):
            extra = {k: tensor(v) if isinstance(v, np.ndarray) else v
                     for k, v in options.items()}
            return module.embedding_bag(tensor(np.array(i)), w if module is tg.functional else tw,
                                        None if o is None else tensor(np.array(o)), **extra)

        same_error(lambda r=run: r(tg.functional, Tensor),
                   lambda r=run: r(torch.nn.functional, torch.tensor))
