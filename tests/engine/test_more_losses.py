"""The CTC loss, the margin losses of margin_losses.py, alpha dropout, rrelu and Adafactor,
without PyTorch: values checked by hand or by brute force (every alignment of a CTC target
enumerated), gradients against central finite differences, the statistics of what is drawn,
and the errors. test_more_losses_torch.py holds the same against PyTorch."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import tensorgrad as tg
import tensorgrad.nn as nn
import tensorgrad.nn.functional as F


def _numeric_gradient(f, x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Central differences of the scalar ``f`` at ``x``."""
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += h
        down[i] -= h
        grad[i] = (f(up) - f(down)) / (2 * h)
    return grad


def _gradient(f, x: np.ndarray) -> np.ndarray:
    t = tg.tensor(x, requires_grad=True)
    f(t).backward()
    return t.grad.numpy()


# ---- CTC ------------------------------------------------------------------------------------


def _collapsed(path, blank):
    """An alignment's labels: repeats merged, then blanks dropped."""
    return [c for i, c in enumerate(path) if c != blank and (i == 0 or path[i - 1] != c)]


def _brute_force(log_probs: np.ndarray, target, blank: int = 0):
    """-log of the probability of ``target`` summed over every alignment of (T, C)
    log-probabilities, and each (t, c)'s share of that probability."""
    frames, classes = log_probs.shape
    total, shares = 0.0, np.zeros((frames, classes))
    for path in itertools.product(range(classes), repeat=frames):
        if _collapsed(path, blank) == list(target):
            p = math.exp(sum(log_probs[t, c] for t, c in enumerate(path)))
            total += p
            for t, c in enumerate(path):
                shares[t, c] += p
    return -math.log(total) if total else math.inf, shares / total if total else shares


def _log_softmax(x: np.ndarray) -> np.ndarray:
    return x - np.log(np.exp(x).sum(-1, keepdims=True))


@pytest.mark.parametrize("target", [[1], [1, 2], [2, 2], [1, 1, 2], [], [2, 1, 2]])
@pytest.mark.parametrize("blank", [0, 2])
def test_ctc_loss_sums_every_alignment(target, blank):
    """The loss is -log of the summed probability of every alignment that collapses to the
    target; the gradient (PyTorch's) is exp(log_probs) minus each class's share."""
    rng = np.random.default_rng(len(target) + 10 * blank)
    lp = _log_softmax(rng.standard_normal((5, 3)))
    target = [c if c != blank else 0 for c in target]  # (labels other than the blank)
    expected, shares = _brute_force(lp, target, blank)
    x = tg.tensor(lp[:, None], requires_grad=True)
    loss = F.ctc_loss(x, tg.tensor([target + [0] * (3 - len(target))]), tg.tensor([5]),
                      tg.tensor([len(target)]), blank=blank, reduction="sum")
    assert loss.item() == pytest.approx(expected, rel=1e-12)
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy()[:, 0], np.exp(lp) - shares, atol=1e-12)


def test_ctc_loss_gradient_through_log_softmax_is_the_derivative():
    """Through log_softmax the gradient is the loss's derivative: finite differences."""
    rng = np.random.default_rng(1)
    logits = rng.standard_normal((6, 2, 4))
    targets, inputs, lengths = tg.tensor([[1, 3, 3], [2, 0, 0]]), (6, 4), (3, 1)

    def loss(x):
        x = x if isinstance(x, tg.Tensor) else tg.tensor(x)
        return F.ctc_loss(F.log_softmax(x, 2), targets, inputs, lengths)

    numeric = _numeric_gradient(lambda a: loss(a).item(), logits)
    np.testing.assert_allclose(_gradient(loss, logits), numeric, atol=1e-8)


def test_ctc_loss_reductions_and_zero_infinity_by_hand():
    rng = np.random.default_rng(2)
    lp = _log_softmax(rng.standard_normal((4, 3, 3)))
    targets = tg.tensor([[1, 2], [1, 1], [2, 0]])
    inputs, lengths = tg.tensor([4, 2, 3]), tg.tensor([2, 2, 0])
    each = [_brute_force(lp[:4, 0], [1, 2])[0], math.inf, _brute_force(lp[:3, 2], [])[0]]
    x = tg.tensor(lp)
    none = F.ctc_loss(x, targets, inputs, lengths, reduction="none")
    np.testing.assert_allclose(none.numpy(), each)  # [1, 1] needs 3 frames: infinite
    assert F.ctc_loss(x, targets, inputs, lengths, reduction="sum").item() == math.inf
    zeroed = F.ctc_loss(x, targets, inputs, lengths, reduction="none", zero_infinity=True)
    np.testing.assert_allclose(zeroed.numpy(), [each[0], 0.0, each[2]])
    # "mean": each loss over its target's length (at least 1), then the mean
    mean = F.ctc_loss(x, targets, inputs, lengths, zero_infinity=True)
    assert mean.item() == pytest.approx((each[0] / 2 + 0 + each[2] / 1) / 3, rel=1e-12)
    # a sequence no alignment fits: NaN gradients over its frames, 0 past them; or all 0
    y = tg.tensor(lp, requires_grad=True)
    F.ctc_loss(y, targets, inputs, lengths, reduction="sum").backward()
    assert np.isnan(y.grad.numpy()[:2, 1]).all() and (y.grad.numpy()[2:, 1] == 0).all()
    y.grad = None
    F.ctc_loss(y, targets, inputs, lengths, zero_infinity=True).backward()
    assert (y.grad.numpy()[:, 1] == 0).all() and np.isfinite(y.grad.numpy()).all()
    # no frames: only the empty target fits; the dtype is the input's
    z = tg.tensor(lp.astype(np.float32))
    edge = F.ctc_loss(z, targets, (0, 0, 3), (0, 1, 0), reduction="none")
    assert edge.dtype == tg.float32 and edge.numpy()[:2].tolist() == [0.0, math.inf]


def test_ctc_loss_targets_concatenated_and_one_sequence():
    rng = np.random.default_rng(3)
    lp = _log_softmax(rng.standard_normal((5, 2, 4)))
    padded = F.ctc_loss(tg.tensor(lp), tg.tensor([[1, 2, 3], [3, 9, 9]]), (5, 5), (3, 1),
                        reduction="none")  # (padding past a length is never read)
    joined = F.ctc_loss(tg.tensor(lp), tg.tensor([1, 2, 3, 3]), (5, 5), (3, 1),
                        reduction="none")
    np.testing.assert_array_equal(padded.numpy(), joined.numpy())
    single = F.ctc_loss(tg.tensor(lp[:, 1]), tg.tensor([3]), tg.tensor(5), tg.tensor(1),
                        reduction="none")
    assert single.shape == () and single.item() == padded.numpy()[1]
    assert nn.CTCLoss(reduction="none")(tg.tensor(lp), tg.tensor([1, 2, 3, 3]), (5, 5),
                                        (3, 1)).numpy().tolist() == joined.numpy().tolist()


def test_ctc_loss_errors():
    x = tg.tensor(_log_softmax(np.zeros((4, 2, 3))))
    t = tg.tensor([[1, 2], [2, 1]])
    for args, error, message in [
        ((t, (5, 4), (2, 2)), RuntimeError, "at most 4"),
        ((t, (4, 4), (3, 2)), RuntimeError, "size at least 3 at dimension 1"),
        ((t, (4,), (2, 2)), RuntimeError, "input_lengths must be of size batch_size"),
        ((tg.tensor([1, 2, 2]), (4, 4), (2, 2)), RuntimeError, "size 4 at dimension 0"),
        ((t, tg.tensor([4.0, 4.0]), tg.tensor([2, 2])), RuntimeError, "must be integral"),
        ((t, 4, 2), TypeError, "tensor or a tuple"),
        ((tg.tensor([[1, 3], [2, 1]]), (4, 4), (2, 2)), RuntimeError, "target labels"),
    ]:
        with pytest.raises(error, match=message):
            F.ctc_loss(x, *args)
    with pytest.raises(RuntimeError, match="blank must be in label range"):
        F.ctc_loss(x, t, (4, 4), (2, 2), blank=3)
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        F.ctc_loss(x, t, (4, 4), (2, 2), reduction="average")
    with pytest.raises(NotImplementedError, match="'Long'"):
        F.ctc_loss(x.long(), t, (4, 4), (2, 2))
    with pytest.raises(RuntimeError, match="must not be empty"):
        F.ctc_loss(x[:, :0], t[:0], (), ())


# ---- margin losses ----------------------------------------------------------------------------


def test_multi_margin_loss_by_hand():
    x = np.array([[0.1, 0.2, 0.4, 0.8], [0.5, 0.5, 0.3, 0.0]])
    # row 0, target 3: max(0, 1 - 0.8 + x_i) for i = 0, 1, 2: 0.3 + 0.4 + 0.6, over 4
    # row 1, target 0: 1 + 0.3 - 0.5 ... : 1.0 + 0.8 + 0.5, over 4
    losses = F.multi_margin_loss(tg.tensor(x), tg.tensor([3, 0]), reduction="none")
    np.testing.assert_allclose(losses.numpy(), [1.3 / 4, 2.3 / 4])
    weighted = F.multi_margin_loss(tg.tensor(x), tg.tensor([3, 0]), p=2, margin=0.5,
                                   weight=tg.tensor([2.0, 1.0, 1.0, 3.0]), reduction="sum")
    # (0.5 - 0.8 + x_i)^2 where positive, times weight[y]: row 0: 3 * 0.1^2; row 1: 2 * (0.5^2
    # + 0.3^2 ... ) with z = 0.5 - 0.5 + x_i: 0.5, 0.3, 0.0
    assert weighted.item() == pytest.approx(3 * 0.01 / 4 + 2 * (0.25 + 0.09) / 4)
    # the gradient at the kink (z = 0) is 0, as PyTorch's z > 0; a NaN score adds nothing
    kink = tg.tensor([[0.0, 1.0, 0.0]], requires_grad=True)
    F.multi_margin_loss(kink, tg.tensor([1])).backward()
    assert kink.grad.numpy().tolist() == [[0.0, 0.0, 0.0]]
    nan = F.multi_margin_loss(tg.tensor([[np.nan, 0.5, 0.2]]), tg.tensor([1]))
    assert nan.item() == pytest.approx(0.7 / 3)


def test_margin_losses_finite_differences():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((4, 5))
    target = tg.tensor([1, 0, 4, 2])
    labels = tg.tensor([[1, 3, -1, 0, 0], [4, -1, 0, 0, 0], [0, 1, 2, 3, 4], [2, 2, -1, 0, 0]])
    w = tg.tensor(rng.uniform(0.5, 2, 5))
    signs = tg.tensor(np.where(rng.standard_normal((4, 5)) > 0, 1, -1))
    for loss in (lambda v: F.multi_margin_loss(v, target, p=2, margin=0.7, weight=w),
                 lambda v: F.multi_margin_loss(v, target),
                 lambda v: F.multilabel_margin_loss(v, labels, reduction="sum"),
                 lambda v: F.hinge_embedding_loss(v, signs, margin=0.6)):
        def of(a, loss=loss):
            return loss(tg.tensor(a)).item()
        np.testing.assert_allclose(_gradient(loss, x), _numeric_gradient(of, x), atol=1e-7)


def test_multilabel_margin_loss_by_hand():
    x = np.array([0.1, 0.2, 0.4, 0.8])
    # classes 3 and 0 (the list ends at -1): for j in {3, 0}, i in {1, 2}: 1 - x_j + x_i
    expected = ((1 - 0.8 + 0.2) + (1 - 0.8 + 0.4) + (1 - 0.1 + 0.2) + (1 - 0.1 + 0.4)) / 4
    loss = F.multilabel_margin_loss(tg.tensor(x), tg.tensor([3, 0, -1, 1]))
    assert loss.shape == () and loss.item() == pytest.approx(expected)
    assert F.multilabel_margin_loss(tg.tensor(x), tg.tensor([-1, 0, 1, 2])).item() == 0
    # a size-0 batch: the mean and the sum of nothing (PyTorch's kernels return uninitialized
    # memory there, a different number each call)
    for loss, target in ((F.multilabel_margin_loss, tg.zeros(0, 4, dtype=tg.int64)),
                         (F.multi_margin_loss, tg.zeros(0, dtype=tg.int64))):
        assert np.isnan(loss(tg.zeros(0, 4), target).item())
        assert loss(tg.zeros(0, 4), target, reduction="sum").item() == 0
        assert loss(tg.zeros(0, 4), target, reduction="none").shape == (0,)
    with pytest.raises(RuntimeError, match="out of range"):
        F.multilabel_margin_loss(tg.tensor(x), tg.tensor([4, -1, 0, 0]))
    with pytest.raises(RuntimeError, match="inconsistent target size"):
        F.multilabel_margin_loss(tg.tensor(x), tg.tensor([3, -1]))


def test_hinge_embedding_and_triplet_with_distance_by_hand():
    x = tg.tensor([0.3, 0.3, 1.5, 0.2])
    y = tg.tensor([1, -1, -1, 0])  # 0: both terms, as PyTorch's
    losses = F.hinge_embedding_loss(x, y, reduction="none")
    np.testing.assert_allclose(losses.numpy(), [0.3, 0.7, 0.0, 0.2 + 0.8])
    assert F.hinge_embedding_loss(x, y).item() == pytest.approx(2.0 / 4)
    assert np.isnan(F.hinge_embedding_loss(tg.zeros(0), tg.zeros(0)).item())
    a, p, n = tg.tensor([[0.0, 0.0]]), tg.tensor([[3.0, 4.0]]), tg.tensor([[1.0, 0.0]])

    def l1(u, v):
        return (u - v).abs().sum(-1)
    loss = F.triplet_margin_with_distance_loss(a, p, n, distance_function=l1, margin=2.0)
    assert loss.item() == pytest.approx(7 - 1 + 2)
    swapped = F.triplet_margin_with_distance_loss(a, p, n, distance_function=l1, swap=True)
    assert swapped.item() == pytest.approx(7 - 1 + 1)  # d(p, n) = 6 is not smaller
    module = nn.TripletMarginWithDistanceLoss(distance_function=l1, margin=2.0)
    assert module(a, p, n).item() == loss.item()
    with pytest.raises(ValueError, match="greater than 0"):
        F.triplet_margin_with_distance_loss(a, p, n, margin=0)


def test_top_level_forms_take_atens_arguments():
    x, y = tg.tensor([0.5, -1.0]), tg.tensor([1, -1])
    assert tg.hinge_embedding_loss(x, y).shape == (2,)  # none by default, as PyTorch 2.13's
    assert tg.hinge_embedding_loss(x, y, 1.0, 1).item() == pytest.approx((0.5 + 2.0) / 2)
    assert tg.hinge_embedding_loss(x, y, 1.0, 2).item() == pytest.approx(2.5)
    with pytest.raises(TypeError, match="must be int, not str"):
        tg.hinge_embedding_loss(x, y, 1.0, "mean")
    assert "kl_div" in dir(tg) and "ctc_loss" in tg.__all__


# ---- alpha dropout and rrelu ------------------------------------------------------------------

_SELU_LIMIT = 1.7580993408473766


@pytest.mark.parametrize("p", [0.1, 0.5])
def test_alpha_dropout_keeps_a_unit_gaussians_statistics(p):
    tg.manual_seed(0)
    x = tg.tensor(np.random.default_rng(5).standard_normal(200_000), requires_grad=True)
    y = F.alpha_dropout(x, p, training=True)
    assert abs(y.mean().item()) < 0.01 and abs(y.std().item() - 1) < 0.01
    a = 1 / math.sqrt((_SELU_LIMIT ** 2 * p + 1) * (1 - p))
    dropped_value = a * -_SELU_LIMIT + _SELU_LIMIT * a * p
    dropped = np.isclose(y.detach().numpy(), dropped_value, rtol=0, atol=1e-12)
    assert abs(dropped.mean() - p) < 0.01
    kept = ~dropped
    np.testing.assert_allclose(y.detach().numpy()[kept],
                               a * x.detach().numpy()[kept] + _SELU_LIMIT * a * p)
    y.sum().backward()  # the gradient: a where kept, 0 where dropped
    np.testing.assert_allclose(x.grad.numpy(), np.where(kept, a, 0.0))
    tg.manual_seed(0)  # the same draws again
    again = F.alpha_dropout(x.detach(), p, training=True)
    np.testing.assert_array_equal(again.numpy(), y.detach().numpy())


def test_feature_alpha_dropout_draws_per_channel():
    tg.manual_seed(1)
    x = tg.tensor(np.random.default_rng(6).standard_normal((8, 16, 5, 3)))
    y = nn.FeatureAlphaDropout(0.5)(x).numpy()
    a = 1 / math.sqrt((_SELU_LIMIT ** 2 * 0.5 + 1) * 0.5)
    dropped = np.isclose(y, a * -_SELU_LIMIT + _SELU_LIMIT * a * 0.5, rtol=0, atol=1e-12)
    per_channel = dropped.reshape(8, 16, -1)
    assert (per_channel.all(-1) | ~per_channel.any(-1)).all()  # whole channels or none
    assert 0.3 < per_channel.all(-1).mean() < 0.7


def test_alpha_dropout_deterministic_cases():
    x = tg.tensor([[1.0, np.nan], [-2.0, 0.5]], requires_grad=True)
    assert F.alpha_dropout(x, 0.5) is x  # training off by default
    assert nn.AlphaDropout(0.5).eval()(x) is x
    assert F.alpha_dropout(x, 0.0, True) is x
    zeros = F.alpha_dropout(x, 1.0, True)
    assert np.isnan(zeros.detach().numpy()[0, 1]) and zeros.detach().numpy()[1].tolist() == [0, 0]
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.AlphaDropout(-0.5)
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        F.feature_alpha_dropout(tg.ones(3), 0.5, True)
    y = tg.ones(4)
    assert F.alpha_dropout(y, 0.5, True, inplace=True) is y and (y.numpy() != 1).any()


def test_rrelu_training_draws_slopes_and_evaluation_uses_their_mean():
    tg.manual_seed(2)
    data = np.random.default_rng(7).standard_normal(100_000)
    data[:3] = [np.nan, 0.0, -np.inf]
    x = tg.tensor(data, requires_grad=True)
    y = F.rrelu(x, 0.1, 0.3, training=True)
    y.sum().backward()
    out, grad = y.detach().numpy(), x.grad.numpy()
    positive, negative = data > 0, data < 0
    np.testing.assert_array_equal(out[positive], data[positive])
    slopes = out[negative][1:] / data[negative][1:]
    assert slopes.min() >= 0.1 and slopes.max() <= 0.3 and abs(slopes.mean() - 0.2) < 0.002
    np.testing.assert_allclose(grad[negative][1:], slopes)  # the gradient: the drawn slope
    assert np.isnan(out[0]) and grad[0] == 1 and 0.1 <= grad[1] <= 0.3  # (x = 0 draws too)
    module = nn.RReLU(0.1, 0.3).eval()
    np.testing.assert_allclose(module(tg.tensor([-2.0, 3.0])).numpy(), [-0.4, 3.0])
    with pytest.raises(RuntimeError, match="Lower bound"):
        F.rrelu(x, 0.5, 0.1)
    z = tg.tensor([-1.0, 2.0])
    assert F.rrelu_(z, 0.25, 0.25, True) is z and z.numpy().tolist() == [-0.25, 2.0]


# ---- Adafactor --------------------------------------------------------------------------------


def test_adafactor_first_steps_by_hand():
    """Step 1 of a vector: the variance is g**2 (w = 1), the update sign(g), the step
    rms(p) * min(lr, 1). Of a matrix: the factored estimate row x col / mean(row)."""
    p = tg.tensor([3.0, -4.0], requires_grad=True)
    opt = tg.optim.Adafactor([p], lr=0.1)
    p.grad = tg.tensor([0.5, 2.0])
    opt.step()
    rms = math.sqrt((9 + 16) / 2)
    np.testing.assert_allclose(p.detach().numpy(), [3 - 0.1 * rms, -4 - 0.1 * rms])
    assert opt.state[p]["step"] == 1
    np.testing.assert_allclose(opt.state[p]["variance"], [0.25, 4.0])

    w0 = np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]])
    g = np.array([[0.5, -1.0, 2.0], [1.0, 0.25, -0.5]])
    w = tg.tensor(w0, requires_grad=True)
    opt = tg.optim.Adafactor([w], lr=0.01, d=1e9)  # (d large: no clipping)
    w.grad = tg.tensor(g)
    opt.step()
    rows, cols = (g ** 2).mean(1, keepdims=True), (g ** 2).mean(0, keepdims=True)
    estimate = rows @ cols / rows.mean()
    expected = w0 - 0.01 * math.sqrt((w0 ** 2).mean()) * g / np.sqrt(estimate)
    np.testing.assert_allclose(w.detach().numpy(), expected)
    assert opt.state[w]["row_var"].shape == (2, 1) and opt.state[w]["col_var"].shape == (1, 3)


def test_adafactor_state_dict_round_trip_and_errors():
    rng = np.random.default_rng(8)
    params = [tg.tensor(rng.standard_normal(s), requires_grad=True) for s in [(3, 2), (4,), ()]]
    opt = tg.optim.Adafactor(params, maximize=True, weight_decay=0.1)
    for _ in range(2):
        for q in params:
            q.grad = tg.tensor(rng.standard_normal(q.shape))
        opt.step()
    copies = [tg.tensor(q.detach().numpy(), requires_grad=True) for q in params]
    other = tg.optim.Adafactor(copies)
    other.load_state_dict(opt.state_dict())
    assert other.param_groups[0]["maximize"] is True
    grads = [rng.standard_normal(q.shape) for q in params]
    for group, o in ((params, opt), (copies, other)):
        for q, g in zip(group, grads):
            q.grad = tg.tensor(g)
        o.step()
    for q, c in zip(params, copies):
        np.testing.assert_array_equal(q.detach().numpy(), c.detach().numpy())
    bad = opt.state_dict()
    bad["state"][0]["row_var"] = np.zeros((3, 2))
    with pytest.raises(ValueError, match="row_var of shape"):
        other.load_state_dict(bad)
    for settings, message in [({"lr": -1}, "Learning rate"), ({"beta2_decay": 0.1}, "beta2"),
                              ({"d": 0.9}, "Clipping threshold"),
                              ({"eps": (None, -1.0)}, "epsilon2")]:
        with pytest.raises(ValueError, match=message):
            tg.optim.Adafactor(params, **settings)
    assert "Adafactor" in dir(tg.optim)
