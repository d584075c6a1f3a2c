"""Expired entries leave the follower's memory on its timer, not only at restart (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

from stanch.matching.engine import MatchEngine
from stanch.matching.query import hash_query
from stanch.matching.sync import BankFollower
from stanch.store import Database, Provenance, add_entry, create_bank, entry_from_hashes, utcnow

SOON, LATER, NEVER = ("1" * 64, "2" * 64, "4" * 64)


def test_expired_entries_are_dropped_from_the_indexes(database: Database) -> None:
    now = utcnow()
    with database.write() as session:
        bank = create_bank(session, "ncii")
        add_entry(session, bank, entry_from_hashes(pdq=NEVER))
        add_entry(session, bank, entry_from_hashes(pdq=SOON, md5="a" * 32,
                                                   provenance=Provenance(expires=now + timedelta(hours=1))))
    follower = BankFollower(database, MatchEngine())
    follower.load()
    with database.write() as session:       # arrives through the feed, not the load
        add_entry(session, bank, entry_from_hashes(pdq=LATER,
                                                   provenance=Provenance(expires=now + timedelta(hours=3))))
    follower.poll()
    engine = follower.engine
    assert engine.stats()["image_hashes"] == 3
    assert follower.drop_expired(now) == 0
    assert follower.drop_expired(now + timedelta(hours=2)) == 1
    assert engine.stats()["image_hashes"] == 2
    assert engine.expired(now + timedelta(hours=2)) == []
    assert follower.drop_expired(now + timedelta(hours=4)) == 1
    assert engine.stats()["image_hashes"] == 1
    assert engine.match_image(hash_query(NEVER)).matched
    assert not engine.match_image(hash_query(md5="a" * 32)).matched
    assert engine._md5 == {}, "the digest of a dropped entry leaves memory too"
