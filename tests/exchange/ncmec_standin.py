"""A stand-in for NCMEC's hash-sharing API on 127.0.0.1, for tests only (never the product).

Shapes follow python-threatexchange's client (threatexchange/exchanges/clients/ncmec/hash_api.py):
``GET {base}/v2/entries?from=<ISO>&to=<ISO>`` with HTTP basic auth, answering XML (in a namespace,
which pytx strips) ``<queryResult><images maxTimestamp=""><image><id/><member id=""/>
<classification/><fingerprints><md5/><pdq/></fingerprints></image><deletedImage>...</deletedImage>
</images><videos>...</videos><paging><next>/v2/entries?from=..&to=..&start=..&size=..&max=..</next>
</paging></queryResult>``. Entries come in id order, not time order (as NCMEC's do); ``next`` keeps
the range. ``faults`` maps a page number (1 for the first) to ``"not-xml"``, ``"bad-entry"`` or
``"500"``.

Feedback, as pytx's ``submit_feedback`` and ``feedback_reasons`` send it: ``PUT
{base}/v2/entries/{esp}/{entry}/{FINGERPRINT}/feedback`` with ``<feedbackSubmission><affirmative/>``
or ``<negative><reasonIds><guid/></reasonIds></negative>`` (recorded in ``votes``), and ``GET
{base}/v2/feedback/{FINGERPRINT}/reasons`` answering ``<availableFeedbackReasons><reason guid=""
name=""/>...`` inside a root element whose name NCMEC's public material does not give (pytx reads
only the child). ``vote_faults`` answers the next PUTs with a status (``"429"``, ``"500"``, ``"400"``).
"""

from __future__ import annotations

import base64
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape

from tests.local_server import QuietHandler, local_server

USER, PASSWORD = "esp-user", "esp-password-123"
CREDENTIALS = f"{USER}:{PASSWORD}"
NS = "https://hashsharing.ncmec.org/npo/v2"


def _ts(text: str) -> int:
    return int(datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp())


@dataclass
class NcmecStandIn:
    page_size: int = 4
    entries: list[dict[str, Any]] = field(default_factory=list)
    faults: dict[int, list[str]] = field(default_factory=dict)
    requests: list[dict[str, str]] = field(default_factory=list)
    reasons: dict[str, str] = field(default_factory=lambda: {"guid-1": "Not CSAM"})
    votes: list[tuple[str, str, str, str, str | None]] = field(default_factory=list)
    """(esp, entry, fingerprint, affirmative|negative, reason guid) of each vote received."""
    vote_faults: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def add(self, entry_id: int, when: int, kind: str = "image", deleted: bool = False,
            **fingerprints: str) -> None:
        self.entries.append({"id": str(entry_id), "ts": when, "kind": kind, "deleted": deleted,
                             "fingerprints": fingerprints})

    def answer(self, params: dict[str, str]) -> tuple[int, bytes]:
        start, end = _ts(params["from"]), _ts(params["to"])
        offset = int(params.get("start", "0"))
        with self.lock:
            in_range = sorted((e for e in self.entries if start <= e["ts"] <= end),
                              key=lambda e: int(e["id"]))
            chunk = in_range[offset:offset + self.page_size]
            page = offset // self.page_size + 1
            queue = self.faults.get(page)
            fault = queue.pop(0) if queue else None
        if fault == "500":
            return 500, b"<error/>"
        if fault == "not-xml":
            return 200, b"this is not < xml"
        groups: dict[str, list[str]] = {"image": [], "video": []}
        for e in chunk:
            tag = ("deleted" + e["kind"].capitalize()) if e["deleted"] else e["kind"]
            prints = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in e["fingerprints"].items())
            body = (f"<id>{e['id']}</id>" if fault != "bad-entry" or e is not chunk[0] else "")
            groups[e["kind"]].append(f'<{tag}>{body}<member id="42">Platform</member>'
                                     f"<classification>A1</classification><fingerprints>{prints}"
                                     f"</fingerprints></{tag}>")
        stamp = datetime.fromtimestamp(end, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        parts = [f'<{g}s count="{len(items)}" maxTimestamp="{stamp}">{"".join(items)}</{g}s>'
                 for g, items in groups.items() if items]
        nxt = ""
        if offset + self.page_size < len(in_range):
            query = (f"from={params['from']}&amp;to={params['to']}&amp;start={offset + self.page_size}"
                     f"&amp;size={self.page_size}&amp;max={len(in_range)}")
            nxt = f"<paging><next>/v2/entries?{query}</next></paging>"
        xml = f'<?xml version="1.0"?><queryResult xmlns="{NS}">{"".join(parts)}{nxt}</queryResult>'
        return 200, xml.encode()


@contextmanager
def ncmec_standin(standin: NcmecStandIn | None = None) -> Iterator[NcmecStandIn]:
    standin = standin or NcmecStandIn()

    class Handler(QuietHandler):
        def do_GET(self) -> None:
            path, params = self.query()
            with standin.lock:
                standin.requests.append({**params, "path": path})
            if not self._authorised():
                return
            if path.startswith("/v2/feedback/") and path.endswith("/reasons"):
                reasons = "".join(f'<reason guid="{g}" name="{escape(n)}"/>'
                                  for g, n in standin.reasons.items())
                body = (f'<?xml version="1.0"?><feedbackReasons xmlns="{NS}"><availableFeedbackReasons>'
                        f"{reasons}</availableFeedbackReasons></feedbackReasons>")
                self.send_body(200, body.encode(), "application/xml")
                return
            if path != "/v2/entries":
                self.send_body(404, b"<error/>", "application/xml")
                return
            status, body = standin.answer(params)
            self.send_body(status, body, "application/xml")

        def _authorised(self) -> bool:
            expected = "Basic " + base64.b64encode(CREDENTIALS.encode()).decode()
            if self.headers.get("Authorization") == expected:
                return True
            self.send_body(401, b"<error>unauthorized</error>", "application/xml")
            return False

        def do_PUT(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if not self._authorised():
                return
            path, _ = self.query()
            parts = path.strip("/").split("/")
            if len(parts) != 6 or parts[:2] != ["v2", "entries"] or parts[5] != "feedback":
                self.send_body(404, b"<error/>", "application/xml")
                return
            with standin.lock:
                fault = standin.vote_faults.pop(0) if standin.vote_faults else None
            if fault:
                self.send_body(int(fault), b"<error/>", "application/xml")
                return
            root = ET.fromstring(body)
            for element in root.iter():
                element.tag = element.tag.partition("}")[2] or element.tag
            vote = root[0].tag
            guid = root.findtext("negative/reasonIds/guid")
            if vote not in ("affirmative", "negative") or (vote == "negative") != (guid in standin.reasons):
                self.send_body(400, b"<error>bad feedback</error>", "application/xml")
                return
            with standin.lock:
                standin.votes.append((parts[2], parts[3], parts[4], vote, guid))
            self.send_body(200, b"<ok/>", "application/xml")

    with local_server(Handler) as base:
        standin.url = base
        yield standin
