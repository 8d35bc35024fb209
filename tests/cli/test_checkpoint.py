"""Checkpoints: the safetensors layout, save then load as the identity (property tests),
every way a file can be wrong or crafted, and the atomic write."""

from __future__ import annotations

import json
import os
import random
import re
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import safetensors.numpy
from fifo import refusal
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from microgpt.api import SettingsError, TrainSettings
from microgpt.cli.errors import UsageError
from microgpt.cli.parser import build_parser
from microgpt.data import Tokenizer
from microgpt.model import GPTConfig, init_state_dict, parameter_shapes
from microgpt.schedule import SCHEDULES
from microgpt.storage import atomic, checkpoint
from microgpt.storage.checkpoint import (
    FORMAT,
    MAX_HEADER_BYTES,
    VERSION,
    Checkpoint,
    CheckpointError,
    check_can_save,
    load,
    save,
)
from microgpt.storage.resume import TrainingState
from microgpt.train import DTYPES, Hyperparameters, OptimizerState
from microgpt.validation import num_validation_docs

CONFIG = GPTConfig(vocab_size=6, n_embd=8, n_head=2, n_layer=2, block_size=4)
TOKENIZER = Tokenizer("abcdé")  # a non-ASCII character: the vocabulary is unicode
STATE = init_state_dict(CONFIG, random.Random(1))


def moments(value: float) -> dict[str, np.ndarray]:
    return {name: np.full(shape, value) for name, shape in parameter_shapes(CONFIG).items()}


def training_state(**changes) -> TrainingState:
    rng = random.Random(5)
    rng.gauss(0, 1)  # leaves a gauss_next behind
    fields = dict(hp=Hyperparameters(steps=9, warmup=2, schedule="cosine", batch_size=4),
                  step=3, seed=7, val_fraction=0.25,
                  optimizer=OptimizerState(m=moments(1.0), v=moments(2.0), step=3),
                  rng_state=rng.getstate(), data_sha256="ab" * 32, num_docs=12,
                  losses=[3.0, 2.5, 2.25], val_history=[(2, 2.75), (3, 2.5)])
    return TrainingState(**(fields | changes))


MODEL = Checkpoint(STATE, CONFIG, TOKENIZER)
RESUMABLE = Checkpoint(STATE, CONFIG, TOKENIZER, training_state())


def files_in(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def assert_same_bits(actual: dict[str, np.ndarray], expected: dict[str, np.ndarray]) -> None:
    """The same names, and the same float64 values bit for bit (-0.0 is not 0.0)."""
    assert list(actual) == list(expected)
    for name, w in expected.items():
        assert actual[name].dtype == np.float64 and actual[name].shape == w.shape, name
        assert actual[name].tobytes() == np.ascontiguousarray(w, np.float64).tobytes(), name


def assert_same_checkpoint(actual: Checkpoint, expected: Checkpoint) -> None:
    assert actual.config == expected.config
    assert actual.tokenizer.chars == expected.tokenizer.chars
    assert_same_bits(actual.state, expected.state)
    if expected.training is None:
        assert actual.training is None
        return
    got, want = actual.training, expected.training
    for name in ("hp", "step", "seed", "val_fraction", "rng_state", "data_sha256", "num_docs",
                 "losses", "val_history"):
        assert getattr(got, name) == getattr(want, name), name
    assert got.optimizer.step == want.step
    assert_same_bits(got.optimizer.m, want.optimizer.m)
    assert_same_bits(got.optimizer.v, want.optimizer.v)


# ---- the file -----------------------------------------------------------------------------------


@pytest.mark.parametrize("saved", [MODEL, RESUMABLE], ids=["model only", "with training"])
def test_round_trip(tmp_path, saved):
    path = tmp_path / "model.ckpt"  # any name
    assert save(path, saved) == path
    assert files_in(tmp_path) == ["model.ckpt"]  # and no temporary file left behind
    assert_same_checkpoint(load(path), saved)
    assert load(path).dtype == "float64"


def test_the_file_is_plain_safetensors(tmp_path):
    """What a PyTorch or NumPy user reads with safetensors alone."""
    save(tmp_path / "m.safetensors", RESUMABLE)
    tensors = safetensors.numpy.load_file(tmp_path / "m.safetensors")
    np.testing.assert_array_equal(tensors["layer1.mlp_fc2"], STATE["layer1.mlp_fc2"])
    np.testing.assert_array_equal(tensors["optim.v.wte"], moments(2.0)["wte"])
    assert tensors["rng.state"].dtype == np.uint32
    assert tensors["rng.state"].tolist() == list(RESUMABLE.training.rng_state[1])
    assert tensors["history.val_step"].tolist() == [2, 3]
    with safetensors.safe_open(tmp_path / "m.safetensors", framework="numpy") as f:
        metadata = f.metadata()
    assert (metadata["format"], metadata["version"]) == (FORMAT, str(VERSION))
    assert json.loads(metadata["config"]) == {"vocab_size": 6, "n_embd": 8, "n_head": 2,
                                              "n_layer": 2, "block_size": 4}
    assert json.loads(metadata["vocab"]) == "abcdé"
    assert json.loads(metadata["training"])["schedule"] == "cosine"


def test_a_float32_run_is_stored_exactly_and_says_so(tmp_path):
    state32 = {name: w.astype(np.float32) for name, w in STATE.items()}
    hp = replace(training_state().hp, dtype="float32")
    save(tmp_path / "m", Checkpoint(state32, CONFIG, TOKENIZER, training_state(hp=hp)))
    loaded = load(tmp_path / "m")
    assert loaded.dtype == "float32"
    for name, w in state32.items():
        assert np.array_equal(loaded.state[name].astype(np.float32), w)


def test_a_checkpoint_gets_the_usual_permissions(tmp_path):
    """Those open() gives a new file (the temporary file it starts as is private)."""
    umask = os.umask(0o022)
    try:
        save(tmp_path / "m", MODEL)
    finally:
        os.umask(umask)
    assert (tmp_path / "m").stat().st_mode & 0o777 == 0o644


def test_save_replaces_an_existing_checkpoint_and_keeps_its_permissions(tmp_path):
    path = tmp_path / "m"
    save(path, MODEL)
    path.chmod(0o640)
    doubled = {name: 2 * w for name, w in STATE.items()}
    save(path, Checkpoint(doubled, CONFIG, TOKENIZER))
    assert_same_bits(load(path).state, doubled)
    assert files_in(tmp_path) == ["m"]
    assert path.stat().st_mode & 0o777 == 0o640


# ---- save then load is the identity -------------------------------------------------------------

finite = st.floats(allow_nan=False, allow_infinity=False)


def weights(draw, shape: tuple[int, int]) -> np.ndarray:
    """float64 or float32 values, C-ordered, Fortran-ordered or a transposed view."""
    dtype = draw(st.sampled_from([np.float64, np.float32]))
    elements = st.floats(width=np.dtype(dtype).itemsize * 8, allow_nan=False,
                         allow_infinity=False)
    layout = draw(st.sampled_from(["C", "F", "T"]))
    if layout == "T":
        return draw(hnp.arrays(dtype, shape[::-1], elements=elements)).T
    array = draw(hnp.arrays(dtype, shape, elements=elements))
    return np.asfortranarray(array) if layout == "F" else array


@st.composite
def checkpoints(draw) -> Checkpoint:
    n_head = draw(st.integers(1, 3))
    chars = sorted(draw(st.sets(st.characters(exclude_categories=("Cs",)), min_size=1,
                                max_size=6)))
    config = GPTConfig(vocab_size=len(chars) + 1, n_embd=n_head * draw(st.integers(1, 3)),
                       n_head=n_head, n_layer=draw(st.integers(1, 2)),
                       block_size=draw(st.integers(1, 5)))
    shapes = parameter_shapes(config)
    state = {name: weights(draw, shape) for name, shape in shapes.items()}
    training = draw(st.none() | training_states(config))
    return Checkpoint(state, config, Tokenizer("".join(chars)), training)


@st.composite
def training_states(draw, config: GPTConfig) -> TrainingState:
    steps = draw(st.integers(1, 30))
    step = draw(st.integers(0, steps))
    num_docs = draw(st.integers(1, 10**6))
    val_fraction = draw(st.floats(0, 1, exclude_max=True))
    train_docs = num_docs - num_validation_docs(val_fraction, num_docs)
    if train_docs < 1:
        val_fraction, train_docs = 0.0, num_docs
    hp = Hyperparameters(
        steps=steps, lr=draw(st.floats(0, exclude_min=True, allow_infinity=False)),
        beta1=draw(st.floats(0, 1, exclude_max=True)),
        beta2=draw(st.floats(0, 1, exclude_max=True)),
        eps=draw(st.floats(0, exclude_min=True, allow_infinity=False)),
        schedule=draw(st.sampled_from(SCHEDULES)), warmup=draw(st.integers(0, steps - 1)),
        batch_size=draw(st.integers(1, min(train_docs, 4))), dtype=draw(st.sampled_from(DTYPES)))
    shapes = parameter_shapes(config)
    words = draw(st.lists(st.integers(0, 2**32 - 1), min_size=624, max_size=624))
    rng_state = (random.Random.VERSION, (*words, draw(st.integers(0, 624))),
                 draw(st.none() | finite))
    val_steps = sorted(draw(st.sets(st.integers(1, step), max_size=step)) if step else [])
    return TrainingState(
        hp=hp, step=step, seed=draw(st.integers(0, 2**64 - 1)), val_fraction=val_fraction,
        optimizer=OptimizerState(
            m={name: weights(draw, shape) for name, shape in shapes.items()},
            v={name: np.abs(weights(draw, shape)) for name, shape in shapes.items()},
            step=step),
        rng_state=rng_state,
        data_sha256=draw(st.text("0123456789abcdef", min_size=64, max_size=64)),
        num_docs=num_docs, losses=draw(st.lists(finite, min_size=step, max_size=step)),
        val_history=[(s, draw(finite)) for s in val_steps])


@given(checkpoints())
def test_save_then_load_is_the_identity(tmp_path_factory, saved):
    path = tmp_path_factory.mktemp("ckpt") / "m"
    save(path, saved)
    assert_same_checkpoint(load(path), saved)


@given(st.fixed_dictionaries({
    "n_embd": st.integers(1, 5000), "n_head": st.integers(1, 64),
    "n_layer": st.integers(1, 300), "block_size": st.integers(1, 10**7),
}), st.integers(2, 10**6))
def test_a_config_the_command_line_refuses_cannot_be_loaded(options, vocab_size):
    """The loader holds a config to the command line's bounds, before any tensor is read."""
    argv = ["train"] + [f"--{name.replace('_', '-')}={value}" for name, value in options.items()]
    try:
        parsed = build_parser().parse_args(argv)
        settings = TrainSettings(**{name: getattr(parsed, name) for name in options})
        settings.model_config(vocab_size)
        accepted = True
    except (UsageError, SettingsError):
        accepted = False
    try:
        checkpoint.read_config({"vocab_size": vocab_size, **options})  # the loader's check
        loadable = True
    except ValueError:
        loadable = False
    assert loadable == accepted


# ---- files that are not (valid) checkpoints -----------------------------------------------------


def split_file(raw: bytes) -> tuple[dict, bytes]:
    size = int.from_bytes(raw[:8], "little")
    return json.loads(raw[8:8 + size]), raw[8 + size:]


def join_file(header: dict, data: bytes) -> bytes:
    text = json.dumps(header).encode()
    return len(text).to_bytes(8, "little") + text + data


def crafted(change_header=None, change_data=None, base: Checkpoint = RESUMABLE):
    """A checkpoint whose header and data region ``change_*`` changed in place."""
    def make(tmp_path: Path) -> Path:
        header, data = split_file(save(tmp_path / "good", base).read_bytes())
        if change_header:
            change_header(header)
        if change_data:
            data = change_data(header, data)
        (tmp_path / "bad").write_bytes(join_file(header, data))
        return tmp_path / "bad"
    return make


def meta(key: str, value):
    """Set metadata ``key`` to ``value`` (a string as it is, anything else as JSON)."""
    def change(header):
        header["__metadata__"][key] = value if isinstance(value, str) else json.dumps(value)
    return crafted(change)


def field(key: str, name: str, value):
    """Set field ``name`` of the metadata JSON object ``key`` (``...``: remove it)."""
    def change(header):
        obj = json.loads(header["__metadata__"][key])
        if value is ...:
            del obj[name]
        else:
            obj[name] = value
        header["__metadata__"][key] = json.dumps(obj)
    return crafted(change)


def tensor(name: str, values: np.ndarray):
    """Replace tensor ``name``'s values, keeping its dtype and shape."""
    def change_data(header, data):
        begin, end = header[name]["data_offsets"]
        return data[:begin] + values.tobytes() + data[end:]
    return crafted(change_data=change_data)


def entry(name: str, **changes):
    """Change tensor ``name``'s header entry (its dtype, shape or data_offsets)."""
    return crafted(lambda header: header[name].update(changes))


def written(content: bytes):
    def make(tmp_path: Path) -> Path:
        (tmp_path / "bad").write_bytes(content)
        return tmp_path / "bad"
    return make


def an_old_npz(tmp_path: Path) -> Path:
    np.savez(tmp_path / "old.npz", format=np.array("microgpt-checkpoint"), version=np.array(1))
    return tmp_path / "old.npz"


def a_directory(tmp_path: Path) -> Path:
    (tmp_path / "bad").mkdir()
    return tmp_path / "bad"


def rng_words(**changes) -> np.ndarray:
    words = np.array(RESUMABLE.training.rng_state[1], dtype=np.uint32)
    for index, value in changes.items():
        words[int(index[1:])] = value
    return words


NAN_MOMENTS = np.full(parameter_shapes(CONFIG)["wte"], np.nan)
BAD_FILES = {
    # ---- not a checkpoint at all
    "missing": (lambda tmp_path: tmp_path / "nothing", "No such file or directory"),
    "a directory": (a_directory, "it is a directory, not a regular file"),
    "empty": (written(b""), "not a safetensors file"),
    "text": (written(b"emma\nolivia\n"), "not a safetensors file"),
    "a header size beyond the file": (written((2**60).to_bytes(8, "little") + b"{}"),
                                      "impossible header size"),
    "a header that is not JSON": (written((4).to_bytes(8, "little") + b"{{{{"),
                                  "header is not valid JSON"),
    "a header of nested lists": (written((20001).to_bytes(8, "little") + b"[" * 10000
                                         + b"]" * 10000 + b" "), "not valid JSON"),
    "a header that is a list": (written((2).to_bytes(8, "little") + b"[]"), "not a JSON object"),
    "an old .npz checkpoint": (an_old_npz, "old .npz format, which this version no longer"),
    "another safetensors file": (written(safetensors.numpy.save({"w": np.zeros(2)})),
                                 "not a microgpt checkpoint"),
    # ---- metadata
    "a newer version": (meta("version", "3"), "format version '3'"),
    "metadata not strings": (crafted(lambda h: h["__metadata__"].update(version=2)),
                             "not a map of strings"),
    "a duplicated key": (meta("config", '{"n_embd": 8, "n_embd": 8}'), "not valid JSON"),
    "a config that is not JSON": (meta("config", "{n_embd: 8}"), "'config' is not valid JSON"),
    "a config without a field": (field("config", "n_layer", ...), "'config' must be an object"),
    "a config with one more field": (field("config", "bias", 1), "'config' must be an object"),
    "n_layer 10**8": (field("config", "n_layer", 10**8), "n_layer must be an integer in 1..128"),
    "n_embd 4096": (field("config", "n_embd", 4096), "more than the 10,000,000"),
    "vocab_size 10**8": (field("config", "vocab_size", 10**8), "more than the 10,000,000"),
    "block_size 10**9": (field("config", "block_size", 10**9), "more than the 10,000,000"),
    "a size of 5000 digits": (meta("config", '{"vocab_size": 6, "n_embd": 8, "n_head": 2, '
                                    '"n_layer": 2, "block_size": 1' + "0" * 5000 + "}"),
                              "'config' is not valid JSON"),
    "n_head not dividing n_embd": (field("config", "n_head", 3), "divisible"),
    "n_embd as a float": (field("config", "n_embd", 8.0), "n_embd must be a positive integer"),
    "n_layer as a bool": (field("config", "n_layer", True), "n_layer must be an integer"),
    "a short vocabulary": (meta("vocab", '"abcd"'), "vocabulary must be 5 characters"),
    "an unsorted vocabulary": (meta("vocab", '"bacdé"'), "sorted unique"),
    "steps beyond the bound": (field("training", "steps", 10**7 + 1), "steps must be"),
    "step -3": (field("training", "step", -3), "step must be an integer >= 0"),
    "step past the end": (field("training", "step", 10), "step 10 and warmup 2"),
    "batch_size 10**9": (field("training", "batch_size", 10**9), "batch_size 1000000000 is more"),
    "batch_size above the training docs": (field("training", "batch_size", 10),
                                           "batch_size 10 is more than its 9 training"),
    "lr -1": (field("training", "lr", -1), "lr must be a positive number, not -1"),
    "lr NaN (JSON that another writer may write)": (field("training", "lr", float("nan")),
                                                    "lr must be a positive number, not nan"),
    "beta2 1": (field("training", "beta2", 1.0), "beta2 must be a number in [0, 1)"),
    "an unknown schedule": (field("training", "schedule", "step"), "schedule must be one of"),
    "dtype float16": (field("training", "dtype", "float16"), "dtype must be one of"),
    "a negative seed": (field("training", "seed", -1), "seed must be an integer in [0, 2**64)"),
    "val_fraction 1": (field("training", "val_fraction", 1.0), "val_fraction must be"),
    "val_fraction holding out all": (field("training", "val_fraction", 0.999),
                                     "leaves none of its 12 documents"),
    "num_docs 10**12": (field("training", "num_docs", 10**12), "more than a dataset can hold"),
    "a data digest not hex": (field("training", "data_sha256", "x" * 64), "data_sha256 must be"),
    "another random version": (field("training", "rng_version", 2), "rng_version must be 3"),
    # ---- the tensors against the metadata
    "a missing weight": (crafted(lambda h: h.pop("layer1.attn_wk")), "missing: layer1.attn_wk"),
    "an unexpected tensor": (crafted(lambda h: h.update(extra=h["wte"])), "unexpected: extra"),
    "a weight of another shape": (entry("wte", shape=[6, 9]), "'wte' is F64 [6, 9], expected "
                                                              "F64 [6, 8]"),
    "a weight of 10**12 values": (entry("wpe", shape=[10**6, 10**6]), "'wpe' is F64"),
    "float32 weights": (entry("wpe", dtype="F32"), "'wpe' is F32 [4, 8], expected F64"),
    "a history of other length": (entry("history.loss", shape=[4]), "'history.loss' is F64 [4]"),
    "more validation points than steps": (entry("history.val_step", shape=[4]),
                                          "'history.val_step' is I64 [4], expected I64 [3]"),
    "overlapping tensors": (crafted(lambda h: h["wpe"].update(data_offsets=h["wte"]
                                                              ["data_offsets"])),
                            "right after the previous one"),
    "trailing bytes": (crafted(change_data=lambda h, d: d + b"\0" * 8), "something appended"),
    "truncated": (crafted(change_data=lambda h, d: d[:-8]), "truncated"),
    # ---- the values
    "NaN weights": (tensor("lm_head", np.full((6, 8), np.nan)), "weights hold NaN"),
    "NaN moments": (tensor("optim.m.wte", NAN_MOMENTS), "Adam moments hold NaN"),
    "negative second moments": (tensor("optim.v.wpe", -np.ones((4, 8))), "negative values"),
    "an infinite loss": (tensor("history.loss", np.array([3.0, np.inf, 2.0])), "values hold"),
    "a random position past the end": (tensor("rng.state", rng_words(i624=700)),
                                       "not a random state"),
    "validation steps out of order": (tensor("history.val_step", np.array([3, 2])),
                                      "must be increasing steps"),
}


@pytest.mark.parametrize("make, message", BAD_FILES.values(), ids=BAD_FILES.keys())
def test_bad_files_raise_a_one_line_error(tmp_path, make, message):
    path = make(tmp_path)
    start = time.perf_counter()
    with pytest.raises(CheckpointError, match=re.escape(message)) as error:
        load(path)
    assert time.perf_counter() - start < 5  # refused, not worked through
    assert "\n" not in str(error.value)
    assert str(path) in str(error.value)


def test_no_tensor_is_read_before_the_header_is_checked(tmp_path, monkeypatch):
    path = entry("wpe", shape=[10**6, 10**6])(tmp_path)
    monkeypatch.setattr(safetensors.numpy, "load", lambda data: pytest.fail("read tensors"))
    with pytest.raises(CheckpointError, match="'wpe' is F64"):
        load(path)


def test_a_header_larger_than_the_bound_is_not_read(tmp_path, monkeypatch):
    path = tmp_path / "big"
    with open(path, "wb") as out:  # sparse
        out.write((MAX_HEADER_BYTES + 1).to_bytes(8, "little"))
        out.truncate(MAX_HEADER_BYTES + 100)
    with pytest.raises(CheckpointError, match="impossible header size"):
        load(path)


# ---- saving -------------------------------------------------------------------------------------


def test_a_failed_write_leaves_no_file(tmp_path, monkeypatch):
    path = tmp_path / "m"
    save(path, MODEL)
    before = path.read_bytes()

    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic.os, "fsync", disk_full)
    with pytest.raises(CheckpointError, match="No space left on device"):
        save(path, Checkpoint({name: 2 * w for name, w in STATE.items()}, CONFIG, TOKENIZER))
    assert files_in(tmp_path) == ["m"]  # the temporary file is gone
    assert path.read_bytes() == before  # and the old checkpoint is untouched


@pytest.mark.parametrize("interruption", [KeyboardInterrupt, MemoryError])
def test_an_interrupted_write_leaves_no_file(tmp_path, monkeypatch, interruption):
    def interrupted(fd):
        raise interruption

    monkeypatch.setattr(atomic.os, "fsync", interrupted)
    with pytest.raises(interruption):
        save(tmp_path / "m", MODEL)
    assert files_in(tmp_path) == []


def test_a_failed_rename_leaves_no_file(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(atomic.os, "replace", refuse)
    with pytest.raises(CheckpointError, match="Permission denied"):
        save(tmp_path / "m", MODEL)
    assert files_in(tmp_path) == []


def test_saving_into_a_missing_directory_fails_cleanly(tmp_path):
    with pytest.raises(CheckpointError, match="no directory"):
        save(tmp_path / "no" / "m", MODEL)
    assert files_in(tmp_path) == []


@pytest.mark.parametrize("saved, message", [
    (Checkpoint({n: w for n, w in STATE.items() if n != "wte"}, CONFIG, TOKENIZER), "missing"),
    (Checkpoint(STATE | {"wte": np.zeros((5, 8))}, CONFIG, TOKENIZER), "'wte' is F64 [5, 8]"),
    (Checkpoint(STATE | {"wte": np.full((6, 8), np.inf)}, CONFIG, TOKENIZER), "NaN or infinite"),
    (replace(RESUMABLE, training=training_state(hp=replace(training_state().hp, lr=np.nan))),
     "Out of range float values are not JSON compliant"),
    (replace(RESUMABLE, training=training_state(num_docs=3)), "batch_size 4 is more than its 2"),
], ids=["missing weights", "wrong shape", "infinite weights", "NaN lr", "batch beyond docs"])
def test_save_refuses_what_load_would_refuse(tmp_path, saved, message):
    with pytest.raises(CheckpointError, match=re.escape(message)):
        save(tmp_path / "m", saved)
    assert files_in(tmp_path) == []


def test_check_can_save(tmp_path):
    assert check_can_save(tmp_path / "m") == tmp_path / "m"
    with pytest.raises(CheckpointError, match="no directory"):
        check_can_save(tmp_path / "no" / "m")
    with pytest.raises(CheckpointError, match="it is a directory, not a regular file"):
        check_can_save(tmp_path)
    if os.geteuid() != 0:  # root may write anywhere
        (tmp_path / "ro").mkdir(mode=0o500)
        with pytest.raises(CheckpointError, match="not writable"):
            check_can_save(tmp_path / "ro" / "m")


def test_loading_a_fifo_does_not_wait_for_a_writer(tmp_path):
    assert refusal(load, CheckpointError, tmp_path) == (
        f"cannot read checkpoint {tmp_path / 'fifo'}: it is a FIFO (named pipe), not a "
        "regular file")
