"""A video upload matched against a banked video, with the matched segment (generated with PyAV)."""

from __future__ import annotations

import io

import av
import numpy as np

from stanch.signals import hash_media, signals_record
from tests.api.conftest import Api, picture

FPS = 10


def video(seed: int, seconds: float, start: float = 0.0, bit_rate: int = 400_000) -> bytes:
    """An MP4 panning across a generated picture: every second shows a different part of it.

    Encoded with ffmpeg's own MPEG-4 encoder, which every PyAV build has."""
    scene = picture(seed, (960, 240))
    out = io.BytesIO()
    with av.open(out, "w", format="mp4") as container:
        stream = container.add_stream("mpeg4", rate=FPS)
        stream.bit_rate = bit_rate
        stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
        for index in range(int(seconds * FPS)):
            left = int((start * FPS + index) * 8)
            frame = np.ascontiguousarray(scene[60:180, left : left + 160])
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(stream.encode())
    return out.getvalue()


def test_trimmed_reencoded_video_upload_matches_its_banked_original(api: Api) -> None:
    api.create_bank("ncii")
    original = video(21, 8.0)
    record = signals_record(hash_media(original))
    response = api.post("/v1/banks/ncii/entries", "bank", json={"signals": record, "source": "clip.mp4"})
    assert response.status_code == 201, response.text
    entry = response.json()["id"]

    copy = video(21, 5.0, start=2.0, bit_rate=60_000)
    answer = api.post("/v1/match", "match", files={"file": ("copy.mp4", copy, "video/mp4")})
    assert answer.status_code == 200, answer.text
    verdict = answer.json()
    assert (verdict["kind"], verdict["matched"], verdict["action"]) == ("video", True, "block")
    [found] = verdict["matches"]
    assert (found["entry"], found["signal"]) == (entry, "vpdq")
    start, end = found["segment"]["bank_segment"]
    assert 1.5 <= start <= 2.5 and 5.5 <= end <= 7.5

    other = api.post("/v1/match", "match", files={"file": ("other.mp4", video(22, 5.0), "video/mp4")})
    assert other.json()["matched"] is False


def test_identical_video_file_matches_by_digest_too(api: Api) -> None:
    api.create_bank("ncii")
    data = video(23, 3.0)
    api.post("/v1/banks/ncii/entries", "bank", json={"signals": signals_record(hash_media(data))})
    verdict = api.post("/v1/match", "match", files={"file": ("same.mp4", data, "video/mp4")}).json()
    [found] = verdict["matches"]
    assert (found["signal"], found["also"]) == ("sha256", ["md5", "vpdq"])


def test_video_signals_match_in_a_batch_beside_pictures(api: Api) -> None:
    api.create_bank("ncii")
    original = video(24, 6.0)
    api.post("/v1/banks/ncii/entries", "bank", json={"signals": signals_record(hash_media(original))})
    query = signals_record(hash_media(video(24, 4.0, start=1.0, bit_rate=80_000), seconds_per_hash=1.0))
    items = [{"signals": query}, {"pdq": "0" * 64}]
    results = api.post("/v1/match/batch", "match", json={"items": items}).json()["results"]
    assert [r["matched"] for r in results] == [True, False]
    assert results[0]["matches"][0]["signal"] == "vpdq"
