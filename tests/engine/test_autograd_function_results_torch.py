"""The Functions of ``function_results_style.py`` (several results, marked results, inputs
written in place, ``once_differentiable``) run on tensorgrad and on PyTorch: the same results
(values, dtypes, which require grad, which are the input itself), the same gradients handed
to each backward, and the same gradients of the inputs; for every memory layout, both float
dtypes, 0-d and empty shapes, NaN and the infinities. Skipped without torch."""

from __future__ import annotations

import numpy as np
import pytest
from function_results_style import functions
from torch_compare import RTOL, assert_same

import tensorgrad as tg

torch = pytest.importorskip("torch")

SHAPES = [(3, 4), (5,), (), (0, 4)]
DTYPES = [np.float32, np.float64]


def _layouts(values):
    """``values`` seen through a C, a Fortran, a transposed and a sliced array."""
    if values.ndim < 2:
        return {"C": values.copy(), "sliced": np.repeat(values, 2, axis=-1)[..., ::2]
                if values.ndim else values.copy()}
    return {"C": values.copy(), "F": np.asfortranarray(values), "transposed": values.T.copy().T,
            "sliced": np.repeat(values, 2, axis=-1)[..., ::2]}


def _values(shape, dtype, special, seed):
    rng = np.random.default_rng(seed)
    values = rng.standard_normal(shape).astype(dtype)
    if special and values.size >= 3:
        values.flat[:3] = [np.nan, np.inf, -np.inf]
    return values


# each case: the Function's name, its arguments (as arrays, requiring grad or not), and the
# loss of its results ``loss(results, weights)`` (weights: one array per result)
def _sort_loss(results, w):
    return (results[0] * w[0]).sum()


def _mul_add_loss(results, w):
    return (results[0] * w[0]).sum() + (results[1] * w[1]).sum()


def _difference_only(results, w):
    return (results[1] * w[1]).sum()


def _with_number_loss(results, w):
    return (results[0] * w[0]).sum() + results[2] * 0.5


def _two_dtypes_loss(results, w):
    return (results[0] * w[0]).sum().double() + (results[1] * w[1]).sum()


def _first_only(results, w):
    return (results[0] * w[0]).sum()


CASES = {
    "SortWithIndex": (1, _sort_loss),
    "MulAdd": (3, _mul_add_loss),
    "MulAdd, one result used": (3, _difference_only),
    "WithNumber": (1, _with_number_loss),
    "TwoDtypes": (1, _two_dtypes_loss),
    "MarkedFloat": (1, _first_only),
    "ScaleInPlace": (1, _mul_add_loss),
    "AddOneInPlace": (1, None),
}


def _run(lib, name, arrays, loss_of, weights):
    seen: list = []
    function = functions(lib, seen)[name.split(",")[0]]
    leaves = [lib.tensor(a, requires_grad=i < 2) for i, a in enumerate(arrays)]
    args = [x * 1 for x in leaves]  # results of ops: an input written in place may be one
    results = function.apply(*args)
    results = results if isinstance(results, tuple) else (results,)
    facts = [(r is args[0], r.requires_grad) if isinstance(r, lib.Tensor) else r
             for r in results]
    if loss_of is None:  # a single result: its square, weighted
        loss = (results[0] * results[0] * weights[0]).sum()
    else:
        loss = loss_of(results, weights)
    loss.backward()
    return results, facts, seen, [x.grad for x in leaves]


@pytest.mark.parametrize("special", [False, True], ids=["finite", "special"])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", list(CASES))
def test_functions_of_several_results_as_torchs(name, dtype, shape, special):
    count, loss_of = CASES[name]
    if name == "SortWithIndex" and shape == ():
        shape = (1,)
    arrays = [_values(shape, dtype, special, seed) for seed in range(count)]
    rng = np.random.default_rng(7)
    for layout, first in _layouts(arrays[0]).items():
        laid_out = [first, *arrays[1:]]
        weights = [rng.standard_normal(shape).astype(dtype) for _ in range(3)]
        ours = _run(tg, name, laid_out, loss_of, [tg.tensor(w) for w in weights])
        theirs = _run(torch, name, laid_out, loss_of, [torch.tensor(w) for w in weights])
        where = f"{name}, {layout}"
        rtol = RTOL[np.dtype(dtype)] * 10
        for k, (a, b) in enumerate(zip(ours[0], theirs[0])):
            if isinstance(b, torch.Tensor):
                assert_same(a, b, f"{where}: result {k}", rtol)
            else:
                assert a == b and type(a) is type(b)
        assert ours[1] == theirs[1], f"{where}: results as themselves, requiring grad"
        assert len(ours[2]) == len(theirs[2]) == 1
        for k, (a, b) in enumerate(zip(ours[2][0], theirs[2][0])):
            if b is None:
                assert a is None, f"{where}: backward's gradient {k}"
            else:
                assert_same(a, b, f"{where}: backward's gradient {k}", rtol)
        for k, (a, b) in enumerate(zip(ours[3], theirs[3])):
            if b is None:
                assert a is None
            else:
                assert_same(a, b, f"{where}: gradient of input {k}", rtol)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_once_differentiable_as_torchs(dtype):
    x0 = np.array([0.5, -2.0, 0.0, 1.5], dtype)
    errors = []
    for lib in (tg, torch):
        clip = functions(lib, [])["Clip"]
        x = lib.tensor(x0, requires_grad=True)
        (g,) = lib.autograd.grad((clip.apply(x) ** 2).sum(), x, create_graph=True)
        assert g.requires_grad
        np.testing.assert_array_equal(g.detach().numpy(), 2 * np.clip(x0, -1, 1) * (abs(x0) <= 1))
        with pytest.raises(RuntimeError) as caught:
            g.sum().backward()
        errors.append(str(caught.value))
    assert errors[0] == errors[1]


def test_mark_dirty_misuses_as_torchs():
    messages = []
    for lib in (tg, torch):
        add_one = functions(lib, [])["AddOneInPlace"]
        found = []
        with pytest.raises(RuntimeError) as leaf:
            add_one.apply(lib.tensor([1.0], requires_grad=True))
        found.append(str(leaf.value))
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        b = a * 1
        square = b * b
        add_one.apply(b)
        with pytest.raises(RuntimeError) as saved:
            square.sum().backward()
        found.append(type(saved.value))
        messages.append(found)
    assert messages[0] == messages[1]


def _contract_cases(lib):
    """Functions that break the contract, or use its freedoms, on ``lib``'s tensors."""
    Function = lib.autograd.Function

    class TooFew(Function):
        @staticmethod
        def forward(ctx, a, b):
            return a * b

        @staticmethod
        def backward(ctx, grad):
            return grad

    class WrongShape(Function):
        @staticmethod
        def forward(ctx, a):
            return a.sum()

        @staticmethod
        def backward(ctx, grad):
            return lib.ones(3)

    class Broadcast(Function):  # a gradient of a shape the input broadcasts to: summed
        @staticmethod
        def forward(ctx, a):
            return a.sum()

        @staticmethod
        def backward(ctx, grad):
            return grad.expand(3, 2)

    class GradientOfANumber(Function):
        @staticmethod
        def forward(ctx, a, n):
            return a * n

        @staticmethod
        def backward(ctx, grad):
            return grad, lib.ones(1)

    class ForwardOnly(Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2

    class ByName(Function):
        @staticmethod
        def forward(ctx, a, scale=2.0, shift=0.0):
            return a * scale + shift

        @staticmethod
        def backward(ctx, grad):
            return grad * 2, None, None

    class ListOfResults(Function):
        @staticmethod
        def forward(ctx, a):
            return [a * 2, a * 3]

        @staticmethod
        def backward(ctx, g_double, g_triple):
            return g_double * 2 + g_triple * 3

    x = lambda: lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)  # noqa: E731

    def gradient_of(make):
        t = x()
        make(t).sum().backward()
        return t.grad

    return {
        "too few gradients": lambda: gradient_of(lambda t: TooFew.apply(t, x())),
        "a gradient of the wrong shape": lambda: gradient_of(WrongShape.apply),
        "a gradient that broadcasts": lambda: gradient_of(Broadcast.apply),
        "a gradient for a number": lambda: gradient_of(lambda t: GradientOfANumber.apply(t, 3)),
        "no backward": lambda: gradient_of(ForwardOnly.apply),
        "arguments by name": lambda: ByName.apply(x(), 3.0, shift=1.0),
        "arguments by name, all": lambda: ByName.apply(scale=3.0, a=x()),
        "arguments by name, one skipped": lambda: ByName.apply(x(), shift=1.0),
        "arguments by name, unknown": lambda: ByName.apply(x(), offset=1.0),
        "a list of results": lambda: (lambda r: (type(r).__name__, r[1]))(ListOfResults.apply(x())),
        "a list of results, gradient": lambda: gradient_of(lambda t: ListOfResults.apply(t)[1]),
    }


@pytest.mark.parametrize("case", list(_contract_cases(tg)))
def test_the_functions_contract_as_torchs(case):
    outcomes = []
    for lib in (tg, torch):
        try:
            outcomes.append(("value", _contract_cases(lib)[case]()))
        except Exception as error:  # noqa: BLE001 (the error is what is compared)
            outcomes.append(("error", type(error), str(error)))
    (kind, *ours), (their_kind, *theirs) = outcomes
    assert kind == their_kind, (ours, theirs)
    if kind == "error":  # (backward() of no graph: tensorgrad's own words on why)
        assert ours == theirs if "list" not in case else ours[0] is theirs[0]
    elif isinstance(theirs[0], tuple):
        assert ours[0][0] == theirs[0][0]
        assert_same(ours[0][1], theirs[0][1], case, 0)
    else:
        assert_same(ours[0], theirs[0], case, 0)
