"""``torch.autograd.functional`` on tensorgrad: ``vjp`` and ``jacobian`` of a function of
tensors by reverse mode (one backward pass per entry of the output, for the Jacobian), and
through gradients of gradients (``autograd.grad(create_graph=True)``), ``hessian``, ``hvp``,
``vhp`` and ``jvp`` (reverse mode twice: the gradient of a gradient taken with a weight that
is a variable)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..grad_mode import enable_grad
from ..ops import stack
from ..tensor import Tensor, as_leaf

__all__ = ["hessian", "hvp", "jacobian", "jvp", "vhp", "vjp"]


def vjp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """``func(*inputs)`` and the vector-Jacobian product ``v`` times its Jacobian, each
    detached unless ``create_graph``, as PyTorch's (``v`` may be omitted for a one-element
    output)::

        out, (g,) = vjp(lambda x: x ** 2, (tensor([1.0, 2.0]),), tensor([1.0, 1.0]))  # g: 2x
    """
    xs, many_inputs = _inputs(inputs, create_graph)
    with enable_grad():
        output = func(*xs)
    outs, many_outputs = _outputs(output, "vjp")
    weights = _vectors(v, outs, "output")
    grads = _gradients(outs, xs, weights, strict, retain=create_graph, create_graph=create_graph)
    return _shown(outs, many_outputs, create_graph), (grads if many_inputs else grads[0])


def jacobian(func: Callable[..., Any], inputs: Any, create_graph: bool = False,
             strict: bool = False, vectorize: bool = False, strategy: str = "reverse-mode"
             ) -> Any:
    """The Jacobian of ``func`` at ``inputs``: for each output and input, a tensor of the
    output's shape followed by the input's (nested tuples as PyTorch's when either is a
    tuple); zeros where an output does not depend on an input::

        jacobian(lambda x: x ** 2, tensor([1.0, 2.0]))  # [[2., 0.], [0., 4.]]
    """
    if strategy != "reverse-mode":
        raise NotImplementedError("jacobian: only strategy='reverse-mode' is supported")
    xs, many_inputs = _inputs(inputs, create_graph)
    with enable_grad():
        output = func(*xs)
    outs, many_outputs = _outputs(output, "jacobian")
    rows: list[Any] = []
    for out in outs:
        flat = out.reshape(-1)
        picked = [_gradients((flat[k],), xs, None, strict, retain=True,
                             create_graph=create_graph) for k in range(flat.shape[0])]
        row = tuple(_stacked([p[i] for p in picked], tuple(out.shape), x, create_graph)
                    for i, x in enumerate(xs))
        rows.append(row if many_inputs else row[0])
    return tuple(rows) if many_outputs else rows[0]


def hessian(func: Callable[..., Any], inputs: Any, create_graph: bool = False,
            strict: bool = False, vectorize: bool = False,
            outer_jacobian_strategy: str = "reverse-mode") -> Any:
    """The Hessian of ``func``'s one-element result at ``inputs``: the Jacobian of its
    gradient (for one input a tensor of the input's shape twice; for a tuple of them, a
    tuple of tuples, as PyTorch's)::

        hessian(lambda x: (x ** 3).sum(), tensor([1.0, 2.0]))  # [[6., 0.], [0., 12.]]
    """
    many = isinstance(inputs, (tuple, list))

    def gradient(*xs: Tensor) -> Any:
        out = func(*xs)
        _one_element(out, "hessian")
        grads = _gradients((out,), xs, None, strict, retain=True, create_graph=True)
        return grads if many else grads[0]

    return jacobian(gradient, inputs, create_graph=create_graph, strict=strict,
                    strategy=outer_jacobian_strategy)


def vhp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """``func(*inputs)``, a one-element result, and ``v`` (of the inputs' shapes) times its
    Hessian: the gradient of (its gradient times ``v``)::

        vhp(lambda x: (x ** 3).sum(), tensor([1.0, 2.0]), tensor([1.0, 0.0]))[1]  # [6., 0.]
    """
    return _hessian_product(func, inputs, v, create_graph, strict, "vhp")


def hvp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """``func(*inputs)`` and its Hessian times ``v``: ``vhp``'s, the Hessian of a function
    whose second derivatives are continuous being symmetric."""
    return _hessian_product(func, inputs, v, create_graph, strict, "hvp")


def jvp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """``func(*inputs)`` and its Jacobian times ``v`` (of the inputs' shapes), by reverse
    mode twice, as PyTorch's: the vector-Jacobian product with a weight ``u`` is linear in
    ``u``, and its gradient with respect to ``u``, weighted by ``v``, is J v::

        jvp(lambda x: x ** 2, tensor([1.0, 2.0]), tensor([1.0, 1.0]))[1]  # [2., 4.]
    """
    xs, many_inputs = _inputs(inputs, create_graph)
    vs = _vectors(v, xs, "input")
    with enable_grad():
        output = func(*xs)
        outs, many_outputs = _outputs(output, "jvp")
        weights = [as_leaf(np.zeros_like(o._data)).requires_grad_(o._data.dtype.kind == "f")
                   for o in outs]
        grads = _gradients(outs, xs, weights, strict, retain=True, create_graph=True)
        total = _weighted_sum(grads, vs)
    products = _gradients((total,), tuple(weights), None, strict, retain=create_graph,
                          create_graph=create_graph)
    return _shown(outs, many_outputs, create_graph), \
        (products if many_outputs else products[0])


def _hessian_product(func: Callable[..., Any], inputs: Any, v: Any, create_graph: bool,
                     strict: bool, name: str) -> tuple[Any, Any]:
    xs, many_inputs = _inputs(inputs, create_graph)
    vs = _vectors(v, xs, "input")
    with enable_grad():
        out = func(*xs)
        _one_element(out, name)
        grads = _gradients((out,), xs, None, strict, retain=True, create_graph=True)
        total = _weighted_sum(grads, vs)
    products = _gradients((total,), xs, None, strict, retain=create_graph,
                          create_graph=create_graph)
    return _shown((out,), False, create_graph), (products if many_inputs else products[0])


def _inputs(inputs: Any, create_graph: bool = False) -> tuple[tuple[Tensor, ...], bool]:
    """The inputs, each a new leaf that requires grad (the caller's are left as they are;
    with ``create_graph``, one that requires grad is taken as it is, so that the results
    stay in its graph), and whether they came as a tuple."""
    given, many = _tensors(inputs, "The inputs given to the function")
    return tuple(x.view_as(x) if create_graph and x.requires_grad else
                 as_leaf(x._data).requires_grad_(x._data.dtype.kind == "f")
                 for x in given), many


def _outputs(output: Any, name: str) -> tuple[tuple[Tensor, ...], bool]:
    return _tensors(output, f"The outputs of the user-provided function given to {name}")


def _tensors(values: Any, what: str) -> tuple[tuple[Tensor, ...], bool]:
    """``values`` (a tensor, or a tuple or list of them) as a tuple, and whether it was one;
    TypeError naming ``what`` for anything else."""
    many = isinstance(values, (tuple, list))
    found = tuple(values) if many else (values,)
    for x in found:
        if not isinstance(x, Tensor):
            raise TypeError(f"{what} must be Tensors, not {type(x).__name__}")
    return found, many


def _vectors(v: Any, tensors: tuple[Tensor, ...], of: str) -> list[Any]:
    """``v`` as one tensor for each of ``tensors`` (the function's outputs or its inputs, as
    ``of`` says), each of its shape; None only for one tensor of one element (then 1)."""
    if v is None:
        if len(tensors) != 1 or tensors[0].numel() != 1:
            subject = ("the user-provided function returns" if of == "output" else
                       "the input to the user-provided function is")
            raise RuntimeError(f"The vector v can only be None if {subject} a single Tensor "
                               "with a single element.")
        return [as_leaf(np.ones_like(tensors[0]._data))]
    vs = list(v) if isinstance(v, (tuple, list)) else [v]
    if len(vs) != len(tensors):
        raise RuntimeError(f"v has {len(vs)} tensors, but the function has {len(tensors)} "
                           f"{of}s")
    for vector, t in zip(vs, tensors):
        if tuple(np.shape(getattr(vector, "_data", vector))) != tuple(t.shape):
            raise RuntimeError(f"Mismatch in shape: v has shape "
                               f"{tuple(np.shape(getattr(vector, '_data', vector)))} and the "
                               f"{of} has shape {tuple(t.shape)}")
    return vs


def _gradients(outs: tuple[Tensor, ...], xs: tuple[Tensor, ...], weights: Any, strict: bool,
               retain: bool, create_graph: bool = False) -> tuple[Tensor, ...]:
    """The weighted outputs' gradient to each input, zeros where there is none (``strict``:
    RuntimeError instead, as PyTorch's); recorded with ``create_graph``."""
    from . import grad

    wanted = [i for i, x in enumerate(xs) if x.requires_grad]
    connected = [o for o in outs if o.requires_grad]
    found: list[Any] = [None] * len(xs)
    if wanted and connected:
        picked = [w for o, w in zip(outs, weights or [None] * len(outs)) if o.requires_grad]
        got = grad(connected, [xs[i] for i in wanted], grad_outputs=picked,
                   retain_graph=retain, create_graph=create_graph, allow_unused=True)
        for i, g in zip(wanted, got):
            found[i] = g
    result = []
    for i, (x, g) in enumerate(zip(xs, found)):
        if g is None:
            if strict:
                raise RuntimeError(f"The output of the user-provided function is independent of "
                                   f"input {i}. This is not allowed in strict mode.")
            g = as_leaf(np.zeros_like(x._data))
        result.append(g)
    return tuple(result)


def _stacked(grads: list[Tensor], out_shape: tuple[int, ...], x: Tensor,
             create_graph: bool) -> Tensor:
    """One block of a Jacobian: the gradients of each entry of an output, in its shape."""
    shape = out_shape + tuple(x.shape)
    if create_graph:
        return stack(grads).reshape(shape) if grads else as_leaf(np.zeros(shape, x.dtype))
    block = np.zeros((len(grads), *x.shape), x._data.dtype)
    for k, g in enumerate(grads):
        block[k] = g._data
    return as_leaf(block.reshape(shape))


def _shown(outs: tuple[Tensor, ...], many: bool, create_graph: bool) -> Any:
    """The function's outputs as returned: detached unless ``create_graph``."""
    shown = tuple(o if create_graph else o.detach() for o in outs)
    return shown if many else shown[0]


def _one_element(out: Any, name: str) -> None:
    if not isinstance(out, Tensor):
        raise TypeError(f"The outputs of the user-provided function given to {name} must be "
                        f"Tensors, not {type(out).__name__}")
    if out.numel() != 1:
        raise RuntimeError(f"The Tensor returned by the function given to {name} should contain "
                           "a single element")


def _weighted_sum(grads: tuple[Tensor, ...], vs: list[Any]) -> Tensor:
    """The sum of each gradient times its vector: what the second pass differentiates."""
    total: Any = None
    for g, vector in zip(grads, vs):
        term = (g * vector).sum()
        total = term if total is None else total + term
    return total
