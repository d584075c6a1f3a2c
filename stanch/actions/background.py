"""The dispatcher in a server thread: ``stanch serve`` sends what the outbox holds itself.

Each server process runs one (dispatchers never claim the same message, so several processes are
fine). A deployment that runs ``stanch actions run`` on its own sets ``STANCH_DISPATCH=0`` and the
server only queues messages.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping

from sqlalchemy import Engine

from stanch.actions.delivery import Sender
from stanch.actions.dispatch import DEFAULT_POLL_SECONDS, Dispatcher
from stanch.actions.settings import ActionSettings, SettingsError

log = logging.getLogger("stanch.actions")
STOP_SECONDS = 30.0
"""How long shutdown waits for the batch being sent; what is not recorded by then is sent again
when its lease runs out."""


def dispatch_in_server(environ: Mapping[str, str] | None = None) -> bool:
    """``STANCH_DISPATCH``: ``1`` or unset runs the dispatcher in the server, ``0`` does not."""
    env = os.environ if environ is None else environ
    value = (env.get("STANCH_DISPATCH") or "").strip()
    if value in ("", "1"):
        return True
    if value == "0":
        return False
    raise SettingsError(f"STANCH_DISPATCH={value!r}: use 1 (the server sends outbox messages, the default) "
                        "or 0 (they are sent by a separate 'stanch actions run')")


class DispatcherThread:
    """Runs ``Dispatcher.run_forever`` in a daemon thread from ``start`` until ``stop``.

    Settings are read (and checked) when it is built, so a malformed one stops the server's start
    with a message naming the variable, as it stops ``stanch actions run``."""

    def __init__(self, engine: Engine, settings: ActionSettings | None = None, *,
                 poll_seconds: float = DEFAULT_POLL_SECONDS,
                 extra_senders: dict[str, Sender] | None = None) -> None:
        settings = settings or ActionSettings.from_env()
        self._dispatcher = Dispatcher(engine, settings, extra_senders=extra_senders)
        self._poll_seconds = poll_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="stanch-dispatcher", daemon=True)

    @property
    def kinds(self) -> tuple[str, ...]:
        """The kinds of message it sends (no ``webhook`` while ``STANCH_WEBHOOK_URL`` is unset)."""
        return self._dispatcher.kinds

    def start(self) -> None:
        if "webhook" not in self.kinds:
            log.warning("STANCH_WEBHOOK_URL is not set: webhooks wait in the outbox until it is")
        self._thread.start()

    def stop(self) -> None:
        """Finish the batch being sent (waiting at most ``STOP_SECONDS``) and release the senders."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=STOP_SECONDS)
        if self._thread.is_alive():
            log.warning("the dispatcher was still sending after %g s; its unrecorded messages will be "
                        "sent again when their lease runs out", STOP_SECONDS)
            return
        self._dispatcher.close()

    def _run(self) -> None:
        self._dispatcher.run_forever(self._stop, self._poll_seconds)
