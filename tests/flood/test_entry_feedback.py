"""Reviewers' verdicts counted per entry, flagging, and an admin disabling one entry without
withdrawing it (over the API, the CLI and ``record_entry_verdicts`` itself)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from stanch.cli import app as cli
from stanch.desk.audit import events
from stanch.desk.entry_feedback import flag_threshold, record_entry_verdicts
from stanch.store import add_entry, create_bank, entry_from_hashes
from stanch.store.entry_stats import entry_stats
from stanch.store.models import Entry
from tests.api.conftest import Api
from tests.api.test_appeals import _appeal, _removed, _second_reviewer
from tests.desk.factory import picture_record

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)


def test_rejections_flag_an_entry_once_and_are_audited(database) -> None:
    with database.write() as session:
        bank = create_bank(session, "list")
        entry = add_entry(session, bank, entry_from_hashes(pdq="a" * 64))
    for _ in range(2):
        with database.write() as session:
            assert record_entry_verdicts(session, [entry, 999_999], "rejected", NOW, flag_after=3) == []
    with database.write() as session:
        assert record_entry_verdicts(session, [entry, entry], "rejected", NOW, flag_after=3) == [entry]
        assert record_entry_verdicts(session, [entry], "rejected", NOW, flag_after=3) == []
        record_entry_verdicts(session, [entry], "confirmed", NOW)
    with database.read() as session:
        (stats,) = entry_stats(session, [entry])
        assert (stats.rejected, stats.confirmed, stats.flagged_at) == (4, 1, NOW)
        assert [e.action for e in events(session)] == ["entry.flagged"]
    with database.write() as session, pytest.raises(ValueError, match="confirmed, rejected"):
        record_entry_verdicts(session, [entry], "maybe", NOW)


def test_the_flag_threshold_setting_is_checked() -> None:
    assert flag_threshold({}) == 5 and flag_threshold({"STANCH_FLAG_REJECTED": "2"}) == 2
    with pytest.raises(ValueError, match="STANCH_FLAG_REJECTED"):
        flag_threshold({"STANCH_FLAG_REJECTED": "0"})


def test_a_removal_confirms_the_case_entries_and_a_reinstating_appeal_rejects_them(api: Api) -> None:
    record = picture_record(7)
    with api.db.write() as session:  # the same hash in a partner's list, banked before the case
        listed = add_entry(session, create_bank(session, "partner"), entry_from_hashes(pdq=record["pdq"]))
    case = _removed(api, [{"pdq": record["pdq"]}], "post/7")
    with api.db.read() as session:
        banked = session.scalars(select(Entry.id).where(Entry.request_id.is_not(None))).all()
        assert {s.entry_id: (s.confirmed, s.rejected) for s in entry_stats(session, [listed, *banked])} \
            == {listed: (1, 0), **{e: (1, 0) for e in banked}}
    receipt = _appeal(api, case_id=case)
    answer = api.client.post(f"/v1/appeals/{receipt['id']}/decision", headers=_second_reviewer(api),
                             json={"decision": "reinstate", "reason": "It is the uploader's own."})
    assert answer.status_code == 200, answer.text
    with api.db.read() as session:
        assert {s.entry_id: s.rejected for s in entry_stats(session, [listed, *banked])} \
            == {listed: 1, **{e: 1 for e in banked}}


def test_an_admin_disables_an_entry_without_withdrawing_it_and_enables_it_again(api: Api) -> None:
    api.create_bank("ncii")
    added = api.post("/v1/banks/ncii/entries", "bank", json={"pdq": "b" * 64}).json()
    path = f"/v1/banks/ncii/entries/{added['id']}"

    def action() -> str:
        return api.post("/v1/match", "match", json={"pdq": "b" * 64}).json()["action"]

    assert action() == "block"
    off = api.post(f"{path}/disable?reason=too+many+false+matches", "bank")
    assert off.status_code == 200 and off.json()["disabled_reason"] == "too many false matches"
    assert off.json()["withdrawn"] is False and action() == "none"
    assert api.post(f"{path}/disable", "match").status_code == 403
    on = api.post(f"{path}/enable", "bank")
    assert on.status_code == 200 and on.json()["disabled_at"] is None and action() == "block"
    assert api.post("/v1/banks/ncii/entries/999/disable", "bank").status_code == 404
    with api.db.read() as session:
        assert [e.action for e in events(session) if e.action.startswith("entry.")] \
            == ["entry.disable", "entry.enable"]


def test_the_cli_disables_and_enables_an_entry(db_url: str, monkeypatch) -> None:
    monkeypatch.setenv("STANCH_DATABASE_URL", db_url)
    runner = CliRunner()
    assert runner.invoke(cli, ["bank", "create", "ncii"]).exit_code == 0
    from stanch.store import open_database

    db = open_database(db_url)
    with db.write() as session:
        from stanch.store import get_bank

        entry = add_entry(session, get_bank(session, "ncii"), entry_from_hashes(pdq="c" * 64))
    off = runner.invoke(cli, ["bank", "disable", "ncii", str(entry), "--reason", "noisy"])
    assert off.exit_code == 0, off.output
    assert json.loads(off.stdout)["disabled_at"]
    with db.read() as session:
        assert session.get(Entry, entry).disabled_reason == "noisy"
    assert runner.invoke(cli, ["bank", "enable", "ncii", str(entry)]).exit_code == 0
    with db.read() as session:
        assert session.get(Entry, entry).disabled_at is None
    missing = runner.invoke(cli, ["bank", "disable", "ncii", "12345"])
    assert missing.exit_code == 1 and "no entry 12345" in missing.stderr
    db.dispose()


def test_the_desk_queue_shows_flagged_and_flooded_entries(database, monkeypatch) -> None:
    from argon2 import PasswordHasher, profiles
    from fastapi.testclient import TestClient

    from stanch.api.app import create_app
    from stanch.desk import users
    from stanch.desk.users import create_user
    from stanch.store.entry_stats import mark_stats
    from tests.web.test_pages import PASSWORD, Site

    monkeypatch.setattr(users, "HASHER", PasswordHasher.from_parameters(profiles.CHEAPEST))

    with database.write() as session:
        bank = create_bank(session, "partner")
        noisy = add_entry(session, bank, entry_from_hashes(pdq="d" * 64))
        quiet = add_entry(session, bank, entry_from_hashes(pdq="e" * 64))
        record_entry_verdicts(session, [noisy], "rejected", NOW, flag_after=1)
        record_entry_verdicts(session, [quiet], "confirmed", NOW)
        mark_stats(session, [noisy], "flooded_at", NOW)
        create_user(session, "reviewer@example.org", "reviewer", PASSWORD)
    with TestClient(create_app(db=database, poll_interval=0.05)) as client:
        site = Site(client, database)
        site.sign_in("reviewer@example.org")
        page = client.get("/desk").text
    notice = page.split('id="entry-notices"')[1].split("</section>")[0]
    assert f"partner #{noisy}" in notice and f"partner #{quiet}" not in notice
    assert "flood: switched" in notice and "flagged" in notice


def test_a_bank_sweep_counts_its_matches_as_served(database, catalog) -> None:
    from tests.sweep.conftest import bank_seed, sweep

    bank_seed(database, 3)
    assert sweep(database, catalog).matched == {"item-3.jpg"}
    with database.read() as session:
        entries = session.scalars(select(Entry.id)).all()
        assert [s.served for s in entry_stats(session, entries)] == [1]
