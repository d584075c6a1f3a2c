"""Robustness signals: extra PDQ hashes that let edited re-uploads match their original.

Re-uploads are rarely byte-for-byte copies: they come letterboxed, with a caption bar, inside a
screenshot, cropped, mirrored or rotated. Plain PDQ survives recompression, resizing, colour changes,
blur and noise, but not geometry. Instead of inventing a new hash (which partners could not compare),
Stanch hashes a few altered *views* of the picture with plain PDQ:

- ``trimmed``: uniform borders removed (letterbox, pillarbox, padding), with a tolerance for JPEG noise.
- ``content``: the picture's content rectangle: also peels rows and columns that are mostly one flat
  colour with a little ink (caption bars, status bars, the chrome of a screenshot around the picture).
- ``anchored1`` ... ``anchored9``: windows whose edges are the picture's own strongest features, found
  on its column and row profiles of gradient energy. A crop removes the frame, not the features, so a
  copy cropped by 5-15 % often yields a window with the same edges as one of its original's.

All views are computed from the picture alone, the same way for a banked original and an uploaded
copy, so the two land on the same rectangle.

Small pictures also get the PDQ of their pixels really turned and flipped (``mirrored``, ``rotated90``,
...). ``pdqhash`` derives the 8 dihedral hashes from one DCT, which is exact only when its downscaling
filter is symmetric; at a few hundred pixels a side its one-pixel offsets put a mirrored copy 25-100 bits
from the derived hash. Banks index these hashes; uploads do not need them.

Everything here is a pure function of its arguments.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
from PIL import Image

from stanch.signals.pdq import MIN_QUALITY, pdq_of_rgb
from stanch.signals.types import ImageSignals, PdqVariant

_WORK_SIDE = 256
"""Borders are found on a copy sampled to at most this many pixels a side."""
_TOLERANCE = 10.0
"""Grey levels (of 255) within which a pixel has the colour of its line: JPEG noise and anti-aliasing."""
_UNIFORM = 0.98
"""Share of a line's pixels at its colour (its median) for the line to be a uniform border."""
_CHROME = 0.45
"""Share of a band's colour for a line to stay in the band: a flat background with text or icons on it."""
_TURN_MAX_SIDE = 400
"""Pictures whose longer side is at most this get hashes of their truly turned pixels (cheap at this size)."""
_TURNS = {
    "mirrored": lambda rgb: rgb[:, ::-1],
    "flipped": lambda rgb: rgb[::-1],
    "rotated180": lambda rgb: rgb[::-1, ::-1],
    "rotated90": lambda rgb: np.rot90(rgb, 1),
    "rotated270": lambda rgb: np.rot90(rgb, -1),
    "transposed": lambda rgb: rgb.transpose(1, 0, 2),
    "antitransposed": lambda rgb: np.rot90(rgb, 2).transpose(1, 0, 2),
}
"""The 7 non-identity rotations and flips, as pixel operations."""
_ANCHOR_SIDE = 512
"""Anchored windows are found and hashed on a copy reduced by a whole factor to about this longer side."""
_WINDOW_SIDE = 128
"""Each window is hashed reduced by a whole factor to 1-2 times this longer side (PDQ keeps a 64x64 grid)."""
_ANCHORS = 3
"""Anchors per axis; every pair of them bounds a window, so up to 3 x 3 windows."""
_ANCHOR_SMOOTHING = 0.01
"""Width (standard deviation, as a share of the side) of the Gaussian that smooths a profile."""
_ANCHOR_SEPARATION = 0.15
"""Anchors on one axis are at least this share of the side apart, so a window is never a sliver."""
_MIN_KEEP = 0.2
"""A view must keep at least this share of the width and of the height, or it is not reported."""
_MIN_CHANGE = 0.02
"""A view that removes less than this share of the width and of the height adds nothing to the plain hash."""

Box = tuple[int, int, int, int]
"""A rectangle as (top, bottom, left, right), bottom and right exclusive."""


def robust_variants(rgb: np.ndarray) -> tuple[PdqVariant, ...]:
    """The extra PDQ hashes of a picture (``(h, w, 3)`` uint8), computed alike for uploads and banks.

    Border views (trimmed, content), anchored windows, and for small pictures the turned hashes. Only
    hashes of trustworthy quality (``MIN_QUALITY``) are reported; a flat picture therefore yields none.
    """
    variants = _border_views(rgb) + _anchored_views(rgb) + _turned_views(rgb)
    return tuple(variant for variant in variants if variant.quality >= MIN_QUALITY)


def query_hashes(signals: ImageSignals) -> tuple[str, ...]:
    """The hashes of an uploaded picture that are looked up in a bank.

    The matching rule of Stanch, defined here once: an upload matches a banked picture when any of its
    ``query_hashes`` is within the bank's threshold (31 by default) of any of the banked picture's
    ``bank_hashes``. The upload side contributes its plain hash and its views (trimmed, content,
    anchored windows: at most 12 lookups); the bank side adds the rotations and flips, so each
    geometric fix is paid for once, on one side.
    Hashes of quality below ``MIN_QUALITY`` are left out: Meta's PDQ gives no guarantee for them, and
    a flat picture would otherwise match every other flat picture.
    """
    hashes = [signals.pdq] if signals.quality >= MIN_QUALITY else []
    hashes += [v.pdq for v in signals.variants if v.quality >= MIN_QUALITY and v.name not in _TURNS]
    return _unique(hashes)


def bank_hashes(signals: ImageSignals) -> tuple[str, ...]:
    """The hashes of a banked picture that are indexed: see ``query_hashes`` for the matching rule.

    The 8 dihedral hashes (the first is the plain hash) and, for small pictures, the turned variants let
    mirrored and rotated copies match; the views let a copy that lost the original's borders or chrome
    match.
    """
    hashes = list(signals.pdq_dihedral or (signals.pdq,)) if signals.quality >= MIN_QUALITY else []
    hashes += [v.pdq for v in signals.variants if v.quality >= MIN_QUALITY]
    return _unique(hashes)


def _unique(hashes: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(hashes))


def _border_views(rgb: np.ndarray) -> list[PdqVariant]:
    """``trimmed`` and ``content``, when they differ from the whole picture and from each other."""
    height, width = rgb.shape[:2]
    seen: set[Box] = set()
    variants = []
    for name, box in _views(rgb):
        if box in seen or not _worth_hashing(box, height, width):
            continue
        seen.add(box)
        top, bottom, left, right = box
        hashed = pdq_of_rgb(rgb[top:bottom, left:right])
        variants.append(PdqVariant(name, hashed.hex, hashed.quality))
    return variants


def _anchored_views(rgb: np.ndarray) -> list[PdqVariant]:
    reduced = _reduce(rgb, _ANCHOR_SIDE)
    variants = []
    for number, (top, bottom, left, right) in enumerate(_anchored_windows(reduced), start=1):
        hashed = pdq_of_rgb(_reduce(reduced[top:bottom, left:right], _WINDOW_SIDE))
        variants.append(PdqVariant(f"anchored{number}", hashed.hex, hashed.quality))
    return variants


def _turned_views(rgb: np.ndarray) -> list[PdqVariant]:
    if max(rgb.shape[:2]) > _TURN_MAX_SIDE:
        return []
    return [PdqVariant(name, *_hex_and_quality(turn(rgb))) for name, turn in _TURNS.items()]


def _hex_and_quality(rgb: np.ndarray) -> tuple[str, int]:
    hashed = pdq_of_rgb(rgb)
    return hashed.hex, hashed.quality


def _views(rgb: np.ndarray) -> list[tuple[str, Box]]:
    """The named rectangles to hash, in full-resolution coordinates."""
    grey, step = _small_grey(rgb)
    whole = (0, grey.shape[0], 0, grey.shape[1])
    views = (("trimmed", _trim(grey, whole)), ("content", _strip_chrome(grey, whole)))
    return [(name, _full_resolution(box, step, grey.shape, rgb.shape)) for name, box in views]


def _small_grey(rgb: np.ndarray) -> tuple[np.ndarray, int]:
    """Luminance sampled every ``step`` pixels so that the longer side is at most ``_WORK_SIDE``.

    Returns the grey picture and the step. Sampling (rather than averaging blocks) keeps text and
    icons as thin as they are, so a caption line stays mostly background; JPEG noise on flat
    backgrounds is far below ``_TOLERANCE``.
    """
    step = _step(rgb.shape)
    sampled = rgb[step // 2 :: step, step // 2 :: step].astype(np.float32)
    return sampled @ np.array([0.299, 0.587, 0.114], np.float32), step


def _trim(grey: np.ndarray, box: Box) -> Box:
    """Peel uniform lines (letterbox, pillarbox, padding) off every side until each side shows detail."""
    while True:
        top, bottom, left, right = box
        inside = grey[top:bottom, left:right]
        runs = [_run(_line_shares(lines, _dominant(lines[0])) >= _UNIFORM) for lines in _sides(inside)]
        peeled = _shrink(box, runs)
        if peeled == box or _too_small(peeled, grey.shape):
            return box
        box = peeled


def _strip_chrome(grey: np.ndarray, box: Box) -> Box:
    """Peel bands of chrome off the sides: caption bars, status and app bars, a screenshot's margins.

    A band starts with a uniform line at the current edge and goes on while its lines keep at least
    ``_CHROME`` of their pixels at that line's colour: text, icons and buttons on a flat background. A
    photo's own edge rows are not uniform, so a picture without chrome keeps its edges. One band is
    peeled per round, from the side whose band is flattest, so that the plain margins of a screenshot go
    before the rows of a narrow picture inside it (which, with the margins, could pass for chrome).
    """
    while True:
        top, bottom, left, right = box
        inside = grey[top:bottom, left:right]
        best, best_flatness, best_run = 0, 0.0, 0
        for side, lines in enumerate(_sides(inside)):
            colour = _dominant(lines[0])
            shares = _line_shares(lines, colour)
            if shares[0] < _UNIFORM:
                continue
            run = _run(shares >= _CHROME)
            flatness = float(shares[:run].mean())
            if flatness > best_flatness:
                best, best_flatness, best_run = side, flatness, run
        runs = [0, 0, 0, 0]
        runs[best] = best_run
        peeled = _shrink(box, runs)
        if peeled == box or _too_small(peeled, grey.shape):
            return box
        box = peeled


def _sides(inside: np.ndarray) -> tuple[np.ndarray, ...]:
    """The lines of ``inside`` seen from each side, outermost first: top, bottom, left, right."""
    return inside, inside[::-1], inside.T, inside.T[::-1]


def _shrink(box: Box, runs: list[int]) -> Box:
    """``box`` with ``runs`` lines (top, bottom, left, right) removed."""
    top, bottom, left, right = box
    return top + runs[0], bottom - runs[1], left + runs[2], right - runs[3]


def _too_small(box: Box, shape: tuple[int, ...]) -> bool:
    top, bottom, left, right = box
    return bottom - top < shape[0] * _MIN_KEEP or right - left < shape[1] * _MIN_KEEP


def _dominant(line: np.ndarray) -> float:
    """The colour of a line: its median grey, which is the background's when most of it is background."""
    middle = len(line) // 2
    return float(np.partition(line, middle)[middle])


def _line_shares(lines: np.ndarray, colour: float) -> np.ndarray:
    """For each line, the share of its pixels within ``_TOLERANCE`` of ``colour``."""
    return np.mean(np.abs(lines - colour) <= _TOLERANCE, axis=1)


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
    bottom = full[0] if bottom == small[0] else bottom * step + step // 2
    right = full[1] if right == small[1] else right * step + step // 2
    return top * step + step // 2 if top else 0, bottom, left * step + step // 2 if left else 0, right


def _worth_hashing(box: Box, height: int, width: int) -> bool:
    top, bottom, left, right = box
    kept_h, kept_w = (bottom - top) / height, (right - left) / width
    if kept_h < _MIN_KEEP or kept_w < _MIN_KEEP:
        return False
    return kept_h <= 1 - _MIN_CHANGE or kept_w <= 1 - _MIN_CHANGE


def _reduce(rgb: np.ndarray, side: int) -> np.ndarray:
    """``rgb`` averaged over square blocks of a whole size, keeping its longer side at least ``side``."""
    factor = max(1, max(rgb.shape[:2]) // side)
    if factor == 1:
        return rgb
    return np.asarray(Image.fromarray(np.ascontiguousarray(rgb)).reduce(factor))


def _anchored_windows(rgb: np.ndarray) -> list[Box]:
    """Windows bounded by pairs of anchors on each axis: content-defined, so crops keep them."""
    grey = rgb.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    columns = _anchors(np.abs(np.diff(grey, axis=1)).mean(axis=0))
    rows = _anchors(np.abs(np.diff(grey, axis=0)).mean(axis=1))
    return [
        (round(top), round(bottom), round(left), round(right))
        for top, bottom in combinations(sorted(rows), 2)
        for left, right in combinations(sorted(columns), 2)
    ]


def _anchors(profile: np.ndarray) -> list[float]:
    """The positions of a profile's strongest peaks after smoothing, to a fraction of a pixel.

    A peak is where many edges line up (a horizon, a table edge, a building's side): it stays where it
    is when a crop takes away some of the other axis, and when the picture is rescaled.
    """
    length = len(profile)
    if length < 3:
        return []
    smooth = _gaussian_smooth(profile, max(1.0, _ANCHOR_SMOOTHING * length))
    inner = smooth[1:-1]
    peaks = np.flatnonzero((inner >= smooth[:-2]) & (inner > smooth[2:])) + 1
    chosen: list[float] = []
    for peak in peaks[np.argsort(-smooth[peaks], kind="stable")]:
        left, middle, right = smooth[peak - 1], smooth[peak], smooth[peak + 1]
        curvature = left - 2 * middle + right
        position = peak + (0.5 * (left - right) / curvature if curvature else 0.0)
        if all(abs(position - other) >= _ANCHOR_SEPARATION * length for other in chosen):
            chosen.append(float(position))
            if len(chosen) == _ANCHORS:
                break
    return chosen


def _gaussian_smooth(profile: np.ndarray, sigma: float) -> np.ndarray:
    radius = int(3 * sigma) + 1
    kernel = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    padded = np.pad(profile, radius, mode="edge")
    return np.convolve(padded, kernel / kernel.sum(), mode="valid")
