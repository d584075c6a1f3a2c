"""The ``straightened`` view (stanch.signals.straightened): a copy turned by a few degrees on a canvas with
flat corners is sampled back upright, on generated pictures. Such copies match their original under the
one rule, and match an entry banked before the view existed (its plain hash); different contents do not
match; pictures whose dark corners are not a turned rectangle get no view."""

from __future__ import annotations

import io
import math
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image, ImageDraw

from stanch.signals import ImageSignals, hash_media
from stanch.signals.pdq import MATCH_DISTANCE, hamming_hex
from stanch.signals.robust import bank_hashes, query_hashes
from stanch.signals.straightened import SERVER_ONLY, content_corners, straightened_views
from stanch.signals.types import Purpose
from tests.signals.media_factory import scene

ANGLES = (-5.0, -2.0, 2.0, 5.0)




def turned(image: Image.Image, degrees: float, fill: tuple[int, int, int] = (0, 0, 0)) -> Image.Image:
    """What an editor's free rotate leaves: the turned picture on an expanded canvas, corners filled."""
    return image.rotate(degrees, Image.Resampling.BICUBIC, expand=True, fillcolor=fill)


def jpeg(image: Image.Image, quality: int = 90) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def hashed(data: bytes, purpose: Purpose = "query") -> ImageSignals:
    signals = hash_media(data, purpose=purpose)
    assert isinstance(signals, ImageSignals)
    return signals


def luma(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("L"))


def closest(query: ImageSignals, banked: ImageSignals) -> int:
    return min(hamming_hex(q, b) for q in query_hashes(query) for b in bank_hashes(banked))


def view(signals: ImageSignals) -> str | None:
    return next((v.pdq for v in signals.variants if v.name == "straightened"), None)


def old_entry(signals: ImageSignals) -> ImageSignals:
    """An entry banked before any server view: the browser's views only (no levelled, part, tilted)."""
    server = ("levelled", "part", "tilted", *SERVER_ONLY)
    return replace(signals, variants=tuple(v for v in signals.variants if not v.name.startswith(server)))


@pytest.fixture(scope="module")
def banked() -> dict[int, ImageSignals]:
    return {seed: hashed(jpeg(scene(seed)), "bank") for seed in range(4)}


@pytest.mark.parametrize("degrees", ANGLES)
def test_a_copy_turned_on_black_corners_matches_its_original(degrees: float, banked) -> None:
    for seed, original in banked.items():
        copy = hashed(jpeg(turned(scene(seed), degrees)))
        straightened = view(copy)
        assert straightened is not None, (degrees, seed)
        assert hamming_hex(straightened, original.pdq) <= MATCH_DISTANCE, (degrees, seed)
        assert hamming_hex(copy.pdq, original.pdq) > MATCH_DISTANCE  # plain PDQ misses it
        assert closest(copy, original) <= MATCH_DISTANCE
        assert closest(copy, old_entry(original)) <= MATCH_DISTANCE  # an old entry gains it too


@pytest.mark.parametrize("degrees", ANGLES)
def test_a_turned_copy_does_not_match_other_contents(degrees: float, banked) -> None:
    for seed in banked:
        copy = hashed(jpeg(turned(scene(seed), degrees)))
        for other, original in banked.items():
            if other != seed:
                assert closest(copy, original) > MATCH_DISTANCE + 10, (degrees, seed, other)


def test_the_rectangle_is_found_where_the_turn_put_it() -> None:
    """The corners found are within a pixel and a half of where the picture's corners went."""
    width, height = 640, 480
    for degrees in (-5.6, -2.3, 1.2, 4.4):
        canvas = turned(scene(7, height, width), degrees)
        found = content_corners(luma(canvas))
        assert found is not None, degrees
        a = math.radians(degrees)
        cx, cy = canvas.width / 2, canvas.height / 2
        for (x, y), (u, v) in zip(found, ((0, 0), (width, 0), (width, height), (0, height)), strict=True):
            du, dv = u - width / 2, v - height / 2  # about the centre, turned counter-clockwise
            expected = (cx + du * math.cos(a) + dv * math.sin(a), cy - du * math.sin(a) + dv * math.cos(a))
            assert math.dist((x, y), expected) <= 1.5, (degrees, (x, y), expected)


def test_dark_content_along_an_edge_and_a_white_canvas_are_straightened(banked) -> None:
    """Content as dark as the canvas along one edge hides that edge (the opposite one stands in for
    it); a canvas filled with white instead of black is found the same way."""
    dark_edge = scene(1)
    ImageDraw.Draw(dark_edge).rectangle((0, 0, 120, 479), fill=(0, 0, 0))
    original = hashed(jpeg(dark_edge), "bank")
    for degrees in (-4.0, 3.0):
        copy = hashed(jpeg(turned(dark_edge, degrees)))
        assert view(copy) is not None and closest(copy, original) <= MATCH_DISTANCE, degrees
        white = hashed(jpeg(turned(scene(2), degrees, (255, 255, 255))))
        assert view(white) is not None and closest(white, banked[2]) <= MATCH_DISTANCE, degrees


def test_pictures_with_dark_corners_that_are_not_a_turn_get_no_view() -> None:
    """A vignette, a dark corner of the picture's own, an upright letterbox and four dark triangles that
    no turned rectangle leaves: no ``straightened`` view, so no view of a wrongly found rectangle."""
    picture = scene(8)
    height, width = picture.height, picture.width
    y, x = np.mgrid[:height, :width]
    vignette = np.asarray(picture).copy()
    vignette[((x - width / 2) / (width / 2)) ** 2 + ((y - height / 2) / (height / 2)) ** 2 > 1] = 0
    own_corner = picture.copy()
    ImageDraw.Draw(own_corner).polygon([(0, 0), (200, 0), (0, 150)], fill=(0, 0, 0))
    letterboxed = Image.new("RGB", (640, 640))
    letterboxed.paste(picture, (0, 80))
    triangles = picture.copy()
    draw = ImageDraw.Draw(triangles)
    for corner in ([(0, 0), (300, 0), (0, 20)], [(639, 0), (600, 0), (639, 200)],
                   [(639, 479), (500, 479), (639, 470)], [(0, 479), (0, 300), (60, 479)]):
        draw.polygon(corner, fill=(0, 0, 0))
    flat = Image.new("RGB", (640, 480))
    for image in (picture, Image.fromarray(vignette), own_corner, letterboxed, triangles, flat):
        assert content_corners(luma(image)) is None
        assert straightened_views(luma(image)) == ()
        assert view(hashed(jpeg(image))) is None


def test_the_view_is_the_same_for_both_purposes_and_small_turns_are_left_to_the_plain_hash() -> None:
    copy = jpeg(turned(scene(3), 3.0))
    assert view(hashed(copy, "query")) == view(hashed(copy, "bank")) is not None
    assert content_corners(luma(turned(scene(3), 0.1))) is None  # the plain hash matches it already
    with pytest.raises(ValueError, match="purpose"):
        straightened_views(np.zeros((64, 64), np.uint8), "archive")  # type: ignore[arg-type]


def test_the_view_of_a_uint8_plane_is_that_of_its_float32_copy() -> None:
    plane = luma(turned(scene(5), -3.5))
    assert straightened_views(plane) == straightened_views(plane.astype(np.float32))
    assert straightened_views(plane)
