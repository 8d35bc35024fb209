"""``torch.nn.utils.parametrizations``: weight and spectral normalization as
parametrizations (``parametrize.register_parametrization``), PyTorch's newer forms. Their
state dicts name the originals as PyTorch's do (``parametrizations.weight.original0`` and
``original1`` for weight norm's g and v; ``parametrizations.weight.original`` and the
vectors ``parametrizations.weight.0._u`` and ``_v`` for spectral norm); a state dict of
the older ``weight_norm`` (``weight_g``, ``weight_v``) loads into weight norm's, as in
PyTorch. ``orthogonal`` keeps ``parametrizations.weight.original`` and, with
trivialization, the buffer ``parametrizations.weight.0.base``."""

from __future__ import annotations

from typing import Any, TypeVar

import numpy as np

from ...grad_mode import no_grad
from ...tensor import Tensor
from ..module import Module
from . import parametrize
from .weight_norm import (
    as_matrix,
    norm_except_dim,
    normalize_into,
    random_unit,
    sigma_divided,
    transposed_dim,
    weight_normed,
)

__all__ = ["orthogonal", "spectral_norm", "weight_norm"]

M = TypeVar("M", bound=Module)


class _WeightNorm(Module):
    """weight = g * v / ||v||, the norm over every dimension but ``dim`` (None: all)."""

    def __init__(self, dim: int | None = 0) -> None:
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g: Tensor, weight_v: Tensor) -> Tensor:
        return weight_normed(weight_v, weight_g, self.dim)

    def right_inverse(self, weight: Tensor) -> tuple[Tensor, Tensor]:
        return norm_except_dim(weight, self.dim), weight


def weight_norm(module: M, name: str = "weight", dim: int | None = 0) -> M:
    """Weight normalization of ``module.<name>`` as a parametrization, as PyTorch's: its
    magnitude ``original0`` (g) and direction ``original1`` (v) are the parameters."""
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)

    def older_keys(state_dict: dict[str, Any], prefix: str) -> None:
        """``weight_norm``'s keys (the hook's) loaded as this one's, as PyTorch's."""
        g, v = f"{prefix}{name}_g", f"{prefix}{name}_v"
        if g in state_dict and v in state_dict:
            state_dict[f"{prefix}parametrizations.{name}.original0"] = state_dict.pop(g)
            state_dict[f"{prefix}parametrizations.{name}.original1"] = state_dict.pop(v)

    module.__dict__.setdefault("_state_dict_renames", []).append(older_keys)
    return module


class _SpectralNorm(Module):
    """weight / sigma, sigma its largest singular value estimated by power iteration on the
    buffers ``_u`` and ``_v`` (15 steps at the start, ``n_power_iterations`` more at each
    call in training mode); a 1-d weight is normalized instead."""

    def __init__(self, weight: Tensor, n_power_iterations: int = 1, dim: int = 0,
                 eps: float = 1e-12) -> None:
        super().__init__()
        ndim = weight.ndim
        if dim >= ndim or dim < -ndim:
            raise IndexError(f"Dimension out of range (expected to be in range of [-{ndim}, "
                             f"{ndim - 1}] but got {dim})")
        if n_power_iterations <= 0:
            raise ValueError("Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            h, w = as_matrix(weight._data, self.dim).shape
            self.register_buffer("_u", random_unit(h, weight._data.dtype, eps))
            self.register_buffer("_v", random_unit(w, weight._data.dtype, eps))
            self._power_method(weight, 15)

    def _power_method(self, weight: Tensor, steps: int) -> None:
        matrix = as_matrix(weight._data, self.dim)
        for _ in range(steps):  # u first, then v (the older spectral_norm's other order)
            normalize_into(self._u._data, matrix @ self._v._data, self.eps)
            normalize_into(self._v._data, matrix.T @ self._u._data, self.eps)

    def forward(self, weight: Tensor) -> Tensor:
        if weight.ndim == 1:
            from ... import functional as F

            return F.normalize(weight, dim=0, eps=self.eps)
        if self.training:
            with no_grad():
                self._power_method(weight, self.n_power_iterations)
        return sigma_divided(weight, self._u, self._v, self.dim)

    def right_inverse(self, value: Tensor) -> Tensor:
        return value


def spectral_norm(module: M, name: str = "weight", n_power_iterations: int = 1,
                  eps: float = 1e-12, dim: int | None = None) -> M:
    """Spectral normalization of ``module.<name>`` as a parametrization, as PyTorch's
    (``dim`` by default 1 for transposed convolutions, else 0)."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    dim = transposed_dim(module) if dim is None else dim
    parametrize.register_parametrization(
        module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module


_ORTHOGONAL_MAPS = ("matrix_exp", "cayley", "householder")


def _positive_qr_q(tall: np.ndarray) -> np.ndarray:
    """Q of A = QR (each matrix of a batch, at least as many rows as columns) with R's
    diagonal made nonnegative: Q's columns times the signs of R's diagonal (a zero there
    zeroes the column, as PyTorch's)."""
    q, r = np.linalg.qr(tall)
    return q * np.sign(np.diagonal(r, axis1=-2, axis2=-1))[..., None, :]


def _householder_reflectors(tall: np.ndarray) -> np.ndarray:
    """LAPACK's geqrf of each matrix (its reflectors below the diagonal), the diagonal
    replaced by the signs that make the ``householder`` map give back Q of A = QR with R's
    diagonal positive: sign(R_ii), flipped where LAPACK used no reflection (tau 0), since
    the map always reflects."""
    raw, tau = np.linalg.qr(tall, mode="raw")
    reflectors = np.swapaxes(raw, -1, -2).copy()
    diagonal = np.sign(np.diagonal(reflectors, axis1=-2, axis2=-1))
    diagonal = np.where(tau == 0, -diagonal, diagonal)
    k = diagonal.shape[-1]
    reflectors[..., np.arange(k), np.arange(k)] = diagonal
    return reflectors


class _Orthogonal(Module):
    """The orthogonal (for rectangular weights: semi-orthogonal, orthonormal along the
    shorter side) matrix of an unconstrained one, by ``orthogonal_map``; with
    ``use_trivialization`` it is then multiplied on the left by the buffer ``base``, the
    orthogonal matrix last assigned."""

    base: Tensor | None

    def __init__(self, weight: Tensor, orthogonal_map: str, *,
                 use_trivialization: bool = True) -> None:
        super().__init__()
        self.shape = weight.shape
        self.orthogonal_map = orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, X: Tensor) -> Tensor:  # noqa: N803 (a matrix)
        from ... import linalg
        from ...creation import eye
        from ...ops import cat

        n, k = X.shape[-2], X.shape[-1]
        transposed = n < k
        if transposed:  # work on the tall form, n >= k
            X, n, k = X.mT, k, n
        if self.orthogonal_map == "householder":
            reflectors = X.tril(-1)
            tau = 2.0 / (1.0 + (reflectors * reflectors).sum(-2))
            Q = linalg.householder_product(reflectors, tau)
            # the diagonal's signs (truncated to integers, as PyTorch's) pick each column's
            Q = Q * X.diagonal(dim1=-2, dim2=-1).int().unsqueeze(-2)
        else:
            lower = X.tril()
            if n != k:  # the tall lower part, completed to a square one by zero columns
                zeros = lower.new_zeros((*lower.shape[:-1], n - k))
                lower = cat([lower, zeros], -1)
            skew = lower - lower.mT
            if self.orthogonal_map == "matrix_exp":
                Q = linalg.matrix_exp(skew)
            else:
                identity = eye(n, dtype=skew.dtype)
                Q = linalg.solve(identity - 0.5 * skew, identity + 0.5 * skew)
            if n != k:
                Q = Q[..., :k]
        if getattr(self, "base", None) is not None:
            Q = self.base @ Q
        return Q.mT if transposed else Q

    def right_inverse(self, Q: Tensor) -> Tensor:  # noqa: N803 (a matrix)
        """The ``original`` whose map is ``Q`` (orthogonalized first, by QR, if it is not
        orthogonal): with trivialization, ``Q`` becomes ``base`` and ``original`` the
        matrix that maps to the identity (-1 on the diagonal, 0 elsewhere)."""
        if Q.shape != self.shape:
            raise ValueError(f"Expected a matrix or batch of matrices of shape {self.shape}. "
                             f"Got a tensor of shape {Q.shape}.")
        given = Q.detach().numpy()
        n, k = given.shape[-2:]
        if n < k:
            given, n, k = np.swapaxes(given, -1, -2), k, n
        if "base" not in self._buffers:
            if self.orthogonal_map != "householder":
                raise NotImplementedError(
                    "It is not possible to assign to the matrix exponential or the Cayley "
                    "parametrizations when use_trivialization=False.")
            reflectors = _householder_reflectors(given)
            if self.shape[-2] < self.shape[-1]:
                reflectors = np.swapaxes(reflectors, -1, -2)
            return Tensor(np.ascontiguousarray(reflectors, dtype=given.dtype))
        if n == k and _is_orthogonal(given):
            base = given.copy()
        else:
            if n != k:  # completed by random columns into a square matrix to orthogonalize
                from ...creation import randn

                extra = randn(*given.shape[:-2], n, n - k, dtype=Q.dtype).numpy()
                given = np.concatenate([given, extra], -1)
            base = _positive_qr_q(given).astype(given.dtype)
        self.base = Tensor(base)
        identity_map = np.zeros(tuple(self.shape), given.dtype)
        diagonal = np.arange(min(self.shape[-2:]))
        identity_map[..., diagonal, diagonal] = -1
        return Tensor(identity_map)


def _is_orthogonal(square: np.ndarray) -> bool:
    """Whether Q^T Q is the identity to within 10 n eps of Q's dtype (PyTorch's test)."""
    n = square.shape[-2]
    gram = np.swapaxes(square, -1, -2) @ square
    eps = 10.0 * n * np.finfo(square.dtype).eps
    return bool(np.allclose(gram, np.eye(n, dtype=square.dtype), rtol=1e-5, atol=eps))


def orthogonal(module: M, name: str = "weight", orthogonal_map: str | None = None, *,
               use_trivialization: bool = True) -> M:
    """Make ``module.<name>`` (a matrix or a batch of matrices) orthogonal, as PyTorch's:
    a map of the unconstrained ``parametrizations.<name>.original``, ``"matrix_exp"`` (by
    default for square matrices), ``"cayley"`` or ``"householder"`` (by default for
    rectangular ones, which come out semi-orthogonal: orthonormal columns if tall, rows if
    wide). With ``use_trivialization`` the result is multiplied by ``base``, the orthogonal
    matrix last assigned to ``module.<name>``; without it only ``"householder"`` takes
    assignments. The initial weight is kept, orthogonalized::

        layer = orthogonal(nn.Linear(20, 40))
        torch.dist(layer.weight.T @ layer.weight, torch.eye(20))  # ~0
    """
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if weight.ndim < 2:
        raise ValueError("Expected a matrix or batch of matrices. Got a tensor of "
                         f"{weight.ndim} dimensions.")
    if orthogonal_map is None:
        square = weight.shape[-2] == weight.shape[-1]
        orthogonal_map = "matrix_exp" if square else "householder"
    if orthogonal_map not in _ORTHOGONAL_MAPS:
        raise ValueError('orthogonal_map has to be one of "matrix_exp", "cayley", '
                         f'"householder". Got: {orthogonal_map}')
    parametrization = _Orthogonal(weight, orthogonal_map,
                                  use_trivialization=use_trivialization)
    parametrize.register_parametrization(module, name, parametrization, unsafe=True)
    return module
