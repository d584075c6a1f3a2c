"""A stand-in for Facebook ThreatExchange's Graph API on 127.0.0.1, for tests only (never the product).

Shapes follow python-threatexchange's client (threatexchange/exchanges/clients/fb_threatexchange/api.py)
and the Graph API's paging: ``GET {base}/{privacy_group}/threat_updates/?access_token=&limit=&fields=
[&start_time=]`` answers ``{"data": [update...], "paging": {"cursors": {"before", "after"},
"next": URL}}`` (no ``next`` on the last page); ``next`` repeats the query with ``after=<cursor>`` and
the access token, as Graph's do. An update is ``{"id", "indicator", "type", "last_updated",
"should_delete", "descriptors": {"data": [{"id", "owner": {"id"}, "status", "tags", "reactions"}]}}``.
Updates are a snapshot keyed by indicator id; changing one gives it a newer ``last_updated``, and
``start_time`` keeps those updated at or after it.

``GET {base}/{indicator_id}?fields=descriptors`` answers the indicator's descriptors (pytx's
``get_threat_descriptors_from_indicator``); ``POST {base}/{descriptor_id}/?access_token=&reactions=``
records a reaction (pytx's ``react_to_threat_descriptor``), answering ``{"success": true}``.

A wrong token answers 400 ``{"error": {"code": 190, "type": "OAuthException"}}``. ``faults`` makes the
answer to a cursor (``""`` for a first page) a fault, once per entry: ``"not-json"``, ``"bad-data"``,
``"foreign-next"``, ``"500"``, ``"429:<seconds>"``, ``"rate-code"`` (400 with Graph's code 4).
``reaction_faults`` does the same for the next reactions (``"500"``, ``"429:<s>"``, ``"400"``);
``gates`` holds the answer to a cursor until the test lets it go.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode

from tests.local_server import QuietHandler, local_server

APP_ID = 1234567890
TOKEN = f"{APP_ID}|abcdefghijklmnopqrstuvwxyz0123"
GROUP = 303030303
OTHER_APP = 9876543210
VERSION = "/v26.0"


@dataclass
class TEStandIn:
    page_size: int = 3
    clock: int = 1_700_000_000
    updates: dict[str, dict[str, Any]] = field(default_factory=dict)
    faults: dict[str, list[str]] = field(default_factory=dict)
    reaction_faults: list[str] = field(default_factory=list)
    requests: list[dict[str, str]] = field(default_factory=list)
    gates: dict[str, threading.Event] = field(default_factory=dict)
    """Holds the answer to a cursor until the test sets the event (deterministic kills)."""
    reactions: list[tuple[str, str]] = field(default_factory=list)
    """(descriptor id, reaction) of each reaction received."""
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def put(self, indicator_id: int, threat_type: str, indicator: str, *, status: str = "MALICIOUS",
            tags: tuple[str, ...] = (), should_delete: bool = False, mine: bool = False) -> None:
        """Add or change an indicator with one descriptor (ours when ``mine``), the next timestamp."""
        with self.lock:
            self.clock += 1
            owner = APP_ID if mine else OTHER_APP
            descriptor = {"id": str(indicator_id * 10), "owner": {"id": str(owner)}, "status": status,
                          "tags": list(tags), "reactions": []}
            update: dict[str, Any] = {"id": str(indicator_id), "indicator": indicator, "type": threat_type,
                                      "last_updated": self.clock, "should_delete": should_delete}
            if not should_delete:
                update["descriptors"] = {"data": [descriptor]}
            self.updates[str(indicator_id)] = update

    def page(self, group: str, params: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        start = int(params.get("start_time", "0"))
        size = min(int(params.get("limit", "25")), self.page_size)
        cursor = params.get("after", "")
        gate = self.gates.get(cursor)
        if gate is not None:
            gate.wait(60)
        with self.lock:
            queue = self.faults.get(cursor)
            fault = queue.pop(0) if queue else None
            changed = sorted((u for u in self.updates.values() if u["last_updated"] >= start),
                             key=lambda u: (u["last_updated"], int(u["id"])))
            offset = int(cursor or 0)
            chunk = changed[offset:offset + size]
        body: dict[str, Any] = {"data": chunk, "paging": {"cursors": {"before": str(offset),
                                                                      "after": str(offset + size)}}}
        if offset + size < len(changed):
            query = {k: v for k, v in params.items() if k != "after"} | {"after": str(offset + size)}
            host = "http://203.0.113.9" if fault == "foreign-next" else self.url.removesuffix(VERSION)
            body["paging"]["next"] = f"{host}{VERSION}/{group}/threat_updates/?{urlencode(query)}"
        if fault == "not-json":
            return 200, {}, b"<html>Sorry, something went wrong.</html>"
        if fault == "bad-data":
            body["data"] = {"not": "a list"}
        if fault == "500":
            return 500, {}, b'{"error": {"message": "An unknown error occurred", "code": 1}}'
        if fault == "rate-code":
            return 400, {}, json.dumps({"error": {"message": "Application request limit reached",
                                                  "code": 4}}).encode()
        if fault and fault.startswith("429:"):
            return 429, {"Retry-After": fault[4:]}, b'{"error": {"code": 4}}'
        return 200, {}, json.dumps(body).encode()

    def descriptors(self, indicator_id: str) -> tuple[int, bytes]:
        with self.lock:
            update = self.updates.get(indicator_id)
        if update is None or "descriptors" not in update:
            return 400, json.dumps({"error": {"message": "Unsupported get request", "code": 100}}).encode()
        data = [{**d, "indicator": {"id": update["id"], "indicator": update["indicator"]},
                 "type": update["type"]} for d in update["descriptors"]["data"]]
        return 200, json.dumps({"descriptors": {"data": data}, "id": indicator_id}).encode()


@contextmanager
def threatexchange_standin(standin: TEStandIn | None = None) -> Iterator[TEStandIn]:
    """Serve ``standin`` at ``standin.url`` (the Graph API base URL, with its version) for the block."""
    standin = standin or TEStandIn()

    class Handler(QuietHandler):
        def _refuse_token(self, params: dict[str, str]) -> bool:
            if params.get("access_token") == TOKEN:
                return False
            error = {"error": {"message": "Invalid OAuth access token.", "type": "OAuthException",
                               "code": 190}}
            self.send_body(400, json.dumps(error).encode(), "application/json")
            return True

        def do_GET(self) -> None:
            path, params = self.query()
            with standin.lock:
                standin.requests.append({**params, "path": path})
            if self._refuse_token(params):
                return
            parts = path.removeprefix(VERSION).strip("/").split("/")
            if len(parts) == 2 and parts[1] == "threat_updates" and parts[0] == str(GROUP):
                status, headers, body = standin.page(parts[0], params)
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            elif len(parts) == 1 and params.get("fields") == "descriptors":
                self.send_body(*standin.descriptors(parts[0]), "application/json")
            else:
                self.send_body(404, b'{"error": {"code": 803}}', "application/json")

        def do_POST(self) -> None:
            path, params = self.query()
            length = int(self.headers.get("Content-Length", "0"))
            form = {k: v[-1] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            if self._refuse_token(params):
                return
            descriptor = path.removeprefix(VERSION).strip("/")
            reaction = params.get("reactions") or form.get("reactions")
            with standin.lock:
                fault = standin.reaction_faults.pop(0) if standin.reaction_faults else None
                known = any(d["id"] == descriptor for u in standin.updates.values()
                            for d in u.get("descriptors", {}).get("data", []))
                if fault is None and known and reaction:
                    standin.reactions.append((descriptor, reaction))
            if fault and fault.startswith("429:"):
                self.send_response(429)
                self.send_header("Retry-After", fault[4:])
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif fault:
                self.send_body(int(fault), b'{"error": {"code": 1}}', "application/json")
            elif not known or not reaction:
                self.send_body(400, b'{"error": {"code": 100}}', "application/json")
            else:
                self.send_body(200, b'{"success": true}', "application/json")

    with local_server(Handler) as base:
        standin.url = f"{base}{VERSION}"
        yield standin
