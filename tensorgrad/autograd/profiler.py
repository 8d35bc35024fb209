"""torch.autograd.profiler's names: ``profile`` (PyTorch's older profiler, a context manager)
and ``record_function`` (a named range in what a profiler records), with the recording that
both profilers (this one and ``tensorgrad.profiler.profile``) run on::

    with tensorgrad.autograd.profiler.profile() as prof:
        with tensorgrad.autograd.profiler.record_function("step"):
            loss = model(x).sum()
        loss.backward()
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=10))

While a profiler records, each op is timed: ``Function.apply`` is swapped for a timed one,
and put back when the last profiler stops, so the engine pays nothing while no profiler runs
(speed: ``Function.apply`` is tuned instruction by instruction). Each op's backward is timed
through ``tensor.profiling_backward``, which backward() checks once an op: it spans from the
moment backward() reaches the op to the moment it reaches the next (the op's backward and the
summing of its gradients), named as the op with "Backward" after it (``MulBackward``). Ops
that a captured step replays (``capture.py``) run no ``apply`` and are not seen.
"""

from __future__ import annotations

import contextlib
import importlib
import itertools
import sys
import threading
import time
from time import perf_counter_ns
from types import FrameType, TracebackType
from typing import Any

import numpy as np

from ..grad_mode import get_ident
from ..tensor import Context, Function, Tensor
from .profiler_util import Clock, EventList, FunctionEvent, FunctionEventAvg

__all__ = ["EventList", "FunctionEvent", "FunctionEventAvg", "profile", "record_function"]

# the engine's module (``tensorgrad.tensor`` is also the name of a function, which
# ``from .. import tensor`` would give once the package is loaded)
_engine: Any = importlib.import_module("..tensor", __package__)

_ENGINE_APPLY = Function.__dict__["apply"]  # the classmethod, put back when profiling ends
_engine_apply = _ENGINE_APPLY.__func__
_next_id = itertools.count(1).__next__
_lock = threading.Lock()  # (profilers start and stop on any thread)


class _Session:
    """What the running recordings share: the ranges closed so far, in the order they
    closed, and each thread's open ranges, innermost last, with the frame of the backward
    pass that opened each (None: not a backward op)."""

    def __init__(self) -> None:
        self.clock = Clock(perf_counter_ns(), time.time_ns())
        self.log: list[FunctionEvent] = []
        self.stacks: dict[int, list[tuple[FunctionEvent, object]]] = {}
        self.native_ids: dict[int, int] = {}
        self.recordings = self.shapes_wanted = self.memory_wanted = 0


_session: _Session | None = None  # while at least one profiler records


def _open(session: _Session, name: str, args: tuple[Any, ...] | None = None,
          annotation: bool = False, trace_name: str | None = None,
          owner: object = None) -> FunctionEvent:
    """A range begun now on this thread, inside the ranges open on it."""
    ident = get_ident()
    stack = session.stacks.get(ident)
    if stack is None:
        stack = session.stacks[ident] = []
        session.native_ids[ident] = threading.get_native_id()
    elif stack and stack[-1][1] is not None:  # inside a backward op's range: is it running?
        _drop_ended_passes(stack)
    shapes = None
    if args is not None and session.shapes_wanted:
        shapes = [list(a._data.shape) if isinstance(a, Tensor) else [] for a in args]
    event = FunctionEvent(_next_id(), name, session.native_ids[ident], perf_counter_ns(),
                          session.clock, shapes, annotation, trace_name)
    stack.append((event, owner))
    return event


def _close(event: FunctionEvent, end_ns: int | None = None) -> bool:
    """End ``event`` now (or at ``end_ns``) and log it; False if it is not open on this
    thread in the running session (a profiler stopped, or started, since it began)."""
    end = perf_counter_ns() if end_ns is None else end_ns
    session = _session
    if session is None or event.clock is not session.clock:
        return False
    stack = session.stacks.get(get_ident())
    if not stack:
        return False
    depth = len(stack) - 1
    while depth >= 0 and stack[depth][0] is not event:
        depth -= 1
    if depth < 0:
        return False
    # (ranges still open above it were left by an exception in a backward pass: dropped)
    del stack[depth:]
    event.end_ns = end
    if stack:
        parent = stack[-1][0]
        event.cpu_parent = parent
        parent.cpu_children.append(event)
    session.log.append(event)
    return True


def _timed_apply(cls: type[Function], *args: Any) -> Any:
    """``Function.apply`` while a profiler records: the op, timed as a range of its name."""
    session = _session
    if session is None:  # (the profiler stopped on another thread)
        return _engine_apply(cls, *args)
    event = _open(session, cls.__name__, args)
    out = None
    try:
        out = _engine_apply(cls, *args)
        return out
    finally:
        if _close(event) and session.memory_wanted:
            event.cpu_memory_usage = _bytes_made(out, args)


def _bytes_made(out: Any, args: tuple[Any, ...]) -> int:
    """The bytes of an op's new results: a view of an argument makes none."""
    if isinstance(out, (tuple, list)):
        return sum(_bytes_made(x, args) for x in out)
    if not isinstance(out, Tensor):
        return 0
    data = out._data
    if any(isinstance(a, Tensor) and np.may_share_memory(data, a._data) for a in args):
        return 0
    return data.nbytes


def _backward_reached(fn: Context | None) -> None:
    """backward() reached ``fn``'s op (None: the pass ended): end the range of the op it
    reached before in this pass, and begin ``fn``'s. A pass is known by its frame (the
    caller's), which runs until the pass ends (a pass may run inside an op's backward)."""
    session = _session
    if session is None:
        return
    now = perf_counter_ns()
    this_pass = sys._getframe(1)
    stack = session.stacks.get(get_ident())
    if stack:
        for event, owner in reversed(stack):
            if owner is this_pass:
                _close(event, now)
                break
    if fn is not None:
        _open(session, f"{fn.function.__name__}Backward", owner=this_pass)


def _drop_ended_passes(stack: list[tuple[FunctionEvent, object]]) -> None:
    """Drop the open ranges of backward passes that no longer run: an exception ended them
    between two ops (their frame is not among the running ones)."""
    running = set()
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        running.add(id(frame))
        frame = frame.f_back
    # (a range's frame is held by the range: its id is no other frame's)
    stack[:] = [entry for entry in stack if entry[1] is None or id(entry[1]) in running]


class _Recording:
    """One profiler's time of recording: the ranges closed between ``start`` and ``stop``
    that began after ``start``."""

    def __init__(self, record_shapes: bool, profile_memory: bool) -> None:
        global _session
        self.record_shapes, self.profile_memory = record_shapes, profile_memory
        with _lock:
            session = _session
            if session is None:
                session = _session = _Session()
                setattr(Function, "apply", classmethod(_timed_apply))  # noqa: B010 (a method)
                _engine.profiling_backward = _backward_reached
            session.recordings += 1
            session.shapes_wanted += record_shapes
            session.memory_wanted += profile_memory
        self.session = session
        self.first = len(session.log)
        self.start_ns = perf_counter_ns()

    def stop(self) -> list[FunctionEvent]:
        """End the recording; its ranges, in the order they began."""
        global _session
        session = self.session
        events = [event for event in session.log[self.first:] if event.start_ns >= self.start_ns]
        with _lock:
            session.recordings -= 1
            session.shapes_wanted -= self.record_shapes
            session.memory_wanted -= self.profile_memory
            if session.recordings == 0:
                setattr(Function, "apply", _ENGINE_APPLY)  # noqa: B010 (a method)
                _engine.profiling_backward = None
                _session = None
        events.sort(key=lambda event: (event.start_ns, -event.end_ns))
        return events


def open_range(name: str, trace_name: str | None = None) -> FunctionEvent | None:
    """Begin a range named ``name`` on this thread if a profiler records (else None): what
    ``record_function`` does, for the profilers' own ranges (``ProfilerStep*``)."""
    session = _session
    return None if session is None else _open(session, name, annotation=True,
                                              trace_name=trace_name)


def close_range(event: FunctionEvent | None) -> None:
    """End a range that ``open_range`` began."""
    if event is not None:
        _close(event)


class record_function(contextlib.ContextDecorator):  # noqa: N801 (PyTorch's name)
    """A named range in what a profiler records, as a context manager or a decorator; it
    shows in ``key_averages()`` and the trace, its ops inside it. No cost without a profiler::

        with tensorgrad.profiler.record_function("attention"):
            y = attn(x)

        @tensorgrad.profiler.record_function("loss")
        def compute_loss(...): ...
    """

    def __init__(self, name: str, args: str | None = None) -> None:
        self.name, self.args = name, args
        self._open: list[FunctionEvent | None] = []  # (a decorated function may recurse)

    def __enter__(self) -> record_function:
        self._open.append(open_range(self.name))
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        if not self._open:
            raise AssertionError(f"record_function({self.name!r}) exited without being "
                                 "entered")
        close_range(self._open.pop())


class profile:  # noqa: N801 (PyTorch's name)
    """Record every op (and ``record_function`` range) run inside the block: PyTorch's older
    profiler, ``torch.autograd.profiler.profile``. After the block, ``function_events`` holds
    them, ``key_averages()`` averages them by name, ``table()`` prints them and
    ``export_chrome_trace(path)`` writes them for chrome://tracing. ``record_shapes`` keeps
    the ops' argument shapes, ``profile_memory`` the bytes of their results; the other
    options (the devices', ``with_stack``, ``with_flops``, ``with_modules``) are accepted for
    PyTorch's scripts and record nothing more. With ``enabled=False`` nothing is recorded::

        with tensorgrad.autograd.profiler.profile() as prof:
            y = (x * 2).sum()
        print(prof.key_averages().table(sort_by="cpu_time_total"))
    """

    def __init__(self, enabled: bool = True, *, use_cuda: bool = False,
                 use_device: str | None = None, record_shapes: bool = False,
                 with_flops: bool = False, profile_memory: bool = False,
                 with_stack: bool = False, with_modules: bool = False, use_kineto: bool = False,
                 use_cpu: bool = True, experimental_config: Any = None, acc_events: bool = False,
                 custom_trace_id_callback: Any = None, post_processing_timeout_s: Any = None,
                 activity_filters: Any = None) -> None:
        self.enabled = enabled
        self.record_shapes, self.profile_memory = record_shapes, profile_memory
        self.with_stack, self.with_flops, self.with_modules = with_stack, with_flops, with_modules
        self.acc_events = acc_events
        self.entered = False
        self._recording: _Recording | None = None
        self._events: list[FunctionEvent] = []

    def __enter__(self) -> profile:
        if not self.enabled:
            return self
        if self.entered:
            raise RuntimeError("this profiler is recording already: a profile is not "
                               "reentrant (make another)")
        self._start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        if self.enabled:
            self._stop()

    def _start(self) -> None:
        self.entered = True
        self._recording = _Recording(self.record_shapes, self.profile_memory)

    def _stop(self) -> None:
        recording, self._recording = self._recording, None
        if recording is None:
            return
        events = recording.stop()
        self._events = self._events + events if self.acc_events else events
        self.entered = False

    @property
    def function_events(self) -> EventList:
        """The ranges recorded, in the order they began (none until the block ends)."""
        return EventList(self._events, profile_memory=self.profile_memory)

    def key_averages(self, group_by_input_shape: bool = False, group_by_stack_n: int = 0,
                     group_by_overload_name: bool = False) -> EventList:
        """The ranges averaged by name: see ``EventList.key_averages``."""
        return self.function_events.key_averages(group_by_input_shape, group_by_stack_n,
                                                 group_by_overload_name)

    def table(self, sort_by: str | None = None, row_limit: int = 100,
              max_src_column_width: int = 75, max_name_column_width: int = 55,
              max_shapes_column_width: int = 80, header: str | None = None,
              top_level_events_only: bool = False, time_unit: str | None = None) -> str:
        """The ranges, one row each (not averaged): see ``EventList.table``."""
        return self.function_events.table(sort_by, row_limit, max_src_column_width,
                                          max_name_column_width, max_shapes_column_width,
                                          header, top_level_events_only, time_unit)

    def export_chrome_trace(self, path: str) -> None:
        """Write the ranges to ``path`` as a Chrome trace: see ``EventList.export_chrome_trace``."""
        self.function_events.export_chrome_trace(path)

    def total_average(self) -> FunctionEventAvg:
        """All the ranges added up into one average."""
        return self.function_events.total_average()

    @property
    def self_cpu_time_total(self) -> float:
        """The time of all the ranges, in microseconds (their self times added up)."""
        return self.function_events.self_cpu_time_total

    def __str__(self) -> str:
        return self.table()
