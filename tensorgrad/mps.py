"""``torch.mps``: Apple's GPUs, none here (tensorgrad runs on NumPy, on the CPU)::

    device = "mps" if tg.mps.is_available() else "cpu"  # "cpu"
"""

from typing import Any


def is_available() -> bool:
    return False


def device_count() -> int:
    return 0


def manual_seed(seed: int) -> None:
    """Nothing to seed without the device (PyTorch's does nothing then, too)."""


def empty_cache() -> None:
    """Nothing cached without the device."""


def synchronize(device: Any = None) -> None:
    """Nothing to wait for without the device."""
