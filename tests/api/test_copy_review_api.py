"""The banks API's auto-remove rule and the desk API's decision on one copy (SQLite and PostgreSQL)."""

from __future__ import annotations

import json

from sqlalchemy import select

from stanch.store.audit_models import AuditEvent
from stanch.store.outbox_models import OutboxMessage
from tests.api.conftest import Api
from tests.desk.factory import picture_record, request_body


def test_a_bank_is_created_and_changed_with_its_rule(api: Api) -> None:
    created = api.post("/v1/banks", "bank", json={"name": "ncii", "auto_remove": "sha256, pdq<=6"})
    assert created.status_code == 201, created.text
    assert created.json()["auto_remove"] == "sha256,pdq<=6"
    plain = api.post("/v1/banks", "bank", json={"name": "plain"})
    assert plain.json()["auto_remove"] == "md5,sha256,pdq<=10"  # the default, written out
    changed = api.client.patch("/v1/banks/ncii", json={"auto_remove": "none", "trust": "review"},
                               headers=api.headers("bank"))
    assert changed.status_code == 200, changed.text
    assert (changed.json()["auto_remove"], changed.json()["trust"]) == ("none", "review")
    bad = api.client.patch("/v1/banks/ncii", json={"auto_remove": "crop<=3"}, headers=api.headers("bank"))
    assert bad.status_code == 422 and "'crop<=3' is not a term" in bad.text
    missing = api.client.patch("/v1/banks/nope", json={"auto_remove": "none"}, headers=api.headers("bank"))
    assert missing.status_code == 404
    banks = api.client.get("/v1/banks", headers=api.headers("bank")).json()["banks"]
    listed = {b["name"]: b["auto_remove"] for b in banks}
    assert listed == {"ncii": "none", "plain": "md5,sha256,pdq<=10"}
    with api.db.read() as session:
        events = [json.loads(e.details) for e in session.scalars(
            select(AuditEvent).where(AuditEvent.action == "bank.update"))]
    assert events == [{"auto_remove": "none", "threshold": 31, "trust": "review"}]


def test_a_copy_on_the_review_list_is_decided_through_the_api(api: Api) -> None:
    assert api.post("/v1/banks", "bank", json={"name": "cases", "auto_remove": "md5"}).status_code == 201
    mine = picture_record(4)
    receipt = api.client.post("/v1/requests", json=request_body(
        hashes=[{"pdq": mine["pdq"], "quality": mine["quality"]}])).json()
    path = f"/v1/requests/{receipt['id']}"
    assert api.post(f"{path}/decision", "desk", json={"decision": "remove"}).status_code == 200
    attached = api.post(f"{path}/items", "desk", json={"items": [
        {"item_id": "post/5", "hashes": {"pdq": mine["pdq"]}, "copy": True}]})
    assert attached.json()["items"][0]["review"] == "pending"  # a PDQ match, and the rule trusts only MD5
    no_reason = api.post(f"{path}/copies/decision", "desk", json={"item_id": "post/5", "decision": "reject"})
    assert no_reason.status_code == 422 and "reason is required" in no_reason.text
    unknown = api.post(f"{path}/copies/decision", "desk", json={"item_id": "post/6", "decision": "remove"})
    assert unknown.status_code == 404
    decided = api.post(f"{path}/copies/decision", "desk", json={"item_id": "post/5", "decision": "remove"})
    assert decided.status_code == 200, decided.text
    assert decided.json() == {"id": receipt["id"], "item_id": "post/5", "review": "removed",
                              "removal_sent": True}
    again = api.post(f"{path}/copies/decision", "desk", json={"item_id": "post/5", "decision": "remove"})
    assert again.status_code == 409
    assert api.post(f"{path}/copies/decision", "match", json={"item_id": "post/5",
                                                              "decision": "remove"}).status_code == 403
    with api.db.read() as session:
        sent = [json.loads(m.payload)["item_id"] for m in session.scalars(
            select(OutboxMessage).where(OutboxMessage.type == "remove_item"))]
        audit = [json.loads(e.details)["decision"] for e in session.scalars(
            select(AuditEvent).where(AuditEvent.action == "copy.decision"))]
    assert sent.count("post/5") == 1 and audit == ["remove"]
