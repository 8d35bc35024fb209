"""PyTorch's top-level utilities held against torch: dtype promotion and casting rules,
``broadcast_shapes``, ``logspace`` and ``scalar_tensor``, ``cartesian_prod``,
``combinations`` and ``block_diag`` (values and gradients), and the random state saved and
restored (``get_rng_state``, ``set_rng_state``, ``Generator.get_state``, ``fork_rng``).
Skipped without torch."""

from __future__ import annotations

import numpy as np
import pytest
from torch_compare import assert_same

import tensorgrad

torch = pytest.importorskip("torch")

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]


def _name(dtype) -> str:
    return str(dtype).split(".")[-1]


@pytest.mark.parametrize("first", DTYPES)
def test_promote_types_and_can_cast_follow_torch(first):
    for second in DTYPES:
        ours = tensorgrad.promote_types(getattr(tensorgrad, first), getattr(tensorgrad, second))
        theirs = torch.promote_types(getattr(torch, first), getattr(torch, second))
        assert _name(ours) == _name(theirs), (first, second)
        assert tensorgrad.can_cast(getattr(tensorgrad, first), getattr(tensorgrad, second)) == \
            torch.can_cast(getattr(torch, first), getattr(torch, second)), (first, second)


@pytest.mark.parametrize("dtype", ["bool", "uint8", "int32", "int64", "float32", "float64"])
def test_result_type_follows_torch(dtype):
    # (a Python float with integers gives the default float dtype: ours is float64)
    operands = [True, 3, 0.5, "0-d int64", "0-d float64", "int8", "float32"]
    for other in operands:
        if other == 0.5 and dtype in ("bool", "uint8", "int32", "int64"):
            continue

        def operand(lib, spec):
            if not isinstance(spec, str):
                return spec
            if spec.startswith("0-d"):
                return lib.tensor(1, dtype=getattr(lib, spec.split()[1]))
            return lib.ones(2, dtype=getattr(lib, spec))

        ours = tensorgrad.result_type(tensorgrad.ones(2, dtype=getattr(tensorgrad, dtype)),
                                      operand(tensorgrad, other))
        theirs = torch.result_type(torch.ones(2, dtype=getattr(torch, dtype)),
                                   operand(torch, other))
        assert _name(ours) == _name(theirs), (dtype, other)
    assert not tensorgrad.is_complex(tensorgrad.ones(2))


@pytest.mark.parametrize("shapes", [[(2, 1), (3,)], [3, (2, 1)], [], [(0,), (1,)],
                                    [(4, 1, 2), (1, 3, 1), ()], [(2,), (3,)], [(2, -1)]])
def test_broadcast_shapes_follows_torch(shapes):
    try:
        theirs = torch.broadcast_shapes(*shapes)
    except Exception as error:  # noqa: BLE001 (its type is what is compared)
        with pytest.raises(type(error)):
            tensorgrad.broadcast_shapes(*shapes)
        return
    ours = tensorgrad.broadcast_shapes(*shapes)
    assert isinstance(ours, tensorgrad.Size) and tuple(ours) == tuple(theirs)


def test_logspace_and_scalar_tensor_follow_torch():
    for args, kwargs in [((0, 2, 3), {}), ((0, 2, 3), {"base": 2}), ((-1, 1, 5), {}),
                         ((1, 0, 4), {"base": 3.0}), ((0, 2, 0), {}),
                         ((0, 2, 3), {"dtype": "int64"}), ((0, 1, 4), {"dtype": "float32"})]:
        ours_kw = {k: getattr(tensorgrad, v) if k == "dtype" else v for k, v in kwargs.items()}
        theirs_kw = {k: getattr(torch, v) if k == "dtype" else v for k, v in kwargs.items()}
        theirs = torch.logspace(*args, **theirs_kw)
        if "dtype" not in kwargs:  # (the default dtypes differ: compare values in float64)
            theirs = theirs.double()
        assert_same(tensorgrad.logspace(*args, **ours_kw), theirs, f"logspace{args}{kwargs}",
                    1e-6)
    assert_same(tensorgrad.scalar_tensor(3), torch.scalar_tensor(3, dtype=torch.float64), "s")
    assert_same(tensorgrad.scalar_tensor(2.5, dtype=tensorgrad.float32),
                torch.scalar_tensor(2.5), "scalar_tensor float32")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cartesian_prod_combinations_and_block_diag_match_torch_with_gradients(dtype):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(3).astype(dtype), rng.standard_normal(2).astype(dtype)
    m = rng.standard_normal((2, 3)).astype(dtype)
    programs = {
        "cartesian_prod": lambda lib, x, y, z: lib.cartesian_prod(x, y, x[:2]),
        "cartesian_prod of one": lambda lib, x, y, z: lib.cartesian_prod(x) * 2,
        "combinations": lambda lib, x, y, z: lib.combinations(x),
        "combinations r=3": lambda lib, x, y, z: lib.combinations(x, 3),
        "with replacement": lambda lib, x, y, z: lib.combinations(x, 2, with_replacement=True),
        "r beyond the length": lambda lib, x, y, z: lib.combinations(y, 3),
        "block_diag": lambda lib, x, y, z: lib.block_diag(z, x, y[0], z.t()),
    }
    weights = None
    for name, program in programs.items():
        results = []
        for lib in (tensorgrad, torch):
            x, y, z = (lib.tensor(v, requires_grad=True) for v in (a, b, m))
            out = program(lib, x, y, z)
            if weights is None or weights.shape != tuple(out.shape):
                weights = rng.standard_normal(tuple(out.shape)).astype(dtype)
            (out * lib.tensor(weights)).sum().backward()
            results.append((out, [t.grad for t in (x, y, z)]))
        (ours, our_grads), (theirs, their_grads) = results
        assert_same(ours, theirs, name, 1e-6)
        for g, h in zip(our_grads, their_grads):
            if h is None:
                assert g is None or not np.any(g.numpy()), name
            else:
                assert_same(g, h, f"{name}: gradient", 1e-6)


def test_combinations_and_block_diag_of_integers_and_errors_follow_torch():
    assert_same(tensorgrad.combinations(tensorgrad.tensor([4, 5, 6]), 2),
                torch.combinations(torch.tensor([4, 5, 6]), 2), "ints")
    assert tuple(tensorgrad.combinations(tensorgrad.tensor([1.0, 2.0]), 0).shape) == \
        tuple(torch.combinations(torch.tensor([1.0, 2.0]), 0).shape)
    assert_same(tensorgrad.block_diag(tensorgrad.tensor([[1, 2]]), tensorgrad.tensor(3.5)),
                torch.block_diag(torch.tensor([[1, 2]]), torch.tensor(3.5, dtype=torch.float64)),
                "promoted")
    assert tuple(tensorgrad.block_diag().shape) == tuple(torch.block_diag().shape)
    for make in (lambda lib: lib.block_diag(lib.ones(2, 2, 2)),
                 lambda lib: lib.cartesian_prod(lib.ones(2, 2)),
                 lambda lib: lib.combinations(lib.ones(2, 2))):
        with pytest.raises(RuntimeError):
            make(torch)
        with pytest.raises(RuntimeError):
            make(tensorgrad)


def test_the_random_state_restores_the_draws():
    tensorgrad.manual_seed(7)
    tensorgrad.randn(3)
    state = tensorgrad.get_rng_state()
    assert state.dtype == tensorgrad.uint8 and state.dim() == 1
    first = tensorgrad.randn(5).tolist()
    tensorgrad.randn(2)
    tensorgrad.set_rng_state(state)
    assert tensorgrad.randn(5).tolist() == first
    assert tensorgrad.initial_seed() == 7
    generator = tensorgrad.Generator().manual_seed(3)
    saved = generator.get_state()
    drawn = tensorgrad.rand(4, generator=generator).tolist()
    assert generator.set_state(saved) is generator
    assert tensorgrad.rand(4, generator=generator).tolist() == drawn
    with tensorgrad.random.fork_rng():
        tensorgrad.randn(10)
    assert tensorgrad.randn(5).tolist() != first  # (the stream went on from before the block)
    tensorgrad.set_rng_state(state)
    with tensorgrad.random.fork_rng():
        tensorgrad.randn(10)
    assert tensorgrad.randn(5).tolist() == first


@pytest.mark.parametrize("bad", [
    tensorgrad.tensor([1.0, 2.0]),
    tensorgrad.tensor(list(b"not json"), dtype=tensorgrad.uint8),
    tensorgrad.tensor(list(b'{"seed": 1, "bit_generator": {"bit_generator": "seed"}}'),
                      dtype=tensorgrad.uint8),
    tensorgrad.tensor(list(b'{"seed": 1}'), dtype=tensorgrad.uint8),
])
def test_a_state_not_from_get_state_is_refused_and_changes_nothing(bad):
    tensorgrad.manual_seed(11)
    expected = tensorgrad.randn(3).tolist()
    tensorgrad.manual_seed(11)
    with pytest.raises((TypeError, RuntimeError)):
        tensorgrad.set_rng_state(bad)
    assert tensorgrad.randn(3).tolist() == expected
