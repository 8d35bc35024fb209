"""``torch.nn.utils.fusion``: fold an evaluation-mode batch normalization into the convolution
or linear layer before it, as PyTorch's: one layer that computes what the two computed, from
the normalization's running statistics and affine parameters."""

from __future__ import annotations

import copy
from typing import TypeVar

from ...tensor import Tensor
from ..module import Module, Parameter

__all__ = ["fuse_conv_bn_eval", "fuse_conv_bn_weights", "fuse_linear_bn_eval",
           "fuse_linear_bn_weights"]

M = TypeVar("M", bound=Module)


def _evaluating(layer: Module, bn: Module) -> None:
    if layer.training or bn.training:
        raise AssertionError("Fusion only for eval!")
    if bn.running_mean is None or bn.running_var is None:
        raise AssertionError("the batch normalization has no running statistics to fold in")


def fuse_conv_bn_eval(conv: M, bn: Module, transpose: bool = False) -> M:
    """A copy of ``conv`` (in evaluation mode, as ``bn``) whose weight and bias also apply
    ``bn``; ``transpose`` for a transposed convolution (its output channels on dimension 1)."""
    _evaluating(conv, bn)
    fused = copy.deepcopy(conv)
    fused.weight, fused.bias = fuse_conv_bn_weights(
        fused.weight, fused.bias, bn.running_mean, bn.running_var, bn.eps, bn.weight, bn.bias,
        transpose)
    return fused


def _folded(bias: Tensor | None, bn_rm: Tensor, bn_rv: Tensor, bn_eps: float,
            bn_w: Tensor | None, bn_b: Tensor | None) -> tuple[Tensor, Tensor, Tensor]:
    """(each channel's scale, the bias before it, the shift after it): absent affine
    parameters are ones and zeros, an absent bias zeros."""
    bias = bn_rm.new_zeros(bn_rm.shape) if bias is None else bias
    bn_w = bn_rm.new_ones(bn_rm.shape) if bn_w is None else bn_w
    bn_b = bn_rm.new_zeros(bn_rm.shape) if bn_b is None else bn_b
    return bn_w * (bn_rv + bn_eps).rsqrt(), bias - bn_rm, bn_b


def fuse_conv_bn_weights(conv_w: Tensor, conv_b: Tensor | None, bn_rm: Tensor, bn_rv: Tensor,
                         bn_eps: float, bn_w: Tensor | None, bn_b: Tensor | None,
                         transpose: bool = False) -> tuple[Parameter, Parameter]:
    """The weight and bias (new parameters, in ``conv_w``'s and ``conv_b``'s dtypes) of a
    convolution that computes ``conv_w``'s and ``conv_b``'s followed by the normalization:
    w * s per output channel and (b - mean) * s + shift, s = bn_w / sqrt(var + eps)."""
    weight_dtype = conv_w.dtype
    bias_dtype = conv_b.dtype if conv_b is not None else weight_dtype
    scale, centred, shift = _folded(conv_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b)
    shape = [1, -1] if transpose else [-1, 1]
    shape += [1] * (conv_w.ndim - 2)
    weight = (conv_w * scale.reshape(shape)).to(weight_dtype)
    bias = (centred * scale + shift).to(bias_dtype)
    return (Parameter(weight, conv_w.requires_grad),
            Parameter(bias, True if conv_b is None else conv_b.requires_grad))


def fuse_linear_bn_eval(linear: M, bn: Module) -> M:
    """A copy of ``linear`` (in evaluation mode, as ``bn``) whose weight and bias also apply
    ``bn`` (of ``linear.out_features`` features, or of 1)."""
    _evaluating(linear, bn)
    if linear.out_features != bn.num_features and bn.num_features != 1:
        raise AssertionError("To fuse, linear.out_features must equal bn.num_features or "
                             "bn.num_features must be 1")
    fused = copy.deepcopy(linear)
    fused.weight, fused.bias = fuse_linear_bn_weights(
        fused.weight, fused.bias, bn.running_mean, bn.running_var, bn.eps, bn.weight, bn.bias)
    return fused


def fuse_linear_bn_weights(linear_w: Tensor, linear_b: Tensor | None, bn_rm: Tensor,
                           bn_rv: Tensor, bn_eps: float, bn_w: Tensor, bn_b: Tensor
                           ) -> tuple[Parameter, Parameter]:
    """The weight and bias (new parameters) of a linear layer that computes ``linear_w``'s
    and ``linear_b``'s followed by the normalization: each output row scaled by
    s = bn_w / sqrt(var + eps), the bias (b - mean) * s + bn_b."""
    scale, centred, shift = _folded(linear_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b)
    weight = linear_w * scale.unsqueeze(-1)
    bias = centred * scale + shift
    return (Parameter(weight, linear_w.requires_grad),
            Parameter(bias, True if linear_b is None else linear_b.requires_grad))
