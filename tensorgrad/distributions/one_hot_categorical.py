"""``OneHotCategorical``: a ``Categorical`` whose draws are one-hot vectors."""

from __future__ import annotations

from typing import Any

from ..creation import eye
from ..functional import one_hot
from ..size import Size
from ..tensor import Tensor
from . import constraints
from .categorical import Categorical
from .distribution import Distribution
from .utils import _ParamsOfCategorical


class OneHotCategorical(_ParamsOfCategorical, Distribution):
    """A category drawn as ``Categorical(probs, logits)`` draws it, given as a one-hot vector
    of K entries (the event) in the parameter's dtype.

    >>> d = OneHotCategorical(tensorgrad.tensor([0.0, 1.0, 0.0]))
    >>> d.sample()  # Tensor([0., 1., 0.])
    >>> d.event_shape  # Size([3])
    """

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.one_hot
    has_enumerate_support = True

    def __init__(self, probs: Tensor | None = None, logits: Tensor | None = None,
                 validate_args: bool | None = None) -> None:
        self._categorical = Categorical(probs, logits)
        batch_shape = self._categorical.batch_shape
        event_shape = self._categorical.param_shape[-1:]
        super().__init__(batch_shape, event_shape, validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> OneHotCategorical:
        new = self._get_checked_instance(OneHotCategorical, _instance)
        batch_shape = Size(batch_shape)
        new._categorical = self._categorical.expand(batch_shape)
        Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def _param(self) -> Tensor:
        return self._categorical._param

    @property
    def mean(self) -> Tensor:
        return self._categorical.probs

    @property
    def mode(self) -> Tensor:
        probs = self._categorical.probs
        return one_hot(probs.argmax(dim=-1), probs.shape[-1]).to(probs.dtype)

    @property
    def variance(self) -> Tensor:
        probs = self._categorical.probs
        return probs * (1 - probs)

    def sample(self, sample_shape: Any = ()) -> Tensor:
        indices = self._categorical.sample(sample_shape)
        return one_hot(indices, self._categorical._num_events).to(self._param.dtype)

    def log_prob(self, value: Any) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return self._categorical.log_prob(value.argmax(-1))

    def entropy(self) -> Tensor:
        return self._categorical.entropy()

    def enumerate_support(self, expand: bool = True) -> Tensor:
        n = self.event_shape[0]
        values = eye(n, dtype=self._param.dtype).reshape((n,) + (1,) * len(self.batch_shape)
                                                          + (n,))
        if expand:
            values = values.expand((n,) + tuple(self.batch_shape) + (n,))
        return values


class OneHotCategoricalStraightThrough(OneHotCategorical):
    """``OneHotCategorical`` with the straight-through gradient: ``rsample`` is a one-hot
    draw whose gradient is that of the probabilities (draw + probs - probs.detach()).

    >>> d = OneHotCategoricalStraightThrough(logits=logits)
    >>> (d.rsample() * values).sum().backward()  # logits.grad through softmax
    """

    has_rsample = True

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        draws = self.sample(sample_shape)
        probs = self._categorical.probs  # cached: its gradient reaches the parameters
        return draws + (probs - probs.detach())


__all__ = ["OneHotCategorical", "OneHotCategoricalStraightThrough"]
