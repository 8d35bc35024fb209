"""tensorgrad: a small reverse-mode autograd engine over NumPy, with PyTorch's names and
semantics.

Reading order: ``tensor.py`` (``Tensor``, ``Function``, ``Context`` and ``backward()``),
``ops.py`` (the primitive ops, each a ``Function``), ``functional.py`` (the fused ops a
GPT needs; ``conv.py`` has convolutions, pooling and batch norm), ``creation.py`` (the
factories), ``torch_functions.py`` (``torch.exp(x)`` and
the like), ``dtypes.py`` (PyTorch's dtype names), ``devices.py`` (the CPU), ``random.py``
(the one generator), ``grad_mode.py``, ``threads.py`` (both cores), ``gradcheck.py``,
``capture.py`` (record a step once, replay it), ``value.py`` (the scalar reference engine
every gradient is tested against) and ``drawing.py`` (either engine's graph as DOT).

This file re-exports: ``import tensorgrad as torch`` reaches the same names; and with
``sys.modules["torch"] = tensorgrad``, ``import torch.nn`` is ``tensorgrad.nn`` (importing.py).
"""

import importlib
from math import e, inf, nan, pi  # PyTorch's torch.e, torch.inf, torch.nan, torch.pi
from typing import TYPE_CHECKING

from . import autograd, functional, importing, optim, out_arguments, random
from .autograd import is_anomaly_enabled
from .capture import Captured, CaptureError, capture
from .composite import (
    absolute,
    adaptive_avg_pool1d,
    adaptive_max_pool1d,
    add,
    addmm,
    aminmax,
    angle,
    arccos,
    arccosh,
    arcsin,
    arcsinh,
    arctan,
    arctan2,
    arctanh,
    atleast_1d,
    atleast_2d,
    atleast_3d,
    avg_pool1d,
    baddbmm,
    batch_norm,
    bilinear,
    bitwise_and,
    bitwise_left_shift,
    bitwise_not,
    bitwise_or,
    bitwise_right_shift,
    bitwise_xor,
    block_diag,
    bucketize,
    cartesian_prod,
    cdist,
    celu,
    clamp_max,
    clamp_min,
    clone,
    column_stack,
    combinations,
    conv1d,
    conv2d,
    conv3d,
    conv_transpose1d,
    conv_transpose2d,
    conv_transpose3d,
    copysign,
    cosine_similarity,
    cross,
    cummax,
    cummin,
    deg2rad,
    diag_embed,
    diagflat,
    diff,
    dist,
    div,
    divide,
    dot,
    dropout,
    dsplit,
    dstack,
    embedding,
    erfc,
    fix,
    fliplr,
    flipud,
    floor_divide,
    frac,
    gcd,
    greater,
    greater_equal,
    group_norm,
    hardshrink,
    heaviside,
    hsplit,
    hypot,
    instance_norm,
    is_nonzero,
    is_same_size,
    is_signed,
    isin,
    isneginf,
    isposinf,
    isreal,
    kron,
    layer_norm,
    lcm,
    less,
    less_equal,
    logaddexp,
    logaddexp2,
    logcumsumexp,
    logit,
    max_pool1d,
    max_pool2d,
    max_pool3d,
    median,
    mul,
    multiply,
    mv,
    nanmean,
    nansum,
    narrow_copy,
    neg,
    negative,
    not_equal,
    pairwise_distance,
    pixel_shuffle,
    pixel_unshuffle,
    positive,
    prelu,
    rad2deg,
    ravel,
    reciprocal,
    rms_norm,
    rot90,
    row_stack,
    rsub,
    searchsorted,
    select,
    selu,
    sgn,
    signbit,
    sinc,
    std_mean,
    sub,
    subtract,
    take,
    take_along_dim,
    tensor_split,
    tensordot,
    threshold,
    true_divide,
    unflatten,
    var_mean,
    vsplit,
    xlogy,
)
from .creation import (
    BoolTensor,
    ByteTensor,
    CharTensor,
    DoubleTensor,
    FloatTensor,
    HalfTensor,
    IntTensor,
    LongTensor,
    ShortTensor,
    arange,
    as_tensor,
    bernoulli,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    logspace,
    multinomial,
    normal,
    ones,
    ones_like,
    poisson,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    randperm,
    scalar_tensor,
    tensor,
    tril,
    tril_indices,
    triu,
    triu_indices,
    zeros,
    zeros_like,
)
from .devices import device, get_default_device, set_default_device
from .dtypes import (
    bfloat16,
    bool,  # noqa: A004 (PyTorch's name: tensorgrad.bool as torch.bool)
    can_cast,
    double,
    dtype,
    finfo,
    float,  # noqa: A004 (PyTorch's name: float32)
    float16,
    float32,
    float64,
    get_default_dtype,
    half,
    iinfo,
    int,  # noqa: A004 (PyTorch's name: int32)
    int8,
    int16,
    int32,
    int64,
    is_complex,
    long,
    promote_types,
    result_type,
    set_default_dtype,
    short,
    uint8,
    uint16,
    uint32,
    uint64,
)
from .grad_mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import GradcheckError, GradcheckWarning, gradcheck
from .ops import cat, einsum, stack, where
from .random import Generator, get_rng_state, initial_seed, manual_seed, seed, set_rng_state
from .scatter_ops import index_copy, index_put, scatter_reduce
from .size import Size, broadcast_shapes
from .statistics import (
    corrcoef,
    cov,
    histc,
    kthvalue,
    mode,
    nanmedian,
    nanquantile,
    quantile,
)
from .switches import (
    are_deterministic_algorithms_enabled,
    compile,  # noqa: A004 (PyTorch's name)
    get_float32_matmul_precision,
    is_deterministic_algorithms_warn_only_enabled,
    set_float32_matmul_precision,
    use_deterministic_algorithms,
)
from .tensor import Function, Tensor
from .threads import get_num_threads, set_num_threads
from .torch_functions import (
    abs,  # noqa: A004 (PyTorch name)
    acos,
    acosh,
    addcdiv,
    addcmul,
    all,  # noqa: A004 (PyTorch name)
    allclose,
    amax,
    amin,
    any,  # noqa: A004 (PyTorch name)
    argmax,
    argmin,
    argsort,
    asin,
    asinh,
    atan,
    atan2,
    atanh,
    bincount,
    bmm,
    broadcast_tensors,
    broadcast_to,
    ceil,
    chunk,
    clamp,
    clip,
    concat,
    concatenate,
    cos,
    cosh,
    count_nonzero,
    cumprod,
    cumsum,
    diag,
    diagonal,
    eq,
    equal,
    erf,
    exp,
    exp2,
    expm1,
    flatten,
    flip,
    float_power,
    floor,
    fmax,
    fmin,
    fmod,
    gather,
    ge,
    gt,
    hstack,
    index_add,
    index_select,
    is_floating_point,
    is_tensor,
    isclose,
    isfinite,
    isinf,
    isnan,
    le,
    lerp,
    log,
    log1p,
    log2,
    log10,
    log_softmax,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    logsumexp,
    lt,
    masked_fill,
    masked_select,
    matmul,
    max,  # noqa: A004 (PyTorch name)
    maximum,
    mean,
    meshgrid,
    min,  # noqa: A004 (PyTorch name)
    minimum,
    mm,
    moveaxis,
    movedim,
    nan_to_num,
    narrow,
    ne,
    nonzero,
    norm,
    numel,
    outer,
    permute,
    pow,  # noqa: A004 (PyTorch name)
    prod,
    relu,
    remainder,
    repeat_interleave,
    reshape,
    roll,
    round,  # noqa: A004 (PyTorch name)
    rsqrt,
    scatter,
    scatter_add,
    sigmoid,
    sign,
    sin,
    sinh,
    softmax,
    sort,
    split,
    spmm,
    sqrt,
    square,
    squeeze,
    std,
    sum,  # noqa: A004 (PyTorch name)
    swapaxes,
    swapdims,
    t,
    tan,
    tanh,
    tile,
    topk,
    trace,
    transpose,
    trunc,
    unbind,
    unique,
    unsqueeze,
    var,
    vstack,
)
from .value import Value

if TYPE_CHECKING:
    from . import accelerator, amp, backends, cuda, distributed, linalg, nn, utils
    from .amp import autocast
    from .drawing import to_dot
    from .serialization import load, save

# What is imported when first used (PEP 562): a program that never uses them, as microgpt's
# command line, does not pay for their import. Modules, then names by their modules.
importing.install(__name__)
out_arguments.wrap_all(globals())  # PyTorch's out= (out_arguments.py)

_LAZY_MODULES = ("nn", "utils", "accelerator", "amp", "backends", "cuda", "distributed",
                 "jit", "linalg", "testing", "distributions", "onnx", "serialization", "func",
                 "mps", "multiprocessing", "version", "xpu", "profiler", "compiler")
_LAZY_NAMES = {"to_dot": ".drawing", "load": ".serialization", "save": ".serialization",
               "autocast": ".amp"}
# linear algebra (linalg.py), loaded when first used
_LAZY_NAMES.update(dict.fromkeys(("det", "slogdet", "logdet", "inverse", "cholesky",
                                  "matrix_power"), ".linalg"))
# more tensor functions (surface.py) and the gamma function's family (gamma.py), the same way
_SURFACE_NAMES = ("addmv", "addr", "argwhere", "diagonal_scatter", "frexp", "ger", "index_reduce",
                  "inner", "ldexp", "masked_scatter", "msort", "nextafter", "renorm",
                  "select_scatter", "set_flush_denormal", "set_printoptions", "slice_scatter",
                  "split_with_sizes", "typename", "unique_consecutive", "vdot")
_GAMMA_NAMES = ("digamma", "erfinv", "i0", "lgamma", "mvlgamma", "polygamma")
_LAZY_NAMES.update(dict.fromkeys(_SURFACE_NAMES, ".surface"))
_LAZY_NAMES.update(dict.fromkeys(_GAMMA_NAMES, ".gamma"))
# more of the tensor's surface (surface.py): products, matrix functions, conversions, and the
# in-place methods as torch.* functions
_SURFACE_MORE = ("addbmm", "asarray", "chain_matmul", "detach", "fill", "frombuffer",
                 "index_put_", "is_inference", "matrix_exp", "nonzero_static", "pinverse", "put",
                 "qr")
_LAZY_NAMES.update(dict.fromkeys(_SURFACE_MORE, ".surface"))
_LAZY_NAMES["is_inference_mode_enabled"] = ".grad_mode"
# a tensor's memory (strides.py) and its memory formats and layout (layouts.py)
_STRIDES_NAMES = ("as_strided", "from_dlpack", "real", "imag", "conj", "conj_physical",
                  "resolve_conj", "resolve_neg", "is_conj", "is_neg")
_LAZY_NAMES.update(dict.fromkeys(_STRIDES_NAMES, ".strides"))
_LAYOUTS_NAMES = ("memory_format", "contiguous_format", "channels_last", "channels_last_3d",
                  "preserve_format", "layout", "strided")
_LAZY_NAMES.update(dict.fromkeys(_LAYOUTS_NAMES, ".layouts"))
# the top-level forms of losses, alpha dropout and rrelu, with ATen's arguments (aten_forms.py)
_ATEN_FORMS = ("hinge_embedding_loss", "margin_ranking_loss", "cosine_embedding_loss", "kl_div",
               "binary_cross_entropy_with_logits", "ctc_loss", "alpha_dropout",
               "alpha_dropout_", "feature_alpha_dropout", "feature_alpha_dropout_", "rrelu",
               "rrelu_")
_LAZY_NAMES.update(dict.fromkeys(_ATEN_FORMS, ".aten_forms"))
# torch._foreach_*: one operation over lists of tensors (foreach.py)
_FOREACH = ("_foreach_add", "_foreach_add_", "_foreach_copy_", "_foreach_div", "_foreach_div_",
            "_foreach_lerp_", "_foreach_mul", "_foreach_mul_", "_foreach_norm", "_foreach_sub",
            "_foreach_sub_", "_foreach_zero_")
_LAZY_NAMES.update(dict.fromkeys(_FOREACH, ".foreach"))
# the rest of the surface: windows, older linear algebra, the incomplete gamma functions and
# more (windows.py, legacy.py, special_more.py, surface_rest.py: lazily)
_WINDOWS = ("bartlett_window", "blackman_window", "hamming_window", "hann_window",
            "kaiser_window")
_LEGACY = ("svd", "lu", "lu_solve", "lu_unpack", "triangular_solve", "cholesky_solve",
           "cholesky_inverse", "matrix_rank", "lstsq", "solve", "eig", "symeig")
_SURFACE_REST = (
    "histogram", "histogramdd", "trapezoid", "trapz", "cumulative_trapezoid", "gradient",
    "unravel_index", "vander", "adjoint", "index_fill", "pdist", "channel_shuffle",
    "native_channel_shuffle", "alias_copy", "detach_copy", "diagonal_copy", "expand_copy",
    "permute_copy", "select_copy", "slice_copy", "split_copy", "split_with_sizes_copy",
    "squeeze_copy", "t_copy", "transpose_copy", "unbind_copy", "unfold_copy", "unsqueeze_copy",
    "view_copy", "empty_strided", "empty_permuted", "range", "binomial",
    "poisson_nll_loss", "triplet_margin_loss", "dropout_", "feature_dropout",
    "feature_dropout_", "celu_", "selu_", "threshold_", "vmap", "set_warn_always",
    "is_warn_always_enabled", "get_device", "get_num_interop_threads",
    "set_num_interop_threads", "set_anomaly_enabled", "is_anomaly_check_nan_enabled",
    "set_deterministic_debug_mode", "get_deterministic_debug_mode", "set_default_tensor_type")
_LAZY_NAMES.update(dict.fromkeys(_WINDOWS, ".windows"))
_LAZY_NAMES.update(dict.fromkeys(_LEGACY, ".legacy"))
_LAZY_NAMES.update(dict.fromkeys(("igamma", "igammac"), ".special_more"))
_LAZY_NAMES.update(dict.fromkeys(_SURFACE_REST, ".surface_rest"))

__all__ = [
    "BoolTensor", "ByteTensor", "CharTensor", "DoubleTensor", "FloatTensor", "HalfTensor",
    "IntTensor", "LongTensor", "ShortTensor",
    "CaptureError", "Captured", "Function", "Generator", "GradcheckError", "GradcheckWarning",
    "Size",
    "Tensor", "Value", "abs", "addcdiv", "addcmul", "all", "allclose", "amax", "amin", "any",
    "arange", "argmax", "argmin", "argsort", "as_tensor", "autograd", "bmm", "bool", "capture",
    "cat", "ceil",
    "chunk", "clamp", "clip", "cumprod", "cumsum", "device", "diag", "double", "einsum", "empty",
    "empty_like", "enable_grad", "equal", "erf", "exp", "expm1", "eye", "flatten", "flip", "float",
    "float16", "float32", "float64", "floor", "fmod", "from_numpy", "full", "full_like",
    "functional", "gather", "get_default_dtype", "get_num_threads", "gradcheck", "half",
    "index_select", "inference_mode", "initial_seed", "int", "int16", "int32", "int64", "int8",
    "is_grad_enabled",
    "is_tensor", "isclose", "isfinite", "isinf", "isnan", "lerp", "linspace", "log", "log1p",
    "log_softmax", "logsumexp", "long", "manual_seed", "masked_fill", "matmul", "max", "maximum",
    "mean", "meshgrid", "min", "minimum", "mm", "moveaxis", "movedim", "multinomial", "nan_to_num",
    "normal", "poisson", "bernoulli",
    "narrow", "nn", "no_grad", "norm", "numel", "ones", "ones_like", "optim", "outer", "permute",
    "pow", "prod", "rand", "rand_like", "randint", "randint_like", "randn", "randn_like",
    "random", "randperm",
    "relu", "remainder", "repeat_interleave", "reshape", "roll", "round", "rsqrt", "seed",
    "set_grad_enabled", "set_num_threads", "short", "sigmoid", "sign", "softmax", "sort", "spmm",
    "split",
    "sqrt", "squeeze", "stack", "std", "sum", "swapaxes", "swapdims", "t", "tanh", "tensor",
    "tile", "to_dot", "topk", "transpose", "tril", "tril_indices", "triu", "triu_indices", "trunc",
    "uint8", "uint16", "uint32", "uint64", "unbind", "unsqueeze", "utils", "var", "where", "zeros",
    "zeros_like",
    # checkpoints
    "load", "save",
    # for code that looks for a GPU (there is none), scales its losses, sets switches
    "accelerator", "amp", "autocast", "backends", "cuda", "distributed", "compile", "linalg",
    "get_default_device", "set_default_device",
    "set_float32_matmul_precision", "get_float32_matmul_precision",
    "use_deterministic_algorithms", "are_deterministic_algorithms_enabled",
    "is_deterministic_algorithms_warn_only_enabled", "bfloat16", "dtype", "pi", "e", "inf",
    "nan",
    # elementwise math, comparisons, selection and dtype information
    "acos", "acosh", "asin", "asinh", "atan", "atan2", "atanh", "bincount", "broadcast_tensors",
    "broadcast_to", "concat", "concatenate", "cos", "cosh", "count_nonzero", "diagonal", "eq",
    "exp2", "finfo", "float_power", "fmax", "fmin", "ge", "gt", "hstack", "iinfo",
    "is_floating_point", "le", "log10", "log2", "logical_and", "logical_not", "logical_or",
    "logical_xor", "lt", "masked_select", "ne", "nonzero", "set_default_dtype", "sin", "sinh",
    "square", "tan", "trace", "unique", "vstack",
    # writing at indices
    "index_add", "scatter", "scatter_add",
    # made of other ops
    "absolute", "addmm", "baddbmm", "cdist", "clamp_max", "clamp_min", "clone", "diff", "dot",
    "floor_divide", "median", "mv", "nanmean", "nansum", "negative", "positive", "select",
    "sgn", "std_mean", "take_along_dim", "tensordot", "true_divide", "var_mean",
    # more of PyTorch's names, elementwise math and shapes, and its top-level functional ops
    "adaptive_avg_pool1d", "adaptive_max_pool1d", "add", "aminmax", "arccos", "arccosh", "arcsin",
    "arcsinh", "arctan", "arctan2", "arctanh", "atleast_1d", "atleast_2d", "atleast_3d",
    "avg_pool1d", "batch_norm", "bilinear", "bitwise_and", "bitwise_not", "bitwise_or",
    "bitwise_xor", "bitwise_left_shift", "bitwise_right_shift", "bucketize", "celu",
    "angle", "column_stack", "conv1d", "conv2d", "conv_transpose1d",
    "conv_transpose2d", "copysign", "cosine_similarity", "cross", "cummax", "cummin", "deg2rad",
    "diag_embed", "diagflat", "dist", "div", "divide", "dropout", "dsplit", "dstack", "embedding",
    "erfc", "fix", "fliplr", "flipud", "frac", "gcd", "greater", "greater_equal", "group_norm",
    "hardshrink", "heaviside", "hsplit", "hypot", "instance_norm", "is_nonzero", "is_same_size",
    "is_signed", "isin", "isneginf", "isposinf", "isreal", "kron", "layer_norm", "lcm", "less",
    "less_equal", "logaddexp", "logaddexp2", "logcumsumexp", "logit", "max_pool1d", "max_pool2d",
    "mul", "multiply", "narrow_copy", "neg", "not_equal", "pairwise_distance", "pixel_shuffle",
    "pixel_unshuffle", "prelu", "rad2deg", "ravel", "reciprocal", "rms_norm", "rot90", "row_stack",
    "rsub", "searchsorted", "selu", "signbit", "sinc", "sub", "subtract", "take", "tensor_split",
    "threshold", "unflatten", "vsplit", "xlogy",
    # linear algebra (linalg.py) and statistics and selection (statistics.py)
    "cholesky", "det", "inverse", "logdet", "matrix_power", "slogdet", "corrcoef", "cov",
    "histc", "index_copy", "index_put", "kthvalue", "mode", "nanmedian", "nanquantile",
    "quantile", "scatter_reduce",
    # dtypes, shapes, the random state, and more creation
    "block_diag", "broadcast_shapes", "can_cast", "cartesian_prod", "combinations",
    "get_rng_state", "is_complex", "logspace", "promote_types", "result_type", "scalar_tensor",
    "set_rng_state", "is_anomaly_enabled",
    # more tensor functions and the gamma function's family (surface.py, gamma.py: lazily)
    "addmv", "addr", "argwhere", "diagonal_scatter", "frexp", "ger", "index_reduce", "inner",
    "ldexp", "masked_scatter", "msort", "nextafter", "renorm", "select_scatter", "slice_scatter",
    "set_flush_denormal", "set_printoptions", "split_with_sizes", "typename",
    "unique_consecutive", "vdot",
    "digamma", "erfinv", "i0", "lgamma", "mvlgamma", "polygamma",
    "addbmm", "asarray", "chain_matmul", "detach", "fill", "frombuffer", "index_put_",
    "is_inference", "matrix_exp", "nonzero_static", "pinverse", "put", "qr",
    "is_inference_mode_enabled",
    *_STRIDES_NAMES, *_LAYOUTS_NAMES,
    # the 3-d convolutions and pool (conv.py)
    "conv3d", "conv_transpose3d", "max_pool3d",
    # losses, alpha dropout and rrelu with ATen's arguments (aten_forms.py: lazily)
    *_ATEN_FORMS,
    # windows, older linear algebra, igamma and the rest (lazily)
    *_WINDOWS, *_LEGACY, "igamma", "igammac", *_SURFACE_REST,
]


def __getattr__(name: str) -> object:
    if name.endswith("_") and name not in _LAZY_NAMES:  # torch.exp_(x), ...: x.exp_()
        from .surface import IN_PLACE_FUNCTIONS

        _LAZY_NAMES.update(dict.fromkeys(IN_PLACE_FUNCTIONS, ".surface"))
    if name in _LAZY_MODULES:
        return importlib.import_module(f".{name}", __name__)
    if name in _LAZY_NAMES:
        value = getattr(importlib.import_module(_LAZY_NAMES[name], __name__), name)
        if name in out_arguments.WITH_OUT:
            value = out_arguments.with_out(value)
        globals()[name] = value  # found here from now on, without this function
        return value
    # The installed version, looked up when asked for: importlib.metadata takes about a tenth
    # of the command line's start-up (benchmarks/SPEED.md, "Start-up").
    if name == "__version__":
        from .version import __version__

        return __version__
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    from .surface import IN_PLACE_FUNCTIONS  # (torch.exp_, ...: found when first asked for)

    return sorted({*globals(), *_LAZY_MODULES, *_LAZY_NAMES, *IN_PLACE_FUNCTIONS})
