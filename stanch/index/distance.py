"""256-bit hashes as four 64-bit words, and their Hamming distances.

The index keeps every PDQ hash as a row of four ``uint64`` words: the same 32 bytes as the packed hash,
but an XOR and a popcount then touch 4 machine words instead of 32 bytes.
"""

from __future__ import annotations

import numpy as np

from stanch.signals.pdq import PDQ_BITS, parse_pdq_hex

HASH_BYTES = PDQ_BITS // 8
WORDS = HASH_BYTES // 8


def hash_words(hashes: np.ndarray) -> np.ndarray:
    """View ``(n, 32)`` uint8 hashes (packed as ``np.packbits`` does) as ``(n, 4)`` uint64 words.

    No copy is made when the array is already C-contiguous. Raises ValueError naming the problem, since
    these arrays come from callers (the store, the matcher) that may pass the wrong shape or type.
    """
    if not isinstance(hashes, np.ndarray):
        raise ValueError("hashes must be a numpy array of shape (n, 32) and dtype uint8")
    if hashes.dtype != np.uint8 or hashes.ndim != 2 or hashes.shape[1] != HASH_BYTES:
        raise ValueError(
            f"hashes must have shape (n, {HASH_BYTES}) and dtype uint8, got {hashes.dtype} {hashes.shape}"
        )
    return np.ascontiguousarray(hashes).view(np.uint64)


def query_words(query: bytes | str | np.ndarray) -> np.ndarray:
    """One query hash (32 bytes, a hex string, or a ``(32,)`` uint8 array) as ``(1, 4)`` uint64 words."""
    if isinstance(query, str):
        query = parse_pdq_hex(query)
    if isinstance(query, bytes | bytearray):
        if len(query) != HASH_BYTES:
            raise ValueError(f"a PDQ hash has {HASH_BYTES} bytes; this one has {len(query)}")
        return np.frombuffer(bytes(query), dtype=np.uint64).reshape(1, WORDS)
    return hash_words(np.asarray(query).reshape(1, -1))


def popcount_rows(xored: np.ndarray) -> np.ndarray:
    """Bits set in each row of ``(..., 4)`` uint64 words, as uint16 (256 does not fit a uint8).

    Adding the four word counts by hand is about twice as fast as ``sum(axis=-1)``.
    """
    bits = np.bitwise_count(xored)
    total = bits[..., 0].astype(np.uint16)
    total += bits[..., 1]
    total += bits[..., 2]
    total += bits[..., 3]
    return total
