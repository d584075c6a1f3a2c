"""The preview spool: an item located by a media URL keeps a reduced, encrypted preview (0600 file, not
the picture in the clear) until the request is decided or withdrawn, or the ticker finds it too old;
an altered file does not decrypt."""

from __future__ import annotations

import io
import json
import stat
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image, UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.orm import Session

from stanch.desk.cases import withdraw
from stanch.desk.decisions import decide
from stanch.desk.intake import file_request, validate
from stanch.desk.locate import LocatedItem, Resolvers, WebhookResolver, attach_item, locate_request
from stanch.desk.spool import SOURCE_SIZE, SpoolError, open_spool, preview_source, spool_folder
from stanch.desk.ticker import tick
from stanch.net import SafeFetcher
from stanch.store import Database, utcnow
from stanch.store.desk_models import RequestItem, TakedownRequest
from tests.api.conftest import encoded, picture
from tests.desk.factory import request_body
from tests.local_server import QuietHandler, local_server

LARGE = encoded(picture(11, (1600, 1200)))


class _Platform(QuietHandler):
    """POST / answers every location with one item to fetch; GET /media serves a large picture."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        host = self.headers["Host"]
        answer = {"items": [{"item_id": "post-1", "media_url": f"http://{host}/media"}]}
        self.send_body(200, json.dumps(answer).encode(), "application/json")

    def do_GET(self) -> None:
        self.send_body(200, LARGE, "image/png")


@pytest.fixture
def platform() -> Iterator[str]:
    with local_server(_Platform) as url:
        yield url


@pytest.fixture
def spool_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "spool"
    monkeypatch.setenv("STANCH_SPOOL_DIR", str(folder))
    monkeypatch.delenv("STANCH_SPOOL_KEY", raising=False)
    return folder


def _request(database: Database) -> int:
    with database.write() as session:
        _, request = file_request(session, validate(request_body()), now=utcnow())
        return request.id


def _spooled_item(database: Database, seed: int = 3) -> tuple[int, str]:
    """A request with one item whose preview is spooled; returns the request and the spool id."""
    request_id = _request(database)
    item = LocatedItem("post-1", {"pdq": "e" * 64}, preview_source(encoded(picture(seed))))
    with database.write() as session:
        row = attach_item(session, _get(session, request_id), item, origin="located",
                          actor="system", now=utcnow())
        assert row.spool_id is not None
        return request_id, row.spool_id


def _get(session: Session, request_id: int) -> TakedownRequest:
    request = session.get(TakedownRequest, request_id)
    assert request is not None
    return request


def _spool_id(database: Database, request_id: int) -> str | None:
    with database.read() as session:
        return session.scalar(select(RequestItem.spool_id).where(RequestItem.request_id == request_id))


def test_a_media_url_item_gets_a_reduced_encrypted_preview(database: Database, platform: str,
                                                           spool_dir: Path) -> None:
    request_id = _request(database)
    resolvers = Resolvers(None, WebhookResolver(platform, "s", SafeFetcher(allow_private=True)))
    assert locate_request(database, request_id, resolvers, utcnow()) == 1
    spool_id = _spool_id(database, request_id)
    assert spool_id is not None
    stored = spool_dir / spool_id
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600 and stat.S_IMODE(spool_dir.stat().st_mode) == 0o700
    sealed = stored.read_bytes()
    assert b"\xff\xd8\xff" not in sealed[:64] and b"\x89PNG" not in sealed
    with pytest.raises(UnidentifiedImageError):
        Image.open(io.BytesIO(sealed))
    with database.write() as session:
        spool = open_spool(session, create=False)
    assert spool is not None
    with Image.open(io.BytesIO(spool.get(spool_id, "post-1"))) as shown:
        assert shown.format == "JPEG" and max(shown.size) == SOURCE_SIZE  # 1600 x 1200 reduced
    with pytest.raises(SpoolError):
        spool.get(spool_id, "another-item")  # the item id is bound to the file


def test_an_altered_file_does_not_decrypt(database: Database, spool_dir: Path) -> None:
    _, spool_id = _spooled_item(database)
    sealed = bytearray((spool_dir / spool_id).read_bytes())
    sealed[-1] ^= 1
    (spool_dir / spool_id).write_bytes(bytes(sealed))
    with database.write() as session:
        spool = open_spool(session)
    assert spool is not None
    with pytest.raises(SpoolError):
        spool.get(spool_id, "post-1")


@pytest.mark.parametrize(("decision", "kept"), [("remove", False), ("reject", False), ("need_info", True)])
def test_a_decision_deletes_the_preview_unless_it_asks_for_more(database: Database, spool_dir: Path,
                                                                decision: str, kept: bool) -> None:
    request_id, spool_id = _spooled_item(database)
    with database.write() as session:
        decide(session, _get(session, request_id), decision,
               None if decision == "remove" else "a reason", actor="user:r@example.org", now=utcnow())
    assert (spool_dir / spool_id).exists() is kept
    assert (_spool_id(database, request_id) is not None) is kept


def test_withdrawing_deletes_the_preview(database: Database, spool_dir: Path) -> None:
    request_id, spool_id = _spooled_item(database)
    with database.write() as session:
        withdraw(session, _get(session, request_id), utcnow())
    assert not (spool_dir / spool_id).exists() and _spool_id(database, request_id) is None


def test_the_ticker_deletes_old_previews(database: Database, spool_dir: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    _, spool_id = _spooled_item(database)
    monkeypatch.setenv("STANCH_SPOOL_HOURS", "2")
    assert tick(database, utcnow() + timedelta(hours=1), None).previews_expired == 0
    assert (spool_dir / spool_id).exists()
    assert tick(database, utcnow() + timedelta(hours=3), None).previews_expired == 1
    assert not (spool_dir / spool_id).exists()


def test_pictures_only_and_a_configured_key(database: Database, spool_dir: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    assert preview_source(b"not a picture") is None
    monkeypatch.setenv("STANCH_SPOOL_KEY", "ab" * 32)
    with database.write() as session:
        spool = open_spool(session)
    assert spool is not None and spool.key == bytes.fromhex("ab" * 32)
    monkeypatch.setenv("STANCH_SPOOL_KEY", "too short")
    with database.write() as session, pytest.raises(ValueError, match="32 bytes"):
        open_spool(session)


def test_the_default_folder_is_beside_a_sqlite_database(database: Database, db_url: str,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STANCH_SPOOL_DIR", raising=False)
    with database.read() as session:
        folder = spool_folder(session)
    if db_url.startswith("sqlite"):
        assert folder == Path(db_url.removeprefix("sqlite:///")).resolve().parent / "stanch-spool"
    else:
        assert folder == Path.cwd() / "stanch-spool"


def test_a_spool_that_cannot_be_written_leaves_the_item_without_a_preview(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a-file").write_bytes(b"")
    monkeypatch.setenv("STANCH_SPOOL_DIR", str(tmp_path / "a-file" / "spool"))
    request_id = _request(database)
    item = LocatedItem("post-1", {"pdq": "e" * 64}, preview_source(encoded(picture(3))))
    with database.write() as session:
        row = attach_item(session, _get(session, request_id), item, origin="located", actor="system",
                          now=utcnow())
        assert row.spool_id is None and row.hashes
