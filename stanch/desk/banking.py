"""Putting a removed request's hashes into the case bank, and taking them out again on appeal.

Removed content goes into one bank (``STANCH_CASE_BANK``, default ``cases``, created on first use with
trust ``block``) so that matching stops it coming back. Each entry records the request as its
provenance (``request_id``, ``source`` = ``request STN-...``). The same hash banked for two requests is
one entry linked to both (``request_entries``): reversing one removal on appeal withdraws only the
entries no other removal still needs.

A minor's case (``TakedownRequest.minor``) is banked apart, in the bank named by ``STANCH_MINOR_BANK``
(default ``minors``, created on first use with kind ``minor`` and trust ``block``): it matches like the
case bank, and its matches name it, so the platform can route them to its child-safety process. An NCMEC
exchange source may feed the same bank (``stanch exchange add --bank minors``).
"""

from __future__ import annotations

import os
from typing import Any

from sqlalchemy import select
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
from stanch.store.desk_models import RequestEntry, TakedownRequest

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
                bank: Bank) -> int:
    """Bank one hash object for ``request`` (or link the identical active entry); returns the entry id."""
    entry_id = _identical(session, bank, record)
    if entry_id is None:
        provenance = Provenance(source=source, request_id=request.id)
        entry_id = add_entry(session, bank, new_entry(record, provenance))
    link = session.get(RequestEntry, (request.id, entry_id))
    if link is None:
        session.add(RequestEntry(request_id=request.id, entry_id=entry_id))
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


def withdraw_exclusive(session: Session, request: TakedownRequest, reason: str) -> list[int]:
    """Withdraw the entries ``request`` contributed that no other standing removal also contributed."""
    withdrawn = []
    links = session.scalars(select(RequestEntry).where(RequestEntry.request_id == request.id))
    for link in links:
        others = session.scalar(
            select(RequestEntry.request_id)
            .join(TakedownRequest, TakedownRequest.id == RequestEntry.request_id)
            .where(RequestEntry.entry_id == link.entry_id, RequestEntry.request_id != request.id,
                   TakedownRequest.status == "removed").limit(1)
        )
        entry = session.get(Entry, link.entry_id)
        if others is None and entry is not None and entry.withdrawn_at is None:
            bank = session.get(Bank, entry.bank_id)
            assert bank is not None
            withdraw_entry(session, bank, entry.id, reason=reason[:200])
            withdrawn.append(entry.id)
    return withdrawn
