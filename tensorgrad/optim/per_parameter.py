"""torch.optim's optimizers that update one parameter at a time: ``RMSprop``, ``Adagrad``,
``Adamax``, ``NAdam``, ``RAdam``, ``Adadelta``, ``Rprop`` and ``ASGD``. ``tensorgrad.optim``
imports this module when one of them is first asked for (start-up: microgpt's command line
needs Adam only)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from ..dtypes import get_default_dtype
from ..tensor import Tensor, note_in_place_write
from . import Optimizer, check_kernels, check_number, checked_grad


def _scalar_dtype() -> np.dtype:
    """The dtype of NAdam's ``mu_product`` as PyTorch makes it: float64 under a float64
    default dtype, else float32."""
    return np.dtype(np.float64 if get_default_dtype() == np.float64 else np.float32)


def _check_betas(betas: tuple[float, float]) -> None:
    for i, beta in enumerate(betas):
        if not 0.0 <= beta < 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: {beta}")


def _loaded_scalar(key: str, value: Any, p: Tensor) -> np.ndarray:
    """A 0-d state entry (NAdam's ``mu_product``, ASGD's ``eta`` and ``mu``) from a state
    dict, in the parameter's dtype, as PyTorch loads it."""
    array = np.asarray(value._data if isinstance(value, Tensor) else value).astype(
        p._data.dtype, copy=True)
    if array.shape != ():
        raise ValueError(f"optimizer state: {key} of shape {array.shape}")
    return array


class _EachParameter(Optimizer):
    """An optimizer that updates each parameter by itself, with NumPy on ``p._data``.

    ``_step_group`` does what every rule here shares, in PyTorch's order: skip a parameter
    without a gradient, make its state (``step`` then ``_new_state``'s) at its first update,
    count the step, negate the gradient for ``maximize``, then weight decay: L2 (g + wd * p)
    or, with ``decoupled_weight_decay``, p *= 1 - lr * wd. ``_update`` is the rule itself; it
    may not write into ``g`` (it can be ``p.grad`` itself).
    """

    def _new_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        """Make ``p``'s state but its step count, before its first update."""
        return {}

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        """Update ``p`` in place from its gradient ``g`` and its state (step counted)."""
        raise NotImplementedError

    def _step_group(self, group: dict[str, Any]) -> None:
        name = type(self).__name__
        lr, weight_decay = group["lr"], group.get("weight_decay", 0)  # (Rprop has none)
        for p in group["params"]:
            if p._grad is None:
                continue
            g = checked_grad(name, p)
            state = self._state[p]
            if not state:
                state.update(step=0, **self._new_state(p, group))
            state["step"] += 1
            if group["maximize"]:
                g = -g
            if weight_decay and group.get("decoupled_weight_decay"):
                p._data *= 1 - lr * weight_decay
            elif weight_decay:
                g = g + weight_decay * p._data
            self._update(p._data, g, state, group)
            note_in_place_write(p._data)  # a graph that saved p before the step is out of date


class RMSprop(_EachParameter):
    """RMSprop (Hinton), as PyTorch's ``optim.RMSprop``: divide the gradient by the root of
    a running mean of its squares::

        opt = optim.RMSprop(model.parameters(), lr=1e-2, alpha=0.99)

    v = alpha * v + (1 - alpha) * g**2; with ``centered``, also m = alpha * m + (1 - alpha)
    * g and v - m**2 in place of v below; d = g / (sqrt(v) + eps); with ``momentum``, b =
    momentum * b + d and p -= lr * b, else p -= lr * d. State: ``step``, ``square_avg``,
    ``momentum_buffer`` (with momentum), ``grad_avg`` (centered).
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0.0, momentum: float = 0.0,
                 centered: bool = False, capturable: bool = False,
                 foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False):
        check_kernels("RMSprop", {"foreach": foreach, "capturable": capturable,
                                   "differentiable": differentiable})
        super().__init__(params, {"lr": lr, "momentum": momentum, "alpha": alpha, "eps": eps,
                                  "centered": centered, "weight_decay": weight_decay,
                                  "capturable": capturable, "foreach": foreach,
                                  "maximize": maximize, "differentiable": differentiable})

    def _check_group(self, group: dict[str, Any]) -> None:
        check_number("learning rate", group["lr"])
        check_number("epsilon value", group["eps"])
        check_number("momentum value", group["momentum"])
        check_number("weight_decay value", group["weight_decay"])
        check_number("alpha value", group["alpha"])

    def _new_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        state = {"square_avg": np.zeros_like(p._data)}
        if group["momentum"] > 0:
            state["momentum_buffer"] = np.zeros_like(p._data)
        if group["centered"]:
            state["grad_avg"] = np.zeros_like(p._data)
        return state

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        alpha, momentum = group["alpha"], group["momentum"]
        square_avg = state["square_avg"]
        square_avg *= alpha
        square_avg += (1 - alpha) * g * g
        if group["centered"]:
            # (made here if the group was made uncentered and changed since)
            grad_avg = state.setdefault("grad_avg", np.zeros_like(p))
            grad_avg += (1 - alpha) * (g - grad_avg)
            avg = np.sqrt(square_avg - grad_avg * grad_avg)
        else:
            avg = np.sqrt(square_avg)
        avg += group["eps"]
        if momentum > 0:
            buffer = state.setdefault("momentum_buffer", np.zeros_like(p))
            buffer *= momentum
            buffer += g / avg
            p -= group["lr"] * buffer
        else:
            p -= group["lr"] * (g / avg)


class Adagrad(_EachParameter):
    """Adagrad (Duchi et al.), as PyTorch's ``optim.Adagrad``: divide the gradient by the
    root of the sum of its squares so far::

        opt = optim.Adagrad(model.parameters(), lr=1e-2)

    s += g**2; p -= lr / (1 + (step - 1) * lr_decay) * g / (sqrt(s) + eps), s starting at
    ``initial_accumulator_value``. As PyTorch's, the parameters given here have their state
    (``step`` 0, ``sum``) at once; those of ``add_param_group`` at their first update, and
    every ``sum`` starts at the constructor's ``initial_accumulator_value``.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, lr_decay: float = 0.0,
                 weight_decay: float = 0.0, initial_accumulator_value: float = 0.0,
                 eps: float = 1e-10, foreach: bool | None = None, *, maximize: bool = False,
                 differentiable: bool = False, fused: bool | None = None):
        check_kernels("Adagrad", {"foreach": foreach, "differentiable": differentiable,
                                   "fused": fused})
        super().__init__(params, {"lr": lr, "lr_decay": lr_decay, "eps": eps,
                                  "weight_decay": weight_decay,
                                  "initial_accumulator_value": initial_accumulator_value,
                                  "foreach": foreach, "maximize": maximize,
                                  "differentiable": differentiable, "fused": fused})
        for p in self.params:
            self._state[p] = {"step": 0, **self._new_state(p, self.defaults)}

    def _check_group(self, group: dict[str, Any]) -> None:
        check_number("learning rate", group["lr"])
        check_number("lr_decay value", group["lr_decay"])
        check_number("weight_decay value", group["weight_decay"])
        check_number("initial_accumulator_value value", group["initial_accumulator_value"])
        check_number("epsilon value", group["eps"])

    def _new_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        # the constructor's value, whatever the group's says (as PyTorch)
        return {"sum": np.full_like(p._data, self.defaults["initial_accumulator_value"])}

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        lr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        state["sum"] += g * g
        p -= lr * (g / (np.sqrt(state["sum"]) + group["eps"]))


class _AdamLike(_EachParameter):
    """What Adamax, NAdam and RAdam check of a group, in PyTorch's order."""

    def _check_group(self, group: dict[str, Any]) -> None:
        check_number("learning rate", group["lr"])
        check_number("epsilon value", group["eps"])
        _check_betas(group["betas"])
        check_number("weight_decay value", group["weight_decay"])


class Adamax(_AdamLike):
    """Adamax (Kingma and Ba), as PyTorch's ``optim.Adamax``: Adam with the infinity norm::

        opt = optim.Adamax(model.parameters(), lr=2e-3)

    m = beta1 * m + (1 - beta1) * g; u = max(beta2 * u, |g| + eps); p -= lr / (1 -
    beta1**step) * m / u. State: ``step``, ``exp_avg``, ``exp_inf``.
    """

    def __init__(self, params: Iterable[Any], lr: float = 2e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, foreach: bool | None = None, *,
                 maximize: bool = False, differentiable: bool = False,
                 capturable: bool = False):
        check_kernels("Adamax", {"foreach": foreach, "capturable": capturable,
                                  "differentiable": differentiable})
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps,
                                  "weight_decay": weight_decay, "foreach": foreach,
                                  "maximize": maximize, "differentiable": differentiable,
                                  "capturable": capturable})

    def _new_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        return {"exp_avg": np.zeros_like(p._data), "exp_inf": np.zeros_like(p._data)}

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        beta1, beta2 = group["betas"]
        exp_avg, exp_inf = state["exp_avg"], state["exp_inf"]
        exp_avg += (1 - beta1) * (g - exp_avg)
        exp_inf *= beta2
        np.maximum(exp_inf, np.abs(g) + group["eps"], out=exp_inf)
        p -= group["lr"] / (1 - beta1 ** state["step"]) * (exp_avg / exp_inf)


class NAdam(_AdamLike):
    """NAdam (Dozat), as PyTorch's ``optim.NAdam``: Adam with Nesterov momentum, the
    momentum warmed up by ``momentum_decay``::

        opt = optim.NAdam(model.parameters(), lr=2e-3)

    mu_t = beta1 * (1 - 0.5 * 0.96**(t * momentum_decay)), their product so far P_t;
    m = beta1 * m + (1 - beta1) * g; v = beta2 * v + (1 - beta2) * g**2; d = sqrt(v / (1 -
    beta2**t)) + eps; p -= lr * ((1 - mu_t) / (1 - P_t) * g + mu_{t+1} / (1 - P_t * mu_{t+1})
    * m) / d. ``decoupled_weight_decay``: AdamW's decay. State: ``step``, ``mu_product`` (a
    0-d array: float32 unless the default dtype is float64, the parameter's once loaded, as
    PyTorch's), ``exp_avg``, ``exp_avg_sq``.
    """

    def __init__(self, params: Iterable[Any], lr: float = 2e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False):
        check_kernels("NAdam", {"foreach": foreach, "capturable": capturable,
                                 "differentiable": differentiable})
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps,
                                  "weight_decay": weight_decay,
                                  "momentum_decay": momentum_decay,
                                  "decoupled_weight_decay": decoupled_weight_decay,
                                  "maximize": maximize, "foreach": foreach,
                                  "capturable": capturable, "differentiable": differentiable})

    def _check_group(self, group: dict[str, Any]) -> None:
        super()._check_group(group)
        check_number("momentum_decay value", group["momentum_decay"])

    def _new_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        return {"mu_product": np.ones((), _scalar_dtype()), "exp_avg": np.zeros_like(p._data),
                "exp_avg_sq": np.zeros_like(p._data)}

    @staticmethod
    def _state_value(key: str, value: Any, p: Tensor) -> Any:
        if key == "mu_product":
            return _loaded_scalar(key, value, p)
        return Optimizer._state_value(key, value, p)

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        (beta1, beta2), step = group["betas"], state["step"]
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * group["momentum_decay"]))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * group["momentum_decay"]))
        # in its own dtype: float32 rounds it as PyTorch's float32 tensor does
        np.multiply(state["mu_product"], mu, out=state["mu_product"])
        mu_product = float(state["mu_product"])
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        exp_avg += (1 - beta1) * (g - exp_avg)
        exp_avg_sq *= beta2
        exp_avg_sq += (1 - beta2) * g * g
        denom = np.sqrt(exp_avg_sq / (1 - beta2**step)) + group["eps"]
        lr = group["lr"]
        p -= lr * (1.0 - mu) / (1.0 - mu_product) * (g / denom)
        p -= lr * mu_next / (1.0 - mu_product * mu_next) * (exp_avg / denom)


class RAdam(_AdamLike):
    """RAdam (Liu et al.), as PyTorch's ``optim.RAdam``: Adam with the variance of its
    adaptive rate rectified, plain momentum SGD while that variance is untractable::

        opt = optim.RAdam(model.parameters(), lr=1e-3)

    m, v as Adam's; rho_inf = 2 / (1 - beta2) - 1, rho_t = rho_inf - 2 t beta2**t / (1 -
    beta2**t); m_hat = m / (1 - beta1**t); if rho_t > 5, p -= lr * m_hat * r_t * sqrt(1 -
    beta2**t) / (sqrt(v) + eps) with r_t = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf -
    4)(rho_inf - 2) rho_t)), else p -= lr * m_hat. ``decoupled_weight_decay``: AdamW's
    decay. State: ``step``, ``exp_avg``, ``exp_avg_sq``.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, decoupled_weight_decay: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False,
                 capturable: bool = False, differentiable: bool = False):
        check_kernels("RAdam", {"foreach": foreach, "capturable": capturable,
                                 "differentiable": differentiable})
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps,
                                  "weight_decay": weight_decay, "maximize": maximize,
                                  "foreach": foreach, "capturable": capturable,
                                  "decoupled_weight_decay": decoupled_weight_decay,
                                  "differentiable": differentiable})

    def _new_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        return {"exp_avg": np.zeros_like(p._data), "exp_avg_sq": np.zeros_like(p._data)}

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        (beta1, beta2), step = group["betas"], state["step"]
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        exp_avg += (1 - beta1) * (g - exp_avg)
        exp_avg_sq *= beta2
        exp_avg_sq += (1 - beta2) * g * g
        correction2 = 1 - beta2**step
        m_hat = exp_avg / (1 - beta1**step)
        rho_inf = 2 / (1 - beta2) - 1
        rho = rho_inf - 2 * step * beta2**step / correction2
        if rho > 5.0:
            rect = ((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))**0.5
            adaptive = correction2**0.5 / (np.sqrt(exp_avg_sq) + group["eps"])
            p -= m_hat * group["lr"] * adaptive * rect
        else:
            p -= m_hat * group["lr"]


class Adadelta(_EachParameter):
    """Adadelta (Zeiler), as PyTorch's ``optim.Adadelta``: steps scaled by the ratio of
    running roots of squared updates and squared gradients::

        opt = optim.Adadelta(model.parameters(), lr=1.0, rho=0.9)

    v = rho * v + (1 - rho) * g**2; d = sqrt(u + eps) / sqrt(v + eps) * g; u = rho * u +
    (1 - rho) * d**2; p -= lr * d. State: ``step``, ``square_avg``, ``acc_delta``.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1.0, rho: float = 0.9,
                 eps: float = 1e-6, weight_decay: float = 0.0, foreach: bool | None = None,
                 *, capturable: bool = False, maximize: bool = False,
                 differentiable: bool = False):
        check_kernels("Adadelta", {"foreach": foreach, "capturable": capturable,
                                    "differentiable": differentiable})
        super().__init__(params, {"lr": lr, "rho": rho, "eps": eps,
                                  "weight_decay": weight_decay, "maximize": maximize,
                                  "capturable": capturable, "foreach": foreach,
                                  "differentiable": differentiable})

    def _check_group(self, group: dict[str, Any]) -> None:
        check_number("learning rate", group["lr"])
        if not 0.0 <= group["rho"] <= 1.0:
            raise ValueError(f"Invalid rho value: {group['rho']}")
        check_number("epsilon value", group["eps"])
        check_number("weight_decay value", group["weight_decay"])

    def _new_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        return {"square_avg": np.zeros_like(p._data), "acc_delta": np.zeros_like(p._data)}

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        rho, eps = group["rho"], group["eps"]
        square_avg, acc_delta = state["square_avg"], state["acc_delta"]
        square_avg *= rho
        square_avg += (1 - rho) * g * g
        delta = np.sqrt(acc_delta + eps) / np.sqrt(square_avg + eps) * g
        acc_delta *= rho
        acc_delta += (1 - rho) * delta * delta
        p -= group["lr"] * delta


class Rprop(_EachParameter):
    """Resilient backpropagation (Riedmiller and Braun), as PyTorch's ``optim.Rprop``: each
    entry moves by its own step size against the sign of its gradient; the size grows by
    ``etas[1]`` while the sign holds and shrinks by ``etas[0]`` when it flips (and that step
    is skipped), within ``step_sizes``::

        opt = optim.Rprop(model.parameters(), lr=0.01)

    State: ``step``, ``prev`` (the last gradient used, 0 where skipped), ``step_size``.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-2,
                 etas: tuple[float, float] = (0.5, 1.2),
                 step_sizes: tuple[float, float] = (1e-6, 50), *, capturable: bool = False,
                 foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False):
        check_kernels("Rprop", {"foreach": foreach, "capturable": capturable,
                                 "differentiable": differentiable})
        super().__init__(params, {"lr": lr, "etas": etas, "step_sizes": step_sizes,
                                  "foreach": foreach, "maximize": maximize,
                                  "differentiable": differentiable, "capturable": capturable})

    def _check_group(self, group: dict[str, Any]) -> None:
        check_number("learning rate", group["lr"])
        low, high = group["etas"]
        if not 0.0 < low < 1.0 < high:
            raise ValueError(f"Invalid eta values: {low}, {high}")

    def _new_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        return {"prev": np.zeros_like(p._data), "step_size": np.full_like(p._data, group["lr"])}

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        low, high = group["etas"]
        prev, step_size = state["prev"], state["step_size"]
        agreement = np.sign(g * prev)
        factor = np.where(agreement > 0, high, np.where(agreement < 0, low, 1.0))
        step_size *= factor.astype(step_size.dtype, copy=False)
        np.clip(step_size, *group["step_sizes"], out=step_size)
        used = np.where(agreement < 0, 0, g).astype(g.dtype, copy=False)  # a flip: no step
        p -= np.sign(used) * step_size
        prev[...] = used


class ASGD(_EachParameter):
    """Averaged stochastic gradient descent (Polyak and Juditsky), as PyTorch's
    ``optim.ASGD``: SGD with a decaying rate, keeping a running average of the parameters
    (``ax``, from step ``t0`` on)::

        opt = optim.ASGD(model.parameters(), lr=0.01)

    p *= 1 - lambd * eta; p -= eta * g; ax = p (or ax += mu * (p - ax) once mu < 1); then
    eta = lr / (1 + lambd * lr * step) ** alpha and mu = 1 / max(1, step - t0). State:
    ``step``, ``eta``, ``mu``, ``ax``.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, lambd: float = 1e-4,
                 alpha: float = 0.75, t0: float = 1e6, weight_decay: float = 0,
                 foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False, capturable: bool = False):
        check_kernels("ASGD", {"foreach": foreach, "capturable": capturable,
                                "differentiable": differentiable})
        super().__init__(params, {"lr": lr, "lambd": lambd, "alpha": alpha, "t0": t0,
                                  "weight_decay": weight_decay, "foreach": foreach,
                                  "maximize": maximize, "differentiable": differentiable,
                                  "capturable": capturable})

    def _check_group(self, group: dict[str, Any]) -> None:
        check_number("learning rate", group["lr"])
        check_number("weight_decay value", group["weight_decay"])

    def _new_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        # eta and mu as PyTorch keeps them: 0-d, of the default dtype's precision
        return {"eta": np.asarray(group["lr"], _scalar_dtype()),
                "mu": np.asarray(1.0, _scalar_dtype()), "ax": np.zeros_like(p._data)}

    @staticmethod
    def _state_value(key: str, value: Any, p: Tensor) -> Any:
        if key in ("eta", "mu"):
            return _loaded_scalar(key, value, p)
        return Optimizer._state_value(key, value, p)

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        eta, lambd = float(state["eta"]), group["lambd"]
        p *= 1 - lambd * eta
        p -= eta * g
        if float(state["mu"]) != 1:
            state["ax"] += (p - state["ax"]) * state["mu"]
        else:
            state["ax"][...] = p
        step, lr = state["step"], group["lr"]
        # (as PyTorch: each new value in the default dtype's precision, then kept in the
        # entry's dtype, which a loaded state dict makes the parameter's)
        scalar = _scalar_dtype()
        state["eta"] = np.asarray(lr / ((1 + lambd * lr * step) ** group["alpha"]),
                                  scalar).astype(state["eta"].dtype)
        state["mu"] = np.asarray(1 / max(1, step - group["t0"]), scalar).astype(
            state["mu"].dtype)

