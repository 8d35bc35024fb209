"""Lazy parameters and layers, as PyTorch's: ``UninitializedParameter`` has no shape until
``materialize(shape)`` makes it a ``Parameter`` (the same object), and ``LazyLinear`` takes
its ``in_features`` from its first input, then becomes a ``Linear``::

    layer = nn.LazyLinear(3)
    layer(tensorgrad.ones(2, 5))  # now Linear(in_features=5, out_features=3, bias=True)

The lazy convolutions take their ``in_channels`` so, and the lazy batch and instance norms
their ``num_features``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..devices import check_device
from ..grad_mode import no_grad
from ..tensor import Tensor
from .conv import Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from .layers import Linear, weight_dtype
from .module import Module, Parameter
from .normalization import (
    BatchNorm1d,
    BatchNorm2d,
    BatchNorm3d,
    InstanceNorm1d,
    InstanceNorm2d,
    InstanceNorm3d,
)

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


class _LazyConvNd(LazyModuleMixin):
    """What the lazy convolutions share, as PyTorch's: ``in_channels`` is the channels of
    the first input (dimension 1, or 0 if unbatched); until then the weight and bias are
    ``UninitializedParameter``. Then the module is a ``cls_to_become``, initialized as one."""

    n: int
    transposed: bool
    in_channels: int
    out_channels: int
    groups: int
    kernel_size: tuple[int, ...]
    weight: Any
    bias: Any

    def _uninitialized(self, out_channels: int, bias: bool, dtype: Any) -> None:
        """The uninitialized parameters in place of the empty ones __init__ made."""
        self.weight = UninitializedParameter(dtype=dtype)
        self.out_channels = out_channels
        if bias:
            self.bias = UninitializedParameter(dtype=dtype)

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.in_channels != 0:
            super().reset_parameters()  # type: ignore[misc]

    def initialize_parameters(self, input: Tensor, *args: Any) -> None:
        if not self.has_uninitialized_params():
            return
        n, ndim = self.n, input.ndim
        if ndim not in (n + 1, n + 2):
            raise RuntimeError(f"Expected {n + 1}D (unbatched) or {n + 2}D (batched) input to "
                               f"{type(self).__name__}, but got input of size: {input.shape}")
        with no_grad():
            self.in_channels = input.shape[1] if ndim == n + 2 else input.shape[0]
            if self.in_channels % self.groups:
                raise ValueError("in_channels must be divisible by groups")
            channels = (self.in_channels, self.out_channels // self.groups) if \
                self.transposed else (self.out_channels, self.in_channels // self.groups)
            self.weight.materialize((*channels, *self.kernel_size))
            if self.bias is not None:
                self.bias.materialize((self.out_channels,))
            self.reset_parameters()

    def _loaded_shapes(self) -> None:
        if not is_lazy(self.weight):
            shape = self.weight._data.shape
            self.in_channels = shape[0] if self.transposed else shape[1] * self.groups


class _LazyConv(_LazyConvNd):
    def __init__(self, out_channels: int, kernel_size: int | Sequence[int],
                 stride: int | Sequence[int] = 1, padding: int | Sequence[int] | str = 0,
                 dilation: int | Sequence[int] = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", device: Any = None, dtype: Any = None) -> None:
        # no channels yet, and no bias (an empty one would be made, then replaced)
        super().__init__(0, 0, kernel_size, stride, padding, dilation, groups, False,
                         padding_mode, device, dtype)
        self._uninitialized(out_channels, bias, dtype)


class _LazyConvTranspose(_LazyConvNd):
    def __init__(self, out_channels: int, kernel_size: int | Sequence[int],
                 stride: int | Sequence[int] = 1, padding: int | Sequence[int] = 0,
                 output_padding: int | Sequence[int] = 0, groups: int = 1, bias: bool = True,
                 dilation: int | Sequence[int] = 1, padding_mode: str = "zeros",
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__(0, 0, kernel_size, stride, padding, output_padding, groups, False,
                         dilation, padding_mode, device, dtype)
        self._uninitialized(out_channels, bias, dtype)


class LazyConv1d(_LazyConv, Conv1d):
    """A ``Conv1d`` whose ``in_channels`` is its first input's channels; then a
    ``Conv1d``::

        conv = nn.LazyConv1d(16, 3)
        conv(tensorgrad.randn(4, 8, 20))  # now Conv1d(8, 16, kernel_size=(3,), stride=(1,))
    """

    cls_to_become = Conv1d


class LazyConv2d(_LazyConv, Conv2d):
    """A ``Conv2d`` whose ``in_channels`` is its first input's channels; then a
    ``Conv2d``."""

    cls_to_become = Conv2d


class LazyConv3d(_LazyConv, Conv3d):
    """A ``Conv3d`` whose ``in_channels`` is its first input's channels; then a
    ``Conv3d``."""

    cls_to_become = Conv3d


class LazyConvTranspose1d(_LazyConvTranspose, ConvTranspose1d):
    """A ``ConvTranspose1d`` whose ``in_channels`` is its first input's channels; then a
    ``ConvTranspose1d``."""

    cls_to_become = ConvTranspose1d


class LazyConvTranspose2d(_LazyConvTranspose, ConvTranspose2d):
    """A ``ConvTranspose2d`` whose ``in_channels`` is its first input's channels; then a
    ``ConvTranspose2d``."""

    cls_to_become = ConvTranspose2d


class LazyConvTranspose3d(_LazyConvTranspose, ConvTranspose3d):
    """A ``ConvTranspose3d`` whose ``in_channels`` is its first input's channels; then a
    ``ConvTranspose3d``."""

    cls_to_become = ConvTranspose3d


class _LazyNormBase(LazyModuleMixin):
    """What the lazy batch and instance norms share, as PyTorch's: ``num_features`` is
    dimension 1 of the first input (of an unbatched instance norm's too, as PyTorch's);
    until then the weight, bias and running statistics are uninitialized. PyTorch's
    defaults: affine, with running statistics (the instance norms' too)."""

    num_features: int
    affine: bool
    track_running_stats: bool
    weight: Any
    bias: Any
    running_mean: Any
    running_var: Any

    def __init__(self, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, device: Any = None, dtype: Any = None, *,
                 bias: bool = True) -> None:
        # no features yet, nor parameters and statistics (empty ones would be replaced)
        super().__init__(0, eps, momentum, False, False, device, dtype, bias=False)
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = UninitializedParameter(dtype=dtype)
            if bias:
                self.bias = UninitializedParameter(dtype=dtype)
        if track_running_stats:
            self.running_mean = UninitializedBuffer(dtype=dtype)
            self.running_var = UninitializedBuffer(dtype=dtype)
            self.num_batches_tracked = Tensor(np.array(0, np.int64))

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.num_features != 0:
            super().reset_parameters()  # type: ignore[misc]

    def initialize_parameters(self, input: Tensor, *args: Any) -> None:
        if not self.has_uninitialized_params():
            return
        with no_grad():
            self.num_features = input.shape[1]
            for t in (self.weight, self.bias, self.running_mean, self.running_var):
                if is_lazy(t):
                    t.materialize((self.num_features,))
            self.reset_parameters()

    def _loaded_shapes(self) -> None:
        for t in (self.weight, self.running_mean):
            if t is not None and not is_lazy(t):
                self.num_features = t._data.shape[0]


class LazyBatchNorm1d(_LazyNormBase, BatchNorm1d):
    """A ``BatchNorm1d`` whose ``num_features`` is its first input's dimension 1; then a
    ``BatchNorm1d``::

        bn = nn.LazyBatchNorm1d()
        bn(tensorgrad.randn(8, 16))  # now BatchNorm1d(16, ...)
    """

    cls_to_become = BatchNorm1d


class LazyBatchNorm2d(_LazyNormBase, BatchNorm2d):
    """A ``BatchNorm2d`` whose ``num_features`` is its first input's dimension 1."""

    cls_to_become = BatchNorm2d


class LazyBatchNorm3d(_LazyNormBase, BatchNorm3d):
    """A ``BatchNorm3d`` whose ``num_features`` is its first input's dimension 1."""

    cls_to_become = BatchNorm3d


class LazyInstanceNorm1d(_LazyNormBase, InstanceNorm1d):
    """An ``InstanceNorm1d`` whose ``num_features`` is its first input's dimension 1."""

    cls_to_become = InstanceNorm1d


class LazyInstanceNorm2d(_LazyNormBase, InstanceNorm2d):
    """An ``InstanceNorm2d`` whose ``num_features`` is its first input's dimension 1."""

    cls_to_become = InstanceNorm2d


class LazyInstanceNorm3d(_LazyNormBase, InstanceNorm3d):
    """An ``InstanceNorm3d`` whose ``num_features`` is its first input's dimension 1."""

    cls_to_become = InstanceNorm3d
