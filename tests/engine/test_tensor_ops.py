"""Every Tensor primitive against the scalar Value engine, on inputs as users pass them.

Each test computes one expression twice: on Tensors, and on object arrays of `Value`s
(see tests/reference.py), then checks the forward values and the gradient of every input,
backpropagating sum(out * w) for a fixed random w. The inputs come from
tests/strategies.py: float64 and float32 (checked to float32's precision), in every memory
layout, 0-d and (where the op allows) size-0 shapes; the upstream gradient comes in a
drawn layout too.
"""

from __future__ import annotations

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
    v_amax,
    v_exp,
    v_log,
    v_matmul,
    v_max_along,
    v_mean,
    v_relu,
    v_sum,
)
from strategies import (
    ANY,
    AWAY_FROM_ZERO,
    MAX_SIDE,
    POSITIVE,
    TIES,
    Domain,
    broadcastable_shapes,
    dims_for,
    float_dtypes,
    laid_out,
    shapes,
    upstream_layouts,
)

import tensorgrad
from tensorgrad import Function, Tensor, Value

nonscalar_shapes = shapes(min_dims=1)
PROGRAM_INPUTS = Domain(((-2.0, 2.0),))


def inputs(data, *shapes_, domain=ANY, unique=False, dtype=None):
    """One drawn dtype (unless given), then an input of each shape in a drawn layout."""
    dtype = data.draw(float_dtypes, label="dtype") if dtype is None else dtype
    return [data.draw(laid_out(shape, dtype, domain, unique), label=f"input {i}")
            for i, shape in enumerate(shapes_)]


def upstream(data):
    return data.draw(upstream_layouts, label="upstream layout")


# ---- elementwise binary ops with broadcasting ---------------------------------------------------


@pytest.mark.parametrize("name", list(BINARY_OPS))
@given(data=st.data())
def test_binary_op_with_broadcasting_matches_values(name, data):
    shape_a, shape_b = data.draw(broadcastable_shapes(2, size_zero=True), label="shapes")
    (a,) = inputs(data, shape_a)
    (b,) = inputs(data, shape_b, domain=AWAY_FROM_ZERO if name == "div" else ANY, dtype=a.dtype)
    op = BINARY_OPS[name]
    out = check_against_values(op, op, a, b, upstream=upstream(data))
    assert out.shape == np.broadcast_shapes(shape_a, shape_b)
    assert out.dtype == a.dtype


@pytest.mark.parametrize("name", list(BINARY_OPS))
@given(data=st.data())
def test_binary_op_of_tensor_with_itself_accumulates(name, data):
    (a,) = inputs(data, data.draw(shapes()), domain=AWAY_FROM_ZERO)
    op = BINARY_OPS[name]
    wrapped = as_value_array  # keeps 0-d Value results arrays, so they mix with arrays
    check_against_values(lambda x: op(op(x, x), x), lambda x: op(wrapped(op(x, x)), x), a)


# Python's and NumPy's numbers: none of them changes a float32 tensor's dtype.
NUMBERS = [2.5, -1.5, 3, np.float64(0.75), np.int64(2), np.float32(1.25)]


@pytest.mark.parametrize("number", NUMBERS, ids=repr)
@pytest.mark.parametrize("name", list(BINARY_OPS))
@given(data=st.data())
def test_number_on_either_side_matches_values(name, number, data):
    (a,) = inputs(data, data.draw(shapes()), domain=AWAY_FROM_ZERO)
    op = BINARY_OPS[name]
    right = check_against_values(lambda x: op(x, number), lambda x: op(x, float(number)), a)
    left = check_against_values(lambda x: op(number, x), lambda x: op(float(number), x), a)
    assert right.dtype == left.dtype == a.dtype


@pytest.mark.parametrize("name", list(BINARY_OPS))
@given(data=st.data())
def test_ndarray_constant_on_either_side_matches_values(name, data):
    shape_t, shape_c = data.draw(broadcastable_shapes(2), label="shapes")
    a, c = inputs(data, shape_t, shape_c, domain=AWAY_FROM_ZERO)
    constant = c.array()  # a plain ndarray in the drawn layout, not a Tensor
    op = BINARY_OPS[name]
    right = check_against_values(lambda x: op(x, constant), lambda x: op(x, c.values), a)
    left = check_against_values(lambda x: op(constant, x), lambda x: op(c.values, x), a)
    assert isinstance(right, Tensor) and isinstance(left, Tensor)


def v_maximum(a: np.ndarray, b: np.ndarray, sign: float = 1.0) -> np.ndarray:
    """Elementwise max (min with sign -1) of Values; a tie gives each half the gradient."""
    a, b = np.broadcast_arrays(as_value_array(a), as_value_array(b))
    out = np.empty(a.shape, dtype=object)
    for index in np.ndindex(a.shape):
        x, y = a[index], b[index]
        if x.data == y.data:
            out[index] = (x + y) * 0.5
        else:
            out[index] = x if sign * x.data > sign * y.data else y
    return out


@pytest.mark.parametrize("method, sign", [("max", 1.0), ("min", -1.0)])
@given(data=st.data())
def test_elementwise_max_and_min_of_two_tensors_split_ties_in_half(method, sign, data):
    shape_a, shape_b = data.draw(broadcastable_shapes(2), label="shapes")
    a, b = inputs(data, shape_a, shape_b, domain=TIES)
    check_against_values(lambda x, y: getattr(x, method)(y), lambda x, y: v_maximum(x, y, sign),
                         a, b, upstream=upstream(data))


# ---- unary elementwise ops ----------------------------------------------------------------------


def v_sqrt(x):
    return as_value_array(x**0.5)


def v_tanh(x):
    e = v_exp(x * 2.0)
    return (e - 1.0) / (e + 1.0)


def v_sigmoid(x):
    return as_value_array(1.0 / (v_exp(-x) + 1.0))


def v_abs(x):
    return v_relu(x) + v_relu(-x)


UNARY = {  # name: (the op on a Tensor, the same on Values, the inputs' domain)
    "neg": (lambda x: -x, lambda x: as_value_array(-x), ANY),
    "exp": (lambda x: x.exp(), v_exp, ANY),
    "log": (lambda x: x.log(), v_log, POSITIVE),
    "sqrt": (lambda x: x.sqrt(), v_sqrt, POSITIVE),
    "tanh": (lambda x: x.tanh(), v_tanh, ANY),
    "sigmoid": (lambda x: x.sigmoid(), v_sigmoid, ANY),
    "relu": (lambda x: x.relu(), v_relu, AWAY_FROM_ZERO),
    "abs": (lambda x: x.abs(), v_abs, AWAY_FROM_ZERO),
    "functional relu": (lambda x: tensorgrad.functional.relu(x), v_relu, AWAY_FROM_ZERO),
}


@pytest.mark.parametrize("name", list(UNARY))
@given(data=st.data())
def test_unary_op_matches_values(name, data):
    tensor_fn, value_fn, domain = UNARY[name]
    (a,) = inputs(data, data.draw(shapes(size_zero=True), label="shape"), domain=domain)
    out = check_against_values(tensor_fn, value_fn, a, upstream=upstream(data))
    assert out.dtype == a.dtype and out.shape == a.values.shape


def test_relu_and_abs_at_zero_pass_no_gradient_as_pytorch():
    x = Tensor([-2.0, 0.0, 0.5], requires_grad=True)
    (x.relu() + x.abs()).backward(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(x.grad, [-1.0, 0.0, 6.0])


@pytest.mark.parametrize("exponent", [2, 3, 0.5, 1.5, -1, -2, -0.5, -1.5, 0])
@given(data=st.data())
def test_pow_on_positive_data_matches_values(exponent, data):
    (a,) = inputs(data, data.draw(shapes()), domain=POSITIVE)
    out = check_against_values(lambda x: x**exponent, lambda x: as_value_array(x**exponent), a)
    assert out.dtype == a.dtype


@pytest.mark.parametrize("exponent", [1, 2, 3, 2.0])
@given(data=st.data())
def test_integer_pow_on_any_sign_matches_values(exponent, data):
    (a,) = inputs(data, data.draw(shapes()))
    check_against_values(lambda x: x**exponent, lambda x: as_value_array(x**exponent), a)


@given(data=st.data())
def test_pow_with_tensor_base_and_exponent_matches_values(data):
    shape_a, shape_b = data.draw(broadcastable_shapes(2), label="shapes")
    (a,) = inputs(data, shape_a, domain=POSITIVE)
    (b,) = inputs(data, shape_b, dtype=a.dtype)
    check_against_values(lambda x, y: x**y, lambda x, y: v_exp(y * v_log(x)), a, b,
                         upstream=upstream(data))
    check_against_values(lambda y: 2.0**y, lambda y: v_exp(y * np.log(2.0)), b)


def test_x_to_the_zero_has_gradient_zero_everywhere_zero_included():
    x = Tensor([0.0, -1.5, 2.0], requires_grad=True)
    (x**0).backward(np.ones(3))
    (x ** Tensor(0.0)).backward(np.ones(3))
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 0.0])


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
    batch_a, batch_b = draw(broadcastable_shapes(2, max_dims=2))
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
    a, b = inputs(data, shape_a, shape_b)
    out = check_against_values(lambda x, y: x @ y, v_matmul, a, b, upstream=upstream(data))
    assert out.shape == np.matmul(a.values, b.values).shape
    assert out.dtype == a.dtype


@given(data=st.data())
def test_matmul_with_ndarray_on_either_side_matches_values(data):
    shape_a, shape_b = data.draw(matmul_operand_shapes("batched"), label="shapes")
    a, b = inputs(data, shape_a, shape_b)
    a_array, b_array = a.array(), b.array()
    check_against_values(lambda x: x @ b_array, lambda x: v_matmul(x, b.values), a)
    check_against_values(lambda y: a_array @ y, lambda y: v_matmul(a.values, y), b)


@given(data=st.data())
def test_matmul_of_a_matrix_with_its_own_transpose_accumulates(data):
    (a,) = inputs(data, data.draw(shapes(min_dims=2, max_dims=2)))
    check_against_values(lambda x: x @ x.T, lambda x: v_matmul(x, x.T), a)


# ---- reductions ---------------------------------------------------------------------------------


SUM_AND_MEAN = {"sum": (np.sum, v_sum), "mean": (np.mean, v_mean)}


@pytest.mark.parametrize("name", list(SUM_AND_MEAN))
@pytest.mark.parametrize("keepdim", [False, True])
@given(data=st.data())
def test_sum_and_mean_match_values(name, keepdim, data):
    numpy_reduction, value_reduction = SUM_AND_MEAN[name]
    # a sum over nothing is 0; the mean of nothing (NaN) is held against PyTorch elsewhere
    shape = data.draw(shapes(size_zero=name == "sum"), label="shape")
    dim = data.draw(dims_for(len(shape)), label="dim")
    (a,) = inputs(data, shape)
    out = check_against_values(
        lambda x: getattr(x, name)(dim=dim, keepdim=keepdim),
        lambda x: value_reduction(x, dim, keepdim),
        a,
        upstream=upstream(data),
    )
    numpy_dim = None if dim is None or not shape else dim
    assert out.shape == numpy_reduction(a.values, axis=numpy_dim, keepdims=keepdim).shape
    assert out.dtype == a.dtype


@pytest.mark.parametrize("name", ["sum", "mean", "amax", "amin"])
def test_numpy_names_axis_and_keepdims_are_aliases(name):
    x = Tensor(np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(getattr(x, name)(axis=1, keepdims=True).data,
                                  getattr(x, name)(dim=1, keepdim=True).data)


@pytest.mark.parametrize("method, sign", [("amax", 1.0), ("amin", -1.0)])
@pytest.mark.parametrize("keepdim", [False, True])
@given(data=st.data())
def test_amax_and_amin_share_the_gradient_among_ties(method, sign, keepdim, data):
    shape = data.draw(shapes(), label="shape")
    dim = data.draw(dims_for(len(shape)), label="dim")
    (a,) = inputs(data, shape, domain=TIES)
    check_against_values(lambda x: getattr(x, method)(dim=dim, keepdim=keepdim),
                         lambda x: v_amax(x, dim, keepdim, sign), a, upstream=upstream(data))


@pytest.mark.parametrize("method, sign", [("max", 1.0), ("min", -1.0)])
@given(data=st.data())
def test_full_max_and_min_share_the_gradient_among_ties(method, sign, data):
    (a,) = inputs(data, data.draw(shapes(), label="shape"), domain=TIES)
    out = check_against_values(lambda x: getattr(x, method)(), lambda x: v_amax(x, None, False,
                                                                                 sign), a)
    assert out.shape == ()


@pytest.mark.parametrize("keepdim", [False, True])
@given(data=st.data())
def test_max_along_a_dim_gives_values_and_indices_and_the_gradient_to_the_index(keepdim, data):
    shape = data.draw(shapes(), label="shape")
    dim = data.draw(st.integers(-max(len(shape), 1), max(len(shape), 1) - 1), label="dim")
    (a,) = inputs(data, shape, domain=TIES)  # ties: the returned index gets it all
    results = []

    def values_of_max(x):
        result = x.max(dim, keepdim=keepdim)
        results.append(result)
        return result.values

    check_against_values(values_of_max, lambda x: v_max_along(x, dim, keepdim), a)
    values, indices = results[0]
    assert indices.dtype == np.int64 and not indices.requires_grad
    if shape:
        expected = np.argmax(a.values, axis=dim, keepdims=keepdim)
        np.testing.assert_array_equal(indices.data, expected)
        assert values.shape == expected.shape
    assert results[0].values is values and results[0].indices is indices  # a named tuple


def test_min_along_a_dim_gives_the_smallest_entries_and_their_indices():
    x = Tensor([[3.0, 1.0, 1.0], [0.5, 2.0, -4.0]], requires_grad=True)
    values, indices = x.min(1)
    np.testing.assert_array_equal(values.data, [1.0, -4.0])
    np.testing.assert_array_equal(indices.data, [1, 2])
    values.sum().backward()
    np.testing.assert_array_equal(x.grad, [[0, 1, 0], [0, 0, 1]])


@pytest.mark.parametrize("method", ["argmax", "argmin"])
@given(data=st.data())
def test_argmax_and_argmin_follow_numpy_and_stay_outside_the_graph(method, data):
    shape = data.draw(shapes(min_dims=1), label="shape")
    dim = data.draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1)), label="dim")
    (a,) = inputs(data, shape, domain=TIES)
    x = Tensor(a.values, requires_grad=True)
    out = getattr(x, method)(dim)
    np.testing.assert_array_equal(out.data, getattr(np, method)(a.values, axis=dim))
    assert out.dtype == np.int64 and not out.requires_grad


def test_reductions_of_a_reused_tensor_accumulate():
    a = np.arange(12.0).reshape(3, 4) / 7
    check_against_values(
        lambda x: x.sum(dim=0) * x.amax(dim=0) + x.mean(dim=0),
        lambda x: v_sum(x, 0) * v_amax(x, 0) + v_mean(x, 0),
        a,
    )


# ---- shape ops ----------------------------------------------------------------------------------


@st.composite
def reshape_target(draw, shape: tuple[int, ...]):
    """A different shape with the same number of elements, possibly using -1."""
    dims = [d for d in draw(st.permutations(list(shape))) if d != 1]
    if len(dims) >= 2 and draw(st.booleans(), label="merge two dims"):
        dims = [dims[0] * dims[1], *dims[2:]]
    for _ in range(draw(st.integers(0, 2), label="ones inserted")):
        dims.insert(draw(st.integers(0, len(dims))), 1)
    if dims and draw(st.booleans(), label="use -1") and 0 not in dims:
        dims[draw(st.integers(0, len(dims) - 1))] = -1
    return tuple(dims)


@given(data=st.data())
def test_reshape_matches_values(data):
    shape = data.draw(shapes(size_zero=True), label="shape")
    target = data.draw(reshape_target(shape), label="target")
    (a,) = inputs(data, shape)
    out = check_against_values(lambda x: x.reshape(*target), lambda x: x.reshape(target), a,
                               upstream=upstream(data))
    assert out.shape == a.values.reshape(target).shape


@given(data=st.data())
def test_view_of_a_c_ordered_tensor_shares_its_memory(data):
    shape = data.draw(shapes(), label="shape")
    target = data.draw(reshape_target(shape), label="target")
    x = Tensor(data.draw(laid_out(shape, layout=False)).values, requires_grad=True)
    out = x.view(target)
    assert np.shares_memory(out.data, x.data) or out.detach().numpy().size == 0
    out.backward(np.ones(out.shape))
    np.testing.assert_array_equal(x.grad, np.ones(shape))


def test_view_that_would_need_a_copy_raises_and_reshape_copies():
    x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    with pytest.raises(RuntimeError, match="use reshape"):
        x.T.view(6)
    np.testing.assert_array_equal(x.T.reshape(6).data, [0, 3, 1, 4, 2, 5])


@given(data=st.data())
def test_transpose_swaps_two_dims_and_permute_orders_them(data):
    shape = data.draw(shapes(min_dims=1, size_zero=True), label="shape")
    ndim = len(shape)
    dim0, dim1 = (data.draw(st.integers(-ndim, ndim - 1), label=n) for n in ("dim0", "dim1"))
    order = tuple(data.draw(st.permutations(range(ndim)), label="order"))
    signed = tuple(d - ndim if data.draw(st.booleans()) else d for d in order)
    (a,) = inputs(data, shape)
    out = check_against_values(lambda x: x.transpose(dim0, dim1),
                               lambda x: np.swapaxes(x, dim0, dim1), a, upstream=upstream(data))
    assert out.shape == np.swapaxes(a.values, dim0, dim1).shape
    out = check_against_values(lambda x: x.permute(*signed), lambda x: x.transpose(order), a)
    assert out.shape == a.values.transpose(order).shape
    assert permute_takes_a_tuple_too(a.values, signed)


def permute_takes_a_tuple_too(values, order) -> bool:
    return Tensor(values).permute(order).shape == Tensor(values).permute(*order).shape


def test_transpose_of_a_matrix_is_not_the_identity():
    x = Tensor(np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(x.transpose(0, 1).data, x.data.T)
    np.testing.assert_array_equal(x.transpose(1, 0).data, x.data.T)
    assert x.transpose(-1, -1).shape == (2, 3)


@given(data=st.data())
def test_T_reverses_the_dims_and_mT_swaps_the_last_two(data):
    (a,) = inputs(data, data.draw(shapes(size_zero=True), label="shape"))
    out = check_against_values(lambda x: x.T, lambda x: x.T, a)
    assert out.shape == a.values.shape[::-1]
    if a.values.ndim >= 2:
        out = check_against_values(lambda x: x.mT, lambda x: np.swapaxes(x, -1, -2), a)
        assert out.shape == np.swapaxes(a.values, -1, -2).shape


def squeezed(shape, dims):
    """PyTorch's squeeze: drop the chosen dims (all if None) that have length 1, keep others."""
    if not shape:
        return ()
    if dims is None:
        dims = range(len(shape))
    chosen = {d % len(shape) for d in ((dims,) if isinstance(dims, int) else dims)}
    return tuple(n for i, n in enumerate(shape) if not (i in chosen and n == 1))


@given(data=st.data())
def test_squeeze_unsqueeze_and_flatten_match_values(data):
    shape = data.draw(shapes(max_side=2, size_zero=True), label="shape")
    ndim = len(shape)
    squeeze_dims = data.draw(dims_for(ndim), label="squeeze dims")
    new_dim = data.draw(st.integers(-ndim - 1, ndim), label="unsqueeze dim")
    start = data.draw(st.integers(-max(ndim, 1), max(ndim, 1) - 1), label="start_dim")
    end = data.draw(st.integers(start % max(ndim, 1), max(ndim, 1) - 1), label="end_dim")
    (a,) = inputs(data, shape)
    target = squeezed(shape, squeeze_dims)
    out = check_against_values(lambda x: x.squeeze(squeeze_dims), lambda x: x.reshape(target), a)
    assert out.shape == target
    out = check_against_values(lambda x: x.unsqueeze(new_dim),
                               lambda x: np.expand_dims(x, new_dim), a)
    assert out.shape == np.expand_dims(a.values, new_dim).shape
    s, e = start % max(ndim, 1), end
    flat = (1,) if not shape else (*shape[:s], int(np.prod(shape[s:e + 1])), *shape[e + 1:])
    out = check_against_values(lambda x: x.flatten(start, end), lambda x: x.reshape(flat), a)
    assert out.shape == flat


def test_squeeze_of_a_dim_that_is_not_one_leaves_it_as_pytorch():
    x = Tensor(np.zeros((2, 1, 3)))
    assert x.squeeze(0).shape == (2, 1, 3)
    assert x.squeeze(1).shape == (2, 3)
    assert x.squeeze((0, 1)).shape == (2, 3)
    assert x.squeeze().shape == (2, 3)


@given(data=st.data())
def test_expand_matches_values(data):
    shape = data.draw(shapes(max_dims=3), label="shape")
    sizes = tuple(data.draw(st.integers(1, 3)) if n == 1 else data.draw(st.sampled_from([n, -1]))
                  for n in shape)
    leading = tuple(data.draw(st.lists(st.integers(1, 2), max_size=2), label="new dims"))
    target = (*leading, *sizes)
    (a,) = inputs(data, shape)
    final = (*leading, *(n if s == -1 else s for s, n in zip(sizes, shape)))
    out = check_against_values(lambda x: x.expand(*target),
                               lambda x: np.broadcast_to(x, final), a, upstream=upstream(data))
    assert out.shape == final


@pytest.mark.parametrize("join", ["cat", "stack"])
@given(data=st.data())
def test_cat_and_stack_match_values(join, data):
    shape = data.draw(shapes(min_dims=1 if join == "cat" else 0, max_dims=3, size_zero=True))
    ndim = len(shape)
    count = data.draw(st.integers(1, 3), label="count")
    dim = data.draw(st.integers(-ndim - (join == "stack"), ndim - 1 + (join == "stack")))
    lengths = [data.draw(st.integers(0, 2)) for _ in range(count)] if join == "cat" else []
    each = [shape if join == "stack" else (*shape[:dim % ndim], n, *shape[dim % ndim + 1:])
            for n in (lengths or [None] * count)]
    parts = inputs(data, *each)

    def tensor_join(*xs):
        return getattr(tensorgrad, join)(list(xs), dim)

    def value_join(*xs):
        return (np.concatenate if join == "cat" else np.stack)(list(xs), axis=dim)

    out = check_against_values(tensor_join, value_join, *parts, upstream=upstream(data))
    assert out.shape == value_join(*(p.values for p in parts)).shape


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
    as_tensor = data.draw(st.booleans(), label="index as a Tensor")
    (a,) = inputs(data, shape)
    key = Tensor(index) if as_tensor else index
    out = check_against_values(lambda x: x[key], lambda x: x[index], a, upstream=upstream(data))
    assert out.shape == a.values[index].shape


def test_repeated_index_gradient_counts_every_use():
    x = Tensor([10.0, 20.0, 30.0], requires_grad=True)
    x[np.array([2, 0, 2, 2])].backward(np.array([1.0, 2.0, 3.0, 4.0]))
    np.testing.assert_array_equal(x.grad, [2.0, 0.0, 8.0])


@given(data=st.data())
def test_integer_arrays_on_two_axes_scatter_add(data):
    shape = data.draw(shapes(min_dims=2, max_dims=3))
    rows = data.draw(int_index_arrays(shape[0], max_dims=1), label="rows")
    cols = data.draw(
        hnp.arrays(np.intp, rows.shape, elements=st.integers(-shape[1], shape[1] - 1)), label="cols"
    )
    (a,) = inputs(data, shape)
    check_against_values(lambda x: x[rows, cols], lambda x: x[rows, cols], a)


@given(data=st.data())
def test_slice_and_integer_array_mixed_index_scatter_adds(data):
    shape = data.draw(shapes(min_dims=2, max_dims=3))
    index = (data.draw(st.slices(shape[0]), label="slice"), data.draw(int_index_arrays(shape[1])))
    (a,) = inputs(data, shape)
    check_against_values(lambda x: x[index], lambda x: x[index], a)


@given(data=st.data())
def test_boolean_mask_index_matches_values(data):
    shape = data.draw(shapes(min_dims=1, size_zero=True), label="shape")
    leading = data.draw(st.integers(1, len(shape)), label="dims masked")
    mask = data.draw(hnp.arrays(np.bool_, shape[:leading]), label="mask")
    as_tensor = data.draw(st.booleans(), label="mask as a Tensor")
    (a,) = inputs(data, shape)
    key = Tensor(mask) if as_tensor else mask
    out = check_against_values(lambda x: x[key], lambda x: x[mask], a)
    assert out.shape == a.values[mask].shape


@st.composite
def basic_indices(draw, shape: tuple[int, ...]):
    """A tuple of ints (possibly negative), slices and None, one per leading axis, maybe an
    Ellipsis."""
    count = draw(st.integers(1, len(shape)))
    parts = []
    for size in shape[:count]:
        if size and draw(st.booleans()):
            parts.append(draw(st.integers(-size, size - 1)))
        else:
            parts.append(draw(st.slices(size)))
        if draw(st.integers(0, 5)) == 0:
            parts.append(None)
    if count < len(shape) and draw(st.booleans()):
        parts.append(Ellipsis)
    return tuple(parts)


@given(data=st.data())
def test_basic_index_with_ints_and_slices_matches_values(data):
    shape = data.draw(shapes(min_dims=1, size_zero=True), label="shape")
    index = data.draw(basic_indices(shape), label="index")
    (a,) = inputs(data, shape)
    out = check_against_values(lambda x: x[index], lambda x: as_value_array(x[index]), a,
                               upstream=upstream(data))
    assert out.shape == a.values[index].shape


def test_single_int_and_last_element_index_match_values():
    a = np.arange(6.0).reshape(2, 3) - 2.5
    for index in [0, -1, (1, 2), (-1, -3), (slice(None), 1), (Ellipsis, 0),
                  (slice(None, None, -1),), np.int64(1), tensorgrad.tensor(1)]:
        check_against_values(lambda x, i=index: x[i], lambda x, i=index: as_value_array(x[i]), a)


# ---- masking ------------------------------------------------------------------------------------


@st.composite
def mask_shape_for(draw, shape: tuple[int, ...]):
    """A shape that broadcasts to ``shape`` without growing it: a suffix, some dims set to 1."""
    suffix = shape[len(shape) - draw(st.integers(0, len(shape))) :]
    return tuple(1 if draw(st.booleans()) else d for d in suffix)


@given(data=st.data())
def test_masked_fill_matches_values(data):
    shape = data.draw(shapes(size_zero=True), label="shape")
    mask = data.draw(hnp.arrays(np.bool_, data.draw(mask_shape_for(shape))), label="mask")
    fill = data.draw(st.sampled_from([-1.5, 0.0, 4.25, -np.inf]), label="fill")
    as_tensor = data.draw(st.booleans(), label="mask as a Tensor")
    (a,) = inputs(data, shape)
    key = Tensor(mask) if as_tensor else mask
    out = check_against_values(
        lambda x: x.masked_fill(key, fill),
        lambda x: as_value_array(np.where(mask, Value(fill), x)),
        a,
        upstream=upstream(data),
    )
    assert out.shape == a.values.shape and out.dtype == a.dtype


def test_masked_fill_with_a_0d_tensor_value_passes_it_the_masked_gradient():
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    value = Tensor(5.0, requires_grad=True)
    out = x.masked_fill(np.array([True, False, True]), value)
    np.testing.assert_array_equal(out.data, [5.0, 2.0, 5.0])
    out.backward(np.array([1.0, 2.0, 4.0]))
    np.testing.assert_array_equal(x.grad, [0.0, 2.0, 0.0])
    assert value.grad == 5.0


def test_masked_fill_keeps_the_dtype_of_the_tensor():
    mask = np.array([True, False])
    assert Tensor(np.ones(2, np.float32)).masked_fill(mask, np.float64(2.5)).dtype == np.float32
    out = Tensor([1, 2]).masked_fill(mask, 2.5)  # as PyTorch: the value takes the tensor's dtype
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out.data, [2, 2])


    with pytest.raises(RuntimeError, match="only supports a 0-dimensional value tensor"):
        Tensor([1.0, 2.0]).masked_fill(mask, Tensor([5.0, 6.0]))  # PyTorch refuses it too


@given(data=st.data())
def test_where_with_broadcasting_matches_values(data):
    shape_m, shape_a, shape_b = data.draw(broadcastable_shapes(3, size_zero=True), label="shapes")
    mask = data.draw(hnp.arrays(np.bool_, shape_m), label="mask")
    a, b = inputs(data, shape_a, shape_b)
    out = check_against_values(
        lambda x, y: tensorgrad.where(Tensor(mask), x, y),
        lambda x, y: as_value_array(np.where(mask, x, y)),
        a,
        b,
        upstream=upstream(data),
    )
    assert out.dtype == a.dtype


@given(data=st.data())
def test_where_with_a_number_branch_matches_values(data):
    shape = data.draw(shapes(), label="shape")
    mask = data.draw(hnp.arrays(np.bool_, shape), label="mask")
    (a,) = inputs(data, shape)
    out = check_against_values(
        lambda x: tensorgrad.where(mask, x, -1.5) + tensorgrad.where(mask, 2.0, x * 3),
        lambda x: as_value_array(
            np.where(mask, x, Value(-1.5)) + np.where(mask, Value(2.0), x * 3)
        ),
        a,
    )
    assert out.dtype == a.dtype


@given(data=st.data())
def test_comparisons_give_boolean_tensors_outside_the_graph(data):
    shape_a, shape_b = data.draw(broadcastable_shapes(2), label="shapes")
    a, b = inputs(data, shape_a, shape_b, domain=TIES)
    x, y = Tensor(a.values, requires_grad=True), Tensor(b.values, requires_grad=True)
    for op in ("__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__"):
        for other, other_values in ((y, b.values), (b.array(), b.values), (0.5, 0.5)):
            out = getattr(x, op)(other)
            assert out.dtype == np.bool_ and not out.requires_grad
            np.testing.assert_array_equal(out.data, getattr(a.values, op)(other_values))
    both = (x > 0) & (y <= 0.5) | ~(x == y) ^ (x != 0)
    expected = ((a.values > 0) & (b.values <= 0.5)) | (~(a.values == b.values) ^ (a.values != 0))
    np.testing.assert_array_equal(both.data, expected)
    np.testing.assert_array_equal(tensorgrad.where(x > y, x, y).data,
                                  np.where(a.values > b.values, a.values, b.values))


# ---- random programs that reuse tensors ---------------------------------------------------------
# Every op keeps values bounded (so no program overflows) and keeps the (n, n) shape, so any
# result can feed any later op. Each entry: (arity, op); the op is written once and runs on
# both engines, using `E` for the engine-specific functions.


class _TensorFns:
    exp = staticmethod(lambda x: x.exp())
    log = staticmethod(lambda x: x.log())
    relu = staticmethod(lambda x: x.relu())
    sum = staticmethod(lambda x, axis: x.sum(dim=axis, keepdim=True))
    mean = staticmethod(lambda x, axis: x.mean(dim=axis, keepdim=True))
    max = staticmethod(lambda x, axis: x.amax(dim=axis, keepdim=True))
    matmul = staticmethod(lambda x, y: x @ y)
    where = staticmethod(lambda mask, x, y: tensorgrad.where(mask, x, y))
    data = staticmethod(lambda x: x.data)


class _ValueFns:
    exp = staticmethod(v_exp)
    log = staticmethod(v_log)
    relu = staticmethod(v_relu)
    sum = staticmethod(lambda x, axis: v_sum(x, axis, keepdims=True))
    mean = staticmethod(lambda x, axis: v_mean(x, axis, keepdims=True))
    max = staticmethod(lambda x, axis: v_amax(x, axis, keepdims=True))
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
    inputs = [data.draw(laid_out((n, n), domain=PROGRAM_INPUTS, unique=True)) for _ in range(3)]
    check_against_values(
        lambda *xs: run_program(steps, _TensorFns, *xs),
        lambda *xs: as_value_array(run_program(steps, _ValueFns, *xs)),
        *inputs,
    )


# ---- Tensor semantics ---------------------------------------------------------------------------


def test_constructor_dtypes_follow_pytorch_except_the_default_float():
    assert Tensor([1, 2, 3]).dtype == np.int64
    assert Tensor([1.0, 2]).dtype == np.float64  # PyTorch's default float is float32
    assert Tensor([True, False]).dtype == np.bool_
    assert Tensor(2.5).shape == ()
    assert Tensor(np.ones(2, np.float32)).dtype == np.float32
    assert Tensor(np.float32(1.5)).dtype == np.float32
    assert Tensor(np.ones(2, np.float32), dtype=np.float64).dtype == np.float64
    assert Tensor([1.0], dtype=np.float32).dtype == np.float32
    assert tensorgrad.tensor([1, 2], dtype=tensorgrad.float32).dtype == np.float32
    assert tensorgrad.zeros(2, 3).shape == tensorgrad.ones((2, 3)).shape == (2, 3)


def test_constructor_copies_its_data():
    array = np.ones(3)
    x = Tensor(array)
    array[0] = 5.0
    assert x.data[0] == 1.0


def test_backward_accumulates_into_grad_across_fresh_graphs():
    x = Tensor([1.0, -2.0, 3.0], requires_grad=True)
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad, 2 * x.data)
    (x * 3.0).sum().backward()
    np.testing.assert_array_equal(x.grad, 2 * x.data + 3.0)


def test_backward_after_setting_grad_to_none_gives_the_same_grads():
    rng = np.random.default_rng(0)
    w = Tensor(rng.normal(size=(3, 4)), requires_grad=True)
    b = Tensor(rng.normal(size=(4,)), requires_grad=True)
    x = rng.normal(size=(5, 3))

    def loss():
        return ((x @ w + b).relu() ** 2).mean()

    loss().backward()
    first = w.grad.numpy().copy(), b.grad.numpy().copy()
    w.grad = b.grad = None
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
    uses_per_element = out.numel() / bias.numel()  # once in the product, once in the sum
    np.testing.assert_allclose(bias.grad, np.full(bias_shape, 2 * uses_per_element))


def test_only_leaves_that_require_grad_get_grad():
    x = Tensor([1.0, 2.0], requires_grad=True)
    constant = Tensor([3.0, 4.0])
    hidden = x * constant
    (hidden * hidden).sum().backward()
    assert constant.grad is None
    with pytest.warns(UserWarning, match="no leaf"):  # (as PyTorch's)
        assert hidden.grad is None
    np.testing.assert_array_equal(x.grad, 2 * x.data * constant.data**2)


class FailingBackward(Function):
    """The identity, whose backward raises."""

    @staticmethod
    def forward(ctx, a):
        return a

    @staticmethod
    def backward(ctx, grad):
        raise ArithmeticError("in the backward")


def test_a_backward_pass_that_raises_leaves_no_gradient_anywhere():
    """Gradients waiting for their op's turn are not parked on tensors: an error on the way
    leaves nothing for the next backward() to add in."""
    x = Tensor([1.0, 2.0], requires_grad=True)
    doubled = x * 2.0
    loss = (doubled + FailingBackward.apply(doubled.exp())).sum()
    with pytest.raises(ArithmeticError):
        loss.backward()
    with pytest.warns(UserWarning, match="no leaf"):
        assert doubled.grad is None and x.grad is None
    (x * 2.0).sum().backward()  # a new graph over the same leaf is unaffected
    np.testing.assert_array_equal(x.grad, [2.0, 2.0])


def test_no_grad_records_no_graph_and_restores_recording_afterwards():
    x = Tensor([1.0, 2.0], requires_grad=True)
    with tensorgrad.no_grad():
        y = (x * 2.0).exp().sum()
        assert not y.requires_grad and y.grad_fn is None
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


def test_grad_fn_names_the_op_and_its_inputs():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x * 3.0
    assert y.grad_fn.name() == "Mul" and repr(y) == "Tensor([3., 6.], grad_fn=<Mul>)"
    assert y.grad_fn.inputs == (x, 3.0)
    assert x.grad_fn is None and x.is_leaf and not y.is_leaf
    assert Tensor([1.0]).exp().grad_fn is None  # no input requires grad: nothing recorded


def functional_expression(x):
    import tensorgrad.functional as F

    return F.softmax(x, dim=1) + F.log_softmax(x, dim=0) + F.cross_entropy(x, np.array([0, 2]))


FLOAT32_EXPRESSIONS = {
    "arithmetic": lambda x: ((x + 1) * 2 - x / 3) ** 2,
    "reflected": lambda x: 1 - 2 * x + 3 / (x * x + 1),
    "unary": lambda x: (x * x + 1).log() + x.exp() + x.relu() + x.tanh() + x.sigmoid() + x.abs(),
    "reductions": lambda x: x.sum(dim=0) + x.mean(dim=1, keepdim=True) + x.amax(dim=0)
    + x.max(0).values + x.max(),
    "matmul": lambda x: x @ x.T,
    "shape": lambda x: x.reshape(-1)[np.array([0, 0, 5])] + x.transpose(1, 0)[1, 1] + x.T[:, 0][0],
    "masking": lambda x: x.masked_fill(x > 0, 0.5) + tensorgrad.where(x < 0, x, 2.0),
    "0-d tensors": lambda x: x * Tensor(2.0) + Tensor(np.float64(1.5)) ** x - np.array(3.0),
    "functional": functional_expression,
}


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


class CountingIdentity(Function):
    """The identity; counts how often its backward runs."""

    calls = 0

    @staticmethod
    def forward(ctx, a):
        return a

    @staticmethod
    def backward(ctx, grad):
        CountingIdentity.calls += 1
        return grad


def test_backward_runs_each_op_once_however_many_paths_lead_to_it():
    """h <- h + f(h), as in a transformer's residual stream, has 2**depth paths from output to
    input. Each op's backward must run once, with its gradient summed over all paths (a
    topological order), not once per path."""
    x = Tensor(np.ones(3), requires_grad=True)
    h = x
    CountingIdentity.calls = 0
    for _ in range(20):
        h = CountingIdentity.apply(h)
        h = h + h * 0.5
    h.sum().backward()
    assert CountingIdentity.calls == 20
    np.testing.assert_allclose(x.grad, np.full(3, 1.5**20), rtol=1e-12)


def test_conversions_to_python_and_numpy():
    t = Tensor([[2.5]])
    assert t.item() == 2.5 and isinstance(t.item(), float)
    assert float(t) == 2.5 and int(Tensor([[7]])) == 7 and bool(Tensor([0.0])) is False
    assert Tensor([[1, 2], [3, 4]]).tolist() == [[1, 2], [3, 4]]
    assert isinstance(t.numpy(), np.ndarray) and np.shares_memory(t.numpy(), t.data)
    assert t.shape == t.size() == (1, 1) and t.size(-1) == 1 and t.ndim == t.dim() == 2
    assert Tensor(np.zeros((2, 3))).numel() == 6 and len(Tensor(np.zeros((2, 3)))) == 2
    assert [x.item() for x in Tensor([1.0, 2.0])] == [1.0, 2.0]


@pytest.mark.parametrize("method, dtype", [("float", np.float32), ("double", np.float64),
                                           ("long", np.int64), ("int", np.int32),
                                           ("bool", np.bool_)])
def test_dtype_conversions(method, dtype):
    x = Tensor([0.0, 1.5, -2.0])
    out = getattr(x, method)()
    assert out.dtype == dtype
    np.testing.assert_array_equal(out.data, x.detach().numpy().astype(dtype))
    assert x.to(dtype).dtype == dtype


def test_a_conversion_to_the_tensors_own_dtype_returns_the_tensor_itself_as_pytorch():
    x = Tensor([1.0, 2.0], requires_grad=True)
    assert x.to(np.float64) is x and x.double() is x and x.type(tensorgrad.float64) is x
    assert x.float() is not x and x.clone() is not x


def test_a_cast_between_floats_passes_the_gradient_back_in_the_input_dtype():
    x = Tensor(np.array([1.0, 2.0], np.float32), requires_grad=True)
    y = x.double() * 3.0
    assert y.dtype == np.float64
    y.sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])


def test_in_place_ops_work_outside_the_graph_and_under_no_grad():
    x = Tensor([1.0, 2.0])
    x += 1
    x *= Tensor([2.0, 3.0])
    x -= np.array([1.0, 1.0])
    x /= 2
    np.testing.assert_array_equal(x.data, [1.5, 4.0])
    w = Tensor([1.0, 2.0], requires_grad=True)
    with tensorgrad.no_grad():
        w -= 0.5
    np.testing.assert_array_equal(w.data, [0.5, 1.5])
    with pytest.raises(RuntimeError, match="in-place"):
        w += 1


def test_zero_fills_zeros_in_place_infinities_and_nan_included():
    x = Tensor([np.inf, np.nan, -2.0])
    data = x.numpy()
    assert x.zero_() is x and np.shares_memory(x.data, data)
    np.testing.assert_array_equal(x.data, [0.0, 0.0, 0.0])
    w = Tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="in-place"):
        w.zero_()
    with tensorgrad.no_grad():
        w.zero_()
    assert w.data[0] == 0.0


@pytest.mark.parametrize("rows, width, picks", [(65, 64, 300), (5000, 2, 2100)])
def test_an_embeddings_gradient_adds_every_picked_row_large_tables_too(rows, width, picks):
    """Many rows of a table picked (an embedding of a large batch): each row's gradient is
    the sum of its picks' gradients, whichever way it is added up (one-hot product, sorted
    sums, np.add.at)."""
    rng = np.random.default_rng(3)
    table = Tensor(rng.normal(size=(rows, width)), requires_grad=True)
    index = rng.integers(0, rows, size=(3, picks // 3))
    upstream = rng.normal(size=(3, picks // 3, width))
    table[index].backward(upstream)
    expected = np.zeros((rows, width))
    np.add.at(expected, index, upstream)
    np.testing.assert_allclose(table.grad, expected, rtol=1e-12, atol=1e-12)
