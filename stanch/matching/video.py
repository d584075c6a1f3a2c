"""The video matching rule: does a query video show (part of) a banked video, and where?

Meta's vPDQ rule treats a video as a bag of frame hashes: a match when 80 % of the query's frames
have a banked frame within 31 bits. It ignores time, so it misses a copy whose frames are damaged
here and there (a low-bitrate re-encode, a caption, a crop) and it cannot say *which* part matched.

Stanch's rule looks for a **run**: query frames whose matching banked frames follow in the same order
at a plausible speed (between half and double speed, so sped-up or slowed copies still qualify).
Chance frame matches between unrelated videos do not line up in time, so a run is strong evidence
even when only part of the query's frames match. The query matches when the longest run holds
enough of the query's frames (``min_share``), or lasts long enough (``min_seconds``) while holding
at least ``min_share`` of the query's frames in its own stretch: a banked clip inside a longer
upload, or covers at least ``min_share`` of the banked video's own length with as dense a stretch:
a short banked video inside a compilation. The verdict names the run: its stretch of the query and
of the banked video, its speed and its median distance.

Inputs are frame hashes (``FrameHash``: PDQ hex, quality, seconds) and the frame matches the index
found: ``(query frame, banked frame, distance)`` by position in the two frame lists, through any of
the hashes each side holds for a frame (plain PDQ, mirror, border-trimmed, ...). Frames of quality
below 50 are ignored on both sides: flat and black frames would otherwise match every other video.
What each side should hash is measured in benchmarks/video_matching.py and described in README.md.

Everything here is a pure function of its arguments.
"""

from __future__ import annotations

import bisect
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from stanch.index.distance import HASH_BYTES, hash_words
from stanch.signals.pdq import MATCH_DISTANCE, MIN_QUALITY, parse_pdq_hex
from stanch.signals.types import FrameHash

FrameMatch = tuple[int, int, int]
"""``(query frame index, banked frame index, Hamming distance)`` between two of their hashes."""

MIN_SHARE = 0.5
"""Share of the query's usable frames the run must hold (or of its own stretch, for a long clip)."""
MIN_SECONDS = 5.0
"""A run at least this long matches even when the query has much unrelated footage around it."""
MIN_FRAMES = 2
"""A single frame is a picture, not a video match: it could be a chance collision or a shared still."""
MIN_SPEED, MAX_SPEED = 0.5, 2.0
"""Banked seconds per query second that a run may take between two of its frames. A static shot
matches over a stretch of banked time, and any time within it counts, so the bounds widen there."""
SLACK_SECONDS = 0.5
"""Timing slack between consecutive run frames (sampling jitter, dropped frames, static scenes)."""
MAX_GAP_SECONDS = 10.0
"""Query frames further apart than this cannot be neighbours in a run: far-apart chance matches stay apart."""
SCENE_GAP_SECONDS = 0.5
"""Matched banked frames of one query frame closer than this in time are one stretch (one static shot)."""
MIN_COVER_FRAMES = 3
"""A run that covers most of a short banked video inside a longer query (a compilation) needs this
many frames: two in order are too easily a chance pair of stills."""


@dataclass(frozen=True)
class VideoVerdict:
    """Whether a query video matches one banked video, and the run of frames that says so.

    ``frames`` is the number of query frames in the run, ``usable`` the query's frames of quality
    >= 50, ``share`` their ratio; ``seconds`` is the run's length in the query. Segments are
    ``(start, end)`` in seconds of each video; ``speed`` is banked seconds per query second along the
    run (1.5: the query plays the banked video 1.5 times as fast; 0.75: slowed down); ``distance``
    is the median Hamming distance of the run's frame matches. ``reason`` says in words why.
    """

    matched: bool
    reason: str
    frames: int = 0
    usable: int = 0
    share: float = 0.0
    seconds: float = 0.0
    query_segment: tuple[float, float] | None = None
    bank_segment: tuple[float, float] | None = None
    speed: float | None = None
    distance: int | None = None

    def to_dict(self) -> dict[str, object]:
        """The JSON form of the matched segment, as the API and ``stanch match`` report it."""
        return {
            "frames": self.frames,
            "usable_frames": self.usable,
            "share": round(self.share, 3),
            "seconds": round(self.seconds, 3),
            "query_segment": list(self.query_segment) if self.query_segment else None,
            "bank_segment": list(self.bank_segment) if self.bank_segment else None,
            "speed": None if self.speed is None else round(self.speed, 3),
            "distance": self.distance,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class _Stretch:
    """The banked frames one query frame matched within one shot: times ``low``..``high``, best ``at``."""

    query: int
    ts: float
    low: float
    high: float
    at: float
    distance: int


def match_video(
    query: Sequence[FrameHash],
    bank_frames: Sequence[FrameHash],
    frame_matches: Iterable[FrameMatch],
    *,
    max_distance: int = MATCH_DISTANCE,
    min_share: float = MIN_SHARE,
    min_seconds: float = MIN_SECONDS,
    min_frames: int = MIN_FRAMES,
) -> VideoVerdict:
    """The verdict for ``query`` against one banked video, from their frame matches (see module doc).

    ``query`` should be sampled at about one frame a second and ``bank_frames`` densely (every frame),
    so that every query frame has a banked frame shown at nearly the same moment, whatever the speed.
    Raises ValueError when a frame match points outside the frame lists.
    """
    usable = sum(1 for frame in query if frame.quality >= MIN_QUALITY)
    if usable == 0:
        return VideoVerdict(False, f"no query frame has quality >= {MIN_QUALITY} (all flat or black)")
    stretches = _stretches(query, bank_frames, frame_matches, max_distance)
    if not stretches:
        return VideoVerdict(False, f"no frame within {max_distance} bits", usable=usable)
    run = _longest_run(stretches)
    return _verdict(run, query, usable, _usable_span(bank_frames), min_share, min_seconds, min_frames,
                    max_distance)


def _usable_span(frames: Sequence[FrameHash]) -> float:
    """Seconds from the first to the last usable frame of a video (0 for one or none)."""
    times = [f.ts for f in frames if f.quality >= MIN_QUALITY]
    return max(times) - min(times) if times else 0.0


def frame_matches_by_scan(
    query_hashes: Sequence[Sequence[str]],
    bank_hashes: Sequence[Sequence[str]],
    max_distance: int = MATCH_DISTANCE,
) -> list[FrameMatch]:
    """Every ``(query frame, banked frame, best distance)`` within ``max_distance``, by brute force.

    Each side gives, per frame, the hex hashes it holds (the plain PDQ first, then any views such as
    the mirror or the border-trimmed picture); a frame pair's distance is the least over all pairs
    of their hashes. This is what an index returns, computed directly: for tests and benchmarks.
    """
    query_rows, query_owner = _packed(query_hashes)
    bank_rows, bank_owner = _packed(bank_hashes)
    if len(query_rows) == 0 or len(bank_rows) == 0:
        return []
    best: dict[tuple[int, int], int] = {}
    for start in range(0, len(query_rows), 64):
        block = query_rows[start : start + 64]
        distances = np.bitwise_count(block[:, None, :] ^ bank_rows[None, :, :]).sum(axis=2)
        for row, column in zip(*np.nonzero(distances <= max_distance), strict=True):
            key = (int(query_owner[start + row]), int(bank_owner[column]))
            distance = int(distances[row, column])
            if distance < best.get(key, max_distance + 1):
                best[key] = distance
    return [(q, b, d) for (q, b), d in sorted(best.items())]


def _packed(frames: Sequence[Sequence[str]]) -> tuple[np.ndarray, np.ndarray]:
    """All hashes as ``(n, 4)`` uint64 words, with the frame index each row belongs to."""
    data = b"".join(parse_pdq_hex(h) for hashes in frames for h in hashes)
    owners = [index for index, hashes in enumerate(frames) for _ in hashes]
    return hash_words(np.frombuffer(data, np.uint8).reshape(-1, HASH_BYTES)), np.asarray(owners, np.intp)


def _stretches(
    query: Sequence[FrameHash],
    bank_frames: Sequence[FrameHash],
    frame_matches: Iterable[FrameMatch],
    max_distance: int,
) -> list[_Stretch]:
    """Usable frame matches, grouped per query frame into stretches of consecutive banked time.

    A static shot makes one query frame match many neighbouring banked frames: they are one stretch,
    kept as a time interval, so the run search neither drowns in them nor has to pick one.
    """
    per_query: dict[int, list[tuple[float, int]]] = {}
    for q, b, distance in frame_matches:
        if not (0 <= q < len(query) and 0 <= b < len(bank_frames)):
            raise ValueError(f"frame match ({q}, {b}) is outside the {len(query)} query frames "
                             f"or the {len(bank_frames)} banked frames")
        if distance > max_distance or query[q].quality < MIN_QUALITY or bank_frames[b].quality < MIN_QUALITY:
            continue
        per_query.setdefault(q, []).append((bank_frames[b].ts, distance))
    stretches = []
    for q, hits in per_query.items():
        hits.sort()
        group = [hits[0]]
        for hit in hits[1:]:
            if hit[0] - group[-1][0] > SCENE_GAP_SECONDS:
                stretches.append(_stretch(query, q, group))
                group = []
            group.append(hit)
        stretches.append(_stretch(query, q, group))
    stretches.sort(key=lambda s: (s.ts, s.low))
    return stretches


def _stretch(query: Sequence[FrameHash], q: int, group: list[tuple[float, int]]) -> _Stretch:
    at, distance = min(group, key=lambda hit: hit[1])
    return _Stretch(q, query[q].ts, group[0][0], group[-1][0], at, distance)


def _follows(earlier: _Stretch, later: _Stretch) -> bool:
    """Whether ``later`` can come after ``earlier`` in one run: forward in both videos, plausible speed."""
    step = later.ts - earlier.ts
    if step <= 0 or step > MAX_GAP_SECONDS:
        return False
    shortest = later.low - earlier.high  # the least banked time that can have passed
    longest = later.high - earlier.low
    return shortest <= MAX_SPEED * step + SLACK_SECONDS and longest >= MIN_SPEED * step - SLACK_SECONDS


def _longest_run(stretches: list[_Stretch]) -> list[_Stretch]:
    """The longest chain of stretches that follow one another (ties: the smaller total distance).

    Dynamic programming over stretches in query-time order; each looks back only ``MAX_GAP_SECONDS``.
    """
    times = [s.ts for s in stretches]
    length = [1] * len(stretches)
    cost = [s.distance for s in stretches]
    previous = [-1] * len(stretches)
    for index, stretch in enumerate(stretches):
        first = bisect.bisect_left(times, stretch.ts - MAX_GAP_SECONDS)
        for before in range(first, index):
            if not _follows(stretches[before], stretch):
                continue
            candidate = (length[before] + 1, -(cost[before] + stretch.distance))
            if candidate > (length[index], -cost[index]):
                length[index], cost[index], previous[index] = candidate[0], -candidate[1], before
    end = max(range(len(stretches)), key=lambda i: (length[i], -cost[i]))
    run = []
    while end >= 0:
        run.append(stretches[end])
        end = previous[end]
    return run[::-1]


def _verdict(
    run: list[_Stretch],
    query: Sequence[FrameHash],
    usable: int,
    bank_span: float,
    min_share: float,
    min_seconds: float,
    min_frames: int,
    max_distance: int,
) -> VideoVerdict:
    """Apply the thresholds to the longest run and describe it."""
    start, end = run[0].ts, run[-1].ts
    seconds = end - start
    frames = len(run)
    share = frames / usable
    in_stretch = sum(1 for f in query if start <= f.ts <= end and f.quality >= MIN_QUALITY)
    density = frames / in_stretch
    covered = (run[-1].high - run[0].low) / bank_span if bank_span > 0 else 0.0
    described = (f"{frames} of {usable} usable query frames ({share:.0%}) match in order "
                 f"over {seconds:.1f} s within {max_distance} bits")
    if frames < min_frames:
        matched, why = False, f"only {frames} frame(s) in order; at least {min_frames} needed"
    elif share >= min_share:
        matched, why = True, f"at least {min_share:.0%} of the query"
    elif seconds >= min_seconds and density >= min_share:
        matched, why = True, f"a run of at least {min_seconds:g} s ({density:.0%} of its frames match)"
    elif frames >= MIN_COVER_FRAMES and covered >= min_share and density >= min_share:
        matched, why = True, (f"a run over {min(1.0, covered):.0%} of the banked video "
                              f"({density:.0%} of its frames match)")
    else:
        matched, why = False, (f"under {min_share:.0%} of the query and no dense run of "
                               f"{min_seconds:g} s")
    return VideoVerdict(
        matched=matched,
        reason=f"{described}: {why}",
        frames=frames,
        usable=usable,
        share=share,
        seconds=seconds,
        query_segment=(start, end),
        bank_segment=(run[0].at, run[-1].at),
        speed=_speed(run),
        distance=int(statistics.median_low(s.distance for s in run)),
    )


def _speed(run: list[_Stretch]) -> float | None:
    """Banked seconds per query second along the run (least squares), or None for a single frame."""
    if len(run) < 2:
        return None
    slope = np.polyfit([s.ts for s in run], [s.at for s in run], 1)[0]
    return float(slope)
