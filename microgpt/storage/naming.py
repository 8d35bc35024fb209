"""How a message names a setting: as the caller wrote it.

From Python a setting is a field (``batch_size``, ``steps=5``); from the command line it is
an option (``--batch-size``, ``--steps 5``). The command line runs its commands inside
``as_options()``; everything below it words its messages with ``name`` and ``setting``.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

_OPTIONS = contextvars.ContextVar("microgpt_options", default=False)


@contextlib.contextmanager
def as_options() -> Iterator[None]:
    """Within the block, messages name settings as command-line options (``--batch-size``)."""
    token = _OPTIONS.set(True)
    try:
        yield
    finally:
        _OPTIONS.reset(token)


def name(field: str) -> str:
    """``field`` as the caller knows it: ``batch_size``, or ``--batch-size``."""
    return "--" + field.replace("_", "-") if _OPTIONS.get() else field


def setting(field: str, value: object) -> str:
    """A setting with its value, as the caller would write it: ``steps=5`` or ``--steps 5``."""
    return f"{name(field)} {value}" if _OPTIONS.get() else f"{field}={value}"
