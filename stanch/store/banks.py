"""The bank repository: banks, their entries, withdrawal and expiry.

Writes take a session from ``Database.write()`` and commit with it; each one also appends to the
change feed, so every server process's index follows within a second.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from stanch.store.changes import record_changes
from stanch.store.entries import FrameRow, NewEntry, PdqRow, frames_from_rows
from stanch.store.models import (
    BANK_KINDS,
    TRUSTS,
    Bank,
    Entry,
    EntryHash,
    Import,
    VideoFrame,
    utcnow,
)
from stanch.store.writer import EntryWriter, WriteResult

_BANK_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,199}")


class UnknownBank(LookupError):
    """No bank has that name."""


class UnknownEntry(LookupError):
    """No entry has that id in that bank."""


class BankExists(ValueError):
    """A bank with that name already exists."""


def create_bank(
    session: Session, name: str, *, threshold: int = 31, trust: str = "block", kind: str = "match",
    auto_remove: str | None = None,
) -> Bank:
    """Create a bank. Names are letters, digits, ``_``, ``.`` and ``-`` (they appear in URLs).
    ``auto_remove`` is a rule already checked by ``stanch.matching.auto_remove`` (None: the default)."""
    if not _BANK_NAME.fullmatch(name):
        raise ValueError(
            f"bank name {name!r} is not allowed: use letters, digits, '_', '.', '-' (at most 200),"
            " starting with a letter or digit"
        )
    _check_settings(threshold, trust, kind)
    if session.scalar(select(Bank.id).where(Bank.name == name)) is not None:
        raise BankExists(f"a bank named {name!r} already exists")
    bank = Bank(name=name, threshold=threshold, trust=trust, kind=kind, created=utcnow(),
                auto_remove=auto_remove)
    session.add(bank)
    session.flush()
    record_changes(session, bank.id, "bank", [None])
    return bank


def update_bank(
    session: Session,
    name: str,
    *,
    threshold: int | None = None,
    trust: str | None = None,
    kind: str | None = None,
    auto_remove: str | None = None,
) -> Bank:
    """Change a bank's threshold, trust, kind or auto-remove rule (checked by the caller with
    ``stanch.matching.auto_remove``); matching picks the change up through the feed."""
    bank = get_bank(session, name)
    _check_settings(
        bank.threshold if threshold is None else threshold,
        trust or bank.trust,
        kind or bank.kind,
    )
    bank.threshold = bank.threshold if threshold is None else threshold
    bank.trust = trust or bank.trust
    bank.kind = kind or bank.kind
    bank.auto_remove = auto_remove or bank.auto_remove
    session.flush()
    record_changes(session, bank.id, "bank", [None])
    return bank


def _check_settings(threshold: int, trust: str, kind: str) -> None:
    if not 0 <= threshold <= 256:
        raise ValueError(f"a threshold is a number of differing bits, 0 to 256; got {threshold}")
    if trust not in TRUSTS:
        raise ValueError(f"trust must be one of {', '.join(TRUSTS)}, not {trust!r}")
    if kind not in BANK_KINDS:
        raise ValueError(f"bank kind must be one of {', '.join(BANK_KINDS)}, not {kind!r}")


def get_bank(session: Session, name: str) -> Bank:
    """The bank called ``name``; ``UnknownBank`` (with what to do) if there is none."""
    bank = session.scalar(select(Bank).where(Bank.name == name))
    if bank is None:
        raise UnknownBank(f"no bank named {name!r}: create it first (stanch bank create {name})")
    return bank


def list_banks(session: Session) -> list[Bank]:
    """All banks, by name."""
    return list(session.scalars(select(Bank).order_by(Bank.name)))


def bank_record(bank: Bank, entries: int) -> dict[str, Any]:
    """A bank as the API and the CLI show it (JSON-ready), with ``entries``, its count of active entries
    (``auto_remove`` None: the default rule, which the API and CLI write out)."""
    return {
        "name": bank.name,
        "threshold": bank.threshold,
        "trust": bank.trust,
        "kind": bank.kind,
        "entries": entries,
        "created": bank.created.isoformat(),
        "auto_remove": bank.auto_remove,
    }


def active_entry_counts(session: Session, now: datetime | None = None) -> dict[int, int]:
    """Entries that still count (not withdrawn, not expired), per bank id."""
    now = now or utcnow()
    rows = session.execute(
        select(Entry.bank_id, func.count())
        .where(Entry.withdrawn_at.is_(None), (Entry.expires.is_(None)) | (Entry.expires > now))
        .group_by(Entry.bank_id)
    )
    return {bank_id: count for bank_id, count in rows}


def add_entries(
    session: Session, bank: Bank, entries: Iterable[NewEntry], *, trust: str | None = None
) -> WriteResult:
    """Add entries to ``bank`` in the session's transaction (they count once it commits)."""
    writer = EntryWriter(session, bank, trust=trust)
    for entry in entries:
        writer.add(entry)
    return writer.finish()


def add_entry(session: Session, bank: Bank, entry: NewEntry) -> int:
    """Add one entry; returns its id (or the id of the active entry with the same external name)."""
    result = add_entries(session, bank, [entry])
    if result.added_ids:
        return result.added_ids[0]
    key = entry.key
    assert key is not None  # only a named entry can be found already present
    found = session.scalar(
        select(func.min(Entry.id)).where(
            Entry.bank_id == bank.id,
            Entry.external_list == key[0],
            Entry.external_id == key[1],
            Entry.withdrawn_at.is_(None),
        )
    )
    assert found is not None
    return int(found)


def start_import(session: Session, bank: Bank, *, source: str, format: str, trust: str | None) -> Import:
    """Record an import (its source, format and trust) before its entries are written."""
    record = Import(
        bank_id=bank.id, source=source, format=format, trust=trust or bank.trust, created=utcnow()
    )
    session.add(record)
    session.flush()
    return record


def get_entry(session: Session, bank: Bank, entry_id: int) -> Entry:
    """Entry ``entry_id`` of ``bank``, withdrawn or not; ``UnknownEntry`` otherwise."""
    entry = session.get(Entry, entry_id)
    if entry is None or entry.bank_id != bank.id:
        raise UnknownEntry(f"bank {bank.name!r} has no entry {entry_id}")
    return entry


def withdraw_entry(session: Session, bank: Bank, entry_id: int, *, reason: str = "withdrawn") -> Entry:
    """Take an entry out of matching (it stays on record, with when and why). Idempotent."""
    entry = get_entry(session, bank, entry_id)
    if entry.withdrawn_at is None:
        entry.withdrawn_at = utcnow()
        entry.withdrawn_reason = reason
        session.flush()
        record_changes(session, bank.id, "withdraw", [entry.id])
    return entry


def withdraw_expired(session: Session, now: datetime | None = None) -> list[int]:
    """Withdraw every entry whose ``expires`` has passed, so that indexes drop it through the feed.

    ``stanch prune`` runs it (expired entries stop matching at once anyway: the index checks the time
    and skips them when it loads); running it from several processes at once is harmless.
    """
    now = now or utcnow()
    expired = list(
        session.execute(
            select(Entry.id, Entry.bank_id).where(Entry.withdrawn_at.is_(None), Entry.expires <= now)
        )
    )
    if not expired:
        return []
    ids = [entry_id for entry_id, _ in expired]
    session.execute(
        update(Entry)
        .where(Entry.id.in_(ids), Entry.withdrawn_at.is_(None))
        .values(withdrawn_at=now, withdrawn_reason="expired")
    )
    by_bank: dict[int, list[int]] = {}
    for entry_id, bank_id in expired:
        by_bank.setdefault(bank_id, []).append(entry_id)
    for bank_id, entry_ids in by_bank.items():
        record_changes(session, bank_id, "withdraw", entry_ids)
    return ids


@dataclass(frozen=True)
class StoredEntry:
    """An entry as stored, with its hash rows and frames (what ``bank export`` writes)."""

    entry: Entry
    hashes: tuple[PdqRow, ...]
    frames: tuple[FrameRow, ...]


def iter_entries(
    session: Session, bank: Bank, *, include_withdrawn: bool = False, batch_size: int = 2_000
) -> Iterator[StoredEntry]:
    """A bank's entries in id order, with their hashes, read a batch at a time."""
    after = 0
    while True:
        query = select(Entry).where(Entry.bank_id == bank.id, Entry.id > after)
        if not include_withdrawn:
            query = query.where(Entry.withdrawn_at.is_(None))
        entries = list(session.scalars(query.order_by(Entry.id).limit(batch_size)))
        if not entries:
            return
        ids = [e.id for e in entries]
        hashes: dict[int, list[PdqRow]] = {}
        for h in session.scalars(select(EntryHash).where(EntryHash.entry_id.in_(ids)).order_by(EntryHash.id)):
            hashes.setdefault(h.entry_id, []).append(PdqRow(h.role, h.pdq, h.quality, h.indexed))
        rows: dict[int, list[tuple[str, bytes, int, float]]] = {}
        for f in session.scalars(
            select(VideoFrame).where(VideoFrame.entry_id.in_(ids)).order_by(VideoFrame.id)
        ):
            rows.setdefault(f.entry_id, []).append((f.view, f.pdq, f.quality, f.ts))
        for e in entries:
            frames = tuple(frames_from_rows(rows.get(e.id, ())))
            yield StoredEntry(e, tuple(hashes.get(e.id, ())), frames)
        after = ids[-1]


def find_by_digest(
    session: Session, *, md5: str | None = None, sha256: str | None = None, now: datetime | None = None
) -> list[Entry]:
    """Active entries with exactly this MD5 or SHA-256 (the exact-copy signal)."""
    if md5 is None and sha256 is None:
        return []
    now = now or utcnow()
    conditions = []
    if md5 is not None:
        conditions.append(Entry.md5 == md5.lower())
    if sha256 is not None:
        conditions.append(Entry.sha256 == sha256.lower())
    query = select(Entry).where(
        Entry.withdrawn_at.is_(None),
        (Entry.expires.is_(None)) | (Entry.expires > now),
        conditions[0] if len(conditions) == 1 else (conditions[0] | conditions[1]),
    )
    return list(session.scalars(query.order_by(Entry.id)))
