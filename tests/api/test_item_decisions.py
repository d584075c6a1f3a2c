"""Decisions per item: the ``items`` form of ``POST /v1/requests/{id}/decision`` removes some items and
refuses others (with a reason the requester reads beside her location), a case is decided when every
item is, each problem in the form is a 422 that names it, and the whole-case form goes the same way."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from stanch.desk.audit import verify
from stanch.desk.report import monthly
from stanch.store import Entry
from stanch.store.audit_models import AuditEvent
from stanch.store.decision_models import ItemDecision
from stanch.store.outbox_models import OutboxMessage
from tests.api.conftest import Api
from tests.desk.factory import picture_record, request_body

PLACES = ["https://platform.example/p/1", "https://platform.example/p/2", "https://platform.example/p/3"]
REFUSAL = "This picture does not show the person who asked."


def _case(api: Api, items: int = 3, email: str = "alex@example.org", seed: int = 10) -> str:
    """A case with ``items`` located items, one at each of its locations (distinct pictures)."""
    body = request_body(locations=PLACES[:items], requester={"name": "A", "email": email},
                        hashes=[{"pdq": picture_record(seed + 9)["pdq"]}])
    receipt = api.client.post("/v1/requests", json=body).json()
    attached = api.post(f"/v1/requests/{receipt['id']}/items", "desk", json={"items": [
        {"item_id": f"post/{seed + n}", "hashes": picture_record(seed + n), "location": PLACES[n]}
        for n in range(items)]})
    assert attached.status_code == 201, attached.text
    return str(receipt["id"])


def _decide(api: Api, case: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> Any:
    return api.client.post(f"/v1/requests/{case}/decision", json=body, headers=headers or api.headers("desk"))


def _payloads(api: Api, type: str) -> list[dict[str, Any]]:
    with api.db.read() as session:
        return [json.loads(m.payload) for m in session.scalars(
            select(OutboxMessage).where(OutboxMessage.type == type).order_by(OutboxMessage.id))]


def test_remove_two_refuse_one_tells_the_requester_which_and_why(api: Api) -> None:
    body = request_body(locations=PLACES, hashes=[{"pdq": picture_record(19)["pdq"]}])
    receipt = api.client.post("/v1/requests", json=body).json()
    case = receipt["id"]
    api.post(f"/v1/requests/{case}/items", "desk", json={"items": [
        {"item_id": f"post/{n}", "hashes": picture_record(10 + n), "location": PLACES[n]} for n in range(3)]})
    decided = _decide(api, case, {"items": [
        {"item_id": "post/0", "decision": "remove"}, {"item_id": "post/1", "decision": "remove"},
        {"item_id": "post/2", "decision": "reject", "reason": REFUSAL}]})
    assert decided.status_code == 200, decided.text
    answer = decided.json()
    assert (answer["status"], answer["decision"]) == ("removed", "partial")
    assert answer["removed_items"] == ["post/0", "post/1"] and answer["rejected_items"] == ["post/2"]
    assert answer["undecided_items"] == []
    assert sorted(r["item_id"] for r in _payloads(api, "remove_item")) == ["post/0", "post/1"]
    assert sorted(s["item_id"] for s in _payloads(api, "statement.created")) == ["post/0", "post/1"]
    for n, matched in ((0, True), (1, True), (2, False), (9, True)):  # 9: the requester's own hashes
        verdict = api.post("/v1/match", "match", json={"pdq": picture_record(10 + n)["pdq"]}).json()
        assert verdict["matched"] is matched, n

    own = api.client.get(f"/v1/requests/{case}", headers={"X-Stanch-Token": receipt["token"]}).json()
    assert own["status"] == "removed" and own["outcome"]["decision"] == "partial"
    assert [(loc["location"], loc["removed"], loc["refused"], loc["reasons"]) for loc in own["locations"]] \
        == [(PLACES[0], 1, 0, []), (PLACES[1], 1, 0, []), (PLACES[2], 0, 1, [REFUSAL])]
    assert "post/" not in json.dumps(own)  # the requester never sees an item's id
    desk = api.client.get(f"/v1/requests/{case}", headers=api.headers("desk")).json()
    assert [(i["item_id"], i["decision"], i["stands"]) for i in desk["items"]] == [
        ("post/0", "remove", True), ("post/1", "remove", True), ("post/2", "reject", False)]
    assert desk["items"][2]["reason"] == REFUSAL
    with api.db.read() as session:
        events = [json.loads(e.details) for e in session.scalars(
            select(AuditEvent).where(AuditEvent.action == "item.decision").order_by(AuditEvent.seq))]
        assert [(e["item_id"], e["decision"], e["reason"]) for e in events] == [
            ("post/0", "remove", None), ("post/1", "remove", None), ("post/2", "reject", REFUSAL)]
        assert verify(session).ok
        figures = monthly(session)[-1]
        assert (figures.items_removed, figures.items_refused, figures.by_outcome["removed"]) == (2, 1, 1)


def test_a_case_is_decided_when_every_item_is(api: Api) -> None:
    case = _case(api)
    first = _decide(api, case, {"items": [{"item_id": "post/10", "decision": "reject", "reason": REFUSAL}]})
    assert first.status_code == 200 and first.json()["status"] == "in_review"
    assert first.json()["decision"] is None and first.json()["undecided_items"] == ["post/11", "post/12"]
    assert not api.post("/v1/match", "match", json={"pdq": picture_record(19)["pdq"]}).json()["matched"]
    again = _decide(api, case, {"items": [{"item_id": "post/10", "decision": "remove"}]})
    assert again.status_code == 409 and "already decided" in again.json()["detail"]
    # the whole-case form decides the rest, as it always did: remove everything not yet decided
    rest = _decide(api, case, {"decision": "remove"})
    assert rest.status_code == 200, rest.text
    assert (rest.json()["status"], rest.json()["decision"]) == ("removed", "partial")
    assert rest.json()["removed_items"] == ["post/11", "post/12"]
    assert api.post("/v1/match", "match", json={"pdq": picture_record(19)["pdq"]}).json()["matched"]
    assert _decide(api, case, {"items": [{"item_id": "post/11", "decision": "remove"}]}).status_code == 409


def test_refusing_every_item_rejects_the_case_and_banks_nothing(api: Api) -> None:
    case = _case(api, items=2)
    decided = _decide(api, case, {"reason": "None of this is the requester.", "items": [
        {"item_id": "post/10", "decision": "reject", "reason": REFUSAL},
        {"item_id": "post/11", "decision": "reject", "reason": "A landscape, no person in it."}]})
    assert decided.status_code == 200, decided.text
    assert (decided.json()["status"], decided.json()["decision"]) == ("rejected", "reject")
    with api.db.read() as session:
        assert session.scalars(select(Entry)).all() == []
    assert _payloads(api, "remove_item") == []


def test_a_copy_of_a_refused_item_is_no_copy_of_the_case(api: Api) -> None:
    case = _case(api, items=2)
    _decide(api, case, {"items": [{"item_id": "post/11", "decision": "reject", "reason": REFUSAL}]})
    refused = api.post(f"/v1/requests/{case}/items", "desk", json={"items": [
        {"item_id": "copy/11", "hashes": {"pdq": picture_record(11)["pdq"]}, "copy": True}]})
    assert refused.status_code == 422 and "does not match" in refused.json()["detail"]
    kept = api.post(f"/v1/requests/{case}/items", "desk", json={"items": [
        {"item_id": "copy/10", "hashes": {"pdq": picture_record(10)["pdq"]}, "copy": True}]})
    assert kept.status_code == 201, kept.text


def test_each_problem_of_the_items_form_is_named(api: Api) -> None:
    case = _case(api, items=2)
    other = _case(api, items=1, email="other@example.org", seed=30)
    cases = [
        ({"items": []}, "non-empty list"),
        ({"items": "post/10"}, "non-empty list"),
        ({"items": [{"item_id": "post/99", "decision": "remove"}]}, f"case {case} has no item 'post/99'"),
        ({"items": [{"item_id": "post/30", "decision": "remove"}]}, f"post/30 is an item of case {other}"),
        ({"items": [{"item_id": "post/10", "decision": "remove"}] * 2}, "items[1] (post/10) is listed twice"),
        ({"items": [{"item_id": "post/10", "decision": "delete"}]}, "items[0] (post/10).decision must be"),
        ({"items": [{"item_id": "post/10", "decision": "need_info"}]}, "need_info is for the whole case"),
        ({"items": [{"item_id": "post/10", "decision": "reject"}]}, "a reason is required to reject"),
        ({"items": [{"item_id": "post/10", "decision": "reject", "reason": "   "}]}, "a reason is required"),
        ({"items": [{"decision": "remove"}]}, "items[0].item_id is missing"),
        ({"items": [{"item_id": "post/10", "decision": "remove", "why": "x"}]}, "unknown fields why"),
        ({"items": [{"item_id": "post/10", "decision": "remove"}], "decision": "remove"}, "not both"),
    ]
    for body, words in cases:
        refused = _decide(api, case, body)
        assert refused.status_code == 422, (body, refused.text)
        assert words in refused.json()["detail"], (words, refused.json()["detail"])
    both = _decide(api, case, {"items": [{"item_id": "post/10", "decision": "reject"},
                                         {"item_id": "post/11", "decision": "maybe"}]}).json()["detail"]
    assert "reason is required" in both and "items[1] (post/11).decision" in both  # every problem at once
    with api.db.read() as session:
        assert session.scalars(select(ItemDecision)).all() == []  # nothing taken from a refused form
    assert api.client.get(f"/v1/requests/{case}", headers=api.headers("desk")).json()["status"] == "in_review"


def test_a_decided_case_refuses_the_items_form(api: Api) -> None:
    case = _case(api, items=1)
    assert _decide(api, case, {"decision": "reject", "reason": REFUSAL}).status_code == 200
    late = _decide(api, case, {"items": [{"item_id": "post/10", "decision": "remove"}]})
    assert late.status_code == 409 and "already rejected" in late.json()["detail"]
    with api.db.read() as session:
        rows = session.scalars(select(ItemDecision)).all()
        assert [(r.decision, r.reason) for r in rows] == [("reject", REFUSAL)]  # the whole case, per item
