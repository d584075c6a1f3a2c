"""The change feed: how every server process learns, within a second, what was added or withdrawn.

Each transaction that adds or withdraws entries also appends rows to ``bank_changes``:
``(seq, bank_id, entry_id, op)`` with ``op`` one of ``add``, ``withdraw`` or ``bank`` (a bank was
created or its settings changed). Because the rows are written in the same transaction as the change,
a reader sees both or neither. A process that keeps an in-memory index remembers the last ``seq`` it
applied and polls ``feed_since(seq)`` (a primary-key range scan, cheap enough to run several times
a second); after loading the index it starts from the ``latest_seq`` it read *before* loading, so
nothing committed meanwhile is missed (applying an add twice must be harmless: rows carry ids).

Why ``seq`` can be trusted as a cursor: a reader that has seen ``seq = n`` must never later find a
committed row with a smaller ``seq``. SQLite guarantees it by having one writer at a time. PostgreSQL
hands out sequence numbers before commit, so two transactions could commit in the opposite order of
their numbers; ``record_changes`` therefore takes a transaction-scoped advisory lock just before
writing its rows, which serialises the (short) tail of writing transactions: numbers are taken and
committed in the same order. Callers write their change rows as the last step of the transaction.

Pruning (``prune_feed``) deletes all but the newest rows and, in the same transaction, records the
watermark ``through``: changes up to it may be gone. ``feed_since`` reads the watermark and the rows
in one statement (one snapshot on either database), so a follower never sees rows already pruned
under an older watermark; when its cursor is below the watermark it reloads instead of following.
The newest row is always kept: SQLite's rowid would otherwise start again from 1 once the table
emptied, reusing numbers readers have already passed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, delete, func, select
from sqlalchemy.orm import Session

from stanch.clock import utcnow
from stanch.store.bulk import copy_rows
from stanch.store.engine import is_postgresql
from stanch.store.models import BankChange, FeedPrune

OPS = ("add", "withdraw", "bank")
_CHANGE_LOCK = 0x5374616E6368 + 1
"""PostgreSQL advisory lock key held from writing change rows to commit."""


@dataclass(frozen=True)
class Change:
    """One row of the feed. ``entry_id`` is None for ``bank`` changes."""

    seq: int
    bank_id: int
    entry_id: int | None
    op: str


def record_changes(session: Session, bank_id: int, op: str, entry_ids: Iterable[int | None]) -> None:
    """Append one change per entry id; call it last in the transaction (see the module docstring)."""
    if op not in OPS:
        raise ValueError(f"unknown change {op!r}; expected one of {', '.join(OPS)}")
    rows = [(bank_id, entry_id, op) for entry_id in entry_ids]
    if not rows:
        return
    connection = session.connection()
    lock_change_feed(connection)
    copy_rows(connection, "bank_changes", ("bank_id", "entry_id", "op"), rows)


def lock_change_feed(connection: Connection) -> None:
    """Serialise writers of the feed until this transaction ends (a no-op on SQLite)."""
    if is_postgresql(connection):
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_CHANGE_LOCK})")


def latest_seq(session: Session | Connection) -> int:
    """The newest ``seq`` (0 for an empty feed): where a freshly loaded index starts following."""
    return int(session.execute(select(func.coalesce(func.max(BankChange.seq), 0))).scalar_one())


@dataclass(frozen=True)
class FeedPage:
    """Changes after a cursor, with the watermark read in the same snapshot: a cursor below
    ``pruned_through`` may have missed deleted changes."""

    changes: list[Change]
    pruned_through: int


def feed_since(session: Session | Connection, seq: int, limit: int = 10_000) -> FeedPage:
    """Changes after ``seq``, oldest first, at most ``limit`` of them (call again until none), and the
    watermark, in one statement so that both come from one snapshot."""
    mark = select(func.coalesce(func.max(FeedPrune.through), 0).label("through")).subquery()
    rows = session.execute(
        select(mark.c.through, BankChange.seq, BankChange.bank_id, BankChange.entry_id, BankChange.op)
        .select_from(mark)
        .outerjoin(BankChange, BankChange.seq > seq)
        .order_by(BankChange.seq)
        .limit(limit)
    ).all()
    changes = [Change(*row[1:]) for row in rows if row[1] is not None]
    return FeedPage(changes, int(rows[0][0]))


@dataclass(frozen=True)
class PrunedFeed:
    """What ``prune_feed`` did: ``rows`` deleted, and the watermark now (0: never pruned)."""

    rows: int
    through: int


def prune_feed(session: Session, keep: int) -> PrunedFeed:
    """Delete all but the newest ``keep`` (at least 1) feed rows and record the watermark, in the
    caller's transaction. Holds the writers' lock so no change commits while the watermark moves."""
    if keep < 1:
        raise ValueError(f"keep must be at least 1 (the newest row keeps seq growing), not {keep}")
    lock_change_feed(session.connection())
    before = int(session.execute(select(func.coalesce(func.max(FeedPrune.through), 0))).scalar_one())
    oldest_kept = session.execute(
        select(BankChange.seq).order_by(BankChange.seq.desc()).offset(keep - 1).limit(1)
    ).scalar()
    if oldest_kept is None or oldest_kept - 1 <= before:
        return PrunedFeed(0, before)
    through = int(oldest_kept) - 1
    deleted = session.connection().execute(delete(BankChange).where(BankChange.seq <= through)).rowcount
    session.add(FeedPrune(through=through, rows=deleted, pruned_at=utcnow()))
    session.flush()
    return PrunedFeed(int(deleted), through)
