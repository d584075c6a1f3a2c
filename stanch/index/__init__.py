"""Exact in-memory Hamming index over 256-bit PDQ hashes, with live adds and removals.

``HammingIndex`` is the public interface; ``Hits`` and ``Match`` are what it returns; ``Segment`` (an
immutable block of rows with its ``MultiIndex`` tables) is exposed so that index snapshots
(``stanch.matching.snapshot``) can write and map its arrays. Pure: no
I/O, no database, no global state. See hamming_index.py for how it works and what it guarantees.
"""

from stanch.index.hamming_index import HammingIndex, IndexStats, index_segment
from stanch.index.hits import Hits, Match
from stanch.index.multi_index import MultiIndex
from stanch.index.segment import Segment

__all__ = ["HammingIndex", "Hits", "IndexStats", "Match", "MultiIndex", "Segment", "index_segment"]
