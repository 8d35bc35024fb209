"""``Categorical``: one of K categories, from probabilities or logits over the last
dimension."""

from __future__ import annotations

from typing import Any

from ..creation import arange, full, multinomial
from ..dtypes import finfo, int64
from ..size import Size
from ..tensor import Tensor
from ..torch_functions import broadcast_tensors
from . import constraints
from .distribution import Distribution
from .utils import _expand_probs_or_logits, lazy_property, logits_to_probs, probs_to_logits


class Categorical(Distribution):
    """The distribution over the category indices 0 .. K-1, K being the size of the last
    dimension of ``probs`` (non-negative weights, normalized to sum to 1) or of ``logits``
    (unnormalized log-probabilities); give exactly one. The dimensions before the last are
    the batch's.

    >>> d = Categorical(logits=tensorgrad.tensor([[0.0, 0.0], [0.0, -math.inf]]))
    >>> d.batch_shape, d.probs  # (Size([2]), [[0.5, 0.5], [1., 0.]])
    >>> d.sample((3,)).shape  # Size([3, 2]), int64
    """

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    has_enumerate_support = True

    def __init__(self, probs: Tensor | None = None, logits: Tensor | None = None,
                 validate_args: bool | None = None) -> None:
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            if probs.dim() < 1:
                raise ValueError("`probs` parameter must be at least one-dimensional.")
            self.probs = probs / probs.sum(-1, keepdim=True)
            self._param = self.probs
        else:
            assert logits is not None
            if logits.dim() < 1:
                raise ValueError("`logits` parameter must be at least one-dimensional.")
            # normalized: log-probabilities, whose logsumexp is 0
            self.logits = logits - logits.logsumexp(dim=-1, keepdim=True)
            self._param = self.logits
        self._num_events = self._param.shape[-1]
        batch_shape = self._param.shape[:-1] if self._param.dim() > 1 else Size()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> Categorical:
        new = self._expand_params(Categorical, batch_shape, _instance)
        _expand_probs_or_logits(self, new, Size(tuple(new.batch_shape) + (self._num_events,)))
        new._num_events = self._num_events
        return new

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self) -> constraints.Constraint:
        return constraints.integer_interval(0, self._num_events - 1)

    @lazy_property
    def logits(self) -> Tensor:
        """The normalized log-probabilities (those of probability 0 are log(eps), finite)."""
        return probs_to_logits(self.probs)

    @lazy_property
    def probs(self) -> Tensor:
        """The probabilities, summing to 1 over the last dimension."""
        return logits_to_probs(self.logits)

    @property
    def param_shape(self) -> Size:
        return self._param.size()

    @property
    def mean(self) -> Tensor:
        # category indices have no meaningful mean: NaN, as PyTorch's
        return full(self._extended_shape(), float("nan"), dtype=self.probs.dtype)

    @property
    def mode(self) -> Tensor:
        return self.probs.argmax(dim=-1)

    @property
    def variance(self) -> Tensor:
        return full(self._extended_shape(), float("nan"), dtype=self.probs.dtype)

    def sample(self, sample_shape: Any = ()) -> Tensor:
        sample_shape = Size(sample_shape)
        rows = self.probs.detach().reshape(-1, self._num_events)
        draws = multinomial(rows, sample_shape.numel(), True).T  # (samples, rows)
        return draws.reshape(self._extended_shape(sample_shape))

    def log_prob(self, value: Any) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        index = value.long().unsqueeze(-1)
        index, log_pmf = broadcast_tensors(index, self.logits)
        return log_pmf.gather(-1, index[..., :1]).squeeze(-1)

    def entropy(self) -> Tensor:
        # -inf logits (probability 0) would make 0 * -inf = NaN: the most negative finite
        # number times 0 is 0
        logits = self.logits.clamp(min=finfo(self.logits.dtype).min)
        return -(logits * self.probs).sum(-1)

    def enumerate_support(self, expand: bool = True) -> Tensor:
        values = arange(self._num_events, dtype=int64)
        values = values.reshape((-1,) + (1,) * len(self._batch_shape))
        if expand:
            values = values.expand((-1,) + tuple(self._batch_shape))
        return values


__all__ = ["Categorical"]
