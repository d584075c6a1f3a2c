"""One parser for every JSON body Stanch accepts (API requests, the /report form's hidden fields).

Why one: Python's ``json`` recurses once per nesting level, so ``[`` x 1,100 ends in a RecursionError
(a 500 with a traceback) wherever a body is parsed by hand; it accepts ``NaN`` and ``Infinity``, which
are not JSON; and it happily returns strings holding a NUL or a lone surrogate (``"\\ud800"``), which no
database column can store (PostgreSQL refuses NUL in text, UTF-8 has no surrogates), so the failure came
later, as a 500 from the insert. Here every refusal is a ``BodyError`` whose message names the field, so
the caller answers 422 and nothing half-stored is left behind.
"""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 32
"""Deepest nesting accepted: Stanch's own bodies are at most four levels deep."""


class BodyError(ValueError):
    """A body that is refused; the message says what to fix (answered as 422)."""


class NotJson(BodyError):
    """The text does not parse as JSON at all (as opposed to JSON that Stanch refuses); ``msg`` and
    ``lineno`` are the decoder's, for callers that point at the line."""

    def __init__(self, message: str, msg: str = "", lineno: int = 1) -> None:
        super().__init__(message)
        self.msg, self.lineno = msg or message, lineno


def unstorable(text: str) -> str | None:
    """Why ``text`` cannot be stored (a NUL, or a lone surrogate: not encodable as UTF-8), or None."""
    if "\x00" in text:
        return "contains a NUL character"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "contains a lone surrogate (not valid Unicode text)"
    return None


def parse_json(data: bytes | bytearray | str, *, what: str = "the body", max_depth: int = MAX_DEPTH) -> Any:
    """``data`` parsed as strict JSON, or ``BodyError``: not JSON, NaN/Infinity, nested deeper than
    ``max_depth``, or a string (key or value) that cannot be stored, named by its path."""
    try:
        value = json.loads(data, parse_constant=_refuse_constant)
    except RecursionError:
        raise BodyError(f"{what} is nested more than {max_depth} levels deep") from None
    except json.JSONDecodeError as error:
        raise NotJson(f"{what} is not valid JSON: {error}", error.msg, error.lineno) from None
    except (ValueError, TypeError) as error:  # UnicodeDecodeError, NaN and Infinity
        raise NotJson(f"{what} is not valid JSON: {error}") from None
    check_tree(value, what=what, max_depth=max_depth)
    return value


def check_tree(value: Any, *, what: str = "the body", max_depth: int = MAX_DEPTH) -> None:
    """Walk parsed JSON without recursion: refuse depth beyond ``max_depth`` and unstorable strings."""
    stack: list[tuple[Any, str, int]] = [(value, "", 0)]
    while stack:
        node, path, depth = stack.pop()
        if depth > max_depth:
            raise BodyError(f"{what} is nested more than {max_depth} levels deep")
        if isinstance(node, str):
            _check_text(node, path, what)
        elif isinstance(node, dict):
            for key, item in node.items():
                child = f"{path}.{key}" if path else str(key)
                _check_text(key, child, what)
                stack.append((item, child, depth + 1))
        elif isinstance(node, list):
            stack.extend((item, f"{path}[{k}]", depth + 1) for k, item in enumerate(node))


def _check_text(text: str, path: str, what: str) -> None:
    problem = unstorable(text)
    if problem:
        raise BodyError(f"{path or what} {problem}; remove it and send the text again")


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")
