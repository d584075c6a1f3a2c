"""The transparency report counts items as well as cases: a case removed in part is one removed case,
with its items removed and refused counted in the month they were decided, and items put back on appeal
in the month of the appeal's decision."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from stanch.desk.appeals import decide_appeal, file_appeal
from stanch.desk.cases import find_request
from stanch.desk.decisions import ItemChoice, decide_items
from stanch.desk.intake import file_request, validate
from stanch.desk.locate import LocatedItem, attach_item
from stanch.desk.report import monthly, report_markdown
from stanch.store import Database
from tests.desk.factory import picture_record, request_body

NOV = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
DEC = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)


def test_items_are_counted_beside_cases(database: Database) -> None:
    with database.write() as session:
        receipt, request = file_request(session, validate(request_body(locations=["a", "b", "c"])), now=NOV)
        for n, place in enumerate("abc"):
            attach_item(session, request, LocatedItem(f"post/{n}", picture_record(40 + n)), origin="located",
                        actor="key:1", now=NOV, location=place)
    with database.write() as session:
        request = find_request(session, receipt.id)
        decide_items(session, request, [ItemChoice("post/0", "remove"), ItemChoice("post/1", "remove"),
                                        ItemChoice("post/2", "reject", "Not the requester.")],
                     actor="user:one", now=NOV + timedelta(hours=3))
    with database.write() as session:
        _, appeal = file_appeal(session, {"item_id": "post/1", "statement": "mine",
                                          "appellant": {"name": "U", "email": "u@example.org"}}, now=DEC)
        decide_appeal(session, appeal, "reinstate", "Consent shown.", actor="user:two",
                      now=DEC + timedelta(hours=1))
    with database.read() as session:
        nov, dec = monthly(session)
    assert nov.by_outcome["removed"] == 1 and nov.decided == 1
    assert (nov.items_removed, nov.items_refused, nov.items_reinstated) == (2, 1, 0)
    assert (dec.items_removed, dec.items_refused, dec.items_reinstated, dec.reversals) == (0, 0, 1, 1)
    table = report_markdown([nov, dec])
    assert "items removed | items refused | items reinstated |" in table
    assert table.splitlines()[4].endswith("| 2 | 1 | 0 |") and table.splitlines()[5].endswith("| 0 | 0 | 1 |")
