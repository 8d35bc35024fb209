"""torch.autograd's names: ``Function`` (a user's op, on tensors as PyTorch's: see
``function``), ``grad`` (gradients returned rather than added to ``.grad``), ``backward`` of
several tensors at once, and the grad modes."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import tensor
from ..grad_mode import enable_grad, inference_mode, no_grad, set_grad_enabled
from ..tensor import Tensor, as_leaf, gradients

if TYPE_CHECKING:  # for type checkers: __getattr__, at the end, imports these when first used
    from . import function, functional, graph, profiler, profiler_util  # noqa: F401

__all__ = ["Function", "Variable", "backward", "detect_anomaly", "enable_grad", "function",
           "functional", "grad", "graph", "inference_mode", "no_grad", "set_detect_anomaly",
           "set_grad_enabled"]


def grad(outputs: Tensor | Sequence[Tensor], inputs: Tensor | Sequence[Tensor],
         grad_outputs: Any = None, retain_graph: bool | None = None, create_graph: bool = False,
         only_inputs: bool = True, allow_unused: bool | None = None,
         is_grads_batched: bool = False, materialize_grads: bool = False
         ) -> tuple[Tensor | None, ...]:
    """d(sum of ``outputs``)/d(each of ``inputs``), as tensors, leaving every ``.grad`` as it
    is; ``grad_outputs`` weight the outputs (one each; None for a one-element output). As
    PyTorch's, it frees the graph unless ``retain_graph``, runs the inputs' hooks, and raises
    for an input the outputs do not depend on unless ``allow_unused`` (then None; with
    ``materialize_grads``, zeros)::

        x = tensorgrad.tensor([1.0, 2.0], requires_grad=True)
        (g,) = tensorgrad.autograd.grad((x * x).sum(), x)  # Tensor([2., 4.])
    """
    if is_grads_batched:
        raise NotImplementedError("grad(is_grads_batched=True) is not supported")
    if materialize_grads and allow_unused is False:
        raise ValueError("Expected allow_unused to be True or not passed when materialize_grads"
                         "=True, but got: allow_unused=False.")
    outputs, inputs = _tensors(outputs, "outputs"), _tensors(inputs, "inputs")
    weights = _weights(grad_outputs, len(outputs), "grad", "grad_output", "output")
    for x in inputs:
        if not x.requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    found: dict[int, Any] = {}
    keep = _keep_recorded if create_graph else _keep
    # a result of an op gets its gradient through a hook, called once it is complete
    handles = [x.register_hook(functools.partial(keep, found, i))
               for i, x in enumerate(inputs) if x.grad_fn is not None]
    try:
        for k, (out, weight) in enumerate(zip(outputs, weights)):
            # recorded, the gradients are tensors in the graph; else arrays
            leaves: dict[Tensor, Any] = tensor.recorded_gradients(out, weight) \
                if create_graph else \
                gradients(out, weight, bool(retain_graph) or k < len(outputs) - 1)
            for i, x in enumerate(inputs):
                if x.grad_fn is None and x in leaves:
                    keep(found, i, leaves[x] if create_graph else as_leaf(leaves[x]))
    finally:
        for handle in handles:
            handle.remove()
    result: list[Tensor | None] = []
    for i, x in enumerate(inputs):
        if i in found:
            result.append(found[i] if create_graph else as_leaf(found[i]))
        elif materialize_grads:
            result.append(as_leaf(np.zeros_like(x._data)))
        elif allow_unused:
            result.append(None)
        else:
            raise RuntimeError(f"The differentiated Tensor at index {i} appears to not have been "
                               "used in the graph. Set allow_unused=True if this is the desired "
                               "behavior.")
    return tuple(result)


def backward(tensors: Tensor | Sequence[Tensor], grad_tensors: Any = None,
             retain_graph: bool | None = None, create_graph: bool = False,
             inputs: Sequence[Tensor] | None = None) -> None:
    """``backward()`` of each of ``tensors`` (with its gradient of ``grad_tensors``), the
    graph kept between them: their gradients add up in the leaves' ``.grad``."""
    tensors = _tensors(tensors, "tensors")
    weights = _weights(grad_tensors, len(tensors), "backward", "grad_tensor", "tensor")
    for k, (t, weight) in enumerate(zip(tensors, weights)):
        t.backward(weight, retain_graph=bool(retain_graph) or k < len(tensors) - 1,
                   create_graph=create_graph, inputs=inputs)


def _tensors(values: Tensor | Sequence[Tensor], name: str) -> list[Tensor]:
    tensors = [values] if isinstance(values, Tensor) else list(values)
    for x in tensors:
        if not isinstance(x, Tensor):
            raise TypeError(f"{name} must be tensors, not {type(x).__name__}")
    return tensors


def _weights(given: Any, count: int, function: str, what: str, of: str) -> list[Any]:
    """The gradient to start from for each of ``count`` results (None: the implicit one)."""
    weights = [None] * count if given is None else (
        [given] if isinstance(given, Tensor) else list(given))
    if len(weights) != count:
        raise RuntimeError(f"{function} requires one {what} per {of}: got {len(weights)} for "
                           f"{count} {of}s")
    return weights


def _keep_recorded(found: dict[int, Any], i: int, gradient: Tensor) -> None:
    """``_keep`` in a recorded pass: the gradients stay tensors in the graph."""
    found[i] = gradient if i not in found else found[i] + gradient


def _keep(found: dict[int, np.ndarray], i: int, gradient: Tensor) -> None:
    """Add one pass's gradient of input ``i`` to what was found (a hook: returns None)."""
    found[i] = gradient._data.copy() if i not in found else found[i] + gradient._data


# ---- anomaly mode, and the legacy Variable --------------------------------------------------


class set_detect_anomaly:  # noqa: N801 (PyTorch's name)
    """Turn autograd's anomaly mode on or off, now (as a call) or for a block (as a context
    manager): in it, ``backward()`` checks each gradient an op's backward returns and raises
    RuntimeError naming the first op that gave NaN. (PyTorch also keeps each op's forward
    traceback to print; this does not.) ``check_nan=False``: no checks::

        with tensorgrad.autograd.set_detect_anomaly(True):
            loss.backward()
    """

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        self.previous = tensor.detecting_anomalies
        tensor.detecting_anomalies = bool(mode) and bool(check_nan)

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        tensor.detecting_anomalies = self.previous


class detect_anomaly:  # noqa: N801 (PyTorch's name)
    """Anomaly mode for a block, or for each call of a decorated function (see
    ``set_detect_anomaly``)."""

    def __init__(self, check_nan: bool = True) -> None:
        self.check_nan, self.previous = check_nan, False

    def __enter__(self) -> None:
        self.previous = tensor.detecting_anomalies
        tensor.detecting_anomalies = bool(self.check_nan)

    def __exit__(self, *exc: object) -> None:
        tensor.detecting_anomalies = self.previous

    def __call__(self, function: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(function)
        def in_anomaly_mode(*args: Any, **kwargs: Any) -> Any:
            with detect_anomaly(self.check_nan):
                return function(*args, **kwargs)
        return in_anomaly_mode


def is_anomaly_enabled() -> bool:
    """Whether anomaly mode is on (``torch.is_anomaly_enabled``)."""
    return tensor.detecting_anomalies


def Variable(data: Any, requires_grad: bool = False, volatile: bool = False) -> Tensor:  # noqa: N802
    """PyTorch's old wrapper, now a tensor: ``data``'s values (shared when it is a tensor),
    requiring grad if asked, as ``torch.autograd.Variable(t, requires_grad=True)`` gives."""
    out = as_leaf(data._data) if isinstance(data, Tensor) else tensor.from_values(data)
    return out.requires_grad_(requires_grad) if requires_grad else out




def __getattr__(name: str) -> Any:
    # the modules of user ops, of Hessians, of graph hooks and of the profiler, imported when
    # first used (PEP 562): a program without them, as microgpt's command line, does not pay
    # for them at start-up
    if name in ("Function", "function", "functional", "graph", "profiler", "profiler_util"):
        import importlib

        module = importlib.import_module(f".{'function' if name == 'Function' else name}",
                                         __name__)
        return getattr(module, name) if name == "Function" else module
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

