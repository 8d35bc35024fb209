"""The command line's grammar: the subcommands, their options, and what each option means."""

from __future__ import annotations

import argparse
import importlib
import os
import re
import sys
from collections.abc import Callable
from typing import Any, NoReturn

from ..model import GPTConfig
from ..schedule import SCHEDULES
from ..storage import options
from ..storage.download import TIME_LIMIT
from ..storage.limits import (
    MAX_DATASET_BYTES,
    MAX_DRAWN_NODES,
    MAX_PARAMETERS,
    MAX_SCALAR_NODES,
    MAX_STEP_VALUES,
    MAX_STEPS,
)
from ..train import DIVERGED_FACTOR, DTYPES, ENGINES, Hyperparameters
from .errors import UsageError
from .prepare import MODEL_OPTIONS, option


class _Examples(str):
    """An epilog of example commands, shown as written (argparse re-wraps other text)."""


def _terminal_columns() -> int:
    """The width ``shutil.get_terminal_size()`` gives: $COLUMNS, else the terminal's, else 80."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns > 0:
        return columns
    if sys.__stdout__ is None:  # started without one
        return 80
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns or 80
    except (AttributeError, ValueError, OSError):  # no descriptor, closed, not a terminal
        return 80


class _RawExamples(argparse.HelpFormatter):
    def __init__(self, prog: str, **options: Any) -> None:
        # speed: argparse makes a formatter for every option it adds, and sizes it by
        # importing shutil, which brings bz2, lzma and zlib: about 3 ms of every start-up
        # (benchmarks/SPEED.md, "Round five"). The same width, found without it.
        if options.get("width") is None:
            options["width"] = _terminal_columns() - 2  # as argparse leaves a margin
        super().__init__(prog, **options)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if isinstance(text, _Examples):
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


class _HelpFormatter(_RawExamples, argparse.ArgumentDefaultsHelpFormatter):
    # Show defaults, except the None of options whose help says what leaving them out means.
    def _get_help_string(self, action: argparse.Action) -> str | None:
        return action.help if action.default is None else super()._get_help_string(action)


class _Version(argparse.Action):
    """``--version``: the installed package's version, looked up only when asked for."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS,
                 help: str | None = None) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help=help)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        from .. import __version__

        print(f"{parser.prog} {__version__}")
        parser.exit()


TRAIN_EXAMPLES = _Examples("""\
examples:
  microgpt train                    # microgpt.py's run: 1000 steps on the shipped names
  microgpt train --steps 5000 --batch-size 16 --val-fraction 0.1 --eval-every 500
  microgpt train --data words.txt --save words.safetensors --log words.jsonl
  microgpt train --data words.txt --resume words.safetensors --steps 8000
""")
SAMPLE_EXAMPLES = _Examples("""\
examples:
  microgpt sample --load words.safetensors --samples 5
  microgpt sample --load words.safetensors --prefix ma --top-k 5 --attention maps.png
""")
MAIN_EXAMPLES = _Examples(TRAIN_EXAMPLES + """\
  microgpt sample --load words.safetensors --prefix ma --top-k 5
  microgpt compare --steps 20
  microgpt graph --out step.dot

'microgpt COMMAND --help' describes each command's options.
""")


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


def _sha256(text: str) -> str:
    if not re.fullmatch(r"[0-9a-fA-F]{64}", text):
        raise argparse.ArgumentTypeError(f"must be 64 hexadecimal digits, not {text!r}")
    return text.lower()


def _add_run_options(parser: argparse.ArgumentParser, steps: int) -> None:
    """Data, training and model options: the same for ``train`` and ``compare``."""
    _add_data_options(parser)
    parser.add_argument("--steps", type=options.steps, default=steps, action=_Explicit,
                        metavar="N",
                        help=f"training steps (at most {MAX_STEPS:,}: each one's loss is kept)")
    _add_seed_option(parser)
    parser.add_argument("--lr", type=options.positive_float, default=Hyperparameters.lr,
                        action=_Explicit, metavar="F",
                        help="Adam learning rate (peak of the schedule); training stops with an "
                             "error once a step's loss is not finite or above "
                             f"{DIVERGED_FACTOR} ln(vocab size): it has diverged")
    _add_model_options(parser)


def _add_data_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", metavar="PATH|URL",
                        help="dataset, one document per line: a UTF-8 text file of at most "
                             f"{MAX_DATASET_BYTES // 2**20} MiB, or an http(s) URL of one, "
                             "downloaded once (see 'downloads') (default: the names that ship "
                             "with microgpt)")
    parser.add_argument("--data-sha256", type=_sha256, metavar="HEX",
                        help="refuse a dataset whose sha256 is not HEX")
    downloads = parser.add_argument_group(
        "downloads (when --data is a URL)",
        "a URL is downloaded once, into microgpt's cache directory (on Linux "
        "~/.cache/microgpt, or $XDG_CACHE_HOME/microgpt; the lines on stderr name the file), "
        "and later runs use that copy; an HTML page or binary data is refused, and nothing "
        "unfinished is kept")
    downloads.add_argument("--redownload", action="store_true",
                           help="download the URL again, replacing the cached copy once the "
                                "new one is complete")
    downloads.add_argument("--download-timeout", type=options.download_seconds, metavar="F",
                           help="give up a download not done in F seconds, retries included "
                                f"(default: {TIME_LIMIT:g})")


def _add_seed_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seed", type=options.seed, default=42, action=_Explicit, metavar="N",
                        help="seed of the one random stream that shuffles, initialises and samples")


def _add_model_options(parser: argparse.ArgumentParser) -> None:
    model = parser.add_argument_group(
        "model options", f"at most {MAX_PARAMETERS:,} parameters (the weights are drawn one "
        "at a time in Python, in microgpt.py's order), and a training step may keep at most "
        f"about {MAX_STEP_VALUES:,} numbers for its backward pass (1 GiB in float64), and "
        f"on the scalar engine build at most {MAX_SCALAR_NODES:,} Values; a larger "
        "model is refused before its weights are drawn")
    for name, help in MODEL_OPTIONS.items():  # defaults: GPTConfig's, i.e. microgpt.py's
        kind = options.n_layer if name == "n_layer" else options.positive_int
        model.add_argument(option(name), type=kind, action=_Explicit,
                           default=getattr(GPTConfig, name), metavar="N", help=help)


def _add_training_options(parser: argparse.ArgumentParser) -> None:
    """``train``'s options beyond microgpt.py: batches, schedule, validation, output, resuming."""
    how = parser.add_argument_group("training beyond microgpt.py (all off by default)")
    how.add_argument("--batch-size", type=options.positive_int, default=1, action=_Explicit,
                     metavar="N",
                     help="documents per step (N > 1: tensor engine only; at most the training "
                          "documents); step k (from 0) trains on docs[(k*N + i) %% num_docs] "
                          "for i < N, on the mean of their per-document losses")
    how.add_argument("--schedule", choices=SCHEDULES, default="linear", action=_Explicit,
                     help="learning-rate schedule after the warm-up; linear decays to 0 as "
                          "microgpt.py does")
    how.add_argument("--warmup", type=options.non_negative_int, default=0, action=_Explicit,
                     metavar="N",
                     help="raise the learning rate linearly from 0 over the first N steps")
    how.add_argument("--val-fraction", type=options.fraction, default=0.0, action=_Explicit,
                     metavar="F",
                     help="hold out the last ceil(F * num_docs) documents of the shuffled list "
                          "and report the loss per token on them at the end")
    how.add_argument("--eval-every", type=options.positive_int, metavar="N",
                     help="also report the validation loss every N steps (needs --val-fraction)")
    how.add_argument("--dtype", choices=DTYPES, default="float64", action=_Explicit,
                     help="precision of the weights and of all the arithmetic; float32 (tensor "
                          "engine only) halves the memory traffic, which pays in the larger models")
    out = parser.add_argument_group(
        "output and checkpoints",
        "--save and --plot are written only after training (or when Ctrl-C, SIGTERM or SIGHUP "
        "stops it), each to a temporary file renamed into place; --log as the run goes. Only "
        "regular files are written (a symlink to one is written through), never the dataset, "
        "never one file twice; all are checked before training starts, and again when "
        "written")
    out.add_argument("--log-every", type=options.positive_int, default=1, metavar="N",
                     help="print every N-th step's line (and the last); on a terminal, update "
                          "the progress bar as often")
    out.add_argument("--log", metavar="PATH",
                     help="write one JSON line per step as it is done (step, loss, lr, val_loss "
                          "where evaluated, elapsed seconds of training), flushed at once: not "
                          "atomic, so an interrupted run keeps what it logged; an existing file "
                          "is replaced (truncated when training starts)")
    out.add_argument("--plot", metavar="PATH",
                     help="draw the training and validation loss against step to this PNG "
                          "file (needs matplotlib)")
    out.add_argument("--save", metavar="PATH",
                     help="write a checkpoint (safetensors) after training, or when Ctrl-C, "
                          "SIGTERM or SIGHUP stops it; it holds everything --resume needs")
    out.add_argument("--resume", metavar="PATH",
                     help="continue the run saved in this checkpoint, on the same --data; "
                          "--steps is the run's total (default: the saved total), and the "
                          "other training and model options come from the checkpoint")
    out.add_argument("--stop-after", type=options.positive_int, metavar="N",
                     help="stop once step N (counted from the run's start) is done, as if "
                          "interrupted there; continue later with --resume")


def _add_sampling_options(parser: argparse.ArgumentParser, at_least: options.Number) -> None:
    """Options of the names drawn after training (``train``) or from a checkpoint (``sample``)."""
    parser.add_argument("--temperature", type=options.positive_float, default=0.5, metavar="F",
                        help="sampling temperature: lower is more conservative")
    parser.add_argument("--samples", type=at_least, default=20, metavar="N",
                        help="names to draw" + (" (0: none)" if at_least.accept(0) else ""))


def _command(module: str, name: str) -> Callable[[argparse.Namespace], int]:
    """The function ``name`` of ``microgpt.cli.<module>``, imported when the command runs: a
    run of one command does not import the others (compare's and graph's tools, matplotlib's
    callers), which would lengthen every start-up."""
    def run(args: argparse.Namespace) -> int:
        return getattr(importlib.import_module(f"{__package__}.{module}"), name)(args)
    return run


def _train_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--engine", choices=sorted(ENGINES), default="tensor",
                   help="autograd engine: whole arrays (tensor) or one number at a time (scalar)")
    _add_run_options(p, steps=Hyperparameters.steps)
    _add_training_options(p)
    _add_sampling_options(p, at_least=options.non_negative_int)


def _sample_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--load", metavar="PATH", required=True, help="checkpoint written by --save")
    _add_sampling_options(p, at_least=options.positive_int)
    p.add_argument("--seed", type=options.seed, default=42, metavar="N",
                   help="seed of the sampling stream")
    p.add_argument("--prefix", metavar="TEXT",
                   help="start every name with TEXT and let the model continue it")
    p.add_argument("--top-k", type=options.positive_int, metavar="N",
                   help="draw each character among the N most likely only (1: always the most "
                        "likely); default: among all")
    p.add_argument("--attention", metavar="PATH",
                   help="draw, for the first name sampled, how much each position attends to "
                        "each earlier one, per layer and head, to this PNG file (needs "
                        "matplotlib)")


def _compare_options(p: argparse.ArgumentParser) -> None:
    _add_run_options(p, steps=10)
    by_op = p.add_argument_group("op by op")
    by_op.add_argument("--by-op", action="store_true",
                       help="instead, take one training step (on the first document, at the "
                            "initial weights) apart: per op of the tensor step, the nodes each "
                            "engine makes, forward and backward time")
    by_op.add_argument("--json", metavar="PATH", help="also write the --by-op table as JSON")


def _graph_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--engine", choices=sorted(ENGINES), default="tensor",
                   help="whose graph: whole arrays (tensor) or one number at a time (scalar)")
    p.add_argument("--out", metavar="PATH", required=True,
                   help="the file to write: .dot (DOT source), or .svg or .png (drawn by "
                        "Graphviz's dot program, from the graphviz system package; at most "
                        f"{MAX_DRAWN_NODES:,} nodes)")
    _add_data_options(p)
    _add_seed_option(p)
    _add_model_options(p)


def _convert_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("old", metavar="OLD", help="the .npz checkpoint (read, never unpickled)")
    p.add_argument("new", metavar="NEW", help="where to write the safetensors checkpoint")


# Each command: its name, the module and function that run it, what it does, its examples, and
# what adds its options.
_COMMANDS: tuple[tuple[str, str, str, str, str | None,
                       Callable[[argparse.ArgumentParser], None]], ...] = (
    ("train", "training", "cmd_train", "train the GPT, print its losses and sample names",
     TRAIN_EXAMPLES, _train_options),
    ("sample", "sample", "cmd_sample", "sample names from a saved checkpoint", SAMPLE_EXAMPLES,
     _sample_options),
    ("compare", "compare", "cmd_compare",
     "train on both engines from the same weights and compare losses, gradients, speed", None,
     _compare_options),
    ("graph", "graph", "cmd_graph",
     "write the autograd graph of one training step's loss (the first document) as Graphviz "
     "DOT, or draw it", None, _graph_options),
    ("convert", "convert", "cmd_convert",
     "rewrite a checkpoint of microgpt's old .npz format as a safetensors checkpoint", None,
     _convert_options),
)
COMMANDS = tuple(name for name, *_ in _COMMANDS)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The command line's parser; given ``command``, the parser of a command line that begins
    with it, which needs no other command (speed: each parser argparse makes costs about a
    quarter of a millisecond, most of it looking up translations; benchmarks/SPEED.md, "Round
    nine")."""
    parser = _Parser(prog="microgpt", description="Karpathy's microgpt on the tensorgrad engine.",
                     epilog=MAIN_EXAMPLES, formatter_class=_RawExamples)
    parser.add_argument("--version", action=_Version, help="print the version and exit")
    commands = parser.add_subparsers(title="commands", dest="command", required=True,
                                     metavar="{" + ",".join(COMMANDS) + "}")
    for name, module, function, help, examples, add_options in _COMMANDS:
        if command is None or command == name:
            sub = commands.add_parser(name, help=help, description=help, epilog=examples,
                                      formatter_class=_HelpFormatter)
            sub.set_defaults(run=_command(module, function), explicit=frozenset())
            add_options(sub)
    return parser
