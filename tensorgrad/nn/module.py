"""``Module`` and ``Parameter``: torch.nn's way of holding a model's weights, with its names.

A ``Module`` keeps the tensors and submodules assigned to its attributes in three ordered
tables (parameters, buffers, submodules), from which ``parameters()``, ``state_dict()``,
``to()`` and ``train()`` walk the whole model, as PyTorch's ``nn.Module`` does.
"""

from __future__ import annotations

import warnings
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from typing import Any, NamedTuple, TypeVar

import numpy as np

from ..devices import check_device
from ..dtypes import _Missing, bfloat16
from ..dtypes import dtype as dtype_class
from ..grad_mode import no_grad
from ..size import Size
from ..tensor import RemovableHandle, Tensor, as_leaf, note_in_place_write
from .backward_hooks import BackwardHooks

M = TypeVar("M", bound="Module")


class Parameter(Tensor):
    """A tensor that is a module's weight: a leaf that requires grad (by default).

    ``Parameter(data)`` holds a copy of ``data`` (a tensor, array or nested list), so a
    parameter made of a slice of another (``nn.Parameter(w[:k])``) is a new leaf with
    values of its own. Assigned to a module's attribute, it is registered there::

        layer.scale = nn.Parameter(tensorgrad.ones(4))
    """

    __slots__ = ()

    def __init__(self, data: Any = None, requires_grad: bool = True):
        super().__init__(np.empty(0) if data is None else data, requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


# The tensors that ``Buffer(...)`` made, by id, with their ``persistent``: PyTorch marks the
# tensor itself, which here has no room for a mark (slots); an entry goes with its tensor.
_buffer_persistence: dict[int, bool] = {}


class _BufferMeta(type):
    def __instancecheck__(cls, instance: Any) -> bool:
        if cls is Buffer:  # (a Buffer is a plain Tensor, as PyTorch's: known by its mark)
            return isinstance(instance, Tensor) and id(instance) in _buffer_persistence
        return super().__instancecheck__(instance)


class Buffer(Tensor, metaclass=_BufferMeta):
    """A tensor that, assigned to a module's attribute, is registered there as a buffer
    (PyTorch 2.5's ``nn.Buffer``): ``self.mask = nn.Buffer(mask, persistent=False)`` is
    ``self.register_buffer("mask", mask, persistent=False)``.

    As PyTorch's, ``Buffer(t)`` is a plain ``Tensor`` sharing ``t``'s values, cut off from
    the graph (requiring grad if ``t`` does), for which ``isinstance(b, nn.Buffer)`` holds.
    """

    __slots__ = ()

    def __new__(cls, data: Tensor | None = None, *, persistent: bool = True) -> Tensor:  # type: ignore[misc]
        if data is None:
            from ..creation import empty

            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Buffer: data must be a Tensor, not {type(data).__name__}")
        buffer = as_leaf(data._data, data._requires_grad)
        _buffer_persistence[id(buffer)] = bool(persistent)
        weakref.finalize(buffer, _buffer_persistence.pop, id(buffer), None)
        return buffer


class _DictHandle(RemovableHandle):
    """The handle of a hook kept in a dict by key (the state-dict hooks)."""

    def __init__(self, hooks: dict[int, Any], key: int) -> None:
        self._table, self._key = hooks, key

    def remove(self) -> None:
        self._table.pop(self._key, None)


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict`` did not match: keys the model has and keys it does not."""

    missing_keys: list[str]
    unexpected_keys: list[str]

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return (f"IncompatibleKeys(missing_keys={self.missing_keys}, "
                f"unexpected_keys={self.unexpected_keys})")

    def __str__(self) -> str:
        return self.__repr__()


def _type_name(value: Any) -> str:
    kind = type(value)
    return kind.__qualname__ if kind.__module__ == "builtins" else \
        f"{kind.__module__}.{kind.__qualname__}"


def _check_name(name: Any, kind: str, module: Module) -> None:
    if not isinstance(name, str):
        raise TypeError(f"{kind} name should be a string. Got {_type_name(name)}")
    if "." in name:
        raise KeyError(f"{kind} name can't contain \".\"")
    if name == "":
        raise KeyError(f"{kind} name can't be empty string \"\"")
    table = module._parameters if kind == "parameter" else module._buffers
    if hasattr(module, name) and name not in table:
        raise KeyError(f"attribute '{name}' already exists")


def _is_tensor_like(value: Any) -> bool:
    return isinstance(value, (Tensor, np.ndarray)) or (
        hasattr(value, "__array__") and hasattr(value, "shape"))


def _forward_unimplemented(self: Module, *args: Any) -> Any:
    raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required '
                              '"forward" function')


class Module:
    """The base of every layer and model, as ``torch.nn.Module``.

    Subclass it, call ``super().__init__()`` first, assign parameters, buffers and
    submodules to attributes, and define ``forward``; calling the module calls it::

        class Affine(nn.Module):
            def __init__(self, n):
                super().__init__()
                self.weight = nn.Parameter(tensorgrad.ones(n))
                self.bias = nn.Parameter(tensorgrad.zeros(n))

            def forward(self, x):
                return x * self.weight + self.bias

    Forward hooks run around ``forward`` as PyTorch's (``register_forward_pre_hook``,
    ``register_forward_hook``); there are no backward hooks and no devices but the CPU.
    """

    training: bool
    _parameters: dict[str, Parameter | None]
    _buffers: dict[str, Tensor | None]
    _non_persistent_buffers: set[str]
    _modules: dict[str, Module | None]

    def __init__(self) -> None:
        setattr_ = super().__setattr__
        setattr_("training", True)
        setattr_("_parameters", {})
        setattr_("_buffers", {})
        setattr_("_non_persistent_buffers", set())
        setattr_("_modules", {})

    # (a callable attribute, not a method: each subclass's forward takes its own arguments)
    forward: Callable[..., Any] = _forward_unimplemented

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        hooks = self.__dict__.get("_forward_hooks")  # (made at the first registration)
        if hooks is None or not (hooks.before or hooks.after or hooks.grad.before
                                 or hooks.grad.after):
            return self.forward(*args, **kwargs)
        return hooks.call(self, args, kwargs)

    # ---- forward and backward hooks -----------------------------------------------------------

    def register_forward_pre_hook(self, hook: Callable[..., Any], *, prepend: bool = False,
                                  with_kwargs: bool = False) -> RemovableHandle:
        """Call ``hook(module, args)`` before each ``forward`` (``hook(module, args, kwargs)``
        with ``with_kwargs``); what it returns, if not None, replaces the arguments: a tuple
        of them or a single one (with ``with_kwargs``, a pair ``(args, kwargs)``)."""
        return self._hooks().add(self._hooks().before, hook, prepend, with_kwargs, False)

    def register_forward_hook(self, hook: Callable[..., Any], *, prepend: bool = False,
                              with_kwargs: bool = False,
                              always_call: bool = False) -> RemovableHandle:
        """Call ``hook(module, args, output)`` after each ``forward`` (``hook(module, args,
        kwargs, output)`` with ``with_kwargs``); what it returns, if not None, replaces the
        output. With ``always_call`` it runs even when ``forward`` raised (output None)::

            seen = []
            layer.register_forward_hook(lambda module, args, output: seen.append(output))
        """
        return self._hooks().add(self._hooks().after, hook, prepend, with_kwargs, always_call)

    def register_full_backward_hook(self, hook: Callable[..., Any], prepend: bool = False
                                    ) -> RemovableHandle:
        """Call ``hook(module, grad_input, grad_output)`` once the gradients of this call's
        tensor arguments are known: tuples of tensors, None for an argument that needs none.
        What it returns, if not None, replaces ``grad_input``. The module's tensor arguments
        and results then pass through a join and a split (a copy) in the graph::

            layer.register_full_backward_hook(lambda m, gi, go: print(go[0].norm()))
        """
        return self._hooks().add_grad(self._hooks().grad.after, hook, prepend)

    def register_full_backward_pre_hook(self, hook: Callable[..., Any], prepend: bool = False
                                        ) -> RemovableHandle:
        """Call ``hook(module, grad_output)`` once the gradients of this call's results are
        known, before they go into the module; what it returns, if not None, replaces them."""
        return self._hooks().add_grad(self._hooks().grad.before, hook, prepend)

    def register_backward_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """PyTorch's older form, which it deprecates: here ``register_full_backward_hook``
        (PyTorch's old hook saw the gradients of the module's last op only)."""
        warnings.warn("register_backward_hook is register_full_backward_hook here: its "
                      "grad_input holds the gradients of the module's arguments",
                      FutureWarning, stacklevel=2)
        return self.register_full_backward_hook(hook)

    def _hooks(self) -> _ForwardHooks:
        hooks = self.__dict__.get("_forward_hooks")
        if hooks is None:
            hooks = _ForwardHooks()
            super().__setattr__("_forward_hooks", hooks)
        return hooks

    # ---- registration by attribute ------------------------------------------------------------

    def __getattr__(self, name: str) -> Any:
        # only reached when normal lookup fails: the name may be in one of the tables
        tables = self.__dict__
        if "_modules" in tables:  # (not before __init__, nor while unpickling)
            for entries in (tables["_parameters"], tables["_buffers"], tables["_modules"]):
                if name in entries:
                    return entries[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __setattr__(self, name: str, value: Any) -> None:
        tables = self.__dict__
        parameters = tables.get("_parameters")
        if isinstance(value, Parameter):
            if parameters is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            self._forget(name, self._parameters)
            self.register_parameter(name, value)
        elif parameters is not None and name in parameters:
            if value is not None:
                raise TypeError(f"cannot assign '{_type_name(value)}' as parameter '{name}' "
                                "(nn.Parameter or None expected)")
            parameters[name] = None
        elif isinstance(value, Module):
            if tables.get("_modules") is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            self._forget(name, self._modules)
            self._modules[name] = value
        elif name in tables.get("_modules", ()):
            if value is not None:
                raise TypeError(f"cannot assign '{_type_name(value)}' as child module '{name}' "
                                "(nn.Module or None expected)")
            self._modules[name] = None
        elif _buffer_persistence and id(value) in _buffer_persistence and \
                isinstance(value, Tensor):  # nn.Buffer(t): a buffer, as PyTorch's
            if tables.get("_buffers") is None:
                raise AttributeError("cannot assign buffer before Module.__init__() call")
            self._forget(name, self._buffers)
            self.register_buffer(name, value, _buffer_persistence[id(value)])
        elif name in tables.get("_buffers", ()):
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{_type_name(value)}' as buffer '{name}' "
                                "(Tensor or None expected)")
            self._buffers[name] = value
        else:
            super().__setattr__(name, value)

    def _forget(self, name: str, kept: dict) -> None:
        """Take ``name`` out of the plain attributes and of every table but ``kept``, where it
        is reassigned: there it keeps its place, as in PyTorch (``state_dict()``'s order)."""
        self.__dict__.pop(name, None)
        for table in (self._parameters, self._buffers, self._modules):
            if table is not kept:
                table.pop(name, None)
        self._non_persistent_buffers.discard(name)

    def __delattr__(self, name: str) -> None:
        for table in (self._parameters, self._buffers, self._modules):
            if name in table:
                del table[name]
                self._non_persistent_buffers.discard(name)
                return
        super().__delattr__(name)

    def __dir__(self) -> list[str]:
        names = [*super().__dir__(), *self._parameters, *self._buffers, *self._modules]
        return sorted(set(names))

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add ``param`` (a ``Parameter``, or None for a slot left empty) under ``name``."""
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign parameter before Module.__init__() call")
        _check_name(name, "parameter", self)
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{_type_name(param)}' object to parameter "
                            f"'{name}' (nn.Parameter or None required)")
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True
                        ) -> None:
        """Keep ``tensor`` with the module: not a parameter, but moved by ``to()`` and, if
        ``persistent``, saved in ``state_dict()`` (a causal mask, running statistics)."""
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot assign buffer before Module.__init__() call")
        _check_name(name, "buffer", self)
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{_type_name(tensor)}' object to buffer '{name}' "
                            "(Tensor or None required)")
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers.discard(name)
        else:
            self._non_persistent_buffers.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Add a submodule under ``name``, as assigning it to the attribute does."""
        if not isinstance(module, Module) and module is not None:
            raise TypeError(f"{_type_name(module)} is not a Module subclass")
        if not isinstance(name, str):
            raise TypeError(f"module name should be a string. Got {_type_name(name)}")
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        if "." in name or name == "":
            raise KeyError(f"module name can't contain \".\", got: {name}" if name else
                           "module name can't be empty string \"\"")
        self._modules[name] = module

    register_module = add_module

    # ---- walking the model --------------------------------------------------------------------

    def named_modules(self, memo: set[Module] | None = None, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Module]]:
        """This module and every submodule below it, each once, with its dotted name."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if self in memo:
                return
            memo.add(self)
        yield prefix, self
        for name, module in self._modules.items():
            if module is not None:
                yield from module.named_modules(memo, prefix + ("." if prefix else "") + name,
                                                remove_duplicate)

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """The direct submodules, each once, with their names."""
        seen: set[Module] = set()
        for name, module in self._modules.items():
            if module is not None and module not in seen:
                seen.add(module)
                yield name, module

    def children(self) -> Iterator[Module]:
        for _, module in self.named_children():
            yield module

    def _named_members(self, table: str, prefix: str, recurse: bool, remove_duplicate: bool
                       ) -> Iterator[tuple[str, Any]]:
        seen: set[int] = set()
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) \
            if recurse else iter([(prefix, self)])
        for module_prefix, module in modules:
            for name, value in getattr(module, table).items():
                if value is None:
                    continue
                if remove_duplicate:
                    if id(value) in seen:  # tied weights: one tensor under two names
                        continue
                    seen.add(id(value))
                yield module_prefix + ("." if module_prefix else "") + name, value

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        """Every parameter with its dotted name; a tensor tied to two places comes once,
        under the first name."""
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    def get_submodule(self, target: str) -> Module:
        """The submodule at a dotted name (``"transformer.h.0"``); "" is this module."""
        module = self
        walked = type(self).__name__
        for name in target.split(".") if target else ():
            child = module._modules.get(name)
            if child is None:
                raise AttributeError(f"{walked} has no attribute `{name}`")
            module, walked = child, walked + "." + name
        return module

    def get_parameter(self, target: str) -> Parameter:
        module_name, _, name = target.rpartition(".")
        module = self.get_submodule(module_name)
        param = module._parameters.get(name)
        if param is None:
            raise AttributeError(f"{type(module).__name__} has no parameter `{name}`")
        return param

    def get_buffer(self, target: str) -> Tensor:
        """The buffer at the dotted path ``target`` (``"bn.running_mean"``)."""
        module_name, _, name = target.rpartition(".")
        module = self.get_submodule(module_name)
        if not hasattr(module, name):
            raise AttributeError(f"{type(module).__name__} has no attribute `{name}`")
        buffer = module._buffers.get(name)
        if buffer is None:
            raise AttributeError(f"`{name}` is not a buffer")
        return buffer

    def apply(self: M, fn: Callable[[Module], Any]) -> M:
        """Call ``fn`` on every submodule (children first), then on this module; return it."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # ---- modes, gradients, dtypes -------------------------------------------------------------

    def train(self: M, mode: bool = True) -> M:
        """Put this module and every submodule in training mode (False: evaluation)."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        self.training = mode
        for module in self.children():  # each child's own train(), which a subclass may extend
            module.train(mode)
        return self

    def eval(self: M) -> M:
        return self.train(False)

    def requires_grad_(self: M, requires_grad: bool = True) -> M:
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget every parameter's gradient (or, ``set_to_none=False``, fill it with zeros)."""
        for param in self.parameters():
            if set_to_none:
                param.grad = None
            elif param._grad is not None:  # in place, seen by what saved it (PyTorch's zero_)
                param._grad[...] = 0
                note_in_place_write(param._grad)

    def to(self: M, *args: Any, **kwargs: Any) -> M:
        """Convert floating parameters and buffers to a dtype, in place; as PyTorch's
        ``to(device)``, ``to(dtype)``, ``to(device, dtype)`` or ``to(tensor)``. The only
        device is the CPU. With ``memory_format``, the 4-d (``tg.channels_last``) or 5-d
        (``tg.channels_last_3d``) parameters and buffers are laid out in it."""
        memory_format = kwargs.pop("memory_format", None)
        dtype = _target_dtype(args, kwargs)
        if dtype is not None:
            if np.dtype(dtype).kind not in "fc":
                raise TypeError(f"nn.Module.to only accepts floating point dtypes, but got "
                                f"desired dtype={np.dtype(dtype)}")
            self._cast_floating(np.dtype(dtype))
        if memory_format is not None:
            self._lay_out(memory_format)
        return self

    def _lay_out(self, memory_format: Any) -> None:
        from .. import layouts

        rank = {layouts.channels_last: 4, layouts.channels_last_3d: 5}.get(
            layouts.checked(memory_format))
        for module in self.modules():
            for table in (module._parameters, module._buffers):
                for tensor in table.values():
                    if tensor is not None and tensor._data.ndim == rank:
                        tensor._data = tensor.detach().contiguous(memory_format)._data.copy(
                            order="K")

    def _cast_floating(self, dtype: np.dtype) -> None:
        for module in self.modules():
            for table in (module._parameters, module._buffers):
                for tensor in table.values():
                    if tensor is not None and tensor._data.dtype.kind in "fc" and \
                            tensor._data.dtype != dtype:
                        tensor._data = tensor._data.astype(dtype)
                        if tensor._grad is not None:
                            tensor._grad = tensor._grad.astype(dtype)

    def double(self: M) -> M:
        self._cast_floating(np.dtype(np.float64))
        return self

    def float(self: M) -> M:
        self._cast_floating(np.dtype(np.float32))
        return self

    def half(self: M) -> M:
        self._cast_floating(np.dtype(np.float16))
        return self

    def bfloat16(self: M) -> M:
        """Refused with NumPy's TypeError: NumPy has no bfloat16 (use float32 or float16)."""
        return self.to(bfloat16)

    def cpu(self: M) -> M:
        return self

    def cuda(self: M, device: Any = None) -> M:
        """Refused, as PyTorch's where there is no GPU: there is none here."""
        raise AssertionError("tensorgrad has no CUDA: it runs on the CPU only")

    def compile(self, *args: Any, **kwargs: Any) -> None:
        """Nothing, as ``tensorgrad.compile``: the module runs as it is (PyTorch's compiles
        its forward in place)."""

    def share_memory(self: M) -> M:
        """Each parameter's and buffer's values moved into memory shared with the processes
        forked from now on (``Tensor.share_memory_``), as PyTorch's: Hogwild training, each
        child stepping an optimizer that writes in place (SGD); returns ``self``."""
        for tensor in (*self.parameters(), *self.buffers()):
            tensor.share_memory_()
        return self

    # ---- state_dict ---------------------------------------------------------------------------

    def state_dict(self, destination: dict[str, Tensor] | None = None, prefix: str = "",
                   keep_vars: bool = False) -> dict[str, Tensor]:
        """Every parameter and persistent buffer by dotted name, sharing their values
        (detached unless ``keep_vars``). A tied tensor appears under each of its names."""
        out: dict[str, Tensor] = OrderedDict() if destination is None else destination
        self._save_into(out, prefix, keep_vars)
        return out

    def _save_into(self, out: dict[str, Tensor], prefix: str, keep_vars: bool) -> None:
        """This module's entries, then each child's, between its state-dict hooks."""
        for hook in self.__dict__.get("_state_dict_pre_hooks", {}).values():
            hook(self, prefix, keep_vars)
        for name, param in self._parameters.items():
            if param is not None:
                out[prefix + name] = param if keep_vars else param.detach()
        for name, buffer in self._buffers.items():
            if buffer is not None and name not in self._non_persistent_buffers:
                out[prefix + name] = buffer if keep_vars else buffer.detach()
        for name, child in self._modules.items():
            if child is not None:
                child._save_into(out, prefix + name + ".", keep_vars)
        for hook in self.__dict__.get("_state_dict_hooks", {}).values():
            hook(self, out, prefix, {})

    def register_state_dict_pre_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """Call ``hook(module, prefix, keep_vars)`` before ``state_dict`` collects this
        module's entries (and its children's)."""
        return self._state_hook("_state_dict_pre_hooks", hook)

    def register_state_dict_post_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """Call ``hook(module, state_dict, prefix, local_metadata)`` once ``state_dict`` has
        this module's entries and its children's: it may change ``state_dict`` in place."""
        return self._state_hook("_state_dict_hooks", hook)

    def register_load_state_dict_pre_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """Call ``hook(module, state_dict, prefix, local_metadata, strict, missing_keys,
        unexpected_keys, error_msgs)`` before ``load_state_dict`` loads this module's
        entries: it may change ``state_dict`` in place (rename an old checkpoint's keys)."""
        return self._state_hook("_load_state_dict_pre_hooks", hook)

    def register_load_state_dict_post_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """Call ``hook(module, incompatible_keys)`` once ``load_state_dict`` has loaded this
        module and its children, before it checks ``strict``: clearing a key out of
        ``incompatible_keys.missing_keys`` (or ``unexpected_keys``) forgives it."""
        return self._state_hook("_load_state_dict_post_hooks", hook)

    def _state_hook(self, kind: str, hook: Callable[..., Any]) -> RemovableHandle:
        hooks: dict[int, Callable[..., Any]] = self.__dict__.setdefault(kind, {})
        key = max(hooks, default=-1) + 1
        hooks[key] = hook
        return _DictHandle(hooks, key)

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True,
                        assign: bool = False) -> IncompatibleKeys:
        """Copy values (tensors, NumPy arrays) into the parameters and persistent buffers
        named by ``state_dict()``'s keys, in place; with ``assign``, make the values
        themselves (their memory and dtype) the parameters and buffers, each parameter still
        requiring grad as it did.

        As PyTorch's: with ``strict`` a missing or unexpected key is an error; a value of
        another shape always is; all of them are reported in one ``RuntimeError``.
        Returns the named tuple ``(missing_keys, unexpected_keys)``.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        missing: list[str] = []
        unexpected: list[str] = []
        errors: list[str] = []
        self._load_into(dict(state_dict), "", missing, unexpected, errors, assign, strict)
        if strict and unexpected:
            errors.insert(0, "Unexpected key(s) in state_dict: {}. ".format(
                ", ".join(f'"{k}"' for k in unexpected)))
        if strict and missing:
            errors.insert(0, "Missing key(s) in state_dict: {}. ".format(
                ", ".join(f'"{k}"' for k in missing)))
        if errors:
            raise RuntimeError("Error(s) in loading state_dict for {}:\n\t{}".format(
                type(self).__name__, "\n\t".join(errors)))
        return IncompatibleKeys(missing, unexpected)

    def _load_into(self, state_dict: dict[str, Any], prefix: str, missing: list[str],
                   unexpected: list[str], errors: list[str], assign: bool = False,
                   strict: bool = True) -> None:
        """This module's part of ``load_state_dict``, then each child's (PyTorch's order of
        keys and messages), between its load hooks."""
        for hook in self.__dict__.get("_load_state_dict_pre_hooks", {}).values():
            hook(self, state_dict, prefix, {}, strict, missing, unexpected, errors)
        local: dict[str, Tensor] = {name: t for name, t in self._parameters.items()
                                    if t is not None}
        local.update((name, t) for name, t in self._buffers.items()
                     if t is not None and name not in self._non_persistent_buffers)
        for name, tensor in local.items():
            key = prefix + name
            if key not in state_dict:
                missing.append(key)
                continue
            value = state_dict[key]
            if not _is_tensor_like(value):
                errors.append(f'While copying the parameter named "{key}", expected a Tensor '
                              f"or an array from checkpoint but received {type(value)}")
                continue
            array = np.asarray(value._data if isinstance(value, Tensor) else value)
            if tensor._data.ndim == 0 and array.shape == (1,):  # PyTorch's legacy 0-d
                array = array[0]
            if array.shape != tensor._data.shape:
                errors.append(f"size mismatch for {key}: copying a param with shape "
                              f"{Size(array.shape)!r} from checkpoint, the shape in current "
                              f"model is {Size(tensor._data.shape)!r}.")
                continue
            if assign:
                self._assign(name, tensor, array)
                continue
            with no_grad():
                tensor._data[...] = array  # in place: an optimizer's views stay the weights
            note_in_place_write(tensor._data)  # a graph that saved the old values is out of date
        for key in state_dict:
            if key.startswith(prefix):
                first, dot, _ = key[len(prefix):].partition(".")
                if (dot and first not in self._modules) or (not dot and first not in local):
                    unexpected.append(key)
        for name, child in self._modules.items():
            if child is not None:
                child_prefix = prefix + name + "."
                child._load_into({k: v for k, v in state_dict.items()
                                  if k.startswith(child_prefix)},
                                 child_prefix, missing, unexpected, errors, assign, strict)
        for hook in self.__dict__.get("_load_state_dict_post_hooks", {}).values():
            hook(self, IncompatibleKeys(missing, unexpected))

    def _assign(self, name: str, old: Tensor, array: np.ndarray) -> None:
        """``load_state_dict(assign=True)``'s step: ``array`` itself (no copy) in place of the
        parameter or buffer ``name``, as PyTorch's."""
        array = np.asarray(array)  # (a legacy 0-d value came as a NumPy scalar)
        if name in self._parameters:
            new = object.__new__(Parameter)  # (Parameter(data) would copy)
            new._data, new._grad, new.grad_fn = array, None, None
            new._requires_grad = old.requires_grad and array.dtype.kind == "f"
            self._parameters[name] = new
        else:
            self._buffers[name] = as_leaf(array)

    # ---- repr ---------------------------------------------------------------------------------

    def extra_repr(self) -> str:
        """The module's own settings, shown in its ``repr`` (a subclass's to define)."""
        return ""

    def _get_name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        extra = self.extra_repr()
        lines = extra.split("\n") if extra else []
        children = [f"({name}): {_indented(repr(module))}"
                    for name, module in self._modules.items()]
        if len(lines) == 1 and not children:
            return f"{self._get_name()}({lines[0]})"
        body = lines + children
        if not body:
            return f"{self._get_name()}()"
        return f"{self._get_name()}(\n  " + "\n  ".join(body) + "\n)"


def _indented(text: str) -> str:
    """``text`` with every line after the first indented by two spaces."""
    return text.replace("\n", "\n  ")


def _target_dtype(args: tuple, kwargs: dict) -> Any:
    """The dtype among ``to()``'s arguments, after checking that any device is the CPU."""
    dtype = kwargs.pop("dtype", None)
    device = kwargs.pop("device", None)
    kwargs.pop("non_blocking", None)
    if kwargs:
        raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
    for arg in args:
        if isinstance(arg, Tensor):
            dtype = arg.dtype
        elif isinstance(arg, (np.dtype, dtype_class, type, _Missing)):  # (_Missing: NumPy's error)
            dtype = arg
        else:
            device = arg
    check_device(device)
    return dtype




class _ForwardHook:
    """One registered forward hook (its own object: a function registered twice is two)."""

    __slots__ = ("function", "with_kwargs", "always_call")

    def __init__(self, function: Callable[..., Any], with_kwargs: bool, always_call: bool):
        self.function, self.with_kwargs, self.always_call = function, with_kwargs, always_call


class _ForwardHooks:
    """A module's forward pre-hooks (``before``) and forward hooks (``after``), in order,
    and its backward hooks (``grad``)."""

    def __init__(self) -> None:
        self.before: list[_ForwardHook] = []
        self.after: list[_ForwardHook] = []
        self.grad = BackwardHooks()

    @staticmethod
    def add_grad(hooks: list[Any], function: Callable[..., Any],
                 prepend: bool) -> RemovableHandle:
        hook = _ForwardHook(function, False, False)  # (its own object, as a forward hook)
        if prepend:
            hooks.insert(0, hook)
        else:
            hooks.append(hook)
        return RemovableHandle(hooks, hook)

    def add(self, hooks: list[_ForwardHook], function: Callable[..., Any], prepend: bool,
            with_kwargs: bool, always_call: bool) -> RemovableHandle:
        hook = _ForwardHook(function, with_kwargs, always_call)
        if prepend:
            hooks.insert(0, hook)
        else:
            hooks.append(hook)
        return RemovableHandle(hooks, hook)

    def call(self, module: Module, args: tuple, kwargs: dict[str, Any]) -> Any:
        for hook in tuple(self.before):
            if hook.with_kwargs:
                result = hook.function(module, args, kwargs)
                if result is not None:
                    if not (isinstance(result, tuple) and len(result) == 2):
                        raise RuntimeError("forward pre-hook must return None or a tuple of "
                                           f"(new_args, new_kwargs), but got {result}.")
                    args, kwargs = result
            else:
                result = hook.function(module, args)
                if result is not None:
                    args = result if isinstance(result, tuple) else (result,)
        call = None
        if self.grad.before or self.grad.after:
            call, args = self.grad.wrapped(module, args)
        try:
            output = module.forward(*args, **kwargs)
        except BaseException:
            for hook in tuple(self.after):
                if hook.always_call:
                    self._run(hook, module, args, kwargs, None)
            raise
        for hook in tuple(self.after):
            result = self._run(hook, module, args, kwargs, output)
            if result is not None:
                output = result
        return output if call is None else call.outputs(output)

    @staticmethod
    def _run(hook: _ForwardHook, module: Module, args: tuple, kwargs: dict[str, Any],
             output: Any) -> Any:
        if hook.with_kwargs:
            return hook.function(module, args, kwargs, output)
        return hook.function(module, args, output)
