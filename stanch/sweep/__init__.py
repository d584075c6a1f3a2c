"""Sweeps: find every copy of banked content in a platform's existing catalog.

``SweepRun`` (``stanch.sweep.run``) lists a source (``sources``), has its items hashed by an executor
(``executors``: a local process pool or Ray Data; the work itself is ``hashing``), matches them in this
process (``engines``), stores the catalog's hashes and the sweep's checkpoint (``catalog``) and attaches
the copies it finds to takedown requests (``copies``).

The names below are loaded from their modules on first use: ``stanch sweep`` starts its workers
hashing (``LocalPool.start``) before the database layer (SQLAlchemy, the store, the desk: about half a
second) is imported, and importing ``stanch.sweep.executors`` must not import it first.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stanch.sweep.executors import Executor, LocalPool, RayData
    from stanch.sweep.hashing import HashSettings
    from stanch.sweep.run import SweepError, SweepOptions, SweepRun, SweepSummary
    from stanch.sweep.sources import SourceError, list_items

_MODULES = {"Executor": "executors", "LocalPool": "executors", "RayData": "executors",
            "HashSettings": "hashing", "SweepError": "run", "SweepOptions": "run", "SweepRun": "run",
            "SweepSummary": "run", "SourceError": "sources", "list_items": "sources"}

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


def __getattr__(name: str) -> Any:
    if name not in _MODULES:
        raise AttributeError(f"module 'stanch.sweep' has no attribute {name!r}")
    return getattr(importlib.import_module(f"stanch.sweep.{_MODULES[name]}"), name)
