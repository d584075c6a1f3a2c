"""/report's refusals in Debian's chromium, against the real server: a form sent half filled in comes back
with plain-language messages, a summary at the top listing each one as a link to its field (focused, so
a screen reader reads it first), one message for the unticked good-faith box, and what was typed kept.
Screenshots are kept when STANCH_SCREENSHOTS names a folder (tests/web/test_flow.py)."""

from __future__ import annotations

import pytest
from browser_harness import BrowserSession
from sqlalchemy import func, select

from stanch.store.desk_models import TakedownRequest
from tests.web.test_flow import PHONE, Server, screenshot, server  # noqa: F401

pytestmark = pytest.mark.browser

RAW_VALUES = ("'self'", "'authorised'", "must be true", "addresses is", "requester.", "good_faith")
"""How the API names fields and values, which the page must never show a person."""


def _requests(running: Server) -> int:
    with running.db.read() as session:
        return int(session.scalar(select(func.count(TakedownRequest.id))) or 0)


def test_a_half_filled_report_lists_its_problems_in_plain_words(
    browser: BrowserSession, server: Server  # noqa: F811
) -> None:
    before = _requests(server)
    context = browser.browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.goto(f"{server.url}/report")
    page.get_by_label("Your name").fill("Sam Example")
    page.get_by_role("button", name="Send my request").click()
    page.wait_for_selector("#form-problems")
    screenshot(page, "report-errors")

    summary = page.locator("#form-problems")
    assert page.evaluate("() => document.activeElement.id") == "form-problems"
    assert summary.get_attribute("role") == "alert"
    items = summary.locator("li a")
    texts = items.all_inner_texts()
    assert "The web addresses are missing" in " ".join(texts)
    assert any(text.startswith("Who is asking: choose") for text in texts)
    assert [text for text in texts if text.startswith("The statement")] == [
        "The statement: tick the box to confirm it in good faith (we cannot act without it)."]
    targets = items.evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert set(targets) >= {"#email", "#locations", "#signature", "#good_faith", "#relationship-self"}
    body = page.locator("main").inner_text()
    for raw in RAW_VALUES:
        assert raw not in body, raw
    assert page.locator("#good_faith-error p").count() == 1  # one box, one message
    assert page.get_by_label("Your name").input_value() == "Sam Example"

    summary.get_by_role("link", name="Your email address", exact=False).click()
    assert page.evaluate("() => document.activeElement.id") == "email"
    assert _requests(server) == before  # nothing was filed
    context.close()


def test_a_wrong_email_is_named_in_plain_words_and_the_rest_is_kept(
    browser: BrowserSession, server: Server  # noqa: F811
) -> None:
    before = _requests(server)
    context = browser.browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.goto(f"{server.url}/report")
    page.get_by_label("I am the person shown", exact=False).check()
    page.get_by_label("Your name").fill("Robin Example")
    page.get_by_label("Your email address").fill("robin at example")
    page.get_by_label("Web addresses (links) of the pictures or videos").fill("the second post on my wall")
    page.get_by_label("Type your full name as your signature").fill("Robin Example")
    page.get_by_role("button", name="Send my request").click()
    page.wait_for_selector("#form-problems")
    screenshot(page, "report-errors-email")

    texts = page.locator("#form-problems li a").all_inner_texts()
    assert "Your email address: 'robin at example' is not an email address such as name@example.org" in texts
    assert "addr-spec" not in " ".join(texts)  # the email parser's words, not a person's
    assert any(text.startswith("The statement: tick the box") for text in texts), texts
    assert len(texts) == 2  # who is asking, the name, the place and the signature were fine
    assert page.locator("#email").get_attribute("aria-invalid") == "true"
    assert page.get_by_label("I am the person shown", exact=False).is_checked()
    assert page.get_by_label("Your email address").input_value() == "robin at example"
    assert page.get_by_label("Web addresses (links) of the pictures or videos").input_value() == (
        "the second post on my wall")  # a description is a location too (when there is no link)
    body = page.locator("main").inner_text()
    for raw in RAW_VALUES:
        assert raw not in body, raw
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    assert _requests(server) == before
    context.close()
