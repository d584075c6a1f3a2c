"""The desk's periodic work: escalate requests as their clock runs, locate newly reported content,
delete spooled previews older than ``STANCH_SPOOL_HOURS``.

``tick`` does one round (``stanch desk tick`` runs it once, from cron for example); ``DeskTicker`` runs
it every ``interval`` seconds in a server thread. Both are safe to run in several processes at once:
escalations are unique rows, and a location resolved by one process is skipped by the others.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from stanch.clock import utcnow
from stanch.desk.clock import Escalation, escalate
from stanch.desk.locate import Resolver, locate_request, requests_to_locate
from stanch.desk.spool import expire_previews, spool_folder, spool_hours
from stanch.store import Database

log = logging.getLogger(__name__)
TICK_SECONDS = 60.0


@dataclass
class TickReport:
    escalations: list[Escalation] = field(default_factory=list)
    items_located: int = 0
    previews_expired: int = 0


def tick(db: Database, now: datetime, resolver: Resolver | None) -> TickReport:
    """Escalate what is due, delete old spooled previews, then resolve pending locations if a resolver
    is configured."""
    report = TickReport()
    with db.write() as session:
        report.escalations = escalate(session, now)
        folder = spool_folder(session)
    report.previews_expired = expire_previews(folder, spool_hours(), now.timestamp())
    if resolver is not None:
        for request_id in requests_to_locate(db):
            report.items_located += locate_request(db, request_id, resolver, now)
    return report


class DeskTicker:
    """Runs ``tick`` in a daemon thread until ``stop``; a failing round is logged and retried later."""

    def __init__(self, db: Database, resolver: Resolver | None, *, interval: float = TICK_SECONDS,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.db, self.resolver, self.interval, self.clock = db, resolver, interval, clock
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="stanch-desk-ticker", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                tick(self.db, self.clock(), self.resolver)
            except Exception:
                log.exception("a desk tick failed; the next one retries")
