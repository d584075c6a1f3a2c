"""Pruning the change feed: the newest rows stay, the watermark moves in the same transaction, and
readers get the watermark with the rows (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
import sqlalchemy
from alembic import command

from stanch.store import (
    Database,
    add_entry,
    create_bank,
    entry_from_hashes,
    feed_since,
    get_bank,
    latest_seq,
    prune_feed,
    withdraw_entry,
)
from stanch.store.migrate import alembic_config, upgrade


def _fill(database: Database, adds: int) -> list[int]:
    """One bank and ``adds`` entries, each in its own transaction; returns the feed's seqs."""
    with database.write() as session:
        bank = create_bank(session, "ncii")
    for n in range(adds):
        with database.write() as session:
            add_entry(session, bank, entry_from_hashes(pdq=f"{n + 1:064x}"))
    with database.read() as session:
        return [c.seq for c in feed_since(session, 0).changes]


def test_prune_keeps_the_newest_rows_and_records_the_watermark(database: Database) -> None:
    seqs = _fill(database, 5)
    with database.write() as session:
        done = prune_feed(session, keep=2)
    assert (done.rows, done.through) == (4, seqs[-3])
    with database.read() as session:
        page = feed_since(session, 0)
        assert [c.seq for c in page.changes] == seqs[-2:]
        assert page.pruned_through == seqs[-3]
        assert latest_seq(session) == seqs[-1]
        assert feed_since(session, seqs[-1]).changes == []
        assert feed_since(session, seqs[-1]).pruned_through == seqs[-3]


def test_pruning_again_with_nothing_new_changes_nothing(database: Database) -> None:
    seqs = _fill(database, 3)
    with database.write() as session:
        prune_feed(session, keep=1)
    with database.write() as session:
        again = prune_feed(session, keep=1)
        assert (again.rows, again.through) == (0, seqs[-2])
        assert prune_feed(session, keep=10).rows == 0


def test_an_unpruned_feed_has_watermark_0_and_a_short_feed_is_left_alone(database: Database) -> None:
    seqs = _fill(database, 2)
    with database.write() as session:
        assert feed_since(session, 0).pruned_through == 0
        assert prune_feed(session, keep=3).rows == 0
        assert [c.seq for c in feed_since(session, 0).changes] == seqs


def test_keep_counts_rows_not_seq_numbers_across_gaps(database: Database) -> None:
    """A rolled-back transaction leaves a hole in PostgreSQL's sequence; ``keep`` rows still stay."""
    _fill(database, 2)
    with pytest.raises(RuntimeError), database.write() as session:
        add_entry(session, get_bank(session, "ncii"), entry_from_hashes(pdq="e" * 64))
        raise RuntimeError("roll back")
    with database.write() as session:
        add_entry(session, get_bank(session, "ncii"), entry_from_hashes(pdq="f" * 64))
    with database.write() as session:
        prune_feed(session, keep=3)
    with database.read() as session:
        assert len(feed_since(session, 0).changes) == 3


def test_a_rolled_back_prune_deletes_nothing_and_moves_no_watermark(database: Database) -> None:
    seqs = _fill(database, 3)
    with pytest.raises(RuntimeError), database.write() as session:
        assert prune_feed(session, keep=1).rows == 3
        raise RuntimeError("roll back")
    with database.read() as session:
        page = feed_since(session, 0)
    assert [c.seq for c in page.changes] == seqs and page.pruned_through == 0


def test_seq_keeps_growing_after_a_prune(database: Database) -> None:
    """The newest row always stays, so SQLite's rowid cannot start again below the watermark."""
    seqs = _fill(database, 2)
    with database.write() as session:
        prune_feed(session, keep=1)
    with database.write() as session:
        bank = get_bank(session, "ncii")
        withdraw_entry(session, bank, add_entry(session, bank, entry_from_hashes(pdq="9" * 64)))
    with database.read() as session:
        page = feed_since(session, seqs[-1])
    assert [c.op for c in page.changes] == ["add", "withdraw"]
    assert min(c.seq for c in page.changes) > seqs[-1] > page.pruned_through


def test_keep_below_1_is_refused(database: Database) -> None:
    with database.write() as session, pytest.raises(ValueError, match="at least 1"):
        prune_feed(session, keep=0)


def test_migration_0008_goes_down_and_up(database: Database) -> None:
    config = alembic_config()
    with database.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0007")
    assert "bank_changes_pruned" not in sqlalchemy.inspect(database.engine).get_table_names()
    upgrade(database.engine)
    assert "bank_changes_pruned" in sqlalchemy.inspect(database.engine).get_table_names()
