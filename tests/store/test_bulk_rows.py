"""``copy_rows`` on SQLite writes with one ``INSERT ... SELECT`` over JSON (constant columns bound once,
consecutive ids computed, ``pdq`` bytes through a temporary table) and must store exactly what binding
row by row stores: the same values of the same SQLite types, in the same order. Imports on both
databases are covered by tests/exchange/test_import_export.py; this checks the SQLite path's edge
cases value by value."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

import pytest

from stanch.store.bulk import _insert_each, _insert_from_json

COLUMNS = ("id", "n", "r", "t", "b", "flag", "pdq")
TABLE = "CREATE TABLE {name} (seq INTEGER PRIMARY KEY, id INTEGER, n SMALLINT, r FLOAT, t VARCHAR(40),"\
        " b BLOB, flag BOOLEAN, pdq BLOB)"


def _stored(rows: list[tuple[object, ...]], columns: tuple[str, ...] = COLUMNS) -> tuple[list, list]:
    connection = sqlite3.connect(":memory:")
    dumps = []
    for name, insert in (("each", _insert_each), ("json", _insert_from_json)):
        connection.execute(TABLE.format(name=name))
        cursor = connection.cursor()
        assert insert(cursor, name, columns, rows) is not False
        picks = ", ".join(f"{c}, typeof({c})" for c in ("seq", *columns))
        dumps.append(connection.execute(f"SELECT {picks} FROM {name} ORDER BY seq").fetchall())
    return dumps[0], dumps[1]


CASES = {
    "an import's batch: consecutive ids, constants, NULLs, hashes": [
        (10 + i, None, None, "list", None, True, bytes([i]) * 32) for i in range(5)
    ],
    "everything varies": [
        (3, 1, 1.5, "a", None, True, b"\x00" * 32), (1, None, 2.0, "é 🙂 \"q\" \\", None, False, None),
        (7, 300, -0.25, "", None, True, b"\xff" * 32), (2, 5, 1e300, "12", None, False, b"\x01" * 32),
    ],
    "a single row": [(1, 2, 3.0, "x", None, False, b"\x02" * 32)],
    "text that looks like numbers and numbers of mixed types": [
        (1, 1, 1, "1", None, 1, None), (2, 1, 1.0, "1.0", None, True, None), (3, 2, 2, "null", None, 0, None),
    ],
    "no pdq given at all": [(i, i, None, "k", None, None, None) for i in range(1, 4)],
}


@pytest.mark.parametrize("case", list(CASES))
def test_the_json_insert_stores_what_row_by_row_binding_stores(case: str) -> None:
    each, json_rows = _stored(CASES[case])
    assert json_rows == each and len(each) == len(CASES[case])


def test_a_change_feed_batch_keeps_its_order() -> None:
    rows = [(1, 40 + i, "add") for i in range(6)]
    connection = sqlite3.connect(":memory:")
    connection.execute("CREATE TABLE feed (seq INTEGER PRIMARY KEY, bank_id INTEGER, entry_id INTEGER,"
                       " op TEXT)")
    assert _insert_from_json(connection.cursor(), "feed", ("bank_id", "entry_id", "op"), rows)
    assert connection.execute("SELECT seq, bank_id, entry_id, op FROM feed ORDER BY seq").fetchall() == [
        (i + 1, 1, 40 + i, "add") for i in range(6)
    ]


@pytest.mark.parametrize("bad", [datetime(2026, 1, 1, tzinfo=UTC), float("nan"), b"bytes outside pdq"])
def test_values_json_cannot_carry_write_nothing_and_leave_it_to_binding(bad: object) -> None:
    connection = sqlite3.connect(":memory:")
    connection.execute(TABLE.format(name="t"))
    rows = [(1, 1, 1.0, "a", None, True, None), (2, 2, 2.0, "b", None, True, None)]
    at = 4 if isinstance(bad, bytes) else 2  # the blob column b, or the float column r
    rows[1] = (*rows[1][:at], bad, *rows[1][at + 1 :])
    assert _insert_from_json(connection.cursor(), "t", COLUMNS, rows) is False
    assert connection.execute("SELECT count(*) FROM t").fetchone() == (0,)
