"""Locating content: the folder catalog (with path escapes refused) and the resolver webhook against a
local HTTP server, whose media URLs are fetched in memory and refused on private addresses."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from sqlalchemy import select

from stanch.actions import verify_signature
from stanch.desk.intake import file_request, validate
from stanch.desk.locate import (
    CatalogResolver,
    LocateError,
    Resolvers,
    WebhookResolver,
    locate_request,
    resolvers_from_environment,
)
from stanch.net import FetchError, FetchLimits, SafeFetcher
from stanch.signals import hash_media, signals_record
from stanch.store import Database, utcnow
from stanch.store.desk_models import RequestItem, RequestLocation
from tests.api.conftest import encoded, picture
from tests.desk.factory import request_body
from tests.local_server import QuietHandler, local_server


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    folder = tmp_path / "catalog"
    (folder / "posts").mkdir(parents=True)
    (folder / "posts" / "1.png").write_bytes(encoded(picture(7)))
    (tmp_path / "secret.png").write_bytes(encoded(picture(8)))
    return folder


def test_catalog_resolves_file_urls_and_relative_paths(catalog: Path) -> None:
    resolver = CatalogResolver(catalog)
    by_path = resolver.resolve("posts/1.png")
    by_url = resolver.resolve((catalog / "posts" / "1.png").as_uri())
    assert by_path == by_url
    assert by_path[0].item_id == "posts/1.png" and by_path[0].hashes["kind"] == "image"


def test_located_media_is_hashed_for_the_bank_it_may_go_into(catalog: Path) -> None:
    (item,) = CatalogResolver(catalog).resolve("posts/1.png")
    data = (catalog / "posts" / "1.png").read_bytes()
    assert item.hashes == signals_record(hash_media(data, purpose="bank"))
    assert item.hashes != signals_record(hash_media(data))  # the bank-only views are there
    assert "mirrored" in {v["name"] for v in item.hashes["pdq_variants"]}


@pytest.mark.parametrize("location", ["../secret.png", "posts/../../secret.png", "/etc/passwd"])
def test_catalog_refuses_paths_outside_it(catalog: Path, location: str) -> None:
    with pytest.raises(LocateError, match="outside the catalog"):
        CatalogResolver(catalog).resolve(location)
    with pytest.raises(LocateError, match="outside the catalog"):
        CatalogResolver(catalog).resolve((catalog.parent / "secret.png").as_uri())


def test_catalog_missing_file(catalog: Path) -> None:
    with pytest.raises(LocateError, match="no such file"):
        CatalogResolver(catalog).resolve("posts/2.png")


def test_locating_a_request_stores_items_with_hashes_and_failures(database: Database, catalog: Path) -> None:
    body = request_body(locations=["posts/1.png", "../secret.png"])
    with database.write() as session:
        _, request = file_request(session, validate(body), now=utcnow())
    assert locate_request(database, request.id, Resolvers(CatalogResolver(catalog), None), utcnow()) == 1
    with database.read() as session:
        items = session.scalars(select(RequestItem)).all()
        states = dict(session.execute(select(RequestLocation.location, RequestLocation.state)).all())
    assert [(i.item_id, i.origin) for i in items] == [("posts/1.png", "located")]
    assert json.loads(items[0].hashes)["pdq"]
    assert states == {"posts/1.png": "located", "../secret.png": "failed"}


class _Platform(QuietHandler):
    """A resolver and a media host in one: POST / resolves, GET /media serves a picture."""

    answers: ClassVar[dict[str, Any]] = {}
    seen: ClassVar[list[tuple[dict[str, str], bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.seen.append((dict(self.headers), body))
        location = json.loads(body)["location"]
        answer = self.answers.get(location)
        self.send_body(200 if answer else 404, json.dumps(answer or {}).encode(), "application/json")

    def do_GET(self) -> None:
        if self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "/media")
            self.end_headers()
            return
        self.send_body(200, encoded(picture(9)), "image/png")


@pytest.fixture
def platform() -> Iterator[str]:
    with local_server(_Platform) as url:
        yield url


def test_resolver_webhook_with_hashes_and_media_urls(platform: str) -> None:
    _Platform.answers = {
        "https://p.example/a": {"items": [{"item_id": "a", "hashes": {"pdq": "e" * 64}}]},
        "https://p.example/b": {"items": [{"item_id": "b", "media_url": f"{platform}/redirect"}]},
    }
    resolver = WebhookResolver(platform, "s3cret", SafeFetcher(allow_private=True))
    (a,) = resolver.resolve("https://p.example/a")
    assert a.item_id == "a" and a.hashes == {"pdq": "e" * 64}
    (b,) = resolver.resolve("https://p.example/b")
    assert b.hashes["kind"] == "image" and len(b.hashes["sha256"]) == 64
    headers, body = _Platform.seen[0]
    assert verify_signature("s3cret", headers["X-Stanch-Timestamp"], body, headers["X-Stanch-Signature"])
    with pytest.raises(LocateError, match="does not know"):
        resolver.resolve("https://p.example/unknown")


def test_media_on_private_addresses_is_refused(platform: str) -> None:
    _Platform.answers = {"x": {"items": [{"item_id": "x", "media_url": f"{platform}/media"}]}}
    with pytest.raises(LocateError, match=r"non-public address 127\.0\.0\.1"):
        WebhookResolver(platform, "s", SafeFetcher()).resolve("x")


def test_redirects_are_checked_again(platform: str) -> None:
    seen: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        seen.append(host)
        if len(seen) > 1:
            raise FetchError("second look-up refused")
        return ["127.0.0.1"]

    with pytest.raises(FetchError, match="second look-up"):
        SafeFetcher(allow_private=True, resolve=resolve).fetch(f"{platform}/redirect")
    assert seen == ["127.0.0.1", "127.0.0.1"]


def test_media_over_the_size_limit_is_refused(platform: str) -> None:
    _Platform.answers = {"x": {"items": [{"item_id": "x", "media_url": f"{platform}/media"}]}}
    small = SafeFetcher(allow_private=True, limits=FetchLimits(max_bytes=100))
    with pytest.raises(LocateError, match="larger than"):
        WebhookResolver(platform, "s", small).resolve("x")


def test_resolvers_from_environment(tmp_path: Path) -> None:
    assert resolvers_from_environment({}) is None
    with pytest.raises(ValueError, match="STANCH_RESOLVER_SECRET"):
        resolvers_from_environment({"STANCH_RESOLVER_URL": "http://x"})
    both = resolvers_from_environment({"STANCH_CATALOG_DIR": str(tmp_path), "STANCH_RESOLVER_URL": "http://x",
                                       "STANCH_RESOLVER_SECRET": "s"})
    assert both is not None and both.catalog is not None and both.webhook is not None
