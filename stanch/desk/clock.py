"""The 48-hour clock: deadlines, time left, escalation at 24 h and 36 h elapsed, overdue cases.

The clock runs from receipt and does not stop while the desk waits for information: the law counts
48 hours from a valid request, and a question to the requester must not become a way to run it out.

``escalate`` is what ``stanch desk tick`` and the server's background ticker run: it records each
threshold once per open request (a unique row; running it again, or in two processes at once, adds
nothing), writes a ``request.escalated`` audit event and, in the same transaction, queues the neutral
``escalation`` email to the review team (``STANCH_DESK_EMAIL``; when it is unset the log says so once
and no email is queued). Every function takes ``now`` so tests can move time.

A minor's case (the person shown was under 18 when the picture was made) runs on its own, shorter
clock (``STANCH_MINOR_DEADLINE_HOURS``, default 24) and is escalated at once on receipt (threshold 0,
``escalate_at_once``), then at half and three quarters of its clock, as the 48-hour clock is at 24 h
and 36 h.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from stanch.actions import SettingsError, enqueue_email
from stanch.actions.mailers import check_address
from stanch.actions.settings import desk_email
from stanch.desk.audit import SYSTEM, record
from stanch.desk.safeguards import OPEN_STATES
from stanch.store.desk_models import RequestEscalation, TakedownRequest

DEADLINE = timedelta(hours=48)
ESCALATION_HOURS = (24, 36)
MINOR_DEADLINE_SETTING = "STANCH_MINOR_DEADLINE_HOURS"
DEFAULT_MINOR_HOURS = 24
log = logging.getLogger(__name__)
_told_no_team_address = threading.Event()


def minor_deadline(environ: dict[str, str] | None = None) -> timedelta:
    """The clock of a minor's case (``STANCH_MINOR_DEADLINE_HOURS``, whole hours from 1 to 47: shorter
    than the 48 hours every request has); ``SettingsError`` naming the setting otherwise."""
    text = (os.environ if environ is None else environ).get(MINOR_DEADLINE_SETTING, "").strip()
    if not text:
        return timedelta(hours=DEFAULT_MINOR_HOURS)
    if not text.isdigit() or not 1 <= int(text) < DEADLINE.total_seconds() / 3600:
        raise SettingsError(f"{MINOR_DEADLINE_SETTING} must be a whole number of hours from 1 to 47 "
                            f"(shorter than the 48 hours of every request), not {text!r}")
    return timedelta(hours=int(text))


def deadline_for(received_at: datetime, *, minor: bool = False) -> datetime:
    """When a request received at ``received_at`` must be decided (a minor's case sooner)."""
    return received_at + (minor_deadline() if minor else DEADLINE)


def thresholds(request: TakedownRequest) -> tuple[int, ...]:
    """The hours after receipt at which ``request`` is escalated: 24 and 36 for the 48-hour clock; for
    a minor's case 0 (at once) and half and three quarters of its clock."""
    if not request.minor:
        return ESCALATION_HOURS
    hours = int((request.deadline - request.received_at).total_seconds() // 3600)
    return tuple(sorted({0, hours // 2, hours * 3 // 4}))


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
    passed = [hours for hours in thresholds(request) if elapsed >= timedelta(hours=hours)]
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
            TakedownRequest.status.in_(OPEN_STATES),
            or_(TakedownRequest.received_at <= earliest, TakedownRequest.minor.is_(True)),
        ).order_by(TakedownRequest.deadline)
    )
    new: list[Escalation] = []
    for request in due:
        done = set(session.scalars(
            select(RequestEscalation.hours).where(RequestEscalation.request_id == request.id)
        ))
        for hours in thresholds(request):
            if hours in done or now - request.received_at < timedelta(hours=hours):
                continue
            if _escalate_one(session, request, hours, now):
                new.append(Escalation(request.public_id, hours))
    return new


def escalate_at_once(session: Session, request: TakedownRequest, now: datetime) -> None:
    """Escalate a minor's case on receipt (threshold 0), in the transaction that stores it."""
    _escalate_one(session, request, 0, now)


def _escalate_one(session: Session, request: TakedownRequest, hours: int, now: datetime) -> bool:
    """Record threshold ``hours`` once (audit event and the team's email with it); False if another
    process already did."""
    if not _add_escalation(session, request, hours, now):
        return False
    record(session, SYSTEM, "request.escalated", ("request", request.public_id),
           {"hours": hours, "deadline": request.deadline.isoformat(),
            **({"minor": True} if request.minor else {})},
           clock=lambda: now)
    team = team_address()
    if team is not None:
        enqueue_email(session, team, "escalation", case_id=request.public_id,
                      deadline=request.deadline, time_left=time_left(request, now), clock=lambda: now)
    return True


def team_address() -> str | None:
    """Where escalation notices go (``STANCH_DESK_EMAIL``), or None when unset, which is logged once
    per process. A malformed address raises ``SettingsError``: the escalation then waits, with its
    notice, until the setting is fixed, rather than being recorded without one."""
    address = desk_email()
    if address is None:
        if not _told_no_team_address.is_set():
            _told_no_team_address.set()
            log.warning("STANCH_DESK_EMAIL is not set: escalations are recorded and shown in the queue, "
                        "but no reviewer is emailed")
        return None
    try:
        return check_address(address)
    except ValueError as error:
        raise SettingsError(f"STANCH_DESK_EMAIL: {error}") from None


def _add_escalation(session: Session, request: TakedownRequest, hours: int, now: datetime) -> bool:
    """Insert the row unless another process just did (the unique constraint decides)."""
    try:
        with session.begin_nested():
            session.add(RequestEscalation(request_id=request.id, hours=hours, at=now))
    except IntegrityError:
        return False
    return True
