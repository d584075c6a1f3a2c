"""The live exchange's tables: the sources banks fetch from, and what a fetch had to set aside.

``exchange_sources`` holds a source's settings (never its credentials: only the name of the
environment variable or the path of the file that holds them), its checkpoint (JSON, committed in the
same transaction as the entries it covers), its counts, its last error, when it may next be fetched
(backoff) and a lease (``lease_owner``, ``lease_until``) so that one process at a time fetches it.

``exchange_quarantine`` keeps each record or page a fetch could not read, with the reason, so that an
admin can see it and nothing is silently dropped; the rest of the page goes in.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from stanch.store.models import Base, BigId, UtcDateTime, utcnow

SOURCE_TYPES = ("stopncii", "ncmec", "threatexchange", "tcap")
"""Source types Stanch can fetch (see docs/exchange.md for the ones left out, and why)."""


class ExchangeSource(Base):
    """One configured source feeding one bank."""

    __tablename__ = "exchange_sources"
    __table_args__ = (
        CheckConstraint("trust IN ('block', 'review')", name="trust"),
        CheckConstraint("schedule_seconds >= 60", name="schedule"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    type: Mapped[str] = mapped_column(String(40))
    bank_id: Mapped[int] = mapped_column(ForeignKey("banks.id"), index=True)
    credentials_env: Mapped[str | None] = mapped_column(String(200))
    """The name of the environment variable holding the credentials (never the credentials)."""
    credentials_file: Mapped[str | None] = mapped_column(Text)
    """The path of a file holding the credentials (never the credentials)."""
    base_url: Mapped[str | None] = mapped_column(Text)
    privacy_group: Mapped[int | None] = mapped_column(BigInteger)
    """The ThreatExchange privacy group a ``threatexchange`` source reads (empty for other types)."""
    trust: Mapped[str] = mapped_column(String(10))
    schedule_seconds: Mapped[int] = mapped_column(Integer, default=3600)
    enabled: Mapped[bool] = mapped_column(default=True)
    feedback: Mapped[bool] = mapped_column(default=False)
    """Send reviewers' verdicts on this source's entries back to it (StopNCII ``SubmitFeedback``)."""
    push: Mapped[bool] = mapped_column(default=False)
    """Submit the hashes of cases removed on the desk to this source (StopNCII ``SubmitHashes``), for
    requesters who consented (``TakedownRequest.share_consent``)."""
    checkpoint: Mapped[str | None] = mapped_column(Text)
    added: Mapped[int] = mapped_column(Integer, default=0)
    withdrawn: Mapped[int] = mapped_column(Integer, default=0)
    quarantined: Mapped[int] = mapped_column(Integer, default=0)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    """Consecutive failed fetches (drives the backoff); 0 after a fetch that reached the end."""
    last_fetch_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_success_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    next_fetch_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class QuarantinedItem(Base):
    """A record or page a fetch could not read: where it was, why, and (a bounded copy of) its text."""

    __tablename__ = "exchange_quarantine"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("exchange_sources.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    """``record`` or ``page``."""
    location: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    created: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
