"""What a search returns: for each query and each entry within the threshold, its best distance."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np


class Match(NamedTuple):
    """One entry within the threshold of a query.

    ``ordinal`` says which of the entry's hashes was closest: its position in the order the hashes
    were given to ``add``/``from_arrays`` (a dihedral variant, a video frame, ...).
    """

    id: int
    distance: int
    ordinal: int


@dataclass(frozen=True, slots=True)
class Hits:
    """Parallel arrays, one element per (query row, entry) pair within the threshold.

    ``query`` is the row number in the queries searched, ``id`` the entry, ``distance`` the smallest
    distance between that query and any of the entry's hashes, ``ordinal`` which hash gave it (lowest
    ordinal on a tie). Ordered by query, then distance, then id.
    """

    query: np.ndarray
    id: np.ndarray
    distance: np.ndarray
    ordinal: np.ndarray

    def __len__(self) -> int:
        return len(self.id)

    def best(self, groups: np.ndarray | None = None) -> Hits:
        """Keep, per group of queries and entry, only the closest hit.

        ``groups[q]`` names the group of query row ``q`` (default: all queries form one group). The
        matcher searches all the hashes of an upload at once (its PDQ, its dihedral and trimmed
        variants) and wants, for each banked entry, the smallest distance; ``query`` still tells which
        of the upload's hashes matched. Ordered by group, then distance, then id.
        """
        group = np.zeros(len(self), np.int64) if groups is None else np.asarray(groups)[self.query]
        order = np.lexsort((self.ordinal, self.query, self.distance, self.id, group))
        group, ids = group[order], self.id[order]
        first = np.ones(len(order), dtype=bool)
        first[1:] = (group[1:] != group[:-1]) | (ids[1:] != ids[:-1])
        kept = order[first]
        final = kept[np.lexsort((self.id[kept], self.distance[kept], group[first]))]
        return self._take(final)

    def matches(self) -> list[Match]:
        """The hits as Match tuples (for one query, or after ``best``)."""
        return [
            Match(int(i), int(d), int(o))
            for i, d, o in zip(self.id.tolist(), self.distance.tolist(), self.ordinal.tolist(), strict=True)
        ]

    def _take(self, order: np.ndarray) -> Hits:
        return Hits(self.query[order], self.id[order], self.distance[order], self.ordinal[order])
