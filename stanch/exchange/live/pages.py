"""A page of records as every source's client hands it to the fetcher."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import requests

from stanch.exchange.live.errors import UnreadablePage

BODY_LIMIT = 4096
"""How much of a quarantined record or page is kept (enough to see what was wrong)."""


@dataclass
class Page:
    """One page: its raw records (each read by the client's ``item``), whether more follow, the
    token of the next page, and the timestamp to resume from once the source has no more."""

    records: list[Any]
    has_more: bool
    token: str | None
    next_set: int | None
    problem: str | None = None
    """Set when the record list itself was unusable (the page is quarantined, the cursor still used)."""
    resume: str | None = None
    """On a last page, the token the next fetch starts from (TCAP's checkpoint); None for sources that
    resume from a time alone."""


def bounded(value: Any) -> str:
    """At most ``BODY_LIMIT`` characters of a record or page, as text, to keep in the quarantine."""
    text = value if isinstance(value, str) else json.dumps(value, default=str)[: BODY_LIMIT + 1]
    return text[:BODY_LIMIT]


def read_bounded(response: requests.Response, limit: int) -> bytes:
    """A streamed response's body, read a chunk at a time up to ``limit`` bytes; a larger one is an
    unreadable page (and is not kept)."""
    chunks, size = [], 0
    for chunk in response.iter_content(65536):
        size += len(chunk)
        if size > limit:
            response.close()
            raise UnreadablePage(f"the page is larger than {limit} bytes", "")
        chunks.append(chunk)
    return b"".join(chunks)


def page_json(body: bytes) -> object:
    """A fetched page as JSON, or ``UnreadablePage`` keeping its first 4 KiB for the quarantine: the one
    reader of every source's pages (not JSON, or nested too deeply to read, is a bad page, not a crash)."""
    text = body.decode("utf-8", "replace")
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise UnreadablePage(f"the page is not JSON ({error.msg})", text[:4096]) from None
    except RecursionError:
        raise UnreadablePage("the page is JSON nested too deeply to read", text[:4096]) from None
