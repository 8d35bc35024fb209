"""Training and sampling, the same loop for both engines.

An engine is a model module (``gpt_scalar`` or ``gpt_tensor``): both offer the
same functions, so everything here is written once.

Step k (0-based) trains on ``batch_size`` documents, ``docs[(k * batch_size + i) %
len(docs)]`` for i < batch_size, with the learning rate of ``schedule.learning_rate``.
One document per step under the linear schedule without warm-up is microgpt.py's loop.
"""

from __future__ import annotations

import contextlib
import random
import signal
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import ModuleType

import numpy as np

from . import gpt_scalar, gpt_tensor
from .data import Tokenizer
from .model import GPTConfig, init_state_dict
from .schedule import learning_rate

ENGINES: dict[str, ModuleType] = {"scalar": gpt_scalar, "tensor": gpt_tensor}


@dataclass(frozen=True)
class Hyperparameters:
    steps: int = 1000
    lr: float = 0.01
    beta1: float = 0.85
    beta2: float = 0.99
    eps: float = 1e-8
    schedule: str = "linear"
    warmup: int = 0
    batch_size: int = 1


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


class Trainer:
    """A training run that can stop after any step and continue, from a checkpoint too.

    ``step`` is the number of steps done; ``losses`` holds every step's loss so far.
    A run resumed with the ``step``, ``losses`` and ``optimizer_state()`` of another
    continues exactly as that one would have (the weights are the caller's ``params``).
    """

    def __init__(self, engine: ModuleType, params: dict, config: GPTConfig,
                 docs: Sequence[str], tokenizer: Tokenizer, hp: Hyperparameters, *,
                 step: int = 0, losses: Sequence[float] = (),
                 optimizer_state: Mapping[str, np.ndarray] | None = None):
        if hp.batch_size > 1 and not hasattr(engine, "batch_loss"):
            raise ValueError(f"the {engine.__name__} engine trains one document per step")
        if not 0 <= step <= hp.steps or len(losses) != step:
            raise ValueError(f"cannot start at step {step} of {hp.steps} with {len(losses)} "
                             "losses")
        self.engine, self.params, self.config, self.hp = engine, params, config, hp
        self.tokenizer, self.docs = tokenizer, list(docs)
        self.step, self.losses = step, list(losses)
        self.optimizer = engine.Adam(engine.parameters(params), lr=hp.lr,
                                     betas=(hp.beta1, hp.beta2), eps=hp.eps)
        if optimizer_state is not None:
            _load_optimizer_state(self.optimizer, optimizer_state)

    def run(self, until: int | None = None) -> Iterator[float]:
        """Train up to step ``until`` (default: all ``hp.steps``), yielding each step's loss."""
        while self.step < (self.hp.steps if until is None else until):
            yield self.train_step()

    def train_step(self) -> float:
        """One step: the loss of the next batch (before the update), backward, Adam."""
        with _ctrl_c_after_the_step():  # a checkpoint must never hold half an update
            b, k = self.hp.batch_size, self.step
            batch = [document_tokens(self.tokenizer, self.docs[(k * b + i) % len(self.docs)])
                     for i in range(b)]
            if b == 1:  # microgpt.py's own path, so its run stays bit for bit the same
                loss = self.engine.document_loss(self.params, self.config, batch[0])
            else:
                loss = self.engine.batch_loss(self.params, self.config, batch)
            loss.backward()
            self.optimizer.lr = learning_rate(k, self.hp.steps, self.hp.lr, self.hp.schedule,
                                              self.hp.warmup)
            self.optimizer.step()
            self.optimizer.zero_grad()
            self.losses.append(float(loss.data))
            self.step += 1
        return self.losses[-1]

    def optimizer_state(self) -> dict[str, np.ndarray]:
        """Adam's moments ``m`` and ``v`` (flat, in parameter order) and its ``step`` count."""
        if hasattr(self.optimizer, "state_dict"):
            return self.optimizer.state_dict()
        # gpt_scalar.Adam keeps one float per parameter, in the same flat order as tensorgrad's.
        return {"m": np.array(self.optimizer.m, dtype=np.float64),
                "v": np.array(self.optimizer.v, dtype=np.float64),
                "step": np.array(self.optimizer.step_count)}


def _load_optimizer_state(optimizer: object, state: Mapping[str, np.ndarray]) -> None:
    if hasattr(optimizer, "load_state_dict"):
        optimizer.load_state_dict(dict(state))
        return
    if state["m"].shape != (len(optimizer.m),) or state["v"].shape != (len(optimizer.v),):
        raise ValueError("optimizer state does not match the parameters")
    optimizer.m, optimizer.v = state["m"].tolist(), state["v"].tolist()
    optimizer.step_count = int(state["step"])


@contextlib.contextmanager
def _ctrl_c_after_the_step() -> Iterator[None]:
    """Hold a Ctrl-C (SIGINT) that arrives inside the block until the block is done.

    Only where Python's default handler is installed (it raises KeyboardInterrupt) and
    only in the main thread, where signal handlers can be set; anything else is left alone.
    """
    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler):
        yield
        return
    received: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if received:
        raise KeyboardInterrupt


def train(engine: ModuleType, params: dict, config: GPTConfig, docs: Sequence[str],
          tokenizer: Tokenizer, hp: Hyperparameters) -> Iterator[float]:
    """Train for ``hp.steps`` steps from scratch; yields each step's loss (before the update)."""
    return Trainer(engine, params, config, docs, tokenizer, hp).run()


def sample(engine: ModuleType, params: dict, config: GPTConfig, tokenizer: Tokenizer,
           rng: random.Random, temperature: float = 0.5, count: int = 20) -> list[str]:
    """``count`` new documents, drawn from ``rng`` (microgpt.py continues the training stream)."""
    return [tokenizer.decode(engine.generate(params, config, tokenizer.bos, rng, temperature))
            for _ in range(count)]
