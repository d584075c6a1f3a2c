"""The runtime object: one ``Stanch`` per process, built once and handed to whatever serves.

datasette's ``Datasette`` is the model. ``Stanch`` owns what a server process shares: the database, the
in-memory banks (``MatchEngine``) and the follower that keeps them current, the desk's ticker, the
outbox dispatcher, the API key checker, the settings and the clock. ``stanch serve`` (through
``create_app``), the CLI and the tests build one; routes and pages receive it with the FastAPI
dependency ``stanch_of`` (``runtime: Stanch = Depends(stanch_of)``) and never look it up themselves.

Building a ``Stanch`` reads and checks every setting (a malformed one stops the start with a message
naming the variable) but starts nothing; ``start`` loads the banks and starts the threads, ``stop``
stops them.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request

from stanch.actions.background import DispatcherThread, dispatch_in_server
from stanch.desk.locate import Resolvers, resolvers_from_environment
from stanch.desk.ticker import DeskTicker
from stanch.matching.engine import MatchEngine
from stanch.matching.sync import POLL_INTERVAL, BankFollower
from stanch.store import Database, open_database, utcnow
from stanch.store.key_checker import KeyChecker

MAX_UPLOAD_BYTES = 64 * 2**20
"""Largest file accepted by ``/v1/hash`` and ``/v1/match`` (64 MiB; ``STANCH_MAX_UPLOAD_MB``)."""
MAX_JSON_BYTES = 32 * 2**20
"""Largest JSON body (a batch of 1,000 signals records fits easily)."""


@dataclass(frozen=True)
class ApiLimits:
    """Size limits of one request: every byte of a request is held in memory, so each is bounded."""

    max_upload_bytes: int = MAX_UPLOAD_BYTES
    max_json_bytes: int = MAX_JSON_BYTES

    @classmethod
    def from_environment(cls) -> ApiLimits:
        megabytes = os.environ.get("STANCH_MAX_UPLOAD_MB")
        if megabytes is None:
            return cls()
        try:
            value = float(megabytes)
        except ValueError:
            raise ValueError(f"STANCH_MAX_UPLOAD_MB must be a number of MiB, got {megabytes!r}") from None
        if value <= 0:
            raise ValueError(f"STANCH_MAX_UPLOAD_MB must be positive, got {megabytes!r}")
        return cls(max_upload_bytes=int(value * 2**20))


@dataclass(frozen=True)
class Settings:
    """What one process is configured with (``from_environment`` reads the ``STANCH_*`` variables)."""

    poll_interval: float = POLL_INTERVAL
    key_cache_seconds: float = 1.0
    limits: ApiLimits = field(default_factory=ApiLimits)
    dispatch: bool = True
    resolvers: Resolvers | None = None

    @classmethod
    def from_environment(cls, **overrides: object) -> Settings:
        """The environment's settings; ``overrides`` (e.g. ``poll_interval`` in tests) win over it.
        An override of None keeps the environment's value."""
        settings = cls(limits=ApiLimits.from_environment(), dispatch=dispatch_in_server(),
                       resolvers=resolvers_from_environment())
        given = {name: value for name, value in overrides.items() if value is not None}
        return replace(settings, **given)  # type: ignore[arg-type]


class Stanch:
    """One process's Stanch: the database and every service built on it (see the module docstring)."""

    def __init__(self, db: Database, settings: Settings | None = None, *,
                 clock: Callable[[], datetime] = utcnow, owns_db: bool = False) -> None:
        self.db = db
        self.settings = settings or Settings()
        self.clock = clock
        self.engine = MatchEngine()
        self.follower = BankFollower(db, self.engine, interval=self.settings.poll_interval)
        self.ticker = DeskTicker(db, self.settings.resolvers, clock=clock)
        self.dispatcher = DispatcherThread(db.engine) if self.settings.dispatch else None
        self.keys = KeyChecker(db, self.settings.key_cache_seconds)
        self._owns_db = owns_db
        self._started = False

    @classmethod
    def open(cls, database_url: str | None = None, settings: Settings | None = None) -> Stanch:
        """The runtime on ``database_url`` (default ``STANCH_DATABASE_URL``), migrated; it disposes of
        the database at ``stop``."""
        settings = settings or Settings.from_environment()
        return cls(open_database(database_url), settings, owns_db=True)

    @property
    def limits(self) -> ApiLimits:
        return self.settings.limits

    @property
    def resolvers(self) -> Resolvers | None:
        """How reported locations are resolved to content (None when none is configured)."""
        return self.settings.resolvers

    def now(self) -> datetime:
        """The time by this runtime's clock (tests pass a fixed one)."""
        return self.clock()

    def start(self) -> None:
        """Load every bank, then start following the feed, the desk's ticker and the dispatcher."""
        self.follower.load()
        self.follower.start()
        self.ticker.start()
        if self.dispatcher is not None:
            self.dispatcher.start()
        self._started = True

    def stop(self) -> None:
        """Stop what ``start`` started (in reverse), and dispose of a database ``open`` opened."""
        if self._started:
            if self.dispatcher is not None:
                self.dispatcher.stop()
            self.ticker.stop()
            self.follower.stop()
        self.keys.close()
        if self._owns_db:
            self.db.dispose()

    def __enter__(self) -> Stanch:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


def stanch_of(request: Request) -> Stanch:
    """The FastAPI dependency that hands a route or page its app's runtime (``Depends(stanch_of)``).

    The one place that knows where ``create_app`` keeps it."""
    runtime: Stanch = request.app.state.stanch
    return runtime


Runtime = Annotated[Stanch, Depends(stanch_of)]
"""A route's or page's parameter type for the runtime: ``def handler(app: Runtime, ...)``."""
