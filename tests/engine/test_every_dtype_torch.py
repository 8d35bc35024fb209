"""Every one-tensor op on every dtype (booleans, each integer width, both floats), held against
PyTorch: the result's dtype and values (NaN, the infinities, -0.0 and large numbers among
them), or the type of what PyTorch raises. Skipped without torch."""

from __future__ import annotations

import numpy as np
import pytest
from torch_compare import assert_same

import tensorgrad

torch = pytest.importorskip("torch")

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float32", "float64"]
VALUES = np.array([0, 1, -1, 2.5, -2.5, 0.5, -0.5, 3, 100, -100, np.nan, np.inf, -np.inf, 1e-30,
                   0.999, -0.0])

# method name: its arguments
METHODS: dict[str, tuple] = {name: () for name in [
    "neg", "abs", "sign", "sgn", "sqrt", "exp", "log", "sin", "cos", "tan", "tanh", "sigmoid",
    "relu", "floor", "ceil", "round", "trunc", "frac", "reciprocal", "rsqrt", "square", "log1p",
    "expm1", "erf", "erfc", "signbit", "isnan", "isinf", "isfinite", "isposinf", "isneginf",
    "isreal", "logical_not", "bitwise_not", "nan_to_num", "exp2", "log2", "log10", "sinh", "cosh",
    "asin", "acos", "atan", "asinh", "acosh", "atanh", "deg2rad", "rad2deg", "positive", "angle",
    "fix", "arcsin", "arccos", "arctan", "arcsinh", "arccosh", "arctanh", "absolute", "negative",
    "clone", "ravel", "flatten", "nonzero", "count_nonzero", "any", "all", "sum", "prod", "mean",
    "nanmean", "std", "var", "median", "nanmedian", "max", "min", "amax", "amin", "argmax",
    "argmin", "norm", "nansum", "msort", "float", "double", "long", "int", "bool", "half"]}
METHODS.update({name: (0,) for name in [
    "cumsum", "cumprod", "logcumsumexp", "cummax", "cummin", "argsort", "sort", "logsumexp"]})
METHODS.update({"clamp": (-1, 1), "kthvalue": (2,), "topk": (2,), "quantile": (0.5,),
                "round_decimals": ()})


def _values(dtype: str) -> np.ndarray:
    if dtype.startswith("float"):
        return VALUES.astype(dtype)
    whole = np.nan_to_num(VALUES, nan=5, posinf=7, neginf=-7)
    return (whole != 0) if dtype == "bool" else np.abs(whole).astype(dtype) if dtype == "uint8" \
        else whole.astype(dtype)


def _outcome(lib, method: str, dtype: str):
    x = lib.tensor(_values(dtype))
    try:
        if method == "round_decimals":
            result = x.round(decimals=1)
        else:
            result = getattr(x, method)(*METHODS[method])
    except Exception as error:  # noqa: BLE001 (the type is the outcome compared)
        return type(error)
    return result[0] if isinstance(result, tuple) else result  # (values, indices): the values


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("method", sorted(METHODS))
def test_every_op_on_every_dtype_as_torch(torch_float64_default, method, dtype):
    ours, theirs = _outcome(tensorgrad, method, dtype), _outcome(torch, method, dtype)
    if isinstance(theirs, type):
        assert ours is theirs, f"{method} of {dtype}: PyTorch raises {theirs.__name__}"
        return
    assert not isinstance(ours, type), f"{method} of {dtype} raised {ours.__name__}"
    assert_same(ours, theirs, f"{method} of {dtype}", rtol=1e-6 if dtype == "float32" else 1e-12)


def test_angle_has_a_zero_gradient_as_torch(torch_float64_default):
    values = VALUES.astype(np.float64)
    ours, theirs = tensorgrad.tensor(values, requires_grad=True), torch.tensor(
        values, requires_grad=True)
    tensorgrad.angle(ours).sum().backward()
    torch.angle(theirs).sum().backward()
    assert_same(ours.grad, theirs.grad, "angle's gradient")
