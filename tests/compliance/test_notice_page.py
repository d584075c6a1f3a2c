"""The public notice of the removal process (/how-it-works), through FastAPI's test client: what it
says, the platform's name and contact from settings, and the links to it from /report and the footer."""

from __future__ import annotations

import re

import pytest

from tests.web.test_pages import Site, cheap_password_hashes, site  # noqa: F401


def test_the_notice_says_what_a_request_needs_and_what_happens(site: Site,  # noqa: F811
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STANCH_PLATFORM_CONTACT", "safety@platform.example")
    page = site.client.get("/how-it-works")
    assert page.status_code == 200
    text = re.sub(r"<[^>]+>", " ", page.text)
    for said in ("Where the content is", "Who is asking", "good faith", "signature", "email address",
                 "48 hours", "fingerprint", "cannot be rebuilt", "withdraw", "appeal",
                 "secret code cannot be", "safety@platform.example"):
        assert said in text, said
    for link in ('href="/report"', 'href="/status"', 'href="/appeal"'):
        assert link in page.text
    assert not re.search(r'(src|href)="(https?:)?//', page.text)


def test_the_notice_is_linked_from_the_report_page_and_every_public_footer(site: Site) -> None:  # noqa: F811
    for path in ("/report", "/status", "/appeal", "/how-it-works"):
        footer = site.client.get(path).text.split('<footer class="site">')[1]
        assert 'href="/how-it-works"' in footer, path
    report = site.client.get("/report").text.split('<footer class="site">')[0]
    assert 'id="how-it-works" href' in report or 'href="/how-it-works" id="how-it-works"' in report


def test_without_a_contact_setting_the_page_names_the_platform_only(site: Site,  # noqa: F811
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STANCH_PLATFORM_CONTACT", raising=False)
    page = site.client.get("/how-it-works").text
    assert "platform-contact" not in page and "run by <strong>" in page
