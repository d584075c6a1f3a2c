"""The words the desk's pages show for the values the library stores (``remove``, ``in_review``,
``user:…``): a reviewer reads a label, never a raw value. Jinja filters, registered by
``stanch.web.templating``; an unknown value is shown as it is rather than hidden."""

from __future__ import annotations

from stanch.actions import REFUSALS

STATES = {
    "received": "Received", "in_review": "In review", "need_info": "Waiting for more information",
    "removed": "Removed", "rejected": "Rejected", "withdrawn": "Withdrawn by the requester",
    "reinstated": "Put back after an appeal",
}
DECISIONS = {
    "remove": "Removed", "reject": "Rejected", "need_info": "More information asked for",
    "partial": "Removed in part (some items refused)",
    "reinstate": "Reinstated", "uphold": "Removal upheld",
}
LOCATION_STATES = {"pending": "not looked up yet", "located": "found", "failed": "could not be found"}
SIGNALS = {"pdq": "PDQ (picture)", "vpdq": "vPDQ (video)", "md5": "MD5 (identical file)",
           "sha256": "SHA-256 (identical file)"}


def state_label(value: str | None) -> str:
    return STATES.get(value or "", value or "")


def decision_label(value: str | None) -> str:
    return DECISIONS.get(value or "", STATES.get(value or "", value or ""))


def location_label(value: str | None) -> str:
    return LOCATION_STATES.get(value or "", value or "")


def signal_label(value: str | None) -> str:
    return SIGNALS.get(value or "", value or "")


def actor_label(actor: str | None) -> str:
    """``user:robin@example.org`` → ``robin@example.org``; ``key:3`` → ``API key 3``; ``cli:alex`` →
    ``alex (command line)``; ``system`` → ``Stanch (automatically)``."""
    if not actor:
        return ""
    kind, _, who = actor.partition(":")
    if kind == "user":
        return who
    if kind == "key":
        return f"API key {who}"
    if kind == "cli":
        return f"{who} (command line)"
    return "Stanch (automatically)" if actor == "system" else actor


def refusal_label(code: str | None) -> str:
    """What a reviewer reads for a refusal code: ``Not the content the request describes``."""
    return REFUSALS[code].label if code in REFUSALS else str(code or "")


def refusal_told(code: str | None) -> str:
    """What the person who asked reads for it, as in her email, from a capital letter."""
    sentence = REFUSALS[code].told if code in REFUSALS else str(code or "")
    return sentence[:1].upper() + sentence[1:]


FILTERS = {"state_label": state_label, "decision_label": decision_label, "location_label": location_label,
           "signal_label": signal_label, "actor_label": actor_label, "refusal_label": refusal_label,
           "refusal_told": refusal_told}
REFUSAL_CHOICES = [(code, refusal.label) for code, refusal in REFUSALS.items()]
"""The per-item form's choices of refusal reason, in the vocabulary's order."""
