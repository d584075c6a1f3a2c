"""A stand-in for Tech Against Terrorism's TCAP hash list API on 127.0.0.1, for tests only (never the
product).

Shapes follow python-threatexchange's client (threatexchange/exchanges/clients/techagainstterrorism/
api.py): ``POST /token-auth/tcap/`` with the form ``username``, ``password``, ``resend`` answers
``{"token": JWT}`` (401 for wrong credentials); ``GET /api/hash-list/v2/all?order=asc&after=`` with
``Authorization: Bearer JWT`` answers ``{"count", "next", "previous", "checkpoint", "results":
[{"hash_digest", "algorithm", "ideology", "file_type", "deleted", "updated_on", "created_on", "id"}]}``.
``checkpoint`` is ``"<updated_on>,<id>"`` of the page's last record and ``after`` keeps the records
after it in (updated_on, id) order; ``next`` is a URL with ``limit`` and ``offset`` while more follow
(the stand-in gives it and ignores it when asked, since Stanch does not follow it), null on the last
page. ``faults`` makes the answer to an ``after`` value a fault, once per entry: ``"not-json"``,
``"bad-results"``, ``"no-checkpoint"``, ``"500"``, ``"429:<seconds>"``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from tests.local_server import QuietHandler, local_server

USER, PASSWORD = "tcap-user", "tcap-password-77"
CREDENTIALS = f"{USER}:{PASSWORD}"
JWT = "eyJhbGciOiJIUzI1NiJ9.stand-in.signature"


@dataclass
class TCAPStandIn:
    page_size: int = 3
    clock: int = 1_704_085_200
    records: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    faults: dict[str, list[str]] = field(default_factory=dict)
    requests: list[dict[str, str]] = field(default_factory=list)
    logins: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""
    next_id: int = 100

    def put(self, algorithm: str, digest: str, *, file_type: str = "jpg", deleted: bool = False) -> None:
        """Add or change a record (keyed by algorithm and digest), with the next time and id."""
        with self.lock:
            self.clock += 1
            self.next_id += 1
            self.records[(algorithm, digest)] = {
                "hash_digest": digest, "algorithm": algorithm, "ideology": "far-right",
                "file_type": file_type, "deleted": deleted, "updated_on": float(self.clock),
                "created_on": "2024-01-01T00:00:00Z", "id": self.next_id,
            }

    def page(self, params: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        after = params.get("after", "")
        with self.lock:
            queue = self.faults.get(after)
            fault = queue.pop(0) if queue else None
            key = (float(after.partition(",")[0]), int(after.partition(",")[2])) if after else (0.0, 0)
            ordered = sorted((r for r in self.records.values() if (r["updated_on"], r["id"]) > key),
                             key=lambda r: (r["updated_on"], r["id"]))
            chunk = ordered[:self.page_size]
        more = len(ordered) > len(chunk)
        last = chunk[-1] if chunk else None
        body: dict[str, Any] = {
            "count": len(ordered),
            "next": f"{self.url}/api/hash-list/v2/all?limit={self.page_size}&offset={self.page_size}"
            if more else None,
            "previous": None,
            "checkpoint": f"{int(last['updated_on'])},{last['id']}" if last else "",
            "results": chunk,
        }
        if fault == "not-json":
            return 200, {}, b"<html>Bad gateway</html>"
        if fault == "bad-results":
            body["results"] = "nope"
        if fault == "no-checkpoint":
            body.pop("checkpoint")
        if fault == "500":
            return 500, {}, b'{"detail": "error"}'
        if fault and fault.startswith("429:"):
            return 429, {"Retry-After": fault[4:]}, b'{"detail": "Request was throttled."}'
        return 200, {}, json.dumps(body).encode()


@contextmanager
def tcap_standin(standin: TCAPStandIn | None = None) -> Iterator[TCAPStandIn]:
    """Serve ``standin`` at ``standin.url`` (the API's base URL) for the block."""
    standin = standin or TCAPStandIn()

    class Handler(QuietHandler):
        def do_POST(self) -> None:
            path, _ = self.query()
            length = int(self.headers.get("Content-Length", "0"))
            form = {k: v[-1] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            if path != "/token-auth/tcap/":
                self.send_body(404, b"{}", "application/json")
                return
            if (form.get("username"), form.get("password")) != (USER, PASSWORD):
                self.send_body(401, b'{"detail": "Invalid credentials"}', "application/json")
                return
            with standin.lock:
                standin.logins += 1
            self.send_body(200, json.dumps({"token": JWT}).encode(), "application/json")

        def do_GET(self) -> None:
            path, params = self.query()
            with standin.lock:
                standin.requests.append({**params, "path": path})
            if self.headers.get("Authorization") != f"Bearer {JWT}":
                self.send_body(401, b'{"detail": "Invalid token"}', "application/json")
                return
            if path != "/api/hash-list/v2/all":
                self.send_body(404, b"{}", "application/json")
                return
            status, headers, body = standin.page(params)
            self.send_response(status)
            for name, value in {"Content-Type": "application/json", **headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    with local_server(Handler) as base:
        standin.url = base
        yield standin
