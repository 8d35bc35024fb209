"""A progress line on stderr: rewritten in place on a terminal, plain lines otherwise.

``point`` reports a phase (a new configuration, the agreement check, a full run) and is always
shown; ``detail`` reports finer steps (each timed window) and is shown only on a terminal,
where it costs one rewritten line, so logs of non-interactive runs stay short.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    def __init__(self, stream: TextIO | None = None, enabled: bool = True):
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled
        self.interactive = enabled and _isatty(self.stream)
        self.start = time.perf_counter()
        self._width = 0  # length of the line currently shown, on a terminal

    def point(self, message: str) -> None:
        """A new phase: always shown."""
        self._show(message, always=True)

    def detail(self, message: str) -> None:
        """A step within a phase: shown on a terminal only."""
        self._show(message, always=False)

    def notice(self, message: str) -> None:
        """A one-line notice for the user, kept on screen (also when progress is off)."""
        self.clear()
        print(f"notice: {message}", file=self.stream, flush=True)

    def clear(self) -> None:
        """Remove the in-place line (before other output, and at the end)."""
        if self.interactive and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
            self._width = 0

    def _show(self, message: str, always: bool) -> None:
        if not self.enabled or not (always or self.interactive):
            return
        line = f"[{time.perf_counter() - self.start:6.1f} s] {message}"
        if self.interactive:
            padding = " " * max(0, self._width - len(line))
            self.stream.write("\r" + line + padding)
            self._width = len(line)
        else:
            self.stream.write(line + "\n")
        self.stream.flush()


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # closed or not a real file
        return False
