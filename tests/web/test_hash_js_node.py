"""The arithmetic of stanch-hash.js, run under Node on exactly the pixels Pillow decodes.

Pillow decodes each conformance image (converted to RGB, as expected-pdqhash.jsonl was made); the raw
pixels go to Node (tests/web/hash_pixels.mjs, one process for every job) and through the module's PDQ.
On identical pixels the JavaScript reproduces pdqhash bit for bit: it rounds to 32-bit floats exactly
where Meta's C++ does. MD5 and SHA-256 of every file must equal hashlib's.
"""

from __future__ import annotations

import hashlib
import json
import struct
import subprocess
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from stanch.signals.pdq import hamming_hex, pdq_dihedral_of_rgb

HARNESS = Path(__file__).with_name("hash_pixels.mjs")
TOLERANCE = 10
"""Meta's rule: within 10 bits of the C++ reference on images of quality >= 80."""
DECODING_ONLY = {f"pdq/reg-test-input/exif-rotn/exif-rotn-{n}.jpg" for n in (3, 6, 8)}
"""12-megapixel photos that differ from exif-rotn-1 only in how they are stored (the browser test
covers their decoding); left out here to keep the run short."""


def synthetic_images() -> dict[str, np.ndarray]:
    """Edge cases for window sizes and the minimum size: tiny, thin, exactly 64x64, flat, noisy."""
    rng = np.random.default_rng(5)
    ramp = np.linspace(0, 255, 300, dtype=np.float64)
    return {
        "noise-4x9": rng.integers(0, 256, (4, 9, 3), dtype=np.uint8),
        "noise-5x5": rng.integers(0, 256, (5, 5, 3), dtype=np.uint8),
        "noise-64x64": rng.integers(0, 256, (64, 64, 3), dtype=np.uint8),
        "ramp-7x300": np.broadcast_to(ramp.astype(np.uint8)[None, :, None], (7, 300, 3)).copy(),
        "flat-130x129": np.full((130, 129, 3), 77, dtype=np.uint8),
        "noise-1001x333": rng.integers(0, 256, (1001, 333, 3), dtype=np.uint8),
    }


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def write_png(path: Path, samples: np.ndarray, *, interlaced: bool) -> None:
    """A PNG with an alpha channel (LA or RGBA, 8 or 16 bits) using every row filter in turn.

    Pillow writes neither 16-bit alpha nor interlaced PNGs, and uses few filters; this writer does.
    """
    height, width, channels = samples.shape
    depth = 16 if samples.dtype == np.uint16 else 8
    bpp = channels * depth // 8
    passes = ADAM7 if interlaced else [(0, 0, 1, 1)]
    raw = bytearray()
    for x0, y0, dx, dy in passes:
        sub = samples[y0::dy, x0::dx]
        if sub.size == 0:
            continue
        rows = sub.astype(">u2" if depth == 16 else np.uint8).reshape(sub.shape[0], -1).view(np.uint8)
        previous = np.zeros(rows.shape[1], dtype=np.int64)
        for index, row in enumerate(rows.astype(np.int64)):
            kind = index % 5
            left = np.concatenate([np.zeros(bpp, dtype=np.int64), row[:-bpp]])
            up_left = np.concatenate([np.zeros(bpp, dtype=np.int64), previous[:-bpp]])
            if kind == 4:
                p = left + previous - up_left
                pa, pb, pc = abs(p - left), abs(p - previous), abs(p - up_left)
                predictor = np.where((pa <= pb) & (pa <= pc), left, np.where(pb <= pc, previous, up_left))
            else:
                predictor = [np.zeros_like(row), left, previous, (left + previous) // 2][kind]
            raw += bytes([kind]) + ((row - predictor) % 256).astype(np.uint8).tobytes()
            previous = row

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    colour_type = 6 if channels == 4 else 4
    header = struct.pack(">IIBBBBB", width, height, depth, colour_type, 0, 0, int(interlaced))
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(raw)))
        + chunk(b"IEND", b"")
    )


def alpha_pngs(folder: Path) -> dict[str, Path]:
    """Translucent test pictures in every layout png.js decodes."""
    rng = np.random.default_rng(3)
    made = {}
    for channels in (2, 4):
        for dtype in (np.uint8, np.uint16):
            for interlaced in (False, True):
                samples = rng.integers(0, np.iinfo(dtype).max + 1, (37, 53, channels), dtype=dtype)
                path = folder / f"alpha-{channels}-{np.dtype(dtype).itemsize * 8}-{int(interlaced)}.png"
                write_png(path, samples, interlaced=interlaced)
                made[path.name] = path
    return made


def decode_rgb(path: Path) -> np.ndarray:
    """Pillow's full decode converted to RGB, as expected-pdqhash.jsonl was made (no EXIF turn)."""
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def run_node(node: str, jobs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    completed = subprocess.run(
        [node, str(HARNESS)], input=json.dumps(jobs), capture_output=True, text=True, timeout=120
    )
    assert completed.returncode == 0, completed.stderr
    results = [json.loads(line) for line in completed.stdout.splitlines()]
    assert [r["id"] for r in results] == [job["id"] for job in jobs]
    return {r["id"]: r for r in results}


@pytest.fixture(scope="module")
def hashed(node: str, conformance: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Run every job in one Node process; keep pdqhash's hashes of the same pixels beside the results."""
    folder = tmp_path_factory.mktemp("pixels")
    expected = [json.loads(line) for line in (conformance / "pdq" / "expected-pdqhash.jsonl").open()]
    images = {e["path"]: conformance / e["path"] for e in expected if e["path"] not in DECODING_ONLY}
    jobs: list[dict[str, Any]] = []
    pdqhash: dict[str, tuple[tuple[str, ...], int]] = {}
    for name, rgb in [
        *((name, decode_rgb(path)) for name, path in images.items()),
        *synthetic_images().items(),
    ]:
        raw = folder / f"{len(jobs)}.rgb"
        rgb.tofile(raw)
        height, width, _ = rgb.shape
        jobs.append({"id": name, "pixels": str(raw), "width": width, "height": height, "channels": 3})
        pdqhash[name] = pdq_dihedral_of_rgb(rgb)
    # Canvas pixels are RGBA: alpha must be ignored.
    bridge = decode_rgb(images["pdq/bridge-mods/aaa-orig.jpg"])
    rgba = np.dstack([bridge, np.arange(1004 * 1600, dtype=np.uint8).reshape(1004, 1600)])
    rgba.tofile(folder / "rgba.raw")
    jobs.append(
        {"id": "rgba", "pixels": str(folder / "rgba.raw"), "width": 1600, "height": 1004, "channels": 4}
    )
    files = dict(images)
    files["empty"] = folder / "empty.bin"
    files["empty"].write_bytes(b"")
    files["random-9MiB"] = folder / "random.bin"  # crosses the 4 MiB read pieces twice
    files["random-9MiB"].write_bytes(np.random.default_rng(9).bytes(9 * 1024 * 1024 + 17))
    for name, path in files.items():
        jobs.append({"id": f"file:{name}", "file": str(path), "piece": 1000})
    pngs = alpha_pngs(folder)
    pngs["LA.png"] = conformance / "pdq" / "pytx-resources" / "LA.png"
    pngs["RGB.png (no alpha)"] = folder / "rgb.png"
    Image.fromarray(bridge).save(pngs["RGB.png (no alpha)"])
    for name, path in pngs.items():
        jobs.append({"id": f"png:{name}", "png": str(path)})
    results = run_node(node, jobs)
    return {"results": results, "pdqhash": pdqhash, "expected": expected, "files": files, "pngs": pngs}


def test_pdq_is_bit_exact_with_pdqhash_on_the_same_pixels(hashed: dict[str, Any]) -> None:
    mismatches = []
    for name, (dihedral, quality) in hashed["pdqhash"].items():
        result = hashed["results"][name]
        if (result["pdq_dihedral"], result["quality"], result["pdq"]) != (
            list(dihedral),
            quality,
            dihedral[0],
        ):
            distances = [hamming_hex(a, b) for a, b in zip(result["pdq_dihedral"], dihedral, strict=True)]
            mismatches.append(f"{name}: quality {result['quality']} vs {quality}, distances {distances}")
    assert not mismatches, "\n".join(mismatches)


def test_within_10_bits_of_expected_pdqhash(hashed: dict[str, Any]) -> None:
    checked = 0
    for entry in hashed["expected"]:
        if entry["quality"] < 80 or entry["path"] in DECODING_ONLY:
            continue
        result = hashed["results"][entry["path"]]
        distances = [
            hamming_hex(a, b) for a, b in zip(result["pdq_dihedral"], entry["pdq_dihedral"], strict=True)
        ]
        assert hamming_hex(result["pdq"], entry["pdq"]) <= TOLERANCE, entry["path"]
        assert max(distances) <= TOLERANCE, (entry["path"], distances)
        checked += 1
    assert checked >= 40


def test_alpha_is_ignored(hashed: dict[str, Any]) -> None:
    results = hashed["results"]
    assert results["rgba"]["pdq_dihedral"] == results["pdq/bridge-mods/aaa-orig.jpg"]["pdq_dihedral"]


def test_too_small_images_get_the_empty_hash(hashed: dict[str, Any]) -> None:
    """Below 5 pixels on a side the reference gives quality 0 and all-zero bits; so does the module."""
    result = hashed["results"]["noise-4x9"]
    assert result["quality"] == 0
    assert set(result["pdq_dihedral"]) == {"0" * 64}
    assert hashed["results"]["noise-5x5"]["quality"] > 0


def test_md5_and_sha256_equal_hashlib(hashed: dict[str, Any]) -> None:
    for name, path in hashed["files"].items():
        data = path.read_bytes()
        result = hashed["results"][f"file:{name}"]
        assert result["md5"] == hashlib.md5(data).hexdigest(), name
        assert result["md5_pieces"] == result["md5"], name
        assert result["sha256"] == hashlib.sha256(data).hexdigest(), name


def test_png_with_alpha_decodes_to_exactly_pillows_pixels(hashed: dict[str, Any]) -> None:
    """png.js keeps the colour of translucent pixels, as Pillow does (browsers lose it)."""
    for name, path in hashed["pngs"].items():
        result = hashed["results"][f"png:{name}"]
        if "no alpha" in name:
            assert result == {"id": f"png:{name}", "accepted": False}
            continue
        with Image.open(path) as image:
            rgba = np.ascontiguousarray(np.asarray(image.convert("RGBA")))
        assert (result["width"], result["height"]) == (rgba.shape[1], rgba.shape[0]), name
        assert result["rgba_md5"] == hashlib.md5(rgba.tobytes()).hexdigest(), name


def test_clear_errors_for_what_cannot_be_hashed(node: str) -> None:
    """A file too large for memory, and (Node has no image decoder) a picture where nothing decodes."""
    module = (Path(__file__).parents[2] / "stanch" / "web" / "static" / "stanch-hash.js").as_uri()
    script = f"""
        globalThis.crypto ??= (await import('node:crypto')).webcrypto;
        const {{ digestBlob, hashImage }} = await import({json.dumps(module)});
        const messages = [];
        const huge = new Blob([new Uint8Array(8)]);
        Object.defineProperty(huge, 'size', {{ value: 2 ** 53 }});
        const attempts = [() => digestBlob(huge), () => hashImage(new Blob(['x'])), () => hashImage('x')];
        for (const attempt of attempts) {{
            try {{
                await attempt();
                messages.push('no error');
            }} catch (error) {{
                messages.push(error.message);
            }}
        }}
        console.log(JSON.stringify(messages));
    """
    completed = subprocess.run(
        [node, "--input-type=module", "-e", script], capture_output=True, text=True, timeout=60
    )
    assert completed.returncode == 0, completed.stderr
    too_large, no_decoder, not_a_file = json.loads(completed.stdout)
    assert "too large to hash in this browser" in too_large and "stanch hash" in too_large
    assert "cannot decode pictures here" in no_decoder
    assert "expected a File or Blob" in not_a_file
