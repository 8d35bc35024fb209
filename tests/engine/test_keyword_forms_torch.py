"""The keyword and positional forms users write, held against PyTorch: about 120 of the most
used functions and Tensor methods, each called in the forms PyTorch accepts (``dim`` as an
int, a negative int, a tuple, a list or None; ``keepdim``; ``dtype``; ``out`` of the right
shape, of a wrong one, of a wrong dtype; ``correction``/``unbiased``; method and function
forms) on float32, float64, int64 and bool inputs, 0-d, with a size-0 dim, transposed,
sliced, with NaN and infinities. Each call must give what PyTorch gives: the same values,
dtype and shape (or the same type of error), the same warning or none, the ``out`` tensor
filled alike; for floating inputs, the same gradient of a weighted sum of the results.

Every case is one line of code run in both libraries with ``m`` the library and ``x``,
``y``, ``z`` its inputs; the test's id is that line. Deterministic, no randomness drawn at
run time. Skipped without torch."""

from __future__ import annotations

import re
import warnings
from typing import Any

import numpy as np
import pytest

import tensorgrad

torch = pytest.importorskip("torch")

RTOL = {np.dtype(np.float32): 2e-5, np.dtype(np.float64): 1e-10}

_rng = np.random.default_rng(20261208)
# distinct floats (no ties, so max/min/sort/median agree on indices and gradients)
_F34 = np.round(_rng.permutation(np.linspace(-2.2, 2.3, 12)).reshape(3, 4), 3)
_F234 = np.round(_rng.permutation(np.linspace(-3.1, 2.9, 24)).reshape(2, 3, 4), 3)
_I34 = _rng.integers(0, 6, (3, 4))  # with repeats: unique, mode, bincount see them
_B34 = _I34 % 2 == 0
_NAN34 = _F34.copy()
_NAN34[0, 1], _NAN34[1, 2], _NAN34[2, 0] = np.nan, np.inf, -np.inf


def _arrays(*arrays: np.ndarray) -> tuple[tuple[np.ndarray, str], ...]:
    return tuple((a, "") for a in arrays)


# one input set: each of x, y, z as (values, how the library lays it out: "" as made,
# "t" transposed, "s" every other column of a wider array)
ONE: dict[str, tuple] = {
    "f32": _arrays(_F34.astype(np.float32)),
    "f64": _arrays(_F34),
    "i64": _arrays(_I34),
    "bool": _arrays(_B34),
    "0d": _arrays(np.array(1.5)),
    "size0": _arrays(np.zeros((0, 4))),
    "3d": _arrays(_F234),
    "transposed": ((_F34.T.copy(), "t"),),
    "sliced": ((np.repeat(_F34, 2, axis=1), "s"),),
    "nan": _arrays(_NAN34),
}
TWO: dict[str, tuple] = {
    "f32": _arrays(_F34.astype(np.float32), _F34[::-1].astype(np.float32) + 0.5),
    "f64": _arrays(_F34, _F34[::-1] + 0.5),
    "i64": _arrays(_I34, _I34[::-1] + 1),
    "bool": _arrays(_B34, ~_B34),
    "f32_f64": _arrays(_F34.astype(np.float32), _F34[::-1] + 0.5),
    "i64_f32": _arrays(_I34, _F34.astype(np.float32)),
    "f32_0d": _arrays(_F34.astype(np.float32), np.array(2.5)),
    "broadcast": _arrays(_F34, _F34[0] - 0.25),
    "size0": _arrays(np.zeros((0, 4)), np.arange(4.0) + 1),
    "transposed": ((_F34.T.copy(), "t"), (_F34.T.copy() + 1, "t")),
    "nan": _arrays(_NAN34, _NAN34[::-1]),
}
THREE: dict[str, tuple] = {
    name: arrays + ((arrays[1][0] * 0.5 + 1, arrays[1][1]),) for name, arrays in TWO.items()
}
NONE: dict[str, tuple] = {"": ()}


def _lay_out(lib: Any, values: np.ndarray, layout: str, grad: bool) -> tuple[Any, Any]:
    """(the leaf, the input seen through its layout), made by ``lib`` itself."""
    leaf = lib.tensor(np.ascontiguousarray(values))
    if grad:
        leaf.requires_grad_(True)
    seen = leaf.t() if layout == "t" else leaf[:, ::2] if layout == "s" else leaf
    return leaf, seen


def _flat(result: Any) -> list:
    """The tensors in a result (a tensor, or a tuple/list of them), in order."""
    if isinstance(result, (tuple, list)):
        return [t for item in result for t in _flat(item)]
    return [result] if hasattr(result, "requires_grad") else []


def _run(lib: Any, code: str, arrays: tuple, compare_values: bool) -> dict:
    """The outcome of ``code`` with ``lib`` on these inputs: the result described, or the
    error's type; the warnings; every ``out`` tensor made; the leaves' gradients."""
    grad = "out=" not in code and "_(" not in code
    pairs = [_lay_out(lib, a, layout, grad and a.dtype.kind == "f") for a, layout in arrays]
    outs: list = []

    def out_of(shape: tuple, dtype: Any = None) -> Any:
        out = lib.zeros(
            shape,
            dtype=dtype if dtype is not None else (pairs[0][1].dtype if pairs else lib.float64),
        )
        outs.append(out)
        return out

    names = {"m": lib, "np": np, "out_of": out_of}
    names.update(zip("xyz", (seen for _, seen in pairs)))
    outcome: dict = {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            with np.errstate(all="ignore"):
                result = eval(_compiled(code), names)  # noqa: S307 (the test's own lines)
        except Exception as error:  # noqa: BLE001 (the type is the outcome compared)
            outcome["error"] = type(error).__name__
            result = None
    outcome["warns"] = sorted(
        {w.category.__name__ for w in caught if issubclass(w.category, UserWarning)}
    )
    if "error" in outcome:
        return outcome
    outcome["result"] = _describe(result, compare_values)
    outcome["is out"] = [
        r is o
        for r in ([result] if not isinstance(result, (tuple, list)) else result)
        for o in outs
    ]
    outcome["outs"] = [_describe(o, compare_values) for o in outs]
    floats = [t for t in _flat(result) if t.requires_grad and t.is_floating_point()]
    leaves = [leaf for leaf, _ in pairs if leaf.requires_grad]
    if floats and leaves:
        total = sum((t * lib.tensor(_weights(tuple(t.shape))).to(t.dtype)).sum() for t in floats)
        try:
            with np.errstate(all="ignore"):
                total.backward()
        except Exception as error:  # noqa: BLE001 (the type is the outcome compared)
            outcome["backward error"] = type(error).__name__
            return outcome
        outcome["grads"] = [_describe(leaf.grad, True) for leaf in leaves]
    return outcome


_CODE: dict[str, Any] = {}


def _compiled(code: str) -> Any:
    if code not in _CODE:
        _CODE[code] = compile(code, code, "eval")
    return _CODE[code]


def _weights(shape: tuple) -> np.ndarray:
    return np.random.default_rng(len(shape) * 7 + sum(shape)).standard_normal(shape)


def _describe(result: Any, compare_values: bool) -> Any:
    """A result as plain data to compare: a tensor as (dtype, shape, values, requires_grad),
    a tuple or list item by item (with its field names if it has any), else as is."""
    if result is None:
        return None
    if isinstance(result, (tuple, list)) and not hasattr(result, "numel"):
        fields = getattr(result, "_fields", None) or _torch_fields(result)
        kind = "list" if isinstance(result, list) else "tuple"
        return (kind, fields, [_describe(r, compare_values) for r in result])
    if hasattr(result, "detach"):
        values = result.detach().numpy() if hasattr(result.detach(), "numpy") else None
        values = np.asarray(values)
        return (
            "tensor",
            str(values.dtype),
            values.shape,
            values.copy() if compare_values else None,
            bool(result.requires_grad),
        )
    if isinstance(result, (bool, int, float, str)):
        return (type(result).__name__, result)
    if isinstance(result, (np.dtype, tensorgrad.dtype, torch.dtype)):
        return ("dtype", str(result).split(".")[-1])
    return ("other", type(result).__name__)


def _torch_fields(result: Any) -> Any:
    # PyTorch's named results (torch.return_types.max ...) are structseqs
    n = getattr(result, "n_fields", None)
    if n is None:
        return None
    return tuple(
        name
        for name in (
            "values",
            "indices",
            "mean",
            "var",
            "std",
            "output",
            "inverse_indices",
            "counts",
            "min",
            "max",
        )
        if hasattr(result, name)
    )


def _difference(ours: Any, theirs: Any, where: str = "", rtol: float | None = None) -> str | None:
    """Where two described outcomes differ (floats to ``rtol``, by default their dtype's
    ``RTOL``), or None."""
    if isinstance(theirs, np.ndarray) or isinstance(ours, np.ndarray):
        if not (isinstance(theirs, np.ndarray) and isinstance(ours, np.ndarray)):
            return f"{where}: {_short(ours)} vs {_short(theirs)}"
        if theirs.dtype.kind in "biu" or theirs.size == 0:
            return None if np.array_equal(ours, theirs) else f"{where}: values {ours} vs {theirs}"
        finite = theirs[np.isfinite(theirs)]
        scale = max(1.0, float(np.abs(finite).max())) if finite.size else 1.0
        rtol = rtol or RTOL.get(theirs.dtype, 1e-10)
        same = np.isclose(ours, theirs, rtol=rtol, atol=rtol * scale, equal_nan=True)
        return None if same.all() else f"{where}: values {ours} vs {theirs}"
    if isinstance(theirs, dict):
        for key in sorted(set(ours) | set(theirs)):
            found = _difference(ours.get(key), theirs.get(key), f"{where} {key}", rtol)
            if found:
                return found
        return None
    if isinstance(theirs, (tuple, list)) and isinstance(ours, (tuple, list)):
        if len(ours) != len(theirs):
            return f"{where}: {_short(ours)} vs {_short(theirs)}"
        for i, (a, b) in enumerate(zip(ours, theirs)):
            found = _difference(a, b, f"{where}[{i}]", rtol)
            if found:
                return found
        return None
    return None if ours == theirs else f"{where}: {_short(ours)} vs {_short(theirs)}"


def _short(described: Any) -> str:
    text = repr(described)
    return text if len(text) < 300 else text[:300] + "..."


# ---------------------------------------------------------------------------------------------
# the cases: (family of inputs, lines of code)

_REDUCE_ALL_DIMS = [
    "m.{f}(x)",
    "x.{f}()",
    "m.{f}(x, 1)",
    "m.{f}(x, dim=-1)",
    "x.{f}(dim=(0, -1))",
    "x.{f}(dim=[1])",
    "m.{f}(x, dim=None)",
    "x.{f}(1, True)",
    "m.{f}(x, dim=0, keepdim=True)",
    "x.{f}(dim=(-1,), keepdim=True)",
    "m.{f}(x, 1, out=out_of((3,)))",
    "m.{f}(x, 1, out=out_of((5,)))",
]
_REDUCE_ONE_DIM = [
    "m.{f}(x)",
    "x.{f}()",
    "m.{f}(x, 1)",
    "m.{f}(x, dim=-1)",
    "x.{f}(dim=0)",
    "x.{f}(1, True)",
    "m.{f}(x, dim=0, keepdim=True)",
    "x.{f}(dim=None)",
    "x.{f}(dim=(0, 1))",
    "m.{f}(x, 1, out=out_of((3,)))",
    "m.{f}(x, 1, out=out_of((5,)))",
]
_DIM_REQUIRED = [
    "m.{f}(x, 1)",
    "x.{f}(dim=-1)",
    "m.{f}(x, dim=0)",
    "x.{f}(0)",
    "m.{f}(x, 1, out=out_of((3, 4)))",
]


def _expand(names: str, forms: list[str]) -> list[str]:
    return [form.format(f=name) for name in names.split() for form in forms]


CASES: list[tuple[str, str]] = []


def _add(family: str, *lines: str) -> None:
    CASES.extend((family, line) for line in lines)


_add("one", *_expand("sum mean nansum nanmean amax amin all any", _REDUCE_ALL_DIMS))
_add("one", *_expand("sum mean nansum nanmean amax amin", ["x.{f}(dim=())", "m.{f}(x, dim=[])"]))
_add(
    "one",
    *_expand(
        "sum mean nansum nanmean prod cumsum cumprod",
        ["m.{f}(x, dtype=m.float64)", "x.{f}(0, dtype=m.float32)"],
    ),
)
_add(
    "one",
    "x.sum(dtype=m.int32)",
    "m.sum(x, (0, 1), True, dtype=m.float32)",
    "m.mean(x, 1, dtype=m.float32, out=out_of((3,), m.float32))",
)
_add(
    "one",
    *_expand(
        "prod argmax argmin count_nonzero median nanmedian mode logsumexp",
        [
            "m.{f}(x)",
            "x.{f}()",
            "m.{f}(x, 1)",
            "m.{f}(x, dim=-1)",
            "x.{f}(dim=0)",
            "x.{f}(1, True)",
            "m.{f}(x, dim=0, keepdim=True)",
            "x.{f}(dim=None)",
            "x.{f}(dim=(0, 1))",
            "m.{f}(x, 1, out=out_of((3,)))",
        ],
    ),
)
_add("one", "m.count_nonzero(x, dim=[0, 1])", "x.count_nonzero(-1)")
_add(
    "one",
    *_expand(
        "max min",
        [
            "m.{f}(x)",
            "x.{f}()",
            "m.{f}(x, 1)",
            "x.{f}(dim=-1)",
            "m.{f}(x, 0, True)",
            "x.{f}(dim=1, keepdim=True).values",
            "x.{f}(1).indices",
            "m.{f}(x, dim=(0, 1))",
        ],
    ),
)
_add("two", "m.max(x, y)", "x.max(y)", "m.min(x, other=y)", "m.max(x, y, out=out_of((3, 4)))")
_add(
    "one",
    *_expand(
        "var std var_mean std_mean",
        [
            "m.{f}(x)",
            "x.{f}(1)",
            "m.{f}(x, dim=-1)",
            "m.{f}(x, 1, keepdim=True)",
            "m.{f}(x, dim=(0, 1))",
            "m.{f}(x, dim=[0])",
            "m.{f}(x, dim=None)",
            "m.{f}(x, unbiased=False)",
            "m.{f}(x, False)",
            "m.{f}(x, 1, False)",
            "m.{f}(x, 1, True, True)",
            "m.{f}(x, dim=1, unbiased=False, keepdim=True)",
            "m.{f}(x, correction=0)",
            "m.{f}(x, 1, correction=2)",
            "m.{f}(x, dim=0, correction=1.5)",
            "m.{f}(x, correction=0, keepdim=True)",
        ],
    ),
)
_add(
    "one",
    "x.var(unbiased=False)",
    "x.std(1, correction=0)",
    "x.var(dim=0, keepdim=True)",
    "m.var(x, 1, out=out_of((3,)))",
    "m.std(x, dim=1, out=out_of((4,)))",
)
_add(
    "one",
    *_expand(
        "norm",
        [
            "m.{f}(x)",
            "x.{f}()",
            "x.{f}(1)",
            "x.{f}(p=1)",
            "m.{f}(x, p=2, dim=1)",
            "m.{f}(x, dim=(0, 1))",
            "x.{f}(p='fro')",
            "x.{f}(p='fro', dim=(0, 1), keepdim=True)",
            "x.{f}(float('inf'), dim=-1)",
            "x.{f}(p=0)",
            "x.{f}(dim=1, keepdim=True)",
            "m.{f}(x, 3, 1, True)",
            "x.{f}(p='nuc')",
            "x.{f}(dtype=m.float64)",
            "m.{f}(x, 2, 1, out=out_of((3,)))",
        ],
    ),
)
_add("one", *_expand("cumsum cumprod cummax cummin logcumsumexp", _DIM_REQUIRED))
_add("one", *_expand("cummax cummin", ["x.{f}(1).values", "m.{f}(x, dim=0).indices"]))
_add(
    "one",
    *_expand(
        "quantile nanquantile",
        [
            "m.{f}(x, 0.25)",
            "x.{f}(0.5, dim=1)",
            "x.{f}(q=0.3, dim=-1, keepdim=True)",
            "m.{f}(x, m.tensor([0.25, 0.75], dtype=x.dtype), dim=0)",
            "x.{f}(0.5, 1, True)",
            "x.{f}(0.4, dim=1, interpolation='lower')",
            "x.{f}(0.4, interpolation='higher')",
            "x.{f}(0.4, 0, interpolation='nearest')",
            "x.{f}(0.4, 0, interpolation='midpoint')",
            "m.{f}(x, 0.5, 1, out=out_of((3,)))",
            "x.{f}([0.5])",
        ],
    ),
)
_add(
    "one",
    *_expand(
        "topk",
        [
            "m.{f}(x, 2)",
            "x.{f}(2, dim=0)",
            "x.{f}(k=1, dim=-1, largest=False)",
            "m.{f}(x, 2, 1, False, True)",
            "x.{f}(2, sorted=True).values",
            "x.{f}(3).indices",
            "m.{f}(x, 0)",
        ],
    ),
)
_add(
    "one",
    *_expand(
        "sort",
        [
            "m.{f}(x)",
            "x.{f}(0)",
            "x.{f}(dim=0, descending=True)",
            "m.{f}(x, -1, True)",
            "x.{f}(stable=True)",
            "m.{f}(x, stable=True, dim=0, descending=True)",
            "x.{f}().values",
            "x.{f}(descending=True).indices",
        ],
    ),
)
_add(
    "one",
    *_expand(
        "argsort",
        [
            "m.{f}(x)",
            "x.{f}(0)",
            "x.{f}(dim=0, descending=True)",
            "m.{f}(x, -1, True)",
            "x.{f}(stable=True)",
            "m.{f}(x, stable=True, dim=0, descending=True)",
        ],
    ),
)
_add("one", "m.msort(x)")
_add(
    "one",
    *_expand(
        "kthvalue",
        [
            "m.{f}(x, 2)",
            "x.{f}(1, 0)",
            "x.{f}(k=2, dim=-1, keepdim=True)",
            "x.{f}(2).values",
            "m.{f}(x, 3, dim=1).indices",
            "x.{f}(5)",
        ],
    ),
)
_add(
    "one",
    "m.unique(x)",
    "x.unique()",
    "m.unique(x, sorted=True, return_inverse=True)",
    "x.unique(return_counts=True)",
    "m.unique(x, return_inverse=True, return_counts=True)",
    "m.unique(x, dim=0)",
    "x.unique(dim=1, return_counts=True)",
    "m.unique(x, sorted=False).sort().values",
)
_add(
    "one",
    "m.unique_consecutive(x)",
    "x.unique_consecutive(return_counts=True)",
    "m.unique_consecutive(x, return_inverse=True, dim=0)",
    "m.unique_consecutive(x.flatten(), return_inverse=True, return_counts=True)",
    "x.unique_consecutive(dim=1)",
)

_BINARY = [
    "m.{f}(x, y)",
    "x.{f}(y)",
    "m.{f}(x, other=y)",
    "m.{f}(x, 2)",
    "x.{f}(2.5)",
    "m.{f}(x, y, out=out_of((3, 4)))",
    "m.{f}(x, y, out=out_of((2,)))",
]
_add(
    "two",
    *_expand(
        "add sub mul div true_divide floor_divide remainder fmod pow maximum minimum "
        "fmax fmin hypot logaddexp",
        _BINARY,
    ),
)
_add(
    "two",
    *_expand(
        "add sub",
        [
            "m.{f}(x, y, alpha=2)",
            "x.{f}(y, alpha=0.5)",
            "m.{f}(x, 3, alpha=2)",
            "m.{f}(x, other=y, alpha=-1, out=out_of((3, 4)))",
        ],
    ),
)
_add(
    "two",
    *_expand(
        "div divide",
        [
            "m.{f}(x, y, rounding_mode='floor')",
            "x.{f}(y, rounding_mode='trunc')",
            "m.{f}(x, y, rounding_mode=None)",
            "x.{f}(2, rounding_mode='floor')",
            "m.{f}(x, y, rounding_mode='round')",
        ],
    ),
)
_add(
    "two",
    "m.remainder(3, y)",
    "m.pow(2, y)",
    "m.pow(x, exponent=2)",
    "m.pow(self=2, exponent=y)",
    "x ** y",
    "x // y",
    "x % y",
    "2 ** x",
    "x.pow(0.5)",
    "m.float_power(x, 2)",
)
_add(
    "one",
    *_expand(
        "clamp clip",
        [
            "m.{f}(x, -0.5, 0.5)",
            "x.{f}(min=0)",
            "x.{f}(max=0.25)",
            "m.{f}(x, min=-1, max=1)",
            "x.{f}(min=m.tensor(0.0))",
            "m.{f}(x, max=m.zeros(4))",
            "m.{f}(x, 1, -1)",
            "m.{f}(x, min=0.5, out=out_of((3, 4)))",
            "x.{f}(min=1)",
            "m.{f}(x)",
        ],
    ),
)
_add(
    "two",
    "m.lerp(x, y, 0.3)",
    "x.lerp(y, weight=0.5)",
    "m.lerp(x, y, m.full_like(x, 0.25))",
    "m.lerp(x, end=y, weight=1.5, out=out_of((3, 4)))",
)
_add(
    "three",
    *_expand(
        "addcmul addcdiv",
        [
            "m.{f}(x, y, z)",
            "x.{f}(y, z, value=2)",
            "m.{f}(x, tensor1=y, tensor2=z, value=-0.5)",
            "m.{f}(x, y, z, out=out_of((3, 4)))",
        ],
    ),
)
_add(
    "two",
    "m.where(x > 0, x, y)",
    "x.where(x > 0, y)",
    "m.where(x > 0, x, 0.0)",
    "m.where(x > 0, 1.0, y)",
    "m.where(condition=x > 0, input=x, other=y)",
    "m.where(x > 0)",
    "m.where(x > 0, x, y, out=out_of((3, 4)))",
    "m.where(x > 0, 1, 0)",
)

# shapes
_add(
    "two",
    "m.cat([x, y])",
    "m.cat((x, y), dim=1)",
    "m.cat([x, y], -1)",
    "m.cat(tensors=[x, y])",
    "m.concat([x, y], dim=0)",
    "m.concatenate([x, y], axis=1)",
    "m.concatenate((x, y), 0)",
    "m.cat([x, y], out=out_of((6, 4)))",
    "m.cat([x, y], 1, out=out_of((1,)))",
    "m.cat([x])",
    "m.cat([x, m.zeros(0)])",
    "m.stack([x, y])",
    "m.stack((x, y), dim=1)",
    "m.stack([x, y], -1)",
    "m.stack(tensors=[x, y], dim=2)",
    "m.stack([x, y], out=out_of((2, 3, 4)))",
    "m.hstack([x, y])",
    "m.vstack((x, y))",
    "m.dstack([x, y])",
    "m.row_stack([x, y])",
    "m.column_stack([x, y])",
    "m.hstack([x, y], out=out_of((3, 8)))",
)
_add(
    "one",
    "m.split(x, 2)",
    "x.split(2, dim=1)",
    "m.split(x, [1, 2], 0)",
    "x.split([1, 3], -1)",
    "m.split(x, split_size_or_sections=1, dim=1)",
    "x.split_with_sizes([2, 2], 1)",
    "m.chunk(x, 2)",
    "x.chunk(3, dim=1)",
    "m.chunk(x, chunks=2, dim=-1)",
    "x.chunk(5, 0)",
    "m.tensor_split(x, 3)",
    "x.tensor_split(2, dim=1)",
    "m.tensor_split(x, [1, 3], dim=-1)",
    "m.tensor_split(x, indices=(1,), dim=0)",
    "m.tensor_split(x, sections=3, dim=1)",
    "m.tensor_split(x, m.tensor([1, 2]), 1)",
    "m.tensor_split(x, m.tensor(2))",
    "m.unbind(x)",
    "x.unbind(1)",
    "m.unbind(x, dim=-1)",
)
_add(
    "one",
    "m.flatten(x)",
    "x.flatten(1)",
    "m.flatten(x, start_dim=0, end_dim=-1)",
    "x.flatten(end_dim=0)",
    "m.flatten(x, -2, -1)",
    "x.ravel()",
    "m.unflatten(x, 1, (2, 2))",
    "x.unflatten(-1, (-1, 2))",
    "x.unflatten(dim=0, sizes=[1, -1])",
    "m.squeeze(x)",
    "x.squeeze(0)",
    "m.squeeze(x, dim=(0, 1))",
    "x.squeeze(dim=[-1])",
    "x.squeeze(())",
    "m.unsqueeze(x, 0)",
    "x.unsqueeze(dim=-1)",
    "x.unsqueeze(2)",
    "m.transpose(x, 0, 1)",
    "x.transpose(dim0=-1, dim1=0)",
    "m.swapaxes(x, 0, -1)",
    "x.swapdims(1, 0)",
    "x.t()",
    "x.T",
    "x.mT",
    "m.permute(x, (1, 0))",
    "x.permute(1, 0)",
    "x.permute(dims=[-1, 0])",
    "x.permute([0, 1, 2])",
    "m.movedim(x, 0, -1)",
    "x.movedim((0, 1), (1, 0))",
    "m.moveaxis(x, source=[0], destination=[1])",
    "m.roll(x, 1)",
    "x.roll(shifts=-1, dims=1)",
    "m.roll(x, (1, 2), (0, 1))",
    "x.roll(1, 0)",
    "m.roll(x, shifts=[1], dims=[-1])",
    "m.flip(x, (0,))",
    "x.flip(0)",
    "x.flip(0, 1)",
    "m.flip(x, dims=[-1])",
    "m.fliplr(x)",
    "m.flipud(x)",
    "m.rot90(x)",
    "m.rot90(x, 1, (0, 1))",
    "x.rot90(k=-1, dims=[1, 0])",
    "m.rot90(x, 2)",
    "x.repeat(2, 1)",
    "x.repeat((2, 1))",
    "x.repeat(2, 1, 1)",
    "x.repeat([1, 2])",
    "m.tile(x, (2,))",
    "x.tile(2, 2)",
    "m.tile(x, dims=(1, 1, 2))",
    "x.tile((2, 1, 1, 1))",
)
_add(
    "one",
    "m.repeat_interleave(x, 2)",
    "x.repeat_interleave(2, dim=0)",
    "m.repeat_interleave(x, m.tensor([1, 2, 0]), dim=0)",
    "m.repeat_interleave(x, m.tensor([1, 2, 0]), dim=0, output_size=3)",
    "x.repeat_interleave(repeats=2, dim=-1, output_size=8)",
    "m.repeat_interleave(m.tensor([1, 2]))",
    "m.repeat_interleave(x, 2, dim=1, output_size=7)",
)
_add(
    "one",
    "m.narrow(x, 1, 1, 2)",
    "x.narrow(-1, start=0, length=2)",
    "x.narrow(0, -2, 2)",
    "m.narrow(x, 0, m.tensor(1), 2)",
    "x.narrow(0, 2, 5)",
    "m.select(x, 1, -1)",
    "x.select(dim=0, index=1)",
    "x.select(0, 5)",
    "m.index_select(x, 1, m.tensor([0, 2]))",
    "x.index_select(dim=0, index=m.tensor([2, 0, 2]))",
    "m.index_select(x, -1, m.tensor(1))",
    "m.index_select(x, 0, m.tensor([0, 1]), out=out_of((2, 4)))",
    "m.gather(x, 1, m.tensor([[0, 1], [1, 0], [2, 2]]))",
    "x.gather(dim=0, index=m.tensor([[0, 1, 2, 0]]))",
    "m.gather(x, -1, m.tensor([[0], [1], [3]]), sparse_grad=False)",
    "m.take_along_dim(x, m.argsort(x, 1), 1)",
    "x.take_along_dim(m.tensor([[0], [1], [2]]), dim=1)",
    "m.take_along_dim(x, m.tensor([0, 5, 11]))",
    "m.take_along_dim(x, indices=m.argmax(x, 0, True), dim=0)",
    "m.take(x, m.tensor([0, -1]))",
)
_add(
    "one",
    "m.diagonal(x)",
    "x.diagonal(offset=1)",
    "m.diagonal(x, -1)",
    "x.diagonal(0, 1, 0)",
    "x.diagonal(dim1=-1, dim2=0)",
    "m.diagonal(x, offset=2, dim1=0, dim2=1)",
    "m.diag_embed(x)",
    "x.diag_embed(offset=1)",
    "m.diag_embed(x, -1, 0, 2)",
    "m.diag_embed(x, dim1=0, dim2=-1)",
    "m.diag(x)",
    "m.diag(x, 1)",
    "m.diag(x[0], diagonal=-1)",
    "m.tril(x)",
    "x.tril(diagonal=-1)",
    "m.triu(x, 1)",
    "x.triu(diagonal=-2)",
    "m.tril(x, 5)",
    "m.triu(x, out=out_of((3, 4)))",
    "m.trace(x)",
    "x.trace()",
)
_add(
    "one",
    "m.einsum('ij->j', x)",
    "m.einsum('ij,ij->i', x, x)",
    "m.einsum('ij,kj', x, x)",
    "m.einsum('...j->...', x)",
    "m.einsum('ij->i', [x])",
    "m.einsum('ii', x[:3, :3])",
    "m.einsum('i,j->ij', x[0], x[1])",
    "m.einsum('bij,bjk->bik', x, x.mT)",
    "m.einsum('ij -> ji', x)",
    "m.einsum('ij,jk', x, x.T)",
    "m.einsum('ij->', x)",
)
_add(
    "one",
    "m.matmul(x, x.t())",
    "x @ x.mT",
    "x.matmul(x.mT)",
    "m.matmul(x, x[0])",
    "m.matmul(x[0], x[0])",
    "m.mm(x, x.t())",
    "x.mm(mat2=x.t())",
    "m.bmm(x, x.mT)",
    "m.bmm(x.unsqueeze(0), x.t().unsqueeze(0))",
    "m.mv(x, x[0])",
    "x.mv(vec=x[1])",
    "m.dot(x[0], x[1])",
    "x[0].dot(x[1])",
    "m.vdot(x[0], x[1])",
    "m.inner(x, x)",
    "m.outer(x[0], x[1])",
    "x[0].outer(vec2=x[1])",
    "m.ger(x[0], x[1])",
    "m.matmul(x, x.t(), out=out_of((3, 3)))",
    "m.mm(x, x.t(), out=out_of((1, 1)))",
    "m.dot(x[0], x[1], out=out_of(()))",
)
_add(
    "one",
    "m.tensordot(x, x, dims=([1], [1]))",
    "m.tensordot(x, x.mT, dims=1)",
    "m.tensordot(x, x, 2)",
    "m.tensordot(x, x, ([0, 1], [0, 1]))",
    "m.tensordot(x, x, dims=0)",
    "m.tensordot(x, x, dims=[[0], [0]])",
    "m.tensordot(a=x, b=x, dims=([-1], [-1]))",
    "m.tensordot(x, x, dims=(1, 1))",
    "m.tensordot(x, x, dims=m.tensor(2))",
)
_add(
    "one",
    "m.kron(x, x[:2, :2])",
    "x.kron(x)",
    "m.kron(x[0], x[1])",
    "m.cross(x[:, :3], x[:, 1:], dim=1)",
    "m.cross(x[:3, :3], x[:3, :3].flip(0), dim=0)",
    "x[:, :3].cross(x[:, 1:], -1)",
    "m.cross(x[:3, :3], x[:3, 1:])",
    "m.linalg.cross(x[:, :3], x[:, 1:])",
    "m.cdist(x, x)",
    "m.cdist(x, x[:2], p=1)",
    "m.cdist(x1=x, x2=x, p=float('inf'))",
    "m.cdist(x.unsqueeze(0), x.unsqueeze(0), p=2.0)",
    "m.cdist(x, x, compute_mode='use_mm_for_euclid_dist')",
    "m.cdist(x, x, p=0)",
)
_add(
    "one",
    "m.bucketize(x, m.tensor([-1.0, 0.0, 1.0]))",
    "m.bucketize(x, m.tensor([-1.0, 0.0, 1.0]), right=True)",
    "m.bucketize(x, boundaries=m.tensor([0, 1, 2]), out_int32=True)",
    "m.bucketize(2.0, m.tensor([1.0, 3.0]))",
    "m.searchsorted(m.tensor([-1.0, 0.0, 1.0]), x)",
    "m.searchsorted(m.tensor([-1.0, 0.0, 1.0]), x, right=True)",
    "m.searchsorted(m.tensor([-1.0, 0.0, 1.0]), x, side='right', out_int32=True)",
    "m.searchsorted(m.tensor([1.0, -1.0, 0.0]), x, sorter=m.tensor([1, 2, 0]))",
    "m.searchsorted(m.sort(x, 1).values, x)",
    "m.searchsorted(m.tensor([0, 1, 2]), 1)",
    "m.searchsorted(m.tensor([0.0, 1.0]), x, side='left', right=True)",
)
_add(
    "one",
    "m.histc(x)",
    "m.histc(x, bins=4, min=-1, max=1)",
    "x.histc(3, 0, 2)",
    "m.histc(x, 5, out=out_of((5,)))",
    "m.bincount(x.flatten())",
    "x.flatten().bincount(minlength=8)",
    "m.bincount(x.flatten(), weights=m.linspace(0, 1, x.numel()))",
    "m.bincount(x.flatten(), m.ones(x.numel(), dtype=m.float32), 3)",
    "m.bincount(x)",
)
_add(
    "one",
    "m.nonzero(x)",
    "x.nonzero()",
    "m.nonzero(x, as_tuple=True)",
    "x.nonzero(as_tuple=False)",
    "m.argwhere(x)",
    "x.argwhere()",
    "m.masked_select(x, x > 0)",
    "x.masked_select(mask=x != 0)",
    "m.masked_select(x, m.tensor([True, False, True, False]))",
    "m.masked_fill(x, x > 0, 0.0)",
    "x.masked_fill(mask=x < 0, value=-1)",
    "x.masked_fill(x > 0, m.tensor(2.0))",
    "x.masked_fill(m.tensor([True, False, False, True]), 5)",
    "x.masked_fill(x > 0, float('nan'))",
)
_add(
    "one",
    *_expand(
        "softmax log_softmax",
        [
            "m.{f}(x, 1)",
            "x.{f}(-1)",
            "m.{f}(x, dim=0)",
            "x.{f}(dim=1, dtype=m.float64)",
            "m.{f}(x, 0, dtype=m.float32)",
            "m.nn.functional.{f}(x, dim=-1)",
            "m.nn.functional.{f}(x, 1, dtype=m.float64)",
            "m.{f}(x, dim=0, out=out_of((3, 4)))",
        ],
    ),
)

# creation
_add(
    "none",
    "m.zeros(2, 3)",
    "m.zeros((2, 3))",
    "m.zeros([2, 3], dtype=m.int64)",
    "m.zeros(2, 3, requires_grad=True)",
    "m.zeros(size=(2, 3))",
    "m.zeros(0)",
    "m.zeros(())",
    "m.zeros(2, out=out_of((2,)))",
    "m.zeros(3, out=out_of((1,)))",
    "m.zeros(2, dtype=m.bool)",
    "m.zeros(m.Size([2, 1]))",
    "m.zeros(2, 3, dtype=m.int64, requires_grad=True)",
    "m.ones(2, 3)",
    "m.ones((1,), dtype=m.float32)",
    "m.ones(size=[2])",
    "m.ones(2, out=out_of((2,), m.int64))",
    "m.full((2, 2), 3)",
    "m.full((2, 2), 3.0)",
    "m.full((2,), True)",
    "m.full([2], 2, dtype=m.float32)",
    "m.full(size=(1, 2), fill_value=-1)",
    "m.full((2,), 1.5, dtype=m.int64)",
    "m.full((2,), 7, out=out_of((2,)))",
    "m.full((2, 2), 3, requires_grad=True)",
    "m.empty(2, 3).shape",
    "m.empty((2,), dtype=m.int64).dtype",
    "m.empty(size=(0, 2)).shape",
    "m.empty(2, requires_grad=True).requires_grad",
    "m.arange(5)",
    "m.arange(1, 4, 0.5)",
    "m.arange(0, 1, 0.25, dtype=m.float32)",
    "m.arange(5, dtype=m.float64)",
    "m.arange(start=1, end=4)",
    "m.arange(end=3)",
    "m.arange(0, 5, out=out_of((5,), m.int64))",
    "m.arange(10, 0, -3)",
    "m.arange(m.tensor(3))",
    "m.arange(0.0, 1.0, 0.1)",
    "m.arange(3, requires_grad=True)",
    "m.arange(3.0, requires_grad=True)",
    "m.arange(0, 5, 0)",
    "m.arange(5, 0)",
    "m.arange(1, 2.5)",
    "m.arange(0, 5, 2, dtype=m.float32)",
    "m.linspace(0, 1, 5)",
    "m.linspace(0, 1, steps=5, dtype=m.float32)",
    "m.linspace(0, 10, 5, dtype=m.int64)",
    "m.linspace(start=0, end=1, steps=1)",
    "m.linspace(-1, 1, 0)",
    "m.linspace(0, 1, 3, requires_grad=True)",
    "m.linspace(0, 1, 3, out=out_of((3,)))",
    "m.linspace(m.tensor(0.0), m.tensor(1.0), 3)",
    "m.logspace(0, 2, 3)",
    "m.logspace(0, 2, 3, base=2)",
    "m.logspace(start=-1, end=1, steps=3, dtype=m.float32)",
    "m.logspace(0, 3, 4, 10, dtype=m.int64)",
    "m.eye(3)",
    "m.eye(2, 3)",
    "m.eye(3, dtype=m.int64)",
    "m.eye(n=2, m=3)",
    "m.eye(2, out=out_of((2, 2)))",
    "m.eye(0)",
    "m.eye(2, requires_grad=True)",
    "m.eye(2, dtype=m.bool)",
)
_add(
    "none",
    "m.randn(2, 3).shape",
    "m.randn((2, 3)).dtype",
    "m.randn(size=(2,)).shape",
    "m.randn(2, 3, generator=m.Generator().manual_seed(0)).shape",
    "m.randn(2, dtype=m.float32, generator=m.Generator()).dtype",
    "m.rand(2, 3).shape",
    "m.rand((4,), dtype=m.float32).dtype",
    "m.rand(3, generator=m.Generator().manual_seed(1)).shape",
    "m.rand(2, requires_grad=True).requires_grad",
    "m.randn(0, 2).shape",
    "m.rand(()).shape",
    "m.randint(0, 5, (3,)).shape",
    "m.randint(5, (3,)).dtype",
    "m.randint(low=0, high=5, size=(2,)).shape",
    "m.randint(5, (3,), dtype=m.int32).dtype",
    "m.randint(2, 5, (2, 2), generator=m.Generator().manual_seed(2)).shape",
    "m.randint(high=3, size=[2]).shape",
    "m.randint(5, (3,), dtype=m.float64).dtype",
    "(m.randint(3, (100,)) < 3).all()",
    "m.randn(2, out=out_of((2,))).shape",
    "m.randint(0, 5, size=(2,), requires_grad=True)",
    "m.randn(2, generator=m.Generator().manual_seed(0))"
    ".equal(m.randn(2, generator=m.Generator().manual_seed(0)))",
)
_add(
    "none",
    "m.tensor([1, 2])",
    "m.tensor([1.0, 2])",
    "m.tensor([True, False])",
    "m.tensor(3)",
    "m.tensor(3.5, dtype=m.float32)",
    "m.tensor([[1, 2], [3, 4]], dtype=m.float64, requires_grad=True)",
    "m.tensor([])",
    "m.tensor(np.arange(3))",
    "m.tensor(np.float32(2))",
    "m.tensor([np.float32(1)])",
    "m.tensor(np.array([1, 2], dtype=np.int32))",
    "m.tensor([1, 2], requires_grad=True)",
    "m.tensor([[1], [2, 3]])",
    "m.tensor(data=[1.5])",
    "m.tensor([m.tensor(1.0), m.tensor(2.0)])",
    "m.tensor(True)",
    "m.tensor([1, 2.5], dtype=m.int64)",
    "m.tensor(np.ones((0, 2)))",
    "m.as_tensor([1, 2])",
    "m.as_tensor([1, 2], dtype=m.float32)",
    "m.as_tensor(np.arange(3.0))",
    "m.as_tensor(np.arange(3), dtype=m.float64)",
    "m.as_tensor(3)",
    "m.as_tensor(data=[True])",
    "m.from_numpy(np.arange(3.0))",
    "m.from_numpy(np.ones((2, 2), dtype=np.float32))",
    "m.from_numpy(np.array(True))",
    "m.from_numpy(np.arange(6).reshape(2, 3)[:, ::2])",
    "m.from_numpy([1, 2])",
    "m.from_numpy(np.float64(1.0))",
)
_add(
    "one",
    "m.tensor(x)",
    "m.as_tensor(x)",
    "m.as_tensor(x, dtype=m.float64)",
    "m.tensor(x, dtype=m.int64)",
)
_add(
    "one",
    *_expand(
        "zeros_like ones_like empty_like rand_like randn_like",
        [
            "m.{f}(x).shape",
            "m.{f}(x, dtype=m.float32).dtype",
            "m.{f}(x).dtype",
            "m.{f}(x, requires_grad=True).requires_grad",
            "m.{f}(x.detach(), memory_format=m.preserve_format).stride()",
            "m.{f}(x.detach(), memory_format=m.contiguous_format).is_contiguous()",
        ],
    ),
)
_add(
    "one",
    "m.zeros_like(x)",
    "m.ones_like(x, dtype=m.int64)",
    "m.full_like(x, 7)",
    "m.full_like(x, 2.5)",
    "m.full_like(x, fill_value=1, dtype=m.float32)",
    "m.full_like(x, True)",
    "m.randint_like(x, 5).dtype",
    "m.randint_like(x, 1, 5).shape",
    "m.randint_like(x, high=3, dtype=m.int64).dtype",
    "m.zeros_like(x, memory_format=m.contiguous_format).stride()",
    "m.ones_like(input=x)",
)

FAMILIES = {"one": ONE, "two": TWO, "three": THREE, "none": NONE}

# (line pattern, input set pattern): why PyTorch's behaviour there is not matched
QUIRKS: dict[tuple[str, str], str] = {
    (r".*(topk|kthvalue).*", "i64"): "which of tied entries PyTorch's kernel picks is unspecified",
    (r".*(var|std).*", "nan"): "PyTorch's moments of infinities: inf/NaN patterns of its kernel",
    (r".*var.*correction=1\.5.*", "0d"): "gradient of a 0-d variance over -0.5 degrees: NaN or -0",
    (r".*(mode|unique|cdist).*", "nan"): "where NaN sorts among ties is PyTorch's kernel's own",
    (
        r".*(matmul|mm|mv|dot|inner|einsum|tensordot|searchsorted|@|cross).*",
        "bool",
    ): "PyTorch has no bool kernel for these; tensorgrad computes them (or says why not)",
    (
        r".*(floor_divide|//|remainder\(3).*",
        ".*",
    ): "PyTorch refuses the backward of these; tensorgrad gives their zero gradient",
    (r"m.pow\(self=.*", ".*"): "'self' as a keyword name is an artefact of PyTorch's bindings",
    (
        r"m\.(nansum|cumsum|cumprod|add)\(.*out=.*",
        "bool",
    ): "out= of booleans: PyTorch's kernels for bool (none, or in the out's dtype)",
    (r"m\.(all|any)\(x, 1, out=.*", "0d"): "out=: PyTorch checks out's dtype before the dim",
    (
        r"m\.(remainder|fmod|pow|hypot|logaddexp)\(x, y, out=.*|m\.index_select\(.*out=.*",
        "bool|i64|0d|size0",
    ): "out= of integers, 0-d and empty inputs: PyTorch's own warnings, kernels and order of "
    "checks",
    (
        r".*_like\(x\)\..*|.*_like\(x, requires_grad.*|m\.randn?_like\(x\.detach\(\), memory.*",
        "i64|bool",
    ): "rand_like of integers: PyTorch's NotImplementedError, tensorgrad's TypeError",
    (r"m.add\(x, y, alpha=2\)", "bool"): "bool + 2 * bool: PyTorch's stays bool",
    (r".*(bucketize|searchsorted).*", "transposed|sliced"): "PyTorch's performance warning",
    (r"m.cross\(x\[:3, :3\], x\[:3, 1:\]\)", ".*"): "PyTorch's deprecation warning",
    (r"x.T|.*x\.T\)", "0d|3d"): "PyTorch's deprecation warning for .T of a tensor not 2-d",
    (
        r"x.(logsumexp|median|nanmedian|prod)\(dim=None\)",
        ".*",
    ): "PyTorch refuses dim=None here; tensorgrad takes it as every dim",
    (
        r"m.tensordot\(x, x, dims=(\(1, 1\)|m.tensor\(2\))\)",
        ".*",
    ): "dims as a pair of ints (taken) or as a tensor (refused): rare forms",
    (r"m.tensordot\(x, x, 2\)", "0d"): "error type of a 0-d tensordot",
    (
        r"x.(argmax|argmin|median|nanmedian|kthvalue)\(.*",
        "bool",
    ): "which check PyTorch makes first for a bool input",
    (r"m.lerp.*|x.lerp.*", "i64_f32"): "lerp of mixed dtypes: which check comes first",
    (r"x.count_nonzero\(1, True\)", ".*"): "PyTorch reads True as a second dim (1)",
    (r"x.(nan)?quantile\(\[0.5\]\)", ".*"): "q as a list: PyTorch's TypeError",
    (r"x.norm\(p='nuc'\)", ".*"): "the nuclear norm through Tensor.norm: use linalg.matrix_norm",
    (r"x.norm\(p=0\)", ".*"): "PyTorch's norm(p=0) leaves no gradient at all",
    (r"x.sum\(dtype=m.int32\)", ".*"): "PyTorch refuses an integer result of a float that "
    "requires grad",
    (r".*take_along_dim.*", "transposed|0d|size0"): "error types of take_along_dim's own checks",
    (r"x.index_select\(dim=0, .*", "size0"): "error type of an index into an empty dim",
    (r"x.masked_fill\(x > 0, float\('nan'\)\)", "i64"): "error type of NaN into integers",
}


def _quirk(line: str, inputs: str) -> str | None:
    for (line_pattern, inputs_pattern), reason in QUIRKS.items():
        if re.fullmatch(line_pattern, line) and re.fullmatch(inputs_pattern, inputs):
            return reason
    return None


def _compares_values(line: str) -> bool:
    return not re.search(
        r"\b(rand|randn|randint|empty|rand_like|randn_like|randint_like|empty_like)\(", line
    )


@pytest.mark.parametrize(("family", "line"), CASES, ids=[line for _, line in CASES])
def test_keyword_form_as_torch(torch_float64_default, family, line):
    found = []
    for name, arrays in FAMILIES[family].items():
        if _quirk(line, name):
            continue
        compare_values = _compares_values(line)
        ours = _run(tensorgrad, line, arrays, compare_values)
        theirs = _run(torch, line, arrays, compare_values)
        if "out=" in line and ours.get("error") != theirs.get("error"):
            found.append(f"[{name}] out= gave {ours.get('error')}, PyTorch's {theirs.get('error')}")
            continue
        difference = _difference(ours, theirs, rtol=2e-5 if "float32" in line else None)
        if difference:
            found.append(f"[{name}]{difference}")
    assert not found, "\n".join(found)
