"""PDQ computed with numpy from a luma plane: the same algorithm as Meta's C++, vectorised.

``pdqhash`` (Meta's C++) filters with loops whose cost grows with the picture's size *and* the filter
window, so a 12-megapixel photo takes over half a second; these few array operations take milliseconds
and start from luma, which a JPEG decoder can hand over without converting colours at all. The steps are
Meta's (pdqhashing.cpp): luma, two passes of a Jarosz box filter along rows and columns, sampling a
64x64 grid, a 16x16 DCT, bits above the median; the quality is the same gradient sum. Results stay
within a few bits of ``pdqhash`` (float rounding differs); the conformance tests hold this module to
Meta's 10-bit tolerance, with ``pdqhash`` as the reference.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from stanch.signals.pdq import PDQ_HEX_LENGTH, bits_to_hex

_GRID = 64
MIN_HASHABLE_SIDE = 5
"""Meta's MIN_HASHABLE_DIM: a picture narrower than this gets the all-zero hash and quality 0."""
_DCT_SIZE = 16
_LUMA_FROM_RGB = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def _dct_matrix() -> np.ndarray:
    """Meta's 16x64 DCT-II rows, skipping the constant (DC) row."""
    i = np.arange(1, _DCT_SIZE + 1)[:, None]
    j = np.arange(_GRID)[None, :]
    return (np.sqrt(2.0 / _GRID) * np.cos(np.pi / 2 / _GRID * i * (2 * j + 1))).astype(np.float64)


_DCT = _dct_matrix()
_ODD = (np.arange(_DCT_SIZE) % 2 == 1)
_ROW_ODD = np.broadcast_to(_ODD[:, None], (_DCT_SIZE, _DCT_SIZE))
_COL_ODD = np.broadcast_to(_ODD[None, :], (_DCT_SIZE, _DCT_SIZE))
_SUM_ODD = _ROW_ODD ^ _COL_ODD


def luma_of_rgb(rgb: np.ndarray) -> np.ndarray:
    """PDQ's luma (ITU-R 601 weights) of a ``(h, w, 3)`` uint8 array, as float32."""
    return rgb.astype(np.float32) @ _LUMA_FROM_RGB


def pdq_dihedral_of_luma(luma: np.ndarray) -> tuple[tuple[str, ...], int]:
    """The 8 dihedral PDQ hashes (``pdq.DIHEDRAL_NAMES`` order) and the quality of a 2-D luma plane."""
    if min(luma.shape) < MIN_HASHABLE_SIDE:
        return ("0" * PDQ_HEX_LENGTH,) * 8, 0
    grid = _grid64(luma)
    dct = _DCT @ grid.astype(np.float64) @ _DCT.T
    return tuple(_hash_hex(view) for view in _dihedral_dcts(dct)), _quality(grid)


def _box_bounds(n: int, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Where Meta's ``box1DFloat`` window starts and ends (exclusive) for each of ``n`` outputs.

    It is a centred running mean whose window shrinks at the edges.
    """
    half = (window + 2) // 2
    index = np.arange(n)
    return np.maximum(index - (window - half), 0), np.minimum(index + half, n)


@lru_cache(maxsize=1024)
def _sampling_band(n: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``(64, width)`` pixel indices and weights that give PDQ's 64 samples of two box-filter
    passes along an axis of ``n`` pixels.

    Filtering is linear, so "box filter twice, then keep 64 samples" is one small matrix, and each
    sample only reads about two filter windows of pixels: its band. A sample is a window of the first
    pass (averaged) passed through the second pass once more; transposed, output pixel ``i`` gets the
    running sum of ``1 / count`` over the first-pass window, between the bounds of ``i``'s own window.
    Views have sizes of their own, so this is computed often; the cache (1,024 sizes, under 10 MB)
    keeps a server's common sizes.
    """
    window = (n + 2 * _GRID - 1) // (2 * _GRID)
    starts, ends = _box_bounds(n, window)
    samples = ((np.arange(_GRID) + 0.5) * n / _GRID).astype(np.intp)
    first, last = starts[samples, None], ends[samples, None]  # each sample's first-pass window
    span = int((last - first).max())
    inside = np.minimum(first + np.arange(span), n - 1)
    shares = np.where(np.arange(span) < last - first, 1 / (last - first), 0.0) / (ends - starts)[inside]
    sums = np.cumsum(shares, axis=1)
    half = (window + 2) // 2

    def weights(index: np.ndarray) -> np.ndarray:
        return running(np.minimum(index + (window - half) + 1, n)) - running(np.maximum(index - half + 1, 0))

    def running(stop: np.ndarray) -> np.ndarray:  # the running sum over [first, stop)
        position = np.clip(stop - first - 1, 0, span - 1)
        return np.where(stop <= first, 0.0, np.take_along_axis(sums, position, axis=1))

    reach = span + 2 * window + 4
    near = np.clip(first - window - 2 + np.arange(reach), 0, n - 1)  # holds every nonzero weight
    support = weights(near) != 0
    rows = np.arange(_GRID)
    low = near[rows, support.argmax(axis=1)]
    width = int((near[rows, reach - 1 - support[:, ::-1].argmax(axis=1)] + 1 - low).max())
    index = np.minimum(low, n - width)[:, None] + np.arange(width)
    band = weights(index).astype(np.float32)
    index.flags.writeable = band.flags.writeable = False  # shared by every call through the cache
    return index, band


def _grid64(luma: np.ndarray) -> np.ndarray:
    """Meta's 64x64 grid: two Jarosz filter passes along rows and columns, sampled."""
    rows, cols = luma.shape
    col_index, col_band = _sampling_band(cols)
    row_index, row_band = _sampling_band(rows)
    across = np.einsum("rks,ks->rk", luma[:, col_index], col_band)
    return np.einsum("ksc,ks->kc", across[row_index, :], row_band)


def _quality(grid: np.ndarray) -> int:
    """Meta's quality: the summed absolute gradients of the 64x64 grid, scaled to 0-100."""
    return _qualities(grid[None])[0]


def _dihedral_dcts(dct: np.ndarray) -> tuple[np.ndarray, ...]:
    """The DCT of each rotation and flip, derived from the original's by transposes and sign flips."""
    flip_rows = np.where(_ROW_ODD, dct, -dct)
    flip_cols = np.where(_COL_ODD, dct, -dct)
    rotate180 = np.where(_SUM_ODD, -dct, dct)
    return (
        dct,
        flip_cols.T,
        rotate180,
        flip_rows.T,
        flip_rows,
        flip_cols,
        dct.T,
        rotate180.T,
    )


def _hash_hex(dct: np.ndarray) -> str:
    """Bits above the median, in pdqhash's bit order, as exchange hex."""
    values = dct.ravel()
    median = np.partition(values, values.size // 2 - 1)[values.size // 2 - 1]  # Meta's (lower) median
    bits = (values > median)[::-1]
    return bits_to_hex(bits)


Window = tuple[slice, slice, bool]
"""Rows and columns of a luma plane (a step of -1 flips that axis), and whether to hash it transposed."""


def pdq_of_windows(luma: np.ndarray, windows: Sequence[Window]) -> list[tuple[str, int]]:
    """The PDQ hash and quality of ``luma[rows, cols]`` (or its transpose) for each window, together.

    Robustness views hash a few dozen windows (crops, flips) of one picture. Hashed one by one, the
    fixed cost of each call dominates; here windows that share a column slice share one filtering
    pass, and the row pass, DCT, median and quality run on all windows at once. A transposed
    picture's grid is the transposed grid, so its hash costs nothing more. Each result is
    ``pdq_dihedral_of_luma(luma[rows, cols])[0][0]`` (of its ``.T`` when transposed) and its quality,
    up to float rounding.
    """
    height, width = luma.shape
    keys = [(rows.indices(height), cols.indices(width)) for rows, cols, _ in windows]
    hashable = list(dict.fromkeys(
        key for key in keys if min(len(range(*key[0])), len(range(*key[1]))) >= MIN_HASHABLE_SIDE
    ))
    if not hashable:
        return [("0" * PDQ_HEX_LENGTH, 0)] * len(windows)
    columns = list(dict.fromkeys(cols for _, cols in hashable))
    col_index, col_band = _stacked_bands([np.arange(*cols) for cols in columns])
    # Whole rows of the transposed plane are gathered (contiguous copies), then weighted and summed. A
    # uint8 plane stays uint8 (a quarter of the bytes to copy): einsum converts each gathered pixel
    # to float32 as it goes, so the sums are those of the float32 plane, bit for bit.
    by_column = np.ascontiguousarray(luma.T, dtype=np.uint8 if luma.dtype == np.uint8 else np.float32)
    across = np.einsum("kqs,kqsr->kqr", col_band, by_column[col_index])  # (slices, 64, rows)
    row_index, row_band = _stacked_bands([np.arange(*rows) for rows, _ in hashable])
    which = np.array([columns.index(cols) for _, cols in hashable])[:, None, None]
    flat = np.ascontiguousarray(across.transpose(0, 2, 1)).reshape(-1, _GRID)  # (slices x rows, 64)
    grids = np.einsum("vis,visq->viq", row_band, flat[which * height + row_index])
    dcts = _DCT @ grids.astype(np.float64) @ _DCT.T
    qualities = _qualities(grids)
    plain = dict(zip(hashable, zip(_hash_hexes(dcts), qualities, strict=True), strict=True))
    transposes = _hash_hexes(dcts.transpose(0, 2, 1))
    turned = dict(zip(hashable, zip(transposes, qualities, strict=True), strict=True))
    return [
        (turned if transposed else plain).get(key, ("0" * PDQ_HEX_LENGTH, 0))
        for key, (_, _, transposed) in zip(keys, windows, strict=True)
    ]


def _qualities(grids: np.ndarray) -> list[int]:
    """``_quality`` of a stack of grids, in one pass."""
    scaled = np.asarray(grids, np.float32)
    down = _gradient_sums(scaled[:, :-1, :] - scaled[:, 1:, :])
    across = _gradient_sums(scaled[:, :, :-1] - scaled[:, :, 1:])
    return [int(q) for q in np.minimum((down + across) // 90, 100)]


def _gradient_sums(steps: np.ndarray) -> np.ndarray:
    """Per grid, Meta's sum of each step's absolute value x 100 / 255 truncated to a whole number,
    in float32 as Meta computes it; in place, since fresh arrays cost more than this arithmetic."""
    steps *= 100
    steps /= 255
    return np.abs(steps, out=steps).astype(np.int32).sum(axis=(1, 2), dtype=np.int64)


def _hash_hexes(dcts: np.ndarray) -> list[str]:
    """``_hash_hex`` of a stack of DCTs, in one pass."""
    values = dcts.reshape(len(dcts), -1)
    middle = values.shape[1] // 2 - 1
    medians = np.partition(values, middle, axis=1)[:, middle : middle + 1]
    packed = np.packbits((values > medians)[:, ::-1], axis=1)
    return [row.tobytes().hex() for row in packed]


def _stacked_bands(axes: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """``_sampling_band`` of each axis, mapped to its positions and padded to one width with zeros."""
    bands = [_sampling_band(len(positions)) for positions in axes]
    width = max(band.shape[1] for _, band in bands)
    index = np.zeros((len(axes), _GRID, width), np.intp)
    weights = np.zeros((len(axes), _GRID, width), np.float32)
    for number, (positions, (local, band)) in enumerate(zip(axes, bands, strict=True)):
        index[number, :, : band.shape[1]] = positions[local]
        weights[number, :, : band.shape[1]] = band
    return index, weights
