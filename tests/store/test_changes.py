"""The change feed: every add and withdraw, in commit order, visible to other connections."""

from __future__ import annotations

import threading

from stanch.store import (
    add_entry,
    create_bank,
    entry_from_hashes,
    feed_since,
    index_rows_for_entries,
    latest_seq,
    withdraw_entry,
)


def test_feed_lists_changes_in_order_and_pages(database) -> None:
    with database.read() as session:
        start = latest_seq(session)
    with database.write() as session:
        bank = create_bank(session, "ncii")
        first = add_entry(session, bank, entry_from_hashes(pdq="1" * 64))
        second = add_entry(session, bank, entry_from_hashes(pdq="2" * 64))
    with database.write() as session:
        withdraw_entry(session, bank, first)
    with database.read() as session:
        changes = feed_since(session, start).changes
        assert [(c.op, c.entry_id) for c in changes] == [
            ("bank", None),
            ("add", first),
            ("add", second),
            ("withdraw", first),
        ]
        seqs = [c.seq for c in changes]
        assert seqs == sorted(seqs) and len(set(seqs)) == 4
        assert feed_since(session, seqs[1], limit=1).changes[0].entry_id == second
        assert feed_since(session, seqs[-1]).changes == []
        assert latest_seq(session) == seqs[-1]


def test_rolled_back_change_never_appears(database) -> None:
    with database.write() as session:
        bank = create_bank(session, "ncii")
        before = latest_seq(session)
    try:
        with database.write() as session:
            add_entry(session, bank, entry_from_hashes(pdq="3" * 64))
            raise RuntimeError("abandon the transaction")
    except RuntimeError:
        pass
    with database.read() as session:
        assert feed_since(session, before).changes == []


def test_added_entry_rows_can_be_fetched_for_the_index(database) -> None:
    with database.write() as session:
        bank = create_bank(session, "ncii")
        entry_id = add_entry(session, bank, entry_from_hashes(pdq="4" * 64))
    with database.read() as session:
        change = feed_since(session, 0).changes[-1]
        rows = index_rows_for_entries(session, [change.entry_id])
        assert [(r[1], r[2], r[3].hex()) for r in rows] == [(entry_id, bank.id, "4" * 64)]
    with database.write() as session:
        withdraw_entry(session, bank, entry_id)
    with database.read() as session:
        assert index_rows_for_entries(session, [entry_id]) == []


def test_concurrent_writers_commit_in_feed_order(database) -> None:
    """A second writer waits until the first commits, so ``seq`` order is commit order."""
    with database.write() as session:
        bank = create_bank(session, "ncii")
        start = latest_seq(session)
    second_done = threading.Event()

    def second_writer() -> None:
        with database.write() as other:
            add_entry(other, bank, entry_from_hashes(pdq="6" * 64))
        second_done.set()

    with database.write() as first:
        first_id = add_entry(first, bank, entry_from_hashes(pdq="5" * 64))
        thread = threading.Thread(target=second_writer)
        thread.start()
        assert not second_done.wait(0.5)  # held back while the first transaction is open
    thread.join(timeout=30)
    assert second_done.is_set()
    with database.read() as session:
        adds = [c for c in feed_since(session, start).changes if c.op == "add"]
        assert adds[0].entry_id == first_id and adds[0].seq < adds[1].seq
