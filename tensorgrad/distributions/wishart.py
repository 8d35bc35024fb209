"""``Wishart(df, covariance_matrix or precision_matrix or scale_tril)``: distributions over
positive-definite matrices, reparameterized through Bartlett's decomposition."""

from __future__ import annotations

import math
import numbers
import warnings
from typing import Any

import numpy as np

from ..creation import arange, tensor
from ..dtypes import finfo
from ..ops import where
from ..size import Size
from ..tensor import Tensor
from . import constraints
from .chi2 import Chi2
from .distribution import Distribution
from .multivariate_normal import ScaleTrilMatrices, _precision_to_scale_tril
from .utils import _standard_normal


def _mvdigamma(x: Tensor, p: int) -> Tensor:
    """The multivariate digamma: sum_{i < p} digamma(x - i / 2)."""
    halves = arange(p, dtype=x.dtype) / 2
    return (x.unsqueeze(-1) - halves).digamma().sum(-1)


class Wishart(ScaleTrilMatrices, Distribution):
    """The Wishart distribution of ``df`` degrees of freedom (above p - 1, p the matrices'
    side) and scale V, given by exactly one of ``covariance_matrix`` (V),
    ``precision_matrix`` (V^-1) or ``scale_tril`` (L, V = L L^T): the law of sum x_i x_i^T
    over ``df`` draws x_i from N(0, V) (any real ``df`` above p - 1 here). Draws are
    reparameterized: L A A^T L^T, A lower triangular with sqrt(chi2(df - i)) on its diagonal
    and standard normals below it.

    >>> d = Wishart(tensorgrad.tensor(5.0), covariance_matrix=tensorgrad.eye(2))
    >>> d.mean  # 5 I
    """

    support = constraints.positive_definite
    has_rsample = True

    @property
    def arg_constraints(self) -> dict[str, constraints.Constraint]:
        return {"covariance_matrix": constraints.positive_definite,
                "precision_matrix": constraints.positive_definite,
                "scale_tril": constraints.lower_cholesky,
                "df": constraints.greater_than(self.event_shape[-1] - 1)}

    def __init__(self, df: Any, covariance_matrix: Tensor | None = None,
                 precision_matrix: Tensor | None = None, scale_tril: Tensor | None = None,
                 validate_args: bool | None = None) -> None:
        given = [m for m in (covariance_matrix, precision_matrix, scale_tril) if m is not None]
        if len(given) != 1:  # (PyTorch raises AssertionError here)
            raise AssertionError("Exactly one of covariance_matrix or precision_matrix or "
                                 "scale_tril may be specified.")
        matrix = given[0]
        if matrix.dim() < 2:
            raise ValueError("scale_tril must be at least two-dimensional, with optional "
                             "leading batch dimensions")
        if isinstance(df, (numbers.Number, np.number)):
            batch_shape = tuple(matrix.shape[:-2])
            self.df = tensor(df, dtype=matrix.dtype)
        else:
            batch_shape = tuple(np.broadcast_shapes(tuple(matrix.shape[:-2]), tuple(df.shape)))
            self.df = df.expand(batch_shape)
        p = matrix.shape[-1]
        if bool((self.df <= p - 1).any()):
            raise ValueError(f"Value of df={df} expected to be greater than ndim - 1 = "
                             f"{p - 1}.")
        name = ("covariance_matrix" if covariance_matrix is not None else
                "precision_matrix" if precision_matrix is not None else "scale_tril")
        setattr(self, name, matrix.expand(batch_shape + (-1, -1)))
        if bool((self.df < p).any()):
            warnings.warn("Low df values detected. Singular samples are highly likely to "
                          "occur for ndim - 1 < df < ndim.", UserWarning, stacklevel=2)
        super().__init__(batch_shape, matrix.shape[-2:], validate_args=validate_args)
        from ..linalg import cholesky

        if scale_tril is not None:
            self._unbroadcasted_scale_tril = scale_tril
        elif covariance_matrix is not None:
            self._unbroadcasted_scale_tril = cholesky(covariance_matrix)
        else:
            assert precision_matrix is not None
            self._unbroadcasted_scale_tril = _precision_to_scale_tril(precision_matrix)
        self._dist_chi2 = self._chi2()

    def _chi2(self) -> Chi2:
        """The chi-squared laws of A's squared diagonal: df - i degrees for row i."""
        p = self._event_shape[-1]
        steps = arange(p, dtype=self._unbroadcasted_scale_tril.dtype)
        return Chi2(self.df.unsqueeze(-1) - steps.expand(tuple(self._batch_shape) + (p,)))

    def expand(self, batch_shape: Any, _instance: Any = None) -> Wishart:
        new = self._get_checked_instance(Wishart, _instance)
        batch_shape = Size(batch_shape)
        matrix_shape = tuple(batch_shape) + tuple(self._event_shape)
        new._unbroadcasted_scale_tril = self._unbroadcasted_scale_tril.expand(matrix_shape)
        new.df = self.df.expand(batch_shape)
        for name in ("covariance_matrix", "scale_tril", "precision_matrix"):
            if name in self.__dict__:
                setattr(new, name, self.__dict__[name].expand(matrix_shape))
        Distribution.__init__(new, batch_shape, self._event_shape, validate_args=False)
        new._validate_args = self._validate_args
        new._dist_chi2 = new._chi2()
        return new

    def _matrix_shape(self) -> tuple[int, ...]:
        return tuple(self._batch_shape) + tuple(self._event_shape)

    def _df_as_matrices(self) -> Tensor:
        return self.df.reshape(tuple(self._batch_shape) + (1, 1))

    @property
    def mean(self) -> Tensor:
        return self._df_as_matrices() * self.covariance_matrix

    @property
    def mode(self) -> Tensor:
        factor = self._df_as_matrices() - self._event_shape[-1] - 1
        # no mode (the density unbounded at the singular matrices) below p + 1: NaN, as
        # PyTorch's
        return where(factor <= 0, math.nan, factor) * self.covariance_matrix

    @property
    def variance(self) -> Tensor:
        v = self.covariance_matrix
        diagonal = v.diagonal(dim1=-2, dim2=-1)
        return self._df_as_matrices() * (v.pow(2) + diagonal.unsqueeze(-1) * diagonal.unsqueeze(-2))

    def _bartlett_sampling(self, sample_shape: Any) -> Tensor:
        """L A A^T L^T of ``sample_shape`` + the batch's."""
        shape = tuple(self._extended_shape(sample_shape))
        chi2 = self._dist_chi2.rsample(sample_shape)
        diagonal = chi2.sqrt().clamp(min=finfo(chi2.dtype).eps)
        noise = _standard_normal(shape, chi2.dtype).tril(-1) + diagonal.diag_embed()
        factor = self._unbroadcasted_scale_tril @ noise
        return factor @ factor.mT

    def rsample(self, sample_shape: Any = (), max_try_correction: int | None = None) -> Tensor:
        """Draw by Bartlett's decomposition; a draw that comes out singular (not positive
        definite, possible for df near p - 1) is drawn again, up to ``max_try_correction``
        times (10 by default), with a warning. (PyTorch 2.13 warns and draws again on every
        call, its check inverted; here only when a draw is singular.)"""
        tries = 10 if max_try_correction is None else max_try_correction
        sample = self._bartlett_sampling(sample_shape)
        singular = ~self.support.check(sample)
        if bool(singular.any()):
            warnings.warn("Singular sample detected.", UserWarning, stacklevel=2)
            for _ in range(tries):
                fresh = self._bartlett_sampling(sample_shape)
                sample = where(singular[..., None, None], fresh, sample)
                singular = singular & ~self.support.check(fresh)
                if not bool(singular.any()):
                    break
        return sample

    def log_prob(self, value: Any) -> Tensor:
        from ..linalg import solve_triangular

        if self._validate_args:
            self._validate_sample(value)
        nu, p = self.df, self._event_shape[-1]
        lower = self._unbroadcasted_scale_tril
        shape = tuple(np.broadcast_shapes(tuple(lower.shape), tuple(value.shape)))
        lower = lower.expand(shape)
        # trace(V^-1 X), V^-1 X by two triangular solves
        solved = solve_triangular(lower.mT, solve_triangular(lower, value.expand(shape),
                                                             upper=False), upper=True)
        trace = solved.diagonal(dim1=-2, dim2=-1).sum(-1)
        half_log_det_v = self._unbroadcasted_scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)
        return (-nu * p * math.log(2) / 2 - nu * half_log_det_v - (nu / 2).mvlgamma(p)
                + (nu - p - 1) / 2 * value.logdet() - trace / 2)

    def entropy(self) -> Tensor:
        nu, p = self.df, self._event_shape[-1]
        half_log_det_v = self._unbroadcasted_scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)
        return ((p + 1) * (p * math.log(2) / 2 + half_log_det_v) + (nu / 2).mvlgamma(p)
                - (nu - p - 1) / 2 * _mvdigamma(nu / 2, p) + nu * p / 2)


__all__ = ["Wishart"]
