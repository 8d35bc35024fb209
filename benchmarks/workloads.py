"""What the engines train on: the points a run measures, and each point's model and documents.

The default run is microgpt's own: its default model on names (synthetic, or ``--data``), set
up by ``microgpt.train.setup``, one document per step. Every other point is a model given by
its sizes (a sweep's, a training-scale one, ``--config``'s) on documents of random tokens that
fill the block. A ``Point`` is plain data: pyperf's workers rebuild its workload from the plan
on their command line, from the same seeds, so they train on the same numbers as the check.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from microgpt.model import INIT_STD, GPTConfig, parameter_shapes
from microgpt.storage.datasets import load_docs
from microgpt.train import document_tokens, setup

SIZE_KEYS = ("vocab", "n_embd", "n_head", "n_layer", "block_size", "batch")
# The sweeps' base model: microgpt's default sizes, its 26 letters and BOS, one document a step.
BASE = {"vocab": 27, "n_embd": 16, "n_head": 4, "n_layer": 1, "block_size": 16, "batch": 1}
# sweep -> (the size it varies, its values in a full run, in a --quick one). The base model is
# the n_embd sweep's first point; the other sweeps leave it out rather than measure it again.
SWEEPS = {
    "n_embd": ("n_embd", (16, 32, 64, 128, 256), (32,)),
    "seq": ("block_size", (8, 32, 64), (32,)),
    "n_layer": ("n_layer", (2, 4), (2,)),
    "batch": ("batch", (4, 16, 64), (4,)),
}
QUICK_SIZES = ("default", "batch")  # --quick without --sizes: each engine at one point or two
# The sizes users train at after the default run (issue #16), on a 65-character vocabulary.
TRAINING = [dict(zip(SIZE_KEYS, sizes)) for sizes in (
    (65, 16, 4, 1, 16, 64), (65, 64, 4, 2, 32, 32), (65, 128, 4, 4, 64, 32),
    (65, 256, 8, 4, 128, 16))]
SIZES = ("default", *SWEEPS, "training")
NAME_LENGTHS = range(3, 10)  # the default run's synthetic names: 3 to 9 letters, like real ones
DEFAULT_DOCS = 1000  # as many as microgpt's default run has steps
SYNTHETIC_DOCS = 256


@dataclass
class Point:
    label: str  # unique within a run: "default", "n_embd=64", or the sizes spelled out
    table: str  # where the report shows it: "default", a sweep's name, "training" or "config"
    sizes: dict[str, int] | None = None  # SIZE_KEYS; None for the default run
    engines: list[str] = field(default_factory=list)  # timed here
    skipped: dict[str, str] = field(default_factory=dict)  # engine -> why it is not


def config_of(sizes: dict[str, int]) -> GPTConfig:
    """The model of ``sizes`` (``ValueError`` if n_embd is not a multiple of n_head)."""
    return GPTConfig(vocab_size=sizes["vocab"], n_embd=sizes["n_embd"], n_head=sizes["n_head"],
                     n_layer=sizes["n_layer"], block_size=sizes["block_size"])


def spell(sizes: dict[str, int]) -> str:
    """Sizes as ``--config`` takes them: ``vocab=27,n_embd=16,...``."""
    return ",".join(f"{key}={sizes[key]}" for key in SIZE_KEYS)


def points(sizes: list[str], quick: bool) -> list[Point]:
    """The points of the named sizes: the default run, sweeps, the training-scale sizes."""
    found = []
    for name in sizes:
        if name == "default":
            found.append(Point("default", "default"))
        elif name == "training":
            found += [Point(spell(s), "training", s) for s in TRAINING[:2 if quick else None]]
        else:
            key, full, short = SWEEPS[name]
            found += [Point(f"{name}={value}", name, {**BASE, key: value})
                      for value in (short if quick else full)]
    return found


@dataclass
class Workload:
    config: GPTConfig
    state: dict[str, np.ndarray]
    docs: list[list[int]]  # token lists, [BOS, ..., BOS]
    batch_size: int
    description: str

    def batch(self, step: int) -> list[list[int]]:
        """The documents of training step ``step``: the next ``batch_size`` ones, cyclically."""
        start = step * self.batch_size
        return [self.docs[(start + i) % len(self.docs)] for i in range(self.batch_size)]

    def positions(self) -> list[int]:
        """The positions each document trains on (its tokens but the last, up to the block)."""
        return [min(self.config.block_size, len(doc) - 1) for doc in self.docs]


def workload(point: Point, seed: int, data: str | None = None) -> Workload:
    """The workload of ``point``; the default run reads ``data`` if given (``DataError``)."""
    if point.sizes is None:
        return default_workload(None if data is None else Path(data), seed)
    return synthetic_workload(point.sizes, seed)


def default_workload(data: Path | None, seed: int) -> Workload:
    """microgpt's default run, on the names in ``data`` or on synthetic ones."""
    if data is not None:
        docs, description = load_docs(data), f"{data} (shuffled)"
    else:
        rng = random.Random(seed)
        docs = ["".join(rng.choices(string.ascii_lowercase, k=rng.choice(NAME_LENGTHS)))
                for _ in range(DEFAULT_DOCS)]
        description = f"{DEFAULT_DOCS} synthetic names of 3-9 random letters"
    run = setup(docs, seed=seed)
    tokens = [document_tokens(run.tokenizer, doc) for doc in run.docs]
    return Workload(run.config, run.state, tokens, 1, description)


def synthetic_workload(sizes: dict[str, int], seed: int) -> Workload:
    """A model of ``sizes`` on documents of ``block_size`` random tokens (the last id is BOS)."""
    config = config_of(sizes)
    # NumPy's generator, not microgpt's random.Random: millions of weights in milliseconds,
    # in every worker process.
    rng = np.random.default_rng(seed)
    state = {name: rng.normal(0.0, INIT_STD, shape)
             for name, shape in parameter_shapes(config).items()}
    bos = config.vocab_size - 1
    count = max(SYNTHETIC_DOCS, 4 * sizes["batch"])
    docs = [[bos, *row, bos] for row in rng.integers(0, bos, (count, config.block_size)).tolist()]
    return Workload(config, state, docs, sizes["batch"],
                    f"random {config.block_size}-token documents")
