"""robust.js, the browser's bank views, against robust.py on the same pixels, under Node.

Pillow decodes each picture; Python computes ``robust_variants(luma, "bank")`` on PDQ's luma of it,
and the same RGB pixels go through ``pdqOfPixels(..., {views: true})`` in Node (tests/web/hash_pixels.mjs).
The views must have the same names, in the same order, hashes within ``TOLERANCE`` bits and qualities
within 2: the port follows robust.py and its C kernels step by step, so only float rounding differs.
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageDraw
from test_hash_js_node import DECODING_ONLY, decode_rgb, run_node

from stanch.signals.fast_pdq import luma_of_rgb
from stanch.signals.pdq import hamming_hex
from stanch.signals.robust import robust_variants

TOLERANCE = 8
"""Bits a JavaScript view may differ from Python's on the same pixels."""
BORDER_EDITS = ("letterbox", "pillarbox", "caption bar", "screenshot", "crop 10%")

_EDITS_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "edits.py"
_spec = importlib.util.spec_from_file_location("stanch_benchmark_edits", _EDITS_PATH)
assert _spec is not None and _spec.loader is not None
edits = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(edits)


def scene(seed: int, height: int, width: int) -> Image.Image:
    """Smooth noise with solid rectangles on it: the edges anchored and crop windows are found on."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)
    image = Image.fromarray(coarse).resize((width, height), Image.Resampling.BICUBIC)
    draw = ImageDraw.Draw(image)
    for _ in range(6):
        left, top = int(rng.integers(0, width * 3 // 4)), int(rng.integers(0, height * 3 // 4))
        right = left + int(rng.integers(width // 8, width // 3))
        bottom = top + int(rng.integers(height // 8, height // 3))
        draw.rectangle((left, top, right, bottom), fill=tuple(int(c) for c in rng.integers(0, 256, 3)))
    return image


def pictures(conformance: Path) -> dict[str, np.ndarray]:
    """The conformance pictures, and scenes (one past 768 pixels, so reduced) with borders and captions."""
    expected = [json.loads(line) for line in (conformance / "pdq" / "expected-pdqhash.jsonl").open()]
    paths = [e["path"] for e in expected if e["path"] not in DECODING_ONLY]
    found = {path: decode_rgb(conformance / path) for path in paths}
    for seed, (height, width) in enumerate([(360, 480), (900, 1200), (480, 320)]):
        picture = scene(seed, height, width)
        found[f"scene{seed}"] = np.asarray(picture)
        for edit in BORDER_EDITS:
            found[f"scene{seed} {edit}"] = np.asarray(edits.edited(picture, edit, "robust.js"))
    return found


@pytest.fixture(scope="module")
def compared(node: str, conformance: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("views")
    jobs, python = [], {}
    for number, (name, rgb) in enumerate(pictures(conformance).items()):
        raw = folder / f"{number}.rgb"
        np.ascontiguousarray(rgb).tofile(raw)
        jobs.append({"id": name, "pixels": str(raw), "width": rgb.shape[1], "height": rgb.shape[0],
                     "channels": 3, "views": True})
        python[name] = robust_variants(luma_of_rgb(rgb), "bank")
    return {"js": run_node(node, jobs), "python": python}


def test_views_have_pythons_names_and_hashes_within_a_few_bits(compared: dict[str, Any]) -> None:
    distances, wrong = [], []
    for name, expected in compared["python"].items():
        views = compared["js"][name]["pdq_variants"]
        if [v["name"] for v in views] != [v.name for v in expected]:
            wrong.append(f"{name}: {[v['name'] for v in views]} != {[v.name for v in expected]}")
            continue
        distances += [hamming_hex(v["pdq"], e.pdq) for v, e in zip(views, expected, strict=True)]
        assert all(abs(v["quality"] - e.quality) <= 2 for v, e in zip(views, expected, strict=True)), name
    assert not wrong, "\n".join(wrong)
    assert len(distances) > 1000
    print(f"\n{len(distances)} views: max {max(distances)}, median {np.median(distances)} bits")
    assert max(distances) <= TOLERANCE


def test_every_kind_of_bank_view_is_computed(compared: dict[str, Any]) -> None:
    """Border views on the edited scenes, windows and turns everywhere: all of robust.py's kinds."""
    names = {re.sub(r"^(anchored|spare|crop)\d+$", r"\1", v["name"])
             for result in compared["js"].values() for v in result["pdq_variants"]}
    assert names == {"trimmed", "content", "anchored", "spare", "crop", "mirrored", "flipped",
                     "rotated180", "rotated90", "rotated270", "antitransposed"}
