"""Measuring a plan: the agreement check in this process, then pyperf times every engine.

pyperf (the harness of CPython's benchmark suite) starts the worker processes, each a fresh
``python -m benchmarks --worker ...`` with the plan on its command line, so that no engine's
timing depends on what ran before it in a process (the memory allocator's state, BLAS and
OpenMP thread pools). It calibrates the steps per value, runs the warm-ups and values, collects
the machine's metadata and statistics, and holds the results as a ``pyperf.BenchmarkSuite``,
which is also the JSON file. Ours: the agreement check before any timing, the function a
worker times (``StepTimer``), and the order of the timings (``Plan.timings``): a benchmark per
round, whose runs are merged into one benchmark per engine and point, each run tagged with
its round.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import pyperf
import threadpoolctl

import tensorgrad
from microgpt.train import Hyperparameters

from .engines import ENGINES, REFERENCE, graph_nodes
from .flops import step_flops
from .plan import CHECK_STEPS, SCALAR_SETTINGS, Plan
from .workloads import Point, Workload, workload


class EngineDisagreement(Exception):
    """Two engines computed different losses for the same step: a bug, not a timing detail."""


def make_runner(plan: Plan | None = None) -> pyperf.Runner:
    """pyperf's runner; its workers run ``python -m benchmarks --worker ... --plan JSON``."""
    plan_json = plan.to_json() if plan else ""
    runner = pyperf.Runner(program_args=("-m", "benchmarks"),
                           add_cmdline_args=lambda cmd, args: cmd.extend(("--plan", plan_json)))
    runner.argparser.add_argument("--plan", help=argparse.SUPPRESS)
    return runner


def serve(argv: list[str]) -> int:
    """A pyperf worker: define the plan's benchmarks in order; pyperf runs the one it names."""
    runner = make_runner()
    plan = Plan.from_json(runner.parse_args(argv).plan)
    for point in plan.points:
        for engine, name, _ in plan.timings(point):
            runner.bench_time_func(name, StepTimer(plan, point, engine))
    return 0


class StepTimer:
    """What a worker times: ``loops`` training steps of one engine at one point per call. The
    trainer is built at the first call, so only in the worker that runs this benchmark."""

    def __init__(self, plan: Plan, point: Point, engine: str):
        self.plan, self.point, self.engine = plan, point, engine
        self.hp = Hyperparameters(dtype=plan.dtype)
        self.work: Workload | None = None
        self.steps = 0

    def __call__(self, loops: int) -> float:
        if self.work is None:
            self.work = workload(self.point, self.plan.seed, self.plan.data)
            self.trainer = ENGINES[self.engine].make(self.work.state, self.work.config, self.hp)
        self.trainer.activate()
        first, self.steps = self.steps, self.steps + loops
        start = time.perf_counter()
        for step in range(first, self.steps):
            # The learning rate's decay restarts every hp.steps steps: it must stay positive.
            self.trainer.step(self.work.batch(step), step % self.hp.steps)
        return time.perf_counter() - start


def check_agreement(point: Point, work: Workload, hp: Hyperparameters,
                    tolerance: float) -> tuple[float, dict[str, int]]:
    """Train each engine of ``point`` and the reference here for ``CHECK_STEPS`` steps and hold
    every loss against the reference's: step 0 checks the forward pass, the later ones the
    gradients and Adam. A difference counts relative to the loss where the loss exceeds 1.
    Returns the largest difference and each engine's graph nodes at step 0; raises
    ``EngineDisagreement`` if a difference exceeds ``tolerance``."""
    losses, nodes = {}, {}
    with _thread_counts_kept():
        for engine in dict.fromkeys((REFERENCE, *point.engines)):
            trainer = ENGINES[engine].make(work.state, work.config, hp)
            trainer.activate()
            loss = trainer.loss(work.batch(0))
            nodes[engine] = graph_nodes(loss)
            losses[engine] = [trainer.update(loss, 0)]
            losses[engine] += [trainer.step(work.batch(step), step)
                               for step in range(1, CHECK_STEPS)]
    worst = 0.0
    for engine in point.engines:
        for step, (loss, expected) in enumerate(zip(losses[engine], losses[REFERENCE])):
            diff = abs(loss - expected) / max(1.0, abs(expected))
            if not diff <= tolerance:  # also catches NaN
                raise EngineDisagreement(
                    f"{point.label}: {engine} loss at step {step} is {loss!r}, {REFERENCE} "
                    f"gives {expected!r} (|diff| {abs(loss - expected):.3g}, relative "
                    f"{diff:.3g} > {tolerance:g})")
            worst = max(worst, diff)
    return worst, nodes


@contextlib.contextmanager
def _thread_counts_kept() -> Iterator[None]:
    """Put back the thread counts an engine's ``activate`` sets (tensorgrad's, BLAS's and
    PyTorch's): a worker keeps them for its one engine; this process, which also measures
    the matmul peak, must not (one check of ``tensor-1t`` left it at one thread)."""
    torch = sys.modules.get("torch")
    threads, torch_threads = tensorgrad.get_num_threads(), torch and torch.get_num_threads()
    try:
        with threadpoolctl.threadpool_limits(None):  # BLAS's as they were, on leaving
            yield
    finally:
        tensorgrad.set_num_threads(threads)
        if torch is not None:
            torch.set_num_threads(torch_threads)


def measure(plan: Plan, runner: pyperf.Runner, tolerance: float,
            say: Callable[[str], None]) -> list[pyperf.Benchmark]:
    """Check and time every point of ``plan``: one benchmark per point and engine, whose
    metadata say what was measured (``benchmarks.report`` reads them)."""
    hp = Hyperparameters(dtype=plan.dtype)
    defaults = {name: getattr(runner.args, name) for name in SCALAR_SETTINGS}
    merged: dict[str, pyperf.Benchmark] = {}
    for point in plan.points:
        work = workload(point, plan.seed, plan.data)
        say(f"{point.label}: checking that the engines agree")
        worst, nodes = check_agreement(point, work, hp, tolerance)
        about = point_metadata(point, work, worst, tolerance)
        loops: dict[str, int] = {}  # calibrated in an engine's first round, kept in the others
        for engine, name, round_index in plan.timings(point):
            # pyperf's settings for this benchmark's workers are those of its arguments.
            vars(runner.args).update(SCALAR_SETTINGS if engine == "scalar" else
                                     {**defaults, "loops": loops.get(engine, defaults["loops"])})
            with contextlib.redirect_stdout(sys.stderr):  # pyperf's progress; stdout: the report
                bench = runner.bench_time_func(name, StepTimer(plan, point, engine))
            if bench.get_name() != name:  # the worker's plan walked differently from this one
                raise RuntimeError(f"a worker timed {bench.get_name()!r}, not {name!r}")
            loops.setdefault(engine, bench.get_loops())
            bench.update_metadata({**about, "name": f"{point.label} {engine}", "engine": engine,
                                   "round": round_index, "graph_nodes": nodes[engine]})
            if bench.get_name() in merged:
                merged[bench.get_name()].add_runs(bench)
            else:
                merged[bench.get_name()] = bench
    return list(merged.values())


def point_metadata(point: Point, work: Workload, worst: float,
                   tolerance: float) -> dict[str, Any]:
    """What the report needs to know about a point, as pyperf metadata (str, int, float)."""
    c = work.config
    about: dict[str, Any] = {
        "point": point.label, "table": point.table, "vocab": c.vocab_size, "n_embd": c.n_embd,
        "n_head": c.n_head, "n_layer": c.n_layer, "block_size": c.block_size,
        "batch": work.batch_size, "documents": work.description,
        # the mean over the documents: steps cycle through them all
        "flops_per_step": step_flops(c, work.positions()) * work.batch_size / len(work.docs),
        "agreement_max_diff": worst, "agreement_tolerance": tolerance,
    }
    if point.skipped:
        about["skipped"] = "; ".join(f"{name}: {why}" for name, why in point.skipped.items())
    return about
