"""PyTorch's window functions: ``hann_window``, ``hamming_window``, ``blackman_window``,
``bartlett_window`` and ``kaiser_window``, as tensors of the default float dtype (or ``dtype``).

Each is the symmetric window of ``window_length + 1`` points less its last when ``periodic``
(the default: the window of a spectrogram's frames), else that of ``window_length`` points.
Loaded when first used.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from typing import Any

import numpy as np

from . import dtypes
from .creation import _made, as_dtype
from .tensor import Tensor


def _window(name: str, window_length: Any, periodic: bool, dtype: Any, device: Any,
            requires_grad: bool, shape: Callable[[np.ndarray], np.ndarray]) -> Tensor:
    """``shape(t)`` at the points t = 2 pi n / (N - 1) of the symmetric window of N points."""
    if isinstance(window_length, bool) or not isinstance(window_length, (int, np.integer)):
        raise TypeError(f"{name}(): argument 'window_length' (position 1) must be int, not "
                        f"{type(window_length).__name__}")
    length = operator.index(window_length)
    if length < 0:
        raise RuntimeError(f"{name} requires non-negative window_length, got "
                           f"window_length={length}")
    resolved = dtypes.DEFAULT_FLOAT if dtype is None else as_dtype(dtype)
    if resolved.kind != "f":
        raise RuntimeError(f"{name} expects floating point dtypes, got: {resolved}")
    if length <= 1:
        return _made(np.ones(length, resolved), device, requires_grad)
    points = length + 1 if periodic else length
    angles = 2 * math.pi * np.arange(points, dtype=np.float64) / (points - 1)
    values = shape(angles)[:length]
    return _made(values.astype(resolved), device, requires_grad)


def hann_window(window_length: int, periodic: bool = True, *, dtype: Any = None,
                layout: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """The Hann window: sin(pi n / (N - 1)) ** 2::

        hann_window(4)    # [0., 0.5, 1., 0.5]
    """
    return _window("hann_window", window_length, periodic, dtype, device, requires_grad,
                   lambda t: 0.5 - 0.5 * np.cos(t))


def hamming_window(window_length: int, periodic: bool = True, alpha: float = 0.54,
                   beta: float = 0.46, *, dtype: Any = None, layout: Any = None,
                   device: Any = None, requires_grad: bool = False) -> Tensor:
    """The Hamming window: alpha - beta cos(2 pi n / (N - 1))."""
    return _window("hamming_window", window_length, periodic, dtype, device, requires_grad,
                   lambda t: alpha - beta * np.cos(t))


def blackman_window(window_length: int, periodic: bool = True, *, dtype: Any = None,
                    layout: Any = None, device: Any = None, requires_grad: bool = False
                    ) -> Tensor:
    """The Blackman window: 0.42 - 0.5 cos(2 pi n / (N - 1)) + 0.08 cos(4 pi n / (N - 1))."""
    return _window("blackman_window", window_length, periodic, dtype, device, requires_grad,
                   lambda t: 0.42 - 0.5 * np.cos(t) + 0.08 * np.cos(2 * t))


def bartlett_window(window_length: int, periodic: bool = True, *, dtype: Any = None,
                    layout: Any = None, device: Any = None, requires_grad: bool = False
                    ) -> Tensor:
    """The Bartlett (triangular) window: 1 - |2 n / (N - 1) - 1|."""
    return _window("bartlett_window", window_length, periodic, dtype, device, requires_grad,
                   lambda t: 1 - np.abs(t / math.pi - 1))


def kaiser_window(window_length: int, periodic: bool = True, beta: float = 12.0, *,
                  dtype: Any = None, layout: Any = None, device: Any = None,
                  requires_grad: bool = False) -> Tensor:
    """The Kaiser window: I0(beta sqrt(1 - (2 n / (N - 1) - 1) ** 2)) / I0(beta)."""
    from .gamma import bessel_i

    def shape(t: np.ndarray) -> np.ndarray:
        inside = np.clip(1 - (t / math.pi - 1) ** 2, 0.0, None)
        return bessel_i(beta * np.sqrt(inside), 0) / bessel_i(np.float64(beta), 0)

    return _window("kaiser_window", window_length, periodic, dtype, device, requires_grad,
                   shape)
