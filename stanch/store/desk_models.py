"""The takedown desk's tables: requests, their locations, located items and copies, appeals.

The logic lives in ``stanch.desk``; these are only the rows. A request's public number (``public_id``,
``STN-7K3Q-9XPM``) is what people see; ``id`` stays internal and is what bank entries record as their
``request_id``. The requester's secret code is kept only as a SHA-256 digest (``token_hash``).

Rate limits and duplicate detection work on keyed hashes (HMAC) of the requester's address and email,
never on the plain values, so the counting tables reveal nobody.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column

from stanch.clock import utcnow
from stanch.store.models import Base, BigId, UtcDateTime

REQUEST_STATES = ("received", "in_review", "need_info", "removed", "rejected", "withdrawn", "reinstated")
"""``received`` until a reviewer opens it; ``removed``/``rejected`` are decisions; ``reinstated`` is a
removal reversed on appeal."""
APPEAL_STATES = ("received", "upheld", "reinstated")
ITEM_ORIGINS = ("located", "copy")
"""``located``: the item at a reported location; ``copy``: found by matching or a sweep."""


class TakedownRequest(Base):
    """One removal request: who asks, what they said, where the content is, and what was decided."""

    __tablename__ = "takedown_requests"
    __table_args__ = (
        CheckConstraint(
            "status IN ('received', 'in_review', 'need_info', 'removed', 'rejected', 'withdrawn',"
            " 'reinstated')",
            name="status",
        ),
        CheckConstraint("relationship IN ('self', 'authorised')", name="relationship"),
        Index("ix_takedown_requests_open", "status", "deadline"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(20), unique=True)
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    status: Mapped[str] = mapped_column(String(12), default="received")
    received_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    deadline: Mapped[datetime] = mapped_column(UtcDateTime())
    requester_name: Mapped[str] = mapped_column(String(200))
    requester_email: Mapped[str] = mapped_column(String(320))
    requester_phone: Mapped[str | None] = mapped_column(String(50))
    requester_contact: Mapped[str | None] = mapped_column(Text)
    relationship: Mapped[str] = mapped_column(String(12))
    signature: Mapped[str] = mapped_column(String(200))
    statement: Mapped[str] = mapped_column(Text)
    explanation: Mapped[str | None] = mapped_column(Text)
    hashes: Mapped[str] = mapped_column(Text, default="[]")
    """JSON list of the requester's hashes, validated (bare ``{"pdq", "md5", ...}`` or full records)."""
    contact_hash: Mapped[str] = mapped_column(String(64), index=True)
    flags: Mapped[str] = mapped_column(Text, default="[]")
    """JSON list: ``duplicate``, ``repeated``, ``bulk``."""
    duplicate_of: Mapped[int | None] = mapped_column(ForeignKey("takedown_requests.id"))
    decision: Mapped[str | None] = mapped_column(String(12))
    decision_reason: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    decided_by: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    share_consent: Mapped[bool] = mapped_column(default=False, server_default=sa_false())
    """The requester agreed to share the hashes with hash-sharing partners once removed (default no)."""
    minor: Mapped[bool] = mapped_column(default=False, server_default=sa_false())
    """The person shown was under 18 when the picture or video was made: child sexual abuse material,
    escalated at once, on its own clock, never previewed (``stanch.desk.minors``)."""


class RequestLocation(Base):
    """One reported location (URL or item id) and how locating it went."""

    __tablename__ = "request_locations"
    __table_args__ = (
        CheckConstraint("state IN ('pending', 'located', 'failed')", name="state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("takedown_requests.id"), index=True)
    location: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(10), default="pending")
    error: Mapped[str | None] = mapped_column(Text)
    added_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class RequestItem(Base):
    """An item on the platform tied to a request: located at a reported location, or a copy found by
    matching (``signal`` and ``distance`` say how). Its hashes are kept; media never is (only a reduced,
    encrypted preview in the spool until the decision)."""

    __tablename__ = "request_items"
    __table_args__ = (
        CheckConstraint("origin IN ('located', 'copy')", name="origin"),
        CheckConstraint("review IN ('pending', 'removed', 'rejected')", name="review"),
        UniqueConstraint("request_id", "item_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("takedown_requests.id"), index=True)
    item_id: Mapped[str] = mapped_column(String(500), index=True)
    origin: Mapped[str] = mapped_column(String(10))
    location: Mapped[str | None] = mapped_column(Text)
    hashes: Mapped[str] = mapped_column(Text)
    """JSON object: a bare ``{"pdq", "md5", ...}`` or a full ``stanch hash`` record."""
    signal: Mapped[str | None] = mapped_column(String(20))
    distance: Mapped[int | None] = mapped_column(Integer)
    added_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    added_by: Mapped[str] = mapped_column(String(200))
    removal_sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    reinstated_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    spool_id: Mapped[str | None] = mapped_column(String(32))
    """The file of its encrypted preview in the spool (``stanch.desk.spool``), while one is kept."""
    preview_frames: Mapped[int | None] = mapped_column(Integer)
    """For a video: how many keyframes its spooled preview holds (None: a picture)."""
    review: Mapped[str | None] = mapped_column(String(10), index=True)
    """A copy the bank's auto-remove rule sent to a reviewer: ``pending``, then ``removed`` or
    ``rejected`` (None: removed at once, or a located item)."""
    view: Mapped[str | None] = mapped_column(String(60))
    """Which view matched (``original``, ``flipx``, a crop window...; ``original>rot90``: the query's
    view then the banked one), beside ``signal`` and ``distance``."""
    entries: Mapped[str | None] = mapped_column(Text)
    """JSON list of the bank entries the copy matched (for per-entry counts and exchange feedback)."""
    due_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    """When a copy on the review list should be decided by (the case's deadline while it is open)."""
    reviewed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    reviewed_by: Mapped[str | None] = mapped_column(String(200))
    review_reason: Mapped[str | None] = mapped_column(Text)


class RequestEntry(Base):
    """Which bank entries a removal contributed: an entry shared by two requests stays banked until
    both are reversed."""

    __tablename__ = "request_entries"

    request_id: Mapped[int] = mapped_column(ForeignKey("takedown_requests.id"), primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id"), primary_key=True, index=True)


class RequestNote(Base):
    """Information the requester added after filing (``POST /v1/requests/{id}/info``)."""

    __tablename__ = "request_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("takedown_requests.id"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    text: Mapped[str] = mapped_column(Text)


class RequestEscalation(Base):
    """One escalation of an open request (24 h and 36 h elapsed); unique, so the job is idempotent."""

    __tablename__ = "request_escalations"
    __table_args__ = (UniqueConstraint("request_id", "hours"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("takedown_requests.id"), index=True)
    hours: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class Appeal(Base):
    """An uploader's appeal against a removal; decided by a reviewer other than the one who removed."""

    __tablename__ = "appeals"
    __table_args__ = (
        CheckConstraint("status IN ('received', 'upheld', 'reinstated')", name="status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(20), unique=True)
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    request_id: Mapped[int] = mapped_column(ForeignKey("takedown_requests.id"), index=True)
    item_id: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(12), default="received")
    received_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    deadline: Mapped[datetime] = mapped_column(UtcDateTime())
    appellant_name: Mapped[str] = mapped_column(String(200))
    appellant_email: Mapped[str] = mapped_column(String(320))
    statement: Mapped[str] = mapped_column(Text)
    decision_reason: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    decided_by: Mapped[str | None] = mapped_column(String(200))


class IntakeEvent(Base):
    """One accepted submission, counted by keyed hash of its address or contact for rate limits."""

    __tablename__ = "intake_events"
    __table_args__ = (Index("ix_intake_events_key", "kind", "key_hash", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    key_hash: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class DeskSecret(Base):
    """Secrets the desk generates once and shares between processes (the key of the keyed hashes)."""

    __tablename__ = "desk_secrets"

    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[bytes] = mapped_column(LargeBinary(64))
