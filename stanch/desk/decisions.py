"""Reviewers' decisions: ``remove``, ``reject`` or ``need_info``, each in one transaction.

``remove`` banks the request's hashes and every located item's and copy's hashes (so the content is
stopped if it comes back) and queues a ``remove_item`` webhook for every item and every copy, in the
same transaction as the decision: the platform is told exactly when the decision is committed. The
requester gets a neutral "update" email; the status page shows the outcome, the reasons, redress and
whether automated means were used. ``reject`` and ``need_info`` need a reason, which the requester
sees. A request already decided (removed, rejected, withdrawn, reinstated) cannot be decided again.
``remove`` and ``reject`` delete the items' spooled previews (``stanch.desk.spool``); ``need_info``
keeps them, since the case stays open.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from stanch.actions import enqueue_email, enqueue_webhook
from stanch.desk.audit import record
from stanch.desk.banking import bank_for, bank_hashes
from stanch.desk.cases import FINAL_STATES, WrongState, lock
from stanch.desk.exchange_feedback import after_removal
from stanch.desk.spool import drop_previews
from stanch.desk.statements import write_statement
from stanch.store.desk_models import RequestItem, TakedownRequest

DECISIONS = ("remove", "reject", "need_info")
MAX_REASON = 5_000


@dataclass
class DecisionResult:
    """What a decision did: bank entries written or linked, and items told to the platform."""

    decision: str
    entries: list[int] = field(default_factory=list)
    removed_items: list[str] = field(default_factory=list)


def check_decision(decision: object, reason: object) -> tuple[str, str | None]:
    """The decision and its reason, or ValueError naming what is wrong."""
    if decision not in DECISIONS:
        raise ValueError(f"decision must be one of {', '.join(DECISIONS)}")
    text = reason.strip() if isinstance(reason, str) else None
    if reason is not None and not isinstance(reason, str):
        raise ValueError("reason must be text")
    if decision in ("reject", "need_info") and not text:
        raise ValueError(f"a reason is required to {decision.replace('_', ' ')}: the requester is told it")
    if text and len(text) > MAX_REASON:
        raise ValueError(f"reason is longer than {MAX_REASON} characters")
    return str(decision), text or None


def decide(
    session: Session, request: TakedownRequest, decision: object, reason: object, *, actor: str,
    now: datetime, bank_name: str | None = None,
) -> DecisionResult:
    """Take ``decision`` on an open request (see the module docstring); raises ``WrongState`` if decided."""
    chosen, text = check_decision(decision, reason)
    lock(session, request)
    if request.status in FINAL_STATES:
        raise WrongState(f"request {request.public_id} is already {request.status}; "
                         "it cannot be decided again")
    result = DecisionResult(chosen)
    if chosen == "remove":
        _remove(session, request, actor, now, bank_name, result)
        after_removal(session, request, now)  # feedback and consented hashes to exchange sources
    request.status = {"remove": "removed", "reject": "rejected", "need_info": "need_info"}[chosen]
    request.decision, request.decision_reason, request.updated_at = chosen, text, now
    if chosen != "need_info":
        request.decided_at, request.decided_by = now, actor
        drop_previews(session, request)
    enqueue_email(session, request.requester_email, "update", case_id=request.public_id, clock=lambda: now)
    record(session, actor, "request.decision", ("request", request.public_id),
           {"decision": chosen, "reason": text, "entries": result.entries,
            "removed_items": result.removed_items,
            "deadline_kept": now <= request.deadline}, clock=lambda: now)
    return result


def _remove(session: Session, request: TakedownRequest, actor: str, now: datetime, bank_name: str | None,
            result: DecisionResult) -> None:
    bank = bank_for(session, request, bank_name)
    source = f"request {request.public_id}"
    for hashes in json.loads(request.hashes):
        result.entries.append(bank_hashes(session, request, hashes, source, bank))
    items = session.scalars(select(RequestItem).where(RequestItem.request_id == request.id)
                            .order_by(RequestItem.id))
    for item in items:
        remove_item(session, request, item, now, bank_name, result)


def remove_item(session: Session, request: TakedownRequest, item: RequestItem, now: datetime,
                bank_name: str | None, result: DecisionResult | None = None) -> None:
    """Bank an item's hashes for ``request``, queue its ``remove_item`` webhook and write its statement
    of reasons (once per item)."""
    bank = bank_for(session, request, bank_name)
    entry = bank_hashes(session, request, json.loads(item.hashes),
                        f"request {request.public_id} item {item.item_id}", bank)
    if item.removal_sent_at is None:
        enqueue_webhook(session, "remove_item", {
            "item_id": item.item_id, "case_id": request.public_id, "origin": item.origin,
            "signal": item.signal, "distance": item.distance,
        }, clock=lambda: now)
        item.removal_sent_at = now
        write_statement(session, request, item, now)
    if result is not None:
        result.entries.append(entry)
        result.removed_items.append(item.item_id)
