"""The rows of the EU's harmonised transparency report (Implementing Regulation (EU) 2024/2835, Annex I,
quantitative template) that Stanch can fill for a reporting period: ``stanch report --format dsa-csv``.

The template has no numbered row identifiers: its rows are named by section, by indicator and scope
(for example ``Internal complaints mechanism`` / ``Number of complaints submitted to the internal-
complaints mechanism`` / ``Decisions upheld``) and, in the notices and own-initiative sections, by the
category of illegal content, spelled as the DSA Transparency Database's codes
(``STATEMENT_CATEGORY_CYBER_VIOLENCE``, ``KEYWORD_NON_CONSENSUAL_IMAGE_SHARING``, ...). Those names are
what this export writes, one figure a line, so a platform can copy each figure into the same cell of its
template. What Stanch counts:

- notices (Art. 16): the removal requests received in the period, under the category of an adult's
  case (cyber violence / non-consensual image sharing) or of a minor's (protection of minors / child
  sexual abuse material), with ``TOTAL``; the locations they gave; the median time from receipt to the
  reviewer's decision of the requests decided in the period; items removed on them, by ground (law or
  terms, from the statements of reasons);
- own-initiative measures (illegal content): copies Stanch found by matching and removed;
- the internal complaints mechanism: appeals received, and those decided by outcome, with the median
  time to decide;
- automated means: measures taken solely by automated means (copies removed because they match a
  removal already decided) and not; notices processed solely by automated means (none: a person
  decides every request) and not.

Counts and durations only; nothing identifies a person or an item. Times are hours, as the report's.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from stanch.desk.minors import MINOR_CATEGORY, NCII_CATEGORY
from stanch.desk.report import hours_between, median_hours
from stanch.store.compliance_models import Statement
from stanch.store.desk_models import Appeal, RequestLocation, TakedownRequest

COLUMNS = ("Reporting period", "Section", "Category of illegal content", "Indicator", "Scope", "Value",
           "Contextual Information")
NOTICES = "Notices submitted in accordance with Article 16"
OWN_INITIATIVE = "Own-initiative content moderation (illegal content)"
COMPLAINTS = "Internal complaints mechanism"
AUTOMATED = "Use of automated means for content moderation"
TOTAL = "TOTAL"
HOURS = "In hours, from receipt to the reviewer's decision"


@dataclass(frozen=True)
class Period:
    """A reporting period: whole UTC days from ``first`` to ``last``, both included."""

    first: date
    last: date

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise ValueError(f"the period ends ({self.last}) before it starts ({self.first})")

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(), UTC)

    @property
    def end(self) -> datetime:
        """The first moment after the period."""
        return datetime.combine(self.last + timedelta(days=1), time(), UTC)

    def holds(self, moment: datetime | None) -> bool:
        return moment is not None and self.start <= moment < self.end

    def label(self) -> str:
        """As the template writes it: ``2026-01-01/2026-06-30``."""
        return f"{self.first.isoformat()}/{self.last.isoformat()}"


@dataclass(frozen=True)
class Row:
    section: str
    category: str
    indicator: str
    scope: str
    value: float | int | None
    context: str = ""


def rows(session: Session, period: Period) -> list[Row]:
    """Every row Stanch fills for ``period``, in the template's order of sections."""
    requests = list(session.scalars(select(TakedownRequest)))
    minor_of = {r.id: r.minor for r in requests}
    statements = [s for s in session.scalars(select(Statement)) if period.holds(s.created_at)]
    out = list(_notices(session, requests, statements, minor_of, period))
    out += _own_initiative(statements, minor_of)
    out += _complaints(session, period)
    out += _automated(requests, statements, period)
    return out


CATEGORIES = (TOTAL, *NCII_CATEGORY, *MINOR_CATEGORY)
"""The template's category rows Stanch fills: the total, then an adult's case's category and keyword,
then a minor's."""


def _under(category: str, minor: bool) -> bool:
    """Whether a case (a minor's or not) is counted in the row of ``category``."""
    return category in (TOTAL, *(MINOR_CATEGORY if minor else NCII_CATEGORY))


def _notices(session: Session, requests: list[TakedownRequest], statements: list[Statement],
             minor_of: dict[int, bool], period: Period) -> Iterator[Row]:
    received = [r for r in requests if period.holds(r.received_at)]
    decided = [r for r in requests if _decided_in(r, period)]
    located = [s for s in statements if s.origin == "located"]
    locations = {r.id: 0 for r in received}
    for request_id in session.scalars(select(RequestLocation.request_id)
                                      .where(RequestLocation.request_id.in_(list(locations)))):
        locations[request_id] += 1
    for category in CATEGORIES:
        mine = [r for r in received if _under(category, r.minor)]
        hours = [hours_between(r.received_at, r.decided_at) for r in decided
                 if _under(category, r.minor) and r.decided_at is not None]
        actions = [s for s in located if _under(category, minor_of[s.request_id])]
        yield Row(NOTICES, category, "Number of notices received", "", len(mine))
        yield Row(NOTICES, category, "Number of specific items of information included in the total number "
                  "of notices", "", sum(locations[r.id] for r in mine), "Web addresses or item ids given")
        yield Row(NOTICES, category, "Median time to take action", "", median_hours(hours), HOURS)
        yield Row(NOTICES, category, "Number of actions taken on the basis of the law", "",
                  sum(s.ground == "illegal" for s in actions), "Items removed (a statement each)")
        yield Row(NOTICES, category, "Number of actions taken on the basis of the terms and conditions of "
                  "the service", "", sum(s.ground == "terms" for s in actions))


def _own_initiative(statements: list[Statement], minor_of: dict[int, bool]) -> Iterator[Row]:
    copies = [s for s in statements if s.origin == "copy" and s.ground == "illegal"]
    for category in CATEGORIES:
        mine = [s for s in copies if _under(category, minor_of[s.request_id])]
        yield Row(OWN_INITIATIVE, category, "Number of measures taken at the provider's own initiative", "",
                  len(mine), "Copies found by matching the hashes of a request, removed")
        yield Row(OWN_INITIATIVE, category, "Number of measures taken after detection with solely automated "
                  "means", "", sum(s.automated_detection and s.automated_decision for s in mine))
        yield Row(OWN_INITIATIVE, category, "Visibility restriction Removal", "", len(mine))


def _complaints(session: Session, period: Period) -> Iterator[Row]:
    appeals = list(session.scalars(select(Appeal)))
    decided = [a for a in appeals if a.status != "received" and period.holds(a.decided_at)]
    hours = [hours_between(a.received_at, a.decided_at) for a in decided if a.decided_at is not None]
    figures = (("Total number", sum(period.holds(a.received_at) for a in appeals), "Appeals received"),
               ("Decisions upheld", sum(a.status == "upheld" for a in decided), ""),
               ("Decisions partially reversed", 0, "An appeal is upheld or reverses the whole removal"),
               ("Decisions reversed", sum(a.status == "reinstated" for a in decided), ""),
               ("Median time", median_hours(hours), "In hours, from receipt to the decision"))
    for indicator in ("Number of complaints submitted to the internal-complaints mechanism",
                      "Complaint regarding a decision to remove or disable access to or restrict visibility "
                      "of information"):
        for scope, value, context in figures:
            yield Row(COMPLAINTS, "", indicator, scope, value, context)


def _automated(requests: list[TakedownRequest], statements: list[Statement], period: Period) -> list[Row]:
    decided = sum(_decided_in(r, period) for r in requests)
    return [
        Row(AUTOMATED, "", "Number of measures solely taken by automated means", "Total number",
            sum(s.automated_decision for s in statements),
            "Copies removed because they match a removal a reviewer decided"),
        Row(AUTOMATED, "", "Number of measures not taken by automated means", "Total number",
            sum(not s.automated_decision for s in statements)),
        Row(AUTOMATED, "", "Number of notices solely processed by automated means", "NAM Total", 0,
            "A person decides every request"),
        Row(AUTOMATED, "", "Number of notices not processed by automated means", "NAM Total", decided,
            "Requests decided in the period"),
    ]


def _decided_in(request: TakedownRequest, period: Period) -> bool:
    return request.decision in ("remove", "reject") and period.holds(request.decided_at)


def as_csv(found: list[Row], period: Period) -> str:
    """The rows as CSV (RFC 4180, UTF-8, the template's column names); an empty value is a figure Stanch
    does not know (no decision in the period for a median)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in found:
        value = "" if row.value is None else (f"{row.value:g}" if isinstance(row.value, float) else row.value)
        writer.writerow((period.label(), row.section, row.category, row.indicator, row.scope, value,
                         row.context))
    return out.getvalue()
