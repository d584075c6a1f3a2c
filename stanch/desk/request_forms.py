"""What a removal request says in words and how its form fields are read, shared by every way in: the
/report page and ``stanch request file``.

It lives in the desk, beside the intake that checks a request, so that neither the pages nor the CLI
import each other for it.
"""

from __future__ import annotations

from typing import Any

from stanch.bodies import BodyError, NotJson, parse_json
from stanch.desk.intake import InvalidRequest

GOOD_FAITH_STATEMENT = (
    "I state in good faith that this intimate content was published without the consent of the person "
    "shown, and that the information in this request is accurate."
)
"""The statement a requester makes by ticking the good-faith box (TAKE IT DOWN Act, DSA Art. 16)."""


def pasted_hashes(text: str) -> list[dict[str, Any]]:
    """``stanch hash`` output pasted into the form: one JSON object per line; file names are dropped
    (they can say more than the person means to), unreadable files are skipped."""
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = parse_json(line, what=f"line {number}")
        except NotJson:
            raise InvalidRequest([f"hashes: line {number} of the pasted text is not a line of 'stanch hash' "
                                  "output (one JSON object per line)"]) from None
        except BodyError as error:  # JSON, but too deep or holding unstorable text
            raise InvalidRequest([f"hashes: {error}"]) from None
        if isinstance(value, dict) and "error" in value:
            continue
        if isinstance(value, dict):
            value.pop("path", None)
        found.append(value)
    return found


def typed_lines(text: str) -> list[str]:
    """The non-blank lines of a text box, trimmed: web addresses are typed or pasted one per line."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def browser_hashes(text: str) -> list[Any]:
    """The hashes ``report.js`` computed on the device, sent as JSON in a hidden field."""
    if not text.strip():
        return []
    try:
        value = parse_json(text, what="the fingerprints")
    except NotJson:
        raise InvalidRequest(["hashes: the fingerprints of your files did not arrive whole; "
                              "choose the files again"]) from None
    except BodyError as error:
        raise InvalidRequest([f"hashes: {error}"]) from None
    return value if isinstance(value, list) else [value]
