"""PDQ hashes: computing them with Meta's reference code, and the hex form partners exchange.

PDQ is computed by ``pdqhash`` (Meta's C++ implementation) so that Stanch's hashes compare with every
other platform's. The hex form is the one ThreatExchange, StopNCII and HMA use: the 256 bits packed
most-significant-bit first, 64 lowercase hex digits.

Everything here is a pure function of its arguments.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PDQ_BITS = 256
PDQ_HEX_LENGTH = PDQ_BITS // 4
MATCH_DISTANCE = 31
"""Meta's recommended match threshold: two PDQ hashes within 31 bits of 256 show the same picture."""
MIN_QUALITY = 50
"""Below this quality (flat or featureless pictures) Meta says a PDQ hash is not trustworthy alone."""

DIHEDRAL_NAMES = (
    "original",
    "rotate90",
    "rotate180",
    "rotate270",
    "flipx",
    "flipy",
    "flip_plus1",
    "flip_minus1",
)
"""The order in which ``pdqhash.compute_dihedral`` returns the 8 rotations and flips."""

_HEX_DIGITS = frozenset("0123456789abcdef")


@dataclass(frozen=True)
class PdqHash:
    """One PDQ hash with its quality (0-100): how much detail the picture had to hash."""

    hex: str
    quality: int


def bits_to_hex(bits: np.ndarray) -> str:
    """Pack pdqhash's 256 bit array into the exchange hex form (most significant bit first)."""
    return np.packbits(bits.astype(np.uint8)).tobytes().hex()


def parse_pdq_hex(text: str) -> bytes:
    """Validate a PDQ hash given as hex and return its 32 bytes.

    Raises ValueError with a message a partner can act on: hashes arrive from other platforms'
    exports and hand-typed API calls, so the length and alphabet are checked here once.
    """
    if not isinstance(text, str):
        raise ValueError(f"a PDQ hash must be a string of {PDQ_HEX_LENGTH} hex digits")
    value = text.strip().lower()
    if len(value) != PDQ_HEX_LENGTH:
        raise ValueError(f"a PDQ hash has {PDQ_HEX_LENGTH} hex digits; this one has {len(value)}")
    if not _HEX_DIGITS.issuperset(value):
        raise ValueError("a PDQ hash may contain only the hex digits 0-9 and a-f")
    return bytes.fromhex(value)


def hamming(a: bytes, b: bytes) -> int:
    """Number of differing bits between two equal-length hashes."""
    return (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).bit_count()


def hamming_hex(a: str, b: str) -> int:
    """Hamming distance between two hashes in hex form."""
    return hamming(bytes.fromhex(a), bytes.fromhex(b))


def pdq_of_rgb(rgb: np.ndarray) -> PdqHash:
    """PDQ of an RGB image held as a ``(height, width, 3)`` uint8 array."""
    import pdqhash  # Meta's C++: only the reference and tests hash with it, not stanch hash

    bits, quality = pdqhash.compute(_contiguous(rgb))
    return PdqHash(bits_to_hex(bits), int(quality))


def pdq_dihedral_of_rgb(rgb: np.ndarray) -> tuple[tuple[str, ...], int]:
    """The 8 dihedral PDQ hashes (order of ``DIHEDRAL_NAMES``) and their shared quality.

    One DCT serves all eight, so this costs little more than a single hash; the first is the plain PDQ.
    """
    import pdqhash

    hashes, quality = pdqhash.compute_dihedral(_contiguous(rgb))
    return tuple(bits_to_hex(h) for h in hashes), int(quality)


def _contiguous(rgb: np.ndarray) -> np.ndarray:
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"PDQ needs an RGB uint8 array of shape (h, w, 3), got {rgb.dtype} {rgb.shape}")
    return np.ascontiguousarray(rgb)
