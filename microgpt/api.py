"""microgpt from Python: load a dataset, train, sample, save, load and resume.

This is what the ``microgpt`` command line runs; each of its ``train`` options is a field of
``TrainSettings``, with the same default::

    >>> import microgpt
    >>> names = microgpt.load_dataset()  # the shipped names; or a path, or an http(s) URL
    >>> run = microgpt.Run(names, microgpt.TrainSettings(steps=20))
    >>> last = list(run)[-1]  # one StepRecord per step
    >>> last.step, round(last.lr, 4)
    (20, 0.0005)

A ``Run`` trains when it is iterated (``run.train(until=k)`` stops after step k), saves with
``run.save(path)``, and samples as microgpt.py does, continuing the stream that shuffled and
initialised. ``load(path)`` gives a ``Model`` to sample from, and ``resume(path, dataset)``
a run that continues the saved one.

Every mistake a caller can make raises an exception with a one-line message:
``SettingsError`` (settings that contradict each other, the data or a resumed run),
``DataError`` (a dataset that cannot be read), ``CheckpointError``, ``SamplingError``,
and ``TrainingDiverged`` (a step whose loss shows the run has diverged).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from types import ModuleType
from typing import NamedTuple

import numpy as np

from . import gpt_tensor
from .data import Tokenizer, docs_from_text
from .model import GPTConfig
from .schedule import SCHEDULES
from .storage import checkpoint as checkpoints
from .storage import limits, options
from .storage.atomic import keeping
from .storage.checkpoint import Checkpoint, CheckpointError
from .storage.datasets import DataError, find_dataset, is_url, load_docs
from .storage.download import TIME_LIMIT
from .storage.limits import check_size
from .storage.naming import name as _name
from .storage.naming import setting as _set
from .storage.resume import TrainingState, dataset_digest
from .train import (
    DTYPES,
    ENGINES,
    Hyperparameters,
    Setup,
    Trainer,
    TrainingDiverged,
    cast,
    document_tokens,
    initialise,
)
from .validation import num_validation_docs, split, validation_loss

__all__ = [
    "CheckpointError", "DataError", "Dataset", "Model", "Plan", "Run", "SamplingError",
    "SettingsError", "StepRecord", "TrainSettings", "TrainingDiverged", "check_scalar_size", "load",
    "load_dataset", "load_resumable", "plan", "resume", "resume_settings",
]

MODEL_FIELDS = ("n_embd", "n_head", "n_layer", "block_size")  # GPTConfig's, but vocab_size
# What a resumed run keeps from its checkpoint (the engine and eval_every are the caller's).
RESUMED_FIELDS = ("seed", "lr", "schedule", "warmup", "batch_size", "val_fraction", "dtype",
                  *MODEL_FIELDS)


class SettingsError(ValueError):
    """Settings that cannot make a run: out of range, or contradicting each other, the
    dataset or a resumed run. The message is one line."""


class SamplingError(ValueError):
    """Sampling failed: the temperature made the probabilities overflow. One line."""


# ---- datasets -------------------------------------------------------------------------------


# speed: a plain class and named tuples (Resumable, Plan, StepRecord), not dataclasses, whose
# creation lengthens every start-up (benchmarks/SPEED.md, "The scripting API").
class Dataset:
    """Documents to train on, one per line of ``path`` (None: given as a list)."""

    __slots__ = ("docs", "path")

    def __init__(self, docs: Sequence[str], path: Path | None = None) -> None:
        self.docs, self.path = list(docs), path

    def __len__(self) -> int:
        return len(self.docs)

    def __repr__(self) -> str:
        where = "" if self.path is None else f" from {self.path}"
        return f"Dataset({len(self.docs)} documents{where})"


def load_dataset(source: str | Path | None = None, sha256: str | None = None, *,
                 redownload: bool = False, download_timeout: float | None = None) -> Dataset:
    """The dataset at ``source``: the shipped names (None), a text file, or an http(s) URL
    (downloaded once into a cache; again with ``redownload``; given up after
    ``download_timeout`` seconds, 300 by default). ``sha256``: refuse a file of another digest.

    >>> len(load_dataset())
    32033
    """
    text = None if source is None else str(source)
    if (redownload or download_timeout is not None) and (text is None or not is_url(text)):
        what = "the shipped names" if text is None else f"the local file {text}"
        raise SettingsError(f"{_name('redownload' if redownload else 'download_timeout')} "
                            f"applies to an http(s) URL only, not to {what}")
    timeout = TIME_LIMIT
    if download_timeout is not None:
        try:
            timeout = options.download_seconds.check(download_timeout, _name("download_timeout"))
        except ValueError as exc:
            raise SettingsError(str(exc)) from None
    path = find_dataset(text, sha256, redownload=redownload, download_timeout=timeout)
    return Dataset(load_docs(path, sha256), path)


def _as_dataset(data: Dataset | Sequence[str]) -> Dataset:
    if isinstance(data, Dataset):
        return data
    given = [] if isinstance(data, str) else list(data)
    if not given or not all(isinstance(doc, str) for doc in given):
        raise SettingsError("a dataset is a Dataset (load_dataset) or a non-empty list of "
                            "strings, one per document")
    docs = docs_from_text("\n".join(given))
    if not docs:
        raise SettingsError("the documents are all blank")
    return Dataset(docs)


# ---- settings -------------------------------------------------------------------------------


def _check_choice(value: object, field: str, choices: Sequence[str]) -> None:
    if value not in choices:
        raise SettingsError(f"{_name(field)} must be one of {', '.join(choices)}, not {value!r}")


_KINDS: dict[str, options.Number] = {
    "steps": options.steps, "lr": options.positive_float, "seed": options.seed,
    "warmup": options.non_negative_int, "batch_size": options.positive_int,
    "val_fraction": options.fraction, "n_embd": options.positive_int,
    "n_head": options.positive_int, "n_layer": options.n_layer,
    "block_size": options.positive_int,
}


@dataclass(frozen=True)
class TrainSettings:
    """A training run's settings; the defaults are microgpt.py's (and ``microgpt train``'s).

    ``engine``: ``"tensor"`` (whole arrays) or ``"scalar"`` (one ``Value`` per number).
    ``schedule``: ``"linear"`` (microgpt.py's decay to 0), ``"cosine"`` or ``"constant"``,
    after ``warmup`` steps rising from 0. ``batch_size`` documents per step (tensor engine).
    ``val_fraction`` holds out the last ``ceil(val_fraction * num_docs)`` shuffled documents,
    evaluated every ``eval_every`` steps (None: only when asked, ``Run.validation_loss``).
    ``dtype``: ``"float64"`` or ``"float32"`` (tensor engine). The model: ``n_embd``,
    ``n_head``, ``n_layer``, ``block_size``. Raises ``SettingsError`` for settings no run
    can have.

    >>> TrainSettings(steps=0)
    Traceback (most recent call last):
    ...
    microgpt.api.SettingsError: steps must be an integer in 1..10,000,000, not 0
    """

    engine: str = "tensor"
    steps: int = Hyperparameters.steps
    lr: float = Hyperparameters.lr
    seed: int = 42
    schedule: str = Hyperparameters.schedule
    warmup: int = Hyperparameters.warmup
    batch_size: int = Hyperparameters.batch_size
    val_fraction: float = 0.0
    eval_every: int | None = None
    dtype: str = Hyperparameters.dtype
    n_embd: int = GPTConfig.n_embd
    n_head: int = GPTConfig.n_head
    n_layer: int = GPTConfig.n_layer
    block_size: int = GPTConfig.block_size

    def __post_init__(self) -> None:
        _check_choice(self.engine, "engine", sorted(ENGINES))
        _check_choice(self.schedule, "schedule", SCHEDULES)
        _check_choice(self.dtype, "dtype", DTYPES)
        for field, kind in _KINDS.items():
            try:
                kind.check(getattr(self, field), _name(field))
            except ValueError as exc:
                raise SettingsError(str(exc)) from None
        if self.eval_every is not None:
            try:
                options.positive_int.check(self.eval_every, _name("eval_every"))
            except ValueError as exc:
                raise SettingsError(str(exc)) from None
        if self.batch_size > 1 and self.engine != "tensor":
            raise SettingsError(f"{_name('batch_size')} > 1 needs {_set('engine', 'tensor')} "
                                "(the scalar engine trains one document per step)")
        if self.dtype != "float64" and self.engine != "tensor":
            raise SettingsError(f"{_set('dtype', self.dtype)} needs {_set('engine', 'tensor')} "
                                "(the scalar engine computes with Python floats, which are "
                                "float64)")
        if self.warmup >= self.steps:
            raise SettingsError(f"{_set('warmup', self.warmup)} leaves no step of the schedule: "
                                f"it must be less than {_set('steps', self.steps)}")
        if self.eval_every is not None and self.val_fraction == 0:
            raise SettingsError(f"{_name('eval_every')} needs a validation split: give "
                                f"{_name('val_fraction')}")
        # Checked with the smallest vocabulary a dataset has (one character and BOS): a
        # larger one only makes the model larger.
        self.model_config(2)

    def model_config(self, vocab_size: int) -> GPTConfig:
        """The config of this model for a vocabulary; ``SettingsError`` beyond the bounds."""
        try:
            config = GPTConfig(vocab_size=vocab_size,
                               **{field: getattr(self, field) for field in MODEL_FIELDS})
            check_size(config, self.batch_size)
        except ValueError as exc:
            raise SettingsError(str(exc)) from None
        return config

    def hyperparameters(self) -> Hyperparameters:
        """The optimizer's and the schedule's settings (Adam's betas and eps: microgpt.py's)."""
        return Hyperparameters(steps=self.steps, lr=self.lr, schedule=self.schedule,
                               warmup=self.warmup, batch_size=self.batch_size, dtype=self.dtype)


# ---- resuming -------------------------------------------------------------------------------


class Resumable(NamedTuple):
    """A checkpoint with a training state, and where it was read from (for messages)."""

    checkpoint: Checkpoint
    training: TrainingState
    path: Path


def load_resumable(path: str | Path) -> Resumable:
    """The run saved at ``path``; ``CheckpointError`` if it holds no training state."""
    saved = checkpoints.load(path)
    if saved.training is None:
        raise CheckpointError(f"{path} cannot be resumed: it holds no training state, so it "
                              "can only be sampled from")
    return Resumable(saved, saved.training, Path(path))


def resume_settings(saved: Resumable, *, steps: int | None = None, engine: str = "tensor",
                    eval_every: int | None = None, **given: object) -> TrainSettings:
    """The settings that continue ``saved``: its own, to ``steps`` in all (default: its total).

    ``given`` settings (``lr``, ``n_embd``, ...) must agree with the saved ones: a resumed run
    keeps its settings, and a contradiction raises ``SettingsError`` rather than being ignored.
    """
    state = saved.training
    kept = {"seed": state.seed, "lr": state.hp.lr, "schedule": state.hp.schedule,
            "warmup": state.hp.warmup, "batch_size": state.hp.batch_size,
            "val_fraction": state.val_fraction, "dtype": state.hp.dtype,
            **{field: getattr(saved.checkpoint.config, field) for field in MODEL_FIELDS}}
    unknown = sorted(set(given) - set(kept))
    if unknown:
        raise SettingsError(f"no setting named {unknown[0]!r} (a resumed run takes "
                            f"{', '.join(kept)})")
    for field in sorted(given):
        if given[field] != kept[field]:
            raise SettingsError(f"{_set(field, given[field])} contradicts the {kept[field]} of "
                                f"the checkpoint {saved.path}; a resumed run keeps its settings")
    total = state.hp.steps if steps is None else steps
    if total <= state.step:
        raise SettingsError(f"the checkpoint {saved.path} is at step {state.step} / "
                            f"{state.hp.steps}; give {_set('steps', 'N')}, the run's new total, "
                            f"with N > {state.step}")
    return TrainSettings(
        engine=engine, steps=total, lr=state.hp.lr, seed=state.seed,
        schedule=state.hp.schedule, warmup=state.hp.warmup, batch_size=state.hp.batch_size,
        val_fraction=state.val_fraction, eval_every=eval_every, dtype=state.hp.dtype,
        **{field: getattr(saved.checkpoint.config, field) for field in MODEL_FIELDS})


# ---- planning and running -------------------------------------------------------------------


class Plan(NamedTuple):
    """A run checked against its data, before its weights are drawn (the slow part of a large
    model's set-up): ``config`` and ``tokenizer`` are known; ``start()`` makes the ``Run``."""

    dataset: Dataset
    settings: TrainSettings
    tokenizer: Tokenizer
    config: GPTConfig
    resumed: Resumable | None

    def start(self) -> Run:
        """Draw the weights (or take the resumed ones) and make the run."""
        return Run._from_plan(self)


def plan(data: Dataset | Sequence[str], settings: TrainSettings | None = None,
         resumed: Resumable | None = None) -> Plan:
    """Check ``settings`` against ``data`` (and a ``resumed`` run against both, its settings
    those of ``resume_settings``); ``SettingsError`` if no run can be made of them,
    ``DataError`` if ``resumed`` trained on other data."""
    dataset = _as_dataset(data)
    settings = TrainSettings() if settings is None else settings
    if not isinstance(settings, TrainSettings):
        raise SettingsError(f"settings must be a TrainSettings, not {type(settings).__name__}")
    docs = dataset.docs
    if resumed is not None:
        digest = dataset_digest(docs)
        if settings != resume_settings(resumed, steps=settings.steps, engine=settings.engine,
                                       eval_every=settings.eval_every):
            raise SettingsError("a resumed run's settings are its checkpoint's: make them with "
                                "resume_settings")
        state = resumed.training
        if (state.num_docs, state.data_sha256) != (len(docs), digest):
            raise DataError(
                f"{resumed.path} was trained on another dataset ({state.num_docs} documents, "
                f"sha256 {state.data_sha256[:12]}...), not this one ({len(docs)} documents, "
                f"sha256 {digest[:12]}...); resume with the same {_name('data')}")
    held_out = num_validation_docs(settings.val_fraction, len(docs))
    if held_out >= len(docs):
        raise SettingsError(f"{_set('val_fraction', settings.val_fraction)} holds out all "
                            f"{len(docs)} documents; leave at least one to train on")
    if settings.batch_size > len(docs) - held_out:
        raise SettingsError(f"{_set('batch_size', settings.batch_size)} is more than the "
                            f"{len(docs) - held_out} documents there are to train on")
    tokenizer = Tokenizer.from_docs(docs)
    config = settings.model_config(tokenizer.vocab_size)
    if settings.engine == "scalar":
        check_scalar_size(config, docs, f" (or {_set('engine', 'tensor')})")
    return Plan(dataset, settings, tokenizer, config, resumed)


def check_scalar_size(config: GPTConfig, docs: Sequence[str], hint: str = "") -> None:
    """Raise ``SettingsError`` (its message ending with ``hint``) if a step of the scalar
    engine on the longest of ``docs`` would hold more than ``limits.MAX_SCALAR_NODES`` Values."""
    # A document of k characters is k + 1 positions (document_tokens), at most block_size.
    positions = min(config.block_size, max(map(len, docs)) + 1)
    try:
        limits.check_scalar_size(config, positions)
    except ValueError as exc:
        raise SettingsError(f"{exc}{hint}") from None


class StepRecord(NamedTuple):
    """One training step: ``step`` (1-based) and its ``loss`` (before the update), the
    learning rate ``lr`` it used, ``val_loss`` after it (None unless evaluated at this step),
    and ``elapsed``: seconds of training so far in this process (evaluation not counted)."""

    step: int
    loss: float
    lr: float
    val_loss: float | None
    elapsed: float


class Run:
    """A training run: iterate it to train (one ``StepRecord`` per step), then save, sample.

    ``Run(data, settings)`` starts a new run (``data``: a ``Dataset`` or a list of documents);
    ``resume(path, data)`` continues a saved one. ``step`` steps of ``settings.steps`` are
    done; ``losses`` holds each one's loss and ``val_history`` the (step, validation loss)
    pairs evaluated. ``train_seconds`` and ``eval_seconds`` time the training steps and the
    evaluations apart.
    """

    settings: TrainSettings
    config: GPTConfig
    tokenizer: Tokenizer
    dataset: Dataset
    train_docs: list[str]
    val_docs: list[str]
    resumed: Resumable | None
    val_history: list[tuple[int, float]]
    train_seconds: float
    eval_seconds: float
    evaluations: int

    def __init__(self, data: Dataset | Sequence[str], settings: TrainSettings | None = None
                 ) -> None:
        self._begin(plan(data, settings))

    @classmethod
    def _from_plan(cls, planned: Plan) -> Run:
        run = cls.__new__(cls)
        run._begin(planned)
        return run

    def _begin(self, planned: Plan) -> None:
        settings, config = planned.settings, planned.config
        self.settings, self.config, self.tokenizer = settings, config, planned.tokenizer
        self.dataset, self.resumed = planned.dataset, planned.resumed
        # What a checkpoint records of the data: its documents in file order, as they are now,
        # and their digest, computed when a checkpoint is first made (a resumed run's is
        # known). Speed: hashing imports OpenSSL (benchmarks/SPEED.md, "Round five").
        self._file_docs = tuple(planned.dataset.docs)
        self._digest = None if planned.resumed is None else planned.resumed.training.data_sha256
        self._setup: Setup = initialise(planned.dataset.docs, planned.tokenizer, config,
                                        settings.seed)
        self.train_docs, self.val_docs = split(self._setup.docs, settings.val_fraction)
        self._val_tokens = [document_tokens(planned.tokenizer, doc, config.block_size)
                            for doc in self.val_docs]
        self.engine: ModuleType = ENGINES[settings.engine]
        engine, hp = self.engine, settings.hyperparameters()
        if planned.resumed is None:
            weights = self._setup.state
            self.val_history = []
            self._trainer = Trainer(engine, engine.from_state_dict(cast(weights, hp.dtype)),
                                    config, self.train_docs, planned.tokenizer, hp)
        else:
            state = planned.resumed.training
            hp = replace(state.hp, steps=settings.steps)  # Adam's betas and eps, as saved
            self._setup.rng.setstate(state.rng_state)  # the samples continue the saved stream
            self.val_history = list(state.val_history)
            params = engine.from_state_dict(cast(planned.resumed.checkpoint.state, hp.dtype))
            self._trainer = Trainer(engine, params, config, self.train_docs, planned.tokenizer,
                                    hp, step=state.step, losses=state.losses,
                                    optimizer_state=state.optimizer)
        self.train_seconds = self.eval_seconds = 0.0
        self.evaluations = 0

    @property
    def step(self) -> int:
        """Steps done (a resumed run counts the saved ones)."""
        return self._trainer.step

    @property
    def losses(self) -> list[float]:
        return self._trainer.losses

    def __iter__(self) -> Iterator[StepRecord]:
        return self.train()

    def train(self, until: int | None = None) -> Iterator[StepRecord]:
        """Train up to step ``until`` (default: all of ``settings.steps``), one record a step.

        Evaluates after every ``eval_every``-th step. Raises ``TrainingDiverged`` at a step
        whose loss shows the run diverged, before that step's update.
        """
        trainer, eval_every = self._trainer, self.settings.eval_every
        stop = self.settings.steps if until is None else until
        if not 0 <= stop <= self.settings.steps:
            raise SettingsError(f"until must be in 0..{self.settings.steps}, not {until}")
        clock = time.perf_counter
        started = clock()
        for loss in trainer.run(until=stop):
            self.train_seconds += clock() - started  # the step alone, not what runs between
            val_loss = None
            if eval_every is not None and trainer.step % eval_every == 0:
                val_loss = self._evaluate()
            yield StepRecord(trainer.step, loss, trainer.optimizer.lr, val_loss,
                             self.train_seconds)
            started = clock()

    def validation_loss(self) -> float:
        """The loss per token on the held-out documents now (evaluated once per step)."""
        if not self._val_tokens:
            raise SettingsError(f"there is no validation split: give {_name('val_fraction')}")
        if self.val_history and self.val_history[-1][0] == self.step:
            return self.val_history[-1][1]
        return self._evaluate()

    def _evaluate(self) -> float:
        started = time.perf_counter()
        params = self._trainer.params
        if self.engine is not gpt_tensor:  # the same numbers, computed in whole arrays
            params = gpt_tensor.from_state_dict(self.engine.to_state_dict(params))
        loss = validation_loss(params, self.config, self._val_tokens)
        self.val_history.append((self.step, loss))
        self.evaluations += 1
        self.eval_seconds += time.perf_counter() - started
        return loss

    def state_dict(self) -> dict[str, np.ndarray]:
        """The weights now, by name (``model.parameter_shapes``), as NumPy arrays."""
        return self.engine.to_state_dict(self._trainer.params)

    def checkpoint(self) -> Checkpoint:
        """The run as it is now, with everything resuming it needs."""
        trainer = self._trainer
        if self._digest is None:
            self._digest = dataset_digest(self._file_docs)
        state = TrainingState(
            hp=trainer.hp, step=trainer.step, seed=self.settings.seed,
            val_fraction=self.settings.val_fraction, optimizer=trainer.optimizer_state(),
            rng_state=self._setup.rng.getstate(), data_sha256=self._digest,
            num_docs=len(self._file_docs), losses=list(trainer.losses),
            val_history=list(self.val_history))
        return Checkpoint(self.state_dict(), self.config, self.tokenizer, state)

    def save(self, path: str | Path) -> Path:
        """Write a checkpoint (safetensors) atomically; ``load`` samples from it, ``resume``
        continues it. ``CheckpointError`` if it cannot be written, or if ``path`` leads to
        the run's dataset file."""
        with keeping(("the dataset", self.dataset.path)):
            return checkpoints.save(path, self.checkpoint())

    def model(self) -> Model:
        """The model as trained so far, to sample from."""
        return Model(self.checkpoint())

    def samples(self, count: int = 20, temperature: float = 0.5) -> Iterator[str]:
        """``count`` names, each drawn when asked for, continuing the run's random stream
        (after the shuffle and the weights, as microgpt.py does) on the run's own engine."""
        _check_sampling(count, temperature)
        engine, params, config = self.engine, self._trainer.params, self.config
        return _draw(count, self.tokenizer, lambda: engine.generate(
            params, config, self.tokenizer.bos, self._setup.rng, temperature))

    def sample(self, count: int = 20, temperature: float = 0.5) -> list[str]:
        """``count`` names, as ``samples`` draws them."""
        return list(self.samples(count, temperature))


def resume(path: str | Path, data: Dataset | Sequence[str], *, steps: int | None = None,
           engine: str = "tensor", eval_every: int | None = None, **given: object) -> Run:
    """Continue the run saved at ``path`` on the same ``data``, to ``steps`` in all (default:
    its total). ``given`` settings must agree with the saved ones (``resume_settings``)."""
    saved = load_resumable(path)
    settings = resume_settings(saved, steps=steps, engine=engine, eval_every=eval_every,
                               **given)
    return plan(data, settings, saved).start()


# ---- sampling -------------------------------------------------------------------------------


def _check_sampling(count: int, temperature: float) -> None:
    try:
        options.non_negative_int.check(count, "count")
        options.positive_float.check(temperature, _name("temperature"))
    except ValueError as exc:
        raise SettingsError(str(exc)) from None


def _draw(count: int, tokenizer: Tokenizer, generate: Callable[[], list[int]]
          ) -> Iterator[str]:
    for _ in range(count):
        try:
            with np.errstate(over="ignore", invalid="ignore"):  # told apart below, in one line
                ids = generate()
        except ValueError as exc:  # random.choices: the logits / temperature overflowed
            raise SamplingError(f"sampling failed ({exc}); try a larger "
                                f"{_name('temperature')}") from None
        yield tokenizer.decode(ids)


class Model:
    """A trained model to sample from: ``load(path)``, or ``Run.model()``.

    Computes on the tensor engine, in the precision it was trained in.
    """

    def __init__(self, saved: Checkpoint) -> None:
        self.checkpoint = saved
        self.config, self.tokenizer, self.dtype = saved.config, saved.tokenizer, saved.dtype
        self.params = gpt_tensor.from_state_dict(cast(saved.state, saved.dtype))

    def samples(self, count: int = 20, temperature: float = 0.5, *, prefix: str = "",
                top_k: int | None = None, seed: int = 42) -> Iterator[str]:
        """``count`` names drawn from ``random.Random(seed)``, each when asked for.

        Each starts with ``prefix`` (continued by the model); ``top_k`` draws each character
        among the k likeliest only. Checked at once: ``SettingsError``.
        """
        _check_sampling(count, temperature)
        try:
            options.seed.check(seed, _name("seed"))
            if top_k is not None:
                options.positive_int.check(top_k, _name("top_k"))
        except ValueError as exc:
            raise SettingsError(str(exc)) from None
        try:
            ids = self.tokenizer.encode(prefix)
        except ValueError as exc:  # names the characters
            raise SettingsError(f"{_set('prefix', repr(prefix))} has {exc}") from None
        block_size = self.config.block_size
        if len(ids) > block_size - 1:
            raise SettingsError(f"{_set('prefix', repr(prefix))} is {len(ids)} characters; this "
                                f"model's names are at most {block_size} long, so at most "
                                f"{block_size - 1} leave room to continue it")
        rng = random.Random(seed)
        return _draw(count, self.tokenizer, lambda: gpt_tensor.generate(
            self.params, self.config, self.tokenizer.bos, rng, temperature, prefix=ids,
            top_k=top_k))

    def sample(self, count: int = 20, temperature: float = 0.5, *, prefix: str = "",
               top_k: int | None = None, seed: int = 42) -> list[str]:
        """``count`` names, as ``samples`` draws them."""
        return list(self.samples(count, temperature, prefix=prefix, top_k=top_k, seed=seed))


def load(path: str | Path) -> Model:
    """The model saved at ``path`` (``Run.save``, ``microgpt train --save``), to sample from.

    Raises ``CheckpointError`` naming what is wrong with the file.
    """
    return Model(checkpoints.load(path))

