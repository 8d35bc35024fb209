"""The dataset and the character tokenizer.

microgpt trains on a list of short documents, one per line of a text file: by default the
makemore names, which ship inside this package (``names.txt``, from ``NAMES_URL``, MIT
licence: see ``names.txt.license``), so the first run needs no network. ``docs_from_text``
turns a file's text into documents as microgpt.py does; reading a file (or a URL) safely,
with its bounds, is ``microgpt.storage.datasets``'s job.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

NAMES = Path(__file__).with_name("names.txt")
NAMES_URL = "https://raw.githubusercontent.com/karpathy/makemore/988aa59/names.txt"
NAMES_SHA256 = "0a30b5557f192f32ab962680889aac5f6fda0f4cecf40a6d0b5694f58ea8cc4d"


def docs_from_text(text: str) -> list[str]:
    """One document per line, stripped, with blank lines dropped (as microgpt.py does)."""
    return [line.strip() for line in text.strip().split("\n") if line.strip()]


class Tokenizer:
    """Characters to ids and back: one id per character, plus a BOS id after them."""

    def __init__(self, chars: str) -> None:
        if list(chars) != sorted(set(chars)):
            raise ValueError("chars must be sorted unique characters; use Tokenizer.from_docs")
        self.chars = chars
        self.bos = len(chars)  # marks both the start and the end of a document
        self.vocab_size = len(chars) + 1
        self._ids = {ch: i for i, ch in enumerate(chars)}  # same ids as chars.index(ch)

    @classmethod
    def from_docs(cls, docs: Iterable[str]) -> Tokenizer:
        """The tokenizer whose vocabulary is every character that occurs in ``docs``."""
        return cls("".join(sorted(set("".join(docs)))))

    def encode(self, text: str) -> list[int]:
        """The ids of the characters of ``text`` (no BOS added)."""
        unknown = dict.fromkeys(ch for ch in text if ch not in self._ids)  # ordered, unique
        if unknown:
            raise ValueError("characters not in the vocabulary: " + ", ".join(map(repr, unknown)))
        return [self._ids[ch] for ch in text]

    def decode(self, ids: Iterable[int]) -> str:
        """The text for ``ids``, with BOS tokens skipped."""
        return "".join(self.chars[i] for i in ids if i != self.bos)
