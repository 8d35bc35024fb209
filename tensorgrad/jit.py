"""``torch.jit`` for code that scripts or traces its model: there is no compiler here, so a
scripted or traced function or module is itself, run as Python, as ``tensorgrad.compile``
returns its model. The decorators that steer PyTorch's compiler change nothing::

    model = tg.jit.script(model)  # the same model
"""

from __future__ import annotations

from typing import Any, TypeVar

T = TypeVar("T")


def script(obj: T, *args: Any, **kwargs: Any) -> T:
    """``obj`` itself: a function or module runs eagerly, as written."""
    return obj


def trace(func: T, example_inputs: Any = None, *args: Any, **kwargs: Any) -> T:
    """``func`` itself (PyTorch records one run on ``example_inputs``; nothing to record)."""
    return func


def ignore(drop: Any = False, **kwargs: Any) -> Any:
    """A decorator for PyTorch's compiler, ``@ignore`` or ``@ignore(drop=True)``: the
    function as it is."""
    return drop if callable(drop) else _unchanged


def unused(function: T) -> T:
    """A decorator for PyTorch's compiler: the function as it is."""
    return function


export = unused


def _unchanged(function: T) -> T:
    return function


def is_scripting() -> bool:
    """Whether the code runs compiled by ``script``: never here."""
    return False


def is_tracing() -> bool:
    """Whether the code runs under ``trace``: never here."""
    return False


def save(obj: Any, f: Any, *args: Any, **kwargs: Any) -> None:
    raise RuntimeError("torch.jit.save: tensorgrad has no compiled programs to save; save the "
                       "state_dict with tensorgrad.save")


def load(f: Any, *args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("torch.jit.load: tensorgrad reads no TorchScript programs; load a "
                       "state_dict with tensorgrad.load")


Final = Any  # (torch.jit.Final[int], a type annotation for the compiler)

__all__ = ["Final", "export", "ignore", "is_scripting", "is_tracing", "load", "save", "script",
           "trace", "unused"]
