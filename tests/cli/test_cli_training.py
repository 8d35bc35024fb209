"""``microgpt train``'s options beyond microgpt.py, end to end through ``cli.main``.

Batches, schedules, the validation split, progress output, the loss plot, checkpoints
that resume bit for bit, and Ctrl-C. Bad values of each option are in ``test_cli.py``'s
BAD_INPUT table, with the other one-line errors.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import sys

import numpy as np
import pytest
import safetensors
import safetensors.numpy
from test_cli import NAMES, STEP, run

from microgpt import cli, gpt_tensor
from microgpt.model import GPTConfig, pad_batch, parameter_shapes
from microgpt.storage import checkpoint, resume
from microgpt.train import Hyperparameters, Trainer, document_tokens, sample, setup
from microgpt.validation import split, validation_loss

SMALL_MODEL = ["--n-embd", "8", "--n-head", "2", "--block-size", "6"]
TRAINING_OPTIONS = {
    "default": [],
    "batches, cosine, warm-up, validation": ["--batch-size", "3", "--schedule", "cosine",
                                             "--warmup", "2", "--val-fraction", "0.2",
                                             "--eval-every", "2", "--lr", "0.05"],
    "float32, batches": ["--dtype", "float32", "--batch-size", "2", "--lr", "0.05"],
}



def train(capsys, dataset, *options) -> tuple[list[str], str]:
    """A successful ``microgpt train`` on the test dataset: its stdout lines and stderr."""
    status, lines, err = run(capsys, "train", "--data", dataset, "--samples", "3",
                             *SMALL_MODEL, *options)
    assert status == 0, err
    return lines, err


def step_lines(lines: list[str]) -> list[str]:
    return [line for line in lines if STEP.match(line)]


def samples(lines: list[str]) -> list[str]:
    return [line for line in lines if line.startswith("sample ")]


def final_val(lines: list[str]) -> float:
    (line,) = [line for line in lines if line.startswith("final val loss: ")]
    return float(line.split(": ")[1])


def resumable_arrays(path) -> dict[str, np.ndarray]:
    """A checkpoint's tensors, without the validation history (a stop adds a point to it)."""
    tensors = safetensors.numpy.load_file(path)
    return {key: value for key, value in tensors.items() if not key.startswith("history.val")}


def resumable_metadata(path) -> dict:
    """A checkpoint's metadata, its JSON parsed."""
    with safetensors.safe_open(path, framework="numpy") as f:
        return {key: json.loads(value) for key, value in f.metadata().items()
                if key != "format"}


def assert_same_arrays(actual: dict, expected: dict) -> None:
    assert actual.keys() == expected.keys()
    for key, value in expected.items():
        assert np.array_equal(actual[key], value, equal_nan=value.dtype.kind == "f"), key


# ---- batches, schedules and validation ----------------------------------------------------------


def test_batches_and_schedules_reach_the_trainer(capsys, dataset):
    lines, _ = train(capsys, dataset, "--steps", "5", "--batch-size", "4", "--schedule",
                     "cosine", "--warmup", "1", "--lr", "0.03")
    run_ = setup(NAMES, seed=42, n_embd=8, n_head=2, block_size=6)
    trainer = Trainer(gpt_tensor, gpt_tensor.from_state_dict(run_.state), run_.config,
                      run_.docs, run_.tokenizer, Hyperparameters(
                          steps=5, lr=0.03, schedule="cosine", warmup=1, batch_size=4))
    expected = [f"step {k:4d} /    5 | loss {loss:.4f}" for k, loss in enumerate(trainer.run(), 1)]
    assert step_lines(lines) == expected


def test_the_validation_split_and_its_losses(capsys, dataset):
    lines, _ = train(capsys, dataset, "--steps", "5", "--val-fraction", "0.2",
                     "--eval-every", "2")
    assert lines[3] == "val docs: 2 (the last of the shuffled docs; training on the other 8)"
    steps = step_lines(lines)
    val = [re.fullmatch(r"step +(\d+) / +5 \| loss \S+ \| val loss (\S+)", line) for line in steps]
    assert [bool(m) for m in val] == [False, True, False, True, False]

    # The same numbers from the library: train on the first 8 shuffled docs, hold out 2.
    run_ = setup(NAMES, seed=42, n_embd=8, n_head=2, block_size=6)
    train_docs, val_docs = split(run_.docs, 0.2)
    val_tokens = [document_tokens(run_.tokenizer, doc) for doc in val_docs]
    trainer = Trainer(gpt_tensor, gpt_tensor.from_state_dict(run_.state), run_.config,
                      train_docs, run_.tokenizer, Hyperparameters(steps=5))
    expected = {}
    for _ in trainer.run():
        expected[trainer.step] = validation_loss(trainer.params, run_.config, val_tokens)
    assert [float(m[2]) for m in val if m] == [round(expected[2], 4), round(expected[4], 4)]
    assert lines[lines.index(steps[-1]) + 1] == f"final val loss: {expected[5]:.4f}"


def test_without_eval_every_only_the_final_val_loss(capsys, dataset):
    lines, _ = train(capsys, dataset, "--steps", "3", "--val-fraction", "0.1")
    assert lines[3].startswith("val docs: 1 ")
    assert not any("| val loss" in line for line in lines)
    assert sum(line.startswith("final val loss: ") for line in lines) == 1


# ---- progress -----------------------------------------------------------------------------------


def test_piped_output_keeps_every_step_line_by_default(capsys, dataset):
    lines, _ = train(capsys, dataset, "--steps", "4")
    assert [int(STEP.match(line)[1]) for line in step_lines(lines)] == [1, 2, 3, 4]


def test_log_every_prints_every_nth_step_and_the_last(capsys, dataset):
    lines, _ = train(capsys, dataset, "--steps", "7", "--log-every", "3")
    assert [int(STEP.match(line)[1]) for line in step_lines(lines)] == [3, 6, 7]
    # Validation steps always show; the numbers are those of the full run's lines.
    lines, _ = train(capsys, dataset, "--steps", "7", "--log-every", "3", "--val-fraction",
                     "0.2", "--eval-every", "2")
    assert [int(STEP.match(line)[1]) for line in step_lines(lines)] == [2, 3, 4, 6, 7]
    full, _ = train(capsys, dataset, "--steps", "7", "--val-fraction", "0.2", "--eval-every", "2")
    assert step_lines(lines) == [step_lines(full)[k - 1] for k in [2, 3, 4, 6, 7]]


def test_log_every_still_shows_the_step_that_diverged(capsys, dataset):
    status, lines, err = run(capsys, "train", "--data", dataset, "--lr", "1e300", "--steps",
                             "30", "--log-every", "100")
    assert status == 1 and "training diverged at step" in err
    diverged = int(re.search(r"step (\d+)", err)[1])
    assert step_lines(lines) == [line for line in step_lines(lines) if "nan" in line]
    assert lines[-1] == f"step {diverged:4d} /   30 | loss nan"


def test_on_a_terminal_a_progress_bar_replaces_the_step_lines(capsys, dataset, monkeypatch):
    pytest.importorskip("tqdm")  # the optional extra "progress"
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    lines, _ = train(capsys, dataset, "--steps", "6", "--val-fraction", "0.2", "--eval-every",
                     "3")
    text = "\n".join(lines)
    assert re.search(r"training: 100%.*6/6 .*step/s.*loss=\d\.\d{4}", text), text
    # Only the validation lines remain as lines (written above the bar).
    assert [line for line in step_lines(lines)] == [
        line for line in step_lines(lines) if "| val loss" in line]
    assert len(step_lines(lines)) == 2 and "final val loss: " in text
    assert samples(lines)


def test_without_tqdm_a_terminal_gets_plain_lines(capsys, dataset, monkeypatch):
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    monkeypatch.setitem(sys.modules, "tqdm", None)  # import tqdm raises ImportError
    lines, _ = train(capsys, dataset, "--steps", "3")
    assert [int(STEP.match(line)[1]) for line in step_lines(lines)] == [1, 2, 3]


# ---- the loss plot ------------------------------------------------------------------------------


def test_plot_writes_a_png(capsys, dataset, tmp_path):
    pytest.importorskip("matplotlib")  # the optional extra "plot"
    path = tmp_path / "loss.png"
    lines, _ = train(capsys, dataset, "--steps", "4", "--val-fraction", "0.2", "--eval-every",
                     "2", "--plot", path)
    assert path.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert lines[-1].endswith(f"; plot saved to {path}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["loss.png", "names.txt"]


def test_plot_without_matplotlib_fails_before_training(capsys, dataset, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    status, lines, err = run(capsys, "train", "--data", dataset, "--plot", tmp_path / "l.png")
    assert (status, lines) == (1, [])
    assert re.fullmatch(r"error: --plot needs matplotlib, which is not installed \(pip install "
                        r"'microgpt-tensorgrad\[plot\]'\)\n", err)


# ---- checkpoints that resume --------------------------------------------------------------------


@pytest.mark.parametrize("options", TRAINING_OPTIONS.values(), ids=TRAINING_OPTIONS.keys())
def test_stop_then_resume_ends_bit_for_bit_like_an_uninterrupted_run(capsys, dataset, tmp_path,
                                                                     options):
    full, part = tmp_path / "full", tmp_path / "part"
    full_lines, _ = train(capsys, dataset, "--steps", "6", "--save", full, *options)

    first, _ = train(capsys, dataset, "--steps", "6", "--stop-after", "3", "--save", part,
                     *options)
    assert f"stopped after step 3 / 6; continue with --resume {part}" in first
    assert step_lines(first) == step_lines(full_lines)[:3]
    # The same options again: those the checkpoint keeps are allowed when they agree.
    second, _ = train(capsys, dataset, "--resume", part, "--save", part, *options)
    assert f"resuming {part} at step 3 / 6" in second
    assert step_lines(second) == step_lines(full_lines)[3:]
    assert samples(second) == samples(full_lines)  # the random stream was saved too
    assert_same_arrays(resumable_arrays(part), resumable_arrays(full))
    assert resumable_metadata(part) == resumable_metadata(full)
    assert checkpoint.load(part).training.step == 6


def test_ctrl_c_saves_a_checkpoint_that_resumes_exactly(capsys, dataset, tmp_path, monkeypatch,
                                                       wrap_training_steps):
    full, part = tmp_path / "full", tmp_path / "part"
    full_lines, _ = train(capsys, dataset, "--steps", "6", "--save", full)

    def step_with_ctrl_c(k, batch, step):  # a real SIGINT, in the middle of step 3
        if k == 3:
            os.kill(os.getpid(), signal.SIGINT)
        return step(batch)

    wrap_training_steps(gpt_tensor, step_with_ctrl_c)
    status, lines, err = run(capsys, "train", "--data", dataset, "--steps", "6", "--samples",
                             "3", "--save", part, *SMALL_MODEL)
    monkeypatch.undo()
    assert status == 130
    assert err == (f"error: interrupted at step 3 / 6; checkpoint saved to {part} "
                   f"(continue with --resume {part})\n")
    assert not samples(lines)
    assert checkpoint.load(part).training.step == 3  # the step under way was finished

    second, _ = train(capsys, dataset, "--resume", part, "--save", part)
    assert step_lines(second) == step_lines(full_lines)[3:]
    assert samples(second) == samples(full_lines)
    assert_same_arrays(resumable_arrays(part), resumable_arrays(full))


def test_resume_with_more_steps_extends_the_run(capsys, dataset, tmp_path):
    path = tmp_path / "m"
    train(capsys, dataset, "--steps", "3", "--save", path)
    lines, _ = train(capsys, dataset, "--resume", path, "--steps", "5", "--save", path,
                     "--lr", "0.01", "--n-embd", "8")  # options equal to the saved ones
    assert [STEP.match(line).group(1, 2) for line in step_lines(lines)] == [("4", "5"),
                                                                            ("5", "5")]
    saved = checkpoint.load(path).training
    assert (saved.step, saved.hp.steps, len(saved.losses)) == (5, 5, 5)


def test_the_resumed_samples_continue_the_saved_random_stream(capsys, dataset, tmp_path):
    """Training draws nothing from the stream, so replace the saved one to see it used."""
    path = tmp_path / "m"
    train(capsys, dataset, "--steps", "3", "--stop-after", "2", "--save", path)
    saved = checkpoint.load(path)
    stream = random.Random(99)
    saved.training.rng_state = stream.getstate()
    checkpoint.save(path, saved)

    lines, _ = train(capsys, dataset, "--resume", path, "--save", path)
    saved = checkpoint.load(path)
    params = gpt_tensor.from_state_dict(saved.state)
    expected = list(sample(gpt_tensor, params, saved.config, saved.tokenizer, stream, 0.5, 3))
    assert samples(lines) == [f"sample {i:2d}: {name}" for i, name in enumerate(expected, 1)]


def test_either_engine_resumes_the_others_checkpoint(capsys, dataset, tmp_path):
    """Moments are stored by weight name, so the engines' own layouts do not matter."""
    path = tmp_path / "m"
    full, _ = train(capsys, dataset, "--steps", "3", "--val-fraction", "0.2")
    train(capsys, dataset, "--steps", "3", "--stop-after", "1", "--save", path,
          "--val-fraction", "0.2")
    second, _ = train(capsys, dataset, "--resume", path, "--engine", "scalar")
    losses = [float(STEP.match(line)[3]) for line in step_lines(second)]
    assert losses == pytest.approx([float(STEP.match(line)[3]) for line in step_lines(full)[1:]],
                                   abs=1.5e-4)  # printed to 4 decimals
    # The validation loss of scalar weights (computed on the tensor engine) agrees too.
    assert final_val(second) == pytest.approx(final_val(full), abs=1.5e-4)


RESUME_ERRORS = {
    "a finished run": ([], "is at step 3 / 3; give --steps N, the run's new total, with N > 3"),
    "steps not beyond": (["--steps", "2"], "with N > 3"),
    "another lr": (["--steps", "5", "--lr", "0.02"],
                   "--lr 0.02 contradicts the 0.01 of the checkpoint"),
    "another model": (["--steps", "5", "--n-embd", "16", "--n-head", "4"],
                      "--n-embd 16 contradicts the 8"),
    "another batch size": (["--steps", "5", "--batch-size", "2"], "--batch-size 2 contradicts"),
    "another split": (["--steps", "5", "--val-fraction", "0.5"], "--val-fraction 0.5 contradicts"),
    "another dtype": (["--steps", "5", "--dtype", "float32"],
                      "--dtype float32 contradicts the float64"),
    "stop-after not beyond": (["--steps", "5", "--stop-after", "3"], "after step 3"),
}


@pytest.mark.parametrize("options, message", RESUME_ERRORS.values(), ids=RESUME_ERRORS.keys())
def test_resume_refuses_contradictions(capsys, dataset, tmp_path, options, message):
    path = tmp_path / "m"
    train(capsys, dataset, "--steps", "3", "--save", path)
    before = path.read_bytes()
    status, lines, err = run(capsys, "train", "--data", dataset, "--resume", path, *options)
    assert (status, lines) == (2, [])
    assert err.startswith("error: ") and err.count("\n") == 1 and message in err, err
    assert path.read_bytes() == before


def test_resume_refuses_another_dataset(capsys, dataset, tmp_path):
    path = tmp_path / "m"
    train(capsys, dataset, "--steps", "3", "--save", path)
    other = tmp_path / "other.txt"
    other.write_text("\n".join(reversed(NAMES)))  # the same names, in another order
    status, lines, err = run(capsys, "train", "--data", other, "--resume", path, "--steps", "5")
    assert (status, lines) == (1, [])
    assert re.fullmatch(rf"error: {re.escape(str(path))} was trained on another dataset \(10 "
                        r"documents, sha256 [0-9a-f]{12}\.\.\.\), not this one \(10 documents, "
                        r"sha256 [0-9a-f]{12}\.\.\.\); resume with the same --data\n", err)


def test_a_checkpoint_records_its_run(capsys, dataset, tmp_path):
    path = tmp_path / "m"
    train(capsys, dataset, "--steps", "4", "--seed", "3", "--batch-size", "2", "--warmup", "1",
          "--schedule", "constant", "--val-fraction", "0.2", "--save", path)
    state = checkpoint.load(path).training
    assert state.hp == Hyperparameters(steps=4, schedule="constant", warmup=1, batch_size=2)
    assert (state.step, state.seed, state.val_fraction) == (4, 3, 0.2)
    assert (state.num_docs, state.data_sha256) == (10, resume.dataset_digest(NAMES))
    assert state.optimizer.step == 4 and len(state.losses) == 4
    assert [step for step, _ in state.val_history] == [4]


def test_help_explains_the_batch_order(capsys):
    with pytest.raises(SystemExit):
        cli.main(["train", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "docs[(k*N + i) % num_docs]" in help_text
    assert "--steps is the run's total" in help_text


def test_a_checkpoint_opens_in_pytorch_with_the_same_logits(capsys, dataset, tmp_path,
                                                            monkeypatch):
    """safetensors.torch reads the weights in one call; benchmarks/torch_gpt.py's model,
    built from them, computes the logits the tensor engine computes."""
    torch = pytest.importorskip("torch")
    import safetensors.torch

    from benchmarks import torch_gpt

    path = tmp_path / "m.safetensors"
    train(capsys, dataset, "--steps", "5", "--n-layer", "2", "--save", path)
    tensors = safetensors.torch.load_file(path)
    with safetensors.safe_open(path, framework="pt") as f:
        config = GPTConfig(**json.loads(f.metadata()["config"]))
    weights = {name: tensors[name].numpy() for name in parameter_shapes(config)}
    model = torch_gpt.from_state_dict(weights, n_head=config.n_head)

    class RecordingFunctional:  # torch.nn.functional, keeping the logits the loss is given
        logits = None

        def __getattr__(self, name):
            return getattr(torch.nn.functional, name)

        def cross_entropy(self, logits, *args, **kwargs):
            RecordingFunctional.logits = logits.detach().numpy().copy()
            return torch.nn.functional.cross_entropy(logits, *args, **kwargs)

    monkeypatch.setattr(torch_gpt, "F", RecordingFunctional())
    run_ = setup(NAMES, seed=42, n_embd=8, n_head=2, n_layer=2, block_size=6)
    trained = Trainer(gpt_tensor, gpt_tensor.from_state_dict(run_.state), run_.config,
                      run_.docs, run_.tokenizer, Hyperparameters(steps=5))
    list(trained.run())  # the same run as the command line's, with the library
    docs = [document_tokens(run_.tokenizer, name, config.block_size) for name in NAMES[:4]]
    inputs, targets, mask = pad_batch(docs, config.block_size)
    torch_gpt.loss(model, inputs, targets, mask)
    expected = gpt_tensor.gpt(trained.params, config, inputs, 0).data
    np.testing.assert_allclose(RecordingFunctional.logits, expected.reshape(-1, config.vocab_size),
                               rtol=1e-12, atol=1e-12)
