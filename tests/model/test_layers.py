"""The package's layers: the model imports nothing of what serves it, and tensorgrad nothing of
microgpt. Checked by importing each module in a fresh interpreter and listing what came along."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from paths import REPO

MODEL = ["microgpt.data", "microgpt.model", "microgpt.gpt_scalar", "microgpt.gpt_tensor",
         "microgpt.train", "microgpt.schedule", "microgpt.validation"]
SERVING = ("microgpt.storage", "microgpt.tools", "microgpt.cli")


def imported_with(module: str) -> list[str]:
    """Every module of microgpt or tensorgrad that importing ``module`` loads."""
    code = (f"import json, sys; import {module}; print(json.dumps(sorted(m for m in sys.modules "
            "if m.split('.')[0] in ('microgpt', 'tensorgrad'))))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                         check=True).stdout
    return json.loads(out)


@pytest.mark.parametrize("module", MODEL)
def test_the_model_imports_none_of_storage_tools_or_the_command_line(module):
    loaded = imported_with(module)
    assert module in loaded
    assert [m for m in loaded if m.startswith(SERVING)] == []


def test_tensorgrad_imports_nothing_of_microgpt():
    assert [m for m in imported_with("tensorgrad") if m.startswith("microgpt")] == []
