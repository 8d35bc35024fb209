"""``torch.nn.attention``: the choice of kernel behind ``scaled_dot_product_attention``.

PyTorch picks among fused kernels (flash, memory-efficient, cuDNN) and the plain math one;
``sdpa_kernel`` limits its choice for a block. Here there is one kernel on the CPU, which
computes what the math one does, so the block runs as it would without it::

    with sdpa_kernel(SDPBackend.MATH):
        out = F.scaled_dot_product_attention(q, k, v, is_causal=True)
"""

from __future__ import annotations

import contextlib
import enum
from collections.abc import Iterator

__all__ = ["SDPBackend", "sdpa_kernel"]


class SDPBackend(enum.IntEnum):
    """PyTorch's kernels for scaled dot-product attention, by its names and numbers."""

    ERROR = -1
    MATH = 0
    FLASH_ATTENTION = 1
    EFFICIENT_ATTENTION = 2
    CUDNN_ATTENTION = 3
    OVERRIDEABLE = 4


@contextlib.contextmanager
def sdpa_kernel(backends: SDPBackend | list[SDPBackend],
                set_priority: bool = False) -> Iterator[None]:
    """Run a block with attention limited to ``backends`` (one, or a list): checked as
    PyTorch checks them; tensorgrad's one kernel serves them all."""
    chosen = backends if isinstance(backends, list) else [backends]
    for backend in chosen:
        if not isinstance(backend, SDPBackend):
            raise AssertionError("Backend must be an instance of SDPBackend or a list of "
                                 f"SDPBackend instances, got {type(backend).__name__}")
    yield
