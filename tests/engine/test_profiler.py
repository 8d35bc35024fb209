"""The profiler (tensorgrad.profiler, tensorgrad.autograd.profiler): what it records, the steps a
schedule records, the table and the Chrome trace, and the engine left as it was."""

from __future__ import annotations

import ast
import gzip
import json
import os
import subprocess
import sys
import threading
import warnings

import numpy as np
import pytest

import tensorgrad as tg
from tensorgrad import profiler as P
from tensorgrad.autograd import profiler as AP
from tensorgrad.tensor import Function
from tests.paths import REPO

_engine = sys.modules["tensorgrad.tensor"]
_ENGINE_APPLY = Function.__dict__["apply"]


def _names(events):
    return [e.key for e in events]


def _small_step(x, w):
    y = ((x + x) @ w).relu().sum()
    y.backward()
    return y


def _inputs(dtype=np.float32):
    x = tg.tensor(np.linspace(-1, 1, 6, dtype=dtype), requires_grad=True)
    w = tg.tensor(np.ones((6, 3), dtype=dtype), requires_grad=True)
    return x, w


# ---- loading and the engine left alone -------------------------------------------------------


def test_import_tensorgrad_does_not_load_the_profiler_and_the_names_load_when_used():
    code = ("import sys, tensorgrad\n"
            "before = [m for m in ('tensorgrad.profiler', 'tensorgrad.autograd.profiler',\n"
            "          'tensorgrad.autograd.profiler_util') if m in sys.modules]\n"
            "p = tensorgrad.profiler.profile\n"
            "q = tensorgrad.autograd.profiler.profile\n"
            "print([before, p.__module__, q.__module__])\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=REPO, timeout=60, check=True)
    assert ast.literal_eval(result.stdout) == [[], "tensorgrad.profiler",
                                               "tensorgrad.autograd.profiler"]


def test_the_engine_is_as_it_was_once_every_profiler_stopped_even_by_an_exception():
    x, w = _inputs()
    with pytest.raises(ValueError), P.profile():
        assert Function.__dict__["apply"] is not _ENGINE_APPLY  # timed while recording
        assert _engine.profiling_backward is not None
        raise ValueError
    assert Function.__dict__["apply"] is _ENGINE_APPLY
    assert _engine.profiling_backward is None
    with AP.profile(), AP.profile():  # nested: put back when the outer one stops
        pass
    assert Function.__dict__["apply"] is _ENGINE_APPLY
    assert _engine.profiling_backward is None
    (x * x).sum().backward()  # and the ops run as ever
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.detach().numpy())


def test_results_and_gradients_are_the_same_under_a_profiler():
    x, w = _inputs(np.float64)
    y = _small_step(x, w)
    expected = (y.item(), x.grad.numpy().copy(), w.grad.numpy().copy())
    x2, w2 = _inputs(np.float64)
    with P.profile(record_shapes=True, profile_memory=True):
        y2 = _small_step(x2, w2)
    assert y2.item() == expected[0]
    np.testing.assert_array_equal(x2.grad.numpy(), expected[1])
    np.testing.assert_array_equal(w2.grad.numpy(), expected[2])


# ---- what is recorded ------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_each_op_is_an_event_named_as_its_function_and_backward_ops_too(dtype):
    x, w = _inputs(dtype)
    with P.profile() as prof:
        h = x + x
        z = (h @ w).relu()
        y = z.sum()
        y.backward()
    names = _names(prof.events())
    forward = [h.grad_fn.function.__name__, z.grad_fn.function.__name__,
               y.grad_fn.function.__name__]
    assert forward == ["Add", "Relu", "Sum"]
    assert [n for n in names if not n.endswith("Backward")] == ["Add", "MatMul", "Relu", "Sum"]
    assert [n for n in names if n.endswith("Backward")] == [
        "SumBackward", "ReluBackward", "MatMulBackward", "AddBackward"]
    for event in prof.events():
        assert event.cpu_time_total >= 0 and event.count == 1
        assert event.time_range.elapsed_us() == pytest.approx(event.cpu_time_total)


def test_ops_of_every_shape_are_recorded_0d_and_size_0_and_non_contiguous():
    a = tg.tensor(2.0, requires_grad=True)
    e = tg.zeros(0, 3, requires_grad=True)
    m = tg.randn(4, 5, requires_grad=True)
    with AP.profile(record_shapes=True) as prof:
        (a * a).backward()
        e.sum().backward()
        (m.t()[1:] * 2).sum().backward()
    forward = [(e.key, e.input_shapes) for e in prof.function_events
               if e.key in ("Mul", "Sum")]
    assert forward == [("Mul", [[], []]), ("Sum", [[0, 3], [], []]),
                       ("Mul", [[4, 4], []]), ("Sum", [[4, 4], [], []])]
    assert _names(prof.function_events).count("MulBackward") == 2
    assert _names(prof.function_events).count("SumBackward") == 2


def test_record_function_ranges_nest_and_hold_their_ops():
    x, w = _inputs()
    with P.profile() as prof, P.record_function("outer"):
        h = x + x
        with P.record_function("inner"):
            (h @ w).sum()
    by_name = {e.name: e for e in prof.events()}
    outer, inner = by_name["outer"], by_name["inner"]
    assert outer.cpu_parent is None and inner.cpu_parent is outer
    assert by_name["Add"].cpu_parent is outer
    assert by_name["MatMul"].cpu_parent is inner and by_name["Sum"].cpu_parent is inner
    assert [c.name for c in outer.cpu_children] == ["Add", "inner"]
    assert outer.is_user_annotation and not by_name["Add"].is_user_annotation
    assert outer.self_cpu_time_total == pytest.approx(
        outer.cpu_time_total - sum(c.cpu_time_total for c in outer.cpu_children))
    assert outer.time_range.start <= inner.time_range.start <= inner.time_range.end \
        <= outer.time_range.end
    assert _names(prof.events()) == ["outer", "Add", "inner", "MatMul", "Sum"]  # as they began


def test_record_function_as_a_decorator_also_recursing_and_free_without_a_profiler():
    @P.record_function("count_down")
    def count_down(n, x):
        return x if n == 0 else count_down(n - 1, x * 2)

    x = tg.ones(3)
    assert count_down(2, x).tolist() == [4.0, 4.0, 4.0]  # no profiler: nothing happens
    with P.profile() as prof:
        count_down(2, x)
    ranges = [e for e in prof.events() if e.name == "count_down"]
    assert len(ranges) == 3
    assert ranges[1].cpu_parent is ranges[0] and ranges[2].cpu_parent is ranges[1]
    assert {(a.key, a.count) for a in prof.key_averages()} == {("count_down", 3), ("Mul", 2)}


def test_record_function_exited_without_being_entered_raises_assertion_error():
    with pytest.raises(AssertionError):
        P.record_function("x").__exit__(None, None, None)
    assert AP.record_function is P.record_function


def test_an_autograd_function_is_one_event_with_its_ops_inside():
    class Twice(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return grad * 2

    x = tg.ones(3, requires_grad=True)
    with P.profile() as prof:
        Twice.apply(x).sum().backward()
    events = prof.events()
    assert _names(events) == ["Twice", "Mul", "Sum", "SumBackward", "TwiceBackward", "Mul"]
    assert events[1].cpu_parent is events[0] and events[0].cpu_children == [events[1]]
    assert events[5].cpu_parent is events[4]  # grad * 2, inside the backward


def test_a_backward_pass_inside_an_ops_backward_nests_in_it():
    class WithInnerPass(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, grad):
            t = tg.ones(2, requires_grad=True)
            with tg.enable_grad():
                (t * 3).sum().backward()  # (as a checkpoint's recomputation does)
            return grad

    x = tg.ones(3, requires_grad=True)
    with P.profile() as prof:
        (WithInnerPass.apply(x) * 2).sum().backward()
    events = prof.events()
    outer = next(e for e in events if e.name == "WithInnerPassBackward")
    assert [c.name for c in outer.cpu_children] == ["Mul", "Sum", "SumBackward", "MulBackward"]
    assert [e.name for e in events if e.cpu_parent is None] == [
        "WithInnerPass", "Mul", "Sum", "SumBackward", "MulBackward", "WithInnerPassBackward"]


def test_ops_of_another_thread_are_recorded_on_that_thread():
    x = tg.ones(3)
    seen = {}

    def work():
        seen["tid"] = threading.get_native_id()
        with P.record_function("worker"):
            x * 3

    with P.profile() as prof, P.record_function("main"):
        thread = threading.Thread(target=work)
        thread.start()
        thread.join()
        x + 1
    by_name = {e.name: e for e in prof.events()}
    assert by_name["worker"].thread == seen["tid"] != by_name["main"].thread
    assert by_name["Mul"].cpu_parent is by_name["worker"]
    assert by_name["worker"].cpu_parent is None  # (not inside the main thread's range)
    assert by_name["Add"].cpu_parent is by_name["main"]


def test_nested_profilers_each_hold_what_ran_while_they_recorded():
    x = tg.ones(3)
    with AP.profile() as outer:
        x + 1
        with AP.profile() as inner:
            x * 2
        x - 3
    assert _names(inner.function_events) == ["Mul"]
    assert _names(outer.function_events) == ["Add", "Mul", "Sub"]


def test_an_exception_in_a_backward_leaves_the_profiler_working():
    class Broken(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, grad):
            raise ArithmeticError("broken")

    x = tg.ones(3, requires_grad=True)
    with P.profile() as prof:
        with P.record_function("failing"), pytest.raises(ArithmeticError):
            (Broken.apply(x) * 2).sum().backward()
        with P.record_function("after"):
            (x * 5).sum().backward()
        with pytest.raises(ArithmeticError):  # (no range around it)
            (Broken.apply(x) * 2).sum().backward()
        y = x * 4
        (y / 2).sum().backward()
    events = prof.events()
    by_name = {e.name: e for e in events}
    assert by_name["after"].cpu_parent is None
    assert {c.name for c in by_name["after"].cpu_children} == {"Mul", "Sum", "SumBackward",
                                                             "MulBackward"}
    # the ranges that the failing passes left open are dropped: what follows is at the top
    assert "BrokenBackward" not in by_name
    assert [e.name for e in events[-6:]] == ["Mul", "Div", "Sum", "SumBackward", "DivBackward",
                                             "MulBackward"]
    assert all(e.cpu_parent is None for e in events[-6:])


def test_profile_memory_counts_the_bytes_of_new_results_not_views():
    x = tg.ones(4, 5, dtype=tg.float64)
    with P.profile(profile_memory=True) as prof, P.record_function("block"):
        y = x * 2
        y.view(20)
        y.t()[1:]
        (y + 1).reshape(20)  # (a new array, reshaped: made by the op all the same)
        tg.nn.functional.gelu(y)
    by_name = {e.name: e for e in prof.events()}
    assert by_name["Mul"].cpu_memory_usage == 160
    assert by_name["GELU"].cpu_memory_usage == 160
    assert by_name["block"].cpu_memory_usage == 0
    assert by_name["block"].self_cpu_memory_usage == -sum(
        e.cpu_memory_usage for e in by_name["block"].cpu_children)
    views = [e for e in prof.events() if e.name not in ("Mul", "GELU", "Add", "block")]
    assert views and sum(e.cpu_memory_usage for e in views) == 0
    assert "CPU Mem" in prof.key_averages().table()


def test_enabled_false_records_nothing():
    with AP.profile(enabled=False) as prof:
        tg.ones(2) + 1
    assert len(prof.function_events) == 0 and prof.key_averages().table() == ""


# ---- key_averages and table ------------------------------------------------------------------


def _profiled_loop(steps=3):
    x, w = _inputs()
    with AP.profile(record_shapes=True) as prof:
        for _ in range(steps):
            with AP.record_function("step"):
                _small_step(x, w)
    return prof


def test_key_averages_has_one_row_per_name_with_counts_and_times():
    prof = _profiled_loop(3)
    averages = prof.key_averages()
    rows = {a.key: a for a in averages}
    assert rows["step"].count == 3 and rows["Add"].count == 3 and rows["AddBackward"].count == 3
    events = [e for e in prof.function_events if e.name == "Add"]
    assert rows["Add"].cpu_time_total == pytest.approx(sum(e.cpu_time_total for e in events))
    assert rows["Add"].cpu_time == pytest.approx(rows["Add"].cpu_time_total / 3)
    assert rows["step"].self_cpu_time_total < rows["step"].cpu_time_total
    assert _names(averages)[:2] == ["step", "Add"]  # in the order each name first ran
    total = averages.total_average()
    assert total.key == "Total" and total.count == len(prof.function_events)
    assert prof.self_cpu_time_total == pytest.approx(
        sum(e.self_cpu_time_total for e in prof.function_events))
    shaped = prof.key_averages(group_by_input_shape=True)
    assert {(a.key, str(a.input_shapes)) for a in shaped if a.key == "MatMul"} == {
        ("MatMul", "[[6], [6, 3]]")}


def test_table_lists_every_name_with_the_columns_and_sorts_and_limits():
    prof = _profiled_loop(2)
    averages = prof.key_averages()
    table = averages.table(sort_by="cpu_time_total", row_limit=100)
    assert isinstance(table, str)
    header = table.splitlines()[1]
    for column in ("Name", "Self CPU %", "Self CPU", "CPU total %", "CPU total",
                   "CPU time avg", "# of Calls"):
        assert column in header
    rows = table.splitlines()[3:-2]
    assert [r.split()[0] for r in rows][0] == "step"  # the largest total first
    assert sorted(r.split()[0] for r in rows) == sorted(a.key for a in averages)
    assert table.splitlines()[-1].startswith("Self CPU time total:")
    assert len(averages.table(row_limit=2).splitlines()) == 3 + 2 + 2
    assert len(averages.table(row_limit=0).splitlines()) == 3 + len(averages) + 2
    by_count = averages.table(sort_by="count").splitlines()[3].split()
    assert by_count[-1] == str(max(a.count for a in averages))
    assert "Input Shapes" in prof.key_averages(group_by_input_shape=True).table()
    assert averages.table(header="HEADER").splitlines()[1] == "HEADER"
    top = averages.table(top_level_events_only=True)
    assert "step" in top and " Add " not in top
    cells = averages.table(time_unit="ms").splitlines()[3].split()
    assert all(cells[i].endswith("ms") for i in (2, 4, 5))
    assert str(averages) == averages.table()
    assert prof.table().count("step") == 2  # the legacy profile's own table: every event
    with pytest.raises(AttributeError):
        averages.table(sort_by="no_such_reading")
    with pytest.raises(ValueError):
        averages.table(time_unit="hours")


def test_table_of_nothing_is_empty_and_long_names_are_cut():
    assert AP.EventList().table() == ""
    with P.profile() as prof, P.record_function("n" * 80):
        pass
    table = prof.key_averages().table(max_name_column_width=20)
    assert "n" * 17 + "..." in table and "n" * 21 not in table


# ---- the Chrome trace ------------------------------------------------------------------------


def _trace_events(path):
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt") as file:
        document = json.load(file)
    return [e for e in document["traceEvents"] if e["ph"] == "X"]


@pytest.mark.parametrize("name", ["trace.json", "trace.json.gz"])
def test_export_chrome_trace_writes_complete_events_that_nest(tmp_path, name):
    x, w = _inputs()
    with P.profile(record_shapes=True) as prof, P.record_function("outer"):
        _small_step(x, w)
    path = tmp_path / name
    prof.export_chrome_trace(str(path))
    events = _trace_events(path)
    assert os.listdir(tmp_path) == [name]  # (the file written beside is gone)
    assert [e["name"] for e in events] == _names(prof.events())
    for e in events:
        assert {"name", "ph", "ts", "dur", "pid", "tid", "cat"} <= set(e)
        assert e["pid"] == os.getpid() and e["dur"] >= 0
        assert isinstance(e["ts"], float) and isinstance(e["tid"], int)
    outer = events[0]
    assert outer["cat"] == "user_annotation" and events[1]["cat"] == "cpu_op"
    inside = [e for e in events if e["name"] in ("Add", "MatMul", "Relu", "Sum")]
    for e in inside:
        assert outer["ts"] <= e["ts"] and e["ts"] + e["dur"] <= outer["ts"] + outer["dur"] + 1e-3
    assert events[1]["args"]["Input Dims"] == [[6], [6]]


def test_export_before_any_recording_and_stop_without_start_raise_assertion_error(tmp_path):
    prof = P.profile()
    with pytest.raises(AssertionError):
        prof.stop()
    with pytest.raises(AssertionError):
        prof.key_averages()
    with pytest.raises(AssertionError):
        prof.events()
    with pytest.raises(AssertionError):
        prof.export_chrome_trace(str(tmp_path / "t.json"))
    assert Function.__dict__["apply"] is _ENGINE_APPLY


def test_tensorboard_trace_handler_writes_one_file_a_window_into_a_new_directory(tmp_path):
    directory = tmp_path / "logs" / "run"
    x = tg.ones(3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        steps = P.schedule(wait=0, warmup=0, active=2, repeat=2)
    with P.profile(schedule=steps, on_trace_ready=P.tensorboard_trace_handler(
            str(directory), worker_name="w0")) as prof:
        for _ in range(5):
            x + x
            prof.step()
    files = sorted(os.listdir(directory))
    assert len(files) == 2
    for name in files:
        worker, millis, rest = name.split(".", 2)
        assert worker == "w0" and millis.isdigit() and rest == "pt.trace.json"
    assert [[e["name"] for e in _trace_events(directory / name)] for name in files] == [
        ["ProfilerStep#0", "Add", "ProfilerStep#1", "Add"],
        ["ProfilerStep#2", "Add", "ProfilerStep#3", "Add"]]
    zipped = tmp_path / "zipped"
    handler = P.tensorboard_trace_handler(str(zipped), use_gzip=True)
    with P.profile(on_trace_ready=handler):
        x * 2
    (name,) = os.listdir(zipped)
    assert name.endswith(".pt.trace.json.gz") and name.startswith(
        f"{__import__('socket').gethostname()}_{os.getpid()}.")
    assert [e["name"] for e in _trace_events(zipped / name)] == ["Mul"]


# ---- schedules -------------------------------------------------------------------------------


def _actions(steps, n):
    return "".join({"NONE": "-", "WARMUP": "w", "RECORD": "r", "RECORD_AND_SAVE": "S"}[
        steps(i).name] for i in range(n))


def test_schedule_follows_pytorchs_documented_cycle():
    # skip_first steps, then cycles of wait, warmup and active steps, the last active one
    # RECORD_AND_SAVE; repeat cycles (0: forever)
    assert _actions(P.schedule(wait=1, warmup=1, active=2, repeat=2, skip_first=1), 12) == \
        "--wrS-wrS---"
    assert _actions(P.schedule(wait=2, warmup=1, active=3), 13) == "--wrrS--wrrS-"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert _actions(P.schedule(wait=0, warmup=0, active=1), 4) == "SSSS"
        assert _actions(P.schedule(wait=2, warmup=0, active=1, repeat=2, skip_first_wait=1),
                        8) == "S--S----"
    assert _actions(P.schedule(wait=3, warmup=1, active=1, skip_first=2, skip_first_wait=1),
                    9) == "--wS---wS"
    assert P.schedule(wait=1, warmup=1, active=1)(0) is P.ProfilerAction.NONE


def test_schedule_refuses_bad_counts_and_warns_without_warmup():
    for bad in ({"wait": -1, "warmup": 1, "active": 1}, {"wait": 0, "warmup": -1, "active": 1},
                {"wait": 0, "warmup": 1, "active": 0}, {"wait": 0, "warmup": 1, "active": 1,
                                                        "repeat": -1},
                {"wait": 0, "warmup": 1, "active": 1, "skip_first": -2}):
        with pytest.raises(AssertionError):
            P.schedule(**bad)
    with pytest.warns(UserWarning, match="warmup"):
        P.schedule(wait=1, warmup=0, active=1)
    with pytest.raises(AssertionError):
        P.schedule(wait=1, warmup=1, active=1)(-1)


def _run_scheduled(steps, n, **options):
    """Run n steps, each a range it{i}; return what each on_trace_ready call saw."""
    x = tg.ones(3)
    windows = []

    def ready(prof):
        keys = {a.key: a.count for a in prof.key_averages()}
        windows.append((prof.step_num, sorted(k for k in keys if k.startswith("it")),
                        keys.get("ProfilerStep*", 0)))

    with P.profile(schedule=steps, on_trace_ready=ready, **options) as prof:
        for i in range(n):
            with P.record_function(f"it{i}"):
                x + x
            prof.step()
    return windows, prof


def test_a_scheduled_profile_records_the_active_steps_and_hands_over_each_window():
    steps = P.schedule(wait=1, warmup=1, active=2, repeat=2)
    windows, prof = _run_scheduled(steps, 10)
    assert windows == [(4, ["it2", "it3"], 2), (8, ["it6", "it7"], 2)]
    assert prof.step_num == 10
    # after the stop: the last window
    assert sorted(k.key for k in prof.key_averages() if k.key.startswith("it")) == ["it6", "it7"]
    trace_names = {e.trace_name for e in prof.events()}
    assert {"ProfilerStep#6", "ProfilerStep#7"} <= trace_names


def test_a_window_cut_short_by_the_stop_is_handed_over_and_acc_events_keeps_every_window():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        windows, _ = _run_scheduled(P.schedule(wait=0, warmup=0, active=3), 5)
    # (the step begun by the last step() is recorded too, to the stop)
    assert windows == [(3, ["it0", "it1", "it2"], 3), (5, ["it3", "it4"], 3)]
    windows, prof = _run_scheduled(P.schedule(wait=1, warmup=1, active=1), 6,
                                   acc_events=True)
    assert windows == [(3, ["it2"], 1), (6, ["it2", "it5"], 2)]
    # a warmup step at the stop records nothing and hands nothing over
    windows, prof = _run_scheduled(P.schedule(wait=0, warmup=2, active=1), 1)
    assert windows == [] and len(prof.events()) == 0


def test_without_a_schedule_every_step_is_recorded_and_handed_over_once_at_the_stop():
    x = tg.ones(3)
    calls = []
    prof = P.profile(on_trace_ready=calls.append)
    prof.start()
    for i in range(3):
        with P.record_function(f"it{i}"):
            x + x
        prof.step()
    assert calls == []
    prof.stop()
    assert calls == [prof]
    names = _names(prof.key_averages())
    assert names == ["it0", "Add", "it1", "it2"]  # (no ProfilerStep ranges without a schedule)


def test_activities_other_than_the_cpu_warn_and_without_the_cpu_raise():
    assert P.supported_activities() == {P.ProfilerActivity.CPU}
    both = [P.ProfilerActivity.CPU, P.ProfilerActivity.CUDA]
    with pytest.warns(UserWarning, match="CUDA"), P.profile(activities=both) as prof:
        tg.ones(2) * 2
    assert _names(prof.events()) == ["Mul"]
    with pytest.raises(AssertionError), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with P.profile(activities=[P.ProfilerActivity.CUDA]):
            pass
    with pytest.raises(AssertionError):
        P.profile(activities=["cpu"])
    assert Function.__dict__["apply"] is _ENGINE_APPLY


def test_the_legacy_profile_is_not_reentrant_and_holds_nothing_until_it_ends():
    prof = AP.profile()
    with prof:
        tg.ones(2) + 1
        assert len(prof.function_events) == 0 and len(prof.key_averages()) == 0
        with pytest.raises(RuntimeError):
            prof.__enter__()
    assert _names(prof.function_events) == ["Add"]
    with prof:  # entered again, after it ended: a new recording
        tg.ones(2) * 1
    assert _names(prof.function_events) == ["Mul"]
