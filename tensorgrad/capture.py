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
``step``, and the leaves' (the parameters') ``.data``. Everything else a recorded op takes is
a constant of the recording, so ``loss_fn`` must not compute arrays from its inputs outside
tensor ops, nor branch on their values. The second recording is compared with the first,
op by op, and a difference (an array that changed with the inputs though it is not one) is
an error, not a wrong replay. In-place ops are refused while recording.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any

import numpy as np

from .grad_mode import _get_ident, is_grad_enabled
from .tensor import Context, Tensor, _accumulate, _conformed, _seed, _tapes

_KEEP_BYTES = 1 << 20  # a replay whose results take more than this releases them after a run


class CaptureError(RuntimeError):
    """A function whose graph cannot be replayed: it depends on its inputs outside tensor ops."""


class Captured:
    """``loss_fn`` followed by ``backward()``, recorded per input signature and replayed."""

    def __init__(self, loss_fn: Callable[..., Tensor]):
        self.loss_fn = loss_fn
        self._recordings: dict[Hashable, _Recording | _Replay] = {}

    def __call__(self, *inputs: Any) -> Tensor:
        """``loss_fn(*inputs).backward()``; returns the loss, detached from the graph."""
        if not is_grad_enabled():
            raise RuntimeError("a captured step computes gradients: call it with grad enabled")
        key = _signature(inputs)
        known = self._recordings.get(key)
        if isinstance(known, _Replay):
            return known.run(inputs)
        recording = _Recording(self.loss_fn, inputs)
        if known is None:
            self._recordings[key] = recording
        else:
            known.check_same_as(recording)
            self._recordings[key] = _Replay(recording)
        return recording.result

    def recorded_signatures(self) -> int:
        """How many input signatures have a replay (each recorded twice to get one)."""
        return sum(isinstance(r, _Replay) for r in self._recordings.values())


def capture(loss_fn: Callable[..., Tensor]) -> Captured:
    """``loss_fn(*inputs).backward()`` as a step that replays its recorded graph (see above)."""
    return Captured(loss_fn)


def _signature(inputs: Sequence[Any]) -> Hashable:
    """What must be equal between calls for one recording to serve: each input's kind and,
    for an array or tensor, its shape and dtype; other inputs by value."""
    key = []
    for x in inputs:
        if isinstance(x, (Tensor, np.ndarray)):
            data = x.data if isinstance(x, Tensor) else x
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
        ident = _get_ident()
        if ident in _tapes:
            raise CaptureError("a captured step cannot run inside the recording of another")
        self.inputs = tuple(inputs)
        self.ops: list[tuple[Context, Tensor]] = []
        _tapes[ident] = self.ops
        try:
            loss = loss_fn(*inputs)
        finally:
            del _tapes[ident]
        if not isinstance(loss, Tensor) or loss.data.size != 1 or not loss.requires_grad:
            raise CaptureError("a captured function must return a one-element tensor that "
                               "requires grad (the loss)")
        loss.backward()
        self.loss, self.result = loss, loss.detach()
        self.made = {id(out): i for i, (_, out) in enumerate(self.ops)}
        self.slots = self._input_slots()
        self.nbytes = sum(out.data.nbytes for _, out in self.ops)  # the results alone
        _release(self.ops)

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
                    numbers[id(x.data)] = (k, True)
        arrays = [x.data if isinstance(x, Tensor) else x for x in self.inputs
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
            x, y = x.data, y.data  # a constant tensor made in the function: the same values
        if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
            return (isinstance(x, np.ndarray) and isinstance(y, np.ndarray)
                    and x.shape == y.shape and x.dtype == y.dtype
                    and np.array_equal(x, y, equal_nan=x.dtype.kind in "fc"))
        try:
            return bool(x == y) and type(x) is type(y)
        except (TypeError, ValueError):
            return False


class _Replay:
    """A recording, rerun on new inputs: the forwards in order, then the backwards."""

    def __init__(self, recording: _Recording):
        self.loss = recording.loss
        self.ops = []  # each op's forward, context, result, arguments, tensors and input slots
        edges = {}  # each op's arguments that take a gradient: (position, tensor, its op)
        for (ctx, out), slots in zip(recording.ops, recording.slots):
            given = {position for position, _, _ in slots}  # new each run: found in run()
            tensors = [(i, a) for i, a in enumerate(ctx.inputs)
                       if isinstance(a, Tensor) and i not in given]
            # the arguments that stay (constants), with None where tensors' arrays go
            arguments = [None if isinstance(a, Tensor) or i in given else a
                         for i, a in enumerate(ctx.inputs)]
            self.ops.append((ctx.function.forward, ctx, out, arguments, tensors, slots))
            edges[ctx] = [(i, None, None) if i in given else (i, a, a.grad_fn)
                          for i, a in enumerate(ctx.inputs)
                          if isinstance(a, Tensor) and a.requires_grad]
        order = sorted(_graph(self.loss), key=lambda ctx: -ctx._sequence)  # backward()'s
        self.routes = [(ctx, ctx.function.backward, edges[ctx]) for ctx in order]
        # A small graph keeps its arrays until its next run; a large one lets go of them
        # after each run, so that many recorded shapes cannot hold many steps' memory.
        self.release = recording.nbytes > _KEEP_BYTES

    def run(self, inputs: Sequence[Any]) -> Tensor:
        for forward, ctx, out, arguments, tensors, slots in self.ops:
            args = arguments.copy()
            for position, a in tensors:
                args[position] = a.data
            if slots:
                given = list(ctx.inputs)
                for position, k, array in slots:
                    x = inputs[k].data if array else inputs[k]
                    given[position] = x
                    args[position] = x.data if isinstance(x, Tensor) else x
                ctx.inputs = tuple(given)
            data = forward(ctx, *args)
            out.data = data if type(data) is np.ndarray else np.asarray(data)
        seed = _seed(self.loss, None)
        try:
            _accumulate(self._propagate(seed), seed)
        finally:
            loss = self.loss.detach()
            if self.release:
                _release((ctx, out) for _, ctx, out, _, _, _ in self.ops)
        return loss

    def _propagate(self, seed: np.ndarray) -> dict[Tensor, np.ndarray]:
        """``tensor._propagate`` along the recorded edges: the same gradients, summed in the
        same order, without finding again where each goes (nor checking shapes that the
        recording fixed)."""
        pending = {self.loss.grad_fn: seed}
        leaves = {}
        for ctx, backward, edges in self.routes:
            grads = backward(ctx, pending.pop(ctx))
            if type(grads) is not tuple:
                grads = tuple(grads) if isinstance(grads, list) else (grads,)
            for position, a, parent in edges:
                g = grads[position]
                if g is None:
                    continue
                if a is None:  # an input of the step: a new tensor each run
                    a = ctx.inputs[position]
                    parent = a.grad_fn
                if type(g) is not np.ndarray or g.dtype is not a.data.dtype:
                    g = _conformed(g, a, ctx)
                if parent is None:
                    held = leaves.get(a)
                    leaves[a] = g if held is None else held + g
                else:
                    held = pending.get(parent)
                    pending[parent] = g if held is None else held + g
        return leaves


def _release(ops: Iterable[tuple[Context, Tensor]]) -> None:
    """Let go of the arrays a run computed and kept: the next run computes them anew."""
    for ctx, out in ops:
        ctx.__dict__.clear()
        ctx.saved_tensors = ()
        out.data = None


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
