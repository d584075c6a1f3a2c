"""Sweeps: find every copy of banked content in a platform's existing catalog.

``SweepRun`` (``stanch.sweep.run``) lists a source (``sources``), has its items hashed by an executor
(``executors``: a local process pool or Ray Data; the work itself is ``hashing``), matches them in this
process (``engines``), stores the catalog's hashes and the sweep's checkpoint (``catalog``) and attaches
the copies it finds to takedown requests (``copies``).
"""

from stanch.sweep.executors import Executor, LocalPool, RayData
from stanch.sweep.hashing import HashSettings
from stanch.sweep.run import SweepError, SweepOptions, SweepRun, SweepSummary
from stanch.sweep.sources import SourceError, list_items

__all__ = [
    "Executor",
    "HashSettings",
    "LocalPool",
    "RayData",
    "SourceError",
    "SweepError",
    "SweepOptions",
    "SweepRun",
    "SweepSummary",
    "list_items",
]
