"""Pruning what only grows: expired bank entries, delivered outbox messages and old change-feed rows
(``stanch prune``).

Each part is its own short transaction: the feed's holds the feed writers' lock (bank changes wait
for it), so it should not also wait on the outbox delete. Run it from cron or a systemd timer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from stanch.actions.outbox import prune_sent
from stanch.clock import utcnow
from stanch.store import Database, prune_feed, withdraw_expired

OUTBOX_DAYS = 30
"""Sent messages kept this many days after delivery (to answer "was it sent?" from the outbox)."""
FEED_KEEP = 1_000_000
"""Newest feed rows kept: a follower that far behind still catches up without reloading."""


@dataclass(frozen=True)
class Pruned:
    """What ``prune`` removed, and the feed's watermark afterwards (0: never pruned)."""

    expired_entries: int
    outbox_rows: int
    feed_rows: int
    feed_pruned_through: int


def prune(
    db: Database,
    *,
    outbox_days: float = OUTBOX_DAYS,
    feed_keep: int = FEED_KEEP,
    clock: Callable[[], datetime] = utcnow,
) -> Pruned:
    """Withdraw bank entries past their expiry (they stopped matching then; now the database says so
    and every index drops them through the feed), delete outbox messages sent more than
    ``outbox_days`` ago and all but the newest ``feed_keep`` change-feed rows. Bad arguments raise
    ``ValueError`` before anything is changed."""
    if outbox_days < 0:
        raise ValueError(f"outbox days cannot be negative, not {outbox_days}")
    if feed_keep < 1:
        raise ValueError(f"the feed must keep at least 1 row (the newest keeps seq growing), not {feed_keep}")
    with db.write() as session:
        expired = len(withdraw_expired(session, clock()))
    with db.write() as session:
        outbox_rows = prune_sent(session, timedelta(days=outbox_days), clock=clock)
    with db.write() as session:
        feed = prune_feed(session, feed_keep)
    return Pruned(expired, outbox_rows, feed.rows, feed.through)
