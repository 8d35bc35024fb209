"""The vectorized engine: a ``Tensor`` is a NumPy array that remembers how it was computed.

Each op computes its forward value with NumPy and records a backward function
``backward(saved, g)`` that maps the gradient ``g`` of its output to the gradients
of its inputs (never changing ``g`` in place, so one array can safely flow to
several inputs), with ``saved`` what the op kept for it. Most ops here record a
closure, which keeps what it needs itself (``saved`` is None); the few on a GPT
training step's path (here and in ``functional``) name a module-level function and
keep a tuple instead, which costs less to make and to free than a closure and its
cells (about 2% of a step at microgpt's size: ``benchmarks/SPEED.md``).
Each backward returns gradients of exactly its inputs' shapes: the broadcasting ops
share one wrapper, ``_elementwise``, that sums a broadcast input's gradient back
to the input's shape. Names and semantics follow PyTorch:
``.grad`` is filled on leaf tensors that require grad, and it accumulates
across calls to ``backward()``.
"""

from __future__ import annotations

import functools
import heapq
import itertools
import math
import sys
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

_grad_enabled = True
# Every tensor gets the next number at creation. A result is always created after its
# inputs, so visiting nodes from the highest number down is a topological order.
_next_sequence = itertools.count().__next__
_new_tensor = object.__new__
_REUSE_MIN_SIZE = 1 << 13  # elements (64 KiB of float64): see Tensor.zero_grad


@contextmanager
def no_grad():
    """Inside this block, ops record no graph: their results do not require grad."""
    global _grad_enabled
    previous, _grad_enabled = _grad_enabled, False
    try:
        yield
    finally:
        _grad_enabled = previous


def is_grad_enabled() -> bool:
    return _grad_enabled


class Tensor:
    """An n-dimensional array with reverse-mode automatic differentiation."""

    __slots__ = ("data", "grad", "requires_grad", "_parents", "_backward", "_saved", "_seq",
                 "_spare")
    __array_ufunc__ = None  # make `ndarray <op> Tensor` defer to Tensor's reflected ops

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None):
        if isinstance(data, Tensor):
            data = data.data
        if dtype is None:
            is_float = isinstance(data, np.ndarray) and data.dtype.kind == "f"
            dtype = data.dtype if is_float else np.float64
        self.data = np.array(data, dtype=dtype)
        self.grad: np.ndarray | None = None
        self.requires_grad = requires_grad
        self._parents: tuple[Tensor, ...] = ()
        self._backward: Callable | None = None
        self._saved: Any = None  # what an op's result keeps for _backward
        self._seq = _next_sequence()
        self._spare: np.ndarray | None = None  # see zero_grad()

    # ---- properties -------------------------------------------------------------------------

    shape = property(lambda self: self.data.shape)
    ndim = property(lambda self: self.data.ndim)
    dtype = property(lambda self: self.data.dtype)
    size = property(lambda self: self.data.size)

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        flag = ", requires_grad=True" if self.requires_grad else ""
        return f"Tensor({np.array2string(self.data, prefix='Tensor(')}{flag})"

    def item(self) -> float:
        return self.data.item()

    def numpy(self) -> np.ndarray:
        return self.data

    def detach(self) -> Tensor:
        """The same data, cut off from the graph."""
        return _make(self.data, (), None)

    def zero_grad(self) -> None:
        grad, self.grad = self.grad, None
        # Keep a large array for the next gradient of the same shape if nothing else holds
        # it (two references: ``grad`` and getrefcount's argument): fresh large arrays cost
        # page faults on every step, reused ones do not. Small ones are not worth the check.
        if (grad is not None and grad.size >= _REUSE_MIN_SIZE and grad.base is None
                and sys.getrefcount(grad) == 2):
            self._spare = grad

    # ---- the backward pass -------------------------------------------------------------------

    def backward(self, grad: Any = None) -> None:
        """Accumulate d(self)/d(leaf) into ``leaf.grad`` for every leaf that requires grad."""
        if not self.requires_grad:
            raise RuntimeError("backward() on a tensor that does not require grad")
        if grad is None:
            if self.data.size != 1:
                raise RuntimeError(
                    f"backward() needs a grad argument for an output of shape {self.shape}"
                )
            grad = np.array(1, self.data.dtype)  # 0-d: reshaped below if self is not
            grad = grad.reshape(self.data.shape) if self.data.ndim else grad
        else:
            grad = np.asarray(grad.data if isinstance(grad, Tensor) else grad, self.data.dtype)
            if grad.shape != self.shape:
                raise ValueError(f"grad of shape {grad.shape} for a tensor of shape {self.shape}")

        # Visit nodes newest first: each node's gradient is complete when it is popped,
        # since everything computed from it is newer and was visited already. The queue
        # holds (negated sequence number, node); until its visit, a node's summed gradient
        # waits in its own .grad (an op's result has none otherwise; the visit clears it).
        # Leaves need no visit: their gradients are summed as they arrive, stored at the end.
        leaves: dict[Tensor, np.ndarray] = {}
        if self._backward is None:
            leaves[self] = grad
        else:
            pop, push = heapq.heappop, heapq.heappush
            self.grad, queue = grad, [(-self._seq, self)]
            try:
                while queue:
                    node = pop(queue)[1]
                    g, node.grad = node.grad, None
                    # Every op returns one gradient per parent, of exactly that parent's shape.
                    for parent, parent_grad in zip(node._parents, node._backward(node._saved, g)):
                        if parent._backward is not None:  # an op's result (so it requires grad)
                            held = parent.grad
                            if held is None:
                                parent.grad = parent_grad
                                push(queue, (-parent._seq, parent))
                            else:
                                parent.grad = held + parent_grad
                        elif parent.requires_grad:  # a leaf
                            held = leaves.get(parent)
                            leaves[parent] = parent_grad if held is None else held + parent_grad
            finally:  # the queue is empty unless an op raised: leave no gradient waiting
                for _, node in queue:
                    node.grad = None
        handed_out = {id(grad)}  # arrays a leaf may not take as its own .grad: copy those
        for leaf, g in leaves.items():
            if leaf.grad is not None:
                leaf.grad = leaf.grad + g
            elif g.base is None and (key := id(g)) not in handed_out and g.dtype == leaf.data.dtype:
                leaf.grad = g  # freshly computed by an op: no copy needed
                handed_out.add(key)
            else:
                leaf.grad = np.array(g, dtype=leaf.data.dtype)

    # ---- elementwise arithmetic (broadcasting) ------------------------------------------------

    def __add__(self, other: Any) -> Tensor:
        if isinstance(other, Tensor) and other.data.shape == self.data.shape:  # common, cheap
            return _make(self.data + other.data, (self, other), _add_backward)
        other = _lift(other)
        out = _broadcasting(np.add, self.data, other.data, "+")
        return _elementwise(out, (self, other), _add_backward)

    def __sub__(self, other: Any) -> Tensor:
        other = _lift(other)
        out = _broadcasting(np.subtract, self.data, other.data, "-")
        return _elementwise(out, (self, other), lambda _, g: (g, -g))

    def __mul__(self, other: Any) -> Tensor:
        other = _lift(other)
        a, b = self.data, other.data
        out = _broadcasting(np.multiply, a, b, "*")
        return _elementwise(out, (self, other), lambda _, g: (g * b, g * a))

    def __truediv__(self, other: Any) -> Tensor:
        other = _lift(other)
        a, b = self.data, other.data
        out = _broadcasting(np.divide, a, b, "/")
        return _elementwise(out, (self, other), lambda _, g: (g / b, -g * out / b))

    def __radd__(self, other: Any) -> Tensor:
        return self + other

    def __rsub__(self, other: Any) -> Tensor:
        return _lift(other) - self

    def __rmul__(self, other: Any) -> Tensor:
        return self * other

    def __rtruediv__(self, other: Any) -> Tensor:
        return _lift(other) / self

    def __neg__(self) -> Tensor:
        return _make(-self.data, (self,), lambda _, g: (-g,))

    def __pow__(self, exponent: float) -> Tensor:
        if isinstance(exponent, Tensor) or not np.isscalar(exponent):
            raise TypeError("Tensor ** supports a number exponent only")
        a = self.data
        out = a**exponent
        return _make(out, (self,), lambda _, g: (g * (exponent * a ** (exponent - 1)),))

    def exp(self) -> Tensor:
        out = np.exp(self.data)
        return _make(out, (self,), lambda _, g: (g * out,))

    def log(self) -> Tensor:
        a = self.data
        return _make(np.log(a), (self,), lambda _, g: (g / a,))

    def relu(self) -> Tensor:
        a = self.data
        return _make(np.maximum(a, 0.0), (self,), _relu_backward, a)

    # ---- matrix product ---------------------------------------------------------------------

    def __matmul__(self, other: Any) -> Tensor:
        other = _lift(other)
        a, b = self.data, other.data
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError("matmul needs tensors of at least one dimension, got a 0-d tensor")
        inner_a, inner_b = a.shape[-1], b.shape[0] if b.ndim == 1 else b.shape[-2]
        if inner_a != inner_b:
            raise ValueError(f"matmul shapes {a.shape} and {b.shape}: inner dimensions differ")
        out = _broadcasting(np.matmul, a, b, "@")

        def backward(_, g):
            if a.ndim == 1 and b.ndim == 1:  # a dot product: out is a scalar
                return g * b, g * a
            # Treat a 1-D operand as a matrix (row for a, column for b), as np.matmul does.
            a2 = a[None, :] if a.ndim == 1 else a
            b2 = b[:, None] if b.ndim == 1 else b
            g2 = g[..., None, :] if a.ndim == 1 else g
            g2 = g2[..., None] if b.ndim == 1 else g2
            grad_a = g2 @ np.swapaxes(b2, -1, -2)
            grad_b = np.swapaxes(a2, -1, -2) @ g2
            # Batch dimensions were broadcast: sum them away before dropping the 1-D padding.
            grad_a = _unbroadcast(grad_a, a2.shape).reshape(a.shape)
            grad_b = _unbroadcast(grad_b, b2.shape).reshape(b.shape)
            return grad_a, grad_b

        return _make(out, (self, other), backward)

    def __rmatmul__(self, other: Any) -> Tensor:
        return _lift(other) @ self

    # ---- reductions -------------------------------------------------------------------------

    def sum(self, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Tensor:
        shape = self.data.shape
        axes = _normalize_axes(axis, self.data.ndim)

        def backward(_, g):
            return (_spread(g, shape, axes),)

        return _make(self.data.sum(axis=axes, keepdims=keepdims), (self,), backward)

    def mean(self, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Tensor:
        shape = self.data.shape
        axes = _normalize_axes(axis, self.data.ndim)
        count = int(np.prod([shape[i] for i in axes]))

        def backward(_, g):
            return (_spread(g / count, shape, axes),)

        return _make(self.data.mean(axis=axes, keepdims=keepdims), (self,), backward)

    def max(self, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Tensor:
        """The largest entries along ``axis``; the gradient flows to the first arg-max only."""
        a = self.data
        axes = _normalize_axes(axis, a.ndim)
        kept = [i for i in range(a.ndim) if i not in axes]
        # Move the reduced axes last and flatten them, so one argmax finds each maximum.
        permutation = kept + list(axes)
        moved = a.transpose(permutation).reshape([a.shape[i] for i in kept] + [-1])
        arg = np.argmax(moved, axis=-1)[..., None]
        out = np.take_along_axis(moved, arg, axis=-1)[..., 0]
        keep_shape = tuple(1 if i in axes else n for i, n in enumerate(a.shape))
        out = out.reshape(keep_shape) if keepdims else out

        def backward(_, g):
            grad_moved = np.zeros_like(moved)
            np.put_along_axis(grad_moved, arg, g.reshape(arg.shape), axis=-1)
            moved_shape = [a.shape[i] for i in permutation]
            return (grad_moved.reshape(moved_shape).transpose(np.argsort(permutation)),)

        return _make(out, (self,), backward)

    # ---- shape ------------------------------------------------------------------------------

    def reshape(self, *shape: int | Sequence[int]) -> Tensor:
        if len(shape) == 1 and not isinstance(shape[0], int):
            shape = tuple(shape[0])
        original = self.data.shape
        return _make(self.data.reshape(shape), (self,), lambda _, g: (g.reshape(original),))

    def transpose(self, *axes: int | Sequence[int]) -> Tensor:
        """Permute the dimensions, as ``np.transpose`` does; no axes reverses them."""
        if len(axes) == 1 and not isinstance(axes[0], int):
            axes = tuple(axes[0])
        ndim = self.data.ndim
        axes = axes or tuple(range(ndim - 1, -1, -1))
        try:
            out = self.data.transpose(axes)
        except (ValueError, TypeError):
            raise ValueError(f"transpose axes {axes} do not permute {ndim} axes") from None
        inverse = _inverse_permutation(axes)
        return _make(out, (self,), lambda _, g: (g.transpose(inverse),))

    permute = transpose

    @property
    def T(self) -> Tensor:  # noqa: N802 (NumPy's and PyTorch's name)
        return self.transpose()

    # ---- indexing and masking ---------------------------------------------------------------

    def __getitem__(self, index: Any) -> Tensor:
        if isinstance(index, (int, slice)):  # the common cases first, checked cheaply
            basic = True
        elif isinstance(index, np.ndarray):
            basic = False
        else:
            index = _plain_index(index)
            basic = _is_basic_index(index)
        data = self.data
        try:
            out = data[index]
        except IndexError as error:
            message = f"index out of range for a tensor of shape {data.shape}: {error}"
            raise IndexError(message) from None

        return _make(out, (self,), _index_backward, (data, index, basic))

    def masked_fill(self, mask: Any, value: float) -> Tensor:
        """``value`` where ``mask`` is true, ``self`` elsewhere (the mask broadcasts)."""
        mask = np.asarray(mask.data if isinstance(mask, Tensor) else mask, dtype=bool)
        out = _broadcasting(np.where, mask, np.asarray(value, self.data.dtype), "masked_fill",
                            self.data)
        if out.shape != self.data.shape:
            raise ValueError(f"mask of shape {mask.shape} does not fit a tensor of {self.shape}")
        return _make(out, (self,), lambda _, g: (np.where(mask, 0, g),))


def where(condition: Any, a: Any, b: Any) -> Tensor:
    """Elementwise ``a`` where ``condition`` is true, else ``b``; all three broadcast."""
    condition = np.asarray(condition.data if isinstance(condition, Tensor) else condition, bool)
    a, b = _lift(a), _lift(b)
    out = _broadcasting(np.where, condition, a.data, "where", b.data)
    zero = np.zeros((), out.dtype)
    return _elementwise(
        out, (a, b), lambda _, g: (np.where(condition, g, zero), np.where(condition, zero, g))
    )


def _make(data: np.ndarray, parents: tuple, backward: Callable | None, saved: Any = None
          ) -> Tensor:
    """An op's result; it joins the graph only if grad is on and a parent requires grad.

    ``backward(saved, g)`` gives the gradients of ``parents`` from the gradient ``g`` of it.
    """
    out = _new_tensor(Tensor)
    out.data, out.grad, out._seq = data, None, _next_sequence()
    if _grad_enabled:
        for p in parents:
            if p.requires_grad:
                out.requires_grad, out._parents, out._backward = True, parents, backward
                out._saved = saved
                return out
    out.requires_grad, out._parents, out._backward, out._saved = False, (), None, None
    return out


# ---- backward functions of the ops on a GPT step's hot path: (saved, g) -> input gradients --


def _add_backward(_: None, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The gradient of a sum passes unchanged to both terms."""
    return g, g


def _relu_backward(a: np.ndarray, g: np.ndarray) -> tuple[np.ndarray]:
    """relu(a) has slope 1 where a > 0, else 0."""
    return (g * (a > 0),)


def _index_backward(saved: tuple, g: np.ndarray) -> tuple[np.ndarray]:
    """The picked entries get the gradient, all others 0."""
    data, index, basic = saved
    grad = np.zeros(data.shape, data.dtype)
    if basic:  # a view: every element is picked at most once
        grad[index] = g
    else:  # integer arrays may repeat an index: scatter-add
        np.add.at(grad, index, g)
    return (grad,)


# ---- helpers ----------------------------------------------------------------------------------


def _lift(x: Any) -> Tensor:
    """A number or array taking part in an op: a constant tensor that requires no grad."""
    if isinstance(x, Tensor):
        return x
    constant = Tensor.__new__(Tensor)
    # Numbers become Python numbers (NumPy scalars too, as in PyTorch), which do not
    # promote float32 data under NumPy's rules (NEP 50); a NumPy float64 scalar would.
    if isinstance(x, (float, np.floating)):
        constant.data = float(x)
    elif isinstance(x, (int, np.integer)):
        constant.data = int(x)
    else:
        constant.data = np.asarray(x)
    constant.grad, constant.requires_grad, constant._parents, constant._backward = (
        None, False, (), None)
    constant._saved = None
    constant._seq = -1  # never visited by backward(): it requires no grad
    return constant


def _broadcasting(op: Callable, a: np.ndarray, b: np.ndarray, name: str, *more) -> np.ndarray:
    """Run a NumPy op, turning its broadcasting error into one that names both shapes."""
    try:
        return op(a, b, *more)
    except ValueError:
        shapes = " and ".join(str(np.shape(x)) for x in (a, b, *more))
        raise ValueError(f"{name}: shapes {shapes} do not broadcast together") from None


def _elementwise(out: np.ndarray, parents: tuple, backward: Callable) -> Tensor:
    """The node of a broadcasting op, whose backward gives gradients of the output's shape.

    Where an input was broadcast, its gradient is summed back to the input's own shape.
    """
    shape = out.shape
    for p in parents:
        if getattr(p.data, "shape", ()) != shape:  # a number's shape is ()
            break
    else:  # nothing was broadcast
        return _make(out, parents, backward)
    shapes = [getattr(p.data, "shape", ()) for p in parents]

    def unbroadcasting_backward(_, g):
        return [_unbroadcast(grad, shape) for grad, shape in zip(backward(None, g), shapes)]

    return _make(out, parents, unbroadcasting_backward)


def _unbroadcast(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum a gradient over the dimensions that broadcasting added or stretched."""
    if grad.shape == shape:
        return grad
    if grad.size == math.prod(shape):  # only dimensions of size 1 were added or stretched
        return grad.reshape(shape)
    extra = grad.ndim - len(shape)
    stretched = (extra + i for i, n in enumerate(shape) if n == 1 and grad.shape[extra + i] != 1)
    axes = (*range(extra), *stretched)
    return grad.sum(axis=axes, keepdims=True).reshape(shape) if axes else grad.reshape(shape)


@functools.lru_cache(maxsize=256)
def _inverse_permutation(axes: tuple[int, ...]) -> tuple[int, ...]:
    """The axes that undo ``transpose(axes)``."""
    return tuple(sorted(range(len(axes)), key=lambda i: axes[i] % len(axes)))


def _spread(g: np.ndarray, shape: tuple, axes: tuple[int, ...]) -> np.ndarray:
    """The gradient of a reduction over ``axes``: ``g`` copied along them, back to ``shape``.

    A fresh array, not a broadcast view: the ops that take it next run faster on one.
    """
    grad = np.empty(shape, g.dtype)
    grad[...] = g.reshape([1 if i in axes else n for i, n in enumerate(shape)])
    return grad


def _normalize_axes(axis: int | Sequence[int] | None, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    for a in axes:
        if not -ndim <= a < max(ndim, 1):
            raise ValueError(f"axis {a} is out of range for a tensor of {ndim} dimensions")
    return tuple(sorted(int(a) % max(ndim, 1) for a in axes))


def _plain_index(index: Any) -> Any:
    """Tensors and lists inside an index become integer arrays, as NumPy expects."""
    if isinstance(index, (np.ndarray, slice, int)):
        return index
    if isinstance(index, tuple):
        return tuple(_plain_index(i) for i in index)
    if isinstance(index, Tensor):
        return index.data.astype(np.intp)
    if isinstance(index, list):
        return np.asarray(index)
    return index


def _is_basic_index(index: Any) -> bool:
    if isinstance(index, np.ndarray):
        return False
    parts = index if isinstance(index, tuple) else (index,)
    return all(p is None or p is Ellipsis or isinstance(p, (int, np.integer, slice)) for p in parts)


def _dot_into_spare(tensor: Tensor, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a.dot(b)``, a gradient for ``tensor``, written into the array its zero_grad() kept.

    Only if that array has the product's shape, is in C order and has the dtype of both
    operands (``np.dot`` writes into nothing else); otherwise into a new array.
    """
    spare = tensor._spare
    if (spare is None or spare.shape != (a.shape[0], b.shape[1]) or not spare.flags.c_contiguous
            or a.dtype != spare.dtype or b.dtype != spare.dtype):
        return a.dot(b)
    tensor._spare = None
    return np.dot(a, b, out=spare)
