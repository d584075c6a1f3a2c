"""``stanch sweep SOURCE``: find every copy of banked content in a folder or a list of paths and URLs.

Stdout: the ``stanch match`` line (``{"path", "matched", "matches", "action"}``) of every item that
matched, and ``{"path", "error"}`` for every item that could not be hashed; ``path`` is the item's key
(absolute path or URL). Stderr: a progress bar on a terminal, then one JSON line
``{"summary": {...}}``. Exit status 1 if any item failed (it is recorded and tried again next run).
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import typer

    from stanch.sweep import HashSettings
    from stanch.sweep.executors import Executor

PROGRESS_MIN_ITEMS = 20
DEFAULT_BATCH = {"local": 64, "ray": 1024}
DEFAULTS: dict[str, Any] = {"engine": "local", "workers": 0, "since": None, "case": None, "ray_address": None,
                            "allow_private": False, "batch": 0, "max_file_mb": 512.0, "fetch_seconds": 30.0}
"""The Typer command's defaults (``register``; tests/sweep/test_sweep_cli.py checks they agree)."""
LEAN_OPTIONS = {"--workers": ("workers", int, 0), "-w": ("workers", int, 0), "--batch": ("batch", int, 0)}
"""The options ``lean_arguments`` reads itself (whole numbers, 0 or more); any other goes to Typer."""


def lean_arguments(argv: Sequence[str]) -> tuple[Path, dict[str, Any]] | None:
    """The source and options of ``stanch sweep SOURCE [--workers N] [--batch N]`` as Click would read
    them, or None when not sure (Typer then parses, and prints its help or its error): any other
    option, ``--help``, ``--``, a value that is not a plain whole number, no source or two."""
    if not argv or argv[0] != "sweep" or "_STANCH_COMPLETE" in os.environ:
        return None
    from stanch.cli.standalone import lean_options

    parsed = lean_options(argv[1:], LEAN_OPTIONS, DEFAULTS, double_dash=False)
    if parsed is None or len(parsed[0]) != 1:
        return None
    return Path(parsed[0][0]), parsed[1]


def lean_sweep(argv: Sequence[str]) -> int | None:
    """Run ``stanch sweep`` from ``argv`` without Typer, Click or pydantic (about a tenth of a second of
    the parent's CPU on the cores its workers hash on, and the workers start that much earlier); its
    exit status, or None to leave it to Typer. Ctrl-C and a closed pipe end as Click's standalone mode
    ends them (``Aborted!``, status 1)."""
    parsed = lean_arguments(argv)
    if parsed is None:
        return None
    source, options = parsed
    from stanch.cli.standalone import as_click_would

    return as_click_would(lambda: run_sweep(source, **options))


def run_sweep(source: Path, *, engine: str = "local", workers: int = 0, since: int | None = None,
              case: str | None = None, ray_address: str | None = None, allow_private: bool = False,
              batch: int = 0, max_file_mb: float = 512, fetch_seconds: float = 30) -> int:
    """The work of ``stanch sweep``: lines on stdout, the summary on stderr; the exit status (1 if any
    item failed, 2 if the sweep could not start)."""
    from stanch.net import FetchLimits
    from stanch.signals import Limits
    from stanch.sweep.hashing import HashSettings

    max_bytes = int(max_file_mb * 2**20)
    fetch = FetchLimits(max_bytes=max_bytes, seconds=fetch_seconds)
    settings = HashSettings(Limits(max_bytes=max_bytes), fetch, allow_private)
    executor = _executor(engine, settings, workers, ray_address)
    if executor is None:
        return 2
    try:
        if since is None:
            _start_early(executor, source)
        return _sweep(executor, source, since, case, batch or DEFAULT_BATCH[engine])
    finally:
        close = getattr(executor, "close", None)
        if close is not None:
            close()


def _say(message: str) -> None:
    """A line on stderr, as ``typer.echo(message, err=True)`` writes it (plain text, flushed)."""
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def _start_early(executor: Executor, source: Path) -> None:
    """Have a local pool's workers hash the first items while the database layer loads and opens:
    that set-up (SQLAlchemy, the store, the desk, the banks' index) took as long as hashing a few
    hundred files, on the cores the workers would otherwise wait on (see ``LocalPool.start``). The
    listing is done again by the sweep, which decides what is hashed; an early outcome it does not
    ask for is dropped."""
    from stanch.sweep.executors import LocalPool
    from stanch.sweep.hashing import task
    from stanch.sweep.sources import SourceError, is_url, list_items

    if not isinstance(executor, LocalPool):
        return
    try:
        keys = list_items(source)
    except SourceError:
        return  # the sweep reports it
    # Files only: a URL is fetched from someone's server, which a resumed sweep may not need again.
    executor.start(task(key) for key in keys if not is_url(key))


def _sweep(executor: Executor, source: Path, since: int | None, case: str | None, batch: int) -> int:
    """Run the sweep, printing its lines and summary; the exit status (1 if any item failed)."""
    from stanch.store import open_database
    from stanch.sweep.run import SweepError, SweepOptions, SweepRun
    from stanch.sweep.sources import SourceError

    db = open_database()
    try:
        try:
            run = SweepRun(db, source, executor, SweepOptions(since=since, case=case, batch=batch))
        except (SourceError, SweepError) as error:
            _say(f"error: {error}")
            return 2
        if run.summary.resumed:
            _say(f"resuming sweep {run.sweep_id} of {run.source}")
        with _progress(run.total) as advance:
            for line in run.lines(advance):
                sys.stdout.write(json.dumps(line) + "\n")
                sys.stdout.flush()
        for problem in run.refused:
            _say(f"warning: {problem}")
        _say(json.dumps({"summary": run.summary.to_dict()}))
    finally:
        db.dispose()
    return 1 if run.summary.failed > 0 else 0


def _executor(engine: str, settings: HashSettings, workers: int, address: str | None) -> Executor | None:
    """The executor of ``engine``, or None (said on stderr) when it cannot run here."""
    from stanch.sweep import LocalPool, RayData

    if engine == "local":
        return LocalPool(settings, workers or os.cpu_count() or 1)
    if engine == "ray":
        if importlib.util.find_spec("ray") is None:
            _say("error: Ray is not installed here: pip install 'stanch[ray]'")
            return None
        return RayData(settings, address)
    _say(f"error: --engine must be local or ray, not {engine!r}")
    return None


@contextmanager
def _progress(total: int) -> Iterator[Callable[[int], None] | None]:
    """A progress bar with rate and time left on stderr, when it is a terminal and the sweep is long."""
    if total < PROGRESS_MIN_ITEMS or not sys.stderr.isatty():
        yield None
        return
    # Rich loads only for a bar on a terminal: a sweep piped or run from cron never pays for it.
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        Task,
        TextColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class RateColumn(ProgressColumn):
        """Items per second."""

        def render(self, task: Task) -> Text:
            return Text(f"{task.speed:.1f} items/s" if task.speed else "… items/s")

    columns = (TextColumn("sweeping"), BarColumn(), MofNCompleteColumn(), RateColumn(), TimeRemainingColumn())
    # Rich would otherwise catch what is written to stdout and print it on the bar's console (stderr).
    with Progress(*columns, console=Console(stderr=True), transient=True, redirect_stdout=False,
                  redirect_stderr=False) as progress:
        task = progress.add_task("sweep", total=total)
        yield lambda n: progress.advance(task, n)


def register(app: typer.Typer) -> None:
    """Add ``stanch sweep`` to the ``stanch`` command (Typer is imported here, not by the module)."""
    import typer

    def sweep_command(
        source: Path = typer.Argument(..., help="A folder, or a text file listing paths or URLs "
                                      "(one per line)."),
        engine: Literal["local", "ray"] = typer.Option("local", "--engine",
                                                     help="local (a process pool) or ray (Ray Data)."),
        workers: int = typer.Option(0, "--workers", "-w", min=0,
                                    help="Local processes hashing in parallel (0: one per core)."),
        since: int | None = typer.Option(None, "--since", help="Id of an earlier finished sweep: read only "
                                         "items changed since, match the others' stored hashes against new "
                                         "bank entries only."),
        case: str | None = typer.Option(None, "--case", help="A request's number: look for copies of its "
                                        "hashes and attach them to it."),
        ray_address: str | None = typer.Option(None, "--ray-address", help="Ray cluster to join ('auto', "
                                               "'ray://head:10001'); default: a Ray runtime on this "
                                               "machine."),
        allow_private: bool = typer.Option(False, "--allow-private", help="Fetch URLs on private, loopback "
                                           "and link-local addresses too (only for media on your own "
                                           "network)."),
        batch: int = typer.Option(0, "--batch", min=0, help="Items committed together, the checkpoint step "
                                  "(0: 64 locally, 1024 on Ray, where each batch is one dataset)."),
        max_file_mb: float = typer.Option(512, "--max-file-mb", min=0.001, help="Largest item read, in MiB."),
        fetch_seconds: float = typer.Option(30, "--fetch-seconds", min=0.1,
                                            help="Longest time to fetch a URL."),
    ) -> None:
        """Sweep a catalog against the banks: JSON lines of matches on stdout, a summary on stderr."""
        raise typer.Exit(run_sweep(source, engine=engine, workers=workers, since=since, case=case,
                                   ray_address=ray_address, allow_private=allow_private, batch=batch,
                                   max_file_mb=max_file_mb, fetch_seconds=fetch_seconds))

    app.command("sweep")(sweep_command)
