"""Training beyond microgpt.py, as a library: batches, schedules, validation, resuming.

The default run must stay microgpt.py's, bit for bit; a batch must be the average of its
documents; padding must change nothing; a run stopped and resumed must end exactly where
an uninterrupted one does. The command line's side of these is in ``test_cli.py``.
"""

from __future__ import annotations

import hashlib
import math
import random

import numpy as np
import pytest

from microgpt import gpt_scalar, gpt_tensor, train, validation
from microgpt.data import Tokenizer
from microgpt.model import GPTConfig, init_state_dict
from microgpt.schedule import learning_rate
from microgpt.storage import checkpoint, resume
from microgpt.train import Hyperparameters, Trainer, document_tokens, setup

NAMES = ["emma", "olivia", "ava", "mia", "zoe", "liam", "noah", "eli", "ivy", "max", "bo",
         "christopher"]
SMALL = {"n_embd": 8, "n_head": 2, "block_size": 6}  # "christopher" is cut at the block
TOL = 1e-12  # tensor vs tensor, the same sums in another order
SCALAR_TOL = 1e-10  # scalar vs tensor


def small_run(seed: int = 42):
    return setup(NAMES, seed=seed, **SMALL)


def trained(hp: Hyperparameters, engine=gpt_tensor, seed: int = 42):
    """A fresh run of ``hp`` on NAMES: the trainer after all its steps."""
    run = small_run(seed)
    trainer = Trainer(engine, engine.from_state_dict(run.state), run.config, run.docs,
                      run.tokenizer, hp)
    list(trainer.run())
    return trainer


# ---- the default run is microgpt.py's -----------------------------------------------------------


def test_default_training_is_microgpts_loop_bit_for_bit():
    """The loop as microgpt.py (and this project before batches) wrote it."""
    run = small_run()
    hp = Hyperparameters(steps=7)
    params = gpt_tensor.from_state_dict(run.state)
    optimizer = gpt_tensor.Adam(list(params.values()), lr=hp.lr, betas=(hp.beta1, hp.beta2),
                                eps=hp.eps)
    expected = []
    for step in range(hp.steps):
        tokens = document_tokens(run.tokenizer, run.docs[step % len(run.docs)])
        loss = gpt_tensor.document_loss(params, run.config, tokens)
        loss.backward()
        optimizer.lr = hp.lr * (1 - step / hp.steps)
        optimizer.step()
        optimizer.zero_grad()
        expected.append(float(loss.data))

    trainer = trained(hp)
    assert trainer.losses == expected
    assert_same_state(gpt_tensor.to_state_dict(trainer.params), gpt_tensor.to_state_dict(params))


def test_a_batch_of_one_takes_the_single_document_path(monkeypatch):
    def no_batches(*args):
        raise AssertionError("the batch loss used for a batch of one")

    monkeypatch.setattr(gpt_tensor, "weighted_loss", no_batches)
    assert len(trained(Hyperparameters(steps=3, batch_size=1)).losses) == 3


# ---- batches ------------------------------------------------------------------------------------


def test_step_k_trains_on_documents_k_times_b_plus_i(wrap_training_steps):
    run, seen = small_run(), []

    def recording(k, batch, step):
        seen.append([run.tokenizer.decode(tokens) for tokens in batch])
        return step(batch)

    wrap_training_steps(gpt_tensor, recording)
    b, n = 5, len(run.docs)
    trainer = Trainer(gpt_tensor, gpt_tensor.from_state_dict(run.state), run.config, run.docs,
                      run.tokenizer, Hyperparameters(steps=4, batch_size=b))
    list(trainer.run())
    block = run.config.block_size  # a model reads no more of a document than its block
    assert seen == [[run.docs[(k * b + i) % n][:block] for i in range(b)] for k in range(4)]
    assert seen[2][2] == run.docs[0]  # wrapped around: 12 documents, 2*5 + 2 = 12


def test_a_batch_step_is_the_step_of_its_documents_mean_loss():
    """One step at B = 3 equals one Adam step on the mean of three single-document losses."""
    run, hp = small_run(), Hyperparameters(steps=4, batch_size=3)
    trainer = Trainer(gpt_tensor, gpt_tensor.from_state_dict(run.state), run.config, run.docs,
                      run.tokenizer, hp)
    batch_loss = next(trainer.run())

    params = gpt_tensor.from_state_dict(run.state)
    optimizer = gpt_tensor.Adam(list(params.values()), lr=hp.lr, betas=(hp.beta1, hp.beta2),
                                eps=hp.eps)
    losses = [gpt_tensor.document_loss(params, run.config, document_tokens(run.tokenizer, doc))
              for doc in run.docs[:3]]
    mean = (losses[0] + losses[1] + losses[2]) / 3
    mean.backward()
    optimizer.step()  # lr of step 0: the full rate
    assert batch_loss == pytest.approx(float(mean.data), abs=TOL)
    actual, expected = (gpt_tensor.to_state_dict(p) for p in (trainer.params, params))
    for name, w in expected.items():
        np.testing.assert_allclose(actual[name], w, rtol=0, atol=TOL, err_msg=name)


def test_batch_loss_and_grads_are_the_scalar_engines_average():
    """Against the reference engine: the mean of its per-document losses and gradients."""
    config = GPTConfig(vocab_size=27, n_embd=8, n_head=2, block_size=6)
    tokenizer = Tokenizer("abcdefghijklmnopqrstuvwxyz")
    # 1 character, one that fills the block exactly, one cut at the block.
    batch = [document_tokens(tokenizer, doc) for doc in ["z", "azaza", "christopher"]]
    state = {k: 4 * w for k, w in init_state_dict(config, random.Random(3)).items()}

    expected_loss, expected_grads = 0.0, {k: np.zeros_like(w) for k, w in state.items()}
    for tokens in batch:
        params = gpt_scalar.from_state_dict(state)
        loss = gpt_scalar.document_loss(params, config, tokens)
        loss.backward()
        expected_loss += loss.data / len(batch)
        for name, g in gpt_scalar.grads(params).items():
            expected_grads[name] += g / len(batch)

    params = gpt_tensor.from_state_dict(state)
    loss = gpt_tensor.batch_loss(params, config, batch)
    loss.backward()
    assert float(loss.data) == pytest.approx(expected_loss, abs=SCALAR_TOL)
    for name, g in gpt_tensor.grads(params).items():
        np.testing.assert_allclose(g, expected_grads[name], rtol=0, atol=SCALAR_TOL,
                                   err_msg=name)


# A token no document uses ('q'), as padding, with an embedding 1e6 times the others.
PAD_CONFIG = GPTConfig(vocab_size=27, n_embd=8, n_head=2, n_layer=2, block_size=8)
PAD_TOKENIZER = Tokenizer("abcdefghijklmnopqrstuvwxyz")
PAD_ID = PAD_TOKENIZER.encode("q")[0]
PAD_DOCS = [document_tokens(PAD_TOKENIZER, doc) for doc in ["z", "emma", "bob", "christopher"]]


def extreme_padding(monkeypatch, docs: list[list[int]]) -> list[np.ndarray]:
    """Make ``gpt_tensor.gpt`` see PAD_ID wherever a row of ``docs`` has ended."""
    real, calls = gpt_tensor.gpt, []

    def padded(params, config, token_ids, pos_id, keys=None, values=None):
        token_ids = token_ids.copy()
        for row in range(token_ids.shape[0]):
            token_ids[row, len(docs[row]) - 1:] = PAD_ID
        calls.append(token_ids)
        return real(params, config, token_ids, pos_id, keys, values)

    monkeypatch.setattr(gpt_tensor, "gpt", padded)
    return calls


def pad_state() -> dict[str, np.ndarray]:
    state = {k: 3 * w for k, w in init_state_dict(PAD_CONFIG, random.Random(9)).items()}
    state["wte"][PAD_ID] = 1e6 * np.sign(state["wte"][PAD_ID])
    return state


def test_extreme_padding_reaches_neither_the_loss_nor_any_gradient(monkeypatch):
    def batch_loss_and_grads():
        params = gpt_tensor.from_state_dict(pad_state())
        loss = gpt_tensor.batch_loss(params, PAD_CONFIG, PAD_DOCS)
        loss.backward()
        return float(loss.data), gpt_tensor.grads(params)

    expected_loss, expected_grads = 0.0, None
    for tokens in PAD_DOCS:  # one at a time: no padding at all
        params = gpt_tensor.from_state_dict(pad_state())
        loss = gpt_tensor.document_loss(params, PAD_CONFIG, tokens) / len(PAD_DOCS)
        loss.backward()
        expected_loss += float(loss.data)
        grads = gpt_tensor.grads(params)
        expected_grads = grads if expected_grads is None else {
            k: expected_grads[k] + g for k, g in grads.items()}

    calls = extreme_padding(monkeypatch, PAD_DOCS)
    loss, grads = batch_loss_and_grads()
    assert len(calls) == 1 and (calls[0] == PAD_ID).sum() > len(PAD_DOCS)  # the hook worked
    assert loss == pytest.approx(expected_loss, abs=TOL)
    for name, g in grads.items():
        assert np.isfinite(g).all(), name
        np.testing.assert_allclose(g, expected_grads[name], rtol=0, atol=TOL, err_msg=name)
    assert not grads["wte"][PAD_ID].any()  # the padding's own embedding learns nothing


def test_extreme_padding_does_not_reach_the_validation_loss(monkeypatch):
    params = gpt_tensor.from_state_dict(pad_state())
    unpadded = validation.validation_loss(params, PAD_CONFIG, PAD_DOCS, batch_size=1)
    extreme_padding(monkeypatch, PAD_DOCS)
    padded = validation.validation_loss(params, PAD_CONFIG, PAD_DOCS)
    assert math.isfinite(padded) and padded == pytest.approx(unpadded, abs=TOL)


def test_the_scalar_engine_refuses_batches():
    run = small_run()
    with pytest.raises(ValueError, match="one document per step"):
        Trainer(gpt_scalar, gpt_scalar.from_state_dict(run.state), run.config, run.docs,
                run.tokenizer, Hyperparameters(batch_size=2))


# ---- schedules ----------------------------------------------------------------------------------


def test_linear_without_warmup_is_microgpts_expression():
    for step in range(1000):
        assert learning_rate(step, 1000, 0.01) == 0.01 * (1 - step / 1000)


@pytest.mark.parametrize("schedule, expected", [
    ("linear", [1.0, 0.75, 0.5, 0.25]),
    ("cosine", [1.0, (1 + math.cos(math.pi / 4)) / 2, 0.5, (1 + math.cos(3 * math.pi / 4)) / 2]),
    ("constant", [1.0, 1.0, 1.0, 1.0]),
])
def test_schedules(schedule, expected):
    rates = [learning_rate(k, 4, 2.0, schedule) for k in range(4)]
    assert rates == pytest.approx([2 * x for x in expected], abs=1e-15)


@pytest.mark.parametrize("schedule", ["linear", "cosine", "constant"])
def test_warmup_rises_from_zero_then_runs_the_schedule_over_the_rest(schedule):
    lr, warmup, steps = 0.4, 4, 10
    rates = [learning_rate(k, steps, lr, schedule, warmup) for k in range(steps)]
    assert rates[:warmup] == pytest.approx([0.0, 0.1, 0.2, 0.3])
    assert rates[warmup:] == pytest.approx(
        [learning_rate(j, steps - warmup, lr, schedule) for j in range(steps - warmup)])
    assert rates[warmup] == lr


def test_the_trainer_follows_the_schedule(monkeypatch):
    rates = []
    real_step = gpt_tensor.Adam.step

    def recording_step(self):
        rates.append(self.lr)
        real_step(self)

    monkeypatch.setattr(gpt_tensor.Adam, "step", recording_step)
    trained(Hyperparameters(steps=6, lr=0.3, schedule="cosine", warmup=2))
    assert rates == [learning_rate(k, 6, 0.3, "cosine", 2) for k in range(6)]


@pytest.mark.parametrize("args, message", [
    ((0, 10, 0.01, "step"), "schedule must be one of"),
    ((0, 10, 0.01, "linear", 10), "warmup must be in 0..9"),
    ((0, 10, 0.01, "linear", -1), "warmup"),
    ((10, 10, 0.01), "step must be in 0..9"),
])
def test_bad_schedule_arguments(args, message):
    with pytest.raises(ValueError, match=message):
        learning_rate(*args)


# ---- the validation split and loss --------------------------------------------------------------


@pytest.mark.parametrize("fraction, num_docs, held_out", [
    (0.0, 10, 0), (0.1, 10, 1), (0.3, 10, 3), (0.25, 10, 3), (0.01, 10, 1), (0.1, 32033, 3204),
])
def test_the_split_holds_out_the_last_ceil_fraction(fraction, num_docs, held_out):
    docs = [str(i) for i in range(num_docs)]
    train_docs, val_docs = validation.split(docs, fraction)
    assert len(val_docs) == held_out
    assert train_docs + val_docs == docs  # the training documents keep their order


@pytest.mark.parametrize("fraction, num_docs, message", [
    (0.95, 10, "holds out all 10"), (0.5, 1, "holds out all 1"), (1.0, 10, r"\[0, 1\)"),
    (-0.1, 10, r"\[0, 1\)"),
])
def test_a_split_must_leave_training_documents(fraction, num_docs, message):
    with pytest.raises(ValueError, match=message):
        validation.split(["x"] * num_docs, fraction)


@pytest.mark.parametrize("batch_size", [1, 2, 256])
def test_validation_loss_is_the_mean_loss_per_token(batch_size):
    run = small_run()
    docs = [document_tokens(run.tokenizer, doc) for doc in run.docs[:5]]
    params = gpt_tensor.from_state_dict(run.state)
    # Each document's mean token loss times its number of predictions (cut at the block).
    counts = [min(run.config.block_size, len(tokens) - 1) for tokens in docs]
    nll = sum(float(gpt_tensor.document_loss(params, run.config, tokens).data) * count
              for tokens, count in zip(docs, counts))
    loss = validation.validation_loss(params, run.config, docs, batch_size=batch_size)
    assert loss == pytest.approx(nll / sum(counts), abs=TOL)
    assert len(set(counts)) > 1  # so per token differs from the mean of per-document means
    assert all(p.grad is None for p in params.values())  # computed under no_grad


# ---- resuming -----------------------------------------------------------------------------------

RESUMED_HP = [
    Hyperparameters(steps=6),
    Hyperparameters(steps=6, lr=0.05, schedule="cosine", warmup=2, batch_size=3),
]


def assert_same_state(actual: dict[str, np.ndarray], expected: dict[str, np.ndarray]) -> None:
    """The same names, and arrays equal bit for bit."""
    assert list(actual) == list(expected)
    for name, w in expected.items():
        assert np.array_equal(actual[name], w), name


def assert_same_training(actual: Trainer, expected: Trainer) -> None:
    engine = expected.engine
    assert actual.step == expected.step
    assert actual.losses == expected.losses
    assert_same_state(engine.to_state_dict(actual.params), engine.to_state_dict(expected.params))
    a, e = actual.optimizer_state(), expected.optimizer_state()
    assert a.step == e.step == expected.step
    assert_same_state(a.m, e.m)
    assert_same_state(a.v, e.v)


@pytest.mark.parametrize("hp", RESUMED_HP, ids=["default", "batch, cosine, warmup"])
def test_a_stopped_and_resumed_run_ends_bit_for_bit_like_an_uninterrupted_one(hp, tmp_path):
    uninterrupted = trained(hp)

    run = small_run()
    first = Trainer(gpt_tensor, gpt_tensor.from_state_dict(run.state), run.config, run.docs,
                    run.tokenizer, hp)
    list(first.run(until=3))
    # What a checkpoint keeps, through its file.
    checkpoint.save(tmp_path / "m", checkpoint.Checkpoint(
        gpt_tensor.to_state_dict(first.params), run.config, run.tokenizer,
        resume.TrainingState(
            hp=hp, step=first.step, seed=42, val_fraction=0.0, optimizer=first.optimizer_state(),
            rng_state=run.rng.getstate(), data_sha256="0" * 64, num_docs=len(run.docs),
            losses=first.losses, val_history=[])))
    del first
    saved = checkpoint.load(tmp_path / "m")

    second = Trainer(gpt_tensor, gpt_tensor.from_state_dict(saved.state), run.config, run.docs,
                     run.tokenizer, saved.training.hp, step=saved.training.step,
                     losses=saved.training.losses, optimizer_state=saved.training.optimizer)
    list(second.run())
    assert_same_training(second, uninterrupted)


def test_the_scalar_engine_resumes_bit_for_bit_too():
    hp = Hyperparameters(steps=3)
    uninterrupted = trained(hp, engine=gpt_scalar)
    run = small_run()
    first = Trainer(gpt_scalar, gpt_scalar.from_state_dict(run.state), run.config, run.docs,
                    run.tokenizer, hp)
    list(first.run(until=1))
    second = Trainer(gpt_scalar, gpt_scalar.from_state_dict(gpt_scalar.to_state_dict(
        first.params)), run.config, run.docs, run.tokenizer, hp, step=1, losses=first.losses,
        optimizer_state=first.optimizer_state())
    list(second.run())
    assert_same_training(second, uninterrupted)
    assert second.optimizer.m == uninterrupted.optimizer.m  # the engine's own lists too


def test_the_optimizer_state_is_by_weight_name_whatever_the_engine():
    """Both engines store the same moments under the same names, so either can resume."""
    hp = Hyperparameters(steps=2)
    states = [trained(hp, engine=engine).optimizer_state() for engine in (gpt_scalar, gpt_tensor)]
    run = small_run()
    for scalar, tensor in [(states[0].m, states[1].m), (states[0].v, states[1].v)]:
        assert list(scalar) == list(tensor) == list(run.state)
        for name, w in run.state.items():
            assert scalar[name].shape == w.shape
            np.testing.assert_allclose(tensor[name], scalar[name], rtol=1e-8, atol=1e-14)
    assert states[1].m["layer0.attn_wk"].any()  # moments, not zeros


def test_a_resumed_trainer_checks_its_start():
    run = small_run()
    with pytest.raises(ValueError, match="cannot start at step 2 of 6 with 1 losses"):
        Trainer(gpt_tensor, gpt_tensor.from_state_dict(run.state), run.config, run.docs,
                run.tokenizer, Hyperparameters(steps=6), step=2, losses=[1.0])


# ---- divergence and long documents -------------------------------------------------------------


@pytest.mark.parametrize("engine, lr", [(gpt_tensor, 1e9), (gpt_scalar, 1e9), (gpt_tensor, 1e300),
                                        (gpt_scalar, 1e300)],
                         ids=["tensor, exploding", "scalar, exploding", "tensor, NaN",
                              "scalar, NaN"])
def test_a_diverging_run_stops_at_the_step_that_diverged(engine, lr):
    run = small_run()
    trainer = Trainer(engine, engine.from_state_dict(run.state), run.config, run.docs,
                      run.tokenizer, Hyperparameters(steps=30, lr=lr))
    with pytest.raises(train.TrainingDiverged) as diverged, np.errstate(all="ignore"):
        list(trainer.run())
    step = diverged.value.step
    assert str(diverged.value).startswith(f"training diverged at step {step} (")
    assert trainer.step == step - 1 and len(trainer.losses) == step - 1
    assert all(not train.diverged(loss, run.config.vocab_size) for loss in trainer.losses)
    if diverged.value.loss is not None:  # the scalar engine may fail before it has a loss
        assert train.diverged(diverged.value.loss, run.config.vocab_size)


def test_both_engines_diverge_at_the_same_step():
    with np.errstate(all="ignore"):
        steps = [pytest.raises(train.TrainingDiverged, list, trained_with(engine, lr=1e9).run())
                 for engine in (gpt_scalar, gpt_tensor)]
    assert steps[0].value.step == steps[1].value.step


def trained_with(engine, **hp) -> Trainer:
    run = small_run()
    return Trainer(engine, engine.from_state_dict(run.state), run.config, run.docs,
                   run.tokenizer, Hyperparameters(steps=30, **hp))


def test_the_scalar_engines_float_errors_are_divergence(monkeypatch):
    """math.log(0.0) raises where NumPy returns -inf: the same end of the run, one line."""
    trainer = trained_with(gpt_scalar)

    def log_of_zero(*args):
        raise ValueError("math domain error")

    trainer.backward_step = log_of_zero
    with pytest.raises(train.TrainingDiverged, match=r"^training diverged at step 1 \(math "
                                                      r"domain error\)$") as diverged:
        next(trainer.run())
    assert diverged.value.loss is None


def test_the_tensor_engines_value_errors_are_not_divergence(monkeypatch):
    """A ValueError there is a bug (a shape), never the arithmetic: it propagates as is."""
    trainer = trained_with(gpt_tensor)

    def shape_bug(*args):
        raise ValueError("shapes (2, 3) and (4,) do not broadcast")

    trainer.backward_step = shape_bug
    with pytest.raises(ValueError, match="broadcast"):
        next(trainer.run())


@pytest.mark.parametrize("loss, vocab_size, expected", [
    (3.3, 27, False), (100 * math.log(27), 27, False), (100 * math.log(27) + 1e-9, 27, True),
    (math.inf, 27, True), (math.nan, 27, True), (-math.inf, 27, True), (70.0, 2, True),
])
def test_what_diverged_means(loss, vocab_size, expected):
    assert train.diverged(loss, vocab_size) is expected


def test_a_long_document_costs_what_its_block_uses(monkeypatch):
    """Only the first block_size characters are encoded; the loss is the same."""
    run = setup(["ab" * 5_000_000, "ba"], **SMALL)  # a 10-million-character document
    encoded = []
    real_encode = Tokenizer.encode
    monkeypatch.setattr(Tokenizer, "encode",
                        lambda self, text: encoded.append(len(text)) or real_encode(self, text))
    trainer = Trainer(gpt_tensor, gpt_tensor.from_state_dict(run.state), run.config, run.docs,
                      run.tokenizer, Hyperparameters(steps=2))
    losses = list(trainer.run())
    assert max(encoded) <= SMALL["block_size"]
    monkeypatch.undo()
    long_doc = next(doc for doc in run.docs if len(doc) > 2)
    full = document_tokens(run.tokenizer, long_doc)  # encoded whole
    cut = document_tokens(run.tokenizer, long_doc, SMALL["block_size"])
    assert full[:SMALL["block_size"] + 1] == cut[:SMALL["block_size"] + 1]
    params = gpt_tensor.from_state_dict(run.state)
    assert float(gpt_tensor.document_loss(params, run.config, full).data) == float(
        gpt_tensor.document_loss(params, run.config, cut).data)
    assert all(math.isfinite(loss) for loss in losses)


def test_the_dataset_digest_sees_order_and_content():
    digest = resume.dataset_digest(["ab", "c"])
    assert digest == resume.dataset_digest(["ab", "c"])
    assert len({digest, resume.dataset_digest(["c", "ab"]), resume.dataset_digest(["a", "bc"]),
                resume.dataset_digest(["ab", "c", ""])}) == 4


def test_the_dataset_digest_is_that_of_the_documents_as_lines():
    """Checkpoints saved by earlier versions hold this digest: its text must not change."""
    assert resume.dataset_digest(["ab", "c"]) == hashlib.sha256(b"ab\nc\n").hexdigest()
    assert resume.dataset_digest(["\u00e9"]) == hashlib.sha256("\u00e9\n".encode()).hexdigest()
    assert resume.dataset_digest([""]) == hashlib.sha256(b"\n").hexdigest()
    assert resume.dataset_digest([]) == hashlib.sha256(b"").hexdigest()


def test_train_module_keeps_its_simple_generator():
    """``train()``: a whole run from scratch, as ``compare`` and the benchmarks use it."""
    run = small_run()
    losses = list(train.train(gpt_tensor, gpt_tensor.from_state_dict(run.state), run.config,
                              run.docs, run.tokenizer, Hyperparameters(steps=4)))
    assert losses == trained(Hyperparameters(steps=4)).losses
