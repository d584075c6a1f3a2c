"""The Ray Data engine gives exactly the local engine's results on the same input."""

from __future__ import annotations

from pathlib import Path

import pytest

from stanch.store import open_database
from stanch.sweep import HashSettings, LocalPool, RayData, SweepOptions, SweepRun
from tests.sweep.conftest import bank_seed

pytestmark = pytest.mark.ray


def test_ray_engine_matches_the_local_engine(ray_runtime: None, catalog: Path, tmp_path: Path) -> None:
    (catalog / "broken.jpg").write_bytes(b"not a picture")
    db = open_database(f"sqlite:///{tmp_path / 'ray.db'}")
    bank_seed(db, 2)
    bank_seed(db, 6)
    local = SweepRun(db, catalog, LocalPool(HashSettings(), workers=2), SweepOptions(batch=4))
    local_lines = list(local.lines())
    ray = SweepRun(db, catalog, RayData(HashSettings()), SweepOptions(batch=4))
    ray_lines = list(ray.lines())
    db.dispose()
    assert ray_lines == local_lines
    assert len(ray_lines) == 3 and sum(1 for line in ray_lines if "error" in line) == 1
    assert (ray.summary.hashed, ray.summary.matched, ray.summary.failed) == (8, 2, 1)
