"""Tests for microgpt.data, microgpt.storage.datasets and microgpt.storage.download: the
shipped names, reading a dataset safely, downloading one with pooch, and the tokenizer.

Downloads go to a loopback HTTP server started inside the tests, and name resolution is
blocked for every other host, so no test can reach the internet.
"""

from __future__ import annotations

import hashlib
import os
import signal
import threading
from pathlib import Path

import pytest
from fifo import refusal
from loopback import GOOD, GOOD_SHA, NAMES, download_cache, serving
from paths import SHARED_NAMES

from microgpt import data
from microgpt.data import NAMES_SHA256, NAMES_URL, Tokenizer
from microgpt.storage import download, files
from microgpt.storage.datasets import DataError, find_dataset, is_url, load_docs
from microgpt.storage.limits import MAX_DATASET_BYTES

# Downloads go to a cache in tmp_path, from loopback servers only (tests/cli/conftest.py).
pytestmark = pytest.mark.usefixtures("downloads_isolated")


# ---- the names that ship with the package -------------------------------------------------------


def test_the_shipped_names_are_makemores():
    assert find_dataset() == data.NAMES
    assert hashlib.sha256(data.NAMES.read_bytes()).hexdigest() == NAMES_SHA256
    assert data.NAMES.stat().st_size == 228_145
    docs = load_docs(find_dataset())
    assert (len(docs), Tokenizer.from_docs(docs).vocab_size) == (32033, 27)


def test_the_shipped_names_say_where_they_come_from():
    notice = data.NAMES.with_name("names.txt.license").read_text()
    assert NAMES_URL in notice and NAMES_SHA256 in notice and "MIT License" in notice


@pytest.mark.skipif(not SHARED_NAMES.is_file(), reason=f"{SHARED_NAMES} not present")
def test_the_shipped_names_are_the_shared_copy():
    assert data.NAMES.read_bytes() == SHARED_NAMES.read_bytes()


# ---- reading a local dataset --------------------------------------------------------------------


def test_load_docs_strips_and_drops_blank_lines(tmp_path):
    path = tmp_path / "docs.txt"
    path.write_bytes(b"\n  emma \n\n\t\nava\r\n   \nbob")
    assert load_docs(path) == ["emma", "ava", "bob"]


def test_a_byte_order_mark_is_not_part_of_the_data(tmp_path):
    path = tmp_path / "bom.txt"
    path.write_bytes(b"\xef\xbb\xbfemma\nava\n")
    docs = load_docs(path)
    assert docs == ["emma", "ava"]
    assert Tokenizer.from_docs(docs).chars == "aemv"


@pytest.mark.parametrize("content", [b"", b" \n\t\n\r\n  ", b"\xef\xbb\xbf\n"])
def test_load_docs_empty(tmp_path, content):
    path = tmp_path / "empty.txt"
    path.write_bytes(content)
    with pytest.raises(DataError, match="is empty") as excinfo:
        load_docs(path)
    assert str(path) in str(excinfo.value)


def test_load_docs_not_utf8_says_where(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes("zoë\n".encode("latin-1"))
    with pytest.raises(DataError, match=r"not UTF-8 text \(byte 0xeb at offset 2\)") as excinfo:
        load_docs(path)
    assert str(path) in str(excinfo.value)


def unreadable(problem: str):
    """The message load_docs gives for a path it cannot read."""
    return rf"^cannot read dataset .*: {problem}$"


@pytest.mark.parametrize("make, problem", [
    (lambda d: d / "missing.txt", "No such file or directory"),
    (lambda d: d, "it is a directory, not a regular file"),
    (lambda d: d / ("n" * 300), "File name too long"),
    (lambda d: (d / "f").write_text("x") and d / "f" / "g", "Not a directory"),
], ids=["missing", "a directory", "a name too long", "under a file"])
def test_paths_that_are_not_datasets(tmp_path, make, problem):
    with pytest.raises(DataError, match=unreadable(problem)):
        load_docs(make(tmp_path))


def test_a_file_that_cannot_be_opened_is_one_line(tmp_path, monkeypatch):
    """What a user without read permission gets (root would read the file anyway)."""
    def denied(path, flags):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(files.os, "open", denied)
    with pytest.raises(DataError, match=unreadable("Permission denied")):
        load_docs(tmp_path / "secret.txt")


def test_a_fifo_without_a_writer_is_refused_at_once(tmp_path):
    assert refusal(load_docs, DataError, tmp_path) == (
        f"cannot read dataset {tmp_path / 'fifo'}: it is a FIFO (named pipe), not a regular "
        "file")


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_an_endless_device_is_refused_without_reading_it(device):
    if not os.path.exists(device):
        pytest.skip(f"no {device} here")
    with pytest.raises(DataError, match=unreadable("it is a character device, not a regular "
                                                   "file")):
        load_docs(device)


def test_a_dataset_larger_than_the_bound_is_refused_without_reading_it(tmp_path):
    path = tmp_path / "huge.txt"
    with open(path, "wb") as out:
        out.truncate(MAX_DATASET_BYTES + 1)  # sparse: nothing to read, but that size
    with pytest.raises(DataError, match=unreadable("it is larger than the 32 MiB a dataset "
                                                   "may be")):
        load_docs(path)


@pytest.mark.skipif(not os.path.exists("/proc/self/maps"), reason="needs Linux's /proc")
def test_a_file_of_unknown_size_is_read_only_up_to_the_bound():
    """/proc files report size 0 whatever they hold: the bound applies to what is read."""
    assert os.stat("/proc/self/maps").st_size == 0
    with pytest.raises(files.FileProblem, match="larger than the 0 MiB"):
        files.read_at_most("/proc/self/maps", 100, "a test file")
    assert len(files.read_at_most("/proc/self/maps", 10**7, "a test file")) > 100


def test_the_expected_sha256_is_checked(tmp_path):
    path = tmp_path / "names.txt"
    path.write_bytes(GOOD)
    assert load_docs(path, GOOD_SHA) == NAMES
    with pytest.raises(DataError, match=f"does not have the sha256 {'0' * 64}"):
        load_docs(path, "0" * 64)


def test_find_dataset_given_path(tmp_path):
    assert find_dataset(str(tmp_path / "mine.txt")) == tmp_path / "mine.txt"


@pytest.mark.parametrize("source, url", [("http://x/n.txt", True), ("HTTPS://x/n.txt", True),
                                         ("names.txt", False), ("ftp://x/n.txt", False),
                                         ("http-names.txt", False)])
def test_is_url(source, url):
    assert is_url(source) is url


# ---- downloads, with pooch ----------------------------------------------------------------------


def test_a_download_is_verified_cached_and_reused(server, capsys):
    url = server.url("/names.txt")
    path = find_dataset(url, GOOD_SHA)
    assert path.parent == download_cache() and path.name.endswith("-names.txt")
    assert path.read_bytes() == GOOD
    assert list(download_cache().iterdir()) == [path]  # no temporary file left behind
    assert capsys.readouterr().err == (f"downloading {url} to {path}\n"
                                       f"receiving {len(GOOD)} bytes\n"
                                       f"downloaded {url} (sha256 {GOOD_SHA}) to {path}\n")
    assert find_dataset(url, GOOD_SHA) == path  # the cache hit asks the server nothing
    assert find_dataset(url) == path
    assert server.hits["/names.txt"] == 1
    cached = f"using the copy of {url} cached at {path} (redownload=True downloads it again)\n"
    assert capsys.readouterr().err == 2 * cached


def test_a_cached_copy_that_does_not_match_is_downloaded_again(server):
    url = server.url("/names.txt")
    path = find_dataset(url)
    path.write_bytes(b"damaged\n")
    assert find_dataset(url, GOOD_SHA).read_bytes() == GOOD
    assert server.hits["/names.txt"] == 2


def test_different_urls_do_not_share_a_cache_entry(server):
    first = find_dataset(server.url("/names.txt"))
    second = find_dataset(server.url("/mirror/names.txt"))
    assert first != second and first.read_bytes() == second.read_bytes() == GOOD


def test_a_failed_attempt_is_retried(server):
    path = find_dataset(server.url("/flaky.txt"), GOOD_SHA)
    assert path.read_bytes() == GOOD
    assert server.hits["/flaky.txt"] == 2


def assert_clean_failure(excinfo: pytest.ExceptionInfo, url: str) -> None:
    message = str(excinfo.value)
    assert "\n" not in message and message.startswith(f"download of {url} failed: ")
    assert message.endswith("(give --data a local file to train offline)")
    assert not Path(os.environ["XDG_CACHE_HOME"]).exists()  # not even an empty directory


def test_a_wrong_hash_is_refused_and_nothing_kept(server):
    url = server.url("/tampered.txt")
    with pytest.raises(DataError, match=f"its sha256 is not {GOOD_SHA}") as excinfo:
        find_dataset(url, GOOD_SHA)
    assert_clean_failure(excinfo, url)
    assert server.hits["/tampered.txt"] == 1 + download.RETRIES


def test_not_found(server):
    url = server.url("/nowhere.txt")
    with pytest.raises(DataError, match="HTTPError: 404 Client Error") as excinfo:
        find_dataset(url)
    assert_clean_failure(excinfo, url)


def test_a_connection_dropped_mid_file(server):
    url = server.url("/dropped.txt")
    with pytest.raises(DataError, match="ChunkedEncodingError") as excinfo:
        find_dataset(url)
    assert_clean_failure(excinfo, url)
    assert server.hits["/dropped.txt"] == 1 + download.RETRIES


def test_a_connection_refused():
    with serving() as httpd:  # a loopback port that nothing listens on once it is closed
        url = httpd.url("/names.txt")
    with pytest.raises(DataError, match="ConnectionError") as excinfo:
        find_dataset(url)
    assert_clean_failure(excinfo, url)


def test_a_download_larger_than_a_dataset_may_be_is_stopped(server, monkeypatch):
    monkeypatch.setattr(download, "MAX_DATASET_BYTES", 2**20)
    url = server.url("/big.txt")
    with pytest.raises(DataError, match="it is larger than the 1 MiB a dataset may be") as excinfo:
        find_dataset(url)
    assert_clean_failure(excinfo, url)
    assert server.hits["/big.txt"] == 1  # not worth another try


def test_an_interrupted_download_leaves_nothing(server):
    def ctrl_c_mid_file():  # a real SIGINT, once part of the file has arrived
        if server.stalled.wait(timeout=10):
            os.kill(os.getpid(), signal.SIGINT)

    interrupter = threading.Thread(target=ctrl_c_mid_file)
    interrupter.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            find_dataset(server.url("/stalled.txt"))
    finally:
        server.resume.set()
        interrupter.join()
    assert server.stalled.is_set()
    assert not Path(os.environ["XDG_CACHE_HOME"]).exists()


def test_a_cache_that_cannot_be_written(server, tmp_path, monkeypatch):
    (tmp_path / "file").write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "file"))  # a file, not a directory
    with pytest.raises(DataError, match="cannot write to the cache"):
        find_dataset(server.url("/names.txt"))
    assert server.hits["/names.txt"] == 0


def test_names_outside_loopback_do_not_resolve():
    with pytest.raises(DataError, match="tests must stay offline"):
        find_dataset(NAMES_URL)


# ---- Tokenizer ----------------------------------------------------------------------------------


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
