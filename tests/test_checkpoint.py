"""Checkpoints: the round trip, every way a file can be wrong, and the atomic write."""

from __future__ import annotations

import os
import random
import re
import zipfile
from pathlib import Path

import numpy as np
import pytest

from microgpt import atomic
from microgpt.checkpoint import FORMAT, VERSION, CheckpointError, check_can_save, load, save
from microgpt.data import Tokenizer
from microgpt.model import GPTConfig, init_state_dict

CONFIG = GPTConfig(vocab_size=6, n_embd=8, n_head=2, n_layer=2, block_size=4)
TOKENIZER = Tokenizer("abcdé")  # a non-ASCII character: the vocabulary is unicode
STATE = init_state_dict(CONFIG, random.Random(1))


def files_in(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def assert_same_state(actual: dict, expected: dict) -> None:
    assert list(actual) == list(expected)
    for name in expected:
        np.testing.assert_array_equal(actual[name], expected[name])


# ---- round trip ---------------------------------------------------------------------------------


def test_round_trip(tmp_path):
    path = tmp_path / "model.ckpt"  # any name: no '.npz' gets appended
    assert save(path, STATE, CONFIG, TOKENIZER) == path
    assert files_in(tmp_path) == ["model.ckpt"]  # and no temporary file left behind
    loaded = load(path)
    assert loaded.config == CONFIG
    assert loaded.tokenizer.chars == TOKENIZER.chars
    assert loaded.extra == {}
    assert_same_state(loaded.state, STATE)


def test_file_is_a_plain_npz_without_pickles(tmp_path):
    save(tmp_path / "m.npz", STATE, CONFIG, TOKENIZER)
    with np.load(tmp_path / "m.npz", allow_pickle=False) as archive:
        assert archive["format"] == FORMAT
        assert archive["version"] == VERSION
        assert archive["vocab"].dtype.kind == "U"
        assert "".join(archive["vocab"]) == TOKENIZER.chars
        assert archive["config.n_head"] == CONFIG.n_head
        np.testing.assert_array_equal(archive["param.layer1.mlp_fc2"], STATE["layer1.mlp_fc2"])


def test_optional_keys_round_trip_and_are_ignored_by_the_model(tmp_path):
    """How resumable checkpoints will add optimizer state: new keys, same version."""
    extra = {"step": np.array(7), "optim.m.wte": np.ones((6, 8)), "rng.state": np.arange(625)}
    save(tmp_path / "m.npz", STATE, CONFIG, TOKENIZER, extra=extra)
    loaded = load(tmp_path / "m.npz")
    assert loaded.extra.keys() == extra.keys()
    for key, value in extra.items():
        np.testing.assert_array_equal(loaded.extra[key], value)
    assert_same_state(loaded.state, STATE)


def test_a_checkpoint_gets_the_usual_permissions(tmp_path):
    """Those open() gives a new file (the temporary file it starts as is private)."""
    umask = os.umask(0o022)
    try:
        save(tmp_path / "m.npz", STATE, CONFIG, TOKENIZER)
    finally:
        os.umask(umask)
    assert (tmp_path / "m.npz").stat().st_mode & 0o777 == 0o644


def test_save_replaces_an_existing_checkpoint(tmp_path):
    path = tmp_path / "m.npz"
    save(path, STATE, CONFIG, TOKENIZER)
    doubled = {name: 2 * w for name, w in STATE.items()}
    save(path, doubled, CONFIG, TOKENIZER)
    assert_same_state(load(path).state, doubled)
    assert files_in(tmp_path) == ["m.npz"]


# ---- files that are not (valid) checkpoints -----------------------------------------------------


def arrays_of_a_checkpoint(tmp_path: Path) -> dict[str, np.ndarray]:
    save(tmp_path / "good.npz", STATE, CONFIG, TOKENIZER)
    with np.load(tmp_path / "good.npz") as archive:
        return dict(archive)


def rewritten(tmp_path: Path, change) -> Path:
    """A checkpoint's arrays, changed by ``change(arrays)``, saved as a plain npz."""
    arrays = arrays_of_a_checkpoint(tmp_path)
    change(arrays)
    np.savez(tmp_path / "bad.npz", **arrays)
    return tmp_path / "bad.npz"


def written(name: str, content: bytes):
    def make(tmp_path: Path) -> Path:
        (tmp_path / name).write_bytes(content)
        return tmp_path / name
    return make


def truncated(tmp_path: Path) -> Path:
    data = (save(tmp_path / "good.npz", STATE, CONFIG, TOKENIZER)).read_bytes()
    (tmp_path / "bad.npz").write_bytes(data[: len(data) // 2])
    return tmp_path / "bad.npz"


def bit_flipped(tmp_path: Path) -> Path:
    data = bytearray(save(tmp_path / "good.npz", STATE, CONFIG, TOKENIZER).read_bytes())
    with zipfile.ZipFile(tmp_path / "good.npz") as archive:  # flip a byte inside the weights
        info = archive.getinfo("param.wte.npy")
    data[info.header_offset + 200] ^= 0xFF
    (tmp_path / "bad.npz").write_bytes(bytes(data))
    return tmp_path / "bad.npz"


def a_npy_file(tmp_path: Path) -> Path:
    with open(tmp_path / "bad.npz", "wb") as out:
        np.save(out, STATE["wte"])
    return tmp_path / "bad.npz"


def a_zip_of_text(tmp_path: Path) -> Path:
    with zipfile.ZipFile(tmp_path / "bad.npz", "w") as archive:
        archive.writestr("format", "microgpt-checkpoint")
    return tmp_path / "bad.npz"


def a_directory(tmp_path: Path) -> Path:
    (tmp_path / "bad.npz").mkdir()
    return tmp_path / "bad.npz"


def drop(key):
    return lambda arrays: arrays.pop(key)


def put(key, value):
    return lambda arrays: arrays.__setitem__(key, value)


BAD_FILES = {
    "missing": (lambda tmp_path: tmp_path / "nothing.npz", "not found"),
    "a directory": (a_directory, "is a directory"),
    "empty": (written("bad.npz", b""), "not an .npz archive"),
    "text": (written("bad.npz", b"emma\nolivia\n"), "not an .npz archive"),
    "truncated": (truncated, "not an .npz archive"),
    "bit flipped": (bit_flipped, "corrupt"),
    "a .npy file": (a_npy_file, "not an .npz archive"),
    "a zip of text": (a_zip_of_text, "not arrays"),
    "pickled object array": (
        lambda p: rewritten(p, put("step", np.array([{"a": 1}], dtype=object))), "corrupt"),
    "no marker": (lambda p: rewritten(p, drop("format")), "format marker"),
    "another marker": (lambda p: rewritten(p, put("format", np.array("other"))),
                       "format marker"),
    "marker of another type": (lambda p: rewritten(p, put("format", np.array([1, 2]))),
                               "wrong type"),
    "newer version": (lambda p: rewritten(p, put("version", np.array(VERSION + 1))),
                      f"format version {VERSION + 1}"),
    "no version": (lambda p: rewritten(p, drop("version")), "missing key 'version'"),
    "no config": (lambda p: rewritten(p, drop("config.n_embd")), "missing key 'config.n_embd'"),
    "invalid config": (lambda p: rewritten(p, put("config.n_head", np.array(3))),
                       "must be divisible"),
    "no vocab": (lambda p: rewritten(p, drop("vocab")), "missing key 'vocab'"),
    "short vocab": (lambda p: rewritten(p, put("vocab", np.array(list("abcd")))),
                    "'vocab' must be 5 characters"),
    "unsorted vocab": (lambda p: rewritten(p, put("vocab", np.array(list("bacdé")))),
                       "sorted, unique"),
    "missing weights": (lambda p: rewritten(p, drop("param.layer1.attn_wk")),
                        "missing key 'param.layer1.attn_wk'"),
    "wrong shape": (lambda p: rewritten(p, put("param.wte", np.zeros((6, 9)))),
                    "expected float64 (6, 8)"),
    "wrong dtype": (lambda p: rewritten(p, put("param.wpe", np.zeros((4, 8), np.float32))),
                    "expected float64 (4, 8)"),
    "NaN weights": (lambda p: rewritten(p, put("param.lm_head", np.full((6, 8), np.nan))),
                    "NaN"),
    "weights of another model": (lambda p: rewritten(p, put("param.layer2.attn_wq", STATE["wte"])),
                                 "unexpected parameters"),
}


@pytest.mark.parametrize("make, message", BAD_FILES.values(), ids=BAD_FILES.keys())
def test_bad_files_raise_a_one_line_error(tmp_path, make, message):
    path = make(tmp_path)
    with pytest.raises(CheckpointError, match=re.escape(message)) as error:
        load(path)
    assert "\n" not in str(error.value)
    assert str(path) in str(error.value)


# ---- the atomic write ---------------------------------------------------------------------------


def test_a_failed_write_leaves_no_file(tmp_path, monkeypatch):
    path = tmp_path / "m.npz"
    save(path, STATE, CONFIG, TOKENIZER)
    before = path.read_bytes()

    def disk_full(file, *args, **kwargs):
        file.write(b"PK\x03\x04 half an archive")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez", disk_full)
    with pytest.raises(CheckpointError, match="No space left on device"):
        save(path, {name: 2 * w for name, w in STATE.items()}, CONFIG, TOKENIZER)
    assert files_in(tmp_path) == ["m.npz"]  # the temporary file is gone
    assert path.read_bytes() == before  # and the old checkpoint is untouched


@pytest.mark.parametrize("interruption", [KeyboardInterrupt, MemoryError])
def test_an_interrupted_write_leaves_no_file(tmp_path, monkeypatch, interruption):
    def interrupted(file, *args, **kwargs):
        file.write(b"PK\x03\x04")
        raise interruption

    monkeypatch.setattr(np, "savez", interrupted)
    with pytest.raises(interruption):
        save(tmp_path / "m.npz", STATE, CONFIG, TOKENIZER)
    assert files_in(tmp_path) == []


def test_a_failed_rename_leaves_no_file(tmp_path, monkeypatch):
    def refuse(src, dst):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(atomic.os, "replace", refuse)
    with pytest.raises(CheckpointError, match="Permission denied"):
        save(tmp_path / "m.npz", STATE, CONFIG, TOKENIZER)
    assert files_in(tmp_path) == []


def test_saving_into_a_missing_directory_fails_cleanly(tmp_path):
    with pytest.raises(CheckpointError, match="cannot write checkpoint"):
        save(tmp_path / "no" / "m.npz", STATE, CONFIG, TOKENIZER)
    assert files_in(tmp_path) == []


@pytest.mark.parametrize("state", [
    {name: w for name, w in STATE.items() if name != "wte"},
    STATE | {"wte": np.zeros((5, 8))},
], ids=["missing weights", "wrong shape"])
def test_save_refuses_what_load_would_refuse(tmp_path, state):
    with pytest.raises(CheckpointError, match="cannot save checkpoint"):
        save(tmp_path / "m.npz", state, CONFIG, TOKENIZER)
    assert files_in(tmp_path) == []


def test_save_refuses_extra_keys_that_clash_or_need_pickle(tmp_path):
    with pytest.raises(ValueError, match="clash"):
        save(tmp_path / "m.npz", STATE, CONFIG, TOKENIZER, extra={"param.wte": np.zeros(1)})
    with pytest.raises(ValueError, match="pickle"):
        save(tmp_path / "m.npz", STATE, CONFIG, TOKENIZER, extra={"x": np.array([None])})
    assert files_in(tmp_path) == []


def test_check_can_save(tmp_path):
    assert check_can_save(tmp_path / "m.npz") == tmp_path / "m.npz"
    with pytest.raises(CheckpointError, match="no directory"):
        check_can_save(tmp_path / "no" / "m.npz")
    with pytest.raises(CheckpointError, match="is a directory"):
        check_can_save(tmp_path)
    if os.geteuid() != 0:  # root may write anywhere
        (tmp_path / "ro").mkdir(mode=0o500)
        with pytest.raises(CheckpointError, match="not writable"):
            check_can_save(tmp_path / "ro" / "m.npz")
