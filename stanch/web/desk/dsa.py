"""The DSA Transparency Database page (/desk/dsa, admins): statements by state, and the ones refused
with the database's message, so an admin can mend and send them by hand (they are never resent).
Each view is an audit event (``dsa.view``)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from stanch.actions.settings import SettingsError, dsa_tdb
from stanch.desk.audit import record
from stanch.desk.dsa import dsa_counts, rejected
from stanch.runtime import Runtime
from stanch.web.desk.deps import Admin
from stanch.web.templating import render

router = APIRouter(prefix="/desk", include_in_schema=False)


@router.get("/dsa", response_class=HTMLResponse)
def dsa_page(request: Request, app: Runtime, reviewer: Admin) -> Response:
    try:
        configured = "on" if dsa_tdb() else "off (STANCH_DSA_TDB_URL is unset)"
    except SettingsError as error:
        configured = f"misconfigured: {error}"
    now = app.now()
    with app.db.write() as session:
        counts, refused = dsa_counts(session), rejected(session)
        record(session, reviewer.actor, "dsa.view", ("dsa", "statements"), {"rejected": len(refused)},
               clock=lambda: now)
    return render(request, "desk/dsa.html", {"title": "DSA Transparency Database", "reviewer": reviewer,
                                             "configured": configured, "counts": counts, "rejected": refused})
