"""The emails Stanch sends, all in one place: to people who asked for a removal (or appealed one),
and to the review team when a case's clock runs down.

Inboxes are often shared, so every email is neutral: the subject says nothing about the content,
the body names no image, site or decision, only the case number and a link to the status page, where
the case's news is shown to whoever has the case's secret code. The code itself is never emailed
(Stanch keeps only a digest of it), and templates cannot be given anything but the fields below.
The team's ``escalation`` email is as sparse: the case number, the time left and a link to the case
on the desk, where signed-in reviewers see the rest — never who asked or what the content is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    body: str


_FOLLOW = """\
You can follow your case at any time here:
{status_url}

You will need your case number and the secret code you were shown
when you sent the request. We do not keep a copy of that code, so we
cannot send it to you.

You do not need to reply to this email.
"""

_TEMPLATES = {
    "received": RenderedEmail(
        subject="We received your request",
        body="""\
Hello,

We have received your request. Your case number is {case_id}.

A person will look at it carefully. We aim to reach a decision by
{deadline}, and we will email you when there is
news. Our emails never say more than this, so they are safe to
receive in an inbox that others can see.

""" + _FOLLOW,
    ),
    "update": RenderedEmail(
        subject="An update on your request",
        body="""\
Hello,

There is news about your case {case_id}.

""" + _FOLLOW,
    ),
    "escalation": RenderedEmail(
        subject="A case needs a decision soon",
        body="""\
Hello,

Case {case_id} has not been decided yet. {time_left}
(the deadline is {deadline}).

Open it on the desk:
{desk_url}

This email says nothing more about the case on purpose; the desk
shows the request to signed-in reviewers.
""",
    ),
}
TEMPLATE_NAMES = tuple(_TEMPLATES)
"""``received``: sent when a request (or appeal) arrives; ``update``: its state changed (a decision,
a question for the requester, a reversal); ``escalation``: to the review team (``STANCH_DESK_EMAIL``)
when an open request passes 24 h and 36 h of its 48."""
_NEEDS_DEADLINE = ("received", "escalation")


def status_url(public_url: str, case_id: str) -> str:
    """The status page for a case: ``<public_url>/status?case=<case_id>`` (no token, ever)."""
    return f"{public_url.rstrip('/')}/status?case={quote(case_id, safe='')}"


def desk_case_url(public_url: str, case_id: str) -> str:
    """The case's page on the desk, for reviewers: ``<public_url>/desk/cases/<case_id>``."""
    return f"{public_url.rstrip('/')}/desk/cases/{quote(case_id, safe='')}"


def render(
    template: str,
    *,
    case_id: str,
    public_url: str,
    deadline: datetime | None = None,
    time_left: timedelta | None = None,
) -> RenderedEmail:
    """Fill ``template`` in. ``received`` needs the case's ``deadline``; ``escalation`` its
    ``deadline`` and ``time_left``."""
    if template not in _TEMPLATES:
        raise ValueError(f"unknown email template {template!r}; known: {', '.join(TEMPLATE_NAMES)}")
    if template in _NEEDS_DEADLINE and deadline is None:
        raise ValueError(f"the {template!r} email needs the case's deadline")
    if template == "escalation" and time_left is None:
        raise ValueError("the 'escalation' email needs the time left")
    chosen = _TEMPLATES[template]
    fields = {
        "case_id": case_id,
        "status_url": status_url(public_url, case_id),
        "desk_url": desk_case_url(public_url, case_id),
        "deadline": _when(deadline) if deadline else "",
        "time_left": _left(time_left) if time_left is not None else "",
    }
    return RenderedEmail(subject=chosen.subject, body=chosen.body.format(**fields))


def _left(time_left: timedelta) -> str:
    """``It has 11 hours left`` (whole hours, rounded down), or that its deadline has passed."""
    hours = int(time_left.total_seconds() // 3600)
    if time_left <= timedelta(0):
        return "Its 48-hour deadline has passed"
    if hours < 1:
        return "It has less than an hour left"
    return f"It has {hours} hour{'s' if hours != 1 else ''} left"


def _when(moment: datetime) -> str:
    """A time people read without converting: ``Tuesday 24 November 2026, 14:05 UTC``."""
    utc = moment.astimezone(UTC)
    return f"{utc:%A} {utc.day} {utc:%B %Y, %H:%M} UTC"
