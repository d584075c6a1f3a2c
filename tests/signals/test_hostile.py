"""Broken and hostile input: each case is a MediaError naming the reason, in bounded time."""

from __future__ import annotations

import contextlib
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from stanch.signals import ImageSignals, Limits, MediaError, hash_media
from tests.signals.media_factory import encoded, picture, png_declaring, video

pytestmark = pytest.mark.timeout(30)

JPEG = encoded(picture(640, 480), "JPEG", quality=90)
PNG = encoded(picture(640, 480), "PNG")


def _refused(data: bytes, reason: str, **kwargs: object) -> None:
    with pytest.raises(MediaError, match=reason):
        hash_media(data, **kwargs)  # type: ignore[arg-type]


def test_zero_length() -> None:
    _refused(b"", "empty")


def test_random_bytes() -> None:
    _refused(os.urandom(5000), "not a supported image or video")


def test_text_file() -> None:
    _refused(b"<html><body>not a picture</body></html>\n" * 10, "not a supported image or video")


@pytest.mark.parametrize("data", [JPEG[: len(JPEG) // 2], PNG[: len(PNG) // 2], JPEG[:20], PNG[:40]],
                         ids=["jpeg-half", "png-half", "jpeg-header", "png-header"])
def test_truncated_files(data: bytes) -> None:
    _refused(data, "(could not decode|not a readable)")


def test_decompression_bomb_is_refused_before_decoding() -> None:
    _refused(png_declaring(30000, 30000), "too large to decode safely .*900000000 pixels")
    _refused(png_declaring(9900, 9000), r"9900x9000 = 89,100,000 pixels is over the limit of 89,000,000")


def test_pixel_limit_is_configurable() -> None:
    _refused(PNG, "over the limit of 1,000 pixels", limits=Limits(max_pixels=1000))


def test_size_limit() -> None:
    _refused(JPEG, "over the size limit", limits=Limits(max_bytes=1000))


@pytest.mark.parametrize(("fmt", "reason"),
                         [("mp4", "no video stream"), ("matroska", "ends before its video frames")])
def test_video_with_no_frames(fmt: str, reason: str) -> None:
    _refused(video(seconds=0, fmt=fmt), reason)


def test_video_with_corrupt_frames() -> None:
    data = video(seconds=2)
    start = data.find(b"mdat") + 4
    size = int.from_bytes(data[start - 8:start - 4], "big")
    _refused(data[:start] + bytes(size - 8) + data[start - 8 + size:], "could not decode")


def test_truncated_video() -> None:
    data = video(seconds=2)
    _refused(data[: len(data) // 3], "could not decode")


def test_video_longer_than_the_limit() -> None:
    _refused(video(seconds=20, fps=1), "longer than the limit of 5 seconds",
             limits=Limits(max_video_seconds=5))


def test_video_that_does_not_declare_its_length_is_stopped_at_the_limit() -> None:
    data = video(seconds=20, fps=1, fmt="matroska", declare_duration=False)
    _refused(data, "^longer than the limit of 5 seconds", limits=Limits(max_video_seconds=5))


def test_animation_longer_than_the_limit() -> None:
    frames = [picture(32, 32, seed=i) for i in range(8)]
    data = encoded(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=1000)
    _refused(data, "longer than the limit of 5 seconds", limits=Limits(max_video_seconds=5))


def test_video_frame_limit() -> None:
    _refused(video(seconds=1, fps=10), "more than 3 frames", limits=Limits(max_frames=3))


def test_video_frame_size_limit() -> None:
    _refused(video(seconds=1, fps=2), "over the limit of 100 pixels per frame",
             limits=Limits(max_frame_pixels=100))


def test_video_decoding_time_limit() -> None:
    _refused(video(seconds=1, fps=10), "decoding took longer", limits=Limits(max_decode_seconds=1e-9))


def test_animation_frame_limit() -> None:
    frames = [picture(32, 32, seed=i) for i in range(5)]
    data = encoded(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)
    _refused(data, "more than 2 frames", limits=Limits(max_frames=2))


def test_limits_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_bytes"):
        Limits(max_bytes=0)


_PREFIXES = [b"\xff\xd8\xff\xe0", b"\x89PNG\r\n\x1a\n", b"GIF89a", b"RIFF\x00\x00\x00\x00WEBP", b"BM",
             b"II*\x00", b"\x00\x00\x00\x18ftypheic", b"\x00\x00\x00\x18ftypisom", b"\x1a\x45\xdf\xa3", b""]


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")
@settings(max_examples=150, deadline=None)
@given(prefix=st.sampled_from(_PREFIXES), body=st.binary(max_size=2000))
def test_arbitrary_bytes_never_escape_as_anything_but_media_error(prefix: bytes, body: bytes) -> None:
    with contextlib.suppress(MediaError):
        hash_media(prefix + body)


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")
@settings(max_examples=60, deadline=None)
@given(cut=st.integers(min_value=0, max_value=len(JPEG) - 1), flips=st.lists(st.integers(0, len(JPEG) - 1)))
def test_damaged_jpegs_hash_or_fail_cleanly(cut: int, flips: list[int]) -> None:
    data = bytearray(JPEG)
    for index in flips:
        data[index] ^= 0x5A
    with contextlib.suppress(MediaError):
        hash_media(bytes(data[: max(cut, 3)]))


@settings(max_examples=25, deadline=None)
@given(width=st.integers(1, 600), height=st.integers(1, 600), flat=st.booleans(), seed=st.integers(0, 99))
def test_every_decodable_picture_hashes(width: int, height: int, flat: bool, seed: int) -> None:
    """Odd sizes and flat pictures are valid input: they hash (maybe with low quality), never raise."""
    image = Image.new("RGB", (width, height), (90, 120, 30)) if flat else picture(width, height, seed)
    assert isinstance(hash_media(encoded(image, "PNG")), ImageSignals)
