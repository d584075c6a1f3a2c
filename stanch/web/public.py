"""The public pages: ask for removal (/report), follow a request (/status), appeal a removal (/appeal).

They call the desk library directly. The /report form never carries files: the file input has no
``name``, so a browser does not send it; ``report.js`` hashes the chosen files on the device and puts
only the hashes in a hidden field. Without JavaScript the form still works, with locations alone.
"""

from __future__ import annotations

import os
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from stanch.desk.appeals import UnknownAppeal, appellant_status, find_appeal, submit_appeal
from stanch.desk.cases import (
    UnknownRequest,
    WrongState,
    add_info,
    request_for_token,
    requester_view,
    withdraw,
)
from stanch.desk.intake import InvalidRequest, file_request, validate
from stanch.desk.minors import HELP
from stanch.desk.report import monthly
from stanch.desk.request_forms import GOOD_FAITH_STATEMENT, pasted_hashes
from stanch.desk.request_forms import browser_hashes as _browser_hashes
from stanch.desk.request_forms import typed_lines as _typed_lines
from stanch.desk.safeguards import RateLimited, Safeguards
from stanch.desk.tokens import normalise_case_number
from stanch.runtime import Runtime, Stanch
from stanch.web.charts import Bar, bar_chart
from stanch.web.security import client_address, form_token, form_token_ok, set_form_cookie
from stanch.web.templating import render

router = APIRouter(include_in_schema=False)

FIELD_OF_PROBLEM = {
    "requester.name": "name", "requester.email": "email", "requester": "name", "relationship": "relationship",
    "signature": "signature", "good_faith": "good_faith", "statement": "good_faith", "locations": "locations",
    "hashes": "pasted", "explanation": "explanation", "phone": "phone",
}
_STALE_FORM = ("This form was open too long or came from another page. Nothing was sent. Please check your "
               "answers below and send it again.")


def _page(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> Response:
    """A public page with a form: the form's CSRF token goes in the page and in a cookie."""
    token = form_token(request)
    response = render(request, name, {**context, "form_token": token}, status_code)
    set_form_cookie(response, request, token)
    return response


APPEAL_FIELDS = {"item_id": "item_id", "item_ids": "item_id", "case_id": "item_id", "appellant.name": "name",
                 "appellant.email": "email", "appellant": "name", "statement": "statement"}


def field_errors(problems: list[str], fields: dict[str, str] = FIELD_OF_PROBLEM) -> dict[str, list[str]]:
    """Problems from the desk library, grouped under the form field each one is about."""
    errors: dict[str, list[str]] = {}
    heads = [problem.split(" ", 1)[0].split(":", 1)[0].split("[", 1)[0] for problem in problems]
    for head, problem in zip(heads, problems, strict=True):
        if head == "statement" and "good_faith" in heads:
            continue  # the form fills the statement from the good-faith box: one box, one message
        field = fields.get(head) or fields.get(head.split(".", 1)[0], "form")
        errors.setdefault(field, []).append(plain_words(problem))
    return errors


PLAIN_NAMES = {
    "requester.name": "Your name", "requester.email": "Your email address", "appellant.name": "Your name",
    "appellant.email": "Your email address", "relationship": "Who is asking", "signature": "Your signature",
    "good_faith": "The statement", "statement": "The statement", "locations": "The web addresses",
    "hashes": "Your files' fingerprints", "phone": "The phone number", "explanation": "The explanation",
    "item_id": "The item", "requester": "Your name and email", "appellant": "Your name and email",
}


PLURAL_NAMES = frozenset({"locations", "hashes"})
"""Fields the page names in the plural ("The web addresses are missing", not "is")."""
PAGE_MESSAGES = {
    "relationship": "Who is asking: choose whether you are the person shown, or are acting for them.",
    "good_faith": "The statement: tick the box to confirm it in good faith (we cannot act without it).",
}
"""Problems the API words with its raw values (``'self'``, ``true``), as the form says them instead."""


def plain_words(problem: str) -> str:
    """The library names fields as the API spells them; the page says them in words."""
    head, _, rest = problem.partition(" ")
    if head in PAGE_MESSAGES:
        return PAGE_MESSAGES[head]
    for name, words in PLAIN_NAMES.items():
        if head == name or head.startswith((name + ".", name + "[", name + ":")):
            if name in PLURAL_NAMES and rest.startswith("is "):
                rest = "are " + rest.removeprefix("is ")
            return f"{words}{':' if head.endswith(':') else ''} {rest}".strip()
    return problem


@router.get("/", response_class=HTMLResponse)
def home() -> Response:
    return RedirectResponse("/report", status_code=303)


@router.get("/report", response_class=HTMLResponse)
def report_form(request: Request) -> Response:
    return _page(request, "report.html", {"title": "Ask for intimate images to be removed", "values": {},
                                          "errors": {}, "take_it_down": HELP["url_text"]})


@router.post("/report", response_class=HTMLResponse)
def report_submit(
    request: Request,
    app: Runtime,
    background: BackgroundTasks,
    form_token_value: str = Form("", alias="form_token"),
    relationship: str = Form(""),
    name: str = Form(""),
    email: str = Form(""),
    phone: str = Form(""),
    locations: str = Form(""),
    hashes: str = Form(""),
    pasted: str = Form(""),
    explanation: str = Form(""),
    good_faith: str = Form(""),
    signature: str = Form(""),
    under_18: str = Form(""),
) -> Response:
    values = {"relationship": relationship, "name": name, "email": email, "phone": phone,
              "locations": locations,
              "hashes": hashes, "pasted": pasted, "explanation": explanation, "good_faith": good_faith,
              "signature": signature, "under_18": under_18}
    context: dict[str, Any] = {"title": "Ask for intimate images to be removed", "values": values,
                               "take_it_down": HELP["url_text"]}
    if not form_token_ok(request, form_token_value):
        return _page(request, "report.html", {**context, "errors": {"form": [_STALE_FORM]}}, 403)
    body: dict[str, Any] = {
        "requester": {"name": name, "email": email}, "relationship": relationship or None,
        "signature": signature, "good_faith": good_faith == "yes",
        "statement": GOOD_FAITH_STATEMENT if good_faith == "yes" else "",
        "locations": _typed_lines(locations),
        "explanation": explanation or None, "phone": phone or None, "under_18": under_18 == "yes",
    }
    try:
        body["hashes"] = _browser_hashes(hashes) + pasted_hashes(pasted)
        valid = validate(body)
        with app.db.write() as session:
            receipt, stored = file_request(session, valid, now=app.now(), address=client_address(request),
                                           safeguards=Safeguards.from_environment())
            request_id = stored.id
    except InvalidRequest as problems:
        return _page(request, "report.html", {**context, "errors": field_errors(problems.problems)}, 422)
    except RateLimited as limited:
        return render(request, "message.html", {
            "title": "Please wait before sending another request",
            "message": f"{limited} Your earlier requests are safe and being handled.",
        }, 429)
    background.add_task(app.locate_soon, request_id)  # located at once, as API requests are
    return render(request, "receipt.html", {"title": "Your request was received", "receipt": receipt,
                                            "locations": len(valid.locations), "hashes": len(valid.hashes),
                                            "help": HELP})


@router.get("/how-it-works", response_class=HTMLResponse)
def how_it_works(request: Request) -> Response:
    """The notice of the removal process (TAKE IT DOWN Act §3(a)(2)): what a request needs, the 48 hours,
    the fingerprints, following, withdrawing and appealing, who runs it (``STANCH_SITE_NAME``,
    ``STANCH_PLATFORM_CONTACT``)."""
    contact = os.environ.get("STANCH_PLATFORM_CONTACT", "").strip() or None
    return render(request, "how_it_works.html", {"title": "How removal requests work",
                                                 "platform_contact": contact})


@router.get("/status", response_class=HTMLResponse)
def status_form(request: Request) -> Response:
    return _status_form(request, {}, {})


@router.post("/status", response_class=HTMLResponse)
def status_show(
    request: Request,
    app: Runtime,
    background: BackgroundTasks,
    form_token_value: str = Form("", alias="form_token"),
    case: str = Form(""),
    token: str = Form(""),
    action: str = Form("show"),
    text: str = Form(""),
    more_locations: str = Form(""),
) -> Response:
    """Show a request's state; with ``action`` ``add_info`` or ``withdraw``, do that first.

    The case number and secret code travel in the form body, never in the address, so they stay out
    of browser history and server logs.
    """
    values = {"case": case, "token": token}
    if not form_token_ok(request, form_token_value):
        return _status_form(request, values, {"form": [_STALE_FORM]}, 403)
    if normalise_case_number(case).startswith("APL"):
        return _appeal_status(request, app, case, token.strip(), values)
    notice = None
    errors: dict[str, list[str]] = {}
    try:
        with app.db.write() as session:
            found = request_for_token(session, case, token.strip())
            now = app.now()
            if action == "add_info":
                locations = _typed_lines(more_locations)
                try:
                    with session.begin_nested():
                        add_info(session, found, {"text": text or None, "locations": locations}, now)
                    notice = "Thank you. We added this to your request."
                    if locations:
                        background.add_task(app.locate_soon, found.id)
                except InvalidRequest as problems:
                    errors["info"] = problems.problems
            elif action == "withdraw":
                withdraw(session, found, now)
                notice = "Your request is withdrawn. Nothing more will happen with it."
            view = requester_view(session, found, now)
    except UnknownRequest as unknown:
        return _status_form(request, values, {"case": [str(unknown)]}, 404)
    except WrongState as wrong:
        return _status_form(request, values, {"form": [str(wrong)]}, 409)
    return _page(request, "status_view.html", {"title": f"Request {view['id']}", "view": view,
                                               "values": values, "notice": notice, "errors": errors})


def _status_form(request: Request, values: dict[str, str], errors: dict[str, list[str]],
                 status_code: int = 200) -> Response:
    """The /status form: empty, or again, filled in, with what was wrong."""
    return _page(request, "status.html", {"title": "Follow your request", "values": values, "errors": errors},
                 status_code)


def _appeal_status(request: Request, app: Stanch, number: str, token: str,
                   values: dict[str, str]) -> Response:
    """An appeal's state for the person who appealed (appeal numbers start with APL)."""
    try:
        with app.db.read() as session:
            view = appellant_status(session, find_appeal(session, number, token))
    except UnknownAppeal as unknown:
        return _status_form(request, values, {"case": [str(unknown)]}, 404)
    return render(request, "appeal_status.html", {"title": f"Appeal {view['id']}", "view": view})


@router.get("/transparency", response_class=HTMLResponse)
def transparency(request: Request, app: Runtime) -> Response:
    """The transparency report, per month, with charts."""
    with app.db.read() as session:
        figures = monthly(session)
    received = bar_chart("Requests received per month",
                         [Bar(f.month, f.received, str(f.received)) for f in figures])
    on_time = bar_chart("Share of decisions taken within 48 hours, per month",
                        [Bar(f.month, f.within_48h or 0.0,
                             "—" if f.within_48h is None else f"{f.within_48h:.0%}") for f in figures],
                        maximum=1.0)
    return render(request, "transparency.html", {"title": "Transparency report", "figures": figures,
                                                 "received_chart": received, "on_time_chart": on_time})


@router.get("/appeal", response_class=HTMLResponse)
def appeal_form(request: Request) -> Response:
    return _page(request, "appeal.html", {"title": "Appeal a removal", "values": {}, "errors": {}})


@router.post("/appeal", response_class=HTMLResponse)
def appeal_submit(
    request: Request,
    app: Runtime,
    form_token_value: str = Form("", alias="form_token"),
    item_id: str = Form(""),
    case_id: str = Form(""),
    name: str = Form(""),
    email: str = Form(""),
    statement: str = Form(""),
) -> Response:
    values = {"item_id": item_id, "case_id": case_id, "name": name, "email": email, "statement": statement}
    context: dict[str, Any] = {"title": "Appeal a removal", "values": values}
    if not form_token_ok(request, form_token_value):
        return _page(request, "appeal.html", {**context, "errors": {"form": [_STALE_FORM]}}, 403)
    named = [line.strip() for line in item_id.splitlines() if line.strip()]  # one item id per line
    body = {"item_ids": named, "case_id": case_id or None,
            "appellant": {"name": name, "email": email}, "statement": statement}
    try:
        receipt = submit_appeal(app.db, body, now=app.now(), address=client_address(request),
                                safeguards=Safeguards.from_environment())
    except InvalidRequest as problems:
        errors = field_errors(problems.problems, APPEAL_FIELDS)
        return _page(request, "appeal.html", {**context, "errors": errors}, 422)
    except UnknownRequest as unknown:
        return _page(request, "appeal.html", {**context, "errors": {"item_id": [str(unknown)]}}, 404)
    except RateLimited as limited:
        return render(request, "message.html", {"title": "Please wait before sending another appeal",
                                                "message": str(limited)}, 429)
    return render(request, "appeal_receipt.html", {"title": "Your appeal was received", "receipt": receipt})
