"""docs/learn.ipynb: committed without outputs, and it runs top to bottom in a fresh kernel."""

from __future__ import annotations

import json
import os

import pytest
from paths import REPO

NOTEBOOK = REPO / "docs" / "learn.ipynb"


def code_cells() -> list[dict]:
    cells = json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]
    return [cell for cell in cells if cell["cell_type"] == "code"]


def test_the_notebook_is_committed_without_outputs():
    """Outputs would go stale in the repository (docs/testing.md): clear them before a commit."""
    cells = code_cells()
    assert cells
    assert [cell["outputs"] for cell in cells] == [[] for _ in cells]
    assert [cell["execution_count"] for cell in cells] == [None for _ in cells]


def test_the_notebook_runs_top_to_bottom(tmp_path, monkeypatch):
    nbclient = pytest.importorskip("nbclient", reason="needs the notebook extra")
    nbformat = pytest.importorskip("nbformat", reason="needs the notebook extra")
    pytest.importorskip("ipykernel", reason="needs the notebook extra (the python3 kernel)")
    pytest.importorskip("matplotlib", reason="needs the notebook extra")
    # The kernel is a new process: it finds this checkout's code as the tests do.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]))
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))  # its connection file
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(notebook, kernel_name="python3", timeout=120,
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError, naming the cell, if any cell fails
    outputs = [output for cell in notebook.cells if cell.cell_type == "code"
               for output in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "Cube: True" in text and "WrongCube: gradcheck: the gradient of input 0" in text
    assert "def run(" in text  # the code tg.capture generated
    graphs = [o.data for o in outputs if o.output_type == "execute_result"
              and o.data.get("text/plain", "").startswith("digraph")]
    assert len(graphs) == 2  # both engines' rms_norm, drawn where Graphviz is installed
    pictures = [o for o in outputs if o.output_type == "display_data" and "image/png" in o.data]
    assert len(pictures) == 4  # the nodes per op, the loss curve, the attention maps, nn's curve
    assert "TinyGPT(" in text and "parameters; loss" in text  # the nn model, printed, trained
