"""Housekeeping in the server: ``stanch prune`` on a schedule, one process of several at a time (the
``housekeeping`` lease), and its setting (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from stanch.actions import enqueue_webhook
from stanch.housekeeping import LEASE, Housekeeper, prune_hours, prune_if_due
from stanch.runtime import Settings, Stanch
from stanch.store import Database, utcnow
from stanch.store.leases import finish_lease, last_done, take_lease
from stanch.store.outbox_models import OutboxMessage

DAY = timedelta(hours=24)


def _old_sent_message(db: Database) -> None:
    with db.write() as session:
        message = enqueue_webhook(session, "remove_item", {"item_id": "x"})
        session.execute(update(OutboxMessage).where(OutboxMessage.id == message.id)
                        .values(status="sent", done_at=utcnow() - timedelta(days=40)))


def _messages(db: Database) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(OutboxMessage)) or 0)


def test_one_process_prunes_once_a_period(database: Database) -> None:
    now = utcnow()
    _old_sent_message(database)
    first = prune_if_due(database, "server-a", now, DAY, clock=lambda: now)
    assert first is not None and first.outbox_rows == 1 and _messages(database) == 0
    _old_sent_message(database)
    later = now + timedelta(hours=1)
    assert prune_if_due(database, "server-b", later, DAY, clock=lambda: later) is None  # not due yet
    assert _messages(database) == 1
    tomorrow = now + DAY
    assert prune_if_due(database, "server-b", tomorrow, DAY, clock=lambda: tomorrow) is not None
    assert _messages(database) == 0
    with database.read() as session:
        assert last_done(session, LEASE) == tomorrow


def test_a_held_lease_keeps_the_others_out_until_it_expires(database: Database) -> None:
    now = utcnow()
    hold = timedelta(minutes=10)
    with database.write() as session:
        assert take_lease(session, "job", "a", now, hold=hold, every=DAY)
    with database.write() as session:
        assert not take_lease(session, "job", "b", now + timedelta(minutes=5), hold=hold, every=DAY)
    with database.write() as session:  # "a" died holding it: it expires and "b" takes over
        assert take_lease(session, "job", "b", now + timedelta(minutes=11), hold=hold, every=DAY)
    with database.write() as session:
        assert not finish_lease(session, "job", "a", now)  # no longer a's
        assert finish_lease(session, "job", "b", now + timedelta(minutes=12))


def test_a_failed_prune_frees_the_lease_for_the_next_round(database: Database,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import stanch.housekeeping as housekeeping

    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(housekeeping, "prune", broken)
    now = utcnow()
    with pytest.raises(RuntimeError):
        prune_if_due(database, "a", now, DAY, clock=lambda: now)
    monkeypatch.undo()
    assert prune_if_due(database, "b", now, DAY, clock=lambda: now) is not None


def test_the_server_setting() -> None:
    assert prune_hours({}) == 24 and prune_hours({"STANCH_PRUNE_HOURS": "0"}) == 0
    for bad in ("daily", "-1"):
        with pytest.raises(ValueError, match="STANCH_PRUNE_HOURS"):
            prune_hours({"STANCH_PRUNE_HOURS": bad})


def test_the_runtime_runs_a_housekeeper_unless_turned_off(database: Database) -> None:
    on = Stanch(database, Settings(prune_hours=6))
    assert isinstance(on.housekeeper, Housekeeper) and on.housekeeper.every == timedelta(hours=6)
    assert Stanch(database, Settings(prune_hours=0)).housekeeper is None


def test_a_housekeeper_round_prunes_when_due(database: Database) -> None:
    _old_sent_message(database)
    keeper = Housekeeper(database, DAY)
    keeper.round()
    assert _messages(database) == 0
    _old_sent_message(database)
    Housekeeper(database, DAY).round()  # another process, same day: not its turn
    assert _messages(database) == 1
