"""torch.nn on tensorgrad: ``Module``, ``Parameter``, the layers a GPT is made of, and the
``functional``, ``init`` and ``utils`` modules, with PyTorch's names and meanings.

Code written for PyTorch runs with its imports pointed here::

    import tensorgrad as torch
    import tensorgrad.nn as nn
    from tensorgrad.nn import functional as F

See docs/nn.md for what there is and what is not.
"""

from . import functional, init, utils
from .containers import ModuleDict, ModuleList, Sequential
from .layers import GELU, Dropout, Embedding, Identity, LayerNorm, Linear, ReLU, RMSNorm, Tanh
from .module import Module, Parameter

__all__ = ["GELU", "Dropout", "Embedding", "Identity", "LayerNorm", "Linear", "Module",
           "ModuleDict", "ModuleList", "Parameter", "RMSNorm", "ReLU", "Sequential", "Tanh",
           "functional", "init", "utils"]
