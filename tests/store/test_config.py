"""Where Stanch keeps its data when nothing, or nothing usable, is configured."""

from __future__ import annotations

import pytest

from stanch.config import DEFAULT_DATABASE_URL, database_url


def test_unset_or_empty_database_url_means_the_embedded_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STANCH_DATABASE_URL", raising=False)
    assert database_url() == DEFAULT_DATABASE_URL
    monkeypatch.setenv("STANCH_DATABASE_URL", "")
    assert database_url() == DEFAULT_DATABASE_URL
    monkeypatch.setenv("STANCH_DATABASE_URL", "postgresql://127.0.0.1:5432/test")
    assert database_url() == "postgresql://127.0.0.1:5432/test"
