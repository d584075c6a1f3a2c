"""Every conformance picture's ``stanch hash`` record, pinned: speed work must not move a single bit.

``data/conformance-records.json`` holds, for each still picture of the conformance folder, a digest
(the first 32 hex digits of SHA-256 over the record as JSON with sorted keys, without ``path``) of
its record hashed for a query and for a bank, as ``stanch hash`` printed them on 3 December 2026
before the sampling bands moved to C and the views stopped copying JPEG luma to float32, then
regenerated once when windows narrower than 30 % of a side were dropped (a change meant to change the
views; the new digests were checked equal to those of that change's own branch, before the speed work
was merged with it). A change
that is meant to change hashes regenerates the file in the same commit, and says so::

    python -c "import tests.signals.test_pinned_records as t; t.write_pins()"
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from stanch.signals import hash_media, signals_record
from stanch.signals.types import PURPOSES, Purpose

PINS = Path(__file__).with_name("data") / "conformance-records.json"


def digest(record: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()[:32]


def record_of(path: Path, purpose: Purpose) -> dict[str, Any]:
    return signals_record(hash_media(path.read_bytes(), purpose=purpose))


def write_pins() -> None:  # pragma: no cover - run by hand, see the module docstring
    from tests.conftest import conformance_dir

    folder = conformance_dir()
    assert folder is not None, "set STANCH_CONFORMANCE_DIR"
    pinned = json.loads(PINS.read_text())
    fresh = {name: {p: digest(record_of(folder / name, p)) for p in PURPOSES} for name in pinned}
    PINS.write_text(json.dumps(fresh, indent=0) + "\n")


@pytest.mark.parametrize("purpose", PURPOSES)
def test_every_conformance_picture_hashes_to_its_pinned_record(conformance: Path, purpose: Purpose) -> None:
    pinned = json.loads(PINS.read_text())
    assert len(pinned) >= 50
    moved = [name for name, digests in pinned.items()
             if digest(record_of(conformance / name, purpose)) != digests[purpose]]
    assert moved == []
