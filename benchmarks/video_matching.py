"""Video matching on edited copies of Meta's samples and of the video corpus: the product against vPDQ.

Every sample video is banked; every edit of benchmarks/video_edits.py is a query. An edit is *found*
when it matches the sample it was made from; a *false match* is a match with a banked video of
another content (chair, pattern, doorknob, and the synthetic test card are four contents; the -sd-,
-hd-, logo, grey and sepia variants of one content are the same content, so those pairs are neither
found nor false).

Both sides are hashed by the product: ``stanch.signals.hash_media`` on the file's bytes, every frame
for a banked sample (``seconds_per_hash=0``), one frame a second for a query, frames with their views
(``stanch.signals.frame_views``). Three rules run on those hashes:

- ``vpdq``: Meta's rule. One frame a second on both sides; a match when at least 80 % of the query's
  frames of quality >= 50 have a banked frame (quality >= 50) within 31 bits. Plain hashes only.
- ``plain``: the product's engine with the frames' views left out (what it ran before frames had views).
- ``product``: what ``stanch match`` and ``POST /v1/match`` do: each sample becomes a bank entry as the
  store keeps it (``entry_from_signals``: plain hash, ``centre`` and ``trimmed`` views of every frame),
  loaded into a ``MatchEngine`` as the store's follower loads it, and each query is matched with
  ``MatchEngine.match`` (plain, ``mirror``, ``trimmed`` and ``mirror-trimmed`` of each query frame,
  the run rule of ``stanch.matching.video``).

Then the video corpus (``corpus_run``): the held-out half of benchmarks/video_corpus.py (``--half tune``
for the tune half, the only one to choose rules and views on) is banked beside the samples, and
one edit of each family of ``video_edits.FAMILIES`` of each of its videos is a query, matched by the
product, by the product with the queries' ``window`` views left out (``no-window``: what it did
before that view) and by the vPDQ rule. Found and false are counted per family; a query made with other
footage (picture-in-picture, concatenation) shows those contents too, so matching them is neither
found nor false. It prints hashes and bytes a banked video and the query time of both rules.

Signals are cached under benchmarks/.cache/video-signals/. The cost of the views is measured on the
frames of one sample, against the plain hash of the same frames, interleaved in the same run.

    python benchmarks/video_matching.py [--half tune] [--no-samples]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import av
import numpy as np
import video_corpus
import video_edits
from video_edits import EDITS, corpus_edits, samples_dir

from stanch.matching.engine import BankedEntry, MatchEngine
from stanch.matching.sync import video_entry
from stanch.matching.verdict import BankRule, Verdict
from stanch.matching.video import frame_matches_by_scan
from stanch.signals import (
    QUERY_SECONDS_PER_HASH,
    VideoSignals,
    hash_media,
    signals_from_record,
    signals_record,
)
from stanch.signals.fast_pdq import pdq_dihedral_of_luma
from stanch.signals.frame_views import WINDOW, bank_frame_hashes, frame_views, query_frame_hashes
from stanch.signals.pdq import MATCH_DISTANCE, MIN_QUALITY
from stanch.signals.video import FrameSampler
from stanch.store import entry_from_signals

CACHE = Path(__file__).resolve().parent / ".cache" / "video-signals"
SIGNALS_VERSION = "7"
"""Bump when what the product hashes changes, so cached signals are computed again."""
VPDQ_SHARE = 0.8
COST_FRAMES = 150
"""Frames of one sample timed for the cost of views."""
RULES = ("vpdq", "plain", "product")
CORPUS_RULES = ("vpdq", "product", "no-window")
"""On the corpus: Meta's rule, the product, and the product with the query's ``window`` views left out."""
QUERY_SECONDS = QUERY_SECONDS_PER_HASH
"""Seconds between the query frames the product hashes (what ``stanch match`` and the API use);
``--query-seconds`` tries another rate on the corpus."""


def hashed(job: tuple[Path, float]) -> VideoSignals:
    """``hash_media`` of a file (cached): every frame for ``0`` (hashed for a bank), else one frame each
    ``seconds`` (a query)."""
    path, seconds = job
    cache = CACHE / f"{path.stem}-{path.stat().st_size}-{seconds:g}-v{SIGNALS_VERSION}.json"
    if not cache.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        partial = cache.with_suffix(f".{os.getpid()}.partial")
        purpose = "bank" if seconds == 0 else "query"  # every frame: a banked video, as `bank add` hashes
        hashes = hash_media(path.read_bytes(), purpose=purpose, seconds_per_hash=seconds)
        partial.write_text(json.dumps(signals_record(hashes)))
        partial.replace(cache)  # two runs (both halves) may hash the same sample at once
    signals = signals_from_record(json.loads(cache.read_text()))
    assert isinstance(signals, VideoSignals)
    return signals


def without_window(signals: VideoSignals) -> VideoSignals:
    """The query without its frames' ``window`` views: the product as it was before that view."""
    return replace(signals, frames=tuple(
        replace(f, views=tuple(v for v in f.views if v.name != WINDOW)) for f in signals.frames))


def without_views(signals: VideoSignals) -> VideoSignals:
    return replace(signals, frames=tuple(replace(f, views=()) for f in signals.frames))


def engine_of(banked: dict[str, VideoSignals]) -> MatchEngine:
    """One bank holding every sample, entry ``i`` the ``i``-th, as the store would hand them over."""
    engine = MatchEngine()
    engine.set_bank(BankRule(1, "samples", MATCH_DISTANCE))
    engine.add(
        video_entry(BankedEntry(number, 1, "video"), entry_from_signals(signals).frames)
        for number, signals in enumerate(banked.values())
    )
    return engine


def one_a_second(dense: VideoSignals) -> VideoSignals:
    """The frames a one-a-second sampling picks (what vPDQ banks), taken from every-frame hashes."""
    return sampled(dense, 1.0)


def sampled(dense: VideoSignals, seconds: float) -> VideoSignals:
    """The frames ``hash_media(..., seconds_per_hash=seconds)`` hashes, taken from every-frame hashes:
    the same sampler on the same timestamps, and a frame's hash does not depend on its neighbours."""
    sampler = FrameSampler(seconds)
    return replace(dense, frames=tuple(f for f in dense.frames if sampler.wants(f.ts)))


def vpdq_rule(query: VideoSignals, bank: VideoSignals) -> bool:
    """Meta's vPDQ rule: >= 80 % of usable query frames have a usable banked frame within 31 bits."""
    usable = [(f.pdq,) for f in query.frames if f.quality >= MIN_QUALITY]
    banked = [(f.pdq,) for f in bank.frames if f.quality >= MIN_QUALITY]
    if not usable:
        return False
    matched = {q for q, _, _ in frame_matches_by_scan(usable, banked)}
    return len(matched) >= VPDQ_SHARE * len(usable)


def closest(query: VideoSignals, bank: VideoSignals) -> int:
    """The least distance between a hash a query frame looks up and one a banked frame is indexed under."""
    rows = [_words(h) for f in query.frames for h in query_frame_hashes(f)]
    columns = [_words(h) for f in bank.frames for h in bank_frame_hashes(f)]
    if not rows or not columns:
        return 256
    right = np.stack(columns)
    return int(min(np.bitwise_count(row ^ right).sum(axis=1).min() for row in rows))


def _words(pdq: str) -> np.ndarray:
    return np.frombuffer(bytes.fromhex(pdq), np.uint64)


def content(name: str) -> str:
    """The content a sample video shows: chair, pattern, doorknob or the test card."""
    return "testcard" if name.startswith("test-") else name.split("-")[0]


def view_cost(path: Path) -> tuple[float, float, float]:
    """Median milliseconds per frame to decode (to grey), hash plainly, and hash the views, on
    ``COST_FRAMES`` frames of ``path``; plain and views are timed frame by frame, interleaved."""
    decode, plain, views = [], [], []
    with av.open(str(path)) as container:
        frames = container.decode(video=0)
        for _ in range(COST_FRAMES):
            start = time.perf_counter()
            luma = next(frames).to_ndarray(format="gray")
            decode.append(time.perf_counter() - start)
            start = time.perf_counter()
            dihedral, quality = pdq_dihedral_of_luma(luma)
            plain.append(time.perf_counter() - start)
            start = time.perf_counter()
            frame_views(luma, dihedral, quality)
            views.append(time.perf_counter() - start)
    return tuple(statistics.median(t) * 1000 for t in (decode, plain, views))  # type: ignore[return-value]


def samples_run() -> None:
    """The 28 edits of Meta's sample videos against the 14 samples (the figures before the corpus)."""
    started = time.monotonic()
    samples = sorted(samples_dir().glob("*.mp4"))
    edits = [video_edits.make(edit, samples_dir() / f"{edit.source}.mp4") for edit in EDITS]
    with ProcessPoolExecutor(2) as pool:
        signals = list(pool.map(hashed, [(p, 0.0) for p in samples] + [(p, 1.0) for p in edits]))
    dense = {p.stem: s for p, s in zip(samples, signals[: len(samples)], strict=True)}
    sparse = {name: one_a_second(s) for name, s in dense.items()}
    queries = signals[len(samples) :]
    names = list(dense)
    engines = {"plain": engine_of({n: without_views(s) for n, s in dense.items()}),
               "product": engine_of(dense)}
    prepared = time.monotonic()

    found = dict.fromkeys(RULES, 0)
    false = dict.fromkeys(RULES, 0)
    nearest = {"plain": 256, "product": 256}
    pairs = 0
    print(f"{'edit':29} {'source':30} {'vpdq':>4} {'plain':>5} {'product':>7}  false  "
          "product: frames, query -> bank segment, speed, distance")
    for edit, query in zip(EDITS, queries, strict=True):
        others = [n for n in names if content(n) != content(edit.source)]
        pairs += len(others)
        matched = {"vpdq": {n for n in names if vpdq_rule(query, sparse[n])}}
        verdicts: dict[str, Verdict] = {
            "plain": engines["plain"].match(without_views(query)),
            "product": engines["product"].match(query),
        }
        for rule, verdict in verdicts.items():
            matched[rule] = {names[m.entry] for m in verdict.matches}
        for rule in RULES:
            found[rule] += edit.source in matched[rule]
            false[rule] += len(matched[rule] & set(others))
        nearest["plain"] = min([nearest["plain"], *(closest(without_views(query), dense[n]) for n in others)])
        nearest["product"] = min([nearest["product"], *(closest(query, dense[n]) for n in others)])
        marks = " ".join(f"{'yes' if edit.source in matched[r] else 'NO':>{max(4, len(r))}}" for r in RULES)
        wrong = "/".join(str(len(matched[r] & set(others))) for r in RULES)
        described = _describe(verdicts["product"], names.index(edit.source))
        print(f"{edit.name:29} {edit.source:30} {marks}  {wrong:6} {described}")
    print()
    for rule in RULES:
        extra = f"; closest frames of unrelated videos {nearest[rule]} bits" if rule in nearest else ""
        print(f"{rule:7} found {found[rule]:2d} of {len(EDITS)}; false matches {false[rule]} of {pairs} "
              f"unrelated pairs{extra}")
    frames = sum(len(s.frames) for s in dense.values())
    indexed = sum(len(bank_frame_hashes(f)) for s in dense.values() for f in s.frames)
    looked_up = sum(len(query_frame_hashes(f)) for s in queries for f in s.frames)
    query_frames = sum(len(s.frames) for s in queries)
    print(f"bank: {len(dense)} videos, {frames} frames, {indexed / frames:.2f} hashes indexed a frame "
          f"(usable frames: plain + bank views); queries: {query_frames} frames at 1/s, "
          f"{looked_up / query_frames:.2f} hashes looked up a frame")
    decode, plain, views = view_cost(samples_dir() / "chair-orig-22-sd-bar.mp4")
    print(f"cost a frame (chair-orig-22-sd-bar, {COST_FRAMES} frames, medians): "
          f"decode to grey {decode:.2f} ms, plain PDQ {plain:.2f} ms, views {views:.2f} ms "
          f"(views / (decode + plain) = {views / (decode + plain):.2f})")
    print(f"hashing {prepared - started:.1f} s (cached after the first run), matching "
          f"{time.monotonic() - prepared:.1f} s")


@dataclass(frozen=True)
class Query:
    """One edited corpus video: its family, the content it was made from, every content it shows."""

    family: str
    source: str
    shows: frozenset[str]
    signals: VideoSignals


def corpus_queries(videos: list[video_corpus.VideoContent]) -> list[tuple[str, str, frozenset[str], Path]]:
    """Every edit of every video of ``videos``: ``(family, source, contents shown, file)``, made once.

    The footage for picture-in-picture and concatenation is two other videos of the same half
    (the next two by number), so the contents a query shows are all banked and none is a false match.
    """
    jobs = []
    for index, video in enumerate(videos):
        other, another = videos[(index + 1) % len(videos)], videos[(index + 2) % len(videos)]
        for edit in corpus_edits(video.name, video.number, video.seconds, other.path, another.path):
            shows = {video.name}
            if edit.name in ("pip-overlay", "pip-window", "concat"):
                shows |= {other.name, another.name} if edit.name == "concat" else {other.name}
            jobs.append((edit.name, video.name, frozenset(shows), video_edits.make(edit, video.path)))
    return jobs


def corpus_run(half: str, query_seconds: float = QUERY_SECONDS) -> None:
    """Edits of one half of the video corpus against that half's videos and Meta's samples, banked."""
    started = time.monotonic()
    videos = video_corpus.build(half)
    jobs = corpus_queries(videos)
    samples = sorted(samples_dir().glob("*.mp4"))
    banked_paths = {v.name: v.path for v in videos} | {p.stem: p for p in samples}
    with ProcessPoolExecutor(2) as pool:
        signals = list(pool.map(hashed, [(p, 0.0) for p in banked_paths.values()]
                                + [(j[3], query_seconds) for j in jobs]))
    dense = dict(zip(banked_paths, signals[: len(banked_paths)], strict=True))
    sparse = {name: one_a_second(s) for name, s in dense.items()}
    queries = [Query(f, src, shows, sig) for (f, src, shows, _), sig
               in zip(jobs, signals[len(banked_paths) :], strict=True)]
    queries += [Query("unedited", v.name, frozenset({v.name}), sampled(dense[v.name], query_seconds))
                for v in videos]
    names = list(dense)
    engine = engine_of(dense)
    prepared = time.monotonic()
    found = {rule: Counter[str]() for rule in CORPUS_RULES}
    missed: list[str] = []
    false = dict.fromkeys(CORPUS_RULES, 0)
    pairs = 0
    match_times, vpdq_times = [], []
    for query in queries:
        pairs += sum(1 for n in names if n not in query.shows)
        start = time.perf_counter()
        verdict = engine.match(query.signals)
        match_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        by_vpdq = {n for n in names if vpdq_rule(query.signals, sparse[n])}
        vpdq_times.append(time.perf_counter() - start)
        by_product = {names[m.entry] for m in verdict.matches}
        by_no_window = {names[m.entry] for m in engine.match(without_window(query.signals)).matches}
        for rule, matched in (("vpdq", by_vpdq), ("product", by_product), ("no-window", by_no_window)):
            found[rule][query.family] += query.source in matched
            false[rule] += len(matched - query.shows)
        if query.source not in by_product:
            missed.append(f"{query.family} of {query.source}")
        for wrong in sorted(by_product - query.shows):
            print(f"FALSE MATCH: {query.family} of {query.source} matched {wrong}: "
                  f"{_describe(verdict, names.index(wrong))}")
    families = list(dict.fromkeys(q.family for q in queries))
    total = Counter(q.family for q in queries)
    print(f"video corpus, {half} half: {len(videos)} videos banked with {len(samples)} samples; "
          f"{len(queries)} queries hashed a frame each {query_seconds:g} s")
    print(f"{'family':16} {'vpdq':>7} {'product':>8} {'no-window':>9}")
    for family in families:
        print(f"{family:16} {found['vpdq'][family]:3d}/{total[family]:<3d} "
              f"{found['product'][family]:4d}/{total[family]:<3d} "
              f"{found['no-window'][family]:5d}/{total[family]:<3d}")
    edited = [f for f in families if f != "unedited"]
    count = sum(total[f] for f in edited)
    for rule in CORPUS_RULES:
        hit = sum(found[rule][f] for f in edited)
        print(f"{rule:7} edited copies found {hit} of {count} ({hit / count:.3f}); false matches "
              f"{false[rule]} of {pairs} pairs of different contents")
    print("missed by product: " + (", ".join(missed) or "none"))
    mine = [dense[v.name] for v in videos]
    seconds = statistics.mean(v.seconds for v in videos)
    banks = {"vpdq": [[f.pdq for f in one_a_second(s).frames if f.quality >= MIN_QUALITY] for s in mine],
             "product": [[h for f in s.frames for h in bank_frame_hashes(f)] for s in mine]}
    for rule, bank in banks.items():
        hashes = statistics.mean(len(b) for b in bank)
        print(f"{rule:7} {hashes:.0f} hashes a bank entry (a {seconds:.1f} s video), "
              f"{hashes * 32 / 1024:.1f} KiB of hashes a video")
    stats = engine.stats()
    print(f"product engine: {stats['frame_hashes']} frame hashes, "
          f"{stats['index_bytes'] / len(names) / 1024:.1f} KiB of index a banked video ({len(names)} videos)")
    print(f"query time (medians, p95): product MatchEngine.match {_ms(match_times)}; vPDQ rule by "
          f"brute force over the {len(names)} banked videos {_ms(vpdq_times)}")
    print(f"hashing {prepared - started:.1f} s (cached after the first run), matching "
          f"{time.monotonic() - prepared:.1f} s")


def _ms(times: list[float]) -> str:
    ordered = sorted(times)
    return (f"{statistics.median(ordered) * 1000:.2f} ms, "
            f"{ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] * 1000:.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--half", choices=("tune", "heldout"), default="heldout",
                        help="which half of the video corpus to edit and bank (tune only for tuning)")
    parser.add_argument("--no-samples", action="store_true", help="skip the run on Meta's sample videos")
    parser.add_argument("--query-seconds", type=float, default=QUERY_SECONDS,
                        help="seconds between hashed query frames on the corpus (default: the product's)")
    arguments = parser.parse_args()
    if not arguments.no_samples:
        samples_run()
        print()
    corpus_run(arguments.half, arguments.query_seconds)


def _describe(verdict: Verdict, entry: int) -> str:
    segment = next((m.segment for m in verdict.matches if m.entry == entry), None)
    if not segment:
        return ""
    (qs, qe), (bs, be) = segment["query_segment"], segment["bank_segment"]
    speed = "-" if segment["speed"] is None else f"{segment['speed']:.2f}x"
    return (f"{segment['frames']}/{segment['usable_frames']}, {qs:.1f}-{qe:.1f} s -> {bs:.1f}-{be:.1f} s, "
            f"{speed}, d {segment['distance']}")


if __name__ == "__main__":
    main()
