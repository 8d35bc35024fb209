"""torch.autograd.function's names: ``Function`` (a user's op written on tensors, with one
result or several), ``FunctionCtx`` and ``once_differentiable``.

The engine's ops (``tensorgrad.Function``) have one result, an array. A ``Function`` here
whose forward returns several tensors is still one op to the engine: its floating results
that may carry gradients (``_Results``) are laid end to end in one array, the op's result,
and each comes out as a slice of it, reshaped. So their gradients meet in one array,
zeros where a result got none, and backward receives them split again, one per result, as
PyTorch gives them (zeros, not None: its default, ``set_materialize_grads(True)``).
"""

from __future__ import annotations

import functools
import inspect
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from ..dtypes import get_default_dtype
from ..grad_mode import no_grad
from ..tensor import (
    Context,
    Tensor,
    as_leaf,
    can_record_in_place,
    note_in_place_write,
    packed,
    saved_hooks,
    tapes,
)
from ..tensor import Function as EngineFunction  # (tensorgrad.tensor is also a function's name)

__all__ = ["Function", "FunctionCtx", "once_differentiable"]

FunctionCtx = Context  # PyTorch's name for the ``ctx`` of a Function (for annotations)


class Function(EngineFunction):
    """A user's op with a hand-written backward, as ``torch.autograd.Function``: the same
    contract as ``tensorgrad.Function`` (on which the engine's own ops are written, in NumPy
    arrays), on tensors. ``forward(ctx, *args)`` receives tensors outside the graph (and other
    arguments as they are), runs under ``no_grad()`` and returns a tensor, or a tuple of
    results; ``backward(ctx, *grads)`` receives one gradient per result (a tensor; zeros for
    a result that got none or that ``ctx.mark_non_differentiable`` marked; None for a result
    that is not a tensor) and returns one gradient (a tensor, an array or None) per argument
    of ``forward``. PyTorch's other form works too: ``forward(*args)`` without ``ctx``, and
    ``setup_context(ctx, inputs, output)``::

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

    _written_forward: Callable[..., Any] | None = None  # forward as the subclass wrote it

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
        if "forward" in written:
            cls._written_forward = written["forward"]

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        """Run the op; its result (or the tuple of its results) is in the graph where an
        argument requires grad, as the engine's ops. Arguments given by name are bound to
        ``forward``'s parameters (defaults filled in), as PyTorch binds them."""
        if kwargs:
            args = _bound(cls, args, kwargs)
        pending = _pending_results()
        pending.append(None)  # forward fills it in if it returns more than one plain result
        try:
            out = super().apply(*args)
        finally:
            results = pending.pop()
        return out if results is None else results.unpacked(out, args)

    # (on tensors, any signature: the engine's own Function types them as arrays)
    @staticmethod
    def forward(*args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("a Function subclass defines forward()")

    @staticmethod
    def backward(*args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("You must implement either the backward or vjp method for "
                                  "your custom autograd.Function to use it with backward mode "
                                  "AD.")

    @staticmethod
    def setup_context(ctx: Context, inputs: tuple[Any, ...], output: Any) -> None:
        """PyTorch's other form: what ``forward(*args)``, which then takes no ``ctx``, keeps."""
        raise NotImplementedError


def _bound(cls: type[Function], args: tuple[Any, ...], kwargs: dict[str, Any]
           ) -> tuple[Any, ...]:
    """``forward``'s arguments, some given by name, in its order, as PyTorch passes them:
    up to the last one given (forward's defaults fill in the rest); none skipped before it."""
    forward = cls._written_forward
    if forward is None:
        raise NotImplementedError("a Function subclass defines forward()")
    names = list(inspect.signature(forward).parameters)
    names = names[1:] if cls.setup_context is Function.setup_context else names  # (ctx)
    unknown = [name for name in kwargs if name not in names[len(args):]]
    if unknown:
        raise TypeError(f"forward() got an unexpected keyword argument '{unknown[0]}'")
    last = max(names.index(name) for name in kwargs)
    given = list(args)
    for position in range(len(args), last + 1):
        if names[position] not in kwargs:
            raise TypeError(f"forward() missing required argument: '{names[position]}' "
                            f"(position {position})")
        given.append(kwargs[names[position]])
    return tuple(given)


def once_differentiable(backward: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a Function's backward as one that cannot itself be differentiated (it computes
    outside the graph, in NumPy, say): as PyTorch's, ``create_graph=True`` through it still
    gives the gradients, but differentiating them raises RuntimeError::

        class Clip(tensorgrad.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x.clamp(-1, 1)

            @staticmethod
            @once_differentiable
            def backward(ctx, grad):
                return grad
    """
    @functools.wraps(backward)
    def outside_the_graph(ctx: Context, *grads: Any) -> Any:
        with no_grad():
            return backward(ctx, *grads)
    outside_the_graph.once_differentiable = True  # type: ignore[attr-defined]
    return outside_the_graph


class _Twice(EngineFunction):
    """A gradient from a once-differentiable backward, in the graph: itself forward, and an
    error backward (its other arguments only tie it to what it depends on)."""

    @staticmethod
    def forward(ctx: Context, gradient: np.ndarray, *depends_on: Any) -> np.ndarray:
        return gradient

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> Any:
        raise RuntimeError("trying to differentiate twice a function that was marked with "
                           "@once_differentiable")


# ---- several results in one array ------------------------------------------------------------


_local = threading.local()


def _pending_results() -> list[_Results | None]:
    """The Functions being applied on this thread, innermost last: what each one's forward
    returned, when it is not one plain tensor."""
    try:
        return _local.pending
    except AttributeError:
        _local.pending = []
        return _local.pending


class _Results:
    """What a forward returned (a tuple, or one result it marked) and where each result that
    carries gradients sits in the op's one array (``packed``): those that are floating
    tensors, not marked non-differentiable. The rest come out as they are, outside the graph.
    ``dirty`` are the places, among the op's arguments, of the inputs it wrote in place."""

    def __init__(self, ctx: Context, returned: Any, inputs: tuple[Any, ...]) -> None:
        marked = ctx.__dict__.get("non_differentiable", set())
        written = ctx.__dict__.get("dirty", set())
        self.ctx = ctx
        # (a list is one result that is no tensor, as in PyTorch: its tensors are not results)
        self.single = not isinstance(returned, tuple)
        self.returned: tuple[Any, ...] = (returned,) if self.single else returned
        self.dirty = {i: x for i, x in enumerate(inputs) if id(x) in written}
        if any(not any(x is y for y in self.returned) for x in self.dirty.values()):
            raise RuntimeError("Some elements marked as dirty during the forward method were "
                               "not returned as output. The inputs that are modified inplace "
                               "must all be outputs of the Function.")
        for x in self.dirty.values():  # (now: before the op's own sequence number)
            note_in_place_write(x._data)
        self.places: list[tuple[int, int] | None] = []
        carried = [x for x in self.returned if isinstance(x, Tensor) and
                   x._data.dtype.kind == "f" and id(x) not in marked]
        dtype = np.result_type(*[x._data for x in carried]) if carried else get_default_dtype()
        start = 0
        for x in self.returned:
            if any(x is y for y in carried):
                self.places.append((start, start + x._data.size))
                start += x._data.size
            else:
                self.places.append(None)
        if len(carried) == 1 and self.single:  # (one result, marked dirty: itself)
            self.packed = carried[0]._data
        else:
            self.packed = np.concatenate([x._data.ravel() for x in carried]).astype(dtype) \
                if carried else np.empty(0, dtype)

    def unpacked(self, out: Tensor, args: tuple[Any, ...]) -> Any:
        """The results, each carrying one a slice of the op's result ``out``, in the graph;
        an input written in place is the argument itself, made that result."""
        results = []
        for x, place in zip(self.returned, self.places):
            if place is None:
                result = as_leaf(x._data) if isinstance(x, Tensor) else x
            elif self.single:
                result = out
            else:
                piece = out[place[0]:place[1]].view(x.shape)
                result = piece if piece.dtype == x.dtype else piece.to(x.dtype)
            for i, y in self.dirty.items():
                if x is y:
                    result = _rebased(args[i], result, self.ctx)
            results.append(result)
        return results[0] if self.single else tuple(results)

    def gradients(self, grad: Any, zeros: Callable[[Tensor], Any]) -> list[Any]:
        """The op's gradient (an array or a tensor, of ``packed``'s shape) split into one
        per result: its slice for a result that carries gradients, ``zeros(result)`` for a
        tensor that does not, None for anything else."""
        grads = []
        for x, place in zip(self.returned, self.places):
            if place is None:
                grads.append(zeros(x) if isinstance(x, Tensor) else None)
            elif self.single:
                grads.append(grad)
            else:
                piece = grad[place[0]:place[1]].reshape(x.shape)
                grads.append(piece if piece.dtype == x.dtype else _cast(piece, x.dtype))
        return grads


def _rebased(a: Tensor, result: Tensor, ctx: Context) -> Tensor:
    """The argument ``a``, which the op wrote in place, made its ``result`` (PyTorch's
    ``mark_dirty``): the op's node takes ``a`` as it was, a stand-in with its history."""
    if not result._requires_grad:  # outside the graph: a plain write, done already
        return a
    if a._requires_grad and a.grad_fn is None:
        raise RuntimeError("a leaf Variable that requires grad has been used in an in-place "
                           "operation.")
    if not can_record_in_place(a):
        raise RuntimeError("a Function that writes in place (mark_dirty) into a view of another "
                           "tensor that requires grad: PyTorch also rewrites that tensor's "
                           "history, tensorgrad does not; write into a tensor of its own")
    if a._requires_grad:  # the op's node takes a as it was
        old = as_leaf(a._data, True)
        old.grad_fn = a.grad_fn
        ctx.inputs = tuple(old if x is a else x for x in ctx.inputs)
    a.grad_fn, a._requires_grad = result.grad_fn, True
    return a


def _cast(gradient: Any, dtype: np.dtype) -> Any:
    return gradient.to(dtype) if isinstance(gradient, Tensor) else gradient.astype(dtype)


# ---- the wrappers: the subclass's methods, on tensors, as the engine calls them, on arrays ----


def _forward_on_tensors(cls: type[Function], forward: Callable[..., Any]
                        ) -> Callable[..., Any]:
    def on_arrays(ctx: Context, *args: Any) -> Any:
        inputs = tuple(as_leaf(a) if isinstance(a, np.ndarray) else a for a in args)
        ident = threading.get_ident()
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
        if saved_hooks and "packed" not in ctx.__dict__:  # (forward ran under no_grad: the
            saved = packed(ctx, saved)                    # hooks see the caller's grad mode)
        ctx.saved_tensors = tuple(x._data if isinstance(x, Tensor) else x for x in saved)
        ctx.__dict__["saved_as_tensors"] = tuple(isinstance(x, Tensor) for x in saved)
        if isinstance(out, (tuple, list)) or "non_differentiable" in ctx.__dict__ or \
                "dirty" in ctx.__dict__:
            results = ctx.__dict__["results"] = _Results(ctx, out, inputs)
            pending = _pending_results()
            if pending:  # (apply put a place there; the engine's own apply may not have)
                pending[-1] = results
            return results.packed
        return out._data if isinstance(out, Tensor) else out

    return on_arrays


def _backward_on_tensors(cls: type[Function], backward: Callable[..., Any]
                         ) -> Callable[..., Any]:
    def on_arrays(ctx: Context, grad: np.ndarray) -> Any:
        saved = ctx.saved_tensors
        ctx.saved_tensors = tuple(
            as_leaf(x) if as_tensor else x
            for x, as_tensor in zip(saved, ctx.__dict__.get("saved_as_tensors", ())))
        results = ctx.__dict__.get("results")
        grads = [as_leaf(grad)] if results is None else [
            as_leaf(g) if isinstance(g, np.ndarray) else g
            for g in results.gradients(grad, lambda x: np.zeros_like(x._data))]
        try:
            with no_grad():
                found = backward(ctx, *grads)
        finally:
            ctx.saved_tensors = saved
        found = tuple(found) if isinstance(found, (tuple, list)) else (found,)
        for i, (g, a) in enumerate(zip(found, ctx.inputs)):
            if g is not None and not isinstance(a, Tensor):
                raise RuntimeError(f"function {cls.__name__}Backward returned a gradient "
                                   f"different than None at position {i + 1}, but the "
                                   "corresponding forward input was not a Variable")
        return tuple(g._data if isinstance(g, Tensor) else g for g in found)

    return on_arrays


def _recorded_backward_on_tensors(cls: type[Function], backward: Callable[..., Any]
                                  ) -> Callable[..., Any]:
    """The subclass's backward, on tensors, run in a recorded pass (create_graph=True): its
    tensor ops are recorded, so its gradients have gradients, as PyTorch's. A tensor it saved
    is the input it was, in the graph; a floating one that was not an input (the result, a
    value made in forward) would be a constant there, wrong for the gradient of the gradient:
    refused. (Integers and booleans, indices and masks, are constants anyway.)"""
    def on_tensors(ctx: Context, grad: Tensor) -> Any:
        saved = ctx.saved_tensors
        inputs = {id(a._data): a for a in ctx.inputs if isinstance(a, Tensor)}
        as_tensors = ctx.__dict__.get("saved_as_tensors", ())
        once = getattr(backward, "once_differentiable", False)
        for x, as_tensor in zip(saved, as_tensors):
            if as_tensor and id(x) not in inputs and x.dtype.kind == "f" and not once:
                raise NotImplementedError(
                    f"{cls.__name__}: create_graph=True through a Function that saved a tensor "
                    "other than its inputs (its result, or one made in forward): tensorgrad "
                    "cannot put it in the graph; save the inputs and compute it in backward")
        ctx.saved_tensors = tuple(inputs.get(id(x), as_leaf(x)) if as_tensor else x
                                  for x, as_tensor in zip(saved, as_tensors))
        results = ctx.__dict__.get("results")
        grads = [grad] if results is None else results.gradients(
            grad, lambda x: as_leaf(np.zeros_like(x._data)))
        try:
            found = backward(ctx, *grads)
        finally:
            ctx.saved_tensors = saved
        found = found if isinstance(found, tuple) else (found,)
        found = tuple(as_leaf(np.asarray(g)) if isinstance(g, np.ndarray) else g for g in found)
        if once:  # in the graph, but differentiating them again raises
            depends_on = [a for a in (grad, *ctx.inputs) if isinstance(a, Tensor)]
            found = tuple(g if g is None else _Twice.apply(g, *depends_on) for g in found)
        return found

    return on_tensors
