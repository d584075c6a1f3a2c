"""The vectorised PDQ against Meta's C++ (``pdqhash``) on generated pictures of awkward sizes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pdqhash
import pytest
from PIL import Image

from stanch.signals._kernels import sample_grids, sampling_band
from stanch.signals.fast_pdq import _grid64, _sampling_band, luma_of_rgb, pdq_dihedral_of_luma
from stanch.signals.pdq import MIN_QUALITY, hamming_hex, pdq_dihedral_of_rgb


def _picture(height: int, width: int, seed: int) -> np.ndarray:
    """Smooth random shapes: coarse noise scaled up, like a photo's low frequencies."""
    coarse = np.random.default_rng(seed).integers(0, 256, (6, 8, 3), dtype=np.uint8)
    return np.asarray(Image.fromarray(coarse).resize((width, height), Image.Resampling.BICUBIC))


@pytest.mark.parametrize(("height", "width"), [(1, 1), (3, 5), (63, 64), (64, 65), (100, 1000), (480, 640),
                                               (1004, 1600), (2001, 1499)])
def test_matches_pdqhash_on_every_rotation(height: int, width: int) -> None:
    for seed in range(3):
        rgb = _picture(height, width, seed)
        reference, reference_quality = pdq_dihedral_of_rgb(rgb)
        ours, quality = pdq_dihedral_of_luma(luma_of_rgb(rgb))
        assert abs(quality - reference_quality) <= 1
        distance = max(hamming_hex(a, b) for a, b in zip(ours, reference, strict=True))
        assert distance <= 4, (height, width, seed)


def test_flat_picture_has_quality_zero() -> None:
    _, quality = pdq_dihedral_of_luma(np.full((50, 80), 128, dtype=np.uint8))
    assert quality == 0
    assert pdqhash.compute(np.full((50, 80, 3), 128, dtype=np.uint8))[1] == 0


def test_luma_input_equals_grey_rgb_input() -> None:
    grey = _picture(120, 90, 7)[:, :, 0]
    assert pdq_dihedral_of_luma(grey) == pdq_dihedral_of_luma(luma_of_rgb(np.stack([grey] * 3, axis=2)))


def test_bit_for_bit_with_pdqhash_on_the_conformance_images(conformance: Path) -> None:
    """Given the same pixels (a full decode converted to RGB), the hashes are pdqhash's exactly."""
    with (conformance / "pdq" / "expected-pdqhash.jsonl").open() as lines:
        expected = [json.loads(line) for line in lines]
    for entry in expected:
        if entry["quality"] < MIN_QUALITY:
            continue
        rgb = np.asarray(Image.open(conformance / entry["path"]).convert("RGB"))
        assert pdq_dihedral_of_luma(luma_of_rgb(rgb)) == (tuple(entry["pdq_dihedral"]), entry["quality"])


def _box_filter(values: np.ndarray, window: int) -> np.ndarray:
    """Meta's box1DFloat along the last axis, plainly: a centred mean whose window shrinks at the edges."""
    n = values.shape[-1]
    half = (window + 2) // 2
    out = np.empty_like(values)
    for i in range(n):
        out[..., i] = values[..., max(i - (window - half), 0) : min(i + half, n)].mean(axis=-1)
    return out


@pytest.mark.parametrize("n", [5, 63, 64, 200, 480, 641, 1000])
def test_sampling_band_is_two_box_filter_passes_sampled(n: int) -> None:
    window = (n + 127) // 128
    dense = _box_filter(_box_filter(np.eye(n), window), window)  # row i: how pixel i spreads
    samples = ((np.arange(64) + 0.5) * n / 64).astype(np.intp)
    expected = dense[:, samples].T  # (64, n): each sample's weight on each pixel
    starts, band = _sampling_band(n)
    index = starts[:, None] + np.arange(band.shape[1])
    weights = np.zeros((64, n))
    np.put_along_axis(weights, index, band, axis=1)
    np.testing.assert_allclose(weights, expected, atol=1e-7)


def _numpy_sampling_band(n: int) -> tuple[np.ndarray, np.ndarray]:
    """``_sampling_band`` as it was computed in numpy until December 2026 (now ``_kernels.sampling_band``
    in C): kept here as the oracle, so that hashes made before and after the move stay the same."""
    window = (n + 2 * 64 - 1) // (2 * 64)
    half = (window + 2) // 2
    index = np.arange(n)
    starts, ends = np.maximum(index - (window - half), 0), np.minimum(index + half, n)
    samples = ((np.arange(64) + 0.5) * n / 64).astype(np.intp)
    first, last = starts[samples, None], ends[samples, None]
    span = int((last - first).max())
    inside = np.minimum(first + np.arange(span), n - 1)
    shares = np.where(np.arange(span) < last - first, 1 / (last - first), 0.0) / (ends - starts)[inside]
    sums = np.cumsum(shares, axis=1)

    def weights(index: np.ndarray) -> np.ndarray:
        return running(np.minimum(index + (window - half) + 1, n)) - running(np.maximum(index - half + 1, 0))

    def running(stop: np.ndarray) -> np.ndarray:
        position = np.clip(stop - first - 1, 0, span - 1)
        return np.where(stop <= first, 0.0, np.take_along_axis(sums, position, axis=1))

    reach = span + 2 * window + 4
    near = np.clip(first - window - 2 + np.arange(reach), 0, n - 1)
    support = weights(near) != 0
    rows = np.arange(64)
    low = near[rows, support.argmax(axis=1)]
    width = int((near[rows, reach - 1 - support[:, ::-1].argmax(axis=1)] + 1 - low).max())
    first_pixel = np.minimum(low, n - width)
    band = np.ascontiguousarray(weights(first_pixel[:, None] + np.arange(width)), np.float32)
    return first_pixel.astype(np.int32), band


def test_c_sampling_band_is_the_numpy_one_bit_for_bit() -> None:
    """Every side from 1 to 4,100 pixels (every window of a 640x480 to 4000x3000 picture) and some
    larger: the same first pixels and the same float32 weights, bit for bit, so no hash moved."""
    for n in [*range(1, 4101), 4999, 6000, 8191, 12000, 46000]:
        starts, band = _sampling_band.__wrapped__(n)
        expected_starts, expected_band = _numpy_sampling_band(n)
        assert starts.dtype == np.int32 and band.dtype == np.float32
        assert np.array_equal(starts, expected_starts), n
        assert band.shape == expected_band.shape, n
        assert np.array_equal(band.view(np.uint32), expected_band.view(np.uint32)), n


def test_c_sampling_band_refuses_sides_it_cannot_sample() -> None:
    for n in (0, -1, 2**24 + 1):
        with pytest.raises(ValueError, match="side of 1"):
            sampling_band(n)


def _dense(n: int) -> np.ndarray:
    """The (64, n) matrix of ``_sampling_band(n)``: each sample's weight on each pixel."""
    starts, band = _sampling_band(n)
    weights = np.zeros((64, n))
    np.put_along_axis(weights, starts[:, None] + np.arange(band.shape[1]), band, axis=1)
    return weights


@pytest.mark.parametrize("layout", ["uint8", "float32", "reversed", "every other column", "transposed"])
def test_c_grid_is_the_band_matrices_applied(layout: str) -> None:
    """The C kernel computes rows x plane x columns for every memory layout a window can have."""
    picture = _picture(150, 230, 3)[:, :, 0]
    plane = {
        "uint8": picture,
        "float32": picture.astype(np.float32),
        "reversed": picture[::-1, ::-1],
        "every other column": picture[:, ::2],
        "transposed": picture.T,
    }[layout]
    grid, quality = _grid64(plane)
    expected = _dense(plane.shape[0]) @ plane.astype(np.float64) @ _dense(plane.shape[1]).T
    np.testing.assert_allclose(grid, expected, rtol=1e-5, atol=1e-3)
    assert quality == pdq_dihedral_of_luma(np.ascontiguousarray(plane, np.float32))[1]


def test_c_kernel_refuses_bands_outside_the_picture() -> None:
    plane = np.zeros((100, 100), np.uint8)
    starts, band = _sampling_band(100)
    grids = np.empty((1, 64, 64), np.float32)
    with pytest.raises(ValueError, match="leaves the picture"):
        sample_grids(plane, starts, band, [(starts, band, 50)], grids)
    with pytest.raises(ValueError, match="uint8 or float32"):
        sample_grids(plane.astype(np.int64), starts, band, [(starts, band, 0)], grids)
    with pytest.raises(ValueError, match="grid for each column band"):
        sample_grids(plane, starts, band, [(starts, band, 0)] * 2, grids)
    with pytest.raises(ValueError, match="int32 starts"):
        sample_grids(plane, starts.astype(np.int64), band, [(starts, band, 0)], grids)


def test_luma_is_pdqhashs_float32_sum_bit_for_bit() -> None:
    """(0.299 r + 0.587 g) + 0.114 b, each step rounded to float32: what pdqhash's C++ computes, and
    the same on every CPU (``rgb @ weights`` went to OpenBLAS, whose kernels differ per CPU)."""
    rgb = np.random.default_rng(11).integers(0, 256, (97, 131, 3), dtype=np.uint8)
    channels = rgb.astype(np.float32)
    expected = (channels[..., 0] * np.float32(0.299) + channels[..., 1] * np.float32(0.587)) + (
        channels[..., 2] * np.float32(0.114))
    luma = luma_of_rgb(rgb)
    assert luma.dtype == np.float32 and luma.shape == (97, 131)
    assert np.array_equal(luma, expected)
    assert np.array_equal(luma_of_rgb(rgb[::2, ::3]), expected[::2, ::3])  # a strided view is copied first
