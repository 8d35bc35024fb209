"""Causal ``multi_head_attention`` of large batches, which runs in tiles of queries against
only the keys they see: it equals the dense computation (splitting the heads and
``scaled_dot_product_attention``) and PyTorch's to rounding, in every layout and dtype.

The tiled path runs where the scores outgrow a cache-sized block; the tests shrink the block
and the tile so that small drawn shapes take it, with several tiles and a last, shorter one.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from reference import FLOAT32_RTOL, RTOL, assert_close, upstream_weights
from strategies import SMALL, float_dtypes, laid_out, shapes

import tensorgrad.functional as F
from tensorgrad import Tensor, no_grad


@pytest.fixture(autouse=True)
def small_tiles(monkeypatch):
    monkeypatch.setattr(F, "_BLOCK_BYTES", 0)  # every batch goes block by block
    monkeypatch.setattr(F, "_TILE", 2)


def fused(t: Tensor, heads: int, scale: float | None = None) -> Tensor:
    return F.multi_head_attention(t, heads, is_causal=True, scale=scale)


def dense(t: Tensor, heads: int, scale: float | None = None, tiled: bool = False) -> Tensor:
    """The heads split with view ops, scaled_dot_product_attention, the heads joined: under
    a boolean mask (dense), or with ``is_causal`` (tiled, as the fused op, from 4-D)."""
    *batch, length, width = t.shape
    nb, head_dim = len(batch), width // (3 * heads)
    packed = t.reshape(*batch, length, 3, heads, head_dim)
    q, k, v = packed.permute(nb + 1, *range(nb), nb + 2, nb, nb + 3)[0:3]
    if tiled:
        out = F.scaled_dot_product_attention(q, k, v, is_causal=True, scale=scale)
    else:
        causal = np.tril(np.ones((length, length), bool))
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=causal, scale=scale)
    return out.permute(*range(nb), nb + 1, nb, nb + 2).reshape(*batch, length, width // 3)


def sdpa_tiled(t: Tensor, heads: int, scale: float | None = None) -> Tensor:
    return dense(t, heads, scale, tiled=True)


def both(qkv, heads: int, scale: float | None = None, leaf: np.ndarray | None = None,
         view=lambda t: t, tiled=None):
    """(result, gradient of the leaf) of the fused op (or ``tiled``) and of the dense
    composition."""
    results = []
    for fn in (tiled or fused, dense):
        t = Tensor(qkv if leaf is None else leaf, requires_grad=True)
        out = fn(view(t), heads, scale)
        out.backward(upstream_weights(out.shape, seed=1).astype(out.dtype))
        results.append((out.data, t.grad))
    return results


@pytest.mark.parametrize("tiled", [fused, sdpa_tiled], ids=["multi_head_attention",
                                                            "scaled_dot_product_attention"])
@given(data=st.data())
def test_tiled_causal_attention_is_the_dense_one_to_rounding(tiled, data):
    batch = data.draw(shapes(min_dims=1, max_dims=2, max_side=3), label="batch")
    length = data.draw(st.integers(1, 7), label="L")  # 1 to 4 tiles of 2, some ragged
    heads, head_dim = data.draw(st.integers(1, 3), label="heads"), data.draw(
        st.integers(1, 3), label="head_dim")
    scale = data.draw(st.sampled_from([None, 0.7]), label="scale")
    qkv = data.draw(laid_out((*batch, length, 3 * heads * head_dim),
                             data.draw(float_dtypes), SMALL), label="qkv")
    (out, grad), (expected_out, expected_grad) = both(None, heads, scale, qkv.leaf,
                                                      qkv.layout.view, tiled)
    rtol = FLOAT32_RTOL if qkv.dtype == np.float32 else RTOL
    assert out.dtype == qkv.dtype and grad.dtype == qkv.dtype
    assert_close(out, expected_out, "forward", rtol)
    assert_close(grad, expected_grad, "grad", rtol)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_scores_too_large_for_exp_unshifted_still_give_the_dense_result(dtype):
    """Scores of a few hundred overflow exp() unless each row is shifted by its maximum."""
    rng = np.random.default_rng(3)
    qkv = (rng.normal(size=(3, 5, 12)) * 30).astype(dtype)
    (out, grad), (expected_out, expected_grad) = both(qkv, 2)
    assert np.isfinite(out).all() and np.isfinite(grad).all()
    rtol = FLOAT32_RTOL if dtype == np.float32 else RTOL
    assert_close(out, expected_out, "forward", rtol)
    assert_close(grad, expected_grad, "grad", rtol)


@pytest.mark.filterwarnings("error::RuntimeWarning")  # NaN comes quietly, as in PyTorch
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nan_and_infinity_reach_the_same_entries_as_in_the_dense_computation(bad):
    qkv = np.random.default_rng(4).normal(size=(2, 5, 6))
    qkv[1, 2, 1] = bad  # a query of the second document, position 2
    (out, grad), (expected_out, expected_grad) = both(qkv, 1)
    np.testing.assert_array_equal(np.isnan(out), np.isnan(expected_out))
    assert np.isnan(out[1, 2]).all() and np.isnan(out).sum() == out.shape[-1]  # its row
    # The dense products also carry NaN to keys the NaN's row is masked from (0 * NaN); the
    # tiles skip most of those products. Every gradient that is a number is the dense one.
    assert np.isnan(grad[1]).any() and not (np.isnan(grad) & ~np.isnan(expected_grad)).any()
    assert not np.isnan(grad[0]).any()  # the first document does not see it
    for got, expected in ((out, expected_out), (grad, expected_grad)):
        finite = ~np.isnan(got) & ~np.isnan(expected)
        assert_close(got[finite], expected[finite], "finite entries", RTOL)


def test_backward_twice_gives_the_same_gradients():
    """The backward pass keeps what the forward saved as it was."""
    qkv = np.random.default_rng(5).normal(size=(2, 5, 6))
    t = Tensor(qkv, requires_grad=True)
    out = fused(t, 1)
    upstream = upstream_weights(out.shape)
    out.backward(upstream, retain_graph=True)
    first = t.grad.numpy().copy()
    out.backward(upstream)
    np.testing.assert_array_equal(t.grad, 2 * first)


def test_the_tiled_path_runs_under_the_fixture(monkeypatch):
    """The comparisons above are not of the dense path with itself."""
    called = []
    original = F._causal_forward
    monkeypatch.setattr(F, "_causal_forward",
                        lambda *args: called.append(1) or original(*args))
    fused(Tensor(np.ones((2, 3, 6)), requires_grad=True), 1)
    assert called


def test_writing_into_the_result_before_backward_raises():
    """The tiles' backward reads the result (written in place of the heads side by side), as
    PyTorch's fused kernels do: a write into it is refused, not read as if it were not."""
    rng = np.random.default_rng(0)
    qkv = Tensor(rng.standard_normal((2, 6, 3 * 2 * 4)), requires_grad=True)
    out = fused(qkv, 2)
    doubled = out * 2.0
    with no_grad():
        out += 1
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        doubled.sum().backward()
