"""The scalar step cut into the pieces that the tensor step's ops compute, counted and timed.

``gpt_scalar`` computes with the same functions as ``gpt_tensor`` (``linear``, ``rmsnorm``,
``attention``, ``softmax``) one position at a time, and with a few lines of its own in
``gpt()`` and ``document_loss()`` (the embeddings' and residuals' additions, ``relu``, the
loss). ``trace`` runs ``document_loss`` with those functions wrapped, so that it records, in
order, each position's start and every outermost call: its arguments, its results and when
it started and ended. (A call inside another, softmax inside attention, belongs to it.)

``Trace.region(values)`` then counts what a piece of code created: the nodes reachable from
its results that no earlier piece reached. Taken in the order the code ran, the pieces
partition the graph exactly, because every node a piece reaches was either created by it
or reached before. The nodes of the lines between two calls are those reachable from the
next call's arguments and not before: the embedding sum is what the first ``rmsnorm`` of a
position reads. Only nodes of the loss's graph count: the probabilities of the tokens that
were not the target are computed, but no gradient flows through them.

That order is also an order for the backward pass: a piece's nodes depend only on nodes of
earlier pieces and of itself. ``backward_by_region`` runs the chain rule piece by piece, the
last first, and times each piece, to the gradients of ``Value.backward`` (up to rounding:
a node's incoming gradients are summed in another order).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from tensorgrad import Value
from tensorgrad.value import topological_order

from .. import gpt_scalar

TRACED = ("linear", "rmsnorm", "attention", "softmax")  # the functions both models share


@dataclass
class Call:
    """One outermost call of a traced function of ``gpt_scalar``."""

    function: str
    weight: str | None  # linear's weight matrix, by parameter name
    args: tuple
    results: list[Value]
    start: float
    end: float
    resumed: float  # when the caller's code went on, after the tracer's own bookkeeping

    @property
    def arguments(self) -> list[Value]:
        return values_in(self.args)


@dataclass
class Position:
    """One call of ``gpt()`` and the calls up to the next one (the loss's softmax included)."""

    start: float
    calls: list[Call] = field(default_factory=list)


@dataclass
class Trace:
    """What ``trace`` recorded of one ``document_loss``; ``region`` counts the graph's pieces."""

    loss: Value
    positions: list[Position]
    start: float
    end: float
    graph: set[int]  # ids of the loss's graph's nodes
    order: list[Value]  # the graph in topological order, leaves first
    seconds_to_sort: float  # how long finding that order took, as Value.backward finds it
    _seen: set[int] = field(default_factory=set)

    def region(self, values: Iterable[Value]) -> list[Value]:
        """The graph's nodes reachable from ``values`` that no earlier region reached."""
        found, stack = [], [v for v in values if id(v) not in self._seen]
        while stack:
            node = stack.pop()
            if id(node) in self._seen:
                continue
            self._seen.add(id(node))
            if id(node) in self.graph:
                found.append(node)
            stack.extend(c for c in node.children if id(c) not in self._seen)
        return found


@contextlib.contextmanager
def _wrapped(params: dict[str, list[list[Value]]], positions: list[Position]) -> Iterator[None]:
    """``gpt_scalar``'s functions, recording into ``positions``, within the block."""
    weight_names = {id(w): name for name, w in params.items()}
    originals = {name: getattr(gpt_scalar, name) for name in (*TRACED, "gpt")}
    depth = 0

    def traced(name: str) -> Any:
        function = originals[name]

        def call(*args: Any) -> Any:
            nonlocal depth
            if depth:  # inside another traced call: part of it
                return function(*args)
            depth += 1
            start = time.perf_counter()
            try:
                results = function(*args)
            finally:
                depth -= 1
            end = time.perf_counter()
            weight = weight_names.get(id(args[1])) if name == "linear" else None
            # The KV cache grows after this call: keep the lists as they are now.
            kept = tuple(list(a) if isinstance(a, list) else a for a in args)
            positions[-1].calls.append(Call(name, weight, kept, results, start, end, 0.0))
            positions[-1].calls[-1].resumed = time.perf_counter()
            return results

        return call

    def gpt(*args: Any, **kwargs: Any) -> Any:
        positions.append(Position(time.perf_counter()))
        return originals["gpt"](*args, **kwargs)

    try:
        for name in TRACED:
            setattr(gpt_scalar, name, traced(name))
        gpt_scalar.gpt = gpt
        yield
    finally:
        for name, function in originals.items():
            setattr(gpt_scalar, name, function)


def trace(params: dict[str, list[list[Value]]], config: Any, tokens: Sequence[int]) -> Trace:
    """Run ``gpt_scalar.document_loss`` once, recording its positions and calls.

    The parameters that the loss reaches form the first region.
    """
    positions: list[Position] = []
    with _wrapped(params, positions):
        start = time.perf_counter()
        loss = gpt_scalar.document_loss(params, config, list(tokens))
        end = time.perf_counter()
    sort_start = time.perf_counter()
    order = topological_order(loss)
    seconds_to_sort = time.perf_counter() - sort_start
    return Trace(loss, positions, start, end, {id(v) for v in order}, order, seconds_to_sort)


def backward_by_region(trace: Trace, regions: Sequence[list[Value]]) -> list[float]:
    """Backpropagate ``trace.loss`` region by region, the last first; each region's seconds.

    ``regions`` must be in the order ``Trace.region`` found them and cover the graph.
    """
    rank = {id(v): i for i, v in enumerate(trace.order)}
    ordered = [sorted(nodes, key=lambda v: rank[id(v)], reverse=True) for nodes in regions]
    seconds = [0.0] * len(regions)
    trace.loss.grad = 1.0
    for k in reversed(range(len(ordered))):
        start = time.perf_counter()
        for node in ordered[k]:  # Value.backward's loop, on this region's nodes
            for child, local_grad in zip(node.children, node.local_grads):
                child.grad += local_grad * node.grad
        seconds[k] = time.perf_counter() - start
    return seconds


def values_in(x: Any) -> list[Value]:
    """The ``Value``s in nested lists (a vector, a matrix, a KV cache); nothing else."""
    if isinstance(x, Value):
        return [x]
    if isinstance(x, (list, tuple)):
        return [v for part in x for v in values_in(part)]
    return []
