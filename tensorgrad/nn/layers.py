"""torch.nn's layers: each holds its weights as parameters and calls one functional op
(``Flatten`` and ``Unflatten``, which have none, one view). The activations are in
``activation.py``, the losses in ``loss.py``.

Weights start as PyTorch's do, drawn from tensorgrad's one generator (``manual_seed``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import functional as F
from ..devices import check_device
from ..dtypes import get_default_dtype
from ..tensor import Tensor
from . import init
from .activation import in_place
from .module import Module, Parameter


def weight_dtype(dtype: Any) -> np.dtype:
    """A layer's weight dtype: the default one (float64 unless ``set_default_dtype`` changed
    it), else a floating one."""
    dtype = get_default_dtype() if dtype is None else np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"a layer's weights must be floating, not {dtype}")
    return dtype


def reset_weight_and_bias(weight: Parameter, bias: Parameter | None, fan_in: int) -> None:
    """PyTorch's start for a Linear or a convolution: ``kaiming_uniform_`` with a = sqrt(5),
    which bounds the weights by 1/sqrt(fan_in), and the bias uniform within the same bounds."""
    init.kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        init.uniform_(bias, -bound, bound)


class Identity(Module):
    """Returns its input (any arguments to the constructor are ignored, as in PyTorch)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, input: Any) -> Any:
        return input


class Linear(Module):
    """y = x @ weight.T + bias, with weight of shape (out_features, in_features).

    Both start uniform in +-1/sqrt(in_features), as PyTorch's do::

        layer = nn.Linear(4, 3)
        y = layer(tensorgrad.ones(2, 4))  # shape (2, 3)
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        check_device(device)
        self.in_features, self.out_features = in_features, out_features
        dtype = weight_dtype(dtype)
        self.weight = Parameter(np.empty((out_features, in_features), dtype))
        if bias:
            self.bias = Parameter(np.empty(out_features, dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        reset_weight_and_bias(self.weight, self.bias, self.in_features)

    def forward(self, input: Tensor) -> Tensor:
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Embedding(Module):
    """A table of ``num_embeddings`` vectors of ``embedding_dim``, looked up by integer ids;
    they start standard normal, as PyTorch's do. The row ``padding_idx`` (negative: from
    the end), if given, starts at zeros and gets no gradient. ``max_norm``,
    ``norm_type`` and ``scale_grad_by_freq`` are ``F.embedding``'s::

        wte = nn.Embedding(vocab_size, n_embd)
        x = wte(idx)  # (B, T, n_embd) for (B, T) ids
    """

    def __init__(self, num_embeddings: int, embedding_dim: int,
                 padding_idx: int | None = None, max_norm: float | None = None,
                 norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                 sparse: bool = False, _weight: Any = None, _freeze: bool = False,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        check_device(device)
        if sparse:
            raise NotImplementedError("Embedding: sparse gradients (sparse=True) are not "
                                      "supported")
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx = None if padding_idx is None else \
            F.padding_index(padding_idx, num_embeddings)
        self.max_norm, self.norm_type = max_norm, norm_type
        self.scale_grad_by_freq, self.sparse = scale_grad_by_freq, sparse
        if _weight is None:
            self.weight = Parameter(np.empty((num_embeddings, embedding_dim),
                                             weight_dtype(dtype)), requires_grad=not _freeze)
            self.reset_parameters()
        else:
            if tuple(np.shape(_weight)) != (num_embeddings, embedding_dim):
                raise AssertionError("Shape of weight does not match num_embeddings and "
                                     "embedding_dim")
            self.weight = Parameter(_weight, requires_grad=not _freeze)

    @classmethod
    def from_pretrained(cls, embeddings: Any, freeze: bool = True,
                        padding_idx: int | None = None, max_norm: float | None = None,
                        norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                        sparse: bool = False) -> Embedding:
        """An Embedding holding (a copy of) the 2-D ``embeddings``, frozen unless ``freeze``
        is False::

            emb = nn.Embedding.from_pretrained(vectors, freeze=False)
        """
        shape = np.shape(embeddings._data if isinstance(embeddings, Tensor) else embeddings)
        if len(shape) != 2:
            raise AssertionError("Embeddings parameter is expected to be 2-dimensional")
        rows, cols = shape
        return cls(rows, cols, padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse,
                   _weight=embeddings, _freeze=freeze)

    def reset_parameters(self) -> None:
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight._data[self.padding_idx] = 0

    def forward(self, input: Any) -> Tensor:
        return F.embedding(input, self.weight, self.padding_idx, self.max_norm,
                           self.norm_type, self.scale_grad_by_freq)

    def extra_repr(self) -> str:
        settings = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            settings += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            settings += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            settings += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq:
            settings += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        return settings


class EmbeddingBag(Embedding):
    """An ``Embedding`` whose looked-up rows are reduced by bag (``mode`` "sum", "mean" or
    "max"), as ``F.embedding_bag``: a 2-D ``input`` is one bag a row, a 1-D one is cut at
    ``offsets``; ``per_sample_weights`` scale the rows of a "sum"::

        bag = nn.EmbeddingBag(1000, 16, mode="sum")
        out = bag(ids, offsets)  # (number of bags, 16)
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, max_norm: float | None = None,
                 norm_type: float = 2.0, scale_grad_by_freq: bool = False, mode: str = "mean",
                 sparse: bool = False, _weight: Any = None, include_last_offset: bool = False,
                 padding_idx: int | None = None, device: Any = None, dtype: Any = None) -> None:
        if mode not in ("sum", "mean", "max"):
            raise ValueError("mode has to be one of sum, mean or max")
        super().__init__(num_embeddings, embedding_dim, padding_idx, max_norm, norm_type,
                         scale_grad_by_freq, sparse, _weight, device=device, dtype=dtype)
        self.mode, self.include_last_offset = mode, include_last_offset

    @classmethod
    def from_pretrained(cls, embeddings: Any, freeze: bool = True,  # type: ignore[override]
                        max_norm: float | None = None, norm_type: float = 2.0,
                        scale_grad_by_freq: bool = False, mode: str = "mean",
                        sparse: bool = False, include_last_offset: bool = False,
                        padding_idx: int | None = None) -> EmbeddingBag:
        """An EmbeddingBag holding (a copy of) the 2-D ``embeddings``, frozen unless
        ``freeze`` is False."""
        shape = np.shape(embeddings._data if isinstance(embeddings, Tensor) else embeddings)
        if len(shape) != 2:
            raise AssertionError("Embeddings parameter is expected to be 2-dimensional")
        bag = cls(shape[0], shape[1], max_norm, norm_type, scale_grad_by_freq, mode, sparse,
                  embeddings, include_last_offset, padding_idx)
        bag.weight.requires_grad = not freeze
        return bag

    def forward(self, input: Any, offsets: Any = None,
                per_sample_weights: Tensor | None = None) -> Tensor:
        return F.embedding_bag(input, self.weight, offsets, self.max_norm, self.norm_type,
                               self.scale_grad_by_freq, self.mode, self.sparse,
                               per_sample_weights, self.include_last_offset, self.padding_idx)

    def extra_repr(self) -> str:
        text = f"{self.num_embeddings}, {self.embedding_dim}, mode='{self.mode}'"
        return text if self.padding_idx is None else f"{text}, padding_idx={self.padding_idx}"


def _shape(normalized_shape: int | tuple[int, ...] | list[int]) -> tuple[int, ...]:
    if isinstance(normalized_shape, int):
        return (normalized_shape,)
    return tuple(normalized_shape)


class LayerNorm(Module):
    """(x - mean) / sqrt(var + eps) over the last dimensions ``normalized_shape``, then
    times ``weight`` (ones at first) plus ``bias`` (zeros), as PyTorch's."""

    def __init__(self, normalized_shape: int | tuple[int, ...] | list[int], eps: float = 1e-5,
                 elementwise_affine: bool = True, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        check_device(device)
        self.normalized_shape = _shape(normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        dtype = weight_dtype(dtype)
        if elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape, dtype))
            if bias:
                self.bias = Parameter(np.zeros(self.normalized_shape, dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, input: Tensor) -> Tensor:
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}")


class RMSNorm(Module):
    """x / sqrt(mean(x**2) + eps) over the last dimensions ``normalized_shape``, times
    ``weight`` (ones at first); ``eps`` None is the dtype's machine epsilon, as PyTorch's."""

    def __init__(self, normalized_shape: int | tuple[int, ...] | list[int],
                 eps: float | None = None, elementwise_affine: bool = True,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        check_device(device)
        self.normalized_shape = _shape(normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape, weight_dtype(dtype)))
        else:
            self.register_parameter("weight", None)

    def forward(self, input: Tensor) -> Tensor:
        return F.rms_norm(input, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")


class Dropout(Module):
    """In training mode, zero each entry with probability ``p`` and scale the rest by
    1 / (1 - p); in evaluation mode (``eval()``), the identity. ``inplace`` as the
    activations' (``activation.py``)."""

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace = p, inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout(input, self.p, self.training, in_place(self.inplace, input))

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout1d(Dropout):
    """In training mode, zero each channel of (N, C, L) (or (C, L)) whole with probability
    ``p`` and scale the rest by 1 / (1 - p), as ``F.dropout1d``::

        nn.Dropout1d(0.2)  # for convolutional features: neighbours are alike
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout1d(input, self.p, self.training, in_place(self.inplace, input))


class Dropout2d(Dropout):
    """In training mode, zero each channel of (N, C, H, W) whole with probability ``p`` and
    scale the rest by 1 / (1 - p), as ``F.dropout2d``::

        nn.Dropout2d(0.2)  # whole feature maps dropped
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout2d(input, self.p, self.training, in_place(self.inplace, input))


class Dropout3d(Dropout):
    """In training mode, zero each channel of (N, C, D, H, W) (or (C, D, H, W)) whole with
    probability ``p`` and scale the rest by 1 / (1 - p), as ``F.dropout3d``::

        nn.Dropout3d(0.2)  # whole volumes dropped
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout3d(input, self.p, self.training, in_place(self.inplace, input))


class AlphaDropout(Dropout):
    """In training mode, ``F.alpha_dropout``: each entry dropped with probability ``p`` to
    SELU's negative limit, then scaled and shifted to keep a unit Gaussian's mean and
    variance; in evaluation mode, the identity::

        nn.Sequential(nn.Linear(8, 8), nn.SELU(), nn.AlphaDropout(0.1))
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.alpha_dropout(input, self.p, self.training, in_place(self.inplace, input))


class FeatureAlphaDropout(Dropout):
    """``AlphaDropout`` with one draw per channel of (N, C, ...) input
    (``F.feature_alpha_dropout``)."""

    def forward(self, input: Tensor) -> Tensor:
        return F.feature_alpha_dropout(input, self.p, self.training,
                                       in_place(self.inplace, input))


class Bilinear(Module):
    """y = x1 @ weight[k] @ x2 + bias[k] for each of ``out_features`` k, with weight
    (out_features, in1_features, in2_features) and bias (out_features,), both starting
    uniform in +-1/sqrt(in1_features), as PyTorch's::

        layer = nn.Bilinear(4, 5, 3)
        y = layer(tensorgrad.ones(2, 4), tensorgrad.ones(2, 5))  # shape (2, 3)
    """

    def __init__(self, in1_features: int, in2_features: int, out_features: int,
                 bias: bool = True, device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        check_device(device)
        self.in1_features, self.in2_features = in1_features, in2_features
        self.out_features = out_features
        dtype = weight_dtype(dtype)
        self.weight = Parameter(np.empty((out_features, in1_features, in2_features), dtype))
        if bias:
            self.bias = Parameter(np.empty(out_features, dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1 / math.sqrt(self.weight._data.shape[1])
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1: Tensor, input2: Tensor) -> Tensor:
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")


class Flatten(Module):
    """Dimensions ``start_dim`` to ``end_dim`` made one (by default all but the batch's)::

        head = nn.Sequential(nn.Flatten(), nn.Linear(C * H * W, classes))
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input: Tensor) -> Tensor:
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Dimension ``dim`` split into ``unflattened_size`` (a tuple or list of ints; one may be
    -1)::

        nn.Unflatten(1, (C, H, W))  # (N, C * H * W) -> (N, C, H, W)
    """

    def __init__(self, dim: int, unflattened_size: tuple[int, ...] | list[int]) -> None:
        super().__init__()
        if not isinstance(unflattened_size, (tuple, list)):
            raise TypeError("unflattened_size must be a tuple of ints, but found type "
                            f"{type(unflattened_size).__name__}")
        for position, size in enumerate(unflattened_size):
            if not isinstance(size, int):
                raise TypeError("unflattened_size must be tuple of ints, but found element of "
                                f"type {type(size).__name__} at pos {position}")
        self.dim, self.unflattened_size = dim, unflattened_size

    def forward(self, input: Tensor) -> Tensor:
        return input.unflatten(self.dim, self.unflattened_size)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
