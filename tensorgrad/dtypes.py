"""PyTorch's names for dtypes, as NumPy dtypes: ``tensorgrad.float32`` is
``np.dtype("float32")``, so ``x.dtype == tensorgrad.float32`` and ``dtype=tensorgrad.long``
mean what they mean in PyTorch. As there, ``float`` is float32 and ``double`` float64,
``int`` int32 and ``long`` int64; but a Python float becomes float64 here (``DEFAULT_FLOAT``,
``get_default_dtype()``), where PyTorch's default is float32.

This module binds the builtins' names (``bool``, ``float``, ``int``) to dtypes: it holds
nothing else.
"""

import numpy as np

float16 = half = np.dtype(np.float16)
float32 = float = np.dtype(np.float32)  # noqa: A001 (PyTorch's name)
float64 = double = np.dtype(np.float64)
uint8 = np.dtype(np.uint8)
int8 = np.dtype(np.int8)
int16 = short = np.dtype(np.int16)
int32 = int = np.dtype(np.int32)  # noqa: A001 (PyTorch's name)
int64 = long = np.dtype(np.int64)
bool = np.dtype(np.bool_)  # noqa: A001 (PyTorch's name)

DEFAULT_FLOAT = float64  # what Python floats and the floating factories make


def get_default_dtype() -> np.dtype:
    """The dtype of Python floats and of floating factories: float64 (PyTorch's: float32)."""
    return DEFAULT_FLOAT
