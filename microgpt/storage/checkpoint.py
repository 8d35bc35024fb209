"""Checkpoints: a trained model, and what resuming its training needs, in a safetensors file.

A safetensors file is a JSON header, which gives every tensor's dtype, shape and byte
range and a map of metadata strings, followed by the tensors' bytes: nothing in it is
code and nothing is unpickled. PyTorch users read the weights in one call,
``safetensors.torch.load_file(path)``, under the names below.

Tensors (float64 unless said otherwise):

* the weights, under their names in ``model.parameter_shapes(config)``: ``wte``, ``wpe``,
  ``lm_head``, ``layer0.attn_wq``, ... (float64 whatever the run's dtype: float32 values
  convert to float64 and back exactly);

and with a training state (every checkpoint ``microgpt train --save`` writes):

* ``optim.m.<name>``, ``optim.v.<name>``: Adam's moments, shaped like the weights (Adam's
  step count is the training step);
* ``rng.state`` (uint32, 625 values: the Mersenne Twister's words and position) and
  ``rng.gauss_next`` (0 values, or 1: the normal deviate it holds back): the
  ``random.Random.getstate()`` of the stream that samples after training;
* ``history.loss`` (one per step done), ``history.val_step`` (int64) and
  ``history.val_loss``: the losses so far.

Metadata (JSON where said):

* ``format``: ``microgpt-checkpoint``; ``version``: ``2`` (version 1 was a NumPy ``.npz``
  archive, which ``load`` refuses: ``npz.py`` converts one);
* ``config`` (JSON object): the ``GPTConfig``; ``vocab`` (JSON string): the tokenizer's
  characters, in id order;
* ``training`` (JSON object, optional): ``steps``, ``step``, ``lr``, ``beta1``,
  ``beta2``, ``eps``, ``schedule``, ``warmup``, ``batch_size``, ``dtype`` (the run's
  ``Hyperparameters`` and its step), ``seed``, ``val_fraction``, ``data_sha256`` and
  ``num_docs`` (the dataset's documents in file order), ``rng_version``.

``load`` checks, in this order, so that a crafted file cannot make microgpt allocate or
compute more than a run the command line accepts: the path is a regular file and its
header at most ``MAX_HEADER_BYTES``; every metadata field has its type and lies within the
command line's bounds (``options``, ``limits``), which bound the model and the step;
the header lists exactly the tensors that the metadata calls for, with their dtypes and
shapes, in byte ranges that tile the rest of the file. Only then are the tensors read,
and their values checked (finite; Adam's second moments not negative; a valid random
state). ``save`` runs the same checks on what it is about to write.
"""

from __future__ import annotations

import io
import math
import random
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import BinaryIO

import numpy as np

from ..data import Tokenizer
from ..model import GPTConfig, parameter_shapes
from ..schedule import SCHEDULES
from ..train import DTYPES, Hyperparameters, OptimizerState
from ..validation import num_validation_docs
from . import options
from .atomic import atomic_write, write_target
from .files import FileProblem, open_regular, problem
from .limits import MAX_DOCUMENTS, check_size
from .resume import TrainingState

FORMAT = "microgpt-checkpoint"
VERSION = 2
# A header holds the vocabulary (all of Unicode is 4.4 MB of JSON) and a few thousand
# tensor entries (MAX_N_LAYER bounds them): 16 MiB is far more than any checkpoint needs.
MAX_HEADER_BYTES = 16 * 2**20
_NPZ_MAGIC = b"PK\x03\x04"  # a zip archive: version 1's .npz

_ITEMSIZE = {"F64": 8, "I64": 8, "U32": 4}
_RNG_WORDS = 625  # the Mersenne Twister's 624 words and its position
_SHA256_DIGITS = frozenset("0123456789abcdef")


class CheckpointError(Exception):
    """A checkpoint that cannot be written or read; the message is one self-contained line."""


@dataclass
class Checkpoint:
    """A model (weights by name, config, tokenizer) and, to resume it, its training state."""

    state: dict[str, np.ndarray]
    config: GPTConfig
    tokenizer: Tokenizer
    training: TrainingState | None = None

    @property
    def dtype(self) -> str:
        """The precision the model was trained in, and computes in: float64 without a run."""
        return "float64" if self.training is None else self.training.hp.dtype


def check_can_save(path: str | Path) -> Path:
    """Fail now, before any work, if ``save(path, ...)`` surely cannot write there."""
    try:
        write_target(path)  # as given: Path() would drop a trailing "/"
    except OSError as exc:
        raise CheckpointError(f"cannot save checkpoint to {path}: {problem(exc)}") from exc
    return Path(path)


def save(path: str | Path, checkpoint: Checkpoint) -> Path:
    """Write ``checkpoint`` to ``path`` atomically: the file is either complete or untouched.

    What would be written is first checked as ``load`` checks it (``CheckpointError`` if it
    fails), then written to a temporary file that replaces ``path`` only once complete
    (``atomic.atomic_write``), and checked again (``atomic.write_target``) just before.
    """
    try:
        data = _encode(checkpoint)
        _decode(io.BytesIO(data), len(data))
    except ValueError as exc:
        raise CheckpointError(f"cannot save checkpoint {path}: {exc}") from exc
    try:
        with atomic_write(path) as out:
            out.write(data)
    except OSError as exc:
        raise CheckpointError(f"cannot write checkpoint {path}: {problem(exc)}") from exc
    return Path(path)


def load(path: str | Path) -> Checkpoint:
    """Read and check a checkpoint written by ``save``; ``CheckpointError`` says what is wrong."""
    path = Path(path)
    try:
        with open_regular(path) as (file, size):
            if file.read(4) == _NPZ_MAGIC:
                raise CheckpointError(
                    f"{path} is a checkpoint of microgpt's old .npz format, which this "
                    f"version no longer reads; convert it with 'microgpt convert {path} NEW'")
            file.seek(0)
            return _decode(file, size)
    except (FileProblem, OSError) as exc:  # OSError: reading it failed
        raise CheckpointError(f"cannot read checkpoint {path}: {problem(exc)}") from exc
    except ValueError as exc:
        raise CheckpointError(f"{path} is not a valid checkpoint: {exc}") from exc


# ---- writing ------------------------------------------------------------------------------------


def _encode(checkpoint: Checkpoint) -> bytes:
    """The file's bytes; ``ValueError`` for what JSON cannot hold (NaN, infinity)."""
    import json  # here, as safetensors: a run that saves nothing need not load it (start-up)

    metadata = {"format": FORMAT, "version": str(VERSION),
                "config": json.dumps(asdict(checkpoint.config)),
                "vocab": json.dumps(checkpoint.tokenizer.chars, ensure_ascii=False)}
    tensors = _float64(checkpoint.state)
    training = checkpoint.training
    if training is not None:
        version, words, gauss_next = training.rng_state
        metadata["training"] = json.dumps(
            {**asdict(training.hp), "step": training.step, "seed": training.seed,
             "val_fraction": training.val_fraction, "data_sha256": training.data_sha256,
             "num_docs": training.num_docs, "rng_version": version}, allow_nan=False)
        tensors |= {f"optim.m.{name}": w for name, w in _float64(training.optimizer.m).items()}
        tensors |= {f"optim.v.{name}": w for name, w in _float64(training.optimizer.v).items()}
        tensors |= {
            "rng.state": np.array(words, dtype=np.uint32),
            "rng.gauss_next": np.array([] if gauss_next is None else [gauss_next], np.float64),
            "history.loss": np.array(training.losses, dtype=np.float64),
            "history.val_step": np.array([s for s, _ in training.val_history], dtype=np.int64),
            "history.val_loss": np.array([v for _, v in training.val_history], np.float64),
        }
    import safetensors.numpy  # here: a run that saves nothing need not load it (start-up)

    return safetensors.numpy.save(tensors, metadata=metadata)


def _float64(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {name: np.ascontiguousarray(w, dtype=np.float64) for name, w in arrays.items()}


# ---- reading ------------------------------------------------------------------------------------


def _decode(file: BinaryIO, size: int) -> Checkpoint:
    """The checkpoint in ``file`` (``size`` bytes long), checked as the module docstring says.

    Raises ``ValueError`` naming the first problem found.
    """
    prefix = file.read(8)
    header_size = int.from_bytes(prefix, "little") if len(prefix) == 8 else -1
    if not 0 < header_size <= min(MAX_HEADER_BYTES, size - 8):
        raise ValueError("not a safetensors file (no header, or an impossible header size)")
    entries = _header(file.read(header_size))
    metadata = entries.pop("__metadata__", {})
    if (not isinstance(metadata, dict)
            or not all(isinstance(v, str) for v in metadata.values())):
        raise ValueError("its metadata is not a map of strings")
    if metadata.get("format") != FORMAT:
        raise ValueError("a safetensors file, but not a microgpt checkpoint")
    if metadata.get("version") != str(VERSION):
        raise ValueError(f"format version {metadata.get('version')!r}; this microgpt reads "
                         f"version {VERSION}")
    config = read_config(_json(metadata, "config"))
    tokenizer = _vocab(_json(metadata, "vocab"), config)
    training = None
    if "training" in metadata:
        training = _training_settings(_json(metadata, "training"), config)
    layout = _layout(config, training, entries)
    data_start = 8 + header_size
    _check_tensors(entries, layout, size - data_start)
    import safetensors.numpy  # here: a run that loads nothing need not load it (start-up)
    from safetensors import SafetensorError

    file.seek(0)
    try:
        tensors = safetensors.numpy.load(file.read(size))
    except SafetensorError as exc:  # the file changed since its header was read
        raise ValueError(f"safetensors cannot read it ({exc})") from exc
    state = {name: tensors[name] for name in parameter_shapes(config)}
    _finite(state, "weights")
    if training is not None:
        _training_tensors(training, tensors, config)
    return Checkpoint(state, config, tokenizer, training)


def _header(raw: bytes) -> dict:
    """The header's JSON object, each tensor entry checked for its form (not its values)."""
    import json  # here, as safetensors: a run that loads nothing need not load it (start-up)

    try:
        header = json.loads(raw.decode("utf-8"), object_pairs_hook=_unique_keys)
    except (ValueError, RecursionError) as exc:  # JSON and UTF-8 errors are ValueErrors
        raise ValueError(f"its header is not valid JSON ({type(exc).__name__})") from exc
    if not isinstance(header, dict):
        raise ValueError("its header is not a JSON object")
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        if not (isinstance(entry, dict) and entry.keys() == {"dtype", "shape", "data_offsets"}
                and isinstance(entry["dtype"], str) and _naturals(entry["shape"])
                and _naturals(entry["data_offsets"]) and len(entry["data_offsets"]) == 2):
            raise ValueError(f"the header's entry for tensor {name!r} is malformed")
    return header


def _unique_keys(pairs: list[tuple[str, object]]) -> dict:
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):  # JSON readers disagree on which one wins
        raise ValueError("a key appears twice")
    return dict(pairs)


def _naturals(value: object) -> bool:
    return isinstance(value, list) and all(type(x) is int and x >= 0 for x in value)


def _json(metadata: dict[str, str], key: str) -> object:
    import json  # (loaded by _header already)

    if key not in metadata:
        raise ValueError(f"no '{key}' in its metadata")
    try:
        return json.loads(metadata[key], object_pairs_hook=_unique_keys)
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"its '{key}' is not valid JSON") from exc


def _fields(value: object, key: str, names: list[str]) -> dict:
    """``value`` as a JSON object with exactly the fields ``names``."""
    if not isinstance(value, dict) or sorted(value) != sorted(names):
        raise ValueError(f"its '{key}' must be an object of {', '.join(names)}")
    return value


def read_config(value: object) -> GPTConfig:
    """The model config in ``value`` (a JSON object's fields), within the command line's
    bounds (``limits.check_size`` with batches of 1); ``ValueError`` otherwise."""
    names = [f.name for f in fields(GPTConfig)]
    raw = _fields(value, "config", names)
    kinds = {name: options.positive_int for name in names} | {"n_layer": options.n_layer}
    config = GPTConfig(**{name: kinds[name].check(raw[name], name) for name in names})
    check_size(config)
    return config


def _vocab(value: object, config: GPTConfig) -> Tokenizer:
    if not isinstance(value, str) or len(value) != config.vocab_size - 1:
        raise ValueError(f"its vocabulary must be {config.vocab_size - 1} characters "
                         "(vocab_size - 1, for BOS)")
    return Tokenizer(value)  # ValueError unless sorted and unique


_TRAINING_FIELDS = [f.name for f in fields(Hyperparameters)] + [
    "step", "seed", "val_fraction", "data_sha256", "num_docs", "rng_version"]


def _training_settings(value: object, config: GPTConfig) -> TrainingState:
    """The training state's settings (its tensors come later): every field within bounds."""
    raw = _fields(value, "training", _TRAINING_FIELDS)
    hp = Hyperparameters(
        steps=options.steps.check(raw["steps"], "steps"),
        lr=options.positive_float.check(raw["lr"], "lr"),
        beta1=options.fraction.check(raw["beta1"], "beta1"),
        beta2=options.fraction.check(raw["beta2"], "beta2"),
        eps=options.positive_float.check(raw["eps"], "eps"),
        schedule=_choice(raw["schedule"], "schedule", SCHEDULES),
        warmup=options.non_negative_int.check(raw["warmup"], "warmup"),
        batch_size=options.positive_int.check(raw["batch_size"], "batch_size"),
        dtype=_choice(raw["dtype"], "dtype", DTYPES))
    step = options.non_negative_int.check(raw["step"], "step")
    num_docs = options.positive_int.check(raw["num_docs"], "num_docs")
    val_fraction = options.fraction.check(raw["val_fraction"], "val_fraction")
    if step > hp.steps or hp.warmup >= hp.steps:
        raise ValueError(f"step {step} and warmup {hp.warmup} must be at most, and less "
                         f"than, its {hp.steps} steps")
    if num_docs > MAX_DOCUMENTS:
        raise ValueError(f"num_docs {num_docs} is more than a dataset can hold")
    train_docs = num_docs - num_validation_docs(val_fraction, num_docs)
    if train_docs < 1:
        raise ValueError(f"val_fraction {val_fraction} leaves none of its {num_docs} "
                         "documents to train on")
    if hp.batch_size > train_docs:
        raise ValueError(f"batch_size {hp.batch_size} is more than its {train_docs} "
                         "training documents")
    check_size(config, hp.batch_size)
    digest = raw["data_sha256"]
    if not (isinstance(digest, str) and len(digest) == 64 and set(digest) <= _SHA256_DIGITS):
        raise ValueError("data_sha256 must be 64 lowercase hexadecimal digits")
    if raw["rng_version"] != random.Random.VERSION:
        raise ValueError(f"rng_version must be {random.Random.VERSION}, Python's")
    # The tensors fill in the moments, the random state and the losses.
    return TrainingState(hp=hp, step=step,
                         seed=options.seed.check(raw["seed"], "seed"),
                         val_fraction=val_fraction,
                         optimizer=OptimizerState(m={}, v={}, step=step),
                         rng_state=(raw["rng_version"], (), None), data_sha256=digest,
                         num_docs=num_docs, losses=[], val_history=[])


def _choice(value: object, name: str, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return value


def _layout(config: GPTConfig, training: TrainingState | None, entries: dict
            ) -> dict[str, tuple[str, tuple[int, ...]]]:
    """Every tensor the metadata calls for: name -> (dtype, shape)."""
    shapes = parameter_shapes(config)
    layout: dict[str, tuple[str, tuple[int, ...]]] = {
        name: ("F64", shape) for name, shape in shapes.items()}
    if training is None:
        return layout
    layout |= {f"optim.{m}.{name}": ("F64", shape) for m in "mv" for name, shape in shapes.items()}
    layout |= {
        "rng.state": ("U32", (_RNG_WORDS,)),
        "rng.gauss_next": ("F64", (min(_length(entries, "rng.gauss_next"), 1),)),
        "history.loss": ("F64", (training.step,)),
    }
    # At most one validation loss per step done; the header says how many there are.
    points = min(_length(entries, "history.val_step"), training.step)
    layout |= {"history.val_step": ("I64", (points,)), "history.val_loss": ("F64", (points,))}
    return layout


def _length(entries: dict, name: str) -> int:
    """The length the header gives the vector ``name`` (0 if it is not a vector)."""
    shape = entries.get(name, {}).get("shape", [])
    return shape[0] if len(shape) == 1 else 0


def _check_tensors(entries: dict, layout: dict[str, tuple[str, tuple[int, ...]]],
                   data_size: int) -> None:
    """The header lists exactly ``layout``, in byte ranges that tile ``data_size`` bytes."""
    missing = [name for name in layout if name not in entries]
    unexpected = [name for name in entries if name not in layout]
    if missing or unexpected:
        raise ValueError("its tensors are not those of its metadata (" + "; ".join(
            f"{what}: {', '.join(names[:5])}{', ...' if len(names) > 5 else ''}"
            for what, names in (("missing", missing), ("unexpected", unexpected)) if names)
            + ")")
    end = 0
    for name, entry in sorted(entries.items(), key=lambda item: item[1]["data_offsets"]):
        dtype, shape = layout[name]
        if (entry["dtype"], tuple(entry["shape"])) != (dtype, shape):
            raise ValueError(f"tensor '{name}' is {entry['dtype']} {entry['shape']}, expected "
                             f"{dtype} {list(shape)}")
        begin, stop = entry["data_offsets"]
        if begin != end or stop - begin != _ITEMSIZE[dtype] * math.prod(shape):
            raise ValueError(f"tensor '{name}' does not take its {dtype} {list(shape)}'s bytes "
                             "right after the previous one")
        end = stop
    if end != data_size:
        raise ValueError(f"its tensors take {end} bytes, but the file holds {data_size} after "
                         "its header (truncated, or something appended)")


def _finite(arrays: dict[str, np.ndarray], what: str) -> None:
    bad = [name for name, w in arrays.items() if not np.isfinite(w).all()]
    if bad:  # a diverged run, or a damaged file: nothing sensible to compute with
        raise ValueError(f"its {what} hold NaN or infinite values ({', '.join(bad[:5])})")


def _training_tensors(training: TrainingState, tensors: dict[str, np.ndarray],
                      config: GPTConfig) -> None:
    """Fill ``training`` in from its tensors, checking their values."""
    names = list(parameter_shapes(config))
    m = {name: tensors[f"optim.m.{name}"] for name in names}
    v = {name: tensors[f"optim.v.{name}"] for name in names}
    _finite(m | {f"v.{name}": w for name, w in v.items()}, "Adam moments")
    if any((w < 0).any() for w in v.values()):
        raise ValueError("its Adam second moments hold negative values")
    training.optimizer.m, training.optimizer.v = m, v
    words, gauss_next = tensors["rng.state"], tensors["rng.gauss_next"]
    _finite({"history.loss": tensors["history.loss"], "rng.gauss_next": gauss_next,
             "history.val_loss": tensors["history.val_loss"]}, "values")
    training.rng_state = (training.rng_state[0], tuple(words.tolist()),
                          float(gauss_next[0]) if gauss_next.size else None)
    try:
        random.Random().setstate(training.rng_state)
    except (ValueError, TypeError, OverflowError) as exc:
        raise ValueError(f"'rng.state' is not a random state ({exc})") from exc
    val_steps = tensors["history.val_step"].tolist()
    if val_steps != sorted(set(val_steps)) or not all(1 <= s <= training.step
                                                      for s in val_steps):
        raise ValueError("'history.val_step' must be increasing steps of the run")
    training.losses = tensors["history.loss"].tolist()
    training.val_history = list(zip(val_steps, tensors["history.val_loss"].tolist()))
