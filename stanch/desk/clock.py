"""The 48-hour clock: deadlines, time left, escalation at 24 h and 36 h elapsed, overdue cases.

The clock runs from receipt and does not stop while the desk waits for information: the law counts
48 hours from a valid request, and a question to the requester must not become a way to run it out.

``escalate`` is what ``stanch desk tick`` and the server's background ticker run: it records each
threshold once per open request (a unique row; running it again, or in two processes at once, adds
nothing) and writes a ``request.escalated`` audit event. Every function takes ``now`` so tests can
move time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from stanch.desk.audit import SYSTEM, record
from stanch.desk.safeguards import OPEN_STATES
from stanch.store.desk_models import RequestEscalation, TakedownRequest

DEADLINE = timedelta(hours=48)
ESCALATION_HOURS = (24, 36)


def deadline_for(received_at: datetime) -> datetime:
    """When a request received at ``received_at`` must be decided."""
    return received_at + DEADLINE


def time_left(request: TakedownRequest, now: datetime) -> timedelta:
    """Time until the deadline (negative once it has passed)."""
    return request.deadline - now


def is_overdue(request: TakedownRequest, now: datetime) -> bool:
    """An open request past its deadline."""
    return request.status in OPEN_STATES and now > request.deadline


def deadline_kept(request: TakedownRequest) -> bool | None:
    """Whether the final decision came by the deadline; None while there is none."""
    if request.decided_at is None:
        return None
    return request.decided_at <= request.deadline


def escalation_level(request: TakedownRequest, now: datetime) -> int:
    """The highest threshold (0, 24 or 36 hours) the open request has passed."""
    elapsed = now - request.received_at
    passed = [hours for hours in ESCALATION_HOURS if elapsed >= timedelta(hours=hours)]
    return max(passed) if passed and request.status in OPEN_STATES else 0


@dataclass(frozen=True)
class Escalation:
    request: str
    """The request's public number."""
    hours: int


def escalate(session: Session, now: datetime) -> list[Escalation]:
    """Record every threshold passed by an open request and not yet recorded; returns the new ones."""
    earliest = now - timedelta(hours=min(ESCALATION_HOURS))
    due = session.scalars(
        select(TakedownRequest).where(
            TakedownRequest.status.in_(OPEN_STATES), TakedownRequest.received_at <= earliest
        ).order_by(TakedownRequest.deadline)
    )
    new: list[Escalation] = []
    for request in due:
        done = set(session.scalars(
            select(RequestEscalation.hours).where(RequestEscalation.request_id == request.id)
        ))
        for hours in ESCALATION_HOURS:
            if hours in done or now - request.received_at < timedelta(hours=hours):
                continue
            if _add_escalation(session, request, hours, now):
                record(session, SYSTEM, "request.escalated", ("request", request.public_id),
                       {"hours": hours, "deadline": request.deadline.isoformat()}, clock=lambda: now)
                new.append(Escalation(request.public_id, hours))
    return new


def _add_escalation(session: Session, request: TakedownRequest, hours: int, now: datetime) -> bool:
    """Insert the row unless another process just did (the unique constraint decides)."""
    try:
        with session.begin_nested():
            session.add(RequestEscalation(request_id=request.id, hours=hours, at=now))
    except IntegrityError:
        return False
    return True
