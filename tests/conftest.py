"""Shared pytest setup: Hypothesis profiles and making the package importable.

Select a profile with the HYPOTHESIS_PROFILE environment variable:

* ``ci`` (default): few examples, derandomized, no example database, so the suite is
  fast and every run tries exactly the same inputs.
* ``dev``: many more random examples, and a reproduction blob printed on failure.
* ``mutation``: like ``ci`` but without shrinking, for running the suite against
  deliberately broken copies of the engine (a failure only has to be found, not minimized).
"""

from __future__ import annotations

import itertools
import os
import signal
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, settings

# Appended, not prepended: a copy of the package named on PYTHONPATH (as the mutation
# checks do) wins over the working tree.
_REPO_ROOT = str(Path(__file__).resolve().parent.parent)
if _REPO_ROOT not in sys.path:
    sys.path.append(_REPO_ROOT)

# Building graphs of scalar `Value`s is slow by design; that is not a data-generation problem.
_SLOW_IS_FINE = [HealthCheck.too_slow]

settings.register_profile(
    "ci",
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=_SLOW_IS_FINE,
)
settings.register_profile(
    "dev",
    max_examples=300,
    deadline=None,
    print_blob=True,
    suppress_health_check=_SLOW_IS_FINE,
)
settings.register_profile(
    "mutation",
    settings.get_profile("ci"),
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def torch_float64_one_thread():
    """PyTorch in float64 and on one thread during the test, as the model comparisons run
    it: at their sizes its second thread only waits, and on a busy machine (the project's
    shared one) the waiting made the 20-step tests 50 times slower."""
    torch = pytest.importorskip("torch")
    previous, threads = torch.get_default_dtype(), torch.get_num_threads()
    torch.set_default_dtype(torch.float64)
    torch.set_num_threads(1)
    yield
    torch.set_default_dtype(previous)
    torch.set_num_threads(threads)


@pytest.fixture
def torch_float64_default():
    """PyTorch with float64 as its default dtype during the test, tensorgrad's: Python floats
    and results made floating from integers then have the same dtype in both."""
    torch = pytest.importorskip("torch")
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(previous)


@pytest.fixture
def deadline():
    """``deadline(seconds)`` fails the test once it has run that long (POSIX: SIGALRM).

    For in-process tests of work that must be refused before it starts: if the refusal
    regresses, the test fails instead of running for minutes.
    """

    def expire(signum, frame):
        pytest.fail("took longer than its deadline: the work was not refused up front")

    previous = signal.signal(signal.SIGALRM, expire)
    yield signal.alarm
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


@pytest.fixture
def wrap_training_steps(monkeypatch):
    """``wrap(engine, wrapper)``: every training step of ``engine`` (a model module) then runs
    as ``wrapper(k, batch, step)``, k counting steps from 1, ``step(batch)`` the real step
    (forward and backward; its result, or what ``wrapper`` returns instead, is the loss)."""

    def wrap(engine, wrapper):
        real = engine.training_step

        def training_step(params, config):
            step, count = real(params, config), itertools.count(1)
            return lambda batch: wrapper(next(count), batch, step)

        monkeypatch.setattr(engine, "training_step", training_step)

    return wrap
