"""Many slices of one tensor: backward adds each slice's gradient where it goes, into one
array, rather than spreading each over an array of zeros (benchmarks/SPEED.md, "Round
five"); the gradients are those of the dense computation, whatever the order, overlap and
kind of the slices, and a replay computes the same bits."""

from __future__ import annotations

import numpy as np
import pytest

import tensorgrad as tg
from tensorgrad import Tensor, capture

# basic indices (ints, slices, steps, negative steps, None, ...) and two advanced ones
INDICES = [np.s_[0:3], np.s_[2:7], np.s_[5], np.s_[::2], np.s_[1::2], np.s_[-1, 1:3],
           np.s_[::-3], np.s_[None, 4:6], np.s_[..., 2], np.s_[3:3], np.s_[[0, 0, 4]],
           np.s_[np.array([True] * 6 + [False] * 6)]]


def weighted_slices(x: Tensor, weights: list[np.ndarray]) -> Tensor:
    total = (x * 0.5).sum()  # a use that is not a slice: the first gradient is another op's
    for index, w in zip(INDICES, weights):
        total = total + (x[index] * Tensor(w)).sum()
    return total


def expected_gradient(shape: tuple[int, ...], weights: list[np.ndarray], dtype) -> np.ndarray:
    grad = np.full(shape, 0.5)
    for index, w in zip(INDICES, weights):
        np.add.at(grad, index, w)  # (adds twice where an integer index repeats)
    return grad.astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("leaf", [True, False])
def test_the_gradient_of_many_slices_is_the_dense_one(dtype, leaf):
    rng = np.random.default_rng(0)
    data = rng.standard_normal((12, 5)).astype(dtype)
    weights = [rng.standard_normal(data[index].shape).astype(dtype) for index in INDICES]
    w = Tensor(data, requires_grad=True)
    x = w if leaf else w * 1.0  # a slice of a leaf, or of an op's result
    weighted_slices(x, weights).backward()
    assert w.grad.dtype == dtype
    tolerance = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(w.grad, expected_gradient(data.shape, weights, dtype),
                               rtol=tolerance, atol=tolerance)


def test_a_gradient_passed_on_to_two_places_is_added_into_in_neither():
    """Add hands its gradient to both of its inputs as one array: that array is not the
    engine's alone, so neither a slice's gradient nor another op's may be added into it."""
    a = tg.ones(4, 3, requires_grad=True)
    b = tg.ones(4, 3, requires_grad=True)
    later = (a * 5).sum()  # reaches a after the sum below: backward visits the newest first
    s = a + b  # s's gradient, summed from its two slices, reaches a and b as one array
    (later + s[0:2].sum() * 2 + s[1:4].sum() * 3).backward()
    from_slices = np.array([[2.0] * 3, [5.0] * 3, [3.0] * 3, [3.0] * 3])
    np.testing.assert_array_equal(b.grad, from_slices)
    np.testing.assert_array_equal(a.grad, from_slices + 5)

    c = tg.ones(4, 3, requires_grad=True)
    d = a * 1.0
    first = d[0:2]  # older than the sum below: its gradient is added after the sum's
    t = d + c  # gives d and c one array
    c.grad = a.grad = None
    (t.sum() + first.sum() * 7).backward()
    np.testing.assert_array_equal(c.grad, np.ones((4, 3)))
    np.testing.assert_array_equal(a.grad, np.ones((4, 3)) + 7 * (np.arange(4) < 2)[:, None])


def test_a_replay_of_many_slices_computes_the_eager_bits():
    rng = np.random.default_rng(1)
    w = Tensor(rng.standard_normal((12, 5)), requires_grad=True)

    def loss_fn(x: Tensor) -> Tensor:
        y = w * x
        return ((y[0:3] * 2).sum() + (y[2:7] ** 2).sum() + y[5].sum()
                + (y[::2] * y[1::2]).sum() + y[-1, 1:3].sum() + (w[3:9] * 3).sum())

    step = capture(loss_fn)
    for _ in range(4):  # two recordings, then replays
        x = Tensor(rng.standard_normal((12, 5)))
        w.grad = None
        loss_fn(x).backward()
        eager = w.grad.numpy().copy()
        w.grad = None
        step(x)
        assert w.grad.numpy().tobytes() == eager.tobytes()
    assert step.recorded_signatures() == 1


def test_a_replay_adds_a_slice_into_a_sum_as_backward_does_to_the_sign_of_a_zero():
    """Where backward() adds a slice's gradient straight into a sum it holds, a -0.0 elsewhere
    in the sum stays -0.0: a replay does the same, where adding an array of zeros would make
    it +0.0."""
    w = Tensor(np.arange(1.0, 5.0), requires_grad=True)

    def loss_fn(x: Tensor, z: Tensor) -> Tensor:
        y = w * 1.0
        first = y[0:2]  # older than the products: its gradient is added after theirs
        return first.sum() + (y * x).sum() + (y * z).sum()

    step = capture(loss_fn)
    x, z = Tensor([1.0, 2.0, -0.0, -0.0]), Tensor([3.0, -0.0, 0.0, -0.0])
    for _ in range(4):  # two recordings, then replays
        w.grad = None
        loss_fn(x, z).backward()
        eager = w.grad.numpy().copy()
        w.grad = None
        step(x, z)
        np.testing.assert_array_equal(eager, [5.0, 3.0, 0.0, -0.0])
        assert w.grad.numpy().tobytes() == eager.tobytes()
    assert step.recorded_signatures() == 1


def test_a_replay_leaves_a_gradient_shared_with_another_sum_alone():
    """An op of the user's that gives no gradient for some values (here when x[0] is 0) may
    leave a replay's sum holding an array another sum holds too (Add gives both its inputs
    one): a slice's gradient is then added into a copy, as backward() would."""

    class Gated(tg.Function):
        @staticmethod
        def forward(ctx, a, x):
            ctx.save_for_backward(x)
            return a * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return (None if x[0] == 0 else grad * x), None

    w = Tensor(np.arange(1.0, 5.0), requires_grad=True)
    c = Tensor(np.zeros(4), requires_grad=True)

    def loss_fn(x: Tensor) -> Tensor:
        y = w * 1.0
        first = y[0:2]  # the oldest: its gradient is added last, into y's sum
        t = y + c  # one array for the gradients of y and c
        return first.sum() + t.sum() + Gated.apply(y, x).sum()

    step = capture(loss_fn)
    for x in ([2.0, 1.0, 1.0, 1.0], [3.0, 1.0, 1.0, 1.0], [0.0, 1.0, 1.0, 1.0]):
        w.grad = c.grad = None
        step(Tensor(x))  # two recordings, then a replay in which Gated gives None
    np.testing.assert_array_equal(c.grad, np.ones(4))
    np.testing.assert_array_equal(w.grad, [2.0, 2.0, 1.0, 1.0])


def test_a_loop_over_time_steps_matches_the_whole_sequence_at_once():
    rng = np.random.default_rng(2)
    x = Tensor(rng.standard_normal((6, 40, 3)), requires_grad=True)
    w = rng.standard_normal((40, 3))
    sum(((x[:, t] * Tensor(w[t])) ** 2).sum() for t in range(40)).backward()
    np.testing.assert_allclose(x.grad, 2 * x.detach().numpy() * w ** 2, rtol=1e-12)


def test_slices_of_a_0d_tensor_add_up_after_other_uses():
    """Two 0-d gradients add up to a NumPy scalar, not an array: a slice's gradient is then
    added the usual way."""
    x = Tensor(np.array(1.5), requires_grad=True)
    y = x * 1.0
    first = y[...]  # older than the products: its gradient comes after theirs were summed
    (first + y * 2.0 + y * 3.0).backward()
    assert float(x.grad) == 6.0
