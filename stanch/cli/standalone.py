"""What Click's standalone mode adds around a command, for the lean paths that run without Click
(``stanch hash`` and ``stanch sweep`` with plainly valid arguments): one place, so both end a Ctrl-C
or a closed pipe exactly as their Typer commands do."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable


def as_click_would(work: Callable[[], int]) -> int:
    """Run ``work`` and return its exit status; Ctrl-C prints ``Aborted!`` with status 1, and a closed
    pipe (``stanch hash DIR | head``) ends quietly with status 1."""
    try:
        return work()
    except (KeyboardInterrupt, EOFError):
        sys.stderr.write("\nAborted!\n")
        return 1
    except BrokenPipeError:
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - Python flushes stdout at exit
        return 1
