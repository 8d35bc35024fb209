"""PyTorch's ``out=`` argument of the ``torch.*`` functions: the result written into a tensor
the caller gives, which is returned.

As PyTorch's: the result is cast to ``out``'s dtype where PyTorch's casting rule allows it
(a float into an integer ``out`` raises RuntimeError); an ``out`` of another shape is resized
(with PyTorch's warning if it held entries); an op whose inputs require grad (with grad
enabled) refuses ``out=``, which autograd cannot follow; a function of several results (``max``
along a dim, ``sort``, ``topk``, ...) takes a tuple of tensors. ``__init__`` wraps the
functions named in ``WITH_OUT``; a call without ``out`` costs one more call."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from . import dtypes
from .grad_mode import is_grad_enabled
from .tensor import Tensor, note_in_place_write

# the torch.* functions that take out= (among tensorgrad's top-level names)
WITH_OUT = (
    "abs", "acos", "acosh", "add", "addcdiv", "addcmul", "addmm", "all", "amax", "amin", "any",
    "arange", "argmax", "argmin", "asin", "asinh", "atan", "atan2", "atanh", "baddbmm", "bmm",
    "bucketize", "cat", "ceil", "clamp", "clip", "concat", "concatenate", "cos", "cosh",
    "cross", "cummax", "cummin", "cumprod", "cumsum", "deg2rad", "div", "divide", "dot", "eq",
    "erf", "erfc", "exp", "exp2", "expm1", "eye", "floor", "floor_divide", "fmax", "fmin",
    "fmod", "full", "gather", "ge", "gt", "histc", "hstack", "hypot", "index_select", "kron",
    "kthvalue", "le", "lerp", "linspace", "log", "log10", "log1p", "log2", "log_softmax",
    "logaddexp", "logcumsumexp", "logical_and", "logical_not", "logical_or", "logical_xor",
    "logspace", "logsumexp", "lt", "masked_select", "matmul", "max", "maximum", "mean",
    "median", "min", "minimum", "mm", "mode", "mul", "multiply", "mv", "nan_to_num", "nanmean",
    "nanquantile", "nansum", "ne", "neg", "negative", "norm", "ones", "outer", "pow", "prod",
    "quantile", "rad2deg", "rand", "randint", "randn", "reciprocal", "remainder", "round",
    "rsqrt", "searchsorted", "sigmoid", "sign", "sin", "sinh", "softmax", "sort", "sqrt",
    "square", "stack", "std", "sub", "subtract", "sum", "take", "tan", "tanh", "topk", "tril",
    "triu", "true_divide", "trunc", "var", "vstack", "where", "zeros",
)


# PyTorch's rules of some functions' out=: the factories and these reductions compute in
# out's dtype (unless given one), the factories resize it without a word; these results are
# of indices (int64 only) or of truth values (bool only); where takes its result's dtype
# exactly; these return (values, indices) always, or (max, min, median) along a dim; the
# joins refuse an input their out cannot hold with a TypeError
_FACTORIES = {"zeros", "ones", "full", "arange", "linspace", "logspace", "eye", "rand", "randn",
              "randint"}
_IN_OUT_DTYPE = _FACTORIES | {"sum", "nansum", "prod", "cumsum", "cumprod", "mean", "nanmean"}
_INDICES = {"argmax", "argmin"}
_TRUTH = {"all", "any"}
_EXACT = {"where"}
_PAIRS = {"sort", "topk", "kthvalue", "mode", "cummax", "cummin"}
_PAIRS_ALONG_A_DIM = {"max", "min", "median"}
_JOINS = {"cat", "concat", "concatenate", "stack", "hstack", "vstack"}


def with_out(function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` taking PyTorch's ``out=``."""
    name = function.__name__

    def call(*args: Any, out: Any = None, **kwargs: Any) -> Any:
        if out is None:
            return function(*args, **kwargs)
        outs = out if isinstance(out, (tuple, list)) else (out,)
        pairs = name in _PAIRS or name in _PAIRS_ALONG_A_DIM and (
            len(args) > 1 and not isinstance(args[1], Tensor) or "dim" in kwargs)
        if not all(isinstance(o, Tensor) for o in outs) or (
                pairs and not isinstance(out, (tuple, list))):
            raise TypeError(f"{name}(): argument 'out' must be "
                            f"{'a tuple of Tensors' if pairs else 'a Tensor'}, not "
                            f"{type(out).__name__}")
        if is_grad_enabled() and any(
                isinstance(a, Tensor) and a.requires_grad
                for a in (*args, *kwargs.values(), *outs)):
            raise RuntimeError(f"{name}(): functions with out=... arguments don't support "
                               "automatic differentiation, but one of the arguments requires "
                               "grad.")
        if name in _IN_OUT_DTYPE and kwargs.get("dtype") is None and len(outs) == 1:
            kwargs["dtype"] = outs[0]._data.dtype
        result = function(*args, **kwargs)
        results = result if isinstance(result, tuple) else (result,)
        if len(results) != len(outs):
            raise TypeError(f"{name}(): out= takes {len(results)} tensor(s), not {len(outs)}")
        for i, (target, value) in enumerate(zip(outs, results)):
            _check(name, target, value, indices=name in _INDICES or pairs and i == 1)
            _write(name, target, value, quiet=name in _FACTORIES)
        return out if not isinstance(result, tuple) else type(result)(*outs)

    # (functools.wraps's work, the part that matters, at a fifth of its cost at start-up)
    call.__name__, call.__qualname__, call.__doc__ = name, function.__qualname__, \
        function.__doc__
    call.__module__, call.__wrapped__ = function.__module__, function  # type: ignore[attr-defined]
    return call


def wrap_all(namespace: dict[str, Any], names: Any = WITH_OUT) -> None:
    """Put ``with_out`` forms in ``namespace`` of those of ``names`` it holds."""
    for name in names:
        function = namespace.get(name)
        if function is not None and not hasattr(function, "__wrapped__"):
            namespace[name] = with_out(function)


def _check(name: str, out: Tensor, value: Any, indices: bool) -> None:
    """Refuse ``out`` where PyTorch's rules for ``name`` refuse its dtype for ``value``."""
    held, made = out._data.dtype, np.asarray(value._data if isinstance(value, Tensor)
                                             else value).dtype
    if indices and held != np.int64:
        raise RuntimeError(f"{name}(): expected out tensor to have dtype long int, but got "
                           f"{dtypes.short_name(held)} instead")
    if name in _TRUTH and held != np.bool_:
        raise RuntimeError(f"{name} only supports bool tensor for result, got: "
                           f"{dtypes.short_name(held)}")
    if name in _EXACT and held != made:
        raise RuntimeError(f"{name}(): expected out type to be {dtypes.short_name(made)} but "
                           f"got {dtypes.short_name(held)}")
    if not dtypes.can_cast(made, held):
        error = TypeError if name in _JOINS else RuntimeError
        raise error(f"{name}(): result type {dtypes.short_name(made)} can't be cast to the "
                    f"desired output type {dtypes.short_name(held)}")


def _write(name: str, out: Tensor, value: Any, quiet: bool) -> None:
    """``value`` (a result) written into ``out``, resized to its shape if need be (with
    PyTorch's warning, unless ``quiet`` or ``out`` held no entries)."""
    data = value._data if isinstance(value, Tensor) else np.asarray(value)
    if out._data.shape != data.shape:
        if out._data.size and not quiet:
            warnings.warn(f"{name}(): an output with one or more elements was resized since "
                          f"it had shape {list(out._data.shape)}, which does not match the "
                          f"required output shape {list(data.shape)}; resize it to no "
                          "entries first (out.resize_(0)) to reuse it without this warning",
                          UserWarning, stacklevel=3)
        out._data = np.empty(data.shape, out._data.dtype)
    with np.errstate(all="ignore"):
        out._data[...] = data
    note_in_place_write(out._data)
