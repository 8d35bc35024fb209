"""What both engines share: the model's configuration and its initial weights.

The weights are drawn from the same ``random.Random`` that shuffled the data,
right after the shuffle and in microgpt.py's order, so both engines (and
microgpt.py itself) start from the same numbers.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

INIT_STD = 0.08


@dataclass(frozen=True)
class GPTConfig:
    vocab_size: int
    n_embd: int = 16
    n_head: int = 4
    n_layer: int = 1
    block_size: int = 16

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if not isinstance(value, int) or value <= 0:
                option = name.replace("_", "-")
                raise ValueError(f"{option} must be a positive integer, not {value!r}")
        if self.n_embd % self.n_head:
            raise ValueError(
                f"n-embd ({self.n_embd}) must be divisible by n-head ({self.n_head})"
            )

    @property
    def head_dim(self) -> int:
        return self.n_embd // self.n_head


def parameter_shapes(config: GPTConfig) -> dict[str, tuple[int, int]]:
    """Every weight matrix by name, in the order microgpt.py creates (and draws) them."""
    c, v = config.n_embd, config.vocab_size
    shapes = {"wte": (v, c), "wpe": (config.block_size, c), "lm_head": (v, c)}
    for i in range(config.n_layer):
        shapes |= {
            f"layer{i}.attn_wq": (c, c),
            f"layer{i}.attn_wk": (c, c),
            f"layer{i}.attn_wv": (c, c),
            f"layer{i}.attn_wo": (c, c),
            f"layer{i}.mlp_fc1": (4 * c, c),
            f"layer{i}.mlp_fc2": (c, 4 * c),
        }
    return shapes


def init_state_dict(config: GPTConfig, rng: random.Random) -> dict[str, np.ndarray]:
    """Weights ~ gauss(0, 0.08), drawn row-major from ``rng`` in microgpt.py's order."""
    state = {}
    for name, (rows, cols) in parameter_shapes(config).items():
        values = [rng.gauss(0, INIT_STD) for _ in range(rows * cols)]
        state[name] = np.array(values, dtype=np.float64).reshape(rows, cols)
    return state


def num_params(config: GPTConfig) -> int:
    return sum(rows * cols for rows, cols in parameter_shapes(config).values())


def pad_batch(batch: Sequence[Sequence[int]], block_size: int
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Documents as inputs and targets (B, n) and a 0/1 mask (B, n), padded to the longest.

    n is the longest document's number of positions, at most ``block_size``. Padding
    (token 0, mask 0) comes after each document's own tokens, where causal attention keeps
    the real positions from ever seeing it.
    """
    n = min(block_size, max(len(tokens) for tokens in batch) - 1)
    ids = np.zeros((len(batch), n + 1), dtype=np.intp)
    mask = np.zeros((len(batch), n))
    for row, tokens in enumerate(batch):
        length = min(n, len(tokens) - 1)
        ids[row, : length + 1] = tokens[: length + 1]
        mask[row, :length] = 1.0
    return ids[:, :-1], ids[:, 1:], mask
