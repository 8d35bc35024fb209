"""Reading a FIFO that no one writes to: it must fail at once, not wait for a writer."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path


def refusal(read: Callable[[Path], object], error: type[Exception], tmp_path: Path) -> str:
    """The message of the ``error`` that ``read`` raises on a new FIFO with no writer.

    ``read`` runs on a thread; if it is still waiting after 10 s, a writer is opened to
    release it and the test fails.
    """
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    outcome = []

    def attempt() -> None:
        try:
            read(fifo)
        except error as exc:
            outcome.append(str(exc))

    reader = threading.Thread(target=attempt, daemon=True)
    reader.start()
    reader.join(timeout=10)
    if reader.is_alive():  # blocked waiting for a writer: let it go before failing
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        reader.join(timeout=10)
        raise AssertionError(f"reading {fifo} waited for a writer")
    assert len(outcome) == 1, f"reading {fifo} did not raise {error.__name__}"
    return outcome[0]
