"""Statements of reasons for the EU DSA Transparency Database: what each field is, and the batches.

``tdb_statement`` maps a statement (``stanch.desk.statements``) to the database's fields, following
``app/Http/Requests/StatementStoreRequest.php`` and ``app/Models/Statement.php`` of
digital-services-act/transparency-database as of its commit 69e80a0 (2026-06-24): ``application_date``
and ``content_date`` are ``Y-m-d``; ``puid`` matches ``^[a-zA-Z0-9-_]+$`` (at most 500 characters).
Nothing in it names the requester.

``queue_batches`` (run by the desk's ticker, or ``stanch dsa queue``) puts ``pending`` statements into
outbox messages of at most 100 (kind ``dsa``; ``stanch.actions.tdb`` sends them). A PUID another
statement already sent or queued is not sent again; an item id that is not a valid PUID is ``rejected``
here, with the reason, since the database would refuse it.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from stanch.actions import enqueue_dsa_batch
from stanch.desk.minors import dsa_category
from stanch.store.compliance_models import TDB_STATES, Statement
from stanch.store.desk_models import RequestItem, TakedownRequest

BATCH = 100
PUID = re.compile(r"^[a-zA-Z0-9\-_]{1,500}$")
_EXPLANATION = ("The content shows a person in an intimate way and was shared without their consent. The "
                "person shown, or someone acting for them, asked for its removal.")


def tdb_statement(statement: Statement, hashes: dict[str, Any], minor: bool = False) -> dict[str, Any]:
    """The database's fields for ``statement``; ``hashes`` are its item's (they tell image from video);
    a minor's case is filed under the protection of minors (child sexual abuse material)."""
    video = any(key in hashes for key in ("vpdq", "frames", "tmk"))
    category, keyword = dsa_category(minor)
    fields: dict[str, Any] = {
        "decision_visibility": ["DECISION_VISIBILITY_CONTENT_REMOVED"],
        "category": category,
        "category_specification": [keyword],
        "content_type": ["CONTENT_TYPE_VIDEO" if video else "CONTENT_TYPE_IMAGE"],
        # The day Stanch first knew the item; the day it was posted is the platform's to know.
        "content_date": statement.created_at.strftime("%Y-%m-%d"),
        "application_date": statement.created_at.strftime("%Y-%m-%d"),
        "decision_facts": statement.facts[:5000],
        "source_type": "SOURCE_ARTICLE_16" if statement.origin == "located" else "SOURCE_VOLUNTARY",
        "automated_detection": "Yes" if statement.automated_detection else "No",
        "automated_decision": ("AUTOMATED_DECISION_FULLY" if statement.automated_decision
                               else "AUTOMATED_DECISION_NOT_AUTOMATED"),
        "puid": statement.item_id,
    }
    law = (statement.law or "")[:500]
    if statement.ground == "illegal":
        fields |= {"decision_ground": "DECISION_GROUND_ILLEGAL_CONTENT", "illegal_content_legal_ground": law,
                   "illegal_content_explanation": _EXPLANATION}
    else:
        fields |= {"decision_ground": "DECISION_GROUND_INCOMPATIBLE_CONTENT",
                   "incompatible_content_ground": law,
                   "incompatible_content_explanation": _EXPLANATION, "incompatible_content_illegal": "Yes"}
    return fields


def queue_batches(session: Session, now: datetime) -> int:
    """Queue every ``pending`` statement in batches of at most 100; returns the statements queued."""
    rows = list(session.execute(select(Statement, RequestItem.hashes, TakedownRequest.minor)
                                .join(RequestItem, (RequestItem.request_id == Statement.request_id)
                                      & (RequestItem.item_id == Statement.item_id))
                                .join(TakedownRequest, TakedownRequest.id == Statement.request_id)
                                .where(Statement.tdb_state == "pending").order_by(Statement.id)))
    taken = set(session.scalars(select(Statement.item_id).where(Statement.tdb_state.in_(("queued", "sent")))))
    batch: list[tuple[int, dict[str, Any]]] = []
    for statement, hashes, minor in rows:
        if not PUID.match(statement.item_id):
            _settle(statement, "rejected", now, "the item id is not a valid PUID for the DSA database "
                    "(letters, digits, - and _ only, at most 500): the platform must send this one itself")
        elif statement.item_id in taken:
            _settle(statement, "sent", now, "another statement already gave the database this PUID")
        else:
            taken.add(statement.item_id)
            statement.tdb_state = "queued"
            batch.append((statement.id, tdb_statement(statement, json.loads(hashes), minor)))
    for start in range(0, len(batch), BATCH):
        part = batch[start:start + BATCH]
        enqueue_dsa_batch(session, [i for i, _ in part], [s for _, s in part], clock=lambda: now)
    return len(batch)


def _settle(statement: Statement, state: str, now: datetime, note: str) -> None:
    statement.tdb_state, statement.tdb_message, statement.tdb_at = state, note, now


def dsa_counts(session: Session) -> dict[str, int]:
    """How many statements stand in each state (``off``, ``pending``, ``queued``, ``sent``, ``rejected``)."""
    counts = dict.fromkeys(TDB_STATES, 0)
    query = select(Statement.tdb_state, func.count()).group_by(Statement.tdb_state)
    for state, count in session.execute(query):
        counts[state] = count
    return counts


def rejected(session: Session, limit: int = 100) -> list[dict[str, Any]]:
    """The statements the database (or the PUID check) refused, newest first, with the reason, for admins."""
    return [{"id": s.public_id, "item_id": s.item_id, "at": s.tdb_at.isoformat() if s.tdb_at else None,
             "message": s.tdb_message}
            for s in session.scalars(select(Statement).where(Statement.tdb_state == "rejected")
                                     .order_by(Statement.tdb_at.desc(), Statement.id.desc()).limit(limit))]
