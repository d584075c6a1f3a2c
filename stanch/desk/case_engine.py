"""A case as a bank of its own: the hashes a copy of a request must match, in a ``MatchEngine``.

Whether an item is a copy of what a request reported is decided by the one matching rule, the
engine's (the query's views against the banked views, PDQ quality, the video rule for videos, exact
digests), exactly as an upload is matched against the banks: the desk keeps no comparison of its own.
The case's bank holds the request's hash objects (as sent, then those of its located items), entry
``n`` being the ``n``-th, at the default bank threshold (``MATCH_DISTANCE``).

``case_records`` is the one query for those hashes; the desk's copy check (``locate.attach_item``) and
a case sweep (``stanch sweep --case``) both build their engine with ``case_engine``.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from stanch.desk.hashes import new_entry
from stanch.matching.engine import BankedEntry, MatchEngine
from stanch.matching.sync import video_entry
from stanch.matching.verdict import BankRule, Match
from stanch.signals.pdq import MATCH_DISTANCE
from stanch.store.decision_models import ItemDecision
from stanch.store.desk_models import RequestItem, TakedownRequest
from stanch.store.entries import Provenance

CASE_BANK_ID = 1


def case_records(session: Session, request: TakedownRequest) -> list[dict[str, Any]]:
    """The hash objects a copy of this request must match: those sent, then those of located items
    (not those a reviewer refused: a copy of an item that is not the requester's is no copy of hers)."""
    refused = exists().where(ItemDecision.item_id == RequestItem.id, ItemDecision.decision == "reject")
    located = session.scalars(select(RequestItem.hashes).where(
        RequestItem.request_id == request.id, RequestItem.origin == "located", ~refused)
        .order_by(RequestItem.id))
    return [*json.loads(request.hashes), *(json.loads(h) for h in located)]


def case_engine(session: Session, request: TakedownRequest) -> MatchEngine:
    """The request's hashes as the only bank, named ``case <number>``."""
    engine = MatchEngine()
    engine.set_bank(BankRule(CASE_BANK_ID, f"case {request.public_id}", MATCH_DISTANCE))
    engine.add(_banked(number, record) for number, record in enumerate(case_records(session, request), 1))
    return engine


def copy_match(engine: MatchEngine, record: dict[str, Any]) -> Match | None:
    """How an item's hash object matches the case (its strongest match), or None if it does not."""
    verdict = engine.match_record(record)
    return verdict.matches[0] if verdict.matched else None


def _banked(number: int, record: dict[str, Any]) -> BankedEntry:
    entry = new_entry(record, Provenance())
    banked = BankedEntry(
        number, CASE_BANK_ID, entry.kind,
        hashes=tuple((row.role, row.pdq) for row in entry.hashes if row.indexed),
        md5=entry.md5, sha256=entry.sha256,
    )
    return video_entry(banked, entry.frames)
