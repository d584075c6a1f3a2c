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


OFF = ("0", "false", "no", "off")
"""What turns a ``STANCH_*`` switch off (in any case); anything else set turns it on."""


def switch(environ: Mapping[str, str], name: str, default: bool) -> bool:
    """An on/off ``STANCH_*`` variable: unset or empty gives ``default``; ``OFF`` is off, else on."""
    text = environ.get(name, "").strip().lower()
    return default if not text else text not in OFF


def number_setting(environ: Mapping[str, str], name: str, default: float, *, whole: bool = False,
                   unit: str = "", off: str | None = None) -> float:
    """A numeric ``STANCH_*`` variable: a finite number above 0 (``default`` when unset or empty), or,
    when ``off`` says what 0 means, also 0; ``whole`` asks for an integer. ValueError naming the
    variable otherwise: the one reader of numeric settings, so they all refuse the same values."""
    text = environ.get(name, "").strip()
    kind = ("a whole number" if whole else "a number") + (f" of {unit}" if unit else "")
    note = f" ({off})" if off else ""
    try:
        value = float(int(text)) if whole and text else float(text) if text else default
    except ValueError:
        raise ValueError(f"{name} must be {kind}{note}, not {text!r}") from None
    if not math.isfinite(value) or value < 0 or (value == 0 and not off):
        least = "0 or more" if off else "more than 0"
        raise ValueError(f"{name} must be {least}{f' {unit}' if unit else ''}{note}, not {text!r}")
    return value


def hours_setting(environ: Mapping[str, str], name: str, default: float, *, off: str | None = None) -> float:
    """A ``STANCH_*_HOURS`` variable (``number_setting`` in hours)."""
    return number_setting(environ, name, default, unit="hours", off=off)

