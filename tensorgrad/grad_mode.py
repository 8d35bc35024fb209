"""Whether ops record a graph: on by default and per thread, as PyTorch's grad mode is.

``no_grad()``, ``enable_grad()`` and ``inference_mode()`` work as context managers and as
decorators; ``set_grad_enabled(mode)`` sets the mode at once, and as a context manager
restores the previous one on exit. Each changes the mode of the calling thread only. As
decorators of a generator function they set the mode each time the generator resumes and
restore the caller's at each ``yield``, as PyTorch's do.

The mode is kept as the set of threads that turned recording off, not in a
``threading.local``: every op asks for the mode, and an empty set (the usual case while
training) answers without looking the thread up.
"""

from __future__ import annotations

import functools
import inspect
import threading
from collections.abc import Callable, Generator
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

get_ident = threading.get_ident
disabled_threads: set[int] = set()  # the threads in which ops record no graph; never rebound
_thread_local = threading.local()


class _Forget:
    """Lives in the local storage of a thread that turned recording off. That storage goes
    when the thread ends, and with it this, which takes the thread out of ``disabled_threads``: a
    thread started later may be given the same ident, and it must start recording."""

    __slots__ = ("ident", "disabled")

    def __init__(self, ident: int) -> None:
        self.ident = ident
        self.disabled = disabled_threads  # held: at exit the main thread's goes after the globals

    def __del__(self) -> None:
        self.disabled.discard(self.ident)


def is_grad_enabled() -> bool:
    """True if ops in this thread record a graph for ``backward()``."""
    return not disabled_threads or get_ident() not in disabled_threads


def is_inference_mode_enabled() -> bool:
    """True inside ``inference_mode()`` (not ``inference_mode(False)``) in this thread; not
    inside ``no_grad()``, as PyTorch's."""
    return getattr(_thread_local, "inference", False)


def _set(mode: bool) -> bool:
    """Set this thread's mode; return the previous one."""
    ident = get_ident()
    previous = ident not in disabled_threads
    if mode:
        disabled_threads.discard(ident)
    else:
        disabled_threads.add(ident)
        if not hasattr(_thread_local, "forget"):
            _thread_local.forget = _Forget(ident)
    return previous


def _decorated(switch: Callable[[], Any], function: F) -> F:
    """``function`` run inside a fresh ``switch()`` block on each call (calls may nest or
    run in threads); a generator function's generator inside one on each resume, so that
    the code between its ``yield``s runs in the mode and its caller's code in its own."""
    if inspect.isgeneratorfunction(function):
        @functools.wraps(function)
        def resumed(*args: Any, **kwargs: Any) -> Generator[Any, Any, Any]:
            generator = function(*args, **kwargs)
            resume, value = generator.send, None
            try:
                while True:
                    with switch():
                        item = resume(value)
                    try:
                        value, resume = (yield item), generator.send
                    except GeneratorExit:
                        with switch():
                            generator.close()
                        raise
                    except BaseException as error:  # thrown in by the caller: passed on
                        value, resume = error, generator.throw
            except StopIteration as stop:
                return stop.value

        return resumed  # type: ignore[return-value]  # (a generator function, as given)

    @functools.wraps(function)
    def switched(*args: Any, **kwargs: Any) -> Any:
        with switch():
            return function(*args, **kwargs)

    return switched  # type: ignore[return-value]  # (a function of the same signature)


class _Switch:
    """Sets the mode on entering a block (or calling the decorated function), restores it after."""

    mode: bool

    def __new__(cls, function: Callable | None = None) -> Any:
        """``@no_grad`` without parentheses decorates ``function`` at once, as in PyTorch."""
        switch = super().__new__(cls)
        return switch if function is None else switch(function)

    def __enter__(self) -> None:
        self._previous = _set(self.mode)

    def __exit__(self, *exc_info: object) -> None:
        _set(self._previous)

    def __call__(self, function: F) -> F:
        return _decorated(type(self), function)


class no_grad(_Switch):  # noqa: N801 (PyTorch's name)
    """Ops inside record no graph: their results do not require grad."""

    mode = False


class enable_grad(_Switch):  # noqa: N801 (PyTorch's name)
    """Ops inside record a graph, even within ``no_grad()``."""

    mode = True


class inference_mode:  # noqa: N801 (PyTorch's name)
    """Ops inside record no graph, as in ``no_grad()`` (PyTorch's faster form of it, which
    here is the same); ``inference_mode(False)`` records, as ``enable_grad()``. A context
    manager or a decorator, with or without parentheses."""

    mode: bool

    def __new__(cls, mode: Any = True) -> Any:
        switch = super().__new__(cls)
        switch.mode = True if callable(mode) else bool(mode)
        return switch(mode) if callable(mode) else switch

    def __enter__(self) -> None:
        self._previous = _set(not self.mode)
        self._previous_inference = is_inference_mode_enabled()
        _thread_local.inference = self.mode

    def __exit__(self, *exc_info: object) -> None:
        _set(self._previous)
        _thread_local.inference = self._previous_inference

    def __call__(self, function: F) -> F:
        mode = self.mode
        return _decorated(lambda: inference_mode(mode), function)


class set_grad_enabled:  # noqa: N801 (PyTorch's name)
    """Turn recording on or off in this thread now; as a context manager, until the block ends."""

    def __init__(self, mode: bool) -> None:
        self.mode = bool(mode)
        self._previous = _set(self.mode)

    def __call__(self, function: F) -> F:
        """As a decorator (as PyTorch's): the mode only while ``function`` runs."""
        _set(self._previous)  # undo the switch __init__ made
        mode = self.mode
        return _decorated(lambda: set_grad_enabled(mode), function)

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc_info: object) -> None:
        _set(self._previous)
