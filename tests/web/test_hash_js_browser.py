"""stanch-hash.js in headless Chromium: the browser's own decoders, its Web Worker, its WebCrypto.

The reference for each image is pdqhash on Pillow's decode with the EXIF orientation applied (a browser
shows pictures upright); for files stored upright that is expected-pdqhash.jsonl. Meta's rule applies:
within 10 bits on images of quality >= 80, every dihedral hash too. MD5 and SHA-256 must be exact.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from browser_harness import BrowserSession, Reference, exif_orientation, pillow_reference

from stanch.signals import hash_media
from stanch.signals.levelled import SERVER_ONLY
from stanch.signals.pdq import MATCH_DISTANCE, hamming_hex
from stanch.signals.straightened import SERVER_ONLY as STRAIGHTENED

pytestmark = pytest.mark.browser

TOLERANCE = 10
MODULE_FILES = {
    "/static/stanch-hash.js",
    "/static/stanch-hash-worker.js",
    "/static/pdq.js",
    "/static/md5.js",
    "/static/png.js",
    "/static/robust.js",
}
"""Everything the module may fetch: itself. The person's file must never be part of any request."""


@pytest.fixture(scope="module")
def expected(conformance: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (conformance / "pdq" / "expected-pdqhash.jsonl").open()]


@pytest.fixture(scope="module")
def browser_hashes(browser: BrowserSession, expected: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """hashImage of every conformance image, each fetched into a Blob from the local server."""
    return {entry["path"]: browser.hash_image(f"/conformance/{entry['path']}") for entry in expected}


def test_pdq_within_10_bits_of_the_reference(
    conformance: Path, expected: list[dict[str, Any]], browser_hashes: dict[str, dict[str, Any]]
) -> None:
    checked, rotated = 0, 0
    for entry in expected:
        path = conformance / entry["path"]
        if entry["quality"] < 80:
            continue
        if exif_orientation(path) == 1:
            reference = Reference(tuple(entry["pdq_dihedral"]), entry["quality"], 1)
        else:
            reference = pillow_reference(path)
            rotated += 1
        result = browser_hashes[entry["path"]]
        distances = [
            hamming_hex(a, b) for a, b in zip(result["pdq_dihedral"], reference.pdq_dihedral, strict=True)
        ]
        assert result["pdq"] == result["pdq_dihedral"][0]
        assert max(distances) <= TOLERANCE, (entry["path"], distances)
        assert abs(result["quality"] - reference.quality) <= 5, entry["path"]
        checked += 1
    assert checked >= 45 and rotated == 3


def test_md5_and_sha256_are_exact(
    conformance: Path, expected: list[dict[str, Any]], browser_hashes: dict[str, dict[str, Any]]
) -> None:
    for entry in expected:
        data = (conformance / entry["path"]).read_bytes()
        assert browser_hashes[entry["path"]]["md5"] == hashlib.md5(data).hexdigest(), entry["path"]
        assert browser_hashes[entry["path"]]["sha256"] == hashlib.sha256(data).hexdigest(), entry["path"]


def record_requests(page: Any) -> list[str]:
    """Every request the page or its workers make from now on."""
    requests: list[str] = []
    page.context.on("request", lambda request: requests.append(request.url))
    return requests


def assert_only_module_files(requests: list[str], base_url: str) -> None:
    for url in requests:
        if url.startswith("blob:"):  # the chosen file, read locally through an object URL
            assert url.startswith(f"blob:{base_url}/"), url
            continue
        assert url.startswith(base_url) and urlparse(url).path in MODULE_FILES, url


def test_a_chosen_file_is_hashed_with_no_request_but_the_module(
    browser: BrowserSession, conformance: Path
) -> None:
    page = browser.fresh_page()
    requests = record_requests(page)
    image = conformance / "pdq" / "reg-test-input" / "dih" / "bridge-2-rotate-90.jpg"
    page.set_input_files("#file", str(image))
    result = page.evaluate("() => window.hashChosen()")
    page.close()
    assert hamming_hex(result["pdq"], pillow_reference(image).pdq_dihedral[0]) <= TOLERANCE
    assert_only_module_files(requests, browser.base_url)
    # The recording works and the work ran in the Web Worker: its script was fetched.
    assert f"{browser.base_url}/static/stanch-hash-worker.js" in requests


def test_progress_is_reported_up_to_done(browser: BrowserSession) -> None:
    events = browser.page.evaluate("""async () => {
        const events = [];
        const blob = await (await fetch('/conformance/pdq/bridge-mods/aaa-orig.jpg')).blob();
        await window.stanch.hashImage(blob, { onProgress: (event) => events.push(event) });
        return events;
    }""")
    fractions = [event["fraction"] for event in events]
    assert fractions == sorted(fractions) and fractions[-1] == 1
    assert {"reading", "decoding", "hashing"} <= {event["stage"] for event in events}


def test_huge_pictures_are_scaled_down_and_still_hash_alike(
    browser: BrowserSession, conformance: Path
) -> None:
    """A 12-megapixel photo hashed at 1 megapixel (as MAX_DECODE_PIXELS does for 24+ MP photos)."""
    path = "pdq/reg-test-input/exif-rotn/exif-rotn-6.jpg"
    result = browser.hash_image(f"/conformance/{path}", maxPixels=1_000_000)
    assert hamming_hex(result["pdq"], pillow_reference(conformance / path).pdq_dihedral[0]) <= TOLERANCE


def test_a_file_that_is_not_a_picture_is_refused_clearly(browser: BrowserSession) -> None:
    message = browser.page.evaluate("""async () => {
        try {
            await window.stanch.hashImage(new Blob(['not a picture'], { type: 'text/plain' }));
            return 'no error';
        } catch (error) {
            return error.message;
        }
    }""")
    assert "could not be opened as a picture" in message


def test_hash_video_samples_frames_like_vpdq(browser: BrowserSession, conformance: Path) -> None:
    """Debian's chromium plays H.264, so Meta's sample MP4 is used as it is.

    Meta's regression rule for vPDQ: each frame within 31 bits of the reference frame at the same time,
    frames of quality < 50 skipped.
    """
    name = "chair-19-sd-bar"
    video = conformance / "vpdq" / "sample-videos" / f"{name}.mp4"
    reference = {}
    for line in (conformance / "vpdq" / "sample-hashes" / f"{name}.txt").read_text().splitlines():
        _, quality, pdq, ts = line.split(",")
        reference[round(float(ts), 3)] = (pdq, int(quality))
    page = browser.fresh_page()
    requests = record_requests(page)
    page.set_input_files("#file", str(video))
    outcome = page.evaluate("() => window.hashChosenVideo(1)")
    page.close()
    result, progress = outcome["result"], outcome["progress"]
    fractions = [event["fraction"] for event in progress]
    assert fractions == sorted(fractions) and fractions[-1] == 1
    assert {event["stage"] for event in progress} == {"reading", "frames"}
    data = video.read_bytes()
    assert result["md5"] == hashlib.md5(data).hexdigest() == "0a21c8f85a55a9e276ffc2c53f6887c4"
    assert result["sha256"] == hashlib.sha256(data).hexdigest()
    duration = max(reference) + 1 / 30
    assert [frame["ts"] for frame in result["vpdq"]] == list(range(math.ceil(duration)))
    for frame in result["vpdq"]:
        pdq, quality = reference[float(frame["ts"])]
        if quality >= 50:
            assert hamming_hex(frame["pdq"], pdq) <= MATCH_DISTANCE, frame
    assert_only_module_files(requests, browser.base_url)


def test_a_file_that_is_not_a_video_is_refused_clearly(browser: BrowserSession) -> None:
    message = browser.page.evaluate("""async () => {
        try {
            await window.stanch.hashVideo(new Blob(['not a video'], { type: 'video/mp4' }));
            return 'no error';
        } catch (error) {
            return error.message;
        }
    }""")
    assert "cannot play this video" in message


def test_bank_views_are_close_to_stanch_hash_for_bank(
    conformance: Path, expected: list[dict[str, Any]], browser_hashes: dict[str, dict[str, Any]]
) -> None:
    """hashImage's ``pdq_variants`` against ``stanch hash --for bank`` of the same upright files.

    Python hashes a JPEG's own Y channel, the browser the luma of its RGB decode: a pixel or two apart
    in places, so a window edge on a near tie can move by a pixel (PDQ then moves 15-25 bits). Most views
    must be the same windows (same names, a few bits apart), and nearly every view Python banks must
    have a browser view within the matching threshold.
    """
    distances, covered, views = [], 0, 0
    for entry in expected:
        path = conformance / entry["path"]
        if entry["quality"] < 80 or exif_orientation(path) != 1:
            continue
        mine = {v["name"]: v["pdq"] for v in browser_hashes[entry["path"]]["pdq_variants"]}
        theirs = {v.name: v.pdq for v in hash_media(path.read_bytes(), purpose="bank").variants
                  if not v.name.startswith(SERVER_ONLY + STRAIGHTENED)}  # server-only views
        distances += [hamming_hex(mine[name], theirs[name]) for name in mine.keys() & theirs.keys()]
        covered += sum(min(hamming_hex(h, other) for other in mine.values()) <= MATCH_DISTANCE
                       for h in theirs.values())
        views += len(theirs)
    distances.sort()
    median, ninetieth = distances[len(distances) // 2], distances[len(distances) * 9 // 10]
    print(f"\n{len(distances)} of {views} views named alike: distances median {median}, 90th percentile "
          f"{ninetieth}, max {distances[-1]}; {covered} of {views} within {MATCH_DISTANCE} bits of a "
          "browser view")
    assert views > 1000 and len(distances) >= 0.95 * views
    assert median <= 2 and ninetieth <= 24 and covered >= 0.95 * views
