"""Checkpoints of the old .npz format: converted exactly, and read without trusting them."""

from __future__ import annotations

import io
import math
import os
import pickle
import re
import zipfile
from pathlib import Path

import numpy as np
import pytest
from test_checkpoint import MODEL, RESUMABLE, assert_same_checkpoint

from microgpt import cli
from microgpt.storage import checkpoint
from microgpt.storage.checkpoint import Checkpoint, CheckpointError
from microgpt.storage.npz import read_npz

NAMES = ["emma", "olivia", "ava", "mia", "zoe", "liam", "noah", "eli", "ivy", "max"]
SMALL_MODEL = ["--n-embd", "8", "--n-head", "2", "--block-size", "6"]


def old_arrays(saved: Checkpoint, dtype_key: bool = True) -> dict[str, np.ndarray]:
    """``saved`` under the keys, dtypes and shapes of the old format (microgpt before 0.2)."""
    arrays = {"format": np.array("microgpt-checkpoint"), "version": np.array(1),
              "vocab": np.array(list(saved.tokenizer.chars), dtype="U1")}
    arrays |= {f"config.{name}": np.array(value) for name, value in vars(saved.config).items()}
    arrays |= {f"param.{name}": np.asarray(w, np.float64) for name, w in saved.state.items()}
    t = saved.training
    if t is None:
        return arrays
    version, words, gauss_next = t.rng_state
    arrays |= {f"train.{name}": np.array(value) for name, value in vars(t.hp).items()
               if dtype_key or name != "dtype"}
    arrays |= {
        "train.step": np.array(t.step), "train.seed": np.array(t.seed),
        "train.val_fraction": np.array(float(t.val_fraction)), "optim.step": np.array(t.step),
        "rng.version": np.array(version), "rng.state": np.array(words, dtype=np.int64),
        "rng.gauss_next": np.array(math.nan if gauss_next is None else gauss_next),
        "data.sha256": np.array(t.data_sha256), "data.num_docs": np.array(t.num_docs),
        "history.loss": np.array(t.losses, dtype=np.float64),
        "history.val_step": np.array([s for s, _ in t.val_history], dtype=np.int64),
        "history.val_loss": np.array([v for _, v in t.val_history], dtype=np.float64),
    }
    for moment in ("m", "v"):
        arrays |= {f"optim.{moment}.{name}": w
                   for name, w in getattr(t.optimizer, moment).items()}
    return arrays


def write_old(path: Path, arrays: dict[str, np.ndarray]) -> Path:
    np.savez(path, **arrays)
    return path


@pytest.mark.parametrize("saved", [MODEL, RESUMABLE], ids=["model only", "with training"])
def test_an_old_checkpoint_converts_exactly(tmp_path, saved):
    old = write_old(tmp_path / "old.npz", old_arrays(saved))
    assert_same_checkpoint(read_npz(old), saved)


def test_a_checkpoint_from_before_dtype_converts_as_float64(tmp_path):
    old = write_old(tmp_path / "old.npz", old_arrays(RESUMABLE, dtype_key=False))
    assert read_npz(old).dtype == "float64"


def test_convert_then_resume_ends_bit_for_bit_like_an_uninterrupted_run(capsys, tmp_path):
    data = tmp_path / "names.txt"
    data.write_text("\n".join(NAMES))
    train = ["train", "--data", str(data), "--steps", "6", "--samples", "3", *SMALL_MODEL]
    assert cli.main([*train, "--save", str(tmp_path / "full")]) == 0
    full = capsys.readouterr().out.splitlines()
    assert cli.main([*train, "--stop-after", "3", "--save", str(tmp_path / "part")]) == 0
    old = write_old(tmp_path / "part.npz", old_arrays(checkpoint.load(tmp_path / "part")))
    capsys.readouterr()

    assert cli.main(["convert", str(old), str(tmp_path / "converted")]) == 0
    assert capsys.readouterr().out == f"converted {old} to {tmp_path / 'converted'}\n"
    converted = str(tmp_path / "converted")
    assert cli.main(["train", "--data", str(data), "--resume", converted, "--save", converted,
                     "--samples", "3"]) == 0
    resumed = capsys.readouterr().out.splitlines()
    assert resumed[4:-1] == full[6:-1]  # steps 4 to 6 and the samples
    assert_same_checkpoint(checkpoint.load(converted), checkpoint.load(tmp_path / "full"))


def member(name: str, header: dict, data: bytes = b"") -> tuple[str, bytes]:
    """A .npy member of ``header`` (descr, fortran_order, shape) and raw ``data``."""
    out = io.BytesIO()
    np.lib.format.write_array_header_1_0(out, header)
    return f"{name}.npy", out.getvalue() + data


def with_members(*members: tuple[str, bytes], base: Checkpoint = RESUMABLE):
    """An old checkpoint whose members ``members`` replace (or add to) ``base``'s."""
    def make(tmp_path: Path) -> Path:
        arrays = old_arrays(base)
        replaced = {name for name, _ in members}
        with zipfile.ZipFile(tmp_path / "bad.npz", "w") as archive:
            for key, value in arrays.items():
                if f"{key}.npy" not in replaced:
                    buffer = io.BytesIO()
                    np.save(buffer, value)
                    archive.writestr(f"{key}.npy", buffer.getvalue())
            for name, content in members:
                archive.writestr(name, content)
        return tmp_path / "bad.npz"
    return make


def changed(key: str, value: np.ndarray):
    buffer = io.BytesIO()
    np.save(buffer, value, allow_pickle=True)
    return with_members((f"{key}.npy", buffer.getvalue()))


def a_fifo(tmp_path: Path) -> Path:
    os.mkfifo(tmp_path / "fifo")
    return tmp_path / "fifo"


def many_members(tmp_path: Path) -> Path:
    with zipfile.ZipFile(tmp_path / "bad.npz", "w") as archive:
        for i in range(10_001):
            archive.writestr(f"m{i}.npy", b"")
    return tmp_path / "bad.npz"


BAD_OLD_FILES = {
    "missing": (lambda tmp_path: tmp_path / "none.npz", "No such file or directory"),
    "a FIFO": (a_fifo, "it is a FIFO (named pipe), not a regular file"),
    "not a zip": (lambda p: (p / "x").write_text("emma") and p / "x", "File is not a zip file"),
    "too many members": (many_members, "it has 10001 members"),
    "a pickled object": (changed("train.seed", np.array([{"a": 1}], dtype=object)),
                         "'train.seed' is object"),
    "a header of 10**12 values": (with_members(member("param.wte", {
        "descr": "<f8", "fortran_order": False, "shape": (10**6, 10**6)})),
        "'param.wte' is float64 (1000000, 1000000)"),
    "a string of 10**7 characters": (with_members(member("train.schedule", {
        "descr": "<U10000000", "fortran_order": False, "shape": ()})),
        "'train.schedule' is <U10000000 ()"),
    "n_layer 10**8": (changed("config.n_layer", np.array(10**8)), "n_layer must be"),
    "a member cut short": (with_members(member("param.wpe", {
        "descr": "<f8", "fortran_order": False, "shape": (4, 8)}, b"\0" * 16)), "cut short"),
    "a step past the bound": (changed("train.step", np.array(10**9)), "its step 1000000000"),
    "another format": (changed("format", np.array("other")), "no microgpt format marker"),
    "an invalid value (checked as any checkpoint)": (changed("train.lr", np.array(-1.0)),
                                                      "lr must be a positive number"),
}


@pytest.mark.parametrize("make, message", BAD_OLD_FILES.values(), ids=BAD_OLD_FILES.keys())
def test_bad_old_files_are_one_line_and_never_unpickled(capsys, tmp_path, monkeypatch, make,
                                                        message, deadline):
    deadline(30)  # a FIFO must not make it wait
    path = make(tmp_path)
    monkeypatch.setattr(pickle, "loads", lambda *a, **k: pytest.fail("unpickled"))
    monkeypatch.setattr(pickle, "load", lambda *a, **k: pytest.fail("unpickled"))
    status = cli.main(["convert", str(path), str(tmp_path / "new")])
    out, err = capsys.readouterr()
    assert (status, out) == (1, "")
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert re.search(re.escape(message), err), err
    assert not (tmp_path / "new").exists()


@pytest.mark.parametrize("new", ["old.npz", "./old.npz", "link.npz"])
def test_convert_refuses_to_write_over_the_checkpoint_it_reads(capsys, tmp_path, monkeypatch,
                                                               new):
    monkeypatch.chdir(tmp_path)
    write_old(tmp_path / "old.npz", old_arrays(MODEL))
    (tmp_path / "link.npz").symlink_to(tmp_path / "old.npz")
    before = (tmp_path / "old.npz").read_bytes()
    assert cli.main(["convert", "old.npz", new]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err == (f"error: NEW {new.removeprefix('./')} is the checkpoint "
                                 "converted; writing there would destroy it\n")
    assert (tmp_path / "old.npz").read_bytes() == before


def test_read_npz_raises_checkpoint_error(tmp_path):
    with pytest.raises(CheckpointError, match="not an old .npz checkpoint"):
        read_npz(changed("version", np.array(2))(tmp_path))
