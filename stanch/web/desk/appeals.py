"""Appeals against removals: the open ones, one appeal's page, and deciding it (reinstate or uphold)."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from stanch.desk.appeals import (
    SameReviewer,
    UnknownAppeal,
    appeal_queue_rows,
    decide_appeal,
    find_appeal,
    reviewer_appeal_view,
)
from stanch.desk.cases import WrongState
from stanch.desk.users import Reviewer
from stanch.runtime import Runtime, Stanch
from stanch.web.desk.deps import FormSender, SignedIn, message
from stanch.web.templating import render

router = APIRouter(prefix="/desk", include_in_schema=False)


@router.get("/appeals", response_class=HTMLResponse)
def appeals_page(request: Request, app: Runtime, reviewer: SignedIn) -> Response:
    with app.db.read() as session:
        rows = appeal_queue_rows(session, reviewer.actor, app.now())
    return render(request, "desk/appeals.html", {"title": "Appeals", "reviewer": reviewer, "rows": rows})


def appeal_page_for(request: Request, app: Stanch, reviewer: Reviewer, number: str, *,
                    notice: str | None = None, error: str | None = None, status_code: int = 200) -> Response:
    try:
        with app.db.write() as session:
            view = reviewer_appeal_view(session, find_appeal(session, number, reviewer=True), reviewer.actor,
                                        app.now())
    except UnknownAppeal:
        return message(request, reviewer, "No such appeal", f"There is no appeal {number}.", 404)
    return render(request, "desk/appeal.html", {"title": f"Appeal {view['id']}", "reviewer": reviewer,
                                                "view": view, "notice": notice, "error": error}, status_code)


@router.get("/appeals/{number}", response_class=HTMLResponse)
def appeal_page(request: Request, app: Runtime, reviewer: SignedIn, number: str) -> Response:
    return appeal_page_for(request, app, reviewer, number)


@router.post("/appeals/{number}/decision", response_class=HTMLResponse)
def appeal_decision(request: Request, app: Runtime, reviewer: FormSender, number: str,
                    decision: str = Form(""), reason: str = Form("")) -> Response:
    try:
        with app.db.write() as session:
            appeal = find_appeal(session, number, reviewer=True)
            decide_appeal(session, appeal, decision, reason, actor=reviewer.actor, now=app.now())
    except UnknownAppeal:
        return appeal_page_for(request, app, reviewer, number)
    except (SameReviewer, WrongState, ValueError) as problem:
        return appeal_page_for(request, app, reviewer, number, error=str(problem), status_code=422)
    app.follower.poll_after_commit()
    return appeal_page_for(request, app, reviewer, number,
                           notice="Decided. The person who appealed will be told.")
