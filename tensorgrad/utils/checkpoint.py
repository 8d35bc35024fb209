"""``torch.utils.checkpoint`` for code that trades compute for memory: here ``checkpoint``
runs the function as it is, so the gradients are the same and the activations are kept
(nothing is recomputed in the backward pass)::

    h = checkpoint(block, h, use_reentrant=False)  # block(h)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any


def checkpoint(function: Callable[..., Any], *args: Any, use_reentrant: bool | None = None,
               context_fn: Any = None, determinism_check: str = "default",
               debug: bool = False, preserve_rng_state: bool = True, **kwargs: Any) -> Any:
    """``function(*args, **kwargs)``, its activations kept for the backward pass."""
    return function(*args, **kwargs)


def checkpoint_sequential(functions: Any, segments: int, input: Any,
                          use_reentrant: bool | None = None, **kwargs: Any) -> Any:
    """The modules of ``functions`` (a ``Sequential``, or a list of modules) applied in turn
    to ``input``, their activations kept."""
    children = functions.children() if hasattr(functions, "children") else functions
    modules: Iterable[Callable[..., Any]] = list(children)
    for module in modules:
        input = module(input)
    return input


__all__ = ["checkpoint", "checkpoint_sequential"]
