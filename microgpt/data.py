"""The dataset and the character tokenizer.

microgpt trains on a list of short documents, one per line of a text file: by default
the makemore names, which ship inside this package (``names.txt``, from ``NAMES_URL``,
MIT licence: see ``names.txt.license``), so the first run needs no network. ``--data``
names another file, or an http(s) URL that ``download.fetch`` keeps in a cache. A
dataset is read whole, so it may be at most ``limits.MAX_DATASET_BYTES``, and only from
a regular file (``files.open_regular``). Every failure a user can cause or meet is a
``DataError`` with a one-line message, so the CLI can print it as is.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

from .download import DownloadError, fetch
from .files import FileProblem, read_at_most
from .limits import MAX_DATASET_BYTES

NAMES = Path(__file__).with_name("names.txt")
NAMES_URL = "https://raw.githubusercontent.com/karpathy/makemore/988aa59/names.txt"
NAMES_SHA256 = "0a30b5557f192f32ab962680889aac5f6fda0f4cecf40a6d0b5694f58ea8cc4d"


class DataError(Exception):
    """A dataset problem the user can fix; the message is one self-contained line."""


def is_url(source: str) -> bool:
    """Whether ``--data`` names a download rather than a local file."""
    return source.lower().startswith(("http://", "https://"))


def find_dataset(source: str | None = None, sha256: str | None = None) -> Path:
    """The dataset file: the shipped names (``source`` None), a local path, or a URL's copy.

    A URL is downloaded once, checked against ``sha256`` if given (see ``download``).
    """
    if source is None:
        return NAMES
    if is_url(source):
        try:
            return fetch(source, sha256)
        except DownloadError as exc:
            raise DataError(str(exc)) from exc
    return Path(source).expanduser()


def load_docs(path: str | Path, sha256: str | None = None) -> list[str]:
    """Read one document per line, stripped, with blank lines dropped (as microgpt.py does).

    The file must be UTF-8 text (a leading byte-order mark is not part of it) of at most
    ``MAX_DATASET_BYTES``, and have the sha256 ``sha256`` if given.
    """
    try:
        data = read_at_most(path, MAX_DATASET_BYTES, "a dataset")
    except FileProblem as exc:
        raise DataError(f"cannot read dataset {path}: {exc}") from exc
    if sha256 is not None and hashlib.sha256(data).hexdigest() != sha256:
        raise DataError(f"dataset {path} does not have the sha256 {sha256} (--data-sha256)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"dataset {path} is not UTF-8 text (byte 0x{data[exc.start]:02x} "
                        f"at offset {exc.start})") from exc
    docs = [line.strip() for line in text.strip().split("\n") if line.strip()]
    if not docs:
        raise DataError(f"dataset {path} is empty (no non-blank lines)")
    return docs


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
