"""Copies reviewed by confidence: the auto-remove rule, the review list a sweep fills, a reviewer's
remove and reject of each copy, and a rejected copy that never comes back (SQLite and PostgreSQL)."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import select

from stanch.desk.cases import UnknownRequest, WrongState, find_request
from stanch.desk.copy_review import copies_to_review, copy_review_hours, decide_copy
from stanch.desk.decisions import decide
from stanch.desk.spool import keyframe, keyframe_count, preview_source, spool_folder
from stanch.matching.auto_remove import AutoRemove, match_view
from stanch.matching.verdict import Match
from stanch.store import Database, create_bank, utcnow
from stanch.store.desk_models import RequestItem
from stanch.store.outbox_models import OutboxMessage
from tests.sweep.conftest import catalog_picture, file_case, remove_case, sweep, write_catalog


@pytest.fixture(autouse=True)
def spool_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The spool in the test's folder (on PostgreSQL it would be the working directory)."""
    folder = tmp_path / "spool"
    monkeypatch.setenv("STANCH_SPOOL_DIR", str(folder))
    return folder


# -- the rule --------------------------------------------------------------------------------------


def test_the_default_rule_removes_exact_and_near_plain_copies_only() -> None:
    rule = AutoRemove.parse(None)
    assert rule.text() == "md5,sha256,pdq<=10"
    assert rule.removes_at_once(Match("b", 1, 0, "sha256"))
    assert rule.removes_at_once(Match("b", 1, 4, "pdq", "original", "original", also=("md5",)))
    assert rule.removes_at_once(Match("b", 1, 10, "pdq", "original", "original"))
    assert not rule.removes_at_once(Match("b", 1, 11, "pdq", "original", "original"))
    rotated = Match("b", 1, 0, "pdq", "rot90", "original")
    cropped = Match("b", 1, 2, "pdq", "original", "trimmed")
    assert not rule.removes_at_once(rotated) and not rule.removes_at_once(cropped)
    assert not rule.removes_at_once(Match("b", 1, 3, "vpdq"))
    assert (match_view(rotated), match_view(cropped)) == ("original>rot90", "trimmed>original")


def test_rules_are_written_back_in_one_form_and_bad_ones_refused() -> None:
    assert AutoRemove.parse(" PDQ <= 4 , sha256,vpdq<=2").text() == "sha256,pdq<=4,vpdq<=2"
    assert AutoRemove.parse("none").text() == "none"
    assert not AutoRemove.parse("none").removes_at_once(Match("b", 1, 0, "md5"))
    assert AutoRemove.parse("vpdq<=5").removes_at_once(Match("b", 1, 5, "vpdq"))
    for bad in ("pdq<=300", "pdq<10", "crop", "md5,everything"):
        with pytest.raises(ValueError, match="is not a term"):
            AutoRemove.parse(bad)


def test_the_target_for_copies_found_after_the_decision_is_a_setting() -> None:
    assert copy_review_hours({}) == 48
    assert copy_review_hours({"STANCH_COPY_REVIEW_HOURS": "12"}) == 12
    with pytest.raises(ValueError, match="STANCH_COPY_REVIEW_HOURS"):
        copy_review_hours({"STANCH_COPY_REVIEW_HOURS": "soon"})


# -- the review list ---------------------------------------------------------------------------------


def _review_everything(db: Database) -> None:
    """The case bank created before the first removal, with every copy sent to review."""
    with db.write() as session:
        create_bank(session, "cases", auto_remove="none")


def _removals(db: Database) -> list[str]:
    with db.read() as session:
        rows = session.scalars(select(OutboxMessage).where(OutboxMessage.type == "remove_item"))
        return [json.loads(r.payload)["item_id"] for r in rows]


def _copies(db: Database) -> dict[str, RequestItem]:
    with db.read() as session:
        rows = session.scalars(select(RequestItem).where(RequestItem.origin == "copy"))
        return {Path(r.item_id).name: r for r in rows}


def _jpeg(seed: int, quality: int) -> bytes:
    out = io.BytesIO()
    Image.fromarray(catalog_picture(seed)).save(out, "JPEG", quality=quality)
    return out.getvalue()


def test_a_copy_outside_the_rule_waits_for_a_reviewer_with_its_preview(database: Database,
                                                                         tmp_path: Path) -> None:
    _review_everything(database)
    catalog = tmp_path / "catalog"
    write_catalog(catalog, range(6, 7))
    number = file_case(database, 6)
    remove_case(database, number)
    before = _removals(database)
    started = utcnow()
    swept = sweep(database, catalog)
    assert swept.summary.copies == 1 and swept.summary.removals == 0 and swept.summary.to_review == 1
    assert _removals(database) == before  # nothing removed yet
    copy = _copies(database)["item-6.jpg"]
    assert copy.review == "pending" and copy.signal == "pdq" and copy.view == "original"
    assert copy.entries is not None and json.loads(copy.entries)  # the case bank's entry it matched
    assert copy.due_at is not None and copy.due_at - started >= timedelta(hours=48)
    assert copy.spool_id is not None and copy.preview_frames is None  # a picture's reduced preview
    with database.read() as session:
        queued = copies_to_review(session, utcnow())
        folder = spool_folder(session)
    assert [(q["case"], Path(q["item_id"]).name) for q in queued] == [(number, "item-6.jpg")]
    assert (folder / copy.spool_id).is_file()

    with database.write() as session:
        decide_copy(session, find_request(session, number), copy.item_id, "remove", None,
                    actor="user:reviewer", now=utcnow())
    assert _removals(database) == [*before, copy.item_id]
    decided = _copies(database)["item-6.jpg"]
    assert decided.review == "removed" and decided.spool_id is None and decided.reviewed_by == "user:reviewer"
    assert not (folder / copy.spool_id).exists()
    with database.read() as session:
        assert copies_to_review(session, utcnow()) == []


def test_a_rejected_copy_never_comes_back_under_any_item_id(database: Database, tmp_path: Path) -> None:
    _review_everything(database)
    number = file_case(database, 5)
    remove_case(database, number)
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    (catalog / "a.jpg").write_bytes(_jpeg(5, 80))
    sweep(database, catalog)
    copy = _copies(database)["a.jpg"]
    with database.write() as session, pytest.raises(ValueError, match="reason is required"):
        decide_copy(session, find_request(session, number), copy.item_id, "reject", " ",
                    actor="user:reviewer", now=utcnow())
    with database.write() as session:
        decide_copy(session, find_request(session, number), copy.item_id, "reject", "a different picture",
                    actor="user:reviewer", now=utcnow())
    (catalog / "b.jpg").write_bytes((catalog / "a.jpg").read_bytes())  # the same file under another id
    again = sweep(database, catalog)
    assert again.matched == {"a.jpg", "b.jpg"}  # matching still says what it matched...
    assert again.summary.copies == 0  # ...but the desk does not put either back on the list
    assert set(_copies(database)) == {"a.jpg"} and _copies(database)["a.jpg"].review == "rejected"
    assert _removals(database).count(copy.item_id) == 0
    with database.write() as session, pytest.raises(WrongState, match="not on the review list"):
        decide_copy(session, find_request(session, number), copy.item_id, "remove", None,
                    actor="user:reviewer", now=utcnow())


def test_copies_found_during_review_keep_the_case_deadline_and_wait_past_the_case_decision(
        database: Database, tmp_path: Path) -> None:
    _review_everything(database)
    catalog = tmp_path / "catalog"
    write_catalog(catalog, range(4, 5))
    number = file_case(database, 4)
    swept = sweep(database, catalog, case=number)
    assert swept.summary.to_review == 1
    with database.read() as session:
        deadline = find_request(session, number).deadline
    copy = _copies(database)["item-4.jpg"]
    assert copy.review == "pending" and copy.due_at == deadline and copy.entries is None
    assert copy.spool_id is not None
    with database.write() as session:
        decide(session, find_request(session, number), "remove", None, actor="user:reviewer", now=utcnow())
    assert copy.item_id not in _removals(database)  # the case's removal leaves the copy to its reviewer
    waiting = _copies(database)["item-4.jpg"]
    assert waiting.review == "pending" and waiting.spool_id == copy.spool_id  # its preview is kept
    with database.write() as session:
        decide_copy(session, find_request(session, number), copy.item_id, "remove", None,
                    actor="user:reviewer", now=utcnow())
    assert copy.item_id in _removals(database)


def test_the_default_rule_still_removes_a_near_identical_copy_at_once(database: Database,
                                                                     tmp_path: Path) -> None:
    catalog = tmp_path / "catalog"
    write_catalog(catalog, range(3, 4))
    number = file_case(database, 3)
    remove_case(database, number)
    swept = sweep(database, catalog)
    assert swept.summary.removals == 1 and swept.summary.to_review == 0
    copy = _copies(database)["item-3.jpg"]
    assert copy.review is None and copy.spool_id is None  # nothing spooled for a copy removed at once


def test_only_copies_on_the_list_can_be_decided(database: Database) -> None:
    number = file_case(database, 2)
    with database.write() as session, pytest.raises(UnknownRequest):
        decide_copy(session, find_request(session, number), "nothing", "remove", None, actor="user:r",
                    now=utcnow())
    with database.write() as session, pytest.raises(ValueError, match="one of remove, reject"):
        decide_copy(session, find_request(session, number), "x", "need_info", "why", actor="user:r",
                    now=utcnow())


# -- video keyframes -------------------------------------------------------------------------------


def generated_video(frames: int = 40, size: tuple[int, int] = (160, 120)) -> bytes:
    """An MP4 whose frames get brighter: each keyframe can be told apart by its mean."""
    import av

    out = io.BytesIO()
    with av.open(out, "w", format="mp4") as container:
        stream = container.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        for i in range(frames):
            level = 20 + i * 200 // frames
            rgb = np.full((size[1], size[0], 3), level, np.uint8)
            rgb[:, : size[0] // 2, 0] = 255 - level
            for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out.getvalue()


def test_a_video_preview_is_six_evenly_spaced_reduced_keyframes() -> None:
    source = preview_source(generated_video(size=(1600, 1200)))
    assert source is not None and keyframe_count(source) == 6
    means = []
    for index in range(6):
        with Image.open(io.BytesIO(keyframe(source, index))) as frame:
            assert frame.format == "JPEG" and max(frame.size) <= 960
            means.append(float(np.asarray(frame.convert("L")).mean()))
    assert means == sorted(means) and means[-1] - means[0] > 60  # spread over the whole video
    with pytest.raises(IndexError):
        keyframe(source, 6)
    assert keyframe_count(preview_source(_jpeg(1, 90)) or b"") is None


# -- exchange feedback -------------------------------------------------------------------------------


def test_a_decided_copy_tells_the_exchange_source_of_the_entry_it_matched(database: Database) -> None:
    from threatexchange.exchanges.clients.stopncii.api import StopNCIICSPFeedbackValue

    from stanch.desk.locate import LocatedItem, attach_item
    from stanch.exchange.live.feedback import LIST_PREFIX
    from stanch.exchange.live.sources import add_source
    from stanch.store import Provenance, add_entry, entry_from_hashes
    from tests.sweep.conftest import banked_record

    record = banked_record(7)
    with database.write() as session:
        bank = create_bank(session, "ncii", auto_remove="none")
        add_source(session, "partner", type="stopncii", bank="ncii", credentials_env="K", feedback=True)
        named = Provenance(external_list=f"{LIST_PREFIX}partner", external_id=f"ImagePDQ:{record['pdq']}")
        exchanged = add_entry(session, bank, entry_from_hashes(pdq=record["pdq"], quality=record["quality"],
                                                               provenance=named))
    number = file_case(database, 7)
    remove_case(database, number)
    with database.write() as session:
        request = find_request(session, number)
        for item_id in ("post/1", "post/2"):
            row = attach_item(session, request, LocatedItem(item_id, {"pdq": record["pdq"], "quality": 100,
                                                                      "md5": f"{len(item_id):032x}"}),
                              origin="copy", actor="system", now=utcnow(), entries=[exchanged])
            assert row.review == "pending" and json.loads(row.entries or "[]") == [exchanged]
    before = _feedback(database)  # the case's own removal confirmed the identical exchanged hash
    with database.write() as session:
        decide_copy(session, find_request(session, number), "post/1", "reject", "not the same picture",
                    actor="user:reviewer", now=utcnow())
    rejected = _feedback(database)[len(before):]
    assert rejected == [("partner", record["pdq"], StopNCIICSPFeedbackValue.NotBlocked.value)]


def _feedback(db: Database) -> list[tuple[str, str, str]]:
    from stanch.exchange.live.feedback import FEEDBACK_TYPE

    with db.read() as session:
        rows = session.scalars(select(OutboxMessage).where(OutboxMessage.type == FEEDBACK_TYPE)
                               .order_by(OutboxMessage.id))
        payloads = [json.loads(r.payload) for r in rows]
    return [(p["source"], p["hashValue"], p["feedbackValue"]) for p in payloads]


def test_under_the_default_rule_a_rotated_copy_waits_and_a_plain_one_does_not(database: Database,
                                                                             tmp_path: Path) -> None:
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    (catalog / "plain.jpg").write_bytes(_jpeg(8, 85))
    turned = io.BytesIO()
    Image.fromarray(np.rot90(catalog_picture(8))).save(turned, "JPEG", quality=85)
    (catalog / "turned.jpg").write_bytes(turned.getvalue())
    from stanch.desk.intake import file_request, validate
    from stanch.signals import hash_media, signals_record
    from tests.api.conftest import encoded
    from tests.desk.factory import request_body

    record = signals_record(hash_media(encoded(catalog_picture(8)), purpose="bank"))  # every view
    with database.write() as session:
        receipt, _ = file_request(session, validate(request_body(hashes=[record])), now=utcnow())
    swept = sweep(database, catalog, case=receipt.id)
    assert swept.matched == {"plain.jpg", "turned.jpg"}
    copies = _copies(database)
    assert copies["plain.jpg"].review is None and copies["plain.jpg"].view == "original"
    assert copies["turned.jpg"].review == "pending"
    assert copies["turned.jpg"].view not in (None, "original")  # a rotated view matched, and says so
