"""Streaming the hashes the in-memory index needs, fast: raw driver cursors, no ORM objects.

Loading 10 million hashes at start-up must take well under a minute, so these functions read with
the driver's own cursor (a server-side cursor on PostgreSQL) and hand back plain tuples a batch at a
time. Only rows that count are returned: ``indexed`` image hashes (see ``stanch.store.entries``)
and video frames, of entries that are neither withdrawn nor expired.

The queries are plain scans of one table each (entries that no longer count are read first, as a set
of ids, and their rows dropped on the way): no join whose plan could go wrong on tables that were
just filled by a large import and not yet analysed.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from itertools import chain, count
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from stanch.clock import utcnow
from stanch.store.bulk import db_time
from stanch.store.engine import is_postgresql

IndexRow = tuple[int, int, int, bytes]
"""(hash row id, entry id, bank id, 32-byte PDQ)."""
FrameIndexRow = tuple[int, int, int, bytes, float]
"""(frame row id, entry id, bank id, 32-byte PDQ, seconds from the start of the video)."""

_CURSOR_NAMES = count(1)
_HASHES = "SELECT id, entry_id, bank_id, pdq FROM entry_hashes WHERE indexed = {true}"
_FRAMES = "SELECT id, entry_id, bank_id, pdq, ts FROM video_frames WHERE 1 = 1"
_INACTIVE = (
    "SELECT id FROM entries WHERE withdrawn_at IS NOT NULL OR disabled_at IS NOT NULL"
    " OR (expires IS NOT NULL AND expires <= {now})"
)


def iter_index_batches(
    source: Session | Connection, *, since: int = 0, batch_size: int = 50_000, now: datetime | None = None
) -> Iterator[list[IndexRow]]:
    """Indexed image hashes with row id > ``since``, ``batch_size`` rows at a time (in no set order)."""
    yield from _stream(_connection(source), _HASHES, since, batch_size, now)


def iter_index_rows(
    source: Session | Connection, *, since: int = 0, batch_size: int = 50_000, now: datetime | None = None
) -> Iterator[IndexRow]:
    """The same rows one at a time: ``(row id, entry id, bank id, pdq bytes)``."""
    return chain.from_iterable(iter_index_batches(source, since=since, batch_size=batch_size, now=now))


def iter_frame_batches(
    source: Session | Connection, *, since: int = 0, batch_size: int = 50_000, now: datetime | None = None
) -> Iterator[list[FrameIndexRow]]:
    """Video frame hashes with row id > ``since``: ``(row id, entry id, bank id, pdq bytes, ts)``."""
    yield from _stream(_connection(source), _FRAMES, since, batch_size, now)


def index_rows_for_entries(source: Session | Connection, entry_ids: Sequence[int]) -> list[IndexRow]:
    """The indexed hashes of these entries if they still count (for applying ``add`` changes)."""
    return _for_entries(_connection(source), _HASHES, entry_ids)


def frame_rows_for_entries(source: Session | Connection, entry_ids: Sequence[int]) -> list[FrameIndexRow]:
    """The frames of these entries if they still count (for applying ``add`` changes)."""
    return _for_entries(_connection(source), _FRAMES, entry_ids)


def _connection(source: Session | Connection) -> Connection:
    return source.connection() if isinstance(source, Session) else source


def _placeholder(connection: Connection, name: str) -> str:
    return f"%({name})s" if is_postgresql(connection) else f":{name}"


def _sql(connection: Connection, template: str) -> str:
    return template.format(
        true="true" if is_postgresql(connection) else "1", now=_placeholder(connection, "now")
    )


def _inactive(connection: Connection, now: datetime | None) -> set[int]:
    """Ids of entries that no longer count: withdrawn, disabled by an admin, or past their expiry."""
    rows = _query(connection, _sql(connection, _INACTIVE), {"now": db_time(connection, now or utcnow())})
    return {row[0] for row in rows}


def _stream(
    connection: Connection, template: str, since: int, batch_size: int, now: datetime | None
) -> Iterator[list[Any]]:
    inactive = _inactive(connection, now)
    sql = _sql(connection, template) + f" AND id > {_placeholder(connection, 'since')}"
    raw = connection.connection
    # A named cursor is PostgreSQL's server-side cursor: rows arrive batch by batch, not all at once.
    postgres = is_postgresql(connection)
    cursor = raw.cursor(name=f"stanch_stream_{next(_CURSOR_NAMES)}") if postgres else raw.cursor()
    try:
        cursor.execute(sql, {"since": since})
        while batch := cursor.fetchmany(batch_size):
            yield [row for row in batch if row[1] not in inactive] if inactive else list(batch)
    finally:
        cursor.close()


def _for_entries(connection: Connection, template: str, entry_ids: Sequence[int]) -> list[Any]:
    rows: list[Any] = []
    for start in range(0, len(entry_ids), 500):
        chunk = list(entry_ids[start : start + 500])
        names = [f"e{i}" for i in range(len(chunk))]
        marks = ", ".join(_placeholder(connection, name) for name in names)
        params = dict(zip(names, chunk, strict=True))
        active = _query(
            connection,
            f"SELECT id FROM entries WHERE id IN ({marks}) AND withdrawn_at IS NULL AND disabled_at IS NULL"
            f" AND (expires IS NULL OR expires > {_placeholder(connection, 'now')})",
            {**params, "now": db_time(connection, utcnow())},
        )
        found = _query(connection, _sql(connection, template) + f" AND entry_id IN ({marks})", params)
        keep = {row[0] for row in active}
        rows.extend(row for row in found if row[1] in keep)
    return rows


def _query(connection: Connection, sql: str, params: dict[str, Any]) -> list[Any]:
    cursor = connection.connection.cursor()
    try:
        cursor.execute(sql, params)
        return list(cursor.fetchall())
    finally:
        cursor.close()
