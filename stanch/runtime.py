"""The runtime object: one ``Stanch`` per process, built once and handed to whatever serves.

datasette's ``Datasette`` is the model. ``Stanch`` owns what a server process shares: the database, the
in-memory banks (``MatchEngine``) and the follower that keeps them current, the desk's ticker, the
housekeeper (``stanch prune`` on a schedule), the outbox dispatcher, the API key checker, the
settings and the clock. ``stanch serve`` (through ``create_app``), the CLI and the tests build one;
routes and pages receive it with the FastAPI dependency ``stanch_of``
(``runtime: Stanch = Depends(stanch_of)``) and never look it up themselves.

Building a ``Stanch`` reads and checks every setting (a malformed one stops the start with a message
naming the variable) but starts nothing; ``start`` loads the banks and starts the threads, ``stop``
stops them.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from starlette.requests import Request

from stanch.actions.background import DispatcherThread, dispatch_in_server
from stanch.clock import utcnow
from stanch.config import ConfigError, switch
from stanch.desk.exchange_feedback import exchange_senders
from stanch.desk.flood import FloodFlusher, FloodGuard, FloodSettings
from stanch.desk.locate import Resolvers, locate_request, resolvers_from_environment
from stanch.desk.ticker import DeskTicker
from stanch.exchange.live.scheduler import ExchangeScheduler, exchange_in_server
from stanch.housekeeping import Housekeeper, prune_hours, upload_log_retention
from stanch.matching.counter import MatchCounter
from stanch.matching.engine import MatchEngine, Matcher
from stanch.matching.query import Query, media_query
from stanch.matching.shards import ShardedEngine, ShardFollower
from stanch.matching.sync import POLL_INTERVAL, BankFollower
from stanch.matching.verdict import Verdict
from stanch.signals.records import signals_record
from stanch.signals.types import MediaSignals
from stanch.store import Database, open_database
from stanch.store.key_checker import KeyChecker
from stanch.sweep.copies import Found, attach_to_removed
from stanch.sweep.retro import RetroMatcher, UploadLog

log = logging.getLogger("stanch.desk")
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
    exchange_fetch: bool = True
    """Run scheduled exchange fetches in this process (``STANCH_EXCHANGE_FETCH``)."""
    resolvers: Resolvers | None = None
    index_snapshots: Path | None = None
    """Where index snapshots are kept (``STANCH_INDEX_SNAPSHOT_DIR``); None: a start reads the database."""
    index_shards: int = 0
    """Index shards on Ray (``STANCH_INDEX_SHARDS``); 0: the whole index in this process."""
    ray_address: str | None = None
    """The Ray cluster the shards run on (``STANCH_RAY_ADDRESS``); None starts one on this machine."""
    flood: FloodSettings = field(default_factory=FloodSettings)
    """The flood guard's limits (``STANCH_FLOOD_*``: ``stanch.desk.flood``)."""
    upload_log_days: float | None = None
    """Days the upload log keeps what ``/v1/match`` logs (``STANCH_UPLOAD_LOG_DAYS``, default 30);
    None when the log is off (``STANCH_UPLOAD_LOG`` unset or 0)."""
    prune_hours: float = 0.0
    """Hours between prunes in this server (``STANCH_PRUNE_HOURS``, default 24 there; 0: none)."""

    @classmethod
    def from_environment(cls, **overrides: object) -> Settings:
        """The environment's settings; ``overrides`` (e.g. ``poll_interval`` in tests) win over it.
        An override of None keeps the environment's value."""
        settings = cls(limits=ApiLimits.from_environment(), dispatch=dispatch_in_server(),
                       resolvers=resolvers_from_environment(), exchange_fetch=exchange_in_server(),
                       index_snapshots=_snapshot_dir(), index_shards=_shard_count(),
                       ray_address=os.environ.get("STANCH_RAY_ADDRESS") or None,
                       flood=FloodSettings.from_environment(), upload_log_days=upload_log_days(),
                       prune_hours=prune_hours())
        given = {name: value for name, value in overrides.items() if value is not None}
        return replace(settings, **given)  # type: ignore[arg-type]


def _snapshot_dir() -> Path | None:
    """``STANCH_INDEX_SNAPSHOT_DIR`` (unset or empty: no snapshots); it must be a folder if it exists."""
    value = os.environ.get("STANCH_INDEX_SNAPSHOT_DIR", "").strip()
    if not value:
        return None
    path = Path(value).expanduser()
    if path.exists() and not path.is_dir():
        raise ConfigError(f"STANCH_INDEX_SNAPSHOT_DIR must be a folder for index snapshots, "
                         f"but {value!r} is a file")
    return path


def _shard_count() -> int:
    """``STANCH_INDEX_SHARDS``: a whole number, 0 (or unset) for no shards."""
    value = os.environ.get("STANCH_INDEX_SHARDS", "").strip() or "0"
    if not value.isdigit() or int(value) > 1024:
        raise ConfigError(f"STANCH_INDEX_SHARDS must be a number of index shards from 0 to 1024, "
                          f"got {value!r}")
    return int(value)
def upload_log_days(environ: dict[str, str] | None = None) -> float | None:
    """The upload log's retention in days (``STANCH_UPLOAD_LOG_DAYS``), or None when
    ``STANCH_UPLOAD_LOG`` does not turn the log on."""
    env = os.environ if environ is None else environ
    if not switch(env, "STANCH_UPLOAD_LOG", False):
        return None
    return upload_log_retention(env)


class Stanch:
    """One process's Stanch: the database and every service built on it (see the module docstring)."""

    def __init__(self, db: Database, settings: Settings | None = None, *,
                 clock: Callable[[], datetime] = utcnow, owns_db: bool = False) -> None:
        self.db = db
        self.settings = settings or Settings()
        self.clock = clock
        self._owns_db = owns_db
        self._started = False

    # The services are built when first used, so that a command needing only the banks (``stanch
    # match``) or the desk (``stanch desk tick``) builds no key checker or dispatcher.

    @cached_property
    def engine(self) -> MatchEngine:
        return MatchEngine(self.clock)

    @cached_property
    def sharded(self) -> ShardedEngine | None:
        """The front end of the index shards on Ray (``STANCH_INDEX_SHARDS``), started on first use."""
        if not self.settings.index_shards:
            return None
        import ray

        if not ray.is_initialized():
            ray.init(address=self.settings.ray_address, include_dashboard=False, log_to_driver=False)
        url = self.db.engine.url.render_as_string(hide_password=False)
        return ShardedEngine.start(url, self.settings.index_shards, snapshots=self.settings.index_snapshots,
                                   poll_interval=self.settings.poll_interval)

    @property
    def matcher(self) -> Matcher:
        """What lookups call: the shards' front end when the index is sharded, else ``engine``."""
        return self.sharded or self.engine

    @cached_property
    def follower(self) -> BankFollower | ShardFollower:
        if self.sharded is not None:
            return ShardFollower(self.sharded)
        return self._local_follower

    @cached_property
    def _local_follower(self) -> BankFollower:
        return BankFollower(self.db, self.engine, interval=self.settings.poll_interval,
                            snapshots=self.settings.index_snapshots)

    @cached_property
    def counter(self) -> MatchCounter:
        """This process's match counts, flushed by ``flood`` (and the upload log's rows when it is on)."""
        return MatchCounter(log_uploads=self.settings.upload_log_days is not None)

    @cached_property
    def flood(self) -> FloodGuard:
        return FloodGuard(self.db, self.counter, self.settings.flood,
                          after_commit=self.follower.poll_after_commit)

    @cached_property
    def flusher(self) -> FloodFlusher:
        return FloodFlusher(self.flood, self.clock)

    @cached_property
    def upload_log(self) -> UploadLog:
        """The upload log in memory, for retroactive matching (``stanch.sweep.retro``)."""
        return UploadLog(self.db, self.clock)

    @cached_property
    def retro(self) -> RetroMatcher | None:
        """Checks new bank entries against the upload log; None when the log is off."""
        if self.settings.upload_log_days is None:
            return None
        return RetroMatcher(self.db, self.upload_log, clock=self.clock)

    def lookup(self, queries: list[Query], item_ids: list[str | None] | None = None) -> list[Verdict]:
        """Verdicts for lookups an upload path made (the API's, HMA's), counted for the flood guard and,
        when an item id is given and the upload log is on, logged. The one place lookups are counted."""
        verdicts = self.matcher.match_queries(queries)
        self.counter.note(queries, verdicts, self.now(), item_ids)
        return verdicts

    def lookup_signals(self, signals: MediaSignals, item_id: str | None = None) -> Verdict:
        """``lookup`` of one hashed file."""
        return self.lookup([media_query(signals)], [item_id])[0]

    def feed_desk(self, item_id: str, signals: MediaSignals, verdict: Verdict, media: bytes) -> int:
        """An upload the platform named (``item_id``) that matched entries banked by removed cases becomes
        a copy of each, exactly as a sweep's would (``stanch.sweep.copies.attach_to_removed``): removed
        at once when the banks' auto-remove rule allows, else put on the case's review list with a
        reduced, encrypted preview made from ``media`` (the upload's bytes, read only for such a copy).
        Returns how many copies were attached; a failure is logged, never turned into an error of the
        lookup that already answered."""
        entries = tuple(m.entry for m in verdict.matches if m.kind in ("match", "minor"))
        if not entries or verdict.action == "allow":
            return 0
        found = [Found(item_id, signals_record(signals), entries)]
        try:
            with self.db.write() as session:
                attached = attach_to_removed(session, found, self.now(), reader=lambda _key: media)
        except Exception:
            log.exception("attaching upload %s to the cases it matched failed", item_id[:80])
            return 0
        if attached.removals:
            self.follower.poll_after_commit()
        return attached.copies

    @cached_property
    def ticker(self) -> DeskTicker:
        return DeskTicker(self.db, self.settings.resolvers, clock=self.clock)

    @cached_property
    def dispatcher(self) -> DispatcherThread | None:
        """None with ``STANCH_DISPATCH=0``. Building it checks the outbox settings (``STANCH_SMTP_URL``
        ...), so a malformed one stops the start."""
        if not self.settings.dispatch:
            return None
        return DispatcherThread(self.db.engine, extra_senders=exchange_senders(self.db.engine))

    @cached_property
    def exchange(self) -> ExchangeScheduler | None:
        """Scheduled exchange fetches; None with ``STANCH_EXCHANGE_FETCH=0``."""
        return ExchangeScheduler(self.db, clock=self.clock) if self.settings.exchange_fetch else None

    @cached_property
    def housekeeper(self) -> Housekeeper | None:
        """``stanch prune`` every ``prune_hours`` (one process of several does it); None when 0."""
        hours = self.settings.prune_hours
        return Housekeeper(self.db, timedelta(hours=hours), clock=self.clock) if hours > 0 else None

    @cached_property
    def keys(self) -> KeyChecker:
        return KeyChecker(self.db, self.settings.key_cache_seconds)

    def load_banks(self) -> MatchEngine:
        """Every bank of the database in ``engine`` (without following the feed), for a one-off command
        (in this process, also when the server's index is sharded)."""
        self._local_follower.load()
        return self.engine

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

    def locate_soon(self, request_id: int) -> None:
        """Resolve a request's reported locations now (right after it is stored, whichever way it came
        in); what fails here the desk's ticker tries again on its next round."""
        try:
            if self.resolvers is not None:
                locate_request(self.db, request_id, self.resolvers, self.now())
        except Exception:
            log.exception("locating request %s failed; the desk ticker will try again", request_id)

    def now(self) -> datetime:
        """The time by this runtime's clock (tests pass a fixed one)."""
        return self.clock()

    def start(self) -> None:
        """Load every bank, then start following the feed, the desk's ticker and the dispatcher.
        Malformed outbox settings stop it before the banks are loaded."""
        dispatcher = self.dispatcher
        self.keys  # noqa: B018 (built now, not on the first request)
        self.follower.load()
        self.follower.start()
        self.flusher.start()
        if self.retro is not None:
            self.upload_log.load()
            self.retro.start()
        self.ticker.start()
        if self.exchange is not None:
            self.exchange.start()
        if self.housekeeper is not None:
            self.housekeeper.start()
        if dispatcher is not None:
            dispatcher.start()
        self._started = True

    def stop(self) -> None:
        """Stop what ``start`` started (in reverse), and dispose of a database ``open`` opened."""
        if self._started:
            if self.dispatcher is not None:
                self.dispatcher.stop()
            if self.exchange is not None:
                self.exchange.stop()
            if self.housekeeper is not None:
                self.housekeeper.stop()
            self.ticker.stop()
            if self.retro is not None:
                self.retro.stop()
            self.flusher.stop()
            self.follower.stop()
        if "keys" in self.__dict__:
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


if TYPE_CHECKING:
    from fastapi import Depends

    Runtime = Annotated[Stanch, Depends(stanch_of)]
    """A route's or page's parameter type for the runtime: ``def handler(app: Runtime, ...)``."""
else:
    _ANNOTATIONS: dict[str, Any] = {}

    def __getattr__(name: str) -> Any:
        """``Runtime`` is built on first use, so that a CLI command building a ``Stanch`` never imports
        FastAPI (half a second of start-up); the pages and the API import it as usual."""
        if name != "Runtime":
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        if name not in _ANNOTATIONS:
            from fastapi import Depends

            _ANNOTATIONS[name] = Annotated[Stanch, Depends(stanch_of)]
        return _ANNOTATIONS[name]
