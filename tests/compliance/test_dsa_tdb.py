"""Submission to the DSA Transparency Database, against the local stand-in (tests/compliance/tdb_standin.py):
batches through the outbox, a rejection kept with the database's message and never resent, a retry after
a lost answer that stores nothing twice, one PUID sent once, off when unset (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from stanch.actions import Dispatcher, enqueue_dsa_batch
from stanch.actions.tdb import TdbSender
from stanch.cli import app
from stanch.desk.decisions import decide
from stanch.desk.dsa import dsa_counts, queue_batches, rejected, tdb_statement
from stanch.desk.intake import file_request, validate
from stanch.desk.locate import LocatedItem, attach_item
from stanch.desk.statements import StatementSettings, write_statement
from stanch.store import Database, utcnow
from stanch.store.compliance_models import Statement
from stanch.store.outbox_models import OutboxMessage
from tests.compliance.tdb_standin import StandIn, problems, tdb_standin
from tests.desk.factory import request_body

REQUESTER = {"name": "Robin Quillfeather", "email": "robin.quill@example.org", "phone": "+44 7700 900123"}
PERSONAL = ("Quillfeather", "robin.quill", "7700 900123", "published without my consent")


@pytest.fixture
def standin(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, StandIn]]:
    with tdb_standin() as (url, state):
        monkeypatch.setenv("STANCH_DSA_TDB_URL", url)
        monkeypatch.setenv("STANCH_DSA_TDB_TOKEN", state.token)
        yield url, state


def _removal(database: Database, now: datetime, items: tuple[str, ...] = ("post-1", "post-2")) -> None:
    with database.write() as session:
        _, request = file_request(session, validate(request_body(requester=REQUESTER)), now=now)
        for n, item in enumerate(items):
            attach_item(session, request, LocatedItem(item, {"pdq": "f" * 63 + "fe"[n % 2]}),
                        origin="located" if n == 0 else "copy", actor="system", now=now)
        decide(session, request, "remove", None, actor="user:reviewer", now=now)


def _dispatcher(database: Database, url: str, state: StandIn, now: list[datetime]) -> Dispatcher:
    sender = TdbSender(url, state.token, database.engine, timeout=5, clock=lambda: now[0])
    return Dispatcher(database.engine, senders={"dsa": sender}, clock=lambda: now[0], random=lambda: 0.0)


def _states(database: Database) -> dict[str, str]:
    with database.read() as session:
        return {s.item_id: s.tdb_state for s in session.scalars(select(Statement))}


def test_the_mapping_passes_the_schemas_rules_on_both_grounds(database: Database) -> None:
    for ground in ("illegal", "terms"):
        settings = StatementSettings.from_env({"STANCH_STATEMENT_GROUND": ground})
        with database.write() as session:
            _, request = file_request(session, validate(request_body()), now=utcnow())
            item = attach_item(session, request, LocatedItem(f"v-{ground}", {"vpdq": []}), origin="located",
                               actor="system", now=utcnow())
            fields = tdb_statement(write_statement(session, request, item, utcnow(), settings), {"vpdq": []})
        assert problems(fields) == {}, fields
        assert fields["content_type"] == ["CONTENT_TYPE_VIDEO"] and fields["puid"] == f"v-{ground}"
    assert problems({})  # the validator does refuse: an empty statement names its missing fields


def test_statements_go_in_one_batch_and_are_sent(database: Database, standin: tuple[str, StandIn]) -> None:
    url, state = standin
    now = [utcnow()]
    _removal(database, now[0])
    assert set(_states(database).values()) == {"pending"}
    with database.write() as session:
        assert queue_batches(session, now[0]) == 2
        assert queue_batches(session, now[0]) == 0
        batches = select(OutboxMessage).where(OutboxMessage.kind == "dsa")
        payloads = [m.payload for m in session.scalars(batches)]
    assert len(payloads) == 1 and len(json.loads(payloads[0])["statements"]) == 2
    for personal in PERSONAL:
        assert personal.lower() not in payloads[0].lower()
    report = _dispatcher(database, url, state, now).run_once()
    assert report.sent == 1 and set(state.stored) == {"post-1", "post-2"}
    assert _states(database) == {"post-1": "sent", "post-2": "sent"}
    stored = state.stored["post-2"]
    assert stored["automated_detection"] == "Yes" and stored["source_type"] == "SOURCE_VOLUNTARY"
    assert stored["category_specification"] == ["KEYWORD_NON_CONSENSUAL_IMAGE_SHARING"]


def test_a_rejected_statement_keeps_the_message_and_is_not_resent(database: Database,
                                                                  standin: tuple[str, StandIn]) -> None:
    url, state = standin
    now = [utcnow()]
    _removal(database, now[0])
    with database.write() as session:
        rows = list(session.scalars(select(Statement).order_by(Statement.id)))
        for row in rows:
            row.tdb_state = "queued"
        good, bad = (tdb_statement(r, {}) for r in rows)
        bad["content_date"] = "2026-13-40"
        enqueue_dsa_batch(session, [r.id for r in rows], [good, bad], clock=lambda: now[0])
    assert _dispatcher(database, url, state, now).run_once().sent == 1
    assert _states(database) == {"post-1": "sent", "post-2": "rejected"}
    assert len(state.posts) == 2 and [s["puid"] for s in state.posts[1]] == ["post-1"]
    with database.read() as session:
        shown = rejected(session)
        assert [r["item_id"] for r in shown] == ["post-2"] and "YYYY-MM-DD" in shown[0]["message"]
        assert queue_batches(session, now[0]) == 0


def test_a_lost_answer_is_retried_and_stores_nothing_twice(database: Database,
                                                            standin: tuple[str, StandIn]) -> None:
    url, state = standin
    now = [utcnow()]
    _removal(database, now[0])
    state.drop_after_store = 1
    with database.write() as session:
        queue_batches(session, now[0])
    dispatcher = _dispatcher(database, url, state, now)
    assert dispatcher.run_once().retried == 1
    assert _states(database) == {"post-1": "queued", "post-2": "queued"}
    now[0] += timedelta(minutes=5)
    assert dispatcher.run_once().sent == 1
    assert _states(database) == {"post-1": "sent", "post-2": "sent"}
    assert len(state.posts) == 2 and len(state.stored) == 2
    with database.read() as session:
        notes = {s.tdb_message for s in session.scalars(select(Statement))}
    assert notes == {"the database already had this PUID"}


def test_one_puid_is_sent_once_and_a_bad_puid_is_named(database: Database,
                                                        standin: tuple[str, StandIn]) -> None:
    url, state = standin
    now = [utcnow()]
    _removal(database, now[0], ("post-1",))
    _removal(database, now[0], ("post-1", "p/7"))
    with database.write() as session:
        assert queue_batches(session, now[0]) == 1
        counts = dsa_counts(session)
        assert counts["queued"] == 1 and counts["sent"] == 1 and counts["rejected"] == 1
        assert "not a valid PUID" in rejected(session)[0]["message"]
    _dispatcher(database, url, state, now).run_once()
    assert list(state.stored) == ["post-1"] and len(state.posts) == 1


def test_submission_is_off_without_the_url(database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STANCH_DSA_TDB_URL", raising=False)
    _removal(database, utcnow())
    assert set(_states(database).values()) == {"off"}
    with database.write() as session:
        assert queue_batches(session, utcnow()) == 0


def test_stanch_dsa_status_counts_and_lists_rejections(database: Database, db_url: str,
                                                       standin: tuple[str, StandIn],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    _removal(database, utcnow(), ("post-1", "p/7"))
    monkeypatch.setenv("STANCH_DATABASE_URL", db_url)
    assert CliRunner().invoke(app, ["dsa", "queue"]).output == "statements queued: 1\n"
    out = CliRunner().invoke(app, ["dsa", "status"])
    assert out.exit_code == 0, out.output
    assert "submission: on" in out.output and "queued: 1" in out.output and "rejected: 1" in out.output
    assert "p/7" in out.output and "not a valid PUID" in out.output
    monkeypatch.delenv("STANCH_DSA_TDB_TOKEN")
    refused = CliRunner().invoke(app, ["dsa", "status"])
    assert refused.exit_code == 1 and "STANCH_DSA_TDB_TOKEN must be set" in refused.output
