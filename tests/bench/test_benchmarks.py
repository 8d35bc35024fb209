"""Tests of ``python -m benchmarks``: structure, agreement, arguments and notices, never timings.

The command runs in this process, on small models with the fewest steps pyperf allows; pyperf
starts its worker processes as ``python -m benchmarks --worker ...`` from the repository root.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import subprocess
import sys
from unittest import mock

import numpy as np
import pytest

pyperf = pytest.importorskip("pyperf")

from paths import REPO  # noqa: E402

from benchmarks import cli, engines  # noqa: E402 (after the skip: they need pyperf)
from benchmarks.flops import step_flops  # noqa: E402
from benchmarks.plan import Plan, assign_engines  # noqa: E402
from benchmarks.workloads import BASE, Point, config_of, synthetic_workload  # noqa: E402
from microgpt.model import parameter_shapes  # noqa: E402
from microgpt.train import Hyperparameters  # noqa: E402
from tensorgrad import Tensor, Value  # noqa: E402

HAS_TORCH = importlib.util.find_spec("torch") is not None
HAS_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None
FAST = ["--processes", "1", "--values", "1", "--warmups", "0", "--loops", "1",
        "--peak-size", "32", "--quiet"]
TINY = "n_embd=8,n_head=2,block_size=4"


@pytest.fixture(scope="module", autouse=True)
def in_repository():
    """pyperf's workers import ``benchmarks`` from the working directory, as users run it."""
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(REPO)
        yield


# pyperf allows one Runner per class and process, and remembers the classes by id: each run
# here gets a class of its own, kept alive so that no later class can reuse its id.
RUNNER_CLASSES: list[type] = []


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    """``python -m benchmarks argv`` in this process: (exit status, stdout, stderr)."""
    RUNNER_CLASSES.append(type("Runner", (pyperf.Runner,), {}))
    out, err = io.StringIO(), io.StringIO()
    with mock.patch.object(pyperf, "Runner", RUNNER_CLASSES[-1]), \
            contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = cli.main(argv)
        except SystemExit as exc:
            status = exc.code
    return status, out.getvalue(), err.getvalue()


def notices(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("notice:")]


# ---- a whole run ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def run(tmp_path_factory, in_repository):
    """The default run and the quick batch sweep, two rounds of worker processes."""
    tmp = tmp_path_factory.mktemp("bench")
    status, out, err = run_cli(["--sizes", "default,batch", "--quick", "--engines",
                                "scalar,tensor,numpy", *FAST, "--processes", "2",
                                "--json", str(tmp / "bench.json"), "--plot", str(tmp / "b.png")])
    assert status == 0, err
    return pyperf.BenchmarkSuite.load(str(tmp / "bench.json")), out, tmp


def test_the_json_is_a_pyperf_suite_of_every_engine_at_every_point(run):
    suite = run[0]
    assert suite.get_benchmark_names() == ["default scalar", "default tensor", "default numpy",
                                           "batch=4 tensor", "batch=4 numpy"]
    common = suite.get_metadata()
    assert common["bench_command"].startswith("python -m benchmarks --sizes default,batch")
    assert common["matmul_peak_gflops"] > 0 and common["dtype"] == "float64"
    assert common["cpu_count"] >= 1 and common["numpy_version"] == np.__version__
    for bench in suite.get_benchmarks():
        about = bench.get_metadata()
        assert about["flops_per_step"] > 0 and about["agreement_max_diff"] <= 1e-9
        rounds = [run.get_metadata()["round"] for run in bench.get_runs() if run.values]
        assert sorted(rounds) == [1, 2] and len(bench.get_values()) == 2, bench.get_name()


def test_the_points_metadata_say_what_was_measured(run):
    suite = run[0]
    default = suite.get_benchmark("default tensor").get_metadata()
    assert (default["n_embd"], default["n_head"], default["batch"]) == (16, 4, 1)
    batch = suite.get_benchmark("batch=4 numpy").get_metadata()
    assert (batch["table"], batch["batch"], batch["block_size"]) == ("batch", 4, 16)
    assert batch["flops_per_step"] == step_flops(config_of({**BASE, "batch": 4}), [16] * 4)
    assert batch["skipped"] == "scalar: one document per step only"
    nodes = {name: suite.get_benchmark(f"default {name}").get_metadata()["graph_nodes"]
             for name in ("scalar", "tensor", "numpy")}
    assert nodes["scalar"] > nodes["tensor"] > 0 and nodes["numpy"] == 0


def test_the_report_is_made_from_the_json_alone(run, tmp_path):
    out = run[1]
    assert "## Default run" in out and "## Sweep: batch" in out
    assert "| 4 | numpy |" in out and "Skipped at batch=4: scalar" in out
    status, again, err = run_cli(["--report", str(run[2] / "bench.json")])
    assert status == 0, err
    assert again == out


@pytest.mark.skipif(not HAS_MATPLOTLIB, reason="matplotlib not installed")
def test_the_plot_is_a_png_written_whole(run):
    assert (run[2] / "b.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in run[2].iterdir()) == ["b.png", "bench.json"]


def test_config_times_exactly_that_model(tmp_path, monkeypatch):
    # The workers inherit the environment (OPENBLAS_NUM_THREADS, MALLOC_*: they change the
    # timings); pyperf records this variable of it.
    monkeypatch.setenv("PYTHONHASHSEED", "7")
    path = tmp_path / "r.json"
    status, out, err = run_cli(["--config", "vocab=11,n_embd=8,n_head=2,n_layer=2,block_size=4,"
                                "batch=3", "--engines", "tensor,numpy", *FAST, "--processes",
                                "2", "--sequential", "--json", str(path)])
    assert status == 0, err
    suite = pyperf.BenchmarkSuite.load(str(path))
    for bench in suite.get_benchmarks():
        about = bench.get_metadata()
        assert [about[key] for key in ("vocab", "n_embd", "n_head", "n_layer", "block_size",
                                       "batch", "table")] == [11, 8, 2, 2, 4, 3, "config"]
        # --sequential: one pyperf call starts both of an engine's processes, one round
        assert [run.get_metadata()["round"] for run in bench.get_runs()] == [1, 1]
        assert about["python_hash_seed"] == 7
    assert "## Configurations" in out and "| n_embd 8, n_head 2, n_layer 2" in out


def test_float32_runs_the_engines_that_compute_in_it(tmp_path):
    path = tmp_path / "r.json"
    status, out, err = run_cli(["--config", f"{TINY},dtype=float32", "--engines",
                                "scalar,tensor,numpy", *FAST, "--json", str(path)])
    assert status == 0, err
    assert notices(err) == ["notice: --dtype float32: skipping scalar, numpy (float64 only)"]
    suite = pyperf.BenchmarkSuite.load(str(path))
    assert suite.get_benchmark_names() == [f"vocab=27,{TINY.replace('block', 'n_layer=1,block')},"
                                           f"batch=1 tensor"]
    assert suite.get_metadata()["dtype"] == "float32"
    assert suite.get_metadata()["agreement_tolerance"] == 1e-2


@pytest.mark.parametrize("peaks", [(50.0, 80.0), (80.0, 50.0)])
def test_the_matmul_peak_is_the_better_of_before_and_after_the_timing(tmp_path, monkeypatch,
                                                                      peaks):
    """A moment's load lowers a measured peak (and raises every MFU): the higher one stands."""
    measured = iter(peaks)
    monkeypatch.setattr(cli, "matmul_peak", lambda dtype, size: next(measured))
    path = tmp_path / "r.json"
    status, out, err = run_cli(["--config", TINY, "--engines", "tensor", *FAST, "--json",
                                str(path)])
    assert status == 0, err
    assert pyperf.BenchmarkSuite.load(str(path)).get_metadata()["matmul_peak_gflops"] == 80.0
    assert "the matmul peak, 80.0 GFLOP/s" in out and next(measured, None) is None


def test_each_points_documents_are_named():
    status, out, err = run_cli(["--config", "n_embd=8,n_head=2,block_size=4", "--config",
                                "n_embd=8,n_head=2,block_size=8", "--engines", "tensor", *FAST])
    assert status == 0, err
    assert "Documents: random 4-token documents, random 8-token documents." in out


# ---- errors and notices ---------------------------------------------------------------------


class WrongBeta(engines.NumpyTrainer):  # Adam's beta1 shows from the third loss on
    def __init__(self, state, config, hp):
        super().__init__(state, config, hp)
        self.optimizer.b1 = 0.9


def test_disagreeing_engines_are_an_error_before_any_timing(monkeypatch):
    monkeypatch.setitem(engines.ENGINES, "numpy", engines.Engine(WrongBeta))
    status, out, err = run_cli(["--config", TINY, "--engines", "tensor,numpy", *FAST])
    assert status == 1 and out == ""
    assert "error: the engines disagree" in err and "numpy loss at step 2" in err
    assert "Traceback" not in err and err.count("\n") == 1


class Scaled(engines.Trainer):
    """Losses of a given size, off the reference's by a given fraction."""

    def __init__(self, loss: float, off: float):
        self.value, self.off = loss, off

    def activate(self):
        pass

    def loss(self, batch):
        return self.value

    def update(self, loss, step):
        return loss * (1 + self.off)

    def step(self, batch, step):
        return self.update(self.value, step)


@pytest.mark.parametrize("loss, off, agrees", [(100.0, 5e-3, True), (100.0, 2e-2, False),
                                               (0.5, 1.5e-2, True), (0.5, 4e-2, False)])
def test_agreement_is_relative_to_a_loss_above_one(monkeypatch, loss, off, agrees):
    """float32's rounding, amplified by the first Adam updates, grows with the loss."""
    from benchmarks import measure

    made = {"tensor": Scaled(loss, 0.0), "numpy": Scaled(loss, off)}
    monkeypatch.setattr(measure, "ENGINES", {
        name: mock.Mock(make=lambda *args, name=name: made[name]) for name in made})
    monkeypatch.setattr(measure, "graph_nodes", lambda loss: 0)
    point = Point("p", "config", dict(BASE), engines=["numpy"])
    work = synthetic_workload(dict(BASE), seed=0)
    if agrees:
        measure.check_agreement(point, work, Hyperparameters(), 1e-2)
    else:
        with pytest.raises(measure.EngineDisagreement, match="relative"):
            measure.check_agreement(point, work, Hyperparameters(), 1e-2)


def test_the_agreement_check_leaves_this_process_its_thread_counts():
    """The engines at one thread set tensorgrad's, BLAS's and PyTorch's counts, for the rest
    of a worker; the process that checks them also measures the matmul peak after."""
    import threadpoolctl

    import tensorgrad
    from benchmarks import measure

    def counts():
        blas = [pool["num_threads"] for pool in threadpoolctl.threadpool_info()
                if pool["user_api"] == "blas"]
        torch = sys.modules.get("torch")
        return tensorgrad.get_num_threads(), blas, torch and torch.get_num_threads()

    engines = ["tensor-1t", *(["torch-1t"] if HAS_TORCH else [])]
    if HAS_TORCH:
        import torch  # noqa: F401  (imported first, as the command line does)
    sizes = dict(BASE, n_embd=8, n_head=2, block_size=4)
    before = counts()
    measure.check_agreement(Point("p", "config", sizes, engines=engines),
                            synthetic_workload(sizes, seed=0), Hyperparameters(), 1e-2)
    assert counts() == before


def test_a_worker_that_times_another_benchmark_is_an_error(monkeypatch):
    # pyperf names a worker's benchmark by its index: here this process's order differs.
    timings = Plan.timings
    monkeypatch.setattr(Plan, "timings", lambda plan, point: reversed(list(timings(plan, point))))
    status, out, err = run_cli(["--config", TINY, "--engines", "tensor,numpy", *FAST])
    assert status == 1 and out == ""
    assert "error: a worker process failed: a worker timed" in err and "Traceback" not in err


@pytest.mark.parametrize("config", [
    "n_embd=10,n_head=4", "depth=3", "n_embd=x", "n_embd=0", "n_embd", "vocab=1",
    "dtype=float16", "n_embd=8,,n_head=2",
])
def test_a_bad_config_is_a_one_line_error(config):
    status, out, err = run_cli(["--config", config])
    assert status == 2 and out == ""
    assert err.count("error:") == 1 and "--config" in err and "Traceback" not in err


@pytest.mark.parametrize("argv", [
    ["--processes", "0"], ["--values", "x"], ["--min-time", "0"], ["--engines", "tensor,jax"],
    ["--sizes", "huge"], ["--json", "/no/such/dir/r.json"], ["--data", "/no/such/file"],
    ["--sizes", "seq", "--data", __file__], ["--dtype", "float16"],
    ["--config", TINY, "--sizes", "default"], ["--config", "dtype=float32", "--dtype", "float64"],
    ["--report", __file__], ["--engines", "scalar", "--sizes", "batch", "--quick"],
])
def test_bad_arguments_exit_2_with_one_line(argv):
    status, out, err = run_cli(argv)
    assert status == 2 and out == ""
    assert err.count("error:") == 1 and "Traceback" not in err


def test_bad_argument_from_the_command_line():
    proc = subprocess.run([sys.executable, "-m", "benchmarks", "--config", "depth=3"], cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "'depth=3' is not key=value" in proc.stderr and "Traceback" not in proc.stderr


def test_missing_pyperf_is_a_one_line_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyperf", None)  # makes `import pyperf` raise ImportError
    status, out, err = run_cli(["--config", TINY])
    assert status == 2 and "pyperf is not importable" in err and err.count("\n") == 1


def test_missing_torch_is_a_one_line_notice(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "torch", None)
    status, out, err = run_cli(["--config", TINY, "--engines", "tensor,torch-1t,torch", *FAST,
                                "--json", str(tmp_path / "r.json")])
    assert status == 0, err
    assert len(notices(err)) == 1 and "PyTorch is not importable" in notices(err)[0]
    assert "skipping torch-1t, torch" in notices(err)[0]
    suite = pyperf.BenchmarkSuite.load(str(tmp_path / "r.json"))
    assert [b.get_metadata()["engine"] for b in suite.get_benchmarks()] == ["tensor"]
    assert "torch_version" not in suite.get_metadata() and "no PyTorch" in out


def test_missing_matplotlib_is_a_one_line_notice(run, monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    status, out, err = run_cli(["--report", str(run[2] / "bench.json"),
                                "--plot", str(tmp_path / "p.png")])
    assert status == 0, err
    assert notices(err) == [line for line in err.splitlines() if line]
    assert len(notices(err)) == 1 and "matplotlib is not importable" in notices(err)[0]
    assert not list(tmp_path.iterdir())


# ---- the pieces -----------------------------------------------------------------------------


def test_timings_rotate_the_engines_from_round_to_round():
    point = Point("p", "config", engines=["a", "b", "c"])
    order = [(engine, index) for engine, _, index in Plan([point], "float64", 0, None, 3)
             .timings(point)]
    assert order == [("a", 1), ("b", 1), ("c", 1), ("b", 2), ("c", 2), ("a", 2),
                     ("c", 3), ("a", 3), ("b", 3)]
    plan = Plan([point], "float64", 0, None, 1)
    assert [name for _, name, _ in plan.timings(point)] == ["p a #1", "p b #1", "p c #1"]
    assert Plan.from_json(plan.to_json()) == plan


def test_the_scalar_engine_runs_only_where_it_fits_its_budget():
    small, large = Point("s", "config", dict(BASE)), Point("l", "config", {**BASE, "n_embd": 64})
    default = Point("default", "default")
    assign_engines([small, large, default], ["scalar", "tensor"], scalar_budget=60,
                   scalar_processes=1)
    assert small.engines == default.engines == ["scalar", "tensor"]
    assign_engines([late := Point("s", "config", dict(BASE))], ["scalar"], 0, 1)
    assert late.engines == [] and late.skipped["scalar"].startswith("estimated")


def test_step_flops_are_six_per_weight_and_twelve_per_attention_pair():
    sizes = {**BASE, "n_embd": 8, "n_layer": 3, "vocab": 5}
    config = config_of(sizes)
    weights = sum(rows * cols for name, (rows, cols) in parameter_shapes(config).items()
                  if name not in ("wte", "wpe"))  # lookups, not products
    n = 7
    assert step_flops(config, [n]) == n * (6 * weights + 12 * config.n_layer * 8 * n)
    assert step_flops(config, [n, n]) == 2 * step_flops(config, [n])


def test_graph_nodes_count_shared_nodes_once():
    a = Value(2.0)
    assert engines.graph_nodes(a * a + a) == 3
    x = Tensor(np.ones(3), requires_grad=True)
    assert engines.graph_nodes((x * x).sum()) == 3
    assert engines.graph_nodes((1.0, {})) == 0  # the NumPy baseline's loss: no graph


def test_the_trainers_compute_in_the_dtype_they_are_given():
    work = synthetic_workload({**BASE, "n_embd": 8, "n_head": 2, "block_size": 4}, seed=0)
    hp = Hyperparameters(dtype="float32")
    trainer = engines.ENGINES["tensor"].make(work.state, work.config, hp)
    assert trainer.loss(work.batch(0)).data.dtype == np.float32
    if HAS_TORCH:
        import torch

        torch_trainer = engines.ENGINES["torch-1t"].make(work.state, work.config, hp)
        assert torch_trainer.loss(work.batch(0)).dtype == torch.float32
        # an AccumulateGrad node per parameter, and the operations' nodes
        assert engines.graph_nodes(torch_trainer.loss(work.batch(0))) > 2 * len(work.state)
