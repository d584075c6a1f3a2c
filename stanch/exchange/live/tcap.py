"""The Tech Against Terrorism (TCAP) hash list client, read as python-threatexchange's ``TATHashListAPI``
reads it (``clients/techagainstterrorism/api.py``, ``impl/techagainstterrorism_api.py``).

Requests are pytx's: ``POST {base}token-auth/tcap/`` with the form ``username``, ``password``,
``resend`` answers ``{"token"}`` (a JWT, kept in memory for one fetch, never stored); ``GET
{base}api/hash-list/v2/all?order=asc&after=<checkpoint>`` with ``Authorization: Bearer <token>``
answers ``{"count", "next", "previous", "checkpoint", "results": [{"hash_digest", "algorithm",
"ideology", "file_type", "deleted", "updated_on", "created_on", "id"}]}``; ``checkpoint`` is "a
timestamp and id of the last record in the current page, e.g. 1704085200,124" and ``next`` is null
on the last page. Records are read as pytx's exchange reads them: ``PDQ`` is an image hash, ``MD5``
of a ``mov``/``m4v``/``mp4``/``webm`` file a video hash, anything else skipped, ``deleted`` withdraws;
a record is keyed, as in pytx, by its algorithm and digest.

What is different from pytx, and why:

* Paging: pytx requests ``{base}api/hash-list/v2/all?{next}`` with ``next`` pasted after the ``?``,
  which its own docstring says is a whole URL; that cannot be read as a documented request. Stanch
  pages by the part of the protocol pytx relies on to resume: each page is asked for with
  ``after=<the previous page's checkpoint>``, the checkpoint pytx stores after each page. ``next``
  only says whether more follow. Each page's checkpoint is committed with its records.
* pytx logs in before every page and its session sleeps through retries; Stanch logs in once per
  fetch and backs off in the fetcher.
* pytx builds ``TATHashListEntry(**record)``, which fails the whole fetch on a record with a field
  more or less; Stanch reads the fields it needs and quarantines a record that lacks them.
* After an unreadable page is skipped (the fetcher's rule: one second past the last good page), the
  request is ``after=<that second>,0`` in the checkpoint's documented form.
"""

from __future__ import annotations

import json
from typing import Any

import requests
from threatexchange.exchanges.clients.techagainstterrorism.api import (
    TATEndpoint,
    TATHashListAPI,
    TATHashListEntry,
    TATIdeology,
)
from threatexchange.exchanges.impl.techagainstterrorism_api import (
    TATCredentials,
    _is_compatible_signal_type,
)

from stanch.exchange.live.errors import CredentialsError, RateLimited, SourceError, UnreadablePage
from stanch.exchange.live.pages import Page, bounded, page_json, read_bounded
from stanch.exchange.live.stopncii import START_TIMESTAMP
from stanch.exchange.records import FormatError, Item, Skip, Withdrawal
from stanch.store import Provenance, entry_from_hashes

TIMEOUT_SECONDS = 60
MAX_PAGE_BYTES = 32 * 2**20
DEFAULT_BASE_URL = TATHashListAPI.BASE_URL


class TCAPClient:
    """Pages of the TCAP hash list after a checkpoint."""

    def __init__(self, credentials_text: str, base_url: str | None) -> None:
        credentials = TATCredentials._from_str(credentials_text)
        if not credentials._are_valid():
            raise CredentialsError("TCAP credentials are 'username:password' (pytx's PYTX_TAT_CREDENTIALS)")
        self._credentials = credentials
        self._base = (base_url or DEFAULT_BASE_URL).rstrip("/") + "/"
        self._jwt: str | None = None

    def fetch_page(self, start_timestamp: int, page_token: str | None) -> Page:
        """The records after ``page_token`` (a TCAP checkpoint), or after ``start_timestamp`` when a
        skip left no checkpoint, or all of them on the first fetch."""
        after = page_token or (f"{start_timestamp},0" if start_timestamp > START_TIMESTAMP else "")
        value = self._get({"order": "asc", "after": after})
        return read_page(value, after)

    def _login(self, session: requests.Session) -> str:
        if self._jwt is None:
            form = {"username": self._credentials.username, "password": self._credentials.password,
                    "resend": False}
            response = session.post(self._base + TATEndpoint.authenticate.value, data=form,
                                    timeout=TIMEOUT_SECONDS)
            _check(response, "log in")
            token = _json(read_bounded(response, 65536), "the login answer").get("token")
            if not isinstance(token, str) or not token:
                raise SourceError("TCAP's login answer has no token")
            self._jwt = token
        return self._jwt

    def _get(self, params: dict[str, str]) -> Any:
        try:
            with requests.Session() as session:
                jwt = self._login(session)
                response = session.get(self._base + TATEndpoint.hash_list.value, params=params,
                                       headers={"Authorization": f"Bearer {jwt}"}, timeout=TIMEOUT_SECONDS,
                                       stream=True)
                _check(response, "fetch")
                body = read_bounded(response, MAX_PAGE_BYTES)
        except requests.RequestException as error:
            raise SourceError(f"TCAP could not be reached: {type(error).__name__}") from None
        return page_json(body)

    @staticmethod
    def item(record: Any, where: str, list_name: str, trust: str | None) -> Item:
        """One hash-list record: ``deleted`` withdraws; PDQ and video MD5 are banked."""
        entry = _entry(record, where)
        external_id = f"{entry.algorithm}:{entry.hash_digest.strip().lower()}"
        if entry.deleted:
            return Withdrawal(list_name, external_id, "tcap deleted")
        if not _is_compatible_signal_type(entry):
            return Skip(f"TCAP {entry.algorithm} hashes of {entry.file_type or 'unknown'} files"
                        " (Stanch cannot match them)")
        provenance = Provenance(source=list_name, external_list=list_name, external_id=external_id,
                                trust=trust)
        try:
            if entry.algorithm == "PDQ":
                return entry_from_hashes(pdq=entry.hash_digest, provenance=provenance)
            return entry_from_hashes(md5=entry.hash_digest, kind="video", provenance=provenance)
        except ValueError as error:
            raise FormatError(where, f"{entry.algorithm} {error}") from None


def read_page(value: Any, after: str) -> Page:
    """A hash-list page: its checkpoint is the next page's ``after`` (and the next fetch's)."""
    body = bounded(value)
    if not isinstance(value, dict):
        raise UnreadablePage("the page is not a JSON object", body)
    checkpoint, following = value.get("checkpoint"), value.get("next")
    if following is not None and not isinstance(following, str):
        raise UnreadablePage('"next" is neither a URL nor null', body)
    if not isinstance(checkpoint, str) or not checkpoint:
        if following:
            raise UnreadablePage('the page has more records but no "checkpoint" to resume from', body)
        checkpoint = after  # an empty last page: nothing new since ``after``
    timestamp = _checkpoint_time(checkpoint)
    if checkpoint and timestamp is None:
        raise UnreadablePage(f'"checkpoint" {checkpoint[:40]!r} is not "timestamp,id"', body)
    records = value.get("results")
    token = checkpoint or None
    if not isinstance(records, list):
        return Page([], bool(following), token, timestamp, '"results" is not a list', resume=token)
    return Page(records, bool(following), token, timestamp or START_TIMESTAMP, resume=token)


def _checkpoint_time(checkpoint: str) -> int | None:
    try:
        return int(float(checkpoint.partition(",")[0])) if checkpoint else None
    except ValueError:
        return None


def _entry(record: Any, where: str) -> TATHashListEntry:
    if not isinstance(record, dict):
        raise FormatError(where, "a TCAP hash-list record must be a JSON object")
    digest, algorithm = record.get("hash_digest"), record.get("algorithm")
    file_type, deleted = record.get("file_type", ""), record.get("deleted", False)
    if not isinstance(digest, str) or not digest.strip() or not isinstance(algorithm, str):
        raise FormatError(where, 'a TCAP record needs "hash_digest" and "algorithm" strings')
    if not isinstance(file_type, str) or not isinstance(deleted, bool):
        raise FormatError(where, '"file_type" must be a string and "deleted" true or false')
    return TATHashListEntry(
        hash_digest=digest, algorithm=algorithm, ideology=record.get("ideology") or TATIdeology._all,
        file_type=file_type, deleted=deleted, updated_on=record.get("updated_on") or 0.0,
        created_on=record.get("created_on"), id=record.get("id") or 0,  # type: ignore[arg-type]
    )  # fmt: skip


def _check(response: requests.Response, what: str) -> None:
    status = response.status_code
    if status < 400:
        return
    if status == 429:
        retry = response.headers.get("Retry-After", "")
        raise RateLimited("TCAP answered 429 (rate limited)", float(retry) if retry.isdigit() else None)
    if status in (401, 403) or (status == 400 and what == "log in"):
        raise SourceError(f"TCAP refused the credentials (HTTP {status} to {what})")
    raise SourceError(f"TCAP answered HTTP {status} to {what}")


def _json(body: bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(body.decode("utf-8", "replace"))
    except (ValueError, RecursionError):
        raise SourceError(f"{what} from TCAP is not JSON") from None
    if not isinstance(value, dict):
        raise SourceError(f"{what} from TCAP is not a JSON object")
    return value
