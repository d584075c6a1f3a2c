"""Transparency figures on constructed data: outcomes, median and p95 time to decision, share within
48 h, copies removed, appeals and reversals, per month; exports are audited."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from stanch.cli import app as cli
from stanch.desk.appeals import decide_appeal, file_appeal
from stanch.desk.cases import find_request, withdraw
from stanch.desk.decisions import decide
from stanch.desk.intake import file_request, validate
from stanch.desk.locate import LocatedItem, attach_item
from stanch.desk.report import monthly, percentile, report_markdown
from stanch.store import Database
from stanch.store.audit_models import AuditEvent
from tests.desk.factory import request_body

NOV = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
DEC = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def _case(database: Database, at: datetime, n: int) -> str:
    body = request_body(requester={"name": "A", "email": f"p{n}@example.org"}, locations=[f"loc {n}"],
                        hashes=[{"md5": f"{n:032x}"}])
    with database.write() as session:
        receipt, _ = file_request(session, validate(body), now=at)
    return receipt.id


def _decide(database: Database, case: str, decision: str, at: datetime, actor: str = "user:rev") -> None:
    with database.write() as session:
        decide(session, find_request(session, case), decision, "reason", actor=actor, now=at)


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 21)]
    assert percentile(values, 0.5) == 10 and percentile(values, 0.95) == 19
    assert percentile([7.0], 0.95) == 7


def test_monthly_figures(database: Database) -> None:
    cases = [_case(database, NOV + timedelta(days=n), n) for n in range(6)]
    # hours to decision: 2, 10, 30 and 60 (the last misses the 48-hour deadline); all in November
    for n, (taken, decision) in enumerate([(2, "remove"), (10, "remove"), (30, "reject"), (60, "remove")]):
        _decide(database, cases[n], decision, NOV + timedelta(days=n, hours=taken))
    with database.write() as session:
        withdraw(session, find_request(session, cases[4]), NOV + timedelta(days=5))
        attach_item(session, find_request(session, cases[0]), LocatedItem("copy/1", {"md5": f"{0:032x}"}),
                    origin="copy", actor="key:1", now=NOV + timedelta(days=1))
    with database.write() as session:
        _, appeal = file_appeal(session, {"case_id": cases[1], "statement": "mine",
                                          "appellant": {"name": "U", "email": "u@example.org"}}, now=DEC)
        decide_appeal(session, appeal, "reinstate", "ok", actor="user:other", now=DEC + timedelta(hours=1))
    with database.read() as session:
        nov, dec = monthly(session)
    assert (nov.month, nov.received, dec.month, dec.received) == ("2026-11", 6, "2026-12", 0)
    assert nov.by_outcome == {"removed": 2, "rejected": 1, "withdrawn": 1, "reinstated": 1, "open": 1}
    assert nov.decided == 4 and dec.decided == 0
    assert (nov.median_hours, nov.p95_hours, nov.within_48h) == (10, 60, 0.75)
    assert dec.median_hours is None and dec.within_48h is None
    assert (nov.copies_removed, dec.copies_removed) == (1, 0)
    assert (nov.appeals, nov.reversals, dec.appeals, dec.reversals) == (0, 0, 1, 1)
    table = report_markdown([nov, dec])
    assert "| 2026-11 | 6 | 2 | 1 | 1 | 1 | 1 | 4 | 10 | 60 | 75% | 1 | 0 | 0 |" in table


def test_exports_are_audited(database: Database, monkeypatch: pytest.MonkeyPatch, db_url: str) -> None:
    monkeypatch.setenv("STANCH_DATABASE_URL", db_url)
    _case(database, NOV, 1)
    result = CliRunner().invoke(cli, ["report", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["months"][0]["received"] == 1
    markdown = CliRunner().invoke(cli, ["report"])
    assert markdown.exit_code == 0 and "| 2026-11 | 1 |" in markdown.output
    with database.read() as session:
        exports = session.scalars(select(AuditEvent).where(AuditEvent.action == "report.export")).all()
    assert [json.loads(e.details)["format"] for e in exports] == ["json", "md"]
    assert all(e.actor.startswith("cli:") for e in exports)
