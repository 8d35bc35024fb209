"""torch.autograd.graph's names: hooks on what ops save for backward (``saved_tensors_hooks``,
``save_on_cpu``, ``disable_saved_tensors_hooks``), one hook for the gradients of several
tensors (``register_multi_grad_hook``), and the graph's nodes (``Node``, ``GradientEdge``,
``get_gradient_edge``).

The engine's ops save NumPy arrays (``Context.save_for_backward``). Under
``saved_tensors_hooks`` an op that joins the graph hands each array it saves, as a tensor, to
the pack hook and keeps what that returns instead; ``backward()`` gives each kept object to
the unpack hook just before the op's backward runs and hands the op the tensor's array. As in
PyTorch, the hooks in effect when an op saves are the ones used, however late its backward.

Where it differs from PyTorch: which tensors an op saves is the engine's (a linear layer saves
its weight where PyTorch saves the weight transposed, say), and a saved result reaches the pack
hook as a new tensor of its values, not as the result itself; a ``Function``'s saved tensors
are unpacked once per backward, before it runs, where PyTorch unpacks at each read of
``ctx.saved_tensors``; after a ``backward(retain_graph=True)`` the op keeps the unpacked
arrays until its next backward. A captured step (``tensorgrad.capture``) refuses the hooks.
"""

from __future__ import annotations

import abc
import functools
import sys
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, cast

import numpy as np

from ..grad_mode import get_ident, is_grad_enabled, no_grad
from ..tensor import (
    _FREED,
    AccumulateGrad,
    Context,
    Function,
    RemovableHandle,
    Tensor,
    _Hook,
    _TensorHooks,
    as_leaf,
)

if TYPE_CHECKING:
    from .. import tensor as engine
else:  # the engine's module, whose globals the hooks switch on (by now ``tensorgrad.tensor``
    # is the name of a function)
    engine = sys.modules["tensorgrad.tensor"]

__all__ = ["GradientEdge", "Node", "disable_saved_tensors_hooks", "get_gradient_edge",
           "register_multi_grad_hook", "save_on_cpu", "saved_tensors_hooks"]


# ---- hooks on saved tensors ------------------------------------------------------------------


class saved_tensors_hooks:  # noqa: N801 (PyTorch's name)
    """For a block: each op that saves a tensor for backward hands it to ``pack_hook`` and
    keeps what that returns; in ``backward()`` the op gets ``unpack_hook(kept)``, a tensor
    of the same values, instead. Blocks nest: the innermost one's hooks are used, and those in
    effect when an op saves are the ones it uses. Both hooks run without recording a graph::

        def pack(x):
            return x.detach().numpy().copy()   # anything: here, an array of its own

        def unpack(kept):
            return tensorgrad.tensor(kept)

        with tensorgrad.autograd.graph.saved_tensors_hooks(pack, unpack):
            loss = (w * x).sum()
        loss.backward()                        # unpack is called for w and x
    """

    def __init__(self, pack_hook: Callable[[Tensor], Any],
                 unpack_hook: Callable[[Any], Tensor]) -> None:
        self.pack_hook, self.unpack_hook = pack_hook, unpack_hook

    def __enter__(self) -> None:
        ident = get_ident()
        message = _disabled.get(ident)
        if message is not None:
            raise RuntimeError(message)
        engine.saved_hooks.setdefault(ident, []).append(self)

    def __exit__(self, *exc: object) -> None:
        ident = get_ident()
        stack = engine.saved_hooks[ident]
        stack.pop()
        if not stack:  # (empty: save_for_backward's check is False again)
            del engine.saved_hooks[ident]

    def _pack_saved(self, ctx: Context, values: tuple[Any, ...]) -> tuple[Any, ...]:
        """What ``ctx.save_for_backward(*values)`` keeps: each array or tensor packed, when
        the op joins the graph (as PyTorch, which saves nothing for an op it does not
        record); the op's context then holds the ``_SavedPacked`` that unpacks them."""
        if not is_grad_enabled() or not any(isinstance(a, Tensor) and a._requires_grad
                                            for a in ctx.inputs):
            return values
        if engine.tapes and get_ident() in engine.tapes:
            from ..capture import CaptureError

            raise CaptureError("saved_tensors_hooks inside a captured function: its replays "
                               "would keep the arrays without calling the hooks; leave the "
                               "hooks' block, or do not capture the step")
        kept: list[Any] = []
        with no_grad():
            for value in values:
                given = _as_saved_tensor(ctx, value)
                kept.append(value if given is None else
                            _Packed(self.pack_hook(given), isinstance(value, Tensor)))
        if all(type(x) is not _Packed for x in kept):
            return values
        saved = tuple(kept)
        ctx.__dict__["packed"] = _SavedPacked(saved, self.unpack_hook)
        engine.hooks_registered = True  # backward() looks for "packed" from now on
        return saved


def _as_saved_tensor(ctx: Context, value: Any) -> Tensor | None:
    """The tensor the pack hook gets for a saved ``value`` (None: it is no tensor, and is
    kept as it is): the op's argument itself where ``value`` is its array, as PyTorch
    hands over the very input tensor it saves; else a tensor holding the array."""
    if isinstance(value, Tensor):
        data = value._data
    elif isinstance(value, np.ndarray) and value.dtype.kind in "biufc":
        data = value
    else:
        return None
    for a in ctx.inputs:
        if isinstance(a, Tensor) and a._data is data:
            return a
    return value if isinstance(value, Tensor) else as_leaf(value)


class _Packed:
    """What the pack hook returned for one saved value, and whether the op saved a tensor (a
    ``tensorgrad.autograd.Function``'s) rather than an array (the engine's own ops)."""

    __slots__ = ("kept", "was_tensor")

    def __init__(self, kept: Any, was_tensor: bool) -> None:
        self.kept, self.was_tensor = kept, was_tensor


class _SavedPacked:
    """An op's saved values, some packed, and the unpack hook in effect when it saved them:
    ``backward()`` calls ``unpack`` before the op's backward."""

    __slots__ = ("values", "unpack_hook")

    def __init__(self, values: tuple[Any, ...], unpack_hook: Callable[[Any], Tensor]) -> None:
        self.values, self.unpack_hook = values, unpack_hook

    def unpack(self, ctx: Context, retain: bool) -> None:
        """Put the unpacked values in ``ctx.saved_tensors`` for the backward about to run;
        unless ``retain``, let go of the packed ones (PyTorch frees them with the graph)."""
        if ctx.saved_tensors is _FREED:  # (its backward raises PyTorch's error)
            return
        with no_grad():
            ctx.saved_tensors = tuple(self._unpacked(x) if type(x) is _Packed else x
                                      for x in self.values)
        if not retain:
            del ctx.__dict__["packed"]

    def _unpacked(self, packed: _Packed) -> Any:
        out = self.unpack_hook(packed.kept)
        if not isinstance(out, Tensor):
            raise TypeError(f"Output of saved tensor unpack_hook expected to be a Tensor, got "
                            f"{type(out).__name__}")
        return out if packed.was_tensor else out._data


class save_on_cpu(saved_tensors_hooks):  # noqa: N801 (PyTorch's name)
    """For a block: ops keep a copy of each tensor they save, on the CPU (PyTorch's way to
    move activations off the GPU; tensorgrad computes on the CPU already, so only the copy is
    made, and gradients are the same). ``pin_memory`` is accepted and changes nothing::

        with tensorgrad.autograd.graph.save_on_cpu(pin_memory=True):
            loss = model(x).sum()
    """

    def __init__(self, pin_memory: bool = False, device_type: str = "cuda") -> None:
        super().__init__(_copied, _held)


def _copied(x: Tensor) -> Tensor:
    return as_leaf(x._data.copy())


def _held(x: Tensor) -> Tensor:
    return x


# Per thread: the message of the innermost disable_saved_tensors_hooks block (none: absent)
_disabled: dict[int, str] = {}


class disable_saved_tensors_hooks:  # noqa: N801 (PyTorch's name)
    """For a block (or each call of a decorated function): entering ``saved_tensors_hooks``
    raises RuntimeError with ``error_message``, as does entering this block while hooks are
    in effect; a feature that cannot work with them says so::

        with tensorgrad.autograd.graph.disable_saved_tensors_hooks("not with my hooks"):
            ...
    """

    def __init__(self, error_message: str) -> None:
        self.error_message = error_message
        self._previous: list[str | None] = []

    def __enter__(self) -> None:
        ident = get_ident()
        if engine.saved_hooks.get(ident):
            raise RuntimeError(self.error_message)
        self._previous.append(_disabled.get(ident))
        _disabled[ident] = self.error_message

    def __exit__(self, *exc: object) -> None:
        ident, previous = get_ident(), self._previous.pop()
        if previous is None:
            _disabled.pop(ident, None)
        else:
            _disabled[ident] = previous

    def __call__(self, function: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(function)
        def without_hooks(*args: Any, **kwargs: Any) -> Any:
            with disable_saved_tensors_hooks(self.error_message):
                return function(*args, **kwargs)
        return without_hooks


# ---- one hook for several tensors' gradients -------------------------------------------------


class _MultiHandle(RemovableHandle):
    """What ``register_multi_grad_hook`` returns: ``remove()`` takes its hook off every
    tensor (again: nothing); as a context manager, the hook is registered for its block."""

    def __init__(self, handles: Sequence[RemovableHandle]) -> None:
        self.handles = tuple(handles)

    def remove(self) -> None:
        for handle in self.handles:
            handle.remove()


def register_multi_grad_hook(tensors: Sequence[Tensor], fn: Callable[[Any], None], *,
                             mode: str = "all") -> _MultiHandle:
    """Call ``fn`` once per backward pass that reaches ``tensors``, as PyTorch's:

    - ``mode="all"``: once the gradients of all of ``tensors`` that the pass reaches are
      computed, with a list of them, one per tensor (None for a tensor the pass does not reach);
      every tensor must require grad.
    - ``mode="any"``: with the first of their gradients computed (a tensor), once a pass.

    ``fn`` returns None: the gradients go on as they are. (``autograd.grad`` of several
    outputs is one pass per output here, where PyTorch makes it one.) ``remove()`` on the
    handle ends it::

        a = tensorgrad.randn(2, requires_grad=True)
        b = tensorgrad.randn(2, requires_grad=True)
        handle = tensorgrad.autograd.graph.register_multi_grad_hook((a, b), print)
        (a * 2).sum().backward()   # prints [Tensor([2., 2.]), None]
    """
    if mode not in ("all", "any"):
        raise ValueError(f"Expects mode to be one of ('all', 'any') but got {mode}")
    tensors = tuple(tensors)
    engine.watching_passes = True  # each backward pass notes its root from now on
    lock = threading.Lock()
    if mode == "all":
        for t in tensors:
            if not t.requires_grad:
                raise AssertionError("register_multi_grad_hook(mode='all'): every tensor must "
                                     "require grad (PyTorch: Expected gradient function to be "
                                     "set)")
        waiting: dict[int, _Waiting] = {}  # by the number of the pass

        def hook_for(i: int) -> Callable[[Tensor], None]:
            def hook(grad: Tensor) -> None:
                number, root, wanted = _current_pass()
                with lock:
                    entry = waiting.get(number)
                    if entry is None:
                        entry = waiting[number] = _Waiting(_reached(tensors, root(), wanted),
                                                           len(tensors))
                    entry.grads[i] = grad
                    entry.count += 1
                    done = entry.count >= entry.expected
                    if done:
                        del waiting[number]
                if done:
                    fn(entry.grads)
            return hook

        return _MultiHandle([t.register_hook(hook_for(i)) for i, t in enumerate(tensors)])
    last: list[int] = []  # the pass that called fn last

    def first(grad: Tensor) -> None:
        number = _current_pass()[0]
        with lock:
            if last and last[0] == number:
                return
            last[:] = [number]
        fn(grad)

    return _MultiHandle([t.register_hook(first) for t in tensors if t.requires_grad])


class _Waiting:
    """One pass's gradients for a multi-grad hook of mode "all", as they come."""

    __slots__ = ("expected", "count", "grads")

    def __init__(self, expected: int, size: int) -> None:
        self.expected, self.count = expected, 0
        self.grads: list[Tensor | None] = [None] * size


def _current_pass() -> tuple[int, Callable[[], Tensor | None], set[Tensor] | None]:
    return engine.passes[get_ident()]


def _reached(tensors: Iterable[Tensor], root: Tensor | None, wanted: set[Tensor] | None
             ) -> int:
    """How many of ``tensors`` (each time it is listed) the pass from ``root`` gives a
    gradient: a result of an op the pass visits, or a leaf one of them took (and that
    ``wanted``, if given, holds)."""
    if root is None:
        return 0
    nodes: set[Context] = set()
    leaves = {id(root)} if root.grad_fn is None else set()
    stack = [] if root.grad_fn is None else [root.grad_fn]
    while stack:
        ctx = stack.pop()
        if ctx in nodes:
            continue
        nodes.add(ctx)
        for a in ctx.inputs:
            if isinstance(a, Tensor) and a._requires_grad:
                if a.grad_fn is None:
                    leaves.add(id(a))
                else:
                    stack.append(a.grad_fn)
    return sum(1 for t in tensors if (t.grad_fn in nodes if t.grad_fn is not None else
                                      id(t) in leaves and (wanted is None or t in wanted)))


# ---- the graph's nodes -----------------------------------------------------------------------


class Node(abc.ABC):
    """What a tensor's ``grad_fn`` is, as PyTorch's abstract class: every node of the graph
    (an op's context, and ``AccumulateGrad`` at a leaf) is an instance::

        y = tensorgrad.randn(3, requires_grad=True).exp()
        assert isinstance(y.grad_fn, tensorgrad.autograd.graph.Node)
        y.grad_fn.name(), y.grad_fn.next_functions, y.grad_fn.metadata

    ``register_prehook(hook)``: ``hook(grad_outputs)`` before the node's backward, a tuple
    it returns replacing the gradients; ``register_hook(hook)``: ``hook(grad_inputs,
    grad_outputs)`` after it, a tuple it returns replacing ``grad_inputs`` (one entry per
    tensor argument of the op, as ``next_functions``; None where it has no gradient).
    """

    @abc.abstractmethod
    def name(self) -> str:
        """The node's name."""

    @property
    @abc.abstractmethod
    def next_functions(self) -> tuple[tuple[Any, int], ...]:
        """The nodes its gradients go to, each with its output's number."""

    @property
    @abc.abstractmethod
    def metadata(self) -> dict[Any, Any]:
        """A dict the user may keep things in."""

    @abc.abstractmethod
    def register_hook(self, fn: Callable[..., Any]) -> Any:
        """Call ``fn(grad_inputs, grad_outputs)`` after the node's backward."""

    @abc.abstractmethod
    def register_prehook(self, fn: Callable[..., Any]) -> Any:
        """Call ``fn(grad_outputs)`` before the node's backward."""


Node.register(Context)
Node.register(AccumulateGrad)


class GradientEdge(NamedTuple):
    """Where a tensor's gradient enters the graph: its ``node`` and which of the node's
    outputs it is (``output_nr``)."""

    node: Any
    output_nr: int
    ownership_token: Any = None


def get_gradient_edge(tensor: Tensor) -> GradientEdge:
    """The ``GradientEdge`` of a tensor that requires grad: its ``grad_fn`` (for a leaf, the
    ``AccumulateGrad`` node that adds to its ``.grad``) and output 0 (a tensorgrad op has one
    result)::

        edge = tensorgrad.autograd.graph.get_gradient_edge(y)   # (y.grad_fn, 0)
    """
    if not tensor.requires_grad:
        raise RuntimeError("It is not possible to get the gradient edge for a Tensor that does "
                           "not require gradients")
    return GradientEdge(tensor.grad_fn if tensor.grad_fn is not None else AccumulateGrad(tensor),
                        0)


def register_node_prehook(ctx: Context, hook: Callable[[tuple[Any, ...]], Any]
                          ) -> RemovableHandle:
    """``Node.register_prehook`` for an op's context: a hook on its result's gradient, run
    with that tensor's hooks (``Tensor.register_hook``), in the order registered."""
    if engine.tapes and get_ident() in engine.tapes:
        raise RuntimeError("register_prehook() inside a captured function: its replays would "
                           "not call the hook; hooks and captured steps do not mix")

    hooks = ctx.__dict__.get("tensor_hooks")
    if hooks is None:
        hooks = ctx.__dict__["tensor_hooks"] = _TensorHooks()
    engine.hooks_registered = True
    entry = _Hook(_on_gradient(hook))
    hooks.hooks.append(entry)
    return RemovableHandle(hooks.hooks, entry)


def register_leaf_prehook(leaf: Tensor, hook: Callable[[tuple[Any, ...]], Any]
                          ) -> RemovableHandle:
    """``AccumulateGrad.register_prehook``: a hook on the leaf's gradient, run with its
    tensor hooks in the order registered (PyTorch runs those first)."""
    return leaf.register_hook(_on_gradient(hook))


def register_leaf_hook(leaf: Tensor, hook: Callable[[tuple[Any, ...], tuple[Any, ...]], Any]
                       ) -> RemovableHandle:
    """``AccumulateGrad.register_hook``: ``hook((), (gradient,))`` once the leaf's gradient is
    added to ``.grad``, the gradient as the leaf's hooks registered before left it."""
    seen: list[Tensor] = []

    def note(grad: Tensor) -> None:
        seen[:] = [grad]

    def after(_: Tensor) -> None:
        if seen:
            hook((), (seen.pop(),))

    handles = (leaf.register_hook(note), leaf.register_post_accumulate_grad_hook(after))
    return _MultiHandle(handles)


def _on_gradient(hook: Callable[[tuple[Any, ...]], Any]) -> Callable[[Tensor], Tensor | None]:
    """A pre-hook (on a tuple of gradients, returning one or None) as a tensor's hook."""
    @functools.wraps(hook)
    def on_gradient(grad: Tensor) -> Tensor | None:
        returned = hook((grad,))
        if returned is None:
            return None
        _check_count(hook, returned, 1)
        return cast(Tensor, returned[0])
    return on_gradient


def register_node_hook(ctx: Context, hook: Callable[[tuple[Any, ...], tuple[Any, ...]], Any]
                       ) -> RemovableHandle:
    """``Node.register_hook`` for an op's context: its op is swapped for a subclass of it
    (of the same name) whose backward calls the context's hooks after computing."""
    if engine.tapes and get_ident() in engine.tapes:
        raise RuntimeError("register_hook() on a node inside a captured function: its replays "
                           "would not call the hook; hooks and captured steps do not mix")
    hooks: list[_Hook] = ctx.__dict__.setdefault("node_hooks", [])
    if ctx.function not in _HOOKED.values():
        ctx.function = _with_node_hooks(ctx.function)
    entry = _Hook(cast(Callable[[Tensor], Any], hook))  # (called with two tuples)
    hooks.append(entry)
    return RemovableHandle(hooks, entry)


def _with_node_hooks(function: type[Function]) -> type[Function]:
    """``function`` whose backward then calls its context's ``node_hooks`` (made once)."""
    hooked = _HOOKED.get(function)
    if hooked is None:
        hooked = type(function.__name__, (function,), {"__module__": function.__module__,
                                                       "__qualname__": function.__qualname__})
        # (set once the class is made: a tensorgrad.autograd.Function's subclass would wrap
        # a backward in its namespace as one written on tensors)
        hooked.backward = staticmethod(  # type: ignore[method-assign]
            functools.partial(_backward_then_hooks, function))
        hooked.add_into = None  # (its backward runs, for the hooks)
        hooked.fresh_grads = False  # a hook's gradients may be the user's too
        _HOOKED[function] = hooked
    return hooked


# each op with node hooks, by the op: its subclass that calls them
_HOOKED: dict[type[Function], type[Function]] = {}


def _backward_then_hooks(function: type[Function], ctx: Context, grad: np.ndarray) -> Any:
    """The op's gradients, then its context's node hooks on them: ``grad_inputs`` has one
    entry per tensor argument, as ``next_functions`` (None where it gets no gradient)."""
    grads = function.backward(ctx, grad)
    grads = tuple(grads) if isinstance(grads, (tuple, list)) else (grads,)
    hooks = ctx.__dict__.get("node_hooks")
    if not hooks:
        return grads
    grads = (grads + (None,) * len(ctx.inputs))[:len(ctx.inputs)]
    places = [i for i, a in enumerate(ctx.inputs) if isinstance(a, Tensor)]
    outputs = (as_leaf(grad),)
    for entry in tuple(hooks):
        inputs = tuple(None if grads[i] is None or not ctx.inputs[i]._requires_grad
                       else as_leaf(np.asarray(grads[i])) for i in places)
        returned = entry.function(inputs, outputs)
        if returned is not None:
            _check_count(entry.function, returned, len(places))
            changed = list(grads)
            for i, g in zip(places, returned):
                changed[i] = g._data if isinstance(g, Tensor) else g
            grads = tuple(changed)
    return grads


def _check_count(hook: Callable[..., Any], returned: Any, expected: int) -> None:
    if not isinstance(returned, (tuple, list)) or len(returned) != expected:
        got = len(returned) if isinstance(returned, (tuple, list)) else type(returned).__name__
        name = getattr(hook, "__name__", repr(hook))
        raise RuntimeError(f"hook '{name}' has returned an incorrect number of values (got "
                           f"{got}, but expected {expected})")
