"""The activations and losses added beside PyTorch's common ones (PReLU, SELU, CELU, the hard
and shrinking ones, GLU, Softmin, Threshold; KLDivLoss and the margin, likelihood and
distance losses) held against PyTorch itself: values, dtypes and every gradient in float32
and float64 and in each memory layout, each reduction, NaN and the infinities, size-0
batches, the modules' reprs and state dicts, and the errors. Skipped without torch
(``test_activations_losses.py`` checks them without it)."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator

import numpy as np
import pytest
from torch_compare import RTOL, assert_same

import tensorgrad
import tensorgrad.nn as nn
from tensorgrad import Tensor
from tensorgrad.nn import functional as F

torch = pytest.importorskip("torch")
TF, tnn = torch.nn.functional, torch.nn
DTYPES = [np.float32, np.float64]
LAYOUTS = ["C", "F", "transposed", "sliced"]
REDUCTIONS = ["none", "mean", "sum"]
# PyTorch's kl_div warns at reduction="mean"; both sides are asked for it alike
# (and the engine's products and logs warn where a Poisson target of 0 that requires grad
# gets its NaN gradient, as PyTorch's)
pytestmark = [pytest.mark.filterwarnings("ignore:reduction. 'mean' divides:UserWarning"),
              pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")]


def laid_out(a: np.ndarray, layout: str, requires_grad: bool):
    """A leaf and a view of it holding ``a``'s values in ``layout``, and the function that
    takes the leaf's gradient to the view's."""
    if layout in ("C", "F") or a.ndim == 0:
        leaf = Tensor(np.array(a, order="F" if layout == "F" else "C"),
                      requires_grad=requires_grad)
        return leaf, leaf, lambda g: g
    if layout == "transposed":
        axes = tuple(reversed(range(a.ndim)))
        leaf = Tensor(np.ascontiguousarray(a.transpose(axes)), requires_grad=requires_grad)
        return leaf, leaf.permute(*axes), lambda g: g.transpose(axes)
    spread = np.zeros((2 * a.shape[0],) + a.shape[1:], a.dtype)
    spread[::2] = a
    leaf = Tensor(spread, requires_grad=requires_grad)
    return leaf, leaf[::2], lambda g: g[::2]


def run_both(ours, theirs, arrays, layout="C", grads=None, rtol=None):
    """``ours`` on the arrays laid out as ``layout`` (None stays None), ``theirs`` on torch's
    copies; the results must agree, then the gradients of a random weighting of them (of
    the arrays ``grads`` marks: the floating ones by default)."""
    grads = [a is not None and a.dtype.kind == "f" for a in arrays] if grads is None else grads
    mine = [None if a is None else laid_out(a, layout, g) for a, g in zip(arrays, grads)]
    their = [None if a is None else torch.tensor(a, requires_grad=g)
             for a, g in zip(arrays, grads)]
    y = ours(*(None if m is None else m[1] for m in mine))
    their_y = theirs(*their)
    dtypes = [np.dtype(a.dtype) for a in arrays if a is not None and a.dtype.kind == "f"]
    rtol = rtol or max(RTOL[d] for d in dtypes)
    assert_same(y, their_y, "output", rtol)
    if not their_y.requires_grad:
        return
    weights = np.random.default_rng(5).standard_normal(their_y.shape).astype(y.data.dtype)
    (y * Tensor(weights)).sum().backward()
    (their_y * torch.tensor(weights)).sum().backward()
    for i, (m, t) in enumerate(zip(mine, their)):
        if m is not None and grads[i]:
            if t.grad is None:  # (PyTorch's target of a comparison only)
                assert m[0].grad is None, f"gradient of argument {i}"
                continue
            got = np.zeros_like(m[0].data) if m[0].grad is None else m[0].grad.numpy()
            assert_same(m[2](got), t.grad, f"gradient of argument {i}", rtol)


# ---- activations --------------------------------------------------------------------------------

ACTIVATIONS = {
    "selu": (F.selu, TF.selu),
    # (PyTorch's celu slope takes 1 / alpha with alpha rounded to float32, even in float64:
    # the alphas here are float32 numbers, with which that is exact)
    "celu": (lambda x: F.celu(x, 0.75), lambda x: TF.celu(x, 0.75)),
    "celu, negative alpha": (lambda x: F.celu(x, -1.5), lambda x: TF.celu(x, -1.5)),
    "hardswish": (F.hardswish, TF.hardswish),
    "hardsigmoid": (F.hardsigmoid, TF.hardsigmoid),
    "softsign": (F.softsign, TF.softsign),
    "tanhshrink": (F.tanhshrink, TF.tanhshrink),
    "softshrink": (lambda x: F.softshrink(x, 1.0), lambda x: TF.softshrink(x, 1.0)),
    "hardshrink": (lambda x: F.hardshrink(x, 1.0), lambda x: TF.hardshrink(x, 1.0)),
    "threshold": (lambda x: F.threshold(x, 1.0, -2.5), lambda x: TF.threshold(x, 1.0, -2.5)),
    "glu": (F.glu, TF.glu),
    "glu, dim 0": (lambda x: F.glu(x, 0), lambda x: TF.glu(x, 0)),
    "softmin": (lambda x: F.softmin(x, 1), lambda x: TF.softmin(x, 1)),
    "softmin, dtype": (lambda x: F.softmin(x, 0, dtype=tensorgrad.float64),
                       lambda x: TF.softmin(x, 0, dtype=torch.float64)),
    "prelu": (lambda x: F.prelu(x, Tensor(np.array([0.25], x.dtype))),
              lambda x: TF.prelu(x, torch.tensor([0.25], dtype=x.dtype))),
}
# each kink (0, +-0.5, +-1, +-3) and points either side of one; 16 more drawn between
KINKS = np.array([-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0, -3.5, -2.9, -1.1, -0.9, 0.9, 1.1, 2.9,
                  3.1, 1e-3])
SPECIAL = np.array([np.inf, -np.inf, np.nan, 1e30, -1e30, 800.0, -800.0, 20.0])


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activations_as_torch_at_their_kinks_and_between(name, dtype, layout):
    rng = np.random.default_rng(0)
    x = np.concatenate([KINKS, rng.uniform(-4, 4, 16)]).reshape(4, 8)
    if layout == "sliced":  # (a view of both dimensions: the gated halves too)
        x = x.T.copy()
    run_both(*ACTIVATIONS[name], [x.astype(dtype)], layout, rtol=_rtol(name, dtype))


def _rtol(name: str, dtype: type) -> float | None:
    # PyTorch's hardsigmoid slope is 1/6 rounded to float32, even in float64 (ours is 1/6)
    return 1e-7 if name == "hardsigmoid" and dtype == np.float64 else None


# PyTorch's slope at NaN is that of x > kink on its scalar path and 0 on its vectorized one
# for these: ours is the scalar path's (the tests without torch hold it), and NaN's slope is
# left out here
NAN_SLOPE_DIFFERS = {"selu", "celu", "celu, negative alpha", "hardswish", "softshrink",
                     "hardshrink"}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activations_at_nan_and_the_infinities_as_torch(name, dtype):
    x = np.tile(SPECIAL, 4).reshape(4, 8)
    if name in NAN_SLOPE_DIFFERS:
        ours, theirs = ACTIVATIONS[name]
        with np.errstate(all="ignore"):
            assert_same(ours(Tensor(x.astype(dtype))), theirs(torch.tensor(x.astype(dtype))),
                        "output at NaN", RTOL[np.dtype(dtype)])
        x[np.isnan(x)] = 0.25
    with np.errstate(all="ignore"):
        run_both(*ACTIVATIONS[name], [x.astype(dtype)], rtol=_rtol(name, dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, weight", [((2, 3, 4), (3,)), ((2, 3), (1,)), ((5,), (1,)),
                                           ((2, 3, 2, 2), ()), ((), ()), ((0, 3), (3,)),
                                           ((3, 1), (1,))])
def test_prelu_and_its_weights_gradient_as_torch(shape, weight, dtype):
    rng = np.random.default_rng(1)
    x = rng.uniform(-2, 2, shape)
    x.reshape(-1)[:2] = 0.0  # the kink (a view: of a copy, when shape has a 0)
    w = rng.uniform(-1, 1, weight)
    layout = "transposed" if len(shape) > 1 else "C"
    run_both(F.prelu, TF.prelu, [x.astype(dtype), w.astype(dtype)], layout)


@pytest.mark.parametrize("name", ["selu", "celu", "hardswish", "hardsigmoid", "softsign",
                                  "tanhshrink", "softshrink", "hardshrink", "threshold", "glu",
                                  "softmin"])
def test_activations_of_size_0_batches_as_torch(name):
    run_both(*ACTIVATIONS[name], [np.zeros((0, 4))])


def test_the_activation_modules_compute_print_and_save_as_torchs():
    x = np.linspace(-4, 4, 32).reshape(2, 4, 4)
    pairs = [(nn.PReLU(4, 0.1), tnn.PReLU(4, 0.1, dtype=torch.float64)),
             (nn.PReLU(), tnn.PReLU(dtype=torch.float64)),
             (nn.SELU(), tnn.SELU()), (nn.SELU(True), tnn.SELU(True)),
             (nn.CELU(0.5, True), tnn.CELU(0.5, True)), (nn.CELU(), tnn.CELU()),
             (nn.Hardswish(True), tnn.Hardswish(True)), (nn.Hardsigmoid(), tnn.Hardsigmoid()),
             (nn.GLU(1), tnn.GLU(1)), (nn.GLU(), tnn.GLU()), (nn.Softsign(), tnn.Softsign()),
             (nn.Softmin(2), tnn.Softmin(2)), (nn.Softmin(), tnn.Softmin()),
             (nn.Tanhshrink(), tnn.Tanhshrink()), (nn.Softshrink(), tnn.Softshrink()),
             (nn.Hardshrink(0.3), tnn.Hardshrink(0.3)),
             (nn.Threshold(0.1, 20), tnn.Threshold(0.1, 20)),
             (nn.Threshold(-1, 0.5, True), tnn.Threshold(-1, 0.5, True))]
    for ours, theirs in pairs:
        assert repr(ours) == repr(theirs)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            y = ours(Tensor(x))
            their_y = theirs(torch.tensor(x))
        assert [str(w.message) for w in caught][:1] == (
            ["Implicit dimension choice for softmin has been deprecated. Change the call to "
             "include dim=X as an argument."] if repr(ours) == "Softmin(dim=None)" else [])
        assert_same(y, their_y, repr(ours))
    prelu = nn.PReLU(3, dtype=tensorgrad.float32)
    their_prelu = tnn.PReLU(3, dtype=torch.float32)
    assert prelu.weight.dtype == np.float32 and prelu.weight.requires_grad
    their_prelu.load_state_dict({"weight": torch.tensor([0.5, -0.1, 2.0])})
    prelu.load_state_dict({k: v.numpy() for k, v in their_prelu.state_dict().items()})
    xs = np.linspace(-2, 2, 24, dtype=np.float32).reshape(2, 3, 4)
    y, their_y = prelu(Tensor(xs)), their_prelu(torch.tensor(xs))
    assert_same(y, their_y, "PReLU loaded", 1e-6)
    y.sum().backward()
    their_y.sum().backward()
    assert_same(prelu.weight.grad, their_prelu.weight.grad, "PReLU weight's gradient", 1e-6)
    prelu.weight.data[...] = [1.5, 0.0, -2.0]
    their_prelu.load_state_dict({k: torch.tensor(v.numpy()) for k, v in
                                 prelu.state_dict().items()})
    assert their_prelu.weight.tolist() == [1.5, 0.0, -2.0]


def test_inplace_activations_write_into_a_tensor_without_gradient_as_torchs():
    x = np.linspace(-4, 4, 8)
    for ours, theirs in [(lambda t: F.selu(t, True), lambda t: TF.selu(t, True)),
                         (lambda t: F.celu(t, 2.0, True), lambda t: TF.celu(t, 2.0, True)),
                         (lambda t: F.hardswish(t, True), lambda t: TF.hardswish(t, True)),
                         (lambda t: F.hardsigmoid(t, True), lambda t: TF.hardsigmoid(t, True)),
                         (lambda t: F.threshold(t, 0.0, 9.0, True),
                          lambda t: TF.threshold(t, 0.0, 9.0, True))]:
        mine, their = Tensor(x.copy()), torch.tensor(x)
        assert ours(mine) is mine
        theirs(their)
        assert_same(mine, their, "written in place")


def test_integer_inputs_as_torch():
    ints = np.array([-4, -1, 0, 2, 5])
    for ours, theirs in [(F.softsign, TF.softsign), (F.tanhshrink, TF.tanhshrink),
                         (lambda t: F.threshold(t, 1.5, -2.7),
                          lambda t: TF.threshold(t, 1.5, -2.7)),
                         (lambda t: F.threshold(t, -0.5, 7), lambda t: TF.threshold(t, -0.5, 7))]:
        with torch_default_float64():
            assert_same(ours(Tensor(ints)), theirs(torch.tensor(ints)), "integers")


@contextlib.contextmanager
def torch_default_float64() -> Iterator[None]:
    """PyTorch's default float dtype set to tensorgrad's for a block."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        yield
    finally:
        torch.set_default_dtype(previous)


def test_bad_activation_arguments_raise_torchs_errors():
    x, their_x = Tensor(np.zeros((2, 3))), torch.zeros(2, 3, dtype=torch.float64)

    def ones(*shape):
        return torch.ones(shape, dtype=torch.float64)

    w3 = np.ones(3)
    cases = [
        (lambda: F.glu(x), lambda: TF.glu(their_x)),
        (lambda: F.glu(x, 1), lambda: TF.glu(their_x, 1)),
        (lambda: F.glu(Tensor(np.array(1.0))), lambda: TF.glu(torch.tensor(1.0))),
        (lambda: F.celu(x, 0.0), lambda: TF.celu(their_x, 0.0)),
        (lambda: F.softshrink(x, -0.5), lambda: TF.softshrink(their_x, -0.5)),
        (lambda: F.softshrink(x.float(), -0.5), lambda: TF.softshrink(their_x.float(), -0.5)),
        (lambda: F.prelu(x, Tensor(np.ones(2))), lambda: TF.prelu(their_x, ones(2))),
        (lambda: F.prelu(x, Tensor(np.ones((3, 1)))), lambda: TF.prelu(their_x, ones(3, 1))),
        (lambda: F.prelu(Tensor(np.ones(4)), Tensor(np.ones(2))),
         lambda: TF.prelu(ones(4), ones(2))),
        (lambda: F.prelu(Tensor(np.array(1.0)), Tensor(w3)),
         lambda: TF.prelu(ones(), torch.tensor(w3))),
        (lambda: F.prelu(x.float(), Tensor(w3)), lambda: TF.prelu(their_x.float(),
                                                                  torch.tensor(w3))),
    ]
    for ours, theirs in cases:
        with pytest.raises(Exception) as their_error:
            theirs()
        with pytest.raises(their_error.type) as error:
            ours()
        assert str(error.value) == str(their_error.value)
    with pytest.raises(IndexError):  # (as PyTorch's; the message is the engine's)
        F.glu(x, 2)


# ---- losses -------------------------------------------------------------------------------------


def loss_cases(r: str):
    """name: (ours, PyTorch's, a function of (rng, dtype, batch) that makes the arrays)."""
    def pair(shape):
        return lambda rng, dtype, n: [rng.standard_normal((n, *shape)).astype(dtype),
                                      rng.standard_normal((n, *shape)).astype(dtype)]

    def probabilities(log_target):
        def make(rng, dtype, n):
            p = rng.uniform(0.05, 1, (n, 4))
            p[:, 0] = 0.0  # 0 log 0
            p = p / p.sum(1, keepdims=True)
            target = np.log(p + 0.1) if log_target else p
            return [np.log(rng.dirichlet(np.ones(4), n)).astype(dtype), target.astype(dtype)]
        return make

    def ranked(rng, dtype, n):
        x1, x2 = rng.standard_normal((2, n)).astype(dtype)
        y = np.where(rng.random(n) < 0.5, -1.0, 1.0).astype(dtype)
        x1[:1], x2[:1], y[:1] = 1.0, 0.5, 1.0  # on the kink, for margin 0.5
        return [x1, x2, y]

    def embedded(rng, dtype, n):
        x1, x2 = rng.standard_normal((2, n, 3)).astype(dtype)
        return [x1, x2, rng.choice([-1.0, 1.0, 0.0], n).astype(dtype)]

    def triplets(rng, dtype, n):
        return list(rng.standard_normal((3, n, 5)).astype(dtype))

    def labelled(rng, dtype, n):
        return [rng.standard_normal((n, 3)).astype(dtype),
                np.where(rng.random((n, 3)) < 0.5, -1.0, 1.0).astype(dtype)]

    def multilabel(rng, dtype, n):
        return [rng.standard_normal((n, 4)).astype(dtype),
                (rng.random((n, 4)) < 0.5).astype(dtype), rng.uniform(0.5, 2, 4).astype(dtype)]

    def counts(log_input):
        def make(rng, dtype, n):
            rates = rng.uniform(0.1, 3, (n, 3))
            return [(np.log(rates) if log_input else rates).astype(dtype),
                    rng.integers(0, 6, (n, 3)).astype(dtype)]
        return make

    def gaussian(var_shape):
        def make(rng, dtype, n):
            shape = (n, *var_shape)
            var = rng.uniform(1e-7, 2, shape)
            var.reshape(-1)[:1] = 1e-8  # below eps (a view: of a copy, for no rows)
            return [rng.standard_normal((n, 3)).astype(dtype),
                    rng.standard_normal((n, 3)).astype(dtype), var.astype(dtype)]
        return make

    return {
        "kl_div": (lambda x, t: F.kl_div(x, t, reduction=r),
                   lambda x, t: TF.kl_div(x, t, reduction=r), probabilities(False)),
        "kl_div, batchmean": (lambda x, t: F.kl_div(x, t, reduction="batchmean"),
                              lambda x, t: TF.kl_div(x, t, reduction="batchmean"),
                              probabilities(False)),
        "KLDivLoss, log_target": (nn.KLDivLoss(reduction=r, log_target=True),
                                  tnn.KLDivLoss(reduction=r, log_target=True),
                                  probabilities(True)),
        "margin_ranking_loss": (
            lambda a, b, y: F.margin_ranking_loss(a, b, y, 0.5, reduction=r),
            lambda a, b, y: TF.margin_ranking_loss(a, b, y, 0.5, reduction=r), ranked),
        "MarginRankingLoss": (nn.MarginRankingLoss(reduction=r),
                              tnn.MarginRankingLoss(reduction=r), ranked),
        "cosine_embedding_loss": (
            lambda a, b, y: F.cosine_embedding_loss(a, b, y, 0.2, reduction=r),
            lambda a, b, y: TF.cosine_embedding_loss(a, b, y, 0.2, reduction=r), embedded),
        "CosineEmbeddingLoss": (nn.CosineEmbeddingLoss(-0.5, reduction=r),
                                tnn.CosineEmbeddingLoss(-0.5, reduction=r), embedded),
        "triplet_margin_loss": (nn.TripletMarginLoss(reduction=r),
                                tnn.TripletMarginLoss(reduction=r), triplets),
        "triplet_margin_loss, p=1, swap": (
            lambda a, p, n: F.triplet_margin_loss(a, p, n, 2.0, 1, swap=True, reduction=r),
            lambda a, p, n: TF.triplet_margin_loss(a, p, n, 2.0, 1, swap=True, reduction=r),
            triplets),
        "triplet_margin_loss, p=3, eps": (
            lambda a, p, n: F.triplet_margin_loss(a, p, n, 0.5, 3.0, 0.1, reduction=r),
            lambda a, p, n: TF.triplet_margin_loss(a, p, n, 0.5, 3.0, 0.1, reduction=r),
            triplets),
        "SoftMarginLoss": (nn.SoftMarginLoss(reduction=r), tnn.SoftMarginLoss(reduction=r),
                           labelled),
        "multilabel_soft_margin_loss": (
            lambda x, t, w: F.multilabel_soft_margin_loss(x, t, w, reduction=r),
            lambda x, t, w: TF.multilabel_soft_margin_loss(x, t, w, reduction=r), multilabel),
        "MultiLabelSoftMarginLoss": (
            lambda x, t, w: nn.MultiLabelSoftMarginLoss(reduction=r)(x, t),
            lambda x, t, w: tnn.MultiLabelSoftMarginLoss(reduction=r)(x, t), multilabel),
        "PoissonNLLLoss": (nn.PoissonNLLLoss(reduction=r), tnn.PoissonNLLLoss(reduction=r),
                           counts(True)),
        "poisson_nll_loss, full": (
            lambda x, t: F.poisson_nll_loss(x, t, full=True, reduction=r),
            lambda x, t: TF.poisson_nll_loss(x, t, full=True, reduction=r), counts(True)),
        "poisson_nll_loss, rates, full": (
            lambda x, t: F.poisson_nll_loss(x, t, False, True, eps=1e-3, reduction=r),
            lambda x, t: TF.poisson_nll_loss(x, t, False, True, eps=1e-3, reduction=r),
            counts(False)),
        "GaussianNLLLoss": (nn.GaussianNLLLoss(reduction=r), tnn.GaussianNLLLoss(reduction=r),
                            gaussian((3,))),
        "gaussian_nll_loss, one var per row, full": (
            lambda x, t, v: F.gaussian_nll_loss(x, t, v, True, reduction=r),
            lambda x, t, v: TF.gaussian_nll_loss(x, t, v, True, reduction=r), gaussian(())),
        "gaussian_nll_loss, var (N, 1), eps": (
            lambda x, t, v: F.gaussian_nll_loss(x, t, v, eps=0.5, reduction=r),
            lambda x, t, v: TF.gaussian_nll_loss(x, t, v, eps=0.5, reduction=r),
            gaussian((1,))),
        "pairwise_distance": (F.pairwise_distance, TF.pairwise_distance, pair((4,))),
        "PairwiseDistance, p=1, keepdim": (nn.PairwiseDistance(1.0, 0.0, True),
                                           tnn.PairwiseDistance(1.0, 0.0, True), pair((4,))),
        "PairwiseDistance, p=inf": (nn.PairwiseDistance(float("inf")),
                                    tnn.PairwiseDistance(float("inf")), pair((2, 4))),
        "pairwise_distance, p=0.5": (lambda a, b: F.pairwise_distance(a, b, 0.5),
                                     lambda a, b: TF.pairwise_distance(a, b, 0.5), pair((3,))),
        "CosineSimilarity": (nn.CosineSimilarity(), tnn.CosineSimilarity(), pair((4, 2))),
        "CosineSimilarity, dim -1": (nn.CosineSimilarity(-1, 1e-3),
                                     tnn.CosineSimilarity(-1, 1e-3), pair((4,))),
    }


LOSSES = list(loss_cases("mean"))
# the losses with a reduction, in each; the rest (a distance; kl_div's "batchmean") once
ONE_REDUCTION = {"kl_div, batchmean", "pairwise_distance", "PairwiseDistance, p=1, keepdim",
                 "PairwiseDistance, p=inf", "pairwise_distance, p=0.5", "CosineSimilarity",
                 "CosineSimilarity, dim -1"}
REDUCED = [(name, r) for name in LOSSES for r in (["mean"] if name in ONE_REDUCTION
                                                  else REDUCTIONS)]


def _grads(name: str) -> list[bool] | None:
    """Which arrays get gradients: PyTorch refuses one for soft_margin_loss's target."""
    return [True, False] if name == "SoftMarginLoss" else None


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name, reduction", REDUCED)
def test_losses_as_torch_in_each_reduction_and_dtype(name, reduction, dtype):
    ours, theirs, make = loss_cases(reduction)[name]
    layout = LAYOUTS[len(name) % 4] if dtype == np.float64 else "C"
    run_both(ours, theirs, make(np.random.default_rng(2), dtype, 5), layout,
             grads=_grads(name))


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("name", LOSSES)
def test_losses_as_torch_in_each_layout(name, layout):
    ours, theirs, make = loss_cases("sum")[name]
    run_both(ours, theirs, make(np.random.default_rng(3), np.float64, 4), layout,
             grads=_grads(name))


@pytest.mark.parametrize("name, reduction", REDUCED)
def test_losses_of_size_0_batches_as_torch(name, reduction):
    ours, theirs, make = loss_cases(reduction)[name]
    arrays = make(np.random.default_rng(4), np.float64, 0)
    if name.startswith(("multilabel", "MultiLabel")):
        arrays[2] = np.ones(4)  # (the class weights: not a batch)
    with np.errstate(all="ignore"):
        run_both(ours, theirs, arrays, grads=_grads(name))


LOSSES_AT_SPECIAL = {
    "kl_div": (lambda x, t: F.kl_div(x, t, reduction="none"),
               lambda x, t: TF.kl_div(x, t, reduction="none")),
    "kl_div, log_target": (lambda x, t: F.kl_div(x, t, reduction="none", log_target=True),
                           lambda x, t: TF.kl_div(x, t, reduction="none", log_target=True)),
    "soft_margin_loss": (lambda x, t: F.soft_margin_loss(x, t.detach(), reduction="none"),
                         lambda x, t: TF.soft_margin_loss(x, t.detach(), reduction="none")),
    "poisson_nll_loss, full": (
        lambda x, t: F.poisson_nll_loss(x, t, full=True, reduction="none"),
        lambda x, t: TF.poisson_nll_loss(x, t, full=True, reduction="none")),
    "poisson_nll_loss, rates": (
        lambda x, t: F.poisson_nll_loss(x, t, False, True, reduction="none"),
        lambda x, t: TF.poisson_nll_loss(x, t, False, True, reduction="none")),
    "gaussian_nll_loss": (lambda x, t: F.gaussian_nll_loss(x, t, 0.5, reduction="none"),
                          lambda x, t: TF.gaussian_nll_loss(x, t, 0.5, reduction="none")),
    "margin_ranking_loss": (lambda x, t: F.margin_ranking_loss(x, t, t, reduction="none"),
                            lambda x, t: TF.margin_ranking_loss(x, t, t, reduction="none")),
    "multilabel_soft_margin_loss": (
        lambda x, t: F.multilabel_soft_margin_loss(x, t, reduction="none"),
        lambda x, t: TF.multilabel_soft_margin_loss(x, t, reduction="none")),
    "pairwise_distance": (lambda x, t: F.pairwise_distance(x, t, eps=0.0),
                          lambda x, t: TF.pairwise_distance(x, t, eps=0.0)),
    "triplet_margin_loss, swap": (
        lambda x, t: F.triplet_margin_loss(x, t, -t, swap=True, reduction="none"),
        lambda x, t: TF.triplet_margin_loss(x, t, -t, swap=True, reduction="none")),
}
VALUES = np.array([np.nan, np.inf, -np.inf, 0.0, -1.0, 1.0, 2.0, 800.0, -800.0])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(LOSSES_AT_SPECIAL))
def test_losses_at_nan_the_infinities_and_the_edges_as_torch(name, dtype):
    """Every pair of the values as input and target: NaN, the infinities, 0 (kl_div's 0 log 0,
    Poisson's log 0), negative targets, exp's overflow."""
    x, t = (a.reshape(-1, 3).astype(dtype) for a in np.meshgrid(VALUES, VALUES))
    with np.errstate(all="ignore"):
        run_both(*LOSSES_AT_SPECIAL[name], [x, t],
                 grads=[True, name != "soft_margin_loss"])


def test_the_losses_promote_dtypes_and_broadcast_as_torch():
    rng = np.random.default_rng(6)
    x32, t64 = rng.standard_normal((3, 4)).astype(np.float32), rng.random((3, 4))
    for ours, theirs in [(lambda a, b: F.kl_div(a, b, reduction="sum"),
                          lambda a, b: TF.kl_div(a, b, reduction="sum")),
                         (F.soft_margin_loss, TF.soft_margin_loss),
                         (F.poisson_nll_loss, TF.poisson_nll_loss),
                         (lambda a, b: F.margin_ranking_loss(a, b, b),
                          lambda a, b: TF.margin_ranking_loss(a, b, b))]:
        run_both(ours, theirs, [x32, t64], grads=[True, ours is not F.soft_margin_loss],
                 rtol=2e-5)
        run_both(ours, theirs, [x32, t64[:1]], grads=[True, False], rtol=2e-5)
        if ours is not F.soft_margin_loss:  # (whose result has the input's shape)
            run_both(ours, theirs, [x32[:1], t64], grads=[True, False], rtol=2e-5)
    run_both(F.pairwise_distance, TF.pairwise_distance, [x32[0], t64], rtol=2e-5)
    run_both(F.pairwise_distance, TF.pairwise_distance, [x32[0, 0], t64[0, 0]], rtol=2e-5)
    run_both(F.triplet_margin_loss, TF.triplet_margin_loss, [x32, t64[:1], t64[1:2]],
             rtol=2e-5)
    run_both(F.cosine_embedding_loss, TF.cosine_embedding_loss, [x32[0], t64[0],
                                                                 np.array(-1.0)], rtol=2e-5)
    ints = np.array([1, -1, 1])
    with torch_default_float64():
        run_both(lambda a, b, y: F.margin_ranking_loss(a, b, y),
                 lambda a, b, y: TF.margin_ranking_loss(a, b, y),
                 [rng.standard_normal(3), rng.standard_normal(3), ints])
        run_both(F.cosine_embedding_loss, TF.cosine_embedding_loss,
                 [rng.standard_normal((3, 2)), rng.standard_normal((3, 2)), ints])


def test_the_loss_modules_print_and_keep_settings_as_torchs():
    made = [(nn.KLDivLoss(log_target=True), tnn.KLDivLoss(log_target=True)),
            (nn.MarginRankingLoss(0.5), tnn.MarginRankingLoss(0.5)),
            (nn.CosineEmbeddingLoss(0.1), tnn.CosineEmbeddingLoss(0.1)),
            (nn.TripletMarginLoss(2.0, 1.0, 0.1, True), tnn.TripletMarginLoss(2.0, 1.0, 0.1, True)),
            (nn.SoftMarginLoss(), tnn.SoftMarginLoss()),
            (nn.MultiLabelSoftMarginLoss(Tensor(np.ones(3))),
             tnn.MultiLabelSoftMarginLoss(torch.ones(3, dtype=torch.float64))),
            (nn.PoissonNLLLoss(False, True, eps=0.1), tnn.PoissonNLLLoss(False, True, eps=0.1)),
            (nn.GaussianNLLLoss(full=True, eps=0.1), tnn.GaussianNLLLoss(full=True, eps=0.1)),
            (nn.CosineSimilarity(0, 0.1), tnn.CosineSimilarity(0, 0.1)),
            (nn.PairwiseDistance(1.0, 0.1, True), tnn.PairwiseDistance(1.0, 0.1, True))]
    for ours, theirs in made:
        assert repr(ours) == repr(theirs)
        settings = {k: v for k, v in vars(theirs).items() if not k.startswith("_")
                    and k != "training"}
        assert {k: getattr(ours, k) for k in settings} == settings
        assert list(ours.state_dict()) == list(theirs.state_dict())
    with pytest.raises(ValueError) as error:
        nn.TripletMarginLoss(margin=0)
    with pytest.raises(ValueError) as their_error:
        tnn.TripletMarginLoss(margin=0)
    assert str(error.value) == str(their_error.value)


def test_the_deprecated_reduction_arguments_as_torchs():
    rng = np.random.default_rng(7)
    x, t = rng.standard_normal((3, 4)), rng.random((3, 4))
    for size_average, reduce in [(False, None), (None, False), (True, True)]:
        for ours, theirs in [(nn.KLDivLoss, tnn.KLDivLoss), (nn.SoftMarginLoss,
                                                            tnn.SoftMarginLoss),
                             (nn.PoissonNLLLoss, tnn.PoissonNLLLoss),
                             (nn.MultiLabelSoftMarginLoss, tnn.MultiLabelSoftMarginLoss)]:
            with pytest.warns(UserWarning, match="size_average and reduce args"):
                module = ours(size_average=size_average, reduce=reduce)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                their_module = theirs(size_average=size_average, reduce=reduce)
            assert module.reduction == their_module.reduction
            run_both(module, their_module, [x, t], grads=_grads(ours.__name__))
        with pytest.warns(UserWarning, match="size_average and reduce args"):
            ours = F.kl_div(Tensor(x), Tensor(t), size_average=size_average, reduce=reduce,
                            reduction="batchmean")  # (batchmean ignored, as PyTorch's)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs = TF.kl_div(torch.tensor(x), torch.tensor(t), size_average=size_average,
                               reduce=reduce, reduction="batchmean")
        assert_same(ours, theirs, "legacy kl_div")
    for name in ["margin_ranking_loss", "cosine_embedding_loss", "triplet_margin_loss"]:
        arrays = {"margin_ranking_loss": [x, t, np.ones((3, 4))],
                  "cosine_embedding_loss": [x, t, np.ones(3)],
                  "triplet_margin_loss": [x, t, x[::-1].copy()]}[name]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            run_both(lambda *a, n=name: getattr(F, n)(*a, size_average=False),
                     lambda *a, n=name: getattr(TF, n)(*a, size_average=False), arrays)


def test_kl_div_warns_at_mean_as_torch():
    x, t = Tensor(np.zeros((2, 3))), Tensor(np.full((2, 3), 1 / 3))
    with pytest.warns(UserWarning) as caught:
        F.kl_div(x, t)
    with pytest.warns(UserWarning) as their_caught:
        TF.kl_div(torch.tensor(x.detach().numpy()), torch.tensor(t.detach().numpy()))
    assert [str(w.message) for w in caught] == [str(w.message) for w in their_caught]
    assert caught[0].filename == __file__
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.kl_div(x, t, reduction="batchmean")
        F.kl_div(x, t, reduction="sum")


def test_bad_loss_arguments_raise_torchs_errors():
    def z(*shape):
        return Tensor(np.zeros(shape))

    ones = Tensor(np.ones((2, 3)))
    cases = [
        ("kl_div", (z(3), Tensor(np.zeros(3, np.int64))), {}),
        ("kl_div", (z(3), z(3)), {"reduction": "bad"}),
        ("margin_ranking_loss", (z(3), z(3), z(2, 3)), {}),
        ("cosine_embedding_loss", (z(2, 3), z(2, 3), z()), {}),
        ("cosine_embedding_loss", (z(3), z(3), z(3)), {}),
        ("cosine_embedding_loss", (z(2, 3), z(2, 3), z(2, 1)), {}),
        ("triplet_margin_loss", (z(2, 3), z(2, 3), z(3)), {}),
        ("triplet_margin_loss", (z(2, 3), z(2, 3), z(2, 3)), {"margin": 0.0}),
        ("soft_margin_loss", (z(3), Tensor(np.ones(3), requires_grad=True)), {}),
        ("soft_margin_loss", (z(3), z(3)), {"reduction": "batchmean"}),
        ("soft_margin_loss", (z(1, 3), z(2, 3)), {}),
        ("poisson_nll_loss", (z(3), z(3)), {"reduction": "batchmean"}),
        ("gaussian_nll_loss", (z(2, 3), z(2, 3), -1.0), {}),
        ("gaussian_nll_loss", (z(2, 3), z(2, 3), -ones), {}),
        ("gaussian_nll_loss", (z(2, 3), z(2, 3), z(3)), {}),
        ("gaussian_nll_loss", (z(2, 3), z(2, 3), z(2, 2)), {}),
        ("gaussian_nll_loss", (z(2, 3), z(2, 3), z(2, 3)), {"reduction": "batchmean"}),
        ("multilabel_soft_margin_loss", (z(2, 3), z(2, 3)), {"reduction": "batchmean"}),
        ("multilabel_soft_margin_loss", (z(), z()), {}),
    ]

    def theirs_of(a):
        if isinstance(a, Tensor):
            return torch.tensor(a.detach().numpy(), requires_grad=a.requires_grad)
        return a

    for name, args, kwargs in cases:
        with pytest.raises(Exception) as their_error:
            getattr(TF, name)(*(theirs_of(a) for a in args), **kwargs)
        with pytest.raises(their_error.type) as error:
            getattr(F, name)(*args, **kwargs)
        if name == "margin_ranking_loss":  # (PyTorch's names its sizes torch.Size([3]))
            assert str(error.value).startswith("margin_ranking_loss : All input tensors should "
                                               "have same dimension but got sizes: input1: [3]")
        elif their_error.type is not IndexError:  # (PyTorch's: "dimension specified as -1")
            assert str(error.value) == str(their_error.value), name
