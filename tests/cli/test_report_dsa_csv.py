"""``stanch report --format dsa-csv --from --to``: the harmonised report's rows on constructed data
(notices by category, items, median time, actions by ground, own-initiative copies, appeals, automated
means), the period's bounds, refusals of a wrong period, and the audited run (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from stanch.cli import app as cli
from stanch.desk.appeals import decide_appeal, file_appeal
from stanch.desk.cases import find_request
from stanch.desk.decisions import decide
from stanch.desk.harmonised import COLUMNS
from stanch.desk.intake import file_request, validate
from stanch.desk.locate import LocatedItem, attach_item
from stanch.store import Database
from stanch.store.audit_models import AuditEvent
from tests.desk.factory import request_body

START = datetime(2026, 7, 1, tzinfo=UTC)
NCII = ("STATEMENT_CATEGORY_CYBER_VIOLENCE", "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING")
MINOR = ("STATEMENT_CATEGORY_PROTECTION_OF_MINORS", "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL")


def _case(database: Database, at: datetime, n: int, *, locations: int = 1, minor: bool = False,
          decision: str | None = None, after_hours: float = 0, items: tuple[str, ...] = ()) -> str:
    body = request_body(requester={"name": "A", "email": f"p{n}@example.org"}, under_18=minor,
                        locations=[f"loc-{n}-{i}" for i in range(locations)], hashes=[{"md5": f"{n:032x}"}])
    with database.write() as session:
        _, request = file_request(session, validate(body), now=at)
        for item in items:
            origin = "copy" if item.startswith("copy") else "located"
            attach_item(session, request, LocatedItem(item, {"md5": f"{n:032x}"}), origin=origin,
                        actor="system", now=at)
        if decision:
            decide(session, request, decision, "reason", actor="user:rev",
                   now=at + timedelta(hours=after_hours))
        return request.public_id


def _run(*period: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["report", "--format", "dsa-csv", *period])
    return result.exit_code, result.output


def _cells(text: str) -> dict[tuple[str, str, str, str], str]:
    lines = list(csv.reader(io.StringIO(text)))
    assert tuple(lines[0]) == COLUMNS
    assert all(line[0] == "2026-07-01/2026-12-31" for line in lines[1:])
    return {(line[1], line[2], line[3], line[4]): line[5] for line in lines[1:]}


@pytest.fixture
def cli_database(database: Database, monkeypatch: pytest.MonkeyPatch, db_url: str) -> Database:
    monkeypatch.setenv("STANCH_DATABASE_URL", db_url)
    return database


def test_the_rows_stanch_fills_for_a_period(cli_database: Database) -> None:
    db = cli_database
    _case(db, START - timedelta(days=3), 0, decision="reject", after_hours=88)  # decided in the period
    adult = _case(db, START + timedelta(days=1), 1, locations=2, decision="remove", after_hours=10,
                  items=("post-1", "copy-1"))
    _case(db, START + timedelta(days=2), 2, minor=True, decision="remove", after_hours=2, items=("m-1",))
    _case(db, START + timedelta(days=3), 3, decision="reject", after_hours=30)
    _case(db, datetime(2027, 1, 1, tzinfo=UTC), 4)  # after the period
    with db.write() as session:
        attach_item(session, find_request(session, adult), LocatedItem("copy-2", {"md5": f"{1:032x}"}),
                    origin="copy", actor="system", now=START + timedelta(days=4))
        _, appeal = file_appeal(session, {"case_id": adult, "statement": "mine",
                                          "appellant": {"name": "U", "email": "u@example.org"}},
                                now=START + timedelta(days=5))
        decide_appeal(session, appeal, "uphold", "fine", actor="user:other",
                      now=START + timedelta(days=5, hours=6))

    code, text = _run("--from", "2026-07-01", "--to", "2026-12-31")
    assert code == 0, text
    cells = _cells(text)
    notices = "Notices submitted in accordance with Article 16"

    def notice(category: str, indicator: str) -> str:
        return cells[(notices, category, indicator, "")]

    received = "Number of notices received"
    assert [notice(c, received) for c in ("TOTAL", *NCII, *MINOR)] == ["3", "2", "2", "1", "1"]
    items = "Number of specific items of information included in the total number of notices"
    assert [notice(c, items) for c in ("TOTAL", NCII[0], MINOR[0])] == ["4", "3", "1"]
    median = "Median time to take action"  # decided in the period: after 88, 10, 2 and 30 hours
    assert [notice(c, median) for c in ("TOTAL", NCII[1], MINOR[1])] == ["10", "30", "2"]
    law = "Number of actions taken on the basis of the law"
    assert [notice(c, law) for c in ("TOTAL", NCII[0], MINOR[0])] == ["2", "1", "1"]
    assert notice("TOTAL", "Number of actions taken on the basis of the terms and conditions of the "
                  "service") == "0"

    own = "Own-initiative content moderation (illegal content)"
    assert cells[(own, "TOTAL", "Number of measures taken at the provider's own initiative", "")] == "2"
    assert cells[(own, "TOTAL", "Number of measures taken after detection with solely automated means",
                  "")] == "1"
    assert cells[(own, MINOR[0], "Number of measures taken at the provider's own initiative", "")] == "0"

    complaints = ("Internal complaints mechanism", "",
                  "Number of complaints submitted to the internal-complaints mechanism")
    scopes = ("Total number", "Decisions upheld", "Decisions reversed", "Median time")
    assert [cells[(*complaints, scope)] for scope in scopes] == ["1", "1", "0", "6"]
    automated = "Use of automated means for content moderation"
    assert cells[(automated, "", "Number of measures solely taken by automated means", "Total number")] == "1"
    assert cells[(automated, "", "Number of measures not taken by automated means", "Total number")] == "3"
    assert cells[(automated, "", "Number of notices not processed by automated means", "NAM Total")] == "4"

    with db.read() as session:
        runs = session.scalars(select(AuditEvent).where(AuditEvent.action == "report.export")).all()
    assert [json.loads(r.details) for r in runs] == [{"via": "cli", "format": "dsa-csv",
                                                      "period": "2026-07-01/2026-12-31"}]


def test_an_empty_period_has_zero_counts_and_no_median(cli_database: Database) -> None:
    code, text = _run("--from", "2026-07-01", "--to", "2026-12-31")
    assert code == 0, text
    cells = _cells(text)
    notices = "Notices submitted in accordance with Article 16"
    assert cells[(notices, "TOTAL", "Number of notices received", "")] == "0"
    assert cells[(notices, "TOTAL", "Median time to take action", "")] == ""


@pytest.mark.parametrize(("arguments", "says"), [
    ((), "needs the reporting period"),
    (("--from", "2026-07-01"), "needs the reporting period"),
    (("--from", "2026-07-01", "--to", "1 July"), "is not a day"),
    (("--from", "2026-07-02", "--to", "2026-07-01"), "ends (2026-07-01) before it starts"),
])
def test_a_wrong_period_is_refused_in_one_line(cli_database: Database, arguments: tuple[str, ...],
                                               says: str) -> None:
    code, text = _run(*arguments)
    assert code == 2 and says in text
    with cli_database.read() as session:
        assert session.scalars(select(AuditEvent).where(AuditEvent.action == "report.export")).all() == []


def test_the_period_goes_only_with_dsa_csv(cli_database: Database) -> None:
    result = CliRunner().invoke(cli, ["report", "--format", "json", "--from", "2026-07-01"])
    assert result.exit_code == 2 and "go with --format dsa-csv" in result.output
