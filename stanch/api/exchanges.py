"""Live exchange sources over HTTP (scope ``admin``): configure, inspect, fetch now, remove.

Answers never hold credentials: a source says where its credentials come from (a variable's name or
a file's path), never what they are. Every change and every fetch asked for here is audited.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from stanch.api.auth import Caller, require
from stanch.api.errors import unprocessable
from stanch.api.schemas import json_body, validated
from stanch.api.uploads import read_json
from stanch.desk.audit import record
from stanch.exchange.live.fetcher import fetch_source
from stanch.exchange.live.sources import (
    SourceExists,
    add_source,
    get_source,
    list_sources,
    quarantine_records,
    remove_source,
    source_record,
)
from stanch.runtime import Runtime, Stanch

router = APIRouter(prefix="/v1/exchanges", tags=["exchanges"])


class NewSource(BaseModel):
    """A source feeding a bank; exactly one of ``credentials_env`` and ``credentials_file``."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=200)
    type: Literal["stopncii", "ncmec", "threatexchange", "tcap"]
    bank: str = Field(max_length=200)
    credentials_env: str | None = Field(None, max_length=200)
    credentials_file: str | None = Field(None, max_length=4096)
    base_url: str | None = Field(None, max_length=2048)
    trust: Literal["block", "review"] | None = None
    threshold: int | None = Field(None, ge=0, le=256)
    schedule_seconds: int = Field(3600, ge=60, le=30 * 86400)
    feedback: bool = False
    push: bool = False
    privacy_group: int | None = Field(None, ge=1, le=2**63 - 1)


BODY_MODELS = (NewSource,)


def _actor(caller: Caller) -> str:
    return f"key:{caller.key_id}"


@router.get("")
def exchanges_list(app: Runtime, _: Caller = Depends(require("admin"))) -> dict[str, Any]:
    """Every source with its settings and status (last fetch, checkpoint, counts, last error)."""
    with app.db.read() as session:
        return {"exchanges": [source_record(session, s) for s in list_sources(session)]}


@router.post("", status_code=201, openapi_extra=json_body(NewSource))
async def exchanges_add(
    app: Runtime, request: Request, caller: Caller = Depends(require("admin"))
) -> dict[str, Any]:
    """Configure a source: ``{"name", "type": "stopncii", "bank", "credentials_env"|"credentials_file",
    "base_url", "trust", "threshold", "schedule_seconds", "feedback", "push", "privacy_group"}``."""
    body = validated(NewSource, await read_json(request, app.limits.max_json_bytes))
    return await run_in_threadpool(_add, app, body, _actor(caller))


def _add(app: Stanch, body: NewSource, actor: str) -> dict[str, Any]:
    try:
        with app.db.write() as session:
            source = add_source(session, **body.model_dump())
            answer = source_record(session, source)
            details = {k: answer[k] for k in ("type", "bank", "credentials", "trust", "schedule_seconds")}
            record(session, actor, "exchange.add", ("exchange", source.name), details)
    except SourceExists:  # 409, through the app's map (as UnknownBank is 404)
        raise
    except ValueError as error:  # a setting out of range
        raise unprocessable(error) from None
    if body.threshold is not None:
        app.follower.poll_after_commit()
    return answer


@router.get("/{name}")
def exchanges_get(app: Runtime, name: str, _: Caller = Depends(require("admin"))) -> dict[str, Any]:
    """One source's settings, status and its newest quarantined records and pages."""
    with app.db.read() as session:
        source = get_source(session, name)
        return {**source_record(session, source), "quarantine": quarantine_records(session, source)}


@router.delete("/{name}")
def exchanges_remove(
    app: Runtime, name: str, caller: Caller = Depends(require("admin"))
) -> dict[str, Any]:
    """Forget a source and its quarantine (the entries it brought stay in the bank)."""
    with app.db.write() as session:
        remove_source(session, name)
        record(session, _actor(caller), "exchange.remove", ("exchange", name))
    return {"removed": name}


@router.post("/{name}/fetch")
async def exchanges_fetch(
    app: Runtime, name: str, caller: Caller = Depends(require("admin"))
) -> dict[str, Any]:
    """Fetch the source now, from its checkpoint; 409 while another process is fetching it."""
    return await run_in_threadpool(_fetch, app, name, _actor(caller))


def _fetch(app: Stanch, name: str, actor: str) -> dict[str, Any]:
    with app.db.write() as session:
        get_source(session, name)
        record(session, actor, "exchange.fetch", ("exchange", name))
    result = fetch_source(app.db, name, clock=app.now)
    if not result.fetched:
        raise HTTPException(409, f"exchange source {name!r} is being fetched by another process; try later")
    app.follower.poll_after_commit()
    return {
        "source": result.source, "complete": result.complete, "pages": result.pages, "added": result.added,
        "withdrawn": result.withdrawn, "unchanged": result.unchanged, "quarantined": result.quarantined,
        "skipped": result.skipped, "error": result.error,
        "next_fetch_at": result.next_fetch_at.isoformat() if result.next_fetch_at else None,
    }  # fmt: skip

