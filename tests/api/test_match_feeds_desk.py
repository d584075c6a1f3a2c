"""``/v1/match`` with a file and an ``item_id`` feeds the desk as a sweep does: an upload matching a
removed case's entries becomes a copy of that case — removed at once within the bank's auto-remove rule,
else on the case's review list with a spooled preview of the upload (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from sqlalchemy import select

from stanch.store import create_bank
from stanch.store.desk_models import RequestItem
from stanch.store.outbox_models import OutboxMessage
from tests.api.conftest import Api, encoded
from tests.sweep.conftest import catalog_picture, file_case, remove_case


@pytest.fixture(autouse=True)
def spool_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "spool"
    monkeypatch.setenv("STANCH_SPOOL_DIR", str(folder))
    return folder


def _jpeg(seed: int, quality: int = 85) -> bytes:
    return encoded(catalog_picture(seed), "JPEG", quality=quality)


def _original(seed: int) -> bytes:
    """Picture ``seed`` as the case's own file (a PNG: the same bytes, the same MD5)."""
    return encoded(catalog_picture(seed))


def _match(api: Api, item_id: str | None, data: bytes) -> dict:
    query = "" if item_id is None else f"?item_id={item_id}"
    response = api.post(f"/v1/match{query}", "match", files={"file": ("upload.jpg", data, "image/jpeg")})
    assert response.status_code == 200, response.text
    return response.json()


def _copies(api: Api) -> dict[str, RequestItem]:
    with api.db.read() as session:
        rows = session.scalars(select(RequestItem).where(RequestItem.origin == "copy"))
        return {r.item_id: r for r in rows}


def _removals(api: Api) -> list[str]:
    with api.db.read() as session:
        rows = session.scalars(select(OutboxMessage).where(OutboxMessage.type == "remove_item"))
        return [json.loads(r.payload)["item_id"] for r in rows]


def test_a_named_upload_of_removed_content_becomes_a_copy_of_its_case(api: Api) -> None:
    with api.db.write() as session:  # only exact digests are removed at once; every PDQ match is reviewed
        create_bank(session, "cases", auto_remove="md5,sha256")
    number = file_case(api.db, 6)
    remove_case(api.db, number)
    api.client.app.state.stanch.follower.poll_after_commit()  # type: ignore[attr-defined]
    assert _match(api, "upload/1", _original(6))["action"] == "block"        # the same file
    assert _match(api, "upload/2", _jpeg(6, quality=40))["matched"]            # a re-encoded copy
    assert _match(api, None, _jpeg(6, quality=60))["matched"]  # no item id: nothing to attach
    assert not _match(api, "upload/3", _jpeg(9))["matched"]    # another picture: nothing attached
    copies = _copies(api)
    assert set(copies) == {"upload/1", "upload/2"}
    exact = copies["upload/1"]
    assert exact.review is None and exact.spool_id is None and "upload/1" in _removals(api)
    reencoded = copies["upload/2"]
    assert reencoded.review == "pending" and reencoded.spool_id is not None  # a reviewer looks first
    assert (Path(os.environ["STANCH_SPOOL_DIR"]) / reencoded.spool_id).is_file()
    assert "upload/2" not in _removals(api)
    assert _match(api, "upload/2", _jpeg(6, quality=40))["matched"]
    assert len(_copies(api)) == 2, "the same upload is attached once"
