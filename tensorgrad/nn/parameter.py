"""``torch.nn.parameter``: the kinds of tensor a module holds (``from torch.nn.parameter
import Parameter``), as PyTorch names them."""

from .lazy import UninitializedBuffer, UninitializedParameter, UninitializedTensorMixin, is_lazy
from .module import Buffer, Parameter

__all__ = ["Buffer", "Parameter", "UninitializedBuffer", "UninitializedParameter",
           "UninitializedTensorMixin", "is_lazy"]
