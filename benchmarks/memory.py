"""Peak memory of one training step.

Python objects and NumPy arrays are traced by ``tracemalloc`` (NumPy reports its data buffers to
it), so for the scalar, tensor and numpy engines the figure is the tracemalloc peak during the
step, counted from the step's start: the graph, the activations, the gradients and every
temporary, but not the parameters and optimizer state that exist before and after.

PyTorch allocates tensor memory with its own allocator, which tracemalloc does not see. For the
torch engines the figure is the peak of the bytes PyTorch's CPU allocator holds during the step,
counted from the step's start, replayed from the allocation and free events that the profiler
records with ``profile_memory=True``.
"""

from __future__ import annotations

import os
import tracemalloc
from collections.abc import Callable
from types import ModuleType
from typing import TypeVar

T = TypeVar("T")

TRACEMALLOC_METHOD = "tracemalloc peak during one step, above the memory held before it"
TORCH_METHOD = ("PyTorch CPU allocator peak during one step, above the memory held before it "
                "(torch.profiler memory events)")


def tracemalloc_peak(fn: Callable[[], T]) -> tuple[int, T]:
    """Run ``fn``; return the peak bytes traced while it ran, above those traced before, and
    its result. Works whether or not tracemalloc was already tracing."""
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        result = fn()
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        if not was_tracing:
            tracemalloc.stop()
    return peak, result


def torch_allocator_peak(torch: ModuleType, fn: Callable[[], T]) -> tuple[int | None, T]:
    """Run ``fn`` under the PyTorch profiler; return the peak of the bytes allocated by PyTorch
    (a running sum of its allocation and free events, in time order), and ``fn``'s result.

    The peak is None if this PyTorch's profiler does not expose its memory events.
    """
    from torch.profiler import ProfilerActivity, profile

    # Kineto prints a line on stderr at every profiler start and stop, which would break the
    # progress line; level 99 silences it (read when the profiler first starts).
    os.environ.setdefault("KINETO_LOG_LEVEL", "99")
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        result = fn()
    try:
        # Each "[memory]" event is one allocation (nbytes > 0) or free (nbytes < 0).
        events = [e for e in prof.profiler.kineto_results.events() if e.name() == "[memory]"]
        events.sort(key=lambda e: e.start_ns())
        held = peak = 0
        for event in events:
            held += event.nbytes()
            peak = max(peak, held)
    except AttributeError:  # a private API: absent in some versions
        return None, result
    return peak, result
