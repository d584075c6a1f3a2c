"""Per-item decisions and per-item appeals in Debian's chromium against the real server: a reviewer removes
two items of a case and refuses the third with a reason picked from the list and words of their own, and
the person who asked reads which locations were removed and why the other was not (her email says it by
the location's number, with the picked reason only); an uploader appeals one item of a removed case on the
public form, a second reviewer puts it back, and the case page shows the other items still removed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from browser_harness import BrowserSession
from sqlalchemy import select

from stanch.clock import utcnow
from stanch.desk.cases import find_request
from stanch.desk.locate import LocatedItem, attach_item
from stanch.desk.users import create_user
from stanch.store.desk_models import RequestLocation
from stanch.store.outbox_models import OutboxMessage
from tests.desk.factory import picture_record
from tests.web import test_flow
from tests.web.test_flow import PASSWORD, Server, screenshot
from tests.web.test_pages import file_case

pytestmark = pytest.mark.browser

PLACES = ["https://example.org/post/a", "https://example.org/post/b", "https://example.org/post/c"]
REFUSAL = "This picture is a landscape with nobody in it."
DESK = {"width": 1200, "height": 900}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The journey's server (``tests.web.test_flow``): the real app under uvicorn, on a fresh SQLite file."""
    yield from test_flow.server.__wrapped__(tmp_path_factory)


def _case_with_items(server: Server, seed: int) -> tuple[str, str]:
    """A case with three located items (``item-<seed>-a``, ``-b``, ``-c``), one at each location."""
    receipt = file_case(server.db, email=f"robin{seed}@example.org", locations=PLACES)
    with server.db.write() as session:
        request = find_request(session, receipt.id)
        for n, place in enumerate(PLACES):
            attach_item(session, request, LocatedItem(f"item-{seed}-{'abc'[n]}", picture_record(seed + n)),
                        origin="located", actor="key:test", now=utcnow(), location=place)
        places = select(RequestLocation).where(RequestLocation.request_id == request.id)
        for location in session.scalars(places):
            location.state = "located"  # as the resolver marks it
    return receipt.id, receipt.token


def _updates(server: Server, recipient: str) -> list[OutboxMessage]:
    """The update emails queued so far for ``recipient``: the module's server is shared, so another
    test's case may have queued its own, whichever order the tests run in."""
    with server.db.read() as session:
        return list(session.scalars(select(OutboxMessage).where(
            OutboxMessage.type == "update", OutboxMessage.recipient == recipient)))


def _sign_in(browser: BrowserSession, server: Server, email: str) -> Any:
    context = browser.browser.new_context(viewport=DESK)
    page = context.new_page()
    page.goto(f"{server.url}/desk")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Queue").wait_for()
    return page


def _reviewer(server: Server, email: str) -> str:
    with server.db.write() as session:
        create_user(session, email, "reviewer", PASSWORD)
    return email


def _item_figures(page: Any, server: Server) -> list[int]:
    """The transparency page's item counts this month: removed, refused, put back after an appeal."""
    page.goto(f"{server.url}/transparency")
    return [int(c) for c in page.locator("#item-figures tbody tr").last.locator("td").all_inner_texts()]


def test_remove_two_refuse_one_and_the_requester_reads_which(browser: BrowserSession, server: Server) -> None:
    case, token = _case_with_items(server, 100)
    page = _sign_in(browser, server, _reviewer(server, "items-one@example.org"))
    before = _item_figures(page, server)  # the module's server is shared: other tests' cases count too
    page.goto(f"{server.url}/desk/cases/{case}")
    form = page.locator("#items-form")
    form.get_by_label("Decision for item-100-a").select_option("remove")
    form.get_by_label("Decision for item-100-b").select_option("remove")
    form.get_by_label("Decision for item-100-c").select_option("reject")
    form.get_by_role("button", name="Record these item decisions").click()
    page.get_by_text("a reason is required to reject an item").wait_for()  # refused, the choices kept
    assert form.get_by_label("Decision for item-100-a").input_value() == "remove"
    form.get_by_label("Why refused: item-100-c").select_option(label="Not intimate imagery")
    form.get_by_label("Reason for item-100-c").fill(REFUSAL)
    form.get_by_role("button", name="Record these item decisions").click()
    page.get_by_text("Decided. The removed items went out").wait_for()
    screenshot(page, "items-decided")
    captions = page.locator("figcaption").all_inner_texts()
    assert any("item-100-a" in c and "removed" in c for c in captions)
    assert any("item-100-c" in c and "refused" in c and "Not intimate imagery" in c and REFUSAL in c
               for c in captions)
    assert "Removed in part" in page.locator("main").inner_text()
    page.context.close()

    person = browser.browser.new_context(viewport={"width": 390, "height": 844})
    page = person.new_page()
    page.goto(f"{server.url}/status")
    page.get_by_label("Case number").fill(case)
    page.get_by_label("Secret code").fill(token)
    page.get_by_role("button", name="Show my request").click()
    assert page.locator("#state").inner_text() == "Removed"
    rows = page.locator("#locations > li").all_inner_texts()
    assert PLACES[0] in rows[0] and "Removed." in rows[0] and "Not removed" not in rows[0]
    assert PLACES[1] in rows[1] and "Removed." in rows[1]
    assert PLACES[2] in rows[2] and "Not removed." in rows[2] and REFUSAL in rows[2]
    assert rows[2].startswith("Location 3:") and "not the kind of content this service can remove" in rows[2]
    [email] = [json.loads(m.payload)["body"] for m in _updates(server, "robin100@example.org")]
    assert "- Location 3: not removed: what we found there is not the kind of content" in email
    assert REFUSAL not in email and "example.org/post" not in email
    assert "item-100" not in page.locator("main").inner_text()  # never an item's id
    screenshot(page, "items-status")
    after = _item_figures(page, server)
    assert [a - b for a, b in zip(after, before, strict=True)] == [2, 1, 0]
    person.close()


def test_an_appeal_of_one_item_leaves_the_others_removed(browser: BrowserSession, server: Server) -> None:
    case, _ = _case_with_items(server, 200)
    page = _sign_in(browser, server, _reviewer(server, "appeal-one@example.org"))
    page.goto(f"{server.url}/desk/cases/{case}")
    page.get_by_label("Remove the content and every copy found").check()
    page.get_by_role("button", name="Record decision").click()
    page.get_by_text("Removed. The removal went out").wait_for()
    page.context.close()

    uploader = browser.browser.new_context(viewport={"width": 390, "height": 844})
    page = uploader.new_page()
    page.goto(f"{server.url}/appeal")
    page.get_by_label("The item's id or address", exact=False).fill("item-200-b")
    page.get_by_label("Your name").fill("Sam Uploader")
    page.get_by_label("Your email address").fill("sam@example.org")
    page.get_by_label("Why should it be put back?").fill("This is my own landscape photograph.")
    page.get_by_role("button", name="Send my appeal").click()
    appeal = page.locator("#appeal-id").inner_text()
    assert appeal.startswith("APL-")
    uploader.close()

    page = _sign_in(browser, server, _reviewer(server, "appeal-two@example.org"))
    page.goto(f"{server.url}/desk/appeals/{appeal}")
    assert page.locator("#appealed-items").inner_text().strip() == "item-200-b — removed"
    screenshot(page, "appeal-item")
    page.get_by_label("Reinstate the item named").check()
    page.get_by_label("Reason (the person who appealed is told it)").fill("The uploader took it himself.")
    page.get_by_role("button", name="Record decision").click()
    page.get_by_text("Decided. The person who appealed will be told.").wait_for()
    assert page.locator("#appealed-items").inner_text().strip() == "item-200-b — put back"
    page.get_by_role("link", name=case).click()
    page.get_by_role("heading", name=f"Case {case}").wait_for()
    screenshot(page, "appeal-case")
    captions = {c.split(" — ")[0].strip(): c for c in page.locator("figcaption").all_inner_texts()}
    assert "removed" in captions["item-200-a"] and "removed" in captions["item-200-c"]
    assert "put back" in captions["item-200-b"] and appeal in captions["item-200-b"]
    assert page.locator("dd").first.inner_text() == "Removed"
    page.context.close()
