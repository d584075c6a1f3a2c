"""``stanch match PATH...``: match files against the banks, in-process, without a server.

Each file is hashed (videos at one frame a second, the query side of the video rule), looked up in
every bank loaded from the database, and reported as one JSON line::

    {"path", "matched", "action", "matches": [{"bank", "entry", "distance", "signal", ...}]}

A file that cannot be hashed gets ``{"path", "error"}`` as in ``stanch hash``; the others still go
through, and the exit status is then 1.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from stanch.cli.hash import hash_files

if TYPE_CHECKING:
    from stanch.matching.engine import MatchEngine


def match_files(engine: MatchEngine, files: list[Path], *, workers: int = 1) -> Iterator[dict[str, Any]]:
    """The ``stanch match`` line of each file, in order."""
    from stanch.signals import QUERY_SECONDS_PER_HASH, signals_from_record

    for record in hash_files(files, seconds_per_hash=QUERY_SECONDS_PER_HASH, workers=workers):
        if "error" in record:
            yield record
            continue
        verdict = engine.match(signals_from_record(record)).to_dict()
        yield {"path": record["path"], **verdict}


def load_engine(url: str | None = None) -> MatchEngine:
    """Every bank of the database (``STANCH_DATABASE_URL`` by default) loaded into a new engine."""
    from stanch.runtime import Settings, Stanch

    with Stanch.open(url, Settings()) as runtime:  # only the banks: no other setting is read
        return runtime.load_banks()


def match_command(
    paths: list[Path] = typer.Argument(..., help="Files or folders (folders are recursed)."),
    workers: int = typer.Option(1, "--workers", "-w", min=1, help="Processes hashing in parallel."),
) -> None:
    """Match media against the banks: one JSON line per file; exit status 1 if any file failed."""
    from stanch.files import media_files

    engine = load_engine()
    failed = False
    for line in match_files(engine, media_files(paths), workers=workers):
        failed = failed or "error" in line
        sys.stdout.write(json.dumps(line) + "\n")
        sys.stdout.flush()
    raise typer.Exit(1 if failed else 0)


def register(app: typer.Typer) -> None:
    """Add ``stanch match`` to the ``stanch`` command."""
    app.command("match")(match_command)
