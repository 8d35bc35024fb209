"""A training run's settings from the command line's options, or from a resumed checkpoint.

A resumed run keeps the settings it was saved with. Given on the command line too, they
must agree with the checkpoint: a contradiction is refused rather than silently ignored
(``api.resume_settings``).
"""

from __future__ import annotations

import argparse
from dataclasses import fields

from ..api import RESUMED_FIELDS, Resumable, TrainSettings, resume_settings
from .errors import UsageError


def resolve(args: argparse.Namespace, resumed: Resumable | None) -> tuple[TrainSettings, int]:
    """The run's settings, and the step this invocation stops after; checked before any data
    is read. ``args.explicit`` names the options the user gave."""
    if resumed is None:
        settings = TrainSettings(**{f.name: getattr(args, f.name) for f in fields(TrainSettings)})
        start = 0
    else:
        given = {name: getattr(args, name) for name in args.explicit & set(RESUMED_FIELDS)}
        settings = resume_settings(
            resumed, steps=args.steps if "steps" in args.explicit else None,
            engine=args.engine, eval_every=args.eval_every, **given)
        start = resumed.training.step
    stop = settings.steps if args.stop_after is None else args.stop_after
    if not start < stop <= settings.steps:
        raise UsageError(f"--stop-after {stop} must be after step {start} and at most "
                         f"--steps {settings.steps}")
    return settings, stop
