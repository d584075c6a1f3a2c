"""Views of a video frame: the few extra PDQ hashes that let edited copies of a video match.

A frame's plain PDQ sees through re-encodes, scaling, colour changes, trims and speed changes, but
not geometry: a letterboxed, cropped or mirrored copy lands far from its original. As for still
pictures (``stanch.signals.robust``), each frame also gets plain PDQ hashes of a few altered views:

- ``centre``: the middle of the frame, 5 % off each side: a copy cropped by about 10 % lands near it.
- ``trimmed``: the frame without its uniform borders (``robust.trimmed_box``): a letterboxed or
  pillarboxed copy, or a picture set on a canvas, lands near its original's plain hash (and an
  original with borders lands near a copy that lost them). Only when there are borders to trim.
- ``mirror`` and ``mirror-trimmed``: the frame and its trimmed view mirrored left to right (the
  pixels really flipped: PDQ's grid sits off-centre, so a hash derived from the DCT is not exact).

Which side uses which view was measured on edits of Meta's sample videos (benchmarks/video_matching.py,
README "Video matching"): a banked frame is indexed with its plain hash, ``centre`` and ``trimmed``
(``bank_frame_hashes``, every frame of a banked video); a query frame, one a second, looks up its
plain hash, ``mirror``, ``trimmed`` and ``mirror-trimmed`` (``query_frame_hashes``). Each fix is paid
for once, on one side; the mirror goes on the query side, which hashes a 30th of the frames.

Every frame gets all four views, whatever it is hashed for: a record is the same for a bank and a
query, and the side that uses it picks. Views are hashed together (``fast_pdq.pdq_of_windows``) on a
reduced copy of the frame (``robust.view_plane``). Everything here is a pure function of its arguments.
"""

from __future__ import annotations

import numpy as np

from stanch.signals.fast_pdq import MIN_HASHABLE_SIDE, Window, pdq_of_windows
from stanch.signals.pdq import MIN_QUALITY
from stanch.signals.robust import trimmed_box, view_plane
from stanch.signals.types import FrameHash, PdqVariant

CENTRE, TRIMMED, MIRROR, MIRROR_TRIMMED = "centre", "trimmed", "mirror", "mirror-trimmed"
BANK_VIEWS = (CENTRE, TRIMMED)
"""Views indexed, besides the plain hash, for every frame of a banked video."""
QUERY_VIEWS = (MIRROR, TRIMMED, MIRROR_TRIMMED)
"""Views looked up, besides the plain hash, for each frame of a query video."""
CENTRE_MARGIN = 0.05
"""Share of the height and of the width the ``centre`` view drops on each side."""


def frame_views(luma: np.ndarray) -> tuple[PdqVariant, ...]:
    """The ``centre``, ``trimmed``, ``mirror`` and ``mirror-trimmed`` hashes of a frame's luma plane.

    Views of quality below ``MIN_QUALITY`` are left out (a flat frame yields none), and so is
    ``trimmed`` (with its mirror) when the frame has no border to trim.
    """
    if min(luma.shape) < MIN_HASHABLE_SIDE:
        return ()
    plane = view_plane(luma)
    height, width = plane.shape
    dy, dx = round(height * CENTRE_MARGIN), round(width * CENTRE_MARGIN)
    windows: dict[str, Window] = {
        CENTRE: (slice(dy, height - dy), slice(dx, width - dx), False),
        MIRROR: (slice(None), slice(None, None, -1), False),
    }
    box = trimmed_box(plane)
    if box is not None:
        top, bottom, left, right = box
        windows[TRIMMED] = (slice(top, bottom), slice(left, right), False)
        mirrored = slice(right - 1, left - 1 if left else None, -1)
        windows[MIRROR_TRIMMED] = (slice(top, bottom), mirrored, False)
    hashed = pdq_of_windows(plane, list(windows.values()))
    return tuple(
        PdqVariant(name, pdq, quality)
        for name, (pdq, quality) in zip(windows, hashed, strict=True)
        if quality >= MIN_QUALITY
    )


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
