"""The minors route (SQLite and PostgreSQL): ``under_18`` on a request gives it its own clock and an
escalation on receipt, banks its hashes in a bank of kind ``minor``, shows nothing of it to anyone on the
desk (no unblur control, the preview and unblur routes refuse, admins too), states the reporting duty and
exports what Stanch knows for the platform's report (audited, no media, nothing about the requester)."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from stanch.actions import SettingsError
from stanch.desk.audit import events
from stanch.desk.cases import find_request
from stanch.desk.clock import deadline_for, escalate, minor_deadline
from stanch.desk.decisions import decide
from stanch.desk.dsa import queue_batches
from stanch.desk.intake import InvalidRequest, file_request, validate
from stanch.desk.locate import LocatedItem, attach_item, hash_bytes
from stanch.desk.spool import preview_source
from stanch.store import Database, create_bank, utcnow
from stanch.store.desk_models import RequestEscalation, RequestItem
from stanch.store.models import Bank, Entry
from stanch.store.outbox_models import OutboxMessage
from tests.api.conftest import Api, api  # noqa: F401
from tests.api.test_api_match import NEAR, PDQ, add, match
from tests.desk.factory import request_body
from tests.web.test_pages import Site, cheap_password_hashes, picture_bytes, site  # noqa: F401

REQUESTER = {"name": "Kit Brambleworth", "email": "kit.bramble@example.org"}
PERSONAL = ("Brambleworth", "kit.bramble", "published without my consent")


def _file(database: Database, *, minor: bool = True, hours_ago: float = 0, locations: list[str] | None = None
          ) -> str:
    body = request_body(requester=REQUESTER, under_18=minor, locations=locations or ["post-7.png"])
    with database.write() as session:
        receipt, _ = file_request(session, validate(body), now=utcnow() - timedelta(hours=hours_ago))
    return receipt.id


def test_under_18_must_be_true_or_false_and_defaults_to_no() -> None:
    assert validate(request_body()).under_18 is False
    with pytest.raises(InvalidRequest) as problems:
        validate(request_body(under_18="yes"))
    assert any(p.startswith("under_18 must be true or false") for p in problems.value.problems)


def test_the_minor_clock_is_shorter_than_48_hours_and_its_setting_is_checked(
        monkeypatch: pytest.MonkeyPatch) -> None:
    now = utcnow()
    assert deadline_for(now, minor=True) - now == timedelta(hours=24)
    monkeypatch.setenv("STANCH_MINOR_DEADLINE_HOURS", "6")
    assert minor_deadline() == timedelta(hours=6)
    for wrong in ("48", "0", "twelve", "-3"):
        with pytest.raises(SettingsError, match="STANCH_MINOR_DEADLINE_HOURS"):
            minor_deadline({"STANCH_MINOR_DEADLINE_HOURS": wrong})


def test_a_minors_case_is_flagged_escalated_on_receipt_and_again_on_its_own_clock(
        database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STANCH_DESK_EMAIL", "team@example.org")
    case, adult = _file(database), _file(database, minor=False)
    with database.read() as session:
        request = find_request(session, case)
        assert request.minor and request.deadline - request.received_at == timedelta(hours=24)
        assert not find_request(session, adult).minor
        rows = session.scalars(select(RequestEscalation.hours)
                               .where(RequestEscalation.request_id == request.id))
        assert list(rows) == [0]
        mails = list(session.scalars(select(OutboxMessage).where(
            OutboxMessage.kind == "email", OutboxMessage.recipient == "team@example.org")))
        assert [m.type for m in mails] == ["escalation"]
        assert case in json.loads(mails[0].payload)["body"]
        escalated = [e for e in events(session, subject=("request", case)) if e.action == "request.escalated"]
        assert len(escalated) == 1 and '"hours":0' in escalated[0].details
    with database.write() as session:
        later = find_request(session, case).received_at + timedelta(hours=13)
        new = escalate(session, later)
    assert [(e.request, e.hours) for e in new] == [(case, 12)]
    with database.write() as session:
        assert [(e.request, e.hours) for e in escalate(session, later + timedelta(hours=6))] == [(case, 18)]


def test_a_removed_minors_case_is_banked_in_the_minor_bank_only(database: Database) -> None:
    case = _file(database)
    with database.write() as session:
        request = find_request(session, case)
        attach_item(session, request, LocatedItem("post-7.png", {"pdq": "e" * 64}), origin="located",
                    actor="system", now=utcnow())
        result = decide(session, request, "remove", None, actor="user:reviewer", now=utcnow())
    with database.read() as session:
        banks = {b.id: b for b in session.scalars(select(Bank))}
        assert {b.name: b.kind for b in banks.values()} == {"minors": "minor"}
        entries = list(session.scalars(select(Entry).where(Entry.id.in_(result.entries))))
        assert len(entries) == 2 and {banks[e.bank_id].name for e in entries} == {"minors"}


def test_the_minor_bank_setting_must_name_a_bank_of_kind_minor(
        database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STANCH_MINOR_BANK", "general")
    case = _file(database)
    with database.write() as session:
        create_bank(session, "general")
    with pytest.raises(ValueError, match="kind 'minor'"), database.write() as session:
        decide(session, find_request(session, case), "remove", None, actor="user:reviewer", now=utcnow())


def test_nothing_of_a_minors_case_is_spooled(database: Database, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STANCH_SPOOL_DIR", str(tmp_path / "spool"))
    case = _file(database)
    with database.write() as session:
        row = attach_item(session, find_request(session, case),
                          LocatedItem("remote-1", {"pdq": "f" * 64}, preview_source(picture_bytes())),
                          origin="located", actor="system", now=utcnow())
        assert row.spool_id is None
    assert not (tmp_path / "spool").exists() or not any((tmp_path / "spool").iterdir())


def _minor_case_with_media(site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:  # noqa: F811
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    media = picture_bytes()
    (catalog / "post-7.png").write_bytes(media)
    monkeypatch.setenv("STANCH_CATALOG_DIR", str(catalog))
    case = _file(site.db)
    with site.db.write() as session:
        attach_item(session, find_request(session, case), LocatedItem("post-7.png", hash_bytes(media)),
                    origin="located", actor="system", now=utcnow())
    return case


@pytest.mark.parametrize("who", ["reviewer@example.org", "admin@example.org"])
def test_no_one_sees_a_minors_pictures_on_the_desk(site: Site, tmp_path: Path,  # noqa: F811
                                                   monkeypatch: pytest.MonkeyPatch, who: str) -> None:
    case = _minor_case_with_media(site, tmp_path, monkeypatch)
    site.sign_in(who)
    page = site.client.get(f"/desk/cases/{case}").text
    assert "Under 18 when made" in page and "2258A" in page and f"/desk/cases/{case}/minor-report" in page
    assert "/unblur" not in page and "Unblur" not in page and "/preview?" not in page
    assert "data:image" not in page and "never shown" in page
    preview = site.client.get(f"/desk/cases/{case}/preview", params={"item": "post-7.png"})
    assert preview.status_code == 403 and preview.content == b""
    unblur = site.client.post(f"/desk/cases/{case}/unblur", data={"item": "post-7.png", "csrf": site.csrf()})
    assert unblur.status_code == 403 and "data:image" not in unblur.text
    with site.db.read() as session:
        assert not [e for e in events(session, subject=("request", case)) if e.action == "item.unblur"]


def test_the_queue_puts_a_minors_case_first_marked_escalated(site: Site) -> None:  # noqa: F811
    _file(site.db, minor=False, hours_ago=30, locations=["https://example.org/a"])
    case = _file(site.db)
    site.sign_in("reviewer@example.org")
    page = site.client.get("/desk").text
    rows = re.findall(r'<a href="/desk/cases/([^"]+)">', page)
    assert rows[0] == case and "Under 18: escalated" in page


def test_the_export_is_audited_and_holds_no_media_and_nothing_of_the_requester(
        site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    case = _minor_case_with_media(site, tmp_path, monkeypatch)
    site.sign_in("reviewer@example.org")
    answer = site.client.get(f"/desk/cases/{case}/minor-report")
    assert answer.status_code == 200 and "attachment" in answer.headers["content-disposition"]
    export = answer.json()
    assert export["sent_by_stanch"] is False and "2258A" in export["reporting_duty"]
    assert export["case"]["id"] == case and export["case"]["under_18_when_made"] is True
    assert export["reported_locations"] == ["post-7.png"]
    assert export["items"][0]["item_id"] == "post-7.png" and "md5" in export["items"][0]["hashes"]
    for personal in PERSONAL:
        assert personal.lower() not in answer.text.lower(), personal
    assert "base64" not in answer.text and "data:image" not in answer.text
    with site.db.read() as session:
        exports = [e for e in events(session, subject=("request", case))
                   if e.action == "request.minor_export"]
        assert len(exports) == 1 and exports[0].actor == "user:reviewer@example.org"
    adult = _file(site.db, minor=False, locations=["https://example.org/b"])
    assert site.client.get(f"/desk/cases/{adult}/minor-report").status_code == 404


def test_the_api_asks_under_18_answers_with_help_and_exports_for_desk_keys(api: Api) -> None:  # noqa: F811
    filed = api.client.post("/v1/requests", json=request_body(requester=REQUESTER, under_18=True))
    assert filed.status_code == 201, filed.text
    receipt = filed.json()
    assert receipt["under_18"] is True and receipt["help"]["url"] == "https://takeitdown.ncmec.org"
    plain = api.client.post("/v1/requests", json=request_body(locations=["https://example.org/c"])).json()
    assert "help" not in plain
    assert api.client.get(f"/v1/requests/{receipt['id']}/minor-report").status_code == 401
    export = api.client.get(f"/v1/requests/{receipt['id']}/minor-report", headers=api.headers("desk"))
    assert export.status_code == 200 and export.json()["case"]["id"] == receipt["id"]
    assert all(p.lower() not in export.text.lower() for p in PERSONAL)
    other = api.client.get(f"/v1/requests/{plain['id']}/minor-report", headers=api.headers("desk"))
    assert other.status_code == 404


def test_the_report_form_asks_and_the_receipt_points_to_take_it_down(site: Site) -> None:  # noqa: F811
    form = site.client.get("/report").text
    assert 'name="under_18"' in form and "takeitdown.ncmec.org" in form
    answer = site.client.post("/report", data={
        "form_token": site.token("/report"), "relationship": "self", "name": REQUESTER["name"],
        "email": REQUESTER["email"], "locations": "https://example.org/post/9", "good_faith": "yes",
        "signature": REQUESTER["name"], "under_18": "yes"})
    assert answer.status_code == 200, answer.text
    assert "takeitdown.ncmec.org" in answer.text and 'id="minor-help"' in answer.text
    case = re.search(r'id="case-id">([^<]+)<', answer.text)
    assert case
    with site.db.read() as session:
        assert find_request(session, case.group(1)).minor
        assert session.scalar(select(RequestItem.id)) is None


def test_a_minor_bank_matches_as_a_match_bank_and_its_matches_name_it(api: Api) -> None:  # noqa: F811
    api.create_bank("minors", kind="minor")
    add(api, "minors", {"pdq": PDQ})
    verdict = match(api, {"pdq": NEAR})
    assert verdict["matched"] is True and verdict["action"] == "block"
    assert [(m["bank"], m["trust"]) for m in verdict["matches"]] == [("minors", "block")]
    refused = api.client.post("/v1/banks", json={"name": "x", "kind": "children"},
                              headers=api.headers("bank"))
    assert refused.status_code == 422


def test_a_minors_statements_go_to_the_dsa_database_under_protection_of_minors(
        database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STANCH_DSA_TDB_URL", "https://tdb.example.org")
    monkeypatch.setenv("STANCH_DSA_TDB_TOKEN", "token")
    now = utcnow()
    for n, minor in enumerate((True, False)):
        case = _file(database, minor=minor, locations=[f"https://example.org/{n}"])
        with database.write() as session:
            request = find_request(session, case)
            attach_item(session, request, LocatedItem(f"post-{n}", {"pdq": f"{n}" * 64}), origin="located",
                        actor="system", now=now)
            decide(session, request, "remove", None, actor="user:reviewer", now=now)
    with database.write() as session:
        assert queue_batches(session, now) == 2
        batch = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "dsa")).one()
    sent = {s["puid"]: (s["category"], s["category_specification"])
            for s in json.loads(batch.payload)["statements"]}
    assert sent == {
        "post-0": ("STATEMENT_CATEGORY_PROTECTION_OF_MINORS", ["KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL"]),
        "post-1": ("STATEMENT_CATEGORY_CYBER_VIOLENCE", ["KEYWORD_NON_CONSENSUAL_IMAGE_SHARING"])}
