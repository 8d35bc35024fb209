"""Misuse the engine must refuse rather than answer wrongly, as PyTorch does: grad-mode
decorators on generators, ``.grad`` of the wrong shape or dtype, a ``Function`` whose forward
returns what a ``Tensor`` cannot hold, arrays written through ``numpy()`` while a graph
needs them."""

from __future__ import annotations

import numpy as np
import pytest

import tensorgrad as tg
from tensorgrad import Function, Tensor, enable_grad, is_grad_enabled, no_grad, optim


@pytest.fixture(autouse=True)
def recording_on_afterwards():
    """A test that fails with recording off must not pass that on."""
    yield
    tg.set_grad_enabled(True)


# ---- grad-mode decorators on generator functions --------------------------------------------

DECORATORS = {
    "no_grad()": (lambda: no_grad(), False),
    "no_grad": (lambda: no_grad, False),
    "set_grad_enabled(False)": (lambda: tg.set_grad_enabled(False), False),
    "enable_grad()": (lambda: enable_grad(), True),
    "set_grad_enabled(True)": (lambda: tg.set_grad_enabled(True), True),
}


def modes_seen(decorator, outside: bool) -> tuple[list[bool], list[bool], object]:
    """Drive a decorated generator from code running in mode ``outside``: the modes seen inside
    at each resume, those seen by the caller between them, and its return value."""
    inside = []

    @decorator
    def numbers(n):
        total = 0
        for i in range(n):
            inside.append(is_grad_enabled())
            total += yield i
        inside.append(is_grad_enabled())
        return total

    between = []
    with tg.set_grad_enabled(outside):
        generator = numbers(3)
        between.append(is_grad_enabled())  # made, not started
        value = next(generator)
        try:
            while True:
                between.append(is_grad_enabled())
                value = generator.send(value * 10)
        except StopIteration as stop:
            returned = stop.value
        between.append(is_grad_enabled())
    return inside, between, returned


@pytest.mark.parametrize("name", DECORATORS)
@pytest.mark.parametrize("outside", [True, False])
def test_a_decorated_generator_runs_in_the_mode_and_its_caller_in_its_own(name, outside):
    make, mode = DECORATORS[name]
    inside, between, returned = modes_seen(make(), outside)
    assert inside == [mode] * 4
    assert between == [outside] * 5
    assert returned == 0 + 10 + 20  # sent values and the return value pass through


def test_a_no_grad_generator_records_no_graph_and_its_caller_does():
    x = Tensor([1.0, 2.0], requires_grad=True)

    @no_grad()
    def doubled():
        while True:
            yield x * 2.0

    results = doubled()
    assert not next(results).requires_grad
    assert (x * 2.0).requires_grad  # between resumes: the caller's mode
    assert not next(results).requires_grad


def test_a_thrown_exception_and_close_reach_the_generator_in_its_mode():
    seen = []

    @no_grad()
    def guarded():
        try:
            yield 1
        except KeyError:
            seen.append(("caught", is_grad_enabled()))
            yield 2
        finally:
            seen.append(("finally", is_grad_enabled()))

    generator = guarded()
    next(generator)
    assert generator.throw(KeyError("k")) == 2 and is_grad_enabled()
    generator.close()
    assert seen == [("caught", False), ("finally", False)] and is_grad_enabled()
    with pytest.raises(ValueError, match="raised"):
        unstarted = guarded()
        next(unstarted)
        unstarted.throw(ValueError("raised"))
    assert is_grad_enabled()


def test_generator_decorators_match_pytorch():
    torch = pytest.importorskip("torch")
    for ours, theirs in [(no_grad, torch.no_grad), (enable_grad, torch.enable_grad)]:
        for outside in (True, False):
            seen = []
            for engine, decorator in [(tg, ours), (torch, theirs)]:
                def probe(engine=engine):
                    return [engine.is_grad_enabled()]

                @decorator()
                def generator(probe=probe):
                    yield probe()
                    yield probe()

                with engine.set_grad_enabled(outside):
                    made = generator()
                    seen.append([*next(made), *probe(), *next(made), *probe()])
            assert seen[0] == seen[1]


# ---- what a Function's forward may return ----------------------------------------------------


def returning(result):
    """A Function whose forward returns ``result`` (a callable of the input array)."""

    class Returns(Function):
        @staticmethod
        def forward(ctx, x):
            return result(x)

        @staticmethod
        def backward(ctx, grad):
            return grad

    return Returns


REFUSED_DATA = {  # what Tensor(...) refuses, returned by a forward
    "str": lambda x: "abc",
    "str array": lambda x: np.array(["a", "b"]),
    "bytes array": lambda x: np.array([b"a"]),
    "object array": lambda x: np.array([object()]),
    "complex array": lambda x: x + 1j,
    "complex64 array": lambda x: x.astype(np.complex64),
    "complex number": lambda x: 1j,
    "numpy complex": lambda x: np.complex128(1j),
    "datetime array": lambda x: np.array(["2026-01-01"], dtype="datetime64[D]"),
}
NOT_ONE_RESULT = {  # a Function here has one output: one array, or a number
    "None": lambda x: None,
    "tuple": lambda x: (x, x),
    "list of arrays": lambda x: [x, x],
    "list of numbers": lambda x: [1.0, 2.0],
    "dict": lambda x: {"x": x},
}


@pytest.mark.parametrize("name", REFUSED_DATA)
@pytest.mark.parametrize("grad", [True, False])
def test_a_forward_returning_data_a_tensor_refuses_raises_naming_the_op(name, grad):
    for data in (np.array([1.0, 2.0]), np.array([1.0, 2.0], np.float32)):
        with pytest.raises(TypeError, match=r"Returns\.forward returned .* a Tensor holds "
                                            "numbers or booleans"):
            with tg.set_grad_enabled(grad):
                returning(REFUSED_DATA[name]).apply(Tensor(data, requires_grad=True))
        with pytest.raises(TypeError):  # as Tensor(...) itself does
            Tensor(REFUSED_DATA[name](data))


@pytest.mark.parametrize("name", NOT_ONE_RESULT)
def test_a_forward_returning_other_than_one_result_raises_naming_the_op(name):
    with pytest.raises(TypeError, match=r"Returns\.forward returned a .*: it returns one array"):
        returning(NOT_ONE_RESULT[name]).apply(Tensor([1.0, 2.0], requires_grad=True))


@pytest.mark.parametrize("result, dtype, grad", [
    (lambda x: x.sum(), np.float64, True),  # a NumPy scalar
    (lambda x: 2.5, np.float64, True),
    (lambda x: 3, np.int64, False),
    (lambda x: True, np.bool_, False),
    (lambda x: x > 1, np.bool_, False),
    (lambda x: x.astype(np.float16), np.float16, True),
    (lambda x: x.astype(">f8"), ">f8", True),  # another byte order: not float64 itself
    (lambda x: Tensor(x * 2), np.float64, True),
    (lambda x: np.empty((0, 3)), np.float64, True),
])
def test_a_forward_may_return_numbers_and_arrays_of_numbers(result, dtype, grad):
    out = returning(result).apply(Tensor([1.0, 2.0], requires_grad=True))
    assert isinstance(out.data, np.ndarray) and out.dtype == dtype
    assert out.requires_grad is grad


@pytest.mark.parametrize("operand", [np.array([1j]), np.array(["a"]), np.array([object()])])
def test_a_built_in_op_refuses_an_array_a_tensor_could_not_hold(operand):
    x = Tensor([1.0], requires_grad=True)
    for op in (lambda: x + operand, lambda: operand * x, lambda: x - operand):
        with pytest.raises(TypeError, match="a tensor op takes tensors, arrays and numbers"):
            op()
