"""Statements on the pages: the case page lists them after a removal, the appeal page accepts one's
number (SQLite and PostgreSQL, through FastAPI's test client)."""

from __future__ import annotations

import re

from sqlalchemy import select

from stanch.desk.cases import find_request
from stanch.desk.locate import LocatedItem, attach_item
from stanch.store.compliance_models import Statement
from stanch.store.models import utcnow
from tests.web.test_pages import Site, cheap_password_hashes, file_case, site  # noqa: F401


def test_the_case_page_shows_statements_and_the_appeal_page_takes_their_number(site: Site) -> None:  # noqa: F811
    receipt = file_case(site.db)
    with site.db.write() as session:
        attach_item(session, find_request(session, receipt.id), LocatedItem("post-41", {"pdq": "f" * 64}),
                    origin="located", actor="system", now=utcnow())
    site.sign_in("reviewer@example.org")
    path = f"/desk/cases/{receipt.id}"
    site.client.post(f"{path}/decision", data={"decision": "remove", "csrf": site.csrf(path)})
    with site.db.read() as session:
        number = session.scalars(select(Statement.public_id)).one()
    page = site.client.get(path).text
    assert "Statements of reasons" in page and number in page and "post-41" in page

    filed = site.client.post("/appeal", data={
        "form_token": site.token("/appeal"), "case_id": number, "name": "Uploader",
        "email": "uploader@example.org", "statement": "This is my picture, posted with consent.",
    })
    assert filed.status_code == 200 and re.search(r'id="appeal-id">APL-', filed.text)
