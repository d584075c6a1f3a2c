"""The 48-hour clock: escalation at 24 h and 36 h elapsed, once each (an injectable clock), overdue;
each escalation emails the review team, neutrally."""

from __future__ import annotations

import json
import logging
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from stanch.desk.cases import queue, queue_row
from stanch.desk.clock import escalate
from stanch.desk.intake import file_request, validate
from stanch.desk.ticker import tick
from stanch.store import Database
from stanch.store.audit_models import AuditEvent
from stanch.store.desk_models import RequestEscalation
from stanch.store.outbox_models import OutboxMessage
from tests.desk.factory import request_body

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def _file(database: Database, at: datetime, email: str = "alex@example.org") -> str:
    with database.write() as session:
        receipt, _ = file_request(session, validate(request_body(requester={"name": "A", "email": email})),
                                  now=at)
    return receipt.id


def test_escalations_happen_once_per_threshold(database: Database) -> None:
    case = _file(database, START)
    later = _file(database, START + timedelta(hours=10), "b@example.org")
    with database.write() as session:
        assert escalate(session, START + timedelta(hours=23, minutes=59)) == []
    with database.write() as session:
        first = escalate(session, START + timedelta(hours=24))
    assert [(e.request, e.hours) for e in first] == [(case, 24)]
    with database.write() as session:
        assert escalate(session, START + timedelta(hours=30)) == []
    with database.write() as session:
        at_40 = escalate(session, START + timedelta(hours=40))
    assert sorted((e.request, e.hours) for e in at_40) == sorted([(case, 36), (later, 24)])
    report = tick(database, START + timedelta(hours=40), None)
    assert report.escalations == []
    with database.read() as session:
        rows = session.scalars(select(RequestEscalation)).all()
        audited = session.scalars(select(AuditEvent).where(AuditEvent.action == "request.escalated")).all()
    assert len(rows) == len(audited) == 3


def test_a_request_that_jumped_past_both_thresholds_gets_both(database: Database) -> None:
    case = _file(database, START)
    with database.write() as session:
        found = escalate(session, START + timedelta(hours=47))
    assert [(e.request, e.hours) for e in found] == [(case, 24), (case, 36)]


def test_overdue_requests_stand_out_in_the_queue(database: Database) -> None:
    _file(database, START)
    now = START + timedelta(hours=49)
    with database.read() as session:
        (row,) = [queue_row(r, now) for r in queue(session, now)]
    assert row["overdue"] is True and row["seconds_left"] == -3600 and row["escalation"] == 36


def _team_emails(database: Database) -> list[OutboxMessage]:
    with database.read() as session:
        return list(session.scalars(select(OutboxMessage).where(OutboxMessage.type == "escalation")
                                    .order_by(OutboxMessage.id)))


def test_each_escalation_emails_the_team_once_and_says_nothing_private(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STANCH_DESK_EMAIL", "desk@example.org")
    monkeypatch.setenv("STANCH_PUBLIC_URL", "https://takedown.example.org/")
    body = request_body()
    with database.write() as session:
        receipt, _ = file_request(session, validate(body), now=START)
    tick(database, START + timedelta(hours=24, minutes=5), None)
    (first,) = _team_emails(database)
    assert first.kind == "email" and first.recipient == "desk@example.org" and first.status == "pending"
    for later in (25, 30, 35):
        tick(database, START + timedelta(hours=later), None)
    assert len(_team_emails(database)) == 1
    tick(database, START + timedelta(hours=36, minutes=1), None)
    first_again, second = _team_emails(database)
    assert first_again.id == first.id
    notices = [json.loads(message.payload) for message in (first, second)]
    assert [n["subject"] for n in notices] == ["A case needs a decision soon"] * 2
    assert "It has 23 hours left" in notices[0]["body"] and "It has 11 hours left" in notices[1]["body"]
    for notice in notices:
        text = notice["subject"] + notice["body"]
        assert receipt.id in text
        assert f"https://takedown.example.org/desk/cases/{receipt.id}" in text
        for private in (receipt.token, body["requester"]["name"], body["requester"]["email"],
                        body["statement"], "platform.example", "status?case="):
            assert private not in text


def test_the_notice_is_queued_in_the_escalations_transaction(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STANCH_DESK_EMAIL", "desk@example.org")
    _file(database, START)
    with pytest.raises(RuntimeError), database.write() as session:
        assert len(escalate(session, START + timedelta(hours=24))) == 1
        raise RuntimeError("the tick failed after escalating")
    assert _team_emails(database) == []
    with database.write() as session:
        assert len(escalate(session, START + timedelta(hours=24))) == 1
    assert len(_team_emails(database)) == 1


def test_without_a_team_address_escalations_are_recorded_and_no_email_is_queued(
    database: Database, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("STANCH_DESK_EMAIL", raising=False)
    monkeypatch.setattr("stanch.desk.clock._told_no_team_address", threading.Event())
    _file(database, START)
    with caplog.at_level(logging.WARNING, logger="stanch.desk.clock"):
        tick(database, START + timedelta(hours=24), None)
        tick(database, START + timedelta(hours=36), None)
    assert caplog.text.count("STANCH_DESK_EMAIL is not set") == 1
    assert _team_emails(database) == []
    with database.read() as session:
        assert len(session.scalars(select(RequestEscalation)).all()) == 2


def test_a_malformed_team_address_is_named_and_the_escalation_waits(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STANCH_DESK_EMAIL", "the desk")
    _file(database, START)
    with pytest.raises(ValueError, match="STANCH_DESK_EMAIL"), database.write() as session:
        escalate(session, START + timedelta(hours=24))
    with database.read() as session:
        assert session.scalars(select(RequestEscalation)).all() == []
