"""When to try a message again: exponential backoff with jitter, up to a number of attempts.

Jitter spreads the retries of many messages that failed together (the platform was down) so they do
not all return at the same second when it comes back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class RetryPolicy:
    """Attempt ``n`` (1-based) that failed is retried after ``base * 2**(n-1)``, capped at ``cap``,
    plus up to ``jitter`` of that delay at random; after ``max_attempts`` the message fails.

    The defaults retry for about three and a half hours: long enough to ride out an outage, short
    enough that a removal that cannot be delivered is seen well inside the 48-hour deadline.
    """

    max_attempts: int = 12
    base: timedelta = timedelta(seconds=10)
    cap: timedelta = timedelta(hours=1)
    jitter: float = 0.25

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.base <= timedelta(0) or self.cap < self.base:
            raise ValueError("backoff needs 0 < base <= cap")
        if not 0 <= self.jitter <= 1:
            raise ValueError("jitter is a fraction of the delay, between 0 and 1")

    def delay(self, attempt: int, random: Callable[[], float]) -> timedelta:
        """How long to wait after failed attempt number ``attempt``; ``random()`` is in [0, 1)."""
        exponent = min(attempt - 1, 32)  # 2**32 * base is beyond any cap; avoids huge numbers
        backoff = min(self.base * 2**exponent, self.cap)
        return backoff * (1 + self.jitter * random())
