"""Fixtures shared by every layer's tests: the conformance data and the databases."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def in_ci() -> bool:
    """CI sets CI=true; there a missing service or data set is a failure, never a skip."""
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def conformance_dir() -> Path | None:
    """Meta's public PDQ/vPDQ sample media: ``STANCH_CONFORMANCE_DIR`` or ../shared/conformance."""
    path = Path(os.environ.get("STANCH_CONFORMANCE_DIR", REPO.parent / "shared" / "conformance"))
    return path if path.is_dir() else None


@pytest.fixture(scope="session")
def conformance() -> Path:
    """The conformance folder; skipped locally when absent, a failure under CI=true."""
    path = conformance_dir()
    if path is None:
        message = "conformance data not found: set STANCH_CONFORMANCE_DIR or put shared/ beside the repo"
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def require():
    """``require(ok, message)``: skip locally, fail under CI=true, when a tool or service is missing.

    A fixture so that conftest files in subfolders (which cannot import this one) can use it.
    """

    def check(ok: bool, message: str) -> None:
        if not ok:
            if in_ci():
                pytest.fail(message)
            pytest.skip(message)

    return check
