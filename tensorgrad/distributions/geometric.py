"""``Geometric(probs | logits)``: failures before the first success."""

from __future__ import annotations

from typing import Any

from ..creation import empty
from ..dtypes import finfo
from ..functional import binary_cross_entropy_with_logits
from ..grad_mode import no_grad
from ..ops import where
from ..tensor import Tensor
from . import constraints
from .distribution import Distribution
from .utils import (
    _BinaryProbsOrLogits,
    _expand_probs_or_logits,
    _set_probs_or_logits,
    broadcast_all,
)


class Geometric(_BinaryProbsOrLogits, Distribution):
    """The number of failures before the first success of trials each a success with
    probability ``probs`` (in (0, 1]) or ``sigmoid(logits)``; give exactly one.

    >>> Geometric(tensorgrad.tensor([0.25])).mean  # [3.]
    """

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.nonnegative_integer

    def __init__(self, probs: Any = None, logits: Any = None,
                 validate_args: bool | None = None) -> None:
        _set_probs_or_logits(self, probs, logits)
        super().__init__(self._param.size(), validate_args=validate_args)
        if self._validate_args and probs is not None:
            # probability 0 never succeeds: no distribution, though in the unit interval
            value = self.probs
            valid = value > 0
            if not bool(valid.all()):
                raise ValueError(f"Expected parameter probs ({type(value).__name__} of shape "
                                 f"{tuple(value.shape)}) of distribution {self!r} to be "
                                 f"positive but found invalid values:\n{value[~valid]}")

    def expand(self, batch_shape: Any, _instance: Any = None) -> Geometric:
        new = self._expand_params(Geometric, batch_shape, _instance)
        _expand_probs_or_logits(self, new, new.batch_shape)
        return new

    @property
    def mean(self) -> Tensor:
        return 1.0 / self.probs - 1.0

    @property
    def mode(self) -> Tensor:
        return self.probs.new_zeros(self.probs.shape)

    @property
    def variance(self) -> Tensor:
        return (1.0 / self.probs - 1.0) / self.probs

    def sample(self, sample_shape: Any = ()) -> Tensor:
        shape = tuple(self._extended_shape(sample_shape))
        tiny = finfo(self.probs.dtype).tiny
        with no_grad():
            u = empty(shape, dtype=self.probs.dtype).uniform_(tiny, 1)
            return (u.log() / (-self.probs).log1p()).floor()

    def log_prob(self, value: Any) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        value, probs = broadcast_all(value, self.probs)
        # certain success: no failures has log-probability 0, not 0 * log(0)
        probs = where((probs == 1) & (value == 0), 0.0, probs)
        return value * (-probs).log1p() + self.probs.log()

    def entropy(self) -> Tensor:
        return binary_cross_entropy_with_logits(self.logits, self.probs,
                                                reduction="none") / self.probs


__all__ = ["Geometric"]
