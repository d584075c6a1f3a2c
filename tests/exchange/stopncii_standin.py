"""A stand-in for StopNCII.org's FetchHashes API on 127.0.0.1, for tests only (never the product).

``POST {base}/SubmitFeedback`` takes ``{"count", "hashFeedbacks": [{"hashValue", "feedbackValue",
"tags"}]}`` with the feedback function key, ``POST {base}/SubmitHashes`` ``{"count", "hashRecords":
[{"lastModtimestamp", "signalType", "hashValue", "CSPFeedbacks"}]}`` with the submit function key (as
pytx's ``submit_feedbacks`` and ``submit_hashes`` send them).

Shapes follow python-threatexchange's client (threatexchange/exchanges/clients/stopncii/api.py):
``GET {base}/FetchHashes?startTimestamp=&pageSize=[&nextPageToken=]`` with the ``x-functions-key``
and ``Ocp-Apim-Subscription-Key`` headers, answering ``{"count", "nextPageToken", "nextSetTimestamp",
"hasMoreRecords", "hashRecords": [{"lastModtimestamp", "signalType", "hashValue", "hashStatus",
"caseNumbers", "CSPFeedbacks"}]}``. Records are a snapshot keyed by (signalType, hashValue): changing
one gives it a newer ``lastModtimestamp``, so a fetch from a later timestamp sees only changes.

Tokens are offsets into the records changed since ``startTimestamp``, sorted by time. ``faults`` makes
the answer to a given token (``""`` for the first page; ``"START:TOKEN"`` for one paging run only) a
fault, once per entry in its list: ``"not-json"``, ``"huge"``, ``"deep"``, ``"no-cursor"``,
``"bad-records"``, ``"500"``,
``"429:<seconds>"``. ``gates`` holds an answer until the test sets the event (deterministic kills).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from tests.local_server import QuietHandler, local_server

FUNCTION_KEY = "fetch-key-0123456789"
SUBSCRIPTION_KEY = "subscription-key-abcdef"
CREDENTIALS = f"{FUNCTION_KEY},{SUBSCRIPTION_KEY}"
FEEDBACK_KEY = "feedback-key-9876"
SUBMIT_KEY = "submit-key-5432"
FEEDBACK_CREDENTIALS = json.dumps(
    {"fetch_function_key": FUNCTION_KEY, "subscription_key": SUBSCRIPTION_KEY,
     "feedback_function_key": FEEDBACK_KEY, "submit_function_key": SUBMIT_KEY}
)


def pdq(n: int) -> str:
    """A distinct, well-spread 256-bit PDQ hex for record ``n``."""
    import hashlib

    return hashlib.sha256(f"record {n}".encode()).hexdigest()


@dataclass
class StandIn:
    max_page: int = 10
    clock: int = 1_700_000_000
    records: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    faults: dict[str, list[str]] = field(default_factory=dict)
    gates: dict[str, threading.Event] = field(default_factory=dict)
    requests: list[dict[str, str]] = field(default_factory=list)
    feedback: list[dict[str, Any]] = field(default_factory=list)
    """Bodies of the SubmitFeedback requests received."""
    submitted: list[dict[str, Any]] = field(default_factory=list)
    """Bodies of the SubmitHashes requests received."""
    feedback_faults: list[str] = field(default_factory=list)
    """Answers to the next SubmitFeedback requests (``"429:<seconds>"``, ``"500"``, ``"400"``)."""
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def put(self, signal_type: str, value: str, status: str = "Active", **extra: Any) -> dict[str, Any]:
        """Add or change a record (it gets the next timestamp)."""
        with self.lock:
            self.clock += 1
            record = {"lastModtimestamp": self.clock, "signalType": signal_type, "hashValue": value,
                      "hashStatus": status, "caseNumbers": {"case-1": status}, "CSPFeedbacks": [], **extra}
            self.records[(signal_type, value)] = record
            return record

    def page(self, params: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        start = int(params.get("startTimestamp", "10"))
        size = min(int(params.get("pageSize", "800")), self.max_page)
        token = params.get("nextPageToken", "")
        gate = self.gates.get(token)
        if gate is not None:
            gate.wait(60)
        with self.lock:
            queue = self.faults.get(f"{start}:{token}") or self.faults.get(token)
            fault = queue.pop(0) if queue else None
            changed = sorted((r for r in self.records.values() if r["lastModtimestamp"] >= start),
                             key=lambda r: (r["lastModtimestamp"], r["hashValue"]))
            offset = int(token or 0)
            chunk = changed[offset:offset + size]
            more = offset + size < len(changed)
            newest = max((r["lastModtimestamp"] for r in changed), default=start - 1) + 1
            body: dict[str, Any] = {
                "count": len(chunk),
                "nextPageToken": str(offset + size) if more else None,
                "nextSetTimestamp": chunk[-1]["lastModtimestamp"] if more and chunk else newest,
                "hasMoreRecords": more,
                "hashRecords": chunk,
            }
        if fault == "not-json":
            return 200, {}, b"<html>upstream error</html>"
        if fault == "huge":
            return 200, {}, json.dumps({**body, "padding": "x" * 100_000}).encode()
        if fault == "deep":
            return 200, {}, b"[" * 20_000 + b"]" * 20_000
        if fault == "no-cursor":
            return 200, {}, json.dumps({"hashRecords": chunk}).encode()
        if fault == "bad-records":
            body["hashRecords"] = {"oops": True}
        if fault == "500":
            return 500, {}, b'{"error": "internal"}'
        if fault and fault.startswith("429:"):
            return 429, {"Retry-After": fault[4:]}, b'{"error": "too many requests"}'
        return 200, {}, json.dumps(body).encode()


@contextmanager
def stopncii_standin(standin: StandIn | None = None) -> Iterator[StandIn]:
    """Serve ``standin`` (a new one by default) at ``standin.url`` (the API's base URL) for the block."""
    standin = standin or StandIn()

    class Handler(QuietHandler):
        def do_GET(self) -> None:
            path, params = self.query()
            with standin.lock:
                standin.requests.append({**params, "path": path})
            if (self.headers.get("x-functions-key"), self.headers.get("Ocp-Apim-Subscription-Key")) != (
                FUNCTION_KEY, SUBSCRIPTION_KEY,
            ):
                self.send_body(401, b'{"error": "unauthorized"}', "application/json")
                return
            if path != "/v1/FetchHashes":
                self.send_body(404, b"{}", "application/json")
                return
            status, headers, body = standin.page(params)
            self.send_response(status)
            for name, value in {"Content-Type": "application/json", **headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            keys = {"/v1/SubmitFeedback": FEEDBACK_KEY, "/v1/SubmitHashes": SUBMIT_KEY}
            if self.path not in keys:
                self.send_body(404, b"{}", "application/json")
                return
            if (self.headers.get("x-functions-key"), self.headers.get("Ocp-Apim-Subscription-Key")) != (
                keys[self.path], SUBSCRIPTION_KEY,
            ):
                self.send_body(401, b'{"error": "unauthorized"}', "application/json")
                return
            with standin.lock:
                fault = standin.feedback_faults.pop(0) if standin.feedback_faults else None
                if fault is None:
                    received = standin.feedback if self.path.endswith("Feedback") else standin.submitted
                    received.append(json.loads(body))
            if fault and fault.startswith("429:"):
                self.send_response(429)
                self.send_header("Retry-After", fault[4:])
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif fault:
                self.send_body(int(fault), b'{"error": "no"}', "application/json")
            else:
                self.send_body(200, b"{}", "application/json")

    with local_server(Handler) as base:
        standin.url = f"{base}/v1"
        yield standin
