"""The top-level ``torch.*`` forms of nn.functional's losses, dropouts and rrelu, which
take ATen's arguments: the reduction as a number (0 none, 1 mean, 2 sum), ``train``
required for the dropouts, a ``generator`` for rrelu. ``tensorgrad/__init__.py`` finds
them here when first used.

PyTorch 2.13's Python bindings of the losses default the reduction to 0 (none), where
``F``'s default to "mean", and take any other number as none: as these do.
"""

from __future__ import annotations

from typing import Any

from . import functional as F
from . import margin_losses, stochastic
from .ctc import ctc_loss as _ctc_loss
from .tensor import Tensor

_NAMES = {1: "mean", 2: "sum"}


def _reduction(reduction: Any, function: str, position: int) -> str:
    if not isinstance(reduction, int) or isinstance(reduction, bool):
        raise TypeError(f"{function}(): argument 'reduction' (position {position}) must be "
                        f"int, not {type(reduction).__name__}")
    return _NAMES.get(reduction, "none")


def hinge_embedding_loss(input: Tensor, target: Any, margin: float = 1.0,
                         reduction: int = 0) -> Tensor:
    return margin_losses.hinge_embedding_loss(
        input, target, margin, reduction=_reduction(reduction, "hinge_embedding_loss", 4))


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Any, margin: float = 0.0,
                        reduction: int = 0) -> Tensor:
    return F.margin_ranking_loss(input1, input2, target, margin,
                                 reduction=_reduction(reduction, "margin_ranking_loss", 5))


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Any, margin: float = 0.0,
                          reduction: int = 0) -> Tensor:
    return F.cosine_embedding_loss(input1, input2, target, margin,
                                   reduction=_reduction(reduction, "cosine_embedding_loss", 5))


def kl_div(input: Tensor, target: Any, reduction: int = 0, *, log_target: bool = False
           ) -> Tensor:
    # (reduced here: F.kl_div's warning about "mean" is its Python function's, not ATen's)
    losses = F.kl_div(input, target, reduction="none", log_target=log_target)
    return F._reduce(losses, _reduction(reduction, "kl_div", 3))


def binary_cross_entropy_with_logits(input: Tensor, target: Any, weight: Any = None,
                                     pos_weight: Any = None, reduction: int = 0) -> Tensor:
    name = _reduction(reduction, "binary_cross_entropy_with_logits", 5)
    return F.binary_cross_entropy_with_logits(input, target, weight, reduction=name,
                                              pos_weight=pos_weight)


def ctc_loss(log_probs: Tensor, targets: Any, input_lengths: Any, target_lengths: Any,
             blank: int = 0, reduction: int = 0, zero_infinity: bool = False) -> Tensor:
    return _ctc_loss(log_probs, targets, input_lengths, target_lengths, blank,
                     _reduction(reduction, "ctc_loss", 6), zero_infinity)


def _probability(p: float) -> float:
    """``p`` as ATen checks it, with a RuntimeError (F's functions raise ValueError)."""
    if not 0 <= p <= 1:
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got {p}")
    return p


def alpha_dropout(input: Tensor, p: float, train: bool) -> Tensor:
    return stochastic.alpha_dropout(input, _probability(p), train)


def alpha_dropout_(input: Tensor, p: float, train: bool) -> Tensor:
    return stochastic.alpha_dropout(input, _probability(p), train, inplace=True)


def feature_alpha_dropout(input: Tensor, p: float, train: bool) -> Tensor:
    return stochastic.feature_alpha_dropout(input, _probability(p), train)


def feature_alpha_dropout_(input: Tensor, p: float, train: bool) -> Tensor:
    return stochastic.feature_alpha_dropout(input, _probability(p), train, inplace=True)


def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3,
          training: bool = False, generator: Any = None) -> Tensor:
    return stochastic._rrelu(input, lower, upper, training, False, generator)


def rrelu_(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3,
           training: bool = False, generator: Any = None) -> Tensor:
    return stochastic._rrelu(input, lower, upper, training, True, generator)


NAMES = ("hinge_embedding_loss", "margin_ranking_loss", "cosine_embedding_loss", "kl_div",
         "binary_cross_entropy_with_logits", "ctc_loss", "alpha_dropout", "alpha_dropout_",
         "feature_alpha_dropout", "feature_alpha_dropout_", "rrelu", "rrelu_")
