"""Index shards on Ray: K actors each hold part of the entries; a front end fans each lookup out and
decides once.

Why: one process holds every bank in memory; past one machine's memory (a hub of StopNCII-scale lists,
100M+ hashes) the banks must be split. Each shard is a Ray actor (``ShardServer``) running its own
``MatchEngine`` and ``BankFollower`` over the shard's entries (``entry id % K``,
``stanch.matching.partition``): it loads them from its snapshot or the database, follows the change
feed every ``poll_interval`` (adds and withdrawals reach it within about that long; the server that
made a change asks every shard to poll at once, so its own writes are matchable when it answers), and
answers *hits*, not verdicts. ``ShardedEngine`` sends each batch of queries to every shard, joins the
hits per query and applies the one rule (``verdicts_of``): because an entry lives on exactly one shard
with all its hashes, frames and digests, the result is exactly what one engine holding every bank gives.

A shard that dies is restarted by Ray (``max_restarts``) and reloads from its snapshot and the feed.
Until it answers again, lookups raise ``ShardUnavailable`` (the API answers 503) instead of silently
missing the matches it holds.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from stanch.matching.engine import Match, MatchEngine, verdicts_of
from stanch.matching.partition import Shard
from stanch.matching.query import Query, media_query, query_from_record
from stanch.matching.sync import POLL_INTERVAL, BankFollower
from stanch.matching.verdict import Verdict
from stanch.signals.types import MediaSignals
from stanch.store import open_database

log = logging.getLogger(__name__)

CALL_TIMEOUT = 10.0
"""Seconds a lookup waits for every shard before the shard that did not answer is reported."""


class ShardUnavailable(RuntimeError):
    """A shard did not answer (dead, restarting or overloaded): the lookup is refused, not answered
    without the matches that shard holds."""


class ShardServer:
    """The body of one shard actor: an engine over the shard's entries, kept current from the feed."""

    def __init__(self, database_url: str, shard: Shard, snapshots: str | None,
                 poll_interval: float = POLL_INTERVAL) -> None:
        self.db = open_database(database_url, migrate=False)
        self.engine = MatchEngine()
        self.follower = BankFollower(self.db, self.engine, interval=poll_interval,
                                     snapshots=None if snapshots is None else Path(snapshots), shard=shard)
        self.follower.load()
        self.follower.start()

    def hits(self, queries: Sequence[Query]) -> list[list[Match]]:
        return self.engine.hits_of(queries)

    def poll(self) -> int:
        """Apply the feed now (the front end's process just committed a change)."""
        return self.follower.poll()

    def stats(self) -> dict[str, int]:
        """The engine's sizes, the feed position and the process id (a restart shows as a new one)."""
        return {**self.engine.stats(), "seq": self.follower.seq, "process": os.getpid()}


class ShardedEngine:
    """The front end: what the API's lookups call instead of a ``MatchEngine`` (``Matcher``)."""

    def __init__(self, actors: Sequence[Any], timeout: float = CALL_TIMEOUT) -> None:
        self.actors = list(actors)
        self.timeout = timeout

    @classmethod
    def start(cls, database_url: str, count: int, *, snapshots: Path | None = None,
              poll_interval: float = POLL_INTERVAL, max_restarts: int = -1) -> ShardedEngine:
        """Start ``count`` shard actors on the Ray runtime this process is connected to (``ray.init``
        first) and wait until each has loaded its entries."""
        import ray

        remote = ray.remote(max_restarts=max_restarts, max_task_retries=0, num_cpus=0)(ShardServer)
        actors = [
            remote.remote(database_url, Shard(index, count), None if snapshots is None else str(snapshots),
                          poll_interval)
            for index in range(count)
        ]
        engine = cls(actors, timeout=max(CALL_TIMEOUT, 600.0))
        engine._call("stats")  # constructed = loaded: wait for every shard before serving
        engine.timeout = CALL_TIMEOUT
        return engine

    def match(self, signals: MediaSignals) -> Verdict:
        return self.match_queries([media_query(signals)])[0]

    def match_record(self, record: dict[str, Any]) -> Verdict:
        return self.match_queries([query_from_record(record)])[0]

    def match_queries(self, queries: Sequence[Query]) -> list[Verdict]:
        per_shard: list[list[list[Match]]] = self._call("hits", list(queries))
        joined = [[hit for shard in per_shard for hit in shard[i]] for i in range(len(queries))]
        return verdicts_of(queries, joined)

    def poll(self) -> None:
        """Every shard applies the feed now (after this process committed a change)."""
        self._call("poll")

    def stats(self) -> dict[str, int]:
        shards: list[dict[str, int]] = self._call("stats")
        summed = ("image_hashes", "frame_hashes", "index_bytes")
        total = {name: sum(s[name] for s in shards) for name in summed}
        return {"banks": max((s["banks"] for s in shards), default=0), **total, "shards": len(shards)}

    def stop(self) -> None:
        import ray

        for actor in self.actors:
            ray.kill(actor, no_restart=True)

    def _call(self, method: str, *args: Any) -> Any:
        """Call ``method`` on every shard at once; every answer, or ``ShardUnavailable`` naming the first
        shard that did not give one."""
        import ray
        from ray.exceptions import GetTimeoutError, RayActorError

        refs = [getattr(actor, method).remote(*args) for actor in self.actors]
        answers = []
        for index, ref in enumerate(refs):
            try:
                answers.append(ray.get(ref, timeout=self.timeout))
            except (RayActorError, GetTimeoutError) as error:
                for rest in refs[index + 1:]:
                    ray.cancel(rest)
                raise ShardUnavailable(
                    f"index shard {index} of {len(self.actors)} is unavailable ({type(error).__name__}): "
                    "lookups are refused until it is back rather than answered without its matches"
                ) from None
        return answers


class ShardFollower:
    """What the runtime's follower does when the index is sharded: the shards follow the feed
    themselves; after a commit of this process, every shard is asked to poll at once."""

    def __init__(self, engine: ShardedEngine) -> None:
        self.engine = engine

    def load(self) -> None:
        """The shards loaded when they started."""

    def start(self) -> None:
        """The shards follow the feed on their own threads."""

    def stop(self) -> None:
        self.engine.stop()

    def poll_after_commit(self) -> None:
        """Like ``BankFollower.poll_after_commit``: the commit happened, so a failure is logged, not
        raised (the shards apply it on their next poll anyway)."""
        try:
            self.engine.poll()
        except ShardUnavailable:
            log.warning("an index shard did not apply a committed change at once; its next poll will")
