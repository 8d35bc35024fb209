"""The vectorized engine: a ``Tensor`` is a NumPy array that remembers how it was computed.

Every op is a ``Function``: a static ``forward(ctx, *arrays)`` that computes the result
from NumPy arrays and keeps on ``ctx`` what the backward pass needs, and right below it
a static ``backward(ctx, grad)`` that maps the gradient of the result to one gradient per
input (None where none is needed). ``MyOp.apply(*tensors)`` runs the forward and, when
an input requires grad and grad mode is on, records ``ctx`` as the result's ``grad_fn``.
The built-in ops (``ops.py``, ``functional.py``) are written exactly as a user's op is.

``backward()`` visits the recorded ops newest first. Each op gets a sequence number when
it runs, after its inputs' ops, so popping the highest number from a heap is a
topological order with no separate sort (PyTorch's engine orders its work the same way).
"""

from __future__ import annotations

import functools
import heapq
import itertools
import math
import numbers
import operator
import warnings
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

import numpy as np

from . import devices, dtypes, random
from .devices import CPU, check_device
from .grad_mode import disabled_threads, get_ident, is_grad_enabled
from .random import Generator, rng
from .size import Size, as_size

_next_sequence = itertools.count().__next__
# thread -> the (ctx, result) of every op applied while capturing (capture.py appends)
tapes: dict[int, list[tuple[Context, Tensor]]] = {}
# thread -> the contexts whose op added its gradient into a sum in place (Function.add_into)
# in a backward() that a capture is recording: its replay adds the same way (capture.py)
added_into_logs: dict[int, set[Context]] = {}
_new = object.__new__  # a Tensor or Context without __init__'s call (speed: "Function.apply")
# Arrays that a tensor op wrote in place (x += y, x[i] = v, zero_(), ...), by the id of the
# array that owns their memory, with the sequence number of the write. backward() refuses an op
# whose saved arrays were written after it ran, as PyTorch's version counters do; an entry
# goes when its array does, so a reused id never matches.
in_place_writes: dict[int, int] = {}
# The newest sequence number in in_place_writes: an op newer than it saw every write already,
# and its backward needs no check (speed: benchmarks/SPEED.md, "In-place writes after a step").
_newest_write = -1
# The tensors an in-place op of the graph rewrote (``_rebase``), each with its versions as they
# were before each write: (the sequence number the write came after, that version, the part of
# the tensor's array written). An op that used a tensor before a write sends its gradient to
# the version it saw, as PyTorch's do.
# By the tensor's id; an entry goes when its tensor does.
_versions: dict[int, list[tuple[int, Tensor, np.ndarray]]] = {}
# Arrays that numpy() gave out, sharing a tensor's memory, by the id of the array that owns it
# (see _hand_out): the user may write through one for as long as it lives, unseen by the ops.
handed_out: dict[int, list[_HandOut]] = {}
_DIFFERENTIABLE = "fc"  # dtype kinds that can carry gradients: floating (and complex)
_FLOAT64, _FLOAT32 = np.dtype(np.float64), np.dtype(np.float32)
_PUBLIC_DTYPES = dtypes.BY_NUMPY  # (filled as NumPy dtypes meet their tensorgrad ones)
# PyTorch computes NaN and the infinities without a word (log(0), x / 0, inf - inf, exp(1000)),
# where NumPy warns. The ops whose arithmetic can meet them run under ``quiet``, a decorator on
# their forward (it costs a few thousand instructions a call, so it is not on ops that cannot
# warn), and backward() runs whole under it. NumPy's global state (np.seterr) is left alone:
# the user's own NumPy still warns. A block takes ``with np.errstate(all="ignore")``.
_Wrapped = TypeVar("_Wrapped", bound=Callable[..., Any])
try:  # speed: NumPy's context variable set to one ready-made state and reset, half the cost
    # of np.errstate's decorator, which builds the state anew each call
    from numpy._core._ufunc_config import _extobj_contextvar as _np_state  # type: ignore[attr-defined]
    with np.errstate(all="ignore"):
        _IGNORE_ALL = _np_state.get()
except ImportError:  # (a NumPy without it: its public errstate, to the same effect)
    _np_state = None


def quiet(function: _Wrapped) -> _Wrapped:
    """``function`` run with NumPy's floating-point errors ignored, as under np.errstate."""
    if _np_state is None:
        return np.errstate(all="ignore")(function)
    set_state, reset_state = _np_state.set, _np_state.reset

    @functools.wraps(function)
    def run(*args: Any, **kwargs: Any) -> Any:
        token = set_state(_IGNORE_ALL)
        try:
            return function(*args, **kwargs)
        finally:
            reset_state(token)
    return run  # type: ignore[return-value]


_warned_float = False  # float() of a tensor that requires grad warns once a process (__float__)
# autograd's anomaly mode (autograd.set_detect_anomaly): backward() checks every gradient an
# op's backward returns, and names the op that first gave NaN
detecting_anomalies = False
# A profiler's hook while it records (autograd/profiler.py): backward() calls it with each op's
# context as it reaches the op and with None when the pass ends, which times each op's
# backward; None otherwise, one check an op
profiling_backward: Callable[[Context | None], None] | None = None


_FREED_MESSAGE = (
    "Trying to backward through the graph a second time, or to read saved_tensors after "
    "backward() let them go: backward() frees the arrays an op saved once it has used them; "
    "pass retain_graph=True to the first backward() to keep them")


class _Freed(tuple):
    """An op's saved values once ``backward()`` has used and let go of them: reading them
    raises, as PyTorch's freed saved tensors do."""

    __slots__ = ()

    def _refuse(self, *args: Any) -> Any:
        raise RuntimeError(_FREED_MESSAGE)

    __iter__ = __getitem__ = __len__ = _refuse

    def __repr__(self) -> str:
        return "<freed by backward()>"


_FREED = _Freed()


class Context:
    """What an op keeps between its forward and its backward; also its node in the graph.

    The result of a recorded op has it as ``grad_fn``: ``function`` is the op's class and
    ``inputs`` the arguments it was applied to (once a ``backward()`` without
    ``retain_graph`` has passed, the results of ops among them are stand-ins that keep their
    shape, dtype and ``grad_fn`` but not their values). In ``forward`` an op keeps the arrays its
    backward needs with ``save_for_backward(...)`` and reads them back in ``backward`` as
    ``saved_tensors``; constants that are not arrays (a dim, a shape, a dtype) may be kept
    as attributes of ``ctx`` instead (``ctx.dim = dim``), as PyTorch allows. ``backward``
    reads nothing else of the forward: not ``inputs``, which a replay (``capture``) changes.
    ``recorded_backward`` (``create_graph=True``, never in a captured step) computes from
    ``inputs``, as tensors in the graph.
    """

    __slots__ = ("function", "inputs", "saved_tensors", "_sequence", "stand_in", "__dict__")
    function: type[Function]
    inputs: tuple[Any, ...]
    saved_tensors: tuple[Any, ...]
    _sequence: int  # when it ran: backward() visits the newest first
    stand_in: Tensor | None  # its result's place in the graph once backward() let go of it

    def save_for_backward(self, *values: Any) -> None:
        """Keep arrays (or anything) for ``backward``, where ``saved_tensors`` returns them."""
        if saved_hooks:  # saved_tensors_hooks are in effect on some thread (autograd.graph)
            values = packed(self, values)
        self.saved_tensors = values

    @property
    def needs_input_grad(self) -> tuple[bool, ...]:
        """For each argument of ``forward``: does its gradient reach a tensor that requires it?"""
        return tuple(isinstance(a, Tensor) and a._requires_grad for a in self.inputs)

    def set_materialize_grads(self, value: bool) -> None:
        """PyTorch's switch for the results that got no gradient (None, or zeros as it does
        by default): here backward always gets zeros for them (a ``Function`` of several
        results keeps their gradients in one array), which code written for None handles."""
        self.materialize_grads = value

    def mark_non_differentiable(self, *results: Any) -> None:
        """In a ``tensorgrad.autograd.Function``'s forward: these results (indices, masks) are
        no part of the graph, as in PyTorch; backward still gets a gradient for each, zeros."""
        self.__dict__.setdefault("non_differentiable", set()).update(id(x) for x in results)

    def mark_dirty(self, *inputs: Any) -> None:
        """In a ``tensorgrad.autograd.Function``'s forward: these inputs were written in
        place, and are returned. As in PyTorch, each comes out as itself, now the op's result
        in the graph, and what saved its old values refuses backward."""
        self.__dict__.setdefault("dirty", set()).update(id(x) for x in inputs)

    @property
    def next_functions(self) -> tuple[tuple[Any, int], ...]:
        """PyTorch's links back through the graph, one per tensor argument of ``forward``:
        ``(its grad_fn, 0)`` for a result of an op, ``(AccumulateGrad, 0)`` holding a leaf
        that requires grad (``.variable``), ``(None, 0)`` for a tensor that requires none."""
        return tuple((None if not a._requires_grad else a.grad_fn if a.grad_fn is not None
                      else AccumulateGrad(a), 0) for a in self.inputs if isinstance(a, Tensor))

    def name(self) -> str:
        return self.function.__name__

    @property
    def metadata(self) -> dict[Any, Any]:
        """A dict of the user's own, kept on the node (PyTorch's ``Node.metadata``)."""
        return self.__dict__.setdefault("metadata", {})

    def register_prehook(self, hook: Callable[[tuple[Any, ...]], Any]) -> RemovableHandle:
        """Call ``hook(grad_outputs)`` before this node's backward; a tuple it returns
        replaces the gradients (see ``tensorgrad.autograd.graph.Node``)."""
        from .autograd.graph import register_node_prehook

        return register_node_prehook(self, hook)

    def register_hook(self, hook: Callable[[tuple[Any, ...], tuple[Any, ...]], Any]
                      ) -> RemovableHandle:
        """Call ``hook(grad_inputs, grad_outputs)`` after this node's backward; a tuple it
        returns replaces ``grad_inputs`` (see ``tensorgrad.autograd.graph.Node``)."""
        from .autograd.graph import register_node_hook

        return register_node_hook(self, hook)

    def __repr__(self) -> str:
        return f"<{self.function.__name__}>"


class AccumulateGrad:
    """Where ``next_functions`` ends, at a leaf that requires grad, as PyTorch's node of that
    name: ``variable`` is the leaf, whose ``.grad`` the gradient is added to. One per leaf
    for as long as one is held (as PyTorch's, which the leaf holds weakly)."""

    next_functions: tuple[tuple[Any, int], ...] = ()
    variable: Tensor

    def __new__(cls, variable: Tensor) -> AccumulateGrad:
        node = _accumulators.get(id(variable))  # (it holds the leaf: the id is the leaf's)
        if node is None:
            node = _accumulators[id(variable)] = object.__new__(cls)
            node.variable = variable
        return node

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"

    @property
    def metadata(self) -> dict[Any, Any]:
        """A dict of the user's own, kept on the node (PyTorch's ``Node.metadata``)."""
        return self.__dict__.setdefault("metadata", {})

    def register_prehook(self, hook: Callable[[tuple[Any, ...]], Any]) -> RemovableHandle:
        """Call ``hook(grad_outputs)`` before the gradient is added to ``.grad``; a tuple it
        returns replaces it."""
        from .autograd.graph import register_leaf_prehook

        return register_leaf_prehook(self.variable, hook)

    def register_hook(self, hook: Callable[[tuple[Any, ...], tuple[Any, ...]], Any]
                      ) -> RemovableHandle:
        """Call ``hook((), grad_outputs)`` once the gradient was added to ``.grad``."""
        from .autograd.graph import register_leaf_hook

        return register_leaf_hook(self.variable, hook)

    def __repr__(self) -> str:
        return "<AccumulateGrad>"


_accumulators: weakref.WeakValueDictionary[int, AccumulateGrad] = weakref.WeakValueDictionary()


class Function:
    """An op with a hand-written backward; subclass it, as ``torch.autograd.Function``.

    ``forward(ctx, *args)`` receives each ``Tensor`` argument as its NumPy array (other
    arguments as they are) and returns one ndarray of numbers or booleans (or a number;
    anything else raises TypeError). ``backward(ctx, grad)`` receives the
    gradient of that result and returns one gradient per argument of ``forward`` (each of
    its argument's shape), or None where there is none. Neither may change an array it is
    given: arrays flow to several places. ``ctx`` is a ``Context``: see there what an op
    keeps on it. For example::

        class Square(Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x * x

            @staticmethod
            def backward(ctx, grad):
                (x,) = ctx.saved_tensors
                return 2 * x * grad

        y = Square.apply(Tensor([1.0, 2.0], requires_grad=True))

    For gradients of gradients (``create_graph=True``), an op also has a static
    ``recorded_backward(ctx, grad)``: the same gradients computed by tensor ops from the op's
    inputs as tensors (``ctx.inputs``), ``grad`` a tensor; see ``higher_order``.
    """

    @staticmethod
    def forward(ctx: Context, *args: Any) -> np.ndarray:
        raise NotImplementedError(f"{ctx.function.__name__} defines no forward()")

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> Any:
        raise NotImplementedError(f"{ctx.function.__name__} defines no backward()")

    # speed, for the engine's own ops (benchmarks/SPEED.md, "Round five"): ``add_into(ctx,
    # grad, total)`` adds the first argument's gradient into ``total``, an array of its shape
    # that backward() owns, in place, and returns True (False: backward is needed after
    # all); ``fresh_grads``: backward returns new arrays, which no one else holds.
    add_into: Callable[[Context, np.ndarray, np.ndarray], bool] | None = None
    fresh_grads = False
    # ``views``: the op's result may be a view of its first input's memory (a reshape, a
    # permutation, a basic index, ...), whose values an in-place write to that input changes
    views = False

    @classmethod
    def apply(cls, *args: Any) -> Tensor:
        """Run the op on tensors (or other values) and record it when gradients are needed."""
        ctx = _new(Context)
        ctx.function, ctx.inputs, ctx.stand_in = cls, args, None
        # speed: one and two arguments without a comprehension (benchmarks/SPEED.md,
        # "Function.apply")
        if len(args) == 1:
            (a,) = args
            data = cls.forward(ctx, a._data if isinstance(a, Tensor) else a)
        elif len(args) == 2:
            a, b = args
            data = cls.forward(ctx, a._data if isinstance(a, Tensor) else a,
                               b._data if isinstance(b, Tensor) else b)
        else:
            data = cls.forward(ctx, *[a._data if isinstance(a, Tensor) else a for a in args])
        if type(data) is not np.ndarray:
            data = _result_array(cls, data)
        dtype = data.dtype
        # speed: the usual dtypes by identity, not by kind (benchmarks/SPEED.md, "Function.apply")
        floating = dtype is _FLOAT64 or dtype is _FLOAT32 or _result_is_floating(cls, dtype, args)
        out = _new(Tensor)
        out._data, out._grad = data, None
        if tapes:  # a capture is recording (see capture.py)
            _record(ctx, out)
        # is_grad_enabled(), inlined for speed (benchmarks/SPEED.md, "Function.apply")
        if floating and (not disabled_threads or get_ident() not in disabled_threads):
            for a in args:
                if isinstance(a, Tensor) and a._requires_grad:  # then the result joins the graph
                    ctx._sequence = _next_sequence()
                    if handed_out:  # an array numpy() gave out is alive: see _hand_out
                        _renew_hand_outs(ctx)
                    out.grad_fn, out._requires_grad = ctx, True
                    return out
        out.grad_fn, out._requires_grad = None, False
        return out


def _result_is_floating(function: type[Function], dtype: np.dtype, args: tuple) -> bool:
    """Whether ``function.forward``'s result of ``dtype`` can carry gradients; TypeError if a
    Tensor cannot hold it (strings, objects, complex numbers, ...). Objects come out of
    objects: ``gradcheck`` runs ops on arrays of ``Value``s."""
    if dtype.kind == "O" and any(isinstance(a, Tensor) and a._data.dtype.kind == "O"
                                 for a in args):
        return False
    if dtype.kind not in "biuf":
        raise TypeError(f"{function.__name__}.forward returned {dtype} data: a Tensor holds "
                        "numbers or booleans")
    return dtype.kind == "f"


def _result_array(function: type[Function], result: Any) -> np.ndarray:
    """What ``function.forward`` returned, other than an ndarray, as one: a number or a
    tensor's array. None or a collection (a tuple, a list, ...) is not one result: TypeError."""
    if isinstance(result, Tensor):
        return result._data
    if result is None or isinstance(result, (tuple, list, dict, set)):
        raise TypeError(f"{function.__name__}.forward returned a {type(result).__name__}: it "
                        "returns one array (or a number)")
    return np.asarray(result)


def _record(ctx: Context, out: Tensor) -> None:
    tape = tapes.get(get_ident())
    if tape is not None:
        tape.append((ctx, out))


def _python_integers(array: np.ndarray) -> np.ndarray:
    """``array`` of Python numbers as PyTorch reads them: integers are int64, so one beyond
    its range is an overflow (NumPy made uint64 or objects of them), unless a float among
    them makes them all floating."""
    if array.dtype.kind == "O":
        numbers = array.ravel().tolist()
        if not all(isinstance(n, (int, float)) for n in numbers):
            return array
        if any(isinstance(n, float) for n in numbers):
            return array.astype(np.float64)
    elif not array.size or array.max() <= np.iinfo(np.int64).max:  # (NumPy's own uint64s)
        return array
    raise ValueError("Overflow when unpacking long long: an integer beyond int64's range")


def tensor_of(x: Any) -> Tensor:
    """``x`` if it is a tensor, else a tensor of it (a number, a list, an array): what the
    ``torch.*`` functions take as their tensor arguments."""
    return x if isinstance(x, Tensor) else from_values(x)


def from_values(data: Any, requires_grad: bool = False, dtype: Any = None) -> Tensor:
    """A new leaf holding a copy of ``data``'s values: ``Tensor(data)``, except that an int
    is a value, not a size (``torch.tensor``'s reading, where ``Tensor(3)`` is a shape)."""
    out = _new(Tensor)
    out._hold(data, requires_grad, dtype)
    return out


def as_leaf(data: np.ndarray, requires_grad: bool = False) -> Tensor:
    """A tensor holding ``data`` itself (no copy), with no history."""
    out = _new(Tensor)
    out._data, out._grad, out.grad_fn, out._requires_grad = data, None, None, requires_grad
    return out


# ---- backward(): seed, propagate in topological order, accumulate into the leaves ----------


def _seed(root: Tensor, gradient: Any, wanted: set[Tensor] | None = None) -> np.ndarray:
    """The gradient that starts the pass: 1 for a one-element result, else the caller's
    (``wanted``: the leaves ``backward(inputs=...)`` limits it to)."""
    if watching_passes:  # a multi-grad hook asks which tensors this pass reaches
        passes[get_ident()] = (next(_pass_numbers), weakref.ref(root), wanted)
    if not root.requires_grad:
        raise RuntimeError("backward() on a tensor that does not require grad (it has no "
                           "graph: no input required grad, or it was computed under no_grad)")
    if gradient is None:
        if root._data.size != 1:
            raise RuntimeError(f"backward() needs a gradient argument for a result of shape "
                               f"{root._data.shape}; only a one-element result has an implicit one")
        return np.ones(root._data.shape, root._data.dtype)
    gradient = np.asarray(gradient._data if isinstance(gradient, Tensor) else gradient)
    if gradient.shape != root._data.shape:
        raise RuntimeError(f"backward(): a gradient of shape {gradient.shape} for a result of "
                           f"shape {root._data.shape}")
    return gradient.astype(root._data.dtype, copy=False)


@quiet  # every op's backward at once: PyTorch's backward emits no floating-point warnings
def _propagate(root: Tensor, gradient: np.ndarray, retain: bool = False
               ) -> dict[Tensor, np.ndarray]:
    """Run every recorded backward once, newest op first; return the leaves' summed gradients.

    An op's gradient is complete when it is popped: every op that used its result is newer
    and was visited already. Until then its incoming gradients are summed in ``pending``.
    Unless ``retain``, each op's saved arrays are let go once its backward has run, and its
    inputs that are results of ops become stand-ins (``_let_go_of_inputs``).
    """
    global _let_go_last
    leaves: dict[Tensor, np.ndarray] = {}
    if root.grad_fn is None:
        leaves[root] = gradient
        return leaves
    let_go: list[tuple[Any, ...]] = []
    if not retain:
        # speed: what the last pass let go of is freed now, as this step's arrays are made,
        # and glibc's malloc reuses its memory for them; freed during that pass, at the top
        # of the heap, it went back to the system, to be faulted in again (benchmarks/
        # SPEED.md, "Round seven")
        _let_go_last = let_go
    pending = {root.grad_fn: gradient}
    queue = [(-root.grad_fn._sequence, root.grad_fn)]
    # The sums made here, which nothing else holds (by id; the array kept, so that the id is
    # not another's): later gradients are added into them in place.
    owned: dict[int, np.ndarray] = {}
    while queue:
        fn = heapq.heappop(queue)[1]
        if profiling_backward:
            profiling_backward(fn)
        if handed_out or (in_place_writes and _newest_write > fn._sequence):
            _check_not_written(fn)
        grad = pending.pop(fn)
        owned.pop(id(grad), None)  # handed to a backward, which may pass it on
        if hooks_registered:
            hooks = fn.__dict__.get("tensor_hooks")
            if hooks is not None:
                grad = hooks.run(grad)
            saved = fn.__dict__.get("packed")
            if saved is not None:  # saved under saved_tensors_hooks: unpack them now
                saved.unpack(fn, retain)
        function = fn.function
        if function.add_into is not None and not detecting_anomalies and \
                _added_into(fn, grad, leaves, pending, owned):
            if added_into_logs:
                log = added_into_logs.get(get_ident())
                if log is not None:
                    log.add(fn)
            if not retain:
                _free(fn)
                _let_go_of_inputs(fn, let_go)
            continue
        grads = function.backward(fn, grad)
        if not retain:
            _free(fn)
        if type(grads) is not tuple:
            grads = tuple(grads) if isinstance(grads, list) else (grads,)
        if detecting_anomalies:
            _check_finite(fn, grads)
        if len(grads) != len(fn.inputs):
            _check_count(grads, fn)
        for a, g in zip(fn.inputs, grads):
            if g is None or not isinstance(a, Tensor) or not a._requires_grad:
                continue
            data = a._data
            fresh = function.fresh_grads
            if type(g) is not np.ndarray or g.shape != data.shape or (
                    g.dtype is not data.dtype and g.dtype != data.dtype):
                g, fresh = conformed(g, a, fn), False
            parent = a.grad_fn
            if parent is None:
                leaves[a] = _summed(leaves.get(a), g, fresh, owned)
            else:
                if parent._sequence > fn._sequence:  # ``a`` was changed in place since
                    a = _as_it_was(a, fn)
                    parent = a.grad_fn
                    if parent is None:  # (values that did not require grad then)
                        continue
                held = pending.get(parent)
                if held is None:
                    heapq.heappush(queue, (-parent._sequence, parent))
                pending[parent] = _summed(held, g, fresh, owned)
        if not retain:
            _let_go_of_inputs(fn, let_go)
    if profiling_backward:
        profiling_backward(None)
    return leaves


def _as_it_was(a: Tensor, fn: Context) -> Tensor:
    """``a`` as ``fn``'s op saw it: the version before the first in-place write after it.
    Where ``fn``'s result is a view of ``a`` and a later write changed its values, the
    gradients that reach ``fn`` may come from ops that read the new values: RuntimeError,
    as tensorgrad does not follow a view's values through its base's writes; unless the
    view was itself the one written (``_rebase_view`` settled ``fn``: its readers since
    read a new op)."""
    later = [(old, written) for start, old, written in _versions.get(id(a), ())
             if start > fn._sequence]
    if not later:
        raise AssertionError(f"{fn.function.__name__}: an input rewritten in place, no version")
    if fn.function.views and not fn.__dict__.get("settled"):
        seen: np.ndarray | None = a._data
        if fn.function is ops.Index:  # a basic index, or the reading of a view (_reading)
            seen = a._data[fn.saved_tensors[0]] if fn.__dict__["basic"] else \
                fn.__dict__.get("view")
        if seen is not None and any(_overlap(seen, written) for _, written in later):
            _refuse_stale_view(fn)
    return later[0][0]


def _recorded_after_write(fn: Context) -> None:
    raise RuntimeError(f"{fn.function.__name__} used a tensor that an in-place op changed "
                       "afterwards: a recorded backward (create_graph=True) reads the inputs' "
                       "values, which are no longer those it used; write the in-place op out "
                       "of place (y = y + 1), or clone the tensor first")


_OVERLAP_WORK: Any = 100_000  # (NumPy's stubs name only its two special values)


def _overlap(a: np.ndarray, b: np.ndarray) -> bool:
    try:
        return bool(np.shares_memory(a, b, max_work=_OVERLAP_WORK))
    except np.exceptions.TooHardError:
        return True


def _refuse_stale_view(fn: Context) -> None:
    raise RuntimeError(f"{fn.function.__name__} made a view of a tensor whose values an in-place "
                       "op then changed (through the tensor or another view of it): the "
                       "view's gradient would go to the values as they were; take the view "
                       "after the in-place op, or clone() it (PyTorch follows the view)")


def _free(fn: Context) -> None:
    """Let go of what ``fn``'s op saved, if it saved an array (PyTorch frees its saved
    tensors; an op that kept only numbers or slices has nothing to free, and a second
    backward through it works, as through PyTorch's slicing)."""
    saved = getattr(fn, "saved_tensors", ())
    if saved is _FREED:
        return
    for value in saved:
        if isinstance(value, (np.ndarray, Tensor)):
            fn.saved_tensors = _FREED
            return


def _let_go_of_inputs(fn: Context, let_go: list[tuple[Any, ...]]) -> None:
    """Put stand-ins (``_Spent``) in place of ``fn``'s inputs that are results of ops: the
    graph no longer holds their arrays, as PyTorch's graph holds none but what ops saved, so
    that a loss kept after its backward (``total = total + loss``) keeps no activations alive.
    A stand-in has its tensor's place in the graph (``grad_fn``, ``requires_grad``, shape and
    dtype) for a second backward through ops that saved nothing; one per tensor. Leaves stay:
    the gradients go to them, and they are the user's (inputs, constants) anyway. The inputs
    as they were go to ``let_go``, which the next pass frees."""
    let_go.append(fn.inputs)
    # (an op's result is a Tensor itself, never a subclass: a _Spent is left as it is)
    fn.inputs = tuple([(held if (held := a.grad_fn.stand_in) is not None else _stand_in(a))
                       if type(a) is Tensor and a.grad_fn is not None else a
                       for a in fn.inputs])


def _stand_in(a: Tensor) -> Tensor:
    """The stand-in of ``a``, an op's result, made now: one op, one result, so it is the op's
    (``stand_in``) from now on."""
    data = a._data
    key = (data.shape, data.dtype.char)
    values = _spent_arrays.get(key)
    if values is None:
        values = np.broadcast_to(np.array(np.nan if data.dtype.kind == "f" else 0, data.dtype),
                                 data.shape)
        if len(_spent_arrays) < 256:
            _spent_arrays[key] = values
    held = _new(_Spent)
    held._data, held._grad, held.grad_fn, held._requires_grad = values, None, a.grad_fn, \
        a._requires_grad
    a.grad_fn.stand_in = held  # type: ignore[union-attr]  # (the caller checked)
    return held


# The inputs that the last backward() without retain_graph replaced by stand-ins, as they
# were: the next one frees them when it starts (see _propagate).
_let_go_last: list[tuple[Any, ...]] = []

# By shape and dtype: the read-only arrays of one value (NaN, or 0 for other dtypes) that
# stand-ins hold, shared (a few hundred at most).
_spent_arrays: dict[tuple[tuple[int, ...], str], np.ndarray] = {}


def _summed(held: np.ndarray | None, g: np.ndarray, fresh: bool,
            owned: dict[int, np.ndarray]) -> np.ndarray:
    """``held + g``, into ``held`` itself if it is the engine's own (the same bits)."""
    if held is None:
        if fresh:
            owned[id(g)] = g
        return g
    if owned.get(id(held)) is held:
        held += g
        return held
    total = held + g
    if type(total) is np.ndarray:  # (0-d arrays add up to a NumPy scalar, which is no array)
        owned[id(total)] = total
    return total


def _added_into(fn: Context, grad: np.ndarray, leaves: dict[Tensor, np.ndarray],
                pending: dict[Context, np.ndarray], owned: dict[int, np.ndarray]) -> bool:
    """Whether ``fn``'s op added its input's gradient into the sum held for that input."""
    a = fn.inputs[0]
    if not isinstance(a, Tensor) or not a._requires_grad:
        return False
    held = leaves.get(a) if a.grad_fn is None else pending.get(a.grad_fn)
    if held is None or owned.get(id(held)) is not held or grad.dtype != held.dtype:
        return False
    add_into = fn.function.add_into
    assert add_into is not None
    return add_into(fn, grad, held)


def note_in_place_write(array: np.ndarray, sequence: int | None = None) -> None:
    """Record that a tensor op wrote into ``array`` (a view writes its owner's memory), now or
    (``sequence``) at some time after that sequence number."""
    global _newest_write
    owner = _owner(array)
    key = id(owner)
    held = in_place_writes.get(key)
    if held is None:
        weakref.finalize(owner, in_place_writes.pop, key, None)
    in_place_writes[key] = written = _next_sequence() if sequence is None else max(
        sequence, -1 if held is None else held)
    _newest_write = max(_newest_write, written)


class _HandOut:
    """An array ``numpy()`` gave out (``_hand_out``): ``source``, the tensor's array it is a
    view of, showed the bytes ``shown`` as of sequence number ``sequence``."""

    __slots__ = ("source", "shown", "sequence")

    def __init__(self, source: np.ndarray) -> None:
        self.source = source
        self.shown = source.tobytes()
        self.sequence = _next_sequence()

    def written(self) -> bool:
        """Whether the array was written since ``sequence``."""
        return self.source.tobytes() != self.shown


class _Lease:
    """The base of an array ``_hand_out`` gives: NumPy makes the views of that array views of
    it, not of the tensor's array, so this lives as long as any array the user can write
    through (a view of a plain view would skip to the array that owns the memory)."""

    __slots__ = ("__array_interface__", "array", "__weakref__")

    def __init__(self, array: np.ndarray) -> None:
        self.array = array
        self.__array_interface__ = array.__array_interface__


def _hand_out(array: np.ndarray) -> np.ndarray:
    """``array`` shared with the user (no copy), who may write through it unseen by the ops;
    ``backward()`` refuses an op whose saved arrays were written so after it ran.

    While the user holds it (or a view of it) its bytes are compared with those it showed:
    when it was handed out (for the ops that ran before), and again when a recorded op saves
    what it shows (for that op and those after). A change found when it goes counts as an
    in-place write at the time the comparison began.
    """
    lease = _Lease(array)
    key = id(_owner(array))
    record = _HandOut(array)
    handed_out.setdefault(key, []).append(record)
    weakref.finalize(lease, _close_hand_out, key, record).atexit = False
    return np.asarray(lease)


def _close_hand_out(key: int, record: _HandOut) -> None:
    records = handed_out.get(key, [])
    if record in records:
        records.remove(record)
        if not records:
            del handed_out[key]
    if record.written():
        note_in_place_write(record.source, record.sequence)


def _renew_hand_outs(ctx: Context) -> None:
    """Compare from now on what ``ctx`` saved of arrays numpy() gave out: a write until now
    counts for the ops before, one from now on for this op and those after."""
    for x in getattr(ctx, "saved_tensors", ()):
        if isinstance(x, np.ndarray):
            # (a copy: a record goes when its array does, which a collection may do meanwhile)
            for record in tuple(handed_out.get(id(_owner(x)), ())):
                if np.may_share_memory(x, record.source):
                    if record.written():
                        note_in_place_write(record.source, record.sequence)
                        record.shown = record.source.tobytes()
                    record.sequence = _next_sequence()


def _owner(array: np.ndarray) -> np.ndarray:
    """The array that owns ``array``'s memory (itself, or the base its views lead to)."""
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array


def _check_not_written(fn: Context) -> None:
    """Refuse to run ``fn``'s backward if an array it saved for it was written in place since
    (an op that saved nothing, as Add, does not mind: PyTorch's rule)."""
    for x in getattr(fn, "saved_tensors", ()):
        if not isinstance(x, np.ndarray):
            continue
        key = id(_owner(x))
        if in_place_writes.get(key, -1) > fn._sequence or any(
                record.sequence > fn._sequence and np.may_share_memory(x, record.source)
                and record.written() for record in tuple(handed_out.get(key, ()))):
            raise RuntimeError(
                f"one of the arrays needed for gradient computation has been modified by an "
                f"in-place operation: an array of shape {x.shape} that {fn.name()} saved was "
                "written after it ran (by an in-place op, or through numpy()); compute it "
                "anew (x = x + y), or write into a copy")


def _broadcasts_to(shape: tuple[int, ...], target: tuple[int, ...]) -> bool:
    return len(shape) <= len(target) and all(
        n in (1, m) for n, m in zip(reversed(shape), reversed(target)))


def _check_finite(fn: Context, grads: tuple) -> None:
    """In anomaly mode: PyTorch's error for a backward that returned NaN."""
    for i, g in enumerate(grads):
        values = np.asarray(g._data if isinstance(g, Tensor) else g)
        if values.dtype.kind == "f" and np.isnan(values).any():
            raise RuntimeError(f"Function '{fn.function.__name__}Backward' returned nan values "
                               f"in its {i}th output.")


def _check_count(grads: tuple, fn: Context) -> None:
    """As PyTorch: one gradient per input, beyond which only Nones may follow."""
    if len(grads) < len(fn.inputs) or any(g is not None for g in grads[len(fn.inputs):]):
        raise RuntimeError(f"function {fn.function.__name__}Backward returned an incorrect "
                           f"number of gradients (expected {len(fn.inputs)}, got {len(grads)})")


def conformed(g: Any, a: Tensor, fn: Context) -> np.ndarray:
    """A gradient for ``a`` from ``fn``'s backward as an array in ``a``'s dtype and shape:
    as PyTorch's, one of a shape ``a``'s broadcasts to is summed to it; any other refused."""
    g = np.asarray(g)
    if g.shape != a._data.shape:
        if not _broadcasts_to(a._data.shape, g.shape):
            where = next(i for i, x in enumerate(fn.inputs) if x is a)
            raise RuntimeError(f"Function {fn.function.__name__}Backward returned an invalid "
                               f"gradient at index {where} - got {list(g.shape)} but expected "
                               f"shape compatible with {list(a._data.shape)}")
        g = ops.sum_to(g, a._data.shape)
    if g.dtype.kind not in "biufc":  # (a complex one loses its imaginary part, as in PyTorch)
        raise TypeError(f"{fn.function.__name__}.backward returned a gradient of {g.dtype} "
                        "data: a gradient holds numbers")
    return g.astype(a._data.dtype, copy=False)


def gradients(root: Tensor, gradient: Any = None, retain: bool = False
              ) -> dict[Tensor, np.ndarray]:
    """The gradients that ``root.backward(gradient)`` would add to the leaves' ``.grad``, by
    leaf, after the leaves' hooks, without adding them (``tensorgrad.autograd.grad``)."""
    leaves = _propagate(root, _seed(root, gradient), retain)
    if leaf_hooks:
        leaves = {leaf: _run_leaf_hooks(leaf, g) for leaf, g in leaves.items()}
    return leaves


# ---- backward passes that are recorded (create_graph=True) ---------------------------------


def _graph_seed(root: Tensor, gradient: Any, wanted: set[Tensor] | None = None) -> Tensor:
    """The gradient that starts a recorded pass: the caller's tensor itself (a gradient may
    flow to it too), else ``_seed``'s array."""
    seed = _seed(root, gradient, wanted)
    if isinstance(gradient, Tensor) and gradient._data is seed:
        return gradient
    return as_leaf(seed)


def graph_gradients(root: Tensor, seed: Tensor, stop: Sequence[Tensor] = ()
                    ) -> dict[Tensor, Tensor]:
    """``_propagate`` recorded: each op's gradient is computed by tensor ops, so that the
    gradients returned (by leaf, and by tensor of ``stop``, where the pass stops) are results
    in the graph, with gradients of their own. Each op's rule is in ``higher_order``; an op
    without one raises NotImplementedError. Nothing is let go: the graph is kept."""
    from .higher_order import recorded_backward

    if tapes and get_ident() in tapes:
        raise RuntimeError("create_graph=True in a captured step: its replays would not "
                           "record the backward pass; do not capture the step")
    found: dict[Tensor, Tensor] = {}
    stopped = {id(t) for t in stop}
    if root.grad_fn is None or id(root) in stopped:
        found[root] = seed
        return found
    pending = {root.grad_fn: seed}
    queue = [(-root.grad_fn._sequence, root.grad_fn)]
    while queue:
        fn = heapq.heappop(queue)[1]
        if handed_out or (in_place_writes and _newest_write > fn._sequence):
            _check_not_written(fn)
        if getattr(fn, "saved_tensors", ()) is _FREED or any(type(a) is _Spent
                                                              for a in fn.inputs):
            raise RuntimeError(_FREED_MESSAGE)
        grad = pending.pop(fn)
        hooks = fn.__dict__.get("tensor_hooks") if hooks_registered else None
        if hooks is not None:
            grad = hooks.run_recorded(grad)
        saved = fn.__dict__.get("packed") if hooks_registered else None
        if saved is not None:  # saved under saved_tensors_hooks: unpack them now
            saved.unpack(fn, True)
        grads = recorded_backward(fn, grad)
        if detecting_anomalies:
            _check_finite(fn, grads)
        for a, g in zip(fn.inputs, grads):
            if g is None or not isinstance(a, Tensor) or not a._requires_grad:
                continue
            if g._data.shape != a._data.shape:
                raise RuntimeError(f"{fn.function.__name__}: a recorded gradient of shape "
                                   f"{g._data.shape} for an input of shape {a._data.shape}")
            if g._data.dtype != a._data.dtype:
                g = g.to(a._data.dtype)
            parent = a.grad_fn
            if parent is None or id(a) in stopped:
                held = found.get(a)
                found[a] = g if held is None else held + g
                continue
            if parent._sequence > fn._sequence:  # ``a`` was changed in place since
                _recorded_after_write(fn)
            held = pending.get(parent)
            if held is None:
                heapq.heappush(queue, (-parent._sequence, parent))
            pending[parent] = g if held is None else held + g
    return found


def recorded_gradients(root: Tensor, gradient: Any = None) -> dict[Tensor, Tensor]:
    """``gradients`` of a recorded pass (``autograd.grad(create_graph=True)``): tensors in
    the graph, after the leaves' hooks."""
    leaves = graph_gradients(root, _graph_seed(root, gradient))
    if leaf_hooks:
        for leaf, g in leaves.items():
            hooks = leaf_hooks.get(id(leaf))
            if hooks is not None:
                leaves[leaf] = hooks.run_recorded(g)
    return leaves


def _accumulate_graph(leaves: dict[Tensor, Tensor]) -> None:
    """``accumulate`` for a recorded pass: each leaf's ``.grad`` becomes the sum, a new
    tensor in the graph (out of place, as PyTorch's with create_graph)."""
    for leaf, g in leaves.items():
        hooks = leaf_hooks.get(id(leaf))
        if hooks is not None:
            g = hooks.run_recorded(g)
        held = leaf.grad
        if held is not None:
            g = held + g
        elif g.grad_fn is None:  # (the seed, or a hook's tensor: the leaf's own copy)
            g = as_leaf(g._data.copy())
        leaf._grad = g._data
        leaf._grad_tensor = g
        g._gradient_of = weakref.ref(leaf)
    if leaf_hooks:
        _run_post_accumulate_hooks(leaves)


def accumulate(leaves: dict[Tensor, np.ndarray], seed: np.ndarray) -> None:
    """Add each leaf's gradient to its ``.grad``: into its array, as PyTorch's (a gradient
    tensor the user kept sees the sum). A leaf with none takes a computed array as it is
    unless it might be seen elsewhere too (a view, the caller's gradient, or an array another
    leaf took): then it takes a copy."""
    if leaf_hooks:
        leaves = {leaf: _run_leaf_hooks(leaf, g) for leaf, g in leaves.items()}
    taken = {id(seed)}
    for leaf, g in leaves.items():
        held = leaf._grad
        if held is not None:
            if held.shape != g.shape:  # changed in place since it was assigned (.shape = ...)
                raise RuntimeError(f"backward(): the .grad of a tensor of shape {g.shape} has "
                                   f"shape {held.shape}; the gradients cannot be added")
            leaf._grad = added_into(held, g)
        elif g.base is None and id(g) not in taken:
            leaf._grad = g
            taken.add(id(g))
        else:
            leaf._grad = g.copy()
    if leaf_hooks:
        _run_post_accumulate_hooks(leaves)


def _run_post_accumulate_hooks(leaves: Iterable[Tensor]) -> None:
    """Each leaf's ``register_post_accumulate_grad_hook`` hooks, once its ``.grad`` holds the
    sum: called with the leaf (an optimizer step in the backward pass), returning None."""
    for leaf in leaves:
        hooks = leaf_hooks.get(id(leaf))
        if hooks is None or not hooks.post:
            continue
        if added_into_logs and get_ident() in added_into_logs:
            raise RuntimeError("a post accumulate grad hook in a captured step: its replays "
                               "would not call it; remove the hook, or do not capture the step")
        for hook in tuple(hooks.post):  # (a hook may remove itself)
            returned = hook.function(leaf)
            if isinstance(returned, Tensor):
                raise RuntimeError("Tensor post accumulate grad hooks should return None.")
            if returned is not None:
                raise TypeError(f"expected Variable, but hook returned "
                                f"'{type(returned).__name__}'")


def added_into(held: Any, grad: np.ndarray) -> np.ndarray:
    """``held + grad``, written into ``held`` where it can be (a writable array): a gradient
    accumulates in place, as PyTorch's, and what saved that array for a backward sees the
    write (``note_in_place_write``)."""
    if type(held) is np.ndarray and held.flags.writeable:
        np.add(held, grad, out=held)
        note_in_place_write(held)
        return held
    return np.asarray(held + grad)


# ---- gradient hooks (Tensor.register_hook, retain_grad) ------------------------------------------


class _Hook:
    """One registered hook (its own object, so that a function registered twice is two)."""

    __slots__ = ("function",)

    def __init__(self, function: Callable[[Tensor], Any]) -> None:
        self.function = function


class RemovableHandle:
    """What ``register_hook`` (and a module's forward hooks) return: ``remove()`` unregisters
    the hook (again: nothing); as a context manager, the hook is registered for its block."""

    def __init__(self, hooks: list[Any], hook: Any) -> None:
        self._hooks, self._hook = hooks, hook

    def remove(self) -> None:
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()  # the hook is registered for the block


class _TensorHooks:
    """A tensor's hooks, in the order registered, and (a result of an op) whether it keeps
    its gradient as ``.grad`` (``retain_grad``), after them as in PyTorch."""

    __slots__ = ("hooks", "retained", "post")

    def __init__(self) -> None:
        self.hooks: list[_Hook] = []
        self.retained: weakref.ref[Tensor] | None = None
        self.post: list[_Hook] = []  # a leaf's hooks after accumulation (run with the leaf)

    def run(self, grad: np.ndarray) -> np.ndarray:
        """The gradient that the hooks make of ``grad`` (a copy when there are hooks: the
        engine's array may be another tensor's too), kept on the retaining tensor."""
        if (self.hooks or self.retained is not None) and added_into_logs and (
                get_ident() in added_into_logs):
            raise RuntimeError("a gradient hook in a captured step: its replays would not "
                               "call it; remove the hook, or do not capture the step")
        if self.hooks:
            grad = grad.copy()
            for hook in tuple(self.hooks):  # (a hook may remove itself)
                returned = hook.function(as_leaf(grad))
                if returned is not None:
                    grad = _hook_result(hook.function, returned, grad)
        tensor = None if self.retained is None else self.retained()
        if tensor is not None:
            held = tensor._grad
            tensor._grad = grad.copy() if held is None else added_into(held, grad)
        return grad

    def run_recorded(self, grad: Tensor) -> Tensor:
        """``run`` in a recorded backward pass (``graph_gradients``): the hooks get and may
        return tensors in the graph."""
        for hook in tuple(self.hooks):
            returned = hook.function(grad)
            if returned is not None:
                _hook_result(hook.function, returned, grad._data)  # (its checks)
                grad = returned if isinstance(returned, Tensor) else as_leaf(np.array(returned))
        tensor = None if self.retained is None else self.retained()
        if tensor is not None:
            held = tensor._grad
            tensor._grad = grad._data.copy() if held is None else added_into(held, grad._data)
        return grad


def _hook_result(function: Callable, returned: Any, grad: np.ndarray) -> np.ndarray:
    """What a hook returned, as the gradient in place of ``grad``: of its shape and dtype."""
    name = getattr(function, "__name__", repr(function))
    if not isinstance(returned, (Tensor, np.ndarray)):
        raise TypeError(f"expected Variable, but hook returned '{type(returned).__name__}'")
    data = returned._data if isinstance(returned, Tensor) else returned
    if data.shape != grad.shape:
        raise RuntimeError(f"hook '{name}' has changed the size of value")
    if data.dtype != grad.dtype:
        raise RuntimeError(f"hook '{name}' has changed the type of value (was {grad.dtype} "
                           f"got {data.dtype})")
    return data.copy()  # (the hook's caller may hold and change it)


def _run_leaf_hooks(leaf: Tensor, grad: np.ndarray) -> np.ndarray:
    hooks = leaf_hooks.get(id(leaf))
    return grad if hooks is None else hooks.run(grad)


# The leaves' hooks, by the id of the tensor (an entry goes when its tensor does), run as their
# gradient is accumulated; a result's hangs on its op's context as ``tensor_hooks``, which
# backward() looks for only once one was registered (speed)
leaf_hooks: dict[int, _TensorHooks] = {}
hooks_registered = False

# saved_tensors_hooks (autograd/graph.py) in effect, by thread: a stack, innermost last, of
# objects whose ``_pack_saved(ctx, values)`` gives what save_for_backward keeps in place of
# ``values`` (and hangs on ``ctx`` as "packed" what backward() unpacks them with)
saved_hooks: dict[int, list[Any]] = {}


def packed(ctx: Context, values: tuple[Any, ...]) -> tuple[Any, ...]:
    """What ``ctx.save_for_backward(*values)`` keeps under this thread's saved_tensors_hooks."""
    stack = saved_hooks.get(get_ident())
    return stack[-1]._pack_saved(ctx, values) if stack else values


# Once a multi-grad hook was registered (autograd/graph.py), each backward pass notes here, by
# thread, its number, its root (weakly) and the leaves it is limited to: the hook asks which of
# its tensors the pass reaches
watching_passes = False
passes: dict[int, tuple[int, weakref.ref[Tensor], set[Tensor] | None]] = {}
_pass_numbers = itertools.count()


def _hooks_of(tensor: Tensor, what: str) -> _TensorHooks:
    """``tensor``'s hooks, made on the first call; refused where they would not be called."""
    global hooks_registered
    if tapes and get_ident() in tapes:
        raise RuntimeError(f"{what} inside a captured function: its replays would not call "
                           "the hook; gradient hooks and captured steps do not mix")
    fn = tensor.grad_fn
    if fn is None:
        hooks = leaf_hooks.get(id(tensor))
        if hooks is None:
            hooks = leaf_hooks[id(tensor)] = _TensorHooks()
            weakref.finalize(tensor, leaf_hooks.pop, id(tensor), None)
        return hooks
    hooks = fn.__dict__.get("tensor_hooks")
    if hooks is None:
        hooks = fn.__dict__["tensor_hooks"] = _TensorHooks()
    hooks_registered = True
    return hooks


# ---- the Tensor -------------------------------------------------------------------------------


class _Later:
    """A Tensor method that lives in a module imported when one of its methods is first used
    (surface.py, gamma.py): the class holds the name only, so that ``import tensorgrad`` does
    not parse the bodies. Reading it imports the module and puts all of the module's methods
    (its ``TENSOR_METHODS``: name -> function of the tensor first) on the class in place of
    their stand-ins."""

    __slots__ = ("module", "name")

    def __init__(self, module: str) -> None:
        self.module, self.name = module, ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, tensor: Any, owner: type | None = None) -> Any:
        import importlib

        methods = importlib.import_module(self.module, __package__).TENSOR_METHODS
        if self.name not in methods:  # (a stand-in its module does not define: no loop)
            raise AttributeError(f"'Tensor' object has no attribute '{self.name}'")
        for name, function in methods.items():
            setattr(Tensor, name, function)
        return getattr(Tensor if tensor is None else tensor, self.name)


# How tensors print: NumPy's array2string arguments, as ``set_printoptions`` sets them (none:
# NumPy's own defaults)
print_options: dict[str, Any] = {}


class Tensor:
    """An n-dimensional array with reverse-mode automatic differentiation.

    ``Tensor(data, requires_grad=False, dtype=None)`` copies ``data``. Python floats become
    float64 (PyTorch's default is float32: this engine's is float64, for exact comparison
    with Python's floats), Python ints int64, bools bool; arrays keep their dtype. Only
    floating tensors can require grad. As PyTorch's legacy constructor, ``Tensor(2, 3)`` (or
    ``Tensor(size)``, ``Tensor()``) is a tensor of that shape in the default float dtype
    (filled with zeros, where PyTorch leaves it uninitialized): ``nn.Parameter(Tensor(4))``.
    """

    __slots__ = ("_data", "_grad", "_requires_grad", "grad_fn", "_grad_tensor", "_gradient_of",
                 "__weakref__")
    __hash__ = object.__hash__  # == is elementwise, as in PyTorch; hashing is by identity

    _data: np.ndarray  # what ``data`` holds: the values
    # speed: the engine reads and sets these two slots, not the properties that check what a
    # user assigns (benchmarks/SPEED.md, "Function.apply")
    _grad: np.ndarray | None  # what ``grad`` holds
    _requires_grad: bool  # what ``requires_grad`` holds
    grad_fn: Context | None  # the op that made it, if recorded; None for a leaf
    # (set when ``grad`` is first read) the tensor ``grad`` returns, and for that tensor, whose
    # gradient it is
    _grad_tensor: Tensor | None
    _gradient_of: weakref.ref[Tensor]

    def __init__(self, *args: Any, requires_grad: bool = False, dtype: Any = None):
        if len(args) == 1 and not isinstance(args[0], Size) and not _is_size(args[0]):
            data = args[0]  # the usual case: one argument, its values
        elif len(args) == 1 and isinstance(args[0], Size):
            data = np.zeros(tuple(args[0]), dtypes.DEFAULT_FLOAT if dtype is None else dtype)
        elif all(_is_size(n) for n in args):  # (none: an empty tensor)
            data = np.zeros(args or (0,), dtypes.DEFAULT_FLOAT if dtype is None else dtype)
        else:
            raise TypeError(f"Tensor() takes one data argument (a tensor, an array, a nested "
                            f"list or a number) or the sizes of a shape, not {args!r}")
        self._hold(data, requires_grad, dtype)

    def _hold(self, data: Any, requires_grad: bool, dtype: Any) -> None:
        """Take a copy of ``data``'s values (``from_values``, and ``__init__``)."""
        if isinstance(data, Tensor):
            data = data._data
        if dtype is None:
            array = np.array(data)
            if array.dtype.kind in "uO" and not isinstance(data, (np.ndarray, np.generic)):
                array = _python_integers(array)
            if (array.dtype == _FLOAT64 and dtypes.DEFAULT_FLOAT != _FLOAT64
                    and not isinstance(data, (np.ndarray, np.generic))):
                with np.errstate(over="ignore"):  # (1e300 in float32: inf, as in PyTorch)
                    array = array.astype(dtypes.DEFAULT_FLOAT)  # Python floats: the default's
        else:
            with np.errstate(all="ignore"):  # a cast out of range: inf, as in PyTorch
                array = np.array(data, dtype=dtype)
        if array.dtype.kind not in "biuf":
            raise TypeError(f"a Tensor holds numbers or booleans, not {array.dtype} data")
        self._data = array
        self._grad = None
        self.grad_fn = None
        self._requires_grad = False
        if requires_grad:
            self.requires_grad_()

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Make this leaf record the ops that use it (only floating tensors can)."""
        if requires_grad and self._data.dtype.kind not in _DIFFERENTIABLE:
            raise RuntimeError("Only Tensors of floating point and complex dtype can require "
                               f"gradients (not {self._data.dtype})")
        if self.grad_fn is not None and not requires_grad:
            raise RuntimeError("requires_grad_(False) on a result of an op: use detach()")
        self._requires_grad = bool(requires_grad)
        return self

    @property
    def requires_grad(self) -> bool:
        """Whether ops record how they use this tensor. Assigning it is ``requires_grad_``:
        only a floating tensor can require grad, and only a leaf can stop (else RuntimeError,
        as in PyTorch)."""
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, requires_grad: bool) -> None:
        self.requires_grad_(requires_grad)

    @property
    def data(self) -> Tensor:
        """The values, as a tensor outside the graph that shares this one's memory: what an
        in-place op on it writes, this tensor holds (``p.data.add_(p.grad, alpha=-0.1)``), as
        PyTorch's. Assigning it replaces the values (a tensor or an array, of any shape)."""
        return as_leaf(self._data)

    @data.setter
    def data(self, value: Tensor | np.ndarray) -> None:
        data = _checked_data(self, value)
        owner = _owner_of_gradient(self)
        if owner is not None:  # ``p.grad.data = t``: p's gradient is t's values now
            owner._grad = _checked_grad(owner, data)
        self._data = data

    @property
    def grad(self) -> Tensor | None:
        """d(loss)/d(self) after ``backward()``, for a leaf that requires grad (or a result of
        an op after ``retain_grad()``): a tensor of this tensor's shape and dtype, or None.
        In-place ops on it change the gradient (``p.grad.zero_()``), as PyTorch's.

        It may be assigned (None, a tensor or an array) as PyTorch's: of another shape or
        dtype it raises RuntimeError, as PyTorch's does.
        """
        grad = self._grad
        if grad is None:
            if self.grad_fn is not None and not self.retains_grad:
                warnings.warn("the .grad of a tensor that is no leaf is being read: backward() "
                              "does not fill it; call retain_grad() on it first if you want "
                              "it, or read the leaf's .grad", UserWarning, stacklevel=2)
            return None
        if type(grad) is not np.ndarray:  # a NumPy number, which 0-d arithmetic gives
            grad = self._grad = np.asarray(grad)
        # One tensor while the gradient is one array (backward() adds into it in place), as
        # PyTorch's ``p.grad is p.grad``; it knows whose gradient it is, for ``.data =``.
        held = getattr(self, "_grad_tensor", None)
        if held is None or held._data is not grad or held._gradient_of() is not self:
            held = self._grad_tensor = as_leaf(grad)
            held._gradient_of = weakref.ref(self)
        return held

    @grad.setter
    def grad(self, value: Tensor | np.ndarray | None) -> None:
        self._grad = None if value is None else _checked_grad(self, value)

    # ---- what it is ---------------------------------------------------------------------------

    @property
    def shape(self) -> Size:
        return as_size(self._data.shape)

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def dtype(self) -> dtypes.dtype:
        # tensorgrad's dtype object (PyTorch's attributes; NumPy takes it as a dtype)
        found = _PUBLIC_DTYPES.get(self._data.dtype)
        return found if found is not None else dtypes.of(self._data.dtype)

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> RemovableHandle:
        """Call ``hook(grad)`` when this tensor's gradient is computed in ``backward()``,
        before it is used (for a leaf: before it is added to ``.grad``); what it returns, if
        not None, replaces the gradient. Hooks run in the order registered::

            w = Tensor([1.0, 2.0], requires_grad=True)
            handle = w.register_hook(lambda g: g.clamp(-1, 1))
            handle.remove()  # no more
        """
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require "
                               "gradient")
        hooks = _hooks_of(self, "register_hook()")
        entry = _Hook(hook)
        hooks.hooks.append(entry)
        return RemovableHandle(hooks.hooks, entry)

    def register_post_accumulate_grad_hook(self, hook: Callable[[Tensor], None]
                                           ) -> RemovableHandle:
        """Call ``hook(tensor)`` (a leaf) in ``backward()`` once its gradient has been added
        to ``.grad``, as PyTorch's: where code steps an optimizer inside the backward pass.
        The hook returns None; ``autograd.grad``, which adds to no ``.grad``, calls none."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require "
                               "gradient")
        if self.grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf "
                               "tensors")
        hooks = _hooks_of(self, "register_post_accumulate_grad_hook()")
        entry = _Hook(hook)
        hooks.post.append(entry)
        return RemovableHandle(hooks.post, entry)

    def retain_grad(self) -> None:
        """Keep this result's gradient as ``.grad`` in ``backward()`` (summed over calls, as a
        leaf's); a leaf keeps it anyway."""
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is not None:
            _hooks_of(self, "retain_grad()").retained = weakref.ref(self)

    @property
    def retains_grad(self) -> bool:
        """Whether ``retain_grad()`` made this result of an op keep its ``.grad``."""
        hooks = None if self.grad_fn is None else self.grad_fn.__dict__.get("tensor_hooks")
        return hooks is not None and hooks.retained is not None

    def size(self, dim: int | None = None) -> Size | int:
        if dim is None:
            return as_size(self._data.shape)
        return self._data.shape[normalize_dim(dim, self._data.ndim)]

    def dim(self) -> int:
        return self._data.ndim

    def numel(self) -> int:
        return self._data.size

    def __len__(self) -> int:
        if not self._data.ndim:
            raise TypeError("len() of a 0-d tensor")
        return len(self._data)

    def __iter__(self) -> Iterator[Tensor]:
        if not self._data.ndim:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(len(self._data)))

    def __repr__(self) -> str:
        extra = ""
        if self.grad_fn is not None:
            extra = f", grad_fn={self.grad_fn!r}"
        elif self.requires_grad:
            extra = ", requires_grad=True"
        if self._data.dtype not in (np.float64, np.int64, np.bool_):
            extra = f", dtype={self._data.dtype}" + extra
        values = np.array2string(self._data, separator=", ", prefix="Tensor(", **print_options)
        return f"Tensor({values}{extra})"

    def __format__(self, spec: str) -> str:
        """A 0-d tensor formats as its number (``f"{loss:.4f}"``), as in PyTorch; any other
        only without a format spec."""
        if not self._data.ndim:
            return format(self._data.item(), spec)
        return object.__format__(self, spec)

    # ---- leaving the graph --------------------------------------------------------------------

    def item(self) -> float | int | bool:
        """The value of a one-element tensor as a Python number."""
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted "
                               "to Scalar")
        return self._data.item()

    def __float__(self) -> float:
        """The number (``float(loss)``); as PyTorch's, the first one taken in a process from
        a tensor that requires grad, with grad mode on, warns that it leaves the graph."""
        global _warned_float
        if not _warned_float and self.requires_grad and (
                not disabled_threads or get_ident() not in disabled_threads):
            _warned_float = True
            warnings.warn("Converting a tensor with requires_grad=True to a scalar may lead to "
                          "unexpected behavior.\nConsider using tensor.detach() first.",
                          stacklevel=2)
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError(f"the truth value of a tensor with {self._data.size} elements is "
                               "ambiguous")
        return bool(self._data.item())

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iu" or self._data.size != 1:
            raise TypeError("only a one-element integer tensor can be used as an index")
        return int(self._data.item())

    def tolist(self) -> Any:
        return self._data.tolist()

    def numpy(self, *, force: bool = False) -> np.ndarray:
        """The values as an array that shares this tensor's memory (writable, no copy), as
        PyTorch's ``numpy()``; with ``force``, a copy (also of a tensor that requires grad).

        Writing through it into an array that a recorded op saved, after that op ran and
        before ``backward()``, makes ``backward()`` raise, as an in-place op does (see
        docs/engine.md for what that costs while the array lives).
        """
        if force:
            return self._data.copy()
        if self.requires_grad:
            raise RuntimeError("numpy() of a tensor that requires grad: use detach().numpy()")
        return _hand_out(self._data)

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        if copy or (dtype is not None and dtype != self._data.dtype):
            if copy is False:  # NumPy 2's meaning: never a copy
                raise ValueError(f"a {self._data.dtype} tensor as {dtype} needs a copy")
            if self.requires_grad:
                raise RuntimeError("numpy() of a tensor that requires grad: use "
                                   "detach().numpy()")
            return self._data.astype(self._data.dtype if dtype is None else dtype)
        return self.numpy()

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        """NumPy's ufuncs given tensors. An array's arithmetic or comparison with a tensor
        (``array * w``, ``array < w``) is the tensor's op, in the graph. Any other ufunc
        (``np.isnan(x)``) computes on the values of tensors that need no grad, as PyTorch's,
        and returns tensors."""
        names = _UFUNC_DUNDERS.get(ufunc)
        if names is not None and method == "__call__" and not kwargs and len(inputs) == 2:
            a, b = inputs
            result = getattr(a, names[0])(b) if isinstance(a, Tensor) else \
                getattr(b, names[1])(a)
            if result is not NotImplemented:
                return result
        if any(isinstance(x, Tensor) for x in kwargs.get("out", ())):
            raise TypeError(f"numpy.{ufunc.__name__}(..., out=) a tensor: write into a tensor "
                            "with its in-place methods (x.add_(y), x.copy_(y))")
        result = getattr(ufunc, method)(*(np.asarray(x) if isinstance(x, Tensor) else x
                                          for x in inputs), **kwargs)
        if "out" in kwargs:
            return result
        if isinstance(result, tuple):
            return tuple(_ufunc_result(r) for r in result)
        return _ufunc_result(result)

    def detach(self) -> Tensor:
        """The same data (shared), cut off from the graph."""
        return as_leaf(self._data)

    # ---- the backward pass --------------------------------------------------------------------

    def backward(self, gradient: Any = None, retain_graph: bool | None = None,
                 create_graph: bool = False, inputs: Sequence[Tensor] | None = None) -> None:
        """Accumulate d(self)/d(leaf) into ``leaf.grad`` for every leaf that requires grad
        (with ``inputs``, for those leaves only).

        ``gradient`` is d(loss)/d(self); it may be left out for a one-element tensor. As
        PyTorch's, it lets go of the arrays the ops saved for it, so that a second
        ``backward()`` through an op that saved one raises RuntimeError, unless the first was
        given ``retain_graph=True``. With ``create_graph=True`` the backward pass is itself
        recorded: ``.grad`` is then a result of ops, with a gradient of its own (see
        ``graph_gradients``), and the graph is kept.
        """
        wanted = None if inputs is None else _leaves_wanted(inputs)
        if create_graph:
            recorded = graph_gradients(self, _graph_seed(self, gradient, wanted))
            _accumulate_graph({leaf: g for leaf, g in recorded.items()
                               if wanted is None or leaf in wanted})
            return
        seed = _seed(self, gradient, wanted)
        leaves = _propagate(self, seed, retain=bool(retain_graph))
        if wanted is not None:
            leaves = {leaf: g for leaf, g in leaves.items() if leaf in wanted}
        accumulate(leaves, seed)

    # ---- ops: see ops.py, where each is a Function ---------------------------------------------

    def __add__(self, other: Any) -> Tensor:
        return ops.Add.apply(self, other)

    def __radd__(self, other: Any) -> Tensor:
        return ops.Add.apply(other, self)

    def __sub__(self, other: Any) -> Tensor:
        return ops.Sub.apply(self, other)

    def __rsub__(self, other: Any) -> Tensor:
        return ops.Sub.apply(other, self)

    def __mul__(self, other: Any) -> Tensor:
        return ops.Mul.apply(self, other)

    def __rmul__(self, other: Any) -> Tensor:
        return ops.Mul.apply(other, self)

    def __truediv__(self, other: Any) -> Tensor:
        return ops.Div.apply(self, other)

    def __rtruediv__(self, other: Any) -> Tensor:
        return ops.Div.apply(other, self)

    def __pow__(self, exponent: Any) -> Tensor:
        return ops.Pow.apply(self, exponent)

    def __rpow__(self, base: Any) -> Tensor:
        return ops.Pow.apply(base, self)

    def __mod__(self, other: Any) -> Tensor:
        return ops.Remainder.apply(self, other)

    def __rmod__(self, other: Any) -> Tensor:
        return ops.Remainder.apply(other, self)

    def __floordiv__(self, other: Any) -> Tensor:
        return ops.FloorDivide.apply(self, other)

    def __rfloordiv__(self, other: Any) -> Tensor:
        return ops.FloorDivide.apply(other, self)

    def __matmul__(self, other: Any) -> Tensor:
        return ops.MatMul.apply(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return ops.MatMul.apply(other, self)

    def __neg__(self) -> Tensor:
        return ops.Neg.apply(self)

    def __pos__(self) -> Tensor:
        if self._data.dtype.kind == "b":
            raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
        return self

    def __abs__(self) -> Tensor:
        return ops.Abs.apply(self)

    def abs(self) -> Tensor:
        return ops.Abs.apply(self)

    def exp(self) -> Tensor:
        return ops.Exp.apply(self)

    def log(self) -> Tensor:
        return ops.Log.apply(self)

    def sqrt(self) -> Tensor:
        return ops.Sqrt.apply(self)

    def tanh(self) -> Tensor:
        return ops.Tanh.apply(self)

    def erf(self) -> Tensor:
        return ops.Erf.apply(self)

    def sigmoid(self) -> Tensor:
        return ops.Sigmoid.apply(self)

    def relu(self) -> Tensor:
        return ops.Relu.apply(self)

    def log1p(self) -> Tensor:
        """log(1 + x), accurate for tiny x."""
        return ops.Log1p.apply(self)

    def expm1(self) -> Tensor:
        """exp(x) - 1, accurate for tiny x."""
        return ops.Expm1.apply(self)

    def sign(self) -> Tensor:
        """-1, 0 or 1 by each entry's sign (0 at NaN), in this tensor's dtype; gradient 0."""
        return ops.Sign.apply(self)

    def floor(self) -> Tensor:
        """Each entry rounded down (integers as they are); gradient 0, as PyTorch's."""
        return ops.Rounded.apply(self, np.floor, None)

    def ceil(self) -> Tensor:
        """Each entry rounded up (integers as they are); gradient 0."""
        return ops.Rounded.apply(self, np.ceil, None)

    def trunc(self) -> Tensor:
        """Each entry rounded toward zero (integers as they are); gradient 0."""
        return ops.Rounded.apply(self, np.trunc, None)

    def round(self, *, decimals: int | None = None) -> Tensor:
        """Each entry rounded to the nearest integer, halves to even (``decimals``: to that
        many decimal places; negative: to tens, hundreds, ...); gradient 0, as PyTorch's::

            Tensor([0.5, 1.5, 2.25]).round()            # [0., 2., 2.]
            Tensor([2.25, 150.0]).round(decimals=-2)    # [0., 200.]
        """
        return ops.Rounded.apply(self, np.rint, None if decimals is None
                                 else operator.index(decimals))

    def nan_to_num(self, nan: float = 0.0, posinf: float | None = None,
                   neginf: float | None = None) -> Tensor:
        """NaN, inf and -inf replaced by ``nan``, ``posinf`` and ``neginf`` (by default 0 and
        the dtype's largest and smallest finite numbers); the gradient passes where the
        entry was finite."""
        return ops.NanToNum.apply(self, nan, posinf, neginf)

    def clamp(self, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002 (PyTorch's)
        """Each entry limited to [min, max] (either may be None)."""
        return ops.clamp(self, min, max)

    def clip(self, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002 (PyTorch's)
        return ops.clamp(self, min, max)

    def isnan(self) -> Tensor:
        return ops.classify(np.isnan, self)

    def isinf(self) -> Tensor:
        return ops.classify(np.isinf, self)

    def isfinite(self) -> Tensor:
        return ops.classify(np.isfinite, self)

    def softmax(self, dim: int, dtype: Any = None) -> Tensor:
        from .functional import softmax

        return softmax(self, dim, dtype=dtype)

    def log_softmax(self, dim: int, dtype: Any = None) -> Tensor:
        from .functional import log_softmax

        return log_softmax(self, dim, dtype=dtype)

    # comparisons and logic: boolean results, outside the graph

    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        if not isinstance(other, _OPERANDS):
            return NotImplemented  # (another type's own comparison: pytest.approx)
        return ops.compare(np.equal, self, other)

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        if not isinstance(other, _OPERANDS):
            return NotImplemented  # (another type's own comparison: pytest.approx)
        return ops.compare(np.not_equal, self, other)

    def __lt__(self, other: Any) -> Tensor:
        if not isinstance(other, _OPERANDS):
            return NotImplemented  # (another type's own comparison: pytest.approx)
        return ops.compare(np.less, self, other)

    def __le__(self, other: Any) -> Tensor:
        if not isinstance(other, _OPERANDS):
            return NotImplemented  # (another type's own comparison: pytest.approx)
        return ops.compare(np.less_equal, self, other)

    def __gt__(self, other: Any) -> Tensor:
        if not isinstance(other, _OPERANDS):
            return NotImplemented  # (another type's own comparison: pytest.approx)
        return ops.compare(np.greater, self, other)

    def __ge__(self, other: Any) -> Tensor:
        if not isinstance(other, _OPERANDS):
            return NotImplemented  # (another type's own comparison: pytest.approx)
        return ops.compare(np.greater_equal, self, other)

    def __and__(self, other: Any) -> Tensor:
        return ops.logical(np.bitwise_and, self, other)

    def __or__(self, other: Any) -> Tensor:
        return ops.logical(np.bitwise_or, self, other)

    def __xor__(self, other: Any) -> Tensor:
        return ops.logical(np.bitwise_xor, self, other)

    def __rand__(self, other: Any) -> Tensor:  # (`1 & x`: these three are symmetric)
        return ops.logical(np.bitwise_and, self, other)

    def __ror__(self, other: Any) -> Tensor:
        return ops.logical(np.bitwise_or, self, other)

    def __rxor__(self, other: Any) -> Tensor:
        return ops.logical(np.bitwise_xor, self, other)

    def __invert__(self) -> Tensor:
        return ops.logical(np.invert, self)

    def __lshift__(self, other: Any) -> Tensor:
        return composite.bitwise_left_shift(self, other)

    def __rlshift__(self, other: Any) -> Tensor:
        return composite.bitwise_left_shift(other, self)

    def __rshift__(self, other: Any) -> Tensor:
        return composite.bitwise_right_shift(self, other)

    def __rrshift__(self, other: Any) -> Tensor:
        return composite.bitwise_right_shift(other, self)

    # reductions: ``dim`` and ``keepdim`` as in PyTorch (NumPy's ``axis``, ``keepdims`` too)

    def sum(self, dim: int | Sequence[int] | None = None, keepdim: bool = False, *,
            dtype: Any = None, axis: int | Sequence[int] | None = None,
            keepdims: bool | None = None) -> Tensor:
        """The sum over ``dim``; with ``dtype``, of the entries converted to it first."""
        reduced = ops.dims(dim, axis, self._data.ndim)
        return _in_dtype(self, dtype, ops.Sum.apply, reduced, keepdim or bool(keepdims))

    def mean(self, dim: int | Sequence[int] | None = None, keepdim: bool = False, *,
             dtype: Any = None, axis: int | Sequence[int] | None = None,
             keepdims: bool | None = None) -> Tensor:
        """The mean over ``dim``; with ``dtype`` (a floating one), of the entries converted
        to it first."""
        if dtype is not None and np.dtype(dtype).kind != "f":
            raise RuntimeError(f"mean(dtype={np.dtype(dtype)}): the dtype must be floating")
        x = self if dtype is None else self.to(dtype)
        return ops.Mean.apply(x, ops.dims(dim, axis, self._data.ndim), keepdim or bool(keepdims))

    def prod(self, dim: int | None = None, keepdim: bool = False, *, dtype: Any = None
             ) -> Tensor:
        """The product of all entries, or along ``dim`` (one dim, as PyTorch's); integers
        multiply as int64. With ``dtype``, of the entries converted to it first."""
        if dim is not None and not isinstance(dim, (int, np.integer)):
            raise TypeError(f"prod takes one dim (an int), not {dim!r}")
        along = None if dim is None else normalize_dim(dim, self._data.ndim)
        if not self._data.ndim:
            along = None  # (along dim 0 or -1, a 0-d tensor's product is its one entry)
        return _in_dtype(self, dtype, ops.Prod.apply, along, keepdim)

    def logsumexp(self, dim: int | Sequence[int], keepdim: bool = False) -> Tensor:
        """log(sum(exp(x))) over ``dim``, computed without overflow."""
        return ops.LogSumExp.apply(self, ops.dims(dim, None, self._data.ndim), keepdim)

    def all(self, dim: int | Sequence[int] | None = None, keepdim: bool = False) -> Tensor:
        """Whether every entry over ``dim`` is nonzero (NaN counts): boolean, no gradient."""
        return ops.truth(self, dim, keepdim, np.all)

    def any(self, dim: int | Sequence[int] | None = None, keepdim: bool = False) -> Tensor:
        """Whether some entry over ``dim`` is nonzero (NaN counts): boolean, no gradient."""
        return ops.truth(self, dim, keepdim, np.any)

    def amax(self, dim: int | Sequence[int] | None = None, keepdim: bool = False, *,
             axis: int | Sequence[int] | None = None, keepdims: bool | None = None) -> Tensor:
        """The largest entries over ``dim``; tied maxima share the gradient equally."""
        reduced = ops.dims(dim, axis, self._data.ndim)
        if (dim if axis is None else axis) not in (None, (), []):  # (empty: every dim)
            ops.named_dims_nonempty(self._data, reduced, "amax")
        return ops.Extreme.apply(self, reduced, keepdim or bool(keepdims), np.maximum, False)

    def amin(self, dim: int | Sequence[int] | None = None, keepdim: bool = False, *,
             axis: int | Sequence[int] | None = None, keepdims: bool | None = None) -> Tensor:
        """The smallest entries over ``dim``; tied minima share the gradient equally."""
        reduced = ops.dims(dim, axis, self._data.ndim)
        if (dim if axis is None else axis) not in (None, (), []):  # (empty: every dim)
            ops.named_dims_nonempty(self._data, reduced, "amin")
        return ops.Extreme.apply(self, reduced, keepdim or bool(keepdims), np.minimum, False)

    def max(self, dim: Any = None, keepdim: bool = False, *, axis: int | None = None,
            keepdims: bool | None = None) -> Any:
        """As PyTorch: ``max()`` the largest entry; ``max(dim)`` the named tuple
        ``(values, indices)`` along ``dim``; ``max(other)`` the elementwise maximum."""
        return ops.max_or_min(self, ops.alias(dim, axis), keepdim or bool(keepdims), np.maximum)

    def min(self, dim: Any = None, keepdim: bool = False, *, axis: int | None = None,
            keepdims: bool | None = None) -> Any:
        """As ``max``, for the smallest entries."""
        return ops.max_or_min(self, ops.alias(dim, axis), keepdim or bool(keepdims), np.minimum)

    def argmax(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        return ops.arg_extreme(self, dim, keepdim, np.argmax)

    def argmin(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        return ops.arg_extreme(self, dim, keepdim, np.argmin)

    def argsort(self, dim: int = -1, descending: bool = False, *, stable: bool = False
                ) -> Tensor:
        """The int64 indices that sort along ``dim`` (NaN counts as the largest); ties keep
        their order (``stable`` is accepted: the order is always stable)."""
        return ops.argsort(self, dim, descending)

    # shape

    def reshape(self, *shape: int | Sequence[int]) -> Tensor:
        return ops.Reshape.apply(self, ops.shape_argument(shape))

    def view(self, *shape: int | Sequence[int]) -> Tensor:
        """As ``reshape``, but never a copy: an error where the layout would need one.
        ``view(dtype)``: the same memory read as another dtype, outside the graph."""
        if len(shape) == 1 and isinstance(shape[0], (np.dtype, dtypes.dtype, type)):
            from .surface import view_as_dtype

            return view_as_dtype(self, shape[0])
        return ops.Reshape.apply(self, ops.shape_argument(shape), True)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        return ops.Reshape.apply(self, ops.flattened_shape(self._data.shape, start_dim, end_dim))

    def unsqueeze(self, dim: int) -> Tensor:
        return ops.Reshape.apply(self, ops.unsqueezed_shape(self._data.shape, dim))

    def squeeze(self, dim: int | Sequence[int] | None = None) -> Tensor:
        return ops.Reshape.apply(self, ops.squeezed_shape(self._data.shape, dim))

    def permute(self, *order: int | Sequence[int], dims: Sequence[int] | None = None) -> Tensor:
        """The dimensions in a new order: ``x.permute(1, 0)``, ``x.permute((1, 0))`` or
        ``x.permute(dims=[1, 0])``."""
        given = ops.shape_argument(order if dims is None else (dims,))
        return ops.Permute.apply(self, ops.permutation(self._data.ndim, given))

    def transpose(self, dim0: int, dim1: int) -> Tensor:
        """Swap two dimensions (PyTorch's meaning; ``permute`` takes a whole order)."""
        return ops.Permute.apply(self, ops.swap(self._data.ndim, dim0, dim1))

    def swapaxes(self, axis0: int, axis1: int) -> Tensor:
        """``transpose``'s other name (NumPy's)."""
        return ops.Permute.apply(self, ops.swap(self._data.ndim, axis0, axis1))

    def swapdims(self, dim0: int, dim1: int) -> Tensor:
        """``transpose``'s other name."""
        return ops.Permute.apply(self, ops.swap(self._data.ndim, dim0, dim1))

    def t(self) -> Tensor:
        """A matrix transposed; a tensor of fewer dimensions as it is, more: RuntimeError."""
        return ops.Permute.apply(self, ops.transposed_matrix(self._data.ndim))

    def movedim(self, source: int | Sequence[int], destination: int | Sequence[int]) -> Tensor:
        """The dimensions ``source`` moved to the places ``destination``, the others keeping
        their order::

            zeros(2, 3, 4).movedim(0, -1).shape    # (3, 4, 2)
        """
        return ops.Permute.apply(self, ops.moved(self._data.ndim, source, destination))

    def moveaxis(self, source: int | Sequence[int], destination: int | Sequence[int]
                 ) -> Tensor:
        """``movedim``'s other name (NumPy's)."""
        return self.movedim(source, destination)

    def narrow(self, dim: int, start: int, length: int) -> Tensor:
        """``length`` entries along ``dim`` from ``start`` (counted from the end if negative)."""
        return ops.narrow(self, dim, start, length)

    def roll(self, shifts: int | Sequence[int], dims: int | Sequence[int] | None = None
             ) -> Tensor:
        """The entries shifted by ``shifts`` along ``dims`` (the flattened tensor if None),
        those pushed off the end coming back at the start."""
        return ops.roll(self, shifts, dims)

    @property
    def T(self) -> Tensor:  # noqa: N802 (PyTorch's name)
        """The dimensions in reverse order (a matrix's transpose)."""
        return ops.Permute.apply(self, tuple(range(self._data.ndim - 1, -1, -1)))

    @property
    def mT(self) -> Tensor:  # noqa: N802 (PyTorch's name)
        """The last two dimensions swapped: a batch of matrices, each transposed (a 0-d
        tensor is itself, with PyTorch's warning; a 1-d one is refused, as PyTorch's)."""
        ndim = self._data.ndim
        if ndim < 2:
            if ndim == 1:
                raise RuntimeError("tensor.mT is only supported on matrices or batches of "
                                   "matrices. Got 1-D tensor.")
            warnings.warn("Tensor.mT is deprecated on 0-D tensors. This function is the "
                          "identity in these cases.", UserWarning, stacklevel=2)
            return self
        return ops.Permute.apply(self, ops.swap(ndim, -2, -1))

    def expand(self, *shape: int | Sequence[int]) -> Tensor:
        return ops.Expand.apply(self, ops.expanded_shape(self._data.shape,
                                                         ops.shape_argument(shape)))

    # indexing and masking

    def __getitem__(self, index: Any) -> Tensor:
        return ops.Index.apply(self, ops.plain_index(index, self._data))

    def gather(self, dim: int, index: Any, *, sparse_grad: bool = False) -> Tensor:
        """The entries at ``index`` (an integer tensor of this tensor's number of dimensions)
        along ``dim``: out[i][j] = self[index[i][j]][j] for dim 0. Repeated indices add their
        gradients (``sparse_grad`` is accepted; gradients are dense)::

            Tensor([[1.0, 2.0], [3.0, 4.0]]).gather(1, Tensor([[1, 1], [0, 1]]))
            # [[2., 2.], [3., 4.]]
        """
        return ops.Gather.apply(self, normalize_dim(dim, self._data.ndim),
                                ops.tensor_argument(index, "gather", "the index"))

    def index_select(self, dim: int, index: Any) -> Tensor:
        """The slices along ``dim`` at the entries of ``index`` (an integer vector), in its
        order; repeats allowed."""
        return ops.IndexSelect.apply(self, normalize_dim(dim, self._data.ndim),
                                     ops.tensor_argument(index, "index_select", "the index"))

    def where(self, condition: Any, other: Any) -> Tensor:
        """This tensor where ``condition`` is True, else ``other``: ``where(condition, self,
        other)``."""
        return ops.where(condition, self, other)

    def masked_fill(self, mask: Any, value: Any) -> Tensor:
        """``value`` (a number or a 0-d tensor) where ``mask`` (boolean) is True, else self;
        in this tensor's dtype, as PyTorch's. The tensor and the mask broadcast together."""
        return ops.MaskedFill.apply(self, ops.boolean_mask(mask, self._data.shape),
                                    ops.fill_value(value))

    def masked_fill_(self, mask: Any, value: Any) -> Tensor:
        """``masked_fill`` into this tensor's own array (the mask broadcasts to its shape),
        where in-place ops are allowed: see ``__setitem__``."""
        mask = ops.boolean_mask(mask, self._data.shape, in_place=True)
        if _in_graph(self, value):
            return written_in_place(self, lambda: self.masked_fill(mask, value))
        return ops.set_items(self, mask, ops.fill_value(value))

    def __setitem__(self, index: Any, value: Any) -> None:
        """``x[index] = value`` into this tensor's own array (``value`` cast to its dtype and
        broadcast), as PyTorch's: an op of the graph where this tensor, or the value,
        requires grad (see ``written_in_place``)."""
        index = ops.plain_index(index, self._data)
        if isinstance(value, Tensor) and _is_view_at(value._data, self._data, index):
            return  # ``x[i] += y``: ``x[i]`` was written in place; this writes it onto itself
        if _in_graph(self, value):
            written_in_place(self, lambda: scatter_ops.assigned(self, index, value))
        else:
            ops.set_items(self, index, value)

    # dtype and device

    @property
    def device(self) -> devices.device:
        """Where the data lives: always the CPU."""
        return CPU

    is_cuda = False  # (PyTorch's attribute: no tensor here is on a GPU)
    # PyTorch's other device and layout flags, all False here: model code reads them to pick
    # a path (pytorch/examples' DCGAN: ``if (input.is_cuda or input.is_xpu) and ngpu > 1``)
    is_xpu = is_mps = is_meta = is_xla = is_ipu = is_maia = is_mtia = is_vulkan = False
    is_sparse = is_sparse_csr = is_quantized = is_mkldnn = is_nested = False

    def to(self, *args: Any, dtype: Any = None, device: Any = None, copy: bool = False,
           non_blocking: bool = False, memory_format: Any = None) -> Tensor:
        """This tensor in another dtype and/or on a device, as PyTorch's: ``to(dtype)``,
        ``to(device)``, ``to(device, dtype)``, ``to(other)`` (other's dtype); with
        ``memory_format``, laid out in it. Itself if nothing changes (unless ``copy``);
        gradients flow back between floating dtypes. The only device is the CPU: any other
        raises RuntimeError."""
        if memory_format is not None and memory_format is not _layouts().preserve_format:
            return self.to(*args, dtype=dtype, device=device, copy=copy)._laid_out(
                memory_format, exact=True)
        for arg in args:
            if isinstance(arg, Tensor):
                dtype = arg._data.dtype if dtype is None else dtype
            elif isinstance(arg, (str, devices.device)) or (
                    isinstance(arg, int) and not isinstance(arg, bool)):
                device = arg
            elif dtype is None:
                dtype = arg
            else:
                raise TypeError(f"to() got two dtypes: {dtype!r} and {arg!r}")
        check_device(device)
        wanted = self._data.dtype if dtype is None else np.dtype(dtype)
        if wanted.kind not in "biuf":
            raise TypeError(f"a Tensor holds numbers or booleans, not {wanted}")
        if wanted == self._data.dtype:
            return self.clone() if copy else self
        return ops.Cast.apply(self, wanted)

    def cpu(self) -> Tensor:
        """Itself: tensors live on the CPU."""
        return self

    def cuda(self, *args: Any, **kwargs: Any) -> Tensor:
        raise RuntimeError("tensorgrad runs on the CPU only: no CUDA (run the same code on "
                           "PyTorch for GPUs)")

    def type_as(self, other: Tensor) -> Tensor:
        """This tensor in ``other``'s dtype."""
        return self.to(other._data.dtype)

    def type(self, dtype: Any = None, non_blocking: bool = False, **kwargs: Any) -> Any:
        """Without ``dtype``, PyTorch's name of this tensor's type ('torch.FloatTensor');
        with one (a dtype, or such a name or class), this tensor in it."""
        from .surface import tensor_type

        return tensor_type(self, dtype)

    @property
    def H(self) -> Tensor:  # noqa: N802 (PyTorch's name)
        """The conjugate transpose of a matrix: its transpose (the numbers are real)."""
        from .surface import adjoint

        return adjoint(self, "tensor.H")

    @property
    def mH(self) -> Tensor:  # noqa: N802 (PyTorch's name)
        """The conjugate transpose of each matrix of a batch: the last two dimensions swapped."""
        from .surface import adjoint

        return adjoint(self, "tensor.mH")

    def adjoint(self) -> Tensor:
        """``mH``."""
        from .surface import adjoint

        return adjoint(self, "tensor.adjoint()")

    def clone(self, *, memory_format: Any = None) -> Tensor:
        """A copy in the graph, laid out as this tensor (or in ``memory_format``)."""
        if memory_format is not None and memory_format is not _layouts().preserve_format:
            return self._laid_out(memory_format, always=True)
        return ops.Cast.apply(self, None)

    def contiguous(self, memory_format: Any = None) -> Tensor:
        """Itself if its array is in C order (or in ``memory_format``: ``tg.channels_last``
        for 4-d, ``tg.channels_last_3d`` for 5-d), else a copy that is."""
        if memory_format is not None:
            return self._laid_out(memory_format)
        return self if self._data.flags.c_contiguous else ops.Cast.apply(self, None, "C")

    def _laid_out(self, memory_format: Any, always: bool = False, exact: bool = False
                  ) -> Tensor:
        """This tensor in ``memory_format``: itself if it is already (unless ``always``;
        with ``exact``, only where its strides are PyTorch's for the format, as ``to()``
        keeps a tensor)."""
        layouts = _layouts()
        format = layouts.checked(memory_format)
        data = self._data
        if format is layouts.preserve_format:  # as it is, if it is in a format
            if layouts.kept_format(data) is None:
                raise RuntimeError("preserve memory format is unsupported by the contiguous "
                                   "operator (a tensor laid out in no format)")
            return self
        order = layouts.order(format, data.ndim) or tuple(range(data.ndim))
        wanted = layouts.strides(data.shape, order)
        if not always and (self.stride() == wanted if exact else
                           layouts.is_laid_out(data, format)):
            return self
        back = tuple(order.index(d) for d in range(len(order)))
        out = ops.Cast.apply(self.permute(order), None, "C").permute(back)
        # (NumPy's strides of lengths 1 and 0 are its own; the entries are where PyTorch's are)
        out._data = np.lib.stride_tricks.as_strided(
            out._data, data.shape, tuple(s * data.itemsize for s in wanted))
        return out

    # in place, as PyTorch's: a plain write outside the graph (or under no_grad()), an op of
    # the graph in it (written_in_place)

    def __iadd__(self, other: Any) -> Tensor:
        if _in_graph(self, other):
            return written_in_place(self, lambda: self + other)
        return ops.in_place(np.add, self, other)

    def __isub__(self, other: Any) -> Tensor:
        if _in_graph(self, other):
            return written_in_place(self, lambda: self - other)
        return ops.in_place(np.subtract, self, other)

    def __imul__(self, other: Any) -> Tensor:
        if _in_graph(self, other):
            return written_in_place(self, lambda: self * other)
        return ops.in_place(np.multiply, self, other)

    def __itruediv__(self, other: Any) -> Tensor:
        if _in_graph(self, other):
            return written_in_place(self, lambda: self / other)
        return ops.in_place(np.true_divide, self, other)

    # (without these Python would rebind ``x`` to a new tensor, and whatever else holds the
    # tensor would not see the change)
    def __ifloordiv__(self, other: Any) -> Tensor:
        return written_in_place(self, lambda: self // other)

    def __imod__(self, other: Any) -> Tensor:
        return written_in_place(self, lambda: self % other)

    def __ipow__(self, other: Any) -> Tensor:
        return written_in_place(self, lambda: self ** other)

    def __iand__(self, other: Any) -> Tensor:
        return written_in_place(self, lambda: self & other)

    def __ior__(self, other: Any) -> Tensor:
        return written_in_place(self, lambda: self | other)

    def __ixor__(self, other: Any) -> Tensor:
        return written_in_place(self, lambda: self ^ other)

    def __ilshift__(self, other: Any) -> Tensor:
        return written_in_place(self, lambda: self << other)

    def __irshift__(self, other: Any) -> Tensor:
        return written_in_place(self, lambda: self >> other)

    def zero_(self) -> Tensor:
        if _in_graph(self):
            return written_in_place(self, lambda: self.masked_fill(_everywhere(self), 0))
        return ops.zero_(self)

    def fill_(self, value: Any) -> Tensor:
        if _in_graph(self, value):
            return written_in_place(self, lambda: self.masked_fill(_everywhere(self), value))
        return ops.set_items(self, Ellipsis, value)

    # more in place, each an out-of-place op's result written into this tensor's own array
    # (see written_in_place: the same rules as above)

    def add_(self, other: Any, *, alpha: Any = 1) -> Tensor:
        """``self += alpha * other`` in place: ``x.add_(y, alpha=-0.1)``."""
        return written_in_place(self, lambda: self.add(other, alpha=alpha))

    def sub_(self, other: Any, *, alpha: Any = 1) -> Tensor:
        """``self -= alpha * other`` in place."""
        return written_in_place(self, lambda: self.sub(other, alpha=alpha))

    def mul_(self, other: Any) -> Tensor:
        """``self *= other`` in place."""
        return written_in_place(self, lambda: self * other)

    def div_(self, other: Any, *, rounding_mode: str | None = None) -> Tensor:
        """``self /= other`` in place (a floating tensor: an integer one cannot hold it, but
        for a ``rounding_mode``)."""
        return written_in_place(self, lambda: self.div(other, rounding_mode=rounding_mode))

    def pow_(self, exponent: Any) -> Tensor:
        """``self **= exponent`` in place."""
        return written_in_place(self, lambda: self**exponent)

    def clamp_(self, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002 (PyTorch's)
        """Limit each entry to [min, max] in place: ``x.clamp_(min=0)``."""
        if min is None and max is None:
            raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
        return written_in_place(self, lambda: self.clamp(min, max))

    def copy_(self, src: Any, non_blocking: bool = False) -> Tensor:
        """Copy ``src`` (broadcast to this shape, cast to this dtype) into this tensor:
        ``x.copy_(Tensor([1.5, 2.5]))``."""
        return written_in_place(self, lambda: ops.Cast.apply(
            ops.tensor_argument(src, "copy_", "src"), None), cast=True)

    def addcmul_(self, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1) -> Tensor:
        """``self += value * tensor1 * tensor2`` in place."""
        return written_in_place(self, lambda: self.addcmul(tensor1, tensor2, value=value))

    def addcdiv_(self, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1) -> Tensor:
        """``self += value * tensor1 / tensor2`` in place."""
        return written_in_place(self, lambda: self.addcdiv(tensor1, tensor2, value=value))

    def lerp_(self, end: Tensor, weight: Any) -> Tensor:
        """``self += weight * (end - self)`` in place (an exponential moving average)."""
        return written_in_place(self, lambda: self.lerp(end, weight))

    def neg_(self) -> Tensor:
        return written_in_place(self, lambda: -self)

    def abs_(self) -> Tensor:
        return written_in_place(self, lambda: abs(self))

    def exp_(self) -> Tensor:
        return written_in_place(self, lambda: self.exp())

    def sqrt_(self) -> Tensor:
        return written_in_place(self, lambda: self.sqrt())

    def normal_(self, mean: float = 0.0, std: float = 1.0, *,
                generator: Generator | None = None) -> Tensor:
        """Fill with draws from N(mean, std**2), from ``generator`` or the default one."""
        if std < 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
        return _drawn(self, "normal_", lambda: random.normal(self._data.shape, mean, std,
                                                             generator))

    def uniform_(self, from_: float = 0.0, to: float = 1.0, *,
                 generator: Generator | None = None) -> Tensor:
        """Fill with draws from the uniform distribution on [from_, to) (PyTorch's ``from``,
        a Python keyword: pass it by position)."""
        if from_ > to:
            raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found "
                               f"from={from_} > to={to}")
        return _drawn(self, "uniform_", lambda: random.uniform(self._data.shape, from_, to,
                                                               generator))

    def bernoulli_(self, p: Any = 0.5, *, generator: Generator | None = None) -> Tensor:
        """Fill with 1 with probability ``p`` (a number, or a tensor that broadcasts to this
        shape), else 0."""
        chance = np.asarray(p._data if isinstance(p, Tensor) else p, np.float64)
        if np.any((chance < 0) | (chance > 1)) or np.isnan(chance).any():
            raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p}")
        return _drawn(self, "bernoulli_", lambda: rng(generator).random(self._data.shape) < chance,
                      floating_only=False)

    def bernoulli(self, p: float | None = None, *, generator: Generator | None = None
                  ) -> Tensor:
        """``tensorgrad.bernoulli(self)``: 1 with each entry's probability (or ``p``'s)."""
        from .creation import bernoulli

        return bernoulli(self, p, generator=generator)

    def exponential_(self, lambd: float = 1.0, *, generator: Generator | None = None
                     ) -> Tensor:
        """Fill with draws from the exponential distribution of rate ``lambd``."""
        if not lambd > 0:
            raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd}")
        return _drawn(self, "exponential_",
                      lambda: rng(generator).exponential(1 / lambd, self._data.shape))

    def log_normal_(self, mean: float = 1.0, std: float = 2.0, *,
                    generator: Generator | None = None) -> Tensor:
        """Fill with exp of draws from N(mean, std**2)."""
        if not std > 0:
            raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std}")
        return _drawn(self, "log_normal_",
                      lambda: rng(generator).lognormal(mean, std, self._data.shape))

    def cauchy_(self, median: float = 0.0, sigma: float = 1.0, *,
                generator: Generator | None = None) -> Tensor:
        """Fill with draws from the Cauchy distribution at ``median`` of scale ``sigma``."""
        if not sigma > 0:
            raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={sigma}")
        return _drawn(self, "cauchy_", lambda: median + sigma * rng(generator)
                      .standard_cauchy(self._data.shape))

    def geometric_(self, p: float, *, generator: Generator | None = None) -> Tensor:
        """Fill with the number of trials up to the first success of probability ``p``."""
        if not 0 < p < 1:
            raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p}")
        return _drawn(self, "geometric_", lambda: rng(generator).geometric(p, self._data.shape),
                      floating_only=False)

    def random_(self, from_: int = 0, to: int | None = None, *,
                generator: Generator | None = None) -> Tensor:
        """Fill with integers drawn uniformly from [from_, to), or with one argument from
        [0, from_) (PyTorch's ``random_(to)``); with none, from [0, 2**mantissa bits] for a
        floating tensor, as PyTorch's."""
        if to is None and from_ != 0:
            from_, to = 0, from_
        if to is None:
            to = (1 << (np.finfo(self._data.dtype).nmant + 1)) + 1 \
                if self._data.dtype.kind == "f" else np.iinfo(self._data.dtype).max
        if from_ >= to:
            raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got "
                               f"from={from_} >= to={to}")
        return _drawn(self, "random_", lambda: rng(generator).integers(from_, to,
                                                                        self._data.shape),
                      floating_only=False)

    def detach_(self) -> Tensor:
        """Cut this tensor off from the graph, in place: a leaf that requires no grad."""
        self.grad_fn, self._requires_grad = None, False
        return self

    @property
    def is_cpu(self) -> bool:
        return True

    def get_device(self) -> int:
        """-1: the CPU, as PyTorch numbers it."""
        return -1

    def is_pinned(self) -> bool:
        return False

    def pin_memory(self, device: Any = None) -> Tensor:
        raise RuntimeError("Cannot access accelerator device when none is available: "
                           "tensorgrad runs on the CPU only")

    def scatter_(self, dim: int, index: Tensor, src: Any = None, *, value: Any = None,
                 reduce: str | None = None) -> Tensor:
        """``scatter`` written into this tensor's own array."""
        return written_in_place(self, lambda: self.scatter(dim, index, src, value=value,
                                                   reduce=reduce))

    def scatter_add_(self, dim: int, index: Tensor, src: Tensor) -> Tensor:
        """``scatter_add`` written into this tensor's own array."""
        return written_in_place(self, lambda: self.scatter_add(dim, index, src))

    def index_add_(self, dim: int, index: Tensor, source: Tensor, *, alpha: Any = 1) -> Tensor:
        """``index_add`` written into this tensor's own array."""
        return written_in_place(self, lambda: self.index_add(dim, index, source, alpha=alpha))

    def index_fill_(self, dim: int, index: Tensor, value: Any) -> Tensor:
        """``index_fill`` written into this tensor's own array."""
        return written_in_place(self, lambda: self.index_fill(dim, index, value))

    # writing at indices, out of place (scatter_ops.py)

    def scatter(self, dim: int, index: Tensor, src: Any = None, *, value: Any = None,
                reduce: str | None = None) -> Tensor:
        """A copy with ``src``'s entries (or the number ``value``) written where ``index``
        says along ``dim``: for dim 0, out[index[i][j]][j] = src[i][j]; ``reduce`` "add" or
        "multiply" combines them with what is there instead (no gradient then)::

            Tensor([0.0, 0.0, 0.0]).scatter(0, Tensor([2, 0]), Tensor([5.0, 6.0]))
            # [6., 0., 5.]
        """
        dim = normalize_dim(dim, self._data.ndim)
        index = ops.tensor_argument(index, "scatter", "the index")
        if (src is None) == (value is None):
            raise TypeError("scatter() takes one of src (a tensor) and value (a number)")
        if src is not None and not isinstance(src, (Tensor, np.ndarray)):
            value = src  # scatter(dim, index, 2.0): PyTorch's value overload
        elif src is not None:
            return scatter_ops.Scatter.apply(self, dim, index, src, reduce)
        if isinstance(value, (Tensor, np.ndarray)):
            raise TypeError("scatter(): value is a number; pass a tensor as src")
        return scatter_ops.ScatterValue.apply(self, dim, index, value, reduce)

    def scatter_add(self, dim: int, index: Tensor, src: Tensor) -> Tensor:
        """A copy with ``src``'s entries added where ``index`` says along ``dim``: for dim 0,
        out[index[i][j]][j] += src[i][j], repeated indices adding up."""
        return scatter_ops.ScatterAdd.apply(
            self, normalize_dim(dim, self._data.ndim),
            ops.tensor_argument(index, "scatter_add", "the index"),
            ops.tensor_argument(src, "scatter_add", "src"))

    def index_add(self, dim: int, index: Tensor, source: Tensor, *, alpha: Any = 1) -> Tensor:
        """A copy with ``alpha`` times ``source``'s i-th slice along ``dim`` added to slice
        ``index[i]`` (repeats add up)::

            Tensor([0.0, 0.0]).index_add(0, Tensor([1, 1]), Tensor([1.0, 2.0]))  # [0., 3.]
        """
        return scatter_ops.IndexAdd.apply(
            self, normalize_dim(dim, self._data.ndim),
            ops.tensor_argument(index, "index_add", "the index"),
            ops.tensor_argument(source, "index_add", "source"), alpha)

    def index_fill(self, dim: int, index: Tensor, value: Any) -> Tensor:
        """A copy with the slices along ``dim`` at ``index`` set to ``value`` (a number or a
        0-d tensor)."""
        return scatter_ops.IndexFill.apply(self, normalize_dim(dim, self._data.ndim),
                                       ops.tensor_argument(index, "index_fill", "the index"),
                                       value)

    # PyTorch's method names for the operators and the torch.* functions

    def add(self, other: Any, *, alpha: Any = 1) -> Tensor:
        """``self + alpha * other``, in the dtype PyTorch gives it (``composite.add``)."""
        return self + other if alpha == 1 else composite.add(self, other, alpha=alpha)

    def sub(self, other: Any, *, alpha: Any = 1) -> Tensor:
        """``self - alpha * other``, in the dtype PyTorch gives it (``composite.sub``)."""
        return self - other if alpha == 1 else composite.sub(self, other, alpha=alpha)

    def mul(self, other: Any) -> Tensor:
        return self * other

    def div(self, other: Any, *, rounding_mode: str | None = None) -> Tensor:
        if rounding_mode is None:
            return self / other
        return composite.div(self, other, rounding_mode=rounding_mode)

    def pow(self, exponent: Any) -> Tensor:
        return self**exponent

    def matmul(self, other: Any) -> Tensor:
        return self @ other

    def mm(self, mat2: Tensor) -> Tensor:
        """The product of two matrices of one dtype (no broadcasting, as PyTorch's ``mm``)."""
        return ops.matrix_product(self, mat2, 2, "mm")

    def bmm(self, mat2: Tensor) -> Tensor:
        """The products of two equal batches of matrices: (b, n, k) and (b, k, m)."""
        return ops.matrix_product(self, mat2, 3, "bmm")

    # ---- made of other ops (composite.py) -----------------------------------------------------

    def addmm(self, mat1: Tensor, mat2: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
        return composite.addmm(self, mat1, mat2, beta=beta, alpha=alpha)

    def baddbmm(self, batch1: Tensor, batch2: Tensor, *, beta: Any = 1,
                alpha: Any = 1) -> Tensor:
        return composite.baddbmm(self, batch1, batch2, beta=beta, alpha=alpha)

    def dot(self, other: Tensor) -> Tensor:
        return composite.dot(self, other)

    def mv(self, vec: Tensor) -> Tensor:
        return composite.mv(self, vec)

    def clamp_min(self, min: Any) -> Tensor:  # noqa: A002 (PyTorch's name)
        return self.clamp(min=min)

    def clamp_max(self, max: Any) -> Tensor:  # noqa: A002 (PyTorch's name)
        return self.clamp(max=max)

    def nansum(self, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
        return composite.nansum(self, dim, keepdim, dtype=dtype)

    def nanmean(self, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
        return composite.nanmean(self, dim, keepdim, dtype=dtype)

    def median(self, dim: int | None = None, keepdim: bool = False) -> Any:
        return composite.median(self, dim, keepdim)

    def diff(self, n: int = 1, dim: int = -1, prepend: Any = None,
             append: Any = None) -> Tensor:
        return composite.diff(self, n, dim, prepend, append)

    def take_along_dim(self, indices: Tensor, dim: int | None = None) -> Tensor:
        return composite.take_along_dim(self, indices, dim)

    def select(self, dim: int, index: int) -> Tensor:
        return composite.select(self, dim, index)

    def negative(self) -> Tensor:
        return -self

    def positive(self) -> Tensor:
        return +self

    def absolute(self) -> Tensor:
        return self.abs()

    def sgn(self) -> Tensor:
        return self.sign()

    def true_divide(self, other: Any) -> Tensor:
        return self / other

    def floor_divide(self, other: Any) -> Tensor:
        return self // other

    def relu_(self) -> Tensor:
        """``relu`` in place (PyTorch's rules: a leaf that requires grad refuses)."""
        return written_in_place(self, self.relu)

    def sigmoid_(self) -> Tensor:
        return written_in_place(self, self.sigmoid)

    def tanh_(self) -> Tensor:
        return written_in_place(self, self.tanh)

    def log_(self) -> Tensor:
        return written_in_place(self, self.log)

    def floor_(self) -> Tensor:
        return written_in_place(self, self.floor)

    def round_(self) -> Tensor:
        return written_in_place(self, self.round)

    def square_(self) -> Tensor:
        return written_in_place(self, lambda: self * self)

    def __contains__(self, element: Any) -> bool:
        """``element in tensor``: whether any entry equals it."""
        return bool((self == element).any().item())

    def outer(self, vec2: Tensor) -> Tensor:
        """The outer product of two vectors: out[i, j] = self[i] * vec2[j]."""
        for v in (self, vec2):
            if np.ndim(v._data if isinstance(v, Tensor) else v) != 1:
                raise RuntimeError(f"outer takes two vectors, not shapes {self._data.shape} and "
                                   f"{np.shape(vec2._data if isinstance(vec2, Tensor) else vec2)}")
        return self.reshape(-1, 1) * vec2

    def maximum(self, other: Tensor) -> Tensor:
        """The elementwise larger of two tensors (NaN wins); ties share the gradient."""
        return ops.Maximum.apply(self, ops.tensor_argument(other, "maximum", "other"),
                                 np.maximum)

    def minimum(self, other: Tensor) -> Tensor:
        """The elementwise smaller of two tensors (NaN wins); ties share the gradient."""
        return ops.Maximum.apply(self, ops.tensor_argument(other, "minimum", "other"),
                                 np.minimum)

    def remainder(self, other: Any) -> Tensor:
        """``self % other``: the remainder with the sign of ``other``."""
        return ops.Remainder.apply(self, other)

    def fmod(self, other: Any) -> Tensor:
        """The remainder with the sign of ``self`` (C's fmod): self - other * trunc(self /
        other)."""
        return ops.Fmod.apply(self, other)

    def lerp(self, end: Tensor, weight: Any) -> Tensor:
        """self + weight * (end - self): ``end`` a tensor of this dtype, ``weight`` a number
        or a tensor; the three broadcast."""
        return ops.Lerp.apply(self, ops.tensor_argument(end, "lerp", "end"), weight)

    def addcmul(self, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1) -> Tensor:
        """self + value * tensor1 * tensor2 (all three broadcast)."""
        product = tensor1 * tensor2 if value == 1 else value * tensor1 * tensor2
        return self + product

    def addcdiv(self, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1) -> Tensor:
        """self + value * tensor1 / tensor2 (all three broadcast; not both integers, as in
        PyTorch)."""
        if all(np.asarray(t._data if isinstance(t, Tensor) else t).dtype.kind in "biu"
               for t in (tensor1, tensor2)):
            raise RuntimeError("addcdiv of two integer tensors: convert one to floating first "
                               "(PyTorch refuses the integer division it once did)")
        quotient = tensor1 / tensor2 if value == 1 else value * tensor1 / tensor2
        return self + quotient

    def isclose(self, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
                equal_nan: bool = False) -> Tensor:
        """Where |self - other| <= atol + rtol * |other| (``other`` a tensor of this dtype):
        a boolean tensor; equal infinities are close, NaN only with ``equal_nan``."""
        return ops.isclose(self, other, rtol, atol, equal_nan)

    def neg(self) -> Tensor:
        return -self

    def square(self) -> Tensor:
        # (booleans square to int64 in PyTorch, as ** 2 gives them; bool * bool stays bool)
        return self * self if self._data.dtype.kind != "b" else self**2

    def rsqrt(self) -> Tensor:
        return self.sqrt().reciprocal()

    def reciprocal(self) -> Tensor:
        return 1.0 / self

    # trigonometric, hyperbolic, logarithms and powers of 2 and 10 (integers become floating)

    def sin(self) -> Tensor:
        return ops.Sin.apply(self)

    def cos(self) -> Tensor:
        return ops.Cos.apply(self)

    def tan(self) -> Tensor:
        return ops.Tan.apply(self)

    def asin(self) -> Tensor:
        return ops.Asin.apply(self)

    def acos(self) -> Tensor:
        return ops.Acos.apply(self)

    def atan(self) -> Tensor:
        return ops.Atan.apply(self)

    def atan2(self, other: Tensor) -> Tensor:
        """The angle of the point (other, self), in (-pi, pi]; the two broadcast."""
        return ops.Atan2.apply(self, ops.tensor_argument(other, "atan2", "other"))

    def sinh(self) -> Tensor:
        return ops.Sinh.apply(self)

    def cosh(self) -> Tensor:
        return ops.Cosh.apply(self)

    def asinh(self) -> Tensor:
        return ops.Asinh.apply(self)

    def acosh(self) -> Tensor:
        return ops.Acosh.apply(self)

    def atanh(self) -> Tensor:
        return ops.Atanh.apply(self)

    def log2(self) -> Tensor:
        return ops.LogBase.apply(self, 2)

    def log10(self) -> Tensor:
        return ops.LogBase.apply(self, 10)

    def exp2(self) -> Tensor:
        return ops.Exp2.apply(self)

    def fmax(self, other: Tensor) -> Tensor:
        """The elementwise larger of two tensors, the other one where one is NaN."""
        return ops.NanIgnoringMaximum.apply(self, ops.tensor_argument(other, "fmax", "other"),
                                            np.fmax)

    def fmin(self, other: Tensor) -> Tensor:
        """The elementwise smaller of two tensors, the other one where one is NaN."""
        return ops.NanIgnoringMaximum.apply(self, ops.tensor_argument(other, "fmin", "other"),
                                            np.fmin)

    def float_power(self, exponent: Any) -> Tensor:
        """``self ** exponent`` in float64."""
        from .torch_functions import float_power

        return float_power(self, exponent)

    # comparisons and logic by name, as the operators: boolean, outside the graph

    def eq(self, other: Any) -> Tensor:
        from .torch_functions import compared

        return compared(np.equal, "eq", self, other)

    def ne(self, other: Any) -> Tensor:
        from .torch_functions import compared

        return compared(np.not_equal, "ne", self, other)

    def lt(self, other: Any) -> Tensor:
        from .torch_functions import compared

        return compared(np.less, "lt", self, other)

    def le(self, other: Any) -> Tensor:
        from .torch_functions import compared

        return compared(np.less_equal, "le", self, other)

    def gt(self, other: Any) -> Tensor:
        from .torch_functions import compared

        return compared(np.greater, "gt", self, other)

    def ge(self, other: Any) -> Tensor:
        from .torch_functions import compared

        return compared(np.greater_equal, "ge", self, other)

    def logical_and(self, other: Tensor) -> Tensor:
        from .torch_functions import logical_and

        return logical_and(self, other)

    def logical_or(self, other: Tensor) -> Tensor:
        from .torch_functions import logical_or

        return logical_or(self, other)

    def logical_xor(self, other: Tensor) -> Tensor:
        from .torch_functions import logical_xor

        return logical_xor(self, other)

    def logical_not(self) -> Tensor:
        from .torch_functions import logical_not

        return logical_not(self)

    # selection and counting

    def nonzero(self, *, as_tuple: bool = False) -> Any:
        from .torch_functions import nonzero

        return nonzero(self, as_tuple=as_tuple)

    def count_nonzero(self, dim: int | Sequence[int] | None = None) -> Tensor:
        from .torch_functions import count_nonzero

        return count_nonzero(self, dim)

    def unique(self, sorted: bool = True, return_inverse: bool = False,  # noqa: A002
               return_counts: bool = False, dim: int | None = None) -> Any:
        from .torch_functions import unique

        return unique(self, sorted, return_inverse, return_counts, dim)

    def bincount(self, weights: Tensor | None = None, minlength: int = 0) -> Tensor:
        from .torch_functions import bincount

        return bincount(self, weights, minlength)

    def masked_select(self, mask: Tensor) -> Tensor:
        """The entries where ``mask`` (boolean; the two broadcast) is True, as a vector."""
        mask = ops.tensor_argument(mask, "masked_select", "the mask")
        if mask.dtype != np.bool_:
            raise RuntimeError("masked_select: expected BoolTensor for mask")
        return ops.MaskedSelect.apply(self, mask)

    def diagonal(self, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
        """The ``offset``-th diagonal (> 0: above the main one) of the matrices in
        dimensions ``dim1`` and ``dim2``, as a new last dimension::

            Tensor([[1.0, 2.0], [3.0, 4.0]]).diagonal()    # [1., 4.]
        """
        first, second = (normalize_dim(d, self._data.ndim) for d in (dim1, dim2))
        if first == second:
            raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
        return ops.Diagonal.apply(self, operator.index(offset), first, second)

    def trace(self) -> Tensor:
        """The sum of a matrix's main diagonal."""
        return ops.Trace.apply(self)

    def broadcast_to(self, size: Sequence[int]) -> Tensor:
        return self.expand(size)

    # information

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f"

    def ndimension(self) -> int:
        return self._data.ndim

    def element_size(self) -> int:
        """The bytes of one entry."""
        return self._data.itemsize

    @property
    def itemsize(self) -> int:
        return self._data.itemsize

    def is_complex(self) -> bool:
        return False  # (a Tensor holds numbers and booleans, never complex ones)

    def data_ptr(self) -> int:
        """The address of the first entry: tensors that share memory there share it."""
        return int(self._data.__array_interface__["data"][0])

    @property
    def nbytes(self) -> int:
        """The bytes of all entries."""
        return self._data.nbytes

    def stride(self, dim: int | None = None) -> tuple[int, ...] | int:
        """How many entries apart consecutive indices along each dimension (``dim``) lie."""
        steps = tuple(s // self._data.itemsize for s in self._data.strides)
        return steps if dim is None else steps[normalize_dim(dim, self._data.ndim)]

    def is_contiguous(self, memory_format: Any = None) -> bool:
        """Whether the entries lie in C order (or in ``memory_format``'s), with no gaps."""
        if memory_format is not None:
            layouts = _layouts()
            return layouts.is_laid_out(self._data, layouts.checked(memory_format))
        return bool(self._data.flags.c_contiguous)

    @property
    def layout(self) -> Any:
        """How the tensor is stored: ``tg.strided``, always."""
        return _layouts().strided

    def var(self, dim: int | Sequence[int] | None = None, unbiased: bool = True,
            keepdim: bool = False, *, correction: int | None = None) -> Tensor:
        """The variance over ``dim``: the mean squared deviation, divided by n - 1
        (``unbiased``, PyTorch's default) or by n - ``correction``. A bool first argument
        is ``unbiased``, as PyTorch's ``x.var(False)``."""
        if isinstance(dim, bool):  # PyTorch's var(unbiased) overload
            unbiased, dim = dim, None
        if correction is None:
            correction = 1 if unbiased else 0
        reduced = ops.dims(dim, None, self._data.ndim)
        count = math.prod(self._data.shape[d] for d in reduced)
        if count - correction <= 0 or not self._data.size:
            warnings.warn("var()/std(): degrees of freedom is <= 0: the correction should be "
                          "less than the number of entries reduced", UserWarning, stacklevel=2)
        deviations = self - self.mean(reduced, keepdim=True)
        return (deviations * deviations).sum(reduced, keepdim) / max(count - correction, 0)

    def std(self, dim: int | Sequence[int] | None = None, unbiased: bool = True,
            keepdim: bool = False, *, correction: int | None = None) -> Tensor:
        """The square root of ``var``."""
        return ops.StdFromVar.apply(self.var(dim, unbiased, keepdim, correction=correction))

    def cumsum(self, dim: int, *, dtype: Any = None) -> Tensor:
        """Running sums along ``dim`` (with ``dtype``: of the entries converted to it)."""
        return _in_dtype(self, dtype, _running, dim, ops.CumulativeSum)

    def cumprod(self, dim: int, *, dtype: Any = None) -> Tensor:
        """Running products along ``dim`` (with ``dtype``: of the entries converted to it);
        the gradient is exact where entries are 0."""
        return _in_dtype(self, dtype, _running, dim, ops.CumulativeProduct)

    def sort(self, dim: int = -1, descending: bool = False, stable: bool = False) -> Any:
        """The named tuple ``(values, indices)`` along ``dim``, ascending (NaN last) or
        ``descending`` (NaN first); ties keep their order."""
        length = self._data.shape[normalize_dim(dim, self._data.ndim)] if self._data.ndim else 1
        return ops.topk(self, length, dim, descending, True)

    def flip(self, *dims: int | Sequence[int]) -> Tensor:
        """The entries in reverse order along each of ``dims``."""
        listed = ops.shape_argument(dims)
        flipped = set(ops.dims(listed, None, self._data.ndim)) if listed else set()
        return self[tuple(slice(None, None, -1) if d in flipped else slice(None)
                          for d in range(self._data.ndim))]

    def repeat(self, *sizes: int | Sequence[int]) -> Tensor:
        """This tensor tiled ``sizes[i]`` times along dimension i (as NumPy's ``tile``);
        extra leading sizes add dimensions."""
        counts = ops.shape_argument(sizes)
        if len(counts) < self._data.ndim:
            raise RuntimeError(f"repeat{counts}: fewer sizes than the tensor's "
                               f"{self._data.ndim} dimensions")
        if any(n < 0 for n in counts):
            raise RuntimeError(f"repeat{counts}: a count cannot be negative")
        shape = (1,) * (len(counts) - self._data.ndim) + self._data.shape
        spread = self.reshape(tuple(n for size in shape for n in (1, size)))
        tiled = spread.expand(tuple(n for count, size in zip(counts, shape)
                                    for n in (count, size)))
        return tiled.reshape(tuple(count * size for count, size in zip(counts, shape)))

    def tile(self, *dims: int | Sequence[int]) -> Tensor:
        """``repeat``, with fewer counts than dimensions allowed: the leading dimensions are
        then repeated once."""
        counts = ops.shape_argument(dims)
        return self.repeat((1,) * (self._data.ndim - len(counts)) + counts)

    def repeat_interleave(self, repeats: int | Tensor, dim: int | None = None, *,
                          output_size: int | None = None) -> Tensor:
        """Each slice along ``dim`` (each entry of the flattened tensor if None) repeated
        ``repeats`` times in a row, an int or a tensor of one count per slice::

            Tensor([1.0, 2.0]).repeat_interleave(2)    # [1., 1., 2., 2.]
        """
        return ops.repeat_interleave(self, repeats, dim, output_size)

    def diag(self, diagonal: int = 0) -> Tensor:
        """A vector's entries on a diagonal of a square matrix (``diagonal`` > 0: above the
        main one), or a matrix's diagonal as a vector."""
        return ops.Diag.apply(self, operator.index(diagonal))

    def unflatten(self, dim: int, sizes: Sequence[int]) -> Tensor:
        """Dimension ``dim`` split into ``sizes`` (one of them may be -1, inferred from that
        dimension alone, so also in a tensor of no entries)."""
        d = normalize_dim(dim, self._data.ndim)
        shape = self._data.shape
        given = [int(n) for n in sizes]
        if not given:
            raise RuntimeError("unflatten: sizes must be non-empty")
        if given.count(-1) > 1:
            raise RuntimeError("only one dimension can be inferred")
        wanted, known = list(given), math.prod(n for n in given if n != -1)
        if -1 in wanted and known and shape[d] % known == 0:
            wanted[wanted.index(-1)] = shape[d] // known
        if -1 in wanted or math.prod(wanted) != shape[d]:
            raise RuntimeError(f"unflatten: Provided sizes {given} don't multiply up to the size "
                               f"of dim {d} ({shape[d]}) in the input tensor")
        return self.reshape((*shape[:d], *wanted, *shape[d + 1:]))

    def view_as(self, other: Tensor) -> Tensor:
        return self.view(other._data.shape)

    def reshape_as(self, other: Tensor) -> Tensor:
        return self.reshape(other._data.shape)

    def expand_as(self, other: Tensor) -> Tensor:
        return self.expand(other._data.shape)

    def tril(self, diagonal: int = 0) -> Tensor:
        return ops.triangle(self, diagonal, upper=False)

    def triu(self, diagonal: int = 0) -> Tensor:
        return ops.triangle(self, diagonal, upper=True)

    def norm(self, p: Any = "fro", dim: int | Sequence[int] | None = None,
             keepdim: bool = False, dtype: Any = None) -> Tensor:
        """The vector ``p``-norm over ``dim`` (every entry if None), as PyTorch's; ``p`` a
        number (inf and 0 too) or "fro" (2); with ``dtype``, of floating entries converted
        to it."""
        x = self.to(dtype) if dtype is not None and self.is_floating_point() else self
        return ops.norm(x, p, dim, keepdim)

    def topk(self, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> Any:
        """The named tuple ``(values, indices)`` of the ``k`` largest (``largest=False``:
        smallest) entries along ``dim``; the values carry the gradient."""
        if self._data.dtype == bool:
            raise RuntimeError("topk does not support bool dtypes on CPU")
        return ops.topk(self, k, dim, largest, sorted)

    def split(self, split_size_or_sections: int | Sequence[int], dim: int = 0
              ) -> tuple[Tensor, ...]:
        """Views of consecutive pieces along ``dim``: of ``split_size`` each (the last may be
        shorter), or of the listed sizes, which must add up to the dimension's length."""
        return ops.split(self, split_size_or_sections, dim)

    def chunk(self, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
        """``split`` into pieces of ceil(length / chunks): at most ``chunks`` of them."""
        return ops.chunk(self, chunks, dim)

    def unbind(self, dim: int = 0) -> tuple[Tensor, ...]:
        """The slices along ``dim``, each without that dimension."""
        d = normalize_dim(dim, self._data.ndim)
        return tuple(self[(slice(None),) * d + (i,)] for i in range(self._data.shape[d]))

    def multinomial(self, num_samples: int, replacement: bool = False, *,
                    generator: Any = None) -> Tensor:
        """``tensorgrad.multinomial`` of this tensor's rows of weights."""
        from .creation import multinomial

        return multinomial(self, num_samples, replacement, generator=generator)

    def new_tensor(self, data: Any, dtype: Any = None, device: Any = None,
                   requires_grad: bool = False) -> Tensor:
        """A tensor of ``data`` in this tensor's dtype (or ``dtype``)."""
        check_device(device)
        return from_values(data, requires_grad, self._data.dtype if dtype is None else dtype)

    def new_zeros(self, *size: Any, dtype: Any = None, device: Any = None,
                  requires_grad: bool = False) -> Tensor:
        from .creation import zeros

        return zeros(*size, dtype=self._data.dtype if dtype is None else dtype, device=device,
                     requires_grad=requires_grad)

    def new_ones(self, *size: Any, dtype: Any = None, device: Any = None,
                 requires_grad: bool = False) -> Tensor:
        from .creation import ones

        return ones(*size, dtype=self._data.dtype if dtype is None else dtype, device=device,
                    requires_grad=requires_grad)

    def new_empty(self, *size: Any, dtype: Any = None, device: Any = None,
                  requires_grad: bool = False) -> Tensor:
        from .creation import empty

        return empty(*size, dtype=self._data.dtype if dtype is None else dtype, device=device,
                     requires_grad=requires_grad)

    def new_full(self, size: Any, fill_value: Any, *, dtype: Any = None, device: Any = None,
                 requires_grad: bool = False) -> Tensor:
        from .creation import full

        return full(size, fill_value, dtype=self._data.dtype if dtype is None else dtype,
                    device=device, requires_grad=requires_grad)

    # ---- more of PyTorch's names (composite.py) ----
    # other names for the operators and for ops above, their in-place forms (each written into
    # this tensor's own array: see written_in_place), and more shapes and elementwise math

    def subtract(self, other: Any, *, alpha: Any = 1) -> Tensor:
        return composite.sub(self, other, alpha=alpha)

    def multiply(self, other: Any) -> Tensor:
        return self * other

    def divide(self, other: Any, *, rounding_mode: str | None = None) -> Tensor:
        return composite.div(self, other, rounding_mode=rounding_mode)

    def subtract_(self, other: Any, *, alpha: Any = 1) -> Tensor:
        return written_in_place(self, lambda: composite.sub(self, other, alpha=alpha))

    def multiply_(self, other: Any) -> Tensor:
        return written_in_place(self, lambda: self * other)

    def divide_(self, other: Any, *, rounding_mode: str | None = None) -> Tensor:
        return written_in_place(
            self, lambda: composite.div(self, other, rounding_mode=rounding_mode))

    def true_divide_(self, other: Any) -> Tensor:
        return written_in_place(self, lambda: self / other)

    def floor_divide_(self, other: Any) -> Tensor:
        return written_in_place(self, lambda: self // other)

    def fmod_(self, other: Any) -> Tensor:
        return written_in_place(self, lambda: self.fmod(other))

    def remainder_(self, other: Any) -> Tensor:
        return written_in_place(self, lambda: self.remainder(other))

    def negative_(self) -> Tensor:
        return written_in_place(self, lambda: -self)

    def absolute_(self) -> Tensor:
        return written_in_place(self, self.abs)

    def sgn_(self) -> Tensor:
        return written_in_place(self, self.sign)

    def sign_(self) -> Tensor:
        return written_in_place(self, self.sign)

    def reciprocal_(self) -> Tensor:
        return written_in_place(self, self.reciprocal)

    def rsqrt_(self) -> Tensor:
        return written_in_place(self, self.rsqrt)

    def trunc_(self) -> Tensor:
        return written_in_place(self, self.trunc)

    def fix(self) -> Tensor:
        return self.trunc()

    def fix_(self) -> Tensor:
        return written_in_place(self, self.trunc)

    def ceil_(self) -> Tensor:
        return written_in_place(self, self.ceil)

    def frac(self) -> Tensor:
        return composite.frac(self)

    def frac_(self) -> Tensor:
        return written_in_place(self, lambda: composite.frac(self))

    def clamp_min_(self, min: Any) -> Tensor:  # noqa: A002 (PyTorch's name)
        return written_in_place(self, lambda: self.clamp(min=min))

    def clamp_max_(self, max: Any) -> Tensor:  # noqa: A002 (PyTorch's name)
        return written_in_place(self, lambda: self.clamp(max=max))

    def clip_(self, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002 (PyTorch's)
        return self.clamp_(min, max)

    def nan_to_num_(self, nan: float = 0.0, posinf: float | None = None,
                    neginf: float | None = None) -> Tensor:
        return written_in_place(self, lambda: self.nan_to_num(nan, posinf, neginf))

    def sin_(self) -> Tensor:
        return written_in_place(self, self.sin)

    def cos_(self) -> Tensor:
        return written_in_place(self, self.cos)

    def tan_(self) -> Tensor:
        return written_in_place(self, self.tan)

    def asin_(self) -> Tensor:
        return written_in_place(self, self.asin)

    def acos_(self) -> Tensor:
        return written_in_place(self, self.acos)

    def atan_(self) -> Tensor:
        return written_in_place(self, self.atan)

    def atan2_(self, other: Tensor) -> Tensor:
        return written_in_place(self, lambda: self.atan2(other))

    def sinh_(self) -> Tensor:
        return written_in_place(self, self.sinh)

    def cosh_(self) -> Tensor:
        return written_in_place(self, self.cosh)

    def asinh_(self) -> Tensor:
        return written_in_place(self, self.asinh)

    def acosh_(self) -> Tensor:
        return written_in_place(self, self.acosh)

    def atanh_(self) -> Tensor:
        return written_in_place(self, self.atanh)

    def arcsin(self) -> Tensor:
        return self.asin()

    def arccos(self) -> Tensor:
        return self.acos()

    def arctan(self) -> Tensor:
        return self.atan()

    def arctan2(self, other: Tensor) -> Tensor:
        return self.atan2(other)

    def arcsinh(self) -> Tensor:
        return self.asinh()

    def arccosh(self) -> Tensor:
        return self.acosh()

    def arctanh(self) -> Tensor:
        return self.atanh()

    def arcsin_(self) -> Tensor:
        return written_in_place(self, self.asin)

    def arccos_(self) -> Tensor:
        return written_in_place(self, self.acos)

    def arctan_(self) -> Tensor:
        return written_in_place(self, self.atan)

    def arctan2_(self, other: Tensor) -> Tensor:
        return written_in_place(self, lambda: self.atan2(other))

    def arcsinh_(self) -> Tensor:
        return written_in_place(self, self.asinh)

    def arccosh_(self) -> Tensor:
        return written_in_place(self, self.acosh)

    def arctanh_(self) -> Tensor:
        return written_in_place(self, self.atanh)

    def erf_(self) -> Tensor:
        return written_in_place(self, self.erf)

    def erfc(self) -> Tensor:
        return composite.erfc(self)

    def erfc_(self) -> Tensor:
        return written_in_place(self, lambda: composite.erfc(self))

    def exp2_(self) -> Tensor:
        return written_in_place(self, self.exp2)

    def expm1_(self) -> Tensor:
        return written_in_place(self, self.expm1)

    def log1p_(self) -> Tensor:
        return written_in_place(self, self.log1p)

    def log2_(self) -> Tensor:
        return written_in_place(self, self.log2)

    def log10_(self) -> Tensor:
        return written_in_place(self, self.log10)

    def cumsum_(self, dim: int, *, dtype: Any = None) -> Tensor:
        return written_in_place(self, lambda: self.cumsum(dim, dtype=dtype))

    def cumprod_(self, dim: int, *, dtype: Any = None) -> Tensor:
        return written_in_place(self, lambda: self.cumprod(dim, dtype=dtype))

    def tril_(self, diagonal: int = 0) -> Tensor:
        return written_in_place(self, lambda: self.tril(diagonal))

    def triu_(self, diagonal: int = 0) -> Tensor:
        return written_in_place(self, lambda: self.triu(diagonal))

    # comparisons and bits by PyTorch's other names; in place, the result in this dtype

    def greater(self, other: Any) -> Tensor:
        return self.gt(other)

    def greater_equal(self, other: Any) -> Tensor:
        return self.ge(other)

    def less(self, other: Any) -> Tensor:
        return self.lt(other)

    def less_equal(self, other: Any) -> Tensor:
        return self.le(other)

    def not_equal(self, other: Any) -> Tensor:
        return self.ne(other)

    def eq_(self, other: Any) -> Tensor:
        return written_in_place(self, lambda: self.eq(other))

    def ne_(self, other: Any) -> Tensor:
        return written_in_place(self, lambda: self.ne(other))

    def lt_(self, other: Any) -> Tensor:
        return written_in_place(self, lambda: self.lt(other))

    def le_(self, other: Any) -> Tensor:
        return written_in_place(self, lambda: self.le(other))

    def gt_(self, other: Any) -> Tensor:
        return written_in_place(self, lambda: self.gt(other))

    def ge_(self, other: Any) -> Tensor:
        return written_in_place(self, lambda: self.ge(other))

    def greater_(self, other: Any) -> Tensor:
        return written_in_place(self, lambda: self.gt(other))

    def greater_equal_(self, other: Any) -> Tensor:
        return written_in_place(self, lambda: self.ge(other))

    def less_(self, other: Any) -> Tensor:
        return written_in_place(self, lambda: self.lt(other))

    def less_equal_(self, other: Any) -> Tensor:
        return written_in_place(self, lambda: self.le(other))

    def not_equal_(self, other: Any) -> Tensor:
        return written_in_place(self, lambda: self.ne(other))

    def logical_and_(self, other: Tensor) -> Tensor:
        return written_in_place(self, lambda: self.logical_and(other))

    def logical_or_(self, other: Tensor) -> Tensor:
        return written_in_place(self, lambda: self.logical_or(other))

    def logical_xor_(self, other: Tensor) -> Tensor:
        return written_in_place(self, lambda: self.logical_xor(other))

    def logical_not_(self) -> Tensor:
        return written_in_place(self, self.logical_not)

    def bitwise_and(self, other: Any) -> Tensor:
        return composite.bitwise_and(self, other)

    def bitwise_or(self, other: Any) -> Tensor:
        return composite.bitwise_or(self, other)

    def bitwise_xor(self, other: Any) -> Tensor:
        return composite.bitwise_xor(self, other)

    def bitwise_not(self) -> Tensor:
        return composite.bitwise_not(self)

    def bitwise_and_(self, other: Any) -> Tensor:
        return written_in_place(self, lambda: composite.bitwise_and(self, other))

    def bitwise_or_(self, other: Any) -> Tensor:
        return written_in_place(self, lambda: composite.bitwise_or(self, other))

    def bitwise_xor_(self, other: Any) -> Tensor:
        return written_in_place(self, lambda: composite.bitwise_xor(self, other))

    def bitwise_not_(self) -> Tensor:
        return written_in_place(self, lambda: composite.bitwise_not(self))

    def bitwise_left_shift(self, other: Any) -> Tensor:
        return composite.bitwise_left_shift(self, other)

    def bitwise_right_shift(self, other: Any) -> Tensor:
        return composite.bitwise_right_shift(self, other)

    def bitwise_left_shift_(self, other: Any) -> Tensor:
        return written_in_place(self, lambda: composite.bitwise_left_shift(self, other))

    def bitwise_right_shift_(self, other: Any) -> Tensor:
        return written_in_place(self, lambda: composite.bitwise_right_shift(self, other))

    # shapes: in place (the same entries seen in another shape), joined, split, turned

    def t_(self) -> Tensor:
        return composite.in_place_view(self, self.t)

    def transpose_(self, dim0: int, dim1: int) -> Tensor:
        return composite.in_place_view(self, lambda: self.transpose(dim0, dim1))

    def swapaxes_(self, axis0: int, axis1: int) -> Tensor:
        return composite.in_place_view(self, lambda: self.transpose(axis0, axis1))

    def swapdims_(self, dim0: int, dim1: int) -> Tensor:
        return composite.in_place_view(self, lambda: self.transpose(dim0, dim1))

    def squeeze_(self, dim: int | Sequence[int] | None = None) -> Tensor:
        return composite.in_place_view(self, lambda: self.squeeze(dim))

    def unsqueeze_(self, dim: int) -> Tensor:
        return composite.in_place_view(self, lambda: self.unsqueeze(dim))

    def tensor_split(self, indices_or_sections: Any = None, dim: int = 0, *,
                     sections: int | None = None, indices: Any = None) -> tuple[Tensor, ...]:
        return composite.tensor_split(self, indices_or_sections, dim, sections=sections,
                                      indices=indices)

    def hsplit(self, indices_or_sections: Any) -> tuple[Tensor, ...]:
        return composite.hsplit(self, indices_or_sections)

    def vsplit(self, indices_or_sections: Any) -> tuple[Tensor, ...]:
        return composite.vsplit(self, indices_or_sections)

    def dsplit(self, indices_or_sections: Any) -> tuple[Tensor, ...]:
        return composite.dsplit(self, indices_or_sections)

    def fliplr(self) -> Tensor:
        return composite.fliplr(self)

    def flipud(self) -> Tensor:
        return composite.flipud(self)

    def rot90(self, k: int = 1, dims: Sequence[int] = (0, 1)) -> Tensor:
        return composite.rot90(self, k, dims)

    def take(self, index: Tensor) -> Tensor:
        return composite.take(self, index)

    def diag_embed(self, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
        return composite.diag_embed(self, offset, dim1, dim2)

    def diagflat(self, offset: int = 0) -> Tensor:
        return composite.diagflat(self, offset)

    def kron(self, other: Tensor) -> Tensor:
        return composite.kron(self, other)

    def cross(self, other: Tensor, dim: int | None = None) -> Tensor:
        return composite.cross(self, other, dim)

    def narrow_copy(self, dim: int, start: int, length: int) -> Tensor:
        return composite.narrow_copy(self, dim, start, length)

    def ravel(self) -> Tensor:
        return self.reshape(-1)

    def sum_to_size(self, *size: Any) -> Tensor:
        return composite.sum_to_size(self, *size)

    def is_same_size(self, other: Tensor) -> bool:
        return composite.is_same_size(self, other)

    def is_signed(self) -> bool:
        return composite.is_signed(self)

    def is_nonzero(self) -> bool:
        return composite.is_nonzero(self)

    def nelement(self) -> int:
        return self._data.size

    # more elementwise math, running extremes and sums

    def logaddexp(self, other: Tensor) -> Tensor:
        return composite.logaddexp(self, other)

    def logaddexp2(self, other: Tensor) -> Tensor:
        return composite.logaddexp2(self, other)

    def hypot(self, other: Tensor) -> Tensor:
        return composite.hypot(self, other)

    def hypot_(self, other: Tensor) -> Tensor:
        return written_in_place(self, lambda: composite.hypot(self, other))

    def xlogy(self, other: Any) -> Tensor:
        return composite.xlogy(self, other)

    def xlogy_(self, other: Any) -> Tensor:
        return written_in_place(self, lambda: composite.xlogy(self, other))

    def logit(self, eps: float | None = None) -> Tensor:
        return composite.logit(self, eps)

    def logit_(self, eps: float | None = None) -> Tensor:
        return written_in_place(self, lambda: composite.logit(self, eps))

    def heaviside(self, values: Tensor) -> Tensor:
        return composite.heaviside(self, values)

    def heaviside_(self, values: Tensor) -> Tensor:
        return written_in_place(self, lambda: composite.heaviside(self, values))

    def copysign(self, other: Any) -> Tensor:
        return composite.copysign(self, other)

    def copysign_(self, other: Any) -> Tensor:
        return written_in_place(self, lambda: composite.copysign(self, other))

    def signbit(self) -> Tensor:
        return composite.signbit(self)

    def angle(self) -> Tensor:
        return composite.angle(self)

    def sinc(self) -> Tensor:
        return composite.sinc(self)

    def sinc_(self) -> Tensor:
        return written_in_place(self, lambda: composite.sinc(self))

    def deg2rad(self) -> Tensor:
        return composite.deg2rad(self)

    def deg2rad_(self) -> Tensor:
        return written_in_place(self, lambda: composite.deg2rad(self))

    def rad2deg(self) -> Tensor:
        return composite.rad2deg(self)

    def rad2deg_(self) -> Tensor:
        return written_in_place(self, lambda: composite.rad2deg(self))

    def isposinf(self) -> Tensor:
        return composite.isposinf(self)

    def isneginf(self) -> Tensor:
        return composite.isneginf(self)

    def isreal(self) -> Tensor:
        return composite.isreal(self)

    def gcd(self, other: Tensor) -> Tensor:
        return composite.gcd(self, other)

    def gcd_(self, other: Tensor) -> Tensor:
        return written_in_place(self, lambda: composite.gcd(self, other))

    def lcm(self, other: Tensor) -> Tensor:
        return composite.lcm(self, other)

    def lcm_(self, other: Tensor) -> Tensor:
        return written_in_place(self, lambda: composite.lcm(self, other))

    def cummax(self, dim: int) -> Any:
        return composite.cummax(self, dim)

    def cummin(self, dim: int) -> Any:
        return composite.cummin(self, dim)

    def logcumsumexp(self, dim: int) -> Tensor:
        return composite.logcumsumexp(self, dim)

    def aminmax(self, *, dim: int | None = None, keepdim: bool = False) -> Any:
        return composite.aminmax(self, dim=dim, keepdim=keepdim)

    def dist(self, other: Tensor, p: float = 2) -> Tensor:
        return composite.dist(self, other, p)

    # ---- linear algebra and statistics (linalg.py, statistics.py) ----
    # (imported when first used: linalg is not loaded at start-up; the last in the class but
    # for the conversions below, whose names would hide the builtins from these annotations)

    def det(self) -> Tensor:
        from .linalg import det

        return det(self)

    def slogdet(self) -> Any:
        from .linalg import slogdet

        return slogdet(self)

    def logdet(self) -> Tensor:
        from .linalg import logdet

        return logdet(self)

    def inverse(self) -> Tensor:
        from .linalg import inv

        return inv(self)

    def cholesky(self, upper: bool = False) -> Tensor:
        from .linalg import cholesky

        return cholesky(self, upper)

    def matrix_power(self, n: int) -> Tensor:
        from .linalg import matrix_power

        return matrix_power(self, n)

    def quantile(self, q: Any, dim: int | None = None, keepdim: bool = False, *,
                 interpolation: str = "linear") -> Tensor:
        from .statistics import quantile

        return quantile(self, q, dim, keepdim, interpolation=interpolation)

    def nanquantile(self, q: Any, dim: int | None = None, keepdim: bool = False, *,
                    interpolation: str = "linear") -> Tensor:
        from .statistics import nanquantile

        return nanquantile(self, q, dim, keepdim, interpolation=interpolation)

    def kthvalue(self, k: int, dim: int = -1, keepdim: bool = False) -> Any:
        from .statistics import kthvalue

        return kthvalue(self, k, dim, keepdim)

    def mode(self, dim: int = -1, keepdim: bool = False) -> Any:
        from .statistics import mode

        return mode(self, dim, keepdim)

    def nanmedian(self, dim: int | None = None, keepdim: bool = False) -> Any:
        from .statistics import nanmedian

        return nanmedian(self, dim, keepdim)

    def cov(self, *, correction: int = 1, fweights: Tensor | None = None,
            aweights: Tensor | None = None) -> Tensor:
        from .statistics import cov

        return cov(self, correction=correction, fweights=fweights, aweights=aweights)

    def corrcoef(self) -> Tensor:
        from .statistics import corrcoef

        return corrcoef(self)

    def histc(self, bins: int = 100, min: Any = 0, max: Any = 0) -> Tensor:  # noqa: A002
        from .statistics import histc

        return histc(self, bins, min, max)

    def unfold(self, dimension: int, size: int, step: int) -> Tensor:
        from .statistics import unfold

        return unfold(self, dimension, size, step)

    def scatter_reduce(self, dim: int, index: Tensor, src: Tensor, reduce: str, *,
                       include_self: bool = True) -> Tensor:
        return scatter_ops.scatter_reduce(self, dim, index, src, reduce,
                                          include_self=include_self)

    def scatter_reduce_(self, dim: int, index: Tensor, src: Tensor, reduce: str, *,
                        include_self: bool = True) -> Tensor:
        return written_in_place(self, lambda: self.scatter_reduce(dim, index, src, reduce,
                                                          include_self=include_self))

    def index_copy(self, dim: int, index: Tensor, source: Tensor) -> Tensor:
        return scatter_ops.index_copy(self, dim, index, source)

    def index_copy_(self, dim: int, index: Tensor, source: Tensor) -> Tensor:
        return written_in_place(self, lambda: self.index_copy(dim, index, source))

    def index_put(self, indices: Any, values: Tensor, accumulate: bool = False) -> Tensor:
        return scatter_ops.index_put(self, indices, values, accumulate)

    def index_put_(self, indices: Any, values: Tensor, accumulate: bool = False) -> Tensor:
        return written_in_place(self, lambda: self.index_put(indices, values, accumulate))

    # ---- more of PyTorch's methods, in surface.py and gamma.py (imported when first used) ----
    addmm_ = _Later(".surface")
    addmv = _Later(".surface")
    addmv_ = _Later(".surface")
    addr = _Later(".surface")
    addr_ = _Later(".surface")
    inner = _Later(".surface")
    vdot = _Later(".surface")
    ger = _Later(".surface")
    argwhere = _Later(".surface")
    msort = _Later(".surface")
    split_with_sizes = _Later(".surface")
    unique_consecutive = _Later(".surface")
    masked_scatter = _Later(".surface")
    masked_scatter_ = _Later(".surface")
    renorm = _Later(".surface")
    renorm_ = _Later(".surface")
    storage_offset = _Later(".surface")
    new_empty_strided = _Later(".surface")
    frexp = _Later(".surface")
    ldexp = _Later(".surface")
    ldexp_ = _Later(".surface")
    nextafter = _Later(".surface")
    nextafter_ = _Later(".surface")
    diagonal_scatter = _Later(".surface")
    select_scatter = _Later(".surface")
    slice_scatter = _Later(".surface")
    index_reduce = _Later(".surface")
    index_reduce_ = _Later(".surface")
    equal = _Later(".surface")
    prelu = _Later(".surface")
    hardshrink = _Later(".surface")
    allclose = _Later(".surface")
    fill_diagonal_ = _Later(".surface")
    new = _Later(".surface")
    share_memory_ = _Later(".surface")
    is_shared = _Later(".surface")
    is_inference = _Later(".surface")
    as_strided = _Later(".strides")
    __dlpack__ = _Later(".strides")
    __dlpack_device__ = _Later(".strides")
    real = _Later(".strides")
    imag = _Later(".strides")
    conj = _Later(".strides")
    conj_physical = _Later(".strides")
    resolve_conj = _Later(".strides")
    resolve_neg = _Later(".strides")
    is_conj = _Later(".strides")
    is_neg = _Later(".strides")
    output_nr = _Later(".surface")
    apply_ = _Later(".surface")
    map_ = _Later(".surface")
    resize_ = _Later(".surface")
    resize_as_ = _Later(".surface")
    nonzero_static = _Later(".surface")
    put = _Later(".surface")
    put_ = _Later(".surface")
    addbmm = _Later(".surface")
    addbmm_ = _Later(".surface")
    matrix_exp = _Later(".surface")
    pinverse = _Later(".surface")
    qr = _Later(".surface")
    lgamma = _Later(".gamma")
    lgamma_ = _Later(".gamma")
    digamma = _Later(".gamma")
    digamma_ = _Later(".gamma")
    polygamma = _Later(".gamma")
    polygamma_ = _Later(".gamma")
    erfinv = _Later(".gamma")
    erfinv_ = _Later(".gamma")
    i0 = _Later(".gamma")
    i0_ = _Later(".gamma")
    mvlgamma = _Later(".gamma")
    mvlgamma_ = _Later(".gamma")

    # conversions named after dtypes: last, since in the class body their names hide
    # the builtins' (float, int, bool) from the annotations of the methods after them

    def float(self) -> Tensor:
        return self.to(np.float32)

    def double(self) -> Tensor:
        return self.to(np.float64)

    def long(self) -> Tensor:
        return self.to(np.int64)

    def half(self) -> Tensor:
        return self.to(np.float16)

    def bfloat16(self) -> Tensor:
        """Refused with NumPy's TypeError: NumPy has no bfloat16 (use float32 or float16)."""
        return self.to(dtypes.bfloat16)

    def short(self) -> Tensor:
        return self.to(np.int16)

    def char(self) -> Tensor:
        return self.to(np.int8)

    def byte(self) -> Tensor:
        return self.to(np.uint8)

    def int(self) -> Tensor:
        return self.to(np.int32)

    def bool(self) -> Tensor:
        return self.to(np.bool_)


# ``.grad``'s slot, assigned without the property's checks by the engine's own code where the
# gradient is known to fit: a captured replay's lines (speed: benchmarks/SPEED.md, "The captured
# step as a compiler").
store_grad = Tensor.__dict__["_grad"].__set__


def let_go(tensor: Tensor) -> bool:
    """Whether ``tensor`` stands in the graph for a result whose values ``backward()`` let go
    of (found in ``grad_fn.inputs`` after a backward without ``retain_graph``)."""
    return type(tensor) is _Spent


class _Spent(Tensor):
    """A tensor's stand-in in the graph once ``backward()`` has passed (``_let_go_of_inputs``):
    its ``grad_fn``, ``requires_grad``, shape and dtype, but not its values (``data`` is NaN,
    or 0, read-only)."""

    __slots__ = ()

    def __repr__(self) -> str:
        fn = "" if self.grad_fn is None else f", grad_fn={self.grad_fn!r}"
        return f"Tensor(<let go of by backward()>, shape={self._data.shape}, " \
               f"dtype={self._data.dtype}{fn})"


def clear_grads(tensors: Iterable[Tensor]) -> None:
    """Set each tensor's ``.grad`` to None (what ``zero_grad()`` does, without a call of the
    property's setter per tensor: speed, benchmarks/SPEED.md, "Function.apply")."""
    for tensor in tensors:
        tensor._grad = None


def _leaves_wanted(inputs: Any) -> set[Tensor]:
    """``backward(inputs=...)``'s tensors (one or a sequence), each a leaf that requires grad."""
    wanted = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if not wanted:
        raise RuntimeError("backward(inputs=...) got no tensors")
    for x in wanted:
        if not isinstance(x, Tensor) or not x.requires_grad or x.grad_fn is not None:
            raise RuntimeError("backward(inputs=...) takes leaf tensors that require grad "
                               "(tensorgrad does not stop a backward pass at a result of an "
                               "op; retain_grad() keeps its .grad)")
    return set(wanted)


# what a tensor's comparisons take: other types get to compare themselves
_OPERANDS = (Tensor, np.ndarray, np.generic, numbers.Number, list, tuple)

# NumPy's ufuncs that are a tensor's operators: the method with the tensor on the left, and the
# reflected one (``array - w`` is ``w.__rsub__(array)``, ``array < w`` is ``w > array``)
_UFUNC_DUNDERS = {
    np.add: ("__add__", "__radd__"), np.subtract: ("__sub__", "__rsub__"),
    np.multiply: ("__mul__", "__rmul__"), np.true_divide: ("__truediv__", "__rtruediv__"),
    np.floor_divide: ("__floordiv__", "__rfloordiv__"), np.remainder: ("__mod__", "__rmod__"),
    np.power: ("__pow__", "__rpow__"), np.matmul: ("__matmul__", "__rmatmul__"),
    np.equal: ("__eq__", "__eq__"), np.not_equal: ("__ne__", "__ne__"),
    np.less: ("__lt__", "__gt__"), np.less_equal: ("__le__", "__ge__"),
    np.greater: ("__gt__", "__lt__"), np.greater_equal: ("__ge__", "__le__"),
    np.bitwise_and: ("__and__", "__rand__"), np.bitwise_or: ("__or__", "__ror__"),
    np.bitwise_xor: ("__xor__", "__rxor__"), np.left_shift: ("__lshift__", "__rlshift__"),
    np.right_shift: ("__rshift__", "__rrshift__"),
}


def _ufunc_result(result: Any) -> Any:
    """A ufunc's array result as a tensor outside the graph (a number too: a 0-d tensor)."""
    return as_leaf(np.asarray(result)) if isinstance(result, (np.ndarray, np.generic)) else result


def _is_size(x: Any) -> bool:
    """Whether ``x`` is a size in ``Tensor(...)``'s legacy form: a Python int, not a bool (a
    NumPy integer is a value: what a reduction of an array gives)."""
    return type(x) is int


def _owner_of_gradient(tensor: Tensor) -> Tensor | None:
    """The tensor whose ``.grad`` ``tensor`` is, while that gradient is still its array."""
    of = getattr(tensor, "_gradient_of", None)
    owner = None if of is None else of()
    if owner is None or owner._grad is not tensor._data or \
            getattr(owner, "_grad_tensor", None) is not tensor:
        return None
    return owner


def _checked_data(tensor: Tensor, value: Any) -> np.ndarray:
    """``value`` as the array to assign to ``tensor.data``."""
    if isinstance(value, Tensor):
        value = value._data
    elif isinstance(value, np.generic):
        value = np.asarray(value)
    elif not isinstance(value, np.ndarray):
        raise TypeError(f"Variable data has to be a tensor, but got {type(value).__name__}")
    if value.dtype.kind not in "biuf":
        raise TypeError(f"a Tensor holds numbers or booleans, not {value.dtype} data")
    if tensor._requires_grad and value.dtype.kind not in _DIFFERENTIABLE:
        raise RuntimeError(f"data of {value.dtype} for a tensor that requires grad: only "
                           "floating tensors can require grad")
    return value


def _checked_grad(tensor: Tensor, grad: Any) -> np.ndarray:
    """``grad`` as the array to assign to ``tensor.grad``, if it is one of its shape and dtype."""
    if isinstance(grad, Tensor):
        if grad is tensor:
            raise RuntimeError("a tensor cannot be assigned as its own grad")
        grad = grad._data
    elif isinstance(grad, np.generic):  # what NumPy makes of a 0-d array's arithmetic
        grad = np.asarray(grad)
    elif not isinstance(grad, np.ndarray):
        raise TypeError(f"assigned grad expected to be an array, a Tensor or None, but got "
                        f"grad of type {type(grad).__name__}")
    data = tensor._data
    if grad.shape != data.shape:
        raise RuntimeError(f"attempting to assign a gradient of shape {grad.shape} to a tensor "
                           f"of shape {data.shape}: a gradient has its tensor's shape")
    if grad.dtype != data.dtype:
        raise RuntimeError(f"attempting to assign a gradient of dtype {grad.dtype} to a tensor "
                           f"of dtype {data.dtype}: a gradient has its tensor's dtype")
    return grad


def _layouts() -> Any:
    """The memory formats' module (imported when first used)."""
    from . import layouts

    return layouts


def _in_dtype(x: Tensor, dtype: Any, reduce: Callable[..., Tensor], *args: Any) -> Tensor:
    """``reduce(x, *args)``, or with ``dtype`` (PyTorch's ``dtype=`` of sum, prod, cumsum,
    cumprod) ``reduce`` of ``x`` converted to it, in it (integers are reduced as int64: cast
    back, they wrap as PyTorch's do)."""
    if dtype is None:
        return reduce(x, *args)
    wanted = np.dtype(dtype)
    out = reduce(x.to(wanted), *args)
    return out if out._data.dtype == wanted else out.to(wanted)


def _running(x: Tensor, dim: int, op: type[Function]) -> Tensor:
    """``cumsum`` or ``cumprod`` (``op``) along ``dim``; of a 0-d tensor, itself (integers
    as int64)."""
    if not x._data.ndim:
        normalize_dim(dim, 0)
        return ops.Cast.apply(x, np.int64 if x._data.dtype.kind in "biu" else None)
    return op.apply(x, normalize_dim(dim, x._data.ndim))


@quiet  # (a float64 result out of a float32 tensor's range: inf, as in PyTorch)
def written_in_place(a: Tensor, compute: Callable[[], Tensor], cast: bool = False) -> Tensor:
    """``a`` with ``compute()`` (an out-of-place op on it) written into its own array, as
    PyTorch's in-place ops: outside the graph a plain write; where ``a`` is a result of ops
    that requires grad, or the result does (``buf[0] = w``), the write is an op of the graph
    (``_rebased``). The result must have ``a``'s shape and, unless ``cast`` (``copy_``), no
    higher kind of dtype (a float into an integer tensor), as PyTorch's rules. Refused, as
    PyTorch refuses it, on a leaf that requires grad (outside ``no_grad()``); and inside a
    captured function, whose replays would not write."""
    if a._requires_grad and a.grad_fn is not None and is_grad_enabled() and not (
            tapes and get_ident() in tapes):
        return _rebased(a, compute, cast)
    ops.check_in_place(a)
    out = compute()
    if out._requires_grad:  # a value from the graph: ``a`` joins it (computed anew)
        return _rebased(a, compute, cast)
    result = _fitted(a, out._data, cast)
    a._data[...] = result
    note_in_place_write(a._data)
    return a


def _in_graph(a: Tensor, value: Any = None) -> bool:
    """Whether an in-place op on ``a`` that writes ``value`` is an op of the graph."""
    return (a._requires_grad or isinstance(value, Tensor) and value._requires_grad) and \
        is_grad_enabled()


def _everywhere(a: Tensor) -> np.ndarray:
    return np.ones(a._data.shape, bool)


def _fitted(a: Tensor, result: np.ndarray, cast: bool) -> np.ndarray:
    """``result`` if it may be written into ``a`` (PyTorch's rules, see ``written_in_place``)."""
    if not cast and not dtypes.can_cast(result.dtype, a._data.dtype):
        raise RuntimeError(f"result type {result.dtype} can't be cast to the desired output "
                           f"type {a._data.dtype}")
    shape, wanted = result.shape, a._data.shape
    # (copy_ broadcasts its source to the tensor's shape)
    if shape != wanted and not (cast and len(shape) <= len(wanted) and all(
            n in (1, m) for n, m in zip(shape[::-1], wanted[::-1]))):
        raise RuntimeError(f"output with shape {list(wanted)} doesn't match the "
                           f"broadcast shape {list(shape)}")
    return result


def can_record_in_place(a: Tensor) -> bool:
    """Whether an in-place op on ``a`` can be an op of the graph: not where ``a`` is a view of
    another tensor (its array shares memory with its op's inputs'; a leaf's is another's)."""
    producer = a.grad_fn
    if producer is None:
        return a._data.base is None
    return not any(isinstance(x, Tensor) and _shares(a._data, x._data)
                   for x in producer.inputs)


def _shares(view: np.ndarray, array: np.ndarray) -> bool:
    """Whether ``view`` may be a view of ``array``'s memory (one of no entries included)."""
    return np.may_share_memory(view, array) or (
        view.size == 0 and view.base is not None and _owner(view) is _owner(array))


def _rebased(a: Tensor, compute: Callable[[], Tensor], cast: bool) -> Tensor:
    """``a`` with ``compute()`` written into its array as an op of the graph, as PyTorch
    records an in-place op: ``a`` is that op's result from then on, and its values as they
    were are the op's input. ``compute()`` reads a copy of them, which its backward may keep,
    so that the write cannot change what it saved. What read ``a``'s array before and kept it
    for its backward refuses it, as in PyTorch (the write is noted); so does an op that used
    ``a`` before the write (``_propagate``: PyTorch would send its gradient to the values as
    they were, which are no tensor here). A view of another tensor (a slice, a reshape, ...)
    rewrites that tensor's history too (``_rebased_view``)."""
    _rebase(a, compute, cast)
    return a


def _rebase(a: Tensor, compute: Callable[[], Tensor], cast: bool,
            written: np.ndarray | None = None) -> Tensor:
    """``_rebased``'s work; returns ``a`` as it was (a tensor of its old values and history).
    ``written``: the part of ``a``'s array the write changes (by default all of it)."""
    if not can_record_in_place(a):
        if a.grad_fn is None:
            raise RuntimeError("an in-place op that joins the graph on a view made outside "
                               "it (a slice of a tensor that does not require grad, "
                               "from_numpy, ...): write it out of place (x = x + y), or "
                               "clone() it first")
        return _rebase_view(a, compute, cast)
    out, old = _computed_aside(a, compute, cast, a._data if written is None else written)
    held = a._data
    held[...] = out._data
    note_in_place_write(held)
    a.grad_fn, a._requires_grad = out.grad_fn, True
    return old


def _computed_aside(a: Tensor, compute: Callable[[], Tensor], cast: bool,
                    written: np.ndarray) -> tuple[Tensor, Tensor]:
    """``compute()``, an out-of-place op on ``a``, run on a copy of ``a``'s values, and ``a``
    as it was (a tensor of that copy, with ``a``'s history): the ops ``compute()`` applied
    take that tensor as their input from then on. The result has ``a``'s shape and dtype,
    and is in the graph (``_rebased``)."""
    producer = a.grad_fn
    start = _next_sequence()  # the ops compute() applies come after
    held, a._data = a._data, a._data.copy()
    try:
        out = compute()
    finally:
        before, a._data = a._data, held
    old = _new(Tensor)  # ``a`` as it was, as compute()'s ops saw it
    old._data, old._grad, old.grad_fn, old._requires_grad = before, None, producer, \
        a._requires_grad
    result = _fitted(a, out._data, cast)
    if result.shape != held.shape or not out._requires_grad:
        # broadcast to a's shape; values that no longer depend on a's (zero_, fill_ with a
        # number): zero gradient to them, as PyTorch gives
        out = ops.Where.apply(_everywhere(a), out, old)
    if out._data.dtype != held.dtype:
        out = ops.Cast.apply(out, held.dtype)
    stack, seen = [out.grad_fn], set()
    while stack:  # the ops applied since ``start`` name ``a``: they took it as it was
        fn = stack.pop()
        if fn is None or fn in seen or fn._sequence < start:
            continue
        seen.add(fn)
        fn.inputs = tuple(old if x is a else x for x in fn.inputs)
        stack.extend(x.grad_fn for x in fn.inputs if isinstance(x, Tensor))
    versions = _versions.get(id(a))
    if versions is None:
        _versions[id(a)] = versions = []
        weakref.finalize(a, _versions.pop, id(a), None)
    versions.append((start, old, written))
    return out, old


def _rebase_view(a: Tensor, compute: Callable[[], Tensor], cast: bool) -> Tensor:
    """``_rebase`` for ``a``, a view of another tensor (its op's result shares that tensor's
    memory: a slice, a reshape, a transpose, ...), as PyTorch rewrites a view's in-place op:
    the other tensor (the base) becomes its old values with the view's new ones written where
    the view lies in its memory, and ``a`` becomes a reading of those places of the new base;
    ``a`` as it was reads the old base. A base that is itself a view is rewritten the same
    way, in turn."""
    producer = a.grad_fn
    assert producer is not None
    base = next(x for x in producer.inputs if isinstance(x, Tensor) and _shares(a._data, x._data))
    if base.grad_fn is None:
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an "
                           "in-place operation: write it out of place, or under no_grad()")
    places = _places_in(a._data, base._data)
    out, old = _computed_aside(a, compute, cast, a._data)
    # ``a`` reads the new base from now on: what read it through its op read it before
    producer.__dict__["settled"] = True
    _rebase(base, lambda: scatter_ops.IndexPut.apply(base, places, out, False), False,
            a._data)
    a.grad_fn, a._requires_grad = _reading(base, places, a._data), True
    return old


def _reading(base: Tensor, places: tuple[np.ndarray, ...], view: np.ndarray) -> Context:
    """The op that reads ``view``, a view of ``base``'s memory at ``places``."""
    reading = ops.Index.apply(base, places).grad_fn
    assert reading is not None
    reading.__dict__["view"] = view
    return reading


def _is_view_at(value: np.ndarray, array: np.ndarray, index: Any) -> bool:
    """Whether ``value`` is ``array[index]``'s very memory, entry for entry."""
    if value.base is None or not np.may_share_memory(value, array):
        return False
    try:
        view = array[index]
    except (IndexError, TypeError, ValueError):
        return False
    return (view.base is not None and view.shape == value.shape and view.dtype == value.dtype
            and view.strides == value.strides and
            view.__array_interface__["data"][0] == value.__array_interface__["data"][0])


def _places_in(view: np.ndarray, base: np.ndarray) -> tuple[np.ndarray, ...]:
    """Where each entry of ``view`` lies in ``base``, whose memory it shares: an index of
    ``base`` (one integer array per dimension, each of ``view``'s shape). RuntimeError where
    an in-place write through ``view`` is not one PyTorch makes: entries that share one
    place (an ``expand``), a base whose entries do, another dtype."""
    if view.dtype != base.dtype:
        raise RuntimeError(f"an in-place op on a view of another dtype ({view.dtype} of "
                           f"{base.dtype}) in the graph: write it out of place")
    view_at, base_at = _addresses(view).ravel(), _addresses(base).ravel()
    order = np.argsort(base_at, kind="stable")
    ranked = base_at[order]
    if np.any(ranked[1:] == ranked[:-1]) or len(np.unique(view_at)) != view_at.size:
        raise RuntimeError("unsupported operation: more than one element of the written-to "
                           "tensor refers to a single memory location; clone() it first")
    found = np.minimum(np.searchsorted(ranked, view_at), max(ranked.size - 1, 0))
    if ranked.size == 0 or np.any(ranked[found] != view_at):
        raise RuntimeError("an in-place op on a tensor that shares part of another's "
                           "memory in the graph: write it out of place")
    return np.unravel_index(order[found].reshape(view.shape), base.shape)


def _addresses(a: np.ndarray) -> np.ndarray:
    """The address of each entry of ``a`` in memory, as an array of ``a``'s shape."""
    return strided_places(a.shape, a.strides, a.__array_interface__["data"][0])


def strided_places(shape: Sequence[int], steps: Sequence[int], start: int) -> np.ndarray:
    """Where each entry of a strided layout of ``shape`` lies: ``start`` plus its index times
    ``steps`` along each dimension (in bytes or in entries, as ``steps`` and ``start`` are)."""
    at = np.full((1,) * len(shape), start, np.int64)
    for d, (n, step) in enumerate(zip(shape, steps)):
        at = at + (np.arange(n, dtype=np.int64) * step).reshape(
            (-1,) + (1,) * (len(shape) - d - 1))
    return np.broadcast_to(at, tuple(shape))


def _drawn(a: Tensor, name: str, draw: Callable[[], np.ndarray],
           floating_only: bool = True) -> Tensor:
    """``a`` filled in place with ``draw()``'s values."""
    ops.check_in_place(a)
    if floating_only and a._data.dtype.kind != "f":
        raise NotImplementedError(f"{name}: not implemented for {a._data.dtype} tensors (a "
                                  "floating one only)")
    a._data[...] = draw()
    note_in_place_write(a._data)
    return a


def normalize_dim(dim: int, ndim: int) -> int:
    """``dim`` as a non-negative index; a 0-d tensor takes 0 and -1, as in PyTorch."""
    size = max(ndim, 1)
    if not -size <= dim < size:
        raise IndexError(f"dimension {dim} is out of range for a tensor of {ndim} dimensions")
    return dim % size


from . import composite, ops, scatter_ops  # noqa: E402 (Functions over Tensor: defined after it)
