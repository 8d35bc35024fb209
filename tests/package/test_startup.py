"""The default run imports only what it uses: each module below took milliseconds of every
start-up before it was imported where needed (benchmarks/SPEED.md, "Start-up")."""

from __future__ import annotations

import ast
import subprocess
import sys

from tests.paths import REPO

NOT_AT_START_UP = ("numpy.random", "fractions", "tempfile", "importlib.metadata",
                   "concurrent.futures", "threadpoolctl", "tensorgrad.nn", "subprocess",
                   "safetensors", "tensorgrad.utils", "tensorgrad.optim.lr_scheduler",
                   "hashlib", "json", "shutil", "tensorgrad.conv", "tensorgrad.serialization",
                   "tensorgrad.drawing", "string")


def test_the_default_run_imports_nothing_it_does_not_use():
    code = (
        "import contextlib, io, sys\n"
        "from microgpt import cli\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    status = cli.main(['train', '--steps', '3', '--samples', '2'])\n"
        f"print([status, [m for m in {NOT_AT_START_UP!r} if m in sys.modules]])\n"
    )
    numpy_alone = ("import sys\nimport numpy\n"
                   f"print([m for m in {NOT_AT_START_UP!r} if m in sys.modules])\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=REPO, timeout=60, check=True)
    status, imported = ast.literal_eval(result.stdout)
    # (NumPy itself brings some on some Pythons: subprocess, through platform, on 3.10)
    brought = ast.literal_eval(subprocess.run([sys.executable, "-c", numpy_alone],
                                              capture_output=True, text=True, cwd=REPO,
                                              timeout=60, check=True).stdout)
    assert status == 0
    assert [m for m in imported if m not in brought] == []


def test_every_public_name_of_tensorgrad_is_there_loaded_or_not():
    # some are imported when first used: each must still be found, listed and importable
    code = ("import sys, tensorgrad\n"
            "lazy = [m for m in ('tensorgrad.serialization', 'tensorgrad.drawing')\n"
            "        if m in sys.modules]\n"
            "missing = sorted(set(tensorgrad.__all__) - set(dir(tensorgrad)))\n"
            "from tensorgrad import load, save, to_dot, gradcheck\n"
            "absent = [n for n in tensorgrad.__all__ if getattr(tensorgrad, n, None) is None]\n"
            "import tensorgrad.gradcheck\n"  # the module, beside the function of its name
            "print([lazy, missing, absent, "
            "callable(tensorgrad.gradcheck), tensorgrad.save.__module__])\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=REPO, timeout=60, check=True)
    assert ast.literal_eval(result.stdout) == [[], [], [], True, "tensorgrad.serialization"]


def test_no_submodule_hides_a_function_of_the_same_name():
    # importing tensorgrad.x binds the module to tensorgrad.x: a module named as a function of
    # the API (dot.py was torch.dot's name) would replace the function
    code = ("import importlib, pkgutil, types, tensorgrad\n"
            "for info in pkgutil.walk_packages(tensorgrad.__path__, 'tensorgrad.'):\n"
            "    importlib.import_module(info.name)\n"
            "modules = {n for n in tensorgrad.__all__\n"
            "           if isinstance(getattr(tensorgrad, n), types.ModuleType)}\n"
            "print(sorted(modules))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=REPO, timeout=120, check=True)
    assert ast.literal_eval(result.stdout) == ["accelerator", "amp", "autograd", "backends",
                                               "cuda",
                                               "distributed", "functional", "linalg", "nn",
                                               "optim", "random", "utils"]
