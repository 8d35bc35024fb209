"""``torch.backends`` for code that asks about (or sets) the GPU libraries: there are none
here. Their switches can be set, as in PyTorch, and change nothing::

    tg.backends.cudnn.benchmark = True
    tg.backends.mps.is_available()  # False

Each is a module, as PyTorch's are, so that ``import torch.backends.cudnn as cudnn`` works
(pytorch/examples' DCGAN imports it so).
"""

from . import cuda, cudnn, mkldnn, mps, openmp

__all__ = ["cuda", "cudnn", "mkldnn", "mps", "openmp"]
