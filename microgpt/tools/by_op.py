"""One training step, op by op, on both engines: the nodes each op makes and the time it takes.

One row per op of the tensor step (forward and backward of one document's loss, eagerly:
``gpt_tensor.document_loss(...).backward()``, not the captured replay that training runs),
in the order the step runs them. Beside each op, the ``Value``s the scalar engine makes to
compute the same thing, counted (``scalar_regions``), and both engines' times.

How the time is attributed:

* forward, tensor: the time from the end of the previous op's ``Function.apply`` to the end
  of this one's (the model's Python between ops included), so the rows add up to the
  forward pass; forward, scalar: likewise, from the end of the previous piece of the scalar
  step to the end of this one, summed over positions.
* backward, tensor: the time inside each op's ``Function.backward`` during ``backward()``;
  what ``backward()`` does besides (ordering the ops, summing gradients, the leaves'
  ``.grad``) is a row of its own. Backward, scalar: the chain rule over the ``Value``s the
  op's piece made, run piece by piece (``scalar_regions.backward_by_region``); the
  topological sort that ``Value.backward`` does first is that row's scalar side.

Both engines run the same document from the same weights in the same process, in
alternating rounds (``ROUNDS``, each of ``TENSOR_STEPS_PER_ROUND`` tensor steps and one
scalar step); each figure is the median over them. Python's garbage collector is paused
while the ops are timed: its pauses would land on whichever op runs when a collection
starts. The whole step is also timed without instrumentation, with the collector paused
(what the rows add up to, but for the clock reads) and running (as in training).
"""

from __future__ import annotations

import contextlib
import gc
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from types import ModuleType
from typing import Any

import numpy as np

from tensorgrad import Function, Tensor

from .. import gpt_scalar, gpt_tensor
from ..model import GPTConfig
from . import scalar_regions

# Where each tensor op's work is in the scalar step: the traced function that does it, or
# nothing (the scalar step reads a row of a list), or (the ops not named) the step's own
# lines between two traced calls.
SCALAR_FUNCTION = {"RMSNorm": "rmsnorm", "Linear": "linear", "MultiHeadAttention": "attention",
                   "CrossEntropy": "softmax"}
NO_SCALAR_NODES = ("Index",)
ROUNDS = 5
TENSOR_STEPS_PER_ROUND = 50
COLUMNS = ("tensor_forward", "scalar_forward", "tensor_backward", "scalar_backward")  # OpRow's
GC_MODES = ("garbage collector paused", "garbage collector running")


class MisalignedSteps(RuntimeError):
    """The scalar step does not do what the tensor step does in the same order."""


@dataclass
class OpRow:
    """An op (or the parameters, or the backward pass's bookkeeping) on both engines; seconds."""

    op: str
    detail: str  # the parameter the op takes, if any
    tensor_nodes: int | None
    scalar_nodes: int | None
    tensor_forward: float | None = None
    scalar_forward: float | None = None
    tensor_backward: float | None = None
    scalar_backward: float | None = None


@dataclass
class StepByOp:
    rows: list[OpRow]  # the parameters, each op, the backward pass's bookkeeping
    total: OpRow
    # the whole step's forward and backward seconds: per GC_MODES, per engine
    uninstrumented: dict[str, dict[str, dict[str, float]]]
    losses: dict[str, float]
    positions: int
    rounds: int
    tensor_steps: int

    def to_json(self) -> dict[str, Any]:
        def row(r: OpRow) -> dict[str, Any]:
            return {key: (value * 1e6 if key.endswith(("forward", "backward"))
                          and value is not None else value)
                    for key, value in asdict(r).items()}

        return {"units": "microseconds", "positions": self.positions, "rounds": self.rounds,
                "tensor_steps": self.tensor_steps, "losses": self.losses,
                "rows": [row(r) for r in self.rows], "total": row(self.total),
                "uninstrumented": {gc_mode: {engine: {k: v * 1e6 for k, v in times.items()}
                                             for engine, times in by_engine.items()}
                                   for gc_mode, by_engine in self.uninstrumented.items()},
                "attribution": ATTRIBUTION_LINES}


ATTRIBUTION_LINES = [
    "forward: from the end of the previous op to the end of this one, the model's Python "
    "between them included (tensor); from the end of the previous piece of the step to the "
    "end of this one, over all positions (scalar)",
    "backward: inside the op's Function.backward (tensor); the chain rule over the Values "
    "the op's piece of the step made, piece by piece (scalar)",
    "backward() bookkeeping: the rest of backward(): ordering the ops, summing gradients, "
    "the leaves' .grad (tensor); the topological sort (scalar)",
]


# ---- the tensor step ----------------------------------------------------------------------------


@dataclass
class _TensorOp:
    function: str
    weight: str | None  # the parameter among its inputs, by name


@contextlib.contextmanager
def _timed_tensor_ops(classes: Sequence[type[Function]], ends: list, backward: dict
                      ) -> Iterator[None]:
    """Within the block, each op appends (ctx, end time) to ``ends`` when applied, and each
    op of ``classes`` records in ``backward[ctx]`` the seconds its backward took."""
    apply = Function.__dict__["apply"]

    def timed_apply(cls: type[Function], *args: Any) -> Tensor:
        out = apply.__func__(cls, *args)
        ends.append((out.grad_fn, time.perf_counter()))
        return out

    def timed(function: Callable) -> Callable:
        def timed_backward(ctx: Any, grad: np.ndarray) -> Any:
            start = time.perf_counter()
            grads = function(ctx, grad)
            backward[ctx] = time.perf_counter() - start
            return grads
        return staticmethod(timed_backward)

    own = {cls: cls.__dict__.get("backward") for cls in classes}
    # The methods are instrumented for the block and restored after it: assigning to them is
    # the point here, so mypy's method-assign (and apply's classmethod type) are ignored.
    try:
        Function.apply = classmethod(timed_apply)  # type: ignore[method-assign, assignment]
        for cls in classes:
            cls.backward = timed(cls.backward)  # type: ignore[method-assign]
        yield
    finally:
        Function.apply = apply  # type: ignore[method-assign]
        for cls, backward_method in own.items():
            if backward_method is None:
                del cls.backward  # it was inherited
            else:
                cls.backward = backward_method  # type: ignore[method-assign]


def _tensor_step(params: dict[str, Tensor], config: GPTConfig, tokens: Sequence[int],
                 classes: Sequence[type[Function]]) -> tuple[list, list[float], list[float], float]:
    """One instrumented step: its ops (contexts) in order, each op's forward and backward
    seconds, and the backward pass's seconds outside the ops."""
    ends: list = []
    backward: dict = {}
    with _timed_tensor_ops(classes, ends, backward):
        start = time.perf_counter()
        loss = gpt_tensor.document_loss(params, config, tokens)
        backward_start = time.perf_counter()
        loss.backward()
        backward_seconds = time.perf_counter() - backward_start
    ops, forward, previous = [], [], start
    for ctx, end in ends:
        if ctx is not None:  # an op outside the graph: its time goes to the next op's
            ops.append(ctx)
            forward.append(end - previous)
            previous = end
    times = [backward[ctx] for ctx in ops]
    for param in params.values():
        param.grad = None
    return ops, forward, times, backward_seconds - sum(times)


def _describe(ops: list, params: dict[str, Tensor]) -> list[_TensorOp]:
    names = {id(p): name for name, p in params.items()}
    described = []
    for ctx in ops:
        weights = [names[id(a)] for a in ctx.inputs if id(a) in names]
        described.append(_TensorOp(ctx.name(), weights[0] if weights else None))
    return described


# ---- the scalar step, lined up with the tensor step's ops ----------------------------------------


@dataclass
class _ScalarStep:
    """The scalar step's figures per tensor op: nodes, forward and backward seconds."""

    nodes: list[int]
    forward: list[float]
    backward: list[float]
    parameters: int  # the parameters' nodes that the loss reaches
    seconds_to_sort: float
    loss: float
    positions: int


def _scalar_step(params: dict[str, Any], config: GPTConfig, tokens: list[int],
                 ops: list[_TensorOp], parts: dict[str, set[str]]) -> _ScalarStep:
    """One traced scalar step, lined up with the tensor ``ops``, forward and backward."""
    trace = scalar_regions.trace(params, config, tokens)
    step = _ScalarStep([0] * len(ops), [0.0] * len(ops), [0.0] * len(ops), 0,
                       trace.seconds_to_sort, trace.loss.data, len(trace.positions))
    regions, owners = _line_up(trace, ops, parts, params, step)
    for owner, seconds in zip(owners, scalar_regions.backward_by_region(trace, regions)):
        if owner >= 0:
            step.backward[owner] += seconds
    return step


def _line_up(trace: scalar_regions.Trace, ops: list[_TensorOp], parts: dict[str, set[str]],
             params: dict[str, Any], step: _ScalarStep) -> tuple[list[list], list[int]]:
    """Cut the scalar step of ``trace`` into the tensor ``ops``: each position's calls and
    the lines between them, in order, against the ops that are not ``NO_SCALAR_NODES``.

    Adds each op's nodes and forward seconds to ``step``; returns the regions in the order
    found, and the op of each (-1: the parameters).
    """
    regions: list[list] = []
    owners: list[int] = []

    def add(k: int, values: list, seconds: float) -> int:
        region = trace.region(values)
        if region:
            regions.append(region)
            owners.append(k)
        if k >= 0:
            step.nodes[k] += len(region)
            step.forward[k] += seconds
        return len(region)

    step.parameters = add(-1, scalar_regions.values_in(list(params.values())), 0.0)
    per_position = [k for k, op in enumerate(ops) if op.function not in NO_SCALAR_NODES]
    loss = per_position[-1]  # the lines after the last call (-log p, the mean) are the loss's
    for p, position in enumerate(trace.positions):
        calls, i, boundary, pending = position.calls, 0, position.start, None
        for k in per_position:
            function = SCALAR_FUNCTION.get(ops[k].function)
            if function is None:  # lines of gpt() itself, delimited by the next call
                if pending is not None:
                    raise MisalignedSteps(f"position {p}: {ops[pending].function} and "
                                          f"{ops[k].function} with no call between them")
                pending = k
                continue
            group = _calls_for(ops[k], function, calls[i:], parts, p)
            lines = calls[i].start - boundary
            if pending is not None:
                if not add(pending, calls[i].arguments, lines):
                    raise MisalignedSteps(f"position {p}: no Values for "
                                          f"{ops[pending].function} before {function}()")
                pending = None
            elif add(k, calls[i].arguments, lines):
                raise MisalignedSteps(f"position {p}: Values made before {function}() "
                                      "that no tensor op stands for")
            boundary = calls[i].start
            for call in group:
                add(k, call.results, call.end - boundary)
                boundary = call.resumed  # the tracer's own time counts for no op
            i += len(group)
        if pending is not None or i != len(calls):
            raise MisalignedSteps(f"position {p}: the scalar step does more than the tensor "
                                  f"step: {[c.function for c in calls[i:]]}")
        following = trace.positions[p + 1].start if p + 1 < len(trace.positions) else trace.end
        step.forward[loss] += following - boundary
    add(loss, [trace.loss], trace.positions[0].start - trace.start)
    return regions, owners


def _calls_for(op: _TensorOp, function: str, calls: list, parts: dict[str, set[str]],
               position: int) -> list:
    """The calls at the head of ``calls`` that do ``op``'s work: one, or for a linear
    layer, one per matrix stacked in its weight."""
    stacked = parts[op.weight] if op.weight is not None else set()
    if not calls or calls[0].function != function or (
            function == "linear" and calls[0].weight not in stacked):
        found = f"{calls[0].function}()" if calls else "nothing"
        raise MisalignedSteps(f"position {position}: {op.function} {op.weight or ''} is "
                              f"{function}() on the scalar engine, which does {found} here")
    if function != "linear":
        return calls[:1]
    group = 1
    while group < len(calls) and calls[group].function == "linear" \
            and calls[group].weight in stacked:
        group += 1
    return calls[:group]


# ---- both ---------------------------------------------------------------------------------------


def tensor_graph(loss: Tensor) -> tuple[list, list[Tensor]]:
    """The ops (contexts) and the leaves of ``loss``'s graph, through public attributes."""
    ops, leaves, seen, stack = [], [], {id(loss)}, [loss]
    while stack:
        tensor = stack.pop()
        if tensor.grad_fn is None:
            leaves.append(tensor)
            continue
        ops.append(tensor.grad_fn)
        for a in tensor.grad_fn.inputs:
            if isinstance(a, Tensor) and id(a) not in seen:
                seen.add(id(a))
                stack.append(a)
    return ops, leaves


def _whole_step(engine: ModuleType, params: dict, config: GPTConfig, tokens: list[int],
                collect_garbage: bool) -> tuple[float, float]:
    """One uninstrumented step: its forward and backward seconds (the gradients are not kept)."""
    if collect_garbage:
        gc.enable()
    try:
        start = time.perf_counter()
        loss = engine.document_loss(params, config, tokens)
        middle = time.perf_counter()
        loss.backward()
        end = time.perf_counter()
    finally:
        gc.disable()
    for p in engine.parameters(params):
        p.grad = None if engine is gpt_tensor else 0.0
    return middle - start, end - middle


def step_by_op(state: dict[str, np.ndarray], config: GPTConfig, tokens: Sequence[int],
               rounds: int = ROUNDS, tensor_steps: int = TENSOR_STEPS_PER_ROUND) -> StepByOp:
    """The training step on ``tokens`` from the weights ``state``, op by op (see the module).

    Python's garbage collector is paused while the ops are timed: its pauses would land on
    whichever op runs when a collection starts. The whole step is also timed with it
    running, as in training.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _measure(state, config, list(tokens), rounds, tensor_steps)
    finally:
        if enabled:
            gc.enable()


def _measure(state: dict[str, np.ndarray], config: GPTConfig, tokens: list[int],
             rounds: int, tensor_steps: int) -> StepByOp:
    tensor_params = gpt_tensor.from_state_dict(state)
    scalar_params = gpt_scalar.from_state_dict(state)
    parts = {name: set(gpt_tensor.to_state_dict({name: p})) for name, p in tensor_params.items()}
    loss = gpt_tensor.document_loss(tensor_params, config, tokens)  # also a first, warm-up run
    graph_ops, leaves = tensor_graph(loss)
    classes = list(dict.fromkeys(ctx.function for ctx in graph_ops))
    samples: dict[str, list[list[float]]] = {key: [] for key in COLUMNS}
    bookkeeping: dict[str, list[float]] = {"tensor": [], "scalar": []}
    whole: dict[str, dict[str, list[tuple[float, float]]]] = {
        gc_mode: {"tensor": [], "scalar": []} for gc_mode in GC_MODES}
    for _ in range(rounds):
        for _ in range(tensor_steps):
            ops, forward, backward, rest = _tensor_step(tensor_params, config, tokens, classes)
            samples["tensor_forward"].append(forward)
            samples["tensor_backward"].append(backward)
            bookkeeping["tensor"].append(rest)
        described = _describe(ops, tensor_params)
        scalar = _scalar_step(scalar_params, config, tokens, described, parts)
        samples["scalar_forward"].append(scalar.forward)
        samples["scalar_backward"].append(scalar.backward)
        bookkeeping["scalar"].append(scalar.seconds_to_sort)
        for gc_mode, collect in zip(GC_MODES, (False, True)):
            whole[gc_mode]["tensor"] += [_whole_step(gpt_tensor, tensor_params, config, tokens,
                                                     collect) for _ in range(tensor_steps)]
            whole[gc_mode]["scalar"].append(_whole_step(gpt_scalar, scalar_params, config,
                                                        tokens, collect))
    medians = {key: [statistics.median(column) for column in zip(*rows)]
               for key, rows in samples.items()}
    rows = [OpRow("parameters", "", len(leaves), scalar.parameters)]
    for k, op in enumerate(described):
        own = op.function not in NO_SCALAR_NODES  # else the scalar step's time is elsewhere
        rows.append(OpRow(op.function, op.weight or "", 1, scalar.nodes[k],
                          *(medians[key][k] if own or key.startswith("tensor") else None
                            for key in COLUMNS)))
    rows.append(OpRow("backward()", "bookkeeping", None, None,
                      tensor_backward=statistics.median(bookkeeping["tensor"]),
                      scalar_backward=statistics.median(bookkeeping["scalar"])))
    total = OpRow("total", "", *(sum(getattr(r, key) or 0 for r in rows) for key in (
        "tensor_nodes", "scalar_nodes", *COLUMNS)))
    uninstrumented = {gc_mode: {engine: {"forward": statistics.median(f for f, _ in steps),
                                         "backward": statistics.median(b for _, b in steps)}
                                for engine, steps in by_engine.items()}
                      for gc_mode, by_engine in whole.items()}
    return StepByOp(rows, total, uninstrumented, {"tensor": float(loss.data),
                                                  "scalar": scalar.loss},
                    scalar.positions, rounds, rounds * tensor_steps)


# ---- the table ----------------------------------------------------------------------------------


def format_us(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    us = seconds * 1e6
    return f"{us:.1f}" if us < 100 else f"{us:,.0f}"


def _ratio(scalar: float | None, tensor: float | None) -> str:
    if not scalar or not tensor:
        return "-"
    ratio = scalar / tensor
    return f"{ratio:.1f}x" if ratio < 10 else f"{ratio:,.0f}x"


def _count(n: int | None) -> str:
    return "-" if n is None else f"{n:,}"


def table(result: StepByOp) -> list[str]:
    """The rows as aligned text: nodes, then forward and backward microseconds and ratios."""
    header = [["", "nodes", "", "forward, µs", "", "", "backward, µs", "", ""],
              ["op", "tensor", "scalar", "tensor", "scalar", "ratio", "tensor", "scalar",
               "ratio"]]
    body = []
    for r in (*result.rows, result.total):
        body.append([f"{r.op} {r.detail}".strip(), _count(r.tensor_nodes),
                     _count(r.scalar_nodes), format_us(r.tensor_forward),
                     format_us(r.scalar_forward), _ratio(r.scalar_forward, r.tensor_forward),
                     format_us(r.tensor_backward), format_us(r.scalar_backward),
                     _ratio(r.scalar_backward, r.tensor_backward)])
    widths = [max(len(line[c]) for line in header + body) for c in range(len(header[0]))]

    def line(cells: list[str]) -> str:
        return "  ".join([cells[0].ljust(widths[0])] + [cell.rjust(width) for cell, width in
                                                          zip(cells[1:], widths[1:])]).rstrip()

    rule = "-" * len(line(body[0]))
    return [line(h) for h in header] + [rule] + [line(b) for b in body[:-1]] + [rule,
                                                                                 line(body[-1])]
