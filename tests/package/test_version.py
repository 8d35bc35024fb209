"""One version, in one place: pyproject.toml, read back from the installed package's metadata."""

import importlib.metadata
import re
import shutil
import subprocess
import sys

from paths import REPO

import microgpt
import tensorgrad


def test_both_packages_report_the_installed_distributions_version():
    installed = importlib.metadata.version("microgpt-tensorgrad")
    assert tensorgrad.__version__ == installed
    assert microgpt.__version__ == installed


def test_the_version_is_written_only_in_pyproject():
    # tomllib is 3.11+; the [project] table's `version = "..."` line is all we need here.
    written = re.search(r'^version = "([^"]+)"$', (REPO / "pyproject.toml").read_text(), re.M)
    assert written is not None
    assert written[1] == importlib.metadata.version("microgpt-tensorgrad"), \
        "the installed metadata is stale: reinstall the package (pip install -e .)"
    sources = [*REPO.glob("tensorgrad/**/*.py"), *REPO.glob("microgpt/**/*.py")]
    assert not [path for path in sources if written[1] in path.read_text()]


def test_a_checkout_that_was_never_installed_still_imports(tmp_path):
    # The package's __init__.py alone, in a directory with no metadata beside it (an sdist's
    # root has an .egg-info); -S -E: neither site-packages nor PYTHONPATH, so no metadata either.
    (tmp_path / "microgpt").mkdir()
    shutil.copy(REPO / "microgpt" / "__init__.py", tmp_path / "microgpt")
    code = "import microgpt; print(microgpt.__version__)"
    result = subprocess.run([sys.executable, "-S", "-E", "-c", code], cwd=tmp_path,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "0+unknown\n"
