"""Reviewers' decisions, on a whole case or item by item, each call in one transaction.

There is one path: ``decide_items`` takes ``remove`` or ``reject`` (with a reason) for items of a case,
by item id, and ``decide`` (the whole-case form) applies its decision to every item not yet decided
through it. A case is decided when every item is (at once for a case without items):

- an item ``remove``\\ d is banked (``stanch.desk.banking``, recording it as the entry's source), its
  ``remove_item`` webhook queued and its statement of reasons written, in the decision's transaction:
  the platform is told exactly when the decision is committed;
- an item ``reject``\\ ed needs a reason: a ``reason_code`` from the fixed vocabulary
  (``stanch.actions.refusals``; ``other`` also needs the reviewer's words), a free-text ``reason``, or
  both. The requester sees them beside the location it was found at; her email carries only the code's
  sentence (or "the reason is on your status page"), never the free text;
- each item's decision is an ``item.decision`` audit event, and its spooled preview is deleted;
- when the last item is decided, the case is closed: ``removed`` if any item (or, for a case without
  items, the whole-case decision) removed something — its own hashes are then banked too, before the
  items' — else ``rejected``. Its ``decision`` is ``remove``, ``reject`` or ``partial`` (some items
  removed, some refused), the requester gets an "update" email saying what became of each location
  she gave, by its number only (``stanch.desk.cases.email_outcome``), and the decision is a
  ``request.decision`` audit event, as before.

``need_info`` (whole case only) needs a reason and keeps the case and its previews open. A request
already decided (removed, rejected, withdrawn, reinstated) cannot be decided again, nor can an item.
A copy attached to a case already removed is removed at once (``remove_item``, decided by ``system``).
Copies on the review list (``stanch.desk.copy_review``: ``review`` set on the item) are not items of
these decisions: each waits for its own remove or reject, its preview kept when the case is removed;
a rejected copy is never removed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from stanch.actions import REFUSAL_CODES, enqueue_email, enqueue_webhook
from stanch.actions.refusals import NEEDS_OWN_WORDS
from stanch.desk.audit import SYSTEM, record
from stanch.desk.banking import bank_for, bank_hashes
from stanch.desk.cases import FINAL_STATES, WrongState, email_outcome, lock
from stanch.desk.exchange_feedback import after_removal
from stanch.desk.spool import drop_preview, drop_previews
from stanch.desk.statements import write_statement
from stanch.store.decision_models import ITEM_DECISIONS, ItemDecision
from stanch.store.desk_models import RequestItem, TakedownRequest

DECISIONS = ("remove", "reject", "need_info")
MAX_REASON = 5_000
MAX_ITEMS = 1_000
_ITEM_FIELDS = {"item_id", "decision", "reason", "reason_code"}


@dataclass(frozen=True)
class ItemChoice:
    """One item's decision as a reviewer gave it: the item's id in its case, ``remove`` or ``reject``,
    and for a refusal its reason and/or ``reason_code`` (one of ``REFUSAL_CODES``)."""

    item_id: str
    decision: str
    reason: str | None = None
    reason_code: str | None = None


@dataclass
class DecisionResult:
    """What a decision did: bank entries written or linked, items told to the platform, items refused,
    and the case's decision once every item is decided (None while some are still open)."""

    decision: str | None
    entries: list[int] = field(default_factory=list)
    removed_items: list[str] = field(default_factory=list)
    rejected_items: list[str] = field(default_factory=list)
    undecided_items: list[str] = field(default_factory=list)


def check_decision(decision: object, reason: object, code: object = None) -> tuple[str, str | None]:
    """The whole-case decision and its reason (a refusal may give a ``reason_code`` instead, or as well),
    or ValueError naming what is wrong."""
    if decision not in DECISIONS:
        raise ValueError(f"decision must be one of {', '.join(DECISIONS)}")
    text = _reason(reason)
    if decision == "need_info" and not text:
        raise ValueError("a reason is required to need info: the requester is told it")
    problem = refusal_problem(decision, text, code, "")
    if problem:
        raise ValueError(problem)
    return str(decision), text


def _reason(reason: object, where: str = "reason") -> str | None:
    if reason is not None and not isinstance(reason, str):
        raise ValueError(f"{where} must be text")
    text = reason.strip() if isinstance(reason, str) else None
    if text and len(text) > MAX_REASON:
        raise ValueError(f"{where} is longer than {MAX_REASON} characters")
    return text or None


def refusal_problem(decision: object, reason: str | None, code: object, where: str) -> str | None:
    """What is wrong with a refusal's reason and code (None if nothing): a code outside the vocabulary,
    a code on anything but a refusal, a refusal with neither, ``other`` without the reviewer's words.
    ``where`` is the item's place in an ``items`` list, or empty for the whole case."""
    field, what = (f"{where}.reason_code", "an item") if where else ("reason_code", "")
    lead = f"{where}: " if where else ""
    if code is not None and code not in REFUSAL_CODES:
        return (f"{field} must be one of {', '.join(REFUSAL_CODES)}, not {code!r} "
                "(or leave it out and give a reason)")
    if code is not None and decision != "reject":
        return f"{field} is for refusals only: leave it out to {str(decision).replace('_', ' ')}"
    if decision == "reject" and not reason and code is None:
        return (f"{lead}a reason is required to reject{' ' + what if what else ''}: the requester is told "
                f"it (give a reason_code, one of {', '.join(REFUSAL_CODES)}, or a reason, or both)")
    if code in NEEDS_OWN_WORDS and not reason:
        return f"{lead}reason_code {code} needs a reason in your own words: the requester reads it"
    return None


def parse_item_choices(value: object) -> list[ItemChoice]:
    """``[{"item_id", "decision", "reason", "reason_code"}, ...]`` checked; ValueError listing every
    problem (with the position and item of each)."""
    if not isinstance(value, list) or not value:
        raise ValueError('items must be a non-empty list of {"item_id", "decision": "remove"|"reject", '
                         '"reason", "reason_code"}')
    if len(value) > MAX_ITEMS:
        raise ValueError(f"at most {MAX_ITEMS} items can be decided at once")
    problems: list[str] = []
    choices: list[ItemChoice] = []
    seen: set[str] = set()
    for index, raw in enumerate(value):
        where = f"items[{index}]"
        if not isinstance(raw, dict) or not isinstance(raw.get("item_id"), str) or not raw["item_id"]:
            problems.append(f"{where}.item_id is missing: say which item of the case this decision is for")
            continue
        item_id = raw["item_id"]
        where = f"{where} ({item_id})"
        extra = sorted(set(raw) - _ITEM_FIELDS)
        if extra:
            problems.append(f"{where} has unknown fields {', '.join(extra)}: give item_id, decision, reason, "
                            "reason_code")
        if item_id in seen:
            problems.append(f"{where} is listed twice: give one decision per item")
        seen.add(item_id)
        decision = raw.get("decision")
        if decision not in ITEM_DECISIONS:
            problems.append(f"{where}.decision must be remove or reject, not {decision!r} "
                            "(need_info is for the whole case)")
        try:
            reason = _reason(raw.get("reason"), f"{where}.reason")
        except ValueError as error:
            problems.append(str(error))
            continue
        code = raw.get("reason_code")
        problem = refusal_problem(decision, reason, code, where)
        if problem:
            problems.append(problem)
        choices.append(ItemChoice(item_id, str(decision), reason, code if isinstance(code, str) else None))
    if problems:
        raise ValueError("; ".join(problems))
    return choices


def decide_body(session: Session, request: TakedownRequest, body: dict[str, Any], *, actor: str,
                now: datetime) -> DecisionResult:
    """A decision as the API and the desk send it: ``{"decision", "reason"}`` for the whole case, or
    ``{"items": [...], "reason"}`` item by item (``reason`` then being an optional note to the case)."""
    if "items" in body:
        if body.get("decision") is not None:
            raise ValueError('give either "decision" (the whole case) or "items" (a decision per item), '
                             "not both")
        return decide_items(session, request, parse_item_choices(body["items"]), actor=actor, now=now,
                            note=body.get("reason"))
    return decide(session, request, body.get("decision"), body.get("reason"), actor=actor, now=now,
                  reason_code=body.get("reason_code"))


def decide(
    session: Session, request: TakedownRequest, decision: object, reason: object, *, actor: str,
    now: datetime, bank_name: str | None = None, reason_code: object = None,
) -> DecisionResult:
    """The whole-case form: ``remove`` or ``reject`` every item not yet decided (the case is then
    decided; a refusal's ``reason_code`` goes to each item it refuses), or ``need_info``; raises
    ``WrongState`` if the case is decided already."""
    chosen, text = check_decision(decision, reason, reason_code)
    code = reason_code if isinstance(reason_code, str) else None
    lock(session, request)
    _check_open(request)
    if chosen == "need_info":
        return _ask(session, request, text, actor, now)
    choices = [ItemChoice(item.item_id, chosen, text, code) for item in _items(session, request)
               if session.get(ItemDecision, item.id) is None]
    return decide_items(session, request, choices, actor=actor, now=now, bank_name=bank_name, note=text,
                        whole=chosen)


def decide_items(
    session: Session, request: TakedownRequest, choices: list[ItemChoice], *, actor: str, now: datetime,
    bank_name: str | None = None, note: object = None, whole: str | None = None,
) -> DecisionResult:
    """Decide items of ``request`` (see the module docstring). ValueError names an item the case does not
    have (or that belongs to another case); ``WrongState`` a case or item already decided. ``whole`` is
    the whole-case decision when ``decide`` calls, for a case without items."""
    text = _reason(note)
    lock(session, request)
    _check_open(request)
    items = {item.item_id: item for item in _items(session, request)}
    _check_known(session, request, choices, items)
    done = {d.item_id: d.decision for d in session.scalars(
        select(ItemDecision).where(ItemDecision.request_id == request.id))}
    for choice in choices:
        if items[choice.item_id].id in done:
            raise WrongState(f"item {choice.item_id} of case {request.public_id} is already decided "
                             f"({done[items[choice.item_id].id]}); an item's decision is final")
    outcomes = [*done.values(), *(c.decision for c in choices)]
    closing = len(outcomes) == len(items)
    removes = "remove" in outcomes or (not items and whole == "remove")
    result = DecisionResult(None)
    if closing and removes:
        _bank_own_hashes(session, request, bank_name, result)
    for choice in choices:
        item = items[choice.item_id]
        if choice.decision == "remove":
            remove_item(session, request, item, now, bank_name, result, actor=actor, reason=choice.reason)
        else:
            item_decided(session, request, item, "reject", choice.reason, actor, now, code=choice.reason_code)
            result.rejected_items.append(item.item_id)
        drop_preview(session, item)
    if closing:
        result.decision = _outcome(outcomes, whole)
        _close(session, request, result, text, removes, actor, now)
    else:
        result.undecided_items = [i for i, item in items.items()
                                  if item.id not in done and i not in {c.item_id for c in choices}]
        if request.status == "received":
            request.status = "in_review"
        request.updated_at = now
    return result


def _check_open(request: TakedownRequest) -> None:
    if request.status in FINAL_STATES:
        raise WrongState(f"request {request.public_id} is already {request.status}; "
                         "it cannot be decided again")


def _check_known(session: Session, request: TakedownRequest, choices: list[ItemChoice],
                 items: dict[str, RequestItem]) -> None:
    problems = []
    for choice in choices:
        if choice.item_id in items:
            continue
        elsewhere = session.scalar(select(TakedownRequest.public_id).join(
            RequestItem, RequestItem.request_id == TakedownRequest.id).where(
            RequestItem.item_id == choice.item_id).order_by(TakedownRequest.id).limit(1))
        problems.append(f"{choice.item_id} is an item of case {elsewhere}, not of {request.public_id}: "
                        "decide it on its own case" if elsewhere else
                        f"case {request.public_id} has no item {choice.item_id!r}: use the item ids its "
                        "items and copies list")
    if problems:
        raise ValueError("; ".join(problems))


def _items(session: Session, request: TakedownRequest) -> list[RequestItem]:
    """The items the case's decision covers: not the copies on the review list (decided one by one)."""
    return list(session.scalars(select(RequestItem).where(RequestItem.request_id == request.id,
                                                          RequestItem.review.is_(None))
                                .order_by(RequestItem.id)))


def _outcome(outcomes: list[str], whole: str | None) -> str:
    if not outcomes:
        return whole or "reject"
    if set(outcomes) == {"remove"}:
        return "remove"
    return "reject" if set(outcomes) == {"reject"} else "partial"


def _bank_own_hashes(session: Session, request: TakedownRequest, bank_name: str | None,
                     result: DecisionResult) -> None:
    bank = bank_for(session, request, bank_name)
    source = f"request {request.public_id}"
    for hashes in json.loads(request.hashes):
        result.entries.append(bank_hashes(session, request, hashes, source, bank))


def _close(session: Session, request: TakedownRequest, result: DecisionResult, text: str | None,
           removes: bool, actor: str, now: datetime) -> None:
    if removes:
        after_removal(session, request, now)  # feedback and consented hashes to exchange sources
    request.status = "removed" if removes else "rejected"
    request.decision, request.decision_reason, request.updated_at = result.decision, text, now
    request.decided_at, request.decided_by = now, actor
    drop_previews(session, request, keep_pending=removes)
    session.flush()
    enqueue_email(session, request.requester_email, "update", case_id=request.public_id,
                  outcome=email_outcome(session, request), clock=lambda: now)
    record(session, actor, "request.decision", ("request", request.public_id),
           {"decision": result.decision, "reason": text, "entries": result.entries,
            "removed_items": result.removed_items, "rejected_items": result.rejected_items,
            "deadline_kept": now <= request.deadline}, clock=lambda: now)


def _ask(session: Session, request: TakedownRequest, text: str | None, actor: str, now: datetime
         ) -> DecisionResult:
    request.status, request.decision, request.decision_reason = "need_info", "need_info", text
    request.updated_at = now
    enqueue_email(session, request.requester_email, "update", case_id=request.public_id, clock=lambda: now)
    record(session, actor, "request.decision", ("request", request.public_id),
           {"decision": "need_info", "reason": text, "entries": [], "removed_items": [],
            "deadline_kept": now <= request.deadline}, clock=lambda: now)
    return DecisionResult("need_info")


def item_decided(session: Session, request: TakedownRequest, item: RequestItem, decision: str,
                 reason: str | None, actor: str, now: datetime, entry: int | None = None, *,
                 code: str | None = None) -> None:
    """Record one item's decision (a refusal's ``code`` with it) and its ``item.decision`` audit event."""
    session.add(ItemDecision(item_id=item.id, request_id=request.id, decision=decision, reason=reason,
                             reason_code=code, decided_at=now, decided_by=actor))
    session.flush()
    record(session, actor, "item.decision", ("request", request.public_id),
           {"item_id": item.item_id, "origin": item.origin, "decision": decision, "reason": reason,
            "reason_code": code, "entries": [] if entry is None else [entry]}, clock=lambda: now)


def remove_item(session: Session, request: TakedownRequest, item: RequestItem, now: datetime,
                bank_name: str | None, result: DecisionResult | None = None, *, actor: str = SYSTEM,
                reason: str | None = None) -> None:
    """Bank an item's hashes for ``request`` (as the entry's source), queue its ``remove_item`` webhook
    and write its statement of reasons (once per item), and record the item's decision (``actor``
    ``system`` for a copy removed because its case already was)."""
    bank = bank_for(session, request, bank_name)
    entry = bank_hashes(session, request, json.loads(item.hashes),
                        f"request {request.public_id} item {item.item_id}", bank, item)
    if item.removal_sent_at is None:
        enqueue_webhook(session, "remove_item", {
            "item_id": item.item_id, "case_id": request.public_id, "origin": item.origin,
            "signal": item.signal, "distance": item.distance,
        }, clock=lambda: now)
        item.removal_sent_at = now
        write_statement(session, request, item, now)
    if session.get(ItemDecision, item.id) is None:
        item_decided(session, request, item, "remove", reason, actor, now, entry)
    if result is not None:
        result.entries.append(entry)
        result.removed_items.append(item.item_id)
