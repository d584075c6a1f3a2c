"""A held-out video corpus made from the picture corpus's photos (issue 10).

    python benchmarks/video_corpus.py

Meta's four sample contents say little about videos the project never saw. This script makes
``PER_HALF`` short videos for each half of ``benchmarks/corpus.py`` (the Debian wallpapers, cut into
tiles), each from tiles of that half only, so a video is ``tune`` or ``heldout`` exactly as its
pictures are and no tile appears in two videos. The videos are the usual kinds of footage made from
stills, in turn:

- ``pan``: a window of 60-75 % of one photo drifting across it;
- ``zoom``: one photo, zooming in (or out) towards a point;
- ``cuts``: three photos, about equal shares of the time, each panning, with hard cuts;
- ``fade``: a fade in from black, two photos crossfading into each other while zooming slowly;
- ``slideshow``: four photos, each still for a moment, fading through black into the next.

Only tiles with detail enough for PDQ are used (``MIN_TILE_QUALITY``): many wallpapers are smooth
gradients, whose frames every video rule ignores.

Sizes (320x240, 384x216, 240x320, 288x288), frame rates (15, 24, 25, 30) and lengths (4-6 s) vary
with the video's number. Videos are encoded with libx264 (``video_edits.encode``: fixed settings,
one thread, reproducible) and cached under benchmarks/.cache/video-corpus/, named with a digest of
their definition; git ignores the cache, no video is committed.
"""

from __future__ import annotations

import hashlib
import itertools
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import corpus
import numpy as np
from PIL import Image
from video_edits import Frame, encode

from stanch.signals.fast_pdq import pdq_dihedral_of_luma

CACHE = Path(__file__).resolve().parent / ".cache" / "video-corpus"
PER_HALF = 24
"""Videos made for each half: 48 distinct contents in all."""
KINDS = ("pan", "zoom", "cuts", "fade", "slideshow")
PHOTOS = {"pan": 1, "zoom": 1, "cuts": 3, "fade": 2, "slideshow": 4}
SIZES = ((320, 240), (384, 216), (240, 320), (288, 288))
RATES = (25, 30, 24, 15)
LENGTHS = (5.0, 4.0, 6.0, 4.5, 5.5)
MIN_TILE_QUALITY = 80
"""Tiles are picked among those whose PDQ quality at video size is at least this. Frames of quality
below 50 are ignored by every video rule (Meta's too): a video of flat gradients is matched by
none, so such tiles (many wallpapers are smooth) would only measure that. 80 leaves a margin for
the zoomed and panned windows of a tile, which are smoother than the whole."""

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class VideoContent:
    """One corpus video: its kind, the tiles it shows, its frame size, rate and length."""

    number: int
    half: str
    kind: str
    photos: tuple[str, ...]
    """Names of the corpus tiles shown (``corpus.Content.name``)."""
    size: tuple[int, int]
    fps: int
    seconds: float

    @property
    def name(self) -> str:
        return f"{self.half}-{self.number:02d}-{self.kind}"

    @property
    def path(self) -> Path:
        key = hashlib.sha256(repr(self).encode()).hexdigest()[:10]
        return CACHE / f"{self.name}-{key}.mp4"


def hashable(path: Path) -> bool:
    """Whether a tile, reduced to video size, has PDQ quality of at least ``MIN_TILE_QUALITY``."""
    with Image.open(path) as image:
        grey = image.convert("L")
    grey.thumbnail((320, 320))
    return pdq_dihedral_of_luma(np.asarray(grey))[1] >= MIN_TILE_QUALITY


def plan() -> list[VideoContent]:
    """Which video shows which tiles: deterministic, from the corpus's halves."""
    videos = []
    contents = corpus.build()
    for half in ("tune", "heldout"):
        usable = [c.name for c in contents if c.half == half and hashable(c.path)]
        tiles = sorted(usable, key=lambda n: (zlib.crc32(n.encode()), n))
        for number in range(PER_HALF):
            kind = KINDS[number % len(KINDS)]
            photos, tiles = tuple(tiles[: PHOTOS[kind]]), tiles[PHOTOS[kind] :]
            if len(photos) < PHOTOS[kind]:
                raise SystemExit(f"the {half} half has too few tiles for {PER_HALF} videos")
            videos.append(VideoContent(number, half, kind, photos, SIZES[number % len(SIZES)],
                                       RATES[number % len(RATES)], LENGTHS[number % len(LENGTHS)]))
    return videos


def build(half: str | None = None) -> list[VideoContent]:
    """Every video of the corpus (or of one half), made and cached on first use."""
    tiles = {c.name: c.path for c in corpus.build()}
    videos = [v for v in plan() if half is None or v.half == half]
    for video in videos:
        if not video.path.exists():
            photos = [_open(tiles[name]) for name in video.photos]
            encode(frames_of(video, photos), video.path, video.fps, None)
    return videos


def _open(path: Path) -> Image.Image:
    with Image.open(path) as image:
        return image.convert("RGB")


def frames_of(video: VideoContent, photos: list[Image.Image]) -> Iterator[Frame]:
    """The frames of ``video``, rendered from its photos at its own rate."""
    count = round(video.seconds * video.fps)
    rng = np.random.default_rng(video.number)
    render = {"pan": _pan, "zoom": _zoom, "cuts": _cuts, "fade": _fade, "slideshow": _slideshow}[video.kind]
    for index, rgb in enumerate(render(video, photos, count, rng)):
        yield rgb, index / video.fps


def _window(photo: Image.Image, size: tuple[int, int], share: float) -> tuple[float, float]:
    """Width and height of a window of ``share`` of the photo with the frame's aspect ratio."""
    aspect = size[0] / size[1]
    width, height = photo.size
    if width / height > aspect:
        return height * share * aspect, height * share
    return width * share, width * share / aspect


def _at(photo: Image.Image, size: tuple[int, int], box: Box) -> np.ndarray:
    return np.asarray(photo.resize(size, Image.BILINEAR, box=box))


def _moving(photo: Image.Image, size: tuple[int, int], count: int, rng: np.random.Generator,
            share: tuple[float, float]) -> Iterator[np.ndarray]:
    """A window whose size goes from ``share[0]`` to ``share[1]`` of the photo while its centre
    drifts between two random points: a pan when the shares are equal, a zoom otherwise."""
    start, end = rng.uniform(0.0, 1.0, 2), rng.uniform(0.0, 1.0, 2)
    for k in range(count):
        t = k / max(1, count - 1)
        w, h = _window(photo, size, share[0] + (share[1] - share[0]) * t)
        cx, cy = start + (end - start) * t
        x, y = cx * (photo.size[0] - w), cy * (photo.size[1] - h)
        yield _at(photo, size, (x, y, x + w, y + h))


def _pan(video: VideoContent, photos: list[Image.Image], count: int,
         rng: np.random.Generator) -> Iterator[np.ndarray]:
    share = rng.uniform(0.6, 0.75)
    yield from _moving(photos[0], video.size, count, rng, (share, share))


def _zoom(video: VideoContent, photos: list[Image.Image], count: int,
          rng: np.random.Generator) -> Iterator[np.ndarray]:
    shares = (1.0, rng.uniform(0.45, 0.6))
    yield from _moving(photos[0], video.size, count, rng, shares if video.number % 2 else shares[::-1])


def _cuts(video: VideoContent, photos: list[Image.Image], count: int,
          rng: np.random.Generator) -> Iterator[np.ndarray]:
    bounds = np.linspace(0, count, len(photos) + 1).round().astype(int)
    for photo, (a, b) in zip(photos, itertools.pairwise(bounds), strict=True):
        share = rng.uniform(0.6, 0.85)
        yield from _moving(photo, video.size, int(b - a), rng, (share, share))


def _fade(video: VideoContent, photos: list[Image.Image], count: int,
          rng: np.random.Generator) -> Iterator[np.ndarray]:
    first = list(_moving(photos[0], video.size, count, rng, (1.0, 0.8)))
    second = list(_moving(photos[1], video.size, count, rng, (0.9, 0.7)))
    fade_in, middle, across = video.fps // 2, count // 2, video.fps
    for k in range(count):
        mix = np.clip((k - (middle - across / 2)) / across, 0.0, 1.0)
        rgb = first[k] * (1 - mix) + second[k] * mix
        yield (rgb * min(1.0, k / fade_in)).astype(np.uint8)


def _slideshow(video: VideoContent, photos: list[Image.Image], count: int,
               rng: np.random.Generator) -> Iterator[np.ndarray]:
    per = count / len(photos)
    stills = [next(_moving(p, video.size, 1, rng, (0.9, 0.9))) for p in photos]
    dip = max(2, video.fps // 5)
    for k in range(count):
        slot, within = int(k // per), k % per
        light = min(1.0, within / dip, (per - within) / dip)
        yield (stills[slot].astype(np.float32) * light).astype(np.uint8)


def main() -> None:
    for video in build():
        print(f"{video.name:22} {video.size[0]}x{video.size[1]} {video.fps:2d} fps {video.seconds:.1f} s "
              f"{video.path.stat().st_size // 1024:4d} KiB  {', '.join(video.photos)}")


if __name__ == "__main__":
    main()
