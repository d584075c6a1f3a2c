"""Exact in-memory Hamming index over 256-bit PDQ hashes, with live adds and removals.

``HammingIndex`` is the whole public interface; ``Hits`` and ``Match`` are what it returns. Pure: no
I/O, no database, no global state. See hamming_index.py for how it works and what it guarantees.
"""

from stanch.index.hamming_index import HammingIndex, IndexStats
from stanch.index.hits import Hits, Match

__all__ = ["HammingIndex", "Hits", "IndexStats", "Match"]
