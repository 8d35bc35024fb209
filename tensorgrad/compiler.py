"""``torch.compiler`` for code that asks about or steers PyTorch's compiler, as model
libraries do on their forward paths (``if not torch.compiler.is_compiling(): ...``): there
is no compiler here (``tensorgrad.compile`` returns its model as it is), so nothing is ever
being compiled and the decorators return the function unchanged::

    @tg.compiler.disable
    def step(x): ...    # step itself
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

__all__ = ["allow_in_graph", "assume_constant_result", "disable", "is_compiling",
           "is_dynamo_compiling", "is_exporting", "reset"]


def is_compiling() -> bool:
    """False: no code runs under a compiler here."""
    return False


def is_dynamo_compiling() -> bool:
    """False, as ``is_compiling``."""
    return False


def is_exporting() -> bool:
    """False: nothing is exported here."""
    return False


def disable(fn: Any = None, recursive: bool = True, *, reason: str | None = None) -> Any:
    """``fn`` itself, or without ``fn`` a decorator that returns its function: there is
    no compiler to keep away."""
    return fn if fn is not None else _unchanged


def allow_in_graph(fn: T) -> T:
    """``fn`` itself."""
    return fn


def assume_constant_result(fn: T) -> T:
    """``fn`` itself."""
    return fn


def reset() -> None:
    """Nothing to forget: no compiled code is kept."""


def _unchanged(function: Callable[..., Any]) -> Callable[..., Any]:
    return function
