"""The fused functional ops, against the Value engine and against their compositions from
Tensor primitives (tests/reference.py)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from reference import (
    FLOAT32_RTOL,
    as_value_array,
    assert_close,
    check_against_values,
    composed_cross_entropy,
    composed_log_softmax,
    composed_softmax,
    upstream_weights,
    v_matmul,
    v_mean,
    value_cross_entropy,
    value_log_softmax,
    value_softmax,
)
from strategies import (
    Domain,
    LaidOut,
    as_laid_out,
    float_dtypes,
    laid_out,
    shapes,
    upstream_layouts,
)

import tensorgrad.functional as F
from tensorgrad import Tensor, Value, where

LOGITS = Domain(((-4.0, 4.0),))


@st.composite
def logits_and_axis(draw, size_zero: bool = False):
    """Logits of 0 to 3 dims in a drawn dtype and layout, and a dim along them."""
    shape = draw(shapes(max_dims=3, max_side=4, size_zero=size_zero), label="shape")
    ndim = max(len(shape), 1)
    axis = draw(st.integers(-ndim, ndim - 1), label="axis")
    logits = draw(laid_out(shape, draw(float_dtypes), LOGITS), label="logits")
    return logits, axis


@st.composite
def logits_and_targets(draw):
    """Logits (N, C) or (B, N, C) and integer targets of the leading shape (the classes last:
    the tests move them to dimension 1, PyTorch's layout, for ``F.cross_entropy``)."""
    leading = draw(
        st.one_of(
            st.tuples(st.integers(1, 5)),
            st.tuples(st.integers(1, 3), st.integers(1, 4)),
        ),
        label="leading shape",
    )
    classes = draw(st.integers(1, 5), label="classes")
    logits = draw(laid_out((*leading, classes), draw(float_dtypes), LOGITS), label="logits")
    dtype = draw(st.sampled_from([np.int64, np.int32]), label="target dtype")
    targets = draw(hnp.arrays(dtype, leading, elements=st.integers(0, classes - 1)))
    return logits, targets


def check_against_composition(fused, composed, x: np.ndarray | LaidOut,
                              rtol: float | None = None) -> None:
    """Same forward values and same input gradient as the composition from primitives."""
    x = x if isinstance(x, LaidOut) else as_laid_out(x)
    if rtol is None:
        rtol = FLOAT32_RTOL if x.dtype == np.float32 else 1e-10
    results = []
    for fn in (fused, composed):
        t = Tensor(x.leaf, requires_grad=True)
        out = fn(x.layout.view(t))
        out.backward(upstream_weights(out.shape, seed=1).astype(out.dtype))
        assert t.grad.dtype == t.dtype
        results.append((out.data, t.grad))
    (fused_out, fused_grad), (composed_out, composed_grad) = results
    assert_close(fused_out, composed_out, "forward vs composition", rtol)
    assert_close(fused_grad, composed_grad, "grad vs composition", rtol)


# ---- softmax and log_softmax --------------------------------------------------------------------


@given(case=logits_and_axis())
def test_softmax_matches_values_and_composition(case):
    logits, axis = case
    out = check_against_values(
        lambda x: F.softmax(x, dim=axis), lambda x: value_softmax(x, axis), logits
    )
    np.testing.assert_allclose(out.data.sum(axis=axis if out.ndim else None), 1.0, rtol=1e-6)
    assert out.dtype == logits.dtype
    check_against_composition(
        lambda x: F.softmax(x, axis=axis), lambda x: composed_softmax(x, axis), logits
    )  # (axis: NumPy's name, an alias of dim)


@given(case=logits_and_axis())
def test_log_softmax_matches_values_and_composition(case):
    logits, axis = case
    check_against_values(
        lambda x: F.log_softmax(x, dim=axis), lambda x: value_log_softmax(x, axis), logits
    )
    check_against_composition(
        lambda x: F.log_softmax(x, axis=axis), lambda x: composed_log_softmax(x, axis), logits
    )


def test_softmax_without_dim_takes_pytorchs_deprecated_choice_and_warns():
    """Dimension 1 of a matrix (its last), dimension 0 of a 3-d tensor (not its last)."""
    x = np.arange(24.0).reshape(2, 3, 4) / 10
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        np.testing.assert_array_equal(F.softmax(Tensor(x[0])).data,
                                      F.softmax(Tensor(x[0]), dim=1).data)
    with pytest.warns(UserWarning, match="Implicit dimension choice for log_softmax"):
        np.testing.assert_array_equal(F.log_softmax(Tensor(x)).data,
                                      F.log_softmax(Tensor(x), dim=0).data)


@pytest.mark.parametrize("offset", [1000.0, -1000.0, 1e6])
@given(case=logits_and_axis())
def test_softmax_and_log_softmax_are_shift_invariant_and_finite_for_huge_logits(offset, case):
    logits, axis = case
    logits = logits.values.astype(np.float64)
    for fn in (F.softmax, F.log_softmax):
        x = Tensor(logits + offset, requires_grad=True)
        out = fn(x, dim=axis)
        weights = upstream_weights(out.shape)
        out.backward(weights)
        assert np.isfinite(out.data).all() and np.isfinite(x.grad).all()
        reference = Tensor(logits, requires_grad=True)
        expected = fn(reference, dim=axis)
        expected.backward(weights)
        # Adding the offset rounds the logits themselves, by up to ~|offset| * 1e-16.
        tolerance = 1e-12 * max(1.0, abs(offset))
        np.testing.assert_allclose(out.data, expected.data, rtol=tolerance, atol=tolerance)
        np.testing.assert_allclose(x.grad, reference.grad, rtol=tolerance, atol=tolerance)


def test_log_softmax_of_widely_spread_logits_is_exact():
    out = F.log_softmax(Tensor([1000.0, 0.0, -1000.0]), dim=0)
    np.testing.assert_array_equal(out.data, [0.0, -1000.0, -2000.0])
    np.testing.assert_array_equal(F.softmax(Tensor([1000.0, 0.0, -1000.0]), 0).data,
                                  [1.0, 0.0, 0.0])


def test_softmax_after_masked_fill_with_minus_infinity_ignores_masked_entries():
    x = Tensor([[0.5, -1.0, 2.0], [1.0, 3.0, -2.0]], requires_grad=True)
    mask = np.array([[False, True, False], [False, False, True]])
    probs = F.softmax(x.masked_fill(mask, -np.inf), dim=-1)
    np.testing.assert_array_equal(probs.data[mask], 0.0)
    np.testing.assert_allclose(probs.data.sum(axis=-1), 1.0)
    (probs * Tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])).sum().backward()
    assert np.isfinite(x.grad).all()
    np.testing.assert_array_equal(x.grad[mask], 0.0)


# ---- cross_entropy ------------------------------------------------------------------------------


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@given(case=logits_and_targets())
def test_cross_entropy_matches_values_and_composition(reduction, case):
    logits, targets = case

    def pytorch_layout(x):  # (B, N, C) logits as (B, C, N)
        return x.transpose(1, 2) if x.ndim == 3 else x

    out = check_against_values(
        lambda x: F.cross_entropy(pytorch_layout(x), targets, reduction=reduction),
        lambda x: value_cross_entropy(x, targets, reduction),
        logits,
    )
    assert out.shape == (targets.shape if reduction == "none" else ())
    assert out.dtype == logits.dtype
    check_against_composition(
        lambda x: F.cross_entropy(pytorch_layout(x), targets, reduction=reduction),
        lambda x: composed_cross_entropy(x, targets, reduction),
        logits,
    )


def test_cross_entropy_defaults_to_mean_and_backward_needs_no_grad_argument():
    logits = np.array([[2.0, 0.5, -1.0], [0.0, 0.0, 3.0]])
    targets = np.array([0, 1])
    x = Tensor(logits, requires_grad=True)
    loss = F.cross_entropy(x, targets)
    loss.backward()
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    expected_loss = -np.log(p[[0, 1], targets]).mean()
    assert loss.item() == pytest.approx(expected_loss, rel=1e-12)
    onehot = np.eye(3)[targets]
    np.testing.assert_allclose(x.grad, (p - onehot) / 2, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("ignore_index", [0, 2, -1, -100])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_ignores_the_targets_equal_to_ignore_index_a_class_too(reduction,
                                                                             ignore_index):
    logits = np.array([[2.0, 0.5, -1.0], [0.0, 1.0, 3.0], [1.0, -2.0, 0.5], [0.5, 0.5, 0.0]])
    targets = np.array([0, 2, 1, ignore_index])
    kept = targets != ignore_index
    x = Tensor(logits, requires_grad=True)
    out = F.cross_entropy(x, targets, reduction=reduction, ignore_index=ignore_index)
    out.backward(np.ones(out.shape))
    expected = Tensor(logits, requires_grad=True)
    losses = composed_cross_entropy(expected[np.flatnonzero(kept)], targets[kept], "none")
    total = {"mean": losses.mean(), "sum": losses.sum(), "none": losses}[reduction]
    total.backward(np.ones(total.shape))
    got = out.data[kept] if reduction == "none" else out.data
    assert_close(got, total.data, "loss")
    if reduction == "none":
        assert not out.data[~kept].any()
    assert_close(x.grad, expected.grad, "grad")
    assert not x.grad[~kept].any()


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_of_huge_logits_is_finite_and_shift_invariant(reduction):
    logits = np.array([[3.0, -1.0, 0.5, 2.0], [0.0, 1.0, -2.0, 4.0]])
    targets = np.array([1, 3])
    shifted = Tensor(logits + 1000.0, requires_grad=True)
    plain = Tensor(logits, requires_grad=True)
    loss_shifted = F.cross_entropy(shifted, targets, reduction=reduction)
    loss_plain = F.cross_entropy(plain, targets, reduction=reduction)
    assert np.isfinite(loss_shifted.data).all()
    np.testing.assert_allclose(loss_shifted.data, loss_plain.data, rtol=1e-9)
    weights = np.ones(loss_plain.shape)
    loss_shifted.backward(weights)
    loss_plain.backward(weights)
    np.testing.assert_allclose(shifted.grad, plain.grad, rtol=1e-9, atol=1e-12)


# ---- the other fused ops a GPT uses: linear, rms_norm, scaled_dot_product_attention ----------
# (not in the API contract's list, but fused with hand-derived backward rules all the same)

SMALL = Domain(((-2.0, 2.0),))
leading_shapes = shapes(max_dims=2, size_zero=True)


@given(data=st.data())
def test_linear_matches_values_and_composition(data):
    leading = data.draw(leading_shapes, label="leading")
    n_in = data.draw(st.integers(1, 4), label="in features")
    n_out = data.draw(st.integers(1, 4), label="out features")
    dtype = data.draw(float_dtypes, label="dtype")
    x = data.draw(laid_out((*leading, n_in), dtype, SMALL), label="x")
    w = data.draw(laid_out((n_out, n_in), dtype, SMALL), label="weight")
    b = data.draw(laid_out((n_out,), dtype, SMALL), label="bias")
    with_bias = data.draw(st.booleans(), label="with bias")
    upstream = data.draw(upstream_layouts, label="upstream layout")
    if with_bias:
        out = check_against_values(F.linear, lambda xv, wv, bv: v_matmul(xv, wv.T) + bv,
                                   x, w, b, upstream=upstream)
    else:
        out = check_against_values(F.linear, lambda xv, wv: v_matmul(xv, wv.T), x, w,
                                   upstream=upstream)
    assert out.shape == (*leading, n_out) and out.dtype == dtype
    for wrt_weight in (False, True):  # against the composition, one input at a time

        def fused(t, wrt_weight=wrt_weight):
            return F.linear(Tensor(x.values), t) if wrt_weight else F.linear(t, Tensor(w.values))

        def composed(t, wrt_weight=wrt_weight):
            return Tensor(x.values) @ t.T if wrt_weight else t @ Tensor(w.values).T

        check_against_composition(fused, composed, w if wrt_weight else x)


@given(data=st.data())
def test_rms_norm_matches_values_and_composition(data):
    shape = data.draw(shapes(min_dims=1, max_dims=3, max_side=4))
    normalized = data.draw(st.integers(1, len(shape)), label="normalized dims")
    normalized_shape = shape[-1] if normalized == 1 else shape[-normalized:]
    eps = data.draw(st.sampled_from([None, 1e-5]), label="eps")
    dtype = data.draw(float_dtypes, label="dtype")
    # Near-zero rows make 1/rms huge and the comparison ill-conditioned: keep away from 0.
    x = data.draw(laid_out(shape, dtype, Domain(((0.25, 2.0), (-2.0, -0.25)))), label="x")
    weight = data.draw(laid_out(shape[-normalized:], dtype, SMALL), label="weight")
    with_weight = data.draw(st.booleans(), label="with weight")
    axes = tuple(range(len(shape) - normalized, len(shape)))
    eps_value = float(np.finfo(dtype).eps) if eps is None else eps

    def value_rms_norm(xv, *wv):
        mean_square = v_mean(xv * xv, axes, keepdims=True)
        out = xv * as_value_array((mean_square + eps_value) ** -0.5)
        return out * wv[0] if wv else out

    def composed(t):
        return t * ((t * t).mean(dim=axes, keepdim=True) + eps_value) ** -0.5

    def fused(t, *w):
        return F.rms_norm(t, normalized_shape, *w, eps=eps)

    leaves = (x, weight) if with_weight else (x,)
    out = check_against_values(fused, value_rms_norm, *leaves,
                               upstream=data.draw(upstream_layouts, label="upstream layout"))
    assert out.dtype == dtype
    check_against_composition(fused, composed, x)


def test_rms_norm_takes_the_weight_third_as_pytorch():
    x = Tensor([[3.0, 4.0]])
    out = F.rms_norm(x, 2, Tensor([2.0, 0.5]))
    np.testing.assert_allclose(out.data, [[3.0 / 12.5**0.5 * 2, 4.0 / 12.5**0.5 * 0.5]])


def test_rms_norm_of_rows_the_gpt_path():
    """A matrix normalized over its rows, as one document's (n, C) activations are: the op
    takes no reshapes then, a path of its own."""
    x = np.arange(1.0, 13.0).reshape(3, 4) / 5 * np.array([1, -1, 1, -1])

    def value_rms_norm(xv):
        return xv * as_value_array((v_mean(xv * xv, (1,), keepdims=True) + 1e-5) ** -0.5)

    check_against_values(lambda t: F.rms_norm(t, 4, eps=1e-5), value_rms_norm, x)


def causal_mask(queries: int, keys: int) -> np.ndarray:
    return np.tril(np.ones((queries, keys), dtype=bool))


@pytest.mark.parametrize("masking", ["none", "causal", "bool mask", "float mask"])
@given(data=st.data())
def test_scaled_dot_product_attention_matches_values_and_composition(masking, data):
    batch = data.draw(shapes(max_dims=2, max_side=2), label="batch")
    L, S, E, Ev = (data.draw(st.integers(1, 3), label=name) for name in ("L", "S", "E", "Ev"))
    dtype = data.draw(float_dtypes, label="dtype")
    q = data.draw(laid_out((*batch, L, E), dtype, SMALL), label="query")
    k = data.draw(laid_out((*batch, S, E), dtype, SMALL), label="key")
    v = data.draw(laid_out((*batch, S, Ev), dtype, SMALL), label="value")
    scale = data.draw(st.sampled_from([None, 0.7]), label="scale")
    allowed = causal_mask(L, S) if masking == "causal" else None
    mask = None
    if masking in ("bool mask", "float mask"):
        # some queries may attend nowhere: they get zeros, as in PyTorch 2.5+
        allowed = data.draw(hnp.arrays(np.bool_, (L, S)), label="mask")
        mask = allowed if masking == "bool mask" else np.where(allowed, 0.0, -np.inf).astype(dtype)
    factor = 1 / np.sqrt(E) if scale is None else scale
    nowhere = None if allowed is None else ~allowed.any(axis=-1, keepdims=True)

    def fused(qt, kt, vt):
        return F.scaled_dot_product_attention(
            qt, kt, vt, attn_mask=mask, is_causal=masking == "causal", scale=scale
        )

    def value_attention(qv, kv, vv):
        scores = v_matmul(qv, np.swapaxes(kv, -1, -2)) * factor
        if allowed is None:
            return v_matmul(value_softmax(scores, -1), vv)
        scores = np.where(allowed | nowhere, scores, Value(-np.inf))
        out = v_matmul(value_softmax(scores, -1), vv)
        return np.where(nowhere, Value(0.0), out)

    def composed(qt, kt, vt):
        scores = (qt @ kt.mT) * factor
        if allowed is None:
            return F.softmax(scores, dim=-1) @ vt
        scores = scores.masked_fill(~(allowed | nowhere), -np.inf)
        return (F.softmax(scores, dim=-1) @ vt).masked_fill(nowhere, 0.0)

    upstream = data.draw(upstream_layouts, label="upstream layout")
    out = check_against_values(fused, value_attention, q, k, v, upstream=upstream)
    assert out.shape == (*batch, L, Ev) and out.dtype == dtype
    for position in range(3):  # against the composition, one input at a time
        inputs = [q, k, v]

        def with_one_input(fn, position=position, inputs=inputs):
            def run(t):
                args = [Tensor(a.values) for a in inputs]
                args[position] = t
                return fn(*args)

            return run

        check_against_composition(with_one_input(fused), with_one_input(composed), inputs[position])


@given(data=st.data())
def test_multi_head_attention_matches_split_heads_and_sdpa(data):
    batch = data.draw(shapes(max_dims=2, max_side=2), label="batch")
    length, heads, head_dim = (data.draw(st.integers(1, 3), label=name)
                               for name in ("L", "heads", "head_dim"))
    is_causal = data.draw(st.booleans(), label="is_causal")
    scale = data.draw(st.sampled_from([None, 0.7]), label="scale")
    width = heads * head_dim
    qkv = data.draw(laid_out((*batch, length, 3 * width), data.draw(float_dtypes), SMALL),
                    label="qkv")

    def fused(t):
        return F.multi_head_attention(t, heads, is_causal=is_causal, scale=scale)

    def composed(t):  # split into heads with view ops, attend, join the heads again
        nb = len(batch)
        packed = t.reshape(*batch, length, 3, heads, head_dim)
        q, k, v = packed.permute(nb + 1, *range(nb), nb + 2, nb, nb + 3)[0:3]
        out = F.scaled_dot_product_attention(q, k, v, is_causal=is_causal, scale=scale)
        return out.permute(*range(nb), nb + 1, nb, nb + 2).reshape(*batch, length, width)

    out = fused(Tensor(qkv.values))
    assert out.shape == (*batch, length, width) and out.dtype == qkv.dtype
    check_against_composition(fused, composed, qkv)


@pytest.mark.parametrize("is_causal", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_multi_head_attention_of_a_large_batch_is_the_composition_exactly(dtype, is_causal):
    """A batch large enough to go through attention block by block gives, to the last bit,
    what splitting the heads and scaled_dot_product_attention on the whole batch give; a
    causal one, whose blocks go in tiles of queries against the keys they see, to rounding
    (tests/engine/test_causal_attention.py)."""
    rng = np.random.default_rng(5)
    batch, length, heads, head_dim = 12, 48, 4, 8
    qkv = rng.normal(size=(batch, length, 3 * heads * head_dim)).astype(dtype)
    upstream = rng.normal(size=(batch, length, heads * head_dim)).astype(dtype)
    results = []
    for fused in (True, False):
        x = Tensor(qkv, requires_grad=True)
        if fused:
            out = F.multi_head_attention(x, heads, is_causal=is_causal)
        else:
            q, k, v = x.reshape(batch, length, 3, heads, head_dim).permute(2, 0, 3, 1, 4)
            out = F.scaled_dot_product_attention(q, k, v, is_causal=is_causal)
            out = out.permute(0, 2, 1, 3).reshape(batch, length, heads * head_dim)
        out.backward(upstream)
        results.append((out.data, x.grad))
    if is_causal:
        rtol = FLOAT32_RTOL if dtype == np.float32 else 1e-10
        assert_close(results[0][0], results[1][0], "forward", rtol)
        assert_close(results[0][1], results[1][1], "grad", rtol)
    else:
        np.testing.assert_array_equal(results[0][0], results[1][0])
        np.testing.assert_array_equal(results[0][1], results[1][1])


def test_multi_head_attention_rejects_a_width_that_does_not_split_into_heads():
    with pytest.raises(ValueError, match="queries, keys and values for 2 heads"):
        F.multi_head_attention(Tensor(np.zeros((3, 9))), 2)


def test_scaled_dot_product_attention_sums_gradients_over_broadcast_batch_dimensions():
    """Two batches of queries share one set of keys and values."""
    rng = np.random.default_rng(0)
    q, k, v = rng.normal(size=(2, 3, 4)), rng.normal(size=(5, 4)), rng.normal(size=(5, 2))

    results = []
    for shared in (True, False):
        qt, kt, vt = (Tensor(a, requires_grad=True) for a in (q, k, v))
        if shared:
            out = F.scaled_dot_product_attention(qt, kt, vt)
        else:  # each batch of queries on its own, the results side by side
            out0 = F.scaled_dot_product_attention(qt[0], kt, vt)
            out1 = F.scaled_dot_product_attention(qt[1], kt, vt)
            out = where(np.arange(2)[:, None, None] == 0, out0, out1)  # (2, 3, 2)
        out.backward(upstream_weights(out.shape, seed=2))
        results.append((out.data, qt.grad, kt.grad, vt.grad))
    for shared, separate in zip(*results):
        assert shared.shape == separate.shape
        assert_close(shared, separate, "broadcast batch", 1e-12)


@pytest.mark.parametrize("bias_shape", [(), (1,), (4,)])
def test_linear_takes_a_bias_that_broadcasts_as_pytorch(bias_shape):
    x = np.arange(6.0).reshape(2, 3) / 4
    w = np.arange(12.0).reshape(4, 3) / 8 - 0.5
    b = np.full(bias_shape, 0.25)
    out = check_against_values(F.linear, lambda xv, wv, bv: v_matmul(xv, wv.T) + bv, x, w, b)
    assert out.shape == (2, 4)
