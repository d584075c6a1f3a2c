"""The minors route: a case whose requester says the person shown was under 18 when the picture or
video was made.

Such content is child sexual abuse material, so the case is handled apart from the others:

- it is flagged (``TakedownRequest.minor``), runs on its own shorter clock and is escalated at once on
  receipt (``stanch.desk.clock``);
- it is never shown to anyone, not even blurred: the desk has no unblur control for it and its preview
  routes refuse, for every role (``previewable``); no preview of it is spooled;
- its hashes are banked in a bank of kind ``minor`` (``STANCH_MINOR_BANK``, ``stanch.desk.banking``),
  which an NCMEC exchange source may feed too, and are never pushed to adult NCII lists;
- the case page states the platform's reporting duty (18 U.S.C. § 2258A for US providers) and offers
  ``report_export``: what Stanch knows for the platform's own report to NCMEC's CyberTipline. Stanch
  sends nothing itself, the export holds no media and nothing that identifies or reaches the requester
  (name, email, phone, contact, signature, statement, explanation), and every export is audited.

Requesters are pointed to NCMEC's Take It Down, which helps people under 18, and adults pictured when
they were under 18 (``HELP``).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from stanch.actions.settings import site_name
from stanch.desk.audit import record
from stanch.store.compliance_models import Statement
from stanch.store.desk_models import RequestItem, RequestLocation, TakedownRequest

TAKE_IT_DOWN_URL = "https://takeitdown.ncmec.org"
HELP = {
    "name": "Take It Down, from the National Center for Missing & Exploited Children (NCMEC)",
    "url": TAKE_IT_DOWN_URL,
    "url_text": TAKE_IT_DOWN_URL.removeprefix("https://"),
    "text": ("If you are under 18, or the pictures were taken when you were under 18, NCMEC's free Take It "
             "Down service can help stop them being shared on other sites too, and NCMEC can put you in "
             "touch with people who help. You do not have to do this alone."),
}
"""Where a requester who is, or was, a minor in the pictures can get help; shown on the receipt and
given in the API's answer."""

REPORTING_DUTY = (
    "This case is about a person who was under 18 when the picture or video was made: it is child sexual "
    "abuse material. A provider in the United States that obtains actual knowledge of apparent child "
    "sexual abuse material on its service must report it to NCMEC's CyberTipline as soon as reasonably "
    "possible (18 U.S.C. § 2258A), and preserve what it reported (§ 2258A(h)). Other countries have "
    "similar duties. Stanch does not make that report and sends nothing to NCMEC: the platform does, "
    "through its own CyberTipline account. The export below holds what Stanch knows about the case for "
    "that report; it holds no media and nothing about the person who asked. Stanch keeps no media, so "
    "preserving the content is the platform's job too."
)
"""The notice on a minor's case page (desk) and in the export."""

EXPORT_FORMAT = "stanch-minor-report/1"

NCII_CATEGORY = ("STATEMENT_CATEGORY_CYBER_VIOLENCE", "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING")
MINOR_CATEGORY = ("STATEMENT_CATEGORY_PROTECTION_OF_MINORS", "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL")
"""The DSA's category and keyword (the Transparency Database's codes, which the harmonised report's
rows use too) of an adult's case and of a minor's."""


def dsa_category(minor: bool) -> tuple[str, str]:
    """The category and keyword a case is counted under, in statements sent to the database and in the
    harmonised report alike."""
    return MINOR_CATEGORY if minor else NCII_CATEGORY


def report_export(session: Session, request: TakedownRequest, actor: str, now: datetime) -> dict[str, Any]:
    """What Stanch knows about a minor's case, for the platform's own report (audited as
    ``request.minor_export``). Raises ``ValueError`` for a case that is not a minor's."""
    if not request.minor:
        raise ValueError(f"case {request.public_id} is not marked as about a person under 18")
    items = list(session.scalars(select(RequestItem).where(RequestItem.request_id == request.id)
                                 .order_by(RequestItem.id)))
    locations = session.scalars(select(RequestLocation.location)
                                .where(RequestLocation.request_id == request.id).order_by(RequestLocation.id))
    statements = session.scalars(select(Statement.public_id).where(Statement.request_id == request.id)
                                 .order_by(Statement.id))
    export = {
        "format": EXPORT_FORMAT,
        "generated_at": now.isoformat(),
        "platform": site_name(),
        "reporting_duty": REPORTING_DUTY,
        "sent_by_stanch": False,
        "case": {
            "id": request.public_id,
            "received_at": request.received_at.isoformat(),
            "deadline": request.deadline.isoformat(),
            "under_18_when_made": True,
            "requester_is": "the person shown" if request.relationship == "self" else "acting for them",
            "status": request.status,
            "decision": request.decision,
            "decided_at": request.decided_at.isoformat() if request.decided_at else None,
        },
        "reported_locations": list(locations),
        "requester_hashes": json.loads(request.hashes),
        "items": [_item(item) for item in items],
        "statements_of_reasons": list(statements),
        "not_included": ["media (Stanch keeps none)", "the requester's name, contact, signature, statement",
                         "the uploader's account, addresses and times (the platform holds them)"],
    }
    record(session, actor, "request.minor_export", ("request", request.public_id),
           {"items": len(items)}, clock=lambda: now)
    return export


def _item(item: RequestItem) -> dict[str, Any]:
    return {
        "item_id": item.item_id,
        "origin": item.origin,
        "location": item.location,
        "hashes": json.loads(item.hashes),
        "matched_by": item.signal,
        "distance": item.distance,
        "found_at": item.added_at.isoformat(),
        "removal_sent_at": item.removal_sent_at.isoformat() if item.removal_sent_at else None,
    }


REFUSED_PREVIEW = ("No preview: this case is about a person under 18. Its pictures are never shown on the "
                   "desk, not even blurred, to anyone. Decide from the locations and the fingerprints, and "
                   "follow the platform's process for child sexual abuse material.")


class MinorCase(PermissionError):
    """A preview or unblur of a minor's case was asked for: refused for every role."""


def previewable(request: TakedownRequest) -> None:
    """``MinorCase`` for a minor's case: its items are never previewed, blurred or not."""
    if request.minor:
        raise MinorCase(REFUSED_PREVIEW)
