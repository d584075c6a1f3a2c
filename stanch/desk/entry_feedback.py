"""Reviewers' verdicts per bank entry: a decision that a match was right (``confirmed``) or wrong
(``rejected``) is counted on the entries behind it, and an entry with many rejected matches is flagged.

``record_entry_verdicts`` is the one function every decision path calls where the entries are known:

- a whole-case ``remove`` confirms the entries identical to the case's hashes and its items' (the case
  bank's own and any exchanged or imported entry with the same PDQ, MD5 or SHA-256:
  ``stanch.desk.exchange_feedback.identical_entries``);
- an appeal that reinstates the content rejects those entries and the ones the case banked;
- per-item and per-copy decisions pass the entries their item matched.

Flagging: an entry whose ``rejected`` count reaches ``STANCH_FLAG_REJECTED`` (default 5) gets
``flagged_at`` once, an audit event ``entry.flagged`` and a place in the desk's notice of entries to
look at; it keeps matching as before (an admin decides: ``stanch bank disable``, or withdraw it).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from stanch.desk.audit import record
from stanch.store.entry_stats import add_verdicts, flagged_entries, mark_stats

FLAG_REJECTED = 5
"""Rejected matches from which an entry is flagged (``STANCH_FLAG_REJECTED``)."""


def flag_threshold(environ: dict[str, str] | None = None) -> int:
    """``STANCH_FLAG_REJECTED``: a positive whole number; ValueError naming the variable otherwise."""
    text = (os.environ if environ is None else environ).get("STANCH_FLAG_REJECTED")
    if text is None:
        return FLAG_REJECTED
    if not text.strip().isdigit() or int(text) < 1:
        raise ValueError(f"STANCH_FLAG_REJECTED must be a whole number of rejected matches, 1 or more; "
                         f"got {text!r}")
    return int(text)


def record_entry_verdicts(session: Session, entry_ids: Iterable[int], verdict: str, now: datetime, *,
                          actor: str = "system", flag_after: int | None = None) -> list[int]:
    """Count ``verdict`` (``confirmed`` or ``rejected``) once on each of these entries, in the caller's
    transaction; returns the entries this call flagged (``rejected`` reaching ``flag_after``, default
    ``STANCH_FLAG_REJECTED``). Unknown entry ids are ignored; ValueError for another verdict."""
    stats = add_verdicts(session, entry_ids, verdict)
    if verdict != "rejected":
        return []
    limit = flag_threshold() if flag_after is None else flag_after
    flagged = mark_stats(session, [s.entry_id for s in stats if s.rejected >= limit], "flagged_at", now)
    rejected = {s.entry_id: s.rejected for s in stats}
    for entry_id in flagged:
        record(session, actor, "entry.flagged", ("entry", entry_id),
               {"rejected": rejected[entry_id], "threshold": limit}, clock=lambda: now)
    return flagged


def note_retro_match(session: Session, entry_id: int, details: Mapping[str, Any], now: datetime) -> None:
    """Audit what retroactive matching found for a new entry (``stanch.sweep.retro``): uploads logged
    before it that match it, and the copies and webhooks they became."""
    record(session, "system", "entry.retro_matched", ("entry", entry_id), details, clock=lambda: now)


def entry_notices(session: Session, limit: int = 20) -> list[dict[str, Any]]:
    """The entries the desk's queue page points admins at: switched to review by the flood guard, or
    flagged for rejected matches, newest first, with their counts."""
    return [
        {"entry": entry.id, "bank": bank.name, "trust": entry.trust, "served": stats.served,
         "confirmed": stats.confirmed, "rejected": stats.rejected, "flooded_at": stats.flooded_at,
         "flagged_at": stats.flagged_at, "disabled": entry.disabled_at is not None,
         "withdrawn": entry.withdrawn_at is not None}
        for stats, entry, bank in flagged_entries(session, limit)
    ]
