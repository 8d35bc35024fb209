"""The files a command writes, checked before any work: writable, and not a file the command
reads or prints to.

Each check raises one line: ``UsageError`` when the command line names the file wrongly
(the output it prints to, the dataset it reads), ``CommandError`` when the file system
refuses (a directory, a device, a read-only file, a missing directory). A long command
writes within ``keeping_outputs``, so that what was refused at the start is refused again
when the file is written (the world may have changed meanwhile).
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

from ..storage.atomic import keeping, same_file, write_target
from ..storage.files import problem
from .errors import CommandError, UsageError


def is_the_output(path: Path) -> bool:
    """Whether ``path`` is the file that stdout or stderr is redirected to."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(AttributeError, OSError, ValueError):  # closed, or not a file
            if os.path.samestat(os.fstat(stream.fileno()), os.stat(path)):
                return True
    return False


def keeping_outputs(*files: tuple[str, str | Path | None]
                    ) -> contextlib.AbstractContextManager[None]:
    """``atomic.keeping`` the ``(what, path)`` ``files`` and the files stdout and stderr go to:
    what the checks below refuse before any work, each write refuses again."""
    outputs = []
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(AttributeError, OSError, ValueError):  # closed, or not a file
            outputs.append(("where the output goes", stream.fileno()))
    return keeping(*files, *outputs)


def check_target(path: str, option: str, suffixes: tuple[str, ...] = ()) -> Path:
    """``path`` as ``option`` may write it: with one of ``suffixes`` (if given), a regular
    file or a new one in a writable directory (see ``atomic.write_target``), and not where
    the output goes."""
    target = Path(path)
    if suffixes and target.suffix.lower() not in suffixes:
        raise UsageError(f"{option} writes {' or '.join(suffixes)} files: give a path ending in "
                         f"one of them, not {path}")
    try:
        write_target(path)  # as given: Path() would drop a trailing "/"
    except OSError as exc:
        raise CommandError(f"cannot write {option} {path}: {problem(exc)}") from exc
    if is_the_output(target):
        raise UsageError(f"{option} {path} is where the output goes; writing there would "
                         "replace it")
    return target


def check_not_read(target: Path, read: str | Path | None, option: str, what: str) -> None:
    """Refuse to write ``target`` if it is ``read`` (the dataset, the checkpoint loaded)."""
    if read is not None and same_file(target, read):
        raise UsageError(f"{option} {target} is {what}; writing there would destroy it")
