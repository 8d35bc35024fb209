"""Functions of a (4, 6) tensor with values in (0.1, 0.9), one per op that has a gradient of
its gradient, written once for tensorgrad and PyTorch (``lib`` is either): the cases that
test_higher_order.py checks against finite differences and test_higher_order_torch.py
against torch."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

TARGETS = [0, 2, 1, 5]
PICKS = [[0, 1], [2, 2], [1, 0], [5, 5]]


def _f(lib: Any) -> Any:
    return lib.nn.functional


def _arange(lib: Any, x: Any) -> Any:
    """1, 2, ..., 6 in x's dtype (a weight)."""
    return lib.arange(1, 7, dtype=x.dtype)


def _square(lib: Any, x: Any) -> Any:
    """An invertible matrix made of x."""
    return x[:, :4] + lib.eye(4, dtype=x.dtype)


CASES: dict[str, Callable[[Any, Any], Any]] = {
    # elementwise
    "mul and add": lambda L, x: x * x + 2 * x, "div": lambda L, x: x / (x.flip(0) + 1),
    "pow": lambda L, x: x ** 3, "rpow": lambda L, x: 2 ** x, "pow of tensors": lambda L, x: x ** x,
    "exp": lambda L, x: x.exp(), "log": lambda L, x: x.log(), "sqrt": lambda L, x: x.sqrt(),
    "tanh": lambda L, x: x.tanh(), "sigmoid": lambda L, x: x.sigmoid(),
    "sin": lambda L, x: x.sin(), "cos": lambda L, x: x.cos(), "tan": lambda L, x: x.tan(),
    "erf": lambda L, x: x.erf(), "erfc": lambda L, x: L.erfc(x), "log1p": lambda L, x: x.log1p(),
    "expm1": lambda L, x: x.expm1(), "exp2": lambda L, x: x.exp2(), "log2": lambda L, x: x.log2(),
    "log10": lambda L, x: x.log10(), "asin": lambda L, x: x.asin(), "acos": lambda L, x: x.acos(),
    "atan": lambda L, x: x.atan(), "sinh": lambda L, x: x.sinh(), "cosh": lambda L, x: x.cosh(),
    "asinh": lambda L, x: x.asinh(), "acosh": lambda L, x: (x + 1.5).acosh(),
    "atanh": lambda L, x: x.atanh(), "atan2": lambda L, x: L.atan2(x, x.flip(1) + 0.5),
    "abs": lambda L, x: (x - 0.5).abs() * x, "relu": lambda L, x: (x - 0.5).relu() * x,
    "round": lambda L, x: x.round() * x, "sign": lambda L, x: (x - 0.5).sign() * x ** 2,
    "clamp": lambda L, x: x.clamp(0.3, 0.7) ** 2, "where": lambda L, x: L.where(x > 0.5, x, x ** 2),
    "maximum": lambda L, x: L.maximum(x, x.flip(0)) ** 2, "lerp": lambda L, x: L.lerp(x, x ** 2, x),
    "masked_fill": lambda L, x: x.masked_fill(x > 0.5, 0.0) ** 2,
    "logaddexp": lambda L, x: L.logaddexp(x, x ** 2), "hypot": lambda L, x: L.hypot(x, x.flip(0)),
    "xlogy": lambda L, x: L.xlogy(x, x + 1), "sinc": lambda L, x: L.sinc(x),
    "logit": lambda L, x: L.logit(x), "rsqrt": lambda L, x: x.rsqrt(),
    # reductions, products, shapes and selections
    "sum and mean": lambda L, x: x.sum(1) ** 2 + x.mean(0).sum(), "prod": lambda L, x: x.prod(1),
    "amax": lambda L, x: x.amax(1) ** 2, "max along": lambda L, x: x.max(0).values ** 2,
    "std": lambda L, x: x.std(1) ** 2, "var": lambda L, x: x.var(0),
    "norm": lambda L, x: x.norm(dim=1), "norm 1": lambda L, x: x.norm(1, dim=0) * x[0],
    "logsumexp": lambda L, x: x.logsumexp(1), "cumsum": lambda L, x: x.cumsum(1) ** 2,
    "cumprod": lambda L, x: x.cumprod(1), "logcumsumexp": lambda L, x: x.logcumsumexp(1),
    "matmul": lambda L, x: x @ x.T, "matmul of vectors": lambda L, x: x[0] @ (x[1] ** 2),
    "batched matmul": lambda L, x: L.bmm(x[None], x.T[None]), "mv": lambda L, x: L.mv(x, x[0]),
    "einsum": lambda L, x: L.einsum("ij,kj->ik", x, x ** 2),
    "einsum of three": lambda L, x: L.einsum("bi,bj,j->b", x, x.sin(), x[0]),
    "index": lambda L, x: (x[:, 1] ** 3).sum() + x[[0, 0, 2]] ** 2,
    "masked index": lambda L, x: x[x > 0.5] ** 2,
    "gather": lambda L, x: x.gather(1, L.tensor(PICKS)) ** 2,
    "take_along_dim": lambda L, x: L.take_along_dim(x, L.tensor(PICKS), 1) ** 2,
    "index_select": lambda L, x: x.index_select(1, L.tensor([0, 0, 3])) ** 2,
    "cat and stack": lambda L, x: (L.cat([x, x * 2], 1) ** 2).sum(1) + L.stack([x, x]).sum((0, 2)),
    "split and chunk": lambda L, x: (x.split(2, 1)[1] ** 2).sum() + x.chunk(2, 0)[0].sin(),
    "reshape and permute": lambda L, x: x.t().reshape(-1) ** 3 + x.permute(1, 0).flatten(),
    "expand and repeat": lambda L, x: x.unsqueeze(0).expand(3, 4, 6) ** 2 + x.repeat(3, 1, 1),
    "tril and roll": lambda L, x: (x @ x.T).tril() ** 2 + x.roll(1, 1)[:, :4],
    "diag and trace": lambda L, x: L.diag(x[:, :4]) ** 2 + L.trace(x[:, :4] ** 2),
    "pad": lambda L, x: _f(L).pad(x, (1, 2, 0, 1)) ** 2,
    "diagonal": lambda L, x: x.reshape(2, 2, 6).diagonal(1, 2, 0) ** 2,
    # nn.functional
    "linear": lambda L, x: _f(L).linear(x, x[:3] ** 2, x[0, :3]),
    "softmax": lambda L, x: _f(L).softmax(x, 1),
    "log_softmax": lambda L, x: _f(L).log_softmax(x, 0),
    "gelu": lambda L, x: _f(L).gelu(x), "gelu tanh": lambda L, x: _f(L).gelu(x, approximate="tanh"),
    "leaky_relu": lambda L, x: _f(L).leaky_relu(x - 0.5, 0.1) * x,
    "elu": lambda L, x: _f(L).elu(x - 0.5),
    "selu": lambda L, x: _f(L).selu(x - 0.5), "softplus": lambda L, x: _f(L).softplus(x * 3),
    "softplus beyond its threshold": lambda L, x: _f(L).softplus(x * 1000 - 100) * x,
    "silu": lambda L, x: _f(L).silu(x), "mish": lambda L, x: _f(L).mish(x),
    "hardtanh": lambda L, x: _f(L).hardtanh(x * 3 - 1) * x,
    "logsigmoid": lambda L, x: _f(L).logsigmoid(x * 4 - 2),
    "softsign": lambda L, x: _f(L).softsign(x - 0.5), "glu": lambda L, x: _f(L).glu(x, 1),
    "layer_norm": lambda L, x: _f(L).layer_norm(x, (6,), _arange(L, x) - 1, x[0] + 1),
    "rms_norm": lambda L, x: _f(L).rms_norm(x, (6,), _arange(L, x)),
    "group_norm": lambda L, x: _f(L).group_norm(x[None], 2, x[:, 0], x[:, 1]),
    "instance_norm": lambda L, x: _f(L).instance_norm(x[None]),
    "batch_norm": lambda L, x: _f(L).batch_norm(x, None, None, x[0] + 1, x[1], training=True),
    "cross_entropy": lambda L, x: _f(L).cross_entropy(x, L.tensor(TARGETS)),
    "cross_entropy, smoothed and weighted": lambda L, x: _f(L).cross_entropy(
        x, L.tensor(TARGETS), weight=_arange(L, x), label_smoothing=0.1),
    "cross_entropy, ignored": lambda L, x: _f(L).cross_entropy(x, L.tensor([0, -100, 1, 5]),
                                                               reduction="sum"),
    "nll_loss": lambda L, x: _f(L).nll_loss(x.log_softmax(1), L.tensor(TARGETS)),
    "binary_cross_entropy": lambda L, x: _f(L).binary_cross_entropy(x, x.detach().round()),
    "bce with logits": lambda L, x: _f(L).binary_cross_entropy_with_logits(
        x * 4 - 2, x.detach().round(), pos_weight=L.tensor(2.0)),
    "mse_loss": lambda L, x: _f(L).mse_loss(x, x.flip(0) ** 2),
    "huber_loss": lambda L, x: _f(L).huber_loss(x * 3, x.flip(0)),
    "smooth_l1_loss": lambda L, x: _f(L).smooth_l1_loss(x * 3, x.flip(0)),
    "kl_div": lambda L, x: _f(L).kl_div(x.log_softmax(1), x.flip(0).softmax(1),
                                        reduction="batchmean"),
    "attention": lambda L, x: _f(L).scaled_dot_product_attention(
        x[None], x[None] ** 2, x[None].sin()),
    "causal attention": lambda L, x: _f(L).scaled_dot_product_attention(
        x[None], x[None] ** 2, x[None].sin(), is_causal=True),
    "embedding": lambda L, x: _f(L).embedding(L.tensor([1, 1, 3]), x) ** 2,
    "conv1d": lambda L, x: _f(L).conv1d(x[None], x[:2, :4, None] * x[0, :3], x[0, :2], padding=1),
    "conv2d, grouped and strided": lambda L, x: _f(L).conv2d(
        x.reshape(1, 4, 2, 3), x[:2, :4].reshape(2, 2, 1, 2) ** 2, groups=2, stride=(1, 2)),
    "max_pool2d": lambda L, x: _f(L).max_pool2d(x[None, None], 2, 1, padding=1) ** 2,
    "avg_pool1d": lambda L, x: _f(L).avg_pool1d(x[None], 3, 2, padding=1) ** 2,
    "conv3d": lambda L, x: _f(L).conv3d(
        x.reshape(1, 2, 2, 2, 3), x[:, :4].reshape(2, 2, 1, 2, 2) ** 2, x[0, :2],
        padding=(1, 0, 1)),
    "conv3d, grouped, strided and dilated": lambda L, x: _f(L).conv3d(
        x.reshape(1, 4, 1, 2, 3), x[:, :4].reshape(4, 2, 1, 1, 2), groups=2, stride=(1, 2, 1),
        padding=(0, 1, 1), dilation=(1, 1, 2)) ** 2,
    "conv_transpose1d": lambda L, x: _f(L).conv_transpose1d(
        x[None], x[:, :3].reshape(4, 1, 3) ** 2, x[0, :1], stride=2, padding=1, output_padding=1),
    "conv_transpose2d, grouped and dilated": lambda L, x: _f(L).conv_transpose2d(
        x.reshape(4, 2, 3), x[:, :2].reshape(4, 1, 2, 1) * x[0, :2].reshape(1, 1, 1, 2), groups=2,
        dilation=(2, 1), stride=(1, 2), padding=(0, 1), output_padding=(1, 0)),
    "conv_transpose3d": lambda L, x: _f(L).conv_transpose3d(
        x.reshape(1, 2, 2, 2, 3), x[:, :4].reshape(2, 2, 2, 2, 1) ** 2, x[1, :2],
        stride=(2, 1, 2), padding=(1, 0, 0)) ** 2,
    "pad, reflect": lambda L, x: _f(L).pad(x[None, None], (2, 1, 1, 3), mode="reflect") ** 2,
    "pad, replicate": lambda L, x: _f(L).pad(x[None], (1, 2), mode="replicate") ** 3,
    "conv3d, circular padding": lambda L, x: _f(L).conv3d(
        _f(L).pad(x.reshape(1, 1, 2, 3, 4), (1, 1, 0, 2, 1, 1), mode="circular"),
        x[:2, :4].reshape(1, 1, 2, 2, 2)) ** 2,
    "max_pool2d, ceil_mode": lambda L, x: _f(L).max_pool2d(x[None], 3, 2, padding=1,
                                                           ceil_mode=True) ** 2,
    "avg_pool3d, ceil_mode": lambda L, x: _f(L).avg_pool3d(x.reshape(1, 2, 3, 4), 2,
                                                           ceil_mode=True) ** 2,
    "max_pool3d": lambda L, x: _f(L).max_pool3d(x.reshape(1, 1, 2, 3, 4), 2, 1, padding=1) ** 2,
    "avg_pool3d": lambda L, x: _f(L).avg_pool3d(x.reshape(1, 2, 3, 4), 2, 1, padding=1,
                                                count_include_pad=False) ** 2,
    "adaptive_avg_pool3d": lambda L, x: _f(L).adaptive_avg_pool3d(x.reshape(1, 2, 3, 4),
                                                                  (1, 2, 3)) ** 2,
    "adaptive_max_pool3d": lambda L, x: _f(L).adaptive_max_pool3d(x.reshape(1, 1, 2, 3, 4),
                                                                  (2, 2, 3)) ** 2,
    "det and inverse": lambda L, x: L.linalg.det(_square(L, x)) * L.linalg.inv(_square(L, x)),
    "solve": lambda L, x: L.linalg.solve(_square(L, x), x[:, 4:]),
    "cdist": lambda L, x: L.cdist(x, x.flip(0) + 1),
    "lgamma and digamma": lambda L, x: L.lgamma(x * 3) + L.digamma(x * 2),
    "polygamma": lambda L, x: L.polygamma(1, x * 3), "erfinv": lambda L, x: L.erfinv(x - 0.5),
    "i0 and i1": lambda L, x: L.i0(x * 2) + L.special.i1(x * 2 - 1),
    "adaptive_avg_pool": lambda L, x: _f(L).adaptive_avg_pool2d(x[None], (3, 4)) ** 2,
    "adaptive_max_pool": lambda L, x: _f(L).adaptive_max_pool2d(x[None], (3, 4)) ** 2,
    "scatter_add": lambda L, x: (x ** 2).scatter_add(1, L.tensor(PICKS), x[:, :2] ** 3),
    "index_add": lambda L, x: (x ** 2).index_add(0, L.tensor([1, 1, 3]), x[:3] ** 3,
                                                 alpha=0.5),
    "interpolate, nearest": lambda L, x: _f(L).interpolate(x[None], scale_factor=2) ** 2,
    "interpolate, bilinear": lambda L, x: _f(L).interpolate(
        x[None, None], size=(5, 7), mode="bilinear", align_corners=True) ** 2,
    "interpolate, bicubic": lambda L, x: _f(L).interpolate(
        x[None, None], size=(7, 3), mode="bicubic") ** 2,
    "bilinear": lambda L, x: _f(L).bilinear(x[:, :3], x[:, 3:] ** 2, x[:2, :3, None] * x[0, :3],
                                            x[0, :2]),
    "cosine_similarity": lambda L, x: _f(L).cosine_similarity(x, x.flip(0)),
}


def values() -> np.ndarray:
    return np.random.default_rng(0).uniform(0.1, 0.9, (4, 6))


def weights(shape: tuple[int, ...]) -> np.ndarray:
    """The weights of a case's result in the scalar differentiated."""
    return np.random.default_rng(1).standard_normal(shape)


def penalty(g: Any) -> Any:
    """What is made of a gradient before it is differentiated again (a gradient penalty)."""
    return (g * g.sin()).sum()
