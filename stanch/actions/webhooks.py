"""Webhooks to the platform: the actions it must take (remove an item, block an upload, ...).

The request is ``POST STANCH_WEBHOOK_URL`` with a JSON body ``{"id", "type", "created_at", "data"}``
and the headers ``X-Stanch-Timestamp``, ``X-Stanch-Signature`` (see ``stanch.actions.signing``) and
``Idempotency-Key`` (the message id, the same on every retry: a platform that already acted on it
answers 2xx again and does nothing). How the answer is read:

- 2xx: delivered.
- 408, 429 and 5xx, timeouts and connection errors: retried with backoff (``Retry-After`` in seconds
  is honoured).
- any other status, redirects included: refused for good; the message fails with the answer recorded.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from stanch.actions.delivery import DeliveryError, Message
from stanch.actions.signing import sign
from stanch.clock import utcnow

if TYPE_CHECKING:
    import httpx

WEBHOOK_TYPES = ("remove_item", "block_upload", "reinstate_item", "hold_for_review", "statement.created",
                 "entry.flood_review", "bank.flood_review", "upload.matched")
"""``remove_item``: take the item down; ``block_upload``: refuse an upload that matched;
``reinstate_item``: put back an item whose removal was reversed on appeal (one per item the appeal
names; the case's other items stay removed); ``hold_for_review``:
keep an item out of sight until a reviewer decides; ``statement.created``: a statement of reasons
for a removed item, for the platform to pass on to its uploader (``stanch.desk.statements``);
``entry.flood_review`` / ``bank.flood_review``: the flood guard switched an entry or a bank to review
(``stanch.desk.flood``), for the platform's admins; ``upload.matched``: an upload logged earlier matches
a new bank entry that has no case (``stanch.sweep.retro``)."""
_RETRYABLE_4XX = (408, 429)
_ERROR_BODY_CHARS = 200


def webhook_body(message: Message) -> bytes:
    """The JSON body, byte-for-byte the same on every attempt (so is its idempotency key)."""
    document = {
        "id": message.uuid,
        "type": message.type,
        "created_at": message.created_at.astimezone(UTC).isoformat(timespec="seconds"),
        "data": message.payload,
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode("utf-8")


class WebhookSender:
    """Signs and POSTs webhook messages to one endpoint, reusing its connections."""

    def __init__(
        self,
        url: str,
        secret: str,
        *,
        timeout: float,
        clock: Callable[[], datetime] = utcnow,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        import httpx  # here, not at the top: the sweep and the CLI import this module's package

        self._url = url
        self._secret = secret
        self._timeout = timeout
        self._clock = clock
        self._client = httpx.Client(
            timeout=timeout,
            follow_redirects=False,
            transport=transport,
            headers={"User-Agent": "Stanch webhooks"},
        )

    def send(self, message: Message) -> None:
        import httpx

        body = webhook_body(message)
        timestamp = int(self._clock().timestamp())
        headers = {
            "Content-Type": "application/json",
            "X-Stanch-Timestamp": str(timestamp),
            "X-Stanch-Signature": sign(self._secret, timestamp, body),
            "Idempotency-Key": message.uuid,
        }
        try:
            response = self._client.post(self._url, content=body, headers=headers)
        except httpx.TimeoutException:
            raise DeliveryError(f"no answer from {self._url} within {self._timeout:g} s") from None
        except httpx.HTTPError as error:
            raise DeliveryError(f"could not reach {self._url}: {error}") from None
        _check_answer(response)

    def close(self) -> None:
        self._client.close()


def _check_answer(response: httpx.Response) -> None:
    status = response.status_code
    if 200 <= status < 300:
        return
    answer = f"{response.request.url} answered {status}: {response.text[:_ERROR_BODY_CHARS]!r}"
    if 300 <= status < 400:
        location = response.headers.get("location", "?")
        raise DeliveryError(f"{answer}; it redirects to {location}: set STANCH_WEBHOOK_URL to the final "
                            "address (webhooks do not follow redirects)", permanent=True)
    if 400 <= status < 500 and status not in _RETRYABLE_4XX:
        raise DeliveryError(answer, permanent=True)
    raise DeliveryError(answer, retry_after=_retry_after(response))


def _retry_after(response: httpx.Response) -> timedelta | None:
    """``Retry-After`` given in seconds (the HTTP-date form is rare for APIs and is ignored)."""
    value = response.headers.get("retry-after", "").strip()
    return timedelta(seconds=int(value)) if value.isdigit() else None
