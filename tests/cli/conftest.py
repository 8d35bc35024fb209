"""What the command line's tests share: a small dataset of names in the test's directory, and
for the download tests a loopback server and a cache of their own."""

from pathlib import Path

import pooch.core
import pytest
from loopback import offline, serving
from test_cli import NAMES


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    path = tmp_path / "names.txt"
    path.write_text("\n".join(NAMES) + "\n")
    return path


@pytest.fixture
def server():
    with serving() as httpd:
        yield httpd


@pytest.fixture
def downloads_isolated(monkeypatch, tmp_path):
    """Keep the cache in tmp_path, refuse to resolve any host but loopback, and let pooch
    retry without its 1 s pauses."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    offline(monkeypatch)
    monkeypatch.setattr(pooch.core, "time", type("NoSleep", (), {"sleep": lambda s: None}))
