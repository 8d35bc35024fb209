"""The two GPTs against each other: ``gpt_tensor`` must compute exactly what ``gpt_scalar`` does.

``gpt_scalar`` is a line-by-line port of microgpt.py on the scalar ``Value`` engine, so it
is the reference: the tensor model must give the same loss, the same gradient for every
parameter, the same training trajectory and the same samples. Also checked here: the
initial weights come from microgpt.py's random stream, and the parameter count.
"""

from __future__ import annotations

import random

import numpy as np
import pytest

from microgpt import gpt_scalar, gpt_tensor
from microgpt.data import Tokenizer
from microgpt.model import GPTConfig, init_state_dict, num_params, parameter_shapes
from microgpt.train import Hyperparameters, document_tokens, setup, train

TOL = 1e-10  # scalar vs tensor: the same math in a different order
BATCH_TOL = 1e-12  # tensor vs tensor
TOKENIZER = Tokenizer("abcdefghijklmnopqrstuvwxyz")  # vocab 27, like the names dataset
NAMES = ["emma", "olivia", "ava", "isabella", "sophia", "charlotte", "mia", "amelia",
         "harper", "evelyn", "abigail", "emily", "elizabeth", "mila", "ella", "avery",
         "sofia", "camila", "aria", "scarlett", "victoria", "madison", "luna", "grace",
         "chloe", "penelope", "layla", "riley", "zoey", "nora", "lily", "eleanor"]

# The default model (block shortened: the scalar engine is slow), more layers, other heads.
BASE = GPTConfig(vocab_size=27, n_embd=16, n_head=4, n_layer=1, block_size=8)
CONFIGS = {
    "2 layers, 2 heads": GPTConfig(vocab_size=27, n_embd=8, n_head=2, n_layer=2, block_size=6),
    "1 head": GPTConfig(vocab_size=27, n_embd=8, n_head=1, block_size=5),
    "8 heads": GPTConfig(vocab_size=27, n_embd=16, n_head=8, block_size=5),
}


def text(length: int, seed: int = 0) -> str:
    """``length`` characters that include both ends of the alphabet (ids 0 and 25)."""
    rng = random.Random(seed)
    body = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(length))
    return ("az" + body)[:length]


def weights(config: GPTConfig, seed: int = 0) -> dict[str, np.ndarray]:
    # Five times the init scale, so attention is far from uniform and mistakes in it show.
    return {k: 5 * w for k, w in init_state_dict(config, random.Random(seed)).items()}


def loss_and_grads(engine, state, config, tokens) -> tuple[float, dict[str, np.ndarray]]:
    params = engine.from_state_dict(state)
    loss = engine.document_loss(params, config, tokens)
    loss.backward()
    return float(loss.data), engine.grads(params)


def assert_same_grads(actual: dict, expected: dict, tol: float) -> None:
    assert actual.keys() == expected.keys()
    for name in expected:
        np.testing.assert_allclose(actual[name], expected[name], rtol=0, atol=tol, err_msg=name)


# ---- one document: loss and every gradient ------------------------------------------------------


def assert_models_agree(config: GPTConfig, n_chars: int) -> None:
    tokens = document_tokens(TOKENIZER, text(n_chars))
    state = weights(config)
    scalar_loss, scalar_grads = loss_and_grads(gpt_scalar, state, config, tokens)
    tensor_loss, tensor_grads = loss_and_grads(gpt_tensor, state, config, tokens)
    assert abs(tensor_loss - scalar_loss) <= TOL
    assert_same_grads(tensor_grads, scalar_grads, TOL)
    # Documents longer than the block are cut: positions past it must get no gradient.
    used = min(n_chars + 1, config.block_size)
    assert np.all(scalar_grads["wpe"][used:] == 0)
    assert np.all(np.any(scalar_grads["wpe"][:used] != 0, axis=1))


# A document's length in characters, given the block size.
LENGTHS = {
    "1 char": lambda block_size: 1,
    "block_size - 1": lambda block_size: block_size - 1,  # its tokens fill the block exactly
    "block_size + 5": lambda block_size: block_size + 5,  # cut at the block
}


@pytest.mark.parametrize("length", LENGTHS.values(), ids=LENGTHS.keys())
def test_tensor_model_matches_scalar_model(length):
    assert_models_agree(BASE, length(BASE.block_size))


@pytest.mark.parametrize("config", CONFIGS.values(), ids=CONFIGS.keys())
def test_tensor_model_matches_scalar_model_in_other_shapes(config):
    assert_models_agree(config, config.block_size + 2)


def test_training_steps_match():
    run = setup(["ava", "mia", "zoe", "eva", "liz", "amy"], seed=42)  # short: scalar is slow
    hp = Hyperparameters(steps=3)
    trained = {}
    for engine in (gpt_scalar, gpt_tensor):
        params = engine.from_state_dict(run.state)
        losses = list(train(engine, params, run.config, run.docs, run.tokenizer, hp))
        trained[engine] = losses, engine.to_state_dict(params)
    (scalar_losses, scalar_state), (tensor_losses, tensor_state) = trained.values()
    assert len(tensor_losses) == 3
    np.testing.assert_allclose(tensor_losses, scalar_losses, rtol=0, atol=TOL)
    assert_same_grads(tensor_state, scalar_state, TOL)  # and the same weights after the updates
    assert not np.allclose(tensor_state["wte"], run.state["wte"])  # the steps did update


@pytest.mark.parametrize("temperature", [0.5, 1.0])
def test_generate_matches(temperature):
    # Briefly trained weights, which end names at BOS as well as at the block's end.
    run = setup(NAMES, seed=3, n_embd=8, n_head=2, n_layer=2, block_size=10)
    params = gpt_tensor.from_state_dict(run.state)
    for _ in train(gpt_tensor, params, run.config, run.docs, run.tokenizer,
                   Hyperparameters(steps=60)):
        pass
    config, state, bos = run.config, gpt_tensor.to_state_dict(params), run.tokenizer.bos
    samples, rngs = {}, {}
    for engine in (gpt_scalar, gpt_tensor):
        params, rngs[engine] = engine.from_state_dict(state), random.Random(7)
        samples[engine] = [engine.generate(params, config, bos, rngs[engine], temperature)
                           for _ in range(8)]
    assert samples[gpt_tensor] == samples[gpt_scalar]
    assert rngs[gpt_tensor].getstate() == rngs[gpt_scalar].getstate()  # same number of draws
    lengths = {len(s) for s in samples[gpt_scalar]}
    assert len(lengths) > 1 and max(lengths) <= config.block_size


# ---- batches ------------------------------------------------------------------------------------

BATCH_CONFIG = GPTConfig(vocab_size=27, n_embd=8, n_head=2, n_layer=2, block_size=8)
# Lengths 1, block_size - 1 and past the block; "a" is id 0, "z" id 25, BOS 26.
BATCH = [document_tokens(TOKENIZER, doc) for doc in ["z", "azazaza", "zzzzzzzzzzzza", "ma"]]


def tensor_loss_and_grads(loss_fn) -> tuple[float, dict[str, np.ndarray]]:
    params = gpt_tensor.from_state_dict(weights(BATCH_CONFIG, seed=5))
    loss = loss_fn(params)
    loss.backward()
    return float(loss.data), gpt_tensor.grads(params)


def test_batch_loss_is_the_mean_of_document_losses():
    def mean_of_documents(params):
        return sum(gpt_tensor.document_loss(params, BATCH_CONFIG, tokens)
                   for tokens in BATCH) / len(BATCH)

    expected_loss, expected_grads = tensor_loss_and_grads(mean_of_documents)
    loss, grads = tensor_loss_and_grads(
        lambda params: gpt_tensor.batch_loss(params, BATCH_CONFIG, BATCH))
    assert abs(loss - expected_loss) <= BATCH_TOL
    assert_same_grads(grads, expected_grads, BATCH_TOL)


@pytest.mark.parametrize("pad_id", [0, BATCH_CONFIG.vocab_size - 1])
def test_batch_padding_changes_nothing(monkeypatch, pad_id):
    """Overwrite every input position past a document's end with an extreme id."""
    expected_loss, expected_grads = tensor_loss_and_grads(
        lambda params: gpt_tensor.batch_loss(params, BATCH_CONFIG, BATCH))
    real_gpt, calls = gpt_tensor.gpt, []

    def gpt_with_other_padding(params, config, token_ids, pos_id, keys=None, values=None):
        token_ids = token_ids.copy()
        for row, tokens in enumerate(BATCH):
            token_ids[row, len(tokens) - 1:] = pad_id  # inputs are tokens[:-1]; the rest is pad
        calls.append(token_ids)
        return real_gpt(params, config, token_ids, pos_id, keys, values)

    monkeypatch.setattr(gpt_tensor, "gpt", gpt_with_other_padding)
    loss, grads = tensor_loss_and_grads(
        lambda params: gpt_tensor.batch_loss(params, BATCH_CONFIG, BATCH))
    assert len(calls) == 1, "batch_loss no longer calls gpt(); update this test's hook"
    assert (calls[0] == pad_id).sum() > len(BATCH)  # the hook did change the padding
    assert abs(loss - expected_loss) <= BATCH_TOL
    assert_same_grads(grads, expected_grads, BATCH_TOL)


# ---- initial weights and size -------------------------------------------------------------------


def test_initial_weights_continue_microgpts_random_stream():
    run = setup(NAMES, seed=42)
    stream = random.Random(42)  # microgpt.py: random.seed(42); shuffle; then gauss per weight
    docs = list(NAMES)
    stream.shuffle(docs)
    assert run.docs == docs
    assert run.state["wte"][0, 0] == stream.gauss(0, 0.08)
    drawn = [run.state["wte"][0, 0]] + [stream.gauss(0, 0.08) for _ in
                                        range(num_params(run.config) - 1)]
    assert list(run.state) == [  # microgpt.py's order (notes/api.md)
        "wte", "wpe", "lm_head", "layer0.attn_wq", "layer0.attn_wk", "layer0.attn_wv",
        "layer0.attn_wo", "layer0.mlp_fc1", "layer0.mlp_fc2"]
    assert {k: w.shape for k, w in run.state.items()} == parameter_shapes(run.config)
    flat = np.concatenate([w.ravel() for w in run.state.values()])  # row-major, in order
    assert flat.tolist() == drawn
    assert run.rng.getstate() == stream.getstate()  # sampling continues the same stream


def test_default_model_has_4192_parameters():
    config = GPTConfig(vocab_size=27)
    assert num_params(config) == 4192
    assert sum(w.size for w in init_state_dict(config, random.Random(0)).values()) == 4192


def test_fused_attention_and_the_cache_path_give_the_same_logits():
    """Training runs whole documents through one fused attention node; sampling splits the
    heads with view ops and fills a KV cache. On whole documents both must agree."""
    params = gpt_tensor.from_state_dict(weights(BATCH_CONFIG, seed=5))
    tokens = np.array([[26, 3, 7, 0, 25, 12, 4, 26], [26, 1, 1, 2, 3, 5, 8, 13]])
    fused = gpt_tensor.gpt(params, BATCH_CONFIG, tokens, 0).data
    keys, values = gpt_tensor.empty_cache(BATCH_CONFIG)
    cached = gpt_tensor.gpt(params, BATCH_CONFIG, tokens, 0, keys, values).data
    np.testing.assert_allclose(fused, cached, rtol=0, atol=BATCH_TOL)
    assert keys[0].shape == (2, BATCH_CONFIG.n_head, 8, BATCH_CONFIG.head_dim)


def test_grads_before_any_backward_are_zeros_on_both_engines():
    state = weights(BASE)
    scalar = gpt_scalar.grads(gpt_scalar.from_state_dict(state))
    tensor = gpt_tensor.grads(gpt_tensor.from_state_dict(state))
    assert_same_grads(tensor, scalar, 0)
    assert not any(g.any() for g in tensor.values())


def test_a_kv_cache_without_its_values_is_refused():
    params = gpt_tensor.from_state_dict(weights(BATCH_CONFIG))
    keys, _ = gpt_tensor.empty_cache(BATCH_CONFIG)
    with pytest.raises(ValueError, match="needs both its keys and its values"):
        gpt_tensor.gpt(params, BATCH_CONFIG, np.array([[26, 3]]), 0, keys)
