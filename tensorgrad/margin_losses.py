"""More of torch.nn's margin losses: hinge embedding, multi-class and multi-label margins,
and the triplet loss with a distance of your own (``F.*_loss``; the top-level ``torch.*``
forms, which take the reduction as ATen's number, are in aten_forms.py).

Each is composed of differentiable tensor ops, so backward, gradients of gradients and
capture come with it. Where PyTorch's kernel tests ``z > 0`` (the multi-class and
multi-label margins), a term is kept through ``where`` on that test: no gradient at the
kink, and a NaN that fails the test adds nothing, as there. On a size-0 batch their "mean"
is NaN and "sum" 0, as a mean and a sum of nothing (PyTorch 2.13's kernels return
uninitialized memory there).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import functional as F
from .dtypes import short_name
from .ops import where
from .tensor import Tensor


def _long_target(target: Any) -> np.ndarray:
    """The class indices of ``target``, which PyTorch takes as int64 only."""
    array = target._data if isinstance(target, Tensor) else np.asarray(target)
    if array.dtype != np.int64:
        raise RuntimeError(f"expected scalar type Long but found {short_name(array.dtype)}")
    return array


def _floating(input: Tensor, kernel: str) -> None:
    if input._data.dtype.kind != "f":
        raise NotImplementedError(f'"{kernel}" not implemented for '
                                  f"'{short_name(input._data.dtype)}'")


def hinge_embedding_loss(input: Tensor, target: Any, margin: float = 1.0,
                         size_average: bool | None = None, reduce: bool | None = None,
                         reduction: str = "mean") -> Tensor:
    """``input`` where ``target`` is 1, max(0, ``margin`` - input) where it is -1 (both
    where it is neither, as PyTorch's), ``target`` broadcast with ``input``: a distance
    that similar pairs (1) should make small and dissimilar ones (-1) at least ``margin``::

        loss = F.hinge_embedding_loss((a - b).norm(dim=1), same_or_not)
    """
    reduction = F._torch_reduction(reduction, size_average, reduce)
    y = target._data if isinstance(target, Tensor) else np.asarray(target)
    beyond = (margin - input).clamp(min=0)  # (the slope at the kink is the line's, clamp_min's)
    losses = where(y != 1, beyond, 0.0) + where(y != -1, input, 0.0)
    return F._reduce(losses, reduction)


def _scores_shape(input: Tensor) -> tuple[int, ...]:
    """The shape of scores ``input``: a non-empty vector (C) or a matrix (N, C), C > 0,
    else PyTorch's error."""
    shape = input._data.shape
    if len(shape) > 2 or (len(shape) == 2 and shape[1] == 0) or (len(shape) == 1 and
                                                                  shape[0] == 0):
        raise RuntimeError(f"Expected non-empty vector or matrix with optional 0-dim batch "
                           f"size, but got: {list(shape)}")
    return shape


def multi_margin_loss(input: Tensor, target: Any, p: int = 1, margin: float = 1.0,
                      weight: Any = None, size_average: bool | None = None,
                      reduce: bool | None = None, reduction: str = "mean") -> Tensor:
    """The multi-class hinge loss of scores ``input`` (N, C) or (C) against class indices
    ``target`` (N) or (): for each class i but the target y, max(0, ``margin`` - x[y] +
    x[i]) to the power ``p`` (1 or 2), times ``weight[y]``, summed and divided by C::

        loss = F.multi_margin_loss(scores, labels, margin=0.5)
    """
    reduction = F._torch_reduction(reduction, size_average, reduce)
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    w = None
    if weight is not None:
        F._constant(weight, "multi_margin_loss", "weight")  # (no gradient, as PyTorch's)
        w = weight if isinstance(weight, Tensor) else Tensor(np.asarray(weight))
        if w._data.ndim != 1:
            raise ValueError("weight must be one-dimensional")
    shape = _scores_shape(input)
    classes = shape[-1] if shape else 1
    batch = shape[0] if len(shape) == 2 else 1
    y = _long_target(target)
    if y.ndim > 1 or y.size != batch:
        raise RuntimeError(f"multi_margin_loss: target tensor should be 1-D with size equal to "
                           f"the number of input samples (batch size). Expected target size "
                           f"[{batch}], but got {list(y.shape)}. Input has shape {list(shape)}.")
    if w is not None:
        if w._data.size != classes:
            raise RuntimeError(f"inconsistent weight size, expected {classes} but got "
                               f"{list(w._data.shape)}")
        if w._data.dtype != input._data.dtype:
            raise RuntimeError(f"expected scalar type {short_name(input._data.dtype)} but "
                               f"found {short_name(w._data.dtype)}")
    _floating(input, "multi_margin_loss_cpu_kernel")
    if y.size and (y.min() < 0 or y.max() >= classes):
        raise RuntimeError("target out of range")
    x = input.reshape(batch, classes)
    labels = y.reshape(batch)
    chosen = x.gather(1, Tensor(labels[:, None]))  # (N, 1): each row's target score
    z = margin - chosen + x
    others = np.arange(classes) != labels[:, None]
    terms = where(others & (z._data > 0), z if p == 1 else z * z, 0.0)
    if w is not None:
        terms = terms * w[Tensor(labels)].unsqueeze(1)
    losses = terms.sum(1) / classes
    if reduction == "none":
        return losses if len(shape) == 2 else losses.reshape(y.shape)
    return F._reduce(losses, reduction)


def multilabel_margin_loss(input: Tensor, target: Any, size_average: bool | None = None,
                           reduce: bool | None = None, reduction: str = "mean") -> Tensor:
    """The multi-label hinge loss of scores ``input`` (N, C) or (C): ``target``, of the
    same shape, lists each row's classes and ends at the first -1; for each listed class j
    and each class i not listed, max(0, 1 - (x[j] - x[i])), summed and divided by C::

        F.multilabel_margin_loss(scores, tensorgrad.tensor([[3, 0, -1, 1]]))  # classes 3, 0
    """
    reduction = F._torch_reduction(reduction, size_average, reduce)
    shape = _scores_shape(input)
    y = target._data if isinstance(target, Tensor) else np.asarray(target)
    if y.shape != shape:
        raise RuntimeError(f"inconsistent target size: {list(y.shape)} for input of size: "
                           f"{list(shape)}")
    y = _long_target(y)
    _floating(input, "multilabel_margin_loss_forward_out_frame")
    classes = shape[-1] if shape else 1
    batch = shape[0] if len(shape) == 2 else 1
    if y.size and (y.min() < -1 or y.max() >= classes):
        raise RuntimeError("argument #2 'target' is out of range")
    labels = y.reshape(batch, classes)
    listed = np.cumprod(labels != -1, axis=1).astype(bool)  # up to the first -1
    is_target = np.zeros((batch, classes), bool)
    rows = np.broadcast_to(np.arange(batch)[:, None], labels.shape)
    is_target[rows[listed], labels[listed]] = True
    x = input.reshape(batch, classes)
    chosen = x.gather(1, Tensor(np.where(listed, labels, 0)))  # (N, S): each listed score
    z = 1 - chosen.unsqueeze(2) + x.unsqueeze(1)  # (N, S, C)
    keep = listed[:, :, None] & ~is_target[:, None, :] & (z._data > 0)
    losses = where(keep, z, 0.0).sum((1, 2)) / classes
    if reduction == "none":
        return losses if len(shape) == 2 else losses.reshape(())
    return F._reduce(losses, reduction)


def triplet_margin_with_distance_loss(
        anchor: Tensor, positive: Tensor, negative: Tensor, *,
        distance_function: Callable[[Tensor, Tensor], Tensor] | None = None,
        margin: float = 1.0, swap: bool = False, reduction: str = "mean") -> Tensor:
    """max(0, d(anchor, positive) - d(anchor, negative) + ``margin``) for a
    ``distance_function`` d of your own (``pairwise_distance`` if None); ``swap`` takes
    d(positive, negative) where that is smaller::

        cosine = lambda a, b: 1 - F.cosine_similarity(a, b)
        loss = F.triplet_margin_with_distance_loss(a, p, n, distance_function=cosine)
    """
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    F._check_triplet(margin, [x.ndim for x in (anchor, positive, negative)])
    distance = F.pairwise_distance if distance_function is None else distance_function
    to_positive = distance(anchor, positive)
    to_negative = distance(anchor, negative)
    if swap:
        to_negative = to_negative.minimum(distance(positive, negative))
    return F._reduce((margin + to_positive - to_negative).clamp(min=0), reduction)
