"""Adam, with the update written out as microgpt.py writes it."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from .tensor import Tensor


class Adam:
    """Adam with bias correction by step count; set ``lr`` before any ``step()`` to schedule it.

    The moments of all parameters live in one flat buffer, so a step is a handful of
    vectorized NumPy calls however many parameter tensors there are.
    """

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ):
        self.params = list(params)
        if not self.params:
            raise ValueError("Adam got an empty parameter list")
        if not all(isinstance(p, Tensor) and p.requires_grad for p in self.params):
            raise ValueError("Adam parameters must be tensors that require grad")
        self.lr, self.betas, self.eps = lr, betas, eps
        self.step_count = 0
        bounds = np.cumsum([0] + [p.data.size for p in self.params]).tolist()
        self._span = {id(p): (a, b) for p, a, b in zip(self.params, bounds[:-1], bounds[1:])}
        dtype = np.result_type(*(p.data.dtype for p in self.params))
        self.m = np.zeros(bounds[-1], dtype)  # first moments of all parameters, end to end
        self.v = np.zeros(bounds[-1], dtype)  # second moments

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        """One Adam update of every parameter that has a gradient."""
        self.step_count += 1
        params = self.params
        if any(p.grad is None for p in params):
            # As in PyTorch, a parameter without a gradient is left alone, moments too.
            params = [p for p in params if p.grad is not None]
            if not params:
                return
        beta1, beta2 = self.betas
        g = np.concatenate([p.grad.ravel() for p in params])
        m, v = self._moments(params)
        # In place, but the same operations in the same order as microgpt.py's update.
        m *= beta1
        m += (1 - beta1) * g
        v *= beta2
        v += (1 - beta2) * g**2
        m_hat = m / (1 - beta1**self.step_count)
        v_hat = v / (1 - beta2**self.step_count)
        update = self.lr * m_hat / (v_hat**0.5 + self.eps)
        self._scatter(params, m, v, update)

    def _moments(self, params: list[Tensor]) -> tuple[np.ndarray, np.ndarray]:
        if params is self.params:
            return self.m, self.v
        index = np.concatenate([np.arange(*self._span[id(p)]) for p in params])
        return self.m[index], self.v[index]

    def _scatter(self, params: list[Tensor], m: np.ndarray, v: np.ndarray,
                 update: np.ndarray) -> None:
        offset = 0
        for p in params:
            size = p.data.size
            p.data -= update[offset:offset + size].reshape(p.data.shape)
            if params is not self.params:
                start, stop = self._span[id(p)]
                self.m[start:stop] = m[offset:offset + size]
                self.v[start:stop] = v[offset:offset + size]
            offset += size

    def state_dict(self) -> dict[str, np.ndarray]:
        return {"m": self.m.copy(), "v": self.v.copy(), "step": np.array(self.step_count)}

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        if state["m"].shape != self.m.shape or state["v"].shape != self.v.shape:
            raise ValueError("optimizer state does not match the parameters")
        self.m[:], self.v[:] = state["m"], state["v"]
        self.step_count = int(state["step"])
