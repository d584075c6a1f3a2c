"""Locating reported content: from a location (URL or item id) to the platform's items and their hashes.

Three ways, so the desk works with or without a platform behind it:

- ``WebhookResolver`` (``STANCH_RESOLVER_URL`` + ``STANCH_RESOLVER_SECRET``): Stanch POSTs
  ``{"location"}``, signed like its webhooks (``X-Stanch-Timestamp``, ``X-Stanch-Signature``), and the
  platform answers ``{"items": [{"item_id", "hashes": {...}} | {"item_id", "media_url"}]}``. A media URL
  is fetched by ``stanch.net.SafeFetcher`` (http/https only, size and time bounded, no private,
  loopback or link-local address unless ``STANCH_RESOLVER_ALLOW_PRIVATE`` is set, every redirect
  checked again) and hashed in memory; the media is never written anywhere. A picture's downscaled
  preview source goes into the encrypted preview spool (``stanch.desk.spool``) until the decision.
- ``CatalogResolver`` (``STANCH_CATALOG_DIR``): a folder stands in for the platform; ``file://`` URLs
  and catalog-relative paths inside it are items (the relative path is the item id). Paths that
  escape the folder are refused.
- ``POST /v1/requests/{id}/items``: the platform attaches items itself (``attach_item``).

Located items are stored with their hashes, never the media (only a reduced, encrypted preview). A
copy (an item found by matching or a sweep) must match the request's hashes; it is stored with the
signal, view and distance that tie it, and the bank's auto-remove rule decides whether it is removed
at once or goes on the case's review list (``stanch.desk.copy_review``).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from stanch.actions.signing import sign
from stanch.bodies import BodyError, parse_json
from stanch.desk.audit import record
from stanch.desk.case_engine import case_engine, copy_match
from stanch.desk.copy_review import place_copy, rejected_before
from stanch.desk.decisions import remove_item
from stanch.desk.hashes import parse_hashes
from stanch.desk.safeguards import OPEN_STATES
from stanch.desk.spool import preview_source, spool_preview
from stanch.matching.engine import MatchEngine
from stanch.net import FetchError, SafeFetcher
from stanch.net.fetch import post_bounded
from stanch.signals import hash_media, signals_record
from stanch.store import Database
from stanch.store.desk_models import RequestItem, RequestLocation, TakedownRequest

MAX_MEDIA_BYTES = 64 * 2**20
MAX_ITEMS_PER_LOCATION = 100


class LocateError(ValueError):
    """A location could not be resolved; the message says why (stored on the location for reviewers)."""


@dataclass(frozen=True)
class LocatedItem:
    """An item on the platform and its hashes (a normalised hash object, see ``stanch.desk.hashes``);
    ``preview`` is the reduced preview source to spool, for media fetched from a ``media_url``."""

    item_id: str
    hashes: dict[str, Any]
    preview: bytes | None = field(default=None, repr=False, compare=False)


class Resolver(Protocol):
    def resolve(self, location: str) -> list[LocatedItem]: ...


def hash_bytes(data: bytes) -> dict[str, Any]:
    """The signals record of media held in memory (``MediaError`` if it cannot be hashed).

    Hashed for a bank: a located item's hashes go into the case bank when the request is decided
    "remove", so they carry every view a bank indexes."""
    return signals_record(hash_media(data, purpose="bank"))


class CatalogResolver:
    """A folder as the platform: ``file:///…/catalog/a.jpg`` or ``a.jpg`` is the item ``a.jpg``."""

    def __init__(self, root: Path, max_bytes: int = MAX_MEDIA_BYTES) -> None:
        self.root = root.resolve()
        self.max_bytes = max_bytes

    def handles(self, location: str) -> bool:
        return location.startswith("file://") or "://" not in location

    def path_of(self, location: str) -> Path:
        """The file a location names, or ``LocateError`` if it is outside the catalog."""
        if location.startswith("file://"):
            parts = urlsplit(location)
            if parts.netloc not in ("", "localhost"):
                raise LocateError(f"{location}: file URLs on another host are not in the catalog")
            candidate = Path(unquote(parts.path))
        else:
            candidate = self.root / location
        path = candidate.resolve()
        if not path.is_relative_to(self.root):
            raise LocateError(f"{location} is outside the catalog folder {self.root}; refused")
        return path

    def resolve(self, location: str) -> list[LocatedItem]:
        path = self.path_of(location)
        if not path.is_file():
            raise LocateError(f"{location}: no such file in the catalog")
        if path.stat().st_size > self.max_bytes:
            raise LocateError(f"{location}: larger than {self.max_bytes:,} bytes")
        item_id = path.relative_to(self.root).as_posix()
        return [LocatedItem(item_id, hash_bytes(path.read_bytes()))]


class WebhookResolver:
    """Asks the platform's resolver endpoint what a location is (see the module docstring)."""

    def __init__(self, url: str, secret: str, fetcher: SafeFetcher, *, timeout: float = 10.0) -> None:
        self.url, self.secret, self.fetcher, self.timeout = url, secret, fetcher, timeout

    def resolve(self, location: str) -> list[LocatedItem]:
        import httpx  # here: a sweep imports this module but resolves nothing

        body = json.dumps({"location": location}, separators=(",", ":")).encode()
        stamp = int(time.time())
        headers = {"Content-Type": "application/json", "X-Stanch-Timestamp": str(stamp),
                   "X-Stanch-Signature": sign(self.secret, stamp, body)}
        try:
            status, reply = post_bounded(self.url, body, headers, timeout=self.timeout)
        except (httpx.HTTPError, FetchError) as error:
            raise LocateError(f"the resolver at {self.url} could not be reached: {error}") from None
        if status == 404:
            raise LocateError(f"{location}: the platform does not know this location")
        if status != 200:
            raise LocateError(f"the resolver answered {status}")
        try:
            answer = parse_json(reply, what="the resolver's answer")
        except BodyError as error:
            raise LocateError(str(error)) from None
        return items_from_answer(answer, self.fetcher)


def items_from_answer(answer: Any, fetcher: SafeFetcher | None) -> list[LocatedItem]:
    """``{"items": [...]}`` as a resolver (or the platform attaching items) sends it, checked."""
    items = answer.get("items") if isinstance(answer, dict) else None
    if not isinstance(items, list) or len(items) > MAX_ITEMS_PER_LOCATION:
        raise LocateError(f'the answer must be {{"items": [...]}} with at most {MAX_ITEMS_PER_LOCATION} '
                          "items")
    found = []
    for index, item in enumerate(items):
        where = f"items[{index}]"
        if not isinstance(item, dict) or not isinstance(item.get("item_id"), str) or not item["item_id"]:
            raise LocateError(f"{where}.item_id is missing")
        if item.get("hashes") is not None:
            try:
                hashes = parse_hashes(item["hashes"], f"{where}.hashes")
            except ValueError as error:
                raise LocateError(str(error)) from None
            preview = None
        elif isinstance(item.get("media_url"), str) and fetcher is not None:
            media = _fetch(fetcher, item["media_url"], where)
            hashes, preview = hash_bytes(media), preview_source(media)
        else:
            raise LocateError(f"{where} needs hashes or a media_url")
        found.append(LocatedItem(item["item_id"][:500], hashes, preview))
    return found


def _fetch(fetcher: SafeFetcher, url: str, where: str) -> bytes:
    try:
        fetched = fetcher.fetch(url)
    except FetchError as error:
        raise LocateError(f"{where}.media_url: {error}") from None
    if fetched.body is None:
        raise LocateError(f"{where}.media_url answered without a body")
    return fetched.body


class Resolvers:
    """The catalog for ``file://`` and relative paths (when configured), the webhook for the rest."""

    def __init__(self, catalog: CatalogResolver | None, webhook: WebhookResolver | None) -> None:
        self.catalog, self.webhook = catalog, webhook

    def resolve(self, location: str) -> list[LocatedItem]:
        if self.catalog is not None and self.catalog.handles(location):
            return self.catalog.resolve(location)
        if self.webhook is not None:
            return self.webhook.resolve(location)
        raise LocateError(f"{location}: no resolver handles this location (set STANCH_RESOLVER_URL, or "
                          "let the platform attach items with POST /v1/requests/{id}/items)")


def resolvers_from_environment(environ: Mapping[str, str] = os.environ) -> Resolvers | None:
    """The configured resolvers, or None when neither ``STANCH_CATALOG_DIR`` nor a resolver URL is set."""
    catalog_dir, url = environ.get("STANCH_CATALOG_DIR"), environ.get("STANCH_RESOLVER_URL")
    catalog = CatalogResolver(Path(catalog_dir)) if catalog_dir else None
    webhook = None
    if url:
        secret = environ.get("STANCH_RESOLVER_SECRET")
        if not secret:
            raise ValueError("STANCH_RESOLVER_SECRET must be set with STANCH_RESOLVER_URL "
                             "(requests to the resolver are signed)")
        allow = environ.get("STANCH_RESOLVER_ALLOW_PRIVATE", "").lower() in ("1", "true", "yes")
        webhook = WebhookResolver(url, secret, SafeFetcher(allow_private=allow))
    return Resolvers(catalog, webhook) if catalog or webhook else None


def attach_item(
    session: Session, request: TakedownRequest, item: LocatedItem, *, origin: str, actor: str, now: datetime,
    location: str | None = None, case: MatchEngine | None = None, entries: Sequence[int] = (),
    read_media: Callable[[], bytes | None] | None = None,
) -> RequestItem:
    """Tie an item to ``request``: ``located`` (at a reported location) or ``copy`` (must match the
    request's hashes or located items by the matching rule, ValueError otherwise; ``case`` is the
    request's ``case_engine`` when the caller has it already; ``entries`` the bank entries it matched).

    A copy the auto-remove rule removes at once is, on a request already removed, banked and its
    removal queued at once; any other copy goes on the review list (``stanch.desk.copy_review``), with
    its preview spooled: the one given, or else one made of what ``read_media`` reads again (a sweep
    reaching the file or URL once more, only for such a copy). Attaching the same item twice returns
    the first, and a copy with the hashes of one a reviewer rejected returns that rejected copy: it
    never comes back."""
    existing = session.scalar(select(RequestItem).where(RequestItem.request_id == request.id,
                                                        RequestItem.item_id == item.item_id))
    if existing is not None:
        return existing
    matched = None
    if origin == "copy":
        matched = copy_match(case or case_engine(session, request), item.hashes)
        if matched is None:
            raise ValueError(f"item {item.item_id} does not match this request's hashes; a copy must match")
        rejected = rejected_before(session, request, item.hashes)
        if rejected is not None:
            return rejected
    row = RequestItem(request_id=request.id, item_id=item.item_id, origin=origin, location=location,
                      hashes=json.dumps(item.hashes), signal=matched.signal if matched else None,
                      distance=matched.distance if matched else None, added_at=now, added_by=actor)
    session.add(row)
    session.flush()
    at_once = matched is None or place_copy(session, request, row, matched, entries, now)
    preview = None if request.minor else item.preview  # a minor's case is never previewed: nothing kept
    if preview is None and not at_once and read_media is not None and not request.minor:
        media = read_media()
        preview = preview_source(media) if media is not None else None
    if preview is not None and (request.status in OPEN_STATES or not at_once):
        spool_preview(session, row, preview)
    if request.status == "removed" and at_once:
        remove_item(session, request, row, now, None)
    record(session, actor, "request.item_added", ("request", request.public_id),
           {"item_id": item.item_id, "origin": origin, "signal": row.signal, "distance": row.distance,
            "view": row.view, "review": row.review}, clock=lambda: now)
    return row


def locate_request(db: Database, request_id: int, resolver: Resolver, now: datetime) -> int:
    """Resolve a request's pending locations; returns the items added.

    The resolver is asked outside any transaction (it may take seconds, and a SQLite write lock must
    not be held meanwhile); the answers are stored in one transaction after. A failure is kept on its
    location for reviewers to see.
    """
    with db.read() as session:
        pending = list(session.execute(select(RequestLocation.id, RequestLocation.location).where(
            RequestLocation.request_id == request_id, RequestLocation.state == "pending")))
    if not pending:
        return 0
    answers: dict[int, list[LocatedItem] | str] = {}
    for location_id, location in pending:
        try:
            answers[location_id] = resolver.resolve(location)
        except (LocateError, ValueError) as error:
            answers[location_id] = str(error)[:2000]
    added = 0
    with db.write() as session:
        request = session.get(TakedownRequest, request_id)
        assert request is not None
        for location_id, answer in answers.items():
            row = session.get(RequestLocation, location_id)
            if row is None or row.state != "pending":
                continue  # another process got there first
            if isinstance(answer, str):
                row.state, row.error = "failed", answer
                continue
            for item in answer:
                attach_item(session, request, item, origin="located", actor="system", now=now,
                            location=row.location)
                added += 1
            row.state, row.error = "located", None
    return added


def requests_to_locate(db: Database) -> list[int]:
    """Open requests with locations not yet resolved."""
    with db.read() as session:
        return list(session.scalars(
            select(RequestLocation.request_id).join(TakedownRequest).where(
                RequestLocation.state == "pending", TakedownRequest.status.in_(OPEN_STATES)
            ).distinct()
        ))
