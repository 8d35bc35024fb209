"""Adam: microgpt.py's update, vectorized over one flat buffer of parameters per dtype."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .tensor import Tensor

_CHUNK = 1 << 14  # elements updated at a time: the update's dozen passes over them stay in cache


class _Flat:
    """Parameters of one dtype with their values end to end in one buffer, moments beside it.

    Each ``p.data`` becomes a view of the buffer (same values, same shape), so that an
    update is a dozen NumPy calls however many tensors there are.
    """

    def __init__(self, params: list[Tensor]):
        self.params = params
        self.values = np.concatenate([p.data.ravel() for p in params])
        bounds = np.cumsum([0, *(p.data.size for p in params)]).tolist()
        self.slices = [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:])]
        self.views = [self.values[s].reshape(p.data.shape) for p, s in zip(params, self.slices)]
        for p, view in zip(params, self.views):
            p.data = view
        self.m = np.zeros_like(self.values)  # first moments
        self.v = np.zeros_like(self.values)  # second moments
        self.grad = np.empty_like(self.values)  # scratch: the gradients, gathered
        self.scratch = np.empty_like(self.values)
        size = self.values.size
        self.chunks = [slice(start, start + _CHUNK) for start in range(0, size, _CHUNK)]

    def follow_replaced_data(self) -> None:
        """Take in the values of any ``p.data`` that was replaced since the last step."""
        for p, view in zip(self.params, self.views):
            if p.data is not view:
                data = np.asarray(p.data)
                if data.shape != view.shape:
                    raise ValueError(f"Adam: a parameter of shape {view.shape} was given data "
                                     f"of shape {data.shape}")
                view[...] = data
                p.data = view


class Adam:
    """Adam with bias correction, as microgpt.py (and PyTorch) define it.

    Set ``lr`` (or ``param_groups[0]["lr"]``) before a ``step()`` to schedule it. The
    parameters' values move into one flat buffer per dtype (each ``p.data`` becomes a view
    of it); assigning ``p.data`` later is fine, the next ``step()`` takes the new values in.
    Unlike PyTorch, the step count is one for all parameters: a parameter left without a
    gradient is skipped, moments too, but its next update uses the common count.
    """

    def __init__(self, params: Iterable[Tensor], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8):
        params = list(params)
        if not params:
            raise ValueError("Adam got an empty parameter list")
        if not all(isinstance(p, Tensor) and p.requires_grad and p.is_leaf for p in params):
            raise ValueError("Adam's parameters must be leaf tensors that require grad")
        if len({id(p) for p in params}) != len(params):
            raise ValueError("Adam got the same parameter twice")
        self.param_groups = [{"params": params, "lr": lr, "betas": betas, "eps": eps}]
        self.step_count = 0
        by_dtype: dict[np.dtype, list[Tensor]] = {}
        for p in params:
            by_dtype.setdefault(p.data.dtype, []).append(p)
        self._groups = [_Flat(group) for group in by_dtype.values()]

    @property
    def params(self) -> list[Tensor]:
        return self.param_groups[0]["params"]

    @property
    def lr(self) -> float:
        return self.param_groups[0]["lr"]

    @lr.setter
    def lr(self, value: float) -> None:
        self.param_groups[0]["lr"] = value

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Set every ``.grad`` to None, or with ``set_to_none=False`` fill it with zeros."""
        for p in self.params:
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad[...] = 0

    def step(self) -> None:
        """One update of every parameter that has a gradient."""
        self.step_count += 1
        for group in self._groups:
            group.follow_replaced_data()
            present = [p.grad is not None for p in group.params]
            if all(present):
                np.concatenate([p.grad.ravel() for p in group.params], out=group.grad,
                               casting="same_kind")
                if len(group.chunks) == 1:
                    self._update(group.values, group.m, group.v, group.grad, group.scratch)
                else:
                    for part in group.chunks:
                        self._update(group.values[part], group.m[part], group.v[part],
                                     group.grad[part], group.scratch[part])
            elif any(present):  # as in PyTorch, a parameter without a gradient is left alone
                index = np.concatenate([np.arange(s.start, s.stop) for s, ok in
                                        zip(group.slices, present) if ok])
                values, m, v = group.values[index], group.m[index], group.v[index]
                g = np.concatenate([p.grad.ravel() for p, ok in zip(group.params, present) if ok]
                                   ).astype(values.dtype, copy=False)
                self._update(values, m, v, g, np.empty_like(values))
                group.values[index], group.m[index], group.v[index] = values, m, v

    def _update(self, p: np.ndarray, m: np.ndarray, v: np.ndarray, g: np.ndarray,
                tmp: np.ndarray) -> None:
        """p -= lr * m_hat / (sqrt(v_hat) + eps), in place; ``g`` and ``tmp`` are scratch.

        The bias corrections c1 = 1 - beta1**t and c2 = 1 - beta2**t are folded into
        scalars, using sqrt(v_hat) + eps = (sqrt(v) + eps * sqrt(c2)) / sqrt(c2): one array
        division where microgpt.py's order of operations takes three (the results may
        differ from its in the last bits).
        """
        beta1, beta2 = self.param_groups[0]["betas"]
        eps, lr = self.param_groups[0]["eps"], self.param_groups[0]["lr"]
        m_correction = 1 / (1 - beta1**self.step_count)
        v_correction = 1 / (1 - beta2**self.step_count)
        m *= beta1
        m += np.multiply(g, 1 - beta1, out=tmp)
        g *= g
        g *= 1 - beta2
        v *= beta2
        v += g
        np.sqrt(v, out=tmp)
        tmp += eps / v_correction**0.5
        np.divide(m, tmp, out=g)
        g *= lr * m_correction / v_correction**0.5
        p -= g

    def state_dict(self) -> dict[str, Any]:
        """PyTorch's layout: ``state`` by parameter number (``step``, ``exp_avg`` and
        ``exp_avg_sq`` of the parameter's shape, copies) and ``param_groups``."""
        state = {}
        for group in self._groups:
            for p, s in zip(group.params, group.slices):
                state[self._number(p)] = {"step": self.step_count,
                                          "exp_avg": group.m[s].reshape(p.data.shape).copy(),
                                          "exp_avg_sq": group.v[s].reshape(p.data.shape).copy()}
        settings = {k: v for k, v in self.param_groups[0].items() if k != "params"}
        return {"state": dict(sorted(state.items())),
                "param_groups": [{**settings, "params": list(range(len(self.params)))}]}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Take the moments, step count and settings of ``state_dict()``'s layout."""
        state = state_dict["state"]
        if sorted(state) != list(range(len(self.params))):
            raise ValueError(f"optimizer state for parameters {sorted(state)}, not for "
                             f"{len(self.params)} parameters")
        steps = {int(s["step"]) for s in state.values()}
        if len(steps) != 1 or steps.pop() < 0:
            raise ValueError("optimizer state: the parameters' step counts must be one number "
                             ">= 0")
        for group in self._groups:
            for p, s in zip(group.params, group.slices):
                saved = state[self._number(p)]
                for name, moments in (("exp_avg", group.m), ("exp_avg_sq", group.v)):
                    if np.shape(saved[name]) != p.data.shape:
                        raise ValueError(f"optimizer state: {name} of shape "
                                         f"{np.shape(saved[name])} for a parameter of shape "
                                         f"{p.data.shape}")
                    moments[s] = np.ravel(saved[name])
        self.step_count = int(state[0]["step"])
        settings = state_dict.get("param_groups", [{}])[0]
        self.param_groups[0].update({k: v for k, v in settings.items() if k != "params"})

    def _number(self, p: Tensor) -> int:
        return next(i for i, q in enumerate(self.params) if q is p)
