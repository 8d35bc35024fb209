"""What the engines train on: a model configuration, its initial weights and the documents.

Two kinds of workload:

* the *default* one is microgpt's own run: the default ``GPTConfig`` on short name-like
  documents (or on a dataset file given with ``--data``), shuffled, tokenized and initialised by
  ``microgpt.train.setup`` exactly as microgpt.py does, one document per step;
* a *sweep point* varies one size of a base model (n_embd 16, 4 heads, 1 layer, block 16, one
  document per step) and trains on documents of random letters long enough to fill the block,
  so every step processes exactly ``block_size`` positions per document.

Everything is drawn from seeded ``random.Random`` streams, so every engine, every run and
every machine sees the same weights and documents.
"""

from __future__ import annotations

import random
import string
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from microgpt.data import load_docs
from microgpt.model import GPTConfig, init_state_dict
from microgpt.train import document_tokens, setup

ALPHABET = string.ascii_lowercase  # the sweeps' documents: random strings of these 26 letters
NAME_LENGTHS = range(3, 10)  # the default run's synthetic names: 3 to 9 letters, like real ones
DEFAULT_DOCS = 1000  # as many as the default run has steps, so a full run sees each once
SWEEP_DOCS = 256


@dataclass
class Workload:
    """One benchmark configuration: the model, its initial weights and the batches of steps."""

    label: str  # e.g. "default" or "n_embd=64"
    config: GPTConfig
    state: dict[str, np.ndarray]
    docs: list[list[int]]  # token lists, [BOS, ..., BOS]
    batch_size: int = 1
    description: str = ""

    def batch(self, step: int) -> list[list[int]]:
        """The documents of training step ``step``: the next ``batch_size`` ones, cyclically."""
        start = step * self.batch_size
        return [self.docs[(start + i) % len(self.docs)] for i in range(self.batch_size)]

    def summary(self) -> dict:
        """The configuration as plain data, for the JSON report."""
        c = self.config
        return {"label": self.label, "vocab_size": c.vocab_size, "n_embd": c.n_embd,
                "n_head": c.n_head, "n_layer": c.n_layer, "block_size": c.block_size,
                "batch_size": self.batch_size, "documents": self.description,
                "document_tokens": {"min": min(map(len, self.docs)),
                                    "max": max(map(len, self.docs))}}


def synthetic_names(count: int, rng: random.Random) -> list[str]:
    """``count`` name-like documents: random lowercase strings of 3 to 9 letters."""
    return ["".join(rng.choices(ALPHABET, k=rng.choice(NAME_LENGTHS))) for _ in range(count)]


def default_workload(data: Path | None = None, seed: int = 42, tiny: bool = False) -> Workload:
    """microgpt's default run: names (synthetic unless ``data`` is given), default GPTConfig.

    ``tiny`` shrinks the model (n_embd 8, 2 heads, block 8) for smoke tests.
    """
    if data is not None:
        docs, description = load_docs(data), f"{data} (shuffled)"
    else:
        docs = synthetic_names(DEFAULT_DOCS, random.Random(seed))
        description = (f"{DEFAULT_DOCS} synthetic names ({NAME_LENGTHS.start}-"
                       f"{NAME_LENGTHS.stop - 1} random letters)")
    model = {"n_embd": 8, "n_head": 2, "block_size": 8} if tiny else {}
    run = setup(docs, seed=seed, **model)
    tokens = [document_tokens(run.tokenizer, doc) for doc in run.docs]
    return Workload("default", run.config, run.state, tokens, 1, description)


# ---- sweeps -------------------------------------------------------------------------------------

SWEEP_BASE = GPTConfig(vocab_size=len(ALPHABET) + 1, n_embd=16, n_head=4, n_layer=1,
                       block_size=16)
TINY_BASE = GPTConfig(vocab_size=len(ALPHABET) + 1, n_embd=8, n_head=2, n_layer=1, block_size=8)

# name -> (what it varies, values in full / --quick / --tiny runs)
SWEEPS: dict[str, tuple[str, dict[str, tuple[int, ...]]]] = {
    "n_embd": ("n_embd", {"full": (16, 32, 64, 128, 256), "quick": (16, 64), "tiny": (8, 16)}),
    "seq": ("sequence length = block_size",
            {"full": (8, 16, 32, 64), "quick": (8, 32), "tiny": (4, 8)}),
    "n_layer": ("n_layer", {"full": (1, 2, 4), "quick": (1, 2), "tiny": (1, 2)}),
    "batch": ("batch size (documents per step)",
              {"full": (1, 4, 16, 64), "quick": (1, 16), "tiny": (1, 3)}),
}


def sweep_values(sweep: str, mode: str) -> tuple[int, ...]:
    """The sizes a sweep visits in ``mode`` ("full", "quick" or "tiny")."""
    return SWEEPS[sweep][1][mode]


def sweep_workload(sweep: str, value: int, seed: int = 42, tiny: bool = False) -> Workload:
    """The base model with one size set to ``value``, on documents that fill the block."""
    base = TINY_BASE if tiny else SWEEP_BASE
    batch_size = 1
    if sweep == "n_embd":
        config = replace(base, n_embd=value)
    elif sweep == "seq":
        config = replace(base, block_size=value)
    elif sweep == "n_layer":
        config = replace(base, n_layer=value)
    elif sweep == "batch":
        config, batch_size = base, value
    else:
        raise ValueError(f"unknown sweep {sweep!r}")
    rng = random.Random(seed)
    state = init_state_dict(config, rng)
    bos = len(ALPHABET)
    docs = [[bos, *rng.choices(range(len(ALPHABET)), k=config.block_size), bos]
            for _ in range(max(SWEEP_DOCS, 4 * batch_size))]
    description = f"random {config.block_size}-letter documents"
    return Workload(f"{sweep}={value}", config, state, docs, batch_size, description)


def positions_per_step(workload: Workload, steps: Sequence[int]) -> list[int]:
    """The sequence length each of ``steps`` trains on (for the scalar engine's cost model)."""
    return [min(workload.config.block_size, max(len(t) for t in workload.batch(s)) - 1)
            for s in steps]
