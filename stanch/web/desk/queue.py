"""The desk's home: the queue of open cases (least time left first), copies of removed cases waiting for
review (soonest due first), and what this reviewer decided."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from stanch.desk.appeals import open_appeals
from stanch.desk.cases import decided_by, queue, queue_row
from stanch.desk.copy_review import copies_to_review
from stanch.desk.entry_feedback import entry_notices
from stanch.runtime import Runtime
from stanch.web.desk.deps import SignedIn
from stanch.web.templating import render

router = APIRouter(prefix="/desk", include_in_schema=False)


@router.get("", response_class=HTMLResponse)
def queue_page(request: Request, app: Runtime, reviewer: SignedIn) -> Response:
    now = app.now()
    with app.db.read() as session:
        rows = [queue_row(r, now) for r in queue(session, now)]
        decided = decided_by(session, reviewer.actor)
        appeals = len(open_appeals(session))
        entries = entry_notices(session)
        copies = copies_to_review(session, now)
    return render(request, "desk/queue.html", {"title": "Queue", "reviewer": reviewer, "rows": rows,
                                               "decided": decided, "appeals": appeals, "entries": entries,
                                               "copies": copies})
