"""What can go wrong talking to a source, as the fetcher needs to tell the cases apart."""

from __future__ import annotations


class SourceError(RuntimeError):
    """The source failed (network, 5xx, refused credentials); the fetch stops and backs off."""


class RateLimited(SourceError):
    """The source answered 429; ``retry_after`` is how many seconds it asked us to wait (or None)."""

    def __init__(self, message: str, retry_after: float | None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class CredentialsError(ValueError):
    """The source's credentials are missing or unreadable; says where Stanch looked (never the secret)."""


class UnreadablePage(ValueError):
    """A page with no usable cursor (not JSON, or nothing saying where the next page starts)."""

    def __init__(self, reason: str, body: str) -> None:
        super().__init__(reason)
        self.body = body


class Refused(SourceError):
    """The source refused the request for good (a 4xx that retrying will not change)."""
