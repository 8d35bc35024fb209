"""tensorgrad's dtype objects against torch's: attributes, names, equality of aliases,
promotion and the dtypes tensors come out with."""

import itertools

import pytest

import tensorgrad as tg

torch = pytest.importorskip("torch")

NAMES = ["float16", "half", "float32", "float", "float64", "double", "int8", "int16", "short",
         "int32", "int", "int64", "long", "uint8", "uint16", "uint32", "uint64", "bool"]


def _name(d) -> str:
    """A dtype's name without its library's prefix."""
    return str(d).split(".")[-1]


@pytest.mark.parametrize("name", NAMES)
def test_a_dtype_has_torchs_attributes(name):
    ours, theirs = getattr(tg, name), getattr(torch, name)
    assert (ours.is_floating_point, ours.is_complex, ours.is_signed, ours.itemsize) == (
        theirs.is_floating_point, theirs.is_complex, theirs.is_signed, theirs.itemsize)
    assert _name(ours) == _name(theirs) and str(ours) == "tensorgrad." + _name(theirs)
    assert repr(ours) == str(ours) and ours.abbr == theirs.abbr
    assert _name(ours.to_real()) == _name(theirs.to_real())
    try:
        their_complex = theirs.to_complex()
    except RuntimeError:  # (integers and bool)
        with pytest.raises(RuntimeError):
            ours.to_complex()
        return
    if theirs is torch.float16:  # complex32: NumPy has none
        with pytest.raises(RuntimeError):
            ours.to_complex()
        return
    complex_ = ours.to_complex()
    assert _name(complex_) == _name(their_complex)
    assert (complex_.is_complex, complex_.is_signed, complex_.itemsize) == (
        their_complex.is_complex, their_complex.is_signed, their_complex.itemsize)


@pytest.mark.parametrize(("first", "second"), list(itertools.combinations(NAMES, 2)))
def test_aliases_are_one_object_as_in_torch(first, second):
    same = getattr(torch, first) is getattr(torch, second)
    assert (getattr(tg, first) is getattr(tg, second)) == same
    assert (getattr(tg, first) == getattr(tg, second)) == same
    assert (getattr(tg, first) != getattr(tg, second)) != same


@pytest.mark.parametrize(("first", "second"), list(itertools.product(
    ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"],
    repeat=2)))
def test_promote_types_gives_torchs_dtype_object(first, second):
    ours = tg.promote_types(getattr(tg, first), getattr(tg, second))
    assert isinstance(ours, tg.dtype)
    assert _name(ours) == _name(torch.promote_types(getattr(torch, first), getattr(torch, second)))
    zero_d = tg.result_type(tg.ones(2, dtype=getattr(tg, first)), tg.ones((), dtype=getattr(
        tg, second)))
    assert _name(zero_d) == _name(torch.result_type(
        torch.ones(2, dtype=getattr(torch, first)), torch.ones((), dtype=getattr(torch, second))))


@pytest.fixture
def torchs_default_dtype():
    """tensorgrad's default dtype set to torch's (float32) for the test."""
    before = tg.get_default_dtype()
    tg.set_default_dtype(tg.float32)
    yield
    tg.set_default_dtype(before)


@pytest.mark.parametrize("name", ["float16", "float32", "float64", "int8", "int16", "int32",
                                  "int64", "uint8", "bool"])
def test_tensors_come_out_in_the_dtype_torchs_do(name, torchs_default_dtype):
    values = [[1, 0], [3, 2]]
    ours = tg.tensor(values, dtype=getattr(tg, name))
    theirs = torch.tensor(values, dtype=getattr(torch, name))
    for make in (lambda m, x: x.T, lambda m, x: x[:, :1], lambda m, x: x.sum(),
                 lambda m, x: x * 2, lambda m, x: x / 2, lambda m, x: x > 1,
                 lambda m, x: m.zeros_like(x), lambda m, x: x.float(), lambda m, x: x.long()):
        ours_out, theirs_out = make(tg, ours), make(torch, theirs)
        assert ours_out.dtype is getattr(tg, _name(theirs_out.dtype))
        assert ours_out.dtype.is_floating_point == theirs_out.dtype.is_floating_point
        assert ours_out.dtype.is_signed == theirs_out.dtype.is_signed
        assert ours_out.element_size() == theirs_out.element_size() == ours_out.dtype.itemsize


def test_finfo_and_iinfo_take_dtype_objects_as_torchs():
    for name in ("float16", "float32", "float64"):
        ours, theirs = tg.finfo(getattr(tg, name)), torch.finfo(getattr(torch, name))
        assert (ours.eps, ours.max, ours.tiny, ours.bits) == (
            theirs.eps, theirs.max, theirs.tiny, theirs.bits)
    for name in ("uint8", "int8", "int16", "int32", "int64"):
        ours_i, theirs_i = tg.iinfo(getattr(tg, name)), torch.iinfo(getattr(torch, name))
        assert (ours_i.min, ours_i.max, ours_i.bits) == (theirs_i.min, theirs_i.max, theirs_i.bits)


def test_default_dtype_is_an_object_as_torchs():
    assert isinstance(tg.get_default_dtype(), tg.dtype)
    assert isinstance(torch.get_default_dtype(), torch.dtype)
    before = tg.get_default_dtype()
    try:
        tg.set_default_dtype(tg.float32)
        assert tg.get_default_dtype() is tg.float32
        assert _name(tg.tensor(1.5).dtype) == _name(torch.tensor(1.5).dtype)
    finally:
        tg.set_default_dtype(before)
