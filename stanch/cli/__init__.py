"""The ``stanch`` command: a thin layer over the library, one module per command group.

The Typer app lives in ``stanch.cli.root`` and is loaded only when needed: ``stanch hash FILES``, the
command users run most and on the most files, is parsed by ``stanch.cli.hash.lean_hash`` without Typer,
Click or pydantic (building Typer's parameter validators cost about 0.15 s of every run, against about
1 ms of hashing per small JPEG). Whatever that parser is not sure of (``--help``, a value out of range,
an unknown option) goes to the Typer app, so help, errors and exit statuses are Typer's, unchanged.
``stanch sweep SOURCE [--workers N] [--batch N]`` is run the same way (``stanch.cli.sweep.lean_sweep``):
its parent process shares the cores with the workers it starts, and Typer's start-up was CPU taken
from them.
``from stanch.cli import app`` (and ``load_command``, ``unwrap``, ...) still works: those names are
loaded from ``stanch.cli.root`` on first use.
"""

from __future__ import annotations

import sys
from typing import Any

COMMANDS: dict[str, str] = {
    "hash": "Hash media: one JSON line per file on stdout; exit status 1 if any file could not be hashed.",
    "match": "Match media against the banks: one JSON line per file; exit status 1 if any file failed.",
    "serve": "Serve the HTTP API (and pages) on the database in STANCH_DATABASE_URL.",
    "report": "Print the transparency report (requests by outcome, time to decision, copies, appeals, per "
              "month), or with --format dsa-csv the harmonised report's rows Stanch can fill for a period.",
    "sweep": "Sweep a catalog against the banks: JSON lines of matches on stdout, a summary on stderr.",
    "prune": "Withdraw expired bank entries, delete sent outbox messages older than --outbox-days and all "
             "but the newest --feed-keep change-feed rows; pending and failed messages, and the audit log, "
             "are never touched.",
    "actions": "The outbox: webhooks to the platform, emails to requesters.",
    "audit": "The audit log: verify its hash chain, show its events.",
    "request": "Ask a Stanch server to remove content (as the /report page does).",
    "users": "Reviewer accounts for the desk.",
    "desk": "The takedown desk's periodic work.",
    "bank": "Banks of hashes: create, fill, exchange, withdraw.",
    "keys": "API keys: create, list, revoke.",
    "exchange": "Live exchange: sources (StopNCII, NCMEC, ThreatExchange) that feed banks.",
    "dsa": "Statements of reasons for the EU DSA Transparency Database.",
    "docs": "Serve the documentation site on this machine (from a checkout of Stanch, with mkdocs-material).",
}
"""Command name -> its summary in ``stanch --help``, in the order listed there."""


def main(args: Any = None) -> None:
    """Entry point of the console script: a setting that cannot work is one line and exit status 2."""
    from stanch.config import ConfigError

    try:
        if args is None:
            status = _lean(sys.argv[1:])
            if status is not None:
                raise SystemExit(status)
        from stanch.cli.root import app

        app(args)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        raise SystemExit(2) from None


def _lean(argv: list[str]) -> int | None:
    """``stanch hash`` and ``stanch sweep`` with plainly valid arguments, run without Typer (their
    modules' ``lean_hash``, ``lean_sweep``): their exit status, or None for Typer to run the command."""
    if argv[:1] == ["hash"]:
        from stanch.cli.hash import lean_hash

        return lean_hash(argv)
    if argv[:1] == ["sweep"]:
        from stanch.cli.sweep import lean_sweep

        return lean_sweep(argv)
    return None


ROOT_NAMES = frozenset({"app", "load_command", "unwrap", "unwrap_help", "stanch_version", "LazyCommands"})
"""What ``stanch.cli`` lends from ``stanch.cli.root`` (which imports Typer) on first use."""


def __getattr__(name: str) -> Any:
    """``app``, ``load_command``, ... from ``stanch.cli.root``, imported on first use."""
    if name not in ROOT_NAMES:
        raise AttributeError(f"module 'stanch.cli' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module("stanch.cli.root"), name)
