"""What goes into a bank: ``NewEntry``, built from full signals or from the bare hashes partners share.

(These classes are not frozen: an import builds millions of them, and frozen dataclasses are several
times slower to create.)

Partners' lists often carry one PDQ or one MD5 and nothing else, so an entry is not required to hold
complete ``ImageSignals``; whatever it holds is stored, and the hashes matching looks up are marked
``indexed`` as their signal type says (``stanch.signals.registry``: which views a bank indexes is the
signal type's policy, not storage's).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from stanch.signals.pdq import parse_pdq_hex
from stanch.signals.registry import Md5Signal, PdqSignal, Sha256Signal, VpdqSignal
from stanch.signals.types import ImageSignals, MediaSignals, VideoSignals
from stanch.store.models import FRAME_ORIGINAL


@dataclass(slots=True)
class PdqRow:
    """One PDQ hash of an image entry, named by its view; ``indexed`` ones are looked up by matching."""

    role: str
    pdq: bytes
    quality: int | None
    indexed: bool


@dataclass(slots=True)
class FrameRow:
    """One video frame's PDQ hash at ``ts`` seconds, and the views the bank keeps of it (``role`` names
    the view; all are indexed: ``stanch.signals.frame_views.bank_views``)."""

    pdq: bytes
    quality: int
    ts: float
    views: tuple[PdqRow, ...] = ()


def frames_from_rows(rows: Iterable[tuple[str, bytes, int, float]]) -> list[FrameRow]:
    """Frames from one video's ``video_frames`` rows ``(view, pdq, quality, ts)`` read in id order:
    an ``original`` row starts a frame, the rows after it are its views."""
    frames: list[FrameRow] = []
    for view, pdq, quality, ts in rows:
        if view == FRAME_ORIGINAL or not frames:
            frames.append(FrameRow(bytes(pdq), quality, float(ts)))
        else:
            frames[-1].views += (PdqRow(view, bytes(pdq), quality, True),)
    return frames


@dataclass(slots=True)
class Provenance:
    """Where an entry came from. ``external_list``/``external_id`` name it in a partner's list, which
    lets a later import of that list recognise it (and withdraw it when the partner does)."""

    source: str | None = None
    request_id: int | None = None
    external_list: str | None = None
    external_id: str | None = None
    expires: datetime | None = None
    trust: str | None = None
    """``block`` or ``review``; None takes the import's trust, else the bank's."""


@dataclass(slots=True)
class NewEntry:
    """An entry to add: its signals (any subset) and its provenance."""

    kind: str = "image"
    pdq: bytes | None = None
    quality: int | None = None
    md5: str | None = None
    sha256: str | None = None
    duration: float | None = None
    hashes: tuple[PdqRow, ...] = ()
    frames: tuple[FrameRow, ...] = ()
    provenance: Provenance = field(default_factory=Provenance)

    @property
    def key(self) -> tuple[str, str] | None:
        """The partner's name for this entry, if it has one."""
        p = self.provenance
        return (p.external_list, p.external_id) if p.external_list and p.external_id else None


def entry_from_signals(signals: MediaSignals, provenance: Provenance | None = None) -> NewEntry:
    """An entry holding everything ``stanch hash`` computed for one file."""
    provenance = provenance or Provenance()
    if isinstance(signals, VideoSignals):
        frames = tuple(
            FrameRow(parse_pdq_hex(f.pdq), f.quality, f.ts,
                     tuple(PdqRow(view, parse_pdq_hex(pdq), quality, True)
                           for view, pdq, quality in VpdqSignal.index_views(f)))
            for f in signals.frames
        )
        return NewEntry(
            kind="video",
            md5=signals.md5,
            sha256=signals.sha256,
            duration=signals.duration,
            frames=frames,
            provenance=provenance,
        )
    return NewEntry(
        kind="image",
        pdq=parse_pdq_hex(signals.pdq),
        quality=signals.quality,
        md5=signals.md5,
        sha256=signals.sha256,
        hashes=image_hash_rows(signals),
        provenance=provenance,
    )


def image_hash_rows(signals: ImageSignals) -> tuple[PdqRow, ...]:
    """Every PDQ of an image (dihedral and views), marked ``indexed`` as the PDQ signal type says."""
    return tuple(PdqRow(view, parse_pdq_hex(hex_hash), quality, indexed)
                 for view, hex_hash, quality, indexed in PdqSignal.index_rows(signals))


def entry_from_hashes(
    *,
    pdq: str | None = None,
    quality: int | None = None,
    md5: str | None = None,
    sha256: str | None = None,
    kind: str = "image",
    provenance: Provenance | None = None,
) -> NewEntry:
    """An entry from bare hashes (a partner's list): a PDQ is indexed unless its quality is known to
    be below ``MIN_QUALITY`` (lists rarely say; the partner vouches for what they share)."""
    if pdq is None and md5 is None and sha256 is None:
        raise ValueError("an entry needs at least one of pdq, md5, sha256")
    pdq_bytes = parse_pdq_hex(pdq) if pdq is not None else None
    md5 = Md5Signal.validate(md5) if md5 is not None else None
    sha256 = Sha256Signal.validate(sha256) if sha256 is not None else None
    hashes: tuple[PdqRow, ...] = ()
    if pdq_bytes is not None:
        hashes = (PdqRow("original", pdq_bytes, quality, PdqSignal.usable(quality)),)
    return NewEntry(
        kind=kind,
        pdq=pdq_bytes,
        quality=quality,
        md5=md5,
        sha256=sha256,
        hashes=hashes,
        provenance=provenance or Provenance(),
    )
