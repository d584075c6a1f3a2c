"""The Facebook ThreatExchange client: a privacy group's ``threat_updates``, read as
python-threatexchange reads them (``clients/fb_threatexchange/api.py``, ``impl/fb_threatexchange_api.py``).

Requests are pytx's: ``GET {base}/{privacy_group}/threat_updates/`` with ``access_token``,
``start_time`` (left out on the first fetch), ``limit`` and ``fields`` (pytx's
``ThreatUpdateJSON.te_threat_updates_fields()``); the answer is Graph API paging, ``{"data": [...],
"paging": {"next": URL}}``, each update ``{"id", "indicator", "type", "last_updated",
"should_delete", "descriptors": {"data": [{"id", "owner": {"id"}, "status", "tags", "reactions"}]}}``.
Each update is read by pytx's own ``ThreatUpdateJSON`` and ``FBThreatExchangeIndicatorRecord`` and
its types by pytx's ``naive_convert_to_signal_type`` (``HASH_PDQ``; ``HASH_VIDEO_MD5``, or
``HASH_MD5`` tagged ``media_type_video``). As in pytx, the next fetch starts at the newest
``last_updated`` seen.

What is wrapped, and why:

* pytx's ``_CursoredResponse`` follows ``paging.next`` as given, access token included, and raises on
  an answer it cannot decode, stalling the fetch on that page. Stanch keeps ``paging.next`` as the
  page token *without* ``access_token`` (the checkpoint is stored in the database, the token never
  is), refuses a ``next`` pointing at another host (it would be sent the token), and quarantines what
  it cannot read.
* pytx's GET has no timeout (it calls ``requests.get``, not its session) and reads the whole answer;
  Stanch reads a bounded, streamed answer with a timeout, and no retries that sleep.
* A ``requests`` error's text holds the URL, with the access token in it: only status codes and
  exception types are ever reported.
* An update whose every descriptor says ``NON_MALICIOUS`` (pytx: all opinions ``NEGATIVE_CLASS``)
  withdraws the entry rather than banking a hash its sharers call harmless.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import requests
from threatexchange.exchanges.clients.fb_threatexchange.api import ThreatExchangeAPI
from threatexchange.exchanges.clients.fb_threatexchange.threat_updates import ThreatUpdateJSON
from threatexchange.exchanges.clients.utils.common import TimeoutHTTPAdapter
from threatexchange.exchanges.fetch_state import SignalOpinionCategory
from threatexchange.exchanges.impl.fb_threatexchange_api import (
    FBThreatExchangeCollabConfig,
    FBThreatExchangeCredentials,
    FBThreatExchangeIndicatorRecord,
    FBThreatExchangeSignalExchangeAPI,
)
from threatexchange.signal_type.md5 import VideoMD5Signal
from threatexchange.signal_type.pdq.signal import PdqSignal

from stanch.exchange.live.errors import CredentialsError, RateLimited, Refused, SourceError, UnreadablePage
from stanch.exchange.live.pages import Page, bounded, page_json, read_bounded
from stanch.exchange.live.stopncii import START_TIMESTAMP
from stanch.exchange.records import FormatError, Item, Skip, Withdrawal
from stanch.store import Provenance, entry_from_hashes

PAGE_SIZE = 100
"""pytx's page size for threat_updates."""
MAX_PAGE_BYTES = 32 * 2**20
TIMEOUT_SECONDS = 60
DEFAULT_BASE_URL = ThreatExchangeAPI._TE_BASE_URL
GRAPH_RATE_LIMIT_CODES = frozenset({4, 17, 32, 613})
"""Graph API error codes for rate limits (developers.facebook.com/docs/graph-api/overview/rate-limiting)."""
_SIGNAL_TYPES = (PdqSignal, VideoMD5Signal)


def api_token(credentials_text: str) -> str:
    """The access token, checked as pytx checks it (``TX_ACCESS_TOKEN``: ``app_id|secret``)."""
    credentials = FBThreatExchangeCredentials._from_str(credentials_text)
    if credentials is None or not credentials._are_valid():
        raise CredentialsError("ThreatExchange credentials are an app access token, 'app_id|secret'"
                               " (pytx's TX_ACCESS_TOKEN)")
    return credentials.api_token


class NoRetryThreatExchangeAPI(ThreatExchangeAPI):
    """pytx's client with one attempt per request and HTTP errors raised (pytx's POSTs return the
    answer's JSON whatever the status, which hides a 429 or a 500 from the caller)."""

    def _get_session(self) -> requests.Session:
        session = requests.Session()
        session.mount(self._base_url, TimeoutHTTPAdapter(timeout=TIMEOUT_SECONDS, max_retries=0))
        session.hooks["response"].append(lambda response, *args, **kwargs: response.raise_for_status())
        return session

    def get_json_from_url(self, url: str, params: Any = None, *, json_obj_hook: Any = None) -> Any:
        """pytx's, through the session (pytx calls ``requests.get``: no timeout)."""
        with self._get_session() as session:
            return session.get(url, params=params or {}).json(object_hook=json_obj_hook)


class ThreatExchangeClient:
    """Pages of one privacy group's threat_updates."""

    def __init__(self, credentials_text: str, base_url: str | None, privacy_group: int | None) -> None:
        if privacy_group is None:
            raise CredentialsError("a ThreatExchange source needs --privacy-group (the group's id)")
        self._token = api_token(credentials_text)
        self._base = (base_url or DEFAULT_BASE_URL).rstrip("/")
        self._group = privacy_group
        self.app_id = int(self._token.partition("|")[0])
        self._api = FBThreatExchangeSignalExchangeAPI(
            NoRetryThreatExchangeAPI(self._token, endpoint_override=self._base),
            FBThreatExchangeCollabConfig(name=f"privacy group {privacy_group}", privacy_group=privacy_group),
        )

    def fetch_page(self, start_timestamp: int, page_token: str | None) -> Page:
        """The page at ``page_token`` (a ``paging.next`` without its access token), or the first page
        of the updates since ``start_timestamp``."""
        if page_token:
            path, _, query = page_token.partition("?")
            url, params = self._origin() + path, [*parse_qsl(query), ("access_token", self._token)]
        else:
            url = f"{self._base}/{self._group}/threat_updates/"
            params = [("access_token", self._token), ("limit", str(PAGE_SIZE)),
                      ("fields", ",".join(ThreatUpdateJSON.te_threat_updates_fields()))]
            if start_timestamp > START_TIMESTAMP:  # pytx sends no start_time on the first fetch
                params.append(("start_time", str(start_timestamp)))
        return self._read_page(self._get(url, params), start_timestamp)

    def _origin(self) -> str:
        parts = urlsplit(self._base)
        return f"{parts.scheme}://{parts.netloc}"

    def _get(self, url: str, params: list[tuple[str, str]]) -> Any:
        try:
            with requests.Session() as session:
                response = session.get(url, params=params, timeout=TIMEOUT_SECONDS, stream=True)
                if response.status_code >= 400:
                    raise graph_error(response.status_code, response.headers.get("Retry-After"),
                                      read_bounded(response, 65536))
                body = read_bounded(response, MAX_PAGE_BYTES)
        except requests.RequestException as error:  # its text holds the URL, token included
            raise SourceError(f"ThreatExchange could not be reached: {type(error).__name__}") from None
        return page_json(body)

    def _read_page(self, value: Any, start: int) -> Page:
        """A Graph API page: ``data`` and ``paging.next``; a ``next`` elsewhere than the base URL's
        host makes the page unreadable (it would be sent the access token)."""
        body = bounded(value)
        if not isinstance(value, dict):
            raise UnreadablePage("the page is not a JSON object", body)
        paging = value.get("paging", {})
        following = paging.get("next") if isinstance(paging, dict) else None
        if following is not None and not isinstance(following, str):
            raise UnreadablePage('"paging.next" is not a URL', body)
        token = self._token_of(following, body) if following else None
        records = value.get("data")
        if not isinstance(records, list):
            return Page([], token is not None, token, None, '"data" is not a list')
        times = [r.get("last_updated") for r in records if isinstance(r, dict)]
        newest = max((t for t in times if isinstance(t, int) and not isinstance(t, bool)), default=start)
        return Page(records, token is not None, token, max(newest, start))

    def _token_of(self, following: str, body: str) -> str:
        parts = urlsplit(following)
        if f"{parts.scheme}://{parts.netloc}" != self._origin():
            raise UnreadablePage('"paging.next" points at another host than the base URL', body)
        query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if k != "access_token"])
        return f"{parts.path}?{query}"

    def item(self, record: Any, where: str, list_name: str, trust: str | None) -> Item:
        """One update as an item: a tombstone (deleted or expired) or an update all of whose
        descriptors say non-malicious withdraws; PDQ and video MD5 indicators are banked."""
        try:
            update = ThreatUpdateJSON(record)
            external_id, indicator, threat_type = str(update.id), update.indicator, update.threat_type
            if not isinstance(indicator, str) or not isinstance(threat_type, str):
                raise TypeError
            deleted = bool(update.should_delete)
            opinions = None if deleted else FBThreatExchangeIndicatorRecord.from_threatexchange_json(
                self.app_id, update)
        except (TypeError, KeyError, ValueError, AttributeError):
            raise FormatError(where, "not a ThreatExchange threat update (needs id, indicator, type,"
                                     " should_delete and descriptors)") from None
        if opinions is None:  # pytx: a tombstone, or no descriptor it can see
            return Withdrawal(list_name, external_id, "threatexchange deleted")
        if all(o.category == SignalOpinionCategory.NEGATIVE_CLASS for o in opinions.opinions):
            return Withdrawal(list_name, external_id, "threatexchange non_malicious")
        converted = FBThreatExchangeSignalExchangeAPI.naive_convert_to_signal_type(
            list(_SIGNAL_TYPES), self._api.collab, {(threat_type, indicator): opinions})
        provenance = Provenance(source=list_name, external_list=list_name, external_id=external_id,
                                trust=trust)
        try:
            if converted.get(PdqSignal):
                return entry_from_hashes(pdq=next(iter(converted[PdqSignal])), provenance=provenance)
            if converted.get(VideoMD5Signal):
                return entry_from_hashes(md5=next(iter(converted[VideoMD5Signal])), kind="video",
                                         provenance=provenance)
        except ValueError as error:
            raise FormatError(where, f"{threat_type} {error}") from None
        return Skip(f"ThreatExchange {threat_type} indicators (Stanch cannot match them)")


def graph_error(status: int, retry_after: str | None, body: bytes, *, sending: bool = False) -> SourceError:
    """A Graph API error: 429, or an error whose code is a rate limit's, is ``RateLimited``; when
    ``sending``, another 4xx is ``Refused`` (the same request would be refused again)."""
    code = None
    try:
        error = json.loads(body.decode("utf-8", "replace")).get("error", {})
        code = error.get("code") if isinstance(error, dict) else None
    except (ValueError, AttributeError, RecursionError):
        pass
    if status == 429 or code in GRAPH_RATE_LIMIT_CODES:
        wait = float(retry_after) if retry_after and retry_after.isdigit() else None
        return RateLimited(f"ThreatExchange answered {status} (rate limited)", wait)
    failure = Refused if sending and 400 <= status < 500 else SourceError
    if status in (401, 403) or code == 190:
        return failure(f"ThreatExchange refused the access token (HTTP {status}): check it")
    return failure(f"ThreatExchange answered HTTP {status}")


def react(credentials_text: str, base_url: str | None, indicator_id: str, reaction: str) -> int:
    """Put ``reaction`` on every descriptor of the indicator that another app owns (as HMA 0.x's
    reaction writebacks do: ``get_threat_descriptors_from_indicator`` then
    ``react_to_threat_descriptor``); returns how many. A reaction is a set member on ThreatExchange's
    side, so sending it again (a retried message) changes nothing."""
    api = NoRetryThreatExchangeAPI(api_token(credentials_text),
                                   endpoint_override=(base_url or DEFAULT_BASE_URL).rstrip("/"))
    try:
        descriptors = api.get_threat_descriptors_from_indicator(int(indicator_id))
        others = [d for d in descriptors if str((d.get("owner") or {}).get("id")) != str(api.app_id)]
        for descriptor in others:
            _, _, answer = api.react_to_threat_descriptor(descriptor["id"], reaction)
            if isinstance(answer, dict) and answer.get("success") is False:
                raise SourceError(f"ThreatExchange did not take the reaction on {descriptor['id']}")
    except requests.HTTPError as error:
        response = error.response
        status = response.status_code if response is not None else 0
        retry_after = response.headers.get("Retry-After") if response is not None else None
        body = response.content[:65536] if response is not None else b""
        raise graph_error(status, retry_after, body, sending=True) from None
    except requests.RequestException as error:  # its text holds the URL, token included
        raise SourceError(f"ThreatExchange could not be reached: {type(error).__name__}") from None
    except (KeyError, TypeError, ValueError):
        raise Refused(f"ThreatExchange's descriptors of indicator {indicator_id} could not be read") from None
    return len(others)

