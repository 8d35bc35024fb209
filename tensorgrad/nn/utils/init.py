"""``torch.nn.utils.init``: ``skip_init``, a module made without drawing its starting values."""

from __future__ import annotations

import inspect
from typing import Any


def skip_init(module_cls: Any, *args: Any, **kwargs: Any) -> Any:
    """``module_cls(*args, **kwargs)`` without spending its starting values' random draws, as
    PyTorch's: the random stream after it is the one before. PyTorch leaves the values
    uninitialized; here they are whatever the module drew (write them before use). The
    module must take a ``device`` argument, as PyTorch requires."""
    from ... import random
    from ..module import Module

    if not issubclass(module_cls, Module):
        raise RuntimeError(f"Expected a Module; got {module_cls}")
    if "device" not in inspect.signature(module_cls).parameters:
        raise RuntimeError("Module must support a 'device' arg to skip initialization")
    with random.fork_rng():
        return module_cls(*args, **kwargs)
