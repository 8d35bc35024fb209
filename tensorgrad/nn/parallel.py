"""``nn.DataParallel`` and ``nn.parallel.DistributedDataParallel``, as PyTorch's where there is
no GPU and no process group: the first wraps its module and calls it (``model.module``, its
parameters named ``module.*``), the second needs a process group, which there never is."""

from __future__ import annotations

from typing import Any

from ..distributed import _NO_GROUP
from .module import Module


class DataParallel(Module):
    """``module`` itself, called on the whole batch: PyTorch's splits a batch between GPUs,
    and without any calls the module on it, as here."""

    def __init__(self, module: Module, device_ids: Any = None, output_device: Any = None,
                 dim: int = 0) -> None:
        super().__init__()
        self.module = module
        self.device_ids: list[int] = []
        self.output_device, self.dim = None, dim

    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        return self.module(*inputs, **kwargs)


class DistributedDataParallel(Module):
    """Refused: it needs a process group (``tg.distributed``), and tensorgrad has none."""

    def __init__(self, module: Module, *args: Any, **kwargs: Any) -> None:
        raise ValueError(_NO_GROUP)
