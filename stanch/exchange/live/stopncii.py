"""The StopNCII.org FetchHashes client: python-threatexchange's ``StopNCIIAPI``, wrapped.

Requests (base URL, ``/FetchHashes`` with ``startTimestamp``, ``pageSize`` and ``nextPageToken``, the
``x-functions-key`` and ``Ocp-Apim-Subscription-Key`` headers) are pytx's own. What is wrapped, and why:

* pytx's session retries 429 and 5xx itself inside urllib3, sleeping on the real clock (honouring
  ``Retry-After``): Stanch turns retries off and backs off in the fetcher, on its injected clock, with
  the checkpoint saved, so a long ``Retry-After`` never holds a worker.
* pytx's ``fetch_hashes`` drops a record it cannot parse (a log line) and raises on a page whose
  envelope it cannot parse, which stalls a fetch on that page for good (facebook/ThreatExchange #2004);
  Stanch reads the raw page and quarantines what it cannot read (``stanch.exchange.live.fetcher``).
* pytx's ``StopNCIISignalExchangeAPI`` compares ``record.hashValue`` (a string) with the
  ``StopNCIICaseStatus`` enum members ``Withdrawn``/``Deleted``, which is never true, so through it a
  withdrawn or deleted hash would stay active for ever. Stanch reads ``hashStatus``
  (``stanch.exchange.stopncii``) and withdraws the entry.
"""

from __future__ import annotations

import json
from typing import Any

import requests
from threatexchange.exchanges.clients.stopncii.api import StopNCIIAPI, StopNCIIEndpoint
from threatexchange.exchanges.clients.utils.common import TimeoutHTTPAdapter
from threatexchange.exchanges.impl.stop_ncii_api import StopNCIICredentials

from stanch.exchange.live.errors import CredentialsError, RateLimited, SourceError, UnreadablePage
from stanch.exchange.live.pages import Page, bounded, page_json, read_bounded
from stanch.exchange.stopncii import _item as record_item  # the one StopNCII record reader

PAGE_SIZE = 800
"""pytx's default page size."""
MAX_PAGE_BYTES = 32 * 2**20
"""A page larger than this is refused unread (800 records are well under 1 MiB)."""
START_TIMESTAMP = StopNCIIAPI.DEFAULT_START_TIME
TIMEOUT_SECONDS = 60


class _NoRetryAPI(StopNCIIAPI):
    """pytx's client with urllib3's sleeping retries replaced by one attempt (see the module docstring)."""

    def _get_session(self, endpoint: StopNCIIEndpoint) -> requests.Session:
        session: requests.Session = super()._get_session(endpoint)
        session.mount(self._base_url, TimeoutHTTPAdapter(timeout=TIMEOUT_SECONDS, max_retries=0))
        return session


def parse_credentials(text: str) -> tuple[StopNCIICredentials, dict[str, str]]:
    """``fetch_function_key,subscription_key`` (pytx's ``TX_STOPNCII_KEYS`` format; a third field,
    a base URL, is accepted as pytx does), or a JSON object ``{"fetch_function_key",
    "subscription_key", "feedback_function_key", "submit_function_key"}`` when feedback or hashes are
    sent too. Returns pytx's credentials and the other function keys given."""
    keys: dict[str, str] = {}
    try:
        if text.lstrip().startswith("{"):
            value = json.loads(text)
            if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
                raise ValueError
            credentials = StopNCIICredentials(
                fetch_function_key=value.get("fetch_function_key", ""),
                subscription_key=value.get("subscription_key", ""),
            )
            keys = {k: v for k, v in value.items() if k in _ENDPOINTS and v}
        else:
            credentials = StopNCIICredentials._from_str(text)
    except ValueError:
        raise CredentialsError(
            "StopNCII credentials are 'fetch_function_key,subscription_key' (two comma-separated keys)"
            ' or {"fetch_function_key": ..., "subscription_key": ..., "feedback_function_key": ...}'
        ) from None
    if not credentials._are_valid():
        raise CredentialsError("StopNCII credentials need both a fetch function key and a subscription key")
    return credentials, keys


_ENDPOINTS = {
    "feedback_function_key": StopNCIIEndpoint.SubmitFeedback,
    "submit_function_key": StopNCIIEndpoint.SubmitHashes,
}


class StopNCIIClient:
    """Fetches one raw FetchHashes page at a time (a JSON value, not yet checked); ``api`` is pytx's
    client (without its sleeping retries), used for feedback."""

    def __init__(
        self, credentials_text: str, base_url: str | None = None, *, needs: str | None = None
    ) -> None:
        credentials, keys = parse_credentials(credentials_text)
        if needs is not None and needs not in keys:
            raise CredentialsError(f"this StopNCII call needs a {needs} in the credentials")
        extra = {endpoint: keys[name] for name, endpoint in _ENDPOINTS.items() if name in keys}
        self.api = self._api = _NoRetryAPI(
            credentials.subscription_key,
            credentials.fetch_function_key,
            additional_function_keys=extra,
            base_url_override=base_url or credentials.base_url_override,
        )

    item = staticmethod(record_item)

    def fetch_page(self, start_timestamp: int, page_token: str | None, page_size: int = PAGE_SIZE) -> Page:
        """The page after ``page_token`` of the records changed since ``start_timestamp``; raises
        ``UnreadablePage`` when it cannot be read, ``RateLimited`` on 429 and ``SourceError`` on other
        failures."""
        return read_page(self._fetch_json(start_timestamp, page_token, page_size))

    def _fetch_json(self, start_timestamp: int, page_token: str | None, page_size: int) -> Any:
        params: dict[str, Any] = {"startTimestamp": start_timestamp, "pageSize": page_size}
        if page_token:
            params["nextPageToken"] = page_token
        url = "/".join((self._api._base_url, StopNCIIEndpoint.FetchHashes.value))
        try:
            with self._api._get_session(StopNCIIEndpoint.FetchHashes) as session:
                response = session.get(url, params=params, stream=True)
                response.raise_for_status()
                body = read_bounded(response, MAX_PAGE_BYTES)
        except requests.HTTPError as error:
            raise _http_error(error) from None
        except requests.RequestException as error:
            raise SourceError(f"StopNCII could not be reached: {type(error).__name__}") from None
        return page_json(body)


def read_page(value: Any) -> Page:
    """Check a FetchHashes page's envelope (pytx's ``FetchHashesResponse`` fields), leniently: a page
    whose cursor can be read is used even if its record list is not."""
    body = bounded(value)
    if not isinstance(value, dict):
        raise UnreadablePage("the page is not a JSON object", body)
    has_more, token = value.get("hasMoreRecords"), value.get("nextPageToken")
    next_set = value.get("nextSetTimestamp")
    if not isinstance(has_more, bool):
        raise UnreadablePage('the page has no "hasMoreRecords" true/false', body)
    if has_more and (not isinstance(token, str) or not token):
        raise UnreadablePage('the page says it has more records but gives no "nextPageToken"', body)
    if not isinstance(next_set, int) or isinstance(next_set, bool):
        if not has_more:
            raise UnreadablePage('the last page has no "nextSetTimestamp" to resume from', body)
        next_set = None
    records = value.get("hashRecords", [])
    if not isinstance(records, list):
        return Page([], has_more, token if has_more else None, next_set, '"hashRecords" is not a list')
    return Page(records, has_more, token if has_more else None, next_set)


def _http_error(error: requests.HTTPError) -> SourceError:
    response = error.response
    status = response.status_code if response is not None else 0
    if status == 429:
        return RateLimited("StopNCII answered 429 (rate limited)", _retry_after(response))
    if status in (401, 403):
        return SourceError(f"StopNCII refused the credentials (HTTP {status}): check the keys")
    return SourceError(f"StopNCII answered HTTP {status}")


def _retry_after(response: requests.Response | None) -> float | None:
    """``Retry-After`` in seconds (the delta form; an HTTP date is treated as absent)."""
    value = response.headers.get("Retry-After") if response is not None else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None
