"""``gradcheck``: the gradients a function of tensors produces, held against the scalar engine.

The reference is exact where it can be: the same ``fn`` runs again on arrays of ``Value``s
(NumPy applies ``+ - * / **``, ``exp``, ``log``, ``dot`` and ``@`` of object arrays to each
``Value``), and the scalar engine backpropagates through every number, so any difference
beyond rounding is a bug in ``fn``'s backward. Finite differences, which PyTorch's
gradcheck uses, carry their own error; they are the fallback for a forward that cannot run
on ``Value``s (``np.tanh``, comparisons, a cast), and a warning says when they were used.

What is checked is the gradient of ``sum(v * fn(*inputs))`` for a fixed random ``v``: every
entry of the Jacobian takes part, so a wrong entry shows, except for ``v`` of measure zero.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from .grad_mode import no_grad
from .tensor import Function, Tensor, as_leaf
from .value import Value

REFERENCES = ("auto", "scalar", "finite-difference")
# Exact reference: only the two engines' rounding differs. Finite differences of step eps
# err by about eps**2 (truncation) plus 1e-16 / eps (rounding) relative to the function.
TOLERANCES = {"scalar": (1e-7, 1e-10), "finite-difference": (1e-5, 1e-6)}  # rtol, atol


class GradcheckError(RuntimeError):
    """A gradient that differs from the reference by more than the tolerance."""


class GradcheckWarning(UserWarning):
    """The check fell back to finite differences: the forward could not run on Values."""


def gradcheck(fn: Callable[..., Tensor], *inputs: Any, reference: str = "auto",
              rtol: float | None = None, atol: float | None = None, eps: float = 1e-6,
              raise_exception: bool = True, **torch_options: Any) -> bool:
    """Check the gradients ``fn`` gives the float64 tensors among ``inputs`` that require grad.
    PyTorch's form, the inputs as one tuple (``gradcheck(fn, (x, w))``), is taken too, and
    so are its other options (``raise_exception=False``: False instead of the error; the
    switches of its own checks are accepted and have nothing to switch here).

    ``reference``: "scalar" (exact, through ``Value``s), "finite-difference" (central, step
    ``eps``), or "auto": the scalar engine, and finite differences with a
    ``GradcheckWarning`` where ``fn`` cannot run on ``Value``s. ``rtol`` and ``atol``
    default to the reference's (``TOLERANCES``): an entry passes if
    ``|ours - reference| <= atol + rtol * |reference|``.

    Returns True, or raises ``GradcheckError`` naming the input, its worst entry, our
    gradient there, the reference's and the tolerance. ``inputs`` are not modified.
    """
    if reference not in REFERENCES:
        raise ValueError(f"reference must be one of {', '.join(REFERENCES)}, not {reference!r}")
    unknown = set(torch_options) - _TORCH_OPTIONS
    if unknown:
        raise TypeError(f"gradcheck() got an unexpected keyword argument {sorted(unknown)[0]!r}")
    if len(inputs) == 1 and isinstance(inputs[0], (tuple, list)):  # PyTorch's form
        inputs = tuple(inputs[0])
    if not raise_exception:
        try:
            return gradcheck(fn, *inputs, reference=reference, rtol=rtol, atol=atol, eps=eps)
        except GradcheckError:
            return False
    checked = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input is a tensor that requires grad")
    for i in checked:
        if inputs[i].dtype != np.float64:
            raise ValueError(f"gradcheck: input {i} is {inputs[i].dtype}; check in float64, "
                             "where rounding cannot pass for a wrong gradient")
    ours, result, cotangent = _our_gradients(fn, inputs, checked)
    used = reference
    if reference != "finite-difference":
        try:
            expected = _scalar_gradients(fn, inputs, checked, result, cotangent)
            used = "scalar"
        except _CannotRunOnValues as exc:
            if reference == "scalar":
                raise ValueError(f"gradcheck: {exc}") from None
            warnings.warn(f"gradcheck: {exc}; checked against central finite differences "
                          f"(step {eps:g}) instead", GradcheckWarning, stacklevel=2)
            used = "finite-difference"
    if used == "finite-difference":
        expected = _finite_differences(fn, inputs, checked, cotangent, eps)
    default_rtol, default_atol = TOLERANCES[used]
    rtol = default_rtol if rtol is None else rtol
    atol = default_atol if atol is None else atol
    names = _argument_names(fn, len(inputs))
    for i in checked:
        _compare(ours[i], expected[i], rtol, atol, f"input {i}{names.get(i, '')}", used)
    return True


# PyTorch's switches for its own kinds of check, which have no counterpart here
_TORCH_OPTIONS = {"nondet_tol", "check_undefined_grad", "check_grad_dtypes",
                  "check_batched_grad", "check_batched_forward_grad", "check_forward_ad",
                  "check_backward_ad", "fast_mode", "masked"}


class _CannotRunOnValues(Exception):
    """Why the forward gave no exact reference."""


def _our_gradients(fn: Callable[..., Tensor], inputs: tuple, checked: list[int]
                   ) -> tuple[dict[int, np.ndarray], np.ndarray, np.ndarray]:
    """The gradients of sum(v * fn(...)) by the tensor engine, fn's result and the random v."""
    copies = [Tensor(x._data.copy(), requires_grad=x.requires_grad)
              if isinstance(x, Tensor) else x for x in inputs]
    out = fn(*copies)
    if not isinstance(out, Tensor):
        raise TypeError(f"gradcheck: fn must return a Tensor, not {type(out).__name__}")
    if not out.requires_grad:
        raise GradcheckError("gradcheck: fn's result has no graph: it does not depend on "
                             "the inputs that require grad (or fn ran under no_grad)")
    cotangent = np.random.default_rng(0).standard_normal(out.shape)
    out.backward(cotangent)
    grads: dict[int, np.ndarray] = {}
    for i in checked:
        grad = copies[i]._grad
        grads[i] = np.zeros(inputs[i].shape) if grad is None else grad
    return grads, out._data, cotangent


def _scalar_gradients(fn: Callable[..., Tensor], inputs: tuple, checked: list[int],
                      result: np.ndarray, cotangent: np.ndarray) -> dict[int, np.ndarray]:
    """The exact gradients: ``fn`` on arrays of ``Value``s, then the scalar engine's backward."""
    leaves = {i: _value_array(inputs[i]._data) for i in checked}
    arguments = [as_leaf(leaves[i]) if i in leaves else x for i, x in enumerate(inputs)]
    try:
        out = fn(*arguments)
    except Exception as exc:  # whatever a forward raises on objects it cannot handle
        raise _CannotRunOnValues(f"fn cannot run on Values ({type(exc).__name__}: {exc})"
                                 ) from exc
    data = out._data if isinstance(out, Tensor) else np.asarray(out)
    flat = data.ravel()
    if data.shape != cotangent.shape or not all(isinstance(v, Value) for v in flat):
        raise _CannotRunOnValues("fn did not compute its result from the Values it was given")
    numbers = np.array([v.data for v in flat]).reshape(data.shape)
    if not np.allclose(numbers, result, rtol=1e-9, atol=1e-12, equal_nan=True):
        raise _CannotRunOnValues("fn computes other values on Values than on arrays")
    root = Value(0.0)
    for weight, v in zip(cotangent.ravel().tolist(), flat):
        root = root + weight * v
    root.backward()
    return {i: np.array([v.grad for v in leaves[i].ravel()]).reshape(leaves[i].shape)
            for i in checked}


def _value_array(a: np.ndarray) -> np.ndarray:
    values = np.empty(a.shape, dtype=object)
    for index, x in np.ndenumerate(a):
        values[index] = Value(float(x))
    return values


def _finite_differences(fn: Callable[..., Tensor], inputs: tuple, checked: list[int],
                        cotangent: np.ndarray, eps: float) -> dict[int, np.ndarray]:
    """Central differences of sum(v * fn(...)), one input entry at a time."""
    arrays = {i: inputs[i]._data.copy() for i in checked}
    arguments = [as_leaf(arrays[i]) if i in arrays else x for i, x in enumerate(inputs)]  # shared

    def objective() -> float:
        with no_grad():
            return float(np.sum(cotangent * fn(*arguments)._data))

    grads = {}
    for i, a in arrays.items():
        grad = np.empty(a.shape)
        for index in np.ndindex(a.shape):
            x = a[index]
            a[index] = x + eps
            above = objective()
            a[index] = x - eps
            below = objective()
            a[index] = x
            grad[index] = (above - below) / (2 * eps)
        grads[i] = grad
    return grads


def _compare(ours: np.ndarray, expected: np.ndarray, rtol: float, atol: float, name: str,
             reference: str) -> None:
    difference = np.abs(ours - expected)
    tolerance = atol + rtol * np.abs(expected)
    failed = ~(difference <= tolerance)  # NaN never passes
    if not failed.any():
        return
    with np.errstate(divide="ignore", invalid="ignore"):
        excess = np.where(failed, difference / tolerance, 0.0)
    worst = np.unravel_index(np.argmax(np.nan_to_num(excess, nan=np.inf)), excess.shape)
    by = ("the scalar engine (exact) gives" if reference == "scalar"
          else "central finite differences give")
    raise GradcheckError(
        f"gradcheck: the gradient of {name} is wrong at {list(map(int, worst))} of its "
        f"{tuple(ours.shape)}: {float(ours[worst])!r}, where {by} {float(expected[worst])!r}; "
        f"|difference| {difference[worst]:.3g} > tolerance {tolerance[worst]:.3g} "
        f"(atol {atol:g} + rtol {rtol:g} * |reference|)")


def _argument_names(fn: Callable, count: int) -> dict[int, str]:
    """" ('name')" for each positional argument whose parameter name can be found."""
    target = fn
    owner = getattr(fn, "__self__", None)
    if isinstance(owner, type) and issubclass(owner, Function):
        target = owner.forward  # Function.apply(*args) passes args to forward(ctx, *args)
    try:
        parameters = list(inspect.signature(target).parameters.values())
    except (TypeError, ValueError):  # a builtin or a callable without a signature
        return {}
    if target is not fn:
        parameters = parameters[1:]  # ctx
    names = {}
    for i, p in enumerate(parameters[:count]):
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            names[i] = f" ('{p.name}')"
    return names
