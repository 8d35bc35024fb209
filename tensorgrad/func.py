"""``torch.func``'s transforms on tensorgrad: ``grad``, ``grad_and_value``, ``vmap`` (the
function run once per slice, the results stacked: PyTorch's semantics, not its speed) and
``functional_call`` (a module run with other tensors as its parameters and buffers). They
compose: ``grad(grad(f))`` is a second derivative, as the gradient of an argument that is
already in a graph (an outer transform's, or one that requires grad) is recorded in it
(``autograd.grad(create_graph=True)``), and so is one of a function that closes over tensors
that require grad (a model's parameters)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from .grad_mode import enable_grad
from .ops import stack
from .tensor import Tensor, as_leaf

__all__ = ["functional_call", "grad", "grad_and_value", "vmap"]


def grad_and_value(func: Callable[..., Any], argnums: int | tuple[int, ...] = 0,
                   has_aux: bool = False) -> Callable[..., Any]:
    """A function giving the gradient of ``func``'s one-element result with respect to its
    arguments ``argnums`` (each a tensor, or a dict, list or tuple of them: the gradient has
    its structure), and that result (with ``has_aux``, ``func`` returns ``(result, aux)`` and
    the value is that pair)::

        g, value = grad_and_value(lambda x: (x ** 2).sum())(tensor([1.0, 2.0]))  # [2., 4.]
    """
    from .autograd import grad as gradient

    @functools.wraps(func)
    def transformed(*args: Any, **kwargs: Any) -> tuple[Any, Any]:
        positions = (argnums,) if isinstance(argnums, int) else tuple(argnums)
        given = list(args)
        leaves: list[Tensor] = []
        rebuilds = []
        in_a_graph = False
        for position in positions:
            found, rebuild = _flatten(given[position])
            if not found:
                raise RuntimeError(f"grad: argument {position} holds no Tensor")
            # a tensor already in a graph (an outer grad's) is differentiated in place, so
            # that the gradient stays in that graph; others become leaves of their own (the
            # caller's tensors stay as they are)
            in_a_graph = in_a_graph or any(t.requires_grad for t in found)
            own = [t if t.requires_grad else as_leaf(t._data).requires_grad_() for t in found]
            given[position] = rebuild(own)
            rebuilds.append((len(leaves), len(own), rebuild))
            leaves += own
        with enable_grad():
            out = func(*given, **kwargs)
        result, aux = out if has_aux else (out, None)
        if not isinstance(result, Tensor) or result.numel() != 1:
            raise RuntimeError("grad_and_value(f)(*args): Expected f(*args) to return a scalar "
                               "Tensor")
        # in a graph too when the result reaches a tensor of the caller's that requires grad
        # (a parameter the function closes over): the gradient stays in its graph
        recorded = in_a_graph or _reaches_other_leaves(result, leaves)
        found_grads = gradient(result, leaves, allow_unused=True, materialize_grads=True,
                               create_graph=recorded)
        grads = tuple(rebuild(list(found_grads[first:first + count]))
                      for first, count, rebuild in rebuilds)
        value = result.detach()
        return (grads[0] if isinstance(argnums, int) else grads), \
            ((value, aux) if has_aux else value)
    return transformed


def _reaches_other_leaves(result: Tensor, own: list[Tensor]) -> bool:
    """Whether ``result``'s graph reaches a leaf that requires grad other than ``own``."""
    mine = {id(t) for t in own}
    seen: set[int] = set()
    stack = [result.grad_fn] if result.grad_fn is not None else []
    while stack:
        fn = stack.pop()
        for a in fn.inputs:
            if not isinstance(a, Tensor) or not a.requires_grad:
                continue
            if a.grad_fn is None:
                if id(a) not in mine:
                    return True
            elif id(a.grad_fn) not in seen:
                seen.add(id(a.grad_fn))
                stack.append(a.grad_fn)
    return False


def grad(func: Callable[..., Any], argnums: int | tuple[int, ...] = 0,
         has_aux: bool = False) -> Callable[..., Any]:
    """A function giving the gradient of ``func``'s one-element result with respect to its
    arguments ``argnums`` (with ``has_aux``: that gradient and ``func``'s aux)::

        grad(lambda x: (x ** 2).sum())(tensor([1.0, 2.0]))  # Tensor([2., 4.])
    """
    both = grad_and_value(func, argnums, has_aux)

    @functools.wraps(func)
    def transformed(*args: Any, **kwargs: Any) -> Any:
        grads, value = both(*args, **kwargs)
        return (grads, value[1]) if has_aux else grads
    return transformed


def vmap(func: Callable[..., Any], in_dims: Any = 0, out_dims: Any = 0,
         randomness: str = "error", *, chunk_size: int | None = None) -> Callable[..., Any]:
    """``func`` over a batch: the tensors of each argument (a tensor, or a dict, list or
    tuple of them) sliced along its ``in_dims`` entry (None: passed whole), ``func`` called
    once per slice, the tensors of the results stacked along ``out_dims``::

        vmap(torch.dot)(ones(5, 3), ones(5, 3))  # Tensor of shape (5,)
    """
    @functools.wraps(func)
    def batched(*args: Any) -> Any:
        dims = in_dims if isinstance(in_dims, (tuple, list)) else (in_dims,) * len(args)
        if len(dims) != len(args):
            raise ValueError(f"vmap: in_dims has {len(dims)} entries for {len(args)} arguments")
        flat = [_flatten(a) for a in args]
        sizes = {t.shape[d] for (found, _), d in zip(flat, dims) if d is not None for t in found}
        if len(sizes) != 1:
            raise ValueError("vmap: Expected all tensors to have the same size in the mapped "
                             f"dimension, got sizes {sorted(sizes)} for the mapped dimension"
                             if sizes else "vmap: at least one input must be mapped over")
        (size,) = sizes

        def sliced(i: int) -> list[Any]:
            return [a if d is None else rebuild([t.select(d, i) for t in found])
                    for a, d, (found, rebuild) in zip(args, dims, flat)]

        results = [func(*sliced(i)) for i in range(size)]
        outs, rebuild = _flatten(results[0])
        if not outs:
            raise ValueError("vmap: the function must return tensors")
        per_out = out_dims if isinstance(out_dims, (tuple, list)) else (out_dims,) * len(outs)
        columns = [_flatten(r)[0] for r in results]
        return rebuild([stack([c[k] for c in columns], per_out[k]) for k in range(len(outs))])
    return batched


def _flatten(tree: Any) -> tuple[list[Tensor], Callable[[list[Any]], Any]]:
    """The tensors in a tensor, or in dicts, lists and tuples of them, in order, and a
    function that puts others in their places (the rest of the structure kept)."""
    if isinstance(tree, Tensor):
        return [tree], lambda values: values[0]
    if isinstance(tree, (list, tuple, dict)):
        items = list(tree.values()) if isinstance(tree, dict) else list(tree)
        parts = [_flatten(item) for item in items]
        counts = [len(found) for found, _ in parts]

        def rebuild(values: list[Any]) -> Any:
            rebuilt, at = [], 0
            for (_, part), count in zip(parts, counts):
                rebuilt.append(part(values[at:at + count]))
                at += count
            if isinstance(tree, dict):
                return dict(zip(tree.keys(), rebuilt))
            return type(tree)(*rebuilt) if hasattr(tree, "_fields") else type(tree)(rebuilt)
        return [t for found, _ in parts for t in found], rebuild
    return [], lambda values: tree


def functional_call(module: Any, parameter_and_buffer_dicts: Mapping[str, Any] | tuple,
                    args: Any = None, kwargs: Mapping[str, Any] | None = None, *,
                    tie_weights: bool = True, strict: bool = False) -> Any:
    """``module(*args, **kwargs)`` with the tensors of ``parameter_and_buffer_dicts`` (by
    their dotted names) in place of its own parameters and buffers for the call; the
    module is as it was afterwards::

        out = functional_call(model, {"weight": w, "bias": b}, (x,))
    """
    dicts = parameter_and_buffer_dicts if isinstance(parameter_and_buffer_dicts, tuple) else \
        (parameter_and_buffer_dicts,)
    replacements: dict[str, Any] = {}
    for d in dicts:
        for name, value in d.items():
            if name in replacements:
                raise ValueError(f"{name} appeared in multiple dictionaries")
            replacements[name] = value
    if strict:
        own = {name for name, _ in module.named_parameters()} | \
            {name for name, _ in module.named_buffers()}
        missing, unexpected = sorted(own - set(replacements)), sorted(set(replacements) - own)
        if missing or unexpected:  # (PyTorch's message)
            found = "".join(f"\n\t{what} key(s): {', '.join(map(repr, keys))}." for what, keys
                            in (("Unexpected", unexpected), ("Missing", missing)) if keys)
            raise RuntimeError(f"Error(s) in reparametrizing for {type(module).__name__}:{found}")
    positional = args if isinstance(args, tuple) else (() if args is None else (args,))
    with _swapped(module, replacements):
        return module(*positional, **(kwargs or {}))


@contextmanager
def _swapped(module: Any, replacements: Mapping[str, Any]) -> Iterator[None]:
    """Each named tensor of ``module`` replaced for the block, and put back after it."""
    saved = []
    try:
        for name, value in replacements.items():
            *path, leaf = name.split(".")
            owner = module
            for part in path:
                owner = getattr(owner, part)
            table = "_parameters" if leaf in owner._parameters else \
                "_buffers" if leaf in owner._buffers else None
            if table is None:
                raise AttributeError(f"{type(owner).__name__} has no parameter or buffer "
                                     f"{leaf!r} (from {name!r})")
            saved.append((owner, table, leaf, getattr(owner, table)[leaf]))
            getattr(owner, table)[leaf] = value
        yield
    finally:
        for owner, table, leaf, old in reversed(saved):
            getattr(owner, table)[leaf] = old
