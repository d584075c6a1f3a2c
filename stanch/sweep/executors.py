"""Where the hashing runs: a local process pool, or Ray Data on a cluster. Same tasks, same outcomes.

An executor takes windows of tasks (lists, in order) and yields, window by window and in the same
order, their outcomes. The sweep hands the next window over before it digests the last one, so the
workers keep hashing while the parent matches and commits.
"""

from __future__ import annotations

import json
import multiprocessing
import sys
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, Protocol

from stanch.sweep.hashing import HashSettings, Outcome, Task, hash_batch, hash_item

CHUNK = 4
"""Items per job sent to a worker: small enough to spread a window over every core."""
EARLY_ITEMS = 1024
"""At most this many items are hashed ahead (``LocalPool.start``) while the sweep sets itself up: about
as many as two workers hash in the time the database layer takes to load and open, bounded so that a
catalog of millions is not held in memory."""


class Executor(Protocol):
    settings: HashSettings
    """The limits items are read and fetched under (the parent reads a copy again with them)."""

    def run(self, windows: Iterable[list[Task]]) -> Iterator[list[Outcome]]: ...


def _hash_chunk(tasks: list[Task], settings: HashSettings) -> list[Outcome]:
    return [hash_item(t, settings) for t in tasks]


class LocalPool:
    """``workers`` processes on this machine (1: hash in this process).

    On Linux the workers are forked, as ``stanch hash``'s are: they start at once with everything
    imported. (A fork server measured several seconds slower to start on a busy 2-core machine, as it
    imports the whole command again.) The workers only hash: they never use the parent's database
    connections or its progress-bar thread, which the fork copies.
    """

    def __init__(self, settings: HashSettings, workers: int = 1, depth: int = 2) -> None:
        self.settings, self.workers, self.depth = settings, workers, depth
        self._pool: ProcessPoolExecutor | None = None
        self._early: dict[str, Future[list[Outcome]]] = {}

    def start(self, tasks: Iterable[Task]) -> None:
        """Start the workers on ``tasks`` (the first ``EARLY_ITEMS``) now, before the sweep has opened
        its database: forked from a process that has loaded only the hashing code, they hash while
        the parent loads SQLAlchemy, opens the database and the banks' index.

        Only tasks without validators are taken (their outcome does not depend on the catalog); ``run``
        uses an early outcome for a task of the same key and no validators, and drops the others (items
        a resumed sweep had already done). With one worker, nothing starts early.
        """
        if self.workers <= 1:
            return
        early = [t for _, t in zip(range(EARLY_ITEMS), tasks, strict=False) if _plain(t)]
        pool = self._open()
        for i in range(0, len(early), CHUNK):
            chunk = early[i : i + CHUNK]
            future = pool.submit(_hash_chunk, chunk, self.settings)
            self._early.update((t["key"], future) for t in chunk)

    def run(self, windows: Iterable[list[Task]]) -> Iterator[list[Outcome]]:
        if self.workers <= 1:
            for window in windows:
                yield _hash_chunk(window, self.settings)
            return
        pool = self._open()
        try:
            pending: deque[list[_Pending]] = deque()
            for window in windows:
                pending.append(self._submit(pool, window))
                if len(pending) > self.depth:
                    yield _collect(pending.popleft())
            while pending:
                yield _collect(pending.popleft())
        finally:
            self.close()

    def close(self) -> None:
        """Stop the workers (early work not used is cancelled)."""
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool, self._early = None, {}

    def _open(self) -> ProcessPoolExecutor:
        if self._pool is None:
            context = multiprocessing.get_context("fork" if sys.platform == "linux" else None)
            self._pool = ProcessPoolExecutor(self.workers, mp_context=context)
        return self._pool

    def _submit(self, pool: ProcessPoolExecutor, window: list[Task]) -> list[_Pending]:
        """Each task's future and its place in that future's chunk: early ones, then new chunks."""
        parts: list[_Pending] = []
        fresh: list[Task] = []
        for task in window:
            future = self._early.pop(task["key"], None) if _plain(task) else None
            if future is None:
                fresh.append(task)
                parts.append((None, task["key"]))
            else:
                parts.append((future, task["key"]))
        chunks = {t["key"]: pool.submit(_hash_chunk, fresh[i : i + CHUNK], self.settings)
                  for i in range(0, len(fresh), CHUNK) for t in fresh[i : i + CHUNK]}
        return [(future or chunks[key], key) for future, key in parts]


_Pending = tuple["Future[list[Outcome]] | None", str]
"""A task on its way: the future of the chunk that hashes it, and its key (its place in the chunk)."""


def _plain(task: Task) -> bool:
    """A task with nothing known of its item: its outcome does not depend on the catalog."""
    return all(task[name] is None for name in ("size", "mtime_ns", "etag", "last_modified"))


def _collect(parts: list[_Pending]) -> list[Outcome]:
    """The outcomes of a window's tasks, in order."""
    found: dict[str, Outcome] = {}
    for future, key in parts:
        if key not in found:
            assert future is not None
            found.update((o["key"], o) for o in future.result())
    return [found[key] for _, key in parts]


class RayData:
    """Ray Data: each window becomes a dataset of JSON tasks mapped by ``hash_batch`` on the cluster's
    workers, in order. ``address`` None starts (or joins) a Ray runtime on this machine; "auto" or
    ``ray://host:10001`` joins a cluster. Workers only hash: the database is reached from here."""

    def __init__(self, settings: HashSettings, address: str | None = None, batch_size: int = CHUNK) -> None:
        self.settings, self.address, self.batch_size = settings, address, batch_size

    def run(self, windows: Iterable[list[Task]]) -> Iterator[list[Outcome]]:
        import ray

        started = not ray.is_initialized()
        if started:
            ray.init(address=self.address, include_dashboard=False, log_to_driver=False)
        try:
            context = ray.data.DataContext.get_current()
            context.execution_options.preserve_order = True
            context.enable_progress_bars = False  # the sweep draws its own
            for window in windows:
                yield self._hash(ray, window)
        finally:
            if started:
                ray.shutdown()

    def _hash(self, ray: Any, window: list[Task]) -> list[Outcome]:
        if not window:
            return []
        dataset = ray.data.from_items([{"task": json.dumps(t)} for t in window]).map_batches(
            hash_batch, fn_kwargs={"settings": self.settings}, batch_size=self.batch_size,
            batch_format="numpy",
        )
        return [json.loads(row["outcome"]) for row in dataset.iter_rows()]
