"""Exchange sources (admins only): each source's settings and status, its newest quarantined records
and pages, and a button that fetches it now. Configuring sources stays with ``stanch exchange add`` and
``POST /v1/exchanges`` (credentials are references to a variable or a file, which is a server-side
matter); the page never shows a credential, only where it comes from."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from stanch.desk.audit import record
from stanch.desk.users import Reviewer
from stanch.exchange.live.fetcher import fetch_source
from stanch.exchange.live.sources import get_source, list_sources, quarantine_records, source_record
from stanch.runtime import Runtime, Stanch
from stanch.web.desk.deps import Admin, AdminForm
from stanch.web.templating import render

router = APIRouter(prefix="/desk", include_in_schema=False)


@router.get("/exchanges", response_class=HTMLResponse)
def exchanges_page(request: Request, app: Runtime, reviewer: Admin) -> Response:
    return _page(request, app, reviewer)


def _page(request: Request, app: Stanch, reviewer: Reviewer, context: dict[str, Any] | None = None,
          status_code: int = 200) -> Response:
    with app.db.read() as session:
        sources = [
            {**source_record(session, s), "quarantine": quarantine_records(session, s, 10)}
            for s in list_sources(session)
        ]
    return render(request, "desk/exchanges.html",
                  {"title": "Exchange sources", "reviewer": reviewer, "sources": sources, **(context or {})},
                  status_code)


@router.post("/exchanges/{name}/fetch", response_class=HTMLResponse)
def exchanges_fetch(request: Request, app: Runtime, reviewer: AdminForm, name: str) -> Response:
    with app.db.write() as session:
        get_source(session, name)  # UnknownSource: 404
        record(session, reviewer.actor, "exchange.fetch", ("exchange", name))
    result = fetch_source(app.db, name, clock=app.now)
    app.follower.poll_after_commit()
    if not result.fetched:
        message = f"{name} is being fetched by another process; try again in a few minutes."
    elif result.error:
        message = f"{name}: {result.pages} pages, {result.added} added, {result.withdrawn} withdrawn, " \
                  f"{result.quarantined} quarantined; stopped: {result.error}"
    else:
        message = f"{name}: {result.pages} pages, {result.added} added, {result.withdrawn} withdrawn, " \
                  f"{result.quarantined} quarantined."
    return _page(request, app, reviewer, {"message": message})
