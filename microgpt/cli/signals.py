"""Stop signals: Ctrl-C (SIGINT) and SIGTERM stop a command, and a training run saves first.

Outside training both stop the command at once: SIGINT raises ``KeyboardInterrupt``, as
Python's own handler does, and SIGTERM (what ``kill`` and most process managers send)
raises ``Terminated`` instead of killing the process, so that a file being written is
cleaned up (``sigterm_raises``). While a run trains, both are held (``held``): the run
stops after the step under way, with ``Stopped`` from ``StopRequests.check``, so that the
checkpoint it saves never holds half an update. A second signal while one is held stops
at once, without waiting for the step (or the save) to finish.

Handlers are installed only in the main thread, and only over the defaults: a signal the
caller ignores (``nohup``, a shell's background job) stays ignored.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from types import FrameType


class Terminated(BaseException):
    """SIGTERM, raised where it lands as KeyboardInterrupt is for SIGINT."""


class Stopped(Exception):
    """A held stop signal, acted on between two training steps."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        self.what = "interrupted" if signum == signal.SIGINT else "terminated"
        self.status = 128 + signum  # as a shell reports a process the signal killed
        super().__init__(self.what)


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    raise Terminated


# Each signal's handlers that stop at once: the default, and the one sigterm_raises installs.
_AT_ONCE: dict[int, tuple[object, ...]] = {
    signal.SIGINT: (signal.default_int_handler,),
    signal.SIGTERM: (signal.SIG_DFL, _raise_terminated),
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
    """Within the block, SIGTERM raises ``Terminated`` (instead of ending the process)."""
    return _handling([signal.SIGTERM], _raise_terminated)


class StopRequests:
    """The stop signal held during training, if any; ``check`` acts on it."""

    def __init__(self) -> None:
        self.signum: int | None = None

    def check(self) -> None:
        """Raise ``Stopped`` if a stop signal arrived."""
        if self.signum is not None:
            raise Stopped(self.signum)

    def _hold(self, signum: int, frame: FrameType | None) -> None:
        if self.signum is not None:  # asked twice: stop now
            _stop_at_once(signum)
        self.signum = signum


def _stop_at_once(signum: int) -> None:
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    raise Terminated


@contextlib.contextmanager
def held() -> Iterator[StopRequests]:
    """Hold SIGINT and SIGTERM for ``check``; one still held when the block ends stops then."""
    requests = StopRequests()
    with _handling([signal.SIGINT, signal.SIGTERM], requests._hold):
        yield requests
    if requests.signum is not None:
        _stop_at_once(requests.signum)
