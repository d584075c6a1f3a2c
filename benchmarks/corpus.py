"""A wide, held-out picture corpus built from Debian's wallpaper packages (issue 10).

    python benchmarks/corpus.py [--sheets DIR]

Stanch's robustness views were tuned on the ~20 pictures of the conformance set; figures measured on
them say little about pictures the project never saw. This script builds a corpus from the wallpaper
packages Debian ships (installing them with apt-get when missing):

- one wallpaper shipped at several resolutions, or in a light and a dark version, is ONE wallpaper: its
  largest file is used;
- each wallpaper is cut into non-overlapping tiles (about 1,000 px of the original a side, at most 3x3),
  each tile a distinct content; tiles of one wallpaper look alike, which is what the false-match
  figures need to face;
- a deterministic split by a hash of the wallpaper's name puts every tile of one wallpaper in the same
  half: ``tune`` (for choosing thresholds and views) or ``heldout`` (for reporting only);
- pictures whose subject is a person are left out (``EXCLUDED``, decided by looking at contact sheets
  made with ``--sheets``), as are vector files (SVG) and the packages' screenshots.

Tiles are cached as PNG files (long side at most ``TILE_SIDE``) under benchmarks/.cache/corpus/, which
git ignores; the corpus images are never committed.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import zlib
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

PACKAGES = (
    "gnome-backgrounds",
    "plasma-workspace-wallpapers",
    "mate-backgrounds",
    "ukui-wallpapers",
    "sway-backgrounds",
)
CACHE = Path(__file__).resolve().parent / ".cache" / "corpus"
TILE_SIDE = 800
"""Long side of a cached tile: large enough for every edit, small enough to hash quickly."""
TILE_SOURCE = 1000
"""About how many pixels of the original a tile covers on each side."""
SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}

EXCLUDED: frozenset[str] = frozenset()
"""Wallpapers whose subject is a person, by key (see ``wallpaper_key``). Empty after looking at the
contact sheets of every wallpaper's first tile on 2026-12-02 (landscapes, plants, abstract art, logos):
re-check with ``--sheets`` when the packages change, and add a key here rather than deleting files."""


@dataclass(frozen=True)
class Content:
    """One tile of one wallpaper: a distinct content of the corpus."""

    wallpaper: str
    tile: int
    half: str
    path: Path

    @property
    def name(self) -> str:
        return f"{self.wallpaper}#{self.tile}"


def ensure_packages() -> None:
    """Install the wallpaper packages that are missing (needs root, as on CI)."""
    missing = [p for p in PACKAGES if subprocess.run(["dpkg", "-s", p], capture_output=True).returncode]
    if missing and shutil.which("apt-get"):
        subprocess.run(["apt-get", "install", "-y", "-q", *missing], check=True, capture_output=True)


def package_files() -> list[Path]:
    """Every raster picture the wallpaper packages install, screenshots and thumbnails left out."""
    files: set[Path] = set()
    for package in PACKAGES:
        listing = subprocess.run(["dpkg", "-L", package], capture_output=True, text=True).stdout
        for line in listing.splitlines():
            path = Path(line)
            if path.suffix.lower() in SUFFIXES and "screenshot" not in path.name and path.is_file():
                files.add(path)
    return sorted(files)


def wallpaper_key(path: Path) -> str:
    """The wallpaper a file shows: Plasma's folder name, else the file name without size or -d/-l."""
    if "contents" in path.parts:
        return "plasma/" + path.parts[path.parts.index("contents") - 1]
    stem = re.sub(r"[_-]?\d{3,5}x\d{3,5}(_Portrait)?$", "", path.stem)
    stem = re.sub(r"-[dl]$", "", stem)
    return f"{path.parent.name}/{stem}"


def half_of(wallpaper: str) -> str:
    """The deterministic half of a wallpaper: every tile of it lands on the same side."""
    return "tune" if zlib.crc32(wallpaper.encode()) % 2 == 0 else "heldout"


def _largest(paths: list[Path]) -> tuple[Path, tuple[int, int]]:
    """The file of most pixels among versions of one wallpaper (light before dark on a tie)."""
    sized = []
    for path in paths:
        with Image.open(path) as image:
            sized.append((image.size[0] * image.size[1], "dark" not in path.as_posix(), path, image.size))
    _, _, path, size = max(sized)
    return path, size


def _grid(size: tuple[int, int]) -> tuple[int, int]:
    width, height = size
    return min(3, max(1, round(width / TILE_SOURCE))), min(3, max(1, round(height / TILE_SOURCE)))


def build() -> list[Content]:
    """Every tile of the corpus, cut and cached on first use."""
    ensure_packages()
    groups: dict[str, list[Path]] = {}
    for path in package_files():
        groups.setdefault(wallpaper_key(path), []).append(path)
    contents = []
    for wallpaper in sorted(groups):
        if wallpaper in EXCLUDED:
            continue
        source, size = _largest(groups[wallpaper])
        columns, rows = _grid(size)
        targets = [CACHE / f"{wallpaper.replace('/', '__')}#{tile}.png" for tile in range(columns * rows)]
        missing = [tile for tile, target in enumerate(targets) if not target.exists()]
        if missing:  # one decode of the (large) wallpaper for all its tiles
            with Image.open(source) as image:
                picture = image.convert("RGB")
            for tile in missing:
                _cut(picture, columns, rows, tile, targets[tile])
        contents += [Content(wallpaper, tile, half_of(wallpaper), t) for tile, t in enumerate(targets)]
    return contents


def _cut(picture: Image.Image, columns: int, rows: int, tile: int, target: Path) -> None:
    width, height = picture.size
    column, row = tile % columns, tile // columns
    box = (
        column * width // columns,
        row * height // rows,
        (column + 1) * width // columns,
        (row + 1) * height // rows,
    )
    part = picture.crop(box)
    part.thumbnail((TILE_SIDE, TILE_SIDE))
    target.parent.mkdir(parents=True, exist_ok=True)
    part.save(target)


def half(name: str) -> list[Content]:
    """The contents of one half, ``tune`` or ``heldout``."""
    return [content for content in build() if content.half == name]


def contact_sheets(contents: list[Content], folder: Path, per_sheet: int = 30) -> None:
    """6x5 thumbnails per PNG, labelled by file order, for checking by eye that no person is shown."""
    from PIL import ImageDraw

    folder.mkdir(parents=True, exist_ok=True)
    for start in range(0, len(contents), per_sheet):
        sheet = Image.new("RGB", (6 * 200, 5 * 140), (128, 128, 128))
        draw = ImageDraw.Draw(sheet)
        for i, content in enumerate(contents[start : start + per_sheet]):
            with Image.open(content.path) as image:
                thumb = image.convert("RGB")
            thumb.thumbnail((196, 116))
            x, y = (i % 6) * 200, (i // 6) * 140
            sheet.paste(thumb, (x + 2, y + 2))
            draw.text((x + 2, y + 120), content.name[-30:], fill=(255, 255, 0))
        sheet.save(folder / f"sheet-{start // per_sheet:02d}.png")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sheets", type=Path, help="write contact sheets of every tile's first tile here")
    arguments = parser.parse_args()
    contents = build()
    wallpapers = {c.wallpaper for c in contents}
    for name in ("tune", "heldout"):
        part = [c for c in contents if c.half == name]
        print(f"{name}: {len(part)} contents from {len({c.wallpaper for c in part})} wallpapers")
    print(f"total: {len(contents)} contents from {len(wallpapers)} wallpapers; {len(EXCLUDED)} excluded")
    if arguments.sheets:
        contact_sheets([c for c in contents if c.tile == 0], arguments.sheets)


if __name__ == "__main__":
    main()
