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
