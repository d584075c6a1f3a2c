"""The ``straightened`` view: a picture turned by a few degrees on a canvas with flat corners, undone.

An editor's free rotate (and Pillow's ``rotate(expand=True)``) leaves the turned picture on a canvas
just large enough to hold it, with four triangles of one flat colour (black, mostly) in the corners.
The picture is then a turned rectangle whose four edges are exactly the boundary between that flat fill
and the content. This module finds the rectangle and samples it back upright, so that the view lands
near the original's own plain hash: a query-side fix, which old bank entries gain without being banked
again (their plain hash is what it meets).

How the rectangle is found (``content_corners``):

1. The four corners of the canvas (2 x 2 pixels each) must be the same flat colour, the fill. A
   picture without such corners (nearly every photo) is given up here, most after reading the four
   corner pixels (about a microsecond).
2. On about 256 rows and 256 columns, the first pixel that differs from the fill seen from each side:
   four profiles of the boundary, at the luma plane's full resolution.
3. A turned rectangle's left and right edges are lines ``x = p + t y``, its top and bottom
   ``y = q - t x``, with one ``t`` (the tangent of the angle). Every angle from -10 to +10 degrees (in
   steps of 0.1) is scored by how many profile points line up on one offset per side (a histogram of
   ``p`` or ``q``); the best is refined by a least-squares fit of ``t`` and the four offsets to the
   points it lines up. Content as dark as the fill along an edge pushes that edge's profile inwards:
   those points just do not line up, so the angle still comes from the points that do (the old
   ``levelled`` view's line fits gave up on a dark edge).
4. Trusted only when an edge of each direction is seen over at least ``_SPAN`` of its length, most
   of its points are steps (out of the fill within ``_SHARP`` pixels, content ``_INSIDE`` pixels
   further in: not a soft picture's own gradient, nor a thin line along its edge), the angle is between
   ``_MIN_ANGLE`` and ``_MAX_ANGLE``, and the rectangle touches all four sides of the canvas
   (``_TOUCH``), as a turned picture on its expanded canvas does. A turned picture is centred on its
   canvas: an edge not seen is the opposite one mirrored through the centre, and of an edge and that
   mirror the outer is kept (dark content only moves an edge inwards). A picture whose own dark
   corners are not such a rectangle (a vignette, a dark sky, an upright letterbox) has no
   ``straightened`` view.

It is a query-side view in effect: a banked original has no flat corners, so it has none. It is
computed for both purposes all the same (the hashes a query looks up do not depend on the purpose).
The browser (``robust.js``) does not compute it: the browser hashes pictures for a bank, whose
originals have no corners.

Pure functions of the luma plane.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from stanch.signals.fast_pdq import pdq_of_windows
from stanch.signals.pdq import MIN_QUALITY
from stanch.signals.robust import view_plane
from stanch.signals.types import PURPOSES, PdqVariant, Purpose

SERVER_ONLY = ("straightened",)
"""Name prefix of this module's view: the browser (``robust.js``) does not compute it."""

Point = tuple[float, float]
"""(x, y) in pixels of the luma plane, continuous: pixel i spans [i, i + 1)."""

_CORNER = 2
"""Side of the square of pixels read in each corner of the canvas."""
_FLAT = 12.0
"""Grey levels within which the corner pixels share the fill's colour (JPEG noise)."""
_CONTENT = 24.0
"""A pixel further than this from the fill is content: above JPEG's ringing next to the edge."""
_LINES = 256
"""Rows (and columns) on which the boundary is looked for."""
_MIN_ANGLE, _MAX_ANGLE = 0.3, 10.0
"""Degrees. Below, the plain hash already matches; above, it is not a slight straightening."""
_ANGLES = np.radians(np.arange(-_MAX_ANGLE, _MAX_ANGLE + 0.05, 0.1))
"""The angles scored before the fit (0.1 degree apart)."""
_SPAN = 0.3
"""An edge counts as seen when its lined-up points cover this share of the canvas's side."""
_TOUCH = 0.03
"""The rectangle reaches within this share of each side of the canvas."""
_REACH = 0.25
"""An edge's offset is looked for within this share of the canvas's longer side of its side."""
_SHARP = 2
"""Pixels within which a canvas's edge goes from the fill's colour to content."""
_INSIDE = 4
"""Pixels inside an edge at which the picture is looked at again."""
_EDGE_POINTS = 0.6
"""Share of the lined-up points that must be sharp, and content further in."""
_MIN_SIDE = 32
"""A canvas narrower than this (pixels) is not looked at."""


def straightened_views(luma: np.ndarray, purpose: Purpose = "query") -> tuple[PdqVariant, ...]:
    """The ``straightened`` view of a luma plane when it is a turned picture on flat corners (quality
    ``MIN_QUALITY`` or more), else nothing. The same for both purposes."""
    if purpose not in PURPOSES:
        raise ValueError(f"purpose must be one of {', '.join(PURPOSES)}, not {purpose!r}")
    corners = content_corners(luma)
    if corners is None:
        return ()
    plane = view_plane(luma)
    scale_y, scale_x = plane.shape[0] / luma.shape[0], plane.shape[1] / luma.shape[1]
    upright = _sampled_upright(plane, [(x * scale_x, y * scale_y) for x, y in corners])
    if min(upright.shape) < _MIN_SIDE:
        return ()
    pdq, quality = pdq_of_windows(upright, [(slice(None), slice(None), False)])[0]
    return (PdqVariant("straightened", pdq, quality),) if quality >= MIN_QUALITY else ()


def content_corners(luma: np.ndarray) -> tuple[Point, Point, Point, Point] | None:
    """The corners (top-left, top-right, bottom-right, bottom-left of the picture before it was turned)
    of a turned picture on a canvas with flat corners, in pixels of ``luma``; None when ``luma`` does
    not look like one (see the module's docstring)."""
    height, width = luma.shape
    if min(height, width) < _MIN_SIDE:
        return None
    fill = _fill(luma)
    if fill is None:
        return None
    sides = _profiles(luma, fill)
    fit = _fit(sides, width, height)
    if fit is None:
        return None
    t, (left, right, top, bottom) = fit
    if not _MIN_ANGLE <= abs(math.degrees(math.atan(t))) <= _MAX_ANGLE:
        return None
    corners = (
        _meet(left, top, t),
        _meet(right, top, t),
        _meet(right, bottom, t),
        _meet(left, bottom, t),
    )
    xs, ys = [x for x, _ in corners], [y for _, y in corners]
    reach_x, reach_y = _TOUCH * width, _TOUCH * height
    if min(xs) > reach_x or max(xs) < width - reach_x or min(ys) > reach_y or max(ys) < height - reach_y:
        return None
    if min(xs) < -reach_x or max(xs) > width + reach_x or min(ys) < -reach_y or max(ys) > height + reach_y:
        return None
    return corners


def _fill(luma: np.ndarray) -> float | None:
    """The grey of the canvas's four corners when they are one flat colour, else None. The four corner
    pixels are compared first: most photos are given up after reading them."""
    first = (float(luma[0, 0]), float(luma[0, -1]), float(luma[-1, 0]), float(luma[-1, -1]))
    if max(first) - min(first) > 2 * _FLAT:  # then some pixel is further than _FLAT from the median
        return None
    c = _CORNER
    patches = np.concatenate([
        np.asarray(luma[:c, :c], np.float32).ravel(),
        np.asarray(luma[:c, -c:], np.float32).ravel(),
        np.asarray(luma[-c:, :c], np.float32).ravel(),
        np.asarray(luma[-c:, -c:], np.float32).ravel(),
    ])
    fill = float(np.median(patches))
    return fill if float(np.abs(patches - fill).max()) <= _FLAT else None


class Side(NamedTuple):
    """One side's boundary points: a left or right edge is ``x = p + t y`` (``across`` is x, ``along``
    y, ``sign`` +1), a top or bottom edge ``y = q - t x`` (``across`` y, ``along`` x, ``sign`` -1)."""

    along: np.ndarray
    across: np.ndarray
    sign: int
    sharp: np.ndarray
    """Per point, whether the line leaves the fill's colour (``_FLAT``) within ``_SHARP`` pixels of
    where its content starts: a canvas's edge is a step, a soft picture's own gradient is not."""
    inside: np.ndarray
    """Per point, whether the pixel ``_INSIDE`` pixels further in is content too."""


def _profiles(luma: np.ndarray, fill: float) -> list[Side]:
    """The first content pixel seen from the left, right, top and bottom, on ``_LINES`` rows and columns
    each, as boundary points between pixels; lines with no content, or content at the canvas's edge,
    give no point."""
    height, width = luma.shape
    rows = np.unique(np.linspace(0, height - 1, min(_LINES, height)).round().astype(np.intp))
    columns = np.unique(np.linspace(0, width - 1, min(_LINES, width)).round().astype(np.intp))
    sides = []
    for lines, along, sign in (
        (np.asarray(luma[rows, :], np.float32), rows, 1),
        (np.asarray(luma[:, columns], np.float32).T, columns, -1),
    ):
        away = np.abs(lines - fill)
        centre = along.astype(np.float64) + 0.5
        length = lines.shape[1]
        for from_end, seen_from in ((False, away), (True, away[:, ::-1])):
            content = seen_from > _CONTENT
            first = content.argmax(axis=1)
            kept = content.any(axis=1) & (first > 0)
            changed = (seen_from > _FLAT).argmax(axis=1)
            further = seen_from[np.arange(len(first)), np.minimum(first + _INSIDE, length - 1)] > _CONTENT
            position = (length - first if from_end else first).astype(np.float64)
            sharp = first - changed <= _SHARP
            sides.append(Side(centre[kept], position[kept], sign, sharp[kept], further[kept]))
    return sides  # left, right, top, bottom


def _fit(sides: list[Side], width: int, height: int) -> tuple[float, list[float]] | None:
    """The tangent ``t`` and the offsets (left, right, top, bottom) of the rectangle whose edges most
    profile points lie on; None unless an edge of each direction is seen (``_SPAN``)."""
    tolerance = max(1.5, max(width, height) / 400)
    tangents = np.tan(_ANGLES)
    scores = np.zeros(len(tangents))
    offsets = []
    reach = _REACH * max(width, height)
    for side, reference in zip(sides, (0, width, 0, height), strict=True):
        best, offset = _line_up(side.along, side.across, side.sign, tangents, tolerance, reference, reach)
        scores += best
        offsets.append(offset)
    chosen = int(scores.argmax())
    t = float(tangents[chosen])
    start = [float(offset[chosen]) for offset in offsets]
    for _ in range(2):  # refit to the points the previous fit lines up
        refined = _least_squares(sides, t, start, tolerance)
        if refined is None:
            return None
        t, start, near = refined
    lengths = (height, height, width, width)
    found = [
        near_side.sum() >= 2 and float(np.ptp(side.along[near_side])) >= _SPAN * length
        for side, near_side, length in zip(sides, near, lengths, strict=True)
    ]
    if not (found[0] or found[1]) or not (found[2] or found[3]):
        return None
    sharp = np.concatenate([side.sharp[n] for side, n, f in zip(sides, near, found, strict=True) if f])
    inside = np.concatenate([side.inside[n] for side, n, f in zip(sides, near, found, strict=True) if f])
    if sharp.mean() < _EDGE_POINTS or inside.mean() < _EDGE_POINTS:
        return None  # a soft picture's own gradient, or a thin line at its edge, not a canvas's edge
    # A turned picture is centred on its canvas: an edge mirrors the opposite one through the centre.
    # Content as dark as the fill only ever moves a seen edge inwards, so of an edge and the mirror of
    # the opposite one the outer is kept; an edge not seen is the mirror.
    left, right, top, bottom = start
    mirror_x, mirror_y = width - height * t, height + width * t
    if found[0] and found[1]:
        left, right = min(left, mirror_x - right), max(right, mirror_x - left)
    elif found[1]:
        left = mirror_x - right
    else:
        right = mirror_x - left
    if found[2] and found[3]:
        top, bottom = min(top, mirror_y - bottom), max(bottom, mirror_y - top)
    elif found[3]:
        top = mirror_y - bottom
    else:
        bottom = mirror_y - top
    return t, [left, right, top, bottom]


def _line_up(
    along: np.ndarray, across: np.ndarray, sign: int, tangents: np.ndarray, tolerance: float,
    reference: float, reach: float,
) -> tuple[np.ndarray, np.ndarray]:
    """For each tangent, the most points of one side within ``2 * tolerance`` of one offset, and that
    offset: a histogram of the offsets ``across - sign * t * along`` in bins of ``tolerance`` (two bins
    at a time), over ``reach`` either side of ``reference`` (the canvas's side: a turned picture's edge
    stays near it)."""
    if len(along) == 0:
        return np.zeros(len(tangents)), np.zeros(len(tangents))
    offsets = across[None, :] - sign * tangents[:, None] * along[None, :]
    bins = int(2 * reach / tolerance) + 2
    index = ((offsets - (reference - reach)) / tolerance).astype(np.intp)
    index[(index < 0) | (index >= bins)] = bins  # out of reach: counted in a bin of its own
    index += np.arange(len(tangents))[:, None] * (bins + 1)
    counts = np.bincount(index.ravel(), minlength=len(tangents) * (bins + 1))
    counts = counts.reshape(len(tangents), bins + 1)[:, :bins]
    pairs = counts[:, :-1] + counts[:, 1:]
    best = pairs.argmax(axis=1)
    return pairs.max(axis=1).astype(np.float64), reference - reach + (best + 1) * tolerance


def _least_squares(
    sides: list[Side], t: float, offsets: list[float], tolerance: float
) -> tuple[float, list[float], list[np.ndarray]] | None:
    """``t`` and the four offsets fitted to the points within ``2 * tolerance`` of the given lines, and
    which points of each side those are; None when fewer than 8 points fit."""
    rows, values, masks = [], [], []
    for n, (side, offset) in enumerate(zip(sides, offsets, strict=True)):
        near = np.abs(side.across - side.sign * t * side.along - offset) <= 2 * tolerance
        masks.append(near)
        design = np.zeros((int(near.sum()), 5))
        design[:, 0] = side.sign * side.along[near]
        design[:, 1 + n] = 1.0
        rows.append(design)
        values.append(side.across[near])
    matrix = np.concatenate(rows)
    if len(matrix) < 8:
        return None
    used = matrix[:, 1:].any(axis=0)
    solution = np.asarray(offsets, np.float64)
    fitted, *_ = np.linalg.lstsq(matrix[:, np.r_[True, used]], np.concatenate(values), rcond=None)
    solution[used] = fitted[1:]
    return float(fitted[0]), [float(s) for s in solution], masks


def _meet(vertical: float, horizontal: float, t: float) -> Point:
    """Where ``x = vertical + t y`` meets ``y = horizontal - t x``."""
    x = (vertical + t * horizontal) / (1 + t * t)
    return x, horizontal - t * x


def _sampled_upright(plane: np.ndarray, corners: list[Point]) -> np.ndarray:
    """The quadrilateral ``corners`` (top-left, top-right, bottom-right, bottom-left) of ``plane``
    sampled onto an upright plane of its own size, in one affine pass (grey, bilinear)."""
    from PIL import Image  # only for a picture that has the view: plain JPEGs are hashed without Pillow

    (x0, y0), (x1, y1), _, (x3, y3) = corners
    width = max(1, round(math.hypot(x1 - x0, y1 - y0)))
    height = max(1, round(math.hypot(x3 - x0, y3 - y0)))
    matrix = ((x1 - x0) / width, (x3 - x0) / height, x0, (y1 - y0) / width, (y3 - y0) / height, y0)
    grey = Image.fromarray(np.clip(plane, 0, 255).astype(np.uint8))
    upright = grey.transform((width, height), Image.Transform.AFFINE, matrix, Image.Resampling.BILINEAR)
    return np.asarray(upright)
