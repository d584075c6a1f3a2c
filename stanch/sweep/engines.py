"""The indexes a sweep matches against: every bank, only what the banks gained, or one case's hashes.

- ``bank_engine``: every bank, loaded as ``stanch match`` loads it, and the change feed position read
  before loading (everything up to it is in the engine).
- ``added_engine``: only what changed in the banks between two feed positions: the entries added, every
  entry of a bank whose settings changed (a raised threshold can make old entries match), and every
  allow-list entry (an allow-list match overrides, so it must be seen to give the same verdict). Stored
  catalog hashes are matched against it: a bank addition needs no re-hashing. When ``stanch prune``
  has deleted feed rows past the earlier position, what changed cannot be told, so every entry is
  taken (a slower sweep, never a missed copy).
- ``case_engine``: the hashes of one takedown request (as sent, and of its located items) as a bank of
  their own named ``case <number>``; entry ``n`` is the request's ``n``-th hash object.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from stanch.desk.hashes import new_entry
from stanch.matching.engine import BankedEntry, MatchEngine
from stanch.matching.sync import BankFollower, read_entries, video_entry
from stanch.matching.verdict import BankRule
from stanch.signals.pdq import MATCH_DISTANCE
from stanch.store import Bank, Database, Entry, Provenance, feed_since
from stanch.store.desk_models import RequestItem, TakedownRequest

CASE_BANK_ID = 1


def bank_engine(db: Database) -> tuple[MatchEngine, int]:
    """Every bank in memory, and the change feed position it holds everything up to."""
    engine = MatchEngine()
    follower = BankFollower(db, engine)
    follower.load()
    return engine, follower.seq


def added_engine(session: Session, after: int, upto: int) -> MatchEngine:
    """The bank changes in ``(after, upto]`` as an engine (see the module docstring)."""
    added: set[int] = set()
    changed_banks: set[int] = set()
    banks = list(session.scalars(select(Bank)))
    seq = after
    while True:
        page = feed_since(session, seq)
        if page.pruned_through > after:  # `stanch prune` deleted changes we needed: take every entry
            changed_banks = {bank.id for bank in banks}
            break
        changes = [c for c in page.changes if c.seq <= upto]
        if not changes:
            break
        for change in changes:
            if change.op == "add" and change.entry_id is not None:
                added.add(change.entry_id)
            elif change.op == "bank":
                changed_banks.add(change.bank_id)
        seq = changes[-1].seq
    engine = MatchEngine()
    for bank in banks:
        engine.set_bank(_rule(bank))
    whole = changed_banks | {b.id for b in banks if b.kind == "allow"}
    if whole:
        added.update(session.scalars(select(Entry.id).where(Entry.bank_id.in_(whole))))
    engine.add(read_entries(session, sorted(added)))
    return engine


def case_engine(session: Session, request: TakedownRequest) -> MatchEngine:
    """One request's hashes as the only bank (see the module docstring)."""
    engine = MatchEngine()
    engine.set_bank(BankRule(CASE_BANK_ID, f"case {request.public_id}", MATCH_DISTANCE))
    entries = [_banked(number, record) for number, record in enumerate(case_hashes(session, request), 1)]
    engine.add(entries)
    return engine


def case_hashes(session: Session, request: TakedownRequest) -> list[dict[str, Any]]:
    """The hash objects a copy of this request must match: those sent, then those of located items."""
    located = session.scalars(select(RequestItem.hashes).where(
        RequestItem.request_id == request.id, RequestItem.origin == "located").order_by(RequestItem.id))
    return [*json.loads(request.hashes), *(json.loads(h) for h in located)]


def _banked(number: int, record: dict[str, Any]) -> BankedEntry:
    entry = new_entry(record, Provenance())
    banked = BankedEntry(
        number, CASE_BANK_ID, entry.kind,
        hashes=tuple((row.role, row.pdq) for row in entry.hashes if row.indexed),
        md5=entry.md5, sha256=entry.sha256,
    )
    return video_entry(banked, entry.frames)


def _rule(bank: Bank) -> BankRule:
    return BankRule(bank.id, bank.name, bank.threshold, bank.trust, bank.kind)  # type: ignore[arg-type]
