"""An HTTP server on 127.0.0.1 for the download tests, and a guard that keeps tests offline.

The server serves one behaviour per path (see ``_Handler.do_GET``) and counts the requests
for each. ``offline`` makes every name but loopback fail to resolve, so no test can reach
the internet even by mistake.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import socket
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

NAMES = ["emma", "olivia", "ava", "isabella", "sophia"]
GOOD = "".join(name + "\n" for name in NAMES).encode()
GOOD_SHA = hashlib.sha256(GOOD).hexdigest()
GZIPPED = gzip.compress(GOOD, mtime=0)
HTML = b"<!DOCTYPE html>\n<html><body>Sorry, this page is not available.</body></html>\n"
DRIP_SECONDS = 0.1  # /drip.txt takes len(GOOD) times this: 3.2 s
SLOW_SECONDS = 0.4  # each answer of /slow-500.txt, each piece of /trickle.txt
TRICKLE_PIECES = 8  # /trickle.txt: 3.2 s, if waited for


class _Handler(BaseHTTPRequestHandler):
    server: Server

    def do_GET(self) -> None:
        hit = self.server.count(self.path)
        if self.path in ("/names.txt", "/mirror/names.txt"):
            self._send(200, GOOD)
        elif self.path == "/tampered.txt":  # content that differs from GOOD_SHA
            self._send(200, GOOD + b"mallory\n")
        elif self.path == "/flaky.txt":  # fails the first time only
            self._send(*((500, b"try again") if hit == 1 else (200, GOOD)))
        elif self.path == "/big.txt":  # one byte more than a MiB
            self._send(200, b"a\n" * 2**19 + b"b")
        elif self.path == "/dropped.txt":
            # Promise more than is sent, then hang up: the client sees a short body.
            self.send_response(200)
            self.send_header("Content-Length", str(len(GOOD) + 100))
            self.end_headers()
            self.wfile.write(GOOD[:10])
            self.close_connection = True
        elif self.path == "/stalled.txt":
            # Send part of the file, say so (``stalled``), and send no more until ``resume``.
            self.send_response(200)
            self.send_header("Content-Length", str(len(GOOD)))
            self.end_headers()
            self.wfile.write(GOOD[:10])
            self.wfile.flush()
            self.server.stalled.set()
            self.server.resume.wait(timeout=10)
            self.close_connection = True
        elif self.path == "/drip.txt":  # a byte every DRIP_SECONDS: no read ever times out
            self.send_response(200)
            self.send_header("Content-Length", str(len(GOOD)))
            self.end_headers()
            for byte in GOOD:
                self.wfile.write(bytes([byte]))
                time.sleep(DRIP_SECONDS)
        elif self.path == "/trickle.txt":  # 64 KiB pieces of names, one every SLOW_SECONDS
            piece = GOOD * (2**16 // len(GOOD) + 1)
            self.send_response(200)
            self.send_header("Content-Length", str(TRICKLE_PIECES * len(piece)))
            self.end_headers()
            for _ in range(TRICKLE_PIECES):
                self.wfile.write(piece)
                self.wfile.flush()
                time.sleep(SLOW_SECONDS)
        elif self.path == "/slow-500.txt":  # fails every time, after SLOW_SECONDS
            time.sleep(SLOW_SECONDS)
            self._send(500, b"overloaded")
        elif self.path == "/page.html":  # an HTML page, as its Content-Type says
            self._send(200, HTML, content_type="text/html; charset=utf-8")
        elif self.path == "/error-page.txt":  # an HTML page that does not say so
            self._send(200, b"\xef\xbb\xbf \r\n\t" + HTML.upper(), content_type="text/plain")
        elif self.path == "/binary.txt":
            self._send(200, GOOD + b"\x00\x01\x02\n")
        elif self.path == "/moved.txt":  # a redirect, whose own body is an HTML page
            self.send_response(301)
            self.send_header("Location", "/names.txt")
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(HTML)))
            self.end_headers()
            self.wfile.write(HTML)
        elif self.path == "/unsized.txt":  # no Content-Length: the body ends with the connection
            self.send_response(200)
            self.end_headers()
            self.wfile.write(GOOD)
            self.close_connection = True
        elif self.path == "/gzipped.txt":  # compressed on the way: a size that is not GOOD's
            self.send_response(200)
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(GZIPPED)))
            self.end_headers()
            self.wfile.write(GZIPPED)
        elif self.path == "/updated.txt":  # GOOD, then GOOD and one more name
            self._send(200, GOOD if hit == 1 else GOOD + b"zoe\n")
        elif self.path == "/gone-later.txt":  # GOOD once, then an error page
            self._send(*((200, GOOD) if hit == 1 else (200, HTML)))
        else:
            self._send(404, b"not found")

    def _send(self, status: int, body: bytes, content_type: str | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        if content_type is not None:
            self.send_header("Content-Type", content_type)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
        pass


class Server(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.hits: Counter[str] = Counter()
        self._lock = threading.Lock()  # handlers run on their own threads
        self.stalled, self.resume = threading.Event(), threading.Event()  # for /stalled.txt

    def handle_error(self, request, client_address) -> None:
        # A client that gave up (a test's time limit) is no error; the traceback socketserver
        # prints would land in whichever test captures stderr next.
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)

    def count(self, path: str) -> int:
        with self._lock:
            self.hits[path] += 1
            return self.hits[path]

    def url(self, path: str) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}{path}"


@contextmanager
def serving() -> Iterator[Server]:
    httpd = Server()
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def offline(monkeypatch) -> None:
    """Refuse to resolve any host name but loopback's, for the rest of the test."""
    real_getaddrinfo = socket.getaddrinfo

    def loopback_only(host, *args, **kwargs):
        if host not in ("127.0.0.1", "localhost"):
            raise socket.gaierror(f"tests must stay offline, refused to resolve {host}")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", loopback_only)


def download_cache() -> Path:
    """microgpt's download cache under the test's XDG_CACHE_HOME."""
    return Path(os.environ["XDG_CACHE_HOME"]) / "microgpt"
