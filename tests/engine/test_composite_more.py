"""More of PyTorch's names (composite.py), without PyTorch: values held to their definitions in
NumPy and Python, gradients to finite differences, layouts, 0-d and empty shapes, and the
in-place forms' rules (test_composite_more_torch.py holds them against PyTorch itself)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import tensorgrad as tg
from tensorgrad import Tensor

RNG = np.random.default_rng(3)


def _leaf(*shape, low=-2.0, high=2.0):
    return Tensor(RNG.uniform(low, high, shape), requires_grad=True)


@pytest.mark.parametrize("fn, inputs", [
    (lambda a, b: tg.logaddexp(a, b), lambda: (_leaf(3, 4), _leaf(4))),
    (lambda a, b: tg.logaddexp2(a.t(), b), lambda: (_leaf(4, 3), _leaf(3, 4))),
    (lambda a, b: tg.hypot(a, b), lambda: (_leaf(3, 4, low=0.5), _leaf(3, 4, low=0.5))),
    (lambda a, b: tg.xlogy(a, b), lambda: (_leaf(3, 4), _leaf(4, low=0.5))),
    (lambda a: tg.logit(a), lambda: (_leaf(5, low=0.1, high=0.9),)),
    (lambda a: tg.logit(a, eps=0.2), lambda: (_leaf(5, low=0.25, high=0.75),)),
    (lambda a, b: tg.copysign(a, b), lambda: (_leaf(3, 4, low=0.1), _leaf(4))),
    (lambda a: tg.sinc(a), lambda: (_leaf(6),)),
    (lambda a: tg.erfc(a), lambda: (_leaf(6),)),
    (lambda a: tg.logcumsumexp(a, 1), lambda: (_leaf(3, 5),)),
    (lambda a: tg.logcumsumexp(a[::2], 0), lambda: (_leaf(5, 2),)),
    (lambda a: tg.cummax(a, 0).values, lambda: (_leaf(6, 2),)),
    (lambda a, b: tg.kron(a, b), lambda: (_leaf(2, 3), _leaf(2, 2))),
    (lambda a, b: tg.cross(a, b, dim=0), lambda: (_leaf(3, 2), _leaf(3, 2))),
    (lambda a: tg.diag_embed(a, 1), lambda: (_leaf(2, 3),)),
    (lambda a: tg.rot90(a, 3, (1, 0)), lambda: (_leaf(2, 3),)),
    (lambda a: a.sum_to_size(1, 3), lambda: (_leaf(2, 3),)),
    (lambda a, b: tg.add(a, b, alpha=-2.5) + tg.rsub(a, b, alpha=0.5), lambda: (_leaf(3),
                                                                             _leaf(3))),
])
def test_gradients_match_finite_differences(fn, inputs):
    assert tg.gradcheck(fn, *inputs(), reference="finite-difference")


def test_values_follow_their_definitions():
    x = RNG.uniform(-3, 3, (4, 5))
    y = RNG.uniform(-3, 3, (4, 5))
    t, u = Tensor(x), Tensor(y)
    np.testing.assert_allclose(tg.logaddexp(t, u).numpy(), np.log(np.exp(x) + np.exp(y)))
    np.testing.assert_allclose(tg.logaddexp2(t, u).numpy(), np.log2(2**x + 2**y))
    np.testing.assert_allclose(tg.hypot(t, u).numpy(), np.sqrt(x * x + y * y))
    np.testing.assert_allclose(tg.xlogy(t, abs(u)).numpy(), x * np.log(np.abs(y)))
    np.testing.assert_allclose(tg.erfc(t).numpy(), [[math.erfc(v) for v in r] for r in x])
    np.testing.assert_allclose(tg.sinc(t).numpy(), np.sinc(x))
    np.testing.assert_allclose(tg.frac(t).numpy(), x - np.trunc(x))
    np.testing.assert_allclose(tg.deg2rad(t).numpy(), np.deg2rad(x))
    np.testing.assert_allclose(tg.rad2deg(t).numpy(), np.rad2deg(x))
    np.testing.assert_allclose(tg.logcumsumexp(t, 1).numpy(),
                               np.log(np.cumsum(np.exp(x), axis=1)))
    np.testing.assert_allclose(tg.kron(t, u).numpy(), np.kron(x, y))
    np.testing.assert_allclose(tg.cross(t[:, :3], u[:, :3], dim=1).numpy(),
                               np.cross(x[:, :3], y[:, :3]))
    np.testing.assert_array_equal(tg.cummax(t, 1).values.numpy(), np.maximum.accumulate(x, 1))
    np.testing.assert_array_equal(tg.cummin(t, 0).values.numpy(), np.minimum.accumulate(x, 0))
    np.testing.assert_array_equal(tg.rot90(t).numpy(), np.rot90(x))
    np.testing.assert_array_equal(tg.rot90(t, -3, [1, 0]).numpy(), np.rot90(x, -3, (1, 0)))
    np.testing.assert_array_equal(tg.diag_embed(t).numpy()[2], np.diag(x[2]))
    np.testing.assert_array_equal(tg.diagflat(t[0], 2).numpy(), np.diagflat(x[0], 2))
    np.testing.assert_array_equal(tg.take(t, Tensor([[0, -1]])).numpy(), [[x[0, 0], x[-1, -1]]])
    np.testing.assert_array_equal(tg.column_stack([t[0], t[1]]).numpy(),
                                  np.column_stack([x[0], x[1]]))
    np.testing.assert_array_equal(tg.dstack([t, u]).numpy(), np.dstack([x, y]))
    for got, wanted in zip(tg.tensor_split(t, [1, 3], dim=1), np.split(x, [1, 3], axis=1)):
        np.testing.assert_array_equal(got.numpy(), wanted)
    assert [p.shape[0] for p in tg.tensor_split(tg.zeros(10), 4)] == [3, 3, 2, 2]


def test_extremes_and_searches_follow_their_definitions():
    x = np.array([[2.0, 5.0, 5.0, 1.0, 7.0], [0.0, -1.0, 0.0, -1.0, 3.0]])
    out = tg.cummax(Tensor(x), 1)
    assert out.indices.tolist() == [[0, 1, 2, 2, 4], [0, 0, 2, 2, 4]]  # ties: the last
    assert tg.cummin(Tensor(x), 1).indices.tolist() == [[0, 0, 0, 3, 3], [0, 1, 1, 3, 3]]
    low, high = tg.aminmax(Tensor(x), dim=1)
    assert low.tolist() == [1.0, -1.0] and high.tolist() == [7.0, 3.0]
    seq = np.array([1.0, 2.0, 2.0, 4.0])
    values = np.array([0.0, 1.0, 2.0, 3.0, 4.0, 9.0])
    for right, side in ((False, "left"), (True, "right")):
        assert tg.searchsorted(Tensor(seq), Tensor(values), right=right).tolist() == \
            np.searchsorted(seq, values, side).tolist()
    assert tg.bucketize(Tensor(values), Tensor(seq)).tolist() == [0, 0, 1, 3, 3, 4]
    assert tg.searchsorted(Tensor(seq), Tensor([np.nan])).tolist() == [4]  # NaN goes last
    assert tg.isin(Tensor([1, 5, 2]), Tensor([2, 1])).tolist() == [True, False, True]
    assert tg.gcd(Tensor([12, -8]), Tensor([18, 0])).tolist() == [6, 8]
    assert tg.lcm(Tensor([4, 0]), Tensor([6, 3])).tolist() == [12, 0]


def test_gradient_goes_to_the_chosen_entries():
    x = Tensor([1.0, 3.0, 3.0, 2.0], requires_grad=True)
    tg.cummax(x, 0).values.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0, 2.0, 0.0]
    x = Tensor([[1.0, 5.0], [5.0, 1.0]], requires_grad=True)
    low, high = tg.aminmax(x)
    (low + high).backward()  # tied extremes share, as amin and amax
    assert x.grad.tolist() == [[0.5, 0.5], [0.5, 0.5]]
    x = Tensor([2.0, -3.0], requires_grad=True)
    tg.div(x, 2.0, rounding_mode="trunc").sum().backward()
    assert x.grad.tolist() == [0.0, 0.0]


@pytest.mark.parametrize("layout", ["C", "F", "transposed", "sliced", "0-d", "empty"])
def test_elementwise_results_keep_each_entry_whatever_the_layout(layout):
    base = RNG.uniform(-3, 3, (6, 4))
    base[1, :4] = [np.nan, np.inf, -np.inf, 0.0]
    x = {"C": base, "F": np.asfortranarray(base), "transposed": base.T,
         "sliced": base[::2, 1::2], "0-d": np.array(0.75), "empty": base[:0]}[layout]
    other = np.array(0.5)  # (broadcast: each entry alone meets the same)
    for fn in (tg.erfc, tg.sinc, tg.signbit, tg.isposinf, tg.isneginf, tg.deg2rad,
               lambda t: tg.logaddexp(t, Tensor(other)), lambda t: tg.hypot(t, Tensor(other)),
               lambda t: tg.xlogy(t, Tensor(other)), lambda t: tg.copysign(Tensor(other), t),
               lambda t: tg.logit(t, 0.1), tg.frac):
        with np.errstate(all="ignore"):
            got = fn(Tensor(x)).numpy()
            alone = [fn(Tensor(np.array(v))).item() for v in x.ravel()]  # each by itself
        assert got.shape == x.shape
        np.testing.assert_array_equal(got.ravel(), np.array(alone, got.dtype))


def test_in_place_forms_write_into_the_tensor_and_keep_its_rules():
    x = Tensor([0.5, -0.25])
    view = x[:1]
    assert x.sin_() is x and view.item() == math.sin(0.5)  # the same memory
    assert x.eq_(x).tolist() == [1.0, 1.0] and x.dtype == np.float64
    n = Tensor([3, -4])
    with pytest.raises(RuntimeError, match="can't be cast"):
        n.erfc_()
    assert n.bitwise_xor_(Tensor([1, 1])).tolist() == [2, -3]
    with pytest.raises(RuntimeError, match="leaf"):
        Tensor([1.0], requires_grad=True).log1p_()
    w = Tensor(np.ones((2, 3)), requires_grad=True)
    with tg.no_grad():
        assert w.t_() is w and w.shape == (3, 2)
    m = Tensor(np.arange(6.0).reshape(2, 1, 3))
    memory = m.data_ptr()
    m.squeeze_().unsqueeze_(0).transpose_(0, 2)
    assert m.shape == (3, 2, 1) and m.data_ptr() == memory
    assert m[:, :, 0].tolist() == [[0.0, 3.0], [1.0, 4.0], [2.0, 5.0]]


def test_errors_name_the_problem():
    with pytest.raises(RuntimeError, match="rounding_mode"):
        tg.div(tg.ones(1), 2, rounding_mode="up")
    with pytest.raises(RuntimeError, match="alpha"):
        tg.add(Tensor([1]), Tensor([2]), alpha=0.5)
    with pytest.raises(NotImplementedError, match="Float|Double"):
        tg.bitwise_or(tg.ones(2), tg.ones(2))
    with pytest.raises(RuntimeError, match="sections"):
        tg.tensor_split(tg.ones(3), -1)
    with pytest.raises(RuntimeError, match="divisible"):
        tg.hsplit(tg.ones(2, 5), 2)
    with pytest.raises(IndexError, match="out of range"):
        tg.take(tg.ones(2), Tensor([2]))
    with pytest.raises(RuntimeError, match="expandable"):
        tg.ones(2, 3).sum_to_size(3, 3)
    with pytest.raises(RuntimeError, match="identical"):
        tg.diag_embed(tg.ones(2), 0, 0, -2)
    with pytest.raises(RuntimeError, match="length 3"):
        tg.cross(tg.ones(2, 2), tg.ones(2, 2), dim=0)
    with pytest.raises(RuntimeError, match="1 dimension"):
        tg.bucketize(tg.ones(2), tg.ones(2, 2))
    with pytest.raises(RuntimeError, match="heaviside"):
        tg.heaviside(Tensor([0.0], requires_grad=True), Tensor([1.0])).sum().backward()
