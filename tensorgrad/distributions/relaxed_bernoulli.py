"""``RelaxedBernoulli(temperature, probs | logits)``: the concrete (Gumbel-sigmoid)
relaxation of a Bernoulli variable, reparameterized; and ``LogitRelaxedBernoulli``, its
log-odds."""

from __future__ import annotations

from typing import Any

from ..creation import rand
from ..size import Size
from ..tensor import Tensor
from . import constraints
from .distribution import Distribution
from .transformed_distribution import TransformedDistribution
from .transforms import SigmoidTransform
from .utils import (
    _BinaryProbsOrLogits,
    _expand_probs_or_logits,
    _ParamsOfRelaxedBase,
    _set_probs_or_logits,
    broadcast_all,
    clamp_probs,
)


class LogitRelaxedBernoulli(_BinaryProbsOrLogits, Distribution):
    """The log-odds of a ``RelaxedBernoulli`` draw: (logistic noise + logits) /
    temperature."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.real
    has_rsample = True

    def __init__(self, temperature: Tensor, probs: Any = None, logits: Any = None,
                 validate_args: bool | None = None) -> None:
        self.temperature = temperature
        _set_probs_or_logits(self, probs, logits)
        super().__init__(self._param.size(), validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> LogitRelaxedBernoulli:
        new = self._expand_params(LogitRelaxedBernoulli, batch_shape, _instance)
        new.temperature = self.temperature
        _expand_probs_or_logits(self, new, new.batch_shape)
        return new

    @property
    def param_shape(self) -> Size:
        return self._param.shape

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        shape = tuple(self._extended_shape(sample_shape))
        probs = clamp_probs(self.probs.expand(shape))
        uniforms = clamp_probs(rand(shape, dtype=probs.dtype))
        return (uniforms.log() - (-uniforms).log1p() + probs.log()
                - (-probs).log1p()) / self.temperature

    def log_prob(self, value: Any) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        diff = logits - value * self.temperature
        return self.temperature.log() + diff - 2 * diff.exp().log1p()


class RelaxedBernoulli(_ParamsOfRelaxedBase, TransformedDistribution):
    """Values in (0, 1) that approach Bernoulli draws of ``probs`` (or ``logits``) as the
    ``temperature`` goes to 0: the sigmoid of a ``LogitRelaxedBernoulli`` draw.

    >>> d = RelaxedBernoulli(tensorgrad.tensor(0.5), probs=tensorgrad.tensor([0.3]))
    >>> d.rsample((4,)).shape  # Size([4, 1])
    """

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, temperature: Tensor, probs: Any = None, logits: Any = None,
                 validate_args: bool | None = None) -> None:
        base = LogitRelaxedBernoulli(temperature, probs, logits)
        super().__init__(base, SigmoidTransform(), validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> RelaxedBernoulli:
        new = self._get_checked_instance(RelaxedBernoulli, _instance)
        return super().expand(Size(batch_shape), _instance=new)  # type: ignore[return-value]

__all__ = ["LogitRelaxedBernoulli", "RelaxedBernoulli"]
