"""Gradients of gradients: a backward pass run with ``create_graph=True`` (``Tensor.backward``,
``autograd.grad``) is recorded as it goes, so that its gradients have gradients of their own
(a gradient penalty, a Hessian-vector product, ``autograd.functional.hessian``).

For that, an op states its backward a second time, in tensor ops: beside ``backward(ctx,
grad)`` on arrays, a static method ``recorded_backward(ctx, grad)`` takes the gradient of its
result as a tensor and returns one gradient per argument of ``forward`` (None where there is
none), computed from the op's inputs as tensors (``ctx.inputs``), in the graph. For ``Mul``::

    @staticmethod
    def recorded_backward(ctx, grad):
        a, b = ctx.inputs
        return summed_to(grad * b, shape_of(a)), summed_to(grad * a, shape_of(b))

What the backward uses as a constant (a mask, a slope that is flat where it exists) stays one
(``constant``, from the arrays in ``ctx.saved_tensors``). A fused op (``linear``,
``softmax``, ``layer_norm``, ...) is differentiated through its composition of primitives,
run again on its inputs (``through``). An op without the method raises NotImplementedError in
a recorded pass; a user's ``Function`` may define one too.

The engine's side is ``tensor.graph_gradients``; this module holds what the ops' rules share.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .grad_mode import enable_grad
from .tensor import Context, Function, Tensor, as_leaf, graph_gradients

Rule = Callable[[Context, Tensor], Any]


def recorded_backward(ctx: Context, grad: Tensor) -> tuple[Any, ...]:
    """One op's gradients in tensor ops: its ``recorded_backward`` applied to ``grad``."""
    rule = getattr(ctx.function, "recorded_backward", None)
    if rule is None:
        raise NotImplementedError(
            f"{ctx.function.__name__}: tensorgrad has no gradient of its gradient, which "
            "create_graph=True needs (the ops that have one: docs/engine.md, 'Gradients of "
            "gradients')")
    with enable_grad():
        grads = rule(ctx, grad)
    return grads if isinstance(grads, tuple) else (grads,)


def summed_to(g: Tensor, shape: tuple[int, ...]) -> Tensor:
    """``g`` summed over the dimensions that broadcasting added or stretched to reach it from
    ``shape`` (``ops.sum_to`` in tensor ops)."""
    if tuple(g.shape) == tuple(shape):
        return g
    extra = g.ndim - len(shape)
    dims = (*range(extra), *(extra + i for i, n in enumerate(shape)
                             if n == 1 and g.shape[extra + i] != 1))
    return (g.sum(dim=dims, keepdim=True) if dims else g).reshape(shape)


def needs_grad(ctx: Context, i: int) -> bool:
    """Whether the op's argument ``i`` is a tensor that requires grad."""
    a = ctx.inputs[i]
    return isinstance(a, Tensor) and a.requires_grad


def shape_of(x: Any) -> tuple[int, ...]:
    return tuple(np.shape(x._data if isinstance(x, Tensor) else x))


def constant(array: Any) -> Tensor:
    """An array (a mask, a slope) as a tensor outside the graph."""
    return as_leaf(np.asarray(array))


def times_slope(slope: Callable[[Tensor], Any]) -> Rule:
    """The rule of an elementwise op of one tensor: the gradient times ``slope(input)``."""
    def rule(ctx: Context, grad: Tensor) -> tuple[Any, ...]:
        return (grad * slope(ctx.inputs[0]),) + (None,) * (len(ctx.inputs) - 1)
    return rule


def flat(ctx: Context, grad: Tensor) -> tuple[Any, ...]:
    """The rule of an op whose derivative is 0 wherever it exists (rounding, sign)."""
    return (constant(np.zeros(shape_of(ctx.inputs[0]), grad.dtype)),) + (None,) * (
        len(ctx.inputs) - 1)


def through(composed: Callable[..., Tensor]) -> Rule:
    """The rule of a fused op: the gradient through ``composed(ctx, *inputs)``, the same
    function composed of primitives, run again on the op's inputs."""
    def rule(ctx: Context, grad: Tensor) -> tuple[Any, ...]:
        tensors = [a for a in ctx.inputs if isinstance(a, Tensor) and a.requires_grad]
        out = composed(ctx, *ctx.inputs)
        if not out.requires_grad:
            return (None,) * len(ctx.inputs)
        found = graph_gradients(out, grad, stop=tensors)
        return tuple(found.get(a) if isinstance(a, Tensor) and a.requires_grad else None
                     for a in ctx.inputs)
    return rule


def linked(rule: Rule) -> Rule:
    """``rule`` for an op whose backward reads its input only through a mask (relu, max,
    clamp): as in PyTorch, its gradients stay in the graph of that input, with a derivative
    of 0 there, even where they do not depend on it (so that their own backward finds zeros,
    not a tensor that requires no grad)."""
    def linked_rule(ctx: Context, grad: Tensor) -> tuple[Any, ...]:
        inputs = [a for a in ctx.inputs if isinstance(a, Tensor) and a.requires_grad]
        grads = rule(ctx, grad)
        return tuple(Linked.apply(g, *inputs) if isinstance(g, Tensor) and
                     not g.requires_grad and inputs else g for g in grads)
    return linked_rule


class Linked(Function):
    """``grad`` itself, in the graph of ``inputs`` with a derivative of 0 (see ``linked``)."""

    @staticmethod
    def forward(ctx, grad, *inputs):
        ctx.shapes = [np.shape(a) for a in inputs]
        return grad.view()

    @staticmethod
    def backward(ctx, grad):
        return (grad, *(np.zeros(shape, grad.dtype) for shape in ctx.shapes))

    @staticmethod
    def recorded_backward(ctx, grad):
        return (grad, *(constant(np.zeros(shape, grad.dtype)) for shape in ctx.shapes))


class Spread(Function):
    """An index's backward as an op: ``grad`` added into zeros of ``shape`` at ``index``
    (repeated places add up); its own gradient is the index again."""

    @staticmethod
    def forward(ctx, grad, index, shape):
        ctx.index = index
        out = np.zeros(shape, grad.dtype)
        np.add.at(out, index, grad)
        return out

    @staticmethod
    def backward(ctx, grad):
        return grad[ctx.index], None, None

    @staticmethod
    def recorded_backward(ctx, grad):
        from .ops import Index

        return Index.apply(grad, ctx.index), None, None


def trailing_dims(x: Tensor, count: int) -> tuple[int, ...]:
    """The fewest trailing dimensions of ``x`` whose lengths multiply to ``count`` (a
    normalized shape: a dimension of length 1 more or less changes no mean)."""
    dims, product = [], 1
    for d in range(x.ndim - 1, -1, -1):
        dims.append(d)
        product *= x.shape[d]
        if product == count:
            break
    return tuple(sorted(dims))
