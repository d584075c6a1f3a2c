"""The per-item forms without a browser (SQLite and PostgreSQL): the case page's item-by-item form (its
CSRF token, a refusal without reason coming back with what was typed), and the public appeal form
naming several items, one per line."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from stanch.clock import utcnow
from stanch.desk.cases import find_request
from stanch.desk.locate import LocatedItem, attach_item
from stanch.store import Database
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
    unknown = site.client.post("/appeal", data={
        "form_token": site.token("/appeal"), "item_id": "post/x\nnever-removed", "name": "Uploader",
        "email": "uploader@example.org", "statement": "Mine."})
    assert unknown.status_code == 404 and "no removal standing" in unknown.text
