"""Index snapshots: every bank's image hashes in files that server processes map read-only.

Why: a start reads every hash from the database (about 22 s at 10M hashes, minutes at 100M), and
``stanch serve --workers N`` holds N private copies of the index. A snapshot is the bulk-loaded base
segments (entry ids, hashes, chunk tables) as ``.npy`` files and a manifest naming the database and the
change-feed row they are current with. A process that finds a snapshot of its database maps the arrays
(``numpy.load(mmap_mode="r")``): their pages are the kernel's page cache, one copy for every process
on the machine, and the start costs little more than reading the manifest. The change feed since the
snapshot's position is then applied on top, exactly as after a database load (``stanch.matching.sync``).

Never trusted blindly. A snapshot is used only when its manifest names this database (a random
instance id kept in the database, ``stanch.store.identity``), the feed row it rests on is still in
the feed with the same content (so no change after it can have been pruned, and the database is not an
older copy), it is at most ``MAX_BEHIND`` changes behind (else replaying costs more than a reload), and
every file has the shape and type the manifest gives. Anything else — a missing, partial or foreign
snapshot, a restored backup, a pruned feed — and the index is loaded from the database and a new
snapshot written. Writing is atomic: arrays go to a fresh folder, then one ``os.replace`` of the
``CURRENT`` pointer publishes it; processes still mapping the old folder's files keep their pages.

Huge pages. Each mapping is advised ``MADV_HUGEPAGE`` (``advise_huge_pages``) before any page of it is
read. A lookup reads a few thousand rows at random over the whole mapping (gigabytes at 100M): with
4 KiB pages each read also walks the page tables, and pages read in at random, as after a restart
whose files were not in the page cache, come in as 4 KiB pages. Advised, the kernel reads the file in
2 MiB pieces and maps them whole (``FilePmdMapped`` in ``/proc/<pid>/smaps``), still the page cache's
one shared copy. Where the kernel cannot (no transparent huge pages, a file system without large
folios), the advice is ignored and nothing else changes.

Only image hashes are snapshotted: video frames, digests and per-entry notes stay small beside them
and are read from the database at every start.
"""

from __future__ import annotations

import fcntl
import json
import logging
import mmap
import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from stanch.index import MultiIndex, Segment

log = logging.getLogger(__name__)

FORMAT = 1
"""Bumped whenever the files' layout changes: a snapshot of another format is rebuilt."""
MAX_BEHIND = 100_000
"""A snapshot more changes behind the feed than this is rebuilt rather than replayed."""
FeedRow = tuple[int, int | None, str]


@dataclass(frozen=True)
class SnapshotKey:
    """What a snapshot must agree with: the database's identity and the feed row it is current with."""

    database: str
    seq: int
    row: FeedRow | None


@dataclass(frozen=True)
class Snapshot:
    """A snapshot found on disk: its key and each bank's image base segment (arrays mapped read-only)."""

    key: SnapshotKey
    bases: dict[int, Segment]


class SnapshotDir:
    """The snapshots of one database under ``root`` (``STANCH_INDEX_SNAPSHOT_DIR``)."""

    def __init__(self, root: Path, database: str) -> None:
        self.root = root
        self.database = database
        self.home = root / database

    @contextmanager
    def writer_lock(self) -> Iterator[None]:
        """Held while one process loads from the database and writes, so the others wait and map it."""
        self.home.mkdir(parents=True, exist_ok=True, mode=0o700)
        with open(self.home / "lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def read(self) -> Snapshot | None:
        """The published snapshot, its arrays mapped; None (with the reason logged) when there is none
        or it cannot be read as written."""
        try:
            folder = self.home / (self.home / "CURRENT").read_text().strip()
            manifest = json.loads((folder / "manifest.json").read_text())
            return _snapshot(folder, manifest, self.database)
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as error:
            log.warning("index snapshot under %s is unreadable (%s); loading from the database",
                        self.home, error)
            return None

    def write(self, key: SnapshotKey, bases: dict[int, Segment]) -> None:
        """Publish ``bases`` as the snapshot current with ``key``, then delete older ones."""
        folder = self.home / f"seq-{key.seq}-{secrets.token_hex(4)}"
        folder.mkdir(parents=True, mode=0o700)
        banks = {str(bank_id): _write_segment(folder, bank_id, base) for bank_id, base in bases.items()}
        manifest = {"format": FORMAT, "database": key.database, "seq": key.seq,
                    "row": None if key.row is None else list(key.row), "banks": banks}
        _write_text(folder / "manifest.json", json.dumps(manifest, indent=1))
        _write_text(self.home / "CURRENT", folder.name)
        for old in self.home.glob("seq-*"):
            if old.name != folder.name:
                shutil.rmtree(old, ignore_errors=True)


def usable(snapshot: Snapshot, now: SnapshotKey, latest: int) -> str | None:
    """Why ``snapshot`` must not be used against the database as ``now`` describes it (its feed row
    at the snapshot's seq, and the ``latest`` seq), or None when it can be."""
    key = snapshot.key
    if key.database != now.database:
        return "it belongs to another database"
    if key.seq > latest:
        return f"it is ahead of the database's change feed ({key.seq} > {latest}): a restored backup?"
    if key.row != now.row:
        return f"the change feed's row {key.seq} is no longer what it was (pruned, or another history)"
    if latest - key.seq > MAX_BEHIND:
        return f"it is {latest - key.seq} changes behind (more than {MAX_BEHIND})"
    return None


# -- files -------------------------------------------------------------------------------------------

_ARRAYS = ("ids", "words", "offsets", "rows")


def _write_segment(folder: Path, bank_id: int, base: Segment) -> dict[str, Any]:
    if base.ordinals is not None:
        raise ValueError("only a base segment sorted by id (a bulk load's) can be snapshotted")
    arrays = {"ids": base.ids, "words": base.words}
    if base.table is not None:
        arrays |= {"offsets": base.table.offsets, "rows": base.table.rows}
    for name, array in arrays.items():
        with open(folder / f"bank-{bank_id}.{name}.npy", "wb") as handle:
            np.save(handle, np.ascontiguousarray(array))
            handle.flush()
            os.fsync(handle.fileno())
    return {
        "rows": len(base),
        "bits": None if base.table is None else base.table.bits,
        "shapes": {name: list(array.shape) for name, array in arrays.items()},
        "dtypes": {name: array.dtype.str for name, array in arrays.items()},
    }


def _snapshot(folder: Path, manifest: dict[str, Any], database: str) -> Snapshot | None:
    if manifest["format"] != FORMAT or manifest["database"] != database:
        return None
    row = manifest["row"]
    key = SnapshotKey(database, int(manifest["seq"]), None if row is None else (row[0], row[1], row[2]))
    banks = manifest["banks"].items()
    bases = {int(bank_id): _read_segment(folder, int(bank_id), spec) for bank_id, spec in banks}
    return Snapshot(key, bases)


def _read_segment(folder: Path, bank_id: int, spec: dict[str, Any]) -> Segment:
    arrays = {}
    for name in _ARRAYS:
        if name not in spec["shapes"]:
            continue
        array = np.load(folder / f"bank-{bank_id}.{name}.npy", mmap_mode="r", allow_pickle=False)
        if list(array.shape) != spec["shapes"][name] or array.dtype.str != spec["dtypes"][name]:
            raise ValueError(f"bank {bank_id}'s {name} file does not have the shape its manifest gives")
        advise_huge_pages(array)
        arrays[name] = array
    if len(arrays["ids"]) != spec["rows"] or len(arrays["words"]) != spec["rows"]:
        raise ValueError(f"bank {bank_id}'s files do not hold the {spec['rows']} rows its manifest gives")
    table = MultiIndex(arrays["offsets"], arrays["rows"], int(spec["bits"])) if "offsets" in arrays else None
    return Segment(arrays["ids"], arrays["words"], None, table)


ADVISE_HUGE_PAGES = True
"""Advise mapped arrays ``MADV_HUGEPAGE`` (module docstring); benchmarks/snapshot_memory.py turns it off
in a worker to measure the difference in the same run."""


def advise_huge_pages(array: np.ndarray) -> bool:
    """Ask the kernel to back ``array``'s file mapping with huge pages; True if the advice was given.

    Advice only: a kernel without transparent huge pages for files refuses it (EINVAL) or ignores it,
    and the mapping works as before."""
    mapping = getattr(array, "_mmap", None)  # numpy.memmap keeps its mmap.mmap here
    advice = getattr(mmap, "MADV_HUGEPAGE", None)
    if not ADVISE_HUGE_PAGES or mapping is None or advice is None:
        return False
    try:
        mapping.madvise(advice)
    except OSError:
        return False
    return True


def _write_text(path: Path, text: str) -> None:
    """Write ``path`` atomically: a reader sees the old content or the new, never a part."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    with open(temporary, "w") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
