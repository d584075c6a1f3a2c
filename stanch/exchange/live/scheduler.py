"""Scheduled fetches: ``fetch_due`` fetches every enabled source whose time has come (its schedule, or
the end of its backoff), and ``ExchangeScheduler`` runs it in a thread of each ``stanch serve``
process (unless ``STANCH_EXCHANGE_FETCH=0``). Each source's lease makes sure only one process fetches
it, however many servers run: the others see the lease and move on.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import or_, select

from stanch.config import switch
from stanch.exchange.live.fetcher import ClientFactory, FetchResult, default_client, fetch_source
from stanch.periodic import Periodic
from stanch.store import Database, utcnow
from stanch.store.exchange_models import ExchangeSource

log = logging.getLogger(__name__)
CHECK_SECONDS = 30.0


def exchange_in_server() -> bool:
    """Whether ``stanch serve`` runs scheduled fetches (``STANCH_EXCHANGE_FETCH``, default on)."""
    return switch(os.environ, "STANCH_EXCHANGE_FETCH", True)


def due_sources(db: Database, now: datetime) -> list[str]:
    """Enabled sources whose next fetch is due and that nobody is fetching now."""
    with db.read() as session:
        return list(
            session.scalars(
                select(ExchangeSource.name)
                .where(
                    ExchangeSource.enabled.is_(True),
                    or_(ExchangeSource.next_fetch_at.is_(None), ExchangeSource.next_fetch_at <= now),
                    or_(ExchangeSource.lease_until.is_(None), ExchangeSource.lease_until <= now),
                )
                .order_by(ExchangeSource.name)
            )
        )


def fetch_due(
    db: Database,
    *,
    clock: Callable[[], datetime] = utcnow,
    client_factory: ClientFactory = default_client,
    environ: dict[str, str] | None = None,
) -> list[FetchResult]:
    """Fetch each due source once (a source another process took meanwhile is skipped by its lease)."""
    return [
        fetch_source(db, name, clock=clock, client_factory=client_factory, environ=environ)
        for name in due_sources(db, clock())
    ]


class ExchangeScheduler(Periodic):
    """Runs ``fetch_due`` every ``interval`` seconds in a daemon thread until ``stop``."""

    thread_name = "stanch-exchange"

    def __init__(self, db: Database, *, interval: float = CHECK_SECONDS,
                 clock: Callable[[], datetime] = utcnow) -> None:
        super().__init__(interval)
        self.db, self.clock = db, clock

    def round(self) -> None:
        fetch_due(self.db, clock=self.clock)

    def failed(self, error: Exception) -> None:
        """A bug or the database down (source errors are the fetch's, on its status): the type only,
        as an exception's text could quote a record."""
        log.error("scheduled exchange fetch failed: %s; the next round retries", type(error).__name__)
