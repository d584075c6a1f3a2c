"""Index snapshots (stanch.matching.snapshot): written once, mapped read-only by later starts, equal to a
load from the database, and never used when they could be wrong (SQLite and PostgreSQL)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from stanch.config import ConfigError
from stanch.index import HammingIndex, index_segment
from stanch.matching import snapshot as snapshot_module
from stanch.matching.engine import MatchEngine
from stanch.matching.query import hash_query
from stanch.matching.snapshot import MAX_BEHIND, Snapshot, SnapshotDir, SnapshotKey, usable
from stanch.matching.sync import BankFollower
from stanch.runtime import Settings
from stanch.store import (
    Database,
    add_entries,
    add_entry,
    create_bank,
    database_identity,
    entry_from_hashes,
    get_bank,
    prune_feed,
    withdraw_entry,
)
from tests.index.index_reference import near, random_hashes

ROWS = 20_000  # above MIN_INDEXED_ROWS, so the base has chunk tables to snapshot


def _segment_search(index: HammingIndex, queries: np.ndarray) -> list[tuple[int, int, int]]:
    hits = index.search_many(queries, 31)
    return sorted(zip(hits.query.tolist(), hits.id.tolist(), hits.distance.tolist(), strict=True))


def test_a_written_base_is_mapped_read_only_and_searches_as_the_original(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    hashes = random_hashes(rng, ROWS)
    ids = np.repeat(np.arange(1, ROWS // 2 + 1, dtype=np.int64), 2)
    base = index_segment(ids, hashes)
    assert base.table is not None
    snapshots = SnapshotDir(tmp_path, "db")
    snapshots.write(SnapshotKey("db", 5, (1, 2, "add")), {3: base})
    read = snapshots.read()
    assert read is not None and read.key == SnapshotKey("db", 5, (1, 2, "add"))
    mapped = read.bases[3]
    assert isinstance(mapped.words, np.memmap) and not mapped.words.flags.writeable
    assert mapped.table is not None and isinstance(mapped.table.rows, np.memmap)
    queries = np.stack([near(rng, hashes[i], d) for i, d in ((0, 3), (501, 20), (9_999, 31))]
                       + [random_hashes(rng, 1)[0]])
    original, from_file = HammingIndex.from_arrays(ids, hashes), HammingIndex.from_segment(mapped)
    assert _segment_search(from_file, queries) == _segment_search(original, queries)
    assert len(_segment_search(from_file, queries)) >= 3
    # Writes go on top of the mapped base, never into it; a full compaction makes arrays of its own.
    from_file.remove([1])
    from_file.add([ROWS], queries[3:4])
    assert from_file.compact(full=True)
    found = _segment_search(from_file, queries)
    assert (0, 1, 3) not in found and (3, ROWS, 0) in found


def _vm_flags(path: Path) -> set[str]:
    """The VmFlags of this process's mapping of ``path`` (``/proc/self/smaps``)."""
    flags: set[str] = set()
    inside = False
    for line in Path("/proc/self/smaps").read_text().splitlines():
        if not line.split(" ", 1)[0].endswith(":"):  # a mapping's header ("start-end perms ... path")
            inside = line.rstrip().endswith(str(path))
        elif inside and line.startswith("VmFlags:"):
            flags |= set(line.split()[1:])
    return flags


@pytest.mark.skipif(not Path("/sys/kernel/mm/transparent_hugepage").is_dir(),
                    reason="the kernel has no transparent huge pages (the advice is then not given)")
def test_the_mapped_files_are_advised_huge_pages_and_can_be_told_not_to_be(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hashes = random_hashes(np.random.default_rng(8), 2_000)
    snapshots = SnapshotDir(tmp_path, "db")
    base = index_segment(np.arange(1, 2_001, dtype=np.int64), hashes)
    snapshots.write(SnapshotKey("db", 1, None), {1: base})
    read = snapshots.read()
    assert read is not None
    words = read.bases[1].words
    assert isinstance(words, np.memmap) and words.filename is not None
    assert "hg" in _vm_flags(Path(words.filename))  # the kernel's mark of MADV_HUGEPAGE
    monkeypatch.setattr(snapshot_module, "ADVISE_HUGE_PAGES", False)
    again = snapshots.read()
    assert again is not None and snapshot_module.advise_huge_pages(again.bases[1].words) is False
    assert not snapshot_module.advise_huge_pages(np.zeros(8))  # not a mapping: nothing to advise


def test_a_damaged_snapshot_is_reported_and_not_used(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    rng = np.random.default_rng(8)
    snapshots = SnapshotDir(tmp_path, "db")
    snapshots.write(SnapshotKey("db", 1, None), {1: index_segment(np.arange(100), random_hashes(rng, 100))})
    words = next(tmp_path.glob("db/seq-*/bank-1.words.npy"))
    words.write_bytes(words.read_bytes()[:-64])
    with caplog.at_level(logging.WARNING, logger="stanch.matching.snapshot"):
        assert snapshots.read() is None
    assert "unreadable" in caplog.text
    assert SnapshotDir(tmp_path, "another").read() is None  # none at all: no warning needed


@pytest.mark.parametrize(("now", "latest", "why"), [
    (SnapshotKey("other", 10, (1, 5, "add")), 12, "another database"),
    (SnapshotKey("db", 10, (1, 5, "add")), 9, "ahead of the database"),
    (SnapshotKey("db", 10, None), 12, "no longer what it was"),
    (SnapshotKey("db", 10, (1, 6, "add")), 12, "no longer what it was"),
    (SnapshotKey("db", 10, (1, 5, "add")), 11 + MAX_BEHIND, "changes behind"),
])
def test_a_snapshot_that_may_be_wrong_is_refused(now: SnapshotKey, latest: int, why: str) -> None:
    snapshot = Snapshot(SnapshotKey("db", 10, (1, 5, "add")), {})
    reason = usable(snapshot, now, latest)
    assert reason is not None and why in reason
    assert usable(snapshot, SnapshotKey("db", 10, (1, 5, "add")), 10 + MAX_BEHIND) is None


# -- with a database --------------------------------------------------------------------------------


def _fill(db: Database, rng: np.random.Generator, count: int) -> list[str]:
    hashes = [h.tobytes().hex() for h in random_hashes(rng, count)]
    with db.write() as session:
        create_bank(session, "ncii")
        add_entries(session, get_bank(session, "ncii"), (entry_from_hashes(pdq=h) for h in hashes))
    return hashes


def _follower(db: Database, root: Path | None) -> BankFollower:
    """A loaded follower keeping snapshots under ``root / "snapshots"`` (beside the SQLite file)."""
    follower = BankFollower(db, MatchEngine(), snapshots=None if root is None else root / "snapshots")
    follower.load()
    return follower


def _counts(engine: MatchEngine) -> dict[str, object]:
    """The engine's stats but its bytes (a snapshot's base keeps a withdrawn row as dead until compacted)."""
    return {name: value for name, value in engine.stats().items() if name != "index_bytes"}


def _matched(engine: MatchEngine, hashes: list[str]) -> list[bool]:
    return [engine.match_image(hash_query(h)).matched for h in hashes]


def test_a_start_maps_the_snapshot_and_then_follows_the_feed(
    database: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    rng = np.random.default_rng(9)
    hashes = _fill(database, rng, 300)
    first = _follower(database, tmp_path)            # loads from the database and writes the snapshot
    with database.write() as session:
        identity = database_identity(session)
    assert (tmp_path / "snapshots" / identity / "CURRENT").exists()
    later = random_hashes(rng, 1)[0].tobytes().hex()
    with database.write() as session:               # changes after the snapshot
        bank = get_bank(session, "ncii")
        added = add_entry(session, bank, entry_from_hashes(pdq=later))
        withdraw_entry(session, bank, 1)
    second = _follower(database, tmp_path)
    (base,) = second.engine.image_bases().values()
    assert isinstance(base.words, np.memmap), "the second start maps the snapshot's files"
    plain = _follower(database, None)
    probe = [*hashes, later]
    assert _matched(second.engine, probe) == _matched(plain.engine, probe)
    assert _matched(second.engine, probe)[0] is False and _matched(second.engine, probe)[-1] is True
    assert _counts(second.engine) == _counts(plain.engine) and second.seq == plain.seq
    assert added and first.seq < second.seq


def test_a_pruned_feed_makes_the_next_start_rebuild_the_snapshot(
    database: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    rng = np.random.default_rng(10)
    _fill(database, rng, 50)
    first = _follower(database, tmp_path)
    for h in random_hashes(rng, 3):
        with database.write() as session:
            add_entry(session, get_bank(session, "ncii"), entry_from_hashes(pdq=h.tobytes().hex()))
    with database.write() as session:
        prune_feed(session, keep=1)                  # the snapshot's feed row is gone
    with caplog.at_level(logging.INFO, logger="stanch.matching.sync"):
        second = _follower(database, tmp_path)
    assert f"not using the index snapshot at seq {first.seq}" in caplog.text
    assert _counts(second.engine) == _counts(_follower(database, None).engine)
    with database.write() as session:
        rebuilt = SnapshotDir(tmp_path / "snapshots", database_identity(session)).read()
    assert rebuilt is not None and rebuilt.key.seq == second.seq


def test_the_snapshot_folder_setting_must_be_a_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STANCH_INDEX_SNAPSHOT_DIR", str(tmp_path / "snapshots"))
    assert Settings.from_environment().index_snapshots == tmp_path / "snapshots"
    (tmp_path / "file").write_text("")
    monkeypatch.setenv("STANCH_INDEX_SNAPSHOT_DIR", str(tmp_path / "file"))
    with pytest.raises(ConfigError, match="STANCH_INDEX_SNAPSHOT_DIR must be a folder"):
        Settings.from_environment()
    monkeypatch.setenv("STANCH_INDEX_SNAPSHOT_DIR", "")
    assert Settings.from_environment().index_snapshots is None
