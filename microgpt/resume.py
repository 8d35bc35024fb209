"""What a checkpoint holds beyond the weights so that training can resume exactly.

``to_extra`` turns a ``TrainingState`` into plain arrays for ``checkpoint.save(...,
extra=...)``; ``from_extra`` reads them back from ``Checkpoint.extra``. The keys:

* ``train.step``, ``train.steps``: steps done, and the run's total (its schedule's length);
* ``train.lr``, ``train.beta1``, ``train.beta2``, ``train.eps``, ``train.schedule``,
  ``train.warmup``, ``train.batch_size``, ``train.dtype``: the rest of ``Hyperparameters``
  (``train.dtype`` may be absent, in files from before it: then it is float64). The
  weights and moments are stored in float64 whatever the dtype: float32 values convert
  to float64 and back exactly, so a float32 run resumes exactly too;
* ``train.seed``, ``train.val_fraction``: what the shuffle and the split were made with;
* ``optim.m.<name>``, ``optim.v.<name>`` (float64, shaped like ``param.<name>``),
  ``optim.step``: Adam's moments for every weight matrix, and its step count;
* ``rng.version``, ``rng.state`` (625 integers), ``rng.gauss_next`` (NaN for None): the
  ``random.Random.getstate()`` of the stream that samples after training;
* ``data.sha256``, ``data.num_docs``: the dataset (its documents in file order), which a
  resumed run must train on again;
* ``history.loss`` (one per step done), ``history.val_step``, ``history.val_loss``: the
  losses so far, so that a resumed run's loss curve starts at step 1.

No pickles: the ``random`` state is stored as integers plus one float.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields

import numpy as np

from .checkpoint import CheckpointError
from .model import GPTConfig, parameter_shapes
from .schedule import SCHEDULES
from .train import DTYPES, Hyperparameters, OptimizerState

RngState = tuple  # random.Random.getstate(): (version, tuple of 625 ints, gauss_next)

_MT_WORDS = 625  # the Mersenne Twister's 624 words and its position


@dataclass
class TrainingState:
    """Everything besides the weights that decides how a run continues."""

    hp: Hyperparameters
    step: int
    seed: int
    val_fraction: float
    optimizer: OptimizerState
    rng_state: RngState
    data_sha256: str
    num_docs: int
    losses: list[float]
    val_history: list[tuple[int, float]]  # (step, validation loss after it)


def dataset_digest(docs: Sequence[str]) -> str:
    """sha256 of the documents in file order: a resumed run must see the same list."""
    digest = hashlib.sha256()
    for doc in docs:  # documents are lines, so a newline cannot occur inside one
        digest.update(doc.encode("utf-8") + b"\n")
    return digest.hexdigest()


def trained_dtype(extra: Mapping[str, np.ndarray], context: str) -> str:
    """The dtype a checkpoint's model was trained in: ``train.dtype``, or float64 without it.

    Errors read ``f"{context}: <problem>"``.
    """
    dtype = extra.get("train.dtype")
    if dtype is None:  # a file from before --dtype
        return "float64"
    if dtype.shape != () or dtype.dtype.kind != "U" or str(dtype) not in DTYPES:
        raise CheckpointError(f"{context}: 'train.dtype' is not one of {', '.join(DTYPES)}")
    return str(dtype)


def to_extra(state: TrainingState) -> dict[str, np.ndarray]:
    """``state`` as the plain arrays of the keys listed in the module docstring."""
    version, words, gauss_next = state.rng_state
    arrays = {f"train.{f.name}": np.array(getattr(state.hp, f.name)) for f in fields(state.hp)}
    arrays |= {
        "train.step": np.array(state.step),
        "train.seed": np.array(state.seed),
        "train.val_fraction": np.array(float(state.val_fraction)),
        "optim.step": np.array(state.optimizer.step),
        "rng.version": np.array(version),
        "rng.state": np.array(words, dtype=np.int64),
        "rng.gauss_next": np.array(math.nan if gauss_next is None else gauss_next),
        "data.sha256": np.array(state.data_sha256),
        "data.num_docs": np.array(state.num_docs),
        "history.loss": np.array(state.losses, dtype=np.float64),
        "history.val_step": np.array([s for s, _ in state.val_history], dtype=np.int64),
        "history.val_loss": np.array([v for _, v in state.val_history], dtype=np.float64),
    }
    for moment in ("m", "v"):
        arrays |= {f"optim.{moment}.{name}": np.asarray(w, dtype=np.float64)
                   for name, w in getattr(state.optimizer, moment).items()}
    return arrays


def from_extra(extra: Mapping[str, np.ndarray], config: GPTConfig, context: str
               ) -> TrainingState:
    """The ``TrainingState`` in a checkpoint's extra keys; ``CheckpointError`` if incomplete.

    ``config`` is the checkpoint's model (Adam's moments have its weights' shapes);
    errors read ``f"{context}: <problem>"``.
    """

    def fail(problem: str) -> CheckpointError:
        return CheckpointError(f"{context}: {problem}")

    if "train.step" not in extra:
        raise fail("it holds no training state (saved by an older microgpt?), so it can "
                   "only be sampled from")

    def get(key: str, kind: str, shape: tuple[int | None, ...] = ()) -> np.ndarray:
        """The array at ``key``, of a dtype kind in ``kind`` and ``shape`` (None: any length)."""
        if key not in extra:
            raise fail(f"missing key '{key}'")
        value = extra[key]
        if (value.dtype.kind not in kind or value.ndim != len(shape)
                or any(want not in (None, got) for want, got in zip(shape, value.shape))):
            raise fail(f"key '{key}' has the wrong type ({value.dtype}, shape {value.shape})")
        return value

    def number(key: str) -> float:
        value = float(get(key, "f"))
        if not math.isfinite(value):
            raise fail(f"key '{key}' is not finite")
        return value

    try:
        hp = Hyperparameters(
            steps=int(get("train.steps", "iu")), lr=number("train.lr"),
            beta1=number("train.beta1"), beta2=number("train.beta2"), eps=number("train.eps"),
            schedule=str(get("train.schedule", "U")), warmup=int(get("train.warmup", "iu")),
            batch_size=int(get("train.batch_size", "iu")),
            dtype=trained_dtype(extra, context),
        )
    except ValueError as exc:
        raise fail(str(exc)) from exc
    step = int(get("train.step", "iu"))
    if hp.schedule not in SCHEDULES or not 0 <= hp.warmup < hp.steps or hp.batch_size < 1:
        raise fail("its training settings are out of range")
    if not 0 <= step <= hp.steps:
        raise fail(f"step {step} is outside 0..{hp.steps}")
    shapes = parameter_shapes(config)
    optimizer = OptimizerState(
        m={name: get(f"optim.m.{name}", "f", shape) for name, shape in shapes.items()},
        v={name: get(f"optim.v.{name}", "f", shape) for name, shape in shapes.items()},
        step=int(get("optim.step", "iu")))
    losses = get("history.loss", "f", (step,))
    val_steps = get("history.val_step", "iu", (None,))
    val_losses = get("history.val_loss", "f", (None,))
    if val_steps.shape != val_losses.shape:
        raise fail("'history.val_step' and 'history.val_loss' differ in length")
    val_fraction = float(get("train.val_fraction", "f"))
    if not 0 <= val_fraction < 1:
        raise fail(f"validation fraction {val_fraction} is outside [0, 1)")
    gauss_next = float(get("rng.gauss_next", "f"))
    rng_state = (int(get("rng.version", "iu")),
                 tuple(int(w) for w in get("rng.state", "iu", (_MT_WORDS,))),
                 None if math.isnan(gauss_next) else gauss_next)
    try:
        random.Random().setstate(rng_state)
    except (ValueError, TypeError, OverflowError) as exc:
        raise fail(f"'rng.state' is not a random state ({exc})") from exc
    return TrainingState(
        hp=hp, step=step, seed=int(get("train.seed", "iu")),
        val_fraction=val_fraction, optimizer=optimizer,
        rng_state=rng_state, data_sha256=str(get("data.sha256", "U")),
        num_docs=int(get("data.num_docs", "iu")), losses=losses.tolist(),
        val_history=list(zip(val_steps.tolist(), val_losses.tolist())),
    )
