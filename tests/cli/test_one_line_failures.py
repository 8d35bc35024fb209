"""Failures Python raises on its own, each one line: memory, malformed paths and URLs, a
matplotlib or a tqdm that refuses its settings, Ctrl-C in start-up; the scalar engine's size
bound; output that cannot drive the terminal (control characters escaped).
"""

from __future__ import annotations

import io
import os
import random
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import numpy as np
import pytest
from paths import REPO
from test_cli_faults import assert_one_error_line, microgpt, run, tree

from microgpt import api as microgpt_api
from microgpt import gpt_scalar, gpt_tensor
from microgpt import train as train_module
from microgpt.model import GPTConfig, init_state_dict, num_params
from microgpt.storage import limits
from tensorgrad.value import topological_order

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX signals and limits")





# ---- memory ---------------------------------------------------------------------------------


def allocate_too_much(*args):
    """A step that asks NumPy for more memory than any machine has (NumPy's MemoryError)."""
    def step(batch):
        return np.empty(2**58)
    return step


def raise_memory_error(*args):
    """A step that runs out of memory in Python itself (a MemoryError without a message)."""
    def step(batch):
        raise MemoryError
    return step


@pytest.mark.parametrize("step", [allocate_too_much, raise_memory_error])
def test_running_out_of_memory_is_one_line_with_a_hint(capsys, dataset, monkeypatch, step):
    monkeypatch.setattr(gpt_tensor, "training_step", step)
    status, out, err = run(capsys, "train", "--data", dataset, "--steps", "2")
    assert status == 1
    assert_one_error_line(err, "error: out of memory")
    assert "--batch-size" in err and "--n-embd" in err
    if step is allocate_too_much:  # NumPy says how much it asked for
        assert "Unable to allocate" in err


def limited_to_what_it_uses(extra: int) -> str:
    """Python code that caps the process's address space at what it maps now plus ``extra``."""
    return textwrap.dedent(f"""
        import resource
        pages = int(open("/proc/self/statm").read().split()[0])
        limit = pages * resource.getpagesize() + {extra}
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    """)


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="Linux's /proc")
def test_a_real_run_that_outgrows_its_memory_is_one_line():
    """A batch whose step needs more than 64 MiB, in a process that has 64 MiB to spare."""
    code = ("import sys\nfrom microgpt import cli\n" + limited_to_what_it_uses(64 * 2**20)
            + "sys.exit(cli.main(sys.argv[1:]))")
    argv = ["train", "--batch-size", "2000", "--steps", "1", "--samples", "0"]
    # One BLAS thread: OpenBLAS's threaded matmul allocates its own job table, and where that
    # allocation is the one that fails, OpenBLAS ends the process itself with its own line
    # (seen once in CI on Python 3.10), which no Python code can catch
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    result = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True,
                            text=True, cwd=REPO, timeout=60, check=False, env=env)
    assert result.returncode == 1, result.stderr
    assert_one_error_line(result.stderr, "error: out of memory")


# ---- Ctrl-C while the command line loads ----------------------------------------------------


INTERRUPTED_IMPORT = textwrap.dedent("""
    import os, signal, sys

    class Interrupting:  # Ctrl-C when the module sys.argv[1] is about to be imported
        def find_spec(self, name, path=None, target=None):
            if name == sys.argv[1]:
                os.kill(os.getpid(), signal.SIGINT)
            return None

    sys.meta_path.insert(0, Interrupting())
    from microgpt.__main__ import main
    sys.exit(main(sys.argv[2:]))
""")


@posix_only
# datetime: imported by NumPy's compiled core, where an interrupt becomes an ImportError
@pytest.mark.parametrize("module", ["numpy", "datetime"])
def test_ctrl_c_while_numpy_imports_exits_130_in_one_line(module):
    result = subprocess.run([sys.executable, "-c", INTERRUPTED_IMPORT, module, "--version"],
                            capture_output=True, text=True, cwd=REPO, timeout=60, check=False)
    assert (result.returncode, result.stdout, result.stderr) == (130, "", "error: interrupted\n")


def test_the_script_is_the_entry_point_that_holds_ctrl_c():
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert project["scripts"]["microgpt"] == "microgpt.__main__:script"
    code = "import sys, microgpt.__main__; print('numpy' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=REPO, timeout=60, check=True)
    assert result.stdout == "False\n"  # nothing heavy imported before main() holds Ctrl-C


def test_the_script_runs_the_command_line_and_exits_with_its_status(tmp_path):
    code = "from microgpt.__main__ import script; raise SystemExit(script())"
    result = subprocess.run([sys.executable, "-c", code, "sample", "--load",
                             str(tmp_path / "missing")], capture_output=True, text=True,
                            cwd=REPO, timeout=60, check=False)
    assert (result.returncode, result.stdout) == (1, "")
    assert_one_error_line(result.stderr, "cannot read checkpoint")


GC_DURING_THE_COMMAND = """
import gc, sys
import microgpt.cli

def command(argv):  # what the command sees of the cyclic garbage collector
    print(gc.isenabled(), gc.get_freeze_count() > 0)
    return 0

microgpt.cli.main = command
from microgpt.__main__ import main, script
{call}
"""


@pytest.mark.parametrize(("call", "seen"), [("script()", "True True"), ("main([])", "True False")])
def test_the_script_freezes_what_the_imports_made_and_collects_during_the_command(call, seen):
    # The script keeps the collector off the imports' objects (speed), and on during the run;
    # main(), which other programs call in their own process, leaves the collector alone.
    result = subprocess.run([sys.executable, "-c", GC_DURING_THE_COMMAND.format(call=call)],
                            capture_output=True, text=True, cwd=REPO, timeout=60, check=True)
    assert result.stdout == f"{seen}\n"


def test_the_entry_point_runs_the_command_line(capsys, tmp_path):
    from microgpt.__main__ import main

    assert main(["sample", "--load", str(tmp_path / "missing")]) == 1
    assert_one_error_line(capsys.readouterr().err, "cannot read checkpoint")


# ---- malformed --data: URLs, home directories -----------------------------------------------


@pytest.mark.parametrize("url, why", [
    ("http://[::1", "Invalid IPv6 URL"),
    ("http://[zz]/names.txt", "'zz' does not appear to be an IPv4 or IPv6 address"),
    ("http://[::1]:abc/", "Port could not be cast to integer value"),
    ("https://example.org:99999/names.txt", "Port out of range 0-65535"),
    ("https://", "it names no host"),
    ("HTTP://:80/names.txt", "it names no host"),
    ("http://example.org/my names.txt", "a space or a control character"),
    ("http://exa\x00mple.org/", "a space or a control character"),
    ("http://" + "a" * 64 + ".org/names.txt", "its host name is not valid"),
    ("http://a..b/names.txt", "its host name is not valid"),
])
@pytest.mark.parametrize("command", ["train", "compare", "graph"])
def test_a_malformed_url_is_one_line_before_any_download(capsys, monkeypatch, tmp_path, url,
                                                        why, command):
    from microgpt.storage import datasets

    def fetch(*args, **options):
        raise AssertionError("a malformed URL reached the download")

    monkeypatch.setattr(datasets, "fetch", fetch)
    argv = ["--out", tmp_path / "g.dot"] if command == "graph" else []
    status, out, err = run(capsys, command, "--data", url, *argv)
    assert (status, out) == (1, "")
    assert_one_error_line(err, "error: cannot download ")
    assert why in err


@pytest.mark.parametrize("path", ["~no-such-user-of-microgpt/names.txt",
                                  "~no-such-user-of-microgpt"])
def test_the_home_of_no_user_is_one_line(capsys, path):
    status, out, err = run(capsys, "train", "--data", path)
    assert (status, out) == (1, "")
    assert_one_error_line(err, f"cannot read dataset {path}: ~no-such-user-of-microgpt names no "
                               "home directory")


# ---- matplotlib that refuses its settings ---------------------------------------------------


def test_a_matplotlib_that_fails_to_load_is_one_line(tmp_path):
    pytest.importorskip("matplotlib")
    env = {**os.environ, "MPLBACKEND": "bogus", "PYTHONPATH": str(REPO)}
    result = subprocess.run([sys.executable, "-m", "microgpt", "train", "--plot", "loss.png"],
                            capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60,
                            check=False)
    assert (result.returncode, result.stdout) == (1, ""), result.stderr
    assert_one_error_line(result.stderr, "error: --plot needs matplotlib, which fails to load: "
                                         "Key backend: 'bogus'")
    assert list(tmp_path.iterdir()) == []


@posix_only
@pytest.mark.parametrize("where", ["MATPLOTLIBRC", "MATPLOTLIBRC directory", "MPLCONFIGDIR",
                                   "current directory"])
@pytest.mark.parametrize("kind", ["/dev/zero", "a FIFO", "too large"])
def test_a_matplotlib_settings_file_that_would_not_end_is_refused(tmp_path, where, kind):
    """matplotlib reads its settings file to the end as it loads: /dev/zero never ends, a
    FIFO waits for a writer. Refused promptly (a regression fails on the timeout)."""
    pytest.importorskip("matplotlib")
    work = tmp_path / "work"
    work.mkdir()
    directory = {"MATPLOTLIBRC": tmp_path, "current directory": work}.get(where, tmp_path / "rc")
    directory.mkdir(exist_ok=True)
    name = "rc" if where == "MATPLOTLIBRC" else "matplotlibrc"
    settings = directory / name
    if kind == "/dev/zero":
        settings.symlink_to("/dev/zero")
    elif kind == "a FIFO":
        os.mkfifo(settings)
    else:
        with open(settings, "wb") as out:
            out.truncate(2**20 + 1)  # sparse: refused on its size
    env = os.environ | {"PYTHONPATH": str(REPO), "MPLCONFIGDIR": str(tmp_path / "config")}
    if where == "MATPLOTLIBRC":
        env["MATPLOTLIBRC"] = str(settings)
    elif where == "MATPLOTLIBRC directory":
        env["MATPLOTLIBRC"] = str(directory)
    elif where == "MPLCONFIGDIR":
        env["MPLCONFIGDIR"] = str(directory)
    shown = name if where == "current directory" else str(settings)
    source = {"MATPLOTLIBRC directory": "from MATPLOTLIBRC", "MPLCONFIGDIR": "from MPLCONFIGDIR",
              "current directory": "in the current directory"}.get(where, "from MATPLOTLIBRC")
    why = {"/dev/zero": "a character device, not a regular file",
           "a FIFO": "a FIFO (named pipe), not a regular file",
           "too large": "larger than the 1 MiB a settings file may be"}[kind]
    before = tree(tmp_path)
    for argv in (["train", "--steps", "2", "--samples", "0", "--plot", "p.png"],
                 ["sample", "--load", "m", "--attention", "p.png"]):
        result = microgpt(*argv, cwd=work, env=env, timeout=30)
        assert (result.returncode, result.stdout) == (1, ""), result.stderr
        assert_one_error_line(result.stderr, f"error: {argv[-2]} needs matplotlib, whose "
                                             f"settings file {shown} ({source}) is {why}\n")
    assert tree(tmp_path) == before


def test_a_regular_matplotlib_settings_file_is_read(tmp_path):
    pytest.importorskip("matplotlib")
    (tmp_path / "rc").write_text("lines.linewidth: 3\n")
    env = os.environ | {"PYTHONPATH": str(REPO), "MATPLOTLIBRC": str(tmp_path / "rc"),
                        "MPLCONFIGDIR": str(tmp_path / "config")}
    result = microgpt("train", "--steps", "2", "--samples", "0", "--plot", "p.png",
                      cwd=tmp_path, env=env, timeout=60)
    assert (result.returncode, result.stderr) == (0, "")
    assert (tmp_path / "p.png").read_bytes().startswith(b"\x89PNG")


# ---- tqdm that refuses its settings ---------------------------------------------------------


@pytest.mark.parametrize("error", [ValueError("could not convert string to float: 'abc'"),
                                   KeyError("nope")])
def test_a_progress_bar_that_refuses_its_settings_is_one_line(monkeypatch, error):
    """tqdm reads TQDM_* variables (TQDM_MININTERVAL=abc, TQDM_BAR_FORMAT={nope}) unchecked."""
    from microgpt.cli.errors import CommandError
    from microgpt.cli.progress import Progress

    def refuse(*args, **kwargs):
        raise error

    monkeypatch.setitem(sys.modules, "tqdm", types.SimpleNamespace(tqdm=refuse))
    with pytest.raises(CommandError, match=r"^the progress bar \(tqdm\) refuses its settings: "
                                           rf"{type(error).__name__}: .*TQDM_\*"):
        Progress(10, bar=True, stream=io.StringIO())


@posix_only
@pytest.mark.parametrize("existing", [False, True], ids=["a new log", "an older log"])
def test_a_progress_bar_that_refuses_its_settings_leaves_the_log_alone(dataset, tmp_path,
                                                                       existing):
    """On a terminal, with TQDM_MININTERVAL=abc: refused before the log is created or
    emptied."""
    pytest.importorskip("tqdm")
    pty = pytest.importorskip("pty")
    log = tmp_path / "run.jsonl"
    if existing:
        log.write_text("an older run's log\n")
    before = tree(tmp_path)
    master, terminal = pty.openpty()
    try:
        result = microgpt("train", "--data", dataset, "--steps", "3", "--log", log,
                          stdout=terminal, stderr=subprocess.PIPE, capture_output=False,
                          env=os.environ | {"TQDM_MININTERVAL": "abc"})
    finally:
        os.close(terminal)
        os.close(master)
    assert result.returncode == 1
    assert_one_error_line(result.stderr, "error: the progress bar (tqdm) refuses its settings: "
                                         "ValueError: ")
    assert tree(tmp_path) == before


# ---- output that cannot drive the terminal --------------------------------------------------

# What must never reach the terminal raw: C0 controls (newline apart, where it ends a line),
# DEL, C1 controls (U+009B is a CSI of its own), bidi overrides and isolates.
UNSAFE = ["\x00", "\x07", "\x08", "\t", "\r", "\x1b", "\x7f", "\x85", "\x9b", "\u061c", "\u200e",
          "\u200f", "\u2028", "\u2029", "\u202a", "\u202e", "\u2066", "\u2069"]


def assert_nothing_unsafe(text: str) -> None:
    found = sorted({ch for ch in text if ch in UNSAFE})
    assert not found, f"raw {found} in {text!r}"


def test_printable_escapes_what_drives_a_terminal_and_keeps_the_rest():
    from microgpt.cli.output import printable

    for ch in UNSAFE + ["\n"]:
        escaped = printable(f"a{ch}b")
        assert escaped == "a" + repr(ch)[1:-1] + "b"  # as Python writes it: \x1b, \t, \u202e
    kept = "".join(map(chr, range(0x20, 0x7f))) + "zoë Ørjan 李 ✓ 🙂 \u200d é"
    assert printable(kept) == kept


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    """A dataset of names made of nothing but controls: every character sampled is one."""
    path = tmp_path / "hostile.txt"
    path.write_text("".join(f"{a}{b}\n" for a in UNSAFE if a != "\r" for b in "\x1b\u202e"))
    return path


def test_sampled_names_are_printed_escaped(capsys, hostile, tmp_path):
    save = tmp_path / "hostile.safetensors"
    status, out, err = run(capsys, "train", "--data", hostile, "--steps", "1", "--samples", "5",
                           "--n-embd", "8", "--n-head", "2", "--save", save)
    assert (status, err) == (0, "")
    assert_nothing_unsafe(out)
    samples = [line for line in out.splitlines() if line.startswith("sample ")]
    assert len(samples) == 5 and "\\x1b" in out and "\\u202e" in out
    status, out, err = run(capsys, "sample", "--load", save, "--samples", "5")
    assert (status, err) == (0, "")
    assert_nothing_unsafe(out)
    assert len(out.splitlines()) == 5 and "\\x1b" in out


def test_paths_in_error_lines_and_in_the_output_are_escaped(capsys, dataset, tmp_path):
    missing = tmp_path / "gone\x1b[2J\r\u202etxt.\n"
    status, out, err = run(capsys, "train", "--data", missing)
    assert status == 1
    assert_one_error_line(err, "gone\\x1b[2J\\r\\u202etxt.\\n: No such file or directory")
    assert_nothing_unsafe(err)
    save = tmp_path / "run\x1b]0;title\x07.safetensors"
    status, out, err = run(capsys, "train", "--data", dataset, "--steps", "1", "--samples", "0",
                           "--save", save)
    assert (status, err) == (0, "")
    assert "checkpoint saved to " in out and "run\\x1b]0;title\\x07.safetensors" in out
    assert_nothing_unsafe(out)


def test_what_else_reaches_stderr_is_escaped(capsys, monkeypatch, dataset):
    from microgpt.storage import datasets

    def fetch(url, sha256, **options):  # a download says where it put the file
        print(f"downloaded {url} to /cache/\x1b[31mred", file=sys.stderr)
        return dataset

    monkeypatch.setattr(datasets, "fetch", fetch)
    status, out, err = run(capsys, "train", "--data", "https://example.org/names.txt",
                           "--steps", "1", "--samples", "0")
    assert status == 0
    assert err == "downloaded https://example.org/names.txt to /cache/\\x1b[31mred\n"


def test_the_progress_bar_keeps_its_carriage_returns(monkeypatch):
    pytest.importorskip("tqdm")
    from microgpt.cli.output import terminal_output
    from microgpt.cli.progress import Progress

    screen = io.StringIO()
    monkeypatch.setattr(sys, "stdout", screen)
    with terminal_output():
        progress = Progress(3, bar=True)
        progress.update(1, 3.0)
        progress.close()
    assert "\r" in screen.getvalue() and "\\r" not in screen.getvalue()


# ---- the scalar engine's size bound ---------------------------------------------------------


@pytest.mark.parametrize("config, positions", [
    (GPTConfig(vocab_size=5, n_embd=4, n_head=1, n_layer=1, block_size=4), 3),
    (GPTConfig(vocab_size=11, n_embd=12, n_head=3, n_layer=2, block_size=7), 5),
])
def test_the_scalar_node_count_is_the_count_of_a_real_step(config, positions):
    params = gpt_scalar.from_state_dict(init_state_dict(config, random.Random(0)))
    leaves = {id(p) for p in gpt_scalar.parameters(params)}
    tokens = [config.vocab_size - 1, *[i % (config.vocab_size - 1) for i in range(positions)]]
    loss = gpt_scalar.document_loss(params, config, tokens)
    graph = [node for node in topological_order(loss) if id(node) not in leaves]
    assert limits.scalar_step_nodes(config, positions) == num_params(config) + len(graph)


@pytest.mark.parametrize("argv", [
    ["compare", "--n-embd", "256"],
    ["compare", "--by-op", "--n-embd", "128"],
    ["compare", "--n-layer", "2", "--n-embd", "64"],
    ["train", "--engine", "scalar", "--n-embd", "128"],
    ["graph", "--engine", "scalar", "--n-embd", "128", "--out", "step.dot"],
])
def test_a_scalar_step_too_large_is_refused_before_any_work(capsys, monkeypatch, tmp_path, argv):
    def never(*args):
        raise AssertionError("the weights were drawn")

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(train_module, "init_state_dict", never)
    status, out, err = run(capsys, *argv)
    assert (status, out) == (2, "")
    assert_one_error_line(err, "error: the scalar engine would build about ")
    assert "million Values for one step, more than the 2 million microgpt allows" in err
    assert "--n-embd, --n-layer or --block-size" in err
    assert ("--engine tensor" in err) == ("--engine" in argv)
    assert list(tmp_path.iterdir()) == []


def test_the_scalar_bound_counts_the_longest_document():
    from microgpt.api import SettingsError, check_scalar_size

    config = GPTConfig(vocab_size=27, n_embd=64, n_layer=2, block_size=16)
    check_scalar_size(config, ["ab", "c"])  # 3 positions
    with pytest.raises(SettingsError, match="million Values"):
        check_scalar_size(config, ["ab", "c" * 15])  # 16 positions
    with pytest.raises(SettingsError, match=r"n_embd, n_layer or block_size \(or engine=tensor\)"):
        microgpt_api.Run(["a" * 20], microgpt_api.TrainSettings(engine="scalar", n_embd=128))


def test_the_default_scalar_runs_are_within_the_bound():
    config = GPTConfig(vocab_size=27)  # microgpt.py's model on the names (at most 16 positions)
    assert limits.scalar_step_nodes(config, 16) <= limits.MAX_SCALAR_NODES


def test_running_out_of_memory_in_matplotlib_or_tqdm_is_not_blamed_on_them(monkeypatch,
                                                                           tmp_path):
    from microgpt.cli.progress import Progress
    from microgpt.tools import plot

    class NoMemory:
        def find_spec(self, name, path=None, target=None):
            if name == "matplotlib":
                raise MemoryError
            return None

    def no_memory(*args, **kwargs):
        raise MemoryError

    monkeypatch.delitem(sys.modules, "matplotlib", raising=False)
    monkeypatch.setattr(sys, "meta_path", [NoMemory(), *sys.meta_path])
    with pytest.raises(MemoryError):  # reported as "out of memory" by the command line
        plot.check(tmp_path / "loss.png")
    monkeypatch.setitem(sys.modules, "tqdm", types.SimpleNamespace(tqdm=no_memory))
    with pytest.raises(MemoryError):
        Progress(10, bar=True, stream=io.StringIO())
