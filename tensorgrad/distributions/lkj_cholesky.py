"""``LKJCholesky(dim, concentration)``: Cholesky factors of correlation matrices (the LKJ
distribution's), drawn by the onion method."""

from __future__ import annotations

import math
from typing import Any

from ..creation import arange
from ..dtypes import finfo
from ..ops import cat
from ..size import Size
from ..tensor import Tensor
from . import constraints
from .beta import Beta
from .distribution import Distribution
from .utils import _standard_normal, broadcast_all


class LKJCholesky(Distribution):
    """The lower Cholesky factors L of ``dim`` x ``dim`` correlation matrices L L^T whose
    density is proportional to det(L L^T)^(concentration - 1) (1: uniform over the
    correlation matrices; larger: nearer the identity).

    >>> d = LKJCholesky(3, 0.5)
    >>> L = d.sample()  # (3, 3), rows of norm 1
    """

    arg_constraints = {"concentration": constraints.positive}
    support = constraints.corr_cholesky

    def __init__(self, dim: int, concentration: Any = 1.0,
                 validate_args: bool | None = None) -> None:
        if dim < 2:
            raise ValueError(f"Expected dim to be an integer greater than or equal to 2. "
                             f"Found dim={dim}.")
        self.dim = dim
        (self.concentration,) = broadcast_all(concentration)
        # row i's squared length below the diagonal is Beta(i / 2, c + (dim - 2 - i + 1) / 2)
        marginal = self.concentration + 0.5 * (dim - 2)
        offset = cat([self.concentration.new_zeros(1),
                      arange(dim - 1, dtype=self.concentration.dtype)])
        self._beta = Beta(offset + 0.5, marginal.unsqueeze(-1) - 0.5 * offset)
        super().__init__(self.concentration.size(), (dim, dim), validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> LKJCholesky:
        new = self._get_checked_instance(LKJCholesky, _instance)
        batch_shape = Size(batch_shape)
        new.dim = self.dim
        new.concentration = self.concentration.expand(batch_shape)
        new._beta = self._beta.expand(tuple(batch_shape) + (self.dim,))
        Distribution.__init__(new, batch_shape, self._event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def sample(self, sample_shape: Any = ()) -> Tensor:
        """Each row i > 0: a uniform direction in its first i coordinates, scaled to length
        sqrt(y), y the row's beta draw, and the diagonal entry that completes it to norm 1."""
        from ..grad_mode import no_grad

        with no_grad():
            y = self._beta.sample(sample_shape).unsqueeze(-1)
            normal = _standard_normal(self._extended_shape(sample_shape), y.dtype).tril(-1)
            norms = normal.norm(dim=-1, keepdim=True)
            norms[..., 0, :] = 1.0  # (the first row is all zeros below the diagonal)
            w = y.sqrt() * (normal / norms)
            diagonal = (1 - w.pow(2).sum(-1)).clamp(min=finfo(w.dtype).tiny).sqrt()
            return w + diagonal.diag_embed()

    def log_prob(self, value: Any) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        # det(L L^T)^(c - 1) in L's coordinates: prod_i L_ii^(2(c - 1) + dim - i), i from 2
        diagonal = value.diagonal(dim1=-2, dim2=-1)[..., 1:]
        powers = arange(2, self.dim + 1, dtype=self.concentration.dtype)
        powers = 2 * (self.concentration - 1).unsqueeze(-1) + self.dim - powers
        unnormalized = (powers * diagonal.log()).sum(-1)
        dm1 = self.dim - 1
        alpha = self.concentration + 0.5 * dm1
        log_normalizer = (0.5 * dm1 * math.log(math.pi) + (alpha - 0.5).mvlgamma(dm1)
                          - alpha.lgamma() * dm1)
        return unnormalized - log_normalizer


__all__ = ["LKJCholesky"]
