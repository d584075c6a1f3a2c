"""Server-side robustness views: small rotations and regions, hashed with plain PDQ.

``stanch.signals.robust`` handles borders, captions, crops and turns; its views are ported to the
browser (``robust.js``). The views here are computed by the server only (the browser's ``/report``
hashes do not include them, so a picture checked in the browser gains nothing from them):

- ``levelled`` (uploads and banks): a picture turned by a few degrees on a canvas with black corners
  (what an editor's free rotate leaves) is turned back and cut to the original's rectangle. The angle
  is read off the four straight edges between the picture and its dark corners (a line fitted to the
  first bright pixel of each row and column), and only trusted when the four edges agree.
- ``part1`` ... ``part4`` (uploads and banks): the picture without its top, bottom, left or right
  quarter. A logo or watermark in a corner, or a band of text at one edge, spoils the plain hash and
  three of these, but not the one that leaves it out.
- ``tilted-6`` ... ``tilted+6`` (banks only): the picture turned by each whole degree from -6 to +6
  and cut to the largest upright rectangle of its own shape inside (the implied crop of a phone's
  straighten tool). PDQ survives about half a degree of rotation, so a copy straightened by any angle
  up to 6.5 degrees lands near one of them; nothing in a cropped copy says by how much it was turned,
  so the bank pays for the guesses, once, and an upload looks up none of them.

Pure functions of the luma plane, like ``robust``.
"""

from __future__ import annotations

import math

import numpy as np

from stanch.signals.fast_pdq import Window, pdq_of_windows
from stanch.signals.pdq import MIN_QUALITY
from stanch.signals.robust import view_plane
from stanch.signals.types import PURPOSES, PdqVariant, Purpose

SERVER_ONLY = ("levelled", "part", "tilted")
"""Name prefixes of this module's views: the browser (``robust.js``) computes none of them."""
TILTS = tuple(d for d in range(-6, 7) if d)
"""The angles (degrees, counter-clockwise when positive) of a banked picture's ``tilted`` views."""
_PART = 0.25
"""Share of the side a ``part`` view leaves out."""
_DARK = 40.0
"""Grey level (of 255) under which a pixel belongs to the black corners of a turned picture."""
_DETECT_SIDE = 256
"""The corners are looked for on a copy sampled to at most this many pixels a side."""
_BAND = (0.3, 0.7)
"""Edges are fitted over the middle of each side: the long edges of a picture turned by up to ~10°."""
_MIN_ANGLE, _MAX_ANGLE = 0.4, 10.0
"""Degrees: below, the plain hash already matches; above, it is no longer a slight straightening."""
_AGREE = 0.5
"""Degrees within which the edges' angles must agree for the rotation to be trusted."""
_MIN_EDGES = 3
"""Edges that must be found straight: one may be hidden by dark content along it."""
_MAX_RESIDUAL = 1.0
"""Root-mean-square distance (sampled pixels) of an edge's points from its fitted line, at most."""


def server_views(luma: np.ndarray, purpose: Purpose = "query") -> tuple[PdqVariant, ...]:
    """The ``levelled``, ``part`` and (for a bank) ``tilted`` PDQ views of a picture's luma plane,
    those of quality ``MIN_QUALITY`` or more."""
    if purpose not in PURPOSES:
        raise ValueError(f"purpose must be one of {', '.join(PURPOSES)}, not {purpose!r}")
    plane = view_plane(luma)
    height, width = plane.shape
    cut_h, cut_w = round(height * _PART), round(width * _PART)
    parts: list[Window] = [
        (slice(cut_h, height), slice(None), False),
        (slice(0, height - cut_h), slice(None), False),
        (slice(None), slice(cut_w, width), False),
        (slice(None), slice(0, width - cut_w), False),
    ]
    named = list(zip((f"part{n}" for n in range(1, 5)), pdq_of_windows(plane, parts), strict=True))
    angle = corner_angle(luma)
    if angle is not None:
        named.append(("levelled", _whole(_level(plane, angle))))
    if purpose == "bank":
        named += [(f"tilted{degrees:+d}", _whole(_tilt(plane, degrees))) for degrees in TILTS]
    return tuple(PdqVariant(name, pdq, quality) for name, (pdq, quality) in named if quality >= MIN_QUALITY)


def corner_angle(luma: np.ndarray) -> float | None:
    """The angle (degrees, counter-clockwise when positive) by which a picture on a canvas with black
    corners was turned, or None when it does not look like one.

    Each side's boundary between dark canvas and picture is fitted by a line over the middle of the
    side; for a turned rectangle all four are straight and tilted by the same angle. Three straight
    edges that agree are enough (dark content can run into the canvas along the fourth); the angle is
    their median.
    """
    grey = _sampled(luma)
    bright = grey >= _DARK
    if bright[0, 0] or bright[0, -1] or bright[-1, 0] or bright[-1, -1] or not bright.any():
        return None
    fitted = (
        (bright, 1),  # left boundary, down the rows
        (bright[:, ::-1], -1),  # right boundary
        (bright.T, -1),  # top boundary, along the columns
        (bright.T[:, ::-1], 1),  # bottom boundary
    )
    angles = sorted(
        math.degrees(math.atan(sign * slope))
        for side, sign in fitted
        if (slope := _edge_slope(side)) is not None
    )
    if len(angles) < _MIN_EDGES:
        return None
    middle = float(np.median(angles))
    if angles[-1] - angles[0] > _AGREE or not _MIN_ANGLE <= abs(middle) <= _MAX_ANGLE:
        return None
    return -middle


def _sampled(luma: np.ndarray) -> np.ndarray:
    step = max(1, -(-max(luma.shape) // _DETECT_SIDE))
    sampled = luma[step // 2 :: step, step // 2 :: step]
    return sampled if sampled.dtype == np.uint8 else np.asarray(sampled, np.float32)  # compared with _DARK


def _edge_slope(bright: np.ndarray) -> float | None:
    """The slope (columns per row) of the first bright pixel of each row over the middle rows, when
    those points lie on a line away from the left edge; None otherwise."""
    rows = bright.shape[0]
    band = np.arange(round(rows * _BAND[0]), round(rows * _BAND[1]))
    if len(band) < 8:
        return None
    lit = bright[band]
    if not lit.any(axis=1).all():
        return None
    first = lit.argmax(axis=1).astype(np.float64)
    if first.max() < 1:  # the picture touches the edge: no corner there
        return None
    slope, offset = np.polyfit(band, first, 1)
    residual = float(np.sqrt(np.mean((first - (slope * band + offset)) ** 2)))
    return float(slope) if residual <= _MAX_RESIDUAL else None


def _level(plane: np.ndarray, angle: float) -> np.ndarray:
    """``plane`` turned by ``angle`` degrees and cut to the upright rectangle the turn had on its
    canvas: a canvas W x H holding a w x h picture turned by t has W = w cos t + h sin t and
    H = w sin t + h cos t, solved here for w and h. The rectangle is sampled onto a plane of the
    canvas's size (PDQ samples any shape onto its 64x64 grid, so the stretch costs nothing)."""
    height, width = plane.shape
    t = math.radians(abs(angle))
    cos, sin, cos2 = math.cos(t), math.sin(t), math.cos(2 * t)
    w, h = (width * cos - height * sin) / cos2, (height * cos - width * sin) / cos2
    return _turned(plane, angle, w / width, h / height)


def _tilt(plane: np.ndarray, degrees: int) -> np.ndarray:
    """``plane`` turned by ``degrees`` and cut to the largest centred rectangle of its shape inside."""
    height, width = plane.shape
    t = math.radians(abs(degrees))
    scale = 1 / (math.cos(t) + math.sin(t) * max(width / height, height / width))
    return _turned(plane, degrees, scale, scale)


def _turned(plane: np.ndarray, degrees: float, scale_x: float, scale_y: float) -> np.ndarray:
    """The centred rectangle of ``scale_x`` x ``scale_y`` of the plane's sides, in the plane turned by
    ``degrees`` (counter-clockwise, as ``Image.rotate``), sampled onto a plane of the same size in one
    affine pass (grey, bilinear). One output size keeps PDQ's per-size filters cached, and 8-bit grey
    is Pillow's fast path: turning a float plane, then cutting it, took about 10 times as long."""
    from PIL import Image  # loaded when a picture is turned: a folder of small JPEGs never needs Pillow

    height, width = plane.shape
    a = -math.radians(degrees)
    cos, sin = math.cos(a), math.sin(a)
    cx, cy = width / 2, height / 2
    matrix = (
        cos * scale_x, sin * scale_y, cx - cos * scale_x * cx - sin * scale_y * cy,
        -sin * scale_x, cos * scale_y, cy + sin * scale_x * cx - cos * scale_y * cy,
    )  # fmt: skip
    grey = Image.fromarray(np.clip(plane, 0, 255).astype(np.uint8))
    turned = grey.transform((width, height), Image.Transform.AFFINE, matrix, Image.Resampling.BILINEAR)
    return np.asarray(turned)  # uint8: PDQ reads it as it would its float32 copy


def _whole(plane: np.ndarray) -> tuple[str, int]:
    if min(plane.shape) < 5:
        return "0" * 64, 0
    return pdq_of_windows(plane, [(slice(None), slice(None), False)])[0]
