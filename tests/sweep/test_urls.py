"""URL sources: fetched under limits from a local HTTP server, refused when they could reach inside the
network, failures recorded and tried again; the fetcher's rules one by one."""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler
from pathlib import Path

import pytest
from sqlalchemy import select

from stanch.net import FetchError, FetchLimits, SafeFetcher
from stanch.net.fetch import is_public
from stanch.store import Database
from stanch.store.sweep_models import CatalogItem
from stanch.sweep import HashSettings
from tests.local_server import local_server
from tests.sweep.conftest import bank_seed, picture_jpeg, sweep


class Handler(SimpleHTTPRequestHandler):
    """The catalog folder, plus a few misbehaving paths."""

    def do_GET(self) -> None:
        if self.path == "/big":  # no Content-Length: the body runs until the connection closes
            self.send_response(200)
            self.end_headers()
            for _ in range(64):
                self.wfile.write(b"x" * 65536)
        elif self.path == "/declared-big":
            self.send_response(200)
            self.send_header("Content-Length", str(10 * 2**30))
            self.end_headers()
        elif self.path == "/slow":
            time.sleep(2)
            self.send_response(200)
            self.end_headers()
        elif self.path.startswith("/redirect?"):
            self.send_response(302)
            self.send_header("Location", self.path.split("?", 1)[1])
            self.end_headers()
        else:
            super().do_GET()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server(catalog: Path) -> Iterator[str]:
    with local_server(partial(Handler, directory=str(catalog))) as url:
        yield url


def _list(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "urls.txt"
    path.write_text("# catalog\n" + "\n".join(lines) + "\n")
    return path


PRIVATE_OK = HashSettings(allow_private=True)


def test_url_sweep_finds_copies_and_skips_unchanged_items_next_time(
    database: Database, server: str, tmp_path: Path
) -> None:
    bank_seed(database, 3)
    urls = _list(tmp_path, f"{server}/item-3.jpg", f"{server}/item-5.jpg")
    first = sweep(database, urls, settings=PRIVATE_OK)
    assert [line["path"] for line in first.lines] == [f"{server}/item-3.jpg"]
    second = sweep(database, urls, settings=PRIVATE_OK, since=first.summary.sweep)
    assert (second.summary.hashed, second.summary.reused) == (0, 2)  # answered 304 Not Modified


def test_a_loopback_url_is_refused_without_allow_private(database: Database, server: str,
                                                        tmp_path: Path) -> None:
    url = f"{server}/item-3.jpg"
    swept = sweep(database, _list(tmp_path, url))
    assert "non-public address 127.0.0.1" in swept.errors[url]
    with database.read() as session:
        row = session.scalars(select(CatalogItem)).one()
        assert row.key == url and "non-public" in (row.error or "") and row.record is None


def test_only_http_and_https_urls_are_fetched(database: Database, tmp_path: Path) -> None:
    urls = _list(tmp_path, "file:///etc/passwd", "ftp://example.org/a.jpg")
    swept = sweep(database, urls, settings=PRIVATE_OK)
    assert set(swept.errors) == {"file:///etc/passwd", "ftp://example.org/a.jpg"}
    assert all("only http and https" in e for e in swept.errors.values())


def test_a_failed_url_is_tried_again_on_the_next_run(database: Database, server: str, catalog: Path,
                                                     tmp_path: Path) -> None:
    bank_seed(database, 9)
    url = f"{server}/item-9.jpg"
    first = sweep(database, _list(tmp_path, url), settings=PRIVATE_OK)
    assert "HTTP 404" in first.errors[url]
    (catalog / "item-9.jpg").write_bytes(picture_jpeg(9))
    second = sweep(database, _list(tmp_path, url), settings=PRIVATE_OK, since=first.summary.sweep)
    assert second.summary.hashed == 1 and [line["path"] for line in second.lines] == [url]


def _loopback_is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """The tests' server is on 127.0.0.1: let it stand for a public host, and nothing else."""
    return address.is_loopback or is_public(address)


def _resolve(host: str, port: int) -> list[str]:
    """A DNS where ``media.test`` is the tests' server; IP literals resolve to themselves."""
    return ["127.0.0.1"] if host == "media.test" else [host]


def _fetcher(server: str, **limits: float) -> tuple[SafeFetcher, str]:
    fetcher = SafeFetcher(limits=FetchLimits(**limits), resolve=_resolve,  # type: ignore[arg-type]
                          address_ok=_loopback_is_public)
    return fetcher, server.replace("127.0.0.1", "media.test")


def test_the_connection_goes_to_the_checked_address(server: str) -> None:
    fetcher, base = _fetcher(server)  # media.test exists only in the checked lookup
    assert fetcher.fetch(f"{base}/item-1.jpg").body == picture_jpeg(1)


def test_a_redirect_to_a_private_address_is_refused(server: str) -> None:
    fetcher, base = _fetcher(server)
    with pytest.raises(FetchError, match=r"non-public address 169\.254\.169\.254"):
        fetcher.fetch(f"{base}/redirect?http://169.254.169.254/latest/meta-data")
    assert fetcher.fetch(f"{base}/redirect?/item-2.jpg").body == picture_jpeg(2)
    with pytest.raises(FetchError, match="redirected more than"):
        fetcher.fetch(f"{base}/redirect?/redirect?/redirect?/redirect?/item-2.jpg")


def test_size_and_time_limits(server: str) -> None:
    fetcher, base = _fetcher(server, max_bytes=1_000_000, seconds=0.5)
    with pytest.raises(FetchError, match="larger than the limit"):
        fetcher.fetch(f"{base}/big")
    with pytest.raises(FetchError, match="10,737,418,240 declared"):
        fetcher.fetch(f"{base}/declared-big")
    started = time.monotonic()
    with pytest.raises(FetchError, match=r"took longer than 0\.5 s"):
        fetcher.fetch(f"{base}/slow")
    assert time.monotonic() - started < 1.5


@pytest.mark.parametrize("address", ["10.0.0.1", "192.168.1.1", "172.16.0.1", "127.0.0.1", "169.254.169.254",
                                     "100.64.0.1", "0.0.0.0", "224.0.0.1", "240.0.0.1", "::1", "fe80::1",
                                     "fc00::1", "::ffff:127.0.0.1", "ff02::1"])
def test_non_public_addresses(address: str) -> None:
    assert not is_public(ipaddress.ip_address(address))
    with pytest.raises(FetchError, match="non-public"):
        SafeFetcher(resolve=lambda host, port: [address]).checked_address("https://example.test/a.jpg")


def test_public_addresses() -> None:
    assert is_public(ipaddress.ip_address("93.184.216.34"))
    assert is_public(ipaddress.ip_address("2606:2800:220:1:248:1893:25c8:1946"))
