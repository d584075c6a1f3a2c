"""How fast ``stanch bank import`` takes a plain PDQ list, on SQLite and on PostgreSQL.

Target: 1,000,000 hex lines in at most 60 s. For each database the run prints the import time, the
time to stream the imported hashes back as the index loads them (``iter_index_batches``), and, as
the baseline measured in the same run, the time just to read and validate the lines
(``pdq_lines.parse`` with nothing stored).

    python benchmarks/import_hashes.py [--lines N] [--pg-url postgresql://127.0.0.1:5432/test]

Wall-clock times depend on what else the machine runs; the CPU seconds of this process (all the
work for SQLite, the client's share for PostgreSQL) are printed too, with the load average.

The PostgreSQL run creates a throwaway database on that server and drops it afterwards; it is
skipped (with a note) when the server cannot be reached.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import sqlalchemy
from sqlalchemy.engine import make_url

from stanch.exchange import import_lines
from stanch.exchange.pdq_lines import parse
from stanch.store import create_bank, iter_index_batches, normalize_url, open_database

TARGET_SECONDS = 60.0


def write_hashes(path: Path, count: int) -> None:
    rng = np.random.default_rng(7)
    with path.open("w") as out:
        for start in range(0, count, 100_000):
            block = rng.integers(0, 256, size=(min(100_000, count - start), 32), dtype=np.uint8)
            out.writelines(row.tobytes().hex() + "\n" for row in block)


def parse_only(path: Path) -> float:
    started = time.perf_counter()
    with path.open() as lines:
        for _ in parse(lines, "bench", None):
            pass
    return time.perf_counter() - started


def measure(url: str, path: Path) -> tuple[float, float, float, int]:
    db = open_database(url)
    try:
        with db.write() as session:
            create_bank(session, "bench")
        started, cpu_started = time.perf_counter(), time.process_time()
        with db.write() as session, path.open() as lines:
            bank = create_bank(session, "bench-import")
            summary = import_lines(session, bank, lines, source=path.name, format="pdq")
        imported, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        started = time.perf_counter()
        with db.read() as session:
            streamed = sum(len(batch) for batch in iter_index_batches(session))
        streaming = time.perf_counter() - started
        return imported, cpu, streaming, summary.added if streamed == summary.added else -1
    finally:
        db.dispose()


@contextmanager
def throwaway_postgresql(server_url: str) -> Iterator[str | None]:
    server = make_url(normalize_url(server_url))
    admin = sqlalchemy.create_engine(server, isolation_level="AUTOCOMMIT")
    name = f"stanch_bench_{os.urandom(4).hex()}"
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f"CREATE DATABASE {name}")
    except sqlalchemy.exc.OperationalError as error:
        print(f"PostgreSQL skipped: cannot reach {server_url}: {error.orig}")
        yield None
        return
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument(
        "--pg-url", default=os.environ.get("STANCH_TEST_PG_URL", "postgresql://127.0.0.1:5432/test")
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        hashes = Path(folder) / "hashes.txt"
        write_hashes(hashes, args.lines)
        baseline = parse_only(hashes)
        print(
            f"{args.lines:,} PDQ hex lines; baseline (read and validate only): {baseline:.1f} s;"
            f" load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
        )
        with throwaway_postgresql(args.pg_url) as pg_url:
            targets = [("SQLite", f"sqlite:///{Path(folder) / 'bench.db'}")]
            targets += [("PostgreSQL", pg_url)] if pg_url else []
            for name, url in targets:
                imported, cpu, streamed, added = measure(url, hashes)
                per_million = imported * 1_000_000 / args.lines
                verdict = "met" if per_million <= TARGET_SECONDS else "MISSED"
                print(
                    f"{name:10} import {imported:6.1f} s ({args.lines / imported:,.0f} lines/s,"
                    f" {imported / baseline:.1f}x baseline; {per_million:.0f} s per million, target"
                    f" {TARGET_SECONDS:.0f} s: {verdict}); CPU of this process {cpu:.1f} s;"
                    f" index stream {streamed:5.1f} s for {added:,} rows"
                )


if __name__ == "__main__":
    main()
