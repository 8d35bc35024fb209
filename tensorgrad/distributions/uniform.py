"""``Uniform(low, high)``: evenly spread over [low, high)."""

from __future__ import annotations

import math
from typing import Any

from ..creation import rand
from ..ops import where
from ..size import Size
from ..tensor import Tensor
from . import constraints
from .distribution import Distribution
from .utils import _is_number, broadcast_all


class Uniform(Distribution):
    """The uniform distribution on [``low``, ``high``) (tensors or numbers, broadcast
    together); samples are reparameterized.

    >>> d = Uniform(0.0, tensorgrad.tensor([1.0, 4.0]))
    >>> d.mean, d.entropy()  # [0.5, 2.], [0., log 4]
    >>> d.log_prob(tensorgrad.tensor([0.5, 3.0]))  # [0., -log 4]
    >>> Uniform(0.0, 4.0, validate_args=False).log_prob(tensorgrad.tensor(5.0))  # -inf
    """

    has_rsample = True

    @property
    def arg_constraints(self) -> dict[str, constraints.Constraint]:
        # each bound is checked against the other: low < high entrywise
        return {"low": constraints.less_than(self.high),
                "high": constraints.greater_than(self.low)}

    def __init__(self, low: Any, high: Any, validate_args: bool | None = None) -> None:
        self.low, self.high = broadcast_all(low, high)
        batch_shape = Size() if _is_number(low) and _is_number(high) else self.low.size()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> Uniform:
        return self._expand_params(Uniform, batch_shape, _instance, "low", "high")

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self) -> constraints.Constraint:
        return constraints.interval(self.low, self.high)

    @property
    def mean(self) -> Tensor:
        return (self.high + self.low) / 2

    @property
    def mode(self) -> Tensor:
        return float("nan") * self.high  # every point is a mode: none is the mode

    @property
    def stddev(self) -> Tensor:
        return (self.high - self.low) / 12**0.5

    @property
    def variance(self) -> Tensor:
        return (self.high - self.low).pow(2) / 12

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        """Draw ``low + u * (high - low)`` with u uniform on [0, 1): differentiable in both
        bounds."""
        u = rand(tuple(self._extended_shape(sample_shape)), dtype=self.low.dtype)
        return self.low + u * (self.high - self.low)

    def log_prob(self, value: Any) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        inside = (self.low <= value) & (self.high > value)
        # -inf outside [low, high): chosen, not computed as log(0), which NumPy warns of
        return where(inside, 0.0, -math.inf).to(self.low.dtype) - (self.high - self.low).log()

    def cdf(self, value: Any) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return ((value - self.low) / (self.high - self.low)).clamp(min=0, max=1)

    def icdf(self, value: Any) -> Tensor:
        return value * (self.high - self.low) + self.low

    def entropy(self) -> Tensor:
        return (self.high - self.low).log()


__all__ = ["Uniform"]
