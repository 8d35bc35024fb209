"""What a GPT needs beyond the primitives, each one fused ``Function``: one graph node with
a hand-derived backward, where a composition of primitives makes three to ten.

Names and arguments follow ``torch.nn.functional``; ``multi_head_attention`` goes beyond
it. ``tests/reference.py`` composes each from primitives, and the tests hold the fused
ops against those compositions and against the scalar engine.

Beyond a GPT, the rest of what model and training code commonly calls: activations
(``leaky_relu``, ``elu``, ``softplus``, ``mish``, ``hardtanh``, ``logsigmoid``), each a
``Function`` with its value and its slope side by side; the losses (``nll_loss``,
``binary_cross_entropy`` and ``..._with_logits``, ``l1_loss``, ``smooth_l1_loss``,
``huber_loss``, and ``cross_entropy``'s class weights, label smoothing and probability
targets), elementwise ``Function``s reduced by primitives; ``pad``, ``normalize`` and
``cosine_similarity``. ``tests/engine/test_nn_more.py`` holds them against the scalar
engine and against PyTorch. The less common activations (``prelu``, ``selu``, ``celu``, the
hard and shrinking ones, ``glu``, ``softmin``, ``threshold``) and losses (``kl_div``, the
margin, triplet and soft-margin losses, the Poisson and Gaussian likelihoods) and
``pairwise_distance`` are built the same way; ``tests/engine/test_activations_losses.py``
holds them to their formulas and PyTorch.

Two habits here exist only for speed (``benchmarks/SPEED.md`` has their accounts): sums
along the last dimension are products with a column of ones ("Row sums"), and products
of two matrices call ``ndarray.dot`` rather than ``@`` ("ndarray.dot").
"""

from __future__ import annotations

import contextlib
import functools
import math
import warnings
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .dtypes import get_default_dtype
from .grad_mode import get_ident, is_grad_enabled
from .higher_order import Spread, constant, linked, through, trailing_dims
from .ops import expand_error, floating, logistic, promote_types, result_dtype, sum_to, where
from .random import rng
from .special import erfc
from .tensor import Function, Tensor, normalize_dim, quiet, tapes, written_in_place
from .threads import each_block, get_num_threads, run_each

if TYPE_CHECKING:  # for type checkers: __getattr__, at the end, imports these when first used
    from .conv import (  # noqa: F401  # noqa: F401
        adaptive_avg_pool1d,
        adaptive_avg_pool2d,
        adaptive_avg_pool3d,
        adaptive_max_pool1d,
        adaptive_max_pool1d_with_indices,
        adaptive_max_pool2d,
        adaptive_max_pool2d_with_indices,
        adaptive_max_pool3d,
        adaptive_max_pool3d_with_indices,
        avg_pool1d,
        avg_pool2d,
        avg_pool3d,
        batch_norm,
        channel_shuffle,
        conv1d,
        conv2d,
        conv3d,
        conv_transpose1d,
        conv_transpose2d,
        conv_transpose3d,
        fold,
        interpolate,
        max_pool1d,
        max_pool2d,
        max_pool3d,
        max_pool3d_with_indices,
        pixel_shuffle,
        pixel_unshuffle,
        unfold,
    )
    from .ctc import ctc_loss  # noqa: F401
    from .margin_losses import (  # noqa: F401
        hinge_embedding_loss,
        multi_margin_loss,
        multilabel_margin_loss,
        triplet_margin_with_distance_loss,
    )
    from .normalization import group_norm, instance_norm  # noqa: F401
    from .sampling import (  # noqa: F401
        affine_grid,
        grid_sample,
        local_response_norm,
        lp_pool1d,
        lp_pool2d,
        lp_pool3d,
        max_unpool1d,
        max_unpool2d,
        max_unpool3d,
        upsample,
        upsample_bilinear,
        upsample_nearest,
    )
    from .stochastic import alpha_dropout, feature_alpha_dropout, rrelu, rrelu_  # noqa: F401

_max = np.maximum.reduce


def _row_sums(a: np.ndarray) -> np.ndarray:
    """Sums along the last dimension, kept as a dimension of length 1."""
    # speed: a product with a column of ones, not a.sum(-1) (benchmarks/SPEED.md, "Row sums")
    ones = column(a.shape[-1], 1, a.dtype)
    return a.dot(ones) if a.ndim == 2 else a @ ones


# speed: cached, not made per call (benchmarks/SPEED.md, "Cached columns and row numbers")
@functools.lru_cache(maxsize=256)
def column(count: int, value: float, dtype: np.dtype) -> np.ndarray:
    """A (count, 1) column of ``value``: ``rows @ column`` sums (1) or averages (1/count).

    256 are kept: attention's row sums alone use one per sequence length.
    """
    entries = np.full((count, 1), value, dtype)
    entries.flags.writeable = False  # shared between calls
    return entries


def _last(a: np.ndarray, dim: int) -> np.ndarray:
    """``a`` with dimension ``dim`` (non-negative) moved last: a view."""
    return a if dim == a.ndim - 1 else np.moveaxis(a, dim, -1)


def _from_last(a: np.ndarray, dim: int) -> np.ndarray:
    """The inverse of ``_last``."""
    return a if dim == a.ndim - 1 else np.moveaxis(a, -1, dim)


def _softmax(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Softmax along the last dimension, into ``out`` if given (which may be ``x``)."""
    # Shifting by the maximum changes nothing mathematically and keeps exp() finite.
    e = np.subtract(x, _max(x, axis=-1, keepdims=True), out=out)
    np.exp(e, out=e)
    e /= _row_sums(e)
    return e


# ---- softmax and log_softmax ------------------------------------------------------------------


def _softmax_composed(ctx: Any, x: Tensor, dim: int) -> Tensor:
    if x.shape[dim] if x.ndim else 1:  # (the shift changes no gradient; nothing to shift)
        x = x - x.amax(dim=dim, keepdim=True).detach()
    e = x.exp()
    return e / e.sum(dim=dim, keepdim=True)


class Softmax(Function):
    @staticmethod
    @quiet
    def forward(ctx, x, dim):
        x = _last(floating(x), dim)
        p = _from_last(_softmax(x) if x.shape[-1] else x.copy(), dim)  # over nothing: nothing
        ctx.save_for_backward(p)
        ctx.dim = dim
        return p

    @staticmethod
    def backward(ctx, grad):
        # d softmax: p * (g - sum(g * p)), the Jacobian-vector product without the Jacobian
        (p,) = ctx.saved_tensors
        g, q = _last(grad, ctx.dim), _last(p, ctx.dim)
        return _from_last(q * (g - _row_sums(g * q)), ctx.dim), None

    recorded_backward = staticmethod(through(_softmax_composed))


class LogSoftmax(Function):
    @staticmethod
    @quiet
    def forward(ctx, x, dim):
        x = _last(floating(x), dim)
        ctx.dim = dim
        if not x.shape[-1]:  # over nothing: nothing (a maximum of nothing would raise)
            shifted = x.copy()
        else:
            shifted = x - _max(x, axis=-1, keepdims=True)
            shifted -= np.log(_row_sums(np.exp(shifted)))
        ctx.save_for_backward(shifted)
        return _from_last(shifted, dim)

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        g = _last(grad, ctx.dim)
        return _from_last(g - np.exp(out) * _row_sums(g), ctx.dim), None

    recorded_backward = staticmethod(through(
        lambda ctx, x, dim: x - x.logsumexp(dim=dim, keepdim=True)))


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None, *,
            axis: int | None = None) -> Tensor:
    """exp(x) / sum(exp(x)) along ``dim`` (``axis``: NumPy's name); ``dtype``: the input cast
    to it first. No ``dim``: PyTorch's deprecated choice, with its warning::

        F.softmax(tensorgrad.tensor([[1.0, 1.0]]), dim=-1)  # Tensor([[0.5, 0.5]])
    """
    return _along(Softmax, _softmax_input("softmax", input, dtype), _softmax_dim(
        "softmax", input, dim if axis is None else axis, _stacklevel))


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
                dtype: Any = None, *, axis: int | None = None) -> Tensor:
    """x - log(sum(exp(x))) along ``dim``, stable for large logits; the rest as ``softmax``."""
    return _along(LogSoftmax, _softmax_input("log_softmax", input, dtype), _softmax_dim(
        "log_softmax", input, dim if axis is None else axis, _stacklevel))


def _softmax_input(name: str, x: Tensor, dtype: Any) -> Tensor:
    """``x`` (cast to ``dtype`` first, if given), which must be floating, as PyTorch's."""
    x = x if dtype is None else x.to(dtype)
    if isinstance(x, Tensor) and x._data.dtype.kind != "f":
        raise NotImplementedError(f"{name} of {x._data.dtype} data: it takes a floating "
                                  "tensor (convert it first, or pass dtype=)")
    return x


def _softmax_dim(name: str, x: Tensor, dim: int | None, stacklevel: int) -> int:
    """``dim``, or without one PyTorch's deprecated choice (0 for 0, 1 and 3 dimensions, else
    1) with its warning, shown ``stacklevel`` frames up from the function ``name``."""
    if dim is not None:
        return dim
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call "
                  "to include dim=X as an argument.", stacklevel=stacklevel)
    return 0 if x._data.ndim in (0, 1, 3) else 1


def _along(op: type[Function], x: Tensor, dim: int) -> Tensor:
    """``op`` along ``dim``; a 0-d tensor counts as one entry along dimension 0 or -1."""
    d = normalize_dim(dim, x._data.ndim)
    return op.apply(x, d) if x._data.ndim else op.apply(x.reshape(1), 0).reshape(())


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(x, 0); ``inplace`` as in ``leaky_relu``."""
    return _in_place(input, inplace, input.relu)


def tanh(input: Tensor) -> Tensor:
    return input.tanh()


def sigmoid(input: Tensor) -> Tensor:
    return input.sigmoid()


class SiLU(Function):
    """x * sigmoid(x); its slope s (1 + x (1 - s)) in one factor, as PyTorch's, so that an
    infinite gradient stays infinite (the product rule's two terms would give inf - inf)."""

    @staticmethod
    @quiet
    def forward(ctx, x):
        s = logistic(x)
        ctx.save_for_backward(x, s)
        return x * s

    @staticmethod
    def backward(ctx, grad):
        x, s = ctx.saved_tensors
        return grad * (s * (1 + x * (1 - s)))

    recorded_backward = staticmethod(linked(through(lambda ctx, x: x * x.sigmoid())))


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """x * sigmoid(x) (also called swish); ``inplace`` as in ``leaky_relu``."""
    _need_floating(input, "silu")
    return _in_place(input, inplace, lambda: SiLU.apply(input))


# ---- activations --------------------------------------------------------------------------------
# Each is one Function: its value and its slope side by side, written as PyTorch's kernels
# write them, so that the two agree at 0, at the kinks, at +-inf and at NaN.


def _in_place(input: Tensor, inplace: bool, compute: Callable[[], Tensor]) -> Tensor:
    """``compute()`` (an op on ``input``), or with ``inplace`` written into ``input``, which
    is returned: as a tensor's in-place methods, an op of the graph where one is recorded."""
    return written_in_place(input, compute) if inplace else compute()


def _leaky_relu_composed(ctx: Any, x: Tensor, negative_slope: float) -> Tensor:
    (positive,) = ctx.saved_tensors
    return where(constant(positive), x, x * negative_slope)


class LeakyReLU(Function):
    """x where x > 0, else negative_slope * x; the slope 1, else negative_slope (at 0 and
    at NaN too, as in PyTorch)."""

    @staticmethod
    @quiet
    def forward(ctx, x, negative_slope):
        positive = x > 0
        ctx.save_for_backward(positive)
        ctx.negative_slope = negative_slope
        return np.where(positive, x, x * negative_slope)

    @staticmethod
    def backward(ctx, grad):
        (positive,) = ctx.saved_tensors
        return np.where(positive, grad, grad * ctx.negative_slope), None

    recorded_backward = staticmethod(linked(through(_leaky_relu_composed)))


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x for x > 0, ``negative_slope`` * x elsewhere::

        F.leaky_relu(tensorgrad.tensor([-2.0, 3.0]), 0.1)  # Tensor([-0.2, 3.])

    With ``inplace=True`` the result is written into ``input`` and ``input`` returned, as in
    PyTorch; here that needs a tensor that records no gradient (or ``no_grad()``).
    """
    _need_floating(input, "leaky_relu")
    return _in_place(input, inplace, lambda: LeakyReLU.apply(input, negative_slope))


def _elu_composed(ctx: Any, x: Tensor, alpha: float) -> Tensor:
    nonpositive, _ = ctx.saved_tensors
    return where(constant(nonpositive), alpha * x.clamp(max=0).expm1(), x)


class ELU(Function):
    """x where x > 0, else alpha * (exp(x) - 1); the slope 1, else alpha * exp(x)."""

    @staticmethod
    def forward(ctx, x, alpha):
        # PyTorch's test is x <= 0, so NaN takes the slope 1
        nonpositive = x <= 0
        below = np.minimum(x, 0)  # (the exponentials of the positive part would overflow)
        ctx.save_for_backward(nonpositive, np.exp(below))
        ctx.alpha = alpha
        return np.where(nonpositive, alpha * np.expm1(below), x)

    @staticmethod
    def backward(ctx, grad):
        nonpositive, exps = ctx.saved_tensors
        return np.where(nonpositive, grad * (ctx.alpha * exps), grad), None

    recorded_backward = staticmethod(linked(through(_elu_composed)))


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x for x > 0, ``alpha`` * (exp(x) - 1) elsewhere; ``inplace`` as in ``leaky_relu``."""
    _need_floating(input, "elu")
    return _in_place(input, inplace, lambda: ELU.apply(input, alpha))


def _softplus_composed(ctx: Any, x: Tensor, beta: float, threshold: float) -> Tensor:
    _, linear = ctx.saved_tensors
    taken = constant(linear)  # (where x is taken as it is, exp(beta x) is not computed: its
    # overflow would make the masked branch's gradient inf * 0)
    return where(taken, x, (where(taken, 0.0, x) * beta).exp().log1p() / beta)


class Softplus(Function):
    """log(1 + exp(beta * x)) / beta, and x itself where beta * x > threshold; the slope
    sigmoid(beta * x), else 1."""

    @staticmethod
    @quiet
    def forward(ctx, x, beta, threshold):
        scaled = x * beta
        linear = scaled > threshold
        ctx.save_for_backward(scaled, linear)
        # exp overflows only where x itself is taken; beta 0 divides by 0, as in PyTorch
        return np.where(linear, x, np.log1p(np.exp(scaled)) / beta)

    @staticmethod
    def backward(ctx, grad):
        scaled, linear = ctx.saved_tensors
        exps = np.exp(scaled)
        return np.where(linear, grad, grad * (exps / (exps + 1))), None, None

    recorded_backward = staticmethod(through(_softplus_composed))


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """A smooth relu, log(1 + exp(beta * x)) / beta; x itself where beta * x > ``threshold``
    (where the two agree to rounding), as PyTorch's."""
    _need_floating(input, "softplus")
    return Softplus.apply(input, beta, threshold)


class Mish(Function):
    """x * tanh(softplus(x)); the slope tanh(sp) + x * sigmoid(x) * (1 - tanh(sp)**2)."""

    @staticmethod
    @quiet
    def forward(ctx, x):
        x = floating(x)  # (as PyTorch's, mish takes integers)
        # +-inf give NaN, as in PyTorch
        t = np.tanh(np.log1p(np.exp(x)))
        ctx.save_for_backward(x, t)
        return x * t

    @staticmethod
    def backward(ctx, grad):
        x, t = ctx.saved_tensors
        return grad * (t + x * _sigmoid(x) * (1 - t * t))

    recorded_backward = staticmethod(through(
        lambda ctx, x: x * ((-x.abs()).exp().log1p() + x.clamp(min=0)).tanh()))


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """x * tanh(softplus(x)); ``inplace`` as in ``leaky_relu``."""
    return _in_place(input, inplace, lambda: Mish.apply(input))


def _hardtanh_composed(ctx: Any, x: Tensor, min_val: float, max_val: float) -> Tensor:
    (outside,) = ctx.saved_tensors
    return where(constant(outside), x.detach().clamp(min_val, max_val), x)


class Hardtanh(Function):
    """x clipped into [min_val, max_val]; the slope 1 strictly between the bounds, 0 at and
    beyond them (PyTorch's, where ``clamp``'s is 1 at the bounds)."""

    @staticmethod
    def forward(ctx, x, min_val, max_val):
        if x.dtype.kind in "iu":  # integers clip to the bounds truncated, as in PyTorch
            min_val, max_val = int(min_val), int(max_val)
        ctx.save_for_backward((x <= min_val) | (x >= max_val))
        return np.clip(x, min_val, max_val)

    @staticmethod
    def backward(ctx, grad):
        (outside,) = ctx.saved_tensors
        return np.where(outside, 0, grad), None, None

    recorded_backward = staticmethod(linked(through(_hardtanh_composed)))


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0,
             inplace: bool = False) -> Tensor:
    """x clipped into [``min_val``, ``max_val``]; no gradient at the bounds themselves.
    ``inplace`` as in ``leaky_relu``."""
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    return _in_place(input, inplace, lambda: Hardtanh.apply(input, min_val, max_val))


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """min(max(x, 0), 6): ``hardtanh`` between 0 and 6."""
    return hardtanh(input, 0.0, 6.0, inplace)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):  # exp(-x) of a very negative x is inf: 1 / inf is 0
        return 1 / (1 + np.exp(-x))


def _log_sigmoid(x: np.ndarray) -> np.ndarray:
    """log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|)): no overflow, and no log of a
    rounded 1 for large x."""
    return np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x)))


class LogSigmoid(Function):
    """log(sigmoid(x)); the slope sigmoid(-x), from exp(-|x|) as PyTorch computes it."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _log_sigmoid(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        e = np.exp(-np.abs(x))
        part = e / (1 + e)
        return grad * np.where(x < 0, 1 - part, part)

    recorded_backward = staticmethod(through(
        lambda ctx, x: x.clamp(max=0) - (-x.abs()).exp().log1p()))


def logsigmoid(input: Tensor) -> Tensor:
    """log(sigmoid(x)), accurate for large |x|."""
    _need_floating(input, "logsigmoid")
    return LogSigmoid.apply(input)


def _scaled_elu_composed(ctx: Any, x: Tensor, alpha: float, scale: float,
                         input_scale: float) -> Tensor:
    nonpositive, _ = ctx.saved_tensors
    return where(constant(nonpositive), (alpha * scale) * (x.clamp(max=0) * input_scale).expm1(),
                 x * scale)


class ScaledELU(Function):
    """scale * x where x > 0, else alpha * scale * (exp(x * input_scale) - 1): SELU's and
    CELU's; the slopes scale, else alpha * scale * input_scale * exp(x * input_scale). As
    PyTorch's test is x <= 0, 0 takes the left slope and NaN the right one."""

    @staticmethod
    @quiet
    def forward(ctx, x, alpha, scale, input_scale):
        nonpositive = x <= 0
        # (the exponentials of the positive part would overflow; of the negative part they
        # do for a negative alpha, to -inf as in PyTorch)
        below = np.minimum(x, 0) * input_scale
        exps = np.exp(below)
        left = (alpha * scale) * np.expm1(below)
        ctx.save_for_backward(nonpositive, exps)
        ctx.left_slope, ctx.scale = alpha * scale * input_scale, scale
        return np.where(nonpositive, left, x * scale)

    @staticmethod
    def backward(ctx, grad):
        nonpositive, exps = ctx.saved_tensors
        slope = np.where(nonpositive, ctx.left_slope * exps, ctx.scale)
        # (0 * inf: NaN, as in PyTorch)
        return grad * slope, None, None, None

    recorded_backward = staticmethod(linked(through(_scaled_elu_composed)))


# Klambauer et al.'s constants, as PyTorch's
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """The self-normalizing ELU, scale * elu(x, alpha) with PyTorch's constants;
    ``inplace`` as in ``leaky_relu``::

        F.selu(tensorgrad.tensor([0.0, 1.0]))  # Tensor([0.        , 1.05070099])
    """
    _need_floating(input, "selu")
    return _in_place(input, inplace, lambda: ScaledELU.apply(input, _SELU_ALPHA, _SELU_SCALE, 1.0))


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x for x > 0, ``alpha`` * (exp(x / alpha) - 1) elsewhere: ELU with slope 1 at 0 for
    any alpha; ``inplace`` as in ``leaky_relu``."""
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: alpha cannot be 0 for CELU")
    _need_floating(input, "celu")
    return _in_place(input, inplace, lambda: ScaledELU.apply(input, alpha, 1.0, 1.0 / alpha))


def _prelu_composed(ctx: Any, x: Tensor, weight: Tensor, shape: Any) -> Tensor:
    _, _, positive = ctx.saved_tensors
    return where(constant(positive), x, x * weight.reshape(shape))


class PReLU(Function):
    """x where x > 0, else w * x, w broadcast as ``shape``; the slopes 1, else w (at 0 and
    NaN too, as PyTorch's) for x, and 0, else x for w."""

    @staticmethod
    @quiet
    def forward(ctx, x, weight, shape):
        w = weight.reshape(shape)
        positive = x > 0
        ctx.save_for_backward(x, w, positive)
        ctx.weight_shape = weight.shape
        return np.where(positive, x, x * w)

    @staticmethod
    def backward(ctx, grad):
        x, w, positive = ctx.saved_tensors
        grad_x = grad_w = None
        if ctx.needs_input_grad[0]:
            grad_x = np.where(positive, grad, grad * w)
        if ctx.needs_input_grad[1]:
            grad_w = sum_to(np.where(positive, 0, grad * x), w.shape).reshape(ctx.weight_shape)
        return grad_x, grad_w, None

    recorded_backward = staticmethod(linked(through(_prelu_composed)))


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """x for x > 0, ``weight`` * x elsewhere, with a learned ``weight``: one number, or one
    per channel (dimension 1 of ``input``), as PyTorch's::

        F.prelu(images, tensorgrad.full((3,), 0.25))  # images of shape (N, 3, H, W)
    """
    x, w = input._data, weight._data
    _need_floating(input, "prelu")
    if w.ndim > 1:
        raise RuntimeError(f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: "
                           f"ndim = {w.ndim}")
    if x.dtype != w.dtype:
        raise RuntimeError(f"prelu: Type promoting not supported. Got {_torch_name(x.dtype)} "
                           f"and {_torch_name(w.dtype)}")
    if w.size == 1:
        shape: tuple[int, ...] = ()
    elif x.ndim == 0:
        raise RuntimeError("Not allow zero-dim input tensor.")
    else:
        channels = x.shape[1] if x.ndim > 1 else 1
        if w.size != channels:
            raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found "
                               f"parameter numbers = {w.size} and channel size = {channels}.")
        shape = (channels,) + (1,) * (x.ndim - 2)
    return PReLU.apply(input, weight, shape)


def _torch_name(dtype: np.dtype) -> str:
    """PyTorch's name of a float dtype in its messages."""
    return {"float32": "Float", "float64": "Double"}.get(dtype.name, dtype.name)


class Hardswish(Function):
    """x * min(max(x + 3, 0), 6) / 6; the slope 0 up to -3, x / 3 + 1/2 below 3, 1 from 3 on
    (and at NaN, as PyTorch's)."""

    @staticmethod
    @quiet
    def forward(ctx, x):
        ctx.save_for_backward(x)
        # -inf * 0: NaN, as in PyTorch
        return x * np.clip(x + 3, 0, 6) / 6

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors  # (0 up to -3 even of a NaN gradient: a where, as PyTorch's)
        return np.where(x <= -3, 0, np.where(x < 3, grad * (x / 3 + 0.5), grad)).astype(
            grad.dtype, copy=False)

    recorded_backward = staticmethod(linked(through(
        lambda ctx, x: x * (x + 3).clamp(0, 6) / 6)))


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """x * relu6(x + 3) / 6, MobileNetV3's cheap swish; ``inplace`` as in ``leaky_relu``."""
    _need_floating(input, "hardswish")
    return _in_place(input, inplace, lambda: Hardswish.apply(input))


class Hardsigmoid(Function):
    """min(max(x + 3, 0), 6) / 6; the slope 1/6 strictly between -3 and 3, else 0 (at NaN
    too). PyTorch's slope is 1/6 rounded to float32 even for float64: this one is exact."""

    @staticmethod
    @quiet
    def forward(ctx, x):
        ctx.save_for_backward((x > -3) & (x < 3))
        return np.clip(x + 3, 0, 6) / 6

    @staticmethod
    def backward(ctx, grad):
        (inside,) = ctx.saved_tensors
        return np.where(inside, grad / 6, 0)

    @staticmethod
    def recorded_backward(ctx, grad):
        (inside,) = ctx.saved_tensors
        return (where(constant(inside), grad / 6, 0.0),)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """relu6(x + 3) / 6, a piecewise-linear sigmoid; ``inplace`` as in ``leaky_relu``."""
    _need_floating(input, "hardsigmoid")
    return _in_place(input, inplace, lambda: Hardsigmoid.apply(input))


class GLU(Function):
    """a * sigmoid(b), a and b the two halves of x along ``dim``; the slopes sigmoid(b) for
    a and a * sigmoid(b) * (1 - sigmoid(b)) for b."""

    @staticmethod
    @quiet
    def forward(ctx, x, dim):
        a, b = np.split(x, 2, axis=dim)
        gate = _sigmoid(b)
        ctx.save_for_backward(a, gate)
        ctx.dim = dim
        # inf * 0: NaN, as in PyTorch
        return a * gate

    @staticmethod
    def backward(ctx, grad):
        a, gate = ctx.saved_tensors
        grad_a = grad * gate
        return np.concatenate((grad_a, grad_a * a * (1 - gate)), axis=ctx.dim), None

    recorded_backward = staticmethod(through(
        lambda ctx, x, dim: x.chunk(2, dim)[0] * x.chunk(2, dim)[1].sigmoid()))


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """The gated linear unit: the first half of ``input`` along ``dim`` times the sigmoid of
    the second::

        F.glu(tensorgrad.tensor([2.0, 0.0]))  # Tensor([1.]): 2 * sigmoid(0)
    """
    shape = input._data.shape
    if not shape:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    d = normalize_dim(dim, len(shape))
    if shape[d] % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {d} is size "
                           f"{shape[d]}")
    _need_floating(input, "glu")
    return GLU.apply(input, d)


class Softsign(Function):
    """x / (1 + |x|); the slope by the quotient rule, 1 / d - x * sign(x) / d**2 with
    d = 1 + |x|, as PyTorch's autograd takes it (so NaN at +-inf, as there)."""

    @staticmethod
    @quiet
    def forward(ctx, x):
        x = floating(x)  # (as PyTorch's, softsign takes integers)
        d = 1 + np.abs(x)
        ctx.save_for_backward(x, d)
        return x / d

    @staticmethod
    def backward(ctx, grad):
        x, d = ctx.saved_tensors
        return grad * (1 / d - x * np.sign(x) / (d * d))

    recorded_backward = staticmethod(through(lambda ctx, x: x / (1 + x.abs())))


def softsign(input: Tensor) -> Tensor:
    """x / (1 + |x|), a sigmoid-shaped curve from -1 to 1 that approaches them slowly."""
    return Softsign.apply(input)


class Tanhshrink(Function):
    """x - tanh(x); the slope tanh(x)**2."""

    @staticmethod
    @quiet
    def forward(ctx, x):
        x = floating(x)  # (as PyTorch's, tanhshrink takes integers)
        t = np.tanh(x)
        ctx.save_for_backward(t)
        # inf - 1 is inf; only NaN gives NaN
        return x - t

    @staticmethod
    def backward(ctx, grad):
        (t,) = ctx.saved_tensors
        return grad * (t * t)

    recorded_backward = staticmethod(through(lambda ctx, x: x - x.tanh()))


def tanhshrink(input: Tensor) -> Tensor:
    """x - tanh(x)."""
    return Tanhshrink.apply(input)


class Shrink(Function):
    """0 where |x| <= lambd, else x moved ``lambd`` towards 0 (``soft``) or x itself; the
    slope 0, else 1 (at NaN too, as PyTorch's)."""

    @staticmethod
    @quiet
    def forward(ctx, x, lambd, soft):
        inside = np.abs(x) <= lambd
        ctx.save_for_backward(inside)
        # NaN is outside, and stays NaN
        return np.where(inside, 0, x - np.sign(x) * lambd if soft else x).astype(x.dtype,
                                                                                 copy=False)

    @staticmethod
    def backward(ctx, grad):
        (inside,) = ctx.saved_tensors
        return np.where(inside, 0, grad), None, None

    @staticmethod
    @linked
    def recorded_backward(ctx, grad):
        (inside,) = ctx.saved_tensors
        return where(constant(inside), 0.0, grad), None, None


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """x - lambd for x > ``lambd``, x + lambd for x < -lambd, 0 between."""
    _need_floating(input, "softshrink")
    if not lambd >= 0:
        dtype = input._data.dtype
        raise RuntimeError(f"lambda must be in range [0, {np.finfo(dtype).max:g}] for input "
                           f"dtype {_torch_name(dtype)}, but found {lambd}")
    return Shrink.apply(input, lambd, True)


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """x where |x| > ``lambd``, 0 elsewhere."""
    _need_floating(input, "hardshrink")
    return Shrink.apply(input, lambd, False)


class Threshold(Function):
    """x where x > threshold, else ``value``; the slope 1, else 0 (NaN keeps itself and
    the slope 1, as PyTorch's test is x <= threshold)."""

    @staticmethod
    @quiet
    def forward(ctx, x, threshold, value):
        if x.dtype.kind in "iu":  # integers compare with the threshold truncated, as PyTorch's
            threshold = int(threshold)
        below = x <= threshold
        ctx.save_for_backward(below)
        return np.where(below, value, x).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (below,) = ctx.saved_tensors
        return np.where(below, 0, grad), None, None

    @staticmethod
    @linked
    def recorded_backward(ctx, grad):
        (below,) = ctx.saved_tensors
        return where(constant(below), 0.0, grad), None, None


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """``input`` where it exceeds ``threshold``, ``value`` elsewhere (cast to the input's
    dtype: integers keep theirs, as PyTorch's); ``inplace`` as in ``leaky_relu``::

        F.threshold(tensorgrad.tensor([0.5, 2.0]), 1.0, -1.0)  # Tensor([-1.,  2.])
    """
    return _in_place(input, inplace, lambda: Threshold.apply(input, threshold, value))


# PyTorch's in-place names of the activations: ``F.relu_(x)`` is ``F.relu(x, inplace=True)``
def relu_(input: Tensor) -> Tensor:
    return relu(input, inplace=True)


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    return elu(input, alpha, inplace=True)


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    return leaky_relu(input, negative_slope, inplace=True)


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    return hardtanh(input, min_val, max_val, inplace=True)


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:
    return _in_place(input, True, lambda: Threshold.apply(input, threshold, value))


def selu_(input: Tensor) -> Tensor:
    return selu(input, inplace=True)


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    return celu(input, alpha, inplace=True)


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
            dtype: Any = None) -> Tensor:
    """softmax(-x) along ``dim``: weights that favour the smallest entries. No ``dim``: the
    deprecated choice of ``softmax``'s module, with its warning; ``dtype``: the input is
    cast to it first, as in PyTorch."""
    dim = _softmax_dim("softmin", input, dim, _stacklevel)
    return softmax(-_softmax_input("softmin", input, dtype), dim)


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """An int64 tensor with one more dimension, of length ``num_classes`` (-1: the largest
    class + 1), holding 1 at each entry's class."""
    classes = tensor._data if isinstance(tensor, Tensor) else np.asarray(tensor)
    if classes.dtype.kind not in "iu":
        raise TypeError(f"one_hot takes integer classes, not {classes.dtype}")
    if num_classes == -1:
        if not classes.size:
            raise RuntimeError("one_hot of an empty tensor needs num_classes")
        num_classes = int(classes.max()) + 1
    if classes.size and (classes.min() < 0 or classes.max() >= num_classes):
        raise RuntimeError(f"one_hot: a class outside 0..{num_classes - 1}")
    return Tensor(np.arange(num_classes) == classes[..., None], dtype=np.int64)


def embedding(input: Any, weight: Tensor, padding_idx: int | None = None,
              max_norm: float | None = None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """The rows of ``weight`` at the integer indices ``input``; an index outside
    0..len(weight) - 1 raises IndexError, as PyTorch's (-1 is not the last row). The row
    ``padding_idx`` (negative: from the end) is looked up as the others but gets no
    gradient, as in PyTorch::

        emb = embedding(np.array([0, 2, 0]), weight, padding_idx=0)  # weight.grad[0]: zeros

    ``max_norm``: first, each row looked up whose ``norm_type``-norm exceeds it is scaled in
    place (outside the graph) to that norm, as PyTorch's. That write is not tracked (as a
    write through ``._data``): clone the weight for any other use in the same forward pass.
    ``scale_grad_by_freq``: each row's gradient is divided by the number of times the batch
    looks it up. Sparse gradients (``sparse=True``) are not supported.
    """
    if sparse:
        raise NotImplementedError("embedding: sparse gradients (sparse=True) are not supported")
    ids = input._data if isinstance(input, Tensor) else np.asarray(input)
    if ids.dtype.kind not in "iu":
        raise RuntimeError(f"embedding takes integer ids (int64 or int32), not {ids.dtype}")
    rows = len(weight._data)
    if ids.size and not (ids.min() >= 0 and ids.max() < rows):
        raise IndexError(f"embedding: an id outside 0..{rows - 1}")
    if padding_idx is not None:
        padding_idx = padding_index(padding_idx, rows)
    if max_norm is not None:
        _renorm_rows(weight._data, ids, max_norm, norm_type)
    looked_up = weight[ids]
    if scale_grad_by_freq and ids.size:
        _, where_in, counts = np.unique(ids, return_inverse=True, return_counts=True)
        shares = 1 / counts[where_in.reshape(ids.shape)]
        looked_up = ScaledGradient.apply(looked_up, shares[..., None].astype(looked_up.dtype))
    if padding_idx is None:
        return looked_up
    # the same rows, the padding's taken from outside the graph: no gradient reaches it
    return where((ids == padding_idx)[..., None], looked_up.detach(), looked_up)


def _renorm_rows(table: np.ndarray, ids: np.ndarray, max_norm: float, norm_type: float) -> None:
    """Scale the rows of ``table`` that ``ids`` names and whose norm exceeds ``max_norm`` by
    max_norm / (norm + 1e-7), in place: PyTorch's embedding_renorm_."""
    if tapes and get_ident() in tapes:
        raise RuntimeError("embedding with max_norm writes into the weight, which a captured "
                           "function would not replay")
    named = np.unique(ids)
    norms = np.linalg.norm(table[named], ord=norm_type, axis=-1)
    over = norms > max_norm
    if over.any():
        scale = max_norm / (norms[over].astype(np.float64) + 1e-7)
        table[named[over]] *= scale.astype(table.dtype)[:, None]


class ScaledGradient(Function):
    """The identity, with the gradient multiplied by ``scale``."""

    @staticmethod
    @quiet
    def forward(ctx, x, scale):
        ctx.save_for_backward(scale)
        return x.view()

    @staticmethod
    def backward(ctx, grad):
        (scale,) = ctx.saved_tensors
        return grad * scale, None


def padding_index(padding_idx: int, rows: int) -> int:
    """``padding_idx`` of a table of ``rows`` rows as a row number (-1: the last), checked
    as PyTorch checks it."""
    if not -rows <= padding_idx < rows:
        raise AssertionError("Padding_idx must be within num_embeddings")
    return padding_idx + rows if padding_idx < 0 else padding_idx


# ---- gelu and dropout ---------------------------------------------------------------------------

_SQRT_HALF = math.sqrt(0.5)
_ONE_OVER_SQRT_TAU = 1 / math.sqrt(2 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)
_CUBIC = 0.044715  # the tanh form's coefficient (Hendrycks and Gimpel, as PyTorch's)


def _gelu_composed(ctx: Any, x: Tensor, approximate: str) -> Tensor:
    if approximate == "tanh":
        return 0.5 * x * (1 + (math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)).tanh())
    return 0.5 * x * (1 + (x * (1 / math.sqrt(2))).erf())


class GELU(Function):
    """x * Phi(x), Phi the standard normal distribution function; or its tanh form.

    speed: the arrays go through a block at a time, each block's passes in cache, the blocks
    shared between threads (``each_block``; benchmarks/SPEED.md, "Round six"). Each entry's
    arithmetic is the same as over the whole array, in the same order.
    """

    @staticmethod
    def forward(ctx, x, approximate):
        x = floating(x)
        ctx.approximate = approximate
        flat = np.ravel(x)
        out, held = np.empty_like(flat), np.empty_like(flat)
        kernel = _gelu_tanh if approximate == "tanh" else _gelu_exact
        each_block(lambda s: kernel(flat[s], out[s], held[s]), flat.size)
        ctx.save_for_backward(x, held)  # x itself: backward() sees a write into it
        return out.reshape(x.shape)

    @staticmethod
    def backward(ctx, grad):
        x, held = ctx.saved_tensors
        flat, flat_grad = np.ravel(x), np.ravel(grad)
        out = np.empty(flat.shape, np.result_type(grad, x))
        kernel = _gelu_tanh_slope if ctx.approximate == "tanh" else _gelu_exact_slope
        each_block(lambda s: kernel(flat[s], held[s], flat_grad[s], out[s]), flat.size)
        return out.reshape(grad.shape), None

    recorded_backward = staticmethod(through(_gelu_composed))


# GELU's blocks: each writes its results into ``out`` (and what backward needs into ``held``).
# x**3 may overflow to inf (tanh(inf) is 1), -inf * 0 is NaN: as in PyTorch, without warnings.

@np.errstate(over="ignore", invalid="ignore")
def _gelu_exact(x: np.ndarray, out: np.ndarray, cdf: np.ndarray) -> None:
    # x * Phi(x), Phi(x) = erfc(-x / sqrt(2)) / 2: accurate far out on the left, where
    # 1 + erf would round to 0
    np.multiply(erfc(-x * _SQRT_HALF), 0.5, out=cdf)
    np.multiply(x, cdf, out=out)


@np.errstate(over="ignore", invalid="ignore")
def _gelu_exact_slope(x: np.ndarray, cdf: np.ndarray, grad: np.ndarray,
                      out: np.ndarray) -> None:
    # grad * d(x * Phi(x)) = grad * (Phi(x) + x * phi(x))
    density = np.multiply(x, -0.5)
    density *= x
    np.exp(density, out=density)
    density *= _ONE_OVER_SQRT_TAU
    density *= x
    density += cdf
    np.multiply(grad, density, out=out)


@np.errstate(over="ignore", invalid="ignore")
def _gelu_tanh(x: np.ndarray, out: np.ndarray, t: np.ndarray) -> None:
    # 0.5 * x * (1 + t), t = tanh(sqrt(2/pi) * (x + 0.044715 * x**3))
    np.multiply(x, _CUBIC, out=t)
    t *= x
    t *= x
    t += x
    t *= _SQRT_2_OVER_PI
    np.tanh(t, out=t)
    np.multiply(x, 0.5, out=out)
    out *= t + 1


@np.errstate(over="ignore", invalid="ignore")
def _gelu_tanh_slope(x: np.ndarray, t: np.ndarray, grad: np.ndarray, out: np.ndarray) -> None:
    # grad * (0.5 * (1 + t) + 0.5 * x * (1 - t**2) * sqrt(2/pi) * (1 + 3 * 0.044715 * x**2))
    inner_slope = np.multiply(x, 3 * _CUBIC)
    inner_slope *= x
    inner_slope += 1
    inner_slope *= _SQRT_2_OVER_PI
    slope = np.multiply(x, 0.5)
    slope *= 1 - t * t
    slope *= inner_slope
    slope += 0.5 * (t + 1)
    np.multiply(grad, slope, out=out)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """The Gaussian error linear unit, x * Phi(x), exactly (with erf) or, with
    ``approximate='tanh'``, as 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x**3)))."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate is 'none' or 'tanh', not {approximate!r}")
    _need_floating(input, "gelu")
    return GELU.apply(input, approximate)


def _need_floating(x: Tensor, name: str, error: type[Exception] = NotImplementedError) -> None:
    """As PyTorch: these ops take floating tensors only (convert integers with .float()), and
    refuse others with its error type (its kernels': NotImplementedError)."""
    if x._data.dtype.kind != "f":
        raise error(f"{name} of {x._data.dtype} data: it needs a floating tensor")


class Dropout(Function):
    """Zeros each entry with probability ``p`` (drawn in the forward, from the generator),
    and scales the rest by 1 / (1 - p)."""

    @staticmethod
    @quiet
    def forward(ctx, x, p, generator):
        kept = rng(generator).random(x.shape) >= p
        scale = x.dtype.type(1 / (1 - p)) if p < 1 else x.dtype.type(0)
        mask = kept * scale
        ctx.save_for_backward(mask)
        return x * mask

    @staticmethod
    def backward(ctx, grad):
        (mask,) = ctx.saved_tensors
        return grad * mask, None, None

    recorded_backward = staticmethod(through(
        lambda ctx, x, p, generator: x * constant(ctx.saved_tensors[0])))


def _dropout_probability(p: float) -> float:
    if not 0 <= p <= 1:  # (NaN fails this too)
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    return float(p)


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False,
            *, generator: Any = None) -> Tensor:
    """While ``training``, each entry zeroed with probability ``p`` and the others scaled by
    1 / (1 - p), so that the expected value is unchanged; else (or for p = 0) ``input``
    itself. The draws come from ``tensorgrad.random`` (``manual_seed`` repeats them)."""
    p = _dropout_probability(p)
    if not training or p == 0:
        return input
    _need_floating(input, "dropout", RuntimeError)  # (PyTorch's: its scale cannot be cast)
    return _in_place(input, inplace, lambda: Dropout.apply(input, p, generator))


class ChannelDropout(Function):
    """``Dropout`` with one draw per channel: its first ``lead`` dimensions (the batch and
    channels, or the channels) drawn, the rest sharing the draw."""

    @staticmethod
    @quiet
    def forward(ctx, x, lead, p):
        kept = rng().random(x.shape[:lead]) >= p
        scale = x.dtype.type(1 / (1 - p)) if p < 1 else x.dtype.type(0)
        mask = (kept * scale).reshape(*x.shape[:lead], *[1] * (x.ndim - lead))
        ctx.save_for_backward(mask)
        return x * mask

    @staticmethod
    def backward(ctx, grad):
        (mask,) = ctx.saved_tensors
        return grad * mask, None, None


def _warn_unless_spatial(name: str, ndim: int, spatial: int) -> None:
    """PyTorch's deprecation warning of ``name`` (dropout2d, dropout3d) for an input of
    other than ``spatial`` + 1 or + 2 dimensions, shown at the line calling ``name``."""
    if ndim not in (spatial + 1, spatial + 2):
        warnings.warn(f"{name}: Received a {ndim}-D input to {name}, which is deprecated and "
                      "will result in an error in a future release. To retain the behavior "
                      f"and silence this warning, please use dropout instead. Note that {name} "
                      f"exists to provide channel-wise dropout on inputs with {spatial} spatial "
                      "dimensions, a channel dimension, and an optional batch dimension (i.e. "
                      f"{spatial + 1}D or {spatial + 2}D inputs).", stacklevel=3)


def _channel_dropout(input: Tensor, p: float, training: bool, inplace: bool, batched: bool
                     ) -> Tensor:
    """Each channel (dimension 1, or 0 if not ``batched``) zeroed whole with probability
    ``p``, the others scaled by 1 / (1 - p)."""
    p = _dropout_probability(p)
    if not training or p == 0:
        return input
    _need_floating(input, "dropout", RuntimeError)  # (PyTorch's: its scale cannot be cast)
    return _in_place(input, inplace, lambda: ChannelDropout.apply(input, 2 if batched else 1, p))


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False
              ) -> Tensor:
    """While ``training``, each channel of (N, C, L) (or (C, L)) ``input`` zeroed whole
    with probability ``p``, the others scaled by 1 / (1 - p)::

        F.dropout1d(x, 0.2)  # some rows x[n, c] all zeros
    """
    if input._data.ndim not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a "
                           f"{input._data.ndim}D input. Note that dropout1d exists to provide "
                           "channel-wise dropout on inputs with 1 spatial dimension, a channel "
                           "dimension, and an optional batch dimension (i.e. 2D or 3D inputs).")
    return _channel_dropout(input, p, training, inplace, input._data.ndim == 3)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False
              ) -> Tensor:
    """While ``training``, each channel of (N, C, H, W) ``input`` zeroed whole with
    probability ``p``, the others scaled by 1 / (1 - p); as PyTorch, with its warnings,
    any other input is (N, C, *) too (a 3-d one (N, C, L), not (C, H, W))::

        F.dropout2d(x, 0.2)  # some planes x[n, c] all zeros
    """
    ndim = input._data.ndim
    _warn_unless_spatial("dropout2d", ndim, 2)
    if ndim < 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    if ndim == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that "
                      "channel-wise 1D dropout behavior is desired - input is interpreted as "
                      "shape (N, C, L), where C is the channel dim. This behavior will change "
                      "in a future release to interpret the input as one without a batch "
                      "dimension, i.e. shape (C, H, W). To maintain the 1D channel-wise "
                      "dropout behavior, please switch to using dropout1d instead.",
                      stacklevel=2)
    return _channel_dropout(input, p, training, inplace, True)


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False
              ) -> Tensor:
    """While ``training``, each channel of (N, C, D, H, W) (or (C, D, H, W)) ``input``
    zeroed whole with probability ``p``, the others scaled by 1 / (1 - p); as PyTorch, with
    its warning, any other input is unbatched (its first dimension the channels)::

        F.dropout3d(x, 0.2)  # some volumes x[n, c] all zeros
    """
    p = _dropout_probability(p)
    ndim = input._data.ndim
    _warn_unless_spatial("dropout3d", ndim, 3)
    if ndim == 0 and training:  # (PyTorch's: a 0-d input made (1,) has no channels)
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    return _channel_dropout(input, p, training, inplace, ndim == 5)


# ---- cross_entropy ----------------------------------------------------------------------------


def _cross_entropy_composed(ctx: Any, logits: Tensor, targets: Any, reduction: str,
                            ignore_index: int) -> Tensor:
    rows = logits.reshape(-1, logits.shape[-1])
    flat = np.asarray(getattr(targets, "_data", targets)).reshape(-1)
    kept = flat != ignore_index
    picked = (rows - rows.logsumexp(dim=1, keepdim=True))[np.arange(len(flat)),
                                                           np.where(kept, flat, 0)]
    losses = where(constant(kept), -picked, 0.0)
    if reduction == "none":
        return losses.reshape(np.shape(getattr(targets, "_data", targets)))
    return losses.sum() if reduction == "sum" else losses.sum() / int(kept.sum())


class CrossEntropy(Function):
    """Mean (or sum, or none) over rows of -log softmax(logits)[target]."""

    @staticmethod
    @quiet
    def forward(ctx, logits, targets, reduction, ignore_index):
        num_classes = logits.shape[-1]
        # C order, so that a target's entry is at a fixed offset of the flattened rows
        rows = np.ascontiguousarray(logits.reshape(-1, num_classes))
        flat_targets = targets.reshape(-1)
        picked = kept = None
        # An ignore_index that is a class passes the range check: it must be looked for.
        if not (0 <= ignore_index < num_classes and (flat_targets == ignore_index).any()):
            # each target's entry in the flattened rows; the same call checks the range
            with contextlib.suppress(ValueError):
                picked = np.ravel_multi_index((row_numbers(len(rows)), flat_targets),
                                              rows.shape)
        if picked is None:  # some targets are ignored (or out of range)
            kept = flat_targets != ignore_index
            if not ((flat_targets[kept] >= 0) & (flat_targets[kept] < num_classes)).all():
                raise IndexError(f"cross_entropy: a target is outside 0..{num_classes - 1}")
            picked = np.ravel_multi_index((row_numbers(len(rows)), np.where(kept, flat_targets,
                                                                             0)), rows.shape)
        shifted = rows - _max(rows, axis=1, keepdims=True)  # log_softmax = shifted - log(total)
        exps = np.exp(shifted)
        total = exps.dot(column(num_classes, 1, exps.dtype))[:, 0]
        losses = np.log(total) - shifted.ravel()[picked]
        if kept is not None:
            losses = np.where(kept, losses, 0)
        count = len(losses) if kept is None else int(kept.sum())
        divisor = None if reduction == "none" else (max(count, 1) if reduction == "mean" else 1)
        ctx.save_for_backward(exps, total, picked, kept)
        ctx.divisor, ctx.shape = divisor, logits.shape
        if divisor is None:
            return losses.reshape(targets.shape)
        if reduction == "mean" and count == 0:
            return np.asarray(np.nan, losses.dtype)  # the mean of nothing, as in PyTorch
        return np.asarray(np.add.reduce(losses) / divisor)

    @staticmethod
    def backward(ctx, grad):
        # d(-log softmax(x)[t]) / dx = softmax(x) - onehot(t), times the upstream gradient
        exps, total, picked, kept = ctx.saved_tensors
        divisor = ctx.divisor
        scale = grad.reshape(-1) if divisor is None else grad / divisor
        if kept is not None:
            scale = scale * kept
        rows = exps * (scale / total)[:, None]
        rows.ravel()[picked] -= scale  # rows is a fresh C-ordered array: ravel() is a view
        return rows.reshape(ctx.shape), None, None, None

    recorded_backward = staticmethod(through(_cross_entropy_composed))


# speed: cached, not made per call (benchmarks/SPEED.md, "Cached columns and row numbers")
@functools.lru_cache(maxsize=64)
def row_numbers(rows: int) -> np.ndarray:
    """0, 1, ..., rows - 1."""
    numbers = np.arange(rows)
    numbers.flags.writeable = False  # shared between calls
    return numbers


# ---- losses -------------------------------------------------------------------------------------
# Each takes PyTorch's arguments, in PyTorch's order: ``reduction`` "mean", "sum" or "none",
# and the deprecated ``size_average`` and ``reduce`` that older code still passes.

_REDUCTIONS = ("none", "mean", "sum")


def legacy_reduction(size_average: bool | None, reduce: bool | None) -> str:
    """The ``reduction`` that the deprecated ``size_average`` and ``reduce`` stand for (None
    counts as True), with PyTorch's deprecation warning."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    reduction = ("mean" if size_average else "sum") if reduce else "none"
    warnings.warn("size_average and reduce args will be deprecated, please use "
                  f"reduction='{reduction}' instead.", stacklevel=3)
    return reduction


def _reduction(reduction: str, size_average: bool | None = None,
               reduce: bool | None = None) -> str:
    """``reduction`` checked as PyTorch checks it, or made from the deprecated arguments."""
    if size_average is not None or reduce is not None:
        return legacy_reduction(size_average, reduce)
    if reduction == "elementwise_mean":
        warnings.warn("reduction='elementwise_mean' is deprecated. Please use reduction='mean' "
                      "instead.", stacklevel=3)
        return "mean"
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction (reduction must be "
                         "'mean', 'sum' or 'none')")
    return reduction


def _reduce(losses: Tensor, reduction: str) -> Tensor:
    if reduction == "none":
        return losses
    return losses.mean() if reduction == "mean" else losses.sum()


def _array(x: Any) -> np.ndarray:
    return x._data if isinstance(x, Tensor) else np.asarray(x)


def _constant(value: Any, op: str, argument: str) -> np.ndarray | None:
    """The array of a weight that gets no gradient in PyTorch, which refuses one that
    requires grad."""
    if isinstance(value, Tensor) and value.requires_grad and is_grad_enabled():
        raise RuntimeError(f"The function '{op}' is not differentiable with respect to argument "
                           f"'{argument}'. This input cannot have requires_grad True.")
    return None if value is None else _array(value)


def _fits(weight: np.ndarray | None, shape: tuple[int, ...], argument: str) -> None:
    """Check that ``weight`` broadcasts to ``shape`` (the loss's elementwise shape)."""
    if weight is None:
        return
    try:
        fits = np.broadcast_shapes(weight.shape, shape) == shape
    except ValueError:
        fits = False
    if not fits:
        raise RuntimeError(f"a {argument} of shape {weight.shape} does not broadcast to the "
                           f"input's shape {shape}")


def _regression_pair(input: Tensor, target: Any, promote: bool = True) -> tuple[Tensor, Any]:
    """``input`` and ``target`` of one dtype: PyTorch broadcasts the two first, so a 0-d
    target's dtype counts in full (a float64 one makes float32 data's loss float64), or (not
    ``promote``) the input's. A target of another shape is broadcast, with PyTorch's
    warning."""
    if isinstance(target, np.ndarray):
        target = Tensor(target)
    shape = np.shape(target._data if isinstance(target, Tensor) else target)
    if shape != input._data.shape:
        warnings.warn(f"Using a target size ({shape}) that is different to the input size "
                      f"({input._data.shape}). This will likely lead to incorrect results due to "
                      "broadcasting. Please ensure they have the same size.", stacklevel=3)
    if isinstance(target, Tensor) and target._data.dtype != input._data.dtype:
        dtype = promote_types(input._data.dtype, target._data.dtype) if promote else \
            input._data.dtype
        input, target = input.to(dtype), target.to(dtype)
    return input, target


def _weighted(losses: Tensor, reduction: str, weight: Any, shape: tuple[int, ...],
              mean_over_weights: bool) -> Tensor:
    """``losses`` times ``weight`` (of the input's ``shape``), reduced; "mean" divides by
    the sum of the weights (``mean_over_weights``, mse and l1) or by the count (huber), as
    PyTorch's do."""
    if weight is None:
        return _reduce(losses, reduction)
    if not isinstance(weight, Tensor):
        weight = Tensor(np.asarray(weight))
    if weight._data.shape != shape:
        raise ValueError("Weights and input must have the same size.")
    weighted = losses * weight
    if reduction == "mean" and mean_over_weights:
        return weighted.sum() / weight.sum()
    return _reduce(weighted, reduction)


def mse_loss(input: Tensor, target: Any, size_average: bool | None = None,
             reduce: bool | None = None, reduction: str = "mean", weight: Any = None) -> Tensor:
    """The squared differences, averaged ("mean"), summed ("sum") or as they are ("none");
    ``input`` and ``target`` broadcast together. A ``weight`` of the input's shape scales
    each, and "mean" then divides by the weights' sum::

        F.mse_loss(prediction, target)  # a 0-d tensor
    """
    reduction = _reduction(reduction, size_average, reduce)
    input, target = _regression_pair(input, target)
    difference = input - target
    return _weighted(difference * difference, reduction, weight, input._data.shape, True)


def l1_loss(input: Tensor, target: Any, size_average: bool | None = None,
            reduce: bool | None = None, reduction: str = "mean", weight: Any = None) -> Tensor:
    """The absolute differences, reduced as in ``mse_loss`` (the gradient 0 where they are
    0, as PyTorch's)."""
    reduction = _reduction(reduction, size_average, reduce)
    input, target = _regression_pair(input, target)
    _need_floating(input, "l1_loss")
    return _weighted((input - target).abs(), reduction, weight, input._data.shape, True)


def _smooth_l1_composed(ctx: Any, d: Tensor, beta: float) -> Tensor:
    small = constant(np.abs(d._data) < beta)
    return where(small, 0.5 * d * d / beta, d.abs() - 0.5 * beta)


class SmoothL1(Function):
    """0.5 d**2 / beta where |d| < beta, else |d| - beta / 2; the slope d / beta, else
    sign(d) (so +-1 at +-inf and NaN at NaN, as PyTorch's)."""

    @staticmethod
    @quiet
    def forward(ctx, d, beta):
        ctx.save_for_backward(d)
        ctx.beta = beta
        size = np.abs(d)
        # the square beyond beta: unused
        return np.where(size < beta, 0.5 * d * d / beta, size - 0.5 * beta)

    @staticmethod
    def backward(ctx, grad):
        (d,) = ctx.saved_tensors
        return grad * np.where(np.abs(d) < ctx.beta, d / ctx.beta, np.sign(d)), None

    recorded_backward = staticmethod(linked(through(_smooth_l1_composed)))


def _huber_composed(ctx: Any, d: Tensor, delta: float) -> Tensor:
    small = constant(np.abs(d._data) < delta)
    return where(small, 0.5 * d * d, delta * (d.abs() - 0.5 * delta))


class Huber(Function):
    """0.5 d**2 where |d| < delta, else delta * (|d| - delta / 2); the slope d, else
    delta * sign(d)."""

    @staticmethod
    @quiet
    def forward(ctx, d, delta):
        ctx.save_for_backward(d)
        ctx.delta = delta
        size = np.abs(d)
        return np.where(size < delta, 0.5 * d * d, delta * (size - 0.5 * delta))

    @staticmethod
    def backward(ctx, grad):
        (d,) = ctx.saved_tensors
        return grad * np.where(np.abs(d) < ctx.delta, d, ctx.delta * np.sign(d)), None

    recorded_backward = staticmethod(linked(through(_huber_composed)))


def smooth_l1_loss(input: Tensor, target: Any, size_average: bool | None = None,
                   reduce: bool | None = None, reduction: str = "mean",
                   beta: float = 1.0) -> Tensor:
    """Squared (halved, over ``beta``) below ``beta``, absolute beyond: L1 that is smooth at
    0. ``beta`` 0 is ``l1_loss``."""
    reduction = _reduction(reduction, size_average, reduce)
    input, target = _regression_pair(input, target)
    _need_floating(input, "smooth_l1_loss")
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    difference = input - target
    losses = difference.abs() if beta == 0 else SmoothL1.apply(difference, beta)
    return _reduce(losses, reduction)


def huber_loss(input: Tensor, target: Any, reduction: str = "mean", delta: float = 1.0,
               weight: Any = None) -> Tensor:
    """Squared (halved) below ``delta``, ``delta`` times absolute beyond: ``delta`` times
    ``smooth_l1_loss`` with beta = delta. A ``weight`` scales each loss ("mean" then
    averages the weighted losses, as PyTorch's)."""
    reduction = _reduction(reduction)
    input, target = _regression_pair(input, target, promote=False)  # PyTorch's: input's dtype
    _need_floating(input, "huber_loss")
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    losses = Huber.apply(input - target, delta)
    return _weighted(losses, reduction, weight, input._data.shape, False)


# PyTorch's floor of p * (1 - p) in binary_cross_entropy's gradient: 1e-12 as a float32
_EPSILON = float(np.float32(1e-12))


def _bce_composed(ctx: Any, p: Tensor, t: Any, weight: Any) -> Tensor:
    losses = (t - 1) * (-p).log1p().clamp(min=-100) - t * p.log().clamp(min=-100)
    return losses if weight is None else losses * weight


class BinaryCrossEntropy(Function):
    """-(t log p + (1 - t) log(1 - p)) times the weight, each log at least -100 (PyTorch's
    bound: a certain mistake costs 100, not inf); the slopes w (p - t) / max(p (1 - p),
    1e-12) for p and w (log(1 - p) - log p) for t."""

    @staticmethod
    @quiet
    def forward(ctx, p, t, weight):
        # log(0): -inf, then the bound
        log_p = np.maximum(np.log(p), -100)
        log_q = np.maximum(np.log1p(-p), -100)
        losses = (t - 1) * log_q - t * log_p
        ctx.save_for_backward(p, t, weight)
        return losses if weight is None else losses * weight

    @staticmethod
    def backward(ctx, grad):
        p, t, weight = ctx.saved_tensors
        if weight is not None:
            grad = grad * weight
        grad_p = grad_t = None
        if ctx.needs_input_grad[0]:
            grad_p = grad * (p - t) / np.maximum((1 - p) * p, _EPSILON)
        if ctx.needs_input_grad[1]:
            # unbounded, as PyTorch's
            grad_t = grad * (np.log1p(-p) - np.log(p))
        return grad_p, grad_t, None

    recorded_backward = staticmethod(through(_bce_composed))


def binary_cross_entropy(input: Tensor, target: Any, weight: Any = None,
                         size_average: bool | None = None, reduce: bool | None = None,
                         reduction: str = "mean") -> Tensor:
    """The cross-entropy of probabilities ``input`` (in [0, 1]) against ``target`` (of the
    input's shape and dtype, in [0, 1]), times ``weight`` (broadcast to it), reduced. Each
    log is at least -100, as in PyTorch; ``binary_cross_entropy_with_logits`` takes logits
    and is exact where sigmoid would round to 0 or 1::

        F.binary_cross_entropy(model(x).sigmoid(), labels)
    """
    reduction = _reduction(reduction, size_average, reduce)
    target = target if isinstance(target, Tensor) else Tensor(np.asarray(target))
    p, t = input._data, target._data
    if t.shape != p.shape:
        raise ValueError(f"Using a target size ({t.shape}) that is different to the input size "
                         f"({p.shape}) is deprecated. Please ensure they have the same size.")
    _need_floating(input, "binary_cross_entropy")
    if t.dtype != p.dtype:
        raise RuntimeError(f"Found dtype {t.dtype} but expected {p.dtype}")
    if not ((p >= 0) & (p <= 1)).all():  # (NaN too)
        raise RuntimeError("all elements of input should be between 0 and 1")
    if not ((t >= 0) & (t <= 1)).all():
        raise RuntimeError("all elements of target should be between 0 and 1")
    w = _constant(weight, "binary_cross_entropy", "weight")
    _fits(w, p.shape, "weight")
    w = None if w is None else w.astype(p.dtype, copy=False)
    return _reduce(BinaryCrossEntropy.apply(input, target, w), reduction)


def _bce_with_logits_composed(ctx: Any, x: Tensor, t: Any, weight: Any,
                              pos_weight: Any) -> Tensor:
    log_sigmoid = x.clamp(max=0) - (-x.abs()).exp().log1p()
    if pos_weight is not None:
        log_sigmoid = log_sigmoid * ((pos_weight - 1) * t + 1)
    losses = (1 - t) * x - log_sigmoid
    return losses if weight is None else losses * weight


class BinaryCrossEntropyWithLogits(Function):
    """(1 - t) x - l * log(sigmoid(x)), l = 1 + (pos_weight - 1) t, times the weight: the
    cross-entropy of sigmoid(x) against t with no rounding of sigmoid(x) to 0 or 1. The
    slopes ((t pw + 1 - t) sigmoid(x) - t pw) for x and log(sigmoid(-x)) - pw
    log(sigmoid(x)) for t, each times the weight. PyTorch's formulas, in the target's
    dtype as PyTorch's result is."""

    @staticmethod
    @quiet
    def forward(ctx, x, t, weight, pos_weight):
        log_sigmoid = _log_sigmoid(x)
        if pos_weight is not None:
            log_sigmoid = log_sigmoid * ((pos_weight - 1) * t + 1)
        # (1 - 1) * inf: NaN, as in PyTorch
        losses = (1 - t) * x - log_sigmoid
        if weight is not None:
            losses = losses * weight
        ctx.save_for_backward(x, t, weight, pos_weight)
        return losses.astype(t.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        x, t, weight, pos_weight = ctx.saved_tensors
        if weight is not None:
            grad = grad * weight
        grad_x = grad_t = None
        if ctx.needs_input_grad[0]:
            if pos_weight is None:
                grad_x = grad * (_sigmoid(x) - t)
            else:
                positive = pos_weight * t
                grad_x = grad * ((positive + 1 - t) * _sigmoid(x) - positive)
        if ctx.needs_input_grad[1]:
            slope = -x if pos_weight is None else \
                _log_sigmoid(-x) - _log_sigmoid(x) * pos_weight
            grad_t = grad * slope
        return grad_x, grad_t, None, None

    recorded_backward = staticmethod(through(_bce_with_logits_composed))


def binary_cross_entropy_with_logits(input: Tensor, target: Any, weight: Any = None,
                                     size_average: bool | None = None,
                                     reduce: bool | None = None, reduction: str = "mean",
                                     pos_weight: Any = None) -> Tensor:
    """``binary_cross_entropy`` of sigmoid(``input``), computed from the logits themselves:
    finite and exact where sigmoid would round to 0 or 1. ``target`` (floating, of the
    input's shape) may be any probability; ``weight`` scales each loss and ``pos_weight``
    (broadcast along the last dimension: one per class) the positive term::

        loss = F.binary_cross_entropy_with_logits(logits, labels, pos_weight=ratio)

    The result has the target's dtype, as PyTorch's.
    """
    reduction = _reduction(reduction, size_average, reduce)
    target = target if isinstance(target, Tensor) else Tensor(np.asarray(target))
    x, t = input._data, target._data
    if t.shape != x.shape:
        raise ValueError(f"Target size ({t.shape}) must be the same as input size ({x.shape})")
    _need_floating(input, "binary_cross_entropy_with_logits")
    if t.dtype.kind != "f":
        raise RuntimeError(f"binary_cross_entropy_with_logits: the target must be floating (its "
                           f"dtype is the result's), not {t.dtype}")
    name = "binary_cross_entropy_with_logits"
    w, pw = _constant(weight, name, "weight"), _constant(pos_weight, name, "pos_weight")
    _fits(w, x.shape, "weight")
    _fits(pw, x.shape, "pos_weight")
    return _reduce(BinaryCrossEntropyWithLogits.apply(input, target, w, pw), reduction)


def _nll_composed(ctx: Any, x: Tensor, targets: Any, weight: Any, reduction: str,
                  ignore_index: int) -> Tensor:
    kept, picked, w = ctx.saved_tensors
    rows = x.reshape(-1, x.shape[-1])
    losses = where(constant(kept), -constant(w) * rows[np.arange(len(picked)), picked], 0.0)
    if reduction == "none":
        return losses.reshape(np.shape(getattr(targets, "_data", targets)))
    return losses.sum() if reduction == "sum" else losses.sum() / constant(ctx.total_weight)


class NLLLoss(Function):
    """-weight[t] * x[t] for each row's target class t (the classes on the last dimension),
    0 where t is ``ignore_index``; "mean" divides the sum by the targets' total weight."""

    @staticmethod
    @quiet
    def forward(ctx, x, targets, weight, reduction, ignore_index):
        classes = x.shape[-1]
        rows = x.reshape(-1, classes)
        flat = targets.reshape(-1)
        kept = flat != ignore_index
        picked = np.where(kept, flat, 0)
        w = kept.astype(x.dtype) if weight is None else np.where(kept, weight[picked], 0)
        numbers = row_numbers(len(rows))
        # where, not a product: an ignored row's entry may be inf or NaN, its loss is 0
        losses = np.where(kept, -w * rows[numbers, picked], 0).astype(x.dtype, copy=False)
        ctx.save_for_backward(kept, picked, w)
        ctx.shape, ctx.reduction = x.shape, reduction
        if reduction == "none":
            return losses.reshape(targets.shape)
        total = np.add.reduce(losses)
        if reduction == "sum":
            return np.asarray(total)
        ctx.total_weight = np.add.reduce(w)
        # no weight: NaN, as PyTorch's
        return np.asarray(total / ctx.total_weight)

    @staticmethod
    def backward(ctx, grad):
        kept, picked, w = ctx.saved_tensors
        if ctx.reduction == "none":
            scale = grad.reshape(-1)
        else:
            scale = grad if ctx.reduction == "sum" else grad / ctx.total_weight
            scale = np.broadcast_to(scale, kept.shape)
        rows = np.zeros((len(kept), ctx.shape[-1]), grad.dtype)
        rows[np.flatnonzero(kept), picked[kept]] = -w[kept] * scale[kept]
        return rows.reshape(ctx.shape), None, None, None, None

    recorded_backward = staticmethod(through(_nll_composed))


def _class_weight(weight: Any, classes: int, dtype: np.dtype) -> np.ndarray | None:
    """A class-index loss's ``weight``: one per class, in the input's dtype (PyTorch refuses
    another dtype; here it is cast, since a Python float makes float64 where PyTorch's makes
    float32), and no gradient."""
    w = _constant(weight, "nll_loss_forward", "weight")
    if w is not None and w.shape != (classes,):
        raise RuntimeError(f"weight tensor should be defined either for all {classes} classes or "
                           f"no classes but got weight tensor of shape: {list(w.shape)}")
    return None if w is None else w.astype(dtype, copy=False)


def _class_indices(target: Any, name: str) -> np.ndarray:
    targets = _array(target)
    if targets.dtype.kind not in "iu":
        raise RuntimeError(f"{name} targets must be integer classes, not {targets.dtype}")
    return targets


def _classes_last(x: Tensor) -> Tensor:
    """PyTorch's (N, C, d1, ...) layout as (N, d1, ..., C): a view."""
    ndim = x._data.ndim
    return x if ndim <= 2 else x.permute(0, *range(2, ndim), 1)


def _target_shape(shape: tuple[int, ...]) -> tuple[int, ...]:
    """The shape of the class targets for an input of ``shape`` in PyTorch's layout."""
    return shape[:1] + shape[2:] if len(shape) > 1 else ()


def _check_pytorch_layout(shape: tuple[int, ...], targets: np.ndarray) -> None:
    """Check class-index ``targets`` against an input of ``shape`` (C), (N, C) or (N, C, d1,
    ...), with PyTorch's messages."""
    if not shape:
        raise ValueError("Expected 1 or more dimensions (got 0)")
    if len(shape) == 1:
        fits = targets.size == 1 and targets.ndim <= 1
    elif len(shape) == 2:
        if targets.ndim != 1 or len(targets) != shape[0]:
            batch = targets.shape[0] if targets.ndim else 0
            raise ValueError(f"Expected input batch_size ({shape[0]}) to match target batch_size "
                             f"({batch}).")
        fits = True
    else:
        fits = targets.shape == _target_shape(shape)
    if not fits:
        raise RuntimeError(f"Expected target size {list(_target_shape(shape))}, got "
                           f"{list(targets.shape)}")


def _nll(x: Tensor, targets: np.ndarray, weight: np.ndarray | None, ignore_index: int,
         reduction: str) -> Tensor:
    """``NLLLoss`` of ``x`` with its classes last, its targets range-checked."""
    classes = x._data.shape[-1]
    kept = targets[targets != ignore_index]
    outside = kept[(kept < 0) | (kept >= classes)]
    if outside.size:
        raise IndexError(f"Target {outside.flat[0]} is out of bounds.")
    if not classes:  # every target ignored (else raised above): each loss 0, their mean NaN
        losses = x.sum(-1)
        return losses if reduction == "none" else losses.sum() * (
            1.0 if reduction == "sum" else math.nan)
    return NLLLoss.apply(x, targets, weight, reduction, ignore_index)


def nll_loss(input: Tensor, target: Any, weight: Any = None, size_average: bool | None = None,
             ignore_index: int = -100, reduce: bool | None = None,
             reduction: str = "mean") -> Tensor:
    """The negative log-likelihood of integer ``target`` classes under log-probabilities
    ``input``: -input[target], weighted by ``weight[target]`` if given.

    Shapes are PyTorch's: ``input`` (C), (N, C) or (N, C, d1, ...) with the classes on
    dimension 1, ``target`` (), (N) or (N, d1, ...). ``reduction`` "mean" divides by the
    targets' total weight (their count, without ``weight``); targets equal to
    ``ignore_index`` add nothing, to the sum or to the weight::

        loss = F.nll_loss(F.log_softmax(logits, dim=1), labels)
    """
    reduction = _reduction(reduction, size_average, reduce)
    targets = _class_indices(target, "nll_loss")
    shape = input._data.shape
    _check_pytorch_layout(shape, targets)
    _need_floating(input, "nll_loss")
    w = _class_weight(weight, shape[0] if len(shape) == 1 else shape[1], input._data.dtype)
    return _nll(_classes_last(input), targets.reshape(_target_shape(shape)), w, ignore_index,
                reduction)


def cross_entropy(input: Tensor, target: Any, weight: Any = None,
                  size_average: bool | None = None, ignore_index: int = -100,
                  reduce: bool | None = None, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """The cross-entropy of softmax(``input``) against ``target``: integer classes (the
    negative log-likelihood of each) or, as a float tensor of the input's shape, class
    probabilities.

    ``input`` has PyTorch's shape: (C), (N, C) or (N, C, d1, ...), the classes on dimension
    1, and class targets have shape (), (N) or (N, d1, ...). ``weight`` (one per class)
    scales each target's loss, and "mean" then divides by the targets' total weight; targets
    equal to ``ignore_index`` add 0 and get no gradient. ``label_smoothing`` mixes each
    target with the uniform distribution over the classes. A language model's (..., vocab)
    logits go in flattened, as in PyTorch::

        loss = F.cross_entropy(logits.view(-1, vocab), targets.view(-1), label_smoothing=0.1)
    """
    reduction = _reduction(reduction, size_average, reduce)
    if label_smoothing > 1.0:  # (PyTorch takes a negative one as 0)
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    shape = input._data.shape
    targets = _array(target)
    if targets.shape == shape and shape:  # class probabilities
        if targets.dtype.kind != "f":
            raise RuntimeError("Expected floating point type for target with class "
                               f"probabilities, got {targets.dtype}")
        if ignore_index != -100:
            raise RuntimeError("ignore_index is not supported for floating point target")
        target = target if isinstance(target, Tensor) else Tensor(targets)
        return _soft_cross_entropy(_classes_last(input), _classes_last(target), weight,
                                   reduction, label_smoothing)
    if targets.dtype.kind not in "iu":
        raise RuntimeError(f"cross_entropy targets must be integer classes, not "
                           f"{targets.dtype} (or class probabilities: floats of the input's "
                           f"shape {shape})")
    _check_pytorch_layout(shape, targets)
    if targets.shape != _target_shape(shape):  # (a (C) input's target of shape (1))
        targets = targets.reshape(_target_shape(shape))
    input = _classes_last(input)  # the fused node and the composed ops take them last
    w = _class_weight(weight, input._data.shape[-1], input._data.dtype)
    if w is None and label_smoothing <= 0 and input._data.shape[-1]:
        return CrossEntropy.apply(input, targets, reduction, ignore_index)  # one fused node
    return _smoothed_cross_entropy(input, targets, w, ignore_index, reduction, label_smoothing)


def _smoothed_cross_entropy(input: Tensor, targets: np.ndarray, w: np.ndarray | None,
                            ignore_index: int, reduction: str, label_smoothing: float) -> Tensor:
    """Class-index cross-entropy with a class weight or label smoothing (classes last), as
    PyTorch computes it: (1 - s) * nll + s / C * the weighted sum of -log p over the classes,
    each reduced as nll is."""
    _need_floating(input, "cross_entropy")
    log_p = log_softmax(input, -1)
    nll = _nll(log_p, targets, w, ignore_index, reduction)
    if label_smoothing <= 0:
        return nll
    classes = input._data.shape[-1]
    ignored = targets == ignore_index
    every_class = -(log_p if w is None else log_p * w).sum(-1)
    every_class = every_class.masked_fill(ignored, 0.0)
    if reduction == "mean":
        total = w[targets[~ignored]].sum() if w is not None else (~ignored).sum()
        with np.errstate(invalid="ignore", divide="ignore"):  # nothing kept: NaN, as PyTorch's
            # times the reciprocal: a quotient's backward would divide by 0 again, unguarded
            every_class = every_class.sum() * np.divide(1.0, total, dtype=input._data.dtype)
    elif reduction == "sum":
        every_class = every_class.sum()
    with np.errstate(divide="ignore"):  # no classes: NaN, as PyTorch's
        share = np.divide(label_smoothing, classes)
    return nll * (1 - label_smoothing) + every_class * share


def _soft_cross_entropy(input: Tensor, target: Tensor, weight: Any, reduction: str,
                        label_smoothing: float) -> Tensor:
    """Cross-entropy against class probabilities (classes last): -sum(t * w * log p) per
    row; "mean" averages over the rows, whatever the weights (PyTorch's)."""
    _need_floating(input, "cross_entropy")
    classes = input._data.shape[-1]
    if weight is not None:
        weight = weight if isinstance(weight, Tensor) else Tensor(np.asarray(weight))
        if weight._data.shape != (classes,):
            raise RuntimeError(f"cross_entropy: weight tensor should be defined either for all "
                               f"{classes} classes or no classes but got weight tensor of "
                               f"shape: {list(weight._data.shape)}")
    if label_smoothing > 0:
        with np.errstate(divide="ignore"):  # (no classes: nothing to smooth)
            target = target * (1 - label_smoothing) + np.divide(label_smoothing, classes)
    products = log_softmax(input, -1) * target
    if weight is not None:
        products = products * weight
    losses = -products.sum(-1)
    if reduction != "mean":
        return _reduce(losses, reduction)
    # no rows: NaN, as PyTorch's; times the reciprocal, as a quotient's backward would
    # divide by 0 again, unguarded
    with np.errstate(divide="ignore", invalid="ignore"):
        return losses.sum() * np.divide(classes, input._data.size, dtype=input._data.dtype)


# ---- more losses: divergences, margins, likelihoods ---------------------------------------------


def _loss_operands(*operands: Any) -> list[Tensor]:
    """Tensors (arrays and numbers made tensors) of one floating dtype, PyTorch's promotion
    of them all."""
    tensors = [x if isinstance(x, Tensor) else Tensor(np.asarray(x)) for x in operands]
    dtype = result_dtype(*(t._data for t in tensors))
    dtype = dtype if dtype.kind == "f" else get_default_dtype().dtype
    return [t if t._data.dtype == dtype else t.to(dtype) for t in tensors]


def _torch_reduction(reduction: str, size_average: bool | None, reduce: bool | None,
                     refusal: str = " is not a valid value for reduction") -> str:
    """``_reduction`` with the message these losses refuse a reduction with in PyTorch (the
    Python ones, ``refusal`` " is not valid", know no "elementwise_mean")."""
    known = _REDUCTIONS if refusal == " is not valid" else (*_REDUCTIONS, "elementwise_mean")
    if size_average is None and reduce is None and reduction not in known:
        raise ValueError(reduction + refusal)
    return _reduction(reduction, size_average, reduce)


def _broadcast(*tensors: Tensor) -> list[Tensor]:
    """The tensors expanded to their common shape (their gradients summed back)."""
    shape = np.broadcast_shapes(*(t._data.shape for t in tensors))
    return [t if t._data.shape == shape else t.expand(*shape) for t in tensors]


def _kl_div_composed(ctx: Any, x: Tensor, t: Any, log_target: bool) -> Tensor:
    if log_target:
        return t.exp() * (t - x)
    zero = constant(np.asarray(getattr(t, "_data", t)) == 0)  # t log t is 0 there
    return where(zero, 0.0, t * where(zero, 1.0, t).log()) - t * x


class KLDiv(Function):
    """t * (log t - x) (with 0 log 0 = 0), or exp(t) * (t - x) for a ``log_target``; the
    slopes -t, or -exp(t), for x, and log t + 1 - x, or exp(t) * (t - x + 1), for t. As
    PyTorch's (whose t log t is xlogy(t, t)), the slope for t is NaN at t = 0."""

    @staticmethod
    @quiet
    def forward(ctx, x, t, log_target):
        ctx.log_target = log_target
        if log_target:
            e = np.exp(t)
            ctx.save_for_backward(x, t, e)
            return e * (t - x)
        ctx.save_for_backward(x, t, None)
        return np.where(t == 0, 0, t * np.log(t)) - t * x

    @staticmethod
    def backward(ctx, grad):
        x, t, e = ctx.saved_tensors
        grad_x = grad_t = None
        if ctx.needs_input_grad[0]:
            grad_x = -grad * (e if ctx.log_target else t)
        if ctx.needs_input_grad[1]:
            if ctx.log_target:
                grad_t = grad * (e * (t - x) + e)
            else:  # xlogy's two slopes as PyTorch takes them: log t (0 at 0), t / t
                grad_t = grad * (np.where(t == 0, 0, np.log(t)) + t / t - x)
        return grad_x, grad_t, None

    recorded_backward = staticmethod(through(_kl_div_composed))


def kl_div(input: Tensor, target: Any, size_average: bool | None = None,
           reduce: bool | None = None, reduction: str = "mean",
           log_target: bool = False) -> Tensor:
    """The Kullback-Leibler divergence of ``target`` from log-probabilities ``input``,
    summed and reduced: "batchmean" divides the sum by the batch size (the divergence per
    example), "mean" by the number of entries (with PyTorch's warning). ``log_target``:
    the target holds log-probabilities too::

        loss = F.kl_div(F.log_softmax(student, -1), F.log_softmax(teacher, -1),
                        reduction="batchmean", log_target=True)
    """
    # (as PyTorch's, "batchmean" divides by the batch size also where the deprecated
    # arguments chose the reduction)
    batchmean = reduction == "batchmean"
    if size_average is None and reduce is None and batchmean:
        reduction = "sum"
    elif reduction == "mean" and size_average is None and reduce is None:
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the "
                      "support size.'batchmean' divides only by the batch size, and aligns with "
                      "the KL div math definition.'mean' will be changed to behave the same as "
                      "'batchmean' in the next major release.", stacklevel=2)
    reduction = _torch_reduction(reduction, size_average, reduce)
    if _array(input).dtype.kind != "f" or _array(target).dtype.kind != "f":
        raise RuntimeError("kl_div: Integral inputs not supported.")
    input, target = _loss_operands(input, target)
    reduced = _reduce(KLDiv.apply(*_broadcast(input, target), log_target), reduction)
    if batchmean and input._data.ndim:
        with np.errstate(divide="ignore", invalid="ignore"):  # no rows: NaN, as PyTorch's
            reduced = reduced * np.divide(1.0, input._data.shape[0], dtype=reduced._data.dtype)
    return reduced


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Any, margin: float = 0,
                        size_average: bool | None = None, reduce: bool | None = None,
                        reduction: str = "mean") -> Tensor:
    """max(0, -target * (input1 - input2) + margin): a ``target`` of 1 asks input1 to rank
    above input2 by ``margin``, -1 below. The three have one number of dimensions and
    broadcast; the slope at the kink (0) is that of the line, as PyTorch's ``clamp_min``."""
    reduction = _torch_reduction(reduction, size_average, reduce)
    a, b, y = _loss_operands(input1, input2, target)
    if not a._data.ndim == b._data.ndim == y._data.ndim:
        raise RuntimeError(f"margin_ranking_loss : All input tensors should have same dimension "
                           f"but got sizes: input1: {list(a._data.shape)}, input2: "
                           f"{list(b._data.shape)}, target: {list(y._data.shape)} ")
    return _reduce((-y * (a - b) + margin).clamp(min=0), reduction)


_COSINE_EPSILON = 1e-12  # PyTorch's, added to each squared norm in cosine_embedding_loss


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Any, margin: float = 0,
                          size_average: bool | None = None, reduce: bool | None = None,
                          reduction: str = "mean") -> Tensor:
    """1 - cos(input1, input2) where ``target`` is 1, max(0, cos - ``margin``) where it is
    -1, 0 elsewhere: pairs of rows (N, D) with targets (N), or one pair (D) with a 0-d
    target. The cosine as PyTorch's: sum(a * b) / sqrt((|a|^2 + 1e-12) (|b|^2 + 1e-12))."""
    reduction = _torch_reduction(reduction, size_average, reduce)
    a, b = _loss_operands(input1, input2)
    targets = _array(target)
    if targets.ndim > 1:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if a._data.ndim != targets.ndim + 1 or b._data.ndim != targets.ndim + 1:
        raise RuntimeError(f"{targets.ndim}D target tensor expects {targets.ndim + 1}D input "
                           f"tensors, but found inputs with sizes {list(a._data.shape)} and "
                           f"{list(b._data.shape)}.")
    d = targets.ndim
    products = (a * b).sum(d)
    squares_a = (a * a).sum(d) + _COSINE_EPSILON
    squares_b = (b * b).sum(d) + _COSINE_EPSILON
    cos = products / (squares_a * squares_b).sqrt()
    similar = where(targets == 1, 1 - cos, 0.0)
    dissimilar = where(targets == -1, (cos - margin).clamp(min=0), 0.0)
    return _reduce(similar + dissimilar, reduction)


def _check_triplet(margin: float, dims: list[int]) -> None:
    """PyTorch's errors of the triplet losses: a margin not positive, or the anchor,
    positive and negative of ``dims`` dimensions unequal."""
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    if len(set(dims)) > 1:
        raise RuntimeError(f"The anchor, positive, and negative tensors are expected to have "
                           f"the same number of dimensions, but got: anchor {dims[0]}D, "
                           f"positive {dims[1]}D, and negative {dims[2]}D inputs")


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor,
                        margin: float = 1.0, p: float = 2, eps: float = 1e-6, swap: bool = False,
                        size_average: bool | None = None, reduce: bool | None = None,
                        reduction: str = "mean") -> Tensor:
    """max(0, d(anchor, positive) - d(anchor, negative) + ``margin``), d the
    ``pairwise_distance`` of order ``p`` along the last dimension; ``swap``: d(anchor,
    negative) is d(positive, negative) where that is smaller (Balntas et al.)::

        loss = F.triplet_margin_loss(embed(a), embed(b_same), embed(c_other), margin=0.2)
    """
    reduction = _torch_reduction(reduction, size_average, reduce)
    _check_triplet(margin, [_array(x).ndim for x in (anchor, positive, negative)])
    to_positive = pairwise_distance(anchor, positive, p, eps)
    to_negative = pairwise_distance(anchor, negative, p, eps)
    if swap:
        to_negative = to_negative.minimum(pairwise_distance(positive, negative, p, eps))
    return _reduce((to_positive - to_negative + margin).clamp(min=0), reduction)


class SoftMargin(Function):
    """log(1 + exp(-t * x)) as PyTorch writes it (inf where exp overflows); the slope
    -t * z / (1 + z), z = exp(-t * x) (NaN there)."""

    @staticmethod
    @quiet
    def forward(ctx, x, t):
        # (0 * inf: NaN, as PyTorch's)
        z = np.exp(-t * x)
        ctx.save_for_backward(t, z)
        return np.log1p(z)

    @staticmethod
    def backward(ctx, grad):
        t, z = ctx.saved_tensors
        return grad * (-t * z / (1 + z)), None

    recorded_backward = staticmethod(through(
        lambda ctx, x, t: (-t * x).exp().log1p()))


def soft_margin_loss(input: Tensor, target: Any, size_average: bool | None = None,
                     reduce: bool | None = None, reduction: str = "mean") -> Tensor:
    """The logistic loss log(1 + exp(-target * input)) of labels ``target`` of 1 or -1
    (broadcast to the input's shape; no gradient, as in PyTorch), in the input's dtype."""
    reduction = _torch_reduction(reduction, size_average, reduce)
    _constant(target, "soft_margin_loss", "target")
    _need_floating(input, "soft_margin_loss")
    t, shape = _array(target), input._data.shape
    both = np.broadcast_shapes(t.shape, shape)
    if both != shape:
        raise RuntimeError(f"output with shape {list(shape)} doesn't match the broadcast shape "
                           f"{list(both)}")
    t = np.broadcast_to(t.astype(input._data.dtype, copy=False), shape)
    return _reduce(SoftMargin.apply(input, t), reduction)


def multilabel_soft_margin_loss(input: Tensor, target: Any, weight: Any = None,
                                size_average: bool | None = None, reduce: bool | None = None,
                                reduction: str = "mean") -> Tensor:
    """Binary cross-entropy of sigmoid(``input``) against 0/1 ``target`` for each class,
    times ``weight``, averaged over the classes (the last dimension), then reduced over the
    rest, as PyTorch's."""
    reduction = _torch_reduction(reduction, size_average, reduce, " is not valid")
    x = input
    t = target if isinstance(target, Tensor) else Tensor(np.asarray(target))
    losses = -(t * logsigmoid(x) + (1 - t) * logsigmoid(-x))
    if weight is not None:
        losses = losses * (weight if isinstance(weight, Tensor) else Tensor(np.asarray(weight)))
    classes = x._data.shape[-1]  # (a 0-d input has no classes: IndexError, as PyTorch's)
    return _reduce(losses.sum(-1) / classes, reduction)


def poisson_nll_loss(input: Tensor, target: Any, log_input: bool = True, full: bool = False,
                     size_average: bool | None = None, eps: float = 1e-8,
                     reduce: bool | None = None, reduction: str = "mean") -> Tensor:
    """The negative log-likelihood of counts ``target`` under Poisson rates: exp(input) -
    target * input for log-rates (``log_input``), else input - target * log(input + eps);
    ``full`` adds Stirling's approximation of log(target!) where target > 1."""
    reduction = _torch_reduction(reduction, size_average, reduce)
    x, t = _loss_operands(input, target)
    # logs of 0 and below, and exp beyond the float range, as PyTorch's
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        losses = x.exp() - t * x if log_input else x - t * (x + eps).log()
        if full:
            stirling = t * t.log() - t + (t * (2 * math.pi)).log() * 0.5
            losses = losses + stirling.masked_fill(t._data <= 1, 0)
    return _reduce(losses, reduction)


def gaussian_nll_loss(input: Tensor, target: Any, var: Any, full: bool = False,
                      eps: float = 1e-6, reduction: str = "mean") -> Tensor:
    """The negative log-likelihood of ``target`` under normal distributions of mean
    ``input`` and variance ``var`` (at least ``eps``): 0.5 * (log var + (input - target)**2
    / var), plus 0.5 * log(2 pi) if ``full``. ``var`` is a float, or a tensor of the input's
    shape, or of it with the last dimension 1 or gone (one variance for each row)::

        loss = F.gaussian_nll_loss(mean, target, var)  # var = softplus(head(x)), say
    """
    if isinstance(var, float):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = Tensor(np.full(input._data.shape, var, input._data.dtype))
    else:
        if not isinstance(var, (Tensor, np.ndarray)):  # (PyTorch's: a tensor or a float)
            raise TypeError(f"gaussian_nll_loss: var must be a tensor or a float, not "
                            f"{type(var).__name__}")
        var = var if isinstance(var, Tensor) else Tensor(var)
        if (var._data < 0).any():
            raise ValueError("var has negative entry/entries")
    shape, var_shape = input._data.shape, var._data.shape
    if var_shape != shape:
        if shape[:-1] == var_shape:  # one variance per row
            var = var.unsqueeze(-1)
        elif not (len(shape) == len(var_shape) and
                  sum(v for s, v in zip(shape, var_shape) if s != v) == 1):
            raise ValueError("var is of incorrect size")
    reduction = _torch_reduction(reduction, None, None, " is not valid")
    # no gradient of the floor: PyTorch raises var to eps outside the graph
    var = _AtLeast.apply(var, eps)
    difference = input - target
    losses = (var.log() + difference * difference / var) * 0.5
    if full:
        losses = losses + 0.5 * math.log(2 * math.pi)
    return _reduce(losses, reduction)


# ---- pad, normalize, cosine_similarity ----------------------------------------------------------


def _pad_composed(ctx: Any, x: Tensor, widths: Any, value: Any) -> Tensor:
    shape = [n + before + after for n, (before, after) in zip(x.shape, widths)]
    outside = np.ones(shape, bool)
    outside[ctx.placed] = False
    return constant(np.where(outside, value, 0).astype(x.dtype)) + \
        Spread.apply(x[ctx.kept], ctx.placed, tuple(shape))


class Pad(Function):
    """``x`` inside a border of ``value`` (a negative width crops instead); the gradient is
    the part of the result's gradient where ``x`` landed."""

    @staticmethod
    def forward(ctx, x, widths, value):
        # per dimension: the part of x that is kept, and where it lands in the result
        kept, placed, shape = [], [], []
        for size, (before, after) in zip(x.shape, widths):
            start, stop = max(-before, 0), size - max(-after, 0)
            kept.append(slice(start, stop))
            placed.append(slice(max(before, 0), max(before, 0) + stop - start))
            shape.append(size + before + after)
        out = np.full(shape, value, x.dtype)
        out[tuple(placed)] = x[tuple(kept)]
        ctx.kept, ctx.placed, ctx.shape = tuple(kept), tuple(placed), x.shape
        return out

    @staticmethod
    def backward(ctx, grad):
        grad_x = np.zeros(ctx.shape, grad.dtype)
        grad_x[ctx.kept] = grad[ctx.placed]
        return grad_x, None, None

    recorded_backward = staticmethod(through(_pad_composed))


def pad(input: Tensor, pad: Sequence[int], mode: str = "constant",
        value: float | None = None) -> Tensor:
    """``input`` with a border of ``value`` (0 by default): ``pad`` gives the widths before and
    after, for the last dimension first, then the one before it, and so on; a negative
    width crops. ``mode`` ``'reflect'`` (mirrored about the edge), ``'replicate'`` (the edge
    repeated) or ``'circular'`` (wrapped around) pads the last 1, 2 or 3 dimensions of an
    input with one or two more (a batch and channels), and takes no ``value``::

        F.pad(x, (1, 1))        # one more column of zeros on each side
        F.pad(x, (0, 0, 2, 0))  # two more rows on top
        F.pad(x, (2, 2), mode="reflect")  # [1, 2, 3] -> [3, 2, 1, 2, 3, 2, 1]
    """
    if mode not in ("constant", "reflect", "replicate", "circular"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    for position, width in enumerate(pad):
        if not isinstance(width, (int, np.integer)) or isinstance(width, bool):
            raise TypeError(f"pad(): argument 'pad' (position 2) must be tuple of ints, but found "
                            f"element of type {type(width).__name__} at pos {position}")
    shape = input._data.shape
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(pad) > 2 * len(shape):
        raise RuntimeError("Padding length should be less than or equal to two times the input "
                           f"dimension but got padding length {len(pad)} and input of dimension "
                           f"{len(shape)}")
    pairs = [(int(pad[i]), int(pad[i + 1])) for i in range(0, len(pad), 2)]
    if mode != "constant":
        if value is not None:
            raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
        from .conv import pad_by_mode

        return pad_by_mode(input, pairs, mode)
    widths = [(0, 0)] * (len(shape) - len(pairs)) + pairs[::-1]
    for dim, (size, (before, after)) in enumerate(zip(shape, widths)):
        if size + min(before, 0) + min(after, 0) < 0:  # cropped by more than there is
            raise RuntimeError(f"pad: the input size {size}, plus negative padding {before} and "
                               f"{after} resulted in a negative output size, which is invalid. "
                               f"Check dimension {dim} of your input.")
    fill = 0 if value is None else value
    dtype = input._data.dtype
    # as PyTorch: the value cast to the tensor's dtype (7.5 into an integer tensor is 7)
    fill = bool(fill) if dtype == np.bool_ else int(fill) if dtype.kind in "iu" else fill
    return Pad.apply(input, tuple(widths), fill)


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12,
              out: Any = None) -> Tensor:
    """``input`` divided by its ``p``-norm along ``dim`` (at least ``eps``, so a zero vector
    stays zero)::

        unit = F.normalize(embeddings, dim=-1)  # rows of length 1
    """
    if out is not None:
        raise NotImplementedError("normalize: out= is not supported; use the result")
    _need_floating(input, "normalize")
    return input / input.norm(p, dim, keepdim=True).clamp(min=eps)


class _AtLeast(Function):
    """max(x, floor) in value, with the gradient passed on as if unclamped: PyTorch clamps
    cosine_similarity's norms outside autograd, and its gradients are those."""

    @staticmethod
    def forward(ctx, x, floor):
        return np.maximum(x, floor)

    @staticmethod
    def backward(ctx, grad):
        return grad, None

    recorded_backward = staticmethod(lambda ctx, grad: (grad, None))


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """The cosine of the angle between ``x1`` and ``x2`` (broadcast together) along ``dim``,
    which the result lacks: each divided by its norm (at least ``eps``) first, then the
    products summed, as PyTorch computes it::

        F.cosine_similarity(a, b, dim=-1)  # one number per row, in [-1, 1]
    """
    dtype = result_dtype(x1._data, x2._data)
    if dtype.kind != "f":
        raise TypeError(f"cosine_similarity: expected common dtype to be floating point, yet "
                        f"common dtype is {dtype}")
    try:
        shape = np.broadcast_shapes(x1._data.shape, x2._data.shape)
    except ValueError:
        raise RuntimeError(f"cosine_similarity: shapes {x1._data.shape} and {x2._data.shape} do "
                           "not broadcast") from None
    a, b = (x if x._data.shape == shape else x.expand(*shape) for x in (x1.to(dtype), x2.to(dtype)))
    d = normalize_dim(dim, len(shape))
    norm_a = _AtLeast.apply(a.norm(2, d, keepdim=True), eps)
    norm_b = _AtLeast.apply(b.norm(2, d, keepdim=True), eps)
    return ((a / norm_a) * (b / norm_b)).sum(d)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    """The ``p``-norm of x1 - x2 + ``eps`` along the last dimension (the two broadcast), as
    PyTorch computes it::

        F.pairwise_distance(a, b)  # one distance per row of (N, D) inputs
    """
    ndim = max(_array(x1).ndim, _array(x2).ndim)
    return (x1 - x2 + eps).norm(p, ndim - 1 if ndim else None, keepdim)


# ---- linear and rms_norm ------------------------------------------------------------------------


def _linear_composed(ctx: Any, x: Tensor, weight: Tensor, bias: Any = None) -> Tensor:
    out = x @ weight.transpose(0, 1)
    return out if bias is None else out + bias


class Linear(Function):
    """x @ weight.T (+ bias): every leading dimension of x is a batch dimension."""

    @staticmethod
    @quiet
    def forward(ctx, x, weight, bias=None):
        # One 2-D product serves all leading dimensions (np.matmul would loop over them);
        # speed: .dot, not @ (benchmarks/SPEED.md, "ndarray.dot")
        rows = x if x.ndim == 2 else x.reshape(-1, x.shape[-1])
        try:
            out = rows.dot(weight.T)
        except ValueError:  # NumPy's message is not PyTorch's
            if weight.ndim != 2:
                raise RuntimeError(f"linear: a weight of shape {weight.shape}; it needs two "
                                   "dimensions (out_features, in_features)") from None
            (m, k), (o, i) = rows.shape, weight.shape
            raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({m}x{k} and "
                               f"{i}x{o})") from None
        if bias is not None:
            try:
                out += bias
            except ValueError:
                raise expand_error(bias.shape, out.shape) from None
        ctx.save_for_backward(rows, weight)
        ctx.shape, ctx.bias_shape = x.shape, None if bias is None else bias.shape
        # (sizes, not -1: with no rows, -1 is ambiguous)
        return out if x.ndim == 2 else out.reshape(*x.shape[:-1], out.shape[-1])

    @staticmethod
    def backward(ctx, grad):
        rows, weight = ctx.saved_tensors
        g = grad if grad.ndim == 2 else grad.reshape(len(rows), grad.shape[-1])
        grad_x = g.dot(weight)
        if grad_x.shape != ctx.shape:  # the input was not 2-D
            grad_x = grad_x.reshape(ctx.shape)
        if ctx.bias_shape is None:
            return grad_x, g.T.dot(rows)
        return grad_x, g.T.dot(rows), sum_to(g.sum(axis=0), ctx.bias_shape)

    recorded_backward = staticmethod(through(_linear_composed))


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """input @ weight.T + bias, with weight of shape (out_features, in_features)."""
    if not _array(input).ndim:
        raise RuntimeError("linear: a 0-d input has no features (it needs shape "
                           "(..., in_features))")
    dtypes = [_array(a).dtype for a in ((input, weight) if bias is None else
                                         (input, weight, bias))]
    if len(set(dtypes)) > 1:  # PyTorch's rule, as matmul's: no promotion in a product
        raise RuntimeError(f"linear of {' and '.join(map(str, dtypes))} data (input, weight"
                           f"{'' if bias is None else ', bias'}): all need the same dtype "
                           "(convert with .to(), or the module with .float() or .double())")
    if bias is None:
        return Linear.apply(input, weight)
    return Linear.apply(input, weight, bias)


def _bilinear_composed(ctx: Any, x1: Tensor, x2: Tensor, weight: Tensor, bias: Any) -> Tensor:
    from .ops import einsum

    y = einsum("...i,kij,...j->...k", x1, weight, x2)
    return y if bias is None else y + bias


class Bilinear(Function):
    """y[..., k] = x1[..., :] @ weight[k] @ x2[..., :] + bias[k] (bias where given); each
    input's gradient the same product with that input left out."""

    @staticmethod
    @quiet
    def forward(ctx, x1, x2, weight, bias):
        ctx.save_for_backward(x1, x2, weight)
        y = np.einsum("...i,kij,...j->...k", x1, weight, x2, optimize=True)
        return y if bias is None else y + bias

    @staticmethod
    def backward(ctx, grad):
        x1, x2, weight = ctx.saved_tensors
        need_x1, need_x2, need_weight, need_bias = ctx.needs_input_grad[:4]
        batch = tuple(range(grad.ndim - 1))
        return (np.einsum("...k,kij,...j->...i", grad, weight, x2, optimize=True)
                if need_x1 else None,
                np.einsum("...k,kij,...i->...j", grad, weight, x1, optimize=True)
                if need_x2 else None,
                np.einsum("...k,...i,...j->kij", grad, x1, x2, optimize=True)
                if need_weight else None,
                grad.sum(axis=batch) if need_bias else None)

    recorded_backward = staticmethod(through(_bilinear_composed))


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None
             ) -> Tensor:
    """y[..., k] = input1 @ weight[k] @ input2 + bias[k]: (..., in1) and (..., in2) inputs
    with the same leading dimensions, ``weight`` (out, in1, in2), ``bias`` (out,)::

        y = F.bilinear(x1, x2, w, b)  # (N, out) for (N, in1) and (N, in2)
    """
    x1, x2, w = input1._data, input2._data, weight._data
    if w.ndim != 3:
        raise RuntimeError(f"bilinear(): weight must be three-dimensional, but got {w.ndim} "
                           "dimension(s)")
    if x1.ndim != x2.ndim:
        raise RuntimeError(f"bilinear(): input dimensions do not match: got {x1.ndim} and "
                           f"{x2.ndim}")
    for dim in range(x1.ndim - 1):
        if x1.shape[dim] != x2.shape[dim]:
            raise RuntimeError(f"bilinear(): input batch dimensions do not match at dim {dim}: "
                               f"got {x1.shape[dim]} and {x2.shape[dim]}")
    for name, x, axis in (("input1", x1, 1), ("input2", x2, 2)):
        if not x.ndim or x.shape[-1] != w.shape[axis]:
            raise RuntimeError(f"bilinear(): {name} size does not match weight size: got "
                               f"{x.shape[-1] if x.ndim else 0} but expected {w.shape[axis]}")
    if bias is not None and bias._data.shape != (w.shape[0],):
        raise RuntimeError(f"bilinear(): bias size does not match weight size: got "
                           f"{bias._data.shape[-1] if bias._data.ndim else 0} but expected "
                           f"{w.shape[0]}")
    dtypes = {a.dtype for a in (x1, x2, w, None if bias is None else bias._data) if a is not None}
    if len(dtypes) > 1:  # as linear: no promotion in a product
        raise RuntimeError(f"bilinear of {' and '.join(sorted(map(str, dtypes)))} data: all "
                           "need the same dtype (convert with .to())")
    return Bilinear.apply(input1, input2, weight, bias)


def _rms_norm_composed(ctx: Any, x: Tensor, count: int, eps: float, weight: Any = None
                       ) -> Tensor:
    if count:
        x = x / ((x * x).mean(dim=trailing_dims(x, count), keepdim=True) + eps).sqrt()
    return x * 1 if weight is None else x * weight


class RMSNorm(Function):
    """x / sqrt(mean(x**2) + eps) over groups of ``count`` entries (then * weight)."""

    @staticmethod
    @quiet
    def forward(ctx, x, count, eps, weight=None):
        if not count:  # nothing to normalize: nothing (mean(x**2) would be 0 / 0)
            ctx.save_for_backward(None, None, None, weight)
            ctx.shape = x.shape
            return x.copy() if weight is None else x * weight
        rows = x if x.ndim == 2 and x.shape[1] == count else x.reshape(-1, count)
        means = column(count, 1 / count, x.dtype)
        scale = (np.square(rows).dot(means) + eps) ** -0.5
        normed = rows * scale
        ctx.save_for_backward(normed, scale, means, weight)
        ctx.shape = x.shape
        out = normed if weight is None else normed * weight.reshape(-1)
        return out if out.shape == x.shape else out.reshape(x.shape)

    @staticmethod
    def backward(ctx, grad):
        # y = x * s with s = (mean(x^2) + eps)^-1/2, so dx = s * (g - y * mean(g * y))
        normed, scale, means, weight = ctx.saved_tensors
        shape = ctx.shape
        if normed is None:  # nothing was normalized
            zeros = np.zeros(shape, grad.dtype)
            return (zeros, None, None) if weight is None else \
                (zeros, None, None, np.zeros_like(weight))
        g = grad if grad.shape == normed.shape else grad.reshape(normed.shape)
        grad_weight = None
        if weight is not None:
            grad_weight = (g * normed).sum(axis=0).reshape(weight.shape)
            g = g * weight.reshape(-1)
        dx = g * normed  # one array for every step below: large inputs take no new memory
        proj = dx.dot(means)
        np.multiply(normed, proj, out=dx)
        np.subtract(g, dx, out=dx)
        dx *= scale
        if dx.shape != shape:
            dx = dx.reshape(shape)
        return (dx, None, None) if grad_weight is None else (dx, None, None, grad_weight)

    recorded_backward = staticmethod(through(_rms_norm_composed))


def rms_norm(input: Tensor, normalized_shape: int | tuple[int, ...],
             weight: Tensor | None = None, eps: float | None = None) -> Tensor:
    """x / sqrt(mean(x**2) + eps) over the last ``normalized_shape`` dimensions, times
    ``weight`` (of that shape) if given. ``eps`` defaults to the dtype's machine epsilon,
    as in PyTorch."""
    shape = input._data.shape
    # speed: the common case checked in one comparison (benchmarks/SPEED.md, "Fifth round")
    if type(normalized_shape) is int and weight is None and shape[-1:] == (normalized_shape,):
        count = normalized_shape
    else:
        dims = (normalized_shape,) if isinstance(normalized_shape, int) else \
            tuple(normalized_shape)
        if not dims or shape[len(shape) - len(dims):] != dims:
            raise RuntimeError(f"rms_norm: normalized_shape {normalized_shape} does not end "
                               f"the shape {shape}")
        if weight is not None and weight._data.shape != dims:
            raise RuntimeError(f"rms_norm: a weight of shape {weight._data.shape} for "
                               f"normalized_shape {dims}")
        count = math.prod(dims)
    eps = np.finfo(input._data.dtype).eps if eps is None else eps
    if weight is None:
        return RMSNorm.apply(input, count, eps)
    return RMSNorm.apply(input, count, eps, weight)


def _layer_norm_composed(ctx: Any, x: Tensor, count: int, eps: float, weight: Any,
                         bias: Any) -> Tensor:
    if count == 0:
        return x * 1
    dims = trailing_dims(x, count)
    centered = x - x.mean(dim=dims, keepdim=True)
    out = centered / ((centered * centered).mean(dim=dims, keepdim=True) + eps).sqrt()
    out = out if weight is None else out * weight
    return out if bias is None else out + bias


class LayerNorm(Function):
    """(x - mean(x)) / sqrt(var(x) + eps) over groups of ``count`` entries (the variance
    biased, as PyTorch's), then * weight and + bias where given."""

    @staticmethod
    @quiet
    def forward(ctx, x, count, eps, weight, bias):
        x = floating(x)
        ctx.shape, ctx.bias_shape = x.shape, None if bias is None else bias.shape
        if count == 0:  # nothing to normalize: nothing
            ctx.save_for_backward(None, None, None, weight)
            return x.copy()
        rows = x.reshape(-1, count)
        means = column(count, 1 / count, x.dtype)
        centered = rows - rows.dot(means)
        scale = (np.square(centered).dot(means) + eps) ** -0.5
        normed = centered * scale
        ctx.save_for_backward(normed, scale, means, weight)
        out = normed if weight is None else normed * weight.reshape(-1)
        if bias is not None:
            out = out + bias.reshape(-1)
        return out.reshape(x.shape)

    @staticmethod
    def backward(ctx, grad):
        # y = (x - m) * s: dx = s * (g - mean(g) - y * mean(g * y)), with g already * weight
        normed, scale, means, weight = ctx.saved_tensors
        if normed is None:
            grad_weight = None if weight is None else np.zeros_like(weight)
            grad_bias = None if ctx.bias_shape is None else np.zeros(ctx.bias_shape, grad.dtype)
            return np.zeros(ctx.shape, grad.dtype), None, None, grad_weight, grad_bias
        g = grad.reshape(normed.shape)
        grad_weight = None if weight is None else (g * normed).sum(axis=0).reshape(weight.shape)
        grad_bias = None if ctx.bias_shape is None else g.sum(axis=0).reshape(ctx.bias_shape)
        if weight is not None:
            g = g * weight.reshape(-1)
        dx = scale * (g - g.dot(means) - normed * (g * normed).dot(means))
        return dx.reshape(ctx.shape), None, None, grad_weight, grad_bias

    recorded_backward = staticmethod(through(_layer_norm_composed))


def layer_norm(input: Tensor, normalized_shape: int | tuple[int, ...] | list[int],
               weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """Normalize over the last ``normalized_shape`` dimensions to mean 0 and variance 1
    (biased: divided by the count), then * ``weight`` and + ``bias`` (each of that shape)
    where given, as PyTorch's."""
    _need_floating(input, "layer_norm")
    shape = input._data.shape
    dims = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) else \
        tuple(int(n) for n in normalized_shape)
    if not dims or len(dims) > len(shape) or shape[len(shape) - len(dims):] != dims:
        raise RuntimeError(f"layer_norm: normalized_shape {list(dims)} does not end the "
                           f"input's shape {shape}")
    for name, given in (("weight", weight), ("bias", bias)):
        if given is not None and given._data.shape != dims:
            raise RuntimeError(f"layer_norm: a {name} of shape {given._data.shape} for "
                               f"normalized_shape {list(dims)}")
    return LayerNorm.apply(input, math.prod(dims), eps, weight, bias)


# ---- attention ----------------------------------------------------------------------------------


def _attention_weights(scaled_q: np.ndarray, k: np.ndarray, mask: Any, is_causal: bool,
                       out: np.ndarray | None = None) -> np.ndarray:
    """softmax(q * scale @ k^T (+ the mask's bias)) over the keys, from ``scaled_q``.

    speed: q is scaled rather than the scores, fewer numbers; the same results when the
    scale is a power of two (benchmarks/SPEED.md, "Issue #16").
    """
    scores = np.matmul(scaled_q, k.swapaxes(-1, -2), out=out)
    if is_causal:
        scores += causal_bias(scaled_q.shape[-2], k.shape[-2])
    elif mask is not None:
        scores = np.where(mask, scores, -np.inf) if mask.dtype == np.bool_ else scores + mask
        nowhere = np.isneginf(_max(scores, axis=-1, keepdims=True))
        if nowhere.any():  # a query that may attend nowhere gets zeros, as in PyTorch
            p = _softmax(np.where(nowhere, 0, scores))
            p *= ~nowhere
            return p
    return _softmax(scores, out=scores)  # in place: the scores are ours


def _attention_backward(g: np.ndarray, p: np.ndarray, scaled_q: np.ndarray, k: np.ndarray,
                        v: np.ndarray, scale: float, out: tuple = (None, None, None)
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of q, k and v for the result p @ v, p = softmax(q * scale @ k^T).

    ``out`` may give three arrays for them to be written into.
    """
    grad_v = np.matmul(p.swapaxes(-1, -2), g, out=out[2])
    grad_scores = g @ v.swapaxes(-1, -2)  # d(p) first, then through the softmax:
    grad_scores -= _row_sums(grad_scores * p)
    grad_scores *= p
    grad_q = np.matmul(grad_scores, k * scale, out=out[0])
    grad_k = np.matmul(grad_scores.swapaxes(-1, -2), scaled_q, out=out[1])
    return grad_q, grad_k, grad_v


@functools.lru_cache(maxsize=64)
def causal_bias(queries: int, keys: int) -> np.ndarray:
    """0 where query i may attend to key j <= i (top-left aligned, as PyTorch), else -inf."""
    bias = np.triu(np.full((queries, keys), -np.inf), k=1)
    bias.flags.writeable = False  # shared between calls
    return bias


def _attention_composed(ctx: Any, q: Tensor, k: Tensor, v: Tensor, mask: Any, is_causal: bool,
                        scale: float, dropout_p: float, generator: Any) -> Tensor:
    if dropout_p:
        raise NotImplementedError("scaled_dot_product_attention with dropout: tensorgrad has "
                                  "no gradient of its gradient")
    scores = (q * scale) @ k.transpose(-1, -2)
    if is_causal:
        n, m = scores.shape[-2:]
        scores = scores.masked_fill(constant(~np.tril(np.ones((n, m), bool))), -math.inf)
    if mask is not None:
        data = np.asarray(getattr(mask, "_data", mask))
        scores = scores.masked_fill(constant(~data), -math.inf) if data.dtype == bool \
            else scores + mask
    return _softmax_composed(ctx, scores, -1) @ v


class ScaledDotProductAttention(Function):
    """softmax(q @ k^T * scale + mask) @ v, with dropout on the attention weights while
    ``dropout_p`` > 0 (drawn in the forward); a floating mask gets its gradient."""

    @staticmethod
    @quiet
    def forward(ctx, q, k, v, mask, is_causal, scale, dropout_p, generator):
        ctx.blocks = None
        if is_causal and not dropout_p and q.shape == k.shape == v.shape and \
                q.dtype == k.dtype == v.dtype and q.dtype.kind == "f" and \
                _blocks(q.shape, q.shape[-2], q.itemsize) is not None:
            # self-attention that outgrows a block: in causal tiles, as multi_head_attention
            ctx.blocks = blocks = _causal_blocks(q.shape, q.shape[-2], q.itemsize)
            out = np.empty(q.shape, np.result_type(q.dtype, scale))
            scaled_q, e, r = _causal_forward(q, scale, k, v, blocks, out)
            ctx.save_for_backward(e, r, out, scaled_q, k, v)
            ctx.scale = scale
            return out
        scaled_q = q * scale
        if k.shape[-2] == 0:  # no keys: nowhere to attend, zeros (as PyTorch)
            p = np.zeros(np.broadcast_shapes(q.shape[:-2], k.shape[:-2]) + (q.shape[-2], 0),
                         np.result_type(q, k))
        else:
            p = _attention_weights(scaled_q, k, mask, is_causal)
        kept = None
        if dropout_p:
            kept = (rng(generator).random(p.shape) >= dropout_p) * (
                p.dtype.type(1 / (1 - dropout_p)) if dropout_p < 1 else p.dtype.type(0))
        ctx.save_for_backward(p, scaled_q, k, v, kept)
        ctx.scale, ctx.mask_shape = scale, None if mask is None else mask.shape
        return (p if kept is None else p * kept) @ v

    @staticmethod
    def backward(ctx, grad):
        if ctx.blocks is not None:  # the causal tiles' exponentials, row sums and result
            e, r, out, q, k, v = ctx.saved_tensors
            grads = tuple(np.empty(q.shape, grad.dtype) for _ in range(3))
            _causal_backward(grad, [e, r, out], q, k, v, ctx.scale, ctx.blocks, grads)
            return (*grads, None, None, None, None, None)
        p, q, k, v, kept = ctx.saved_tensors
        grad_mask = None
        if kept is None and not ctx.needs_input_grad[3]:
            grad_q, grad_k, grad_v = _attention_backward(grad, p, q, k, v, ctx.scale)
        else:  # dropout, or a mask that requires grad: every step spelled out
            grad_v = (p if kept is None else p * kept).swapaxes(-1, -2) @ grad
            grad_p = grad @ v.swapaxes(-1, -2)
            if kept is not None:
                grad_p *= kept
            grad_scores = p * (grad_p - _row_sums(grad_p * p))  # through the softmax
            grad_q = grad_scores @ (k * ctx.scale)
            grad_k = grad_scores.swapaxes(-1, -2) @ q
            if ctx.needs_input_grad[3]:
                grad_mask = sum_to(grad_scores, ctx.mask_shape)
        # batch dimensions may have been broadcast: sum them back to each input's shape
        return (sum_to(grad_q, q.shape), sum_to(grad_k, k.shape), sum_to(grad_v, v.shape),
                grad_mask, None, None, None, None)

    recorded_backward = staticmethod(through(_attention_composed))


def _heads_for(x: Tensor, heads: int) -> Tensor:
    """``x``'s heads (dimension -3), each repeated in place to make ``heads``, as PyTorch's
    ``enable_gqa`` repeats a key's or a value's."""
    have = x.shape[normalize_dim(-3, x.ndim)]
    if not have or heads % have:
        raise RuntimeError("Number of heads in key and value must divide the number of heads "
                           "in query")
    return x if have == heads else x.repeat_interleave(heads // have, dim=-3)


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor,
                                 attn_mask: Any = None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False, *, generator: Any = None) -> Tensor:
    """softmax(query @ key^T * scale + mask) @ value over the last two dimensions.

    As in PyTorch: shapes (..., L, E), (..., S, E), (..., S, Ev); a boolean ``attn_mask``
    says where a query may attend (True), a float one is added to the scores; a query
    that may attend nowhere gets zeros. ``is_causal`` is the lower-triangular mask
    aligned at the top left; ``scale`` defaults to 1/sqrt(E). ``dropout_p``: dropout on the
    attention weights (as PyTorch, whatever the mode: pass 0 when not training). A floating
    ``attn_mask`` that requires grad gets its gradient. ``enable_gqa``: the key's and the
    value's heads (dimension -3), fewer than the query's, each serve a group of query heads.
    """
    dropout_p = _dropout_probability(dropout_p)
    if enable_gqa:  # grouped-query attention: each key and value head serves a group of queries
        heads = query.shape[normalize_dim(-3, query.ndim)]
        key, value = _heads_for(key, heads), _heads_for(value, heads)
    if attn_mask is not None and is_causal:
        raise ValueError("scaled_dot_product_attention: give attn_mask or is_causal, not both")
    q, k, v = query._data, key._data, value._data
    if not q.dtype == k.dtype == v.dtype:  # PyTorch does not promote here
        raise RuntimeError(f"Expected query, key, and value to have the same dtype, but got "
                           f"query.dtype: {q.dtype} key.dtype: {k.dtype} and value.dtype: "
                           f"{v.dtype} instead.")
    if q.dtype.kind != "f":
        raise RuntimeError(f"scaled_dot_product_attention takes floating query, key and "
                           f"value, not {q.dtype}")
    if q.ndim < 2 or k.ndim < 2 or v.ndim < 2 or q.shape[-1] != k.shape[-1] or \
            k.shape[-2] != v.shape[-2]:
        raise RuntimeError(f"attention: query {q.shape}, key {k.shape} and value {v.shape} "
                           "do not fit")
    if attn_mask is not None:
        if not isinstance(attn_mask, Tensor):  # (a tensor stays one: it may require grad)
            attn_mask = np.asarray(attn_mask)
        mask = attn_mask._data if isinstance(attn_mask, Tensor) else attn_mask
        if mask.dtype != np.bool_ and mask.dtype != q.dtype:
            raise RuntimeError(f"attn_mask must be boolean or floating of the query's dtype "
                               f"({q.dtype}), not {mask.dtype}")
        scores = q.shape[-2], k.shape[-2]  # (queries, keys)
        try:
            fits = np.broadcast_shapes(mask.shape[-2:], scores) == scores
        except ValueError:
            fits = False
        if not fits:
            raise RuntimeError(f"attention: attn_mask of shape {mask.shape} for scores of "
                               f"shape (..., {scores[0]}, {scores[1]})")
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    return ScaledDotProductAttention.apply(query, key, value, attn_mask, is_causal, scale,
                                           dropout_p, generator)


class MultiHeadAttention(Function):
    """Causal (or full) self-attention of ``heads`` heads from packed (..., L, 3E) projections.

    speed: large batches go through attention a block of documents at a time, so that the
    passes over each block's scores run in cache, and causal ones in tiles of queries against
    only the keys they see, ``_causal_forward`` (benchmarks/SPEED.md, "Issue #16" and
    "Issue #26").
    """

    @staticmethod
    @quiet
    def forward(ctx, qkv, heads, is_causal, scale):
        batch, (length, width) = qkv.shape[:-2], qkv.shape[-2:]
        head_dim = width // (3 * heads)
        packed = qkv.reshape(batch + (length, 3, heads, head_dim))
        to_heads = _heads_permutation(len(batch))  # -> (3, ..., heads, L, head_dim): views
        q, k, v = packed.transpose(to_heads)
        scale = 1.0 / math.sqrt(head_dim) if scale is None else scale
        blocks = _blocks(q.shape, length, q.itemsize)
        ctx.scale, ctx.blocks, ctx.to_heads = scale, blocks, to_heads
        ctx.packed_shape, ctx.input_shape = packed.shape, qkv.shape
        if blocks is not None and is_causal:
            ctx.blocks = blocks = _causal_blocks(q.shape, length, q.itemsize)
            # the heads side by side again: each tile's result is written into its place
            result = np.empty(batch + (length, width // 3), np.result_type(q.dtype, scale))
            out = result.reshape(batch + (length, heads, head_dim)).swapaxes(-2, -3)
            q, e, r = _causal_forward(q, scale, k, v, blocks, out)
            ctx.save_for_backward(e, r, out, q, k, v)
            return result
        q = q * scale
        if blocks is None:
            p = _attention_weights(q, k, None, is_causal)
            out = p @ v
        else:
            p = np.empty(q.shape[:-1] + (length,), q.dtype)
            out = np.empty_like(q)
            for part in blocks:
                _attention_weights(q[part], k[part], None, is_causal, out=p[part])
                np.matmul(p[part], v[part], out=out[part])
        ctx.save_for_backward(p, q, k, v)
        return out.swapaxes(-2, -3).reshape(batch + (length, width // 3))

    @staticmethod
    def backward(ctx, grad):
        *p, q, k, v = ctx.saved_tensors
        scale, blocks, to_heads = ctx.scale, ctx.blocks, ctx.to_heads
        packed_shape = ctx.packed_shape
        g = grad.reshape(packed_shape[:-3] + packed_shape[-2:]).swapaxes(-2, -3)
        # the three gradients land in their slots of one packed array: no concatenation
        packed = np.empty(packed_shape, grad.dtype)
        grad_q, grad_k, grad_v = packed.transpose(to_heads)
        if len(p) == 3:  # the causal tiles' exponentials, row sums and result
            _causal_backward(g, p, q, k, v, scale, blocks, (grad_q, grad_k, grad_v))
        elif blocks is None:
            _attention_backward(g, p[0], q, k, v, scale, out=(grad_q, grad_k, grad_v))
        else:
            for part in blocks:
                _attention_backward(g[part], p[0][part], q[part], k[part], v[part], scale,
                                    out=(grad_q[part], grad_k[part], grad_v[part]))
        return packed.reshape(ctx.input_shape), None, None, None


# speed: the scores of one block of documents, a few arrays of which fit in cache; the most
# of one block of causal tiles, whose tiles' calls are then fewer and larger (the same speed on
# one thread, and fewer hand-overs of the GIL on two); the least a thread takes of them; and
# the queries of one tile of causal attention (benchmarks/SPEED.md, "Issue #26", "Both cores")
_BLOCK_BYTES = 1 << 18
_CAUSAL_BLOCK_BYTES = 1 << 22
_CAUSAL_PART_BYTES = 1 << 20
_TILE = 32


def _blocks(q_shape: tuple[int, ...], keys: int, itemsize: int) -> list[slice] | None:
    """Slices of the first dimension whose scores take about ``_BLOCK_BYTES`` each, or None
    if all of them do not take more."""
    per_entry = math.prod(q_shape[1:-1]) * keys * itemsize
    if len(q_shape) < 4 or per_entry * q_shape[0] <= _BLOCK_BYTES:
        return None
    step = max(1, _BLOCK_BYTES // per_entry)
    return [slice(start, start + step) for start in range(0, q_shape[0], step)]


def _causal_blocks(q_shape: tuple[int, ...], keys: int, itemsize: int) -> list[slice]:
    """Slices of the first dimension for the causal tiles: one per thread at least where
    each has ``_CAUSAL_PART_BYTES`` of scores, and each at most about ``_CAUSAL_BLOCK_BYTES``."""
    count, per_entry = q_shape[0], math.prod(q_shape[1:-1]) * keys * itemsize
    threads = min(get_num_threads(), count, count * per_entry // _CAUSAL_PART_BYTES)
    blocks = max(threads, -(-count * per_entry // _CAUSAL_BLOCK_BYTES))
    step = -(-count // blocks)
    return [slice(start, start + step) for start in range(0, count, step)]


def _tiles(length: int) -> list[tuple[int, int]]:
    """(start, stop) of each tile of ``_TILE`` positions."""
    return [(start, min(start + _TILE, length)) for start in range(0, length, _TILE)]


def _causal_forward(q: np.ndarray, scale: float, k: np.ndarray, v: np.ndarray,
                    blocks: list[slice], out: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Causal attention, block by block of documents and tile by tile of queries, each tile
    against the keys it sees (the mask only on the diagonal tile); the result into ``out``.

    Returns what ``_causal_backward`` needs besides the result: the scaled queries, the
    exponentials ``e`` of the scores (written only where a query sees a key: the rest of the
    array is never read) and their row sums ``r`` (the weights are e / r). Each block scales
    its queries and transposes its keys itself, so that threads share that work too.
    """
    length = q.shape[-2]
    scaled = np.empty(q.shape, out.dtype)
    kt = np.empty(k.shape[:-2] + k.shape[:-3:-1], k.dtype)  # speed: SPEED.md, "Issue #26"
    e = np.empty(q.shape[:-1] + (length,), out.dtype)
    r = np.empty(q.shape[:-1] + (1,), out.dtype)
    tiles = _tiles(length)
    shift = False

    def block(part: slice) -> None:
        qb, kb, vb, eb, rb, ob = scaled[part], kt[part], v[part], e[part], r[part], out[part]
        np.multiply(q[part], scale, out=qb)
        np.copyto(kb, k[part].swapaxes(-1, -2))
        for start, stop in tiles:
            s = eb[..., start:stop, :stop]
            np.matmul(qb[..., start:stop, :], kb[..., :stop], out=s)
            diagonal = s[..., start:]
            np.copyto(diagonal, -np.inf, where=_above_diagonal(stop - start))
            if shift:
                s -= _max(s, axis=-1, keepdims=True)
            np.exp(s, out=s)
            sums = rb[..., start:stop, :]
            np.matmul(s, column(stop, 1, s.dtype), out=sums)
            o = ob[..., start:stop, :]
            np.matmul(s, vb[..., :stop, :], out=o)
            o /= sums

    # Softmax is the same for any shift of a row's scores: without the rows' maxima (a slow
    # reduction), unless a row's sum of exponentials leaves a range where neither it nor
    # anything scaled by it (g / r in the backward pass) can overflow or lose precision.
    # (under its callers' quiet: what overflows is done again below)
    run_each(block, blocks)  # blocks of documents: independent, shared between threads
    limit = np.log(np.finfo(out.dtype).max) / 4
    if not (r.min() >= np.exp(-limit) and r.max() <= np.exp(limit)):  # also NaN
        shift = True
        run_each(block, blocks)
    return scaled, e, r


@functools.lru_cache(maxsize=64)
def _above_diagonal(size: int) -> np.ndarray:
    """True where key j comes after query i, j > i."""
    mask = np.triu(np.ones((size, size), bool), k=1)
    mask.flags.writeable = False  # shared between calls
    return mask


def _causal_backward(g: np.ndarray, saved: list[np.ndarray], q: np.ndarray, k: np.ndarray,
                     v: np.ndarray, scale: float, blocks: list[slice],
                     out: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    """The gradients of ``_causal_forward``'s scaled q, k and v, written into ``out``.

    With the weights p = e / r and the result o = p @ v: grad_v = p^T @ g = e^T @ (g / r),
    and the scores' gradient p * (g @ v^T - rowsum(g * o)) = e * (g' @ v^T - rowsum(g' * o))
    with g' = g / r: passes over (L, head_dim) rows instead of (L, L) scores.
    """
    e, r, o = saved
    grad_q, grad_k, grad_v = out
    length, head_dim = q.shape[-2:]
    tiles = _tiles(length)

    def block(part: slice) -> None:
        eb, qb, vb = e[part], q[part], v[part]
        gq, gk, gv = grad_q[part], grad_k[part], grad_v[part]
        # g' and -rowsum(g' * o) side by side, v^T over a row of ones: their product is
        # g' @ v^T - rowsum(g' * o), with no pass of its own over the scores
        ga = np.empty(qb.shape[:-1] + (head_dim + 1,), g.dtype)
        gb = np.divide(g[part], r[part], out=ga[..., :head_dim])
        np.negative(_row_sums(gb * o[part]), out=ga[..., head_dim:])
        vt = np.empty(vb.shape[:-2] + (head_dim + 1, length), v.dtype)
        vt[..., :head_dim, :] = vb.swapaxes(-1, -2)  # speed: SPEED.md, "Issue #26"
        vt[..., head_dim, :] = 1
        kb = k[part] * scale
        ds = np.empty_like(eb)  # the scores' gradient
        for start, stop in tiles:  # each key tile, against the queries that see it
            np.matmul(eb[..., start:, start:stop].swapaxes(-1, -2), gb[..., start:, :],
                      out=gv[..., start:stop, :])
        for start, stop in tiles:  # each query tile against the keys it sees
            d = ds[..., start:stop, :stop]
            np.matmul(ga[..., start:stop, :], vt[..., :stop], out=d)
            d *= eb[..., start:stop, :stop]
            np.matmul(d, kb[..., :stop, :], out=gq[..., start:stop, :])
        for start, stop in tiles:
            np.matmul(ds[..., start:, start:stop].swapaxes(-1, -2), qb[..., start:, :],
                      out=gk[..., start:stop, :])

    run_each(block, blocks)


@functools.lru_cache(maxsize=8)
def _heads_permutation(batch_dims: int) -> tuple[int, ...]:
    """Axes taking (batch..., L, 3, heads, head_dim) to (3, batch..., heads, L, head_dim)."""
    b = batch_dims
    return (b + 1, *range(b), b + 2, b, b + 3)


def multi_head_attention(qkv: Tensor, num_heads: int, is_causal: bool = False,
                         scale: float | None = None) -> Tensor:
    """Self-attention with ``num_heads`` heads from packed projections, as one node.

    ``qkv`` has shape (..., L, 3E): queries, keys and values side by side, each E wide
    with the heads in order, as one linear layer with a stacked (3E, E) weight makes
    them (GPT-2's c_attn, PyTorch's in_proj_weight). The result, (..., L, E), has the
    heads side by side again. It equals splitting ``qkv`` into heads of shape
    (..., num_heads, L, E / num_heads), ``scaled_dot_product_attention`` on them and
    joining the heads, which takes seven view nodes more.
    """
    shape = qkv._data.shape
    if len(shape) < 2:
        raise ValueError(f"multi_head_attention: qkv of shape {shape}, not (..., L, 3E)")
    if num_heads < 1 or shape[-1] % (3 * num_heads):
        raise ValueError(f"multi_head_attention: a last dimension of {shape[-1]} does not hold "
                         f"queries, keys and values for {num_heads} heads")
    return MultiHeadAttention.apply(qkv, num_heads, is_causal, scale)


# ---- convolutions, pooling and batch norm (tensorgrad/conv.py) -------------------------------

_IN_CONV = frozenset({"conv1d", "conv2d", "max_pool1d", "max_pool2d", "avg_pool1d",
                      "avg_pool2d", "adaptive_avg_pool2d", "batch_norm", "conv_transpose1d",
                      "conv_transpose2d", "interpolate", "adaptive_avg_pool1d",
                      "adaptive_max_pool1d", "adaptive_max_pool2d", "pixel_shuffle",
                      "pixel_unshuffle", "max_pool1d_with_indices", "max_pool2d_with_indices",
                      "unfold", "fold", "channel_shuffle"})
# the 3-d ones, in conv.py too
_IN_CONV |= {"conv3d", "conv_transpose3d", "max_pool3d", "max_pool3d_with_indices",
             "avg_pool3d", "adaptive_avg_pool3d", "adaptive_max_pool3d",
             "adaptive_max_pool3d_with_indices", "adaptive_max_pool1d_with_indices",
             "adaptive_max_pool2d_with_indices"}
# more of nn.functional (tensorgrad/surface.py), imported the same way
_IN_SURFACE = frozenset({"gumbel_softmax", "pdist", "embedding_bag"})
# group and instance norm (tensorgrad/normalization.py), imported the same way
_IN_NORMALIZATION = frozenset({"group_norm", "instance_norm"})
# vision ops: sampling grids, unpooling, LP pooling, ... (tensorgrad/sampling.py), the same way
_IN_SAMPLING = frozenset({"affine_grid", "grid_sample", "upsample", "upsample_nearest",
                          "upsample_bilinear", "local_response_norm", "max_unpool1d",
                          "max_unpool2d", "max_unpool3d", "lp_pool1d", "lp_pool2d",
                          "lp_pool3d"})
# the CTC loss, more margin losses, alpha dropout and rrelu (ctc.py, margin_losses.py,
# stochastic.py), imported the same way
_IN_MORE_LOSSES = {"ctc_loss": "ctc", "hinge_embedding_loss": "margin_losses",
                   "multi_margin_loss": "margin_losses", "multilabel_margin_loss": "margin_losses",
                   "triplet_margin_with_distance_loss": "margin_losses",
                   "alpha_dropout": "stochastic", "feature_alpha_dropout": "stochastic",
                   "rrelu": "stochastic", "rrelu_": "stochastic"}


def __getattr__(name: str) -> Any:
    # conv.py imported when one of its names is first used (PEP 562): a program without
    # convolutions, as microgpt's command line, does not pay for it at start-up
    if name in _IN_CONV:
        from . import conv

        return getattr(conv, name)
    if name in _IN_NORMALIZATION:
        from . import normalization

        return getattr(normalization, name)
    if name in _IN_SURFACE:
        from . import surface

        return getattr(surface, name)
    if name in _IN_SAMPLING:
        from . import sampling

        return getattr(sampling, name)
    if name in _IN_MORE_LOSSES:
        import importlib

        return getattr(importlib.import_module(f".{_IN_MORE_LOSSES[name]}", __package__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
