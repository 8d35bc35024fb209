"""tensorgrad.save and tensorgrad.load: exact round trips of checkpoints, whole-or-nothing
writes, and a clear ValueError for every file that is not one of ours (nothing unpickled)."""

import io
import json
import math
import os
import pickle
import re
import struct
from collections import OrderedDict

import numpy as np
import pytest
import safetensors.numpy

import tensorgrad as torch
import tensorgrad.nn as nn
from tensorgrad import serialization


def round_trip(obj, **load_args):
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    buffer.seek(0)
    return torch.load(buffer, **load_args)


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return (a.dtype == b.dtype and a.shape == b.shape
            and a.tobytes() == np.ascontiguousarray(b).tobytes())


# ---- values -------------------------------------------------------------------------------------


def test_python_values_keep_their_kinds():
    obj = {
        "none": None, "true": True, "one": 1, "big": 2**100, "minus": -7, "float": 1.0,
        "tiny": 5e-324, "negative_zero": -0.0, "inf": math.inf, "minus_inf": -math.inf,
        "text": "naïve ☃", "list": [1, [2, (3,)]], "tuple": (1, "a", None), "empty": ([], (), {}),
        0: "int key", 1.5: "float key", True: "bool key", None: "None key", (1, ("a",)): "tuple",
        "odict": OrderedDict([("b", 1), ("a", 2)]),
    }
    back = round_trip(obj)
    assert back == obj and list(back) == list(obj)
    for key, value in obj.items():
        assert type(back[key]) is type(value)
    assert [type(k) for k in back] == [type(k) for k in obj]
    assert math.copysign(1, back["negative_zero"]) == -1
    assert type(back["odict"]) is OrderedDict and list(back["odict"]) == ["b", "a"]
    assert [type(x) for x in back["empty"]] == [list, tuple, dict]
    assert math.isnan(round_trip(math.nan))
    assert round_trip(None) is None and round_trip("top") == "top"


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16, np.int64, np.int32,
                                   np.int16, np.int8, np.uint8, np.bool_])
@pytest.mark.parametrize("shape", [(), (0,), (2, 0, 3), (3,), (2, 3, 4)])
def test_tensors_and_arrays_come_back_bit_for_bit(dtype, shape):
    rng = np.random.default_rng(0)
    array = np.asarray(rng.standard_normal(shape) * 50).astype(dtype)
    back = round_trip({"t": torch.from_numpy(array), "a": array})
    assert type(back["t"]) is torch.Tensor and same_bits(back["t"].numpy(), array)
    assert type(back["a"]) is np.ndarray and same_bits(back["a"], array)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_layouts_and_special_floats(dtype):
    base = np.arange(60, dtype=dtype).reshape(3, 4, 5)
    base.flat[:4] = [np.nan, np.inf, -np.inf, -0.0]
    # a NaN with a payload of its own: the bits, not just NaN-ness, must survive
    bits = np.uint32 if dtype == np.float32 else np.uint64
    base.view(bits).flat[4] = base.view(bits).flat[0] | 5
    views = [base, np.asfortranarray(base), base.transpose(2, 0, 1), base[::2, 1:, ::-2],
             base[1], base[:, 2, 3]]
    back = round_trip([torch.tensor(v) for v in views] + views)
    for got, view in zip(back, views + views):
        got = got.numpy() if isinstance(got, torch.Tensor) else got
        assert same_bits(got, view)
        assert got.flags.c_contiguous and got.flags.writeable


def test_big_endian_arrays_come_back_as_the_same_numbers():
    array = np.arange(6, dtype=">f8").reshape(2, 3)
    back = round_trip(array)
    assert back.dtype == np.float64 and np.array_equal(back, array)


def test_loaded_tensors_are_new_leaves_with_their_requires_grad():
    x = torch.randn(3, requires_grad=True)
    y = x * 2  # not a leaf: loads as one
    frozen = torch.randn(2)
    back = round_trip({"x": x, "y": y, "frozen": frozen, "weight": nn.Parameter(torch.ones(2)),
                       "fixed": nn.Parameter(torch.ones(2), requires_grad=False)})
    for name in ("x", "y"):
        assert back[name].requires_grad and back[name].is_leaf and back[name].grad_fn is None
    assert not back["frozen"].requires_grad
    assert type(back["weight"]) is nn.Parameter and back["weight"].requires_grad
    assert type(back["fixed"]) is nn.Parameter and not back["fixed"].requires_grad
    assert np.array_equal(back["y"].detach().numpy(), y.detach().numpy())
    back["x"].sum().backward()
    assert x.grad is None and np.array_equal(np.asarray(back["x"].grad), np.ones(3))
    # a copy: writing to what was loaded leaves what was saved alone
    back["frozen"].data[0] = 99.0
    assert frozen.numpy()[0] != 99.0


def test_numpy_scalars_keep_their_type():
    back = round_trip([np.float32(1.5), np.int64(-3), np.bool_(True), np.float64(np.nan)])
    assert [type(v) for v in back] == [np.float32, np.int64, np.bool_, np.float64]
    assert back[:3] == [1.5, -3, True] and np.isnan(back[3])


def test_shared_tensors_are_stored_twice_and_load_as_two():
    shared = torch.ones(2)
    back = round_trip({"a": shared, "b": shared})
    assert back["a"] is not back["b"]
    assert np.array_equal(back["a"].numpy(), back["b"].numpy())


# ---- what cannot be saved -----------------------------------------------------------------------


@pytest.mark.parametrize(("obj", "where"), [
    ({"config": {"fn": print}}, "obj['config']['fn']"),
    ([1, (2, {3})], "obj[1][1]"),
    ({0: [object()]}, "obj[0][0]"),
    ({"z": np.array([1 + 2j])}, "obj['z']"),
    ({"s": np.array(["a"])}, "obj['s']"),
    ({"o": np.array([None])}, "obj['o']"),
    ({"k": {frozenset(): 1}}, "obj['k']"),
    ({"k": {(1, frozenset()): 1}}, "obj['k']"),
    (bytearray(b"x"), "obj"),
])
def test_values_of_other_kinds_raise_type_error_naming_where(obj, where):
    with pytest.raises(TypeError, match=f"^{re.escape(where)} "):
        torch.save(obj, io.BytesIO())


def test_subclasses_of_the_containers_are_refused():
    class Config(dict):
        pass

    with pytest.raises(TypeError, match=r"^obj\['c'\] is a Config"):
        torch.save({"c": Config()}, io.BytesIO())


def test_cycles_and_deep_nesting_raise_value_error():
    loop: list = [1]
    loop.append(loop)
    with pytest.raises(ValueError, match=r"obj\[1\] contains itself"):
        torch.save(loop, io.BytesIO())
    deep: list = []
    for _ in range(5000):
        deep = [deep]
    with pytest.raises(ValueError, match="nested too deeply"):
        torch.save(deep, io.BytesIO())


# ---- files --------------------------------------------------------------------------------------


def test_paths_and_open_files(tmp_path):
    obj = {"w": torch.arange(4.0), "epoch": 3}
    torch.save(obj, str(tmp_path / "a.pt"))
    torch.save(obj, tmp_path / "b.pt")
    with open(tmp_path / "c.pt", "wb") as file:
        torch.save(obj, file)
    for name in ("a.pt", "b.pt", "c.pt"):
        for source in (str(tmp_path / name), tmp_path / name):
            back = torch.load(source)
            assert back["epoch"] == 3 and np.array_equal(back["w"].numpy(), [0, 1, 2, 3])
        with open(tmp_path / name, "rb") as file:
            assert torch.load(file)["epoch"] == 3
    assert sorted(os.listdir(tmp_path)) == ["a.pt", "b.pt", "c.pt"]


def test_a_stream_of_saves_loads_back_in_order():
    buffer = io.BytesIO(b"xyz")
    buffer.seek(3)
    for step in range(3):
        torch.save({"step": step, "t": torch.full((step,), float(step))}, buffer)
    buffer.seek(3)
    assert [torch.load(buffer)["step"] for _ in range(3)] == [0, 1, 2]
    assert buffer.read() == b""


def test_a_failing_save_leaves_the_old_file_as_it_was(tmp_path, monkeypatch):
    path = tmp_path / "run.pt"
    torch.save({"epoch": 1, "w": torch.ones(3)}, path)
    before = path.read_bytes()
    # fails half-way through the object: after a tensor, at a function
    with pytest.raises(TypeError, match=r"obj\['later'\]\['fn'\]"):
        torch.save({"w": torch.zeros(3), "later": {"fn": len}}, path)
    assert path.read_bytes() == before

    def failing_fsync(fd):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(OSError, match="disk full"):
        torch.save({"epoch": 2, "w": torch.zeros(3)}, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["run.pt"]  # no temporary file left behind
    monkeypatch.undo()
    torch.save({"epoch": 2}, path)
    assert torch.load(path) == {"epoch": 2} and os.listdir(tmp_path) == ["run.pt"]


def test_bad_destinations_and_sources(tmp_path):
    with pytest.raises(RuntimeError, match="Parent directory .* does not exist"):
        torch.save(1, tmp_path / "missing" / "x.pt")
    with pytest.raises(TypeError, match="save\\(\\) writes to a path or a binary file"):
        torch.save(1, 3)
    with pytest.raises(TypeError, match="load\\(\\) reads a path or a binary file"):
        torch.load(3)
    torch.save(1, tmp_path / "x.pt")
    with open(tmp_path / "x.pt", encoding="latin-1") as text, \
            pytest.raises(TypeError, match="open it in binary mode"):
        torch.load(text)
    with pytest.raises(FileNotFoundError):
        torch.load(tmp_path / "nothing.pt")


def test_map_location_weights_only_and_pickle_arguments():
    obj = {"t": torch.ones(2)}
    for where in (None, "cpu", torch.device("cpu"), "cpu:0", {"cuda:0": "cpu"},
                  lambda storage, location: storage):
        assert np.array_equal(round_trip(obj, map_location=where)["t"].numpy(), [1, 1])
    for flag in (None, True, False):
        assert round_trip(obj, weights_only=flag, mmap=flag, encoding="latin1")["t"].shape == (2,)
    for where in ("cuda", "cuda:0", 1, {"cpu": "cuda:1"}):
        with pytest.raises(RuntimeError, match="CPU only"):
            round_trip(obj, map_location=where)
    with pytest.raises(TypeError, match="map_location"):
        round_trip(obj, map_location=2.5)
    with pytest.raises(TypeError, match="unexpected keyword argument 'strict'"):
        round_trip(obj, strict=True)
    torch.save(obj, io.BytesIO(), pickle_protocol=4, _use_new_zipfile_serialization=False)


# ---- files that are not ours --------------------------------------------------------------------


def ours(tree, arrays=None, metadata=None, tree_text=None):
    """A safetensors file with ``tree`` (JSON-ready, or its text) as its tensorgrad structure."""
    meta = {"format": "tensorgrad", "version": "1",
            "tree": json.dumps(tree) if tree_text is None else tree_text}
    return safetensors.numpy.save(arrays or {}, metadata=meta | (metadata or {}))


def raw_file(header: dict, data: bytes = b"") -> bytes:
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + data


def load_bytes(data: bytes):
    return torch.load(io.BytesIO(data))


def test_pytorch_checkpoints_are_refused_unread(tmp_path):
    path = tmp_path / "x.pt"
    for data in (pickle.dumps({"a": 1}, protocol=2), b"PK\x03\x04" + bytes(200)):
        path.write_bytes(data)
        with pytest.raises(ValueError, match=r"x\.pt is not a tensorgrad save file \(PyTorch's "
                                             r"pickled checkpoints are not read: nothing is "
                                             r"unpickled\)"):
            torch.load(path)


def test_a_pickle_that_would_run_code_is_never_run(tmp_path):
    class Boom:
        def __reduce__(self):
            return (os.mkdir, (str(tmp_path / "ran"),))

    with pytest.raises(ValueError, match="nothing is unpickled"):
        load_bytes(pickle.dumps(Boom()))
    assert not (tmp_path / "ran").exists()


@pytest.mark.parametrize("data", [b"", b"\x00" * 3, bytes(range(256)) * 4,
                                  struct.pack("<Q", 1 << 40) + b"{}",
                                  struct.pack("<Q", 100) + b"{}", b"garbage!" * 10])
def test_random_short_and_impossible_bytes(data):
    with pytest.raises(ValueError, match="^the BytesIO is not a tensorgrad save file"):
        load_bytes(data)


def test_every_truncation_of_a_save_file_is_an_error():
    buffer = io.BytesIO()
    torch.save({"w": torch.randn(2, 3), "b": np.arange(4), "epoch": 3}, buffer)
    data = buffer.getvalue()
    for cut in range(len(data)):
        with pytest.raises(ValueError, match="^the BytesIO is (not|a damaged) "):
            load_bytes(data[:cut])


def test_a_header_that_claims_more_than_the_file_holds_takes_no_memory():
    entry = {"dtype": "F64", "shape": [1 << 47], "data_offsets": [0, 1 << 50]}
    data = raw_file({"__metadata__": {"format": "tensorgrad", "version": "1",
                                      "tree": '{"ndarray": "0"}'}, "0": entry}, bytes(64))
    with pytest.raises(ValueError, match="truncated: 64 of its 1125899906842624 data bytes"):
        load_bytes(data)


def test_the_header_size_is_capped(monkeypatch):
    good = ours({"list": []})
    monkeypatch.setattr(serialization, "MAX_HEADER_BYTES", 16)
    with pytest.raises(ValueError, match="impossible header size"):
        load_bytes(good)


@pytest.mark.parametrize(("data", "message"), [
    (safetensors.numpy.save({"w": np.ones(2)}), "a safetensors file but not a tensorgrad "
                                                "save file"),
    (safetensors.numpy.save({}, metadata={"format": "other"}), "not a tensorgrad save file"),
    (ours(1, metadata={"version": "2"}), "format version '2'; this tensorgrad reads version 1"),
    (raw_file([1]), "header is not a JSON object"),
    (struct.pack("<Q", 4) + b"{{{{", "header is not valid JSON"),
    (struct.pack("<Q", 2) + b"\xff\xfe", "header is not valid JSON"),
    (raw_file({"__metadata__": {"format": "tensorgrad", "version": "1"}}), "holds no tree"),
    (raw_file({"__metadata__": {"format": "tensorgrad", "version": "1", "tree": "1"},
               "0": {"dtype": "F64", "shape": [1]}}), "entry '0' has no valid data offsets"),
    (raw_file({"__metadata__": {"format": "tensorgrad", "version": "1", "tree": "1"},
               "0": {"dtype": "F64", "shape": [2], "data_offsets": [0, 8]}}, bytes(8)),
     "safetensors cannot read it"),
    (raw_file({"__metadata__": {"format": "tensorgrad", "version": "1", "tree": "{"}}),
     "its tree is not valid JSON"),
    (ours({"set": [1]}), "cannot read \\('set'\\)"),
    (ours(1.5), "its tree holds float"),
    (ours([1]), "its tree holds list"),
    (ours({}), "its tree holds dict"),
    (ours({"float": "one"}), "the float 'one'"),
    (ours({"float": 1.0}), "cannot read"),
    (ours({"list": [1], "tuple": []}), "cannot read"),
    (ours({"dict": [[1, 2, 3]]}), "not a pair"),
    (ours({"dict": [[{"list": []}, 1]]}), "dict key of type list"),
    (ours({"dict": [[{"tuple": [{"list": []}]}, 1]]}), "dict key of type list"),
    (ours({"dict": [[{"ndarray": "0"}, 1]]}, {"0": np.ones(1)}), "'0' that is not there"),
    (ours({"ndarray": "1"}, {"0": np.ones(1)}), "array '1' that is not there"),
    (ours({"ndarray": 0}, {"0": np.ones(1)}), "array '0' that is not there"),
    (ours({"ndarray": [0]}, {"0": np.ones(1)}), "array '\\[0\\]' that is not there"),
    (ours({"list": [{"ndarray": "0"}, {"ndarray": "0"}]}, {"0": np.ones(1)}), "'0' twice"),
    (ours({"list": []}, {"0": np.ones(1)}), "arrays its tree never names: \\['0'\\]"),
    (ours({"tensor": "0"}, {"0": np.ones(1)}), "cannot read"),
    (ours({"tensor": "0", "requires_grad": 1}, {"0": np.ones(1)}), "cannot read"),
    (ours({"tensor": "0", "requires_grad": True}, {"0": np.ones(1, np.int64)}),
     "int64 tensor that requires grad"),
    (ours({"scalar": "0"}, {"0": np.ones(2)}), "NumPy scalar of shape \\(2,\\)"),
    (ours(None, tree_text='{"list": [' * 100_000 + "]}" * 100_000), "not valid JSON"),
])
def test_damaged_and_foreign_files_raise_value_error(data, message):
    with pytest.raises(ValueError, match=message):
        load_bytes(data)


# ---- a training run, interrupted and resumed ----------------------------------------------------


def make_run():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05, amsgrad=True)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.1, total_steps=10)
    return model, optimizer, scheduler


def train(model, optimizer, scheduler, steps, start):
    x = torch.linspace(-1, 1, 30).reshape(10, 3)
    losses = []
    for step in range(start, start + steps):
        loss = ((model(x * (step + 1)) - 0.5) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
    return losses


def test_a_resumed_run_computes_the_same_numbers_bit_for_bit(tmp_path):
    model, optimizer, scheduler = make_run()
    straight = train(model, optimizer, scheduler, 6, 0)

    model, optimizer, scheduler = make_run()
    first = train(model, optimizer, scheduler, 3, 0)
    torch.save({"model": model.state_dict(), "opt": optimizer.state_dict(),
                "sched": scheduler.state_dict(), "epoch": 3, "loss": first[-1]},
               tmp_path / "run.pt")
    del model, optimizer, scheduler

    checkpoint = torch.load(tmp_path / "run.pt", map_location="cpu", weights_only=True)
    model, optimizer, scheduler = make_run()
    train(model, optimizer, scheduler, 1, 7)  # different state, to be overwritten
    assert repr(model.load_state_dict(checkpoint["model"])) == "<All keys matched successfully>"
    optimizer.load_state_dict(checkpoint["opt"])
    scheduler.load_state_dict(checkpoint["sched"])
    assert checkpoint["epoch"] == 3 and checkpoint["loss"] == first[-1]
    resumed = train(model, optimizer, scheduler, 3, checkpoint["epoch"])
    assert first + resumed == straight  # exact equality of floats


def test_a_save_through_a_symbolic_link_replaces_the_file_it_points_to(tmp_path):
    target = tmp_path / "real.pt"
    torch.save({"a": 1}, target)
    link = tmp_path / "link.pt"
    link.symlink_to(target)
    torch.save({"a": 2}, link)
    assert link.is_symlink() and torch.load(target) == {"a": 2} == torch.load(link)


def test_a_save_to_a_directory_raises_before_writing_anything(tmp_path, monkeypatch):
    (tmp_path / "run").mkdir()
    opened = []
    monkeypatch.setattr(os, "open", lambda *args, **kwargs: opened.append(args))
    with pytest.raises(IsADirectoryError):
        torch.save({"a": 1}, tmp_path / "run")
    monkeypatch.undo()
    assert opened == []  # not even a temporary file beside it
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
    assert list((tmp_path / "run").iterdir()) == []
