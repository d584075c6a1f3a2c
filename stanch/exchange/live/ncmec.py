"""The NCMEC hash-sharing API client (``GET {base}/v2/entries?from=&to=``, XML, HTTP basic auth), read
as python-threatexchange's ``NCMECHashAPI`` reads it (``clients/ncmec/hash_api.py``): each entry is
parsed by pytx's ``NCMECEntryUpdate.from_xml``; ``deletedImage``/``deletedVideo`` entries are
tombstones; ``<paging><next>`` is the path of the next page.

NCMEC does not return entries in time order, so (as pytx's exchange does) a time range is only done
once its last page is read: the token holds the range's end and the next page's path, so a resumed
fetch pages the same range (pytx's warning, facebook/ThreatExchange #1744), and the range's end becomes
the next start. What is wrapped: pytx's session sleeps through retries (turned off, as for StopNCII),
and its ``get_entries`` fails a whole page when one entry is malformed (each entry is read separately
here, and a bad one quarantined).

``vote`` sends feedback (pytx's ``submit_feedback``: upvotes and downvotes on an entry's fingerprints).
"""

from __future__ import annotations

import io
import time
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from typing import Any

import requests
from threatexchange.exchanges.clients.ncmec.hash_api import (
    FeedbackType,
    FingerprintType,
    NCMECEntryType,
    NCMECEntryUpdate,
    NCMECEnvironment,
    NCMECHashAPI,
    _XMLWrapper,
)
from threatexchange.exchanges.clients.utils.common import TimeoutHTTPAdapter
from threatexchange.exchanges.impl.ncmec_api import NCMECCredentials

from stanch.exchange.live.errors import CredentialsError, RateLimited, Refused, SourceError, UnreadablePage
from stanch.exchange.live.pages import Page, read_bounded
from stanch.exchange.records import FormatError, Item, Skip, Withdrawal
from stanch.store import Provenance, entry_from_hashes

TIMEOUT_SECONDS = 60
MAX_PAGE_BYTES = 64 * 2**20
END_LAG_SECONDS = 5
"""A range ends this long before now, as pytx's does (entries landing at the very end would repeat)."""
_DATE = "%Y-%m-%dT%H:%M:%SZ"


def _date(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime(_DATE)


class NCMECClient:
    """Pages of NCMEC entries changed in a time range."""

    def __init__(self, credentials_text: str, base_url: str | None, *, now: Any = time.time) -> None:
        credentials = NCMECCredentials._from_str(credentials_text)
        if not credentials._are_valid():
            raise CredentialsError("NCMEC credentials are 'user:password' (pytx's TX_NCMEC_CREDENTIALS)")
        if not base_url:
            raise CredentialsError("an NCMEC source needs --base-url (its environment, e.g. "
                                   "https://report.cybertip.org/hashsharing)")
        self._auth = (credentials.user, credentials.password)
        self._base = base_url.rstrip("/")
        self._now = now

    def fetch_page(self, start_timestamp: int, page_token: str | None) -> Page:
        if page_token:
            end_text, _, path = page_token.partition("|")
            end = int(end_text)
            url, params = self._base + path, None
        else:
            end = max(start_timestamp, int(self._now()) - END_LAG_SECONDS)
            url = f"{self._base}/v2/entries"
            params = {"from": _date(start_timestamp), "to": _date(end)}
        root = self._get(url, params)
        entries: list[str] = []
        for group in ("images", "videos"):
            element = root.find(group)
            if element is not None:
                entries.extend(ET.tostring(child, encoding="unicode") for child in element)
        following = root.findtext("paging/next") or ""
        if following:
            return Page(entries, True, f"{end}|{following}", None)
        return Page(entries, False, None, end)

    def _get(self, url: str, params: dict[str, str] | None) -> ET.Element:
        try:
            with requests.Session() as session:
                session.auth = self._auth
                response = session.get(url, params=params, timeout=TIMEOUT_SECONDS, stream=True)
                if response.status_code == 429:
                    retry = response.headers.get("Retry-After", "")
                    wait = float(retry) if retry.isdigit() else None
                    raise RateLimited("NCMEC answered 429 (rate limited)", wait)
                if response.status_code in (401, 403):
                    raise SourceError(f"NCMEC refused the credentials (HTTP {response.status_code})")
                if response.status_code >= 400:
                    raise SourceError(f"NCMEC answered HTTP {response.status_code}")
                body = read_bounded(response, MAX_PAGE_BYTES)
        except requests.RequestException as error:
            raise SourceError(f"NCMEC could not be reached: {type(error).__name__}") from None
        try:
            events = ET.iterparse(io.BytesIO(body))
            for _, element in events:  # namespaces add nothing here (pytx strips them too)
                element.tag = element.tag.partition("}")[2] or element.tag
            root = events.root  # type: ignore[attr-defined]
        except ET.ParseError as error:
            text = body[:4096].decode("utf-8", "replace")
            raise UnreadablePage(f"the page is not XML ({error})", text) from None
        return root

    @staticmethod
    def item(record: Any, where: str, list_name: str, trust: str | None) -> Item:
        """One entry (its XML text) as an item: a tombstone withdraws, an image or video is banked by
        its PDQ and MD5 (other fingerprints, PhotoDNA included, Stanch does not match)."""
        try:
            entry = NCMECEntryUpdate.from_xml(_XMLWrapper(ET.fromstring(record)))
        except Exception as error:  # pytx raises IndexError, ValueError, AttributeError... on bad XML
            raise FormatError(where, f"not an NCMEC entry ({type(error).__name__})") from None
        external_id = f"{entry.member_id}:{entry.id}"
        if entry.deleted:
            return Withdrawal(list_name, external_id, "ncmec deleted")
        fingerprints = {k.lower(): v.strip() for k, v in entry.fingerprints.items()}
        provenance = Provenance(source=list_name, external_list=list_name, external_id=external_id,
                                trust=trust)
        try:
            if entry.entry_type == NCMECEntryType.image and ("pdq" in fingerprints or "md5" in fingerprints):
                return entry_from_hashes(pdq=fingerprints.get("pdq"), md5=fingerprints.get("md5"),
                                         provenance=provenance)
            if entry.entry_type == NCMECEntryType.video and "md5" in fingerprints:
                return entry_from_hashes(md5=fingerprints["md5"], kind="video", provenance=provenance)
        except ValueError as error:
            raise FormatError(where, str(error)) from None
        return Skip(f"NCMEC {entry.entry_type.value} entries without a PDQ or MD5")


class _NoRetryHashAPI(NCMECHashAPI):
    """pytx's NCMEC client at a given base URL, one attempt per request (its session sleeps through
    retries on the real clock; the outbox retries instead)."""

    def __init__(self, credentials_text: str, base_url: str | None) -> None:
        credentials = NCMECCredentials._from_str(credentials_text)
        if not credentials._are_valid():
            raise CredentialsError("NCMEC credentials are 'user:password' (pytx's TX_NCMEC_CREDENTIALS)")
        if not base_url:
            raise CredentialsError("an NCMEC source needs --base-url to send feedback to")
        super().__init__(credentials.user, credentials.password, NCMECEnvironment.Industry)
        self._base_url = base_url.rstrip("/")

    def _get_session(self) -> requests.Session:
        session = requests.Session()
        session.auth = (self.username, self.password)
        session.mount(self._base_url, TimeoutHTTPAdapter(timeout=TIMEOUT_SECONDS, max_retries=0))
        return session


def vote(credentials_text: str, base_url: str | None, esp: str, entry: str, fingerprints: list[str],
         feedback: str) -> None:
    """An upvote or a downvote (``feedback``) on each of an entry's ``fingerprints`` (``PDQ``, ``MD5``),
    through pytx's ``submit_feedback`` (``PUT {base}/v2/entries/{esp}/{entry}/{type}/feedback``). A
    downvote needs a reason: pytx takes NCMEC's only one (``GET {base}/v2/feedback/{type}/reasons``);
    when NCMEC offers several, nothing is sent (the message fails with the reasons' names). A PUT
    sent again (a retried message) sets the same vote."""
    api = _NoRetryHashAPI(credentials_text, base_url)
    kind, member = FeedbackType(feedback), int(esp)
    for name in fingerprints:
        fingerprint = FingerprintType(name)
        try:
            if kind == FeedbackType.downvote:
                reasons = api.feedback_reasons(fingerprint)
                if len(reasons) != 1:
                    names = ", ".join(sorted(reasons.values())) or "none"
                    raise Refused(f"NCMEC offers {len(reasons)} downvote reasons for {name} ({names});"
                                  " Stanch sends a downvote only when there is exactly one")
            api.submit_feedback(member, entry, fingerprint, kind)
        except requests.HTTPError as error:
            status = error.response.status_code if error.response is not None else 0
            if status == 429:
                retry = error.response.headers.get("Retry-After", "") if error.response is not None else ""
                raise RateLimited("NCMEC answered 429 (rate limited)",
                                  float(retry) if retry.isdigit() else None) from None
            failure = Refused if 400 <= status < 500 else SourceError
            raise failure(f"NCMEC refused the feedback (HTTP {status})" if failure is Refused
                          else f"NCMEC answered HTTP {status}") from None
        except requests.RequestException as error:
            raise SourceError(f"NCMEC could not be reached: {type(error).__name__}") from None
        except (IndexError, ValueError, AttributeError, ET.ParseError):
            raise SourceError(f"NCMEC's downvote reasons for {name} could not be read") from None
