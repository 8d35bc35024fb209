"""The output: the lines every command prints as microgpt.py prints them (the run's header,
the samples), the errors of writing them, told apart from every other file's, and the
characters that could drive the terminal, escaped (names and paths come from the user's
files: a dataset, a checkpoint, a download)."""

from __future__ import annotations

import contextlib
import os
import re
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


# Characters that could drive a terminal rather than be shown, or hide what is shown: the C0
# controls (newline apart), DEL, the C1 controls, the line and paragraph separators, and the
# marks that reorder text (bidi embeddings, overrides and isolates; the Arabic letter mark).
_CONTROLS_BUT_NEWLINE = "\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069"
_IN_LINES = re.compile(f"[{_CONTROLS_BUT_NEWLINE}]")
_IN_A_LINE = re.compile(f"[\n{_CONTROLS_BUT_NEWLINE}]")
_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    return _NAMED.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def printable(text: str) -> str:
    """``text`` as one line that cannot drive a terminal: control characters (newlines too)
    and the marks that reorder text escaped as Python writes them.

    >>> printable("name\\x1b[2J\\u202eevil\\n")
    'name\\\\x1b[2J\\\\u202eevil\\\\n'
    """
    return _IN_A_LINE.sub(_escape, text)


class OutputError(OSError):
    """Standard output could not be written (a full disk, a closed descriptor, ...)."""


_Result = TypeVar("_Result")


class _Output:
    """A stream that escapes control characters but newlines (names and paths come from the
    user's files) and whose write errors are ``OutputError``s (``BrokenPipeError`` stays
    itself); ``unescaped`` writes what the program means as terminal control."""

    def __init__(self, stream: Any, escape: bool = True, name_errors: bool = True) -> None:
        self._stream, self._escape, self._name_errors = stream, escape, name_errors

    def write(self, text: str) -> int:
        if self._escape:
            text = _IN_LINES.sub(_escape, text)
        if not self._name_errors:
            return self._stream.write(text)
        return self._guarded(self._stream.write, text)

    def flush(self) -> None:
        if not self._name_errors:
            return self._stream.flush()
        self._guarded(self._stream.flush)

    @property
    def unescaped(self) -> _Output:
        """This stream, without the escaping: for the progress bar's carriage returns."""
        return _Output(self._stream, escape=False, name_errors=self._name_errors)

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
def terminal_output() -> Iterator[None]:
    """Within the block, ``sys.stdout`` and ``sys.stderr`` escape control characters but
    newlines, and a failure to write ``sys.stdout`` raises ``OutputError``."""
    stdout, stderr = sys.stdout, sys.stderr
    sys.stdout = _Output(stdout)
    if stderr is not None:
        sys.stderr = _Output(stderr, name_errors=False)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = stdout, stderr


def discard_output() -> None:
    """Point stdout at /dev/null, so that Python's flush at exit does not fail again."""
    with contextlib.suppress(OSError, ValueError):  # not a real file (tests capture it)
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)
