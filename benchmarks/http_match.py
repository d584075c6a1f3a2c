"""The match API over HTTP at 1M hashes, against an in-process numpy brute-force scan of the same bank.

One server process (uvicorn on 127.0.0.1, the app of ``stanch serve``) on a SQLite database holding one
bank of N random PDQ hashes, built with the store's bulk import (``stanch.exchange.import_lines``).
A new TCP connection is opened for every request. Printed:

- start-up: seconds from launching the server until it answers (it loads the whole bank first);
- single lookups, ``POST /v1/match {"pdq"}``: p50/p99 over planted near-duplicates (1-31 bits from a
  banked hash; each must be found) and over random misses, in random order, with p99/p50 (the tail);
  the baseline is a numpy brute-force scan (XOR + popcount of every banked hash) of the same bank and
  queries in this process, timed after the server has stopped: run between the API calls, on the same
  two cores, its memory traffic and CPU would land in the server's tail and measure itself, not the
  server; target: the API's p99 at least 3x faster than the brute force's;
- batched lookups, ``POST /v1/match/batch`` of 1,000 hashes each (half planted, half misses), from one
  and from two client threads at once: lookups a second over HTTP;
- adds through ``POST /v1/banks/{bank}/entries``, one after another, per second;
- time from POSTing an entry to it being matchable, in the server that took the POST, and in the
  server when another process commits the entry to the database (the change feed);
- the server's resident memory after loading and after the adds.

For scale, Meta's HMA 1.1.7 on the same 1M bank on these machines: p50 19 ms, p99 35 ms, about 2
minutes before a new hash matches, 62 adds/s, 0.8 GB growing to 2.2 GB.

    python benchmarks/http_match.py [--hashes 1000000] [--lookups 1000] [--adds 300]
                                    [--baseline N] [--keep DIR]

``--keep DIR`` keeps the database and the bank's hashes in DIR, and a later run with the same DIR and
``--hashes`` uses them instead of importing again (10M: the import takes about 8 minutes here); the
entries earlier runs added stay in it.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from pathlib import Path

import numpy as np

from stanch.exchange import import_lines
from stanch.store import add_entry, create_bank, create_key, entry_from_hashes, get_bank, open_database

MATCH_DISTANCE = 31


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hashes", type=int, default=1_000_000)
    parser.add_argument("--lookups", type=int, default=1000, help="planted hits, and as many misses")
    parser.add_argument("--adds", type=int, default=300)
    parser.add_argument("--baseline", type=int, help="brute-force only N of the queries (10M: ~1 s each)")
    parser.add_argument("--keep", type=Path, help="keep (or reuse) the database and the bank in this folder")
    args = parser.parse_args()
    rng = np.random.default_rng(2026)
    print(f"load average at the start: {_load()} on {os.cpu_count()} CPUs")

    with tempfile.TemporaryDirectory() if args.keep is None else nullcontext(str(args.keep)) as folder:
        url = f"sqlite:///{folder}/stanch.db"
        bank, key = kept_bank(Path(folder), args.hashes, rng) if args.keep else (None, None)
        if bank is None or key is None:
            bank = rng.integers(0, 256, (args.hashes, 32), dtype=np.uint8)
            key = build_bank(url, bank, Path(folder))
            if args.keep:
                np.save(Path(folder, "bank.npy"), bank)
                Path(folder, "key.txt").write_text(key)
        queries = np.concatenate(
            [planted(rng, bank, args.lookups), rng.integers(0, 256, (args.lookups, 32), np.uint8)]
        )
        planted_rows = np.arange(len(queries)) < args.lookups
        server = Server(url, key)
        try:
            print(f"server start-up with {args.hashes:,} hashes: {server.started:.1f} s")
            rss_loaded = server.rss_mb()
            api, matched = lookups(server, queries, rng.permutation(len(queries)))
            batched = {clients: server.batch_rate(queries, clients) for clients in (1, 2)}
            adds_per_second = server.adds(rng, args.adds)
            local, remote = server.time_to_matchable(rng, url, 20)
            rss_after = server.rss_mb()
        finally:
            server.stop()
    sample = queries
    if args.baseline is not None:
        sample = queries[rng.choice(len(queries), args.baseline, replace=False)]
    brute = brute_force_times(bank, sample)

    print(f"\nlookups over HTTP (new connection each), {args.hashes:,} hashes:")
    found, false = int(matched[planted_rows].sum()), int(matched[~planted_rows].sum())
    report("planted near-duplicates", api[planted_rows], f"{found}/{args.lookups} found")
    report("random misses", api[~planted_rows], f"{false} false matches")
    report("numpy brute force, in-process", brute, f"{len(sample):,} of the queries, server stopped")
    p99 = np.percentile(api, 99)
    print(f"  API tail: p99/p50 = {p99 / np.percentile(api, 50):.1f}")
    print(
        f"  API p99 {p99 * 1e3:.2f} ms vs brute force p99 {np.percentile(brute, 99) * 1e3:.2f} ms: "
        f"{np.percentile(brute, 99) / p99:.1f}x faster (target >= 3x)"
    )
    for clients, rate in batched.items():
        print(f"batched lookups over HTTP (/v1/match/batch of {BATCH:,}), {clients} clients: {rate:,.0f}/s")
    print(f"\nadds through the API: {adds_per_second:,.0f}/s (one client, one after another)")
    print(
        f"POST entry -> matchable, same server: median {np.median(local) * 1e3:.1f} ms, "
        f"max {np.max(local) * 1e3:.1f} ms"
    )
    print(
        f"commit by another process -> matchable: median {np.median(remote) * 1e3:.0f} ms, "
        f"max {np.max(remote) * 1e3:.0f} ms (feed polled every 200 ms)"
    )
    print(f"server RSS: {rss_loaded:,.0f} MB after loading, {rss_after:,.0f} MB after the lookups and adds")
    print(f"load average at the end: {_load()}")


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


BATCH = 1000


def kept_bank(folder: Path, hashes: int, rng: np.random.Generator) -> tuple[np.ndarray | None, str | None]:
    """The bank and API key an earlier ``--keep`` run left in ``folder``, if it has ``hashes`` rows."""
    if not (folder / "bank.npy").exists() or not (folder / "key.txt").exists():
        folder.mkdir(parents=True, exist_ok=True)
        return None, None
    bank = np.load(folder / "bank.npy")
    if len(bank) != hashes:
        raise SystemExit(f"{folder} holds a bank of {len(bank):,} hashes, not {hashes:,}: use another folder")
    print(f"reusing the database and bank of {hashes:,} hashes in {folder}")
    return bank, (folder / "key.txt").read_text()


def build_bank(url: str, bank: np.ndarray, folder: Path) -> str:
    """Import the hashes as a plain PDQ list (the store's bulk path) and create an API key."""
    lines = folder / "hashes.txt"
    with lines.open("w") as out:
        out.writelines(row.tobytes().hex() + "\n" for row in bank)
    db = open_database(url)
    started = time.perf_counter()
    with db.write() as session, lines.open() as text:
        import_lines(session, create_bank(session, "bench"), text, source=lines.name, format="pdq")
    print(f"bulk import of {len(bank):,} hashes: {time.perf_counter() - started:.1f} s")
    with db.write() as session:
        _, key = create_key(session, "benchmark", ["match", "bank"])
    db.dispose()
    return key


def planted(rng: np.random.Generator, bank: np.ndarray, count: int) -> np.ndarray:
    """Banked hashes with 1 to 31 random bits flipped."""
    rows = bank[rng.choice(len(bank), count, replace=False)]
    bits = np.unpackbits(rows, axis=1)
    for row, flips in zip(bits, rng.integers(1, MATCH_DISTANCE + 1, count), strict=True):
        row[rng.choice(256, flips, replace=False)] ^= 1
    return np.packbits(bits, axis=1)


def lookups(server: Server, queries: np.ndarray, order: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per query, in the given order: seconds of the API lookup, and whether it matched."""
    api, matched = np.zeros(len(queries)), np.zeros(len(queries), bool)
    for i in order:
        api[i], matched[i] = server.lookup(queries[i])
    return api, matched


def brute_force_times(bank: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """Seconds of the brute-force scan of each query (run with no server beside it)."""
    words = bank.view(np.uint64)
    return np.array([brute_force_seconds(words, query) for query in queries])


def brute_force_seconds(words: np.ndarray, query: np.ndarray) -> float:
    """A numpy scan: XOR every banked hash with the query, popcount, keep those within the threshold."""
    started = time.perf_counter()
    distances = np.bitwise_count(words ^ query.view(np.uint64)).sum(axis=1, dtype=np.uint16)
    np.flatnonzero(distances <= MATCH_DISTANCE)
    return time.perf_counter() - started


def report(label: str, times: np.ndarray, note: str) -> None:
    p50, p99 = np.percentile(times, 50) * 1e3, np.percentile(times, 99) * 1e3
    print(f"  {label:32s} p50 {p50:6.2f} ms  p99 {p99:6.2f} ms  ({note})")


class Server:
    """``uvicorn stanch.api.app:create_app`` in a child process, one worker."""

    def __init__(self, url: str, key: str, env: dict[str, str] | None = None) -> None:
        self.key = key
        self.port = _free_port()
        env = {**os.environ, **(env or {}), "STANCH_DATABASE_URL": url}
        command = [sys.executable, "-m", "uvicorn", "--factory", "stanch.api.app:create_app",
                   "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning"]  # fmt: skip
        started = time.perf_counter()
        self.process = subprocess.Popen(command, env=env)
        while not self._answers():
            if self.process.poll() is not None:
                raise RuntimeError("the server exited during start-up")
            time.sleep(0.1)
        self.started = time.perf_counter() - started
        self.peak_mb = self.status_mb("VmHWM:")  # the most it held while loading

    def request(self, method: str, path: str, body: object) -> tuple[int, dict]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port)
        try:
            headers = {"Authorization": f"Bearer {self.key}", "Content-Type": "application/json"}
            connection.request(method, path, json.dumps(body), headers)
            response = connection.getresponse()
            return response.status, json.loads(response.read())
        finally:
            connection.close()

    def lookup(self, query: np.ndarray) -> tuple[float, bool]:
        """Seconds one lookup took, and whether it matched."""
        started = time.perf_counter()
        status, verdict = self.request("POST", "/v1/match", {"pdq": query.tobytes().hex()})
        seconds = time.perf_counter() - started
        assert status == 200, verdict
        return seconds, bool(verdict["matched"])

    def batch_rate(self, queries: np.ndarray, clients: int) -> float:
        """Lookups a second through ``POST /v1/match/batch``, ``clients`` requests at once."""
        batches = [queries[k : k + BATCH] for k in range(0, len(queries), BATCH)] * 2

        def send(batch: np.ndarray) -> None:
            items = [{"pdq": q.tobytes().hex()} for q in batch]
            status, answer = self.request("POST", "/v1/match/batch", {"items": items})
            assert status == 200 and len(answer["results"]) == len(batch), answer

        started = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            list(pool.map(send, batches))
        return sum(len(b) for b in batches) / (time.perf_counter() - started)

    def adds(self, rng: np.random.Generator, count: int) -> float:
        started = time.perf_counter()
        for row in rng.integers(0, 256, (count, 32), dtype=np.uint8):
            status, answer = self.request("POST", "/v1/banks/bench/entries", {"pdq": row.tobytes().hex()})
            assert status == 201, answer
        return count / (time.perf_counter() - started)

    def time_to_matchable(self, rng: np.random.Generator, url: str, rounds: int) -> tuple[list, list]:
        """Seconds from POST to matchable (same server), and from another process's commit."""
        local, remote = [], []
        db = open_database(url, migrate=False)
        try:
            for row in rng.integers(0, 256, (rounds, 32), dtype=np.uint8):
                hex_hash = row.tobytes().hex()
                started = time.perf_counter()
                self.request("POST", "/v1/banks/bench/entries", {"pdq": hex_hash})
                local.append(self._until_matched(hex_hash, started))
            for row in rng.integers(0, 256, (rounds, 32), dtype=np.uint8):
                hex_hash = row.tobytes().hex()
                with db.write() as session:
                    add_entry(session, get_bank(session, "bench"), entry_from_hashes(pdq=hex_hash))
                remote.append(self._until_matched(hex_hash, time.perf_counter()))
        finally:
            db.dispose()
        return local, remote

    def _until_matched(self, hex_hash: str, started: float) -> float:
        while not self.request("POST", "/v1/match", {"pdq": hex_hash})[1]["matched"]:
            if time.perf_counter() - started > 30:
                raise RuntimeError("an added hash did not become matchable within 30 s")
            time.sleep(0.005)
        return time.perf_counter() - started

    def rss_mb(self) -> float:
        return self.status_mb("VmRSS:")

    def status_mb(self, field: str) -> float:
        """MB of a field of /proc/PID/status (``VmRSS:``, ``VmHWM:``, ``RssAnon:``, ``RssFile:``)."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        line = next(line for line in status.splitlines() if line.startswith(field))
        return int(line.split()[1]) / 1024

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)

    def _answers(self) -> bool:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
            connection.request("GET", "/openapi.json")
            ok = connection.getresponse().status == 200
            connection.close()
            return ok
        except OSError:
            return False


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


if __name__ == "__main__":
    main()
