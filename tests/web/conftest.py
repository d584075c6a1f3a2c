"""Fixtures for the tests of stanch-hash.js: Node for the arithmetic, one headless Chromium per session."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from browser_harness import BrowserSession, browser_session, chromium_path


@pytest.fixture(scope="session")
def node(require: Callable[[bool, str], None]) -> str:
    """The ``node`` executable (Node 20 or later)."""
    path = shutil.which("node")
    require(path is not None, "node not found: install Node.js 20 or later")
    assert path is not None
    return path


@pytest.fixture(scope="session")
def browser(
    require: Callable[[bool, str], None], conformance: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BrowserSession]:
    """Debian's chromium, launched once per test session, with the harness page open."""
    require(chromium_path() is not None, "chromium not found: install Debian's package 'chromium'")
    with browser_session(conformance, tmp_path_factory.mktemp("media")) as session:
        yield session
