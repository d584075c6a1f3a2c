"""The emails Stanch sends, all in one place: to people who asked for a removal (or appealed one),
and to the review team when a case's clock runs down.

Inboxes are often shared, so every email is neutral: the subject says nothing about the content, and
the body names no image, site or person: the case number, a link to the status page (where the case's
news is shown to whoever has the case's secret code) and, once a case is decided (or an appeal put part
of it back), what became of each location the requester gave **by its number only** (``Outcome``:
counts, and refusal reasons from the fixed vocabulary of ``stanch.actions.refusals``; never a URL, a
reviewer's own words or a description). The code itself is never emailed (Stanch keeps only a digest of
it), and templates cannot be given anything but the fields below: numbers and codes, no free text.
The team's ``escalation`` email is as sparse: the case number, the time left and a link to the case
on the desk, where signed-in reviewers see the rest — never who asked or what the content is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from stanch.actions.refusals import told


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    body: str


@dataclass(frozen=True)
class Tally:
    """What became of the items found at one location: counts, and the refusal code of each refused item
    (None for one refused without a code). Numbers and codes only, so nothing a reviewer typed, and
    nothing that says where or what the content is, can reach an email."""

    items: int
    removed: int = 0
    refused: int = 0
    put_back: int = 0
    open: int = 0
    refusals: tuple[str | None, ...] = ()


@dataclass(frozen=True)
class Outcome:
    """A case's outcome as its emails tell it: ``locations`` in the order the status page lists them
    (numbered from 1 there and here), ``others`` for items the platform tied to the case at no location of
    the requester's, ``copies_removed`` the further copies found and removed (a count: they were never her
    locations). For an appeal naming items, ``named`` is ``item``: the items the appellant named, in the
    order the appeal's status page lists them."""

    locations: tuple[Tally, ...]
    others: Tally | None = None
    copies_removed: int = 0
    named: str = "location"


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
news. Our emails never name a site, a picture or a person, so they
are safe to receive in an inbox that others can see. After a
decision, they list the locations you gave by number only
(location 1, 2, 3 ... in the order your status page shows them).

""" + _FOLLOW,
    ),
    "update": RenderedEmail(
        subject="An update on your request",
        body="""\
Hello,

There is news about your case {case_id}.
{outcome}
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
when an open request passes 24 h and 36 h of its 48. Only ``update`` takes an ``Outcome``."""
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
    outcome: Outcome | None = None,
) -> RenderedEmail:
    """Fill ``template`` in. ``received`` needs the case's ``deadline``; ``escalation`` its
    ``deadline`` and ``time_left``; ``update`` may say the case's ``outcome`` (ValueError for a refusal
    code outside the vocabulary)."""
    if template not in _TEMPLATES:
        raise ValueError(f"unknown email template {template!r}; known: {', '.join(TEMPLATE_NAMES)}")
    if template in _NEEDS_DEADLINE and deadline is None:
        raise ValueError(f"the {template!r} email needs the case's deadline")
    if template == "escalation" and time_left is None:
        raise ValueError("the 'escalation' email needs the time left")
    if outcome is not None and template != "update":
        raise ValueError(f"only the 'update' email tells an outcome, not {template!r}")
    chosen = _TEMPLATES[template]
    fields = {
        "case_id": case_id,
        "status_url": status_url(public_url, case_id),
        "desk_url": desk_case_url(public_url, case_id),
        "deadline": _when(deadline) if deadline else "",
        "time_left": _left(time_left) if time_left is not None else "",
        "outcome": _outcome(outcome) if outcome is not None else "",
    }
    return RenderedEmail(subject=chosen.subject, body=chosen.body.format(**fields))


_NAMED = {"location": "location you gave", "item": "item you named"}


def _outcome(outcome: Outcome) -> str:
    """The outcome block of an ``update`` email: one line per location, by number, then the others."""
    if outcome.named not in _NAMED:
        raise ValueError(f"an outcome names locations or items, not {outcome.named!r}")
    lines = [f"- {outcome.named.capitalize()} {number}: {_tally(tally)}."
             for number, tally in enumerate(outcome.locations, 1)]
    if outcome.others is not None and outcome.others.items:
        lines.append(f"- Other items the platform tied to your request: {_tally(outcome.others)}.")
    if outcome.copies_removed:
        many = outcome.copies_removed != 1
        lines.append(f"- {outcome.copies_removed} further cop{'ies' if many else 'y'} found "
                     f"and removed.")
    if not lines:
        return ""
    return (f"\nWhere each {_NAMED[outcome.named]} stands now, by its number on\nyour status page:\n\n"
            + "\n".join(lines) + "\n\nThe reviewer's own words, if they added any, and what you can do if\n"
            "you disagree are on your status page.\n")


def _tally(tally: Tally) -> str:
    """``removed``, ``not removed: <reason>``, or for several items ``2 of 3 items removed. 1 of 3 items
    not removed: <reason>`` (reasons from the vocabulary, each once, in the order given)."""
    if not tally.items:
        return "nothing was found there to decide on"
    def part(count: int, alone: str, some: str) -> str:
        return alone if count == tally.items else f"{count} of {tally.items} items {some}"
    parts = []
    if tally.removed:
        parts.append(part(tally.removed, "removed", "removed"))
    if tally.refused:
        reasons = "; ".join(dict.fromkeys(told(code) for code in tally.refusals)) or told(None)
        parts.append(part(tally.refused, "not removed", "not removed") + f": {reasons}")
    if tally.put_back:
        parts.append(part(tally.put_back, "removed, then put back after an appeal",
                          "put back after an appeal"))
    if tally.open:
        parts.append(part(tally.open, "still being reviewed", "still being reviewed"))
    return ". ".join(p[0].upper() + p[1:] if n else p for n, p in enumerate(parts))


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
