"""microgpt's GPT on the tensor engine: whole documents at once, under a causal mask.

The same model as ``gpt_scalar.py``, function for function; where the scalar
file loops over positions, heads and vector entries, this one does each loop as
one array op. Documents come in batches of shape (B, n); microgpt's own run is B = 1.
"""

from __future__ import annotations

import functools
import operator
import random
from collections.abc import Callable, Sequence

import numpy as np

from tensorgrad import Tensor, capture, cat, get_num_threads, no_grad
from tensorgrad import functional as F
from tensorgrad.optim import Adam
from tensorgrad.threads import run_parts

from .model import GPTConfig, pad_batch

__all__ = ["Adam"]  # the optimizer: tensorgrad's, re-exported to mirror gpt_scalar.Adam

# The bytes of one activation (positions x n_embd) a thread takes at least in a batched step:
# smaller parts cost more to hand over than they save (benchmarks/SPEED.md, "Both cores").
_PART_BYTES = 1 << 17


# ---- parameters ---------------------------------------------------------------------------------
# The state dict holds microgpt's matrices. Here each layer's query, key and value matrices
# are stacked into one (3C, C) "attn_wqkv", as GPT-2 does, so one matmul makes all three;
# the conversions below stack and split them, so the outside sees microgpt's names.

_QKV = ("attn_wq", "attn_wk", "attn_wv")


def from_state_dict(state: dict[str, np.ndarray]) -> dict[str, Tensor]:
    arrays = {}
    for name, w in state.items():
        layer, _, kind = name.rpartition(".")
        if kind in _QKV:
            if kind == _QKV[0]:
                stacked = [state[f"{layer}.{k}"] for k in _QKV]
                arrays[f"{layer}.attn_wqkv"] = np.concatenate(stacked)
        else:
            arrays[name] = w
    return {name: Tensor(w, requires_grad=True) for name, w in arrays.items()}


def _unstack(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    out = {}
    for name, w in arrays.items():
        if name.endswith(".attn_wqkv"):
            layer = name.rpartition(".")[0]
            out.update({f"{layer}.{k}": part for k, part in zip(_QKV, np.split(w, 3))})
        else:
            out[name] = w
    return out


def to_state_dict(params: dict[str, Tensor]) -> dict[str, np.ndarray]:
    return _unstack({name: np.array(w.data) for name, w in params.items()})


def grads(params: dict[str, Tensor]) -> dict[str, np.ndarray]:
    """The parameters' gradients; zeros for one the loss did not reach, as the scalar engine."""
    return _unstack({name: np.zeros(w.shape, w.dtype) if w.grad is None else np.array(w.grad)
                     for name, w in params.items()})


def parameters(params: dict[str, Tensor]) -> list[Tensor]:
    return list(params.values())


# ---- the model ----------------------------------------------------------------------------------


linear = F.linear  # linear(x, w) = x @ w.T, one node (a wrapper would only add a call)


def softmax(logits: Tensor) -> Tensor:
    return F.softmax(logits, dim=-1)


def rmsnorm(x: Tensor) -> Tensor:
    return F.rms_norm(x, x.shape[-1], eps=1e-5)  # x * (mean(x**2) + 1e-5) ** -0.5


def attention(qkv: Tensor, keys: list | None, values: list | None, li: int,
              config: GPTConfig) -> Tensor:
    """All heads at once, from the packed projections (B, n, 3C); returns (B, n, C).

    Without a cache (training, validation: whole documents) one fused node does it all.
    With one (sampling), the n new positions come after the m - n cached ones, so query i
    sees keys 0..m-n+i.
    """
    if keys is None or values is None:
        if keys is not values:
            raise ValueError("attention: a KV cache needs both its keys and its values")
        return F.multi_head_attention(qkv, config.n_head, is_causal=True)
    q, k, v = _split_qkv(qkv, config)  # each (B, nh, n, hs)
    keys[li], values[li] = _extend(keys[li], k), _extend(values[li], v)  # (B, nh, m, hs)
    b, _, n, _ = q.shape
    # (n, m); one new position sees every key: no mask (the same result, half the time)
    mask = _causal_mask(n, keys[li].shape[2]) if n > 1 else None
    out = F.scaled_dot_product_attention(q, keys[li], values[li], attn_mask=mask)  # (B, nh, n, hs)
    return out.transpose(1, 2).reshape(b, n, config.n_embd)  # (B, n, C)


def _split_qkv(qkv: Tensor, config: GPTConfig) -> tuple[Tensor, Tensor, Tensor]:
    """(B, n, 3C) -> q, k, v each (B, n_head, n, head_dim): each head a batch of its own."""
    b, n, _ = qkv.shape
    heads = qkv.reshape(b, n, 3, config.n_head, config.head_dim).permute(2, 0, 3, 1, 4)
    return heads[0], heads[1], heads[2]


@functools.lru_cache(maxsize=256)
def _causal_mask(n: int, m: int) -> np.ndarray:
    """True where one of the last n of m positions may attend: itself and everything before."""
    return np.tril(np.ones((n, m), dtype=bool), k=m - n)


def gpt(params: dict[str, Tensor], config: GPTConfig, token_ids: np.ndarray, pos_id: int,
        keys: list | None = None, values: list | None = None) -> Tensor:
    """Logits (..., n, vocab) for the tokens (..., n) at positions pos_id.. .

    Without a KV cache the tokens are whole documents: one, (n,), or a batch, (B, n).
    With one (``keys`` and ``values`` from ``empty_cache``) they are (B, n) and extend it.
    """
    n = token_ids.shape[-1]
    x = params["wte"][token_ids] + params["wpe"][pos_id:pos_id + n]  # (..., n, C)
    x = rmsnorm(x)
    for li in range(config.n_layer):
        # 1) multi-head causal attention over the cached positions and these
        x_residual = x
        x = rmsnorm(x)
        qkv = linear(x, params[f"layer{li}.attn_wqkv"])  # (..., n, 3C): q, k, v in one matmul
        x = linear(attention(qkv, keys, values, li, config), params[f"layer{li}.attn_wo"])
        x = x + x_residual  # (..., n, C)
        # 2) MLP
        x_residual = x
        x = rmsnorm(x)
        x = linear(x, params[f"layer{li}.mlp_fc1"]).relu()  # (..., n, 4C)
        x = linear(x, params[f"layer{li}.mlp_fc2"])  # (..., n, C)
        x = x + x_residual
    return linear(x, params["lm_head"])  # (..., n, vocab)


def _extend(cache: Tensor | None, new: Tensor) -> Tensor:
    """Append positions to cached (B, H, m, D) keys or values (sampling only: no grad here)."""
    if cache is None:
        return new
    return cat([cache, new], dim=2)


def empty_cache(config: GPTConfig) -> tuple[list, list]:
    return [None] * config.n_layer, [None] * config.n_layer


def document_loss(params: dict[str, Tensor], config: GPTConfig, tokens: Sequence[int]
                  ) -> Tensor:
    """Mean over positions of -log p(next token), the first block_size positions."""
    return token_loss(params, config, *_document_arrays(config, tokens))


def token_loss(params: dict[str, Tensor], config: GPTConfig, inputs: np.ndarray,
               targets: np.ndarray) -> Tensor:
    """Mean over positions of -log p(target) after the (n,) input tokens."""
    return F.cross_entropy(gpt(params, config, inputs, 0), targets)


def _document_arrays(config: GPTConfig, tokens: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """One document's inputs and targets, (n,) each, n at most block_size."""
    n = min(config.block_size, len(tokens) - 1)
    ids = np.asarray(tokens[: n + 1])  # one document, no batch dimension: (n, C) arrays
    return ids[:n], ids[1:]


def batch_loss(params: dict[str, Tensor], config: GPTConfig, batch: list[list[int]]) -> Tensor:
    """Mean over documents of each document's mean token loss (padded to the longest).

    Padding losses get weight 0, so padding reaches neither the loss nor any gradient.
    """
    return weighted_loss(params, config, *_batch_arrays(params, config, batch))


def weighted_loss(params: dict[str, Tensor], config: GPTConfig, inputs: np.ndarray,
                  targets: np.ndarray, weights: np.ndarray) -> Tensor:
    """The sum of each target's -log p times its weight; (B, n) each."""
    logits = gpt(params, config, inputs, 0)  # (B, n, vocab)
    # PyTorch's layout: the classes on dimension 1; losses (B, n)
    return (F.cross_entropy(logits.transpose(1, 2), targets, reduction="none") * weights).sum()


def _batch_arrays(params: dict[str, Tensor], config: GPTConfig, batch: list[list[int]]
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A batch's inputs and targets, padded to (B, n), and each target's weight (0: padding)."""
    inputs, targets, mask = pad_batch(batch, config.block_size)
    weights = mask / (mask.sum(axis=1, keepdims=True) * len(batch))
    dtype = params["wte"].dtype  # float64 weights would promote a float32 run's loss
    return inputs, targets, weights.astype(dtype, copy=False)


def training_step(params: dict[str, Tensor], config: GPTConfig
                  ) -> Callable[[list[list[int]]], Tensor]:
    """``step(batch)``: the loss of one document (or a batch), backpropagated into the
    parameters' ``.grad``; returns the loss.

    The same as ``document_loss(...).backward()``, to the last bit, but captured
    (``tensorgrad.capture``): from the third document of a length on, the recorded graph
    is replayed without running the model's Python again.

    A batch with enough work (``_PART_BYTES``) is cut into parts, one per thread
    (``tensorgrad.get_num_threads()``), whose losses and gradients are computed at once,
    each part on its own copies of the parameter tensors (sharing their arrays); the parts'
    gradients are then added into the parameters': the same bits as each part's loss
    backpropagated alone and the gradients added, and the whole batch's to rounding.
    """
    one = capture(functools.partial(token_loss, params, config))
    parts = [(params, capture(functools.partial(weighted_loss, params, config)))]

    def part(i: int, inputs: np.ndarray, targets: np.ndarray, weights: np.ndarray) -> Tensor:
        own, step = parts[i]
        if i:  # the parameters' arrays, which an optimizer may have replaced since
            for name, p in params.items():
                own[name].data, own[name].grad = p.data, None  # (None: a failed step's gone)
                if own[name].requires_grad != p.requires_grad:
                    own[name].requires_grad = p.requires_grad
        return step(inputs, targets, weights)

    def add_grads(names: list[str], count: int) -> None:
        for name in names:
            p = params[name]
            for own, _ in parts[1:count]:
                g, own[name].grad = own[name].grad, None
                if g is not None:
                    p.grad = g if p.grad is None else p.grad + g

    def step(batch: list[list[int]]) -> Tensor:
        if len(batch) == 1:  # microgpt.py's own path: one document, no padding
            return one(*_document_arrays(config, batch[0]))
        arrays = _batch_arrays(params, config, batch)
        work = arrays[0].size * config.n_embd * params["wte"].data.itemsize
        count = min(get_num_threads(), len(batch), work // _PART_BYTES)
        if count < 2:
            return parts[0][1](*arrays)
        while len(parts) < count:  # a part's own tensors, given the arrays at each step
            own = {name: Tensor(np.empty(0), requires_grad=True) for name in params}
            parts.append((own, capture(functools.partial(weighted_loss, own, config))))
        cuts = [np.array_split(a, count) for a in arrays]
        losses = run_parts([functools.partial(part, i, *(c[i] for c in cuts))
                            for i in range(count)])
        names = list(params)
        run_parts([functools.partial(add_grads, names[i::count], count) for i in range(count)])
        with no_grad():
            return functools.reduce(operator.add, losses)  # the parts' sums: the batch's
    return step


def generate(params: dict[str, Tensor], config: GPTConfig, bos: int, rng: random.Random,
             temperature: float, prefix: Sequence[int] = (), top_k: int | None = None
             ) -> list[int]:
    """Sample one document: start at BOS, stop at BOS or after block_size tokens.

    Beyond microgpt.py (both off by default, and then the draws are exactly its own):
    ``prefix`` tokens (at most block_size - 1) are fed in after BOS before anything is
    drawn and begin the sample; ``top_k`` (>= 1) draws among the k likeliest tokens only
    (ties broken towards the lower id).
    """
    if len(prefix) > config.block_size - 1:
        raise ValueError(f"a prefix of {len(prefix)} tokens leaves no room to sample in a "
                         f"block of {config.block_size}; use at most {config.block_size - 1}")
    if top_k is not None and top_k < 1:
        raise ValueError(f"top_k must be at least 1, not {top_k}")
    keys, values = empty_cache(config)
    sample = list(prefix)
    inputs = np.array([[bos, *prefix]])  # BOS and the prefix in one pass, under the causal mask
    with no_grad():
        for pos_id in range(len(prefix), config.block_size):
            first = pos_id + 1 - inputs.shape[1]  # the position of inputs[0, 0]
            logits = gpt(params, config, inputs, first, keys, values)
            probs = softmax(logits[0, -1] / temperature).tolist()
            if top_k is not None and top_k < config.vocab_size:
                # Stable sort: among equal probabilities the lower ids are kept.
                for i in np.argsort(-np.array(probs), kind="stable")[top_k:]:
                    probs[i] = 0.0
            token_id = rng.choices(range(config.vocab_size), weights=probs)[0]
            if token_id == bos:
                break
            sample.append(token_id)
            inputs = np.array([[token_id]])
    return sample
