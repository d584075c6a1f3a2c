"""What the bank follower (``stanch.matching.sync``) reads to fill and update the in-memory banks.

The queries live here, with the tables, so that matching asks the store for rows and never builds SQL
of its own. Every function returns plain tuples; ``now`` decides which entries are still live (the
caller's clock). Entry ids are read in chunks: SQLite bounds the parameters of one query.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, select, text, union
from sqlalchemy.orm import Session

from stanch.store.models import ENTRY_NOTED, HASH_NOTED, Bank, Entry, EntryHash, VideoFrame

CHUNK = 500
"""Entry ids per ``IN (...)`` query."""
EntryRow = tuple[int, int, str, str | None, str | None, str, datetime | None]
"""``(id, bank_id, kind, md5, sha256, trust, expires)``."""
FrameTuple = tuple[str, bytes, int, float]
"""``(view, pdq, quality, ts)`` of one stored frame hash."""


def all_banks(session: Session) -> list[Bank]:
    return list(session.scalars(select(Bank)))


def bank_by_id(session: Session, bank_id: int) -> Bank | None:
    return session.get(Bank, bank_id)


def chunks(ids: Sequence[int]) -> Iterable[list[int]]:
    return (list(ids[i : i + CHUNK]) for i in range(0, len(ids), CHUNK))


def _live(now: datetime) -> ColumnElement[bool]:
    return (Entry.withdrawn_at.is_(None) & Entry.disabled_at.is_(None)
            & (Entry.expires.is_(None) | (Entry.expires > now)))


def live_frames(session: Session, now: datetime) -> Iterator[tuple[int, int, str, bytes, int, float]]:
    """Every frame hash of every live video: ``(entry, bank, view, pdq, quality, ts)`` in stored order."""
    query = (
        select(VideoFrame.entry_id, VideoFrame.bank_id, VideoFrame.view, VideoFrame.pdq,
               VideoFrame.quality, VideoFrame.ts)
        .join(Entry, Entry.id == VideoFrame.entry_id)
        .where(_live(now))
        .order_by(VideoFrame.id)
        .execution_options(yield_per=50_000)
    )
    for row in session.execute(query):
        yield row[0], row[1], row[2], row[3], row[4], row[5]


def indexed_hashes(session: Session, ids: Sequence[int]) -> dict[int, list[tuple[str, bytes]]]:
    """The indexed PDQ hashes of these image entries, ``(view, 32 bytes)`` in stored order."""
    hashes: dict[int, list[tuple[str, bytes]]] = {}
    for chunk in chunks(ids):
        for entry_id, role, pdq in session.execute(
            select(EntryHash.entry_id, EntryHash.role, EntryHash.pdq)
            .where(EntryHash.entry_id.in_(chunk), EntryHash.indexed.is_(True))
            .order_by(EntryHash.id)
        ):
            hashes.setdefault(entry_id, []).append((role, bytes(pdq)))
    return hashes


def frames_of(session: Session, ids: Sequence[int]) -> dict[int, list[FrameTuple]]:
    """The stored frame hashes of these video entries, in stored order."""
    frames: dict[int, list[FrameTuple]] = {}
    for chunk in chunks(ids):
        for entry_id, view, pdq, quality, ts in session.execute(
            select(VideoFrame.entry_id, VideoFrame.view, VideoFrame.pdq, VideoFrame.quality, VideoFrame.ts)
            .where(VideoFrame.entry_id.in_(chunk))
            .order_by(VideoFrame.id)
        ):
            frames.setdefault(entry_id, []).append((view, pdq, quality, ts))
    return frames


def noted_ids() -> Select[tuple[int]]:
    """Ids of the entries the engine must know more of than their hashes: digests, expiry, lower
    trust, or indexed hashes that are not simply the dihedral ones in order (robustness views, a
    symmetric picture). Read through the partial indexes of migration 0018, whose predicates
    (``ENTRY_NOTED``, ``HASH_NOTED``) it states word for word, so that a start reads what grows with
    the noted entries, not a scan of the whole bank."""
    return union(
        select(Entry.id).where(text(ENTRY_NOTED)), select(EntryHash.entry_id).where(text(HASH_NOTED))
    )  # type: ignore[return-value]


def entry_rows(session: Session, now: datetime, *, noted: bool = False, ids: Sequence[int] | None = None,
               live_only: bool = True) -> list[EntryRow]:
    """Entries that are ``noted`` (see ``noted_ids``) or among ``ids``, live ones only unless told (rows as
    SQLAlchemy returns them, which unpack as ``EntryRow``: millions are read at start)."""
    query = select(Entry.id, Entry.bank_id, Entry.kind, Entry.md5, Entry.sha256, Entry.trust, Entry.expires)
    if live_only:
        query = query.where(_live(now))
    batches: Iterable[Any] = (
        [query.where(Entry.id.in_(noted_ids())) if noted else query]
        if ids is None
        else (query.where(Entry.id.in_(chunk)) for chunk in chunks(list(ids)))
    )
    return [row for q in batches for row in session.execute(q.order_by(Entry.id))]


def indexed_views(session: Session, ids: Sequence[int]) -> dict[int, tuple[str, ...]]:
    """The views of the indexed hashes of these entries, in stored order."""
    views: dict[int, list[str]] = {}
    for chunk in chunks(ids):
        for entry_id, role in session.execute(
            select(EntryHash.entry_id, EntryHash.role)
            .where(EntryHash.entry_id.in_(chunk), EntryHash.indexed.is_(True))
            .order_by(EntryHash.id)
        ):
            views.setdefault(entry_id, []).append(role)
    return {entry_id: tuple(roles) for entry_id, roles in views.items()}
