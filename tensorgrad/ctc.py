"""The connectionist temporal classification loss (``F.ctc_loss``), as PyTorch's.

The loss of one sequence is -log of the probability of its target summed over every
alignment of the target to the input's frames: the target with a blank between its labels
and at both ends (the "extended" target, 2L + 1 symbols), each frame emitting one symbol,
moving on by one symbol or, past a blank between two different labels, by two. The forward
(alpha) recursion sums those paths in log space frame by frame, vectorized over the batch and
the extended target's positions; the backward pass runs the beta recursion from the other end.

The gradient is PyTorch's, which is not the plain derivative of the loss with respect to
``log_probs``: it is exp(log_probs) minus each label's share of the alignments, the gradient
that arrives at the logits through a ``log_softmax`` (whose backward then adds nothing), as
PyTorch computes it. Frames past an input's length get 0, and a sequence that no alignment
fits (an infinite loss) gets NaN, or 0 with ``zero_infinity``. As PyTorch's, it has no
gradient of its gradient (``create_graph=True`` raises NotImplementedError).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .dtypes import short_name
from .tensor import Function, Tensor, quiet


def _logsumexp3(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """log(exp(a) + exp(b) + exp(c)) shifted by the largest as PyTorch's kernel does (a
    shift of 0 where all three are -inf, so the result is -inf and not NaN)."""
    m = np.maximum(np.maximum(a, b), c)
    m = np.where(m == -np.inf, 0, m)
    return np.log(np.exp(a - m) + np.exp(b - m) + np.exp(c - m)) + m


def _shifted(a: np.ndarray, by: int) -> np.ndarray:
    """``a`` moved ``by`` places along its last axis (up if positive), -inf filling in."""
    out = np.full_like(a, -np.inf)
    if by > 0:
        out[..., by:] = a[..., :a.shape[-1] - by]
    else:
        out[..., :by] = a[..., -by:]
    return out


class CTCLoss(Function):
    """The negative log-likelihood of each sequence of a (T, N, C) batch, (N,); inputs
    after ``log_probs`` are arrays: the extended targets (N, K), the input lengths and
    target lengths (N,), ``zero_infinity``."""

    @staticmethod
    @quiet
    def forward(ctx, log_probs, extended, input_lengths, target_lengths, zero_infinity):
        frames = log_probs.shape[0]
        positions = np.arange(extended.shape[1])
        valid = positions <= 2 * target_lengths[:, None]  # (N, K): inside the extended target
        # a move by two: onto a label that differs from the one two places back (never a blank)
        skip = np.zeros(extended.shape, bool)
        skip[:, 2:] = extended[:, 2:] != extended[:, :-2]
        skip &= valid
        # each frame's log-probability of each extended symbol: (T, N, K)
        emitted = np.take_along_axis(log_probs, extended[None], axis=2)
        alpha = np.full(emitted.shape, -np.inf, log_probs.dtype)
        if frames:  # (targets all empty: the extended target is one blank)
            alpha[0, :, 0] = emitted[0, :, 0]
            has_label = target_lengths > 0
            if has_label.any():
                alpha[0, has_label, 1] = emitted[0, has_label, 1]
        for t in range(1, frames):
            previous = alpha[t - 1]
            moved_two = np.where(skip, _shifted(previous, 2), -np.inf)
            step = _logsumexp3(previous, _shifted(previous, 1), moved_two) + emitted[t]
            alpha[t] = np.where(valid, step, -np.inf)
        losses = np.empty(len(input_lengths), log_probs.dtype)
        for n, (length, labels) in enumerate(zip(input_lengths, target_lengths)):
            if length == 0:  # no frames: only the empty target has an alignment
                losses[n] = -(0.0 if labels == 0 else -np.inf)
                continue
            last = alpha[length - 1, n]
            end = last[2 * labels]
            before = last[2 * labels - 1] if labels > 0 else -np.inf
            m = max(end, before)
            m = 0 if m == -np.inf else m
            losses[n] = -(np.log(np.exp(end - m) + np.exp(before - m)) + m)
        ctx.save_for_backward(log_probs, emitted, alpha, losses)
        ctx.arrays = extended, input_lengths, target_lengths, valid, skip
        ctx.zero_infinity = zero_infinity
        if zero_infinity:
            return np.where(losses == np.inf, 0, losses).astype(log_probs.dtype, copy=False)
        return losses

    @staticmethod
    @quiet
    def backward(ctx, grad):
        log_probs, emitted, alpha, losses = ctx.saved_tensors
        extended, input_lengths, target_lengths, valid, skip = ctx.arrays
        frames, _, classes = log_probs.shape
        beta = np.full(emitted.shape, -np.inf, log_probs.dtype)
        last_frame = input_lengths - 1  # (N,): where each sequence's beta starts
        ends = np.zeros(valid.shape, bool)  # the last label and the blank after it
        rows = np.arange(len(target_lengths))
        ends[rows, 2 * target_lengths] = True
        ends[rows[target_lengths > 0], 2 * target_lengths[target_lengths > 0] - 1] = True
        skip_back = np.zeros(skip.shape, bool)  # from s + 2 back to s
        skip_back[:, :-2] = skip[:, 2:]
        for t in range(frames - 1, -1, -1):
            start = np.where(ends, emitted[t], -np.inf)
            if t < frames - 1:
                after = beta[t + 1]
                moved_two = np.where(skip_back, _shifted(after, -2), -np.inf)
                step = _logsumexp3(after, _shifted(after, -1), moved_two) + emitted[t]
                step = np.where(valid, step, -np.inf)
            else:
                step = start
            here = (t == last_frame)[:, None]
            inside = (t < last_frame)[:, None]
            beta[t] = np.where(here, start, np.where(inside, step, -np.inf))
        # each class's share of the alignments at each frame, in log space: (T, N, C)
        both = alpha + beta
        top = both.max(axis=2, keepdims=True)
        top = np.where(np.isfinite(top), top, 0)
        one_hot = (extended[:, :, None] == np.arange(classes)) & valid[:, :, None]
        shares = np.einsum("tns,nsc->tnc", np.exp(both - top), one_hot.astype(both.dtype))
        log_shares = np.log(shares) + top
        # PyTorch's kernel sets the last frame's two shares one after the other, taking the
        # last label and the blank for different classes: where a target ends in the blank's
        # class, that class gets the label's share alone. Done the same, to give its gradient.
        for n, (length, labels) in enumerate(zip(input_lengths, target_lengths)):
            if length > 0 and labels > 0 and extended[n, 2 * labels - 1] == extended[n, 0]:
                log_shares[length - 1, n, extended[n, 0]] = both[length - 1, n, 2 * labels - 1]
        nll = losses[None, :, None]
        out = (np.exp(log_probs) - np.exp(log_shares + nll - log_probs)) * grad[None, :, None]
        out[np.arange(frames)[:, None] >= input_lengths[None, :]] = 0  # frames past the end
        if ctx.zero_infinity:
            out[:, losses == np.inf] = 0
        return out.astype(log_probs.dtype, copy=False), None, None, None, None


def _lengths(lengths: Any, name: str, batch: int, batched: bool) -> np.ndarray:
    """Lengths given as a tensor of integers, or a tuple or list of ints, as int64 (N,)."""
    if isinstance(lengths, Tensor):
        array = lengths._data
        if array.dtype.kind not in "iu":
            raise RuntimeError(f"{name} must be integral")
    elif isinstance(lengths, (tuple, list)):
        array = np.asarray(lengths, dtype=np.int64) if lengths else np.zeros(0, np.int64)
    else:
        raise TypeError(f"ctc_loss(): {name} must be a tensor or a tuple of ints, not "
                        f"{type(lengths).__name__}")
    array = array.astype(np.int64).reshape(-1) if array.ndim == 0 or not batched else \
        array.astype(np.int64)
    if array.ndim != 1 or array.shape[0] != batch:
        raise RuntimeError(f"{name} must be of size batch_size")
    return array


def _extended(targets: np.ndarray, target_lengths: np.ndarray, blank: int, classes: int
              ) -> np.ndarray:
    """(N, 2 max(L) + 1): each target with a blank between its labels and at both ends,
    blanks after its end. ``targets`` padded (N, S) or concatenated (sum(L),)."""
    batch, longest = len(target_lengths), int(target_lengths.max(initial=0))
    where = "(while checking arguments for ctc_loss_allocate_outputs)"
    if targets.ndim == 1:
        total = int(target_lengths.sum())
        if targets.shape[0] != total:
            raise RuntimeError(f"Expected tensor to have size {total} at dimension 0, but got "
                               f"size {targets.shape[0]} for argument #2 'targets' {where}")
        starts = np.concatenate([[0], np.cumsum(target_lengths)[:-1]]).astype(np.int64)
        padded = np.zeros((batch, longest), np.int64)
        for n, (start, length) in enumerate(zip(starts, target_lengths)):
            padded[n, :length] = targets[start:start + length]
    else:
        if targets.shape[1] < longest:
            raise RuntimeError(f"Expected tensor to have size at least {longest} at dimension "
                               f"1, but got size {targets.shape[1]} for argument #2 'targets' "
                               f"{where}")
        padded = targets[:, :longest].astype(np.int64)
    used = np.arange(longest) < target_lengths[:, None]
    labels = padded[used]
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        # (PyTorch reads out of bounds here; an error is better than a wrong loss)
        raise RuntimeError(f"ctc_loss: target labels must be in [0, {classes}), got "
                           f"{int(labels.min() if labels.min() < 0 else labels.max())}")
    extended = np.full((batch, 2 * longest + 1), blank, np.int64)
    extended[:, 1::2] = np.where(used, padded, blank)
    return extended


def ctc_loss(log_probs: Tensor, targets: Any, input_lengths: Tensor | Sequence[int],
             target_lengths: Tensor | Sequence[int], blank: int = 0, reduction: str = "mean",
             zero_infinity: bool = False) -> Tensor:
    """The CTC loss of log-probabilities ``log_probs`` (T, N, C), or (T, C) for one
    sequence, against ``targets`` padded (N, S) or concatenated (sum(target_lengths),),
    with ``blank`` the blank's class. ``reduction`` "mean" divides each loss by its
    target's length (at least 1) and then averages, as PyTorch's; ``zero_infinity`` makes
    the loss of a sequence that no alignment fits (and its gradient) 0::

        log_probs = model(audio).log_softmax(2)          # (T, N, C)
        loss = F.ctc_loss(log_probs, labels, frame_counts, label_counts)
    """
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    data = log_probs._data
    if data.dtype not in (np.float32, np.float64):  # (as PyTorch's CPU kernel: no Half)
        raise NotImplementedError(f'"ctc_loss_cpu" not implemented for '
                                  f"'{short_name(data.dtype)}'")
    if data.ndim not in (2, 3):
        raise RuntimeError(f"ctc_loss: log_probs of {data.ndim} dimensions, expected (T, N, C) "
                           "or (T, C)")
    if data.size == 0:
        raise RuntimeError("log_probs tensor must not be empty")
    if isinstance(input_lengths, Tensor) != isinstance(target_lengths, Tensor):
        raise TypeError("ctc_loss(): input_lengths and target_lengths must be both tensors or "
                        "both tuples of ints")
    batched = data.ndim == 3
    frames, classes = data.shape[0], data.shape[-1]
    batch = data.shape[1] if batched else 1
    target_array = targets._data if isinstance(targets, Tensor) else np.asarray(targets)
    if not batched and target_array.ndim == 1:
        target_array = target_array[None]
    inputs = _lengths(input_lengths, "input_lengths", batch, batched)
    labels = _lengths(target_lengths, "target_lengths", batch, batched)
    if not 0 <= blank < classes:
        raise RuntimeError("blank must be in label range")
    where = "(while checking arguments for ctc_loss_allocate_outputs)"
    for name, array in (("input_lengths", inputs), ("target_lengths", labels)):
        if array.size and array.min() < 0:
            raise RuntimeError(f"Expected {name} to have value at least 0, but got value "
                               f"{array.min()} {where}")
    if inputs.size and inputs.max() > frames:
        raise RuntimeError(f"Expected input_lengths to have value at most {frames}, but got "
                           f"value {inputs.max()} {where}")
    extended = _extended(target_array, labels, blank, classes)
    x = log_probs if batched else log_probs.unsqueeze(1)
    losses = CTCLoss.apply(x, extended, inputs, labels, bool(zero_infinity))
    if reduction == "none":
        return losses if batched else losses.squeeze(0)
    if reduction == "sum":
        return losses.sum()
    divisors = np.maximum(labels, 1).astype(data.dtype)
    return (losses / Tensor(divisors)).mean()
