"""Downloads that say what they do: the lines on stderr, the time limit, what is refused, and
refreshing the cache (issue #27, section 4).

The servers are on loopback (``tests/loopback.py``, and a bare listening socket for the one that
never answers); other names do not resolve. The time limit is set small (``--download-timeout``)
so that the slow servers take a second, not minutes.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import pytest
from loopback import GOOD, GOOD_SHA, GZIPPED, SLOW_SECONDS, download_cache
from test_cli_faults import run

from microgpt.api import SettingsError, load_dataset
from microgpt.storage import download
from microgpt.storage.datasets import DataError, find_dataset

# Downloads go to a cache in tmp_path, from loopback servers only (tests/cli/conftest.py).
pytestmark = pytest.mark.usefixtures("downloads_isolated")



def train(capsys, *argv) -> tuple[int, str, str]:
    return run(capsys, "train", "--steps", "1", "--samples", "0", "--n-embd", "8", *argv)


def error_line(err: str) -> str:
    """The last line of stderr, checked to be the one error line (the lines above it say what
    the download did)."""
    *said, last = err.splitlines()
    assert last.startswith("error: ") and err.endswith("\n") and "Traceback" not in err, err
    assert all(not line.startswith("error") for line in said), err
    return last


# ---- what a download says ---------------------------------------------------------------------


def test_a_download_says_where_it_goes_and_its_size_before_it_ends(server, capsys):
    url = server.url("/names.txt")
    status, out, err = train(capsys, "--data", url)
    path = find_dataset(url)  # the cached copy, and the line that says so
    assert status == 0 and out.startswith("num docs: 5\n") and "download" not in out
    assert err.splitlines() == [f"downloading {url} to {path}",
                                f"receiving {len(GOOD)} bytes",
                                f"downloaded {url} (sha256 {GOOD_SHA}) to {path}"]
    assert capsys.readouterr().err == (f"using the copy of {url} cached at {path} "
                                       "(redownload=True downloads it again)\n")
    status, out, err = train(capsys, "--data", url)
    assert err == f"using the copy of {url} cached at {path} (--redownload downloads it again)\n"
    assert server.hits["/names.txt"] == 1


@pytest.mark.parametrize("where, size", [
    ("/unsized.txt", "receiving (the server does not say how many bytes)"),
    ("/gzipped.txt", f"receiving {len(GZIPPED)} bytes (gzip-compressed)"),
    ("/moved.txt", f"receiving {len(GOOD)} bytes"),  # not the size of the redirect's HTML body
])
def test_a_download_says_its_size_as_the_server_gives_it(server, capsys, where, size):
    url = server.url(where)
    path = find_dataset(url)
    assert path.read_bytes() == GOOD
    assert capsys.readouterr().err.splitlines()[:2] == [f"downloading {url} to {path}", size]


def test_each_retry_is_said_and_a_client_error_is_not_retried(server, capsys):
    path = find_dataset(server.url("/flaky.txt"), GOOD_SHA)
    assert path.read_bytes() == GOOD
    assert capsys.readouterr().err.splitlines()[1] == (
        f"attempt 1 of 3 failed (HTTPError: 500 Server Error: Internal Server Error for url: "
        f"{server.url('/flaky.txt')}); trying again")
    with pytest.raises(DataError, match="HTTPError: 404 Client Error"):
        find_dataset(server.url("/nowhere.txt"))
    assert server.hits["/nowhere.txt"] == 1  # the same question gets the same answer


def test_a_download_from_another_thread_works_without_the_timer(server, capsys):
    # Python runs signal handlers in the main thread only: elsewhere the time limit is
    # checked between the pieces that come.
    found: list[Path] = []
    worker = threading.Thread(target=lambda: found.append(find_dataset(
        server.url("/names.txt"), download_timeout=5)))
    worker.start()
    worker.join()
    assert found[0].read_bytes() == GOOD
    assert capsys.readouterr().err.startswith(f"downloading {server.url('/names.txt')} to ")


# ---- the time limit ----------------------------------------------------------------------------


def assert_timed_out(err: str, url: str, limit: str, started: float) -> None:
    assert time.monotonic() - started < float(limit) + 1.5
    assert error_line(err) == (f"error: download of {url} failed: it did not finish within "
                               f"{limit} s, the limit --download-timeout sets (give --data a "
                               "local file to train offline)")
    assert not Path(os.environ["XDG_CACHE_HOME"]).exists()  # nothing cached, not even a folder


def test_a_server_that_drips_a_byte_at_a_time_is_given_up_at_the_limit(server, capsys):
    url = server.url("/drip.txt")  # 3.2 s, a byte every 0.1 s, if waited for
    started = time.monotonic()
    status, out, err = train(capsys, "--data", url, "--download-timeout", "1")
    assert (status, out) == (1, "")
    assert err.startswith(f"downloading {url} to ")
    assert_timed_out(err, url, "1", started)


def test_the_limit_holds_in_another_thread_too(server):
    # There it is checked as each piece comes (a 64 KiB read), not within one: a server that
    # drips a byte at a time is given up only once a piece is complete.
    url = server.url("/trickle.txt")  # 3.2 s, a piece every 0.4 s, if waited for
    failed: list[BaseException] = []

    def download() -> None:
        try:
            find_dataset(url, download_timeout=1)
        except BaseException as exc:  # noqa: BLE001 (handed to the test's thread)
            failed.append(exc)

    started = time.monotonic()
    worker = threading.Thread(target=download)
    worker.start()
    worker.join(timeout=10)
    assert time.monotonic() - started < 2.5
    assert isinstance(failed[0], DataError)
    assert "it did not finish within 1 s" in str(failed[0])
    assert not Path(os.environ["XDG_CACHE_HOME"]).exists()  # nothing cached, not even a folder


def test_a_server_that_never_answers_is_given_up_at_the_limit(capsys, monkeypatch):
    monkeypatch.setattr(download, "TIMEOUT", 3.0)  # a broken limit fails in seconds, not 90
    with socket.create_server(("127.0.0.1", 0)) as listening:  # connects, never answers
        url = f"http://127.0.0.1:{listening.getsockname()[1]}/names.txt"
        started = time.monotonic()
        status, out, err = train(capsys, "--data", url, "--download-timeout", "0.5")
    assert (status, out) == (1, "")
    assert_timed_out(err, url, "0.5", started)


def test_the_limit_counts_every_attempt_together(server, capsys):
    url = server.url("/slow-500.txt")  # three attempts take 3 * 0.4 s
    started = time.monotonic()
    status, out, err = train(capsys, "--data", url, "--download-timeout", "1")
    assert_timed_out(err, url, "1", started)
    assert server.hits["/slow-500.txt"] == 3 and 2 * SLOW_SECONDS < 1


def test_the_limit_is_a_number_of_seconds_for_a_url():
    with pytest.raises(SettingsError, match=r"download_timeout must be a number of seconds in "
                                            r"\(0, 86,400\], not 0"):
        load_dataset("http://127.0.0.1:9/x.txt", download_timeout=0)
    with pytest.raises(SettingsError, match="^download_timeout applies to an http"):
        load_dataset(download_timeout=5)


@pytest.mark.parametrize("argv, message", [
    (["--download-timeout", "nan"], "argument --download-timeout: must be a number of seconds"),
    (["--download-timeout", "5"], "--download-timeout applies to an http(s) URL only, not to "
                                  "the shipped names"),
    (["--redownload", "--data", "pets.txt"], "--redownload applies to an http(s) URL only, not "
                                             "to the local file pets.txt"),
])
def test_the_download_options_without_a_download_are_refused(capsys, argv, message):
    status, out, err = train(capsys, *argv)
    assert (status, out) == (2, "") and err.count("\n") == 1
    assert err.startswith("error: ") and message in err


# ---- what is not a text dataset ------------------------------------------------------------------


@pytest.mark.parametrize("path, why", [
    ("/page.html", "it is an HTML page (Content-Type text/html), not a text dataset"),
    ("/error-page.txt", "it is an HTML page, not a text dataset"),
    ("/binary.txt", f"it is binary (a NUL byte at offset {len(GOOD)}), not a text dataset"),
])
def test_what_is_plainly_not_a_text_dataset_is_refused_and_not_cached(server, capsys, path, why):
    url = server.url(path)
    status, out, err = train(capsys, "--data", url)
    assert (status, out) == (1, "")
    assert error_line(err) == (f"error: download of {url} failed: {why} (give --data a local "
                               "file to train offline)")
    assert server.hits[path] == 1  # not asked again
    assert not Path(os.environ["XDG_CACHE_HOME"]).exists()


# ---- refreshing the cache ------------------------------------------------------------------------


def test_redownload_replaces_the_cached_copy(server, capsys):
    url = server.url("/updated.txt")
    path = find_dataset(url)
    assert find_dataset(url).read_bytes() == GOOD  # the cached copy
    capsys.readouterr()
    status, out, err = train(capsys, "--data", url, "--redownload")
    assert status == 0 and out.startswith("num docs: 6\n")
    assert err.splitlines()[0] == f"downloading {url} to {path}"
    assert path.read_bytes() == GOOD + b"zoe\n" and list(download_cache().iterdir()) == [path]
    assert server.hits["/updated.txt"] == 2


def test_a_failed_redownload_keeps_the_cached_copy(server, capsys):
    url = server.url("/gone-later.txt")
    path = find_dataset(url)
    with pytest.raises(DataError, match="it is an HTML page"):
        find_dataset(url, redownload=True)
    assert path.read_bytes() == GOOD and list(download_cache().iterdir()) == [path]
