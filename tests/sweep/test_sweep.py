"""Folder sweeps on SQLite and PostgreSQL: planted copies found, the output format, incremental runs,
bank additions matched from stored hashes, copies fed to the desk, failures recorded and retried."""

from __future__ import annotations

import json
import os
from pathlib import Path

from sqlalchemy import select

from stanch.cli.match import match_files
from stanch.matching.engine import MatchEngine
from stanch.matching.sync import BankFollower
from stanch.store import Database, prune_feed
from stanch.store.desk_models import RequestItem, TakedownRequest
from stanch.store.outbox_models import OutboxMessage
from stanch.store.sweep_models import CatalogItem, Sweep
from tests.sweep.conftest import bank_seed, file_case, picture_jpeg, remove_case, sweep, write_catalog


def test_folder_sweep_finds_the_planted_copies_and_no_others(database: Database, catalog: Path) -> None:
    bank_seed(database, 3)
    bank_seed(database, 7)
    swept = sweep(database, catalog)
    assert swept.matched == {"item-3.jpg", "item-7.jpg"}
    assert len(swept.lines) == 2 and not swept.errors
    assert (swept.summary.items, swept.summary.hashed, swept.summary.matched) == (8, 8, 2)
    with database.read() as session:
        sweep_row = session.scalars(select(Sweep)).one()
        assert sweep_row.status == "finished" and sweep_row.hashed == 8
        assert session.scalar(select(CatalogItem).where(CatalogItem.record.is_(None))) is None


def test_lines_are_exactly_what_stanch_match_prints(database: Database, catalog: Path) -> None:
    bank_seed(database, 3)
    swept = sweep(database, catalog)
    engine = MatchEngine()
    BankFollower(database, engine).load()
    expected = next(match_files(engine, [catalog / "item-3.jpg"]))
    assert swept.lines == [{**expected, "path": str((catalog / "item-3.jpg").absolute())}]
    assert {"path", "matched", "matches", "action"} <= set(swept.lines[0])
    assert {"bank", "entry", "distance"} <= set(swept.lines[0]["matches"][0])
    json.dumps(swept.lines)


def test_since_hashes_only_new_and_changed_items(database: Database, catalog: Path) -> None:
    bank_seed(database, 9)
    first = sweep(database, catalog)
    assert first.matched == set()
    write_catalog(catalog, range(9, 10))  # a new upload: a copy of banked picture 9
    changed = catalog / "item-2.jpg"
    changed.write_bytes(picture_jpeg(12))
    second = sweep(database, catalog, since=first.summary.sweep)
    assert (second.summary.hashed, second.summary.reused) == (2, 7)
    assert second.matched == {"item-9.jpg"}


def test_bank_addition_is_matched_against_stored_hashes_without_reading_files(
    database: Database, catalog: Path
) -> None:
    bank_seed(database, 3)
    first = sweep(database, catalog)
    for path in catalog.iterdir():  # the files become unreadable garbage of the same size and time
        info = path.stat()
        path.write_bytes(b"\0" * info.st_size)
        os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    bank_seed(database, 5)
    second = sweep(database, catalog, since=first.summary.sweep)
    assert not second.errors
    assert (second.summary.hashed, second.summary.reused) == (0, 8)
    assert second.matched == {"item-5.jpg"}  # only the new entry's copy: item 3 was reported before
    third = sweep(database, catalog, since=second.summary.sweep)
    assert third.lines == [] and third.summary.hashed == 0


def test_bank_additions_pruned_from_the_feed_are_still_matched(database: Database, catalog: Path) -> None:
    """``stanch prune`` deleted the feed rows of additions made after the first sweep: the second
    sweep cannot tell what was added, so it matches the stored hashes against every entry."""
    bank_seed(database, 3)
    first = sweep(database, catalog)
    bank_seed(database, 5)
    bank_seed(database, 6)
    with database.write() as session:
        assert prune_feed(session, 1).through > first.summary.bank_seq
    second = sweep(database, catalog, since=first.summary.sweep)
    assert (second.summary.hashed, second.summary.reused) == (0, 8)
    assert {"item-5.jpg", "item-6.jpg"} <= second.matched


def test_case_sweep_attaches_the_copies_it_finds(database: Database, catalog: Path) -> None:
    number = file_case(database, 4)
    swept = sweep(database, catalog, case=number)
    assert swept.matched == {"item-4.jpg"}
    assert swept.lines[0]["matches"][0]["bank"] == f"case {number}"
    assert swept.summary.copies == 1 and swept.summary.removals == 0
    with database.read() as session:
        items = session.scalars(select(RequestItem)).all()
        assert [(i.item_id, i.origin, i.signal) for i in items] == [
            (str((catalog / "item-4.jpg").absolute()), "copy", "pdq")]


def _removals(db: Database) -> list[str]:
    with db.read() as session:
        rows = session.scalars(select(OutboxMessage).where(OutboxMessage.type == "remove_item"))
        return [json.loads(r.payload)["item_id"] for r in rows]


def test_new_copies_of_removed_cases_get_one_removal_each(database: Database, catalog: Path) -> None:
    number = file_case(database, 6)
    remove_case(database, number)  # banks the request's hashes in the case bank
    before = _removals(database)
    swept = sweep(database, catalog)
    assert swept.matched == {"item-6.jpg"}
    assert swept.summary.copies == 1 and swept.summary.removals == 1
    copy = str((catalog / "item-6.jpg").absolute())
    assert _removals(database) == [*before, copy]
    again = sweep(database, catalog)  # a second full sweep finds the copy again but queues nothing
    assert again.matched == {"item-6.jpg"} and again.summary.removals == 0
    assert _removals(database) == [*before, copy]
    with database.read() as session:
        request = session.scalars(select(TakedownRequest)).one()
        assert request.status == "removed"


def test_failed_items_are_reported_recorded_and_tried_again(database: Database, catalog: Path) -> None:
    broken = catalog / "item-1.jpg"
    broken.write_bytes(b"not a picture")
    first = sweep(database, catalog)
    assert list(first.errors) == [str(broken.absolute())] and first.summary.failed == 1
    with database.read() as session:
        row = session.scalars(select(CatalogItem).where(CatalogItem.error.is_not(None))).one()
        assert row.key == str(broken.absolute()) and row.failures == 1 and row.record is None
    second = sweep(database, catalog, since=first.summary.sweep)  # still broken: tried, failed again
    assert second.summary.failed == 1 and second.summary.reused == 7
    broken.write_bytes(picture_jpeg(1))
    third = sweep(database, catalog, since=second.summary.sweep)
    assert (third.summary.hashed, third.summary.failed) == (1, 0)
    with database.read() as session:
        assert session.scalar(select(CatalogItem).where(CatalogItem.error.is_not(None))) is None


def test_case_sweep_with_since_reads_nothing(database: Database, catalog: Path) -> None:
    first = sweep(database, catalog)
    for path in catalog.iterdir():
        info = path.stat()
        path.write_bytes(b"\0" * info.st_size)
        os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    number = file_case(database, 2)
    swept = sweep(database, catalog, case=number, since=first.summary.sweep)
    assert (swept.summary.hashed, swept.summary.reused, swept.summary.copies) == (0, 8, 1)
    assert swept.matched == {"item-2.jpg"}


def test_videos_are_matched_and_their_stored_frames_reused(database: Database, tmp_path: Path) -> None:
    from stanch.signals import hash_media
    from stanch.store import add_entry, create_bank, entry_from_signals
    from tests.signals.media_factory import video

    folder = tmp_path / "videos"
    folder.mkdir()
    clips = {name: video(4, fps=5, size=64, turn=turn) for name, turn in (("a", 0), ("b", 1))}
    for name, data in clips.items():
        (folder / f"{name}.mp4").write_bytes(data)

    def bank(name: str) -> None:
        with database.write() as session:
            target = create_bank(session, f"videos-{name}")
            add_entry(session, target, entry_from_signals(hash_media(clips[name])))

    bank("a")
    first = sweep(database, folder)
    assert first.matched == {"a.mp4"}
    assert first.lines[0]["matches"][0]["signal"] in ("md5", "sha256", "vpdq")
    bank("b")
    for path in folder.iterdir():  # unreadable from now on: only the stored frames can match
        info = path.stat()
        path.write_bytes(b"\0" * info.st_size)
        os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    second = sweep(database, folder, since=first.summary.sweep)
    assert second.matched == {"b.mp4"} and (second.summary.hashed, second.summary.reused) == (0, 2)


def test_items_hashed_early_give_the_same_sweep(database: Database, catalog: Path, tmp_path: Path) -> None:
    """``LocalPool.start`` (what ``stanch sweep`` does before opening the database) changes no line or
    count, and an item the catalog knows something of (validators) is not hashed early."""
    from stanch.sweep import HashSettings, LocalPool, SweepOptions, SweepRun, list_items
    from stanch.sweep.hashing import task

    bank_seed(database, 2)
    plain = SweepRun(database, catalog, LocalPool(HashSettings(), workers=2), SweepOptions(batch=3))
    expected = list(plain.lines())
    (catalog / "broken.jpg").write_bytes(b"not a picture")
    pool = LocalPool(HashSettings(), workers=2)
    pool.start(task(key) for key in list_items(catalog))
    early = SweepRun(database, catalog, pool, SweepOptions(batch=3))
    lines = list(early.lines())
    assert [line for line in lines if "error" not in line] == expected
    assert [line["path"] for line in lines if "error" in line] == [str(catalog / "broken.jpg")]
    assert (early.summary.hashed, early.summary.failed, early.summary.matched) == (
        plain.summary.hashed, 1, plain.summary.matched)
    known = LocalPool(HashSettings(), workers=2)
    known.start([task(str(catalog / "item-1.jpg"), {"size": 1, "mtime_ns": 1})])
    assert known._early == {}  # an item with validators waits for the catalog
    known.close()
