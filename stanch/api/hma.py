"""An HMA-compatible API under ``/hma``: a platform that calls Meta's Hasher-Matcher-Actioner 1.x
switches to Stanch by changing its base URL to ``https://<stanch>/hma`` and adding an API key.

Request and response shapes follow HMA's blueprints (``OpenMediaMatch/blueprints/matching.py``,
``hashing.py``, ``curation.py``) and its ``/status``; errors are HMA's ``{"message": ...}``. What differs,
and why, is in docs/hma.md: every route needs ``Authorization: Bearer <key>`` (scope ``match`` for
``/m`` and ``/h``, ``bank`` for ``/c``), matching is Stanch's own engine and rule (``MatchEngine`` and its
verdict: an allow-list hit means no match), a content id is a Stanch entry id and deleting content
withdraws the entry (it stays on record). HMA signal types map onto Stanch's hashes: ``pdq`` is the PDQ
of an image, ``video_md5`` the MD5 of a video file; HMA's coin-flip ratios do not exist here (always 1.0).
"""

from __future__ import annotations

import re
import time
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, PlainTextResponse

from stanch.api.auth import Caller, require
from stanch.api.requests import allow_private
from stanch.api.uploads import is_multipart, read_json, read_upload
from stanch.desk.audit import record
from stanch.matching.query import query_from_record
from stanch.matching.verdict import Match, Verdict
from stanch.net.fetch import FetchError, FetchLimits, SafeFetcher
from stanch.runtime import Runtime, Stanch
from stanch.signals import ImageSignals, MediaError, MediaSignals, hash_media
from stanch.signals.pdq import hamming, parse_pdq_hex
from stanch.store import (
    BankExists,
    Provenance,
    UnknownBank,
    UnknownEntry,
    add_entry,
    create_bank,
    entry_from_hashes,
    entry_from_signals,
    get_bank,
    get_entry,
    list_banks,
    withdraw_entry,
)
from stanch.store import NewEntry as StoredNewEntry

router = APIRouter(prefix="/hma", tags=["hma"])
BANK_NAME = re.compile(r"[A-Z_][A-Z0-9_]*")
"""HMA's rule for bank names (its storage refuses others: "Bank names must be UPPER_WITH_UNDERSCORE")."""
SIGNAL_TYPES = ("pdq", "video_md5")
CONTENT_FIELDS = ("photo", "video")
"""HMA names the multipart field after the content type."""
COMPARE_THRESHOLD = 31
"""PDQ distance that counts as a match in ``/m/compare``: Stanch's default bank threshold (and pytx's)."""
ENABLED = 0
"""HMA's ``disable_until_ts`` for content that matches; a withdrawn entry shows when it was withdrawn."""
NO_DISTANCE = "-"
"""pytx's ``NO_DISTANCE_STR``: the distance HMA reports for an exact (MD5) match."""
WITHDRAWN_REASON = "deleted through the HMA API"
_MD5 = re.compile(r"[0-9a-f]{32}")
_MEDIA = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "description": "one file, in the field named after its content type",
    "properties": {name: {"type": "string", "format": "binary"} for name in CONTENT_FIELDS}}}}}}


def _json(description: str, example: object) -> dict[str, Any]:
    """An OpenAPI request body for a JSON object the handler reads (and checks) itself."""
    return {"requestBody": {"required": True, "content": {"application/json": {
        "schema": {"type": "object", "description": description}, "example": example}}}}


_match = Depends(require("match"))
_bank = Depends(require("bank"))


class HmaError(Exception):
    """An answer in HMA's error shape: ``{"message": ...}`` with an HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def install(app: FastAPI) -> None:
    """Mount the routes under ``/hma`` and answer their refusals as HMA does."""

    async def hma_error(_: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, HmaError)
        return JSONResponse({"message": error.message}, status_code=error.status)

    app.add_exception_handler(HmaError, hma_error)
    app.include_router(router)


# ---- status -----------------------------------------------------------------------------------

@router.get("/status", response_class=PlainTextResponse)
def status() -> str:
    """HMA's health check: ``I-AM-ALIVE`` (no key needed: load balancers call it; it tells nothing).
    Stanch's index is loaded before the server answers at all, so there is no ``INDEX-NOT-LOADED``."""
    return "I-AM-ALIVE"


# ---- hashing (/h) -----------------------------------------------------------------------------

@router.get("/h/hash")
async def hash_url(app: Runtime, url: str, _: Caller = _match) -> dict[str, str]:
    """Fetch ``url`` (public addresses only, size and time limits) and hash it: ``{"pdq": hex}`` for a
    picture, ``{"video_md5": md5}`` for a video."""
    return _hma_hashes(await _hash_url(app, url))


@router.post("/h/hash", openapi_extra=_MEDIA)
async def hash_upload(app: Runtime, request: Request, _: Caller = _match) -> dict[str, str]:
    """Hash an upload sent as multipart field ``photo`` or ``video``."""
    return _hma_hashes(await _hash_upload(app, request))


# ---- matching (/m) ----------------------------------------------------------------------------

@router.get("/m/lookup")
async def lookup_get(
    app: Runtime,
    signal_type: str | None = None,
    signal: str | None = None,
    url: str | None = None,
    banks: str | None = None,
    _: Caller = _match,
) -> dict[str, Any]:
    """``?signal_type=pdq&signal=<hex>`` answers ``{BANK: [{"bank_content_id", "distance"}]}``;
    ``?url=`` hashes the URL first and answers keyed by signal type, as HMA does."""
    wanted = _bank_filter(banks)
    if url:
        signals = await _hash_url(app, url)
        by_type = _by_signal_type(signals, await run_in_threadpool(app.lookup_signals, signals), wanted)
        return by_type.get(signal_type, {}) if signal_type else by_type
    if not signal or not signal_type:
        raise HmaError(400, "Either url or both signal and signal_type are required")
    query = query_from_record(_hash_record(signal_type, signal))
    verdict = (await run_in_threadpool(app.lookup, [query]))[0]
    return _by_bank(verdict, wanted, exact=signal_type == "video_md5")


@router.post("/m/lookup", openapi_extra=_MEDIA)
async def lookup_post(app: Runtime, request: Request, banks: str | None = None,
                      _: Caller = _match) -> dict[str, Any]:
    """Hash the upload (multipart ``photo`` or ``video``) and answer ``{signal_type: {BANK: [...]}}``."""
    signals = await _hash_upload(app, request)
    verdict = await run_in_threadpool(app.lookup_signals, signals)
    return _by_signal_type(signals, verdict, _bank_filter(banks))


@router.post("/m/compare",
             openapi_extra=_json("signal type -> a pair of hashes", {"pdq": ["0" * 64, "f" * 64]}))
async def compare(app: Runtime, request: Request, _: Caller = _match) -> dict[str, Any]:
    """``{"pdq": [hex, hex]}`` → ``{"pdq": [matched, {"distance": d}]}``."""
    body = await _read_json(app, request)
    if not isinstance(body, dict):
        raise HmaError(400, "Request input was not a dict")
    results: dict[str, Any] = {}
    for name, pair in body.items():
        if not isinstance(pair, list):
            raise HmaError(400, f"Comparison hashes for {name} was not a list")
        if len(pair) != 2:
            raise HmaError(400, "Comparison hash list length must be exactly 2")
        if name != "pdq":
            raise HmaError(400, f"{name} does not support hash comparison")
        left, right = (_pdq(value) for value in pair)
        distance = hamming(left, right)
        results[name] = [distance <= COMPARE_THRESHOLD, {"distance": distance}]
    return results


@router.get("/m/index/status")
def index_status(app: Runtime, signal_type: str | None = None, _: Caller = _match) -> dict[str, Any]:
    """``{signal_type: {"present", "built_to", "size"}}``. Stanch's index is live (a write is matchable
    when it commits), so ``built_to`` is the time of the answer."""
    stats = app.matcher.stats()
    sizes = {"pdq": stats["image_hashes"], "video_md5": stats["frame_hashes"]}
    if signal_type is not None and signal_type not in sizes:
        raise HmaError(400, f"No such signal type '{signal_type}'")
    now = int(time.time())
    return {name: {"present": True, "built_to": now, "size": size}
            for name, size in sizes.items() if signal_type in (None, name)}


# ---- curation (/c) ----------------------------------------------------------------------------

@router.get("/c/banks")
def banks_list(app: Runtime, _: Caller = _bank) -> list[dict[str, Any]]:
    """Every bank as HMA's ``BankConfig``: ``[{"name", "matching_enabled_ratio"}]``."""
    with app.db.read() as session:
        return [_bank_config(b.name) for b in list_banks(session)]


@router.post("/c/banks", status_code=201, openapi_extra=_json("the new bank", {"name": "NCII_REPORTS"}))
async def banks_create(app: Runtime, request: Request, caller: Caller = _bank) -> dict[str, Any]:
    """``{"name": "UPPER_SNAKE", "enabled_ratio"?, "enabled"?}`` → 201 with the bank's config."""
    body = await _read_json(app, request)
    if not isinstance(body, dict) or not isinstance(body.get("name"), str):
        raise HmaError(400, 'send {"name": "BANK_NAME"}')
    name = body["name"]
    if not BANK_NAME.fullmatch(name) or len(name) > 200:
        raise HmaError(400, "Bank names must be UPPER_WITH_UNDERSCORE")
    ratio = body.get("enabled_ratio", 1.0 if body.get("enabled", True) else 0.0)
    if ratio != 1.0:
        raise HmaError(400, "Stanch has no partial or disabled matching of a bank: enabled_ratio must be 1")

    def create() -> None:
        with app.db.write() as session:
            bank = create_bank(session, name)
            record(session, caller.actor, "bank.create", ("bank", bank.name),
                   {"threshold": bank.threshold, "trust": bank.trust, "kind": bank.kind, "via": "hma"})
        app.follower.poll_after_commit()

    try:
        await run_in_threadpool(create)
    except BankExists:
        raise HmaError(403, "Bank already exists") from None
    return _bank_config(name)


@router.get("/c/bank/{bank_name}")
def bank_get(app: Runtime, bank_name: str, _: Caller = _bank) -> dict[str, Any]:
    with app.db.read() as session:
        return _bank_config(_find_bank(session, bank_name).name)


@router.post("/c/bank/{bank_name}/signal",
             openapi_extra=_json("one signal type -> its hash, and an optional note", {"pdq": "0" * 64}))
async def bank_add_signal(app: Runtime, bank_name: str, request: Request,
                          _: Caller = _bank) -> dict[str, Any]:
    """``{"pdq": hex}`` or ``{"video_md5": md5}`` (and an optional ``note``) → ``{"id", "signals"}``."""
    body = await _read_json(app, request)
    if not isinstance(body, dict):
        raise HmaError(400, "this endpoint expects a json object payload")
    body = {k: v for k, v in body.items() if k != "note"}
    if not body:
        raise HmaError(400, "No signals given")
    for name, value in body.items():
        if name not in SIGNAL_TYPES:
            raise HmaError(400, f"No such signal type {name}")
        if not isinstance(value, str):
            raise HmaError(400, f"Invalid {name} signal: not a string")
    if len(body) > 1:
        raise HmaError(400, "Stanch banks one content per signal here: send pdq (a picture) or"
                            " video_md5 (a video), not both")
    ((name, value),) = body.items()
    try:
        entry = (entry_from_hashes(pdq=value, provenance=_provenance()) if name == "pdq"
                 else entry_from_hashes(md5=_md5(value), kind="video", provenance=_provenance()))
    except ValueError as error:
        raise HmaError(400, f"Invalid {name} signal: {error}") from None
    entry_id = await run_in_threadpool(_add, app, bank_name, entry)
    return {"id": entry_id, "signals": {name: _entry_signal(entry, name)}}


@router.post("/c/bank/{bank_name}/content",
             openapi_extra={"requestBody": {**_MEDIA["requestBody"], "required": False}})
async def bank_add_content(app: Runtime, bank_name: str, request: Request, url: str | None = None,
                           _: Caller = _bank) -> dict[str, Any]:
    """Bank a file (multipart ``photo``/``video``) or ``?url=``: hashed with every robustness view
    Stanch banks; answers ``{"id", "signals"}`` with the HMA signals of it."""
    with app.db.read() as session:
        _find_bank(session, bank_name)
    if url:
        signals = await _hash_url(app, url, purpose="bank")
    elif is_multipart(request):
        signals = await _hash_upload(app, request, purpose="bank")
    else:
        raise HmaError(400, "Neither `url` nor multipart file upload was received")
    entry_id = await run_in_threadpool(_add, app, bank_name, entry_from_signals(signals, _provenance()))
    return {"id": entry_id, "signals": _hma_hashes(signals)}


@router.get("/c/bank/{bank_name}/content/{content_id}")
def bank_get_content(app: Runtime, bank_name: str, content_id: int, include_signals: bool = False,
                     _: Caller = _bank) -> dict[str, Any]:
    """HMA's ``BankContentResponse``: ``{"id", "disable_until_ts", "original_media_uri", "bank"}`` and,
    with ``?include_signals=true``, ``signals``."""
    with app.db.read() as session:
        bank = _find_bank(session, bank_name)
        try:
            entry = get_entry(session, bank, content_id)
        except UnknownEntry:
            raise HmaError(404, f"content '{content_id}' not found") from None
        out: dict[str, Any] = {
            "id": entry.id,
            "disable_until_ts": _disabled_until(entry.withdrawn_at),
            "original_media_uri": None,
            "bank": _bank_config(bank.name),
        }
        if include_signals:
            signals = {"pdq": entry.pdq.hex() if entry.kind == "image" and entry.pdq else None,
                       "video_md5": entry.md5 if entry.kind == "video" else None}
            out["signals"] = {k: v for k, v in signals.items() if v}
        return out


@router.delete("/c/bank/{bank_name}/content/{content_id}")
def bank_delete_content(app: Runtime, bank_name: str, content_id: int,
                        caller: Caller = _bank) -> dict[str, int]:
    """Withdraw the entry (it stops matching at once; it stays on record): ``{"deleted": 1}``, or
    ``{"deleted": 0}`` when the bank holds no such content or it was withdrawn already."""
    with app.db.write() as session:
        bank = _find_bank(session, bank_name)
        try:
            was_active = get_entry(session, bank, content_id).withdrawn_at is None
            withdraw_entry(session, bank, content_id, reason=WITHDRAWN_REASON)
        except UnknownEntry:
            return {"deleted": 0}
        if was_active:
            record(session, caller.actor, "entry.withdraw", ("entry", content_id),
                   {"bank": bank.name, "reason": WITHDRAWN_REASON})
    app.follower.poll_after_commit()
    return {"deleted": int(was_active)}


# ---- helpers ----------------------------------------------------------------------------------

def _disabled_until(withdrawn_at: Any) -> int:
    return ENABLED if withdrawn_at is None else int(withdrawn_at.timestamp())


def _bank_config(name: str) -> dict[str, Any]:
    return {"name": name, "matching_enabled_ratio": 1.0}


def _find_bank(session: Any, name: str) -> Any:
    try:
        return get_bank(session, name)
    except UnknownBank:
        raise HmaError(404, f"bank '{name}' not found") from None


def _provenance() -> Provenance:
    return Provenance(source="hma-api")


def _add(app: Stanch, bank_name: str, entry: StoredNewEntry) -> int:
    with app.db.write() as session:
        entry_id = add_entry(session, _find_bank(session, bank_name), entry)
    app.follower.poll_after_commit()
    return entry_id


def _entry_signal(entry: StoredNewEntry, name: str) -> str:
    if name == "pdq":
        assert entry.pdq is not None
        return entry.pdq.hex()
    assert entry.md5 is not None
    return entry.md5


def _pdq(value: object) -> bytes:
    try:
        return parse_pdq_hex(value if isinstance(value, str) else "")
    except ValueError as error:
        raise HmaError(400, f"Invalid pdq hash: {error}") from None


def _md5(value: str) -> str:
    text = value.strip().lower()
    if not _MD5.fullmatch(text):
        raise ValueError(f"a video_md5 is 32 hexadecimal digits, got {value!r:.40}")
    return text


def _hash_record(signal_type: str, signal: str) -> dict[str, str]:
    """The bare-hash object Stanch's matching rule takes for an HMA signal."""
    if signal_type == "pdq":
        return {"pdq": _pdq(signal).hex()}
    if signal_type == "video_md5":
        try:
            return {"md5": _md5(signal)}
        except ValueError as error:
            raise HmaError(400, f"invalid signal: {error}") from None
    raise HmaError(400, f"No such SignalType '{signal_type}'")


def _bank_filter(banks: str | None) -> set[str] | None:
    return set(banks.split(",")) if banks else None


def _by_bank(verdict: Verdict, wanted: set[str] | None, signals: tuple[str, ...] = (),
             exact: bool = False) -> dict[str, Any]:
    """HMA's ``{BANK: [{"bank_content_id", "distance"}]}`` from Stanch's verdict: only what Stanch
    counts as a match (an allow-list hit overrides, so it answers no banks). ``exact`` lookups have no
    distance, which pytx's exact-match index (behind HMA's ``video_md5``) writes as ``"-"``."""
    out: dict[str, list[dict[str, Any]]] = {}
    if not verdict.matched:
        return out
    for m in verdict.matches:
        if (wanted is None or m.bank in wanted) and (not signals or _signal_of(m) in signals):
            distance = NO_DISTANCE if exact else str(m.distance)
            out.setdefault(m.bank, []).append({"bank_content_id": m.entry, "distance": distance})
    return out


def _signal_of(match: Match) -> str:
    return "vpdq" if match.signal == "vpdq" else "video_md5"


def _by_signal_type(signals: MediaSignals, verdict: Verdict, wanted: set[str] | None) -> dict[str, Any]:
    """A picture's matches under ``pdq``; a video's under ``video_md5`` (exact) and ``vpdq`` (frames)."""
    if isinstance(signals, ImageSignals):
        return {"pdq": _by_bank(verdict, wanted)}
    return {"video_md5": _by_bank(verdict, wanted, ("video_md5",), exact=True),
            "vpdq": _by_bank(verdict, wanted, ("vpdq",))}


def _hma_hashes(signals: MediaSignals) -> dict[str, str]:
    if isinstance(signals, ImageSignals):
        return {"pdq": signals.pdq}
    return {"video_md5": signals.md5}


async def _hash_upload(app: Stanch, request: Request, purpose: Any = "query") -> MediaSignals:
    if not is_multipart(request):
        raise HmaError(400, "Missing multipart/form-data file upload")
    try:
        upload = await read_upload(request, CONTENT_FIELDS, app.limits.max_upload_bytes)
    except HTTPException as error:  # 413 too large, 422 malformed or no photo/video field
        raise HmaError(error.status_code, str(error.detail)) from None
    return await _hash(upload.data, purpose)


async def _read_json(app: Stanch, request: Request) -> object:
    """The JSON body under Stanch's size limit, refusals in HMA's shape."""
    try:
        return await read_json(request, app.limits.max_json_bytes)
    except HTTPException as error:  # 413 too large, 422 not JSON
        raise HmaError(error.status_code, str(error.detail)) from None


async def _hash_url(app: Stanch, url: str, purpose: Any = "query") -> MediaSignals:
    limits = FetchLimits(max_bytes=app.limits.max_upload_bytes)  # held in memory like an upload
    fetcher = SafeFetcher(allow_private=allow_private(), limits=limits)
    try:
        fetched = await run_in_threadpool(fetcher.fetch, url)
    except FetchError as error:
        raise HmaError(400, f"Failed to fetch URL: {error}") from None
    return await _hash(fetched.body or b"", purpose)


async def _hash(data: bytes, purpose: Any) -> MediaSignals:
    try:
        return await run_in_threadpool(hash_media, data, purpose=purpose,
                                       seconds_per_hash=1.0 if purpose == "query" else 0.0)
    except MediaError as error:
        raise HmaError(400, f"cannot hash this file: {error}") from None
