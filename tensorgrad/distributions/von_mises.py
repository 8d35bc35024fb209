"""``VonMises(loc, concentration)``: the circular normal distribution on angles."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..ops import where
from ..random import rng
from ..tensor import Tensor
from . import constraints
from .distribution import Distribution
from .utils import broadcast_all, lazy_property

# Abramowitz and Stegun 9.8.1 to 9.8.4: polynomials in (x / 3.75)^2 for x below 3.75 (of
# I0(x) and I1(x) / x) and in 3.75 / x above (of sqrt(x) e^-x I0(x) and I1(x)), lowest
# power first; PyTorch uses these, so the densities agree to the last digits
_BESSEL_SMALL = (
    (1.0, 3.5156229, 3.0899424, 1.2067492, 0.2659732, 0.0360768, 0.0045813),
    (0.5, 0.87890594, 0.51498869, 0.15084934, 0.02658733, 0.00301532, 0.00032411))
_BESSEL_LARGE = (
    (0.39894228, 0.01328592, 0.00225319, -0.00157565, 0.00916281, -0.02057706, 0.02635537,
     -0.01647633, 0.00392377),
    (0.39894228, -0.03988024, -0.00362018, 0.00163801, -0.01031555, 0.02282967, -0.02895312,
     0.01787654, -0.00420059))


def _polynomial(y: Tensor, coefficients: tuple[float, ...]) -> Tensor:
    """sum c_i y^i by Horner's rule, the highest power first."""
    total = y.new_full(y.shape, coefficients[-1])
    for c in reversed(coefficients[:-1]):
        total = c + y * total
    return total


def _log_modified_bessel(x: Tensor, order: int) -> Tensor:
    """log I_order(x) for x > 0 (order 0 or 1), by the approximations above."""
    small = _polynomial((x / 3.75).pow(2), _BESSEL_SMALL[order])
    if order == 1:
        small = x.abs() * small
    large = x - 0.5 * x.log() + _polynomial(3.75 / x, _BESSEL_LARGE[order]).log()
    return where(x < 3.75, small.log(), large)


class VonMises(Distribution):
    """The von Mises distribution of mean angle ``loc`` and ``concentration`` (positive),
    of density exp(concentration cos(x - loc)) / (2 pi I0(concentration)); draws lie in
    [-pi, pi). Its mean and variance are the circular ones.

    >>> d = VonMises(0.0, 1.0)
    >>> d.log_prob(tensorgrad.tensor(0.0)), d.variance  # -1.0709, 0.5536
    """

    arg_constraints = {"loc": constraints.real, "concentration": constraints.positive}
    support = constraints.real
    has_rsample = False

    def __init__(self, loc: Any, concentration: Any, validate_args: bool | None = None) -> None:
        self.loc, self.concentration = broadcast_all(loc, concentration)
        super().__init__(self.loc.shape, validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> VonMises:
        return self._expand_params(VonMises, batch_shape, _instance, "loc", "concentration")

    def log_prob(self, value: Any) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return (self.concentration * (value - self.loc).cos() - math.log(2 * math.pi)
                - _log_modified_bessel(self.concentration, 0))

    def sample(self, sample_shape: Any = ()) -> Tensor:
        """Draw angles (in float64, then cast), outside the graph."""
        shape = tuple(self._extended_shape(sample_shape))
        loc = np.broadcast_to(self.loc.detach().numpy().astype(np.float64), shape)
        kappa = np.broadcast_to(self.concentration.detach().numpy().astype(np.float64), shape)
        draws = rng().vonmises(loc, kappa) if loc.size else np.zeros(shape)
        wrapped = np.mod(np.asarray(draws) + math.pi, 2 * math.pi) - math.pi
        return Tensor(np.asarray(wrapped, dtype=self.loc.dtype))

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc

    @lazy_property
    def variance(self) -> Tensor:
        """1 - I1(concentration) / I0(concentration)."""
        k = self.concentration
        return 1 - (_log_modified_bessel(k, 1) - _log_modified_bessel(k, 0)).exp()


__all__ = ["VonMises"]
