"""The command line's malloc settings: freed memory stays in the process for the next step.

Each check runs in a fresh interpreter, whose allocator nothing has tuned yet, and counts
the page faults of a loop that allocates, touches and frees the same large arrays, as a
training step does with its activations and gradients.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from microgpt import cli
from microgpt.cli import allocator

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="glibc's mallopt() is Linux only")

CHURN = """
import resource, sys
import numpy as np
from microgpt.cli import allocator
print(allocator.keep_freed_memory() if sys.argv[1] == "tune" else None)
def step():
    arrays = [np.ones(1 << 19) for _ in range(3)]  # three 4 MiB arrays, written, then freed
    del arrays
step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    step()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def churn(mode: str, **environ: str) -> tuple[str, int]:
    """Whether the settings were applied, and the page faults of 20 steps after the first."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")} | environ
    result = subprocess.run([sys.executable, "-c", CHURN, mode], env=env, capture_output=True,
                            text=True, check=True)
    applied, faults = result.stdout.split()
    return applied, int(faults)


def test_without_the_settings_every_step_faults_its_pages_in_again():
    # 20 steps of 12 MiB in 4 KiB pages: about 60,000 faults if each page faults once a step.
    assert churn("plain")[1] > 10_000


def test_with_the_settings_later_steps_reuse_the_memory():
    applied, faults = churn("tune")
    assert applied == "True"
    assert faults < 1_000


def test_settings_made_through_the_environment_are_left_alone():
    # glibc's own defaults, set by the user: the call must not override them.
    applied, faults = churn("tune", MALLOC_TRIM_THRESHOLD_="131072",
                            MALLOC_MMAP_THRESHOLD_="131072")
    assert applied == "False"
    assert faults > 10_000


def test_the_command_line_applies_them_before_it_trains(monkeypatch, capsys, tmp_path):
    calls = []
    monkeypatch.setattr(allocator, "keep_freed_memory", lambda: calls.append("tuned"))
    data = tmp_path / "names.txt"
    data.write_text("emma\nolivia\nava\n")
    assert cli.main(["train", "--data", str(data), "--steps", "1", "--samples", "1"]) == 0
    assert calls == ["tuned"]


def test_the_environment_for_child_processes_leaves_out_what_the_user_set(monkeypatch):
    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_", raising=False)
    monkeypatch.setenv("MALLOC_MMAP_THRESHOLD_", "4096")
    assert allocator.environment() == {"MALLOC_TRIM_THRESHOLD_": str(256 << 20)}
    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_")
    assert allocator.environment() == {"MALLOC_TRIM_THRESHOLD_": str(256 << 20),
                                       "MALLOC_MMAP_THRESHOLD_": str(32 << 20)}
