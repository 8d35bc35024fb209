"""Training and sampling, the same loop for both engines.

An engine is a model module (``gpt_scalar`` or ``gpt_tensor``): both offer the
same functions, so everything here is written once.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from types import ModuleType

import numpy as np

from . import gpt_scalar, gpt_tensor
from .data import Tokenizer
from .model import GPTConfig, init_state_dict

ENGINES: dict[str, ModuleType] = {"scalar": gpt_scalar, "tensor": gpt_tensor}


@dataclass(frozen=True)
class Hyperparameters:
    steps: int = 1000
    lr: float = 0.01
    beta1: float = 0.85
    beta2: float = 0.99
    eps: float = 1e-8


@dataclass
class Setup:
    """Everything a run starts from: shuffled docs, tokenizer, config, weights and the stream."""

    docs: list[str]
    tokenizer: Tokenizer
    config: GPTConfig
    state: dict[str, np.ndarray]
    rng: random.Random


def setup(docs: Sequence[str], seed: int = 42, **model_options: int) -> Setup:
    """Shuffle, tokenize and initialise exactly as microgpt.py does, from one ``Random(seed)``."""
    rng = random.Random(seed)
    docs = list(docs)
    rng.shuffle(docs)
    tokenizer = Tokenizer.from_docs(docs)
    config = GPTConfig(vocab_size=tokenizer.vocab_size, **model_options)
    return Setup(docs, tokenizer, config, init_state_dict(config, rng), rng)


def document_tokens(tokenizer: Tokenizer, doc: str) -> list[int]:
    """A document between two BOS tokens: BOS opens and closes every document."""
    return [tokenizer.bos, *tokenizer.encode(doc), tokenizer.bos]


def train(engine: ModuleType, params: dict, config: GPTConfig, docs: Sequence[str],
          tokenizer: Tokenizer, hp: Hyperparameters) -> Iterator[float]:
    """Train on one document per step, in order; yields each step's loss (before the update)."""
    optimizer = engine.Adam(engine.parameters(params), lr=hp.lr, betas=(hp.beta1, hp.beta2),
                            eps=hp.eps)
    for step in range(hp.steps):
        tokens = document_tokens(tokenizer, docs[step % len(docs)])
        loss = engine.document_loss(params, config, tokens)
        loss.backward()
        optimizer.lr = hp.lr * (1 - step / hp.steps)  # linear decay to zero
        optimizer.step()
        optimizer.zero_grad()
        yield float(loss.data)


def sample(engine: ModuleType, params: dict, config: GPTConfig, tokenizer: Tokenizer,
           rng: random.Random, temperature: float = 0.5, count: int = 20) -> list[str]:
    """``count`` new documents, drawn from ``rng`` (microgpt.py continues the training stream)."""
    return [tokenizer.decode(engine.generate(params, config, tokenizer.bos, rng, temperature))
            for _ in range(count)]
