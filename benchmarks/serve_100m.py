"""A whole ``stanch serve`` at up to 100M hashes: the SQLite database built, then the server measured.

Build (``--keep DIR`` makes it resumable; one part at a time, each under a list name of its own, each
one transaction, niced): the first ``--product-parts`` parts (default 1) are imported with
``stanch bank import`` itself; the later ones are written by ``bulk_import``: the rows
``stanch bank import`` writes for the same list (its ``imports`` row and audit event through the
product's own functions, the entries, hashes and change-feed rows by ``INSERT ... SELECT``) for a
list whose lines are sorted (the external-id index then grows at its end): 31,880-71,798 lines a
second here against 17,258 for ``stanch bank import`` (3 December 2026, docs/benchmarks.md).
``--verify`` imports the same lines both ways into two databases and compares every row of
``entries``, ``entry_hashes``, ``video_frames``, ``bank_changes``, ``imports``, the audit log and the
schema (creation times aside). The hashes are random (seeded); DIR keeps them in id order as a raw
``bank.u8`` (32 bytes a hash, row i is entry i + 1) for the planted queries and the baseline.

Measure (``--measure``, on the built database; reuses ``http_match``'s server and requests): one
server process (uvicorn with the app of ``stanch serve``) with ``STANCH_INDEX_SNAPSHOT_DIR`` under
DIR: its start from the database (which writes the snapshot) with the peak RSS, its start from the
snapshot (warm page cache) and its RSS, single lookups over HTTP with a new connection each (planted
near-duplicates of banked rows, each checked to return its entry, and random misses) p50/p99, batched
lookups a second, adds until matchable (same server, and a commit by another process), then a start
from the snapshot after ``posix_fadvise(DONTNEED)`` on the database's and the snapshot's files (cold
disk) and its first lookups; then, with no server running, the same-run baseline: a numpy brute force
over the whole bank for a sample of the queries, whose matches the API's must equal.

    python benchmarks/serve_100m.py --keep /work/bench100m [--hashes 100000000] [--part 5000000]
    python benchmarks/serve_100m.py --keep /work/bench100m --measure [--lookups 1000] [--baseline 20]
    python benchmarks/serve_100m.py --keep /tmp/check --verify
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from http_match import MATCH_DISTANCE, Server, brute_force_seconds
from sqlalchemy.orm import Session

from stanch.cli.audit import cli_actor
from stanch.clock import utcnow
from stanch.desk.audit import record as audit
from stanch.store import create_bank, create_key, get_bank, open_database, start_import
from stanch.store.bulk import db_time

STANCH = str(Path(sys.executable).parent / "stanch")


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _stamp() -> str:
    return time.strftime("%H:%M:%S UTC", time.gmtime())


def build(folder: Path, hashes: int, part: int, product_parts: int) -> int:
    """Import parts until the bank holds ``hashes`` (or the parts run out); returns how many it holds."""
    folder.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "STANCH_DATABASE_URL": f"sqlite:///{folder}/stanch.db"}
    done_file = folder / "parts.json"
    done: list[int] = json.loads(done_file.read_text()) if done_file.exists() else []
    if not done and not (folder / "key.txt").exists():
        db = open_database(env["STANCH_DATABASE_URL"])
        with db.write() as session:
            create_bank(session, "bench")
            _, key = create_key(session, "benchmark", ["match", "bank"])
        db.dispose()
        (folder / "key.txt").write_text(key)
    bank_file = folder / "bank.u8"
    with bank_file.open("ab") as bank:
        bank.truncate(sum(done) * 32)  # a part whose import did not finish left nothing in the database
    while sum(done) < hashes:
        index, count = len(done), min(part, hashes - sum(done))
        rows = np.random.default_rng([2026, index]).integers(0, 256, (count, 32), dtype=np.uint8)
        lines = folder / f"part-{index:03d}.txt"
        started = time.perf_counter()
        if index < product_parts:
            how = "stanch bank import"
            with lines.open("w") as out:
                for start in range(0, count, 100_000):
                    out.write("".join(row.hex() + "\n" for row in map(bytes, rows[start : start + 100_000])))
            started = time.perf_counter()
            command = [STANCH, "bank", "import", "bench", str(lines), "--format", "pdq"]
            subprocess.run(["nice", "-n", "10", *command],
                           env=env, check=True, stdout=subprocess.DEVNULL)
            lines.unlink()
        else:
            how = "bulk SQL (a sorted list)"
            # the list's lines in sorted order: the external-id index then grows at its end
            words = rows.view(">u8")
            rows = rows[np.lexsort((words[:, 3], words[:, 2], words[:, 1], words[:, 0]))]
            bulk_import(env["STANCH_DATABASE_URL"], rows, lines.name)
        seconds = time.perf_counter() - started
        with bank_file.open("ab") as bank:
            bank.write(rows.tobytes())
        done.append(count)
        done_file.write_text(json.dumps(done))
        print(f"{_stamp()} part {index} ({how}): {count:,} hashes imported in {seconds:.0f} s"
              f" ({count / seconds:,.0f}/s);"
              f" bank {sum(done):,}; database {Path(folder, 'stanch.db').stat().st_size / 2**30:.1f} GiB;"
              f" load {_load()}", flush=True)
    return sum(done)


def bulk_import(url: str, rows: np.ndarray, source: str) -> None:
    """Write, in one transaction, the rows ``stanch bank import bench FILE --format pdq`` writes for a
    file of ``rows`` as hex lines in this order named ``source`` (a list name new to the bank), with
    ``INSERT ... SELECT`` from a temporary table instead of EntryWriter's per-line Python.

    The ``imports`` row and the audit event are written by the product's own functions
    (``start_import``, ``stanch.desk.audit.record`` with the CLI's details); entries, entry_hashes
    and bank_changes by SQL that writes what ``EntryWriter`` writes for a PDQ line (kind image, no
    quality, one ``original`` indexed hash, external list = source, external id = the lowercase hex,
    the bank's trust, the writer's ``created``; then one ``add`` change per entry in id order).
    ``--verify`` checks it against the product on the same lines.
    """
    if len({bytes(r) for r in rows}) != len(rows):
        raise SystemExit("duplicate hashes in a part: the product would skip them; not supported here")
    db = open_database(url)
    try:
        with db.write() as session:
            _bulk_rows(session, rows, source)
    finally:
        db.dispose()


def _bulk_rows(session: Session, rows: np.ndarray, source: str) -> None:
    bank = get_bank(session, "bench")
    held = session.connection().exec_driver_sql(
        "SELECT count(*) FROM entries WHERE bank_id = ? AND external_list = ? AND withdrawn_at IS NULL",
        (bank.id, source),
    ).scalar_one()
    if held:
        raise SystemExit(f"list {source!r} already has entries: the product would skip them")
    record = start_import(session, bank, source=source, format="pdq", trust=None)
    connection = session.connection()
    created = db_time(connection, utcnow())
    cursor = connection.connection.cursor()
    try:
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS bulk_hashes (n INTEGER PRIMARY KEY, pdq BLOB NOT NULL)"
        )
        cursor.execute("DELETE FROM bulk_hashes")
        cursor.executemany("INSERT INTO bulk_hashes (n, pdq) VALUES (?, ?)",
                           ((n, bytes(row)) for n, row in enumerate(rows)))
        base = cursor.execute("SELECT coalesce(max(id), 0) FROM entries").fetchone()[0]
        cursor.execute(
            "INSERT INTO entries (id, bank_id, kind, pdq, quality, md5, sha256, duration, source,"
            " request_id, import_id, external_list, external_id, trust, created, expires)"
            " SELECT ? + n + 1, ?, 'image', pdq, NULL, NULL, NULL, NULL, ?, NULL, ?, ?, lower(hex(pdq)),"
            " ?, ?, NULL FROM bulk_hashes ORDER BY n",
            (base, bank.id, source, record.id, source, record.trust, created),
        )
        cursor.execute(
            "INSERT INTO entry_hashes (entry_id, bank_id, role, pdq, quality, \"indexed\")"
            " SELECT ? + n + 1, ?, 'original', pdq, NULL, 1 FROM bulk_hashes ORDER BY n",
            (base, bank.id),
        )
        cursor.execute(
            "INSERT INTO bank_changes (bank_id, entry_id, op) SELECT ?, ? + n + 1, 'add'"
            " FROM bulk_hashes ORDER BY n",
            (bank.id, base),
        )
        cursor.execute("DELETE FROM bulk_hashes")
    finally:
        cursor.close()
    record.added, record.withdrawn = len(rows), 0
    session.flush()
    counts = {"import_id": record.id, "added": len(rows), "withdrawn": 0, "unchanged": 0, "not_held": 0,
              "quarantined": 0}
    audit(session, cli_actor(), "bank.import", ("bank", bank.name),
          {"source": source, "format": "pdq", "trust": record.trust, **counts})


_COMPARED = {
    "entries": "SELECT * FROM entries ORDER BY id",
    "entry_hashes": "SELECT * FROM entry_hashes ORDER BY id",
    "video_frames": "SELECT * FROM video_frames ORDER BY id",
    "bank_changes": "SELECT * FROM bank_changes ORDER BY seq",
    "imports": "SELECT * FROM imports ORDER BY id",
    "audit_log": "SELECT seq, actor, action, subject_type, subject_id, details FROM audit_log ORDER BY seq",
}
_TIMES = {"entries": ("created",), "imports": ("created",)}


def verify(folder: Path) -> None:
    """The same 2,000 lines (and a second list after them) imported by ``stanch bank import`` into one
    database and by ``bulk_import`` into another: every row must be equal but for creation times."""
    import sqlite3

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    parts = [rng.integers(0, 256, (n, 32), dtype=np.uint8) for n in (2000, 500)]
    dumps = []
    for how in ("product", "bulk"):
        path = folder / f"verify-{how}.db"
        path.unlink(missing_ok=True)
        url = f"sqlite:///{path}"
        db = open_database(url)
        with db.write() as session:
            create_bank(session, "bench")
        db.dispose()
        for index, rows in enumerate(parts):
            name = f"part-{index:03d}.txt"
            if how == "product":
                lines = folder / name
                lines.write_text("".join(bytes(row).hex() + "\n" for row in rows))
                subprocess.run([STANCH, "bank", "import", "bench", str(lines), "--format", "pdq"],
                               env={**os.environ, "STANCH_DATABASE_URL": url}, check=True,
                               stdout=subprocess.DEVNULL)
                lines.unlink()
            else:
                bulk_import(url, rows, name)
        with sqlite3.connect(path) as connection:
            dump = {}
            for table, query in _COMPARED.items():
                cursor = connection.execute(query)
                names = [d[0] for d in cursor.description]
                dump[table] = [
                    tuple(v for n, v in zip(names, row, strict=True) if n not in _TIMES.get(table, ()))
                    for row in cursor
                ]
            # constraint order inside CREATE TABLE varies between two creations of the schema
            objects = connection.execute("SELECT name, sql FROM sqlite_master ORDER BY name")
            dump["schema"] = [(name, sorted(line.strip() for line in str(sql).replace(",", "").splitlines()))
                              for name, sql in objects]
        dumps.append(dump)
    for table in dumps[0]:
        same = dumps[0][table] == dumps[1][table]
        print(f"{table}: {len(dumps[0][table])} rows by stanch bank import,"
              f" {len(dumps[1][table])} by bulk SQL:"
              f" {'identical' if same else 'DIFFERENT'}")
        if not same:
            raise SystemExit(1)
    print("the bulk SQL writes what stanch bank import writes (creation times aside)")


def measure(folder: Path, lookups: int, baseline: int, adds: int, warmup: int) -> None:
    """The whole server (uvicorn with the app of ``stanch serve``, one process) on the built database."""
    url = f"sqlite:///{folder}/stanch.db"
    key = (folder / "key.txt").read_text()
    held = sum(json.loads((folder / "parts.json").read_text()))
    bank = np.memmap(folder / "bank.u8", np.uint8, "r", shape=(held, 32))  # row i is entry i + 1
    rng = np.random.default_rng(100)
    started = time.perf_counter()
    open_database(url).dispose()  # migrations the database has not had yet (0018 builds two indexes)
    print(f"{_stamp()} {held:,} hashes; opening (and migrating) the database: "
          f"{time.perf_counter() - started:.1f} s; load {_load()}", flush=True)
    rows = rng.choice(held, lookups, replace=False)
    queries = np.concatenate([planted_rows(rng, bank, rows), rng.integers(0, 256, (lookups, 32), np.uint8)])
    expected = np.concatenate([rows + 1, np.zeros(lookups, np.int64)])  # the planted entry; 0: a miss
    snapshots = folder / "snapshots"
    env = {"STANCH_INDEX_SNAPSHOT_DIR": str(snapshots)}
    database = [folder / name for name in ("stanch.db", "stanch.db-wal", "stanch.db-shm")]

    def files() -> list[Path]:
        return [p for p in (*database, *snapshots.rglob("*")) if p.is_file()]

    results: dict[str, list[object]] = {}
    if not any(snapshots.rglob("*.npy")):
        server = Server(url, key, env)  # reads the database, writes the snapshot
        print(f"{_stamp()} start from the database (and writing the snapshot): {server.started:.1f} s,"
              f" peak RSS {server.peak_mb:,.0f} MB; load {_load()}", flush=True)
        server.stop()
    size = sum(p.stat().st_size for p in snapshots.rglob("*") if p.is_file())
    print(f"  snapshot files: {size / 2**30:.2f} GiB")
    server = Server(url, key, env)
    print(f"{_stamp()} start from the snapshot (warm page cache): {server.started:.1f} s; RSS"
          f" {server.rss_mb():,.0f} MB (anonymous {server.status_mb('RssAnon:'):,.0f} MB, file-backed"
          f" {server.status_mb('RssFile:'):,.0f}), peak {server.peak_mb:,.0f} MB; load {_load()}", flush=True)
    try:
        if warmup:  # untimed batches of other random hashes: page the mapped snapshot into this process
            started = time.perf_counter()
            server.batch_rate(rng.integers(0, 256, (warmup // 2, 32), np.uint8), 2)
            print(f"{_stamp()} warm-up: {warmup:,} untimed lookups in batches,"
                  f" {time.perf_counter() - started:.1f} s; RSS {server.rss_mb():,.0f} MB"
                  f" (file-backed {server.status_mb('RssFile:'):,.0f}); load {_load()}", flush=True)
        cpu = _cpu_seconds(server.process.pid)
        api, found = timed_lookups(server, queries, rng.permutation(len(queries)))
        single_cpu = (_cpu_seconds(server.process.pid) - cpu) / len(queries)
        print(f"{_stamp()} lookups done; load {_load()}", flush=True)
        batched, batch_cpu = {}, {}
        for clients in (1, 2):
            cpu = _cpu_seconds(server.process.pid)
            batched[clients] = server.batch_rate(queries, clients)
            batch_cpu[clients] = (_cpu_seconds(server.process.pid) - cpu) / (2 * len(queries))
        local, remote = server.time_to_matchable(rng, url, adds)
        rss_after = server.rss_mb()
        anon_after = server.status_mb("RssAnon:")
        file_after = server.status_mb("RssFile:")
    finally:
        server.stop()
    results["api"] = [api]
    hits = [expected[i] in found[i] for i in range(lookups)]
    false = sum(bool(found[i]) for i in range(lookups, 2 * lookups))
    print(f"\nlookups over HTTP (new connection each), {held:,} hashes,"
          f" {lookups} planted + {lookups} misses:")
    for label, part in (("planted (1-31 bits)", api[:lookups]), ("random misses", api[lookups:]),
                        ("all", api)):
        p50, p99 = np.percentile(part, 50) * 1e3, np.percentile(part, 99) * 1e3
        print(f"  {label:22s} p50 {p50:6.2f} ms  p99 {p99:6.2f} ms  p99/p50 {p99 / p50:.1f}")
    print(f"  planted entry found: {sum(hits)}/{lookups}; misses that matched something: {false}/{lookups}")
    print(f"  the server's CPU time (user + system) per single lookup: {single_cpu * 1e3:.2f} ms")
    for clients, rate in batched.items():
        print(f"  batched (/v1/match/batch of 1,000), {clients} client(s): {rate:,.0f} lookups/s;"
              f" server CPU {batch_cpu[clients] * 1e3:.2f} ms a lookup ({1 / batch_cpu[clients]:,.0f}"
              " lookups a CPU-second)")
    print(f"  POST entry -> matchable, same server: median {np.median(local) * 1e3:.1f} ms,"
          f" max {np.max(local) * 1e3:.1f} ms")
    print(f"  commit by another process -> matchable: median {np.median(remote) * 1e3:.0f} ms,"
          f" max {np.max(remote) * 1e3:.0f} ms")
    print(f"  RSS after: {rss_after:,.0f} MB (anonymous {anon_after:,.0f} MB,"
          f" file-backed {file_after:,.0f} MB); load {_load()}", flush=True)

    # cold disk: the database's and the snapshot's pages dropped from the page cache
    for path in files():
        descriptor = os.open(path, os.O_RDONLY)
        try:
            os.fsync(descriptor) if path.suffix != ".npy" else None
            os.posix_fadvise(descriptor, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(descriptor)
    cached = _cached_mb(files())
    server = Server(url, key, env)
    print(f"\n{_stamp()} cold start from the snapshot (page cache of the {len(files())} files dropped first,"
          f" {cached:,.0f} MB of them still cached): {server.started:.1f} s; RSS {server.rss_mb():,.0f} MB;"
          f" load {_load()}", flush=True)
    try:
        cold, cold_found = timed_lookups(server, queries[:lookups], rng.permutation(lookups))
    finally:
        server.stop()
    cold_hits = sum(expected[i] in cold_found[i] for i in range(lookups))
    print(f"  first {lookups} planted lookups after the cold start:"
          f" p50 {np.percentile(cold, 50) * 1e3:.2f} ms"
          f" p99 {np.percentile(cold, 99) * 1e3:.2f} ms; found {cold_hits}/{lookups}")

    # the same-run baseline, with no server running: numpy brute force over the whole bank
    sample = rng.choice(len(queries), baseline, replace=False)
    brute, near = np.zeros(baseline), [set() for _ in sample]
    for start in range(0, held, 10_000_000):  # a 10M-row slice in memory at a time (0.3 GB)
        words = np.array(bank[start : start + 10_000_000]).view(np.uint64)
        for k, i in enumerate(sample):
            brute[k] += brute_force_seconds(words, queries[i])  # the timed scan, slice by slice
            distances = np.bitwise_count(words ^ queries[i].view(np.uint64)).sum(axis=1, dtype=np.uint16)
            near[k].update((np.flatnonzero(distances <= MATCH_DISTANCE) + start + 1).tolist())
        del words
    exact = sum(near[k] == set(found[i]) for k, i in enumerate(sample))
    b50, b99 = np.percentile(brute, 50) * 1e3, np.percentile(brute, 99) * 1e3
    print(f"\nbaseline, numpy brute force in process (server stopped), {baseline} of the queries:"
          f" p50 {b50:.0f} ms p99 {b99:.0f} ms;"
          f" the API's matches equal the brute force's on {exact}/{baseline}")
    print(f"  API p99 {np.percentile(api, 99) * 1e3:.2f} ms: {b99 / (np.percentile(api, 99) * 1e3):,.1f}x"
          f" faster than the brute force's p99 (target p99 <= 5 ms)")
    print(f"{_stamp()} load average at the end {_load()}")


def index_alone(folder: Path, count: int) -> None:
    """The server's index without the server: the snapshot mapped in this process (as the server maps
    it), ``count`` random lookups in one ``search_many`` and 500 one by one, CPU time a lookup."""
    from stanch.index.hamming_index import HammingIndex
    from stanch.matching.snapshot import SnapshotDir

    root = folder / "snapshots"
    snapshot = SnapshotDir(root, next(root.iterdir()).name).read()
    assert snapshot is not None
    index = HammingIndex.from_segment(snapshot.bases[1])
    base = index.base
    table = base.table
    tables = "no tables"
    if table is not None:
        tables = f"{len(table.offsets)} tables of {len(table.offsets[0]) - 1:,} buckets"
    rng = np.random.default_rng(9)
    queries = rng.integers(0, 256, (count, 32), dtype=np.uint8)
    index.search_many(queries[:200], MATCH_DISTANCE)  # page the files in
    started = time.process_time()
    index.search_many(queries, MATCH_DISTANCE)
    batched = (time.process_time() - started) / count
    started = time.process_time()
    for query in queries[:500]:
        index.search(query.tobytes(), MATCH_DISTANCE)
    single = (time.process_time() - started) / 500
    print(f"{_stamp()} the index alone, in this process, {len(base.ids):,} rows ({tables}):"
          f" CPU {batched * 1e3:.2f} ms a lookup in a batch of {count:,},"
          f" {single * 1e3:.2f} ms one by one; load {_load()}")


def planted_rows(rng: np.random.Generator, bank: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The banked hashes of ``rows`` with 1 to 31 random bits flipped."""
    bits = np.unpackbits(np.asarray(bank[rows]), axis=1)
    for row, flips in zip(bits, rng.integers(1, 32, len(rows)), strict=True):
        row[rng.choice(256, flips, replace=False)] ^= 1
    return np.packbits(bits, axis=1)


def timed_lookups(
    server: Server, queries: np.ndarray, order: np.ndarray
) -> tuple[np.ndarray, list[list[int]]]:
    """Per query, in the given order: seconds of ``POST /v1/match`` (new connection) and the entries."""
    seconds, found = np.zeros(len(queries)), [[] for _ in queries]
    for i in order:
        started = time.perf_counter()
        status, verdict = server.request("POST", "/v1/match", {"pdq": queries[i].tobytes().hex()})
        seconds[i] = time.perf_counter() - started
        assert status == 200, verdict
        found[i] = [int(m["entry"]) for m in verdict["matches"]]
    return seconds, found


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far (/proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _cached_mb(paths: list[Path]) -> float:
    """MB of these files in the page cache (util-linux ``fincore``)."""
    out = subprocess.run(["fincore", "--bytes", "--noheadings", "--output", "RES", *map(str, paths)],
                         capture_output=True, text=True, check=True).stdout
    return sum(int(line) for line in out.split()) / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--keep", type=Path, required=True, help="the folder of the database (reused)")
    parser.add_argument("--hashes", type=int, default=100_000_000)
    parser.add_argument("--part", type=int, default=5_000_000, help="hashes per stanch bank import")
    parser.add_argument("--product-parts", type=int, default=1,
                        help="parts imported with stanch bank import; the later ones with bulk SQL")
    parser.add_argument("--verify", action="store_true",
                        help="compare the bulk SQL with stanch bank import on 2,000 lines, then stop")
    parser.add_argument("--measure", action="store_true", help="measure the server on the built database")
    parser.add_argument("--index-alone", action="store_true",
                        help="time the snapshot's index in this process, without the server")
    parser.add_argument("--lookups", type=int, default=1000, help="planted hits, and as many misses")
    parser.add_argument("--baseline", type=int, default=20, help="queries brute-forced (100M: ~2 s each)")
    parser.add_argument("--adds", type=int, default=10, help="adds timed until matchable, per way")
    parser.add_argument("--warmup", type=int, default=0,
                        help="untimed lookups (in batches) before the timed ones")
    args = parser.parse_args()
    print(f"{_stamp()} load average {_load()} on {os.cpu_count()} CPUs", flush=True)
    if args.verify:
        verify(args.keep)
        return
    if args.index_alone:
        index_alone(args.keep, 2000)
        return
    if args.measure:
        measure(args.keep, args.lookups, args.baseline, args.adds, args.warmup)
        return
    held = build(args.keep, args.hashes, args.part, args.product_parts)
    print(f"{_stamp()} the bank holds {held:,} hashes; load average {_load()}")


if __name__ == "__main__":
    main()
