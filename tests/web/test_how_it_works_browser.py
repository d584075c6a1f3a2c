"""The notice page in Debian's chromium, on a phone-sized screen: reached from /report by its link,
readable without sideways scrolling, loading nothing from other sites, every link reachable by keyboard."""

from __future__ import annotations

from typing import Any

import pytest
from browser_harness import BrowserSession

from tests.web.test_flow import PHONE, Server, server  # noqa: F401

pytestmark = pytest.mark.browser


def test_the_notice_is_reached_from_report_and_fits_a_phone(browser: BrowserSession,
                                                            server: Server) -> None:  # noqa: F811
    context = browser.browser.new_context(viewport=PHONE)
    page = context.new_page()
    outside: list[str] = []
    page.on("request", lambda request: outside.append(request.url)
            if not request.url.startswith(server.url) else None)
    page.goto(f"{server.url}/report")
    page.click("#how-it-works")
    page.wait_for_url(f"{server.url}/how-it-works")
    assert page.get_by_role("heading", name="How removal requests work").is_visible()
    assert page.get_by_role("heading", name="Within 48 hours").is_visible()
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    reached: list[dict[str, Any]] = []
    for _ in range(20):
        page.keyboard.press("Tab")
        reached.append(page.evaluate("() => ({id: document.activeElement.id,"
                                     " href: document.activeElement.getAttribute('href')})"))
    hrefs = {entry["href"] for entry in reached}
    assert {"/report", "/status", "/appeal", "/how-it-works"} <= hrefs
    assert outside == []
    context.close()
