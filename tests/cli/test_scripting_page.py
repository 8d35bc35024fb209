"""docs/scripting.md runs as written: its ```python blocks in order, in one namespace, and the
output its ``>>>`` blocks show is the output they give (ELLIPSIS where output varies).

The docs' own runner (Sybil, in tests/docs/) will run every page the same way; this test
holds the scripting page to it until then.
"""

from __future__ import annotations

import doctest
import re

from paths import REPO

PAGE = REPO / "docs" / "scripting.md"
BLOCK = re.compile(r"^```python\n(.*?)^```$", re.DOTALL | re.MULTILINE)


def test_the_scripting_page_runs_and_shows_its_output(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # whatever the page writes stays out of the checkout
    namespace: dict = {"__name__": "scripting"}
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    blocks = BLOCK.findall(PAGE.read_text())
    assert blocks
    for number, block in enumerate(blocks, 1):
        if block.lstrip().startswith(">>> "):
            test = parser.get_doctest(block, namespace, f"block {number}", str(PAGE), 0)
            runner.run(test, out=print, clear_globs=False)
        else:
            exec(compile(block, f"{PAGE} (block {number})", "exec"), namespace)
    failed = runner.summarize(verbose=False).failed
    assert failed == 0, capsys.readouterr().out
