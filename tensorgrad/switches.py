"""Switches that PyTorch scripts set for speed or reproducibility, which change nothing here.

Every op here runs on NumPy in the tensors' own dtypes, the same way every time: there is no
lower-precision matrix product to allow, no nondeterministic kernel to forbid, and nothing to
compile (``capture`` is what replays a step without its Python). The switches are kept, and
read back, as PyTorch's are, so that scripts that set them run unchanged.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

_PRECISIONS = ("highest", "high", "medium")
_state: dict[str, Any] = {"precision": "highest", "deterministic": False, "warn_only": False}


def set_float32_matmul_precision(precision: str) -> None:
    """Keep ``precision`` ("highest", "high" or "medium"), as PyTorch's; float32 products
    here are always NumPy's (BLAS's) float32 products."""
    if precision not in _PRECISIONS:
        warnings.warn(f"{precision} is not one of 'highest', 'high', or 'medium'; the "
                      "set_float32_matmul_precision call has no effect.", UserWarning,
                      stacklevel=2)
        return
    _state["precision"] = precision


def get_float32_matmul_precision() -> str:
    return str(_state["precision"])


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """Keep the setting, as PyTorch's; every op here is deterministic anyway."""
    _state["deterministic"], _state["warn_only"] = bool(mode), bool(warn_only)


def are_deterministic_algorithms_enabled() -> bool:
    return bool(_state["deterministic"])


def is_deterministic_algorithms_warn_only_enabled() -> bool:
    return bool(_state["warn_only"])


def compile(model: Any = None, **options: Any) -> Any:  # noqa: A001 (PyTorch's name)
    """``model`` (a module or a function) itself, as ``torch.compile`` would return it
    compiled: the same results, from the same Python (``tg.capture`` replays a training step
    without its Python). Without ``model``, a decorator that does the same::

        model = tg.compile(model)  # model
    """
    if model is None:
        return _identity
    if not callable(model):
        raise RuntimeError(f"compile: a module or a function, not {type(model).__name__}")
    return model


def _identity(model: Callable[..., Any]) -> Callable[..., Any]:
    return compile(model)
