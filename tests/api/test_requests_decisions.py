"""Items, copies and decisions: remove banks the hashes (matchable at once) and queues a removal for
every item and copy in the same transaction; reject and need_info need a reason; decided is final."""

from __future__ import annotations

import json

from sqlalchemy import select

from stanch.desk.audit import verify
from stanch.store import Entry
from stanch.store.audit_models import AuditEvent
from stanch.store.outbox_models import OutboxMessage
from tests.api.conftest import Api
from tests.desk.factory import picture_record, request_body


def _file(api: Api, **changes: object) -> dict[str, str]:
    response = api.client.post("/v1/requests", json=request_body(**changes))
    assert response.status_code == 201, response.text
    return response.json()


def _webhooks(api: Api, type: str) -> list[dict[str, object]]:
    with api.db.read() as session:
        rows = session.scalars(select(OutboxMessage).where(OutboxMessage.type == type)
                               .order_by(OutboxMessage.id))
        return [json.loads(r.payload) for r in rows]


def test_remove_banks_every_hash_and_queues_removal_for_every_item_and_copy(api: Api) -> None:
    mine, located, copy, unrelated = (picture_record(s) for s in (1, 2, 2, 3))
    receipt = _file(api, hashes=[{"pdq": mine["pdq"], "quality": mine["quality"]}])
    path = f"/v1/requests/{receipt['id']}"
    attached = api.post(f"{path}/items", "desk", json={"items": [
        {"item_id": "post/1", "hashes": located, "location": "https://platform.example/p/1"},
        {"item_id": "post/77", "hashes": {"pdq": copy["pdq"]}, "copy": True},
    ]})
    assert attached.status_code == 201, attached.text
    assert attached.json()["items"][1] == {"item_id": "post/77", "origin": "copy", "signal": "pdq",
                                           "distance": 0, "view": "original", "review": None}
    refused = api.post(f"{path}/items", "desk", json={"items": [
        {"item_id": "post/9", "hashes": {"pdq": unrelated["pdq"]}, "copy": True}]})
    assert refused.status_code == 422 and "does not match" in refused.json()["detail"]
    for record in (mine, located):
        assert not api.post("/v1/match", "match", json={"pdq": record["pdq"]}).json()["matched"]

    decided = api.post(f"{path}/decision", "desk", json={"decision": "remove"})
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "removed" and decided.json()["deadline_kept"] is True
    for record in (mine, located):
        verdict = api.post("/v1/match", "match", json={"pdq": record["pdq"]}).json()
        assert verdict["matched"] and verdict["matches"][0]["bank"] == "cases"
    removals = _webhooks(api, "remove_item")
    assert sorted(r["item_id"] for r in removals) == ["post/1", "post/77"]
    assert {r["case_id"] for r in removals} == {receipt["id"]}
    with api.db.read() as session:
        entries = list(session.scalars(select(Entry)))
        assert entries and all(e.request_id is not None for e in entries)
        assert all(e.source and receipt["id"] in e.source for e in entries)
        decisions = session.scalars(select(AuditEvent).where(AuditEvent.action == "request.decision")).all()
        assert len(decisions) == 1 and json.loads(decisions[0].details)["decision"] == "remove"
    with api.db.read() as session:
        assert verify(session).ok
    own = api.client.get(path, headers={"X-Stanch-Token": receipt["token"]}).json()
    assert own["copies_found"] == 1 and "post/77" not in str(own)
    outcome = own["outcome"]
    assert outcome["decision"] == "remove" and "automated" in outcome["automated_means"].lower()
    assert outcome["redress"]
    assert api.post(f"{path}/decision", "desk", json={"decision": "reject", "reason": "x"}).status_code == 409


def test_a_copy_found_after_removal_is_removed_at_once(api: Api) -> None:
    record = picture_record(4)
    receipt = _file(api, hashes=[record])
    path = f"/v1/requests/{receipt['id']}"
    assert api.post(f"{path}/decision", "desk", json={"decision": "remove"}).status_code == 200
    assert _webhooks(api, "remove_item") == []
    api.post(f"{path}/items", "desk", json={"items": [{"item_id": "late", "hashes": {"md5": record["md5"]},
                                                       "copy": True}]})
    assert [r["item_id"] for r in _webhooks(api, "remove_item")] == ["late"]


def test_reject_and_need_info_need_a_reason(api: Api) -> None:
    receipt = _file(api)
    path = f"/v1/requests/{receipt['id']}/decision"
    for decision in ("reject", "need_info"):
        response = api.post(path, "desk", json={"decision": decision})
        assert response.status_code == 422 and "reason" in response.json()["detail"]
    assert api.post(path, "desk", json={"decision": "maybe"}).status_code == 422
    assert api.client.post(path, json={"decision": "reject", "reason": "x"}).status_code == 401
    assert api.post(path, "match", json={"decision": "reject", "reason": "x"}).status_code == 403
    rejected = api.post(path, "desk", json={"decision": "reject", "reason": "This is not intimate imagery."})
    assert rejected.status_code == 200 and rejected.json()["entries"] == []
    own = {"X-Stanch-Token": receipt["token"]}
    view = api.client.get(f"/v1/requests/{receipt['id']}", headers=own).json()
    assert view["status"] == "rejected" and view["outcome"]["reason"] == "This is not intimate imagery."
    with api.db.read() as session:
        assert list(session.scalars(select(Entry))) == []
        updates = session.scalars(select(OutboxMessage).where(OutboxMessage.type == "update")).all()
        assert [u.recipient for u in updates] == ["alex@example.org"]
        assert "intimate" not in updates[0].payload
    assert api.post(path, "desk", json={"decision": "remove"}).status_code == 409


def test_unknown_request_is_404_for_the_desk(api: Api) -> None:
    assert api.post("/v1/requests/STN-0000-0000/decision", "desk",
                    json={"decision": "remove"}).status_code == 404
    assert api.client.get("/v1/requests/STN-0000-0000", headers=api.headers("desk")).status_code == 404
