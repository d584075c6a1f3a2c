"""How long the audit log takes to append to and to verify, on SQLite (and PostgreSQL with --pg-url).

For N events the run prints: appending them one transaction each (as the desk does: every view,
unblur or decision commits its own event), against the baseline of committing one plain row per
transaction (an outbox row); and ``verify`` over the whole chain, against the baseline of reading
the same rows with no hashing. ``verify``'s events/s says how long
``stanch audit verify`` takes on a log of a given size.

    python benchmarks/audit_chain.py [--events N] [--pg-url postgresql://127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import sqlalchemy
from sqlalchemy import select
from sqlalchemy.engine import make_url

from stanch.actions import enqueue_webhook
from stanch.desk.audit import record, verify
from stanch.store import Database, normalize_url, open_database
from stanch.store.audit_models import AuditEvent


def measure(db: Database, events: int) -> None:
    start = time.perf_counter()
    for n in range(events):
        with db.write() as session:
            enqueue_webhook(session, "remove_item", {"item_id": f"p/{n}"})
    plain = time.perf_counter() - start

    start = time.perf_counter()
    for n in range(events):
        with db.write() as session:
            record(session, "user:reviewer", "view", ("request", n % 500), {"page": "case", "n": n})
    appended = time.perf_counter() - start

    with db.read() as session:
        baseline = float("inf")
        for _ in range(2):  # the first read also warms the connection and the page cache
            start = time.perf_counter()
            rows = len(session.execute(select(*AuditEvent.__table__.columns)).all())
            baseline = min(baseline, time.perf_counter() - start)
        start = time.perf_counter()
        result = verify(session)
        verified = time.perf_counter() - start
    assert result.ok and result.events == rows == events
    print(f"  append, one transaction each: {events / appended:9,.0f} events/s "
          f"({appended / plain:.2f}x the time of the plain row)")
    print(f"  baseline, one plain row each: {events / plain:9,.0f} rows/s")
    print(f"  verify:                       {events / verified:9,.0f} events/s "
          f"({verified:.2f} s; {verified / baseline:.1f}x the plain read)")
    print(f"  baseline, read rows only:     {events / baseline:9,.0f} events/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--pg-url", default=None, help="also measure on this PostgreSQL server")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        print(f"SQLite, {args.events:,} events")
        db = open_database(f"sqlite:///{Path(folder) / 'audit.db'}")
        measure(db, args.events)
        db.dispose()
    if args.pg_url:
        server = make_url(normalize_url(args.pg_url))
        admin = sqlalchemy.create_engine(server, isolation_level="AUTOCOMMIT")
        name = f"stanch_bench_{os.urandom(4).hex()}"
        with admin.connect() as connection:
            connection.exec_driver_sql(f"CREATE DATABASE {name}")
        try:
            print(f"PostgreSQL, {args.events:,} events")
            db = open_database(server.set(database=name).render_as_string(hide_password=False))
            measure(db, args.events)
            db.dispose()
        finally:
            with admin.connect() as connection:
                connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            admin.dispose()


if __name__ == "__main__":
    main()
