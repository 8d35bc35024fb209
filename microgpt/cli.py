"""The ``microgpt`` command line (also ``python -m microgpt``).

    microgpt train   [--data PATH] [--engine tensor|scalar] [--steps N] [model options]
                     [--batch-size B] [--schedule S] [--warmup N] [--val-fraction F]
                     [--eval-every N] [--dtype float64|float32] [--log-every N] [--plot PNG]
                     [--save PATH] [--resume PATH] [--stop-after K] [--temperature T]
                     [--samples N]
    microgpt sample  --load PATH [--prefix TEXT] [--top-k K] [--samples N] [--temperature T]
                     [--seed S]
    microgpt compare [--data PATH] [--steps N] [model options]

``train`` with its defaults prints exactly the lines Karpathy's microgpt.py prints, then
one line of timing; on a terminal a progress bar stands in for the step lines. Every other
option is opt-in. Every problem a user can cause is one ``error: ...`` line on stderr and a
non-zero exit status: 2 for a bad command line, 1 for a problem met while running
(dataset, checkpoint, plot), 130 for Ctrl-C. Options are checked before any data is read
or any training starts.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from types import ModuleType
from typing import Any, NoReturn

import numpy as np

from . import allocator, checkpoint, gpt_tensor, plot, resume
from .checkpoint import Checkpoint, CheckpointError
from .data import DataError, find_dataset, load_docs
from .model import GPTConfig, num_params
from .options import fraction, non_negative_int, positive_float, positive_int
from .plot import PlotError
from .progress import Progress
from .resume import TrainingState
from .schedule import SCHEDULES
from .train import (
    DTYPES,
    ENGINES,
    Hyperparameters,
    Setup,
    Trainer,
    cast,
    document_tokens,
    sample,
    setup,
    train,
)
from .validation import split, validation_loss

# The GPTConfig fields that are command-line options (vocab_size comes from the data).
MODEL_OPTIONS = {
    "n_embd": "embedding width",
    "n_head": "attention heads",
    "n_layer": "transformer layers",
    "block_size": "context length (longer documents are cut)",
}
# What a resumed run takes from its checkpoint; given on the command line, they must agree.
RESUMED_SETTINGS = ("seed", "lr", "schedule", "warmup", "batch_size", "val_fraction", "dtype",
                    *MODEL_OPTIONS)


class UsageError(Exception):
    """A bad command line; reported as one line with exit status 2, like argparse's errors."""


class CommandError(Exception):
    """A problem met while running a command; reported as one line with exit status 1."""


class Interrupted(Exception):
    """Ctrl-C, after saving what there was to save; reported as one line with exit status 130."""


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    # Show defaults, except the None of options whose help says what leaving them out means.
    def _get_help_string(self, action: argparse.Action) -> str | None:
        return action.help if action.default is None else super()._get_help_string(action)


class _Parser(argparse.ArgumentParser):
    # argparse prints the whole usage block before its error; raising instead lets main()
    # report every problem the same way, as one line.
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


class _Explicit(argparse.Action):
    """Store the value and note that the option was given (``args.explicit``).

    A resumed run takes its settings from the checkpoint; it must know which ones the
    user asked for, to refuse a contradiction rather than silently ignore it.
    """

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        setattr(namespace, self.dest, values)
        namespace.explicit = namespace.explicit | {self.dest}


# ---- arguments shared between subcommands -------------------------------------------------------


def _add_run_options(parser: argparse.ArgumentParser, steps: int) -> None:
    """Data, training and model options: the same for ``train`` and ``compare``."""
    parser.add_argument("--data", metavar="PATH",
                        help="dataset, one document per line (default: the cached names.txt, "
                             "downloaded on first use)")
    parser.add_argument("--steps", type=positive_int, default=steps, action=_Explicit,
                        help="training steps")
    parser.add_argument("--seed", type=int, default=42, action=_Explicit,
                        help="seed of the one random stream that shuffles, initialises and samples")
    parser.add_argument("--lr", type=positive_float, default=Hyperparameters.lr, action=_Explicit,
                        help="Adam learning rate (peak of the schedule)")
    model = parser.add_argument_group("model options")
    for name, help in MODEL_OPTIONS.items():  # defaults: GPTConfig's, i.e. microgpt.py's
        model.add_argument("--" + name.replace("_", "-"), type=positive_int, action=_Explicit,
                           default=getattr(GPTConfig, name), help=help)


def _add_training_options(parser: argparse.ArgumentParser) -> None:
    """``train``'s options beyond microgpt.py: batches, schedule, validation, output, resuming."""
    how = parser.add_argument_group("training beyond microgpt.py (all off by default)")
    how.add_argument("--batch-size", type=positive_int, default=1, action=_Explicit,
                     metavar="B",
                     help="documents per step (B > 1: tensor engine only); step k (from 0) trains "
                          "on docs[(k*B + i) %% num_docs] for i < B, on the mean of their "
                          "per-document losses")
    how.add_argument("--schedule", choices=SCHEDULES, default="linear", action=_Explicit,
                     help="learning-rate schedule after the warm-up; linear decays to 0 as "
                          "microgpt.py does")
    how.add_argument("--warmup", type=non_negative_int, default=0, action=_Explicit, metavar="N",
                     help="raise the learning rate linearly from 0 over the first N steps")
    how.add_argument("--val-fraction", type=fraction, default=0.0, action=_Explicit,
                     metavar="F",
                     help="hold out the last ceil(F * num_docs) documents of the shuffled list "
                          "and report the loss per token on them at the end")
    how.add_argument("--eval-every", type=positive_int, metavar="N",
                     help="also report the validation loss every N steps (needs --val-fraction)")
    how.add_argument("--dtype", choices=DTYPES, default="float64", action=_Explicit,
                     help="precision of the weights and of all the arithmetic; float32 (tensor "
                          "engine only) halves the memory traffic, which pays from n_embd 64 up")
    out = parser.add_argument_group("output and checkpoints")
    out.add_argument("--log-every", type=positive_int, default=1, metavar="N",
                     help="print every N-th step's line (and the last); on a terminal, update "
                          "the progress bar as often")
    out.add_argument("--plot", metavar="PNG",
                     help="write the training and validation loss against step to this PNG "
                          "(needs matplotlib)")
    out.add_argument("--save", metavar="PATH",
                     help="write a checkpoint (.npz) after training, or on Ctrl-C; it holds "
                          "everything --resume needs")
    out.add_argument("--resume", metavar="PATH",
                     help="continue the run saved in this checkpoint, on the same --data; "
                          "--steps is the run's total (default: the saved total), and the "
                          "other training and model options come from the checkpoint")
    out.add_argument("--stop-after", type=positive_int, metavar="K",
                     help="stop once step K (counted from the run's start) is done, as if "
                          "interrupted there; continue later with --resume")


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
        sub.set_defaults(run=run, explicit=frozenset())
        return sub

    p = add("train", cmd_train, "train the GPT, print its losses and sample names")
    p.add_argument("--engine", choices=sorted(ENGINES), default="tensor",
                   help="autograd engine: whole arrays (tensor) or one number at a time (scalar)")
    _add_run_options(p, steps=Hyperparameters.steps)
    _add_training_options(p)
    _add_sampling_options(p)

    p = add("sample", cmd_sample, "sample names from a saved checkpoint")
    p.add_argument("--load", metavar="PATH", required=True, help="checkpoint written by --save")
    _add_sampling_options(p)
    p.add_argument("--seed", type=int, default=42, help="seed of the sampling stream")
    p.add_argument("--prefix", metavar="TEXT",
                   help="start every name with TEXT and let the model continue it")
    p.add_argument("--top-k", type=positive_int, metavar="K",
                   help="draw each character among the K most likely only (1: always the most "
                        "likely); default: among all")

    p = add("compare", cmd_compare,
            "train on both engines from the same weights and compare losses, gradients, speed")
    _add_run_options(p, steps=10)
    return parser


# ---- train --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Settings:
    """What a training run is made of, from the command line or from a resumed checkpoint."""

    hp: Hyperparameters
    seed: int
    val_fraction: float
    model_options: dict[str, int]
    stop: int  # the step this invocation stops after


@dataclass
class _Run:
    """A training run under way: what ``train`` evaluates, saves and samples from."""

    setup: Setup
    engine: ModuleType
    trainer: Trainer
    settings: _Settings
    num_docs: int
    digest: str  # of the documents in file order
    val_tokens: list[list[int]]
    val_history: list[tuple[int, float]]  # (step, validation loss after it)

    def evaluate(self) -> float:
        params = self.trainer.params
        if self.engine is not gpt_tensor:  # the same numbers, computed in whole arrays
            params = gpt_tensor.from_state_dict(self.engine.to_state_dict(params))
        return validation_loss(params, self.setup.config, self.val_tokens)

    def save(self, path: Path) -> None:
        trainer = self.trainer
        state = TrainingState(
            hp=trainer.hp, step=trainer.step, seed=self.settings.seed,
            val_fraction=self.settings.val_fraction, optimizer=trainer.optimizer_state(),
            rng_state=self.setup.rng.getstate(), data_sha256=self.digest,
            num_docs=self.num_docs, losses=trainer.losses, val_history=self.val_history)
        checkpoint.save(path, self.engine.to_state_dict(trainer.params), self.setup.config,
                        self.setup.tokenizer, extra=resume.to_extra(state))


def cmd_train(args: argparse.Namespace) -> int:
    """Train (or resume), report the losses, save and plot as asked, then sample names."""
    save_path = checkpoint.check_can_save(args.save) if args.save is not None else None
    plot_path = plot.check(args.plot) if args.plot is not None else None
    resumed = _load_resumable(args.resume) if args.resume is not None else None
    settings = _settings(args, resumed)
    run = _start(args, settings, resumed)
    trainer, first = run.trainer, run.trainer.step

    start = time.perf_counter()
    try:
        _train_steps(run, args)
    except KeyboardInterrupt:
        if save_path is None:
            raise
        run.save(save_path)
        raise Interrupted(f"interrupted at step {trainer.step} / {trainer.hp.steps}; checkpoint "
                          f"saved to {save_path} (continue with --resume {save_path})") from None
    seconds = time.perf_counter() - start
    if run.val_tokens:
        print(f"final val loss: {run.val_history[-1][1]:.4f}")
    if save_path is not None:  # before sampling: Ctrl-C there must not lose the training
        run.save(save_path)
    if plot_path is not None:
        plot.save_loss_curve(plot_path, trainer.losses, run.val_history)
    if trainer.step < trainer.hp.steps:
        how = (f"continue with --resume {save_path}" if save_path is not None
               else "without --save there is nothing to resume from")
        print(f"stopped after step {trainer.step} / {trainer.hp.steps}; {how}")
    print("\n--- inference (new, hallucinated names) ---")
    # microgpt.py samples from the stream that shuffled and initialised: run.rng continues it.
    _print_samples(lambda: sample(run.engine, trainer.params, run.setup.config,
                                  run.setup.tokenizer, run.setup.rng, args.temperature,
                                  args.samples))
    steps = trainer.step - first
    notes = "".join(f"; {kind} saved to {path}" for kind, path in
                    (("checkpoint", save_path), ("plot", plot_path)) if path is not None)
    dtype = "" if trainer.hp.dtype == "float64" else f", {trainer.hp.dtype}"
    print(f"trained {steps} steps in {seconds:.2f} s "
          f"({1000 * seconds / steps:.2f} ms/step, {args.engine} engine{dtype}){notes}")
    return 0


def _start(args: argparse.Namespace, settings: _Settings,
           resumed: tuple[Checkpoint, TrainingState] | None) -> _Run:
    """Load and split the data, check it against a resumed checkpoint, print the header."""
    docs, setup_ = _prepare(args, settings.seed, settings.model_options)
    try:
        train_docs, val_docs = split(setup_.docs, settings.val_fraction)
    except ValueError as exc:
        raise UsageError(f"--val-fraction {settings.val_fraction}: {exc}") from exc
    digest = resume.dataset_digest(docs)
    saved, state = resumed if resumed is not None else (None, None)
    if state is not None and (state.num_docs, state.data_sha256) != (len(docs), digest):
        raise CommandError(
            f"{args.resume} was trained on another dataset ({state.num_docs} documents, "
            f"sha256 {state.data_sha256[:12]}...), not this one ({len(docs)} documents, "
            f"sha256 {digest[:12]}...); resume with the same --data")

    _print_header(setup_)
    if val_docs:
        print(f"val docs: {len(val_docs)} (the last of the shuffled docs; "
              f"training on the other {len(train_docs)})")
    engine = ENGINES[args.engine]
    if state is None:
        trainer = Trainer(engine, engine.from_state_dict(cast(setup_.state, settings.hp.dtype)),
                          setup_.config, train_docs, setup_.tokenizer, settings.hp)
    else:
        setup_.rng.setstate(state.rng_state)  # the samples continue the saved stream
        trainer = Trainer(engine, engine.from_state_dict(cast(saved.state, settings.hp.dtype)),
                          setup_.config, train_docs, setup_.tokenizer, settings.hp,
                          step=state.step, losses=state.losses, optimizer_state=state.optimizer)
        print(f"resuming {args.resume} at step {state.step} / {settings.hp.steps}")
    return _Run(setup=setup_, engine=engine, trainer=trainer, settings=settings,
                num_docs=len(docs), digest=digest,
                val_tokens=[document_tokens(setup_.tokenizer, doc) for doc in val_docs],
                val_history=[] if state is None else list(state.val_history))


def _train_steps(run: _Run, args: argparse.Namespace) -> None:
    """Train up to the stop step, reporting progress; evaluate as asked and at the end."""
    trainer = run.trainer
    progress = Progress(trainer.hp.steps, start=trainer.step, stop=run.settings.stop,
                        log_every=args.log_every)
    try:
        for loss in trainer.run(until=run.settings.stop):
            val_loss = None
            if run.val_tokens and args.eval_every and trainer.step % args.eval_every == 0:
                val_loss = run.evaluate()
                run.val_history.append((trainer.step, val_loss))
            progress.update(trainer.step, loss, val_loss)
            if not math.isfinite(loss):  # the weights are NaN/inf: nothing worth keeping
                raise CommandError(f"training diverged at step {trainer.step}; "
                                   "try a smaller --lr")
    finally:
        progress.close()
    if run.val_tokens and not (run.val_history and run.val_history[-1][0] == trainer.step):
        run.val_history.append((trainer.step, run.evaluate()))


def _load_resumable(path: str) -> tuple[Checkpoint, TrainingState]:
    """The checkpoint to resume and its training state; CheckpointError if it has none."""
    saved = checkpoint.load(path)
    state = resume.from_extra(saved.extra, saved.config, f"{path} cannot be resumed")
    return saved, state


def _settings(args: argparse.Namespace, resumed: tuple[Checkpoint, TrainingState] | None
              ) -> _Settings:
    """The run's settings; checked against each other before any data is read."""
    given = {name: getattr(args, name) for name in RESUMED_SETTINGS}
    hp = Hyperparameters(steps=args.steps, lr=args.lr, schedule=args.schedule,
                         warmup=args.warmup, batch_size=args.batch_size, dtype=args.dtype)
    if resumed is not None:
        saved, state = resumed
        kept = {"seed": state.seed, "lr": state.hp.lr, "schedule": state.hp.schedule,
                "warmup": state.hp.warmup, "batch_size": state.hp.batch_size,
                "val_fraction": state.val_fraction, "dtype": state.hp.dtype,
                **{name: getattr(saved.config, name) for name in MODEL_OPTIONS}}
        for name in sorted(args.explicit & set(RESUMED_SETTINGS)):
            if given[name] != kept[name]:
                option = "--" + name.replace("_", "-")
                raise UsageError(f"{option} {given[name]} contradicts the {kept[name]} of the "
                                 f"checkpoint {args.resume}; a resumed run keeps its settings")
        given = kept
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
    start = resumed[1].step if resumed is not None else 0
    stop = hp.steps if args.stop_after is None else args.stop_after
    if not start < stop <= hp.steps:
        raise UsageError(f"--stop-after {stop} must be after step {start} and at most "
                         f"--steps {hp.steps}")
    return _Settings(hp=hp, seed=given["seed"], val_fraction=given["val_fraction"],
                     model_options={name: given[name] for name in MODEL_OPTIONS}, stop=stop)


# ---- sample and compare -------------------------------------------------------------------------


def cmd_sample(args: argparse.Namespace) -> int:
    """Sample names from a checkpoint, optionally continuing --prefix, from the --top-k."""
    saved = checkpoint.load(args.load)
    try:
        prefix = saved.tokenizer.encode(args.prefix or "")
    except ValueError as exc:  # names the characters
        raise UsageError(f"--prefix {args.prefix!r} has {exc}") from exc
    block_size = saved.config.block_size
    if len(prefix) > block_size - 1:
        raise UsageError(f"--prefix {args.prefix!r} is {len(prefix)} characters; this model's "
                         f"names are at most {block_size} long, so at most {block_size - 1} "
                         "leave room to continue it")
    dtype = resume.trained_dtype(saved.extra, f"{args.load} is not a valid checkpoint")
    params = gpt_tensor.from_state_dict(cast(saved.state, dtype))  # as it was trained
    rng = random.Random(args.seed)

    def draw() -> list[str]:
        return [saved.tokenizer.decode(gpt_tensor.generate(
                    params, saved.config, saved.tokenizer.bos, rng, args.temperature,
                    prefix=prefix, top_k=args.top_k))
                for _ in range(args.samples)]

    _print_samples(draw)
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    """Train both engines in lockstep and report how far apart they are, and their speeds."""
    _, run = _prepare(args, args.seed, {name: getattr(args, name) for name in MODEL_OPTIONS})
    _print_header(run)
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


def _prepare(args: argparse.Namespace, seed: int, options: dict[str, int]
             ) -> tuple[list[str], Setup]:
    """Check the model options, then load the data and set the run up from it.

    Returns the documents in file order and the run set up from them.
    """
    try:
        GPTConfig(vocab_size=1, **options)  # the config's own checks, before reading any data
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    docs = load_docs(find_dataset(args.data))
    return docs, setup(docs, seed=seed, **options)


def _print_header(run: Setup) -> None:
    """microgpt.py's first lines."""
    print(f"num docs: {len(run.docs)}")
    print(f"vocab size: {run.tokenizer.vocab_size}")
    print(f"num params: {num_params(run.config)}")


def _first_step_grads(engine: ModuleType, run: Setup) -> dict[str, np.ndarray]:
    """Every parameter's gradient of the first training step's loss, from the initial weights."""
    params = engine.from_state_dict(run.state)
    engine.document_loss(params, run.config, document_tokens(run.tokenizer, run.docs[0])).backward()
    return engine.grads(params)


def _print_samples(draw: Callable[[], list[str]]) -> None:
    """Print the names ``draw()`` samples, as microgpt.py does."""
    try:
        names = draw()
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
        allocator.keep_freed_memory()  # fewer page faults per step (see allocator.py)
        # Overflow and NaN are detected and reported above as one line; NumPy's warnings
        # about them would only add lines to stderr.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return args.run(args)
    except UsageError as exc:
        return _fail(str(exc), 2)
    except (DataError, CheckpointError, CommandError, PlotError) as exc:
        return _fail(str(exc), 1)
    except Interrupted as exc:
        return _fail(str(exc), 130)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    except BrokenPipeError:
        # The reader went away (`microgpt train | head`): stop quietly, and point stdout at
        # /dev/null so Python's flush at exit does not report the same error again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, as a shell reports a command killed by a closed pipe
