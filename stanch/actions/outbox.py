"""Putting messages in the outbox, inside the caller's transaction, and looking after failed ones.

``enqueue_webhook`` and ``enqueue_email`` only add a row to the session: the message exists if, and
when, the caller's transaction commits, together with the decision that caused it. The dispatcher
(``stanch.actions.dispatch``) sends it afterwards; a crash between commit and send only delays it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from stanch.actions.mailers import check_address
from stanch.actions.settings import public_url as configured_public_url
from stanch.actions.templates import Outcome, render
from stanch.actions.webhooks import WEBHOOK_TYPES
from stanch.clock import utcnow
from stanch.store.outbox_models import OUTBOX_STATES, OutboxMessage


class UnknownMessage(LookupError):
    """No outbox message has this id."""


def enqueue_webhook(
    session: Session,
    type: str,
    data: Mapping[str, Any],
    *,
    clock: Callable[[], datetime] = utcnow,
) -> OutboxMessage:
    """Queue a webhook of ``type`` (one of ``WEBHOOK_TYPES``) with JSON ``data`` for the platform."""
    if type not in WEBHOOK_TYPES:
        raise ValueError(f"unknown webhook type {type!r}; known: {', '.join(WEBHOOK_TYPES)}")
    return _add(session, "webhook", type, None, _json_object(data), clock())


def enqueue_dsa_batch(
    session: Session, ids: list[int], statements: list[dict[str, Any]], *,
    clock: Callable[[], datetime] = utcnow,
) -> OutboxMessage:
    """Queue one batch (1 to 100) of statements for the DSA Transparency Database (``stanch.actions.tdb``);
    ``ids`` are the ``statements`` rows they came from, in the same order."""
    if not 1 <= len(statements) <= 100 or len(ids) != len(statements):
        raise ValueError("a batch for the DSA database holds 1 to 100 statements, each with its row id")
    return _add(session, "dsa", "statements", None, _json_object({"ids": ids, "statements": statements}),
                clock())


def enqueue_email(
    session: Session,
    to: str,
    template: str,
    *,
    case_id: str,
    deadline: datetime | None = None,
    time_left: timedelta | None = None,
    public_url: str | None = None,
    outcome: Outcome | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> OutboxMessage:
    """Queue the neutral email ``template`` (see ``stanch.actions.templates``) about case ``case_id``;
    an ``update`` may tell the case's ``outcome`` (its locations by number only).

    The email is rendered now, so a template or address problem fails the caller's transaction instead
    of surfacing later, and the row holds exactly what will be sent. Its link points at
    ``public_url`` (default ``STANCH_PUBLIC_URL``).
    """
    site = public_url or configured_public_url()
    email = render(template, case_id=case_id, public_url=site, deadline=deadline, time_left=time_left,
                   outcome=outcome)
    payload = _json_object({"subject": email.subject, "body": email.body})
    return _add(session, "email", template, check_address(to), payload, clock())


def _add(
    session: Session, kind: str, type: str, recipient: str | None, payload: str, now: datetime
) -> OutboxMessage:
    message = OutboxMessage(
        uuid=str(uuid.uuid4()),
        kind=kind,
        type=type,
        recipient=recipient,
        payload=payload,
        status="pending",
        attempts=0,
        created_at=now,
        next_attempt_at=now,
    )
    session.add(message)
    session.flush()
    return message


def _json_object(data: Mapping[str, Any]) -> str:
    try:
        return json.dumps(dict(data), sort_keys=True, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as error:
        raise ValueError(f"message data must be a JSON object: {error}") from None


def list_messages(session: Session, *, status: str | None = None, limit: int = 100) -> list[OutboxMessage]:
    """The newest messages first, optionally only those in ``status`` (``pending``, ``sent``, ``failed``)."""
    if status is not None and status not in OUTBOX_STATES:
        raise ValueError(f"unknown status {status!r}; statuses are {', '.join(OUTBOX_STATES)}")
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    if status is not None:
        query = query.where(OutboxMessage.status == status)
    return list(session.scalars(query))


def retry_message(
    session: Session, message_id: str, *, clock: Callable[[], datetime] = utcnow
) -> OutboxMessage:
    """Send a failed message again from its first attempt (after the cause was fixed)."""
    message = session.scalars(select(OutboxMessage).where(OutboxMessage.uuid == message_id)).first()
    if message is None:
        raise UnknownMessage(f"no outbox message has the id {message_id!r}")
    if message.status != "failed":
        raise ValueError(f"message {message_id} is {message.status}; only failed messages are retried")
    message.status = "pending"
    message.attempts = 0
    message.next_attempt_at = clock()
    message.claim = None
    message.claimed_until = None
    message.done_at = None
    session.flush()
    return message


def prune_sent(session: Session, older_than: timedelta, *, clock: Callable[[], datetime] = utcnow) -> int:
    """Delete messages delivered more than ``older_than`` ago; returns how many.

    Only ``sent`` rows go: pending ones are still to be sent, and ``failed`` ones wait for an admin's
    retry. Nothing else reads sent rows (decisions and retries are in the audit log, which names a
    message by its id and is never touched here).
    """
    if older_than < timedelta(0):
        raise ValueError("the age of messages to prune cannot be negative")
    cutoff = clock() - older_than
    query = delete(OutboxMessage).where(OutboxMessage.status == "sent", OutboxMessage.done_at < cutoff)
    return int(session.connection().execute(query).rowcount)
