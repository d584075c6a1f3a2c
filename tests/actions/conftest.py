"""A controllable clock and a real webhook receiver on 127.0.0.1 for the actions tests."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from tests.local_server import QuietHandler, local_server


class FakeClock:
    """Time that moves only when a test says so: backoff is checked without sleeping."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class Reply:
    status: int = 200
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    hold: threading.Event | None = None
    """Answer only once this is set (by the test, after the sender gave up): a timeout without timing."""


class Receiver:
    """An HTTP server in a thread that records every POST and answers from a script (then 200s)."""

    def __init__(self) -> None:
        self.url = ""
        """Where to send webhooks; set by the ``receiver`` fixture once the server runs."""
        self.requests: list[Received] = []
        self.script: list[Reply] = []
        self._lock = threading.Lock()

    def handler(self) -> type[QuietHandler]:
        """The request handler that records into this receiver."""
        receiver = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver._lock:
                    receiver.requests.append(Received({k.lower(): v for k, v in self.headers.items()}, body))
                    reply = receiver.script.pop(0) if receiver.script else Reply()
                time.sleep(reply.delay)
                if reply.hold is not None:
                    reply.hold.wait(30)
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        return Handler


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    with local_server(receiver.handler()) as url:
        receiver.url = f"{url}/stanch-hook"
        yield receiver
