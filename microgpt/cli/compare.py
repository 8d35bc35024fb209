"""``microgpt compare``: both engines, from the same weights, in lockstep; how far apart."""

from __future__ import annotations

import argparse
import time
from types import ModuleType

import numpy as np

from ..model import num_params
from ..train import (
    ENGINES,
    Hyperparameters,
    Setup,
    TrainingDiverged,
    document_tokens,
    initialise,
    train,
)
from .errors import CommandError
from .output import print_header
from .prepare import MODEL_OPTIONS, check_model_options, plan, read_dataset


def cmd_compare(args: argparse.Namespace) -> int:
    """Train both engines in lockstep and report how far apart they are, and their speeds.

    Both stop at the first step that diverges on either (``train.diverged``): no
    agreement is reported over losses that mean nothing.
    """
    options = {name: getattr(args, name) for name in MODEL_OPTIONS}
    check_model_options(options)
    _, docs = read_dataset(args)
    tokenizer, config = plan(docs, options)
    print_header(len(docs), config)
    run = initialise(docs, tokenizer, config, args.seed)
    hp = Hyperparameters(steps=args.steps, lr=args.lr)
    runs = {name: train(engine, engine.from_state_dict(run.state), run.config, run.docs,
                        run.tokenizer, hp)
            for name, engine in ENGINES.items()}
    seconds = dict.fromkeys(runs, 0.0)
    max_loss_diff = 0.0
    # Step the engines in lockstep, timing each one's step, so every line prints as it is ready.
    for step in range(1, hp.steps + 1):
        loss = {}
        for name, losses in runs.items():
            start = time.perf_counter()
            try:
                loss[name] = next(losses)
            except TrainingDiverged as exc:
                raise CommandError(f"{exc} on the {name} engine; try a smaller --lr") from exc
            seconds[name] += time.perf_counter() - start
        diff = abs(loss["scalar"] - loss["tensor"])
        max_loss_diff = max(max_loss_diff, diff)
        print(f"step {step:4d} | scalar {loss['scalar']:.12f} | tensor {loss['tensor']:.12f}"
              f" | diff {diff:.1e}")
    grads = {name: _first_step_grads(engine, run) for name, engine in ENGINES.items()}
    max_grad_diff = max(float(np.max(np.abs(grads["scalar"][key] - grads["tensor"][key])))
                        for key in run.state)
    ms = {name: 1000 * s / hp.steps for name, s in seconds.items()}
    print(f"max loss diff: {max_loss_diff:.1e} over {hp.steps} steps")
    print(f"max grad diff: {max_grad_diff:.1e} over all {num_params(run.config)} parameters"
          " at step 1")
    print(f"scalar: {ms['scalar']:.2f} ms/step | tensor: {ms['tensor']:.2f} ms/step"
          f" | speedup: {ms['scalar'] / ms['tensor']:.1f}x")
    return 0


def _first_step_grads(engine: ModuleType, run: Setup) -> dict[str, np.ndarray]:
    """Every parameter's gradient of the first training step's loss, from the initial weights."""
    params = engine.from_state_dict(run.state)
    tokens = document_tokens(run.tokenizer, run.docs[0], run.config.block_size)
    engine.document_loss(params, run.config, tokens).backward()
    return engine.grads(params)
