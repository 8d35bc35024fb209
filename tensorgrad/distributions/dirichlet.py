"""``Dirichlet(concentration)``: distributions over the simplex."""

from __future__ import annotations

from typing import Any

from ..dtypes import finfo
from ..functional import one_hot
from ..ops import where
from ..size import Size
from ..tensor import Tensor
from . import constraints
from .distribution import Distribution
from .gamma import _standard_gamma


class Dirichlet(Distribution):
    """The Dirichlet distribution of positive ``concentration`` over the last dimension
    (the event); the dimensions before it are the batch's.

    Draws are independent gamma draws normalized to sum 1; their gradient flows through
    the gammas' implicit gradients (PyTorch differentiates the Dirichlet's own distribution
    function instead: the same expectation, other gradients for one draw).

    >>> Dirichlet(tensorgrad.tensor([1.0, 2.0, 3.0])).mean  # [1/6, 1/3, 1/2]
    """

    arg_constraints = {"concentration": constraints.independent(constraints.positive, 1)}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, concentration: Tensor, validate_args: bool | None = None) -> None:
        if concentration.dim() < 1:
            raise ValueError("`concentration` parameter must be at least one-dimensional.")
        self.concentration = concentration
        super().__init__(concentration.shape[:-1], concentration.shape[-1:],
                         validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> Dirichlet:
        new = self._get_checked_instance(Dirichlet, _instance)
        batch_shape = Size(batch_shape)
        new.concentration = self.concentration.expand(tuple(batch_shape)
                                                      + tuple(self.event_shape))
        Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self) -> Tensor:
        return self.concentration / self.concentration.sum(-1, keepdim=True)

    @property
    def mode(self) -> Tensor:
        concentration_m1 = (self.concentration - 1).clamp(min=0.0)
        mode = concentration_m1 / concentration_m1.sum(-1, keepdim=True)
        # every concentration below 1: a corner, the one PyTorch picks, the argmax of the
        # 0/0 = NaN row above (its first entry)
        corner = (self.concentration < 1).all(-1, keepdim=True)
        largest = one_hot(mode.argmax(-1), self.concentration.shape[-1])
        return where(corner, largest.to(mode.dtype), mode)

    @property
    def variance(self) -> Tensor:
        total = self.concentration.sum(-1, keepdim=True)
        return self.concentration * (total - self.concentration) / (total.pow(2) * (total + 1))

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        gammas = _standard_gamma(self.concentration.expand(shape))
        draws = gammas / gammas.sum(-1, keepdim=True)
        info = finfo(draws.dtype)
        return draws.clamp(min=info.tiny, max=1 - info.eps)

    def log_prob(self, value: Any) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        c = self.concentration
        return ((c - 1.0).xlogy(value).sum(-1) + c.sum(-1).lgamma() - c.lgamma().sum(-1))

    def entropy(self) -> Tensor:
        c = self.concentration
        k = c.shape[-1]
        total = c.sum(-1)
        return (c.lgamma().sum(-1) - total.lgamma() - (k - total) * total.digamma()
                - ((c - 1.0) * c.digamma()).sum(-1))


__all__ = ["Dirichlet"]
