"""``POST /v1/hash``, ``POST /v1/match`` and ``POST /v1/match/batch`` (scope ``match``).

Uploaded files are read into memory (``stanch.api.uploads``), hashed there, matched, and dropped:
nothing of them is written anywhere. Hashing runs on a worker thread so the server keeps answering.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool

from stanch.api.auth import Caller, require
from stanch.api.schemas import MAX_BATCH, BatchQuery, HashQuery, json_body, validated
from stanch.api.uploads import is_multipart, read_json, read_upload
from stanch.matching.query import ImageQuery, hash_query, media_query
from stanch.runtime import Runtime
from stanch.signals import (
    QUERY_SECONDS_PER_HASH,
    Purpose,
    VideoSignals,
    hash_media,
    signals_from_record,
    signals_record,
)

router = APIRouter(prefix="/v1", tags=["matching"])
BODY_MODELS = (HashQuery, BatchQuery)
"""JSON bodies read by the handlers themselves, described in the OpenAPI document by ``create_app``."""

"""An uploaded video is hashed at one frame a second: the query side of the video rule."""

_FILE_BODY = {
    "multipart/form-data": {
        "schema": {
            "type": "object",
            "properties": {"file": {"type": "string", "format": "binary"}},
            "required": ["file"],
        }
    }
}
_MATCH_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/HashQuery"}}, **_FILE_BODY},
    }
}


@router.post("/hash", openapi_extra={"requestBody": {"required": True, "content": _FILE_BODY}})
async def hash_upload(
    app: Runtime,
    request: Request,
    purpose: Purpose = Query("query", alias="for", description="query, or bank for every robustness view"),
    _: Caller = Depends(require("match")),
) -> dict[str, Any]:
    """Hash an uploaded file (multipart field ``file``): the same object as ``stanch hash --for`` prints
    (``?for=bank`` for a record to bank with every robustness view and every video frame; a query
    samples a video's frames as ``/v1/match`` does, so it costs no more than a match)."""
    if not is_multipart(request):
        raise HTTPException(415, "send the file as multipart/form-data in a field named 'file'")
    upload = await read_upload(request, "file", app.limits.max_upload_bytes)
    every = 0.0 if purpose == "bank" else QUERY_SECONDS_PER_HASH
    signals = await run_in_threadpool(hash_media, upload.data, purpose=purpose, seconds_per_hash=every)
    return {"path": upload.filename, **signals_record(signals)}


@router.post("/match", openapi_extra=_MATCH_BODY)
async def match(
    app: Runtime, request: Request, _: Caller = Depends(require("match")),
    item_id: str | None = Query(None, min_length=1, max_length=500,
                                description="the platform's id of an uploaded file (see the body's item_id)"),
) -> dict[str, Any]:
    """Match a hash (``{"pdq": hex}``, optionally ``quality``, ``md5``, ``sha256``), full signals
    (``{"signals": {...}}`` as ``stanch hash`` prints them) or an uploaded file (multipart ``file``).
    ``item_id`` (in the body, or ``?item_id=`` with a file) is the platform's id of the upload: with
    the upload log on it is kept with the PDQ hash, so a hash banked later finds this upload; a file
    with an ``item_id`` that matches a removed case's entries becomes a copy of that case (removed at
    once or put on its review list with a preview, by the bank's auto-remove rule), as a sweep's would.

    Answers ``{"matched", "action", "matches": [{"bank", "entry", "distance", "signal", ...}]}``;
    ``action`` is ``block``, ``review``, ``allow`` (an allow-list matched: do not act) or ``none``.
    """
    if is_multipart(request):
        upload = await read_upload(request, "file", app.limits.max_upload_bytes)
        signals = await run_in_threadpool(hash_media, upload.data, seconds_per_hash=QUERY_SECONDS_PER_HASH)
        verdict = await run_in_threadpool(app.lookup_signals, signals, item_id)
        if item_id is not None and verdict.matched:
            await run_in_threadpool(app.feed_desk, item_id, signals, verdict, upload.data)
        return {"kind": signals.kind, **verdict.to_dict()}
    query, item = _validated(await read_json(request, app.limits.max_json_bytes))
    return app.lookup([query], [item or item_id])[0].to_dict()


@router.post("/match/batch", openapi_extra=json_body(BatchQuery))
async def match_batch(
    app: Runtime, request: Request, _: Caller = Depends(require("match"))
) -> dict[str, Any]:
    """Match up to 1,000 hashes or signals in one request: ``{"items": [...]}`` → ``{"results": [...]}``
    in the same order, each result as ``/v1/match`` answers."""
    body = await read_json(request, app.limits.max_json_bytes)
    items = body.get("items") if isinstance(body, dict) else None
    if not isinstance(items, list) or (isinstance(body, dict) and set(body) - {"items"}):
        raise HTTPException(422, 'send {"items": [...]}: a list of lookups as /v1/match takes them')
    if len(items) > MAX_BATCH:
        raise HTTPException(413, f"a batch holds at most {MAX_BATCH:,} items; this one has {len(items):,}")
    lookups = [_validated(item, f"items.{i}") for i, item in enumerate(items)]
    verdicts = await run_in_threadpool(app.lookup, [q for q, _ in lookups], [i for _, i in lookups])
    return {"results": [v.to_dict() for v in verdicts]}


def _validated(data: object, where: str = "body") -> tuple[ImageQuery | VideoSignals, str | None]:
    """A lookup from JSON: loose hashes or image signals as an ``ImageQuery``, or video signals; and
    the platform's item id, if given."""
    query = validated(HashQuery, data, where)
    if query.signals is None:
        return hash_query(query.pdq, query.quality, query.md5, query.sha256), query.item_id
    try:
        signals = signals_from_record(query.signals)
    except ValueError as error:
        raise HTTPException(422, f"{where}.signals: {error}") from None
    return media_query(signals), query.item_id
