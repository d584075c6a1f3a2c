"""Fast row writing for imports of millions of hashes: ``COPY`` on PostgreSQL, ``executemany`` on SQLite.

Both run on the caller's connection, inside its transaction: an import that fails half-way leaves
nothing behind. Values must already be in the form the driver expects (see ``db_time``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from stanch.store.engine import is_postgresql


def copy_rows(
    connection: Connection, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Insert ``rows`` (tuples in ``columns`` order) into ``table``."""
    if not rows:
        return
    names = ", ".join(columns)
    cursor = connection.connection.cursor()
    try:
        if is_postgresql(connection):
            with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" for _ in columns)
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)
    finally:
        cursor.close()


def allocate_ids(connection: Connection, table: str, count: int) -> list[int]:
    """``count`` fresh primary keys for ``table``, so that child rows can be written with them.

    PostgreSQL draws them from the table's sequence. SQLite continues after the largest id: safe
    because a Stanch write transaction holds SQLite's write lock from its first statement.
    """
    if count <= 0:
        return []
    if is_postgresql(connection):
        result = connection.exec_driver_sql(
            f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, %(n)s)",
            {"n": count},
        )
        return [row[0] for row in result]
    start = connection.exec_driver_sql(f"SELECT coalesce(max(id), 0) + 1 FROM {table}").scalar_one()
    return list(range(start, start + count))


def db_time(connection: Connection, moment: datetime | None) -> Any:
    """A timestamp as the raw driver wants it: aware for psycopg, SQLAlchemy's UTC text for SQLite."""
    if moment is None:
        return None
    moment = moment.astimezone(UTC)
    if is_postgresql(connection):
        return moment
    return moment.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
