"""A case removed by a reviewer confirms the exchanged hashes it carried (feedback to their sources),
and, if its requester consented, its PDQ hashes go to the sources set to receive them (``push``).

When a reviewer decides ``remove``, the case's hashes and its items' (located items and copies) are
confirmed NCII. Entries that came from an exchange source with exactly one of those hashes (the same
PDQ, MD5 or SHA-256) get a ``confirmed`` verdict through ``queue_source_feedback``, in the decision's
transaction. Only identical hashes count: a near PDQ match found at upload time is not recorded on the
case (``RequestItem`` keeps how a copy matched the case, not which bank entry it matched), so it is not
claimed here; per-copy decisions (``desk-items``) call ``queue_source_feedback`` with the entries
they know.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import suppress
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, or_, select
from sqlalchemy.orm import Session, sessionmaker

from stanch.actions.delivery import DeliveryError, Message, Sender
from stanch.desk.entry_feedback import record_entry_verdicts
from stanch.exchange.live.errors import CredentialsError, RateLimited, Refused, SourceError
from stanch.exchange.live.feedback import (
    LIST_PREFIX,
    REACTION_TYPE,
    SUBMIT_TYPE,
    VOTE_TYPE,
    queue_hash_submission,
    queue_source_feedback,
)
from stanch.exchange.live.sources import UnknownSource, get_source, read_credentials
from stanch.store.desk_models import RequestItem, TakedownRequest
from stanch.store.models import Entry

if TYPE_CHECKING:
    import requests

# The StopNCII client (requests, python-threatexchange, which loads faiss: about 0.4 s) is imported
# by the sender that uses it, not by the desk's decisions that import this module: a sweep or a
# decision that sends nothing to StopNCII must not wait for it.


def after_removal(session: Session, request: TakedownRequest, now: datetime) -> None:
    """What a removal sends to exchange sources: confirmations, and the case's PDQ hashes to sources
    with ``push`` on when (and only when) the requester consented to sharing. A minor's case is never
    pushed: those lists are for adults' intimate images (its bank is for NCMEC's lists)."""
    pdqs, md5s, sha256s = _case_hashes(session, request)
    confirm_exchanged_hashes(session, pdqs, md5s, sha256s, now)
    record_entry_verdicts(session, identical_entries(session, pdqs, md5s, sha256s), "confirmed", now)
    if request.share_consent and not request.minor:
        queue_hash_submission(session, [p.hex() for p in pdqs], request.public_id, now)


def confirm_exchanged_hashes(session: Session, pdqs: set[bytes], md5s: set[str], sha256s: set[str],
                             now: datetime) -> int:
    """Queue ``confirmed`` feedback for exchanged entries identical to these hashes; returns how many
    messages were queued."""
    if not (pdqs or md5s or sha256s):
        return 0
    ids = session.scalars(select(Entry.id).where(
        Entry.external_list.like(f"{LIST_PREFIX}%"), Entry.withdrawn_at.is_(None),
        or_(Entry.pdq.in_(pdqs), Entry.md5.in_(md5s), Entry.sha256.in_(sha256s)),
    ))  # fmt: skip
    return queue_source_feedback(session, list(ids), "confirmed", now)


def case_entries(session: Session, request: TakedownRequest) -> list[int]:
    """Active entries of any bank identical to the case's hashes or its items' (the entries a whole-case
    decision speaks for: ``stanch.desk.entry_feedback``)."""
    return identical_entries(session, *_case_hashes(session, request))


def identical_entries(session: Session, pdqs: set[bytes], md5s: set[str], sha256s: set[str]) -> list[int]:
    """Active entries of any bank with exactly one of these PDQ, MD5 or SHA-256 values."""
    if not (pdqs or md5s or sha256s):
        return []
    return sorted(session.scalars(select(Entry.id).where(
        Entry.withdrawn_at.is_(None),
        or_(Entry.pdq.in_(pdqs), Entry.md5.in_(md5s), Entry.sha256.in_(sha256s)),
    )))  # fmt: skip


def _case_hashes(session: Session, request: TakedownRequest) -> tuple[set[bytes], set[str], set[str]]:
    """The PDQ, MD5 and SHA-256 values of a case's own hashes and of its removed items'."""
    records: list[Any] = list(json.loads(request.hashes))
    records += [json.loads(h) for h in session.scalars(select(RequestItem.hashes).where(
        RequestItem.request_id == request.id, RequestItem.removal_sent_at.is_not(None)))]  # not refused ones
    pdqs: set[bytes] = set()
    md5s: set[str] = set()
    sha256s: set[str] = set()
    for record in records:
        if not isinstance(record, dict):
            continue
        if isinstance(record.get("pdq"), str) and len(record["pdq"]) == 64:
            with suppress(ValueError):  # intake checked it; an unreadable hash simply confirms nothing
                pdqs.add(bytes.fromhex(record["pdq"]))
        if isinstance(record.get("md5"), str):
            md5s.add(record["md5"].lower())
        if isinstance(record.get("sha256"), str):
            sha256s.add(record["sha256"].lower())
    return pdqs, md5s, sha256s


class ExchangeFeedbackSender:
    """Sends ``exchange`` outbox messages to their source (the dispatcher's sender for that kind)."""

    def __init__(self, engine: Engine, environ: dict[str, str] | None = None) -> None:
        self._sessions = sessionmaker(engine)
        self._environ = environ

    def send(self, message: Message) -> None:
        from stanch.exchange.live.ncmec import vote
        from stanch.exchange.live.threatexchange import react

        payload = message.payload
        with self._sessions() as session:
            try:
                source = get_source(session, message.recipient or "")
            except UnknownSource:
                raise DeliveryError(f"exchange source {message.recipient!r} no longer exists",
                                    permanent=True) from None
            try:
                credentials = read_credentials(source, self._environ)
            except CredentialsError as error:
                raise DeliveryError(str(error)) from None  # retried: the admin may set it meanwhile
            base_url = source.base_url
        if message.type == REACTION_TYPE:
            _deliver(lambda: react(credentials, base_url, payload["indicator"], payload["reaction"]))
        elif message.type == VOTE_TYPE:
            _deliver(lambda: vote(credentials, base_url, payload["esp"], payload["entry"],
                                  payload["fingerprints"], payload["vote"]))
        else:
            _send_stopncii(message, credentials, base_url)

    def close(self) -> None:
        """Nothing held between messages."""


def _deliver(send: Callable[[], object]) -> None:
    """Run a client's send, its errors as the dispatcher's: a rate limit waits for ``Retry-After``, a
    refusal (4xx, bad credentials, a payload the client cannot send) fails for good, others retry."""
    try:
        send()
    except RateLimited as error:
        wait = timedelta(seconds=error.retry_after) if error.retry_after is not None else None
        raise DeliveryError(str(error), retry_after=wait) from None
    except (Refused, CredentialsError, ValueError, KeyError) as error:
        raise DeliveryError(str(error), permanent=True) from None
    except SourceError as error:
        raise DeliveryError(str(error)) from None


def _send_stopncii(message: Message, credentials: str, base_url: str | None) -> None:
    import requests
    from threatexchange.exchanges.clients.stopncii.api import (
        StopNCIICSPFeedbackValue,
        StopNCIIEndpoint,
        StopNCIISignalType,
    )

    from stanch.exchange.live.stopncii import StopNCIIClient

    payload = message.payload
    submit = message.type == SUBMIT_TYPE
    try:
        client = StopNCIIClient(credentials, base_url,
                                needs="submit_function_key" if submit else "feedback_function_key")
        signal_type = StopNCIISignalType(payload["signalType"])
        if not submit:
            feedback = StopNCIICSPFeedbackValue(payload["feedbackValue"])
    except (CredentialsError, ValueError) as error:
        raise DeliveryError(str(error), permanent=True) from None
    try:
        if submit:
            body = _submission(payload, message.created_at)
            client.api._post(StopNCIIEndpoint.SubmitHashes, json=body)
        else:
            client.api.submit_feedback(signal_type, payload["hashValue"], feedback)
    except requests.HTTPError as error:
        raise _delivery_error(error) from None
    except requests.RequestException as error:
        raise DeliveryError(f"StopNCII could not be reached: {type(error).__name__}") from None


def _submission(payload: dict[str, Any], created: datetime) -> dict[str, Any]:
    """pytx's ``submit_hashes`` body, with the signal type's name (pytx sends ``str()`` of its enum,
    ``"StopNCIISignalType.ImagePDQ"``: see docs/exchange.md)."""
    from threatexchange.exchanges.clients.stopncii.api import StopNCIICSPFeedbackValue

    blocked = [{"tags": [], "feedbackValue": StopNCIICSPFeedbackValue.Blocked.value}]
    records = [
        {"lastModtimestamp": int(created.timestamp()), "signalType": payload["signalType"],
         "hashValue": h, "CSPFeedbacks": blocked}
        for h in payload["hashes"]
    ]  # fmt: skip
    return {"count": len(records), "hashRecords": records}


def _delivery_error(error: requests.HTTPError) -> DeliveryError:
    status = error.response.status_code if error.response is not None else 0
    if status == 429:
        value = error.response.headers.get("Retry-After") if error.response is not None else None
        wait = timedelta(seconds=float(value)) if value and value.isdigit() else None
        return DeliveryError("StopNCII answered 429 (rate limited)", retry_after=wait)
    if status >= 500 or status == 0:
        return DeliveryError(f"StopNCII answered HTTP {status}")
    return DeliveryError(f"StopNCII refused the feedback (HTTP {status})", permanent=True)



def exchange_senders(engine: Engine) -> dict[str, Sender]:
    """The dispatcher's senders this module adds (``Dispatcher(..., extra_senders=...)``)."""
    return {"exchange": ExchangeFeedbackSender(engine)}
