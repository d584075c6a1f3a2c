"""Counting what matching does per entry, and the rows the flood guard and retroactive matching need.

Every write here adds to what is stored (``served = served + n``, an upsert on the primary key), so
several server processes flushing their in-memory counts into one database never lose one another's
counts. The functions run in the caller's transaction; nothing here reads settings or the clock: the
caller passes ``now``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from stanch.store.banks import get_entry
from stanch.store.bulk import copy_rows, db_time
from stanch.store.changes import record_changes
from stanch.store.engine import is_postgresql
from stanch.store.models import Bank, Entry
from stanch.store.stats_models import ALL_LOOKUPS, EntryStat, MatchWindow, RetroCursor, UploadLogRow

VERDICTS = ("confirmed", "rejected")
"""What a reviewer's decision says of the entries behind a match: the match was right, or wrong."""
_UPLOAD_LOG_LOCK = 0x5374616E6368 + 15
"""PostgreSQL advisory lock held from writing upload log rows to commit, so ids commit in order."""


def _insert(session: Session, model: type[Any]) -> Any:
    dialect = postgresql if is_postgresql(session.connection()) else sqlite
    return dialect.insert(model)


# -- per-entry counts ------------------------------------------------------------------------------


def add_served(session: Session, served: Mapping[int, int]) -> None:
    """Add ``served[entry]`` matches to each entry's ``served`` count."""
    rows = [{"entry_id": e, "served": n, "confirmed": 0, "rejected": 0} for e, n in served.items() if n]
    if rows:
        _add_counts(session, rows, ("served",))


def add_verdicts(session: Session, entry_ids: Iterable[int], verdict: str) -> list[EntryStat]:
    """Count one ``confirmed`` or ``rejected`` verdict for each entry (once per entry); returns the
    entries' stats after the change."""
    if verdict not in VERDICTS:
        raise ValueError(f"a verdict is one of {', '.join(VERDICTS)}, not {verdict!r}")
    ids = sorted(set(entry_ids))
    known = set(session.scalars(select(Entry.id).where(Entry.id.in_(ids)))) if ids else set()
    rows = [{"entry_id": e, "served": 0, "confirmed": 0, "rejected": 0, verdict: 1}
            for e in ids if e in known]
    if not rows:
        return []
    _add_counts(session, rows, (verdict,))
    return entry_stats(session, [row["entry_id"] for row in rows])


def _add_counts(session: Session, rows: list[dict[str, int]], columns: Sequence[str]) -> None:
    statement = _insert(session, EntryStat)
    statement = statement.on_conflict_do_update(
        index_elements=["entry_id"],
        set_={c: getattr(EntryStat.__table__.c, c) + getattr(statement.excluded, c) for c in columns},
    )
    session.execute(statement, sorted(rows, key=lambda row: row["entry_id"]))
    session.expire_all()


def entry_stats(session: Session, entry_ids: Sequence[int]) -> list[EntryStat]:
    """The stats rows of these entries (entries never counted have none), by entry id."""
    if not entry_ids:
        return []
    return list(session.scalars(select(EntryStat).where(EntryStat.entry_id.in_(list(entry_ids)))
                                .order_by(EntryStat.entry_id)))


def mark_stats(session: Session, entry_ids: Iterable[int], column: str, now: datetime) -> list[int]:
    """Set ``flagged_at``, ``flooded_at`` or ``retro_at`` on entries that do not have it yet; returns
    those (so two processes marking the same entry at once mark it once)."""
    if column not in ("flagged_at", "flooded_at", "retro_at"):
        raise ValueError(f"cannot mark {column!r}")
    ids = sorted(set(entry_ids))
    if not ids:
        return []
    session.execute(_insert(session, EntryStat).on_conflict_do_nothing(index_elements=["entry_id"]),
                    [{"entry_id": e, "served": 0, "confirmed": 0, "rejected": 0} for e in ids])
    attribute = getattr(EntryStat, column)
    marked = list(session.scalars(
        update(EntryStat).where(EntryStat.entry_id.in_(ids), attribute.is_(None))
        .values({column: now}).returning(EntryStat.entry_id)
    ))  # fmt: skip
    session.expire_all()
    return sorted(marked)


def flagged_entries(session: Session, limit: int = 100) -> list[tuple[EntryStat, Entry, Bank]]:
    """Entries flagged for rejected matches or switched by the flood guard, newest first."""
    newest = func.coalesce(EntryStat.flooded_at, EntryStat.flagged_at)
    return [tuple(row) for row in session.execute(  # type: ignore[misc]
        select(EntryStat, Entry, Bank).join(Entry, Entry.id == EntryStat.entry_id)
        .join(Bank, Bank.id == Entry.bank_id)
        .where((EntryStat.flagged_at.is_not(None)) | (EntryStat.flooded_at.is_not(None)))
        .order_by(newest.desc(), EntryStat.entry_id).limit(limit)
    )]


# -- hourly windows --------------------------------------------------------------------------------


@dataclass(frozen=True)
class WindowCounts:
    """Distinct uploads per entry and per bank, and every lookup, in one hour."""

    entries: dict[int, int]
    banks: dict[int, int]
    lookups: int


def add_window(session: Session, window: datetime, uploads: Mapping[int, int], lookups: int) -> None:
    """Add distinct-upload counts per entry (and ``lookups``, every lookup) to the hour ``window``."""
    banks: dict[int, int] = {}
    if uploads:
        found = session.execute(select(Entry.id, Entry.bank_id).where(Entry.id.in_(list(uploads))))
        banks = {int(entry): int(bank) for entry, bank in found}
    rows = [{"window_start": window, "entry_id": e, "bank_id": banks[e], "uploads": n}
            for e, n in sorted(uploads.items()) if e in banks and n]
    if lookups:
        rows.insert(0, {"window_start": window, "entry_id": ALL_LOOKUPS, "bank_id": 0, "uploads": lookups})
    if not rows:
        return
    statement = _insert(session, MatchWindow)
    statement = statement.on_conflict_do_update(
        index_elements=["window_start", "entry_id"],
        set_={"uploads": MatchWindow.__table__.c.uploads + statement.excluded.uploads},
    )
    session.execute(statement, rows)


def window_counts(session: Session, window: datetime) -> WindowCounts:
    """What every process has flushed for the hour ``window`` so far."""
    entries: dict[int, int] = {}
    banks: dict[int, int] = {}
    lookups = 0
    for entry, bank, uploads in session.execute(
        select(MatchWindow.entry_id, MatchWindow.bank_id, MatchWindow.uploads)
        .where(MatchWindow.window_start == window)
    ):
        if entry == ALL_LOOKUPS:
            lookups = int(uploads)
            continue
        entries[entry] = int(uploads)
        banks[bank] = banks.get(bank, 0) + int(uploads)
    return WindowCounts(entries, banks, lookups)


def prune_windows(session: Session, before: datetime) -> int:
    """Delete hour windows that started before ``before``; returns how many rows went."""
    result = session.execute(delete(MatchWindow).where(MatchWindow.window_start < before))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# -- switching entries -------------------------------------------------------------------------------


def set_entries_review(session: Session, entry_ids: Iterable[int]) -> list[int]:
    """Set trust ``review`` on those of these live entries still trusted ``block``; every process's index
    picks the change up through the feed (an ``add`` change re-reads an entry). Returns the switched."""
    ids = sorted(set(entry_ids))
    if not ids:
        return []
    rows = list(session.execute(
        update(Entry).where(Entry.id.in_(ids), Entry.trust == "block", Entry.withdrawn_at.is_(None))
        .values(trust="review").returning(Entry.id, Entry.bank_id)
    ))  # fmt: skip
    session.expire_all()
    for bank_id in sorted({bank for _, bank in rows}):
        record_changes(session, bank_id, "add", sorted(e for e, b in rows if b == bank_id))
    return sorted(e for e, _ in rows)


def disable_entry(session: Session, bank: Bank, entry_id: int, *, reason: str, now: datetime) -> Entry:
    """Stop matching an entry without withdrawing it (it stays active on record and can be enabled
    again); every index drops it through the feed. Idempotent."""
    entry = get_entry(session, bank, entry_id)
    if entry.withdrawn_at is not None:
        raise ValueError(f"entry {entry_id} of bank {bank.name!r} is withdrawn; there is nothing to disable")
    if entry.disabled_at is None:
        entry.disabled_at, entry.disabled_reason = now, reason[:200]
        session.flush()
        record_changes(session, bank.id, "withdraw", [entry.id])
    return entry


def enable_entry(session: Session, bank: Bank, entry_id: int) -> Entry:
    """Let a disabled entry match again (every index adds it back through the feed). Idempotent."""
    entry = get_entry(session, bank, entry_id)
    if entry.disabled_at is not None:
        entry.disabled_at = entry.disabled_reason = None
        session.flush()
        record_changes(session, bank.id, "add", [entry.id])
    return entry


# -- the upload log ----------------------------------------------------------------------------------


def log_uploads(session: Session, rows: Sequence[tuple[bytes, str, datetime]]) -> None:
    """Append ``(pdq, item id, logged at)`` rows. On PostgreSQL an advisory lock held to commit makes
    ids commit in order, so a reader following ``id > cursor`` never skips a row."""
    if not rows:
        return
    connection = session.connection()
    if is_postgresql(connection):
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_UPLOAD_LOG_LOCK})")
    copy_rows(connection, "upload_log", ("pdq", "item_id", "logged_at"),
              [(pdq, item[:500], db_time(connection, at)) for pdq, item, at in rows])


def uploads_since(session: Session, after: int, limit: int = 100_000) -> list[tuple[int, bytes]]:
    """Logged ``(id, pdq)`` with id above ``after``, oldest first."""
    rows = session.execute(select(UploadLogRow.id, UploadLogRow.pdq).where(UploadLogRow.id > after)
                           .order_by(UploadLogRow.id).limit(limit))
    return [(int(i), bytes(p)) for i, p in rows]


def logged_uploads(session: Session, ids: Sequence[int]) -> dict[int, tuple[bytes, str, datetime]]:
    """``id -> (pdq, item id, logged at)`` of these logged uploads (pruned ones are absent)."""
    found: dict[int, tuple[bytes, str, datetime]] = {}
    wanted = sorted(set(ids))
    for start in range(0, len(wanted), 500):
        for i, pdq, item, at in session.execute(
            select(UploadLogRow.id, UploadLogRow.pdq, UploadLogRow.item_id, UploadLogRow.logged_at)
            .where(UploadLogRow.id.in_(wanted[start : start + 500]))
        ):
            found[int(i)] = (bytes(pdq), item, at)
    return found


def oldest_upload_id(session: Session) -> int:
    """The smallest id still in the log (0 when it is empty): rows below it were pruned."""
    return int(session.scalar(select(func.coalesce(func.min(UploadLogRow.id), 0))) or 0)


def prune_upload_log(session: Session, before: datetime) -> int:
    """Delete uploads logged before ``before``; returns how many."""
    result = session.execute(delete(UploadLogRow).where(UploadLogRow.logged_at < before))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def retro_subject(session: Session, entry_id: int) -> tuple[Entry, Bank] | None:
    """The entry and its bank, when retroactive matching applies to it: a live image entry (not
    withdrawn, not disabled) of a ``match`` bank."""
    entry = session.get(Entry, entry_id)
    bank = session.get(Bank, entry.bank_id) if entry is not None else None
    if entry is None or bank is None or bank.kind != "match" or entry.kind != "image":
        return None
    if entry.withdrawn_at is not None or entry.disabled_at is not None:
        return None
    return entry, bank


# -- the retroactive matcher's cursor ----------------------------------------------------------------


def claim_retro_cursor(session: Session, start: int) -> int:
    """Lock the shared cursor for this transaction and return it (created at ``start`` the first time):
    one process at a time reads the feed for retroactive matching, and each change is handled once."""
    session.execute(_insert(session, RetroCursor).on_conflict_do_nothing(index_elements=["id"]),
                    [{"id": 1, "seq": start}])
    cursor = session.scalar(select(RetroCursor).where(RetroCursor.id == 1).with_for_update())
    assert cursor is not None
    return int(cursor.seq)


def move_retro_cursor(session: Session, seq: int) -> None:
    session.execute(update(RetroCursor).where(RetroCursor.id == 1).values(seq=seq))
