"""Convolutions, pooling and batch normalization with ``torch.nn.functional``'s names and
meanings: ``conv1d``, ``conv2d``, ``conv_transpose1d``, ``conv_transpose2d``,
``interpolate``, ``max_pool1d``, ``max_pool2d``, ``avg_pool1d``, ``avg_pool2d``,
``adaptive_avg_pool1d``, ``adaptive_avg_pool2d``, ``adaptive_max_pool1d``,
``adaptive_max_pool2d``, ``pixel_shuffle``, ``pixel_unshuffle``, ``unfold``, ``fold``,
``channel_shuffle``, ``batch_norm``, and
``F.pad``'s reflecting, replicating and circular modes, each one fused ``Function``.

One n-d implementation serves 1-d and 2-d. The windows of the input are a strided view
(``sliding_window_view``: no copy), gathered once into rows (im2col), so that a
convolution is one matrix product per group, and the weight's gradient another. The
input's gradient is the transposed convolution: the output's gradient spread out by the
stride, padded by the kernel's span and correlated with the kernel flipped, each group's
input and output channels swapped; the same product again. A transposed convolution is
that input gradient as an op of its own; its backward, a convolution and the weight's
gradient, is made of the same rows.

``tensorgrad.functional`` imports this module when one of these names is first used, so
a program without them does not pay for it at start-up.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .dtypes import short_name
from .functional import Pad
from .higher_order import Spread, constant, linked, through
from .tensor import Function, Tensor, as_leaf, note_in_place_write, quiet

Size = int | Sequence[int]
Pairs = tuple[tuple[int, int], ...]  # (before, after) padding of each spatial dimension


# ---- windows, and the correlation made of them --------------------------------------------------


def _windows(x: np.ndarray, kernel: Sequence[int], stride: Sequence[int],
             dilation: Sequence[int]) -> np.ndarray:
    """The view (N, C, *out, *kernel) of (N, C, *spatial) ``x``: each output's window."""
    n = len(kernel)
    spans = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    view = sliding_window_view(x, spans, axis=tuple(range(2, 2 + n)))
    steps = tuple(slice(None, None, s) for s in stride) + \
        tuple(slice(None, None, d) for d in dilation)
    index: tuple[slice, ...] = (slice(None), slice(None)) + steps
    return view[index]


def _rows(x: np.ndarray, kernel: Sequence[int], stride: Sequence[int],
          dilation: Sequence[int], groups: int) -> tuple[np.ndarray, tuple[int, ...]]:
    """The windows of (N, C, *spatial) ``x`` as rows (groups, N * positions, C / groups *
    kernel), one per output position, and the outputs' spatial shape."""
    n = len(kernel)
    windows = _windows(x, kernel, stride, dilation)
    (batch, channels), out = x.shape[:2], windows.shape[2:2 + n]
    split = windows.reshape(batch, groups, channels // groups, *out, *kernel)
    # (groups, N, *out, C / groups, *kernel): a window's entries together (the one copy)
    order = (1, 0, *range(3, 3 + n), 2, *range(3 + n, 3 + 2 * n))
    rows = split.transpose(order).reshape(groups, batch * math.prod(out),
                                          channels // groups * math.prod(kernel))
    return rows, out


def _product(rows: np.ndarray, weight: np.ndarray, batch: int, out: Sequence[int]
             ) -> np.ndarray:
    """(N, O, *out): ``_rows``' rows times (O, C / groups, *kernel) ``weight``."""
    groups = rows.shape[0]
    outs = weight.shape[0] // groups
    y = rows @ weight.reshape(groups, outs, -1).transpose(0, 2, 1)  # (groups, N * L, O / groups)
    y = y.reshape(groups, batch, math.prod(out), outs).transpose(1, 0, 3, 2)
    return y.reshape(batch, groups * outs, *out)


def _correlate(x: np.ndarray, weight: np.ndarray, stride: Sequence[int],
               dilation: Sequence[int], groups: int) -> tuple[np.ndarray, np.ndarray]:
    """(N, C, *spatial) ``x`` correlated with (O, C / groups, *kernel) ``weight``, unpadded:
    (N, O, *out), and the rows (groups, N * positions, C / groups * kernel) it was made of."""
    rows, out = _rows(x, weight.shape[2:], stride, dilation, groups)
    return _product(rows, weight, x.shape[0], out), rows


def _weight_grad(grad: np.ndarray, rows: np.ndarray, shape: Sequence[int]) -> np.ndarray:
    """The gradient, of ``shape``, of the weight of ``_correlate`` given its output's
    (N, O, *out) ``grad`` and the rows it was made of: each window against the gradients of
    its outputs."""
    groups = rows.shape[0]
    batch, outs = grad.shape[:2]
    positions = math.prod(grad.shape[2:])
    per_group = grad.reshape(batch, groups, outs // groups, positions) \
        .transpose(1, 0, 3, 2).reshape(groups, batch * positions, outs // groups)
    return (per_group.transpose(0, 2, 1) @ rows).reshape(shape)


def _transposed(grad: np.ndarray, weight: np.ndarray, shape: Sequence[int],
                stride: Sequence[int], dilation: Sequence[int], groups: int) -> np.ndarray:
    """The gradient, of ``shape`` (N, C, *spatial), of the input of ``_correlate`` given its
    output's ``grad``: ``grad`` spread out by the stride and padded by each kernel's span,
    correlated with the kernel flipped and each group's channels swapped."""
    (batch, outs), out = grad.shape[:2], grad.shape[2:]
    kernel, n = weight.shape[2:], weight.ndim - 2
    spans = [d * (k - 1) for k, d in zip(kernel, dilation)]
    spread = np.zeros((batch, outs, *(s * (o - 1) + 1 + 2 * p
                                      for o, s, p in zip(out, stride, spans))), grad.dtype)
    inner = tuple(slice(p, p + s * (o - 1) + 1, s) for o, s, p in zip(out, stride, spans))
    spread[(slice(None), slice(None)) + inner] = grad
    channels = shape[1]
    flipped = weight[(slice(None), slice(None)) + (slice(None, None, -1),) * n]
    swapped = flipped.reshape(groups, outs // groups, channels // groups, *kernel) \
        .swapaxes(1, 2).reshape(channels, outs // groups, *kernel)
    reached, _ = _correlate(spread, swapped, (1,) * n, dilation, groups)
    # positions past the last window (the stride's remainder) get no gradient
    short = [(0, size - got) for size, got in zip(shape[2:], reached.shape[2:])]
    return np.pad(reached, [(0, 0), (0, 0), *short]) if any(a for _, a in short) else reached


def _pad(x: np.ndarray, padding: Pairs, value: float = 0.0) -> np.ndarray:
    if not any(before or after for before, after in padding):
        return x
    return np.pad(x, [(0, 0), (0, 0), *padding], constant_values=value)


def _crop(x: np.ndarray, padding: Pairs) -> np.ndarray:
    inner = tuple(slice(a, size - b) for (a, b), size in zip(padding, x.shape[2:]))
    return x[(slice(None), slice(None)) + inner]


# ---- convolution ----------------------------------------------------------------------------


def _convolution_composed(ctx: Any, x: Tensor, weight: Tensor, bias: Any, stride: Any,
                          padding: Any, dilation: Any, groups: int) -> Tensor:
    """A convolution composed of primitives (``Unfold`` and a product per group), for its
    gradient of a gradient."""
    n, unbatched = weight.ndim - 2, ctx.settings[-1]
    xb = x.unsqueeze(0) if unbatched else x
    if any(before or after for before, after in padding):
        xb = Pad.apply(xb, ((0, 0), (0, 0), *padding), 0.0)
    batch, channels, *spatial = xb.shape
    kernel = tuple(weight.shape[2:])
    cols = Unfold.apply(xb, kernel, tuple(dilation), (0,) * n, tuple(stride))
    out_sizes = [(size - d * (k - 1) - 1) // s + 1
                 for size, k, d, s in zip(spatial, kernel, dilation, stride)]
    per_group = channels // groups * math.prod(kernel)
    # (sizes spelled out, not -1: a batch of 0 leaves -1 undetermined)
    out = weight.reshape(groups, weight.shape[0] // groups, per_group) @ \
        cols.reshape(batch, groups, per_group, math.prod(out_sizes))
    out = out.reshape(batch, weight.shape[0], *out_sizes)
    if bias is not None:
        out = out + bias.reshape(-1, *[1] * n)
    return out[0] if unbatched else out


class Convolution(Function):
    """Cross-correlation of (N, C, *spatial) (or unbatched (C, *spatial)) x with
    (O, C / groups, *kernel) weight, zero-padded by ``padding`` (before, after) pairs, plus
    bias (O,) where given."""

    @staticmethod
    @quiet
    def forward(ctx, x, weight, bias, stride, padding, dilation, groups):
        unbatched = x.ndim == weight.ndim - 1
        padded = _pad(x[None] if unbatched else x, padding)
        y, rows = _correlate(padded, weight, stride, dilation, groups)
        if bias is not None:
            y += bias.reshape(-1, *[1] * (weight.ndim - 2))
        ctx.save_for_backward(rows, weight)
        ctx.settings = padded.shape, stride, padding, dilation, groups, unbatched
        return y[0] if unbatched else y

    @staticmethod
    def backward(ctx, grad):
        rows, weight = ctx.saved_tensors
        shape, stride, padding, dilation, groups, unbatched = ctx.settings
        need_x, need_weight, need_bias = ctx.needs_input_grad[:3]
        g = grad[None] if unbatched else grad
        grad_x = grad_weight = grad_bias = None
        if need_weight:
            grad_weight = _weight_grad(g, rows, weight.shape)
        if need_bias:
            grad_bias = g.sum(axis=(0, *range(2, g.ndim)))
        if need_x:
            grad_x = _crop(_transposed(g, weight, shape, stride, dilation, groups), padding)
            if unbatched:
                grad_x = grad_x[0]
        return grad_x, grad_weight, grad_bias, None, None, None, None

    recorded_backward = staticmethod(through(_convolution_composed))


def _sizes(value: Size, n: int, name: str) -> tuple[int, ...]:
    """An int, or a sequence of 1 or ``n`` ints, as ``n`` ints."""
    values = (value,) if isinstance(value, (int, np.integer)) else tuple(value)
    if len(values) == 1:
        values *= n
    if len(values) != n or not all(isinstance(v, (int, np.integer)) for v in values):
        shown = value if isinstance(value, (int, np.integer)) else list(values)
        raise RuntimeError(f"expected {name} to be a single integer value or a list of {n} "
                           f"values to match the convolution dimensions, but got {name}={shown}")
    return tuple(int(v) for v in values)


def _same_dtypes(op: str, **arrays: np.ndarray | None) -> None:
    """As PyTorch: no promotion between an op's input and its weights."""
    given = {name: a.dtype for name, a in arrays.items() if a is not None}
    if len(set(given.values())) > 1:
        raise RuntimeError(f"{op} of {', '.join(f'{n} {d}' for n, d in given.items())}: all "
                           "need the same dtype (convert with .to(), or the module with "
                           ".float() or .double())")
    if next(iter(given.values())).kind not in "fO":  # (objects: gradcheck's Values)
        raise RuntimeError(f"{op} of {next(iter(given.values()))} data: it needs floating "
                           "tensors (convert with .float() or .double())")


def _data(x: Tensor | None) -> np.ndarray | None:
    return None if x is None else x._data


def _conv(n: int, input: Tensor, weight: Tensor, bias: Tensor | None, stride: Size,
          padding: Size | str, dilation: Size, groups: int) -> Tensor:
    x, w = input._data, weight._data
    op = f"conv{n}d"
    if x.ndim not in (n + 1, n + 2):
        raise RuntimeError(f"Expected {n + 1}D (unbatched) or {n + 2}D (batched) input to "
                           f"{op}, but got input of size: {list(x.shape)}")
    if w.ndim != n + 2:
        raise RuntimeError(f"{op}: a weight of size {list(w.shape)}; it needs {n + 2} "
                           "dimensions (out_channels, in_channels / groups, *kernel_size)")
    _same_dtypes(op, input=x, weight=w, bias=_data(bias))
    strides, dilations = _sizes(stride, n, "stride"), _sizes(dilation, n, "dilation")
    if min(strides) <= 0:
        raise RuntimeError("non-positive stride is not supported")
    if min(dilations) <= 0:  # (a 1-d one shown as a 2-d one of height 1, as PyTorch's)
        raise RuntimeError(f"dilation should be greater than zero, but got "
                           f"{list(dilations) if n > 1 else [1, *dilations]}")
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    if w.shape[0] % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} "
                           f"at dimension 0, but got weight of size [{list(w.shape)}] instead")
    channels = x.shape[-n - 1]
    if channels != w.shape[1] * groups:
        shape = list(x.shape) if x.ndim == n + 2 else [1, *x.shape]
        raise RuntimeError(f"Given groups={groups}, weight of size {list(w.shape)}, expected "
                           f"input{shape} to have {w.shape[1] * groups} channels, but got "
                           f"{channels} channels instead")
    if bias is not None and bias._data.shape != (w.shape[0],):
        raise RuntimeError(f"Given weight of size {list(w.shape)}, expected bias to be "
                           f"1-dimensional with {w.shape[0]} elements, but got bias of size "
                           f"{list(bias._data.shape)} instead")
    kernel = w.shape[2:]
    if isinstance(padding, str):
        if padding == "valid":
            pairs: Pairs = ((0, 0),) * n
        elif padding == "same":
            if max(strides) > 1:
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            # an odd total pads one more after, as PyTorch does
            totals = [d * (k - 1) for k, d in zip(kernel, dilations)]
            pairs = tuple((t // 2, t - t // 2) for t in totals)
        else:
            raise RuntimeError(f"Invalid padding string: {padding!r}")
    else:
        pads = _sizes(padding, n, "padding")
        if min(pads) < 0:
            raise RuntimeError("negative padding is not supported")
        pairs = tuple((p, p) for p in pads)
    padded = [size + a + b for size, (a, b) in zip(x.shape[-n:], pairs)]
    if any(p < d * (k - 1) + 1 for p, k, d in zip(padded, kernel, dilations)):
        spans = [d * (k - 1) + 1 for k, d in zip(kernel, dilations)]
        raise RuntimeError(f"Calculated padded input size per channel: "
                           f"({' x '.join(map(str, padded))}). Kernel size: "
                           f"({' x '.join(map(str, spans))}). Kernel size can't be greater "
                           "than actual input size")
    return Convolution.apply(input, weight, bias, strides, pairs, dilations, groups)


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Size = 1,
           padding: Size | str = 0, dilation: Size = 1, groups: int = 1) -> Tensor:
    """Slide (out_channels, in_channels / groups, k) ``weight`` along (N, in_channels, L)
    (or unbatched (in_channels, L)) ``input``; ``padding`` is zeros, a number on each side
    or ``'valid'`` (none) or ``'same'`` (the output as long as the input, stride 1)::

        y = F.conv1d(x, w, padding="same")  # (N, out_channels, L)
    """
    return _conv(1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Size = 1,
           padding: Size | str = 0, dilation: Size = 1, groups: int = 1) -> Tensor:
    """Slide (out_channels, in_channels / groups, kH, kW) ``weight`` over (N, in_channels,
    H, W) (or unbatched (in_channels, H, W)) ``input``, as ``conv1d`` along two
    dimensions; ``groups`` splits the channels into groups convolved apart (``groups`` =
    in_channels: depthwise)::

        y = F.conv2d(images, w, stride=2, padding=1)  # (N, out_channels, H', W')
    """
    return _conv(2, input, weight, bias, stride, padding, dilation, groups)


def conv3d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Size = 1,
           padding: Size | str = 0, dilation: Size = 1, groups: int = 1) -> Tensor:
    """Slide (out_channels, in_channels / groups, kD, kH, kW) ``weight`` through (N,
    in_channels, D, H, W) (or unbatched (in_channels, D, H, W)) ``input``, as ``conv2d``
    along three dimensions (volumes, videos)::

        y = F.conv3d(volumes, w, padding=1)  # (N, out_channels, D, H, W) for a 3x3x3 kernel
    """
    return _conv(3, input, weight, bias, stride, padding, dilation, groups)


# ---- transposed convolution ---------------------------------------------------------------


def _transposed_composed(ctx: Any, x: Tensor, weight: Tensor, bias: Any, stride: Any,
                         padding: Any, output_padding: Any, dilation: Any, groups: int
                         ) -> Tensor:
    """A transposed convolution composed of primitives, for its gradient of a gradient: each
    input position's products with the kernel (one product per group) as columns, summed
    into the span the windows reach by ``Fold``, then ``output_padding`` zeros added after
    and ``padding`` cut off."""
    reached, unbatched = ctx.settings[0], ctx.settings[-1]
    n = weight.ndim - 2
    xb = x.unsqueeze(0) if unbatched else x
    batch, channels, *spatial = xb.shape
    kernel = tuple(weight.shape[2:])
    outs = weight.shape[1]  # per group
    per_group = outs * math.prod(kernel)
    rows = weight.reshape(groups, channels // groups, per_group).transpose(1, 2)
    cols = rows @ xb.reshape(batch, groups, channels // groups, math.prod(spatial))
    cols = cols.reshape(batch, groups * per_group, math.prod(spatial))
    y = Fold.apply(cols, tuple(reached), kernel, tuple(dilation), (0,) * n, tuple(stride))
    if any(output_padding):
        y = Pad.apply(y, ((0, 0), (0, 0), *((0, e) for e in output_padding)), 0.0)
    y = y[_inside(padding, tuple(y.shape))]
    if bias is not None:
        y = y + bias.reshape(-1, *[1] * n)
    return y[0] if unbatched else y


class TransposedConvolution(Function):
    """The gradient of a convolution's input, as an op of its own: each entry of
    (N, C, *spatial) (or unbatched (C, *spatial)) x spreads, ``stride`` apart, a copy of its
    channel's slice of (C, O / groups, *kernel) weight over (N, O, *full); ``output_padding``
    adds zeros after the full output, then ``padding`` (before, after) pairs are cut off;
    plus bias (O,) where given."""

    @staticmethod
    @quiet
    def forward(ctx, x, weight, bias, stride, padding, output_padding, dilation, groups):
        unbatched = x.ndim == weight.ndim - 1
        batched = x[None] if unbatched else x
        kernel = weight.shape[2:]
        # the span the windows reach: the convolution with this weight maps it back to x
        reached = tuple(s * (size - 1) + d * (k - 1) + 1 for size, s, k, d in
                        zip(batched.shape[2:], stride, kernel, dilation))
        full = (batched.shape[0], weight.shape[1] * groups,
                *(r + extra for r, extra in zip(reached, output_padding)))
        y = _crop(_transposed(batched, weight, full, stride, dilation, groups), padding)
        if bias is not None:
            y = y + bias.reshape(-1, *[1] * len(kernel))
        ctx.save_for_backward(batched, weight)
        ctx.settings = reached, stride, padding, dilation, groups, unbatched
        return y[0] if unbatched else y

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        reached, stride, padding, dilation, groups, unbatched = ctx.settings
        need_x, need_weight, need_bias = ctx.needs_input_grad[:3]
        g = grad[None] if unbatched else grad
        # the full output's gradient (zero where cut off), up to the span the windows reach
        full = _pad(g, padding)[(slice(None), slice(None)) + tuple(slice(r) for r in reached)]
        # the convolution of it with the weight: x's gradient, and its rows the weight's
        rows, out = _rows(full, weight.shape[2:], stride, dilation, groups)
        grad_x = grad_weight = grad_bias = None
        if need_x:
            grad_x = _product(rows, weight, x.shape[0], out)
            if unbatched:
                grad_x = grad_x[0]
        if need_weight:
            grad_weight = _weight_grad(x, rows, weight.shape)
        if need_bias:
            grad_bias = g.sum(axis=(0, *range(2, g.ndim)))
        return grad_x, grad_weight, grad_bias, None, None, None, None, None

    recorded_backward = staticmethod(through(_transposed_composed))


def _as_2d(values: Sequence[int], first: int) -> list[tuple[str, int]]:
    """(side, value) pairs of 1-d, 2-d or 3-d settings as PyTorch's messages show them: a
    1-d convolution as a 2-d one of height 1, its ``first`` value."""
    if len(values) == 3:
        return list(zip(("depth", "height", "width"), values))
    return list(zip(("height", "width"), values if len(values) == 2 else (first, *values)))


def _conv_transpose(n: int, input: Tensor, weight: Tensor, bias: Tensor | None, stride: Size,
                    padding: Size, output_padding: Size, groups: int, dilation: Size
                    ) -> Tensor:
    x, w = input._data, weight._data
    op = f"conv_transpose{n}d"
    if x.ndim not in (n + 1, n + 2):
        raise RuntimeError(f"Expected {n + 1}D (unbatched) or {n + 2}D (batched) input to "
                           f"{op}, but got input of size: {list(x.shape)}")
    if w.ndim != n + 2 or not w.size:
        raise RuntimeError(f"{op}: a weight of size {list(w.shape)}; it needs {n + 2} non-empty "
                           "dimensions (in_channels, out_channels / groups, *kernel_size)")
    _same_dtypes(op, input=x, weight=w, bias=_data(bias))
    if isinstance(padding, str):
        raise TypeError(f"{op}(): padding must be an int or a tuple of ints, not {padding!r} "
                        "(a transposed convolution has no 'same' or 'valid')")
    strides, dilations = _sizes(stride, n, "stride"), _sizes(dilation, n, "dilation")
    pads, extras = _sizes(padding, n, "padding"), _sizes(output_padding, n, "output_padding")
    if min(strides) <= 0:
        raise RuntimeError("non-positive stride is not supported")
    if min(dilations) <= 0:
        raise RuntimeError("dilation should be greater than zero, but got " + ", ".join(
            f"dilation_{side}: {d}" for side, d in _as_2d(dilations, 1)))
    if min(pads) < 0:
        raise RuntimeError("negative padding is not supported")
    if min(extras) < 0:
        raise RuntimeError("negative output_padding is not supported")
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    if w.shape[0] % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} "
                           f"at dimension 0, but got weight of size [{list(w.shape)}] instead")
    channels = x.shape[-n - 1]
    if channels != w.shape[0]:
        shape = list(x.shape) if x.ndim == n + 2 else [1, *x.shape]
        raise RuntimeError(f"Given transposed=1, weight of size {list(w.shape)}, expected "
                           f"input{shape} to have {w.shape[0]} channels, but got {channels} "
                           "channels instead")
    outs = w.shape[1] * groups
    if bias is not None and bias._data.shape != (outs,):
        raise RuntimeError(f"Given transposed=1, weight of size {list(w.shape)}, expected bias "
                           f"to be 1-dimensional with {outs} elements, but got bias of size "
                           f"{list(bias._data.shape)} instead")
    if any(e >= s and e >= d for e, s, d in zip(extras, strides, dilations)):
        raise RuntimeError("output padding must be smaller than either stride or dilation, but "
                           "got " + " ".join(f"{name}_{side}: {v}" for name, values, default in
                                             (("output_padding", extras, 0),
                                              ("stride", strides, 1),
                                              ("dilation", dilations, 1))
                                             for side, v in _as_2d(values, default)))
    sizes = x.shape[-n:]
    if not math.prod(sizes):
        raise RuntimeError(f"Only zero batch or zero channel inputs are supported, but got "
                           f"input shape: {list(x.shape)}")
    out = [s * (size - 1) - 2 * p + d * (k - 1) + e + 1 for size, s, p, d, k, e in
           zip(sizes, strides, pads, dilations, w.shape[2:], extras)]
    if min(out) < 1:
        given, got = (" x ".join(str(v) for _, v in _as_2d(values, 1)) for values in (sizes, out))
        raise RuntimeError(f"Given input size per channel: ({given}). Calculated output size "
                           f"per channel: ({got}). Output size is too small")
    pairs = tuple((p, p) for p in pads)
    return TransposedConvolution.apply(input, weight, bias, strides, pairs, extras, dilations,
                                       groups)


def conv_transpose1d(input: Tensor, weight: Tensor, bias: Tensor | None = None,
                     stride: Size = 1, padding: Size = 0, output_padding: Size = 0,
                     groups: int = 1, dilation: Size = 1) -> Tensor:
    """The transposed convolution (the gradient of ``conv1d``'s input, sometimes called a
    deconvolution) of (N, in_channels, L) (or unbatched (in_channels, L)) ``input`` with
    (in_channels, out_channels / groups, k) ``weight``: (N, out_channels, L') with
    L' = (L - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1::

        y = F.conv_transpose1d(x, w, stride=2)  # (N, out_channels, 2 * L - 2 + k)
    """
    return _conv_transpose(1, input, weight, bias, stride, padding, output_padding, groups,
                           dilation)


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None,
                     stride: Size = 1, padding: Size = 0, output_padding: Size = 0,
                     groups: int = 1, dilation: Size = 1) -> Tensor:
    """``conv_transpose1d`` over the last two dimensions of (N, in_channels, H, W) (or
    (in_channels, H, W)), ``weight`` (in_channels, out_channels / groups, kH, kW); with
    ``stride=2, padding=1, output_padding=1`` and a 3 x 3 kernel it doubles H and W::

        y = F.conv_transpose2d(x, w, stride=2, padding=1, output_padding=1)  # (N, O, 2H, 2W)
    """
    return _conv_transpose(2, input, weight, bias, stride, padding, output_padding, groups,
                           dilation)


def conv_transpose3d(input: Tensor, weight: Tensor, bias: Tensor | None = None,
                     stride: Size = 1, padding: Size = 0, output_padding: Size = 0,
                     groups: int = 1, dilation: Size = 1) -> Tensor:
    """``conv_transpose1d`` over the last three dimensions of (N, in_channels, D, H, W) (or
    (in_channels, D, H, W)), ``weight`` (in_channels, out_channels / groups, kD, kH, kW)::

        y = F.conv_transpose3d(x, w, stride=2)  # (N, O, 2D - 2 + kD, 2H - 2 + kH, 2W - 2 + kW)
    """
    return _conv_transpose(3, input, weight, bias, stride, padding, output_padding, groups,
                           dilation)


# ---- interpolation ----------------------------------------------------------------------------

def _interpolate_composed(ctx: Any, x: Tensor, sizes: Any, scales: Any, mode: str,
                          align_corners: Any) -> Tensor:
    """``Interpolate`` composed of primitives: each dimension read at its positions, the
    pairs weighted and summed, the last dimension first."""
    _, reads = ctx.settings
    y = x
    for axis in reversed(range(len(reads))):
        along = (-1,) + (1,) * (y.ndim - 3 - axis)
        terms = [y.index_select(2 + axis, as_leaf(index)) if weight is None else
                 y.index_select(2 + axis, as_leaf(index)) * constant(weight.reshape(along))
                 for index, weight in reads[axis]]
        y = terms[0]
        for term in terms[1:]:
            y = y + term
    return y


class Interpolate(Function):
    """Each spatial dimension of (N, C, *spatial) x resampled to ``sizes`` in turn, the last
    first (the order of PyTorch's nested sums), by ``mode``: each output the input at one
    position (the nearest modes), two positions weighted (the linear ones) or four
    (bicubic), spaced by ``scales`` where given (1 / scale), else by input / output size."""

    @staticmethod
    @quiet
    def forward(ctx, x, sizes, scales, mode, align_corners):
        reads = _reads(x, sizes, scales, mode, align_corners)
        y = x
        for axis in reversed(range(len(reads))):
            y = _read(y, 2 + axis, reads[axis])
        ctx.settings = x.shape, reads
        return y

    @staticmethod
    def backward(ctx, grad):
        shape, reads = ctx.settings
        g = grad
        for axis in range(len(reads)):  # each resampling's transpose, in the reverse order
            g = _unread(g, 2 + axis, reads[axis], shape[2 + axis])
        return g, None, None, None, None

    recorded_backward = staticmethod(through(_interpolate_composed))


Reading = tuple[tuple[np.ndarray, np.ndarray | None], ...]  # (index, weight) pairs


def _reads(x: np.ndarray, sizes: Sequence[int], scales: Sequence[float | None], mode: str,
           align_corners: bool) -> list[Reading]:
    """For each spatial dimension the (index, weight) pairs of ``_read``: arrays of one
    entry per output position (a weight of None: 1)."""
    # the positions are computed in the input's float dtype, as PyTorch does
    dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float64)
    if mode in ("nearest", "nearest-exact"):
        return [((_nearest(size, out, scale, mode == "nearest-exact", dtype), None),)
                for size, out, scale in zip(x.shape[2:], sizes, scales)]
    if mode == "bicubic":
        return [_cubic(size, out, scale, align_corners, dtype)
                for size, out, scale in zip(x.shape[2:], sizes, scales)]
    return [_linear(size, out, scale, align_corners, dtype)
            for size, out, scale in zip(x.shape[2:], sizes, scales)]


def _read(x: np.ndarray, axis: int, pairs: Reading) -> np.ndarray:
    along = (-1,) + (1,) * (x.ndim - 1 - axis)  # a weight per position along ``axis``
    with np.errstate(invalid="ignore"):  # inf * 0 is NaN, as in PyTorch, without a warning
        terms = [x.take(index, axis=axis) if weight is None else
                 x.take(index, axis=axis) * weight.reshape(along) for index, weight in pairs]
    total = terms[0]
    for term in terms[1:]:  # left to right, PyTorch's order
        total = total + term
    return total


def _unread(grad: np.ndarray, axis: int, pairs: Reading, size: int) -> np.ndarray:
    """The transpose of ``_read``: each output's gradient, times its weight, summed into the
    input position it read. The indices never decrease, so each input's share is one run of
    outputs, summed by ``reduceat``."""
    g = np.moveaxis(grad, axis, -1)
    total = np.zeros((*g.shape[:-1], size), grad.dtype)
    for index, weight in pairs:
        starts = np.flatnonzero(np.diff(index, prepend=-1))
        with np.errstate(invalid="ignore"):
            shares = g if weight is None else g * weight
        total[..., index[starts]] += np.add.reduceat(shares, starts, axis=-1)
    return np.moveaxis(total, -1, axis)


def _nearest(size: int, out: int, scale: float | None, exact: bool, dtype: np.dtype
             ) -> np.ndarray:
    """The input position each output copies, computed in ``dtype`` and rounded through
    float32 as PyTorch computes it (the rounding decides which position near a tie)."""
    ratio = dtype.type(1.0 / scale) if scale else dtype.type(size) / dtype.type(out)
    positions = np.arange(out).astype(dtype)
    if exact:  # the output's centre
        source = np.maximum(ratio * (positions + dtype.type(0.5)) - dtype.type(0.5),
                            dtype.type(0)) + dtype.type(0.5)
    else:
        source = ratio * positions
    return np.minimum(np.floor(source.astype(np.float32)).astype(np.int64), size - 1)


def _linear(size: int, out: int, scale: float | None, align_corners: bool, dtype: np.dtype
            ) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """The two input positions each output lies between and their weights, computed in
    ``dtype`` as PyTorch computes them."""
    positions = np.arange(out)
    if out == size:  # both terms still, so that an inf makes NaN as in PyTorch
        return (positions, np.ones(out, dtype)), (positions, np.zeros(out, dtype))
    one, half = dtype.type(1), dtype.type(0.5)
    if align_corners:
        ratio = dtype.type(size - 1) / dtype.type(out - 1) if out > 1 else dtype.type(0)
        source = ratio * positions.astype(dtype)
    else:
        ratio = dtype.type(1.0 / scale) if scale else dtype.type(size) / dtype.type(out)
        source = np.maximum(ratio * (positions.astype(dtype) + half) - half, dtype.type(0))
    low = np.minimum(np.floor(source).astype(np.int64), size - 1)
    above = np.clip(source - low.astype(dtype), dtype.type(0), one)  # the share above
    high = low + (low < size - 1)
    return (low, one - above), (high, above)


def _cubic(size: int, out: int, scale: float | None, align_corners: bool, dtype: np.dtype
           ) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """The four input positions around each output (clamped to the edges) and their
    weights by Keys' cubic convolution (a = -0.75), computed in ``dtype`` as PyTorch
    computes them; unlike the linear modes' the source position is not clamped at 0."""
    positions = np.arange(out).astype(dtype)
    if align_corners:
        ratio = dtype.type(size - 1) / dtype.type(out - 1) if out > 1 else dtype.type(0)
        source = ratio * positions
    else:
        ratio = dtype.type(1.0 / scale) if scale else dtype.type(size) / dtype.type(out)
        source = ratio * (positions + dtype.type(0.5)) - dtype.type(0.5)
    floor = np.floor(source)
    t = source - floor
    a, one = dtype.type(-0.75), dtype.type(1)

    def near(d: np.ndarray) -> np.ndarray:  # |d| <= 1
        return ((a + 2) * d - (a + 3)) * d * d + one

    def far(d: np.ndarray) -> np.ndarray:  # 1 < |d| < 2
        return ((a * d - 5 * a) * d + 8 * a) * d - 4 * a

    weights = (far(t + one), near(t), near(one - t), far((one - t) + one))
    start = floor.astype(np.int64) - 1
    return tuple((np.clip(start + k, 0, size - 1), w) for k, w in enumerate(weights))


_DIMENSIONS = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}
_MODES = ("nearest", "linear", "bilinear", "bicubic", "trilinear", "lanczos", "area",
          "nearest-exact")


def _integer(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def interpolate(input: Tensor, size: int | Sequence[int] | None = None,
                scale_factor: float | Sequence[float] | None = None, mode: str = "nearest",
                align_corners: bool | None = None, recompute_scale_factor: bool | None = None,
                antialias: bool = False) -> Tensor:
    """Resample (N, C, L), (N, C, H, W) or (N, C, D, H, W) ``input`` to ``size`` (an int,
    or one per spatial dimension), or to ``floor(size * scale_factor)``: ``mode``
    ``'nearest'`` (the value at floor(i * in / out)), ``'nearest-exact'`` (at the output's
    centre), ``'linear'`` (1-d), ``'bilinear'`` (2-d) or ``'trilinear'`` (3-d), these three
    with pixel centres aligned (``align_corners=False``, the default) or the corner pixels
    (True), or ``'bicubic'`` (2-d: 4 x 4 pixels weighed by Keys' cubic, aligned as the
    linear ones). A ``scale_factor`` given sets the spacing itself unless
    ``recompute_scale_factor``; ``'area'`` and ``antialias`` are not here::

        F.interpolate(images, scale_factor=2, mode="bilinear")  # (N, C, 2H, 2W)
    """
    x = input._data
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating "
                             "modes: linear | bilinear | bicubic | trilinear")
    elif align_corners is None:
        align_corners = False
    n = x.ndim - 2
    spatial = list(x.shape[2:])
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    scales: list[float] | None = None
    if size is not None:
        sizes: list[Any] = list(size) if isinstance(size, (list, tuple)) else [size] * n
        if len(sizes) != n:
            raise ValueError(f"Input and output must have the same number of spatial "
                             f"dimensions, but got input with spatial dimensions of {spatial} "
                             f"and output size of {size}. Please provide input tensor in (N, "
                             f"C, d1, d2, ...,dK) format and output size in (o1, o2, ...,oK) "
                             f"format.")
        if not all(_integer(s) for s in sizes):
            raise TypeError(f"expected size to be one of int or Tuple[int] or Tuple[int, int] "
                            f"or Tuple[int, int, int], but got size with types "
                            f"{[type(s) for s in sizes]}")
        outs = [int(s) for s in sizes]
        if recompute_scale_factor:
            raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
    elif scale_factor is not None:
        factors: list[Any] = list(scale_factor) if isinstance(scale_factor, (list, tuple)) \
            else [scale_factor] * n
        if len(factors) != n:
            raise ValueError(f"Input and scale_factor must have the same number of spatial "
                             f"dimensions, but got input with spatial dimensions of {spatial} "
                             f"and scale_factor of shape {scale_factor}. Please provide input "
                             f"tensor in (N, C, d1, d2, ...,dK) format and scale_factor in "
                             f"(s1, s2, ...,sK) format.")
        if not all(isinstance(f, (int, float, np.integer, np.floating)) for f in factors):
            raise TypeError(f"interpolate(): scale_factor must be a number or a sequence of "
                            f"numbers, but got {scale_factor!r}")
        outs = [math.floor(s * float(f)) for s, f in zip(spatial, factors)]
        if not recompute_scale_factor:  # the spacing is 1 / scale_factor, not in / out
            scales = [float(f) for f in factors]
    else:
        raise ValueError("either size or scale_factor should be defined")
    if antialias and not (mode in ("bilinear", "bicubic") and x.ndim == 4):
        raise ValueError("Anti-alias option is restricted to bilinear, bicubic, and lanczos "
                         "modes and requires a 4-D tensor as input")
    if mode not in _MODES or not 1 <= n <= 3:
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported "
                                  f"(got {x.ndim}D) for the modes: {' | '.join(_MODES)} "
                                  f"(got {mode})")
    if mode in ("lanczos", "area"):
        raise NotImplementedError(f"interpolate: mode={mode!r} is not supported (only "
                                  "'nearest', 'nearest-exact', 'linear', 'bilinear', "
                                  "'bicubic' and 'trilinear')")
    if mode in _DIMENSIONS and _DIMENSIONS[mode] != n:
        raise NotImplementedError(f"Got {x.ndim}D input, but {mode} mode needs "
                                  f"{_DIMENSIONS[mode] + 2}D input")
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not supported")
    if min(spatial) < 1 or min(outs) < 1:
        names = ("D", "H", "W")[3 - n:]
        given, got = (", ".join(f"{name}: {v}" for name, v in zip(names, values))
                      for values in (spatial, outs))
        joined = " and " if n == 1 else " "  # (as PyTorch words each)
        raise RuntimeError(f"Input and output sizes should be greater than 0, but got input "
                           f"({given}){joined}output ({got})")
    if x.dtype.kind not in "fO":  # (objects: gradcheck's Values)
        raise NotImplementedError(f"interpolate of {x.dtype} data: it needs a floating "
                                  "tensor (convert with .float() or .double())")
    per_axis = tuple(scales) if scales else (None,) * n
    return Interpolate.apply(input, tuple(outs), per_axis, mode, bool(align_corners))


# ---- pooling ----------------------------------------------------------------------------------


def _picked_positions(picked: np.ndarray, settings: tuple) -> np.ndarray:
    """Each output's maximum (``picked``: its place in its window) as a flat position in
    the padded input."""
    shape, kernel, stride, _, dilation, _ = settings
    n = len(kernel)
    offsets = np.unravel_index(picked, kernel)
    position = [np.arange(shape[0]).reshape(-1, *[1] * (1 + n)),
                np.arange(shape[1]).reshape(-1, *[1] * n)]
    for i in range(n):
        starts = np.arange(picked.shape[2 + i]) * stride[i]
        position.append(starts.reshape(-1, *[1] * (n - 1 - i)) + offsets[i] * dilation[i])
    return np.ravel_multi_index(tuple(np.broadcast_arrays(*position)), shape)


def _inside(padding: Pairs, shape: tuple[int, ...]) -> tuple[slice, ...]:
    """The index of what is not padding in a padded (N, C, *spatial) array of ``shape``."""
    return (slice(None), slice(None)) + tuple(slice(a, size - b) for (a, b), size in
                                              zip(padding, shape[2:]))


class MaxPool(Function):
    """The largest entry of each window (the first of equals, a NaN if any); its gradient
    goes to that entry."""

    @staticmethod
    def forward(ctx, x, kernel, stride, padding, dilation):
        unbatched = x.ndim == len(kernel) + 1
        padded = _pad(x[None] if unbatched else x, padding, -np.inf)
        windows = _windows(padded, kernel, stride, dilation)
        n = len(kernel)
        # (the sizes spelled out, not -1: a batch of 0 leaves -1 undetermined)
        flat = windows.reshape(*windows.shape[:2 + n], math.prod(kernel))
        picked = flat.argmax(axis=-1)
        y = np.take_along_axis(flat, picked[..., None], axis=-1)[..., 0]
        ctx.save_for_backward(picked)
        ctx.settings = padded.shape, kernel, stride, padding, dilation, unbatched
        return y[0] if unbatched else y

    @staticmethod
    def backward(ctx, grad):
        (picked,) = ctx.saved_tensors
        shape, kernel, stride, padding, dilation, unbatched = ctx.settings
        flat = _picked_positions(picked, ctx.settings)
        g = grad[None] if unbatched else grad
        summed = np.bincount(flat.ravel(), weights=g.ravel(), minlength=math.prod(shape))
        grad_x = _crop(summed.reshape(shape).astype(grad.dtype, copy=False), padding)
        return (grad_x[0] if unbatched else grad_x), None, None, None, None

    @staticmethod
    @linked
    def recorded_backward(ctx, grad):
        (picked,) = ctx.saved_tensors
        shape, kernel, stride, padding, dilation, unbatched = ctx.settings
        g = grad.unsqueeze(0) if unbatched else grad
        spread = Spread.apply(g, np.unravel_index(_picked_positions(picked, ctx.settings), shape),
                              shape)
        grad_x = spread[_inside(padding, shape)]
        return (grad_x[0] if unbatched else grad_x), None, None, None, None


class AvgPool(Function):
    """The sum of each window over ``divisor`` (a number, or an array of one per output)."""

    @staticmethod
    @quiet
    def forward(ctx, x, kernel, stride, padding, divisor):
        n = len(kernel)
        unbatched = x.ndim == n + 1
        padded = _pad(x[None] if unbatched else x, padding)
        windows = _windows(padded, kernel, stride, (1,) * n)
        y = windows.sum(axis=tuple(range(-n, 0))) / divisor
        ctx.settings = padded.shape, kernel, stride, padding, divisor, unbatched
        return (y[0] if unbatched else y).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        shape, kernel, stride, padding, divisor, unbatched = ctx.settings
        g = (grad[None] if unbatched else grad) / divisor
        channels = shape[1]
        ones = np.ones((channels, 1, *kernel), g.dtype)  # a depthwise kernel of ones
        grad_x = _crop(_transposed(g.astype(grad.dtype, copy=False), ones, shape, stride,
                                   (1,) * len(kernel), channels), padding)
        return (grad_x[0] if unbatched else grad_x), None, None, None, None

    @staticmethod
    @linked
    def recorded_backward(ctx, grad):
        shape, kernel, stride, padding, divisor, unbatched = ctx.settings
        g = (grad.unsqueeze(0) if unbatched else grad) / constant(divisor)
        n = len(kernel)
        index = [np.arange(shape[0]).reshape(-1, *[1] * (1 + 2 * n)),
                 np.arange(shape[1]).reshape(-1, *[1] * 2 * n)]
        for i in range(n):  # output position i * stride + kernel offset, in each dimension
            starts = np.arange(g.shape[2 + i]) * stride[i]
            offsets = np.arange(kernel[i])
            index.append(starts.reshape(-1, *[1] * (2 * n - 1 - i))
                         + offsets.reshape(-1, *[1] * (n - 1 - i)))
        spread_g = g.reshape(*g.shape, *[1] * n).expand(*g.shape, *kernel)
        grad_x = Spread.apply(spread_g, tuple(index), shape)[_inside(padding, shape)]
        return (grad_x[0] if unbatched else grad_x), None, None, None, None


def _lettered(prefix: str, values: Sequence[int]) -> str:
    """Per-dimension values as PyTorch's pooling messages show them: ``kT: 2 kH: 2 kW: 2``
    (a 1-d pool as a 2-d one of height 1)."""
    letters = ("T", "H", "W") if len(values) == 3 else ("H", "W")
    shown = values if len(values) > 1 else (1, *values)
    return " ".join(f"{prefix}{letter}: {v}" for letter, v in zip(letters, shown))


def _pool_size(value: Size, n: int, op: str, name: str) -> tuple[int, ...]:
    """A pool's setting, an int or ``n`` of them, refused as PyTorch words it otherwise."""
    values = (value,) if isinstance(value, (int, np.integer)) else tuple(value)
    if len(values) in (1, n) and all(isinstance(v, (int, np.integer)) for v in values):
        return tuple(int(v) for v in values) * (n // len(values))
    if n == 1:
        return _sizes(value, n, name)
    count = ("two", "three")[n - 2]
    omitted = "omitted, " if name == "stride" else ""
    either = "" if op == "avg_pool3d" else "either "
    if name == "dilation":
        raise RuntimeError(f"{op}: dilation must be either a single int, or a tuple of {count} "
                           "ints")
    raise RuntimeError(f"{op}: {name} must {either}be {omitted}a single int, or a tuple of "
                       f"{count} ints")


def _pool_sizes(n: int, op: str, input: Tensor, kernel_size: Size, stride: Size | None,
                padding: Size, dilation: Size = 1, ceil_mode: bool = False
                ) -> tuple[tuple[int, ...], tuple[int, ...], Pairs, tuple[int, ...]]:
    """A pool's settings checked as PyTorch checks them: kernel, stride, padding pairs,
    dilation. A batch of 0 is allowed, as PyTorch's; any other empty dimension not. With
    ``ceil_mode`` a last window that starts inside the input (or its left padding) but runs
    past the padding counts too: the pairs then pad that much more after."""
    x = input._data
    if x.ndim not in (n + 1, n + 2):
        raise RuntimeError(f"{op}: non-empty {n + 1}D or {n + 2}D (batch mode) tensor "
                           f"expected for input, but got size {list(x.shape)}")
    lead = x.ndim - n - 1  # the batch dimension's count: 1, or 0 if unbatched
    if not math.prod(x.shape[lead:]):
        if n == 3:  # (PyTorch's 3-d pools have words of their own)
            name = f"{op}_with_indices_out_cpu_template" if op.startswith("max") else op
            # (PyTorch's message names dimension 0 whichever is empty)
            raise RuntimeError(f"{name}(): Expected input's non-batch dimensions to have positive "
                               f"length, but input has a shape of {list(x.shape)} and non-batch "
                               "dimension 0 has length zero!")
        prefix = "max_pool1d: " if op == "max_pool1d" else ""
        raise RuntimeError(f"{prefix}Expected {n + 1}D or {n + 2}D (batch mode) tensor with "
                           f"optional 0 dim batch size for input, but got:{list(x.shape)}")
    if x.dtype.kind not in "fO":  # (objects: gradcheck's Values)
        raise RuntimeError(f"{op} of {x.dtype} data: it needs a floating tensor")
    kernel = _pool_size(kernel_size, n, op, "kernel_size")
    strides = kernel if stride is None or (not isinstance(stride, int) and not len(stride)) \
        else _pool_size(stride, n, op, "stride")
    pads, dilations = _pool_size(padding, n, op, "padding"), _pool_size(dilation, n, op,
                                                                        "dilation")
    # in PyTorch's order: a kernel of 0 is first a stride of 0
    if 0 in strides:
        raise RuntimeError("stride should not be zero")
    if min(kernel) <= 0:
        raise RuntimeError(f"kernel size should be greater than zero, but got "
                           f"{_lettered('k', kernel)}")
    if min(strides) <= 0:
        raise RuntimeError(f"stride should be greater than zero, but got "
                           f"{_lettered('d', strides)}")
    if min(dilations) <= 0:
        raise RuntimeError(f"dilation should be greater than zero, but got "
                           f"{_lettered('dilation', dilations)}")
    if min(pads) < 0:
        raise RuntimeError(f"pad must be non-negative, but got pad: {min(pads)}")
    for p, k, d in zip(pads, kernel, dilations):
        if p > (d * (k - 1) + 1) // 2:
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got "
                               f"pad={p}, kernel_size={k} and dilation={d}")
    sizes = x.shape[-n:]
    out = [_pooled_size(size, k, s, p, d, ceil_mode)
           for size, p, k, d, s in zip(sizes, pads, kernel, dilations, strides)]
    if op == "avg_pool3d" and any(size < k for size, k in zip(sizes, kernel)):
        raise RuntimeError(f"input image ({_lettered('', sizes)}) smaller than kernel size "
                           f"({_lettered('k', kernel)})")
    if min(out) < 1:
        channels = x.shape[-n - 1]
        raise RuntimeError(f"Given input size: ({'x'.join(map(str, (channels, *sizes)))}). "
                           f"Calculated output size: ({'x'.join(map(str, (channels, *out)))}). "
                           "Output size is too small")
    # what the last window reaches past the padding after (ceil_mode's)
    beyond = [max(0, (o - 1) * s + d * (k - 1) + 1 - (size + 2 * p)) for o, s, d, k, size, p
              in zip(out, strides, dilations, kernel, sizes, pads)]
    return kernel, strides, tuple((p, p + b) for p, b in zip(pads, beyond)), dilations


def _pooled_size(size: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    """How many windows fit, as PyTorch counts them: rounding up with ``ceil_mode``, but
    never a window that starts past the input and its left padding."""
    span = size + 2 * p - d * (k - 1) - 1
    if not ceil_mode:
        return span // s + 1
    out = -(-span // s) + 1
    return out - 1 if (out - 1) * s >= size + p else out


def _max_pool(n: int, input: Tensor, kernel_size: Size, stride: Size | None, padding: Size,
              dilation: Size, ceil_mode: bool, return_indices: bool) -> Any:
    op = f"max_pool{n}d"
    kernel, strides, pairs, dilations = _pool_sizes(n, op, input, kernel_size, stride,
                                                    padding, dilation, ceil_mode)
    pooled = MaxPool.apply(input, kernel, strides, pairs, dilations)
    if not return_indices:
        return pooled
    return pooled, as_leaf(_max_positions(input._data, kernel, strides, pairs, dilations))


def _max_positions(x: np.ndarray, kernel: tuple[int, ...], stride: tuple[int, ...],
                   padding: Pairs, dilation: tuple[int, ...]) -> np.ndarray:
    """Where each window's maximum lies, as PyTorch's indices: int64 positions in the
    flattened spatial dimensions of the (unpadded) input."""
    n = len(kernel)
    if x.ndim == n + 1:  # unbatched
        return _max_positions(x[None], kernel, stride, padding, dilation)[0]
    padded = _pad(x, padding, -np.inf)
    windows = _windows(padded, kernel, stride, dilation)
    picked = windows.reshape(*windows.shape[:-n], math.prod(kernel)).argmax(axis=-1)
    offsets = np.unravel_index(picked, kernel)
    coordinates = []
    for i in range(n):
        axis = picked.ndim - n + i
        starts = np.arange(picked.shape[axis]) * stride[i] - padding[i][0]
        coordinates.append(starts.reshape(-1, *[1] * (n - 1 - i)) + offsets[i] * dilation[i])
    spatial = x.shape[-n:]
    return np.ravel_multi_index(tuple(np.broadcast_arrays(*coordinates)), spatial).astype(
        np.int64)


def max_pool1d_with_indices(input: Tensor, kernel_size: Size, stride: Size | None = None,
                            padding: Size = 0, dilation: Size = 1, ceil_mode: bool = False,
                            return_indices: bool = True) -> Any:
    """``max_pool1d`` and where each maximum lies (``return_indices=True``)."""
    return _max_pool(1, input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d_with_indices(input: Tensor, kernel_size: Size, stride: Size | None = None,
                            padding: Size = 0, dilation: Size = 1, ceil_mode: bool = False,
                            return_indices: bool = True) -> Any:
    """``max_pool2d`` and where each maximum lies (``return_indices=True``)."""
    return _max_pool(2, input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool3d_with_indices(input: Tensor, kernel_size: Size, stride: Size | None = None,
                            padding: Size = 0, dilation: Size = 1, ceil_mode: bool = False,
                            return_indices: bool = True) -> Any:
    """``max_pool3d`` and where each maximum lies (``return_indices=True``)."""
    return _max_pool(3, input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool1d(input: Tensor, kernel_size: Size, stride: Size | None = None,
               padding: Size = 0, dilation: Size = 1, ceil_mode: bool = False,
               return_indices: bool = False) -> Any:
    """The largest value of each window of ``kernel_size`` along (N, C, L) (or (C, L))
    ``input``, the windows ``stride`` apart (by default ``kernel_size``); the padding is
    -inf, at most half a window. ``return_indices``: also where each maximum lies, in the
    flattened spatial dimensions (int64, outside the graph)::

        F.max_pool1d(x, 2)  # (N, C, L // 2)
    """
    return _max_pool(1, input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)


def max_pool2d(input: Tensor, kernel_size: Size, stride: Size | None = None,
               padding: Size = 0, dilation: Size = 1, ceil_mode: bool = False,
               return_indices: bool = False) -> Any:
    """``max_pool1d`` over the last two dimensions of (N, C, H, W) (or (C, H, W))::

        F.max_pool2d(x, 2)  # (N, C, H // 2, W // 2)
    """
    return _max_pool(2, input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)


def max_pool3d(input: Tensor, kernel_size: Size, stride: Size | None = None,
               padding: Size = 0, dilation: Size = 1, ceil_mode: bool = False,
               return_indices: bool = False) -> Any:
    """``max_pool1d`` over the last three dimensions of (N, C, D, H, W) (or (C, D, H, W));
    the indices count along each flattened D x H x W volume::

        F.max_pool3d(x, 2)  # (N, C, D // 2, H // 2, W // 2)
    """
    return _max_pool(3, input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)


def _avg_pool(n: int, input: Tensor, kernel_size: Size, stride: Size | None, padding: Size,
              ceil_mode: bool, count_include_pad: bool, divisor_override: int | None
              ) -> Tensor:
    op = f"avg_pool{n}d"
    kernel, strides, pairs, _ = _pool_sizes(n, op, input, kernel_size, stride, padding,
                                            ceil_mode=ceil_mode)
    divisor: Any = math.prod(kernel)
    sizes = input._data.shape[-n:]
    if divisor_override is not None:
        if divisor_override == 0:
            raise RuntimeError("divisor must be not zero")
        divisor = divisor_override
    elif (not count_include_pad and any(p for p, _ in pairs)) or \
            any(after > before for before, after in pairs):
        # the entries each window counts: the windows of a mask of ones over the input (and
        # its padding, if ``count_include_pad``), zeros past it
        if count_include_pad:
            counted = np.ones((1, 1, *(size + 2 * p for size, (p, _) in zip(sizes, pairs))))
            mask = _pad(counted, tuple((0, after - before) for before, after in pairs))
        else:
            mask = _pad(np.ones((1, 1, *sizes)), pairs)
        divisor = _windows(mask.astype(input._data.dtype), kernel, strides, (1,) * n).sum(
            axis=tuple(range(-n, 0)))[0, 0]
    return AvgPool.apply(input, kernel, strides, pairs, divisor)


def avg_pool1d(input: Tensor, kernel_size: Size, stride: Size | None = None,
               padding: Size = 0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Tensor:
    """The mean of each window of ``kernel_size`` along (N, C, L) (or (C, L)) ``input``,
    the windows ``stride`` apart (by default ``kernel_size``); the zeros of ``padding``
    count in the mean unless ``count_include_pad`` is False::

        F.avg_pool1d(x, 2)  # (N, C, L // 2)
    """
    return _avg_pool(1, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     None)


def avg_pool2d(input: Tensor, kernel_size: Size, stride: Size | None = None,
               padding: Size = 0, ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: int | None = None) -> Tensor:
    """``avg_pool1d`` over the last two dimensions of (N, C, H, W) (or (C, H, W)); each
    window's sum divided by ``divisor_override`` where given::

        F.avg_pool2d(x, 2)  # (N, C, H // 2, W // 2)
    """
    return _avg_pool(2, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override)


def avg_pool3d(input: Tensor, kernel_size: Size, stride: Size | None = None,
               padding: Size = 0, ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: int | None = None) -> Tensor:
    """``avg_pool2d`` over the last three dimensions of (N, C, D, H, W) (or (C, D, H, W))::

        F.avg_pool3d(x, 2)  # (N, C, D // 2, H // 2, W // 2)
    """
    return _avg_pool(3, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override)


# ---- adaptive pooling ----------------------------------------------------------------------


def _tiles(size: int, out: int) -> list[tuple[int, int]]:
    """The ``out`` tiles [start, end) of a dimension of ``size``: start = floor(i * size /
    out), end = ceil((i + 1) * size / out); neighbours overlap where ``out`` does not
    divide ``size``."""
    return [(i * size // out, -(-(i + 1) * size // out)) for i in range(out)]


def _adaptive_avg_composed(ctx: Any, x: Tensor, outs: Any) -> Tensor:
    """``AdaptiveAvgPool`` composed of primitives: the mean of each tile, a dimension at a
    time."""
    from .ops import cat

    y = x.unsqueeze(0) if ctx.unbatched else x
    for axis, out in zip(range(2, 2 + len(outs)), outs):
        y = cat([y.narrow(axis, a, b - a).mean(axis, keepdim=True)
                 for a, b in _tiles(y.shape[axis], out)], axis)
    return y[0] if ctx.unbatched else y


class AdaptiveAvgPool(Function):
    """The mean of each tile of (N, C, *spatial) ``x`` to (N, C, *outs): a mean along one
    dimension after another (a tile is a product of intervals)."""

    @staticmethod
    @quiet
    def forward(ctx, x, outs):
        n = len(outs)
        unbatched = x.ndim == n + 1
        y = x[None] if unbatched else x
        ctx.shapes = []
        for axis, out in zip(range(2, 2 + n), outs):
            ctx.shapes.append(y.shape)
            tiles = _tiles(y.shape[axis], out)
            parts = [y[(slice(None),) * axis + (slice(a, b),)].mean(axis=axis, keepdims=True)
                     for a, b in tiles]
            y = np.concatenate(parts, axis=axis) if parts else \
                np.zeros((*y.shape[:axis], 0, *y.shape[axis + 1:]), x.dtype)
        ctx.outs, ctx.unbatched = outs, unbatched
        return (y[0] if unbatched else y).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        g = grad[None] if ctx.unbatched else grad
        n = len(ctx.outs)
        # the means again in reverse: each tile's gradient spread evenly over the tile
        for axis, out, shape in reversed(list(zip(range(2, 2 + n), ctx.outs, ctx.shapes))):
            spread = np.zeros(shape, g.dtype)
            for i, (a, b) in enumerate(_tiles(shape[axis], out)):
                before = (slice(None),) * axis
                spread[before + (slice(a, b),)] += g[before + (slice(i, i + 1),)] / (b - a)
            g = spread
        return (g[0] if ctx.unbatched else g), None

    recorded_backward = staticmethod(linked(through(_adaptive_avg_composed)))


def _adaptive_argmax(x: np.ndarray, outs: Sequence[int]) -> np.ndarray:
    """For batched (N, C, *spatial) ``x``, the position in each (flattened) plane of the
    largest entry of each tile, (N, C, *outs): the first of equals, the last NaN if any (as
    PyTorch's)."""
    spatial = x.shape[2:]
    picked = np.zeros((*x.shape[:2], *outs), np.int64)
    for cell in np.ndindex(*outs):
        bounds = [_tiles(size, out)[i] for size, out, i in zip(spatial, outs, cell)]
        tile = x[(slice(None), slice(None)) + tuple(slice(a, b) for a, b in bounds)]
        flat = tile.reshape(*x.shape[:2], math.prod(tile.shape[2:]))  # (-1: no batch of 0)
        best = flat.argmax(axis=-1)
        nan = np.isnan(flat)
        last_nan = flat.shape[-1] - 1 - nan[..., ::-1].argmax(axis=-1)
        best = np.where(nan.any(axis=-1), last_nan, best)
        offsets = np.unravel_index(best, [b - a for a, b in bounds])
        picked[(slice(None), slice(None)) + cell] = np.ravel_multi_index(
            tuple(o + a for o, (a, _) in zip(offsets, bounds)), spatial)
    return picked


class AdaptiveMaxPool(Function):
    """The entries of (*lead, *spatial) ``x``, ``n`` spatial dimensions, at ``picked``,
    (*lead, *outs) positions in each flattened plane; the gradient goes back to those
    positions (summed where tiles share their largest entry)."""

    @staticmethod
    def forward(ctx, x, picked, n):
        lead = x.shape[:-n]
        ctx.shape, ctx.n = x.shape, n
        ctx.save_for_backward(picked)
        # (the sizes spelled out, not -1: a batch of 0 leaves -1 undetermined)
        flat_x = x.reshape(*lead, math.prod(x.shape[-n:]))
        flat_picked = picked.reshape(*lead, math.prod(picked.shape[-n:]))
        return np.take_along_axis(flat_x, flat_picked, axis=-1).reshape(picked.shape)

    @staticmethod
    def backward(ctx, grad):
        where = AdaptiveMaxPool._places(ctx)
        summed = np.bincount(where, weights=grad.ravel(), minlength=math.prod(ctx.shape))
        return summed.reshape(ctx.shape).astype(grad.dtype, copy=False), None, None

    @staticmethod
    @linked
    def recorded_backward(ctx, grad):
        where = AdaptiveMaxPool._places(ctx)
        return (Spread.apply(grad.reshape(-1), where, (math.prod(ctx.shape),))
                .reshape(ctx.shape), None, None)

    @staticmethod
    def _places(ctx):
        """Each output's maximum as a position in the flattened input."""
        (picked,) = ctx.saved_tensors
        shape, n = ctx.shape, ctx.n
        rows, plane = math.prod(shape[:-n]), math.prod(shape[-n:])
        return (picked.reshape(rows, math.prod(picked.shape[len(shape) - n:]))
                + np.arange(rows)[:, None] * plane).ravel()


def _adaptive_sizes(n: int, op: str, input: Tensor, output_size: Any) -> tuple[int, ...]:
    """``output_size`` (an int, or ``n`` of them; None keeps the input's size) checked as
    PyTorch checks it, with the input, in PyTorch's order and words."""
    x, average = input._data, "avg" in op
    if isinstance(output_size, (int, np.integer)) or (n == 2 and output_size is None):
        sizes: list[Any] = [output_size] * n
    elif output_size is None and n == 3:  # (PyTorch's 3-d pools take its length)
        raise TypeError("object of type 'NoneType' has no len()")
    elif output_size is None:
        raise TypeError(f"{op}(): argument 'output_size' (position 2) must be tuple of ints, "
                        "not NoneType")
    else:
        sizes = list(output_size)
        if n > 1 and x.ndim <= len(sizes):
            raise ValueError(f"Input dimension should be at least {len(sizes) + 1}")
    if x.ndim not in (n + 1, n + 2):
        if n == 1:
            raise RuntimeError(f"Expected 2 to 3 dimensions, but got {x.ndim}-dimensional "
                               f"tensor for argument #1 'self' (while checking arguments for "
                               f"{op})")
        raise RuntimeError(f"{op}(): Expected {n + 1}D or {n + 2}D tensor, but got"
                           f"{'' if average else ':'} {list(x.shape)}")
    if len(sizes) != n:
        raise RuntimeError(f"{op}() argument 'output_size' should contain one int (got "
                           f"{len(sizes)})" if n == 1 else f"{op}: output_size must be {n}"
                           if average else f"{op}(): internal error: output_size.size() must "
                           f"be {n}")
    outs = tuple(int(size if want is None else want) for want, size in zip(sizes,
                                                                             x.shape[-n:]))
    if min(outs) < 0:
        # (PyTorch's 1-d pools are its 2-d ones on rows of height 1)
        if average and n == 3:  # (PyTorch's spacing)
            raise RuntimeError(f"{op}: elements of output_size must be greater than or equal to "
                               f"0 but received {{{outs[0]}, {outs[1]},{outs[2]}}}")
        if average:
            raise RuntimeError("adaptive_avg_pool2d: elements of output_size must be greater "
                               "than or equal to 0 but received "
                               f"{{{', '.join(map(str, (1,) * (2 - n) + outs))}}}")
        shape = [*x.shape[:-n], *(1,) * (2 - n), *outs]
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(outs)}: "
                           f"{shape}")
    # PyTorch's max pools need channels, its 1-d and 2-d average pools only the spatial sizes
    for dim in range(x.ndim - n if average and n < 3 else 1, x.ndim):
        if not x.shape[dim]:
            name = "adaptive_avg_pool2d" if average and n < 3 else op
            raise RuntimeError(f"{name}(): Expected input to have non-zero size for non-batch "
                               f"dimensions, but input has sizes {list(x.shape)} with "
                               f"dimension {dim} being empty")
    if x.dtype.kind not in "fO":  # (objects: gradcheck's Values)
        kernel = f"{op}_cpu" if n == 3 else op  # (PyTorch's 3-d kernels' names)
        raise NotImplementedError(f'"{kernel}" not implemented for \'{short_name(x.dtype)}\'')
    return outs


def _adaptive_avg(n: int, input: Tensor, output_size: Any) -> Tensor:
    outs = _adaptive_sizes(n, f"adaptive_avg_pool{n}d", input, output_size)
    return AdaptiveAvgPool.apply(input, outs)


def adaptive_avg_pool1d(input: Tensor, output_size: int | Sequence[int]) -> Tensor:
    """The mean of (N, C, L) (or (C, L)) ``input`` over ``output_size`` tiles: tile i spans
    floor(i * L / out) to ceil((i + 1) * L / out), so tiles overlap where the size does not
    divide L::

        F.adaptive_avg_pool1d(x, 3)  # (N, C, 3)
    """
    return _adaptive_avg(1, input, output_size)


def adaptive_avg_pool2d(input: Tensor, output_size: int | None | Sequence[int | None]
                        ) -> Tensor:
    """``adaptive_avg_pool1d`` over the last two dimensions of (N, C, H, W) (or (C, H, W)),
    to ``output_size`` (an int, or a pair where None keeps that size)::

        F.adaptive_avg_pool2d(x, 1)  # (N, C, 1, 1): the global average
    """
    return _adaptive_avg(2, input, output_size)


def adaptive_avg_pool3d(input: Tensor, output_size: int | None | Sequence[int | None]
                        ) -> Tensor:
    """``adaptive_avg_pool1d`` over the last three dimensions of (N, C, D, H, W) (or
    (C, D, H, W)), to ``output_size`` (an int, or three where None keeps that size)::

        F.adaptive_avg_pool3d(x, 1)  # (N, C, 1, 1, 1): the global average
    """
    return _adaptive_avg(3, input, output_size)


def _adaptive_max(n: int, input: Tensor, output_size: Any, return_indices: bool
                  ) -> Tensor | tuple[Tensor, Tensor]:
    outs = _adaptive_sizes(n, f"adaptive_max_pool{n}d", input, output_size)
    unbatched = input._data.ndim == n + 1
    picked = _adaptive_argmax(input._data[None] if unbatched else input._data, outs)
    if unbatched:
        picked = picked[0]
    y = AdaptiveMaxPool.apply(input, picked, n)
    return (y, Tensor(picked)) if return_indices else y


def adaptive_max_pool1d(input: Tensor, output_size: int | Sequence[int],
                        return_indices: bool = False) -> Any:
    """The largest entry of each of ``output_size`` tiles of (N, C, L) (or (C, L))
    ``input`` (tiles as ``adaptive_avg_pool1d``'s), and with ``return_indices`` where it
    is (int64, along L)::

        y, where = F.adaptive_max_pool1d(x, 4, return_indices=True)  # (N, C, 4) each
    """
    return _adaptive_max(1, input, output_size, return_indices)


def adaptive_max_pool2d(input: Tensor, output_size: int | None | Sequence[int | None],
                        return_indices: bool = False) -> Any:
    """``adaptive_max_pool1d`` over the last two dimensions of (N, C, H, W) (or (C, H, W));
    the indices count along each flattened H x W plane::

        F.adaptive_max_pool2d(x, (2, None))  # (N, C, 2, W)
    """
    return _adaptive_max(2, input, output_size, return_indices)


def adaptive_max_pool3d(input: Tensor, output_size: int | None | Sequence[int | None],
                        return_indices: bool = False) -> Any:
    """``adaptive_max_pool1d`` over the last three dimensions of (N, C, D, H, W) (or
    (C, D, H, W)); the indices count along each flattened D x H x W volume::

        F.adaptive_max_pool3d(x, (1, 2, 2))  # (N, C, 1, 2, 2)
    """
    return _adaptive_max(3, input, output_size, return_indices)


def adaptive_max_pool1d_with_indices(input: Tensor, output_size: int | Sequence[int],
                                     return_indices: bool = True) -> Any:
    """``adaptive_max_pool1d`` and where each maximum lies (``return_indices=True``)."""
    return _adaptive_max(1, input, output_size, True)


def adaptive_max_pool2d_with_indices(input: Tensor,
                                     output_size: int | None | Sequence[int | None],
                                     return_indices: bool = True) -> Any:
    """``adaptive_max_pool2d`` and where each maximum lies (``return_indices=True``)."""
    return _adaptive_max(2, input, output_size, True)


def adaptive_max_pool3d_with_indices(input: Tensor,
                                     output_size: int | None | Sequence[int | None],
                                     return_indices: bool = True) -> Any:
    """``adaptive_max_pool3d`` and where each maximum lies (``return_indices=True``)."""
    return _adaptive_max(3, input, output_size, True)


# ---- padding by reflection, replication or wrapping around ----------------------------------


class PadByIndex(Function):
    """(..., *spatial) ``x`` padded along its last dimensions by taking, along each,
    the entries ``indices`` (one array per dimension: a position in ``x`` for each of the
    result's); the gradient sums back into each position taken."""

    @staticmethod
    def forward(ctx, x, indices):
        ctx.shape, ctx.indices = x.shape, indices
        return x[(...,) + np.ix_(*indices)]

    @staticmethod
    def backward(ctx, grad):
        where = PadByIndex._places(ctx)
        summed = np.bincount(where, weights=grad.ravel(), minlength=math.prod(ctx.shape))
        return summed.reshape(ctx.shape).astype(grad.dtype, copy=False), None

    @staticmethod
    def recorded_backward(ctx, grad):
        where = PadByIndex._places(ctx)
        return (Spread.apply(grad.reshape(-1), where, (math.prod(ctx.shape),))
                .reshape(ctx.shape), None)

    @staticmethod
    def _places(ctx):
        """The flat position in ``x`` of each entry of the result."""
        shape, indices = ctx.shape, ctx.indices
        n = len(indices)
        plane = math.prod(shape[-n:])
        rows = math.prod(shape[:-n])
        where = np.ravel_multi_index(np.ix_(*indices), shape[-n:]).ravel()
        return (where + np.arange(rows)[:, None] * plane).ravel()


_NON_CONSTANT = """Padding size {size} is not supported for {ndim}D input tensor.
Supported combinations for non-constant padding:
  - 2D or 3D input: padding size = 2 (pads last dimension)
  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)
  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)"""


def pad_by_mode(input: Tensor, pairs: Sequence[tuple[int, int]], mode: str) -> Tensor:
    """``F.pad``'s ``'reflect'``, ``'replicate'`` and ``'circular'`` modes: ``pairs`` the
    (before, after) widths of the last dimensions, the last first; a negative width
    crops."""
    shape = input._data.shape
    n = len(pairs)
    if not (n + 1 <= len(shape) <= n + 2 and n <= 3):
        raise NotImplementedError(_NON_CONSTANT.format(size=2 * n, ndim=len(shape)))
    if mode != "circular" and not math.prod(shape[len(shape) - n - 1:]):
        raise RuntimeError(f"Expected {n + 1}D or {n + 2}D (batch mode) tensor with possibly 0 "
                           "batch size and other non-zero dimensions for input, but got: "
                           f"{list(shape)}")
    indices = []
    for (before, after), dim in zip(pairs, range(len(shape) - 1, len(shape) - n - 1, -1)):
        size = shape[dim]
        if mode == "reflect" and (before >= size or after >= size):
            raise RuntimeError(f"Argument #4: Padding size should be less than the "
                               f"corresponding input dimension, but got: padding "
                               f"({before}, {after}) at dimension {dim} of input {list(shape)}")
        kept = size + min(before, 0) + min(after, 0)  # what the negative widths leave
        if mode == "circular" and (before > kept or after > kept):
            raise RuntimeError("Padding value causes wrapping around more than once.")
        if size + before + after < (0 if mode == "circular" else 1):
            raise RuntimeError(f"pad: padding ({before}, {after}) at dimension {dim} of input "
                               f"{list(shape)} leaves it empty")
        # each result's position in x: reflected or replicated from all of x, but wrapped
        # around only what the negative widths leave (as PyTorch)
        where = np.arange(size + before + after) - before
        if mode == "reflect":
            where = np.abs(where)
            where = np.where(where >= size, 2 * (size - 1) - where, where)
        elif mode == "replicate":
            where = np.clip(where, 0, size - 1)
        else:
            start = max(-before, 0)
            where = (where - start) % kept + start
        indices.append(where)
    return PadByIndex.apply(input, tuple(indices[::-1]))


# ---- pixel shuffle ------------------------------------------------------------------------------


class PixelShuffle(Function):
    """(..., C * r * r, H, W) to (..., C, H * r, W * r), each group of r * r channels laid out
    as an r x r block (or back, ``inverse``): a reshape and a transpose, and its gradient the
    reverse."""

    @staticmethod
    def forward(ctx, x, factor, inverse):
        ctx.factor, ctx.inverse = factor, inverse
        return _shuffle(x, factor, inverse)

    @staticmethod
    def backward(ctx, grad):
        return _shuffle(grad, ctx.factor, not ctx.inverse), None, None

    @staticmethod
    def recorded_backward(ctx, grad):
        return PixelShuffle.apply(grad, ctx.factor, not ctx.inverse), None, None


def _shuffle(x: np.ndarray, r: int, inverse: bool) -> np.ndarray:
    *lead, c, h, w = x.shape
    k = len(lead)
    if inverse:  # (.., C, H * r, W * r) -> (.., C * r * r, H, W)
        blocks = x.reshape(*lead, c, h // r, r, w // r, r)
        order = (*range(k), k, k + 2, k + 4, k + 1, k + 3)
        return blocks.transpose(order).reshape(*lead, c * r * r, h // r, w // r)
    blocks = x.reshape(*lead, c // (r * r), r, r, h, w)
    order = (*range(k), k, k + 3, k + 1, k + 4, k + 2)
    return blocks.transpose(order).reshape(*lead, c // (r * r), h * r, w * r)


def _pixel_shuffle(input: Tensor, factor: int, inverse: bool) -> Tensor:
    x = input._data
    op, name = ("pixel_unshuffle", "downscale_factor") if inverse else \
        ("pixel_shuffle", "upscale_factor")
    if x.ndim < 3:
        raise RuntimeError(f"{op} expects input to have at least 3 dimensions, but got input "
                           f"with {x.ndim} dimension(s)")
    if factor <= 0:
        raise RuntimeError(f"{op} expects a positive {name}, but got {factor}")
    c, h, w = x.shape[-3:]
    if inverse:
        for size, side, dim in ((h, "height", -2), (w, "width", -1)):
            if size % factor:
                raise RuntimeError(f"pixel_unshuffle expects {side} to be divisible by "
                                   f"downscale_factor, but input.size({dim})={size} is not "
                                   f"divisible by {factor}")
    elif c % (factor * factor):
        raise RuntimeError("pixel_shuffle expects its input's 'channel' dimension to be "
                           "divisible by the square of upscale_factor, but input.size(-3)="
                           f"{c} is not divisible by {factor * factor}")
    return PixelShuffle.apply(input, factor, inverse)


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """(*, C * r * r, H, W) ``input`` to (*, C, H * r, W * r), r = ``upscale_factor``:
    each group of r * r channels becomes an r x r block of one channel (sub-pixel
    convolution's last step)::

        F.pixel_shuffle(x, 2)  # (N, 16, 8, 8) -> (N, 4, 16, 16)
    """
    return _pixel_shuffle(input, upscale_factor, False)


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """``pixel_shuffle`` undone: (*, C, H * r, W * r) to (*, C * r * r, H, W)::

        F.pixel_unshuffle(x, 2)  # (N, 4, 16, 16) -> (N, 16, 8, 8)
    """
    return _pixel_shuffle(input, downscale_factor, True)


# ---- unfold and fold: the rows of windows (im2col) and back (col2im) -------------------------


def _blocks(spatial: Sequence[int], kernel: Sequence[int], dilation: Sequence[int],
            padding: Sequence[int], stride: Sequence[int]) -> tuple[int, ...]:
    """How many windows fit along each spatial dimension."""
    return tuple((size + 2 * p - d * (k - 1) - 1) // s + 1
                 for size, k, d, p, s in zip(spatial, kernel, dilation, padding, stride))


def _im2col(x: np.ndarray, kernel: Sequence[int], dilation: Sequence[int],
            padding: Sequence[int], stride: Sequence[int]) -> np.ndarray:
    """(N, C, *spatial) to (N, C * prod(kernel), L): each window's entries down a column,
    the channels slowest, as PyTorch orders them (``F.unfold``'s 2-d, any n here)."""
    n = len(kernel)
    padded = _pad(x, tuple((p, p) for p in padding))
    windows = _windows(padded, kernel, stride, dilation)  # (N, C, *out, *kernel)
    batch, channels, out = windows.shape[0], windows.shape[1], windows.shape[2:2 + n]
    order = (0, 1, *range(2 + n, 2 + 2 * n), *range(2, 2 + n))
    return windows.transpose(order).reshape(batch, channels * math.prod(kernel),
                                            math.prod(out))


def _col2im(cols: np.ndarray, size: Sequence[int], kernel: Sequence[int],
            dilation: Sequence[int], padding: Sequence[int], stride: Sequence[int]
            ) -> np.ndarray:
    """``_im2col`` transposed: (N, C * prod(kernel), L) columns summed back into
    (N, C, *size) where their windows overlap."""
    out = _blocks(size, kernel, dilation, padding, stride)
    batch, channels = cols.shape[0], cols.shape[1] // math.prod(kernel)
    blocks = cols.reshape(batch, channels, *kernel, *out)
    summed = np.zeros((batch, channels, *(s + 2 * p for s, p in zip(size, padding))),
                      cols.dtype)
    for offset in np.ndindex(*kernel):  # each kernel position adds its column to a strided part
        part = tuple(slice(i * d, i * d + s * (o - 1) + 1, s)
                     for i, d, s, o in zip(offset, dilation, stride, out))
        summed[(slice(None), slice(None)) + part] += blocks[(slice(None), slice(None)) + offset]
    return _crop(summed, tuple((p, p) for p in padding))


class Unfold(Function):
    """(N, C, *spatial) x to (N, C * prod(kernel), L): the windows as columns
    (``F.unfold``'s, of 2 spatial dimensions; any here)."""

    @staticmethod
    def forward(ctx, x, kernel, dilation, padding, stride):
        ctx.settings = x.shape[2:], kernel, dilation, padding, stride
        return _im2col(x, kernel, dilation, padding, stride)

    @staticmethod
    def backward(ctx, grad):
        return _col2im(grad, *ctx.settings), None, None, None, None

    @staticmethod
    def recorded_backward(ctx, grad):
        return Fold.apply(grad, *ctx.settings), None, None, None, None


class Fold(Function):
    """(N, C * prod(kernel), L) x summed into (N, C, *size) (``F.fold``'s): ``Unfold``
    transposed."""

    @staticmethod
    def forward(ctx, x, size, kernel, dilation, padding, stride):
        ctx.settings = kernel, dilation, padding, stride
        return _col2im(x, size, kernel, dilation, padding, stride)

    @staticmethod
    def backward(ctx, grad):
        return _im2col(grad, *ctx.settings), None, None, None, None, None

    @staticmethod
    def recorded_backward(ctx, grad):
        return Unfold.apply(grad, *ctx.settings), None, None, None, None, None


def _fold_settings(kernel_size: Size, dilation: Size, padding: Size, stride: Size
                   ) -> list[tuple[int, int]]:
    """The four settings as pairs, checked as PyTorch checks them."""
    settings = []
    for name, value, least in (("kernel_size", kernel_size, 1), ("dilation", dilation, 1),
                               ("padding", padding, 0), ("stride", stride, 1)):
        values = (value,) * 2 if isinstance(value, (int, np.integer)) else tuple(value)
        if len(values) != 2:
            raise RuntimeError(f"It is expected {name} equals to 2, but got size "
                               f"{len(values)}")
        h, w = (int(v) for v in values)
        if h < least or w < least:
            word = {"kernel_size": "kernel size", "padding": "padding"}.get(name, name)
            short = {"kernel_size": "kernel", "padding": "pad"}.get(name, name)
            raise RuntimeError(f"{word} should be "
                               f"{'non-negative' if least == 0 else 'greater than zero'}, "
                               f"but got {short}_height: {h} {short}_width: {w}")
        settings.append((h, w))
    return settings


def _unbatched(x: Tensor, ranks: tuple[int, int], refused: bool, what: str) -> bool:
    """Whether ``x`` is unbatched (one rank less than batched), after PyTorch's check."""
    if x.ndim not in ranks or refused:
        raise RuntimeError(f"Expected {what}, but got: {list(x.shape)}")
    if x._data.dtype.kind != "f":
        raise NotImplementedError(f"unfold and fold are not implemented for {x.dtype}")
    return x.ndim == ranks[0]


def unfold(input: Tensor, kernel_size: Size, dilation: Size = 1, padding: Size = 0,
           stride: Size = 1) -> Tensor:
    """The sliding windows of (N, C, H, W) (or (C, H, W)) ``input`` as the columns of
    (N, C * kh * kw, L), L the number of windows (im2col), as PyTorch's; a convolution is
    then one matrix product::

        cols = F.unfold(x, 3, padding=1)  # (N, C * 9, H * W)
        y = (weight.view(O, -1) @ cols).view(N, O, H, W)
    """
    kernel, dil, pad, step = _fold_settings(kernel_size, dilation, padding, stride)
    shape = input.shape
    unbatched = _unbatched(input, (3, 4), input.ndim >= 3 and 0 in shape[-3:], "3D or 4D "
                           "(batch mode) tensor with possibly 0 batch size and other non-zero "
                           "dimensions for input")
    blocks = _blocks(shape[-2:], kernel, dil, pad, step)
    if min(blocks) < 1:
        raise RuntimeError(f"Given input with spatial size {tuple(shape[-2:])}, kernel_size="
                           f"{kernel}, dilation={dil}, padding={pad}, calculated shape of the "
                           f"array of sliding blocks as {blocks}, but its components must be "
                           "at least one.")
    x = input.unsqueeze(0) if unbatched else input
    out = Unfold.apply(x, kernel, dil, pad, step)
    return out.squeeze(0) if unbatched else out


def fold(input: Tensor, output_size: Size, kernel_size: Size, dilation: Size = 1,
         padding: Size = 0, stride: Size = 1) -> Tensor:
    """``unfold`` undone where windows do not overlap, and summed where they do (col2im):
    (N, C * kh * kw, L) columns (or (C * kh * kw, L)) into (N, C, *output_size)."""
    kernel, dil, pad, step = _fold_settings(kernel_size, dilation, padding, stride)
    size = (output_size,) * 2 if isinstance(output_size, (int, np.integer)) else \
        tuple(output_size)
    if len(size) != 2:
        raise RuntimeError(f"It is expected output_size equals to 2, but got size {len(size)}")
    size = tuple(int(n) for n in size)
    shape = input.shape
    unbatched = _unbatched(input, (2, 3), input.ndim >= 2 and 0 in shape[-2:], "2D or 3D "
                           "(batch mode) tensor for input with possibly 0 batch size and "
                           "non-zero dimensions for input")
    if shape[-2] % math.prod(kernel):
        raise RuntimeError(f"Expected size of input's dimension 1 to be divisible by the "
                           f"product of kernel_size, but got input.size(1)={shape[-2]} and "
                           f"kernel_size={kernel}.")
    blocks = _blocks(size, kernel, dil, pad, step)
    if min(blocks) < 1 or math.prod(blocks) != shape[-1]:
        raise RuntimeError(f"Given output_size={size}, kernel_size={kernel}, dilation={dil}, "
                           f"padding={pad}, stride={step}, expected size of input's dimension "
                           f"2 to match the calculated number of sliding blocks {blocks[0]} * "
                           f"{blocks[1]} = {math.prod(blocks)}, but got input.size(2)="
                           f"{shape[-1]}.")
    x = input.unsqueeze(0) if unbatched else input
    out = Fold.apply(x, size, kernel, dil, pad, step)
    return out.squeeze(0) if unbatched else out


def channel_shuffle(input: Tensor, groups: int) -> Tensor:
    """The channels (dimension 1) of (N, C, *) ``input`` regrouped: C seen as (groups,
    C / groups), those two swapped (ShuffleNet's shuffle), as PyTorch's."""
    shape = tuple(input.shape)
    if input.ndim <= 2:
        raise RuntimeError(f"channel_shuffle expects input with > 2 dims, but got input with "
                           f"sizes {list(shape)}")
    if groups <= 0:
        raise RuntimeError(f"Number of groups to divide channels in must be positive. Value "
                           f"of groups:{groups}")
    if shape[1] % groups:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {shape[1]} "
                           f"channels and {groups} groups.")
    split = input.reshape(shape[0], groups, shape[1] // groups, *shape[2:])
    return split.transpose(1, 2).reshape(shape)


# ---- batch normalization ----------------------------------------------------------------------


def _batch_norm_composed(ctx: Any, x: Tensor, weight: Any, bias: Any, running_mean: Any,
                         running_var: Any, training: bool, momentum: float, eps: float
                         ) -> Tensor:
    """``BatchNorm`` composed of primitives, the running statistics left as they are."""
    axes, shape = ctx.axes, ctx.shape
    if training:
        centered = x - x.mean(dim=axes, keepdim=True)
        var = (centered * centered).mean(dim=axes, keepdim=True)
    else:
        centered = x - constant(running_mean._data).reshape(shape)
        var = constant(running_var._data).reshape(shape)
    out = centered / (var + eps).sqrt()
    out = out if weight is None else out * weight.reshape(shape)
    return out if bias is None else out + bias.reshape(shape)


class BatchNorm(Function):
    """(x - mean) / sqrt(var + eps) per channel (dimension 1), then * weight + bias where
    given. In training the batch's mean and biased variance, and the running statistics
    (where given) move towards the batch's mean and unbiased variance by ``momentum``, in
    place; else the running statistics themselves."""

    @staticmethod
    @quiet
    def forward(ctx, x, weight, bias, running_mean, running_var, training, momentum, eps):
        axes = (0, *range(2, x.ndim))
        shape = (1, -1) + (1,) * (x.ndim - 2)  # a channel's values along dimension 1
        if training:
            mean = x.mean(axis=axes)
            centered = x - mean.reshape(shape)
            var = np.square(centered).mean(axis=axes)
            if running_mean is not None:
                count = x.size // x.shape[1]
                for running, batch in ((running_mean, mean), (running_var,
                                                               var * (count / (count - 1)))):
                    running *= 1 - momentum
                    running += momentum * batch
                    note_in_place_write(running)
        else:
            centered, var = x - running_mean.reshape(shape), running_var
        scale = 1 / np.sqrt(var + eps)
        normed = centered * scale.reshape(shape)
        out = normed if weight is None else normed * weight.reshape(shape)
        if bias is not None:
            out = out + bias.reshape(shape)
        ctx.save_for_backward(normed, scale, weight)
        ctx.training, ctx.axes, ctx.shape = training, axes, shape
        return out

    @staticmethod
    def backward(ctx, grad):
        normed, scale, weight = ctx.saved_tensors
        axes, shape = ctx.axes, ctx.shape
        need_x, need_weight, need_bias = ctx.needs_input_grad[:3]
        grad_weight = (grad * normed).sum(axis=axes) if need_weight else None
        grad_bias = grad.sum(axis=axes) if need_bias else None
        grad_x = None
        if need_x:
            g = grad if weight is None else grad * weight.reshape(shape)
            if ctx.training:  # the batch's statistics depend on x too
                g = g - g.mean(axis=axes, keepdims=True) - \
                    normed * (g * normed).mean(axis=axes, keepdims=True)
            grad_x = g * scale.reshape(shape)
        return grad_x, grad_weight, grad_bias, None, None, None, None, None

    recorded_backward = staticmethod(through(_batch_norm_composed))


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None,
               training: bool = False, momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalize each channel (dimension 1) of (N, C, ...) ``input``, then * ``weight`` +
    ``bias`` (each (C,)) where given. While ``training``: by the batch's mean and (biased)
    variance, and the running statistics, where given, updated in place to
    (1 - momentum) * running + momentum * the batch's (its variance unbiased); else by
    ``running_mean`` and ``running_var``::

        y = F.batch_norm(x, mean, var, training=True)  # mean and var move towards x's
    """
    x = input._data
    if x.ndim < 2:
        raise ValueError(f"batch_norm: an input of shape {x.shape}; it needs (N, C, ...)")
    channels = x.shape[1]
    given = {"running_mean": running_mean, "running_var": running_var, "weight": weight,
             "bias": bias}
    for name, t in given.items():
        if t is not None and t._data.shape != (channels,):
            raise RuntimeError(f"{name} should contain {channels} elements not "
                               f"{math.prod(t._data.shape)}")
    _same_dtypes("batch_norm", input=x, **{name: _data(t) for name, t in given.items()})
    if not training and (running_mean is None or running_var is None):
        raise RuntimeError(f"{'running_mean' if running_mean is None else 'running_var'} "
                           "must be defined in evaluation mode")
    if training and x.size // max(channels, 1) <= 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input "
                         f"size {tuple(x.shape)}")
    # in training, the running statistics are updated only when both are given
    update = not training or (running_mean is not None and running_var is not None)
    stats = (running_mean, running_var) if update else (None, None)
    return BatchNorm.apply(input, weight, bias, *stats, training, momentum, eps)
