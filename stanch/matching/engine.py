"""MatchEngine: every bank held in memory, looked up exactly, turned into verdicts.

Per bank the engine keeps one ``HammingIndex`` of the banked pictures' PDQ hashes (entry id = index
id; the ordinal of the matching row names the view: ``original``, ``flipx``, ``trimmed`` ...), one of
video frame hashes, and dictionaries of exact digests. It knows nothing of the database: the store
side (``stanch.matching.sync``) feeds it ``BankedEntry`` values at start and from the change feed, and
the API applies its own writes to it right after they commit.

Thread safety: searches run on many threads at once without locks (``HammingIndex`` publishes
immutable snapshots; the dictionaries here are replaced or updated by single assignments). Writers are
serialised by one lock.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol

import numpy as np

from stanch.clock import Clock, utcnow
from stanch.index import HammingIndex, Hits, Segment
from stanch.index.hamming_index import MIN_INDEXED_ROWS
from stanch.matching.query import ImageQuery, Query, image_query, query_from_record
from stanch.matching.verdict import BankRule, Match, Signal, Trust, Verdict, decide
from stanch.matching.video import FrameMatch, match_video
from stanch.signals.pdq import DIHEDRAL_NAMES, MIN_QUALITY
from stanch.signals.registry import DIGESTS, VpdqSignal
from stanch.signals.types import FrameHash, ImageSignals, MediaSignals, VideoSignals


@dataclass(frozen=True)
class BankedEntry:
    """One live entry as matching sees it.

    ``hashes`` are the indexed PDQ hashes of an image as ``(view, 32 bytes)`` in their stored order;
    ``frames`` the ``(32 bytes, quality, seconds)`` frame hashes of a video in time order, and
    ``frame_views`` (when given) per frame the hashes of its views indexed beside it
    (``stanch.signals.frame_views.BANK_VIEWS``). ``trust`` is the entry's own (an imported list may be
    trusted less than the bank it went into).
    """

    id: int
    bank_id: int
    kind: str = "image"
    hashes: tuple[tuple[str, bytes], ...] = ()
    frames: tuple[tuple[bytes, int, float], ...] = ()
    frame_views: tuple[tuple[bytes, ...], ...] = ()
    md5: str | None = None
    sha256: str | None = None
    trust: str = "block"
    expires: datetime | None = None
    views: tuple[str, ...] | None = None
    """The views of ``hashes`` when those are not given (bulk load); None means take them from ``hashes``."""


@dataclass
class _Bank:
    """The in-memory side of one bank. In ``frames`` every usable video frame is an index entry of its
    own, ``frame_key(entry, position)``, holding its plain hash and its views, so a search returns
    every banked frame near a query frame with the least distance through any of them."""

    rule: BankRule
    images: HammingIndex
    frames: HammingIndex


@dataclass(frozen=True)
class _Video:
    """The frames of a banked video, kept for the video rule: packed hashes, qualities, times."""

    hashes: bytes
    quality: np.ndarray
    ts: np.ndarray

    def frames(self) -> list[FrameHash]:
        return [
            FrameHash(self.hashes[32 * i : 32 * i + 32].hex(), int(q), float(t))
            for i, (q, t) in enumerate(zip(self.quality.tolist(), self.ts.tolist(), strict=True))
        ]


FRAME_BITS = 20
"""Frame positions take the low 20 bits of a frame's index id (signals hashes at most 500,000 frames)."""


def frame_key(entry: int, positions: np.ndarray) -> np.ndarray:
    """Index ids of frames ``positions`` of video ``entry``."""
    return (np.int64(entry) << FRAME_BITS) + positions.astype(np.int64)


class MatchEngine:
    """Holds the banks in memory and answers lookups with verdicts (see the module docstring)."""

    def __init__(self, clock: Clock = utcnow, *, min_indexed_rows: int = MIN_INDEXED_ROWS) -> None:
        self.clock = clock
        self._min_rows = min_indexed_rows
        """Below this many hashes an index is scanned rather than indexed: the banks use the index's
        default; the upload log (``stanch.sweep.retro``) scans always, to hold 40 bytes a hash."""
        """What "now" is when judging whether an entry has expired (the runtime's clock)."""
        self._banks: dict[int, _Bank] = {}
        self._lock = threading.Lock()
        self._md5: dict[str, tuple[tuple[int, int], ...]] = {}
        self._sha256: dict[str, tuple[tuple[int, int], ...]] = {}
        self._views: dict[int, tuple[str, ...]] = {}
        """Views of entries whose hashes are not simply the dihedral ones in order (most have none)."""
        self._videos: dict[int, _Video] = {}
        self._review: set[int] = set()
        """Entries trusted less than a ``block`` bank: their matches go to review."""
        self._expires: dict[int, datetime] = {}

    # -- writing -------------------------------------------------------------------------------

    def set_bank(self, rule: BankRule) -> None:
        """Create a bank, or change its name, threshold, trust or kind."""
        with self._lock:
            bank = self._banks.get(rule.id)
            if bank is None:
                self._banks = {**self._banks, rule.id: _Bank(rule, self._index(), self._index())}
            else:
                bank.rule = rule

    def _index(self) -> HammingIndex:
        return HammingIndex(min_indexed_rows=self._min_rows)

    def bank_rules(self) -> list[BankRule]:
        return [bank.rule for bank in self._banks.values()]

    def load_images(self, bank_id: int, ids: np.ndarray, hashes: np.ndarray) -> None:
        """Bulk-load a bank's image hashes at start: row ``i`` is a hash (``(n, 32)`` uint8) of entry
        ``ids[i]``, each entry's rows in stored order. Replaces whatever the bank's image index held."""
        with self._lock:
            self._banks[bank_id].images = HammingIndex.from_arrays(
                ids, hashes, min_indexed_rows=self._min_rows
            )

    def load_image_base(self, bank_id: int, base: Segment) -> None:
        """Bulk-load a bank's image hashes from a ready base segment (an index snapshot's, mapped
        read-only); replaces whatever the bank's image index held."""
        with self._lock:
            self._banks[bank_id].images = HammingIndex.from_segment(base)

    def image_bases(self) -> dict[int, Segment]:
        """Each bank's image base segment (right after a bulk load: all its image hashes), by bank id."""
        return {bank_id: bank.images.base for bank_id, bank in self._banks.items()}

    def load_videos(self, bank_id: int, entries: Sequence[BankedEntry]) -> None:
        """Bulk-load a bank's videos at start; replaces whatever the bank's frame index held."""
        with self._lock:
            rows = [_frame_rows(e) for e in entries]
            self._banks[bank_id].frames = HammingIndex.from_arrays(
                np.concatenate([np.empty(0, np.int64), *(keys for keys, _ in rows)]),
                np.concatenate([np.empty((0, 32), np.uint8), *(hashes for _, hashes in rows)]),
            )
            for entry in entries:
                self._videos[entry.id] = _video(entry)

    def add(self, entries: Iterable[BankedEntry]) -> None:
        """Make entries matchable now (an entry already present is replaced)."""
        with self._lock:
            for entry in entries:
                self._add(entry)

    def remove(self, entries: Iterable[BankedEntry]) -> None:
        """Stop matching entries now (withdrawn, or expired); unknown entries are ignored."""
        with self._lock:
            for entry in entries:
                self._remove(entry)

    def note(self, entry: BankedEntry) -> None:
        """Record an entry's trust, expiry, views and digests, without touching the indexes (bulk load)."""
        with self._lock:
            self._note(entry)

    def expired(self, now: datetime) -> list[int]:
        """Ids of the entries past their ``expires`` (they no longer match, but are still held)."""
        return [entry for entry, expires in list(self._expires.items()) if expires <= now]

    def replace_with(self, fresh: MatchEngine) -> None:
        """Take over everything ``fresh`` holds (a reload built beside this engine while it kept
        answering); ``fresh`` must not be used afterwards."""
        with self._lock, fresh._lock:
            self._banks, self._md5, self._sha256 = fresh._banks, fresh._md5, fresh._sha256
            self._views, self._videos = fresh._views, fresh._videos
            self._review, self._expires = fresh._review, fresh._expires

    def needs_compaction(self) -> bool:
        """Whether some index has enough recent adds and removals to be worth compacting."""
        return any(i.needs_compaction for b in list(self._banks.values()) for i in (b.images, b.frames))

    def compact(self) -> None:
        """Fold recent adds and removals into the indexes' bases, when enough have piled up."""
        for bank in list(self._banks.values()):
            for index in (bank.images, bank.frames):
                if index.needs_compaction:
                    index.compact()

    def _add(self, entry: BankedEntry) -> None:
        bank = self._banks[entry.bank_id]
        if entry.hashes:
            ids = np.full(len(entry.hashes), entry.id, np.int64)
            bank.images.add(ids, _packed(h for _, h in entry.hashes))
        if entry.frames:
            self._remove_frames(bank, entry.id)
            bank.frames.add(*_frame_rows(entry))
            self._videos[entry.id] = _video(entry)
        self._note(entry)

    def _note(self, entry: BankedEntry) -> None:
        views = entry.views if entry.views is not None else tuple(view for view, _ in entry.hashes)
        if views != DIHEDRAL_NAMES[: len(views)]:
            self._views[entry.id] = views
        else:
            self._views.pop(entry.id, None)
        if entry.trust == "review":
            self._review.add(entry.id)
        else:
            self._review.discard(entry.id)
        if entry.expires is not None:
            self._expires[entry.id] = entry.expires
        else:
            self._expires.pop(entry.id, None)
        key = (entry.bank_id, entry.id)
        for table, digest in ((self._md5, entry.md5), (self._sha256, entry.sha256)):
            if digest:
                table[digest] = (*(k for k in table.get(digest, ()) if k != key), key)

    def _remove(self, entry: BankedEntry) -> None:
        bank = self._banks.get(entry.bank_id)
        if bank is not None:
            bank.images.remove([entry.id])
            self._remove_frames(bank, entry.id)
        key = (entry.bank_id, entry.id)
        for table, digest in ((self._md5, entry.md5), (self._sha256, entry.sha256)):
            if digest and digest in table:
                rest = tuple(k for k in table[digest] if k != key)
                if rest:
                    table[digest] = rest
                else:
                    del table[digest]
        for mapping in (self._views, self._expires):
            mapping.pop(entry.id, None)
        self._review.discard(entry.id)

    def _remove_frames(self, bank: _Bank, entry: int) -> None:
        video = self._videos.pop(entry, None)
        if video is not None:
            bank.frames.remove(frame_key(entry, np.arange(len(video.ts))))

    # -- reading -------------------------------------------------------------------------------

    def match(self, signals: MediaSignals) -> Verdict:
        """The verdict for the signals of one file, image or video."""
        if isinstance(signals, ImageSignals):
            return self.match_image(image_query(signals))
        return self.match_video(signals)

    def match_record(self, record: dict[str, Any]) -> Verdict:
        """The verdict for a stored hash object: bare hashes or a ``stanch hash`` record."""
        return self.match_queries([query_from_record(record)])[0]

    def match_queries(self, queries: Sequence[Query]) -> list[Verdict]:
        """Verdicts in order; the images (and loose hashes) among them are searched together."""
        return verdicts_of(queries, self.hits_of(queries))

    def hits_of(self, queries: Sequence[Query]) -> list[list[Match]]:
        """Every live match of each query, before the rule turns them into a verdict: what an index
        shard answers (``stanch.matching.shards``), so that the union of all shards' hits, decided once,
        is exactly the verdict of one engine holding every bank."""
        images = [(i, q) for i, q in enumerate(queries) if isinstance(q, ImageQuery)]
        hits: dict[int, list[Match]] = dict(
            zip((i for i, _ in images), self.image_hits([q for _, q in images]), strict=True)
        )
        for i, q in enumerate(queries):
            if isinstance(q, VideoSignals):
                hits[i] = self.video_hits(q)
        return [hits[i] for i in range(len(queries))]

    def match_image(self, query: ImageQuery) -> Verdict:
        """The verdict for one image (or loose hashes)."""
        return self.match_images([query])[0]

    def match_images(self, queries: Sequence[ImageQuery]) -> list[Verdict]:
        """Verdicts for many images, searched together: one index search per bank for the whole batch."""
        return verdicts_of(queries, self.image_hits(queries))

    def image_hits(self, queries: Sequence[ImageQuery]) -> list[list[Match]]:
        """The live matches of each image query (``match_images`` before the rule)."""
        hits: list[list[Match]] = [[] for _ in queries]
        rows = [(q, view, bytes.fromhex(h)) for q, query in enumerate(queries) for view, h in query.hashes]
        if rows:
            owners = np.array([q for q, _, _ in rows], np.int64)
            packed = _packed(h for _, _, h in rows)
            for bank in list(self._banks.values()):
                found = bank.images.search_many(packed, bank.rule.threshold).best(owners)
                for row, entry, distance, ordinal in _hit_rows(found):
                    match = self._match(bank.rule, entry, distance, "pdq", self._view(entry, ordinal))
                    hits[owners[row]].append(replace(match, query=rows[row][1]))
        now = self.clock()
        return [self._live(hits[q] + self._digest_hits(query.md5, query.sha256), now)
                for q, query in enumerate(queries)]

    def match_video(self, signals: VideoSignals) -> Verdict:
        """The verdict for a video: each banked video near enough in frames is judged by the video
        rule (``stanch.matching.video``: runs of frames in time order), plus exact digests.

        Each usable query frame looks up its plain hash and its views (``VpdqSignal.query_views``); a
        (query frame, banked frame) pair counts once, at the least distance between any of their hashes.
        """
        return decide(self.video_hits(signals))

    def video_hits(self, signals: VideoSignals) -> list[Match]:
        """The live matches of a video (``match_video`` before the rule)."""
        rows = [(i, bytes.fromhex(h))
                for i, f in enumerate(signals.frames) for h in VpdqSignal.query_views(f)]
        hits = self._digest_hits(signals.md5, signals.sha256)
        if rows:
            owners = np.array([i for i, _ in rows], np.int64)
            packed = _packed(h for _, h in rows)
            for bank in list(self._banks.values()):
                hits += self._video_hits(bank, signals, owners, packed)
        return self._live(hits, self.clock())

    def _video_hits(
        self, bank: _Bank, signals: VideoSignals, owners: np.ndarray, packed: np.ndarray
    ) -> list[Match]:
        found = bank.frames.search_many(packed, bank.rule.threshold).best(owners)
        pairs: dict[int, list[FrameMatch]] = {}
        for row, key, distance, _ in _hit_rows(found):
            pairs.setdefault(key >> FRAME_BITS, []).append(
                (int(owners[row]), key & ((1 << FRAME_BITS) - 1), distance)
            )
        hits = []
        for entry, frame_matches in pairs.items():
            video = self._videos.get(entry)
            if video is None:
                continue
            verdict = match_video(
                signals.frames, video.frames(), frame_matches, max_distance=bank.rule.threshold
            )
            if verdict.matched:
                match = self._match(bank.rule, entry, verdict.distance or 0, "vpdq", "")
                hits.append(replace(match, segment=verdict.to_dict()))
        return hits

    def stats(self) -> dict[str, int]:
        """How much the engine holds in memory (hashes and bytes of index arrays)."""
        banks = list(self._banks.values())
        return {
            "banks": len(banks),
            "image_hashes": sum(len(b.images) for b in banks),
            "frame_hashes": sum(len(b.frames) for b in banks),
            "index_bytes": sum(b.images.stats().nbytes + b.frames.stats().nbytes for b in banks),
        }

    def _digest_hits(self, md5: str | None, sha256: str | None) -> list[Match]:
        hits = []
        tables = {"md5": (self._md5, md5), "sha256": (self._sha256, sha256)}
        lookups: list[tuple[Signal, dict, str | None]] = [
            (kind.name, *tables[kind.name]) for kind in DIGESTS  # type: ignore[misc]
        ]
        for signal, table, digest in lookups:
            for bank_id, entry in table.get(digest or "", ()):
                bank = self._banks.get(bank_id)
                if bank is not None:
                    hits.append(self._match(bank.rule, entry, 0, signal, ""))
        return hits

    def _match(self, rule: BankRule, entry: int, distance: int, signal: Signal, view: str) -> Match:
        trust: Trust = "review" if rule.trust == "review" or entry in self._review else "block"
        return Match(rule.name, entry, distance, signal, view, "", rule.kind, trust)

    def _view(self, entry: int, ordinal: int) -> str:
        views = self._views.get(entry, DIHEDRAL_NAMES)
        return views[ordinal] if ordinal < len(views) else f"hash {ordinal}"

    def _live(self, hits: list[Match], now: datetime) -> list[Match]:
        expires = self._expires
        return [h for h in hits if h.entry not in expires or expires[h.entry] > now]


def verdicts_of(queries: Sequence[Query], hits: Sequence[list[Match]]) -> list[Verdict]:
    """The rule applied to each query's hits (an image's PDQ quality goes into its verdict)."""
    return [decide(mine, query.quality if isinstance(query, ImageQuery) else None)
            for query, mine in zip(queries, hits, strict=True)]


class Matcher(Protocol):
    """What serving lookups needs of an engine: one in this process (``MatchEngine``) or the front end
    of index shards (``stanch.matching.shards.ShardedEngine``)."""

    def match(self, signals: MediaSignals) -> Verdict: ...
    def match_record(self, record: dict[str, Any]) -> Verdict: ...
    def match_queries(self, queries: Sequence[Query]) -> list[Verdict]: ...
    def stats(self) -> dict[str, int]: ...


def _hit_rows(hits: Hits) -> Iterable[tuple[int, int, int, int]]:
    return zip(
        hits.query.tolist(), hits.id.tolist(), hits.distance.tolist(), hits.ordinal.tolist(), strict=True
    )


def _frame_rows(entry: BankedEntry) -> tuple[np.ndarray, np.ndarray]:
    """Index ids and hashes of a video's usable frames: each frame's plain hash, then its views.

    Frames of quality below ``MIN_QUALITY`` are left out: the video rule ignores them.
    """
    keys: list[int] = []
    hashes: list[bytes] = []
    for position, (pdq, quality, _) in enumerate(entry.frames):
        if quality < MIN_QUALITY:
            continue
        views = entry.frame_views[position] if position < len(entry.frame_views) else ()
        mine = list(dict.fromkeys((pdq, *views)))
        keys += [position] * len(mine)
        hashes += mine
    return frame_key(entry.id, np.array(keys, np.int64)), _packed(hashes)


def _video(entry: BankedEntry) -> _Video:
    return _Video(
        b"".join(h for h, _, _ in entry.frames),
        np.array([q for _, q, _ in entry.frames], np.uint8),
        np.array([t for _, _, t in entry.frames], np.float64),
    )


def _packed(hashes: Iterable[bytes]) -> np.ndarray:
    data = b"".join(hashes)
    return np.frombuffer(data, np.uint8).reshape(-1, 32)
