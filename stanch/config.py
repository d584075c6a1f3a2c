"""Settings read from the environment, in one place so every entry point agrees on them."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping

DEFAULT_DATABASE_URL = "sqlite:///./stanch.db"


class ConfigError(ValueError):
    """A setting that cannot work: the message starts with the variable (or what stands for it) and
    says what is wrong and what to put instead. ``stanch`` prints it as one line and exits with 2."""


def database_url() -> str:
    """The database Stanch uses: ``STANCH_DATABASE_URL``, or a SQLite file in the working directory
    (also when the variable is set but empty, as ``STANCH_DATABASE_URL= stanch serve`` leaves it)."""
    return os.environ.get("STANCH_DATABASE_URL") or DEFAULT_DATABASE_URL


def hours_setting(environ: Mapping[str, str], name: str, default: float, *, off: str | None = None) -> float:
    """A ``STANCH_*_HOURS`` variable: a positive number of hours (``default`` when unset or empty), or,
    when ``off`` says what 0 means, also 0; ValueError naming the variable otherwise. The one reader
    of every hours setting, so they all accept and refuse the same values."""
    text = environ.get(name, "").strip()
    allowed = "0 or more" if off else "more than 0"
    note = f" ({off})" if off else ""
    try:
        hours = float(text) if text else default
    except ValueError:
        raise ValueError(f"{name} must be a number of hours{note}, not {text!r}") from None
    if not math.isfinite(hours) or hours < 0 or (hours == 0 and not off):
        raise ValueError(f"{name} must be {allowed} hours{note}, not {text!r}")
    return hours

