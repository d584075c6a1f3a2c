"""The server sends the outbox itself: a removal decided through the API reaches the platform's
webhook endpoint (a local receiver) with no separate ``stanch actions run``; STANCH_DISPATCH=0 turns
that off."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from stanch.actions import SettingsError, verify_signature
from stanch.actions.background import dispatch_in_server
from stanch.api.app import create_app
from stanch.store import Database, create_key
from stanch.store.outbox_models import OutboxMessage
from tests.api.conftest import Api
from tests.desk.factory import picture_record, request_body
from tests.local_server import QuietHandler, local_server

SECRET = "test-webhook-secret"
WAIT_SECONDS = 20.0


@dataclass
class Receiver:
    """A platform's webhook endpoint on 127.0.0.1: keeps every verified delivery's JSON body."""

    url: str
    deliveries: list[dict[str, Any]] = field(default_factory=list)
    refused: int = 0

    def wait_for(self, type: str) -> list[dict[str, Any]]:
        """The deliveries of ``type``, polling until one arrives (at most ``WAIT_SECONDS``)."""
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            found = [d for d in list(self.deliveries) if d["type"] == type]
            if found:
                return found
            time.sleep(0.05)
        return []


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    received: list[dict[str, Any]] = []
    state = {"refused": 0}

    class Handler(QuietHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if verify_signature(SECRET, self.headers["X-Stanch-Timestamp"], body,
                                self.headers["X-Stanch-Signature"]):
                received.append(json.loads(body))
                self.send_response(200)
            else:
                state["refused"] += 1
                self.send_response(401)
            self.end_headers()

    with local_server(Handler) as base:
        url = f"{base}/hooks"
        monkeypatch.setenv("STANCH_WEBHOOK_URL", url)
        monkeypatch.setenv("STANCH_WEBHOOK_SECRET", SECRET)
        monkeypatch.delenv("STANCH_DISPATCH", raising=False)
        yield Receiver(url, received)


@pytest.fixture
def api(receiver: Receiver, api: Api) -> Api:
    """The API started after the receiver's settings are in the environment."""
    return api


def _removed_case(api: Api) -> str:
    receipt = api.client.post("/v1/requests", json=request_body()).json()
    path = f"/v1/requests/{receipt['id']}"
    attached = api.post(f"{path}/items", "desk", json={"items": [
        {"item_id": "post/1", "hashes": picture_record(1), "location": "https://platform.example/p/1"}]})
    assert attached.status_code == 201, attached.text
    decided = api.post(f"{path}/decision", "desk", json={"decision": "remove"})
    assert decided.status_code == 200, decided.text
    return str(receipt["id"])


def test_a_removal_reaches_the_platform_from_the_server_itself(api: Api, receiver: Receiver) -> None:
    case = _removed_case(api)
    assert "stanch-dispatcher" in {thread.name for thread in threading.enumerate()}
    (delivery,) = receiver.wait_for("remove_item")
    assert delivery["data"]["item_id"] == "post/1" and delivery["data"]["case_id"] == case
    assert receiver.refused == 0


def test_with_dispatch_off_the_server_only_queues(
    receiver: Receiver, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STANCH_DISPATCH", "0")
    with database.write() as session:
        key = create_key(session, "desk", ["desk"])[1]
    app = create_app(db=database, poll_interval=0.05, key_cache_seconds=0)
    with TestClient(app) as client:
        _removed_case(Api(client, database, {"desk": key}))
        assert "stanch-dispatcher" not in {thread.name for thread in threading.enumerate()}
    with database.read() as session:
        (removal,) = session.scalars(select(OutboxMessage).where(OutboxMessage.type == "remove_item"))
    assert removal.status == "pending" and removal.attempts == 0
    assert receiver.deliveries == []


def test_the_dispatch_setting_is_checked() -> None:
    assert dispatch_in_server({}) and dispatch_in_server({"STANCH_DISPATCH": "1"})
    assert not dispatch_in_server({"STANCH_DISPATCH": "0"})
    with pytest.raises(SettingsError, match="STANCH_DISPATCH='no'"):
        dispatch_in_server({"STANCH_DISPATCH": "no"})
