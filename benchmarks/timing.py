"""Interleaved timing: every engine trains on the same documents, in alternating windows.

Each engine is a ``Lane``: its trainer, the step it is at, the loss of every step it took and
the duration of every timed window. All lanes walk the same sequence of batches (step k is
``workload.batch(k)`` for every engine), so their losses can be compared step by step.

A measurement goes: agreement check (the first steps of every lane, losses held against the
reference engine's), warm-up, then ``repeats`` rounds in which every lane runs one timed window
of up to its own number of steps (fewer if the window's time limit is reached first, but at
least one), the lanes' order rotating from round to round. A load spike on a
busy machine then hits one window of each engine rather than all windows of one, and the ratio
of two engines within the same round stays meaningful.
"""

from __future__ import annotations

import gc
import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from .engines import Trainer
from .isolation import EngineProcess
from .workloads import Workload


class EngineDisagreement(Exception):
    """Two engines computed different losses for the same step: a bug, not a timing detail."""


@dataclass
class Lane:
    """One engine's run through a workload."""

    name: str
    trainer: Trainer | EngineProcess  # the engine here, or in a process of its own
    steps_per_window: int
    losses: list[float] = field(default_factory=list)  # loss of step k at index k
    window_ms: list[float] = field(default_factory=list)  # ms per step of each timed window
    window_steps: list[int] = field(default_factory=list)  # steps in each timed window
    timed_steps: list[int] = field(default_factory=list)  # which steps were timed
    timed_seconds: float = 0.0

    @property
    def steps_taken(self) -> int:
        return len(self.losses)

    def advance(self, workload: Workload, count: int, max_seconds: float = math.inf) -> float:
        """Take ``count`` training steps, or fewer (at least one) once ``max_seconds`` have
        passed; return their wall-clock seconds."""
        losses, seconds = self.trainer.run_steps(workload, self.steps_taken, count, max_seconds)
        self.losses.extend(losses)
        return seconds


def check_agreement(lanes: Sequence[Lane], reference: Lane, workload: Workload, steps: int,
                    tolerance: float) -> float:
    """Run the first ``steps`` steps of every lane and hold each loss against the reference's.

    Step 0's loss checks the forward pass; the later ones come after Adam updates, so they
    check the gradients and the optimizer too. Returns the largest difference seen; raises
    ``EngineDisagreement`` if one exceeds ``tolerance``.
    """
    for lane in {id(lane): lane for lane in (reference, *lanes)}.values():
        lane.advance(workload, steps - lane.steps_taken)
    worst = 0.0
    for lane in lanes:
        for step, (loss, expected) in enumerate(zip(lane.losses[:steps], reference.losses)):
            diff = abs(loss - expected)
            if not diff <= tolerance:  # also catches NaN
                raise EngineDisagreement(
                    f"{workload.label}: {lane.name} loss at step {step} is {loss!r}, "
                    f"{reference.name} gives {expected!r} (|diff| {diff:.3g} > {tolerance:g})"
                )
            worst = max(worst, diff)
    return worst


def timed_windows(lanes: Sequence[Lane], workload: Workload, repeats: int,
                  on_window: Callable[[Lane, int], None] | None = None,
                  max_seconds: float = math.inf) -> None:
    """``repeats`` rounds of one timed window per lane, in an order that rotates each round.

    A window ends after the lane's ``steps_per_window`` steps or, at least one step in, after
    ``max_seconds``, so a slow engine (or one slowed down by a busy machine) cannot stall the
    benchmark."""
    if not lanes:
        return
    gc.collect()  # garbage left by the setup here is no engine's cost
    for round_index in range(repeats):
        shift = round_index % len(lanes)
        for lane in [*lanes[shift:], *lanes[:shift]]:
            if on_window is not None:
                on_window(lane, round_index)
            first = lane.steps_taken
            seconds = lane.advance(workload, lane.steps_per_window, max_seconds)
            steps = lane.steps_taken - first
            lane.window_ms.append(1e3 * seconds / steps)
            lane.window_steps.append(steps)
            lane.timed_steps.extend(range(first, lane.steps_taken))
            lane.timed_seconds += seconds


@dataclass(frozen=True)
class Summary:
    """A lane's timing, as reported."""

    median_ms: float
    min_ms: float
    max_ms: float
    mean_ms: float
    window_ms: list[float]
    ratio_to_reference: float | None  # median over rounds of (this lane / reference) time


def summarize(lane: Lane, reference: Lane | None) -> Summary:
    """Median, min and max ms/step over the lane's windows, and its ratio to the reference."""
    ratio = None
    if reference is not None and reference.window_ms:
        ratio = statistics.median(a / b for a, b in zip(lane.window_ms, reference.window_ms))
    ms = lane.window_ms
    return Summary(statistics.median(ms), min(ms), max(ms), statistics.fmean(ms), list(ms), ratio)


def max_loss_difference(lane: Lane, reference: Lane) -> tuple[float, int]:
    """The largest |loss difference| over the steps both lanes took, and how many those are."""
    pairs = list(zip(lane.losses, reference.losses))
    return max((abs(a - b) for a, b in pairs), default=0.0), len(pairs)
