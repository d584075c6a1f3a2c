"""The requester's decision email (SQLite and PostgreSQL): it says what became of each location she gave
by its number on the status page, with a refusal's reason from the fixed vocabulary (``reason_code``)
and never a URL, a host, the reviewer's own words, her name or her contact; an unknown code is a 422
naming the codes allowed; the whole-case form and an appeal that puts an item back tell the same way."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from stanch.actions import REFUSAL_CODES
from stanch.store.audit_models import AuditEvent
from stanch.store.decision_models import ItemDecision
from stanch.store.outbox_models import OutboxMessage
from tests.api.conftest import Api
from tests.api.test_item_appeals import _appeal, _reinstate, _removed_case, _reviewer
from tests.desk.factory import picture_record, request_body

PLACES = ["https://platform.example/p/1", "https://platform.example/p/2", "https://platform.example/p/3",
          "https://platform.example/p/4"]
NAME, EMAIL = "Robin Quillfeather", "robin.quill@example.org"
OWN_WORDS = "The woman in this photo has red hair; you told us yours is dark."
NOT_THIS = "Location 2: not removed: what we found there is not what your request describes."
SECRETS = ("platform.example", "https://platform", "/p/", "post/", NAME, "Robin", EMAIL, OWN_WORDS,
           "red hair", "photo", "picture", "image", "intimate", "nude", "sexual", "video")


def _case(api: Api, items: int, places: int | None = None) -> dict[str, str]:
    """A case at ``places`` locations (default ``items``) with a located item at each of the first
    ``items`` (``post/10``, ``post/11``, ...)."""
    body = request_body(locations=PLACES[:places or items], requester={"name": NAME, "email": EMAIL},
                        signature=NAME, hashes=[{"pdq": picture_record(19)["pdq"]}])
    receipt = api.client.post("/v1/requests", json=body).json()
    if items:
        attached = api.post(f"/v1/requests/{receipt['id']}/items", "desk", json={"items": [
            {"item_id": f"post/{10 + n}", "hashes": picture_record(10 + n), "location": PLACES[n]}
            for n in range(items)]})
        assert attached.status_code == 201, attached.text
    return dict(receipt)


def _decide(api: Api, case: str, body: dict[str, Any]) -> Any:
    return api.client.post(f"/v1/requests/{case}/decision", json=body, headers=api.headers("desk"))


def _updates(api: Api) -> list[dict[str, str]]:
    with api.db.read() as session:
        return [json.loads(m.payload) | {"to": m.recipient} for m in session.scalars(
            select(OutboxMessage).where(OutboxMessage.type == "update").order_by(OutboxMessage.id))]


def _assert_tells_nothing_else(email: dict[str, str], token: str) -> None:
    text = email["subject"] + "\n" + email["body"]
    for secret in (*SECRETS, token):
        assert secret.lower() not in text.lower(), secret
    assert email["subject"] == "An update on your request"


def test_a_mixed_decision_email_lists_numbers_and_coded_reasons_only(api: Api) -> None:
    receipt = _case(api, items=3, places=4)
    decided = _decide(api, receipt["id"], {"items": [
        {"item_id": "post/10", "decision": "remove"},
        {"item_id": "post/11", "decision": "reject", "reason_code": "not_this_content", "reason": OWN_WORDS},
        {"item_id": "post/12", "decision": "reject", "reason": OWN_WORDS}]})
    assert decided.status_code == 200, decided.text
    assert decided.json()["decision"] == "partial"
    [email] = _updates(api)
    assert email["to"] == EMAIL
    body = email["body"]
    assert receipt["id"] in body and f"/status?case={receipt['id']}" in body
    assert "- Location 1: removed.\n" in body
    assert f"- {NOT_THIS}\n" in body
    assert "- Location 3: not removed: the reason is on your status page.\n" in body
    assert "- Location 4: nothing was found there to decide on.\n" in body
    assert "Location 5" not in body and "further cop" not in body
    _assert_tells_nothing_else(email, receipt["token"])

    # the status page, behind the code, has the code's sentence and the reviewer's own words
    own = api.client.get(f"/v1/requests/{receipt['id']}", headers={"X-Stanch-Token": receipt["token"]}).json()
    assert [(loc["reason_codes"], loc["reasons"]) for loc in own["locations"][:3]] == [
        ([], []), (["not_this_content"], [OWN_WORDS]), ([], [OWN_WORDS])]
    desk = api.client.get(f"/v1/requests/{receipt['id']}", headers=api.headers("desk")).json()
    assert [i["reason_code"] for i in desk["items"]] == [None, "not_this_content", None]
    assert [i["location_number"] for i in desk["items"]] == [1, 2, 3]  # the numbers her email uses
    with api.db.read() as session:
        events = [json.loads(e.details) for e in session.scalars(
            select(AuditEvent).where(AuditEvent.action == "item.decision").order_by(AuditEvent.seq))]
    assert [e["reason_code"] for e in events] == [None, "not_this_content", None]


def test_several_items_at_one_location_are_counted_and_a_code_alone_is_enough(api: Api) -> None:
    receipt = _case(api, items=0, places=1)
    assert api.post(f"/v1/requests/{receipt['id']}/items", "desk", json={"items": [
        {"item_id": f"post/{n}", "hashes": picture_record(40 + n), "location": PLACES[0]}
        for n in range(3)]}).status_code == 201
    decided = _decide(api, receipt["id"], {"items": [
        {"item_id": "post/0", "decision": "remove"},
        {"item_id": "post/1", "decision": "reject", "reason_code": "lawful"},
        {"item_id": "post/2", "decision": "reject", "reason_code": "not_found"}]})
    assert decided.status_code == 200, decided.text
    [email] = _updates(api)
    assert ("- Location 1: 1 of 3 items removed. 2 of 3 items not removed: after a careful look, we found "
            "that the law allows it to stay online; when we looked, there was nothing there to remove (it "
            "may already be gone).\n") in email["body"]
    _assert_tells_nothing_else(email, receipt["token"])
    with api.db.read() as session:
        assert [(d.reason, d.reason_code) for d in session.scalars(
            select(ItemDecision).order_by(ItemDecision.item_id))] == [
            (None, None), (None, "lawful"), (None, "not_found")]


def test_an_unknown_or_misplaced_code_is_a_422_naming_the_codes_allowed(api: Api) -> None:
    receipt = _case(api, items=2)
    allowed = ", ".join(REFUSAL_CODES)
    assert allowed == "not_found, not_this_content, not_intimate, lawful, more_information_needed, other"
    cases = [
        ({"item_id": "post/10", "decision": "reject", "reason_code": "spam", "reason": "x"},
         f"items[0] (post/10).reason_code must be one of {allowed}, not 'spam'"),
        ({"item_id": "post/10", "decision": "reject", "reason_code": ["lawful"]},
         f"must be one of {allowed}"),
        ({"item_id": "post/10", "decision": "remove", "reason_code": "lawful"}, "is for refusals only"),
        ({"item_id": "post/10", "decision": "reject", "reason_code": "other"},
         "reason_code other needs a reason in your own words"),
        ({"item_id": "post/10", "decision": "reject"}, f"give a reason_code, one of {allowed}, or a reason"),
    ]
    for item, words in cases:
        refused = _decide(api, receipt["id"], {"items": [item]})
        assert refused.status_code == 422, (item, refused.text)
        assert words in refused.json()["detail"], (words, refused.json()["detail"])
    with api.db.read() as session:
        assert session.scalars(select(ItemDecision)).all() == []
    assert _updates(api) == []


def test_the_whole_case_form_tells_every_location_the_same_way(api: Api) -> None:
    removed = _case(api, items=2)
    assert _decide(api, removed["id"], {"decision": "remove"}).status_code == 200
    rejected = _case(api, items=0, places=1)
    assert _decide(api, rejected["id"], {"decision": "reject", "reason": OWN_WORDS}).status_code == 200
    first, second = _updates(api)
    assert "- Location 1: removed.\n- Location 2: removed.\n" in first["body"]
    assert "Location 3" not in first["body"]
    assert "- Location 1: nothing was found there to decide on.\n" in second["body"]
    for email, receipt in ((first, removed), (second, rejected)):
        assert receipt["id"] in email["body"] and f"/status?case={receipt['id']}" in email["body"]
        _assert_tells_nothing_else(email, receipt["token"])
    partly = _case(api, items=2)
    _decide(api, partly["id"], {"items": [{"item_id": "post/10", "decision": "remove"}]})
    assert len(_updates(api)) == 2  # no email while items are still open
    assert _decide(api, partly["id"], {"decision": "reject", "reason": OWN_WORDS}).status_code == 200
    third = _updates(api)[2]["body"]
    assert "- Location 1: removed.\n- Location 2: not removed: the reason is on your status page.\n" in third


def test_the_whole_case_form_takes_a_reason_code_too(api: Api) -> None:
    receipt = _case(api, items=2)
    for body, words in (({"decision": "reject", "reason_code": "spam"},
                         "reason_code must be one of not_found"),
                        ({"decision": "remove", "reason_code": "lawful"}, "reason_code is for refusals only"),
                        ({"decision": "need_info", "reason": "x", "reason_code": "lawful"}, "refusals only"),
                        ({"decision": "reject", "reason_code": "other"}, "needs a reason in your own words"),
                        ({"decision": "reject"}, "a reason is required to reject")):
        refused = _decide(api, receipt["id"], body)
        assert refused.status_code == 422 and words in refused.json()["detail"], (body, refused.text)
    assert _decide(api, receipt["id"], {"decision": "reject", "reason_code": "not_found"}).status_code == 200
    [email] = _updates(api)
    assert ("- Location 1: not removed: when we looked, there was nothing there to remove (it may already "
            "be gone).\n- Location 2: not removed: when we looked") in email["body"]
    with api.db.read() as session:
        assert [d.reason_code for d in session.scalars(select(ItemDecision))] == ["not_found", "not_found"]


def test_a_copy_found_is_a_count_and_need_info_stays_neutral(api: Api) -> None:
    receipt = _case(api, items=1)
    copied = api.post(f"/v1/requests/{receipt['id']}/items", "desk", json={"items": [
        {"item_id": "copy/10", "hashes": picture_record(10), "copy": True}]})
    assert copied.status_code == 201, copied.text
    assert _decide(api, receipt["id"], {"decision": "need_info", "reason": OWN_WORDS}).status_code == 200
    assert "Location" not in _updates(api)[0]["body"]
    assert _decide(api, receipt["id"], {"decision": "remove"}).status_code == 200
    body = _updates(api)[1]["body"]
    assert "- Location 1: removed.\n- 1 further copy found and removed.\n" in body
    assert "copy/10" not in body


def test_an_appeal_that_puts_one_item_back_tells_the_requester_by_number(api: Api) -> None:
    receipt = _removed_case(api, [10, 11, 12])
    appeal = _appeal(api, item_id="post/11").json()["id"]
    assert _reinstate(api, appeal, _reviewer(api, "second")).status_code == 200
    emails = [e for e in _updates(api) if e["to"] == "alex@example.org"]
    assert len(emails) == 2  # the decision, then the appeal's outcome
    assert ("- Location 1: removed.\n- Location 2: removed, then put back after an appeal.\n"
            "- Location 3: removed.\n") in emails[1]["body"]
    assert "post/" not in emails[1]["body"] and "platform.example" not in emails[1]["body"]
    assert receipt["id"] in emails[1]["body"]
    [told] = [e for e in _updates(api) if e["to"] == "up@example.org"]
    assert appeal in told["body"] and "Where each item you named stands now" in told["body"]
    assert "- Item 1: removed, then put back after an appeal.\n" in told["body"]
    assert "Item 2" not in told["body"]
    assert "post/" not in told["body"] and "Uploader" not in told["body"]


def test_an_appeal_of_two_items_upheld_and_of_a_whole_case(api: Api) -> None:
    receipt = _removed_case(api, [10, 11, 12])
    named = _appeal(api, item_ids=["post/12", "post/10"]).json()
    whole = _appeal(api, case_id=receipt["id"]).json()["id"]
    second = _reviewer(api, "second")
    for appeal in (named["id"], whole):
        upheld = api.client.post(f"/v1/appeals/{appeal}/decision", headers=second,
                                 json={"decision": "uphold", "reason": "It is the requester."})
        assert upheld.status_code == 200, upheld.text
    by_appeal = {e["body"].split("your case ")[1].split(".")[0]: e["body"] for e in _updates(api)
                 if e["to"] == "up@example.org"}
    assert "- Item 1: removed.\n- Item 2: removed.\n" in by_appeal[named["id"]]
    assert "Item" not in by_appeal[whole] and "Location" not in by_appeal[whole]
    seen = api.client.get(f"/v1/appeals/{named['id']}", headers={"X-Stanch-Token": named["token"]}).json()
    assert seen["items"] == [{"item_id": "post/10", "state": "removed"},
                             {"item_id": "post/12", "state": "removed"}]
