"""``MultivariateNormal``: the Gaussian over vectors, from a covariance matrix, a precision
matrix or a lower Cholesky factor of the covariance."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..size import Size
from ..tensor import Tensor
from . import constraints
from .distribution import Distribution
from .utils import _standard_normal, lazy_property


def _batch_mv(matrices: Tensor, vectors: Tensor) -> Tensor:
    """Matrix times vector over broadcast batches."""
    return (matrices @ vectors.unsqueeze(-1)).squeeze(-1)


def _batch_mahalanobis(lower: Tensor, x: Tensor) -> Tensor:
    """x^T (L L^T)^-1 x = |L^-1 x|^2 for each vector of ``x`` (its batch broadcast with the
    factors')."""
    from ..linalg import solve

    return solve(lower, x.unsqueeze(-1)).squeeze(-1).pow(2).sum(-1)


def _precision_to_scale_tril(precision: Tensor) -> Tensor:
    """The lower Cholesky factor of the covariance, the inverse of ``precision``."""
    from ..linalg import cholesky, inv

    return cholesky(inv(precision))


def _shape(*shapes: Any) -> tuple[int, ...]:
    try:
        return tuple(np.broadcast_shapes(*(tuple(s) for s in shapes)))
    except ValueError as error:
        raise RuntimeError(f"shapes {[tuple(s) for s in shapes]} cannot be broadcast together"
                           ) from error


class ScaleTrilMatrices:
    """The three forms of a distribution's matrix held as its lower Cholesky factor L
    (``_unbroadcasted_scale_tril``), each expanded to ``_matrix_shape()``: the
    MultivariateNormal's covariance, the Wishart's scale."""

    _unbroadcasted_scale_tril: Tensor

    def _matrix_shape(self) -> tuple[int, ...]:
        raise NotImplementedError

    @lazy_property
    def scale_tril(self) -> Tensor:
        """L, the lower Cholesky factor of the matrix."""
        return self._unbroadcasted_scale_tril.expand(self._matrix_shape())

    @lazy_property
    def covariance_matrix(self) -> Tensor:
        """The matrix, L L^T."""
        lower = self._unbroadcasted_scale_tril
        return (lower @ lower.mT).expand(self._matrix_shape())

    @lazy_property
    def precision_matrix(self) -> Tensor:
        """The matrix's inverse."""
        from ..linalg import inv

        lower_inverse = inv(self._unbroadcasted_scale_tril)
        return (lower_inverse.mT @ lower_inverse).expand(self._matrix_shape())


class MultivariateNormal(ScaleTrilMatrices, Distribution):
    """The Gaussian over vectors of mean ``loc`` (its last dimension is the event) and
    covariance given by exactly one of ``covariance_matrix``, ``precision_matrix`` or
    ``scale_tril`` (lower triangular with positive diagonal, L L^T the covariance); their
    leading dimensions broadcast with ``loc``'s into the batch.

    >>> d = MultivariateNormal(tensorgrad.zeros(2), scale_tril=tensorgrad.eye(2))
    >>> d.rsample((5,)).shape, d.log_prob(tensorgrad.zeros(2))  # Size([5, 2]), -log(2 pi)
    """

    arg_constraints = {"loc": constraints.real_vector,
                       "covariance_matrix": constraints.positive_definite,
                       "precision_matrix": constraints.positive_definite,
                       "scale_tril": constraints.lower_cholesky}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, loc: Tensor, covariance_matrix: Tensor | None = None,
                 precision_matrix: Tensor | None = None, scale_tril: Tensor | None = None,
                 validate_args: bool | None = None) -> None:
        if loc.dim() < 1:
            raise ValueError("loc must be at least one-dimensional.")
        given = [m is not None for m in (covariance_matrix, precision_matrix, scale_tril)]
        if sum(given) != 1:
            raise ValueError("Exactly one of covariance_matrix or precision_matrix or "
                             "scale_tril may be specified.")
        matrix: Tensor = next(m for m in (covariance_matrix, precision_matrix, scale_tril)
                              if m is not None)
        name = ("covariance_matrix", "precision_matrix", "scale_tril")[given.index(True)]
        if matrix.dim() < 2:
            what = "scale_tril matrix" if name == "scale_tril" else name.replace("_", " ")
            raise ValueError(f"{what} must be at least two-dimensional, with optional "
                             "leading batch dimensions")
        batch_shape = _shape(matrix.shape[:-2], loc.shape[:-1])
        setattr(self, name, matrix.expand(batch_shape + (-1, -1)))
        self.loc = loc.expand(batch_shape + (-1,))
        super().__init__(batch_shape, self.loc.shape[-1:], validate_args=validate_args)
        from ..linalg import cholesky

        if scale_tril is not None:
            self._unbroadcasted_scale_tril = scale_tril
        elif covariance_matrix is not None:
            self._unbroadcasted_scale_tril = cholesky(covariance_matrix)
        else:
            assert precision_matrix is not None
            self._unbroadcasted_scale_tril = _precision_to_scale_tril(precision_matrix)

    def expand(self, batch_shape: Any, _instance: Any = None) -> MultivariateNormal:
        new = self._get_checked_instance(MultivariateNormal, _instance)
        batch_shape = Size(batch_shape)
        loc_shape = tuple(batch_shape) + tuple(self.event_shape)
        cov_shape = loc_shape + tuple(self.event_shape)
        new.loc = self.loc.expand(loc_shape)
        new._unbroadcasted_scale_tril = self._unbroadcasted_scale_tril
        for name in ("covariance_matrix", "scale_tril", "precision_matrix"):
            if name in self.__dict__:
                setattr(new, name, self.__dict__[name].expand(cov_shape))
        Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def _matrix_shape(self) -> tuple[int, ...]:
        return tuple(self._batch_shape) + tuple(self._event_shape) * 2

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        shape = tuple(self._batch_shape) + tuple(self._event_shape)
        return self._unbroadcasted_scale_tril.pow(2).sum(-1).expand(shape)

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        """Draw ``loc + L eps``, eps standard normal of the sample's shape."""
        eps = _standard_normal(self._extended_shape(sample_shape), self.loc.dtype)
        return self.loc + _batch_mv(self._unbroadcasted_scale_tril, eps)

    def log_prob(self, value: Any) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        diff = value - self.loc
        mahalanobis = _batch_mahalanobis(self._unbroadcasted_scale_tril, diff)
        half_log_det = self._unbroadcasted_scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)
        n = self._event_shape[0]
        return -0.5 * (n * math.log(2 * math.pi) + mahalanobis) - half_log_det

    def entropy(self) -> Tensor:
        half_log_det = self._unbroadcasted_scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)
        entropy = 0.5 * self._event_shape[0] * (1.0 + math.log(2 * math.pi)) + half_log_det
        if len(self._batch_shape) == 0:
            return entropy
        return entropy.expand(self._batch_shape)


__all__ = ["MultivariateNormal"]
