"""Which entries an index shard holds: entry ``id % count == index``.

By entry, not by bank, so that one large bank spreads over every shard; an entry's hashes, frames and
digests stay together on one shard, which is what lets each shard judge its own videos and the front
end decide the union of the shards' hits as one engine would (``stanch.matching.shards``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` of ``count`` (0-based)."""

    index: int
    count: int

    def __post_init__(self) -> None:
        if not 0 <= self.index < self.count:
            raise ValueError(f"shard {self.index} of {self.count} does not exist (0 to {self.count - 1})")

    def owns(self, entry_id: int) -> bool:
        return entry_id % self.count == self.index

    def mask(self, entry_ids: np.ndarray) -> np.ndarray:
        return np.asarray(entry_ids) % self.count == self.index

    @property
    def name(self) -> str:
        return f"shard-{self.index}-of-{self.count}"
