"""Index snapshots as a server meets them: start-up time and the memory of ``--workers 2``.

One SQLite database holding one bank of N random PDQ hashes (the store's bulk import, as
``benchmarks/http_match.py``). Whole server processes (uvicorn with the app of ``stanch serve``) are
started and timed until they answer, each against the baseline measured in the same run:

- start-up without snapshots (every start reads the database: the baseline), the first start with
  ``STANCH_INDEX_SNAPSHOT_DIR`` (reads the database and writes the snapshot), and a later start
  (maps the snapshot);
- memory of ``--workers 2``: the sum of the workers' proportional set size (PSS, which splits a page
  shared by two processes between them) without snapshots and with, against one worker's;
- single lookups over HTTP (new connection each) on the mapped index against the private one, so a
  regression of the mapped arrays would show.

Targets (issue 16): a restart from a snapshot in seconds, not a re-read of the database (100M: <= 60 s);
``--workers 2`` holding <= 1.3x one worker's memory.

    python benchmarks/index_snapshot.py [--hashes 2000000] [--lookups 300] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from http_match import Server, build_bank, kept_bank, planted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hashes", type=int, default=2_000_000)
    parser.add_argument("--lookups", type=int, default=300)
    parser.add_argument("--keep", type=Path, help="reuse (or keep) the database and bank of an earlier run "
                        "of this benchmark or of http_match.py --keep in this folder")
    args = parser.parse_args()
    rng = np.random.default_rng(16)
    kept, kept_key = kept_bank(args.keep, args.hashes, rng) if args.keep else (None, None)
    bank = kept if kept is not None else rng.integers(0, 256, (args.hashes, 32), dtype=np.uint8)
    misses = rng.integers(0, 256, (args.lookups, 32), np.uint8)
    queries = np.concatenate([planted(rng, bank, args.lookups), misses])
    print(f"{args.hashes:,} hashes, load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as folder:
        home = args.keep or Path(folder)
        url = f"sqlite:///{home}/stanch.db"
        key = kept_key or build_bank(url, bank, home)
        if args.keep and not kept_key:
            (home / "bank.npy").parent.mkdir(parents=True, exist_ok=True)
            np.save(home / "bank.npy", bank)
            (home / "key.txt").write_text(key)
        snapshots = {"STANCH_INDEX_SNAPSHOT_DIR": f"{folder}/snapshots"}
        plain, plain_times = run(url, key, {}, queries)
        first, _ = run(url, key, snapshots, queries[:1])
        mapped, mapped_times = run(url, key, snapshots, queries)
        size = sum(f.stat().st_size for f in Path(folder, "snapshots").rglob("*.npy"))
        one = workers_memory(url, {}, 1, "Pss:")
        two_plain = workers_memory(url, {}, 2, "Pss:")
        # The mapped files count once, in full, as if every page were resident (an upper bound: PSS
        # would count only the pages touched so far), on top of each worker's private memory.
        two_mapped = workers_memory(url, snapshots, 2, "Anonymous:") + size / 2**20
    print("\nstart-up until the server answers (whole process):")
    print(f"  without snapshots (reads the database)  {plain:6.1f} s  (baseline)")
    print(f"  first start with snapshots (and writes)  {first:6.1f} s  ({first / plain:.2f}x the baseline)")
    print(f"  later start (maps the snapshot)          {mapped:6.1f} s  ({plain / mapped:.1f}x faster)")
    print(f"  snapshot files: {size / 2**20:,.0f} MiB")
    print("\nmemory after loading (without snapshots: the workers' PSS; with: their private memory plus"
          " the snapshot files once, in full):")
    print(f"  one worker                 {one:7,.0f} MiB  (baseline)")
    print(f"  two workers, no snapshots  {two_plain:7,.0f} MiB  ({two_plain / one:.2f}x one worker)")
    ratio = two_mapped / one
    print(f"  two workers, snapshots     {two_mapped:7,.0f} MiB  ({ratio:.2f}x one worker; target <= 1.3x)")
    print("\nlookups over HTTP, new connection each:")
    for label, times in (("private index (baseline)", plain_times), ("mapped snapshot", mapped_times)):
        p50, p99 = np.percentile(times, 50) * 1e3, np.percentile(times, 99) * 1e3
        print(f"  {label:26s} p50 {p50:5.2f} ms  p99 {p99:5.2f} ms")


def run(url: str, key: str, env: dict[str, str], queries: np.ndarray) -> tuple[float, np.ndarray]:
    """Start one server with ``env``, time its start and the lookups of ``queries``, stop it."""
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        server = Server(url, key)
    finally:
        for name, value in saved.items():
            os.environ.pop(name) if value is None else os.environ.__setitem__(name, value)
    try:
        times = np.array([server.lookup(q)[0] for q in queries])
        return server.started, times
    finally:
        server.stop()


def workers_memory(url: str, env: dict[str, str], workers: int, field: str) -> float:
    """MiB of ``field`` (of /proc/PID/smaps_rollup) summed over the worker processes of ``uvicorn
    --workers N`` once they have loaded."""
    command = [sys.executable, "-m", "uvicorn", "--factory", "stanch.api.app:create_app",
               "--host", "127.0.0.1", "--port", "0", "--workers", str(workers),
               "--log-level", "warning"]  # fmt: skip
    process = subprocess.Popen(command, env={**os.environ, "STANCH_DATABASE_URL": url, **env})
    try:
        return _settled(process.pid, workers, field)
    finally:
        process.terminate()
        process.wait(timeout=30)


def _settled(parent: int, workers: int, field: str) -> float:
    """Wait until the workers' memory stops growing for 3 s, then return the sum of their ``field``."""
    last, stable_since = -1.0, time.monotonic()
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        children = _children(parent) if workers > 1 else [parent]
        total = sum(_rollup(pid, field) for pid in children)
        if len(children) == workers and abs(total - last) > 1:
            last, stable_since = total, time.monotonic()
        elif len(children) == workers and total > 0 and time.monotonic() - stable_since > 3:
            return total
        time.sleep(0.5)
    raise RuntimeError("the workers did not settle within 10 minutes")


def _children(pid: int) -> list[int]:
    """The worker processes of uvicorn ``pid`` (not multiprocessing's resource tracker)."""
    path = Path(f"/proc/{pid}/task/{pid}/children")
    children = [int(child) for child in path.read_text().split()] if path.exists() else []
    return [child for child in children if b"resource_tracker" not in _cmdline(child)]


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _rollup(pid: int, field: str) -> float:
    try:
        rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0.0
    line = next(line for line in rollup.splitlines() if line.startswith(field))
    return int(line.split()[1]) / 1024


if __name__ == "__main__":
    main()
