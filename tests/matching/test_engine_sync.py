"""Engines loaded from the store and following its change feed (SQLite and PostgreSQL)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest

from stanch.matching.engine import MatchEngine
from stanch.matching.query import hash_query
from stanch.matching.sync import BankFollower
from stanch.signals import hash_media
from stanch.store import (
    Database,
    EntryWriter,
    Provenance,
    add_entries,
    add_entry,
    create_bank,
    entry_from_hashes,
    entry_from_signals,
    get_bank,
    open_database,
    update_bank,
    utcnow,
    withdraw_entry,
)
from tests.api.conftest import MIRROR_VIEWS, encoded, picture

A = "d8f8f0cce0f4e84ef8f0f0b0b8f0e0e0c6c6e6e2f2f2f0f0e0c0c0c0e0f0f8fc"
B = "".join("0123456789abcdef"[15 - int(c, 16)] for c in A)


def follower(db: Database, interval: float = 0.05) -> BankFollower:
    result = BankFollower(db, MatchEngine(), interval=interval)
    result.load()
    return result


def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> float:
    """Seconds until ``condition()`` held; fails after ``timeout``."""
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < timeout, "the engine did not converge in time"
        time.sleep(0.01)
    return time.monotonic() - start


def matched(engine: MatchEngine, pdq: str) -> bool:
    return engine.match_image(hash_query(pdq)).matched


@pytest.fixture
def second(db_url: str) -> Iterator[Database]:
    """Another connection pool on the same database, as a second server process would have."""
    db = open_database(db_url, migrate=False)
    yield db
    db.dispose()


def test_load_reads_every_live_entry_and_skips_withdrawn_and_expired(database: Database) -> None:
    with database.write() as session:
        bank = create_bank(session, "ncii")
        create_bank(session, "empty")
        add_entry(session, bank, entry_from_hashes(pdq=A, md5="a" * 32))
        gone = add_entry(session, bank, entry_from_hashes(pdq=B))
        expired = Provenance(expires=utcnow() - timedelta(seconds=1))
        add_entry(session, bank, entry_from_hashes(pdq="0" * 64, provenance=expired))
        withdraw_entry(session, bank, gone)
    engine = follower(database).engine
    assert matched(engine, A) and not matched(engine, B) and not matched(engine, "0" * 64)
    assert engine.match_image(hash_query(md5="a" * 32)).matched
    assert engine.stats()["image_hashes"] == 1
    assert {rule.name for rule in engine.bank_rules()} == {"ncii", "empty"}


def test_loaded_views_are_named_like_freshly_added_ones(database: Database) -> None:
    rgb = picture(11)
    signals = hash_media(encoded(rgb), purpose="bank")
    with database.write() as session:
        add_entry(session, create_bank(session, "ncii"), entry_from_signals(signals))
    loaded = follower(database)
    mirrored = hash_media(encoded(rgb[:, ::-1].copy()))
    verdict = loaded.engine.match(mirrored)
    assert verdict.matched and verdict.matches[0].hash in MIRROR_VIEWS


def test_another_process_sees_adds_withdrawals_and_bank_changes_within_a_second(
    database: Database, second: Database
) -> None:
    with database.write() as session:
        create_bank(session, "ncii")
    writer, reader = follower(database), follower(second, interval=0.2)
    reader.start()
    try:
        with database.write() as session:
            entry = add_entry(session, get_bank(session, "ncii"), entry_from_hashes(pdq=A))
        writer.poll()
        assert matched(writer.engine, A)  # the writing process: at once
        assert wait_until(lambda: matched(reader.engine, A)) < 1.0
        with database.write() as session:
            update_bank(session, "ncii", trust="review")
        wait_until(lambda: reader.engine.match_image(hash_query(A)).action == "review")
        with database.write() as session:
            withdraw_entry(session, get_bank(session, "ncii"), entry)
        assert wait_until(lambda: not matched(reader.engine, A)) < 1.0
    finally:
        reader.stop()


def test_changes_committed_while_loading_are_not_lost(database: Database) -> None:
    with database.write() as session:
        bank = create_bank(session, "ncii")
        add_entry(session, bank, entry_from_hashes(pdq=A))
    loaded = follower(database)
    with database.write() as session:
        add_entry(session, get_bank(session, "ncii"), entry_from_hashes(pdq=B))
    assert loaded.poll() == 1
    assert matched(loaded.engine, A) and matched(loaded.engine, B)
    assert loaded.poll() == 0


def test_many_adds_and_withdrawals_are_applied_incrementally(database: Database) -> None:
    with database.write() as session:
        create_bank(session, "ncii")
    loaded = follower(database)
    hashes = [f"{i:064x}" for i in range(1, 3000, 3)]
    named = [Provenance(external_list="partner", external_id=str(i)) for i in range(len(hashes))]
    with database.write() as session:
        entries = [entry_from_hashes(pdq=value, provenance=p) for value, p in zip(hashes, named, strict=True)]
        add_entries(session, get_bank(session, "ncii"), entries)
    assert loaded.poll() == len(hashes)
    assert loaded.engine.stats()["image_hashes"] == len(hashes)
    assert all(matched(loaded.engine, value) for value in hashes[:: len(hashes) // 20])
    with database.write() as session:
        writer = EntryWriter(session, get_bank(session, "ncii"))
        for provenance in named:
            writer.withdraw_external("partner", str(provenance.external_id), "the partner withdrew it")
        writer.finish()
    assert loaded.poll() == len(hashes)
    assert loaded.engine.stats()["image_hashes"] == 0
