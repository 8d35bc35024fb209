"""``torch.nn.utils.parametrizations``: weight and spectral normalization as
parametrizations (``parametrize.register_parametrization``), PyTorch's newer forms. Their
state dicts name the originals as PyTorch's do (``parametrizations.weight.original0`` and
``original1`` for weight norm's g and v; ``parametrizations.weight.original`` and the
vectors ``parametrizations.weight.0._u`` and ``_v`` for spectral norm); a state dict of
the older ``weight_norm`` (``weight_g``, ``weight_v``) loads into weight norm's, as in
PyTorch. ``orthogonal`` is not here."""

from __future__ import annotations

from typing import Any, TypeVar

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

__all__ = ["spectral_norm", "weight_norm"]

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
            self.register_buffer("_u", random_unit(h, weight.dtype, eps))
            self.register_buffer("_v", random_unit(w, weight.dtype, eps))
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
