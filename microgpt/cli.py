"""The ``microgpt`` command line (also ``python -m microgpt``).

    microgpt train   [--data PATH] [--engine tensor|scalar] [--steps N] [model options]
                     [--temperature T] [--samples N] [--save PATH]
    microgpt sample  --load PATH [--samples N] [--temperature T] [--seed S]
    microgpt compare [--data PATH] [--steps N] [model options]

``train`` prints exactly the lines Karpathy's microgpt.py prints, then one line of timing.
Every problem a user can cause is one ``error: ...`` line on stderr and a non-zero exit
status: 2 for a bad command line, 1 for a problem met while running (dataset, checkpoint),
130 for Ctrl-C. Options are checked before any data is read or any training starts.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import sys
import time
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import NoReturn

import numpy as np

from . import checkpoint
from .checkpoint import CheckpointError
from .data import DataError, Tokenizer, find_dataset, load_docs
from .model import GPTConfig, num_params
from .train import ENGINES, Hyperparameters, Setup, document_tokens, sample, setup, train

# The GPTConfig fields that are command-line options (vocab_size comes from the data).
MODEL_OPTIONS = {
    "n_embd": "embedding width",
    "n_head": "attention heads",
    "n_layer": "transformer layers",
    "block_size": "context length (longer documents are cut)",
}


class UsageError(Exception):
    """A bad command line; reported as one line with exit status 2, like argparse's errors."""


class CommandError(Exception):
    """A problem met while running a command; reported as one line with exit status 1."""


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    # Show defaults, except the None of options whose help says what leaving them out means.
    def _get_help_string(self, action: argparse.Action) -> str | None:
        return action.help if action.default is None else super()._get_help_string(action)


class _Parser(argparse.ArgumentParser):
    # argparse prints the whole usage block before its error; raising instead lets main()
    # report every problem the same way, as one line.
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


def _positive(kind: type[int] | type[float], noun: str) -> Callable[[str], int | float]:
    """An argparse ``type`` accepting finite numbers of ``kind`` above zero."""

    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and value > 0):
            raise argparse.ArgumentTypeError(f"must be a positive {noun}, not {text!r}")
        return value

    return parse


positive_int = _positive(int, "integer")
positive_float = _positive(float, "number")


# ---- arguments shared between subcommands -------------------------------------------------------


def _add_run_options(parser: argparse.ArgumentParser, steps: int) -> None:
    """Data, training and model options: the same for ``train`` and ``compare``."""
    parser.add_argument("--data", metavar="PATH",
                        help="dataset, one document per line (default: the cached names.txt, "
                             "downloaded on first use)")
    parser.add_argument("--steps", type=positive_int, default=steps, help="training steps")
    parser.add_argument("--seed", type=int, default=42,
                        help="seed of the one random stream that shuffles, initialises and samples")
    parser.add_argument("--lr", type=positive_float, default=Hyperparameters.lr,
                        help="Adam learning rate (decays linearly to 0)")
    model = parser.add_argument_group("model options")
    for name, help in MODEL_OPTIONS.items():  # defaults: GPTConfig's, i.e. microgpt.py's
        model.add_argument("--" + name.replace("_", "-"), type=positive_int,
                           default=getattr(GPTConfig, name), help=help)


def _add_sampling_options(parser: argparse.ArgumentParser) -> None:
    """Options of the names drawn after training (``train``) or from a checkpoint (``sample``)."""
    parser.add_argument("--temperature", type=positive_float, default=0.5,
                        help="sampling temperature: lower is more conservative")
    parser.add_argument("--samples", type=positive_int, default=20, help="names to draw")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="microgpt", description="Karpathy's microgpt on the tensorgrad engine.")
    commands = parser.add_subparsers(title="commands", dest="command", required=True,
                                     metavar="{train,sample,compare}")

    def add(name: str, run: Callable[[argparse.Namespace], int], help: str) -> _Parser:
        sub = commands.add_parser(name, help=help, description=help,
                                  formatter_class=_HelpFormatter)
        sub.set_defaults(run=run)
        return sub

    p = add("train", cmd_train, "train the GPT, print its losses and sample names")
    p.add_argument("--engine", choices=sorted(ENGINES), default="tensor",
                   help="autograd engine: whole arrays (tensor) or one number at a time (scalar)")
    _add_run_options(p, steps=Hyperparameters.steps)
    _add_sampling_options(p)
    p.add_argument("--save", metavar="PATH", help="write a checkpoint (.npz) after training")

    p = add("sample", cmd_sample, "sample names from a saved checkpoint")
    p.add_argument("--load", metavar="PATH", required=True, help="checkpoint written by --save")
    _add_sampling_options(p)
    p.add_argument("--seed", type=int, default=42, help="seed of the sampling stream")

    p = add("compare", cmd_compare,
            "train on both engines from the same weights and compare losses, gradients, speed")
    _add_run_options(p, steps=10)
    return parser


# ---- the subcommands ----------------------------------------------------------------------------


def cmd_train(args: argparse.Namespace) -> int:
    save_path = checkpoint.check_can_save(args.save) if args.save is not None else None
    run = _prepare(args)
    engine = ENGINES[args.engine]
    params = engine.from_state_dict(run.state)
    hp = Hyperparameters(steps=args.steps, lr=args.lr)
    start = time.perf_counter()
    for step, loss in enumerate(train(engine, params, run.config, run.docs, run.tokenizer, hp), 1):
        print(f"step {step:4d} / {hp.steps:4d} | loss {loss:.4f}")
        if not math.isfinite(loss):  # the weights are NaN/inf now: nothing worth sampling or saving
            raise CommandError(f"training diverged at step {step}; try a smaller --lr")
    seconds = time.perf_counter() - start
    if save_path is not None:  # before sampling: Ctrl-C there must not lose the training
        checkpoint.save(save_path, engine.to_state_dict(params), run.config, run.tokenizer)
    print("\n--- inference (new, hallucinated names) ---")
    # microgpt.py samples from the stream that shuffled and initialised: run.rng continues it.
    _print_samples(engine, params, run.config, run.tokenizer, run.rng, args)
    saved = f"; checkpoint saved to {save_path}" if save_path is not None else ""
    print(f"trained {hp.steps} steps in {seconds:.2f} s "
          f"({1000 * seconds / hp.steps:.2f} ms/step, {args.engine} engine){saved}")
    return 0


def cmd_sample(args: argparse.Namespace) -> int:
    saved = checkpoint.load(args.load)
    engine = ENGINES["tensor"]  # generates the same names as the scalar engine, faster
    params = engine.from_state_dict(saved.state)
    _print_samples(engine, params, saved.config, saved.tokenizer, random.Random(args.seed), args)
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    run = _prepare(args)
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
            loss[name] = next(losses)
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


# ---- helpers ------------------------------------------------------------------------------------


def _prepare(args: argparse.Namespace) -> Setup:
    """Check the model options, load and set up the data, and print microgpt.py's header."""
    options = {name: getattr(args, name) for name in MODEL_OPTIONS}
    try:
        GPTConfig(vocab_size=1, **options)  # the config's own checks, before reading any data
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    run = setup(load_docs(find_dataset(args.data)), seed=args.seed, **options)
    print(f"num docs: {len(run.docs)}")
    print(f"vocab size: {run.tokenizer.vocab_size}")
    print(f"num params: {num_params(run.config)}")
    return run


def _first_step_grads(engine: ModuleType, run: Setup) -> dict[str, np.ndarray]:
    """Every parameter's gradient of the first training step's loss, from the initial weights."""
    params = engine.from_state_dict(run.state)
    engine.document_loss(params, run.config, document_tokens(run.tokenizer, run.docs[0])).backward()
    return engine.grads(params)


def _print_samples(engine: ModuleType, params: dict, config: GPTConfig, tokenizer: Tokenizer,
                   rng: random.Random, args: argparse.Namespace) -> None:
    """Draw ``args.samples`` names at ``args.temperature`` and print them as microgpt.py does."""
    try:
        names = sample(engine, params, config, tokenizer, rng, args.temperature, args.samples)
    except ValueError as exc:  # random.choices: the logits / temperature overflowed to inf
        raise CommandError(f"sampling failed ({exc}); try a larger --temperature") from exc
    for i, name in enumerate(names, 1):
        print(f"sample {i:2d}: {name}")


def _fail(message: str, status: int) -> int:
    print(f"error: {message}", file=sys.stderr)
    return status


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default: ``sys.argv[1:]``); return the exit status.

    ``--help`` exits through argparse's ``SystemExit(0)`` as usual.
    """
    try:
        args = build_parser().parse_args(argv)
        # Overflow and NaN are detected and reported above as one line; NumPy's warnings
        # about them would only add lines to stderr.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return args.run(args)
    except UsageError as exc:
        return _fail(str(exc), 2)
    except (DataError, CheckpointError, CommandError) as exc:
        return _fail(str(exc), 1)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    except BrokenPipeError:
        # The reader went away (`microgpt train | head`): stop quietly, and point stdout at
        # /dev/null so Python's flush at exit does not report the same error again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, as a shell reports a command killed by a closed pipe
