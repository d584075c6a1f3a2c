"""The JPEG header reader that lets plain JPEGs skip Pillow: it must read exactly what Pillow reads, or
refuse (None) and leave the file to Pillow. Pillow is the reference throughout."""

from __future__ import annotations

import io
import random
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import ExifTags, Image, UnidentifiedImageError

from stanch.signals import hash_media
from stanch.signals.image import image_signals, open_image
from stanch.signals.jpeg_header import PILLOW_MAX_IMAGE_PIXELS, exif_orientation, read_header
from stanch.signals.limits import Limits
from stanch.signals.media import JPEG
from stanch.signals.stills import jpeg_signals
from stanch.signals.types import MediaError
from tests.signals.media_factory import encoded, picture


def _tiff(entries: list[tuple[int, int, int, bytes]], order: str = "little", tail: bytes = b"") -> bytes:
    """A TIFF block holding IFD0 with ``entries`` (tag, type, count, 4 value bytes), then ``tail``."""
    mark = b"II*\x00" if order == "little" else b"MM\x00*"
    body = len(entries).to_bytes(2, order)
    for tag, kind, count, value in entries:
        body += tag.to_bytes(2, order) + kind.to_bytes(2, order) + count.to_bytes(4, order) + value
    return mark + (8).to_bytes(4, order) + body + (0).to_bytes(4, order) + tail


def _orientation_entry(value: int, order: str = "little") -> tuple[int, int, int, bytes]:
    return 0x0112, 3, 1, value.to_bytes(2, order) + b"\x00\x00"


def _with_segment(jpeg: bytes, marker: int, payload: bytes) -> bytes:
    """``jpeg`` with one more segment right after its start-of-image marker."""
    return jpeg[:2] + bytes([0xFF, marker]) + (len(payload) + 2).to_bytes(2, "big") + payload + jpeg[2:]


def _pillow_reads(data: bytes) -> tuple[int, int, str, int]:
    with Image.open(io.BytesIO(data), formats=["JPEG"]) as image:
        return (*image.size, image.mode, image.getexif().get(ExifTags.Base.Orientation, 1))


def _agrees_with_pillow(data: bytes) -> None:
    header = read_header(data)
    assert header is not None
    width, height, mode, orientation = _pillow_reads(data)
    assert (header.width, header.height, header.orientation) == (width, height, orientation)
    assert {1: "L", 3: "RGB"}[header.components] == mode


JPEG_BYTES = encoded(picture(96, 64, seed=3), "JPEG", quality=90)


def test_the_pixel_limit_is_pillows() -> None:
    assert PILLOW_MAX_IMAGE_PIXELS == Image.MAX_IMAGE_PIXELS


@pytest.mark.parametrize("order", ["little", "big"])
@pytest.mark.parametrize("value", range(0, 10))
def test_every_orientation_in_either_byte_order_is_read_as_pillow_reads_it(order: str, value: int) -> None:
    extra = (0x010F, 2, 4, b"ACME")  # Make, an ASCII value of 4 bytes held in the entry itself
    tiff = _tiff([extra, _orientation_entry(value, order)], order)
    data = _with_segment(JPEG_BYTES, 0xE1, b"Exif\x00\x00" + tiff)
    _agrees_with_pillow(data)
    assert exif_orientation(tiff) == value


def test_a_grey_jpeg_and_one_without_exif_agree_with_pillow() -> None:
    _agrees_with_pillow(encoded(picture(80, 50).convert("L"), "JPEG"))
    _agrees_with_pillow(JPEG_BYTES)
    assert read_header(JPEG_BYTES).orientation == 1  # type: ignore[union-attr]


def test_pillows_own_exif_and_progressive_files_agree() -> None:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Software] = "a longer value stored outside the entry"
    _agrees_with_pillow(encoded(picture(90, 70), "JPEG", exif=exif.tobytes(), progressive=True))


def test_an_xmp_orientation_counts_only_where_exif_has_none() -> None:
    xmp = b"http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta><rdf:Description tiff:Orientation=\"6\"/>"
    alone = _with_segment(JPEG_BYTES, 0xE1, xmp)
    _agrees_with_pillow(alone)
    assert read_header(alone).orientation == 6  # type: ignore[union-attr]
    for value in (0, 3):
        both = _with_segment(alone, 0xE1, b"Exif\x00\x00" + _tiff([_orientation_entry(value)]))
        _agrees_with_pillow(both)
        assert read_header(both).orientation == value  # type: ignore[union-attr]


def test_photoshop_blocks_are_walked_as_pillow_walks_them() -> None:
    block = b"8BIM" + (0x0404).to_bytes(2, "big") + b"\x00\x00" + (4).to_bytes(4, "big") + b"abcd"
    whole = b"Photoshop 3.0\x00" + block
    _agrees_with_pillow(_with_segment(JPEG_BYTES, 0xED, whole))
    cut = b"Photoshop 3.0\x00" + block + b"8BIM\x04\x04"  # ends before its name's length
    with pytest.raises(UnidentifiedImageError):  # Pillow's walk fails on it
        _pillow_reads(_with_segment(JPEG_BYTES, 0xED, cut))
    assert read_header(_with_segment(JPEG_BYTES, 0xED, cut)) is None


@pytest.mark.parametrize("case", ["mpf", "two exif blocks", "cmyk", "orientation as long",
                                  "orientation twice", "value out of the block", "no next-IFD offset",
                                  "unknown type", "not tiff", "fill byte", "no frame", "lone marker",
                                  "short jfif", "bad quantisation table"])
def test_anything_unusual_is_left_to_pillow(case: str) -> None:
    exif = b"Exif\x00\x00" + _tiff([_orientation_entry(6)])
    data = {
        "mpf": _with_segment(JPEG_BYTES, 0xE2, b"MPF\x00" + b"\x00" * 16),
        "two exif blocks": _with_segment(_with_segment(JPEG_BYTES, 0xE1, exif), 0xE1, exif),
        "cmyk": encoded(picture(40, 30).convert("CMYK"), "JPEG"),
        "orientation as long": _with_segment(JPEG_BYTES, 0xE1, b"Exif\x00\x00" + _tiff(
            [(0x0112, 4, 1, (6).to_bytes(4, "little"))])),
        "orientation twice": _with_segment(JPEG_BYTES, 0xE1, b"Exif\x00\x00" + _tiff(
            [_orientation_entry(6), _orientation_entry(3)])),
        "value out of the block": _with_segment(JPEG_BYTES, 0xE1, b"Exif\x00\x00" + _tiff(
            [(0x010F, 2, 40, (5000).to_bytes(4, "little")), _orientation_entry(6)])),
        "no next-IFD offset": _with_segment(JPEG_BYTES, 0xE1, b"Exif\x00\x00" + _tiff(
            [_orientation_entry(6)])[:-4]),
        "unknown type": _with_segment(JPEG_BYTES, 0xE1, b"Exif\x00\x00" + _tiff(
            [(0x010F, 99, 1, b"\x00" * 4), _orientation_entry(6)])),
        "not tiff": _with_segment(JPEG_BYTES, 0xE1, b"Exif\x00\x00XX*\x00" + b"\x00" * 12),
        "fill byte": JPEG_BYTES[:2] + b"\xff" + JPEG_BYTES[2:],
        "no frame": JPEG_BYTES[:2] + b"\xff\xda\x00\x02",
        "lone marker": JPEG_BYTES[:2] + b"\xff\xd0" + JPEG_BYTES[2:],
        "short jfif": _with_segment(JPEG_BYTES, 0xE0, b"JFIF\x00"),
        "bad quantisation table": _with_segment(JPEG_BYTES, 0xDB, b"\x10" + b"\x01" * 64),
    }[case]
    assert read_header(data) is None


def _rich_jpeg(with_orientation: bool) -> bytes:
    """A JPEG with EXIF (orientation 8 or none), an XMP packet, Photoshop's blocks and an ICC chunk."""
    exif = Image.Exif()
    if with_orientation:
        exif[ExifTags.Base.Orientation] = 8
    exif[ExifTags.Base.Make] = "Camera maker"
    data = encoded(picture(64, 48, seed=5), "JPEG", exif=exif.tobytes())
    block = b"8BIM" + (0x0404).to_bytes(2, "big") + b"\x02ab\x00" + (3).to_bytes(4, "big") + b"xyz\x00"
    data = _with_segment(data, 0xED, b"Photoshop 3.0\x00" + block)
    data = _with_segment(data, 0xE2, b"ICC_PROFILE\x00\x01\x01" + b"\x00" * 20)
    return _with_segment(data, 0xE1, b"http://ns.adobe.com/xap/1.0/\x00<x tiff:Orientation=\"5\"/>")


@pytest.mark.parametrize("with_orientation", [True, False])
def test_mutated_headers_are_read_as_pillow_reads_them_or_left_to_it(with_orientation: bool) -> None:
    """Random byte changes in the header and its segments (a fixed seed): whenever the reader answers,
    Pillow opens the file and reads the same size, mode and orientation."""
    original = _rich_jpeg(with_orientation)
    _agrees_with_pillow(original)
    scan = original.index(b"\xff\xda")
    chance = random.Random(2026)
    answered = 0
    for _ in range(1500):
        data = bytearray(original)
        for _ in range(chance.randint(1, 3)):
            data[chance.randrange(2, scan)] = chance.randrange(256)
        header = read_header(bytes(data))
        if header is None:
            continue
        answered += 1
        width, height, mode, orientation = _pillow_reads(bytes(data))
        assert (header.width, header.height, header.orientation, header.components) == (
            width, height, orientation, {"L": 1, "RGB": 3}[mode])
    assert answered > 300  # most single-byte changes (in quantisation and Huffman tables) stay readable


@pytest.mark.parametrize("value", [1, 3, 6, 8])
def test_signals_without_pillow_equal_the_pillow_paths(value: int) -> None:
    tiff = _tiff([_orientation_entry(value)])
    data = _with_segment(encoded(picture(160, 120, seed=value), "JPEG", quality=85), 0xE1,
                         b"Exif\x00\x00" + tiff)
    fast = jpeg_signals(data, "bank", Limits())
    assert fast is not None
    assert fast == image_signals(data, open_image(data, JPEG), JPEG, "bank")


def test_conformance_jpegs_are_read_as_pillow_reads_them(conformance: Path) -> None:
    read = 0
    for path in sorted(conformance.rglob("*.jp*g")):
        data = path.read_bytes()
        header = read_header(data)
        if header is not None:
            read += 1
            _agrees_with_pillow(data)
            assert jpeg_signals(data, "query", Limits()) == image_signals(data, open_image(data, JPEG), JPEG)
    assert read >= 30


def test_the_pixel_limit_is_checked_before_decoding() -> None:
    with pytest.raises(MediaError, match="over the limit of 100 pixels"):
        jpeg_signals(JPEG_BYTES, "query", Limits(max_pixels=100))
    with pytest.raises(MediaError, match="over the limit of 100 pixels"):
        hash_media(JPEG_BYTES, limits=Limits(max_pixels=100))


def test_a_folder_of_plain_jpegs_never_loads_pillow(tmp_path: Path) -> None:
    (tmp_path / "a.jpg").write_bytes(JPEG_BYTES)
    code = ("import sys; from stanch.cli import main; sys.argv = ['stanch', 'hash', sys.argv[1]]\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "print('PIL loaded' if any(m.startswith('PIL') for m in sys.modules) else 'no PIL')")
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True,
                          check=True)
    assert done.stdout.splitlines()[-1] == "no PIL"
    assert '"pdq"' in done.stdout.splitlines()[0]


def test_a_jpeg_libjpeg_refuses_goes_to_pillow_without_asking_libjpeg_again(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A file cut short after a plain header: libjpeg-turbo refuses it (``strict``), so it goes to
    Pillow, which refuses it too, in its own words; the same decode is not tried a second time."""
    import simplejpeg

    from stanch.signals import stills

    data = JPEG_BYTES[: len(JPEG_BYTES) * 2 // 3]
    assert read_header(data) is not None and jpeg_signals(data, "query", Limits()) is None
    calls: list[int] = []
    decode = simplejpeg.decode_jpeg
    monkeypatch.setattr(stills.simplejpeg, "decode_jpeg", lambda *a, **k: calls.append(1) or decode(*a, **k))
    with pytest.raises(MediaError, match="could not decode this JPEG file"):
        hash_media(data)
    assert len(calls) == 1
