"""Statements on the pages: the case page lists them after a removal, the appeal page accepts one's
number, admins see the refused ones on /desk/dsa (SQLite and PostgreSQL, through FastAPI's test client)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from stanch.desk.audit import events
from stanch.desk.cases import find_request
from stanch.desk.dsa import queue_batches
from stanch.desk.locate import LocatedItem, attach_item
from stanch.store.compliance_models import Statement
from stanch.store.models import utcnow
from tests.web.test_pages import Site, cheap_password_hashes, file_case, site  # noqa: F401


def _removed_on_the_desk(site: Site, item_id: str) -> str:  # noqa: F811
    """A case with one located item, removed by a reviewer through the case page; its path."""
    receipt = file_case(site.db)
    with site.db.write() as session:
        attach_item(session, find_request(session, receipt.id), LocatedItem(item_id, {"pdq": "f" * 64}),
                    origin="located", actor="system", now=utcnow())
    site.sign_in("reviewer@example.org")
    path = f"/desk/cases/{receipt.id}"
    site.client.post(f"{path}/decision", data={"decision": "remove", "csrf": site.csrf(path)})
    return path


def test_the_case_page_shows_statements_and_the_appeal_page_takes_their_number(site: Site) -> None:  # noqa: F811
    path = _removed_on_the_desk(site, "post-41")
    with site.db.read() as session:
        number = session.scalars(select(Statement.public_id)).one()
    page = site.client.get(path).text
    assert "Statements of reasons" in page and number in page and "post-41" in page

    filed = site.client.post("/appeal", data={
        "form_token": site.token("/appeal"), "case_id": number, "name": "Uploader",
        "email": "uploader@example.org", "statement": "This is my picture, posted with consent.",
    })
    assert filed.status_code == 200 and re.search(r'id="appeal-id">APL-', filed.text)


def test_admins_see_refused_statements_on_the_dsa_page(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    monkeypatch.setenv("STANCH_DSA_TDB_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("STANCH_DSA_TDB_TOKEN", "t")
    _removed_on_the_desk(site, "p/41")
    assert site.client.get("/desk/dsa").status_code == 403
    site.client.post("/desk/sign-out", data={"csrf": site.csrf()})
    with site.db.write() as session:
        queue_batches(session, utcnow())
    site.sign_in("admin@example.org")
    page = site.client.get("/desk/dsa")
    assert page.status_code == 200 and "p/41" in page.text and "not a valid PUID" in page.text
    with site.db.read() as session:
        assert [e.action for e in events(session) if e.action == "dsa.view"] == ["dsa.view"]
