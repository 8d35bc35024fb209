"""Tests for microgpt.data: dataset lookup, download, loading and the tokenizer.

Downloads go to a loopback HTTP server started inside the tests, and name resolution
is blocked for every other host, so no test can reach the internet.
"""

from __future__ import annotations

import hashlib
import io
import socket
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from microgpt import data
from microgpt.data import (
    DATA_SHA256,
    DATA_URL,
    DataError,
    Tokenizer,
    cache_dir,
    download,
    find_dataset,
    load_docs,
)

NAMES = ["emma", "olivia", "ava", "isabella", "sophia"]
GOOD = "".join(name + "\n" for name in NAMES).encode()
GOOD_SHA = hashlib.sha256(GOOD).hexdigest()
SHARED_NAMES = Path(__file__).resolve().parents[2] / "shared" / "names.txt"


class _Handler(BaseHTTPRequestHandler):
    """Serves one behaviour per path; see the branches of do_GET."""

    server: _Server

    def do_GET(self) -> None:
        hit = self.server.count(self.path)
        if self.path == "/names.txt":
            self._send(200, GOOD)
        elif self.path == "/tampered.txt":  # served content differs from GOOD_SHA
            self._send(200, GOOD + b"mallory\n")
        elif self.path == "/flaky.txt":  # fails the first time only
            if hit == 1:
                self._send(500, b"try again")
            else:
                self._send(200, GOOD)
        elif self.path == "/broken.txt":
            self._send(500, b"always broken")
        elif self.path == "/dropped.txt":
            # Promise more than is sent, then hang up: the client sees a short body.
            self.send_response(200)
            self.send_header("Content-Length", str(len(GOOD) + 100))
            self.end_headers()
            self.wfile.write(GOOD[:10])
            self.close_connection = True
        else:
            self._send(404, b"not found")

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
        pass


class _Server(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.hits: Counter[str] = Counter()
        self._lock = threading.Lock()  # handlers run on their own threads

    def count(self, path: str) -> int:
        with self._lock:
            self.hits[path] += 1
            return self.hits[path]

    def url(self, path: str) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}{path}"


@pytest.fixture
def server():
    httpd = _Server()
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@pytest.fixture(autouse=True)
def _isolated(monkeypatch, tmp_path):
    """Keep the cache in tmp_path and refuse to resolve any host but loopback."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    real_getaddrinfo = socket.getaddrinfo

    def loopback_only(host, *args, **kwargs):
        if host not in ("127.0.0.1", "localhost"):
            raise socket.gaierror(f"tests must stay offline, refused to resolve {host}")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", loopback_only)


def _assert_clean_failure(excinfo: pytest.ExceptionInfo, url: str, directory: Path) -> None:
    message = str(excinfo.value)
    assert "\n" not in message
    assert url in message
    assert "--data PATH" in message
    assert list(directory.iterdir()) == []  # neither the temp file nor dest


# --- download ---------------------------------------------------------------------------


def test_download_verifies_then_moves_into_place(server, tmp_path, monkeypatch):
    dest = tmp_path / "dl" / "names.txt"
    moves = []
    real_replace = data.os.replace

    def spy_replace(src, dst):
        # At the moment of the move the body is complete and dest does not exist yet.
        moves.append((Path(src).parent, Path(src).read_bytes(), Path(dst).exists()))
        real_replace(src, dst)

    monkeypatch.setattr(data.os, "replace", spy_replace)
    assert download(server.url("/names.txt"), dest, GOOD_SHA, timeout=2) == dest
    assert moves == [(dest.parent, GOOD, False)]
    assert dest.read_bytes() == GOOD
    assert list(dest.parent.iterdir()) == [dest]


def test_download_retries_once_after_server_error(server, tmp_path):
    dest = tmp_path / "names.txt"
    download(server.url("/flaky.txt"), dest, GOOD_SHA, timeout=2)
    assert dest.read_bytes() == GOOD
    assert server.hits["/flaky.txt"] == 2


def test_download_gives_up_after_repeated_server_errors(server, tmp_path):
    url = server.url("/broken.txt")
    with pytest.raises(DataError, match="HTTP 500") as excinfo:
        download(url, tmp_path / "names.txt", None, timeout=2)
    _assert_clean_failure(excinfo, url, tmp_path)
    assert server.hits["/broken.txt"] == 2


def test_download_checksum_mismatch(server, tmp_path):
    url = server.url("/tampered.txt")
    with pytest.raises(DataError, match="checksum mismatch") as excinfo:
        download(url, tmp_path / "names.txt", GOOD_SHA, timeout=2)
    _assert_clean_failure(excinfo, url, tmp_path)
    assert GOOD_SHA in str(excinfo.value)


def test_download_404_fails_without_retry(server, tmp_path):
    url = server.url("/nowhere.txt")
    with pytest.raises(DataError, match="HTTP 404") as excinfo:
        download(url, tmp_path / "names.txt", GOOD_SHA, timeout=2)
    _assert_clean_failure(excinfo, url, tmp_path)
    assert server.hits["/nowhere.txt"] == 1


def test_download_connection_dropped_mid_file(server, tmp_path):
    url = server.url("/dropped.txt")
    with pytest.raises(DataError) as excinfo:
        download(url, tmp_path / "names.txt", None, timeout=2)
    _assert_clean_failure(excinfo, url, tmp_path)
    assert server.hits["/dropped.txt"] == 2  # a dropped connection is worth a retry


def test_download_detects_short_body_even_if_transport_does_not(tmp_path):
    # Older urllib3 hands back a short body without complaint; download must notice.
    class ShortBodySession:
        def get(self, url, **kwargs):
            response = requests.Response()
            response.status_code = 200
            response.headers["Content-Length"] = str(len(GOOD) + 100)
            response.raw = io.BytesIO(GOOD)
            return response

    url = "http://example.invalid/names.txt"
    with pytest.raises(DataError, match="connection closed") as excinfo:
        download(url, tmp_path / "names.txt", None, session=ShortBodySession())
    _assert_clean_failure(excinfo, url, tmp_path)


def test_download_connection_refused(tmp_path):
    with socket.socket() as probe:  # find a loopback port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/names.txt"
    with pytest.raises(DataError, match="ConnectionError") as excinfo:
        download(url, tmp_path / "names.txt", None, timeout=2)
    _assert_clean_failure(excinfo, url, tmp_path)


# --- cache_dir and find_dataset ---------------------------------------------------------


def test_cache_dir_respects_xdg_cache_home(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "elsewhere"))
    assert cache_dir() == tmp_path / "elsewhere" / "microgpt"


@pytest.mark.parametrize("xdg", [None, ""])
def test_cache_dir_defaults_to_home_cache(monkeypatch, tmp_path, xdg):
    monkeypatch.setenv("HOME", str(tmp_path))
    if xdg is None:
        monkeypatch.delenv("XDG_CACHE_HOME")
    else:
        monkeypatch.setenv("XDG_CACHE_HOME", xdg)
    assert cache_dir() == tmp_path / ".cache" / "microgpt"


def test_find_dataset_downloads_into_cache_once(server, tmp_path):
    url = server.url("/names.txt")
    path = find_dataset(url=url, sha256=GOOD_SHA)
    assert path == tmp_path / "xdg-cache" / "microgpt" / "names.txt"
    assert path.read_bytes() == GOOD
    assert find_dataset(url=url, sha256=GOOD_SHA) == path
    assert server.hits["/names.txt"] == 1


def test_find_dataset_cache_hit_makes_no_request(server):
    cached = cache_dir() / "names.txt"
    cached.parent.mkdir(parents=True)
    cached.write_text("zoe\n")
    assert find_dataset(url=server.url("/names.txt"), sha256=GOOD_SHA) == cached
    assert sum(server.hits.values()) == 0


def test_find_dataset_offline_with_empty_cache_suggests_data_flag():
    with pytest.raises(DataError) as excinfo:
        find_dataset()
    _assert_clean_failure(excinfo, DATA_URL, cache_dir())


def test_find_dataset_given_path(tmp_path):
    path = tmp_path / "mine.txt"
    path.write_text("zoe\n")
    assert find_dataset(str(path)) == path


def test_find_dataset_missing_path(tmp_path):
    missing = tmp_path / "missing.txt"
    with pytest.raises(DataError, match="not found") as excinfo:
        find_dataset(missing)
    assert str(missing) in str(excinfo.value)


def test_find_dataset_directory_path(tmp_path):
    with pytest.raises(DataError, match="directory"):
        find_dataset(tmp_path)


# --- load_docs --------------------------------------------------------------------------


def test_load_docs_strips_and_drops_blank_lines(tmp_path):
    path = tmp_path / "docs.txt"
    path.write_bytes(b"\n  emma \n\n\t\nava\r\n   \nbob")
    assert load_docs(path) == ["emma", "ava", "bob"]


@pytest.mark.parametrize("content", [b"", b" \n\t\n\r\n  "])
def test_load_docs_empty(tmp_path, content):
    path = tmp_path / "empty.txt"
    path.write_bytes(content)
    with pytest.raises(DataError, match="is empty") as excinfo:
        load_docs(path)
    assert str(path) in str(excinfo.value)


def test_load_docs_not_utf8(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes("zoë\n".encode("latin-1"))
    with pytest.raises(DataError, match="not UTF-8") as excinfo:
        load_docs(path)
    assert str(path) in str(excinfo.value)


def test_load_docs_missing_file(tmp_path):
    with pytest.raises(DataError, match="missing.txt"):
        load_docs(tmp_path / "missing.txt")


# --- Tokenizer --------------------------------------------------------------------------


def test_tokenizer_vocabulary_and_round_trip():
    tok = Tokenizer.from_docs(NAMES)
    assert tok.chars == "abehilmopsv"
    assert tok.bos == 11
    assert tok.vocab_size == 12
    ids = tok.encode("sophia")
    assert ids == [tok.chars.index(ch) for ch in "sophia"]  # microgpt.py's ids
    assert tok.decode([tok.bos, *ids, tok.bos]) == "sophia"
    assert Tokenizer(tok.chars).encode("ava") == tok.encode("ava")


def test_tokenizer_encode_names_unknown_characters():
    tok = Tokenizer.from_docs(NAMES)
    with pytest.raises(ValueError, match=r"^characters not in the vocabulary: 'Q', '1'$"):
        tok.encode("eQm1aQ")


@pytest.mark.parametrize("chars", ["ba", "aab"])
def test_tokenizer_rejects_unsorted_or_repeated_chars(chars):
    with pytest.raises(ValueError, match="sorted unique"):
        Tokenizer(chars)


# --- the real dataset, when a copy is around ----------------------------------------------


@pytest.mark.skipif(not SHARED_NAMES.is_file(), reason=f"{SHARED_NAMES} not present")
def test_shared_names_dataset():
    assert hashlib.sha256(SHARED_NAMES.read_bytes()).hexdigest() == DATA_SHA256
    docs = load_docs(SHARED_NAMES)
    assert len(docs) == 32033
    assert Tokenizer.from_docs(docs).vocab_size == 27
