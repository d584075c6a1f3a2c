"""scripts/fuzz.py, run briefly: its decoders and parsers targets must find nothing (a longer run is
the script's own job); keeps the script working as the code changes."""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "fuzz.py"


@pytest.fixture(scope="module")
def fuzz():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("stanch_fuzz", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("target", ["decoders", "parsers"])
def test_the_fuzz_targets_find_nothing_in_a_short_run(fuzz, target: str) -> None:  # type: ignore[no-untyped-def]
    fuzz.TARGETS[target](60, time.monotonic() + 60)
