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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import typer

if TYPE_CHECKING:
    from stanch.sweep import HashSettings
    from stanch.sweep.executors import Executor

PROGRESS_MIN_ITEMS = 20
DEFAULT_BATCH = {"local": 64, "ray": 1024}


def sweep_command(
    source: Path = typer.Argument(..., help="A folder, or a text file listing paths or URLs (one per line)."),
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
                                           "'ray://head:10001'); default: a Ray runtime on this machine."),
    allow_private: bool = typer.Option(False, "--allow-private", help="Fetch URLs on private, loopback "
                                       "and link-local addresses too (only for media on your own network)."),
    batch: int = typer.Option(0, "--batch", min=0, help="Items committed together, the checkpoint step "
                              "(0: 64 locally, 1024 on Ray, where each batch is one dataset)."),
    max_file_mb: float = typer.Option(512, "--max-file-mb", min=0.001, help="Largest item read, in MiB."),
    fetch_seconds: float = typer.Option(30, "--fetch-seconds", min=0.1, help="Longest time to fetch a URL."),
) -> None:
    """Sweep a catalog against the banks: JSON lines of matches on stdout, a summary on stderr."""
    from stanch.net import FetchLimits
    from stanch.signals import Limits
    from stanch.sweep.hashing import HashSettings

    max_bytes = int(max_file_mb * 2**20)
    fetch = FetchLimits(max_bytes=max_bytes, seconds=fetch_seconds)
    settings = HashSettings(Limits(max_bytes=max_bytes), fetch, allow_private)
    executor = _executor(engine, settings, workers, ray_address)
    try:
        if since is None:
            _start_early(executor, source)
        failed = _sweep(executor, source, since, case, batch or DEFAULT_BATCH[engine])
    finally:
        close = getattr(executor, "close", None)
        if close is not None:
            close()
    raise typer.Exit(1 if failed else 0)


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


def _sweep(executor: Executor, source: Path, since: int | None, case: str | None, batch: int) -> bool:
    """Run the sweep, printing its lines and summary; whether any item failed."""
    from stanch.store import open_database
    from stanch.sweep.run import SweepError, SweepOptions, SweepRun
    from stanch.sweep.sources import SourceError

    db = open_database()
    try:
        try:
            run = SweepRun(db, source, executor, SweepOptions(since=since, case=case, batch=batch))
        except (SourceError, SweepError) as error:
            typer.echo(f"error: {error}", err=True)
            raise typer.Exit(2) from None
        if run.summary.resumed:
            typer.echo(f"resuming sweep {run.sweep_id} of {run.source}", err=True)
        with _progress(run.total) as advance:
            for line in run.lines(advance):
                sys.stdout.write(json.dumps(line) + "\n")
                sys.stdout.flush()
        for problem in run.refused:
            typer.echo(f"warning: {problem}", err=True)
        typer.echo(json.dumps({"summary": run.summary.to_dict()}), err=True)
    finally:
        db.dispose()
    return run.summary.failed > 0


def _executor(engine: str, settings: HashSettings, workers: int, address: str | None) -> Executor:
    from stanch.sweep import LocalPool, RayData

    if engine == "local":
        return LocalPool(settings, workers or os.cpu_count() or 1)
    if engine == "ray":
        if importlib.util.find_spec("ray") is None:
            typer.echo("error: Ray is not installed here: pip install 'stanch[ray]'", err=True)
            raise typer.Exit(2)
        return RayData(settings, address)
    typer.echo(f"error: --engine must be local or ray, not {engine!r}", err=True)
    raise typer.Exit(2)


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
    """Add ``stanch sweep`` to the ``stanch`` command."""
    app.command("sweep")(sweep_command)
