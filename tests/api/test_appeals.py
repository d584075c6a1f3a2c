"""Appeals: a receipt like a request's, a different reviewer decides, reinstatement reverses the removal
and withdraws only the bank entries no other removal needs."""

from __future__ import annotations

import json

from sqlalchemy import select

from stanch.store import Entry, create_key
from stanch.store.audit_models import AuditEvent
from stanch.store.outbox_models import OutboxMessage
from tests.api.conftest import Api
from tests.desk.factory import picture_record, request_body


def _removed(api: Api, hashes: list[dict[str, object]], item: str, email: str = "alex@example.org") -> str:
    body = request_body(hashes=hashes, requester={"name": "A", "email": email})
    receipt = api.client.post("/v1/requests", json=body).json()
    path = f"/v1/requests/{receipt['id']}"
    assert api.post(f"{path}/items", "desk", json={"items": [{"item_id": item, "hashes": hashes[0]}]}
                    ).status_code == 201
    assert api.post(f"{path}/decision", "desk", json={"decision": "remove"}).status_code == 200
    return str(receipt["id"])


def _second_reviewer(api: Api) -> dict[str, str]:
    with api.db.write() as session:
        key = create_key(session, "second reviewer", ["desk"])[1]
    return {"Authorization": f"Bearer {key}"}


def _appeal(api: Api, **fields: object) -> dict[str, str]:
    body = {"appellant": {"name": "Uploader", "email": "up@example.org"}, "statement": "This is my own art.",
            **fields}
    response = api.client.post("/v1/appeals", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def test_appeal_receipt_and_validation(api: Api) -> None:
    case = _removed(api, [{"pdq": "f" * 64}], "post/1")
    missing = api.client.post("/v1/appeals", json={"statement": ""}).json()["problems"]
    assert any("item_id or case_id" in p for p in missing) and any("appellant" in p for p in missing)
    assert api.client.post("/v1/appeals", json={"item_id": "never-removed", "statement": "x",
                                                "appellant": {"name": "U", "email": "u@example.org"}}
                           ).status_code == 404
    receipt = _appeal(api, item_id="post/1")
    assert receipt["id"].startswith("APL-") and set(receipt) >= {"token", "received_at", "deadline"}
    own = api.client.get(f"/v1/appeals/{receipt['id']}", headers={"X-Stanch-Token": receipt["token"]}).json()
    assert own["status"] == "received" and "appellant" not in own
    assert api.client.get(f"/v1/appeals/{receipt['id']}").status_code == 401
    wrong = api.client.get(f"/v1/appeals/{receipt['id']}", headers={"X-Stanch-Token": "nope"})
    assert wrong.status_code == 404
    desk = api.client.get(f"/v1/appeals/{receipt['id']}", headers=api.headers("desk")).json()
    assert desk["request"] == case and desk["appellant"]["email"] == "up@example.org"
    assert [a["id"] for a in api.client.get("/v1/appeals", headers=api.headers("desk")).json()["appeals"]] \
        == [receipt["id"]]


def test_the_reviewer_who_removed_cannot_decide_the_appeal(api: Api) -> None:
    case = _removed(api, [{"pdq": "f" * 64}], "post/1")
    receipt = _appeal(api, case_id=case)
    path = f"/v1/appeals/{receipt['id']}/decision"
    same = api.post(path, "desk", json={"decision": "uphold", "reason": "It is the requester."})
    assert same.status_code == 403 and "different reviewer" in same.json()["detail"]
    other = _second_reviewer(api)
    assert api.client.post(path, headers=other, json={"decision": "uphold"}).status_code == 422
    reason = "It is the requester."
    upheld = api.client.post(path, headers=other, json={"decision": "uphold", "reason": reason})
    assert upheld.status_code == 200 and upheld.json()["status"] == "upheld"
    again = api.client.post(path, headers=other, json={"decision": "reinstate", "reason": "x"})
    assert again.status_code == 409
    view = api.client.get(f"/v1/appeals/{receipt['id']}", headers={"X-Stanch-Token": receipt["token"]}).json()
    assert view["outcome"]["decision"] == "uphold" and view["outcome"]["reason"] == "It is the requester."


def test_reinstate_withdraws_only_entries_exclusive_to_the_case(api: Api) -> None:
    shared, own = picture_record(5), picture_record(6)
    first = _removed(api, [{"pdq": own["pdq"]}, {"pdq": shared["pdq"]}], "post/1")
    _removed(api, [{"pdq": shared["pdq"]}], "post/2", email="other@example.org")
    receipt = _appeal(api, item_id="post/1")
    decided = api.client.post(f"/v1/appeals/{receipt['id']}/decision", headers=_second_reviewer(api),
                              json={"decision": "reinstate", "reason": "Consent was shown."})
    assert decided.status_code == 200, decided.text
    with api.db.read() as session:
        active = {e.pdq.hex() for e in session.scalars(select(Entry).where(Entry.withdrawn_at.is_(None)))
                  if e.pdq}
        reinstates = [json.loads(m.payload) for m in session.scalars(
            select(OutboxMessage).where(OutboxMessage.type == "reinstate_item"))]
        audit = session.scalars(select(AuditEvent.action).where(AuditEvent.action == "appeal.decision")).all()
    assert shared["pdq"] in active and own["pdq"] not in active
    assert [r["item_id"] for r in reinstates] == ["post/1"]
    assert audit == ["appeal.decision"]
    assert not api.post("/v1/match", "match", json={"pdq": own["pdq"]}).json()["matched"]
    assert api.post("/v1/match", "match", json={"pdq": shared["pdq"]}).json()["matched"]
    status = api.client.get(f"/v1/requests/{first}", headers=api.headers("desk")).json()
    assert status["status"] == "reinstated"
