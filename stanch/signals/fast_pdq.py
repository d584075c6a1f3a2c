"""PDQ computed from a luma plane: the same algorithm as Meta's C++, with its filtering in a small C kernel.

``pdqhash`` (Meta's C++) filters with loops whose cost grows with the picture's size *and* the filter
window, so a 12-megapixel photo takes over half a second. Here filtering and sampling are one small
banded matrix per axis (``_sampling_band``, computed once per size in numpy), applied in C
(``_kernels.c``) straight to luma, which a JPEG decoder can hand over without converting colours at
all; many windows of one picture (the robustness views) share the pass along their rows. The steps are
Meta's (pdqhashing.cpp): luma, two passes of a Jarosz box filter along rows and columns, sampling a
64x64 grid, a 16x16 DCT, bits above the median; the quality is the same gradient sum. Given the same
pixels the hashes are ``pdqhash``'s bit for bit on the conformance images and within a few bits on
generated ones (float rounding); the conformance tests hold this module to that, with ``pdqhash`` as
the reference.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from stanch.signals._kernels import luma_rgb as _luma_rgb
from stanch.signals._kernels import sample_grids, sampling_band
from stanch.signals.pdq import PDQ_HEX_LENGTH

_GRID = 64
Span = tuple[int, int, int]
"""Positions along an axis as ``slice.indices`` gives them: start, stop, step."""
MIN_HASHABLE_SIDE = 5
"""Meta's MIN_HASHABLE_DIM: a picture narrower than this gets the all-zero hash and quality 0."""
_DCT_SIZE = 16
_LUMA_FROM_RGB = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def _dct_matrix() -> np.ndarray:
    """Meta's 16x64 DCT-II rows, skipping the constant (DC) row."""
    i = np.arange(1, _DCT_SIZE + 1)[:, None]
    j = np.arange(_GRID)[None, :]
    return (np.sqrt(2.0 / _GRID) * np.cos(np.pi / 2 / _GRID * i * (2 * j + 1))).astype(np.float32)


_DCT = _dct_matrix()
_ODD = (np.arange(_DCT_SIZE) % 2 == 1)
_ROW_ODD = np.broadcast_to(_ODD[:, None], (_DCT_SIZE, _DCT_SIZE))
_COL_ODD = np.broadcast_to(_ODD[None, :], (_DCT_SIZE, _DCT_SIZE))
_SUM_ODD = _ROW_ODD ^ _COL_ODD


def luma_of_rgb(rgb: np.ndarray) -> np.ndarray:
    """PDQ's luma (ITU-R 601 weights) of a ``(h, w, 3)`` uint8 array, as float32: ``(0.299 r + 0.587
    g) + 0.114 b`` with each product and sum rounded to float32, as pdqhash's C++ computes it, in C.

    Not ``rgb @ weights``: numpy sends that product to OpenBLAS, whose kernels (chosen per CPU) fuse
    the multiply-adds on some machines, so the same picture hashed differently on an AVX-512 machine
    (two conformance pictures' bank views moved); and it needed a float32 copy of all three channels."""
    pixels = np.ascontiguousarray(rgb, np.uint8)
    luma = np.empty(pixels.shape[:2], np.float32)
    _luma_rgb(pixels, luma)
    return luma


def pdq_dihedral_of_luma(luma: np.ndarray) -> tuple[tuple[str, ...], int]:
    """The 8 dihedral PDQ hashes (``pdq.DIHEDRAL_NAMES`` order) and the quality of a 2-D luma plane."""
    if min(luma.shape) < MIN_HASHABLE_SIDE:
        return ("0" * PDQ_HEX_LENGTH,) * 8, 0
    grid, quality = _grid64(luma)
    dct = _DCT @ grid @ _DCT.T
    return tuple(_hash_hexes(np.stack(_dihedral_dcts(dct)))), quality


@lru_cache(maxsize=1024)
def _sampling_band(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Where each of PDQ's 64 samples along an axis of ``n`` pixels starts (``(64,)`` int32) and the
    ``(64, width)`` weights of the pixels from there: two box-filter passes, sampled.

    Filtering is linear, so "box filter twice, then keep 64 samples" is one small matrix, and each
    sample only reads about two filter windows of pixels: its band. A sample is a window of the first
    pass (averaged) passed through the second pass once more; transposed, output pixel ``i`` gets the
    running sum of ``1 / count`` over the first-pass window, between the bounds of ``i``'s own window.
    Computed in C (``_kernels.sampling_band``: the robustness views' windows have sizes of their own, so
    most bands of a picture are new sizes, and numpy took about 0.17 ms a band, a fifth of hashing a
    640x480 JPEG); tests/signals/test_fast_pdq.py holds it bit for bit equal to the numpy version it
    replaced. The cache (1,024 sizes, under 10 MB) keeps a server's common sizes.
    """
    starts, weights, width = sampling_band(n)
    # Read-only views of the bytes: shared by every call through the cache.
    return np.frombuffer(starts, np.int32), np.frombuffer(weights, np.float32).reshape(_GRID, width)


def _grid64(luma: np.ndarray) -> tuple[np.ndarray, int]:
    """Meta's 64x64 grid (two Jarosz filter passes along rows and columns, sampled) and its quality."""
    plane = _as_plane(luma)
    grids, qualities = _sample_windows(plane, (0, plane.shape[0], 1), [(0, plane.shape[1], 1)])
    return grids[0], qualities[0]


def _as_plane(luma: np.ndarray) -> np.ndarray:
    """``luma`` as the C kernel takes it: uint8 (a JPEG's own luma) or float32, any strides."""
    return luma if luma.dtype in (np.uint8, np.float32) else luma.astype(np.float32)


def _sample_windows(plane: np.ndarray, rows: Span, columns: list[Span]) -> tuple[np.ndarray, list[int]]:
    """PDQ's 64x64 grids of the windows ``plane[rows, cols]`` for each of ``columns`` (``slice.indices``
    spans, all with the same step along the columns, 1 or -1), and their qualities (Meta's sum of a
    grid's gradients, 0-100), in C.

    The windows share one filtering pass along the columns of the rows they span (the row pass, most of
    the work); each then samples its own columns from it.
    """
    step = columns[0][2]
    edge = plane.shape[1] - 1
    spans = [(first, end) if step == 1 else (edge - first, edge - end) for first, end, _ in columns]
    low, high = min(first for first, _ in spans), max(end for _, end in spans)
    turned = plane[_slice(rows)][:, ::step][:, low:high]  # a window read backwards is read forwards here
    bands = [(*_sampling_band(end - first), first - low) for first, end in spans]
    grids = np.empty((len(spans), _GRID, _GRID), np.float32)
    qualities = sample_grids(turned, *_sampling_band(len(range(*rows))), bands, grids)
    return grids, qualities


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


Window = tuple[slice, slice, bool]
"""Rows and columns of a luma plane (a step of -1 flips that axis), and whether to hash it transposed."""


def pdq_of_windows(luma: np.ndarray, windows: Sequence[Window]) -> list[tuple[str, int]]:
    """The PDQ hash and quality of ``luma[rows, cols]`` (or its transpose) for each window, together.

    Robustness views hash a few dozen windows (crops, flips) of one picture. Windows over the same rows
    share their filtering pass along the rows (``_sample_windows``), and the DCT and median run on all
    windows at once. A transposed picture's grid is the transposed grid, so its hash costs nothing
    more. Each result is ``pdq_dihedral_of_luma(luma[rows, cols])[0][0]`` (of its ``.T`` when
    transposed) and its quality.
    """
    height, width = luma.shape
    keys = [(rows.indices(height), cols.indices(width)) for rows, cols, _ in windows]
    hashable = list(dict.fromkeys(
        key for key in keys if min(len(range(*key[0])), len(range(*key[1]))) >= MIN_HASHABLE_SIDE
    ))
    if not hashable:
        return [("0" * PDQ_HEX_LENGTH, 0)] * len(windows)
    plane = _as_plane(luma)
    groups: dict[tuple[Span, int], list[int]] = {}
    for number, (rows, cols) in enumerate(hashable):
        groups.setdefault((rows, cols[2]), []).append(number)
    grids = np.empty((len(hashable), _GRID, _GRID), np.float32)
    qualities = [0] * len(hashable)
    for (rows, _), members in groups.items():
        sampled, measured = _sample_windows(plane, rows, [hashable[number][1] for number in members])
        grids[members] = sampled
        for number, quality in zip(members, measured, strict=True):
            qualities[number] = quality
    dcts = _DCT @ grids @ _DCT.T
    plain = dict(zip(hashable, zip(_hash_hexes(dcts), qualities, strict=True), strict=True))
    turned = {}  # a query hashes no transposed window: their hashes are made only when asked for
    if any(transposed for _, _, transposed in windows):
        transposes = _hash_hexes(dcts.transpose(0, 2, 1))
        turned = dict(zip(hashable, zip(transposes, qualities, strict=True), strict=True))
    return [
        (turned if transposed else plain).get(key, ("0" * PDQ_HEX_LENGTH, 0))
        for key, (_, _, transposed) in zip(keys, windows, strict=True)
    ]


def _slice(indices: Span) -> slice:
    """The slice ``slice.indices`` described; a reversed run down to the first pixel stops at None
    (its -1 would mean the last pixel)."""
    start, stop, step = indices
    return slice(start, stop if stop >= 0 else None, step)


def _hash_hexes(dcts: np.ndarray) -> list[str]:
    """The hash of each of a stack of DCTs, in one pass: bits above the median (Meta's lower median),
    in pdqhash's bit order, as exchange hex."""
    values = dcts.reshape(len(dcts), -1)
    middle = values.shape[1] // 2 - 1
    medians = np.partition(values, middle, axis=1)[:, middle : middle + 1]
    packed = np.packbits((values > medians)[:, ::-1], axis=1)
    return [row.tobytes().hex() for row in packed]
