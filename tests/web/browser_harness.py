"""Headless Chromium driving stanch-hash.js, for the browser tests and benchmarks/browser_hash.py.

A local http.server (127.0.0.1, a thread) serves three things: Stanch's static folder under
/static/, Meta's conformance media under /conformance/, media a test generated under /media/, and a
bare page (/harness.html) that imports the module and offers an <input type=file>. Debian's chromium is
driven by Playwright; Playwright never downloads a browser here.
"""

from __future__ import annotations

import posixpath
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import unquote

from tests.local_server import local_server

REPO = Path(__file__).resolve().parents[2]
STATIC_DIR = REPO / "stanch" / "web" / "static"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-gpu",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]
HARNESS_PAGE = b"""<!doctype html>
<meta charset="utf-8">
<title>stanch-hash harness</title>
<input type="file" id="file">
<script type="module">
import * as stanch from '/static/stanch-hash.js';
window.stanch = stanch;
window.hashFetched = async (url, options) => stanch.hashImage(await (await fetch(url)).blob(), options);
window.hashFetchedVideo = async (url, secondsPerHash) =>
  stanch.hashVideo(await (await fetch(url)).blob(), { secondsPerHash });
window.hashChosen = async () => stanch.hashImage(document.getElementById('file').files[0]);
window.hashChosenVideo = async (secondsPerHash) => {
  const progress = [];
  const file = document.getElementById('file').files[0];
  const onProgress = (event) => progress.push(event);
  const result = await stanch.hashVideo(file, { secondsPerHash, onProgress });
  return { result, progress };
};
</script>
"""


def chromium_path() -> str | None:
    """Debian's chromium, the only browser these tests drive."""
    return shutil.which("chromium")


class _Handler(SimpleHTTPRequestHandler):
    roots: ClassVar[dict[str, Path]] = {}

    def do_GET(self) -> None:
        if self.path.split("?")[0] == "/harness.html":
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(HARNESS_PAGE)))
            self.end_headers()
            self.wfile.write(HARNESS_PAGE)
            return
        super().do_GET()

    def translate_path(self, path: str) -> str:
        path = unquote(path.split("?", 1)[0].split("#", 1)[0])
        for prefix, root in self.roots.items():
            if path.startswith(prefix):
                relative = posixpath.normpath(path[len(prefix) :]).lstrip("/")
                if not relative.startswith(".."):
                    return str(root / relative)
        return "/nonexistent"  # answered with 404

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests record requests in the browser instead."""


@dataclass
class BrowserSession:
    """A page showing /harness.html, the base URL of the server behind it, and the browser."""

    page: Any
    base_url: str
    browser: Any

    def fresh_page(self) -> Any:
        """The harness page in a new browser context (empty cache), for recording every request."""
        page = self.browser.new_context().new_page()
        page.goto(f"{self.base_url}/harness.html")
        page.wait_for_function("() => window.stanch !== undefined")
        return page

    def hash_image(self, url_path: str, **options: Any) -> dict[str, Any]:
        """hashImage of a file fetched from the local server into a Blob."""
        result: dict[str, Any] = self.page.evaluate(
            "([url, options]) => window.hashFetched(url, options)", [url_path, options]
        )
        return result

    def hash_video(self, url_path: str, seconds_per_hash: float = 1) -> dict[str, Any]:
        """hashVideo of a file fetched from the local server into a Blob."""
        result: dict[str, Any] = self.page.evaluate(
            "([url, seconds]) => window.hashFetchedVideo(url, seconds)", [url_path, seconds_per_hash]
        )
        return result


@contextmanager
def serve(conformance: Path, media: Path) -> Iterator[str]:
    """Serve static files, conformance media and generated media; yields the base URL."""
    handler = type(
        "Handler",
        (_Handler,),
        {
            "roots": {
                "/static/": STATIC_DIR,
                "/conformance/": conformance,
                "/media/": media,
            }
        },
    )
    with local_server(handler) as url:
        yield url


@contextmanager
def browser_session(conformance: Path, media: Path) -> Iterator[BrowserSession]:
    """Start the server and one headless Chromium with the harness page open."""
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    if executable is None:
        raise RuntimeError("chromium not found: install Debian's package 'chromium'")
    with serve(conformance, media) as base_url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        try:
            session = BrowserSession(None, base_url, browser)
            session.page = session.fresh_page()
            yield session
        finally:
            browser.close()


@dataclass(frozen=True)
class Reference:
    """What pdqhash gives on Pillow's decode of a file, EXIF orientation applied as a browser does."""

    pdq_dihedral: tuple[str, ...]
    quality: int
    orientation: int
    """The file's EXIF orientation, 2-8 when it asks for a turn or flip, else 1 (as stored)."""


def pillow_reference(path: Path) -> Reference:
    """pdqhash's hashes of ``path`` decoded by Pillow, converted to RGB, turned upright per EXIF."""
    import numpy as np
    from PIL import Image, ImageOps

    from stanch.signals.pdq import pdq_dihedral_of_rgb

    with Image.open(path) as image:
        rgb = np.asarray(ImageOps.exif_transpose(image).convert("RGB"))
    dihedral, quality = pdq_dihedral_of_rgb(rgb)
    return Reference(dihedral, quality, exif_orientation(path))


def exif_orientation(path: Path) -> int:
    """The EXIF orientation, 2-8 when the file asks to be turned or flipped, else 1 (read, not decoded)."""
    from PIL import Image

    with Image.open(path) as image:
        tag = int(image.getexif().get(0x0112, 1))
    return tag if 2 <= tag <= 8 else 1
