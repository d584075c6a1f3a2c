"""Pruning what only grows: expired bank entries, delivered outbox messages, old change-feed rows, the
flood guard's hour windows and the upload log past its retention (``stanch prune``).

Each part is its own short transaction: the feed's holds the feed writers' lock (bank changes wait
for it), so it should not also wait on the outbox delete. Run it from cron or a systemd timer, or let
``stanch serve`` run it: ``Housekeeper`` (a ``stanch.periodic.Periodic`` thread in each server process)
checks every few minutes whether ``STANCH_PRUNE_HOURS`` (default 24; 0 turns it off) have passed since
the last prune, and the named lease ``housekeeping`` (``stanch.store.leases``) lets exactly one of the
processes serving a database do it each time.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from stanch.actions.outbox import prune_sent
from stanch.clock import utcnow
from stanch.config import hours_setting
from stanch.periodic import Periodic
from stanch.store import Database, prune_feed, withdraw_expired
from stanch.store.entry_stats import prune_upload_log, prune_windows
from stanch.store.leases import finish_lease, take_lease

log = logging.getLogger(__name__)

OUTBOX_DAYS = 30
"""Sent messages kept this many days after delivery (to answer "was it sent?" from the outbox)."""
WINDOW_DAYS = 2
"""The flood guard's hour windows are kept this many days (only the current hour is read)."""
UPLOAD_LOG_DAYS = 30.0
"""Days an upload's hash and item id stay in the upload log (``STANCH_UPLOAD_LOG_DAYS``)."""


def upload_log_retention(environ: Mapping[str, str] | None = None) -> float:
    """``STANCH_UPLOAD_LOG_DAYS`` (default 30): a positive number of days, ValueError naming it otherwise."""
    text = (os.environ if environ is None else environ).get("STANCH_UPLOAD_LOG_DAYS", "").strip()
    if not text:
        return UPLOAD_LOG_DAYS
    try:
        days = float(text)
    except ValueError:
        raise ValueError(f"STANCH_UPLOAD_LOG_DAYS must be a number of days, got {text!r}") from None
    if not days > 0:
        raise ValueError(f"STANCH_UPLOAD_LOG_DAYS must be more than 0 days, got {text!r}")
    return days


FEED_KEEP = 1_000_000
"""Newest feed rows kept: a follower that far behind still catches up without reloading."""
PRUNE_HOURS = 24.0
CHECK_SECONDS = 300.0
"""How often each server process looks whether a prune is due."""
LEASE = "housekeeping"
LEASE_HOLD = timedelta(hours=1)
"""Long enough for a prune of a large database; a process that dies holding it frees it after."""


@dataclass(frozen=True)
class Pruned:
    """What ``prune`` removed, and the feed's watermark afterwards (0: never pruned)."""

    expired_entries: int
    outbox_rows: int
    feed_rows: int
    feed_pruned_through: int
    upload_log_rows: int = 0
    window_rows: int = 0


def prune(
    db: Database,
    *,
    outbox_days: float = OUTBOX_DAYS,
    feed_keep: int = FEED_KEEP,
    upload_log_days: float | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> Pruned:
    """Withdraw bank entries past their expiry (they stopped matching then; now the database says so
    and every index drops them through the feed), delete outbox messages sent more than
    ``outbox_days`` ago, all but the newest ``feed_keep`` change-feed rows, uploads logged more than
    ``upload_log_days`` ago (default ``STANCH_UPLOAD_LOG_DAYS``) and the flood guard's windows of past
    days. Bad arguments raise ``ValueError`` before anything is changed."""
    if outbox_days < 0:
        raise ValueError(f"outbox days cannot be negative, not {outbox_days}")
    upload_log_days = upload_log_retention() if upload_log_days is None else upload_log_days
    if upload_log_days <= 0:
        raise ValueError(f"the upload log keeps uploads more than 0 days, not {upload_log_days}")
    if feed_keep < 1:
        raise ValueError(f"the feed must keep at least 1 row (the newest keeps seq growing), not {feed_keep}")
    with db.write() as session:
        expired = len(withdraw_expired(session, clock()))
    with db.write() as session:
        outbox_rows = prune_sent(session, timedelta(days=outbox_days), clock=clock)
    with db.write() as session:
        feed = prune_feed(session, feed_keep)
    with db.write() as session:
        logged = prune_upload_log(session, clock() - timedelta(days=upload_log_days))
        windows = prune_windows(session, clock() - timedelta(days=WINDOW_DAYS))
    return Pruned(expired, outbox_rows, feed.rows, feed.through, logged, windows)


def prune_hours(environ: Mapping[str, str] = os.environ) -> float:
    """``STANCH_PRUNE_HOURS``: hours between the server's prunes (default 24; 0 = the server never
    prunes, for deployments that run ``stanch prune`` from cron); ValueError saying what is wrong."""
    return hours_setting(environ, "STANCH_PRUNE_HOURS", PRUNE_HOURS, off="0 turns the server's pruning off")


def prune_if_due(db: Database, owner: str, now: datetime, every: timedelta,
                 *, clock: Callable[[], datetime] = utcnow) -> Pruned | None:
    """Prune if ``every`` has passed since the last prune and no other process is pruning (the
    ``housekeeping`` lease); None when it was not this process's turn."""
    with db.write() as session:
        if not take_lease(session, LEASE, owner, now, hold=LEASE_HOLD, every=every):
            return None
    try:
        done = prune(db, clock=clock)
    except BaseException:
        with db.write() as session:  # let another round (or process) try again, not after an hour
            finish_lease(session, LEASE, owner, now - every)
        raise
    with db.write() as session:
        finish_lease(session, LEASE, owner, clock())
    return done


class Housekeeper(Periodic):
    """Runs ``prune_if_due`` every ``interval`` seconds in a server thread until ``stop``."""

    thread_name = "stanch-housekeeping"

    def __init__(self, db: Database, every: timedelta, *, interval: float = CHECK_SECONDS,
                 clock: Callable[[], datetime] = utcnow) -> None:
        super().__init__(interval)
        self.db, self.every, self.clock = db, every, clock
        self.owner = uuid.uuid4().hex

    def round(self) -> None:
        done = prune_if_due(self.db, self.owner, self.clock(), self.every, clock=self.clock)
        if done is not None:
            log.info("housekeeping: %d expired entries withdrawn, %d outbox rows and %d feed rows deleted",
                     done.expired_entries, done.outbox_rows, done.feed_rows)

    def failed(self, error: Exception) -> None:
        log.error("housekeeping failed; the next round retries", exc_info=error)
