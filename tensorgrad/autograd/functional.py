"""``torch.autograd.functional``'s first-order functions: ``vjp`` and ``jacobian`` of a
function of tensors, by reverse mode (one backward pass per entry of the output, for the
Jacobian). Those that need gradients of gradients (``hessian``, ``jvp``, ``hvp``, ``vhp``, and
``create_graph=True``) raise NotImplementedError: tensorgrad's backward passes are not
recorded."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..grad_mode import enable_grad
from ..tensor import Tensor, as_leaf

__all__ = ["hessian", "hvp", "jacobian", "jvp", "vhp", "vjp"]


def vjp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """``func(*inputs)`` and the vector-Jacobian product ``v`` times its Jacobian, each
    detached, as PyTorch's (``v`` may be omitted for a one-element output)::

        out, (g,) = vjp(lambda x: x ** 2, (tensor([1.0, 2.0]),), tensor([1.0, 1.0]))  # g: 2x
    """
    _first_order("vjp", create_graph)
    xs, many_inputs = _inputs(inputs)
    with enable_grad():
        output = func(*xs)
    outs, many_outputs = _outputs(output, "vjp")
    weights = _vectors(v, outs)
    grads = _gradients(outs, xs, weights, strict, retain=False)
    detached = tuple(o.detach() for o in outs)
    return (detached if many_outputs else detached[0]), (grads if many_inputs else grads[0])


def jacobian(func: Callable[..., Any], inputs: Any, create_graph: bool = False,
             strict: bool = False, vectorize: bool = False, strategy: str = "reverse-mode"
             ) -> Any:
    """The Jacobian of ``func`` at ``inputs``: for each output and input, a tensor of the
    output's shape followed by the input's (nested tuples as PyTorch's when either is a
    tuple); zeros where an output does not depend on an input::

        jacobian(lambda x: x ** 2, tensor([1.0, 2.0]))  # [[2., 0.], [0., 4.]]
    """
    _first_order("jacobian", create_graph)
    if strategy != "reverse-mode":
        raise NotImplementedError("jacobian: only strategy='reverse-mode' is supported")
    xs, many_inputs = _inputs(inputs)
    with enable_grad():
        output = func(*xs)
    outs, many_outputs = _outputs(output, "jacobian")
    rows: list[Any] = []
    for out in outs:
        blocks = [np.zeros(tuple(out.shape) + tuple(x.shape), x._data.dtype) for x in xs]
        flat = out.reshape(-1)
        for k in range(flat.shape[0]):
            picked = _gradients((flat[k],), xs, None, strict, retain=True)
            for block, g in zip(blocks, picked):
                block.reshape(flat.shape[0], *g._data.shape)[k] = g._data  # (a view)
        row = tuple(as_leaf(b) for b in blocks)
        rows.append(row if many_inputs else row[0])
    return tuple(rows) if many_outputs else rows[0]


def hessian(func: Callable[..., Any], inputs: Any, *args: Any, **kwargs: Any) -> Any:
    """Refused: a Hessian needs gradients of gradients."""
    raise NotImplementedError(_NO_SECOND_ORDER.format("hessian"))


def jvp(func: Callable[..., Any], inputs: Any, *args: Any, **kwargs: Any) -> Any:
    """Refused: reverse mode gives a Jacobian-vector product through a double backward."""
    raise NotImplementedError(_NO_SECOND_ORDER.format("jvp"))


def hvp(func: Callable[..., Any], inputs: Any, *args: Any, **kwargs: Any) -> Any:
    """Refused: a Hessian-vector product needs gradients of gradients."""
    raise NotImplementedError(_NO_SECOND_ORDER.format("hvp"))


def vhp(func: Callable[..., Any], inputs: Any, *args: Any, **kwargs: Any) -> Any:
    """Refused: a vector-Hessian product needs gradients of gradients."""
    raise NotImplementedError(_NO_SECOND_ORDER.format("vhp"))


_NO_SECOND_ORDER = ("{}: tensorgrad computes no gradients of gradients (its backward passes "
                    "are not recorded)")


def _first_order(name: str, create_graph: bool) -> None:
    if create_graph:
        raise NotImplementedError(_NO_SECOND_ORDER.format(f"{name}(create_graph=True)"))


def _inputs(inputs: Any) -> tuple[tuple[Tensor, ...], bool]:
    """The inputs, each a new leaf that requires grad (the caller's are left as they are),
    and whether they came as a tuple."""
    many = isinstance(inputs, (tuple, list))
    given = tuple(inputs) if many else (inputs,)
    for x in given:
        if not isinstance(x, Tensor):
            raise TypeError(f"The inputs given to the function must be Tensors, not "
                            f"{type(x).__name__}")
    return tuple(as_leaf(x._data).requires_grad_(x._data.dtype.kind == "f") for x in given), many


def _outputs(output: Any, name: str) -> tuple[tuple[Tensor, ...], bool]:
    many = isinstance(output, (tuple, list))
    outs = tuple(output) if many else (output,)
    for o in outs:
        if not isinstance(o, Tensor):
            raise TypeError(f"The outputs of the user-provided function given to {name} must be "
                            f"Tensors, not {type(o).__name__}")
    return outs, many


def _vectors(v: Any, outs: tuple[Tensor, ...]) -> list[Any]:
    if v is None:
        if len(outs) != 1 or outs[0].numel() != 1:
            raise RuntimeError("The vector v can only be None if the user-provided function "
                               "returns a single Tensor with a single element.")
        return [None]
    vs = tuple(v) if isinstance(v, (tuple, list)) else (v,)
    if len(vs) != len(outs):
        raise RuntimeError(f"v has {len(vs)} tensors, but the function has {len(outs)} outputs")
    for vector, out in zip(vs, outs):
        if tuple(np.shape(getattr(vector, "_data", vector))) != tuple(out.shape):
            raise RuntimeError(f"Mismatch in shape: v has shape "
                               f"{tuple(np.shape(getattr(vector, '_data', vector)))} and the "
                               f"output has shape {tuple(out.shape)}")
    return list(vs)


def _gradients(outs: tuple[Tensor, ...], xs: tuple[Tensor, ...], weights: Any, strict: bool,
               retain: bool) -> tuple[Tensor, ...]:
    """The weighted outputs' gradient to each input, zeros where there is none (``strict``:
    RuntimeError instead, as PyTorch's)."""
    from . import grad

    wanted = [i for i, x in enumerate(xs) if x.requires_grad]
    connected = [o for o in outs if o.requires_grad]
    found: list[Any] = [None] * len(xs)
    if wanted and connected:
        picked = [w for o, w in zip(outs, weights or [None] * len(outs)) if o.requires_grad]
        got = grad(connected, [xs[i] for i in wanted], grad_outputs=picked,
                   retain_graph=retain, allow_unused=True)
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
