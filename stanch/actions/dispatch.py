"""The dispatcher: claims due outbox messages, sends them, and records what happened.

Claiming is one short transaction that marks up to ``batch_size`` due rows as this run's for a
``lease``; sending happens outside any transaction; each outcome is its own short transaction. Many
dispatchers (server processes, ``stanch actions run``) can run at once:

- PostgreSQL: the due rows are selected ``FOR UPDATE SKIP LOCKED`` inside the claiming UPDATE, so two
  claimers never take the same row and never wait for each other.
- SQLite: the claiming UPDATE runs in a ``BEGIN IMMEDIATE`` transaction; writers are serialised, so
  the second claimer sees the first one's lease.

A worker that dies mid-send leaves its rows leased; when the lease runs out another dispatcher takes
them again (the webhook's idempotency key makes a repeated delivery harmless). The lease must
outlast sending a whole batch: keep ``batch_size * timeout`` well under it.

Attempts are counted when claimed, so a message that crashes its worker every time still ends as
``failed`` after ``max_attempts``.
"""

from __future__ import annotations

import json
import logging
import random as random_module
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import TracebackType

from sqlalchemy import Engine, Select, or_, select, update

from stanch.actions.delivery import DeliveryError, Message, Sender
from stanch.actions.mailers import mailer_from_settings
from stanch.actions.retry import RetryPolicy
from stanch.actions.settings import ActionSettings
from stanch.actions.webhooks import WebhookSender
from stanch.clock import utcnow
from stanch.store.engine import write_engine
from stanch.store.outbox_models import OutboxMessage

log = logging.getLogger("stanch.actions")
DEFAULT_LEASE = timedelta(minutes=5)
DEFAULT_BATCH = 10
DEFAULT_POLL_SECONDS = 1.0


@dataclass(frozen=True)
class DispatchReport:
    """What one ``run_once`` did."""

    sent: int = 0
    retried: int = 0
    failed: int = 0

    def __add__(self, other: DispatchReport) -> DispatchReport:
        return DispatchReport(
            self.sent + other.sent, self.retried + other.retried, self.failed + other.failed
        )

    @property
    def handled(self) -> int:
        return self.sent + self.retried + self.failed


@dataclass(frozen=True)
class _Claimed:
    """A message leased to this run: the row it came from and the claim that holds it."""

    message: Message
    row_id: int
    claim: str
    last_error: str | None


class Dispatcher:
    """Sends what the outbox holds. ``senders`` maps a kind (``webhook``, ``email``) to its sender;
    by default they come from ``settings`` (the environment). Messages of a kind without a sender
    (webhooks while ``STANCH_WEBHOOK_URL`` is unset) wait in the outbox untouched."""

    def __init__(
        self,
        engine: Engine,
        settings: ActionSettings | None = None,
        *,
        senders: dict[str, Sender] | None = None,
        policy: RetryPolicy | None = None,
        clock: Callable[[], datetime] = utcnow,
        random: Callable[[], float] = random_module.random,
        lease: timedelta = DEFAULT_LEASE,
        batch_size: int = DEFAULT_BATCH,
    ) -> None:
        self._engine = engine
        self._writes = write_engine(engine)
        self._clock = clock
        self._senders = senders if senders is not None else default_senders(settings, clock)
        self._policy = policy or RetryPolicy()
        self._random = random
        self._lease = lease
        self._batch_size = batch_size

    @property
    def kinds(self) -> tuple[str, ...]:
        """The kinds of message this dispatcher sends."""
        return tuple(sorted(self._senders))

    def run_once(self, stop: threading.Event | None = None) -> DispatchReport:
        """Send everything due now, batch after batch, then return what happened.

        When ``stop`` is set the current batch is finished (its messages are leased to this run) and
        no other is claimed."""
        report = DispatchReport()
        while not (stop and stop.is_set()) and (batch := self._claim()):
            for claimed in batch:
                report += self._deliver(claimed)
        return report

    def run_forever(self, stop: threading.Event, poll_seconds: float = DEFAULT_POLL_SECONDS) -> None:
        """Send due messages until ``stop`` is set, looking for new ones every ``poll_seconds``.

        A database outage is logged and waited out; it never ends the loop.
        """
        while not stop.is_set():
            try:
                self.run_once(stop)
            except Exception:
                log.exception("dispatching failed; trying again in %s s", poll_seconds)
            stop.wait(poll_seconds)

    def close(self) -> None:
        for sender in self._senders.values():
            sender.close()

    def __enter__(self) -> Dispatcher:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    def _due(self, now: datetime) -> Select[int]:
        """Ids of the messages this dispatcher can send now, oldest first."""
        table = OutboxMessage
        return (
            select(table.id)
            .where(
                table.status == "pending",
                table.kind.in_(self.kinds),
                table.next_attempt_at <= now,
                or_(table.claimed_until.is_(None), table.claimed_until <= now),
            )
            .order_by(table.next_attempt_at, table.id)
            .limit(self._batch_size)
        )

    def _claim(self) -> list[_Claimed]:
        """Lease up to ``batch_size`` due messages to this run, counting the attempt.

        A plain read looks first, so an idle dispatcher polling SQLite does not take the write lock
        every second."""
        if not self._senders:
            return []
        now = self._clock()
        with self._engine.connect() as connection:
            if connection.execute(self._due(now)).first() is None:
                return []
        table = OutboxMessage
        due = self._due(now).with_for_update(skip_locked=True)
        claim = (
            update(table)
            .where(table.id.in_(due.scalar_subquery()))
            .values(claim=str(uuid.uuid4()), claimed_until=now + self._lease,
                    attempts=table.attempts + 1, last_attempt_at=now)
            .returning(table.id, table.uuid, table.kind, table.type, table.recipient, table.payload,
                       table.created_at, table.attempts, table.claim, table.last_error)
        )
        with self._writes.begin() as connection:
            rows = connection.execute(claim).all()
        return [
            _Claimed(
                Message(row.uuid, row.kind, row.type, row.recipient, json.loads(row.payload),
                        row.created_at, row.attempts),
                row.id, row.claim, row.last_error,
            )
            for row in sorted(rows, key=lambda row: row.id)
        ]

    def _deliver(self, claimed: _Claimed) -> DispatchReport:
        message = claimed.message
        if message.attempt > self._policy.max_attempts:
            return self._fail(claimed, f"{claimed.last_error or 'no error recorded'}; no outcome was "
                                       "recorded for the last attempt (its worker stopped)")
        try:
            self._senders[message.kind].send(message)
        except DeliveryError as error:
            return self._failed_attempt(claimed, error)
        except Exception as error:
            log.exception("sending %s %s failed unexpectedly", message.kind, message.uuid)
            return self._failed_attempt(claimed, DeliveryError(f"unexpected error: {error!r}"))
        self._finish(claimed, status="sent", error=None, own_claim_only=False)
        log.info("sent %s %s (%s), attempt %d", message.kind, message.uuid, message.type, message.attempt)
        return DispatchReport(sent=1)

    def _failed_attempt(self, claimed: _Claimed, error: DeliveryError) -> DispatchReport:
        message = claimed.message
        if error.permanent:
            return self._fail(claimed, f"refused: {error.reason}")
        if message.attempt >= self._policy.max_attempts:
            return self._fail(claimed, f"gave up after {message.attempt} attempts: {error.reason}")
        delay = self._policy.delay(message.attempt, self._random)
        if error.retry_after is not None:
            delay = min(max(delay, error.retry_after), self._policy.cap)
        when = self._clock() + delay
        self._update(claimed, own_claim_only=True, next_attempt_at=when, claim=None, claimed_until=None,
                     last_error=error.reason)
        log.warning("%s %s attempt %d failed (%s); next attempt at %s", message.kind, message.uuid,
                    message.attempt, error.reason, when.isoformat(timespec="seconds"))
        return DispatchReport(retried=1)

    def _fail(self, claimed: _Claimed, reason: str) -> DispatchReport:
        message = claimed.message
        self._finish(claimed, status="failed", error=reason, own_claim_only=True)
        log.error("%s %s (%s) failed for good: %s", message.kind, message.uuid, message.type, reason)
        return DispatchReport(failed=1)

    def _finish(self, claimed: _Claimed, *, status: str, error: str | None, own_claim_only: bool) -> None:
        self._update(claimed, own_claim_only=own_claim_only, status=status, last_error=error,
                     done_at=self._clock(), claim=None, claimed_until=None)

    def _update(self, claimed: _Claimed, *, own_claim_only: bool, **values: object) -> None:
        """Record an outcome. Delivery is recorded whoever holds the row now (it happened); retries
        and failures only while this run still holds its claim, so a worker whose lease ran out
        cannot undo the work of the one that took over."""
        condition = [OutboxMessage.id == claimed.row_id, OutboxMessage.status == "pending"]
        if own_claim_only:
            condition.append(OutboxMessage.claim == claimed.claim)
        with self._writes.begin() as connection:
            changed = connection.execute(update(OutboxMessage).where(*condition).values(**values)).rowcount
        if not changed:
            log.warning("%s %s: lease lost before its outcome was recorded; another worker has it",
                        claimed.message.kind, claimed.message.uuid)


def default_senders(
    settings: ActionSettings | None, clock: Callable[[], datetime] = utcnow
) -> dict[str, Sender]:
    """Senders for what ``settings`` (default: the environment) configure: email always (the log at
    least), webhooks only with ``STANCH_WEBHOOK_URL``."""
    settings = settings or ActionSettings.from_env()
    senders: dict[str, Sender] = {"email": mailer_from_settings(settings)}
    if settings.webhook_url and settings.webhook_secret:
        senders["webhook"] = WebhookSender(settings.webhook_url, settings.webhook_secret,
                                           timeout=settings.webhook_timeout, clock=clock)
    return senders
