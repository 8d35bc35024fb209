"""What a training command is expected to do beyond microgpt.py's lines: ``--log`` as the run
goes, ``--samples 0``, the timing line that counts training alone, ``--version``, and a
``--help`` that ends with examples and speaks one language of metavars."""

from __future__ import annotations

import json
import os
import re
import signal
import time

import pytest
from test_cli import SMALL_MODEL, STEP, TIMING, run

from microgpt import __version__, api, cli, gpt_tensor

LOG_KEYS = {"step", "loss", "lr", "elapsed"}



def read_log(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


# ---- --log ------------------------------------------------------------------------------------


def test_the_log_has_a_line_per_step_with_what_the_output_shows(capsys, dataset, tmp_path):
    log = tmp_path / "run.jsonl"
    status, lines, err = run(capsys, "train", "--data", dataset, "--steps", "6", *SMALL_MODEL,
                             "--val-fraction", "0.2", "--eval-every", "3", "--warmup", "2",
                             "--log", log)
    assert status == 0, err
    records = read_log(log)
    assert [r["step"] for r in records] == [1, 2, 3, 4, 5, 6]
    printed = [float(STEP.match(line)[3]) for line in lines if STEP.match(line)]
    assert [round(r["loss"], 4) for r in records] == printed
    assert [r["lr"] for r in records] == pytest.approx([0, 0.005, 0.01, 0.0075, 0.005, 0.0025])
    assert [set(r) for r in records] == [LOG_KEYS, LOG_KEYS, LOG_KEYS | {"val_loss"}, LOG_KEYS,
                                         LOG_KEYS, LOG_KEYS | {"val_loss"}]
    vals = [line for line in lines if "val loss" in line and STEP.match(line)]
    assert [f"{r['val_loss']:.4f}" for r in records if "val_loss" in r] == [
        line.rsplit(" ", 1)[1] for line in vals]
    elapsed = [r["elapsed"] for r in records]
    assert elapsed == sorted(elapsed) and elapsed[0] >= 0
    assert lines[-1].endswith(f"; log written to {log}")


def test_an_interrupted_run_keeps_what_it_logged(capsys, dataset, tmp_path,
                                                 wrap_training_steps):
    log = tmp_path / "run.jsonl"
    seen = []

    def step_then_ctrl_c(k, batch, step):
        if k == 4:  # a real SIGINT in step 4: the log holds steps 1-3, written before it
            seen.extend(read_log(log))
            os.kill(os.getpid(), signal.SIGINT)
        return step(batch)

    wrap_training_steps(gpt_tensor, step_then_ctrl_c)
    status, _, err = run(capsys, "train", "--data", dataset, "--steps", "10", *SMALL_MODEL,
                         "--log", log)
    assert status == 130 and err == "error: interrupted at step 4 / 10; nothing saved (no --save)\n"
    assert [r["step"] for r in seen] == [1, 2, 3]  # on disk while the run was under way
    assert [r["step"] for r in read_log(log)] == [1, 2, 3, 4]


def test_an_existing_log_is_replaced(capsys, dataset, tmp_path):
    log = tmp_path / "run.jsonl"
    log.write_text("an older run's log\n" * 100)
    status, _, _ = run(capsys, "train", "--data", dataset, "--steps", "2", *SMALL_MODEL,
                       "--log", log)
    assert status == 0
    assert [r["step"] for r in read_log(log)] == [1, 2]


LOG_REFUSED = {
    "the dataset": (["--log", "{data}"], 2, "is the dataset"),
    "the checkpoint saved": (["--log", "{tmp}/m", "--save", "{tmp}/m"], 2,
                             "--save and --log name the same file"),
    "the plot": (["--log", "{tmp}/p.png", "--plot", "{tmp}/p.png"], 2,
                 "--plot and --log name the same file"),
    "a directory": (["--log", "{tmp}"], 1, "it is a directory, not a regular file"),
    "a missing directory": (["--log", "{tmp}/no/run.jsonl"], 1, "no directory"),
    "a device": (["--log", "/dev/null"], 1, "a character device"),
}


@pytest.mark.parametrize("options, status, message", LOG_REFUSED.values(),
                         ids=LOG_REFUSED.keys())
def test_a_log_that_cannot_or_must_not_be_written_is_refused_before_training(
        capsys, dataset, tmp_path, monkeypatch, options, status, message):
    monkeypatch.setattr(api.Run, "train", lambda *args: pytest.fail("trained first"))
    before = dataset.read_bytes()
    argv = [arg.format(data=dataset, tmp=tmp_path) for arg in options]
    got, lines, err = run(capsys, "train", "--data", dataset, "--steps", "2", *argv)
    assert (got, lines) == (status, [])
    assert err.startswith("error: ") and err.count("\n") == 1 and message in err, err
    assert dataset.read_bytes() == before


def test_a_log_onto_the_checkpoint_it_resumes_is_refused(capsys, dataset, tmp_path):
    saved = tmp_path / "m"
    assert run(capsys, "train", "--data", dataset, "--steps", "2", *SMALL_MODEL, "--save",
               saved)[0] == 0
    before = saved.read_bytes()
    status, _, err = run(capsys, "train", "--data", dataset, "--resume", saved, "--steps", "4",
                         "--log", saved)
    assert status == 2 and "would overwrite the checkpoint it resumes" in err
    assert saved.read_bytes() == before


# ---- --samples 0 and the timing line ----------------------------------------------------------


def test_samples_0_trains_and_saves_without_sampling(capsys, dataset, tmp_path):
    saved = tmp_path / "m"
    status, lines, err = run(capsys, "train", "--data", dataset, "--steps", "3", *SMALL_MODEL,
                             "--samples", "0", "--save", saved)
    assert (status, err) == (0, "")
    assert not [line for line in lines if "inference" in line or line.startswith("sample")]
    assert TIMING.fullmatch(lines[-1]) and lines[-2].startswith("step    3 /")
    assert api.load(saved).checkpoint.training.step == 3


def test_the_timing_line_counts_training_alone_and_evaluation_apart(capsys, dataset,
                                                                     monkeypatch):
    real = api.validation_loss

    def slow_evaluation(*args, **kwargs):
        time.sleep(0.3)
        return real(*args, **kwargs)

    monkeypatch.setattr(api, "validation_loss", slow_evaluation)
    status, lines, err = run(capsys, "train", "--data", dataset, "--steps", "4", *SMALL_MODEL,
                             "--val-fraction", "0.2", "--eval-every", "2", "--samples", "1")
    assert status == 0, err
    timing = re.fullmatch(r"trained 4 steps in (\d+\.\d\d) s \(\d+\.\d\d ms/step, tensor "
                          r"engine\); 2 evaluations in (\d+\.\d\d) s", lines[-1])
    assert timing, lines[-1]
    assert float(timing[1]) < 0.3 <= float(timing[2]) / 2  # the evaluations are not training


def test_the_final_evaluation_is_counted_apart_too(capsys, dataset):
    status, lines, _ = run(capsys, "train", "--data", dataset, "--steps", "2", *SMALL_MODEL,
                           "--val-fraction", "0.2", "--samples", "1")
    assert status == 0
    assert re.search(r"; 1 evaluation in \d+\.\d\d s$", lines[-1]), lines[-1]


# ---- --version and --help ---------------------------------------------------------------------


def test_version_is_the_package_version(capsys):
    with pytest.raises(SystemExit) as exit:
        cli.main(["--version"])
    assert exit.value.code == 0
    assert capsys.readouterr().out == f"microgpt {__version__}\n"
    assert re.fullmatch(r"\d+\.\d+\.\d+.*|0\+unknown", __version__)


@pytest.mark.parametrize("command", [[], ["train"], ["sample"]])
def test_help_ends_with_examples_that_run(capsys, command):
    with pytest.raises(SystemExit):
        cli.main([*command, "--help"])
    help_text = capsys.readouterr().out
    examples = help_text.split("\nexamples:\n")[1]
    commands = [line.split("#")[0].split() for line in examples.splitlines()
                if line.startswith("  microgpt ")]
    assert commands
    parser = cli.build_parser()
    for argv in commands:  # each example is a valid command line
        parser.parse_args(argv[1:])


def test_help_speaks_one_language(capsys):
    for command in ("train", "sample", "compare", "graph"):
        with pytest.raises(SystemExit):
            cli.main([command, "--help"])
        help_text = capsys.readouterr().out
        metavars = set(re.findall(r"--[a-z0-9-]+ ([A-Z][A-Z0-9_|]*)", help_text))
        assert metavars <= {"N", "F", "PATH", "PATH|URL", "TEXT", "HEX"}, (command, metavars)
        assert ".py" not in help_text.replace("microgpt.py", "")  # no source file to go read


@pytest.mark.parametrize("columns", [70, 100, 131])
def test_help_fits_the_width_columns_asks_for(capsys, monkeypatch, columns):
    """argparse wraps help to $COLUMNS (the terminal's width otherwise), less a margin of 2."""
    monkeypatch.setenv("COLUMNS", str(columns))
    with pytest.raises(SystemExit):
        cli.main(["train", "--help"])
    help_text = capsys.readouterr().out.split("\nexamples:\n")[0]  # examples are as written
    widths = [len(line) for line in help_text.splitlines()]
    assert max(widths) <= columns - 2
    assert max(widths) > columns - 2 - 12  # the text fills the width: it was wrapped to it
