"""The flood guard, driven by hand with a fixed clock: per-process counts flushed in batches, summed
over processes in the database, and an entry or a bank switched to review past the limits."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import select

from stanch.desk.audit import events
from stanch.desk.flood import FloodGuard, FloodSettings, window_of
from stanch.matching.counter import MatchCounter
from stanch.matching.query import hash_query
from stanch.runtime import Settings, Stanch
from stanch.store import Database, add_entry, create_bank, entry_from_hashes, get_bank
from stanch.store.entry_stats import entry_stats, window_counts
from stanch.store.models import Entry
from stanch.store.outbox_models import OutboxMessage

NOW = datetime(2026, 12, 2, 10, 15, tzinfo=UTC)
LIMITS = FloodSettings(uploads=20, share=0.9, min_lookups=10_000, bank_uploads=1_000, bank_share=1.0)


def near(pdq: bytes, seed: int, bits: int = 6) -> str:
    """A hash ``bits`` bits away from ``pdq`` (different for each seed): a distinct upload matching it."""
    rng = np.random.default_rng(seed)
    value = bytearray(pdq)
    for bit in rng.choice(256, bits, replace=False):
        value[bit // 8] ^= 1 << (bit % 8)
    return bytes(value).hex()


def banked(database: Database, name: str = "ncii", seed: int = 0) -> tuple[int, bytes]:
    pdq = np.random.default_rng(1000 + seed).integers(0, 256, 32, dtype=np.uint8).tobytes()
    with database.write() as session:
        try:
            bank = get_bank(session, name)
        except LookupError:
            bank = create_bank(session, name)
        entry = add_entry(session, bank, entry_from_hashes(pdq=pdq.hex(), quality=100))
    return entry, pdq


def runtime(database: Database, limits: FloodSettings = LIMITS, clock: datetime = NOW) -> Stanch:
    app = Stanch(database, Settings(flood=limits, dispatch=False, exchange_fetch=False), clock=lambda: clock)
    app.load_banks()
    return app


def lookups(app: Stanch, pdq: bytes, seeds: range) -> list[str]:
    verdicts = app.lookup([hash_query(near(pdq, s), 100) for s in seeds])
    return [v.action for v in verdicts]


def trust_of(database: Database, entry: int) -> str:
    with database.read() as session:
        return session.get(Entry, entry).trust


def test_an_entry_past_the_upload_limit_is_switched_to_review_audited_and_announced(database) -> None:
    entry, pdq = banked(database)
    app = runtime(database)
    assert set(lookups(app, pdq, range(21))) == {"block"}
    flushed = app.flood.flush(NOW)
    assert flushed.entries == [entry] and flushed.lookups == 21
    assert trust_of(database, entry) == "review"
    assert set(lookups(app, pdq, range(100, 103))) == {"review"}  # this process applied the feed at once
    with database.read() as session:
        (event,) = [e for e in events(session) if e.action == "entry.flood_review"]
        assert event.actor == "system" and json.loads(event.details)["uploads"] == 21
        hooks = session.scalars(select(OutboxMessage).where(OutboxMessage.type == "entry.flood_review")).all()
        assert len(hooks) == 1 and json.loads(hooks[0].payload)["entry"] == entry
        (stats,) = entry_stats(session, [entry])
        assert stats.served == 21 and stats.flooded_at == NOW  # the 3 after it are not flushed yet
    app.stop()


def test_the_same_upload_looked_up_again_counts_once(database) -> None:
    entry, pdq = banked(database)
    app = runtime(database)
    for _ in range(30):
        app.lookup([hash_query(near(pdq, 1), 100)])
    assert app.flood.flush(NOW).entries == []
    assert trust_of(database, entry) == "block"
    with database.read() as session:
        assert window_counts(session, window_of(NOW)).entries == {entry: 1}
        assert entry_stats(session, [entry])[0].served == 30


def test_counts_from_several_processes_add_up_in_the_database(database) -> None:
    entry, pdq = banked(database)
    one, two = runtime(database), runtime(database)
    lookups(one, pdq, range(12))
    assert one.flood.flush(NOW).entries == []
    lookups(two, pdq, range(100, 112))
    assert two.flood.flush(NOW).entries == [entry]
    assert trust_of(database, entry) == "review"
    one.follower.poll()
    assert set(lookups(one, pdq, range(200, 202))) == {"review"}


def test_counts_of_the_previous_hour_do_not_count_in_this_one(database) -> None:
    entry, pdq = banked(database)
    earlier = runtime(database, clock=NOW - timedelta(hours=1))
    lookups(earlier, pdq, range(15))
    earlier.flood.flush(NOW - timedelta(hours=1))
    later = runtime(database)
    lookups(later, pdq, range(100, 115))
    assert later.flood.flush(NOW).entries == []
    assert trust_of(database, entry) == "block"


def test_the_share_rule_switches_an_entry_matching_most_lookups(database) -> None:
    entry, pdq = banked(database)
    other, _ = banked(database, seed=1)
    app = runtime(database, FloodSettings(uploads=10_000, share=0.5, min_lookups=10, bank_uploads=10_000))
    lookups(app, pdq, range(8))
    app.lookup([hash_query(near(bytes(32), s), 100) for s in range(4)])  # 4 lookups matching nothing
    assert app.flood.flush(NOW).entries == [entry]
    assert trust_of(database, other) == "block"


def test_a_bank_past_its_limit_is_switched_and_its_other_banks_are_not(database) -> None:
    entries = [banked(database, "noisy", seed=s) for s in range(3)]
    quiet, quiet_pdq = banked(database, "quiet", seed=9)
    app = runtime(database, FloodSettings(uploads=1_000, share=1.0, min_lookups=10_000, bank_uploads=25))
    for i, (_, pdq) in enumerate(entries):
        lookups(app, pdq, range(100 * i, 100 * i + 10))
    lookups(app, quiet_pdq, range(5))
    assert app.flood.flush(NOW).banks == ["noisy"]
    with database.read() as session:
        assert get_bank(session, "noisy").trust == "review" and get_bank(session, "quiet").trust == "block"
        assert [e.action for e in events(session)].count("bank.flood_review") == 1
    assert set(lookups(app, entries[0][1], range(900, 902))) == {"review"}
    assert trust_of(database, quiet) == "block"


def test_with_the_guard_off_counts_are_kept_and_nothing_switches(database) -> None:
    entry, pdq = banked(database)
    app = runtime(database, FloodSettings(enabled=False, uploads=2))
    lookups(app, pdq, range(10))
    assert app.flood.flush(NOW).entries == []
    assert trust_of(database, entry) == "block"


def test_a_flush_that_fails_puts_its_counts_back(database) -> None:
    entry, pdq = banked(database)
    counter = MatchCounter()
    app = runtime(database)
    verdicts = app.engine.match_queries([hash_query(near(pdq, s), 100) for s in range(5)])
    counter.note([hash_query(near(pdq, s), 100) for s in range(5)], verdicts, NOW)
    broken = FloodGuard(database, counter, LIMITS)
    broken._flush = lambda counts, now: (_ for _ in ()).throw(RuntimeError("database away"))  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        broken.flush(NOW)
    FloodGuard(database, counter, LIMITS).flush(NOW)
    with database.read() as session:
        assert entry_stats(session, [entry])[0].served == 5
        assert window_counts(session, window_of(NOW)).entries == {entry: 5}


def test_settings_from_the_environment_are_checked() -> None:
    assert FloodSettings.from_environment({}) == FloodSettings()
    given = FloodSettings.from_environment({"STANCH_FLOOD_UPLOADS": "50", "STANCH_FLOOD_SHARE": "0.25",
                                            "STANCH_FLOOD_GUARD": "0"})
    assert (given.uploads, given.share, given.enabled) == (50, 0.25, False)
    with pytest.raises(ValueError, match="STANCH_FLOOD_UPLOADS"):
        FloodSettings.from_environment({"STANCH_FLOOD_UPLOADS": "many"})
    with pytest.raises(ValueError, match="STANCH_FLOOD_SHARE"):
        FloodSettings.from_environment({"STANCH_FLOOD_SHARE": "2"})
