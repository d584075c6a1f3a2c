"""Bar charts as inline SVG, drawn on the server: no chart library, no script, nothing fetched.

Each chart comes with the same figures in a table on the page, for screen readers and for anyone who
prefers numbers; the SVG itself has a title and a text label on every bar.
"""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 640
BAR_AREA = 200
TOP = 20
BOTTOM = 40
MAX_SLOT = 80
"""Widest room a bar gets: one month alone is a bar of normal width, not one filling the chart."""


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    text: str
    """What is written above the bar (the value, formatted)."""


def bar_chart(title: str, bars: list[Bar], *, maximum: float | None = None) -> Markup:
    """A vertical bar chart of ``bars`` scaled to ``maximum`` (default: the largest value)."""
    top = maximum if maximum is not None else max((bar.value for bar in bars), default=0.0)
    height = TOP + BAR_AREA + BOTTOM
    slot = min(WIDTH / max(len(bars), 1), MAX_SLOT)
    parts = [f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{escape(title)}">',
             f"<title>{escape(title)}</title>",
             f'<line x1="0" y1="{TOP + BAR_AREA}" x2="{WIDTH}" y2="{TOP + BAR_AREA}" stroke="#8a979f"/>']
    for index, bar in enumerate(bars):
        size = 0.0 if top <= 0 else BAR_AREA * bar.value / top
        x = index * slot + slot * 0.2
        y = TOP + BAR_AREA - size
        middle = index * slot + slot / 2
        parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot * 0.6:.1f}" height="{size:.1f}" '
                     'fill="#2f5d62"/>')
        parts.append(f'<text x="{middle:.1f}" y="{y - 4:.1f}" text-anchor="middle">{escape(bar.text)}</text>')
        parts.append(f'<text x="{middle:.1f}" y="{TOP + BAR_AREA + 18}" text-anchor="middle">'
                     f"{escape(bar.label)}</text>")
    parts.append("</svg>")
    return Markup("".join(parts))
