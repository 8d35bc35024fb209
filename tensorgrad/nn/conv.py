"""torch.nn's convolution, transposed convolution, upsampling, pooling (adaptive too) and
pixel shuffle layers, each calling one op of ``tensorgrad/conv.py``, with PyTorch's
arguments, parameters and names (the batch-norm layers are in ``normalization.py``).

Weights start as PyTorch's do, drawn from tensorgrad's one generator (``manual_seed``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import conv as C
from .. import functional as F
from ..devices import check_device
from ..tensor import Tensor
from .layers import reset_weight_and_bias, weight_dtype
from .module import Module, Parameter

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _ints(value: int | Sequence[int], n: int) -> tuple[int, ...]:
    return (value,) * n if isinstance(value, int) else tuple(value)


class _ConvNd(Module):
    """What ``Conv1d``, ``Conv2d``, ``Conv3d`` and the transposed ones share; ``n`` spatial
    dimensions; a ``transposed`` one's weight is (in_channels, out_channels / groups,
    *kernel_size)."""

    n = 0
    transposed = False

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
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size, self.dilation = _ints(kernel_size, n), _ints(dilation, n)
        # F.pad's widths, last dimension first, for a padding_mode but 'zeros' (PyTorch's name)
        self._reversed_padding_repeated_twice = [
            width for left, right in reversed(self._padding_widths()) for width in (left, right)]
        self.padding_mode, self.output_padding = padding_mode, (0,) * n
        dtype = weight_dtype(dtype)
        channels = (in_channels, out_channels // groups) if self.transposed else \
            (out_channels, in_channels // groups)
        self.weight = Parameter(np.empty((*channels, *self.kernel_size), dtype))
        if bias:
            self.bias = Parameter(np.empty(out_channels, dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def _padding_widths(self) -> list[tuple[int, int]]:
        """Each spatial dimension's padding before and after: 'same' puts the odd one after."""
        if self.padding == "valid":
            return [(0, 0)] * self.n
        if self.padding == "same":
            totals = [d * (k - 1) for d, k in zip(self.dilation, self.kernel_size)]
            return [(total // 2, total - total // 2) for total in totals]
        assert isinstance(self.padding, tuple)
        return [(p, p) for p in self.padding]

    def _padded(self, input: Tensor) -> tuple[Tensor, tuple[int, ...] | str]:
        """The input and the padding for the functional form: padded here with F.pad's mode
        for a ``padding_mode`` but 'zeros', as PyTorch's."""
        if self.padding_mode == "zeros":
            return input, self.padding
        padded = F.pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode)
        return padded, (0,) * self.n

    def reset_parameters(self) -> None:
        fan_in = self.weight._data.shape[1] * math.prod(self.kernel_size)
        reset_weight_and_bias(self.weight, self.bias, fan_in)

    def extra_repr(self) -> str:
        n = self.n
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        if self.padding != (0,) * n:
            text += f", padding={self.padding}"
        if self.dilation != (1,) * n:
            text += f", dilation={self.dilation}"
        if self.output_padding != (0,) * n:
            text += f", output_padding={self.output_padding}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        if self.padding_mode != "zeros":
            text += f", padding_mode={self.padding_mode}"
        return text


class Conv1d(_ConvNd):
    """A 1-d convolution: (N, in_channels, L) (or (in_channels, L)) to
    (N, out_channels, L'), with PyTorch's arguments (``padding_mode`` too); weight
    (out_channels, in_channels / groups, kernel_size) and bias (out_channels,)::

        conv = nn.Conv1d(8, 16, kernel_size=3, padding="same")
        y = conv(tensorgrad.randn(4, 8, 20))  # (4, 16, 20)
    """

    n = 1

    def forward(self, input: Tensor) -> Tensor:
        x, padding = self._padded(input)
        return C.conv1d(x, self.weight, self.bias, self.stride, padding, self.dilation,
                         self.groups)


class Conv2d(_ConvNd):
    """A 2-d convolution: (N, in_channels, H, W) (or (in_channels, H, W)) to
    (N, out_channels, H', W'), with PyTorch's arguments (``padding_mode`` too); weight
    (out_channels, in_channels / groups, kH, kW) and bias (out_channels,)::

        conv = nn.Conv2d(3, 8, kernel_size=3, stride=2, padding=1)
        y = conv(tensorgrad.randn(4, 3, 32, 32))  # (4, 8, 16, 16)
    """

    n = 2

    def forward(self, input: Tensor) -> Tensor:
        x, padding = self._padded(input)
        return C.conv2d(x, self.weight, self.bias, self.stride, padding, self.dilation,
                         self.groups)


class Conv3d(_ConvNd):
    """A 3-d convolution: (N, in_channels, D, H, W) (or (in_channels, D, H, W)) to
    (N, out_channels, D', H', W'), with PyTorch's arguments (``padding_mode`` too); weight
    (out_channels, in_channels / groups, kD, kH, kW) and bias (out_channels,)::

        conv = nn.Conv3d(1, 4, kernel_size=3, padding=1)
        y = conv(tensorgrad.randn(2, 1, 8, 8, 8))  # (2, 4, 8, 8, 8)
    """

    n = 3

    def forward(self, input: Tensor) -> Tensor:
        x, padding = self._padded(input)
        return C.conv3d(x, self.weight, self.bias, self.stride, padding, self.dilation,
                         self.groups)


class _ConvTransposeNd(_ConvNd):
    """What ``ConvTranspose1d``, ``ConvTranspose2d`` and ``ConvTranspose3d`` share."""

    transposed = True

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | Sequence[int],
                 stride: int | Sequence[int] = 1, padding: int | Sequence[int] = 0,
                 output_padding: int | Sequence[int] = 0, groups: int = 1, bias: bool = True,
                 dilation: int | Sequence[int] = 1, padding_mode: str = "zeros",
                 device: Any = None, dtype: Any = None) -> None:
        name = type(self).__name__
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {name}')
        if isinstance(padding, str):
            raise ValueError(f"{name}: padding={padding!r}; it needs a number or one per "
                             "dimension (a transposed convolution has no 'same' or 'valid')")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, device, dtype)
        self.output_padding = _ints(output_padding, self.n)

    def _settings(self, input: Tensor, output_size: Sequence[int] | None) -> dict[str, Any]:
        """The functional form's arguments, its output padding the one that makes the output
        ``output_size`` (its spatial sizes, or with the batch and channels) where given."""
        assert isinstance(self.padding, tuple)  # (strings are refused in __init__)
        return dict(stride=self.stride, padding=self.padding, groups=self.groups,
                    dilation=self.dilation,
                    output_padding=self._output_padding(input, output_size, self.padding))

    def _output_padding(self, input: Tensor, output_size: Sequence[int] | None,
                        padding: tuple[int, ...]) -> tuple[int, ...]:
        if output_size is None:
            return self.output_padding
        n, ndim = self.n, input._data.ndim
        leading = 2 if ndim == n + 2 else 1
        sizes = output_size
        if len(sizes) == leading + n:
            sizes = sizes[leading:]
        if len(sizes) != n:
            raise ValueError(f"ConvTranspose{n}D: for {ndim}D input, output_size must have {n} "
                             f"or {leading + n} elements (got {len(sizes)})")
        spatial = input._data.shape[-n:]
        smallest = [(size - 1) * s - 2 * p + d * (k - 1) + 1 for size, s, p, d, k in
                    zip(spatial, self.stride, padding, self.dilation, self.kernel_size)]
        largest = [low + s - 1 for low, s in zip(smallest, self.stride)]
        if any(not low <= want <= high for want, low, high in zip(sizes, smallest, largest)):
            raise ValueError(f"requested an output size of {sizes}, but valid sizes range from "
                             f"{smallest} to {largest} (for an input of {spatial})")
        return tuple(want - low for want, low in zip(sizes, smallest))


class ConvTranspose1d(_ConvTransposeNd):
    """A 1-d transposed convolution (the gradient of a convolution's input): (N,
    in_channels, L) (or (in_channels, L)) to (N, out_channels, L'), L' = (L - 1) * stride -
    2 * padding + dilation * (kernel_size - 1) + output_padding + 1, with PyTorch's
    arguments; weight (in_channels, out_channels / groups, kernel_size) and bias
    (out_channels,). ``forward(input, output_size)`` picks the output padding that gives
    that size::

        up = nn.ConvTranspose1d(16, 8, kernel_size=4, stride=2, padding=1)
        y = up(tensorgrad.randn(4, 16, 10))  # (4, 8, 20)
    """

    n = 1

    def forward(self, input: Tensor, output_size: Sequence[int] | None = None) -> Tensor:
        return C.conv_transpose1d(input, self.weight, self.bias,
                                  **self._settings(input, output_size))


class ConvTranspose2d(_ConvTransposeNd):
    """A 2-d transposed convolution: (N, in_channels, H, W) (or (in_channels, H, W)) to
    (N, out_channels, H', W'), each size as ``ConvTranspose1d``'s; weight (in_channels,
    out_channels / groups, kH, kW) and bias (out_channels,)::

        up = nn.ConvTranspose2d(16, 8, kernel_size=3, stride=2, padding=1)
        y = up(tensorgrad.randn(4, 16, 5, 5), output_size=(10, 10))  # (4, 8, 10, 10)
    """

    n = 2

    def forward(self, input: Tensor, output_size: Sequence[int] | None = None) -> Tensor:
        return C.conv_transpose2d(input, self.weight, self.bias,
                                  **self._settings(input, output_size))


class ConvTranspose3d(_ConvTransposeNd):
    """A 3-d transposed convolution: (N, in_channels, D, H, W) (or (in_channels, D, H, W))
    to (N, out_channels, D', H', W'), each size as ``ConvTranspose1d``'s; weight
    (in_channels, out_channels / groups, kD, kH, kW) and bias (out_channels,)::

        up = nn.ConvTranspose3d(8, 4, kernel_size=2, stride=2)
        y = up(tensorgrad.randn(2, 8, 4, 4, 4))  # (2, 4, 8, 8, 8)
    """

    n = 3

    def forward(self, input: Tensor, output_size: Sequence[int] | None = None) -> Tensor:
        return C.conv_transpose3d(input, self.weight, self.bias,
                                  **self._settings(input, output_size))


class Upsample(Module):
    """Resample (N, C, L), (N, C, H, W) or (N, C, D, H, W) inputs to ``size`` or by
    ``scale_factor``, as ``F.interpolate`` (modes ``'nearest'``, ``'nearest-exact'``,
    ``'linear'``, ``'bilinear'``, ``'trilinear'``)::

        up = nn.Upsample(scale_factor=2, mode="bilinear")
        y = up(tensorgrad.randn(4, 3, 8, 8))  # (4, 3, 16, 16)
    """

    def __init__(self, size: int | Sequence[int] | None = None,
                 scale_factor: float | Sequence[float] | None = None, mode: str = "nearest",
                 align_corners: bool | None = None,
                 recompute_scale_factor: bool | None = None) -> None:
        super().__init__()
        self.name = type(self).__name__
        self.size = size
        # floats, as PyTorch keeps them (and prints them)
        self.scale_factor: float | tuple[float, ...] | None = \
            tuple(float(f) for f in scale_factor) if isinstance(scale_factor, Sequence) \
            else float(scale_factor) if scale_factor else None
        self.mode, self.align_corners = mode, align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input: Tensor) -> Tensor:
        return C.interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                             recompute_scale_factor=self.recompute_scale_factor)

    def extra_repr(self) -> str:
        shown = f"scale_factor={self.scale_factor!r}" if self.scale_factor is not None else \
            f"size={self.size!r}"
        return f"{shown}, mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """``Upsample`` of (N, C, H, W) inputs with mode ``'nearest'``, PyTorch's older name."""

    def __init__(self, size: int | Sequence[int] | None = None,
                 scale_factor: float | Sequence[float] | None = None) -> None:
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """``Upsample`` of (N, C, H, W) inputs with mode ``'bilinear'`` and, as PyTorch's,
    ``align_corners=True`` (the corners' values kept, unlike ``Upsample``'s default)."""

    def __init__(self, size: int | Sequence[int] | None = None,
                 scale_factor: float | Sequence[float] | None = None) -> None:
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)


class ChannelShuffle(Module):
    """Shuffle the channels of a (N, C, *) input in ``groups``, as ``F.channel_shuffle``
    (ShuffleNet's)."""

    def __init__(self, groups: int) -> None:
        super().__init__()
        self.groups = groups

    def forward(self, input: Tensor) -> Tensor:
        return C.channel_shuffle(input, self.groups)

    def extra_repr(self) -> str:
        return f"groups={self.groups}"


class Unfold(Module):
    """The sliding windows of (N, C, H, W) inputs as columns, as ``F.unfold``."""

    def __init__(self, kernel_size: int | Sequence[int], dilation: int | Sequence[int] = 1,
                 padding: int | Sequence[int] = 0, stride: int | Sequence[int] = 1) -> None:
        super().__init__()
        self.kernel_size, self.dilation = kernel_size, dilation
        self.padding, self.stride = padding, stride

    def forward(self, input: Tensor) -> Tensor:
        return C.unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")


class Fold(Module):
    """Columns of windows summed back into (N, C, *output_size), as ``F.fold``."""

    def __init__(self, output_size: int | Sequence[int], kernel_size: int | Sequence[int],
                 dilation: int | Sequence[int] = 1, padding: int | Sequence[int] = 0,
                 stride: int | Sequence[int] = 1) -> None:
        super().__init__()
        self.output_size, self.kernel_size, self.dilation = output_size, kernel_size, dilation
        self.padding, self.stride = padding, stride

    def forward(self, input: Tensor) -> Tensor:
        return C.fold(input, self.output_size, self.kernel_size, self.dilation, self.padding,
                      self.stride)

    def extra_repr(self) -> str:
        return (f"output_size={self.output_size}, kernel_size={self.kernel_size}, "
                f"dilation={self.dilation}, padding={self.padding}, stride={self.stride}")


class _MaxPoolNd(Module):
    def __init__(self, kernel_size: int | Sequence[int],
                 stride: int | Sequence[int] | None = None, padding: int | Sequence[int] = 0,
                 dilation: int | Sequence[int] = 1, return_indices: bool = False,
                 ceil_mode: bool = False) -> None:
        super().__init__()
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

    def forward(self, input: Tensor) -> Any:
        return C.max_pool1d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            self.ceil_mode, self.return_indices)


class MaxPool2d(_MaxPoolNd):
    """The largest value of each window over (N, C, H, W) (or (C, H, W)), as
    ``F.max_pool2d``::

        nn.MaxPool2d(2)  # (N, C, H, W) -> (N, C, H // 2, W // 2)
    """

    def forward(self, input: Tensor) -> Any:
        return C.max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            self.ceil_mode, self.return_indices)


class MaxPool3d(_MaxPoolNd):
    """The largest value of each window over (N, C, D, H, W) (or (C, D, H, W)), as
    ``F.max_pool3d``::

        nn.MaxPool3d(2)  # (N, C, D, H, W) -> (N, C, D // 2, H // 2, W // 2)
    """

    def forward(self, input: Tensor) -> Any:
        return C.max_pool3d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            self.ceil_mode, self.return_indices)


class AvgPool1d(Module):
    """The mean of each window along (N, C, L) (or (C, L)), as ``F.avg_pool1d``::

        nn.AvgPool1d(2)  # (N, C, L) -> (N, C, L // 2)
    """

    def __init__(self, kernel_size: int | Sequence[int],
                 stride: int | Sequence[int] | None = None, padding: int | Sequence[int] = 0,
                 ceil_mode: bool = False, count_include_pad: bool = True) -> None:
        super().__init__()
        self.kernel_size = _ints(kernel_size, 1)
        self.stride = self.kernel_size if stride is None else _ints(stride, 1)
        self.padding = _ints(padding, 1)
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad

    def forward(self, input: Tensor) -> Tensor:
        return C.avg_pool1d(input, self.kernel_size, self.stride, self.padding,
                            self.ceil_mode, self.count_include_pad)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(Module):
    """The mean of each window over (N, C, H, W) (or (C, H, W)), as ``F.avg_pool2d``
    (``AvgPool3d``'s constructor too)::

        nn.AvgPool2d(2)  # (N, C, H, W) -> (N, C, H // 2, W // 2)
    """

    def __init__(self, kernel_size: int | Sequence[int],
                 stride: int | Sequence[int] | None = None, padding: int | Sequence[int] = 0,
                 ceil_mode: bool = False, count_include_pad: bool = True,
                 divisor_override: int | None = None) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, input: Tensor) -> Tensor:
        return C.avg_pool2d(input, self.kernel_size, self.stride, self.padding,
                            self.ceil_mode, self.count_include_pad,
                            divisor_override=self.divisor_override)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool3d(AvgPool2d):
    """The mean of each window over (N, C, D, H, W) (or (C, D, H, W)), as
    ``F.avg_pool3d``::

        nn.AvgPool3d(2)  # (N, C, D, H, W) -> (N, C, D // 2, H // 2, W // 2)
    """

    def forward(self, input: Tensor) -> Tensor:
        return C.avg_pool3d(input, self.kernel_size, self.stride, self.padding,
                            self.ceil_mode, self.count_include_pad,
                            divisor_override=self.divisor_override)


class _AdaptivePoolNd(Module):
    def __init__(self, output_size: int | None | Sequence[int | None]) -> None:
        super().__init__()
        self.output_size = output_size

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(_AdaptivePoolNd):
    """The mean of (N, C, L) (or (C, L)) over ``output_size`` tiles (overlapping where the
    size does not divide L), as ``F.adaptive_avg_pool1d``::

        nn.AdaptiveAvgPool1d(5)  # (N, C, L) -> (N, C, 5)
    """

    def forward(self, input: Tensor) -> Tensor:
        return C.adaptive_avg_pool1d(input, self.output_size)  # type: ignore[arg-type]


class AdaptiveAvgPool2d(_AdaptivePoolNd):
    """The mean over tiles of (N, C, H, W) (or (C, H, W)) to ``output_size`` (None keeps a
    size), as ``F.adaptive_avg_pool2d``::

        nn.AdaptiveAvgPool2d(1)  # (N, C, H, W) -> (N, C, 1, 1)
    """

    def forward(self, input: Tensor) -> Tensor:
        return C.adaptive_avg_pool2d(input, self.output_size)


class AdaptiveAvgPool3d(_AdaptivePoolNd):
    """The mean over tiles of (N, C, D, H, W) (or (C, D, H, W)) to ``output_size`` (None
    keeps a size), as ``F.adaptive_avg_pool3d``::

        nn.AdaptiveAvgPool3d(1)  # (N, C, D, H, W) -> (N, C, 1, 1, 1)
    """

    def forward(self, input: Tensor) -> Tensor:
        return C.adaptive_avg_pool3d(input, self.output_size)


class _AdaptiveMaxPoolNd(_AdaptivePoolNd):
    def __init__(self, output_size: int | None | Sequence[int | None],
                 return_indices: bool = False) -> None:
        super().__init__(output_size)
        self.return_indices = return_indices


class AdaptiveMaxPool1d(_AdaptiveMaxPoolNd):
    """The largest entry of each of ``output_size`` tiles of (N, C, L) (or (C, L)), and
    with ``return_indices`` where it is, as ``F.adaptive_max_pool1d``::

        nn.AdaptiveMaxPool1d(5)  # (N, C, L) -> (N, C, 5)
    """

    def forward(self, input: Tensor) -> Any:
        return C.adaptive_max_pool1d(input, self.output_size,  # type: ignore[arg-type]
                                     self.return_indices)


class AdaptiveMaxPool2d(_AdaptiveMaxPoolNd):
    """The largest entry of each tile of (N, C, H, W) (or (C, H, W)) to ``output_size``
    (None keeps a size), as ``F.adaptive_max_pool2d``::

        nn.AdaptiveMaxPool2d((4, None))  # (N, C, H, W) -> (N, C, 4, W)
    """

    def forward(self, input: Tensor) -> Any:
        return C.adaptive_max_pool2d(input, self.output_size, self.return_indices)


class AdaptiveMaxPool3d(_AdaptiveMaxPoolNd):
    """The largest entry of each tile of (N, C, D, H, W) (or (C, D, H, W)) to
    ``output_size`` (None keeps a size), as ``F.adaptive_max_pool3d``::

        nn.AdaptiveMaxPool3d((1, 4, 4))  # (N, C, D, H, W) -> (N, C, 1, 4, 4)
    """

    def forward(self, input: Tensor) -> Any:
        return C.adaptive_max_pool3d(input, self.output_size, self.return_indices)


class PixelShuffle(Module):
    """(*, C * r * r, H, W) to (*, C, H * r, W * r), r = ``upscale_factor``, as
    ``F.pixel_shuffle``::

        nn.PixelShuffle(2)  # (N, 16, 8, 8) -> (N, 4, 16, 16)
    """

    def __init__(self, upscale_factor: int) -> None:
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, input: Tensor) -> Tensor:
        return C.pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self) -> str:
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """(*, C, H * r, W * r) to (*, C * r * r, H, W), r = ``downscale_factor``, as
    ``F.pixel_unshuffle``::

        nn.PixelUnshuffle(2)  # (N, 4, 16, 16) -> (N, 16, 8, 8)
    """

    def __init__(self, downscale_factor: int) -> None:
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, input: Tensor) -> Tensor:
        return C.pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self) -> str:
        return f"downscale_factor={self.downscale_factor}"
