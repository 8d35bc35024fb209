"""``torch.backends`` for code that asks about (or sets) the GPU libraries: there are none
here. Their switches can be set, as in PyTorch, and change nothing::

    tg.backends.cudnn.benchmark = True
    tg.backends.mps.is_available()  # False
"""

from __future__ import annotations


class mps:  # noqa: N801 (torch.backends.mps, a module in PyTorch)
    """Apple's GPUs: none."""

    @staticmethod
    def is_available() -> bool:
        return False

    @staticmethod
    def is_built() -> bool:
        return False


class cudnn:  # noqa: N801 (torch.backends.cudnn)
    """NVIDIA's cuDNN: none; PyTorch's switches, with its defaults."""

    enabled = True
    benchmark = False
    deterministic = False
    allow_tf32 = True

    @staticmethod
    def is_available() -> bool:
        return False


class cuda:  # noqa: N801 (torch.backends.cuda)
    """CUDA's matrix products: none; PyTorch's switch, with its default."""

    class matmul:  # noqa: N801
        allow_tf32 = False

    @staticmethod
    def is_built() -> bool:
        return False
