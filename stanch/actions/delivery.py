"""What the dispatcher hands to a sender, and how a sender says a delivery did not happen."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol


@dataclass(frozen=True)
class Message:
    """One claimed outbox row, as a sender sees it. ``attempt`` counts from 1."""

    uuid: str
    kind: str
    type: str
    recipient: str | None
    payload: dict[str, Any]
    created_at: datetime
    attempt: int


class DeliveryError(Exception):
    """The message was not delivered.

    ``permanent``: trying again cannot help (the receiver refused it), so the message fails now;
    otherwise it is retried with backoff, no sooner than ``retry_after`` when the receiver asked.
    """

    def __init__(self, reason: str, *, permanent: bool = False, retry_after: timedelta | None = None):
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.retry_after = retry_after


class Sender(Protocol):
    """Delivers one kind of message; returns on success, raises ``DeliveryError`` otherwise."""

    def send(self, message: Message) -> None: ...

    def close(self) -> None: ...
