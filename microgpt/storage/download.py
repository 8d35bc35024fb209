"""Datasets given as http(s) URLs: downloaded once with pooch, into a cache.

pooch (the scientific Python ecosystem's data fetcher) does the work: it downloads to a
temporary file beside the cache entry and moves it into place only once complete and,
when an expected sha256 is given, verified; it retries failed attempts; and it keeps the
files in the platform's cache directory (``~/.cache/microgpt`` on Linux, or under
``$XDG_CACHE_HOME``), one per URL, so later runs use the copy without asking the network.
pooch and requests are imported here only, when a URL is given: imported by every run,
they would lengthen every start-up (benchmarks/SPEED.md, "Facts moved out of the code").
A download stops once it is larger than a dataset may be (``limits.MAX_DATASET_BYTES``),
so a URL cannot fill the disk.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from .files import problem
from .limits import MAX_DATASET_BYTES

if TYPE_CHECKING:
    import logging

TIMEOUT = 30.0  # seconds to connect, and between two reads
RETRIES = 2  # after the first attempt: for dropped connections and overloaded servers
_OFFLINE_HINT = "give --data a local file to train offline"


class DownloadError(Exception):
    """A download that failed; the message is one line that names the URL."""


def fetch(url: str, sha256: str | None = None) -> Path:
    """The local copy of ``url``: the cached one, or a new download checked against ``sha256``.

    A cached copy that does not match ``sha256`` is downloaded again. On failure nothing
    is left behind, not even a cache directory this call created.
    """
    import pooch
    from pooch.utils import unique_file_name

    cache = Path(pooch.os_cache("microgpt"))
    name = unique_file_name(url)
    known_hash = None if sha256 is None else f"sha256:{sha256}"
    fetcher = pooch.create(path=cache, base_url="", registry={name: known_hash},
                           urls={name: url}, retry_if_failed=RETRIES)
    http = pooch.HTTPDownloader(timeout=TIMEOUT, progressbar=False, chunk_size=1 << 16)

    def capped_download(url: str, output_file: str, owner: object) -> None:
        with open(output_file, "wb") as out:
            http(url, _Capped(out, MAX_DATASET_BYTES), owner)

    before = _identity(cache / name)
    created = [d for d in (cache, *cache.parents) if not d.exists()]
    try:
        with _quiet(pooch.get_logger()):
            path = Path(fetcher.fetch(name, downloader=capped_download))
    except BaseException as exc:  # Ctrl-C too: pooch removes its temporary file, we our dirs
        for directory in created:  # deepest first; only those left empty
            with contextlib.suppress(OSError):
                directory.rmdir()
        if not isinstance(exc, (OSError, ValueError, _TooLarge)):
            raise
        raise DownloadError(f"download of {url} failed: {_describe(exc, sha256)} "
                            f"({_OFFLINE_HINT})") from exc
    if _identity(path) != before and sys.stderr is not None:  # new: say what, to pin it
        digest = pooch.file_hash(str(path))
        print(f"downloaded {url} (sha256 {digest}) to {path}", file=sys.stderr)
    return path


class _TooLarge(Exception):
    """More bytes than a dataset may have; not one of the errors pooch retries on."""


class _Capped:
    """A binary file to write that refuses to grow past ``limit`` bytes."""

    def __init__(self, out: BinaryIO, limit: int) -> None:
        self.out, self.limit, self.written = out, limit, 0

    def write(self, data: bytes) -> int:
        self.written += len(data)
        if self.written > self.limit:
            raise _TooLarge(f"it is larger than the {self.limit // 2**20} MiB a dataset may be")
        return self.out.write(data)

    def __getattr__(self, name: str) -> object:  # flush, and whatever else pooch calls
        return getattr(self.out, name)


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        info = path.stat()
    except OSError:  # not there (or not reachable): pooch will say why if it matters
        return None
    return info.st_ino, info.st_mtime_ns


@contextlib.contextmanager
def _quiet(logger: logging.Logger) -> Iterator[None]:
    # pooch logs each download at INFO level in its own words; fetch reports its own line.
    import logging  # here, not at the top: a run that downloads nothing need not import it

    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def _describe(exc: BaseException, sha256: str | None) -> str:
    """One line for requests' nested messages and pooch's paragraphs."""
    import requests

    if isinstance(exc, _TooLarge):
        text = str(exc)
    elif isinstance(exc, requests.RequestException):  # before ValueError: InvalidURL is both
        text = f"{type(exc).__name__}: {exc}"
    elif isinstance(exc, ValueError):  # pooch's only one here: the hash did not match
        text = f"its sha256 is not {sha256} (--data-sha256)"
    else:
        text = f"cannot write to the cache: {problem(exc)}"
    return " ".join(text.split())
