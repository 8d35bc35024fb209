"""PyTorch code run on tensorgrad under PyTorch's name: after ``sys.modules["torch"] =
tensorgrad``, ``import torch.nn`` is ``tensorgrad.nn`` itself.

Without this, Python would find ``torch.nn`` on tensorgrad's path and run ``nn`` a second
time as a new module, with a second copy of every module it imports (a second ``Tensor``
class: the two copies' tensors would not mix). A finder first in ``sys.meta_path`` answers
for ``<name>.<submodule>`` whenever ``sys.modules[<name>]`` is tensorgrad: the module is
tensorgrad's own, imported under its own name. It looks at nothing else.
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType
from typing import Any


class _AliasFinder:
    """Finds ``<alias>.<rest>`` as ``tensorgrad.<rest>`` where ``sys.modules[<alias>]`` is
    tensorgrad (another name for it)."""

    def __init__(self, package: str) -> None:
        self.package = package

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        head, dot, rest = fullname.partition(".")
        if not dot or head == self.package:
            return None
        if sys.modules.get(head) is not sys.modules.get(self.package):
            return None
        from importlib.util import spec_from_loader

        loader = _Existing(f"{self.package}.{rest}")
        return spec_from_loader(fullname, loader)  # type: ignore[arg-type]  # (duck-typed)


class _Existing:
    """A loader whose module is tensorgrad's own (imported under its own name if not yet)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def create_module(self, spec: Any) -> ModuleType:
        return importlib.import_module(self.name)

    def exec_module(self, module: ModuleType) -> None:
        """Nothing to run: the module ran once, under tensorgrad's name."""


def install(package: str) -> None:
    """Put the finder first in ``sys.meta_path`` (once)."""
    if not any(isinstance(finder, _AliasFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _AliasFinder(package))
