"""Reading a dataset: the shipped names, a local file, or an http(s) URL's cached copy.

A path given to ``--data`` may name anything, so a dataset is read only from a regular
file (``files.read_at_most``), whole, and at most ``limits.MAX_DATASET_BYTES``; a URL is
downloaded once by ``download.fetch``. Every failure a user can cause or meet is a
``DataError`` with a one-line message, so the command line can print it as is.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from urllib.parse import urlsplit

from ..data import NAMES, docs_from_text
from .download import TIME_LIMIT, DownloadError, fetch
from .files import FileProblem, read_at_most
from .limits import MAX_DATASET_BYTES


class DataError(Exception):
    """A dataset problem the user can fix; the message is one self-contained line."""


def is_url(source: str) -> bool:
    """Whether ``--data`` names a download rather than a local file."""
    return source.lower().startswith(("http://", "https://"))


def find_dataset(source: str | None = None, sha256: str | None = None, *,
                 redownload: bool = False, download_timeout: float = TIME_LIMIT) -> Path:
    """The dataset file: the shipped names (``source`` None), a local path, or a URL's copy.

    A URL is downloaded once (again with ``redownload``), checked against ``sha256`` if
    given, within ``download_timeout`` seconds (see ``download``).
    """
    if source is None:
        return NAMES
    if is_url(source):
        _check_url(source)
        try:
            return fetch(source, sha256, redownload=redownload, time_limit=download_timeout)
        except DownloadError as exc:
            raise DataError(str(exc)) from exc
    try:
        return Path(source).expanduser()
    except RuntimeError as exc:  # ~user of no user, or ~ without a home directory
        raise DataError(f"cannot read dataset {source}: {source.split('/')[0]} names no home "
                        "directory") from exc


def _check_url(url: str) -> None:
    """Raise ``DataError`` unless ``url`` can be asked for: a host, a port in range, no spaces.

    What Python's URL parser and the host name's encoding would raise deep in a download,
    raised here in one line.
    """
    why = ""
    if any(ch.isspace() or not ch.isprintable() for ch in url):
        why = "it holds a space or a control character (write it %-encoded)"
    else:
        try:
            parts = urlsplit(url)
            host, _ = parts.hostname, parts.port  # .port raises for a port out of range
            if host and "[" in parts.netloc:  # an address, which Python 3.10 does not check
                ipaddress.ip_address(host.partition("%")[0])  # (the zone after % is free)
        except ValueError as exc:  # "Invalid IPv6 URL", "Port out of range 0-65535", ...
            why = " ".join(str(exc).split())
        else:
            if not host:
                why = "it names no host"
            else:
                try:
                    host.encode("idna")
                except UnicodeError as exc:
                    why = f"its host name is not valid ({exc.__cause__ or exc})"
    if why:
        raise DataError(f"cannot download {url}: {why}")


def load_docs(path: str | Path, sha256: str | None = None) -> list[str]:
    """Read one document per line, stripped, with blank lines dropped (as microgpt.py does).

    The file must be UTF-8 text (a leading byte-order mark is not part of it) of at most
    ``MAX_DATASET_BYTES``, and have the sha256 ``sha256`` if given.
    """
    try:
        data = read_at_most(path, MAX_DATASET_BYTES, "a dataset")
    except FileProblem as exc:
        raise DataError(f"cannot read dataset {path}: {exc}") from exc
    if sha256 is not None:
        import hashlib  # here: a run that checks no digest need not load OpenSSL (start-up)

        if hashlib.sha256(data).hexdigest() != sha256:
            raise DataError(f"dataset {path} does not have the sha256 {sha256} (--data-sha256)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"dataset {path} is not UTF-8 text (byte 0x{data[exc.start]:02x} "
                        f"at offset {exc.start})") from exc
    docs = docs_from_text(text)
    if not docs:
        raise DataError(f"dataset {path} is empty (no non-blank lines)")
    return docs
