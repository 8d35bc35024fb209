"""``Bernoulli``: 1 with probability p, else 0, from probabilities or log-odds."""

from __future__ import annotations

from typing import Any

from ..creation import arange, rand
from ..functional import binary_cross_entropy_with_logits
from ..grad_mode import no_grad
from ..ops import where
from ..size import Size
from ..tensor import Tensor
from . import constraints
from .distribution import Distribution
from .utils import (
    _BinaryProbsOrLogits,
    _expand_probs_or_logits,
    _set_probs_or_logits,
    broadcast_all,
)


class Bernoulli(_BinaryProbsOrLogits, Distribution):
    """Draws of 1 with probability ``probs`` (in [0, 1]) or ``sigmoid(logits)``, else 0, in
    the parameter's dtype; give exactly one of the two.

    >>> d = Bernoulli(logits=tensorgrad.tensor([0.0, 100.0]))
    >>> d.probs, d.entropy()  # [0.5, 1.], [log 2, ~0]
    >>> d.sample((10,)).mean(0)  # about [0.5, 1.]
    """

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.boolean
    has_enumerate_support = True

    def __init__(self, probs: Any = None, logits: Any = None,
                 validate_args: bool | None = None) -> None:
        _set_probs_or_logits(self, probs, logits)
        super().__init__(self._param.size(), validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> Bernoulli:
        new = self._expand_params(Bernoulli, batch_shape, _instance)
        _expand_probs_or_logits(self, new, new.batch_shape)
        return new

    @property
    def param_shape(self) -> Size:
        return self._param.shape

    @property
    def mean(self) -> Tensor:
        return self.probs

    @property
    def mode(self) -> Tensor:
        # at probability 1/2 both values are modes: NaN, as PyTorch's
        ones = (self.probs >= 0.5).to(self.probs.dtype)
        return where(self.probs == 0.5, float("nan"), ones)

    @property
    def variance(self) -> Tensor:
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape: Any = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        with no_grad():
            probs = self.probs.expand(shape)
            return (rand(tuple(shape), dtype=probs.dtype) < probs).to(probs.dtype)

    def log_prob(self, value: Any) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        return -binary_cross_entropy_with_logits(logits, value, reduction="none")

    def entropy(self) -> Tensor:
        return binary_cross_entropy_with_logits(self.logits, self.probs, reduction="none")

    def enumerate_support(self, expand: bool = True) -> Tensor:
        values = arange(2, dtype=self._param.dtype)
        values = values.reshape((-1,) + (1,) * len(self._batch_shape))
        if expand:
            values = values.expand((-1,) + tuple(self._batch_shape))
        return values


__all__ = ["Bernoulli"]
