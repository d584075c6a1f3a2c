"""A case: its page (audited as a view), its blurred previews (a video's keyframes each), unblurring one
(audited), deciding it (the whole case at once, or item by item), and deciding each copy on its review
list."""

from __future__ import annotations

import base64
import json

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response

from stanch.desk.audit import record
from stanch.desk.cases import UnknownRequest, WrongState, find_item, find_request, reviewer_view
from stanch.desk.copy_review import decide_copy
from stanch.desk.decisions import decide, decide_items, parse_item_choices
from stanch.desk.minors import REFUSED_PREVIEW, REPORTING_DUTY, MinorCase, previewable, report_export
from stanch.desk.spool import Spool, open_spool, spool_ids
from stanch.desk.users import Reviewer
from stanch.runtime import Runtime, Stanch
from stanch.web.desk.deps import FormSender, SignedIn, Viewer, message
from stanch.web.previews import NoPreview, check_previewable, media_of, preview_jpeg
from stanch.web.templating import render

router = APIRouter(prefix="/desk", include_in_schema=False)

COPY_DECIDED = {"remove": "Copy removed: its removal went out (or goes with the case's removal).",
                "reject": "Copy rejected: it will not be put on this case's list again."}
DECIDED = {"remove": "Removed. The removal went out for every item and copy.",
           "reject": "Rejected. The requester will be told the reason.",
           "need_info": "Asked the requester for more information."}
ITEMS_DECIDED = {"remove": "Decided. Every item is removed.", "reject": "Decided. Every item is refused.",
                 "partial": "Decided. The removed items went out; the requester is told why the others "
                            "were refused.",
                 None: "Recorded. The other items of this case still need a decision."}


def no_such_case(request: Request, reviewer: Reviewer, case: str) -> Response:
    return message(request, reviewer, "No such case", f"There is no case {case}.", 404)


def case_page_for(request: Request, app: Stanch, reviewer: Reviewer, case: str, *,
                  clear_item: str | None = None, clear_frame: int | None = None, notice: str | None = None,
                  error: str | None = None, chosen: dict[str, str] | None = None,
                  status_code: int = 200) -> Response:
    """The case page (audited as a view); with ``clear_item`` that item's preview (frame ``clear_frame``
    of a video) is unblurred (audited). ``chosen`` is a refused decision's option and reason, shown
    again so nothing typed is lost. A minor's case shows no preview at all and refuses an unblur (403),
    whoever asks."""
    now = app.now()
    clear: dict[str, str] = {}
    no_preview: dict[str, str] = {}
    frames: dict[str, int] = {}
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
                frame = {} if clear_frame is None else {"frame": clear_frame}
                record(session, reviewer.actor, "item.unblur", ("request", found.public_id),
                       {"item_id": item.item_id, **frame})
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
            count = check_previewable(item_id, spool_id, spool)
            if count is not None:
                frames[item_id] = count
            if item_id == clear_item:
                media = media_of(item_id, spool_id, spool)
                jpeg = preview_jpeg(media, clear=True, frame=clear_frame or 0)
                clear[item_id] = "data:image/jpeg;base64," + base64.b64encode(jpeg).decode()
        except NoPreview as missing:
            no_preview[item["item_id"]] = str(missing)
    return render(request, "desk/case.html", {
        "title": f"Case {view['id']}", "reviewer": reviewer, "view": view, "clear": clear,
        "clear_frame": clear_frame or 0, "frames": frames, "no_preview": no_preview, "notice": notice,
        "error": error, "chosen": chosen or {}, "hashes_json": json.dumps(view["hashes"], indent=1),
        "to_review": [c for c in view["copies"] if c["review"] == "pending"
                      and view["status"] not in ("rejected", "withdrawn", "reinstated")],
        "reporting_duty": REPORTING_DUTY if view["minor"] else None,
    }, status_code)


@router.get("/cases/{case}", response_class=HTMLResponse)
def case_page(request: Request, app: Runtime, reviewer: SignedIn, case: str) -> Response:
    return case_page_for(request, app, reviewer, case)


@router.get("/cases/{case}/preview")
def blurred_preview(app: Runtime, reviewer: Viewer, case: str, item: str, frame: int = 0) -> Response:
    """The blurred, greyscale preview of one item of a case, or of one keyframe of a video (the only
    form sent without an unblur); 403 for a minor's case, whose items are never shown."""
    spool: Spool | None = None
    try:
        with app.db.read() as session:
            found = find_request(session, case)
            previewable(found)
            spool_id = find_item(session, found, item).spool_id
            spool = open_spool(session, create=False) if spool_id else None
        jpeg = preview_jpeg(media_of(item, spool_id, spool), frame=frame)
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
def unblur(request: Request, app: Runtime, reviewer: FormSender, case: str, item: str = Form(""),
           frame: int | None = Form(None)) -> Response:
    return case_page_for(request, app, reviewer, case, clear_item=item, clear_frame=frame)


@router.post("/cases/{case}/decision", response_class=HTMLResponse)
def decision(request: Request, app: Runtime, reviewer: FormSender, case: str, decision: str = Form(""),
             reason: str = Form(""), code: str = Form("")) -> Response:
    try:
        with app.db.write() as session:
            decide(session, find_request(session, case), decision, reason or None, actor=reviewer.actor,
                   now=app.now(), reason_code=code or None)
    except UnknownRequest:
        return no_such_case(request, reviewer, case)
    except (WrongState, ValueError) as problem:
        return case_page_for(request, app, reviewer, case, error=str(problem), status_code=422,
                             chosen={"decision": decision, "reason": reason, "code": code})
    app.follower.poll_after_commit()
    return case_page_for(request, app, reviewer, case, notice=DECIDED.get(decision, "Decided."))


@router.post("/cases/{case}/items", response_class=HTMLResponse)
async def item_decisions(request: Request, app: Runtime, reviewer: FormSender, case: str) -> Response:
    """The per-item form: ``item-N`` (an item id) with ``decision-N`` (remove, reject or empty for
    "not now"), ``code-N`` (a refusal's reason code, or empty) and ``reason-N``; what is typed comes back
    with the error if it is refused."""
    form = await request.form()
    rows = [[str(form.get(f"{key}-{n}", "")) for key in ("item", "decision", "reason", "code")]
            for n in range(len(form)) if f"item-{n}" in form]
    return await run_in_threadpool(_decide_items, request, app, reviewer, case, rows)


def _decide_items(request: Request, app: Stanch, reviewer: Reviewer, case: str, rows: list[list[str]]
                  ) -> Response:
    chosen = [{"item_id": item, "decision": decision, "reason": reason or None,
               **({"reason_code": code} if code else {})}
              for item, decision, reason, code in rows if decision]
    typed = {f"{key}:{item}": value for item, decision, reason, code in rows
             for key, value in (("decision", decision), ("reason", reason), ("code", code))}
    try:
        if not chosen:
            raise ValueError("choose remove or reject for at least one item")
        with app.db.write() as session:
            result = decide_items(session, find_request(session, case), parse_item_choices(chosen),
                                  actor=reviewer.actor, now=app.now())
    except UnknownRequest:
        return no_such_case(request, reviewer, case)
    except (WrongState, ValueError) as problem:
        return case_page_for(request, app, reviewer, case, error=str(problem), status_code=422, chosen=typed)
    app.follower.poll_after_commit()
    return case_page_for(request, app, reviewer, case, notice=ITEMS_DECIDED.get(result.decision, "Decided."))


@router.post("/cases/{case}/copies/decision", response_class=HTMLResponse)
def copy_decision(request: Request, app: Runtime, reviewer: FormSender, case: str, item: str = Form(""),
                  decision: str = Form(""), reason: str = Form("")) -> Response:
    """Remove or reject one copy on the case's review list."""
    try:
        with app.db.write() as session:
            decide_copy(session, find_request(session, case), item, decision, reason or None,
                        actor=reviewer.actor, now=app.now())
    except UnknownRequest:
        return no_such_case(request, reviewer, case)
    except (WrongState, ValueError) as problem:
        return case_page_for(request, app, reviewer, case, error=f"{item}: {problem}", status_code=422)
    app.follower.poll_after_commit()
    return case_page_for(request, app, reviewer, case, notice=COPY_DECIDED.get(decision, "Decided."))
