"""Retroactive matching: a hash that enters a bank finds the uploads logged before it.

The upload log (opt-in, ``STANCH_UPLOAD_LOG=1``) holds, for each ``/v1/match`` lookup that carried the
platform's item id, the upload's PDQ hash and that id: no media, nothing else. ``UploadLog`` keeps it in
memory the way the banks are kept: a ``MatchEngine`` with one bank whose entries are the logged uploads
(entry id = log row id), loaded in bulk at start and fed from the table (its ids only grow: rows are
committed in id order, ``stanch.store.entry_stats.log_uploads``). Its index is scanned rather than
indexed, so a logged upload costs 40 bytes of memory (32 for the hash, 8 for its id): the multi-index
tables that make bank lookups fast would take 60 more.

``check_new_entries`` follows the bank change feed with a cursor shared by every server process (a
locked row: each new entry is checked once, whichever process gets there first) and looks each new
live image entry's indexed hashes up in the log with the matching rule (``MatchEngine.match_image``,
at the entry's bank threshold). Uploads logged before the entry was created that match it:

- become copies of the removed cases that banked the entry (``stanch.sweep.copies.attach_to_removed``,
  exactly as a sweep's finds: the desk checks the copy against the case, banks it and queues its
  ``remove_item`` webhook);
- or, for an entry without a case (an exchange fetch, ``stanch bank add``/``import``, the banks API),
  each queues an ``upload.matched`` webhook with the item id, the entry, its bank and the distance.

Uploads logged after the entry was created were answered by the live index at lookup time. Each check
is audited (``entry.retro_matched``) when it found something.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from sqlalchemy.orm import Session

from stanch.actions.outbox import enqueue_webhook
from stanch.clock import utcnow
from stanch.desk.cases import removed_requests_of
from stanch.desk.entry_feedback import note_retro_match
from stanch.matching.engine import BankedEntry, MatchEngine
from stanch.matching.query import ImageQuery
from stanch.matching.verdict import BankRule, Match
from stanch.periodic import Periodic
from stanch.store import Database, feed_since, latest_seq
from stanch.store.bank_reads import indexed_hashes
from stanch.store.entry_stats import (
    claim_retro_cursor,
    entry_stats,
    logged_uploads,
    mark_stats,
    move_retro_cursor,
    oldest_upload_id,
    retro_subject,
    uploads_since,
)
from stanch.sweep.copies import Found, attach_to_removed

log = logging.getLogger(__name__)

LOG_BANK = 1
"""The one bank of the upload log's engine."""
SCAN_ALWAYS = 2**62
"""``min_indexed_rows`` that keeps the log's index a plain scan (see the module docstring)."""
LOAD_BATCH = 1_000_000
FEED_BATCH = 1_000


class UploadLog:
    """The upload log in memory (see the module docstring). One thread writes it; searches may run on
    any thread (the engine publishes immutable snapshots)."""

    def __init__(self, db: Database, clock: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.engine = MatchEngine(clock, min_indexed_rows=SCAN_ALWAYS)
        self.engine.set_bank(BankRule(LOG_BANK, "upload-log", 31))
        self.seq = 0
        """The newest log row held."""
        self.low = 0
        """The oldest log row held when loaded (0: none): a table whose oldest row is newer was pruned."""
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return self.engine.stats()["image_hashes"]

    def load(self) -> None:
        """Read the whole log into memory (at start, and after ``stanch prune`` deleted old rows)."""
        ids, hashes = [], []
        with self.db.read() as session:
            seq = 0
            while rows := uploads_since(session, seq, LOAD_BATCH):
                ids.append(np.fromiter((i for i, _ in rows), np.int64, len(rows)))
                hashes.append(np.frombuffer(b"".join(p for _, p in rows), np.uint8).reshape(-1, 32))
                seq = rows[-1][0]
        with self._lock:
            fresh = MatchEngine(self.engine.clock, min_indexed_rows=SCAN_ALWAYS)
            fresh.set_bank(BankRule(LOG_BANK, "upload-log", 31))
            if ids:
                fresh.load_images(LOG_BANK, np.concatenate(ids), np.concatenate(hashes))
            self.engine.replace_with(fresh)
            self.seq, self.low = seq, int(ids[0][0]) if ids else 0

    def follow(self, session: Session) -> int:
        """Take in the rows logged since the last call (reloading when old rows were pruned); returns
        how many were added."""
        oldest = oldest_upload_id(session)
        if self.low and oldest > self.low:
            self.load()
        added = 0
        while rows := uploads_since(session, self.seq, LOAD_BATCH):
            with self._lock:
                self.engine.add(BankedEntry(i, LOG_BANK, hashes=(("original", p),)) for i, p in rows)
                self.seq = rows[-1][0]
                self.low = self.low or rows[0][0]
            added += len(rows)
        return added

    def search(self, hashes: tuple[tuple[str, str], ...], threshold: int) -> list[Match]:
        """Logged uploads within ``threshold`` of any of ``hashes`` (``(view, hex)``): entry = log row."""
        self.engine.set_bank(BankRule(LOG_BANK, "upload-log", threshold))
        return list(self.engine.match_image(ImageQuery(hashes)).matches)


@dataclass
class Checked:
    """What one ``check_new_entries`` did."""

    entries: int = 0
    copies: int = 0
    webhooks: int = 0
    refused: list[str] = field(default_factory=list)


def check_new_entries(db: Database, upload_log: UploadLog, now: datetime) -> Checked:
    """Check the entries added since the shared cursor against the upload log (module docstring)."""
    result = Checked()
    with db.write() as session:
        cursor = claim_retro_cursor(session, latest_seq(session))
        page = feed_since(session, cursor, FEED_BATCH)
        if page.pruned_through > cursor:
            log.warning("the change feed was pruned past retroactive matching's cursor (%d > %d); entries "
                        "added in between were not checked against the upload log", page.pruned_through,
                        cursor)
        upload_log.follow(session)
        added = list(dict.fromkeys(c.entry_id for c in page.changes if c.op == "add" and c.entry_id))
        for entry_id in _unchecked(session, added, now):
            _check(session, upload_log, entry_id, now, result)
        if page.changes:
            move_retro_cursor(session, page.changes[-1].seq)
        elif page.pruned_through > cursor:
            move_retro_cursor(session, page.pruned_through)
    return result


def _unchecked(session: Session, ids: list[int], now: datetime) -> list[int]:
    """Those of ``ids`` never checked before (an entry enabled again, or re-read, is not checked twice),
    marked checked now."""
    done = {s.entry_id for s in entry_stats(session, ids) if s.retro_at is not None}
    return mark_stats(session, [i for i in ids if i not in done], "retro_at", now)


def _check(session: Session, upload_log: UploadLog, entry_id: int, now: datetime, result: Checked) -> None:
    subject = retro_subject(session, entry_id)
    if subject is None:
        return
    entry, bank = subject
    hashes = tuple((view, h.hex()) for view, h in indexed_hashes(session, [entry_id]).get(entry_id, ()))
    if not hashes:
        return
    result.entries += 1
    matches = upload_log.search(hashes, bank.threshold)
    uploads = logged_uploads(session, [m.entry for m in matches])
    before = [(m, uploads[m.entry]) for m in matches
              if m.entry in uploads and uploads[m.entry][2] < entry.created]
    if not before:
        return
    found = [Found(item, {"pdq": pdq.hex()}, (entry_id,)) for _, (pdq, item, _) in before]
    attached = attach_to_removed(session, found, now)
    result.copies += attached.copies
    result.refused += attached.refused
    webhooks = 0
    if attached.copies == 0 and not attached.refused and not removed_requests_of(session, [entry_id]):
        for match, (_, item, logged) in before:
            enqueue_webhook(session, "upload.matched", {
                "item_id": item, "entry": entry_id, "bank": bank.name, "distance": match.distance,
                "action": entry.trust if bank.trust == "block" else "review",
                "logged_at": logged.isoformat(timespec="seconds"),
            }, clock=lambda: now)  # fmt: skip
            webhooks += 1
    result.webhooks += webhooks
    note_retro_match(session, entry_id, {"bank": bank.name, "uploads": len(before), "copies": attached.copies,
                                         "webhooks": webhooks}, now)


class RetroMatcher(Periodic):
    """Follows the upload log and checks new entries every ``interval`` seconds (one per process)."""

    thread_name = "stanch-retro"

    def __init__(self, db: Database, upload_log: UploadLog, *, interval: float = 2.0,
                 clock: Callable[[], datetime] = utcnow) -> None:
        super().__init__(interval)
        self.db, self.upload_log, self.clock = db, upload_log, clock

    def round(self) -> None:
        check_new_entries(self.db, self.upload_log, self.clock())

    def failed(self, error: Exception) -> None:
        log.error("retroactive matching failed; the next round retries", exc_info=error)
