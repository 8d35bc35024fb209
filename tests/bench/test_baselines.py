"""Tests of the benchmark baselines: benchmarks.numpy_gpt (hand-written backward) and
benchmarks.torch_gpt (eager PyTorch).

numpy_gpt is held against central finite differences, against itself (a padded batch equals
the average of its documents) and against gpt_tensor; torch_gpt is held against numpy_gpt to
~1e-10.
"""

from __future__ import annotations

import importlib
import random
import sys

import numpy as np
import pytest

from benchmarks import numpy_gpt
from benchmarks.numpy_gpt import Adam, init_state, loss_and_grads
from microgpt import gpt_tensor
from microgpt.model import GPTConfig, init_state_dict, pad_batch

VOCAB, N_EMBD, BLOCK = 11, 8, 6


def make_state(n_layer: int, std: float = 0.08, seed: int = 0) -> dict[str, np.ndarray]:
    return init_state(VOCAB, N_EMBD, BLOCK, n_layer, np.random.default_rng(seed), std=std)


def make_doc(n: int, seed: int) -> np.ndarray:
    """n + 1 tokens: inputs tokens[:-1], targets tokens[1:]."""
    return np.random.default_rng(seed).integers(0, VOCAB, n + 1)


def assert_close(actual: np.ndarray, expected: np.ndarray, rtol: float) -> None:
    """Elementwise rtol, with an atol scaled to the tensor (floored at 1e-14 for gradients that
    are exactly zero in one engine and rounding noise in the other)."""
    atol = max(rtol * float(np.abs(expected).max()), 1e-14)
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol)


# ---------------------------------------------------------------- finite differences

FD_CASES = [
    (n_layer, n_head, n, 0.08)
    for n_layer in (1, 2)
    for n_head in (1, 2, 4)
    for n in (1, BLOCK - 1, BLOCK)
] + [(1, 2, BLOCK, 0.5), (2, 4, BLOCK - 1, 1.0), (2, 1, 1, 1.0)]


@pytest.mark.parametrize(("n_layer", "n_head", "n", "std"), FD_CASES)
def test_numpy_gradients_match_finite_differences(n_layer, n_head, n, std):
    state = make_state(n_layer, std, seed=n_layer * 100 + n_head * 10 + n)
    doc = make_doc(n, seed=n)
    inputs, targets = doc[:-1], doc[1:]
    loss, grads = loss_and_grads(state, inputs, targets, None, n_head)
    assert np.isfinite(loss)
    assert list(grads) == list(state)

    rng = np.random.default_rng(7)
    eps = 1e-5
    for key, param in state.items():
        assert grads[key].shape == param.shape
        # Rows an embedding table does not use have exactly zero gradient; probe the used ones.
        if key == "wte":
            used = np.unique(inputs)
            assert not grads[key][np.setdiff1d(np.arange(VOCAB), used)].any()
            rows = rng.choice(used, 6)
        elif key == "wpe":
            assert not grads[key][n:].any()
            rows = rng.integers(0, n, 6)
        else:
            rows = rng.integers(0, param.shape[0], 6)
        cols = rng.integers(0, param.shape[1], 6)
        for r, c in zip(rows, cols):
            old = param[r, c]
            param[r, c] = old + eps
            plus = loss_and_grads(state, inputs, targets, None, n_head)[0]
            param[r, c] = old - eps
            minus = loss_and_grads(state, inputs, targets, None, n_head)[0]
            param[r, c] = old
            fd = (plus - minus) / (2 * eps)
            assert abs(grads[key][r, c] - fd) <= 1e-6 * abs(fd) + 1e-8, (key, r, c)


# ---------------------------------------------------------------- batching and padding

def padded_batch(docs, pad_input: int = 0, pad_target: int = 0):
    n_max = max(len(d) - 1 for d in docs)
    inputs = np.full((len(docs), n_max), pad_input)
    targets = np.full((len(docs), n_max), pad_target)
    mask = np.zeros((len(docs), n_max), dtype=bool)
    for i, d in enumerate(docs):
        inputs[i, : len(d) - 1], targets[i, : len(d) - 1], mask[i, : len(d) - 1] = d[:-1], d[1:], 1
    return inputs, targets, mask


BATCH_DOCS = [[BLOCK, 1, BLOCK - 2], [3, BLOCK - 1], [1, 1]]


@pytest.mark.parametrize("lengths", BATCH_DOCS)
@pytest.mark.parametrize(("n_layer", "n_head"), [(1, 4), (2, 2)])
def test_batch_equals_average_of_documents(lengths, n_layer, n_head):
    state = make_state(n_layer, seed=3)
    docs = [make_doc(n, seed=20 + i) for i, n in enumerate(lengths)]
    inputs, targets, mask = padded_batch(docs)
    loss, grads = loss_and_grads(state, inputs, targets, mask, n_head)

    singles = [loss_and_grads(state, d[:-1], d[1:], None, n_head) for d in docs]
    assert loss == pytest.approx(np.mean([s[0] for s in singles]), rel=1e-12)
    for key in state:
        assert_close(grads[key], np.mean([s[1][key] for s in singles], axis=0), 1e-12)


@pytest.mark.parametrize(("n_layer", "n_head"), [(1, 1), (2, 4)])
def test_padding_content_changes_nothing(n_layer, n_head):
    state = make_state(n_layer, std=1.0, seed=4)  # large weights: sharp, extreme activations
    docs = [make_doc(n, seed=30 + n) for n in (1, BLOCK, 2)]
    reference = loss_and_grads(state, *padded_batch(docs, 0, 0), n_head)
    for pad_input, pad_target in [(VOCAB - 1, VOCAB - 1), (5, 0), (0, VOCAB - 1)]:
        loss, grads = loss_and_grads(state, *padded_batch(docs, pad_input, pad_target), n_head)
        assert loss == reference[0]
        for key in state:
            np.testing.assert_array_equal(grads[key], reference[1][key])


def test_mask_none_and_one_dimensional_inputs():
    state = make_state(2, seed=5)
    doc = make_doc(BLOCK, seed=6)
    loss_1d, grads_1d = loss_and_grads(state, doc[:-1], doc[1:], None, 2)
    loss_2d, grads_2d = loss_and_grads(state, doc[None, :-1], doc[None, 1:], np.ones((1, BLOCK)), 2)
    assert loss_1d == pytest.approx(loss_2d, rel=1e-15)
    for key in state:
        assert_close(grads_1d[key], grads_2d[key], 1e-14)


def test_embedding_scatter_paths_agree(monkeypatch):
    """The one-hot and the sort + reduceat scatters of the wte gradient give the same result."""
    state = make_state(1, seed=10)
    docs = [make_doc(n, seed=60 + n) for n in (BLOCK, 4)]
    batch = padded_batch(docs)
    _, one_hot = loss_and_grads(state, *batch, 2)
    monkeypatch.setattr(numpy_gpt, "_ONE_HOT_MAX", 0)
    _, sorted_scatter = loss_and_grads(state, *batch, 2)
    assert_close(sorted_scatter["wte"], one_hot["wte"], 1e-14)


def test_bad_arguments_are_rejected():
    state = make_state(1)
    too_long = np.zeros(BLOCK + 1, dtype=int)
    with pytest.raises(ValueError, match="block_size"):
        loss_and_grads(state, too_long, too_long, None, 2)
    with pytest.raises(ValueError, match="divisible"):
        loss_and_grads(state, too_long[:3], too_long[:3], None, 3)
    with pytest.raises(ValueError, match="unmasked"):
        loss_and_grads(state, np.zeros((2, 3), int), np.zeros((2, 3), int),
                       np.array([[1, 1, 0], [0, 0, 0]]), 2)


# ---------------------------------------------------------------- Adam

def test_adam_matches_textbook_update():
    state = make_state(1, seed=8)
    reference = {k: v.copy() for k, v in state.items()}
    moments = {k: (np.zeros_like(v), np.zeros_like(v)) for k, v in state.items()}
    adam = Adam(state, lr=0.01)
    for key in state:  # re-homed into the flat buffer, values untouched
        np.testing.assert_array_equal(state[key], reference[key])
        assert np.shares_memory(state[key], adam.flat)

    b1, b2, eps = 0.85, 0.99, 1e-8
    doc = make_doc(BLOCK, seed=9)
    for t in range(1, 4):
        lr = 0.01 * (1 - t / 10)
        _, grads = loss_and_grads(state, doc[:-1], doc[1:], None, 2)
        adam.step(grads, lr=lr)
        for key, g in grads.items():
            m, v = moments[key]
            m[...] = b1 * m + (1 - b1) * g
            v[...] = b2 * v + (1 - b2) * g**2
            mhat, vhat = m / (1 - b1**t), v / (1 - b2**t)
            reference[key] -= lr * mhat / (vhat**0.5 + eps)
            np.testing.assert_allclose(state[key], reference[key], rtol=0, atol=1e-15)


# ---------------------------------------------------------------- torch baseline

@pytest.fixture(scope="module")
def torch_gpt():
    pytest.importorskip("torch")
    return importlib.import_module("benchmarks.torch_gpt")


TORCH_CASES = [(1, 1, 1), (1, 4, BLOCK), (2, 2, BLOCK - 1), (2, 4, BLOCK)]


@pytest.mark.parametrize(("n_layer", "n_head", "n"), TORCH_CASES)
def test_torch_matches_numpy_single_document(torch_gpt, n_layer, n_head, n):
    state = make_state(n_layer, std=0.5, seed=n_layer + n_head + n)
    doc = make_doc(n, seed=11)
    loss, grads = loss_and_grads(state, doc[:-1], doc[1:], None, n_head)
    model = torch_gpt.from_state_dict(state, n_head)
    loss_t = torch_gpt.loss(model, doc[:-1], doc[1:])
    loss_t.backward()
    assert loss_t.item() == pytest.approx(loss, rel=1e-10)
    grads_t = torch_gpt.grads_numpy(model)
    assert list(grads_t) == list(state)
    for key in state:
        assert_close(grads_t[key], grads[key], 1e-10)


@pytest.mark.parametrize(("n_layer", "n_head"), [(1, 2), (2, 4)])
def test_torch_matches_numpy_batch(torch_gpt, n_layer, n_head):
    state = make_state(n_layer, seed=12)
    docs = [make_doc(n, seed=40 + n) for n in (BLOCK, 1, 3)]
    inputs, targets, mask = padded_batch(docs, VOCAB - 1, 2)
    loss, grads = loss_and_grads(state, inputs, targets, mask, n_head)
    model = torch_gpt.from_state_dict(state, n_head)
    loss_t = torch_gpt.loss(model, inputs, targets, mask)
    loss_t.backward()
    assert loss_t.item() == pytest.approx(loss, rel=1e-10)
    grads_t = torch_gpt.grads_numpy(model)
    for key in state:
        assert_close(grads_t[key], grads[key], 1e-10)


@pytest.mark.parametrize("options", [{}, {"fused": True}])
def test_torch_adam_step_matches_numpy(torch_gpt, options):
    state = make_state(2, seed=13)
    docs = [make_doc(n, seed=50 + n) for n in (BLOCK, 2)]
    inputs, targets, mask = padded_batch(docs)
    model = torch_gpt.from_state_dict(state, 2)
    optimizer = torch_gpt.make_optimizer(model, lr=0.01, **options)
    adam = Adam(state, lr=0.01)
    for _ in range(2):  # the second step exercises the bias correction at t = 2
        loss_t = torch_gpt.train_step(model, optimizer, inputs, targets, mask)
        loss, grads = loss_and_grads(state, inputs, targets, mask, 2)
        adam.step(grads)
        assert loss_t == pytest.approx(loss, rel=1e-10)
        new_t = torch_gpt.state_numpy(model)
        for key in state:
            np.testing.assert_allclose(new_t[key], state[key], rtol=0, atol=1e-12)


def test_torch_module_import_fails_cleanly_without_torch(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # makes `import torch` raise ImportError
    monkeypatch.delitem(sys.modules, "benchmarks.torch_gpt", raising=False)
    with pytest.raises(ImportError, match="needs PyTorch"):
        importlib.import_module("benchmarks.torch_gpt")


# ---------------------------------------------------------------- against gpt_tensor

CONFIG = GPTConfig(vocab_size=27, n_embd=16, n_head=4, n_layer=2, block_size=8)


def _tensor_loss_and_grads(loss_fn, *args) -> tuple[float, dict[str, np.ndarray]]:
    params = gpt_tensor.from_state_dict(init_state_dict(CONFIG, random.Random(3)))
    loss = loss_fn(params, CONFIG, *args)
    loss.backward()
    return float(loss.data), gpt_tensor.grads(params)


def _assert_same(numpy_result, tensor_result) -> None:
    (loss_n, grads_n), (loss_t, grads_t) = numpy_result, tensor_result
    assert abs(loss_n - loss_t) <= 1e-10
    assert list(grads_n) == list(grads_t)
    for name in grads_t:
        np.testing.assert_allclose(grads_n[name], grads_t[name], rtol=0, atol=1e-10,
                                   err_msg=name)


def test_numpy_gpt_matches_gpt_tensor_on_one_document():
    tokens = [26, 4, 12, 12, 0, 25, 3, 26]  # 7 positions, block 8
    expected = _tensor_loss_and_grads(gpt_tensor.document_loss, tokens)
    state = init_state_dict(CONFIG, random.Random(3))
    ids = np.array(tokens)
    _assert_same(numpy_gpt.loss_and_grads(state, ids[:-1], ids[1:], None, CONFIG.n_head),
                 expected)


def test_numpy_gpt_matches_gpt_tensor_on_a_padded_batch():
    rng = random.Random(5)
    batch = [[26, *rng.choices(range(26), k=length), 26] for length in (2, 11, 5, 0)]
    expected = _tensor_loss_and_grads(gpt_tensor.batch_loss, batch)
    # Padded by hand, the way batch_loss documents it: n = 8 (block), each row's real tokens
    # first, padding 0 after them, mask 1 on the real positions.
    lengths = [min(8, len(tokens) - 1) for tokens in batch]
    ids = np.zeros((4, 9), dtype=np.int64)
    mask = np.zeros((4, 8))
    for row, (tokens, n) in enumerate(zip(batch, lengths)):
        ids[row, : n + 1] = tokens[: n + 1]
        mask[row, :n] = 1
    state = init_state_dict(CONFIG, random.Random(3))
    _assert_same(numpy_gpt.loss_and_grads(state, ids[:, :-1], ids[:, 1:], mask, CONFIG.n_head),
                 expected)


def test_pad_batch_pads_after_each_document():
    inputs, targets, mask = pad_batch([[9, 1, 2, 9], [9, 3, 9], [9, 1, 2, 3, 4, 5, 9]], 4)
    assert inputs.tolist() == [[9, 1, 2, 9], [9, 3, 9, 0], [9, 1, 2, 3]]
    assert targets.tolist() == [[1, 2, 9, 0], [3, 9, 0, 0], [1, 2, 3, 4]]
    assert mask.tolist() == [[1, 1, 1, 0], [1, 1, 0, 0], [1, 1, 1, 1]]


def test_the_numpy_run_prints_what_microgpt_train_prints(capsys):
    """The whole-run baseline trains and samples the same model from the same stream: its
    lines are microgpt's (all but the timing line), so timing one against the other is fair."""
    from benchmarks import numpy_run
    from microgpt import cli

    assert numpy_run.main() == 0
    baseline = capsys.readouterr().out.splitlines()
    assert cli.main(["train"]) == 0
    ours = capsys.readouterr().out.splitlines()
    assert ours[-1].startswith("trained 1000 steps in ")
    assert baseline == ours[:-1]
