"""Every example in the README and the docs runs, and shows what it prints (Sybil: how the
pages' blocks run is in ``tests/doc_examples.py``); the pages link only what exists.

The pages are parsed with Sybil and run by a test per page, rather than by Sybil's pytest
plugin (``Sybil(...).pytest()`` in a conftest.py): pytest asks a conftest's hooks only about
files under its folder, and it walks only ``tests/``, so the plugin would never see the README
or ``docs/``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from doc_examples import PAGES, run_page
from paths import REPO

RUN = {"python", "console"}
# Fenced blocks that are shown, not run: commands that cannot run here, text, data.
SHOWN_ONLY = {"bash", "sh", "shell", "text", "json", "toml", "yaml", "ini", "diff", "dot"}
FENCE = re.compile(r"^ *```(\S*)", re.MULTILINE)
BLOCK = re.compile(r"^ *```(\S*)\n(.*?)^ *```$", re.MULTILINE | re.DOTALL)
LINK = re.compile(r"\]\(([^)\s#]*)(?:#([^)\s]*))?\)")  # [text](path#anchor)
HEADING = re.compile(r"^#+ (.+)$", re.MULTILINE)


def page_id(page: Path) -> str:
    return page.relative_to(REPO).as_posix()


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_the_examples_of_a_page_run_and_print_what_it_shows(page, tmp_path, monkeypatch):
    """One test per page: its examples build on each other, and a failure names the line."""
    monkeypatch.chdir(tmp_path)
    run_page(page)


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_every_block_is_run_or_marked_as_shown_only(page):
    """A block in another language (```py, no language at all) would be silently not run."""
    text = page.read_text(encoding="utf-8")
    fences = FENCE.findall(text)
    openings = fences[0::2]  # every other fence closes a block
    assert len(fences) % 2 == 0, "a code block is not closed"
    assert set(openings) <= RUN | SHOWN_ONLY, openings
    for language, block in BLOCK.findall(text):
        if language in SHOWN_ONLY:  # a shown-only block that looks like an example is a slip
            looks_run = [line for line in block.splitlines()
                         if line.lstrip().startswith(("$ ", ">>> "))]
            assert not looks_run, f"```{language} is not run; use ```console or ```python"
    # Sybil's skip applies to the next block that runs: before a block that does not, it
    # would skip whichever runnable block comes after.
    for skipped, block in re.findall(r"<!-- skip: next.*-->\n+ *```(\S*)\n(.*?)```", text,
                                     re.DOTALL):
        assert skipped in RUN, f"a skip before a ```{skipped} block"
        # ... and to one example: a doctest block's every statement is one (skip: start/end)
        assert block.count(">>> ") <= 1, "skip: next before a doctest of several statements"


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_links_lead_to_files_of_the_repository(page):
    text = page.read_text(encoding="utf-8")
    for target, anchor in LINK.findall(text):
        if re.match(r"[a-z]+:", target):  # https:, mailto:
            continue
        path = (page.parent / target).resolve() if target else page  # (#anchor: this page)
        assert path.exists(), f"{page_id(page)} links to {target}, which does not exist"
        assert path.is_relative_to(REPO), f"{page_id(page)} links outside the repository"
        if anchor and path.suffix == ".md":
            assert anchor in anchors(path), f"{page_id(page)} links to {target}#{anchor}"
    for outside in ("../shared", "farm-bench", "torch==", "/work/"):
        assert outside not in text, f"{page_id(page)} names {outside!r}"


def anchors(page: Path) -> set[str]:
    """The anchors a code host gives a page's headings (lower case, punctuation dropped,
    spaces as hyphens)."""
    headings = HEADING.findall(re.sub(r"^```.*?^```", "", page.read_text(encoding="utf-8"),
                                      flags=re.MULTILINE | re.DOTALL))
    return {re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
            for heading in headings}


def test_the_readme_stays_short():
    assert len((REPO / "README.md").read_text(encoding="utf-8").splitlines()) <= 210


def test_a_reader_finds_every_page_and_the_notebook_from_the_readme():
    """Following links from the README reaches every page (directly, or through another)."""
    found, unread = {REPO / "README.md"}, [REPO / "README.md"]
    while unread:
        page = unread.pop()
        for target, _ in LINK.findall(page.read_text(encoding="utf-8")):
            path = (page.parent / target).resolve()
            if target and path.suffix in (".md", ".ipynb") and path not in found:
                found.add(path)
                if path.suffix == ".md" and path.exists():
                    unread.append(path)
    missing = {*PAGES, REPO / "docs" / "learn.ipynb"} - found
    assert not missing, f"no link leads to {sorted(page_id(p) for p in missing)}"
