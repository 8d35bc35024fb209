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

__all__ = ["functional_call", "grad", "grad_and_value", "hessian", "jacfwd", "jacrev", "jvp",
           "linearize", "replace_all_batch_norm_modules_", "stack_module_state", "vjp",
           "vmap"]


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
        given, leaves, rebuilds, in_a_graph = _differentiated(args, argnums, "grad")
        with enable_grad():
            out = func(*given, **kwargs)
        result, aux = out if has_aux else (out, None)
        if not isinstance(result, Tensor):
            raise RuntimeError("grad_and_value(f)(*args): Expected f(*args) to return a "
                               f"Tensor, got {type(result)}")
        if result.numel() != 1:
            raise RuntimeError("grad_and_value(f)(*args): Expected f(*args) to return a scalar "
                               f"Tensor, got tensor with {result.ndim} dims. Maybe you wanted "
                               "to use the vjp or jacrev APIs instead?")
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


def _differentiated(args: tuple, argnums: int | tuple[int, ...], name: str
                    ) -> tuple[list[Any], list[Tensor], list[Any], bool]:
    """The arguments with the tensors of those at ``argnums`` made leaves to differentiate
    (a tensor already in a graph, an outer transform's or one that requires grad, taken as
    it is, so that the gradient stays in that graph; others new leaves, the caller's tensors
    left as they are), those leaves in order, for each position (where its leaves start,
    how many, the function that puts tensors back in its structure), and whether any was in
    a graph."""
    positions = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    given = list(args)
    leaves: list[Tensor] = []
    rebuilds = []
    in_a_graph = False
    for position in positions:
        found, rebuild = _flatten(given[position])
        others = [x for x in _leaves_of(given[position]) if not isinstance(x, Tensor)]
        if others or not found:
            raise ValueError("Thing passed to transform API must be Tensor, got "
                             f"{type(others[0] if others else given[position])}")
        in_a_graph = in_a_graph or any(t.requires_grad for t in found)
        own = [t if t.requires_grad else as_leaf(t._data).requires_grad_() for t in found]
        given[position] = rebuild(own)
        rebuilds.append((len(leaves), len(own), rebuild))
        leaves += own
    return given, leaves, rebuilds, in_a_graph


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


# ---- Jacobians, vector products and ensembles ---------------------------------------------------
# All by reverse mode: jacfwd's Jacobian is jacrev's (the same values, one backward pass per
# entry of the output), and jvp is reverse mode twice (the vector-Jacobian product with a weight
# u is linear in u; its gradient with respect to u, weighted by the tangents, is J t), so every
# op on the way needs a gradient of its gradient (docs/engine.md, "Gradients of gradients").


def _recorded(outs: list[Tensor], leaves: list[Tensor], in_a_graph: bool) -> bool:
    """Whether results must stay in a graph: an argument was in one already (an outer
    transform's) or an output reaches a tensor of the caller's that requires grad."""
    return in_a_graph or any(_reaches_other_leaves(o, leaves) for o in outs if o.requires_grad)


def _weighted_grads(outs: list[Tensor], leaves: list[Tensor], weights: list[Any],
                    create_graph: bool) -> list[Tensor]:
    """The gradient of sum(out * weight) to each leaf (zeros where none), the graph kept for
    another pass."""
    from .autograd import grad as gradient

    pairs = [(o, w) for o, w in zip(outs, weights) if o.requires_grad]
    if not pairs:
        return [as_leaf(_zeros(x.shape, x.dtype)) for x in leaves]
    found = gradient([o for o, _ in pairs], leaves, grad_outputs=[w for _, w in pairs],
                     retain_graph=True, create_graph=create_graph, allow_unused=True,
                     materialize_grads=True)
    return [g for g in found if g is not None]  # (materialized: none is None)


def _zeros(shape: Any, dtype: Any) -> Any:
    import numpy as np

    return np.zeros(tuple(shape), dtype)


def _jacobian_rows(out: Tensor, leaves: list[Tensor], recorded: bool) -> list[Tensor]:
    """For each leaf, d out / d leaf, of shape out.shape + leaf.shape: one backward pass per
    entry of ``out``."""
    from .autograd import grad as gradient

    shape = tuple(out.shape)
    if not out.requires_grad or out.numel() == 0:
        return [as_leaf(_zeros(shape + tuple(x.shape), out.dtype)) for x in leaves]
    flat = out.reshape(-1)
    rows: list[Any] = [gradient(flat[k], leaves, retain_graph=True, create_graph=recorded,
                                allow_unused=True, materialize_grads=True)
                       for k in range(flat.shape[0])]
    return [stack([row[i] for row in rows]).reshape(*shape, *x.shape)
            for i, x in enumerate(leaves)]


def jacrev(func: Callable[..., Any], argnums: int | tuple[int, ...] = 0, *,
           has_aux: bool = False, chunk_size: int | None = None,
           _preallocate_and_copy: bool = False) -> Callable[..., Any]:
    """A function giving the Jacobian of ``func`` with respect to its arguments ``argnums``
    by reverse mode: for each tensor of the result (a tensor, or a dict, list or tuple of
    them: the Jacobian has that structure outside), the derivative by each argument (inside:
    the argument's structure, a tuple of them when ``argnums`` is a tuple), of shape the
    result's followed by the argument's; with ``has_aux``, ``func`` returns ``(result,
    aux)`` and so does this::

        jacrev(torch.sin)(x)  # diag(cos(x))
    """
    @functools.wraps(func)
    def transformed(*args: Any, **kwargs: Any) -> Any:
        given, leaves, rebuilds, in_a_graph = _differentiated(args, argnums, "jacrev")
        out, outs, rebuild_out, aux = _called(func, given, kwargs, has_aux,
                                              "vjp(f, *primals)")
        recorded = _recorded(outs, leaves, in_a_graph)
        blocks = []
        for o in outs:
            rows = _jacobian_rows(o, leaves, recorded)
            if not recorded:
                rows = [r.detach() for r in rows]
            per_arg = tuple(rebuild(rows[first:first + count])
                            for first, count, rebuild in rebuilds)
            blocks.append(per_arg[0] if isinstance(argnums, int) else per_arg)
        jacobian = rebuild_out(blocks)
        return (jacobian, _detached(aux)) if has_aux else jacobian
    return transformed


def _called(func: Callable[..., Any], given: Any, kwargs: dict[str, Any], has_aux: bool,
            call: str) -> tuple[Any, list[Tensor], Callable[[list[Any]], Any], Any]:
    """``func(*given, **kwargs)`` (with gradients on) as ``(out, outs, rebuild_out, aux)``:
    the result without its aux, its tensors flattened, what rebuilds its structure and the
    aux (None without ``has_aux``); PyTorch's errors, prefixed by ``call``, where the result
    is no (output, aux) pair or holds anything but tensors."""
    with enable_grad():
        out = func(*given, **kwargs)
    aux = None
    if has_aux:
        if not (isinstance(out, tuple) and len(out) == 2):
            raise RuntimeError(f"{call}: output of function f should be a tuple: "
                               "(output, aux) if has_aux is True")
        out, aux = out
    outs, rebuild_out = _flatten(out)
    others = [x for x in _leaves_of(out) if not isinstance(x, Tensor)]
    if others or not outs:
        raise RuntimeError(f"{call}: expected f(*primals) to return only tensors, got "
                           f"unsupported type {type(others[0] if others else out)}")
    return out, outs, rebuild_out, aux


def _leaves_of(tree: Any) -> list[Any]:
    """Everything at the leaves of dicts, lists and tuples (tensors or not)."""
    if isinstance(tree, dict):
        return [x for v in tree.values() for x in _leaves_of(v)]
    if isinstance(tree, (list, tuple)):
        return [x for v in tree for x in _leaves_of(v)]
    return [tree]


def _detached(tree: Any) -> Any:
    found, rebuild = _flatten(tree)
    return rebuild([t.detach() if not t.requires_grad or t.grad_fn is not None else t
                    for t in found]) if found else tree


def jacfwd(func: Callable[..., Any], argnums: int | tuple[int, ...] = 0,
           has_aux: bool = False, *, randomness: str = "error") -> Callable[..., Any]:
    """``jacrev``'s Jacobian under forward mode's name: the same values and structure,
    computed here by reverse mode (tensorgrad has no forward mode)."""
    transformed = jacrev(func, argnums, has_aux=has_aux)
    return functools.wraps(func)(lambda *args, **kwargs: transformed(*args, **kwargs))


def hessian(func: Callable[..., Any], argnums: int | tuple[int, ...] = 0) -> Callable[..., Any]:
    """The Hessian of ``func`` with respect to ``argnums``: the Jacobian of its Jacobian
    (``jacfwd(jacrev(func))``, both by reverse mode here), shapes as PyTorch's."""
    return jacfwd(jacrev(func, argnums), argnums)


def vjp(func: Callable[..., Any], *primals: Any, has_aux: bool = False) -> tuple[Any, ...]:
    """``(func(*primals), vjp_fn)`` (with ``has_aux``: and ``func``'s aux): ``vjp_fn(v)``
    gives, for cotangents ``v`` of the result's structure, one tuple entry per primal (in
    its structure): v times the Jacobian. ``vjp_fn`` may be called again::

        out, vjp_fn = vjp(torch.sin, x); (g,) = vjp_fn(torch.ones_like(out))  # cos(x)
    """
    from .autograd import grad as gradient

    given, leaves, rebuilds, in_a_graph = _differentiated(primals, tuple(range(len(primals))),
                                                          "vjp")
    out, outs, rebuild_out, aux = _called(func, given, {}, has_aux, "vjp(f, *primals)")
    recorded = _recorded(outs, leaves, in_a_graph)

    def vjp_fn(*cotangents: Any) -> tuple[Any, ...]:
        tree = cotangents[0] if len(cotangents) == 1 else cotangents
        given_ct, _ = _flatten(tree)
        if len(given_ct) != len(outs):
            raise RuntimeError("Expected pytree structure of cotangents to be the same as "
                               "pytree structure of outputs to the function.")
        for o, c in zip(outs, given_ct):
            if tuple(o.shape) != tuple(c.shape):
                raise RuntimeError(f"Mismatch in shape: grad_output[0] has a shape of "
                                   f"{c.shape} and output[0] has a shape of {o.shape}.")
        pairs = [(o, c) for o, c in zip(outs, given_ct) if o.requires_grad]
        found: list[Any] = [as_leaf(_zeros(x.shape, x.dtype)) for x in leaves]
        if pairs:
            found = list(gradient([o for o, _ in pairs], leaves,
                                  grad_outputs=[c for _, c in pairs], retain_graph=True,
                                  create_graph=recorded or any(c.requires_grad for _, c in pairs),
                                  allow_unused=True, materialize_grads=True))
        return tuple(rebuild(found[first:first + count]) for first, count, rebuild in rebuilds)

    shown = out if recorded else _detached(out)
    return (shown, vjp_fn, _detached(aux)) if has_aux else (shown, vjp_fn)


def _linearized(func: Callable[..., Any], primals: tuple, has_aux: bool, name: str
                ) -> tuple[Any, Callable[..., Any], Any]:
    """``func(*primals)``, a function of tangents giving J t (reverse mode twice), and aux."""
    from .autograd import grad as gradient

    given, leaves, rebuilds, in_a_graph = _differentiated(primals, tuple(range(len(primals))),
                                                          name)
    out, outs, rebuild_out, aux = _called(func, given, {}, has_aux,
                                          "jvp(f, primals, tangents)")
    with enable_grad():
        recorded = _recorded(outs, leaves, in_a_graph)
        # the weights u, one per output; the gradients u^T J, a graph linear in u
        weights = [as_leaf(_zeros(o.shape, o.dtype)).requires_grad_(o.dtype.kind == "f")
                   for o in outs]
        pulled = _weighted_grads(outs, leaves, weights, create_graph=True)

    def push(tangents: Any) -> Any:
        found, _ = _flatten(tangents)
        if len(found) != len(leaves):
            raise RuntimeError(f"{name}(f, primals, tangents): Expected primals and tangents "
                               f"to have the same python structure.")
        for x, t in zip(leaves, found):
            if tuple(x.shape) != tuple(t.shape):
                raise RuntimeError(f"{name}(f, primals, tangents): Expected primals and tangents "
                                   f"to have the same shape. Got primal {tuple(x.shape)} and "
                                   f"tangent {tuple(t.shape)}")
        with enable_grad():
            total = None
            for g, t in zip(pulled, found):
                if g.requires_grad:
                    term = (g * t).sum()
                    total = term if total is None else total + term
        products: list[Any]
        if total is None:  # no output depends on the primals
            products = [as_leaf(_zeros(o.shape, o.dtype)) for o in outs]
        else:
            products = list(gradient(total, [w for w in weights], retain_graph=True,
                                     create_graph=recorded, allow_unused=True,
                                     materialize_grads=True))
        return rebuild_out(products if recorded else [p.detach() for p in products])

    shown = out if recorded else _detached(out)
    return shown, push, (_detached(aux) if has_aux else None)


def jvp(func: Callable[..., Any], primals: Any, tangents: Any, *, strict: bool = False,
        has_aux: bool = False) -> tuple[Any, ...]:
    """``(func(*primals), J @ tangents)`` (with ``has_aux``: and ``func``'s aux), the
    tangents one per primal, of its structure and shapes; by reverse mode twice, so every op
    on the way needs a gradient of its gradient::

        out, jvp_out = jvp(torch.sin, (x,), (torch.ones_like(x),))  # cos(x)
    """
    if not isinstance(primals, tuple):
        raise RuntimeError("jvp(f, primals, tangents): Expected primals to be a tuple. E.g. it "
                           "should be valid to call f(*primals).")
    if not isinstance(tangents, tuple) or len(tangents) != len(primals):
        raise RuntimeError("jvp(f, primals, tangents): Expected primals and tangents to have "
                           "the same python structure. For example, if primals is a tuple of "
                           "3 tensors, tangents also must be.")
    out, push, aux = _linearized(func, primals, has_aux, "jvp")
    result = push(tangents)
    return (out, result, aux) if has_aux else (out, result)


def linearize(func: Callable[..., Any], *primals: Any) -> tuple[Any, Callable[..., Any]]:
    """``(func(*primals), jvp_fn)``: ``jvp_fn(*tangents)`` gives J @ tangents at the primals,
    from a graph made once (reverse mode twice, as ``jvp``)."""
    out, push, _ = _linearized(func, primals, False, "linearize")
    return out, lambda *tangents: push(tangents)


def stack_module_state(models: Any) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
    """The parameters and buffers of models of one class, each name's stacked along a new
    first dim (parameters as new leaves that require grad), for ``vmap`` over
    ``functional_call``: an ensemble run as one::

        params, buffers = stack_module_state(models)
        vmap(lambda p, b, x: functional_call(base, (p, b), (x,)))(params, buffers, xs)
    """
    models = list(models)
    if not models:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    if len({m.training for m in models}) > 1:
        raise RuntimeError("stack_module_state: Expected all models to have the same "
                           "training/eval mode.")
    if len({type(m) for m in models}) > 1:
        raise RuntimeError("stack_module_state: Expected all models to be of the same class.")

    def stacked(tables: list[dict[str, Tensor]]) -> dict[str, Tensor]:
        out = {}
        for name in tables[0]:
            tensors = [table[name] for table in tables]
            needs = {t.requires_grad for t in tensors}
            if len(needs) > 1:
                raise RuntimeError(f"Expected {name} from each model to have the same "
                                   f".requires_grad")
            joined = stack([t.detach() for t in tensors])
            out[name] = joined.requires_grad_() if needs == {True} else joined
        return out

    return (stacked([dict(m.named_parameters()) for m in models]),
            stacked([dict(m.named_buffers()) for m in models]))


def replace_all_batch_norm_modules_(root: Any) -> Any:
    """Each batch norm module in ``root`` made to keep no running statistics (they become
    None, ``track_running_stats`` False), in place, so that ``vmap`` over it writes no
    buffer; returns ``root``."""
    from .nn.normalization import _BatchNorm

    for module in root.modules():
        if isinstance(module, _BatchNorm):
            module.running_mean = None
            module.running_var = None
            module.num_batches_tracked = None
            module.track_running_stats = False
    return root
