"""D5 (a compressed reply inflated past the fetch cap) and H1 (addresses that lead back inside)."""

from __future__ import annotations

import gzip
import ipaddress
import tracemalloc
import zlib

import pytest

from stanch.net import FetchError, SafeFetcher
from stanch.net.fetch import BoundedBody, FetchLimits, is_public
from tests.local_server import QuietHandler, local_server

BOMB_LAYER = gzip.compress(b"\0" * (64 * 2**20), 9)  # 64 MiB of zeros in ~65 kB
DOUBLE_BOMB = gzip.compress(BOMB_LAYER, 9)  # what the red team sent as "gzip, gzip": 2.2 GB of process


def _server_of(body: bytes, encoding: str) -> type[QuietHandler]:
    class Handler(QuietHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Encoding", encoding)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


@pytest.mark.parametrize(("body", "encoding"), [(DOUBLE_BOMB, "gzip, gzip"), (BOMB_LAYER, "gzip")])
def test_a_compressed_reply_never_grows_past_the_cap(body: bytes, encoding: str) -> None:
    fetcher = SafeFetcher(allow_private=True, limits=FetchLimits(max_bytes=2**20))
    with local_server(_server_of(body, encoding)) as base:
        tracemalloc.start()
        with pytest.raises(FetchError) as refused:
            fetcher.fetch(f"{base}/bomb.png")
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert "encoding" in str(refused.value) or "limit" in str(refused.value)
    assert peak < 16 * 2**20  # httpx inflated to 64 MiB and more before the cap was looked at


def test_one_layer_of_gzip_or_deflate_within_the_cap_is_decoded() -> None:
    data = bytes(range(256)) * 400
    for encoding, packed in (("gzip", gzip.compress(data)), ("deflate", zlib.compress(data))):
        fetcher = SafeFetcher(allow_private=True, limits=FetchLimits(max_bytes=len(data)))
        with local_server(_server_of(packed, encoding)) as base:
            assert fetcher.fetch(f"{base}/x.png").body == data


def test_the_fetcher_asks_for_no_compression() -> None:
    seen: list[str | None] = []

    class Handler(QuietHandler):
        def do_GET(self) -> None:
            seen.append(self.headers.get("Accept-Encoding"))
            self.send_body(200, b"ok", "text/plain")

    with local_server(Handler) as base:
        SafeFetcher(allow_private=True).fetch(base)
    assert seen == ["identity"]


def test_bounded_body_refuses_unknown_and_corrupt_encodings() -> None:
    with pytest.raises(FetchError, match="encoding"):
        BoundedBody("br", 100, "u")
    body = BoundedBody("gzip", 100, "u")
    with pytest.raises(FetchError, match="corrupt"):
        body.feed(b"not gzip at all")


@pytest.mark.parametrize(
    "address",
    [
        "2002:7f00:1::",  # 6to4 around 127.0.0.1
        "2002:a00:1::",  # 6to4 around 10.0.0.1
        "2002:c0a8:101::1",  # 6to4 around 192.168.1.1
        "fec0::1",  # site-local
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
        "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254 (cloud metadata)
        "64:ff9b:1::808:808",  # local-use NAT64
        "::127.0.0.1",  # IPv4-compatible loopback
        "::ffff:10.0.0.1",  # IPv4-mapped private
        "::1", "127.0.0.1", "10.1.2.3", "169.254.169.254", "100.64.0.1", "fe80::1", "fc00::1",
    ],
)
def test_addresses_that_lead_back_inside_are_not_public(address: str) -> None:
    assert not is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["8.8.8.8", "2606:4700::1111", "2002:808:808::", "64:ff9b::808:808"])
def test_public_addresses_stay_public(address: str) -> None:
    assert is_public(ipaddress.ip_address(address))
