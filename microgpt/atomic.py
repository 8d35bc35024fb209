"""Writing a file atomically: readers see the old file or the complete new one, never half."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO


@contextlib.contextmanager
def atomic_write(path: str | Path) -> Iterator[BinaryIO]:
    """Yield a binary file to write; when the block ends without error it replaces ``path``.

    The file is a temporary one in ``path``'s directory (so ``os.replace`` is a rename on
    one file system), synced before the rename. On any failure, Ctrl-C included, it is
    removed and ``path`` is left as it was. ``OSError``s propagate for the caller to word.
    """
    path = Path(path)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            # mkstemp makes the file private (0600); give it what open() would have given.
            os.chmod(tmp_name, 0o666 & ~_umask())
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp_name, path)
    finally:
        with contextlib.suppress(FileNotFoundError):  # already renamed into place
            os.unlink(tmp_name)


def _umask() -> int:
    mask = os.umask(0)  # the only way to read it is to set it, so set it straight back
    os.umask(mask)
    return mask


def write_problem(path: str | Path) -> str | None:
    """Why ``atomic_write(path)`` would surely fail (to check before long work), else None."""
    path = Path(path)
    if path.is_dir():
        return "it is a directory"
    if not path.parent.is_dir():
        return f"no directory {path.parent}"
    if not os.access(path.parent, os.W_OK | os.X_OK):
        return f"{path.parent} is not writable"
    return None
