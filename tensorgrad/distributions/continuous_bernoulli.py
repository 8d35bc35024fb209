"""``ContinuousBernoulli(probs or logits)``: a density on [0, 1] proportional to
p^x (1 - p)^(1 - x), reparameterized through its inverse distribution function."""

from __future__ import annotations

import math
from typing import Any

from ..creation import rand
from ..functional import binary_cross_entropy_with_logits
from ..grad_mode import no_grad
from ..ops import where
from ..size import Size
from ..tensor import Tensor
from . import constraints
from .distribution import Distribution
from .utils import _is_number, broadcast_all, clamp_probs, lazy_property, probs_to_logits


class ContinuousBernoulli(Distribution):
    """The continuous Bernoulli distribution of ``probs`` (in [0, 1], clamped off its ends)
    or ``logits``, give exactly one: density C(p) p^x (1 - p)^(1 - x) on [0, 1]. Within
    ``lims`` of p = 1/2, where C's closed form loses precision, its Taylor expansion is used
    instead (and for the mean and variance), as PyTorch's.

    >>> d = ContinuousBernoulli(tensorgrad.tensor([0.2, 0.5]))
    >>> d.mean  # [0.3880, 0.5]
    """

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, probs: Any = None, logits: Any = None,
                 lims: tuple[float, float] = (0.499, 0.501),
                 validate_args: bool | None = None) -> None:
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        given = probs if probs is not None else logits
        (param,) = broadcast_all(given)
        if probs is not None:
            # checked before clamping (after, any value would pass), when asked explicitly
            if validate_args is not None and \
                    not bool(constraints.unit_interval.check(param).all()):
                raise ValueError("The parameter probs has invalid values")
            self.probs = param = clamp_probs(param)
        else:
            self.logits = param
        self._param = param
        self._lims = lims
        super().__init__(Size() if _is_number(given) else param.size(),
                         validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> ContinuousBernoulli:
        new = self._expand_params(ContinuousBernoulli, batch_shape, _instance,
                                  "probs", "logits")
        new._lims = self._lims
        new._param = new.__dict__.get("probs", new.__dict__.get("logits"))
        return new

    @lazy_property
    def logits(self) -> Tensor:
        """The log-odds of ``probs``."""
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self) -> Tensor:
        """sigmoid(``logits``), clamped off 0 and 1."""
        return clamp_probs(self.logits.sigmoid())

    @property
    def param_shape(self) -> Size:
        return self._param.shape

    def _outside_unstable_region(self) -> Tensor:
        return (self.probs <= self._lims[0]) | (self.probs > self._lims[1])

    def _cut_probs(self) -> Tensor:
        """``probs`` where the closed forms are accurate, else the lower limit (a safe value
        for the branch ``where`` discards, so its gradient stays finite)."""
        return where(self._outside_unstable_region(), self.probs,
                     self.probs.new_full(self.probs.shape, self._lims[0]))

    def _cont_bern_log_norm(self) -> Tensor:
        """log C(p), C(p) = 2 atanh(1 - 2p) / (1 - 2p) (log 2 + 4/3 x + 104/45 x^2 near
        1/2, x = (p - 1/2)^2)."""
        cut = self._cut_probs()
        below = where(cut <= 0.5, cut, 0.0)
        above = where(cut >= 0.5, cut, 1.0)
        log_norm = ((-cut).log1p() - cut.log()).abs().log() - where(
            cut <= 0.5, (-2.0 * below).log1p(), (2.0 * above - 1.0).log())
        x = (self.probs - 0.5).pow(2)
        taylor = math.log(2.0) + (4.0 / 3.0 + 104.0 / 45.0 * x) * x
        return where(self._outside_unstable_region(), log_norm, taylor)

    @property
    def mean(self) -> Tensor:
        cut = self._cut_probs()
        closed = cut / (2.0 * cut - 1.0) + 1.0 / ((-cut).log1p() - cut.log())
        x = self.probs - 0.5
        taylor = 0.5 + (1.0 / 3.0 + 16.0 / 45.0 * x.pow(2)) * x
        return where(self._outside_unstable_region(), closed, taylor)

    @property
    def variance(self) -> Tensor:
        cut = self._cut_probs()
        closed = (cut * (cut - 1.0) / (1.0 - 2.0 * cut).pow(2)
                  + 1.0 / ((-cut).log1p() - cut.log()).pow(2))
        x = (self.probs - 0.5).pow(2)
        taylor = 1.0 / 12.0 - (1.0 / 15.0 - 128.0 / 945.0 * x) * x
        return where(self._outside_unstable_region(), closed, taylor)

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        """Draw icdf(u), u uniform on [0, 1): a function of ``probs``."""
        shape = self._extended_shape(sample_shape)
        return self.icdf(rand(tuple(shape), dtype=self.probs.dtype))

    def sample(self, sample_shape: Any = ()) -> Tensor:
        with no_grad():
            return self.rsample(sample_shape)

    def log_prob(self, value: Any) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        return (-binary_cross_entropy_with_logits(logits, value, reduction="none")
                + self._cont_bern_log_norm())

    def cdf(self, value: Any) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        cut = self._cut_probs()
        closed = (cut.pow(value) * (1.0 - cut).pow(1.0 - value) + cut - 1.0) / (2.0 * cut - 1.0)
        inside = where(self._outside_unstable_region(), closed, value)
        return where(value <= 0.0, 0.0, where(value >= 1.0, 1.0, inside))

    def icdf(self, value: Any) -> Tensor:
        cut = self._cut_probs()
        closed = (((-cut) + value * (2.0 * cut - 1.0)).log1p() - (-cut).log1p()) / (
            cut.log() - (-cut).log1p())
        return where(self._outside_unstable_region(), closed, value)

    def entropy(self) -> Tensor:
        log_probs0 = (-self.probs).log1p()
        log_probs1 = self.probs.log()
        return self.mean * (log_probs0 - log_probs1) - self._cont_bern_log_norm() - log_probs0


__all__ = ["ContinuousBernoulli"]
