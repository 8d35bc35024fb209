"""Hand-written NumPy forward and backward pass of microgpt's GPT: a baseline, not the library.

This module exists for the benchmarks only. It answers "what does autograd cost?": the same
model as ``microgpt`` (float64, no biases, no gains), but with every derivative derived by hand
and vectorised the way an engineer would write it without an autograd engine, with no graph,
no closures, one batched matmul per attention product and one fused softmax backward.

Model (Karpathy's microgpt.py), for tokens ``t[0..n]`` with inputs ``t[:n]``, targets ``t[1:]``::

    x = rmsnorm(wte[inputs] + wpe[:n])
    per layer:  x = x + attn(rmsnorm(x)) @ Wo.T            (causal, n_head heads)
                x = x + relu(rmsnorm(x) @ fc1.T) @ fc2.T
    loss = mean_t  -log_softmax(x @ lm_head.T)[t, target_t]

    rmsnorm(x) = x * (mean(x**2, -1) + 1e-5) ** -0.5

A batch holds B documents padded (after their real tokens) to a common length, with a loss mask;
its loss is the mean over documents of each document's mean token loss, so a batch's loss and
gradients are exactly the average of its documents' single-document losses and gradients.

Public API: :func:`loss_and_grads`, :func:`init_state`, :class:`Adam`.
"""

from __future__ import annotations

import math

import numpy as np

RMS_EPS = 1e-5

# Additive causal masks (0 on and below the diagonal, -inf above), one per sequence length.
_CAUSAL_BIAS: dict[int, np.ndarray] = {}

# Column vectors of ones (and of 1/n), one per length: a row sum as a matmul with one is markedly
# cheaper than a keepdims reduction for the small rows of this model. Products of two matrices
# call ndarray.dot: the same BLAS routine as @, with about 0.6 us less dispatch a call here.
_ONES: dict[int, np.ndarray] = {}
_MEANS: dict[int, np.ndarray] = {}

# Largest one-hot matrix (in elements) used for the embedding-gradient scatter; above it we sort.
_ONE_HOT_MAX = 1 << 21


def state_keys(n_layer: int) -> list[str]:
    """The parameter names of an ``n_layer`` model, in microgpt's order."""
    keys = ["wte", "wpe", "lm_head"]
    for i in range(n_layer):
        keys += [f"layer{i}.{name}" for name in
                 ("attn_wq", "attn_wk", "attn_wv", "attn_wo", "mlp_fc1", "mlp_fc2")]
    return keys


def init_state(
    vocab_size: int,
    n_embd: int,
    block_size: int,
    n_layer: int,
    rng: np.random.Generator,
    std: float = 0.08,
) -> dict[str, np.ndarray]:
    """A random float64 state dict shaped like microgpt's (every entry N(0, std**2))."""
    c, v, t = n_embd, vocab_size, block_size
    shapes = {"wte": (v, c), "wpe": (t, c), "lm_head": (v, c)}
    for i in range(n_layer):
        for name in ("attn_wq", "attn_wk", "attn_wv", "attn_wo"):
            shapes[f"layer{i}.{name}"] = (c, c)
        shapes[f"layer{i}.mlp_fc1"] = (4 * c, c)
        shapes[f"layer{i}.mlp_fc2"] = (c, 4 * c)
    return {k: rng.normal(0.0, std, shapes[k]) for k in state_keys(n_layer)}


def causal_bias(n: int) -> np.ndarray:
    bias = _CAUSAL_BIAS.get(n)
    if bias is None:
        bias = np.triu(np.full((n, n), -np.inf), k=1)
        _CAUSAL_BIAS[n] = bias
    return bias


def _ones(n: int) -> np.ndarray:
    """(n, 1) ones: ``a @ _ones(n)`` is the row sum of ``a`` with keepdims."""
    col = _ONES.get(n)
    if col is None:
        col = _ONES[n] = np.ones((n, 1))
    return col


def _means(n: int) -> np.ndarray:
    """(n, 1) filled with 1/n: ``a @ _means(n)`` is the row mean of ``a`` with keepdims."""
    col = _MEANS.get(n)
    if col is None:
        col = _MEANS[n] = np.full((n, 1), 1.0 / n)
    return col


def rmsnorm(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """y = x * s with s = (mean(x**2) + eps)**-0.5 per row; returns (y, s) for the backward."""
    s = (np.square(x).dot(_means(x.shape[-1])) + RMS_EPS) ** -0.5
    return x * s, s


def _rmsnorm_backward(dy: np.ndarray, y: np.ndarray, s: np.ndarray) -> np.ndarray:
    """dL/dx of y = x * s(x).

    ds/dx_j = -s**3 x_j / C, so dL/dx_j = s dy_j - s**3 x_j mean_i(dy_i x_i)
                                        = s (dy_j - y_j mean_i(dy_i y_i)).
    """
    proj = (dy * y).dot(_means(y.shape[-1]))
    return (dy - y * proj) * s


def _scatter_rows(index: np.ndarray, rows: np.ndarray, n_rows: int) -> np.ndarray:
    """out[index[i]] += rows[i] for all i, into a fresh (n_rows, C) array.

    np.add.at is unbuffered and slow for 2-D rows; a one-hot matmul (small vocabularies, the
    microgpt case) or a sort + segmented sum is several times faster.
    """
    m = index.shape[0]
    if m * n_rows <= _ONE_HOT_MAX:
        one_hot = np.zeros((n_rows, m), rows.dtype)
        one_hot[index, np.arange(m)] = 1.0
        return one_hot.dot(rows)
    out = np.zeros((n_rows, rows.shape[1]), rows.dtype)
    order = np.argsort(index, kind="stable")
    sorted_index = index[order]
    starts = np.flatnonzero(np.r_[True, sorted_index[1:] != sorted_index[:-1]])
    out[sorted_index[starts]] = np.add.reduceat(rows[order], starts, axis=0)
    return out


def _loss_weights(mask: np.ndarray | None, b: int, n: int) -> np.ndarray:
    """Per-position loss weights, flat (B*n,): mask / (tokens in the document * B)."""
    if mask is None:
        return np.full(b * n, 1.0 / (b * n))
    m = np.asarray(mask, dtype=np.float64).reshape(b, n)
    counts = m.sum(1, keepdims=True)
    if not np.all(counts > 0):
        raise ValueError("every document needs at least one unmasked position")
    return (m / (counts * b)).ravel()


def loss_and_grads(
    state: dict[str, np.ndarray],
    inputs: np.ndarray,
    targets: np.ndarray,
    mask: np.ndarray | None,
    n_head: int,
) -> tuple[float, dict[str, np.ndarray]]:
    """Loss and gradient of every parameter for a batch of documents.

    ``inputs`` and ``targets`` are int arrays (B, n), or (n,) for one document; ``mask`` is
    (B, n) bool/float with padding (0) after each document's real positions, or None for all
    valid. Padded inputs and targets must still be valid token ids; they affect nothing.
    Returns ``(loss, grads)`` with ``grads`` keyed and ordered like ``state``.
    """
    inputs = np.asarray(inputs)
    targets = np.asarray(targets)
    if inputs.ndim == 1:
        inputs, targets = inputs[None], targets[None]
        mask = None if mask is None else np.asarray(mask)[None]
    b, n = inputs.shape
    wte, wpe, lm_head = state["wte"], state["wpe"], state["lm_head"]
    vocab, c = wte.shape
    if n > wpe.shape[0]:
        raise ValueError(f"sequence length {n} exceeds block_size {wpe.shape[0]}")
    if c % n_head:
        raise ValueError(f"n_embd {c} is not divisible by n_head {n_head}")
    n_layer = (len(state) - 3) // 6
    hd = c // n_head
    scale = 1.0 / math.sqrt(hd)
    big_n = b * n  # all positions of the batch flattened: everything but attention is per-row
    bias = causal_bias(n)

    # ---------------- forward, keeping what the backward needs ----------------
    x, s0 = rmsnorm((wte[inputs] + wpe[:n]).reshape(big_n, c))
    x_embed = x
    caches = []
    for i in range(n_layer):
        p = f"layer{i}."
        w_qkv = np.concatenate((state[p + "attn_wq"], state[p + "attn_wk"],
                                state[p + "attn_wv"]))  # (3C, C): one matmul for q, k and v
        w_o, w_fc1, w_fc2 = state[p + "attn_wo"], state[p + "mlp_fc1"], state[p + "mlp_fc2"]

        h1, s1 = rmsnorm(x)
        qkv = h1.dot(w_qkv.T)  # (N, 3C)
        # (B, n, 3, H, hd) -> (3, B, H, n, hd): strided views, no copy
        q, k, v = qkv.reshape(b, n, 3, n_head, hd).transpose(2, 0, 3, 1, 4)
        att = q @ k.swapaxes(-1, -2)  # (B, H, n, n)
        att *= scale
        att += bias
        att -= att.max(-1, keepdims=True)  # row max is finite: the diagonal is never masked
        np.exp(att, out=att)
        att /= att @ _ones(n)
        heads = (att @ v).transpose(0, 2, 1, 3).reshape(big_n, c)  # concat heads: (N, C)
        x = x + heads.dot(w_o.T)

        h2, s2 = rmsnorm(x)
        pre = h2.dot(w_fc1.T)  # (N, 4C)
        act = np.maximum(pre, 0.0)
        x = x + act.dot(w_fc2.T)
        caches.append((w_qkv, h1, s1, q, k, v, att, heads, h2, s2, pre, act))

    logits = x.dot(lm_head.T)  # (N, V)
    logits -= logits.max(1, keepdims=True)  # log_softmax is shift-invariant; avoids overflow
    expl = np.exp(logits)
    sum_exp = expl.dot(_ones(vocab))
    rows = np.arange(big_n)
    tgt = targets.reshape(big_n)
    nll = np.log(sum_exp[:, 0]) - logits[rows, tgt]  # -log_softmax at the targets
    w = _loss_weights(mask, b, n)  # zero on padding, so padding never reaches loss or grads
    loss = float(w @ nll)

    # ---------------- backward ----------------
    # dL/dlogits = w * (softmax - onehot(target))
    dlogits = expl * (w[:, None] / sum_exp)
    dlogits[rows, tgt] -= w
    grads: dict[str, np.ndarray] = {}
    grads["lm_head"] = dlogits.T.dot(x)  # logits = x @ lm_head.T  =>  dW = dlogits.T @ x
    dx = dlogits.dot(lm_head)  # ... and dx = dlogits @ W

    for i in reversed(range(n_layer)):
        p = f"layer{i}."
        w_qkv, h1, s1, q, k, v, att, heads, h2, s2, pre, act = caches[i]

        # MLP block: x_out = x + relu(h2 @ fc1.T) @ fc2.T; the residual passes dx through.
        grads[p + "mlp_fc2"] = dx.T.dot(act)
        dpre = dx.dot(state[p + "mlp_fc2"])
        dpre *= pre > 0  # relu'(pre) = [pre > 0]
        grads[p + "mlp_fc1"] = dpre.T.dot(h2)
        dx = dx + _rmsnorm_backward(dpre.dot(state[p + "mlp_fc1"]), h2, s2)

        # Attention block: x_out = x + heads @ Wo.T
        grads[p + "attn_wo"] = dx.T.dot(heads)
        dheads = dx.dot(state[p + "attn_wo"]).reshape(b, n, n_head, hd).transpose(0, 2, 1, 3)
        # heads_h = att @ v  =>  datt = dheads @ v.T,  dv = att.T @ dheads
        datt = dheads @ v.swapaxes(-1, -2)
        # dq, dk, dv land directly in their (B, n, 3, H, hd) slots, so that the flat (N, 3C)
        # gradient of qkv needs no concatenation afterwards.
        dqkv = np.empty((b, n, 3, n_head, hd), dtype=x.dtype)
        dq, dk, dv = dqkv.transpose(2, 0, 3, 1, 4)
        np.matmul(att.swapaxes(-1, -2), dheads, out=dv)
        # softmax backward, fused: dscore = att * (datt - sum_j datt * att); masked entries have
        # att = 0 so they get no gradient. The 1/sqrt(hd) of the scores is folded in here too.
        datt -= (datt * att) @ _ones(n)
        datt *= att
        datt *= scale
        # score = q @ k.T  =>  dq = dscore @ k,  dk = dscore.T @ q
        np.matmul(datt, k, out=dq)
        np.matmul(datt.swapaxes(-1, -2), q, out=dk)
        dqkv = dqkv.reshape(big_n, 3 * c)
        dw_qkv = dqkv.T.dot(h1)  # (3C, C), rows in q, k, v order
        grads[p + "attn_wq"], grads[p + "attn_wk"], grads[p + "attn_wv"] = (
            dw_qkv[:c], dw_qkv[c:2 * c], dw_qkv[2 * c:])
        dx = dx + _rmsnorm_backward(dqkv.dot(w_qkv), h1, s1)

    # Embedding: x_embed = rmsnorm(wte[inputs] + wpe[:n]); the sum feeds both tables.
    de = _rmsnorm_backward(dx, x_embed, s0)
    grads["wte"] = _scatter_rows(inputs.reshape(big_n), de, vocab)
    dwpe = np.zeros_like(wpe)
    dwpe[:n] = de.reshape(b, n, c).sum(0)
    grads["wpe"] = dwpe
    return loss, {key: grads[key] for key in state}


class Adam:
    """Adam over a whole state dict, with microgpt's update and bias correction.

    ``m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g**2;
    p -= lr * (m / (1-b1**t)) / ((v / (1-b2**t))**0.5 + eps)``, t the 1-based step.

    To make a step a handful of vectorised calls regardless of the number of tensors, the
    constructor moves the parameters into one flat float buffer: every entry of ``state`` is
    replaced, in the same dict, by a view into it (values unchanged). ``step`` updates them in
    place.
    """

    def __init__(
        self,
        state: dict[str, np.ndarray],
        lr: float = 1e-2,
        b1: float = 0.85,
        b2: float = 0.99,
        eps: float = 1e-8,
    ):
        self.lr, self.b1, self.b2, self.eps = lr, b1, b2, eps
        self.t = 0
        self.keys = list(state)
        self.flat = np.concatenate([np.ravel(state[k]) for k in self.keys], dtype=np.float64)
        start = 0
        for key in self.keys:
            shape = np.shape(state[key])
            size = math.prod(shape)
            state[key] = self.flat[start:start + size].reshape(shape)
            start += size
        self.state = state
        self.m = np.zeros_like(self.flat)
        self.v = np.zeros_like(self.flat)

    def step(self, grads: dict[str, np.ndarray], lr: float | None = None) -> None:
        """One update with ``grads`` (keyed like the state); ``lr`` overrides ``self.lr``."""
        lr = self.lr if lr is None else lr
        self.t += 1
        g = np.concatenate([grads[k].ravel() for k in self.keys])
        m, v = self.m, self.v
        m *= self.b1
        m += (1.0 - self.b1) * g
        v *= self.b2
        g *= g
        g *= 1.0 - self.b2
        v += g
        # p -= lr * mhat / (sqrt(vhat) + eps), reusing g's buffer for the denominator
        np.sqrt(v * (1.0 / (1.0 - self.b2 ** self.t)), out=g)
        g += self.eps
        np.divide(m, g, out=g)
        g *= lr / (1.0 - self.b1 ** self.t)
        self.flat -= g
