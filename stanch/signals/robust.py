"""Robustness signals: extra PDQ hashes that let edited re-uploads match their original.

Re-uploads are rarely byte-for-byte copies: they come letterboxed, with a caption bar, inside a
screenshot, cropped, mirrored or rotated. Plain PDQ survives recompression, resizing, colour changes,
blur and noise, but not geometry. Instead of inventing a new hash (which partners could not compare),
Stanch hashes a few altered *views* of the picture with plain PDQ:

- ``trimmed``: uniform borders removed (letterbox, pillarbox, padding), with a tolerance for JPEG noise.
- ``content``: the picture's content rectangle: also peels rows and columns that are mostly one flat
  colour with a little ink (caption bars, status bars, the chrome of a screenshot around the picture).

Both views are computed from the picture alone, the same way for a banked original and an uploaded
copy, so the two land on the same rectangle. Everything here is a pure function of its arguments.
"""

from __future__ import annotations

import numpy as np

from stanch.signals.pdq import MIN_QUALITY, pdq_of_rgb
from stanch.signals.types import ImageSignals, PdqVariant

_WORK_SIDE = 128
"""Borders are found on a copy at most this many pixels a side: cheap, and averaging hides JPEG noise."""
_TOLERANCE = 12.0
"""Grey levels (of 255) within which a pixel counts as the colour of its line."""
_UNIFORM = 0.98
"""Share of a line's pixels at its dominant colour for the line to be a uniform border."""
_CHROME_LEVELS = (0.9, 0.8, 0.7, 0.6)
"""Shares for a line to be chrome (a flat band with some text or icons), loosest last.

Peeling in descending order approximates "peel the flattest side first": the margins of a screenshot
go before the rows of a narrow picture, whose background share is lower.
"""
_MIN_KEEP = 0.2
"""A view must keep at least this share of the width and of the height, or it is not reported."""
_MIN_CHANGE = 0.02
"""A view that removes less than this share of the width and of the height adds nothing to the plain hash."""

Box = tuple[int, int, int, int]
"""A rectangle as (top, bottom, left, right), bottom and right exclusive."""


def robust_variants(rgb: np.ndarray) -> tuple[PdqVariant, ...]:
    """The extra PDQ hashes of a picture (``(h, w, 3)`` uint8), computed alike for uploads and banks.

    A view is reported only when it differs from the whole picture, keeps a real part of it, and its
    hash has a trustworthy quality (``MIN_QUALITY``); a flat picture therefore yields none.
    """
    height, width = rgb.shape[:2]
    seen: set[Box] = set()
    variants = []
    for name, box in _views(rgb):
        if box in seen or not _worth_hashing(box, height, width):
            continue
        seen.add(box)
        top, bottom, left, right = box
        hashed = pdq_of_rgb(rgb[top:bottom, left:right])
        if hashed.quality >= MIN_QUALITY:
            variants.append(PdqVariant(name, hashed.hex, hashed.quality))
    return tuple(variants)


def query_hashes(signals: ImageSignals) -> tuple[str, ...]:
    """The hashes of an uploaded picture that are looked up in a bank.

    The matching rule of Stanch, defined here once: an upload matches a banked picture when any of its
    ``query_hashes`` is within the bank's threshold (31 by default) of any of the banked picture's
    ``bank_hashes``. The upload side contributes its plain hash and its views (trimmed, content); the
    bank side adds the rotations and flips, so each geometric fix is paid for once, on one side.
    Hashes of quality below ``MIN_QUALITY`` are left out: Meta's PDQ gives no guarantee for them, and
    a flat picture would otherwise match every other flat picture.
    """
    hashes = [signals.pdq] if signals.quality >= MIN_QUALITY else []
    hashes += [v.pdq for v in signals.variants if v.quality >= MIN_QUALITY]
    return _unique(hashes)


def bank_hashes(signals: ImageSignals) -> tuple[str, ...]:
    """The hashes of a banked picture that are indexed: see ``query_hashes`` for the matching rule.

    The 8 dihedral hashes (the first is the plain hash) let mirrored and rotated copies match; the
    views let a copy that lost the original's borders or chrome match.
    """
    hashes = list(signals.pdq_dihedral or (signals.pdq,)) if signals.quality >= MIN_QUALITY else []
    hashes += [v.pdq for v in signals.variants if v.quality >= MIN_QUALITY]
    return _unique(hashes)


def _unique(hashes: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(hashes))


def _views(rgb: np.ndarray) -> list[tuple[str, Box]]:
    """The named rectangles to hash, in full-resolution coordinates."""
    grey = _small_grey(rgb)
    trimmed = _peel(grey, (0, grey.shape[0], 0, grey.shape[1]), (_UNIFORM,))
    content = _peel(grey, trimmed, _CHROME_LEVELS)
    step = _step(rgb.shape[:2])
    views = (("trimmed", trimmed), ("content", content))
    return [(name, _full_resolution(box, step, grey.shape, rgb.shape[:2])) for name, box in views]


def _small_grey(rgb: np.ndarray) -> np.ndarray:
    """Luminance averaged over blocks so that the longer side is at most ``_WORK_SIDE``."""
    grey = rgb.astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    step = _step(grey.shape)
    height, width = (grey.shape[0] // step) * step, (grey.shape[1] // step) * step
    if height == 0 or width == 0:
        return grey
    blocks = grey[:height, :width].reshape(height // step, step, width // step, step)
    return blocks.mean(axis=(1, 3))


def _peel(grey: np.ndarray, box: Box, levels: tuple[float, ...]) -> Box:
    """Peel flat lines off each side of ``box``, strictest level first, keeping at least ``_MIN_KEEP``.

    At each level, rows are scored within the current columns and columns within the current rows,
    and runs of lines whose share of pixels at the line's dominant colour reaches the level are peeled
    from the outside in, until nothing more goes; then the next, looser level starts from there.
    """
    min_rows = max(1, int(np.ceil(grey.shape[0] * _MIN_KEEP)))
    min_cols = max(1, int(np.ceil(grey.shape[1] * _MIN_KEEP)))
    for level in levels:
        while True:
            peeled = _peel_once(grey, box, level)
            if peeled == box:
                break
            if peeled[1] - peeled[0] < min_rows or peeled[3] - peeled[2] < min_cols:
                return box
            box = peeled
    return box


def _peel_once(grey: np.ndarray, box: Box, level: float) -> Box:
    top, bottom, left, right = box
    rows = _flat_share(grey[top:bottom, left:right])
    top, bottom = top + _run(rows >= level), bottom - _run((rows >= level)[::-1])
    if top >= bottom:
        return top, top, left, right
    cols = _flat_share(grey[top:bottom, left:right].T)
    left, right = left + _run(cols >= level), right - _run((cols >= level)[::-1])
    return top, bottom, left, max(left, right)


def _flat_share(lines: np.ndarray) -> np.ndarray:
    """For each row of ``lines``, the share of its pixels within ``_TOLERANCE`` of its median."""
    if lines.size == 0:
        return np.zeros(lines.shape[0])
    median = np.median(lines, axis=1, keepdims=True)
    return np.mean(np.abs(lines - median) <= _TOLERANCE, axis=1)


def _run(flags: np.ndarray) -> int:
    """Length of the leading run of True values."""
    false = np.flatnonzero(~flags)
    return int(false[0]) if false.size else len(flags)


def _step(shape: tuple[int, ...]) -> int:
    """Block size that brings the longer side down to at most ``_WORK_SIDE``."""
    return max(1, -(-max(shape[:2]) // _WORK_SIDE))


def _full_resolution(box: Box, step: int, small: tuple[int, ...], full: tuple[int, ...]) -> Box:
    """Map a box on the block-averaged copy back to pixels; an untouched edge stays at the picture's edge."""
    top, bottom, left, right = box
    bottom = full[0] if bottom == small[0] else bottom * step
    right = full[1] if right == small[1] else right * step
    return top * step, bottom, left * step, right


def _worth_hashing(box: Box, height: int, width: int) -> bool:
    top, bottom, left, right = box
    kept_h, kept_w = (bottom - top) / height, (right - left) / width
    if kept_h < _MIN_KEEP or kept_w < _MIN_KEEP:
        return False
    return kept_h <= 1 - _MIN_CHANGE or kept_w <= 1 - _MIN_CHANGE
