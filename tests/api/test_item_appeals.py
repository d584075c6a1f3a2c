"""Appeals per item: an appeal names the item(s) it is about; reinstating puts back only those (a
``reinstate_item`` webhook each), withdraws the bank entries only they backed, and leaves the rest of the
case removed; the two-reviewer rule holds for every item appealed."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from stanch.store import Entry, create_key
from stanch.store.compliance_models import Statement
from stanch.store.outbox_models import OutboxMessage
from tests.api.conftest import Api
from tests.desk.factory import picture_record, request_body

PLACES = ["https://platform.example/p/1", "https://platform.example/p/2", "https://platform.example/p/3"]
OWN = 29


def _removed_case(api: Api, seeds: list[int], email: str = "alex@example.org",
                  headers: dict[str, str] | None = None) -> dict[str, str]:
    """A case with one located item per seed (item ``post/<seed>``), removed whole by ``headers``."""
    body = request_body(locations=PLACES[:len(seeds)], requester={"name": "A", "email": email},
                        hashes=[{"pdq": picture_record(OWN)["pdq"]}])
    receipt = api.client.post("/v1/requests", json=body).json()
    path = f"/v1/requests/{receipt['id']}"
    assert api.post(f"{path}/items", "desk", json={"items": [
        {"item_id": f"post/{seed}", "hashes": picture_record(seed), "location": PLACES[n]}
        for n, seed in enumerate(seeds)]}).status_code == 201
    decided = api.client.post(f"{path}/decision", json={"decision": "remove"},
                              headers=headers or api.headers("desk"))
    assert decided.status_code == 200, decided.text
    return receipt


def _reviewer(api: Api, name: str) -> dict[str, str]:
    with api.db.write() as session:
        key = create_key(session, name, ["desk"])[1]
    return {"Authorization": f"Bearer {key}"}


def _appeal(api: Api, **fields: object) -> Any:
    body = {"appellant": {"name": "Uploader", "email": "up@example.org"}, "statement": "My own picture.",
            **fields}
    return api.client.post("/v1/appeals", json=body)


def _reinstate(api: Api, appeal: str, headers: dict[str, str]) -> Any:
    return api.client.post(f"/v1/appeals/{appeal}/decision", headers=headers,
                           json={"decision": "reinstate", "reason": "The uploader showed consent."})


def _matched(api: Api, seed: int) -> bool:
    return bool(api.post("/v1/match", "match", json={"pdq": picture_record(seed)["pdq"]}).json()["matched"])


def _reinstated(api: Api) -> list[str]:
    with api.db.read() as session:
        return [json.loads(m.payload)["item_id"] for m in session.scalars(
            select(OutboxMessage).where(OutboxMessage.type == "reinstate_item").order_by(OutboxMessage.id))]


def test_reinstating_one_item_leaves_the_others_removed(api: Api) -> None:
    case = _removed_case(api, [40, 41, 42])
    filed = _appeal(api, item_id="post/41")
    assert filed.status_code == 201, filed.text
    appeal = filed.json()["id"]
    desk_view = api.client.get(f"/v1/appeals/{appeal}", headers=api.headers("desk")).json()
    assert desk_view["whole_case"] is False and [i["item_id"] for i in desk_view["items"]] == ["post/41"]
    decided = _reinstate(api, appeal, _reviewer(api, "second"))
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "reinstated"
    assert _reinstated(api) == ["post/41"]
    assert [_matched(api, s) for s in (40, 41, 42, OWN)] == [True, False, True, True]
    desk = api.client.get(f"/v1/requests/{case['id']}", headers=api.headers("desk")).json()
    assert desk["status"] == "removed"
    assert [(i["item_id"], i["stands"], i["reinstated_by"]) for i in desk["items"]] == [
        ("post/40", True, None), ("post/41", False, appeal), ("post/42", True, None)]
    own = api.client.get(f"/v1/requests/{case['id']}", headers={"X-Stanch-Token": case["token"]}).json()
    assert [(loc["removed"], loc["put_back"]) for loc in own["locations"]] == [(1, 0), (0, 1), (1, 0)]
    again = _appeal(api, item_id="post/41")  # put back already: no removal stands for it
    assert again.status_code == 404


def test_an_entry_another_removed_item_backs_stays(api: Api) -> None:
    first = _removed_case(api, [50, 51])
    _removed_case(api, [51], email="other@example.org")  # the same picture, removed in another case
    appeal = _appeal(api, case_id=first["id"], item_ids=["post/51"]).json()["id"]
    assert _reinstate(api, appeal, _reviewer(api, "second")).status_code == 200
    assert _matched(api, 51)  # the other case's removal still stands behind it
    with api.db.read() as session:
        assert session.scalars(select(Entry).where(Entry.withdrawn_at.is_not(None))).all() == []


def test_the_last_standing_item_put_back_reinstates_the_case(api: Api) -> None:
    case = _removed_case(api, [60, 61])
    second = _reviewer(api, "second")
    both = _appeal(api, item_ids=["post/60", "post/61"])
    assert both.status_code == 201, both.text
    decided = _reinstate(api, both.json()["id"], second)
    assert decided.status_code == 200, decided.text
    assert sorted(_reinstated(api)) == ["post/60", "post/61"]
    assert not any(_matched(api, s) for s in (60, 61, OWN))
    assert api.client.get(f"/v1/requests/{case['id']}", headers=api.headers("desk")).json()["status"] \
        == "reinstated"


def test_items_named_must_stand_in_one_case(api: Api) -> None:
    _removed_case(api, [70])
    _removed_case(api, [71], email="other@example.org")
    assert _appeal(api, item_ids=["post/70", "post/71"]).status_code == 404  # two cases
    assert _appeal(api, item_ids=["post/70", "never"]).status_code == 404
    bad = _appeal(api, item_ids="post/70")
    assert bad.status_code == 422 and any("item_ids must be a list" in p for p in bad.json()["problems"])


def test_an_appeal_by_statement_number_names_its_item(api: Api) -> None:
    case = _removed_case(api, [80, 81])
    with api.db.read() as session:
        number = session.scalar(select(Statement.public_id).where(Statement.item_id == "post/81"))
    filed = _appeal(api, case_id=number)
    assert filed.status_code == 201, filed.text
    view = api.client.get(f"/v1/appeals/{filed.json()['id']}", headers=api.headers("desk")).json()
    assert view["request"] == case["id"] and [i["item_id"] for i in view["items"]] == ["post/81"]
    assert _reinstate(api, filed.json()["id"], _reviewer(api, "second")).status_code == 200
    assert _reinstated(api) == ["post/81"] and _matched(api, 80)


def test_whoever_removed_an_item_cannot_decide_its_appeal(api: Api) -> None:
    first, second = _reviewer(api, "first"), _reviewer(api, "second")
    body = request_body(locations=PLACES[:2], hashes=[{"pdq": picture_record(OWN)["pdq"]}])
    case = api.client.post("/v1/requests", json=body).json()["id"]
    path = f"/v1/requests/{case}"
    api.post(f"{path}/items", "desk", json={"items": [
        {"item_id": f"post/{s}", "hashes": picture_record(s), "location": PLACES[n]}
        for n, s in enumerate((90, 91))]})
    assert api.client.post(f"{path}/decision", headers=first, json={"items": [
        {"item_id": "post/90", "decision": "remove"}]}).status_code == 200
    assert api.client.post(f"{path}/decision", headers=second, json={"items": [
        {"item_id": "post/91", "decision": "remove"}]}).status_code == 200
    appeal = _appeal(api, item_id="post/90").json()["id"]
    refused = _reinstate(api, appeal, first)  # first removed post/90, though second closed the case
    assert refused.status_code == 403 and "different reviewer" in refused.json()["detail"]
    refused = _reinstate(api, appeal, second)  # second decided the case
    assert refused.status_code == 403
    assert _reinstate(api, appeal, api.headers("desk")).status_code == 200
    assert _reinstated(api) == ["post/90"]
