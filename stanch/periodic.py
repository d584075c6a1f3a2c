"""A daemon thread that does one round of work every ``interval`` seconds until stopped: the desk's
ticker and the exchange's scheduler are both one of these (each server process runs them)."""

from __future__ import annotations

import threading


class Periodic:
    """Calls ``round()`` every ``interval`` seconds in a daemon thread until ``stop``; a round that
    raises is handed to ``failed`` and the next round retries."""

    thread_name = "stanch-periodic"

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)

    def round(self) -> None:
        """One round of work."""
        raise NotImplementedError

    def failed(self, error: Exception) -> None:
        """A round raised ``error`` (log it; the next round retries)."""

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.round()
            except Exception as error:
                self.failed(error)
