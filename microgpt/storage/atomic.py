"""Writing a file atomically: readers see the old file or the complete new one, never half.

What may be written is checked first (``write_target``): only a regular file, new or
existing, or a symlink that leads to one, which is then written through (the link stays,
its target gets the new content). Anything else the path names (a directory, a device
such as ``/dev/full``, a FIFO) is refused: replacing it with a file would destroy it.

The content goes to a temporary file in the target's directory (so that ``os.replace`` is
a rename on one file system) named ``.microgpt-<pid>-<random>.tmp``. A run that is killed
while writing leaves it behind; the next write into that directory removes every such
file whose process no longer runs, so they cannot accumulate.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from .files import kind_of, problem

_TEMPORARY = re.compile(r"\.microgpt-(\d{1,7})-\w+\.tmp")  # a pid has at most 7 digits


class UnwritableError(OSError):
    """Why a path cannot be written, in words that follow its name: one line.

    An ``OSError``, so that callers word it with the errors of the write itself.
    """


def write_target(path: str | Path) -> Path:
    """The file that writing ``path`` replaces: ``path``, or the regular file its link names.

    Raises ``UnwritableError`` unless that is a new file, or an existing regular file this
    process may write, in a directory it may write to.
    """
    try:
        target = Path(os.path.realpath(path))  # symlinks followed, to the file itself
        # What the path names, through its links: /dev/stdout names a pipe, not a file.
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        mode = None
    except (OSError, ValueError) as exc:  # a name too long, a loop of links, a NUL, ...
        raise UnwritableError(problem(exc)) from exc
    if mode is not None and not stat.S_ISREG(mode):
        raise UnwritableError(f"it is {kind_of(mode)}, not a regular file")
    # Root may write any file, so a file that grants nobody write permission counts as
    # read-only too: the user made it so.
    if mode is not None and (not os.access(target, os.W_OK) or not mode & 0o222):
        raise UnwritableError("it is read-only")
    directory = target.parent
    if not directory.is_dir():
        raise UnwritableError(f"no directory {directory}")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise UnwritableError(f"{directory} is not writable")
    return target


@contextlib.contextmanager
def atomic_write(path: str | Path) -> Iterator[BinaryIO]:
    """Yield a binary file to write; when the block ends without error it replaces ``path``.

    ``path`` must pass ``write_target`` (``UnwritableError``, an ``OSError``, otherwise);
    an existing file keeps its permissions. The new content is synced before the rename.
    On any failure, Ctrl-C included, the temporary file is removed and ``path`` is left as
    it was. ``OSError``s propagate for the caller to word.
    """
    target = write_target(path)
    _remove_stale(target.parent)
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        mode = 0o666 & ~_umask()  # what open() would give a new file
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".microgpt-{os.getpid()}-",
                                    suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            os.chmod(tmp_name, mode)  # mkstemp makes the file private (0600)
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp_name, target)
    finally:
        with contextlib.suppress(FileNotFoundError):  # already renamed into place
            os.unlink(tmp_name)


def same_file(a: str | Path, b: str | Path) -> bool:
    """Whether writing ``a`` would write ``b``: the same path, link target or hard link."""
    with contextlib.suppress(OSError):  # one does not exist (yet): compare the paths
        return os.path.samefile(a, b)
    return os.path.realpath(a) == os.path.realpath(b)


def _remove_stale(directory: Path) -> None:
    """Remove the temporary files that killed writers left in ``directory``."""
    with contextlib.suppress(OSError), os.scandir(directory) as entries:  # unlistable: leave it
        for entry in entries:
            match = _TEMPORARY.fullmatch(entry.name)
            if match and not _running(int(match[1])):
                with contextlib.suppress(OSError):  # gone already, or not ours to remove
                    os.unlink(entry.path)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only checks that the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, as another user's
        return True
    return True


def _umask() -> int:
    mask = os.umask(0)  # the only way to read it is to set it, so set it straight back
    os.umask(mask)
    return mask
