"""Putting a removed request's hashes into the case bank, and taking them out again on appeal.

Removed content goes into one bank (``STANCH_CASE_BANK``, default ``cases``, created on first use with
trust ``block``) so that matching stops it coming back. Each entry records the request as its
provenance (``request_id``, ``source`` = ``request STN-...``). The same hash banked for two requests is
one entry linked to both (``request_entries``), and each reason it is banked is kept (``entry_sources``:
the case's own hashes, or one removed item). Reinstating items on appeal withdraws only the entries
that no standing source still backs: a removed, not reinstated item of any case, or the own hashes of
a case still removed (or, for a case decided before sources were kept, the case while it is removed).

A minor's case (``TakedownRequest.minor``) is banked apart, in the bank named by ``STANCH_MINOR_BANK``
(default ``minors``, created on first use with kind ``minor`` and trust ``block``): it matches like the
case bank, and its matches name it, so the platform can route them to its child-safety process. An NCMEC
exchange source may feed the same bank (``stanch exchange add --bank minors``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from stanch.desk.hashes import new_entry
from stanch.store import (
    Bank,
    Entry,
    Provenance,
    UnknownBank,
    add_entry,
    create_bank,
    get_bank,
    withdraw_entry,
)
from stanch.store.decision_models import EntrySource
from stanch.store.desk_models import RequestEntry, RequestItem, TakedownRequest

DEFAULT_CASE_BANK = "cases"
DEFAULT_MINOR_BANK = "minors"


def case_bank_name() -> str:
    return os.environ.get("STANCH_CASE_BANK", DEFAULT_CASE_BANK)


def case_bank(session: Session, name: str | None = None) -> Bank:
    """The case bank, created (trust ``block``) the first time a removal needs it."""
    name = name or case_bank_name()
    try:
        return get_bank(session, name)
    except UnknownBank:
        return create_bank(session, name, trust="block")


def minor_bank(session: Session) -> Bank:
    """The bank of minors' cases (``STANCH_MINOR_BANK``), created (kind ``minor``, trust ``block``) the
    first time; ``ValueError`` if that name is taken by a bank of another kind."""
    name = os.environ.get("STANCH_MINOR_BANK", "").strip() or DEFAULT_MINOR_BANK
    try:
        bank = get_bank(session, name)
    except UnknownBank:
        return create_bank(session, name, trust="block", kind="minor")
    if bank.kind != "minor":
        raise ValueError(f"STANCH_MINOR_BANK names bank {name!r} of kind {bank.kind!r}: a minor's case is "
                         "banked only in a bank of kind 'minor': set STANCH_MINOR_BANK to another name")
    return bank


def bank_for(session: Session, request: TakedownRequest, name: str | None = None) -> Bank:
    """Where a removal of ``request`` banks its hashes: the minors' bank for a minor's case, else the
    case bank (``name`` or ``STANCH_CASE_BANK``)."""
    return minor_bank(session) if request.minor else case_bank(session, name)


def bank_hashes(session: Session, request: TakedownRequest, record: dict[str, Any], source: str,
                bank: Bank, item: RequestItem | None = None) -> int:
    """Bank one hash object for ``request`` (or link the identical active entry), as coming from
    ``item`` (None: the request's own hashes); returns the entry id."""
    entry_id = _identical(session, bank, record)
    if entry_id is None:
        provenance = Provenance(source=source, request_id=request.id)
        entry_id = add_entry(session, bank, new_entry(record, provenance))
    link = session.get(RequestEntry, (request.id, entry_id))
    if link is None:
        session.add(RequestEntry(request_id=request.id, entry_id=entry_id))
        session.flush()
    item_id = item.id if item is not None else None
    known = session.scalar(select(EntrySource.id).where(
        EntrySource.entry_id == entry_id, EntrySource.request_id == request.id,
        EntrySource.item_id.is_(None) if item_id is None else EntrySource.item_id == item_id))
    if known is None:
        session.add(EntrySource(entry_id=entry_id, request_id=request.id, item_id=item_id))
        session.flush()
    return entry_id


def _identical(session: Session, bank: Bank, record: dict[str, Any]) -> int | None:
    """An active entry of ``bank`` with exactly these hashes (the same PDQ, or the same file digest)."""
    query = select(Entry.id).where(Entry.bank_id == bank.id, Entry.withdrawn_at.is_(None))
    if record.get("pdq"):
        query = query.where(Entry.pdq == bytes.fromhex(record["pdq"]))
    elif record.get("sha256"):
        query = query.where(Entry.sha256 == record["sha256"])
    else:
        query = query.where(Entry.md5 == record["md5"])
    found = session.scalar(query.order_by(Entry.id).limit(1))
    return None if found is None else int(found)


def entries_of_items(session: Session, items: Iterable[RequestItem]) -> list[int]:
    """The entries the removal of ``items`` banked (as recorded in ``entry_sources``)."""
    ids = [item.id for item in items]
    return sorted(set(session.scalars(select(EntrySource.entry_id).where(EntrySource.item_id.in_(ids)))))


def entries_of_request(session: Session, request: TakedownRequest) -> list[int]:
    """Every entry ``request`` contributed (its own hashes and its items')."""
    return sorted(session.scalars(select(RequestEntry.entry_id).where(RequestEntry.request_id == request.id)))


def backed(session: Session, entry_id: int) -> bool:
    """Whether a standing removal still needs entry ``entry_id`` (see the module docstring)."""
    removed = TakedownRequest.status == "removed"
    by_item = (select(EntrySource.id)
               .join(RequestItem, RequestItem.id == EntrySource.item_id)
               .join(TakedownRequest, TakedownRequest.id == EntrySource.request_id)
               .where(EntrySource.entry_id == entry_id, removed, RequestItem.removal_sent_at.is_not(None),
                      RequestItem.reinstated_at.is_(None)))
    by_case = (select(EntrySource.id)
               .join(TakedownRequest, TakedownRequest.id == EntrySource.request_id)
               .where(EntrySource.entry_id == entry_id, EntrySource.item_id.is_(None), removed))
    by_old_case = (select(RequestEntry.request_id)
                   .join(TakedownRequest, TakedownRequest.id == RequestEntry.request_id)
                   .where(RequestEntry.entry_id == entry_id, removed,
                          ~exists().where(EntrySource.request_id == RequestEntry.request_id)))
    return any(session.scalar(query.limit(1)) is not None for query in (by_item, by_case, by_old_case))


def withdraw_unbacked(session: Session, entry_ids: Iterable[int], reason: str) -> list[int]:
    """Withdraw those of ``entry_ids`` that are active and that no standing removal backs; returns them.

    Called after the reinstated items (and, when none of its removals stands any more, their case)
    are marked, so that they no longer count as backing."""
    withdrawn = []
    for entry_id in sorted(set(entry_ids)):
        entry = session.get(Entry, entry_id)
        if entry is None or entry.withdrawn_at is not None or backed(session, entry_id):
            continue
        bank = session.get(Bank, entry.bank_id)
        assert bank is not None
        withdraw_entry(session, bank, entry.id, reason=reason[:200])
        withdrawn.append(entry.id)
    return withdrawn
