"""Intake: checking a removal request and storing it, with its receipt.

A request must hold what the US, UK and EU rules ask for together (REQUESTS.md): who asks and how to
reach them, whether they are the person depicted or act for them, a typed signature, a good-faith
statement that the content was published without consent, and where the content is. Hashes of the
person's own copies and an explanation are optional (someone shown in a fake has no copy). The request
also says whether the person shown was under 18 when the picture or video was made (``under_18``,
default no): such a case follows the minors route (``stanch.desk.minors``).

``validate`` lists *every* problem at once, so a person fixes the form in one go; nothing is stored
unless all is well. ``file_request`` stores a valid request in the caller's transaction, queues the
acknowledgement email in the same transaction, and returns the receipt with the secret code, the only
time it exists in clear.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from stanch.actions import enqueue_email
from stanch.actions.mailers import check_address
from stanch.bodies import unstorable
from stanch.desk.audit import SYSTEM, record
from stanch.desk.clock import deadline_for, escalate_at_once
from stanch.desk.hashes import parse_hashes
from stanch.desk.minors import HELP
from stanch.desk.safeguards import Safeguards, check_rate, flags_for, note_submission
from stanch.desk.tokens import keyed_hash, new_case_number, new_token, token_digest
from stanch.store.desk_models import RequestLocation, TakedownRequest

RELATIONSHIPS = ("self", "authorised")
MAX_LOCATIONS = 500
MAX_HASHES = 500
MAX_TEXT = 20_000
MAX_LOCATION = 2_000
_FIELDS = {"requester", "relationship", "signature", "good_faith", "statement", "locations", "hashes",
           "explanation", "phone", "contact", "share_hashes", "under_18"}


class InvalidRequest(ValueError):
    """The request cannot be accepted; ``problems`` names each missing or malformed element."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class ValidRequest:
    """A request that passed ``validate``: every field present and normalised."""

    name: str
    email: str
    relationship: str
    signature: str
    statement: str
    locations: list[str]
    hashes: list[dict[str, Any]] = field(default_factory=list)
    explanation: str | None = None
    phone: str | None = None
    contact: str | None = None
    share_hashes: bool = False
    """The requester agreed that the hashes of removed content may be shared with hash-sharing partners
    (``share_hashes: true``); absent means no."""
    under_18: bool = False
    """The person shown was under 18 when the picture or video was made (``under_18: true``)."""


@dataclass(frozen=True)
class Receipt:
    """What the requester is given: the case number, the secret code (shown once), and the times."""

    id: str
    token: str
    received_at: datetime
    deadline: datetime
    under_18: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The receipt as the API answers it; a minor's case adds where to get help (``help``)."""
        out: dict[str, Any] = {"id": self.id, "token": self.token,
                               "received_at": self.received_at.isoformat(),
                               "deadline": self.deadline.isoformat()}
        if self.under_18:
            out["under_18"] = True
            out["help"] = HELP
        return out


def object_problems(body: Any, what: str, allowed: set[str]) -> list[str]:
    """The problems of a body that must be a JSON object of ``allowed`` fields, to which the caller adds
    the others; a body that is no object at all is refused at once (``what`` names it: request, appeal)."""
    if not isinstance(body, dict):
        raise InvalidRequest([f"the {what} must be a JSON object"])
    unknown = sorted(set(body) - allowed)
    if unknown:
        return [f"unknown fields {', '.join(unknown)}: allowed are {', '.join(sorted(allowed))}"]
    return []


def text_field(body: dict[str, Any], name: str, problems: list[str], *, required: bool = True,
               limit: int = MAX_TEXT, what: str = "", label: str | None = None) -> str | None:
    """A trimmed string field; notes a problem if it is missing (when required), not text, or too long.

    Problems name the field as ``label`` (default ``name``).
    """
    label = label or name
    value = body.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            problems.append(f"{label} is missing{': ' + what if what else ''}")
        return None
    if not isinstance(value, str):
        problems.append(f"{label} must be text")
        return None
    if len(value) > limit:
        problems.append(f"{label} is longer than {limit} characters")
        return None
    problem = unstorable(value)
    if problem:
        problems.append(f"{label} {problem}; remove it and send the text again")
        return None
    return value.strip()


def validate(body: Any) -> ValidRequest:
    """The request in ``body`` (parsed JSON), or ``InvalidRequest`` listing every problem."""
    problems = object_problems(body, "request", _FIELDS)
    name, email = requester(body.get("requester"), problems)
    relationship = body.get("relationship")
    if relationship not in RELATIONSHIPS:
        problems.append("relationship is missing or not 'self' (you are the person shown) or 'authorised' "
                        "(you act for them)")
    signature = text_field(body, "signature", problems, limit=200, what="type your full name as a signature")
    if body.get("good_faith") is not True:
        problems.append("good_faith must be true: confirm in good faith that the content was published "
                        "without consent")
    statement = text_field(body, "statement", problems,
                           what="say that the content was published without consent")
    locations = _locations(body.get("locations"), problems)
    hashes = hash_list(body.get("hashes"), problems)
    explanation = text_field(body, "explanation", problems, required=False)
    phone = text_field(body, "phone", problems, required=False, limit=50)
    contact = text_field(body, "contact", problems, required=False, limit=1_000)
    share_hashes = body.get("share_hashes", False)
    if not isinstance(share_hashes, bool):
        problems.append("share_hashes must be true or false (may the hashes be shared with partners?)")
    under_18 = body.get("under_18", False)
    if not isinstance(under_18, bool):
        problems.append("under_18 must be true or false (was the person shown under 18 when the picture "
                        "or video was made?)")
    if problems:
        raise InvalidRequest(problems)
    assert name and email and signature and statement and isinstance(relationship, str)
    return ValidRequest(name, email, relationship, signature, statement, locations, hashes, explanation,
                        phone, contact, share_hashes is True, under_18 is True)


def requester(
    value: Any, problems: list[str], field_name: str = "requester"
) -> tuple[str | None, str | None]:
    """``{"name", "email"}``: both required, the email a real address."""
    if not isinstance(value, dict):
        problems.append(f"{field_name} is missing: give {{\"name\": ..., \"email\": ...}} "
                        "so we can reach you")
        return None, None
    name = text_field(value, "name", problems, limit=200, label=f"{field_name}.name")
    email = None
    raw = value.get("email")
    if not isinstance(raw, str) or not raw.strip():
        problems.append(f"{field_name}.email is missing: we need it to tell you about the decision")
    else:
        try:
            email = check_address(raw)
        except ValueError as error:
            problems.append(f"{field_name}.email: {error}")
    return name, email


def _locations(value: Any, problems: list[str]) -> list[str]:
    if not isinstance(value, list) or not value:
        problems.append("locations is missing: give at least one web address (URL) or item id where the "
                        "content is")
        return []
    if len(value) > MAX_LOCATIONS:
        problems.append(f"locations lists more than {MAX_LOCATIONS}; send the rest in a second request")
        return []
    found: list[str] = []
    for index, location in enumerate(value):
        if not isinstance(location, str) or not location.strip() or len(location) > MAX_LOCATION:
            problems.append(f"locations[{index}] must be a URL or item id of at most {MAX_LOCATION} "
                            "characters")
        elif location.strip() not in found:
            found.append(location.strip())
    return found


def hash_list(value: Any, problems: list[str], name: str = "hashes") -> list[dict[str, Any]]:
    """Optional list of hash objects (see ``stanch.desk.hashes``); each bad one is named."""
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_HASHES:
        problems.append(f"{name} must be a list of at most {MAX_HASHES} hash objects")
        return []
    found = []
    for index, item in enumerate(value):
        try:
            found.append(parse_hashes(item, f"{name}[{index}]"))
        except ValueError as error:
            problems.append(str(error))
    return found


def file_request(
    session: Session, valid: ValidRequest, *, now: datetime, address: str | None = None,
    safeguards: Safeguards | None = None,
) -> tuple[Receipt, TakedownRequest]:
    """Store a valid request and queue its acknowledgement; raises ``RateLimited`` over the limits.

    ``address`` is the client's network address (None from the command line: not rate limited by it).
    A minor's case gets its own deadline and is escalated at once, in the same transaction.
    """
    limits = safeguards or Safeguards()
    keys = {"contact": keyed_hash(session, valid.email)}
    if address:
        keys["address"] = keyed_hash(session, address)
    check_rate(session, keys, now, limits)
    flags, duplicate = flags_for(session, keys["contact"], valid.locations, valid.hashes, now, limits)
    token = new_token()
    request = TakedownRequest(
        public_id=unused_number(session, TakedownRequest), token_hash=token_digest(token), status="received",
        received_at=now, deadline=deadline_for(now, minor=valid.under_18), requester_name=valid.name,
        requester_email=valid.email, requester_phone=valid.phone, requester_contact=valid.contact,
        relationship=valid.relationship, signature=valid.signature, statement=valid.statement,
        explanation=valid.explanation, hashes=json.dumps(valid.hashes), contact_hash=keys["contact"],
        flags=json.dumps(flags), duplicate_of=duplicate, updated_at=now, share_consent=valid.share_hashes,
        minor=valid.under_18,
    )
    session.add(request)
    session.flush()
    session.add_all(RequestLocation(request_id=request.id, location=loc, state="pending", added_at=now)
                    for loc in valid.locations)
    note_submission(session, keys, now)
    enqueue_email(session, valid.email, "received", case_id=request.public_id, deadline=request.deadline,
                  clock=lambda: now)
    record(session, SYSTEM, "request.received", ("request", request.public_id),
           {"locations": len(valid.locations), "hashes": len(valid.hashes), "flags": flags,
            **({"minor": True} if valid.under_18 else {})}, clock=lambda: now)
    if valid.under_18:
        escalate_at_once(session, request, now)
    receipt = Receipt(request.public_id, token, request.received_at, request.deadline, valid.under_18)
    return receipt, request


def unused_number(session: Session, model: Any, prefix: str = "STN") -> str:
    """A fresh case number not yet taken (a clash among 2^40 is rare, but checked)."""
    while True:
        number = new_case_number(prefix)
        if session.scalar(select(model.id).where(model.public_id == number)) is None:
            return number
