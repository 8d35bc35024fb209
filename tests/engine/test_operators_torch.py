"""Python's operators on tensors held against PyTorch's: the shifts (``<<``, ``>>`` and their
functions), subtraction and division of booleans, and every augmented assignment (``x //= y``
and the rest), which must write into the tensor itself. Skipped without torch."""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest
from torch_compare import assert_same

import tensorgrad

torch = pytest.importorskip("torch")

INTEGERS = ["uint8", "int8", "int16", "int32", "int64"]


def _pair(values, dtype):
    """The same values as a tensorgrad and a torch tensor of ``dtype``."""
    array = np.asarray(values).astype(dtype)
    return tensorgrad.tensor(array), torch.tensor(array)


def _outcome(compute):
    """``compute()``'s result, or the type of what it raised."""
    try:
        return compute()
    except Exception as error:  # noqa: BLE001 (the type is the outcome compared)
        return type(error)


# ---- shifts ----------------------------------------------------------------------------------

# amounts inside and outside each type's width, negative ones too
AMOUNTS = [0, 1, 3, 7, 8, 9, 15, 16, 31, 32, 33, 63, 64, 65, 200, -1, -8, -64]


@pytest.mark.parametrize("dtype", INTEGERS)
@pytest.mark.parametrize("left", [True, False], ids=["lshift", "rshift"])
def test_shifts_by_every_amount_match_torch(dtype, left):
    values = [0, 1, 5, 100, 127, -1, -5, -100, -128] if dtype != "uint8" else [0, 1, 5, 100, 200,
                                                                              255]
    ours, theirs = _pair(np.repeat(values, len(AMOUNTS)), dtype)
    amounts = np.tile(np.array(AMOUNTS), len(values))
    if dtype == "uint8":  # (PyTorch reads a negative uint8 amount as its wrapped value)
        amounts = amounts.astype(np.int64) % 256
    our_amounts, their_amounts = _pair(amounts, dtype)
    if left:
        assert_same(ours << our_amounts, theirs << their_amounts, f"{dtype} <<")
    else:
        assert_same(ours >> our_amounts, theirs >> their_amounts, f"{dtype} >>")


@pytest.mark.parametrize("amount", [0, 2, 63, 64, 100, -1])
@pytest.mark.parametrize("left", [True, False], ids=["lshift", "rshift"])
def test_shifts_by_a_number_and_of_a_number_match_torch(amount, left):
    ours, theirs = _pair([[1, -7, 40], [3, 0, -1]], "int64")
    for name, mine, yours in [
            ("tensor, int", lambda: ours << amount if left else ours >> amount,
             lambda: theirs << amount if left else theirs >> amount),
            ("int, tensor", lambda: 1000 << ours.abs() if left else 1000 >> ours.abs(),
             lambda: 1000 << theirs.abs() if left else 1000 >> theirs.abs()),
            ("function", lambda: (tensorgrad.bitwise_left_shift if left else
                                  tensorgrad.bitwise_right_shift)(ours, amount),
             lambda: (torch.bitwise_left_shift if left else torch.bitwise_right_shift)(
                 theirs, amount)),
            ("method", lambda: ours.bitwise_left_shift(amount) if left else
             ours.bitwise_right_shift(amount),
             lambda: theirs.bitwise_left_shift(amount) if left else
             theirs.bitwise_right_shift(amount))]:
        assert_same(mine(), yours(), f"{name} by {amount}")


def test_shifts_promote_and_broadcast_as_torch():
    ours, theirs = _pair([[1], [2]], "int8")
    our_amounts, their_amounts = _pair([1, 2, 3], "uint8")
    assert_same(ours << our_amounts, theirs << their_amounts, "int8 << uint8: int16")
    assert_same(ours >> tensorgrad.tensor(1), theirs >> torch.tensor(1), "a 0-d amount")
    empty, their_empty = _pair(np.zeros((0, 3)), "int32")
    assert_same(empty << 2, their_empty << 2, "size 0")
    with pytest.raises(RuntimeError):
        tensorgrad.ones(2, dtype=tensorgrad.int64) << tensorgrad.ones(3, dtype=tensorgrad.int64)


@pytest.mark.parametrize("make", [
    lambda lib: lib.ones(2) << 1,
    lambda lib: lib.ones(2, dtype=lib.int64) >> 1.5,
    lambda lib: lib.tensor([True]) << lib.tensor([True]),
    lambda lib: lib.ones(2, dtype=lib.float32).bitwise_right_shift(1),
], ids=["float", "by a float", "bools", "float32 method"])
def test_shifts_of_floats_and_booleans_refuse_as_torch(make):
    theirs = _outcome(lambda: make(torch))
    assert theirs is NotImplementedError
    with pytest.raises(NotImplementedError):
        make(tensorgrad)


# ---- booleans in arithmetic ------------------------------------------------------------------

BOOL_SUBTRACTIONS = {
    "bool - bool": lambda lib, b, i: b - b,
    "bool - int": lambda lib, b, i: b - i,
    "int - bool": lambda lib, b, i: i - b,
    "bool - 1": lambda lib, b, i: b - 1,
    "1 - bool": lambda lib, b, i: 1 - b,
    "bool - 1.5": lambda lib, b, i: b - 1.5,
    "int - True": lambda lib, b, i: i - True,
    "float - bool": lambda lib, b, i: i.double() - b,
    "sub(int, bool)": lambda lib, b, i: lib.sub(i, b),
    "rsub(bool, 1)": lambda lib, b, i: lib.rsub(b, 1),
    "int.sub_(bool)": lambda lib, b, i: i.clone().sub_(b),
    "int -= bool": lambda lib, b, i: i.clone().__isub__(b),
}


@pytest.mark.parametrize("case", BOOL_SUBTRACTIONS)
def test_subtracting_booleans_refuses_with_torchs_message(case):
    compute = BOOL_SUBTRACTIONS[case]
    with pytest.raises(RuntimeError) as theirs:
        compute(torch, torch.tensor([True, False]), torch.tensor([1, 2]))
    with pytest.raises(RuntimeError) as ours:
        compute(tensorgrad, tensorgrad.tensor([True, False]), tensorgrad.tensor([1, 2]))
    assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("name", ["floor_divide", "remainder", "fmod"])
def test_integer_division_of_booleans_refuses_as_torch(name):
    with pytest.raises(NotImplementedError) as theirs:
        getattr(torch, name)(torch.tensor([True]), torch.tensor([True]))
    with pytest.raises(NotImplementedError) as ours:
        getattr(tensorgrad, name)(tensorgrad.tensor([True]), tensorgrad.tensor([True]))
    assert str(ours.value) == str(theirs.value)
    # a boolean with an integer is integer arithmetic, in both
    assert_same(getattr(tensorgrad, name)(tensorgrad.tensor([True, False]), 3),
                getattr(torch, name)(torch.tensor([True, False]), 3), name)


# ---- augmented assignment writes into the tensor --------------------------------------------

AUGMENTED = {
    "//=": (lambda x, y: x.__ifloordiv__(y), "float64", 3),
    "%=": (lambda x, y: x.__imod__(y), "float64", 3),
    "**=": (lambda x, y: x.__ipow__(y), "float64", 2),
    "&=": (lambda x, y: x.__iand__(y), "int64", 6),
    "|=": (lambda x, y: x.__ior__(y), "int64", 6),
    "^=": (lambda x, y: x.__ixor__(y), "int64", 6),
    "<<=": (lambda x, y: x.__ilshift__(y), "int64", 2),
    ">>=": (lambda x, y: x.__irshift__(y), "int64", 1),
    "bitwise_left_shift_": (lambda x, y: x.bitwise_left_shift_(y), "int64", 3),
    "bitwise_right_shift_": (lambda x, y: x.bitwise_right_shift_(y), "int64", 3),
}


@pytest.mark.parametrize("case", AUGMENTED)
def test_augmented_assignment_writes_into_the_tensor_as_torch(case):
    apply, dtype, other = AUGMENTED[case]
    values = np.array([[7, -3, 12], [5, 0, 9]])
    ours, theirs = _pair(values, dtype)
    held, their_held = ours, theirs  # another name for the same tensor
    view, their_view = ours[0], theirs[0]  # and a view of it
    result, their_result = apply(ours, other), apply(theirs, other)
    assert result is ours and their_result is theirs
    assert_same(held, their_held, f"{case}: the tensor")
    assert_same(view, their_view, f"{case}: a view of it")


def test_augmented_assignment_keeps_the_dtype_or_refuses_as_torch():
    for make in (lambda lib: lib.tensor([4, 6]).__ifloordiv__(1.5),
                 lambda lib: lib.tensor([4, 6]).__ipow__(0.5),
                 lambda lib: lib.tensor([True]).__ilshift__(1)):
        theirs, ours = _outcome(partial(make, torch)), _outcome(partial(make, tensorgrad))
        assert isinstance(theirs, type) and ours is theirs
    ours, theirs = _pair([200, 3], "uint8")
    ours <<= 1
    theirs <<= 1
    assert_same(ours, theirs, "uint8 <<= 1 wraps")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_power_in_place_is_an_op_of_the_graph_as_torch(dtype):
    values = np.array([[0.5, -1.5], [2.0, 3.0]], dtype)
    grads = []
    for lib in (tensorgrad, torch):
        x = lib.tensor(values, requires_grad=True)
        y = x * 1
        y **= 3
        y %= 2.5
        (y * lib.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=y.dtype)).sum().backward()
        grads.append((y, x.grad))
    assert_same(grads[0][0], grads[1][0], "values", 1e-6)
    assert_same(grads[0][1], grads[1][1], "gradient", 1e-6)
    leaf = tensorgrad.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        leaf **= 2


BOOL_REFUSALS = {
    "+x": lambda lib, b: +b,
    "positive": lambda lib, b: lib.positive(b),
    "abs": lambda lib, b: abs(b),
    "absolute": lambda lib, b: b.absolute(),
    "relu": lambda lib, b: lib.relu(b),
    "F.relu": lambda lib, b: lib.nn.functional.relu(b),
    "relu_": lambda lib, b: b.clone().relu_(),
    "argmax": lambda lib, b: b.argmax(),
    "argmin along 0": lambda lib, b: lib.argmin(b, 0),
}


@pytest.mark.parametrize("case", BOOL_REFUSALS)
def test_ops_without_a_boolean_kernel_refuse_as_torch(case):
    compute = BOOL_REFUSALS[case]
    theirs = _outcome(partial(compute, torch, torch.tensor([True, False])))
    ours = _outcome(partial(compute, tensorgrad, tensorgrad.tensor([True, False])))
    assert isinstance(theirs, type) and ours is theirs
    # on integers they compute, in both
    assert_same(compute(tensorgrad, tensorgrad.tensor([3, -2])),
                compute(torch, torch.tensor([3, -2])), case)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("dims", [1, 2])
def test_max_pool_modules_return_the_indices_as_torch(dtype, dims):
    values = np.random.default_rng(dims).standard_normal((2, 3) + (6,) * dims).astype(dtype)
    results = []
    for lib in (tensorgrad, torch):
        pool = (lib.nn.MaxPool1d if dims == 1 else lib.nn.MaxPool2d)(2, stride=2, padding=1,
                                                                     return_indices=True)
        x = lib.tensor(values, requires_grad=True)
        out, where = pool(x)
        out.sum().backward()
        results.append((out, where, x.grad))
    for ours, theirs, what in zip(results[0], results[1], ("values", "indices", "gradient")):
        assert_same(ours, theirs, what)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_module_matches_torch(dtype, mode):
    weights = np.random.default_rng(5).standard_normal((10, 4)).astype(dtype)
    ids, offsets = np.array([1, 2, 4, 5, 4, 3, 2, 9]), np.array([0, 3, 3, 6])
    results = []
    for lib in (tensorgrad, torch):
        bag = lib.nn.EmbeddingBag.from_pretrained(lib.tensor(weights), freeze=False, mode=mode,
                                                  padding_idx=3)
        out = bag(lib.tensor(ids), lib.tensor(offsets))
        (out * lib.tensor(np.arange(out.numel()).reshape(tuple(out.shape)), dtype=out.dtype)
         ).sum().backward()
        results.append((out, bag.weight.grad, repr(bag), list(bag.state_dict())))
    assert_same(results[0][0], results[1][0], f"{mode}: values", 1e-6)
    assert_same(results[0][1], results[1][1], f"{mode}: weight gradient", 1e-6)
    assert results[0][2:] == results[1][2:]
    with pytest.raises(ValueError, match="mode has to be one of"):
        tensorgrad.nn.EmbeddingBag(3, 2, mode="median")
