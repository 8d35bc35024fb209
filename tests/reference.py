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
from strategies import LaidOut, arrange_upstream, as_laid_out

from tensorgrad import Tensor, Value

RTOL = 1e-10
# float32 keeps about 7 digits; sums and chains of a few ops lose one or two of them.
FLOAT32_RTOL = 2e-4

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
    if axis is None or ndim == 0:  # a 0-d array has no dimension to reduce (dim 0 and -1 pass)
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    return tuple(sorted(int(a) % ndim for a in axes))


def v_sum(values: np.ndarray, axis=None, keepdims: bool = False) -> np.ndarray:
    values = as_value_array(values)
    if values.ndim == 0:
        return values
    axes = _axes(axis, values.ndim)
    # a sum of nothing is a Value of 0 (NumPy would give the int 0)
    start = {"initial": Value(0.0)} if any(values.shape[a] == 0 for a in axes) else {}
    return as_value_array(np.sum(values, axis=axes, keepdims=keepdims, **start))


def v_mean(values: np.ndarray, axis=None, keepdims: bool = False) -> np.ndarray:
    values = as_value_array(values)
    count = int(np.prod([values.shape[a] for a in _axes(axis, values.ndim)]))
    return as_value_array(v_sum(values, axis, keepdims) / count)


def _moved(values: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    """``values`` with the ``axes`` flattened into one last axis."""
    kept = [a for a in range(values.ndim) if a not in axes]
    return values.transpose(kept + list(axes)).reshape([values.shape[a] for a in kept] + [-1])


def _restore(out: np.ndarray, values: np.ndarray, axes, keepdims: bool) -> np.ndarray:
    if keepdims:
        out = out.reshape([1 if a in axes else n for a, n in enumerate(values.shape)])
    return as_value_array(out)


def v_max_along(values: np.ndarray, axis: int, keepdims: bool = False) -> np.ndarray:
    """``max(dim)``'s values: the first winning `Value` itself (it gets the gradient)."""
    values = as_value_array(values)
    axes = _axes(axis, values.ndim)
    moved = _moved(values, axes)
    winners = np.argmax(data_of(moved), axis=-1)[..., None]
    return _restore(np.take_along_axis(moved, winners, axis=-1)[..., 0], values, axes, keepdims)


def v_amax(values: np.ndarray, axis=None, keepdims: bool = False, sign: float = 1.0):
    """``amax`` (``amin`` with sign -1): the mean of the tied extremes, so that they share
    the gradient equally, as PyTorch's amax does."""
    values = as_value_array(values)
    axes = _axes(axis, values.ndim)
    moved = _moved(values, axes)
    numbers = sign * data_of(moved)
    out = np.empty(moved.shape[:-1], dtype=object)
    for index in np.ndindex(out.shape):
        row = numbers[index]
        tied = [moved[index][i] for i in np.flatnonzero(row == row.max())]
        out[index] = sum(tied[1:], tied[0]) * (1.0 / len(tied)) if len(tied) > 1 else tied[0]
    return _restore(out, values, axes, keepdims)


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
    finite = expected[np.isfinite(expected)]  # (an infinity must match exactly)
    scale = max(1.0, float(np.max(np.abs(finite)))) if finite.size else 1.0
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
    *inputs: np.ndarray | LaidOut,
    seed: int = 0,
    rtol: float | None = None,
    upstream: str = "C",
) -> Tensor:
    """Run ``tensor_fn`` on Tensors and ``value_fn`` on Value arrays made from the same
    ``inputs``; backpropagate sum(out * w) on both with the same random w (handed to
    backward() in the memory layout ``upstream``); check the forward values and the
    gradient of every input, and that each gradient has its leaf's shape and dtype.

    An input is a plain array (a C-ordered leaf; floats become float64) or a ``LaidOut``:
    the leaf is then ``inputs[i].leaf`` in its own dtype and order, and both functions get
    its view. The tolerance defaults to the inputs' dtype's. Returns the Tensor output."""
    laid = [x if isinstance(x, LaidOut) else as_laid_out(np.asarray(x, np.float64))
            for x in inputs]
    if rtol is None:
        rtol = FLOAT32_RTOL if any(x.dtype == np.float32 for x in laid) else RTOL
    leaves = [Tensor(x.leaf, requires_grad=True) for x in laid]
    for leaf, x in zip(leaves, laid):  # the constructor keeps C or Fortran order
        assert leaf.detach().numpy().flags.f_contiguous == x.leaf.flags.f_contiguous
    value_leaves = [to_values(x.leaf) for x in laid]

    out_t = tensor_fn(*(x.layout.view(t) for x, t in zip(laid, leaves)))
    out_v = as_value_array(value_fn(*(x.layout.view(v) for x, v in zip(laid, value_leaves))))
    assert isinstance(out_t, Tensor), f"expected a Tensor, got {type(out_t).__name__}"
    assert_close(out_t.data, data_of(out_v), "forward", rtol)

    weights = upstream_weights(out_t.shape, seed).astype(out_t.dtype)
    out_t.backward(arrange_upstream(weights, upstream))
    weighted_value_sum(out_v, weights).backward()

    for i, (t, v) in enumerate(zip(leaves, value_leaves)):
        expected = grad_of(v)
        got = np.zeros_like(expected) if t.grad is None and not expected.any() else t.grad
        assert got is not None, f"input {i} got no .grad"
        assert np.shape(got) == t.shape, f"input {i}: grad shape {np.shape(got)} != {t.shape}"
        assert t.grad is None or t.grad.dtype == t.dtype, f"input {i}: grad dtype {t.grad.dtype}"
        assert_close(got, expected, f"grad of input {i}", rtol)
    return out_t


# ---------------------------------------------------------------------------------------------
# Value versions of the fused functional ops (the shift by the max is a constant here: it
# changes nothing mathematically, and Value has no max)
# ---------------------------------------------------------------------------------------------


def _constant_max(values: np.ndarray, axis: int) -> np.ndarray:
    return data_of(values).max(axis=axis, keepdims=True)


def _one_entry_if_0d(function):
    """Along dim 0 or -1, a 0-d array counts as one entry (PyTorch's rule)."""

    def along(values: np.ndarray, axis: int = -1) -> np.ndarray:
        values = as_value_array(values)
        if values.ndim:
            return function(values, axis)
        return function(values.reshape(1), 0).reshape(())

    return along


@_one_entry_if_0d
def value_softmax(values: np.ndarray, axis: int = -1) -> np.ndarray:
    e = v_exp(values - _constant_max(values, axis))
    return e / v_sum(e, axis=axis, keepdims=True)


@_one_entry_if_0d
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
    shifted = x - x.amax(dim=axis, keepdim=True)
    e = shifted.exp()
    return e / e.sum(axis=axis, keepdims=True)


def composed_log_softmax(x: Tensor, axis: int = -1) -> Tensor:
    shifted = x - x.amax(dim=axis, keepdim=True)
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


def module_as_function(module, names: Sequence[str], forward: Callable):
    """``forward(module, *inputs)`` as a function of the inputs followed by the parameters
    ``names`` (dotted, as ``named_parameters`` gives them), for gradcheck, which calls it with
    copies of them (torch.func's idea); the module keeps its own parameters afterwards."""
    def fn(*tensors):
        inputs, params = tensors[:-len(names)], tensors[-len(names):]
        saved = {}
        for name, value in zip(names, params):
            owner, _, leaf = name.rpartition(".")
            table = module.get_submodule(owner)._parameters
            saved[name] = table[leaf]
            table[leaf] = value
        try:
            return forward(module, *inputs)
        finally:
            for name, value in saved.items():
                owner, _, leaf = name.rpartition(".")
                module.get_submodule(owner)._parameters[leaf] = value
    return fn
