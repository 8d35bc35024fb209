"""glibc's malloc, set up for a training loop: keep freed memory for the next step.

Each step frees its activations and gradients and allocates arrays of the same sizes
again. By default glibc serves arrays over 128 KiB with fresh mmap()s, and returns the
free top of the heap to the OS once it exceeds a threshold; each page it hands back is
a page fault when the next step touches it again, which at large batches costs a large
part of the step (benchmarks/SPEED.md, "The allocator"). The command line therefore raises
both thresholds when it starts, and keeps every thread on the one heap those thresholds
govern: glibc gives other threads heaps of their own (arenas), and hands an arena's heap
back whole when it empties, which a batched step's worker thread does every step
(SPEED.md, "Round four: one arena"). The ``tensorgrad`` library leaves the allocator
alone: changing a process-wide setting is a program's decision, not a library's.
"""

from __future__ import annotations

import ctypes
import os
import sys

# mallopt() parameters, from glibc's <malloc.h>, with the values we set and the
# environment variables glibc reads for the same settings.
_SETTINGS = (
    (-1, (1 << 31) - 1, "MALLOC_TRIM_THRESHOLD_"),  # M_TRIM_THRESHOLD: keep up to 2 GiB free
    (-3, 32 << 20, "MALLOC_MMAP_THRESHOLD_"),  # M_MMAP_THRESHOLD: glibc's largest, 32 MiB
    (-8, 1, "MALLOC_ARENA_MAX"),  # M_ARENA_MAX: every thread allocates from the main heap
)


def keep_freed_memory() -> bool:
    """Raise glibc's trim and mmap thresholds and keep one arena; True if at least one was set.

    Does nothing off glibc (the call is not there, or fails) and leaves any setting the
    user made through its environment variable as it is.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library this process already runs on
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    applied = False
    for parameter, value, variable in _SETTINGS:
        if variable not in os.environ:
            applied |= mallopt(parameter, value) == 1  # 1 on success, 0 if not supported
    return applied


def environment() -> dict[str, str]:
    """The same settings as environment variables, for processes started from this one
    (glibc reads them when a process starts); those the user set are left out."""
    return {variable: str(value) for _, value, variable in _SETTINGS
            if variable not in os.environ}
