"""``stanch audit verify`` exit codes and ``stanch audit show``, on SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from stanch.cli import app
from stanch.desk.audit import events, record
from stanch.store import Database
from tests.desk.audit_tampering import tamper


@pytest.fixture
def stanch(db_url: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("STANCH_DATABASE_URL", db_url)
    return CliRunner()


def _fill(database: Database) -> None:
    with database.write() as session:
        for n in range(3):
            record(session, "user:alice", "view", ("request", n), {"n": n})


def test_verify_exits_0_for_an_empty_or_intact_log(stanch: CliRunner, database: Database) -> None:
    result = stanch.invoke(app, ["audit", "verify"])
    assert result.exit_code == 0 and "intact: 0 events" in result.output
    _fill(database)
    result = stanch.invoke(app, ["audit", "verify"])
    with database.read() as session:
        head = events(session)[-1].hash
    assert result.exit_code == 0 and "intact: 3 events" in result.output and head in result.output


@pytest.mark.parametrize(
    ("statement", "bad_event"),
    [
        ("UPDATE audit_log SET actor = 'user:mallory' WHERE seq = 2", 2),
        ("DELETE FROM audit_log WHERE seq = 2", 3),
        ("INSERT INTO audit_log (seq, at, actor, action, details, prev_hash, hash) VALUES "
         "(4, '2026-11-22 12:00:00', 'system', 'view', '{}', 'x', 'y')", 4),
    ],
)
def test_verify_exits_1_naming_the_first_bad_event(stanch: CliRunner, database: Database, statement: str,
                                                   bad_event: int) -> None:
    _fill(database)
    tamper(database, statement)
    result = stanch.invoke(app, ["audit", "verify"])
    assert result.exit_code == 1
    assert f"BROKEN at event {bad_event}" in result.output


def test_show_prints_events_and_records_the_reading(stanch: CliRunner, database: Database) -> None:
    _fill(database)
    result = stanch.invoke(app, ["audit", "show", "--subject", "request:1"])
    assert result.exit_code == 0, result.output
    [line] = result.output.splitlines()
    shown = json.loads(line)
    assert (shown["seq"], shown["subject_id"], shown["details"]) == (2, "1", {"n": 1})
    with database.read() as session:
        last = events(session)[-1]
    assert last.action == "audit.view" and last.actor.startswith("cli:")
    assert json.loads(last.details)["subject"] == "request:1"
    assert stanch.invoke(app, ["audit", "verify"]).exit_code == 0


@pytest.mark.parametrize("option", [["--since", "last tuesday"], ["--subject", "request"]])
def test_show_refuses_bad_options(stanch: CliRunner, database: Database, option: list[str]) -> None:
    result = stanch.invoke(app, ["audit", "show", *option])
    assert result.exit_code == 2
    with database.read() as session:
        assert events(session) == []


def test_verify_with_an_anchor_catches_an_emptied_log(stanch: CliRunner, database: Database) -> None:
    _fill(database)
    with database.read() as session:
        head = events(session)[-1].hash
    assert stanch.invoke(app, ["audit", "verify", "--anchor", head]).exit_code == 0
    tamper(database, "DELETE FROM audit_log")
    assert stanch.invoke(app, ["audit", "verify"]).exit_code == 0  # an empty chain is a valid chain
    result = stanch.invoke(app, ["audit", "verify", "--anchor", head])
    assert result.exit_code == 1 and f"no event has the recorded hash {head}" in result.output
