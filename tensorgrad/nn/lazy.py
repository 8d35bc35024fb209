"""Lazy parameters and layers, as PyTorch's: ``UninitializedParameter`` has no shape until
``materialize(shape)`` makes it a ``Parameter`` (the same object), and ``LazyLinear`` takes
its ``in_features`` from its first input, then becomes a ``Linear``::

    layer = nn.LazyLinear(3)
    layer(tensorgrad.ones(2, 5))  # now Linear(in_features=5, out_features=3, bias=True)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..devices import check_device
from ..grad_mode import no_grad
from ..tensor import Tensor
from .layers import Linear, weight_dtype
from .module import Module, Parameter

_UNINITIALIZED = ("Attempted to use an uninitialized parameter in {}. This error happens "
                  "when you are using a `LazyModule` or explicitly manipulating "
                  "`torch.nn.parameter.UninitializedParameter` objects. When using "
                  "LazyModules Call `forward` with a dummy batch to initialize the "
                  "parameters before calling torch functions")
_NO_SHAPE = ("Can't access the shape of an uninitialized parameter or buffer. This error "
             "usually happens in `load_state_dict` when trying to load an uninitialized "
             "parameter into an initialized one. Call `forward` to initialize the parameters "
             "before accessing their attributes.")


class UninitializedTensorMixin:
    """What an uninitialized parameter or buffer refuses until ``materialize``: its shape
    (RuntimeError) and any op on it (ValueError), as PyTorch's."""

    __slots__ = ()
    cls_to_become: type[Tensor]
    _data: np.ndarray

    def materialize(self, shape: Any, device: Any = None, dtype: Any = None) -> None:
        """Give it zeros of ``shape`` (a lazy module's ``reset_parameters`` then fills
        them) in its dtype (or ``dtype``); it becomes a ``cls_to_become`` in place."""
        check_device(device)
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        data = np.zeros(shape, self._data.dtype if dtype is None else np.dtype(dtype))
        self._data = data  # type: ignore[misc]  # (Tensor's slot)
        self.__class__ = self.cls_to_become  # type: ignore[assignment]

    @property
    def shape(self) -> Any:
        raise RuntimeError(_NO_SHAPE)

    def size(self, dim: int | None = None) -> Any:
        raise RuntimeError(_NO_SHAPE)

    def detach(self) -> Any:
        """Itself: ``state_dict()`` holds it as it is, as PyTorch's (a lazy module loads it
        as one and stays lazy)."""
        return self

    def numel(self) -> int:
        raise ValueError(_UNINITIALIZED.format("numel"))

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise ValueError(_UNINITIALIZED.format("an op"))

    # the common ways into an op: arithmetic and matrix products
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = \
        __rtruediv__ = __matmul__ = __rmatmul__ = __neg__ = __pow__ = _refuse

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"


class UninitializedParameter(UninitializedTensorMixin, Parameter):
    """A parameter with no shape yet (a lazy module's, until its first input)."""

    __slots__ = ()
    cls_to_become = Parameter

    def __init__(self, requires_grad: bool = True, device: Any = None, dtype: Any = None):
        check_device(device)
        super().__init__(np.empty(0, weight_dtype(dtype)), requires_grad)


class UninitializedBuffer(UninitializedTensorMixin, Tensor):
    """A buffer with no shape yet (a lazy module's, until its first input)."""

    __slots__ = ()
    cls_to_become = Tensor

    def __init__(self, requires_grad: bool = False, device: Any = None, dtype: Any = None):
        check_device(device)
        super().__init__(np.empty(0, weight_dtype(dtype)), requires_grad=requires_grad)


def is_lazy(param: Any) -> bool:
    """Whether ``param`` is an uninitialized parameter or buffer."""
    return isinstance(param, UninitializedTensorMixin)


class LazyModuleMixin:
    """A module whose uninitialized parameters get their shapes from its first input
    (``initialize_parameters(*args)``, a subclass's to define), after which it becomes a
    ``cls_to_become``. ``load_state_dict`` gives them the shapes it loads, as PyTorch's."""

    cls_to_become: type[Module] | None = None
    _parameters: dict[str, Parameter | None]
    _buffers: dict[str, Tensor | None]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # a pre-hook, as PyTorch's: before any the user registers, gone once initialized
        self._initialize_hook = self.register_forward_pre_hook(  # type: ignore[attr-defined]
            _infer_parameters)

    def has_uninitialized_params(self) -> bool:
        return any(is_lazy(t) for t in (*self._parameters.values(), *self._buffers.values()))

    def initialize_parameters(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError(f"initialize_parameters is not implemented for "
                                  f"{type(self).__name__}")

    def _load_into(self, state_dict: dict[str, Any], prefix: str, *args: Any) -> None:
        for table in (self._parameters, self._buffers):
            for name, tensor in table.items():
                value = state_dict.get(prefix + name)
                if is_lazy(tensor) and isinstance(value, (Tensor, np.ndarray)) and \
                        not is_lazy(value):
                    with no_grad():
                        tensor.materialize(tuple(value.shape))  # type: ignore[union-attr]
        self._loaded_shapes()
        super()._load_into(state_dict, prefix, *args)  # type: ignore[misc]

    def _loaded_shapes(self) -> None:
        """Settings that follow from parameters ``load_state_dict`` materialized."""


def _infer_parameters(module: Any, args: tuple) -> None:
    module.initialize_parameters(*args)
    if module.has_uninitialized_params():
        raise RuntimeError(f"module {module._get_name()} has not been fully initialized")
    module._initialize_hook.remove()
    del module._initialize_hook
    if module.cls_to_become is not None:
        module.__class__ = module.cls_to_become


class LazyLinear(LazyModuleMixin, Linear):
    """A ``Linear`` whose ``in_features`` is the last dimension of its first input; its
    weight and bias are ``UninitializedParameter`` until then (an optimizer may hold them
    already: they stay the same objects). Then it is a ``Linear``, initialized as one."""

    cls_to_become = Linear

    def __init__(self, out_features: int, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        Module.__init__(self)
        check_device(device)
        self.in_features, self.out_features = 0, out_features
        self.weight = UninitializedParameter(dtype=dtype)
        if bias:
            self.bias = UninitializedParameter(dtype=dtype)
        else:
            self.register_parameter("bias", None)
        self._initialize_hook = self.register_forward_pre_hook(_infer_parameters)

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.in_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input: Tensor, *args: Any) -> None:
        if self.has_uninitialized_params():
            with no_grad():
                self.in_features = input.shape[-1]
                self.weight.materialize(  # type: ignore[attr-defined]
                    (self.out_features, self.in_features))
                if self.bias is not None:
                    self.bias.materialize((self.out_features,))  # type: ignore[attr-defined]
                self.reset_parameters()

    def _loaded_shapes(self) -> None:
        if not is_lazy(self.weight):
            self.in_features = self.weight._data.shape[1]
