"""The activations and losses beside PyTorch's common ones, without torch: each value and
slope against its formula written out in NumPy (the kinks, NaN and the infinities as
PyTorch gives them, written down here), every gradient by ``gradcheck``, memory layouts,
float32, size-0 batches, in-place writes, the modules, and the refusals
(``test_activations_losses_torch.py`` holds them against PyTorch itself)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import tensorgrad
import tensorgrad.nn as nn
from tensorgrad import Tensor
from tensorgrad.nn import functional as F

rng = np.random.default_rng(0)
# kl_div's "mean" warns, as PyTorch's (its own test asks for the warning)
pytestmark = pytest.mark.filterwarnings("ignore:reduction. 'mean' divides:UserWarning")
SELU_ALPHA, SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
INF, NAN = math.inf, math.nan


def run(fn, *arrays, upstream=None):
    """fn on leaves holding ``arrays`` (the floating ones require grad): its value and each
    leaf's gradient for ``upstream`` (ones by default)."""
    leaves = [Tensor(a, requires_grad=np.asarray(a).dtype.kind == "f") for a in arrays]
    out = fn(*leaves)
    out.backward(np.ones(out.shape, out.dtype) if upstream is None else upstream)
    return out.data, [t.grad for t in leaves]


def check(fn, *arrays):
    """``gradcheck`` of fn by central differences (the fused ops' forwards are NumPy's)."""
    leaves = [Tensor(np.asarray(a, np.float64), requires_grad=True) for a in arrays]
    assert tensorgrad.gradcheck(fn, *leaves, reference="finite-difference")


# ---- activations: each value and slope written out ----------------------------------------------


def selu(x):
    return SELU_SCALE * x if x > 0 else SELU_SCALE * SELU_ALPHA * math.expm1(x)


def selu_slope(x):  # (the left slope at 0; NaN takes the right one)
    return SELU_SCALE * SELU_ALPHA * math.exp(x) if x <= 0 else SELU_SCALE


def hardswish(x):
    return x * min(max(x + 3, 0), 6) / 6


def hardswish_slope(x):  # 0 at -3 itself, 1 at 3 itself
    return 0.0 if x <= -3 else x / 3 + 0.5 if x < 3 else 1.0


# name: (function, its value, its slope), each of one float
ACTIVATIONS = {
    "selu": (F.selu, selu, selu_slope),
    "celu": (lambda t: F.celu(t, 0.5), lambda x: x if x > 0 else 0.5 * math.expm1(x / 0.5),
             lambda x: math.exp(x / 0.5) if x <= 0 else 1.0),
    "hardswish": (F.hardswish, hardswish, hardswish_slope),
    "hardsigmoid": (F.hardsigmoid, lambda x: min(max(x + 3, 0), 6) / 6,
                    lambda x: 1 / 6 if -3 < x < 3 else 0.0),
    "softsign": (F.softsign, lambda x: x / (1 + abs(x)), lambda x: 1 / (1 + abs(x)) ** 2),
    "tanhshrink": (F.tanhshrink, lambda x: x - math.tanh(x), lambda x: math.tanh(x) ** 2),
    "softshrink": (lambda t: F.softshrink(t, 1.0),
                   lambda x: x - 1 if x > 1 else x + 1 if x < -1 else 0.0,
                   lambda x: 0.0 if -1 <= x <= 1 else 1.0),
    "hardshrink": (lambda t: F.hardshrink(t, 1.0), lambda x: 0.0 if -1 <= x <= 1 else x,
                   lambda x: 0.0 if -1 <= x <= 1 else 1.0),
    "threshold": (lambda t: F.threshold(t, 1.0, -7.0), lambda x: x if x > 1 else -7.0,
                  lambda x: 1.0 if x > 1 else 0.0),
    "prelu": (lambda t: F.prelu(t, Tensor(np.array([0.3], t.dtype))),
              lambda x: x if x > 0 else 0.3 * x, lambda x: 1.0 if x > 0 else 0.3),
}
# each kink (0, +-1, +-3) and either side of it
KINKS = np.array([-3.5, -3.0, -2.5, -1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.5, 3.0, 3.5])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activations_are_their_formulas_at_the_kinks_and_between(name, dtype):
    fn, value, slope = ACTIVATIONS[name]
    out, (grad,) = run(fn, KINKS.astype(dtype))
    rtol = 1e-15 if dtype == np.float64 else 1e-6
    np.testing.assert_allclose(out, [value(x) for x in KINKS], rtol=rtol, atol=rtol)
    np.testing.assert_allclose(grad, [slope(x) for x in KINKS], rtol=rtol, atol=rtol)
    assert out.dtype == grad.dtype == dtype


SPECIAL = np.array([-INF, INF, NAN])
E = math.e
# at -inf, inf and NaN: each value and slope as PyTorch gives them (its scalar path: its
# vectorized one gives the slope 0 at NaN for selu, celu, hardswish and the shrinks)
AT_SPECIAL = {
    "selu": ([-SELU_SCALE * SELU_ALPHA, INF, NAN], [0, SELU_SCALE, SELU_SCALE]),
    "celu": ([-0.5, INF, NAN], [0, 1, 1]),
    "hardswish": ([NAN, INF, NAN], [0, 1, 1]),  # -inf * 0
    "hardsigmoid": ([0, 1, NAN], [0, 0, 0]),
    "softsign": ([NAN, NAN, NAN], [NAN, NAN, NAN]),  # inf / inf
    "tanhshrink": ([-INF, INF, NAN], [1, 1, NAN]),
    "softshrink": ([-INF, INF, NAN], [1, 1, 1]),
    "hardshrink": ([-INF, INF, NAN], [1, 1, 1]),
    "threshold": ([-7, INF, NAN], [0, 1, 1]),
    "prelu": ([-INF, INF, NAN], [0.3, 1, 0.3]),
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", list(AT_SPECIAL))
def test_activations_at_the_infinities_and_nan_as_pytorchs(name, dtype):
    values, slopes = AT_SPECIAL[name]
    out, (grad,) = run(ACTIVATIONS[name][0], SPECIAL.astype(dtype))
    np.testing.assert_allclose(out, values, rtol=1e-7)
    np.testing.assert_allclose(grad, slopes, rtol=1e-7)


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation_gradients_check(name):
    x = rng.uniform(-4, 4, (3, 5))
    x[np.abs(np.abs(x) - np.round(np.abs(x))) < 0.01] += 0.05  # away from the kinks
    check(ACTIVATIONS[name][0], x)


def test_prelu_takes_a_slope_per_channel_and_checks_its_weights_gradient():
    x, w = rng.standard_normal((2, 3, 4)), np.array([0.1, -0.5, 2.0])
    out, (grad_x, grad_w) = run(F.prelu, x, w)
    expected = np.where(x > 0, x, x * w[:, None])
    np.testing.assert_allclose(out, expected, rtol=1e-15)
    np.testing.assert_allclose(grad_x, np.where(x > 0, 1, np.broadcast_to(w[:, None], x.shape)))
    np.testing.assert_allclose(grad_w, np.where(x > 0, 0, x).sum(axis=(0, 2)), rtol=1e-14)
    check(F.prelu, x, w)
    check(F.prelu, x[0, :, 0], np.array([0.25]))  # one slope for all
    check(F.prelu, np.array(-2.0), np.array(0.25))
    out, (_, grad_w) = run(F.prelu, np.zeros((0, 3)), w)  # no rows: no slope's gradient
    assert out.shape == (0, 3) and grad_w.tolist() == [0, 0, 0]


def test_glu_is_the_first_half_gated_by_the_second_and_checks():
    x = rng.standard_normal((4, 6))
    out, _ = run(lambda t: F.glu(t, 0), x)
    np.testing.assert_allclose(out, x[:2] / (1 + np.exp(-x[2:])), rtol=1e-15)
    check(F.glu, x)
    check(lambda t: F.glu(t, 0), x)
    assert F.glu(Tensor(np.zeros((0, 4)))).shape == (0, 2)


def test_softmin_is_the_softmax_of_minus_x_and_checks():
    x = rng.standard_normal((3, 4))
    weights = np.exp(-x) / np.exp(-x).sum(1, keepdims=True)
    np.testing.assert_allclose(F.softmin(Tensor(x), 1).data, weights, rtol=1e-15)
    assert F.softmin(Tensor(x.astype(np.float32)), 0, dtype=tensorgrad.float64).dtype == \
        np.float64
    check(lambda t: F.softmin(t, 0), x)
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmin") as caught:
        implicit = F.softmin(Tensor(x))
    assert caught[0].filename == __file__  # (the caller's line, as PyTorch's)
    np.testing.assert_allclose(implicit.data, weights, rtol=1e-15)  # 2-d: dim 1


def test_activations_of_views_are_those_of_their_copies():
    base = rng.uniform(-4, 4, (6, 4))
    for view in (base.T, base[::2], np.asfortranarray(base), base[::-1, ::-1]):
        upstream = rng.standard_normal(view.shape)
        for fn in [f for f, _, _ in ACTIVATIONS.values()] + [F.glu]:
            out, (grad,) = run(fn, view, upstream=upstream if fn is not F.glu else None)
            copy_out, (copy_grad,) = run(fn, view.copy(),
                                         upstream=upstream if fn is not F.glu else None)
            np.testing.assert_array_equal(out, copy_out)
            np.testing.assert_array_equal(grad, copy_grad)


def test_inplace_writes_into_results_and_their_views_and_refuses_leaves():
    for write in (lambda t: F.selu(t, True), lambda t: F.celu(t, 2.0, True),
                  lambda t: F.hardswish(t, True), lambda t: F.hardsigmoid(t, True),
                  lambda t: F.threshold(t, 0.0, 5.0, True)):
        x = Tensor([-1.0, 2.0])
        expected = write(Tensor([-1.0, 2.0])).tolist()
        assert write(x) is x and x.tolist() == expected
        with pytest.raises(RuntimeError, match="in-place"):
            write(Tensor([1.0], requires_grad=True))
    for module in (nn.SELU(True), nn.CELU(inplace=True), nn.Hardswish(True),
                   nn.Hardsigmoid(True), nn.Threshold(0.0, 5.0, True)):
        x = Tensor([-1.0, 2.0], requires_grad=True)
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
            module(x)  # as PyTorch's
        h = x * 1
        assert module(h) is h  # a result in the graph: the write recorded
        base = x * 1
        view = base[None]  # a view of another one: written, its base's history rewritten
        assert module(view) is view and base.tolist() == view.tolist()[0] != [-1.0, 2.0]
        with tensorgrad.no_grad():
            assert module(x) is x


def test_integer_inputs_where_pytorch_takes_them():
    ints = Tensor(np.array([-3, 0, 2]))
    np.testing.assert_allclose(F.softsign(ints).data, [-0.75, 0, 2 / 3], rtol=1e-15)
    assert F.tanhshrink(ints).dtype == np.float64
    # the value cast to the integers, the threshold truncated (0), as PyTorch's
    assert F.threshold(ints, -0.5, 9.7).tolist() == [9, 9, 2]
    for fn in (F.selu, F.hardswish, F.glu, F.softshrink):  # (PyTorch's kernels' error type)
        with pytest.raises(NotImplementedError, match="floating"):
            fn(Tensor(np.array([1, 2])))
    with pytest.raises(NotImplementedError, match="floating"):  # (PyTorch's softmax kernel's)
        F.softmin(Tensor(np.array([1, 2])), 0)


def test_bad_activation_arguments_raise_pytorchs_errors():
    x = Tensor(np.zeros((2, 3)))
    with pytest.raises(RuntimeError, match="Halving dimension must be even, but dimension 1 "
                                           "is size 3"):
        F.glu(x)
    with pytest.raises(RuntimeError, match="glu does not support scalars"):
        F.glu(Tensor(1.0))
    with pytest.raises(RuntimeError, match="alpha cannot be 0 for CELU"):
        F.celu(x, 0.0)
    with pytest.raises(RuntimeError, match=r"lambda must be in range \[0, 3.40282e\+38\] for "
                                           "input dtype Float, but found -0.5"):
        F.softshrink(x.float(), -0.5)
    assert F.hardshrink(Tensor([-1.0, 0.25]), -0.5).tolist() == [-1.0, 0.25]  # (allowed)
    with pytest.raises(RuntimeError, match="Found parameter numbers = 2 and channel size = 3"):
        F.prelu(x, Tensor(np.ones(2)))
    with pytest.raises(RuntimeError, match="Found parameter numbers = 3 and channel size = 1"):
        F.prelu(Tensor(np.ones(4)), Tensor(np.ones(3)))
    with pytest.raises(RuntimeError, match="scalar or 1D tensor, but got: ndim = 2"):
        F.prelu(x, Tensor(np.ones((3, 1))))
    with pytest.raises(RuntimeError, match="Type promoting not supported. Got Float and Double"):
        F.prelu(x.float(), Tensor(np.ones(3)))
    with pytest.raises(RuntimeError, match="Not allow zero-dim input tensor"):
        F.prelu(Tensor(1.0), Tensor(np.ones(3)))


def test_the_activation_modules_print_as_pytorchs_and_hold_their_settings():
    reprs = {nn.PReLU(): "PReLU(num_parameters=1)", nn.PReLU(3, 0.1): "PReLU(num_parameters=3)",
             nn.SELU(): "SELU()", nn.SELU(True): "SELU(inplace=True)",
             nn.CELU(0.5, True): "CELU(alpha=0.5, inplace=True)", nn.CELU(): "CELU(alpha=1.0)",
             nn.Hardswish(True): "Hardswish()", nn.Hardsigmoid(True): "Hardsigmoid()",
             nn.GLU(): "GLU(dim=-1)", nn.Softsign(): "Softsign()",
             nn.Softmin(): "Softmin(dim=None)", nn.Softmin(1): "Softmin(dim=1)",
             nn.Tanhshrink(): "Tanhshrink()",
             nn.Softshrink(): "Softshrink(0.5)", nn.Hardshrink(0.3): "Hardshrink(0.3)",
             nn.Threshold(0.1, 20): "Threshold(threshold=0.1, value=20)",
             nn.Threshold(0.1, 2.0, True): "Threshold(threshold=0.1, value=2.0, inplace=True)"}
    for module, text in reprs.items():
        assert repr(module) == text
    prelu = nn.PReLU(3, 0.1)
    assert [name for name, _ in prelu.named_parameters()] == ["weight"]
    assert prelu.weight.tolist() == [0.1, 0.1, 0.1] and prelu.weight.dtype == np.float64
    assert nn.PReLU(2, 1, dtype=tensorgrad.float32).weight.dtype == np.float32
    prelu.weight.data[...] = 2.0
    prelu.reset_parameters()
    assert prelu.weight.tolist() == [0.1, 0.1, 0.1]
    x = Tensor(rng.standard_normal((2, 3)))
    assert tensorgrad.equal(prelu(x), F.prelu(x, prelu.weight))
    assert tensorgrad.equal(nn.Softshrink(0.2)(x), F.softshrink(x, 0.2))
    assert tensorgrad.equal(nn.GLU(0)(x), F.glu(x, 0))
    assert tensorgrad.equal(nn.CELU(0.5)(x), F.celu(x, 0.5))
    assert tensorgrad.equal(nn.Threshold(0.5, -1.0)(x), F.threshold(x, 0.5, -1.0))
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmin"):
        assert tensorgrad.equal(nn.Softmin()(x), F.softmin(x, 1))


# ---- losses: each value written out, every gradient checked -------------------------------------


def reduced(losses: np.ndarray, reduction: str):
    if reduction == "none":
        return losses
    return losses.sum() if reduction == "sum" else losses.mean()


def xlogx(t):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(t == 0, 0, t * np.log(t))


def cosine(a, b):
    return (a * b).sum(-1) / np.sqrt(((a * a).sum(-1) + 1e-12) * ((b * b).sum(-1) + 1e-12))


def distance(a, b, p=2.0, eps=1e-6):
    return (np.abs(a - b + eps) ** p).sum(-1) ** (1 / p)


def log_sigmoid(x):
    return -np.logaddexp(0, -x)


N = 5
X, T, NEGATIVE = rng.standard_normal((N, 4)), rng.uniform(0.1, 1, (N, 4)), rng.random((N, 4))
P = T / T.sum(1, keepdims=True)  # probabilities
Y = np.array([1.0, -1.0, 1.0, -1.0, 1.0])
PAIRS = np.array([1.0, -1.0, 0.0, -1.0, 1.0])  # similar, dissimilar, neither
COUNTS = np.array([[0.0, 1.0, 2.0, 5.0]] * N)
VAR = rng.uniform(0.5, 2, (N, 4))
W = np.array([0.5, 1.0, 2.0, 1.5])

# name: (our loss of reduction r, the arrays, their loss written out before the reduction)
LOSSES = {
    "kl_div": (lambda r: lambda x, t: F.kl_div(x, t, reduction=r), (X, P),
               lambda x, t: xlogx(t) - t * x),
    "kl_div, log_target": (lambda r: lambda x, t: F.kl_div(x, t, reduction=r, log_target=True),
                           (X, np.log(P)), lambda x, t: np.exp(t) * (t - x)),
    "margin_ranking_loss": (
        lambda r: lambda a, b, y: F.margin_ranking_loss(a, b, y, 0.3, reduction=r),
        (X[:, 0], X[:, 1], Y), lambda a, b, y: np.maximum(0, -y * (a - b) + 0.3)),
    "cosine_embedding_loss": (
        lambda r: lambda a, b: F.cosine_embedding_loss(a, b, Tensor(PAIRS), 0.1, reduction=r),
        (X, T - 0.5), lambda a, b: np.where(PAIRS == 1, 1 - cosine(a, b), np.where(
            PAIRS == -1, np.maximum(0, cosine(a, b) - 0.1), 0))),
    "triplet_margin_loss": (
        lambda r: lambda a, p, n: F.triplet_margin_loss(a, p, n, 2.0, reduction=r),
        (X, T, NEGATIVE), lambda a, p, n: np.maximum(0, distance(a, p) - distance(a, n) + 2.0)),
    "triplet_margin_loss, p=1, swap": (
        lambda r: lambda a, p, n: F.triplet_margin_loss(a, p, n, 2.0, 1, 0.0, True,
                                                        reduction=r),
        (X, T, NEGATIVE),
        lambda a, p, n: np.maximum(0, distance(a, p, 1, 0) + 2.0 -
                                   np.minimum(distance(a, n, 1, 0), distance(p, n, 1, 0)))),
    "soft_margin_loss": (lambda r: lambda x: F.soft_margin_loss(x, Tensor(np.sign(T - 0.5)),
                                                                reduction=r),
                         (X,), lambda x: np.log1p(np.exp(-np.sign(T - 0.5) * x))),
    "multilabel_soft_margin_loss": (
        lambda r: lambda x, t, w: F.multilabel_soft_margin_loss(x, t, w, reduction=r),
        (X, (T > 0.5) * 1.0, W),
        lambda x, t, w: -(w * (t * log_sigmoid(x) + (1 - t) * log_sigmoid(-x))).mean(-1)),
    "poisson_nll_loss": (lambda r: lambda x, t: F.poisson_nll_loss(x, t, reduction=r),
                         (X, COUNTS), lambda x, t: np.exp(x) - t * x),
    "poisson_nll_loss, rates, full": (
        lambda r: lambda x: F.poisson_nll_loss(x, Tensor(COUNTS.astype(x.dtype)), False, True,
                                               eps=0.1, reduction=r),
        (T,), lambda x: x - COUNTS * np.log(x + 0.1) + np.where(
            COUNTS > 1, xlogx(COUNTS) - COUNTS + 0.5 * np.log(2 * math.pi * COUNTS + 1e-300),
            0)),
    "gaussian_nll_loss": (
        lambda r: lambda x, t, v: F.gaussian_nll_loss(x, t, v, reduction=r), (X, T, VAR),
        lambda x, t, v: 0.5 * (np.log(v) + (x - t) ** 2 / v)),
    "gaussian_nll_loss, a var per row, full": (
        lambda r: lambda x, t, v: F.gaussian_nll_loss(x, t, v, True, reduction=r),
        (X, T, VAR[:, 0]),
        lambda x, t, v: 0.5 * (np.log(v[:, None]) + (x - t) ** 2 / v[:, None] +
                               math.log(2 * math.pi))),
}


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("name", list(LOSSES))
def test_losses_are_their_formulas_and_their_gradients_check(name, reduction):
    loss, arrays, formula = LOSSES[name]
    out = loss(reduction)(*(Tensor(a) for a in arrays))
    np.testing.assert_allclose(out.data, reduced(formula(*arrays), reduction), rtol=1e-13)
    check(loss(reduction), *arrays)


def test_losses_keep_float32_and_of_views_are_those_of_their_copies():
    for name, (loss, arrays, _) in LOSSES.items():
        out, grads = run(loss("sum"), *(a.astype(np.float32) for a in arrays))
        assert out.dtype == np.float32 and all(g.dtype == np.float32 for g in grads), name
        views = [np.asfortranarray(a) if a.ndim > 1 else a[::-1][::-1] for a in arrays]
        out, grads = run(loss("none"), *views)
        copy_out, copy_grads = run(loss("none"), *(a.copy() for a in arrays))
        np.testing.assert_array_equal(out, copy_out, err_msg=name)
        for g, copy_g in zip(grads, copy_grads):
            np.testing.assert_array_equal(g, copy_g, err_msg=name)


def test_kl_div_batchmean_divides_by_the_batch_and_warns_at_mean():
    x, t = Tensor(X), Tensor(P)
    total = (xlogx(P) - P * X).sum()
    assert math.isclose(F.kl_div(x, t, reduction="batchmean").item(), total / N, rel_tol=1e-14)
    with pytest.warns(UserWarning, match="'batchmean' divides only by the batch size"):
        assert math.isclose(F.kl_div(x, t).item(), total / P.size, rel_tol=1e-14)
    check(lambda a, b: F.kl_div(a, b, reduction="batchmean"), X, P)
    assert math.isclose(nn.KLDivLoss(reduction="batchmean", log_target=True)(
        x, Tensor(np.log(P))).item(), total / N, rel_tol=1e-14)
    assert math.isclose(F.kl_div(Tensor(0.5), Tensor(0.25), reduction="batchmean").item(),
                        0.25 * (math.log(0.25) - 0.5), rel_tol=1e-15)  # 0-d: no division


def test_kl_div_at_a_zero_target_and_soft_margin_far_out_as_pytorchs():
    out, (grad_x, grad_t) = run(lambda x, t: F.kl_div(x, t, reduction="none"),
                                np.array([-1.0, -1.0, 2.0]), np.array([0.0, 0.5, -1.0]))
    # 0 log 0 is 0; the target's slope there NaN (xlogy's, as PyTorch takes it); below 0 NaN
    np.testing.assert_array_equal(out[:1], [0.0])
    assert math.isclose(out[1], 0.5 * (math.log(0.5) + 1)) and math.isnan(out[2])
    np.testing.assert_array_equal(grad_x, [-0.0, -0.5, 1.0])
    assert math.isnan(grad_t[0]) and math.isclose(grad_t[1], math.log(0.5) + 1 + 1)
    with np.errstate(all="ignore"):
        out, (grad,) = run(lambda x: F.soft_margin_loss(x, Tensor(np.ones(4)), reduction="none"),
                           np.array([-800.0, -30.0, 0.0, 800.0]))
    # PyTorch's log1p(exp(-y x)): inf where exp overflows, and a NaN slope there
    assert out[0] == INF and math.isclose(out[1], 30.0) and out[3] == 0.0
    assert math.isnan(grad[0]) and math.isclose(grad[1], -1.0) and grad[2] == -0.5


def test_cosine_embedding_loss_counts_only_targets_of_one_and_minus_one():
    a = Tensor(np.array([[1.0, 2.0]] * 3))
    out = F.cosine_embedding_loss(a, a, Tensor([1.0, -1.0, 0.0]), 0.5, reduction="none")
    np.testing.assert_allclose(out.data, [0.0, 0.5, 0.0], atol=1e-12)  # (the 1e-12s)


def test_margin_ranking_loss_at_its_kink_takes_the_slope_of_the_line():
    # -y (a - b) + margin = 0 exactly: PyTorch's clamp_min passes the gradient there
    out, (grad_a, grad_b, grad_y) = run(
        lambda a, b, y: F.margin_ranking_loss(a, b, y, 0.5, reduction="none"),
        np.array([1.0, 1.0]), np.array([0.5, 0.0]), np.array([1.0, 1.0]))
    np.testing.assert_array_equal(out, [0.0, 0.0])
    np.testing.assert_array_equal(grad_a, [-1.0, 0.0])
    np.testing.assert_array_equal(grad_b, [1.0, 0.0])
    np.testing.assert_array_equal(grad_y, [-0.5, 0.0])


def test_poisson_full_adds_stirling_only_beyond_one():
    counts = np.array([0.0, 1.0, 3.0])
    out, _ = run(lambda x: F.poisson_nll_loss(x, Tensor(counts), full=True, reduction="none"),
                 np.zeros(3))
    stirling = 3 * math.log(3) - 3 + 0.5 * math.log(2 * math.pi * 3)
    np.testing.assert_allclose(out, [1.0, 1.0, 1.0 + stirling], rtol=1e-15)


def test_gaussian_nll_loss_floors_var_at_eps_outside_the_graph():
    var = np.array([0.0, 1e-9, 2.0])
    out, (_, _, grad_var) = run(lambda x, t, v: F.gaussian_nll_loss(x, t, v, eps=1e-3,
                                                                    reduction="sum"),
                                np.ones(3), np.zeros(3), var)
    floored = np.maximum(var, 1e-3)
    assert math.isclose(out, (0.5 * (np.log(floored) + 1 / floored)).sum(), rel_tol=1e-14)
    # the gradient of the floored value, passed to var as if it were not floored
    np.testing.assert_allclose(grad_var, 0.5 * (1 / floored - 1 / floored ** 2), rtol=1e-14)
    scalar = F.gaussian_nll_loss(Tensor(X), Tensor(T), 0.5, reduction="none")
    np.testing.assert_allclose(scalar.data, 0.5 * (math.log(0.5) + (X - T) ** 2 / 0.5))


def test_distances_are_their_formulas_and_check():
    a, b = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    for p in (2.0, 1.0, 3.0, 0.5):
        out = F.pairwise_distance(Tensor(a), Tensor(b), p)
        np.testing.assert_allclose(out.data, distance(a, b, p), rtol=1e-14)
        check(lambda x, y, p=p: F.pairwise_distance(x, y, p), a, b)
    np.testing.assert_allclose(F.pairwise_distance(Tensor(a), Tensor(b), INF).data,
                               np.abs(a - b + 1e-6).max(-1), rtol=1e-15)
    assert F.pairwise_distance(Tensor(a), Tensor(b), keepdim=True).shape == (4, 1)
    assert F.pairwise_distance(Tensor(a[0]), Tensor(b)).shape == (4,)  # broadcast
    assert math.isclose(F.pairwise_distance(Tensor(1.0), Tensor(3.0)).item(), 2 - 1e-6)
    module = nn.PairwiseDistance(1.0, 0.0, True)
    np.testing.assert_allclose(module(Tensor(a), Tensor(b)).data,
                               np.abs(a - b).sum(-1, keepdims=True), rtol=1e-15)
    similarity = nn.CosineSimilarity(dim=0)(Tensor(a), Tensor(b))
    np.testing.assert_allclose(similarity.data, F.cosine_similarity(Tensor(a), Tensor(b),
                                                                     0).data)


# (those whose targets are constants made for N rows have their own size-0 test with torch)
@pytest.mark.parametrize("name", [name for name in LOSSES if not name.startswith(
    ("cosine", "soft_margin", "poisson_nll_loss, rates"))])
def test_losses_of_size_0_batches(name):
    loss, arrays, _ = LOSSES[name]
    empty = [a if a is W else a[:0] for a in arrays]  # (the class weights are no batch)
    with np.errstate(all="ignore"):
        assert loss("sum")(*(Tensor(a) for a in empty)).item() == 0
        assert math.isnan(loss("mean")(*(Tensor(a) for a in empty)).item())
        out, grads = run(loss("none"), *empty)
    assert out.numel() == 0 and all(g.shape == a.shape for g, a in zip(grads, empty))


def test_the_loss_modules_call_their_functions_and_print_their_names():
    modules = [(nn.KLDivLoss(reduction="sum"), (X, P), F.kl_div, dict(reduction="sum")),
               (nn.MarginRankingLoss(0.5), (X[:, 0], X[:, 1], Y), F.margin_ranking_loss,
                dict(margin=0.5)),
               (nn.CosineEmbeddingLoss(0.2), (X, T, Y), F.cosine_embedding_loss,
                dict(margin=0.2)),
               (nn.TripletMarginLoss(0.5, 1.0, 0.1, True), (X, T, NEGATIVE),
                F.triplet_margin_loss, dict(margin=0.5, p=1.0, eps=0.1, swap=True)),
               (nn.SoftMarginLoss(reduction="none"), (X, np.sign(T - 0.5)), F.soft_margin_loss,
                dict(reduction="none")),
               (nn.MultiLabelSoftMarginLoss(Tensor(W)), (X, T > 0.5),
                F.multilabel_soft_margin_loss, dict(weight=Tensor(W))),
               (nn.PoissonNLLLoss(False, True, eps=0.1), (T, COUNTS), F.poisson_nll_loss,
                dict(log_input=False, full=True, eps=0.1)),
               (nn.GaussianNLLLoss(full=True, eps=0.1), (X, T, VAR), F.gaussian_nll_loss,
                dict(full=True, eps=0.1))]
    for module, arrays, fn, settings in modules:
        tensors = [Tensor(np.asarray(a, np.float64)) for a in arrays]
        assert tensorgrad.equal(module(*tensors), fn(*tensors, **settings)), repr(module)
        assert repr(module) == type(module).__name__ + "()"
    assert list(nn.MultiLabelSoftMarginLoss(Tensor(W)).state_dict()) == ["weight"]
    with pytest.raises(ValueError, match="TripletMarginLoss: expected margin to be greater "
                                         "than 0, got 0 instead"):
        nn.TripletMarginLoss(margin=0)
    with pytest.raises(TypeError):
        nn.GaussianNLLLoss(True)  # (keyword-only, as PyTorch's)


def test_the_deprecated_reduction_arguments_warn_and_mean_what_they_meant():
    for size_average, reduce, meant in [(False, None, "sum"), (None, False, "none"),
                                        (True, True, "mean")]:
        for module in (nn.KLDivLoss, nn.MarginRankingLoss, nn.CosineEmbeddingLoss,
                       nn.TripletMarginLoss, nn.SoftMarginLoss, nn.MultiLabelSoftMarginLoss,
                       nn.PoissonNLLLoss):
            with pytest.warns(UserWarning, match=f"please use reduction='{meant}'"):
                assert module(size_average=size_average, reduce=reduce).reduction == meant
        with pytest.warns(UserWarning, match="size_average and reduce"):
            legacy = F.soft_margin_loss(Tensor(X), Tensor(Y[:, None]), size_average,
                                        reduce)
        assert tensorgrad.equal(legacy, F.soft_margin_loss(Tensor(X), Tensor(Y[:, None]),
                                                           reduction=meant))


def test_bad_loss_arguments_raise_pytorchs_errors():
    z = Tensor(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="^bad is not a valid value for reduction$"):
        F.kl_div(z, z, reduction="bad")
    with pytest.raises(ValueError, match="^batchmean is not valid$"):
        F.multilabel_soft_margin_loss(z, z, reduction="batchmean")
    with pytest.raises(RuntimeError, match="kl_div: Integral inputs not supported"):
        F.kl_div(z, Tensor(np.zeros((2, 3), np.int64)))
    with pytest.raises(RuntimeError, match="All input tensors should have same dimension"):
        F.margin_ranking_loss(z[0], z[0], z)
    with pytest.raises(RuntimeError, match="0D target tensor expects 1D input tensors, but "
                                           r"found inputs with sizes \[2, 3\] and \[2, 3\]"):
        F.cosine_embedding_loss(z, z, Tensor(1.0))
    with pytest.raises(RuntimeError, match="multi-target not supported"):
        F.cosine_embedding_loss(z, z, z)
    with pytest.raises(RuntimeError, match="anchor 2D, positive 2D, and negative 1D inputs"):
        F.triplet_margin_loss(z, z, z[0])
    with pytest.raises(ValueError, match="margin must be greater than 0, got -1"):
        F.triplet_margin_loss(z, z, z, margin=-1)
    with pytest.raises(RuntimeError, match="not differentiable with respect to argument "
                                           "'target'"):
        F.soft_margin_loss(z, Tensor(np.ones(3), requires_grad=True))
    with pytest.raises(RuntimeError, match=r"output with shape \[1, 3\] doesn't match the "
                                           r"broadcast shape \[2, 3\]"):
        F.soft_margin_loss(z[:1], z)
    with pytest.raises(ValueError, match="var has negative entry"):
        F.gaussian_nll_loss(z, z, -1.0)
    with pytest.raises(ValueError, match="var has negative entry"):
        F.gaussian_nll_loss(z, z, Tensor(-np.ones(3)))
    with pytest.raises(ValueError, match="var is of incorrect size"):
        F.gaussian_nll_loss(z, z, Tensor(np.ones((2, 2))))
    with pytest.raises(TypeError, match="var must be a tensor or a float, not int"):
        F.gaussian_nll_loss(z, z, 1)
    with pytest.raises(IndexError):  # (a 0-d input has no classes)
        F.multilabel_soft_margin_loss(Tensor(0.0), Tensor(0.0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # (the variances (2, 1) broadcast, silently)
        F.gaussian_nll_loss(z, z, Tensor(np.ones((2, 1))))
