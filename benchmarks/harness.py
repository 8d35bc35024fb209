"""The benchmark itself: measure every engine on a workload, for the default run and the sweeps.

``measure_point`` takes one workload through the whole protocol and returns plain data
(JSON-ready dicts): which engines ran and which were skipped and why, the agreement check, each
engine's ms/step (median, min, max over the timed windows) and ratio to the tensor engine, and
its loss after the measured steps. For the default run it also measures each engine's peak
memory and graph size over one step, and the time of the full 1000-step training run (measured,
or extrapolated when that would exceed the run budget).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from microgpt.train import Hyperparameters

from .budget import ScalarBudget, scalar_ops, time_call
from .engines import ENGINES, REFERENCE, ScalarTrainer, Trainer
from .isolation import EngineProcess
from .progress import Progress
from .timing import Lane, check_agreement, max_loss_difference, summarize, timed_windows
from .workloads import Workload, positions_per_step, sweep_values, sweep_workload


@dataclass(frozen=True)
class Plan:
    """How much to measure. Defaults: see ``benchmarks.cli``."""

    steps: int = 100  # steps per timed window, every engine but scalar
    scalar_steps: int = 1  # steps per timed window of the scalar engine
    repeats: int = 5  # timed windows per engine
    warmup: int = 2  # untimed steps after the agreement check
    window_seconds: float = 1.0  # a window stops early (after >= 1 step) once this long
    check_steps: int = 3  # losses before and after the first two Adam updates
    tolerance: float = 1e-9
    scalar_budget: float = 15.0  # seconds of scalar steps allowed per sweep point
    run_steps: int = 1000  # the full training run
    run_budget: float = 60.0  # seconds: a longer full run is extrapolated, not measured
    isolate: bool = True  # each engine in a process of its own (see benchmarks.isolation)
    hp: Hyperparameters = field(default_factory=Hyperparameters)

    def steps_per_window(self, engine: str) -> int:
        return self.scalar_steps if engine == "scalar" else self.steps

    def planned_steps(self, engine: str) -> int:
        """The most steps an engine takes at a sweep point."""
        return self.check_steps + self.warmup + self.repeats * self.steps_per_window(engine)


def calibrate_scalar() -> tuple[float, float]:
    """Time one scalar step on a tiny model: (seconds, scalar ops of that step)."""
    workload = sweep_workload("seq", 4, tiny=True)
    trainer = ScalarTrainer(workload.state, workload.config, Hyperparameters())
    trainer.step(workload.batch(0), 0)
    seconds = time_call(lambda: trainer.step(workload.batch(1), 1))
    return seconds, scalar_ops(workload.config, workload.config.block_size)


class Harness:
    """Runs the protocol on workloads for a fixed set of engines."""

    def __init__(self, engines: Sequence[str], plan: Plan, progress: Progress):
        self.engines, self.plan, self.progress = list(engines), plan, progress
        self.scalar_budget = ScalarBudget(plan.scalar_budget, calibrate_scalar)
        self._measured: dict[tuple, dict[str, Any]] = {}  # sweep points by workload identity

    # ---- one point ------------------------------------------------------------------------------

    def measure_point(self, workload: Workload, full: bool = False) -> dict[str, Any]:
        """Measure every engine on ``workload``; ``full`` adds memory, graph and full run."""
        plan, progress = self.plan, self.progress
        skipped = self._skipped(workload, always_scalar=full)
        names = [name for name in self.engines if name not in skipped]
        progress.point(f"{workload.label}: building {', '.join(names) or 'no engines'}")
        lanes: list[Lane] = []
        extra: list[Lane] = []  # the reference engine, when it is not one of those timed
        try:
            for name in names:
                lanes.append(Lane(name, self._trainer(name, workload),
                                  plan.steps_per_window(name)))
            reference = next((lane for lane in lanes if lane.name == REFERENCE), None)
            if reference is None:
                reference = Lane(REFERENCE, self._trainer(REFERENCE, workload), 0)
                extra.append(reference)
            return self._measure_lanes(workload, lanes, reference, skipped, full)
        finally:
            for lane in [*lanes, *extra]:
                lane.trainer.close()

    def _trainer(self, name: str, workload: Workload) -> Trainer | EngineProcess:
        """Engine ``name``'s trainer for ``workload``: in a worker process unless told not to."""
        if self.plan.isolate:
            return EngineProcess(name, workload, self.plan.hp)
        return ENGINES[name].make(workload.state, workload.config, self.plan.hp)

    def _measure_lanes(self, workload: Workload, lanes: list[Lane], reference: Lane,
                       skipped: dict[str, str], full: bool) -> dict[str, Any]:
        plan, progress = self.plan, self.progress
        by_name = {lane.name: lane for lane in lanes}

        progress.point(f"{workload.label}: checking that the engines agree")
        worst = check_agreement(lanes, reference, workload, plan.check_steps, plan.tolerance)
        for lane in lanes:
            lane.advance(workload, plan.warmup)
        progress.point(f"{workload.label}: timing {len(lanes)} engines x {plan.repeats} windows")
        timed_windows(lanes, workload, plan.repeats, lambda lane, r: progress.detail(
            f"{workload.label}: {lane.name} window {r + 1}/{plan.repeats}"),
            max_seconds=plan.window_seconds)
        if "scalar" in by_name:
            self.scalar_budget.observe(by_name["scalar"].timed_seconds,
                                       self._scalar_ops(workload, by_name["scalar"].timed_steps))

        results = {lane.name: self._timing_result(lane, by_name.get(REFERENCE), reference)
                   for lane in lanes}
        if full:
            for lane in lanes:
                results[lane.name] |= self._footprint(workload, lane)
            for lane in lanes:
                results[lane.name]["full_run"] = self._full_run(workload, lane)
        return {
            "workload": workload.summary(),
            "agreement": {
                "checked_steps": plan.check_steps,
                "reference": REFERENCE,
                "tolerance": plan.tolerance,
                "max_abs_diff": worst,
                "passed": True,  # a failure raises EngineDisagreement instead
            },
            "engines": {name: results.get(name) or {"skipped": skipped[name]}
                        for name in self.engines},
        }

    def _skipped(self, workload: Workload, always_scalar: bool) -> dict[str, str]:
        """Engines that do not run on ``workload``, with the reason."""
        skipped = {}
        for name in self.engines:
            if workload.batch_size > 1 and not ENGINES[name].batched:
                skipped[name] = "no batched loss: one document per step only"
            elif name == "scalar" and not always_scalar:
                steps = range(self.plan.planned_steps("scalar"))
                fits, estimate = self.scalar_budget.fits(self._scalar_ops(workload, steps))
                if not fits:
                    skipped[name] = (f"estimated {estimate:.3g} s for {len(steps)} steps > "
                                     f"--scalar-budget {self.plan.scalar_budget:g} s")
        return skipped

    @staticmethod
    def _scalar_ops(workload: Workload, steps: Sequence[int]) -> float:
        return sum(scalar_ops(workload.config, n) for n in positions_per_step(workload, steps))

    def _timing_result(self, lane: Lane, timed_reference: Lane | None,
                       reference: Lane) -> dict[str, Any]:
        summary = summarize(lane, timed_reference)
        diff, common = max_loss_difference(lane, reference)
        return {
            "ms_per_step": {"median": summary.median_ms, "min": summary.min_ms,
                            "max": summary.max_ms, "mean": summary.mean_ms,
                            "windows": summary.window_ms},
            "steps_per_window": lane.steps_per_window,
            "window_steps": lane.window_steps,
            "windows": len(lane.window_ms),
            "ratio_to_tensor": summary.ratio_to_reference,
            "steps_run": lane.steps_taken,
            "loss_after_measured_steps": lane.losses[-1],
            "losses": lane.losses,
            "max_abs_loss_diff_vs_tensor": diff,
            "steps_compared_with_tensor": common,
        }

    # ---- default-run extras -----------------------------------------------------------------

    def _footprint(self, workload: Workload, lane: Lane) -> dict[str, Any]:
        """Peak memory and graph size of one more step, on the workload's first batch."""
        self.progress.point(f"{workload.label}: memory and graph size of {lane.name}")
        return {**lane.trainer.footprint(workload, lane.steps_taken),
                "footprint_positions": positions_per_step(workload, [0])[0] * workload.batch_size}

    def _full_run(self, workload: Workload, lane: Lane) -> dict[str, Any]:
        """The full training run from the initial weights: timed, or extrapolated if too long."""
        steps = self.plan.run_steps
        if lane.name == "scalar":  # the cost model follows the documents' lengths
            rate = lane.timed_seconds / self._scalar_ops(workload, lane.timed_steps)
            estimate = rate * self._scalar_ops(workload, range(steps))
            basis = f"scalar cost model fitted to {len(lane.timed_steps)} timed steps"
        else:
            estimate = statistics.fmean(lane.window_ms) * steps / 1e3
            basis = f"mean ms/step of {len(lane.timed_steps)} timed steps"
        if estimate > self.plan.run_budget:
            return {"steps": steps, "seconds": estimate, "extrapolated": True, "basis": basis,
                    "final_loss": None}
        # From the initial weights again, in the lane's own process if it has one: a process
        # that has trained already, as the process of a training run is after its first steps.
        if isinstance(lane.trainer, EngineProcess):
            lane.trainer.restart()
            run = Lane(lane.name, lane.trainer, steps)
        else:
            run = Lane(lane.name, self._trainer(lane.name, workload), steps)
        label = f"{workload.label}: full {steps}-step run of {lane.name}"
        self.progress.point(f"{label} (about {estimate:.0f} s)")
        start = time.perf_counter()
        chunk = max(1, steps // 20)
        while run.steps_taken < steps:
            run.advance(workload, min(chunk, steps - run.steps_taken))
            self.progress.detail(f"{label}: step {run.steps_taken}/{steps}")
        return {"steps": steps, "seconds": time.perf_counter() - start, "extrapolated": False,
                "basis": "measured", "final_loss": run.losses[-1]}

    # ---- sweeps -----------------------------------------------------------------------------

    def sweep(self, name: str, mode: str, seed: int) -> dict[str, Any]:
        """Measure every engine at each size of sweep ``name``."""
        from .workloads import SWEEPS

        parameter = SWEEPS[name][0]
        points = []
        for value in sweep_values(name, mode):
            workload = sweep_workload(name, value, seed, tiny=(mode == "tiny"))
            # The base model appears in several sweeps: measure it once, show it in each.
            key = (workload.config, workload.batch_size, seed)
            if key in self._measured:
                point = {**self._measured[key], "same_as": self._measured[key]["workload"]}
                self.progress.point(f"{workload.label}: same configuration as "
                                    f"{point['same_as']['label']}, measured once")
            else:
                point = self._measured[key] = self.measure_point(workload)
            points.append({"value": value, **point})
        return {"parameter": parameter, "points": points}


def run_suite(harness: Harness, default: Workload | None, sweeps: Sequence[str], mode: str,
              seed: int, on_done: Callable[[str], None] | None = None) -> dict[str, Any]:
    """The default run (if given) and the named sweeps, as one results dict."""
    results: dict[str, Any] = {"default": None, "sweeps": {}}
    if default is not None:
        results["default"] = harness.measure_point(default, full=True)
        if on_done:
            on_done("default")
    for name in sweeps:
        results["sweeps"][name] = harness.sweep(name, mode, seed)
        if on_done:
            on_done(name)
    return results
