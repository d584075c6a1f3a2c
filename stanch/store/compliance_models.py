"""Compliance tables: statements of reasons (EU DSA Art. 17) for every item a decision removed.

The logic lives in ``stanch.desk.statements``; these are only the rows. A statement never holds the
requester's name, contact or statement: only what the uploader of the item may read.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from stanch.store.models import Base, UtcDateTime, utcnow

TDB_STATES = ("off", "pending", "queued", "sent", "rejected")
"""Where a statement stands with the DSA Transparency Database: ``off`` (not configured when it was
written), ``pending`` (to batch), ``queued`` (in an outbox message), ``sent`` (the database has its
PUID), ``rejected`` (the database refused it with 422; ``tdb_message`` says why; never resent)."""
GROUNDS = ("illegal", "terms")
"""``illegal``: illegal content under a named law; ``terms``: incompatible with the platform's terms."""


class Statement(Base):
    """One statement of reasons: why one item was removed, on what ground, how, and how to appeal."""

    __tablename__ = "statements"
    __table_args__ = (
        CheckConstraint("ground IN ('illegal', 'terms')", name="ground"),
        CheckConstraint("tdb_state IN ('off', 'pending', 'queued', 'sent', 'rejected')", name="tdb_state"),
        UniqueConstraint("request_id", "item_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(20), unique=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("takedown_requests.id"), index=True)
    item_id: Mapped[str] = mapped_column(String(500), index=True)
    origin: Mapped[str] = mapped_column(String(10))
    ground: Mapped[str] = mapped_column(String(10))
    law: Mapped[str | None] = mapped_column(Text)
    """The law named for ``illegal``; the terms' reference (URL or clause) for ``terms``."""
    facts: Mapped[str] = mapped_column(Text)
    automated_detection: Mapped[bool] = mapped_column(Boolean)
    automated_decision: Mapped[bool] = mapped_column(Boolean)
    redress: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    """The whole statement as the uploader reads it."""
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    tdb_state: Mapped[str] = mapped_column(String(10), default="off", index=True)
    tdb_message: Mapped[str | None] = mapped_column(Text)
    tdb_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
