"""torch.autograd's names: ``Function`` (a user's op, on tensors as PyTorch's), ``grad``
(gradients returned rather than added to ``.grad``), ``backward`` of several tensors at once,
and the grad modes."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from threading import get_ident
from typing import Any

import numpy as np

from .. import tensor
from ..grad_mode import enable_grad, inference_mode, no_grad, set_grad_enabled
from ..tensor import Context, Tensor, as_leaf, gradients, tapes

__all__ = ["Function", "Variable", "backward", "detect_anomaly", "enable_grad", "functional",
           "grad", "inference_mode", "no_grad", "set_detect_anomaly", "set_grad_enabled"]


class Function(tensor.Function):
    """A user's op with a hand-written backward, as ``torch.autograd.Function``: the same
    contract as ``tensorgrad.Function`` (on which the engine's own ops are written, in NumPy
    arrays), on tensors. ``forward(ctx, *args)`` receives tensors outside the graph (and other
    arguments as they are), runs under ``no_grad()`` and returns a tensor;
    ``backward(ctx, grad)`` receives the result's gradient as a tensor and returns one
    gradient (a tensor, an array or None) per argument of ``forward``. PyTorch's other form
    works too: ``forward(*args)`` without ``ctx``, and ``setup_context(ctx, inputs, output)``::

        class MyReLU(tensorgrad.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x.clamp(min=0)

            @staticmethod
            def backward(ctx, grad):
                (x,) = ctx.saved_tensors
                return grad * (x > 0)

        y = MyReLU.apply(tensorgrad.tensor([-1.0, 2.0], requires_grad=True))
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # what the subclass wrote, on tensors, wrapped into what the engine calls, on arrays
        # (and the backward, on tensors, also as the engine's recorded_backward: create_graph)
        written = {name: getattr(cls.__dict__[name], "__func__", cls.__dict__[name])
                   for name in ("forward", "backward") if name in cls.__dict__}
        for name, target, wrap in (("forward", "forward", _forward_on_tensors),
                                   ("backward", "backward", _backward_on_tensors),
                                   ("backward", "recorded_backward",
                                    _recorded_backward_on_tensors)):
            if name in written:
                setattr(cls, target, staticmethod(wrap(cls, written[name])))

    # (on tensors, any signature: the engine's own Function types them as arrays)
    @staticmethod
    def forward(*args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("a Function subclass defines forward()")

    @staticmethod
    def backward(*args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("a Function subclass defines backward()")

    @staticmethod
    def setup_context(ctx: Context, inputs: tuple[Any, ...], output: Any) -> None:
        """PyTorch's other form: what ``forward(*args)``, which then takes no ``ctx``, keeps."""
        raise NotImplementedError


def _forward_on_tensors(cls: type[Function], forward: Callable[..., Any]
                        ) -> Callable[..., Any]:
    def on_arrays(ctx: Context, *args: Any) -> Any:
        inputs = tuple(as_leaf(a) if isinstance(a, np.ndarray) else a for a in args)
        ident = get_ident()
        tape = tapes.pop(ident, None)  # (a capture records this op, not the ops inside it)
        try:
            with no_grad():
                if cls.setup_context is Function.setup_context:
                    out = forward(ctx, *inputs)
                else:
                    out = forward(*inputs)
                    cls.setup_context(ctx, inputs, out)
        finally:
            if tape is not None:
                tapes[ident] = tape
        # the engine keeps (and checks for in-place writes) arrays: tensors go back in backward
        saved = getattr(ctx, "saved_tensors", ())
        ctx.saved_tensors = tuple(x._data if isinstance(x, Tensor) else x for x in saved)
        ctx.__dict__["saved_as_tensors"] = tuple(isinstance(x, Tensor) for x in saved)
        return out._data if isinstance(out, Tensor) else out

    return on_arrays


def _backward_on_tensors(cls: type[Function], backward: Callable[..., Any]
                         ) -> Callable[..., Any]:
    def on_arrays(ctx: Context, grad: np.ndarray) -> Any:
        saved = ctx.saved_tensors
        ctx.saved_tensors = tuple(
            as_leaf(x) if as_tensor else x
            for x, as_tensor in zip(saved, ctx.__dict__.get("saved_as_tensors", ())))
        try:
            with no_grad():
                grads = backward(ctx, as_leaf(grad))
        finally:
            ctx.saved_tensors = saved
        if isinstance(grads, tuple):
            return tuple(g._data if isinstance(g, Tensor) else g for g in grads)
        return grads._data if isinstance(grads, Tensor) else grads

    return on_arrays


def _recorded_backward_on_tensors(cls: type[Function], backward: Callable[..., Any]
                                  ) -> Callable[..., Any]:
    """The subclass's backward, on tensors, run in a recorded pass (create_graph=True): its
    tensor ops are recorded, so its gradients have gradients, as PyTorch's. A tensor it saved
    is the input it was, in the graph; one that was not an input (the result, a value made in
    forward) would be a constant there, wrong for the gradient of the gradient: refused."""
    def on_tensors(ctx: Context, grad: Tensor) -> Any:
        saved = ctx.saved_tensors
        inputs = {id(a._data): a for a in ctx.inputs if isinstance(a, Tensor)}
        as_tensors = ctx.__dict__.get("saved_as_tensors", ())
        for x, as_tensor in zip(saved, as_tensors):
            if as_tensor and id(x) not in inputs:
                raise NotImplementedError(
                    f"{cls.__name__}: create_graph=True through a Function that saved a tensor "
                    "other than its inputs (its result, or one made in forward): tensorgrad "
                    "cannot put it in the graph; save the inputs and compute it in backward")
        ctx.saved_tensors = tuple(inputs[id(x)] if as_tensor else x
                                  for x, as_tensor in zip(saved, as_tensors))
        try:
            grads = backward(ctx, grad)
        finally:
            ctx.saved_tensors = saved
        grads = grads if isinstance(grads, tuple) else (grads,)
        return tuple(as_leaf(np.asarray(g)) if isinstance(g, np.ndarray) else g for g in grads)

    return on_tensors


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


from . import functional  # noqa: E402 (it uses grad above)

