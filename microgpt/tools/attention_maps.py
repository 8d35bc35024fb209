"""Attention maps: how much each position of a name attends to each earlier one, per layer
and head, drawn as heatmaps (``microgpt sample --attention PNG``).

The weights are the model's own: ``gpt_tensor.gpt`` runs on the name, and each layer's
``MultiHeadAttention`` node in its graph gives the packed query, key and value projections
it attended with (``grad_fn.inputs``); softmax(q k^T / sqrt(head_dim)) under the causal mask
is then what that node computed. matplotlib, the optional ``plot`` extra, draws them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from tensorgrad import Tensor
from tensorgrad.functional import MultiHeadAttention

from .. import gpt_tensor
from ..model import GPTConfig
from .plot import save_png

MAX_MAPS = 64  # layers x heads: beyond, the panels would be too small to read, and slow to draw


def attention_weights(params: dict[str, Tensor], config: GPTConfig, tokens: Sequence[int]
                      ) -> list[np.ndarray]:
    """Per layer, the weights (n_head, n, n) of query position i on key position j, for the
    first block_size ``tokens``; 0 where j > i."""
    ids = np.asarray(tokens[:config.block_size])
    logits = gpt_tensor.gpt(params, config, ids, 0)  # the parameters require grad: a graph
    layers = {id(params[f"layer{li}.attn_wqkv"]): li for li in range(config.n_layer)}
    weights: dict[int, np.ndarray] = {}  # by layer
    seen, stack = {id(logits)}, [logits]
    while stack:
        fn = stack.pop().grad_fn
        if fn is None:
            continue
        if fn.function is MultiHeadAttention:
            qkv = fn.inputs[0]  # the output of the layer's linear(x, attn_wqkv)
            weights[layers[id(qkv.grad_fn.inputs[1])]] = _causal_weights(qkv.detach().numpy(),
                                                                         config.n_head)
        for a in fn.inputs:
            if isinstance(a, Tensor) and id(a) not in seen:
                seen.add(id(a))
                stack.append(a)
    return [weights[li] for li in range(config.n_layer)]


def _causal_weights(qkv: np.ndarray, heads: int) -> np.ndarray:
    """softmax(q k^T / sqrt(head_dim)) per head, each query over itself and the keys before."""
    n, width = qkv.shape
    head_dim = width // (3 * heads)
    q, k, _ = qkv.reshape(n, 3, heads, head_dim).transpose(1, 2, 0, 3)  # each (heads, n, d)
    scores = q @ k.transpose(0, 2, 1) / math.sqrt(head_dim)
    scores[:, ~np.tri(n, dtype=bool)] = -np.inf
    exps = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return exps / exps.sum(axis=-1, keepdims=True)


def save_attention_maps(path: str | Path, weights: Sequence[np.ndarray], labels: Sequence[str],
                        title: str) -> Path:
    """One heatmap per layer (rows) and head (columns): query position down, key position
    across, each labelled with its character. Written atomically, as a PNG."""
    from matplotlib.figure import Figure  # no pyplot: no global state, no GUI backend

    path = Path(path)
    layers, heads = len(weights), weights[0].shape[0]
    n = len(labels)
    side = 1.0 + 0.28 * n
    fig = Figure(figsize=(side * heads + 1.0, side * layers + 0.6), layout="constrained")
    axes = fig.subplots(layers, heads, squeeze=False)
    future = ~np.tri(n, dtype=bool)
    for layer, layer_weights in enumerate(weights):
        for head in range(heads):
            ax = axes[layer][head]
            shown = np.where(future, np.nan, layer_weights[head])  # blank: cannot attend there
            image = ax.imshow(shown, cmap="viridis", vmin=0.0, vmax=1.0)
            ax.set_xticks(range(n), labels, fontsize=8)
            ax.set_yticks(range(n), labels, fontsize=8)
            ax.tick_params(length=0)
            ax.set_title(f"layer {layer}, head {head}", fontsize=9)
            if head == 0:
                ax.set_ylabel("query (position)", fontsize=8)
            if layer == layers - 1:
                ax.set_xlabel("key (attended to)", fontsize=8)
    fig.colorbar(image, ax=axes, shrink=0.8, label="attention weight")
    fig.suptitle(title)
    return save_png(fig, path, "the attention maps")
