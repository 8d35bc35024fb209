"""The output: the lines every command prints as microgpt.py prints them (the run's header,
the samples), and the errors of writing them, told apart from every other file's."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from ..model import GPTConfig, num_params


def print_header(num_docs: int, config: GPTConfig) -> None:
    """microgpt.py's first lines, flushed: an output that cannot be written fails now."""
    print(f"num docs: {num_docs}")
    print(f"vocab size: {config.vocab_size}")
    print(f"num params: {num_params(config)}")
    sys.stdout.flush()


def print_samples(names: Iterator[str]) -> None:
    """Print each name as it is drawn, as microgpt.py does."""
    for i, name in enumerate(names, 1):
        print(f"sample {i:2d}: {name}")


class OutputError(OSError):
    """Standard output could not be written (a full disk, a closed descriptor, ...)."""


_Result = TypeVar("_Result")


class _Output:
    """A stream whose write errors are ``OutputError``s; ``BrokenPipeError`` stays itself."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        return self._guarded(self._stream.write, text)

    def flush(self) -> None:
        self._guarded(self._stream.flush)

    def __getattr__(self, name: str) -> Any:  # isatty, fileno, encoding, ...
        return getattr(self._stream, name)

    @staticmethod
    def _guarded(call: Callable[..., _Result], *args: str) -> _Result:
        try:
            return call(*args)
        except BrokenPipeError:  # the reader went away: not a failure to report
            raise
        except OSError as exc:
            raise OutputError(exc.errno, exc.strerror) from exc


@contextlib.contextmanager
def output_errors_named() -> Iterator[None]:
    """Within the block, a failure to write ``sys.stdout`` raises ``OutputError``."""
    stream = sys.stdout
    sys.stdout = _Output(stream)
    try:
        yield
    finally:
        sys.stdout = stream


def discard_output() -> None:
    """Point stdout at /dev/null, so that Python's flush at exit does not fail again."""
    with contextlib.suppress(OSError, ValueError):  # not a real file (tests capture it)
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)
