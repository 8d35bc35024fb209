"""More of PyTorch's names (composite.py), held against PyTorch's: the arithmetic functions and
their aliases, shapes joined, split, turned and flipped, more elementwise math, running extremes
and sums, searches, in-place forms and the top-level functional ops. Values and gradients in
both float dtypes, on transposed, sliced and Fortran-ordered inputs, 0-d and empty ones, NaN and
the infinities, ties and kinks; and PyTorch's errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from torch_compare import assert_same, run_both

import tensorgrad as tg

torch = pytest.importorskip("torch")
RNG = np.random.default_rng(23)


def _r(*shape):
    return RNG.standard_normal(shape)


def _f(*shape):  # Fortran order: run_both keeps the layout
    return np.asfortranarray(RNG.standard_normal(shape))


def _unit(*shape):  # strictly inside (0, 1)
    return RNG.uniform(0.05, 0.95, shape)


SPECIAL = np.array([0.0, -0.0, 1.0, -2.5, np.inf, -np.inf, np.nan, 3.0])
TIES = np.array([[1.0, 3.0, 3.0, 2.0, 3.0, 0.5], [2.0, 2.0, -1.0, -1.0, 5.0, 5.0]])

# name -> (the arrays, a function of one library's module and those tensors): the values and
# the gradients (of one random weighting of the output) must agree
CASES = {
    # the operators by name
    "add alpha": ([_r(3, 4), _r(4)], lambda m, a, b: m.add(a, b, alpha=-0.5)),
    "add, a number": ([_r(3)], lambda m, a: m.add(a, 2.0, alpha=3)),
    "sub alpha, transposed": ([_r(4, 3), _r(3, 4)], lambda m, a, b: m.sub(a.t(), b, alpha=2)),
    "subtract method": ([_r(3, 4), _r(1, 4)], lambda m, a, b: a.subtract(b, alpha=0.25)),
    "rsub": ([_r(3, 4), _r(4)], lambda m, a, b: m.rsub(a, b, alpha=2)),
    "rsub a number": ([_r(3)], lambda m, a: m.rsub(a, 1.5)),
    "mul, multiply": ([_r(2, 3), _r(3)], lambda m, a, b: m.mul(a, b) + m.multiply(b, a) +
                      a.multiply(b)),
    "div, divide": ([_r(2, 3), _r(3) + 4], lambda m, a, b: m.div(a, b) + a.divide(b)),
    "div trunc": ([_r(3, 4) * 5, _r(4) + 0.3], lambda m, a, b: m.div(a, b, rounding_mode="trunc")
                  + a),
    "div floor method": ([_r(3, 4) * 5, _r(4)], lambda m, a, b: a.div(b, rounding_mode="floor")
                         + b),
    "neg, negative, reciprocal": ([_r(5) + 3], lambda m, a: m.neg(a) * m.reciprocal(a)),
    "erfc": ([_r(3, 4) * 3], lambda m, a: m.erfc(a.t())),
    "erfc far out": ([np.array([-30.0, -5.0, 0.0, 5.0, 9.0, 26.0, 30.0])],
                     lambda m, a: a.erfc()),
    "arc names": ([_unit(4)], lambda m, a: m.arcsin(a) + m.arccos(a) * m.arctan(a) +
                  m.arcsinh(a) + m.arctanh(a) + m.arccosh(a + 1) + a.arctan2(a + 1)),
    "fix": ([_r(4) * 3], lambda m, a: m.fix(a) + a),
    # shapes
    "atleast_1d of 0-d": ([np.array(2.0)], lambda m, a: m.atleast_1d(a)),
    "atleast_2d, a list": ([_r(3), np.array(1.5)], lambda m, a, b: m.cat(
        [t.reshape(-1) for t in m.atleast_2d([a, b])])),
    "atleast_3d of a matrix": ([_r(2, 3)], lambda m, a: m.atleast_3d(a.t())),
    "atleast_3d of a vector": ([_r(3)], lambda m, a: m.atleast_3d(a)),
    "row_stack": ([_r(3), _r(2, 3)], lambda m, a, b: m.row_stack([a, b])),
    "dstack": ([_r(2, 3), _r(2, 3, 2)], lambda m, a, b: m.dstack([a, b])),
    "dstack of vectors": ([_r(3), _r(3)], lambda m, a, b: m.dstack((a, b))),
    "column_stack": ([_r(3), _r(3, 2), _r(3)], lambda m, a, b, c: m.column_stack([a, b, c])),
    "tensor_split sections": ([_r(7, 2)], lambda m, a: m.cat(
        [p * (i + 1) for i, p in enumerate(m.tensor_split(a, 3))])),
    "tensor_split indices": ([_r(2, 7)], lambda m, a: m.cat(
        [p * (i + 1) for i, p in enumerate(a.tensor_split([2, -2, 10], dim=1))], dim=1)),
    "tensor_split a tensor": ([_r(7)], lambda m, a: m.cat(
        [p * (i + 1) for i, p in enumerate(m.tensor_split(a, m.tensor([1, 4])))])),
    "hsplit, vsplit, dsplit": ([_r(4, 4, 2)], lambda m, a: m.cat([
        m.hsplit(a, 2)[1].reshape(-1) * 2, m.vsplit(a, [1, 3])[1].reshape(-1),
        a.dsplit(2)[0].reshape(-1), a[0].hsplit([1])[1].reshape(-1)])),
    "fliplr, flipud": ([_r(3, 4)], lambda m, a: m.fliplr(a) * 2 + a.flipud()),
    "rot90": ([_r(3, 4, 2)], lambda m, a: m.rot90(a, 1, [0, 2])),
    "rot90 -1": ([_r(3, 4)], lambda m, a: a.rot90(-1, [1, 0])),
    "rot90 2 and 3": ([_r(3, 3)], lambda m, a: m.rot90(a, 2) + m.rot90(a, 3)),
    "unflatten": ([_r(2, 6)], lambda m, a: m.unflatten(a, 1, (2, -1))),
    "take": ([_r(3, 4)], lambda m, a: m.take(a.t(), m.tensor([[0, -1], [5, 5]]))),
    "diag_embed": ([_r(2, 3)], lambda m, a: m.diag_embed(a)),
    "diag_embed offset dims": ([_r(2, 3)], lambda m, a: m.diag_embed(a, 2, 0, 2)),
    "diag_embed below, crossed": ([_r(2, 3)], lambda m, a: a.diag_embed(-1, -1, 0)),
    "diagflat": ([_r(2, 2)], lambda m, a: m.diagflat(a, -1)),
    "kron": ([_r(2, 3), _r(4)], lambda m, a, b: m.kron(a, b)),
    "kron 3-D": ([_r(2, 1, 2), _r(3, 2)], lambda m, a, b: a.kron(b)),
    "cross": ([_r(4, 3), _r(4, 3)], lambda m, a, b: m.cross(a, b, dim=1)),
    "cross broadcast": ([_r(3, 2), _r(3, 1)], lambda m, a, b: a.cross(b, dim=-2)),
    "narrow_copy, ravel": ([_f(3, 4)], lambda m, a: m.narrow_copy(a, 1, 1, 2).ravel() +
                           m.ravel(a)[:6]),
    "sum_to_size": ([_r(2, 3, 4)], lambda m, a: a.sum_to_size(3, 1)),
    "sum_to_size, a tuple": ([_r(2, 3)], lambda m, a: a.sum_to_size((1, 3))),
    # elementwise math
    "logaddexp": ([_r(3, 4) * 10, _r(4) * 10], lambda m, a, b: m.logaddexp(a, b)),
    "logaddexp ties and far": ([np.array([1.0, -800.0, 700.0]), np.array([1.0, 2.0, -3.0])],
                               lambda m, a, b: a.logaddexp(b)),
    "logaddexp2": ([_f(3, 4), _r(3, 4)], lambda m, a, b: m.logaddexp2(a, b)),
    "hypot": ([_r(3, 4), _r(3, 4)], lambda m, a, b: m.hypot(a.t(), b.t())),
    "xlogy": ([_r(3, 4), np.abs(_r(4)) + 0.1], lambda m, a, b: m.xlogy(a, b)),
    "xlogy a number": ([np.abs(_r(4)) + 0.1], lambda m, a: m.xlogy(2.0, a) + a.xlogy(3)),
    "logit": ([_unit(3, 4)], lambda m, a: m.logit(a)),
    "logit eps": ([np.array([0.0, 1.0, 0.5, 0.01, 2.0, 0.99, -1.0])],
                  lambda m, a: a.logit(eps=0.01)),
    "copysign": ([_r(3, 4), _r(4)], lambda m, a, b: m.copysign(a, b)),
    "copysign zeros": ([np.array([0.0, -0.0, 2.0, -3.0]), np.array([-1.0, 1.0, -0.0, np.nan])],
                       lambda m, a, b: a.copysign(b)),
    "copysign a number": ([_r(5)], lambda m, a: m.copysign(a, -1.0)),
    "frac": ([_r(3, 4) * 4], lambda m, a: m.frac(a) + a.frac()),
    "sinc": ([np.array([0.0, 0.5, 1.0, -1.5, 2.25, 1e-9])], lambda m, a: m.sinc(a)),
    "deg2rad, rad2deg": ([_r(5)], lambda m, a: m.deg2rad(a) + a.rad2deg()),
    "cummax": ([_r(4, 5)], lambda m, a: m.cummax(a, 1).values),
    "cummin, ties": ([TIES], lambda m, a: a.cummin(1)[0] + a.t().cummin(0).values.t()),
    "cummax, ties": ([TIES], lambda m, a: a.cummax(-1).values),
    "cummax, NaN": ([np.array([1.0, 3.0, np.nan, 5.0, np.nan, 0.0])],
                    lambda m, a: m.cummax(a, 0).values),
    "cummin of 0-d": ([np.array(1.5)], lambda m, a: m.cummin(a, 0).values),
    "logcumsumexp": ([_r(3, 5) * 5], lambda m, a: m.logcumsumexp(a, 1)),
    "logcumsumexp, a wide range": ([np.array([-800.0, 0.0, 1.0, -2.0, 700.0, 3.0])],
                                   lambda m, a: a.logcumsumexp(0)),
    "logcumsumexp dim 0 of a view": ([_r(4, 3)], lambda m, a: m.logcumsumexp(a[::2], 0)),
    "aminmax": ([TIES], lambda m, a: m.aminmax(a)[0] * 2 + m.aminmax(a).max * 3),
    "aminmax dim": ([_r(3, 4)], lambda m, a: a.aminmax(dim=0, keepdim=True).min * 2 +
                    a.aminmax(dim=0, keepdim=True).max),
    "aminmax of 0-d": ([np.array(2.0)], lambda m, a: m.aminmax(a, dim=0)[1]),
    "dist": ([_r(3, 4), _r(4)], lambda m, a, b: m.dist(a, b) + a.dist(b, 1) + m.dist(a, b, 3)),
    "dist inf": ([_r(3, 4), _r(3, 4)], lambda m, a, b: m.dist(a, b, float("inf"))),
    # the top-level functional ops, with torch's signatures
    "layer_norm": ([_r(2, 3, 4), _r(4), _r(4)], lambda m, a, w, b: m.layer_norm(a, [4], w, b)),
    "rms_norm": ([_r(2, 4), _r(4)], lambda m, a, w: m.rms_norm(a, [4], w, 1e-6)),
    "embedding": ([_r(5, 3)], lambda m, w: m.embedding(w, m.tensor([[0, 4], [4, 2]]), 4)),
    "conv1d": ([_r(2, 3, 7), _r(4, 3, 3), _r(4)], lambda m, x, w, b: m.conv1d(x, w, b, 2, 1)),
    "conv2d": ([_r(1, 2, 5, 5), _r(3, 2, 3, 3)], lambda m, x, w: m.conv2d(x, w, None, 1, 1)),
    "conv_transpose1d": ([_r(1, 2, 5), _r(2, 3, 3)],
                         lambda m, x, w: m.conv_transpose1d(x, w, None, 2)),
    "conv_transpose2d": ([_r(1, 2, 3, 3), _r(2, 1, 2, 2)],
                         lambda m, x, w: m.conv_transpose2d(x, w)),
    "max_pool1d": ([_r(2, 3, 8)], lambda m, x: m.max_pool1d(x, 2)),
    "max_pool2d": ([_r(1, 2, 6, 6)], lambda m, x: m.max_pool2d(x, 3, 2, 1)),
    "avg_pool1d": ([_r(2, 3, 8)], lambda m, x: m.avg_pool1d(x, 3, 2, 1)),
    "adaptive pools 1d": ([_r(2, 3, 8)], lambda m, x: m.adaptive_avg_pool1d(x, 3) +
                          m.adaptive_max_pool1d(x, 3)[0]),
    "batch_norm": ([_r(4, 3, 5), _r(3), _r(3)], lambda m, x, w, b: m.batch_norm(
        x, w, b, None, None, True, 0.1, 1e-5, False)),
    "instance_norm": ([_r(2, 3, 5)], lambda m, x: m.instance_norm(
        x, None, None, None, None, True, 0.1, 1e-5, False)),
    "group_norm": ([_r(2, 4, 3), _r(4), _r(4)], lambda m, x, w, b: m.group_norm(x, 2, w, b)),
    "pixel_shuffle, unshuffle": ([_r(1, 8, 2, 2)], lambda m, x: m.pixel_unshuffle(
        m.pixel_shuffle(x, 2), 2) * 2),
    "cosine_similarity": ([_r(3, 4), _r(3, 4)], lambda m, a, b: m.cosine_similarity(a, b)),
    "pairwise_distance": ([_r(3, 4), _r(3, 4)], lambda m, a, b: m.pairwise_distance(a, b)),
    "selu, celu, threshold": ([_r(3, 4)], lambda m, a: m.selu(a) + m.celu(a, 0.5) +
                              m.threshold(a, 0.1, -2.0)),
    "prelu, hardshrink": ([_r(2, 3, 4), np.array([0.25, 0.5, 0.1])],
                          lambda m, a, w: m.prelu(a, w) + m.hardshrink(a, 0.3)),
    "bilinear": ([_r(3, 2), _r(3, 4), _r(5, 2, 4)], lambda m, a, b, w: m.bilinear(a, b, w)),
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", list(CASES))
def test_values_and_gradients_are_pytorchs(name, dtype):
    arrays, call = CASES[name]
    with np.errstate(all="ignore"):
        run_both(torch, lambda *t: call(tg, *t), lambda *t: call(torch, *t), arrays, dtype)


def test_gradients_at_the_edges_are_pytorchs():
    """Where a formula is 0/0 or inf - inf, the gradient is PyTorch's NaN, inf or 0."""
    for call, arrays in [
        (lambda m, a, b: m.logaddexp(a, b), ([-np.inf, np.inf, 0.0, 1.0],
                                             [-np.inf, np.inf, 0.0, np.nan])),
        (lambda m, a, b: m.hypot(a, b), ([0.0, 3.0, -0.0], [0.0, 4.0, 2.0])),
        (lambda m, a, b: m.xlogy(a, b), ([0.0, 0.0, 2.0, 0.0, 1.0, 0.0],
                                         [0.0, -1.0, 0.0, np.nan, 2.0, np.inf])),
        (lambda m, a, b: m.logit(a) + b, ([0.0, 1.0, 1.5, -0.5], [0.0, 0.0, 0.0, 0.0])),
        (lambda m, a, b: m.sinc(a) * b, ([0.0, np.inf, np.nan], [1.0, 1.0, 1.0])),
        (lambda m, a, b: m.div(a, b, rounding_mode="trunc"), ([1.0, -1.0, 0.0],
                                                              [0.0, 0.0, 0.0])),
    ]:
        with np.errstate(all="ignore"):
            run_both(torch, lambda *t, c=call: c(tg, *t), lambda *t, c=call: c(torch, *t),
                     [np.array(v) for v in arrays], np.float64)


def test_cummax_and_cummin_indices_are_pytorchs():
    for data in (TIES, np.array([[1.0, np.nan, 2.0, np.nan, 0.0]]), np.zeros((0, 3)),
                 np.array([[3, 1, 1, 2, 5, 5]]), np.array([[True, False, True]])):
        for name in ("cummax", "cummin"):
            for dim in (0, 1, -1):
                ours = getattr(tg, name)(tg.tensor(data), dim)
                theirs = getattr(torch, name)(torch.tensor(data), dim)
                assert_same(ours.values, theirs.values, f"{name} values")
                assert_same(ours.indices, theirs.indices, f"{name} indices of {data}")
    for name in ("cummax", "cummin"):
        ours, theirs = getattr(tg, name)(tg.tensor(2.5), 0), getattr(torch, name)(
            torch.tensor(2.5), 0)
        assert_same(ours.indices, theirs.indices, name)


def test_div_rounding_modes_on_integers_are_pytorchs(torch_float64_default):
    a = np.array([7, -7, 6, -6, 0, 9, -9, 1])
    b = np.array([2, 2, -4, -4, 3, -2, -2, 7])
    for mode in ("trunc", "floor", None):
        ours = tg.div(tg.tensor(a), tg.tensor(b), rounding_mode=mode)
        assert_same(ours, torch.div(torch.tensor(a), torch.tensor(b), rounding_mode=mode), mode)
        assert_same(tg.tensor(a).div(3, rounding_mode=mode),
                    torch.tensor(a).div(3, rounding_mode=mode), f"{mode}, a number")
    assert_same(tg.div(tg.tensor(SPECIAL), 0.0, rounding_mode="trunc"),
                torch.div(torch.tensor(SPECIAL), 0.0, rounding_mode="trunc"), "by zero")
    x = tg.tensor([7.0, -7.5])
    assert x.div_(2, rounding_mode="trunc") is x and x.tolist() == [3.0, -3.0]


def test_the_dtypes_are_pytorchs(torch_float64_default):
    i32 = np.array([1, -2, 3], np.int32)
    f32 = np.array([0.5, -1.5, 2.0], np.float32)
    calls = {
        "add int alpha": lambda m: m.add(m.tensor(i32), m.tensor(i32), alpha=2),
        "add f32 + int * 2.5": lambda m: m.add(m.tensor(f32), m.tensor([1, 2, 3]), alpha=2.5),
        "add bool alpha": lambda m: m.add(m.tensor([True, False]), m.tensor([False, True]),
                                          alpha=True),
        "rsub int": lambda m: m.rsub(m.tensor(i32), 10),
        "mul bool": lambda m: m.mul(m.tensor([True, False]), True),
        "div int": lambda m: m.div(m.tensor(i32), 2),
        "reciprocal int": lambda m: m.reciprocal(m.tensor([1, 2])),
        "erfc int": lambda m: m.erfc(m.tensor([0, 1])),
        "xlogy ints": lambda m: m.xlogy(m.tensor([1, 2]), 3),
        "copysign int": lambda m: m.copysign(m.tensor([1, 2]), -1),
        "deg2rad int": lambda m: m.deg2rad(m.tensor([180, 90])),
        "rad2deg f32": lambda m: m.rad2deg(m.tensor(f32)),
        "sinc int": lambda m: m.sinc(m.tensor([0, 1])),
        "kron int float": lambda m: m.kron(m.tensor([1, 2]), m.tensor([1.5, 2.0])),
        "logaddexp f32 0-d f64": lambda m: m.logaddexp(m.tensor(f32), m.tensor(1.0)),
        "hypot f32": lambda m: m.hypot(m.tensor(f32), m.tensor(f32)),
        "bitwise_and": lambda m: m.bitwise_and(m.tensor([3, 5, 6]), 6),
        "bitwise_or bool": lambda m: m.bitwise_or(m.tensor([True, False]),
                                                  m.tensor([False, False])),
        "bitwise_xor int32": lambda m: m.tensor(i32).bitwise_xor(m.tensor(i32 * 3)),
        "bitwise_not": lambda m: m.bitwise_not(m.tensor([0, 5, -1])),
        "bitwise_not bool": lambda m: m.tensor([True, False]).bitwise_not(),
        "gcd": lambda m: m.gcd(m.tensor([0, -4, 6, 9]), m.tensor([0, 6, -4, 0])),
        "lcm int32": lambda m: m.tensor(i32).lcm(m.tensor(np.array([4, 6, 9], np.int32))),
        "signbit": lambda m: m.signbit(m.tensor(SPECIAL)),
        "signbit int": lambda m: m.tensor([-1, 0, 2]).signbit(),
        "isposinf, isneginf": lambda m: m.isposinf(m.tensor(SPECIAL)) |
        m.tensor(SPECIAL).isneginf(),
        "isreal": lambda m: m.isreal(m.tensor([[1, 2]])),
        "greater and co": lambda m: m.stack([
            m.greater(m.tensor(SPECIAL), 1.0), m.greater_equal(m.tensor(SPECIAL), 1.0),
            m.less(m.tensor(SPECIAL), 0), m.less_equal(m.tensor(SPECIAL), 0.0),
            m.not_equal(m.tensor(SPECIAL), m.tensor(SPECIAL)),
            m.tensor(SPECIAL).greater(0), m.tensor(SPECIAL).less_equal(-0.0)]),
        "isin": lambda m: m.isin(m.tensor([1, 2, 3]), m.tensor([2.0, 3.5])),
        "isin NaN invert": lambda m: m.isin(m.tensor([1.0, np.nan]), m.tensor([np.nan, 1.0]),
                                            invert=True),
        "isin numbers": lambda m: m.stack([m.isin(2, m.tensor([2, 3])),
                                           m.isin(m.tensor(3), 3)]),
        "heaviside": lambda m: m.heaviside(m.tensor(SPECIAL), m.tensor([0.5])),
        "heaviside int": lambda m: m.heaviside(m.tensor([-2, 0, 3]), m.tensor([7])),
        "frac special": lambda m: m.frac(m.tensor(SPECIAL)),
        "logcumsumexp special": lambda m: m.logcumsumexp(m.tensor(SPECIAL), 0),
        "aminmax NaN": lambda m: m.stack(list(m.aminmax(m.tensor([1.0, np.nan])))),
        "aminmax int keepdim": lambda m: m.aminmax(m.tensor([[3, 1], [0, 2]]), keepdim=True)[0],
        "aminmax empty rows": lambda m: m.aminmax(m.zeros(2, 0), dim=0)[1],
        "diag_embed bool": lambda m: m.diag_embed(m.tensor([[True, False]]), 1),
        "diag_embed NaN": lambda m: m.diag_embed(m.tensor([np.nan, np.inf])),
        "diagflat 0-d": lambda m: m.diagflat(m.tensor(3)),
        "take empty": lambda m: m.take(m.tensor([1.0]), m.tensor([], dtype=m.int64)),
        "tensor_split empty": lambda m: m.stack(m.tensor_split(m.zeros(0), 2)),
        "atleast, 0-d int": lambda m: m.atleast_3d(m.tensor(4)),
        "hstack 0-d": lambda m: m.hstack([m.tensor(1.0), m.ones(2)]),
        "column_stack 0-d": lambda m: m.column_stack([m.tensor(1.0), m.ones(1, 2)]),
        "cross ints": lambda m: m.cross(m.tensor([[1, 2, 3]]), m.tensor([[4, 5, 7]]), dim=1),
        "dist int float": lambda m: m.dist(m.tensor([1.0, 2.0]), m.tensor([0.0, 0.0]), 0),
        "sum_to_size int": lambda m: m.tensor([[1, 2], [3, 4]]).sum_to_size(2, 1),
        "narrow_copy int": lambda m: m.narrow_copy(m.arange(5), 0, 1, 2),
        "rot90 k=0": lambda m: m.rot90(m.arange(6).reshape(2, 3), 4),
    }
    for name, call in calls.items():
        with np.errstate(all="ignore"):
            assert_same(call(tg), call(torch), name)


def test_searchsorted_and_bucketize_are_pytorchs():
    seq = np.array([1.0, 2.0, 2.0, 3.0, 5.0])
    values = np.array([[np.nan, 0.0, 2.0, 2.5], [5.0, 6.0, -np.inf, np.inf]])
    rows = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0]])
    calls = {
        "1-D": lambda m: m.searchsorted(m.tensor(seq), m.tensor(values)),
        "right": lambda m: m.searchsorted(m.tensor(seq), m.tensor(values), right=True),
        "side right": lambda m: m.searchsorted(m.tensor(seq), m.tensor(values), side="right"),
        "right and side right": lambda m: m.searchsorted(m.tensor(seq), m.tensor(values),
                                                         right=True, side="right"),
        "int32": lambda m: m.searchsorted(m.tensor(seq), m.tensor(values), out_int32=True),
        "rows": lambda m: m.searchsorted(m.tensor(rows), m.tensor([[2.5, 1.0], [4.0, 7.0]])),
        "rows, side right": lambda m: m.searchsorted(m.tensor(rows), m.tensor([[2.0], [4.0]]),
                                                     side="right"),
        "a number": lambda m: m.searchsorted(m.tensor(seq), 2.5),
        "int sequence, float values": lambda m: m.searchsorted(m.tensor([1, 2, 3]),
                                                               m.tensor([2.5, 2.0])),
        "sorter": lambda m: m.searchsorted(m.tensor([3.0, 1.0, 2.0]), m.tensor([2.5, 0.5]),
                                           sorter=m.tensor([1, 2, 0])),
        "NaN in the boundaries": lambda m: m.searchsorted(m.tensor([1.0, 2.0, np.nan]),
                                                          m.tensor([np.nan, 1.0, 2.0, 3.0])),
        "empty values": lambda m: m.searchsorted(m.tensor(seq), m.zeros(0)),
        "bucketize": lambda m: m.bucketize(m.tensor(values), m.tensor(seq)),
        "bucketize right": lambda m: m.bucketize(m.tensor(values), m.tensor(seq), right=True),
        "bucketize a number": lambda m: m.bucketize(2, m.tensor([1.0, 2.0, 3.0]), right=True),
        "bucketize int32": lambda m: m.bucketize(m.tensor([1, 2]), m.tensor([1.0, 2.0, 3.0]),
                                                 out_int32=True),
        "bucketize a view": lambda m: m.bucketize(m.tensor(values).t(), m.tensor(seq[::2])),
    }
    for name, call in calls.items():
        assert_same(call(tg), call(torch), name)


def test_heaviside_backward_raises_as_pytorchs():
    x = tg.tensor([0.0, 1.0], requires_grad=True)
    out = tg.heaviside(x, tg.tensor([0.5]))
    with pytest.raises(RuntimeError):
        out.sum().backward()


def test_in_place_forms_are_pytorchs(torch_float64_default):
    base = np.array([[0.2, -0.7, 0.9], [0.4, -0.1, 0.6]])
    other = np.array([0.3, -0.5, 0.9])
    # name -> the method's arguments
    unary = ["sin_", "cos_", "tan_", "asin_", "acos_", "atan_", "sinh_", "cosh_", "asinh_",
             "atanh_", "arcsin_", "arccos_", "arctan_", "arcsinh_", "arctanh_", "erf_", "erfc_",
             "exp2_", "expm1_", "log1p_", "rsqrt_", "reciprocal_", "sign_", "sgn_", "trunc_",
             "fix_", "ceil_", "frac_", "negative_", "absolute_", "logical_not_", "sinc_",
             "deg2rad_", "rad2deg_", "logit_", "nan_to_num_", "log2_", "log10_"]
    binary = ["subtract_", "multiply_", "divide_", "true_divide_", "floor_divide_", "fmod_",
              "remainder_", "atan2_", "arctan2_", "eq_", "ne_", "lt_", "le_", "gt_", "ge_",
              "greater_", "greater_equal_", "less_", "less_equal_", "not_equal_",
              "logical_and_", "logical_or_", "logical_xor_", "hypot_", "xlogy_", "copysign_"]
    calls = [(name, ()) for name in unary] + [(name, ("other",)) for name in binary] + [
        ("clamp_min_", (0.0,)), ("clamp_max_", (0.5,)), ("clip_", (-0.5, 0.5)),
        ("tril_", (1,)), ("triu_", (-1,)), ("cumsum_", (1,)), ("cumprod_", (0,)),
        ("arccosh_", ()), ("acosh_", ()), ("divide_", ("other",))]
    for name, args in calls:
        for dtype in (np.float64, np.float32):
            values = base + 1.5 if "cosh_" in name else base
            ours, theirs = tg.tensor(values.astype(dtype)), torch.tensor(values.astype(dtype))
            ours_args = [tg.tensor(other.astype(dtype)) if a == "other" else a for a in args]
            their_args = [torch.tensor(other.astype(dtype)) if a == "other" else a
                          for a in args]
            with np.errstate(all="ignore"):
                assert getattr(ours, name)(*ours_args) is ours
            getattr(theirs, name)(*their_args)
            assert_same(ours, theirs, f"{name} in {np.dtype(dtype)}", rtol=1e-6)
    ints = np.array([12, -18, 7])
    for name in ("gcd_", "lcm_", "bitwise_and_", "bitwise_or_", "bitwise_xor_"):
        ours, theirs = tg.tensor(ints), torch.tensor(ints)
        getattr(ours, name)(tg.tensor([8, 4, 7]))
        getattr(theirs, name)(torch.tensor([8, 4, 7]))
        assert_same(ours, theirs, name)
    ours, theirs = tg.tensor(ints), torch.tensor(ints)
    ours.bitwise_not_(), theirs.bitwise_not_()
    assert_same(ours, theirs, "bitwise_not_")
    ours, theirs = tg.tensor([-1.0, 0.0, 2.0]), torch.tensor([-1.0, 0.0, 2.0])
    ours.heaviside_(tg.tensor([0.5])), theirs.heaviside_(torch.tensor([0.5]))
    assert_same(ours, theirs, "heaviside_")


def test_in_place_reshapes_are_pytorchs():
    for name, args in [("t_", ()), ("transpose_", (0, 2)), ("swapaxes_", (1, -1)),
                       ("swapdims_", (0, 1)), ("squeeze_", ()), ("squeeze_", (1,)),
                       ("unsqueeze_", (-1,)), ("unsqueeze_", (0,))]:
        shape = (2, 3) if name == "t_" else (2, 1, 3)
        values = np.arange(6.0).reshape(shape)
        ours, theirs = tg.tensor(values), torch.tensor(values)
        assert getattr(ours, name)(*args) is ours
        getattr(theirs, name)(*args)
        assert_same(ours, theirs, name)
        ours.add_(1)  # still a view of its own memory
        theirs.add_(1)
        assert_same(ours, theirs, f"{name}, then written")


def test_the_information_is_pytorchs():
    for values in ([[1.0, 2.0]], [0.0], [np.nan], [[3]], [True], 0.0):
        try:
            expected = torch.tensor(values).is_nonzero()
        except RuntimeError:
            with pytest.raises(RuntimeError):
                tg.tensor(values).is_nonzero()
        else:
            assert tg.is_nonzero(tg.tensor(values)) is expected
    with pytest.raises(RuntimeError, match="no values"):
        tg.tensor([]).is_nonzero()
    for dtype in ("float32", "int64", "uint8", "bool", "int8"):
        assert tg.zeros(1, dtype=getattr(tg, dtype)).is_signed() == \
            torch.zeros(1, dtype=getattr(torch, dtype)).is_signed()
    assert tg.is_same_size(tg.ones(2, 3), tg.ones(2, 3)) and not tg.ones(2).is_same_size(
        tg.ones(3))
    assert tg.ones(2, 3).nelement() == 6


# what PyTorch refuses, and with which exception type
ERRORS = {
    "div rounding mode": lambda m: m.div(m.ones(2), 2, rounding_mode="round"),
    "add float alpha to ints": lambda m: m.add(m.tensor([1, 2]), m.tensor([1, 2]), alpha=2.5),
    "sub of bools": lambda m: m.sub(m.tensor([True]), m.tensor([True])),
    "bool alpha on floats": lambda m: m.add(m.ones(2), m.ones(2), alpha=True),
    "integer trunc division by 0": lambda m: m.div(m.tensor([1]), 0, rounding_mode="trunc"),
    "bitwise_and of floats": lambda m: m.bitwise_and(m.ones(2), m.ones(2)),
    "bitwise_not of floats": lambda m: m.bitwise_not(m.ones(2)),
    "gcd of floats": lambda m: m.gcd(m.ones(2), m.ones(2)),
    "gcd of bools": lambda m: m.gcd(m.tensor([True]), m.tensor([True])),
    "logaddexp of ints": lambda m: m.logaddexp(m.tensor([1]), m.tensor([2])),
    "hypot of ints": lambda m: m.hypot(m.tensor([1]), m.tensor([2])),
    "frac of ints": lambda m: m.frac(m.tensor([1])),
    "logcumsumexp of ints": lambda m: m.logcumsumexp(m.tensor([1]), 0),
    "heaviside, two dtypes": lambda m: m.heaviside(m.ones(2), m.tensor([1])),
    "logaddexp shapes": lambda m: m.logaddexp(m.ones(2), m.ones(3)),
    "sin_ of ints": lambda m: m.tensor([1, 2]).sin_(),
    "in place on a leaf": lambda m: m.ones(2, requires_grad=True).sin_(),
    "in place reshape of a leaf": lambda m: m.ones(2, 3, requires_grad=True).t_(),
    "in place, wrong shape": lambda m: m.ones(3).hypot_(m.ones(2, 3)),
    "tensor_split of 0-d": lambda m: m.tensor_split(m.tensor(1.0), 2),
    "tensor_split 0 sections": lambda m: m.tensor_split(m.ones(3), 0),
    "tensor_split float indices": lambda m: m.tensor_split(m.ones(3), m.tensor([1.0])),
    "tensor_split, dim": lambda m: m.tensor_split(m.ones(3), 2, dim=1),
    "hsplit unequal": lambda m: m.hsplit(m.ones(2, 3), 2),
    "vsplit of a vector": lambda m: m.vsplit(m.ones(3), 3),
    "dsplit of a matrix": lambda m: m.dsplit(m.ones(3, 2), 2),
    "fliplr of a vector": lambda m: m.fliplr(m.ones(3)),
    "flipud of 0-d": lambda m: m.flipud(m.tensor(1.0)),
    "rot90 of a vector": lambda m: m.rot90(m.ones(3)),
    "rot90 one dim twice": lambda m: m.rot90(m.ones(2, 3), 1, [0, 0]),
    "rot90 three dims": lambda m: m.rot90(m.ones(2, 3), 1, [0, 1, 2]),
    "rot90 dim out of range": lambda m: m.rot90(m.ones(2, 3), 1, [0, 2]),
    "take out of range": lambda m: m.take(m.ones(2, 3), m.tensor([6])),
    "take below range": lambda m: m.take(m.ones(2, 3), m.tensor([-7])),
    "take int32 index": lambda m: m.take(m.ones(2), m.tensor([1], dtype=m.int32)),
    "diag_embed of 0-d": lambda m: m.diag_embed(m.tensor(2.0)),
    "diag_embed one dim twice": lambda m: m.diag_embed(m.ones(2), 0, 1, 1),
    "cross without 3": lambda m: m.cross(m.ones(4, 2), m.ones(4, 2)),
    "cross dim not 3": lambda m: m.cross(m.ones(3, 2), m.ones(3, 2), dim=1),
    "cross dtypes": lambda m: m.cross(m.tensor([1, 2, 3]), m.ones(3), dim=0),
    "cross shapes": lambda m: m.cross(m.ones(2, 3), m.ones(3, 3), dim=1),
    "sum_to_size not expandable": lambda m: m.ones(2, 3).sum_to_size(2),
    "sum_to_size longer": lambda m: m.ones(2, 3).sum_to_size(1, 2, 3),
    "is_nonzero of two": lambda m: m.is_nonzero(m.ones(2)),
    "aminmax of nothing": lambda m: m.aminmax(m.tensor([])),
    "aminmax of an empty dim": lambda m: m.aminmax(m.zeros(2, 0), dim=1),
    "cummax dim": lambda m: m.cummax(m.ones(2), 1),
    "searchsorted shapes": lambda m: m.searchsorted(m.ones(2, 3), m.ones(3)),
    "searchsorted side and right": lambda m: m.searchsorted(m.ones(3), m.ones(1), right=True,
                                                            side="left"),
    "bucketize 2-D boundaries": lambda m: m.bucketize(m.ones(2), m.ones(1, 2)),
    "isin of two numbers": lambda m: m.isin(2, 3),
    "atleast_1d of a number": lambda m: m.atleast_1d(2.0),
    "logit_ of ints": lambda m: m.tensor([1, 2]).logit_(),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_what_pytorch_refuses_is_refused(name):
    with pytest.raises(Exception) as theirs:
        ERRORS[name](torch)
    with pytest.raises(theirs.type):
        ERRORS[name](tg)


def test_cross_without_dim_warns_and_takes_the_first_dimension_of_three():
    a, b = _r(3, 2), _r(3, 2)
    with pytest.warns(UserWarning):
        ours = tg.cross(tg.tensor(a), tg.tensor(b))
    with warnings.catch_warnings():  # (PyTorch warns once a process)
        warnings.simplefilter("ignore")
        theirs = torch.cross(torch.tensor(a), torch.tensor(b))
    assert_same(ours, theirs, "cross without dim")


def test_the_add_and_sub_methods_with_alpha_as_pytorchs():
    results = []
    for m in (tg, torch):
        f, i = m.ones(2, dtype=m.float32), m.tensor([1, 2])
        results.append((f.add(i, alpha=2.5).dtype == m.float32, i.sub(i, alpha=2).tolist(),
                        f.clone().add_(i, alpha=0.5).tolist(), f.sub(i, alpha=0.5).tolist()))
        with pytest.raises(RuntimeError, match="alpha must not be a floating point"):
            i.add(i, alpha=2.5)
    assert results[0] == results[1]
