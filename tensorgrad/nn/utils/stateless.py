"""``torch.nn.utils.stateless``: ``functional_call``, deprecated since PyTorch 2.0 for
``torch.func.functional_call`` (here ``tensorgrad.func.functional_call``), which it calls."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

__all__ = ["functional_call"]


def functional_call(module: Any, parameters_and_buffers: Mapping[str, Any] | tuple,
                    args: Any = None, kwargs: Mapping[str, Any] | None = None, *,
                    tie_weights: bool = True, strict: bool = False) -> Any:
    """``func.functional_call``, with PyTorch's deprecation warning."""
    from ...func import functional_call as call

    warnings.warn("`torch.nn.utils.stateless.functional_call` is deprecated as of PyTorch 2.0 "
                  "and will be removed in a future version of PyTorch. Please use "
                  "`torch.func.functional_call` instead which is a drop-in replacement.",
                  FutureWarning, stacklevel=2)
    return call(module, parameters_and_buffers, args, kwargs, tie_weights=tie_weights,
                strict=strict)
