"""The ``microgpt`` command line, end to end, on small datasets the tests write.

Most runs call ``cli.main([...])`` in-process; one goes through ``python -m microgpt``.
The full default run on the real dataset runs when ``../shared/names.txt`` is present.
"""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from paths import SHARED_NAMES

from microgpt import cli, gpt_tensor
from microgpt.data import Tokenizer
from microgpt.model import GPTConfig, init_state_dict, num_params
from microgpt.storage import checkpoint
from microgpt.train import Hyperparameters, sample, setup, train

NAMES = ["emma", "olivia", "ava", "mia", "zoe", "liam", "noah", "eli", "ivy", "max"]
# Small enough for the scalar engine to take a few steps quickly.
SMALL_MODEL = ["--n-embd", "8", "--n-head", "2", "--block-size", "6"]

STEP = re.compile(r"step +(\d+) / +(\d+) \| loss (\d+\.\d{4})")
SAMPLE = re.compile(r"sample +(\d+): ([a-z]*)")
TIMING = re.compile(r"trained (\d+) steps in \d+\.\d\d s \(\d+\.\d\d ms/step, (\w+) engine\)(.*)")



def run(capsys, *argv: str | Path) -> tuple[int, list[str], str]:
    """``main(argv)``: exit status, stdout lines, stderr."""
    status = cli.main([str(arg) for arg in argv])
    out, err = capsys.readouterr()
    return status, out.splitlines(), err


def check_train_output(lines: list[str], docs: int, vocab: int, params: int, steps: int,
                       samples: int) -> tuple[list[float], list[str], re.Match]:
    """microgpt.py's lines, in order, then the timing line; returns losses, names, timing."""
    assert lines[:3] == [f"num docs: {docs}", f"vocab size: {vocab}", f"num params: {params}"]
    step_lines = lines[3:3 + steps]
    matches = [STEP.fullmatch(line) for line in step_lines]
    assert all(matches), step_lines
    assert [(int(m[1]), int(m[2])) for m in matches] == [(k, steps) for k in range(1, steps + 1)]
    assert step_lines[0] == f"step    1 / {steps:4d} | loss {matches[0][3]}"  # widths of :4d
    rest = lines[3 + steps:]
    assert rest[:2] == ["", "--- inference (new, hallucinated names) ---"]
    sample_matches = [SAMPLE.fullmatch(line) for line in rest[2:-1]]
    assert all(sample_matches) and len(sample_matches) == samples, rest
    assert [int(m[1]) for m in sample_matches] == list(range(1, samples + 1))
    assert rest[2] == f"sample  1: {sample_matches[0][2]}"  # widths of :2d
    timing = TIMING.fullmatch(rest[-1])
    assert timing and int(timing[1]) == steps, rest[-1]
    return [float(m[3]) for m in matches], [m[2] for m in sample_matches], timing


def expected_run(steps: int, lr: float = 0.01, seed: int = 42, **model_options: int):
    """``train`` on NAMES done with the library: the setup, trained params and losses."""
    run = setup(NAMES, seed=seed, **model_options)
    params = gpt_tensor.from_state_dict(run.state)
    losses = list(train(gpt_tensor, params, run.config, run.docs, run.tokenizer,
                        Hyperparameters(steps=steps, lr=lr)))
    return run, params, losses


# ---- train --------------------------------------------------------------------------------------


def test_train_prints_microgpts_lines(capsys, dataset):
    status, lines, err = run(capsys, "train", "--data", dataset, "--steps", "5", "--samples", "4")
    assert (status, err) == (0, "")
    config = GPTConfig(vocab_size=len(set("".join(NAMES))) + 1)
    losses, names, timing = check_train_output(lines, len(NAMES), config.vocab_size,
                                               num_params(config), steps=5, samples=4)
    assert timing[2] == "tensor" and timing[3] == ""
    # The same numbers as the library, and the samples continue the training stream.
    run_, params, expected_losses = expected_run(steps=5)
    assert losses == [round(loss, 4) for loss in expected_losses]
    assert names == list(sample(gpt_tensor, params, run_.config, run_.tokenizer, run_.rng, 0.5,
                                4))


def test_scalar_engine_prints_the_same_run(capsys, dataset):
    argv = ["train", "--data", dataset, "--steps", "2", "--samples", "3", *SMALL_MODEL]
    status, scalar_lines, _ = run(capsys, *argv, "--engine", "scalar")
    assert status == 0
    status, tensor_lines, _ = run(capsys, *argv, "--engine", "tensor")
    assert status == 0
    assert TIMING.fullmatch(scalar_lines[-1])[2] == "scalar"
    assert scalar_lines[:-1] == tensor_lines[:-1]  # all but the timing line


def test_options_reach_the_model(capsys, dataset):
    status, lines, _ = run(capsys, "train", "--data", dataset, "--steps", "3", "--seed", "7",
                           "--n-embd", "12", "--n-head", "3", "--n-layer", "2",
                           "--block-size", "5", "--lr", "0.05", "--samples", "2",
                           "--temperature", "0.9")
    assert status == 0
    config = GPTConfig(vocab_size=len(set("".join(NAMES))) + 1, n_embd=12, n_head=3,
                       n_layer=2, block_size=5)
    losses, names, _ = check_train_output(lines, len(NAMES), config.vocab_size,
                                          num_params(config), steps=3, samples=2)
    run_, params, expected = expected_run(steps=3, lr=0.05, seed=7, n_embd=12, n_head=3,
                                          n_layer=2, block_size=5)
    assert run_.config == config
    assert losses == [round(loss, 4) for loss in expected]
    assert names == list(sample(gpt_tensor, params, run_.config, run_.tokenizer, run_.rng, 0.9,
                                2))
    assert all(len(name) <= 5 for name in names)


@pytest.mark.skipif(not SHARED_NAMES.is_file(), reason="../shared/names.txt is not present")
def test_without_data_it_trains_on_the_shipped_names(capsys):
    """The same run, line for line but the timing, as on ../shared/names.txt."""
    argv = ["train", "--steps", "20", "--samples", "5"]
    status, shipped, err = run(capsys, *argv)
    assert (status, err) == (0, "")
    status, shared, err = run(capsys, *argv, "--data", SHARED_NAMES)
    assert (status, err) == (0, "")
    assert shipped[:-1] == shared[:-1] and shipped[0] == "num docs: 32033"


def test_the_first_run_needs_no_network_and_writes_nothing(tmp_path):
    """In a fresh home, with every socket refused: microgpt.py's first lines, then samples."""
    home = tmp_path / "home"
    home.mkdir()
    env = {key: value for key, value in os.environ.items() if not key.startswith("XDG_")}
    env["HOME"] = str(home)
    no_network = ("import socket, sys\n"
                  "def refuse(*args, **kwargs):\n"
                  "    raise OSError('no network in this test')\n"
                  "socket.socket = socket.create_connection = socket.getaddrinfo = refuse\n"
                  "from microgpt.cli import main\n"
                  "sys.exit(main(sys.argv[1:]))\n")
    result = subprocess.run([sys.executable, "-c", no_network, "train", "--steps", "3"],
                            capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120,
                            check=False)
    assert (result.returncode, result.stderr) == (0, "")
    lines = result.stdout.splitlines()
    assert lines[:4] == ["num docs: 32033", "vocab size: 27", "num params: 4192",
                         "step    1 /    3 | loss 3.3660"]
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["home"]  # no cache, no file


def test_python_dash_m(dataset, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "microgpt", "train", "--data", str(dataset), "--steps", "3",
         "--samples", "2"],
        capture_output=True, text=True, cwd=tmp_path, timeout=120, check=False,
    )
    assert (result.returncode, result.stderr) == (0, "")
    config = GPTConfig(vocab_size=len(set("".join(NAMES))) + 1)
    check_train_output(result.stdout.splitlines(), len(NAMES), config.vocab_size,
                       num_params(config), steps=3, samples=2)


# ---- save, then sample --------------------------------------------------------------------------


def test_train_save_then_sample_load(capsys, dataset, tmp_path):
    path = tmp_path / "model.safetensors"
    status, lines, _ = run(capsys, "train", "--data", dataset, "--steps", "4", "--save", path)
    assert status == 0
    assert lines[-1].endswith(f"; checkpoint saved to {path}")
    saved = checkpoint.load(path)
    run_, params, _ = expected_run(steps=4)
    assert saved.config == run_.config and saved.tokenizer.chars == run_.tokenizer.chars
    for name, w in gpt_tensor.to_state_dict(params).items():  # the trained weights
        np.testing.assert_array_equal(saved.state[name], w)

    status, lines, err = run(capsys, "sample", "--load", path, "--samples", "5", "--seed", "3",
                             "--temperature", "0.8")
    assert (status, err) == (0, "")
    names = list(sample(gpt_tensor, params, run_.config, run_.tokenizer, random.Random(3), 0.8,
                        5))
    assert lines == [f"sample {i:2d}: {name}" for i, name in enumerate(names, 1)]

    status, lines, _ = run(capsys, "sample", "--load", path)  # defaults: 20 names, seed 42
    names = list(sample(gpt_tensor, params, run_.config, run_.tokenizer, random.Random(42), 0.5,
                        20))
    assert (status, lines) == (0, [f"sample {i:2d}: {name}" for i, name in enumerate(names, 1)])


# ---- compare ------------------------------------------------------------------------------------


def test_compare(capsys, dataset):
    status, lines, err = run(capsys, "compare", "--data", dataset, "--steps", "2", *SMALL_MODEL)
    assert (status, err) == (0, "")
    assert lines[0] == f"num docs: {len(NAMES)}"
    steps = [re.fullmatch(r"step +(\d+) \| scalar (\d\.\d{12}) \| tensor (\d\.\d{12}) \| "
                          r"diff (\S+)", line) for line in lines[3:5]]
    assert all(steps), lines
    for k, match in enumerate(steps, 1):
        assert int(match[1]) == k
        assert abs(float(match[2]) - float(match[3])) <= 1e-10
    loss_diff = re.fullmatch(r"max loss diff: (\S+) over 2 steps", lines[5])
    grad_diff = re.fullmatch(r"max grad diff: (\S+) over all (\d+) parameters at step 1", lines[6])
    speed = re.fullmatch(r"scalar: (\S+) ms/step \| tensor: (\S+) ms/step \| speedup: (\S+)x",
                         lines[7])
    assert loss_diff and grad_diff and speed and len(lines) == 8, lines
    assert float(loss_diff[1]) <= 1e-10 and float(grad_diff[1]) <= 1e-10
    assert float(speed[3]) == pytest.approx(float(speed[1]) / float(speed[2]), rel=0.05)


def test_compare_reports_real_differences(capsys, dataset, monkeypatch):
    """An engine that is off by a factor 1 + 1e-6 shows in both the losses and the gradients."""
    exact = gpt_tensor.token_loss
    monkeypatch.setattr(gpt_tensor, "token_loss", lambda *args: exact(*args) * (1 + 1e-6))
    status, lines, _ = run(capsys, "compare", "--data", dataset, "--steps", "1", *SMALL_MODEL)
    assert status == 0
    loss_diff = float(lines[-3].split()[3])
    grad_diff = float(lines[-2].split()[3])
    assert 1e-7 < loss_diff < 1e-5 and 1e-12 < grad_diff < 1e-5


# ---- bad input ----------------------------------------------------------------------------------


def make_checkpoint(tmp_path: Path) -> Path:
    config = GPTConfig(vocab_size=4, n_embd=4, n_head=2, block_size=3)
    state = init_state_dict(config, random.Random(0))
    return checkpoint.save(tmp_path / "ok.safetensors",
                           checkpoint.Checkpoint(state, config, Tokenizer("abc")))


def write(name: str, content: bytes):
    def make(tmp_path: Path) -> Path:
        (tmp_path / name).write_bytes(content)
        return tmp_path / name
    return make


def an_old_npz(tmp_path: Path) -> Path:
    np.savez(tmp_path / "old.npz", weights=np.zeros(3))
    return tmp_path / "old.npz"


USAGE, RUNTIME = 2, 1
# name: (argv after the subcommand, with {data} {tmp} {file} placeholders; exit status; message)
BAD_INPUT = {
    "missing dataset": (["train", "--data", "{tmp}/nope.txt"], RUNTIME,
                        "No such file or directory"),
    "empty dataset": (["train", "--data", "{file}"], RUNTIME, "empty", write("e.txt", b" \n\n")),
    "dataset is a directory": (["train", "--data", "{tmp}"], RUNTIME, "directory"),
    "dataset not UTF-8": (["train", "--data", "{file}"], RUNTIME, "not UTF-8 text (byte 0xeb",
                          write("latin1.txt", "zoë\nrené\n".encode("latin-1"))),
    "compare, missing dataset": (["compare", "--data", "{tmp}/nope.txt"], RUNTIME,
                                 "No such file or directory"),
    "n-embd not divisible": (["train", "--data", "{data}", "--n-embd", "10"], USAGE, "divisible"),
    "compare, n-head": (["compare", "--data", "{data}", "--n-head", "3"], USAGE, "divisible"),
    "steps 0": (["train", "--data", "{data}", "--steps", "0"], USAGE, "--steps"),
    "steps negative": (["train", "--data", "{data}", "--steps", "-5"], USAGE, "--steps"),
    "steps not a number": (["train", "--data", "{data}", "--steps", "many"], USAGE, "--steps"),
    "steps not an integer": (["compare", "--data", "{data}", "--steps", "2.5"], USAGE, "--steps"),
    "block size 0": (["train", "--data", "{data}", "--block-size", "0"], USAGE, "--block-size"),
    "n-embd 0": (["train", "--data", "{data}", "--n-embd", "0"], USAGE, "--n-embd"),
    "n-head 0": (["train", "--data", "{data}", "--n-head", "0"], USAGE, "--n-head"),
    "n-layer 0": (["compare", "--data", "{data}", "--n-layer", "0"], USAGE, "--n-layer"),
    "lr negative": (["train", "--data", "{data}", "--lr", "-0.01"], USAGE, "--lr"),
    "temperature 0": (["train", "--data", "{data}", "--temperature", "0"], USAGE, "--temperature"),
    "temperature nan": (["train", "--data", "{data}", "--temperature", "nan"], USAGE,
                        "--temperature"),
    "samples negative": (["train", "--data", "{data}", "--samples", "-1"], USAGE, "--samples"),
    "unknown engine": (["train", "--data", "{data}", "--engine", "torch"], USAGE, "--engine"),
    "save into a missing directory": (["train", "--data", "{data}", "--save", "{tmp}/no/m"],
                                      RUNTIME, "no directory"),
    "save onto a directory": (["train", "--data", "{data}", "--save", "{tmp}"], RUNTIME,
                              "is a directory"),
    "no subcommand": ([], USAGE, "required"),
    "sample without --load": (["sample"], USAGE, "--load"),
    "sample, missing checkpoint": (["sample", "--load", "{tmp}/nope"], RUNTIME,
                                   "No such file or directory"),
    "sample, corrupt checkpoint": (["sample", "--load", "{file}"], RUNTIME,
                                   "not a safetensors file", write("bad", b"\x10 cut short")),
    "sample, an old .npz checkpoint": (["sample", "--load", "{file}"], RUNTIME,
                                       "old .npz format", an_old_npz),
    "sample, samples 0": (["sample", "--load", "{file}", "--samples", "0"], USAGE, "--samples",
                          make_checkpoint),
    "sample, temperature negative": (["sample", "--load", "{file}", "--temperature", "-1"],
                                     USAGE, "--temperature", make_checkpoint),
    "sample, temperature too small": (["sample", "--load", "{file}", "--temperature", "1e-320"],
                                      RUNTIME, "larger --temperature", make_checkpoint),
    # ---- the options beyond microgpt.py
    "batch size 0": (["train", "--data", "{data}", "--batch-size", "0"], USAGE, "--batch-size"),
    "batches on the scalar engine": (["train", "--data", "{data}", "--batch-size", "2",
                                      "--engine", "scalar"], USAGE, "--engine tensor"),
    "unknown schedule": (["train", "--data", "{data}", "--schedule", "step"], USAGE,
                         "--schedule"),
    "warmup negative": (["train", "--data", "{data}", "--warmup", "-1"], USAGE, "--warmup"),
    "warmup of every step": (["train", "--data", "{data}", "--steps", "5", "--warmup", "5"],
                             USAGE, "less than --steps 5"),
    "val fraction 1": (["train", "--data", "{data}", "--val-fraction", "1"], USAGE,
                       "--val-fraction"),
    "val fraction negative": (["train", "--data", "{data}", "--val-fraction", "-0.1"], USAGE,
                              "--val-fraction"),
    "val fraction nan": (["train", "--data", "{data}", "--val-fraction", "nan"], USAGE,
                         "--val-fraction"),
    "val fraction leaving nothing to train": (["train", "--data", "{data}", "--val-fraction",
                                               "0.95"], USAGE, "holds out all 10 documents"),
    "eval-every without a split": (["train", "--data", "{data}", "--eval-every", "2"], USAGE,
                                   "--val-fraction"),
    "eval-every 0": (["train", "--data", "{data}", "--val-fraction", "0.2", "--eval-every", "0"],
                     USAGE, "--eval-every"),
    "log-every 0": (["train", "--data", "{data}", "--log-every", "0"], USAGE, "--log-every"),
    "plot not a png": (["train", "--data", "{data}", "--plot", "{tmp}/loss.jpg"], RUNTIME,
                       "ending in .png"),
    "plot into a missing directory": (["train", "--data", "{data}", "--plot",
                                       "{tmp}/no/loss.png"], RUNTIME, "no directory"),
    "stop-after 0": (["train", "--data", "{data}", "--stop-after", "0"], USAGE, "--stop-after"),
    "stop-after beyond the steps": (["train", "--data", "{data}", "--steps", "5",
                                     "--stop-after", "6"], USAGE, "at most --steps 5"),
    "resume, missing checkpoint": (["train", "--data", "{data}", "--resume", "{tmp}/nope"],
                                   RUNTIME, "No such file or directory"),
    "resume, a checkpoint without training state": (
        ["train", "--data", "{data}", "--resume", "{file}"], RUNTIME, "no training state",
        make_checkpoint),
    "dtype not a float dtype": (["train", "--data", "{data}", "--dtype", "float16"], USAGE,
                                "--dtype"),
    "dtype float32 on the scalar engine": (["train", "--data", "{data}", "--engine", "scalar",
                                            "--dtype", "float32"], USAGE,
                                           "--dtype float32 needs --engine tensor"),
    "sample, top-k 0": (["sample", "--load", "{file}", "--top-k", "0"], USAGE, "--top-k",
                        make_checkpoint),
    "sample, prefix outside the vocabulary": (["sample", "--load", "{file}", "--prefix", "aXbY"],
                                              USAGE, "not in the vocabulary: 'X', 'Y'",
                                              make_checkpoint),
    "sample, prefix too long": (["sample", "--load", "{file}", "--prefix", "abc"], USAGE,
                                "at most 2", make_checkpoint),
}


def tree(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() if p.is_file() else b"<dir>"
            for p in sorted(directory.rglob("*"))}


@pytest.mark.parametrize("case", BAD_INPUT.values(), ids=BAD_INPUT.keys())
def test_bad_input_is_one_error_line(capsys, dataset, tmp_path, case):
    argv, expected_status, message, *make = case
    file = make[0](tmp_path) if make else None
    before = tree(tmp_path)
    argv = [arg.format(data=dataset, tmp=tmp_path, file=file) for arg in argv]
    status = cli.main(argv)
    out, err = capsys.readouterr()
    assert status == expected_status
    assert err.startswith("error: ") and err.endswith("\n") and err.count("\n") == 1, err
    assert message in err
    assert "Traceback" not in err
    assert tree(tmp_path) == before  # nothing written, not even half a file
    assert out == ""  # everything is checked before any work starts


def test_diverging_training_stops_with_one_error_line(capsys, dataset, tmp_path):
    status, lines, err = run(capsys, "train", "--data", dataset, "--lr", "1e300", "--steps", "30",
                             "--save", tmp_path / "m")
    assert status == 1
    assert re.fullmatch(r"error: training diverged at step \d+ \(loss nan\); try a smaller "
                        r"--lr\n", err)
    assert lines[-1].endswith("| loss nan")  # printed as microgpt.py would, then stopped
    assert not (tmp_path / "m").exists()


def test_ctrl_c_without_save_exits_130_and_writes_nothing(capsys, dataset, tmp_path,
                                                         wrap_training_steps):
    def interrupted(k, batch, step):
        if k == 2:
            raise KeyboardInterrupt
        return step(batch)

    wrap_training_steps(gpt_tensor, interrupted)
    status, lines, err = run(capsys, "train", "--data", dataset, "--steps", "5")
    assert status == 130
    assert err == "error: interrupted\n"
    assert lines[-1].startswith("step    1 /    5 | loss ")
    assert [p.name for p in tmp_path.iterdir()] == ["names.txt"]


def test_help_exits_zero(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["train", "--help"])
    assert exit_.value.code == 0
    assert "--n-embd" in capsys.readouterr().out


# A command line that begins with its command is parsed by a parser of that command alone
# (speed): it must read every such line as the whole grammar does, errors and help included.
ONE_COMMAND_LINES = [
    ["train"], ["train", "--steps", "3", "--lr", "0.1", "--n-embd", "8", "--dtype", "float32"],
    ["train", "--samples", "0", "--temperature", "0.7", "--log-every", "5", "--save", "x.st"],
    ["train", "--steps", "0"], ["train", "--bogus"], ["train", "extra"], ["train", "--help"],
    ["train", "--engine", "slow"], ["train", "--version"], ["train", "--data-sha256", "zz"],
    ["sample", "--load", "x.st", "--top-k", "3", "--prefix", "em"], ["sample"],
    ["sample", "--help"], ["compare", "--steps", "2", "--by-op"], ["graph", "--out", "g.dot"],
    ["graph"], ["convert", "old.npz", "new.st"], ["convert", "old.npz"], ["convert", "--help"],
]


def _parsed(parser, argv, capsys):
    """What a parser makes of argv: its settings (less the function that runs the command),
    or the error it raises, or the exit and what it printed (--help)."""
    try:
        args = vars(parser.parse_args(argv))
    except SystemExit as exit_:
        return "exit", exit_.code, capsys.readouterr()
    except Exception as exc:  # noqa: BLE001 (the error itself is what is compared)
        return "error", type(exc), str(exc)
    run = args.pop("run")
    return "parsed", args, run.__closure__[0].cell_contents, run.__closure__[1].cell_contents


@pytest.mark.parametrize("argv", ONE_COMMAND_LINES, ids=" ".join)
def test_a_command_alone_parses_its_lines_as_the_whole_grammar(argv, capsys):
    whole = _parsed(cli.build_parser(), argv, capsys)
    alone = _parsed(cli.build_parser(argv[0]), argv, capsys)
    assert alone == whole


# ---- the real dataset ---------------------------------------------------------------------------


@pytest.mark.skipif(not SHARED_NAMES.is_file(), reason="../shared/names.txt is not present")
def test_default_run_on_the_names_dataset(capsys):
    status, lines, err = run(capsys, "train", "--data", SHARED_NAMES)
    assert (status, err) == (0, "")
    losses, names, timing = check_train_output(lines, 32033, 27, 4192, steps=1000, samples=20)
    assert lines[3] == "step    1 / 1000 | loss 3.3660"  # microgpt.py's first step, measured
    assert timing[2] == "tensor"
    assert sum(losses[-100:]) / 100 < 2.7  # it learned something
    assert sum(map(len, names)) > 20
