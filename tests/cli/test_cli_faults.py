"""The command line under attack: bad paths, devices, sizes, signals, broken output.

Every case ends in one ``error: ...`` line (or, for output that cannot be written, the
exit status alone) and a non-zero exit, promptly, with nothing written that the user did
not ask for. Cases that need a real process (signals, closed or broken output, devices)
run ``python -m microgpt`` with a memory limit and a timeout, so that a regression fails
instead of hanging or exhausting the machine.
"""

from __future__ import annotations

import contextlib
import errno
import io
import json
import os
import re
import resource
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from paths import REPO
from test_cli import NAMES, SMALL_MODEL

from microgpt import cli, gpt_tensor

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX files and signals")



def run(capsys, *argv) -> tuple[int, str, str]:
    status = cli.main([str(arg) for arg in argv])
    out, err = capsys.readouterr()
    return status, out, err


def assert_one_error_line(err: str, message: str) -> None:
    assert err.startswith("error: ") and err.endswith("\n") and err.count("\n") == 1, err
    assert message in err, err
    assert "Traceback" not in err


def tree(directory: Path) -> dict[str, object]:
    """What is in ``directory``: each file's bytes, or its kind (never read a FIFO)."""
    def what(p: Path) -> object:
        if p.is_symlink():
            return ("link", os.readlink(p))
        return p.read_bytes() if p.is_file() else ("not a file", p.stat().st_mode)
    return {str(p.relative_to(directory)): what(p) for p in sorted(directory.rglob("*"))}


def limited() -> None:
    """In the child: at most 2 GiB of address space (an unbounded read fails, not swaps)."""
    resource.setrlimit(resource.RLIMIT_AS, (2 * 2**30, 2 * 2**30))


def microgpt(*argv, timeout: float = 60, **kwargs) -> subprocess.CompletedProcess:
    """``python -m microgpt argv`` in a child process with a memory limit."""
    options = dict(capture_output=True, text=True, cwd=REPO, timeout=timeout, check=False,
                   preexec_fn=limited)
    return subprocess.run([sys.executable, "-m", "microgpt", *map(str, argv)],
                          **(options | kwargs))


# ---- datasets that are not regular files, or too large --------------------------------------


@posix_only
@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_an_endless_device_as_data_is_refused_promptly(device):
    if not os.path.exists(device):
        pytest.skip(f"no {device}")
    result = microgpt("train", "--data", device)
    assert result.returncode == 1 and result.stdout == ""
    assert_one_error_line(result.stderr, f"cannot read dataset {device}: it is a character "
                                         "device, not a regular file")


@posix_only
def test_a_fifo_without_a_writer_as_data_does_not_hang(tmp_path):
    os.mkfifo(tmp_path / "fifo")
    result = microgpt("train", "--data", tmp_path / "fifo", timeout=30)
    assert result.returncode == 1 and result.stdout == ""
    assert_one_error_line(result.stderr, "it is a FIFO (named pipe), not a regular file")


def test_a_dataset_over_the_bound_is_refused_and_help_says_the_bound(capsys, tmp_path,
                                                                    deadline):
    deadline(30)
    path = tmp_path / "big.txt"
    with open(path, "wb") as out:
        out.truncate(32 * 2**20 + 1)  # sparse: refused on its size, nothing read
    status, out, err = run(capsys, "train", "--data", path)
    assert (status, out) == (1, "")
    assert_one_error_line(err, "it is larger than the 32 MiB a dataset may be")
    with pytest.raises(SystemExit):
        cli.main(["train", "--help"])
    assert "at most 32 MiB" in " ".join(capsys.readouterr().out.split())


@pytest.mark.parametrize("option", ["--data", "--resume", "--save", "--plot"])
def test_a_file_name_too_long_is_one_line_before_any_work(capsys, dataset, tmp_path, option):
    long_name = str(tmp_path / ("x" * 300 + (".png" if option == "--plot" else "")))
    argv = ["train", "--data", dataset, option, long_name]
    if option == "--data":
        argv = ["train", option, long_name]
    status, out, err = run(capsys, *argv)
    assert status == 1 and out == ""
    assert_one_error_line(err, "File name too long")


def test_a_byte_order_mark_is_not_a_token(capsys, tmp_path):
    path = tmp_path / "bom.txt"
    path.write_bytes(b"\xef\xbb\xbf" + "\n".join(NAMES).encode())
    status, out, _ = run(capsys, "train", "--data", path, "--steps", "1", "--samples", "1")
    assert status == 0
    assert out.splitlines()[1] == f"vocab size: {len(set(''.join(NAMES))) + 1}"


def test_a_ten_million_character_document_costs_only_its_block(capsys, tmp_path, monkeypatch):
    path = tmp_path / "long.txt"
    path.write_text("ab" * 5_000_000 + "\n" + "\n".join(NAMES))
    from microgpt.data import Tokenizer

    encoded, real_encode = [], Tokenizer.encode
    monkeypatch.setattr(Tokenizer, "encode",
                        lambda self, text: encoded.append(len(text)) or real_encode(self, text))
    status, out, err = run(capsys, "train", "--data", path, "--steps", "20", "--samples", "1",
                           "--val-fraction", "0.5", *SMALL_MODEL)
    assert (status, err) == (0, "")
    assert max(encoded) <= 6  # --block-size: training and validation documents alike


# ---- writing only what was asked for, where it may be written -------------------------------


@pytest.fixture(params=["full", "null"])
def device(request, tmp_path) -> Path:
    """A character device to save onto. Root could replace /dev/full itself if the code under
    test regressed, so root gets a node of its own in tmp_path; others, who cannot replace
    /dev's entries anyway, get the real one."""
    if os.geteuid() != 0:
        return Path("/dev") / request.param
    node = tmp_path / request.param
    try:
        os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(1, {"null": 3, "full": 7}[request.param]))
    except OSError as exc:
        pytest.skip(f"cannot make a device node here ({exc.strerror})")
    return node


@posix_only
def test_a_device_is_never_replaced_by_a_checkpoint(capsys, dataset, device):
    mode = os.stat(device).st_mode
    status, out, err = run(capsys, "train", "--data", dataset, "--save", device)
    assert (status, out) == (1, "")
    assert_one_error_line(err, f"cannot save checkpoint to {device}: it is a character device")
    assert os.stat(device).st_mode == mode and stat.S_ISCHR(mode)


@posix_only
def test_a_fifo_is_never_replaced(capsys, dataset, tmp_path, deadline):
    deadline(30)  # opening a FIFO to write would wait for a reader
    os.mkfifo(tmp_path / "fifo")
    os.mkfifo(tmp_path / "fifo.png")
    before = tree(tmp_path)
    for option, path in (("--save", "fifo"), ("--plot", "fifo.png")):
        status, out, err = run(capsys, "train", "--data", dataset, option, tmp_path / path)
        assert (status, out) == (1, "")
        assert_one_error_line(err, "it is a FIFO (named pipe), not a regular file")
    assert tree(tmp_path) == before


@posix_only
def test_a_read_only_file_is_never_replaced(capsys, dataset, tmp_path):
    """Whoever runs it, root included (whom the permission bits do not stop)."""
    kept = tmp_path / "kept.safetensors"
    kept.write_bytes(b"keep me")
    kept.chmod(0o444)
    status, out, err = run(capsys, "train", "--data", dataset, "--steps", "1", "--save", kept)
    assert (status, out) == (1, "")
    assert_one_error_line(err, f"cannot save checkpoint to {kept}: it is read-only")
    assert kept.read_bytes() == b"keep me" and stat.S_IMODE(kept.stat().st_mode) == 0o444


def test_a_symlink_to_a_file_is_written_through(capsys, dataset, tmp_path):
    from microgpt.storage import checkpoint

    (tmp_path / "real").write_bytes(b"an older checkpoint")
    (tmp_path / "link").symlink_to("real")
    status, out, err = run(capsys, "train", "--data", dataset, "--steps", "2", "--save",
                           tmp_path / "link", *SMALL_MODEL)
    assert (status, err) == (0, "")
    assert os.readlink(tmp_path / "link") == "real"  # the link is still a link
    assert checkpoint.load(tmp_path / "real").training.step == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link", "names.txt", "real"]


@pytest.mark.parametrize("link", ["itself", "a hard link", "a symlink"])
def test_the_dataset_is_never_saved_over(capsys, dataset, tmp_path, link):
    target = {"itself": dataset, "a hard link": tmp_path / "hard.txt",
              "a symlink": tmp_path / "soft.txt"}[link]
    if link == "a hard link":
        os.link(dataset, target)
    elif link == "a symlink":
        target.symlink_to(dataset)
    before = tree(tmp_path)
    status, out, err = run(capsys, "train", "--data", dataset, "--save", target)
    assert (status, out) == (2, "")
    assert_one_error_line(err, f"{target} is the dataset; writing there would destroy it")
    assert tree(tmp_path) == before


def test_the_dataset_is_never_plotted_over(capsys, tmp_path):
    pytest.importorskip("matplotlib")
    data = tmp_path / "names.png"  # a name --plot accepts
    data.write_text("\n".join(NAMES))
    status, out, err = run(capsys, "train", "--data", data, "--plot", data)
    assert (status, out) == (2, "")
    assert_one_error_line(err, f"{data} is the dataset; writing there would destroy it")
    assert data.read_text() == "\n".join(NAMES)


def test_one_file_is_never_written_twice(capsys, dataset, tmp_path):
    pytest.importorskip("matplotlib")
    status, out, err = run(capsys, "train", "--data", dataset, "--save", tmp_path / "x.png",
                           "--plot", tmp_path / "x.png")
    assert (status, out) == (2, "")
    assert_one_error_line(err, "--save and --plot name the same file")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["names.txt"]


def test_the_plot_never_overwrites_the_checkpoint_it_resumes(capsys, dataset, tmp_path):
    pytest.importorskip("matplotlib")
    path = tmp_path / "m.png"
    assert run(capsys, "train", "--data", dataset, "--steps", "2", "--save", path)[0] == 0
    before = path.read_bytes()
    status, out, err = run(capsys, "train", "--data", dataset, "--resume", path, "--steps", "4",
                           "--plot", path)
    assert (status, out) == (2, "")
    assert_one_error_line(err, "would overwrite the checkpoint it resumes")
    assert path.read_bytes() == before


@posix_only
def test_the_file_the_output_goes_to_is_never_written(dataset, tmp_path):
    """`--save out.txt > out.txt`, and `--save /dev/stdout`, on a file and on a pipe."""
    out = tmp_path / "out.txt"
    for target in (out, "/dev/stdout"):
        with open(out, "w") as stdout:
            result = microgpt("train", "--data", dataset, "--save", target, stdout=stdout,
                              stderr=subprocess.PIPE, capture_output=False)
        assert result.returncode == 2
        assert_one_error_line(result.stderr, f"{target} is where the output goes")
        assert out.read_text() == ""
    result = microgpt("train", "--data", dataset, "--save", "/dev/stdout")  # a pipe
    assert (result.returncode, result.stdout) == (1, "")
    assert_one_error_line(result.stderr, "it is a FIFO (named pipe), not a regular file")


@pytest.mark.skipif(not os.path.exists("/proc/self/mem"), reason="needs Linux's /proc")
def test_a_file_that_fails_to_read_is_named_as_such(capsys):
    """/proc/self/mem opens, and fails with EIO when read: the dataset's error, not stdout's."""
    status, out, err = run(capsys, "train", "--data", "/proc/self/mem")
    assert (status, out) == (1, "")
    assert err == "error: cannot read dataset /proc/self/mem: Input/output error\n"


@pytest.mark.parametrize("option", ["--data", "--save", "--resume"])
def test_a_nul_in_a_path_is_one_line(capsys, dataset, option):
    """Only possible from Python (a shell cannot pass a NUL), but still one line."""
    argv = ["train", option, "a\0b"] + ([] if option == "--data" else ["--data", dataset])
    status, out, err = run(capsys, *argv)
    assert (status, out) == (1, "")
    assert_one_error_line(err, "embedded null")  # "byte" to Python 3.12, "character" after


@pytest.mark.skipif(os.name != "posix" or os.geteuid() != 0 or not Path("/usr/bin/setpriv")
                    .exists(), reason="runs a child as nobody: needs root and setpriv")
def test_permissions_of_another_user(tmp_path):
    """As a user who may not enter a directory or write a file: one line, nothing written."""
    import tempfile

    base = Path(tempfile.mkdtemp(dir="/tmp"))
    try:
        base.chmod(0o755)
        (base / "names.txt").write_text("\n".join(NAMES))
        (base / "closed").mkdir(mode=0o700)
        (base / "closed" / "names.txt").write_text("\n".join(NAMES))
        (base / "readonly").mkdir(mode=0o755)
        (base / "readonly.ckpt").write_bytes(b"keep me")
        (base / "readonly.ckpt").chmod(0o444)
        nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                  sys.executable, "-m", "microgpt", "train"]
        probe = subprocess.run([*nobody[:-3], "-c", "import microgpt.cli"], capture_output=True,
                               cwd=base, check=False, env=os.environ | {"PYTHONPATH": str(REPO)})
        if probe.returncode != 0:
            pytest.skip("nobody cannot run this Python")
        cases = [
            (["--data", base / "closed" / "names.txt"], "Permission denied"),
            (["--data", base / "names.txt", "--save", base / "readonly" / "m"],
             "is not writable"),
            (["--data", base / "names.txt", "--save", base / "readonly.ckpt"], "it is read-only"),
        ]
        for argv, message in cases:
            result = subprocess.run([*nobody, *map(str, argv)], capture_output=True, text=True,
                                    cwd=base, timeout=60, check=False,
                                    env=os.environ | {"PYTHONPATH": str(REPO)})
            assert result.returncode == 1 and result.stdout == ""
            assert_one_error_line(result.stderr, message)
        assert (base / "readonly.ckpt").read_bytes() == b"keep me"
        assert list((base / "readonly").iterdir()) == []
    finally:
        import shutil
        shutil.rmtree(base)


# ---- sizes: refused (or said) before the time is spent ----------------------------------------


SIZES = {
    "n-embd 4096": (["--n-embd", "4096"], "a model of 201,"),
    "n-layer 129": (["--n-layer", "129"], "--n-layer: must be an integer in 1..128"),
    "block-size 10**7": (["--block-size", "10000000"], "more than the 10,000,000"),
    "batch-size 10**9": (["--batch-size", "1000000000"], "a training step of this size"),
    "steps 10**7 + 1": (["--steps", "10000001"], "--steps: must be an integer in 1..10,000,000"),
    "seed -1": (["--seed", "-1"], "--seed: must be an integer in [0, 2**64)"),
    "sha256 not hex": (["--data-sha256", "xyz"], "--data-sha256: must be 64 hexadecimal"),
}


@pytest.mark.parametrize("options, message", SIZES.values(), ids=SIZES.keys())
def test_sizes_and_numbers_out_of_bounds_are_refused_before_reading_data(capsys, tmp_path,
                                                                        options, message,
                                                                        deadline):
    deadline(30)
    start = time.perf_counter()
    # The dataset does not exist: the options must be refused before it is looked for.
    status, out, err = run(capsys, "train", "--data", tmp_path / "missing", *options)
    assert time.perf_counter() - start < 5
    assert (status, out) == (2, "")
    assert_one_error_line(err, message)


def test_a_batch_larger_than_the_dataset_is_refused(capsys, dataset):
    status, out, err = run(capsys, "train", "--data", dataset, "--batch-size", "11")
    assert (status, out) == (2, "")
    assert_one_error_line(err, "--batch-size 11 is more than the 10 documents there are")
    status, out, err = run(capsys, "train", "--data", dataset, "--batch-size", "9",
                           "--val-fraction", "0.2")
    assert (status, out) == (2, "")
    assert_one_error_line(err, "--batch-size 9 is more than the 8 documents")


def test_a_vocabulary_too_large_for_the_model_bound_is_refused_before_drawing_weights(
        capsys, tmp_path, deadline):
    deadline(30)
    chars = [chr(c) for c in range(0x4E00, 0x4E00 + 400_000) if not 0xD800 <= c < 0xE000]
    path = tmp_path / "many.txt"
    path.write_text("\n".join("".join(chars[i:i + 50]) for i in range(0, len(chars), 50)))
    status, out, err = run(capsys, "train", "--data", path)
    assert (status, out) == (2, "")
    assert_one_error_line(err, "more than the 10,000,000 microgpt allows")


def test_the_data_sha256_is_checked(capsys, dataset):
    status, out, err = run(capsys, "train", "--data", dataset, "--data-sha256", "0" * 64)
    assert (status, out) == (1, "")
    assert_one_error_line(err, f"does not have the sha256 {'0' * 64}")


# ---- divergence -------------------------------------------------------------------------------


@pytest.mark.parametrize("engine, lr", [("tensor", "1e9"), ("scalar", "1")])
def test_divergence_stops_both_engines_with_one_line(capsys, dataset, tmp_path, engine, lr):
    status, out, err = run(capsys, "train", "--data", dataset, "--engine", engine, "--lr", lr,
                           "--steps", "30", "--save", tmp_path / "m", *SMALL_MODEL)
    assert status == 1
    assert re.fullmatch(r"error: training diverged at step \d+ \(.+\); try a smaller --lr\n",
                        err), err
    assert "inference" not in out and not (tmp_path / "m").exists()


def test_compare_never_reports_agreement_over_nan(capsys, dataset):
    status, out, err = run(capsys, "compare", "--data", dataset, "--lr", "1e300", "--steps", "5",
                           *SMALL_MODEL)
    assert status == 1
    assert re.fullmatch(r"error: training diverged at step \d+ \(.+\) on the \w+ engine; try a "
                        r"smaller --lr\n", err), err
    assert "max loss diff" not in out


def test_compare_stops_when_only_one_engine_diverges(capsys, dataset, wrap_training_steps):
    def nan_at_step_2(k, batch, step):
        loss = step(batch)
        return loss * float("nan") if k == 2 else loss

    wrap_training_steps(gpt_tensor, nan_at_step_2)
    status, out, err = run(capsys, "compare", "--data", dataset, "--steps", "3", *SMALL_MODEL)
    assert status == 1
    assert_one_error_line(err, "training diverged at step 2 (loss nan) on the tensor engine")
    assert "max loss diff" not in out


# ---- output that cannot be written ---------------------------------------------------------


@posix_only
def test_closed_stdout_is_one_line(dataset):
    result = microgpt("train", "--data", dataset, "--steps", "2", stdout=None,
                      stderr=subprocess.PIPE, capture_output=False,
                      preexec_fn=lambda: (limited(), os.close(1)))
    assert result.returncode == 1
    assert_one_error_line(result.stderr, "standard output is closed")


@posix_only
def test_a_full_disk_for_stdout_is_one_line_before_training(dataset):
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full")
    with open("/dev/full", "w") as full:
        # No step line before the millionth: the error must come from the header.
        result = microgpt("train", "--data", dataset, "--steps", "1000000", "--log-every",
                          "1000000", stdout=full, stderr=subprocess.PIPE, capture_output=False,
                          timeout=60)
    assert result.returncode == 1
    assert_one_error_line(result.stderr,
                          "cannot write to standard output: No space left on device")


def test_an_unwritable_output_fails_before_training(capsys, dataset, monkeypatch):
    """However much the output buffers: the header is flushed before the first step."""
    from microgpt.train import Trainer

    class Full(io.RawIOBase):
        full = True

        def writable(self) -> bool:
            return True

        def write(self, data) -> int:
            if self.full:
                raise OSError(errno.ENOSPC, "No space left on device")
            return len(data)

    disk = Full()
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(io.BufferedWriter(disk, 1 << 20)))
    monkeypatch.setattr(Trainer, "run", lambda *args: pytest.fail("trained first"))
    status = cli.main(["train", "--data", str(dataset)])
    disk.full = False  # the stream's last flush, when it is collected, may succeed
    assert status == 1
    assert_one_error_line(capsys.readouterr().err,
                          "cannot write to standard output: No space left on device")


def test_an_unforeseen_os_error_is_still_one_line(capsys, dataset, wrap_training_steps):
    def failing_disk(k, batch, step):
        raise OSError(errno.EIO, "Input/output error")

    wrap_training_steps(gpt_tensor, failing_disk)
    status, _, err = run(capsys, "train", "--data", dataset, "--steps", "2")
    assert (status, err) == (1, "error: Input/output error\n")


@posix_only
def test_a_reader_that_goes_away_ends_the_run_quietly(dataset):
    child = subprocess.Popen([sys.executable, "-m", "microgpt", "train", "--data", str(dataset),
                              "--steps", "100000"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, cwd=REPO, preexec_fn=limited)
    assert child.stdout.readline() == b"num docs: 10\n"
    child.stdout.close()  # `| head -1`
    _, err = child.communicate(timeout=60)
    assert (child.returncode, err) == (141, b"")


@posix_only
@pytest.mark.parametrize("environment", [{"PYTHONIOENCODING": "ascii"},
                                         {"LC_ALL": "C", "LANG": "C"}])
def test_a_terminal_without_utf8_gets_escapes_not_a_traceback(tmp_path, environment):
    path = tmp_path / "names.txt"
    path.write_text("zoë\nrené\nchloé\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("LC_ALL", "LANG", "LC_CTYPE")}
    result = microgpt("train", "--data", path, "--steps", "20", "--temperature", "2",
                      env=env | environment)
    assert (result.returncode, result.stderr) == (0, ""), result.stderr
    assert "sample 20:" in result.stdout


def test_closed_stderr_leaves_the_status_and_nothing_on_stdout(capsys, dataset, monkeypatch):
    monkeypatch.setattr(sys, "stderr", None)
    assert cli.main(["train", "--data", str(dataset), "--steps", "0"]) == 2
    assert capsys.readouterr().out == ""


def fill_the_disk_under(path: Path) -> None:
    """From now on, writing the file ``path`` that this process holds open fails as on a full
    disk: its descriptor is pointed at /dev/full."""
    target = os.stat(path)
    full = os.open("/dev/full", os.O_WRONLY)
    try:
        for name in os.listdir("/proc/self/fd"):
            with contextlib.suppress(OSError):  # the listing's own descriptor, closed by now
                if os.path.samestat(os.fstat(int(name)), target):
                    os.dup2(full, int(name))
    finally:
        os.close(full)


@pytest.mark.skipif(not (os.path.exists("/dev/full") and os.path.isdir("/proc/self/fd")),
                    reason="needs /dev/full and Linux's /proc")
@pytest.mark.parametrize("save", ["given", "failing", "absent"])
def test_a_log_that_fills_the_disk_stops_the_run_and_saves_it(capsys, dataset, tmp_path,
                                                              wrap_training_steps, save):
    """As a stop signal does: the checkpoint holds the steps done, no sample is drawn."""
    from microgpt.storage import checkpoint

    log, saved = tmp_path / "run.jsonl", tmp_path / "m"

    def full_in_step_3(k, batch, step):
        if k == 3:  # steps 1 and 2 are logged; writing step 3's record fails
            fill_the_disk_under(log)
            if save == "failing":
                saved.mkdir()
        return step(batch)

    wrap_training_steps(gpt_tensor, full_in_step_3)
    argv = ["--save", saved] if save != "absent" else []
    status, out, err = run(capsys, "train", "--data", dataset, "--steps", "6", "--log", log,
                           *argv, *SMALL_MODEL)
    assert status == 1 and "inference" not in out
    start = f"error: cannot write --log {log}: No space left on device; stopped at step 3 / 6; "
    assert err.startswith(start) and err.count("\n") == 1, err
    outcome = err[len(start):-1]
    if save == "given":
        assert outcome == f"checkpoint saved to {saved} (continue with --resume {saved})"
        assert checkpoint.load(saved).training.step == 3
    elif save == "failing":
        assert outcome.startswith(f"cannot write checkpoint {saved}: ")
        assert outcome.endswith("; the run is not saved")
    else:
        assert outcome == "nothing saved (no --save)"
    assert [json.loads(line)["step"] for line in log.read_text().splitlines()] == [1, 2]


# ---- signals -------------------------------------------------------------------------------


def signal_during_step(wrap_training_steps, step: int, *signums: int) -> None:
    """Deliver the ``signums`` in the middle of step ``step`` (1-based)."""

    def step_with_signals(k, batch, real_step):
        if k == step:
            for signum in signums:
                os.kill(os.getpid(), signum)
        return real_step(batch)

    wrap_training_steps(gpt_tensor, step_with_signals)


@posix_only
def test_sigterm_saves_and_exits_like_ctrl_c(capsys, dataset, tmp_path, monkeypatch,
                                             wrap_training_steps):
    from microgpt.storage import checkpoint

    signal_during_step(wrap_training_steps, 3, signal.SIGTERM)
    part = tmp_path / "part"
    status, out, err = run(capsys, "train", "--data", dataset, "--steps", "6", "--save", part,
                           *SMALL_MODEL)
    monkeypatch.undo()
    assert status == 143
    assert err == (f"error: terminated at step 3 / 6; checkpoint saved to {part} (continue "
                   f"with --resume {part})\n")
    assert "inference" not in out
    assert checkpoint.load(part).training.step == 3
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # restored


@posix_only
def test_sigterm_without_save_says_nothing_was_saved(capsys, dataset, tmp_path,
                                                     wrap_training_steps):
    signal_during_step(wrap_training_steps, 2, signal.SIGTERM)
    status, _, err = run(capsys, "train", "--data", dataset, "--steps", "6", *SMALL_MODEL)
    assert status == 143
    assert err == "error: terminated at step 2 / 6; nothing saved (no --save)\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["names.txt"]


@posix_only
def test_a_second_signal_stops_at_once_without_saving(capsys, dataset, tmp_path,
                                                      wrap_training_steps):
    signal_during_step(wrap_training_steps, 2, signal.SIGINT, signal.SIGINT)
    status, _, err = run(capsys, "train", "--data", dataset, "--steps", "6", "--save",
                         tmp_path / "m", *SMALL_MODEL)
    assert (status, err) == (130, "error: interrupted\n")
    assert not (tmp_path / "m").exists()  # half a step is never saved


@posix_only
def test_sigterm_outside_training_stops_with_one_line(capsys, dataset, monkeypatch):
    def terminated(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGTERM)
        return [0]

    monkeypatch.setattr(gpt_tensor, "generate", terminated)  # while sampling
    status, _, err = run(capsys, "train", "--data", dataset, "--steps", "1", *SMALL_MODEL)
    assert (status, err) == (143, "error: terminated\n")


@posix_only
def test_a_real_sigterm_to_a_real_run(dataset, tmp_path):
    from microgpt.storage import checkpoint

    path = tmp_path / "m"
    child = subprocess.Popen([sys.executable, "-m", "microgpt", "train", "--data", str(dataset),
                              "--steps", "1000000", "--save", str(path), *SMALL_MODEL],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
                             env=os.environ | {"PYTHONUNBUFFERED": "1"}, preexec_fn=limited)
    for line in child.stdout:
        if line.startswith("step    5 /"):
            break
    child.send_signal(signal.SIGTERM)
    _, err = child.communicate(timeout=60)
    assert child.returncode == 143
    step = int(re.fullmatch(rf"error: terminated at step (\d+) / 1000000; checkpoint saved to "
                            rf"{re.escape(str(path))} \(continue with --resume .*\)\n", err)[1])
    assert checkpoint.load(path).training.step == step >= 5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m", "names.txt"]  # no temporary


def test_an_ignored_sigint_stays_ignored():
    from microgpt.cli import signals

    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # `nohup`, a background job
    try:
        with signals.held():
            assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
        with signals.sigterm_raises():
            assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)


def test_a_signal_held_to_the_end_of_the_block_stops_there():
    from microgpt.cli import signals

    with pytest.raises(KeyboardInterrupt), signals.held() as stop:
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.01)  # delivered, and held
        assert stop.signum == signal.SIGINT
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


# ---- a dataset from a URL, through the command line -----------------------------------------


def test_data_from_a_url_is_downloaded_once(capsys, tmp_path, monkeypatch):
    import pooch.core
    from loopback import GOOD_SHA, offline, serving

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    offline(monkeypatch)
    monkeypatch.setattr(pooch.core, "time", type("NoSleep", (), {"sleep": lambda s: None}))
    with serving() as server:
        url = server.url("/names.txt")
        status, out, err = run(capsys, "train", "--data", url, "--data-sha256", GOOD_SHA,
                               "--steps", "2", "--samples", "1")
        assert status == 0 and out.startswith("num docs: 5\n")
        assert re.search(rf"^downloaded {re.escape(url)} \(sha256 {GOOD_SHA}\) to .*\n\Z", err,
                         re.MULTILINE)
        status, out, err = run(capsys, "train", "--data", url, "--steps", "2", "--samples", "1")
        assert status == 0 and err.startswith(f"using the copy of {url} cached at ")
        assert server.hits["/names.txt"] == 1
        status, out, err = run(capsys, "train", "--data", server.url("/gone.txt"))
        assert (status, out) == (1, "") and err.startswith("downloading ")
        assert_one_error_line(err.splitlines(keepends=True)[-1], "HTTPError: 404 Client Error")
