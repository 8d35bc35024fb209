"""PyTorch's older linear algebra names, kept beside ``torch.linalg``: ``svd`` (with V, not
Vh), ``lu``, ``lu_solve``, ``lu_unpack``, ``triangular_solve``, ``cholesky_solve`` and
``cholesky_inverse``; and the ones PyTorch 2.13 has removed (``matrix_rank``, ``lstsq``,
``solve``, ``eig``, ``symeig``), which raise its RuntimeError pointing at ``torch.linalg``.

Each is made of ``linalg``'s functions, so its gradients are theirs. Loaded when first used.
"""

from __future__ import annotations

import warnings
from typing import Any, NamedTuple

import numpy as np

from . import linalg
from .tensor import Tensor, as_leaf, tensor_of


class SVDResult(NamedTuple):
    """``torch.svd``'s result: A = U diag(S) V^H."""

    U: Tensor
    S: Tensor
    V: Tensor


class TriangularSolveResult(NamedTuple):
    """``triangular_solve``'s result: X, and a copy of A."""

    solution: Tensor
    cloned_coefficient: Tensor


class LUUnpackResult(NamedTuple):
    """``lu_unpack``'s result: A = P L U."""

    P: Tensor
    L: Tensor
    U: Tensor


def _matrices(A: Any, name: str) -> Tensor:
    x = tensor_of(A)
    if x.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor A must have at least 2 dimensions.")
    return x


def svd(input: Tensor, some: bool = True, compute_uv: bool = True) -> SVDResult:
    """``(U, S, V)`` with input = U diag(S) V^T (``linalg.svd`` gives V^T): U and V with
    min(m, n) columns when ``some``, square otherwise; without ``compute_uv``, U and V are
    square zero matrices and only S is computed."""
    A = _matrices(input, "linalg.svd")
    if not compute_uv:
        m, n = A.shape[-2], A.shape[-1]
        batch = tuple(A.shape[:-2])
        return SVDResult(as_leaf(np.zeros((*batch, m, m), A._data.dtype)), linalg.svdvals(A),
                         as_leaf(np.zeros((*batch, n, n), A._data.dtype)))
    U, S, Vh = linalg.svd(A, full_matrices=not some)
    return SVDResult(U, S, Vh.transpose(-2, -1))


def lu(A: Tensor, pivot: bool = True, get_infos: bool = False) -> tuple[Tensor, ...]:
    """``(LU, pivots)``, or ``(LU, pivots, infos)`` with ``get_infos``: ``linalg.lu_factor``'s
    under PyTorch's older name (with its deprecation warning)."""
    warnings.warn("torch.lu is deprecated in favor of torch.linalg.lu_factor / "
                  "torch.linalg.lu_factor_ex and will be removed in a future PyTorch release.",
                  UserWarning, stacklevel=2)
    if get_infos:
        return tuple(linalg.lu_factor_ex(A, pivot=pivot))
    return tuple(linalg.lu_factor(A, pivot=pivot))


def lu_solve(b: Tensor, LU_data: Tensor, LU_pivots: Tensor) -> Tensor:  # noqa: N803
    """X with A X = b, A given by ``lu``'s ``(LU_data, LU_pivots)`` (``linalg.lu_solve``
    takes them first; this warns as PyTorch's)."""
    warnings.warn("torch.lu_solve is deprecated in favor of torch.linalg.lu_solve and will be "
                  "removed in a future PyTorch release. Note that torch.linalg.lu_solve has its "
                  "arguments reversed.", UserWarning, stacklevel=2)
    return linalg.lu_solve(LU_data, LU_pivots, b)


def lu_unpack(LU_data: Tensor, LU_pivots: Tensor, unpack_data: bool = True,  # noqa: N803
              unpack_pivots: bool = True) -> LUUnpackResult:
    """``(P, L, U)`` from ``lu``'s packed ``(LU_data, LU_pivots)``: L unit lower-triangular
    (m, k), U upper-triangular (k, n), P the permutation the 1-based pivots make (m, m).
    What is not unpacked is an empty tensor."""
    LU = _matrices(LU_data, "torch.lu_unpack")
    pivots = tensor_of(LU_pivots)
    if pivots._data.dtype.kind not in "iu":
        raise RuntimeError("lu_unpack: LU_pivots is expected to be a contiguous tensor of "
                           f"torch.int32 dtype. Note: this function is intended to be used with "
                           f"the output produced by torch.linalg.lu_factor, not {pivots.dtype}")
    m, n = LU.shape[-2], LU.shape[-1]
    k = min(m, n)
    empty = as_leaf(np.zeros(0, LU._data.dtype))
    if unpack_data:
        eye = as_leaf(np.eye(m, k, dtype=LU._data.dtype))
        L = LU[..., :, :k].tril(-1) + eye
        U = LU[..., :k, :].triu()
    else:
        L = U = empty
    if not unpack_pivots:
        return LUUnpackResult(empty, L, U)
    swaps = pivots._data.astype(np.int64) - 1
    batch = swaps.shape[:-1]
    order = np.broadcast_to(np.arange(m), (*batch, m)).copy()
    flat_order, flat_swaps = order.reshape(-1, m), swaps.reshape(-1, swaps.shape[-1])
    for row, steps in zip(flat_order, flat_swaps):
        for i, j in enumerate(steps):
            if not 0 <= j < m:
                raise RuntimeError("lu_unpack: a pivot is out of the matrix's rows")
            row[i], row[j] = row[j], row[i]
    # A = P L U: row i of L U is row order[i] of A, so P[order[i], i] = 1
    permutation = np.zeros((*batch, m, m), LU._data.dtype)
    np.put_along_axis(permutation, order[..., None, :],
                      np.ones((*batch, 1, m), LU._data.dtype), axis=-2)
    return LUUnpackResult(as_leaf(permutation), L, U)


def triangular_solve(b: Tensor, A: Tensor, upper: bool = True, transpose: bool = False,
                     unitriangular: bool = False) -> TriangularSolveResult:
    """``(X, A.clone())`` with A X = b (A^T X = b with ``transpose``) for triangular A:
    ``linalg.solve_triangular`` under PyTorch's older name and argument order."""
    warnings.warn("torch.triangular_solve is deprecated in favor of "
                  "torch.linalg.solve_triangular and will be removed in a future PyTorch "
                  "release.", UserWarning, stacklevel=2)
    matrix, right = _matrices(A, "torch.triangular_solve"), _matrices(b, "torch.triangular_solve")
    if transpose:
        solution = linalg.solve_triangular(matrix.transpose(-2, -1), right, upper=not upper,
                                           unitriangular=unitriangular)
    else:
        solution = linalg.solve_triangular(matrix, right, upper=upper,
                                           unitriangular=unitriangular)
    return TriangularSolveResult(solution, matrix.clone())


def cholesky_solve(B: Tensor, L: Tensor, upper: bool = False) -> Tensor:  # noqa: N803
    """X with A X = B, A = L L^T given by its Cholesky factor L (U^T U with ``upper``)::

        L = linalg.cholesky(A); cholesky_solve(B, L)    # solve(A, B)
    """
    factor, right = _matrices(L, "cholesky_solve"), _matrices(B, "cholesky_solve")
    if factor.shape[-1] != factor.shape[-2]:
        raise RuntimeError("cholesky_solve: A must be batches of square matrices, but they are "
                           f"{factor.shape[-2]} by {factor.shape[-1]} matrices")
    return linalg.solve(_product(factor, upper), right)


def _product(factor: Tensor, upper: bool) -> Tensor:
    """L L^T (U^T U with ``upper``) of the factor's triangle; its gradient, as PyTorch's, is
    that of the product of the whole matrix (the other triangle's part is 0 in value only)."""
    triangle = factor.triu() if upper else factor.tril()
    rest = factor - triangle
    whole = triangle + (rest - rest.detach())
    return whole.transpose(-2, -1) @ whole if upper else whole @ whole.transpose(-2, -1)


def cholesky_inverse(L: Tensor, upper: bool = False) -> Tensor:  # noqa: N803
    """The inverse of A = L L^T given its Cholesky factor L (U^T U with ``upper``)."""
    factor = _matrices(L, "cholesky_inverse")
    if factor.shape[-1] != factor.shape[-2]:
        raise RuntimeError("cholesky_inverse: A must be batches of square matrices, but they "
                           f"are {factor.shape[-2]} by {factor.shape[-1]} matrices")
    return linalg.inv(_product(factor, upper))


def _removed(name: str, instead: str) -> Any:
    def function(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(f"This function was deprecated since version 1.9 and is now removed. "
                           f"Use `{instead}` instead of `torch.{name}`.")

    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"Removed in PyTorch 2.13 (RuntimeError): use ``{instead}``."
    return function


matrix_rank = _removed("matrix_rank", "torch.linalg.matrix_rank")
lstsq = _removed("lstsq", "torch.linalg.lstsq")
solve = _removed("solve", "torch.linalg.solve")
eig = _removed("eig", "torch.linalg.eig")
symeig = _removed("symeig", "torch.linalg.eigh")
