"""Tests of ``python -m benchmarks`` and of the NumPy baseline it times against gpt_tensor.

The CLI runs in this process on tiny models with one-step windows (its engines in worker
processes, as it runs them), so these tests check structure and agreement, never timings.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import random
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from benchmarks import cli, engines, numpy_gpt
from benchmarks.engines import count_reachable
from benchmarks.isolation import EngineProcess, WorkerError
from benchmarks.progress import Progress
from benchmarks.timing import Lane, timed_windows
from benchmarks.workloads import sweep_workload
from microgpt import gpt_tensor
from microgpt.model import GPTConfig, init_state_dict, pad_batch
from microgpt.train import Hyperparameters

REPO = Path(__file__).resolve().parent.parent
HAS_TORCH = importlib.util.find_spec("torch") is not None
HAS_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None
TINY = ["--tiny", "--quick", "--steps", "1", "--repeats", "2", "--warmup", "0",
        "--run-steps", "20", "--no-progress"]


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    """``python -m benchmarks argv`` in process: (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = cli.main(argv)
        except SystemExit as exc:
            status = exc.code
    return status, out.getvalue(), err.getvalue()


# ---- a whole (tiny) run -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """One tiny run of every engine: the default run (some full runs measured, some
    extrapolated) and the batch sweep (the scalar engine skipped at every point)."""
    tmp = tmp_path_factory.mktemp("bench")
    argv = [*TINY, "--sizes", "default,batch", "--scalar-budget", "0", "--run-budget", "0.2",
            "--json", str(tmp / "bench.json"), "--plot", str(tmp / "bench.png")]
    status, out, err = run_cli(argv)
    assert status == 0, err
    return json.loads((tmp / "bench.json").read_text()), out, err, tmp


def test_json_records_machine_and_command(tiny_run):
    results = tiny_run[0]
    machine = results["machine"]
    for key in ("cpu", "cores", "python", "numpy", "blas", "torch", "date",
                "load_average_at_start", "load_average_at_end"):
        assert key in machine
    assert machine["cpu"] and machine["cores"] >= 1 and machine["blas"]["source"]
    assert (machine["torch"] is not None) == HAS_TORCH
    assert results["command"].startswith("python -m benchmarks --tiny")
    assert "--json" in results["argv"]
    assert results["settings"]["steps"] == 1 and results["settings"]["run_steps"] == 20


def test_default_run_has_every_figure_per_engine(tiny_run):
    default = tiny_run[0]["default"]
    expected = ["scalar", "tensor", "numpy"] + (["torch-1t", "torch"] if HAS_TORCH else [])
    assert list(default["engines"]) == expected
    for name, result in default["engines"].items():
        ms = result["ms_per_step"]
        assert 0 < ms["min"] <= ms["median"] <= ms["max"], name
        assert len(ms["windows"]) == result["windows"] == 2
        assert result["ratio_to_tensor"] > 0
        run = result["full_run"]
        assert run["steps"] == 20 and run["seconds"] > 0
        assert (run["final_loss"] is None) == run["extrapolated"]
        assert result["peak_memory_bytes"] is None or result["peak_memory_bytes"] > 0
        assert result["memory_method"] and result["graph_method"]
        assert np.isfinite(result["loss_after_measured_steps"])
    nodes = {name: r["graph_nodes"] for name, r in default["engines"].items()}
    assert nodes["numpy"] == 0
    assert nodes["scalar"] > nodes["tensor"] > 0
    assert default["engines"]["tensor"]["ratio_to_tensor"] == 1.0
    # The run budget (0.2 s for 20 steps) sits far from both engines' speeds.
    assert default["engines"]["scalar"]["full_run"]["extrapolated"]
    assert not default["engines"]["tensor"]["full_run"]["extrapolated"]


def test_engines_compute_the_same_losses(tiny_run):
    results = tiny_run[0]
    points = [results["default"], *results["sweeps"]["batch"]["points"]]
    for point in points:
        assert point["agreement"]["passed"] and point["agreement"]["max_abs_diff"] <= 1e-9
        reference = point["engines"]["tensor"]["losses"]
        for name, result in point["engines"].items():
            if "skipped" in result:
                continue
            common = min(len(reference), len(result["losses"]))
            assert common >= 3, name
            np.testing.assert_allclose(result["losses"][:common], reference[:common],
                                       rtol=0, atol=1e-9, err_msg=name)
    final = [r["full_run"]["final_loss"] for r in results["default"]["engines"].values()]
    measured = [loss for loss in final if loss is not None]
    assert len(measured) >= 2 and max(measured) - min(measured) <= 1e-9


def test_sweep_entries_and_skipped_scalar(tiny_run):
    results, out = tiny_run[0], tiny_run[1]
    sweep = results["sweeps"]["batch"]
    assert sweep["parameter"].startswith("batch size")
    assert [p["value"] for p in sweep["points"]] == [1, 3]
    for point in sweep["points"]:
        assert point["workload"]["batch_size"] == point["value"]
        assert point["engines"]["tensor"]["ms_per_step"]["median"] > 0
        assert "budget" in point["engines"]["scalar"]["skipped"] or point["value"] > 1
    assert "batched" in sweep["points"][1]["engines"]["scalar"]["skipped"]
    assert "## Sweep: batch size" in out and "| engine |" in out
    assert "— [1]" in out and "[2] scalar: no batched loss" in out


@pytest.mark.skipif(not HAS_MATPLOTLIB, reason="matplotlib not installed")
def test_plot_is_a_png(tiny_run):
    tmp = tiny_run[3]
    assert (tmp / "bench.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in tmp.iterdir()) == ["bench.json", "bench.png"]  # no temp files


def test_the_base_model_is_measured_once_and_shown_in_each_sweep(tmp_path):
    status, out, err = run_cli([*TINY, "--engines", "tensor", "--sizes", "n_layer,batch",
                                "--json", str(tmp_path / "r.json")])
    assert status == 0, err
    sweeps = json.loads((tmp_path / "r.json").read_text())["sweeps"]
    first, again = sweeps["n_layer"]["points"][0], sweeps["batch"]["points"][0]
    assert again["same_as"]["label"] == "n_layer=1" and "same_as" not in first
    assert again["engines"] == first["engines"]
    assert "| 1 (= n_layer=1) |" in out


# ---- optional dependencies --------------------------------------------------------------------

SMALL = [*TINY, "--sizes", "default", "--run-budget", "0"]


def test_missing_torch_is_a_one_line_notice(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "torch", None)  # makes `import torch` raise ImportError
    status, out, err = run_cli([*SMALL, "--engines", "tensor,torch-1t,torch",
                                "--json", str(tmp_path / "r.json")])
    assert status == 0, err
    notices = [line for line in err.splitlines() if line.startswith("notice:")]
    assert len(notices) == 1 and "PyTorch is not importable" in notices[0]
    assert "skipping torch-1t, torch" in notices[0]
    results = json.loads((tmp_path / "r.json").read_text())
    assert list(results["default"]["engines"]) == ["tensor"]
    assert results["machine"]["torch"] is None and results["notices"]


def test_missing_matplotlib_is_a_one_line_notice(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    status, out, err = run_cli([*TINY, "--engines", "tensor", "--sizes", "seq",
                                "--plot", str(tmp_path / "p.png")])
    assert status == 0, err
    notices = [line for line in err.splitlines() if line.startswith("notice:")]
    assert len(notices) == 1 and "matplotlib is not importable" in notices[0]
    assert "skipping --plot" in notices[0]
    assert not list(tmp_path.iterdir())


# ---- float32 ----------------------------------------------------------------------------------


def test_float32_runs_the_engines_that_compute_in_it(tmp_path):
    names = "scalar,tensor,numpy,torch-1t" if HAS_TORCH else "scalar,tensor,numpy"
    status, out, err = run_cli([*SMALL, "--dtype", "float32", "--engines", names,
                                "--json", str(tmp_path / "r.json")])
    assert status == 0, err
    notices = [line for line in err.splitlines() if line.startswith("notice:")]
    assert notices == ["notice: --dtype float32: skipping scalar, numpy (float64 only)"]
    assert "Every engine computes in float32." in out
    results = json.loads((tmp_path / "r.json").read_text())
    ran = results["default"]["engines"]
    assert list(ran) == (["tensor", "torch-1t"] if HAS_TORCH else ["tensor"])
    assert results["settings"]["hp"]["dtype"] == "float32"
    agreement = results["default"]["agreement"]
    assert agreement["tolerance"] == 1e-2 and agreement["max_abs_diff"] < 1e-4


def test_the_trainers_compute_in_the_dtype_they_are_given():
    workload = sweep_workload("n_embd", 8, tiny=True)
    trainer = engines.TensorTrainer(workload.state, workload.config,
                                    Hyperparameters(dtype="float32"))
    loss = trainer.loss(workload.batch(0))
    assert loss.data.dtype == np.float32
    assert {p.data.dtype for p in trainer.params.values()} == {np.dtype(np.float32)}
    if HAS_TORCH:
        import torch
        torch_trainer = engines.TorchTrainer(workload.state, workload.config,
                                             Hyperparameters(dtype="float32"), threads=1)
        assert torch_trainer.loss(workload.batch(0)).dtype == torch.float32


# ---- errors -----------------------------------------------------------------------------------


def test_disagreeing_engines_are_an_error(monkeypatch):
    class WrongBeta(engines.NumpyTrainer):  # Adam's beta1 shows from the third loss on
        def __init__(self, state, config, hp):
            super().__init__(state, config, hp)
            self.optimizer.b1 = 0.9

    monkeypatch.setitem(engines.ENGINES, "numpy",
                        engines.Engine("numpy", "broken", True, WrongBeta))
    # In process: a worker process would not see the monkeypatched engine.
    status, out, err = run_cli([*SMALL, "--engines", "tensor,numpy", "--in-process"])
    assert status == 1
    assert "the engines disagree" in err and "numpy loss at step 2" in err
    assert out == "" and "Traceback" not in err


@pytest.mark.parametrize("argv", [
    ["--steps", "0"], ["--repeats", "x"], ["--engines", "tensor,jax"], ["--sizes", "huge"],
    ["--scalar-budget", "-1"], ["--json", "/no/such/dir/r.json"], ["--data", "/no/such/file"],
    ["--sizes", "seq", "--data", __file__], ["--dtype", "float16"],
])
def test_bad_arguments_exit_2_with_one_line(argv):
    status, out, err = run_cli(argv)
    assert status == 2
    assert err.count("error:") == 1 and "Traceback" not in err


def test_bad_argument_from_the_command_line():
    proc = subprocess.run([sys.executable, "-m", "benchmarks", "--engines", "nope"], cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "unknown engine 'nope'" in proc.stderr and "Traceback" not in proc.stderr


# ---- the pieces -------------------------------------------------------------------------------


class _OneDocument:
    def batch(self, step):
        return [[0, 1]]


class _Recorder(engines.Trainer):
    def __init__(self, name: str, log: list[str]):
        self.name, self.log = name, log

    def step(self, batch, step):
        self.log.append(self.name)
        return 0.0


def test_windows_interleave_round_robin_with_rotating_order():
    log: list[str] = []
    lanes = [Lane(name, _Recorder(name, log), steps) for name, steps in
             (("a", 2), ("b", 1), ("c", 1))]
    timed_windows(lanes, workload=_OneDocument(), repeats=3)
    assert log == ["a", "a", "b", "c", "b", "c", "a", "a", "c", "a", "a", "b"]
    assert [len(lane.window_ms) for lane in lanes] == [3, 3, 3]
    assert lanes[0].timed_steps == list(range(6))


def test_a_window_stops_early_once_its_time_is_up():
    log: list[str] = []
    slow, fast = Lane("slow", _Recorder("slow", log), 5), Lane("fast", _Recorder("fast", log), 3)
    slow.trainer.step = lambda batch, step: time.sleep(0.002) or 0.0
    timed_windows([slow, fast], workload=_OneDocument(), repeats=2, max_seconds=0.001)
    assert slow.window_steps == [1, 1] and slow.steps_taken == 2
    assert fast.window_steps == [3, 3]  # 3 quick steps: the limit is not reached


def test_an_engine_in_its_own_process_trains_as_it_does_in_this_one():
    workload = sweep_workload("seq", 4, tiny=True)
    local = engines.ENGINES["tensor"].make(workload.state, workload.config, Hyperparameters())
    remote = EngineProcess("tensor", workload, Hyperparameters())
    try:
        first = local.run_steps(workload, 0, 3)[0]
        assert remote.run_steps(workload, 0, 3)[0] == first
        losses, seconds = remote.run_steps(workload, 3, 2)
        assert losses == local.run_steps(workload, 3, 2)[0] and seconds > 0
        assert remote.footprint(workload, 5)["graph_nodes"] == 23
        remote.restart()  # from the initial weights again
        assert remote.run_steps(workload, 0, 3)[0] == first
    finally:
        remote.close()
    assert not remote._process.is_alive()


def test_a_failing_worker_raises_its_error_here():
    workload = sweep_workload("seq", 4, tiny=True)
    worker = EngineProcess("no-such-engine", workload, Hyperparameters())
    try:
        with pytest.raises(WorkerError, match="no-such-engine: KeyError"):
            worker.run_steps(workload, 0, 1)
    finally:
        worker.close()


def test_isolated_and_in_process_runs_measure_the_same_training(tmp_path):
    losses = {}
    for mode in ([], ["--in-process"]):
        path = tmp_path / f"r{len(mode)}.json"
        status, out, err = run_cli([*SMALL, "--engines", "tensor,numpy", *mode,
                                    "--json", str(path)])
        assert status == 0, err
        results = json.loads(path.read_text())
        assert results["settings"]["isolate"] is not bool(mode)
        assert ("each engine in a process of its own" in out) is not bool(mode)
        losses[bool(mode)] = {name: r["losses"] for name, r in
                              results["default"]["engines"].items()}
    assert losses[True] == losses[False]


def test_count_reachable_counts_shared_nodes_once():
    graph = {"loss": ["x", "y"], "x": ["w"], "y": ["w", "x"], "w": []}
    assert count_reachable("loss", graph.__getitem__) == 4


def test_pad_batch_pads_after_each_document():
    inputs, targets, mask = pad_batch([[9, 1, 2, 9], [9, 3, 9], [9, 1, 2, 3, 4, 5, 9]], 4)
    assert inputs.tolist() == [[9, 1, 2, 9], [9, 3, 9, 0], [9, 1, 2, 3]]
    assert targets.tolist() == [[1, 2, 9, 0], [3, 9, 0, 0], [1, 2, 3, 4]]
    assert mask.tolist() == [[1, 1, 1, 0], [1, 1, 0, 0], [1, 1, 1, 1]]


def test_progress_rewrites_a_line_on_a_terminal_and_prints_lines_otherwise():
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    terminal, log = Terminal(), io.StringIO()
    for stream in (terminal, log):
        progress = Progress(stream)
        progress.point("phase one")
        progress.detail("window 1/3")
        progress.clear()
    assert terminal.getvalue().count("\r") >= 3 and "\n" not in terminal.getvalue()
    assert log.getvalue().count("\n") == 1 and "phase one" in log.getvalue()
    assert "window" not in log.getvalue()



# ---- the NumPy baseline against gpt_tensor ----------------------------------------------------

CONFIG = GPTConfig(vocab_size=27, n_embd=16, n_head=4, n_layer=2, block_size=8)


def _tensor_loss_and_grads(loss_fn, *args) -> tuple[float, dict[str, np.ndarray]]:
    params = gpt_tensor.from_state_dict(init_state_dict(CONFIG, random.Random(3)))
    loss = loss_fn(params, CONFIG, *args)
    loss.backward()
    return float(loss.data), gpt_tensor.grads(params)


def _assert_same(numpy_result, tensor_result) -> None:
    (loss_n, grads_n), (loss_t, grads_t) = numpy_result, tensor_result
    assert abs(loss_n - loss_t) <= 1e-10
    assert list(grads_n) == list(grads_t)
    for name in grads_t:
        np.testing.assert_allclose(grads_n[name], grads_t[name], rtol=0, atol=1e-10,
                                   err_msg=name)


def test_numpy_gpt_matches_gpt_tensor_on_one_document():
    tokens = [26, 4, 12, 12, 0, 25, 3, 26]  # 7 positions, block 8
    expected = _tensor_loss_and_grads(gpt_tensor.document_loss, tokens)
    state = init_state_dict(CONFIG, random.Random(3))
    ids = np.array(tokens)
    _assert_same(numpy_gpt.loss_and_grads(state, ids[:-1], ids[1:], None, CONFIG.n_head),
                 expected)


def test_numpy_gpt_matches_gpt_tensor_on_a_padded_batch():
    rng = random.Random(5)
    batch = [[26, *rng.choices(range(26), k=length), 26] for length in (2, 11, 5, 0)]
    expected = _tensor_loss_and_grads(gpt_tensor.batch_loss, batch)
    # Padded by hand, the way batch_loss documents it: n = 8 (block), each row's real tokens
    # first, padding 0 after them, mask 1 on the real positions.
    lengths = [min(8, len(tokens) - 1) for tokens in batch]
    ids = np.zeros((4, 9), dtype=np.int64)
    mask = np.zeros((4, 8))
    for row, (tokens, n) in enumerate(zip(batch, lengths)):
        ids[row, : n + 1] = tokens[: n + 1]
        mask[row, :n] = 1
    state = init_state_dict(CONFIG, random.Random(3))
    _assert_same(numpy_gpt.loss_and_grads(state, ids[:, :-1], ids[:, 1:], mask, CONFIG.n_head),
                 expected)
