"""The primitive ops, each a ``Function``: its forward, then right below it its backward.

Every backward returns gradients of exactly its inputs' shapes (``sum_to`` sums a
broadcast input's gradient back to its own shape) and never writes into the gradient
it is given. Dtypes follow PyTorch's promotion rules (``result_dtype``).
"""

from __future__ import annotations

import itertools
import math
import numbers
import operator
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from . import dtypes, special
from .grad_mode import get_ident, is_grad_enabled
from .higher_order import (
    Spread,
    constant,
    flat,
    linked,
    needs_grad,
    shape_of,
    summed_to,
    through,
    times_slope,
)
from .tensor import Function, Tensor, as_leaf, normalize_dim, note_in_place_write, quiet, tapes

# ---- dtypes: PyTorch's promotion ----------------------------------------------------------------
# Operands come in three tiers: tensors with dimensions, 0-d tensors, and numbers (Python's
# or NumPy's scalars). A lower tier decides the dtype only if it is of a higher category
# (bool < integer < floating) than every tier above it: float32 data times a float64 0-d
# tensor or a Python float stays float32, an integer tensor times 2.5 becomes floating.

DEFAULT_FLOAT = np.dtype(np.float64)  # what Python floats become (PyTorch's is float32)
_INT = np.dtype(np.int64)
_FLOAT64, _FLOAT32 = np.dtype(np.float64), np.dtype(np.float32)
_BOOL = np.dtype(np.bool_)


def _number_dtype(x: Any) -> np.dtype:
    if isinstance(x, (bool, np.bool_)):
        return _BOOL
    if isinstance(x, (int, np.integer)):
        return _INT
    if isinstance(x, (float, np.floating)):
        return DEFAULT_FLOAT
    raise TypeError(f"a tensor op takes tensors, arrays and numbers, not {type(x).__name__}")


_CATEGORY = dtypes.CATEGORY  # (a module global: promotion reads it on every op)


def promote_types(a: np.dtype, b: np.dtype) -> np.dtype:
    """PyTorch's promotion of two dtypes: the higher category wins as it is (an integer
    and float32 give float32, where NumPy gives float64); within one, NumPy's rule."""
    ca, cb = _CATEGORY[a.kind], _CATEGORY[b.kind]
    if ca != cb:
        return a if ca > cb else b
    return np.promote_types(a, b)


def _combine(higher: np.dtype | None, lower: np.dtype | None) -> np.dtype | None:
    """The dtype of a higher tier against a lower one: the lower decides only if it is of a
    higher category."""
    if higher is None or lower is None:
        return lower if higher is None else higher
    return higher if _CATEGORY[higher.kind] >= _CATEGORY[lower.kind] else lower


def result_dtype(*operands: Any) -> np.dtype:
    """The dtype PyTorch gives an op on these operands (arrays, tensors' data or numbers)."""
    tiers: list[np.dtype | None] = [None, None, None]  # with dimensions, 0-d, numbers
    for x in operands:
        if isinstance(x, np.ndarray):
            tier, dtype = (0 if x.ndim else 1), x.dtype
            if dtype.kind not in "biuf":
                raise TypeError(f"a tensor op takes tensors, arrays and numbers, not an array "
                                f"of {dtype} data")
        else:
            tier, dtype = 2, _number_dtype(x)
        held = tiers[tier]
        tiers[tier] = dtype if held is None else promote_types(held, dtype)
    combined = _combine(tiers[0], _combine(tiers[1], tiers[2]))
    if combined is None:
        raise TypeError("result_dtype of no operands")
    return combined


def _as(x: Any, dtype: np.dtype) -> np.ndarray:
    if isinstance(x, np.ndarray):
        return x if x.dtype == dtype else x.astype(dtype)
    try:
        return np.asarray(x, dtype)
    except OverflowError:  # an int outside the dtype's range (uint8 and -1): it wraps, as in
        return np.asarray(x, np.int64).astype(dtype)  # PyTorch (beyond int64, both raise)


def _operands(a: Any, b: Any) -> tuple[np.ndarray, np.ndarray]:
    """``a`` and ``b`` as arrays of the dtype PyTorch gives an op on them."""
    if type(a) is np.ndarray and type(b) is np.ndarray and a.dtype == b.dtype:
        return a, b  # the common case, before PyTorch's promotion rules
    same = _same_float(a, b)
    if same is not None:
        return same
    dtype = result_dtype(a, b)
    return _as(a, dtype), _as(b, dtype)


def _same_float(a: Any, b: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """``a`` and ``b`` as arrays of one floating (or complex) dtype when that takes no
    promotion: both arrays of it, or a floating array and a Python number (which takes the
    array's dtype, as in PyTorch); else None. Speed: the usual operands skip
    ``result_dtype`` (benchmarks/SPEED.md, "Round thirteen")."""
    if type(a) is np.ndarray:
        if type(b) is np.ndarray:
            if a.dtype == b.dtype and a.dtype.kind in "fc":
                return a, b
        elif (type(b) is float or type(b) is int) and a.dtype.kind == "f":
            return a, _as(b, a.dtype)
    elif type(b) is np.ndarray and (type(a) is float or type(a) is int) and b.dtype.kind == "f":
        return _as(a, b.dtype), b
    return None


def float_operands(a: Any, b: Any) -> tuple[np.ndarray, np.ndarray]:
    """``a`` and ``b`` as arrays of the dtype of an op that makes integers floating (``/``,
    ``atan2``, ``copysign``, ...): their common dtype if it is floating, else the default
    float, each integer converted from its own dtype, not through their common one (where
    uint8 and -1, or int8 and 2**40, would wrap), as PyTorch's."""
    same = _same_float(a, b)
    if same is not None:
        return same
    dtype = result_dtype(a, b)
    if dtype.kind not in "fc":
        dtype = DEFAULT_FLOAT
    return _as(a, dtype), _as(b, dtype)


def floating(a: np.ndarray) -> np.ndarray:
    """``a``, or ``a`` as the default float dtype if it holds integers or booleans."""
    return a if a.dtype.kind in "fc" else a.astype(DEFAULT_FLOAT)


def tensor_argument(x: Any, name: str, what: str) -> Any:
    """``x`` if it is a tensor (or an array), passed on as it is (a captured step replays a
    tensor); a number or a list is a TypeError, as in PyTorch."""
    if not isinstance(x, (Tensor, np.ndarray)):
        raise TypeError(f"{name}: {what} must be a tensor, not {type(x).__name__}")
    return x


def broadcast_error(*shapes: tuple[int, ...]) -> RuntimeError:
    """PyTorch's error for shapes that do not broadcast together: it names the last dimension
    where two of them differ and neither is 1."""
    ndim = max(len(shape) for shape in shapes)
    padded = [(1,) * (ndim - len(shape)) + tuple(shape) for shape in shapes]
    for dim in reversed(range(ndim)):
        sizes = [shape[dim] for shape in padded]
        for i, a in enumerate(sizes):
            for b in sizes[i + 1:]:
                if a != b and a != 1 and b != 1:
                    return RuntimeError(f"The size of tensor a ({a}) must match the size of "
                                        f"tensor b ({b}) at non-singleton dimension {dim}")
    return RuntimeError(f"shapes {', '.join(map(str, shapes))} do not broadcast together")


def _broadcasting(op: Callable, a: np.ndarray, b: np.ndarray, name: str) -> np.ndarray:
    """Run a NumPy op, turning its broadcasting error into PyTorch's."""
    try:
        return op(a, b)
    except ValueError:
        if not _broadcasts(np.shape(a), np.shape(b)):
            raise broadcast_error(np.shape(a), np.shape(b)) from None
        raise  # another error (integers to a negative power, ...): NumPy's message says it


def _broadcasts(*shapes: tuple[int, ...]) -> bool:
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        return False
    return True


def sum_to(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum a gradient over the dimensions that broadcasting added or stretched."""
    if grad.shape == shape:
        return grad
    if grad.size == math.prod(shape):  # only dimensions of size 1 were added or stretched
        return grad.reshape(shape)
    extra = grad.ndim - len(shape)
    stretched = (extra + i for i, n in enumerate(shape) if n == 1 and grad.shape[extra + i] != 1)
    return grad.sum(axis=(*range(extra), *stretched), keepdims=True).reshape(shape)


# ---- elementwise, two operands, broadcasting -----------------------------------------------


class Add(Function):
    @staticmethod
    @quiet
    def forward(ctx, a, b):
        # speed: same-dtype arrays skip _operands (benchmarks/SPEED.md, "The Add fast path")
        if type(a) is not np.ndarray or type(b) is not np.ndarray or a.dtype is not b.dtype:
            a, b = _operands(a, b)
        ctx.shapes = a.shape, b.shape
        return a + b if a.shape == b.shape else _broadcasting(np.add, a, b, "+")

    @staticmethod
    def backward(ctx, grad):
        a_shape, b_shape = ctx.shapes
        return sum_to(grad, a_shape), sum_to(grad, b_shape)

    @staticmethod
    def recorded_backward(ctx, grad):
        a, b = ctx.inputs
        return summed_to(grad, shape_of(a)), summed_to(grad, shape_of(b))


class Sub(Function):
    @staticmethod
    @quiet
    def forward(ctx, a, b):
        _check_subtrahends(a, b)
        a, b = _operands(a, b)
        ctx.shapes = a.shape, b.shape
        return _broadcasting(np.subtract, a, b, "-")

    @staticmethod
    def backward(ctx, grad):
        a_shape, b_shape = ctx.shapes
        return sum_to(grad, a_shape), sum_to(-grad, b_shape)

    @staticmethod
    def recorded_backward(ctx, grad):
        a, b = ctx.inputs
        return summed_to(grad, shape_of(a)), summed_to(-grad, shape_of(b))


class Mul(Function):
    @staticmethod
    @quiet
    def forward(ctx, a, b):
        a, b = _operands(a, b)
        ctx.save_for_backward(a, b)
        return _broadcasting(np.multiply, a, b, "*")

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        a_needs, b_needs = ctx.needs_input_grad
        return (sum_to(grad * b, a.shape) if a_needs else None,
                sum_to(grad * a, b.shape) if b_needs else None)

    @staticmethod
    def recorded_backward(ctx, grad):
        a, b = ctx.inputs
        return (summed_to(grad * b, shape_of(a)) if needs_grad(ctx, 0) else None,
                summed_to(grad * a, shape_of(b)) if needs_grad(ctx, 1) else None)


class Div(Function):
    @staticmethod
    @quiet
    def forward(ctx, a, b):
        a, b = float_operands(a, b)  # true division, as PyTorch's / is
        out = _broadcasting(np.divide, a, b, "/")
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b, out = ctx.saved_tensors
        a_needs, b_needs = ctx.needs_input_grad
        grad_b = None
        if b_needs:  # PyTorch's -grad * (out / b), not -(grad / b) * out: where b is denormal,
            # grad / b overflows and times out = 0 gives NaN; theirs gives 0. In place (and
            # into an array: a 0-d quotient would be a NumPy scalar) for speed
            grad_b = np.divide(out, b, out=np.empty_like(out))
            np.multiply(grad_b, grad, out=grad_b)
            grad_b = sum_to(np.negative(grad_b, out=grad_b), b.shape)
        return sum_to(grad / b, a.shape) if a_needs else None, grad_b

    @staticmethod
    def recorded_backward(ctx, grad):
        a, b = ctx.inputs
        return (summed_to(grad / b, shape_of(a)) if needs_grad(ctx, 0) else None,
                summed_to(-grad * (a / b) / b, shape_of(b)) if needs_grad(ctx, 1) else None)


def _power(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a ** b`` as PyTorch computes it: a number exponent of -0.5 as 1 / sqrt(a) (NaN at
    -inf, -inf at -0.0), as NumPy already does 0.5 as sqrt; integers to negative integer
    powers by integer rules (1 and -1 keep their size, the rest give 0)."""
    if b.ndim == 0 and a.dtype.kind == "f" and b == -0.5:
        with np.errstate(divide="ignore", invalid="ignore"):
            return 1 / np.sqrt(a)
    if a.dtype.kind in "iu" and b.dtype.kind in "iu" and (b < 0).any():
        positive = _broadcasting(np.power, a, np.maximum(b, 0), "**")
        odd = (b % 2).astype(bool)
        signed = np.where(a == -1, np.where(odd, a, 1), np.where(a == 1, 1, 0))
        return np.where(b < 0, signed, positive).astype(positive.dtype, copy=False)
    return _broadcasting(np.power, a, b, "**")


class Pow(Function):
    """``a ** b``; as PyTorch, d/da is 0 where b == 0 (x ** 0 is 1 everywhere, x = 0 too),
    and d/db is 0 where a == 0 and b >= 0."""

    @staticmethod
    @quiet
    def forward(ctx, a, b):
        if isinstance(b, (int, np.integer)) and not isinstance(b, (bool, np.bool_)) and b < 0 \
                and np.asarray(a).dtype.kind in "biu":
            raise RuntimeError("Integers to negative integer powers are not allowed.")
        b_in = b
        a, b = _operands(a, b)
        if a.dtype == _BOOL and b.dtype == _BOOL:  # NumPy's gives int8; PyTorch's
            # only takes a bool number: x ** True is x, x ** False all True
            if not isinstance(b_in, (bool, np.bool_)):
                raise NotImplementedError('"pow" not implemented for \'Bool\'')
            return a | ~b
        out = _power(a, b)
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b, out = ctx.saved_tensors
        a_needs, b_needs = ctx.needs_input_grad
        grad_a = grad_b = None
        # masked out below
        if a_needs:
            slope = np.where(b == 0, 0, b * _power(a, b - 1))
            grad_a = sum_to(grad * slope, a.shape)
        if b_needs:
            slope = np.where((a == 0) & (b >= 0), 0, out * np.log(a))
            grad_b = sum_to(grad * slope, b.shape)
        return grad_a, grad_b

    @staticmethod
    def recorded_backward(ctx, grad):
        a, b = ctx.inputs
        a_data, b_data = (np.asarray(getattr(x, "_data", x)) for x in (a, b))
        grad_a = grad_b = None
        if needs_grad(ctx, 0):  # 0 where b == 0, as backward's
            slope = where(constant(b_data == 0), 0.0, b * a ** (b - 1))
            grad_a = summed_to(grad * slope, shape_of(a))
        if needs_grad(ctx, 1):  # 0 where a == 0 and b >= 0
            zero = a_data == 0
            positive = where(constant(zero), 1.0, a) if isinstance(a, Tensor) else \
                constant(np.where(zero, 1.0, a_data))
            slope = where(constant(zero & (b_data >= 0)), 0.0, a ** b * positive.log())
            grad_b = summed_to(grad * slope, shape_of(b))
        return grad_a, grad_b


def _is_bool(x: Any) -> bool:
    """A boolean array or a Python (or NumPy) bool."""
    return x.dtype == _BOOL if isinstance(x, np.ndarray) else isinstance(x, (bool, np.bool_))


def _check_subtrahends(a: Any, b: Any) -> None:
    """PyTorch refuses a boolean on either side of a subtraction (a mask's misuse)."""
    if _is_bool(a) or _is_bool(b):
        if _is_bool(a) and _is_bool(b):
            raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not "
                               "supported. Use the `^` or `logical_xor()` operator instead.")
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. "
                           "If you are trying to invert a mask, use the `~` or `logical_not()` "
                           "operator instead.")


def _no_bools(a: np.ndarray, kernel: str) -> None:
    """PyTorch's error for an arithmetic op it has no boolean kernel for (``a``: the operands
    already promoted, so boolean only when both were)."""
    if a.dtype == _BOOL:
        raise NotImplementedError(f'"{kernel}" not implemented for \'Bool\'')


def _check_divisor(a: np.ndarray, b: np.ndarray) -> None:
    """As PyTorch: an integer ``//`` or ``%`` by zero raises (NumPy's gives 0, and a warning);
    with nothing to divide, nothing does."""
    if b.dtype.kind in "biu" and a.size and not b.all():
        raise RuntimeError("ZeroDivisionError: integer division or remainder by zero")


class Remainder(Function):
    """``a % b`` with the sign of ``b`` (Python's and PyTorch's ``remainder``): a - b *
    floor(a / b), so d/da is 1 and d/db is -floor(a / b)."""

    @staticmethod
    @quiet
    def forward(ctx, a, b):
        a, b = _operands(a, b)
        _no_bools(a, "remainder_cpu")
        _check_divisor(a, b)
        ctx.save_for_backward(a, b)
        return _broadcasting(np.remainder, a, b, "%")

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        quotient = np.floor_divide(a, b)
        return sum_to(grad, a.shape), sum_to(-grad * quotient, b.shape)


class Fmod(Function):
    """``a`` modulo ``b`` with the sign of ``a`` (C's ``fmod``, PyTorch's ``fmod``): a - b *
    trunc(a / b), so d/da is 1 and d/db is -trunc(a / b)."""

    @staticmethod
    @quiet
    def forward(ctx, a, b):
        a, b = _operands(a, b)
        _no_bools(a, "fmod_cpu")
        _check_divisor(a, b)
        ctx.save_for_backward(a, b)
        return _broadcasting(np.fmod, a, b, "fmod")

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        grad_b = None
        if ctx.needs_input_grad[1]:
            grad_b = sum_to(-grad * np.trunc(a / b), b.shape)
        return sum_to(grad, a.shape), grad_b


class FloorDivide(Function):
    """``a // b``: floor(a / b). Its derivative is 0 wherever it exists; PyTorch's backward
    raises instead, this one gives 0."""

    @staticmethod
    @quiet
    def forward(ctx, a, b):
        a, b = _operands(a, b)
        _no_bools(a, "div_floor_cpu")
        _check_divisor(a, b)
        ctx.shapes = a.shape, b.shape
        return _broadcasting(np.floor_divide, a, b, "//")

    @staticmethod
    def backward(ctx, grad):
        a_shape, b_shape = ctx.shapes
        return np.zeros(a_shape, grad.dtype), np.zeros(b_shape, grad.dtype)


class Maximum(Function):
    """The elementwise larger (``minimum``: smaller) of two; on ties each gets half. As
    PyTorch's, an operand gets no gradient only where it loses the comparison: where one is
    NaN, both get all of it."""

    @staticmethod
    def forward(ctx, a, b, pick):
        a, b = _operands(a, b)
        ctx.save_for_backward(a, b)
        ctx.loses = np.less if pick is np.maximum else np.greater
        return _broadcasting(pick, a, b, pick.__name__)

    @staticmethod
    def backward(ctx, grad):
        (a, b), (first, second) = ctx.saved_tensors, Maximum._shares(ctx)
        return (sum_to(np.where(first == 0, 0.0, grad * first), a.shape),
                sum_to(np.where(second == 0, 0.0, grad * second), b.shape), None)

    @staticmethod
    def recorded_backward(ctx, grad):
        (a, b), (first, second) = ctx.saved_tensors, Maximum._shares(ctx)
        return (summed_to(where(constant(first == 0), 0.0,
                                grad * constant(first.astype(grad.dtype))), a.shape),
                summed_to(where(constant(second == 0), 0.0,
                                grad * constant(second.astype(grad.dtype))), b.shape), None)

    @staticmethod
    def _shares(ctx):
        """Each operand's share of the gradient: 1 where it wins, 0 where it loses (even of a
        NaN or infinite gradient, as PyTorch's), half each on a tie."""
        a, b = ctx.saved_tensors
        tie = a == b
        return (np.where(tie, 0.5, np.where(ctx.loses(a, b), 0.0, 1.0)),
                np.where(tie, 0.5, np.where(ctx.loses(b, a), 0.0, 1.0)))


class Lerp(Function):
    """start + weight * (end - start), by PyTorch's formula: from the end, end - (end -
    start) * (1 - weight), where |weight| >= 0.5, so that weight 1 gives ``end`` exactly.
    The three broadcast; ``weight`` may be a number."""

    @staticmethod
    @quiet
    def forward(ctx, start, end, weight):
        if start.dtype.kind != "f":
            raise NotImplementedError(f"lerp of {start.dtype} data: it needs floating tensors")
        if end.dtype != start.dtype or (np.ndim(weight) and weight.dtype != start.dtype):
            raise RuntimeError(f"lerp: start is {start.dtype}, end {end.dtype} and weight "
                               f"{np.asarray(weight).dtype}: start, end and a weight with "
                               "dimensions need one dtype")
        weight = _as(weight, start.dtype)
        try:
            np.broadcast_shapes(start.shape, end.shape, weight.shape)
        except ValueError:
            raise broadcast_error(start.shape, end.shape, weight.shape) from None
        ctx.save_for_backward(start, end, weight)
        span = end - start
        # inf - inf: NaN, as in PyTorch
        return np.where(np.abs(weight) < 0.5, start + weight * span, end - span * (1 - weight))

    @staticmethod
    def backward(ctx, grad):
        start, end, weight = ctx.saved_tensors
        start_needs, end_needs, weight_needs = ctx.needs_input_grad
        return (sum_to(grad * (1 - weight), start.shape) if start_needs else None,
                sum_to(grad * weight, end.shape) if end_needs else None,
                sum_to(grad * (end - start), weight.shape) if weight_needs else None)

    @staticmethod
    def recorded_backward(ctx, grad):
        start, end, weight = ctx.inputs
        return (summed_to(grad * (1 - weight), shape_of(start)) if needs_grad(ctx, 0) else None,
                summed_to(grad * weight, shape_of(end)) if needs_grad(ctx, 1) else None,
                summed_to(grad * (end - start), shape_of(weight)) if needs_grad(ctx, 2) else None)


class Where(Function):
    @staticmethod
    def forward(ctx, condition, a, b):
        a, b = _operands(a, b)
        ctx.save_for_backward(condition)
        ctx.shapes = a.shape, b.shape
        try:
            return np.where(condition, a, b)
        except ValueError:
            raise broadcast_error(condition.shape, a.shape, b.shape) from None

    @staticmethod
    def backward(ctx, grad):
        (condition,) = ctx.saved_tensors
        zero = np.zeros((), grad.dtype)
        a_shape, b_shape = ctx.shapes
        return (None, sum_to(np.where(condition, grad, zero), a_shape),
                sum_to(np.where(condition, zero, grad), b_shape))

    @staticmethod
    def recorded_backward(ctx, grad):
        (condition,) = ctx.saved_tensors
        a_shape, b_shape = ctx.shapes
        kept = constant(condition)
        return (None, summed_to(where(kept, grad, 0.0), a_shape),
                summed_to(where(kept, 0.0, grad), b_shape))


def fill_value(value: Any) -> Any:
    """``masked_fill``'s value as PyTorch takes it: a number or a 0-d tensor (RuntimeError for
    a tensor of more dimensions); anything else (None, a string, a list) is a TypeError, where
    NumPy would make None a NaN."""
    if isinstance(value, (Tensor, np.ndarray)):
        if np.ndim(value):
            raise RuntimeError(f"masked_fill_ only supports a 0-dimensional value tensor, but "
                               f"got tensor with {np.ndim(value)} dimension(s).")
    elif not isinstance(value, (numbers.Number, np.generic)):
        raise TypeError(f"masked_fill takes a number or a 0-d tensor as its value, not "
                        f"{type(value).__name__}")
    return value


class MaskedFill(Function):
    """``value`` (a number or a 0-d tensor) where ``mask`` is True; keeps ``a``'s dtype."""

    @staticmethod
    def forward(ctx, a, mask, value):
        ctx.save_for_backward(mask)
        ctx.shape = a.shape
        return np.where(mask, np.asarray(value, a.dtype), a)  # a and mask broadcast

    @staticmethod
    def backward(ctx, grad):
        (mask,) = ctx.saved_tensors
        zero = np.zeros((), grad.dtype)
        return (sum_to(np.where(mask, zero, grad), ctx.shape), None,
                np.where(mask, grad, zero).sum())

    @staticmethod
    def recorded_backward(ctx, grad):
        (mask,) = ctx.saved_tensors
        filled = constant(mask)
        return (summed_to(where(filled, 0.0, grad), ctx.shape), None,
                where(filled, grad, 0.0).sum() if needs_grad(ctx, 2) else None)


_ABSENT: Any = object()


def where(condition: Any, input: Any = _ABSENT, other: Any = _ABSENT) -> Any:  # noqa: A002
    """``input`` where ``condition`` (boolean) is True, else ``other``; all three broadcast.
    With the condition alone: ``nonzero(condition, as_tuple=True)``, as PyTorch's."""
    a, b = input, other
    if a is _ABSENT and b is _ABSENT:
        from .torch_functions import nonzero

        return nonzero(condition, as_tuple=True)
    if a is _ABSENT or b is _ABSENT:
        raise TypeError("where() takes the condition alone, or the condition, input and other")
    condition = condition._data if isinstance(condition, Tensor) else np.asarray(condition)
    if condition.dtype != _BOOL:
        raise RuntimeError(f"where: the condition must be boolean, not {condition.dtype}")
    return Where.apply(condition, a, b)


def boolean_mask(mask: Any, shape: tuple[int, ...], in_place: bool = False) -> np.ndarray:
    """A boolean ``mask`` that broadcasts with ``shape`` (out of place, as PyTorch's
    ``masked_fill``: the result takes the broadcast shape) or to it (``in_place``)."""
    mask = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    if mask.dtype != _BOOL:
        raise RuntimeError(f"masked_fill: the mask must be boolean, not {mask.dtype}")
    try:
        if not in_place or np.broadcast_shapes(mask.shape, shape) == shape:
            np.broadcast_shapes(mask.shape, shape)
            # in place it indexes the tensor, where a mask of fewer dimensions would pick along
            # the leading ones: spread to the tensor's shape, it picks what broadcasting means
            return np.broadcast_to(mask, shape) if in_place else mask
    except ValueError:
        pass
    if not _broadcasts(mask.shape, shape):  # (PyTorch names the tensor first in place)
        raise broadcast_error(*((shape, mask.shape) if in_place else (mask.shape, shape)))
    raise RuntimeError(f"masked_fill_: a mask of shape {mask.shape} does not fit a tensor of "
                       f"shape {shape} (in place, the mask broadcasts to the tensor)")


def classify(test: np.ufunc, a: Tensor) -> Tensor:
    """``isnan``, ``isinf``, ``isfinite``: a boolean tensor, outside the graph."""
    return as_leaf(test(a._data))


def compare(op: np.ufunc, a: Tensor, b: Any) -> Tensor:
    """A boolean tensor, outside the graph: ``a == b``, ``a < b``, ... elementwise."""
    if b is None or isinstance(b, (str, bytes)):
        return NotImplemented
    x, y = _operands(a._data, b._data if isinstance(b, Tensor) else b)
    return as_leaf(_broadcasting(op, x, y, op.__name__))


def logical(op: np.ufunc, a: Tensor, b: Any = None) -> Tensor:
    """``&``, ``|``, ``^`` and ``~`` of boolean or integer tensors, outside the graph."""
    arrays = [a._data] if b is None else list(_operands(a._data, b._data if isinstance(b, Tensor)
                                                     else b))
    if any(x.dtype.kind not in "biu" for x in arrays):  # (PyTorch's types: ~ TypeError, the
        # others NotImplementedError)
        error = TypeError if b is None else NotImplementedError
        raise error(f"{op.__name__} takes boolean or integer tensors, not "
                    f"{', '.join(str(x.dtype) for x in arrays)}")
    if b is None:
        return as_leaf(op(arrays[0]))
    return as_leaf(_broadcasting(op, arrays[0], arrays[1], op.__name__))


def in_place(op: np.ufunc, a: Tensor, b: Any) -> Tensor:
    """``a op= b`` into ``a``'s own array, allowed where PyTorch allows it: on a tensor that
    requires no grad, or under ``no_grad()`` (as an optimizer's update is)."""
    check_in_place(a)
    b = b._data if isinstance(b, Tensor) else b
    if op is np.subtract:
        _check_subtrahends(a._data, b)
    dtype = result_dtype(a._data, b)
    if op is np.true_divide and dtype.kind in "biu":
        dtype = DEFAULT_FLOAT
    # PyTorch's rule: a result of a higher category (bool < integer < floating) cannot be
    # written into the tensor; within one it is cast (int64 into uint8 too, which NumPy's
    # "same_kind" refuses)
    if not dtypes.can_cast(dtype, a._data.dtype):
        raise TypeError(f"an in-place op would turn {a._data.dtype} data into {dtype}")
    try:
        with np.errstate(all="ignore"):  # as the op's out-of-place self (see tensor.quiet)
            op(a._data, _as(b, dtype), out=a._data, casting="unsafe")
        note_in_place_write(a._data)
    except ValueError:
        if not _broadcasts(a._data.shape, np.shape(b)):
            raise broadcast_error(a._data.shape, np.shape(b)) from None
        raise RuntimeError(f"output with shape {list(a._data.shape)} doesn't match the "
                           f"broadcast shape "
                           f"{list(np.broadcast_shapes(a._data.shape, np.shape(b)))}"
                           ) from None
    return a


def check_in_place(a: Tensor) -> None:
    """Refuse an in-place op on ``a`` where tensorgrad does not allow one: in a captured
    function, or on a tensor that requires grad outside ``no_grad()``."""
    if tapes and get_ident() in tapes:
        raise RuntimeError("an in-place op inside a captured function: it would not be "
                           "replayed; write x = x + y")
    if a.requires_grad and is_grad_enabled():
        if a.grad_fn is None:  # PyTorch's words first: code may match them
            raise RuntimeError("a leaf Variable that requires grad is being used in an "
                               "in-place operation. (write x = x + y, or update under "
                               "no_grad())")
        raise RuntimeError("an in-place op on a tensor that requires grad: write x = x + y "
                           "(a new node), or update under no_grad()")


def set_items(a: Tensor, index: Any, value: Any) -> Tensor:
    """``a[index] = value`` into ``a``'s own array (``value`` cast to its dtype, broadcast to
    the indexed shape), where ``in_place`` allows it."""
    check_in_place(a)
    value = value._data if isinstance(value, Tensor) else value
    shape = np.shape(value)
    if shape[:1] == (1,):  # as PyTorch, a value's leading dimensions of length 1 are dropped
        # first: x[0] = row[None] fits
        value = np.reshape(value, shape[next((i for i, n in enumerate(shape) if n != 1),
                                             len(shape)):])
    try:
        a._data[index] = value
        note_in_place_write(a._data)
    except ValueError as error:
        raise RuntimeError(f"cannot assign a value of shape {np.shape(value)} into a tensor of "
                           f"shape {a._data.shape} at {index!r}: {error}") from None
    return a


def zero_(a: Tensor) -> Tensor:
    """Zeros into ``a``'s own array (NaN and inf entries too: multiplying by 0 would keep them
    NaN), where ``in_place`` allows it."""
    check_in_place(a)
    a._data[...] = 0
    note_in_place_write(a._data)
    return a


# ---- elementwise, one operand ---------------------------------------------------------------


class Neg(Function):
    @staticmethod
    def forward(ctx, a):
        if a.dtype == _BOOL:
            raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. "
                               "If you are trying to invert a mask, use the `~` or "
                               "`logical_not()` operator instead.")
        return np.negative(a)

    @staticmethod
    def backward(ctx, grad):
        return -grad

    @staticmethod
    def recorded_backward(ctx, grad):
        return -grad


def sgn(a: np.ndarray) -> np.ndarray:
    """-1, 0 or 1 by the sign of each entry, and 0 at NaN: PyTorch's ``sgn``, the slope
    its ``abs`` and norms use."""
    signs = np.sign(a)
    return np.where(np.isnan(signs), 0, signs) if a.dtype.kind == "f" else signs


class Abs(Function):
    @staticmethod
    def forward(ctx, a):
        _no_bools(a, "abs_cpu")
        ctx.save_for_backward(a)
        return np.abs(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad * sgn(a)  # 0 at 0 and at NaN, as PyTorch

    @staticmethod
    @linked
    def recorded_backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return (grad * constant(sgn(a)),)


class Exp(Function):
    @staticmethod
    @quiet
    def forward(ctx, a):
        out = np.exp(floating(a))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * out

    recorded_backward = staticmethod(times_slope(lambda a: a.exp()))


class Log(Function):
    @staticmethod
    @quiet
    def forward(ctx, a):
        a = floating(a)
        ctx.save_for_backward(a)
        return np.log(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad / a

    recorded_backward = staticmethod(times_slope(lambda a: 1 / a))


class Sqrt(Function):
    @staticmethod
    @quiet
    def forward(ctx, a):
        out = np.sqrt(floating(a))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad / (2 * out)

    recorded_backward = staticmethod(times_slope(lambda a: 0.5 / a.sqrt()))


class Erf(Function):
    @staticmethod
    @quiet
    def forward(ctx, a):
        a = floating(a)
        ctx.save_for_backward(a)
        return special.erf(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad * ((2 / math.sqrt(math.pi)) * np.exp(-a * a))

    recorded_backward = staticmethod(times_slope(
        lambda a: (2 / math.sqrt(math.pi)) * (-a * a).exp()))


class Log1p(Function):
    """log(1 + a), accurate where a is tiny."""

    @staticmethod
    @quiet
    def forward(ctx, a):
        a = floating(a)
        ctx.save_for_backward(a)
        return np.log1p(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad / (a + 1)

    recorded_backward = staticmethod(times_slope(lambda a: 1 / (a + 1)))


class Expm1(Function):
    """exp(a) - 1, accurate where a is tiny."""

    @staticmethod
    @quiet
    def forward(ctx, a):
        out = np.expm1(floating(a))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * (out + 1)

    recorded_backward = staticmethod(times_slope(lambda a: a.exp()))


class Sign(Function):
    """-1, 0 or 1 by the sign of each entry, in its dtype (0 at NaN, booleans as they are,
    as PyTorch's); the gradient is 0 everywhere, as PyTorch's."""

    @staticmethod
    def forward(ctx, a):
        ctx.shape = a.shape
        return a.copy() if a.dtype.kind == "b" else sgn(a)

    @staticmethod
    def backward(ctx, grad):
        return np.zeros(ctx.shape, grad.dtype)

    recorded_backward = staticmethod(flat)


class Rounded(Function):
    """``rule`` (np.floor, np.ceil, np.trunc or np.rint, which rounds half to even as
    PyTorch's ``round``) of each entry, ``round`` to ``decimals`` places (None: not given);
    integers come out as they are. Steps are flat: the gradient is 0 everywhere, as PyTorch's."""

    @staticmethod
    @quiet
    def forward(ctx, a, rule, decimals):
        name = "round" if rule is np.rint else rule.__name__
        if a.dtype.kind == "b" or (a.dtype.kind in "iu" and decimals is not None):
            raise NotImplementedError(f'"{name}" not implemented for {a.dtype} data')
        ctx.shape = a.shape
        if a.dtype.kind in "iu":
            return a.copy()
        if not decimals:
            return rule(a)
        # PyTorch's: scaled by a power of ten in the tensor's dtype, rounded, scaled back
        scale = a.dtype.type(10.0 ** abs(decimals))
        return rule(a * scale) / scale if decimals > 0 else rule(a / scale) * scale

    @staticmethod
    def backward(ctx, grad):
        return np.zeros(ctx.shape, grad.dtype), None, None

    recorded_backward = staticmethod(flat)


class NanToNum(Function):
    """NaN, inf and -inf replaced by ``nan``, ``posinf`` and ``neginf`` (None: the dtype's
    largest and smallest finite numbers); the gradient passes where the entry was finite."""

    @staticmethod
    @quiet
    def forward(ctx, a, nan, posinf, neginf):
        if a.dtype.kind != "f":
            return a.copy()
        finite = np.isfinite(a)
        ctx.save_for_backward(finite)
        info = np.finfo(a.dtype)
        # a replacement beyond the dtype's range: inf
        values = [np.asarray(v, np.float64).astype(a.dtype)
                  for v in (nan, info.max if posinf is None else posinf,
                            info.min if neginf is None else neginf)]
        return np.where(finite, a, np.where(np.isnan(a), values[0],
                                            np.where(a > 0, values[1], values[2])))

    @staticmethod
    def backward(ctx, grad):
        (finite,) = ctx.saved_tensors
        return grad * finite, None, None, None

    @staticmethod
    def recorded_backward(ctx, grad):
        (finite,) = ctx.saved_tensors
        return grad * constant(finite), None, None, None


class StdFromVar(Function):
    """sqrt of a variance, whose gradient is 0 where the variance is 0 (PyTorch's ``std``:
    a constant input has slope 0, not 0 * inf)."""

    @staticmethod
    def forward(ctx, variance):
        out = np.sqrt(variance)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return np.where(out == 0, 0.0, grad / (2 * out))

    @staticmethod
    def recorded_backward(ctx, grad):
        (variance,) = ctx.inputs
        zero = constant(variance._data == 0)
        return (where(zero, 0.0, grad / (2 * where(zero, 1.0, variance).sqrt())),)


class Tanh(Function):
    @staticmethod
    def forward(ctx, a):
        out = np.tanh(floating(a))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * (1 - out * out)

    recorded_backward = staticmethod(times_slope(lambda a: 1 - a.tanh() ** 2))


def logistic(a: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-a)), by an exp of a negative number only, so that large |a| cannot
    overflow (``sigmoid``'s and ``silu``'s values)."""
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1 / (1 + e), e / (1 + e))


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, a):
        out = logistic(floating(a))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * (out * (1 - out))

    recorded_backward = staticmethod(times_slope(
        lambda a: a.sigmoid() * (1 - a.sigmoid())))


class Relu(Function):
    @staticmethod
    def forward(ctx, a):
        if a.dtype.kind == "b":
            raise RuntimeError("Boolean inputs not supported for relu")
        # speed: a float 0.0 for float data (benchmarks/SPEED.md, "Fifth round")
        out = np.maximum(a, 0.0 if a.dtype.kind == "f" else 0)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        # the gradient passes where the result is not 0: where a > 0, and at NaN (as PyTorch);
        # elsewhere 0, even for a NaN or infinite gradient (a where, not a product)
        (out,) = ctx.saved_tensors
        return np.where(out != 0, grad, 0.0)

    @staticmethod
    @linked
    def recorded_backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return (where(constant(out != 0), grad, 0.0),)


def _bound(x: Any, dtype: np.dtype) -> np.ndarray:
    """A clamp bound in ``dtype``. As PyTorch's, an int bound must fit an integer dtype, one
    of an unsigned dtype down to -max (it wraps: -1 is uint8's 255); a tensor's just wraps."""
    if dtype.kind in "iu" and isinstance(x, (int, np.integer)) and not isinstance(x, bool):
        info = np.iinfo(dtype)
        if not (-info.max if dtype.kind == "u" else info.min) <= x <= info.max:
            raise RuntimeError(f"clamp: the bound {x} cannot be converted to {dtype} without "
                               "overflow")
    return _as(x, dtype)


class Clamp(Function):
    """``a`` limited to [low, high] (either may be None, a number or a tensor that broadcasts
    with ``a``); the gradient passes where ``a`` is within them (ends included), as PyTorch's:
    not at NaN. A tensor bound gets it where ``a`` is beyond it, as in PyTorch; with both, low
    only where low < high, high also where high < low (equal bounds: neither)."""

    @staticmethod
    def forward(ctx, a, low, high):
        dtype = result_dtype(a, *(b for b in (low, high) if b is not None))
        a = _as(a, dtype)
        out, inside = a, np.ones(a.shape, bool)
        if low is not None:
            low = _bound(low, dtype)
            out, inside = np.maximum(out, low), inside & (a >= low)
        if high is not None:
            high = _bound(high, dtype)
            out, inside = np.minimum(out, high), inside & (a <= high)
        ctx.save_for_backward(inside, a, low, high)
        return out

    @staticmethod
    def backward(ctx, grad):
        inside, a, low, high = ctx.saved_tensors
        low_needs, high_needs = ctx.needs_input_grad[1:]
        grad_low = grad_high = None
        if low_needs:
            grad_low = sum_to(np.where(Clamp._below(ctx), grad, 0.0), low.shape)
        if high_needs:
            grad_high = sum_to(np.where(Clamp._above(ctx), grad, 0.0), high.shape)
        return sum_to(np.where(inside, grad, 0.0), a.shape), grad_low, grad_high

    @staticmethod
    def recorded_backward(ctx, grad):
        inside, a, low, high = ctx.saved_tensors
        grad_low = grad_high = None
        if needs_grad(ctx, 1):
            grad_low = summed_to(where(constant(Clamp._below(ctx)), grad, 0.0), low.shape)
        if needs_grad(ctx, 2):
            grad_high = summed_to(where(constant(Clamp._above(ctx)), grad, 0.0), high.shape)
        return summed_to(where(constant(inside), grad, 0.0), a.shape), grad_low, grad_high

    # where a tensor bound gets the gradient: PyTorch's rule, also for crossed or equal bounds

    @staticmethod
    def _below(ctx):
        _, a, low, high = ctx.saved_tensors
        return (a < low) if high is None else (a < low) & (low < high)

    @staticmethod
    def _above(ctx):
        _, a, low, high = ctx.saved_tensors
        return (a > high) if low is None else (a > high) | (high < low)


def clamp(x: Tensor, low: Any, high: Any) -> Tensor:
    """``x.clamp(min, max)``: numbers or tensors as bounds, at least one of them. As PyTorch,
    tensor bounds take part in the dtype as tensors (a 0-d float64 bound makes a 0-d float32
    ``x``'s result float64), numbers as numbers."""
    if low is None and high is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    return Clamp.apply(x, low, high)


class CumulativeSum(Function):
    """Running sums along ``dim``; integers and booleans sum as int64, as PyTorch's."""

    @staticmethod
    @quiet
    def forward(ctx, a, dim):
        ctx.dim = dim
        return np.cumsum(a, axis=dim, dtype=np.int64 if a.dtype.kind in "biu" else None)

    @staticmethod
    def backward(ctx, grad):
        # each entry feeds every later running sum: the sums of the gradient from the end
        reversed_grad = np.flip(grad, ctx.dim)
        return np.flip(np.cumsum(reversed_grad, axis=ctx.dim), ctx.dim), None

    @staticmethod
    def recorded_backward(ctx, grad):
        return grad.flip(ctx.dim).cumsum(ctx.dim).flip(ctx.dim), None


def _no_zeros(a: np.ndarray, name: str) -> None:
    """Refuse a recorded backward of a product over zeros: its gradient there is another
    formula (``_products_of_the_others``), which has no recorded form."""
    if (a == 0).any():
        raise NotImplementedError(f"{name} over zeros: tensorgrad has no gradient of its "
                                  "gradient there")


class CumulativeProduct(Function):
    """Running products along ``dim``; integers and booleans multiply as int64, as PyTorch's.

    The gradient is PyTorch's, exact where entries are 0: an entry ahead of the first zero
    of its line gets sum over j >= k of grad_j * out_j / a_k (only the j ahead of that zero:
    past it out_j is 0); the first zero gets the products that skip it, up to the second
    zero; the entries after it get 0."""

    @staticmethod
    @quiet
    def forward(ctx, a, dim):
        out = np.cumprod(a, axis=dim, dtype=np.int64 if a.dtype.kind in "biu" else None)
        ctx.save_for_backward(a, out)
        ctx.dim = dim
        return out

    @staticmethod
    def backward(ctx, grad):
        a, out = ctx.saved_tensors
        d = ctx.dim
        if a.size == 0 or a.shape[d] == 1:  # PyTorch's rule, for an inf or NaN alone too
            return grad, None
        zeros_so_far = np.cumsum(a == 0, axis=d)
        ahead = zeros_so_far == 0
        later = np.flip(np.cumsum(np.flip(np.where(ahead, out * grad, 0), d), axis=d), d)
        result = np.where(ahead, later / a, 0)
        between = zeros_so_far == 1  # from the first zero up to the second
        first = np.argmax(between, axis=d, keepdims=True)
        at_first = between & (np.arange(a.shape[d]).reshape(
            (-1,) + (1,) * (a.ndim - d - 1)) == first)
        skipping = np.cumprod(np.where(between & ~at_first, a, 1), axis=d)
        total = (skipping * np.where(between, grad, 0)).sum(axis=d, keepdims=True)
        before = np.where(first == 0, 1, np.take_along_axis(out, np.maximum(first - 1, 0),
                                                            axis=d))
        return np.where(at_first, total * before, result), None

    @staticmethod
    def recorded_backward(ctx, grad):
        _no_zeros(ctx.saved_tensors[0], "cumprod")
        x, result = ctx.inputs[0], ctx.inputs[0].cumprod(ctx.dim)
        return (result * grad).flip(ctx.dim).cumsum(ctx.dim).flip(ctx.dim) / x, None


class Cast(Function):
    """A copy of ``a`` in ``dtype`` (None: its own), in NumPy's memory ``order`` ("K": as
    ``a``'s; "C": contiguous); the gradient flows back between floats."""

    @staticmethod
    @quiet
    def forward(ctx, a, dtype, order="K"):
        ctx.dtype = a.dtype
        return a.astype(a.dtype if dtype is None else dtype, order=order)

    @staticmethod
    def backward(ctx, grad):
        return grad.astype(ctx.dtype, copy=False), None, None

    @staticmethod
    def recorded_backward(ctx, grad):
        return grad.to(ctx.dtype), None, None


# ---- more elementwise math: trigonometric, hyperbolic, logarithms and powers of 2 and 10 ---------
# Integers and booleans become the default float dtype first (``floating``), as in PyTorch.
# Each backward is PyTorch's formula, so that the edges of a domain (asin at +-1, acosh at 1,
# atanh at +-1) give the same infinities and NaNs; as PyTorch's, without NumPy's warnings.


class Sin(Function):
    @staticmethod
    @quiet
    def forward(ctx, a):
        a = floating(a)
        ctx.save_for_backward(a)
        return np.sin(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad * np.cos(a)

    recorded_backward = staticmethod(times_slope(lambda a: a.cos()))


class Cos(Function):
    @staticmethod
    @quiet
    def forward(ctx, a):
        a = floating(a)
        ctx.save_for_backward(a)
        return np.cos(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad * -np.sin(a)

    recorded_backward = staticmethod(times_slope(lambda a: -a.sin()))


class Tan(Function):
    @staticmethod
    @quiet
    def forward(ctx, a):
        out = np.tan(floating(a))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * (1 + out * out)

    recorded_backward = staticmethod(times_slope(lambda a: 1 + a.tan() ** 2))


def _rsqrt(x: np.ndarray) -> np.ndarray:
    """1 / sqrt(x): inf at 0, NaN below (warnings silenced by the caller)."""
    return 1 / np.sqrt(x)


class Asin(Function):
    @staticmethod
    @quiet
    def forward(ctx, a):
        a = floating(a)
        ctx.save_for_backward(a)
        return np.arcsin(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad * _rsqrt(1 - a * a)

    recorded_backward = staticmethod(times_slope(lambda a: (1 - a * a).rsqrt()))


class Acos(Function):
    @staticmethod
    @quiet
    def forward(ctx, a):
        a = floating(a)
        ctx.save_for_backward(a)
        return np.arccos(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad * -_rsqrt(1 - a * a)

    recorded_backward = staticmethod(times_slope(lambda a: -(1 - a * a).rsqrt()))


class Atan(Function):
    @staticmethod
    @quiet
    def forward(ctx, a):
        a = floating(a)
        ctx.save_for_backward(a)
        return np.arctan(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad / (a * a + 1)

    recorded_backward = staticmethod(times_slope(lambda a: 1 / (a * a + 1)))


class Atan2(Function):
    """The angle of the point (b, a) (``atan2(input=a, other=b)``), in (-pi, pi]; the
    operands broadcast. At the origin both gradients are 0, as PyTorch's."""

    @staticmethod
    @quiet
    def forward(ctx, a, b):
        a, b = float_operands(a, b)
        ctx.save_for_backward(a, b)
        return _broadcasting(np.arctan2, a, b, "atan2")

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        squared = a * a + b * b
        scale = np.where(squared == 0, 0, grad / squared)
        return sum_to(scale * b, a.shape), sum_to(scale * -a, b.shape)

    @staticmethod
    def recorded_backward(ctx, grad):
        a, b = ctx.inputs
        squared = a * a + b * b
        zero = constant(squared._data == 0)
        scale = where(zero, 0.0, grad / where(zero, 1.0, squared))
        return (summed_to(scale * b, shape_of(a)) if needs_grad(ctx, 0) else None,
                summed_to(-scale * a, shape_of(b)) if needs_grad(ctx, 1) else None)


class Sinh(Function):
    @staticmethod
    @quiet
    def forward(ctx, a):
        a = floating(a)
        ctx.save_for_backward(a)
        return np.sinh(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad * np.cosh(a)

    recorded_backward = staticmethod(times_slope(lambda a: a.cosh()))


class Cosh(Function):
    @staticmethod
    @quiet
    def forward(ctx, a):
        a = floating(a)
        ctx.save_for_backward(a)
        return np.cosh(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad * np.sinh(a)

    recorded_backward = staticmethod(times_slope(lambda a: a.sinh()))


class Asinh(Function):
    @staticmethod
    @quiet
    def forward(ctx, a):
        a = floating(a)
        ctx.save_for_backward(a)
        return np.arcsinh(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad * _rsqrt(a * a + 1)

    recorded_backward = staticmethod(times_slope(lambda a: (a * a + 1).rsqrt()))


class Acosh(Function):
    @staticmethod
    @quiet
    def forward(ctx, a):
        a = floating(a)
        ctx.save_for_backward(a)
        return np.arccosh(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad * _rsqrt(a * a - 1)

    recorded_backward = staticmethod(times_slope(lambda a: (a * a - 1).rsqrt()))


class Atanh(Function):
    @staticmethod
    @quiet
    def forward(ctx, a):
        a = floating(a)
        ctx.save_for_backward(a)
        return np.arctanh(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad / (1 - a * a)

    recorded_backward = staticmethod(times_slope(lambda a: 1 / (1 - a * a)))


class LogBase(Function):
    """The logarithm to ``base`` (2 or 10): log(a) / log(base)."""

    @staticmethod
    @quiet
    def forward(ctx, a, base):
        a = floating(a)
        ctx.save_for_backward(a)
        ctx.log_base = math.log(base)
        return np.log2(a) if base == 2 else np.log10(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad / (a * ctx.log_base), None

    @staticmethod
    def recorded_backward(ctx, grad):
        return grad / (ctx.inputs[0] * ctx.log_base), None


class Exp2(Function):
    @staticmethod
    @quiet
    def forward(ctx, a):
        out = np.exp2(floating(a))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * out * math.log(2)

    recorded_backward = staticmethod(times_slope(lambda a: a.exp2() * math.log(2)))


class NanIgnoringMaximum(Function):
    """``fmax`` (``pick`` np.fmax) or ``fmin`` (np.fmin): the larger (smaller) of two, the
    other where one is NaN. As PyTorch's, ``a`` gets the whole gradient where it is picked
    (ties too) or ``b`` is NaN, ``b`` where ``a`` is not picked."""

    @staticmethod
    def forward(ctx, a, b, pick):
        a, b = _operands(a, b)
        ctx.save_for_backward(a, b)
        ctx.wins = np.greater_equal if pick is np.fmax else np.less_equal
        return _broadcasting(pick, a, b, pick.__name__)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        to_a = ctx.wins(a, b) | np.isnan(b)
        zero = np.zeros((), grad.dtype)
        return (sum_to(np.where(to_a, grad, zero), a.shape),
                sum_to(np.where(to_a, zero, grad), b.shape), None)

    @staticmethod
    def recorded_backward(ctx, grad):
        a, b = ctx.saved_tensors
        to_a = constant(ctx.wins(a, b) | np.isnan(b))
        return (summed_to(where(to_a, grad, 0.0), a.shape),
                summed_to(where(to_a, 0.0, grad), b.shape), None)


# ---- selection and counting ---------------------------------------------------------------------


class NoDerivative(Function):
    """``compute(*args)``, for an op PyTorch defines no derivative of (``unique``'s values,
    ``bincount``'s weights): as PyTorch's, the result joins the graph and ``backward()``
    through it raises ``error`` (PyTorch's type for that op), rather than giving 0."""

    @staticmethod
    def forward(ctx, compute, name, error, *args):
        ctx.name, ctx.error = name, error
        return compute(*args)

    @staticmethod
    def backward(ctx, grad):
        raise ctx.error(f"the derivative of {ctx.name} is not implemented, as in PyTorch")


class Diagonal(Function):
    """The ``offset``-th diagonal of the matrices in dimensions ``dim1`` and ``dim2`` (both
    non-negative, different), as a new last dimension."""

    views = True  # (its result may share its input's memory: see tensor._as_it_was)

    @staticmethod
    def forward(ctx, a, offset, dim1, dim2):
        ctx.shape, ctx.dims, ctx.offset = a.shape, (dim1, dim2), offset
        view = np.diagonal(a, offset, dim1, dim2)  # (NumPy's view is read-only: a view of a
        if not a.flags.writeable:  # writable array is made writable, as PyTorch's diagonal
            return view.copy()  # is a view that in-place ops write through)
        view.flags.writeable = True
        return view

    @staticmethod
    def backward(ctx, grad):
        out = np.zeros(ctx.shape, grad.dtype)
        steps = np.arange(grad.shape[-1])
        k = ctx.offset
        np.moveaxis(out, ctx.dims, (-2, -1))[..., steps + max(-k, 0), steps + max(k, 0)] = grad
        return out, None, None, None

    @staticmethod
    def recorded_backward(ctx, grad):
        d1, d2 = ctx.dims
        k, rest = ctx.offset, [d for d in range(len(ctx.shape)) if d not in ctx.dims]
        width = len(rest) + 1  # the diagonal's entries, each at its place in the others
        index = [None] * len(ctx.shape)
        for i, d in enumerate(rest):
            index[d] = np.arange(ctx.shape[d]).reshape((-1,) + (1,) * (width - i - 1))
        steps = np.arange(grad.shape[-1])
        index[d1], index[d2] = steps + max(-k, 0), steps + max(k, 0)
        return Spread.apply(grad, tuple(index), ctx.shape), None, None, None


class MaskedSelect(Function):
    """The entries of ``a`` where ``mask`` is True (the two broadcast), as a vector."""

    @staticmethod
    def forward(ctx, a, mask):
        try:
            shape = np.broadcast_shapes(a.shape, mask.shape)
        except ValueError:
            raise broadcast_error(a.shape, mask.shape) from None
        mask = np.broadcast_to(mask, shape)
        ctx.save_for_backward(mask)
        ctx.shape = a.shape
        return np.broadcast_to(a, shape)[mask]

    @staticmethod
    def backward(ctx, grad):
        (mask,) = ctx.saved_tensors
        spread = np.zeros(mask.shape, grad.dtype)
        spread[mask] = grad
        return sum_to(spread, ctx.shape), None

    @staticmethod
    def recorded_backward(ctx, grad):
        (mask,) = ctx.saved_tensors
        return summed_to(Spread.apply(grad, mask, mask.shape), ctx.shape), None


class Trace(Function):
    """The sum of a matrix's main diagonal (integers as int64, as PyTorch's)."""

    @staticmethod
    @quiet
    def forward(ctx, a):
        if a.ndim != 2:
            raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {a.ndim}")
        if a.dtype.kind == "b":
            raise NotImplementedError("trace of booleans: PyTorch has none")
        ctx.shape = a.shape
        diagonal = np.diagonal(a)
        return diagonal.sum(dtype=np.int64 if a.dtype.kind in "biu" else a.dtype)

    @staticmethod
    def backward(ctx, grad):
        out = np.zeros(ctx.shape, grad.dtype)
        np.fill_diagonal(out, grad)
        return out

    @staticmethod
    def recorded_backward(ctx, grad):
        steps = np.arange(min(ctx.shape))
        return (Spread.apply(grad.expand(len(steps)), (steps, steps), ctx.shape),)


# ---- matrix product -----------------------------------------------------------------------------


def _inner_mismatch(a: tuple[int, ...], b: tuple[int, ...]) -> RuntimeError:
    """PyTorch's error for a product whose inner dimensions differ (its words for two
    matrices and two vectors)."""
    if len(a) == len(b) == 2:
        return RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({a[0]}x{a[1]} and "
                            f"{b[0]}x{b[1]})")
    if len(a) == len(b) == 1:
        return RuntimeError(f"inconsistent tensor size, expected tensor [{a[0]}] and src "
                            f"[{b[0]}] to have the same number of elements, but got {a[0]} and "
                            f"{b[0]} elements respectively")
    return RuntimeError(f"matmul: shapes {a} and {b} cannot be multiplied (inner dimensions "
                        f"{a[-1]} and {b[0] if len(b) == 1 else b[-2]})")


class MatMul(Function):
    """``np.matmul``'s (and ``torch.matmul``'s) product: batched, 1-D operands as a row
    (on the left) or a column (on the right)."""

    @staticmethod
    @quiet
    def forward(ctx, a, b):
        if type(a) is not np.ndarray or type(b) is not np.ndarray:
            a, b = _operands(a, b)  # (a number is 0-d: refused below)
        if a.ndim == 0 or b.ndim == 0:
            raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are "
                               f"{a.ndim}D and {b.ndim}D")
        if a.dtype != b.dtype:  # PyTorch's rule: no promotion in a product of matrices
            raise RuntimeError(f"matmul of {a.dtype} and {b.dtype} data: both operands need "
                               "the same dtype (convert one with .to())")
        if a.shape[-1] != (b.shape[0] if b.ndim == 1 else b.shape[-2]):
            raise _inner_mismatch(a.shape, b.shape)
        ctx.save_for_backward(a, b)
        return _broadcasting(np.matmul, a, b, "@")

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        if a.ndim == 1 and b.ndim == 1:  # a dot product: the result is a number
            return grad * b, grad * a
        a2 = a[None, :] if a.ndim == 1 else a  # as np.matmul: a row on the left,
        b2 = b[:, None] if b.ndim == 1 else b  # a column on the right
        g = grad[..., None, :] if a.ndim == 1 else grad
        g = g[..., None] if b.ndim == 1 else g
        a_needs, b_needs = ctx.needs_input_grad
        grad_a = sum_to(g @ b2.swapaxes(-1, -2), a2.shape).reshape(a.shape) if a_needs else None
        grad_b = sum_to(a2.swapaxes(-1, -2) @ g, b2.shape).reshape(b.shape) if b_needs else None
        return grad_a, grad_b

    @staticmethod
    def recorded_backward(ctx, grad):
        a, b = ctx.inputs
        if a.ndim == 1 and b.ndim == 1:  # a dot product
            return (grad * b if needs_grad(ctx, 0) else None,
                    grad * a if needs_grad(ctx, 1) else None)
        a2 = a.unsqueeze(0) if a.ndim == 1 else a  # as matmul: a row on the left,
        b2 = b.unsqueeze(-1) if b.ndim == 1 else b  # a column on the right
        g = grad.unsqueeze(-2) if a.ndim == 1 else grad
        g = g.unsqueeze(-1) if b.ndim == 1 else g
        grad_a = grad_b = None
        if needs_grad(ctx, 0):
            grad_a = summed_to(g @ b2.transpose(-1, -2), shape_of(a2)).reshape(shape_of(a))
        if needs_grad(ctx, 1):
            grad_b = summed_to(a2.transpose(-1, -2) @ g, shape_of(b2)).reshape(shape_of(b))
        return grad_a, grad_b


def matrix_product(a: Tensor, b: Any, ndim: int, name: str) -> Tensor:
    """``mm`` (``ndim`` 2) or ``bmm`` (3): ``a @ b`` of exactly two matrices, or of two
    batches of as many matrices, as PyTorch's (no broadcasting)."""
    b = tensor_argument(b, name, "the second operand")
    shapes = a._data.shape, (b._data if isinstance(b, Tensor) else b).shape
    if any(len(shape) != ndim for shape in shapes):
        raise RuntimeError(f"{name} takes two tensors of {ndim} dimensions, not shapes "
                           f"{shapes[0]} and {shapes[1]}")
    if shapes[0][:-2] != shapes[1][:-2] or shapes[0][-1] != shapes[1][-2]:
        raise RuntimeError(f"{name}: shapes {shapes[0]} and {shapes[1]} cannot be multiplied")
    return MatMul.apply(a, b)


# (spelled out: the string module's import costs half a millisecond of start-up)
_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
_SUBSCRIPTS = frozenset(_LETTERS)


class EinsumPlan(NamedTuple):
    """An einsum equation worked out for operands of given shapes: each operand's labels
    (letters; its "..." dims spelled out with letters the equation leaves free), the
    output's, and every label's length (dims of length 1 broadcast, as in PyTorch)."""

    inputs: tuple[str, ...]
    output: str
    sizes: dict[str, int]

    def broadcast(self, arrays: Sequence[np.ndarray]) -> list[np.ndarray]:
        """The operands stretched along their length-1 dims to the labels' lengths (views)."""
        return [a if a.shape == shape else np.broadcast_to(a, shape)
                for a, shape in ((a, tuple(self.sizes[c] for c in labels))
                                 for a, labels in zip(arrays, self.inputs))]


def _terms(term: str, where: str) -> tuple[str, bool, str]:
    """A term's letters before and after its "..." (if any)."""
    head, dots, tail = term.partition("...")
    if "." in head + tail:
        raise RuntimeError(f"einsum: {where} has a '.' outside one '...'")
    for c in head + tail:
        if c not in _SUBSCRIPTS:
            raise RuntimeError(f"einsum: {where} has the subscript {c!r}; subscripts are "
                               "letters a-z and A-Z")
    return head, bool(dots), tail


def einsum_plan(equation: str, shapes: Sequence[tuple[int, ...]]) -> EinsumPlan:
    """Parse ``equation`` as PyTorch's ``einsum`` reads it, for operands of ``shapes``."""
    left, arrow, right = equation.replace(" ", "").partition("->")
    terms = left.split(",")
    if len(terms) != len(shapes):
        raise RuntimeError(f"einsum: the equation has {len(terms)} operands, {len(shapes)} "
                           "were given")
    parsed = [_terms(term, f"operand {i}") for i, term in enumerate(terms)]
    widths = []  # each operand's count of "..." dims
    for i, ((head, dots, tail), shape) in enumerate(zip(parsed, shapes)):
        width = len(shape) - len(head) - len(tail)
        if width < 0 or (width and not dots):
            raise RuntimeError(f"einsum: operand {i} has {len(shape)} dims for the "
                               f"subscripts {terms[i]!r}")
        widths.append(width)
    used = set(left + right)
    spare = [c for c in _LETTERS if c not in used]
    if max(widths, default=0) > len(spare):
        raise RuntimeError("einsum: more dims than letters to name them")
    ellipsis = "".join(spare[:max(widths, default=0)])
    inputs = tuple(head + (ellipsis[len(ellipsis) - w:] if w else "") + tail
                   for (head, _, tail), w in zip(parsed, widths))
    if arrow:
        head, dots, tail = _terms(right, "the output")
        output = head + (ellipsis if dots else "") + tail
        for c in head + tail:
            if (head + tail).count(c) > 1:
                raise RuntimeError(f"einsum: the output subscript {c!r} appears twice")
            if c not in left:
                raise RuntimeError(f"einsum: the output subscript {c!r} is in no operand")
    else:  # PyTorch's implicit output: the "..." dims, then the letters seen once, sorted
        letters = "".join(h + t for h, _, t in parsed)
        output = ellipsis + "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    sizes: dict[str, int] = {}
    for i, (labels, shape) in enumerate(zip(inputs, shapes)):
        own: dict[str, int] = {}
        for c, n in zip(labels, shape):
            if own.setdefault(c, n) != n:
                raise RuntimeError(f"einsum: subscript {c!r} of operand {i} has lengths "
                                   f"{own[c]} and {n}")
            held = sizes.get(c, 1)
            if held == 1:
                sizes[c] = n
            elif n not in (1, held):
                raise RuntimeError(f"einsum: subscript {c!r} has length {n} in operand {i}, "
                                   f"which does not broadcast with {held}")
    return EinsumPlan(inputs, output, sizes)


def einsum_as_products(ctx: Any, equation: str, *operands: Tensor) -> Tensor:
    """``einsum`` composed of primitives, for its gradient of a gradient: the operands, each
    laid along one order of all the letters, multiplied (broadcasting lines them up) and
    summed over the letters the output drops."""
    plan = ctx.plan
    letters = "".join(dict.fromkeys("".join(plan.inputs)))
    product: Any = None
    for labels, x in zip(plan.inputs, operands):
        if len(set(labels)) != len(labels):
            raise NotImplementedError(f"einsum {equation!r}: a letter repeated in an operand "
                                      "(a diagonal) has no gradient of its gradient here")
        order = sorted(range(len(labels)), key=lambda i: letters.index(labels[i]))
        laid = (x.permute(*order) if x.ndim else x).reshape(
            [x.shape[labels.index(c)] if c in labels else 1 for c in letters])
        product = laid if product is None else product * laid
    summed = tuple(i for i, c in enumerate(letters) if c not in plan.output)
    kept = [c for c in letters if c in plan.output]
    out = product.sum(dim=summed) if summed else product
    return out.permute(*[kept.index(c) for c in plan.output]) if len(kept) > 1 else out


class Einsum(Function):
    """``einsum(equation, *operands)``, as ``Einsum.apply(equation, *operands)``: NumPy's
    einsum with PyTorch's reading of the equation (see ``einsum_plan``). The gradient of an
    operand is the einsum of the output's gradient with the other operands, onto that
    operand's labels; a label only that operand has is summed in the forward, so its
    gradient is spread along it; a repeated label (a diagonal) gets it on the diagonal."""

    @staticmethod
    @quiet
    def forward(ctx, equation, *arrays):
        dtypes = {a.dtype for a in arrays}
        if len(dtypes) > 1:
            raise RuntimeError(f"einsum of {', '.join(str(a.dtype) for a in arrays)} operands: "
                               "all need one dtype")
        plan = einsum_plan(equation, [a.shape for a in arrays])
        ctx.save_for_backward(*arrays)
        ctx.plan = plan
        spelled = ",".join(plan.inputs) + "->" + plan.output
        return np.asarray(np.einsum(spelled, *plan.broadcast(arrays), optimize=len(arrays) > 1))

    @staticmethod
    def backward(ctx, grad):
        plan = ctx.plan
        arrays = ctx.saved_tensors
        stretched = plan.broadcast(arrays)
        grads = []
        for i, (a, labels) in enumerate(zip(arrays, plan.inputs)):
            if not ctx.needs_input_grad[1 + i]:
                grads.append(None)
                continue
            others = [(plan.output, grad)] + [(plan.inputs[j], stretched[j])
                                              for j in range(len(arrays)) if j != i]
            seen = set("".join(term for term, _ in others))
            unique = "".join(dict.fromkeys(labels))
            kept = "".join(c for c in unique if c in seen)
            spelled = ",".join(term for term, _ in others) + "->" + kept
            g = np.einsum(spelled, *(x for _, x in others), optimize=len(others) > 1)
            # labels summed within this operand alone: the gradient is the same along them
            g = np.asarray(g).reshape([plan.sizes[c] if c in seen else 1 for c in unique])
            g = np.broadcast_to(g, [plan.sizes[c] for c in unique])
            if len(unique) < len(labels):  # a repeated label: onto the diagonal
                full = np.zeros([plan.sizes[c] for c in labels], grad.dtype)
                axes = {c: np.arange(plan.sizes[c]).reshape(
                    [-1 if d == unique.index(c) else 1 for d in range(len(unique))])
                    for c in unique}
                full[tuple(axes[c] for c in labels)] = g
                g = full
            grads.append(sum_to(np.ascontiguousarray(g), a.shape))
        return (None, *grads)

    recorded_backward = staticmethod(through(einsum_as_products))



def einsum(equation: str, *operands: Any) -> Tensor:
    """The sum over the repeated subscripts of the operands' products, as ``torch.einsum``:
    ``einsum("ij,jk->ik", a, b)`` is ``a @ b``. Subscripts are letters; "..." stands for the
    dims not named; with no "->" the output has the "..." dims, then the letters that
    appear once, in order (A-Z before a-z). The operands (a list of them too) share one
    dtype; dims of length 1 broadcast."""
    if not isinstance(equation, str):
        raise TypeError("einsum takes the equation first, as a string (the sublist form is "
                        "not supported)")
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    for i, x in enumerate(operands):
        tensor_argument(x, "einsum", f"operand {i}")
    return Einsum.apply(equation, *operands)


# ---- reductions ---------------------------------------------------------------------------------


def alias(dim: Any, axis: Any) -> Any:
    """``dim``, or NumPy's name for it, ``axis``."""
    if axis is None:
        return dim
    if dim is not None:
        raise TypeError("give dim or axis, not both")
    return axis


def dims(dim: int | Sequence[int] | None, axis: int | Sequence[int] | None, ndim: int
         ) -> tuple[int, ...]:
    """The dimensions a reduction runs over, sorted and non-negative (``axis``: NumPy's name).

    None means all, and so does an empty tuple, as in PyTorch (in NumPy it means none). A
    0-d tensor accepts 0 and -1, as in PyTorch, and has none to reduce.
    """
    dim = alias(dim, axis)
    listed = () if dim is None else (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    if not listed:
        return tuple(range(ndim))
    normalized = sorted(normalize_dim(int(d), ndim) for d in listed)
    if len(set(normalized)) != len(normalized):
        raise RuntimeError(f"dim {dim} names a dimension twice (each may appear once in "
                           "the list of dims)")
    return tuple(normalized) if ndim else ()


def _kept_shape(shape: tuple[int, ...], dims: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(1 if i in dims else n for i, n in enumerate(shape))


def _spread(grad: np.ndarray, shape: tuple[int, ...], dims: tuple[int, ...]) -> np.ndarray:
    """The gradient of a reduction over ``dims``, copied along them back to ``shape``."""
    # speed: a fresh array, not a broadcast view (benchmarks/SPEED.md, "Fresh gradient arrays")
    out = np.empty(shape, grad.dtype)
    out[...] = grad.reshape(_kept_shape(shape, dims))
    return out


class Sum(Function):
    @staticmethod
    @quiet
    def forward(ctx, a, dims, keepdim):
        ctx.shape, ctx.dims = a.shape, dims
        # integers and booleans sum as int64, as PyTorch's (NumPy sums unsigned ones as uint64)
        return a.sum(axis=dims, keepdims=keepdim, dtype=np.int64 if a.dtype.kind == "u" else None)

    @staticmethod
    def backward(ctx, grad):
        return _spread(grad, ctx.shape, ctx.dims), None, None

    @staticmethod
    def recorded_backward(ctx, grad):
        return grad.reshape(_kept_shape(ctx.shape, ctx.dims)).expand(ctx.shape), None, None


class Mean(Function):
    @staticmethod
    @quiet
    def forward(ctx, a, dims, keepdim):
        if a.dtype.kind not in "fc":
            raise RuntimeError(f"mean of {a.dtype} data: it needs a floating dtype (convert "
                               "it first), as PyTorch's mean() does")
        count = math.prod(a.shape[d] for d in dims)
        ctx.shape, ctx.dims, ctx.count = a.shape, dims, max(count, 1)
        # the mean of nothing is NaN, as in PyTorch
        return a.sum(axis=dims, keepdims=keepdim) / a.dtype.type(count)

    @staticmethod
    def backward(ctx, grad):
        return _spread(grad / ctx.count, ctx.shape, ctx.dims), None, None

    @staticmethod
    def recorded_backward(ctx, grad):
        kept = _kept_shape(ctx.shape, ctx.dims)
        return (grad / ctx.count).reshape(kept).expand(ctx.shape), None, None


class LogSumExp(Function):
    """log(sum(exp(a))) over ``dims``, shifted by the largest entry so that nothing overflows;
    as PyTorch's, an infinite largest entry shifts by 0 (all -inf gives -inf, an inf gives
    inf) and a sum over nothing is -inf. The gradient is exp(a - out), NaN where out is
    infinite as in PyTorch."""

    @staticmethod
    @quiet
    def forward(ctx, a, dims, keepdim):
        a = floating(a)
        peak = np.max(a, axis=dims, keepdims=True, initial=-np.inf)
        peak = np.where(np.isinf(peak), 0, peak)
        kept = np.log(np.exp(a - peak).sum(axis=dims, keepdims=True)) + peak
        ctx.save_for_backward(a, kept)
        return kept if keepdim else kept.reshape([n for i, n in enumerate(a.shape)
                                                  if i not in dims])

    @staticmethod
    def backward(ctx, grad):
        a, kept = ctx.saved_tensors
        return grad.reshape(kept.shape) * np.exp(a - kept), None, None

    @staticmethod
    def recorded_backward(ctx, grad):
        a, dims = ctx.inputs[:2]
        kept = a.logsumexp(dim=dims, keepdim=True)
        return grad.reshape(shape_of(kept)) * (a - kept).exp(), None, None


def _products_of_the_others(a: np.ndarray, d: int) -> np.ndarray:
    """For each entry, the product of the other entries of its line along ``d`` (exact where
    entries are 0: running products from both ends, none divided)."""
    lead = (slice(None),) * d
    ones = np.ones_like(a[lead + (slice(0, 1),)])
    ahead = np.cumprod(np.concatenate([ones, a[lead + (slice(None, -1),)]], axis=d), axis=d)
    behind = np.cumprod(np.concatenate([ones, np.flip(a[lead + (slice(1, None),)], d)], axis=d),
                        axis=d)
    return ahead * np.flip(behind, d)


class Prod(Function):
    """The product of all entries (``dim`` None) or along ``dim``; integers and booleans
    multiply as int64, as PyTorch's. The gradient is PyTorch's: out / a where no entry of the
    tensor is 0 (NaN at an infinite entry), else the products of the other entries, and 0
    everywhere for a product of all entries with two zeros or more."""

    @staticmethod
    @quiet
    def forward(ctx, a, dim, keepdim):
        if a.dtype.kind in "biu":
            a = a.astype(np.int64)
        kept = np.prod(a, axis=dim, keepdims=True)
        ctx.save_for_backward(a, kept)
        ctx.dim = dim
        if dim is None:
            return kept.reshape(())
        return kept if keepdim else kept.squeeze(dim)

    @staticmethod
    def backward(ctx, grad):
        a, kept = ctx.saved_tensors
        g = grad.reshape(kept.shape)
        zeros = a == 0
        # NaN where PyTorch's is NaN
        if not zeros.any():
            return g * (kept / a), None, None
        if ctx.dim is not None:
            return g * _products_of_the_others(a, ctx.dim), None, None
        if np.count_nonzero(zeros) > 1:
            return np.zeros(a.shape, grad.dtype), None, None
        return g * _products_of_the_others(a.reshape(-1), 0).reshape(a.shape), None, None

    @staticmethod
    def recorded_backward(ctx, grad):
        a, kept = ctx.saved_tensors
        _no_zeros(a, "prod")
        x = ctx.inputs[0]
        product = x.prod() if ctx.dim is None else x.prod(ctx.dim, keepdim=True)
        return grad.reshape(kept.shape) * product / x, None, None


def truth(x: Tensor, dim: Any, keepdim: bool, test: Callable) -> Tensor:
    """``all`` (``test`` np.all) or ``any`` over ``dim`` (None: every entry; an empty tuple:
    none, each entry's truth, as PyTorch's); boolean, uint8 for uint8 data (PyTorch's rule),
    outside the graph. NaN counts as true."""
    a = x._data
    nothing = dim is not None and not isinstance(dim, (int, np.integer)) and not len(dim)
    reduced = () if nothing else dims(dim, None, a.ndim)
    out = np.asarray(test(a, axis=reduced, keepdims=keepdim))
    return as_leaf(out.astype(np.uint8) if a.dtype == np.uint8 else out)


class Extreme(Function):
    """The largest (``pick`` np.maximum) or smallest entries over ``dims``; tied extremes
    share the gradient equally (PyTorch's ``amax``, ``amin`` and ``max()``).

    Where the extreme is NaN, PyTorch's ``amax`` and ``amin`` give every entry of the group
    NaN (none equals it: their share is 0 * grad / 0), and its ``max()`` and ``min()`` share
    the gradient among the NaN entries (``nan_ties``); both are followed here."""

    @staticmethod
    def forward(ctx, a, dims, keepdim, pick, nan_ties):
        if any(a.shape[d] == 0 for d in dims):  # other dims may be empty, as in PyTorch
            raise RuntimeError(f"{pick.__name__} over a dimension of length 0 (shape {a.shape})")
        kept = pick.reduce(a, axis=dims, keepdims=True)
        ctx.save_for_backward(a, kept)
        ctx.dims, ctx.nan_ties = dims, nan_ties
        return kept if keepdim else kept.reshape([n for i, n in enumerate(a.shape)
                                                  if i not in dims])

    @staticmethod
    def backward(ctx, grad):
        chosen, kept = Extreme._chosen(ctx)
        # a group of none: NaN, as said; ``max()`` fills its chosen entries (the others get 0
        # even of a NaN gradient), ``amax`` multiplies by them, as PyTorch's two do
        share = grad.reshape(kept.shape) / chosen.sum(axis=ctx.dims, keepdims=True)
        spread = np.where(chosen, share, 0.0) if ctx.nan_ties else chosen * share
        return spread.astype(grad.dtype, copy=False), None, None, None, None

    @staticmethod
    def recorded_backward(ctx, grad):
        chosen, kept = Extreme._chosen(ctx)
        count = chosen.sum(axis=ctx.dims, keepdims=True).astype(grad.dtype)
        share = grad.reshape(kept.shape) / constant(count)
        spread = where(constant(chosen), share, 0.0) if ctx.nan_ties else \
            share * constant(chosen)
        return (spread,) + (None,) * 4

    @staticmethod
    def _chosen(ctx):
        """Where the entries equal the extreme (NaN ones too, with ``nan_ties``), and it."""
        a, kept = ctx.saved_tensors
        chosen = a == kept
        if ctx.nan_ties and a.dtype.kind == "f":
            chosen |= np.isnan(a) & np.isnan(kept)
        return chosen, kept


class TakeAlong(Function):
    """The entries at ``indices`` along ``dim`` (kept as length 1): ``max(dim)``'s values."""

    @staticmethod
    def forward(ctx, a, indices, dim, keepdim):
        ctx.save_for_backward(indices)
        ctx.shape, ctx.dim = a.shape, dim
        out = np.take_along_axis(a, indices, axis=dim)
        return out if keepdim else out.squeeze(dim)

    @staticmethod
    def backward(ctx, grad):
        (indices,) = ctx.saved_tensors
        out = np.zeros(ctx.shape, grad.dtype)
        np.put_along_axis(out, indices, grad.reshape(indices.shape), axis=ctx.dim)
        return out, None, None, None

    @staticmethod
    def recorded_backward(ctx, grad):
        (indices,) = ctx.saved_tensors
        return (Spread.apply(grad.reshape(indices.shape), gathered_positions(indices, ctx.dim),
                             ctx.shape), None, None, None)


class ValuesAndIndices(NamedTuple):
    """What ``max(dim)`` and ``min(dim)`` return, as PyTorch's named tuple."""

    values: Tensor
    indices: Tensor


def max_or_min(x: Tensor, dim: Any, keepdim: bool, pick: np.ufunc) -> Any:
    """``x.max()``, ``x.max(dim)`` or ``x.max(other)`` (and ``min``), as PyTorch's."""
    if isinstance(dim, (Tensor, np.ndarray)):
        return Maximum.apply(x, dim, pick)
    if dim is None:
        return Extreme.apply(x, dims(None, None, x._data.ndim), False, pick, True)
    a = x._data
    d = normalize_dim(dim, a.ndim)
    if a.ndim == 0:
        return ValuesAndIndices(Extreme.apply(x, (), False, pick, True),
                                as_leaf(np.zeros((), np.int64)))
    if a.shape[d] == 0:  # (IndexError, as PyTorch's for a named dim)
        raise IndexError(f"{pick.__name__} along dimension {dim} of length 0")
    arg = np.argmax if pick is np.maximum else np.argmin
    indices = np.expand_dims(arg(a, axis=d), d)
    values = TakeAlong.apply(x, indices, d, keepdim)
    return ValuesAndIndices(values, as_leaf(indices if keepdim else indices.squeeze(d)))


def named_dims_nonempty(a: np.ndarray, dims: tuple[int, ...], name: str) -> tuple[int, ...]:
    """``dims``, if none of them (dims the caller named) has length 0, else IndexError, as
    PyTorch's reductions over a named empty dim."""
    if a.size == 0 and any(a.shape[d] == 0 for d in dims):
        raise IndexError(f"{name}(): the reduced dimension has length 0 (shape {a.shape})")
    return dims


def arg_extreme(x: Tensor, dim: int | None, keepdim: bool, arg: Callable) -> Tensor:
    """``argmax``/``argmin``: over all entries (flattened) or along ``dim``; no gradient."""
    a = x._data
    if a.dtype == _BOOL:
        raise RuntimeError(f"{arg.__name__}(): does not support bool input")
    if a.size == 0 and (dim is None or a.shape[normalize_dim(dim, a.ndim)] == 0):
        raise IndexError(f"{arg.__name__} over a dimension of length 0 (shape {a.shape})")
    if dim is None or a.ndim == 0:
        out = np.asarray(arg(a))
        return as_leaf(out.reshape((1,) * a.ndim) if keepdim else out)
    return as_leaf(np.asarray(arg(a, axis=normalize_dim(dim, a.ndim), keepdims=keepdim)))


class Norm(Function):
    """The vector ``p``-norm over ``dims``: (sum |a|**p)**(1/p); ``p`` inf and -inf the
    largest and smallest |a|, 0 the count of non-zero entries. As PyTorch's gradient: 0
    where the norm is 0 (and, for p < 1, at the zero entries); tied extremes share it."""

    @staticmethod
    @quiet
    def forward(ctx, a, p, dims, keepdim):
        magnitude = np.abs(a)
        if p != 0 and math.prod(a.shape[d] for d in dims) == 1:  # one entry: its size,
            # exactly, as PyTorch's (its square may underflow)
            kept = magnitude
        elif p == math.inf or p == -math.inf:
            if any(a.shape[d] == 0 for d in dims):  # no identity to start from, as in PyTorch
                raise RuntimeError(f"norm of order {p} over a dimension of length 0")
            pick = np.maximum if p > 0 else np.minimum
            kept = pick.reduce(magnitude, axis=dims, keepdims=True)
        elif p == 0:
            kept = (a != 0).sum(axis=dims, keepdims=True).astype(a.dtype)
        elif p == 1:
            kept = magnitude.sum(axis=dims, keepdims=True)
        elif p == 2:
            kept = np.sqrt(np.square(a).sum(axis=dims, keepdims=True))
        else:
            # 0 ** -1 is inf: the norm is 0, as it should be
            kept = (magnitude ** p).sum(axis=dims, keepdims=True) ** (1 / p)
        ctx.save_for_backward(a, kept)
        ctx.p, ctx.dims = p, dims
        return kept if keepdim else kept.reshape([n for i, n in enumerate(a.shape)
                                                  if i not in dims])

    @staticmethod
    def backward(ctx, grad):
        a, kept = ctx.saved_tensors
        p = ctx.p
        g = grad.reshape(kept.shape)
        # masked out below
        if p == 0:
            return np.zeros_like(a), None, None, None
        if p == 1:
            slope = sgn(a)
        elif p == math.inf or p == -math.inf:  # (a NaN norm: 0, as PyTorch's)
            chosen = np.abs(a) == kept
            slope = np.where(chosen, sgn(a) / chosen.sum(axis=ctx.dims, keepdims=True), 0)
        elif p == 2:
            slope = a / kept
        else:
            slope = sgn(a) * np.abs(a) ** (p - 1) / kept ** (p - 1)
        slope = np.where((kept == 0) | ((a == 0) if p < 1 else False), 0, slope)
        return (g * slope).astype(a.dtype, copy=False), None, None, None

    @staticmethod
    @linked
    def recorded_backward(ctx, grad):
        a, p, dims = ctx.inputs[:3]
        if p not in (1, 2):
            raise NotImplementedError(f"norm of order {p}: tensorgrad has no gradient of its "
                                      "gradient (orders 1 and 2 have one)")
        g = grad.reshape(_kept_shape(shape_of(a), dims))
        if p == 1:
            return g * constant(sgn(a._data)), None, None, None
        norm = a.norm(2, dim=dims, keepdim=True)
        # g times the unit vector (whose own derivative, (1 - unit^2) / norm, cancels
        # exactly for one entry); 0 where the norm is, as backward's, NaN beyond, as PyTorch's
        return g * where(constant(norm._data == 0), 0.0, a / norm), None, None, None


def norm(x: Tensor, p: Any, dim: Any, keepdim: bool) -> Tensor:
    """``x.norm(p, dim, keepdim)``: a vector norm over ``dim`` (all entries if None)."""
    if p == "fro" and not isinstance(dim, (int, np.integer)) and dim is not None \
            and len(dim) > 2:
        raise RuntimeError(f"norm: 'fro' over dims {tuple(dim)}: a matrix norm takes 2 dims")
    if p is None or p == "fro":
        p = 2
    if isinstance(p, str) or not isinstance(p, (int, float, np.integer, np.floating)):
        raise ValueError(f"norm: only vector norms (a number p, or 'fro'), not p={p!r}")
    if x._data.dtype.kind != "f":
        raise RuntimeError(f"norm of {x._data.dtype} data: it needs a floating tensor")
    return Norm.apply(x, float(p), dims(dim, None, x._data.ndim), keepdim)


def topk(x: Tensor, k: int, dim: int, largest: bool, sorted: bool) -> ValuesAndIndices:
    """The ``k`` largest (or smallest) entries along ``dim``, largest first (smallest first),
    and their indices; NaN counts as the largest, as in PyTorch. Tied entries come in the
    order of their indices (PyTorch leaves that order open); ``sorted`` is accepted, and
    the result is always sorted."""
    a = x._data
    d = normalize_dim(dim, a.ndim)
    k = operator.index(k)
    if not 0 <= k <= (a.shape[d] if a.ndim else 1):
        raise RuntimeError(f"topk: k={k} is out of range for a tensor of shape {a.shape} "
                           f"along dimension {dim}")
    if a.ndim == 0:
        top, at = topk(x.reshape(1), k, 0, largest, sorted)
        return ValuesAndIndices(top.reshape(()) if k else top, at.reshape(()) if k else at)
    indices = np.take(_order(a, d, largest), np.arange(k), axis=d)
    return ValuesAndIndices(TakeAlong.apply(x, indices, d, True), as_leaf(indices))


def _order(a: np.ndarray, d: int, descending: bool) -> np.ndarray:
    """The indices that sort ``a`` along ``d``, ascending (NaN last: it counts as the largest)
    or ``descending`` (NaN first); tied entries in the order of their indices."""
    if not descending:
        return np.argsort(a, axis=d, kind="stable")
    if a.dtype.kind == "f":
        last = np.moveaxis(a, d, -1)
        nan = np.isnan(last)
        # NaN first, then descending; lexsort is stable: ties by index
        return np.moveaxis(np.lexsort((-np.where(nan, 0, last), ~nan)), -1, d)
    return np.argsort(-a.astype(np.int64), axis=d, kind="stable")


def argsort(x: Tensor, dim: int, descending: bool) -> Tensor:
    """The int64 indices that sort ``x`` along ``dim`` (see ``_order``), outside the graph."""
    a = x._data
    d = normalize_dim(dim, a.ndim)
    if a.ndim == 0:
        return as_leaf(np.zeros((), np.int64))
    return as_leaf(_order(a, d, descending).astype(np.int64, copy=False))


def isclose(x: Tensor, other: Any, rtol: float, atol: float, equal_nan: bool) -> Tensor:
    """Where |x - other| <= atol + rtol * |other| (or the two are equal: infinities of one
    sign; NaN too with ``equal_nan``), as PyTorch's: a boolean tensor, outside the graph.
    ``other`` is a tensor (or an array) of ``x``'s dtype; they broadcast."""
    if not isinstance(other, (Tensor, np.ndarray)):
        raise TypeError(f"isclose: other must be a tensor, not {type(other).__name__}")
    a, b = x._data, other._data if isinstance(other, Tensor) else other
    if a.dtype != b.dtype:
        raise RuntimeError(f"isclose of {a.dtype} and {b.dtype} data: both need one dtype")
    if rtol < 0 or atol < 0:
        raise RuntimeError(f"isclose: rtol ({rtol}) and atol ({atol}) cannot be negative")
    close = _broadcasting(np.equal, a, b, "isclose")
    if equal_nan and a.dtype.kind == "f":
        close |= np.isnan(a) & np.isnan(b)
    if rtol or atol:  # PyTorch's formula, integers and booleans as floats
        a, b = floating(a), floating(b)
        with np.errstate(invalid="ignore", over="ignore"):
            error = np.abs(a - b)
            close |= np.isfinite(error) & (error <= atol + np.abs(rtol * b))
    return as_leaf(np.asarray(close))


# ---- shape --------------------------------------------------------------------------------------


def shape_argument(shape: tuple) -> tuple[int, ...]:
    """``reshape(2, 3)`` and ``reshape((2, 3))`` alike."""
    if len(shape) == 1 and not isinstance(shape[0], (int, np.integer)):
        shape = tuple(shape[0])
    return tuple(int(n) for n in shape)


class Reshape(Function):
    views = True  # (its result may share its input's memory: see tensor._as_it_was)

    @staticmethod
    def forward(ctx, a, shape, view=False):
        ctx.shape = a.shape
        try:
            out = a.reshape(shape)
        except ValueError:
            raise RuntimeError(f"shape {shape} is invalid for a tensor of shape {a.shape} "
                               f"({a.size} elements)") from None
        if view and out.size and not np.may_share_memory(out, a):
            raise RuntimeError(f"view{shape} of a tensor of shape {a.shape} whose layout "
                               "needs a copy: use reshape()")
        return out

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.shape), None, None

    @staticmethod
    def recorded_backward(ctx, grad):
        return grad.reshape(ctx.shape), None, None


def flattened_shape(shape: tuple[int, ...], start: int, end: int) -> tuple[int, ...]:
    if not shape:
        return (1,)
    start, end = normalize_dim(start, len(shape)), normalize_dim(end, len(shape))
    if start > end:
        raise RuntimeError(f"flatten() has invalid args: start_dim ({start}) cannot come "
                           f"after end_dim ({end})")
    return (*shape[:start], math.prod(shape[start:end + 1]), *shape[end + 1:])


def unsqueezed_shape(shape: tuple[int, ...], dim: int) -> tuple[int, ...]:
    d = normalize_dim(dim, len(shape) + 1)
    return (*shape[:d], 1, *shape[d:])


def squeezed_shape(shape: tuple[int, ...], dim: int | Sequence[int] | None
                   ) -> tuple[int, ...]:
    """Without the dimensions of length 1 among ``dim`` (all, if None); others stay."""
    if dim is not None and not isinstance(dim, (int, np.integer)) and not len(dim):
        return shape  # squeeze(()) squeezes nothing, as PyTorch's
    chosen = range(len(shape)) if dim is None else dims(dim, None, len(shape))
    return tuple(n for i, n in enumerate(shape) if not (i in chosen and n == 1))


def permutation(ndim: int, order: tuple[int, ...]) -> tuple[int, ...]:
    if len(order) != ndim:  # (before any dim is checked: PyTorch's RuntimeError, not IndexError)
        raise RuntimeError(f"permute{order}: the number of dims does not match the tensor's "
                           f"{ndim}")
    normalized = tuple(normalize_dim(d, ndim) for d in order) if ndim else order
    if sorted(normalized) != list(range(ndim)):
        raise RuntimeError(f"permute{order} does not order the {ndim} dimensions of a tensor")
    return normalized


def swap(ndim: int, dim0: int, dim1: int) -> tuple[int, ...]:
    order = list(range(ndim))
    if ndim:
        d0, d1 = normalize_dim(dim0, ndim), normalize_dim(dim1, ndim)
        order[d0], order[d1] = d1, d0
    else:
        # a 0-d tensor takes 0 and -1, and stays as it is
        normalize_dim(dim0, ndim), normalize_dim(dim1, ndim)
    return tuple(order)


class Permute(Function):
    views = True  # (its result may share its input's memory: see tensor._as_it_was)

    @staticmethod
    def forward(ctx, a, order):
        ctx.order = order
        return a.transpose(order)

    @staticmethod
    def backward(ctx, grad):
        return grad.transpose(np.argsort(ctx.order)), None

    @staticmethod
    def recorded_backward(ctx, grad):
        return grad.permute(*np.argsort(ctx.order).tolist()), None


def moved(ndim: int, source: int | Sequence[int], destination: int | Sequence[int]
          ) -> tuple[int, ...]:
    """The order of dimensions that ``movedim(source, destination)`` makes: each source
    dimension at its destination, the others in their order in the places left."""
    sources = [source] if isinstance(source, (int, np.integer)) else list(source)
    targets = [destination] if isinstance(destination, (int, np.integer)) else list(destination)
    if len(sources) != len(targets):
        raise RuntimeError(f"movedim: source {sources} and destination {targets} need as many "
                           "dims")
    sources = [normalize_dim(d, ndim) for d in sources]
    targets = [normalize_dim(d, ndim) for d in targets]
    for name, listed in (("source", sources), ("destination", targets)):
        if len(set(listed)) != len(listed):
            raise RuntimeError(f"movedim: a repeated dim in {name} {listed}")
    if not ndim:
        return ()
    order = [d for d in range(ndim) if d not in sources]
    for target, source_dim in sorted(zip(targets, sources)):
        order.insert(target, source_dim)
    return tuple(order)


def transposed_matrix(ndim: int) -> tuple[int, ...]:
    """``t()``'s order: a matrix's two dimensions swapped; fewer dimensions stay."""
    if ndim > 2:
        raise RuntimeError(f"t() takes a tensor of at most 2 dimensions, not {ndim}: use "
                           "transpose(dim0, dim1) or mT")
    return tuple(range(ndim))[::-1]


class Roll(Function):
    """The entries shifted along ``dims`` by ``shifts`` (over the flattened tensor if
    ``dims`` is None), those pushed off the end coming back at the start."""

    @staticmethod
    def forward(ctx, a, shifts, dims):
        ctx.shifts, ctx.dims = shifts, dims
        return np.roll(a, shifts, dims)

    @staticmethod
    def backward(ctx, grad):
        back = -ctx.shifts if isinstance(ctx.shifts, int) else tuple(-n for n in ctx.shifts)
        return np.roll(grad, back, ctx.dims), None, None

    @staticmethod
    def recorded_backward(ctx, grad):
        back = -ctx.shifts if isinstance(ctx.shifts, int) else tuple(-n for n in ctx.shifts)
        return Roll.apply(grad, back, ctx.dims), None, None


def roll(x: Tensor, shifts: Any, dims: Any) -> Tensor:
    """``x.roll(shifts, dims)``: ints or sequences of them, one shift per dim; with no
    ``dims``, one shift of the flattened tensor."""
    listed = [shifts] if not isinstance(shifts, (Sequence, np.ndarray)) else list(shifts)
    steps = tuple(operator.index(n) for n in listed)
    if dims is None:
        if len(steps) != 1:
            raise RuntimeError(f"roll: {len(steps)} shifts and no dims: give one dim per shift")
        return Roll.apply(x, steps[0], None)
    along = [dims] if isinstance(dims, (int, np.integer)) else list(dims)
    if len(along) != len(steps):
        raise RuntimeError(f"roll: {len(steps)} shifts for {len(along)} dims: they must pair up")
    if not x._data.ndim:
        raise IndexError("roll of a 0-d tensor along a dim: it has none")
    return Roll.apply(x, steps, tuple(normalize_dim(operator.index(d), x._data.ndim)
                                      for d in along))


def narrow(x: Tensor, dim: int, start: Any, length: Any) -> Tensor:
    """``length`` entries along ``dim`` from ``start`` (from the end if negative): a view."""
    ndim = x._data.ndim
    if not ndim:
        raise RuntimeError("narrow of a 0-d tensor: it has no dimension to narrow")
    d = normalize_dim(dim, ndim)
    size = x._data.shape[d]
    start, length = operator.index(start), operator.index(length)
    if not -size <= start <= size:
        raise IndexError(f"narrow: start {start} is out of range for a dimension of length "
                         f"{size}")
    if start < 0:
        start += size
    if length < 0:
        raise RuntimeError(f"narrow: the length cannot be negative, not {length}")
    if start + length > size:
        raise RuntimeError(f"narrow: start {start} + length {length} exceeds the dimension's "
                           f"length {size}")
    return x[(slice(None),) * d + (slice(start, start + length),)]


def expanded_shape(shape: tuple[int, ...], sizes: tuple[int, ...]) -> tuple[int, ...]:
    """PyTorch's ``expand``: -1 keeps a dimension, new ones may be added in front."""
    extra = len(sizes) - len(shape)
    if extra < 0:
        raise RuntimeError(f"expand: the number of sizes provided ({len(sizes)}) must be "
                           f"greater or equal to the number of dimensions in the tensor "
                           f"({len(shape)})")
    for i in range(extra):  # a new dimension has no size for -1 to keep
        if sizes[i] == -1:
            raise RuntimeError(f"The expanded size of the tensor (-1) isn't allowed in a "
                               f"leading, non-existing dimension {i}")
    if any(s < -1 for s in sizes):
        raise RuntimeError(f"expand: each size is -1 (the tensor's own) or at least 0, not "
                           f"{list(sizes)}")
    return tuple(n if s == -1 and i >= extra else s for i, (s, n) in
                 enumerate(zip(sizes, (0,) * extra + shape)))


def expand_error(shape: tuple[int, ...], target: tuple[int, ...]) -> RuntimeError:
    """PyTorch's error for a tensor of ``shape`` that cannot be expanded to ``target``."""
    extra = len(target) - len(shape)
    dim = next(i for i, n in enumerate(shape) if n != 1 and n != target[extra + i])
    return RuntimeError(f"The expanded size of the tensor ({target[extra + dim]}) must match the "
                        f"existing size ({shape[dim]}) at non-singleton dimension {extra + dim}.  "
                        f"Target sizes: {list(target)}.  Tensor sizes: {list(shape)}")


class Expand(Function):
    views = True  # (its result may share its input's memory: see tensor._as_it_was)

    @staticmethod
    def forward(ctx, a, shape):
        ctx.shape = a.shape
        try:
            return np.broadcast_to(a, shape)
        except ValueError:
            raise expand_error(a.shape, shape) from None

    @staticmethod
    def backward(ctx, grad):
        return sum_to(grad, ctx.shape), None

    @staticmethod
    def recorded_backward(ctx, grad):
        return summed_to(grad, ctx.shape), None


class Triangle(Function):
    """The lower (``upper`` False) or upper triangle of the last two dimensions, from
    ``diagonal`` on; zeros elsewhere."""

    @staticmethod
    def forward(ctx, a, diagonal, upper):
        ctx.diagonal, ctx.upper = diagonal, upper
        return np.triu(a, diagonal) if upper else np.tril(a, diagonal)

    @staticmethod
    def backward(ctx, grad):
        keep = np.triu if ctx.upper else np.tril
        return keep(grad, ctx.diagonal), None, None

    @staticmethod
    def recorded_backward(ctx, grad):
        return Triangle.apply(grad, ctx.diagonal, ctx.upper), None, None


def triangle(x: Any, diagonal: int, upper: bool) -> Tensor:
    """``tril`` (``upper`` False) or ``triu`` of a tensor of at least two dimensions."""
    x = x if isinstance(x, Tensor) else Tensor(x)
    if x._data.ndim < 2:
        raise RuntimeError(f"{'triu' if upper else 'tril'}: a tensor of at least 2 dimensions, "
                           f"not {x._data.ndim}")
    return Triangle.apply(x, operator.index(diagonal), upper)


class Diag(Function):
    """``diag``: a vector's entries on the ``diagonal``-th diagonal of a square matrix, zeros
    elsewhere; or a matrix's ``diagonal``-th diagonal as a vector."""

    @staticmethod
    def forward(ctx, a, diagonal):
        if a.ndim not in (1, 2):
            raise RuntimeError(f"diag of a {a.ndim}-d tensor: it takes a vector or a matrix")
        ctx.shape, ctx.diagonal = a.shape, diagonal
        out = np.diag(a, diagonal)
        return out if a.ndim == 1 else out.copy()  # (a matrix's is a read-only view)

    @staticmethod
    def backward(ctx, grad):
        k = ctx.diagonal
        if len(ctx.shape) == 1:
            return np.diagonal(grad, k).copy(), None
        out = np.zeros(ctx.shape, grad.dtype)
        steps = np.arange(len(grad))
        out[steps + max(-k, 0), steps + max(k, 0)] = grad
        return out, None

    @staticmethod
    def recorded_backward(ctx, grad):
        k = ctx.diagonal
        if len(ctx.shape) == 1:
            return Diagonal.apply(grad, k, 0, 1), None
        steps = np.arange(grad.shape[0])
        return Spread.apply(grad, (steps + max(-k, 0), steps + max(k, 0)), ctx.shape), None


def meshgrid(tensors: Sequence[Tensor], indexing: str) -> tuple[Tensor, ...]:
    """One tensor per input (each 0-d or 1-D), all of the shape of their lengths side by side
    ("ij"; "xy": the first two swapped), the input's entries along its own dimension: views
    that pass gradients back."""
    if not tensors:
        raise RuntimeError("meshgrid of no tensors")
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f'meshgrid: indexing is "ij" or "xy", not {indexing!r}')
    if len({t._data.dtype for t in tensors}) > 1:
        raise RuntimeError(f"meshgrid of {', '.join(str(t._data.dtype) for t in tensors)} "
                           "tensors: all need one dtype")
    if any(t._data.ndim > 1 for t in tensors):
        raise RuntimeError(f"meshgrid takes 0-d or 1-D tensors, not shapes "
                           f"{[t._data.shape for t in tensors]}")
    axes = list(range(len(tensors)))
    if indexing == "xy" and len(axes) > 1:
        axes[0], axes[1] = 1, 0
    shape = [0] * len(tensors)
    for t, axis in zip(tensors, axes):
        shape[axis] = t._data.size
    return tuple(t.reshape(tuple(n if i == axis else 1 for i, n in enumerate(shape)))
                 .expand(tuple(shape)) for t, axis in zip(tensors, axes))


def split(x: Tensor, sizes: Any, dim: int) -> tuple[Tensor, ...]:
    """``x.split(split_size_or_sections, dim)``: views of consecutive pieces along ``dim``."""
    if not x._data.ndim:
        raise RuntimeError("split of a 0-d tensor: it has no dimension to split")
    d = normalize_dim(dim, x._data.ndim)
    length = x._data.shape[d]
    if isinstance(sizes, (int, np.integer)):
        step = int(sizes)
        if step < 0 or (step == 0 and length):
            raise RuntimeError(f"split: a split size of {step} for a dimension of length "
                               f"{length}")
        bounds = list(range(0, length, step)) + [length] if length else [0, 0]
    else:
        sections = [operator.index(n) for n in sizes]
        if any(n < 0 for n in sections) or sum(sections) != length:
            raise RuntimeError(f"split: sizes {sections} do not add up to the length {length} "
                               f"of dimension {dim}")
        bounds = [0, *itertools.accumulate(sections)]
    before = (slice(None),) * d
    return tuple(x[before + (slice(start, end),)] for start, end in zip(bounds, bounds[1:]))


def chunk(x: Tensor, chunks: int, dim: int) -> tuple[Tensor, ...]:
    """``x.chunk(chunks, dim)``: ``split`` into pieces of ceil(length / chunks)."""
    chunks = operator.index(chunks)
    if chunks <= 0:
        raise RuntimeError(f"chunk: the number of chunks must be positive, not {chunks}")
    if not x._data.ndim:
        raise RuntimeError("chunk of a 0-d tensor: it has no dimension to split")
    d = normalize_dim(dim, x._data.ndim)
    length = x._data.shape[d]
    if not length:  # as PyTorch: as many empty pieces as asked for
        return tuple(x[(slice(None),) * d + (slice(0, 0),)] for _ in range(chunks))
    return split(x, -(-length // chunks), dim)


def _legacy_empty(shape: tuple[int, ...]) -> bool:
    """A 1-D tensor of length 0, which PyTorch's ``cat`` skips (a legacy rule) beside tensors
    of other shapes."""
    return shape == (0,)


def _cat_error(shapes: list[tuple[int, ...]], dim: int) -> RuntimeError:
    """PyTorch's error for tensors that cannot be joined along ``dim``."""
    first = shapes[0]
    for i, shape in enumerate(shapes[1:], 1):
        if len(shape) != len(first):
            return RuntimeError(f"Tensors must have same number of dimensions: got "
                                f"{len(first)} and {len(shape)}")
        for d, (n, m) in enumerate(zip(first, shape)):
            if d != dim and n != m:
                return RuntimeError(f"Sizes of tensors must match except in dimension {dim}. "
                                    f"Expected size {n} but got size {m} for tensor number "
                                    f"{i} in the list.")
    return RuntimeError(f"cat: shapes {', '.join(map(str, shapes))} cannot be joined")


class Concatenate(Function):
    """``cat(tensors, dim)``, as ``Concatenate.apply(dim, *tensors)``."""

    @staticmethod
    def forward(ctx, dim, *arrays):
        dtype = arrays[0].dtype if type(arrays[0]) is np.ndarray else None
        # speed: arrays of one floating dtype, none of them skipped, are joined as they come
        # (benchmarks/SPEED.md, "Round ten")
        if (dtype is _FLOAT64 or dtype is _FLOAT32) and all(
                type(a) is np.ndarray and a.dtype is dtype and a.shape != (0,) for a in arrays):
            joined, skipped = arrays, (False,) * len(arrays)
        else:
            dtype = result_dtype(*arrays)  # (the skipped empty ones count, as in PyTorch)
            skipped = [_legacy_empty(a.shape) for a in arrays]
            if all(skipped):
                skipped = [False] * len(arrays)
            joined = [_as(a, dtype) for a, skip in zip(arrays, skipped) if not skip]
        try:
            out = np.concatenate(joined, axis=dim)
        except ValueError:
            raise _cat_error([a.shape for a in joined], dim) from None
        ctx.dim, ctx.skipped = dim, skipped
        ctx.bounds = list(itertools.accumulate(a.shape[dim] for a in joined[:-1]))
        return out

    @staticmethod
    def backward(ctx, grad):
        pieces = iter(np.split(grad, ctx.bounds, axis=ctx.dim))
        return (None, *(np.zeros(0, grad.dtype) if skip else next(pieces)
                        for skip in ctx.skipped))

    @staticmethod
    def recorded_backward(ctx, grad):
        bounds = [0, *ctx.bounds, grad.shape[ctx.dim]]
        pieces = iter(grad.narrow(ctx.dim, lo, hi - lo) for lo, hi in zip(bounds, bounds[1:]))
        return (None, *(constant(np.zeros(0, grad.dtype)) if skip else next(pieces)
                        for skip in ctx.skipped))


class Stack(Function):
    """``stack(tensors, dim)``, as ``Stack.apply(dim, *tensors)``."""

    @staticmethod
    def forward(ctx, dim, *arrays):
        dtype = result_dtype(*arrays)
        ctx.dim = dim
        try:
            return np.stack([_as(a, dtype) for a in arrays], axis=dim)
        except ValueError:
            i = next(i for i, a in enumerate(arrays) if a.shape != arrays[0].shape)
            raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                               f"{list(arrays[0].shape)} at entry 0 and {list(arrays[i].shape)} "
                               f"at entry {i}") from None

    @staticmethod
    def backward(ctx, grad):
        return (None, *np.moveaxis(grad, ctx.dim, 0))

    @staticmethod
    def recorded_backward(ctx, grad):
        return (None, *grad.unbind(ctx.dim))


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """The tensors joined along the existing dimension ``dim``."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("cat needs at least one tensor")
    shapes = [t._data.shape if isinstance(t, Tensor) else np.shape(t) for t in tensors]
    for i, shape in enumerate(shapes):
        if not shape:
            raise RuntimeError(f"zero-dimensional tensor (at position {i}) cannot be "
                               "concatenated")
    kept = [shape for shape in shapes if shape != (0,)] or shapes  # (see _legacy_empty)
    return Concatenate.apply(normalize_dim(dim, len(kept[0])), *tensors)


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """The tensors, all of one shape, joined along a new dimension ``dim``."""
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    ndim = np.ndim(tensors[0]._data if isinstance(tensors[0], Tensor) else tensors[0])
    return Stack.apply(normalize_dim(dim, ndim + 1), *tensors)


# ---- indexing -----------------------------------------------------------------------------------


def plain_index(index: Any, data: np.ndarray) -> Any:
    """The NumPy index that picks from ``data`` what PyTorch's ``index`` picks from a tensor
    of it: tensors and lists inside it become integer or boolean arrays, a 0-d integer one an
    int."""
    if isinstance(index, (int, slice)) or index is None or index is Ellipsis:
        return index
    array = index._data if type(index) is Tensor else index
    if type(array) is np.ndarray and array.ndim and array.dtype.kind in "iu":
        return array  # (the rows of a table: an embedding's)
    if not isinstance(index, tuple):
        part = _plain_part(index)
        if type(part) is np.ndarray and part.dtype.kind == "b":
            _check_masks((part,), data.shape)
        return part
    # speed: one pass that notes what the index holds, and nothing more done than it needs
    # (benchmarks/SPEED.md, "Round eleven")
    listed, arrays, ints, masks, ellipsis = [], False, False, False, False
    for part in index:
        kind = type(part)
        if kind is int:
            ints = True
        elif kind is not slice and part is not None:
            if part is Ellipsis:
                ellipsis = True
            else:
                part = _plain_part(part)
                if type(part) is np.ndarray:
                    arrays, masks = True, masks or part.dtype.kind == "b"
                elif type(part) is int:
                    ints = True
        listed.append(part)
    parts = tuple(listed)
    if not arrays:
        return parts
    shape = data.shape
    if ellipsis and sum(_dims_taken(p) for p in parts) == len(shape):  # a ``...`` that
        # stands for no dimension keeps arrays on either side of it together in PyTorch
        parts = tuple(p for p in parts if p is not Ellipsis)
    if masks:
        _check_masks(parts, shape)
    if ints and shape:  # (a 0-d tensor: NumPy refuses)
        return _ints_first(parts, shape)
    return parts


def _plain_part(part: Any) -> Any:
    """One part of an index as NumPy takes it: a tensor or a list as an integer or boolean
    array (a 0-d integer one as an int, as PyTorch selects with it), a NumPy integer as an
    int."""
    if isinstance(part, (Tensor, list, np.ndarray)):
        array = part._data if isinstance(part, Tensor) else np.asarray(part)
        kind = array.dtype.kind
        if kind in "iu":
            return int(array) if array.ndim == 0 else array
        if kind == "b":
            return array
        if array.size:
            raise IndexError(f"tensors used as indices must be integer or boolean, not "
                             f"{array.dtype}")
        return array.astype(np.intp)
    if isinstance(part, np.integer):
        return int(part)
    return part


def _dims_taken(part: Any) -> int:
    """How many of the indexed tensor's dimensions one part of an index consumes."""
    if type(part) is np.ndarray and part.dtype == bool:
        return part.ndim
    return 0 if part is None or part is Ellipsis else 1


def _check_masks(parts: tuple[Any, ...], shape: tuple[int, ...]) -> None:
    """Each boolean mask covers its dimensions exactly (NumPy lets a mismatch of size 0
    pass)."""
    taken = sum(_dims_taken(p) for p in parts)
    dim = 0
    for part in parts:
        if part is Ellipsis:
            dim += max(len(shape) - taken, 0)
        elif type(part) is np.ndarray and part.dtype == bool:
            covered = shape[dim:dim + part.ndim]
            if part.shape != covered:
                raise IndexError(f"a boolean index of shape {part.shape} does not match the "
                                 f"lengths {covered} of the dimensions it indexes, from "
                                 f"dimension {dim}, of a tensor of shape {shape}")
        dim += _dims_taken(part)


def _ints_first(parts: tuple[Any, ...], shape: tuple[int, ...]) -> tuple[np.ndarray, ...]:
    """An index of ints and arrays as PyTorch reads it, as one NumPy index. PyTorch applies
    the ints first and the rest to what is left: ``x[1, :, [2]]`` is ``x[1][:, [2]]``, of
    shape (n, 1), where NumPy counts the 1 with the arrays and, the two being apart, puts
    their dimension first, (1, n). The index becomes one integer array per dimension of
    ``shape``, of the result's shape: each entry's position, picked the PyTorch way."""
    ints = tuple(q for p in parts if p is not None
                 for q in ((p,) if type(p) is int or p is Ellipsis
                           else (slice(None),) * _dims_taken(p)))
    rest = tuple(p for p in parts if type(p) is not int)
    positions = [np.broadcast_to(np.arange(n).reshape((-1,) + (1,) * (len(shape) - d - 1)),
                                 shape) for d, n in enumerate(shape)]  # views: no memory
    try:
        return tuple(position[ints][rest] for position in positions)
    except IndexError as error:
        raise IndexError(f"index out of range for a tensor of shape {shape}: {error}") from None


def _is_basic(index: Any) -> bool:
    """Ints, slices, None and ``...`` only: the result is a view, every element picked once."""
    if isinstance(index, (int, slice)):
        return True
    if isinstance(index, np.ndarray):
        return False
    parts = index if isinstance(index, tuple) else (index,)
    return all(p is None or p is Ellipsis or isinstance(p, (int, np.integer, slice))
               for p in parts)


class Index(Function):
    fresh_grads = True  # backward's arrays are new: later gradients may be added into them
    views = True  # (a basic index: see tensor._as_it_was)

    @staticmethod
    def forward(ctx, a, index):
        ctx.save_for_backward(index)
        ctx.shape, ctx.basic = a.shape, _is_basic(index)
        try:
            out = a[index]
        except IndexError as error:
            raise IndexError(f"index out of range for a tensor of shape {a.shape}: {error}"
                             ) from None
        if type(out) is not np.ndarray and ctx.basic:  # one entry: as a 0-d view of it (an
            # in-place op on it writes ``a``, as PyTorch's), not NumPy's scalar copy
            return a[(*index, ...) if type(index) is tuple else (index, ...)]
        return out

    @staticmethod
    def backward(ctx, grad):
        (index,) = ctx.saved_tensors
        if ctx.basic:
            out = np.zeros(ctx.shape, grad.dtype)
            out[index] = grad
            return out, None
        if (type(index) is np.ndarray and index.dtype.kind in "iu" and len(ctx.shape) == 2
                and index.size * ctx.shape[1] > SCATTER_AT_MOST):  # rows of a table, many
            return scatter_rows(index.ravel(), grad.reshape(index.size, -1), ctx.shape), None
        out = np.zeros(ctx.shape, grad.dtype)
        np.add.at(out, index, grad)  # integer arrays may pick an element more than once
        return out, None

    @staticmethod
    def recorded_backward(ctx, grad):
        (index,) = ctx.saved_tensors
        return Spread.apply(grad, index, ctx.shape), None

    @staticmethod
    def add_into(ctx, grad, total):
        # a slice's gradient added where it goes, not spread over an array of zeros: many
        # slices of one tensor (a loop over time steps) cost one array, not one each
        if not ctx.basic:
            return False
        (index,) = ctx.saved_tensors
        total[index] += grad
        return True


def _check_index(index: np.ndarray, length: int, name: str,
                 out_of_range: type[Exception] = RuntimeError) -> None:
    """An index array of int32 or int64 entries in [0, length) (RuntimeError otherwise, or
    ``out_of_range`` for an entry outside it, as PyTorch's: a negative index counts from
    nowhere)."""
    if index.dtype not in (np.int32, np.int64):
        raise RuntimeError(f"{name}: the index must be int64 or int32, not {index.dtype}")
    if index.size and (index.min() < 0 or index.max() >= length):
        bad = index[(index < 0) | (index >= length)].flat[0]
        raise out_of_range(f"{name}: index {bad} is out of bounds for a dimension of length "
                           f"{length}")


def gathered_positions(index: np.ndarray, dim: int) -> tuple[np.ndarray, ...]:
    """What ``gather`` picks, as a NumPy index: ``index`` along ``dim``, elsewhere each
    entry's own position."""
    ndim = index.ndim
    return tuple(index if d == dim else np.arange(n).reshape((-1,) + (1,) * (ndim - d - 1))
                 for d, n in enumerate(index.shape))


class Gather(Function):
    """``gather(a, dim, index)``: out[i][j] = a[index[i][j]][j] for dim 0 (and alike along
    the others). ``index`` has ``a``'s number of dimensions (a 0-d one counts as 1-D), sizes
    no larger than ``a``'s except along ``dim``, and gives the result its shape. Indices
    repeated add their gradients."""

    @staticmethod
    def forward(ctx, a, dim, index):
        if max(index.ndim, 1) != max(a.ndim, 1):
            raise RuntimeError(f"gather: an index of {index.ndim} dimensions for a tensor of "
                               f"{a.ndim}: they need as many")
        source = a if a.ndim else a.reshape(1)
        picks = index if index.ndim else index.reshape(1)
        if any(n > m for d, (n, m) in enumerate(zip(picks.shape, source.shape)) if d != dim):
            raise RuntimeError(f"gather: an index of shape {index.shape} is larger than the "
                               f"tensor's {a.shape} along a dimension other than {dim}")
        _check_index(picks, source.shape[dim], "gather")
        ctx.save_for_backward(picks)
        ctx.shape, ctx.dim = a.shape, dim
        return source[gathered_positions(picks, dim)].reshape(index.shape)

    @staticmethod
    def backward(ctx, grad):
        (picks,) = ctx.saved_tensors
        out = np.zeros(ctx.shape or (1,), grad.dtype)
        np.add.at(out, gathered_positions(picks, ctx.dim), grad.reshape(picks.shape))
        return out.reshape(ctx.shape), None, None

    @staticmethod
    def recorded_backward(ctx, grad):
        (picks,) = ctx.saved_tensors
        spread = Spread.apply(grad.reshape(picks.shape), gathered_positions(picks, ctx.dim),
                              ctx.shape or (1,))
        return spread.reshape(ctx.shape), None, None


class IndexSelect(Function):
    """``index_select(a, dim, index)``: the slices of ``a`` along ``dim`` at the entries of
    the vector ``index`` (a 0-d one counts as one entry), in its order, repeats allowed (their
    gradients add)."""

    @staticmethod
    def forward(ctx, a, dim, index):
        if index.ndim > 1:
            raise IndexError(f"index_select: the index must be a vector, not of shape "
                             f"{index.shape}")
        picks = index.reshape(-1)
        if not a.ndim and picks.size != 1:
            raise RuntimeError(f"index_select of a 0-d tensor takes one index, not {picks.size}")
        source = a if a.ndim else a.reshape(1)
        # (PyTorch's CPU kernel for dim 1 raises RuntimeError, the others IndexError)
        _check_index(picks, source.shape[dim], "index_select",
                     RuntimeError if dim == 1 else IndexError)
        ctx.save_for_backward(picks)
        ctx.shape, ctx.dim = a.shape, dim
        out = np.take(source, picks, axis=dim)
        return out.reshape(()) if not a.ndim else out

    @staticmethod
    def backward(ctx, grad):
        (picks,) = ctx.saved_tensors
        out = np.zeros(ctx.shape or (1,), grad.dtype)
        np.add.at(out, (slice(None),) * ctx.dim + (picks,), grad.reshape(
            out.shape[:ctx.dim] + picks.shape + out.shape[ctx.dim + 1:]))
        return out.reshape(ctx.shape), None, None

    @staticmethod
    def recorded_backward(ctx, grad):
        (picks,) = ctx.saved_tensors
        shape = ctx.shape or (1,)
        picked = grad.reshape(shape[:ctx.dim] + picks.shape + shape[ctx.dim + 1:])
        spread = Spread.apply(picked, (slice(None),) * ctx.dim + (picks,), shape)
        return spread.reshape(ctx.shape), None, None


def repeat_interleave(x: Tensor, repeats: Any, dim: int | None, output_size: int | None
                      ) -> Tensor:
    """Each entry (each slice along ``dim``; with no ``dim``, of the flattened tensor)
    ``repeats`` times in a row: an int, or a tensor of one count or one per slice."""
    if dim is None:
        x, d = x.reshape(-1), 0
    elif not x._data.ndim:
        raise IndexError("repeat_interleave of a 0-d tensor along a dim: it has none")
    else:
        d = normalize_dim(dim, x._data.ndim)
    length = x._data.shape[d]
    if isinstance(repeats, (Tensor, np.ndarray)):
        given = repeats._data if isinstance(repeats, Tensor) else repeats
        if given.dtype.kind not in "iu":
            raise NotImplementedError(f"repeat_interleave: the repeats must be integers, not "
                                      f"{given.dtype}")
        if given.ndim > 1:
            raise RuntimeError("repeat_interleave: the repeats must be a 0-d or 1-D tensor")
        if given.size != 1 and given.shape != (length,):
            raise RuntimeError(f"repeat_interleave: {given.size} repeats for {length} slices "
                               f"along dimension {d}")
        counts = given.reshape(-1) if given.size != 1 else given.reshape(())  # (one for all)
    else:
        counts = np.asarray(operator.index(repeats))
    if np.any(counts < 0):
        raise RuntimeError("repeat_interleave: the repeats cannot be negative")
    picks = np.repeat(np.arange(length), counts)
    if output_size is not None and output_size != len(picks):
        raise RuntimeError(f"repeat_interleave: output_size {output_size}, but the repeats "
                           f"make {len(picks)}")
    return IndexSelect.apply(x, d, picks)


# speed: the thresholds between np.add.at, a one-hot product and sorted sums
# (benchmarks/SPEED.md, "The embedding's gradient")
SCATTER_AT_MOST = 4096  # entries up to which np.add.at is the quickest way to add rows up
_ONE_HOT_AT_MOST = 1 << 22  # entries of a one-hot matrix worth a matrix product


def scatter_rows(index: np.ndarray, rows: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """out[index[i]] += rows[i] for every i, into a new array of ``shape`` (an embedding's
    gradient): a one-hot matrix product, or sums of the rows sorted by index. They exist for
    speed (benchmarks/SPEED.md, "The embedding's gradient") and add in another order than
    np.add.at: the rounding differs."""
    if shape[0] * len(index) <= _ONE_HOT_AT_MOST:
        one_hot = np.zeros((shape[0], len(index)), rows.dtype)
        one_hot[index, np.arange(len(index))] = 1
        return one_hot.dot(rows)
    order = np.argsort(index, kind="stable")
    sorted_index = index[order]
    starts = np.flatnonzero(np.r_[True, sorted_index[1:] != sorted_index[:-1]])
    out = np.zeros(shape, rows.dtype)
    out[sorted_index[starts]] = np.add.reduceat(rows[order], starts, axis=0)
    return out
