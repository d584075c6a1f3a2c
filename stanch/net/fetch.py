"""Fetching media from a URL without letting the URL reach inside the network, under limits.

A URL in a sweep's list or a resolver's answer could point at the platform's own admin pages, a cloud
metadata service or a database (server-side request forgery). So:

- only ``http`` and ``https``;
- the host is resolved and every address it resolves to must be public: private, loopback,
  link-local, multicast, reserved, unspecified and shared (carrier-grade NAT) addresses are refused,
  IPv4-mapped IPv6 included, unless ``allow_private`` is set;
- the connection goes to the address that was checked (the URL's host is kept for the ``Host`` header
  and for TLS), so a second DNS answer cannot swap in another address (DNS rebinding);
- redirects are followed by hand, at most ``max_redirects``, each new location checked like the first;
- the body is streamed and abandoned past ``max_bytes``; the whole fetch, redirects included, must end
  within ``seconds``; proxies from the environment are not used (a proxy would bypass the check).

``ETag`` and ``Last-Modified`` are sent back as ``If-None-Match`` / ``If-Modified-Since`` when given, so
an unchanged item is answered 304 without its body.
"""

from __future__ import annotations

import ipaddress
import socket
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

if TYPE_CHECKING:
    import httpx

# httpx is imported by the functions that fetch: it loads in about 0.1-0.2 s (its command-line
# module pulls in Rich when installed), which a sweep of a folder or a command's start never needs.

REDIRECTS = (301, 302, 303, 307, 308)


class FetchError(Exception):
    """The URL was refused or could not be fetched; the message says which and why."""


@dataclass(frozen=True)
class FetchLimits:
    """How much one fetch may cost."""

    max_bytes: int = 64 * 2**20
    seconds: float = 30.0
    """For the whole fetch: connecting, every redirect, and reading the body."""
    max_redirects: int = 3


@dataclass(frozen=True)
class Fetched:
    """What a fetch got: the body (None when the server said 304 Not Modified) and its validators."""

    url: str
    body: bytes | None
    etag: str | None = None
    last_modified: str | None = None

    @property
    def not_modified(self) -> bool:
        return self.body is None


Lookup = Callable[[str, int], list[str]]
"""``(host, port)`` to the addresses a connection may go to."""
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def lookup(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (IPv4 and IPv6), or ``FetchError``."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise FetchError(f"the host {host} cannot be resolved: {error}") from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
"""The well-known NAT64 prefix (RFC 6052): the last 32 bits are the IPv4 address reached."""
LOCAL_NAT64 = ipaddress.IPv6Network("64:ff9b:1::/48")
"""Local-use NAT64 (RFC 8215): translates into the operator's own network, never public."""
SITE_LOCAL = ipaddress.IPv6Network("fec0::/10")
IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address leads to: IPv4-mapped, 6to4, NAT64 or IPv4-compatible."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in NAT64 or (address in IPV4_COMPATIBLE and int(address) > 1):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_public(address: Address) -> bool:
    """Whether a connection to ``address`` leaves the local network: a global unicast address.

    IPv6 forms that lead to an IPv4 address (mapped ``::ffff:a.b.c.d``, 6to4 ``2002:aabb:ccdd::``,
    NAT64 ``64:ff9b::a.b.c.d``, the old IPv4-compatible ``::a.b.c.d``) are judged by that address, so
    ``2002:7f00:1::`` is loopback; Teredo tunnels, site-local ``fec0::/10`` and local-use NAT64 are never
    public.
    """
    if isinstance(address, ipaddress.IPv6Address):
        inner = embedded_ipv4(address)
        if inner is not None:
            return is_public(inner)
        if address.teredo is not None or address in SITE_LOCAL or address in LOCAL_NAT64:
            return False
    return address.is_global and not (
        address.is_multicast or address.is_reserved or address.is_loopback or address.is_link_local
        or address.is_private or address.is_unspecified
    )


class SafeFetcher:
    """Fetches URLs into memory under the rules of the module docstring."""

    def __init__(self, *, allow_private: bool = False, limits: FetchLimits | None = None,
                 resolve: Lookup = lookup, address_ok: Callable[[Address], bool] = is_public) -> None:
        """``resolve`` and ``address_ok`` are the host lookup and the address rule (replaced in tests)."""
        self.allow_private = allow_private
        self.limits = limits or FetchLimits()
        self.resolve = resolve
        self.address_ok = address_ok

    def checked_address(self, url: str) -> str:
        """The address to connect to for ``url``, or ``FetchError`` if the URL may not be fetched."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise FetchError(f"only http and https URLs are fetched, not {parts.scheme or 'a bare path'}: "
                             f"{url[:200]}")
        if not parts.hostname:
            raise FetchError(f"the URL has no host: {url[:200]}")
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            raise FetchError(f"the URL has an invalid port: {url[:200]}") from None
        addresses = self.resolve(parts.hostname, port)
        if not addresses:
            raise FetchError(f"the host {parts.hostname} has no address")
        if not self.allow_private:
            for text in addresses:
                address = ipaddress.ip_address(text.split("%")[0])
                if not self.address_ok(address):
                    raise FetchError(
                        f"the host {parts.hostname} is at the non-public address {address}: refused "
                        "(allow private addresses only if the media really is on your own network)")
        return addresses[0]

    def fetch(self, url: str, *, etag: str | None = None, last_modified: str | None = None) -> Fetched:
        """The body of ``url`` (or a 304 answer to the validators given), or ``FetchError``."""
        import httpx

        deadline = time.monotonic() + self.limits.seconds
        conditions = {k: v for k, v in (("If-None-Match", etag), ("If-Modified-Since", last_modified)) if v}
        try:
            with httpx.Client(follow_redirects=False, trust_env=False) as client:
                for _ in range(self.limits.max_redirects + 1):
                    response = self._open(client, url, conditions, deadline)
                    try:
                        location = response.headers.get("location")
                        if response.status_code in REDIRECTS and location:
                            url = urljoin(url, location)
                            continue
                        return self._answer(url, response, deadline)
                    finally:
                        response.close()
        except httpx.TimeoutException:
            raise FetchError(f"took longer than {self.limits.seconds:g} s to fetch: {url[:200]}") from None
        except httpx.HTTPError as error:
            raise FetchError(f"could not be fetched ({type(error).__name__}: {error}): {url[:200]}") from None
        raise FetchError(f"redirected more than {self.limits.max_redirects} times: {url[:200]}")

    def _open(self, client: httpx.Client, url: str, conditions: dict[str, str],
              deadline: float) -> httpx.Response:
        """Send the request to the checked address of ``url``'s host, keeping the host name for
        ``Host`` and TLS (server name and certificate check)."""
        import httpx

        address = self.checked_address(url)
        target = httpx.URL(url)
        request = client.build_request(
            "GET", target.copy_with(host=address),
            headers={"Host": target.netloc.decode("ascii"), "Accept-Encoding": "identity", **conditions},
            extensions={"sni_hostname": target.host, "timeout": _timeout(deadline)},
        )
        return client.send(request, stream=True)

    def _answer(self, url: str, response: httpx.Response, deadline: float) -> Fetched:
        import httpx

        etag, modified = response.headers.get("etag"), response.headers.get("last-modified")
        if response.status_code == 304:
            return Fetched(url, None, etag, modified)
        if response.status_code != 200:
            raise FetchError(f"the server answered HTTP {response.status_code}: {url[:200]}")
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.limits.max_bytes:
            raise FetchError(f"larger than the limit of {self.limits.max_bytes:,} bytes "
                             f"({int(declared):,} declared): {url[:200]}")
        body = BoundedBody(response.headers.get("content-encoding", ""), self.limits.max_bytes, url)
        for chunk in response.iter_raw():
            body.feed(chunk)
            if time.monotonic() > deadline:
                raise httpx.ReadTimeout("deadline passed while reading")
        return Fetched(url, body.finish(), etag, modified)


def post_bounded(url: str, body: bytes, headers: dict[str, str], *, timeout: float,
                 max_bytes: int = 2**20) -> tuple[int, bytes]:
    """POST ``body`` to a configured endpoint (the platform's resolver) and read at most ``max_bytes``
    of its answer, decoded by ``BoundedBody``: (status, body). Raises httpx errors and FetchError."""
    import httpx

    with httpx.Client(trust_env=False, timeout=timeout) as client, client.stream(
        "POST", url, content=body, headers={**headers, "Accept-Encoding": "identity"}
    ) as response:
        reader = BoundedBody(response.headers.get("content-encoding", ""), max_bytes, url)
        for chunk in response.iter_raw():
            reader.feed(chunk)
        return response.status_code, reader.finish()


class BoundedBody:
    """A response body decoded by hand, never past ``max_bytes`` of output.

    Why by hand: httpx inflates each chunk before the caller sees it, so a 1,830-byte reply with
    ``Content-Encoding: gzip, gzip`` grew to gigabytes before any size check could run. Stanch asks for
    ``identity``; a server that compresses anyway may use one layer of gzip or deflate, inflated here
    with zlib's ``max_length`` so no step produces more than what is left of the limit. Stacked or other
    encodings (br, zstd) are refused.
    """

    def __init__(self, encoding: str, max_bytes: int, url: str) -> None:
        layers = [e.strip().lower() for e in encoding.split(",") if e.strip() and e.strip() != "identity"]
        if len(layers) > 1 or (layers and layers[0] not in ("gzip", "x-gzip", "deflate")):
            raise FetchError(f"the server sent an encoding Stanch does not decode ({encoding[:80]}): "
                             f"{url[:200]}")
        self._inflate = None
        if layers:
            wbits = 31 if layers[0] in ("gzip", "x-gzip") else 15
            self._inflate = zlib.decompressobj(wbits)
        self._max, self._url = max_bytes, url
        self._parts: list[bytes] = []
        self._size = 0

    def feed(self, chunk: bytes) -> None:
        if self._inflate is None:
            self._keep(chunk)
            return
        data = chunk
        while data:
            try:
                out = self._inflate.decompress(data, self._max - self._size + 1)
            except zlib.error as error:
                raise FetchError(f"the compressed body is corrupt ({error}): {self._url[:200]}") from None
            self._keep(out)
            data = self._inflate.unconsumed_tail

    def finish(self) -> bytes:
        if self._inflate is not None:
            self._keep(self._inflate.flush(self._max - self._size + 1))
        return b"".join(self._parts)

    def _keep(self, data: bytes) -> None:
        self._size += len(data)
        if self._size > self._max:
            raise FetchError(f"larger than the limit of {self._max:,} bytes: {self._url[:200]}")
        self._parts.append(data)


def _timeout(deadline: float) -> dict[str, float]:
    """httpx's per-operation timeouts, none longer than what is left of the whole fetch."""
    import httpx

    left = deadline - time.monotonic()
    if left <= 0:
        raise httpx.ConnectTimeout("no time left for this fetch")
    return {"connect": left, "read": left, "write": left, "pool": left}
