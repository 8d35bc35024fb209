"""tensorgrad.capture: a replayed step equals the eager one to the last bit, and a function
whose graph depends on its inputs' values outside tensor ops is refused, not replayed."""

from __future__ import annotations

import numpy as np
import pytest

import tensorgrad as tg
from microgpt import gpt_tensor
from microgpt.model import GPTConfig, init_state_dict
from tensorgrad import CaptureError, Tensor
from tensorgrad import functional as F


def small_model(dtype: str = "float64") -> tuple[dict[str, Tensor], GPTConfig]:
    import random

    config = GPTConfig(vocab_size=7, n_embd=8, n_head=2, n_layer=2, block_size=6)
    state = init_state_dict(config, random.Random(0))
    return gpt_tensor.from_state_dict({k: v.astype(dtype) for k, v in state.items()}), config


def documents(count: int, seed: int = 1) -> list[list[int]]:
    rng = np.random.default_rng(seed)
    return [[6, *rng.integers(0, 6, size=rng.integers(1, 8)).tolist(), 6] for _ in range(count)]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("batch_size", [1, 3])
def test_a_captured_training_run_equals_the_eager_one_bit_for_bit(dtype, batch_size):
    runs = []
    for captured in (False, True):
        params, config = small_model(dtype)
        optimizer = tg.optim.Adam(list(params.values()), lr=0.01)
        step = gpt_tensor.training_step(params, config)
        docs, losses = documents(40 * batch_size), []
        for k in range(40):
            batch = docs[k * batch_size:(k + 1) * batch_size]
            if captured:
                loss = step(batch)
            else:
                loss = (gpt_tensor.document_loss(params, config, batch[0]) if batch_size == 1
                        else gpt_tensor.batch_loss(params, config, batch))
                loss.backward()
            losses.append(loss.item())
            optimizer.step()
            optimizer.zero_grad()
        runs.append((losses, {name: p.detach().numpy().copy() for name, p in params.items()}))
    (eager_losses, eager_weights), (replayed_losses, replayed_weights) = runs
    assert eager_losses == replayed_losses
    for name in eager_weights:
        np.testing.assert_array_equal(eager_weights[name], replayed_weights[name])


def test_replays_run_once_each_signature_was_recorded_twice():
    w = Tensor(np.ones((3, 2)), requires_grad=True)
    step = tg.capture(lambda x: (F.linear(x, w) ** 2).sum())
    for rows in (1, 1, 1, 2, 2, 2):
        step(np.ones((rows, 2)))
    assert step.recorded_signatures() == 2


def test_a_replay_gives_the_eager_gradients_and_accumulates_like_backward():
    rng = np.random.default_rng(0)
    w = Tensor(rng.standard_normal((4, 3)), requires_grad=True)

    def loss_fn(x, t):
        return F.cross_entropy(F.linear(x, w).tanh(), t)

    step = tg.capture(loss_fn)
    for _ in range(4):
        x, t = rng.standard_normal((5, 3)), rng.integers(0, 4, 5)
        w.grad = None
        loss_fn(x, t).backward()
        eager = w.grad
        w.grad = np.ones_like(eager)  # a replay adds to .grad, as backward() does
        replayed = step(x, t)
        np.testing.assert_array_equal(w.grad, eager + 1)
        assert replayed.item() == loss_fn(x, t).item()
        assert not replayed.requires_grad


def test_tensor_inputs_may_require_grad_and_get_their_gradient():
    w = Tensor(np.arange(3.0), requires_grad=True)
    step = tg.capture(lambda x: (x * w).sum())
    for value in (1.0, 2.0, 3.0):
        x = Tensor(np.full(3, value), requires_grad=True)
        step(x)
        np.testing.assert_array_equal(x.grad, w.data)


def test_an_array_derived_from_an_input_outside_tensor_ops_is_refused():
    w = Tensor(np.ones(3), requires_grad=True)
    step = tg.capture(lambda x: (w * x[:3]).sum())  # x[:3] of the array, not of a tensor
    with pytest.raises(CaptureError, match="computed from an input"):
        step(np.arange(4.0))


def test_a_graph_that_depends_on_the_inputs_values_is_refused():
    w = Tensor(np.ones(3), requires_grad=True)

    def loss_fn(x):
        return (w * x).sum() if x[0] > 0 else (w * x).exp().sum()

    step = tg.capture(loss_fn)
    step(np.ones(3))
    with pytest.raises(CaptureError, match="depends on their values"):
        step(-np.ones(3))


def test_a_constant_computed_from_the_inputs_values_is_refused():
    w = Tensor(np.ones(3), requires_grad=True)
    step = tg.capture(lambda x: (w * np.exp(x)).sum())  # np.exp(x): a new array, not a view
    step(np.zeros(3))
    with pytest.raises(CaptureError, match="different constants"):
        step(np.ones(3))


def test_in_place_ops_are_refused_while_recording():
    w = Tensor(np.ones(3), requires_grad=True)

    def loss_fn(x):
        y = Tensor(x)
        y += 1
        return (w * y).sum()

    with pytest.raises(RuntimeError, match="in-place"):
        tg.capture(loss_fn)(np.ones(3))


def test_a_captured_step_needs_grad_mode_and_a_scalar_loss():
    w = Tensor(np.ones(3), requires_grad=True)
    with tg.no_grad(), pytest.raises(RuntimeError, match="grad enabled"):
        tg.capture(lambda x: (w * x).sum())(np.ones(3))
    with pytest.raises(CaptureError, match="one-element"):
        tg.capture(lambda x: w * x)(np.ones(3))


def test_source_gives_the_python_of_a_recorded_signature_only():
    w = Tensor(np.ones((3, 2)), requires_grad=True)
    step = tg.capture(lambda x, t: F.cross_entropy(F.linear(x, w).tanh(), t))
    x, t = np.ones((4, 2)), np.array([0, 1, 2, 0])
    with pytest.raises(LookupError):
        step.source(x, t)
    for _ in range(2):
        step(x, t)
    source = step.source(x, t)
    compile(source, "<replay>", "exec")  # Python, as printed
    assert step.source(np.zeros((4, 2)), t + 1) == source  # any values of those shapes
    with pytest.raises(LookupError):
        step.source(np.ones((5, 2)), np.zeros(5, int))  # a shape recorded once, or never


def test_a_step_called_from_several_threads_gives_every_call_its_own_loss():
    import sys
    import threading

    params, config = small_model()
    docs = documents(2, seed=3)
    docs = [docs[0], docs[0][:1] + docs[0][1:][::-1]]  # one length, different tokens
    answers = [gpt_tensor.document_loss(params, config, doc).item() for doc in docs]
    assert answers[0] != answers[1]
    step = gpt_tensor.training_step(params, config)  # the threads record it, then replay
    calls, start = 300, threading.Barrier(len(docs))
    wrong = [0] * len(docs)

    def worker(k):
        start.wait()
        for _ in range(calls):
            wrong[k] += step([docs[k]]).item() != answers[k]

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads often: between the replay's lines
    try:
        threads = [threading.Thread(target=worker, args=(k,)) for k in range(len(docs))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert wrong == [0] * len(docs)


@pytest.mark.parametrize("shape", [(), (1,)])
def test_a_step_whose_loss_is_a_leaf_runs_as_backward_does_every_time(shape):
    """No op to record: each call is the eager one (its gradient, 1, added each time)."""
    w = Tensor(np.full(shape, 2.0), requires_grad=True)
    step = tg.capture(lambda x: w)
    for calls in range(1, 5):
        assert step(np.ones(2)).item() == 2.0
        np.testing.assert_array_equal(w.grad, np.full(shape, float(calls)))


def test_a_replay_passes_a_0d_result_on_as_an_array_as_eager_does():
    """NumPy adds two 0-d arrays into a scalar, which a later op would take for a Python
    number (float64 + float32 gives float32 then); an op's result is an array, replayed too."""
    w = Tensor(np.random.default_rng(0).standard_normal((3, 2)), requires_grad=True)

    def loss_fn(x):
        return (x @ w).sum() + (x @ w).sum() + w.sum().float()

    step = tg.capture(loss_fn)
    x = np.random.default_rng(1).standard_normal((4, 3))
    eager = loss_fn(Tensor(x))
    for _ in range(4):  # two recordings, then replays
        loss = step(x)
        assert type(loss.detach().numpy()) is np.ndarray and loss.dtype == eager.dtype == np.float64
        assert loss.detach().numpy().tobytes() == eager.detach().numpy().tobytes()
