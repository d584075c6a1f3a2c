"""The audit log: appends inside the caller's transaction, a chain that verify checks, and tampering
(altered, removed, inserted rows) named by the first broken event. SQLite and PostgreSQL."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy
from sqlalchemy import text

from stanch.desk.audit import Subject, event_hash, events, record, verify
from stanch.store import Database
from stanch.store.audit_models import GENESIS_HASH
from tests.desk.audit_tampering import tamper


def _record_three(database: Database) -> None:
    with database.write() as session:
        record(session, "user:alice", "view", ("request", 1))
        record(session, "user:alice", "unblur", Subject("item", "7"), {"request": 1, "why": "check"})
        record(session, "key:ab12cd", "decision", ("request", 1), {"decision": "remove", "note": "é✓"})


def test_an_intact_chain_verifies(database: Database) -> None:
    _record_three(database)
    with database.read() as session:
        result = verify(session)
        rows = events(session)
    assert result.ok and result.events == 3 and result.bad_seq is None
    assert [row.seq for row in rows] == [1, 2, 3]
    assert rows[0].prev_hash == GENESIS_HASH
    assert [row.prev_hash for row in rows[1:]] == [row.hash for row in rows[:-1]]
    assert result.head == rows[-1].hash


def test_an_empty_log_verifies(database: Database) -> None:
    with database.read() as session:
        result = verify(session)
    assert result.ok and result.events == 0 and result.head is None


def test_an_event_exists_only_if_its_transaction_commits(database: Database) -> None:
    with pytest.raises(RuntimeError), database.write() as session:
        record(session, "user:bob", "decision", ("request", 2), {"decision": "reject"})
        raise RuntimeError("the decision failed")
    with database.read() as session:
        assert events(session) == []


def test_hash_covers_every_field(database: Database) -> None:
    with database.write() as session:
        event = record(session, "system", "admin.change", ("user", "carol"), {"role": "admin"})
    fields = {
        "seq": 1, "at": event.at, "actor": "system", "action": "admin.change", "subject_type": "user",
        "subject_id": "carol", "details": {"role": "admin"}, "prev_hash": GENESIS_HASH,
    }
    assert event_hash(**fields) == event.hash  # type: ignore[arg-type]
    changed = {"seq": 2, "at": event.at + timedelta(microseconds=1), "actor": "user:x", "action": "view",
               "subject_type": "item", "subject_id": "carel", "details": {"role": "reviewer"},
               "prev_hash": "1" * 64}
    for name, value in changed.items():
        assert event_hash(**{**fields, name: value}) != event.hash, name  # type: ignore[arg-type]


def test_events_filter_by_time_and_subject(database: Database) -> None:
    start = datetime(2026, 11, 1, tzinfo=UTC)
    with database.write() as session:
        for day in range(3):
            record(session, "system", "view", ("request", day % 2), clock=lambda d=day: start + timedelta(d))
    with database.read() as session:
        assert [e.seq for e in events(session, since=start + timedelta(days=1))] == [2, 3]
        assert [e.seq for e in events(session, subject=("request", 0))] == [1, 3]


@pytest.mark.parametrize(
    ("actor", "action"),
    [("alice", "view"), ("user:", "view"), ("user:a b", "view"), ("system", "View"), ("system", "")],
)
def test_malformed_actor_or_action_is_refused(database: Database, actor: str, action: str) -> None:
    with database.write() as session, pytest.raises(ValueError):
        record(session, actor, action)


@pytest.mark.parametrize("subject", [("", "1"), ("request", "9" * 201), ("t" * 61, "1")])
def test_malformed_subjects_are_refused(database: Database, subject: tuple[str, str]) -> None:
    with database.write() as session, pytest.raises(ValueError, match="audit subject"):
        record(session, "system", "view", subject)


@pytest.mark.parametrize("details", [{"when": datetime(2026, 1, 1)}, {"ratio": float("nan")}])
def test_details_that_are_not_json_are_refused(database: Database, details: dict[str, object]) -> None:
    with database.write() as session, pytest.raises(ValueError, match="must be JSON"):
        record(session, "system", "view", None, details)


@pytest.mark.parametrize("statement", ["UPDATE audit_log SET actor = 'user:x'", "DELETE FROM audit_log"])
def test_update_and_delete_are_refused_by_the_database(database: Database, statement: str) -> None:
    _record_three(database)
    with pytest.raises(sqlalchemy.exc.DatabaseError, match="append-only"), database.engine.begin() as conn:
        conn.execute(text(statement))
    with database.read() as session:
        assert verify(session).ok


def _verify(database: Database) -> tuple[int | None, str]:
    with database.read() as session:
        result = verify(session)
    assert not result.ok
    return result.bad_seq, result.problem or ""


def test_altered_details_are_caught(database: Database) -> None:
    _record_three(database)
    tamper(database, "UPDATE audit_log SET details = :d WHERE seq = 2", d='{"request":1,"why":"nothing"}')
    bad_seq, problem = _verify(database)
    assert bad_seq == 2 and "altered" in problem


def test_altered_time_is_caught(database: Database) -> None:
    _record_three(database)
    with database.read() as session:
        at = events(session)[2].at
    tamper(database, "UPDATE audit_log SET at = :at WHERE seq = 3", at=(at - timedelta(hours=1)).replace(
        tzinfo=None) if database.engine.dialect.name == "sqlite" else at - timedelta(hours=1))
    assert _verify(database)[0] == 3


def test_a_removed_event_is_caught(database: Database) -> None:
    _record_three(database)
    tamper(database, "DELETE FROM audit_log WHERE seq = 2")
    bad_seq, problem = _verify(database)
    assert bad_seq == 3 and "removed or inserted" in problem


def test_a_removed_first_event_is_caught(database: Database) -> None:
    _record_three(database)
    tamper(database, "DELETE FROM audit_log WHERE seq = 1")
    assert _verify(database)[0] == 2


def test_a_forged_event_at_the_end_is_caught(database: Database) -> None:
    _record_three(database)
    with database.read() as session:
        head = events(session)[-1].hash
    tamper(
        database,
        "INSERT INTO audit_log (seq, at, actor, action, subject_type, subject_id, details, prev_hash, hash)"
        " VALUES (4, :at, 'user:mallory', 'decision', 'request', '1', '{}', :prev, :hash)",
        at=datetime(2026, 11, 22, 12), prev=head, hash="f" * 64,
    )
    bad_seq, problem = _verify(database)
    assert bad_seq == 4 and "altered" in problem


def test_a_forged_event_in_the_middle_is_caught(database: Database) -> None:
    """The forger renumbers the later events to make room and computes a correct hash for the forgery:
    the event after it still points at the old predecessor."""
    _record_three(database)
    with database.read() as session:
        first = events(session)[0]
    at = datetime(2026, 11, 22, 12, tzinfo=UTC)
    forged_hash = event_hash(seq=2, at=at, actor="user:mallory", action="decision", subject_type="request",
                             subject_id="1", details={}, prev_hash=first.hash)
    tamper(database, "UPDATE audit_log SET seq = seq + 10 WHERE seq >= 2")
    tamper(database, "UPDATE audit_log SET seq = seq - 9 WHERE seq >= 12")
    tamper(
        database,
        "INSERT INTO audit_log (seq, at, actor, action, subject_type, subject_id, details, prev_hash, hash)"
        " VALUES (2, :at, 'user:mallory', 'decision', 'request', '1', '{}', :prev, :hash)",
        at=at.replace(tzinfo=None) if database.engine.dialect.name == "sqlite" else at,
        prev=first.hash, hash=forged_hash,
    )
    bad_seq, problem = _verify(database)
    assert bad_seq == 3 and "prev_hash" in problem


def test_concurrent_appenders_do_not_fork_the_chain(database: Database) -> None:
    """Writers that hold their transaction open after appending (as a desk request does) queue behind
    each other; without the lock two would build on the same tail and one would fail."""
    threads, per_thread = 6, 4
    errors: list[BaseException] = []
    start = threading.Barrier(threads)

    def append(worker: int) -> None:
        try:
            start.wait()
            for n in range(per_thread):
                with database.write() as session:
                    record(session, f"user:w{worker}", "view", ("request", n))
                    time.sleep(0.005)
        except BaseException as error:  # reported below, with the thread's error
            errors.append(error)

    workers = [threading.Thread(target=append, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    with database.read() as session:
        result = verify(session)
    assert result.ok and result.events == threads * per_thread


def test_an_anchor_catches_a_rebuilt_chain(database: Database) -> None:
    """Rewriting event 1 and recomputing every hash after it gives a valid chain; the head recorded
    before no longer appears in it."""
    _record_three(database)
    with database.read() as session:
        old_head = verify(session).head
    rebuilt = []
    prev = GENESIS_HASH
    with database.read() as session:
        for event in events(session):
            actor = "user:mallory" if event.seq == 1 else event.actor
            details = json.loads(event.details)
            new_hash = event_hash(seq=event.seq, at=event.at, actor=actor, action=event.action,
                                  subject_type=event.subject_type, subject_id=event.subject_id,
                                  details=details, prev_hash=prev)
            rebuilt.append((event.seq, actor, prev, new_hash))
            prev = new_hash
    for seq, actor, prev_hash, new_hash in rebuilt:
        tamper(database, "UPDATE audit_log SET actor = :a, prev_hash = :p, hash = :h WHERE seq = :s",
               a=actor, p=prev_hash, h=new_hash, s=seq)
    with database.read() as session:
        assert verify(session).ok
        result = verify(session, anchor=old_head)
    assert not result.ok and result.bad_seq is None and "rebuilt" in (result.problem or "")
