"""The factories, the dtype names, the device and the one generator, with PyTorch's meaning
(held against PyTorch itself where it is installed)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tensorgrad
from tensorgrad import Tensor

try:
    import torch
except ImportError:  # the PyTorch comparisons below skip themselves
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")


def test_dtype_names_are_pytorchs():
    assert tensorgrad.long == tensorgrad.int64 == np.int64
    assert tensorgrad.int == tensorgrad.int32 == np.int32
    assert tensorgrad.float == tensorgrad.float32 == np.float32
    assert tensorgrad.double == tensorgrad.float64 == np.float64
    assert tensorgrad.bool == np.bool_
    assert tensorgrad.get_default_dtype() == np.float64  # PyTorch's: float32
    assert tensorgrad.zeros(2, dtype=tensorgrad.long).dtype == np.int64


@pytest.mark.parametrize("make", [
    lambda f: f(2, 3), lambda f: f((2, 3)), lambda f: f([2, 3]), lambda f: f(size=(2, 3)),
    lambda f: f(tensorgrad.tensor(2), 3)])
def test_a_size_is_given_in_any_of_pytorchs_forms(make):
    for factory, value in ((tensorgrad.zeros, 0.0), (tensorgrad.ones, 1.0)):
        out = make(factory)
        assert out.shape == (2, 3) and out.dtype == np.float64 and (out.data == value).all()
    assert make(tensorgrad.empty).shape == (2, 3)
    assert make(tensorgrad.randn).shape == (2, 3) and make(tensorgrad.rand).shape == (2, 3)


def test_zero_dimensional_and_empty_sizes():
    assert tensorgrad.zeros(()).shape == () and tensorgrad.ones().shape == ()
    assert tensorgrad.zeros(0, 3).shape == (0, 3)
    with pytest.raises(RuntimeError, match="negative"):
        tensorgrad.zeros(2, -1)
    with pytest.raises(TypeError):
        tensorgrad.zeros(2.5)


def test_full_takes_its_dtype_from_the_value():
    assert tensorgrad.full((2,), 3).dtype == np.int64
    assert tensorgrad.full((2,), 3.0).dtype == np.float64
    assert tensorgrad.full((2,), True).dtype == np.bool_
    assert tensorgrad.full((2,), 3, dtype=tensorgrad.float32).dtype == np.float32
    assert tensorgrad.full((2, 1), float("-inf")).tolist() == [[-np.inf], [-np.inf]]


def test_like_factories_keep_shape_and_dtype():
    x = tensorgrad.ones(2, 3, dtype=tensorgrad.float32, requires_grad=True)
    for factory in (tensorgrad.zeros_like, tensorgrad.ones_like, tensorgrad.empty_like,
                    tensorgrad.randn_like, tensorgrad.rand_like):
        out = factory(x)
        assert out.shape == (2, 3) and out.dtype == np.float32 and not out.requires_grad
    assert tensorgrad.zeros_like(x, dtype=tensorgrad.long).dtype == np.int64
    assert tensorgrad.full_like(x, 7).tolist() == [[7.0] * 3] * 2


def test_randint_like_draws_whole_numbers_of_the_inputs_shape_and_dtype():
    x = tensorgrad.zeros(2, 3, dtype=tensorgrad.float32)
    drawn = tensorgrad.randint_like(x, 4)
    assert drawn.shape == (2, 3) and drawn.dtype == np.float32
    assert set(drawn.numpy().ravel()) <= {0.0, 1.0, 2.0, 3.0}
    assert set(tensorgrad.randint_like(x, 5, 7).numpy().ravel()) <= {5.0, 6.0}
    assert set(tensorgrad.randint_like(x, low=-2, high=-1).numpy().ravel()) == {-2.0}
    assert tensorgrad.randint_like(x, 3, dtype=tensorgrad.long).dtype == np.int64
    assert tensorgrad.randint_like(tensorgrad.tensor(1.0), 3).shape == ()
    with pytest.raises(RuntimeError, match="below"):
        tensorgrad.randint_like(x, 3, 2)
    with pytest.raises(TypeError, match="randint_like"):
        tensorgrad.randint_like(x)
    flags = tensorgrad.zeros(3, dtype=tensorgrad.bool)
    assert tensorgrad.randint_like(flags, 2).dtype == np.bool_
    for dtype, low, high in ((tensorgrad.bool, 0, 3), (tensorgrad.uint8, -1, 5),
                             (tensorgrad.int8, 0, 129), (tensorgrad.float16, 0, 70000)):
        with pytest.raises(RuntimeError, match="out of bounds"):
            tensorgrad.randint_like(tensorgrad.zeros(2, dtype=dtype), low, high)


def test_requires_grad_only_for_floating_factories():
    assert tensorgrad.zeros(2, requires_grad=True).requires_grad
    with pytest.raises(RuntimeError, match="floating"):
        tensorgrad.zeros(2, dtype=tensorgrad.long, requires_grad=True)
    with pytest.raises(TypeError, match="floating"):
        tensorgrad.randn(2, dtype=tensorgrad.long)


@needs_torch
@given(start=st.integers(-20, 20), end=st.integers(-20, 20), step=st.integers(-7, 7))
def test_arange_of_integers_matches_torch(start, end, step):
    try:
        expected = torch.arange(start, end, step)
    except RuntimeError:
        with pytest.raises(RuntimeError):
            tensorgrad.arange(start, end, step)
        return
    out = tensorgrad.arange(start, end, step)
    assert out.dtype == np.int64 and out.tolist() == expected.tolist()


@needs_torch
@given(start=st.floats(-10, 10), end=st.floats(-10, 10),
       step=st.sampled_from([0.1, 0.25, 0.3, -0.5, 1.0, 3.0, -0.7]))
def test_arange_of_floats_matches_torch(start, end, step):
    try:
        expected = torch.arange(start, end, step, dtype=torch.float64)
    except RuntimeError:
        with pytest.raises(RuntimeError):
            tensorgrad.arange(start, end, step)
        return
    out = tensorgrad.arange(start, end, step)
    assert out.dtype == np.float64 and out.shape == tuple(expected.shape)
    np.testing.assert_allclose(out.data, expected.numpy(), rtol=1e-12, atol=1e-12)


def test_arange_forms():
    assert tensorgrad.arange(4).tolist() == [0, 1, 2, 3]
    assert tensorgrad.arange(1, 4).tolist() == [1, 2, 3]
    assert tensorgrad.arange(0, 1, 0.25).tolist() == [0.0, 0.25, 0.5, 0.75]
    assert tensorgrad.arange(4, dtype=tensorgrad.float32).dtype == np.float32
    assert tensorgrad.arange(0).shape == (0,)
    with pytest.raises(RuntimeError, match="nonzero"):
        tensorgrad.arange(0, 3, 0)
    with pytest.raises(RuntimeError):
        tensorgrad.arange(0, float("inf"))


@needs_torch
@pytest.mark.parametrize("name", ["tril", "triu"])
@pytest.mark.parametrize("diagonal", [-2, -1, 0, 1, 3])
@pytest.mark.parametrize("shape", [(3, 3), (2, 4), (4, 2), (2, 3, 3), (0, 3)])
def test_triangles_match_torch_with_gradients(name, diagonal, shape):
    values = np.random.default_rng(0).standard_normal(shape)
    ours = Tensor(values, requires_grad=True)
    theirs = torch.tensor(values, requires_grad=True)
    out = getattr(tensorgrad, name)(ours, diagonal)
    expected = getattr(torch, name)(theirs, diagonal)
    np.testing.assert_array_equal(out.data, expected.detach().numpy())
    weights = np.arange(out.detach().numpy().size, dtype=np.float64).reshape(out.shape) + 1
    out.backward(weights)
    expected.backward(torch.tensor(weights))
    np.testing.assert_array_equal(ours.grad, theirs.grad.numpy())


def test_triangles_need_two_dimensions_and_keep_the_dtype():
    assert tensorgrad.tril(tensorgrad.ones(3, 3, dtype=tensorgrad.bool)).dtype == np.bool_
    assert tensorgrad.ones(2, 2).tril().tolist() == [[1, 0], [1, 1]]
    assert tensorgrad.ones(2, 2).triu(1).tolist() == [[0, 1], [0, 0]]
    with pytest.raises(RuntimeError, match="2 dimensions"):
        tensorgrad.tril(tensorgrad.ones(3))


# ---- the device ---------------------------------------------------------------------------------


def test_the_cpu_is_the_only_device():
    x = tensorgrad.ones(2, device="cpu")
    assert x.device == tensorgrad.device("cpu") == "cpu" and str(x.device) == "cpu"
    assert x.to("cpu") is x and x.cpu() is x and x.to(tensorgrad.device("cpu")) is x
    assert tensorgrad.zeros(2, device=tensorgrad.device("cpu", 0)).shape == (2,)
    for where in ("cuda", "cuda:0", "mps", "meta", 0, "cpu:1", "gpu"):
        with pytest.raises(RuntimeError):
            tensorgrad.zeros(2, device=where)
        with pytest.raises(RuntimeError):
            x.to(where)
    with pytest.raises(RuntimeError, match="CPU only"):
        x.cuda()


def test_to_takes_pytorchs_forms():
    x = tensorgrad.ones(2, requires_grad=True)
    assert x.to(tensorgrad.float32).dtype == np.float32
    assert x.to("cpu", tensorgrad.float32).dtype == np.float32
    assert x.to(device="cpu", dtype=tensorgrad.float32).dtype == np.float32
    assert x.to(tensorgrad.zeros(1, dtype=tensorgrad.long)).dtype == np.int64
    assert x.type_as(tensorgrad.zeros(1, dtype=tensorgrad.float32)).dtype == np.float32
    copied = x.to("cpu", copy=True)
    assert copied is not x and copied.tolist() == x.tolist()
    x.to(tensorgrad.float32).sum().backward()
    assert x.grad.dtype == np.float64 and x.grad.tolist() == [1.0, 1.0]


# ---- the generator ------------------------------------------------------------------------------


def draws():
    return [tensorgrad.randn(3).tolist(), tensorgrad.rand(2).tolist(),
            tensorgrad.randint(0, 10, (4,)).tolist(), tensorgrad.randperm(5).tolist(),
            tensorgrad.multinomial(tensorgrad.tensor([0.2, 0.3, 0.5]), 2).tolist(),
            tensorgrad.multinomial(tensorgrad.ones(2, 4), 3, replacement=True).tolist()]


def test_manual_seed_makes_every_draw_repeat():
    tensorgrad.manual_seed(1234)
    first = draws()
    tensorgrad.manual_seed(1234)
    assert draws() == first
    tensorgrad.manual_seed(1235)
    assert draws() != first


def test_a_generator_of_ones_own():
    mine = tensorgrad.Generator().manual_seed(7)
    first = tensorgrad.randn(4, generator=mine).tolist()
    tensorgrad.manual_seed(0)  # the default generator does not touch mine
    mine.manual_seed(7)
    assert tensorgrad.randn(4, generator=mine).tolist() == first


def test_draws_have_their_distributions():
    tensorgrad.manual_seed(0)
    normal = tensorgrad.randn(200_000).data
    uniform = tensorgrad.rand(200_000, dtype=tensorgrad.float32).data
    assert abs(normal.mean()) < 0.01 and abs(normal.std() - 1) < 0.01
    assert uniform.dtype == np.float32 and uniform.min() >= 0 and uniform.max() < 1
    assert abs(uniform.mean() - 0.5) < 0.01


def test_multinomial_follows_the_weights():
    tensorgrad.manual_seed(0)
    weights = tensorgrad.tensor([[1.0, 0.0, 3.0], [0.0, 2.0, 2.0]])
    picks = tensorgrad.multinomial(weights, 20_000, replacement=True).numpy()
    assert picks.shape == (2, 20_000) and picks.dtype == np.int64
    assert abs((picks[0] == 2).mean() - 0.75) < 0.02 and not (picks[0] == 1).any()
    assert not (picks[1] == 0).any()
    first = np.array([tensorgrad.multinomial(weights, 1).tolist() for _ in range(4000)])
    assert abs((first[:, 0, 0] == 2).mean() - 0.75) < 0.03  # the first draw: in proportion
    both = tensorgrad.multinomial(weights, 2).data  # without replacement: two different
    assert sorted(both[0].tolist()) == [0, 2] and sorted(both[1].tolist()) == [1, 2]
    # weight-0 categories come once the others are drawn, in order, as in PyTorch
    assert tensorgrad.multinomial(tensorgrad.tensor([0.0, 0.5, 0.0]), 3).tolist() == [1, 0, 2]


@pytest.mark.parametrize("weights, samples, replacement, message", [
    ([0.0, 0.0], 1, True, "sums to 0"),
    ([0.5, -0.1], 1, True, "negative"),
    ([0.5, float("nan")], 1, True, "NaN"),
    ([0.5, float("inf")], 1, False, "inf"),
    ([0.5, 0.5], 3, False, "without replacement"),
    ([0.5, 0.5], 0, True, "0 samples"),
    ([[[0.5]]], 1, True, "1-D or 2-D"),
])
def test_multinomial_refuses_what_pytorch_refuses(weights, samples, replacement, message):
    with pytest.raises(RuntimeError, match=message):
        tensorgrad.multinomial(tensorgrad.tensor(weights), samples, replacement)
    if torch is not None:
        with pytest.raises(RuntimeError):
            torch.multinomial(torch.tensor(weights), samples, replacement)


def test_the_legacy_constructors_read_sizes_as_pytorchs():
    cases = {  # what each makes: (shape, dtype name)
        "sizes": lambda m: m.Tensor(2, 3), "one size": lambda m: m.Tensor(4),
        "a Size": lambda m: m.Tensor(m.Size([2, 1])), "nothing": lambda m: m.Tensor(),
        "a parameter's": lambda m: m.nn.Parameter(m.Tensor(3, 2)),
        "floats": lambda m: m.FloatTensor([1, 2]), "long sizes": lambda m: m.LongTensor(2, 3),
        "bools": lambda m: m.BoolTensor([1, 0]), "doubles": lambda m: m.DoubleTensor(3),
    }
    try:
        import torch
    except ImportError:  # (tensorgrad alone: its own answers, below)
        torch = None
    for name, make in cases.items():
        ours = make(tensorgrad)
        if torch is not None:
            theirs = make(torch)
            assert tuple(ours.shape) == tuple(theirs.shape), name
            if name not in ("sizes", "one size", "a Size", "nothing", "a parameter's"):
                assert ours.dtype.name == str(theirs.dtype).removeprefix("torch."), name
    assert tensorgrad.Tensor(2, 3).dtype == tensorgrad.get_default_dtype()
    assert not tensorgrad.Tensor(2, 3).numpy().any()  # zeros (PyTorch's: uninitialized)
    assert tensorgrad.tensor(3).shape == () and tensorgrad.Tensor(2.5).item() == 2.5
    with pytest.raises(TypeError, match="one data argument"):
        tensorgrad.Tensor([1.0], [2.0])


@pytest.mark.parametrize("values", [[2**63], [-(2**63) - 1], 2**63, [[1, 2**64]]])
def test_python_integers_beyond_int64_overflow_as_in_pytorch(values):
    with pytest.raises(ValueError, match="Overflow when unpacking long long"):
        tensorgrad.tensor(values)


def test_python_integers_at_int64s_ends_and_beside_a_float_are_held():
    assert tensorgrad.tensor([2**63 - 1, -(2**63)]).dtype == np.int64
    mixed = tensorgrad.tensor([1.5, 2**64])  # a float makes them all floating
    assert mixed.dtype.kind == "f" and mixed.tolist() == [1.5, 2.0**64]
    assert tensorgrad.tensor([np.uint64(5)]).dtype == np.uint64  # NumPy's own stay theirs
