"""The minors route in Debian's chromium against the real server: a requester ticks "under 18" on
/report and is pointed to Take It Down; the case heads the desk's queue, flagged and escalated; an admin
finds no unblur control and no preview on it, and the preview and unblur routes refuse (403), while an
adult's case with the same picture still has its blurred preview and unblur control."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from browser_harness import BrowserSession

from stanch.desk.cases import find_request
from stanch.desk.locate import LocatedItem, attach_item, hash_bytes
from stanch.desk.users import create_user
from stanch.store.models import utcnow
from tests.web.test_flow import PHONE, Server, screenshot, server  # noqa: F401
from tests.web.test_pages import file_case, picture_bytes

pytestmark = pytest.mark.browser

ADMIN, PASSWORD = "admin-minors@example.org", "admin password for the minors route"


def _attach(server: Server, case: str, item: str, media: bytes) -> None:  # noqa: F811
    with server.db.write() as session:
        attach_item(session, find_request(session, case), LocatedItem(item, hash_bytes(media)),
                    origin="located", actor="system", now=utcnow())


def test_a_minors_case_is_escalated_and_never_shown(browser: BrowserSession, server: Server,  # noqa: F811
                                                   tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    media = picture_bytes(5)
    (tmp_path / "post-9.png").write_bytes(media)
    monkeypatch.setenv("STANCH_CATALOG_DIR", str(tmp_path))
    with server.db.write() as session:
        create_user(session, ADMIN, "admin", PASSWORD)
    adult = file_case(server.db, hours_ago=40, locations=["post-9.png"])
    _attach(server, adult.id, "post-9.png", media)

    context = browser.browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.goto(f"{server.url}/report")
    page.get_by_label("I am the person shown").check()
    page.get_by_label("The person shown was under 18", exact=False).check()
    assert page.locator("#take-it-down").inner_text() == "takeitdown.ncmec.org"
    page.get_by_label("Your name").fill("Sky Example")
    page.get_by_label("Your email address").fill("sky@example.org")
    page.get_by_label("Web addresses (links) of the pictures or videos").fill("post-9.png")
    page.get_by_label("I state in good faith", exact=False).check()
    page.get_by_label("Type your full name as your signature").fill("Sky Example")
    screenshot(page, "minor-report")
    page.get_by_role("button", name="Send my request").click()
    help_panel = page.locator("#minor-help")
    help_panel.wait_for()
    assert "takeitdown.ncmec.org" in help_panel.inner_text() and "under 18" in help_panel.inner_text()
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    case = page.locator("#case-id").inner_text()
    screenshot(page, "minor-receipt")
    context.close()
    _attach(server, case, "post-9.png", media)  # as the catalog resolver would (idempotent)

    desk = browser.browser.new_context(viewport={"width": 1200, "height": 900})
    page = desk.new_page()
    page.goto(f"{server.url}/desk")
    page.get_by_label("Email address").fill(ADMIN)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    first = page.locator("#queue tbody tr").first
    assert first.locator("a").inner_text() == case and "Under 18: escalated" in first.inner_text()
    screenshot(page, "minor-queue")

    page.goto(f"{server.url}/desk/cases/{adult.id}")
    assert page.get_by_role("button", name="Unblur post-9.png").count() == 1
    assert page.locator("img.blurred").count() == 1

    first_case = page.goto(f"{server.url}/desk/cases/{case}")
    assert first_case is not None and first_case.status == 200
    assert page.locator("#minor-flag").is_visible() and page.locator("#reporting-duty").is_visible()
    assert "2258A" in page.locator("#reporting-duty").inner_text()
    assert page.get_by_role("button", name=re.compile("Unblur")).count() == 0
    assert page.locator("form[action$='/unblur']").count() == 0
    assert page.locator("img").count() == 0
    assert "never shown" in page.content()
    screenshot(page, "minor-case")

    csrf = page.evaluate("() => document.querySelector('input[name=csrf]').value")
    preview = page.request.get(f"{server.url}/desk/cases/{case}/preview?item=post-9.png")
    assert preview.status == 403 and preview.body() == b""
    unblur = page.request.post(f"{server.url}/desk/cases/{case}/unblur",
                               form={"item": "post-9.png", "csrf": csrf})
    assert unblur.status == 403 and b"data:image" not in unblur.body()
    export = page.request.get(f"{server.url}/desk/cases/{case}/minor-report")
    assert export.status == 200
    assert b"Sky Example" not in export.body() and b"sky@example.org" not in export.body()
    desk.close()
