"""Training and sampling, the same loop for both engines.

An engine is a model module (``gpt_scalar`` or ``gpt_tensor``): both offer the
same functions, so everything here is written once.

Step k (0-based) trains on ``batch_size`` documents, ``docs[(k * batch_size + i) %
len(docs)]`` for i < batch_size, with the learning rate of ``schedule.learning_rate``.
One document per step under the linear schedule without warm-up is microgpt.py's loop.

A run that diverges stops with ``TrainingDiverged`` (see ``diverged``) instead of training
on, or failing on, numbers that mean nothing any more.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import ModuleType

import numpy as np

from tensorgrad import Tensor

from . import gpt_scalar, gpt_tensor
from .data import Tokenizer
from .model import GPTConfig, init_state_dict
from .schedule import learning_rate

ENGINES: dict[str, ModuleType] = {"scalar": gpt_scalar, "tensor": gpt_tensor}
DTYPES = ("float64", "float32")  # float64 is microgpt.py's (Python floats); float32: tensor only


@dataclass(frozen=True)
class Hyperparameters:
    """microgpt.py's settings by default; schedule, warmup, batch_size and dtype go beyond it.

    ``dtype`` is the precision of the weights, of Adam's moments and of every computation.
    """

    steps: int = 1000
    lr: float = 0.01
    beta1: float = 0.85
    beta2: float = 0.99
    eps: float = 1e-8
    schedule: str = "linear"
    warmup: int = 0
    batch_size: int = 1
    dtype: str = "float64"


@dataclass
class OptimizerState:
    """Adam's state: the moments of every weight matrix, by name, and the steps taken."""

    m: dict[str, np.ndarray]
    v: dict[str, np.ndarray]
    step: int


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
    tokenizer = Tokenizer.from_docs(docs)  # the same characters in any order of the docs
    config = GPTConfig(vocab_size=tokenizer.vocab_size, **model_options)
    return initialise(docs, tokenizer, config, seed)


def initialise(docs: Sequence[str], tokenizer: Tokenizer, config: GPTConfig, seed: int = 42
               ) -> Setup:
    """``setup`` for a tokenizer and config already made from ``docs``: shuffle, draw weights.

    Drawing the weights is the slow part of a large model's setup (one ``gauss`` call per
    parameter), so a caller can check the config before it.
    """
    rng = random.Random(seed)
    docs = list(docs)
    rng.shuffle(docs)
    return Setup(docs, tokenizer, config, init_state_dict(config, rng), rng)


def cast(state: Mapping[str, np.ndarray], dtype: str) -> dict[str, np.ndarray]:
    """The weights in ``dtype`` (no copies where they are in it already)."""
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {', '.join(DTYPES)}, not {dtype!r}")
    return {name: np.asarray(w, dtype=dtype) for name, w in state.items()}


def document_tokens(tokenizer: Tokenizer, doc: str, block_size: int | None = None
                    ) -> list[int]:
    """A document between two BOS tokens: BOS opens and closes every document.

    With ``block_size``, only the document's first block_size characters are encoded: a
    model of that context reads tokens[:block_size + 1] and no further, so the tokens it
    uses are the same, and a long document costs no more than a short one.
    """
    return [tokenizer.bos, *tokenizer.encode(doc[:block_size]), tokenizer.bos]


# A loss above this many times ln(vocab_size), the loss of guessing every token uniformly,
# has exploded: runs that learn stay far below it, and too large a rate passes it at once
# (the runs that chose it: docs/robustness-notes.md, "When a run has diverged").
DIVERGED_FACTOR = 100


def diverged(loss: float, vocab_size: int) -> bool:
    """Whether a step's ``loss`` shows a diverged run: not finite, or over 100 ln(vocab_size)."""
    return not math.isfinite(loss) or loss > DIVERGED_FACTOR * math.log(vocab_size)


class TrainingDiverged(Exception):
    """Training stopped at ``step`` (1-based), whose ``loss`` (None: not computable) diverged."""

    def __init__(self, step: int, loss: float | None, reason: str) -> None:
        super().__init__(f"training diverged at step {step} ({reason})")
        self.step, self.loss = step, loss


# The scalar engine's Python floats raise where NumPy returns inf or nan: math.log(0.0)
# (ValueError), math.exp(1000.0) and 1e200 ** 2 (OverflowError). A step that raises them
# has diverged as surely as one whose loss is inf.
_FLOAT_ERRORS: dict[ModuleType, tuple[type[Exception], ...]] = {
    gpt_scalar: (ArithmeticError, ValueError),
}


class Trainer:
    """A training run that can stop after any step and continue, from a checkpoint too.

    ``step`` is the number of steps done; ``losses`` holds every step's loss so far.
    A run resumed with the ``step``, ``losses`` and ``optimizer_state()`` of another
    continues exactly as that one would have (the weights are the caller's ``params``).
    """

    def __init__(self, engine: ModuleType, params: dict, config: GPTConfig,
                 docs: Sequence[str], tokenizer: Tokenizer, hp: Hyperparameters, *,
                 step: int = 0, losses: Sequence[float] = (),
                 optimizer_state: OptimizerState | None = None):
        if hp.batch_size > 1 and not hasattr(engine, "batch_loss"):
            raise ValueError(f"the {engine.__name__} engine trains one document per step")
        if not 0 <= step <= hp.steps or len(losses) != step:
            raise ValueError(f"cannot start at step {step} of {hp.steps} with {len(losses)} "
                             "losses")
        dtypes = {np.asarray(p.data).dtype.name for p in engine.parameters(params)}
        if dtypes != {hp.dtype}:  # a Value's float is float64
            raise ValueError(f"the weights are {', '.join(sorted(dtypes))}, but the run's dtype "
                             f"is {hp.dtype}: convert them with cast()")
        self.engine, self.params, self.config, self.hp = engine, params, config, hp
        self.tokenizer, self.docs = tokenizer, list(docs)
        self.step, self.losses = step, list(losses)
        self.backward_step = engine.training_step(params, config)
        self.optimizer = engine.Adam(engine.parameters(params), lr=hp.lr,
                                     betas=(hp.beta1, hp.beta2), eps=hp.eps)
        if optimizer_state is not None:
            self._load_optimizer_state(optimizer_state)

    def run(self, until: int | None = None) -> Iterator[float]:
        """Train up to step ``until`` (default: all ``hp.steps``), yielding each step's loss.

        Raises ``TrainingDiverged`` at the first step whose loss ``diverged``, before that
        step's update, or whose arithmetic fails on the scalar engine (in its update too):
        nothing of a diverged run is worth keeping.
        """
        while self.step < (self.hp.steps if until is None else until):
            yield self._step()

    def _step(self) -> float:
        """One step: the loss of the next batch (before the update), backward, Adam."""
        b, k = self.hp.batch_size, self.step
        batch = [document_tokens(self.tokenizer, self.docs[(k * b + i) % len(self.docs)],
                                 self.config.block_size) for i in range(b)]
        try:
            loss = self.backward_step(batch)  # forward and backward
            value = loss.item() if isinstance(loss, Tensor) else loss.data
            if diverged(value, self.config.vocab_size):
                raise TrainingDiverged(k + 1, value, f"loss {value:.4g}")
            self.optimizer.lr = learning_rate(k, self.hp.steps, self.hp.lr, self.hp.schedule,
                                              self.hp.warmup)
            self.optimizer.step()
        except _FLOAT_ERRORS.get(self.engine, ()) as exc:
            raise TrainingDiverged(k + 1, None, str(exc)) from exc
        self.optimizer.zero_grad()
        self.losses.append(value)
        self.step += 1
        return value

    def optimizer_state(self) -> OptimizerState:
        """Adam's step count and moments, the moments by parameter name like the weights.

        By name, not in the optimizer's flat order: that order is the engine's own (the
        tensor engine may stack matrices), and a checkpoint must not depend on it.
        """
        state = self.optimizer.state_dict()["state"]
        m, v = ([np.ravel(state[i][name]) for i in sorted(state)] for name in ("exp_avg",
                                                                              "exp_avg_sq"))
        return OptimizerState(m=self._by_name(np.concatenate(m)),
                              v=self._by_name(np.concatenate(v)),
                              step=int(state[0]["step"]))

    def _load_optimizer_state(self, state: OptimizerState) -> None:
        m, v = self._flat(state.m), self._flat(state.v)
        params = self.engine.parameters(self.params)
        sizes = np.cumsum([0, *(math.prod(np.shape(p.data)) for p in params)])
        self.optimizer.load_state_dict({"state": {
            i: {"step": state.step, "exp_avg": m[a:b].reshape(np.shape(p.data)),
                "exp_avg_sq": v[a:b].reshape(np.shape(p.data))}
            for i, (p, a, b) in enumerate(zip(params, sizes[:-1], sizes[1:]))}})

    def _by_name(self, flat: Sequence[float] | np.ndarray) -> dict[str, np.ndarray]:
        """Values in the engine's parameter order, as a state dict (weights' names, shapes)."""
        flat = np.asarray(flat, dtype=np.float64)
        # A scratch copy of the parameters carries the values through the engine's own
        # to_state_dict, which knows how its parameters map to the weights' names.
        scratch = self.engine.from_state_dict(self.engine.to_state_dict(self.params))
        offset = 0
        for p in self.engine.parameters(scratch):
            if isinstance(p, Tensor):
                p.data = flat[offset:offset + p.numel()].reshape(p.shape)
            else:  # a Value
                p.data = float(flat[offset])
            offset += math.prod(np.shape(p.data))
        return self.engine.to_state_dict(scratch)

    def _flat(self, named: Mapping[str, np.ndarray]) -> np.ndarray:
        """The inverse of ``_by_name``: a state dict's values in the engine's parameter order."""
        params = self.engine.parameters(self.engine.from_state_dict(dict(named)))
        return np.concatenate([np.ravel(p.data) for p in params]).astype(np.float64)


def train(engine: ModuleType, params: dict, config: GPTConfig, docs: Sequence[str],
          tokenizer: Tokenizer, hp: Hyperparameters) -> Iterator[float]:
    """Train for ``hp.steps`` steps from scratch; yields each step's loss (before the update)."""
    return Trainer(engine, params, config, docs, tokenizer, hp).run()


def sample(engine: ModuleType, params: dict, config: GPTConfig, tokenizer: Tokenizer,
           rng: random.Random, temperature: float = 0.5, count: int = 20) -> Iterator[str]:
    """``count`` new documents, drawn from ``rng`` (microgpt.py continues the training stream).

    Each is drawn when asked for, so a caller can show them as they come.
    """
    for _ in range(count):
        yield tokenizer.decode(engine.generate(params, config, tokenizer.bos, rng, temperature))
