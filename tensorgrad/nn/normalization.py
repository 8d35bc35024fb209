"""torch.nn's normalization layers: batch, group and instance norm, each calling one op
(``tensorgrad/conv.py``'s ``batch_norm``, ``tensorgrad/normalization.py``'s others), with
PyTorch's arguments, parameters, buffers and names."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .. import conv as C
from .. import normalization as N
from ..devices import check_device
from ..tensor import Tensor, note_in_place_write
from . import init
from .layers import weight_dtype
from .module import Module, Parameter


def _affine(module: Module, count: int, affine: bool, bias: bool, dtype: np.dtype) -> None:
    """With ``affine``, a weight of ones and (with ``bias``) a bias of zeros, ``count`` each;
    else None in their places, as PyTorch registers them."""
    module.register_parameter("weight", Parameter(np.ones(count, dtype)) if affine else None)
    module.register_parameter("bias", Parameter(np.zeros(count, dtype)) if affine and bias
                              else None)


class GroupNorm(Module):
    """The channels of (N, C, *) split into ``num_groups`` groups, each group of each sample
    normalized to mean 0 and variance 1, then * weight (ones at first) + bias (zeros), each
    (C,), as ``F.group_norm``::

        norm = nn.GroupNorm(2, 6)
        y = norm(tensorgrad.randn(4, 6, 8, 8))  # channels 0-2 and 3-5 of each image apart
    """

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5,
                 affine: bool = True, device: Any = None, dtype: Any = None, *,
                 bias: bool = True) -> None:
        super().__init__()
        check_device(device)
        if num_channels % num_groups != 0:
            raise ValueError(f"num_channels ({num_channels}) must be divisible by num_groups "
                             f"({num_groups})")
        self.num_groups, self.num_channels = num_groups, num_channels
        self.eps, self.affine = eps, affine
        _affine(self, num_channels, affine, bias, weight_dtype(dtype))

    def reset_parameters(self) -> None:
        """Weight 1 and bias 0."""
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, input: Tensor) -> Tensor:
        return N.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, "
                f"affine={self.affine}, bias={self.bias is not None}")


class _NormBase(Module):
    """What batch and instance norm share, as PyTorch's ``_NormBase``: the constructor (a
    weight and bias per feature with ``affine``, running statistics as buffers with
    ``track_running_stats``; instance norm counts no batches, but keeps the count for
    PyTorch's state dicts) and the resets."""

    def __init__(self, num_features: int, eps: float, momentum: float | None, affine: bool,
                 track_running_stats: bool, device: Any, dtype: Any, bias: bool) -> None:
        super().__init__()
        check_device(device)
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        dtype = weight_dtype(dtype)
        _affine(self, num_features, affine, bias, dtype)
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
                buffer._data[...] = value
                note_in_place_write(buffer._data)

    def reset_parameters(self) -> None:
        """The running statistics reset, and weight 1 and bias 0."""
        self.reset_running_stats()
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)


class _InstanceNorm(_NormBase):
    """What ``InstanceNorm1d`` and ``InstanceNorm2d`` share; ``spatial`` their inputs'
    spatial dimensions."""

    spatial = 0

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = False, track_running_stats: bool = False, device: Any = None,
                 dtype: Any = None, *, bias: bool = True) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device,
                         dtype, bias)

    def forward(self, input: Tensor) -> Tensor:
        ndim, unbatched = input._data.ndim, self.spatial + 1
        if ndim not in (unbatched, unbatched + 1):
            raise ValueError(f"expected {unbatched}D or {unbatched + 1}D input (got {ndim}D "
                             "input)")
        feature_dim = ndim - unbatched
        size = input._data.shape[feature_dim]
        if size != self.num_features:
            if self.affine:
                raise ValueError(f"expected input's size at dim={feature_dim} to match "
                                 f"num_features ({self.num_features}), but got: {size}.")
            warnings.warn(f"input's size at dim={feature_dim} does not match num_features. You "
                          "can silence this warning by not passing in num_features, which is "
                          "not used because affine=False", stacklevel=2)
        x = input.unsqueeze(0) if ndim == unbatched else input
        y = N.instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            self.training or not self.track_running_stats,
                            0.0 if self.momentum is None else self.momentum, self.eps)
        return y.squeeze(0) if ndim == unbatched else y

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


class InstanceNorm1d(_InstanceNorm):
    """Each channel of each sample of (N, C, L) (or unbatched (C, L)) normalized over L, as
    ``F.instance_norm``; with ``affine`` then * weight + bias, with ``track_running_stats``
    running statistics kept (as buffers) in training and used in evaluation::

        norm = nn.InstanceNorm1d(8)
        y = norm(tensorgrad.randn(4, 8, 20))  # each of the 4 * 8 rows to mean 0, variance 1
    """

    spatial = 1


class InstanceNorm2d(_InstanceNorm):
    """Each channel of each sample of (N, C, H, W) (or unbatched (C, H, W)) normalized over
    H and W, as ``InstanceNorm1d``::

        norm = nn.InstanceNorm2d(3, affine=True)
        y = norm(tensorgrad.randn(4, 3, 32, 32))
    """

    spatial = 2


class InstanceNorm3d(_InstanceNorm):
    """Each channel of each sample of (N, C, D, H, W) (or unbatched (C, D, H, W))
    normalized over D, H and W, as ``InstanceNorm1d``::

        norm = nn.InstanceNorm3d(4)
        y = norm(tensorgrad.randn(2, 4, 6, 6, 6))
    """

    spatial = 3


class _BatchNorm(_NormBase):
    """What ``BatchNorm1d`` and ``BatchNorm2d`` share; ``ndims`` the input ranks taken."""

    ndims: tuple[int, ...] = ()

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, device: Any = None,
                 dtype: Any = None, *, bias: bool = True) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device,
                         dtype, bias)

    def forward(self, input: Tensor) -> Tensor:
        if input._data.ndim not in self.ndims:
            raise ValueError(f"expected {' or '.join(f'{d}D' for d in self.ndims)} input "
                             f"(got {input._data.ndim}D input)")
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            count = self.num_batches_tracked._data
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


class BatchNorm3d(_BatchNorm):
    """Each channel of (N, C, D, H, W) normalized over N, D, H and W, as ``BatchNorm1d``::

        bn = nn.BatchNorm3d(4)
        y = bn(tensorgrad.randn(2, 4, 3, 5, 5))
    """

    ndims = (5,)
