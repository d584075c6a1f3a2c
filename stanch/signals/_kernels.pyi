"""Types of the C extension built from _kernels.c (the hot loops of hashing)."""

from collections.abc import Sequence
from typing import Any

def sample_grids(
    plane: Any, row_starts: Any, row_weights: Any, columns: Sequence[tuple[Any, Any, int]], out: Any
) -> list[int]: ...
def leading_shares(lines: Any, tolerance: float, minimum: float) -> list[float]: ...
def edge_profile(plane: Any, out: Any) -> None: ...
