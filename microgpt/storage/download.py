"""Datasets given as http(s) URLs: downloaded once with pooch, into a cache.

pooch (the scientific Python ecosystem's data fetcher) does the work: it downloads to a
temporary file beside the cache entry and moves it into place only once complete and,
when an expected sha256 is given, verified; it retries failed attempts; and it keeps the
files in the platform's cache directory (``~/.cache/microgpt`` on Linux, or under
``$XDG_CACHE_HOME``), one per URL, so later runs use the copy without asking the network.
pooch and requests are imported here only, when a URL is given: imported by every run,
they would lengthen every start-up (benchmarks/SPEED.md, "Facts moved out of the code").

A download says on stderr what it does (where it goes, its size when the server gives it,
each retry), and is bounded: in size (``limits.MAX_DATASET_BYTES``, so a URL cannot fill
the disk), and in time, all attempts together (``TIME_LIMIT`` by default; per-read timeouts
alone let a server that sends a byte now and then hold a download forever). What is plainly
not a text dataset (an HTML page, binary data) is refused; neither is retried, and nothing
refused or unfinished is kept in the cache.
"""

from __future__ import annotations

import codecs
import contextlib
import math
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from .files import problem
from .limits import MAX_DATASET_BYTES
from .naming import name as _name

if TYPE_CHECKING:
    import logging

    import requests

TIMEOUT = 30.0  # seconds to connect, and between two reads
TIME_LIMIT = 300.0  # seconds a whole download may take, all attempts together (by default)
RETRIES = 2  # after the first attempt: for dropped connections and overloaded servers
_OFFLINE_HINT = "give --data a local file to train offline"
_HTML_TYPES = ("text/html", "application/xhtml+xml")
_HTML_STARTS = (b"<!doctype html", b"<html")  # compared with the start of the text, lowercased
_LEAD = max(map(len, _HTML_STARTS))


class DownloadError(Exception):
    """A download that failed; the message is one line that names the URL."""


def fetch(url: str, sha256: str | None = None, *, redownload: bool = False,
          time_limit: float = TIME_LIMIT) -> Path:
    """The local copy of ``url``: the cached one, or a new download checked against ``sha256``.

    A cached copy that does not match ``sha256``, or any with ``redownload``, is downloaded
    again, and replaced only once the new one is complete (and verified). The download,
    retries included, stops after ``time_limit`` seconds (in the main thread a timer signal
    interrupts even a read; in another, the time is checked as each piece arrives). On
    failure nothing is left behind, not even a cache directory this call created.
    """
    import shutil  # here, as pooch: not at every start-up (benchmarks/SPEED.md, "Start-up")
    import tempfile

    import pooch
    from pooch.utils import unique_file_name

    cache = Path(pooch.os_cache("microgpt"))
    name = unique_file_name(url)
    path = cache / name
    known_hash = None if sha256 is None else f"sha256:{sha256}"
    download = _Download(url, path, sha256, time_limit)
    created = [d for d in (cache, *cache.parents) if not d.exists()]
    staging = None  # with redownload: a directory of this call's own, where the new copy goes
    try:
        if redownload:  # so that the old copy stays until the new one replaces it
            cache.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=cache))
        fetcher = pooch.create(path=staging or cache, base_url="", registry={name: known_hash},
                               urls={name: url}, retry_if_failed=RETRIES)
        with _quiet(pooch.get_logger()):
            copy = Path(fetcher.fetch(name, downloader=download))
        if staging is not None:
            copy.replace(path)
    except BaseException as exc:  # Ctrl-C too: pooch removes its temporary file, we the rest
        if staging is not None:  # this call's own, whatever it holds
            shutil.rmtree(staging, ignore_errors=True)
        for directory in created:  # deepest first; only those left empty
            with contextlib.suppress(OSError):
                directory.rmdir()
        if not isinstance(exc, (OSError, ValueError, _Refused, _TimedOut)):
            raise
        raise DownloadError(f"download of {url} failed: {_describe(exc, sha256, time_limit)} "
                            f"({_OFFLINE_HINT})") from exc
    if staging is not None:
        with contextlib.suppress(OSError):  # empty now; a leftover if not, but the copy is in
            staging.rmdir()
    if download.attempts:  # new: say what, to pin it
        _say(f"downloaded {url} (sha256 {pooch.file_hash(str(path))}) to {path}")
    else:
        again = _name("redownload")  # --redownload, or the argument redownload=True
        again = again if again.startswith("-") else f"{again}=True"
        _say(f"using the copy of {url} cached at {path} ({again} downloads it again)")
    return path


class _Refused(Exception):
    """Content that is not a dataset, or too much of it: not one of the errors pooch retries."""


class _TimedOut(BaseException):
    """The time limit of a download passed; raised where it lands, as Ctrl-C is."""


class _Download:
    """pooch's downloader for one URL: reports, checks and bounds each attempt.

    Called by pooch once per attempt, with the temporary file to write.
    """

    def __init__(self, url: str, path: Path, sha256: str | None, time_limit: float) -> None:
        self.url, self.path, self.sha256, self.time_limit = url, path, sha256, time_limit
        self.attempts = 0
        self.deadline = 0.0
        self.failure: str | None = None  # why the last attempt failed, if it failed here
        self.checked: _Checked | None = None  # the file the attempt under way writes
        self.response: requests.Response | None = None  # its answer, once the headers are in

    def __call__(self, url: str, output_file: str, owner: object) -> None:
        import pooch

        self.attempts += 1
        if self.attempts == 1:
            self.deadline = time.monotonic() + self.time_limit
            _say(f"downloading {self.url} to {self.path}")
        else:
            why = self.failure or _describe(ValueError(), self.sha256, self.time_limit)
            _say(f"attempt {self.attempts - 1} of {1 + RETRIES} failed ({why}); trying again")
        self.failure = None
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise _TimedOut
        http = pooch.HTTPDownloader(timeout=TIMEOUT, progressbar=False, chunk_size=1 << 16,
                                    hooks={"response": self._headers})
        with (_deadline(left), open(output_file, "wb") as out,
              _Checked(out, MAX_DATASET_BYTES, self.deadline) as checked):
            self.checked = checked
            try:
                http(url, checked, owner)
            except (OSError, ValueError) as exc:  # requests' errors, which pooch retries
                self.failure = _describe(exc, self.sha256, self.time_limit)
                status = getattr(getattr(exc, "response", None), "status_code", None)
                if status is not None and 400 <= status < 500 and status not in (408, 429):
                    raise _Refused(self.failure) from exc  # asking again gets the same answer
                raise
            finally:  # a failed attempt's connection too, rather than whenever it is collected
                if self.response is not None:
                    self.response.close()
                    self.response = None

    def _headers(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        """Refuse an HTML page, and say how much is coming, once the headers are in."""
        self.response = response
        if response.is_redirect or not response.ok:  # followed, or refused by pooch
            return
        kind = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if kind in _HTML_TYPES:
            raise _Refused(f"it is an HTML page (Content-Type {kind}), not a text dataset")
        length = response.headers.get("Content-Length", "")
        size = int(length) if length.isascii() and length.isdigit() else None
        encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
        compressed = encoding not in ("", "identity")  # then the size is not the text's
        if size is None:
            _say("receiving (the server does not say how many bytes)")
        else:
            _say(f"receiving {size:,} bytes" + (f" ({encoding}-compressed)" if compressed else ""))
        if self.checked is not None:
            self.checked.show_progress(None if compressed else size)


class _Checked:
    """A binary file to write that refuses more than a dataset may hold, binary data and
    HTML, and anything once the ``deadline`` (of ``time.monotonic``) has passed, and shows a
    progress bar on a terminal (with tqdm installed)."""

    def __init__(self, out: BinaryIO, limit: int, deadline: float = math.inf) -> None:
        self.out, self.limit, self.written = out, limit, 0
        self.deadline = deadline
        self.lead = b""  # the first bytes after a byte-order mark and whitespace
        self.bar: Any = None

    def __enter__(self) -> _Checked:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.close()

    def show_progress(self, size: int | None) -> None:
        """Show a progress bar towards ``size`` bytes (None: unknown), if stderr is a terminal."""
        if sys.stderr is None or not sys.stderr.isatty() or self.bar is not None:
            return
        try:
            from tqdm import tqdm
        except ImportError:  # the optional extra is missing: the lines say enough
            return
        # The command line's output escapes control characters: not the bar's own.
        self.bar = tqdm(total=size, unit="B", unit_scale=True, leave=False, desc="downloading",
                        file=getattr(sys.stderr, "unescaped", sys.stderr))

    def write(self, data: bytes) -> int:
        # Between two pieces, in any thread: the timer signal (_deadline) works in the main
        # thread alone, but it also interrupts a piece that is slow to come.
        if time.monotonic() > self.deadline:
            raise _TimedOut
        start = self.written
        self.written += len(data)
        if self.written > self.limit:
            raise _Refused(f"it is larger than the {self.limit // 2**20} MiB a dataset may be")
        if b"\0" in data:
            raise _Refused(f"it is binary (a NUL byte at offset {start + data.index(0):,}), "
                           "not a text dataset")
        if len(self.lead) < _LEAD:
            text = data.removeprefix(codecs.BOM_UTF8) if start == 0 else data
            self.lead = (self.lead + text).lstrip()[:_LEAD]
            if self.lead.lower().startswith(_HTML_STARTS):
                raise _Refused("it is an HTML page, not a text dataset")
        if self.bar is not None:
            self.bar.update(len(data))
        return self.out.write(data)

    def __getattr__(self, name: str) -> object:  # flush, and whatever else pooch calls
        return getattr(self.out, name)


@contextlib.contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    """Within the block, raise ``_TimedOut`` once ``seconds`` have passed.

    A timer signal interrupts even a read that is making progress, one byte at a time.
    It is used only in the main thread (the only one Python delivers signals to) and only
    where SIGALRM is free (its handler the default and no timer running); elsewhere the
    block runs to its end, and ``_Checked`` holds the deadline between pieces.
    """
    import signal

    if (not hasattr(signal, "setitimer")
            or threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGALRM) != signal.SIG_DFL
            or signal.getitimer(signal.ITIMER_REAL)[0] != 0):
        yield
        return
    armed = [True]  # a signal already on its way when the block ends must not raise

    def expire(signum: int, frame: object) -> None:
        if armed[0]:
            raise _TimedOut

    signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        armed[0] = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, signal.SIG_DFL)


def _say(line: str) -> None:
    """Tell the user what the download does, on stderr (stdout is the run's output)."""
    if sys.stderr is not None:
        with contextlib.suppress(OSError, ValueError):  # closed, or its reader gone: the
            print(line, file=sys.stderr, flush=True)  # download need not fail for that


@contextlib.contextmanager
def _quiet(logger: logging.Logger) -> Iterator[None]:
    # pooch logs each download at INFO level in its own words; fetch reports its own lines.
    import logging  # here, not at the top: a run that downloads nothing need not import it

    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def _describe(exc: BaseException, sha256: str | None, time_limit: float) -> str:
    """One line for requests' nested messages and pooch's paragraphs."""
    import requests

    if isinstance(exc, _Refused):
        text = str(exc)
    elif isinstance(exc, _TimedOut):
        text = (f"it did not finish within {time_limit:g} s, the limit "
                f"{_name('download_timeout')} sets")
    elif isinstance(exc, requests.RequestException):  # before ValueError: InvalidURL is both
        text = f"{type(exc).__name__}: {exc}"
    elif isinstance(exc, ValueError):  # pooch's only one here: the hash did not match
        text = f"its sha256 is not {sha256} ({_name('data_sha256')})"
    else:
        text = f"cannot write to the cache: {problem(exc)}"
    return " ".join(text.split())
