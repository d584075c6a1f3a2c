"""The desk decides whether an item is a copy of a case with the matching rule itself (the case engine),
so the desk, the banks' engine and a sweep cannot disagree: same views, same quality rule, video rule."""

from __future__ import annotations

import io
import random
from typing import Any

import numpy as np
import pytest
from PIL import Image

from stanch.clock import utcnow
from stanch.desk.case_engine import case_engine, copy_match
from stanch.desk.cases import find_request
from stanch.desk.intake import file_request, validate
from stanch.desk.locate import LocatedItem, attach_item
from stanch.matching.engine import MatchEngine
from stanch.matching.sync import BankFollower
from stanch.signals import FrameHash, VideoSignals, hash_media, signals_from_record, signals_record
from stanch.store import Database, add_entry, create_bank, entry_from_signals
from stanch.store.desk_models import TakedownRequest
from tests.api.conftest import encoded, picture
from tests.desk.factory import picture_record, request_body


def _case(database: Database, hashes: list[dict[str, Any]]) -> str:
    with database.write() as session:
        receipt, _ = file_request(session, validate(request_body(hashes=hashes)), now=utcnow())
    return receipt.id


def _attach(database: Database, number: str, item_id: str, record: dict[str, Any]) -> tuple[Any, Any]:
    with database.write() as session:
        row = attach_item(session, find_request(session, number), LocatedItem(item_id, record), origin="copy",
                          actor="system", now=utcnow())
        return row.signal, row.distance


def _flipped_jpeg(seed: int) -> bytes:
    pixels = np.asarray(Image.open(io.BytesIO(encoded(picture(seed)))).convert("RGB"))
    out = io.BytesIO()
    Image.fromarray(pixels[:, ::-1]).save(out, "JPEG", quality=80)
    return out.getvalue()


def test_a_copy_is_stored_with_what_the_banks_engine_says(database: Database) -> None:
    banked = signals_record(hash_media(encoded(picture(3)), purpose="bank"))
    number = _case(database, [banked])
    copy = signals_record(hash_media(_flipped_jpeg(3)))
    with database.write() as session:  # the same hashes in a bank, loaded as `stanch serve` loads banks
        add_entry(session, create_bank(session, "ncii"), entry_from_signals(signals_from_record(banked)))
    engine = MatchEngine()
    BankFollower(database, engine).load()
    expected = engine.match_record(copy).matches[0]
    assert _attach(database, number, "post/flipped", copy) == (expected.signal, expected.distance)


def test_a_flat_hash_is_no_copy_for_the_desk_as_for_the_banks(database: Database) -> None:
    """A PDQ of quality below 50 matches too much to count alone (how_matched used to accept it)."""
    number = _case(database, [{"pdq": "f" * 64, "quality": 100}])
    with pytest.raises(ValueError, match="does not match"):
        _attach(database, number, "post/flat", {"pdq": "f" * 64, "quality": 10})
    assert _attach(database, number, "post/same", {"pdq": "f" * 64, "quality": 90}) == ("pdq", 0)


def _video(seed: int, seconds: int = 30) -> VideoSignals:
    rng = random.Random(seed)
    frames = tuple(FrameHash(f"{rng.getrandbits(256):064x}", 90, float(t)) for t in range(seconds))
    return VideoSignals(f"{seed:032x}", f"{seed:064x}", frames, float(seconds))


def test_a_video_copy_is_judged_by_the_video_rule(database: Database) -> None:
    banked = _video(1)
    number = _case(database, [signals_record(banked)])
    copy = VideoSignals("0" * 31 + "9", "0" * 63 + "9", banked.frames[5:25], 20.0)  # a trimmed re-encode
    assert _attach(database, number, "post/clip", signals_record(copy)) == ("vpdq", 0)
    with pytest.raises(ValueError, match="does not match"):
        _attach(database, number, "post/other", signals_record(_video(2)))


def test_the_case_engine_holds_every_hash_of_the_case(database: Database) -> None:
    first, second = picture_record(1), picture_record(2)
    number = _case(database, [first, second])
    with database.read() as session:
        request = session.query(TakedownRequest).one()
        assert request.public_id == number
        engine = case_engine(session, request)
    assert [copy_match(engine, r).entry for r in (first, second)] == [1, 2]  # type: ignore[union-attr]
    assert copy_match(engine, picture_record(5)) is None
