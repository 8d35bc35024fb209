"""tensorgrad: a small reverse-mode autograd engine over NumPy, with PyTorch's names and
semantics.

Reading order: ``tensor.py`` (``Tensor``, ``Function``, ``Context`` and ``backward()``),
``ops.py`` (the primitive ops, each a ``Function``), ``functional.py`` (the fused ops a
GPT needs), ``creation.py`` (the factories), ``torch_functions.py`` (``torch.exp(x)`` and
the like), ``dtypes.py`` (PyTorch's dtype names), ``devices.py`` (the CPU), ``random.py``
(the one generator), ``grad_mode.py``, ``threads.py`` (both cores), ``gradcheck.py``,
``capture.py`` (record a step once, replay it), ``value.py`` (the scalar reference engine
every gradient is tested against) and ``dot.py`` (either engine's graph as DOT).

This file only re-exports: ``import tensorgrad as torch`` reaches the same names.
"""

import importlib
from typing import TYPE_CHECKING

from . import functional, optim, random
from .capture import Captured, CaptureError, capture
from .creation import (
    arange,
    as_tensor,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    multinomial,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    randperm,
    tensor,
    tril,
    triu,
    zeros,
    zeros_like,
)
from .devices import device
from .dot import to_dot
from .dtypes import (
    bool,  # noqa: A004 (PyTorch's name: tensorgrad.bool as torch.bool)
    double,
    float,  # noqa: A004 (PyTorch's name: float32)
    float16,
    float32,
    float64,
    get_default_dtype,
    half,
    int,  # noqa: A004 (PyTorch's name: int32)
    int8,
    int16,
    int32,
    int64,
    long,
    short,
    uint8,
)
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import GradcheckError, GradcheckWarning, gradcheck
from .ops import cat, stack, where
from .random import Generator, manual_seed, seed
from .tensor import Function, Tensor
from .threads import get_num_threads, set_num_threads
from .torch_functions import (
    abs,  # noqa: A004 (PyTorch name)
    allclose,
    amax,
    amin,
    argmax,
    argmin,
    chunk,
    clamp,
    clip,
    cumsum,
    equal,
    erf,
    exp,
    flatten,
    flip,
    is_tensor,
    isfinite,
    isinf,
    isnan,
    log,
    log_softmax,
    masked_fill,
    matmul,
    max,  # noqa: A004 (PyTorch name)
    maximum,
    mean,
    min,  # noqa: A004 (PyTorch name)
    minimum,
    norm,
    numel,
    permute,
    pow,  # noqa: A004 (PyTorch name)
    relu,
    reshape,
    rsqrt,
    sigmoid,
    softmax,
    sort,
    split,
    sqrt,
    squeeze,
    std,
    sum,  # noqa: A004 (PyTorch name)
    tanh,
    topk,
    transpose,
    unbind,
    unsqueeze,
    var,
)
from .value import Value

if TYPE_CHECKING:
    from . import nn

__all__ = [
    "CaptureError", "Captured", "Function", "Generator", "GradcheckError", "GradcheckWarning",
    "Tensor", "Value", "abs", "allclose", "amax", "amin", "arange", "argmax", "argmin",
    "as_tensor", "bool", "capture", "cat", "chunk", "clamp", "clip", "cumsum", "device", "double",
    "empty", "empty_like", "enable_grad", "equal", "erf", "exp", "eye", "flatten", "flip", "float",
    "float16", "float32", "float64", "from_numpy", "full", "full_like", "functional",
    "get_default_dtype", "get_num_threads", "gradcheck", "half", "int", "int16", "int32",
    "int64", "int8",
    "is_grad_enabled", "is_tensor", "isfinite", "isinf", "isnan", "linspace", "log", "log_softmax",
    "long", "manual_seed", "masked_fill", "matmul", "max", "maximum", "mean", "min", "minimum",
    "multinomial", "nn", "no_grad", "norm", "numel", "ones", "ones_like", "optim", "permute", "pow",
    "rand", "rand_like", "randint", "randn", "randn_like", "random", "randperm", "relu", "reshape",
    "rsqrt", "seed", "set_grad_enabled", "set_num_threads", "short", "sigmoid", "softmax", "sort",
    "split", "sqrt",
    "squeeze", "stack", "std", "sum", "tanh", "tensor", "to_dot", "topk", "transpose", "tril",
    "triu", "uint8", "unbind", "unsqueeze", "var", "where", "zeros", "zeros_like",
]


def __getattr__(name: str) -> object:
    # torch.nn's place, imported when first used (PEP 562): a program that never uses it,
    # as microgpt's command line, does not pay for its import at start-up.
    if name == "nn":
        return importlib.import_module(".nn", __name__)
    # The installed version, looked up when asked for: importlib.metadata takes about a tenth
    # of the command line's start-up (benchmarks/SPEED.md, "Start-up").
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("microgpt-tensorgrad")
        except PackageNotFoundError:  # a checkout on sys.path, never installed
            return "0+unknown"
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
