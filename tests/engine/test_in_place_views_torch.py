"""In-place ops on views of tensors in the graph (``y[:, 0] += 1``, ``y.T[1].mul_(w)``,
``h = y.view(...); h[..., 0] *= w``) held against PyTorch, which rewrites the view's base:
the base's values, and the gradients of what it came from and of the values written, in
float32 and float64. Skipped without torch (``test_in_place_views.py`` checks the rest)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from torch_compare import RTOL, assert_same

import tensorgrad

torch = pytest.importorskip("torch")

DTYPES = [np.float32, np.float64]

# views of y, a (3, 4) result of ops, each one PyTorch makes as a view
VIEWS: dict[str, Callable[[Any], Any]] = {
    "a row": lambda t: t[1],
    "a column": lambda t: t[:, 1],
    "a block": lambda t: t[:, 1:3],
    "steps": lambda t: t[::2, ::2],
    "offset steps": lambda t: t[::2, 1::2],
    "T": lambda t: t.T,
    "transpose": lambda t: t.transpose(0, 1),
    "view": lambda t: t.view(-1),
    "reshape": lambda t: t.reshape(2, -1),
    "unsqueeze": lambda t: t.unsqueeze(0),
    "squeeze": lambda t: t[1:2].squeeze(0),
    "narrow": lambda t: t.narrow(1, 1, 2),
    "select": lambda t: t.select(1, 0),
    "diagonal": lambda t: t.diagonal(),
    "offset diagonal": lambda t: t.diagonal(1),
    "flatten": lambda t: t.flatten(),
    "ellipsis": lambda t: t[..., 2],
    "a slice of a slice": lambda t: t[1:][:, 1:],
    "a row of T": lambda t: t.T[2],
    "a column of a view": lambda t: t.view(2, 6)[:, 3],
    "a 0-d entry": lambda t: t[1, 2],
    "no entries": lambda t: t[:, 4:],
}


def _part(w: Any, view: Any) -> Any:
    """Some of ``w``'s entries, broadcastable to ``view``."""
    return w[: view.shape[-1]] if view.dim() else w[0]


WRITES: dict[str, Callable[[Any, Any], Any]] = {
    "mul_ by a number": lambda v, w: v.mul_(3.0),
    "add_ a tensor": lambda v, w: v.add_(_part(w, v), alpha=0.5),
    "+= a number": lambda v, w: v.__iadd__(2.0),
    "*= a tensor": lambda v, w: v.__imul__(_part(w, v)),
    "zero_": lambda v, w: v.zero_(),
    "fill_": lambda v, w: v.fill_(1.5),
    "copy_ a tensor": lambda v, w: v.copy_(_part(w, v)),
    "clamp_": lambda v, w: v.clamp_(min=0.5),
    "relu_": lambda v, w: v.relu_(),
    "exp_": lambda v, w: v.exp_(),
    "sigmoid_": lambda v, w: v.sigmoid_(),
    "neg_": lambda v, w: v.neg_(),
    "masked_fill_": lambda v, w: v.masked_fill_(v > 1, 0.0),
}


def _run(lib: Any, dtype: Any, write: Callable[[Any, Any], Any]) -> list:
    """y's values and the gradients of x and w after ``write(y, w)`` and a loss of y."""
    rng = np.random.default_rng(7)
    x = lib.tensor(rng.standard_normal((3, 4)).astype(dtype) * 2, requires_grad=True)
    w = lib.tensor(rng.standard_normal(12).astype(dtype), requires_grad=True)
    y = x * 1.5 - 0.25
    write(y, w)
    (y * y * y).sum().backward()
    return [y.detach(), x.grad, w.grad]


def _same(write: Callable[[Any, Any], Any], dtype: Any) -> None:
    ours, theirs = _run(tensorgrad, dtype, write), _run(torch, dtype, write)
    for a, b, what in zip(ours, theirs, ("y", "x's gradient", "w's gradient")):
        assert (a is None) == (b is None), what
        if a is not None:
            assert_same(a, b, what, RTOL[np.dtype(dtype)])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("view", VIEWS)
@pytest.mark.parametrize("op", WRITES)
def test_an_in_place_op_on_a_view_rewrites_its_base_as_torch(view, op, dtype):
    _same(lambda y, w: WRITES[op](VIEWS[view](y), w), dtype)


IDIOMS = {
    "y[:, 0] += 1": "y[:, 0] += 1",
    "y[1:, 2] *= w[:2]": "y[1:, 2] *= w[:2]",
    "y[[0, 2]] += w[:4]": "y[[0, 2]] += w[:4]",
    "y[y > 0] *= 2": "y[y > 0] *= 2",
    "y[0][1] = w[0]": "y[0][1] = w[0]",
    "rotary halves in place": "h = y.view(3, 2, 2); h[..., 0] *= w[:2]; h[..., 1] += w[2:4]",
    "two rows in turn": "a = y[0]; b = y[1]; a.mul_(2); b.add_(a)",
    "a view of a view of a view": "v = y.T[1:]; u = v[0]; u.mul_(w[:3])",
    "a reshape's transpose": "y.reshape(4, 3).T[0].add_(w[:4])",
    "the diagonal set": "y[:, :3].diagonal().copy_(w[:3])",
    "the diagonal filled": "y[:, :3].fill_diagonal_(0.0)",
    "index_add_ into a row": "y[1].index_add_(0, torch.tensor([0, 0, 3]), w[:3])",
    "a write, then the whole": "y[1].mul_(w[:4]); y.add_(1.0)",
    "used before the write": "s = (y + 2).sum(); y[0].zero_(); y.add_(s)",
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("idiom", IDIOMS)
def test_the_idioms_of_in_place_views_give_torchs_gradients(idiom, dtype):
    code = IDIOMS[idiom]
    _same(lambda y, w: exec(code, {"y": y, "w": w, "torch": torch if isinstance(
        y, torch.Tensor) else tensorgrad}), dtype)


@pytest.mark.parametrize("code", [
    "y[0:1].expand(3, 4).mul_(2)",  # one place, many entries
    "x[:2].mul_(2)",  # a view of a leaf that requires grad
])
def test_what_torch_refuses_in_place_on_a_view_is_refused(code):
    for lib in (tensorgrad, torch):
        x = lib.ones(3, 4, requires_grad=True)
        y = x * 2
        with pytest.raises(RuntimeError):
            exec(code, {"x": x, "y": y})
