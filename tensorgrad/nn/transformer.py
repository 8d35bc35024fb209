"""torch.nn's attention and Transformer layers: ``MultiheadAttention``, the encoder
(``TransformerEncoderLayer``, ``TransformerEncoder``), the decoder
(``TransformerDecoderLayer``, ``TransformerDecoder``) and the two together
(``Transformer``), with PyTorch's arguments, parameter names and shapes, so that a
``state_dict()`` of either library loads into the other's.

The arithmetic is PyTorch's general ("slow") path, the one it takes whenever gradients are
recorded. Its fused inference path (eval mode, no gradients, ``batch_first``) and the
nested tensors ``TransformerEncoder`` makes of a padded batch there compute the same
attention in another order; a padded position's output, which a nested tensor gives as
zeros, is computed here as the slow path computes it.
"""

from __future__ import annotations

import copy
import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import functional as F
from ..creation import full
from ..devices import check_device
from ..tensor import Tensor
from . import init
from .containers import ModuleList
from .layers import Dropout, LayerNorm, Linear, weight_dtype
from .module import Module, Parameter

Mask = Tensor | np.ndarray  # a mask may come as a tensor or an array


class NonDynamicallyQuantizableLinear(Linear):
    """``MultiheadAttention.out_proj``: a ``Linear`` under PyTorch's name for it there, so
    that the two libraries print the same model."""


class MultiheadAttention(Module):
    """Attention of ``num_heads`` heads from queries to keys and values, as PyTorch's.

    The inputs are projected by ``in_proj_weight`` (3E, E), queries, keys and values
    stacked (or by ``q_proj_weight``, ``k_proj_weight`` and ``v_proj_weight`` when ``kdim``
    or ``vdim`` differ from ``embed_dim`` E), split into heads, attended, joined and
    projected by ``out_proj``. Sequences are (L, N, E), or (N, L, E) with ``batch_first``,
    or unbatched (L, E)::

        attn = nn.MultiheadAttention(16, 4, batch_first=True)
        out, weights = attn(x, x, x)  # x (N, L, 16): out (N, L, 16), weights (N, L, L)

    ``add_bias_kv`` and ``add_zero_attn`` are not supported.
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False,
                 kdim: int | None = None, vdim: int | None = None, batch_first: bool = False,
                 device: Any = None, dtype: Any = None) -> None:
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"embed_dim and num_heads must be greater than 0, got "
                             f"embed_dim={embed_dim} and num_heads={num_heads} instead")
        if add_bias_kv or add_zero_attn:
            raise NotImplementedError("MultiheadAttention: add_bias_kv and add_zero_attn are "
                                      "not supported")
        super().__init__()
        check_device(device)
        self.embed_dim = embed_dim
        self.kdim = embed_dim if kdim is None else kdim
        self.vdim = embed_dim if vdim is None else vdim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads, self.dropout, self.batch_first = num_heads, dropout, batch_first
        self.head_dim = embed_dim // num_heads
        if self.head_dim * num_heads != embed_dim:
            raise AssertionError("embed_dim must be divisible by num_heads")
        dtype = weight_dtype(dtype)
        # PyTorch's parameters in its order (state_dict()'s), the unused slots left empty
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(np.empty((3 * embed_dim, embed_dim), dtype))
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.q_proj_weight = Parameter(np.empty((embed_dim, embed_dim), dtype))
            self.k_proj_weight = Parameter(np.empty((embed_dim, self.kdim), dtype))
            self.v_proj_weight = Parameter(np.empty((embed_dim, self.vdim), dtype))
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(np.empty(3 * embed_dim, dtype))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias,
                                                        dtype=dtype)
        self.bias_k = self.bias_v = None  # (add_bias_kv's, which is not supported)
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        # PyTorch's: Glorot-uniform projections (the stacked one as one matrix), zero biases;
        # out_proj.weight keeps Linear's start
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            for weight in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                init.xavier_uniform_(weight)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)

    def forward(self, query: Tensor, key: Tensor, value: Tensor,
                key_padding_mask: Mask | None = None, need_weights: bool = True,
                attn_mask: Mask | None = None, average_attn_weights: bool = True,
                is_causal: bool = False) -> tuple[Tensor, Tensor | None]:
        """The attention's output and, with ``need_weights``, its weights (averaged over the
        heads unless ``average_attn_weights`` is False), as PyTorch's.

        Masks say where a query may not attend: True in a boolean mask, or a float added to
        the scores. ``attn_mask`` is (L, S), or (N * num_heads, L, S) (unbatched:
        (num_heads, L, S)); ``key_padding_mask`` is (N, S) (unbatched: (S,)). ``is_causal``
        is a hint that ``attn_mask`` is the causal mask, which it then needs. A query that
        may attend nowhere gets NaN with ``need_weights`` and zeros (before ``out_proj``)
        without, as in PyTorch.
        """
        batched = _check_shapes(query, key, value, key_padding_mask, attn_mask, self.num_heads)
        self_attention = query is key and key is value
        padding = _additive(key_padding_mask, "key_padding_mask", query._data.dtype,
                            attn_mask, "attn_mask")
        if self.batch_first and batched:  # to (L, N, E), PyTorch's layout for the heads
            query, key, value = (x.transpose(0, 1) for x in (query, key, value))
        elif not batched:  # a batch of one
            query, key, value = (x.unsqueeze(1) for x in (query, key, value))
            padding = None if padding is None else padding.unsqueeze(0)
        length, batch, embed_dim = query.shape
        source = key.shape[0]
        if is_causal and attn_mask is None:
            raise RuntimeError("Need attn_mask if specifying the is_causal hint: the causal "
                               "mask itself, as nn.Transformer.generate_square_subsequent_mask "
                               "makes it")
        if is_causal and padding is None and not need_weights:
            mask = None  # as PyTorch: the hint stands for the mask (attention's is_causal)
        else:
            mask = _additive(attn_mask, "attn_mask", query._data.dtype)
            is_causal = False
        if embed_dim != self.embed_dim:
            raise AssertionError(f"was expecting embedding dimension of {self.embed_dim}, but "
                                 f"got {embed_dim}")
        q, k, v = self._projections(query, key, value, self_attention)
        heads = batch * self.num_heads
        if mask is not None:  # to (1 or N * heads, L, S)
            if mask.dim() == 2 and mask.shape != (length, source):
                raise RuntimeError(f"The shape of the 2D attn_mask is {mask.shape}, but "
                                   f"should be {(length, source)}.")
            if mask.dim() == 3 and mask.shape != (heads, length, source):
                raise RuntimeError(f"The shape of the 3D attn_mask is {mask.shape}, but "
                                   f"should be {(heads, length, source)}.")
            mask = mask.unsqueeze(0) if mask.dim() == 2 else mask
        if padding is not None:
            for dim, size in enumerate((batch, source)):
                if padding.shape[dim] != size:
                    raise AssertionError(f"Expected key_padded_mask.shape[{dim}] to be {size}, "
                                         f"but got {padding.shape[dim]}")
            padding = padding.reshape(batch, 1, 1, source).expand(
                batch, self.num_heads, 1, source).reshape(heads, 1, source)
            mask = padding if mask is None else mask + padding
        # each head a batch entry: (L, N, E) -> (N * heads, L, head_dim)
        q = q.reshape(length, heads, self.head_dim).transpose(0, 1)
        k = k.reshape(source, heads, self.head_dim).transpose(0, 1)
        v = v.reshape(source, heads, self.head_dim).transpose(0, 1)
        dropout_p = self.dropout if self.training else 0.0
        weights = None
        if need_weights:
            # the fused attention keeps its weights to itself: spelled out, as PyTorch does
            # here (so a query that may attend nowhere gets NaN, as there)
            scores = (q * math.sqrt(1.0 / self.head_dim)) @ k.transpose(1, 2)
            if mask is not None:
                scores = scores + mask
            with np.errstate(invalid="ignore"):  # (NaN where a row is all -inf, on purpose)
                weights = F.softmax(scores, dim=-1)
            if dropout_p > 0:
                weights = F.dropout(weights, dropout_p)
            out = weights @ v
            weights = weights.reshape(batch, self.num_heads, length, source)
            if average_attn_weights:
                weights = weights.mean(1)
        else:
            out = F.scaled_dot_product_attention(q, k, v, mask, dropout_p, is_causal)
        out = self.out_proj(out.transpose(0, 1).reshape(length, batch, embed_dim))
        if not batched:
            return out.squeeze(1), None if weights is None else weights.squeeze(0)
        if self.batch_first:
            out = out.transpose(0, 1)
        return out, weights

    def _projections(self, query: Tensor, key: Tensor, value: Tensor, self_attention: bool
                     ) -> tuple[Tensor, Tensor, Tensor]:
        """The queries', keys' and values' projections, each (..., E)."""
        E = self.embed_dim
        biases: tuple[Tensor | None, ...] = (None, None, None) if self.in_proj_bias is None \
            else self.in_proj_bias.chunk(3)
        if self._qkv_same_embed_dim:
            if key.shape != value.shape:
                raise AssertionError(f"key shape {key.shape} does not match value shape "
                                     f"{value.shape}")
            if self_attention:  # one product with the stacked weight
                q, k, v = F.linear(query, self.in_proj_weight, self.in_proj_bias).chunk(3, -1)
                return q, k, v
            weights = self.in_proj_weight.chunk(3)
        else:
            if key.shape[:2] != value.shape[:2]:
                raise AssertionError(f"key's sequence and batch dims {key.shape[:2]} do not "
                                     f"match value's {value.shape[:2]}")
            weights = (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight)
            for name, x, weight in zip(("query", "key", "value"), (query, key, value), weights):
                if weight.shape != (E, x.shape[-1]):
                    raise AssertionError(f"expecting {name} weights shape of "
                                         f"{(E, x.shape[-1])}, but got {weight.shape}")
        q, k, v = (F.linear(x, w, b) for x, w, b in zip((query, key, value), weights, biases))
        return q, k, v


def _check_shapes(query: Tensor, key: Tensor, value: Tensor, key_padding_mask: Mask | None,
                  attn_mask: Mask | None, num_heads: int) -> bool:
    """Whether the inputs are batched (3-D) or not (2-D), after PyTorch's checks of their
    dimensions."""
    dims = query.dim()
    if dims not in (2, 3):
        raise AssertionError("query should be unbatched 2D or batched 3D tensor but received "
                             f"{dims}-D query tensor")
    kind = "batched (3-D)" if dims == 3 else "unbatched (2-D)"
    if key.dim() != dims or value.dim() != dims:
        raise AssertionError(f"For {kind} `query`, expected `key` and `value` to be "
                             f"{dims}-D but found {key.dim()}-D and {value.dim()}-D tensors "
                             "respectively")
    if key_padding_mask is not None and np.ndim(_data(key_padding_mask)) != dims - 1:
        raise AssertionError(f"For {kind} `query`, expected `key_padding_mask` to be `None` "
                             f"or {dims - 1}-D but found {np.ndim(_data(key_padding_mask))}-D "
                             "tensor instead")
    if attn_mask is not None:
        shape = np.shape(_data(attn_mask))
        if len(shape) not in (2, 3):
            raise AssertionError(f"For {kind} `query`, expected `attn_mask` to be `None`, 2-D "
                                 f"or 3-D but found {len(shape)}-D tensor instead")
        expected = (num_heads, query.shape[0], key.shape[0])
        if dims == 2 and len(shape) == 3 and shape != expected:
            raise AssertionError(f"Expected `attn_mask` shape to be {expected} but got {shape}")
    return dims == 3


def _data(mask: Mask) -> np.ndarray:
    return mask._data if isinstance(mask, Tensor) else np.asarray(mask)


def _additive(mask: Mask | None, name: str, dtype: np.dtype, other: Mask | None = None,
              other_name: str = "") -> Tensor | None:
    """``mask`` as the scores' addend in ``dtype``: a floating one as it is (a tensor keeps
    its gradient), a boolean one -inf where True and 0 where False. PyTorch's check and its
    warning for two masks of different types; a float mask of another dtype than ``dtype``,
    which PyTorch refuses, is cast (a NumPy array's float64 for a float32 model)."""
    if mask is None:
        return None
    data = _data(mask)
    if data.dtype != np.bool_ and data.dtype.kind != "f":
        raise AssertionError(f"only bool and floating types of {name} are supported")
    if other is not None and _data(other).dtype != data.dtype:
        warnings.warn(f"Support for mismatched {name} and {other_name} is deprecated. Use "
                      "same type for both instead.", stacklevel=4)  # (the module's caller)
    if data.dtype == np.bool_:
        return Tensor(np.where(data, -np.inf, 0).astype(dtype))
    mask = mask if isinstance(mask, Tensor) else Tensor(data)
    return mask if data.dtype == dtype else mask.to(dtype)


def _activation(activation: str | Callable[[Tensor], Tensor]) -> Callable[[Tensor], Tensor]:
    if activation == "relu":
        return F.relu
    if activation == "gelu":
        return F.gelu
    if isinstance(activation, str):
        raise RuntimeError(f"activation should be relu/gelu, not {activation}")
    return activation


class TransformerEncoderLayer(Module):
    """Self-attention and a feed-forward network, each with a residual connection and a
    layer norm (after it; before it with ``norm_first``), as PyTorch's::

        layer = nn.TransformerEncoderLayer(d_model=16, nhead=4, dim_feedforward=32,
                                           batch_first=True)
        y = layer(x)  # x and y (N, L, 16)

    ``activation``: "relu", "gelu" or any callable (a module too).
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048,
                 dropout: float = 0.1,
                 activation: str | Callable[[Tensor], Tensor] = F.relu,
                 layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first, device=device, dtype=dtype)
        self.linear1 = Linear(d_model, dim_feedforward, bias, device, dtype)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias, device, dtype)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, layer_norm_eps, bias=bias, device=device, dtype=dtype)
        self.norm2 = LayerNorm(d_model, layer_norm_eps, bias=bias, device=device, dtype=dtype)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.activation = _activation(activation)

    def forward(self, src: Tensor, src_mask: Mask | None = None,
                src_key_padding_mask: Mask | None = None, is_causal: bool = False) -> Tensor:
        """``src`` (L, N, E), (N, L, E) with ``batch_first``, or (L, E); the masks as
        ``MultiheadAttention``'s ``attn_mask`` and ``key_padding_mask``."""
        src_key_padding_mask = _additive(src_key_padding_mask, "src_key_padding_mask",
                                         src._data.dtype, src_mask, "src_mask")
        src_mask = _additive(src_mask, "src_mask", src._data.dtype)
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            return x + self._ff_block(self.norm2(x))
        x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
        return self.norm2(x + self._ff_block(x))

    def _sa_block(self, x: Tensor, mask: Tensor | None, key_padding_mask: Tensor | None,
                  is_causal: bool) -> Tensor:
        out, _ = self.self_attn(x, x, x, attn_mask=mask, key_padding_mask=key_padding_mask,
                                need_weights=False, is_causal=is_causal)
        return self.dropout1(out)

    def _ff_block(self, x: Tensor) -> Tensor:
        return self.dropout2(self.linear2(self.dropout(self.activation(self.linear1(x)))))


class TransformerEncoder(Module):
    """``num_layers`` copies of ``encoder_layer`` (deep copies: each starts with its
    weights, and learns its own), then ``norm`` if given, as PyTorch's::

        encoder = nn.TransformerEncoder(layer, num_layers=2)
        y = encoder(x, src_key_padding_mask=padding)  # padding (N, L), True at pads

    ``enable_nested_tensor`` and ``mask_check`` are kept for PyTorch's sake: they steer
    its fused inference path, which this does not have.
    """

    def __init__(self, encoder_layer: TransformerEncoderLayer, num_layers: int,
                 norm: Module | None = None, enable_nested_tensor: bool = True,
                 mask_check: bool = True) -> None:
        super().__init__()
        self.layers = ModuleList([copy.deepcopy(encoder_layer) for _ in range(num_layers)])
        self.num_layers = num_layers
        self.norm = norm
        self.enable_nested_tensor, self.mask_check = enable_nested_tensor, mask_check

    def forward(self, src: Tensor, mask: Mask | None = None,
                src_key_padding_mask: Mask | None = None, is_causal: bool | None = None
                ) -> Tensor:
        """Each layer in turn with the same masks; ``is_causal`` as the layers'."""
        src_key_padding_mask = _additive(src_key_padding_mask, "src_key_padding_mask",
                                         src._data.dtype, mask, "mask")
        mask = _additive(mask, "mask", src._data.dtype)
        output = src
        for layer in self.layers:
            output = layer(output, src_mask=mask, src_key_padding_mask=src_key_padding_mask,
                           is_causal=bool(is_causal))
        return output if self.norm is None else self.norm(output)


class TransformerDecoderLayer(Module):
    """Self-attention over the targets, attention from them to ``memory`` (the encoder's
    output) and a feed-forward network, each with a residual connection and a layer norm
    (after it; before it with ``norm_first``), as PyTorch's::

        layer = nn.TransformerDecoderLayer(d_model=16, nhead=4, batch_first=True)
        y = layer(tgt, memory, tgt_mask=causal)  # tgt (N, T, 16), memory (N, S, 16)
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048,
                 dropout: float = 0.1,
                 activation: str | Callable[[Tensor], Tensor] = F.relu,
                 layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first, device=device, dtype=dtype)
        self.multihead_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                                 batch_first=batch_first, device=device,
                                                 dtype=dtype)
        self.linear1 = Linear(d_model, dim_feedforward, bias, device, dtype)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias, device, dtype)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, layer_norm_eps, bias=bias, device=device, dtype=dtype)
        self.norm2 = LayerNorm(d_model, layer_norm_eps, bias=bias, device=device, dtype=dtype)
        self.norm3 = LayerNorm(d_model, layer_norm_eps, bias=bias, device=device, dtype=dtype)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.dropout3 = Dropout(dropout)
        self.activation = _activation(activation)

    def forward(self, tgt: Tensor, memory: Tensor, tgt_mask: Mask | None = None,
                memory_mask: Mask | None = None, tgt_key_padding_mask: Mask | None = None,
                memory_key_padding_mask: Mask | None = None, tgt_is_causal: bool = False,
                memory_is_causal: bool = False) -> Tensor:
        """``tgt`` (T, N, E) and ``memory`` (S, N, E) ((N, ., E) with ``batch_first``, or
        unbatched); the masks as ``MultiheadAttention``'s, ``tgt_...`` for the
        self-attention and ``memory_...`` for the attention to ``memory``."""
        x = tgt
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask,
                                   tgt_is_causal)
            x = x + self._mha_block(self.norm2(x), memory, memory_mask,
                                    memory_key_padding_mask, memory_is_causal)
            return x + self._ff_block(self.norm3(x))
        x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
        x = self.norm2(x + self._mha_block(x, memory, memory_mask, memory_key_padding_mask,
                                           memory_is_causal))
        return self.norm3(x + self._ff_block(x))

    def _sa_block(self, x: Tensor, mask: Mask | None, key_padding_mask: Mask | None,
                  is_causal: bool) -> Tensor:
        out, _ = self.self_attn(x, x, x, attn_mask=mask, key_padding_mask=key_padding_mask,
                                need_weights=False, is_causal=is_causal)
        return self.dropout1(out)

    def _mha_block(self, x: Tensor, memory: Tensor, mask: Mask | None,
                   key_padding_mask: Mask | None, is_causal: bool) -> Tensor:
        out, _ = self.multihead_attn(x, memory, memory, attn_mask=mask,
                                     key_padding_mask=key_padding_mask, need_weights=False,
                                     is_causal=is_causal)
        return self.dropout2(out)

    def _ff_block(self, x: Tensor) -> Tensor:
        return self.dropout3(self.linear2(self.dropout(self.activation(self.linear1(x)))))


class TransformerDecoder(Module):
    """``num_layers`` copies of ``decoder_layer`` (deep copies, as ``TransformerEncoder``'s),
    then ``norm`` if given, as PyTorch's::

        decoder = nn.TransformerDecoder(layer, num_layers=2)
        y = decoder(tgt, memory, tgt_mask=causal)
    """

    def __init__(self, decoder_layer: TransformerDecoderLayer, num_layers: int,
                 norm: Module | None = None) -> None:
        super().__init__()
        self.layers = ModuleList([copy.deepcopy(decoder_layer) for _ in range(num_layers)])
        self.num_layers = num_layers
        self.norm = norm

    def forward(self, tgt: Tensor, memory: Tensor, tgt_mask: Mask | None = None,
                memory_mask: Mask | None = None, tgt_key_padding_mask: Mask | None = None,
                memory_key_padding_mask: Mask | None = None, tgt_is_causal: bool | None = None,
                memory_is_causal: bool = False) -> Tensor:
        """Each layer in turn with the same ``memory`` and masks."""
        output = tgt
        for layer in self.layers:
            output = layer(output, memory, tgt_mask, memory_mask, tgt_key_padding_mask,
                           memory_key_padding_mask, bool(tgt_is_causal), memory_is_causal)
        return output if self.norm is None else self.norm(output)


class Transformer(Module):
    """An encoder of ``src`` and a decoder of ``tgt`` that attends to the encoder's output,
    each a stack of layers with a final layer norm, as PyTorch's::

        model = nn.Transformer(d_model=16, nhead=2, num_encoder_layers=1,
                               num_decoder_layers=1, dim_feedforward=32, batch_first=True)
        causal = nn.Transformer.generate_square_subsequent_mask(tgt.size(1))
        y = model(src, tgt, tgt_mask=causal)  # src (N, S, 16), tgt and y (N, T, 16)

    ``custom_encoder`` and ``custom_decoder`` take the place of the stacks (called with
    ``TransformerEncoder``'s and ``TransformerDecoder``'s arguments). Every parameter of
    more than one dimension, theirs too, starts Glorot-uniform, as in PyTorch.
    """

    def __init__(self, d_model: int = 512, nhead: int = 8, num_encoder_layers: int = 6,
                 num_decoder_layers: int = 6, dim_feedforward: int = 2048,
                 dropout: float = 0.1,
                 activation: str | Callable[[Tensor], Tensor] = F.relu,
                 custom_encoder: Module | None = None, custom_decoder: Module | None = None,
                 layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        layer_args = (d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps,
                      batch_first, norm_first, bias, device, dtype)
        self.encoder = custom_encoder if custom_encoder is not None else TransformerEncoder(
            TransformerEncoderLayer(*layer_args), num_encoder_layers,
            LayerNorm(d_model, layer_norm_eps, bias=bias, device=device, dtype=dtype))
        self.decoder = custom_decoder if custom_decoder is not None else TransformerDecoder(
            TransformerDecoderLayer(*layer_args), num_decoder_layers,
            LayerNorm(d_model, layer_norm_eps, bias=bias, device=device, dtype=dtype))
        self._reset_parameters()
        self.d_model, self.nhead, self.batch_first = d_model, nhead, batch_first

    def _reset_parameters(self) -> None:
        # PyTorch's: over the layers' own starts, Glorot-uniform for every matrix (the
        # attention's out_proj too); biases and the norms' weights keep theirs
        for parameter in self.parameters():
            if parameter.dim() > 1:
                init.xavier_uniform_(parameter)

    def forward(self, src: Tensor, tgt: Tensor, src_mask: Mask | None = None,
                tgt_mask: Mask | None = None, memory_mask: Mask | None = None,
                src_key_padding_mask: Mask | None = None,
                tgt_key_padding_mask: Mask | None = None,
                memory_key_padding_mask: Mask | None = None, src_is_causal: bool | None = None,
                tgt_is_causal: bool | None = None, memory_is_causal: bool = False) -> Tensor:
        """The decoder's output for ``tgt`` (T, N, E) attending to the encoding of ``src``
        (S, N, E) ((N, ., E) with ``batch_first``, or unbatched (., E)). ``src_...`` masks
        go to the encoder, ``tgt_...`` to the decoder's self-attention and ``memory_...``
        to its attention to the encoding, each as ``MultiheadAttention``'s."""
        batch_dim = 0 if self.batch_first else 1
        if src.dim() == 3 and src.shape[batch_dim] != tgt.shape[batch_dim]:
            raise RuntimeError("the batch number of src and tgt must be equal")
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise RuntimeError("the feature number of src and tgt must be equal to d_model")
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask,
                              is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask,
                            tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)

    @staticmethod
    def generate_square_subsequent_mask(sz: int, device: Any = None, dtype: Any = None
                                        ) -> Tensor:
        """The causal mask of ``sz`` positions, (sz, sz): -inf above the diagonal (a later
        position, hidden), 0 on and below it; float64 by default (tensorgrad's)::

            nn.Transformer.generate_square_subsequent_mask(3)
            # [[0, -inf, -inf], [0, 0, -inf], [0, 0, 0]]
        """
        return full((sz, sz), -math.inf, dtype=dtype, device=device).triu(1)
