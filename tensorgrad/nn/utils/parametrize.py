"""``torch.nn.utils.parametrize``: a module's tensor computed from others, as PyTorch's.

``register_parametrization(module, "weight", p)`` keeps the weight's values as
``module.parametrizations.weight.original`` (or, where ``p.right_inverse`` returns several
tensors, ``original0``, ``original1``, ...) and makes ``module.weight`` a property that
returns ``p(original)`` each time it is read; assigning to it goes through
``p.right_inverse``. The module's class becomes a subclass made for it
(``ParametrizedLinear``), as in PyTorch, and the state dict names the originals::

    parametrize.register_parametrization(layer, "weight", Symmetric())
    layer.weight  # Symmetric()(layer.parametrizations.weight.original)
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from ...grad_mode import no_grad
from ...tensor import Tensor
from ..containers import ModuleDict, ModuleList
from ..module import Module, Parameter

__all__ = ["ParametrizationList", "cached", "is_parametrized", "register_parametrization",
           "remove_parametrizations", "type_before_parametrizations"]

_cache_depth = 0  # how many ``cached()`` blocks are open
_cache: dict[tuple[int, str], Tensor] = {}


@contextlib.contextmanager
def cached() -> Iterator[None]:
    """Inside, each parametrized tensor is computed once, at its first read, and the same
    tensor returned after (a model reading a weight at every step of a loop)."""
    global _cache_depth
    _cache_depth += 1
    try:
        yield
    finally:
        _cache_depth -= 1
        if not _cache_depth:
            _cache.clear()


def _register(module: Module, name: str, tensor: Tensor) -> None:
    if isinstance(tensor, Parameter):
        module.register_parameter(name, tensor)
    else:
        module.register_buffer(name, tensor)


def _set(dest: Tensor, src: Tensor) -> None:
    """``dest`` holds ``src``'s values from now on (PyTorch's ``set_``): the same tensor
    object, so an optimizer that holds it keeps it."""
    dest._data = np.array(src._data)  # (Adam's flat buffer takes in replaced data)


class ParametrizationList(ModuleList):
    """The parametrizations of one tensor, in the order applied, with its original values
    (``original``, or ``original0``, ``original1``, ... where the first parametrization
    takes several tensors)."""

    def __init__(self, modules: Sequence[Module], original: Tensor, unsafe: bool = False
                 ) -> None:
        if len(modules) == 0:
            raise ValueError("ParametrizationList requires one or more modules.")
        super().__init__(modules)
        self.unsafe = unsafe
        shape, dtype = original.shape, original.dtype
        with no_grad():
            new: Any = original
            for module in reversed(list(self)):
                if hasattr(module, "right_inverse"):
                    with contextlib.suppress(NotImplementedError):  # (as not there)
                        new = module.right_inverse(new)
        if not isinstance(new, (Tensor, Sequence)):
            raise ValueError("'right_inverse' must return a Tensor or a Sequence of tensors "
                             f"(list, tuple...). Got {type(new).__name__}")
        self.is_tensor = isinstance(new, Tensor)
        self.ntensors = 1 if self.is_tensor else len(new)
        if isinstance(new, Tensor):
            if original.dtype != new.dtype:
                raise ValueError("When `right_inverse` outputs one tensor, it may not change "
                                 f"the dtype.\noriginal.dtype: {original.dtype}\n"
                                 f"right_inverse(original).dtype: {new.dtype}")
            if new is not original:
                _set(original, new)
            _register(self, "original", original)
        else:
            for i, value in enumerate(new):
                if not isinstance(value, Tensor):
                    raise ValueError("'right_inverse' must return a Tensor or a Sequence of "
                                     f"tensors (list, tuple...). Got element {i} of the "
                                     f"sequence with type {type(value).__name__}.")
                if isinstance(original, Parameter):
                    value = Parameter(value, original.requires_grad)
                else:
                    value = value.detach()
                _register(self, f"original{i}", value)
        if not self.unsafe:
            value = self()
            if not isinstance(value, Tensor):
                raise ValueError("A parametrization must return a tensor. Got "
                                 f"{type(value).__name__}.")
            if value.dtype != dtype:
                raise ValueError("Registering a parametrization may not change the dtype of "
                                 f"the tensor, unless `unsafe` flag is enabled.\n"
                                 f"unparametrized dtype: {dtype}\n"
                                 f"parametrized dtype: {value.dtype}")
            if value.shape != shape:
                raise ValueError("Registering a parametrization may not change the shape of "
                                 f"the tensor, unless `unsafe` flag is enabled.\n"
                                 f"unparametrized shape: {shape}\n"
                                 f"parametrized shape: {value.shape}")

    def right_inverse(self, value: Tensor) -> None:
        """Set the originals so that the parametrized tensor is ``value`` (through each
        parametrization's ``right_inverse``, last first)."""
        with no_grad():
            new: Any = value
            for module in reversed(list(self)):
                if not hasattr(module, "right_inverse"):
                    raise RuntimeError(f"parametrization {type(module).__name__} does not "
                                       "implement right_inverse.")
                new = module.right_inverse(new)
            if self.is_tensor:
                if not isinstance(new, Tensor):
                    raise ValueError(f"`right_inverse` should return a tensor. Got "
                                     f"{type(new).__name__}")
                if not self.unsafe:
                    original = self.original
                    if new.dtype != original.dtype:
                        raise ValueError(f"The tensor returned by `right_inverse` has dtype "
                                         f"{new.dtype} while `original` has dtype "
                                         f"{original.dtype}")
                    if new.shape != original.shape:
                        raise ValueError(f"The tensor returned by `right_inverse` has shape "
                                         f"{new.shape} while `original` has shape "
                                         f"{original.shape}")
                _set(self.original, new)
            else:
                if not isinstance(new, Sequence) or len(new) != self.ntensors:
                    raise ValueError(f"'right_inverse' must return a sequence of tensors of "
                                     f"length {self.ntensors}. Got {type(new).__name__}")
                for i, value in enumerate(new):
                    _set(getattr(self, f"original{i}"), value)

    def forward(self) -> Tensor:
        modules = list(self)
        if self.is_tensor:
            x = modules[0](self.original)
        else:
            x = modules[0](*(getattr(self, f"original{i}") for i in range(self.ntensors)))
        for module in modules[1:]:
            x = module(x)
        return x


def _parametrized(name: str) -> property:
    def get(self: Module) -> Tensor:
        parametrization = self.parametrizations[name]
        if not _cache_depth:
            return parametrization()
        key = (id(self), name)
        tensor = _cache.get(key)
        if tensor is None:
            tensor = _cache[key] = parametrization()
        return tensor

    def set(self: Module, value: Tensor) -> None:
        self.parametrizations[name].right_inverse(value)

    return property(get, set)


def _load_into(self: Module, state_dict: dict[str, Any], prefix: str, *args: Any) -> None:
    """A parametrized module's part of ``load_state_dict``, after renaming keys of older
    layouts (``weight_g`` and ``weight_v``, for ``parametrizations.weight_norm``)."""
    for rename in self.__dict__.get("_state_dict_renames", ()):
        rename(state_dict, prefix)
    type(self).__bases__[0]._load_into(self, state_dict, prefix, *args)  # type: ignore[attr-defined]


def register_parametrization(module: Module, tensor_name: str, parametrization: Module, *,
                             unsafe: bool = False) -> Module:
    """Make ``module.<tensor_name>`` be ``parametrization(original)``, as PyTorch's (see the
    module's doc); a second parametrization of the same tensor applies after the first.
    ``unsafe`` lets it change the tensor's shape or dtype."""
    parametrization.train(module.training)
    if is_parametrized(module, tensor_name):
        if not unsafe:
            current = getattr(module, tensor_name)
            value = parametrization(current)
            if not isinstance(value, Tensor):
                raise ValueError(f"A parametrization must return a tensor. Got "
                                 f"{type(value).__name__}.")
            if value.dtype != current.dtype or value.shape != current.shape:
                raise ValueError("Registering a parametrization may not change the shape or "
                                 "the dtype of the tensor, unless the `unsafe` flag is "
                                 "enabled.")
        chain = module.parametrizations[tensor_name]
        chain.append(parametrization)
        chain.unsafe |= unsafe
    elif tensor_name in module._buffers or tensor_name in module._parameters:
        original = getattr(module, tensor_name)
        chain = ParametrizationList([parametrization], original, unsafe=unsafe)
        delattr(module, tensor_name)
        if not is_parametrized(module):
            cls = type(module)
            module.__class__ = type(f"Parametrized{cls.__name__}", (cls,),
                                    {"__module__": __name__, "_load_into": _load_into})
            module.parametrizations = ModuleDict()
        setattr(type(module), tensor_name, _parametrized(tensor_name))
        module.parametrizations[tensor_name] = chain
    else:
        raise ValueError(f"Module '{module}' does not have a parameter, a buffer, or a "
                         f"parametrized element with name '{tensor_name}'")
    return module


def is_parametrized(module: Module, tensor_name: str | None = None) -> bool:
    """Whether ``module`` has a parametrization (on ``tensor_name``, if given)."""
    parametrizations = module.__dict__.get("_modules", {}).get("parametrizations")
    if not isinstance(parametrizations, ModuleDict):
        return False
    return len(parametrizations) > 0 if tensor_name is None else \
        tensor_name in parametrizations


def remove_parametrizations(module: Module, tensor_name: str,
                            leave_parametrized: bool = True) -> Module:
    """Take the parametrizations of ``tensor_name`` away: it becomes a parameter (or buffer)
    again, holding its parametrized values (``leave_parametrized``) or its original ones.
    Without parametrizations left, the module's class is its own again."""
    if not is_parametrized(module, tensor_name):
        raise ValueError(f"Module {module} does not have a parametrization on {tensor_name}")
    chain = module.parametrizations[tensor_name]
    if chain.is_tensor:
        original = chain.original
        if leave_parametrized:
            with no_grad():
                _set(original, getattr(module, tensor_name))
    elif leave_parametrized:
        value = getattr(module, tensor_name)
        with no_grad():
            original = Parameter(value, value.requires_grad) if isinstance(
                chain.original0, Parameter) else value.detach()
    else:
        raise ValueError("Cannot leave unparametrized (`leave_parametrized=False`) a tensor "
                         "that is parametrized in terms of a sequence of tensors.")
    delattr(type(module), tensor_name)
    del module.parametrizations[tensor_name]
    _register(module, tensor_name, original)
    if not is_parametrized(module):
        delattr(module, "parametrizations")
        module.__class__ = type(module).__bases__[0]
    return module


def type_before_parametrizations(module: Module) -> type:
    """The module's class before ``register_parametrization`` made it a subclass."""
    return type(module).__bases__[0] if is_parametrized(module) else type(module)

