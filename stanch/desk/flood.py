"""The flood guard: an entry, or a bank, that suddenly matches far more uploads than it should is
switched to ``review`` before it blocks large numbers of unrelated uploads.

Each server process counts matches in memory (``stanch.matching.counter``); every
``STANCH_FLOOD_FLUSH_SECONDS`` (default 10) ``FloodGuard.flush`` adds them to the database in one
transaction (additive upserts, so several processes on one database sum correctly) and then reads the
hour's totals, which every process has contributed to. An entry trusted ``block`` is switched to
``review`` when, within the current clock hour:

- more than ``STANCH_FLOOD_UPLOADS`` (default 1,000) distinct uploads matched it, or
- once at least ``STANCH_FLOOD_MIN_LOOKUPS`` (default 1,000) lookups were made, more than
  ``STANCH_FLOOD_SHARE`` (default 0.1) of them matched it.

A bank trusted ``block`` is switched likewise past ``STANCH_FLOOD_BANK_UPLOADS`` (default 10,000)
distinct uploads over its entries, or ``STANCH_FLOOD_BANK_SHARE`` (default 0.5) of the lookups. Each
switch is audited (``entry.flood_review``, ``bank.flood_review``, actor ``system``), queues a signed
webhook of the same type for the platform's admins, and shows on the desk; every process's index
picks it up through the change feed. ``STANCH_FLOOD_GUARD=0`` keeps counting but switches nothing.
Switching back is an admin's decision (``stanch bank trust``/``update``, or the banks API).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from stanch.actions.outbox import enqueue_webhook
from stanch.clock import utcnow
from stanch.config import number_setting, switch
from stanch.desk.audit import record
from stanch.matching.counter import Counts, MatchCounter
from stanch.periodic import Periodic
from stanch.store import Database, update_bank
from stanch.store.bank_reads import bank_by_id
from stanch.store.entry_stats import (
    WindowCounts,
    add_served,
    add_window,
    log_uploads,
    mark_stats,
    set_entries_review,
    window_counts,
)
from stanch.store.models import Bank, Entry

log = logging.getLogger(__name__)
WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class FloodSettings:
    """The guard's limits (see the module docstring for what each means)."""

    enabled: bool = True
    uploads: int = 1_000
    share: float = 0.1
    min_lookups: int = 1_000
    bank_uploads: int = 10_000
    bank_share: float = 0.5
    flush_seconds: float = 10.0

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> FloodSettings:
        """The ``STANCH_FLOOD_*`` variables; ValueError naming the variable for a malformed one."""
        env = os.environ if environ is None else environ
        default = cls()

        def whole(name: str, fallback: int) -> int:
            return int(number_setting(env, name, fallback, whole=True))

        return cls(
            enabled=switch(env, "STANCH_FLOOD_GUARD", True),
            uploads=whole("STANCH_FLOOD_UPLOADS", default.uploads),
            share=_share(env, "STANCH_FLOOD_SHARE", default.share),
            min_lookups=whole("STANCH_FLOOD_MIN_LOOKUPS", default.min_lookups),
            bank_uploads=whole("STANCH_FLOOD_BANK_UPLOADS", default.bank_uploads),
            bank_share=_share(env, "STANCH_FLOOD_BANK_SHARE", default.bank_share),
            flush_seconds=number_setting(env, "STANCH_FLOOD_FLUSH_SECONDS", default.flush_seconds,
                                         unit="seconds"),
        )


def _share(env: Mapping[str, str], name: str, default: float) -> float:
    value = number_setting(env, name, default)
    if value > 1:
        raise ValueError(f"{name} is a share of all lookups, between 0 and 1; got {env[name]!r}")
    return value


def window_of(now: datetime) -> datetime:
    """The clock hour ``now`` falls in (the guard's window)."""
    return now.replace(minute=0, second=0, microsecond=0)


@dataclass(frozen=True)
class Flushed:
    """What one flush wrote and switched."""

    lookups: int
    logged: int
    entries: list[int]
    banks: list[str]


class FloodGuard:
    """Flushes one process's ``MatchCounter`` and applies the limits (see the module docstring)."""

    def __init__(self, db: Database, counter: MatchCounter, settings: FloodSettings | None = None, *,
                 after_commit: Callable[[], None] | None = None) -> None:
        self.db, self.counter = db, counter
        self.settings = settings or FloodSettings()
        self.after_commit = after_commit
        """Called after a flush switched something (the runtime polls its change feed at once)."""

    def flush(self, now: datetime) -> Flushed:
        """Write what was counted since the last flush, then switch what went past the limits."""
        counts = self.counter.drain()
        try:
            flushed = self._flush(counts, now)
        except Exception:
            self.counter.put_back(counts)
            raise
        if (flushed.entries or flushed.banks) and self.after_commit is not None:
            self.after_commit()
        return flushed

    def _flush(self, counts: Counts, now: datetime) -> Flushed:
        window = window_of(now)
        with self.db.write() as session:
            if counts:
                add_served(session, counts.served)
                add_window(session, window, counts.uploads, counts.lookups)
                log_uploads(session, counts.logged)
            entries: list[int] = []
            banks: list[str] = []
            if self.settings.enabled and counts.uploads:
                totals = window_counts(session, window)
                entries = self._switch_entries(session, totals, window, now)
                banks = self._switch_banks(session, totals, window, now)
        return Flushed(counts.lookups, len(counts.logged), entries, banks)

    def _switch_entries(self, session: Any, totals: WindowCounts, window: datetime,
                        now: datetime) -> list[int]:
        limits = self.settings
        over = [e for e, n in totals.entries.items()
                if _past(n, totals.lookups, limits.uploads, limits.share, limits.min_lookups)]
        switched = set_entries_review(session, over)
        mark_stats(session, switched, "flooded_at", now)
        for entry_id in switched:
            entry = session.get(Entry, entry_id)
            bank = bank_by_id(session, entry.bank_id)
            data = {"entry": entry_id, "bank": bank.name if bank else None,
                    **_figures(totals.entries[entry_id], totals.lookups, window)}
            record(session, "system", "entry.flood_review", ("entry", entry_id), data, clock=lambda: now)
            enqueue_webhook(session, "entry.flood_review", data, clock=lambda: now)
            log.warning("entry %s matched %s distinct uploads this hour: switched to review",
                        entry_id, totals.entries[entry_id])
        return switched

    def _switch_banks(self, session: Any, totals: WindowCounts, window: datetime,
                      now: datetime) -> list[str]:
        limits = self.settings
        switched = []
        for bank_id, n in sorted(totals.banks.items()):
            if not _past(n, totals.lookups, limits.bank_uploads, limits.bank_share, limits.min_lookups):
                continue
            bank = session.get(Bank, bank_id, with_for_update=True)
            if bank is None or bank.trust != "block" or bank.kind != "match":
                continue
            update_bank(session, bank.name, trust="review")
            data = {"bank": bank.name, **_figures(n, totals.lookups, window)}
            record(session, "system", "bank.flood_review", ("bank", bank.name), data, clock=lambda: now)
            enqueue_webhook(session, "bank.flood_review", data, clock=lambda: now)
            log.warning("bank %s matched %s distinct uploads this hour: switched to review", bank.name, n)
            switched.append(bank.name)
        return switched


def _past(uploads: int, lookups: int, most: int, share: float, min_lookups: int) -> bool:
    return uploads > most or (lookups >= min_lookups and uploads > share * lookups)


def _figures(uploads: int, lookups: int, window: datetime) -> dict[str, Any]:
    return {"uploads": uploads, "lookups": lookups, "window_start": window.isoformat(timespec="seconds")}


class FloodFlusher(Periodic):
    """Runs ``FloodGuard.flush`` every ``flush_seconds`` in a daemon thread (one per server process)."""

    thread_name = "stanch-flood"

    def __init__(self, guard: FloodGuard, clock: Callable[[], datetime] = utcnow) -> None:
        super().__init__(guard.settings.flush_seconds)
        self.guard, self.clock = guard, clock

    def round(self) -> None:
        self.guard.flush(self.clock())

    def stop(self) -> None:
        """Stop, then write what was counted since the last round."""
        super().stop()
        try:
            self.guard.flush(self.clock())
        except Exception:
            log.exception("the last flush of match counts failed; those counts are lost")

    def failed(self, error: Exception) -> None:
        log.error("flushing match counts failed; the next round retries", exc_info=error)
