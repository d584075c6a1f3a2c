"""SQLite rows written by ``copy_rows`` two ways, in the same run: bound row by row (``executemany``,
the baseline) and with one ``INSERT ... SELECT`` over JSON (what ``stanch.store.bulk`` now does).

The rows are what ``stanch bank import`` writes for a list of bare PDQ hashes (``entries``,
``entry_hashes``, ``bank_changes``), in batches of 20,000 as ``EntryWriter`` writes them, into a fresh
migrated SQLite database per run (WAL, the store's pragmas), committed. Each way runs twice,
alternating; printed: wall and CPU seconds per table, and the CPU ratio (CPU time: the machine is
shared, wall time moves with the load).

    python benchmarks/bulk_rows.py [--rows 300000]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path

from stanch.store import create_bank, open_database
from stanch.store.bulk import _insert_each, _insert_from_json

BATCH = 20_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=300_000)
    n = parser.parse_args().rows
    created = "2026-12-03 14:15:43.804324"
    tables = {
        "entries": (
            ("id", "bank_id", "kind", "pdq", "quality", "md5", "sha256", "duration", "source", "request_id",
             "import_id", "external_list", "external_id", "trust", "created", "expires"),
            [(i + 1, 1, "image", os.urandom(32), None, None, None, None, "l.txt", None, 1, "l.txt",
              os.urandom(32).hex(), "block", created, None) for i in range(n)],
        ),
        "entry_hashes": (
            ("entry_id", "bank_id", "role", "pdq", "quality", "indexed"),
            [(i + 1, 1, "original", os.urandom(32), None, True) for i in range(n)],
        ),
        "bank_changes": (("bank_id", "entry_id", "op"), [(1, i + 1, "add") for i in range(n)]),
    }  # fmt: skip
    print(f"{n:,} rows a table; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory() as folder:
        template = Path(folder, "template.db")
        db = open_database(f"sqlite:///{template}")
        with db.write() as session:
            create_bank(session, "bench")
        db.dispose()
        for table, (columns, rows) in tables.items():
            cpu: dict[str, list[float]] = {"row by row": [], "json": []}
            for name, insert in [("row by row", _insert_each), ("json", _insert_from_json)] * 2:
                path = Path(folder, "run.db")
                shutil.copyfile(template, path)
                assert not Path(f"{path}-wal").exists()
                connection = sqlite3.connect(path, isolation_level=None)
                for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "cache_size=-65536"):
                    connection.execute(f"PRAGMA {pragma}")
                connection.execute("BEGIN")
                cursor = connection.cursor()
                wall, started = time.perf_counter(), time.process_time()
                for start in range(0, n, BATCH):
                    insert(cursor, table, columns, rows[start : start + BATCH])
                connection.execute("COMMIT")
                cpu[name].append(time.process_time() - started)
                print(f"  {table:13s} {name:10s} {time.perf_counter() - wall:6.2f} s wall"
                      f" {cpu[name][-1]:6.2f} s CPU")
                connection.close()
                for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
                    leftover.unlink(missing_ok=True)
            print(f"  {table}: JSON takes {min(cpu['json']) / min(cpu['row by row']):.2f}x the CPU of"
                  " row by row (best of two each)")
    print(f"load average at the end {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
