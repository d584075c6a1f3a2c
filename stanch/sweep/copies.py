"""Feeding the desk: copies a sweep finds become items of takedown requests.

- A sweep for a case (``--case``) attaches every item that matched the case's hashes to that case.
- Any sweep of the banks attaches an item that matched an entry banked by a removed request to that
  request. The desk's ``attach_item`` then banks the copy and queues its ``remove_item`` webhook,
  because the request is already decided. An item already attached to a request is left as it is, so
  running the same sweep again queues nothing twice.

Whether a copy is removed at once or goes on the case's review list is the bank's auto-remove rule
(``stanch.desk.copy_review``). A copy that goes to review gets a preview where the sweep can reach the
media again: the file is read (or the URL fetched) once more, in memory, and reduced into the
desk's encrypted spool (by ``attach_item``); nothing is kept of a copy removed at once.

Attaching uses the desk's own ``attach_item``, which checks with the case's engine (the matching rule,
``stanch.desk.case_engine``) that the copy matches the request's hashes and records how (signal,
distance); an item it refuses is counted, never forced in. Everything here goes through the desk's
public functions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

if TYPE_CHECKING:  # a type only: requests are found and changed through the desk's functions
    from stanch.matching.engine import MatchEngine
    from stanch.store.desk_models import TakedownRequest

MAX_ITEM_ID = 500
ACTOR = "system"
Reader = Callable[[str], bytes | None]
"""Reads an item's media again by its key (None when it cannot be reached now)."""


@dataclass(frozen=True)
class Found:
    """An item that matched, with its stored hashes and the bank entries it matched."""

    key: str
    record: dict[str, Any]
    entries: tuple[int, ...]


@dataclass
class Attached:
    """What feeding the desk did in one window."""

    copies: int = 0
    removals: int = 0
    to_review: int = 0
    refused: list[str] = field(default_factory=list)


def attach_to_case(session: Session, case: TakedownRequest, found: Sequence[Found], now: datetime,
                   engine: MatchEngine | None = None, reader: Reader | None = None) -> Attached:
    """Attach every item found by a case sweep to ``case`` (``engine``: the case engine it matched with;
    its entries are the case's own hashes, not bank entries, so none is recorded)."""
    result = Attached()
    for item in found:
        _attach(session, case, Found(item.key, item.record, ()), now, result, engine, reader)
    return result


def attach_to_removed(session: Session, found: Sequence[Found], now: datetime,
                      reader: Reader | None = None) -> Attached:
    """Attach each item to every removed request that banked one of the entries it matched."""
    from stanch.desk.cases import removed_requests_of

    result = Attached()
    requests = removed_requests_of(session, {e for item in found for e in item.entries})
    for item in found:
        for request in dict.fromkeys(r for e in item.entries for r in requests.get(e, ())):
            _attach(session, request, item, now, result, reader=reader)
    return result


def _attach(session: Session, request: TakedownRequest, item: Found, now: datetime, result: Attached,
            engine: MatchEngine | None = None, reader: Reader | None = None) -> None:
    # The desk (its previews' spool: cryptography, pillow-heif; the outbox, the exchange feedback) loads
    # when the first copy comes: most sweeps' windows hold none, and their parent shares the cores with
    # the workers hashing.
    from stanch.desk.cases import has_item
    from stanch.desk.locate import LocatedItem, attach_item

    if len(item.key) > MAX_ITEM_ID:
        result.refused.append(f"{item.key[:80]}…: item ids longer than {MAX_ITEM_ID} characters cannot be "
                              f"attached to {request.public_id}")
        return
    if has_item(session, request, item.key):
        return
    try:
        row = attach_item(session, request, LocatedItem(item.key, item.record), origin="copy", actor=ACTOR,
                          now=now, case=engine, entries=item.entries,
                          read_media=(lambda: reader(item.key)) if reader is not None else None)
    except ValueError as error:
        result.refused.append(f"{item.key}: not attached to {request.public_id}: {error}")
        return
    if row.item_id != item.key:  # a reviewer rejected a copy with these hashes: it does not come back
        return
    result.copies += 1
    if row.removal_sent_at is not None:
        result.removals += 1
    if row.review == "pending":
        result.to_review += 1
