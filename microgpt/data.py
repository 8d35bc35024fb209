"""The dataset and the character tokenizer.

microgpt trains on a list of short documents (by default the makemore names, one per
line). This module finds that file (a path the user gave, else a cached copy, else a
verified download into the cache), splits it into documents, and maps characters to
integer ids and back. Every failure a user can cause or meet is a ``DataError`` with a
one-line message, so the CLI can print it as is.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:  # imported where a download happens: it is a tenth of the CLI's start-up
    import requests

DATA_URL = "https://raw.githubusercontent.com/karpathy/makemore/988aa59/names.txt"
DATA_SHA256 = "0a30b5557f192f32ab962680889aac5f6fda0f4cecf40a6d0b5694f58ea8cc4d"

_OFFLINE_HINT = "use --data PATH to train on a local file offline"


class DataError(Exception):
    """A dataset problem the user can fix; the message is one self-contained line."""


class _Retryable(Exception):
    """An attempt failed in a way that may succeed if tried again (network, 5xx)."""


def cache_dir() -> Path:
    """Where downloads are kept: ``$XDG_CACHE_HOME/microgpt``, else ``~/.cache/microgpt``."""
    base = os.environ.get("XDG_CACHE_HOME")  # the XDG spec says an empty value means unset
    return (Path(base) if base else Path.home() / ".cache") / "microgpt"


def _one_line(exc: BaseException) -> str:
    # requests' messages can be long and nested; the CLI needs a single line.
    return " ".join(f"{type(exc).__name__}: {exc}".split())


def _fetch(get: Callable[..., requests.Response], url: str, out: BinaryIO, timeout: float) -> str:
    """Stream ``url`` into the open binary file ``out``; return the sha256 of the body."""
    import requests

    try:
        with get(url, stream=True, timeout=(timeout, timeout)) as response:
            if response.status_code >= 500:
                raise _Retryable(f"HTTP {response.status_code} {response.reason}")
            if response.status_code >= 400:
                raise DataError(
                    f"download of {url} failed: HTTP {response.status_code} {response.reason}"
                    f" ({_OFFLINE_HINT})"
                )
            digest = hashlib.sha256()
            for chunk in response.iter_content(chunk_size=1 << 16):
                digest.update(chunk)
                out.write(chunk)
            # Older urllib3 returns a short body silently when the server hangs up early;
            # raw.tell() counts bytes off the wire, so it compares with Content-Length
            # even for compressed responses.
            expected = response.headers.get("Content-Length")
            if expected is not None and response.raw.tell() != int(expected):
                raise _Retryable(
                    f"connection closed after {response.raw.tell()} of {expected} bytes"
                )
            return digest.hexdigest()
    except (
        requests.ConnectionError,
        requests.Timeout,
        requests.exceptions.ChunkedEncodingError,
    ) as exc:
        # Refused, reset, timed out, or cut off mid-body: worth another try.
        raise _Retryable(_one_line(exc)) from exc
    except requests.RequestException as exc:  # e.g. an invalid URL: retrying will not help
        raise DataError(f"download of {url} failed: {_one_line(exc)} ({_OFFLINE_HINT})") from exc


def download(
    url: str,
    dest: Path,
    sha256: str | None,
    *,
    timeout: float = 30.0,
    retries: int = 1,
    session: requests.Session | None = None,
) -> Path:
    """Download ``url`` to ``dest`` atomically, checking ``sha256`` (if given) first.

    The body goes to a temporary file next to ``dest`` and is moved into place with
    ``os.replace`` only once complete and verified, so ``dest`` is either absent or
    correct, never half written. Network errors, timeouts and 5xx responses are retried
    ``retries`` times; anything else fails at once. On failure nothing is left behind.
    """
    import requests

    dest = Path(dest)
    get = session.get if session is not None else requests.get
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    except OSError as exc:
        raise DataError(f"cannot write to {dest.parent}: {exc.strerror or exc}") from exc
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            for attempt in range(retries + 1):
                out.seek(0)
                out.truncate()  # drop whatever a failed attempt wrote
                try:
                    actual = _fetch(get, url, out, timeout)
                    break
                except _Retryable as exc:
                    if attempt == retries:
                        raise DataError(
                            f"download of {url} failed: {exc} ({_OFFLINE_HINT})"
                        ) from exc
        if sha256 is not None and actual != sha256.lower():
            raise DataError(
                f"checksum mismatch for {url}: expected sha256 {sha256}, got {actual}"
                f" ({_OFFLINE_HINT})"
            )
        os.replace(tmp, dest)
    except OSError as exc:
        raise DataError(f"cannot write {dest}: {exc.strerror or exc}") from exc
    finally:
        with contextlib.suppress(FileNotFoundError):  # already moved into place
            tmp.unlink()
    return dest


def find_dataset(
    path: str | Path | None = None,
    *,
    url: str = DATA_URL,
    sha256: str | None = DATA_SHA256,
) -> Path:
    """Return the dataset file: ``path`` if given, else the cached copy, else a fresh download."""
    if path is not None:
        path = Path(path).expanduser()
        if path.is_dir():
            raise DataError(f"dataset path is a directory, not a file: {path}")
        if not path.exists():
            raise DataError(f"dataset file not found: {path}")
        return path
    cached = cache_dir() / "names.txt"
    if cached.is_file():  # only verified downloads are ever moved here, so trust it
        return cached
    return download(url, cached, sha256)


def load_docs(path: str | Path) -> list[str]:
    """Read one document per line, stripped, with blank lines dropped."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"dataset {path} is not UTF-8 text") from exc
    except OSError as exc:
        raise DataError(f"cannot read dataset {path}: {exc.strerror or exc}") from exc
    docs = [line.strip() for line in text.strip().split("\n") if line.strip()]  # as microgpt.py
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
