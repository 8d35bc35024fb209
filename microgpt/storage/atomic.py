"""Writing a file atomically: readers see the old file or the complete new one, never half.

What may be written is checked (``write_target``): only a regular file, new or existing,
or a symlink that leads to one, which is then written through (the link stays, its target
gets the new content). Anything else the path names (a directory, a device such as
``/dev/full``, a FIFO), a path that ends in ``/`` (it names a directory), a read-only file
and the files the caller keeps (``keeping``: the dataset, the file the output goes to) are
refused: replacing them would destroy them. So is a file mounted over another (a
container's volume), which a rename cannot replace: better said before a long run than
after it.

``atomic_write`` makes these checks when it starts and again just before the rename that
puts the new file in place: a check made when a long run began still holds when its file is
written (a link to the dataset swapped in meanwhile is refused). The target's directory is
held open from the first check to the rename, so that the rename lands in the directory that
was checked even if a path to it changes.

The content goes to a temporary file in that directory (so that the rename stays on one file
system), named ``.microgpt-<pid>-<random>.tmp`` and locked (``flock``) by its writer for its
whole life. A run that is killed while writing leaves it behind; the next write into the
directory removes the ones that nobody holds locked and that have not been written to for
``STALE_AFTER`` seconds. The lock tells a live writer apart from a dead one in any process
that shares the file system's locks (other containers, other hosts on NFS with locking);
the age protects a live writer where locks are not shared (an NFS mount with ``nolock``).

A file written as a run goes (``--log``) is not replaced but written in place
(``open_in_place``), and checked on the file it opens.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import re
import stat
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import BinaryIO

from .files import kind_of, problem, problem_with

# The writer's pid (at most 7 digits) names the file for people; it says nothing of whether
# the writer lives in another container or on another host.
_TEMPORARY = re.compile(r"\.microgpt-\d{1,7}-\w+\.tmp")
STALE_AFTER = 3600  # seconds: far longer than any write takes between its file's writes
_MOUNTS = "/proc/self/mountinfo"
_OCTAL = re.compile(r"\\([0-7]{3})")
# A directory can be held open, and files named relative to it, on POSIX systems.
_HOLD_DIRECTORY = os.rename in os.supports_dir_fd and os.open in os.supports_dir_fd

File = str | Path | int  # a path, or an open file descriptor (the output's)
_KEPT: contextvars.ContextVar[tuple[tuple[str, File], ...]] = contextvars.ContextVar(
    "microgpt_kept", default=())


class UnwritableError(OSError):
    """Why a path cannot be written, in words that follow its name: one line.

    An ``OSError``, so that callers word it with the errors of the write itself.
    """


@contextlib.contextmanager
def keeping(*files: tuple[str, File | None]) -> Iterator[None]:
    """Within the block, no write replaces these files: ``(what, path or descriptor)``
    pairs (a ``None`` one is skipped); ``what`` names the file in the refusal: within
    ``keeping(("the dataset", "names.txt"))``, writing a link to names.txt raises
    ``UnwritableError("it is the dataset")``.
    """
    token = _KEPT.set(_KEPT.get() + tuple((what, file) for what, file in files
                                          if file is not None))
    try:
        yield
    finally:
        _KEPT.reset(token)


def write_target(path: str | Path) -> Path:
    """The file that writing ``path`` replaces: ``path``, or the regular file its link names.

    Raises ``UnwritableError`` unless that is a new file, or an existing regular file this
    process may write, not mounted over another and kept by no ``keeping`` block, in a
    directory it may write to. A ``path`` ending in ``/`` names a directory, never a file.
    """
    target = _resolved(path)
    try:
        info: os.stat_result | None = os.stat(path)  # through links: /dev/stdout is a pipe
    except FileNotFoundError:
        info = None
    except (OSError, ValueError) as exc:  # a name too long, a loop of links, a NUL, ...
        raise UnwritableError(problem(exc)) from exc
    name = os.fspath(path)
    if info is None and os.path.basename(name) in ("", ".", ".."):
        raise UnwritableError(f"Not a directory (a path ending in "
                              f"{os.sep}{os.path.basename(name)} names one)")
    _refuse(info, str(target), None, target)
    directory = target.parent
    if not directory.is_dir():
        raise UnwritableError(f"no directory {directory}")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise UnwritableError(f"{directory} is not writable")
    return target


@contextlib.contextmanager
def atomic_write(path: str | Path) -> Iterator[BinaryIO]:
    """Yield a binary file to write; when the block ends without error it replaces ``path``.

    ``path`` must pass ``write_target`` (``UnwritableError``, an ``OSError``, otherwise)
    when the write starts and again just before the rename; an existing file keeps its
    permissions. The new content is synced before the rename. On any failure, Ctrl-C
    included, the temporary file is removed and ``path`` is left as it was. ``OSError``s
    propagate for the caller to word.
    """
    target = write_target(path)
    directory = _Directory(target.parent)
    try:
        _remove_stale(directory)
        try:
            mode = stat.S_IMODE(os.stat(directory.name(target.name), dir_fd=directory.fd).st_mode)
        except FileNotFoundError:
            mode = 0o666 & ~_umask()  # what open() would give a new file
        temporary, fd = _create_temporary(directory)
        renamed = False
        try:
            with os.fdopen(fd, "wb") as out:  # open, and so locked, until after the rename
                os.chmod(directory.name(temporary), mode, dir_fd=directory.fd)
                yield out
                out.flush()
                os.fsync(out.fileno())
                _check_unchanged(path, target, directory)
                os.replace(directory.name(temporary), directory.name(target.name),
                           src_dir_fd=directory.fd, dst_dir_fd=directory.fd)
                renamed = True
        finally:
            if not renamed:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(directory.name(temporary), dir_fd=directory.fd)
    finally:
        directory.close()


def same_file(a: str | Path, b: str | Path) -> bool:
    """Whether writing ``a`` would write ``b``: the same path, link target or hard link."""
    with contextlib.suppress(OSError):  # one does not exist (yet): compare the paths
        return os.path.samefile(a, b)
    return _real(a) == _real(b)


def _real(path: str | Path) -> str:
    """``path`` with its links resolved, or as given if it cannot be (no current directory)."""
    try:
        return os.path.realpath(path)
    except (OSError, ValueError):
        return os.path.normpath(path)


def _resolved(path: str | Path) -> Path:
    """``path`` absolute, its links followed to the file itself."""
    try:
        return Path(os.path.realpath(path))
    except (OSError, ValueError) as exc:  # no current directory, a NUL in the name, ...
        raise UnwritableError(problem_with(path, exc)) from exc


def open_in_place(path: str | Path) -> BinaryIO:
    """``path`` opened to write in place from its start, emptied: for a file written as a run
    goes (``--log``), which is not replaced but written through.

    What is refused is checked on the file opened, after it is opened (so that it cannot
    change in between), before it is emptied: anything but a regular file, a read-only one,
    one that ``keeping`` keeps. ``UnwritableError`` (an ``OSError``) says why.
    """
    flags = os.O_WRONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)  # a FIFO: never wait
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:  # new: nothing to check but that it could be made
        try:
            fd = os.open(path, flags | os.O_CREAT | os.O_EXCL, 0o666)
        except OSError as exc:
            raise UnwritableError(problem_with(path, exc)) from exc
        new = True
    except (OSError, ValueError) as exc:
        raise UnwritableError(problem_with(path, exc)) from exc
    else:
        new = False
    try:
        info = os.fstat(fd)
        if not new:
            if not stat.S_ISREG(info.st_mode):
                raise UnwritableError(f"it is {kind_of(info.st_mode)}, not a regular file")
            if not info.st_mode & 0o222:  # opened all the same: by root
                raise UnwritableError("it is read-only")
            check_not_kept(info)
            os.ftruncate(fd, 0)
        os.set_blocking(fd, True)
        return os.fdopen(fd, "wb")
    except BaseException:
        os.close(fd)
        raise


def check_not_kept(info: os.stat_result) -> None:
    """Raise ``UnwritableError`` if ``info`` (``os.stat``'s) is a file that a ``keeping``
    block keeps."""
    for what, file in _KEPT.get():
        try:
            kept = os.fstat(file) if isinstance(file, int) else os.stat(file)
        except (OSError, ValueError):  # it is gone: there is nothing to keep
            continue
        if os.path.samestat(info, kept):
            raise UnwritableError(f"it is {what}")


def _refuse(info: os.stat_result | None, where: str, dir_fd: int | None, target: Path) -> None:
    """Raise ``UnwritableError`` if the file ``info`` describes (``target``, at ``where``
    relative to ``dir_fd``; None: none there) may not be replaced."""
    if info is None:
        return
    if stat.S_ISLNK(info.st_mode):  # found when it was resolved, a link now
        raise UnwritableError("it was replaced by a link while it was being written")
    if not stat.S_ISREG(info.st_mode):
        raise UnwritableError(f"it is {kind_of(info.st_mode)}, not a regular file")
    # Root may write any file, so a file that grants nobody write permission counts as
    # read-only too: the user made it so.
    if not os.access(where, os.W_OK, dir_fd=dir_fd) or not info.st_mode & 0o222:
        raise UnwritableError("it is read-only")
    check_not_kept(info)
    if _mounted_over(target):
        raise UnwritableError("it is a mount point (a file mounted over another, as a "
                              "container's volume), which a rename cannot replace; write "
                              "into a mounted directory instead")


def _mounted_over(target: Path) -> bool:
    """Whether the file ``target`` is a mount point: Linux lists them in ``_MOUNTS``."""
    try:
        with open(_MOUNTS, encoding="utf-8", errors="surrogateescape") as mounts:
            # The fifth field; a space, tab, newline or backslash in it is escaped in octal.
            return any(_OCTAL.sub(lambda m: chr(int(m[1], 8)), line.split(" ")[4])
                       == str(target) for line in mounts)
    except (OSError, IndexError):  # not Linux, or no /proc: a rename will tell
        return False


def _check_unchanged(path: str | Path, target: Path, directory: _Directory) -> None:
    """Refuse to rename onto ``target`` unless ``path`` still leads there and the checks
    ``write_target`` made still hold."""
    if _resolved(path) != target or not directory.is_at(target.parent):
        raise UnwritableError("it was moved or replaced by a link while it was being written")
    where = directory.name(target.name)
    try:
        info = os.stat(where, dir_fd=directory.fd, follow_symlinks=False)
    except FileNotFoundError:  # removed meanwhile: the new file takes its place
        return
    _refuse(info, where, directory.fd, target)


class _Directory:
    """A directory held open where the system allows it, so that a name in it keeps meaning
    a file of this directory even if a path to it is changed."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd = (os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
                   if _HOLD_DIRECTORY else None)

    def name(self, name: str) -> str:
        """``name``, a file of this directory, as ``os`` functions given ``dir_fd=self.fd``
        take it."""
        return name if self.fd is not None else os.path.join(self.path, name)

    def is_at(self, path: Path) -> bool:
        """Whether ``path`` still names this directory."""
        if self.fd is None:
            return True
        try:
            return os.path.samestat(os.fstat(self.fd), os.stat(path))
        except OSError:
            return False

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)


def _create_temporary(directory: _Directory) -> tuple[str, int]:
    """A new temporary file's name in ``directory`` and its descriptor, locked (``flock``)
    for as long as it is open: that tells others its writer is alive."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(
        os, "O_BINARY", 0)
    while True:
        name = f".microgpt-{os.getpid()}-{os.urandom(6).hex()}.tmp"
        try:
            fd = os.open(directory.name(name), flags, 0o600, dir_fd=directory.fd)
        except FileExistsError:  # another writer's name, drawn by chance: draw again
            continue
        fcntl = _locks()
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
            except BaseException:
                os.close(fd)
                os.unlink(directory.name(name), dir_fd=directory.fd)
                raise
        return name, fd


def _remove_stale(directory: _Directory) -> None:
    """Remove the temporary files that killed writers left in ``directory``: those nobody
    holds locked and nobody has written to for ``STALE_AFTER`` seconds."""
    fcntl = _locks()
    if fcntl is None:  # without locks, a live writer cannot be told from a dead one
        return
    now = time.time()
    with contextlib.suppress(OSError), os.scandir(
            directory.path if directory.fd is None else directory.fd) as entries:
        for entry in entries:  # an unlistable directory is left as it is
            if _TEMPORARY.fullmatch(entry.name):
                with contextlib.suppress(OSError):  # gone already, or not ours to remove
                    _remove_if_stale(directory, entry.name, now, fcntl)


def _locks() -> ModuleType | None:
    """``fcntl``, imported when a file is written (not on every start-up); None where there
    are no advisory locks (Windows)."""
    try:
        import fcntl
    except ImportError:
        return None
    return fcntl


def _remove_if_stale(directory: _Directory, name: str, now: float, fcntl: ModuleType
                     ) -> None:
    where = directory.name(name)
    info = os.stat(where, dir_fd=directory.fd, follow_symlinks=False)
    if not stat.S_ISREG(info.st_mode) or now - info.st_mtime < STALE_AFTER:
        return
    fd = os.open(where, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC,
                 dir_fd=directory.fd)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # BlockingIOError: its writer lives
        # Held, so no writer can start on it; still the file that was checked?
        if os.path.samestat(os.fstat(fd), os.stat(where, dir_fd=directory.fd,
                                                  follow_symlinks=False)):
            os.unlink(where, dir_fd=directory.fd)
    finally:
        os.close(fd)


def _umask() -> int:
    mask = os.umask(0)  # the only way to read it is to set it, so set it straight back
    os.umask(mask)
    return mask
