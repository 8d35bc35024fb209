"""Opening the user's files to read: regular files only, never waiting on one.

A path given to ``--data``, ``--resume`` or ``--load`` may name anything: a FIFO that no
one writes to (reading it would wait forever), ``/dev/zero`` (it never ends), a
directory. ``open_regular`` opens without blocking and refuses whatever is not a regular
file, before reading a byte; its callers bound how much they read.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


class FileProblem(Exception):
    """Why a file cannot be used, in words that follow its name: one line."""


def kind_of(mode: int) -> str:
    """What a file of ``os.stat`` mode ``mode`` is, for messages: "a regular file", ..."""
    return next((kind for test, kind in _KINDS if test(mode)), "a regular file")


def problem(exc: BaseException) -> str:
    """An ``OSError`` in a few words: "Permission denied", "File name too long", ..."""
    return getattr(exc, "strerror", None) or str(exc)


def problem_with(path: str | Path, exc: BaseException) -> str:
    """``problem(exc)``, met using ``path``; for a relative path when the current directory
    was deleted (where it names nothing), that."""
    if isinstance(exc, FileNotFoundError) and not os.path.isabs(path):
        try:
            os.getcwd()
        except FileNotFoundError:
            return "the current directory no longer exists"
    return problem(exc)


@contextlib.contextmanager
def open_regular(path: str | Path) -> Iterator[tuple[BinaryIO, int]]:
    """Yield ``path`` open to read (binary) and its size in bytes.

    ``O_NONBLOCK`` makes opening a FIFO return at once instead of waiting for a writer;
    anything that is not a regular file is then refused. Raises ``FileProblem``.
    """
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the name
        raise FileProblem(problem_with(path, exc)) from exc
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise FileProblem(f"it is {kind_of(info.st_mode)}, not a regular file")
        file = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    with file:
        yield file, info.st_size


def read_at_most(path: str | Path, limit: int, what: str) -> bytes:
    """The bytes of the regular file ``path``; ``FileProblem`` if it has more than ``limit``.

    ``what`` names the file's role in the message ("a dataset"). The size is checked
    before reading and again after, for files whose size the system does not know.
    """
    with open_regular(path) as (file, size):
        try:
            data = file.read(limit + 1) if size <= limit else b""
        except OSError as exc:  # e.g. /proc/self/mem, a failing disk
            raise FileProblem(problem(exc)) from exc
    if size > limit or len(data) > limit:
        raise FileProblem(f"it is larger than the {limit // 2**20} MiB {what} may be")
    return data
