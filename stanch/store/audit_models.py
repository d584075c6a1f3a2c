"""The audit log table: append-only and hash-chained (the logic is in ``stanch.desk.audit``).

Each row's ``hash`` covers its own fields and the previous row's hash, so altering, removing or
inserting a row anywhere breaks every hash after it. ``seq`` is assigned by the writer (previous + 1,
never by a sequence) so a missing row shows as a gap. Triggers created by the migration make UPDATE
and DELETE on this table fail, so a careless statement is refused rather than silently breaking the
chain.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from stanch.store.models import Base, BigId, UtcDateTime

GENESIS_HASH = "0" * 64
"""``prev_hash`` of the first row."""


class AuditEvent(Base):
    """Who did what to which subject, when; ``details`` is canonical JSON."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_subject", "subject_type", "subject_id"),)

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(60), index=True)
    subject_type: Mapped[str | None] = mapped_column(String(60))
    subject_id: Mapped[str | None] = mapped_column(String(200))
    details: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
