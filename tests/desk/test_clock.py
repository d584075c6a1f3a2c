"""The 48-hour clock: escalation at 24 h and 36 h elapsed, once each (an injectable clock), overdue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from stanch.desk.cases import queue, queue_row
from stanch.desk.clock import escalate
from stanch.desk.intake import file_request, validate
from stanch.desk.ticker import tick
from stanch.store import Database
from stanch.store.audit_models import AuditEvent
from stanch.store.desk_models import RequestEscalation
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
