"""Checkpoints of microgpt's first format, a NumPy ``.npz`` archive, read without trusting them.

``microgpt convert OLD.npz NEW`` turns one into a safetensors checkpoint (``checkpoint.py``).
``np.load`` is not used: it would read a member whole however large its header claims it
is, and parse headers that ask for pickled objects. Here every member's ``.npy`` header is
read first, and its dtype and shape checked against what the format stores under that
name (the model's size within the command line's bounds, ``limits``) before its data is
read, exactly that many bytes. Nothing is unpickled; the result is checked again, as any
checkpoint, by ``checkpoint.save``.

The format stored ``format``, ``version`` (1), ``config.<field>``, ``vocab`` (one
character per entry) and ``param.<name>``; checkpoints written by ``microgpt train --save``
also ``train.<setting>``, ``optim.m.<name>``, ``optim.v.<name>``, ``optim.step``,
``rng.version``, ``rng.state`` (625 integers), ``rng.gauss_next`` (NaN for none),
``data.sha256``, ``data.num_docs`` and ``history.loss``, ``history.val_step`` and
``history.val_loss``; ``train.dtype`` only from its later versions.
"""

from __future__ import annotations

import contextlib
import math
import zipfile
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path
from typing import IO

import numpy as np

from ..data import Tokenizer
from ..model import GPTConfig, parameter_shapes
from ..train import Hyperparameters, OptimizerState
from .checkpoint import Checkpoint, CheckpointError, read_config
from .files import FileProblem, open_regular
from .limits import MAX_STEPS
from .resume import TrainingState

_MAX_MEMBERS = 10_000  # far more than a model of MAX_N_LAYER layers stores
_MAX_NPY_HEADER = 2**16  # numpy writes headers of a few hundred bytes
_HEADER_READERS = {(1, 0): np.lib.format.read_array_header_1_0,
                   (2, 0): np.lib.format.read_array_header_2_0}
_LONGEST_TEXT = 64  # characters: a sha256, a schedule's name, a dtype's


def read_npz(path: str | Path) -> Checkpoint:
    """The checkpoint in the old-format file ``path``; ``CheckpointError`` says what is wrong."""
    path = Path(path)
    try:
        with open_regular(path) as (file, _), zipfile.ZipFile(file) as archive:
            return _Reader(archive).checkpoint()
    except FileProblem as exc:
        raise CheckpointError(f"cannot read checkpoint {path}: {exc}") from exc
    except (OSError, zipfile.BadZipFile, ValueError) as exc:
        raise CheckpointError(f"{path} is not an old .npz checkpoint that can be converted: "
                              f"{' '.join(str(exc).split())}") from exc


class _Reader:
    """The members of an old-format archive, each checked before its data is read."""

    def __init__(self, archive: zipfile.ZipFile) -> None:
        members = archive.namelist()
        if len(members) > _MAX_MEMBERS:
            raise ValueError(f"it has {len(members)} members")
        self.archive = archive
        self.names = {name.removesuffix(".npy") for name in members}

    @contextlib.contextmanager
    def _member(self, name: str) -> Iterator[tuple[IO[bytes], tuple[int, ...], bool, np.dtype]]:
        """Member ``name`` open after its .npy header, and the header's shape, order, dtype."""
        if name not in self.names:
            raise ValueError(f"no '{name}'")
        with self.archive.open(f"{name}.npy") as member:
            read_header = _HEADER_READERS.get(np.lib.format.read_magic(member))
            if read_header is None:
                raise ValueError(f"'{name}' has a .npy header of an unknown version")
            shape, fortran, dtype = read_header(member, max_header_size=_MAX_NPY_HEADER)
            yield member, shape, fortran, dtype

    def array(self, name: str, kind: str, shape: tuple[int, ...], largest: int = 8
              ) -> np.ndarray:
        """Member ``name``, if of a dtype kind in ``kind``, at most ``largest`` bytes per
        value, and of exactly ``shape``."""
        with self._member(name) as (member, found, fortran, dtype):
            if (dtype.hasobject or dtype.kind not in kind or dtype.itemsize > largest
                    or found != shape):
                raise ValueError(f"'{name}' is {dtype} {found}, which this format never stored")
            size = dtype.itemsize * math.prod(shape)
            data = member.read(size)
        if len(data) != size:
            raise ValueError(f"'{name}' is cut short")
        return np.frombuffer(data, dtype).reshape(shape, order="F" if fortran else "C").copy()

    def integer(self, name: str) -> int:
        return int(self.array(name, "iu", ()))

    def real(self, name: str) -> float:
        return float(self.array(name, "f", ()))

    def text(self, name: str) -> str:
        return str(self.array(name, "U", (), largest=4 * _LONGEST_TEXT))

    def length(self, name: str, most: int) -> int:
        """The length of the vector ``name``, from its header, if at most ``most``."""
        with self._member(name) as (_, shape, _, _):
            if len(shape) != 1 or shape[0] > most:
                raise ValueError(f"'{name}' has the shape {shape}")
        return shape[0]

    def checkpoint(self) -> Checkpoint:
        if self.text("format") != "microgpt-checkpoint" or self.integer("version") != 1:
            raise ValueError("no microgpt format marker of version 1")
        config = read_config({f.name: self.integer(f"config.{f.name}")
                              for f in fields(GPTConfig)})  # the bounds, before any weight
        vocab = self.array("vocab", "U", (config.vocab_size - 1,), largest=4)
        shapes = parameter_shapes(config)
        state = {name: self.array(f"param.{name}", "f", shape) for name, shape in shapes.items()}
        training = self.training(shapes) if "train.step" in self.names else None
        return Checkpoint(state, config, Tokenizer("".join(vocab.tolist())), training)

    def training(self, shapes: dict[str, tuple[int, int]]) -> TrainingState:
        step = self.integer("train.step")
        if not 0 <= step <= MAX_STEPS:
            raise ValueError(f"its step {step} is outside 0..{MAX_STEPS}")
        val_points = self.length("history.val_step", step)
        gauss_next = self.real("rng.gauss_next")
        moments = {moment: {name: self.array(f"optim.{moment}.{name}", "f", shape)
                            for name, shape in shapes.items()} for moment in "mv"}
        return TrainingState(
            hp=Hyperparameters(
                steps=self.integer("train.steps"), lr=self.real("train.lr"),
                beta1=self.real("train.beta1"), beta2=self.real("train.beta2"),
                eps=self.real("train.eps"), schedule=self.text("train.schedule"),
                warmup=self.integer("train.warmup"),
                batch_size=self.integer("train.batch_size"),
                dtype=self.text("train.dtype") if "train.dtype" in self.names else "float64"),
            step=step, seed=self.integer("train.seed"),
            val_fraction=self.real("train.val_fraction"),
            optimizer=OptimizerState(m=moments["m"], v=moments["v"], step=step),
            rng_state=(self.integer("rng.version"),
                       tuple(self.array("rng.state", "iu", (625,)).tolist()),
                       None if math.isnan(gauss_next) else gauss_next),
            data_sha256=self.text("data.sha256"), num_docs=self.integer("data.num_docs"),
            losses=self.array("history.loss", "f", (step,)).tolist(),
            val_history=list(zip(self.array("history.val_step", "iu", (val_points,)).tolist(),
                                 self.array("history.val_loss", "f", (val_points,)).tolist())))
