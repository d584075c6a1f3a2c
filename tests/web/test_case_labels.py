"""The case page speaks to a reviewer in words (no ``remove``, ``in_review`` or ``user:…``), and a
refused decision comes back with the option and the reason the reviewer had chosen."""

from __future__ import annotations

import re

from tests.web.test_pages import Site, cheap_password_hashes, file_case, site  # noqa: F401 (fixtures)


def _decision_form(page: str) -> str:
    found = re.search(r'<form method="post" action="[^"]*/decision".*?</form>', page, re.S)
    return found.group(0) if found else ""


def test_a_refused_decision_keeps_the_chosen_option_and_reason(site: Site) -> None:  # noqa: F811
    receipt = file_case(site.db)
    site.sign_in("reviewer@example.org")
    path = f"/desk/cases/{receipt.id}"
    refused = site.client.post(f"{path}/decision", data={"decision": "need_info", "reason": " ",
                                                        "csrf": site.csrf(path)})
    assert refused.status_code == 422
    form = _decision_form(refused.text)
    assert re.search(r'value="need_info"[^>]* checked', form)
    assert not re.search(r'value="(remove|reject)"[^>]* checked', form)
    typed = "Which post is it? Please send the address of the second one"
    again = site.client.post(f"{path}/decision", data={"decision": "", "reason": typed,
                                                      "csrf": site.csrf(path)})  # no option chosen
    assert again.status_code == 422
    assert f">{typed}</textarea>" in _decision_form(again.text)
    fresh = site.client.get(path).text
    assert " checked" not in _decision_form(fresh) and typed not in fresh


def test_the_case_page_shows_labels_not_stored_values(site: Site) -> None:  # noqa: F811
    receipt = file_case(site.db)
    site.sign_in("reviewer@example.org")
    path = f"/desk/cases/{receipt.id}"
    page = site.client.get(path).text
    assert "<dd>In review</dd>" in page or "<dd>Received</dd>" in page
    assert "not looked up yet" in page and " — pending" not in page
    done = site.client.post(f"{path}/decision", data={"decision": "remove", "csrf": site.csrf(path)}).text
    decided = done[done.index("<h2>Decision</h2>"):]
    assert "<p>Removed" in decided and "<p>remove" not in decided
    assert "By reviewer@example.org on" in decided and "user:" not in decided
