"""``Binomial(total_count, probs | logits)``: successes among ``total_count`` trials."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..creation import arange
from ..grad_mode import no_grad
from ..random import rng
from ..size import Size
from ..tensor import Tensor
from . import constraints
from .distribution import Distribution
from .utils import (
    _BinaryProbsOrLogits,
    _expand_probs_or_logits,
    _set_probs_or_logits,
)


def _clamp_by_zero(x: Tensor) -> Tensor:
    # max(x, 0) with gradient 1/2 at 0 (PyTorch's, so that the gradients agree there)
    return (x.clamp(min=0) + x - x.clamp(max=0)) / 2


class Binomial(_BinaryProbsOrLogits, Distribution):
    """The number of successes among ``total_count`` (non-negative integers, as a tensor
    of the parameter's dtype) independent trials, each a success with probability
    ``probs`` or ``sigmoid(logits)``; give exactly one of the two.

    >>> Binomial(10, tensorgrad.tensor([0.5])).mean  # [5.]
    """

    arg_constraints = {"total_count": constraints.nonnegative_integer,
                       "probs": constraints.unit_interval, "logits": constraints.real}
    has_enumerate_support = True

    def __init__(self, total_count: Any = 1, probs: Any = None, logits: Any = None,
                 validate_args: bool | None = None) -> None:
        (self.total_count,) = _set_probs_or_logits(self, probs, logits, total_count)
        super().__init__(self._param.size(), validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> Binomial:
        new = self._expand_params(Binomial, batch_shape, _instance, "total_count")
        _expand_probs_or_logits(self, new, new.batch_shape)
        return new

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self) -> constraints.Constraint:
        return constraints.integer_interval(0, self.total_count)

    @property
    def param_shape(self) -> Size:
        return self._param.shape

    @property
    def mean(self) -> Tensor:
        return self.total_count * self.probs

    @property
    def mode(self) -> Tensor:
        return ((self.total_count + 1) * self.probs).floor().clamp(max=self.total_count)

    @property
    def variance(self) -> Tensor:
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape: Any = ()) -> Tensor:
        shape = tuple(self._extended_shape(sample_shape))
        with no_grad():
            counts = self.total_count.expand(shape).numpy()
            probs = self.probs.expand(shape).numpy()
            draws = rng().binomial(counts.astype(np.int64), probs) if counts.size else counts
            return Tensor(np.asarray(draws).astype(probs.dtype))

    def log_prob(self, value: Any) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        n = self.total_count
        # n log(1 + e^logits) written stably: n max(logits, 0) + n log1p(e^-|logits|)
        normalizer = (n * _clamp_by_zero(self.logits)
                      + n * (-self.logits.abs()).exp().log1p() - (n + 1).lgamma())
        return (value * self.logits - (value + 1).lgamma() - (n - value + 1).lgamma()
                - normalizer)

    def _homogeneous_count(self, what: str) -> int:
        total = int(self.total_count.max()) if self.total_count.numel() else 0
        if self.total_count.numel() and not bool((self.total_count.min() == total).all()):
            raise NotImplementedError(f"Inhomogeneous total count not supported by `{what}`.")
        return total

    def entropy(self) -> Tensor:
        self._homogeneous_count("entropy")
        log_prob = self.log_prob(self.enumerate_support(False))
        return -(log_prob.exp() * log_prob).sum(0)

    def enumerate_support(self, expand: bool = True) -> Tensor:
        total = self._homogeneous_count("enumerate_support")
        values = arange(1 + total, dtype=self._param.dtype)
        values = values.reshape((-1,) + (1,) * len(self._batch_shape))
        if expand:
            values = values.expand((-1,) + tuple(self._batch_shape))
        return values


__all__ = ["Binomial"]
