"""The JSON records of ``stanch hash``: written by signals_record, read back by signals_from_record."""

from __future__ import annotations

import json
from typing import Any

import pytest

from stanch.signals import (
    FrameHash,
    ImageSignals,
    PdqVariant,
    VideoSignals,
    hash_media,
    signals_from_record,
    signals_record,
)
from tests.signals.media_factory import encoded, picture, video

PDQ = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
IMAGE = ImageSignals(md5="0" * 32, sha256="1" * 64, pdq=PDQ, quality=100, pdq_dihedral=(PDQ,) * 8,
                     variants=(PdqVariant("trimmed", PDQ, 90),))
VIDEO = VideoSignals(md5="2" * 32, sha256="3" * 64,
                     frames=(FrameHash(PDQ, 100, 0.0), FrameHash(PDQ, 70, 1.0)), duration=1.5)


def test_image_record_has_the_contract_fields() -> None:
    record = signals_record(IMAGE)
    assert record == {"kind": "image", "md5": "0" * 32, "sha256": "1" * 64, "pdq": PDQ, "quality": 100,
                      "pdq_dihedral": [PDQ] * 8,
                      "pdq_variants": [{"name": "trimmed", "pdq": PDQ, "quality": 90}]}


def test_video_record_has_the_contract_fields() -> None:
    assert signals_record(VIDEO) == {
        "kind": "video", "md5": "2" * 32, "sha256": "3" * 64, "duration": 1.5,
        "vpdq": [{"pdq": PDQ, "quality": 100, "ts": 0.0}, {"pdq": PDQ, "quality": 70, "ts": 1.0}]}


VIEWED = VideoSignals(md5="2" * 32, sha256="3" * 64, duration=1.0, frames=(
    FrameHash(PDQ, 100, 0.0, (PdqVariant("centre", PDQ, 90), PdqVariant("mirror", PDQ, 80))),
    FrameHash(PDQ, 70, 1.0)))


def test_frames_carry_their_views_and_view_less_frames_keep_the_plain_form() -> None:
    assert signals_record(VIEWED)["vpdq"] == [
        {"pdq": PDQ, "quality": 100, "ts": 0.0, "views": [{"name": "centre", "pdq": PDQ, "quality": 90},
                                                          {"name": "mirror", "pdq": PDQ, "quality": 80}]},
        {"pdq": PDQ, "quality": 70, "ts": 1.0}]


@pytest.mark.parametrize("signals", [IMAGE, VIDEO, VIEWED])
def test_round_trip_through_json(signals: Any) -> None:
    record = json.loads(json.dumps({"path": "a/b.jpg", **signals_record(signals)}))
    assert signals_from_record(record) == signals


@pytest.mark.parametrize("purpose", ["query", "bank"])
def test_round_trip_of_real_hashes(purpose: Any) -> None:
    for data in (encoded(picture(), "JPEG"), video(seconds=1, fps=4)):
        signals = hash_media(data, purpose=purpose)
        assert signals_from_record(json.loads(json.dumps(signals_record(signals)))) == signals


def test_a_bank_record_holds_the_bank_only_views_in_the_same_shape_as_a_query_record() -> None:
    data = encoded(picture(), "JPEG")
    query, bank = signals_record(hash_media(data)), signals_record(hash_media(data, purpose="bank"))
    assert set(query) == set(bank)
    names = {v["name"] for v in bank["pdq_variants"]}
    assert "mirrored" in names and not {v["name"] for v in query["pdq_variants"]} & {"mirrored", "flipped"}


def test_upper_case_hex_is_normalised_and_variants_are_optional() -> None:
    record = signals_record(IMAGE)
    record["pdq"] = PDQ.upper()
    del record["pdq_variants"]
    signals = signals_from_record(record)
    assert isinstance(signals, ImageSignals)
    assert signals.pdq == PDQ
    assert signals.variants == ()


def _broken(change: dict[str, Any], base: Any = IMAGE) -> dict[str, Any]:
    return {**signals_record(base), **change}


@pytest.mark.parametrize(("record", "message"), [
    ([], "JSON object"),
    ({"kind": "audio"}, '"kind" must be "image" or "video"'),
    (_broken({"pdq": "abc"}), '"pdq": a PDQ hash has 64 hex digits; this one has 3'),
    (_broken({"pdq": "z" * 64}), '"pdq": a PDQ hash may contain only'),
    (_broken({"quality": 101}), '"quality" must be a whole number from 0 to 100'),
    (_broken({"quality": True}), '"quality" must be a whole number'),
    (_broken({"md5": "xyz"}), '"md5" must be 32 hex digits'),
    (_broken({"sha256": None}), '"sha256" must be 64 hex digits'),
    (_broken({"pdq_dihedral": [PDQ] * 7}), '"pdq_dihedral" must list 8 hashes, got 7'),
    (_broken({"pdq_dihedral": [PDQ] * 7 + ["00"]}), r'"pdq_dihedral\[7\]"'),
    (_broken({"pdq_variants": [{"name": "", "pdq": PDQ, "quality": 1}]}), r'"pdq_variants\[0\].name"'),
    (_broken({"vpdq": []}, VIDEO), '"vpdq" must hold at least one frame hash'),
    (_broken({"vpdq": [{"pdq": PDQ, "quality": 50, "ts": -1}]}, VIDEO), r'"vpdq\[0\].ts" must be a number'),
    (_broken({"duration": "long"}, VIDEO), '"duration" must be a number of seconds'),
    (_broken({"vpdq": [{"pdq": PDQ, "quality": 50, "ts": 0, "views": {}}]}, VIDEO),
     r'"vpdq\[0\].views" must be a list'),
    (_broken({"vpdq": [{"pdq": PDQ, "quality": 50, "ts": 0,
                        "views": [{"name": "mirror", "pdq": "ab", "quality": 50}]}]}, VIDEO),
     r'"vpdq\[0\].views\[0\].pdq"'),
    ({k: v for k, v in signals_record(VIDEO).items() if k != "vpdq"}, '"vpdq" is missing'),
])
def test_malformed_records_name_the_field(record: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        signals_from_record(record)
