"""The video matching rule on synthetic frame hashes whose distances are controlled exactly.

A synthetic video shows one random "shot" hash per second, with a few bits of noise per frame; an
edited copy flips up to 10 more bits (well inside 31), an unrelated video draws new random hashes
(about 128 bits away).
"""

from __future__ import annotations

import random

import pytest

from stanch.matching.video import VideoVerdict, frame_matches_by_scan, match_video
from stanch.signals.types import FrameHash

FPS = 30


def random_hash(rng: random.Random) -> int:
    return rng.getrandbits(256)


def flip(value: int, bits: int, rng: random.Random) -> int:
    for position in rng.sample(range(256), bits):
        value ^= 1 << position
    return value


def hex_of(value: int) -> str:
    return value.to_bytes(32, "big").hex()


def banked_video(seconds: int, seed: int = 1) -> tuple[list[int], list[FrameHash]]:
    """Per-second shot hashes and every frame (30 a second) of a synthetic video."""
    rng = random.Random(seed)
    shots = [random_hash(rng) for _ in range(seconds)]
    frames = [
        FrameHash(hex_of(flip(shots[i // FPS], 3, rng)), 90, i / FPS) for i in range(seconds * FPS)
    ]
    return shots, frames


def copy_frames(shots: list[int], times: list[float], seed: int = 2, noise: int = 10) -> list[FrameHash]:
    """Query frames at ``times`` (seconds of the query) showing the banked moment ``source(t)``."""
    rng = random.Random(seed)
    return [FrameHash(hex_of(flip(shots[int(source)], noise, rng)), 90, query_ts)
            for query_ts, source in times]  # type: ignore[misc]


def verdict(query: list[FrameHash], bank: list[FrameHash], **options: float) -> VideoVerdict:
    matches = frame_matches_by_scan([(f.pdq,) for f in query], [(f.pdq,) for f in bank])
    return match_video(query, bank, matches, **options)  # type: ignore[arg-type]


def test_a_copy_matches_whole():
    shots, bank = banked_video(20)
    query = copy_frames(shots, [(t, t) for t in range(20)])
    result = verdict(query, bank)
    assert result.matched
    assert result.frames == result.usable == 20
    assert result.share == 1.0
    assert result.query_segment == (0, 19)
    assert result.bank_segment is not None
    assert result.bank_segment[0] < 1 and 19 <= result.bank_segment[1] < 20
    assert result.distance is not None and result.distance <= 13


def test_a_trimmed_copy_reports_where_it_sits_in_the_banked_video():
    shots, bank = banked_video(30)
    query = copy_frames(shots, [(t, t + 7.3) for t in range(12)])  # seconds 7.3 to 18.3 of the original
    result = verdict(query, bank)
    assert result.matched
    assert result.query_segment == (0, 11)
    assert result.bank_segment is not None
    assert 7 <= result.bank_segment[0] < 8 and 18 <= result.bank_segment[1] < 19
    assert result.speed == pytest.approx(1.0, abs=0.1)


@pytest.mark.parametrize("speed", [0.5, 0.75, 1.5, 2.0])
def test_speed_changes_match_and_the_speed_is_measured(speed):
    shots, bank = banked_video(40)
    length = int(39 / speed)
    query = copy_frames(shots, [(t, t * speed) for t in range(length)])
    result = verdict(query, bank)
    assert result.matched, result.reason
    assert result.speed == pytest.approx(speed, rel=0.1)


def test_a_copy_four_times_as_fast_is_no_run():
    shots, bank = banked_video(80)
    query = copy_frames(shots, [(t, t * 4) for t in range(20)])
    result = verdict(query, bank)
    assert not result.matched
    assert result.frames == 1


def test_an_unrelated_video_does_not_match():
    _, bank = banked_video(30, seed=1)
    other_shots, _ = banked_video(30, seed=99)
    query = copy_frames(other_shots, [(t, t) for t in range(30)])
    result = verdict(query, bank)
    assert not result.matched
    assert result.frames == 0
    assert "no frame within 31 bits" in result.reason


def test_frames_matching_out_of_order_are_chance_not_a_copy():
    """Every query frame has a close banked frame (vPDQ's bag-of-frames rule would say 100 %), but in an
    order no playback of the banked video produces."""
    shots, bank = banked_video(100)
    order = [50, 10, 70, 30, 90, 20, 60, 0, 80, 40]
    query = copy_frames(shots, [(t, second) for t, second in enumerate(order)])
    matches = frame_matches_by_scan([(f.pdq,) for f in query], [(f.pdq,) for f in bank])
    assert {q for q, _, _ in matches} == set(range(10))
    result = match_video(query, bank, matches)
    assert not result.matched
    assert result.frames <= 3


def test_a_banked_clip_inside_a_longer_upload_matches_by_its_run():
    shots, bank = banked_video(40)
    rng = random.Random(5)
    before = [FrameHash(hex_of(random_hash(rng)), 90, t) for t in range(10)]
    clip = copy_frames(shots, [(10 + t, 20 + t) for t in range(9)])
    after = [FrameHash(hex_of(random_hash(rng)), 90, 19 + t) for t in range(15)]
    result = verdict(before + clip + after, bank)
    assert result.share < 0.5
    assert result.matched, result.reason
    assert result.query_segment == (10, 18)
    assert "run" in result.reason


def test_a_short_run_in_a_long_upload_is_not_enough():
    shots, bank = banked_video(40)
    rng = random.Random(6)
    before = [FrameHash(hex_of(random_hash(rng)), 90, t) for t in range(30)]
    clip = copy_frames(shots, [(30 + t, 5 + t) for t in range(3)])
    result = verdict(before + clip, bank)
    assert result.frames == 3
    assert not result.matched


def test_a_long_but_sparse_run_in_a_long_upload_is_not_enough():
    """Ten seconds in order, but only every third frame close: under half of its own stretch."""
    shots, bank = banked_video(40)
    rng = random.Random(7)
    clip = copy_frames(shots, [(t, 10 + t) for t in range(12)])
    sparse = [f if t % 3 == 0 else FrameHash(hex_of(random_hash(rng)), 90, f.ts) for t, f in enumerate(clip)]
    after = [FrameHash(hex_of(random_hash(rng)), 90, 12 + t) for t in range(20)]
    result = verdict(sparse + after, bank)
    assert result.frames == 4 and result.seconds == 9
    assert not result.matched


def test_a_damaged_copy_matches_when_most_of_its_frames_still_do():
    shots, bank = banked_video(20)
    good = copy_frames(shots, [(t, t) for t in range(20)])
    rng = random.Random(8)
    damaged = [f if t % 3 else FrameHash(hex_of(flip(int(f.pdq, 16), 60, rng)), 90, f.ts)
               for t, f in enumerate(good)]
    result = verdict(damaged, bank)
    assert result.matched
    assert result.frames == 13
    assert result.query_segment == (1, 19)


def test_low_quality_query_frames_are_ignored():
    shots, bank = banked_video(10)
    query = [FrameHash(f.pdq, 20, f.ts) for f in copy_frames(shots, [(t, t) for t in range(10)])]
    result = verdict(query, bank)
    assert not result.matched
    assert "quality" in result.reason


def test_low_quality_banked_frames_never_match():
    shots, bank = banked_video(10)
    flat = [FrameHash(f.pdq, 10, f.ts) for f in bank]
    query = copy_frames(shots, [(t, t) for t in range(10)])
    assert not verdict(query, flat).matched
    assert verdict(query, bank).matched


def test_low_quality_query_frames_do_not_count_against_the_share():
    shots, bank = banked_video(10)
    query = copy_frames(shots, [(t, t) for t in range(10)])
    black = [FrameHash(hex_of(0), 0, 10 + t) for t in range(20)]
    result = verdict(query + black, bank)
    assert result.usable == 10
    assert result.share == 1.0
    assert result.matched


def test_one_matching_frame_is_not_a_video_match():
    shots, bank = banked_video(10)
    query = copy_frames(shots, [(0, 4)])
    result = verdict(query, bank)
    assert result.frames == 1
    assert not result.matched
    assert "at least 2" in result.reason


def test_matches_beyond_the_distance_are_ignored():
    shots, bank = banked_video(10)
    query = copy_frames(shots, [(t, t) for t in range(10)], noise=20)
    matches = frame_matches_by_scan([(f.pdq,) for f in query], [(f.pdq,) for f in bank], 64)
    assert match_video(query, bank, matches, max_distance=31).matched
    assert not match_video(query, bank, matches, max_distance=5).matched


def test_a_frame_match_outside_the_frames_is_an_error():
    shots, bank = banked_video(2)
    query = copy_frames(shots, [(0, 0)])
    with pytest.raises(ValueError, match="outside"):
        match_video(query, bank, [(0, len(bank), 3)])


def test_the_scan_takes_the_best_distance_over_every_view_of_a_frame():
    rng = random.Random(11)
    plain, mirrored = random_hash(rng), random_hash(rng)
    query = [(hex_of(flip(plain, 40, rng)), hex_of(flip(mirrored, 4, rng)))]
    bank = [(hex_of(random_hash(rng)),), (hex_of(mirrored),)]
    assert frame_matches_by_scan(query, bank) == [(0, 1, 4)]
    assert frame_matches_by_scan([], bank) == []


def test_the_verdict_serialises_its_segments():
    shots, bank = banked_video(10)
    result = verdict(copy_frames(shots, [(t, t) for t in range(10)]), bank).to_dict()
    assert result["query_segment"] == [0, 9]
    assert result["frames"] == 10
    assert isinstance(result["reason"], str)
