"""The ``microgpt`` script and ``python -m microgpt``: the command line, and Ctrl-C at any moment.

The command line imports NumPy, the slow part of start-up, and Ctrl-C in the middle of an
import ends it with a traceback (or, inside NumPy's compiled modules, an ``ImportError``).
This module imports nothing heavy: ``main`` holds Ctrl-C until the command line has loaded,
then exits 130 with one line if it came. ``script`` is the script itself: ``main`` with the
garbage collector kept off what the imports made, then an exit that does not collect garbage
the system takes back anyway.
"""

from __future__ import annotations

import gc
import signal
import sys
from collections.abc import Sequence


class _Held:
    """A SIGINT handler that notes the signal instead of raising ``KeyboardInterrupt``."""

    received = False

    def __call__(self, signum: int, frame: object) -> None:
        self.received = True


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default: ``sys.argv[1:]``); return the exit status."""
    return _main(argv, freeze_imports=False)


def _main(argv: Sequence[str] | None, freeze_imports: bool) -> int:
    held = _Held()
    try:
        # Only over the default handler: a caller that ignores SIGINT (nohup) keeps that.
        holding = signal.getsignal(signal.SIGINT) is signal.default_int_handler
        if holding:
            signal.signal(signal.SIGINT, held)
    except ValueError:  # not the main thread: signals are not this thread's to handle
        holding = False
    try:
        try:
            if freeze_imports:
                # speed: the modules, classes and functions the imports make live as long as
                # the process; the cyclic collector would walk them at every collection of
                # the run (some 10 ms of a run: benchmarks/SPEED.md, "Round nine"). Off during
                # the imports, which make next to no garbage, then they are frozen.
                gc.disable()
            from .cli import main as run
        finally:
            if freeze_imports:
                gc.freeze()
                gc.enable()
            if holding:
                signal.signal(signal.SIGINT, signal.default_int_handler)
        if not held.received:
            return run(argv)
    except KeyboardInterrupt:  # between the imports and the command line's own handling
        pass
    if sys.stderr is not None:
        print("error: interrupted", file=sys.stderr)
    return 130


def script() -> int:
    """``main()`` for the script, whose process ends when it returns; returns the exit status."""
    status = _main(None, freeze_imports=True)
    # speed: the interpreter's exit would walk every object still alive to find cycles that
    # only the system's reclaiming of the process frees anyway; frozen, they are skipped (some
    # 10 ms of a run: benchmarks/SPEED.md, "Round seven"). Open files were closed by now.
    gc.freeze()
    return status


if __name__ == "__main__":
    raise SystemExit(script())
