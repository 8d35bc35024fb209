"""torch.profiler's names: ``profile`` with its ``schedule`` of steps, ``record_function``,
``ProfilerActivity``, ``tensorboard_trace_handler``. A training loop profiles as in PyTorch::

    with tensorgrad.profiler.profile(
            schedule=tensorgrad.profiler.schedule(wait=1, warmup=1, active=3),
            on_trace_ready=tensorgrad.profiler.tensorboard_trace_handler("./log")) as prof:
        for batch in data:
            train_step(batch)
            prof.step()

Each ``step()`` asks the schedule what the next step is (``ProfilerAction``): not recorded,
warming up, recorded, or recorded and the last of its window, after which ``on_trace_ready``
gets the profiler, whose ``key_averages()``, ``events()`` and ``export_chrome_trace()`` hold
that window. The ops are timed on the CPU, by ``tensorgrad.autograd.profiler``'s recording.
"""

from __future__ import annotations

import enum
import os
import warnings
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any

from .autograd import profiler as _autograd_profiler
from .autograd.profiler import record_function
from .autograd.profiler_util import DeviceType, EventList

__all__ = ["DeviceType", "ProfilerAction", "ProfilerActivity", "kineto_available", "profile",
           "record_function", "schedule", "supported_activities", "tensorboard_trace_handler"]


class ProfilerActivity(enum.Enum):
    """What a profiler records: tensorgrad has the CPU's ops; the devices' are PyTorch's names,
    accepted and left out (with a warning)."""

    CPU = 0
    XPU = 1
    CUDA = 2
    HPU = 3
    MTIA = 4
    PrivateUse1 = 5


class ProfilerAction(enum.Enum):
    """What a schedule makes of a step: not recorded, warming up (the steps before recording),
    recorded, or recorded as the last step of its window (then the window is handed over)."""

    NONE = 0
    WARMUP = 1
    RECORD = 2
    RECORD_AND_SAVE = 3


_RECORDING = (ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE)


def supported_activities() -> set[ProfilerActivity]:
    """The activities tensorgrad's profiler records: the CPU's."""
    return {ProfilerActivity.CPU}


def kineto_available() -> bool:
    """Whether PyTorch's Kineto library is there: never, in tensorgrad."""
    return False


def schedule(*, wait: int, warmup: int, active: int, repeat: int = 0, skip_first: int = 0,
             skip_first_wait: int = 0) -> Callable[[int], ProfilerAction]:
    """The steps a profiler records, as PyTorch's: after ``skip_first`` steps, cycles of
    ``wait`` steps not recorded, ``warmup`` steps of warming up and ``active`` recorded ones,
    the last of which ends the window (RECORD_AND_SAVE); ``repeat`` cycles (0: no end).
    ``skip_first_wait`` skips the first cycle's wait. Negative counts, or ``active`` < 1,
    raise AssertionError; no warmup warns (PyTorch's results can skew without one)::

        steps = schedule(wait=1, warmup=1, active=2, repeat=1)
        [steps(i).name for i in range(5)]
        # ['NONE', 'WARMUP', 'RECORD', 'RECORD_AND_SAVE', 'NONE']
    """
    if wait < 0 or warmup < 0 or active <= 0 or repeat < 0 or skip_first < 0:
        raise AssertionError(f"schedule() needs wait, warmup, repeat and skip_first >= 0 and "
                             f"active > 0: got wait={wait}, warmup={warmup}, active={active}, "
                             f"repeat={repeat}, skip_first={skip_first}")
    if warmup == 0:
        warnings.warn("a schedule without warmup steps: the first recorded step may be "
                      "slower than the others (Profiler won't be using warmup)", stacklevel=2)
    cycle = wait + warmup + active

    def action_of(step: int) -> ProfilerAction:
        if step < 0:
            raise AssertionError(f"a schedule's step is >= 0, not {step}")
        if step < skip_first:
            return ProfilerAction.NONE
        # steps into the cycles (the first wait skipped: as if it had passed)
        into = step - skip_first + (wait if skip_first_wait else 0)
        if repeat and into >= repeat * cycle:
            return ProfilerAction.NONE
        place = into % cycle
        if place < wait:
            return ProfilerAction.NONE
        if place < wait + warmup:
            return ProfilerAction.WARMUP
        return ProfilerAction.RECORD_AND_SAVE if place == cycle - 1 else ProfilerAction.RECORD

    return action_of


def _always_record(step: int) -> ProfilerAction:
    """Without a schedule: every step is recorded, in one window that the stop ends."""
    return ProfilerAction.RECORD


def tensorboard_trace_handler(dir_name: str, worker_name: str | None = None,
                              use_gzip: bool = False, use_python_export: bool = False
                              ) -> Callable[[Any], None]:
    """An ``on_trace_ready`` that writes each window as a Chrome trace into ``dir_name``
    (made if missing), named ``{worker_name}.{milliseconds}.pt.trace.json`` (".gz" with
    ``use_gzip``), which TensorBoard's profiler plugin reads. ``worker_name`` is
    "{host}_{pid}" unless given. Each file appears whole: written beside, renamed in."""

    def handler(prof: Any) -> None:
        import socket
        import time

        if not os.path.isdir(dir_name):
            try:
                os.makedirs(dir_name, exist_ok=True)
            except OSError as error:
                raise RuntimeError(f"cannot make the trace directory {dir_name}") from error
        worker = worker_name or f"{socket.gethostname()}_{os.getpid()}"
        millis = time.time_ns() // 1_000_000
        while True:  # (two windows in one millisecond: the second a millisecond on)
            path = os.path.join(dir_name, f"{worker}.{millis}.pt.trace.json"
                                + (".gz" if use_gzip else ""))
            if not os.path.exists(path):
                break
            millis += 1
        prof.export_chrome_trace(path)

    return handler


class profile:  # noqa: N801 (PyTorch's name)
    """Profile a block, or the steps of a loop with a ``schedule``, as ``torch.profiler.profile``.

    Without a schedule every op from ``start()`` (or the ``with``) to ``stop()`` is recorded,
    and ``on_trace_ready(prof)`` is called once at the stop. With one, ``step()`` marks each
    step's end, each recorded step is a range named ``ProfilerStep*``, and ``on_trace_ready``
    is called as each window ends (``step_num`` is the step the profiler is at). In it and after
    the stop, ``key_averages()``, ``events()`` and ``export_chrome_trace(path)`` read the last
    window (every window with ``acc_events=True``). ``record_shapes`` keeps the ops' argument
    shapes and ``profile_memory`` the bytes of their results; the other options
    (``with_stack``, ``with_flops``, ``with_modules``, ...) are accepted for PyTorch's scripts
    and record nothing more. ``activities`` other than ``ProfilerActivity.CPU`` warn and are
    left out (tensorgrad runs on the CPU); without the CPU's, start() raises AssertionError::

        with tensorgrad.profiler.profile(record_shapes=True) as prof:
            model(x).sum().backward()
        print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=10))
    """

    def __init__(self, *, activities: Iterable[ProfilerActivity] | None = None,
                 schedule: Callable[[int], ProfilerAction] | None = None,
                 on_trace_ready: Callable[..., Any] | None = None, record_shapes: bool = False,
                 profile_memory: bool = False, with_stack: bool = False,
                 with_flops: bool = False, with_modules: bool = False,
                 experimental_config: Any = None, execution_trace_observer: Any = None,
                 acc_events: bool = False, use_cuda: bool | None = None,
                 custom_trace_id_callback: Callable[[], str] | None = None,
                 post_processing_timeout_s: float | None = None) -> None:
        if activities is None:
            self.activities = supported_activities()
        else:
            self.activities = {a for a in activities if isinstance(a, ProfilerActivity)}
            if not self.activities:
                raise AssertionError("profile(activities=...) names no ProfilerActivity")
        if use_cuda:
            self.activities.add(ProfilerActivity.CUDA)
        self.record_shapes, self.profile_memory = record_shapes, profile_memory
        self.with_stack, self.with_flops, self.with_modules = with_stack, with_flops, with_modules
        self.acc_events = acc_events
        self.record_steps = schedule is not None
        self.schedule: Callable[[int], ProfilerAction] = (
            schedule if schedule is not None else _always_record)
        self.on_trace_ready = on_trace_ready
        self.step_num = 0
        self.current_action = self.schedule(0)
        # the recording of the window (the last one, once it ended); None before the first
        self.profiler: _autograd_profiler.profile | None = None
        self._step_range: Any = None

    def __enter__(self) -> profile:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()

    def start(self) -> None:
        """Begin at step ``step_num`` (0): record it if the schedule says so."""
        self._move(ProfilerAction.NONE, self.current_action)
        self._begin_step()

    def stop(self) -> None:
        """End: a window being recorded ends (``on_trace_ready`` gets it)."""
        self._end_step()
        self._move(self.current_action, None)

    def step(self) -> None:
        """Mark the end of a step: the schedule says what the next one is."""
        self._end_step()
        before = self.current_action
        self.step_num += 1
        self.current_action = self.schedule(self.step_num)
        self._move(before, self.current_action)
        self._begin_step()

    def _begin_step(self) -> None:
        if self.record_steps:
            self._step_range = _autograd_profiler.open_range(
                "ProfilerStep*", trace_name=f"ProfilerStep#{self.step_num}")

    def _end_step(self) -> None:
        step_range, self._step_range = self._step_range, None
        _autograd_profiler.close_range(step_range)

    def _move(self, before: ProfilerAction, after: ProfilerAction | None) -> None:
        """Go from one step's action to the next's (None: the profiler stops): a window
        ends after its RECORD_AND_SAVE step, or at the stop, and is handed to
        ``on_trace_ready``; a window cut short by the schedule (recording, then not) warns and
        is dropped. A new window begins at the first warmup or recorded step after none."""
        if before is ProfilerAction.RECORD_AND_SAVE or (before is ProfilerAction.RECORD
                                                        and after is None):
            self.stop_trace()
            if self.on_trace_ready is not None:
                self.on_trace_ready(self)
            before = ProfilerAction.NONE
        elif before is ProfilerAction.RECORD and after in (ProfilerAction.NONE,
                                                           ProfilerAction.WARMUP):
            warnings.warn(f"Incorrect schedule: RECORD followed by {after.name}: the window "
                          "ends without its RECORD_AND_SAVE step and is not handed over",
                          stacklevel=3)
            self.stop_trace()
            before = ProfilerAction.NONE
        elif before is ProfilerAction.WARMUP and after in (ProfilerAction.NONE, None):
            if after is ProfilerAction.NONE:
                warnings.warn("Incorrect schedule: WARMUP followed by NONE: nothing is "
                              "recorded", stacklevel=3)
            self.start_trace()
            self.stop_trace()
            before = ProfilerAction.NONE
        if after is None:
            return
        if before is ProfilerAction.NONE and after is not ProfilerAction.NONE:
            self.prepare_trace()
        if before in (ProfilerAction.NONE, ProfilerAction.WARMUP) and after in _RECORDING:
            self.start_trace()

    def prepare_trace(self) -> None:
        """A new window: the last one's events go (unless ``acc_events``)."""
        if ProfilerActivity.CPU not in self.activities:
            raise AssertionError("profile(activities=...) without ProfilerActivity.CPU: "
                                 "tensorgrad has no other activity to record")
        for activity in sorted(self.activities - {ProfilerActivity.CPU}, key=str):
            warnings.warn(f"ProfilerActivity.{activity.name} is not available in tensorgrad "
                          "(it runs on the CPU): only the CPU's ops are recorded",
                          stacklevel=4)
        if self.profiler is not None:
            self.profiler._stop()  # (a start() after a start(): the first recording ends)
            if self.acc_events:
                return
        self.profiler = _autograd_profiler.profile(record_shapes=self.record_shapes,
                                                   profile_memory=self.profile_memory,
                                                   with_stack=self.with_stack,
                                                   acc_events=self.acc_events)

    def start_trace(self) -> None:
        """Begin recording the prepared window (``start()`` and ``step()`` call it)."""
        if self.profiler is None:
            raise AssertionError("the profiler records a window it has not prepared")
        self.profiler._start()

    def stop_trace(self) -> None:
        """End recording the window (``stop()`` and ``step()`` call it)."""
        if self.profiler is None:
            raise AssertionError("stop() of a profiler that was not started: start() it first")
        self.profiler._stop()

    def _window(self, what: str) -> _autograd_profiler.profile:
        if self.profiler is None:
            raise AssertionError(f"{what} of a profiler that recorded nothing yet: start() it "
                                 "(or enter its with block) first")
        return self.profiler

    def events(self) -> EventList:
        """The ranges of the last window, in the order they began."""
        return self._window("events()").function_events

    def key_averages(self, group_by_input_shape: bool = False, group_by_stack_n: int = 0,
                     group_by_overload_name: bool = False) -> EventList:
        """The last window's ranges averaged by name, to print with ``.table(...)``."""
        return self._window("key_averages()").key_averages(
            group_by_input_shape, group_by_stack_n, group_by_overload_name)

    def export_chrome_trace(self, path: str) -> None:
        """Write the last window as a Chrome trace (JSON) to ``path``."""
        self._window("export_chrome_trace()").export_chrome_trace(path)

    def add_metadata(self, key: str, value: str) -> None:
        """Accepted for PyTorch's scripts: tensorgrad's traces carry no user metadata."""

    def add_metadata_json(self, key: str, value: str) -> None:
        """Accepted for PyTorch's scripts: tensorgrad's traces carry no user metadata."""
