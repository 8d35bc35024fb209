"""What a run measures: the points, the engines timed at each, and the order of the timings.

The plan travels to pyperf's worker processes as JSON on their command line. pyperf tells a
worker which benchmark to run by its index in the sequence of benchmarks the program defines,
so this process and every worker walk the same ``Plan.timings``.

The scalar engine builds one Python object per arithmetic operation, so its step time follows
the number of operations: ``scalar_ops`` counts them, one timed step of a small model gives
the seconds per operation, and a point whose scalar steps would exceed the time budget runs
without the scalar engine.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass

from microgpt.model import num_params
from microgpt.train import Hyperparameters

from .engines import ENGINES
from .workloads import BASE, Point, config_of, synthetic_workload

CHECK_STEPS = 3  # the agreement check: losses before and after the first two Adam updates
# pyperf's settings for the scalar engine, whose steps take 0.1 s and more: one step per value
# (no calibration), one value and one warm-up per worker process.
SCALAR_SETTINGS = {"loops": 1, "values": 1, "warmups": 1}
ADAM_OPS_PER_PARAM = 3  # the scalar Adam's Python loop, per parameter, in op-equivalents


@dataclass
class Plan:
    points: list[Point]
    dtype: str
    seed: int
    data: str | None  # the default run's dataset, None for synthetic names
    # Worker processes per engine and point started in turns (engine A's first, B's first, ...,
    # A's second, ...), each a pyperf benchmark of one process; 1: each engine's benchmark is
    # one pyperf call that starts all its processes in a row.
    rounds: int

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Plan:
        fields = json.loads(text)
        return cls(**{**fields, "points": [Point(**point) for point in fields["points"]]})

    def timings(self, point: Point) -> Iterator[tuple[str, str, int]]:
        """(engine, pyperf benchmark name, round) of every timing at ``point``, in order; the
        engines' order rotates from round to round, so that none always runs first."""
        engines = point.engines
        for index in range(self.rounds):
            shift = index % len(engines)
            for engine in engines[shift:] + engines[:shift]:
                yield engine, f"{point.label} {engine} #{index + 1}", index + 1


def assign_engines(points: list[Point], engines: list[str], scalar_budget: float,
                   scalar_processes: int) -> None:
    """Fill in each point's engines, or why one is skipped there. The scalar engine runs at a
    point (the default run always) if its steps there should take at most ``scalar_budget``
    seconds: the agreement check's and one warm-up and one value per worker process."""
    per_process = SCALAR_SETTINGS["warmups"] + SCALAR_SETTINGS["values"]
    steps = CHECK_STEPS + scalar_processes * per_process
    seconds_per_op = None
    for point in points:
        for engine in engines:
            if point.sizes and point.sizes["batch"] > 1 and not ENGINES[engine].batched:
                point.skipped[engine] = "one document per step only"
                continue
            if engine == "scalar" and point.sizes:
                seconds_per_op = seconds_per_op or scalar_seconds_per_op()
                estimate = seconds_per_op * scalar_ops(point.sizes) * steps
                if estimate > scalar_budget:
                    point.skipped[engine] = (f"estimated {estimate:.3g} s for {steps} steps > "
                                             f"--scalar-budget {scalar_budget:g} s")
                    continue
            point.engines.append(engine)


def scalar_ops(sizes: dict[str, int]) -> float:
    """About how many scalar operations a step of the scalar engine takes on a document that
    fills the block, as ``gpt_scalar`` computes position after position."""
    c, h, v, layers = sizes["n_embd"], sizes["n_head"], sizes["vocab"], sizes["n_layer"]
    ops = ADAM_OPS_PER_PARAM * num_params(config_of(sizes))
    for t in range(1, sizes["block_size"] + 1):  # position t attends to t cached keys
        ops += 5 * c + 2 * v * c + 4 * v  # embedding and rmsnorm, lm_head, softmax
        ops += layers * (20 * c * c + t * (4 * c + 5 * h) + 12 * c)
    return float(ops)


def scalar_seconds_per_op() -> float:
    """The scalar engine's seconds per operation, from one step of a small model."""
    sizes = {**BASE, "block_size": 4}
    work = synthetic_workload(sizes, seed=0)
    trainer = ENGINES["scalar"].make(work.state, work.config, Hyperparameters())
    trainer.step(work.batch(0), 0)  # the first step also imports and allocates
    start = time.perf_counter()
    trainer.step(work.batch(1), 1)
    return (time.perf_counter() - start) / scalar_ops(sizes)
