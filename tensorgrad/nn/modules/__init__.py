"""``torch.nn.modules``: PyTorch's layers under the submodules that define them in PyTorch
(``torch.nn.modules.dropout.Dropout``, ``torch.nn.modules.batchnorm._BatchNorm``), the paths
code names in ``isinstance`` checks and allow-lists (pytorch/examples' word language model
lists ``torch.nn.modules.rnn.LSTM`` and others). Each is tensorgrad's own class; each
submodule is registered in ``sys.modules``, so ``from torch.nn.modules.conv import _ConvNd``
imports too.
"""

from __future__ import annotations

import sys
from types import ModuleType

from .. import (
    activation,
    containers,
    conv,
    layers,
    lazy,
    loss,
    module,
    normalization,
    padding,
    rnn,
    transformer,
    vision,
)

# PyTorch's submodule -> the names it defines that tensorgrad has
_LAYOUT = {
    "module": ["Module"],
    "linear": ["Identity", "Linear", "Bilinear", "NonDynamicallyQuantizableLinear"],
    "activation": ["Threshold", "ReLU", "Hardtanh", "ReLU6", "Sigmoid", "Hardsigmoid", "Tanh",
                   "SiLU", "Mish", "Hardswish", "ELU", "CELU", "SELU", "GLU", "GELU",
                   "Hardshrink", "LeakyReLU", "LogSigmoid", "Softplus", "Softshrink",
                   "MultiheadAttention", "PReLU", "Softsign", "Tanhshrink", "Softmin",
                   "Softmax", "LogSoftmax"],
    "container": ["Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict"],
    "batchnorm": ["_NormBase", "_BatchNorm", "BatchNorm1d", "BatchNorm2d"],
    "conv": ["_ConvNd", "Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d"],
    "distance": ["PairwiseDistance", "CosineSimilarity"],
    "dropout": ["Dropout", "Dropout1d", "Dropout2d"],
    "flatten": ["Flatten", "Unflatten"],
    "instancenorm": ["InstanceNorm1d", "InstanceNorm2d"],
    "loss": ["_Loss", "L1Loss", "NLLLoss", "PoissonNLLLoss", "GaussianNLLLoss", "KLDivLoss",
             "MSELoss", "BCELoss", "BCEWithLogitsLoss", "SmoothL1Loss", "HuberLoss",
             "SoftMarginLoss", "CrossEntropyLoss", "MultiLabelSoftMarginLoss",
             "CosineEmbeddingLoss", "MarginRankingLoss", "TripletMarginLoss"],
    "normalization": ["LayerNorm", "GroupNorm", "RMSNorm"],
    "padding": ["CircularPad1d", "CircularPad2d", "ConstantPad1d", "ConstantPad2d",
                "ReflectionPad1d", "ReflectionPad2d", "ReplicationPad1d", "ReplicationPad2d",
                "ZeroPad1d", "ZeroPad2d"],
    "pixelshuffle": ["PixelShuffle", "PixelUnshuffle"],
    "pooling": ["_MaxPoolNd", "MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d",
                "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "AdaptiveAvgPool1d",
                "AdaptiveAvgPool2d"],
    "rnn": ["RNNBase", "RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell"],
    "sparse": ["Embedding", "EmbeddingBag"],
    "transformer": ["Transformer", "TransformerEncoder", "TransformerDecoder",
                    "TransformerEncoderLayer", "TransformerDecoderLayer"],
    "upsampling": ["Upsample"],
    # (nn surface: in one block)
    "fold": ["Fold", "Unfold"],
    "channelshuffle": ["ChannelShuffle"],
    "lazy": ["LazyModuleMixin"],
}
_LAYOUT["activation"].append("Softmax2d")
_LAYOUT["linear"].append("LazyLinear")
_LAYOUT["upsampling"] += ["UpsamplingNearest2d", "UpsamplingBilinear2d"]
_LAYOUT["pooling"] += ["MaxUnpool1d", "MaxUnpool2d", "MaxUnpool3d", "LPPool1d", "LPPool2d",
                       "LPPool3d"]
_LAYOUT["normalization"].append("LocalResponseNorm")
# the private bases, which tensorgrad.nn does not export
_PRIVATE = {"_NormBase": normalization._NormBase, "_BatchNorm": normalization._BatchNorm,
            "_ConvNd": conv._ConvNd, "_MaxPoolNd": conv._MaxPoolNd, "_Loss": loss._Loss,
            # (not in torch.nn either: MultiheadAttention's out_proj, a Linear)
            "NonDynamicallyQuantizableLinear": transformer.NonDynamicallyQuantizableLinear,
            # (at torch.nn.modules.lazy only)
            "LazyModuleMixin": lazy.LazyModuleMixin}


def _build() -> list[str]:
    defined = [activation, containers, conv, layers, loss, module, normalization, padding, rnn,
               transformer, lazy, vision]  # the files of tensorgrad.nn that define its classes
    exported = []
    for name, classes in _LAYOUT.items():
        submodule = ModuleType(f"{__name__}.{name}", f"torch.nn.modules.{name}, as named here")
        for cls in classes:
            value = _PRIVATE.get(cls) or next(vars(m)[cls] for m in defined if cls in vars(m))
            setattr(submodule, cls, value)
            if cls not in _PRIVATE:
                globals()[cls] = value  # (torch.nn.modules.Linear, as PyTorch's)
                exported.append(cls)
        globals()[name] = sys.modules[submodule.__name__] = submodule
    return exported


__all__ = [*_LAYOUT, *_build()]
