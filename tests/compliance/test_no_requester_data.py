"""No statement of reasons, webhook, DSA database batch or export (the transparency report in md and
json, the harmonised dsa-csv rows, a minor's case export) carries the requester's name, contact,
signature, statement or secret code: each text is searched for them (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from stanch.desk.cases import find_request
from stanch.desk.decisions import decide
from stanch.desk.dsa import queue_batches
from stanch.desk.harmonised import Period, as_csv, rows
from stanch.desk.intake import file_request, validate
from stanch.desk.locate import LocatedItem, attach_item
from stanch.desk.minors import report_export
from stanch.desk.report import as_json_text, monthly, report_markdown
from stanch.store import Database, utcnow
from stanch.store.compliance_models import Statement
from stanch.store.outbox_models import OutboxMessage
from tests.desk.factory import request_body

PEOPLE = [
    {"requester": {"name": "Wren Hollowmere", "email": "wren.hollow@example.org"}, "phone": "+44 7700 900555",
     "contact": "Signal: wrenhollowchat", "signature": "Wren Hollowmere",
     "statement": "Ashgrove pictures were posted without my consent", "explanation": "Marrowbyte forum"},
    {"requester": {"name": "Tamsin Oakrell", "email": "tamsin.oak@example.org"}, "phone": "+1 202 555 0199",
     "contact": "PO Box Quillstead", "signature": "Tamsin Oakrell", "under_18": True,
     "statement": "Brindlecove photos of me at fifteen shared without consent", "explanation": "Vexholm"},
]
SECRETS = ["Hollowmere", "wren.hollow", "7700 900555", "wrenhollowchat", "Ashgrove", "Marrowbyte",
           "Oakrell", "tamsin.oak", "555 0199", "Quillstead", "Brindlecove", "Vexholm"]


@pytest.fixture
def removed(database: Database, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Two removed cases (one a minor's), each with a located item and a copy; the DSA database on."""
    monkeypatch.setenv("STANCH_DSA_TDB_URL", "https://tdb.example.org")
    monkeypatch.setenv("STANCH_DSA_TDB_TOKEN", "token")
    monkeypatch.setenv("STANCH_WEBHOOK_URL", "https://platform.example/hooks")
    now = utcnow()
    found = []
    for n, person in enumerate(PEOPLE):
        with database.write() as session:
            receipt, request = file_request(session, validate(request_body(
                **person, locations=[f"https://platform.example/p/{n}"], hashes=[{"md5": f"{n + 1:032x}"}])),
                now=now)
            attach_item(session, request, LocatedItem(f"post-{n}", {"md5": f"{n + 1:032x}"}),
                        origin="located", actor="system", now=now)
            attach_item(session, request, LocatedItem(f"copy-{n}", {"md5": f"{n + 1:032x}"}), origin="copy",
                        actor="system", now=now)
            decide(session, request, "remove", None, actor="user:reviewer", now=now + timedelta(hours=1))
            found.append(receipt.token)
            found.append(receipt.id)
    with database.write() as session:
        queue_batches(session, now + timedelta(hours=2))
    return found


def test_no_text_that_leaves_the_desk_names_or_reaches_the_requester(database: Database,
                                                                     removed: list[str]) -> None:
    tokens = removed[0::2]
    texts: dict[str, str] = {}
    with database.write() as session:
        for s in session.scalars(select(Statement)):
            texts[f"statement {s.public_id}"] = json.dumps([s.text, s.facts, s.redress, s.law])
        for m in session.scalars(select(OutboxMessage).where(OutboxMessage.kind.in_(("webhook", "dsa")))):
            texts[f"{m.kind} {m.type} {m.id}"] = m.payload
        figures = monthly(session)
        texts["report md"], texts["report json"] = report_markdown(figures), as_json_text(figures)
        today = utcnow().date()
        period = Period(date(today.year, 1, 1), date(today.year, 12, 31))
        texts["dsa-csv"] = as_csv(rows(session, period), period)
        minor = find_request(session, removed[3])
        texts["minor export"] = json.dumps(report_export(session, minor, "user:reviewer", utcnow()))
    kinds = [name.split(" ")[:2] for name in texts]
    assert kinds.count(["webhook", "statement.created"]) == 4 and kinds.count(["webhook", "remove_item"]) == 4
    assert any(kind == "dsa" for kind, *_ in kinds) and [k for k, *_ in kinds].count("statement") == 4
    assert "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL" in texts["dsa-csv"]
    for name, text in texts.items():
        for secret in [*SECRETS, *tokens]:
            assert secret.lower() not in text.lower(), f"{name} carries {secret!r}"
