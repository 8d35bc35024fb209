"""Alpha dropout and the randomized leaky ReLU: ops that draw at random while training.

Alpha dropout (for SELU networks) sets a dropped entry to SELU's negative limit
-alpha' = -scale * alpha and then applies the affine map a * x + b that keeps a unit
Gaussian's mean and variance, so that self-normalization survives dropout (Klambauer et
al., "Self-Normalizing Neural Networks"). RReLU multiplies each negative entry by a slope
drawn from [lower, upper] while training and by the mean slope otherwise (Xu et al.,
"Empirical Evaluation of Rectified Activations").

The draws come from ``tensorgrad.random`` (they cannot equal PyTorch's bits); the ops are
composed of tensor ops with the drawn arrays as constants, so the gradient is the drawn
multiplier and gradients of gradients come with it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import functional as F
from .dtypes import short_name
from .random import rng
from .tensor import Tensor

# SELU's alpha * scale: the value a dropped entry takes before the affine correction
_SELU_LIMIT = 1.7580993408473766


def _probability(p: float) -> float:
    """``p`` as the Python functions check it (ValueError out of [0, 1]); a NaN gets past
    that check in PyTorch and is refused by its kernel, with a RuntimeError."""
    if p < 0 or p > 1:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if math.isnan(p):
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got {p}")
    return float(p)


def _alpha_dropout(input: Tensor, p: float, training: bool, inplace: bool, feature: bool,
                   generator: Any = None) -> Tensor:
    p = _probability(p)
    data = input._data
    if p == 0 or not training or data.size == 0:
        return input
    if feature and data.ndim < 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    if p == 1:  # every entry dropped: input times zeros (NaN stays NaN), as PyTorch's
        zeros = Tensor(np.zeros((), data.dtype))
        return F._in_place(input, inplace, lambda: input * zeros)
    if data.dtype.kind != "f":
        raise RuntimeError(f"result type Float can't be cast to the desired output type "
                           f"{short_name(data.dtype)}")
    shape = data.shape[:2] + (1,) * (data.ndim - 2) if feature else data.shape
    kept = rng(generator).random(shape) < 1 - p
    a = 1 / math.sqrt((_SELU_LIMIT ** 2 * p + 1) * (1 - p))
    scale = Tensor((kept * a).astype(data.dtype))
    # dropped entries: a * -alpha' + alpha' * a * p; kept ones: a * x + alpha' * a * p
    shift = Tensor(((kept - 1.0) * _SELU_LIMIT * a + _SELU_LIMIT * a * p).astype(data.dtype))
    return F._in_place(input, inplace, lambda: input * scale + shift)


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,
                  inplace: bool = False) -> Tensor:
    """While ``training`` (off by default, as PyTorch's), each entry dropped with
    probability ``p`` to SELU's negative limit, then all scaled and shifted so that the
    mean and variance of a unit Gaussian input stay; else ``input`` itself::

        x = F.alpha_dropout(F.selu(layer(x)), 0.1, training=self.training)
    """
    return _alpha_dropout(input, p, training, inplace, feature=False)


def feature_alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,
                          inplace: bool = False) -> Tensor:
    """``alpha_dropout`` with one draw per channel: dimensions 0 and 1 of ``input`` (N, C,
    ...) drawn, the rest sharing the draw."""
    return _alpha_dropout(input, p, training, inplace, feature=True)


def _rrelu(input: Tensor, lower: float, upper: float, training: bool, inplace: bool,
           generator: Any = None) -> Tensor:
    if lower > upper:
        raise RuntimeError("Lower bound should be less than or equal to the upper bound")
    data = input._data
    if not training:
        if data.dtype.kind != "f":
            raise NotImplementedError(f'"leaky_relu_cpu" not implemented for '
                                      f"'{short_name(data.dtype)}'")
        return F.leaky_relu(input, (lower + upper) / 2, inplace)
    if data.dtype.kind != "f":
        raise NotImplementedError(f'"rrelu_with_noise_out_cpu" not implemented for '
                                  f"'{short_name(data.dtype)}'")
    slopes = lower + (upper - lower) * rng(generator).random(data.shape)
    # a slope where x <= 0 (a NaN keeps 1), as PyTorch's kernel draws it
    multiplier = Tensor(np.where(data <= 0, slopes, 1).astype(data.dtype))
    return F._in_place(input, inplace, lambda: input * multiplier)


def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False,
          inplace: bool = False) -> Tensor:
    """While ``training``, x for x > 0 and x times a slope drawn uniformly from [``lower``,
    ``upper``] elsewhere, one draw per entry; else (the default) ``leaky_relu`` with the
    mean slope (lower + upper) / 2."""
    return _rrelu(input, lower, upper, training, inplace)


def rrelu_(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3,
           training: bool = False) -> Tensor:
    """``rrelu`` written into ``input``."""
    return _rrelu(input, lower, upper, training, True)
