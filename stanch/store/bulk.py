"""Fast row writing for imports of millions of hashes: ``COPY`` on PostgreSQL, ``INSERT ... SELECT``
over ``json_each`` on SQLite (``executemany`` for rows JSON cannot carry).

Both run on the caller's connection, inside its transaction: an import that fails half-way leaves
nothing behind. Values must already be in the form the driver expects (see ``db_time``).
"""

from __future__ import annotations

import json
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
        elif not _insert_from_json(cursor, table, columns, rows):
            _insert_each(cursor, table, columns, rows)
    finally:
        cursor.close()


def _insert_each(cursor: Any, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    marks = ", ".join("?" for _ in columns)
    cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)


def _insert_from_json(cursor: Any, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> bool:
    """SQLite: one ``INSERT ... SELECT`` instead of ``executemany`` (binding every value of every row
    from Python was most of an import's time in SQLite). A column whose values are all the same
    (bank, list, trust, time, NULLs) is bound once; consecutive integers (the ids ``allocate_ids``
    gives) are computed from the row's position; a ``pdq`` column (bytes, which JSON cannot carry)
    goes first into a temporary table, one value a row, joined back by position; the other columns
    come from ``json_each`` of one JSON array. Rows go in in their order (a change's ``seq`` follows
    its entry's id). JSON keeps what the driver stores: text, integers, floats, NULL; a boolean
    becomes 1 or 0 as a bound one does. False, having written nothing, when a value is not JSON's (a
    date, NaN, bytes outside ``pdq``): the caller then binds row by row."""
    count = len(rows)
    values = list(zip(*rows, strict=True))
    params: list[Any] = []
    picks: list[str] = []
    varying: list[int] = []
    ranges: list[int] = []
    blob = None
    for index, column in enumerate(values):
        first = column[0]
        if columns[index] == "pdq":
            if any(v is not None and not isinstance(v, bytes) for v in column):
                return False
            blob = index
            picks.append("copy_blobs.value")
        elif len(set(map(type, column))) == 1 and column.count(first) == count:
            picks.append("?")
            params.append(first)
        elif type(first) is int and all(type(v) is int for v in column) and list(column) == list(
            range(first, first + count)
        ):
            picks.append("? + rows.key")
            params.append(first)
            ranges.append(index)
        else:
            picks.append("")
            varying.append(index)
    if not varying and blob is None:
        varying, ranges = ranges[:1], ranges[1:]  # json_each needs one array to count the rows by
        if varying:
            params.pop(sum(1 for p in picks[: varying[0]] if p.startswith("?")))
    try:
        if len(varying) == 1:
            payload = json.dumps(values[varying[0]], ensure_ascii=False, allow_nan=False)
            picks[varying[0]] = "rows.value"
        else:
            payload = json.dumps(
                [[row[i] for i in varying] for row in rows] if varying else [0] * count,
                ensure_ascii=False, allow_nan=False, separators=(",", ":"),
            )
            for at, index in enumerate(varying):
                picks[index] = f"rows.value ->> {at}"
    except (TypeError, ValueError):
        return False
    source = "json_each(?) AS rows"
    if blob is not None:
        cursor.execute("CREATE TEMP TABLE IF NOT EXISTS copy_blobs (n INTEGER PRIMARY KEY, value BLOB)")
        cursor.execute("DELETE FROM copy_blobs")
        cursor.executemany("INSERT INTO copy_blobs (n, value) VALUES (?, ?)", enumerate(values[blob]))
        source += " CROSS JOIN copy_blobs ON copy_blobs.n = rows.key"  # CROSS: json_each stays outer
    cursor.execute(
        f"INSERT INTO {table} ({', '.join(columns)})"
        f" SELECT {', '.join(picks)} FROM {source} ORDER BY rows.key",
        (*params, payload),
    )
    if blob is not None:
        cursor.execute("DELETE FROM copy_blobs")
    return True


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
