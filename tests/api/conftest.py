"""An API client on a fresh database (SQLite and PostgreSQL), with keys for each scope."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from httpx import Response
from PIL import Image

from stanch.api.app import create_app
from stanch.runtime import ApiLimits
from stanch.store import Database, create_key

MIRROR_VIEWS = {"flipy", "mirrored"}
"""Banked views that match a left-right mirror: Meta's dihedral "flipy" (a flip about the y axis) or
the mirrored-pixels view of stanch.signals.robust."""
UPLOAD_LIMIT = 2 * 2**20
"""The tests' upload limit: small, so the 413 test sends little."""
JSON_LIMIT = 2**20
"""The tests' limit on JSON bodies."""


@dataclass
class Api:
    """A test client and a key per scope (``keys["match"]`` ...), and the database behind them."""

    client: TestClient
    db: Database
    keys: dict[str, str]

    def headers(self, scope: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[scope]}"}

    def post(self, path: str, scope: str, headers: dict[str, str] | None = None, **kwargs: Any) -> Response:
        return self.client.post(path, headers={**self.headers(scope), **(headers or {})}, **kwargs)

    def create_bank(self, name: str, **settings: object) -> None:
        response = self.client.post(
            "/v1/banks", json={"name": name, **settings}, headers=self.headers("bank")
        )
        assert response.status_code == 201, response.text


@pytest.fixture
def api(database: Database) -> Iterator[Api]:
    with database.write() as session:
        keys = {
            scope: create_key(session, f"test {scope}", [scope])[1] for scope in ("match", "bank", "desk")
        }
    limits = ApiLimits(UPLOAD_LIMIT, JSON_LIMIT)
    app = create_app(db=database, poll_interval=0.05, key_cache_seconds=0, limits=limits)
    with TestClient(app) as client:
        yield Api(client, database, keys)


def picture(seed: int = 1, size: tuple[int, int] = (320, 240)) -> np.ndarray:
    """A photo-like RGB picture: smooth random shapes, different for each seed."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, (size[1] // 16 + 1, size[0] // 16 + 1, 3), dtype=np.uint8)
    image = Image.fromarray(coarse).resize(size, Image.Resampling.BICUBIC)
    return np.asarray(image)


def encoded(rgb: np.ndarray, fmt: str = "PNG", **options: object) -> bytes:
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, fmt, **options)
    return out.getvalue()
