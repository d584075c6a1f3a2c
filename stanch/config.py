"""Settings read from the environment, in one place so every entry point agrees on them."""

from __future__ import annotations

import os

DEFAULT_DATABASE_URL = "sqlite:///./stanch.db"


class ConfigError(ValueError):
    """A setting that cannot work: the message starts with the variable (or what stands for it) and
    says what is wrong and what to put instead. ``stanch`` prints it as one line and exits with 2."""


def database_url() -> str:
    """The database Stanch uses: ``STANCH_DATABASE_URL``, or a SQLite file in the working directory
    (also when the variable is set but empty, as ``STANCH_DATABASE_URL= stanch serve`` leaves it)."""
    return os.environ.get("STANCH_DATABASE_URL") or DEFAULT_DATABASE_URL
