"""Delivery to the EU DSA Transparency Database: one outbox message (kind ``dsa``) per batch of at most
100 statements of reasons, ``POST {STANCH_DSA_TDB_URL}/api/v1/statements`` with ``Authorization:
Bearer {STANCH_DSA_TDB_TOKEN}``.

Verified against digital-services-act/transparency-database (``routes/api_v1.php``,
``StatementMultipleAPIController``, ``GroupedSubmissionsService``, ``PuidNotUniqueMultipleException``):
201 stores the whole batch; 422 refuses the whole batch, naming either the statements that failed
validation (``errors.statement_<index>``) or the PUIDs the database already holds
(``errors.existing_puids``). So one answer can settle part of a batch and the rest is sent again at once:

- statements the database names as invalid are ``rejected`` with its message, and never sent again;
- PUIDs it already holds are ``sent`` (a retry after a lost answer lands here, so nothing is stored
  twice: the PUID is the idempotency key);
- 408, 429, 5xx and network errors: the outbox retries the message with backoff;
- any other answer (401, 403, ...): the message fails, its statements stay ``queued`` for an admin.

The outcomes are written to the ``statements`` rows, each in its own short transaction.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, update

from stanch.actions.delivery import DeliveryError, Message
from stanch.store.compliance_models import Statement
from stanch.store.engine import write_engine
from stanch.store.models import utcnow

if TYPE_CHECKING:
    import httpx

MAX_BATCH = 100
_MESSAGE_CHARS = 2_000


class TdbSender:
    """Sends ``dsa`` outbox messages (``{"ids": [...], "statements": [...]}``) and records the outcome
    of each statement."""

    def __init__(self, url: str, token: str, engine: Engine, *, timeout: float,
                 clock: Callable[[], datetime] = utcnow,
                 transport: httpx.BaseTransport | None = None) -> None:
        import httpx  # here, not at the top: the sweep and the CLI import this module's package

        self._url = url.rstrip("/") + "/api/v1/statements"
        self._writes = write_engine(engine)
        self._clock = clock
        self._timeout = timeout
        self._client = httpx.Client(timeout=timeout, follow_redirects=False, transport=transport, headers={
            "Authorization": f"Bearer {token}", "Accept": "application/json", "User-Agent": "Stanch"})

    def send(self, message: Message) -> None:
        pending = dict(zip(message.payload["ids"], message.payload["statements"], strict=True))
        while pending:
            ids = list(pending)
            response = self._post([pending[i] for i in ids])
            if response.status_code in (200, 201):
                self._settle(ids, "sent", None)
                return
            if response.status_code != 422:
                raise _refusal(response)
            settled = self._read_refusal(ids, [pending[i] for i in ids], _json(response))
            if not settled:
                raise DeliveryError(f"the database refused the batch (422) without naming a statement: "
                                    f"{response.text[:_MESSAGE_CHARS]}", permanent=True)
            for statement_id in settled:
                pending.pop(statement_id)

    def close(self) -> None:
        self._client.close()

    def _post(self, statements: list[dict[str, Any]]) -> httpx.Response:
        import httpx

        try:
            return self._client.post(self._url, json={"statements": statements})
        except httpx.TimeoutException:
            raise DeliveryError(f"no answer from the DSA database within {self._timeout:g} s") from None
        except httpx.HTTPError as error:
            raise DeliveryError(f"could not reach the DSA database: {type(error).__name__}") from None

    def _read_refusal(self, ids: list[int], statements: list[dict[str, Any]],
                      body: dict[str, Any]) -> list[int]:
        """Record what a 422 says about each statement; the ids it settled."""
        errors = body.get("errors") if isinstance(body.get("errors"), dict) else {}
        assert isinstance(errors, dict)
        existing = {str(p) for p in errors.get("existing_puids") or []}
        known = [i for i, s in zip(ids, statements, strict=True) if str(s.get("puid")) in existing]
        self._settle(known, "sent", "the database already had this PUID")
        settled = list(known)
        for index, statement_id in enumerate(ids):
            problem = errors.get(f"statement_{index}")
            if problem is not None and statement_id not in settled:
                self._settle([statement_id], "rejected", json.dumps(problem)[:_MESSAGE_CHARS])
                settled.append(statement_id)
        return settled

    def _settle(self, ids: list[int], state: str, note: str | None) -> None:
        if not ids:
            return
        with self._writes.begin() as connection:
            connection.execute(update(Statement).where(Statement.id.in_(ids))
                               .values(tdb_state=state, tdb_message=note, tdb_at=self._clock()))


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _refusal(response: httpx.Response) -> DeliveryError:
    status = response.status_code
    reason = f"the DSA database answered {status}: {response.text[:200]}"
    if status in (408, 429) or status >= 500:
        retry = response.headers.get("Retry-After", "")
        after = timedelta(seconds=int(retry)) if retry.isdigit() else None
        return DeliveryError(reason, retry_after=after)
    return DeliveryError(reason, permanent=True)
