"""Every supported format decodes to the same picture's hash; orientation and animation are honoured."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from stanch.signals import ImageSignals, MediaError, VideoSignals, hash_media, signals_record, sniff_format
from stanch.signals.image import decode_picture, jpeg_luma, luma_of_picture, open_image
from stanch.signals.media import AVI, MATROSKA, MP4
from stanch.signals.media import JPEG as JPEG_FORMAT
from stanch.signals.pdq import hamming_hex, pdq_of_rgb
from tests.signals.media_factory import encoded, picture, video, with_display_rotation

ORIGINAL = picture(640, 480)


def _image(data: bytes) -> ImageSignals:
    signals = hash_media(data)
    assert isinstance(signals, ImageSignals)
    return signals


@pytest.mark.parametrize(("fmt", "options"), [
    ("JPEG", {"quality": 90}), ("PNG", {}), ("WEBP", {"quality": 90}), ("GIF", {}), ("BMP", {}),
    ("TIFF", {}), ("HEIF", {"quality": 90}), ("AVIF", {"quality": 90}),
])
def test_round_trip_through_each_image_format(fmt: str, options: dict) -> None:
    reference = _image(encoded(ORIGINAL, "PNG"))
    data = encoded(ORIGINAL, fmt, **options)
    signals = _image(data)
    assert sniff_format(data).decoder == fmt
    assert signals.quality >= 80
    assert hamming_hex(signals.pdq, reference.pdq) <= 16, fmt
    assert signals_record(signals)["kind"] == "image"


@pytest.mark.parametrize("size", [(1, 1), (1, 1000), (1000, 2), (4, 4), (5, 5)])
def test_tiny_and_strip_pictures(size: tuple[int, int]) -> None:
    """Below 5 pixels a side PDQ has nothing to hash (Meta's minimum): the zero hash, quality 0."""
    signals = _image(encoded(picture(*size), "PNG"))
    if min(size) < 5:
        assert (signals.pdq, signals.quality, signals.variants) == ("0" * 64, 0, ())
    else:
        assert signals.quality > 0


def test_exif_orientation_turns_the_picture_upright() -> None:
    upright = _image(encoded(ORIGINAL, "JPEG", quality=95))
    exif = Image.Exif()
    exif[0x0112] = 6  # stored turned 90 degrees anticlockwise; the viewer turns it back clockwise
    stored = ORIGINAL.transpose(Image.Transpose.ROTATE_90)
    turned = _image(encoded(stored, "JPEG", quality=95, exif=exif.tobytes()))
    assert hamming_hex(turned.pdq, upright.pdq) <= 10
    without_tag = _image(encoded(stored, "JPEG", quality=95))
    assert hamming_hex(without_tag.pdq, upright.pdq) > 31


def test_a_large_jpeg_is_hashed_like_its_full_decode() -> None:
    """JPEGs are decoded reduced; the reference is pdqhash on the full decode."""
    data = encoded(picture(4000, 3000, seed=3), "JPEG", quality=90)
    reference = pdq_of_rgb(np.asarray(Image.open(io.BytesIO(data)).convert("RGB")))
    assert hamming_hex(_image(data).pdq, reference.hex) <= 10


def test_animated_gif_is_hashed_as_a_video() -> None:
    frames = [picture(96, 64, seed=i) for i in range(6)]
    data = encoded(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=500, loop=0)
    signals = hash_media(data)
    assert isinstance(signals, VideoSignals)
    assert [f.ts for f in signals.frames] == [0.0, 0.5, 1.0, 1.5, 2.0, 2.5]
    assert signals.duration == 3.0
    assert len({f.pdq for f in signals.frames}) == 6
    still = _image(encoded(frames[2], "PNG"))
    assert hamming_hex(signals.frames[2].pdq, still.pdq) <= 31
    sampled = hash_media(data, seconds_per_hash=1.0)
    assert isinstance(sampled, VideoSignals)
    assert [f.ts for f in sampled.frames] == [0.0, 1.0, 2.0]
    assert signals_record(sampled)["kind"] == "video"


@pytest.mark.parametrize("fmt", ["MPO", "TIFF"])
def test_multi_picture_files_that_are_not_animations_hash_their_first_picture(fmt: str) -> None:
    """A phone JPEG with a second picture (MPO) or a TIFF with two pages is one image, not a video."""
    data = encoded(ORIGINAL, fmt, save_all=True, append_images=[picture(640, 480, seed=9)])
    assert hamming_hex(_image(data).pdq, _image(encoded(ORIGINAL, "PNG")).pdq) <= 16


def test_animated_webp_is_hashed_as_a_video() -> None:
    frames = [picture(96, 64, seed=i) for i in range(3)]
    data = encoded(frames[0], "WEBP", save_all=True, append_images=frames[1:], duration=200)
    signals = hash_media(data)
    assert isinstance(signals, VideoSignals)
    assert len(signals.frames) == 3


@pytest.mark.parametrize(("codec", "fmt", "media"), [
    ("mpeg4", "mp4", MP4), ("libx264", "mp4", MP4), ("libvpx-vp9", "webm", MATROSKA), ("mpeg4", "avi", AVI),
])
def test_video_containers(codec: str, fmt: str, media: object) -> None:
    data = video(seconds=2, fps=10, codec=codec, fmt=fmt)
    assert sniff_format(data) is media
    signals = hash_media(data, seconds_per_hash=0.5)
    assert isinstance(signals, VideoSignals)
    assert [f.ts for f in signals.frames] == [0.0, 0.5, 1.0, 1.5]
    assert signals.duration == pytest.approx(2.0, abs=0.15)


@pytest.mark.parametrize("clockwise", [True, False])
def test_video_display_rotation_is_honoured(clockwise: bool) -> None:
    """A phone's portrait video (frames stored turned, rotation in the container) hashes like the
    same video with the rotation baked in."""
    upright = hash_media(video(seconds=1, fps=4, size=96))
    stored = video(seconds=1, fps=4, size=96, turn=1 if clockwise else -1)
    rotated = hash_media(with_display_rotation(stored, clockwise))
    unrotated = hash_media(stored)
    assert isinstance(upright, VideoSignals) and isinstance(rotated, VideoSignals)
    assert isinstance(unrotated, VideoSignals)
    for ours, theirs, raw in zip(rotated.frames, upright.frames, unrotated.frames, strict=True):
        assert hamming_hex(ours.pdq, theirs.pdq) <= 16
        assert hamming_hex(raw.pdq, theirs.pdq) > 31


def test_video_dense_sampling_hashes_every_frame() -> None:
    signals = hash_media(video(seconds=1, fps=10))
    assert isinstance(signals, VideoSignals)
    assert len(signals.frames) == 10


def test_negative_sampling_is_refused() -> None:
    with pytest.raises(ValueError, match="seconds_per_hash"):
        hash_media(video(seconds=1, fps=2), seconds_per_hash=-1)


def test_heif_brand_is_not_taken_for_a_video() -> None:
    data = encoded(ORIGINAL, "HEIF")
    assert sniff_format(data).name == "HEIC/HEIF"
    with pytest.raises(MediaError):
        hash_media(data[:200])


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize(("size", "mode"), [((300, 200), "RGB"), ((1700, 1600), "RGB"), ((300, 200), "L")])
def test_jpeg_luma_is_the_luma_pillow_decodes(orientation: int, size: tuple[int, int], mode: str) -> None:
    """libjpeg-turbo through simplejpeg gives Pillow's pixels (reduced the same way at 1700x1600),
    turned upright as ``ImageOps.exif_transpose`` turns them."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    data = encoded(picture(*size, seed=orientation).convert(mode), "JPEG", quality=90, exif=exif.tobytes())
    opened = open_image(data, JPEG_FORMAT)
    expected = luma_of_picture(decode_picture(open_image(data, JPEG_FORMAT), JPEG_FORMAT))
    np.testing.assert_array_equal(jpeg_luma(data, opened), expected)


def test_cmyk_jpeg_is_decoded_by_pillow() -> None:
    data = encoded(picture(120, 80, seed=4).convert("CMYK"), "JPEG", quality=90)
    reference = pdq_of_rgb(np.asarray(Image.open(io.BytesIO(data)).convert("RGB")))
    assert hamming_hex(_image(data).pdq, reference.hex) <= 10


def test_a_jpeg_with_stray_bytes_is_hashed_like_the_clean_file() -> None:
    """libjpeg-turbo warns about bytes before a marker; Pillow decodes such files, and so does Stanch."""
    clean = encoded(picture(200, 150, seed=9), "JPEG", quality=90)
    scan = clean.index(b"\xff\xda")
    stray = clean[:scan] + b"\x00\x01\x02" + clean[scan:]
    assert hamming_hex(_image(stray).pdq, _image(clean).pdq) == 0
