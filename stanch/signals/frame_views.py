"""Views of a video frame: the few extra PDQ hashes that let edited copies of a video match.

A frame's plain PDQ sees through re-encodes, scaling, colour changes, trims and speed changes, but
not geometry: a letterboxed, cropped or mirrored copy lands far from its original. As for still
pictures (``stanch.signals.robust``), each frame also gets plain PDQ hashes of a few altered views:

- ``centre``: the middle of the frame, 5 % off each side: a copy cropped by about 10 % lands near it.
- ``trimmed``: the frame without its uniform borders (``robust.trimmed_box``): a letterboxed or
  pillarboxed copy, or a picture set on a canvas, lands near its original's plain hash (and an
  original with borders lands near a copy that lost them). Only when there are borders to trim.
- ``top`` and ``bottom``: the upper and the lower half of the frame. A caption bar, a corner logo or
  a picture-in-picture window spoils one half and leaves the other within reach of its original's
  half, where the whole frame's hash moves 40-70 bits; both sides hash them, half to half.
- ``window`` (query side only): the frame inside a window over other footage (the video shrunk into a
  rectangle over another moving video, a picture-in-picture the other way round), found as the
  rectangle of long straight edges across the frame (``window_box``). ``trimmed`` needs uniform
  borders and finds nothing there; around the window the other footage changes every frame.
- ``mirror`` and ``mirror-trimmed``: the frame and its trimmed view mirrored left to right, derived
  from their DCT (pdqhash's ``flipy``), so they cost nothing. PDQ's grid sits slightly off-centre,
  so a derived mirror is a few bits (6-20 measured at 480 pixels) from the hash of the flipped
  pixels; hashing the flipped pixels would cost another PDQ a frame. The benchmark finds every
  mirrored edit either way.

Which side uses which view was measured on edits of Meta's sample videos and on the tune half of
the video corpus (benchmarks/video_matching.py, docs/design/signals.md "Video matching"): a banked
frame is indexed with its plain hash, ``centre``, ``trimmed``, ``top`` and ``bottom``
(``bank_frame_hashes``, every frame of a banked video); a query frame, one a second, looks up its
plain hash, ``mirror``, ``trimmed``, ``mirror-trimmed``, ``top``, ``bottom`` and ``window``
(``query_frame_hashes``). Each fix but the halves is paid for once, on one side; the mirror goes on
the query side, which hashes a 30th of the frames. The halves are matched half to half, so both
sides need them.

Every frame gets all its views whatever it is hashed for, but ``window`` (only when it has one, and
not for a frame hashed for a bank, which never looks it up and would pay for it on every frame): the
side that uses a record picks (computing only one side's other views would save little: the
mirrors are free, and the bank needs the costly ones, centre, trimmed and the halves, on every
frame). On Meta's sd samples the views cost about half of decoding
and hashing a frame plainly (benchmarks/video_matching.py prints it). Frames are hashed at full
resolution up to 767 lines (``robust.view_plane``): reduced copies move hashes by 10-25 bits, too much
of the 31-bit budget.

Everything here is a pure function of its arguments.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from stanch.signals.fast_pdq import MIN_HASHABLE_SIDE, pdq_dihedral_of_luma
from stanch.signals.pdq import DIHEDRAL_NAMES, MIN_QUALITY
from stanch.signals.robust import Box, trimmed_box, view_plane
from stanch.signals.types import FrameHash, PdqVariant

CENTRE, TRIMMED, MIRROR, MIRROR_TRIMMED = "centre", "trimmed", "mirror", "mirror-trimmed"
TOP, BOTTOM, WINDOW = "top", "bottom", "window"
BANK_VIEWS = (CENTRE, TRIMMED, TOP, BOTTOM)
"""Views indexed, besides the plain hash, for every frame of a banked video."""
QUERY_VIEWS = (MIRROR, TRIMMED, MIRROR_TRIMMED, TOP, BOTTOM, WINDOW)
"""Views looked up, besides the plain hash, for each frame of a query video."""
CENTRE_MARGIN = 0.05
"""Share of the height and of the width the ``centre`` view drops on each side."""
MIRROR_INDEX = DIHEDRAL_NAMES.index("flipy")
"""pdqhash's ``flipy`` is the left-right mirror image."""
EDGE_STEP = 16.0
"""Grey levels (of 255) between neighbouring pixels that make a pixel part of an edge."""
EDGE_SHARE = 0.3
"""Share of a frame's width (height) a row (column) of edge pixels must span to be a window's side."""
EDGE_PROMINENCE = 3.0
"""A window's side holds this many times the edge pixels of the lines near it: a straight border,
not a textured stretch of picture."""
WINDOW_SIDES = (0.4, 0.95)
"""A window spans this share of the frame's height and of its width: smaller ones are a corner
overlay on the banked video (the ``top`` and ``bottom`` views' case), larger ones a border."""
WORK_SIDE = 256
"""Windows are found on the frame sampled by a whole step to about this many pixels a side (a frame of
up to 511 pixels a side is searched whole: sampling moves thin edges)."""


def frame_views(luma: np.ndarray, dihedral: Sequence[str], quality: int, *,
                window: bool = True) -> tuple[PdqVariant, ...]:
    """The ``centre``, ``top``, ``bottom``, ``trimmed``, ``mirror``, ``mirror-trimmed`` and ``window``
    hashes of a frame's luma plane, given the 8 dihedral hashes and the quality of the whole frame
    (``fast_pdq.pdq_dihedral_of_luma``).

    ``centre`` and ``trimmed`` are PDQ hashes of those parts of the frame (``robust.view_plane``: only
    frames of 768 lines or more are reduced first); the mirrors are their dihedral ``flipy`` hashes,
    which cost nothing more. Views of quality below ``MIN_QUALITY`` are left out (a flat frame yields
    none), and so is ``trimmed`` (with its mirror) when the frame has no border to trim, and ``window``
    when ``window_box`` finds no window or ``window`` is False: a frame hashed for a bank, which never
    looks the view up, skips its cost (0.2 of decoding and plainly hashing a frame).
    """
    if min(luma.shape) < MIN_HASHABLE_SIDE:
        return ()
    plane = view_plane(luma)
    height, width = plane.shape
    dy, dx = round(height * CENTRE_MARGIN), round(width * CENTRE_MARGIN)
    centre, centre_quality = pdq_dihedral_of_luma(plane[dy : height - dy, dx : width - dx])
    views = [PdqVariant(CENTRE, centre[0], centre_quality),
             PdqVariant(MIRROR, dihedral[MIRROR_INDEX], quality)]
    for name, half in ((TOP, plane[: height // 2]), (BOTTOM, plane[height - height // 2 :])):
        hashes, half_quality = pdq_dihedral_of_luma(half)
        views.append(PdqVariant(name, hashes[0], half_quality))
    box = trimmed_box(luma)
    if box is not None:
        top, bottom, left, right = _inside(box, luma.shape, plane.shape)
        trimmed, trimmed_quality = pdq_dihedral_of_luma(plane[top:bottom, left:right])
        views += [PdqVariant(TRIMMED, trimmed[0], trimmed_quality),
                  PdqVariant(MIRROR_TRIMMED, trimmed[MIRROR_INDEX], trimmed_quality)]
    found = window_box(luma) if window else None
    if found is not None:
        top, bottom, left, right = _inside(found, luma.shape, plane.shape)
        inner, inner_quality = pdq_dihedral_of_luma(plane[top:bottom, left:right])
        views.append(PdqVariant(WINDOW, inner[0], inner_quality))
    return tuple(view for view in views if view.quality >= MIN_QUALITY)


def window_box(luma: np.ndarray) -> Box | None:
    """The rectangle of a window inside the frame, as a box on ``luma``, or None.

    A window's four sides are lines of edge pixels (``EDGE_STEP``) along a good part of the frame
    (``EDGE_SHARE``) with far fewer along the lines around them (``EDGE_PROMINENCE``): a rectangle
    pasted over other footage. Of the candidate lines, the four strongest that make a window of
    ``WINDOW_SIDES`` are taken. Found on every frame alone, so it costs a few array passes.
    """
    step = max(1, max(luma.shape) // WORK_SIDE)
    grey = luma[::step, ::step].astype(np.int16)
    height, width = grey.shape
    rows = _lines(np.count_nonzero(np.abs(np.diff(grey, axis=0)) > EDGE_STEP, axis=1) / width)
    columns = _lines(np.count_nonzero(np.abs(np.diff(grey, axis=1)) > EDGE_STEP, axis=0) / height)
    best: tuple[float, Box] | None = None
    for (top_share, top), (bottom_share, bottom) in _pairs(rows, height):
        for (left_share, left), (right_share, right) in _pairs(columns, width):
            score = top_share + bottom_share + left_share + right_share
            if best is None or score > best[0]:
                best = (score, (top, bottom, left, right))
    if best is None:
        return None
    top, bottom, left, right = best[1]
    return (top * step, min(luma.shape[0], bottom * step), left * step, min(luma.shape[1], right * step))


def _lines(profile: np.ndarray) -> list[tuple[float, int]]:
    """``(share, line)`` of the profile's prominent peaks: the line after each edge, strongest first."""
    if len(profile) < 20:
        return []
    padded = np.concatenate([np.repeat(profile[:1], 9), profile, np.repeat(profile[-1:], 9)])
    around = np.convolve(padded, _AROUND, mode="valid")
    local = np.maximum(padded[8:-10], padded[10:-8])
    prominent = profile >= EDGE_PROMINENCE * np.maximum(around, 0.02)
    keep = (profile >= EDGE_SHARE) & prominent & (profile >= local)
    found = [(float(profile[i]), int(i) + 1) for i in np.flatnonzero(keep)]
    return sorted(found, reverse=True)[:6]


_AROUND = np.array([1.0] * 7 + [0.0] * 5 + [1.0] * 7) / 14
"""The mean of the lines 3 to 9 before and after one: what a window's side must stand out of."""


def _pairs(lines: list[tuple[float, int]], side: int) -> list[tuple[tuple[float, int], tuple[float, int]]]:
    """Pairs of lines (first before second) a window's sides may be along one axis."""
    low, high = WINDOW_SIDES
    return [(a, b) for a in lines for b in lines if low * side <= b[1] - a[1] <= high * side]


def _inside(box: Box, full: tuple[int, ...], reduced: tuple[int, ...]) -> Box:
    """``box`` on the reduced plane, rounded inwards: a reduced line that mixes border and picture is
    left out, so a copy and its original (reduced by other factors) trim to the same picture."""
    top, bottom, left, right = box
    rows, cols = reduced[0] / full[0], reduced[1] / full[1]
    return (math.ceil(top * rows - 1e-6), math.floor(bottom * rows + 1e-6),
            math.ceil(left * cols - 1e-6), math.floor(right * cols + 1e-6))


def bank_views(frame: FrameHash) -> tuple[PdqVariant, ...]:
    """The views a bank keeps of a frame: its ``BANK_VIEWS`` of quality at least ``MIN_QUALITY``."""
    return _views(frame, BANK_VIEWS)


def bank_frame_hashes(frame: FrameHash) -> tuple[str, ...]:
    """The hashes a banked frame is indexed under: plain PDQ and its ``bank_views``.

    None for a frame of quality below ``MIN_QUALITY``: the video rule ignores such frames (black and
    flat frames would match every video), so indexing them would only cost memory.
    """
    return _hashes(frame, BANK_VIEWS)


def query_frame_hashes(frame: FrameHash) -> tuple[str, ...]:
    """The hashes a query frame looks up: plain PDQ and its ``QUERY_VIEWS`` (none when flat)."""
    return _hashes(frame, QUERY_VIEWS)


def _views(frame: FrameHash, names: tuple[str, ...]) -> tuple[PdqVariant, ...]:
    return tuple(v for v in frame.views if v.name in names and v.quality >= MIN_QUALITY)


def _hashes(frame: FrameHash, names: tuple[str, ...]) -> tuple[str, ...]:
    if frame.quality < MIN_QUALITY:
        return ()
    return tuple(dict.fromkeys([frame.pdq, *(v.pdq for v in _views(frame, names))]))
