"""The per-item forms without a browser (SQLite and PostgreSQL): the case page's item-by-item form (its
CSRF token, a refusal without reason coming back with what was typed, a refusal reason picked from the
list reaching the requester's email by location number and her numbered status page), and the public
appeal form naming several items, one per line (numbered on the appeal's status page, as its email
numbers them)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from stanch.clock import utcnow
from stanch.desk.cases import find_request
from stanch.desk.locate import LocatedItem, attach_item
from stanch.store import Database
from stanch.store.decision_models import ItemDecision
from stanch.store.outbox_models import OutboxMessage
from tests.desk.factory import picture_record
from tests.web import test_pages
from tests.web.test_pages import Site, file_case

PLACES = ["https://example.org/post/x", "https://example.org/post/y"]


@pytest.fixture
def site(database: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Site]:
    """The public site and the desk (``tests.web.test_pages``), a reviewer and an admin signed up."""
    yield from test_pages.site.__wrapped__(database, monkeypatch, tmp_path)


def _case(site: Site) -> str:
    receipt = file_case(site.db, locations=PLACES)
    with site.db.write() as session:
        request = find_request(session, receipt.id)
        for n, place in enumerate(PLACES):
            attach_item(session, request, LocatedItem(f"post/{'xy'[n]}", picture_record(120 + n)),
                        origin="located", actor="key:test", now=utcnow(), location=place)
    return receipt.id


def test_the_item_form_keeps_what_was_typed_when_refused(site: Site) -> None:
    case = _case(site)
    site.sign_in("reviewer@example.org")
    path = f"/desk/cases/{case}"
    form = {"item-0": "post/x", "decision-0": "remove", "item-1": "post/y", "decision-1": "reject",
            "reason-1": ""}
    stale = site.client.post(f"{path}/items", data={**form, "csrf": "not the token"})
    assert stale.status_code == 403
    refused = site.client.post(f"{path}/items", data={**form, "csrf": site.csrf(path)})
    assert refused.status_code == 422 and "a reason is required to reject an item" in refused.text
    assert re.search(r'name="decision-0"[^>]*>.*?<option value="remove" selected>', refused.text, re.S)
    nothing = site.client.post(f"{path}/items", data={"item-0": "post/x", "decision-0": "",
                                                      "csrf": site.csrf(path)})
    assert nothing.status_code == 422 and "at least one item" in nothing.text
    done = site.client.post(f"{path}/items", data={**form, "reason-1": "Not her.", "csrf": site.csrf(path)})
    assert done.status_code == 200 and "Decided. The removed items went out" in done.text
    assert "refused</strong>: Not her." in done.text and 'id="items-form"' not in done.text


def test_the_item_form_sends_the_refusal_reason_picked(site: Site) -> None:
    receipt = file_case(site.db, locations=PLACES)
    with site.db.write() as session:
        request = find_request(session, receipt.id)
        for n, place in enumerate(PLACES):
            attach_item(session, request, LocatedItem(f"post/{'xy'[n]}", picture_record(120 + n)),
                        origin="located", actor="key:test", now=utcnow(), location=place)
    site.sign_in("reviewer@example.org")
    path = f"/desk/cases/{receipt.id}"
    page = site.client.get(path).text
    assert '<option value="not_intimate">Not intimate imagery</option>' in page
    assert "post/y (location 2)" in page and "Location 2: https://example.org/post/y" in page
    form = {"item-0": "post/x", "decision-0": "remove", "code-0": "", "reason-0": "", "item-1": "post/y",
            "decision-1": "reject", "code-1": "bogus", "reason-1": ""}
    wrong = site.client.post(f"{path}/items", data={**form, "csrf": site.csrf(path)})
    assert wrong.status_code == 422 and "reason_code must be one of not_found, not_this_content" in wrong.text
    done = site.client.post(f"{path}/items", data={**form, "code-1": "not_intimate", "csrf": site.csrf(path)})
    assert done.status_code == 200 and "refused</strong>: Not intimate imagery" in done.text
    with site.db.read() as session:
        assert [(d.decision, d.reason, d.reason_code) for d in session.scalars(
            select(ItemDecision).order_by(ItemDecision.item_id))] == [
            ("remove", None, None), ("reject", None, "not_intimate")]
        [update] = [json.loads(m.payload)["body"] for m in session.scalars(
            select(OutboxMessage).where(OutboxMessage.type == "update"))]
    assert ("- Location 1: removed.\n- Location 2: not removed: what we found there is not the kind of "
            "content this service can remove.\n") in update
    assert "example.org/post" not in update and "intimate" not in update
    status = site.client.post("/status", data={"form_token": site.token("/status"), "case": receipt.id,
                                               "token": receipt.token}).text
    assert re.search(r"<strong>Location 2:</strong> https://example.org/post/y.*?Not removed\..*?"
                     r"<strong>Reason:</strong> What we found there is not the kind of content", status, re.S)


def test_an_appeal_names_several_items_one_per_line(site: Site) -> None:
    case = _case(site)
    site.sign_in("reviewer@example.org")
    path = f"/desk/cases/{case}"
    site.client.post(f"{path}/decision", data={"decision": "remove", "csrf": site.csrf(path)})
    filed = site.client.post("/appeal", data={
        "form_token": site.token("/appeal"), "item_id": "post/x\r\n post/y \r\n", "name": "Uploader",
        "email": "uploader@example.org", "statement": "Both are my own pictures."})
    assert filed.status_code == 200, filed.text
    number = re.search(r'id="appeal-id">([^<]+)<', filed.text)
    assert number
    page = site.client.get(f"/desk/appeals/{number.group(1)}").text
    assert re.findall(r"<li>(post/[xy]) — removed</li>", page) == ["post/x", "post/y"]
    code = re.search(r'id="appeal-token">([^<]+)<', filed.text)
    assert code
    own = site.client.post("/status", data={"form_token": site.token("/status"), "case": number.group(1),
                                            "token": code.group(1)}).text
    assert re.findall(r"<strong>Item (\d):</strong> (post/[xy]) — removed", own) == [("1", "post/x"),
                                                                                   ("2", "post/y")]
    unknown = site.client.post("/appeal", data={
        "form_token": site.token("/appeal"), "item_id": "post/x\nnever-removed", "name": "Uploader",
        "email": "uploader@example.org", "statement": "Mine."})
    assert unknown.status_code == 404 and "no removal standing" in unknown.text
