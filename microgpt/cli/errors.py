"""The command line's errors: each is reported as one ``error: ...`` line on stderr."""

from __future__ import annotations


class UsageError(Exception):
    """A bad command line; exit status 2, like argparse's errors."""


class CommandError(Exception):
    """A problem met while running a command; exit status 1."""


class Interrupted(Exception):
    """A stop signal, after saving what there was to save; exit status ``status``."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status
