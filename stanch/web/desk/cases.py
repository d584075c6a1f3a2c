"""A case: its page (audited as a view), its blurred previews, unblurring one (audited), and deciding it."""

from __future__ import annotations

import base64
import json

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from stanch.desk.audit import record
from stanch.desk.cases import UnknownRequest, WrongState, find_item, find_request, reviewer_view
from stanch.desk.decisions import decide
from stanch.desk.minors import REFUSED_PREVIEW, REPORTING_DUTY, MinorCase, previewable, report_export
from stanch.desk.spool import Spool, open_spool, spool_ids
from stanch.desk.users import Reviewer
from stanch.runtime import Runtime, Stanch
from stanch.web.desk.deps import FormSender, SignedIn, Viewer, message
from stanch.web.previews import NoPreview, check_previewable, media_of, preview_jpeg
from stanch.web.templating import render

router = APIRouter(prefix="/desk", include_in_schema=False)

DECIDED = {"remove": "Removed. The removal went out for every item and copy.",
           "reject": "Rejected. The requester will be told the reason.",
           "need_info": "Asked the requester for more information."}


def no_such_case(request: Request, reviewer: Reviewer, case: str) -> Response:
    return message(request, reviewer, "No such case", f"There is no case {case}.", 404)


def case_page_for(request: Request, app: Stanch, reviewer: Reviewer, case: str, *,
                  clear_item: str | None = None, notice: str | None = None, error: str | None = None,
                  chosen: dict[str, str] | None = None, status_code: int = 200) -> Response:
    """The case page (audited as a view); with ``clear_item`` that item's preview is unblurred (audited).
    ``chosen`` is a refused decision's option and reason, shown again so nothing typed is lost.
    A minor's case shows no preview at all and refuses an unblur (403), whoever asks."""
    now = app.now()
    clear: dict[str, str] = {}
    no_preview: dict[str, str] = {}
    try:
        with app.db.write() as session:
            found = find_request(session, case)
            if clear_item is not None:
                previewable(found)
            view = reviewer_view(session, found, reviewer.actor, now)
            spooled = spool_ids(session, found.id)
            spool = open_spool(session, create=False) if spooled else None
            if clear_item is not None:
                item = find_item(session, found, clear_item)
                record(session, reviewer.actor, "item.unblur", ("request", found.public_id),
                       {"item_id": item.item_id})
    except UnknownRequest:
        return no_such_case(request, reviewer, case)
    except MinorCase as refused:
        return message(request, reviewer, "Not shown", str(refused), 403)
    for item in view["items"] + view["copies"]:
        if view["minor"]:
            no_preview[item["item_id"]] = REFUSED_PREVIEW
            continue
        item_id, spool_id = item["item_id"], spooled.get(item["item_id"])
        try:
            check_previewable(item_id, spool_id, spool)
            if item_id == clear_item:
                jpeg = preview_jpeg(media_of(item_id, spool_id, spool), clear=True)
                clear[item["item_id"]] = "data:image/jpeg;base64," + base64.b64encode(jpeg).decode()
        except NoPreview as missing:
            no_preview[item["item_id"]] = str(missing)
    return render(request, "desk/case.html", {
        "title": f"Case {view['id']}", "reviewer": reviewer, "view": view, "clear": clear,
        "no_preview": no_preview, "notice": notice, "error": error, "chosen": chosen or {},
        "hashes_json": json.dumps(view["hashes"], indent=1),
        "reporting_duty": REPORTING_DUTY if view["minor"] else None,
    }, status_code)


@router.get("/cases/{case}", response_class=HTMLResponse)
def case_page(request: Request, app: Runtime, reviewer: SignedIn, case: str) -> Response:
    return case_page_for(request, app, reviewer, case)


@router.get("/cases/{case}/preview")
def blurred_preview(app: Runtime, reviewer: Viewer, case: str, item: str) -> Response:
    """The blurred, greyscale preview of one item of a case (the only form sent without an unblur); 403
    for a minor's case, whose items are never shown."""
    spool: Spool | None = None
    try:
        with app.db.read() as session:
            found = find_request(session, case)
            previewable(found)
            spool_id = find_item(session, found, item).spool_id
            spool = open_spool(session, create=False) if spool_id else None
        jpeg = preview_jpeg(media_of(item, spool_id, spool))
    except MinorCase:
        return Response(status_code=403)
    except (UnknownRequest, NoPreview):
        return Response(status_code=404)
    return Response(jpeg, media_type="image/jpeg", headers={"Cache-Control": "no-store"})


@router.get("/cases/{case}/minor-report")
def minor_report(request: Request, app: Runtime, reviewer: SignedIn, case: str) -> Response:
    """What Stanch knows about a minor's case, as JSON, for the platform's own report to NCMEC (no
    media, nothing about the requester; audited as ``request.minor_export``); 404 for other cases."""
    try:
        with app.db.write() as session:
            export = report_export(session, find_request(session, case), reviewer.actor, app.now())
    except UnknownRequest:
        return no_such_case(request, reviewer, case)
    except ValueError as not_minor:
        return message(request, reviewer, "No report to export", str(not_minor), 404)
    return Response(json.dumps(export, indent=2), media_type="application/json", headers={
        "Cache-Control": "no-store",
        "Content-Disposition": f'attachment; filename="{export["case"]["id"]}-minor-report.json"'})


@router.post("/cases/{case}/unblur", response_class=HTMLResponse)
def unblur(request: Request, app: Runtime, reviewer: FormSender, case: str, item: str = Form("")) -> Response:
    return case_page_for(request, app, reviewer, case, clear_item=item)


@router.post("/cases/{case}/decision", response_class=HTMLResponse)
def decision(request: Request, app: Runtime, reviewer: FormSender, case: str, decision: str = Form(""),
             reason: str = Form("")) -> Response:
    try:
        with app.db.write() as session:
            decide(session, find_request(session, case), decision, reason or None, actor=reviewer.actor,
                   now=app.now())
    except UnknownRequest:
        return no_such_case(request, reviewer, case)
    except (WrongState, ValueError) as problem:
        return case_page_for(request, app, reviewer, case, error=str(problem), status_code=422,
                             chosen={"decision": decision, "reason": reason})
    app.follower.poll_after_commit()
    return case_page_for(request, app, reviewer, case, notice=DECIDED.get(decision, "Decided."))
