"""Keeping a MatchEngine equal to the database: a fast load at start, then the change feed.

``BankFollower.load()`` streams every live image hash with raw cursors (``stanch.store.index_rows``)
into one ``HammingIndex`` per bank, built in bulk, and the video frames likewise. ``poll()`` then
applies the feed's changes since the load (``stanch.store.changes``): each added entry is read back
with its hashes and indexed, each withdrawn one removed, each bank change re-read. A background
thread polls every ``interval`` seconds, so every server process converges within about that long of
a commit; the process that made a change polls at once after its commit, so its own writes are
matchable immediately. No change ever rebuilds an index: adds and removals are incremental, and
compaction runs on a thread of its own. The one exception: when ``stanch prune`` has deleted feed rows
past this follower's cursor (a process stopped for long, or far behind), changes may be lost, so it
loads a fresh engine the same way as at start and swaps it in, logging why. Entries past their
expiry stop matching at once (the engine checks the time); the thread also drops them from memory
once a minute (``drop_expired``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from itertools import groupby
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from stanch.clock import utcnow
from stanch.matching.engine import BankedEntry, MatchEngine
from stanch.matching.partition import Shard
from stanch.matching.snapshot import FeedRow, SnapshotDir, SnapshotKey, usable
from stanch.matching.verdict import BankRule
from stanch.store import (
    Bank,
    Change,
    Database,
    FrameRow,
    database_identity,
    feed_row,
    feed_since,
    frames_from_rows,
    iter_index_batches,
    latest_seq,
)
from stanch.store.bank_reads import (
    all_banks,
    bank_by_id,
    entry_rows,
    frames_of,
    indexed_hashes,
    indexed_views,
    live_frames,
)

if TYPE_CHECKING:  # a type only: every query is the store's (stanch.store.bank_reads)
    from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

POLL_INTERVAL = 0.2
"""Seconds between two looks at the change feed: a commit is matchable everywhere within about this."""
EXPIRY_INTERVAL = 60.0
"""Seconds between two sweeps of expired entries out of memory (they stop matching at once anyway)."""
FEED_BATCH = 10_000
"""Changes read and applied at once; a poll reads again only when a batch came back full."""


class BankFollower:
    """Loads ``engine`` from ``db`` and keeps it current (see the module docstring)."""

    def __init__(self, db: Database, engine: MatchEngine, *, interval: float = POLL_INTERVAL,
                 snapshots: Path | None = None, shard: Shard | None = None) -> None:
        self.db = db
        self.engine = engine
        self.interval = interval
        self.snapshots = snapshots
        """Where index snapshots are kept (``STANCH_INDEX_SNAPSHOT_DIR``); None loads from the database."""
        self.shard = shard
        """The part of the entries this engine holds (an index shard); None: all of them."""
        self.seq = 0
        self._poll_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._compactor: threading.Thread | None = None

    # -- start-up ------------------------------------------------------------------------------

    def load(self) -> None:
        """Read every bank and live hash into the engine; later changes come from ``poll``."""
        with self._poll_lock:
            self.seq = self._load_into(self.engine)
        self.poll()  # a snapshot is current with an older position: catch up before answering

    def _load_into(self, engine: MatchEngine) -> int:
        """Fill ``engine`` from a usable index snapshot or else the database (writing a snapshot when
        they are kept); returns the feed position it is current with."""
        if self.snapshots is None:
            return self._load_from_database(engine)[0]
        with self.db.write() as session:
            identity = database_identity(session)
        name = identity if self.shard is None else f"{identity}-{self.shard.name}"
        snapshots = SnapshotDir(self.snapshots, name)
        seq = self._load_from_snapshot(engine, snapshots)
        if seq is not None:
            return seq
        with snapshots.writer_lock():  # one process loads and writes; the others then map its files
            seq = self._load_from_snapshot(engine, snapshots)
            if seq is not None:
                return seq
            seq, row = self._load_from_database(engine)
            if seq == 0:
                return seq
            snapshots.write(SnapshotKey(snapshots.database, seq, row),
                            {bank: base for bank, base in engine.image_bases().items() if len(base)})
            written = snapshots.read()
            for bank_id, base in ({} if written is None else written.bases).items():
                engine.load_image_base(bank_id, base)  # share the mapped files instead of private copies
        return seq

    def _load_from_database(self, engine: MatchEngine) -> tuple[int, FeedRow | None]:
        with self.db.read() as session:
            seq = latest_seq(session)
            row = feed_row(session, seq)
            self._load_banks(engine, session)
            _load_images(engine, session, self.shard)
            self._load_rest(engine, session)
        return seq, row

    def _load_from_snapshot(self, engine: MatchEngine, snapshots: SnapshotDir) -> int | None:
        """Load from the published snapshot if it can be trusted for this database now (see
        ``stanch.matching.snapshot``); None, having loaded nothing, if not."""
        snapshot = snapshots.read()
        if snapshot is None:
            return None
        with self.db.read() as session:
            latest = latest_seq(session)
            now = SnapshotKey(snapshots.database, snapshot.key.seq, feed_row(session, snapshot.key.seq))
            reason = usable(snapshot, now, latest)
            if reason is not None:
                log.info("not using the index snapshot at seq %d: %s", snapshot.key.seq, reason)
                return None
            banks = self._load_banks(engine, session)
            for bank_id, base in snapshot.bases.items():
                if bank_id in banks:
                    engine.load_image_base(bank_id, base)
            self._load_rest(engine, session)
        return snapshot.key.seq

    @staticmethod
    def _load_banks(engine: MatchEngine, session: Session) -> set[int]:
        banks = all_banks(session)
        for bank in banks:
            engine.set_bank(bank_rule(bank))
        return {bank.id for bank in banks}

    def _load_rest(self, engine: MatchEngine, session: Session) -> None:
        """What a snapshot does not hold: video frames and the entries' notes (digests, trust, expiry)."""
        _load_frames(engine, session, self.shard)
        for entry in _entry_notes(session, engine.clock(), noted=True):
            if self.shard is None or self.shard.owns(entry.id):
                engine.note(entry)

    def _reload(self, pruned_through: int) -> None:
        """Load afresh and swap the result in: changes after our cursor were pruned from the feed."""
        log.warning("the change feed was pruned through seq %d, past this index (at seq %d); "
                    "reloading the index from the database", pruned_through, self.seq)
        fresh = MatchEngine(self.engine.clock)
        seq = self._load_into(fresh)
        self.engine.replace_with(fresh)
        self.seq = seq

    # -- following -----------------------------------------------------------------------------

    def poll(self) -> int:
        """Apply every change committed since the last poll; returns how many were applied (a reload,
        when the feed was pruned past our cursor, counts as none)."""
        with self._poll_lock:
            applied = 0
            while True:
                with self.db.read() as session:
                    page = feed_since(session, self.seq, limit=FEED_BATCH)
                    changes = page.changes
                    if changes and page.pruned_through <= self.seq:
                        self._apply(session, changes)
                if page.pruned_through > self.seq:
                    self._reload(page.pruned_through)
                    continue
                if changes:
                    self.seq = changes[-1].seq
                    applied += len(changes)
                if len(changes) < FEED_BATCH:
                    break
        if applied and self.engine.needs_compaction():
            self._compact_soon()
        return applied

    def drop_expired(self, now: datetime | None = None) -> int:
        """Take entries past their ``expires`` out of the indexes, freeing their memory; returns how many.

        They stopped matching the moment they expired (the engine checks the time); nothing in the feed
        says so unless someone withdraws them, so the background thread does this now and then.
        """
        with self._poll_lock:
            ids = self.engine.expired(now or self.engine.clock())
            if not ids:
                return 0
            with self.db.read() as session:
                entries = _entry_notes(session, self.engine.clock(), ids=ids, live_only=False)
            self.engine.remove(entries)
        if self.engine.needs_compaction():
            self._compact_soon()
        return len(entries)

    def poll_after_commit(self) -> None:
        """Apply this process's own commit at once, so that it is matchable before the handler answers.

        The commit already happened, so a failure here must not turn into an error (a client would retry
        and bank the entry twice): it is logged, and the background poll applies the change within a
        second anyway.
        """
        try:
            self.poll()
        except Exception:
            log.exception("applying committed bank changes at once failed; the next poll will apply them")

    def _apply(self, session: Session, changes: list[Change]) -> None:
        for op, run in groupby(changes, key=lambda c: c.op):
            batch = list(run)
            if op == "bank":
                for bank_id in dict.fromkeys(c.bank_id for c in batch):
                    self._refresh_bank(session, bank_id)
                continue
            ids = list(dict.fromkeys(c.entry_id for c in batch if c.entry_id is not None))
            ids = [entry_id for entry_id in ids if self._owns(entry_id)]
            if not ids:
                continue
            if op == "add":
                self.engine.add(read_entries(session, ids, self.engine.clock()))
            elif op == "withdraw":
                self.engine.remove(_entry_notes(session, self.engine.clock(), ids=ids, live_only=False))

    def _owns(self, entry_id: int) -> bool:
        return self.shard is None or self.shard.owns(entry_id)

    def _refresh_bank(self, session: Session, bank_id: int) -> None:
        bank = bank_by_id(session, bank_id)
        if bank is not None:
            self.engine.set_bank(bank_rule(bank))

    def _compact_soon(self) -> None:
        if self._compactor is None or not self._compactor.is_alive():
            self._compactor = threading.Thread(target=self.engine.compact, name="stanch-compact", daemon=True)
            self._compactor.start()

    def start(self) -> None:
        """Poll in a background thread until ``stop``."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="stanch-follow", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _run(self) -> None:
        next_expiry = time.monotonic() + EXPIRY_INTERVAL
        while not self._stop.wait(self.interval):
            try:
                self.poll()
                if time.monotonic() >= next_expiry:
                    next_expiry = time.monotonic() + EXPIRY_INTERVAL
                    self.drop_expired()
            except Exception:  # a database hiccup must not stop following; the next poll retries
                log.exception("following the bank change feed failed; retrying")


def _load_images(engine: MatchEngine, session: Session, shard: Shard | None) -> None:
    entries, banks, hashes = _columns(iter_index_batches(session, batch_size=100_000))
    if shard is not None:
        mine = shard.mask(entries)
        entries, banks, hashes = entries[mine], banks[mine], hashes[mine]
    bank_ids = np.unique(banks).tolist()
    if len(bank_ids) == 1:  # one bank holds every row: no masked copies of the (100M: 3.2 GB) hashes
        del banks
        engine.load_images(bank_ids[0], entries, hashes)
        return
    for bank_id in bank_ids:
        mine = banks == bank_id
        engine.load_images(bank_id, entries[mine], hashes[mine])


def _load_frames(engine: MatchEngine, session: Session, shard: Shard | None) -> None:
    """Video frames, with the quality the video rule needs (``iter_frame_batches`` leaves it out)."""
    rows: dict[int, list[tuple[str, bytes, int, float]]] = {}
    banks: dict[int, int] = {}
    for entry, bank, view, pdq, quality, ts in live_frames(session, engine.clock()):
        if shard is not None and not shard.owns(entry):
            continue
        rows.setdefault(entry, []).append((view, pdq, quality, ts))
        banks[entry] = bank
    for bank_id in set(banks.values()):
        videos = [
            video_entry(BankedEntry(entry, bank_id, "video"), frames_from_rows(video))
            for entry, video in rows.items()
            if banks[entry] == bank_id
        ]
        engine.load_videos(bank_id, videos)


def read_entries(session: Session, ids: Sequence[int], now: datetime | None = None) -> list[BankedEntry]:
    """The live entries among ``ids`` (live at ``now``, default the wall clock) with their indexed
    hashes (named) and frames, for ``add``."""
    entries = {e.id: e for e in _entry_notes(session, now or utcnow(), ids=ids)}
    hashes = indexed_hashes(session, [e.id for e in entries.values() if e.kind == "image"])
    frames = frames_of(session, [e.id for e in entries.values() if e.kind == "video"])
    return [
        video_entry(replace(e, hashes=tuple(hashes.get(e.id, ()))), frames_from_rows(frames.get(e.id, ())))
        for e in entries.values()
    ]


def video_entry(entry: BankedEntry, frames: Sequence[FrameRow]) -> BankedEntry:
    """``entry`` holding these stored frames and, per frame, the hashes of its views."""
    return replace(
        entry,
        frames=tuple((f.pdq, f.quality, f.ts) for f in frames),
        frame_views=tuple(tuple(v.pdq for v in f.views) for f in frames),
    )


def _entry_notes(session: Session, now: datetime, *, noted: bool = False, ids: Sequence[int] | None = None,
                 live_only: bool = True) -> list[BankedEntry]:
    """Entries (without frames) that the engine must note (the bulk load: with their views named) or
    among ``ids``."""
    rows = entry_rows(session, now, noted=noted, ids=ids, live_only=live_only)
    views = indexed_views(session, [row[0] for row in rows]) if ids is None else {}
    return [
        BankedEntry(id_, bank, kind, md5=md5, sha256=sha, trust=trust, expires=exp, views=views.get(id_))
        for id_, bank, kind, md5, sha, trust, exp in rows
    ]


def _columns(batches: Iterable[list[tuple[int, int, int, bytes]]]) -> tuple[np.ndarray, ...]:
    """Image index rows as arrays: entry ids, bank ids, and ``(n, 32)`` uint8 hashes.

    ``np.fromiter`` over ``itemgetter`` is several times faster here than transposing with ``zip(*batch)``.
    """
    entries, banks, hashes = [], [], []
    for batch in batches:
        count = len(batch)
        entries.append(np.fromiter(map(itemgetter(1), batch), np.int64, count))
        banks.append(np.fromiter(map(itemgetter(2), batch), np.int64, count))
        hashes.append(np.frombuffer(b"".join(map(itemgetter(3), batch)), np.uint8).reshape(-1, 32))
    if not entries:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty((0, 32), np.uint8)
    columns = []
    for parts in (entries, banks, hashes):  # each list freed once joined: at 100M the hashes are 3.2 GB
        columns.append(np.concatenate(parts))
        parts.clear()
    return tuple(columns)


def bank_rule(bank: Bank) -> BankRule:
    """What matching needs of a stored bank (its id, name, threshold, trust and kind); a ``minor`` bank
    matches as a ``match`` bank (its matches name the bank, so the platform knows which they are)."""
    kind = "allow" if bank.kind == "allow" else "match"
    return BankRule(bank.id, bank.name, bank.threshold, bank.trust, kind)  # type: ignore[arg-type]
