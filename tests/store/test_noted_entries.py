"""The entries a start reads besides the hashes (``bank_reads.noted_ids``, migration 0018), on SQLite
and PostgreSQL: exactly those with a digest, an expiry, ``review`` trust, or an indexed hash that is
not one of the dihedral views in order (or a hash not indexed); a bare PDQ line is not among them.
On SQLite the read goes through the two partial indexes and never scans ``entries`` or
``entry_hashes`` (the query plan says so), so a start from a snapshot reads what grows with the noted
entries, not with the bank."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.dialects import sqlite

from stanch.clock import utcnow
from stanch.signals.pdq import DIHEDRAL_NAMES
from stanch.store import NewEntry, PdqRow, Provenance, add_entry, create_bank, entry_from_hashes
from stanch.store.bank_reads import entry_rows, noted_ids
from stanch.store.models import NOTED_VIEWS, Entry

H = [f"{i:02x}" * 32 for i in range(1, 12)]


def _pdq(i: int) -> bytes:
    return bytes.fromhex(H[i])


def test_the_noted_views_are_the_dihedral_names() -> None:
    assert NOTED_VIEWS == DIHEDRAL_NAMES


def test_noted_entries_are_exactly_those_with_more_than_hashes(database) -> None:
    now = utcnow()
    with database.write() as session:
        bank = create_bank(session, "ncii")
        bare = add_entry(session, bank, entry_from_hashes(pdq=H[0]))
        listed = add_entry(session, bank, entry_from_hashes(
            pdq=H[1], provenance=Provenance(source="l", external_list="l", external_id=H[1])))
        digest = add_entry(session, bank, entry_from_hashes(pdq=H[2], md5="a" * 32))
        sha = add_entry(session, bank, entry_from_hashes(sha256="b" * 64))
        expiring = add_entry(session, bank, entry_from_hashes(
            pdq=H[3], provenance=Provenance(expires=now + timedelta(days=1))))
        review = add_entry(session, bank, entry_from_hashes(pdq=H[4], provenance=Provenance(trust="review")))
        views = add_entry(session, bank, NewEntry(pdq=_pdq(5), hashes=(
            PdqRow("original", _pdq(5), 90, True), PdqRow("trimmed", _pdq(6), 90, True))))
        dihedral = add_entry(session, bank, NewEntry(pdq=_pdq(7), hashes=(
            PdqRow("original", _pdq(7), 90, True), PdqRow("rotate90", _pdq(8), 90, True))))
        unindexed = add_entry(session, bank, NewEntry(
            pdq=_pdq(9), hashes=(PdqRow("original", _pdq(9), 10, False),)))
        expired = add_entry(session, bank, entry_from_hashes(
            pdq=H[10], provenance=Provenance(expires=now - timedelta(days=1))))
    with database.read() as session:
        ids = set(session.scalars(noted_ids()))
        live = [row[0] for row in entry_rows(session, now, noted=True)]
    assert ids == {digest, sha, expiring, review, views, unindexed, expired}
    assert bare not in ids and listed not in ids and dihedral not in ids
    assert live == sorted(ids - {expired})  # live ones only, in id order


def test_on_sqlite_the_start_reads_noted_entries_through_the_partial_indexes(database) -> None:
    if database.engine.dialect.name != "sqlite":
        return
    query = select(Entry.id).where(Entry.id.in_(noted_ids()))
    sql = str(query.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}))
    with database.read() as session:
        plan = [row[3] for row in session.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")]
    assert "SCAN entries USING INDEX ix_entries_noted" in plan
    assert "SCAN entry_hashes USING INDEX ix_entry_hashes_noted" in plan
    assert not [step for step in plan if step in ("SCAN entries", "SCAN entry_hashes")]
