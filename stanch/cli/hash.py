"""``stanch hash PATH...``: one JSON line of signals per file, folders recursed.

Files are found and read by ``stanch.files`` (a file over the size limit is refused from its size
alone, without being read); ``hash_files`` is reused by the other commands that take media paths.

This module does not import Typer: ``lean_hash`` runs the command from ``sys.argv`` when the arguments
are plainly valid (see ``stanch.cli``), and the Typer command, built by ``register``, does the same
work through ``run_hash`` for everything else (help, errors, tests' ``CliRunner``).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

if TYPE_CHECKING:
    from concurrent.futures import Future

    import typer

    from stanch.digests import Digests
    from stanch.signals import Limits, Purpose

PurposeChoice = Literal["query", "bank"]
"""``stanch.signals.PURPOSES`` (tests/cli/test_startup.py checks they agree), written out so that
``stanch hash --help`` need not load the hashing code, numpy and Pillow: the modules this command
uses are imported by the functions that use them."""

PROGRESS_MIN_FILES = 20
"""Fewer files than this finish too fast for a progress bar to help."""
PARALLEL_MIN_BYTES = 16 * 2**20
"""``--workers 0`` (the default) hashes in one process per core only when the files add up to this
much: a pool costs its start (forked workers, results sent back), which 120 small JPEGs (7 MB) did not
win back on a 2-core machine while twelve 12-megapixel photos (50 MB) nearly halved their time
(benchmarks/hash_images.py --whole-process)."""


def hash_file(path: Path, *, purpose: Purpose = "query", seconds_per_hash: float = 0.0,
              limits: Limits, early: Future[tuple[bytes, Digests] | None] | None = None) -> dict[str, Any]:
    """The ``stanch hash`` line of one file: ``{"path", ...signals}`` or ``{"path", "error"}``.

    ``early``: the file's bytes and digests read ahead (``ReadAhead``); None there (a file refused or
    unreadable when it was read ahead) reads it again here, which words the error."""
    from stanch.files import read_media_file
    from stanch.signals import MediaError, hash_media, signals_record

    try:
        known = early.result() if early is not None else None
        data, digests = known if known is not None else (read_media_file(path, limits), None)
        signals = hash_media(data, purpose=purpose, seconds_per_hash=seconds_per_hash, limits=limits,
                             digests=digests)
    except MediaError as error:
        return {"path": str(path), "error": str(error)}
    except OSError as error:
        return {"path": str(path), "error": f"cannot read the file: {error.strerror or error}"}
    except Exception as error:  # a decoder bug must not stop the other files
        return {"path": str(path), "error": f"could not hash the file ({type(error).__name__}: {error})"}
    return {"path": str(path), **signals_record(signals)}


class ReadAhead:
    """Every file's bytes and digests, read in a thread of its own, started before ``stanch.signals``
    (numpy) is imported: the import takes a core for about 0.1 s while the other one would idle, and
    MD5 and SHA-256 of a file (hashlib lets other threads run while it reads) are a twentieth of its
    hashing. Only for jobs hashed in threads, under ``PARALLEL_MIN_BYTES`` in all, so what is held is
    bounded by that; a file refused or unreadable gets None and is read again (and refused in the
    right words) by ``hash_file``."""

    def __init__(self, files: Sequence[Path], max_bytes: int) -> None:
        from concurrent.futures import ThreadPoolExecutor

        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="stanch-read-ahead")
        self.futures = [pool.submit(_read_and_digest, path, max_bytes) for path in files]
        pool.shutdown(wait=False)


def _read_and_digest(path: Path, max_bytes: int) -> tuple[bytes, Digests] | None:
    from stanch.digests import digests_of
    from stanch.files import read_bounded

    try:
        data = read_bounded(path, max_bytes)
    except OSError:
        return None
    return None if isinstance(data, str) else (data, digests_of(data))


def hash_files(files: Sequence[Path], *, purpose: Purpose = "query", seconds_per_hash: float = 0.0,
               limits: Limits | None = None, workers: int = 1, threads: int = 1,
               ahead: ReadAhead | None = None) -> Iterator[dict[str, Any]]:
    """``hash_file`` for each file, in order; with ``workers`` > 1 in a pool of that many processes.

    ``threads`` > 1 (with one worker) hashes in that many threads of this process instead: the JPEG
    decoder (simplejpeg), the digests and the C kernels release the GIL, so on 2 cores 120 small JPEGs
    hashed about 1.4x faster with no pool to start and nothing pickled (same lines, same order).

    ``purpose`` is ``hash_media``'s: ``"bank"`` for files that go into a bank, ``"query"`` otherwise.
    ``ahead``: the same files read ahead (threads only).
    """
    from stanch.signals import Limits

    one = partial(hash_file, purpose=purpose, seconds_per_hash=seconds_per_hash, limits=limits or Limits())
    if threads > 1 and workers <= 1 and len(files) > 1:
        from concurrent.futures import ThreadPoolExecutor

        early = ahead.futures if ahead is not None else [None] * len(files)
        with ThreadPoolExecutor(max_workers=threads) as threaded:
            yield from threaded.map(lambda path, known: one(path, early=known), files, early)
        return
    if workers <= 1 or len(files) <= 1:
        yield from map(one, files)
        return
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=workers) as pool:
        yield from pool.map(one, files, chunksize=max(1, min(16, len(files) // (4 * workers))))


def auto_workers(files: Sequence[Path]) -> int:
    """How many processes ``--workers 0`` uses for ``files``: see ``PARALLEL_MIN_BYTES``."""
    cores = _cores()
    if cores < 2 or len(files) < 2:
        return 1
    total = 0
    for path in files:
        try:
            total += path.stat().st_size
        except OSError:
            continue  # hash_file reports it
        if total >= PARALLEL_MIN_BYTES:
            return cores
    return 1


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _with_progress(lines: Iterator[dict[str, Any]], total: int) -> Iterator[dict[str, Any]]:
    """Pass lines through, drawing a progress bar on stderr when it is a terminal and the job is long."""
    if total < PROGRESS_MIN_FILES or not sys.stderr.isatty():
        yield from lines
        return
    from rich.console import Console
    from rich.progress import Progress

    # Rich would otherwise capture stdout while the bar is drawn, sending the JSON lines of
    # `stanch hash DIR > out.jsonl` to the terminal instead of the file.
    with Progress(console=Console(stderr=True), transient=True, redirect_stdout=False,
                  redirect_stderr=False) as progress:
        task = progress.add_task("hashing", total=total)
        for line in lines:
            yield line
            progress.advance(task)


HASH_OPTIONS: dict[str, tuple[str, Any, float | None]] = {
    "--workers": ("workers", int, 0), "-w": ("workers", int, 0),
    "--for": ("purpose", ("query", "bank"), None),
    "--seconds-per-hash": ("seconds_per_hash", float, 0.0),
    "--max-file-mb": ("max_file_mb", float, 0.001),
    "--max-megapixels": ("max_megapixels", float, 0.000001),
    "--max-video-seconds": ("max_video_seconds", float, 0.001),
    "--max-decode-seconds": ("max_decode_seconds", float, 0.001),
}
"""Flag -> (parameter, type or choices, least value) of ``stanch hash``, as the Typer command declares
them in ``register`` (tests/cli/test_hash.py checks that the two agree)."""

DEFAULTS: dict[str, Any] = {"workers": 0, "purpose": "query", "seconds_per_hash": 0.0, "max_file_mb": 512.0,
                            "max_megapixels": 89.0, "max_video_seconds": 3 * 3600.0,
                            "max_decode_seconds": 600.0}


def lean_arguments(argv: Sequence[str]) -> tuple[list[Path], dict[str, Any]] | None:
    """Paths and options of ``stanch hash ...`` as Click would parse them, or None if not sure.

    None (Typer then parses, and prints its help or its error) for anything but ``hash`` followed by
    known options with valid values and at least one path: ``--help``, ``-w4``, an unknown flag, a
    value out of range or not a number, a missing value, no path.
    """
    if not argv or argv[0] != "hash" or "_STANCH_COMPLETE" in os.environ:
        return None
    from stanch.cli.standalone import lean_options

    parsed = lean_options(argv[1:], HASH_OPTIONS, DEFAULTS, double_dash=True)
    if parsed is None or not parsed[0]:
        return None
    return [Path(path) for path in parsed[0]], parsed[1]


def lean_hash(argv: Sequence[str]) -> int | None:
    """Run ``stanch hash`` from ``argv`` without Typer; its exit status, or None to leave it to Typer.

    Mirrors what Click's standalone mode adds around a command: Ctrl-C prints ``Aborted!`` with status
    1, and a closed pipe (``stanch hash DIR | head``) ends quietly with status 1.
    """
    parsed = lean_arguments(argv)
    if parsed is None:
        return None
    paths, options = parsed
    from stanch.cli.standalone import as_click_would

    return as_click_would(lambda: run_hash(paths, **options))


def run_hash(paths: Sequence[Path], *, workers: int = 0, purpose: str = "query",
             seconds_per_hash: float = 0.0,
             max_file_mb: float = 512, max_megapixels: float = 89, max_video_seconds: float = 3 * 3600,
             max_decode_seconds: float = 600) -> int:
    """The work of ``stanch hash``: JSON lines on stdout; the exit status (1 if any file failed)."""
    from stanch.files import media_files

    max_bytes = int(max_file_mb * 1024 * 1024)
    files = media_files(paths)
    processes = workers or auto_workers(files)
    threads = _cores() if workers == 0 else 1
    threaded = threads > 1 and processes <= 1 and len(files) > 1
    ahead = ReadAhead(files, max_bytes) if threaded else None
    from stanch.signals import Limits  # numpy loads here, while the files are read ahead

    limits = Limits(
        max_bytes=max_bytes,
        max_pixels=int(max_megapixels * 1_000_000),
        max_video_seconds=max_video_seconds,
        max_decode_seconds=max_decode_seconds,
    )
    lines = hash_files(files, purpose=cast("Purpose", purpose), seconds_per_hash=seconds_per_hash,
                       limits=limits, workers=processes, threads=threads, ahead=ahead)
    failed = False
    for line in _with_progress(lines, len(files)):
        failed = failed or "error" in line
        sys.stdout.write(json.dumps(line) + "\n")
        sys.stdout.flush()
    return 1 if failed else 0


def register(app: typer.Typer) -> None:
    """Add ``stanch hash`` to the ``stanch`` command (Typer is imported here, not by the module)."""
    import typer

    def hash_command(
        paths: list[Path] = typer.Argument(..., help="Files or folders (folders are recursed)."),
        workers: int = typer.Option(0, "--workers", "-w", min=0, help="Processes hashing in parallel (0: "
                                    "one per core when the files add up to 16 MiB or more, else one)."),
        purpose: PurposeChoice = typer.Option(
            "query", "--for",
            help="query: the views an upload looks up; bank: also the spare windows and turned pictures a "
                 "bank indexes (for lists to import with 'stanch bank import')."),
        seconds_per_hash: float = typer.Option(
            0.0, "--seconds-per-hash", min=0.0,
            help="Video sampling: 0 hashes every frame (for banks), 1 one frame a second (for queries)."),
        max_file_mb: float = typer.Option(512, "--max-file-mb", min=0.001, help="Largest file read, in MiB."),
        max_megapixels: float = typer.Option(89, "--max-megapixels", min=0.000001,
                                             help="Largest still image, in megapixels."),
        max_video_seconds: float = typer.Option(3 * 3600, "--max-video-seconds", min=0.001,
                                                help="Longest video, in seconds of playing time."),
        max_decode_seconds: float = typer.Option(600, "--max-decode-seconds", min=0.001,
                                                 help="Longest time spent decoding one video."),
    ) -> None:
        """Hash media: one JSON line per file on stdout; exit status 1 if any file could not be hashed."""
        raise typer.Exit(run_hash(paths, workers=workers, purpose=purpose, seconds_per_hash=seconds_per_hash,
                                  max_file_mb=max_file_mb, max_megapixels=max_megapixels,
                                  max_video_seconds=max_video_seconds, max_decode_seconds=max_decode_seconds))

    app.command("hash")(hash_command)
