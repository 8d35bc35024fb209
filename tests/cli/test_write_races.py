"""Writing when the world has changed since the run began (issue #27).

A check made before training holds when the file is written: the path swapped for a link
to the dataset meanwhile (or to the output's file, the log, the checkpoint), made read-only
or mounted over, is refused then too; the log is checked on the file it opens. A write that
fails at the end says in one line what was kept and what was skipped, and leaves no
temporary file. A path ending in "/" names a directory. Another writer's temporary file is
removed only when nobody holds it locked. A deleted working directory is one line. SIGHUP
(a closed terminal) saves as Ctrl-C and SIGTERM do, though the terminal is gone.

The changes "during training" happen in a training step (``wrap_training_steps``), and the
ones "during the write" in ``os.fsync``, which a write calls between its first check and
its rename.
"""

from __future__ import annotations

import errno
import fcntl
import io
import os
import pty
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest
from paths import REPO
from test_cli import SMALL_MODEL
from test_cli_faults import run

import microgpt
from microgpt import cli, gpt_tensor
from microgpt.storage import atomic, checkpoint

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX files, locks and signals")




def one_line(err: str) -> str:
    """The message of the one ``error: ...`` line that ``err`` must be."""
    assert err.startswith("error: ") and err.count("\n") == 1 and err.endswith("\n"), err
    return err[len("error: "):-1]


def temporaries(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


def at_step(wrap_training_steps, step: int, change) -> None:
    """Call ``change()`` during training step ``step`` (1-based)."""

    def step_with_change(k, batch, real_step):
        if k == step:
            change()
        return real_step(batch)

    wrap_training_steps(gpt_tensor, step_with_change)


def during_the_write(monkeypatch, change) -> None:
    """Call ``change()`` once a write's content is complete, before its rename."""
    real_fsync = os.fsync

    def fsync(fd):
        real_fsync(fd)
        change()

    monkeypatch.setattr(atomic.os, "fsync", fsync)


def swap_for_link(path: Path, target: Path, kind: str = "symlink") -> None:
    path.unlink(missing_ok=True)
    if kind == "symlink":
        path.symlink_to(target)
    else:
        os.link(target, path)


# ---- a check made before training holds when the file is written --------------------------


@pytest.mark.parametrize("kind", ["symlink", "hard link"])
def test_a_link_to_the_dataset_swapped_in_during_training_is_not_saved_over(
        capsys, dataset, tmp_path, wrap_training_steps, kind):
    before = dataset.read_bytes()
    save = tmp_path / "m"
    at_step(wrap_training_steps, 2, lambda: swap_for_link(save, dataset, kind))
    status, out, err = run(capsys, "train", "--data", dataset, "--steps", "3", "--save", save,
                           *SMALL_MODEL)
    assert status == 1
    assert one_line(err) == (f"cannot write checkpoint {save}: it is the dataset; the run is "
                             "not saved; the samples skipped")
    assert dataset.read_bytes() == before and "inference" not in out
    assert temporaries(tmp_path) == []


def test_a_stopped_run_does_not_save_over_the_dataset_either(capsys, dataset, tmp_path,
                                                             wrap_training_steps):
    before = dataset.read_bytes()
    save = tmp_path / "m"

    def swap_and_stop():
        swap_for_link(save, dataset)
        os.kill(os.getpid(), signal.SIGTERM)

    at_step(wrap_training_steps, 2, swap_and_stop)
    status, _, err = run(capsys, "train", "--data", dataset, "--steps", "6", "--save", save,
                         *SMALL_MODEL)
    assert status == 143
    assert one_line(err) == (f"terminated at step 2 / 6; cannot write checkpoint {save}: it "
                             "is the dataset; the run is not saved")
    assert dataset.read_bytes() == before and temporaries(tmp_path) == []


def test_the_file_the_output_goes_to_is_not_saved_over_when_it_is_swapped_in(
        capsys, dataset, tmp_path, monkeypatch, wrap_training_steps):
    out = tmp_path / "out.txt"
    save = tmp_path / "m"
    monkeypatch.setattr(sys, "stdout", open(out, "w"))  # noqa: SIM115  (`> out.txt`)
    at_step(wrap_training_steps, 2, lambda: swap_for_link(save, out))
    status = cli.main(["train", "--data", str(dataset), "--steps", "3", "--save", str(save),
                       *SMALL_MODEL])
    sys.stdout.close()
    assert status == 1
    assert one_line(capsys.readouterr().err).startswith(
        f"cannot write checkpoint {save}: it is where the output goes; the run is not saved")
    assert out.read_text().startswith("num docs: 10\n")  # the output, not a checkpoint


def test_the_plot_does_not_replace_the_checkpoint_when_it_becomes_a_link_to_it(
        capsys, dataset, tmp_path, wrap_training_steps):
    pytest.importorskip("matplotlib")
    save, picture = tmp_path / "m", tmp_path / "loss.png"
    at_step(wrap_training_steps, 2, lambda: swap_for_link(picture, save))
    status, _, err = run(capsys, "train", "--data", dataset, "--steps", "3", "--save", save,
                         "--plot", picture, "--samples", "0", *SMALL_MODEL)
    assert status == 1
    assert one_line(err) == (f"cannot write the plot to {picture}: it is the checkpoint; "
                             f"checkpoint saved to {save} (continue with --resume {save})")
    assert checkpoint.load(save).training.step == 3


@pytest.mark.parametrize("swapped", ["the dataset", "the checkpoint it resumes"])
def test_the_log_is_not_opened_over_what_was_swapped_in_as_the_run_starts(
        capsys, dataset, tmp_path, monkeypatch, swapped):
    """Between the checks and the first step the weights are drawn (seconds, for a large
    model): the log, written as the run goes, is checked on the file it opens."""
    from microgpt.cli import training

    resumed = tmp_path / "r"
    assert run(capsys, "train", "--data", dataset, "--steps", "2", "--save", resumed,
               *SMALL_MODEL)[0] == 0
    kept = dataset if swapped == "the dataset" else resumed
    before = kept.read_bytes()
    log = tmp_path / "log.jsonl"
    real_header = training.print_header

    def header_then_swap(*args):
        real_header(*args)
        swap_for_link(log, kept)

    monkeypatch.setattr(training, "print_header", header_then_swap)
    status, _, err = run(capsys, "train", "--data", dataset, "--resume", resumed, "--steps",
                         "3", "--log", log)
    assert status == 1
    assert one_line(err) == f"cannot write --log {log}: it is {swapped}"
    assert kept.read_bytes() == before


def test_the_checkpoint_is_not_saved_over_the_log(capsys, dataset, tmp_path,
                                                  wrap_training_steps):
    save, log = tmp_path / "m", tmp_path / "log.jsonl"
    at_step(wrap_training_steps, 2, lambda: swap_for_link(save, log))
    status, _, err = run(capsys, "train", "--data", dataset, "--steps", "3", "--save", save,
                         "--log", log, "--samples", "0", *SMALL_MODEL)
    assert status == 1
    assert one_line(err) == (f"cannot write checkpoint {save}: it is the log; the run is not "
                             f"saved; log written to {log}")
    assert len(log.read_text().splitlines()) == 3


@pytest.fixture
def bind_mount():
    """``mount(source, target)``: bind-mount the file ``source`` over ``target`` (as a
    container's volume is), unmounted after the test. Needs root and the right to mount."""
    mounted = []

    def mount(source: Path, target: Path) -> None:
        result = subprocess.run(["mount", "--bind", str(source), str(target)],
                                capture_output=True, check=False)
        if result.returncode != 0:
            pytest.skip(f"cannot bind-mount here: {result.stderr.decode().strip()}")
        mounted.append(target)

    if os.geteuid() != 0 or not Path("/proc/self/mountinfo").exists():
        pytest.skip("bind mounts need root and Linux")
    yield mount
    for target in mounted:
        subprocess.run(["umount", str(target)], check=True)


def test_a_bind_mounted_file_is_refused_before_training(capsys, dataset, tmp_path, bind_mount):
    (tmp_path / "volume").write_bytes(b"the host's file")
    save = tmp_path / "m"
    save.write_bytes(b"")
    bind_mount(tmp_path / "volume", save)
    status, out, err = run(capsys, "train", "--data", dataset, "--steps", "3", "--save", save)
    assert (status, out) == (1, "")
    assert one_line(err).startswith(f"cannot save checkpoint to {save}: it is a mount point")


def test_a_file_mounted_during_training_is_refused_when_saving(capsys, dataset, tmp_path,
                                                               bind_mount, wrap_training_steps):
    (tmp_path / "volume").write_bytes(b"the host's file")
    save = tmp_path / "m"
    save.write_bytes(b"an older checkpoint")
    at_step(wrap_training_steps, 2, lambda: bind_mount(tmp_path / "volume", save))
    status, _, err = run(capsys, "train", "--data", dataset, "--steps", "3", "--save", save,
                         "--samples", "0", *SMALL_MODEL)
    assert status == 1
    message = one_line(err)
    assert message.startswith(f"cannot write checkpoint {save}: it is a mount point")
    assert message.endswith("; the run is not saved")
    assert save.read_bytes() == b"the host's file" and temporaries(tmp_path) == []


def test_a_real_ebusy_at_the_rename_says_the_run_is_not_saved(capsys, dataset, tmp_path,
                                                              bind_mount, monkeypatch):
    """Mounted after the last check, just before the rename: the rename itself fails."""
    (tmp_path / "volume").write_bytes(b"the host's file")
    save = tmp_path / "m"
    save.write_bytes(b"an older checkpoint")
    real_replace = os.replace

    def mount_then_replace(src, dst, **kwargs):
        bind_mount(tmp_path / "volume", save)
        return real_replace(src, dst, **kwargs)

    monkeypatch.setattr(atomic.os, "replace", mount_then_replace)
    status, _, err = run(capsys, "train", "--data", dataset, "--steps", "3", "--save", save,
                         "--samples", "0", *SMALL_MODEL)
    assert status == 1
    assert one_line(err) == (f"cannot write checkpoint {save}: Device or resource busy; the "
                             "run is not saved")
    assert temporaries(tmp_path) == []


@pytest.fixture
def small_run(dataset) -> microgpt.Run:
    data = microgpt.load_dataset(dataset)
    settings = microgpt.TrainSettings(steps=1, n_embd=8, n_head=2, block_size=6)
    run = microgpt.Run(data, settings)
    list(run)
    return run


def test_a_run_never_saves_over_its_dataset_even_if_the_path_changes_during_the_write(
        small_run, dataset, tmp_path, monkeypatch):
    before = dataset.read_bytes()
    save = tmp_path / "m"
    save.write_bytes(b"an older checkpoint")
    during_the_write(monkeypatch, lambda: swap_for_link(save, dataset))
    with pytest.raises(microgpt.CheckpointError, match="replaced by a link while it was being "
                                                       "written"):
        small_run.save(save)
    assert dataset.read_bytes() == before and temporaries(tmp_path) == []
    monkeypatch.undo()
    with pytest.raises(microgpt.CheckpointError, match=f"cannot write checkpoint {save}: it "
                                                       "is the dataset"):
        small_run.save(save)  # the link is still there: refused when the write starts


def test_a_directory_replaced_during_the_write_gets_nothing(small_run, tmp_path, monkeypatch):
    """The temporary file is renamed in the directory it was written in, or not at all."""
    folder = tmp_path / "runs"
    folder.mkdir()

    def replace_the_folder():
        folder.rename(tmp_path / "moved")
        folder.mkdir()

    during_the_write(monkeypatch, replace_the_folder)
    with pytest.raises(microgpt.CheckpointError, match="moved or replaced"):
        small_run.save(folder / "m")
    assert list(folder.iterdir()) == [] and list((tmp_path / "moved").iterdir()) == []


def test_a_file_made_read_only_during_the_write_is_not_replaced(small_run, tmp_path,
                                                                monkeypatch):
    save = tmp_path / "m"
    save.write_bytes(b"keep me")
    during_the_write(monkeypatch, lambda: save.chmod(0o444))
    with pytest.raises(microgpt.CheckpointError, match="it is read-only"):
        small_run.save(save)
    assert save.read_bytes() == b"keep me" and temporaries(tmp_path) == []


# ---- a write that fails at the end says what was kept -----------------------------------------


def failing_rename(monkeypatch, error: int, only: str = "") -> None:
    """Make the rename that ends a write fail with ``error`` (for targets ending in ``only``):
    EBUSY is what a bind-mounted target gives, which needs root and a mount to make."""
    real_replace = os.replace

    def replace(src, dst, **kwargs):
        if str(dst).endswith(only):
            raise OSError(error, os.strerror(error))
        return real_replace(src, dst, **kwargs)

    monkeypatch.setattr(atomic.os, "replace", replace)


def test_a_save_that_fails_at_the_end_says_what_was_kept_and_skipped(capsys, dataset,
                                                                      tmp_path, monkeypatch):
    save, log = tmp_path / "m", tmp_path / "log.jsonl"
    save.write_bytes(b"an older checkpoint")
    failing_rename(monkeypatch, errno.EBUSY)
    status, out, err = run(capsys, "train", "--data", dataset, "--steps", "3", "--save", save,
                           "--log", log, "--plot", tmp_path / "loss.png", *SMALL_MODEL)
    assert status == 1
    assert one_line(err) == (f"cannot write checkpoint {save}: Device or resource busy; the "
                             f"run is not saved; log written to {log}; the plot and the "
                             "samples skipped")
    assert "inference" not in out and "trained" not in out
    assert save.read_bytes() == b"an older checkpoint"
    assert len(log.read_text().splitlines()) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["log.jsonl", "m", "names.txt"]


def test_a_plot_that_fails_after_the_save_says_the_checkpoint_is_kept(capsys, dataset,
                                                                       tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    save, picture = tmp_path / "m", tmp_path / "loss.png"
    failing_rename(monkeypatch, errno.ENOSPC, only=".png")
    status, out, err = run(capsys, "train", "--data", dataset, "--steps", "3", "--save", save,
                           "--plot", picture, *SMALL_MODEL)
    assert status == 1
    assert one_line(err) == (f"cannot write the plot to {picture}: No space left on device; "
                             f"checkpoint saved to {save} (continue with --resume {save}); "
                             "the samples skipped")
    assert "inference" not in out
    assert checkpoint.load(save).training.step == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m", "names.txt"]


def test_a_save_that_fails_after_a_stop_signal_says_so(capsys, dataset, tmp_path, monkeypatch,
                                                       wrap_training_steps):
    failing_rename(monkeypatch, errno.EBUSY)
    at_step(wrap_training_steps, 2, lambda: os.kill(os.getpid(), signal.SIGINT))
    status, _, err = run(capsys, "train", "--data", dataset, "--steps", "6", "--save",
                         tmp_path / "m", *SMALL_MODEL)
    assert status == 130
    assert one_line(err) == (f"interrupted at step 2 / 6; cannot write checkpoint "
                             f"{tmp_path / 'm'}: Device or resource busy; the run is not saved")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["names.txt"]


# ---- a trailing slash names a directory ---------------------------------------------------------


@pytest.mark.parametrize("exists", [True, False], ids=["a file", "nothing"])
@pytest.mark.parametrize("option, name", [("--save", "keep.ck"), ("--plot", "keep.png"),
                                          ("--log", "keep.log")])
def test_a_path_ending_in_a_slash_is_not_a_file(capsys, dataset, tmp_path, option, name,
                                                exists):
    if exists:
        (tmp_path / name).write_bytes(b"keep me")
    before = sorted(tmp_path.iterdir())
    status, out, err = run(capsys, "train", "--data", dataset, option, f"{tmp_path / name}/")
    assert (status, out) == (1, "")
    assert "Not a directory" in one_line(err)
    assert sorted(tmp_path.iterdir()) == before
    if exists:
        assert (tmp_path / name).read_bytes() == b"keep me"


def test_the_api_does_not_save_a_path_ending_in_a_slash_either(small_run, tmp_path):
    (tmp_path / "keep.ck").write_bytes(b"keep me")
    for path in (f"{tmp_path}/keep.ck/", f"{tmp_path}/new.ck/", f"{tmp_path}/new.ck/."):
        with pytest.raises(microgpt.CheckpointError, match="Not a directory"):
            small_run.save(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.ck", "names.txt"]
    assert (tmp_path / "keep.ck").read_bytes() == b"keep me"


# ---- temporary files of other writers --------------------------------------------------------


DEAD_PID = 9_999_999  # above Linux's largest pid: no process of this namespace has it


def leftover(directory: Path, name: str, age: float) -> Path:
    """A temporary file as a writer leaves it, last written ``age`` seconds ago."""
    path = directory / name
    path.write_bytes(b"half a checkpoint")
    os.utime(path, (time.time() - age, time.time() - age))
    return path


@pytest.fixture
def live_writer(tmp_path):
    """``hold(path)``: another process (another container's, say, whose pid means nothing
    here) holds ``path`` locked, as a writer does its temporary file while it lives."""
    children = []

    def hold(path: Path) -> None:
        child = subprocess.Popen(
            [sys.executable, "-c", "import fcntl, sys; f = open(sys.argv[1], 'rb'); "
             "fcntl.flock(f, fcntl.LOCK_EX); print('held', flush=True); sys.stdin.read()",
             str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        children.append(child)
        assert child.stdout.readline() == "held\n"

    yield hold
    for child in children:
        child.communicate(timeout=30)


def test_only_temporary_files_nobody_holds_and_nobody_wrote_for_an_hour_are_removed(
        capsys, dataset, tmp_path, live_writer):
    hour = atomic.STALE_AFTER
    live = leftover(tmp_path, f".microgpt-{DEAD_PID}-live01.tmp", 2 * hour)
    live_writer(live)  # alive, though its pid is not alive here
    dead = leftover(tmp_path, f".microgpt-{DEAD_PID}-dead01.tmp", 2 * hour)
    recent = leftover(tmp_path, f".microgpt-{DEAD_PID}-recent.tmp", 60)  # locks not shared?
    unrelated = leftover(tmp_path, ".notes.tmp", 2 * hour)
    status, _, err = run(capsys, "train", "--data", dataset, "--steps", "1", "--save",
                         tmp_path / "m", *SMALL_MODEL)
    assert (status, err) == (0, "")
    assert live.exists() and recent.exists() and unrelated.exists()
    assert not dead.exists()


def test_a_writer_holds_its_temporary_file_locked_until_it_is_renamed(small_run, tmp_path,
                                                                      monkeypatch):
    held = []

    def try_to_lock():
        (name,) = temporaries(tmp_path)
        with open(tmp_path / name, "rb") as other:  # as another process's cleaner would
            try:
                fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                held.append(name)

    during_the_write(monkeypatch, try_to_lock)
    small_run.save(tmp_path / "m")
    assert len(held) == 1 and temporaries(tmp_path) == []


# ---- a deleted working directory ---------------------------------------------------------------


@pytest.mark.parametrize("argv, message", [
    (["train", "--save", "m"], "cannot save checkpoint to m: "),
    (["train", "--plot", "loss.png"], "cannot write --plot loss.png: "),
    (["train", "--log", "log.jsonl"], "cannot write --log log.jsonl: "),
    (["train", "--data", "names.txt"], "cannot read dataset names.txt: "),
    (["sample", "--load", "m"], "cannot read checkpoint m: "),
    (["graph", "--out", "g.dot"], "cannot write --out g.dot: "),
    (["convert", "old.npz", "new"], "cannot save checkpoint to new: "),
], ids=["save", "plot", "log", "data", "load", "graph", "convert"])
def test_a_deleted_working_directory_is_one_line(capsys, tmp_path, monkeypatch, argv,
                                                 message):
    gone = tmp_path / "gone"
    gone.mkdir()
    monkeypatch.chdir(gone)
    gone.rmdir()
    status, out, err = run(capsys, *argv)
    assert (status, out) == (1, "")
    assert one_line(err) == message + "the current directory no longer exists"


# ---- SIGHUP: the terminal was closed -----------------------------------------------------------


def train_until_stepping(path: Path, dataset: Path, extra_env: dict | None = None,
                         **options) -> subprocess.Popen:
    """``microgpt train`` of a million steps saving to ``path``, to be stopped."""
    return subprocess.Popen(
        [sys.executable, "-m", "microgpt", "train", "--data", str(dataset), "--steps",
         "1000000", "--save", str(path), *SMALL_MODEL], cwd=REPO,
        env=os.environ | {"PYTHONUNBUFFERED": "1"} | (extra_env or {}), **options)


def test_a_real_sighup_to_a_real_run_saves_as_sigterm_does(dataset, tmp_path):
    path = tmp_path / "m"
    child = train_until_stepping(path, dataset, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True)
    for line in child.stdout:
        if line.startswith("step    5 /"):
            break
    child.send_signal(signal.SIGHUP)
    _, err = child.communicate(timeout=60)
    assert child.returncode == 129, err
    step = checkpoint.load(path).training.step
    assert err == (f"error: hung up at step {step} / 1000000; checkpoint saved to {path} "
                   f"(continue with --resume {path})\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m", "names.txt"]


def raise_sighup() -> None:
    """SIGHUP to this process, handled at once; a test failure instead if nothing handles it
    (its default would end the test run)."""
    if signal.getsignal(signal.SIGHUP) in (signal.SIG_DFL, None):
        pytest.fail("SIGHUP is not handled: it would have ended the process")
    signal.raise_signal(signal.SIGHUP)


def test_a_second_sighup_during_the_save_does_not_stop_it(capsys, dataset, tmp_path,
                                                         monkeypatch, wrap_training_steps):
    path = tmp_path / "m"
    at_step(wrap_training_steps, 2, raise_sighup)
    during_the_write(monkeypatch, raise_sighup)  # the shell passes the terminal's on
    status, _, err = run(capsys, "train", "--data", dataset, "--steps", "6", "--save", path,
                         *SMALL_MODEL)
    assert status == 129
    assert one_line(err) == (f"hung up at step 2 / 6; checkpoint saved to {path} (continue "
                             f"with --resume {path})")
    assert checkpoint.load(path).training.step == 2
    assert signal.getsignal(signal.SIGHUP) is signal.SIG_DFL  # restored


def test_output_that_fails_after_sighup_does_not_keep_the_run_from_saving(
        capsys, dataset, tmp_path, monkeypatch, wrap_training_steps):
    """`microgpt train | tee log` in a terminal that closes: tee goes with it, and writing
    to its pipe fails from then on."""

    class Pipe(io.TextIOBase):
        gone = False

        def write(self, text):
            if self.gone:
                raise BrokenPipeError(errno.EPIPE, "Broken pipe")
            return len(text)

    pipe = Pipe()
    monkeypatch.setattr(sys, "stdout", pipe)

    def hang_up():
        raise_sighup()
        pipe.gone = True

    at_step(wrap_training_steps, 2, hang_up)
    path = tmp_path / "m"
    status = cli.main(["train", "--data", str(dataset), "--steps", "6", "--save", str(path),
                       *SMALL_MODEL])
    pipe.gone = False
    assert status == 129
    assert one_line(capsys.readouterr().err) == (
        f"hung up at step 2 / 6; checkpoint saved to {path} (continue with --resume {path})")
    assert checkpoint.load(path).training.step == 2


def test_a_real_run_whose_pipe_closes_after_sighup_saves_and_exits_129(dataset, tmp_path):
    """Its reader gone, what the run still holds to print would fail again at exit (status
    120): it is dropped."""
    path = tmp_path / "m"
    child = train_until_stepping(path, dataset, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 extra_env={"PYTHONUNBUFFERED": ""})
    for line in child.stdout:
        if line.startswith(b"step    5 /"):
            break
    child.send_signal(signal.SIGSTOP)  # so that the pipe closes before it prints again
    child.stdout.close()
    child.send_signal(signal.SIGHUP)
    child.send_signal(signal.SIGCONT)
    _, err = child.communicate(timeout=60)
    assert child.returncode == 129, err
    assert checkpoint.load(path).training.step >= 5


def test_sighup_outside_training_stops_with_one_line(capsys, dataset, monkeypatch):
    def hung_up(*args, **kwargs):
        raise_sighup()
        return [0]

    monkeypatch.setattr(gpt_tensor, "generate", hung_up)  # while sampling
    status, _, err = run(capsys, "train", "--data", dataset, "--steps", "1", *SMALL_MODEL)
    assert (status, err) == (129, "error: hung up\n")


def test_an_error_with_the_output_on_dev_null_is_not_taken_for_a_hang_up(dataset):
    """/dev/null is a character device that is not a terminal, as a hung-up one seems."""
    code = (
        "import errno, sys\n"
        "from microgpt import cli, gpt_tensor\n"
        "def failing_step(params, config):\n"
        "    def step(batch):\n"
        "        raise OSError(errno.EIO, 'Input/output error')\n"
        "    return step\n"
        "gpt_tensor.training_step = failing_step\n"
        "sys.exit(cli.main(sys.argv[1:]))\n")
    result = subprocess.run([sys.executable, "-c", code, "train", "--data", str(dataset),
                             "--steps", "2"], cwd=REPO, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, timeout=60, check=False)
    assert (result.returncode, result.stderr) == (1, "error: Input/output error\n")


def test_after_sighup_output_to_the_terminal_that_hung_up_is_dropped():
    """Not an error: the run goes on to save, and whatever it prints meanwhile is lost with
    the terminal."""
    code = (
        "import os, pty, signal, sys\n"
        "from microgpt.cli import signals\n"
        "master, terminal = pty.openpty()\n"
        "os.dup2(terminal, 1)\n"
        "os.dup2(terminal, 2)\n"
        "os.close(master)  # the terminal hangs up: writing it fails from now on\n"
        "with signals.held() as stop:\n"
        "    signal.raise_signal(signal.SIGHUP)\n"
        "    print('written after the hang-up', flush=True)\n"
        "    print('on stderr too', file=sys.stderr, flush=True)\n"
        "    stop.signum = None\n"
        "sys.exit(7)\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, timeout=60, check=False)
    assert result.returncode == 7  # not 1: no OSError from writing the terminal


@pytest.mark.parametrize("controlling", [False, True],
                         ids=["plain lines, the output hangs up", "a bar, and the kernel's SIGHUP"])
def test_a_closed_terminal_saves_the_run(dataset, tmp_path, controlling, deadline):
    """The output is a terminal that hangs up: writing it fails (EIO) from then on, and,
    when it is the process's controlling terminal, the kernel sends SIGHUP as well.

    tqdm, which draws the bar, ignores the failure; without it (a tqdm that cannot be
    imported) each step is a line, whose failure must save the run without waiting for the
    signal."""
    deadline(60)  # rather than wait forever for output that never comes
    path = tmp_path / "m"
    env = {}
    if not controlling:
        (tmp_path / "no" / "tqdm").mkdir(parents=True)
        (tmp_path / "no" / "tqdm" / "__init__.py").write_text("raise ImportError('no tqdm')")
        env["PYTHONPATH"] = os.pathsep.join([str(tmp_path / "no"), str(REPO)])
    master, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("4H", 24, 80, 0, 0))  # 80 columns

    def controlled_by_the_terminal():
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    child = train_until_stepping(path, dataset, stdin=terminal, stdout=terminal,
                                 stderr=terminal, start_new_session=True, extra_env=env,
                                 preexec_fn=controlled_by_the_terminal if controlling else None)
    os.close(terminal)
    shown = b""
    while b"training" not in shown and b"step" not in shown:  # the bar, or a step's line
        shown += os.read(master, 1024)
    os.close(master)  # the terminal window is closed
    assert child.wait(timeout=60) == 129
    assert checkpoint.load(path).training.step >= 1
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "no") == ["m", "names.txt"]
