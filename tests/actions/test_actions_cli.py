"""``stanch actions run --once``, ``list`` and ``retry``, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stanch.actions import enqueue_email, enqueue_webhook
from stanch.cli import app
from stanch.desk.audit import events
from stanch.store import Database


@pytest.fixture
def stanch(db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    monkeypatch.setenv("STANCH_DATABASE_URL", db_url)
    monkeypatch.setenv("STANCH_EMAIL_DIR", str(tmp_path / "mail"))
    for name in ("STANCH_WEBHOOK_URL", "STANCH_WEBHOOK_SECRET", "STANCH_SMTP_URL"):
        monkeypatch.delenv(name, raising=False)
    return CliRunner()


def test_run_once_sends_due_emails_and_leaves_webhooks_waiting(stanch: CliRunner, database: Database,
                                                               tmp_path: Path) -> None:
    with database.write() as session:
        enqueue_email(session, "p@example.org", "received", case_id="7",
                      deadline=datetime(2026, 11, 24, tzinfo=UTC))
        enqueue_webhook(session, "remove_item", {"item_id": "p/1"})
    result = stanch.invoke(app, ["actions", "run", "--once"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout.splitlines()[-1]) == {"sent": 1, "retried": 0, "failed": 0}
    assert "STANCH_WEBHOOK_URL is not set" in result.stderr
    assert len(list((tmp_path / "mail").glob("*.eml"))) == 1
    listed = [json.loads(line) for line in stanch.invoke(app, ["actions", "list"]).stdout.splitlines()]
    assert [(m["kind"], m["status"]) for m in listed] == [("webhook", "pending"), ("email", "sent")]
    assert "p@example.org" not in json.dumps(listed)


def test_bad_settings_stop_the_dispatcher(stanch: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STANCH_WEBHOOK_URL", "https://platform.example/hook")
    result = stanch.invoke(app, ["actions", "run", "--once"])
    assert result.exit_code == 2 and "STANCH_WEBHOOK_SECRET" in result.stderr


def test_retry_is_audited_and_refuses_what_it_cannot_retry(stanch: CliRunner, database: Database) -> None:
    with database.write() as session:
        message_id = enqueue_webhook(session, "remove_item", {"item_id": "p/1"}).uuid
    pending = stanch.invoke(app, ["actions", "retry", message_id])
    assert pending.exit_code == 1 and "only failed messages" in pending.stderr
    unknown = stanch.invoke(app, ["actions", "retry", "no-such-id"])
    assert unknown.exit_code == 1 and "no outbox message" in unknown.stderr
    with database.engine.begin() as connection:
        connection.exec_driver_sql("UPDATE outbox SET status = 'failed'")
    retried = stanch.invoke(app, ["actions", "retry", message_id])
    assert retried.exit_code == 0, retried.output
    listed = json.loads(stanch.invoke(app, ["actions", "list", "--status", "pending"]).stdout)
    assert listed["id"] == message_id and listed["attempts"] == 0
    with database.read() as session:
        [event] = events(session)
    assert (event.action, event.subject_type, event.subject_id) == ("outbox.retry", "outbox", message_id)


def test_list_refuses_an_unknown_status(stanch: CliRunner) -> None:
    result = stanch.invoke(app, ["actions", "list", "--status", "lost"])
    assert result.exit_code == 2
