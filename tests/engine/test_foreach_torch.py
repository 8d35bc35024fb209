"""``tensorgrad._foreach_*`` held against ``torch._foreach_*``: results, gradients and the
exception types of misuse. Skipped without torch."""

from __future__ import annotations

import numpy as np
import pytest
from torch_compare import assert_same

import tensorgrad

torch = pytest.importorskip("torch")

SHAPES = [(2, 3), (), (0,), (4,)]


def lists(dtype, transposed=False):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    if transposed:  # a non-contiguous member
        arrays[0] = np.ascontiguousarray(arrays[0].T).T
    return arrays


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name, args", [
    ("_foreach_add_", (2.5,)), ("_foreach_sub_", ("list",)), ("_foreach_mul_", ("numbers",)),
    ("_foreach_div_", ("scalar tensor",)), ("_foreach_lerp_", ("list", 0.3)),
    ("_foreach_copy_", ("list",)), ("_foreach_zero_", ()),
])
def test_in_place_forms_match_torch(dtype, name, args):
    mine = [tensorgrad.tensor(a) for a in lists(dtype, transposed=True)]
    theirs = [torch.tensor(a) for a in lists(dtype, transposed=True)]
    others = [2.0 * a + 1 for a in lists(dtype)]

    def resolve(lib, arg):
        if arg == "list":
            return [lib.tensor(a) for a in others]
        if arg == "numbers":
            return [0.5, -1.0, 3.0, 2.0]
        if arg == "scalar tensor":
            return lib.tensor(4.0, dtype=getattr(lib, np.dtype(dtype).name))
        return arg

    got = getattr(tensorgrad, name)(mine, *[resolve(tensorgrad, a) for a in args])
    expected = getattr(torch, name)(theirs, *[resolve(torch, a) for a in args])
    assert got is mine and expected is theirs
    for i, (a, b) in enumerate(zip(mine, theirs)):
        assert_same(a, b, f"{name}: tensor {i}", 1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_out_of_place_forms_and_their_gradients_match_torch(dtype):
    def run(lib):
        xs = [lib.tensor(a, requires_grad=True) for a in lists(dtype)]
        outs = [*lib._foreach_add(xs, [x.detach() + 1 for x in xs], alpha=2),
                *lib._foreach_add(xs, 1.5), *lib._foreach_sub(xs, [1.0] * 4),
                *lib._foreach_mul(xs, xs), *lib._foreach_div(xs, 3.0),
                *lib._foreach_norm(xs), *lib._foreach_norm(xs[:2], ord=float("inf"))]
        sum(o.sum() for o in outs).backward()
        return outs, [x.grad for x in xs]

    (outs, grads), (their_outs, their_grads) = run(tensorgrad), run(torch)
    for i, (a, b) in enumerate(zip(outs, their_outs)):
        assert_same(a, b, f"result {i}", 1e-6)
    for i, (a, b) in enumerate(zip(grads, their_grads)):
        assert_same(a, b, f"gradient {i}", 1e-6)


@pytest.mark.parametrize("call", [
    lambda lib, a: lib._foreach_add_(a, [lib.zeros(2)]),
    lambda lib, a: lib._foreach_mul_(a, [1.0]),
    lambda lib, a: lib._foreach_lerp_(a, [lib.zeros(2)], 0.5),
    lambda lib, a: lib._foreach_add_([], []),
    lambda lib, a: lib._foreach_mul_(a, lib.ones(2)),
])
def test_misuse_raises_what_torch_raises(call):
    with pytest.raises(RuntimeError):
        call(torch, [torch.zeros(2), torch.zeros(3)])
    with pytest.raises(RuntimeError):
        call(tensorgrad, [tensorgrad.zeros(2), tensorgrad.zeros(3)])


@pytest.mark.parametrize("other", [1.0, [1.0, 2.0]])
def test_alpha_with_numbers_is_a_type_error_as_in_torch(other):
    with pytest.raises(TypeError):
        torch._foreach_add_([torch.zeros(2), torch.zeros(3)], other, alpha=2)
    with pytest.raises(TypeError, match="alpha"):
        tensorgrad._foreach_add_([tensorgrad.zeros(2), tensorgrad.zeros(3)], other, alpha=2)
