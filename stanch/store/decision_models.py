"""Decisions per item, which item a bank entry came from, and which items an appeal is about.

Kept beside ``desk_models`` (migration 0012) so the request and item rows stay as they were:

- ``item_decisions``: one row per decided item of a case (``remove`` or ``reject``, the reason the
  requester is told, a refusal's code from the fixed vocabulary of ``stanch.actions.refusals`` (0017),
  who and when). An item without a row is not decided yet; a case is decided when
  every item is.
- ``entry_sources``: why a bank entry exists for a case: ``item_id`` NULL for the request's own hashes,
  else the item whose removal banked it. Reinstating an item on appeal withdraws an entry only when no
  other standing source backs it (see ``stanch.desk.banking``). Cases decided before 0012 have no rows
  here; their entries are backed by the case as a whole (``request_entries``).
- ``appeal_items``: the items an appeal names; none means the whole case.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

import stanch.store.desk_models  # noqa: F401  (the tables these rows point at)
from stanch.store.models import Base, UtcDateTime

ITEM_DECISIONS = ("remove", "reject")


class ItemDecision(Base):
    """What a reviewer (or, for a copy found after the case was removed, ``system``) decided on one item."""

    __tablename__ = "item_decisions"
    __table_args__ = (CheckConstraint("decision IN ('remove', 'reject')", name="decision"),)

    item_id: Mapped[int] = mapped_column(ForeignKey("request_items.id"), primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("takedown_requests.id"), index=True)
    decision: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str | None] = mapped_column(Text)
    reason_code: Mapped[str | None] = mapped_column(String(40))  # a refusal's code (migration 0017)
    decided_at: Mapped[datetime] = mapped_column(UtcDateTime())
    decided_by: Mapped[str] = mapped_column(String(200))


class EntrySource(Base):
    """One reason a bank entry is banked: a case's own hashes (``item_id`` NULL) or one removed item."""

    __tablename__ = "entry_sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id"), index=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("takedown_requests.id"), index=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("request_items.id"), index=True)


class AppealItem(Base):
    """An item an appeal is about (an appeal with none is about every removed item of its case)."""

    __tablename__ = "appeal_items"

    appeal_id: Mapped[int] = mapped_column(ForeignKey("appeals.id"), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("request_items.id"), primary_key=True, index=True)
