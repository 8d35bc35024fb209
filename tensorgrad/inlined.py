"""The built-in ops that a replay (``capture.py``) writes out as NumPy lines instead of calls.

A replay calls each recorded op's ``forward`` and ``backward``. For the ops here it writes
their NumPy calls into the replayed function itself, with what the recording settled (shapes,
dtypes, which branch each takes, which inputs need a gradient) decided once: no call, no
context, no argument checks, no gradient an input does not need. The lines are the op's own,
in the same order and on the same arrays, so the results are the same to the last bit
(``tests/engine/test_capture.py`` holds every op here against its eager self). Each writer
takes only the cases its lines cover, and returns None for the others, which are called.
"""
# speed: the whole module (benchmarks/SPEED.md, "The captured step as a compiler")

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from . import functional, ops
from .tensor import Function


class Site(NamedTuple):
    """One recorded op, as a writer sees it: what it was given and returned at recording,
    and the names the replay's lines use for them."""

    ctx: Any  # the op's Context, with the attributes its forward() set
    args: list[str]  # the expressions forward() is given, in order
    values: list[Any]  # what forward() was given at recording
    result: np.ndarray  # what it returned
    out: str  # the variable its result goes into
    local: str  # the prefix of its other variables
    needs: tuple[bool, ...]  # which arguments need a gradient
    constant: Callable[[Any], str]  # the name of an object in the replay's namespace


# A writer's backward: given the variable of the result's gradient, its lines and, per
# argument, the variable holding that argument's gradient (None where none is needed).
Backward = Callable[[str], tuple[list[str], list[str | None]]]
Written = tuple[list[str], Backward]


def _arrays(*values: Any) -> bool:
    """Plain ndarrays of one dtype (the ops' fast paths, with no promotion)."""
    return all(type(v) is np.ndarray for v in values) and \
        len({v.dtype for v in values}) == 1


def _linear(s: Site) -> Written | None:
    if len(s.values) != 2:  # a bias: called
        return None
    x, w = s.values
    if not _arrays(x, w) or x.ndim == 0 or w.ndim != 2:
        return None
    rows, weight, p = s.local + "rows", s.local + "w", s.local
    lines = [f"{weight} = {s.args[1]}",
             f"{rows} = {s.args[0]}" if x.ndim == 2 else
             f"{rows} = {s.args[0]}.reshape(-1, {s.constant(x.shape[-1])})",
             f"{s.out} = {rows}.dot({weight}.T)" if x.ndim == 2 else
             f"{s.out} = {rows}.dot({weight}.T).reshape({s.constant(s.result.shape)})"]

    def backward(grad: str) -> tuple[list[str], list[str | None]]:
        g = grad if x.ndim == 2 else f"{p}g"
        code = [] if x.ndim == 2 else [f"{g} = {grad}.reshape({s.constant(grad_rows)})"]
        grads: list[str | None] = [None, None]
        if s.needs[0]:
            grads[0] = f"{p}gx"
            code.append(f"{p}gx = {g}.dot({weight})" if x.ndim == 2 else
                        f"{p}gx = {g}.dot({weight}).reshape({s.constant(x.shape)})")
        if s.needs[1]:
            grads[1] = f"{p}gw"
            code.append(f"{p}gw = {g}.T.dot({rows})")
        return code, grads

    grad_rows = (len(s.ctx.saved_tensors[0]), w.shape[0])  # as many rows as forward() saved
    return lines, backward


def _rms_norm(s: Site) -> Written | None:
    if len(s.values) != 3:  # a weight: called
        return None
    x = s.values[0]
    if not _arrays(x) or x.dtype.kind != "f" or s.result.dtype != x.dtype:
        return None
    count = s.values[1]
    if not count:  # nothing normalized, nothing saved: called
        return None
    normed, _, means = s.ctx.saved_tensors[:3]
    means_name, p = s.constant(means), s.local
    if x.ndim == 2 and x.shape[1] == count:
        lines = [f"{p}rows = {s.args[0]}"]
    else:
        lines = [f"{p}rows = {s.args[0]}.reshape(-1, {s.args[1]})"]
    lines += [f"{p}scale = (_np.square({p}rows).dot({means_name}) + {s.args[2]}) ** -0.5",
              f"{p}normed = {p}rows * {p}scale",
              f"{s.out} = {p}normed" if normed.shape == x.shape else
              f"{s.out} = {p}normed.reshape({s.constant(x.shape)})"]

    def backward(grad: str) -> tuple[list[str], list[str | None]]:
        g = grad if normed.shape == x.shape else f"{p}g"
        code = [] if g == grad else [f"{g} = {grad}.reshape({s.constant(normed.shape)})"]
        code += [f"{p}dx = {g} * {p}normed",
                 f"{p}proj = {p}dx.dot({means_name})",
                 f"_np.multiply({p}normed, {p}proj, out={p}dx)",
                 f"_np.subtract({g}, {p}dx, out={p}dx)",
                 f"{p}dx *= {p}scale"]
        if normed.shape != x.shape:
            code.append(f"{p}dx = {p}dx.reshape({s.constant(x.shape)})")
        return code, [f"{p}dx", None, None]

    return lines, backward


def _add(s: Site) -> Written | None:
    a, b = s.values
    if not _arrays(a, b) or a.shape != b.shape:  # promotion or broadcasting: called
        return None
    lines = [f"{s.out} = {s.args[0]} + {s.args[1]}"]

    def backward(grad: str) -> tuple[list[str], list[str | None]]:
        # sum_to(grad, shape) of a gradient of that shape is the gradient itself
        return [], [grad if s.needs[0] else None, grad if s.needs[1] else None]

    return lines, backward


def _relu(s: Site) -> Written | None:
    (a,) = s.values
    if not _arrays(a):
        return None
    zero = 0.0 if a.dtype.kind == "f" else 0
    lines = [f"{s.out} = _np.maximum({s.args[0]}, {zero!r})"]

    def backward(grad: str) -> tuple[list[str], list[str | None]]:
        return [f"{s.local}g = _np.where({s.out} != 0, {grad}, 0.0)"], [f"{s.local}g"]

    return lines, backward


def _index(s: Site) -> Written | None:
    a, index = s.values
    basic = s.ctx.basic
    if not _arrays(a) or not (basic or (type(index) is np.ndarray and index.dtype.kind in "iu")):
        return None  # a boolean or a mixed index: its result's shape depends on its values
    lines = [f"{s.out} = {s.args[0]}[{s.args[1]}]"]
    shape, p = s.constant(a.shape), s.local

    def backward(grad: str) -> tuple[list[str], list[str | None]]:
        if basic:
            code = [f"{p}g = _np.zeros({shape}, {grad}.dtype)", f"{p}g[{s.args[1]}] = {grad}"]
        elif a.ndim == 2 and index.size * a.shape[1] > ops.SCATTER_AT_MOST:
            code = [f"{p}g = _scatter_rows({s.args[1]}.ravel(), "
                    f"{grad}.reshape({s.constant(index.size)}, -1), {shape})"]
        else:
            code = [f"{p}g = _np.zeros({shape}, {grad}.dtype)",
                    f"_np.add.at({p}g, {s.args[1]}, {grad})"]
        return code, [f"{p}g", None]

    return lines, backward


def _permute(s: Site) -> Written | None:
    a, order = s.values
    if not _arrays(a):
        return None
    lines = [f"{s.out} = {s.args[0]}.transpose({s.constant(tuple(order))})"]
    undo = s.constant(tuple(int(d) for d in np.argsort(order)))

    def backward(grad: str) -> tuple[list[str], list[str | None]]:
        return [f"{s.local}g = {grad}.transpose({undo})"], [f"{s.local}g", None]

    return lines, backward


WRITERS: dict[type[Function], Callable[[Site], Written | None]] = {
    functional.Linear: _linear,
    functional.RMSNorm: _rms_norm,
    ops.Add: _add,
    ops.Relu: _relu,
    ops.Index: _index,
    ops.Permute: _permute,
}

class Stale(Exception):  # noqa: N818 (not an error: the step records anew)
    """Raised by a replay whose recording no longer holds: a parameter changed its dtype or
    shape, or the inputs take a branch the recording did not; then its arguments are the ops
    whose lines cannot take them (to be called from then on)."""


# what the lines above refer to
NAMESPACE = {"_np": np, "_scatter_rows": ops.scatter_rows, "_Stale": Stale,
             "_max": np.maximum.reduce}


def _cross_entropy(s: Site) -> Written | None:
    logits, targets, reduction, ignore_index = s.values
    exps, total, picked, kept = s.ctx.saved_tensors
    classes = logits.shape[-1] if logits.ndim else 0
    if (not _arrays(logits) or logits.dtype.kind != "f" or s.result.dtype != logits.dtype
            or kept is not None or 0 <= ignore_index < classes or len(total) == 0):
        return None  # targets that may be ignored, no targets: called
    p, rows = s.local, len(total)
    lines = [f"{p}rows = _np.ascontiguousarray({s.args[0]}.reshape(-1, {classes}))",
             "try:",
             f"    {p}picked = _np.ravel_multi_index(({s.constant(functional.row_numbers(rows))}, "
             f"{s.args[1]}.reshape(-1)), {s.constant((rows, classes))})",
             "except ValueError:  # a target to ignore, or out of range: record anew",
             f"    raise _Stale({s.constant(functional.CrossEntropy)}) from None",
             f"{p}shifted = {p}rows - _max({p}rows, axis=1, keepdims=True)",
             f"{p}exps = _np.exp({p}shifted)",
             f"{p}total = {p}exps.dot({s.constant(functional.column(classes, 1, exps.dtype))})"
             "[:, 0]",
             f"{p}losses = _np.log({p}total) - {p}shifted.ravel()[{p}picked]"]
    divisor = None if reduction == "none" else (rows if reduction == "mean" else 1)
    if divisor is None:
        lines.append(f"{s.out} = {p}losses.reshape({s.constant(targets.shape)})")
    else:
        lines.append(f"{s.out} = _np.asarray(_np.add.reduce({p}losses) / "
                     f"{s.constant(divisor)})")

    def backward(grad: str) -> tuple[list[str], list[str | None]]:
        scale = f"{grad}.reshape(-1)" if divisor is None else \
            f"{grad} / {s.constant(divisor)}"
        code = [f"{p}scale = {scale}",
                f"{p}g = {p}exps * ({p}scale / {p}total)[:, None]",
                f"{p}g.ravel()[{p}picked] -= {p}scale",
                f"{p}g = {p}g.reshape({s.constant(logits.shape)})"]
        return code, [f"{p}g", None, None, None]

    return lines, backward


def _multi_head_attention(s: Site) -> Written | None:
    qkv, heads, is_causal, _ = s.values
    ctx = s.ctx
    p_saved = ctx.saved_tensors[0]
    if not _arrays(qkv) or qkv.dtype.kind != "f" or ctx.blocks is not None or \
            type(p_saved) is not np.ndarray or p_saved.ndim == 2:
        return None  # blocks of documents, causal tiles: called
    p, length = s.local, qkv.shape[-2]
    lines = [f"{p}q, {p}k, {p}v = {s.args[0]}.reshape({s.constant(ctx.packed_shape)})"
             f".transpose({s.constant(ctx.to_heads)})",
             f"{p}q = {p}q * {s.constant(ctx.scale)}",
             f"{p}p = _np.matmul({p}q, {p}k.swapaxes(-1, -2))"]
    if is_causal:
        lines.append(f"{p}p += {s.constant(functional.causal_bias(length, length))}")
    # softmax in place, as _softmax(scores, out=scores), its row sums a product with ones
    lines += [f"_np.subtract({p}p, _max({p}p, axis=-1, keepdims=True), out={p}p)",
              f"_np.exp({p}p, out={p}p)",
              f"{p}p /= {p}p @ {s.constant(functional.column(length, 1, p_saved.dtype))}",
              f"{s.out} = ({p}p @ {p}v).swapaxes(-2, -3).reshape({s.constant(s.result.shape)})"]
    ones = s.constant(functional.column(length, 1, p_saved.dtype))
    packed = ctx.packed_shape

    def backward(grad: str) -> tuple[list[str], list[str | None]]:
        code = [f"{p}g = {grad}.reshape({s.constant(packed[:-3] + packed[-2:])})"
                ".swapaxes(-2, -3)",
                f"{p}packed = _np.empty({s.constant(packed)}, {grad}.dtype)",
                f"{p}gq, {p}gk, {p}gv = {p}packed.transpose({s.constant(ctx.to_heads)})",
                f"_np.matmul({p}p.swapaxes(-1, -2), {p}g, out={p}gv)",
                f"{p}gs = {p}g @ {p}v.swapaxes(-1, -2)",
                f"{p}gs -= ({p}gs * {p}p) @ {ones}",
                f"{p}gs *= {p}p",
                f"_np.matmul({p}gs, {p}k * {s.constant(ctx.scale)}, out={p}gq)",
                f"_np.matmul({p}gs.swapaxes(-1, -2), {p}q, out={p}gk)",
                f"{p}gx = {p}packed.reshape({s.constant(ctx.input_shape)})"]
        return code, [f"{p}gx", None, None, None]

    return lines, backward


WRITERS[functional.CrossEntropy] = _cross_entropy
WRITERS[functional.MultiHeadAttention] = _multi_head_attention
