"""torch.nn.functional's vision ops beyond convolution and pooling: ``affine_grid`` and
``grid_sample`` (a spatial transformer's two halves, in 2-d and 3-d), the deprecated
``upsample`` names of ``interpolate``, ``local_response_norm``, ``max_unpool1d/2d/3d``,
``lp_pool1d/2d/3d``.

Each is composed of differentiable tensor ops (``max_unpool`` is one small ``Function``), so
backward, gradients of gradients and capture come with them. Where PyTorch's kernel makes a
choice a plain composition would not (``grid_sample``'s borders count as outside for the
gradient, its reflections flip the gradient's sign), masks computed from the data say so.

Loaded when first used, through ``functional.py``'s ``__getattr__``.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import conv as C
from .dtypes import short_name
from .higher_order import Linked, constant, linked
from .ops import where
from .tensor import Function, Tensor

Size = int | Sequence[int]

_ALIGN_WARNING = ("Default grid_sample and affine_grid behavior has changed to "
                  "align_corners=False since 1.3.0. Please specify align_corners=True if the "
                  "old behavior is desired. See the documentation of grid_sample for details.")


def _align(align_corners: bool | None) -> bool:
    """PyTorch's default for these two: False, with its warning that it once was True."""
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, UserWarning, stacklevel=3)
        return False
    return align_corners


# ---- affine_grid -------------------------------------------------------------------------------


def _linspace(steps: int, align_corners: bool, dtype: np.dtype) -> np.ndarray:
    """-1 to 1 in ``steps`` points, computed in ``dtype`` as PyTorch's linspace computes them
    (from both ends towards the middle), scaled to the pixel centres unless
    ``align_corners``; one point is 0."""
    if steps <= 1:
        return np.zeros(1, dtype)
    t = dtype.type
    step = t(2) / t(steps - 1)
    # each point rounded once, from the step in ``dtype`` (PyTorch's kernel: a fused
    # multiply-add), so the wider type
    wide = np.longdouble(step)
    i = np.arange(steps)
    points = np.where(i < steps // 2, -1 + wide * i, 1 - wide * (steps - 1 - i)).astype(dtype)
    return points if align_corners else (points * t(steps - 1) / t(steps)).astype(dtype)


def affine_grid(theta: Tensor, size: Sequence[int], align_corners: bool | None = None
                ) -> Tensor:
    """The sampling grid of a batch of affine maps ``theta``, (N, 2, 3) for ``size`` (N, C,
    H, W) or (N, 3, 4) for (N, C, D, H, W): each output pixel's position in [-1, 1] (x
    first) mapped by its ``theta``, for ``grid_sample``. ``align_corners``: -1 and 1 are
    the corner pixels' centres (True) or their outer edges (False, the default)::

        grid = F.affine_grid(theta, x.shape, align_corners=False)  # (N, H, W, 2)
    """
    align = _align(align_corners)
    if not theta.is_floating_point():
        raise ValueError(f"Expected theta to have floating point type, but got "
                         f"torch.{theta._data.dtype}")
    size = tuple(int(s) for s in size)
    n = len(size) - 2
    if n not in (2, 3):
        raise NotImplementedError(f"affine_grid only supports 4D and 5D sizes, for 2D and 3D "
                                  f"affine transforms, respectively. Got size {size}.")
    if theta.ndim != 3 or tuple(theta.shape[1:]) != (n, n + 1):
        raise ValueError(f"Expected a batch of {n}D affine matrices of shape Nx{n}x{n + 1} for "
                         f"size {size}. Got torch.Size({list(theta.shape)}).")
    spatial = size[2:]
    if align and min(spatial) == 1:
        warnings.warn("Since version 1.3.0, affine_grid behavior has changed for unit-size "
                      "grids when align_corners=True. This is not an intended use case of "
                      "affine_grid. See the documentation of affine_grid for details.",
                      UserWarning, stacklevel=2)
    elif min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {size}")
    if theta.shape[0] != size[0]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{size[0]}, {n + 1}] but got: [{theta.shape[0]}, {n + 1}].")
    dtype = theta._data.dtype
    # the base grid: each pixel's (x, y[, z], 1), x along the last dimension
    axes = [_linspace(s, align, dtype) for s in reversed(spatial)]
    columns = np.meshgrid(*axes, indexing="ij")  # (W, H[, D]) each
    base = np.stack([c.transpose() for c in columns] + [np.ones(spatial, dtype)], axis=-1)
    points = constant(base.reshape(1, -1, n + 1))
    grid = points @ theta.transpose(1, 2)  # (N, pixels, n)
    return grid.reshape(size[0], *spatial, n)


# ---- grid_sample -------------------------------------------------------------------------------


def _source(coordinate: Tensor, size: int, padding_mode: str, align: bool, scalar: bool
            ) -> Tensor:
    """Grid values along one dimension as positions in an input of ``size`` pixels, after
    ``padding_mode``, with their slopes, as PyTorch's CPU kernels compute them: its
    vectorized 2-d kernel, or (``scalar``) its 3-d one, which rounds the unnormalization
    otherwise and sends a NaN elsewhere."""
    if scalar:
        x = ((coordinate + 1) / 2) * (size - 1) if align else ((coordinate + 1) * size - 1) / 2
    else:  # (the input's dtype; (g + 1) times half the span)
        x = (coordinate + 1) * ((size - 1) / 2) if align else (coordinate + 1) * (size / 2) - 0.5
    if padding_mode == "zeros":
        if scalar:  # (non-finite positions become -100, far outside: 0 with finite weights)
            finite = np.isfinite(x._data)
            if not finite.all():
                x = where(constant(finite), x, -100.0)
        return x
    if padding_mode == "reflection":
        x = _reflected(x, size, align)
    # clipped into [0, size - 1], a NaN onto 0 (2-d) or size - 1 (3-d). As in PyTorch the
    # borders count as outside for the gradient, whose slope there is a factor 0 (so a NaN
    # gradient stays NaN): the clipped values plus x's offset from itself (0) times the slope
    data = x._data
    limit = data.dtype.type(size - 1)
    inside = ((data > 0) & (data < limit)).astype(data.dtype)
    clipped = np.where(data > 0, np.minimum(data, limit), data.dtype.type(0))
    if scalar:
        clipped[np.isnan(data)] = limit
    finite = np.isfinite(data)
    offset = where(constant(finite), x - constant(np.where(finite, data, 0)), 0.0)
    return constant(clipped) + offset * constant(inside)


def _reflected(x: Tensor, size: int, align: bool) -> Tensor:
    """Positions reflected off the borders (the corner pixels' centres with ``align``,
    their outer edges without) until they land inside; the slope is +1 or -1."""
    if align and size <= 1:
        return x * 0.0  # (an empty span: every position 0, with slope 0)
    low, twice_span = (0.0, 2.0 * (size - 1)) if align else (-0.5, 2.0 * size)
    shifted = x - low
    data = shifted._data
    sign = np.where(data < 0, -1, 1).astype(data.dtype)
    magnitude = shifted * constant(sign)
    flips = np.trunc(magnitude._data / data.dtype.type(twice_span))
    extra = magnitude - constant(flips * data.dtype.type(twice_span))
    reflected = twice_span - extra
    once_more = extra._data > reflected._data
    return where(constant(once_more), reflected, extra) + low


def _gathered(flat: Tensor, index: np.ndarray, ok: np.ndarray | None) -> Tensor:
    """The (N, C, P) values of (N, C, pixels) ``flat`` at the (N, P) flat ``index``; 0 where
    ``ok`` is False (outside the input)."""
    if ok is not None:
        index = np.where(ok, index, 0)
    values = flat.gather(2, np.broadcast_to(index[:, None, :], flat.shape[:2] + index.shape[1:]))
    return values if ok is None else where(constant(ok[:, None, :]), values, 0.0)


def _whole(position: np.ndarray) -> np.ndarray:
    """Whole positions as int64, NaN and the infinities sent far outside (PyTorch's
    conversion leaves them out of bounds too)."""
    finite = np.isfinite(position)
    return np.where(finite, np.where(finite, position, 0), -(2 ** 31)).astype(np.int64)


def grid_sample(input: Tensor, grid: Tensor, mode: str = "bilinear",
                padding_mode: str = "zeros", align_corners: bool | None = None) -> Tensor:
    """(N, C, H, W) ``input`` read at the (N, Ho, Wo, 2) positions of ``grid`` ((x, y) in
    [-1, 1], -1 the left and top): (N, C, Ho, Wo), by ``mode`` ``'bilinear'`` (gradients
    to input and grid) or ``'nearest'``; positions outside read 0 (``padding_mode``
    ``'zeros'``), the nearest border (``'border'``) or the reflection (``'reflection'``).
    ``align_corners`` as ``affine_grid``'s. ``'bicubic'`` weighs 4 x 4 pixels (Keys' cubic
    convolution, a = -0.75, padding each pixel read). (N, C, D, H, W) inputs take (N, Do,
    Ho, Wo, 3) grids of (x, y, z), read trilinearly by ``'bilinear'``::

        out = F.grid_sample(x, F.affine_grid(theta, x.shape, align_corners=False),
                            align_corners=False)
    """
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError(f"nn.functional.grid_sample(): expected mode to be 'bilinear', "
                         f"'nearest' or 'bicubic', but got: '{mode}'")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError(f"nn.functional.grid_sample(): expected padding_mode to be 'zeros', "
                         f"'border', or 'reflection', but got: '{padding_mode}'")
    align = _align(align_corners)
    if not isinstance(align, bool):
        raise TypeError(f"grid_sampler(): argument 'align_corners' (position 5) must be bool, "
                        f"not {type(align).__name__}")
    x, g = input, grid
    xs, gs = list(x.shape), list(g.shape)
    if x.ndim < 1 or g.ndim < 1 or xs[0] != gs[0]:
        raise RuntimeError(f"grid_sampler(): expected grid and input to have same batch size, "
                           f"but got input with sizes {xs} and grid with sizes {gs}")
    if gs[-1] != x.ndim - 2:
        raise RuntimeError(f"grid_sampler(): expected grid to have size {x.ndim - 2} in last "
                           f"dimension, but got grid with sizes {gs}")
    for dim in range(2, x.ndim):
        if not xs[dim]:
            raise RuntimeError(f"grid_sampler(): expected input to have non-empty spatial "
                               f"dimensions, but input has sizes {xs} with dimension {dim} "
                               f"being empty")
    if not (x.ndim == g.ndim and x.ndim in (4, 5)):
        raise RuntimeError(f"grid_sampler(): expected 4D or 5D input and grid with same number "
                           f"of dimensions, but got input with sizes {xs} and grid with sizes "
                           f"{gs}")
    if mode == "bicubic" and x.ndim == 5:
        raise RuntimeError("grid_sampler(): bicubic interpolation only supports 4D input")
    if x.dtype.kind != "f":
        raise NotImplementedError(f'"grid_sampler_{x.ndim - 2}d_cpu" not implemented for '
                                  f"'{short_name(x.dtype).capitalize()}'")
    if g.dtype != x.dtype:
        raise RuntimeError(f"expected scalar type {short_name(x.dtype).capitalize()} but found "
                           f"{short_name(g.dtype).capitalize()}")
    if mode == "bicubic":
        return _bicubic(x, g, padding_mode, align)
    return _sample(x, g, mode, padding_mode, align)


class _Nearest(Linked):
    """Nearest sampling's values, in the graph of the input and the grid with a derivative
    of 0 (the grid's gradient is zeros, as PyTorch's). Recorded, the gradients stay in that
    graph too, as PyTorch's do: their own gradients are zeros, not missing."""

    recorded_backward = staticmethod(linked(Linked.recorded_backward))


def _sample(x: Tensor, g: Tensor, mode: str, padding_mode: str, align: bool) -> Tensor:
    n = x.ndim - 2
    batch, channels, spatial = x.shape[0], x.shape[1], tuple(x.shape[2:])
    outs = tuple(g.shape[1:-1])
    if not (batch * channels * math.prod(outs)):
        out = Tensor(np.zeros((batch, channels, *outs), x.dtype))
        inputs = [t for t in (x, g) if t.requires_grad]
        return Linked.apply(out, *inputs) if inputs else out
    flat_grid = g.reshape(batch, math.prod(outs), n)
    # the grid's last dimension is (x, y[, z]): the input's dimensions from the last
    positions = [_source(flat_grid[:, :, n - 1 - axis], size, padding_mode, align, n == 3)
                 for axis, size in enumerate(spatial)]
    flat = x.reshape(batch, channels, math.prod(spatial))
    strides = [math.prod(spatial[axis + 1:]) for axis in range(n)]
    bounded = padding_mode != "zeros"  # the positions are inside but for the far corners

    def read(places: list[np.ndarray], far: tuple[int, ...]) -> Tensor:
        """The values at one pixel per position, 0 outside; ``far``: the dimensions where
        the pixel lies after the position's (the only ones that can fall outside when
        the positions were clipped)."""
        index = sum(p * stride for p, stride in zip(places, strides))
        if bounded:
            ok = np.logical_and.reduce([places[a] < spatial[a] for a in far]) if far else None
        else:
            ok = np.logical_and.reduce([(p > -1) & (p < size)
                                        for p, size in zip(places, spatial)])
        return _gathered(flat, np.asarray(index), ok)

    if mode == "nearest":
        out = read([_whole(np.rint(p._data)) for p in positions], ())
        if g.requires_grad or x.requires_grad:  # as PyTorch's: a gradient of zeros for the
            # grid, and the gradients in the graph of both
            out = _Nearest.apply(out, *(t for t in (x, g) if t.requires_grad))
        return out.reshape(batch, channels, *outs)
    lows = [np.floor(p._data) for p in positions]
    beyond = [p - constant(low) for p, low in zip(positions, lows)]  # the share of the next
    before = [1.0 - share for share in beyond]
    starts = [_whole(low) for low in lows]
    total = None
    for corner in itertools.product((0, 1), repeat=n):  # (PyTorch's order of the sum)
        weight = None
        for axis, step in enumerate(corner):
            share = beyond[axis] if step else before[axis]
            weight = share if weight is None else weight * share
        assert weight is not None
        places = [start + step for start, step in zip(starts, corner)]
        term = read(places, tuple(a for a, step in enumerate(corner) if step)) * \
            weight.unsqueeze(1)
        total = term if total is None else total + term
    assert total is not None
    return total.reshape(batch, channels, *outs)


def _tap_positions(taps: np.ndarray, size: int, padding_mode: str, align: bool
                   ) -> np.ndarray:
    """Whole pixel positions (as floats) after ``padding_mode``, as PyTorch's 2-d kernel
    pads each pixel that bicubic reads: clipped (NaN onto 0), or reflected then clipped."""
    if padding_mode == "zeros":
        return taps
    t = taps.dtype.type
    if padding_mode == "reflection" and not (align and size <= 1):
        low, twice_span = (t(0), t(2 * (size - 1))) if align else (t(-0.5), t(2 * size))
        magnitude = np.abs(taps - low)
        with np.errstate(invalid="ignore"):  # (inf - inf: NaN, as PyTorch's, quietly)
            extra = magnitude - np.trunc(magnitude / twice_span) * twice_span
        taps = np.minimum(extra, twice_span - extra) + low
    elif padding_mode == "reflection":
        taps = np.zeros_like(taps)
    return np.where(taps > 0, np.minimum(taps, t(size - 1)), t(0))


def _cubic_weights(t: Tensor) -> list[Tensor]:
    """Keys' cubic convolution weights (a = -0.75) of the 4 pixels around a position whose
    fraction past the second is ``t``, as PyTorch's kernel writes them."""
    a = -0.75

    def far(x: Tensor) -> Tensor:  # 1 < x < 2
        return ((x * a - 5 * a) * x + 8 * a) * x - 4 * a

    def near(x: Tensor) -> Tensor:  # x <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


def _bicubic(x: Tensor, g: Tensor, padding_mode: str, align: bool) -> Tensor:
    batch, channels, h, w = x.shape
    outs = tuple(g.shape[1:3])
    if not (batch * channels * math.prod(outs)):
        out = Tensor(np.zeros((batch, channels, *outs), x.dtype))
        inputs = [t for t in (x, g) if t.requires_grad]
        return Linked.apply(out, *inputs) if inputs else out
    flat_grid = g.reshape(batch, math.prod(outs), 2)
    # unnormalized but not padded: the padding applies to each pixel read
    cols, rows = (_source(flat_grid[:, :, i], size, "zeros", align, False)
                  for i, size in ((0, w), (1, h)))
    left, top = np.floor(cols._data), np.floor(rows._data)
    weights_x = _cubic_weights(cols - constant(left))
    weights_y = _cubic_weights(rows - constant(top))
    flat = x.reshape(batch, channels, h * w)

    def read(r: np.ndarray, q: np.ndarray) -> Tensor:
        r = _tap_positions(r, h, padding_mode, align)
        q = _tap_positions(q, w, padding_mode, align)
        wr, wq = _whole(r), _whole(q)
        ok = None if padding_mode != "zeros" else (wr > -1) & (wr < h) & (wq > -1) & (wq < w)
        return _gathered(flat, wr * w + wq, ok)

    total = None
    for i, weight_y in enumerate(weights_y):  # (PyTorch's order: rows of 4, then down)
        row = None
        for j, weight_x in enumerate(weights_x):
            term = weight_x.unsqueeze(1) * read(top + (i - 1), left + (j - 1))
            row = term if row is None else row + term
        assert row is not None
        term = weight_y.unsqueeze(1) * row
        total = term if total is None else total + term
    assert total is not None
    return total.reshape(batch, channels, *outs)


# ---- the deprecated upsample names -------------------------------------------------------------


def _deprecated(name: str) -> None:
    warnings.warn(f"`nn.functional.{name}` is deprecated. Use `nn.functional.interpolate` "
                  "instead.", UserWarning, stacklevel=3)


def upsample(input: Tensor, size: Size | None = None,
             scale_factor: float | Sequence[float] | None = None, mode: str = "nearest",
             align_corners: bool | None = None) -> Tensor:
    """``interpolate``, under its old name (deprecated, with PyTorch's warning)."""
    _deprecated("upsample")
    return C.interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input: Tensor, size: Size | None = None,
                     scale_factor: float | Sequence[float] | None = None) -> Tensor:
    """``interpolate(mode='nearest')``, under its old name (deprecated, with a warning)."""
    _deprecated("upsample_nearest")
    return C.interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input: Tensor, size: Size | None = None,
                      scale_factor: float | Sequence[float] | None = None) -> Tensor:
    """``interpolate(mode='bilinear', align_corners=True)``, under its old name
    (deprecated, with a warning)."""
    _deprecated("upsample_bilinear")
    return C.interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# ---- local response normalization --------------------------------------------------------------


def local_response_norm(input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75,
                        k: float = 1.0) -> Tensor:
    """Each entry of (N, C, *) ``input`` over (k + alpha * mean of the squares of the
    ``size`` channels around it)^beta (AlexNet's normalization; channels beyond the edges
    count as zeros in the mean)::

        F.local_response_norm(x, size=5)  # x's shape
    """
    if input.ndim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality                          input "
                         f"(got {input.ndim} dimensions)")
    if input.numel() == 0:
        return input
    channels = input.shape[1]
    squares = (input * input).reshape(input.shape[0], channels, -1)
    from .functional import pad

    padded = pad(squares, (0, 0, size // 2, (size - 1) // 2))
    total = padded.narrow(1, 0, channels)
    for offset in range(1, size):
        total = total + padded.narrow(1, offset, channels)
    div = (total / size).reshape(input.shape)
    return input / (div * alpha + k) ** beta


# ---- max_unpool --------------------------------------------------------------------------------


class MaxUnpool(Function):
    """(N, C, *spatial) zeros of ``size`` with each entry of ``x`` written at its index in
    its flattened plane; the gradient reads each index back."""

    @staticmethod
    def forward(ctx, x, index, size):
        lead = x.shape[:2]
        out = np.zeros((*lead, math.prod(size)), x.dtype)
        planes = (*lead, math.prod(index.shape[2:]))  # (not -1: a batch may be empty)
        np.put_along_axis(out, index.reshape(planes), x.reshape(planes), axis=-1)
        ctx.save_for_backward(index)
        return out.reshape(*lead, *size)

    @staticmethod
    def backward(ctx, grad):
        (index,) = ctx.saved_tensors
        lead = grad.shape[:2]
        planes = (*lead, math.prod(index.shape[2:]))
        read = np.take_along_axis(grad.reshape(*lead, math.prod(grad.shape[2:])),
                                  index.reshape(planes), axis=-1)
        return read.reshape(index.shape), None, None

    @staticmethod
    def recorded_backward(ctx, grad):
        (index,) = ctx.saved_tensors
        lead = grad.shape[:2]
        read = grad.reshape(*lead, math.prod(grad.shape[2:])).gather(
            2, index.reshape(*lead, math.prod(index.shape[2:])))
        return read.reshape(index.shape), None, None


def _triple(value: Any, n: int, name: str) -> tuple[int, ...]:
    values = (value,) * n if isinstance(value, (int, np.integer)) else tuple(value)
    if len(values) == 1 and n > 1:
        values = values * n
    if len(values) != n:
        raise ValueError(f"{name} must be an int or {n} ints, got {value!r}")
    return tuple(int(v) for v in values)


def _unpool_size(input: Tensor, kernel: tuple[int, ...], stride: tuple[int, ...],
                 padding: tuple[int, ...], output_size: Any) -> list[int]:
    """The output's spatial size, checked as PyTorch checks it."""
    n = len(kernel)
    default = [(input.shape[input.ndim - n + d] - 1) * stride[d] + kernel[d] - 2 * padding[d]
               for d in range(n)]
    if output_size is None:
        sizes = default
    else:
        sizes = [int(s) for s in output_size]
        if len(sizes) == n + 2:
            sizes = sizes[2:]
        if len(sizes) != n:
            raise ValueError(f"output_size should be a sequence containing {n} or {n + 2} "
                             f"elements, but it has a length of '{len(sizes)}'")
        for d in range(n):
            low, high = default[d] - stride[d], default[d] + stride[d]
            if not low < sizes[d] < high:
                raise ValueError(f'invalid output_size "{tuple(output_size)}" (dim {d} must '
                                 f"be between {low} and {high})")
    for d, s in enumerate(sizes):
        if s < 0:
            raise ValueError(f"max_unpooling: output_size must contain non-negative spatial "
                             f"dimensions, but got output_size[{d}]={s}")
    return sizes


def _max_unpool(n: int, input: Tensor, indices: Any, kernel_size: Size, stride: Size | None,
                padding: Size, output_size: Any) -> Tensor:
    kernel = _triple(kernel_size, n, "kernel_size")
    strides = kernel if stride is None else _triple(stride, n, "stride")
    pads = _triple(padding, n, "padding")
    sizes = _unpool_size(input, kernel, strides, pads, output_size)
    index = indices._data if isinstance(indices, Tensor) else np.asarray(indices)
    ranks = (3, 4) if n < 3 else (4, 5)
    rank = input.ndim + (1 if n == 1 else 0)  # (1-d: PyTorch's 2-d op on planes of width 1)
    if rank not in ranks:
        what = "2d" if n < 3 else "3d"
        raise RuntimeError(f"Input to max_unpooling{what} should be a {ranks[0]}d or "
                           f"{ranks[1]}d Tensor, but got a tensor with {rank} dimensions.")
    if index.dtype != np.int64:
        raise RuntimeError(f"elements in indices should be type int64 but got: "
                           f"{short_name(index.dtype).capitalize()}")
    if index.shape != tuple(input.shape):
        shape = list(input.shape) + ([1] if n == 1 else [])
        got = list(index.shape) + ([1] if n == 1 else [])
        raise RuntimeError(f"Expected shape of indices to be same as that of the input tensor "
                           f"({shape}) but got indices tensor with shape: {got}")
    if input.dtype.kind != "f":
        raise NotImplementedError(f'"max_unpool{max(n, 2)}d" not implemented for '
                                  f"'{short_name(input.dtype).capitalize()}'")
    plane = math.prod(sizes)
    bad = index[(index < 0) | (index >= plane)]
    if bad.size:
        shown = "x".join(map(str, sizes + ([1] if n == 1 else [])))
        raise RuntimeError(f"Found an invalid max index: {int(bad.flat[0])} (output volumes "
                           f"are of size {shown})")
    unbatched = input.ndim == n + 1
    x = input.unsqueeze(0) if unbatched else input
    out = MaxUnpool.apply(x, index[None] if unbatched else index, tuple(sizes))
    return out[0] if unbatched else out


def max_unpool1d(input: Tensor, indices: Tensor, kernel_size: Size, stride: Size | None = None,
                 padding: Size = 0, output_size: Sequence[int] | None = None) -> Tensor:
    """The inverse of ``max_pool1d``: zeros of (N, C, L_out) with each entry of ``input``
    at its ``indices`` (``max_pool1d(..., return_indices=True)``'s); L_out = (L - 1) *
    stride - 2 * padding + kernel_size unless ``output_size`` says otherwise::

        y, where = F.max_pool1d(x, 2, return_indices=True)
        F.max_unpool1d(y, where, 2)  # x's shape, zeros but at the maxima
    """
    return _max_unpool(1, input, indices, kernel_size, stride, padding, output_size)


def max_unpool2d(input: Tensor, indices: Tensor, kernel_size: Size, stride: Size | None = None,
                 padding: Size = 0, output_size: Sequence[int] | None = None) -> Tensor:
    """``max_unpool1d`` over (N, C, H, W) (or (C, H, W)), the inverse of ``max_pool2d``."""
    return _max_unpool(2, input, indices, kernel_size, stride, padding, output_size)


def max_unpool3d(input: Tensor, indices: Tensor, kernel_size: Size, stride: Size | None = None,
                 padding: Size = 0, output_size: Sequence[int] | None = None) -> Tensor:
    """``max_unpool1d`` over (N, C, D, H, W) (or (C, D, H, W))."""
    return _max_unpool(3, input, indices, kernel_size, stride, padding, output_size)


# ---- power-average pooling ---------------------------------------------------------------------


def _lp_pool(n: int, input: Tensor, norm_type: float, kernel_size: Size,
             stride: Size | None, ceil_mode: bool) -> Tensor:
    kernel = _triple(kernel_size, n, "kernel_size")
    strides = kernel if stride is None else _triple(stride, n, "stride")
    p = float(norm_type)
    max_pool, avg_pool = {1: (C.max_pool1d, C.avg_pool1d), 2: (C.max_pool2d, C.avg_pool2d),
                          3: (C.max_pool3d, C.avg_pool3d)}[n]
    if p == math.inf:
        return max_pool(input.abs(), kernel, strides, 0, 1, ceil_mode)
    if p == -math.inf:
        return -max_pool(-input.abs(), kernel, strides, 0, 1, ceil_mode)
    out = avg_pool(input ** norm_type, kernel, strides, 0, ceil_mode)
    # PyTorch's sign(out) * relu(|out|) is ``out`` but for its gradient: 0 at 0 (relu's
    # mask, even under the root's infinite slope there; tensorgrad's relu lets that NaN
    # through) and times 0 at NaN (sign's slope there). The same, with a where and a factor
    data = out._data
    nan = np.isnan(data)
    if nan.any():
        out = out * constant((~nan).astype(data.dtype))
    out = where(constant(data == 0), 0.0, out)
    return (out * math.prod(kernel)) ** (1.0 / norm_type)


def lp_pool1d(input: Tensor, norm_type: float, kernel_size: Size, stride: Size | None = None,
              ceil_mode: bool = False) -> Tensor:
    """The p-norm of each window along (N, C, L) (or (C, L)): (sum of x^p)^(1/p), p =
    ``norm_type`` (inf: the largest magnitude); windows ``stride`` apart (by default
    ``kernel_size``)::

        F.lp_pool1d(x, 2, 3)  # (N, C, (L - 3) // 3 + 1)
    """
    return _lp_pool(1, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool2d(input: Tensor, norm_type: float, kernel_size: Size, stride: Size | None = None,
              ceil_mode: bool = False) -> Tensor:
    """``lp_pool1d`` over the last two dimensions of (N, C, H, W) (or (C, H, W))."""
    return _lp_pool(2, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool3d(input: Tensor, norm_type: float, kernel_size: Size, stride: Size | None = None,
              ceil_mode: bool = False) -> Tensor:
    """``lp_pool1d`` over the last three dimensions of (N, C, D, H, W) (or (C, D, H, W))."""
    return _lp_pool(3, input, norm_type, kernel_size, stride, ceil_mode)


__all__ = ["affine_grid", "grid_sample", "local_response_norm", "lp_pool1d", "lp_pool2d",
           "lp_pool3d", "max_unpool1d", "max_unpool2d", "max_unpool3d", "upsample",
           "upsample_bilinear", "upsample_nearest"]
