"""The examples of the README and the docs, as Sybil finds and runs them.

The pages are Markdown. In a page, in the page's order and in one namespace:

* ```python blocks run as Python; a block of ``>>> `` lines is a doctest, its output
  checked with ELLIPSIS (``...`` stands for any text);
* ```console blocks hold ``$ command`` lines, each followed by the output it prints;
* ```bash and ```text blocks are shown, not run (commands that need the network or minutes,
  text that is not an example);
* ``<!-- skip: next "why" -->`` skips the next example (Sybil's skip directive), with the
  reason; a doctest block, whose every ``>>> `` statement is an example, goes between
  ``<!-- skip: start ... -->`` and ``<!-- skip: end -->``.

A console block runs its commands in order in the current directory (the docs' test gives
each page a fresh temporary one, which the page's Python blocks share), with a fixed
environment: ``COLUMNS=100``, no terminal (stdin empty, stdout a pipe, unbuffered so that
stdout and stderr interleave as on a terminal), a cache directory inside the temporary one,
the repository's code first on ``PYTHONPATH``. A command is ``microgpt ...`` or
``python ...`` (``python -m microgpt ...`` too), run with the interpreter that runs the
tests; its stdout and stderr, together as a terminal shows them, must match the lines the
page shows by doctest's rules with ELLIPSIS.

To refresh a page's console outputs after a change (say, a new ``--help``), from the
repository root:

    python tests/doc_examples.py docs/cli.md

It runs the page as the test does and rewrites the commands whose output no longer matches,
with the whole output as it now is: put back the ``...`` of figures that vary (timings)
before committing.
"""

from __future__ import annotations

import doctest
import os
import shlex
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from unittest import SkipTest

from sybil import Example, Sybil
from sybil.example import SybilFailure
from sybil.parsers.markdown import CodeBlockParser, PythonCodeBlockParser, SkipParser

REPO = Path(__file__).resolve().parent.parent
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md")),
         REPO / "benchmarks" / "README.md"]
TIMEOUT = 120  # seconds for one command
_CHECKER = doctest.OutputChecker()
_FLAGS = doctest.ELLIPSIS


@dataclass
class Command:
    line: str  # as the page shows it, without the "$ "
    expected: str  # the lines after it, up to the next command


def commands(block: str) -> list[Command]:
    """The ``$ command`` lines of a block, each with the output the page shows for it."""
    found: list[Command] = []
    for line in block.splitlines():
        if line.startswith("$ "):
            found.append(Command(line[2:], ""))
        elif not found:
            raise ValueError(f"a console block starts with a '$ command' line, not {line!r}")
        else:
            found[-1].expected += line + "\n"
    return found


def argv(command: str) -> list[str]:
    """The process to start for a command the page shows."""
    words = shlex.split(command)
    if words[:1] == ["microgpt"]:
        return [sys.executable, "-m", "microgpt", *words[1:]]
    if words[:1] == ["python"]:
        return [sys.executable, *words[1:]]
    raise ValueError(f"a console block runs microgpt or python commands, not {command!r}")


def environment(directory: Path) -> dict[str, str]:
    """The fixed environment a command runs in: the same output on any machine and terminal."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("PYTHON", "MICROGPT", "FORCE_COLOR", "COLUMNS", "LINES"))}
    path = [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]
    env.update(COLUMNS="100", NO_COLOR="1", PYTHONIOENCODING="utf-8", PYTHONUNBUFFERED="1",
               PYTHONPATH=os.pathsep.join(path), XDG_CACHE_HOME=str(directory / ".cache"))
    return env


def run(command: str, directory: Path) -> str:
    """What ``command`` prints, stdout and stderr as a terminal shows them, run in
    ``directory``."""
    result = subprocess.run(argv(command), cwd=directory, env=environment(directory),
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, timeout=TIMEOUT, check=False)
    return _lines(result.stdout.decode("utf-8", errors="backslashreplace"))


def _lines(text: str) -> str:
    """Text as it is compared: no trailing spaces, a newline after each line."""
    return "".join(line.rstrip() + "\n" for line in text.splitlines())


def matches(expected: str, actual: str) -> bool:
    return _CHECKER.check_output(_lines(expected), actual, _FLAGS)


# While a page is refreshed: each console block's source, and the source it should have.
_refreshed: list[tuple[str, str]] | None = None


def evaluate_console(example: Example) -> str | None:
    """None if every command of the block prints what the block shows, else a report."""
    directory, block = Path.cwd(), str(example.parsed)
    updated = []
    for command in commands(block):
        actual = run(command.line, directory)
        if not matches(command.expected, actual):
            if _refreshed is None:
                return f"$ {command.line}\n" + _CHECKER.output_difference(
                    doctest.Example(command.line, _lines(command.expected)), actual, _FLAGS)
            command.expected = actual
        updated.append(f"$ {command.line}\n{command.expected}")
    if _refreshed is not None:
        _refreshed.append((block, "".join(updated)))
    return None


SYBIL = Sybil(parsers=[PythonCodeBlockParser(doctest_optionflags=doctest.ELLIPSIS),
                       CodeBlockParser(language="console", evaluator=evaluate_console),
                       SkipParser()])


def run_page(page: Path) -> None:
    """Every example of ``page``, in order, in the current directory."""
    for example in SYBIL.parse(page):
        try:
            example.evaluate()
        except SkipTest:  # this block only; the page's other examples still run
            continue


def refresh(page: Path) -> int:
    """Rewrite the console outputs of ``page`` that differ; how many blocks changed."""
    global _refreshed
    _refreshed = []
    cwd = Path.cwd()
    try:
        with tempfile.TemporaryDirectory() as directory:
            os.chdir(directory)
            for example in SYBIL.parse(page):
                try:
                    example.evaluate()
                except (SkipTest, SybilFailure) as problem:
                    print(f"{page}, line {example.line}: {problem}")
        pairs, _refreshed = _refreshed, None
    finally:
        os.chdir(cwd)
        _refreshed = None
    text, changed = page.read_text(encoding="utf-8"), 0
    for old, new in pairs:
        if old != new:
            text = text.replace(f"```console\n{old}```", f"```console\n{new}```", 1)
            changed += 1
    page.write_text(text, encoding="utf-8")
    return changed


if __name__ == "__main__":
    for name in sys.argv[1:]:
        print(f"{name}: {refresh(Path(name).resolve())} console block(s) rewritten")
