"""tensorgrad: a small reverse-mode autograd engine over NumPy, with PyTorch's names.

``Tensor`` is the vectorized engine; ``Value`` is the scalar reference engine that
the tests hold every ``Tensor`` gradient against.
"""

from . import functional, optim
from .tensor import Tensor, is_grad_enabled, no_grad, where
from .value import Value

__all__ = ["Tensor", "Value", "functional", "is_grad_enabled", "no_grad", "optim", "where"]
