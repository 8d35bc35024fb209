"""torch.nn.utils: gradient clipping (scale or clamp the ``.grad`` of parameters), the
parameters as one vector and back, in ``rnn`` batches of sequences of different lengths,
padded or packed, and weight and spectral normalization, as forward pre-hooks
(``weight_norm``, ``spectral_norm``) and as parametrizations (``parametrize``,
``parametrizations``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from ...grad_mode import no_grad
from ...ops import cat
from ...tensor import Tensor, quiet
from . import parametrizations, parametrize, rnn
from .weight_norm import remove_spectral_norm, remove_weight_norm, spectral_norm, weight_norm

__all__ = ["clip_grad_norm_", "clip_grad_value_", "clip_grads_with_norm_", "get_total_norm",
           "parameters_to_vector", "rnn", "vector_to_parameters",
           "parametrizations", "parametrize", "remove_spectral_norm", "remove_weight_norm",
           "spectral_norm", "weight_norm"]


def _with_grads(parameters: Tensor | Iterable[Tensor]) -> list[Tensor]:
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    return [p for p in params if p._grad is not None]


def _norm(values: np.ndarray, norm_type: float) -> np.floating:
    magnitudes = np.abs(values.ravel())
    if norm_type == np.inf:
        return magnitudes.max(initial=0)
    if norm_type == -np.inf:  # as PyTorch's vector_norm: the smallest magnitude
        return magnitudes.min(initial=np.inf)
    if norm_type == 0:  # as PyTorch's vector_norm: the count of nonzero entries
        return magnitudes.dtype.type(np.count_nonzero(magnitudes))
    if norm_type == 2:
        return np.sqrt(np.dot(magnitudes, magnitudes))
    return np.sum(magnitudes**norm_type) ** (1 / norm_type)


@quiet  # an inf or NaN norm is no warning, as in PyTorch
def _total_norm(arrays: list[np.ndarray], norm_type: float, error_if_nonfinite: bool
                ) -> np.floating:
    """The norm of the arrays taken together as one vector (at least one array)."""
    norms = np.array([_norm(a, norm_type) for a in arrays], dtype=np.result_type(*arrays))
    total = _norm(norms, norm_type)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from "
                           "`parameters` is non-finite, so it cannot be clipped. To disable "
                           "this error and scale the gradients by the non-finite norm anyway, "
                           "set `error_if_nonfinite=False`")
    return total


@quiet  # an inf or NaN norm scales to NaN without a warning, as in PyTorch
def _scale(grads: list[np.ndarray], max_norm: float, total: Any) -> None:
    """Multiply each gradient by max_norm / (total + 1e-6) where that is below 1."""
    coefficient = min(max_norm / (total + 1e-6), 1.0)
    for g in grads:  # in place, as PyTorch's: a gradient the caller holds is scaled too
        np.multiply(g, np.asarray(coefficient, g.dtype), out=g)


def clip_grad_norm_(parameters: Tensor | Iterable[Tensor], max_norm: float,
                    norm_type: float = 2.0, error_if_nonfinite: bool = False,
                    foreach: bool | None = None) -> Tensor:
    """Scale the gradients so that their norm, taken together, is at most ``max_norm``;
    return that norm (before scaling) as a 0-d tensor.

    As PyTorch's: the norm of all gradients as one vector (``norm_type`` inf: the largest
    magnitude); each is multiplied by max_norm / (norm + 1e-6) when that is below 1::

        total = nn.utils.clip_grad_norm_(model.parameters(), 1.0)

    It is ``get_total_norm`` of the gradients, then ``clip_grads_with_norm_``.
    """
    del foreach  # (PyTorch's choice of kernels; there is one way here)
    params = _with_grads(parameters)
    if not params:
        return Tensor(0.0)
    grads = [np.asarray(p._grad) for p in params]
    total = _total_norm(grads, float(norm_type), error_if_nonfinite)
    _scale(grads, max_norm, total)
    return Tensor(np.asarray(total))


def get_total_norm(tensors: Tensor | Iterable[Tensor], norm_type: float = 2.0,
                   error_if_nonfinite: bool = False, foreach: bool | None = None) -> Tensor:
    """The norm of ``tensors`` (floating) taken together as one vector, outside the graph:
    ``clip_grad_norm_``'s first half, as PyTorch's (``[p.grad for p in params]``)."""
    del foreach
    arrays = [t._data for t in ([tensors] if isinstance(tensors, Tensor) else tensors)]
    for a in arrays:
        if a.dtype.kind not in "fc":
            raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex "
                               f"tensor as input. Got {a.dtype}")
    if not arrays:
        return Tensor(0.0)
    return Tensor(np.asarray(_total_norm(arrays, float(norm_type), error_if_nonfinite)))


def clip_grads_with_norm_(parameters: Tensor | Iterable[Tensor], max_norm: float,
                          total_norm: Tensor, foreach: bool | None = None) -> None:
    """``clip_grad_norm_``'s second half, as PyTorch's: scale the gradients by
    max_norm / (total_norm + 1e-6) where that is below 1 (``total_norm`` a tensor, as from
    ``get_total_norm``)."""
    del foreach
    if not isinstance(total_norm, Tensor):
        raise TypeError(f"clip_grads_with_norm_: total_norm must be a tensor, not "
                        f"{type(total_norm).__name__}")
    _scale([np.asarray(p._grad) for p in _with_grads(parameters)], max_norm, total_norm._data)


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float,
                     foreach: bool | None = None) -> None:
    """Clamp every gradient entry into [-clip_value, clip_value]."""
    del foreach
    for p in _with_grads(parameters):
        grad: np.ndarray = p._grad  # type: ignore[assignment]  # (not None: _with_grads)
        np.clip(grad, -clip_value, clip_value, out=grad)  # in place, as PyTorch's


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """The parameters' values, flattened and joined in order, in the graph (a gradient of the
    vector reaches each parameter): ``parameters_to_vector(model.parameters())``."""
    params = _tensors(parameters, "parameters_to_vector")
    if len({p.dtype for p in params}) > 1:
        raise TypeError("parameters_to_vector: the parameters are of several dtypes")
    return cat([p.reshape(-1) for p in params])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Write the consecutive parts of the 1-D ``vec`` into the parameters' values, in order,
    outside the graph (the inverse of ``parameters_to_vector``)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(vec).__name__}")
    params = _tensors(parameters, "vector_to_parameters")
    if vec.ndim != 1 or vec.numel() != sum(p.numel() for p in params):
        raise RuntimeError(f"vector_to_parameters: a vector of shape {tuple(vec.shape)} for "
                           f"{sum(p.numel() for p in params)} parameter values")
    start = 0
    with no_grad():
        for p in params:
            p.copy_(vec[start:start + p.numel()].reshape(p.shape))
            start += p.numel()


def _tensors(parameters: Iterable[Tensor], name: str) -> list[Tensor]:
    params = list(parameters)
    for p in params:
        if not isinstance(p, Tensor):
            raise TypeError(f"{name}: expected torch.Tensor, but got: {type(p).__name__}")
    return params


def clip_grad_norm(parameters: Tensor | Iterable[Tensor], max_norm: float,
                   norm_type: float = 2.0, error_if_nonfinite: bool = False,
                   foreach: bool | None = None) -> Tensor:
    """``clip_grad_norm_``'s old name, with PyTorch's deprecation warning."""
    import warnings

    warnings.warn("`torch.nn.utils.clip_grad_norm` is now deprecated in favor of "
                  "`torch.nn.utils.clip_grad_norm_`.", FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


# imported when first used (PEP 562): the fusion of batch normalization into the layer before
# it, skip_init, and PyTorch's module paths (convert_parameters, the deprecated stateless)
_LAZY = {"fuse_conv_bn_eval": ".fusion", "fuse_conv_bn_weights": ".fusion",
         "fuse_linear_bn_eval": ".fusion", "fuse_linear_bn_weights": ".fusion",
         "skip_init": ".init"}
_LAZY_MODULES = ("convert_parameters", "fusion", "init", "stateless")
__all__ += ["clip_grad_norm", *_LAZY, *_LAZY_MODULES]


def __getattr__(name: str) -> Any:
    import importlib

    if name in _LAZY_MODULES:
        return importlib.import_module(f".{name}", __name__)
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
