"""Every Tensor primitive against the scalar Value engine, on Hypothesis-generated shapes/data.

Each test computes one expression twice: on Tensors, and on object arrays of `Value`s
(see tests/reference.py), then checks the forward values and the gradient of every input
within 1e-10 relative, backpropagating sum(out * w) for a fixed random w.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from reference import (
    BINARY_OPS,
    as_value_array,
    check_against_values,
    data_of,
    to_values,
    v_exp,
    v_log,
    v_matmul,
    v_max,
    v_mean,
    v_relu,
    v_sum,
)

import tensorgrad
from tensorgrad import Tensor

# ---- strategies ---------------------------------------------------------------------------------

MAX_DIMS = 4
MAX_SIDE = 3


def floats(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False, allow_subnormal=False)


ANY = floats(-3.0, 3.0)
POSITIVE = floats(0.1, 5.0)
AWAY_FROM_ZERO = st.one_of(floats(0.5, 3.0), floats(-3.0, -0.5))

shapes = hnp.array_shapes(min_dims=0, max_dims=MAX_DIMS, min_side=1, max_side=MAX_SIDE)
nonscalar_shapes = hnp.array_shapes(min_dims=1, max_dims=MAX_DIMS, min_side=1, max_side=MAX_SIDE)
broadcast_pairs = hnp.mutually_broadcastable_shapes(
    num_shapes=2, min_dims=0, max_dims=MAX_DIMS, min_side=1, max_side=MAX_SIDE
)


def arrays(shape, elements=ANY, unique: bool = False):
    return hnp.arrays(np.float64, shape, elements=elements, unique=unique)


@st.composite
def axis_for(draw, ndim: int):
    """None, a non-negative int, a negative int, or a tuple of distinct axes (any signs)."""
    if ndim == 0:
        return None
    return draw(
        st.one_of(
            st.none(),
            st.integers(0, ndim - 1),
            st.integers(-ndim, -1),
            hnp.valid_tuple_axes(ndim, min_size=1),
        )
    )


# ---- elementwise binary ops with broadcasting ---------------------------------------------------

@pytest.mark.parametrize("name", list(BINARY_OPS))
@given(data=st.data())
def test_binary_op_with_broadcasting_matches_values(name, data):
    shape_a, shape_b = data.draw(broadcast_pairs, label="shapes").input_shapes
    a = data.draw(arrays(shape_a), label="a")
    b = data.draw(arrays(shape_b, AWAY_FROM_ZERO if name == "div" else ANY), label="b")
    op = BINARY_OPS[name]
    out = check_against_values(op, op, a, b)
    assert out.shape == np.broadcast_shapes(shape_a, shape_b)


@pytest.mark.parametrize("name", list(BINARY_OPS))
@given(data=st.data())
def test_binary_op_of_tensor_with_itself_accumulates(name, data):
    a = data.draw(arrays(data.draw(shapes), AWAY_FROM_ZERO), label="a")
    op = BINARY_OPS[name]
    wrapped = as_value_array  # keeps 0-d Value results arrays, so they mix with arrays
    check_against_values(lambda x: op(op(x, x), x), lambda x: op(wrapped(op(x, x)), x), a)


NUMBERS = [2.5, -1.5, 3, np.float64(0.75)]


@pytest.mark.parametrize("number", NUMBERS, ids=repr)
@pytest.mark.parametrize("name", list(BINARY_OPS))
@given(data=st.data())
def test_number_on_either_side_matches_values(name, number, data):
    a = data.draw(arrays(data.draw(shapes), AWAY_FROM_ZERO), label="a")
    op = BINARY_OPS[name]
    out = check_against_values(lambda x: op(x, number), lambda x: op(x, float(number)), a)
    assert isinstance(out, Tensor)
    out = check_against_values(lambda x: op(number, x), lambda x: op(float(number), x), a)
    assert isinstance(out, Tensor)


@pytest.mark.parametrize("name", list(BINARY_OPS))
@given(data=st.data())
def test_ndarray_constant_on_either_side_matches_values(name, data):
    shape_t, shape_c = data.draw(broadcast_pairs, label="shapes").input_shapes
    a = data.draw(arrays(shape_t, AWAY_FROM_ZERO), label="a")
    c = data.draw(arrays(shape_c, AWAY_FROM_ZERO), label="constant")
    op = BINARY_OPS[name]
    right = check_against_values(lambda x: op(x, c), lambda x: op(x, c), a)
    left = check_against_values(lambda x: op(c, x), lambda x: op(c, x), a)
    assert isinstance(right, Tensor) and isinstance(left, Tensor)


# ---- unary elementwise ops ----------------------------------------------------------------------


@given(data=st.data())
def test_neg_matches_values(data):
    a = data.draw(arrays(data.draw(shapes)))
    check_against_values(lambda x: -x, lambda x: as_value_array(-x), a)


@pytest.mark.parametrize("exponent", [2, 3, 0.5, 1.5, -1, -2, -0.5, -1.5, 0])
@given(data=st.data())
def test_pow_on_positive_data_matches_values(exponent, data):
    a = data.draw(arrays(data.draw(shapes), POSITIVE))
    check_against_values(lambda x: x**exponent, lambda x: as_value_array(x**exponent), a)


@pytest.mark.parametrize("exponent", [1, 2, 3, 2.0])
@given(data=st.data())
def test_integer_pow_on_any_sign_matches_values(exponent, data):
    a = data.draw(arrays(data.draw(shapes)))
    check_against_values(lambda x: x**exponent, lambda x: as_value_array(x**exponent), a)


@given(data=st.data())
def test_exp_matches_values(data):
    a = data.draw(arrays(data.draw(shapes)))
    check_against_values(lambda x: x.exp(), v_exp, a)


@given(data=st.data())
def test_log_on_positive_data_matches_values(data):
    a = data.draw(arrays(data.draw(shapes), POSITIVE))
    check_against_values(lambda x: x.log(), v_log, a)


@given(data=st.data())
def test_relu_away_from_kink_matches_values(data):
    a = data.draw(arrays(data.draw(shapes), AWAY_FROM_ZERO))
    out = check_against_values(lambda x: x.relu(), v_relu, a)
    assert (out.data >= 0).all()


def test_relu_of_mixed_signs_passes_gradient_only_where_positive():
    x = Tensor([-2.0, -0.5, 0.5, 3.0], requires_grad=True)
    x.relu().backward(np.array([1.0, 2.0, 3.0, 4.0]))
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 3.0, 4.0])


# ---- matmul -------------------------------------------------------------------------------------


def test_object_dtype_matmul_agrees_with_explicit_loops():
    """The oracle relies on np.matmul supporting object arrays of Values: check it."""
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(2, 3, 4)), rng.normal(size=(4, 2))
    looped = np.empty((2, 3, 2))
    for i, j, k in np.ndindex(looped.shape):
        looped[i, j, k] = sum(a[i, j, r] * b[r, k] for r in range(4))
    np.testing.assert_allclose(data_of(v_matmul(to_values(a), to_values(b))), looped, rtol=1e-13)


@st.composite
def matmul_operand_shapes(draw, kind: str):
    n, k, m = (draw(st.integers(1, MAX_SIDE), label=name) for name in "nkm")
    if kind == "vec@vec":
        return (k,), (k,)
    if kind == "vec@mat":
        return (k,), (k, m)
    if kind == "mat@vec":
        return (n, k), (k,)
    if kind == "mat@mat":
        return (n, k), (k, m)
    batch_a, batch_b = draw(
        hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=2, max_side=MAX_SIDE)
    ).input_shapes
    if kind == "batched":
        return (*batch_a, n, k), (*batch_b, k, m)
    if kind == "vec@batched":
        return (k,), (*batch_b, k, m)
    assert kind == "batched@vec"
    return (*batch_a, n, k), (k,)


MATMUL_KINDS = ["vec@vec", "vec@mat", "mat@vec", "mat@mat", "batched", "vec@batched", "batched@vec"]


@pytest.mark.parametrize("kind", MATMUL_KINDS)
@given(data=st.data())
def test_matmul_matches_values(kind, data):
    shape_a, shape_b = data.draw(matmul_operand_shapes(kind), label="shapes")
    a, b = data.draw(arrays(shape_a), label="a"), data.draw(arrays(shape_b), label="b")
    out = check_against_values(lambda x, y: x @ y, v_matmul, a, b)
    assert out.shape == np.matmul(a, b).shape


@given(data=st.data())
def test_matmul_with_ndarray_on_either_side_matches_values(data):
    shape_a, shape_b = data.draw(matmul_operand_shapes("batched"), label="shapes")
    a, b = data.draw(arrays(shape_a), label="a"), data.draw(arrays(shape_b), label="b")
    check_against_values(lambda x: x @ b, lambda x: v_matmul(x, b), a)
    check_against_values(lambda y: a @ y, lambda y: v_matmul(a, y), b)


@given(data=st.data())
def test_matmul_of_a_matrix_with_its_own_transpose_accumulates(data):
    a = data.draw(arrays(data.draw(hnp.array_shapes(min_dims=2, max_dims=2, max_side=MAX_SIDE))))
    check_against_values(lambda x: x @ x.T, lambda x: v_matmul(x, x.T), a)


# ---- reductions ---------------------------------------------------------------------------------


SUM_AND_MEAN = {"sum": (np.sum, v_sum), "mean": (np.mean, v_mean)}


@pytest.mark.parametrize("name", list(SUM_AND_MEAN))
@pytest.mark.parametrize("keepdims", [False, True])
@given(data=st.data())
def test_sum_and_mean_match_values(name, keepdims, data):
    numpy_reduction, value_reduction = SUM_AND_MEAN[name]
    shape = data.draw(shapes, label="shape")
    axis = data.draw(axis_for(len(shape)), label="axis")
    a = data.draw(arrays(shape), label="a")
    out = check_against_values(
        lambda x: getattr(x, name)(axis=axis, keepdims=keepdims),
        lambda x: value_reduction(x, axis, keepdims),
        a,
    )
    assert out.shape == numpy_reduction(a, axis=axis, keepdims=keepdims).shape


@pytest.mark.parametrize("keepdims", [False, True])
@given(data=st.data())
def test_max_with_distinct_values_matches_values(keepdims, data):
    shape = data.draw(shapes, label="shape")
    axis = data.draw(axis_for(len(shape)), label="axis")
    a = data.draw(arrays(shape, unique=True), label="a")
    out = check_against_values(
        lambda x: x.max(axis=axis, keepdims=keepdims), lambda x: v_max(x, axis, keepdims), a
    )
    np.testing.assert_array_equal(out.data, np.max(a, axis=axis, keepdims=keepdims))


def test_max_sends_gradient_to_first_argmax_on_ties():
    x = Tensor([[1.0, 3.0, 3.0, 2.0], [5.0, 5.0, 5.0, 0.0]], requires_grad=True)
    x.max(axis=1).backward(np.array([2.0, 7.0]))
    np.testing.assert_array_equal(x.grad, [[0, 2, 0, 0], [7, 0, 0, 0]])


def test_reductions_of_a_reused_tensor_accumulate():
    a = np.arange(12.0).reshape(3, 4) / 7
    check_against_values(
        lambda x: x.sum(axis=0) * x.max(axis=0) + x.mean(axis=0),
        lambda x: v_sum(x, 0) * v_max(x, 0) + v_mean(x, 0),
        a,
    )


# ---- shape ops ----------------------------------------------------------------------------------


@st.composite
def reshape_target(draw, shape: tuple[int, ...]):
    """A different shape with the same number of elements, possibly using -1."""
    size = int(np.prod(shape, dtype=int))
    dims = [d for d in draw(st.permutations(list(shape))) if d != 1]
    if len(dims) >= 2 and draw(st.booleans(), label="merge two dims"):
        dims = [dims[0] * dims[1], *dims[2:]]
    for _ in range(draw(st.integers(0, 2), label="ones inserted")):
        dims.insert(draw(st.integers(0, len(dims))), 1)
    if dims and draw(st.booleans(), label="use -1"):
        dims[draw(st.integers(0, len(dims) - 1))] = -1
    assert int(np.prod(dims)) == size or -1 in dims
    return tuple(dims)


@given(data=st.data())
def test_reshape_matches_values(data):
    shape = data.draw(shapes, label="shape")
    target = data.draw(reshape_target(shape), label="target")
    a = data.draw(arrays(shape), label="a")
    out = check_against_values(lambda x: x.reshape(*target), lambda x: x.reshape(target), a)
    assert out.shape == a.reshape(target).shape


@given(data=st.data())
def test_transpose_with_random_permutation_matches_values(data):
    shape = data.draw(nonscalar_shapes, label="shape")
    ndim = len(shape)
    perm = data.draw(st.permutations(range(ndim)), label="perm")
    signs = data.draw(st.lists(st.booleans(), min_size=ndim, max_size=ndim), label="negative")
    axes = tuple(p - ndim if negative else p for p, negative in zip(perm, signs))
    a = data.draw(arrays(shape), label="a")
    out = check_against_values(lambda x: x.transpose(*axes), lambda x: x.transpose(axes), a)
    assert out.shape == a.transpose(axes).shape


@given(data=st.data())
def test_transpose_without_axes_and_T_reverse_dims(data):
    a = data.draw(arrays(data.draw(nonscalar_shapes)))
    out = check_against_values(lambda x: x.transpose(), lambda x: x.transpose(), a)
    assert out.shape == a.shape[::-1]
    out = check_against_values(lambda x: x.T, lambda x: x.T, a)
    assert out.shape == a.shape[::-1]


# ---- indexing -----------------------------------------------------------------------------------


def int_index_arrays(size: int, max_dims: int = 2):
    """Integer index arrays into an axis of ``size``: repeats and negative indices included."""
    return hnp.arrays(
        np.intp,
        hnp.array_shapes(min_dims=1, max_dims=max_dims, min_side=1, max_side=5),
        elements=st.integers(-size, size - 1),
    )


@given(data=st.data())
def test_integer_array_index_with_repeats_scatter_adds(data):
    shape = data.draw(nonscalar_shapes, label="shape")
    index = data.draw(int_index_arrays(shape[0]), label="index")
    a = data.draw(arrays(shape), label="a")
    out = check_against_values(lambda x: x[index], lambda x: x[index], a)
    assert out.shape == a[index].shape


def test_repeated_index_gradient_counts_every_use():
    x = Tensor([10.0, 20.0, 30.0], requires_grad=True)
    x[np.array([2, 0, 2, 2])].backward(np.array([1.0, 2.0, 3.0, 4.0]))
    np.testing.assert_array_equal(x.grad, [2.0, 0.0, 8.0])


@given(data=st.data())
def test_integer_arrays_on_two_axes_scatter_add(data):
    shape = data.draw(hnp.array_shapes(min_dims=2, max_dims=3, min_side=1, max_side=MAX_SIDE))
    rows = data.draw(int_index_arrays(shape[0], max_dims=1), label="rows")
    cols = data.draw(
        hnp.arrays(np.intp, rows.shape, elements=st.integers(-shape[1], shape[1] - 1)), label="cols"
    )
    a = data.draw(arrays(shape), label="a")
    check_against_values(lambda x: x[rows, cols], lambda x: x[rows, cols], a)


@given(data=st.data())
def test_slice_and_integer_array_mixed_index_scatter_adds(data):
    shape = data.draw(hnp.array_shapes(min_dims=2, max_dims=3, min_side=1, max_side=MAX_SIDE))
    index = (data.draw(st.slices(shape[0]), label="slice"), data.draw(int_index_arrays(shape[1])))
    a = data.draw(arrays(shape), label="a")
    check_against_values(lambda x: x[index], lambda x: x[index], a)


@st.composite
def basic_indices(draw, shape: tuple[int, ...]):
    """A tuple of ints (possibly negative) and slices, one per leading axis, maybe an Ellipsis."""
    count = draw(st.integers(1, len(shape)))
    parts = []
    for size in shape[:count]:
        if draw(st.booleans()):
            parts.append(draw(st.integers(-size, size - 1)))
        else:
            parts.append(draw(st.slices(size)))
    if count < len(shape) and draw(st.booleans()):
        parts.append(Ellipsis)
    return tuple(parts)


@given(data=st.data())
def test_basic_index_with_ints_and_slices_matches_values(data):
    shape = data.draw(nonscalar_shapes, label="shape")
    index = data.draw(basic_indices(shape), label="index")
    a = data.draw(arrays(shape), label="a")
    out = check_against_values(lambda x: x[index], lambda x: as_value_array(x[index]), a)
    assert out.shape == a[index].shape


def test_single_int_and_last_element_index_match_values():
    a = np.arange(6.0).reshape(2, 3) - 2.5
    for index in [
        0,
        -1,
        (1, 2),
        (-1, -3),
        (slice(None), 1),
        (Ellipsis, 0),
        (slice(None, None, -1),),
    ]:
        check_against_values(lambda x, i=index: x[i], lambda x, i=index: as_value_array(x[i]), a)


# ---- masking ------------------------------------------------------------------------------------


@st.composite
def mask_shape_for(draw, shape: tuple[int, ...]):
    """A shape that broadcasts to ``shape`` without growing it: a suffix, some dims set to 1."""
    suffix = shape[len(shape) - draw(st.integers(0, len(shape))) :]
    return tuple(1 if draw(st.booleans()) else d for d in suffix)


@given(data=st.data())
def test_masked_fill_matches_values(data):
    shape = data.draw(shapes, label="shape")
    mask = data.draw(hnp.arrays(np.bool_, data.draw(mask_shape_for(shape))), label="mask")
    fill = data.draw(floats(-5.0, 5.0), label="fill")
    a = data.draw(arrays(shape), label="a")
    out = check_against_values(
        lambda x: x.masked_fill(mask, fill),
        lambda x: as_value_array(np.where(mask, tensorgrad.Value(fill), x)),
        a,
    )
    assert out.shape == a.shape


@given(data=st.data())
def test_where_with_broadcasting_matches_values(data):
    shape_m, shape_a, shape_b = data.draw(
        hnp.mutually_broadcastable_shapes(
            num_shapes=3, min_dims=0, max_dims=MAX_DIMS, min_side=1, max_side=MAX_SIDE
        ),
        label="shapes",
    ).input_shapes
    mask = data.draw(hnp.arrays(np.bool_, shape_m), label="mask")
    a, b = data.draw(arrays(shape_a), label="a"), data.draw(arrays(shape_b), label="b")
    check_against_values(
        lambda x, y: tensorgrad.where(mask, x, y),
        lambda x, y: as_value_array(np.where(mask, x, y)),
        a,
        b,
    )


@given(data=st.data())
def test_where_with_a_number_branch_matches_values(data):
    shape = data.draw(shapes, label="shape")
    mask = data.draw(hnp.arrays(np.bool_, shape), label="mask")
    a = data.draw(arrays(shape), label="a")
    check_against_values(
        lambda x: tensorgrad.where(mask, x, -1.5) + tensorgrad.where(mask, 2.0, x * 3),
        lambda x: as_value_array(
            np.where(mask, x, tensorgrad.Value(-1.5)) + np.where(mask, tensorgrad.Value(2.0), x * 3)
        ),
        a,
    )


# ---- random programs that reuse tensors ---------------------------------------------------------
# Every op keeps values bounded (so no program overflows) and keeps the (n, n) shape, so any
# result can feed any later op. Each entry: (arity, op); the op is written once and runs on
# both engines, using `E` for the engine-specific functions.


class _TensorFns:
    exp = staticmethod(lambda x: x.exp())
    log = staticmethod(lambda x: x.log())
    relu = staticmethod(lambda x: x.relu())
    sum = staticmethod(lambda x, axis: x.sum(axis=axis, keepdims=True))
    mean = staticmethod(lambda x, axis: x.mean(axis=axis, keepdims=True))
    max = staticmethod(lambda x, axis: x.max(axis=axis, keepdims=True))
    matmul = staticmethod(lambda x, y: x @ y)
    where = staticmethod(lambda mask, x, y: tensorgrad.where(mask, x, y))
    data = staticmethod(lambda x: x.data)


class _ValueFns:
    exp = staticmethod(v_exp)
    log = staticmethod(v_log)
    relu = staticmethod(v_relu)
    sum = staticmethod(lambda x, axis: v_sum(x, axis, keepdims=True))
    mean = staticmethod(lambda x, axis: v_mean(x, axis, keepdims=True))
    max = staticmethod(lambda x, axis: v_max(x, axis, keepdims=True))
    matmul = staticmethod(v_matmul)
    where = staticmethod(lambda mask, x, y: np.where(mask, x, y))
    data = staticmethod(data_of)


def _squash(E, x):  # noqa: N803 (E: the engine's function table)
    return x / (x * x + 1.0)  # |.| <= 1/2


PROGRAM_OPS = {
    "neg": (1, lambda E, a: -a),
    "relu": (1, lambda E, a: E.relu(a)),
    "gauss": (1, lambda E, a: E.exp(-(a * a))),
    "log1p_sq": (1, lambda E, a: E.log(a * a + 1.0)),
    "rsqrt": (1, lambda E, a: (a * a + 1.0) ** -0.5),
    "sqrt": (1, lambda E, a: (a * a + 1.0) ** 0.5),
    "reciprocal": (1, lambda E, a: 1.0 / (a * a + 1.0)),
    "rsub": (1, lambda E, a: 1.5 - a),
    "transpose": (1, lambda E, a: a.T),
    "row_sum": (1, lambda E, a: a + E.sum(a, 1) * 0.5),
    "center": (1, lambda E, a: a - E.mean(a, 0)),
    "minus_row_max": (1, lambda E, a: a - E.max(a, 1)),
    "gather_rows": (1, lambda E, a: a[np.arange(a.shape[0]) // 2]),
    "add": (2, lambda E, a, b: a + b),
    "sub": (2, lambda E, a, b: a - b),
    "mul": (2, lambda E, a, b: a * _squash(E, b)),
    "div": (2, lambda E, a, b: a / (b * b + 1.0)),
    "matmul": (2, lambda E, a, b: E.matmul(a, _squash(E, b)) * (1.0 / a.shape[0])),
    "row_broadcast": (2, lambda E, a, b: a * _squash(E, b[0])),
    "col_broadcast": (2, lambda E, a, b: a - b[:, :1]),
    "where_greater": (2, lambda E, a, b: E.where(E.data(a) > E.data(b), a, b * 0.5)),
}


@st.composite
def programs(draw):
    """A list of (op name, operand positions) over a growing pool of earlier results."""
    steps = []
    pool_size = 3  # the inputs
    for _ in range(draw(st.integers(3, 8), label="length")):
        name = draw(st.sampled_from(sorted(PROGRAM_OPS)))
        arity = PROGRAM_OPS[name][0]
        operands = tuple(draw(st.integers(0, pool_size - 1)) for _ in range(arity))
        steps.append((name, operands))
        pool_size += 1
    return steps


def run_program(steps, E, *inputs):  # noqa: N803
    pool = list(inputs)
    for name, operands in steps:
        pool.append(PROGRAM_OPS[name][1](E, *(pool[i] for i in operands)))
    out = pool[-1]
    for extra in pool[3:-1]:  # every intermediate result also reaches the output
        out = out + extra * 0.25
    return out


# Programs are the broadest search here: give them several times the profile's budget.
@settings(max_examples=4 * settings.default.max_examples)
@given(data=st.data())
def test_random_programs_reusing_tensors_match_values(data):
    n = data.draw(st.integers(1, MAX_SIDE), label="n")
    steps = data.draw(programs(), label="program")
    inputs = [data.draw(arrays((n, n), floats(-2.0, 2.0), unique=True)) for _ in range(3)]
    check_against_values(
        lambda *xs: run_program(steps, _TensorFns, *xs),
        lambda *xs: as_value_array(run_program(steps, _ValueFns, *xs)),
        *inputs,
    )


# ---- Tensor semantics ---------------------------------------------------------------------------


def test_constructor_defaults_to_float64_and_keeps_float32_arrays():
    assert Tensor([1, 2, 3]).dtype == np.float64
    assert Tensor(np.arange(3)).dtype == np.float64
    assert Tensor(2.5).shape == ()
    assert Tensor(np.ones(2, np.float32)).dtype == np.float32
    assert Tensor(np.ones(2, np.float32), dtype=np.float64).dtype == np.float64
    assert Tensor([1.0], dtype=np.float32).dtype == np.float32


def test_backward_accumulates_into_grad_across_fresh_graphs():
    x = Tensor([1.0, -2.0, 3.0], requires_grad=True)
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad, 2 * x.data)
    (x * 3.0).sum().backward()
    np.testing.assert_array_equal(x.grad, 2 * x.data + 3.0)


def test_backward_on_a_fresh_graph_after_zero_grad_gives_the_same_grads():
    rng = np.random.default_rng(0)
    w = Tensor(rng.normal(size=(3, 4)), requires_grad=True)
    b = Tensor(rng.normal(size=(4,)), requires_grad=True)
    x = rng.normal(size=(5, 3))

    def loss():
        return ((x @ w + b).relu() ** 2).mean()

    loss().backward()
    first = w.grad.copy(), b.grad.copy()
    w.zero_grad()
    b.zero_grad()
    assert w.grad is None or not w.grad.any()
    loss().backward()
    np.testing.assert_array_equal(w.grad, first[0])
    np.testing.assert_array_equal(b.grad, first[1])


@pytest.mark.parametrize("bias_shape", [(), (1,), (4,), (1, 4), (3, 1), (2, 1, 4)])
def test_grad_has_the_shape_of_its_broadcast_parameter(bias_shape):
    x = Tensor(np.ones((3, 4)), requires_grad=True)
    bias = Tensor(np.full(bias_shape, 0.5), requires_grad=True)
    out = x * bias + bias
    out.sum().backward()
    assert bias.grad.shape == bias_shape
    assert x.grad.shape == (3, 4)
    uses_per_element = out.data.size / bias.data.size  # once in the product, once in the sum
    np.testing.assert_allclose(bias.grad, np.full(bias_shape, 2 * uses_per_element))


def test_leaf_grads_are_independent_writable_arrays():
    """Several leaves fed by one upstream array must not share it (nor the caller's array):
    changing one .grad in place must not change another."""
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = Tensor([3.0, 4.0], requires_grad=True)
    s = Tensor([[5.0, 6.0]], requires_grad=True)
    upstream = np.array([1.0, 2.0])
    (x + y + s.reshape(2) + x.T * 0.0).backward(upstream)
    grads = [x.grad, y.grad, s.grad]
    for i, g in enumerate(grads):
        assert g.flags.writeable
        assert not np.shares_memory(g, upstream)
        for other in grads[i + 1 :]:
            assert not np.shares_memory(g, other)
    x.grad += 100.0
    np.testing.assert_array_equal(y.grad, [1.0, 2.0])
    np.testing.assert_array_equal(s.grad, [[1.0, 2.0]])
    np.testing.assert_array_equal(upstream, [1.0, 2.0])


def test_backward_of_a_leaf_itself_copies_the_given_grad():
    x = Tensor([1.0, 2.0], requires_grad=True)
    upstream = np.array([0.5, -0.5])
    x.backward(upstream)
    x.grad *= 2
    np.testing.assert_array_equal(upstream, [0.5, -0.5])


def test_only_leaves_that_require_grad_get_grad():
    x = Tensor([1.0, 2.0], requires_grad=True)
    constant = Tensor([3.0, 4.0])
    hidden = x * constant
    (hidden * hidden).sum().backward()
    assert constant.grad is None
    assert hidden.grad is None
    np.testing.assert_array_equal(x.grad, 2 * x.data * constant.data**2)


def test_a_backward_pass_that_raises_leaves_no_gradient_on_intermediate_results():
    """While a result waits to be visited its summed gradient sits in its .grad: an error
    on the way must not leave it there for the next backward() to add in."""
    x = Tensor([1.0, 2.0], requires_grad=True)
    doubled = x * 2.0
    exped = doubled.exp()
    loss = (doubled + exped).sum()  # visits: the sum, the +, exped, then doubled

    def failing(saved, g):
        raise ArithmeticError("in exp's backward")

    exped._backward = failing  # doubled's gradient from the + is waiting at this point
    with pytest.raises(ArithmeticError):
        loss.backward()
    assert doubled.grad is None and exped.grad is None and x.grad is None
    # A new graph over the same leaf is unaffected.
    (x * 2.0).sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, 2.0])


def test_no_grad_records_no_graph_and_restores_recording_afterwards():
    x = Tensor([1.0, 2.0], requires_grad=True)
    with tensorgrad.no_grad():
        y = (x * 2.0).exp().sum()
        assert not y.requires_grad
        with tensorgrad.no_grad():
            assert not (x + 1).requires_grad
        assert not (x + 1).requires_grad  # the inner block did not switch recording back on
    assert (x * 2.0).requires_grad
    with pytest.raises(KeyError), tensorgrad.no_grad():
        raise KeyError("an error inside the block")
    assert (x * 2.0).requires_grad


def test_detach_cuts_the_graph_but_keeps_the_values():
    x = Tensor([1.0, -2.0, 3.0], requires_grad=True)
    d = x.detach()
    assert not d.requires_grad
    np.testing.assert_array_equal(d.data, x.data)
    (x * x.detach()).sum().backward()
    np.testing.assert_array_equal(x.grad, x.data)  # not 2x: the detached factor is a constant


FLOAT32_EXPRESSIONS = {
    "arithmetic": lambda x: ((x + 1) * 2 - x / 3) ** 2,
    "reflected": lambda x: 1 - 2 * x + 3 / (x * x + 1),
    "exp_log_relu": lambda x: (x * x + 1).log() + x.exp() + x.relu(),
    "reductions": lambda x: x.sum(axis=0) + x.mean(axis=1, keepdims=True) + x.max(axis=0),
    "matmul": lambda x: x @ x.T,
    "shape": lambda x: x.reshape(-1)[np.array([0, 0, 5])] + x.transpose(1, 0)[1, 1] + x.T[:, 0][0],
    "masking": lambda x: x.masked_fill(x.data > 0, 0.5) + tensorgrad.where(x.data < 0, x, 2.0),
    "functional": lambda x: functional_float32_expression(x),
}


def functional_float32_expression(x):
    import tensorgrad.functional as F

    return F.softmax(x) + F.log_softmax(x, axis=0) + F.cross_entropy(x, np.array([0, 2]))


@pytest.mark.parametrize("name", list(FLOAT32_EXPRESSIONS))
def test_float32_stays_float32_through_ops_and_grads(name):
    x = Tensor(
        np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]], dtype=np.float32), requires_grad=True
    )
    out = FLOAT32_EXPRESSIONS[name](x)
    assert out.dtype == np.float32
    out.sum().backward()
    assert x.grad.dtype == np.float32
    assert x.grad.shape == x.shape


@pytest.mark.parametrize("number", [np.float64(0.5), np.sqrt(4.0)], ids=["float64", "np.sqrt"])
def test_float32_stays_float32_with_a_numpy_float64_scalar(number):
    x = Tensor(np.ones(3, np.float32), requires_grad=True)
    for out in (x * number, number * x, x / number, x + number, number - x):
        assert out.dtype == np.float32


def test_backward_with_an_explicit_grad_on_a_non_scalar():
    x = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    (x * x).backward(np.array([[1.0, 0.0], [0.5, 2.0]]))
    np.testing.assert_array_equal(x.grad, [[2.0, 0.0], [3.0, 16.0]])


def test_deep_tensor_chain_backpropagates_without_recursion_error():
    x = Tensor([0.5, 1.5], requires_grad=True)
    y = x
    for _ in range(5000):
        y = y * 1.0 + 0.0
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0, 1.0])


def test_backward_through_a_residual_chain_takes_time_linear_in_depth():
    """h <- h + f(h), as in a transformer's residual stream, has 2**depth paths from output to
    input. Backward must finish each node before passing its gradient on (a topological
    order), not once per path; a wrong order still gives the right numbers, only 2**20 times
    slower here (seconds instead of well under a millisecond)."""
    x = Tensor(np.ones(3), requires_grad=True)
    h = x
    for _ in range(20):
        h = h + h * 0.5
    loss = h.sum()
    start = time.perf_counter()
    loss.backward()
    elapsed = time.perf_counter() - start
    np.testing.assert_allclose(x.grad, np.full(3, 1.5**20), rtol=1e-12)
    assert elapsed < 1.0, f"backward took {elapsed:.2f} s for 60 nodes"


def test_item_and_numpy_return_plain_values():
    t = Tensor([[2.5]])
    assert t.item() == 2.5 and isinstance(t.item(), float)
    assert isinstance(t.numpy(), np.ndarray)
    assert t.shape == (1, 1) and t.ndim == 2
