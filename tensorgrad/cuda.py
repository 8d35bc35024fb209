"""``torch.cuda`` for code that looks for a GPU: there is none here (tensorgrad runs on
NumPy, on the CPU). ``is_available()`` says so, seeding and emptying the cache do nothing, as
PyTorch's do without a GPU, and what needs one raises PyTorch's AssertionError::

    device = "cuda" if tg.cuda.is_available() else "cpu"  # "cpu"
"""

from __future__ import annotations

import warnings
from typing import Any, NoReturn

from . import amp as _amp


def is_available() -> bool:
    """Whether a GPU can be used: never here."""
    return False


def device_count() -> int:
    return 0


def is_bf16_supported() -> bool:
    return False


def manual_seed(seed: int) -> None:
    """Nothing to seed without a GPU (PyTorch's does nothing then, too)."""


def manual_seed_all(seed: int) -> None:
    """Nothing to seed without a GPU (PyTorch's does nothing then, too)."""


def empty_cache() -> None:
    """Nothing cached without a GPU."""


def memory_allocated(device: Any = None) -> int:
    """The GPU memory tensors hold: 0, with no GPU (as PyTorch's then)."""
    return 0


memory_reserved = max_memory_allocated = max_memory_reserved = memory_allocated


def reset_peak_memory_stats(device: Any = None) -> None:
    """Nothing to reset without a GPU."""


def _no_gpu(*args: Any, **kwargs: Any) -> NoReturn:
    raise AssertionError("tensorgrad has no CUDA: it runs on the CPU only")


synchronize = current_device = set_device = get_device_name = get_device_properties = _no_gpu


class amp:  # noqa: N801 (torch.cuda.amp, a module in PyTorch)
    """``torch.cuda.amp``: its ``GradScaler``, which disables itself here (no GPU), and
    ``autocast``, which casts nothing."""

    class autocast(_amp.autocast):  # noqa: N801 (PyTorch's name)
        def __init__(self, enabled: bool = True, dtype: Any = None,
                     cache_enabled: bool = True) -> None:
            super().__init__("cuda", dtype, enabled, cache_enabled)

    class GradScaler(_amp.GradScaler):
        _caller = 3  # (through this __init__)

        def __init__(self, init_scale: float = 2.0**16, growth_factor: float = 2.0,
                     backoff_factor: float = 0.5, growth_interval: int = 2000,
                     enabled: bool = True) -> None:
            super().__init__("cuda", init_scale, growth_factor, backoff_factor,
                             growth_interval, enabled)

    @staticmethod
    def custom_fwd(fwd: Any = None, *, cast_inputs: Any = None) -> Any:
        """The deprecated ``torch.cuda.amp.custom_fwd``: ``torch.amp.custom_fwd`` for cuda."""
        warnings.warn("`torch.cuda.amp.custom_fwd(args...)` is deprecated. Please use "
                      "`torch.amp.custom_fwd(args..., device_type='cuda')` instead.",
                      FutureWarning, stacklevel=2)
        return _amp.custom_fwd(fwd, device_type="cuda", cast_inputs=cast_inputs)

    @staticmethod
    def custom_bwd(bwd: Any = None) -> Any:
        """The deprecated ``torch.cuda.amp.custom_bwd``: ``torch.amp.custom_bwd`` for cuda."""
        warnings.warn("`torch.cuda.amp.custom_bwd(args...)` is deprecated. Please use "
                      "`torch.amp.custom_bwd(args..., device_type='cuda')` instead.",
                      FutureWarning, stacklevel=2)
        return _amp.custom_bwd(bwd, device_type="cuda")
