"""torch.optim's ``LBFGS``: limited-memory BFGS, with PyTorch's arguments, steps and stopping
rules, and its optional strong-Wolfe line search. A step runs up to ``max_iter`` iterations,
each calling ``closure`` (which recomputes the loss and its gradients) again. All parameters
form one flat vector (one parameter group); the state holds NumPy arrays where PyTorch's
holds tensors. ``tensorgrad.optim`` imports this module when ``LBFGS`` is first asked for.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from ..grad_mode import enable_grad, no_grad
from ..tensor import Tensor, note_in_place_write, quiet
from . import Optimizer, check_number

Evaluation = Callable[[list[np.ndarray], float, np.ndarray], tuple[float, np.ndarray]]


class LBFGS(Optimizer):
    """L-BFGS, as PyTorch's: each iteration moves along a direction built from the last
    ``history_size`` changes of parameters and gradients, by ``lr`` (the first time by at
    most 1 / sum|g|), or as far as a strong-Wolfe line search finds
    (``line_search_fn="strong_wolfe"``). ``step(closure)`` stops after ``max_iter``
    iterations or ``max_eval`` calls of ``closure``, or when the gradient's largest entry is
    at most ``tolerance_grad`` or the step or the loss changes by less than
    ``tolerance_change``; it returns the loss of the closure's first call::

        optimizer = LBFGS(model.parameters(), line_search_fn="strong_wolfe")

        def closure():
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            return loss

        optimizer.step(closure)
    """

    def __init__(self, params: Iterable[Any], lr: float = 1, max_iter: int = 20,
                 max_eval: int | None = None, tolerance_grad: float = 1e-7,
                 tolerance_change: float = 1e-9, history_size: int = 100,
                 line_search_fn: str | None = None) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        check_number("learning rate", lr)
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        super().__init__(params, {"lr": lr, "max_iter": max_iter, "max_eval": max_eval,
                                  "tolerance_grad": tolerance_grad,
                                  "tolerance_change": tolerance_change,
                                  "history_size": history_size,
                                  "line_search_fn": line_search_fn})
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params: list[Tensor] = self.param_groups[0]["params"]

    # ---- the parameters as one flat vector ---------------------------------------------------

    def _flat_grad(self) -> np.ndarray:
        return np.concatenate([np.zeros(p._data.size, p._data.dtype) if p._grad is None
                               else p._grad.ravel() for p in self._params])

    def _move(self, step: float, direction: np.ndarray) -> None:
        """Each parameter += step * its part of ``direction``, in place."""
        offset = 0
        for p in self._params:
            n = p._data.size
            p._data += step * direction[offset:offset + n].reshape(p._data.shape)
            note_in_place_write(p._data)
            offset += n

    def _evaluate(self, closure: Callable[[], Any], start: list[np.ndarray], step: float,
                  direction: np.ndarray) -> tuple[float, np.ndarray]:
        """The loss and the flat gradient ``step`` along ``direction``; the parameters are
        put back to ``start`` after."""
        self._move(step, direction)
        loss = float(closure())
        gradient = self._flat_grad()
        for p, values in zip(self._params, start):
            p._data[...] = values
            note_in_place_write(p._data)
        return loss, gradient

    # ---- the step ----------------------------------------------------------------------------

    def step(self, closure: Callable[[], Any]) -> Any:  # type: ignore[override]
        """Up to ``max_iter`` iterations of L-BFGS, ``closure`` recomputing the loss and its
        gradients (it is required); the loss of its first call is returned."""
        group = self.param_groups[0]
        closure = enable_grad()(closure)
        with no_grad():
            return self._iterate(closure, group)

    @quiet  # an overflowing line search gives inf and NaN without warnings, as PyTorch's
    def _iterate(self, closure: Callable[[], Any], group: dict[str, Any]) -> Any:
        lr = float(group["lr"])
        max_iter, max_eval = group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        line_search, history_size = group["line_search_fn"], group["history_size"]
        state = self.state[self._params[0]]  # (PyTorch keeps it all on the first parameter)
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        first_loss = closure()
        loss = float(first_loss)
        evals = 1
        state["func_evals"] += 1
        gradient = self._flat_grad()
        if np.abs(gradient).max() <= tolerance_grad:
            return first_loss

        # what the last step left (None before the first)
        direction: Any = state.get("d")
        step: Any = state.get("t")
        old_dirs: Any = state.get("old_dirs")
        old_steps: Any = state.get("old_stps")
        ro: Any = state.get("ro")
        scale: Any = state.get("H_diag")
        previous_gradient: Any = state.get("prev_flat_grad")
        previous_loss: Any = state.get("prev_loss")
        iterations = 0
        while iterations < max_iter:
            iterations += 1
            state["n_iter"] += 1
            if state["n_iter"] == 1:  # steepest descent, no history yet
                direction = -gradient
                old_dirs, old_steps, ro, scale = [], [], [], 1.0
            else:
                direction, scale = _direction(gradient, previous_gradient, direction * step,
                                              old_dirs, old_steps, ro, scale, history_size)
            previous_gradient = gradient.copy()
            previous_loss = loss
            # (the scalars that are PyTorch's 0-d tensors are NumPy's of the parameters'
            # dtype here: float32 parameters round them as PyTorch does)
            step = min(1.0, 1.0 / np.abs(gradient).sum()) * lr if state["n_iter"] == 1 \
                else lr
            slope = gradient.dot(direction)
            if slope > -tolerance_change:  # not a descent direction
                break

            used = 0
            if line_search is not None:
                if line_search != "strong_wolfe":
                    raise RuntimeError("only 'strong_wolfe' is supported")
                start = [p._data.copy() for p in self._params]

                def along(start: list[np.ndarray], t: float, d: np.ndarray
                          ) -> tuple[float, np.ndarray]:
                    return self._evaluate(closure, start, t, d)

                loss, gradient, step, used = _strong_wolfe(
                    along, start, step, direction, loss, gradient, slope,
                    tolerance_change=tolerance_change, max_ls=max_eval - evals)
                self._move(step, direction)
                optimal = np.abs(gradient).max() <= tolerance_grad
            else:
                self._move(step, direction)
                optimal = False
                if iterations != max_iter:  # the last iteration's loss is not needed
                    loss = float(closure())
                    gradient = self._flat_grad()
                    optimal = np.abs(gradient).max() <= tolerance_grad
                    used = 1
            evals += used
            state["func_evals"] += used

            if iterations == max_iter or evals >= max_eval or optimal:
                break
            if np.abs(direction * step).max() <= tolerance_change:
                break
            if abs(loss - previous_loss) < tolerance_change:
                break

        state.update({"d": direction, "t": step, "old_dirs": old_dirs, "old_stps": old_steps,
                      "ro": ro, "H_diag": scale, "prev_flat_grad": previous_gradient,
                      "prev_loss": previous_loss})
        return first_loss


def _direction(gradient: np.ndarray, previous_gradient: np.ndarray, moved: np.ndarray,
               old_dirs: list[np.ndarray], old_steps: list[np.ndarray], ro: list[Any],
               scale: Any, history_size: int) -> tuple[np.ndarray, Any]:
    """The next direction, -H g by the two-loop recursion over the history, after adding the
    last change (``moved``, the gradient's change) to it when the curvature is positive;
    and the scale of the initial H."""
    change = gradient - previous_gradient
    curvature = change.dot(moved)
    if curvature > 1e-10:
        if len(old_dirs) == history_size:  # the oldest pair goes
            del old_dirs[0], old_steps[0], ro[0]
        old_dirs.append(change)
        old_steps.append(moved)
        ro.append(1.0 / curvature)
        scale = curvature / change.dot(change)
    alphas: list[Any] = [0.0] * len(old_dirs)
    q = -gradient
    for i in range(len(old_dirs) - 1, -1, -1):
        alphas[i] = old_steps[i].dot(q) * ro[i]
        q = q - alphas[i] * old_dirs[i]
    r = q * scale
    for i in range(len(old_dirs)):
        beta = old_dirs[i].dot(r) * ro[i]
        r = r + (alphas[i] - beta) * old_steps[i]
    return r, scale


def _cubic_minimum(x1: float, f1: float, g1: float, x2: float, f2: float, g2: float,
                   bounds: tuple[float, float] | None = None) -> float:
    """The minimizer of the cubic through (x1, f1) and (x2, f2) with slopes g1 and g2, kept
    within ``bounds`` (by default the two points); their middle where it has none."""
    low, high = bounds if bounds is not None else (min(x1, x2), max(x1, x2))
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    square = d1 * d1 - g1 * g2
    if square < 0:
        return (low + high) / 2.0
    d2 = np.sqrt(square)
    if x1 <= x2:
        at = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
    else:
        at = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
    return min(max(at, low), high)


def _strong_wolfe(evaluate: Evaluation, start: list[np.ndarray], t: float, d: np.ndarray,
                  f: float, g: np.ndarray, slope: float, c1: float = 1e-4, c2: float = 0.9,
                  tolerance_change: float = 1e-9, max_ls: int = 25
                  ) -> tuple[float, np.ndarray, float, int]:
    """A step ``t`` along ``d`` meeting the strong Wolfe conditions (enough decrease, and a
    slope at most c2 times as steep), as PyTorch's (after minFunc): steps grow until they
    bracket one, then the bracket shrinks by cubic interpolation. Returns the loss, the
    gradient and the step found, and the number of evaluations."""
    d_size = np.abs(d).max()
    f_new, g_new = evaluate(start, t, d)
    evals = 1
    slope_new = g_new.dot(d)
    t_prev, f_prev, g_prev, slope_prev = 0.0, f, g, slope
    done = False
    # the bracket: two steps with their loss, gradient and slope (one when it is found)
    steps: list[float] = []
    losses: list[float] = []
    grads: list[np.ndarray] = []
    slopes: list[float] = []
    while evals - 1 < max_ls:
        if f_new > f + c1 * t * slope or (evals > 2 and f_new >= f_prev):
            steps, losses, grads, slopes = [t_prev, t], [f_prev, f_new], [g_prev, g_new], \
                [slope_prev, slope_new]
            break
        if abs(slope_new) <= -c2 * slope:
            steps, losses, grads, done = [t], [f_new], [g_new], True
            break
        if slope_new >= 0:
            steps, losses, grads, slopes = [t_prev, t], [f_prev, f_new], [g_prev, g_new], \
                [slope_prev, slope_new]
            break
        # not bracketed yet: a longer step, by a cubic within [1.01 t - 0.01 t_prev, 10 t]
        longer = _cubic_minimum(t_prev, f_prev, slope_prev, t, f_new, slope_new,
                                bounds=(t + 0.01 * (t - t_prev), t * 10))
        t_prev, f_prev, g_prev, slope_prev = t, f_new, g_new, slope_new
        t = longer
        f_new, g_new = evaluate(start, t, d)
        evals += 1
        slope_new = g_new.dot(d)
    if evals - 1 == max_ls:  # out of evaluations before a bracket
        steps, losses, grads = [0.0, t], [f, f_new], [g, g_new]

    # shrink the bracket
    stalled = False
    low, high = (0, 1) if losses[0] <= losses[-1] else (1, 0)
    while not done and evals - 1 < max_ls:
        if abs(steps[1] - steps[0]) * d_size < tolerance_change:
            break
        t = _cubic_minimum(steps[0], losses[0], slopes[0], steps[1], losses[1], slopes[1])
        # a step too near an end of the bracket, twice running (or outside it), is moved
        # a tenth of the bracket inside
        margin = 0.1 * (max(steps) - min(steps))
        if min(max(steps) - t, t - min(steps)) < margin:
            if stalled or t >= max(steps) or t <= min(steps):
                t = max(steps) - margin if abs(t - max(steps)) < abs(t - min(steps)) else \
                    min(steps) + margin
                stalled = False
            else:
                stalled = True
        else:
            stalled = False
        f_new, g_new = evaluate(start, t, d)
        evals += 1
        slope_new = g_new.dot(d)
        if f_new > f + c1 * t * slope or f_new >= losses[low]:  # not enough decrease: new high
            steps[high], losses[high], grads[high], slopes[high] = t, f_new, g_new, slope_new
            low, high = (0, 1) if losses[0] <= losses[1] else (1, 0)
        else:
            if abs(slope_new) <= -c2 * slope:
                done = True
            elif slope_new * (steps[high] - steps[low]) >= 0:  # the old low becomes high
                steps[high], losses[high], grads[high], slopes[high] = \
                    steps[low], losses[low], grads[low], slopes[low]
            steps[low], losses[low], grads[low], slopes[low] = t, f_new, g_new, slope_new
    return losses[low], grads[low], steps[low], evals
