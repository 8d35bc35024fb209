"""When to run the scalar engine: a cost model of its step, calibrated on its own measurements.

The scalar engine builds one Python object per arithmetic operation, so its step time is
close to proportional to the number of operations. ``scalar_ops`` counts them (roughly, per
position of a document, as ``gpt_scalar`` computes them); ``ScalarBudget`` turns that count
into seconds using the engine's measured speed, and says whether a planned run fits the budget.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from microgpt.model import GPTConfig, num_params

ADAM_OPS_PER_PARAM = 3  # the scalar Adam's Python loop, per parameter, in op-equivalents


def scalar_ops(config: GPTConfig, positions: int) -> float:
    """Approximate number of scalar operations of one training step on ``positions`` tokens."""
    c, h, v = config.n_embd, config.n_head, config.vocab_size
    ops = ADAM_OPS_PER_PARAM * num_params(config)
    for t in range(1, positions + 1):  # position t attends to t cached keys
        ops += 5 * c + 2 * v * c + 4 * v  # embedding + rmsnorm, lm_head, softmax
        ops += config.n_layer * (20 * c * c + t * (4 * c + 5 * h) + 12 * c)
    return float(ops)


class ScalarBudget:
    """Estimates scalar run times from measured ones and holds the per-point time budget."""

    def __init__(self, seconds: float, calibrate: Callable[[], tuple[float, float]]):
        """``calibrate()`` times one cheap scalar step: returns (seconds, ops of that step)."""
        self.seconds = seconds
        self._calibrate = calibrate
        self.seconds_per_op: float | None = None

    def observe(self, seconds: float, ops: float) -> None:
        """Record a measured run; the slowest rate seen is kept: estimates err on the long side."""
        if ops > 0 and seconds > 0:
            rate = seconds / ops
            self.seconds_per_op = max(rate, self.seconds_per_op or 0.0)

    def estimate(self, ops: float) -> float:
        """Seconds the scalar engine should need for ``ops`` operations."""
        if self.seconds_per_op is None:
            self.observe(*self._calibrate())
        return ops * (self.seconds_per_op or 0.0)

    def fits(self, ops: float) -> tuple[bool, float]:
        """Whether ``ops`` operations fit the budget, and the estimated seconds."""
        estimate = self.estimate(ops)
        return estimate <= self.seconds, estimate


def time_call(fn: Callable[[], object]) -> float:
    """Wall-clock seconds of one call."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start
