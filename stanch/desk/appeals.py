"""Appeals: the person whose content was removed asks for it back; another reviewer decides.

An appeal names the removed item (its id on the platform, ``item_id``), several items of one case
(``item_ids``), a statement of reasons' number (``SOR-…``, which names its case and its item) or the
request's case number alone (the whole case), with the appellant's name, email and statement; it gets a
receipt like a request (number ``APL-…``, secret code, 48-hour target). Every item named must be a
standing removal (removed, not put back) of the same case, or the appeal is refused with the one
message that also answers unknown numbers. The reviewer who decided the removal (the case, or any item
appealed) may not decide its appeal (``SameReviewer``). ``reinstate`` puts back only the items the
appeal names (every standing one for a whole-case appeal): a ``reinstate_item`` webhook each; the bank
entries that came only from those items are withdrawn (an entry another standing removal still backs,
of this case or another, stays; see ``stanch.desk.banking``); the rest of the case stays removed, and
the case is marked ``reinstated`` only when none of its removals stands any more. ``uphold`` keeps it
removed. Both need a reason, shown to the appellant. The appellant's email names the items an appeal
names by their number on its status page only (put back, or still removed); the requester's email after
a reinstatement lists her locations by number, as after a decision.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from stanch.actions import Outcome, Tally, enqueue_email, enqueue_webhook
from stanch.desk.audit import SYSTEM, record
from stanch.desk.banking import entries_of_items, entries_of_request, withdraw_unbacked
from stanch.desk.cases import REDRESS, UnknownRequest, WrongState, email_outcome, find_request, lock
from stanch.desk.clock import deadline_for
from stanch.desk.decisions import MAX_REASON
from stanch.desk.entry_feedback import record_entry_verdicts
from stanch.desk.exchange_feedback import case_entries
from stanch.desk.intake import (
    InvalidRequest,
    Receipt,
    object_problems,
    requester,
    text_field,
    unused_number,
)
from stanch.desk.safeguards import Safeguards, check_rate, note_submission
from stanch.desk.statements import appealed_statement
from stanch.desk.tokens import keyed_hash, new_token, normalise_case_number, token_digest, token_matches
from stanch.store import Database
from stanch.store.decision_models import AppealItem, ItemDecision
from stanch.store.desk_models import Appeal, RequestItem, TakedownRequest

APPEAL_DECISIONS = ("reinstate", "uphold")
_FIELDS = {"item_id", "item_ids", "case_id", "appellant", "statement"}
MAX_APPEAL_ITEMS = 100


class SameReviewer(PermissionError):
    """The reviewer who decided a removal tried to decide its appeal."""


class UnknownAppeal(LookupError):
    """No appeal with this number and code."""


def file_appeal(
    session: Session, body: Any, *, now: datetime, address: str | None = None,
    safeguards: Safeguards | None = None,
) -> tuple[Receipt, Appeal]:
    """Check and store an appeal; ``InvalidRequest`` lists problems, ``UnknownRequest`` if no removal
    matches the item or case given."""
    problems = object_problems(body, "appeal", _FIELDS)
    item_id = text_field(body, "item_id", problems, required=False, limit=500)
    case_id = text_field(body, "case_id", problems, required=False, limit=40)
    named = _named_items(body, item_id, problems)
    if not named and not case_id:
        problems.append("item_id or case_id is missing: say which removed item (or which case) you appeal")
    name, email = requester(body.get("appellant"), problems, "appellant")
    statement = text_field(body, "statement", problems, what="say why the content should be put back")
    if problems:
        raise InvalidRequest(problems)
    assert name and email and statement
    keys = _rate_keys(session, email, address)
    check_rate(session, keys, now, safeguards or Safeguards())
    # A statement number (SOR-…) from a statement of reasons names the case and the item.
    statement_of = appealed_statement(session, case_id)
    if statement_of is not None:
        case_id, named = statement_of[0], list(dict.fromkeys([statement_of[1], *named]))
    try:
        request = _removed_request(session, named[0] if named else None, case_id)
        items = _standing_items(session, request, named)
    except UnknownRequest:
        raise NoStandingRemoval(email, address) from None
    token = new_token()
    appeal = Appeal(public_id=unused_number(session, Appeal, "APL"), token_hash=token_digest(token),
                    request_id=request.id, item_id=named[0] if named else None, status="received",
                    received_at=now, deadline=deadline_for(now), appellant_name=name, appellant_email=email,
                    statement=statement)
    session.add(appeal)
    session.flush()
    session.add_all(AppealItem(appeal_id=appeal.id, item_id=item.id) for item in items)
    note_submission(session, keys, now)
    enqueue_email(session, email, "received", case_id=appeal.public_id, deadline=appeal.deadline,
                  clock=lambda: now)
    record(session, SYSTEM, "appeal.received", ("appeal", appeal.public_id),
           {"request": request.public_id}, clock=lambda: now)
    return Receipt(appeal.public_id, token, appeal.received_at, appeal.deadline), appeal


def _named_items(body: Any, item_id: str | None, problems: list[str]) -> list[str]:
    """The item ids an appeal names (``item_id`` and ``item_ids``), each once, in the order given."""
    listed = body.get("item_ids") if isinstance(body, dict) else None
    if listed is None:
        listed = []
    if (not isinstance(listed, list) or len(listed) > MAX_APPEAL_ITEMS
            or not all(isinstance(i, str) and i.strip() and len(i) <= 500 for i in listed)):
        problems.append(f"item_ids must be a list of at most {MAX_APPEAL_ITEMS} item ids (text, at most "
                        "500 characters each)")
        listed = []
    return list(dict.fromkeys([*([item_id] if item_id else []), *(i.strip() for i in listed)]))


def _standing_items(session: Session, request: TakedownRequest, named: list[str]) -> list[RequestItem]:
    """The rows of the named items, each a standing removal of ``request``; ``UnknownRequest`` if one is
    not (of any wording: the caller answers with the one message)."""
    rows = []
    for item_id in named:
        row = session.scalar(select(RequestItem).where(
            RequestItem.request_id == request.id, RequestItem.item_id == item_id,
            RequestItem.removal_sent_at.is_not(None), RequestItem.reinstated_at.is_(None)))
        if row is None:
            raise UnknownRequest(NO_REMOVAL)
        rows.append(row)
    return rows


def _removed_request(session: Session, item_id: str | None, case_id: str | None) -> TakedownRequest:
    """The removed request behind the case, or else the item; ``UnknownRequest`` (of any wording)
    otherwise."""
    if case_id:
        request = find_request(session, case_id)
        if request.status == "removed":
            return request
    else:
        found = session.scalar(
            select(TakedownRequest).join(RequestItem, RequestItem.request_id == TakedownRequest.id)
            .where(RequestItem.item_id == item_id, RequestItem.removal_sent_at.is_not(None),
                   RequestItem.reinstated_at.is_(None), TakedownRequest.status == "removed")
            .order_by(TakedownRequest.decided_at.desc()).limit(1)
        )
        if found is not None:
            return found
    raise UnknownRequest("no removal standing for this item or case number: check it and try again")


NO_REMOVAL = "no removal standing for this item or case number: check it and try again"


class NoStandingRemoval(UnknownRequest):
    """An appeal names nothing removed. One message whether the number is unknown, the case was not
    removed, or the item never was, so the form cannot be used to learn which case numbers exist.
    It carries who sent it (never in its message) so that ``submit_appeal`` can count the attempt."""

    def __init__(self, email: str, address: str | None) -> None:
        super().__init__(NO_REMOVAL)
        self.sender = (email, address)


def _rate_keys(session: Session, email: str, address: str | None) -> dict[str, str]:
    keys = {"contact": keyed_hash(session, email)}
    if address:
        keys["address"] = keyed_hash(session, address)
    return keys


def submit_appeal(
    db: Database, body: Any, *, now: datetime, address: str | None = None,
    safeguards: Safeguards | None = None,
) -> Receipt:
    """``file_appeal`` in a transaction of its own; an attempt that names no removal is still counted
    toward the sender's rate limits (in a second transaction, since the first is rolled back), so
    failed probes are limited like accepted appeals."""
    try:
        with db.write() as session:
            receipt, _ = file_appeal(session, body, now=now, address=address, safeguards=safeguards)
            return receipt
    except NoStandingRemoval as refused:
        with db.write() as session:  # the keys are computed anew: the first transaction's are gone
            note_submission(session, _rate_keys(session, *refused.sender), now)
        raise


def find_appeal(session: Session, number: str, token: str | None = None, *, reviewer: bool = False) -> Appeal:
    """The appeal with this number; a non-reviewer must hold its secret code (else ``UnknownAppeal``)."""
    appeal = session.scalar(select(Appeal).where(Appeal.public_id == normalise_case_number(number)))
    if appeal is None or not (reviewer or token_matches(token, appeal.token_hash)):
        raise UnknownAppeal("no appeal has this number and secret code: check both and try again")
    return appeal


def decide_appeal(
    session: Session, appeal: Appeal, decision: object, reason: object, *, actor: str, now: datetime,
) -> list[int]:
    """``reinstate`` or ``uphold`` (see the module docstring); returns the entries withdrawn."""
    if decision not in APPEAL_DECISIONS:
        raise ValueError(f"decision must be one of {', '.join(APPEAL_DECISIONS)}")
    if not isinstance(reason, str) or not reason.strip() or len(reason) > MAX_REASON:
        raise ValueError(f"a reason is required (at most {MAX_REASON} characters): the appellant is told it")
    lock(session, appeal)
    if appeal.status != "received":
        raise WrongState(f"appeal {appeal.public_id} is already decided ({appeal.status})")
    request = session.get(TakedownRequest, appeal.request_id)
    assert request is not None
    lock(session, request)
    items = appealed_items(session, appeal, request)
    _check_other_reviewer(session, request, items, actor)
    withdrawn: list[int] = []
    reinstated: list[str] = []
    if decision == "reinstate":
        if request.status != "removed":
            raise WrongState(f"request {request.public_id} is {request.status}, not removed")
        reinstated = [item.item_id for item in items]
        withdrawn = _reinstate(session, request, appeal, items, now)
    appeal.status = "reinstated" if decision == "reinstate" else "upheld"
    appeal.decision_reason, appeal.decided_at, appeal.decided_by = reason.strip(), now, actor
    session.flush()
    enqueue_email(session, appeal.appellant_email, "update", case_id=appeal.public_id,
                  outcome=appeal_outcome(session, appeal), clock=lambda: now)
    record(session, actor, "appeal.decision", ("appeal", appeal.public_id),
           {"decision": decision, "reason": reason.strip(), "request": request.public_id,
            "items_reinstated": reinstated, "case_reinstated": request.status == "reinstated",
            "entries_withdrawn": withdrawn}, clock=lambda: now)
    return withdrawn


def appealed_items(session: Session, appeal: Appeal, request: TakedownRequest) -> list[RequestItem]:
    """The items an appeal is about that still stand removed: those it names, or for a whole-case appeal
    every standing removal of the case."""
    query = select(RequestItem).where(RequestItem.request_id == request.id,
                                      RequestItem.removal_sent_at.is_not(None),
                                      RequestItem.reinstated_at.is_(None)).order_by(RequestItem.id)
    if _names_items(session, appeal):
        query = query.join(AppealItem, AppealItem.item_id == RequestItem.id).where(
            AppealItem.appeal_id == appeal.id)
    return list(session.scalars(query))


def _names_items(session: Session, appeal: Appeal) -> bool:
    return session.scalar(select(AppealItem.item_id).where(AppealItem.appeal_id == appeal.id).limit(1)) \
        is not None


def _check_other_reviewer(session: Session, request: TakedownRequest, items: list[RequestItem],
                          actor: str) -> None:
    """``SameReviewer`` if ``actor`` decided the case or removed one of the items appealed."""
    if actor in deciders(session, request, items):
        raise SameReviewer("an appeal must be decided by a different reviewer than the one who decided the "
                           f"removal ({actor} decided request {request.public_id})")


def deciders(session: Session, request: TakedownRequest, items: list[RequestItem]) -> set[str]:
    """Who decided the case and who removed each of ``items`` (none of them may decide the appeal)."""
    found = {request.decided_by} if request.decided_by else set()
    for item in items:
        decided = session.get(ItemDecision, item.id)
        if decided is not None and decided.decided_by != SYSTEM:
            found.add(decided.decided_by)
    return found


def _reinstate(session: Session, request: TakedownRequest, appeal: Appeal, items: list[RequestItem],
               now: datetime) -> list[int]:
    if not items and _names_items(session, appeal):
        raise WrongState(f"nothing appeal {appeal.public_id} names is still removed (another appeal put it "
                         "back already)")
    for item in items:
        enqueue_webhook(session, "reinstate_item", {"item_id": item.item_id, "case_id": request.public_id,
                                                    "appeal_id": appeal.public_id}, clock=lambda: now)
        item.reinstated_at = now
    session.flush()
    standing = session.scalar(select(RequestItem.id).where(
        RequestItem.request_id == request.id, RequestItem.removal_sent_at.is_not(None),
        RequestItem.reinstated_at.is_(None)).limit(1))
    candidates = entries_of_items(session, items)
    if standing is None:
        request.status = "reinstated"
        candidates += entries_of_request(session, request)
    request.updated_at = now
    enqueue_email(session, request.requester_email, "update", case_id=request.public_id,
                  outcome=email_outcome(session, request), clock=lambda: now)
    identical = case_entries(session, request) if standing is None else []
    record_entry_verdicts(session, sorted(set(candidates + identical)), "rejected", now)
    return withdraw_unbacked(session, candidates, f"appeal {appeal.public_id} reinstated the content")


def appellant_items(session: Session, appeal: Appeal) -> list[dict[str, Any]]:
    """The items the appeal names, in the order its status page numbers them (Item 1, 2 ...), each
    ``removed`` or ``put_back``: the appellant's own ids, shown back to whoever holds the appeal's code."""
    return [{"item_id": item.item_id, "state": "put_back" if item.reinstated_at is not None else "removed"}
            for item in named_items(session, appeal)]


def appeal_outcome(session: Session, appeal: Appeal) -> Outcome | None:
    """The appellant's email's outcome: each item the appeal names, by its number only (None for an
    appeal of a whole case, whose email stays the plain "news about your appeal")."""
    items = appellant_items(session, appeal)
    if not items:
        return None
    return Outcome(locations=tuple(Tally(1, put_back=int(i["state"] == "put_back"),
                                         removed=int(i["state"] == "removed")) for i in items), named="item")


def appellant_status(session: Session, appeal: Appeal) -> dict[str, Any]:
    """What the holder of an appeal's code is shown, on its status page and by ``GET /v1/appeals/{id}``:
    ``appellant_view`` and the items it names, numbered as its email names them."""
    return {**appellant_view(appeal), "items": appellant_items(session, appeal)}


def appellant_view(appeal: Appeal) -> dict[str, Any]:
    """What the appellant sees: state, dates, the decision and its reason."""
    view: dict[str, Any] = {
        "id": appeal.public_id, "status": appeal.status, "received_at": appeal.received_at.isoformat(),
        "deadline": appeal.deadline.isoformat(), "outcome": None,
    }
    if appeal.decided_at is not None:
        view["outcome"] = {"decision": "reinstate" if appeal.status == "reinstated" else "uphold",
                           "reason": appeal.decision_reason, "decided_at": appeal.decided_at.isoformat(),
                           "redress": REDRESS}
    return view


def reviewer_appeal_view(session: Session, appeal: Appeal, actor: str, now: datetime) -> dict[str, Any]:
    """The appeal with the appellant's contact and the request it concerns; audited as ``appeal.view``."""
    request = session.get(TakedownRequest, appeal.request_id)
    assert request is not None
    record(session, actor, "appeal.view", ("appeal", appeal.public_id), {}, clock=lambda: now)
    return {
        **appellant_view(appeal),
        "request": request.public_id,
        "item_id": appeal.item_id,
        "items": [{"item_id": i.item_id, "stands": i.reinstated_at is None, "reinstated": i.reinstated_at
                   is not None} for i in named_items(session, appeal)],
        "whole_case": not _names_items(session, appeal),
        "appellant": {"name": appeal.appellant_name, "email": appeal.appellant_email},
        "statement": appeal.statement,
        "removal_decided_by": request.decided_by,
        "decided_by": appeal.decided_by,
    }


def named_items(session: Session, appeal: Appeal) -> list[RequestItem]:
    """The items an appeal names (none for a whole-case appeal), as filed."""
    return list(session.scalars(select(RequestItem).join(AppealItem, AppealItem.item_id == RequestItem.id)
                                .where(AppealItem.appeal_id == appeal.id).order_by(RequestItem.id)))


def open_appeals(session: Session) -> list[Appeal]:
    """Appeals waiting for a decision, the oldest first."""
    return list(session.scalars(select(Appeal).where(Appeal.status == "received").order_by(Appeal.deadline)))


def appeal_queue_rows(session: Session, actor: str, now: datetime) -> list[dict[str, Any]]:
    """The open appeals as the desk lists them: time left, the case appealed, and whether ``actor``
    decided that case or removed an item appealed (who may then not decide the appeal)."""
    rows = []
    for appeal in open_appeals(session):
        removal = session.get(TakedownRequest, appeal.request_id)
        rows.append({"id": appeal.public_id, "received_at": appeal.received_at, "deadline": appeal.deadline,
                     "seconds_left": int((appeal.deadline - now).total_seconds()),
                     "request": removal.public_id if removal else "",
                     "mine": bool(removal and actor in deciders(session, removal,
                                                                 appealed_items(session, appeal, removal)))})
    return rows
