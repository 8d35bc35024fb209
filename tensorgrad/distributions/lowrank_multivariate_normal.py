"""``LowRankMultivariateNormal``: the Gaussian over vectors whose covariance is a low-rank
matrix plus a diagonal."""

from __future__ import annotations

import math
from typing import Any

from ..creation import eye
from ..size import Size
from ..tensor import Tensor
from . import constraints
from .distribution import Distribution
from .multivariate_normal import _batch_mahalanobis, _batch_mv
from .utils import _standard_normal, lazy_property


class LowRankMultivariateNormal(Distribution):
    """The Gaussian over vectors of mean ``loc`` and covariance W W^T + diag(D), W
    (``cov_factor``, n x m) of low rank m, D (``cov_diag``) positive: scored through the
    m x m capacitance matrix, never the n x n covariance.

    >>> d = LowRankMultivariateNormal(tensorgrad.zeros(3), tensorgrad.ones(3, 1),
    ...                               tensorgrad.ones(3))
    """

    arg_constraints = {"loc": constraints.real_vector,
                       "cov_factor": constraints.independent(constraints.real, 2),
                       "cov_diag": constraints.independent(constraints.positive, 1)}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, loc: Tensor, cov_factor: Tensor, cov_diag: Tensor,
                 validate_args: bool | None = None) -> None:
        from ..torch_functions import broadcast_tensors

        if loc.dim() < 1:
            raise ValueError("loc must be at least one-dimensional.")
        event_shape = tuple(loc.shape[-1:])
        if cov_factor.dim() < 2:
            raise ValueError("cov_factor must be at least two-dimensional, with optional "
                             "leading batch dimensions")
        if tuple(cov_factor.shape[-2:-1]) != event_shape:
            raise ValueError(f"cov_factor must be a batch of matrices with shape "
                             f"{event_shape[0]} x m")
        if tuple(cov_diag.shape[-1:]) != event_shape:
            raise ValueError(f"cov_diag must be a batch of vectors with shape {Size(event_shape)}")
        try:
            loc_, self.cov_factor, cov_diag_ = broadcast_tensors(
                loc.unsqueeze(-1), cov_factor, cov_diag.unsqueeze(-1))
        except RuntimeError as error:
            raise ValueError(f"Incompatible batch shapes: loc {loc.shape}, cov_factor "
                             f"{cov_factor.shape}, cov_diag {cov_diag.shape}") from error
        self.loc, self.cov_diag = loc_[..., 0], cov_diag_[..., 0]
        super().__init__(self.loc.shape[:-1], event_shape, validate_args=validate_args)
        self._unbroadcasted_cov_factor = cov_factor
        self._unbroadcasted_cov_diag = cov_diag
        self._capacitance_tril = _capacitance_tril(cov_factor, cov_diag)

    def expand(self, batch_shape: Any, _instance: Any = None) -> LowRankMultivariateNormal:
        new = self._get_checked_instance(LowRankMultivariateNormal, _instance)
        batch_shape = Size(batch_shape)
        loc_shape = tuple(batch_shape) + tuple(self.event_shape)
        new.loc = self.loc.expand(loc_shape)
        new.cov_diag = self.cov_diag.expand(loc_shape)
        new.cov_factor = self.cov_factor.expand(loc_shape + tuple(self.cov_factor.shape[-1:]))
        new._unbroadcasted_cov_factor = self._unbroadcasted_cov_factor
        new._unbroadcasted_cov_diag = self._unbroadcasted_cov_diag
        new._capacitance_tril = self._capacitance_tril
        Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc

    @lazy_property
    def variance(self) -> Tensor:
        shape = tuple(self._batch_shape) + tuple(self._event_shape)
        return (self._unbroadcasted_cov_factor.pow(2).sum(-1)
                + self._unbroadcasted_cov_diag).expand(shape)

    @lazy_property
    def covariance_matrix(self) -> Tensor:
        """W W^T + diag(D)."""
        factor = self._unbroadcasted_cov_factor
        covariance = factor @ factor.mT + self._unbroadcasted_cov_diag.diag_embed()
        return covariance.expand(tuple(self._batch_shape) + tuple(self._event_shape) * 2)

    @lazy_property
    def scale_tril(self) -> Tensor:
        """The lower Cholesky factor of the covariance."""
        from ..linalg import cholesky

        n = self._event_shape[0]
        diag_sqrt = self._unbroadcasted_cov_diag.sqrt().unsqueeze(-1)
        scaled = self._unbroadcasted_cov_factor / diag_sqrt
        inner = scaled @ scaled.mT + eye(n, dtype=scaled.dtype)
        lower = diag_sqrt * cholesky(inner)
        return lower.expand(tuple(self._batch_shape) + tuple(self._event_shape) * 2)

    @lazy_property
    def precision_matrix(self) -> Tensor:
        """The inverse of the covariance, by Woodbury's identity:
        D^-1 - D^-1 W C^-1 W^T D^-1, C the capacitance."""
        from ..linalg import solve

        factor, diag = self._unbroadcasted_cov_factor, self._unbroadcasted_cov_diag
        wt_dinv = factor.mT / diag.unsqueeze(-2)
        a = solve(self._capacitance_tril, wt_dinv)
        precision = diag.reciprocal().diag_embed() - a.mT @ a
        return precision.expand(tuple(self._batch_shape) + tuple(self._event_shape) * 2)

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        """Draw ``loc + W eps_W + sqrt(D) eps_D``, the two noises standard normal (eps_W
        drawn first)."""
        shape = tuple(self._extended_shape(sample_shape))
        factor = self._unbroadcasted_cov_factor
        eps_w = _standard_normal(shape[:-1] + tuple(factor.shape[-1:]), self.loc.dtype)
        eps_d = _standard_normal(shape, self.loc.dtype)
        return (self.loc + _batch_mv(factor, eps_w)
                + self._unbroadcasted_cov_diag.sqrt() * eps_d)

    def _log_det(self) -> Tensor:
        capacitance = self._capacitance_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)
        return 2 * capacitance + self._unbroadcasted_cov_diag.log().sum(-1)

    def log_prob(self, value: Any) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        diff = value - self.loc
        factor, diag = self._unbroadcasted_cov_factor, self._unbroadcasted_cov_diag
        # x^T (W W^T + D)^-1 x = x^T D^-1 x - |C^-1 W^T D^-1 x|^2 (Woodbury)
        wt_dinv_x = _batch_mv(factor.mT / diag.unsqueeze(-2), diff)
        mahalanobis = ((diff.pow(2) / diag).sum(-1)
                       - _batch_mahalanobis(self._capacitance_tril, wt_dinv_x))
        n = self._event_shape[0]
        return -0.5 * (n * math.log(2 * math.pi) + self._log_det() + mahalanobis)

    def entropy(self) -> Tensor:
        n = self._event_shape[0]
        entropy = 0.5 * (n * (1.0 + math.log(2 * math.pi)) + self._log_det())
        if len(self._batch_shape) == 0:
            return entropy
        return entropy.expand(self._batch_shape)


def _capacitance_tril(factor: Tensor, diag: Tensor) -> Tensor:
    """The lower Cholesky factor of I + W^T D^-1 W (m x m)."""
    from ..linalg import cholesky

    m = factor.shape[-1]
    wt_dinv = factor.mT / diag.unsqueeze(-2)
    return cholesky(wt_dinv @ factor + eye(m, dtype=factor.dtype))


__all__ = ["LowRankMultivariateNormal"]
