"""Statements of reasons: one per removed item, sent in a ``statement.created`` webhook, shown on the
case, accepted by the appeal form, and never carrying the requester's identity (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from stanch.desk.appeals import file_appeal
from stanch.desk.cases import reviewer_view
from stanch.desk.decisions import decide
from stanch.desk.intake import file_request, validate
from stanch.desk.locate import LocatedItem, attach_item
from stanch.desk.statements import StatementSettings, write_statement
from stanch.store import Database, utcnow
from stanch.store.compliance_models import Statement
from stanch.store.desk_models import Appeal, RequestItem, TakedownRequest
from stanch.store.outbox_models import OutboxMessage
from tests.desk.factory import request_body
from tests.schema_check import assert_migration_matches_model

REQUESTER = {"name": "Robin Quillfeather", "email": "robin.quill@example.org", "phone": "+44 7700 900123"}
PERSONAL = ("Robin", "Quillfeather", "robin.quill", "7700 900123", "published without my consent")


def _removed_case(database: Database) -> str:
    """A request with a located item and a copy, removed by a reviewer; a second copy found after."""
    now = utcnow()
    with database.write() as session:
        _, request = file_request(session, validate(request_body(requester=REQUESTER)), now=now)
        attach_item(session, request, LocatedItem("post-1", {"pdq": "f" * 64}), origin="located",
                    actor="system", now=now)
        attach_item(session, request, LocatedItem("post-2", {"pdq": "f" * 63 + "e"}), origin="copy",
                    actor="system", now=now)
        decide(session, request, "remove", None, actor="user:reviewer", now=now)
        attach_item(session, request, LocatedItem("post-3", {"pdq": "f" * 62 + "ee"}), origin="copy",
                    actor="system", now=now + timedelta(hours=1))
        return request.public_id


def _statements(session: Session) -> dict[str, Statement]:
    return {s.item_id: s for s in session.scalars(select(Statement))}


def test_the_table_matches_its_migration(database: Database) -> None:
    assert_migration_matches_model(database, Statement)


def test_every_removed_item_gets_one_statement_with_its_flags(database: Database) -> None:
    _removed_case(database)
    with database.read() as session:
        statements = _statements(session)
        assert set(statements) == {"post-1", "post-2", "post-3"}
        flags = {item: (s.automated_detection, s.automated_decision) for item, s in statements.items()}
        assert flags == {"post-1": (False, False), "post-2": (True, False), "post-3": (True, True)}
        located = statements["post-1"]
        assert located.ground == "illegal" and "TAKE IT DOWN Act" in located.text
        assert "/appeal" in located.redress and located.public_id in located.redress
        assert "not used to find" in located.text and "used to find" in statements["post-2"].text


def test_each_statement_reaches_the_platform_in_a_statement_created_webhook(database: Database) -> None:
    _removed_case(database)
    with database.read() as session:
        statements = _statements(session)
        hooks = [json.loads(m.payload) for m in session.scalars(
            select(OutboxMessage).where(OutboxMessage.type == "statement.created"))]
    assert sorted(h["item_id"] for h in hooks) == ["post-1", "post-2", "post-3"]
    for hook in hooks:
        assert hook["text"] == statements[hook["item_id"]].text
        assert hook["statement_id"] == statements[hook["item_id"]].public_id


def test_no_statement_or_webhook_carries_the_requester(database: Database) -> None:
    _removed_case(database)
    with database.read() as session:
        texts = [json.dumps([s.text, s.facts, s.redress, s.law]) for s in session.scalars(select(Statement))]
        hooks = select(OutboxMessage).where(OutboxMessage.kind == "webhook")
        texts += [m.payload for m in session.scalars(hooks)]
    assert len(texts) >= 6
    for text in texts:
        for personal in PERSONAL:
            assert personal.lower() not in text.lower(), personal


def test_a_statement_is_written_once_per_item(database: Database) -> None:
    _removed_case(database)
    with database.write() as session:
        request = session.scalars(select(TakedownRequest)).one()
        item = session.scalars(select(RequestItem).where(RequestItem.item_id == "post-1")).one()
        first = _statements(session)["post-1"]
        assert write_statement(session, request, item, utcnow()).id == first.id
        assert len(_statements(session)) == 3


def test_the_terms_ground_names_the_platforms_terms(database: Database) -> None:
    settings = StatementSettings.from_env({"STANCH_STATEMENT_GROUND": "terms",
                                           "STANCH_STATEMENT_LAW": "section 4.2 of our community rules"})
    with database.write() as session:
        _, request = file_request(session, validate(request_body()), now=utcnow())
        item = attach_item(session, request, LocatedItem("post-9", {"pdq": "f" * 64}), origin="located",
                           actor="system", now=utcnow())
        statement = write_statement(session, request, item, utcnow(), settings)
    assert statement.ground == "terms"
    assert "not allowed under section 4.2 of our community rules" in statement.text


def test_a_bad_ground_setting_names_the_choices() -> None:
    with pytest.raises(ValueError, match="illegal, terms"):
        StatementSettings.from_env({"STANCH_STATEMENT_GROUND": "vibes"})


def test_the_case_page_view_lists_the_statements(database: Database) -> None:
    case = _removed_case(database)
    with database.write() as session:
        request = session.scalars(select(TakedownRequest).where(TakedownRequest.public_id == case)).one()
        view = reviewer_view(session, request, "user:reviewer", utcnow())
    assert sorted(s["item_id"] for s in view["statements"]) == ["post-1", "post-2", "post-3"]


def test_an_appeal_with_a_statement_number_names_its_item(database: Database) -> None:
    _removed_case(database)
    with database.read() as session:
        number = _statements(session)["post-2"].public_id
    with database.write() as session:
        body = {"case_id": number.lower(), "appellant": {"name": "Uploader", "email": "up@example.net"},
                "statement": "This is my own picture."}
        _, appeal = file_appeal(session, body, now=utcnow())
        assert appeal.item_id == "post-2"
    with database.read() as session:
        assert session.scalars(select(Appeal)).one().item_id == "post-2"
