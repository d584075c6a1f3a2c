"""A request from /report is located as soon as it is stored, as API requests are (not a minute later by
the desk's ticker): its reported location is already an item when the receipt is shown."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from stanch.api.app import create_app
from stanch.desk.cases import find_request
from stanch.desk.ticker import TICK_SECONDS
from stanch.store import Database
from stanch.store.desk_models import RequestItem
from tests.api.conftest import encoded, picture


def test_a_report_is_located_before_the_receipt(database: Database, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    (catalog / "post-1.png").write_bytes(encoded(picture(4)))
    monkeypatch.setenv("STANCH_CATALOG_DIR", str(catalog))
    assert TICK_SECONDS >= 60  # the ticker's first round is a minute away: only locating at once can pass
    with TestClient(create_app(db=database, poll_interval=0.05)) as client:
        token = re.search(r'name="form_token" value="([^"]+)"', client.get("/report").text)
        assert token
        response = client.post("/report", data={
            "form_token": token.group(1), "relationship": "self", "name": "Sam", "email": "sam@example.org",
            "locations": "post-1.png\n", "good_faith": "yes", "signature": "Sam Example",
        })
        assert response.status_code == 200, response.text
        case = re.search(r'id="case-id">([^<]+)<', response.text)
        assert case
        with database.read() as session:
            request = find_request(session, case.group(1))
            items = session.scalars(select(RequestItem.item_id).where(RequestItem.request_id == request.id))
            assert list(items) == ["post-1.png"]
