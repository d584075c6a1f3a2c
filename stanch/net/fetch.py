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
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx

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


def is_public(address: Address) -> bool:
    """Whether a connection to ``address`` leaves the local network: a global unicast address."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return is_public(address.ipv4_mapped)
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
        address = self.checked_address(url)
        target = httpx.URL(url)
        request = client.build_request(
            "GET", target.copy_with(host=address),
            headers={"Host": target.netloc.decode("ascii"), **conditions},
            extensions={"sni_hostname": target.host, "timeout": _timeout(deadline)},
        )
        return client.send(request, stream=True)

    def _answer(self, url: str, response: httpx.Response, deadline: float) -> Fetched:
        etag, modified = response.headers.get("etag"), response.headers.get("last-modified")
        if response.status_code == 304:
            return Fetched(url, None, etag, modified)
        if response.status_code != 200:
            raise FetchError(f"the server answered HTTP {response.status_code}: {url[:200]}")
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.limits.max_bytes:
            raise FetchError(f"larger than the limit of {self.limits.max_bytes:,} bytes "
                             f"({int(declared):,} declared): {url[:200]}")
        chunks, size = [], 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > self.limits.max_bytes:
                raise FetchError(f"larger than the limit of {self.limits.max_bytes:,} bytes: {url[:200]}")
            if time.monotonic() > deadline:
                raise httpx.ReadTimeout("deadline passed while reading")
            chunks.append(chunk)
        return Fetched(url, b"".join(chunks), etag, modified)


def _timeout(deadline: float) -> dict[str, float]:
    """httpx's per-operation timeouts, none longer than what is left of the whole fetch."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise httpx.ConnectTimeout("no time left for this fetch")
    return {"connect": left, "read": left, "write": left, "pool": left}
