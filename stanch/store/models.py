"""The tables of the bank and of API keys, as SQLAlchemy 2 models.

A bank holds entries; an entry is one piece of media known only by its signals (hashes, never the
media) and where it came from. The PDQ hashes that matching looks up live one per row in
``entry_hashes`` (plain, 8 rotations and flips, robustness views) and ``video_frames``, so that the
in-memory index can stream them at start-up without building objects. ``bank_changes`` is the change
feed every server process follows to keep its index current (see ``stanch.store.changes``).

Timestamps are stored in UTC and always come back timezone-aware, on SQLite as on PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Text,
    TypeDecorator,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from stanch.clock import utcnow

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
"""Named constraints, so that later migrations (batch mode on SQLite) can find and alter them."""

TRUSTS = ("block", "review")
"""What a match in a bank (or entry) leads to: block the upload, or send it to a reviewer."""
BANK_KINDS = ("match", "allow", "minor")
"""``allow`` banks hold content that must never be actioned (benign images that collide); ``minor`` banks
match as ``match`` banks do and hold intimate imagery of people under 18 (child sexual abuse material):
the desk banks a minor's case there (``STANCH_MINOR_BANK``), and an NCMEC exchange source may feed it."""
ENTRY_KINDS = ("image", "video")
FRAME_ORIGINAL = "original"
"""The ``view`` of a video frame's plain hash row (its views' rows follow it)."""

ENTRY_NOTED = "md5 IS NOT NULL OR sha256 IS NOT NULL OR expires IS NOT NULL OR trust = 'review'"
"""Entries the index must know more of than their hashes (digests, expiry, lower trust): the predicate
of the partial index ``ix_entries_noted`` (migration 0018), written as SQL text so that the start's
query repeats it word for word (SQLite uses a partial index only for a query that states its
predicate)."""
NOTED_VIEWS = (
    "original", "rotate90", "rotate180", "rotate270", "flipx", "flipy", "flip_plus1", "flip_minus1",
)
"""``stanch.signals.pdq.DIHEDRAL_NAMES`` as of migration 0018 (a test checks they agree)."""
HASH_NOTED = (
    "\"indexed\" = FALSE OR role NOT IN (" + ", ".join(f"'{name}'" for name in NOTED_VIEWS) + ")"
)
"""Hashes that make their entry noted (not indexed, or a view other than the dihedral ones): the
predicate of the partial index ``ix_entry_hashes_noted`` (migration 0018)."""

BigId = BigInteger().with_variant(Integer, "sqlite")
"""64-bit ids on PostgreSQL; SQLite's rowid (already 64-bit) needs the INTEGER spelling."""


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp stored as UTC and returned timezone-aware (SQLite keeps no time zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("timestamps given to the store must be timezone-aware")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Bank(Base):
    """A named collection of entries with its own match threshold and trust."""

    __tablename__ = "banks"
    __table_args__ = (
        CheckConstraint("trust IN ('block', 'review')", name="trust"),
        CheckConstraint("kind IN ('match', 'allow', 'minor')", name="kind"),
        CheckConstraint("threshold >= 0 AND threshold <= 256", name="threshold"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    threshold: Mapped[int] = mapped_column(Integer, default=31)
    trust: Mapped[str] = mapped_column(String(10), default="block")
    kind: Mapped[str] = mapped_column(String(10), default="match")
    created: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    auto_remove: Mapped[str | None] = mapped_column(String(200))
    """Which matches remove a copy at once (``stanch.matching.auto_remove``); None: the default rule."""


class Import(Base):
    """One run of ``stanch bank import`` (or the API's equivalent): where a batch of entries came from."""

    __tablename__ = "imports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("banks.id"), index=True)
    source: Mapped[str] = mapped_column(Text)
    format: Mapped[str] = mapped_column(String(20))
    trust: Mapped[str] = mapped_column(String(10))
    created: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    added: Mapped[int] = mapped_column(Integer, default=0)
    withdrawn: Mapped[int] = mapped_column(Integer, default=0)


class Entry(Base):
    """One banked piece of media: its signals, its provenance, and whether it still counts."""

    __tablename__ = "entries"
    __table_args__ = (
        CheckConstraint("trust IN ('block', 'review')", name="trust"),
        CheckConstraint("kind IN ('image', 'video')", name="kind"),
        Index("ix_entries_external", "bank_id", "external_list", "external_id"),
        # Partial: lists of bare PDQ hashes (most rows) have no digests and cost these indexes nothing.
        Index(
            "ix_entries_md5",
            "md5",
            sqlite_where=text("md5 IS NOT NULL"),
            postgresql_where=text("md5 IS NOT NULL"),
        ),
        Index(
            "ix_entries_sha256",
            "sha256",
            sqlite_where=text("sha256 IS NOT NULL"),
            postgresql_where=text("sha256 IS NOT NULL"),
        ),
        # Partial: what a start from a snapshot reads besides the hashes (migration 0018).
        Index("ix_entries_noted", "id", sqlite_where=text(ENTRY_NOTED), postgresql_where=text(ENTRY_NOTED)),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("banks.id"))
    kind: Mapped[str] = mapped_column(String(10))
    pdq: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    quality: Mapped[int | None] = mapped_column(SmallInteger)
    md5: Mapped[str | None] = mapped_column(String(32))
    sha256: Mapped[str | None] = mapped_column(String(64))
    duration: Mapped[float | None] = mapped_column(Float)
    source: Mapped[str | None] = mapped_column(Text)
    request_id: Mapped[int | None] = mapped_column(Integer)
    import_id: Mapped[int | None] = mapped_column(ForeignKey("imports.id"))
    external_list: Mapped[str | None] = mapped_column(String(200))
    external_id: Mapped[str | None] = mapped_column(String(200))
    trust: Mapped[str] = mapped_column(String(10))
    created: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    expires: Mapped[datetime | None] = mapped_column(UtcDateTime())
    withdrawn_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    withdrawn_reason: Mapped[str | None] = mapped_column(String(200))
    disabled_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    """Switched off by an admin (``stanch bank disable``): not matched, not withdrawn (kept, re-enabled
    by ``stanch bank enable``)."""
    disabled_reason: Mapped[str | None] = mapped_column(String(200))


class EntryHash(Base):
    """One PDQ hash of an image entry: ``role`` names the view (``original``, ``rotate90``, ...,
    ``trimmed``); ``indexed`` says whether matching looks it up (``stanch.signals.robust.bank_hashes``)."""

    __tablename__ = "entry_hashes"
    __table_args__ = (
        Index("ix_entry_hashes_noted", "entry_id", sqlite_where=text(HASH_NOTED),
              postgresql_where=text(HASH_NOTED)),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id"), index=True)
    bank_id: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(40))
    pdq: Mapped[bytes] = mapped_column(LargeBinary(32))
    quality: Mapped[int | None] = mapped_column(SmallInteger)
    indexed: Mapped[bool] = mapped_column(Boolean)


class VideoFrame(Base):
    """One PDQ hash of one frame of a video entry, at ``ts`` seconds from its start.

    ``view`` is ``original`` for the frame's plain hash; the rows of its views (``centre``,
    ``trimmed``: ``stanch.signals.frame_views.BANK_VIEWS``) follow it, in id order, with their own
    quality. Reading rows in id order therefore gives each frame, then its views (``frames_from_rows``).
    """

    __tablename__ = "video_frames"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id"), index=True)
    bank_id: Mapped[int] = mapped_column(Integer)
    pdq: Mapped[bytes] = mapped_column(LargeBinary(32))
    quality: Mapped[int] = mapped_column(SmallInteger)
    ts: Mapped[float] = mapped_column(Float)
    view: Mapped[str] = mapped_column(String(40), server_default=FRAME_ORIGINAL)


class BankChange(Base):
    """The change feed: one row per entry added or withdrawn (and per bank settings change), in
    commit order. ``seq`` only grows; see ``stanch.store.changes`` for how that is guaranteed."""

    __tablename__ = "bank_changes"
    __table_args__ = (CheckConstraint("op IN ('add', 'withdraw', 'bank')", name="op"),)

    seq: Mapped[int] = mapped_column(BigId, primary_key=True)
    bank_id: Mapped[int] = mapped_column(Integer)
    entry_id: Mapped[int | None] = mapped_column(Integer)
    op: Mapped[str] = mapped_column(String(10))


class FeedPrune(Base):
    """One pruning of the change feed: rows with ``seq <= through`` were deleted (``rows`` of them).

    The newest ``through`` is the feed's watermark: a follower whose cursor is below it may have missed
    deleted changes and must reload (``stanch.store.changes``). Written in the deleting transaction."""

    __tablename__ = "bank_changes_pruned"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    through: Mapped[int] = mapped_column(BigInteger)
    rows: Mapped[int] = mapped_column(BigInteger)
    pruned_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class ApiKey(Base):
    """An API key: only its SHA-256 is stored; ``prefix`` (not secret) finds the row."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    scopes: Mapped[str] = mapped_column(String(200))
    created: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    last_used: Mapped[datetime | None] = mapped_column(UtcDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    @property
    def scope_set(self) -> frozenset[str]:
        return frozenset(s for s in self.scopes.split(",") if s)

    def allows(self, scope: str) -> bool:
        """Whether this key may use ``scope``; ``admin`` allows everything."""
        return self.revoked_at is None and (scope in self.scope_set or "admin" in self.scope_set)


class Lease(Base):
    """A named lease: the process whose ``owner`` holds it until ``until`` runs a periodic job (one of
    several servers on the same database); ``last_done`` is when the job last finished."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    owner: Mapped[str | None] = mapped_column(String(64))
    until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_done: Mapped[datetime | None] = mapped_column(UtcDateTime())
