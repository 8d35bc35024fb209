"""``torch.xpu``: Intel's GPUs, none here (tensorgrad runs on NumPy, on the CPU): the same
answers as ``tensorgrad.mps``::

    device = "xpu" if tg.xpu.is_available() else "cpu"  # "cpu"
"""

from .mps import device_count, empty_cache, is_available, manual_seed, synchronize

__all__ = ["device_count", "empty_cache", "is_available", "manual_seed", "synchronize"]
