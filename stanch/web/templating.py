"""The Jinja environment the pages share, and the filters that turn times into plain words."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from stanch.actions.settings import site_name
from stanch.web.labels import FILTERS, REFUSAL_CHOICES

TEMPLATES = Path(__file__).resolve().parent / "templates"
QUICK_EXIT_URL = "https://www.bbc.co.uk/weather"


def when(value: datetime | str | None) -> str:
    """``Tuesday 24 November 2026, 13:05 UTC``: unambiguous for people in any country."""
    if value is None:
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.strftime("%A %-d %B %Y, %H:%M UTC")


def duration(seconds: int | float) -> str:
    """``1 day 3 h``, ``5 h 12 min``, ``14 min``; negative durations read as time overdue."""
    total = abs(int(seconds)) // 60
    days, rest = divmod(total, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} day{'s' if days > 1 else ''} {hours} h"
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


def _templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(TEMPLATES))
    templates.env.filters["when"] = when
    templates.env.filters["duration"] = duration
    templates.env.filters.update(FILTERS)
    templates.env.globals["site_name"] = site_name()
    templates.env.globals["refusal_choices"] = REFUSAL_CHOICES
    templates.env.globals["exit_url"] = os.environ.get("STANCH_QUICK_EXIT_URL", QUICK_EXIT_URL)
    return templates


templates = _templates()


def render(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    """Render ``name`` with ``context``."""
    return templates.TemplateResponse(request, name, context, status_code=status_code)
