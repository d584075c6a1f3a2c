"""A follower and a pruned change feed: behind the watermark it reloads and ends equal to the
database; at the head it just follows (SQLite and PostgreSQL)."""

from __future__ import annotations

import logging

import pytest

from stanch.matching.engine import MatchEngine
from stanch.matching.query import hash_query
from stanch.matching.sync import BankFollower
from stanch.store import (
    Database,
    add_entry,
    create_bank,
    entry_from_hashes,
    get_bank,
    prune_feed,
    withdraw_entry,
)

OLD, GONE, PRUNED_ADD, LATER, LATER_GONE = (f"{n:x}" * 64 for n in range(1, 6))


def _follower(db: Database) -> BankFollower:
    result = BankFollower(db, MatchEngine())
    result.load()
    return result


def _matches(engine: MatchEngine) -> set[str]:
    everything = (OLD, GONE, PRUNED_ADD, LATER, LATER_GONE)
    return {h for h in everything if engine.match_image(hash_query(h)).matched}


def _add(db: Database, pdq: str) -> int:
    with db.write() as session:
        return add_entry(session, get_bank(session, "ncii"), entry_from_hashes(pdq=pdq))


def _withdraw(db: Database, entry_id: int) -> None:
    with db.write() as session:
        withdraw_entry(session, get_bank(session, "ncii"), entry_id)


def _prune(db: Database) -> int:
    with db.write() as session:
        return prune_feed(session, keep=1).through


def test_a_follower_behind_the_watermark_reloads_and_ends_equal_to_the_database(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    with database.write() as session:
        create_bank(session, "ncii")
    _add(database, OLD)
    gone = _add(database, GONE)
    behind = _follower(database)
    assert _matches(behind.engine) == {OLD, GONE}
    _withdraw(database, gone)             # both changes are pruned before the follower polls
    _add(database, PRUNED_ADD)
    through = _prune(database)
    later_gone = _add(database, LATER)    # after the prune: still in the feed
    _withdraw(database, _add(database, LATER_GONE))
    engine = behind.engine
    with caplog.at_level(logging.WARNING, logger="stanch.matching.sync"):
        behind.poll()
    assert behind.engine is engine, "the server's engine object is kept, its contents replaced"
    assert f"pruned through seq {through}" in caplog.text and "reloading" in caplog.text
    fresh = _follower(database)
    assert _matches(engine) == _matches(fresh.engine) == {OLD, PRUNED_ADD, LATER}
    assert engine.stats() == fresh.engine.stats()
    assert behind.seq == fresh.seq
    _withdraw(database, later_gone)       # and it goes on following from there
    assert behind.poll() == 1 and _matches(engine) == {OLD, PRUNED_ADD}


def test_a_follower_at_the_head_is_unaffected_by_a_prune(
    database: Database, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    with database.write() as session:
        create_bank(session, "ncii")
    gone = _add(database, GONE)
    head = _follower(database)
    _add(database, OLD)
    _withdraw(database, gone)
    assert head.poll() == 2
    _prune(database)
    monkeypatch.setattr(head, "_load_into", lambda engine: pytest.fail("a follower at the head reloaded"))
    with caplog.at_level(logging.WARNING, logger="stanch.matching.sync"):
        assert head.poll() == 0
        _add(database, LATER)
        assert head.poll() == 1
    assert "reloading" not in caplog.text
    assert _matches(head.engine) == {OLD, LATER}
