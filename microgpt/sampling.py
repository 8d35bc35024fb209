"""Sampling names from a trained model, optionally continuing a prefix and from the top k.

``gpt_tensor.generate`` is microgpt.py's sampler: start at BOS, draw each next token
from softmax(logits / temperature) with ``rng.choices``, stop at BOS or at the block's
end. ``generate`` here is the same loop with two options: ``prefix`` tokens fed in
after BOS before anything is drawn, and ``top_k``, which keeps only the k most likely
tokens at each draw. Without them it makes exactly the same draws from ``rng`` as
``gpt_tensor.generate``, so it samples the same names.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import numpy as np

from tensorgrad import Tensor, no_grad
from tensorgrad import functional as F

from . import gpt_tensor
from .model import GPTConfig


def generate(params: dict[str, Tensor], config: GPTConfig, bos: int, rng: random.Random,
             temperature: float, prefix: Sequence[int] = (), top_k: int | None = None
             ) -> list[int]:
    """One document's tokens, starting with ``prefix``; at most ``block_size`` tokens long.

    ``prefix`` may hold at most ``block_size - 1`` tokens (there must be room to draw
    one). ``top_k`` (>= 1) draws among the k most likely tokens only (ties broken
    towards the lower id); None, or k >= vocab_size, draws among all.
    """
    if len(prefix) > config.block_size - 1:
        raise ValueError(f"a prefix of {len(prefix)} tokens leaves no room to sample in a "
                         f"block of {config.block_size}; use at most {config.block_size - 1}")
    if top_k is not None and top_k < 1:
        raise ValueError(f"top_k must be at least 1, not {top_k}")
    keys, values = gpt_tensor.empty_cache(config)
    sample = list(prefix)
    inputs = np.array([[bos, *prefix]])  # BOS and the prefix in one pass, under the causal mask
    with no_grad():
        for pos_id in range(len(prefix), config.block_size):
            first = pos_id + 1 - inputs.shape[1]  # the position of inputs[0, 0]
            logits = gpt_tensor.gpt(params, config, inputs, first, keys, values)
            probs = F.softmax(logits / temperature, axis=-1).data[0, -1]
            if top_k is not None and top_k < config.vocab_size:
                # Stable sort: among equal probabilities the lower ids are kept.
                dropped = np.argsort(-probs, kind="stable")[top_k:]
                probs = probs.copy()
                probs[dropped] = 0.0
            token_id = rng.choices(range(config.vocab_size), weights=probs.tolist())[0]
            if token_id == bos:
                break
            sample.append(token_id)
            inputs = np.array([[token_id]])
    return sample
