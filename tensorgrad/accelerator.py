"""``torch.accelerator`` for code that asks for any accelerator (PyTorch's examples do): there
is none here. ``is_available()`` says so, ``current_accelerator()`` is None, and what needs
one raises PyTorch's RuntimeError::

    device = tg.accelerator.current_accelerator() if tg.accelerator.is_available() else "cpu"
"""

from __future__ import annotations

from typing import Any, NoReturn


def is_available() -> bool:
    return False


def current_accelerator(check_available: bool = False) -> None:
    """None: no accelerator."""
    return None


def device_count() -> int:
    return 0


def _none(*args: Any, **kwargs: Any) -> NoReturn:
    raise RuntimeError("Cannot access accelerator device when none is available.")


synchronize = current_device_index = set_device_index = _none
