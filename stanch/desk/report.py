"""The transparency report: per month, what the desk received and decided, and how fast.

Figures, per calendar month (UTC):

- ``received`` and ``by_outcome``: requests received that month, by their state now (``open`` covers
  received, in review and waiting for information);
- ``decided``, ``median_hours``, ``p95_hours``, ``within_48h``: requests *decided* that month (removed
  or rejected), the median and 95th percentile of hours from receipt to decision (nearest-rank
  percentile: the smallest value with at least that share of values at or below it), and the share
  decided within 48 hours;
- ``copies_removed``: copies (items found by matching or sweeps, not the reported items themselves)
  whose removal was sent that month;
- ``appeals`` received that month and ``reversals`` (appeals that reinstated content) decided that month;
- ``items_removed``, ``items_refused`` and ``items_reinstated``: items (the reported items and copies
  alike; a case has one or more) decided ``remove`` or ``reject`` that month, and items put back after
  an appeal that month, so that a case decided in part is counted for what it did.

Only counts and durations: nothing identifies a person or an item.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from stanch.desk.clock import DEADLINE
from stanch.desk.safeguards import OPEN_STATES
from stanch.store.decision_models import ItemDecision
from stanch.store.desk_models import Appeal, RequestItem, TakedownRequest

OUTCOMES = ("removed", "rejected", "withdrawn", "reinstated", "open")


@dataclass
class MonthFigures:
    month: str
    received: int = 0
    by_outcome: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    decided: int = 0
    median_hours: float | None = None
    p95_hours: float | None = None
    within_48h: float | None = None
    copies_removed: int = 0
    appeals: int = 0
    reversals: int = 0
    items_removed: int = 0
    items_refused: int = 0
    items_reinstated: int = 0


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile of a non-empty list: the smallest value with ``share`` of them at or below."""
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def hours_between(start: datetime, end: datetime) -> float:
    """Elapsed hours from ``start`` to ``end``: the unit of every time-to-decision figure."""
    return (end - start).total_seconds() / 3600


def median_hours(hours: list[float]) -> float | None:
    """The median of a list of hours, rounded as the report shows it; None for no values."""
    return round(percentile(hours, 0.5), 2) if hours else None


def _month(moment: datetime) -> str:
    return f"{moment.year:04d}-{moment.month:02d}"


def monthly(session: Session) -> list[MonthFigures]:
    """The report's figures, oldest month first."""
    months: dict[str, MonthFigures] = {}
    durations: dict[str, list[float]] = defaultdict(list)

    def at(moment: datetime) -> MonthFigures:
        key = _month(moment)
        return months.setdefault(key, MonthFigures(key))

    for request in session.scalars(select(TakedownRequest)):
        figures = at(request.received_at)
        figures.received += 1
        figures.by_outcome["open" if request.status in OPEN_STATES else request.status] += 1
        decided = request.decided_at
        if decided is not None:
            durations[_month(decided)].append(hours_between(request.received_at, decided))
            at(decided)
    for item in session.scalars(select(RequestItem).where(
            RequestItem.origin == "copy", RequestItem.removal_sent_at.is_not(None))):
        assert item.removal_sent_at is not None
        at(item.removal_sent_at).copies_removed += 1
    for decision in session.scalars(select(ItemDecision)):
        figures = at(decision.decided_at)
        if decision.decision == "remove":
            figures.items_removed += 1
        else:
            figures.items_refused += 1
    for reinstated in session.scalars(select(RequestItem.reinstated_at).where(
            RequestItem.reinstated_at.is_not(None))):
        assert reinstated is not None
        at(reinstated).items_reinstated += 1
    for appeal in session.scalars(select(Appeal)):
        at(appeal.received_at).appeals += 1
        if appeal.status == "reinstated" and appeal.decided_at is not None:
            at(appeal.decided_at).reversals += 1
    limit = DEADLINE.total_seconds() / 3600
    for key, hours in durations.items():
        figures = months[key]
        figures.decided = len(hours)
        figures.median_hours = median_hours(hours)
        figures.p95_hours = round(percentile(hours, 0.95), 2)
        figures.within_48h = round(sum(h <= limit for h in hours) / len(hours), 4)
    return [months[key] for key in sorted(months)]


def report_json(figures: list[MonthFigures]) -> dict[str, Any]:
    return {"months": [asdict(f) for f in figures]}


def report_markdown(figures: list[MonthFigures]) -> str:
    """The report as a Markdown table, one row per month."""
    head = ("| month | received | removed | rejected | withdrawn | reinstated | open | decided | median h "
            "| p95 h | within 48 h | copies removed | appeals | reversals | items removed | items refused "
            "| items reinstated |")
    lines = ["# Transparency report", "", head, "|" + "---|" * 17]
    for f in figures:
        share = "-" if f.within_48h is None else f"{f.within_48h:.0%}"
        cells = [f.month, f.received, *(f.by_outcome[o] for o in OUTCOMES), f.decided,
                 _num(f.median_hours), _num(f.p95_hours), share, f.copies_removed, f.appeals, f.reversals,
                 f.items_removed, f.items_refused, f.items_reinstated]
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    if not figures:
        lines.append("| (no requests yet) |" + " |" * 16)
    return "\n".join(lines) + "\n"


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def as_json_text(figures: list[MonthFigures]) -> str:
    """The report as indented JSON (``stanch report --format json``)."""
    return json.dumps(report_json(figures), indent=2)
