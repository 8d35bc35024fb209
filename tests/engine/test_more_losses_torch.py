"""The CTC loss, the margin losses of margin_losses.py, the top-level torch.* loss forms, alpha
dropout, rrelu and Adafactor, held against PyTorch's: values, dtypes, shapes and gradients in
both float dtypes and in C, Fortran, transposed and sliced layouts, each reduction, size-0
batches, NaN and the infinities, and PyTorch's errors. What is drawn at random (dropout masks,
rrelu's slopes) cannot match PyTorch's bits: there the deterministic behaviours are held
against it (evaluation mode, p = 0 and p = 1, errors), and the statistics in
test_more_losses.py."""
# ruff: noqa: B023  (each lambda made in a loop is called in the iteration that makes it)

from __future__ import annotations

import warnings
from functools import partial

import numpy as np
import pytest
from torch_compare import RTOL, assert_same, same_error

import tensorgrad as tg
import tensorgrad.nn as tnn
import tensorgrad.nn.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional
DTYPES = (np.float64, np.float32)
LAYOUTS = ("C", "F", "T", "sliced")
_same_error = partial(same_error, message=True)  # both raise: the same type and message


def _laid(lib, a: np.ndarray, layout: str, grad: bool = True):
    """(leaf, view): the values of ``a`` seen through ``layout``, the gradient landing on
    the leaf; the same ops in either library."""
    if layout == "T" and a.ndim >= 2:
        leaf = lib.tensor(np.ascontiguousarray(np.swapaxes(a, 0, -1)), requires_grad=grad)
        return leaf, leaf.transpose(0, -1)
    if layout == "sliced" and a.ndim >= 1:
        wide = np.zeros(a.shape[:-1] + (2 * a.shape[-1] + 1,), a.dtype)
        wide[..., 1::2] = a
        leaf = lib.tensor(wide, requires_grad=grad)
        return leaf, leaf[..., 1::2]
    data = np.asfortranarray(a) if layout == "F" else np.array(a)
    leaf = lib.tensor(data, requires_grad=grad)
    return leaf, leaf


def _check(ours, theirs, arrays, layout="C", dtype=np.float64, rtol=None, grads=None):
    """``ours`` and ``theirs`` on the same float arrays (each in ``layout``): the same
    result, and the same gradient of each array (those ``grads`` flags, by default all) for
    one random weighting of the result. Returns our result."""
    rtol = RTOL[np.dtype(dtype)] * 10 if rtol is None else rtol
    grads = grads or [True] * len(arrays)
    mine = [_laid(tg, a.astype(dtype), layout, g) for a, g in zip(arrays, grads)]
    their = [_laid(torch, a.astype(dtype), layout, g) for a, g in zip(arrays, grads)]
    y = ours(*(v for _, v in mine))
    their_y = theirs(*(v for _, v in their))
    assert_same(y, their_y, "result", rtol)
    if their_y.requires_grad:
        w = np.random.default_rng(3).standard_normal(tuple(their_y.shape)).astype(dtype)
        (y * tg.tensor(w)).sum().backward()
        (their_y * torch.tensor(w)).sum().backward()
        for i, ((leaf, _), (their_leaf, _)) in enumerate(zip(mine, their)):
            if grads[i]:
                assert_same(leaf.grad, their_leaf.grad, f"gradient of argument {i}", rtol)
    return y


def _log_probs(rng, frames, batch, classes):
    x = rng.standard_normal((frames, batch, classes)) * 2
    return x - np.log(np.exp(x).sum(-1, keepdims=True))


# ---- CTC --------------------------------------------------------------------------------------

# name -> (T, C, padded targets, input lengths, target lengths, blank): repeats (which need a
# blank between), a target of length 0, an input of length 0, alignments that cannot fit
# (an infinite loss, NaN gradients), a target holding the blank's class, another blank
CTC_CASES = {
    "repeats": (6, 4, [[1, 2, 2], [3, 1, 0]], [6, 5], [3, 2], 0),
    "longer": (12, 6, [[1, 2, 3, 4, 5], [5, 5, 5, 1, 1], [2, 3, 3, 0, 0]], [12, 11, 9],
               [5, 5, 3], 0),
    "an empty target": (6, 4, [[1, 2, 2], [3, 1, 0]], [6, 5], [0, 2], 0),
    "every target empty": (5, 3, [[1], [2]], [5, 4], [0, 0], 0),
    "no frames": (6, 4, [[1, 2, 2], [3, 1, 0]], [0, 5], [0, 2], 0),
    "no frames, a label": (6, 4, [[1, 2, 2], [3, 1, 0]], [0, 5], [2, 2], 0),
    "cannot fit": (6, 4, [[1, 2, 2], [3, 1, 0]], [3, 1], [3, 2], 0),
    "the blank's class in a target": (6, 4, [[0, 2, 1], [3, 0, 0]], [6, 5], [3, 2], 0),
    "blank last": (7, 5, [[0, 2, 1], [3, 3, 0]], [7, 6], [3, 2], 4),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("name", CTC_CASES)
@pytest.mark.parametrize("zero_infinity", [False, True])
def test_ctc_loss_as_torchs(dtype, reduction, name, zero_infinity):
    frames, classes, targets, inputs, lengths, blank = CTC_CASES[name]
    rng = np.random.default_rng(len(name))
    lp = _log_probs(rng, frames, len(targets), classes)
    settings = dict(blank=blank, reduction=reduction, zero_infinity=zero_infinity)

    def ours(x):
        return F.ctc_loss(x, tg.tensor(targets), tg.tensor(inputs), tg.tensor(lengths),
                          **settings)

    def theirs(x):
        return TF.ctc_loss(x, torch.tensor(targets), torch.tensor(inputs),
                           torch.tensor(lengths), **settings)
    _check(ours, theirs, [lp], dtype=dtype)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_ctc_loss_of_log_probs_in_each_layout(layout, dtype):
    frames, classes, targets, inputs, lengths, blank = CTC_CASES["longer"]
    lp = _log_probs(np.random.default_rng(6), frames, len(targets), classes)
    for reduction in ("mean", "none"):
        _check(lambda x: F.ctc_loss(x, tg.tensor(targets), inputs, lengths,
                                    reduction=reduction),
               lambda x: TF.ctc_loss(x, torch.tensor(targets), inputs, lengths,
                                     reduction=reduction), [lp], layout, dtype)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_ctc_loss_of_log_softmax_in_each_layout(layout, dtype):
    """Through log_softmax, from logits laid out every way, with the targets concatenated
    and the lengths tuples; also the module."""
    rng = np.random.default_rng(7)
    logits = rng.standard_normal((9, 3, 5))
    targets, lengths, inputs = [1, 2, 2, 4, 3, 1, 1], (3, 1, 3), (9, 7, 8)
    for reduction in ("mean", "sum", "none"):
        _check(lambda x: tnn.CTCLoss(reduction=reduction)(
                   F.log_softmax(x, 2), tg.tensor(targets), inputs, lengths),
               lambda x: torch.nn.CTCLoss(reduction=reduction)(
                   TF.log_softmax(x, 2), torch.tensor(targets), inputs, lengths),
               [logits], layout, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_ctc_loss_of_one_sequence_and_odd_inputs(dtype):
    rng = np.random.default_rng(8)
    lp = _log_probs(rng, 7, 1, 4)[:, 0]
    for targets, inputs, lengths in (([1, 2, 2], (7,), (3,)), ([3, 1], 6, 2)):
        def ours(x, targets=targets, inputs=inputs, lengths=lengths):
            return F.ctc_loss(x, tg.tensor(targets), tg.tensor(inputs), tg.tensor(lengths),
                              reduction="none")

        def theirs(x, targets=targets, inputs=inputs, lengths=lengths):
            return TF.ctc_loss(x, torch.tensor(targets), torch.tensor(inputs),
                               torch.tensor(lengths), reduction="none")
        _check(ours, theirs, [lp], dtype=dtype)
    # float targets and int32, int16 lengths, as PyTorch takes them; probabilities where
    # log-probabilities belong give a negative loss, unchecked, as there
    lp3 = _log_probs(rng, 6, 2, 4)
    for x in (lp3, np.exp(lp3)):
        _check(lambda v: F.ctc_loss(v, tg.tensor([[1.0, 2.0], [3.0, 3.0]]),
                                    tg.tensor([6, 5], dtype=tg.int32),
                                    tg.tensor([2, 2], dtype=tg.int16)),
               lambda v: TF.ctc_loss(v, torch.tensor([[1.0, 2.0], [3.0, 3.0]]),
                                     torch.tensor([6, 5], dtype=torch.int32),
                                     torch.tensor([2, 2], dtype=torch.int16)),
               [x], dtype=dtype)


def test_ctc_loss_with_nan_and_infinities():
    rng = np.random.default_rng(9)
    lp = _log_probs(rng, 6, 3, 4)
    lp[2, 0, 1] = np.nan
    lp[:, 1, 2] = -np.inf  # a class that never appears: the target needing it cannot fit
    lp[4, 2, 0] = -np.inf
    for reduction in ("none", "sum"):
        _check(lambda x: F.ctc_loss(x, tg.tensor([[1, 2], [2, 2], [3, 1]]), (6, 6, 6),
                                    (2, 2, 2), reduction=reduction),
               lambda x: TF.ctc_loss(x, torch.tensor([[1, 2], [2, 2], [3, 1]]), (6, 6, 6),
                                     (2, 2, 2), reduction=reduction), [lp])


def test_ctc_loss_top_level_form():
    """torch.ctc_loss: the reduction a number, none by default in PyTorch 2.13's binding."""
    lp = _log_probs(np.random.default_rng(10), 5, 2, 3)
    for args in ((), (0, 1), (0, 2), (1, 0, True)):
        _check(lambda x: tg.ctc_loss(x, tg.tensor([[1, 2], [2, 0]]), (5, 4), (2, 1), *args),
               lambda x: torch.ctc_loss(x, torch.tensor([[1, 2], [2, 0]]), (5, 4), (2, 1),
                                        *args), [lp])


def test_ctc_loss_errors_as_torchs():
    lp = _log_probs(np.random.default_rng(11), 6, 2, 4)
    ours, theirs = tg.tensor(lp), torch.tensor(lp)
    padded = [[1, 2, 2], [3, 1, 0]]
    cases = [
        ((padded, [7, 5], [3, 2]), {}),  # an input longer than T
        ((padded, [6, 5], [4, 2]), {}),  # a target longer than its row
        ((padded, [6, 5], [3, 2]), {"blank": 4}),
        ((padded, [6, 5], [3, 2]), {"blank": -1}),
        ((padded, [6], [3, 2]), {}),
        ((padded, [6, 5], [3]), {}),
        ((padded, [-1, 5], [3, 2]), {}),
        ((padded, [6, 5], [-1, 2]), {}),
        (([1, 2, 2, 3, 1, 1], [6, 5], [3, 2]), {}),  # concatenated: too long
        (([1, 2, 2, 3], [6, 5], [3, 2]), {}),
        ((padded, [6, 5], [3, 2]), {"reduction": "bad"}),
    ]
    for (targets, inputs, lengths), settings in cases:
        _same_error(lambda: F.ctc_loss(ours, tg.tensor(targets), tg.tensor(inputs),
                                       tg.tensor(lengths), **settings),
                    lambda: TF.ctc_loss(theirs, torch.tensor(targets), torch.tensor(inputs),
                                        torch.tensor(lengths), **settings))
    _same_error(lambda: F.ctc_loss(ours, tg.tensor(padded), tg.tensor([6.0, 5.0]),
                                   tg.tensor([3, 2])),
                lambda: TF.ctc_loss(theirs, torch.tensor(padded), torch.tensor([6.0, 5.0]),
                                    torch.tensor([3, 2])))
    _same_error(lambda: F.ctc_loss(ours.long(), tg.tensor(padded), (6, 5), (3, 2)),
                lambda: TF.ctc_loss(theirs.long(), torch.tensor(padded), (6, 5), (3, 2)))
    _same_error(lambda: F.ctc_loss(ours.half(), tg.tensor(padded), (6, 5), (3, 2)),
                lambda: TF.ctc_loss(theirs.half(), torch.tensor(padded), (6, 5), (3, 2)))
    # a size-0 batch: PyTorch refuses an empty log_probs
    _same_error(lambda: F.ctc_loss(ours[:, :0], tg.tensor(padded)[:0], (), ()),
                lambda: TF.ctc_loss(theirs[:, :0], torch.tensor(padded)[:0], (), ()))
    for inputs, lengths in ((6, 2), (tg.tensor([6, 5]), (2, 2)), ((6, 5), tg.tensor([2, 2]))):
        with pytest.raises(TypeError):  # as PyTorch's: tensors or tuples, both alike
            F.ctc_loss(ours, tg.tensor(padded), inputs, lengths)
    # (PyTorch reads out of bounds for a label outside the classes; here it is an error)
    with pytest.raises(RuntimeError, match="target labels"):
        F.ctc_loss(ours, tg.tensor([[1, 2, 4], [3, 1, 0]]), (6, 5), (3, 2))
    # no gradient of its gradient, as PyTorch's (which raises at the second pass; here the
    # first pass that records asks for it)
    x = tg.tensor(lp, requires_grad=True)
    with pytest.raises(NotImplementedError, match="CTCLoss"):
        tg.autograd.grad(F.ctc_loss(x, tg.tensor(padded), (6, 5), (3, 2)), x,
                         create_graph=True)


class _Speech:
    """A tiny speech-like model in either library: Conv1d over (N, features, T), a GRU,
    Linear to the classes, log_softmax, and CTC against unaligned labels."""

    def __init__(self, lib):
        nn = lib.nn
        self.lib = lib
        self.conv = nn.Conv1d(6, 8, 3, padding=1, dtype=lib.float64)
        self.gru = nn.GRU(8, 8, dtype=lib.float64)
        self.head = nn.Linear(8, 5, dtype=lib.float64)
        self.modules = nn.ModuleList([self.conv, self.gru, self.head])
        self.criterion = nn.CTCLoss(zero_infinity=True)

    def loss(self, audio, labels, inputs, lengths):
        features = self.conv(audio).relu().permute(2, 0, 1)  # (T, N, 8)
        hidden, _ = self.gru(features)
        log_probs = self.head(hidden).log_softmax(2)
        return self.criterion(log_probs, labels, inputs, lengths)


def test_a_speech_model_trains_as_torchs():
    """Three steps of Adam on both libraries from the same weights: the same losses."""
    torch.manual_seed(0)
    theirs = _Speech(torch)
    ours = _Speech(tg)
    ours.modules.load_state_dict({k: v.detach().numpy()
                                  for k, v in theirs.modules.state_dict().items()})
    rng = np.random.default_rng(12)
    audio = rng.standard_normal((3, 6, 14))
    labels = [[1, 2, 3, 4], [4, 4, 1, 0], [2, 0, 0, 0]]
    inputs, lengths = (14, 12, 10), (4, 3, 1)
    opt = tg.optim.Adam(ours.modules.parameters(), lr=0.01)
    their_opt = torch.optim.Adam(theirs.modules.parameters(), lr=0.01)
    for _ in range(3):
        loss = ours.loss(tg.tensor(audio), tg.tensor(labels), inputs, lengths)
        their_loss = theirs.loss(torch.tensor(audio), torch.tensor(labels), inputs, lengths)
        assert_same(loss, their_loss, "loss", 1e-9)
        opt.zero_grad()
        their_opt.zero_grad()
        loss.backward()
        their_loss.backward()
        opt.step()
        their_opt.step()
    for (name, p), q in zip(ours.modules.named_parameters(), theirs.modules.parameters()):
        assert_same(p, q, name, 1e-8)


# ---- margin losses ------------------------------------------------------------------------------

MM_X = np.array([[0.1, 0.2, 0.4, 0.8], [0.5, 0.5, 0.3, 0.0], [1.0, -1.0, 0.2, 0.2],
                 [0.0, 1.0, 0.0, 0.3], [2.0, 0.5, -0.5, 1.1]])
MM_T = [3, 0, 1, 1, 2]


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_multi_margin_loss_as_torchs(layout, dtype, reduction):
    weight = np.array([1.0, 2.0, 0.5, 3.0])
    for p in (1, 2):
        for margin in (1.0, 0.3):  # (kinks at z = 0: rows 3 and 4 meet them)
            settings = dict(p=p, margin=margin, reduction=reduction)
            _check(lambda x: F.multi_margin_loss(x, tg.tensor(MM_T), **settings),
                   lambda x: TF.multi_margin_loss(x, torch.tensor(MM_T), **settings),
                   [MM_X], layout, dtype)
            _check(lambda x, w: tnn.MultiMarginLoss(weight=w.detach(), **settings)(
                       x, tg.tensor(MM_T)),
                   lambda x, w: torch.nn.MultiMarginLoss(weight=w.detach(), **settings)(
                       x, torch.tensor(MM_T)),
                   [MM_X, weight], layout, dtype, grads=[True, False])


def test_multi_margin_loss_edges_as_torchs():
    x = MM_X.copy()
    x[0, 1], x[1, 0], x[2, 3] = np.nan, np.nan, np.inf  # a NaN that is not the target's
    for reduction in ("none", "sum"):  # adds nothing; the target's makes the row 0
        _check(lambda v: F.multi_margin_loss(v, tg.tensor(MM_T), reduction=reduction),
               lambda v: TF.multi_margin_loss(v, torch.tensor(MM_T), reduction=reduction),
               [x])
    # one row (C) with a 0-d target, a 0-d input, a size-0 batch
    for reduction in ("none", "mean"):
        _check(lambda v: F.multi_margin_loss(v, tg.tensor(2), reduction=reduction),
               lambda v: TF.multi_margin_loss(v, torch.tensor(2), reduction=reduction),
               [MM_X[0]])
        _check(lambda v: F.multi_margin_loss(v, tg.tensor(0), reduction=reduction),
               lambda v: TF.multi_margin_loss(v, torch.tensor(0), reduction=reduction),
               [np.array(0.5)])
    _check(lambda v: F.multi_margin_loss(v, tg.tensor(MM_T)[:0], reduction="none"),
           lambda v: TF.multi_margin_loss(v, torch.tensor(MM_T)[:0], reduction="none"),
           [MM_X[:0]])


def test_multi_margin_loss_errors_as_torchs():
    x, tx = tg.tensor(MM_X), torch.tensor(MM_X)
    t, tt = tg.tensor(MM_T), torch.tensor(MM_T)
    for ours, theirs in [
        (lambda: F.multi_margin_loss(x, t, p=3), lambda: TF.multi_margin_loss(tx, tt, p=3)),
        (lambda: F.multi_margin_loss(x, t, weight=tg.ones(2, 2)),
         lambda: TF.multi_margin_loss(tx, tt, weight=torch.ones(2, 2))),
        (lambda: F.multi_margin_loss(x, t, weight=tg.ones(3, dtype=tg.float64)),
         lambda: TF.multi_margin_loss(tx, tt, weight=torch.ones(3, dtype=torch.float64))),
        (lambda: F.multi_margin_loss(x, t, weight=tg.ones(4, dtype=tg.float32)),
         lambda: TF.multi_margin_loss(tx, tt, weight=torch.ones(4, dtype=torch.float32))),
        (lambda: F.multi_margin_loss(x, t.int()), lambda: TF.multi_margin_loss(tx, tt.int())),
        (lambda: F.multi_margin_loss(x, t.float()),
         lambda: TF.multi_margin_loss(tx, tt.float())),
        (lambda: F.multi_margin_loss(x, t + 1), lambda: TF.multi_margin_loss(tx, tt + 1)),
        (lambda: F.multi_margin_loss(x, t - 1), lambda: TF.multi_margin_loss(tx, tt - 1)),
        (lambda: F.multi_margin_loss(x, t[:3]), lambda: TF.multi_margin_loss(tx, tt[:3])),
        (lambda: F.multi_margin_loss(x[:, :0], t), lambda: TF.multi_margin_loss(tx[:, :0], tt)),
        (lambda: F.multi_margin_loss(x[None], t), lambda: TF.multi_margin_loss(tx[None], tt)),
        (lambda: F.multi_margin_loss(x.long(), t), lambda: TF.multi_margin_loss(tx.long(), tt)),
        (lambda: F.multi_margin_loss(x, t, reduction="x"),
         lambda: TF.multi_margin_loss(tx, tt, reduction="x")),
        (lambda: tnn.MultiMarginLoss(p=3), lambda: torch.nn.MultiMarginLoss(p=3)),
        (lambda: F.multi_margin_loss(x, t, weight=tg.ones(4, requires_grad=True)),
         lambda: TF.multi_margin_loss(tx, tt, weight=torch.ones(4, dtype=torch.float64,
                                                                requires_grad=True))),
    ]:
        _same_error(ours, theirs)


ML_T = [[3, 0, -1, 1], [1, 2, 3, -1], [0, -1, 2, 2], [3, 3, -1, 0], [-1, 0, 0, 0]]


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_multilabel_margin_loss_as_torchs(layout, dtype, reduction):
    """Targets that end early, repeat a class, list every class, or none."""
    rng = np.random.default_rng(13)
    for x in (MM_X, rng.standard_normal((5, 4))):
        _check(lambda v: F.multilabel_margin_loss(v, tg.tensor(ML_T), reduction=reduction),
               lambda v: TF.multilabel_margin_loss(v, torch.tensor(ML_T), reduction=reduction),
               [x], layout, dtype)
        _check(lambda v: tnn.MultiLabelMarginLoss(reduction=reduction)(v, tg.tensor(ML_T[1])),
               lambda v: torch.nn.MultiLabelMarginLoss(reduction=reduction)(
                   v, torch.tensor(ML_T[1])), [x[1]], layout, dtype)
        _check(lambda v: F.multilabel_margin_loss(v, tg.tensor(ML_T)[:0], reduction="none"),
               lambda v: TF.multilabel_margin_loss(v, torch.tensor(ML_T)[:0],
                                                   reduction="none"), [x[:0]])
    x = MM_X.copy()
    x[0, 1], x[1, 1] = np.nan, np.inf
    _check(lambda v: F.multilabel_margin_loss(v, tg.tensor(ML_T), reduction="none"),
           lambda v: TF.multilabel_margin_loss(v, torch.tensor(ML_T), reduction="none"), [x])


def test_multilabel_margin_loss_errors_as_torchs():
    x, tx = tg.tensor(MM_X), torch.tensor(MM_X)
    t, tt = tg.tensor(ML_T), torch.tensor(ML_T)
    for bad in ([[4, 3, -1, 1]] * 5, [[-2, 3, -1, 1]] * 5, [[3, -1, 5, 9]] * 5):
        _same_error(lambda: F.multilabel_margin_loss(x, tg.tensor(bad)),
                    lambda: TF.multilabel_margin_loss(tx, torch.tensor(bad)))
    _same_error(lambda: F.multilabel_margin_loss(x, t[:, :3]),
                lambda: TF.multilabel_margin_loss(tx, tt[:, :3]))
    _same_error(lambda: F.multilabel_margin_loss(x, t.int()),
                lambda: TF.multilabel_margin_loss(tx, tt.int()))
    _same_error(lambda: F.multilabel_margin_loss(x.long(), t),
                lambda: TF.multilabel_margin_loss(tx.long(), tt))


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_hinge_embedding_loss_as_torchs(layout, dtype, reduction):
    """Targets 1, -1 and others (both terms), broadcast; the kink at margin - x = 0; NaN,
    infinities; a size-0 batch (its mean NaN)."""
    x = np.array([[0.1, 1.0, 0.4, -0.2], [np.nan, 0.5, np.inf, -np.inf], [2.0, 0.3, 1.0, 0.0]])
    y = np.array([[1, -1, 1, -1], [-1, 1, -1, 0], [2, -1, -1, -1]])
    for margin in (1.0, 0.5):
        _check(lambda v: F.hinge_embedding_loss(v, tg.tensor(y), margin, reduction=reduction),
               lambda v: TF.hinge_embedding_loss(v, torch.tensor(y), margin,
                                                 reduction=reduction), [x], layout, dtype)
    _check(lambda v: tnn.HingeEmbeddingLoss(reduction=reduction)(v, tg.tensor(y[2])),
           lambda v: torch.nn.HingeEmbeddingLoss(reduction=reduction)(v, torch.tensor(y[2])),
           [x], layout, dtype)
    _check(lambda v: F.hinge_embedding_loss(v, tg.tensor(y)[:0], reduction=reduction),
           lambda v: TF.hinge_embedding_loss(v, torch.tensor(y)[:0], reduction=reduction),
           [x[:0]], dtype=dtype)


def test_hinge_embedding_loss_dtypes_and_errors():
    x = np.array([0.5, 2.0])
    _check(lambda v: F.hinge_embedding_loss(v, tg.tensor([1.0, -1.0], dtype=tg.float64)),
           lambda v: TF.hinge_embedding_loss(v, torch.tensor([1.0, -1.0],
                                                             dtype=torch.float64)),
           [x], dtype=np.float32)
    _same_error(lambda: F.hinge_embedding_loss(tg.tensor(x), tg.tensor([1, 1]), reduction="x"),
                lambda: TF.hinge_embedding_loss(torch.tensor(x), torch.tensor([1, 1]),
                                                reduction="x"))


def _cosine_distance(lib):
    return lambda a, b: 1 - lib.nn.functional.cosine_similarity(a, b)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_triplet_margin_with_distance_loss_as_torchs(layout, dtype, reduction):
    rng = np.random.default_rng(14)
    a, p, n = (rng.standard_normal((5, 3)) for _ in range(3))
    for swap in (False, True):
        for distance in (None, "cosine"):
            def ours(a, p, n, swap=swap, distance=distance):
                d = _cosine_distance(tg) if distance else None
                return F.triplet_margin_with_distance_loss(
                    a, p, n, distance_function=d, swap=swap, margin=0.7, reduction=reduction)

            def theirs(a, p, n, swap=swap, distance=distance):
                d = _cosine_distance(torch) if distance else None
                return TF.triplet_margin_with_distance_loss(
                    a, p, n, distance_function=d, swap=swap, margin=0.7, reduction=reduction)
            _check(ours, theirs, [a, p, n], layout, dtype)
    _check(lambda a, p, n: tnn.TripletMarginWithDistanceLoss(reduction=reduction)(a, p, n),
           lambda a, p, n: torch.nn.TripletMarginWithDistanceLoss(reduction=reduction)(a, p, n),
           [a, p, n], layout, dtype)
    _check(lambda a, p, n: F.triplet_margin_with_distance_loss(a, p, n, reduction=reduction),
           lambda a, p, n: TF.triplet_margin_with_distance_loss(a, p, n, reduction=reduction),
           [a[:0], p[:0], n[:0]], dtype=dtype)  # a size-0 batch (its mean NaN)


def test_triplet_margin_with_distance_loss_errors_and_module():
    a = np.ones((2, 3))
    for ours, theirs in [
        (lambda: F.triplet_margin_with_distance_loss(tg.tensor(a), tg.tensor(a), tg.tensor(a),
                                                     margin=0),
         lambda: TF.triplet_margin_with_distance_loss(torch.tensor(a), torch.tensor(a),
                                                      torch.tensor(a), margin=0)),
        (lambda: F.triplet_margin_with_distance_loss(tg.tensor(a), tg.tensor(a),
                                                     tg.tensor(a[0])),
         lambda: TF.triplet_margin_with_distance_loss(torch.tensor(a), torch.tensor(a),
                                                      torch.tensor(a[0]))),
        (lambda: F.triplet_margin_with_distance_loss(tg.tensor(a), tg.tensor(a), tg.tensor(a),
                                                     reduction="x"),
         lambda: TF.triplet_margin_with_distance_loss(torch.tensor(a), torch.tensor(a),
                                                      torch.tensor(a), reduction="x")),
        (lambda: tnn.TripletMarginWithDistanceLoss(margin=-1),
         lambda: torch.nn.TripletMarginWithDistanceLoss(margin=-1)),
    ]:
        _same_error(ours, theirs)
    assert repr(tnn.TripletMarginWithDistanceLoss()) == \
        repr(torch.nn.TripletMarginWithDistanceLoss())


def test_loss_modules_print_and_keep_state_as_torchs():
    for name, args in [("CTCLoss", ()), ("HingeEmbeddingLoss", ()), ("MultiMarginLoss", ()),
                       ("MultiLabelMarginLoss", ()), ("AlphaDropout", (0.2,)),
                       ("FeatureAlphaDropout", (0.2,)), ("RReLU", ()), ("RReLU", (0.1, 0.2)),
                       ("RReLU", (0.1, 0.2, True))]:
        assert repr(getattr(tnn, name)(*args)) == repr(getattr(torch.nn, name)(*args))
    ours = tnn.MultiMarginLoss(weight=tg.ones(3))
    theirs = torch.nn.MultiMarginLoss(weight=torch.ones(3))
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight"]
    criterion = tnn.CTCLoss(blank=2, reduction="sum", zero_infinity=True)
    assert (criterion.blank, criterion.reduction, criterion.zero_infinity) == (2, "sum", True)


def _gradient_of_gradient(m, loss, arrays):
    """The gradient of (the gradient of ``loss`` times a fixed weighting), in library ``m``."""
    leaves = [m.tensor(arr, requires_grad=True) for arr in arrays]
    grads = m.autograd.grad(loss(m, *leaves).sum(), leaves, create_graph=True)
    total = sum((g * m.tensor(np.cos(np.arange(g.numel())).reshape(tuple(g.shape)))).sum()
                for g in grads)
    return m.autograd.grad(total, leaves)


def test_margin_losses_gradients_of_gradients():
    """Composed of tensor ops, the margin losses have gradients of gradients: against
    PyTorch's where it has them (hinge, triplet, rrelu), and against finite differences of
    the gradient where PyTorch has none (multi-margin and multilabel-margin raise there)."""
    rng = np.random.default_rng(18)
    x, v = rng.standard_normal((4, 5)), rng.standard_normal((4, 5))
    a, p, n = (rng.standard_normal((4, 3)) for _ in range(3))
    for loss, arrays in [
        (lambda m, x: m.nn.functional.hinge_embedding_loss(x * x, m.tensor(np.sign(v))), [x]),
        (lambda m, a, p, n: m.nn.functional.triplet_margin_with_distance_loss(
            a, p, n, swap=True, margin=3.0), [a, p, n]),
        (lambda m, x: m.nn.functional.rrelu(x * x - 1, 0.1, 0.3) ** 2, [x]),
    ]:
        for ours, theirs in zip(_gradient_of_gradient(tg, loss, arrays),
                                _gradient_of_gradient(torch, loss, arrays)):
            assert_same(ours, theirs, "gradient of the gradient", 1e-9)
    labels = [[1, 3, -1, 0, 0], [4, -1, 0, 0, 0], [0, 1, 2, 3, 4], [2, 2, -1, 0, 0]]
    for loss in (lambda m, x: m.nn.functional.multi_margin_loss(
                     x * x, m.tensor([1, 0, 4, 2]), p=2, weight=m.tensor(np.abs(v[0]))),
                 lambda m, x: m.nn.functional.multilabel_margin_loss(x * x, m.tensor(labels))):
        with pytest.raises(RuntimeError, match="not implemented"):
            _gradient_of_gradient(torch, loss, [x])
        (ours,) = _gradient_of_gradient(tg, loss, [x])
        weighting = np.cos(np.arange(x.size)).reshape(x.shape)

        def weighted_gradient(a, loss=loss):
            t = tg.tensor(a, requires_grad=True)
            loss(tg, t).sum().backward()
            return float((t.grad.numpy() * weighting).sum())
        h, numeric = 1e-6, np.zeros_like(x)
        for i in np.ndindex(x.shape):
            up, down = x.copy(), x.copy()
            up[i] += h
            down[i] -= h
            numeric[i] = (weighted_gradient(up) - weighted_gradient(down)) / (2 * h)
        np.testing.assert_allclose(ours.numpy(), numeric, atol=1e-6)


# ---- the top-level forms ------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_top_level_loss_forms_as_torchs(dtype):
    """torch.hinge_embedding_loss and the rest: ATen's arguments, the reduction a number
    (none by default in PyTorch 2.13's Python binding, any number but 1 and 2 none)."""
    rng = np.random.default_rng(15)
    x, z = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    signs = np.sign(rng.standard_normal((4, 3)))
    for reduction in ((), (0,), (1,), (2,), (7,)):
        _check(lambda a: tg.hinge_embedding_loss(a, tg.tensor(signs), 0.5, *reduction),
               lambda a: torch.hinge_embedding_loss(a, torch.tensor(signs), 0.5, *reduction),
               [x], dtype=dtype)
        _check(lambda a, b: tg.margin_ranking_loss(a, b, tg.tensor(signs), 0.1, *reduction),
               lambda a, b: torch.margin_ranking_loss(a, b, torch.tensor(signs), 0.1,
                                                      *reduction), [x, z], dtype=dtype)
        _check(lambda a, b: tg.cosine_embedding_loss(a, b, tg.tensor(signs[:, 0]), 0.2,
                                                     *reduction),
               lambda a, b: torch.cosine_embedding_loss(a, b, torch.tensor(signs[:, 0]), 0.2,
                                                        *reduction), [x, z], dtype=dtype)
        _check(lambda a, b: tg.kl_div(a, b, *reduction),
               lambda a, b: torch.kl_div(a, b, *reduction), [x, np.abs(z)], dtype=dtype)
        _check(lambda a, b: tg.kl_div(a, b, *reduction, log_target=True),
               lambda a, b: torch.kl_div(a, b, *reduction, log_target=True), [x, z],
               dtype=dtype)
        _check(lambda a, b: tg.binary_cross_entropy_with_logits(a, b.sigmoid(), None, None,
                                                                *reduction),
               lambda a, b: torch.binary_cross_entropy_with_logits(a, b.sigmoid(), None, None,
                                                                   *reduction),
               [x, z], dtype=dtype)
    _check(lambda a, w, pw: tg.binary_cross_entropy_with_logits(a, tg.tensor(np.abs(signs)),
                                                                w, pw, 1),
           lambda a, w, pw: torch.binary_cross_entropy_with_logits(
               a, torch.tensor(np.abs(signs)), w, pw, 1),
           [x, np.abs(z), np.abs(z[0])], dtype=dtype, grads=[True, False, False])
    _same_error(lambda: tg.hinge_embedding_loss(tg.tensor(x), tg.tensor(x), 1.0, "mean"),
                lambda: torch.hinge_embedding_loss(torch.tensor(x), torch.tensor(x), 1.0,
                                                   "mean"))
    _same_error(lambda: tg.kl_div(tg.tensor(x), tg.tensor(x), True),
                lambda: torch.kl_div(torch.tensor(x), torch.tensor(x), True))


# ---- alpha dropout and rrelu ------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_alpha_dropouts_deterministic_cases_as_torchs(dtype):
    """Evaluation mode and p = 0: the input itself; p = 1: input times zeros (NaN stays);
    PyTorch's errors for p outside [0, 1], NaN, integers, fewer than 2 dimensions."""
    x = np.array([[1.0, -2.0, np.nan], [0.0, 3.0, -1.0]], dtype)
    for name in ("alpha_dropout", "feature_alpha_dropout"):
        ours, theirs = getattr(F, name), getattr(TF, name)
        a, t = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        assert ours(a, 0.5) is a and ours(a, 0.0, True) is a and ours(a, 0.3, False) is a
        _check(lambda v, ours=ours: ours(v, 1.0, True),
               lambda v, theirs=theirs: theirs(v, 1.0, True), [x], dtype=dtype)
        _check(lambda v, ours=ours: getattr(tg, name)(v, 1.0, True),
               lambda v, theirs=theirs: getattr(torch, name)(v, 1.0, True), [x], dtype=dtype)
        for p in (1.5, -0.1, float("nan")):
            _same_error(lambda ours=ours, p=p: ours(a, p, True),
                        lambda theirs=theirs, p=p: theirs(t, p, True))
        _same_error(lambda ours=ours: ours(tg.tensor([1, 2]).reshape(1, 2), 0.5, True),
                    lambda theirs=theirs: theirs(torch.tensor([1, 2]).reshape(1, 2), 0.5, True))
        assert ours(tg.tensor([1, 2]), 0.0, True).dtype == tg.int64
        empty = tg.zeros(2, 3, 0)
        assert ours(empty, 0.5, True).shape == (2, 3, 0)
        for module in (tnn.AlphaDropout, tnn.FeatureAlphaDropout):
            layer = module(0.4).eval()
            assert layer(a) is a
        same_error(lambda: tnn.AlphaDropout(1.2), lambda: torch.nn.AlphaDropout(1.2), message=True)
    _same_error(lambda: F.feature_alpha_dropout(tg.tensor(x[0]), 0.5, True),
                lambda: TF.feature_alpha_dropout(torch.tensor(x[0]), 0.5, True))
    _same_error(lambda: tg.alpha_dropout(tg.tensor(x), 1.5, True),
                lambda: torch.alpha_dropout(torch.tensor(x), 1.5, True))
    with pytest.raises(TypeError):  # (train is required at the top level)
        tg.alpha_dropout(tg.tensor(x), 0.5)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_rrelu_in_evaluation_mode_as_torchs(layout, dtype):
    """Out of training: leaky_relu with the mean slope, values and gradients (at 0 too)."""
    x = np.array([[1.0, -2.0, 0.0, -0.5], [np.nan, np.inf, -np.inf, 3.0], [0.1, -0.1, 2.0, -7.0]])
    for lower, upper in ((1 / 8, 1 / 3), (0.2, 0.2), (0.0, 1.0)):
        _check(lambda v: F.rrelu(v, lower, upper),
               lambda v: TF.rrelu(v, lower, upper), [x], layout, dtype)
        _check(lambda v: tnn.RReLU(lower, upper).eval()(v),
               lambda v: torch.nn.RReLU(lower, upper).eval()(v), [x], layout, dtype)
        _check(lambda v: tg.rrelu(v, lower, upper),
               lambda v: torch.rrelu(v, lower, upper), [x], layout, dtype)


def test_rrelu_errors_as_torchs():
    x = np.array([1.0, -2.0])
    for training in (False, True):
        _same_error(lambda training=training: F.rrelu(tg.tensor(x), 0.5, 0.2, training),
                    lambda training=training: TF.rrelu(torch.tensor(x), 0.5, 0.2, training))
        _same_error(lambda training=training: F.rrelu(tg.tensor([1, -2]), training=training),
                    lambda training=training: TF.rrelu(torch.tensor([1, -2]),
                                                       training=training))
    with pytest.raises(RuntimeError) as their_error:
        TF.rrelu(torch.tensor(x, requires_grad=True), inplace=True)
    with pytest.raises(RuntimeError) as our_error:
        F.rrelu(tg.tensor(x, requires_grad=True), inplace=True)
    assert str(our_error.value).startswith(str(their_error.value))


def test_rrelu_training_with_one_slope_as_torchs():
    """lower == upper: the draw is that slope, so training mode matches PyTorch exactly."""
    x = np.array([[1.0, -2.0, 0.0], [np.nan, -np.inf, -0.5]])
    _check(lambda v: F.rrelu(v, 0.2, 0.2, True), lambda v: TF.rrelu(v, 0.2, 0.2, True), [x])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = F.rrelu_(tg.tensor(x), 0.2, 0.2, True)
        their_y = TF.rrelu_(torch.tensor(x), 0.2, 0.2, True)
    assert_same(y, their_y, "rrelu_")


# ---- Adafactor ---------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("settings", [
    {}, {"lr": 0.05, "weight_decay": 0.1, "maximize": True},
    {"eps": (1e-30, 1e-3), "d": 1.5, "beta2_decay": -0.5}, {"lr": 0.5, "foreach": True},
    {"eps": (1e-3, 0.0)}])
def test_adafactor_steps_as_torchs(dtype, settings):
    """Matrices, a 3-d parameter, vectors and a number, in two groups, over six steps (one
    parameter skipping a step without a gradient); then the state_dicts agree, and ours
    loaded with PyTorch's continues as PyTorch's does."""
    rng = np.random.default_rng(16)
    shapes = [(4, 3), (5,), (), (2, 3, 4), (1, 6)]
    start = [rng.standard_normal(s).astype(dtype) for s in shapes]
    ours = [tg.tensor(a.copy(), requires_grad=True) for a in start]
    theirs = [torch.tensor(a.copy(), requires_grad=True) for a in start]
    opt = tg.optim.Adafactor([{"params": ours[:2]}, {"params": ours[2:], "lr": 0.02}],
                             **settings)
    their_opt = torch.optim.Adafactor([{"params": theirs[:2]},
                                       {"params": theirs[2:], "lr": 0.02}], **settings)
    rtol = 1e-12 if dtype == np.float64 else 2e-5

    def step(i):
        for j, (p, q) in enumerate(zip(ours, theirs)):
            if i == 2 and j == 1:
                p.grad = q.grad = None
                continue
            g = rng.standard_normal(p.shape).astype(dtype)
            p.grad, q.grad = tg.tensor(g), torch.tensor(g)
        opt.step()
        their_opt.step()
        for p, q in zip(ours, theirs):
            assert_same(p, q, f"step {i}", rtol)

    for i in range(6):
        step(i)
    state, their_state = opt.state_dict(), their_opt.state_dict()
    assert state["param_groups"] == their_state["param_groups"]
    for n, entries in their_state["state"].items():
        assert list(state["state"][n]) == list(entries)
        assert state["state"][n]["step"] == int(entries["step"])
        for key in entries:
            if key != "step":
                assert_same(state["state"][n][key], entries[key], key, rtol)
    opt.load_state_dict(their_state)
    for i in range(6, 8):
        step(i)


def test_adafactor_eps1_of_a_groups_first_parameter_as_torchs():
    """eps1 None: the machine epsilon of the dtype of the group's first parameter with a
    gradient, kept for the rest of the group (a float64 one after a float32 one takes
    float32's), as PyTorch's loop does; tiny gradients meet it."""
    rng = np.random.default_rng(17)
    start = [rng.standard_normal((3, 2)).astype(np.float32), rng.standard_normal((2, 4)),
             rng.standard_normal(5)]
    ours = [tg.tensor(a, requires_grad=True) for a in start]
    theirs = [torch.tensor(a, requires_grad=True) for a in start]
    opt, their_opt = tg.optim.Adafactor(ours), torch.optim.Adafactor(theirs)
    for _ in range(3):
        for p, q in zip(ours, theirs):
            g = rng.standard_normal(tuple(p.shape)).astype(p.detach().numpy().dtype) * 1e-9
            p.grad, q.grad = tg.tensor(g), torch.tensor(g)
        opt.step()
        their_opt.step()
        for p, q in zip(ours, theirs):
            assert_same(p, q, "parameter", 1e-6 if p.dtype == tg.float32 else 1e-12)


def test_adafactor_errors_and_defaults_as_torchs():
    p, q = tg.zeros(2, requires_grad=True), torch.zeros(2, requires_grad=True)
    for settings in [{"lr": -1.0}, {"beta2_decay": 0.5}, {"eps": (-1.0, 1e-3)},
                     {"eps": (None, -1.0)}, {"d": 0.5}, {"weight_decay": -0.1}]:
        _same_error(lambda settings=settings: tg.optim.Adafactor([p], **settings),
                    lambda settings=settings: torch.optim.Adafactor([q], **settings))
    _same_error(lambda: tg.optim.Adafactor([p], lr=tg.tensor([1.0, 2.0])),
                lambda: torch.optim.Adafactor([q], lr=torch.tensor([1.0, 2.0])))
    assert tg.optim.Adafactor([p]).defaults == torch.optim.Adafactor([q]).defaults
