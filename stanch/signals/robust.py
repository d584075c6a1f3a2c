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
- ``spare1`` ... ``spare27`` (bank side only): the windows a fourth anchor per axis adds. A crop can
  remove or weaken one of the original's three strongest features; the upload's windows then lie
  between the original's fourth and two others.
- ``crop1`` ... ``crop8`` (bank side only): the windows that copies cropped by 0-15 % would be anchored
  on, when the anchored and spare windows do not already give them. An upload finds its anchors on its
  own profiles: a crop removes a peak near an edge, and the rows it removes change the column profile
  (the columns, the row profile), so a weaker peak can win. The bank simulates 100 crops (0, 5, 10 or
  15 % off each end, at most 15 % per axis), finds the anchors each would, and keeps the 8 windows
  most of them share. Hashing the crop rectangles themselves does not work: PDQ moves by 15-25
  bits when a window's edges move by 0.5 % of its side, so a grid fine enough would need hundreds of
  windows.
- No anchored, spare or crop window narrower than ``_MIN_WINDOW`` (30 %) of a side is hashed: such a
  window shows a generic patch, and matched different contents on the wallpaper corpus.
- ``mirrored``, ``flipped``, ``rotated180``, ``rotated90``, ``rotated270``, ``antitransposed`` (bank
  side only): the really turned pixels. The 8 dihedral hashes derived from one DCT are exact for a
  transpose but not for a flip: PDQ samples its 64x64 grid off-centre, so a mirrored copy lands 15-80
  bits from the derived hash at the sizes measured (128-768 pixels).

All views are computed from the picture alone, the same way for a banked original and an uploaded
copy, so the two land on the same rectangle. The bank-only views are computed only for a picture
hashed for a bank (``purpose="bank"``): an upload never looks them up, and they are most of the views.
They are hashed together (``fast_pdq.pdq_of_windows``) on the luma plane the plain hash was computed
from (reduced by a whole factor only when its shorter side is at least twice ``_HASH_SIDE``), so a
view and an upload's plain hash see the same pixels.

Everything here is a pure function of its arguments.
"""

from __future__ import annotations

from collections import Counter
from itertools import combinations, pairwise, product

import numpy as np

from stanch.signals._kernels import edge_profile, leading_shares, peaks
from stanch.signals.fast_pdq import Window, pdq_of_windows
from stanch.signals.pdq import MIN_QUALITY
from stanch.signals.types import PURPOSES, ImageSignals, PdqVariant, Purpose

_WORK_SIDE = 256
"""Borders are found on a copy sampled to at most this many pixels a side."""
_HASH_SIDE = 384
"""Views are hashed on a copy reduced by a whole factor to at least this shorter side. PDQ samples its
grid with little filtering, so a hash moves by 10-25 bits when the picture is reduced by 2-3 times:
views are hashed at the resolution the plain hash sees whenever that costs little."""
_TOLERANCE = 10.0
"""Grey levels (of 255) within which a pixel has the colour of its line: JPEG noise and anti-aliasing."""
_UNIFORM = 0.98
"""Share of a line's pixels at its colour (its median) for the line to be a uniform border."""
_CHROME = 0.45
"""Share of a band's colour for a line to stay in the band: a flat background with text or icons on it."""
_ANCHORS = 3
"""Anchors per axis for an upload's windows; every pair of them bounds a window, so up to 3 x 3."""
_BANK_ANCHORS = 4
"""Anchors per axis for a banked picture's windows (up to 6 x 6): a crop can drop or demote one of the
original's three strongest features, and the fourth then bounds the upload's window."""
_ANCHOR_SMOOTHING = 0.01
"""Width (standard deviation, as a share of the side) of the Gaussian that smooths a profile."""
_ANCHOR_SEPARATION = 0.15
"""Anchors on one axis are at least this share of the side apart, so a window is never a sliver."""
_MIN_KEEP = 0.2
"""A view must keep at least this share of the width and of the height, or it is not reported."""
_MIN_WINDOW = 0.3
"""An anchored, spare or crop window must keep at least this share of the width and of the height, or
it is not hashed. A narrow window between two strong lines of a periodic or plain-striped picture is a
generic patch: on the wallpaper corpus such windows (22-25 % of a side) of neighbouring tiles of one
pattern, and of two different soft pictures, came within 30 bits of each other. Chosen on 40 tiles of
the tune half (docs/robustness.md): at 0.3 the closest different contents were 58 bits apart instead
of 30, for 2 % of the edited copies found."""
_MIN_CHANGE = 0.02
"""A view that removes less than this share of the width and of the height adds nothing to the plain hash."""
_CROP_STEP = 0.05
"""The simulated crops take a whole number of these shares of a side off each end..."""
_CROP_STEPS = 3
"""... and at most this many off both ends together: 0-15 % of the width and of the height."""
_CROP_CUTS = tuple(
    (first * _CROP_STEP, last * _CROP_STEP)
    for first in range(_CROP_STEPS + 1)
    for last in range(_CROP_STEPS + 1 - first)
)
"""How much each simulated crop takes off one axis, as shares of the side: (start, end), 10 ways."""
_CROP_VIEWS = 8
"""Crop windows a banked picture keeps: the ones most of its simulated crops are anchored on."""
_SAME_ANCHOR = 0.003
"""Anchors this share of the side apart, found by different simulated crops, are one anchor."""

Box = tuple[int, int, int, int]
"""A rectangle as (top, bottom, left, right), bottom and right exclusive."""

_TURNS: dict[str, Window] = {
    "mirrored": (slice(None), slice(None, None, -1), False),
    "flipped": (slice(None, None, -1), slice(None), False),
    "rotated180": (slice(None, None, -1), slice(None, None, -1), False),
    "rotated90": (slice(None), slice(None, None, -1), True),
    "rotated270": (slice(None, None, -1), slice(None), True),
    "antitransposed": (slice(None, None, -1), slice(None, None, -1), True),
}
"""The turns that involve a flip, as windows: a quarter turn is a flip, transposed (``np.rot90(x)`` is
``x[:, ::-1].T``). The plain transpose is exact among the dihedral hashes."""
_BANK_ONLY = (*_TURNS, "spare", "crop", "tilted")
"""Views indexed for banked pictures only (by name prefix); an upload looks up the others, and a
picture hashed for a query (``purpose="query"``) does not compute them. ``tilted`` is the server-only
bank view of ``stanch.signals.levelled`` (its ``BANK_ONLY``; named here, as levelled builds on this
module)."""


def robust_variants(luma: np.ndarray, purpose: Purpose = "query") -> tuple[PdqVariant, ...]:
    """The extra PDQ hashes of a picture given as its 2-D luma plane.

    Border views (trimmed, content) and anchored windows, computed alike for uploads and banks; for
    ``purpose="bank"`` also the spare windows and turned pictures only ``bank_hashes`` uses. A view
    both purposes compute has the same name and hash in both, so matching does not depend on it.
    Only hashes of trustworthy quality (``MIN_QUALITY``) are reported; a flat picture yields none.
    """
    if purpose not in PURPOSES:
        raise ValueError(f"purpose must be one of {', '.join(PURPOSES)}, not {purpose!r}")
    bank = purpose == "bank"
    turns = _TURNS if bank else {}
    small = _reduce(luma)
    views = _border_views(luma, small.shape) + _anchored_views(small, _BANK_ANCHORS if bank else _ANCHORS)
    if bank:
        views += _crop_views(small, {box for _, box in views})
    names = [name for name, _ in views] + list(turns)
    windows = [(slice(top, bottom), slice(left, right), False) for _, (top, bottom, left, right) in views]
    hashed = pdq_of_windows(small, windows + list(turns.values()))
    return tuple(
        PdqVariant(name, pdq, quality)
        for name, (pdq, quality) in zip(names, hashed, strict=True)
        if quality >= MIN_QUALITY
    )


def query_hashes(signals: ImageSignals) -> tuple[str, ...]:
    """The hashes of an uploaded picture that are looked up in a bank.

    The matching rule of Stanch, defined here once: an upload matches a banked picture when any of its
    ``query_hashes`` is within the bank's threshold (31 by default) of any of the banked picture's
    ``bank_hashes``. The upload side contributes its plain hash and its views (trimmed, content,
    anchored windows: at most 12 lookups); the bank side adds the crop windows, rotations and flips, so
    each geometric fix is paid for once, on one side.
    Hashes of quality below ``MIN_QUALITY`` are left out: Meta's PDQ gives no guarantee for them, and
    a flat picture would otherwise match every other flat picture.
    """
    hashes = [signals.pdq] if signals.quality >= MIN_QUALITY else []
    hashes += [
        v.pdq for v in signals.variants if v.quality >= MIN_QUALITY and not v.name.startswith(_BANK_ONLY)
    ]
    return _unique(hashes)


def bank_hashes(signals: ImageSignals) -> tuple[str, ...]:
    """The hashes of a banked picture that are indexed: see ``query_hashes`` for the matching rule.

    The 8 dihedral hashes (the first is the plain hash) and the turned views let mirrored and rotated
    copies match; the border views and windows let a copy that lost the original's borders, chrome or
    a strip of its edges match.
    """
    hashes = list(signals.pdq_dihedral or (signals.pdq,)) if signals.quality >= MIN_QUALITY else []
    hashes += [v.pdq for v in signals.variants if v.quality >= MIN_QUALITY]
    return _unique(hashes)


def _unique(hashes: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(hashes))


def _reduce(luma: np.ndarray) -> np.ndarray:
    """``luma`` averaged over square blocks of a whole size (Pillow's ``reduce``) when its shorter side
    is at least twice ``_HASH_SIDE``, as uint8 when it is uint8 (a JPEG's luma), else as float32.

    Keeping uint8 planes as they are saves converting and copying the plane: the profiles and window
    hashes computed from it are bit for bit those of its float32 copy (tests/signals/test_robust.py).
    """
    factor = min(luma.shape) // _HASH_SIDE
    kind = np.uint8 if luma.dtype == np.uint8 else np.float32
    if factor <= 1:
        return np.asarray(luma, kind)
    from PIL import Image  # loaded for large pictures only: a folder of small JPEGs never needs Pillow

    plane = np.ascontiguousarray(luma, kind)
    return np.asarray(Image.fromarray(plane).reduce(factor), kind)


def _border_views(luma: np.ndarray, small: tuple[int, ...]) -> list[tuple[str, Box]]:
    """``trimmed`` and ``content`` on the reduced plane, when they differ from the whole and each other."""
    height, width = luma.shape
    seen: set[Box] = set()
    views = []
    for name, box in _views(luma):
        scaled = _scaled(box, luma.shape, small)
        if scaled in seen or not _worth_hashing(box, height, width):
            continue
        seen.add(scaled)
        views.append((name, scaled))
    return views


def _scaled(box: Box, full: tuple[int, ...], small: tuple[int, ...]) -> Box:
    top, bottom, left, right = box
    rows, cols = small[0] / full[0], small[1] / full[1]
    return round(top * rows), round(bottom * rows), round(left * cols), round(right * cols)


def _anchored_views(plane: np.ndarray, count: int) -> list[tuple[str, Box]]:
    """``anchoredN``: windows between the 3 strongest anchors per axis; ``spareN``: those with a 4th
    (when ``count`` is ``_BANK_ANCHORS``). The strongest anchors come first whatever ``count`` is, so
    the anchored windows do not depend on it."""
    columns = _anchors(_edge_profile(plane), count)
    rows = _anchors(_edge_profile(plane.T), count)
    named: list[tuple[str, Box]] = []
    spare: list[tuple[str, Box]] = []
    for (i, j), (k, m) in product(combinations(range(len(rows)), 2), combinations(range(len(columns)), 2)):
        top, bottom = sorted((rows[i], rows[j]))
        left, right = sorted((columns[k], columns[m]))
        views = named if max(i, j, k, m) < _ANCHORS else spare
        name = "anchored" if views is named else "spare"
        views.append((f"{name}{len(views) + 1}", (round(top), round(bottom), round(left), round(right))))
    return [(name, box) for name, box in named + spare if _wide_enough(box, plane.shape)]


def _wide_enough(box: Box, shape: tuple[int, ...]) -> bool:
    """Whether a window keeps ``_MIN_WINDOW`` of each side (its name is kept either way, so that the
    other windows keep theirs)."""
    top, bottom, left, right = box
    return bottom - top >= _MIN_WINDOW * shape[0] and right - left >= _MIN_WINDOW * shape[1]


def _crop_views(plane: np.ndarray, known: set[Box]) -> list[tuple[str, Box]]:
    """``cropN``: the windows that uploads cropped from the picture would be anchored on, most common first.

    An upload's anchors are the strongest peaks of *its* profiles: a crop takes away a peak near an
    edge, and the rows it removes change the column profile (and the columns, the row profile), so
    another peak can win. Each of the 10 x 10 simulated crops (``_CROP_CUTS`` per axis) finds the
    anchors the cropped copy would, on the profiles of the rows and columns it keeps; the windows they
    bound that the anchored and spare windows do not already give are counted, and the
    ``_CROP_VIEWS`` most frequent kept.
    """
    if min(plane.shape) < 3:
        return []
    columns = _cut_anchors(plane)  # [cut of the rows][cut of the columns]
    rows = _cut_anchors(plane.T)  # [cut of the columns][cut of the rows]
    counts: Counter[Box] = Counter()
    for i, j in product(range(len(_CROP_CUTS)), repeat=2):
        windows = product(combinations(rows[j][i], 2), combinations(columns[i][j], 2))
        counts.update((top, bottom, left, right) for (top, bottom), (left, right) in windows)
    wide = [box for box, _ in counts.most_common() if box not in known and _wide_enough(box, plane.shape)]
    boxes = wide[:_CROP_VIEWS]
    return [(f"crop{n + 1}", box) for n, box in enumerate(boxes)]


def _cut_anchors(plane: np.ndarray) -> list[list[list[int]]]:
    """For each cut of the rows, then each cut of the columns (``_CROP_CUTS``), the anchors a copy
    cropped so finds on its columns (``_anchors``), in pixels of ``plane``, left to right.

    Each profile is smoothed once, over the whole width, and a cut keeps the peaks inside it: a copy
    smooths its own narrower profile a little less, which moves a peak by a fraction of a pixel.
    Anchors found by several cuts within ``_SAME_ANCHOR`` of the side are snapped to the first found,
    so that the windows they bound are counted as one.
    """
    seen: list[float] = []
    tolerance = _SAME_ANCHOR * plane.shape[1]
    found = []
    for profile in _kept_profiles(plane):
        length = len(profile)
        indices, where = _peaks(profile)
        found_at, positions = np.asarray(indices), np.asarray(where)
        by_cut = []
        for first, last in _CROP_CUTS:
            start, stop = round(length * first), length - round(length * last)
            inside = positions[(found_at > start) & (found_at < stop - 1)].tolist()
            anchors = _strongest(inside, _ANCHORS, _ANCHOR_SEPARATION * (stop - start))
            by_cut.append(sorted(round(_snap(anchor, seen, tolerance)) for anchor in anchors))
        found.append(by_cut)
    return found


def _kept_profiles(plane: np.ndarray) -> list[np.ndarray]:
    """``_edge_profile`` of the rows each cut of ``_CROP_CUTS`` keeps, times their count (peaks do not
    depend on scale). The plane is measured once, in blocks between cuts, whose sums are added up."""
    rows = plane.shape[0]
    kept = [(round(rows * first), rows - round(rows * last)) for first, last in _CROP_CUTS]
    bounds = sorted({edge for pair in kept for edge in pair})
    blocks = [_edge_profile(plane[start:stop]) * float(stop - start) for start, stop in pairwise(bounds)]
    sums = np.cumsum([np.zeros(plane.shape[1] - 1), *blocks], axis=0)
    index = {edge: n for n, edge in enumerate(bounds)}
    return [sums[index[stop]] - sums[index[start]] for start, stop in kept]


def _snap(position: float, seen: list[float], tolerance: float) -> float:
    """The first of ``seen`` within ``tolerance`` of ``position``, or ``position`` (then added to it)."""
    for other in seen:
        if abs(position - other) <= tolerance:
            return other
    seen.append(position)
    return position


def _views(luma: np.ndarray) -> list[tuple[str, Box]]:
    """The named border rectangles, in full-resolution coordinates."""
    grey, step = _small_grey(luma)
    whole = (0, grey.shape[0], 0, grey.shape[1])
    views = (("trimmed", _trim(grey, whole)), ("content", _strip_chrome(grey, whole)))
    return [(name, _full_resolution(box, step, grey.shape, luma.shape)) for name, box in views]


def _small_grey(luma: np.ndarray) -> tuple[np.ndarray, int]:
    """Luma sampled every ``step`` pixels so that the longer side is at most ``_WORK_SIDE``.

    Returns the sampled plane and the step. Sampling (rather than averaging blocks) keeps text and
    icons as thin as they are, so a caption line stays mostly background; JPEG noise on flat
    backgrounds is far below ``_TOLERANCE``. A uint8 plane (a JPEG's luma) is sampled as a view, not
    copied to float32: the C measures read the same values.
    """
    step = _step(luma.shape)
    sampled = luma[step // 2 :: step, step // 2 :: step]
    return (sampled if sampled.dtype == np.uint8 else sampled.astype(np.float32)), step


def _trim(grey: np.ndarray, box: Box) -> Box:
    """Peel uniform lines (letterbox, pillarbox, padding) off every side until each side shows detail."""
    while True:
        top, bottom, left, right = box
        inside = grey[top:bottom, left:right]
        runs = [len(_leading_shares(lines, _UNIFORM)) for lines in _sides(inside)]
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
            band = _leading_shares(lines, _CHROME)
            if not band or band[0] < _UNIFORM:
                continue
            run = len(band)
            flatness = sum(band) / run
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


def _leading_shares(lines: np.ndarray, minimum: float) -> list[float]:
    """The colour of a side (the median grey of its outermost line: the background's when most of it is
    background), then, for the leading lines (rows of ``lines``) with at least ``minimum`` of their
    pixels within ``_TOLERANCE`` of it, that share, line by line. In C: most sides of a photo end the
    run at their first line, and a numpy call per line costs more than the line."""
    return leading_shares(lines, _TOLERANCE, minimum)


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


def _edge_profile(plane: np.ndarray) -> np.ndarray:
    """Gradient energy across each column: the mean absolute step to the next column, over rows
    sampled to about 512, every n-th (in C, one pass over the plane)."""
    profile = np.empty(max(plane.shape[1] - 1, 0), np.float32)
    if profile.size:
        edge_profile(plane, profile)
    return profile


def _anchors(profile: np.ndarray, count: int) -> list[float]:
    """The positions of a profile's ``count`` strongest peaks, strongest first, after smoothing by a
    Gaussian (``_ANCHOR_SMOOTHING``), refined between pixels, ``_ANCHOR_SEPARATION`` apart (in C).

    A peak is where many edges line up (a horizon, a table edge, a building's side): it stays where it
    is when a crop takes away some of the other axis, and when the picture is rescaled.
    """
    _, positions = _peaks(profile)
    return _strongest(positions, count, _ANCHOR_SEPARATION * len(profile))


def _peaks(profile: np.ndarray) -> tuple[list[int], list[float]]:
    """A profile's local maxima after smoothing by a Gaussian (``_ANCHOR_SMOOTHING`` of its length),
    strongest first: their indices, and their positions between pixels (the vertex of the parabola
    through the maximum and its two neighbours). In C."""
    return peaks(np.ascontiguousarray(profile, np.float32), _ANCHOR_SMOOTHING)


def _strongest(positions: list[float], count: int, separation: float) -> list[float]:
    """The first ``count`` of ``positions`` (strongest first) at least ``separation`` from each other."""
    chosen: list[float] = []
    for position in positions:
        if all(abs(position - other) >= separation for other in chosen):
            chosen.append(position)
            if len(chosen) == count:
                break
    return chosen


def trimmed_box(luma: np.ndarray) -> Box | None:
    """The picture without its uniform borders (letterbox, pillarbox, padding), as a box on ``luma``;
    None when no border is thick enough to be worth a hash of its own. Video frames hash this view
    (``stanch.signals.frame_views``) on the plane ``view_plane`` gives."""
    grey, step = _small_grey(luma)
    box = _full_resolution(_trim(grey, (0, grey.shape[0], 0, grey.shape[1])), step, grey.shape, luma.shape)
    return box if _worth_hashing(box, *luma.shape) else None


def view_plane(luma: np.ndarray) -> np.ndarray:
    """The reduced copy of ``luma`` that views are hashed on (PDQ keeps only a 64x64 grid): uint8 when
    ``luma`` is (a JPEG's or a video frame's own luma), else float32, as ``_reduce`` gives it.

    Left as uint8 rather than copied to float32 (a third of a millisecond for a 640x480 picture, most of
    what numpy spent on one): PDQ's kernels read the same values either way, so the views' hashes are
    bit for bit the same (tests/signals/test_levelled.py)."""
    return _reduce(luma)
