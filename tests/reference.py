"""Reference machinery for the tests: the scalar `Value` engine as an oracle for `Tensor`.

An ndarray of floats becomes an object-dtype ndarray whose elements are `Value`s. NumPy
runs + - * / ** @, sums and indexing on such arrays element by element, so the same
expression can be written once in NumPy style and evaluated on both engines. Functions
NumPy cannot apply to objects (exp, log, relu, max) are provided here.

The second half holds the *composed* oracles for the fused functional ops: softmax,
log_softmax and cross_entropy written from Tensor primitives only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from tensorgrad import Tensor, Value

RTOL = 1e-10

# ---------------------------------------------------------------------------------------------
# Object arrays of Values
# ---------------------------------------------------------------------------------------------


def to_values(array: np.ndarray) -> np.ndarray:
    """A fresh leaf `Value` for every element of ``array``, in an array of the same shape."""
    array = np.asarray(array, dtype=np.float64)
    out = np.empty(array.shape, dtype=object)
    for index in np.ndindex(array.shape):
        out[index] = Value(float(array[index]))
    return out


def as_value_array(x: object) -> np.ndarray:
    """NumPy unwraps 0-d object results into a bare `Value`; wrap it back into a 0-d array."""
    if isinstance(x, np.ndarray):
        return x
    out = np.empty((), dtype=object)
    out[()] = x if isinstance(x, Value) else Value(float(x))
    return out


def data_of(values: np.ndarray) -> np.ndarray:
    values = as_value_array(values)
    return np.array([v.data for v in values.flat], dtype=np.float64).reshape(values.shape)


def grad_of(values: np.ndarray) -> np.ndarray:
    values = as_value_array(values)
    return np.array([v.grad for v in values.flat], dtype=np.float64).reshape(values.shape)


def elementwise(fn: Callable[[Value], Value], values: np.ndarray) -> np.ndarray:
    values = as_value_array(values)
    out = np.empty(values.shape, dtype=object)
    for index in np.ndindex(values.shape):
        out[index] = fn(values[index])
    return out


def v_exp(values: np.ndarray) -> np.ndarray:
    return elementwise(Value.exp, values)


def v_log(values: np.ndarray) -> np.ndarray:
    return elementwise(Value.log, values)


def v_relu(values: np.ndarray) -> np.ndarray:
    return elementwise(Value.relu, values)


def _axes(axis: int | Sequence[int] | None, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    return tuple(sorted(int(a) % ndim for a in axes))


def v_sum(values: np.ndarray, axis=None, keepdims: bool = False) -> np.ndarray:
    values = as_value_array(values)
    if values.ndim == 0:
        return values
    return as_value_array(np.sum(values, axis=_axes(axis, values.ndim), keepdims=keepdims))


def v_mean(values: np.ndarray, axis=None, keepdims: bool = False) -> np.ndarray:
    values = as_value_array(values)
    count = int(np.prod([values.shape[a] for a in _axes(axis, values.ndim)]))
    return as_value_array(v_sum(values, axis, keepdims) / count)


def v_max(values: np.ndarray, axis=None, keepdims: bool = False) -> np.ndarray:
    """The maximum along ``axis``: the winning `Value` itself (the first one on a tie)."""
    values = as_value_array(values)
    axes = _axes(axis, values.ndim)
    kept = [a for a in range(values.ndim) if a not in axes]
    moved = values.transpose(kept + list(axes)).reshape([values.shape[a] for a in kept] + [-1])
    winners = np.argmax(data_of(moved), axis=-1)[..., None]
    out = np.take_along_axis(moved, winners, axis=-1)[..., 0]
    if keepdims:
        out = out.reshape([1 if a in axes else n for a, n in enumerate(values.shape)])
    return as_value_array(out)


def v_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """np.matmul runs on object arrays in NumPy >= 2 (checked by a test); 0-d results wrapped."""
    return as_value_array(np.matmul(a, b))


# ---------------------------------------------------------------------------------------------
# Comparing the engines
# ---------------------------------------------------------------------------------------------


def assert_close(actual, expected, what: str = "", rtol: float = RTOL) -> None:
    """Equal within ``rtol`` relative to each element, with an absolute floor of ``rtol`` times
    the largest expected magnitude (so an element that cancels to ~0 is not held to 1e-10 of
    itself: the engines may sum in a different order)."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    scale = max(1.0, float(np.max(np.abs(expected)))) if expected.size else 1.0
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * scale, err_msg=what)


def upstream_weights(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    """Fixed, asymmetric upstream gradient: magnitudes in [0.5, 1.5], random signs."""
    rng = np.random.default_rng(seed)
    signs = rng.choice([-1.0, 1.0], size=shape)
    return signs * rng.uniform(0.5, 1.5, size=shape)


def weighted_value_sum(values: np.ndarray, weights: np.ndarray) -> Value:
    total = Value(0.0)
    for v, w in zip(as_value_array(values).flat, np.asarray(weights).flat):
        total = total + v * float(w)
    return total


def check_against_values(
    tensor_fn: Callable[..., Tensor],
    value_fn: Callable[..., np.ndarray],
    *inputs: np.ndarray,
    seed: int = 0,
    rtol: float = RTOL,
) -> Tensor:
    """Run ``tensor_fn`` on Tensors and ``value_fn`` on Value arrays made from the same
    ``inputs``; backpropagate sum(out * w) on both with the same random w; check the
    forward values and the gradient of every input. Returns the Tensor output."""
    tensors = [Tensor(np.array(x, dtype=np.float64), requires_grad=True) for x in inputs]
    values = [to_values(x) for x in inputs]

    out_t = tensor_fn(*tensors)
    out_v = as_value_array(value_fn(*values))
    assert isinstance(out_t, Tensor), f"expected a Tensor, got {type(out_t).__name__}"
    assert_close(out_t.data, data_of(out_v), "forward", rtol)

    weights = upstream_weights(out_t.shape, seed)
    out_t.backward(weights)
    weighted_value_sum(out_v, weights).backward()

    for i, (t, v) in enumerate(zip(tensors, values)):
        expected = grad_of(v)
        got = np.zeros_like(expected) if t.grad is None and not expected.any() else t.grad
        assert got is not None, f"input {i} got no .grad"
        assert np.shape(got) == t.shape, f"input {i}: grad shape {np.shape(got)} != {t.shape}"
        assert_close(got, expected, f"grad of input {i}", rtol)
    return out_t


# ---------------------------------------------------------------------------------------------
# Value versions of the fused functional ops (the shift by the max is a constant here: it
# changes nothing mathematically, and Value has no max)
# ---------------------------------------------------------------------------------------------


def _constant_max(values: np.ndarray, axis: int) -> np.ndarray:
    return data_of(values).max(axis=axis, keepdims=True)


def value_softmax(values: np.ndarray, axis: int = -1) -> np.ndarray:
    e = v_exp(values - _constant_max(values, axis))
    return e / v_sum(e, axis=axis, keepdims=True)


def value_log_softmax(values: np.ndarray, axis: int = -1) -> np.ndarray:
    shifted = values - _constant_max(values, axis)
    return shifted - v_log(v_sum(v_exp(shifted), axis=axis, keepdims=True))


def value_cross_entropy(logits: np.ndarray, targets: np.ndarray, reduction: str = "mean"):
    targets = np.asarray(targets)
    logp = value_log_softmax(logits, axis=-1)
    picked = np.take_along_axis(logp, targets[..., None].astype(np.intp), axis=-1)[..., 0]
    losses = as_value_array(-picked)
    if reduction == "none":
        return losses
    if reduction == "sum":
        return v_sum(losses)
    return v_mean(losses)


# ---------------------------------------------------------------------------------------------
# Composed oracles: the fused functional ops rebuilt from Tensor primitives
# ---------------------------------------------------------------------------------------------


def composed_softmax(x: Tensor, axis: int = -1) -> Tensor:
    shifted = x - x.max(axis=axis, keepdims=True)
    e = shifted.exp()
    return e / e.sum(axis=axis, keepdims=True)


def composed_log_softmax(x: Tensor, axis: int = -1) -> Tensor:
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - shifted.exp().sum(axis=axis, keepdims=True).log()


def composed_cross_entropy(logits: Tensor, targets: np.ndarray, reduction: str = "mean") -> Tensor:
    targets = np.asarray(targets)
    num_classes = logits.shape[-1]
    logp = composed_log_softmax(logits.reshape(-1, num_classes), axis=-1)
    rows = np.arange(targets.size)
    losses = -logp[rows, targets.reshape(-1)]
    if reduction == "none":
        return losses.reshape(*targets.shape)
    if reduction == "sum":
        return losses.sum()
    return losses.mean()


# The four broadcasting arithmetic ops, by name, for tests that run each of them.
BINARY_OPS = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
}
