"""What a training run is made of: the command line's options, or a resumed checkpoint's.

A resumed run keeps the settings it was saved with. Given on the command line too, they
must agree with the checkpoint: a contradiction is refused rather than silently ignored.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, replace

from ..storage.checkpoint import Checkpoint
from ..train import Hyperparameters
from .errors import UsageError
from .prepare import MODEL_OPTIONS, check_model_options, option

# What a resumed run takes from its checkpoint.
RESUMED_SETTINGS = ("seed", "lr", "schedule", "warmup", "batch_size", "val_fraction", "dtype",
                    *MODEL_OPTIONS)


@dataclass(frozen=True)
class Settings:
    """A training run's settings, checked against each other."""

    hp: Hyperparameters
    seed: int
    val_fraction: float
    model_options: dict[str, int]
    stop: int  # the step this invocation stops after


def resolve(args: argparse.Namespace, resumed: Checkpoint | None) -> Settings:
    """The run's settings; checked before any data is read.

    ``args.explicit`` names the options the user gave; ``resumed`` must hold a training
    state.
    """
    given = {name: getattr(args, name) for name in RESUMED_SETTINGS}
    hp = Hyperparameters(steps=args.steps, lr=args.lr, schedule=args.schedule,
                         warmup=args.warmup, batch_size=args.batch_size, dtype=args.dtype)
    start = 0
    if resumed is not None:
        state = resumed.training
        kept = {"seed": state.seed, "lr": state.hp.lr, "schedule": state.hp.schedule,
                "warmup": state.hp.warmup, "batch_size": state.hp.batch_size,
                "val_fraction": state.val_fraction, "dtype": state.hp.dtype,
                **{name: getattr(resumed.config, name) for name in MODEL_OPTIONS}}
        for name in sorted(args.explicit & set(RESUMED_SETTINGS)):
            if given[name] != kept[name]:
                raise UsageError(f"{option(name)} {given[name]} contradicts the {kept[name]} "
                                 f"of the checkpoint {args.resume}; a resumed run keeps its "
                                 "settings")
        given, start = kept, state.step
        steps = args.steps if "steps" in args.explicit else state.hp.steps
        if steps <= state.step:
            raise UsageError(
                f"the checkpoint {args.resume} is at step {state.step} / {state.hp.steps}; "
                f"give --steps N, the run's new total, with N > {state.step}")
        hp = replace(state.hp, steps=steps)  # Adam's betas and eps too, as saved
    if hp.batch_size > 1 and args.engine != "tensor":
        raise UsageError("--batch-size > 1 needs --engine tensor (the scalar engine "
                         "trains one document per step)")
    if hp.dtype != "float64" and args.engine != "tensor":
        raise UsageError(f"--dtype {hp.dtype} needs --engine tensor (the scalar engine "
                         "computes with Python floats, which are float64)")
    if hp.warmup >= hp.steps:
        raise UsageError(f"--warmup {hp.warmup} leaves no step of the schedule: it must be "
                         f"less than --steps {hp.steps}")
    if args.eval_every is not None and given["val_fraction"] == 0:
        raise UsageError("--eval-every needs a validation split: give --val-fraction")
    stop = hp.steps if args.stop_after is None else args.stop_after
    if not start < stop <= hp.steps:
        raise UsageError(f"--stop-after {stop} must be after step {start} and at most "
                         f"--steps {hp.steps}")
    model_options = {name: given[name] for name in MODEL_OPTIONS}
    check_model_options(model_options, hp.batch_size)
    return Settings(hp=hp, seed=given["seed"], val_fraction=given["val_fraction"],
                    model_options=model_options, stop=stop)
