"""tensorgrad: a small reverse-mode autograd engine over NumPy, with PyTorch's names and
semantics.

``Tensor`` is the vectorized engine and ``Function`` the shape of every op in it (and of
a user's own ops); ``Value`` is the scalar reference engine that the tests hold every
``Tensor`` gradient against, and ``gradcheck`` a user's op. ``to_dot`` draws either
engine's graph.
"""

import importlib.metadata
from typing import Any

import numpy as np

from . import functional, optim
from .capture import Captured, CaptureError, capture
from .dot import to_dot
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import GradcheckError, GradcheckWarning, gradcheck
from .ops import cat, stack, where
from .tensor import Function, Tensor
from .value import Value

try:
    __version__ = importlib.metadata.version("microgpt-tensorgrad")
except importlib.metadata.PackageNotFoundError:  # a checkout on sys.path, never installed
    __version__ = "0+unknown"

float32, float64 = np.dtype(np.float32), np.dtype(np.float64)
int32, int64 = np.dtype(np.int32), np.dtype(np.int64)
bool = np.dtype(np.bool_)  # noqa: A001 (PyTorch's name: tensorgrad.bool as torch.bool)


def tensor(data: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data``, as ``torch.tensor``."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


def zeros(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return Tensor(np.zeros(_shape(shape), dtype or np.float64), requires_grad=requires_grad)


def ones(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return Tensor(np.ones(_shape(shape), dtype or np.float64), requires_grad=requires_grad)


def _shape(shape: tuple) -> tuple:
    return tuple(shape[0]) if len(shape) == 1 and not isinstance(shape[0], int) else shape


__all__ = ["CaptureError", "Captured", "Function", "GradcheckError", "GradcheckWarning", "Tensor",
           "Value", "bool", "capture", "cat", "enable_grad", "float32", "float64", "functional",
           "gradcheck", "int32", "int64", "is_grad_enabled", "no_grad", "ones", "optim",
           "set_grad_enabled", "stack", "tensor", "to_dot", "where", "zeros"]
