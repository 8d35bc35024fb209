"""Checkpoints: a trained model's weights, config and vocabulary in one ``.npz`` file.

The file is a plain NumPy ``.npz`` archive that ``np.load(path, allow_pickle=False)``
reads: no pickles, so loading a checkpoint from elsewhere cannot run code. Its keys:

* ``format`` (str, ``"microgpt-checkpoint"``) and ``version`` (int): what the file is;
* ``config.vocab_size``, ``config.n_embd``, ``config.n_head``, ``config.n_layer``,
  ``config.block_size`` (int): the ``GPTConfig``;
* ``vocab`` (unicode array, one character per entry): the tokenizer's characters, in id order;
* ``param.<name>`` (float64): every weight matrix of ``model.parameter_shapes(config)``.

Growing the format: new information goes in new, *optional* keys (``save(..., extra=...)``);
``load`` returns the keys it does not know in ``Checkpoint.extra`` instead of rejecting them.
That is how ``microgpt train --save`` stores what resuming needs (Adam's state, the step,
the settings, the random state: see ``resume.py``) without a new version: older readers
ignore those keys, newer readers find them absent in older files. ``VERSION`` changes
only when a key's meaning changes.
"""

from __future__ import annotations

import zipfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np

from .atomic import atomic_write, write_problem
from .data import Tokenizer
from .model import GPTConfig, parameter_shapes

FORMAT = "microgpt-checkpoint"
VERSION = 1

_CONFIG_PREFIX = "config."
_PARAM_PREFIX = "param."
_RESERVED = ("format", "version", "vocab")


class CheckpointError(Exception):
    """A checkpoint that cannot be written or read; the message is one self-contained line."""


@dataclass
class Checkpoint:
    """What a checkpoint holds. ``extra`` is every optional key (see the module docstring)."""

    state: dict[str, np.ndarray]
    config: GPTConfig
    tokenizer: Tokenizer
    extra: dict[str, np.ndarray] = field(default_factory=dict)


def check_can_save(path: str | Path) -> Path:
    """Fail now, before any work, if ``save(path, ...)`` surely cannot write there."""
    path = Path(path)
    problem = write_problem(path)
    if problem is not None:
        raise CheckpointError(f"cannot save checkpoint to {path}: {problem}")
    return path


def save(
    path: str | Path,
    state: Mapping[str, np.ndarray],
    config: GPTConfig,
    tokenizer: Tokenizer,
    extra: Mapping[str, np.ndarray] | None = None,
) -> Path:
    """Write a checkpoint to ``path`` atomically: the file is either complete or untouched.

    The archive goes to a temporary file that replaces ``path`` only once fully written
    (``atomic.atomic_write``); on any failure, including Ctrl-C, it is removed.
    """
    path = Path(path)
    arrays = _to_arrays(state, config, tokenizer, extra or {})
    _from_arrays(arrays, f"cannot save checkpoint {path}")  # never write what load() rejects
    try:
        # An open file, not a name: np.savez would append '.npz' to a name without it.
        with atomic_write(path) as out:
            np.savez(out, allow_pickle=False, **arrays)
    except OSError as exc:
        raise CheckpointError(f"cannot write checkpoint {path}: {exc.strerror or exc}") from exc
    return path


def load(path: str | Path) -> Checkpoint:
    """Read and check a checkpoint written by ``save``; ``CheckpointError`` says what is wrong."""
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"checkpoint file not found: {path}")
    if path.is_dir():
        raise CheckpointError(f"checkpoint path is a directory, not a file: {path}")
    if not zipfile.is_zipfile(path):  # np.load would otherwise try its .npy and pickle readers
        raise CheckpointError(f"{path} is not a checkpoint (not an .npz archive, or truncated)")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    # ValueError: a damaged .npy header, or an object array (it would need pickle);
    # the others: entries cut short or failing their CRC.
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise CheckpointError(f"{path} is corrupt: {' '.join(str(exc).split())}") from exc
    return _from_arrays(arrays, f"{path} is not a valid checkpoint")


def _to_arrays(
    state: Mapping[str, np.ndarray],
    config: GPTConfig,
    tokenizer: Tokenizer,
    extra: Mapping[str, np.ndarray],
) -> dict[str, np.ndarray]:
    clashes = [key for key in extra
               if key in _RESERVED or key.startswith((_CONFIG_PREFIX, _PARAM_PREFIX))]
    if clashes:
        raise ValueError(f"extra keys clash with the checkpoint's own: {', '.join(clashes)}")
    extra = {key: np.asarray(value) for key, value in extra.items()}
    if any(value.dtype.hasobject for value in extra.values()):
        raise ValueError("extra values must be plain arrays: object arrays would need pickle")
    arrays = {"format": np.array(FORMAT), "version": np.array(VERSION)}
    arrays |= {_CONFIG_PREFIX + k: np.array(v) for k, v in asdict(config).items()}
    arrays["vocab"] = np.array(list(tokenizer.chars), dtype="U1")
    arrays |= {_PARAM_PREFIX + name: np.asarray(w, dtype=np.float64) for name, w in state.items()}
    return arrays | extra


def _from_arrays(arrays: Mapping[str, object], context: str) -> Checkpoint:
    """Check ``arrays`` key by key and build the ``Checkpoint`` they describe.

    Errors are ``CheckpointError(f"{context}: <problem>")``; ``save`` runs the same checks
    before writing, so it cannot produce a file that ``load`` refuses.
    """

    def fail(problem: str) -> CheckpointError:
        return CheckpointError(f"{context}: {problem}")

    # np.load hands back raw bytes for an archive entry that is not a .npy file.
    not_arrays = [key for key, value in arrays.items() if not isinstance(value, np.ndarray)]
    if not_arrays:
        raise fail(f"entries that are not arrays: {', '.join(not_arrays)}")

    def scalar(key: str, kind: str) -> np.ndarray:
        if key not in arrays:
            raise fail(f"missing key '{key}'")
        value = arrays[key]
        if value.shape != () or value.dtype.kind not in kind:
            raise fail(f"key '{key}' has the wrong type ({value.dtype}, shape {value.shape})")
        return value

    if "format" not in arrays or scalar("format", "U") != FORMAT:
        raise fail(f"no '{FORMAT}' format marker")
    version = int(scalar("version", "iu"))
    if version != VERSION:
        raise fail(f"format version {version}, but this microgpt reads version {VERSION}")
    config_names = [f.name for f in fields(GPTConfig)]
    try:
        config = GPTConfig(**{
            name: int(scalar(_CONFIG_PREFIX + name, "iu")) for name in config_names
        })
    except ValueError as exc:
        raise fail(str(exc)) from exc

    vocab = arrays.get("vocab")
    if vocab is None:
        raise fail("missing key 'vocab'")
    if (vocab.dtype.kind != "U" or vocab.shape != (config.vocab_size - 1,)
            or any(len(ch) != 1 for ch in vocab.tolist())):
        raise fail(f"'vocab' must be {config.vocab_size - 1} characters (vocab_size - 1 for BOS)")
    try:
        tokenizer = Tokenizer("".join(vocab.tolist()))
    except ValueError as exc:
        raise fail("'vocab' must be sorted, unique characters") from exc

    state = {}
    for name, shape in parameter_shapes(config).items():
        key = _PARAM_PREFIX + name
        if key not in arrays:
            raise fail(f"missing key '{key}'")
        if arrays[key].shape != shape or arrays[key].dtype != np.float64:
            raise fail(
                f"'{key}' is {arrays[key].dtype} {arrays[key].shape}, expected float64 {shape}"
            )
        if not np.isfinite(arrays[key]).all():  # a diverged run: nothing sensible to sample
            raise fail(f"'{key}' holds NaN or infinite values")
        state[name] = arrays[key]
    unexpected = [key for key in arrays if key.startswith(_PARAM_PREFIX)
                  and key[len(_PARAM_PREFIX):] not in state]
    if unexpected:  # weights of another architecture: refuse rather than ignore them
        raise fail(f"unexpected parameters for this config: {', '.join(unexpected)}")
    known = {*_RESERVED, *(_CONFIG_PREFIX + name for name in config_names),
             *(_PARAM_PREFIX + name for name in state)}
    extra = {key: value for key, value in arrays.items() if key not in known}
    return Checkpoint(state, config, tokenizer, extra)
