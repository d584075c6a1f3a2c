"""One sweep: list the source, hash in the executor, match here, commit each window, then print it.

The parent process holds the only index (one copy in memory, however many workers hash) and the only
database connection: workers get tasks and give back hashes. Each window of items is committed in one
transaction (catalog rows, the sweep's counters, copies attached to cases) before its lines are
printed, so after a kill -9 every printed line is on record, and running the same command again
resumes the sweep: items it committed are skipped (never hashed again), the rest are done.

Matching (``stanch.sweep.engines``): a plain sweep hashes every item and matches it against every
bank. With ``since`` (an earlier finished sweep), an item whose size and modification time (or
ETag / Last-Modified) are unchanged is not read: its stored hashes are matched against only the bank
entries added after the feed position it was last matched at. A case sweep matches against the case's
hashes instead of the banks.
"""

from __future__ import annotations

import gc
import os
from collections import Counter, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from stanch.clock import utcnow
from stanch.matching.engine import MatchEngine
from stanch.matching.query import ImageQuery, Query, query_from_record
from stanch.matching.verdict import Verdict, decide
from stanch.signals import VideoSignals
from stanch.store import Database
from stanch.store.entry_stats import add_served
from stanch.store.sweep_models import Sweep
from stanch.sweep.catalog import Stored, record_outcomes, stored_items
from stanch.sweep.copies import Attached, Found, attach_to_case, attach_to_removed
from stanch.sweep.engines import added_engine, bank_engine, case_engine
from stanch.sweep.executors import Executor
from stanch.sweep.hashing import Outcome, Task, query_from_outcome, read_again, task
from stanch.sweep.sources import list_items

NOTHING_NEW = decide([])


class SweepError(ValueError):
    """The sweep cannot start as asked (unknown case, checkpoint not finished...); the message says why."""


@dataclass(frozen=True)
class SweepOptions:
    """``since``: id of an earlier finished sweep (incremental); ``case``: a request's number;
    ``batch``: items per committed window."""

    since: int | None = None
    case: str | None = None
    batch: int = 64


@dataclass
class SweepSummary:
    """What this run of the sweep did (a resumed sweep counts only what this run did)."""

    sweep: int
    resumed: bool
    source: str
    items: int
    done_before: int = 0
    hashed: int = 0
    reused: int = 0
    matched: int = 0
    failed: int = 0
    copies: int = 0
    removals: int = 0
    to_review: int = 0
    bank_seq: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class SweepRun:
    """Set up with the constructor (lists the source, opens or resumes the sweep, loads the index);
    ``lines()`` then does the work and yields the output lines; ``summary`` counts as it goes."""

    def __init__(self, db: Database, source: Path, executor: Executor, options: SweepOptions | None = None,
                 *, clock: Callable[[], datetime] = utcnow) -> None:
        self.db, self.executor, self.options, self.clock = db, executor, options or SweepOptions(), clock
        self.source = os.path.abspath(source)
        self.keys = list_items(source)
        self.refused: list[str] = []
        with db.write() as session:
            case = self._case(session)
            self.case_id = case.id if case is not None else None
            self.case_number = case.public_id if case is not None else None
            sweep, resumed = self._open(session)
            self.sweep_id = sweep.id
            if case is not None:
                self.engine, self.seq = case_engine(session, case), None
        if self.case_id is None:
            self.engine, self.seq = bank_engine(db)
            if not resumed:
                with db.write() as session:
                    row = session.get(Sweep, self.sweep_id)
                    assert row is not None
                    row.bank_seq = self.seq
        self.summary = SweepSummary(self.sweep_id, resumed, self.source, len(self.keys), bank_seq=self.seq)
        self._added: dict[int, MatchEngine] = {}
        self._pending: deque[_Window] = deque()

    @property
    def total(self) -> int:
        return len(self.keys)

    def _case(self, session: Session) -> Any:
        """The case swept for (a desk request), or None for a sweep of the banks."""
        if self.options.case is None:
            return None
        from stanch.desk.cases import UnknownRequest, find_request  # the desk loads for a case sweep only

        try:
            return find_request(session, self.options.case)
        except UnknownRequest:
            raise SweepError(f"no takedown request has the number {self.options.case!r}") from None

    def _open(self, session: Session) -> tuple[Sweep, bool]:
        """The unfinished sweep with the same source and options, or a new one."""
        since = self.options.since
        if since is not None:
            checkpoint = session.get(Sweep, since)
            if checkpoint is None or checkpoint.status != "finished":
                raise SweepError(f"sweep {since} is not a finished sweep: --since needs one to start from "
                                 "(run the sweep again to finish it first)")
        unfinished = session.scalar(select(Sweep).where(
            Sweep.source == self.source, Sweep.status == "running",
            Sweep.case_id.is_(None) if self.case_id is None else Sweep.case_id == self.case_id,
            Sweep.since_id.is_(None) if since is None else Sweep.since_id == since,
        ).order_by(Sweep.id.desc()).limit(1))
        if unfinished is not None:
            return unfinished, True
        sweep = Sweep(source=self.source, case_id=self.case_id, since_id=since, bank_seq=0, status="running",
                      started_at=self.clock(), items=0, hashed=0, reused=0, matched=0, failed=0)
        session.add(sweep)
        session.flush()
        return sweep, False

    # -- running --------------------------------------------------------------------------------

    def lines(self, progress: Callable[[int], None] | None = None) -> Iterator[dict[str, Any]]:
        """Run the sweep: the ``stanch match`` line of every item that matched and an error line for
        every item that failed, a window at a time, each after its window is committed."""
        with _frozen_heap():
            for outcomes in self.executor.run(self._windows()):
                window = self._pending.popleft()
                lines = self._digest(outcomes, window.stored)
                if progress is not None:
                    progress(window.size)
                yield from lines
        with self.db.write() as session:
            sweep = session.get(Sweep, self.sweep_id)
            assert sweep is not None
            sweep.status, sweep.finished_at = "finished", self.clock()

    def _windows(self) -> Iterator[list[Task]]:
        incremental = self.options.since is not None
        for start in range(0, len(self.keys), self.options.batch):
            keys = self.keys[start : start + self.options.batch]
            with self.db.read() as session:
                stored = stored_items(session, keys)
            window = {k: stored.get(k) for k in keys}
            todo = [k for k, s in window.items() if s is None or s.sweep_id != self.sweep_id]
            self.summary.done_before += len(keys) - len(todo)
            self._pending.append(_Window({k: s for k, s in window.items() if s is not None}, len(keys)))
            yield [task(k, _known(window[k]) if incremental else None) for k in todo]

    def _digest(self, outcomes: list[Outcome], stored: dict[str, Stored]) -> list[dict[str, Any]]:
        now = self.clock()
        matched_seq: dict[str, int | None] = {}
        records: dict[str, dict[str, Any]] = {}
        work: dict[int, list[tuple[str, ImageQuery | VideoSignals]]] = {}
        engines: dict[int, MatchEngine] = {}
        for outcome in outcomes:
            if outcome["state"] == "failed":
                continue
            key, known = outcome["key"], stored.get(outcome["key"])
            record = outcome["record"] if outcome["state"] == "hashed" else (known.record if known else None)
            assert record is not None, "an unchanged item always has stored hashes"
            records[key] = record
            engine, matched_seq[key] = self._engine_for(outcome, known, record)
            if engine is not None:
                engines[id(engine)] = engine
                work.setdefault(id(engine), []).append((key, _lookups(outcome, record)))
        verdicts = {k: v for eid, items in work.items() for k, v in _match(engines[eid], items).items()}
        lines, found = [], []
        for outcome in outcomes:
            key = outcome["key"]
            if outcome["state"] == "failed":
                lines.append({"path": key, "error": outcome["error"]})
                continue
            verdict = verdicts.get(key, NOTHING_NEW)
            if verdict.matched:
                lines.append({"path": key, **verdict.to_dict()})
                entries = tuple(m.entry for m in verdict.matches if m.kind == "match")
                found.append(Found(key, records[key], entries))
        with self.db.write() as session:
            record_outcomes(session, self.sweep_id, outcomes, matched_seq, now)
            if self.case_number is None:  # the banks' entries matched: counted as served (not for floods)
                add_served(session, Counter(e for item in found for e in item.entries))
            attached = self._feed_desk(session, found, now)
            self._count(session, outcomes, len(found), attached)
        return lines

    def _engine_for(self, outcome: Outcome, known: Stored | None,
                    record: dict[str, Any]) -> tuple[MatchEngine | None, int | None]:
        """The engine this item is matched against, and the feed position it is then matched up to."""
        if self.seq is None:  # a case sweep: the banks are not looked at
            if outcome["state"] == "unchanged" or (known and known.record
                                                   and known.record.get("sha256") == record.get("sha256")):
                return self.engine, known.matched_seq if known else None
            return self.engine, None
        last = known.matched_seq if known and outcome["state"] == "unchanged" else None
        if last is None:
            return self.engine, self.seq
        if last >= self.seq:
            return None, last
        if last not in self._added:
            with self.db.read() as session:
                self._added[last] = added_engine(session, last, self.seq)
        return self._added[last], self.seq

    def _feed_desk(self, session: Session, found: list[Found], now: datetime) -> Attached:
        if not found:
            return Attached()
        settings = self.executor.settings

        def reader(key: str) -> bytes | None:
            return read_again(key, settings)

        if self.case_number is not None:
            from stanch.desk.cases import find_request

            return attach_to_case(session, find_request(session, self.case_number), found, now, self.engine,
                                  reader)
        return attach_to_removed(session, found, now, reader)

    def _count(self, session: Session, outcomes: list[Outcome], matched: int, attached: Attached) -> None:
        states = [o["state"] for o in outcomes]
        counts = {"hashed": states.count("hashed"), "reused": states.count("unchanged"),
                  "failed": states.count("failed"), "matched": matched}
        session.execute(update(Sweep).where(Sweep.id == self.sweep_id).values(
            items=Sweep.items + len(outcomes), **{n: getattr(Sweep, n) + v for n, v in counts.items()}))
        for name, value in counts.items():
            setattr(self.summary, name, getattr(self.summary, name) + value)
        self.summary.copies += attached.copies
        self.summary.removals += attached.removals
        self.summary.to_review += attached.to_review
        self.refused.extend(attached.refused)


@contextmanager
def _frozen_heap() -> Iterator[None]:
    """Keep the objects that live for the whole sweep (imports, the index) out of garbage collection.

    Measured on a 300-file sweep: each full collection walked those ~155,000 objects for about 0.1 s
    of CPU, in the parent and in every worker forked from it. Frozen, the collector only walks what
    the sweep allocates, and forked workers leave the shared pages untouched. Unfrozen at the end
    (unless something else had frozen the heap before), so a long-lived caller collects as usual."""
    ours = gc.get_freeze_count() == 0
    if ours:
        gc.freeze()
    try:
        yield
    finally:
        if ours:
            gc.unfreeze()


@dataclass(frozen=True)
class _Window:
    """A window on its way through the executor: what the catalog held of its items, and its size."""

    stored: dict[str, Stored]
    size: int


def _known(stored: Stored | None) -> dict[str, Any] | None:
    return stored.known() if stored is not None else None


def _lookups(outcome: Outcome, record: dict[str, Any]) -> ImageQuery | VideoSignals:
    """What an item is looked up by: the query a worker computed, or one made from stored hashes."""
    if outcome["state"] == "hashed" and outcome["query"] is not None:
        return query_from_outcome(outcome["query"])
    return query_from_record(record)


def _match(engine: MatchEngine, items: list[tuple[str, Query]]) -> dict[str, Verdict]:
    """Verdicts for many items (the images searched together, one search per bank)."""
    return dict(zip([k for k, _ in items], engine.match_queries([q for _, q in items]), strict=True))
