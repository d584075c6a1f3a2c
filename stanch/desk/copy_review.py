"""Copies reviewed by confidence: which copies are removed at once, which wait for a reviewer, and the
reviewer's remove or reject of each.

A copy (an item found by a sweep, or attached by the platform, that matches a case) is judged by the
auto-remove rule (``stanch.matching.auto_remove``) of the banks it matched: the banks of the bank
entries it matched (a copy of a removed case found by a sweep of the banks), else the case bank
(``STANCH_CASE_BANK``; the default rule while it does not exist yet). Only when every such rule says so
is it removed at once (with the case, or at once if the case is removed already). Otherwise it goes on
the case's review list (``review = pending``) with how it matched (signal, view, distance) and by when
it should be decided: the case's own deadline while the case is open (the 48-hour clock covers copies
found during review), or ``STANCH_COPY_REVIEW_HOURS`` (default 48) from its discovery for a copy found
after the decision, which then shows in the desk's queue.

A reviewer removes a copy (it is banked and its ``remove_item`` webhook queued, at once on a removed
case, with the case's removal on an open one) or rejects it (nothing happens to it on the platform).
Either way its spooled preview is deleted, and the bank entries it matched that came from an exchange
source get ``confirmed`` or ``rejected`` feedback (``queue_source_feedback``). A rejected copy stays on
record: the same item id, or another item with the same hashes (MD5, SHA-256 or PDQ), is never put on
the case's list again.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from stanch.config import hours_setting
from stanch.desk.audit import record
from stanch.desk.banking import case_bank_name
from stanch.desk.cases import FINAL_STATES, UnknownRequest, WrongState, find_item, lock
from stanch.desk.decisions import MAX_REASON, remove_item
from stanch.desk.safeguards import OPEN_STATES
from stanch.desk.spool import drop_preview
from stanch.exchange.live.feedback import queue_source_feedback
from stanch.matching.auto_remove import AutoRemove, match_view
from stanch.matching.verdict import Match
from stanch.store import Bank, Entry
from stanch.store.desk_models import RequestItem, TakedownRequest

COPY_REVIEW_HOURS = 48.0
COPY_DECISIONS = ("remove", "reject")


def copy_review_hours(environ: Mapping[str, str] = os.environ) -> float:
    """``STANCH_COPY_REVIEW_HOURS`` (default 48): the target for a copy found after its case's decision."""
    return hours_setting(environ, "STANCH_COPY_REVIEW_HOURS", COPY_REVIEW_HOURS)


def rules_for(session: Session, entries: Sequence[int]) -> list[AutoRemove]:
    """The auto-remove rules that judge a copy that matched ``entries`` (see the module docstring)."""
    stored: list[str | None] = []
    if entries:
        stored = list(session.scalars(select(Bank.auto_remove).join(Entry, Entry.bank_id == Bank.id)
                                      .where(Entry.id.in_(sorted(set(entries)))).distinct()))
    if not stored:
        stored = [session.scalar(select(Bank.auto_remove).where(Bank.name == case_bank_name()))]
    return [AutoRemove.parse(text) for text in stored]


def place_copy(session: Session, request: TakedownRequest, row: RequestItem, match: Match,
               entries: Sequence[int], now: datetime) -> bool:
    """Record how ``row`` matched and judge it: True when it is removed at once, False when it goes on
    the review list (``review`` and ``due_at`` set)."""
    row.view = match_view(match) or None
    row.entries = json.dumps(sorted(set(entries))) if entries else None
    if all(rule.removes_at_once(match) for rule in rules_for(session, entries)):
        return True
    row.review = "pending"
    if request.status in OPEN_STATES:
        row.due_at = request.deadline
    else:
        row.due_at = now + timedelta(hours=copy_review_hours())
    return False


def rejected_before(session: Session, request: TakedownRequest, hashes: dict[str, Any]) -> RequestItem | None:
    """A copy of ``request`` a reviewer rejected with the same MD5, SHA-256 or PDQ as ``hashes``."""
    wanted = _digests(hashes)
    if not wanted:
        return None
    for row in session.scalars(select(RequestItem).where(RequestItem.request_id == request.id,
                                                         RequestItem.review == "rejected")):
        if wanted & _digests(json.loads(row.hashes)):
            return row
    return None


def _digests(hashes: dict[str, Any]) -> set[tuple[str, str]]:
    return {(name, str(hashes[name]).lower()) for name in ("md5", "sha256", "pdq") if hashes.get(name)}


def decide_copy(session: Session, request: TakedownRequest, item_id: object, decision: object, reason: object,
                *, actor: str, now: datetime, bank_name: str | None = None) -> RequestItem:
    """A reviewer removes or rejects one copy on the review list (see the module docstring).

    ValueError for a bad decision or reason; ``UnknownRequest`` when the case has no such copy;
    ``WrongState`` when the copy is not waiting for review or its case cannot remove anything any more.
    """
    chosen, text = _checked(decision, reason)
    if not isinstance(item_id, str) or not item_id:
        raise ValueError("item_id must name the copy (as the case lists it)")
    lock(session, request)
    row = find_item(session, request, item_id)
    if row.origin != "copy":
        raise UnknownRequest(f"case {request.public_id} has no copy {item_id!r}")
    if row.review != "pending":
        raise WrongState(f"copy {item_id} of case {request.public_id} is not on the review list "
                         f"({row.review or 'removed at once'})")
    if request.status in FINAL_STATES and request.status != "removed":
        raise WrongState(f"case {request.public_id} is {request.status}: its copies cannot be decided")
    if chosen == "remove" and request.status == "removed":
        remove_item(session, request, row, now, bank_name)
    row.review, row.reviewed_at, row.reviewed_by, row.review_reason = (
        "removed" if chosen == "remove" else "rejected", now, actor, text)
    drop_preview(session, row)
    entries = json.loads(row.entries) if row.entries else []
    queue_source_feedback(session, entries, "confirmed" if chosen == "remove" else "rejected", now)
    record(session, actor, "copy.decision", ("request", request.public_id),
           {"item_id": row.item_id, "decision": chosen, "reason": text, "signal": row.signal,
            "view": row.view, "distance": row.distance, "entries": entries}, clock=lambda: now)
    return row


def _checked(decision: object, reason: object) -> tuple[str, str | None]:
    if decision not in COPY_DECISIONS:
        raise ValueError(f"a copy's decision must be one of {', '.join(COPY_DECISIONS)}")
    if reason is not None and not isinstance(reason, str):
        raise ValueError("reason must be text")
    text = reason.strip() if isinstance(reason, str) else ""
    if decision == "reject" and not text:
        raise ValueError("a reason is required to reject a copy (say why it is not the reported content)")
    if len(text) > MAX_REASON:
        raise ValueError(f"reason is longer than {MAX_REASON} characters")
    return str(decision), text or None


def copies_to_review(session: Session, now: datetime) -> list[dict[str, Any]]:
    """Copies on the review list of cases already removed (an open case's are on its own page, under
    its deadline), the soonest due first: for the desk's queue."""
    rows = session.execute(
        select(RequestItem, TakedownRequest.public_id)
        .join(TakedownRequest, TakedownRequest.id == RequestItem.request_id)
        .where(RequestItem.review == "pending", TakedownRequest.status == "removed")
        .order_by(RequestItem.due_at, RequestItem.id))
    out = []
    for row, case in rows:
        due = row.due_at or now
        out.append({"case": case, "item_id": row.item_id, "signal": row.signal, "view": row.view,
                    "distance": row.distance, "added_at": row.added_at.isoformat(), "due_at": due.isoformat(),
                    "seconds_left": int((due - now).total_seconds()), "overdue": now > due})
    return out

