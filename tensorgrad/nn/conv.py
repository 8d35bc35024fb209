"""torch.nn's convolution, pooling and batch-norm layers, each calling one op of
``tensorgrad/conv.py``, with PyTorch's arguments, parameters, buffers and names.

Weights start as PyTorch's do, drawn from tensorgrad's one generator (``manual_seed``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import conv as C
from ..devices import check_device
from ..tensor import Tensor, note_in_place_write
from . import init
from .layers import reset_weight_and_bias, weight_dtype
from .module import Module, Parameter

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _ints(value: int | Sequence[int], n: int) -> tuple[int, ...]:
    return (value,) * n if isinstance(value, int) else tuple(value)


class _ConvNd(Module):
    """What ``Conv1d`` and ``Conv2d`` share; ``n`` spatial dimensions."""

    n = 0

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | Sequence[int],
                 stride: int | Sequence[int] = 1, padding: int | Sequence[int] | str = 0,
                 dilation: int | Sequence[int] = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        check_device(device)
        n = self.n
        if groups <= 0:
            raise ValueError("groups must be a positive integer")
        if in_channels % groups:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups:
            raise ValueError("out_channels must be divisible by groups")
        self.stride = _ints(stride, n)
        if isinstance(padding, str):
            if padding not in ("valid", "same"):
                raise ValueError(f"Invalid padding string {padding!r}, should be one of "
                                 "{'same', 'valid'}")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
            self.padding: tuple[int, ...] | str = padding
        else:
            self.padding = _ints(padding, n)
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"padding_mode must be one of {set(_PADDING_MODES)}, but got "
                             f"padding_mode={padding_mode!r}")
        if padding_mode != "zeros":
            raise NotImplementedError(f"{type(self).__name__}: padding_mode={padding_mode!r} is "
                                      "not supported (only 'zeros')")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size, self.dilation = _ints(kernel_size, n), _ints(dilation, n)
        self.padding_mode, self.transposed, self.output_padding = padding_mode, False, (0,) * n
        dtype = weight_dtype(dtype)
        self.weight = Parameter(np.empty((out_channels, in_channels // groups,
                                          *self.kernel_size), dtype))
        if bias:
            self.bias = Parameter(np.empty(out_channels, dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        fan_in = self.weight.data.shape[1] * math.prod(self.kernel_size)
        reset_weight_and_bias(self.weight, self.bias, fan_in)

    def extra_repr(self) -> str:
        n = self.n
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        if self.padding != (0,) * n:
            text += f", padding={self.padding}"
        if self.dilation != (1,) * n:
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        return text


class Conv1d(_ConvNd):
    """A 1-d convolution: (N, in_channels, L) (or (in_channels, L)) to
    (N, out_channels, L'), with PyTorch's arguments (zero padding only); weight
    (out_channels, in_channels / groups, kernel_size) and bias (out_channels,)::

        conv = nn.Conv1d(8, 16, kernel_size=3, padding="same")
        y = conv(tensorgrad.randn(4, 8, 20))  # (4, 16, 20)
    """

    n = 1

    def forward(self, input: Tensor) -> Tensor:
        return C.conv1d(input, self.weight, self.bias, self.stride, self.padding,
                        self.dilation, self.groups)


class Conv2d(_ConvNd):
    """A 2-d convolution: (N, in_channels, H, W) (or (in_channels, H, W)) to
    (N, out_channels, H', W'), with PyTorch's arguments (zero padding only); weight
    (out_channels, in_channels / groups, kH, kW) and bias (out_channels,)::

        conv = nn.Conv2d(3, 8, kernel_size=3, stride=2, padding=1)
        y = conv(tensorgrad.randn(4, 3, 32, 32))  # (4, 8, 16, 16)
    """

    n = 2

    def forward(self, input: Tensor) -> Tensor:
        return C.conv2d(input, self.weight, self.bias, self.stride, self.padding,
                        self.dilation, self.groups)


class _MaxPoolNd(Module):
    def __init__(self, kernel_size: int | Sequence[int],
                 stride: int | Sequence[int] | None = None, padding: int | Sequence[int] = 0,
                 dilation: int | Sequence[int] = 1, return_indices: bool = False,
                 ceil_mode: bool = False) -> None:
        super().__init__()
        C._refuse(type(self).__name__, ceil_mode, return_indices)
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool1d(_MaxPoolNd):
    """The largest value of each window along (N, C, L) (or (C, L)), as ``F.max_pool1d``::

        nn.MaxPool1d(2)  # (N, C, L) -> (N, C, L // 2)
    """

    def forward(self, input: Tensor) -> Tensor:
        return C.max_pool1d(input, self.kernel_size, self.stride, self.padding, self.dilation)


class MaxPool2d(_MaxPoolNd):
    """The largest value of each window over (N, C, H, W) (or (C, H, W)), as
    ``F.max_pool2d``::

        nn.MaxPool2d(2)  # (N, C, H, W) -> (N, C, H // 2, W // 2)
    """

    def forward(self, input: Tensor) -> Tensor:
        return C.max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation)


class AvgPool1d(Module):
    """The mean of each window along (N, C, L) (or (C, L)), as ``F.avg_pool1d``::

        nn.AvgPool1d(2)  # (N, C, L) -> (N, C, L // 2)
    """

    def __init__(self, kernel_size: int | Sequence[int],
                 stride: int | Sequence[int] | None = None, padding: int | Sequence[int] = 0,
                 ceil_mode: bool = False, count_include_pad: bool = True) -> None:
        super().__init__()
        C._refuse("AvgPool1d", ceil_mode)
        self.kernel_size = _ints(kernel_size, 1)
        self.stride = self.kernel_size if stride is None else _ints(stride, 1)
        self.padding = _ints(padding, 1)
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad

    def forward(self, input: Tensor) -> Tensor:
        return C.avg_pool1d(input, self.kernel_size, self.stride, self.padding,
                            count_include_pad=self.count_include_pad)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(Module):
    """The mean of each window over (N, C, H, W) (or (C, H, W)), as ``F.avg_pool2d``::

        nn.AvgPool2d(2)  # (N, C, H, W) -> (N, C, H // 2, W // 2)
    """

    def __init__(self, kernel_size: int | Sequence[int],
                 stride: int | Sequence[int] | None = None, padding: int | Sequence[int] = 0,
                 ceil_mode: bool = False, count_include_pad: bool = True,
                 divisor_override: int | None = None) -> None:
        super().__init__()
        C._refuse("AvgPool2d", ceil_mode)
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, input: Tensor) -> Tensor:
        return C.avg_pool2d(input, self.kernel_size, self.stride, self.padding,
                            count_include_pad=self.count_include_pad,
                            divisor_override=self.divisor_override)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """The mean over equal tiles of (N, C, H, W) (or (C, H, W)) to ``output_size`` (None
    keeps a size); only sizes that divide the input's, as ``F.adaptive_avg_pool2d``::

        nn.AdaptiveAvgPool2d(1)  # (N, C, H, W) -> (N, C, 1, 1)
    """

    def __init__(self, output_size: int | None | Sequence[int | None]) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, input: Tensor) -> Tensor:
        return C.adaptive_avg_pool2d(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class _BatchNorm(Module):
    """What ``BatchNorm1d`` and ``BatchNorm2d`` share; ``ndims`` the input ranks taken."""

    ndims: tuple[int, ...] = ()

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, device: Any = None,
                 dtype: Any = None, *, bias: bool = True) -> None:
        super().__init__()
        check_device(device)
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        dtype = weight_dtype(dtype)
        if affine:
            self.weight = Parameter(np.ones(num_features, dtype))
            if bias:
                self.bias = Parameter(np.zeros(num_features, dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", Tensor(np.zeros(num_features, dtype)))
            self.register_buffer("running_var", Tensor(np.ones(num_features, dtype)))
            self.register_buffer("num_batches_tracked", Tensor(np.array(0, np.int64)))
        else:
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(name, None)

    def reset_running_stats(self) -> None:
        """Running mean 0, variance 1, no batches counted."""
        if self.track_running_stats:
            for buffer, value in ((self.running_mean, 0), (self.running_var, 1),
                                  (self.num_batches_tracked, 0)):
                buffer.data[...] = value
                note_in_place_write(buffer.data)

    def reset_parameters(self) -> None:
        """The running statistics reset, and weight 1 and bias 0."""
        self.reset_running_stats()
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, input: Tensor) -> Tensor:
        if input.data.ndim not in self.ndims:
            raise ValueError(f"expected {' or '.join(f'{d}D' for d in self.ndims)} input "
                             f"(got {input.data.ndim}D input)")
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            count = self.num_batches_tracked.data
            count += 1  # in place, as PyTorch's buffer
            note_in_place_write(count)
            if self.momentum is None:  # a cumulative average of every batch so far
                factor = 1.0 / float(count)
        # a module that tracks no statistics uses the batch's in evaluation mode too
        batch_stats = self.training or (self.running_mean is None and self.running_var is None)
        keep = not self.training or self.track_running_stats
        return C.batch_norm(input, self.running_mean if keep else None,
                            self.running_var if keep else None, self.weight, self.bias,
                            batch_stats, factor, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Each feature of (N, C) or (N, C, L) normalized over the batch (and L) in training,
    by running statistics (kept as buffers) in evaluation, then * weight + bias::

        bn = nn.BatchNorm1d(16)
        y = bn(tensorgrad.randn(8, 16))  # bn.running_mean moved towards the batch's mean
    """

    ndims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Each channel of (N, C, H, W) normalized over N, H and W, as ``BatchNorm1d``::

        bn = nn.BatchNorm2d(8)
        y = bn(tensorgrad.randn(4, 8, 5, 5))
    """

    ndims = (4,)
