"""Composite functions a GPT needs, fused: one graph node each, with a hand-derived backward.

Each could be composed from primitives (``tests/reference.py`` does exactly that,
and the tests hold these fused versions against the compositions and against
the scalar engine). Fusing makes one node where the composition makes three to
ten; at microgpt's sizes a step's cost is mostly per-node and per-call overhead,
so fusing the handful of composites a GPT uses pays (see the README's benchmarks).
Names and arguments follow ``torch.nn.functional``.

Reductions call the ufuncs directly (``np.add.reduce``): ``ndarray.sum`` and
``mean`` pass through Python wrappers that cost more than the sums themselves
at these sizes.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

from .tensor import Tensor

_sum, _max = np.add.reduce, np.maximum.reduce


def _softmax(x: np.ndarray, axis: int) -> np.ndarray:
    # Shifting by the maximum changes nothing mathematically and keeps exp() finite.
    e = x - _max(x, axis=axis, keepdims=True)
    np.exp(e, out=e)
    e /= _sum(e, axis=axis, keepdims=True)
    return e


def _log_softmax(x: np.ndarray, axis: int) -> np.ndarray:
    shifted = x - _max(x, axis=axis, keepdims=True)
    shifted -= np.log(_sum(np.exp(shifted), axis=axis, keepdims=True))
    return shifted


def softmax(x: Tensor, axis: int = -1) -> Tensor:
    """exp(x) / sum(exp(x)) along ``axis``."""
    p = _softmax(x.data, axis)

    def backward(g):
        # d softmax: p * (g - sum(g * p)), the Jacobian-vector product without the Jacobian.
        return (p * (g - _sum(g * p, axis=axis, keepdims=True)),)

    return Tensor._make(p, (x,), backward)


def log_softmax(x: Tensor, axis: int = -1) -> Tensor:
    """x - log(sum(exp(x))) along ``axis``, stable for large logits."""
    out = _log_softmax(x.data, axis)

    def backward(g):
        return (g - np.exp(out) * _sum(g, axis=axis, keepdims=True),)

    return Tensor._make(out, (x,), backward)


def cross_entropy(logits: Tensor, targets: Any, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of integer ``targets`` under softmax(``logits``).

    ``logits`` has shape (..., C) and ``targets`` the leading shape (...). ``reduction``
    is "mean" (the default, as in PyTorch), "sum", or "none" for one loss per target.
    """
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"reduction must be 'mean', 'sum' or 'none', not {reduction!r}")
    targets = np.asarray(targets.data if isinstance(targets, Tensor) else targets)
    if targets.dtype.kind not in "iu":
        raise TypeError(f"cross_entropy targets must be integers, not {targets.dtype}")
    if targets.shape != logits.shape[:-1]:
        raise ValueError(
            f"cross_entropy: targets of shape {targets.shape} for logits of shape {logits.shape}"
        )
    num_classes = logits.shape[-1]
    logp = _log_softmax(logits.data, -1).reshape(-1, num_classes)
    # As unsigned integers, negative targets become huge, so indexing itself rejects every
    # target outside 0..C-1 (and no separate min/max pass is needed).
    rows, flat_targets = np.arange(targets.size), targets.ravel().astype(np.uintp)
    try:
        losses = -logp[rows, flat_targets]
    except IndexError:
        raise IndexError(f"cross_entropy: a target is outside 0..{num_classes - 1}") from None
    divisor = max(targets.size, 1) if reduction == "mean" else 1
    out = losses.reshape(targets.shape) if reduction == "none" else _sum(losses) / divisor

    def backward(g):
        # d(-log softmax(x)[t]) / dx = softmax(x) - onehot(t), scaled by the upstream gradient.
        grad = np.exp(logp)
        grad[rows, flat_targets] -= 1
        grad *= g.reshape(-1, 1) if reduction == "none" else g / divisor
        return (grad.reshape(logits.shape),)

    return Tensor._make(np.asarray(out), (logits,), backward)


def linear(x: Tensor, weight: Tensor) -> Tensor:
    """x @ weight.T, with weight of shape (out_features, in_features), as in PyTorch."""
    a, w = x.data, weight.data
    if a.shape[-1] != w.shape[-1]:
        raise ValueError(f"linear: input of shape {a.shape} for a weight of shape {w.shape}")

    def backward(g):
        # Every leading dimension is a batch dimension: flatten them for one weight matmul.
        return g @ w, g.reshape(-1, g.shape[-1]).T @ a.reshape(-1, a.shape[-1])

    return Tensor._make(a @ w.T, (x, weight), backward)


def rms_norm(x: Tensor, normalized_shape: int | tuple[int, ...], eps: float | None = None
             ) -> Tensor:
    """x / sqrt(mean(x**2) + eps) over the last ``normalized_shape`` dimensions (no gain).

    ``eps`` defaults to the dtype's machine epsilon, as in PyTorch.
    """
    dims = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if x.shape[x.ndim - len(dims):] != dims:
        raise ValueError(f"rms_norm: normalized_shape {dims} does not end the shape {x.shape}")
    a = x.data
    axes = tuple(range(a.ndim - len(dims), a.ndim))
    count = math.prod(dims)
    eps = np.finfo(a.dtype).eps if eps is None else eps
    scale = (_sum(a * a, axis=axes, keepdims=True) / count + eps) ** -0.5
    out = a * scale

    def backward(g):
        # out = x * s with s = (mean(x^2) + eps)^-1/2, so dx = s * (g - out * mean(g * out)).
        return (scale * (g - out * (_sum(g * out, axis=axes, keepdims=True) / count)),)

    return Tensor._make(out, (x,), backward)


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor,
                                 attn_mask: Any = None, is_causal: bool = False,
                                 scale: float | None = None) -> Tensor:
    """softmax(query @ key^T * scale, masked) @ value over the last two dimensions.

    As in PyTorch: shapes (..., L, E), (..., S, E), (..., S, Ev); ``attn_mask`` is a
    boolean array where True means "may attend"; ``is_causal`` is the lower-triangular
    mask aligned at the top left; ``scale`` defaults to 1/sqrt(E).
    """
    q, k, v = query.data, key.data, value.data
    if q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
        raise ValueError(
            f"attention: query {q.shape}, key {k.shape} and value {v.shape} do not fit"
        )
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    scores = q @ k.swapaxes(-1, -2)
    scores *= scale
    if is_causal:
        scores += _causal_bias(q.shape[-2], k.shape[-2])
    elif attn_mask is not None:
        scores = np.where(attn_mask, scores, -np.inf)
    p = _softmax(scores, -1)

    def backward(g):
        grad_v = p.swapaxes(-1, -2) @ g
        grad_scores = g @ v.swapaxes(-1, -2)  # d(p) first, then through the softmax:
        grad_scores -= _sum(grad_scores * p, axis=-1, keepdims=True)
        grad_scores *= p
        grad_scores *= scale
        return grad_scores @ k, grad_scores.swapaxes(-1, -2) @ q, grad_v

    return Tensor._make(p @ v, (query, key, value), backward)


@functools.lru_cache(maxsize=64)
def _causal_bias(queries: int, keys: int) -> np.ndarray:
    """0 where query i may attend to key j <= i (top-left aligned, as PyTorch), else -inf."""
    bias = np.triu(np.full((queries, keys), -np.inf), k=1)
    bias.flags.writeable = False  # shared between calls
    return bias
