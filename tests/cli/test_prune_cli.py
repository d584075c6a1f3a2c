"""``stanch prune``: what it removed, printed, and its refusals of bad arguments (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from typer.testing import CliRunner

from stanch.actions import enqueue_webhook
from stanch.cli import app
from stanch.store import (
    Database,
    Provenance,
    add_entry,
    create_bank,
    entry_from_hashes,
    feed_since,
    get_entry,
    utcnow,
)
from stanch.store.outbox_models import OutboxMessage


@pytest.fixture
def stanch(db_url: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("STANCH_DATABASE_URL", db_url)
    return CliRunner()


def test_prune_prints_what_it_removed(stanch: CliRunner, database: Database) -> None:
    with database.write() as session:
        bank = create_bank(session, "ncii")
        for n in range(3):
            add_entry(session, bank, entry_from_hashes(pdq=f"{n + 1:064x}"))
        for days in (45, 31, 29):
            message = enqueue_webhook(session, "remove_item", {"item_id": str(days)})
            done = utcnow() - timedelta(days=days)
            session.execute(update(OutboxMessage).where(OutboxMessage.id == message.id)
                            .values(status="sent", done_at=done))
    with database.read() as session:
        seqs = [c.seq for c in feed_since(session, 0).changes]
    result = stanch.invoke(app, ["prune", "--feed-keep", "2"])
    assert result.exit_code == 0, result.output
    assert "outbox: 2 sent messages deleted (sent over 30 days ago)" in result.stdout
    assert f"change feed: 2 rows deleted; pruned through seq {seqs[1]}" in result.stdout
    with database.read() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 1
        assert [c.seq for c in feed_since(session, 0).changes] == seqs[2:]
    again = stanch.invoke(app, ["prune", "--outbox-days", "0.5", "--feed-keep", "2"])
    assert again.exit_code == 0 and "outbox: 1 sent" in again.stdout and "change feed: 0 rows" in again.stdout


@pytest.mark.parametrize(
    ("arguments", "complaint"),
    [(["--feed-keep", "0"], "--feed-keep"), (["--outbox-days", "-1"], "--outbox-days"),
     (["--outbox-days", "soon"], "--outbox-days")],
)
def test_bad_arguments_are_refused_before_anything_is_deleted(
    stanch: CliRunner, database: Database, arguments: list[str], complaint: str
) -> None:
    with database.write() as session:
        bank = create_bank(session, "ncii")
        add_entry(session, bank, entry_from_hashes(pdq="1" * 64))
    result = stanch.invoke(app, ["prune", *arguments])
    assert result.exit_code == 2 and complaint in result.output and "Invalid value" in result.output
    with database.read() as session:
        assert len(feed_since(session, 0).changes) == 2


def test_prune_withdraws_expired_entries(stanch: CliRunner, database: Database) -> None:
    """An entry past its expiry is marked withdrawn, with a feed row so every index drops it."""
    with database.write() as session:
        bank = create_bank(session, "ncii")
        past = Provenance(expires=utcnow() - timedelta(hours=1))
        tomorrow = Provenance(expires=utcnow() + timedelta(days=1))
        expired = add_entry(session, bank, entry_from_hashes(pdq="1" * 64, provenance=past))
        live = add_entry(session, bank, entry_from_hashes(pdq="2" * 64, provenance=tomorrow))
    result = stanch.invoke(app, ["prune"])
    assert result.exit_code == 0, result.output
    assert "bank entries: 1 past their expiry withdrawn" in result.stdout
    with database.read() as session:
        assert get_entry(session, bank, expired).withdrawn_reason == "expired"
        assert get_entry(session, bank, live).withdrawn_at is None
        assert [(c.entry_id, c.op) for c in feed_since(session, 0).changes][-1] == (expired, "withdraw")
