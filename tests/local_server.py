"""A real HTTP server on 127.0.0.1 for tests that need one (a platform's resolver, a webhook receiver):
the code under test makes real requests, through its real fetcher, to a handler the test writes."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


class QuietHandler(BaseHTTPRequestHandler):
    """A test server's handler: writes no log lines, and ``send_body`` sends a whole answer."""

    def send_body(self, status: int, body: bytes, kind: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def query(self) -> tuple[str, dict[str, str]]:
        """The request's path and its query parameters (the last value of each), as the exchange
        stand-ins read them."""
        parsed = urlparse(self.path)
        return parsed.path, {k: v[-1] for k, v in parse_qs(parsed.query).items()}

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@contextmanager
def local_server(handler: Callable[..., BaseHTTPRequestHandler]) -> Iterator[str]:
    """``handler`` served from a thread on a free port for the block; yields ``http://127.0.0.1:PORT``."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
