"""Composite functions a GPT needs, fused: one graph node each, with a hand-derived backward.

Each could be composed from primitives (``tests/reference.py`` does exactly that,
and the tests hold these fused versions against the compositions and against
the scalar engine). Fusing makes one node where the composition makes three to
ten; at microgpt's sizes a step's cost is mostly per-node and per-call overhead,
so fusing the handful of composites a GPT uses pays (see the README's benchmarks).
Names and arguments follow ``torch.nn.functional``. The four that a training step
runs (``linear``, ``rms_norm``, ``multi_head_attention``, ``cross_entropy``) keep
what their backward needs in a tuple and name a backward function, defined right
below each, instead of a closure: cheaper to make and to free (``tensor.py``).

Reductions call the ufuncs directly (``np.add.reduce``): ``ndarray.sum`` and
``mean`` pass through Python wrappers that cost more than the sums themselves
at these sizes. Sums and means along the last axis are matrix products with a
column of ones (or of 1/n): NumPy reduces a short innermost axis element by
element, several times slower than BLAS's matrix-vector product (4096 rows of
16: 27 against 4 us). Products of two matrices call ``ndarray.dot``: the same
BLAS call, and the same result, as ``@``, with about 0.6 us less dispatch.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

from .tensor import Tensor, _dot_into_spare, _make, _unbroadcast

_sum, _max = np.add.reduce, np.maximum.reduce


def _sums(a: np.ndarray, axis: int) -> np.ndarray:
    """Sums along ``axis``, kept as a dimension of length 1."""
    if axis != -1 and axis != a.ndim - 1 or not a.ndim:
        return _sum(a, axis=axis, keepdims=True)
    ones = _column(a.shape[-1], 1, a.dtype)
    return a.dot(ones) if a.ndim == 2 else a @ ones


@functools.lru_cache(maxsize=256)
def _column(count: int, value: float, dtype: np.dtype) -> np.ndarray:
    """A (count, 1) column of ``value``: ``rows @ column`` sums (1) or averages (1/count) rows.

    256 are kept: attention's row sums alone use one per sequence length.
    """
    column = np.full((count, 1), value, dtype)
    column.flags.writeable = False  # shared between calls
    return column


def _softmax(x: np.ndarray, axis: int, out: np.ndarray | None = None) -> np.ndarray:
    """Softmax along ``axis``, into ``out`` if given (which may be ``x`` itself)."""
    # Shifting by the maximum changes nothing mathematically and keeps exp() finite.
    e = np.subtract(x, _max(x, axis=axis, keepdims=True), out=out)
    np.exp(e, out=e)
    e /= _sums(e, axis)
    return e


def _log_softmax(x: np.ndarray, axis: int) -> np.ndarray:
    shifted = x - _max(x, axis=axis, keepdims=True)
    shifted -= np.log(_sums(np.exp(shifted), axis))
    return shifted


def softmax(x: Tensor, axis: int = -1) -> Tensor:
    """exp(x) / sum(exp(x)) along ``axis``."""
    p = _softmax(x.data, axis)

    def backward(_, g):
        # d softmax: p * (g - sum(g * p)), the Jacobian-vector product without the Jacobian.
        return (p * (g - _sums(g * p, axis)),)

    return _make(p, (x,), backward)


def log_softmax(x: Tensor, axis: int = -1) -> Tensor:
    """x - log(sum(exp(x))) along ``axis``, stable for large logits."""
    out = _log_softmax(x.data, axis)

    def backward(_, g):
        return (g - np.exp(out) * _sums(g, axis),)

    return _make(out, (x,), backward)


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
    data = logits.data
    if targets.shape != data.shape[:-1]:
        raise ValueError(
            f"cross_entropy: targets of shape {targets.shape} for logits of shape {logits.shape}"
        )
    num_classes = data.shape[-1]
    rows = data if data.ndim == 2 else data.reshape(-1, num_classes)
    flat_targets = targets if targets.ndim == 1 else targets.reshape(-1)
    try:  # each target's place in the flattened logits; one call also checks the range
        picked = np.ravel_multi_index((_row_numbers(len(rows)), flat_targets), rows.shape)
    except ValueError:
        raise IndexError(f"cross_entropy: a target is outside 0..{num_classes - 1}") from None
    shifted = rows - _max(rows, axis=1, keepdims=True)  # log_softmax = shifted - log(total)
    exps = np.exp(shifted)
    total = exps.dot(_column(num_classes, 1, exps.dtype))[:, 0]
    losses = np.log(total) - shifted.ravel()[picked]
    divisor = max(targets.size, 1) if reduction == "mean" else 1
    out = losses.reshape(targets.shape) if reduction == "none" else _sum(losses) / divisor

    saved = (exps, total, picked, None if reduction == "none" else divisor, data.shape)
    return _make(np.asarray(out), (logits,), _cross_entropy_backward, saved)


def _cross_entropy_backward(saved: tuple, g: np.ndarray) -> tuple[np.ndarray]:
    # d(-log softmax(x)[t]) / dx = softmax(x) - onehot(t), scaled by the upstream gradient.
    exps, total, picked, divisor, shape = saved
    scale = g.reshape(-1) if divisor is None else g / divisor  # None: reduction "none"
    grad = exps * (scale / total)[:, None]
    grad.ravel()[picked] -= scale
    return (grad if grad.shape == shape else grad.reshape(shape),)


@functools.lru_cache(maxsize=64)
def _row_numbers(rows: int) -> np.ndarray:
    """0, 1, ..., rows - 1."""
    numbers = np.arange(rows)
    numbers.flags.writeable = False  # shared between calls
    return numbers


def linear(x: Tensor, weight: Tensor) -> Tensor:
    """x @ weight.T, with weight of shape (out_features, in_features), as in PyTorch."""
    a, w = x.data, weight.data
    # Leading dimensions are all batch: one 2-D product serves them all (np.matmul would
    # loop over them, one small matrix product each). A 1-D input is one row.
    flat = a.ndim != 2
    rows = a.reshape(-1, a.shape[-1]) if flat else a
    try:
        out = rows.dot(w.T)
    except ValueError:  # NumPy's message names neither argument
        raise ValueError(f"linear: input of shape {a.shape} for a weight of shape {w.shape}"
                         ) from None

    if flat:
        return _make(out.reshape(*a.shape[:-1], -1), (x, weight), _linear_backward,
                     (rows, w, weight, a.shape))
    return _make(out, (x, weight), _linear_backward, (rows, w, weight, None))


def _linear_backward(saved: tuple, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    rows, w, weight, shape = saved  # shape: the input's, if it was not 2-D
    g_rows = g if shape is None else g.reshape(len(rows), -1)
    grad_x = g_rows.dot(w)
    if getattr(weight, "_spare", None) is None:  # the common case: zero_grad() kept none
        grad_w = g_rows.T.dot(rows)
    else:
        grad_w = _dot_into_spare(weight, g_rows.T, rows)
    return grad_x if shape is None else grad_x.reshape(shape), grad_w


def rms_norm(x: Tensor, normalized_shape: int | tuple[int, ...], eps: float | None = None
             ) -> Tensor:
    """x / sqrt(mean(x**2) + eps) over the last ``normalized_shape`` dimensions (no gain).

    ``eps`` defaults to the dtype's machine epsilon, as in PyTorch.
    """
    a = x.data
    # One row per normalized group; a row mean is then one matrix-vector product, which at
    # these sizes costs less than a keepdims reduction.
    if a.ndim == 2 and a.shape[1] == normalized_shape:  # the rows are x itself: no reshapes
        count, flat, rows = normalized_shape, False, a
    else:
        count = _group_size(a.shape, normalized_shape)
        flat, rows = True, a.reshape(-1, count)
    eps = np.finfo(a.dtype).eps if eps is None else eps
    means = _column(count, 1 / count, a.dtype)
    scale = (np.square(rows).dot(means) + eps) ** -0.5
    out = rows * scale

    if flat:
        return _make(out.reshape(a.shape), (x,), _rms_norm_backward, (out, scale, means, a.shape))
    return _make(out, (x,), _rms_norm_backward, (out, scale, means, None))


def _rms_norm_backward(saved: tuple, g: np.ndarray) -> tuple[np.ndarray]:
    # out = x * s with s = (mean(x^2) + eps)^-1/2, so dx = s * (g - out * mean(g * out)).
    out, scale, means, shape = saved  # out as rows; shape: the input's, if it was not rows
    g = g if shape is None else g.reshape(out.shape)
    grad = scale * (g - out * (g * out).dot(means))
    return (grad if shape is None else grad.reshape(shape),)


def _group_size(shape: tuple[int, ...], normalized_shape: int | tuple[int, ...]) -> int:
    """The number of entries that ``normalized_shape``, which must end ``shape``, spans."""
    dims = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if not dims or shape[len(shape) - len(dims):] != dims:
        raise ValueError(f"rms_norm: normalized_shape {normalized_shape} does not end the "
                         f"shape {shape}")
    return math.prod(dims)


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
    p = _attention_weights(q, k, scale, attn_mask, is_causal)

    def backward(_, g):
        grad_q, grad_k, grad_v = _attention_backward(g, p, q, k, v, scale)
        # Batch dimensions may have been broadcast: sum them back to each input's shape.
        return (_unbroadcast(grad_q, q.shape), _unbroadcast(grad_k, k.shape),
                _unbroadcast(grad_v, v.shape))

    return _make(p @ v, (query, key, value), backward)


def multi_head_attention(qkv: Tensor, num_heads: int, is_causal: bool = False,
                         scale: float | None = None) -> Tensor:
    """Self-attention with ``num_heads`` heads from packed projections, as one node.

    ``qkv`` has shape (..., L, 3E): queries, keys and values side by side, each E wide
    with the heads in order, as one linear layer with a stacked (3E, E) weight makes
    them (GPT-2's c_attn, PyTorch's in_proj_weight). The result, (..., L, E), has the
    heads side by side again. It equals splitting ``qkv`` into heads of shape
    (..., num_heads, L, E / num_heads), ``scaled_dot_product_attention`` on them and
    joining the heads, which takes seven view nodes more.
    """
    a = qkv.data
    if a.ndim < 2:
        raise ValueError(f"multi_head_attention: qkv of shape {a.shape}, not (..., L, 3E)")
    batch, (length, width) = a.shape[:-2], a.shape[-2:]
    if num_heads < 1 or width % (3 * num_heads):
        raise ValueError(f"multi_head_attention: a last dimension of {width} does not hold "
                         f"queries, keys and values for {num_heads} heads")
    head_dim = width // (3 * num_heads)
    packed = a.reshape(batch + (length, 3, num_heads, head_dim))
    to_heads = _heads_permutation(len(batch))  # -> (3, ..., heads, L, head_dim): views
    q, k, v = packed.transpose(to_heads)
    scale = 1.0 / math.sqrt(head_dim) if scale is None else scale
    p = _attention_weights(q, k, scale, None, is_causal)
    out = (p @ v).swapaxes(-2, -3).reshape(batch + (length, width // 3))

    saved = (p, q, k, v, scale, packed, to_heads, batch + (length, num_heads, head_dim))
    return _make(out, (qkv,), _multi_head_attention_backward, saved)


def _multi_head_attention_backward(saved: tuple, g: np.ndarray) -> tuple[np.ndarray]:
    p, q, k, v, scale, packed, to_heads, heads_shape = saved
    g = g.reshape(heads_shape).swapaxes(-2, -3)
    # The three gradients land in their slots of one packed array: no concatenation.
    grad = np.empty_like(packed)
    _attention_backward(g, p, q, k, v, scale, out=tuple(grad.transpose(to_heads)))
    return (grad.reshape(packed.shape[:-3] + (-1,)),)


@functools.lru_cache(maxsize=8)
def _heads_permutation(batch_dims: int) -> tuple[int, ...]:
    """Axes taking (batch..., L, 3, heads, head_dim) to (3, batch..., heads, L, head_dim)."""
    b = batch_dims
    return (b + 1, *range(b), b + 2, b, b + 3)


def _attention_weights(q: np.ndarray, k: np.ndarray, scale: float, attn_mask: Any,
                       is_causal: bool) -> np.ndarray:
    """softmax(q @ k^T * scale) over the keys allowed by the mask."""
    scores = q @ k.swapaxes(-1, -2)
    scores *= scale
    if is_causal:
        scores += _causal_bias(q.shape[-2], k.shape[-2])
    elif attn_mask is not None:
        scores = np.where(attn_mask, scores, -np.inf)
    return _softmax(scores, -1, out=scores)  # in place: the scores are ours


def _attention_backward(g: np.ndarray, p: np.ndarray, q: np.ndarray, k: np.ndarray,
                        v: np.ndarray, scale: float, out: tuple = (None, None, None)
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of q, k and v for output p @ v with p = softmax(q @ k^T * scale).

    ``out`` may give three arrays for them to be written into.
    """
    grad_v = np.matmul(p.swapaxes(-1, -2), g, out=out[2])
    grad_scores = g @ v.swapaxes(-1, -2)  # d(p) first, then through the softmax:
    grad_scores -= _sums(grad_scores * p, -1)
    grad_scores *= p
    grad_scores *= scale
    grad_q = np.matmul(grad_scores, k, out=out[0])
    grad_k = np.matmul(grad_scores.swapaxes(-1, -2), q, out=out[1])
    return grad_q, grad_k, grad_v


@functools.lru_cache(maxsize=64)
def _causal_bias(queries: int, keys: int) -> np.ndarray:
    """0 where query i may attend to key j <= i (top-left aligned, as PyTorch), else -inf."""
    bias = np.triu(np.full((queries, keys), -np.inf), k=1)
    bias.flags.writeable = False  # shared between calls
    return bias
