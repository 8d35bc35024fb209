"""torch.autograd.profiler_util's names: what a profiler recorded and how it is shown.

A ``FunctionEvent`` is one timed range: an op (named as its ``Function``: ``Add``, ``Sum``;
an op's backward as ``AddBackward``), or a ``record_function`` range. ``EventList`` holds them,
averages them by name (``key_averages``) into ``FunctionEventAvg``s, prints them as a table
(``table``) and writes them as a Chrome trace (``export_chrome_trace``), as PyTorch's do.
Times are in microseconds, from the clock of ``time.perf_counter_ns``.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Iterable
from typing import Any

__all__ = ["DeviceType", "EventList", "FunctionEvent", "FunctionEventAvg", "Interval"]


class DeviceType(enum.Enum):
    """Where an event ran: tensorgrad runs on the CPU only."""

    CPU = 0
    CUDA = 1


class Interval:
    """A time range in microseconds, ``start`` to ``end``."""

    __slots__ = ("start", "end")

    def __init__(self, start: float, end: float) -> None:
        self.start, self.end = start, end

    def elapsed_us(self) -> float:
        """The range's length, in microseconds."""
        return self.end - self.start

    def __repr__(self) -> str:
        return f"Interval(start={self.start:.3f}, end={self.end:.3f})"


class Clock:
    """The moment a recording began: ``perf_ns`` on ``time.perf_counter_ns``'s clock, which
    events are timed by, and ``epoch_ns`` the same moment since the epoch (Chrome traces)."""

    __slots__ = ("perf_ns", "epoch_ns")

    def __init__(self, perf_ns: int, epoch_ns: int) -> None:
        self.perf_ns, self.epoch_ns = perf_ns, epoch_ns


class _TimesAndMemory:
    """The readings that events and their averages share, derived from the totals."""

    count: int
    cpu_time_total: float
    self_cpu_time_total: float

    # (tensorgrad runs nothing on a device: PyTorch's device readings are zero)
    device_time_total = self_device_time_total = 0.0
    device_memory_usage = self_device_memory_usage = 0
    flops = 0
    node_id = -1
    is_async = is_remote = is_legacy = False
    overload_name = ""
    device_type = DeviceType.CPU

    @property
    def cpu_time(self) -> float:
        """The average time of one call, in microseconds."""
        return self.cpu_time_total / max(self.count, 1)

    @property
    def device_time(self) -> float:
        """The average time on a device: none in tensorgrad."""
        return 0.0

    # PyTorch's older names of the device readings
    cuda_time = device_time
    cuda_time_total = property(lambda self: self.device_time_total)
    self_cuda_time_total = property(lambda self: self.self_device_time_total)
    cuda_memory_usage = property(lambda self: self.device_memory_usage)
    self_cuda_memory_usage = property(lambda self: self.self_device_memory_usage)

    @property
    def cpu_time_str(self) -> str:
        return format_time(self.cpu_time)

    @property
    def cpu_time_total_str(self) -> str:
        return format_time(self.cpu_time_total)

    @property
    def self_cpu_time_total_str(self) -> str:
        return format_time(self.self_cpu_time_total)


class FunctionEvent(_TimesAndMemory):
    """One recorded range: an op or a ``record_function`` block, on one thread.

    ``cpu_parent`` is the range it ran inside (None at the top), ``cpu_children`` the ranges
    inside it; ``self_cpu_time_total`` is its time less its children's. ``input_shapes`` are
    its arguments' shapes (with ``record_shapes=True``), ``cpu_memory_usage`` the bytes of its
    results (with ``profile_memory=True``; frees are not counted).
    """

    count = 1

    def __init__(self, id: int, name: str, thread: int, start_ns: int, clock: Clock,  # noqa: A002 (PyTorch's)
                 input_shapes: list[list[int]] | None = None,
                 is_user_annotation: bool = False, trace_name: str | None = None) -> None:
        self.id, self.name, self.thread = id, name, thread
        self.start_ns, self.end_ns = start_ns, start_ns
        self.clock = clock
        self.input_shapes: list[list[int]] = input_shapes if input_shapes is not None else []
        self.is_user_annotation = is_user_annotation
        self.trace_name = trace_name if trace_name is not None else name
        self.cpu_parent: FunctionEvent | None = None
        self.cpu_children: list[FunctionEvent] = []
        self.cpu_memory_usage = 0
        self.stack: list[str] = []

    @property
    def key(self) -> str:
        """What ``key_averages`` groups the event by: its name."""
        return self.name

    @property
    def time_range(self) -> Interval:
        """When the event ran, in microseconds since its recording began."""
        base = self.clock.perf_ns
        return Interval((self.start_ns - base) / 1e3, (self.end_ns - base) / 1e3)

    @property
    def cpu_time_total(self) -> float:  # type: ignore[override]
        """The event's time, in microseconds."""
        return (self.end_ns - self.start_ns) / 1e3

    @property
    def self_cpu_time_total(self) -> float:  # type: ignore[override]
        """The event's time less its children's, in microseconds."""
        return self.cpu_time_total - sum(child.cpu_time_total for child in self.cpu_children)

    @property
    def self_cpu_memory_usage(self) -> int:
        """The bytes of the event's results less its children's."""
        return self.cpu_memory_usage - sum(child.cpu_memory_usage for child in self.cpu_children)

    def __repr__(self) -> str:
        return (f"<FunctionEvent id={self.id} name={self.name} thread={self.thread} "
                f"cpu_time={format_time(self.cpu_time_total)} "
                f"children={[child.id for child in self.cpu_children]} "
                f"input_shapes={self.input_shapes} cpu_memory_usage={self.cpu_memory_usage}>")


class FunctionEventAvg(_TimesAndMemory):
    """The events of one key added up: ``count`` calls, their total and self times (and
    ``cpu_time``, their average), as a row of ``key_averages()``."""

    def __init__(self) -> None:
        self.key: str | None = None
        self.count = 0
        self.cpu_time_total = 0.0
        self.self_cpu_time_total = 0.0
        self.cpu_memory_usage = 0
        self.self_cpu_memory_usage = 0
        self.input_shapes: list[list[int]] | None = None
        self.stack: list[str] | None = None
        self.is_user_annotation = False
        self.cpu_parent: FunctionEvent | None = None
        self.cpu_children: list[FunctionEvent] = []

    def add(self, other: FunctionEvent | FunctionEventAvg) -> FunctionEventAvg:
        """Add ``other``'s counts, times and memory into this average; return it."""
        if self.key is None:  # the first: it names the row
            self.key = other.key
            self.is_user_annotation = other.is_user_annotation
            self.cpu_parent = other.cpu_parent
            if isinstance(other, FunctionEventAvg):
                self.input_shapes, self.stack = other.input_shapes, other.stack
        self.count += other.count
        self.cpu_time_total += other.cpu_time_total
        self.self_cpu_time_total += other.self_cpu_time_total
        self.cpu_memory_usage += other.cpu_memory_usage
        self.self_cpu_memory_usage += other.self_cpu_memory_usage
        return self

    def __iadd__(self, other: FunctionEvent | FunctionEventAvg) -> FunctionEventAvg:
        return self.add(other)

    def __repr__(self) -> str:
        return (f"<FunctionEventAvg key={self.key} count={self.count} "
                f"self_cpu_time={format_time(self.self_cpu_time_total)} "
                f"cpu_time={format_time(self.cpu_time)} input_shapes={self.input_shapes} "
                f"cpu_memory_usage={self.cpu_memory_usage}>")


class EventList(list):  # (of FunctionEvent, or of FunctionEventAvg)
    """A list of events with PyTorch's ways to read them::

        with tensorgrad.autograd.profiler.profile() as prof:
            y = x @ x
        print(prof.function_events.key_averages().table(sort_by="cpu_time_total"))
    """

    def __init__(self, events: Iterable[Any] = (), *, profile_memory: bool = False,
                 **_device_options: Any) -> None:
        super().__init__(events)
        self.profile_memory = profile_memory

    @property
    def self_cpu_time_total(self) -> float:
        """The events' self times added up, in microseconds: the time of them all."""
        return sum(event.self_cpu_time_total for event in self)

    def key_averages(self, group_by_input_shape: bool = False, group_by_stack_n: int = 0,
                     group_by_overload_name: bool = False) -> EventList:
        """One ``FunctionEventAvg`` per name, in the order each name first ran (per name and
        argument shapes with ``group_by_input_shape``, per name and the first
        ``group_by_stack_n`` frames of the stack with that)."""
        averages: dict[tuple[Any, ...], FunctionEventAvg] = {}
        for event in self:
            key: tuple[Any, ...] = (event.key,)
            if group_by_input_shape:
                key += (str(event.input_shapes),)
            if group_by_stack_n > 0:
                key += tuple((event.stack or [])[:group_by_stack_n])
            average = averages.get(key)
            if average is None:
                average = averages[key] = FunctionEventAvg()
                if group_by_input_shape:
                    average.input_shapes = event.input_shapes
                if group_by_stack_n > 0:
                    average.stack = event.stack
            average.add(event)
        return EventList(averages.values(), profile_memory=self.profile_memory)

    def total_average(self) -> FunctionEventAvg:
        """All the events added up into one ``FunctionEventAvg``, keyed ``Total``."""
        total = FunctionEventAvg()
        for event in self:
            total.add(event)
        total.key = "Total"
        return total

    def table(self, sort_by: str | None = None, row_limit: int = 100,
              max_src_column_width: int = 75, max_name_column_width: int = 55,
              max_shapes_column_width: int = 80, header: str | None = None,
              top_level_events_only: bool = False, time_unit: str | None = None) -> str:
        """The events as a text table, one row each, as PyTorch prints it: name, self and
        total CPU time (and their share of the whole), average time, number of calls (and
        memory with ``profile_memory``, shapes when the events have them). ``sort_by`` names
        a reading to sort by, largest first ("cpu_time_total", "self_cpu_time_total",
        "count", ...; "cuda_*" reads "device_*"); ``row_limit`` keeps that many rows
        (0 or less: all); ``time_unit`` is "s", "ms" or "us" for every time (else each
        its own)."""
        return _table(self, sort_by, row_limit, max_name_column_width, max_shapes_column_width,
                      header, top_level_events_only, time_unit)

    def export_chrome_trace(self, path: str) -> None:
        """Write the events to ``path`` as a Chrome trace (JSON; gzipped if ``path`` ends
        in ".gz"), which chrome://tracing, Perfetto and TensorBoard open. The file appears
        whole or not at all: it is written beside and renamed into place."""
        write_chrome_trace(list(self), path)

    def __str__(self) -> str:
        return self.table()


def format_time(microseconds: float, unit: str | None = None) -> str:
    """A time in microseconds as PyTorch's tables show it: "1.234ms", "56.789us", ..."""
    if unit is None:
        unit = "s" if microseconds >= 1e6 else "ms" if microseconds >= 1e3 else "us"
    scale = {"s": 1e6, "ms": 1e3, "us": 1.0}.get(unit)
    if scale is None:
        raise ValueError(f"time_unit must be 's', 'ms' or 'us', not {unit!r}")
    return f"{microseconds / scale:.3f}{unit}"


def _format_memory(nbytes: int) -> str:
    for unit, size in (("Gb", 1024 ** 3), ("Mb", 1024 ** 2), ("Kb", 1024)):
        if abs(nbytes) >= size:
            return f"{nbytes / size:.2f} {unit}"
    return f"{nbytes} B"


def _table(events: EventList, sort_by: str | None, row_limit: int, name_width: int,
           shapes_width: int, header: str | None, top_level_only: bool,
           time_unit: str | None) -> str:
    rows = list(events)
    if top_level_only:
        rows = [event for event in rows if event.cpu_parent is None]
    if not rows:
        return ""
    if sort_by is not None:
        reading = sort_by.replace("cuda", "device")
        rows.sort(key=lambda event: getattr(event, reading), reverse=True)
    whole = sum(event.self_cpu_time_total for event in rows)  # (before row_limit: all)
    if row_limit > 0:
        rows = rows[:row_limit]
    with_shapes = any(event.input_shapes for event in rows)
    with_memory = events.profile_memory

    def percent(part: float) -> str:
        return f"{100 * part / whole:.2f}%" if whole else "0.00%"

    def times(value: float) -> str:
        return format_time(value, time_unit)

    name_width = min(max(len("Name"), *(len(event.key) for event in rows)), name_width)
    titles = ["Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg"]
    if with_memory:
        titles += ["CPU Mem", "Self CPU Mem"]
    titles.append("# of Calls")
    widths = [name_width] + [12] * len(titles)
    if with_shapes:
        titles.append("Input Shapes")
        widths.append(min(shapes_width,
                          max(len("Input Shapes"), *(len(str(e.input_shapes)) for e in rows))))

    def line(cells: list[str]) -> str:
        return "".join(cell.rjust(width) + "  " for cell, width in zip(cells, widths)) + "\n"

    def cut(text: str, width: int) -> str:
        return text if len(text) <= width else text[:width - 3] + "..."

    rule = "".join("-" * width + "  " for width in widths) + "\n"
    out = []
    if header is not None:
        out += ["=" * len(rule.rstrip()) + "\n", header + "\n"]
    if top_level_only:
        out += ["=" * len(rule.rstrip()) + "\n", "Only the top-level events are listed\n"]
    out += [rule, line(["Name", *titles]), rule]
    for event in rows:
        cells = [cut(event.key, name_width), percent(event.self_cpu_time_total),
                 times(event.self_cpu_time_total), percent(event.cpu_time_total),
                 times(event.cpu_time_total), times(event.cpu_time)]
        if with_memory:
            cells += [_format_memory(event.cpu_memory_usage),
                      _format_memory(event.self_cpu_memory_usage)]
        cells.append(str(event.count))
        if with_shapes:
            cells.append(cut(str(event.input_shapes), widths[-1]))
        out.append(line(cells))
    out += [rule, f"Self CPU time total: {times(whole)}\n"]
    return "".join(out)


def write_chrome_trace(events: list[FunctionEvent], path: str,
                       metadata: dict[str, Any] | None = None) -> None:
    """Write ``events`` to ``path`` as a Chrome trace, atomically (see ``export_chrome_trace``)."""
    import gzip
    import json
    import socket
    import tempfile

    pid = os.getpid()
    clock = events[0].clock if events else None
    base = clock.perf_ns if clock is not None else 0
    trace: list[dict[str, Any]] = [
        {"ph": "M", "name": "process_name", "ts": 0, "pid": pid, "tid": 0,
         "args": {"name": "python"}},
    ]
    for thread in sorted({event.thread for event in events}):
        trace.append({"ph": "M", "name": "thread_name", "ts": 0, "pid": pid, "tid": thread,
                      "args": {"name": f"thread {thread}"}})
    for event in sorted(events, key=lambda e: (e.start_ns, -e.end_ns)):
        args: dict[str, Any] = {"External id": event.id}
        if event.input_shapes:
            args["Input Dims"] = event.input_shapes
        if event.cpu_memory_usage:
            args["Bytes"] = event.cpu_memory_usage
        trace.append({"ph": "X", "cat": "user_annotation" if event.is_user_annotation
                      else "cpu_op", "name": event.trace_name, "pid": pid, "tid": event.thread,
                      "ts": (event.start_ns - base) / 1e3,
                      "dur": (event.end_ns - event.start_ns) / 1e3, "args": args})
    document = {"schemaVersion": 1, "displayTimeUnit": "ms", "host_name": socket.gethostname(),
                "baseTimeNanoseconds": clock.epoch_ns if clock is not None else 0,
                **(metadata or {}), "traceEvents": trace, "traceName": os.fspath(path)}
    text = json.dumps(document).encode()
    if os.fspath(path).endswith(".gz"):
        text = gzip.compress(text)
    directory = os.path.dirname(os.path.abspath(path))
    # written beside and renamed into place: a reader (TensorBoard watching the directory)
    # never sees half a file
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(text)
        os.chmod(temporary, 0o644)  # (mkstemp's file is the owner's alone)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
