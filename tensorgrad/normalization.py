"""Group and instance normalization with ``torch.nn.functional``'s names and meanings:
``group_norm`` and ``instance_norm``, each one fused ``Function``.

Both standardize rows: (N, C, *spatial) seen as (N, groups, C / groups * spatial), each
row to mean 0 and (biased) variance 1, then scaled and shifted per channel. Instance norm
is the case of one channel a group, with running statistics besides: updated from the
samples in training, used instead of them otherwise, as batch norm's.

``tensorgrad.functional`` imports this module when one of these names is first used, so
a program without them does not pay for it at start-up.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .higher_order import constant, through
from .tensor import Function, Tensor, note_in_place_write, quiet

_TORCH_TYPES = {np.dtype(np.float32): "Float", np.dtype(np.float64): "Double"}


def _per_channel(a: np.ndarray, ndim: int) -> np.ndarray:
    """(C,) ``a`` shaped to broadcast along dimension 1 of an array of ``ndim`` dimensions."""
    return a.reshape(-1, *[1] * (ndim - 2))


def _standardize(rows: np.ndarray, eps: float
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each row (last dimension) of ``rows`` to mean 0 and biased variance 1: the rows so,
    1 / sqrt(var + eps), the means and the variances (each row's one, kept as a dimension)."""
    count = max(rows.shape[-1], 1)  # an empty row: nothing to divide, and no 0 / 0
    mean = rows.sum(axis=-1, keepdims=True) / count
    centered = rows - mean
    var = (centered * centered).sum(axis=-1, keepdims=True) / count
    scale = (var + eps) ** -0.5
    return centered * scale, scale, mean, var


def _standardized_grad(g: np.ndarray, normed: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """The gradient of ``_standardize``'s rows given ``g``, that of its result: the mean and
    the variance depend on every entry of the row, hence the two means subtracted."""
    count = max(g.shape[-1], 1)
    return scale * (g - g.sum(axis=-1, keepdims=True) / count
                    - normed * ((g * normed).sum(axis=-1, keepdims=True) / count))


def _scale_and_shift(normed: np.ndarray, weight: np.ndarray | None,
                     bias: np.ndarray | None) -> np.ndarray:
    out = normed if weight is None else normed * _per_channel(weight, normed.ndim)
    return out if bias is None else out + _per_channel(bias, normed.ndim)


def _parameter_grads(ctx, grad: np.ndarray, normed: np.ndarray
                     ) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The gradients of the per-channel weight and bias (where they need one)."""
    axes = (0, *range(2, grad.ndim))
    need_weight, need_bias = ctx.needs_input_grad[1:3]
    return ((grad * normed).sum(axis=axes) if need_weight else None,
            grad.sum(axis=axes) if need_bias else None)


# NaN and inf flow through as in PyTorch (inf - inf is NaN), without NumPy's warnings
_QUIET = dict(invalid="ignore", over="ignore", divide="ignore")


def _standardized(rows: Tensor, eps: float) -> Tensor:
    """``_standardize`` in tensor ops: each row (last dimension) to mean 0, variance 1."""
    centered = rows - rows.mean(dim=-1, keepdim=True)
    return centered / ((centered * centered).mean(dim=-1, keepdim=True) + eps).sqrt()


def _shifted(normed: Tensor, weight: Any, bias: Any) -> Tensor:
    """``_scale_and_shift`` in tensor ops."""
    shape = (-1, *[1] * (normed.ndim - 2))
    out = normed if weight is None else normed * weight.reshape(shape)
    return out if bias is None else out + bias.reshape(shape)


def _group_norm_composed(ctx: Any, x: Tensor, weight: Any, bias: Any, groups: int,
                         eps: float) -> Tensor:
    return _shifted(_standardized(x.reshape(ctx.rows), eps).reshape(x.shape), weight, bias)


def _instance_norm_composed(ctx: Any, x: Tensor, weight: Any, bias: Any, running_mean: Any,
                            running_var: Any, use_input_stats: bool, momentum: float,
                            eps: float) -> Tensor:
    """``InstanceNorm`` composed of primitives, the running statistics left as they are."""
    if use_input_stats:
        normed = _standardized(x.reshape(ctx.rows), eps).reshape(x.shape)
    else:
        shape = (-1, *[1] * (x.ndim - 2))
        normed = (x - constant(running_mean._data.astype(x.dtype)).reshape(shape)) / \
            constant(np.sqrt(running_var._data.astype(x.dtype) + eps)).reshape(shape)
    return _shifted(normed, weight, bias)


class GroupNorm(Function):
    """(N, C, *spatial) x in ``groups`` groups of C / groups channels: each group of each
    sample standardized by its mean and biased variance, then * weight + bias per channel
    where given."""

    @staticmethod
    @quiet
    def forward(ctx, x, weight, bias, groups, eps):
        rows = (x.shape[0], groups, x.size // max(x.shape[0] * groups, 1))
        normed, scale, _, _ = _standardize(x.reshape(rows), eps)
        normed = normed.reshape(x.shape)
        out = _scale_and_shift(normed, weight, bias)
        ctx.save_for_backward(normed, scale, weight)
        ctx.rows = rows
        return out

    @staticmethod
    def backward(ctx, grad):
        normed, scale, weight = ctx.saved_tensors
        grad_weight, grad_bias = _parameter_grads(ctx, grad, normed)
        grad_x = None
        if ctx.needs_input_grad[0]:
            g = grad if weight is None else grad * _per_channel(weight, grad.ndim)
            grad_x = _standardized_grad(g.reshape(ctx.rows), normed.reshape(ctx.rows),
                                        scale).reshape(grad.shape)
        return grad_x, grad_weight, grad_bias, None, None

    recorded_backward = staticmethod(through(_group_norm_composed))


class InstanceNorm(Function):
    """Each channel of each sample of (N, C, *spatial) x standardized: by its own mean and
    biased variance (``use_input_stats``), the running statistics, where given, moved
    towards the samples' means and unbiased variances in place; else by the running
    statistics. Then * weight + bias per channel where given."""

    @staticmethod
    @quiet
    def forward(ctx, x, weight, bias, running_mean, running_var, use_input_stats, momentum,
                eps):
        batch, channels = x.shape[:2]
        count = math.prod(x.shape[2:])
        if use_input_stats:
            normed, scale, mean, var = _standardize(x.reshape(batch, channels, count), eps)
            normed = normed.reshape(x.shape)
            if running_mean is not None:
                _update(running_mean, running_var, mean[..., 0], var[..., 0], count,
                        momentum)
        else:
            scale = (running_var.astype(x.dtype) + eps) ** -0.5
            normed = (x - _per_channel(running_mean.astype(x.dtype), x.ndim)) * \
                _per_channel(scale, x.ndim)
        out = _scale_and_shift(normed, weight, bias)
        ctx.save_for_backward(normed, scale, weight)
        ctx.use_input_stats, ctx.rows = use_input_stats, (batch, channels, count)
        return out

    @staticmethod
    def backward(ctx, grad):
        normed, scale, weight = ctx.saved_tensors
        grad_weight, grad_bias = _parameter_grads(ctx, grad, normed)
        grad_x = None
        if ctx.needs_input_grad[0]:
            g = grad if weight is None else grad * _per_channel(weight, grad.ndim)
            if ctx.use_input_stats:  # the statistics depend on x too
                grad_x = _standardized_grad(g.reshape(ctx.rows), normed.reshape(ctx.rows),
                                            scale).reshape(grad.shape)
            else:
                grad_x = g * _per_channel(scale, g.ndim)
        return grad_x, grad_weight, grad_bias, None, None, None, None, None

    recorded_backward = staticmethod(through(_instance_norm_composed))


def _update(running_mean: np.ndarray, running_var: np.ndarray, mean: np.ndarray,
            var: np.ndarray, count: int, momentum: float) -> None:
    """PyTorch's update, in place: each sample's (N, C) statistics moved into a copy of the
    running ones by ``momentum``, and the copies averaged (NaN for no samples); the
    variance unbiased. Samples of no entries leave them as they were."""
    if mean.shape[0] and not count:
        return
    for running, batch in ((running_mean, mean), (running_var, var * (count / (count - 1)))):
        if batch.shape[0]:
            running[...] = ((1 - momentum) * running + momentum * batch).mean(axis=0)
        else:
            running[...] = np.nan
        note_in_place_write(running)


def _check_dtypes(op: str, x: np.ndarray, weight: Tensor | None, bias: Tensor | None) -> None:
    """As PyTorch: a floating input, and weight and bias of its dtype, with its messages."""
    if x.dtype.kind not in "fO":  # (objects: gradcheck's Values)
        raise NotImplementedError(f"{op} of {x.dtype} data: it needs a floating tensor "
                                  "(convert with .float() or .double())")
    params = [t._data.dtype for t in (weight, bias) if t is not None and t._data.dtype.kind != "O"]
    if not params or x.dtype.kind == "O":
        return
    if params[0] != x.dtype:  # PyTorch's CPU kernels mix only a half-precision input
        if any(p != np.float32 for p in params):
            raise RuntimeError("mixed dtype (CPU): expect parameter to have scalar type of Float")
        raise RuntimeError("mixed dtype (CPU): all inputs must share same datatype.")
    for p in params[1:]:
        if p != x.dtype:
            raise RuntimeError(f"expected scalar type {_TORCH_TYPES.get(x.dtype, x.dtype)} but "
                               f"found {_TORCH_TYPES.get(p, p)}")


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Split the C channels of (N, C, *) ``input`` into ``num_groups`` groups and normalize
    each group of each sample to mean 0 and variance 1 (biased), then * ``weight`` +
    ``bias`` (each (C,)) where given::

        y = F.group_norm(x, 2)  # x (N, 6, H, W): channels 0-2 and 3-5 of each sample apart
    """
    x = input._data
    if x.ndim < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received "
                           f"{x.ndim}")
    if isinstance(num_groups, bool) or not isinstance(num_groups, (int, np.integer)):
        raise TypeError(f"group_norm(): argument 'num_groups' (position 2) must be int, not "
                        f"{type(num_groups).__name__}")
    groups = int(num_groups)
    (batch, channels), spatial = x.shape[:2], list(x.shape[2:])
    per_group = batch * channels // groups  # (ZeroDivisionError for 0 groups, as PyTorch's)
    if per_group * math.prod(spatial) == 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input "
                         f"size {[per_group, groups, *spatial]}")
    if groups <= 0:
        raise RuntimeError(f"Expected num groups to be greater than 0, got {groups}")
    if channels % groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by "
                           f"num_groups, but got input of shape {list(x.shape)} and "
                           f"num_groups={groups}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t._data.shape != (channels,):
            raise RuntimeError(f"Expected {name} to be a vector of size equal to the number of "
                               f"channels in input, but got {name} of shape "
                               f"{list(t._data.shape)} and input of shape {list(x.shape)}")
    _check_dtypes("group_norm", x, weight, bias)
    return GroupNorm.apply(input, weight, bias, groups, eps)


def instance_norm(input: Tensor, running_mean: Tensor | None = None,
                  running_var: Tensor | None = None, weight: Tensor | None = None,
                  bias: Tensor | None = None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalize each channel of each sample of (N, C, *) ``input`` over its own entries
    (``use_input_stats``) or by ``running_mean`` and ``running_var``, then * ``weight`` +
    ``bias`` (each (C,)) where given. With ``use_input_stats`` the running statistics, where
    given, move in place to (1 - momentum) * running + momentum * the samples' average (of
    the unbiased variances)::

        y = F.instance_norm(images)  # each (sample, channel) image to mean 0, variance 1
    """
    x = input._data
    if use_input_stats and math.prod(x.shape[2:]) == 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size "
                         f"{tuple(x.shape)}")
    if not use_input_stats and (running_mean is None or running_var is None):
        raise RuntimeError("Expected running_mean and running_var to be defined when "
                           "use_input_stats is false")
    if x.ndim < 2:
        raise IndexError("Dimension out of range (expected to be in range of [-1, 0], but got "
                         "1)" if x.ndim else "Dimension specified as 0 but tensor has no "
                         "dimensions")
    batch, channels = x.shape[:2]
    given = {"running_mean": running_mean, "running_var": running_var, "weight": weight,
             "bias": bias}
    for name, t in given.items():
        if t is None:
            continue
        if t._data.ndim > 1:  # PyTorch's message: it repeats each of them per sample
            raise RuntimeError("Number of dimensions of repeat dims can not be smaller than "
                               "number of dimensions of tensor")
        if t._data.size != channels:
            samples = max(batch, 1)  # (PyTorch says nothing for no samples; this does)
            raise RuntimeError(f"{name} should contain {samples * channels} elements not "
                               f"{samples * t._data.size}")
    if (running_mean is None) != (running_var is None):
        raise ValueError("running_mean and running_var must either both be None or neither "
                         "be None")
    _check_dtypes("instance_norm", x, weight, bias)
    for name, t in (("running_mean", running_mean), ("running_var", running_var)):
        if t is not None and t._data.dtype.kind != "f":
            raise NotImplementedError(f"instance_norm: {name} of {t._data.dtype} data is not "
                                      "supported (running statistics are floating)")
    return InstanceNorm.apply(input, weight, bias, running_mean, running_var,
                              bool(use_input_stats), momentum, eps)
