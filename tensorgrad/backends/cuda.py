"""``torch.backends.cuda``: CUDA's matrix products, none here; PyTorch's switch, with its
default (settable, changing nothing); and the switches of attention's fused kernels."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator


class matmul:  # noqa: N801 (PyTorch's name)
    allow_tf32 = False


def is_built() -> bool:
    return False


# which fused kernels scaled_dot_product_attention may use on a GPU: switches that can be set
# and read, as PyTorch's, and that change nothing here (one kernel, on the CPU)
_sdp = {"flash": True, "mem_efficient": True, "math": True, "cudnn": True}


def enable_flash_sdp(enabled: bool) -> None:
    _sdp["flash"] = bool(enabled)


def enable_mem_efficient_sdp(enabled: bool) -> None:
    _sdp["mem_efficient"] = bool(enabled)


def enable_math_sdp(enabled: bool) -> None:
    _sdp["math"] = bool(enabled)


def enable_cudnn_sdp(enabled: bool) -> None:
    _sdp["cudnn"] = bool(enabled)


def flash_sdp_enabled() -> bool:
    return _sdp["flash"]


def mem_efficient_sdp_enabled() -> bool:
    return _sdp["mem_efficient"]


def math_sdp_enabled() -> bool:
    return _sdp["math"]


def cudnn_sdp_enabled() -> bool:
    return _sdp["cudnn"]


@contextlib.contextmanager
def sdp_kernel(enable_flash: bool = True, enable_math: bool = True,
               enable_mem_efficient: bool = True, enable_cudnn: bool = True) -> Iterator[None]:
    """The deprecated ``torch.backends.cuda.sdp_kernel``: the switches set for a block, with
    PyTorch's FutureWarning (``torch.nn.attention.sdpa_kernel`` is the new one)."""
    warnings.warn("`torch.backends.cuda.sdp_kernel()` is deprecated. In the future, this "
                  "context manager will be removed. Please see `torch.nn.attention.sdpa_kernel()`"
                  " for the new context manager, with updated signature.", FutureWarning,
                  stacklevel=3)
    before = dict(_sdp)
    _sdp.update(flash=enable_flash, math=enable_math, mem_efficient=enable_mem_efficient,
                cudnn=enable_cudnn)
    try:
        yield
    finally:
        _sdp.update(before)
