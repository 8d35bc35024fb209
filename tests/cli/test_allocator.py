"""The command line's malloc settings: freed memory stays in the process for the next step.

What the user gets is glibc's documented interface used as documented: ``mallopt()`` with
``M_TRIM_THRESHOLD``, ``M_MMAP_THRESHOLD`` and ``M_ARENA_MAX`` (``<malloc.h>``: -1, -3 and
-8), and the same settings as the ``MALLOC_*`` environment variables for child processes; a
setting the user made through that environment is left as it is. What the settings then
do to a step's speed is the allocator's business (benchmarks/SPEED.md, "The allocator"),
but that a worker thread's freed memory stays in the process is tested here.
"""

from __future__ import annotations

import ctypes
import os
import platform
import subprocess
import sys

import pytest

from microgpt import cli
from microgpt.cli import allocator

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="glibc's mallopt() is Linux only")

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD, M_ARENA_MAX = -1, -3, -8  # glibc's <malloc.h>
TRIM, MMAP, ARENAS = "MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_", "MALLOC_ARENA_MAX"
SETTINGS = {M_TRIM_THRESHOLD: (1 << 31) - 1, M_MMAP_THRESHOLD: 32 << 20, M_ARENA_MAX: 1}


class FakeLibc:
    """A C library whose ``mallopt`` records its calls and answers ``result``."""

    def __init__(self, result: int = 1) -> None:
        self.calls: list[tuple[int, int]] = []
        self.result = result

        def mallopt(parameter: int, value: int) -> int:  # a function: it takes ctypes' argtypes
            self.calls.append((parameter, value))
            return self.result

        self.mallopt = mallopt


@pytest.fixture
def libc(monkeypatch):
    fake = FakeLibc()
    for variable in (TRIM, MMAP, ARENAS):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setattr(ctypes, "CDLL", lambda name: fake)
    return fake


def test_the_thresholds_are_raised_and_one_arena_kept_through_mallopt(libc):
    assert allocator.keep_freed_memory() is True
    assert dict(libc.calls) == SETTINGS


@pytest.mark.parametrize("variable, left_alone", [(TRIM, M_TRIM_THRESHOLD),
                                                  (MMAP, M_MMAP_THRESHOLD),
                                                  (ARENAS, M_ARENA_MAX)])
def test_a_setting_the_user_made_in_the_environment_is_left_alone(libc, monkeypatch, variable,
                                                                   left_alone):
    monkeypatch.setenv(variable, "131072")
    assert allocator.keep_freed_memory() is True
    assert dict(libc.calls) == {p: v for p, v in SETTINGS.items() if p != left_alone}


def test_nothing_is_set_when_the_user_set_them_all(libc, monkeypatch):
    monkeypatch.setenv(TRIM, "131072")
    monkeypatch.setenv(MMAP, "131072")
    monkeypatch.setenv(ARENAS, "4")
    assert allocator.keep_freed_memory() is False
    assert libc.calls == []


def test_a_c_library_that_refuses_or_lacks_mallopt_is_left_alone(libc, monkeypatch):
    libc.result = 0  # mallopt's answer for a parameter it does not support
    assert allocator.keep_freed_memory() is False
    monkeypatch.setattr(ctypes, "CDLL", lambda name: object())  # no mallopt at all (musl)
    assert allocator.keep_freed_memory() is False


def test_the_real_c_library_accepts_them():
    code = "from microgpt.cli import allocator; print(allocator.keep_freed_memory())"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True).stdout
    assert out == "True\n"


def test_the_command_line_applies_them_before_it_trains(monkeypatch, capsys, tmp_path):
    calls = []
    monkeypatch.setattr(allocator, "keep_freed_memory", lambda: calls.append("tuned"))
    data = tmp_path / "names.txt"
    data.write_text("emma\nolivia\nava\n")
    assert cli.main(["train", "--data", str(data), "--steps", "1", "--samples", "1"]) == 0
    assert calls == ["tuned"]


def test_the_environment_for_child_processes_leaves_out_what_the_user_set(monkeypatch):
    monkeypatch.delenv(TRIM, raising=False)
    monkeypatch.delenv(ARENAS, raising=False)
    monkeypatch.setenv(MMAP, "4096")
    assert allocator.environment() == {TRIM: str(SETTINGS[M_TRIM_THRESHOLD]),
                                       ARENAS: str(SETTINGS[M_ARENA_MAX])}
    monkeypatch.delenv(MMAP)
    assert allocator.environment() == {TRIM: str(SETTINGS[M_TRIM_THRESHOLD]),
                                       MMAP: str(SETTINGS[M_MMAP_THRESHOLD]),
                                       ARENAS: str(SETTINGS[M_ARENA_MAX])}


_WORKER_THREAD_MEMORY = """
import resource, threading
import numpy as np
import tensorgrad as tg
from microgpt.cli import allocator
from tensorgrad.threads import run_parts

tg.set_num_threads(2)
assert allocator.keep_freed_memory()
both = threading.Barrier(2, timeout=10)

def part():  # a part of a batched step: 160 MiB of arrays, freed at its end
    both.wait()  # one part on each thread
    arrays = [np.ones(1 << 19) for _ in range(40)]
    return float(sum(a[0] for a in arrays))

faults = []  # page faults in each step after the first
for _ in range(8):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    run_parts([part, part])
    faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
print(faults[0], sum(faults[1:]))  # the first step's, and the next seven's together
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's arenas")
def test_a_worker_threads_freed_memory_stays_for_the_next_step():
    """Without one arena, glibc hands the worker's heap back to the OS as it empties; with
    the trim threshold under the 320 MiB a step frees, the top of the heap goes back; either
    way, each step faults its pages again (25,000 to 41,000 here, as many as the first). With
    both, most steps fault none; now and then the heap grows by an array's pages (513 here),
    so the seven steps after the first are held, together, to a quarter of the first's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    out = subprocess.run([sys.executable, "-c", _WORKER_THREAD_MEMORY], env=env,
                         capture_output=True, text=True, check=True).stdout
    first, next_seven = map(int, out.split())
    assert next_seven < first / 4
