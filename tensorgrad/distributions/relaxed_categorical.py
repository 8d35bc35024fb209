"""``RelaxedOneHotCategorical(temperature, probs | logits)``: the Gumbel-softmax
relaxation of one-hot categorical draws, reparameterized; and ``ExpRelaxedCategorical``,
its logarithm."""

from __future__ import annotations

from typing import Any

from ..creation import rand
from ..size import Size
from ..tensor import Tensor
from . import constraints
from .categorical import Categorical
from .distribution import Distribution
from .transformed_distribution import TransformedDistribution
from .transforms import ExpTransform
from .utils import _ParamsOfCategorical, _ParamsOfRelaxedBase, broadcast_all, clamp_probs


class ExpRelaxedCategorical(_ParamsOfCategorical, Distribution):
    """The log of a ``RelaxedOneHotCategorical`` draw: log-softmax((logits + Gumbel
    noise) / temperature)."""

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, temperature: Tensor, probs: Tensor | None = None,
                 logits: Tensor | None = None, validate_args: bool | None = None) -> None:
        self._categorical = Categorical(probs, logits)
        self.temperature = temperature
        super().__init__(self._categorical.batch_shape, self._categorical.param_shape[-1:],
                         validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> ExpRelaxedCategorical:
        new = self._get_checked_instance(ExpRelaxedCategorical, _instance)
        batch_shape = Size(batch_shape)
        new.temperature = self.temperature
        new._categorical = self._categorical.expand(batch_shape)
        Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        shape = tuple(self._extended_shape(sample_shape))
        uniforms = clamp_probs(rand(shape, dtype=self.logits.dtype))
        gumbels = -((-(uniforms.log())).log())
        scores = (self.logits + gumbels) / self.temperature
        return scores - scores.logsumexp(dim=-1, keepdim=True)

    def log_prob(self, value: Any) -> Tensor:
        k = self._categorical._num_events
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        log_scale = (self.temperature.new_full(self.temperature.shape, float(k)).lgamma()
                     + self.temperature.log() * (k - 1))
        score = logits - value * self.temperature
        score = (score - score.logsumexp(dim=-1, keepdim=True)).sum(-1)
        return score + log_scale


class RelaxedOneHotCategorical(_ParamsOfRelaxedBase, TransformedDistribution):
    """Points of the simplex that approach one-hot categorical draws of ``probs`` (or
    ``logits``) as the ``temperature`` goes to 0: the exponential of an
    ``ExpRelaxedCategorical`` draw.

    >>> d = RelaxedOneHotCategorical(tensorgrad.tensor(0.5), logits=tensorgrad.zeros(3))
    >>> d.rsample().sum()  # 1.
    """

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, temperature: Tensor, probs: Tensor | None = None,
                 logits: Tensor | None = None, validate_args: bool | None = None) -> None:
        base = ExpRelaxedCategorical(temperature, probs, logits, validate_args=validate_args)
        super().__init__(base, ExpTransform(), validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> RelaxedOneHotCategorical:
        new = self._get_checked_instance(RelaxedOneHotCategorical, _instance)
        return super().expand(Size(batch_shape), _instance=new)  # type: ignore[return-value]

__all__ = ["ExpRelaxedCategorical", "RelaxedOneHotCategorical"]
