"""The one wall clock: ``utcnow``, and ``Clock``, the type of what is passed in instead of reading it.

Code that needs the time takes a ``now`` (or a ``clock``) from its caller; only the edges (the runtime
object, the CLI, a background thread's loop) call ``utcnow`` themselves, so tests pass a fixed time.
It sits below every layer, so that matching and storage need not import each other for it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    """The current time, timezone-aware UTC: the only kind of time Stanch handles."""
    return datetime.now(UTC)
