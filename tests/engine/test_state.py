"""State that outlives one op: grad mode (per thread, as PyTorch's) and the gradient arrays
the engine hands out (never written again, never shared between leaves)."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import tensorgrad
import tensorgrad.functional as F
from tensorgrad import (
    Function,
    Tensor,
    enable_grad,
    is_grad_enabled,
    no_grad,
    optim,
    set_grad_enabled,
)

# ---- grad mode ----------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def recording_on_afterwards():
    """A test that fails with recording off in the main thread must not pass that on."""
    yield
    set_grad_enabled(True)



def records(x: Tensor) -> bool:
    """Whether an op on ``x`` (which requires grad) records a graph in this thread now."""
    return (x * 2.0).requires_grad


def run_in_thread(target) -> None:
    """Run ``target`` in a new thread; re-raise here whatever it raised."""
    errors = []

    def wrapped():
        try:
            target()
        except BaseException as error:  # noqa: BLE001 (handed to the main thread)
            errors.append(error)

    thread = threading.Thread(target=wrapped)
    thread.start()
    thread.join(timeout=60)
    assert not thread.is_alive(), "the thread did not finish"
    if errors:
        raise errors[0]


def test_no_grad_in_one_thread_leaves_another_thread_recording():
    x = Tensor([1.0, 2.0], requires_grad=True)
    inside, checked = threading.Event(), threading.Event()
    seen = {}

    def worker():
        with no_grad():
            inside.set()
            assert checked.wait(timeout=30)
            seen["worker"] = records(x)  # still off here, after the main thread ran ops
        seen["worker after"] = records(x)

    thread = threading.Thread(target=worker)
    thread.start()
    try:
        assert inside.wait(timeout=30)
        seen["main"] = records(x), is_grad_enabled()  # while the worker is inside no_grad
    finally:
        checked.set()
        thread.join(timeout=60)
    assert seen == {"main": (True, True), "worker": False, "worker after": True}


def test_no_grad_in_the_main_thread_leaves_a_new_thread_recording():
    x = Tensor([1.0], requires_grad=True)
    seen = []
    with no_grad():
        run_in_thread(lambda: seen.append((is_grad_enabled(), records(x))))
        assert not records(x)
    assert seen == [(True, True)]


def test_set_grad_enabled_in_a_thread_changes_only_that_thread():
    barrier = threading.Barrier(2, timeout=30)
    seen = {}

    def worker():
        set_grad_enabled(False)
        barrier.wait()  # the main thread checks its mode while this one is off
        barrier.wait()
        seen["worker"] = is_grad_enabled()
        set_grad_enabled(True)

    thread = threading.Thread(target=worker)
    thread.start()
    barrier.wait()
    seen["main"] = is_grad_enabled()
    barrier.wait()
    thread.join(timeout=60)
    assert seen == {"main": True, "worker": False}


def test_a_thread_that_ended_with_recording_off_does_not_pass_it_on_to_a_later_thread():
    """Threads started one after another usually get the same ident: the mode of one that
    switched recording off and ended must not reach the next."""
    seen = []
    for _ in range(5):
        run_in_thread(lambda: set_grad_enabled(False))
        run_in_thread(lambda: seen.append(is_grad_enabled()))
    assert seen == [True] * 5


def test_no_grad_and_enable_grad_as_decorators():
    x = Tensor([1.0], requires_grad=True)

    @no_grad()
    def without():
        return records(x)

    @enable_grad()
    def within():
        return records(x)

    assert without() is False and records(x)
    with no_grad():
        assert within() is True
        assert not records(x)  # enable_grad's function returned: off again
    assert without.__name__ == "without"  # functools.wraps


def test_set_grad_enabled_as_a_decorator_sets_the_mode_only_inside_as_pytorch():
    @set_grad_enabled(False)
    def without():
        return is_grad_enabled()

    assert is_grad_enabled()  # decorating did not switch it off
    assert without() is False and is_grad_enabled()
    with no_grad():
        assert set_grad_enabled(True)(is_grad_enabled)() is True
        assert not is_grad_enabled()


def test_no_grad_and_enable_grad_decorate_without_parentheses_too_as_pytorch():
    x = Tensor([1.0], requires_grad=True)

    @no_grad
    def without():
        return records(x)

    @enable_grad
    def within():
        return records(x)

    assert without() is False and records(x)
    with no_grad():
        assert within() is True and not records(x)


def test_grad_mode_blocks_nest_and_restore_on_errors():
    x = Tensor([1.0], requires_grad=True)
    with no_grad():
        with enable_grad():
            assert records(x)
            with no_grad():
                assert not records(x)
            assert records(x)
        assert not records(x)
        with pytest.raises(ValueError), enable_grad():
            raise ValueError("inside")
        assert not records(x)
    assert records(x)
    with set_grad_enabled(False):
        assert not is_grad_enabled()
        with set_grad_enabled(True):
            assert is_grad_enabled()
        assert not is_grad_enabled()
    assert is_grad_enabled()


def test_set_grad_enabled_as_a_call_sets_the_mode_until_changed():
    try:
        set_grad_enabled(False)
        assert not is_grad_enabled()
    finally:
        set_grad_enabled(True)
    assert is_grad_enabled()


def test_a_decorated_function_run_in_two_threads_keeps_each_threads_mode():
    barrier = threading.Barrier(2, timeout=30)
    seen = []

    @no_grad()
    def both_inside():
        barrier.wait()  # both threads inside the function at once
        seen.append(is_grad_enabled())
        barrier.wait()

    thread = threading.Thread(target=both_inside)
    thread.start()
    both_inside()
    thread.join(timeout=60)
    assert seen == [False, False] and is_grad_enabled()


# ---- the gradient arrays handed out ---------------------------------------------------------


def loss_of(w: Tensor, b: Tensor, scale: float = 1.0) -> Tensor:
    x = Tensor(np.arange(6.0).reshape(2, 3))
    return ((F.linear(x, w, b) * scale).tanh() ** 2).sum()


def make_params() -> tuple[Tensor, Tensor]:
    rng = np.random.default_rng(0)
    return (Tensor(rng.normal(size=(4, 3)), requires_grad=True),
            Tensor(rng.normal(size=4), requires_grad=True))


def test_a_gradient_a_user_kept_sees_what_backward_adds_as_pytorchs_until_zero_grad():
    w, b = make_params()
    opt = optim.Adam([w, b], lr=0.1)
    loss_of(w, b).backward()
    kept = w.grad
    first = kept.numpy().copy()
    loss_of(w, b, 2.0).backward()  # accumulates into the kept gradient's array
    assert np.shares_memory(w.grad, kept) and not np.array_equal(kept, first)
    np.testing.assert_array_equal(kept, w.grad)
    opt.step()
    opt.zero_grad()  # set_to_none: the next backward starts a new array, the kept one stays
    held = kept.numpy().copy()
    loss_of(w, b, 3.0).backward()
    np.testing.assert_array_equal(kept, held)
    assert not np.shares_memory(w.grad, kept)


def test_a_gradient_accumulates_in_place_as_pytorchs():
    x = Tensor([1.0, 2.0], requires_grad=True)
    (x * 3.0).sum().backward()
    first = x.grad
    (x * 4.0).sum().backward()
    np.testing.assert_array_equal(first, [7.0, 7.0])
    np.testing.assert_array_equal(x.grad, [7.0, 7.0])
    assigned = Tensor([1.0, 1.0])
    x.grad = assigned  # (PyTorch's too: the assigned tensor is the gradient)
    (x * 4.0).sum().backward()
    np.testing.assert_array_equal(assigned, [5.0, 5.0])


def test_an_op_that_used_a_gradient_before_backward_added_into_it_refuses_its_backward():
    x = Tensor([1.0, 2.0], requires_grad=True)
    w = Tensor([1.0, 1.0], requires_grad=True)
    (x * 3.0).sum().backward()
    y = (x.grad * w).sum()  # Mul keeps x.grad's values for w's gradient
    (x * 4.0).sum().backward()  # which this changes, in place
    with pytest.raises(RuntimeError, match="in-place|in place"):
        y.backward()



def test_zero_grad_without_set_to_none_fills_zeros_in_place_as_pytorch():
    w, b = make_params()
    opt = optim.Adam([w, b])
    loss_of(w, b).backward()
    first = w.grad.numpy().copy()
    kept = w.grad
    opt.zero_grad(set_to_none=False)
    assert np.shares_memory(w.grad, kept) and not kept.any() and not b.grad.any()
    loss_of(w, b).backward()
    np.testing.assert_array_equal(w.grad, first)  # zeros + the new gradient
    opt.zero_grad()
    assert w.grad is None and b.grad is None


class SameArrayTwice(Function):
    """a + b whose backward hands both inputs one array."""

    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def backward(ctx, grad):
        shared = grad * 1.0
        return shared, shared


GRAPHS = {  # each gives every leaf a gradient computed from one shared upstream array
    "add": lambda x, y: x + y,
    "sub": lambda x, y: x - y,
    "views": lambda x, y: x.reshape(2, 1).T.reshape(2) + y[np.array([0, 1])],
    "cat": lambda x, y: tensorgrad.cat([x, y]).reshape(2, 2).sum(0),
    "stack": lambda x, y: tensorgrad.stack([x, y], dim=1).sum(1),
    "expand and cast": lambda x, y: x.expand(2) + y.double(),
    "user function": lambda x, y: SameArrayTwice.apply(x, y),
    "a leaf twice": lambda x, y: x + x + y,
}


@pytest.mark.parametrize("name", list(GRAPHS))
def test_two_leaves_never_share_a_gradient_array(name):
    x, y = Tensor([1.0, 2.0], requires_grad=True), Tensor([3.0, 4.0], requires_grad=True)
    upstream = np.array([1.0, -2.0])
    GRAPHS[name](x, y).backward(upstream)
    grads = [x.grad.numpy(), y.grad.numpy()]
    for g in grads:
        assert g.flags.writeable
        assert not np.shares_memory(g, upstream)
    assert not np.shares_memory(x.grad, y.grad)
    expected = [g.copy() for g in grads]
    x.grad += 100.0  # a user's in-place change of one gradient changes nothing else
    np.testing.assert_array_equal(y.grad, expected[1])
    np.testing.assert_array_equal(upstream, [1.0, -2.0])


def test_backward_of_a_leaf_itself_copies_the_given_gradient():
    x = Tensor([1.0, 2.0], requires_grad=True)
    upstream = np.array([0.5, -0.5])
    x.backward(upstream)
    assert not np.shares_memory(x.grad, upstream)
    x.grad *= 2
    np.testing.assert_array_equal(upstream, [0.5, -0.5])


def test_a_tensor_given_as_the_gradient_is_not_shared_either():
    x = Tensor([1.0, 2.0], requires_grad=True)
    upstream = Tensor([0.5, -0.5])
    (x + 0.0).backward(upstream)
    assert not np.shares_memory(x.grad, upstream.data)


# ---- in-place changes of what backward needs --------------------------------------------------

IN_PLACE_CHANGES = {
    "+=": lambda t: t.__iadd__(1.0),
    "*=": lambda t: t.__imul__(2.0),
    "item assignment": lambda t: t.__setitem__(0, 5.0),
    "zero_": lambda t: t.zero_(),
    "masked_fill_": lambda t: t.masked_fill_(t.data > 0, 0.0),
}


@pytest.mark.parametrize("change", IN_PLACE_CHANGES, ids=list(IN_PLACE_CHANGES))
def test_backward_refuses_an_input_an_op_saved_and_that_changed_since(change):
    w = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = Tensor([4.0, 5.0, 6.0])  # needs no grad: in place is allowed, but Mul saved it
    y = w * b
    IN_PLACE_CHANGES[change](b)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.sum().backward()
    assert w.grad is None  # nothing half-accumulated


def test_backward_refuses_a_view_of_a_saved_array_written_in_place():
    w = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    x = Tensor(np.arange(6.0).reshape(2, 3))
    y = w * x[0]  # Mul saved a view of x's memory
    with no_grad():
        x[0, 1] = 10.0
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.sum().backward()


def test_backward_refuses_a_saved_result_written_in_place():
    w = Tensor([0.5, -1.0], requires_grad=True)
    z = w.exp()  # exp's backward reads its own result
    with no_grad():
        z[0] = 0.0
    with pytest.raises(RuntimeError, match="Exp saved"):
        z.sum().backward()


def test_in_place_changes_that_backward_does_not_need_are_fine_as_in_pytorch():
    w = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = Tensor([4.0, 5.0, 6.0])
    y = w + b  # Add saves nothing: b's later values do not matter
    b += 1.0
    c = Tensor([1.0, 1.0, 1.0])
    c += 2.0  # written before the op that uses it
    (y * c).sum().backward()
    np.testing.assert_array_equal(w.grad, [3.0, 3.0, 3.0])


@pytest.mark.parametrize("by", ["module", "optimizer"])
def test_zero_grad_keeping_the_arrays_is_a_write_that_backward_sees(by):
    layer = tensorgrad.nn.Linear(2, 1, bias=False)
    layer(tensorgrad.ones(3, 2)).sum().backward()
    w = Tensor([[1.0, 2.0]], requires_grad=True)
    y = (layer.weight.grad * w).sum()  # Mul keeps the gradient's values for w's
    if by == "module":
        layer.zero_grad(set_to_none=False)
    else:
        optim.SGD(layer.parameters(), lr=0.1).zero_grad(set_to_none=False)
    with pytest.raises(RuntimeError, match="in-place|in place"):
        y.backward()
