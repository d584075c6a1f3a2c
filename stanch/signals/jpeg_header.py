"""What hashing needs from a JPEG's header (size, components, EXIF orientation), read without Pillow.

Opening a JPEG with Pillow to learn its size and orientation cost ``stanch hash`` more than the
header is worth: importing Pillow, its JPEG and TIFF plug-ins (for the EXIF block) and parsing every
marker in Python, about 100 M instructions for a folder of 120 small JPEGs, 5 % of the whole
command, all of it before the first file could be hashed. This reader walks the markers up to the
first scan and reads IFD0 of the EXIF block, and is deliberately narrow: it answers only for the
plain, well-formed files that make up nearly every folder, and returns None for anything else (fill
bytes, several frames or EXIF blocks, a multi-picture index, a 12-bit or CMYK picture, an EXIF entry out of
bounds ...). None sends the file to the Pillow path, which decides as it always has, so a file either
gets exactly what Pillow would have read or goes to Pillow (tests/signals/test_jpeg_header.py compares
the two on generated and mutated headers).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

PILLOW_MAX_IMAGE_PIXELS = 1024 * 1024 * 1024 // 4 // 3
"""Pillow's ``Image.MAX_IMAGE_PIXELS``: above it Pillow's decompression-bomb check decides, so a
larger picture goes to the Pillow path (a test checks the value against Pillow's)."""

_SOF_READ = frozenset({0xC0, 0xC1, 0xC2})
"""Baseline, extended and progressive Huffman frames: what cameras and editors write. The rarer
frames (lossless, arithmetic, hierarchical) go to Pillow."""
_SOF_ANY = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
_SEGMENTS = _SOF_ANY | {0xC4, 0xCC, 0xDA, 0xDB, 0xDC, 0xDD, 0xDF, 0xFE} | set(range(0xE0, 0xF0))
"""Markers Pillow reads as a segment with a length (its ``MARKER`` table). It reads the others (RSTn,
SOI, EOI, JPG, JPGn) as lone markers and DHP as a frame: a file with one of those goes to Pillow."""
_SOS, _DQT = 0xDA, 0xDB
_SHORTEST = {0xE0: (b"JFIF", 7), 0xEE: (b"Adobe", 7), 0xE2: (b"ICC_PROFILE\x00", 14)}
"""APP segments Pillow parses when it opens the file, without guarding against a short one: the prefix
that makes it parse the segment and the length below which it fails (the JFIF version, the Adobe
version, an ICC chunk's count)."""
_EXIF = b"Exif\x00\x00"
_XMP = b"http://ns.adobe.com/xap/1.0/\x00"
_ORIENTATION = 0x0112
NO_ORIENTATION = -1
_XMP_ORIENTATION = re.compile(rb'tiff:Orientation(="|>)([0-9])')
"""What Pillow's ``getexif`` looks for in an XMP packet when EXIF gives no orientation."""
_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4}
"""Bytes per value of each TIFF field type of TIFF 6.0 (13: IFD): the entries a reader can size."""
_MAX_ENTRIES = 1000


@dataclass(frozen=True)
class JpegHeader:
    """A JPEG's size in pixels, its number of colour components (1 grey, 3 colour) and the EXIF
    orientation Pillow's ``getexif()`` would report (1 when the file has none)."""

    width: int
    height: int
    components: int
    orientation: int


def read_header(data: bytes) -> JpegHeader | None:
    """The header of a plain JPEG, or None when Pillow should open the file (module docstring)."""
    if not data.startswith(b"\xff\xd8"):
        return None
    frame, exif, xmp, position, end = None, None, None, 2, len(data)
    while True:
        if position + 4 > end or data[position] != 0xFF:
            return None
        marker = data[position + 1]
        length = int.from_bytes(data[position + 2 : position + 4], "big")
        if length < 2 or position + 2 + length > end or marker not in _SEGMENTS:
            return None  # fill bytes, lone markers inside the header, a segment cut short
        if marker == _SOS:
            break
        payload = data[position + 4 : position + 2 + length]
        if not _plain_segment(marker, payload):
            return None
        if marker in _SOF_ANY:
            if frame is not None or marker not in _SOF_READ:
                return None
            frame = payload
        elif marker == 0xE1 and payload.startswith(_EXIF):
            if exif is not None:
                return None  # Pillow joins several EXIF blocks
            exif = payload[len(_EXIF):]
        elif marker == 0xE1 and payload.startswith(_XMP):
            xmp = payload.split(b"\x00", 1)[1]  # Pillow keeps the last packet
        position += 2 + length
    if frame is None or len(frame) < 6 or frame[0] != 8 or frame[5] not in (1, 3):
        return None
    height, width = int.from_bytes(frame[1:3], "big"), int.from_bytes(frame[3:5], "big")
    if width == 0 or height == 0 or width * height > PILLOW_MAX_IMAGE_PIXELS:
        return None
    orientation = NO_ORIENTATION if exif is None else exif_orientation(exif)
    if orientation is None:
        return None
    if orientation == NO_ORIENTATION:  # none in EXIF: Pillow looks in the XMP packet, as here
        found = _XMP_ORIENTATION.search(xmp) if xmp is not None else None
        orientation = int(found[2]) if found else 1
    return JpegHeader(width, height, frame[5], orientation)


def _plain_segment(marker: int, payload: bytes) -> bool:
    """False for a segment that Pillow would refuse when it opens the file, or read something of its
    own from (a multi-picture index)."""
    if marker == _DQT:
        while payload:  # Pillow checks each table's length: 64 values of 1 or 2 bytes
            size = 1 + 64 * (1 if payload[0] < 16 else 2)
            if len(payload) < size:
                return False
            payload = payload[size:]
        return True
    if marker == 0xE2 and payload.startswith(b"MPF\x00"):
        return False  # a multi-picture file: Pillow parses its index, and may refuse it
    if marker == 0xED and payload.startswith(b"Photoshop 3.0\x00"):
        return _photoshop_readable(payload)
    prefix, shortest = _SHORTEST.get(marker, (None, 0))
    return prefix is None or not payload.startswith(prefix) or len(payload) >= shortest


def _photoshop_readable(payload: bytes) -> bool:
    """False where Pillow's walk through Photoshop's resource blocks would fail: it guards against a
    number cut short (and stops there), not against a block that ends before its name's length."""
    offset = 14
    while payload[offset : offset + 4] == b"8BIM":
        offset += 4
        if offset + 2 > len(payload):
            return True  # Pillow stops at the short number, having read what came before
        offset += 2
        if offset >= len(payload):
            return False
        offset += 1 + payload[offset]
        offset += offset & 1
        if offset + 4 > len(payload):
            return True
        offset += 4 + int.from_bytes(payload[offset : offset + 4], "big")
        offset += offset & 1
    return True


def exif_orientation(tiff: bytes) -> int | None:
    """The orientation tag of IFD0 of an EXIF block (a TIFF structure), ``NO_ORIENTATION`` if IFD0 has
    none, or None
    unless IFD0 is whole and plain: every entry of a known type with its values inside the block, the
    offset of the next IFD present, the orientation (if any) once, as one SHORT."""
    if len(tiff) < 8 or tiff[:4] not in (b"II*\x00", b"MM\x00*"):
        return None
    order: Literal["little", "big"] = "little" if tiff[:2] == b"II" else "big"
    start = int.from_bytes(tiff[4:8], order)
    if start < 8 or start + 2 > len(tiff):
        return None
    count = int.from_bytes(tiff[start : start + 2], order)
    entries = start + 2
    if count > _MAX_ENTRIES or entries + 12 * count + 4 > len(tiff):
        return None
    found: int | None = None
    for entry in range(entries, entries + 12 * count, 12):
        tag = int.from_bytes(tiff[entry : entry + 2], order)
        kind = int.from_bytes(tiff[entry + 2 : entry + 4], order)
        values = int.from_bytes(tiff[entry + 4 : entry + 8], order)
        if kind not in _TYPE_SIZES:
            return None
        size = _TYPE_SIZES[kind] * values
        if size > 4 and int.from_bytes(tiff[entry + 8 : entry + 12], order) + size > len(tiff):
            return None
        if tag == _ORIENTATION:
            if found is not None or kind != 3 or values != 1:
                return None
            found = int.from_bytes(tiff[entry + 8 : entry + 10], order)
    return NO_ORIENTATION if found is None else found
