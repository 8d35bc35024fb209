"""tensorgrad.threads: parts of work at once on several threads, and what uses them (Adam's
chunks, microgpt's batched step) gives the same bits as the same work on one thread."""

from __future__ import annotations

import multiprocessing
import os
import threading
import time

import numpy as np
import pytest

import tensorgrad as tg
from microgpt import gpt_tensor
from microgpt.model import GPTConfig, init_state_dict
from tensorgrad.threads import run_parts


@pytest.fixture
def threads():
    """Sets the thread count for one test, then gives the default back."""
    before = tg.get_num_threads()
    yield tg.set_num_threads
    tg.set_num_threads(before)


def test_parts_run_at_once_and_their_results_come_in_order(threads):
    threads(2)
    arrived = threading.Barrier(2, timeout=10)  # each part waits for the other: both run

    def part(i):
        arrived.wait()
        return i, threading.get_ident()

    (first, here), (second, there) = run_parts([lambda: part(0), lambda: part(1)])
    assert (first, second) == (0, 1)
    assert here != there and threading.get_ident() in (here, there)


def test_one_thread_runs_the_parts_in_turn_on_the_caller(threads):
    threads(1)
    order = []
    results = run_parts([lambda: order.append((0, threading.get_ident())) or "a",
                         lambda: order.append((1, threading.get_ident())) or "b"])
    assert results == ["a", "b"]
    assert order == [(0, threading.get_ident()), (1, threading.get_ident())]


def test_more_parts_than_threads_all_run(threads):
    threads(2)
    assert run_parts([lambda i=i: i * i for i in range(7)]) == [i * i for i in range(7)]


def test_a_thread_held_up_by_a_part_leaves_the_next_parts_to_the_others(threads):
    """Part 1 waits for part 2: on two threads, whichever takes part 1, the other takes 2."""
    threads(2)
    second_done = threading.Event()

    def waits():
        assert second_done.wait(timeout=10), "part 2 never ran: it queued behind part 1"
        return threading.get_ident()

    def second():
        second_done.set()
        return threading.get_ident()

    _, waited_on, ran_on = run_parts([threading.get_ident, waits, second])
    assert waited_on != ran_on


def test_what_a_part_sets_in_its_context_stays_in_the_part(threads):
    threads(2)

    def sets():
        before = np.geterr()["over"]
        np.seterr(over="raise")
        return before

    with np.errstate(over="warn"):
        assert run_parts([sets] * 6) == ["warn"] * 6
        assert np.geterr()["over"] == "warn"


def test_an_error_is_raised_once_every_part_has_ended(threads):
    threads(2)
    ended = threading.Event()

    def slow():
        time.sleep(0.2)
        ended.set()

    def fails():
        raise ValueError("first")

    with pytest.raises(ValueError, match="first"):
        run_parts([fails, slow])
    assert ended.is_set()
    with pytest.raises(KeyError):  # a worker's error reaches the caller too
        run_parts([lambda: None, lambda: {}["missing"]])


def test_parts_inside_a_part_run_in_turn_without_waiting_for_a_thread(threads):
    threads(2)

    def nested():
        return run_parts([threading.get_ident, threading.get_ident])

    outer = run_parts([nested, nested])
    for idents in outer:
        assert idents[0] == idents[1]  # on the part's own thread, no deadlock


def test_each_part_runs_in_the_callers_grad_mode(threads):
    threads(2)
    with tg.no_grad():
        assert run_parts([tg.is_grad_enabled, tg.is_grad_enabled]) == [False, False]
    assert run_parts([tg.is_grad_enabled, tg.is_grad_enabled]) == [True, True]


def test_each_part_runs_in_the_callers_numpy_errstate(threads):
    threads(2)
    with np.errstate(over="raise", divide="ignore"):
        states = run_parts([np.geterr, np.geterr])
    assert [(e["over"], e["divide"]) for e in states] == [("raise", "ignore")] * 2


def test_blas_is_held_to_one_thread_inside_the_parts_and_given_back(threads):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    controller = threadpoolctl.ThreadpoolController()
    blas = controller.select(user_api="blas")
    if not blas.lib_controllers:
        pytest.skip("no BLAS library found by threadpoolctl")
    with controller.limit(limits=2, user_api="blas"):
        threads(2)
        inside = run_parts([lambda: [c.num_threads for c in blas.lib_controllers]] * 2)
        assert inside == [[1] * len(blas.lib_controllers)] * 2
        after = [c.num_threads for c in threadpoolctl.ThreadpoolController().select(
            user_api="blas").lib_controllers]
        assert after == [2] * len(after)


@pytest.mark.parametrize("bad, message", [(0, "a positive integer"), (-2, "a positive integer"),
                                          (1.5, "an int, but got float"),
                                          (True, "an int, but got bool"),
                                          ("2", "an int, but got str")])
def test_set_num_threads_refuses_what_is_not_a_positive_int_as_pytorch_does(threads, bad,
                                                                            message):
    before = tg.get_num_threads()
    with pytest.raises(RuntimeError, match=f"set_num_threads expects {message}"):
        tg.set_num_threads(bad)
    assert tg.get_num_threads() == before


def test_the_default_is_the_cores_this_process_may_use(threads):
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert tg.get_num_threads() == cores
    threads(3)
    assert tg.get_num_threads() == 3


def _parts_in_a_child(queue):
    queue.put(run_parts([lambda: 1, lambda: 2]))


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="no fork")
def test_a_forked_child_gets_threads_of_its_own(threads):
    threads(2)
    run_parts([lambda: None, lambda: None])  # the parent's worker thread exists
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_parts_in_a_child, args=(queue,))
    child.start()
    child.join(30)
    assert child.exitcode == 0
    assert queue.get(timeout=5) == [1, 2]


# ---- Adam's chunks ------------------------------------------------------------------------------


def _layouts(shape: tuple[int, int], dtype: str, rng: np.random.Generator) -> list[np.ndarray]:
    """A gradient of ``shape`` in C order, Fortran order, transposed and sliced."""
    base = rng.standard_normal(shape).astype(dtype)
    wide = rng.standard_normal((shape[0], shape[1] * 2)).astype(dtype)
    return [base, np.asfortranarray(base), np.ascontiguousarray(base.T).T, wide[:, ::2]]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_adam_on_two_threads_updates_to_the_same_bits_as_on_one(threads, dtype):
    rng = np.random.default_rng(0)
    shapes = [(700, 512), (513, 600), (3, 5), (1000, 301)]  # about a million values
    start = [rng.standard_normal(s).astype(dtype) for s in shapes]
    grads = [[g for s in shapes for g in _layouts(s, dtype, rng)[k:k + 1]] for k in range(4)]
    grads[2][1][0, :3] = [np.nan, np.inf, -np.inf]  # they spread as they do on one thread
    results = []
    for count in (1, 2):
        threads(count)
        params = [tg.Tensor(w, requires_grad=True) for w in start]
        optimizer = tg.optim.Adam(params, lr=0.01)
        for step_grads in grads:
            for p, g in zip(params, step_grads):
                p.grad = g
            with np.errstate(invalid="ignore"):  # inf - inf
                optimizer.step()
        results.append([p.detach().numpy().copy() for p in params])
    for one, two in zip(*results):
        np.testing.assert_array_equal(one, two)
    assert np.isnan(results[1][1]).any()


# ---- causal attention's blocks of documents ----------------------------------------------------


@pytest.fixture
def parts_seen(monkeypatch):
    """Causal attention's tiles shared out from any size; the counts of parts it ran."""
    import tensorgrad.functional as functional
    import tensorgrad.threads as threads_module

    monkeypatch.setattr(functional, "_BLOCK_BYTES", 0)
    monkeypatch.setattr(functional, "_CAUSAL_PART_BYTES", 1)
    monkeypatch.setattr(functional, "_TILE", 8)
    seen = []

    def counted(parts):
        seen.append(len(parts))
        return run_parts(parts)

    monkeypatch.setattr(threads_module, "run_parts", counted)
    return seen


def _multi_head(packed, grad):
    qkv = tg.Tensor(packed, requires_grad=True)
    out = tg.functional.multi_head_attention(qkv, 4, is_causal=True)
    out.backward(tg.Tensor(grad))
    return out.data, qkv.grad


def _scaled_dot_product(packed, grad):
    """The same numbers as (documents, heads, L, head_dim) queries, keys and values."""
    documents, length = packed.shape[:2]
    q, k, v = (tg.Tensor(np.ascontiguousarray(part.reshape(documents, length, 4, -1)
                                               .swapaxes(1, 2)), requires_grad=True)
               for part in np.split(packed, 3, axis=-1))
    out = tg.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
    out.backward(tg.Tensor(grad.reshape(documents, length, 4, -1).swapaxes(1, 2)))
    return out.data, np.concatenate([t.grad for t in (q, k, v)])


@pytest.mark.parametrize("attention", [_multi_head, _scaled_dot_product])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("documents", [2, 5])
def test_causal_attention_on_two_threads_is_the_same_bits_as_on_one(threads, parts_seen,
                                                                   attention, dtype, documents):
    """Causal tiles in blocks of documents shared between threads; a NaN in one document
    stays in it."""
    rng = np.random.default_rng(1)
    packed = rng.standard_normal((documents, 40, 3 * 4 * 16)).astype(dtype)
    packed[-1, 30, 5] = np.nan
    grad = rng.standard_normal((documents, 40, 4 * 16)).astype(dtype)
    found = []
    for count in (1, 2):
        threads(count)
        found.append(attention(packed, grad))
    assert max(parts_seen) == 2  # two threads did share the blocks
    (one_out, one_grad), (two_out, two_grad) = found
    np.testing.assert_array_equal(one_out, two_out)
    np.testing.assert_array_equal(one_grad, two_grad)
    assert np.isnan(two_out[-1]).any() and not np.isnan(two_out[:-1]).any()


# ---- microgpt's batched step --------------------------------------------------------------------


def model(dtype: str) -> tuple[dict[str, tg.Tensor], GPTConfig]:
    """A model whose batches of 64 are worth two threads (64 x 16 positions x n_embd 64)."""
    import random

    config = GPTConfig(vocab_size=9, n_embd=64, n_head=4, n_layer=1, block_size=16)
    state = init_state_dict(config, random.Random(0))
    return gpt_tensor.from_state_dict({k: v.astype(dtype) for k, v in state.items()}), config


def batches(count: int, size: int = 64) -> list[list[list[int]]]:
    rng = np.random.default_rng(3)
    return [[[8, *rng.integers(0, 8, size=rng.integers(1, 20)).tolist(), 8]
             for _ in range(size)] for _ in range(count)]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_step_on_two_threads_adds_the_gradients_of_its_halves(threads, dtype):
    """Against eager tensorgrad: each half's loss backpropagated alone, the two gradients
    added; with Adam between steps, so that the parts follow the parameters' new arrays."""
    threads(2)
    runs = []
    for split in (True, False):
        params, config = model(dtype)
        step = gpt_tensor.training_step(params, config)
        optimizer = tg.optim.Adam(list(params.values()), lr=0.01)
        losses = []
        for batch in batches(5):
            if split:
                losses.append(step(batch).item())
            else:
                inputs, targets, weights = gpt_tensor._batch_arrays(params, config, batch)
                halves = []
                for part in (slice(0, 32), slice(32, None)):
                    loss = gpt_tensor.weighted_loss(params, config, inputs[part],
                                                    targets[part], weights[part])
                    loss.backward()
                    halves.append((loss, {name: p.grad for name, p in params.items()}))
                    optimizer.zero_grad()
                (first, grads), (second, more) = halves
                for name, p in params.items():
                    p.grad = grads[name] + more[name]
                losses.append((first + second).item())
            optimizer.step()
            optimizer.zero_grad()
        runs.append((losses, {name: p.detach().numpy().copy() for name, p in params.items()}))
    (split_losses, split_weights), (eager_losses, eager_weights) = runs
    assert split_losses == eager_losses
    for name in split_weights:
        np.testing.assert_array_equal(split_weights[name], eager_weights[name])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_step_on_two_threads_agrees_with_one_to_rounding(threads, dtype):
    found = []
    for count in (1, 2):
        threads(count)
        params, config = model(dtype)
        loss = gpt_tensor.training_step(params, config)(batches(1)[0])
        found.append((loss.item(), {name: p.grad for name, p in params.items()}))
    (one_loss, one_grads), (two_loss, two_grads) = found
    tolerance = 1e-5 if dtype == "float32" else 1e-12
    assert two_loss == pytest.approx(one_loss, rel=tolerance)
    for name in one_grads:
        np.testing.assert_allclose(two_grads[name], one_grads[name], rtol=tolerance * 100,
                                   atol=tolerance * np.abs(one_grads[name]).max())
    # and the batch was cut: its halves' sums round differently from the whole batch's
    assert any((two_grads[name] != one_grads[name]).any() for name in one_grads)


def test_a_frozen_parameter_gets_no_gradient_from_either_part(threads):
    threads(2)
    params, config = model("float64")
    step = gpt_tensor.training_step(params, config)
    params["wpe"].requires_grad = False
    for batch in batches(3):
        step(batch)
    assert params["wpe"].grad is None
    assert params["wte"].grad is not None


def test_gradients_already_there_are_added_to(threads):
    threads(2)
    params, config = model("float64")
    step = gpt_tensor.training_step(params, config)
    batch = batches(1)[0]
    step(batch)
    once = {name: p.grad.numpy().copy() for name, p in params.items()}
    step(batch)
    for name, p in params.items():
        np.testing.assert_allclose(p.grad, 2 * once[name], rtol=1e-12, atol=1e-15)


def test_a_step_that_fails_in_one_part_leaves_nothing_for_the_next(threads):
    """The first half names a token the model does not have: that part raises, the other
    computes its gradients; the next step's gradients are its own only."""
    threads(2)
    params, config = model("float64")
    step = gpt_tensor.training_step(params, config)
    good = batches(1)[0]
    bad = [[8, 99, 8], *good[1:]]
    with pytest.raises(IndexError):
        step(bad)
    for p in params.values():
        p.grad = None
    step(good)
    fresh, _ = model("float64")
    gpt_tensor.training_step(fresh, config)(good)
    for name, p in params.items():
        np.testing.assert_array_equal(p.grad, fresh[name].grad)
