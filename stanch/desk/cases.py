"""A request's life: received → in_review → removed | rejected | need_info (→ in_review) | withdrawn,
and what each person may see of it.

The requester (holding the case number and secret code) sees the state, the dates, the outcome with
its reasons and redress, what happens next in plain words, what became of each location given (items
removed, refused with the reviewer's reason, put back after an appeal) and how many copies were
found; never a reviewer's name, an item or anyone else's data. A reviewer (``desk`` scope) sees the
whole case, including the requester's contact and earlier requests; each such view is an audit event. A wrong
code is answered exactly like an unknown case number (``UnknownRequest``), so a guess learns nothing
about which numbers exist.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session

from stanch.actions import Outcome, Tally, enqueue_email
from stanch.desk.audit import record
from stanch.desk.clock import deadline_kept, escalation_level, is_overdue, time_left
from stanch.desk.intake import InvalidRequest, hash_list, text_field
from stanch.desk.safeguards import OPEN_STATES, history
from stanch.desk.spool import drop_previews
from stanch.desk.statements import statements_of
from stanch.desk.tokens import normalise_case_number, token_matches
from stanch.store.decision_models import AppealItem, ItemDecision
from stanch.store.desk_models import (
    Appeal,
    RequestEntry,
    RequestEscalation,
    RequestItem,
    RequestLocation,
    RequestNote,
    TakedownRequest,
)

FINAL_STATES = ("removed", "rejected", "withdrawn", "reinstated")
AUTOMATED_MEANS = (
    "A person reviewed this request and took the decision. Automated matching of hashes (digital "
    "fingerprints) was used only to find copies of the content."
)
REDRESS = (
    "If you disagree with this decision you can reply through the platform's complaint process, ask an "
    "out-of-court dispute settlement body certified under the EU Digital Services Act, or go to court. "
    "You may also file a new request with more information."
)
_NEXT = {
    "received": "Your request is waiting for a reviewer. We aim to decide by the deadline shown.",
    "in_review": "A reviewer is looking at your request. We aim to decide by the deadline shown.",
    "need_info": "We need more information to go on: see the reason. Add it with your case number and "
                 "secret code; the review continues as soon as it arrives.",
    "removed": "The content was removed, with the copies we found. Its fingerprints are kept so that the "
               "same content is stopped if someone uploads it again.",
    "partial": "Part of the content was removed, with the copies we found; part was not: each location "
               "below says which, and why. The removed content's fingerprints are kept to stop it coming "
               "back.",
    "rejected": "We did not remove the content: see the reason.",
    "withdrawn": "You withdrew this request. Nothing more will happen.",
    "reinstated": "The content was removed, then put back after an appeal by the person who posted it: "
                  "see the reason.",
}


class UnknownRequest(LookupError):
    """No request with this number and code (the two cases are deliberately not told apart)."""


class WrongState(ValueError):
    """The request is not in a state that allows this (e.g. a decision on a decided request)."""


def find_request(session: Session, number: str) -> TakedownRequest:
    """The request with this public number, or ``UnknownRequest``."""
    request = session.scalar(
        select(TakedownRequest).where(TakedownRequest.public_id == normalise_case_number(number))
    )
    if request is None:
        raise UnknownRequest(f"no request has the number {number!r}")
    return request


def request_for_token(session: Session, number: str, token: str | None) -> TakedownRequest:
    """The request if ``token`` is its secret code; otherwise ``UnknownRequest`` (same as no request)."""
    try:
        request = find_request(session, number)
    except UnknownRequest:
        request = None
    if request is None or not token_matches(token, request.token_hash):
        raise UnknownRequest("no request has this number and secret code: check both and try again")
    return request


def lock(session: Session, row: object) -> None:
    """Re-read ``row`` locked until the transaction ends, so two reviewers (or a reviewer and the
    requester) acting at once are applied one after the other (SQLite's write lock already does this)."""
    session.refresh(row, with_for_update=True)


def requester_view(session: Session, request: TakedownRequest, now: datetime) -> dict[str, Any]:
    """What the person who asked sees."""
    final = request.decided_at is not None and request.status in ("removed", "rejected", "reinstated")
    view: dict[str, Any] = {
        "id": request.public_id,
        "status": request.status,
        "received_at": request.received_at.isoformat(),
        "deadline": request.deadline.isoformat(),
        "next": _NEXT["partial" if request.status == "removed" and request.decision == "partial"
                      else request.status],
        **_outcomes_by_location(session, request),
        "copies_found": _copies(session, request),
        "outcome": None,
    }
    if request.status == "need_info":
        view["outcome"] = {"decision": "need_info", "reason": request.decision_reason}
    elif final:
        view["outcome"] = {
            "decision": request.decision,
            "reason": request.decision_reason,
            "decided_at": request.decided_at.isoformat() if request.decided_at else None,
            "automated_means": AUTOMATED_MEANS,
            "redress": REDRESS,
        }
        if request.status == "reinstated":
            appeal = _reinstating_appeal(session, request)
            view["outcome"]["appeal_reason"] = appeal.decision_reason if appeal else None
    return view


def reviewer_view(session: Session, request: TakedownRequest, actor: str, now: datetime) -> dict[str, Any]:
    """Everything about a request, for a reviewer; opening a received request starts its review.

    Recorded in the audit log as ``request.view`` (in the caller's transaction).
    """
    if request.status == "received":
        request.status, request.updated_at = "in_review", now
    record(session, actor, "request.view", ("request", request.public_id), {}, clock=lambda: now)
    duplicate = session.get(TakedownRequest, request.duplicate_of) if request.duplicate_of else None
    items = list(session.scalars(select(RequestItem).where(RequestItem.request_id == request.id)
                                 .order_by(RequestItem.id)))
    decisions = item_decisions(session, request)
    put_back = reinstating_appeals(session, request)
    places = _locations(session, request)
    numbers = {loc.location: n for n, loc in enumerate(places, 1)}
    return {
        **queue_row(request, now),
        "requester": {"name": request.requester_name, "email": request.requester_email,
                      "phone": request.requester_phone, "contact": request.requester_contact},
        "relationship": request.relationship,
        "signature": request.signature,
        "statement": request.statement,
        "explanation": request.explanation,
        "hashes": json.loads(request.hashes),
        "locations": [{"location": loc.location, "state": loc.state, "error": loc.error} for loc in places],
        "items": [{**_item(i, decisions.get(i.id), put_back.get(i.id)), "location_number": numbers.get(
            i.location or "")} for i in items if i.origin == "located"],
        "copies": [_item(i, decisions.get(i.id), put_back.get(i.id)) for i in items if i.origin == "copy"],
        "notes": [{"at": n.at.isoformat(), "text": n.text} for n in session.scalars(
            select(RequestNote).where(RequestNote.request_id == request.id).order_by(RequestNote.id))],
        "duplicate_of": duplicate.public_id if duplicate else None,
        "history": [{"id": r.public_id, "status": r.status, "received_at": r.received_at.isoformat()}
                    for r in history(session, request)],
        "escalations": [{"hours": e.hours, "at": e.at.isoformat()} for e in session.scalars(
            select(RequestEscalation).where(RequestEscalation.request_id == request.id)
            .order_by(RequestEscalation.hours))],
        "decision": request.decision,
        "decision_reason": request.decision_reason,
        "decided_at": request.decided_at.isoformat() if request.decided_at else None,
        "decided_by": request.decided_by,
        "deadline_kept": deadline_kept(request),
        "statements": statements_of(session, request),
    }


def queue_row(request: TakedownRequest, now: datetime) -> dict[str, Any]:
    """One line of the reviewers' queue: no contact details, only what ordering and triage need."""
    return {
        "id": request.public_id,
        "status": request.status,
        "received_at": request.received_at.isoformat(),
        "deadline": request.deadline.isoformat(),
        "seconds_left": int(time_left(request, now).total_seconds()),
        "overdue": is_overdue(request, now),
        "escalation": escalation_level(request, now),
        "flags": json.loads(request.flags),
        "minor": request.minor,
    }


def queue(session: Session, now: datetime, status: str = "open") -> list[TakedownRequest]:
    """Requests in ``status`` (``open`` = received, in review or waiting for information; ``all``):
    minors' cases first (escalated from receipt), then the least time left first."""
    query = select(TakedownRequest).order_by(TakedownRequest.minor.desc(), TakedownRequest.deadline,
                                             TakedownRequest.id)
    if status == "open":
        query = query.where(TakedownRequest.status.in_(OPEN_STATES))
    elif status != "all":
        query = query.where(TakedownRequest.status == status)
    return list(session.scalars(query))


def add_info(
    session: Session, request: TakedownRequest, body: Any, now: datetime
) -> None:
    """The requester adds ``{"text", "locations", "hashes"}`` (any of them) to an open request.

    A request waiting for information goes back to review. Raises ``InvalidRequest`` listing the
    problems, or ``WrongState`` on a closed request.
    """
    lock(session, request)
    if request.status not in OPEN_STATES:
        raise WrongState(f"request {request.public_id} is {request.status}; information can only be added "
                         "while it is open (file a new request instead)")
    problems: list[str] = []
    if not isinstance(body, dict):
        raise InvalidRequest(["the information must be a JSON object with text, locations or hashes"])
    text = text_field(body, "text", problems, required=False)
    locations = body.get("locations") or []
    if not isinstance(locations, list) or not all(isinstance(x, str) and x.strip() for x in locations):
        problems.append("locations must be a list of URLs or item ids")
        locations = []
    hashes = hash_list(body.get("hashes"), problems)
    if not problems and not (text or locations or hashes):
        problems.append("nothing to add: give text, locations or hashes")
    if problems:
        raise InvalidRequest(problems)
    if text:
        session.add(RequestNote(request_id=request.id, at=now, text=text))
    known = {loc.location for loc in _locations(session, request)}
    new = [loc.strip() for loc in dict.fromkeys(locations) if loc.strip() not in known]
    session.add_all(RequestLocation(request_id=request.id, location=loc, state="pending", added_at=now)
                    for loc in new)
    if hashes:
        request.hashes = json.dumps(json.loads(request.hashes) + hashes)
    if request.status == "need_info":
        request.status = "in_review"
    request.updated_at = now
    record(session, "system", "request.info_added", ("request", request.public_id),
           {"text": bool(text), "locations": len(locations), "hashes": len(hashes)}, clock=lambda: now)


def withdraw(session: Session, request: TakedownRequest, now: datetime) -> None:
    """The requester withdraws an open request; nothing more happens to it (its previews are deleted)."""
    lock(session, request)
    if request.status not in OPEN_STATES:
        raise WrongState(f"request {request.public_id} is {request.status}; only an open request can be "
                         "withdrawn")
    request.status, request.updated_at = "withdrawn", now
    drop_previews(session, request)
    record(session, "system", "request.withdrawn", ("request", request.public_id), {}, clock=lambda: now)
    enqueue_email(session, request.requester_email, "update", case_id=request.public_id, clock=lambda: now)


def _copies(session: Session, request: TakedownRequest) -> int:
    """How many copies (beyond the reported items) matching and sweeps found: a number, no details (a
    copy a reviewer rejected as not the reported content is not counted)."""
    return int(session.scalar(select(func.count()).select_from(RequestItem).where(
        RequestItem.request_id == request.id, RequestItem.origin == "copy",
        or_(RequestItem.review.is_(None), RequestItem.review != "rejected"))) or 0)


def _locations(session: Session, request: TakedownRequest) -> list[RequestLocation]:
    return list(session.scalars(
        select(RequestLocation).where(RequestLocation.request_id == request.id).order_by(RequestLocation.id)
    ))


def _item(item: RequestItem, decision: ItemDecision | None, appeal: str | None) -> dict[str, Any]:
    """An item or copy as reviewers see it, with its own decision and whether its removal stands."""
    return {
        "item_id": item.item_id,
        "origin": item.origin,
        "location": item.location,
        "signal": item.signal,
        "distance": item.distance,
        "hashes": json.loads(item.hashes),
        "added_at": item.added_at.isoformat(),
        "added_by": item.added_by,
        "removal_sent": item.removal_sent_at is not None,
        "reinstated": item.reinstated_at is not None,
        "decision": decision.decision if decision else None,
        "reason": decision.reason if decision else None,
        "reason_code": decision.reason_code if decision else None,
        "decided_at": decision.decided_at.isoformat() if decision else None,
        "decided_by": decision.decided_by if decision else None,
        "stands": item.removal_sent_at is not None and item.reinstated_at is None,
        "reinstated_by": appeal,
        "view": item.view,
        "review": item.review,
        "entries": json.loads(item.entries) if item.entries else [],
        "due_at": item.due_at.isoformat() if item.due_at else None,
        "reviewed_at": item.reviewed_at.isoformat() if item.reviewed_at else None,
        "reviewed_by": item.reviewed_by,
        "review_reason": item.review_reason,
        "preview_frames": item.preview_frames,
    }


def item_decisions(session: Session, request: TakedownRequest) -> dict[int, ItemDecision]:
    """Each decided item's decision, by the item's row id."""
    return {d.item_id: d for d in session.scalars(
        select(ItemDecision).where(ItemDecision.request_id == request.id))}


def reinstating_appeals(session: Session, request: TakedownRequest) -> dict[int, str]:
    """For each reinstated item (by row id), the number of the appeal that put it back: the appeal that
    named it, else the case's whole-case appeal."""
    named = dict(session.execute(
        select(AppealItem.item_id, Appeal.public_id).join(Appeal, Appeal.id == AppealItem.appeal_id)
        .where(Appeal.request_id == request.id, Appeal.status == "reinstated")).all())
    whole = session.scalar(select(Appeal.public_id).where(
        Appeal.request_id == request.id, Appeal.status == "reinstated",
        ~exists().where(AppealItem.appeal_id == Appeal.id)).limit(1))
    reinstated = session.scalars(select(RequestItem.id).where(
        RequestItem.request_id == request.id, RequestItem.reinstated_at.is_not(None)))
    return {row: named.get(row) or whole or "" for row in reinstated}


def _outcomes_by_location(session: Session, request: TakedownRequest) -> dict[str, Any]:
    """What the requester is told of each location she gave: how many items were found there and, of
    those, how many were removed, refused (with each distinct reason and reason code), put back after an
    appeal or are still being reviewed; then the same for items the platform tied to the case at no
    location of hers. Never an item's id: only her own locations and the reviewers' reasons."""
    decisions = item_decisions(session, request)
    places, others = _items_by_location(session, request)
    rows = [{"location": loc.location, "state": loc.state, **_tally(items, decisions)}
            for loc, items in places]
    return {"locations": rows, "other_items": _tally(others, decisions) if others else None}


def _items_by_location(session: Session, request: TakedownRequest
                       ) -> tuple[list[tuple[RequestLocation, list[RequestItem]]], list[RequestItem]]:
    """The requester's locations in the order the status page numbers them, each with the located items
    found there, and the located items found at none of them."""
    located = list(session.scalars(select(RequestItem).where(
        RequestItem.request_id == request.id, RequestItem.origin == "located").order_by(RequestItem.id)))
    places = _locations(session, request)
    given = {loc.location for loc in places}
    return ([(loc, [i for i in located if i.location == loc.location]) for loc in places],
            [i for i in located if i.location not in given])


def _tally(items: list[RequestItem], decisions: dict[int, ItemDecision]) -> dict[str, Any]:
    tally: dict[str, Any] = {"items": len(items), "removed": 0, "refused": 0, "put_back": 0, "open": 0,
                             "reasons": [], "reason_codes": []}
    for item in items:
        decision = decisions.get(item.id)
        state = _item_state(item, decision)
        tally[state] += 1
        if state == "refused" and decision is not None:
            if decision.reason and decision.reason not in tally["reasons"]:
                tally["reasons"].append(decision.reason)
            if decision.reason_code and decision.reason_code not in tally["reason_codes"]:
                tally["reason_codes"].append(decision.reason_code)
    return tally


def _item_state(item: RequestItem, decision: ItemDecision | None) -> str:
    """Where an item stands for the person who asked: ``put_back``, ``open``, ``removed`` or ``refused``."""
    if item.reinstated_at is not None:
        return "put_back"
    if decision is None:
        return "open"
    return "removed" if decision.decision == "remove" else "refused"


def email_outcome(session: Session, request: TakedownRequest) -> Outcome:
    """The case's outcome as its ``update`` email tells it (``stanch.actions.templates.Outcome``): each
    location by its number on the status page, with counts and refusal codes only (never the location,
    an item or a reviewer's words), and how many further copies were found and removed."""
    decisions = item_decisions(session, request)
    places, others = _items_by_location(session, request)
    copies = session.scalar(select(func.count()).select_from(RequestItem).where(
        RequestItem.request_id == request.id, RequestItem.origin == "copy",
        RequestItem.removal_sent_at.is_not(None), RequestItem.reinstated_at.is_(None)))
    return Outcome(locations=tuple(_email_tally(items, decisions) for _, items in places),
                   others=_email_tally(others, decisions) if others else None,
                   copies_removed=int(copies or 0))


def _email_tally(items: list[RequestItem], decisions: dict[int, ItemDecision]) -> Tally:
    counts = _tally(items, decisions)
    codes = tuple(decisions[i.id].reason_code for i in items
                  if _item_state(i, decisions.get(i.id)) == "refused")
    return Tally(items=counts["items"], removed=counts["removed"], refused=counts["refused"],
                 put_back=counts["put_back"], open=counts["open"], refusals=codes)


def _reinstating_appeal(session: Session, request: TakedownRequest) -> Appeal | None:
    return session.scalar(
        select(Appeal).where(Appeal.request_id == request.id, Appeal.status == "reinstated")
    )


def find_item(session: Session, request: TakedownRequest, item_id: str) -> RequestItem:
    """One item (or copy) of a case; ``UnknownRequest`` when the case has no such item."""
    item = session.scalar(select(RequestItem).where(RequestItem.request_id == request.id,
                                                    RequestItem.item_id == item_id))
    if item is None:
        raise UnknownRequest(f"case {request.public_id} has no item {item_id!r}")
    return item


def decided_by(session: Session, actor: str, limit: int = 50) -> list[dict[str, Any]]:
    """The cases ``actor`` decided, newest first: number, outcome, when, and whether in time."""
    rows = session.scalars(select(TakedownRequest).where(TakedownRequest.decided_by == actor)
                           .order_by(TakedownRequest.decided_at.desc()).limit(limit))
    return [{"id": r.public_id, "status": r.status, "decided_at": r.decided_at, "kept": deadline_kept(r)}
            for r in rows]


def has_item(session: Session, request: TakedownRequest, item_id: str) -> bool:
    """Whether ``item_id`` is already an item (or copy) of the case."""
    return session.scalar(select(RequestItem.id).where(RequestItem.request_id == request.id,
                                                       RequestItem.item_id == item_id)) is not None


def removed_requests_of(session: Session, entries: Iterable[int]) -> dict[int, list[TakedownRequest]]:
    """Per bank entry, the removed requests that banked it (a copy matching it belongs to them)."""
    wanted = sorted(entries)
    found: dict[int, list[TakedownRequest]] = {}
    for start in range(0, len(wanted), 500):
        rows = session.execute(
            select(RequestEntry.entry_id, TakedownRequest)
            .join(TakedownRequest, TakedownRequest.id == RequestEntry.request_id)
            .where(RequestEntry.entry_id.in_(wanted[start : start + 500]),
                   TakedownRequest.status == "removed")
            .order_by(TakedownRequest.id)
        )
        for entry_id, request in rows:
            found.setdefault(entry_id, []).append(request)
    return found
