"""A generated catalog, banks holding some of its pictures, and a helper that runs a sweep in-process."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from stanch.desk.decisions import decide
from stanch.desk.intake import file_request, validate
from stanch.signals import hash_media, signals_record
from stanch.store import Database, add_entry, create_bank, entry_from_signals, get_bank, utcnow
from stanch.store.desk_models import TakedownRequest
from stanch.sweep import HashSettings, LocalPool, SweepOptions, SweepRun, SweepSummary
from tests.api.conftest import encoded, picture
from tests.desk.factory import request_body

SEEDS = range(1, 9)


def catalog_picture(seed: int) -> np.ndarray:
    return picture(seed, (256, 192))


def write_catalog(folder: Path, seeds: range = SEEDS) -> dict[int, Path]:
    """One JPEG per seed (``item-<seed>.jpg``), as a platform would store uploads."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for seed in seeds:
        path = folder / f"item-{seed}.jpg"
        path.write_bytes(encoded(catalog_picture(seed), "JPEG", quality=85))
        paths[seed] = path
    return paths


def banked_record(seed: int) -> dict[str, Any]:
    """The hashes of the original (PNG) of a catalog picture: what a bank or a requester holds."""
    return signals_record(hash_media(encoded(catalog_picture(seed))))


def bank_seed(db: Database, seed: int, bank: str = "ncii") -> int:
    from stanch.signals import signals_from_record

    with db.write() as session:
        try:
            target = get_bank(session, bank)
        except LookupError:
            target = create_bank(session, bank)
        return add_entry(session, target, entry_from_signals(signals_from_record(banked_record(seed))))


def file_case(db: Database, seed: int) -> str:
    """A takedown request holding the hashes of picture ``seed``; returns its number."""
    record = banked_record(seed)
    body = request_body(hashes=[{"pdq": record["pdq"], "quality": record["quality"], "md5": record["md5"]}])
    with db.write() as session:
        receipt, _ = file_request(session, validate(body), now=utcnow())
    return receipt.id


def remove_case(db: Database, number: str) -> None:
    from sqlalchemy import select

    with db.write() as session:
        request = session.scalar(select(TakedownRequest).where(TakedownRequest.public_id == number))
        assert request is not None
        decide(session, request, "remove", "published without consent", actor="user:reviewer", now=utcnow())


@dataclass
class Swept:
    lines: list[dict[str, Any]]
    summary: SweepSummary

    @property
    def matched(self) -> set[str]:
        return {Path(line["path"]).name for line in self.lines if line.get("matched")}

    @property
    def errors(self) -> dict[str, str]:
        return {line["path"]: line["error"] for line in self.lines if "error" in line}


def sweep(db: Database, source: Path, *, settings: HashSettings | None = None, **options: Any) -> Swept:
    run = SweepRun(db, source, LocalPool(settings or HashSettings(), workers=1), SweepOptions(**options))
    lines = list(run.lines())
    return Swept(lines, run.summary)


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    folder = tmp_path / "catalog"
    write_catalog(folder)
    return folder


def picture_jpeg(seed: int) -> bytes:
    out = Image.fromarray(catalog_picture(seed))
    import io

    buffer = io.BytesIO()
    out.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()
