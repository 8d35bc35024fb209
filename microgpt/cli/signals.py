"""Stop signals: Ctrl-C (SIGINT), SIGTERM and SIGHUP stop a command, and a training run saves
first.

Outside training they stop the command at once: SIGINT raises ``KeyboardInterrupt``, as
Python's own handler does, and SIGTERM (what ``kill`` and most process managers send) and
SIGHUP (the terminal was closed) raise ``Terminated`` instead of killing the process, so
that a file being written is cleaned up (``sigterm_raises``). While a run trains, all three
are held (``held``): the run stops after the step under way, with ``Stopped`` from
``StopRequests.check``, so that the checkpoint it saves never holds half an update. A second
SIGINT or SIGTERM while one is held stops at once, without waiting for the step (or the
save) to finish; a second SIGHUP does not (a closed terminal sends it more than once: the
kernel, then the shell passing it on to its jobs).

After SIGHUP, stdout and stderr that were the terminal which hung up are pointed at
``/dev/null``: writing to them would fail, and must not stop the save.

Handlers are installed only in the main thread, and only over the defaults: a signal the
caller ignores (``nohup``, a shell's background job) stays ignored.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import threading
from collections.abc import Callable, Iterator
from types import FrameType

_HANGUP: int | None = getattr(signal, "SIGHUP", None)  # POSIX only
_WORDS = {signal.SIGINT: "interrupted", signal.SIGTERM: "terminated", _HANGUP: "hung up"}


class _Signalled(BaseException):
    """An exception that a signal caused: ``what`` it did in words, and the exit ``status``."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        self.what = _WORDS[signum]
        self.status = 128 + signum  # as a shell reports a process the signal killed
        super().__init__(self.what)


class Terminated(_Signalled):
    """SIGTERM or SIGHUP, raised where it lands as KeyboardInterrupt is for SIGINT."""


class Stopped(_Signalled, Exception):
    """A held stop signal, acted on between two training steps."""


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    if signum == _HANGUP:
        hung_up()
    raise Terminated(signum)


def hung_up() -> bool:
    """Whether stdout or stderr is a terminal that hung up; those that are are pointed at
    /dev/null, so that writing them no longer fails."""
    found = False
    for fd in (1, 2):
        if _hung_up_terminal(fd):
            with contextlib.suppress(OSError):
                null = os.open(os.devnull, os.O_WRONLY)
                os.dup2(null, fd)
                os.close(null)
            found = True
    return found


def _hung_up_terminal(fd: int) -> bool:
    """Whether ``fd`` is a terminal that hung up: asking for its settings fails with EIO
    (ENOTTY for what never was a terminal, /dev/null included)."""
    try:
        import termios
    except ImportError:  # not POSIX: no SIGHUP either
        return False
    try:
        termios.tcgetattr(fd)
    except termios.error as exc:
        return exc.args[0] == errno.EIO
    return False


_STOPS = [s for s in (signal.SIGINT, signal.SIGTERM, _HANGUP) if s is not None]
# Each signal's handlers that stop at once: the default, and the one sigterm_raises installs.
_AT_ONCE: dict[int, tuple[object, ...]] = {
    signal.SIGINT: (signal.default_int_handler,),
    **{s: (signal.SIG_DFL, _raise_terminated) for s in _STOPS if s != signal.SIGINT},
}


@contextlib.contextmanager
def _handling(signals: list[int], handler: Callable[[int, FrameType | None], None]
              ) -> Iterator[None]:
    """Run the block with ``handler`` for those ``signals`` whose handler stops at once."""
    mine = [s for s in signals if threading.current_thread() is threading.main_thread()
            and signal.getsignal(s) in _AT_ONCE[s]]
    previous = {s: signal.signal(s, handler) for s in mine}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def sigterm_raises() -> contextlib.AbstractContextManager[None]:
    """Within the block, SIGTERM and SIGHUP raise ``Terminated`` (instead of ending the
    process)."""
    return _handling([s for s in _STOPS if s != signal.SIGINT], _raise_terminated)


class StopRequests:
    """The stop signal held during training, if any; ``check`` acts on it."""

    def __init__(self) -> None:
        self.signum: int | None = None

    def check(self) -> None:
        """Raise ``Stopped`` if a stop signal arrived."""
        if self.signum is not None:
            raise Stopped(self.signum)

    def _hold(self, signum: int, frame: FrameType | None) -> None:
        if signum == _HANGUP:
            hung_up()
            if self.signum is not None:  # sent again by the shell: not a user insisting
                return
        elif self.signum is not None:  # asked twice: stop now
            _stop_at_once(signum)
        self.signum = signum


def _stop_at_once(signum: int) -> None:
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    raise Terminated(signum)


@contextlib.contextmanager
def held() -> Iterator[StopRequests]:
    """Hold SIGINT, SIGTERM and SIGHUP for ``check``; one still held when the block ends
    stops then."""
    requests = StopRequests()
    with _handling(_STOPS, requests._hold):
        yield requests
    if requests.signum is not None:
        _stop_at_once(requests.signum)
