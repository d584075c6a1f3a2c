"""POST/GET /v1/requests: intake (every element), receipts, the secret code, status, info, withdraw."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from stanch.store.audit_models import AuditEvent
from stanch.store.desk_models import IntakeEvent, RequestLocation, TakedownRequest
from stanch.store.outbox_models import OutboxMessage
from tests.api.conftest import Api
from tests.desk.factory import request_body


def _count(api: Api, model: type) -> int:
    with api.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _file(api: Api, **changes: object) -> dict[str, str]:
    response = api.client.post("/v1/requests", json=request_body(**changes))
    assert response.status_code == 201, response.text
    return response.json()


MISSING = [
    ("requester", "requester is missing"),
    ("relationship", "relationship"),
    ("signature", "signature is missing"),
    ("good_faith", "good_faith"),
    ("statement", "statement is missing"),
    ("locations", "locations is missing"),
]


@pytest.mark.parametrize(("field", "named"), MISSING, ids=[m[0] for m in MISSING])
def test_each_missing_element_is_named_and_nothing_is_stored(api: Api, field: str, named: str) -> None:
    response = api.client.post("/v1/requests", json=request_body(**{field: None}))
    assert response.status_code == 422
    assert any(named in problem for problem in response.json()["problems"]), response.json()
    assert _count(api, TakedownRequest) == 0
    assert _count(api, OutboxMessage) == 0


def test_all_problems_are_listed_at_once(api: Api) -> None:
    body = request_body(requester={"name": "", "email": "not an address"}, good_faith=False,
                        relationship="friend", locations=[], hashes=[{"pdq": "abc"}])
    problems = api.client.post("/v1/requests", json=body).json()["problems"]
    text = " | ".join(problems)
    for expected in ("requester.name is missing", "requester.email", "good_faith", "relationship",
                     "locations is missing", "hashes[0].pdq"):
        assert expected in text
    assert _count(api, TakedownRequest) == 0


@pytest.mark.parametrize("bad", [
    {"requester": {"name": "A"}}, {"good_faith": "yes"}, {"locations": [""]}, {"hashes": [{"md5": "zz"}]},
    {"hashes": [{"kind": "image", "pdq": "f" * 64}]}, {"hashes": [{}]}, {"statment": "typo"},
], ids=["no email", "good_faith not true", "empty location", "bad md5", "bad record", "no hash", "unknown"])
def test_malformed_elements_are_refused(api: Api, bad: dict[str, object]) -> None:
    body = {**request_body(), **bad}
    response = api.client.post("/v1/requests", json=body)
    assert response.status_code == 422, response.text
    assert _count(api, TakedownRequest) == 0


def test_the_openapi_document_describes_the_request_body(api: Api) -> None:
    body = api.client.get("/openapi.json").json()["paths"]["/v1/requests"]["post"]["requestBody"]
    schema = body["content"]["application/json"]["schema"]
    assert "locations" in schema["required"] and "hashes" not in schema["required"]


def test_a_body_that_is_not_json_is_refused(api: Api) -> None:
    response = api.client.post("/v1/requests", content=b"{not json",
                               headers={"Content-Type": "application/json"})
    assert response.status_code == 422


def test_an_oversized_body_is_refused_unread(api: Api) -> None:
    body = request_body(explanation="x" * (3 * 2**20))
    assert api.client.post("/v1/requests", json=body).status_code == 413
    assert _count(api, TakedownRequest) == 0


def test_receipt_and_what_is_stored(api: Api) -> None:
    before = datetime.now().astimezone()
    receipt = _file(api, hashes=[{"pdq": "f" * 64}, {"md5": "a" * 32}], explanation="more words",
                    phone="+44 20 0000 0000")
    assert set(receipt) >= {"id", "token", "received_at", "deadline"}
    assert receipt["id"].startswith("STN-") and len(receipt["id"]) == 13
    received = datetime.fromisoformat(receipt["received_at"])
    assert before - timedelta(seconds=5) <= received <= datetime.now().astimezone()
    assert datetime.fromisoformat(receipt["deadline"]) - received == timedelta(hours=48)
    assert len(receipt["token"]) >= 22
    with api.db.read() as session:
        stored = session.scalars(select(TakedownRequest)).one()
        assert stored.public_id == receipt["id"]
        assert stored.token_hash == hashlib.sha256(receipt["token"].encode()).digest()
        row_text = " ".join(str(getattr(stored, c.key)) for c in TakedownRequest.__table__.columns)
        assert receipt["token"] not in row_text
        assert session.scalar(select(RequestLocation.location)) == "https://platform.example/p/1"
        email = session.scalars(select(OutboxMessage)).one()
        assert email.kind == "email" and email.type == "received" and email.recipient == "alex@example.org"
        assert receipt["token"] not in email.payload
        assert session.scalar(select(AuditEvent.action)) == "request.received"


def test_status_with_token_desk_key_nothing_and_wrong_token(api: Api) -> None:
    receipt = _file(api)
    path = f"/v1/requests/{receipt['id']}"
    own = api.client.get(path, headers={"X-Stanch-Token": receipt["token"]})
    assert own.status_code == 200
    view = own.json()
    assert view["status"] == "received" and view["deadline"] == receipt["deadline"]
    assert "next" in view and "requester" not in view and "token" not in view
    assert api.client.get(path).status_code == 401
    wrong = api.client.get(path, headers={"X-Stanch-Token": "x" * 22})
    unknown = api.client.get("/v1/requests/STN-0000-0000", headers={"X-Stanch-Token": receipt["token"]})
    assert wrong.status_code == unknown.status_code == 404
    assert wrong.json() == unknown.json()
    assert api.client.get(path, headers=api.headers("match")).status_code == 403
    desk = api.client.get(path, headers=api.headers("desk"))
    assert desk.status_code == 200
    assert desk.json()["requester"]["email"] == "alex@example.org"
    assert desk.json()["status"] == "in_review"
    with api.db.read() as session:
        views = session.scalars(select(AuditEvent).where(AuditEvent.action == "request.view")).all()
        assert [(v.subject_id, v.actor.startswith("key:")) for v in views] == [(receipt["id"], True)]


def test_the_requester_never_sees_other_peoples_data(api: Api) -> None:
    mine = _file(api)
    _file(api, requester={"name": "Someone Else", "email": "else@example.org"})
    view = api.client.get(f"/v1/requests/{mine['id']}", headers={"X-Stanch-Token": mine["token"]}).text
    assert "else@example.org" not in view and "Someone Else" not in view


def test_add_information_and_withdraw(api: Api) -> None:
    receipt = _file(api)
    path = f"/v1/requests/{receipt['id']}"
    api.post(f"{path}/decision", "desk", json={"decision": "need_info", "reason": "Which post exactly?"})
    status = api.client.get(path, headers={"X-Stanch-Token": receipt["token"]}).json()
    assert status["status"] == "need_info" and status["outcome"]["reason"] == "Which post exactly?"
    assert api.client.post(f"{path}/info", json={"text": "x"}).status_code == 401
    assert api.client.post(f"{path}/info", json={"token": "wrong", "text": "x"}).status_code == 404
    assert api.client.post(f"{path}/info", json={"token": receipt["token"]}).status_code == 422
    added = api.client.post(f"{path}/info", json={"token": receipt["token"], "text": "It is post 2",
                                                  "locations": ["https://platform.example/p/2"],
                                                  "hashes": [{"md5": "b" * 32}]})
    assert added.status_code == 200, added.text
    assert added.json()["status"] == "in_review"
    assert [loc["location"] for loc in added.json()["locations"]][-1] == "https://platform.example/p/2"
    withdrawn = api.client.post(f"{path}/withdraw", headers={"X-Stanch-Token": receipt["token"]})
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    again = api.client.post(f"{path}/withdraw", headers={"X-Stanch-Token": receipt["token"]})
    assert again.status_code == 409
    assert api.post(f"{path}/decision", "desk", json={"decision": "remove"}).status_code == 409


def test_rate_limit_per_contact_and_per_address(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STANCH_REQUESTS_PER_CONTACT", "2")
    monkeypatch.setenv("STANCH_REQUESTS_PER_ADDRESS", "3")
    _file(api, locations=["a"])
    _file(api, locations=["b"])
    limited = api.client.post("/v1/requests", json=request_body(locations=["c"]))
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
    assert "email address" in limited.json()["detail"]
    _file(api, requester={"name": "B", "email": "b@example.org"})
    other = request_body(requester={"name": "C", "email": "c@example.org"})
    by_address = api.client.post("/v1/requests", json=other)
    assert by_address.status_code == 429 and "network address" in by_address.json()["detail"]
    assert _count(api, TakedownRequest) == 3
    with api.db.read() as session:
        keys = list(session.scalars(select(IntakeEvent.key_hash)))
    assert len(keys) == 3 * 2 and all(len(k) == 64 and "@" not in k and "testclient" not in k for k in keys)


def test_duplicates_and_history_are_shown_to_the_reviewer(api: Api) -> None:
    first = _file(api, locations=["https://platform.example/p/1"])
    second = _file(api, locations=["https://platform.example/p/1", "https://platform.example/p/9"])
    other = _file(api, requester={"name": "B", "email": "b@example.org"})
    view = api.client.get(f"/v1/requests/{second['id']}", headers=api.headers("desk")).json()
    assert "duplicate" in view["flags"] and view["duplicate_of"] == first["id"]
    assert [h["id"] for h in view["history"]] == [first["id"]]
    assert api.client.get(f"/v1/requests/{other['id']}", headers=api.headers("desk")).json()["flags"] == []


def test_repeated_and_bulk_requesters_are_flagged(api: Api) -> None:
    for n in range(3):
        _file(api, locations=[f"loc {n}"], hashes=[])
    fourth = _file(api, locations=[f"bulk {n}" for n in range(25)], hashes=[])
    flags = api.client.get(f"/v1/requests/{fourth['id']}", headers=api.headers("desk")).json()["flags"]
    assert "repeated" in flags and "bulk" in flags


def test_queue_is_ordered_by_time_left_and_needs_a_desk_key(api: Api) -> None:
    first, second = _file(api, locations=["a"]), _file(api, locations=["b"])
    api.client.post(f"/v1/requests/{second['id']}/withdraw", headers={"X-Stanch-Token": second["token"]})
    third = _file(api, locations=["c"])
    assert api.client.get("/v1/requests").status_code == 401
    rows = api.client.get("/v1/requests", headers=api.headers("desk")).json()["requests"]
    assert [r["id"] for r in rows] == [first["id"], third["id"]]
    assert rows[0]["seconds_left"] <= rows[1]["seconds_left"]
    assert all("requester" not in r for r in rows)
