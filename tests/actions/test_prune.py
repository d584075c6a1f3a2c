"""Pruning the outbox: only messages delivered long enough ago go; the audit log is untouched
(SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from stanch.actions import enqueue_webhook, prune_sent
from stanch.desk.audit import events, record
from stanch.store import Database, utcnow
from stanch.store.outbox_models import OutboxMessage

OLD = timedelta(days=40)
RECENT = timedelta(days=10)


def outbox_with_every_state(database: Database) -> dict[str, str]:
    """One message per case, by name: its uuid. Times are moved back as each case says."""
    now = utcnow()
    cases: dict[str, dict[str, object]] = {
        "sent long ago": {"status": "sent", "done_at": now - OLD},
        "sent recently": {"status": "sent", "done_at": now - RECENT},
        "failed long ago": {"status": "failed", "done_at": now - OLD},
        "pending, created long ago": {"status": "pending"},
        "retrying, last tried long ago": {"status": "pending", "attempts": 3, "last_attempt_at": now - OLD},
    }
    ids = {}
    with database.write() as session:
        record(session, "user:alice", "decide", ("request", 1), {"n": 1})
        for name, values in cases.items():
            message = enqueue_webhook(session, "remove_item", {"item_id": name})
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == message.id)
                .values(created_at=now - 2 * OLD, **values)
            )
            ids[name] = message.uuid
    return ids


def test_only_messages_sent_before_the_cutoff_are_deleted(database: Database) -> None:
    ids = outbox_with_every_state(database)
    with database.read() as session:
        audit_before = [e.hash for e in events(session)]
    with database.write() as session:
        assert prune_sent(session, timedelta(days=30)) == 1
    with database.read() as session:
        left = set(session.scalars(select(OutboxMessage.uuid)))
        assert left == set(ids.values()) - {ids["sent long ago"]}
        assert [e.hash for e in events(session)] == audit_before
    with database.write() as session:
        assert prune_sent(session, timedelta(days=5)) == 1
        assert prune_sent(session, timedelta(0)) == 0


def test_a_negative_age_is_refused(database: Database) -> None:
    with database.write() as session, pytest.raises(ValueError, match="negative"):
        prune_sent(session, timedelta(days=-1))
