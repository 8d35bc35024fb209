"""nn.MultiheadAttention and the Transformer layers by their behaviour, without PyTorch:
PyTorch's parameter names, shapes and printout (recorded here from PyTorch 2.13), its
starting values, the shapes of each layout, what the masks mean, its messages for bad
arguments, and every gradient held against finite differences (``gradcheck``).

test_transformer_torch.py holds the same modules against PyTorch itself.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import zoo_style
from reference import module_as_function

import tensorgrad
import tensorgrad.nn as nn
from tensorgrad import Tensor

E, H = 4, 2  # embedding and heads of the small modules


def normal(*shape: int, seed: int = 0, requires_grad: bool = False) -> Tensor:
    return tensorgrad.tensor(np.random.default_rng(seed).standard_normal(shape),
                             requires_grad=requires_grad)


# ---- PyTorch's names, shapes and printout -------------------------------------------------------

# (name, shape) of each state_dict() entry, in order, as PyTorch 2.13 gives them
ATTENTION_STATE = [("in_proj_weight", (24, 8)), ("in_proj_bias", (24,)),
                   ("out_proj.weight", (8, 8)), ("out_proj.bias", (8,))]
LAYER_STATE = [("self_attn." + n, s) for n, s in ATTENTION_STATE] + [
    ("linear1.weight", (16, 8)), ("linear1.bias", (16,)), ("linear2.weight", (8, 16)),
    ("linear2.bias", (8,)), ("norm1.weight", (8,)), ("norm1.bias", (8,)),
    ("norm2.weight", (8,)), ("norm2.bias", (8,))]
STATES = {
    "attention": (lambda: nn.MultiheadAttention(8, 2), ATTENTION_STATE),
    "attention, bias=False": (lambda: nn.MultiheadAttention(8, 2, bias=False),
                              [("in_proj_weight", (24, 8)), ("out_proj.weight", (8, 8))]),
    "attention, kdim and vdim": (
        lambda: nn.MultiheadAttention(8, 2, kdim=5, vdim=3),
        [("q_proj_weight", (8, 8)), ("k_proj_weight", (8, 5)), ("v_proj_weight", (8, 3)),
         ("in_proj_bias", (24,)), ("out_proj.weight", (8, 8)), ("out_proj.bias", (8,))]),
    "encoder layer": (lambda: nn.TransformerEncoderLayer(8, 2, 16), LAYER_STATE),
    "encoder layer, bias=False": (
        lambda: nn.TransformerEncoderLayer(8, 2, 16, bias=False),
        [("self_attn.in_proj_weight", (24, 8)), ("self_attn.out_proj.weight", (8, 8)),
         ("linear1.weight", (16, 8)), ("linear2.weight", (8, 16)), ("norm1.weight", (8,)),
         ("norm2.weight", (8,))]),
    "encoder": (lambda: nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16), 2,
                                              norm=nn.LayerNorm(8)),
                [(f"layers.{i}.{n}", s) for i in range(2) for n, s in LAYER_STATE] +
                [("norm.weight", (8,)), ("norm.bias", (8,))]),
    "decoder layer": (
        lambda: nn.TransformerDecoderLayer(8, 2, 16),
        [("self_attn." + n, s) for n, s in ATTENTION_STATE] +
        [("multihead_attn." + n, s) for n, s in ATTENTION_STATE] + LAYER_STATE[4:8] +
        [(f"norm{i}.{n}", (8,)) for i in (1, 2, 3) for n in ("weight", "bias")]),
    "transformer": (lambda: nn.Transformer(8, 2, 1, 1, 16), [
        ("encoder.layers.0.self_attn.in_proj_weight", (24, 8)),
        ("encoder.layers.0.self_attn.in_proj_bias", (24,)),
        ("encoder.layers.0.self_attn.out_proj.weight", (8, 8)),
        ("encoder.layers.0.self_attn.out_proj.bias", (8,)),
        ("encoder.layers.0.linear1.weight", (16, 8)), ("encoder.layers.0.linear1.bias", (16,)),
        ("encoder.layers.0.linear2.weight", (8, 16)), ("encoder.layers.0.linear2.bias", (8,)),
        ("encoder.layers.0.norm1.weight", (8,)), ("encoder.layers.0.norm1.bias", (8,)),
        ("encoder.layers.0.norm2.weight", (8,)), ("encoder.layers.0.norm2.bias", (8,)),
        ("encoder.norm.weight", (8,)), ("encoder.norm.bias", (8,)),
        ("decoder.layers.0.self_attn.in_proj_weight", (24, 8)),
        ("decoder.layers.0.self_attn.in_proj_bias", (24,)),
        ("decoder.layers.0.self_attn.out_proj.weight", (8, 8)),
        ("decoder.layers.0.self_attn.out_proj.bias", (8,)),
        ("decoder.layers.0.multihead_attn.in_proj_weight", (24, 8)),
        ("decoder.layers.0.multihead_attn.in_proj_bias", (24,)),
        ("decoder.layers.0.multihead_attn.out_proj.weight", (8, 8)),
        ("decoder.layers.0.multihead_attn.out_proj.bias", (8,)),
        ("decoder.layers.0.linear1.weight", (16, 8)), ("decoder.layers.0.linear1.bias", (16,)),
        ("decoder.layers.0.linear2.weight", (8, 16)), ("decoder.layers.0.linear2.bias", (8,)),
        ("decoder.layers.0.norm1.weight", (8,)), ("decoder.layers.0.norm1.bias", (8,)),
        ("decoder.layers.0.norm2.weight", (8,)), ("decoder.layers.0.norm2.bias", (8,)),
        ("decoder.layers.0.norm3.weight", (8,)), ("decoder.layers.0.norm3.bias", (8,)),
        ("decoder.norm.weight", (8,)), ("decoder.norm.bias", (8,))]),
}


@pytest.mark.parametrize("name", list(STATES))
def test_state_dict_names_and_shapes_are_pytorchs(name):
    build, expected = STATES[name]
    module = build()
    assert [(k, v.shape) for k, v in module.state_dict().items()] == expected
    assert [n for n, _ in module.named_parameters()] == [n for n, _ in expected]
    twin = build()
    assert twin.load_state_dict({k: v.numpy() for k, v in module.state_dict().items()}) \
        .missing_keys == []
    for (k, v), w in zip(module.state_dict().items(), twin.state_dict().values()):
        np.testing.assert_array_equal(v.data, w.data, err_msg=k)


PYTORCH_REPR = """\
TransformerEncoder(
  (layers): ModuleList(
    (0-1): 2 x TransformerEncoderLayer(
      (self_attn): MultiheadAttention(
        (out_proj): NonDynamicallyQuantizableLinear(in_features=8, out_features=8, bias=True)
      )
      (linear1): Linear(in_features=8, out_features=16, bias=True)
      (dropout): Dropout(p=0.1, inplace=False)
      (linear2): Linear(in_features=16, out_features=8, bias=True)
      (norm1): LayerNorm((8,), eps=1e-05, elementwise_affine=True, bias=True)
      (norm2): LayerNorm((8,), eps=1e-05, elementwise_affine=True, bias=True)
      (dropout1): Dropout(p=0.1, inplace=False)
      (dropout2): Dropout(p=0.1, inplace=False)
      (activation): GELU(approximate='none')
    )
  )
)"""


def test_the_printout_is_pytorchs():
    layer = nn.TransformerEncoderLayer(8, 2, 16, activation=nn.GELU())
    assert repr(nn.TransformerEncoder(layer, 2)) == PYTORCH_REPR


def test_attributes_are_pytorchs():
    attention = nn.MultiheadAttention(8, 2, dropout=0.25, kdim=5, batch_first=True)
    assert (attention.embed_dim, attention.kdim, attention.vdim, attention.num_heads,
            attention.head_dim, attention.dropout, attention.batch_first) == \
        (8, 5, 8, 2, 4, 0.25, True)
    assert not attention._qkv_same_embed_dim and attention.in_proj_weight is None
    assert attention.bias_k is None and attention.bias_v is None and not attention.add_zero_attn
    assert isinstance(attention.out_proj, nn.Linear)
    layer = nn.TransformerEncoderLayer(8, 2, dropout=0.2, norm_first=True)
    assert layer.linear1.out_features == 2048 and layer.norm_first
    assert layer.dropout.p == layer.dropout1.p == layer.dropout2.p == layer.self_attn.dropout == 0.2
    assert layer.activation is nn.functional.relu
    assert nn.TransformerEncoderLayer(8, 2, activation="gelu").activation is nn.functional.gelu
    assert layer.norm1.eps == 1e-5 and not layer.self_attn.batch_first


# ---- starting values ----------------------------------------------------------------------------


def test_starting_values_follow_pytorchs_scheme_and_repeat_under_manual_seed():
    tensorgrad.manual_seed(3)
    attention = nn.MultiheadAttention(64, 4)
    w = attention.in_proj_weight.data
    bound = math.sqrt(6 / (64 + 3 * 64))  # Glorot over the stacked (3E, E) matrix
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.03 * bound  # uniform
    assert not attention.in_proj_bias.data.any() and not attention.out_proj.bias.data.any()
    out = attention.out_proj.weight.data  # nn.Linear's start, kept
    assert np.abs(out).max() <= 1 / 8 and np.abs(out).max() > 0.95 / 8
    separate = nn.MultiheadAttention(64, 4, kdim=32, vdim=16)
    for weight, fan_in in ((separate.q_proj_weight, 64), (separate.k_proj_weight, 32),
                           (separate.v_proj_weight, 16)):
        limit = math.sqrt(6 / (64 + fan_in))
        assert limit * 0.95 < np.abs(weight.data).max() <= limit
    tensorgrad.manual_seed(3)
    again = nn.MultiheadAttention(64, 4)
    np.testing.assert_array_equal(again.in_proj_weight.data, w)
    assert nn.MultiheadAttention(8, 2, dtype=tensorgrad.float32).in_proj_weight.dtype == \
        np.float32


def test_the_transformer_starts_its_matrices_glorot_uniform_and_keeps_the_rest():
    """PyTorch's re-initialisation: every parameter of more than one dimension, over the
    layers' own starts (``nn.Linear``'s bound 1/sqrt(fan_in) is narrower for each matrix
    here); the biases and the norms keep theirs."""
    tensorgrad.manual_seed(0)
    model = nn.Transformer(64, 4, 1, 2, 128, dropout=0.0)
    matrices = 0
    for name, p in model.named_parameters():
        w = p.data
        if w.ndim > 1:
            matrices += 1
            bound = math.sqrt(6 / sum(w.shape))  # fan_in + fan_out
            assert 0.99 * bound < np.abs(w).max() <= bound, name
            assert abs(w.std() - bound / math.sqrt(3)) < 0.05 * bound, name
        elif name.endswith(("in_proj_bias", "out_proj.bias")) or ".norm" in name and \
                name.endswith(".bias"):
            assert not w.any(), name
        elif ".norm" in name:
            assert (w == 1).all(), name
        else:  # linear1.bias, linear2.bias: nn.Linear's start
            fan_in = 64 if "linear1" in name else 128
            assert 0.8 / math.sqrt(fan_in) < np.abs(w).max() <= 1 / math.sqrt(fan_in), name
    assert matrices == 3 * 4 + 4  # the encoder's layer: 4 matrices, each decoder layer's 6
    custom = nn.TransformerEncoder(nn.TransformerEncoderLayer(64, 4, 128), 1)
    weight = nn.Transformer(64, 4, custom_encoder=custom, num_decoder_layers=1,
                            dim_feedforward=128).encoder.layers[0].linear2.weight
    assert weight.data.max() > 0.95 * math.sqrt(6 / 192)  # a custom encoder's too


def test_the_encoder_holds_deep_copies_of_its_layer():
    layer = nn.TransformerEncoderLayer(E, H, 8)
    encoder = nn.TransformerEncoder(layer, 3)
    assert len(encoder.layers) == encoder.num_layers == 3
    first, second = encoder.layers[0], encoder.layers[1]
    assert first is not layer and first.self_attn is not second.self_attn
    np.testing.assert_array_equal(first.linear1.weight.data, layer.linear1.weight.data)
    np.testing.assert_array_equal(second.linear1.weight.data, layer.linear1.weight.data)
    assert len(list(encoder.parameters())) == 3 * len(list(layer.parameters()))
    with tensorgrad.no_grad():
        first.linear1.weight.zero_()
    assert second.linear1.weight.data.any() and layer.linear1.weight.data.any()


# ---- shapes -------------------------------------------------------------------------------------


@pytest.mark.parametrize("layout", ["batch_first", "sequence_first", "unbatched"])
@pytest.mark.parametrize("need_weights, average", [(True, True), (True, False), (False, True)])
def test_shapes_of_each_layout(layout, need_weights, average):
    L, S, N = 3, 5, 2
    attention = nn.MultiheadAttention(E, H, kdim=3, vdim=6, batch_first=layout == "batch_first")

    def shaped(length, width):
        return {"batch_first": (N, length, width), "sequence_first": (length, N, width),
                "unbatched": (length, width)}[layout]

    out, weights = attention(normal(*shaped(L, E)), normal(*shaped(S, 3)),
                             normal(*shaped(S, 6)), need_weights=need_weights,
                             average_attn_weights=average)
    assert out.shape == shaped(L, E)
    if not need_weights:
        assert weights is None
        return
    heads = () if average else (H,)
    assert weights.shape == ((N,) if layout != "unbatched" else ()) + heads + (L, S)


def test_an_empty_batch_and_dtypes():
    attention = nn.MultiheadAttention(E, H, dtype=tensorgrad.float32)
    x = tensorgrad.zeros(3, 0, E, dtype=tensorgrad.float32, requires_grad=True)
    out, weights = attention(x, x, x)
    assert out.shape == (3, 0, E) and weights.shape == (0, 3, 3)
    assert out.dtype == weights.dtype == np.float32
    out.sum().backward()
    assert x.grad.shape == (3, 0, E)
    layer = nn.TransformerEncoderLayer(E, H, 8, dropout=0.0)
    assert layer(tensorgrad.zeros(0, 3, E)).shape == (0, 3, E)
    # a float64 mask (NumPy's) for a float32 model is cast, its gradient too
    mask = tensorgrad.zeros(3, 3, requires_grad=True)
    x = tensorgrad.ones(3, 2, E, dtype=tensorgrad.float32)
    for need_weights in (True, False):
        out, _ = attention(x, x, x, attn_mask=mask, need_weights=need_weights)
        assert out.dtype == np.float32
        out.sum().backward()
        assert mask.grad.dtype == np.float64


def test_batch_first_is_a_transpose_and_unbatched_a_batch_of_one():
    attention = nn.MultiheadAttention(E, H)
    q, kv = normal(2, 3, E), normal(2, 5, E, seed=1)
    padding = np.array([[False, True, False, False, True], [False] * 5])
    out, weights = attention(q.transpose(0, 1), kv.transpose(0, 1), kv.transpose(0, 1),
                             key_padding_mask=padding)
    attention.batch_first = True
    out_bf, weights_bf = attention(q, kv, kv, key_padding_mask=padding)
    np.testing.assert_allclose(out_bf.data, out.transpose(0, 1).data, rtol=1e-12)
    np.testing.assert_allclose(weights_bf.data, weights.data, rtol=1e-12)
    alone, alone_weights = attention(q[0], kv[0], kv[0], key_padding_mask=padding[0])
    np.testing.assert_allclose(alone.data, out_bf.data[0], rtol=1e-12)
    np.testing.assert_allclose(alone_weights.data, weights_bf.data[0], rtol=1e-12)


def test_self_attention_through_one_product_is_attention_to_equal_copies():
    attention = nn.MultiheadAttention(E, H)
    x = normal(3, 2, E)
    copies = [tensorgrad.tensor(x.detach().numpy().copy()) for _ in range(3)]
    for need_weights in (True, False):
        one, _ = attention(x, x, x, need_weights=need_weights)  # the stacked weight at once
        three, _ = attention(*copies, need_weights=need_weights)  # its three parts
        np.testing.assert_allclose(one.data, three.data, rtol=1e-12)


# ---- what the masks mean ------------------------------------------------------------------------


def attend(attention, x, memory, **masks):
    return attention(x, memory, memory, average_attn_weights=False, **masks)


def test_true_in_a_boolean_mask_forbids_and_a_float_mask_is_added():
    attention = nn.MultiheadAttention(E, H)
    x, memory = normal(3, 2, E), normal(4, 2, E, seed=1)
    forbidden = np.array([[False, True, False, True], [True, False, False, False],
                          [False, False, True, False]])
    _, weights = attend(attention, x, memory, attn_mask=forbidden)
    assert (weights.data[..., forbidden] == 0).all() and (weights.data[..., ~forbidden] > 0).all()
    np.testing.assert_allclose(weights.data.sum(-1), 1, rtol=1e-12)
    # as -inf added, and a float mask shifts the scores it is added to
    as_float = np.where(forbidden, -np.inf, 0.0)
    for kind in (forbidden, as_float, tensorgrad.tensor(forbidden), tensorgrad.tensor(as_float)):
        np.testing.assert_array_equal(attend(attention, x, memory, attn_mask=kind)[1].data,
                                      weights.data)
    _, plain = attend(attention, x, memory)
    shift = np.log(np.array([1.0, 2.0, 3.0, 4.0]))  # weights times 1, 2, 3, 4, renormalised
    _, shifted = attend(attention, x, memory, attn_mask=np.tile(shift, (3, 1)))
    expected = plain.data * np.exp(shift)
    np.testing.assert_allclose(shifted.data, expected / expected.sum(-1, keepdims=True),
                               rtol=1e-12)


def test_a_key_padding_mask_is_an_attention_mask_per_batch_entry():
    attention = nn.MultiheadAttention(E, H)
    x, memory = normal(3, 2, E), normal(4, 2, E, seed=1)
    padding = np.array([[False, False, True, True], [False, True, False, False]])
    per_head = np.repeat(np.broadcast_to(padding[:, None, :], (2, 3, 4)), H, axis=0)  # (N*H, L, S)
    rows = np.array([[False, True, False, False]] * 3)
    for need_weights in (True, False):
        out, weights = attend(attention, x, memory, key_padding_mask=padding,
                              need_weights=need_weights)
        same, same_weights = attend(attention, x, memory, attn_mask=per_head,
                                    need_weights=need_weights)
        np.testing.assert_allclose(out.data, same.data, rtol=1e-12)
        if need_weights:
            np.testing.assert_array_equal(weights.data, same_weights.data)
            assert (weights.data[0, :, :, 2:] == 0).all()
        both, _ = attend(attention, x, memory, key_padding_mask=padding, attn_mask=rows,
                         need_weights=need_weights)
        union, _ = attend(attention, x, memory, attn_mask=per_head | rows,
                          need_weights=need_weights)
        np.testing.assert_allclose(both.data, union.data, rtol=1e-12)


def test_a_query_that_may_attend_nowhere_gets_nan_with_weights_and_zeros_without():
    attention = nn.MultiheadAttention(E, H, bias=False)  # (no out_proj.bias: zeros stay zeros)
    x = normal(3, 2, E, requires_grad=True)
    nowhere = np.array([[True, True, True], [False, True, False], [False, False, False]])
    out, weights = attention(x, x, x, attn_mask=nowhere)
    assert np.isnan(out.data[0]).all() and np.isnan(weights.data[:, 0]).all()
    assert not np.isnan(out.data[1:]).any()
    out, weights = attention(x, x, x, attn_mask=nowhere, need_weights=False)
    assert weights is None and (out.data[0] == 0).all() and np.isfinite(out.data).all()
    out.sum().backward()
    assert np.isfinite(x.grad).all()


def test_both_paths_and_the_causal_hint_agree():
    attention = nn.MultiheadAttention(E, H)
    x = normal(4, 2, E)
    causal = np.triu(np.full((4, 4), -np.inf), 1)
    with_weights, _ = attention(x, x, x, attn_mask=causal)
    for need_weights in (True, False):
        hinted, _ = attention(x, x, x, attn_mask=causal, is_causal=True,
                              need_weights=need_weights)
        np.testing.assert_allclose(hinted.data, with_weights.data, rtol=1e-12)
    without, _ = attention(x, x, x, attn_mask=causal, need_weights=False)
    np.testing.assert_allclose(without.data, with_weights.data, rtol=1e-12)


def test_dropout_in_training_only_on_the_weights_and_seeded():
    attention = nn.MultiheadAttention(E, H, dropout=0.5)
    x = normal(5, 2, E)
    tensorgrad.manual_seed(0)
    _, dropped = attention(x, x, x, average_attn_weights=False)
    tensorgrad.manual_seed(0)
    _, again = attention(x, x, x, average_attn_weights=False)
    np.testing.assert_array_equal(dropped.data, again.data)
    attention.eval()
    _, kept = attention(x, x, x, average_attn_weights=False)
    np.testing.assert_allclose(kept.data.sum(-1), 1, rtol=1e-12)
    zeroed = dropped.detach().numpy() == 0
    assert 0.3 < zeroed.mean() < 0.7
    np.testing.assert_allclose(dropped.data[~zeroed], 2 * kept.data[~zeroed], rtol=1e-12)
    layer = nn.TransformerEncoderLayer(E, H, 8, dropout=0.3).eval()
    plain = nn.TransformerEncoderLayer(E, H, 8, dropout=0.0)
    plain.load_state_dict(layer.state_dict())
    np.testing.assert_array_equal(layer(x).data, plain(x).data)


# ---- the encoder layer ----------------------------------------------------------------------


@pytest.mark.parametrize("norm_first", [False, True])
def test_the_encoder_layer_is_attention_then_feed_forward_with_residuals_and_norms(norm_first):
    layer = nn.TransformerEncoderLayer(E, H, 8, dropout=0.0, activation="gelu",
                                       norm_first=norm_first, batch_first=True)
    x = normal(2, 3, E)
    padding = np.array([[False, False, True], [False, False, False]])
    F = nn.functional

    def attention(y):
        return layer.self_attn(y, y, y, key_padding_mask=padding)[0]

    def feed_forward(y):
        return layer.linear2(F.gelu(layer.linear1(y)))

    if norm_first:
        y = x + attention(layer.norm1(x))
        expected = y + feed_forward(layer.norm2(y))
    else:
        y = layer.norm1(x + attention(x))
        expected = layer.norm2(y + feed_forward(y))
    out = layer(x, src_key_padding_mask=padding)
    np.testing.assert_allclose(out.data, expected.data, rtol=1e-12)
    encoder = nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(E))
    twice = encoder.norm(encoder.layers[1](encoder.layers[0](x, src_key_padding_mask=padding),
                                           src_key_padding_mask=padding))
    np.testing.assert_allclose(encoder(x, src_key_padding_mask=padding).data, twice.data,
                               rtol=1e-12)


def test_the_decoder_attends_to_the_memory():
    layer = nn.TransformerDecoderLayer(E, H, 8, dropout=0.0)
    decoder = nn.TransformerDecoder(layer, 2)
    tgt, memory = normal(3, 2, E), normal(5, 2, E, seed=1)
    causal = np.triu(np.ones((3, 3), bool), 1)
    out = decoder(tgt, memory, tgt_mask=causal)
    assert out.shape == (3, 2, E)
    changed = decoder(tgt, memory * 2, tgt_mask=causal)
    assert not np.allclose(out.data, changed.data)
    later = tgt.detach().numpy().copy()
    later[2] += 1  # the last target position: the causal mask hides it from the earlier ones
    moved = decoder(tensorgrad.tensor(later), memory, tgt_mask=causal)
    np.testing.assert_allclose(moved.data[:2], out.data[:2], rtol=1e-12)


# ---- the whole Transformer ------------------------------------------------------------------


def test_the_square_subsequent_mask_hides_the_later_positions():
    mask = nn.Transformer.generate_square_subsequent_mask(4)
    expected = [[0, -np.inf, -np.inf, -np.inf], [0, 0, -np.inf, -np.inf],
                [0, 0, 0, -np.inf], [0, 0, 0, 0]]
    np.testing.assert_array_equal(mask.data, expected)
    assert mask.dtype == np.float64 and not mask.requires_grad
    single = nn.Transformer.generate_square_subsequent_mask(1, device="cpu",
                                                            dtype=tensorgrad.float32)
    assert single.dtype == np.float32 and single.data.tolist() == [[0.0]]
    assert nn.Transformer.generate_square_subsequent_mask(0).shape == (0, 0)


@pytest.mark.parametrize("batch_first", [False, True])
def test_the_transformer_decodes_tgt_attending_to_the_encoded_src(batch_first):
    model = nn.Transformer(E, H, 2, 1, 8, dropout=0.0, batch_first=batch_first)
    assert (model.d_model, model.nhead, model.batch_first) == (E, H, batch_first)
    assert model.encoder.num_layers == 2 and model.decoder.num_layers == 1
    assert isinstance(model.encoder.norm, nn.LayerNorm) and \
        isinstance(model.decoder.norm, nn.LayerNorm)
    src, tgt = normal(5, 2, E), normal(3, 2, E, seed=1)
    if batch_first:
        src, tgt = src.transpose(0, 1), tgt.transpose(0, 1)
    causal = nn.Transformer.generate_square_subsequent_mask(3)
    src_padding = np.array([[False] * 4 + [True], [False] * 5])
    memory_padding = np.array([[False] * 5, [False, True, False, False, True]])
    tgt_padding = np.array([[0, 0, -np.inf], [0, 0, 0]])  # float as the causal mask (no warning)
    out = model(src, tgt, tgt_mask=causal, src_key_padding_mask=src_padding,
                tgt_key_padding_mask=tgt_padding, memory_key_padding_mask=memory_padding)
    memory = model.encoder(src, src_key_padding_mask=src_padding)
    expected = model.decoder(tgt, memory, tgt_mask=causal, tgt_key_padding_mask=tgt_padding,
                             memory_key_padding_mask=memory_padding)
    np.testing.assert_allclose(out.data, expected.data, rtol=1e-12)
    assert out.shape == tgt.shape
    unbatched = model(src[0] if batch_first else src[:, 0], tgt[0] if batch_first else tgt[:, 0],
                      tgt_mask=causal)
    assert unbatched.shape == (3, E)


SHAPE_ERRORS = {
    "batch, sequence first": (False, (5, 2, E), (3, 4, E), "the batch number of src and tgt "
                              "must be equal"),
    "batch, batch first": (True, (2, 5, E), (4, 3, E), "the batch number of src and tgt must "
                           "be equal"),
    "src features": (False, (5, 2, E + 2), (3, 2, E), "the feature number of src and tgt "
                     "must be equal to d_model"),
    "tgt features": (True, (2, 5, E), (2, 3, 2), "the feature number of src and tgt must be "
                     "equal to d_model"),
    "unbatched features": (False, (5, E), (3, 6), "the feature number"),
}


@pytest.mark.parametrize("case", list(SHAPE_ERRORS))
def test_the_transformers_shape_errors_are_pytorchs(case):
    batch_first, src, tgt, message = SHAPE_ERRORS[case]
    model = nn.Transformer(E, H, 1, 1, 8, batch_first=batch_first)
    with pytest.raises(RuntimeError, match=message):
        model(normal(*src), normal(*tgt, seed=1))


def test_transformer_gradients():
    model = nn.Transformer(E, H, 1, 1, 6, dropout=0.0, norm_first=True, batch_first=True)
    src, tgt = normal(1, 3, E, requires_grad=True), normal(1, 2, E, seed=1, requires_grad=True)
    causal = nn.Transformer.generate_square_subsequent_mask(2)
    gradcheck_module(model, lambda m, src, tgt: m(src, tgt, tgt_mask=causal), src, tgt)


# ---- bad arguments, PyTorch's messages ----------------------------------------------------------


def call(attention, q=(3, 2, E), k=(5, 2, E), v=(5, 2, E), **kwargs):
    return lambda: attention(normal(*q), normal(*k), normal(*v), **kwargs)


BAD = {
    "heads do not divide": (lambda: nn.MultiheadAttention(6, 4), AssertionError,
                            "embed_dim must be divisible by num_heads"),
    "no heads": (lambda: nn.MultiheadAttention(4, 0), ValueError,
                 "embed_dim and num_heads must be greater than 0, got embed_dim=4 and "
                 "num_heads=0 instead"),
    "add_bias_kv": (lambda: nn.MultiheadAttention(4, 2, add_bias_kv=True), NotImplementedError,
                    "add_bias_kv and add_zero_attn are not supported"),
    "add_zero_attn": (lambda: nn.MultiheadAttention(4, 2, add_zero_attn=True),
                      NotImplementedError, "add_bias_kv and add_zero_attn"),
    "activation": (lambda: nn.TransformerEncoderLayer(4, 2, activation="tanh"), RuntimeError,
                   "activation should be relu/gelu, not tanh"),
    "4-D query": (call(nn.MultiheadAttention(E, H), q=(1, 3, 2, E)), AssertionError,
                  "query should be unbatched 2D or batched 3D tensor but received 4-D"),
    "2-D key for 3-D query": (call(nn.MultiheadAttention(E, H), k=(5, E)), AssertionError,
                              "expected `key` and `value` to be 3-D but found 2-D and 3-D"),
    "embedding": (call(nn.MultiheadAttention(E, H), q=(3, 2, 6)), AssertionError,
                  "was expecting embedding dimension of 4, but got 6"),
    "key and value": (call(nn.MultiheadAttention(E, H), v=(4, 2, E)), AssertionError,
                      r"key shape tensorgrad\.Size\(\[5, 2, 4\]\) does not match value shape "
                      r"tensorgrad\.Size\(\[4, 2, 4\]\)"),
    "kdim": (call(nn.MultiheadAttention(E, H, kdim=3)), AssertionError,
             r"expecting key weights shape of \(4, 4\), but got tensorgrad\.Size\(\[4, 3\]\)"),
    "mask dtype": (call(nn.MultiheadAttention(E, H), attn_mask=np.zeros((3, 5), int)),
                   AssertionError, "only bool and floating types of attn_mask are supported"),
    "2-D mask shape": (call(nn.MultiheadAttention(E, H), attn_mask=np.zeros((3, 4))),
                       RuntimeError, r"The shape of the 2D attn_mask is "
                       r"tensorgrad\.Size\(\[3, 4\]\), but should be \(3, 5\)\."),
    "3-D mask shape": (call(nn.MultiheadAttention(E, H), attn_mask=np.zeros((2, 3, 5))),
                       RuntimeError, r"The shape of the 3D attn_mask is "
                       r"tensorgrad\.Size\(\[2, 3, 5\]\), but should be \(4, 3, 5\)\."),
    "1-D mask": (call(nn.MultiheadAttention(E, H), attn_mask=np.zeros(5)), AssertionError,
                 "expected `attn_mask` to be `None`, 2-D or 3-D but found 1-D"),
    "padding mask dims": (call(nn.MultiheadAttention(E, H), key_padding_mask=np.zeros(5, bool)),
                          AssertionError, "expected `key_padding_mask` to be `None` or 2-D"),
    "padding mask length": (call(nn.MultiheadAttention(E, H),
                                 key_padding_mask=np.zeros((2, 4), bool)),
                            AssertionError, r"Expected key_padded_mask.shape\[1\] to be 5, "
                            "but got 4"),
    "causal hint without a mask": (call(nn.MultiheadAttention(E, H), is_causal=True),
                                   RuntimeError, "Need attn_mask if specifying the is_causal "
                                   "hint: the causal mask itself, as "
                                   r"nn\.Transformer\.generate_square_subsequent_mask makes it"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_arguments_raise_pytorchs_errors(case):
    action, error, message = BAD[case]
    with pytest.raises(error, match=message):
        action()


def test_masks_of_two_types_warn_as_pytorchs():
    attention = nn.MultiheadAttention(E, H)
    run = call(attention, attn_mask=np.zeros((3, 5)), key_padding_mask=np.zeros((2, 5), bool))
    with pytest.warns(UserWarning, match="Support for mismatched key_padding_mask and "
                                         "attn_mask is deprecated"):
        run()
    layer = nn.TransformerEncoderLayer(E, H, 8)
    with pytest.warns(UserWarning, match="mismatched src_key_padding_mask and src_mask"):
        layer(normal(3, 2, E), src_mask=np.zeros((3, 3)),
              src_key_padding_mask=np.zeros((2, 3), bool))


# ---- gradients ----------------------------------------------------------------------------------


def gradcheck_module(module: nn.Module, forward, *inputs: Tensor) -> None:
    names = [n for n, _ in module.named_parameters()]
    params = [p.detach().requires_grad_() for p in module.parameters()]
    assert tensorgrad.gradcheck(module_as_function(module, names, forward), *inputs, *params,
                                reference="finite-difference")


def flat(*parts: Tensor | None) -> Tensor:
    return tensorgrad.cat([p.reshape(-1) for p in parts if p is not None])


@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("separate", [False, True], ids=["in_proj_weight", "kdim, vdim"])
def test_attention_gradients_of_inputs_parameters_and_a_float_mask(need_weights, separate):
    attention = nn.MultiheadAttention(E, H, kdim=3 if separate else None,
                                      vdim=2 if separate else None)
    q = normal(3, 2, E, requires_grad=True)
    k = normal(2, 2, 3 if separate else E, seed=1, requires_grad=True)
    v = normal(2, 2, 2 if separate else E, seed=2, requires_grad=True)
    mask = normal(3, 2, seed=3, requires_grad=True)
    padding = np.array([[0.0, 0.5], [-np.inf, 0.0]])

    def forward(module, q, k, v, mask):
        out, weights = module(q, k, v, attn_mask=mask, key_padding_mask=padding,
                              need_weights=need_weights, average_attn_weights=False)
        return flat(out, weights)

    gradcheck_module(attention, forward, q, k, v, mask)


@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_layer_gradients(norm_first):
    layer = nn.TransformerEncoderLayer(E, H, 6, dropout=0.0, norm_first=norm_first,
                                       activation="gelu", batch_first=True)
    x = normal(2, 3, E, requires_grad=True)
    padding = np.array([[False, False, True], [False, False, False]])
    gradcheck_module(layer, lambda m, x: m(x, src_key_padding_mask=padding), x)


def test_self_attention_gradient_through_one_projection():
    attention = nn.MultiheadAttention(E, H, batch_first=True)
    x = normal(2, 3, E, requires_grad=True)
    gradcheck_module(attention, lambda m, x: flat(*m(x, x, x)), x)


def test_a_copied_layer_learns_on_its_own():
    encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(E, H, 8, dropout=0.0), 2)
    before = copy.deepcopy(encoder)
    # weighted: a plain sum of a layer norm's output (weight 1, bias 0) is constant, so only
    # rounding would reach the layers
    (encoder(normal(3, 2, E)) * normal(3, 2, E, seed=5)).sum().backward()
    grads = [p.grad for p in encoder.parameters()]
    assert all(g is not None for g in grads)
    optimizer = tensorgrad.optim.SGD(encoder.parameters(), lr=0.1)
    optimizer.step()
    changed = [not np.array_equal(p.data, q.data) for p, q in
               zip(encoder.layers[0].parameters(), before.layers[0].parameters())]
    assert any(changed)
    assert not np.array_equal(encoder.layers[0].linear1.weight.data,
                              encoder.layers[1].linear1.weight.data)


def test_a_transformer_classifier_written_for_pytorch_learns():
    """``zoo_style.SequenceClassifier`` (test_zoo_torch.py holds it to PyTorch's numbers):
    which of two tokens a padded sequence holds more of."""
    rng = np.random.default_rng(0)
    lengths = rng.integers(2, 7, 32)
    idx = rng.integers(1, 4, (32, 6)) * (np.arange(6) < lengths[:, None])
    labels = tensorgrad.tensor(((idx == 1).sum(1) > (idx == 2).sum(1)).astype(int))
    tensorgrad.manual_seed(0)
    model = zoo_style.SequenceClassifier(4, 2)
    optimizer = tensorgrad.optim.Adam(model.parameters(), lr=2e-2)
    losses = []
    for _ in range(40):
        loss = nn.functional.cross_entropy(model(tensorgrad.tensor(idx)), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    model.eval()
    accuracy = (model(tensorgrad.tensor(idx)).argmax(1) == labels).float().mean().item()
    assert losses[-1] < 0.5 * losses[0] and accuracy > 0.9
