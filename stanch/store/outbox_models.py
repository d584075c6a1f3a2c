"""The outbox table: messages (webhooks, emails) waiting to go out, written in the caller's transaction.

A message is a row first and a network call later: the row commits together with the decision that
caused it, so nothing is sent for a transaction that rolled back, and nothing is lost if the process
dies after the commit. ``stanch.actions.dispatch`` claims due rows, sends them and records the outcome.

States: ``pending`` (waiting, or being sent while ``claimed_until`` is in the future), ``sent`` and
``failed`` (gave up after the last attempt, or the receiver refused it for good). Failed rows stay,
with ``last_error``, until an admin retries them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from stanch.clock import utcnow
from stanch.store.models import Base, BigId, UtcDateTime

OUTBOX_KINDS = ("webhook", "email")
OUTBOX_STATES = ("pending", "sent", "failed")


class OutboxMessage(Base):
    """One message to deliver. ``uuid`` is its public id and the webhook's idempotency key."""

    __tablename__ = "outbox"
    __table_args__ = (
        CheckConstraint("kind IN ('webhook', 'email')", name="kind"),
        CheckConstraint("status IN ('pending', 'sent', 'failed')", name="status"),
        Index("ix_outbox_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    type: Mapped[str] = mapped_column(String(60))
    recipient: Mapped[str | None] = mapped_column(String(320))
    """The email address (emails); None for webhooks, which go to the configured endpoint."""
    payload: Mapped[str] = mapped_column(Text)
    """JSON: the webhook's ``data``, or the rendered email's ``subject`` and ``body``."""
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    claimed_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    claim: Mapped[str | None] = mapped_column(String(36))
    """Which dispatcher run holds the row; a worker only records outcomes for its own claim."""
    last_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    done_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
