"""python-threatexchange's signal files: one ``<signal_type> <signal>`` per line.

This is what ``threatexchange hash`` prints and what pytx's local-file exchange
(``threatexchange.exchanges.impl.file_api.LocalFileSignalExchangeAPI``) reads and appends to: the line
is split at its first space into pytx's signal-type name (``SignalType.get_name()``) and the signal
string. Stanch reads ``pdq`` (an image), ``video_md5`` (a video, exact MD5) and ``vpdq`` (a video: pytx's
JSON list of ``"pdq_hex,quality,seconds"`` frames); other types (``url``, ``raw_text``, ``video_tmk_pdqf``
...) are counted as skipped. pytx has no notion of content grouping several signals, so each line is one
entry; its external id is the line's ``(signal_type, signal)``, as pytx keys its own fetched signals, so
importing the same file twice adds nothing. Export writes every active entry the same way: ``pdq`` for
an image, ``video_md5`` and ``vpdq`` (two lines) for a video.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import TextIO

from stanch.bodies import BodyError, parse_json
from stanch.exchange.records import FormatError, Item, Skip, content_lines, guard
from stanch.signals.pdq import parse_pdq_hex
from stanch.store import FrameRow, NewEntry, Provenance, StoredEntry, entry_from_hashes

SIGNAL_TYPES = ("pdq", "video_md5", "vpdq")
KNOWN_OTHERS = ("video_tmk_pdqf", "url", "url_md5", "raw_text", "trend_query", "video_sha256", "photo_md5")
"""pytx signal types Stanch cannot match; recognised so that a file of them is still sniffed as pytx's."""


def looks_like(line: str) -> bool:
    """Whether a file's first content line is a pytx signal line (for ``stanch bank import`` sniffing)."""
    signal_type, _, signal = line.strip().partition(" ")
    return bool(signal.strip()) and signal_type in SIGNAL_TYPES + KNOWN_OTHERS


def parse(lines: Iterable[str], list_name: str, trust: str | None) -> Iterator[tuple[str, Item]]:
    """Entries from pytx signal lines; a bad line is quarantined."""
    for where, text in content_lines(lines):
        yield where, guard(_item, text, where, list_name, trust)


def _item(text: str, where: str, list_name: str, trust: str | None) -> Item:
    signal_type, _, signal = text.partition(" ")
    signal = signal.strip()
    if not signal:
        raise FormatError(where, "expected '<signal_type> <signal>' (e.g. 'pdq <64 hex digits>')")
    if signal_type not in SIGNAL_TYPES:
        return Skip(f"pytx {signal_type} signals (Stanch cannot match them)")
    provenance = Provenance(source=list_name, external_list=list_name,
                            external_id=f"{signal_type} {signal.lower()}", trust=trust)
    try:
        if signal_type == "pdq":
            return entry_from_hashes(pdq=signal, provenance=provenance)
        if signal_type == "video_md5":
            return entry_from_hashes(md5=signal, kind="video", provenance=provenance)
        return _vpdq_entry(signal, provenance)
    except ValueError as error:
        raise FormatError(where, f"{signal_type}: {error}") from None


def _vpdq_entry(signal: str, provenance: Provenance) -> NewEntry:
    try:
        features = parse_json(signal)
    except BodyError:
        raise ValueError("a vpdq signal is a JSON list of \"pdq_hex,quality,seconds\" strings") from None
    if not isinstance(features, list) or not features or not all(isinstance(f, str) for f in features):
        raise ValueError("a vpdq signal is a non-empty JSON list of \"pdq_hex,quality,seconds\" strings")
    frames = []
    for feature in features:
        parts = feature.split(",")
        if len(parts) != 3:
            raise ValueError(f"a vpdq frame is \"pdq_hex,quality,seconds\", got {feature!r:.80}")
        quality, seconds = int(parts[1]), float(parts[2])
        if not 0 <= quality <= 100 or seconds < 0:
            raise ValueError(f"a vpdq frame's quality is 0-100 and its time not negative: {feature!r:.80}")
        frames.append(FrameRow(parse_pdq_hex(parts[0]), quality, seconds))
    return NewEntry(kind="video", duration=max(f.ts for f in frames), frames=tuple(frames),
                    provenance=provenance)


def write(entries: Iterable[StoredEntry], out: TextIO) -> tuple[int, int]:
    """pytx signal lines for every entry that has a pytx signal; returns (written, skipped)."""
    written = skipped = 0
    for stored in entries:
        lines = list(signal_lines(stored))
        if not lines:
            skipped += 1
            continue
        out.writelines(f"{line}\n" for line in lines)
        written += 1
    return written, skipped


def signal_lines(stored: StoredEntry) -> Iterator[str]:
    """The pytx lines of one entry."""
    e = stored.entry
    if e.kind == "image":
        if e.pdq is not None:
            yield f"pdq {e.pdq.hex()}"
        return
    if e.md5 is not None:
        yield f"video_md5 {e.md5}"
    if stored.frames:
        features = [f"{f.pdq.hex()},{f.quality},{f.ts:.3f}" for f in stored.frames]
        yield f"vpdq {json.dumps(features)}"
