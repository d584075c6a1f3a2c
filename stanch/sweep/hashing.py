"""The work a sweep hands to its workers: one item in, its hashes (or why not) out.

This runs in worker processes (a local pool or Ray), never touches the database, and exchanges plain
dicts so that both executors carry them as they are. A task may carry what was known of the item
(size and modification time, or ETag and Last-Modified): an item that has not changed since is
answered ``unchanged`` without reading it, and the parent reuses its stored hashes.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypedDict

from stanch.files import read_media_file
from stanch.matching.query import ImageQuery, image_query
from stanch.net import FetchError, FetchLimits, SafeFetcher
from stanch.signals import (
    QUERY_SECONDS_PER_HASH,
    ImageSignals,
    Limits,
    MediaError,
    hash_media,
    signals_record,
)
from stanch.sweep.sources import is_url


class Task(TypedDict):
    """One item to hash; the other fields are what the catalog knew of it (None: hash it anyway)."""

    key: str
    size: int | None
    mtime_ns: int | None
    etag: str | None
    last_modified: str | None


class Outcome(TypedDict):
    """``state`` is ``hashed`` (``record`` holds the signals), ``unchanged`` or ``failed`` (``error``).

    ``query`` is a hashed image's lookups (``stanch.matching.query.image_query``) as plain lists,
    computed here so that the parent, the one process that matches, does not parse the record again."""

    key: str
    state: str
    record: dict[str, Any] | None
    query: dict[str, Any] | None
    error: str | None
    size: int | None
    mtime_ns: int | None
    etag: str | None
    last_modified: str | None


@dataclass(frozen=True)
class HashSettings:
    """Limits for reading, fetching and hashing one item (picklable: it travels to the workers)."""

    limits: Limits = field(default_factory=Limits)
    fetch: FetchLimits = field(default_factory=FetchLimits)
    allow_private: bool = False


def task(key: str, known: dict[str, Any] | None = None) -> Task:
    """A task for ``key``, with what is known of it when the caller wants unchanged items skipped."""
    known = known or {}
    return Task(key=key, size=known.get("size"), mtime_ns=known.get("mtime_ns"), etag=known.get("etag"),
                last_modified=known.get("last_modified"))


def hash_item(item: Task, settings: HashSettings) -> Outcome:
    """Hash one item, or say it is unchanged, or why it failed; never raises for a bad item."""
    out = Outcome(key=item["key"], state="failed", record=None, query=None, error=None, size=None,
                  mtime_ns=None, etag=None, last_modified=None)
    try:
        data = _fetch(item, settings, out) if is_url(item["key"]) else _read(item, settings, out)
        if data is None:
            out["state"] = "unchanged"
            return out
        signals = hash_media(data, seconds_per_hash=QUERY_SECONDS_PER_HASH, limits=settings.limits)
    except (MediaError, FetchError) as error:
        out["error"] = str(error)
        return out
    except OSError as error:
        out["error"] = f"cannot read the file: {error.strerror or error}"
        return out
    except Exception as error:  # a decoder bug must not stop the sweep
        out["error"] = f"could not hash the item ({type(error).__name__}: {error})"
        return out
    out["state"], out["record"] = "hashed", signals_record(signals)
    if isinstance(signals, ImageSignals):
        out["query"] = asdict(image_query(signals))
    return out


def read_again(key: str, settings: HashSettings) -> bytes | None:
    """An item's media once more, in memory (for the preview of a copy sent to review), or None when it
    cannot be read or fetched now: a preview is a help to the reviewer, never a reason to fail."""
    try:
        if is_url(key):
            fetcher = SafeFetcher(allow_private=settings.allow_private, limits=settings.fetch)
            return fetcher.fetch(key).body
        return read_media_file(Path(key), settings.limits)
    except (MediaError, FetchError, OSError):
        return None


def query_from_outcome(query: dict[str, Any]) -> ImageQuery:
    """The ``ImageQuery`` an outcome carries."""
    return ImageQuery(tuple((view, pdq) for view, pdq in query["hashes"]), query["md5"], query["sha256"],
                      query["quality"])


def hash_batch(batch: dict[str, Any], settings: HashSettings) -> dict[str, list[str]]:
    """``hash_item`` over a Ray Data batch whose ``task`` column holds JSON tasks."""
    return {"outcome": [json.dumps(hash_item(json.loads(t), settings)) for t in batch["task"]]}


def _read(item: Task, settings: HashSettings, out: Outcome) -> bytes | None:
    path = Path(item["key"])
    info = path.stat()
    out["size"], out["mtime_ns"] = info.st_size, info.st_mtime_ns
    if (item["size"], item["mtime_ns"]) == (info.st_size, info.st_mtime_ns):
        return None
    return read_media_file(path, settings.limits)


def _fetch(item: Task, settings: HashSettings, out: Outcome) -> bytes | None:
    fetcher = SafeFetcher(allow_private=settings.allow_private, limits=settings.fetch)
    fetched = fetcher.fetch(item["key"], etag=item["etag"], last_modified=item["last_modified"])
    out["etag"], out["last_modified"] = fetched.etag, fetched.last_modified
    if fetched.body is not None:
        out["size"] = len(fetched.body)
    return fetched.body
