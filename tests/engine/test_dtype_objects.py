"""tensorgrad's dtype objects: one per dtype, PyTorch's attributes, and NumPy takes them as
the NumPy dtype they stand for (equal, same hash)."""

import copy
import pickle

import numpy as np
import pytest

import tensorgrad as tg

# every public dtype by its names: the first is the canonical one, the rest its aliases
NAMES = {"float16": ("half",), "float32": ("float",), "float64": ("double",),
         "int8": (), "int16": ("short",), "int32": ("int",), "int64": ("long",),
         "uint8": (), "uint16": (), "uint32": (), "uint64": (), "bool": ()}
NUMPY = {name: np.dtype(np.bool_ if name == "bool" else name) for name in NAMES}


@pytest.mark.parametrize("name", NAMES)
def test_each_dtype_is_one_object_under_all_its_names(name):
    d = getattr(tg, name)
    assert isinstance(d, tg.dtype)
    assert all(getattr(tg, alias) is d for alias in NAMES[name])
    assert tg.dtype(name if name != "bool" else "?") is d and tg.dtype(NUMPY[name]) is d
    assert tg.dtype(NUMPY[name].type) is d and tg.dtype(d) is d
    assert repr(d) == str(d) == f"tensorgrad.{name}"
    assert pickle.loads(pickle.dumps(d)) is d
    assert copy.copy(d) is d and copy.deepcopy([d])[0] is d


@pytest.mark.parametrize("name", NAMES)
def test_a_dtype_equals_and_hashes_as_its_numpy_dtype(name):
    d, numpy_dtype = getattr(tg, name), NUMPY[name]
    assert d == numpy_dtype and numpy_dtype == d and d == numpy_dtype.type
    assert numpy_dtype.type == d and (d != numpy_dtype) is False
    assert hash(d) == hash(numpy_dtype)
    assert {numpy_dtype: "found"}[d] == "found" and {d: "found"}[numpy_dtype] == "found"
    assert d in {numpy_dtype} and numpy_dtype in {d}
    others = [getattr(tg, other) for other in NAMES if other != name]
    assert all(d != other and (d == other) is False for other in others)
    assert d != np.dtype(np.complex64) and d is not None and d != None  # noqa: E711
    assert d != object()


@pytest.mark.parametrize("name", NAMES)
def test_numpy_takes_a_dtype_wherever_a_dtype_goes(name):
    d, numpy_dtype = getattr(tg, name), NUMPY[name]
    assert np.dtype(d) is numpy_dtype
    assert np.zeros(2, d).dtype is numpy_dtype and np.empty((0, 3), dtype=d).dtype is numpy_dtype
    assert np.arange(3).astype(d).dtype is numpy_dtype
    assert np.array([1, 0], dtype=d).dtype is numpy_dtype
    assert np.result_type(d, np.bool_) == numpy_dtype and np.promote_types(d, d) is numpy_dtype


@pytest.mark.parametrize("name", NAMES)
def test_a_dtype_has_pytorchs_attributes_and_numpys(name):
    d, numpy_dtype = getattr(tg, name), NUMPY[name]
    assert d.is_floating_point is (numpy_dtype.kind == "f")
    assert d.is_complex is False
    assert d.is_signed is (numpy_dtype.kind in "if")
    assert d.itemsize == numpy_dtype.itemsize
    assert (d.kind, d.name, d.char, d.type, d.str, d.byteorder, d.num) == (
        numpy_dtype.kind, numpy_dtype.name, numpy_dtype.char, numpy_dtype.type, numpy_dtype.str,
        numpy_dtype.byteorder, numpy_dtype.num)
    assert d.to_real() is d
    with pytest.raises(AttributeError):
        d.no_such_attribute  # noqa: B018


def test_to_complex_and_back():
    assert tg.float32.to_complex() == np.complex64 and tg.float64.to_complex() == np.complex128
    complex64 = tg.float32.to_complex()
    assert complex64.is_complex and complex64.is_signed and not complex64.is_floating_point
    assert complex64.to_real() is tg.float32 and complex64.to_complex() is complex64
    assert repr(complex64) == "tensorgrad.complex64"
    for d in (tg.int64, tg.bool, tg.uint8, tg.float16):  # (NumPy has no complex32)
        with pytest.raises(RuntimeError, match="no complex"):
            d.to_complex()


@pytest.mark.parametrize("shape", [(), (0,), (2, 3)])
@pytest.mark.parametrize("name", ["float32", "float64", "int64", "bool", "uint8"])
def test_a_tensors_dtype_is_the_object(name, shape):
    d = getattr(tg, name)
    x = tg.zeros(shape, dtype=d)
    assert x.dtype is d and x.clone().dtype is d
    assert x.T.dtype is d if len(shape) == 2 else True
    assert x[...].dtype is d and x.detach().dtype is d
    assert tg.tensor(x.numpy()).dtype is d and tg.from_numpy(x.numpy()).dtype is d


def test_results_of_ops_carry_the_objects():
    x = tg.ones(2, 3, dtype=tg.float32, requires_grad=True)
    y = (x.T * 2).sum(0)
    assert y.dtype is tg.float32 and (y > 0).dtype is tg.bool
    y.sum().backward()
    assert x.grad.dtype is tg.float32
    assert tg.tensor([1, 2]).dtype is tg.int64 and tg.tensor(1.5).dtype is tg.float64
    assert tg.arange(3).dtype is tg.long and tg.sin(tg.arange(3)).dtype is tg.get_default_dtype()


def test_an_unlisted_numpy_dtype_gets_an_object_too():
    big_endian = tg.from_numpy(np.ones(2, ">f4")).dtype
    assert isinstance(big_endian, tg.dtype) and big_endian == np.dtype(">f4")
    assert big_endian is tg.from_numpy(np.ones(3, ">f4")).dtype
    assert repr(big_endian) == "tensorgrad.dtype('>f4')" and big_endian != tg.float32


@pytest.mark.parametrize("kind", ["tensorgrad", "numpy", "scalar type", "name"])
def test_everything_that_takes_a_dtype_takes_both_kinds(kind):
    def given(name):
        return {"tensorgrad": getattr(tg, name), "numpy": np.dtype(name),
                "scalar type": np.dtype(name).type, "name": name}[kind]

    f32, f64 = given("float32"), given("float64")
    assert tg.zeros(2, dtype=f32).dtype is tg.float32
    assert tg.full((2,), 1, dtype=given("int16")).dtype is tg.int16
    assert tg.tensor([1.0], dtype=f32).dtype is tg.float32
    x = tg.ones(2, 2)
    assert x.to(dtype=f32).dtype is tg.float32
    if kind != "name":  # (to("float32") names a device...: as in PyTorch)
        assert x.to(f32).dtype is tg.float32 and x.to("cpu", f32).dtype is tg.float32
        assert x.type(f32).dtype is tg.float32 and x.view(given("int64")).dtype is tg.int64
    assert x.to(tg.zeros(1, dtype=f32)).dtype is tg.float32
    assert x.new_zeros(2, dtype=f32).dtype is tg.float32
    assert tg.zeros_like(x, dtype=f32).dtype is tg.float32
    assert tg.finfo(f32).eps == np.finfo(np.float32).eps and tg.iinfo(given("int8")).max == 127
    assert tg.promote_types(given("int64"), f32) is tg.float32
    assert tg.can_cast(f64, given("int32")) is False
    model = tg.nn.Linear(2, 2).to(dtype=f32)
    assert model.weight.dtype is tg.float32
    model.to(tg.device("cpu"), dtype=f64)
    assert model.weight.dtype is tg.float64
    if kind != "name":
        assert model.to(f32).weight.dtype is tg.float32
        assert model.to("cpu", f64).bias.dtype is tg.float64
    before = tg.get_default_dtype()
    try:
        tg.set_default_dtype(f32)
        assert tg.get_default_dtype() is tg.float32 and tg.ones(2).dtype is tg.float32
    finally:
        tg.set_default_dtype(before)
    assert tg.get_default_dtype() is tg.float64


def test_the_dtype_answers_are_objects():
    assert tg.get_default_dtype() is tg.float64
    assert tg.promote_types(tg.uint8, tg.int8) is tg.int16
    assert tg.result_type(tg.tensor([1, 2]), 1.5) is tg.float64
    assert tg.result_type(tg.tensor([1], dtype=tg.int8), tg.tensor(1)) is tg.int8


def test_set_default_dtype_refuses_integers_of_either_kind():
    for d in (tg.int64, np.int64):
        with pytest.raises(TypeError):
            tg.set_default_dtype(d)


def test_a_saved_tensor_loads_with_its_dtype_object(tmp_path):
    path = tmp_path / "x.pt"
    tg.save({"x": tg.ones(2, dtype=tg.float32), "y": tg.ones((), dtype=tg.uint8)}, path)
    loaded = tg.load(path)
    assert loaded["x"].dtype is tg.float32 and loaded["y"].dtype is tg.uint8
