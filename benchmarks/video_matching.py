"""Video matching on edited copies of Meta's sample videos: Stanch's run rule against Meta's vPDQ rule.

Every sample video is banked; every edit of benchmarks/video_edits.py is a query. An edit is *found*
when it matches the sample it was made from; a *false match* is a match with a banked video of
another content (chair, pattern, doorknob, and the synthetic test card are four contents; the -sd-,
-hd-, logo, grey and sepia variants of one content are the same content, so those pairs are neither
found nor false). Three rules run on the same decoded frames, in the same run:

- ``vpdq``: Meta's rule. One frame a second on both sides; a match when at least 80 % of the query's
  frames of quality >= 50 have a banked frame (quality >= 50) within 31 bits.
- ``plain``: ``stanch.matching.video.match_video``; every banked frame, one query frame a second,
  the plain PDQ of each frame (what ``stanch.signals.video`` yields today).
- ``lean``: the same rule with a few more hashes per frame. The bank adds the centre 90 % of each
  frame and its ``trimmed`` view (``stanch.signals.robust``: uniform borders peeled); the query adds
  its mirror image and the trimmed views of the frame and of its mirror.
- ``views``: every view ``robust_variants`` gives (``content``, anchored windows, turned pixels of
  small frames) on both sides, besides those of ``lean``.

Frames are decoded here with PyAV and hashed with ``stanch.signals`` (the per-frame hash and the
one-a-second sampler of ``stanch.signals.video``); hashes are cached under benchmarks/.cache/.

    python benchmarks/video_matching.py
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import video_edits
from video_edits import EDITS, samples_dir

from stanch.matching.video import VideoVerdict, frame_matches_by_scan, match_video
from stanch.signals.fast_pdq import luma_of_rgb, pdq_dihedral_of_luma
from stanch.signals.pdq import DIHEDRAL_NAMES, MATCH_DISTANCE, MIN_QUALITY
from stanch.signals.robust import robust_variants
from stanch.signals.types import FrameHash
from stanch.signals.video import FrameSampler

CACHE = Path(__file__).resolve().parent / ".cache" / "video-hashes"
VIEWS_VERSION = "2"
"""Bump when the hashed views change, so cached hashes are computed again."""
MIRROR = DIHEDRAL_NAMES.index("flipy")
"""pdqhash's "flipy" is the left-right mirror image."""
CENTRE = 0.05
"""The bank's centre view drops this share of the width and height on each side (a 10 % crop)."""
LEAN = frozenset({"plain", "mirror", "centre", "trimmed", "mirror-trimmed"})
"""The views of the ``lean`` configuration."""
VPDQ_SHARE = 0.8


@dataclass(frozen=True)
class Hashed:
    """A video's frames (plain PDQ) and, per frame, its views as ``(name, hex)`` pairs."""

    frames: tuple[FrameHash, ...]
    views: tuple[tuple[tuple[str, str], ...], ...]

    def hashes(self, names: frozenset[str] | None) -> list[tuple[str, ...]]:
        """Per frame, the hashes of the named views (every view when ``names`` is None)."""
        return [tuple(h for n, h in frame if names is None or n in names) for frame in self.views]


def hash_video(path: Path, seconds_per_hash: float, side: str) -> Hashed:
    """Frames chosen by ``stanch.signals.video.FrameSampler``; views as the module docstring says."""
    cache = CACHE / f"{path.stem}-{path.stat().st_size}-{seconds_per_hash:g}-{side}-v{VIEWS_VERSION}.json"
    if cache.exists():
        data = json.loads(cache.read_text())
        views = tuple(tuple((n, h) for n, h in frame) for frame in data["views"])
        return Hashed(tuple(FrameHash(*f) for f in data["frames"]), views)
    sampler = FrameSampler(seconds_per_hash)
    frames, views = [], []
    for rgb, ts in _decode_chosen(path, sampler):
        luma = luma_of_rgb(rgb)
        dihedral, quality = pdq_dihedral_of_luma(luma)
        frames.append(FrameHash(dihedral[0], quality, round(ts, 3)))
        named = [("plain", dihedral[0])] if quality >= MIN_QUALITY else []
        if side == "bank":
            named += _centre(luma) + [(v.name, v.pdq) for v in robust_variants(rgb)]
        else:
            named += [("mirror", dihedral[MIRROR])] if quality >= MIN_QUALITY else []
            named += [(v.name, v.pdq) for v in robust_variants(rgb)]
            named += [(f"mirror-{v.name}", v.pdq) for v in robust_variants(rgb[:, ::-1])]
        views.append(tuple(named))
    CACHE.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps({"frames": [list(f.__dict__.values()) for f in frames], "views": views}))
    return Hashed(tuple(frames), tuple(views))


def _decode_chosen(path: Path, sampler: FrameSampler) -> Iterator[tuple[np.ndarray, float]]:
    """The frames the sampler wants, as RGB; the others are decoded but never converted."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for frame in container.decode(stream):
            ts = float(frame.time or 0.0)
            if sampler.wants(ts):
                yield frame.to_ndarray(format="rgb24"), ts


def _centre(luma: np.ndarray) -> list[tuple[str, str]]:
    height, width = luma.shape
    dy, dx = round(height * CENTRE), round(width * CENTRE)
    dihedral, quality = pdq_dihedral_of_luma(luma[dy : height - dy, dx : width - dx])
    return [("centre", dihedral[0])] if quality >= MIN_QUALITY else []


def one_a_second(dense: Hashed) -> Hashed:
    """The frames a one-a-second sampling picks (what vPDQ banks), taken from every-frame hashes."""
    sampler = FrameSampler(1.0)
    chosen = [i for i, frame in enumerate(dense.frames) if sampler.wants(frame.ts)]
    return Hashed(tuple(dense.frames[i] for i in chosen), tuple(dense.views[i] for i in chosen))


def vpdq_rule(query: Hashed, bank: Hashed) -> bool:
    """Meta's vPDQ rule: >= 80 % of usable query frames have a usable banked frame within 31 bits."""
    usable = [(f.pdq,) for f in query.frames if f.quality >= MIN_QUALITY]
    banked = [(f.pdq,) for f in bank.frames if f.quality >= MIN_QUALITY]
    if not usable:
        return False
    matched = {q for q, _, _ in frame_matches_by_scan(usable, banked)}
    return len(matched) >= VPDQ_SHARE * len(usable)


def stanch_rule(query: Hashed, bank: Hashed, names: frozenset[str] | None) -> VideoVerdict:
    """``match_video`` over the named views of both sides (None: every view)."""
    matches = frame_matches_by_scan(query.hashes(names), bank.hashes(names), MATCH_DISTANCE)
    return match_video(query.frames, bank.frames, matches)


def closest(query: Hashed, bank: Hashed, names: frozenset[str] | None) -> int:
    """The least distance between any usable query frame's views and any usable banked frame's views."""
    rows = [_words(h) for f, hs in zip(query.frames, query.hashes(names), strict=True)
            if f.quality >= MIN_QUALITY for h in hs]
    columns = [_words(h) for f, hs in zip(bank.frames, bank.hashes(names), strict=True)
               if f.quality >= MIN_QUALITY for h in hs]
    if not rows or not columns:
        return 256
    left, right = np.stack(rows), np.stack(columns)
    return int(min(np.bitwise_count(row ^ right).sum(axis=1).min() for row in left))


def _words(pdq: str) -> np.ndarray:
    return np.frombuffer(bytes.fromhex(pdq), np.uint64)


def content(name: str) -> str:
    """The content a sample video shows: chair, pattern, doorknob or the test card."""
    return "testcard" if name.startswith("test-") else name.split("-")[0]


def _hash_job(job: tuple[Path, float, str]) -> Hashed:
    return hash_video(*job)


RULES = ("vpdq", "plain", "lean", "views")


def main() -> None:
    started = time.monotonic()
    samples = sorted(samples_dir().glob("*.mp4"))
    edits = [video_edits.make(edit, samples_dir()) for edit in EDITS]
    jobs = [(p, 0.0, "bank") for p in samples] + [(p, 1.0, "query") for p in edits]
    with ProcessPoolExecutor(2) as pool:
        hashed = list(pool.map(_hash_job, jobs))
    dense = {p.stem: h for p, h in zip(samples, hashed[: len(samples)], strict=True)}
    sparse = {name: one_a_second(h) for name, h in dense.items()}
    queries = hashed[len(samples) :]
    prepared = time.monotonic()

    rules: dict[str, Callable[[Hashed, str], bool | VideoVerdict]] = {
        "vpdq": lambda q, name: vpdq_rule(q, sparse[name]),
        "plain": lambda q, name: stanch_rule(q, dense[name], frozenset({"plain"})),
        "lean": lambda q, name: stanch_rule(q, dense[name], LEAN),
        "views": lambda q, name: stanch_rule(q, dense[name], None),
    }
    found = dict.fromkeys(RULES, 0)
    false = dict.fromkeys(RULES, 0)
    longest_unrelated = dict.fromkeys(RULES[1:], 0)
    nearest = dict.fromkeys(RULES[1:], 256)
    pairs = 0
    print(f"{'edit':29} {'source':30} {'vpdq':>4} {'plain':>5} {'lean':>4} {'views':>5}  false  "
          "lean: frames, query -> bank segment, speed, distance")
    for edit, query in zip(EDITS, queries, strict=True):
        outcome = {rule: apply(query, edit.source) for rule, apply in rules.items()}
        wrong = []
        for rule, apply in rules.items():
            others = [apply(query, n) for n in dense if content(n) != content(edit.source)]
            wrong.append(sum(map(_matched, others)))
            found[rule] += _matched(outcome[rule])
            false[rule] += wrong[-1]
            if rule in longest_unrelated:
                runs = [o.frames for o in others if isinstance(o, VideoVerdict)]
                longest_unrelated[rule] = max([longest_unrelated[rule], *runs])
        for rule, names in (("plain", frozenset({"plain"})), ("lean", LEAN), ("views", None)):
            distances = [closest(query, dense[n], names) for n in dense if content(n) != content(edit.source)]
            nearest[rule] = min([nearest[rule], *distances])
        pairs += sum(content(n) != content(edit.source) for n in dense)
        marks = " ".join(f"{'yes' if _matched(outcome[r]) else 'NO':>{max(4, len(r))}}" for r in RULES)
        print(f"{edit.name:29} {edit.source:30} {marks}  {'/'.join(map(str, wrong)):6} "
              f"{_describe(outcome['lean'])}")
    print()
    for rule in RULES:
        extra = (f"; with unrelated videos: longest run {longest_unrelated[rule]} frame(s), "
                 f"closest frames {nearest[rule]} bits" if rule in longest_unrelated else "")
        print(f"{rule:6} found {found[rule]:2d} of {len(EDITS)}; false matches {false[rule]} of "
              f"{pairs} unrelated pairs{extra}")
    frames = sum(len(h.frames) for h in dense.values())
    lean = sum(map(len, (f for h in dense.values() for f in h.hashes(LEAN))))
    every = sum(map(len, (f for h in dense.values() for f in h.hashes(None))))
    print(f"bank: {len(dense)} videos; {sum(len(h.frames) for h in sparse.values())} frames at 1/s "
          f"(vpdq); {frames} frames dense; hashes a banked frame: lean {lean / frames:.2f}, "
          f"views {every / frames:.2f}")
    print(f"hashing {prepared - started:.1f} s (cached after the first run), matching "
          f"{time.monotonic() - prepared:.1f} s")


def _matched(outcome: bool | VideoVerdict) -> bool:
    return outcome if isinstance(outcome, bool) else outcome.matched


def _describe(verdict: bool | VideoVerdict) -> str:
    if isinstance(verdict, bool) or verdict.query_segment is None or verdict.bank_segment is None:
        return ""
    (qs, qe), (bs, be) = verdict.query_segment, verdict.bank_segment
    speed = "-" if verdict.speed is None else f"{verdict.speed:.2f}x"
    return (f"{verdict.frames}/{verdict.usable}, {qs:.1f}-{qe:.1f} s -> {bs:.1f}-{be:.1f} s, "
            f"{speed}, d {verdict.distance}")


if __name__ == "__main__":
    main()
