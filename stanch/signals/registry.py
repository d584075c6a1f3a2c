"""Signal types: one class per kind of hash, saying everything about it in one place.

python-threatexchange's ``SignalType`` is the model. Each type knows the content it applies to, how to
validate (and normalise) one of its values, how to compare two (a distance in bits; exact digests are
0 or no match), how it is indexed (``index``: a Hamming index of 256-bit hashes, or an exact table) and
which views of the content it indexes when banking and looks up when querying. The rest of Stanch asks
the registry (``SIGNAL_TYPES``, ``signal_type``) instead of deciding these things itself: the store
marks the views to index with ``PdqSignal.index_rows``, matching builds its lookups with
``query_views`` and ranks signals with ``rank``, the desk and the exchange formats validate with
``validate``.

Pure: no database, no index implementation (those are layers above; ``index`` only names the kind).
"""

from __future__ import annotations

from typing import ClassVar, Literal

from stanch.signals.frame_views import bank_views, query_frame_hashes
from stanch.signals.pdq import DIHEDRAL_NAMES, MIN_QUALITY, hamming, parse_pdq_hex
from stanch.signals.robust import bank_hashes, query_hashes
from stanch.signals.types import FrameHash, ImageSignals

ContentType = Literal["photo", "video"]
IndexKind = Literal["hamming", "exact"]


class SignalType:
    """What every signal type says about itself (class attributes and class methods; never built)."""

    name: ClassVar[str]
    content_types: ClassVar[tuple[ContentType, ...]]
    index: ClassVar[IndexKind]
    rank: ClassVar[int]
    """Of two matches of the same entry at the same distance, the lower rank is the stronger evidence."""

    @classmethod
    def validate(cls, value: object) -> str:
        """The normalised form of ``value``, or ``ValueError`` saying what is wrong."""
        raise NotImplementedError

    @classmethod
    def compare(cls, a: str, b: str) -> int:
        """The distance between two valid values (bits; 0 for the same)."""
        raise NotImplementedError


class DigestSignal(SignalType):
    """A cryptographic digest of the file's bytes: only an identical file matches."""

    index = "exact"
    content_types = ("photo", "video")
    hex_length: ClassVar[int]
    label: ClassVar[str]

    @classmethod
    def validate(cls, value: object) -> str:
        if not isinstance(value, str):
            raise ValueError(f"an {cls.label} digest must be a string of {cls.hex_length} hex digits")
        text = value.strip().lower()
        if len(text) != cls.hex_length or not _HEX.issuperset(text):
            raise ValueError(f"an {cls.label} digest has {cls.hex_length} hex digits (0-9, a-f); "
                             f"got {value!r:.80}")
        return text

    @classmethod
    def compare(cls, a: str, b: str) -> int:
        """0 for the same digest; any other pair is no match at all (``PDQ_BITS + 1``)."""
        return 0 if a == b else 257


class Sha256Signal(DigestSignal):
    name, label, hex_length, rank = "sha256", "SHA-256", 64, 0


class Md5Signal(DigestSignal):
    name, label, hex_length, rank = "md5", "MD5", 32, 1


class PdqSignal(SignalType):
    """Meta's PDQ of a picture: 256 bits compared by Hamming distance, with its views (dihedral turns
    and Stanch's robustness views, ``stanch.signals.robust``)."""

    name, content_types, index, rank = "pdq", ("photo",), "hamming", 2

    @classmethod
    def validate(cls, value: object) -> str:
        if not isinstance(value, str):
            raise ValueError("a PDQ hash must be a string of 64 hex digits")
        return parse_pdq_hex(value).hex()

    @classmethod
    def compare(cls, a: str, b: str) -> int:
        return hamming(bytes.fromhex(a), bytes.fromhex(b))

    @staticmethod
    def usable(quality: int | None) -> bool:
        """Whether a hash of this quality may match alone (unknown quality: the sender vouches for it)."""
        return quality is None or quality >= MIN_QUALITY

    @staticmethod
    def query_views(signals: ImageSignals) -> tuple[str, ...]:
        """The hashes an upload is looked up by (``robust.query_hashes``)."""
        return query_hashes(signals)

    @staticmethod
    def index_rows(signals: ImageSignals) -> list[tuple[str, str, int, bool]]:
        """Every PDQ of a picture as ``(view, hex, quality, indexed)``: the views a bank indexes
        (``robust.bank_hashes``) marked, a hash appearing under two names (a symmetric picture) once."""
        named = list(zip(DIHEDRAL_NAMES, signals.pdq_dihedral, strict=False)) or [("original", signals.pdq)]
        qualities = [signals.quality] * len(named)
        named += [(v.name, v.pdq) for v in signals.variants]
        qualities += [v.quality for v in signals.variants]
        wanted = set(bank_hashes(signals))
        rows = []
        for (view, hex_hash), quality in zip(named, qualities, strict=True):
            rows.append((view, hex_hash, quality, hex_hash in wanted))
            wanted.discard(hex_hash)
        return rows


class VpdqSignal(SignalType):
    """PDQ of video frames in time order, matched by the video rule (``stanch.matching.video``)."""

    name, content_types, index, rank = "vpdq", ("video",), "hamming", 3

    @classmethod
    def validate(cls, value: object) -> str:
        return PdqSignal.validate(value)

    @classmethod
    def compare(cls, a: str, b: str) -> int:
        return hamming(bytes.fromhex(a), bytes.fromhex(b))

    @staticmethod
    def query_views(frame: FrameHash) -> tuple[str, ...]:
        """The hashes a query frame is looked up by: its own and those of its views."""
        return query_frame_hashes(frame)

    @staticmethod
    def index_views(frame: FrameHash) -> list[tuple[str, str, int]]:
        """The views a banked frame is indexed with besides its own hash, as ``(view, hex, quality)``."""
        return [(v.name, v.pdq, v.quality) for v in bank_views(frame)]


_HEX = frozenset("0123456789abcdef")
SIGNAL_TYPES: dict[str, type[SignalType]] = {
    t.name: t for t in (Sha256Signal, Md5Signal, PdqSignal, VpdqSignal)
}
"""Every signal type, by name, strongest evidence first."""
DIGESTS: tuple[type[DigestSignal], ...] = (Md5Signal, Sha256Signal)
"""The exact digests, in the order matching looks them up."""


def signal_type(name: str) -> type[SignalType]:
    """The signal type called ``name`` (``ValueError`` naming the known ones otherwise)."""
    try:
        return SIGNAL_TYPES[name]
    except KeyError:
        raise ValueError(f"unknown signal type {name!r}: use one of {', '.join(SIGNAL_TYPES)}") from None
