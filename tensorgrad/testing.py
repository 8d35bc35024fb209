"""``torch.testing`` for tests written for PyTorch: ``assert_close``, with PyTorch's default
tolerances by dtype, and ``make_tensor``."""

from __future__ import annotations

from typing import Any

import numpy as np

from .tensor import Tensor, as_leaf

# PyTorch's defaults by dtype: (rtol, atol); integers and booleans compare exactly
_TOLERANCES = {np.dtype(np.float16): (1e-3, 1e-5), np.dtype(np.float32): (1.3e-6, 1e-5),
               np.dtype(np.float64): (1e-7, 1e-7)}


def assert_close(actual: Any, expected: Any, *, allow_subclasses: bool = True,
                 rtol: float | None = None, atol: float | None = None, equal_nan: bool = False,
                 check_device: bool = True, check_dtype: bool = True, check_layout: bool = True,
                 check_stride: bool = False, msg: str | None = None) -> None:
    """Raise AssertionError unless ``actual`` and ``expected`` (tensors, or numbers, or
    sequences and mappings of them, alike) have the same shapes and dtypes and values within
    ``atol + rtol * |expected|``; by default the tolerances of the dtype, as PyTorch's::

        assert_close(tg.tensor([1.0, 2.0]), tg.tensor([1.0, 2.0 + 1e-9]))
    """
    if (rtol is None) != (atol is None):
        raise ValueError(f"Both 'rtol' and 'atol' must be either specified or omitted, but "
                         f"got no {'rtol' if rtol is None else 'atol'}.")
    _compare(actual, expected, rtol, atol, equal_nan, check_dtype, msg, "")


def _compare(actual: Any, expected: Any, rtol: float | None, atol: float | None,
             equal_nan: bool, check_dtype: bool, msg: str | None, where: str) -> None:
    if isinstance(expected, dict):
        if not isinstance(actual, dict) or set(actual) != set(expected):
            _fail(msg, f"the keys differ{where}: {sorted(map(str, actual))} and "
                  f"{sorted(map(str, expected))}")
        for key in expected:
            _compare(actual[key], expected[key], rtol, atol, equal_nan, check_dtype, msg,
                     f"{where}, item [{key!r}]")
        return
    if isinstance(expected, (list, tuple)) and not isinstance(actual, (Tensor, np.ndarray)):
        if not isinstance(actual, (list, tuple)) or len(actual) != len(expected):
            _fail(msg, f"the lengths differ{where}")
        for i, (a, e) in enumerate(zip(actual, expected)):
            _compare(a, e, rtol, atol, equal_nan, check_dtype, msg, f"{where}, item [{i}]")
        return
    both_tensors = isinstance(actual, Tensor) and isinstance(expected, Tensor)
    a, e = _values(actual), _values(expected)
    if a.shape != e.shape:
        _fail(msg, f"The values for attributes 'shape' do not match{where}: {a.shape} != "
              f"{e.shape}.")
    if check_dtype and both_tensors and a.dtype != e.dtype:
        _fail(msg, f"The values for attributes 'dtype' do not match{where}: {a.dtype} != "
              f"{e.dtype}.")
    if rtol is None or atol is None:
        rtol, atol = max(_TOLERANCES.get(a.dtype, (0.0, 0.0)),
                         _TOLERANCES.get(e.dtype, (0.0, 0.0)))
    a64, e64 = a.astype(np.complex128 if a.dtype.kind == "c" else np.float64), \
        e.astype(np.complex128 if e.dtype.kind == "c" else np.float64)
    close = np.isclose(a64, e64, rtol=rtol, atol=atol, equal_nan=equal_nan)
    if not close.all():
        bad = np.count_nonzero(~close)
        with np.errstate(invalid="ignore"):  # (inf - inf where both are inf: close, unused)
            diff = np.abs(a64 - e64)
        worst = float(np.max(np.where(close, 0.0, diff), initial=0.0))
        _fail(msg, f"Tensor-likes are not close{where}!\n\nMismatched elements: {bad} / "
              f"{close.size} ({100 * bad / close.size:.1f}%)\nGreatest absolute difference: "
              f"{worst} (up to {atol} allowed)")


def _values(x: Any) -> np.ndarray:
    return x.detach().numpy() if isinstance(x, Tensor) else np.asarray(x)


def _fail(msg: str | None, text: str) -> None:
    raise AssertionError(msg if msg is not None else text)


def make_tensor(*shape: Any, dtype: Any, device: Any = None, low: float | None = None,
                high: float | None = None, requires_grad: bool = False,
                noncontiguous: bool = False, exclude_zero: bool = False) -> Tensor:
    """A tensor of ``shape`` with values drawn uniformly from [low, high) (by default
    [-9, 9) for numbers, {False, True} for booleans), from tensorgrad's generator; with
    ``noncontiguous``, a view of every other entry of a longer array."""
    from . import random

    shape = tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
    kind = np.dtype(dtype)
    draws = random.uniform(shape, -9.0 if low is None else low, 9.0 if high is None else high,
                           None)
    if kind.kind == "b":
        values = draws > 0
    elif kind.kind in "iu":
        values = np.floor(draws).astype(kind)
    else:
        values = draws.astype(kind)
    if exclude_zero and kind.kind != "b":
        values[values == 0] = np.finfo(kind).tiny if kind.kind == "f" else 1
    if noncontiguous and values.size > 1:  # every other entry of a twice-as-long array
        values = np.repeat(values[..., None], 2, axis=-1)[..., 0]
    out = as_leaf(np.asarray(values))
    return out.requires_grad_() if requires_grad else out


__all__ = ["assert_close", "make_tensor"]
