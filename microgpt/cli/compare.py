"""``microgpt compare``: both engines, from the same weights, in lockstep; how far apart.

``--by-op`` instead takes one training step apart, op by op, on both engines (``by_op``).
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict
from pathlib import Path
from types import ModuleType

import numpy as np

from ..api import Plan, TrainSettings, check_scalar_size, load_dataset, plan
from ..model import num_params
from ..storage.atomic import atomic_write
from ..storage.files import problem
from ..tools import by_op
from ..train import (
    ENGINES,
    Setup,
    TrainingDiverged,
    document_tokens,
    initialise,
    train,
)
from .api_errors import api_errors
from .errors import CommandError, UsageError
from .output import print_header
from .prepare import MODEL_OPTIONS
from .targets import check_not_read, check_target, keeping_outputs


def cmd_compare(args: argparse.Namespace) -> int:
    """Train both engines in lockstep and report how far apart they are, and their speeds.

    Both stop at the first step that diverges on either (``train.diverged``): no
    agreement is reported over losses that mean nothing.
    """
    if args.by_op:
        return _compare_by_op(args)
    if args.json is not None:
        raise UsageError("--json writes the table of --by-op; give --by-op too")
    with api_errors():
        planned = _plan(args)
    print_header(len(planned.dataset), planned.config)
    run = initialise(planned.dataset.docs, planned.tokenizer, planned.config, args.seed)
    hp = planned.settings.hyperparameters()
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


def _plan(args: argparse.Namespace) -> Plan:
    """The run of the options, checked, then the dataset read and checked against it, and
    against what the scalar engine can build."""
    settings = TrainSettings(steps=args.steps, lr=args.lr, seed=args.seed,
                             **{name: getattr(args, name) for name in MODEL_OPTIONS})
    dataset = load_dataset(args.data, args.data_sha256, redownload=args.redownload,
                           download_timeout=args.download_timeout)
    planned = plan(dataset, settings)
    check_scalar_size(planned.config, planned.dataset.docs)
    return planned


def _first_step_grads(engine: ModuleType, run: Setup) -> dict[str, np.ndarray]:
    """Every parameter's gradient of the first training step's loss, from the initial weights."""
    params = engine.from_state_dict(run.state)
    tokens = document_tokens(run.tokenizer, run.docs[0], run.config.block_size)
    engine.document_loss(params, run.config, tokens).backward()
    return engine.grads(params)


def _compare_by_op(args: argparse.Namespace) -> int:
    """One training step on the first document, op by op; the table, and --json if asked."""
    given = sorted(args.explicit & {"steps", "lr"})
    if given:
        verb = "does" if len(given) == 1 else "do"
        raise UsageError(f"--by-op takes one step apart, at the initial weights: "
                         f"{' and '.join('--' + name for name in given)} {verb} not apply")
    json_path = check_target(args.json, "--json") if args.json is not None else None
    with api_errors():
        planned = _plan(args)
    if json_path is not None:
        check_not_read(json_path, planned.dataset.path, "--json", "the dataset")
    print_header(len(planned.dataset), planned.config)
    run = initialise(planned.dataset.docs, planned.tokenizer, planned.config, args.seed)
    tokens = document_tokens(run.tokenizer, run.docs[0], run.config.block_size)
    result = by_op.step_by_op(run.state, run.config, tokens)
    print(f"one training step, op by op, on the first document, {run.docs[0]!r} "
          f"({result.positions} positions): the median of {result.rounds} rounds "
          f"({result.tensor_steps} steps on the tensor engine), Python's garbage collector "
          "paused")
    for line in by_op.table(result):
        print(line)
    for gc_mode, by_engine in result.uninstrumented.items():
        print(f"the whole step uninstrumented, {gc_mode}, µs: " + "; ".join(
            f"{engine} forward {by_op.format_us(times['forward'])}, backward "
            f"{by_op.format_us(times['backward'])}" for engine, times in by_engine.items()))
    print(f"loss: tensor {result.losses['tensor']:.12f}, scalar {result.losses['scalar']:.12f}")
    for line in by_op.ATTRIBUTION_LINES:
        print(line)
    if json_path is not None:
        document = {"document": run.docs[0], "seed": args.seed, "config": asdict(run.config),
                    **result.to_json()}
        with keeping_outputs(("the dataset", planned.dataset.path)):
            _write_json(json_path, document)
        print(f"table written to {json_path}")
    return 0


def _write_json(path: Path, document: dict) -> None:
    try:
        with atomic_write(path) as out:
            out.write((json.dumps(document, indent=1, ensure_ascii=False) + "\n").encode())
    except OSError as exc:
        raise CommandError(f"cannot write --json {path}: {problem(exc)}") from exc
