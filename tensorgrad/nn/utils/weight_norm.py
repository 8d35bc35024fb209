"""``torch.nn.utils.weight_norm`` and ``spectral_norm``, PyTorch's older forms (forward
pre-hooks that recompute ``module.weight`` before each call), and the norms they share with
``parametrizations``.

Weight normalization (Salimans and Kingma, 2016) writes a weight as ``g * v / ||v||``, the
norm taken over every dimension but ``dim``; spectral normalization (Miyato et al., 2018)
divides it by its largest singular value, estimated by power iteration on vectors ``u`` and
``v`` kept as buffers and improved at each call in training mode.
"""

from __future__ import annotations

import warnings
from typing import Any, TypeVar

import numpy as np

from ...grad_mode import no_grad
from ...random import rng
from ...tensor import Tensor, note_in_place_write
from ..module import Module, Parameter

__all__ = ["remove_spectral_norm", "remove_weight_norm", "spectral_norm", "weight_norm"]

M = TypeVar("M", bound=Module)


def norm_except_dim(v: Tensor, dim: int) -> Tensor:
    """The 2-norm of ``v`` over every dimension but ``dim``, kept as dimensions of length 1
    (PyTorch's ``norm_except_dim``: ``dim=-1`` is the norm of all of ``v``, a 0-d tensor)."""
    if dim == -1:
        return v.norm()
    if not -v.ndim <= dim < v.ndim:
        raise IndexError(f"Dimension out of range (expected to be in range of [-{v.ndim}, "
                         f"{v.ndim - 1}], but got {dim})")
    kept = dim % v.ndim
    shape = [1] * v.ndim
    shape[kept] = v.shape[kept]
    return as_matrix(v, kept).norm(dim=1).reshape(shape)  # (the rows: one per entry of dim)


def weight_normed(v: Tensor, g: Tensor, dim: int) -> Tensor:
    """``v * (g / norm_except_dim(v, dim))`` (PyTorch's ``_weight_norm``)."""
    return v * (g / norm_except_dim(v, dim))


def _is_lazy(tensor: Any) -> bool:
    from ..lazy import is_lazy

    return is_lazy(tensor)


def _hooks_of_kind(module: Module, kind: type, name: str) -> list[Any]:
    """The forward pre-hooks of ``module`` that are ``kind`` objects for ``name``."""
    hooks = module.__dict__.get("_forward_hooks")
    return [] if hooks is None else [h for h in hooks.before if isinstance(h.function, kind)
                                     and getattr(h.function, "name", None) == name]


def _drop_hook(module: Module, hook: Any) -> None:
    module._hooks().before.remove(hook)


class WeightNorm:
    """The forward pre-hook of ``weight_norm``: ``module.<name>`` made anew from
    ``<name>_g`` and ``<name>_v`` before each call."""

    def __init__(self, name: str, dim: int | None) -> None:
        self.name, self.dim = name, -1 if dim is None else dim

    def compute_weight(self, module: Module) -> Tensor:
        return weight_normed(getattr(module, self.name + "_v"),
                             getattr(module, self.name + "_g"), self.dim)

    def remove(self, module: Module) -> None:
        weight = self.compute_weight(module)
        delattr(module, self.name)
        del module._parameters[self.name + "_g"]
        del module._parameters[self.name + "_v"]
        setattr(module, self.name, Parameter(weight.detach()))

    def __call__(self, module: Module, inputs: Any) -> None:
        setattr(module, self.name, self.compute_weight(module))


def weight_norm(module: M, name: str = "weight", dim: int | None = 0) -> M:
    """Split ``module.<name>`` into a magnitude ``<name>_g`` (its norm over every dimension
    but ``dim``; ``dim=None``: the whole norm) and a direction ``<name>_v`` (its values), both
    parameters, and compute ``<name>`` from them before each call, as PyTorch's (which
    deprecates it for ``parametrizations.weight_norm``, and warns so; so does this)."""
    warnings.warn("`torch.nn.utils.weight_norm` is deprecated in favor of "
                  "`torch.nn.utils.parametrizations.weight_norm`.", FutureWarning,
                  stacklevel=2)
    if _hooks_of_kind(module, WeightNorm, name):
        raise RuntimeError(f"Cannot register two weight_norm hooks on the same parameter "
                           f"{name}")
    fn = WeightNorm(name, dim)
    weight = getattr(module, name)
    if _is_lazy(weight):
        raise ValueError("The module passed to `WeightNorm` can't have uninitialized "
                         "parameters. Make sure to run the dummy forward before applying "
                         "weight normalization")
    del module._parameters[name]
    module.register_parameter(name + "_g",
                              Parameter(norm_except_dim(weight, fn.dim).detach()))
    module.register_parameter(name + "_v", Parameter(weight.detach()))
    setattr(module, name, fn.compute_weight(module))
    module.register_forward_pre_hook(fn)
    return module


def remove_weight_norm(module: M, name: str = "weight") -> M:
    """Undo ``weight_norm``: ``<name>`` a parameter again, of the values it has now."""
    for hook in _hooks_of_kind(module, WeightNorm, name):
        hook.function.remove(module)
        _drop_hook(module, hook)
        return module
    raise ValueError(f"weight_norm of '{name}' not found in {module}")


# ---- spectral norm ------------------------------------------------------------------------


def as_matrix(weight: Any, dim: int) -> Any:
    """``weight`` (a tensor or an array) with ``dim`` first, flattened to a matrix."""
    if dim != 0:
        weight = weight.transpose(dim, *(d for d in range(weight.ndim) if d != dim)) \
            if isinstance(weight, np.ndarray) else \
            weight.permute(dim, *(d for d in range(weight.ndim) if d != dim))
    return weight.reshape(weight.shape[0], -1)


def normalize_into(out: np.ndarray, values: np.ndarray, eps: float) -> None:
    """``out`` = values / max(||values||, eps), in place (``F.normalize(..., out=)``)."""
    np.divide(values, max(float(np.sqrt(values @ values)), eps), out=out)
    note_in_place_write(out)


def random_unit(size: int, dtype: np.dtype, eps: float) -> Tensor:
    """A standard normal vector from tensorgrad's generator, normalized."""
    out = np.empty(size, dtype)
    normalize_into(out, rng().standard_normal(size).astype(dtype), eps)
    return Tensor(out)


def sigma_divided(weight: Tensor, u: Tensor, v: Tensor, dim: int) -> Tensor:
    """``weight / (u . (W v))``, W the weight as a matrix; u and v constants (copies)."""
    matrix = as_matrix(weight, dim)
    sigma = (Tensor(u._data.copy()) * (matrix @ Tensor(v._data.copy()))).sum()
    return weight / sigma


class SpectralNorm:
    """The forward pre-hook of ``spectral_norm``: ``module.<name>`` made anew from
    ``<name>_orig``, ``<name>_u`` and ``<name>_v`` before each call, with
    ``n_power_iterations`` steps of power iteration first in training mode."""

    def __init__(self, name: str = "weight", n_power_iterations: int = 1, dim: int = 0,
                 eps: float = 1e-12) -> None:
        if n_power_iterations <= 0:
            raise ValueError("Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.name, self.dim, self.eps = name, dim, eps
        self.n_power_iterations = n_power_iterations

    def compute_weight(self, module: Module, do_power_iteration: bool) -> Tensor:
        weight = getattr(module, self.name + "_orig")
        u, v = getattr(module, self.name + "_u"), getattr(module, self.name + "_v")
        if do_power_iteration:
            matrix = as_matrix(weight._data, self.dim)
            for _ in range(self.n_power_iterations):  # v first, then u, as PyTorch's
                normalize_into(v._data, matrix.T @ u._data, self.eps)
                normalize_into(u._data, matrix @ v._data, self.eps)
        return sigma_divided(weight, u, v, self.dim)

    def remove(self, module: Module) -> None:
        with no_grad():
            weight = self.compute_weight(module, do_power_iteration=False)
        for suffix in ("", "_u", "_v", "_orig"):
            delattr(module, self.name + suffix)
        module.register_parameter(self.name, Parameter(weight.detach()))

    def __call__(self, module: Module, inputs: Any) -> None:
        setattr(module, self.name,
                self.compute_weight(module, do_power_iteration=module.training))


def transposed_dim(module: Module) -> int:
    """1 for a transposed convolution (its weight is (in, out, ...)), else 0."""
    from ..conv import ConvTranspose1d, ConvTranspose2d

    return 1 if isinstance(module, (ConvTranspose1d, ConvTranspose2d)) else 0


def spectral_norm(module: M, name: str = "weight", n_power_iterations: int = 1,
                  eps: float = 1e-12, dim: int | None = None) -> M:
    """Divide ``module.<name>`` by its spectral norm (largest singular value) before each
    call, as PyTorch's: the values become ``<name>_orig`` (a parameter), the power
    iteration's vectors the buffers ``<name>_u`` and ``<name>_v`` (random unit vectors to
    start, from tensorgrad's generator), improved by ``n_power_iterations`` steps at each
    call in training mode and left as they are in evaluation mode."""
    dim = transposed_dim(module) if dim is None else dim
    if _hooks_of_kind(module, SpectralNorm, name):
        raise RuntimeError(f"Cannot register two spectral_norm hooks on the same parameter "
                           f"{name}")
    fn = SpectralNorm(name, n_power_iterations, dim, eps)
    weight = module._parameters[name]
    if weight is None:
        raise ValueError(f"`SpectralNorm` cannot be applied as parameter `{name}` is None")
    if _is_lazy(weight):
        raise ValueError("The module passed to `SpectralNorm` can't have uninitialized "
                         "parameters. Make sure to run the dummy forward before applying "
                         "spectral normalization")
    h, w = as_matrix(weight._data, dim).shape
    u, v = random_unit(h, weight._data.dtype, eps), random_unit(w, weight._data.dtype, eps)
    delattr(module, name)
    module.register_parameter(name + "_orig", weight)
    setattr(module, name, weight.detach())
    module.register_buffer(name + "_u", u)
    module.register_buffer(name + "_v", v)
    module.register_forward_pre_hook(fn)
    return module


def remove_spectral_norm(module: M, name: str = "weight") -> M:
    """Undo ``spectral_norm``: ``<name>`` a parameter again, of its normalized values (by the
    vectors as they are)."""
    for hook in _hooks_of_kind(module, SpectralNorm, name):
        hook.function.remove(module)
        _drop_hook(module, hook)
        return module
    raise ValueError(f"spectral_norm of '{name}' not found in {module}")
