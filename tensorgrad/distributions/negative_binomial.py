"""``NegativeBinomial(total_count, probs | logits)``: successes before ``total_count``
failures."""

from __future__ import annotations

from typing import Any

from ..creation import poisson
from ..functional import logsigmoid
from ..grad_mode import no_grad
from ..ops import where
from ..size import Size
from ..tensor import Tensor
from . import constraints
from .distribution import Distribution
from .gamma import Gamma
from .utils import (
    _BinaryProbsOrLogits,
    _expand_probs_or_logits,
    _set_probs_or_logits,
)


class NegativeBinomial(_BinaryProbsOrLogits, Distribution):
    """The number of successes (each of probability ``probs``, or ``sigmoid(logits)``)
    before ``total_count`` (positive, not necessarily whole) failures: a Poisson draw of a
    Gamma(total_count, exp(-logits)) rate.

    >>> NegativeBinomial(3.0, probs=tensorgrad.tensor([0.5])).mean  # [3.]
    """

    arg_constraints = {"total_count": constraints.greater_than_eq(0),
                       "probs": constraints.half_open_interval(0.0, 1.0),
                       "logits": constraints.real}
    support = constraints.nonnegative_integer

    def __init__(self, total_count: Any, probs: Any = None, logits: Any = None,
                 validate_args: bool | None = None) -> None:
        (self.total_count,) = _set_probs_or_logits(self, probs, logits, total_count)
        super().__init__(self._param.size(), validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> NegativeBinomial:
        new = self._expand_params(NegativeBinomial, batch_shape, _instance, "total_count")
        _expand_probs_or_logits(self, new, new.batch_shape)
        return new

    @property
    def param_shape(self) -> Size:
        return self._param.shape

    @property
    def mean(self) -> Tensor:
        return self.total_count * self.logits.exp()

    @property
    def mode(self) -> Tensor:
        return ((self.total_count - 1) * self.logits.exp()).floor().clamp(min=0.0)

    @property
    def variance(self) -> Tensor:
        return self.mean / (-self.logits).sigmoid()

    def sample(self, sample_shape: Any = ()) -> Tensor:
        with no_grad():
            rate = Gamma(self.total_count, (-self.logits).exp(),
                         validate_args=False).sample(sample_shape)
            return poisson(rate)

    def log_prob(self, value: Any) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        n = self.total_count
        unnormalized = n * logsigmoid(-self.logits) + value * logsigmoid(self.logits)
        normalization = -(n + value).lgamma() + (1.0 + value).lgamma() + n.lgamma()
        # no failures wanted and none seen: probability 1 (lgamma(0) would be inf - inf)
        normalization = where(n + value == 0.0, 0.0, normalization)
        return unnormalized - normalization


__all__ = ["NegativeBinomial"]
