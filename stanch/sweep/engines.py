"""The indexes a sweep matches against: every bank, only what the banks gained, or one case's hashes.

- ``bank_engine``: every bank, loaded as ``stanch match`` loads it, and the change feed position read
  before loading (everything up to it is in the engine).
- ``added_engine``: only what changed in the banks between two feed positions: the entries added, every
  entry of a bank whose settings changed (a raised threshold can make old entries match), and every
  allow-list entry (an allow-list match overrides, so it must be seen to give the same verdict). Stored
  catalog hashes are matched against it: a bank addition needs no re-hashing. When ``stanch prune``
  has deleted feed rows past the earlier position, what changed cannot be told, so every entry is
  taken (a slower sweep, never a missed copy).
- ``case_engine`` (the desk's, ``stanch.desk.case_engine``): the hashes of one takedown request (as
  sent, and of its located items) as a bank of their own named ``case <number>``; the desk checks a
  copy with the same engine, so a sweep's copy and the desk's check cannot disagree.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from stanch.matching.engine import MatchEngine
from stanch.matching.sync import BankFollower, bank_rule, read_entries
from stanch.store import Bank, Database, Entry, feed_since

if TYPE_CHECKING:
    from stanch.store.desk_models import TakedownRequest

__all__ = ["added_engine", "bank_engine", "case_engine"]


def case_engine(session: Session, case: TakedownRequest) -> MatchEngine:
    """The desk's engine of one request's hashes (``stanch.desk.case_engine``), loaded for a case sweep
    only: a sweep of the banks never imports the desk's engine."""
    from stanch.desk.case_engine import case_engine as desk_case_engine

    return desk_case_engine(session, case)


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
        engine.set_bank(bank_rule(bank))
    whole = changed_banks | {b.id for b in banks if b.kind == "allow"}
    if whole:
        added.update(session.scalars(select(Entry.id).where(Entry.bank_id.in_(whole))))
    engine.add(read_entries(session, sorted(added)))
    return engine
