"""The profiler against PyTorch's: the same scripts run under torch.profiler and
tensorgrad.profiler record the same steps, hand over the same windows and find the same
record_function ranges (the ops are named differently: aten::add there, Add here)."""

from __future__ import annotations

import functools
import itertools
import json
import os
import warnings

import pytest

torch = pytest.importorskip("torch")

import tensorgrad as tg  # noqa: E402

LIBRARIES = pytest.mark.parametrize("lib", [torch, tg], ids=["torch", "tensorgrad"])


def _quietly(function, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return function(*args, **kwargs)


def _error_type(function):
    try:
        _quietly(function)
    except Exception as error:  # noqa: BLE001 (the type is what is compared)
        return type(error)
    return None


# ---- schedules -------------------------------------------------------------------------------


def test_schedule_gives_the_same_actions_as_pytorchs():
    for wait, warmup, active, repeat, skip_first, skip_first_wait in itertools.product(
            range(3), range(3), range(1, 4), range(3), range(3), range(2)):
        options = {"wait": wait, "warmup": warmup, "active": active, "repeat": repeat,
                   "skip_first": skip_first, "skip_first_wait": skip_first_wait}
        theirs = _quietly(torch.profiler.schedule, **options)
        ours = _quietly(tg.profiler.schedule, **options)
        assert [ours(i).name for i in range(16)] == [theirs(i).name for i in range(16)], options


def test_schedule_refuses_and_warns_as_pytorchs():
    for bad in ({"wait": -1, "warmup": 1, "active": 1}, {"wait": 0, "warmup": 1, "active": 0},
                {"wait": 0, "warmup": -1, "active": 2}, {"wait": 0, "warmup": 1, "active": 1,
                                                         "repeat": -1},
                {"wait": 0, "warmup": 1, "active": 1, "skip_first": -1}):
        assert _error_type(functools.partial(tg.profiler.schedule, **bad)) is \
            _error_type(functools.partial(torch.profiler.schedule, **bad)) is AssertionError
    for lib in (torch, tg):
        steps = lib.profiler.schedule(wait=1, warmup=1, active=1)
        assert _error_type(lambda: steps(-1)) is AssertionError  # noqa: B023
        with pytest.warns(UserWarning):
            lib.profiler.schedule(wait=1, warmup=0, active=1)
    assert [a.name for a in tg.profiler.ProfilerAction] == [
        a.name for a in torch.profiler.ProfilerAction if a.name != "DEVICE_STOPPED"]
    assert {a.name: a.value for a in tg.profiler.ProfilerActivity} == {
        a.name: a.value for a in torch.profiler.ProfilerActivity.__members__.values()}


# ---- a profiled loop, run under each ---------------------------------------------------------


def _run(lib, n, **options):
    """n steps, each inside a range it{i}; what each on_trace_ready call saw, and the profiler."""
    x = lib.ones(3, requires_grad=True)
    windows = []

    def ready(prof):
        counts = {a.key: a.count for a in prof.key_averages()}
        windows.append((prof.step_num, sorted(k for k in counts if k.startswith("it")),
                        counts.get("ProfilerStep*", 0)))

    def loop():
        with lib.profiler.profile(on_trace_ready=ready, **options) as prof:
            for i in range(n):
                with lib.profiler.record_function(f"it{i}"):
                    (x * 2).sum().backward()
                prof.step()
        return prof

    prof = _quietly(loop)
    return windows, prof


SCHEDULES = [
    {"wait": 1, "warmup": 1, "active": 2, "repeat": 2},
    {"wait": 0, "warmup": 1, "active": 1},
    {"wait": 2, "warmup": 1, "active": 2, "skip_first": 1},
    {"wait": 0, "warmup": 0, "active": 3},
    {"wait": 1, "warmup": 1, "active": 1, "repeat": 1, "skip_first_wait": 1},
]


@pytest.mark.parametrize("options", SCHEDULES, ids=str)
def test_a_scheduled_loop_records_and_hands_over_the_same_steps(options):
    steps = 7
    theirs, their_prof = _run(torch, steps, schedule=_quietly(torch.profiler.schedule, **options))
    ours, our_prof = _run(tg, steps, schedule=_quietly(tg.profiler.schedule, **options))
    assert ours == theirs
    assert our_prof.step_num == their_prof.step_num == steps
    assert our_prof.current_action.name == their_prof.current_action.name


def test_acc_events_keeps_every_window_as_pytorchs():
    options = {"wait": 1, "warmup": 1, "active": 1}
    theirs, _ = _run(torch, 7, schedule=_quietly(torch.profiler.schedule, **options),
                     acc_events=True)
    ours, _ = _run(tg, 7, schedule=_quietly(tg.profiler.schedule, **options), acc_events=True)
    assert ours == theirs


def test_without_a_schedule_the_trace_is_handed_over_once_at_the_stop_as_pytorchs():
    theirs, their_prof = _run(torch, 3)
    ours, our_prof = _run(tg, 3)
    assert ours == theirs == [(3, ["it0", "it1", "it2"], 0)]
    assert [k.key for k in our_prof.key_averages() if k.key.startswith("it")] == \
        [k.key for k in their_prof.key_averages() if k.key.startswith("it")]
    for prof in (our_prof, their_prof):  # the ops' backward too: MulBackward0 there
        assert any(k.key.startswith("MulBackward") for k in prof.key_averages())


# ---- record_function, key_averages, table ----------------------------------------------------


def _ranges(lib, profile):
    @lib.profiler.record_function("decorated")
    def decorated(x):
        return x * 3

    x = lib.ones(4, 3, requires_grad=True)
    with profile() as prof:
        with lib.profiler.record_function("forward"):
            with lib.autograd.profiler.record_function("inner"):
                y = decorated(x.t()[1:]).sum()
            decorated(x)
        with lib.profiler.record_function("backward"):
            y.backward()
    counts = {a.key: a.count for a in prof.key_averages()}
    return prof, {k: v for k, v in counts.items() if k in ("decorated", "forward", "inner",
                                                           "backward")}


@pytest.mark.parametrize("which", ["profiler", "autograd.profiler"])
def test_record_function_names_and_counts_are_found_in_key_averages_as_in_pytorch(which):
    def profile_of(lib):
        return lib.profiler.profile if which == "profiler" else lib.autograd.profiler.profile

    their_prof, theirs = _ranges(torch, profile_of(torch))
    our_prof, ours = _ranges(tg, profile_of(tg))
    assert ours == theirs == {"forward": 1, "inner": 1, "decorated": 2, "backward": 1}
    for prof in (their_prof, our_prof):
        table = prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=100)
        assert isinstance(table, str)
        assert all(name in table for name in ("forward", "inner", "decorated"))
        header = table.splitlines()[1].split("  ")
        assert [h.strip() for h in header if h.strip()][:6] == [
            "Name", "Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg"]
        assert table.splitlines()[-1].startswith("Self CPU time total:")
        assert isinstance(prof.key_averages().table(sort_by="cpu_time_total"), str)
    # (the legacy profile has function_events, the other events())
    assert hasattr(our_prof, "events") == hasattr(their_prof, "events")
    assert hasattr(our_prof, "function_events") == hasattr(their_prof, "function_events")
    our_events = {e.name: e for e in getattr(our_prof, "function_events", None)
                  or our_prof.events()}
    their_events = {e.name: e for e in getattr(their_prof, "function_events", None)
                    or their_prof.events()}
    for events in (our_events, their_events):
        assert events["inner"].cpu_parent is events["forward"]
        assert events["forward"].cpu_parent is None


def test_the_table_sorts_and_refuses_as_pytorchs():
    for lib in (torch, tg):
        prof, _ = _ranges(lib, lib.profiler.profile)
        averages = prof.key_averages()
        assert _error_type(lambda: averages.table(sort_by="no_such_reading")) is \
            AttributeError  # noqa: B023
        rows = averages.table(sort_by="count", row_limit=1).splitlines()
        assert len(rows) == 3 + 1 + 2
        assert rows[3].split()[-1] == str(max(a.count for a in averages))
        for reading in ("cpu_time_total", "self_cpu_time_total", "cpu_time", "count",
                        "cuda_time_total", "device_time_total", "cpu_memory_usage"):
            assert isinstance(averages.table(sort_by=reading), str)


# ---- errors ----------------------------------------------------------------------------------


@LIBRARIES
def test_misuse_raises_the_same_errors_as_pytorch(lib, tmp_path):
    assert _error_type(lambda: lib.profiler.profile().stop()) is AssertionError
    assert _error_type(lambda: lib.profiler.profile().key_averages()) is AssertionError
    assert _error_type(lambda: lib.profiler.profile().events()) is AssertionError
    assert _error_type(lambda: lib.profiler.profile().export_chrome_trace(
        str(tmp_path / "t.json"))) is AssertionError
    prof = lib.autograd.profiler.profile()
    assert len(prof.key_averages()) == 0
    with prof:
        assert len(prof.key_averages()) == 0
        assert _error_type(prof.__enter__) is RuntimeError
    assert isinstance(prof.table(), str)
    assert _error_type(lambda: lib.profiler.record_function("r").__exit__(None, None, None)) \
        is AssertionError
    only_cuda = [lib.profiler.ProfilerActivity.CUDA]
    assert _error_type(lambda: lib.profiler.profile(activities=only_cuda).__enter__()) \
        is AssertionError
    with pytest.warns(UserWarning), lib.profiler.profile(
            activities=[lib.profiler.ProfilerActivity.CPU, *only_cuda]):
        lib.ones(2) + 1


# ---- traces ----------------------------------------------------------------------------------


def _complete_events(path):
    with open(path) as file:
        document = json.load(file)
    return [e for e in document["traceEvents"] if e.get("ph") == "X"]


def test_the_chrome_trace_has_pytorchs_fields_and_the_same_ranges(tmp_path):
    found = {}
    for lib in (torch, tg):
        prof, _ = _ranges(lib, lib.profiler.profile)
        path = tmp_path / f"{lib.__name__}.json"
        prof.export_chrome_trace(str(path))
        events = [e for e in _complete_events(path)
                  if e["cat"] in ("cpu_op", "user_annotation")]  # (PyTorch's: and its spans)
        assert events
        for e in events:
            assert {"name", "ph", "ts", "dur", "pid", "tid", "cat", "args"} <= set(e)
            assert e["pid"] == os.getpid()
        found[lib.__name__] = sorted(e["name"] for e in events
                                     if e["cat"] == "user_annotation")
    assert found["tensorgrad"] == found["torch"]


def test_tensorboard_trace_handler_writes_as_many_files_as_pytorchs(tmp_path):
    written = {}
    for lib in (torch, tg):
        directory = tmp_path / lib.__name__ / "new"
        steps = _quietly(lib.profiler.schedule, wait=1, warmup=1, active=1, repeat=2)
        x = lib.ones(3)
        handler = lib.profiler.tensorboard_trace_handler(str(directory), worker_name="w")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with lib.profiler.profile(schedule=steps, on_trace_ready=handler) as prof:
                for _ in range(8):
                    x + x
                    prof.step()
        names = sorted(os.listdir(directory))
        assert all(n.startswith("w.") and n.endswith(".pt.trace.json") for n in names)
        written[lib.__name__] = [sorted(e["name"] for e in _complete_events(directory / n)
                                        if e["cat"] == "user_annotation") for n in names]
    assert written["tensorgrad"] == written["torch"] == [["ProfilerStep#2"], ["ProfilerStep#5"]]
