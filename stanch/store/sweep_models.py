"""The sweep's tables: the platform's catalog as Stanch has hashed it, and each sweep's checkpoint.

``catalog_items`` keeps, per item (an absolute file path or a URL), what is needed to tell later that
it did not change (size and modification time, or the server's ETag / Last-Modified), its signals
record (hashes, never media) and ``matched_seq``: the bank change feed position up to which this
record has been matched against every bank. A later sweep with ``--since`` reads only items that
changed, and matches the others' stored hashes against only the bank entries added after their
``matched_seq``. ``sweep_id`` names the last sweep that finished the item: a sweep killed and run again
skips the items it already committed.

A failed item keeps its error (``error``, ``failures``) and no record, so the next run tries it again.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from stanch.clock import utcnow
from stanch.store.models import Base, BigId, UtcDateTime

SWEEP_STATES = ("running", "finished")


class Sweep(Base):
    """One run of ``stanch sweep`` over a source: its settings, where the bank feed stood, its counts."""

    __tablename__ = "sweeps"
    __table_args__ = (CheckConstraint("status IN ('running', 'finished')", name="status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(Text)
    """The folder or list file, as an absolute path."""
    case_id: Mapped[int | None] = mapped_column(ForeignKey("takedown_requests.id"))
    since_id: Mapped[int | None] = mapped_column(ForeignKey("sweeps.id"))
    """The earlier sweep this one continues (``--since``)."""
    bank_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    """The change feed position of the banks this sweep matched against (when it started)."""
    status: Mapped[str] = mapped_column(String(10), default="running")
    started_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    items: Mapped[int] = mapped_column(Integer, default=0)
    hashed: Mapped[int] = mapped_column(Integer, default=0)
    reused: Mapped[int] = mapped_column(Integer, default=0)
    matched: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)


class CatalogItem(Base):
    """One item of the platform's catalog and its stored hashes (see the module docstring)."""

    __tablename__ = "catalog_items"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    """SHA-256 of ``key``: a fixed-size unique key (URLs can be longer than an index allows)."""
    key: Mapped[str] = mapped_column(Text)
    size: Mapped[int | None] = mapped_column(BigInteger)
    mtime_ns: Mapped[int | None] = mapped_column(BigInteger)
    etag: Mapped[str | None] = mapped_column(String(200))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    md5: Mapped[str | None] = mapped_column(String(32))
    sha256: Mapped[str | None] = mapped_column(String(64))
    record: Mapped[str | None] = mapped_column(Text)
    """The ``stanch hash`` record as JSON (videos sampled at one frame a second, as queries are)."""
    hashed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    matched_seq: Mapped[int | None] = mapped_column(BigInteger)
    error: Mapped[str | None] = mapped_column(Text)
    failed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    failures: Mapped[int] = mapped_column(Integer, default=0)
    sweep_id: Mapped[int | None] = mapped_column(ForeignKey("sweeps.id"), index=True)
