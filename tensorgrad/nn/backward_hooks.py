"""A module's backward hooks (``register_full_backward_hook``, ``..._pre_hook``), as PyTorch's.

The gradients of a module's outputs, and then of its inputs, must reach the hooks together,
but an op here has one result. So a call of a hooked module joins its tensor inputs into one
flat tensor and splits it again (``_Joined``): the gradient of the flat tensor, in that op's
backward, is every input's gradient at once. Its outputs are joined and split the same way.
Only a module with backward hooks pays for the copies.
"""

from __future__ import annotations

import warnings
from threading import get_ident
from typing import Any

import numpy as np

from ..grad_mode import is_grad_enabled
from ..tensor import Function, Tensor, as_leaf, tapes


class BackwardHooks:
    """A module's backward pre-hooks (``before``: ``hook(module, grad_output)``) and
    backward hooks (``after``: ``hook(module, grad_input, grad_output)``), in order."""

    def __init__(self) -> None:  # (each hook kept as an object with its ``function``)
        self.before: list[Any] = []
        self.after: list[Any] = []

    def wrapped(self, module: Any, args: tuple) -> tuple[_Call | None, tuple]:
        """The call's record and its arguments, the tensors among them joined (when a graph
        is being recorded: else there is nothing to hook)."""
        if not is_grad_enabled():
            return None, args
        if tapes and get_ident() in tapes:
            raise RuntimeError("a module with backward hooks inside a captured function: its "
                               "replays would not call them; remove the hooks, or do not "
                               "capture the step")
        call = _Call(self, module, args)
        return call, call.inputs(args)


class _Call:
    """One call of a hooked module: what its outputs' gradients were, for its inputs' hooks."""

    def __init__(self, hooks: BackwardHooks, module: Any, args: tuple) -> None:
        self.hooks, self.module = hooks, module
        self.wanted = [isinstance(a, Tensor) and a.requires_grad for a in args]
        self.grad_output: tuple[Tensor | None, ...] = ()

    def inputs(self, args: tuple) -> tuple:
        joined = [a for a, wanted in zip(args, self.wanted) if wanted]
        if not joined:
            return args
        parts = iter(_split(_Joined.apply(self._on_inputs, *joined), joined))
        return tuple(next(parts) if wanted else a for a, wanted in zip(args, self.wanted))

    def outputs(self, output: Any) -> Any:
        found: list[Tensor] = []
        _tensors_in(output, found)
        found = [t for t in found if t.requires_grad]
        if not found:
            return output
        parts = dict(zip(map(id, found), _split(_Joined.apply(self._on_outputs, *found),
                                                found)))
        return _rebuilt(output, parts)

    def _on_outputs(self, grads: list[np.ndarray]) -> list[np.ndarray]:
        grad_output = tuple(as_leaf(g) for g in grads)
        for hook in tuple(self.hooks.before):
            returned = hook.function(self.module, grad_output)
            if returned is not None:
                grad_output = _replacement(returned, grad_output, "backward pre-hook")
        self.grad_output = grad_output
        if not any(self.wanted) and self.hooks.after:  # no input to wait for: as PyTorch's,
            # the hooks run now, given Nones, and say so
            warnings.warn("a full backward hook runs as its module's results' gradients are "
                          "known: none of the module's arguments needs a gradient",
                          UserWarning, stacklevel=2)
            self._run_after(tuple(None for _ in self.wanted))
        return [g._data for g in grad_output]

    def _on_inputs(self, grads: list[np.ndarray]) -> list[np.ndarray]:
        given = iter(grads)
        grad_input = tuple(as_leaf(next(given)) if wanted else None for wanted in self.wanted)
        grad_input = self._run_after(grad_input)
        return [g._data for g, wanted in zip(grad_input, self.wanted)  # type: ignore[union-attr]
                if wanted]

    def _run_after(self, grad_input: tuple) -> tuple:
        for hook in tuple(self.hooks.after):
            returned = hook.function(self.module, grad_input, self.grad_output)
            if returned is not None:
                grad_input = _replacement(returned, grad_input, "backward hook")
        return grad_input


class _Joined(Function):
    """Tensors of one dtype as one flat tensor; its backward gives the gradient of each to
    ``on_grads`` together (which may replace them)."""

    @staticmethod
    def forward(ctx, on_grads, *arrays):
        dtypes = {a.dtype for a in arrays}
        if len(dtypes) > 1:
            raise NotImplementedError(f"backward hooks on a module whose tensors are of "
                                      f"several dtypes ({', '.join(map(str, dtypes))})")
        ctx.on_grads, ctx.shapes = on_grads, [a.shape for a in arrays]
        return np.concatenate([a.ravel() for a in arrays])

    @staticmethod
    def backward(ctx, grad):
        ends = np.cumsum([int(np.prod(shape)) for shape in ctx.shapes])[:-1]
        grads = [part.reshape(shape) for part, shape in zip(np.split(grad, ends), ctx.shapes)]
        return (None, *ctx.on_grads(grads))


def _split(flat: Tensor, like: list[Tensor]) -> list[Tensor]:
    parts, start = [], 0
    for t in like:
        parts.append(flat[start:start + t.numel()].reshape(t.shape))
        start += t.numel()
    return parts


def _tensors_in(output: Any, found: list[Tensor]) -> None:
    if isinstance(output, Tensor):
        found.append(output)
    elif isinstance(output, (tuple, list)):
        for item in output:
            _tensors_in(item, found)


def _rebuilt(output: Any, parts: dict[int, Tensor]) -> Any:
    if isinstance(output, Tensor):
        return parts.get(id(output), output)
    if isinstance(output, (tuple, list)):
        items = [_rebuilt(item, parts) for item in output]
        return type(output)(*items) if hasattr(output, "_fields") else type(output)(items)
    return output


def _replacement(returned: Any, given: tuple, what: str) -> tuple:
    """What a hook returned in place of the gradients ``given``: as many, each of its shape."""
    returned = tuple(returned) if isinstance(returned, (tuple, list)) else (returned,)
    if len(returned) != len(given):
        raise RuntimeError(f"{what} returned {len(returned)} gradients where it was given "
                           f"{len(given)}")
    kept = []
    for new, old in zip(returned, given):
        if old is None and new is not None:
            raise RuntimeError(f"{what} returned a gradient where there is none (None)")
        if old is not None and new is None:  # no gradient: zeros
            new = as_leaf(np.zeros_like(old._data))
        if old is not None and (not isinstance(new, Tensor) or new.shape != old.shape):
            raise RuntimeError(f"{what} returned {type(new).__name__} where a gradient of "
                               f"shape {tuple(old.shape)} was expected")
        kept.append(new)
    return tuple(kept)
