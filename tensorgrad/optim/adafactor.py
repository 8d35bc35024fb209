"""torch.optim's ``Adafactor`` (PyTorch 2.5+'s): Adam's second moment kept factored, one
running mean per row and one per column of each matrix (Shazeer and Stern, "Adafactor:
Adaptive Learning Rates with Sublinear Memory Cost"), no first moment, a relative step size
and update clipping. ``tensorgrad.optim`` imports this module when ``Adafactor`` is first
asked for.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from ..tensor import Tensor, note_in_place_write
from . import Optimizer, check_kernels, checked_grad


def _lerp(start: np.ndarray, end: np.ndarray, weight: float) -> None:
    """``start`` moved to ``end`` by ``weight``, in place, rounded as PyTorch's lerp_ (from
    the nearer end, so that a weight of 1 gives ``end`` exactly)."""
    if weight < 0.5:
        start += weight * (end - start)
    else:
        start[...] = end - (end - start) * (1 - weight)


def _rms(a: np.ndarray) -> float:
    """The root mean square of ``a`` (its 2-norm over the root of its size)."""
    return float(np.sqrt(np.sum(np.square(a, dtype=a.dtype)))) / math.sqrt(a.size)


class Adafactor(Optimizer):
    """Adafactor, as PyTorch's ``optim.Adafactor``::

        opt = optim.Adafactor(model.parameters(), lr=1e-2)

    At step t, with g the gradient (negated for ``maximize``) and w = t ** ``beta2_decay``:
    for a parameter of 2 or more dimensions, the row means of g**2 (over the last dimension)
    and the column means (over the one before) each move to their new value by w, and the
    second moment is their outer product over the mean of the rows' (at least eps1);
    for a vector or a number, the running g**2 itself. The update u = g / sqrt(second
    moment, at least eps1**2), divided by max(1, rms(u) / ``d``); the step is
    max(eps2, rms(p)) * min(lr, 1 / sqrt(t)) times u, taken after p *= 1 - lr *
    ``weight_decay``. eps1 None is the machine epsilon of the group's first updated
    parameter's dtype, as PyTorch's. State: ``step``, and ``row_var`` and ``col_var`` or
    ``variance``. ``foreach`` is accepted and changes nothing.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, beta2_decay: float = -0.8,
                 eps: tuple[float | None, float] = (None, 1e-3), d: float = 1.0,
                 weight_decay: float = 0.0, *, foreach: bool | None = None,
                 maximize: bool = False) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        check_kernels("Adafactor", {"foreach": foreach})
        super().__init__(params, {"lr": lr, "beta2_decay": beta2_decay, "eps": eps, "d": d,
                                  "weight_decay": weight_decay, "foreach": foreach,
                                  "maximize": maximize})

    def _check_group(self, group: dict[str, Any]) -> None:
        lr, eps = group["lr"], group["eps"]
        if not lr >= 0.0:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not group["beta2_decay"] <= 0.0:
            raise ValueError(f"beta2_decay should be <= 0 but is: {group['beta2_decay']}")
        if eps[0] is not None and not eps[0] >= 0.0:
            raise ValueError(f"epsilon1 should be >= 0 but is: {eps[0]}")
        if not eps[1] >= 0.0:
            raise ValueError(f"epsilon2 should be >= 0 but is: {eps[1]}")
        if not group["d"] >= 1.0:
            raise ValueError(f"Clipping threshold d should be >= 1 but is: {group['d']}")
        if not group["weight_decay"] >= 0.0:
            raise ValueError(f"weight_decay should be >= 0 but is: {group['weight_decay']}")

    @staticmethod
    def _state_value(key: str, value: Any, p: Tensor) -> Any:
        if key in ("row_var", "col_var"):  # a factor: the parameter's shape, one side 1
            array = np.asarray(value._data if isinstance(value, Tensor) else value).astype(
                p._data.dtype, copy=True)
            shape = list(p._data.shape)
            if len(shape) > 1:
                shape[-1 if key == "row_var" else -2] = 1
            if list(array.shape) != shape:
                raise ValueError(f"optimizer state: {key} of shape {array.shape} for a "
                                 f"parameter of shape {p._data.shape}")
            return array
        return Optimizer._state_value(key, value, p)

    def _step_group(self, group: dict[str, Any]) -> None:
        lr = float(group["lr"])
        eps1, eps2 = group["eps"]
        decay, d, weight_decay = group["beta2_decay"], group["d"], group["weight_decay"]
        for p in group["params"]:
            if p._grad is None:
                continue
            g = checked_grad("Adafactor", p)
            data = p._data
            state = self._state[p]
            if not state:
                state["step"] = 0
                if data.ndim > 1:
                    state["row_var"] = np.zeros(data.shape[:-1] + (1,), data.dtype)
                    state["col_var"] = np.zeros(data.shape[:-2] + (1, data.shape[-1]),
                                                data.dtype)
                else:
                    state["variance"] = np.zeros_like(data)
            if group["maximize"]:
                g = -g
            if eps1 is None:  # (kept for the group's later parameters, as PyTorch's)
                eps1 = float(np.finfo(data.dtype).eps)
            state["step"] += 1
            step = float(state["step"])
            weight = step ** decay
            alpha = max(eps2, _rms(data)) * min(lr, 1 / math.sqrt(step))
            if weight_decay != 0:
                data *= 1 - lr * weight_decay
            if data.ndim > 1:
                row_var, col_var = state["row_var"], state["col_var"]
                square = np.square(g)
                _lerp(row_var, square.sum(-1, keepdims=True) / g.shape[-1], weight)
                _lerp(col_var, square.sum(-2, keepdims=True) / g.shape[-2], weight)
                estimate = row_var @ col_var
                estimate /= np.maximum(row_var.mean(-2, keepdims=True), eps1)
            else:
                _lerp(state["variance"], g * g, weight)
                estimate = state["variance"].copy()
            update = g / np.sqrt(np.maximum(estimate, eps1 * eps1))
            denominator = max(1.0, _rms(update) / d)
            data -= (alpha / denominator) * update
            note_in_place_write(data)  # a graph that saved p before the step is out of date
