"""``stanch desk tick`` escalates due requests once and locates reported content from the catalog."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from stanch.cli import app as cli
from stanch.desk.intake import file_request, validate
from stanch.store import Database, utcnow
from stanch.store.desk_models import RequestItem
from tests.api.conftest import encoded, picture
from tests.desk.factory import request_body


def test_tick_escalates_and_locates(database: Database, db_url: str, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a.png").write_bytes(encoded(picture(3)))
    monkeypatch.setenv("STANCH_DATABASE_URL", db_url)
    monkeypatch.setenv("STANCH_CATALOG_DIR", str(tmp_path))
    with database.write() as session:
        receipt, _ = file_request(session, validate(request_body(locations=["a.png"])),
                                  now=utcnow() - timedelta(hours=25))
    first = CliRunner().invoke(cli, ["desk", "tick"])
    assert first.exit_code == 0, first.output
    assert f"escalated {receipt.id}: 24 h elapsed" in first.output and "1 items located" in first.output
    again = CliRunner().invoke(cli, ["desk", "tick"])
    assert "0 escalations, 0 items located" in again.output
    with database.read() as session:
        assert session.scalars(select(RequestItem.item_id)).all() == ["a.png"]
