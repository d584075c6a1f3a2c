"""A brute-force reference the index is checked against: plain Python integers, no numpy tricks."""

from __future__ import annotations

import numpy as np

from stanch.signals.pdq import hamming

HASH_BYTES = 32


def random_hashes(rng: np.random.Generator, count: int) -> np.ndarray:
    return rng.integers(0, 256, (count, HASH_BYTES), dtype=np.uint8)


def flip_bits(hash_row: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """A copy of one (32,) hash with the given bit positions (0..255, distinct) flipped."""
    bits = np.unpackbits(hash_row)
    bits[positions] ^= 1
    return np.packbits(bits)


def near(rng: np.random.Generator, hash_row: np.ndarray, distance: int) -> np.ndarray:
    """A hash exactly ``distance`` bits away from ``hash_row``."""
    return flip_bits(hash_row, rng.choice(256, size=distance, replace=False))


def spread(hash_row: np.ndarray, distance: int) -> np.ndarray:
    """A hash ``distance`` bits away with the flips dealt round-robin over the 16 chunks of 16 bits.

    The hardest case for multi-index hashing: every chunk differs by ``distance // 16`` bits or more,
    so only probes at exactly the pigeonhole radius find it.
    """
    positions = [16 * (k % 16) + k // 16 for k in range(distance)]
    return flip_bits(hash_row, np.array(positions, dtype=np.intp))


def expected(
    bank: dict[int, list[bytes]], queries: np.ndarray, threshold: int
) -> list[tuple[int, int, int, int]]:
    """(query, id, best distance, ordinal of the closest hash), ordered by query, distance, id."""
    found = []
    for query_number, query in enumerate(queries):
        query_bytes = query.tobytes()
        for entry, hashes in bank.items():
            distance, ordinal = min((hamming(query_bytes, h), k) for k, h in enumerate(hashes))
            if distance <= threshold:
                found.append((query_number, entry, distance, ordinal))
    return sorted(found, key=lambda hit: (hit[0], hit[2], hit[1]))


def as_tuples(hits: object) -> list[tuple[int, int, int, int]]:
    columns = (hits.query, hits.id, hits.distance, hits.ordinal)  # type: ignore[attr-defined]
    return list(zip(*(column.tolist() for column in columns), strict=True))
