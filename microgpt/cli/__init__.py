"""The ``microgpt`` command line (also ``python -m microgpt``).

    microgpt train   [--data PATH|URL] [--data-sha256 HEX] [--engine tensor|scalar]
                     [--steps N] [model options] [--batch-size N] [--schedule NAME] [--warmup N]
                     [--val-fraction F] [--eval-every N] [--dtype float64|float32]
                     [--log-every N] [--log PATH] [--plot PATH] [--save PATH]
                     [--resume PATH] [--stop-after N] [--temperature F] [--samples N]
    microgpt sample  --load PATH [--prefix TEXT] [--top-k N] [--samples N] [--temperature F]
                     [--seed N] [--attention PATH]
    microgpt compare [--data PATH|URL] [--steps N] [model options] [--by-op [--json PATH]]
    microgpt graph   [--engine tensor|scalar] --out PATH.dot|svg|png [--data PATH|URL]
                     [model options]
    microgpt convert OLD.npz NEW
    microgpt --version

``train`` with its defaults prints exactly the lines Karpathy's microgpt.py prints, then
one line of timing; on a terminal a progress bar stands in for the step lines. Every other
option is opt-in. Each command is a thin layer over ``microgpt.api``: the options become
the API's typed settings at the command's door, and the API's errors one line each. The
modules: ``parser`` (the options), ``training`` (a training session, its signals, its
saving and its log, with ``settings`` for resuming), ``sample``, ``compare``, ``graph``,
``convert``; ``prepare`` (the model options), ``api_errors`` (the API's errors as the
command line's) and ``targets`` (the files a command writes).

Every problem a user can cause is one ``error: ...`` line on stderr and a non-zero exit
status: 2 for a bad command line, 1 for a problem met while running (dataset, checkpoint,
plot, output, memory), 130 for Ctrl-C, 143 for SIGTERM and 129 for SIGHUP, 141 when the
reader of the output goes away. Options are checked before any data is read or any training
starts. What it prints cannot drive the terminal: control characters are escaped (``output``).
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Sequence

import numpy as np

from ..storage.checkpoint import CheckpointError
from ..storage.datasets import DataError
from ..storage.files import problem
from ..tools.plot import PlotError
from . import allocator, signals
from .errors import CommandError, Interrupted, UsageError
from .output import OutputError, discard_output, printable, terminal_output
from .parser import COMMANDS, build_parser

__all__ = ["main", "build_parser"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default: ``sys.argv[1:]``); return the exit status.

    ``--help`` exits through argparse's ``SystemExit(0)`` as usual.
    """
    command: str | None = None  # for the hint of an out-of-memory message
    try:
        for stream in (sys.stdout, sys.stderr):
            # Names and paths may hold characters the terminal's encoding lacks: escape them.
            if stream is not None and hasattr(stream, "reconfigure"):
                stream.reconfigure(errors="backslashreplace")
        if sys.stdout is None:  # started with stdout closed (`microgpt train >&-`)
            raise CommandError("standard output is closed; redirect it to a file or to "
                               "/dev/null instead")
        argv = sys.argv[1:] if argv is None else list(argv)
        # speed: a command line that begins with its command needs that command alone
        args = build_parser(argv[0] if argv and argv[0] in COMMANDS else None
                            ).parse_args(argv)
        command = args.command
        allocator.keep_freed_memory()  # fewer page faults per step (see allocator.py)
        # Overflow and NaN are detected and reported above as one line; NumPy's warnings
        # about them would only add lines to stderr.
        with terminal_output(), signals.sigterm_raises(), np.errstate(
                over="ignore", invalid="ignore", divide="ignore"):
            status = args.run(args)
            sys.stdout.flush()  # here, where a failure can still be reported
        return status
    except UsageError as exc:
        return _fail(str(exc), 2)
    except (DataError, CheckpointError, CommandError, PlotError) as exc:
        return _fail(str(exc), 1)
    except Interrupted as exc:
        return _fail(str(exc), exc.status)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    except signals.Terminated as exc:  # SIGTERM, or SIGHUP
        return _fail(exc.what, exc.status)
    except BrokenPipeError:
        # The reader went away (`microgpt train | head`): stop quietly.
        discard_output()
        return 141  # 128 + SIGPIPE, as a shell reports a command killed by a closed pipe
    except OutputError as exc:
        discard_output()
        return _fail(f"cannot write to standard output: {problem(exc)}", 1)
    except OSError as exc:  # file errors are worded where they happen: this is unforeseen
        return _fail(problem(exc), 1)
    except MemoryError as exc:
        # Reported once the block has ended: the frames that held the memory are gone then.
        detail = f" ({exc})" if str(exc) else ""  # NumPy's says how much it asked for
    return _fail(f"out of memory{detail}: this run needs more than the machine can give; "
                 f"{_MEMORY_HINTS.get(command or '', 'free some memory and try again')}", 1)


_SMALLER_MODEL = "use a smaller model (--n-embd, --n-layer, --block-size)"
_MEMORY_HINTS = {"train": f"{_SMALLER_MODEL} or --batch-size", "compare": _SMALLER_MODEL,
                 "graph": _SMALLER_MODEL}


def _fail(message: str, status: int) -> int:
    if sys.stdout is not None:
        try:  # now: at exit, a failure would print a traceback and change the status to 120
            sys.stdout.flush()
        except (OSError, ValueError):  # a reader gone, a terminal hung up: drop what is left
            discard_output()
    if sys.stderr is not None:  # closed (`2>&-`): the status alone says it
        with contextlib.suppress(OSError):  # its terminal hung up: the status alone says it
            print(f"error: {printable(message)}", file=sys.stderr)
    return status

