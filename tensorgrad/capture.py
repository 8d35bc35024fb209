"""Capture and replay: a loss's graph recorded once per input shape, then rerun as a flat list.

``step = capture(loss_fn)`` returns a callable: ``step(*inputs)`` does what
``loss_fn(*inputs).backward()`` does (every leaf's ``.grad`` gets its gradient) and returns
the loss, detached. The first two calls with inputs of new shapes run ``loss_fn`` eagerly
and record the ops it applies; later calls with the same shapes replay the recording: each
op's ``forward`` on the new arrays, in the recorded order, then each ``backward`` in the
order ``backward()`` would visit them. The Python that built the graph (the model code,
the ops' argument checks, the creation of tensors and contexts, the ordering of the
backward pass) does not run again, and the results are the same to the last bit.

What may change between calls is the *values* of the inputs: arrays or tensors passed to
``step``, and the leaves' (the parameters') ``._data``. Everything else a recorded op takes is
a constant of the recording, so ``loss_fn`` must not compute arrays from its inputs outside
tensor ops, nor branch on their values. The second recording is compared with the first,
op by op, and a difference (an array that changed with the inputs though it is not one) is
an error, not a wrong replay. In-place ops are refused while recording. Calls of one step
from several threads take turns: each records or replays alone.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Collection, Hashable, Iterable, Sequence
from types import CodeType
from typing import Any

import numpy as np

from . import inlined
from .grad_mode import get_ident, is_grad_enabled
from .ops import Index
from .tensor import (
    Context,
    Tensor,
    accumulate,
    added_into,
    added_into_logs,
    as_leaf,
    conformed,
    leaf_hooks,
    quiet,
    saved_hooks,
    store_grad,
    tapes,
)

# speed: a replay whose results take more than this releases them after a run; a smaller one
# keeps them until its next (benchmarks/SPEED.md, "Issue #15")
_KEEP_BYTES = 1 << 20


class CaptureError(RuntimeError):
    """A function whose graph cannot be replayed: it depends on its inputs outside tensor ops."""


class Captured:
    """``loss_fn`` followed by ``backward()``, recorded per input signature and replayed."""

    def __init__(self, loss_fn: Callable[..., Tensor]):
        self.loss_fn = loss_fn
        self._recordings: dict[Hashable, _Recording | _Replay] = {}
        # A replay runs in its recording's contexts and tensors: one call at a time, so that
        # calls from several threads wait for each other instead of mixing their arrays.
        self._lock = threading.RLock()
        self._called: set[type] = set()  # ops whose lines met inputs they do not cover

    def __call__(self, *inputs: Any) -> Tensor:
        """``loss_fn(*inputs).backward()``; returns the loss, detached from the graph."""
        if not is_grad_enabled():
            raise RuntimeError("a captured step computes gradients: call it with grad enabled")
        if saved_hooks and saved_hooks.get(get_ident()):
            raise CaptureError("saved_tensors_hooks are in effect: a captured step's replays "
                               "keep the saved arrays without calling them; call the step "
                               "outside the hooks' block, or do not capture it")
        key = _signature(inputs)
        with self._lock:
            known = self._recordings.get(key)
            if isinstance(known, _Replay):
                try:
                    return known.run(inputs)
                except inlined.Stale as stale:  # a parameter changed dtype, ...: record anew
                    self._called.update(stale.args)  # and call these ops from now on
                    del self._recordings[key]
                    known = None
            recording = _Recording(self.loss_fn, inputs)
            try:
                if known is None or not (recording.ops or known.ops):
                    # (no op: the loss is a leaf, or made outside; each call runs eagerly)
                    self._recordings[key] = recording
                else:
                    known.check_same_as(recording)
                    self._recordings[key] = _Replay(recording, self._called)
            finally:
                _release(recording.ops)  # the replay is written from the arrays: then let go
            return recording.result

    def source(self, *inputs: Any) -> str:
        """The Python a replay runs for inputs like these (of their shapes and kinds)."""
        known = self._recordings.get(_signature(inputs))
        if not isinstance(known, _Replay):
            raise LookupError("inputs of these shapes were not recorded twice yet: nothing to "
                              "replay")
        return known.source

    def recorded_signatures(self) -> int:
        """How many input signatures have a replay (each recorded twice to get one)."""
        return sum(isinstance(r, _Replay) for r in self._recordings.values())


def capture(loss_fn: Callable[..., Tensor]) -> Captured:
    """``loss_fn(*inputs).backward()`` as a step that replays its recorded graph (see above)."""
    return Captured(loss_fn)


def _signature(inputs: Sequence[Any]) -> Hashable:
    """What must be equal between calls for one recording to serve: each input's kind and,
    for an array or tensor, its shape and dtype; other inputs by value."""
    key: list[Hashable] = []
    for x in inputs:
        if isinstance(x, (Tensor, np.ndarray)):
            data = x._data if isinstance(x, Tensor) else x
            key.append((type(x), data.shape, data.dtype))
        else:
            try:
                hash(x)
            except TypeError:
                raise TypeError(f"a captured step's inputs are arrays, tensors and hashable "
                                f"values, not {type(x).__name__}") from None
            key.append((type(x), x))
    return tuple(key)


class _Recording:
    """One eager run of ``loss_fn`` and its backward, with every op it applied."""

    def __init__(self, loss_fn: Callable[..., Tensor], inputs: Sequence[Any]):
        ident = get_ident()
        if ident in tapes:
            raise CaptureError("a captured step cannot run inside the recording of another")
        self.inputs = tuple(inputs)
        self.ops: list[tuple[Context, Tensor]] = []
        tapes[ident] = self.ops
        try:
            loss = loss_fn(*inputs)
        finally:
            del tapes[ident]
        if not isinstance(loss, Tensor) or loss._data.size != 1 or not loss.requires_grad:
            raise CaptureError("a captured function must return a one-element tensor that "
                               "requires grad (the loss)")
        self.added_into: set[Context] = set()  # where backward() added into a sum in place
        added_into_logs[ident] = self.added_into
        try:
            loss.backward(retain_graph=True)  # the replay is written from what ops saved
        finally:
            del added_into_logs[ident]
        self.loss, self.result = loss, loss.detach()
        self.made = {id(out): i for i, (_, out) in enumerate(self.ops)}
        self.slots = self._input_slots()
        self.nbytes = sum(out._data.nbytes for _, out in self.ops)  # the results alone

    def _input_slots(self) -> list[list[tuple[int, int, bool]]]:
        """For each op, its arguments that are inputs: (argument position, input number, and
        whether the op took the input's array rather than the input itself).

        Refuses an array that shares memory with an input without being one (a slice or
        reshape of it taken outside tensor ops, which a replay would not see change).
        """
        numbers = {}
        for k, x in enumerate(self.inputs):
            if isinstance(x, (Tensor, np.ndarray)):
                numbers[id(x)] = (k, False)
                if isinstance(x, Tensor):
                    numbers[id(x._data)] = (k, True)
        arrays = [x._data if isinstance(x, Tensor) else x for x in self.inputs
                  if isinstance(x, (Tensor, np.ndarray))]
        slots = []
        for i, (ctx, _) in enumerate(self.ops):
            found = []
            for position, arg in enumerate(ctx.inputs):
                if id(arg) in numbers:
                    found.append((position, *numbers[id(arg)]))
                elif isinstance(arg, np.ndarray) and any(np.may_share_memory(arg, a)
                                                         for a in arrays):
                    raise CaptureError(f"op {i} ({ctx.function.__name__}), argument "
                                       f"{position}: an array computed from an input outside "
                                       "tensor ops; pass it to the step as an input of its own")
            slots.append(found)
        return slots

    def check_same_as(self, other: _Recording) -> None:
        """Raise CaptureError unless ``other`` applied the same ops to the same constants."""
        if len(self.ops) != len(other.ops) or self.made.get(id(self.loss)) != \
                other.made.get(id(other.loss)):
            raise CaptureError(f"the function applied {len(self.ops)} ops, then "
                               f"{len(other.ops)}, to inputs of the same shapes: its graph "
                               "depends on their values")
        for i, ((a, _), (b, _)) in enumerate(zip(self.ops, other.ops)):
            same = a.function is b.function and len(a.inputs) == len(b.inputs) and \
                self.slots[i] == other.slots[i]
            for position, (x, y) in enumerate(zip(a.inputs, b.inputs)):
                if not same:
                    break
                if any(position == slot[0] for slot in self.slots[i]):
                    continue
                same = self._same_argument(x, y, other)
            if not same:
                raise CaptureError(f"op {i} ({a.function.__name__}) was applied to different "
                                   "constants in two calls with inputs of the same shapes: "
                                   "they depend on the inputs outside tensor ops")

    def _same_argument(self, x: Any, y: Any, other: _Recording) -> bool:
        if isinstance(x, Tensor) or isinstance(y, Tensor):
            if not (isinstance(x, Tensor) and isinstance(y, Tensor)):
                return False
            if id(x) in self.made or id(y) in other.made:  # results of ops: the same op's
                return self.made.get(id(x)) == other.made.get(id(y))
            if x.requires_grad or y.requires_grad:  # a parameter: the same tensor
                return x is y
            x, y = x._data, y._data  # a constant tensor made in the function: the same values
        if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
            return (isinstance(x, np.ndarray) and isinstance(y, np.ndarray)
                    and x.shape == y.shape and x.dtype == y.dtype
                    and np.array_equal(x, y, equal_nan=x.dtype.kind in "fc"))
        try:
            return bool(x == y) and type(x) is type(y)
        except (TypeError, ValueError):
            return False


class _Replay:
    """A recording, rerun on new inputs as one straight-line function (``source``): each op's
    forward in the recorded order, then each backward in ``backward()``'s order, every
    gradient added where it goes in the order ``backward()`` adds it."""

    def __init__(self, recording: _Recording, called: Collection[type] = ()):
        self.ops = recording.ops
        self.source, namespace = _program(recording, called)
        # speed: the objects it names are the variables of a closure, not globals, which the
        # replays of other shapes, sharing its code, would look up anew (benchmarks/SPEED.md,
        # "The captured step as a compiler")
        names = sorted(namespace)
        scope: dict[str, Any] = {}
        exec(_compiled(f"def make({', '.join(names)}):\n"  # noqa: S102
                       + "".join(f"    {line}\n" for line in self.source.splitlines())
                       + "    return run\n"), scope)
        # quiet: the ops' lines run as their eager selves, without floating-point warnings
        self._run = quiet(scope["make"](**namespace))
        # A large graph lets go of its arrays after each run, so that many recorded shapes
        # cannot hold many steps' memory.
        self.release = recording.nbytes > _KEEP_BYTES
        self.leaves = list({id(a): a for ctx, _ in recording.ops for a in ctx.inputs
                            if isinstance(a, Tensor) and a.grad_fn is None}.values())

    def run(self, inputs: Sequence[Any]) -> Tensor:
        if leaf_hooks and any(_hooked(x) for x in (*self.leaves, *inputs)):
            raise CaptureError("a gradient hook on a tensor of a captured step: its replays "
                               "write the gradients without calling it; remove the hook, or do "
                               "not capture the step")
        try:
            return self._run(*inputs)
        finally:
            if self.release:
                _release(self.ops)


def _hooked(x: Any) -> bool:
    hooks = leaf_hooks.get(id(x)) if isinstance(x, Tensor) else None
    return hooks is not None and bool(hooks.hooks or hooks.post)  # (post: after accumulation)


def _program(recording: _Recording, called: Collection[type]) -> tuple[str, dict[str, Any]]:
    """The source of ``run(x0, x1, ...)`` for a recording, and the objects it names.

    An op that ``inlined.WRITERS`` can write out becomes its NumPy lines; any other is
    called, its gradients checked as ``backward()`` checks them. Where the recording settles
    that a gradient is there (or that none can be), the lines do not ask.
    """
    namespace: dict[str, Any] = {"_ndarray": np.ndarray, "_asarray": np.asarray,
                                 "_conformed": conformed, "_as_leaf": as_leaf,
                                 "_store_grad": store_grad, "_added_into": added_into,
                                 "_accumulate": accumulate, "_tupled": _tupled,
                                 **inlined.NAMESPACE}
    names: dict[int, str] = {}
    counts: dict[str, int] = {}

    def name(obj: Any, prefix: str) -> str:
        """The variable that stands for ``obj``: c3 for the 4th context, o3 for its result, ..."""
        if id(obj) not in names:
            counts[prefix] = counts.get(prefix, -1) + 1
            names[id(obj)] = f"{prefix}{counts[prefix]}"
            namespace[names[id(obj)]] = obj
        return names[id(obj)]

    def constant(obj: Any) -> str:
        """A new name for ``obj`` (a shape, a size), so that graphs that differ only in their
        arrays' shapes have the same source."""
        counts["n"] = counts.get("n", -1) + 1
        namespace[f"n{counts['n']}"] = obj
        return f"n{counts['n']}"

    inputs = [f"x{k}" for k in range(len(recording.inputs))]
    lines = [f"def run({', '.join(inputs)}):"]
    checks: list[str] = []  # the arrays written lines read: as recorded, or record anew
    checked: set[str] = set()
    value: dict[int, str] = {}  # each result's variable, by its tensor
    written: dict[int, inlined.Backward] = {}  # the written ops' backward, by context
    stored: set[int] = set()  # results also kept in their tensor (a called op holds it)
    arguments: dict[int, list[str]] = {}  # what each op's forward is given, by context
    for i, ((ctx, out), slots) in enumerate(zip(recording.ops, recording.slots)):
        given = {position: (k, array) for position, k, array in slots}
        held, args, values = [], [], []  # what ctx.inputs holds, forward() is given, was given
        for position, a in enumerate(ctx.inputs):
            if position in given:
                k, array = given[position]
                held.append(f"x{k}._data" if array else f"x{k}")
                whole = isinstance(recording.inputs[k], Tensor) and not array
                args.append(f"{held[-1]}._data" if whole else held[-1])
            elif isinstance(a, Tensor):
                held.append(name(a, "t"))
                args.append(value.get(id(a)) or f"{held[-1]}._data")
            else:
                held.append(name(a, "k"))
                args.append(held[-1])
            values.append(a._data if isinstance(a, Tensor) else a)
        arguments[id(ctx)] = args
        needs = tuple(isinstance(a, Tensor) and a.requires_grad for a in ctx.inputs)
        v, o = f"v{i}", name(out, "o")
        writer = None if ctx.function in called else inlined.WRITERS.get(ctx.function)
        site = inlined.Site(ctx, args, values, out._data, v, f"s{i}_", needs, constant)
        writing = writer(site) if writer is not None else None
        lines.append(f"    # {i}: {ctx.function.__name__}")
        for position, a in enumerate(ctx.inputs):  # a parameter, or a tensor made in loss_fn
            tensor = f"{held[position]}._data"
            if args[position] == tensor and position not in given and tensor not in checked:
                checked.add(tensor)
                checks.append(f"    if {tensor}.dtype is not {constant(a._data.dtype)} or "
                              f"{tensor}.shape != {constant(a._data.shape)}:")
        if writing is not None:
            forward, written[id(ctx)] = writing
            lines += [f"    {line}" for line in forward]
            # NumPy gives a 0-d result as a scalar, apply() an array (unless the lines made
            # it one already, as cross_entropy's do)
            if out._data.ndim == 0 and not forward[-1].startswith(f"{v} = _np.asarray("):
                lines.append(f"    {v} = _asarray({v})")
        else:
            for a in ctx.inputs:  # its context holds them: as they are in this run
                if id(a) in value and id(a) not in stored:
                    stored.add(id(a))
                    lines.append(f"    {name(a, 'o')}._data = {value[id(a)]}")
            c = name(ctx, "c")
            stored.add(id(out))
            if slots:
                lines.append(f"    {c}.inputs = ({', '.join(held)},)")
            lines += [f"    d = {name(ctx.function.forward, 'f')}({', '.join([c, *args])})",
                      f"    {o}._data = {v} = d if type(d) is _ndarray else _asarray(d)"]
        value[id(out)] = v
    lines[1:1] = [line for check in checks for line in (check, "        raise _Stale")]
    order = sorted(_graph(recording.loss), key=lambda ctx: -ctx._sequence)  # backward()'s
    sums = {id(ctx): f"g{recording.made[id(out)]}" for ctx, out in recording.ops}
    input_names = {id(x): f"x{k}" for k, x in enumerate(recording.inputs)
                   if isinstance(x, Tensor)}
    leaves: dict[int, tuple[str, str]] = {}  # each leaf's sum and expression, by the leaf
    seed = np.ones_like(recording.result._data)  # the loss's gradient, as backward() seeds it
    seed.flags.writeable = False  # the same array every run: a backward may not write into it
    first = sums[id(order[0])]
    body = [f"    {first} = {name(seed, 'k')}"]
    # Whether each sum holds a gradient at this point of the lines: "yes", "maybe" (a called
    # op's backward may give None), or not yet (absent).
    state = {first: "yes"}
    unset: list[str] = []  # the sums that may be None somewhere: None until set
    # What went into each sum: a variable that a written op's lines made for this one use,
    # or something else (a called op's gradient, or one a written op passed on as it came).
    parts: dict[str, list[str]] = {}
    uses: dict[str, int] = {}

    def sum_of(a: Tensor) -> str:
        """The variable that sums ``a``'s gradient: its op's, or a leaf's own."""
        if a.grad_fn is not None:
            return sums[id(a.grad_fn)]
        tensor = input_names.get(id(a)) or names[id(a)]  # an input: new each run
        return leaves.setdefault(id(a), (f"l{len(leaves)}", tensor))[0]

    def add(target: str, e: str, certain: bool, indent: str) -> list[str]:
        parts.setdefault(target, []).append(e)
        uses[e] = uses.get(e, 0) + 1
        held = state.get(target)
        state[target] = "yes" if certain or held == "yes" else "maybe"
        if state[target] == "maybe" and target not in unset:
            unset.append(target)
        if held == "maybe":
            return [f"{indent}{target} = {e} if {target} is None else {target} + {e}"]
        return [f"{indent}{target} = {e}" if held is None else f"{indent}{target} = {target} + {e}"]

    for ctx in order:
        total = sums[id(ctx)]
        if total not in state:
            continue  # no gradient reaches it: backward() would not visit it either
        indent, sure = "    ", state[total] == "yes"  # sure: these lines run every time
        if not sure:
            body.append(f"    if {total} is not None:")
            indent = "        "
        # where backward() added a slice's gradient into the sum of Index's input in place
        into = sum_of(ctx.inputs[0]) if ctx in recording.added_into and \
            ctx.function is Index else None
        if into is not None and state.get(into) is not None:
            # as backward() did (Index.add_into): into the sum it holds, which no one else
            # does, for the same bits (a -0.0 elsewhere in it stays -0.0)
            index = arguments[id(ctx)][1]
            if state[into] == "maybe":
                # A called op may give None where it gave an array when recorded: then the sum
                # may be an array others hold, and a copy takes the gradient (the same bits).
                body += [f"{indent}if {into} is None:",
                         f"{indent}    {into} = _np.zeros({constant(ctx.inputs[0]._data.shape)}, "
                         f"{total}.dtype)",
                         f"{indent}    {into}[{index}] = {total}",
                         f"{indent}else:",
                         f"{indent}    {into} = {into}.copy()",
                         f"{indent}    {into}[{index}] += {total}"]
                state[into] = "yes" if sure else "maybe"
            else:
                body.append(f"{indent}{into}[{index}] += {total}")
            continue
        if id(ctx) in written:
            code, grads = written[id(ctx)](total)
            body += [indent + line for line in code]
        else:
            c = names[id(ctx)]
            body += [f"{indent}r = {name(ctx.function.backward, 'b')}({c}, {total})",
                     f"{indent}if type(r) is not tuple:",
                     f"{indent}    r = _tupled(r)"]
        for position, a in enumerate(ctx.inputs):
            if not (isinstance(a, Tensor) and a.requires_grad):
                continue
            tensor = input_names.get(id(a)) or names[id(a)]  # an input: new each run
            target = sum_of(a)
            if id(ctx) in written:
                e = grads[position]
                if e is not None:
                    body += add(target, e, sure, indent)
                    if e == total:  # passed on as it came: shared
                        uses[e] += 1
                continue
            check = f"type(e) is not _ndarray or e.dtype is not {tensor}._data.dtype"
            body += [f"{indent}e = r[{position}]",
                     f"{indent}if e is not None:",
                     f"{indent}    if {check}:",
                     f"{indent}        e = _conformed(e, {tensor}, {c})",
                     *add(target, "e", False, indent + "    ")]
    lines += [f"    {' = '.join(unset)} = None"] if unset else []
    lines += body
    # speed: a leaf whose gradient no other leaf can hold is given it here; the others as
    # accumulate() gives them (benchmarks/SPEED.md, "The captured step as a compiler")
    shared = []
    for target, tensor in leaves.values():
        if target not in state:
            continue
        maybe, indent = state[target] == "maybe", "        " if state[target] == "maybe" else "    "
        guard = [f"    if {target} is not None:"] if maybe else []
        if all(e != "e" and uses[e] == 1 for e in parts[target]):
            lines += [*guard, f"{indent}held = {tensor}._grad",
                      f"{indent}if held is None:",
                      f"{indent}    _store_grad({tensor}, {target} if {target}.base is None "
                      f"else {target}.copy())",
                      f"{indent}else:",
                      f"{indent}    {tensor}._grad = _added_into(held, {target})"]
        else:
            shared += [*guard, f"{indent}leaves[{tensor}] = {target}"]
    if shared:
        lines += ["    leaves = {}", *shared, f"    _accumulate(leaves, {names[id(seed)]})"]
    lines.append(f"    return _as_leaf({value[id(recording.loss)]})")
    return "\n".join(lines) + "\n", namespace


@functools.lru_cache(maxsize=64)
def _compiled(source: str) -> CodeType:
    """The code of a replay's source, compiled once for graphs that differ only in their
    arrays' shapes, as a model's documents of different lengths (speed: benchmarks/SPEED.md,
    "Issue #15")."""
    return compile(source, "<tensorgrad replay>", "exec")


def _tupled(grads: Any) -> tuple:
    """A backward's result as a tuple (it may return a list, or one gradient alone)."""
    return tuple(grads) if isinstance(grads, list) else (grads,)


def _release(ops: Iterable[tuple[Context, Tensor]]) -> None:
    """Let go of the arrays a run computed and kept: the next run computes them anew."""
    for ctx, out in ops:
        ctx.__dict__.clear()
        ctx.saved_tensors = ()
        out._data = None  # type: ignore[assignment]  # released: the next run sets it


def _graph(root: Tensor) -> set[Context]:
    """The recorded ops that ``backward()`` from ``root`` visits."""
    seen, stack = set(), [root.grad_fn]
    while stack:
        ctx = stack.pop()
        if ctx is None or ctx in seen:
            continue
        seen.add(ctx)
        stack.extend(a.grad_fn for a in ctx.inputs if isinstance(a, Tensor) and a.requires_grad)
    return seen
