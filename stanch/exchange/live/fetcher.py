"""One fetch of one source: page by page, each page committed with the checkpoint that follows it.

A fetch takes the source's lease first (a conditional UPDATE, atomic on SQLite and PostgreSQL), so
one process at a time fetches a source however many servers run; each page's transaction renews it
and is refused if another process has taken it since. Within a page's transaction: new records are
added, ``Withdrawn``/``Deleted`` ones withdraw the entry, records that cannot be read are quarantined
(kept with the reason and counted), and the checkpoint moves past the page. A crash or ``kill -9``
therefore loses at most the page in flight, which the next fetch reads again; adding a record whose
``(signalType, hashValue)`` is already active is a no-op, so nothing is duplicated either.

A page that cannot be read at all (not JSON, or no way to know where the next one starts) is retried
by later fetches with backoff; after ``MAX_PAGE_ATTEMPTS`` it is quarantined and skipped (the next
fetch starts one second past the last good page), so one bad page never stalls a source for good
(facebook/ThreatExchange #2004). A page that is JSON with a usable cursor but a bad record list is
quarantined at once and fetching goes on.

Errors and 429s end the fetch with the checkpoint where the last committed page left it, and set
``next_fetch_at``: ``Retry-After`` when the source gave one, else an exponential backoff. Time comes
from an injected clock; nothing here sleeps.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from stanch.exchange.live.errors import CredentialsError, RateLimited, SourceError, UnreadablePage
from stanch.exchange.live.ncmec import NCMECClient
from stanch.exchange.live.pages import Page, bounded
from stanch.exchange.live.sources import get_source, read_credentials
from stanch.exchange.live.stopncii import START_TIMESTAMP, StopNCIIClient
from stanch.exchange.live.tcap import TCAPClient
from stanch.exchange.live.threatexchange import ThreatExchangeClient
from stanch.exchange.records import FormatError, Item, Skip, Withdrawal
from stanch.store import Bank, Database, EntryWriter, NewEntry
from stanch.store.exchange_models import ExchangeSource, QuarantinedItem
from stanch.store.models import utcnow

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
LEASE_SECONDS = 300
MAX_PAGE_ATTEMPTS = 3
BACKOFF_SECONDS = 60
MAX_BACKOFF_SECONDS = 6 * 3600
MAX_PAGES_PER_FETCH = 100_000
"""A runaway source (a cursor that never ends) stops here; the next fetch goes on from the checkpoint."""


class PageClient(Protocol):
    """A source's client: pages, and what each record of a page means."""

    def fetch_page(self, start_timestamp: int, page_token: str | None) -> Page: ...

    def item(self, record: Any, where: str, list_name: str, trust: str | None) -> Item: ...


ClientFactory = Callable[[ExchangeSource, str], PageClient]


def default_client(source: ExchangeSource, credentials: str) -> PageClient:
    """The client for a source's type."""
    if source.type == "ncmec":
        return NCMECClient(credentials, source.base_url)
    if source.type == "threatexchange":
        return ThreatExchangeClient(credentials, source.base_url, source.privacy_group)
    if source.type == "tcap":
        return TCAPClient(credentials, source.base_url)
    return StopNCIIClient(credentials, source.base_url)


class LeaseLost(RuntimeError):
    """Another process took the source's lease (ours had expired): this fetch stops writing."""


@dataclass
class Checkpoint:
    """Where the next page starts: a time (StopNCII's ``startTimestamp``, NCMEC's ``from``,
    ThreatExchange's ``start_time``) and the source's page token (``nextPageToken``, NCMEC's next
    path, ThreatExchange's ``paging.next`` without the access token, TCAP's checkpoint); ``after`` is
    the newest resume time of the good pages so far; ``attempts`` counts fetches that failed on
    this page."""

    start: int = START_TIMESTAMP
    token: str | None = None
    after: int | None = None
    attempts: int = 0

    @classmethod
    def load(cls, text: str | None) -> Checkpoint:
        if not text:
            return cls()
        value = json.loads(text)
        return cls(int(value["start"]), value.get("token"), value.get("after"), int(value.get("attempts", 0)))

    def dump(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))


@dataclass
class FetchResult:
    """What one fetch did."""

    source: str
    fetched: bool = True
    """False when another process held the lease (nothing was done)."""
    complete: bool = False
    """True when the source said it had no more records."""
    pages: int = 0
    added: int = 0
    withdrawn: int = 0
    unchanged: int = 0
    quarantined: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    error: str | None = None
    retry_after: float | None = None
    """Seconds the source asked us to wait (429 ``Retry-After``)."""
    next_fetch_at: datetime | None = None


def take_lease(db: Database, name: str, owner: str, now: datetime) -> bool:
    """Take the source's lease if nobody holds an unexpired one; True when this caller has it."""
    with db.write() as session:
        result = session.execute(
            update(ExchangeSource)
            .where(
                ExchangeSource.name == name,
                or_(ExchangeSource.lease_until.is_(None), ExchangeSource.lease_until <= now),
            )
            .values(lease_owner=owner, lease_until=now + timedelta(seconds=LEASE_SECONDS))
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


def release_lease(session: Session, source: ExchangeSource, owner: str) -> None:
    if source.lease_owner == owner:
        source.lease_owner = None
        source.lease_until = None


def _renew(session: Session, source_id: int, owner: str, now: datetime) -> ExchangeSource:
    """Renew our lease in this transaction and return the source row; ``LeaseLost`` if it is not ours."""
    result = session.execute(
        update(ExchangeSource)
        .where(ExchangeSource.id == source_id, ExchangeSource.lease_owner == owner)
        .values(lease_until=now + timedelta(seconds=LEASE_SECONDS))
        .execution_options(synchronize_session=False)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        raise LeaseLost("another process took this source's lease; this fetch stopped")
    source = session.get(ExchangeSource, source_id, populate_existing=True)
    assert source is not None
    return source


def fetch_source(
    db: Database,
    name: str,
    *,
    clock: Clock = utcnow,
    client_factory: ClientFactory = default_client,
    environ: dict[str, str] | None = None,
    restart: bool = False,
) -> FetchResult:
    """Fetch ``name`` from its checkpoint to the end (or the first error). ``restart`` forgets the
    checkpoint first (a full re-fetch; records already held are left as they are)."""
    owner = uuid.uuid4().hex
    result = FetchResult(name)
    if not take_lease(db, name, owner, clock()):
        with db.read() as session:
            get_source(session, name)  # UnknownSource when it does not exist
        result.fetched = False
        return result
    with db.read() as session:
        source = get_source(session, name)
        source_id = source.id
    try:
        client = client_factory(source, read_credentials(source, environ))
        checkpoint = Checkpoint() if restart else Checkpoint.load(source.checkpoint)
        _fetch_pages(db, source_id, owner, client, checkpoint, clock, result)
    except RateLimited as error:
        result.error, result.retry_after = str(error), error.retry_after
    except (SourceError, CredentialsError, UnreadablePage) as error:
        result.error = str(error)
    except LeaseLost as error:
        result.error = str(error)
        return result
    _finish(db, source_id, owner, clock(), result)
    return result


def _fetch_pages(
    db: Database, source_id: int, owner: str, client: PageClient, checkpoint: Checkpoint, clock: Clock,
    result: FetchResult,
) -> None:  # fmt: skip
    for _ in range(MAX_PAGES_PER_FETCH):
        try:
            page = client.fetch_page(checkpoint.start, checkpoint.token)
        except UnreadablePage as error:
            checkpoint = _unreadable(db, source_id, owner, checkpoint, error, clock(), result)
            continue
        checkpoint = _store_page(db, source_id, owner, client, checkpoint, page, clock(), result)
        if not page.has_more:
            result.complete = True
            return


def _store_page(
    db: Database, source_id: int, owner: str, client: PageClient, checkpoint: Checkpoint, page: Page,
    now: datetime, result: FetchResult,
) -> Checkpoint:  # fmt: skip
    """Write one page and the checkpoint after it, in one transaction."""
    with db.write() as session:
        source = _renew(session, source_id, owner, now)
        bank = session.get(Bank, source.bank_id)
        assert bank is not None
        list_name = f"exchange:{source.name}"
        writer = EntryWriter(session, bank, trust=source.trust)
        where = f"page at startTimestamp={checkpoint.start}, token={checkpoint.token or '-'}"
        quarantined = 0
        if page.problem is not None:
            _quarantine(session, source_id, "page", where, page.problem, bounded(page.records), now)
            quarantined += 1
        for index, record in enumerate(page.records, 1):
            try:
                item = client.item(record, f"{where} record {index}", list_name, source.trust)
            except FormatError as error:
                _quarantine(session, source_id, "record", error.where, error.message, bounded(record), now)
                quarantined += 1
                continue
            if isinstance(item, NewEntry):
                writer.add(item)
            elif isinstance(item, Withdrawal):
                writer.withdraw_external(item.external_list, item.external_id, item.reason)
            elif isinstance(item, Skip):
                result.skipped[item.reason] = result.skipped.get(item.reason, 0) + 1
        written = writer.finish()
        following = _following(checkpoint, page)
        source.checkpoint = following.dump()
        source.added += len(written.added_ids)
        source.withdrawn += len(written.withdrawn_ids)
        source.quarantined += quarantined
        source.last_fetch_at = now
    result.pages += 1
    result.added += len(written.added_ids)
    result.withdrawn += len(written.withdrawn_ids)
    result.unchanged += written.unchanged
    result.quarantined += quarantined
    return following


def _following(checkpoint: Checkpoint, page: Page) -> Checkpoint:
    """The checkpoint after ``page``: the next page's token, or (after the last page) the newest
    resume point seen in the run as the next start. Newest, because a source need not page in time
    order (ThreatExchange's next start is the newest ``last_updated`` of the whole run, as in pytx)."""
    newest = max((t for t in (page.next_set, checkpoint.after) if t is not None), default=None)
    if page.has_more:
        return Checkpoint(checkpoint.start, page.token, newest)
    assert newest is not None
    return Checkpoint(newest, page.resume, newest)


def _unreadable(
    db: Database, source_id: int, owner: str, checkpoint: Checkpoint, error: UnreadablePage, now: datetime,
    result: FetchResult,
) -> Checkpoint:  # fmt: skip
    """Count a failed attempt at this page; at the last attempt, quarantine it and skip past it."""
    attempts = checkpoint.attempts + 1
    giving_up = attempts >= MAX_PAGE_ATTEMPTS
    if giving_up:
        following = Checkpoint(max(checkpoint.start, checkpoint.after or 0) + 1, None, checkpoint.after)
    else:
        following = Checkpoint(checkpoint.start, checkpoint.token, checkpoint.after, attempts)
    with db.write() as session:
        source = _renew(session, source_id, owner, now)
        source.checkpoint = following.dump()
        source.last_fetch_at = now
        if giving_up:
            where = f"page at startTimestamp={checkpoint.start}, token={checkpoint.token or '-'}"
            reason = f"{error} (skipped after {attempts} attempts)"
            _quarantine(session, source_id, "page", where, reason, error.body, now)
            source.quarantined += 1
    if not giving_up:
        raise error
    result.quarantined += 1
    return following


def _finish(db: Database, source_id: int, owner: str, now: datetime, result: FetchResult) -> None:
    """Record the outcome, schedule the next fetch (backoff after an error) and release the lease."""
    with db.write() as session:
        source = session.get(ExchangeSource, source_id)
        if source is None or source.lease_owner != owner:
            return
        source.last_fetch_at = now
        if result.error is None:
            source.failures = 0
            source.last_error = None
            source.last_success_at = now
            delay = float(source.schedule_seconds)
        else:
            source.failures += 1
            source.last_error = result.error
            delay = _backoff(source.failures, result)
        source.next_fetch_at = now + timedelta(seconds=delay)
        result.next_fetch_at = source.next_fetch_at
        release_lease(session, source, owner)
    log.info(
        "exchange %s: %d pages, %d added, %d withdrawn, %d quarantined%s",
        result.source, result.pages, result.added, result.withdrawn, result.quarantined,
        f"; error: {result.error}" if result.error else "",
    )  # fmt: skip


def _backoff(failures: int, result: FetchResult) -> float:
    if result.retry_after is not None:
        return float(min(MAX_BACKOFF_SECONDS, result.retry_after))
    return float(min(MAX_BACKOFF_SECONDS, BACKOFF_SECONDS * 2 ** (failures - 1)))


def _quarantine(
    session: Session, source_id: int, kind: str, where: str, reason: str, body: str, now: datetime
) -> None:
    session.add(QuarantinedItem(source_id=source_id, kind=kind, location=where, reason=reason, body=body,
                                created=now))


