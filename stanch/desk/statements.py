"""Statements of reasons (EU DSA Art. 17): one for every item a decision removes.

``write_statement`` is called where an item is removed (``stanch.desk.decisions.remove_item``: an item
located at a reported address, or a copy found by matching or a sweep, removed with the decision or
after it). The statement says, in plain words, what was removed and why, on which ground (illegal
content under the law named in settings, or the platform's terms), whether detection and decision were
automated, and how to appeal. It names no one: the requester's name, contact and statement stay on the
desk; the uploader reads only that the person shown (or someone acting for them) asked.

The platform receives it in a signed ``statement.created`` webhook through the outbox, in the
decision's transaction, so it can pass it on to the uploader. The uploader can appeal with the
statement's number (``SOR-…``) on the public appeal page.

Settings (environment): ``STANCH_STATEMENT_GROUND`` (``illegal``, the default, or ``terms``),
``STANCH_STATEMENT_LAW`` (the law named for ``illegal``, or the terms' clause or URL for ``terms``) and
``STANCH_PUBLIC_URL`` (for the appeal link). With ``STANCH_DSA_TDB_URL`` set, each statement is also
marked for the DSA Transparency Database (``stanch.desk.dsa``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from stanch.actions import enqueue_webhook
from stanch.actions.settings import DEFAULT_PUBLIC_URL, dsa_tdb
from stanch.desk.intake import unused_number
from stanch.desk.tokens import normalise_case_number
from stanch.store.compliance_models import GROUNDS, Statement
from stanch.store.desk_models import RequestItem, TakedownRequest

DEFAULT_LAW = ("the TAKE IT DOWN Act (47 U.S.C. § 223a) and the laws against sharing intimate images "
               "without consent")
STATEMENT_PREFIX = "SOR"


class SettingsProblem(ValueError):
    """A statement setting has a value Stanch cannot use."""


@dataclass(frozen=True)
class StatementSettings:
    """Where statements get their ground, named law and appeal link."""

    ground: str = "illegal"
    law: str = DEFAULT_LAW
    public_url: str = DEFAULT_PUBLIC_URL

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> StatementSettings:
        env = os.environ if environ is None else environ
        ground = (env.get("STANCH_STATEMENT_GROUND") or "illegal").strip().lower()
        if ground not in GROUNDS:
            raise SettingsProblem(f"STANCH_STATEMENT_GROUND must be one of {', '.join(GROUNDS)}, "
                                  f"not {ground!r}")
        default_law = DEFAULT_LAW if ground == "illegal" else "the platform's terms of service"
        return cls(ground=ground, law=(env.get("STANCH_STATEMENT_LAW") or default_law).strip(),
                   public_url=(env.get("STANCH_PUBLIC_URL") or cls.public_url).rstrip("/"))


def write_statement(session: Session, request: TakedownRequest, item: RequestItem, now: datetime,
                    settings: StatementSettings | None = None) -> Statement:
    """The statement for ``item`` removed under ``request`` (written once; a second call returns it)
    and its ``statement.created`` webhook, in the caller's transaction."""
    existing = session.scalar(select(Statement).where(Statement.request_id == request.id,
                                                      Statement.item_id == item.item_id))
    if existing is not None:
        return existing
    chosen = settings or StatementSettings.from_env()
    detection = item.origin == "copy"
    # A removal decided by a reviewer happens before the decision is stamped; a copy removed later,
    # because it matches a removal already decided, is removed without anyone looking at it.
    decision = request.decided_at is not None
    statement = Statement(
        public_id=unused_number(session, Statement, STATEMENT_PREFIX), request_id=request.id,
        item_id=item.item_id, origin=item.origin, ground=chosen.ground, law=chosen.law,
        facts=facts(item, now, automated_decision=decision), automated_detection=detection,
        automated_decision=decision, redress="", text="", created_at=now,
        tdb_state="pending" if dsa_tdb() else "off")
    statement.redress = redress(chosen, statement.public_id)
    statement.text = full_text(statement)
    session.add(statement)
    session.flush()
    enqueue_webhook(session, "statement.created", webhook_data(statement), clock=lambda: now)
    return statement


def facts(item: RequestItem, now: datetime, *, automated_decision: bool) -> str:
    """What happened, in plain words, naming no person."""
    when = now.strftime("%d %B %Y at %H:%M UTC")
    found = ("It was found as a copy of content already reported, by comparing digital fingerprints "
             "(hashes) of the two" + (f" ({item.signal}, distance {item.distance})" if item.signal else "")
             + ".") if item.origin == "copy" else "The request pointed at this item."
    decided = ("It matched content a reviewer had already decided to remove, so it was removed without "
               "a further review.") if automated_decision else (
        "A reviewer looked at the request and decided to remove it.")
    return (f"The item {item.item_id} was removed on {when}. The person shown in it, or someone acting for "
            f"them, asked for it to be removed because it shows them intimately and was shared without "
            f"their consent. {found} {decided}")


def redress(settings: StatementSettings, number: str) -> str:
    """How the uploader can contest the removal."""
    return (f"If you think this removal is wrong, you can appeal at {settings.public_url}/appeal with the "
            f"statement number {number}; a different reviewer will decide. In the EU you can also go to an "
            "out-of-court dispute settlement body certified under the Digital Services Act, or to court.")


def full_text(statement: Statement) -> str:
    """The statement as the uploader reads it."""
    ground = (f"The content is illegal under {statement.law}." if statement.ground == "illegal"
              else f"The content is not allowed under {statement.law}.")
    automated = (f"Automated means were {'used' if statement.automated_detection else 'not used'} to find "
                 f"the item and {'used' if statement.automated_decision else 'not used'} to decide.")
    return (f"Statement of reasons {statement.public_id}\n\n{statement.facts}\n\nGround: {ground}\n\n"
            f"{automated}\n\n{statement.redress}")


def webhook_data(statement: Statement) -> dict[str, Any]:
    """The ``statement.created`` webhook's data: the text and the item it is about."""
    return {"statement_id": statement.public_id, "item_id": statement.item_id, "text": statement.text,
            "ground": statement.ground, "law": statement.law, "facts": statement.facts,
            "automated_detection": statement.automated_detection,
            "automated_decision": statement.automated_decision, "redress": statement.redress,
            "created_at": statement.created_at.isoformat()}


def statements_of(session: Session, request: TakedownRequest) -> list[dict[str, Any]]:
    """The request's statements, for its case page on the desk."""
    return [{"id": s.public_id, "item_id": s.item_id, "ground": s.ground, "text": s.text,
             "automated_detection": s.automated_detection, "automated_decision": s.automated_decision,
             "created_at": s.created_at.isoformat()}
            for s in session.scalars(select(Statement).where(Statement.request_id == request.id)
                                     .order_by(Statement.id))]


def appealed_statement(session: Session, number: str | None) -> tuple[str, str] | None:
    """For a statement number (``SOR-…``) given on the appeal form: its request's case number and
    its item id; None when ``number`` is not a statement number or no statement has it."""
    if not number or not normalise_case_number(number).startswith(STATEMENT_PREFIX + "-"):
        return None
    row = session.execute(select(TakedownRequest.public_id, Statement.item_id)
                          .join(TakedownRequest, TakedownRequest.id == Statement.request_id)
                          .where(Statement.public_id == normalise_case_number(number))).first()
    return (row[0], row[1]) if row else None
