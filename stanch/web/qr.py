"""QR codes drawn on the server as inline SVG: the desk shows the authenticator link as one, so a phone
can scan it with no request leaving the page and no script."""

from __future__ import annotations

import segno
from markupsafe import Markup


def qr_svg(text: str, title: str) -> Markup:
    """``text`` as a QR code in an ``<svg>`` element, dark modules on a white square with the quiet zone
    (so it scans on a dark page too), sized by CSS through its ``viewBox``; ``title`` is what a screen
    reader says."""
    code = segno.make(text, error="m")
    return Markup(code.svg_inline(scale=1, omitsize=True, svgclass="qr", lineclass=None, title=title,
                                  dark="#000", light="#fff"))
