"""Per-entry feedback, match rates for the flood guard, and the opt-in log of recent uploads.

The logic lives in ``stanch.store.entry_stats`` (counting), ``stanch.desk.flood`` (the guard) and
``stanch.sweep.retro`` (retroactive matching); these are only the rows. The upload log holds hashes
and the platform's item ids, never media.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from stanch.store.models import Base, BigId, UtcDateTime

ALL_LOOKUPS = 0
"""The ``entry_id`` of the ``match_windows`` row that counts every lookup of the window."""


class EntryStat(Base):
    """What happened to one entry's matches: ``served`` (answered by a lookup or a sweep), ``confirmed``
    and ``rejected`` by reviewers; when it was flagged for many rejections and switched by the guard."""

    __tablename__ = "entry_stats"

    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id"), primary_key=True)
    served: Mapped[int] = mapped_column(BigInteger, default=0)
    confirmed: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    flagged_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    flooded_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    retro_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    """When retroactive matching checked the entry against the upload log (once per entry)."""


class MatchWindow(Base):
    """Distinct uploads that matched one entry within one hour (``window_start``), summed over every
    server process's flushes; the row of entry ``ALL_LOOKUPS`` counts every lookup of the hour."""

    __tablename__ = "match_windows"

    window_start: Mapped[datetime] = mapped_column(UtcDateTime(), primary_key=True)
    entry_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bank_id: Mapped[int] = mapped_column(Integer)
    uploads: Mapped[int] = mapped_column(BigInteger, default=0)


class UploadLogRow(Base):
    """One upload looked up by ``/v1/match`` with the platform's item id: its PDQ hash, nothing else."""

    __tablename__ = "upload_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    pdq: Mapped[bytes] = mapped_column(LargeBinary(32))
    item_id: Mapped[str] = mapped_column(String(500))
    logged_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)


class RetroCursor(Base):
    """How far retroactive matching has read the change feed (one row, ``id`` 1): shared by every
    server process, so each new entry is checked against the upload log once."""

    __tablename__ = "retro_cursor"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
