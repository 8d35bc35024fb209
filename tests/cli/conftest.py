"""What the command line's tests share: a small dataset of names in the test's directory."""

from pathlib import Path

import pytest
from test_cli import NAMES


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    path = tmp_path / "names.txt"
    path.write_text("\n".join(NAMES) + "\n")
    return path
