"""The ops PyTorch model code needs beyond microgpt's (erf, gelu, layer_norm, dropout, attention
with dropout and a learned mask, norm, topk, split, chunk, masked_fill broadcasting, in-place
assignment), held against the Value engine and against their definitions."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from reference import (
    as_value_array,
    check_against_values,
    v_matmul,
    value_softmax,
)
from strategies import (
    ANY,
    AWAY_FROM_ZERO,
    SMALL,
    Domain,
    float_dtypes,
    laid_out,
    shapes,
    upstream_layouts,
)

import tensorgrad
import tensorgrad.functional as F
from tensorgrad import Tensor, Value
from tensorgrad.special import erf, erfc

WIDE = Domain(((-6.0, 6.0),))


# ---- erf ----------------------------------------------------------------------------------------


def test_erf_and_erfc_match_math_to_a_few_ulps_everywhere():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(-7, 7, 50_000), rng.uniform(-0.5, 0.5, 5_000),
                        rng.uniform(-30, 30, 5_000), 10.0 ** rng.uniform(-320, 0, 2_000),
                        [0.0, -0.0, 0.46875, -0.46875, 4.0, -4.0, 5.9, 26.5, 27.3, 28.0, -28.0,
                         np.nextafter(0.46875, 1), np.nextafter(4.0, 5), 5e-324]])
    for ours, theirs in ((erf, math.erf), (erfc, math.erfc)):
        expected = np.array([theirs(v) for v in x])
        got = ours(x)
        scale = np.maximum(np.abs(expected), np.finfo(np.float64).tiny)
        assert (np.abs(got - expected) / scale).max() < 8 * np.finfo(np.float64).eps
    assert erf(np.array(-0.0)) == 0 and np.signbit(erf(np.array(-0.0)))


def test_erf_at_nan_and_the_infinities_and_in_float32():
    special = np.array([np.nan, np.inf, -np.inf])
    np.testing.assert_array_equal(erf(special), [np.nan, 1.0, -1.0])
    np.testing.assert_array_equal(erfc(special), [np.nan, 0.0, 2.0])
    x32 = np.linspace(-3, 3, 101, dtype=np.float32)
    assert erf(x32).dtype == np.float32
    np.testing.assert_allclose(erf(x32), [math.erf(v) for v in x32.astype(np.float64)],
                               rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("layout", ["C", "F", "transposed", "sliced", "0-d", "empty"])
def test_erf_keeps_the_shape_and_values_of_any_layout(layout):
    """Each entry's value is its own, whatever the layout, the size (more than one of the
    blocks the work is cut into) and the ranges of its neighbours."""
    rng = np.random.default_rng(1)
    base = rng.standard_normal((200, 180)) * rng.choice([0.1, 1.0, 6.0, 40.0], (200, 180))
    base[7, :5] = [np.nan, np.inf, -np.inf, -0.0, 0.0]
    x = {"C": base, "F": np.asfortranarray(base), "transposed": base.T,
         "sliced": base[::3, 1::2], "0-d": np.array(-2.5), "empty": base[:0]}[layout]
    some = rng.choice(x.size, min(x.size, 300), replace=False)
    for f, scalar in ((erf, math.erf), (erfc, math.erfc)):
        got = f(x)
        assert got.shape == x.shape and got.dtype == np.float64
        np.testing.assert_array_equal(got, f(np.ascontiguousarray(x)))
        alone = [f(np.array(v)) for v in x.ravel()[some]]  # each entry by itself
        np.testing.assert_array_equal(got.ravel()[some], alone)
        finite = np.isfinite(x)
        expected = np.array([scalar(v) for v in x[finite]])
        scale = np.maximum(np.abs(expected), np.finfo(np.float64).tiny)  # (subnormals)
        assert (np.abs(got[finite] - expected) / scale).max(initial=0) < \
            8 * np.finfo(np.float64).eps


def test_erf_on_several_threads_is_erf_on_one():
    """A large input's blocks are shared out between threads: the same values as on one."""
    x = np.random.default_rng(2).standard_normal(300_001) * 5
    previous = tensorgrad.get_num_threads()
    try:
        tensorgrad.set_num_threads(1)
        alone = erf(x), erfc(x)
        tensorgrad.set_num_threads(2)
        shared = erf(x), erfc(x)
    finally:
        tensorgrad.set_num_threads(previous)
    for a, b in zip(alone, shared):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(alone[0][::1000], [math.erf(v) for v in x[::1000]],
                               rtol=8 * np.finfo(np.float64).eps, atol=1e-300)

def value_erf(v: Value) -> Value:
    """erf as one Value node: its value from math.erf, its slope 2/sqrt(pi) exp(-x**2)."""
    return Value(math.erf(v.data), (v,), (2 / math.sqrt(math.pi) * math.exp(-v.data ** 2),))


def value_tanh(v: Value) -> Value:
    return 1 - 2 / ((2 * v).exp() + 1)


def value_gelu(values: np.ndarray, approximate: str) -> np.ndarray:
    def one(x: Value) -> Value:
        if approximate == "tanh":
            inner = math.sqrt(2 / math.pi) * (x + 0.044715 * x * x * x)
            return 0.5 * x * (1 + value_tanh(inner))
        return 0.5 * x * (1 + value_erf(x * math.sqrt(0.5)))

    return np.vectorize(one, otypes=[object])(as_value_array(values))


@given(data=st.data())
def test_erf_matches_values(data):
    x = data.draw(laid_out(data.draw(shapes(size_zero=True)), data.draw(float_dtypes), WIDE))
    check_against_values(tensorgrad.erf,
                         lambda v: np.vectorize(value_erf, otypes=[object])(v), x)


@pytest.mark.parametrize("approximate", ["none", "tanh"])
@given(data=st.data())
def test_gelu_matches_values(approximate, data):
    x = data.draw(laid_out(data.draw(shapes(size_zero=True)), data.draw(float_dtypes), WIDE))
    check_against_values(lambda t: F.gelu(t, approximate=approximate),
                         lambda v: value_gelu(v, approximate), x,
                         upstream=data.draw(upstream_layouts))


def test_gelu_far_out_and_at_nan_and_infinities():
    x = Tensor([-np.inf, -40.0, -10.0, 0.0, 10.0, np.inf, np.nan], requires_grad=True)
    out = F.gelu(x)
    out.backward(np.ones(7))
    np.testing.assert_array_equal(out.data[[1, 3, 4, 5]], [0.0, 0.0, 10.0, np.inf])
    assert -1e-22 < out.data[2] < 0  # x * Phi(x), not rounded to 0: erfc keeps it
    assert np.isnan(out.data[[0, 6]]).all() and np.isnan(x.grad[[0, 5, 6]]).all()
    np.testing.assert_allclose(x.grad[[1, 3, 4]], [0.0, 0.5, 1.0])
    with pytest.raises(ValueError, match="approximate"):
        F.gelu(x, approximate="sigmoid")


@pytest.mark.parametrize("approximate", ["none", "tanh"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout", ["C", "F", "transposed", "sliced"])
def test_gelu_of_a_large_tensor_is_each_entry_gelu_alone(approximate, dtype, layout):
    """A large input goes through in blocks, shared between threads: each entry's value and
    gradient are its own (as if it were alone), on one thread or two, in any layout."""
    rng = np.random.default_rng(3)
    base = rng.standard_normal((400, 900)) * rng.choice([0.1, 1.0, 6.0, 40.0], (400, 900))
    base[5, :6] = [np.nan, np.inf, -np.inf, -0.0, 1e30, -1e30]
    base = base.astype(dtype)
    x = {"C": base, "F": np.asfortranarray(base), "transposed": base.T,
         "sliced": base[::2, 1::3]}[layout]
    upstream = rng.standard_normal(x.shape).astype(dtype)
    previous = tensorgrad.get_num_threads()
    runs = []
    try:
        for threads in (1, 2):
            tensorgrad.set_num_threads(threads)
            t = Tensor(x, requires_grad=True)
            out = F.gelu(t, approximate=approximate)
            out.backward(upstream)
            runs.append((out.data, t.grad))
    finally:
        tensorgrad.set_num_threads(previous)
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)
    out, grad = runs[0]
    assert out.shape == grad.shape == x.shape and out.dtype == grad.dtype == dtype
    special = [(5, j) for j in range(6)] if layout in ("C", "F") else []
    for i in [tuple(i) for i in rng.integers(0, x.shape, (200, 2))] + special:
        alone = Tensor(np.array([x[i]]), requires_grad=True)
        value = F.gelu(alone, approximate=approximate)
        value.backward(np.array([upstream[i]]))
        np.testing.assert_array_equal([out[i], grad[i]], [value.data[0], alone.grad[0]])


@pytest.mark.parametrize("layout", ["C", "transposed", "sliced"])
def test_gelu_refuses_to_backpropagate_through_an_input_written_since(layout):
    x = Tensor(np.random.default_rng(4).standard_normal((6, 8)), requires_grad=True) * 1.0
    view = {"C": x, "transposed": x.t(), "sliced": x[::2, 1::3]}[layout]
    out = F.gelu(view)
    with tensorgrad.no_grad():
        x += 1.0
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        out.sum().backward()


# ---- layer_norm ---------------------------------------------------------------------------------


def value_layer_norm(xv, count: int, eps: float, wv=None, bv=None):
    rows = as_value_array(xv).reshape(-1, count)
    out = np.empty_like(rows)
    for r, row in enumerate(rows):
        mean = sum(row, Value(0.0)) * (1 / count)
        centered = [x - mean for x in row]
        variance = sum((c * c for c in centered), Value(0.0)) * (1 / count)
        scale = (variance + eps) ** -0.5
        out[r] = [c * scale for c in centered]
    out = out.reshape(np.shape(xv))
    if wv is not None:
        out = out * wv
    if bv is not None:
        out = out + bv
    return out


@pytest.mark.parametrize("affine", ["none", "weight", "weight and bias"])
@given(data=st.data())
def test_layer_norm_matches_values(affine, data):
    shape = data.draw(shapes(min_dims=1, max_dims=3, size_zero=True), label="shape")
    dims = data.draw(st.integers(1, len(shape)), label="normalized dims")
    normalized = shape[len(shape) - dims:]
    dtype = data.draw(float_dtypes, label="dtype")
    inputs = [data.draw(laid_out(shape, dtype, ANY), label="x")]
    if affine != "none":
        inputs.append(data.draw(laid_out(normalized, dtype, ANY), label="weight"))
    if affine == "weight and bias":
        inputs.append(data.draw(laid_out(normalized, dtype, ANY), label="bias"))
    eps = data.draw(st.sampled_from([1e-5, 0.5]), label="eps")
    count = math.prod(normalized)
    out = check_against_values(
        lambda *t: F.layer_norm(t[0], normalized, *t[1:], eps=eps),
        lambda *v: value_layer_norm(v[0], count, eps, *v[1:]) if count else v[0] * 1.0,
        *inputs, upstream=data.draw(upstream_layouts))
    assert out.shape == shape and out.dtype == dtype


def test_layer_norm_refuses_shapes_that_do_not_fit():
    x = Tensor(np.ones((2, 3)))
    with pytest.raises(RuntimeError, match="normalized_shape"):
        F.layer_norm(x, (2,))
    with pytest.raises(RuntimeError, match="weight"):
        F.layer_norm(x, 3, weight=Tensor(np.ones(2)))
    assert F.layer_norm(x, [3]).tolist() == [[0.0] * 3] * 2  # constant rows: zeros


# ---- dropout ------------------------------------------------------------------------------------


def test_dropout_zeros_a_fraction_p_and_scales_the_rest():
    tensorgrad.manual_seed(0)
    x = Tensor(np.full(100_000, 2.0), requires_grad=True)
    out = F.dropout(x, 0.25)
    kept = out.detach().numpy() != 0
    assert abs(kept.mean() - 0.75) < 0.01
    np.testing.assert_array_equal(out.data[kept], 2.0 / 0.75)
    out.backward(np.ones(x.shape))
    np.testing.assert_array_equal(x.grad, np.where(kept, 1 / 0.75, 0.0))


def test_dropout_repeats_after_manual_seed_and_draws_anew_otherwise():
    x = Tensor(np.ones(64))
    tensorgrad.manual_seed(5)
    first = F.dropout(x, 0.5).data
    second = F.dropout(x, 0.5).data
    tensorgrad.manual_seed(5)
    np.testing.assert_array_equal(F.dropout(x, 0.5).data, first)
    assert not np.array_equal(first, second)


def test_dropout_off_at_p_0_and_in_eval_all_off_at_p_1():
    x = Tensor([1.0, np.nan, 3.0], requires_grad=True)
    assert F.dropout(x, 0.0) is x and F.dropout(x, 0.7, training=False) is x
    out = F.dropout(x, 1.0)
    np.testing.assert_array_equal(out.data, [0.0, np.nan, 0.0])  # x * 0, as PyTorch
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 0.0])
    for p in (-0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match="between 0 and 1"):
            F.dropout(x, p)
    with pytest.raises(RuntimeError, match="floating"):  # (PyTorch's type)
        F.dropout(Tensor([1, 2]), 0.5)


def test_dropout_inside_a_captured_step_draws_each_replay():
    w = Tensor(np.ones(256), requires_grad=True)
    step = tensorgrad.capture(lambda: F.dropout(w, 0.5).sum())
    losses = [step().item() for _ in range(5)]  # two recordings, then replays
    assert len(set(losses)) > 1


# ---- attention with dropout and a mask that learns ----------------------------------------------


def value_attention(qv, kv, vv, mv, scale):
    scores = v_matmul(qv, np.swapaxes(kv, -1, -2)) * scale + mv
    return v_matmul(value_softmax(scores, -1), vv)


@given(data=st.data())
def test_a_floating_attn_mask_that_requires_grad_gets_its_gradient(data):
    batch = data.draw(shapes(max_dims=2, max_side=2), label="batch")
    L, S, E = (data.draw(st.integers(1, 3), label=n) for n in ("L", "S", "E"))
    dtype = data.draw(float_dtypes, label="dtype")
    mask_shape = data.draw(st.sampled_from([(L, S), (1, S), (*batch, L, S)]), label="mask")
    q, k, v = (data.draw(laid_out((*batch, n, E), dtype, SMALL)) for n in (L, S, S))
    m = data.draw(laid_out(mask_shape, dtype, SMALL), label="mask values")
    scale = 1 / math.sqrt(E)
    check_against_values(
        lambda qt, kt, vt, mt: F.scaled_dot_product_attention(qt, kt, vt, attn_mask=mt),
        lambda qv, kv, vv, mv: value_attention(qv, kv, vv, mv, scale), q, k, v, m,
        upstream=data.draw(upstream_layouts))


def seeded_attention(q, k, v, p):
    """Attention with dropout whose draws repeat: a function of the inputs alone."""
    tensorgrad.manual_seed(123)
    return F.scaled_dot_product_attention(q, k, v, dropout_p=p, is_causal=True)


def test_attention_dropout_has_the_gradient_of_its_forward():
    rng = np.random.default_rng(1)
    q, k, v = (Tensor(rng.standard_normal((2, 3, 4, 5)), requires_grad=True) for _ in range(3))
    with pytest.warns(tensorgrad.GradcheckWarning):  # (seeding cannot run on Values)
        assert tensorgrad.gradcheck(lambda a, b, c: seeded_attention(a, b, c, 0.4), q, k, v)


def test_attention_dropout_is_unbiased_and_off_at_0_and_all_off_at_1():
    rng = np.random.default_rng(2)
    q, k, v = (Tensor(rng.standard_normal((2, 4, 3))) for _ in range(3))
    plain = F.scaled_dot_product_attention(q, k, v).data
    tensorgrad.manual_seed(0)
    mean = np.mean([F.scaled_dot_product_attention(q, k, v, dropout_p=0.3).data
                    for _ in range(4000)], axis=0)
    np.testing.assert_allclose(mean, plain, atol=0.05)
    np.testing.assert_array_equal(F.scaled_dot_product_attention(q, k, v, dropout_p=0.0).data,
                                  plain)
    assert not F.scaled_dot_product_attention(q, k, v, dropout_p=1.0).data.any()
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.scaled_dot_product_attention(q, k, v, dropout_p=2.0)


# ---- norm, topk, split, chunk -------------------------------------------------------------------


def value_abs(values):
    return np.vectorize(lambda x: x.relu() + (-x).relu(), otypes=[object])(
        as_value_array(values))


@pytest.mark.parametrize("p", [1, 2, 3, 0.5, "fro"])
@given(data=st.data())
def test_norm_matches_values(p, data):
    shape = data.draw(shapes(max_dims=3), label="shape")
    dtype = data.draw(float_dtypes, label="dtype")
    x = data.draw(laid_out(shape, dtype, AWAY_FROM_ZERO), label="x")
    ndim = len(shape)
    dim = data.draw(st.one_of(st.none(), st.integers(-max(ndim, 1), max(ndim, 1) - 1)),
                    label="dim")
    keepdim = data.draw(st.booleans(), label="keepdim")
    order = 2 if p == "fro" else p
    axes = tuple(range(ndim)) if dim is None or not ndim else (dim % ndim,)

    def value_norm(xv):
        powered = value_abs(xv) ** order
        total = np.sum(powered, axis=axes, keepdims=keepdim) if ndim else powered
        return np.vectorize(lambda t: t ** (1 / order), otypes=[object])(as_value_array(total))

    check_against_values(lambda t: t.norm(p, dim, keepdim), value_norm, x)


def test_norm_at_zero_at_the_infinities_and_its_other_orders():
    x = Tensor([3.0, -3.0, 1.0], requires_grad=True)
    assert x.norm(float("inf")).item() == 3.0 and x.norm(-float("inf")).item() == 1.0
    x.norm(float("inf")).backward()
    np.testing.assert_array_equal(x.grad, [0.5, -0.5, 0.0])  # ties share, as PyTorch
    assert Tensor([0.0, 2.0, 0.0]).norm(0).item() == 1.0
    zero = Tensor([0.0, 0.0], requires_grad=True)
    zero.norm().backward()
    np.testing.assert_array_equal(zero.grad, [0.0, 0.0])  # not NaN: 0 at a zero norm
    with pytest.raises(RuntimeError, match="floating"):
        Tensor([1, 2]).norm()


@given(data=st.data())
def test_topk_values_match_values_and_indices_point_at_them(data):
    shape = data.draw(shapes(min_dims=1, max_dims=3, size_zero=True), label="shape")
    dtype = data.draw(float_dtypes, label="dtype")
    x = data.draw(laid_out(shape, dtype, ANY, unique=True), label="x")
    dim = data.draw(st.integers(-len(shape), len(shape) - 1), label="dim")
    k = data.draw(st.integers(0, shape[dim]), label="k")
    largest = data.draw(st.booleans(), label="largest")
    sign = -1 if largest else 1
    values = x.values

    def value_topk(xv):
        order = np.argsort(sign * values, axis=dim, kind="stable")
        return np.take_along_axis(xv, np.take(order, np.arange(k), axis=dim), axis=dim)

    out = check_against_values(lambda t: t.topk(k, dim, largest).values, value_topk, x)
    indices = tensorgrad.topk(Tensor(values), k, dim, largest).indices
    assert indices.dtype == np.int64
    np.testing.assert_array_equal(np.take_along_axis(values, indices.data, axis=dim), out.data)


def test_topk_puts_nan_first_and_ties_in_index_order():
    top = Tensor([1.0, 3.0, 3.0, np.nan, 2.0]).topk(3)
    np.testing.assert_array_equal(top.values.data, [np.nan, 3.0, 3.0])
    assert top.indices.tolist() == [3, 1, 2]
    assert Tensor([2, 5, 1]).topk(2, largest=False).indices.tolist() == [2, 0]
    assert Tensor(4.0).topk(1).values.item() == 4.0
    with pytest.raises(RuntimeError, match="out of range"):
        Tensor([1.0, 2.0]).topk(3)


@given(data=st.data())
def test_split_and_chunk_are_pieces_that_pass_gradients_back(data):
    shape = data.draw(shapes(min_dims=1, max_dims=3, size_zero=True), label="shape")
    dtype = data.draw(float_dtypes, label="dtype")
    x = data.draw(laid_out(shape, dtype, ANY), label="x")
    dim = data.draw(st.integers(-len(shape), len(shape) - 1), label="dim")
    length = shape[dim]
    how = data.draw(st.sampled_from(["size", "sizes", "chunk"]), label="how")
    if how == "size":
        arg = data.draw(st.integers(1, 4), label="size")
    elif how == "sizes":
        cuts = sorted(data.draw(st.lists(st.integers(0, length), max_size=3), label="cuts"))
        arg = [b - a for a, b in zip([0, *cuts], [*cuts, length])]
    else:
        arg = data.draw(st.integers(1, 4), label="chunks")
    weights = np.arange(1, 10)

    def pieces(t):
        return t.chunk(arg, dim) if how == "chunk" else t.split(arg, dim)

    def tensor_fn(t):  # each piece weighted differently, so a swap would show
        return tensorgrad.cat([p * float(w) for p, w in zip(pieces(t), weights)], dim)

    def value_fn(v):
        ends = np.cumsum([p.shape[dim] for p in pieces(Tensor(x.values))])
        out = v * 0.0
        moved, target = np.moveaxis(v, dim, 0), np.moveaxis(out, dim, 0)
        for w, start, end in zip(weights, [0, *ends[:-1]], ends):
            target[start:end] = target[start:end] + moved[start:end] * float(w)
        return out

    check_against_values(tensor_fn, value_fn, x)
    sizes = [p.shape[dim] for p in pieces(Tensor(x.values))]
    assert sum(sizes) == length


def test_split_and_chunk_sizes_as_pytorch():
    x = Tensor(np.arange(5.0))
    assert [p.tolist() for p in x.split(2)] == [[0, 1], [2, 3], [4]]
    assert [len(p) for p in x.chunk(3)] == [2, 2, 1] and [len(p) for p in x.chunk(4)] == [2, 2, 1]
    assert [len(p) for p in Tensor(np.zeros(0)).chunk(3)] == [0, 0, 0]
    with pytest.raises(RuntimeError, match="add up"):
        x.split([2, 2])
    with pytest.raises(RuntimeError, match="positive"):
        x.chunk(0)


# ---- masked_fill broadcasting, in-place assignment -----------------------------------------------


def test_masked_fill_broadcasts_the_input_against_the_mask():
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    mask = Tensor(np.array([[True, False, False], [False, False, True]]))
    out = x.masked_fill(mask, -1.0)
    assert out.tolist() == [[-1.0, 2.0, 3.0], [1.0, 2.0, -1.0]]
    out.backward(np.ones((2, 3)))
    assert x.grad.tolist() == [1.0, 2.0, 1.0]


def test_setitem_writes_where_pytorch_allows_it_and_refuses_where_it_does_not():
    logits = Tensor([[1.0, 5.0, 3.0], [2.0, 0.0, 4.0]])
    v = logits.topk(2).values
    logits[logits < v[:, [-1]]] = -float("inf")  # nanoGPT's top-k sampling
    assert logits.tolist() == [[-np.inf, 5.0, 3.0], [2.0, -np.inf, 4.0]]
    weight = Tensor(np.zeros(3), requires_grad=True)
    with pytest.raises(RuntimeError, match="in-place"):
        weight[0] = 1.0
    with tensorgrad.no_grad():
        weight[0] = 1.0
        weight.masked_fill_(Tensor(np.array([False, True, False])), 7.0)
    assert weight.tolist() == [1.0, 7.0, 0.0]
    counts = Tensor(np.zeros(3, np.int64))
    counts[Tensor(np.array([0, 2]))] = 2.9  # cast to the tensor's dtype, as PyTorch
    assert counts.tolist() == [2, 0, 2]
    with pytest.raises(RuntimeError, match="cannot assign"):
        counts[:2] = Tensor(np.ones(3))


def test_indexing_with_lists_keeps_the_dimension():
    x = Tensor(np.arange(24.0).reshape(2, 3, 4), requires_grad=True)
    last = x[:, [-1], :]
    assert last.shape == (2, 1, 4)
    last.sum().backward()
    assert x.grad[:, 2].all() and not x.grad[:, :2].any()


def test_softmax_as_a_method_and_floating_only_ops():
    x = Tensor([[1.0, 2.0], [0.5, 0.5]])
    np.testing.assert_array_equal(x.softmax(-1).data, F.softmax(x, -1).data)
    np.testing.assert_array_equal(x.log_softmax(0).data, F.log_softmax(x, 0).data)
    for op, error in ((F.gelu, NotImplementedError),  # (PyTorch's types)
                      (lambda t: F.layer_norm(t, 2), NotImplementedError),
                      (lambda t: F.dropout(t, 0.5), RuntimeError)):
        with pytest.raises(error, match="floating"):
            op(Tensor([[1, 2], [3, 4]]))
    with pytest.raises(RuntimeError, match="no categories"):
        tensorgrad.multinomial(Tensor(np.zeros((2, 0))), 1)


def test_contiguous_makes_a_transposed_tensor_viewable_as_pytorch():
    x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    t = x.transpose(0, 1)
    with pytest.raises(RuntimeError, match="view"):
        t.view(-1)
    flat = t.contiguous().view(-1)
    assert flat.tolist() == [0.0, 3.0, 1.0, 4.0, 2.0, 5.0]
    assert t.contiguous().detach().numpy().flags.c_contiguous
    flat.backward(np.arange(6.0))
    assert x.grad.tolist() == [[0.0, 2.0, 4.0], [1.0, 3.0, 5.0]]
    assert x.contiguous() is x and x.view(3, -1).shape == (3, 2)
    assert x.view(-1, 2, 1).shape == (3, 2, 1)


@given(data=st.data())
def test_clamp_matches_values(data):
    x = data.draw(laid_out(data.draw(shapes(size_zero=True)), data.draw(float_dtypes), ANY))
    low, high = data.draw(st.sampled_from([(-1.0, 1.0), (None, 0.5), (-0.5, None), (1.0, -1.0)]))

    def value_clamp(values):
        def one(v):
            if low is not None and v.data < low:
                return Value(low) if high is None or low <= high else Value(high)
            if high is not None and v.data > high:
                return Value(high)
            return v
        return np.vectorize(one, otypes=[object])(as_value_array(values))

    check_against_values(lambda t: t.clamp(low, high), value_clamp, x)


def test_isnan_isinf_isfinite_allclose_and_equal():
    x = Tensor([np.nan, np.inf, -1.0])
    assert tensorgrad.isnan(x).tolist() == [True, False, False]
    assert x.isinf().tolist() == [False, True, False]
    assert x.isfinite().tolist() == [False, False, True]
    assert tensorgrad.allclose(Tensor([1.0]), Tensor([1.0 + 1e-9]))
    assert not tensorgrad.equal(Tensor([1.0]), Tensor([1.0, 1.0]))
    with pytest.raises(RuntimeError, match="At least one of 'min' or 'max'"):
        x.clamp()


@given(data=st.data())
def test_cumsum_matches_values(data):
    shape = data.draw(shapes(min_dims=1, size_zero=True), label="shape")
    x = data.draw(laid_out(shape, data.draw(float_dtypes), ANY), label="x")
    dim = data.draw(st.integers(-len(shape), len(shape) - 1), label="dim")

    def value_cumsum(values):
        out = np.empty_like(values)
        moved, target = np.moveaxis(values, dim, 0), np.moveaxis(out, dim, 0)
        running = None
        for i in range(moved.shape[0]):
            running = moved[i] if running is None else running + moved[i]
            target[i] = running
        return out

    check_against_values(lambda t: t.cumsum(dim), value_cumsum, x)


@given(data=st.data())
def test_remainder_matches_values(data):
    dtype = data.draw(float_dtypes, label="dtype")
    a = data.draw(laid_out((3,), dtype, ANY), label="a")
    b = data.draw(laid_out((3,), dtype, AWAY_FROM_ZERO), label="b")
    quotient = np.floor_divide(a.values, b.values).astype(np.float64)  # as the op rounds it

    def value_remainder(av, bv):  # a - b * floor(a / b), the floor a constant
        return av - bv * quotient

    check_against_values(lambda at, bt: at % bt, value_remainder, a, b)


def test_floor_division_has_gradient_zero():
    x = Tensor([5.0, -5.0], requires_grad=True)
    out = x // 2
    assert out.tolist() == [2.0, -3.0]
    out.sum().backward()
    assert x.grad.tolist() == [0.0, 0.0]


def test_the_as_forms_take_the_other_tensors_shape():
    x, other = Tensor(np.arange(6.0)), Tensor(np.zeros((2, 3)))
    assert x.view_as(other).shape == (2, 3) and x.reshape_as(other).shape == (2, 3)
    assert Tensor(np.ones(3)).expand_as(other).shape == (2, 3)
    with pytest.raises(TypeError, match="integer classes"):
        F.one_hot(Tensor([0.5]))
    with pytest.raises(RuntimeError, match="outside"):
        F.one_hot(Tensor([3]), 2)


@pytest.mark.parametrize("upper", [False, True])
@given(data=st.data())
def test_tril_and_triu_match_values(upper, data):
    shape = data.draw(shapes(min_dims=2, max_dims=3, size_zero=True), label="shape")
    x = data.draw(laid_out(shape, data.draw(float_dtypes), ANY), label="x")
    diagonal = data.draw(st.integers(-3, 3), label="diagonal")
    rows, cols = np.indices(shape[-2:])
    keep = (cols - rows >= diagonal) if upper else (cols - rows <= diagonal)
    check_against_values(lambda t: t.triu(diagonal) if upper else t.tril(diagonal),
                         lambda v: np.where(keep, v, Value(0.0)), x)


@given(data=st.data())
def test_var_and_std_match_values(data):
    shape = data.draw(shapes(min_dims=1, max_dims=3), label="shape")
    x = data.draw(laid_out(shape, data.draw(float_dtypes), ANY, unique=True), label="x")
    dim = data.draw(st.integers(-len(shape), len(shape) - 1), label="dim")
    count = shape[dim]
    correction = data.draw(st.sampled_from([0, 1]) if count > 1 else st.just(0), label="corr")

    def value_var(values):
        mean = np.sum(values, axis=dim, keepdims=True) * (1 / count)
        deviations = values - mean
        return np.sum(deviations * deviations, axis=dim) * (1 / (count - correction))

    check_against_values(lambda t: t.var(dim, correction=correction), value_var, x)
    spread = x.values.astype(np.float64).var(axis=dim).min()
    if spread > 1e-3:  # (at a variance of 0, std's slope is 0 by convention: tested apart)
        check_against_values(lambda t: t.std(dim, correction=correction),
                             lambda v: value_var(v) ** 0.5, x)


def test_std_of_a_constant_has_slope_zero_as_pytorch():
    x = Tensor([[2.0, 2.0, 2.0], [1.0, 2.0, 3.0]], requires_grad=True)
    x.std(-1).sum().backward()
    assert x.grad[0].tolist() == [0.0, 0.0, 0.0]  # not NaN (0 * inf)
    np.testing.assert_allclose(x.grad[1], [-0.5, 0.0, 0.5])
