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

    def run(self, windows: Iterable[list[Task]]) -> Iterator[list[Outcome]]:
        if self.workers <= 1:
            for window in windows:
                yield _hash_chunk(window, self.settings)
            return
        context = multiprocessing.get_context("fork" if sys.platform == "linux" else None)
        with ProcessPoolExecutor(self.workers, mp_context=context) as pool:
            pending: deque[list[Future[list[Outcome]]]] = deque()
            for window in windows:
                pending.append([pool.submit(_hash_chunk, window[i : i + CHUNK], self.settings)
                                for i in range(0, len(window), CHUNK)])
                if len(pending) > self.depth:
                    yield _collect(pending.popleft())
            while pending:
                yield _collect(pending.popleft())


def _collect(futures: list[Future[list[Outcome]]]) -> list[Outcome]:
    return [outcome for future in futures for outcome in future.result()]


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
