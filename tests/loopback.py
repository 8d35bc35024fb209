"""An HTTP server on 127.0.0.1 for the download tests, and a guard that keeps tests offline.

The server serves one behaviour per path (see ``_Handler.do_GET``) and counts the requests
for each. ``offline`` makes every name but loopback fail to resolve, so no test can reach
the internet even by mistake.
"""

from __future__ import annotations

import hashlib
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

NAMES = ["emma", "olivia", "ava", "isabella", "sophia"]
GOOD = "".join(name + "\n" for name in NAMES).encode()
GOOD_SHA = hashlib.sha256(GOOD).hexdigest()


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
        else:
            self._send(404, b"not found")

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
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
