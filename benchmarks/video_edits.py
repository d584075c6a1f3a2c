"""Edits of Meta's sample videos that the video matcher must see through, made with PyAV.

Each edit is a pipeline of frame steps (trim, speed, scale, pad, crop, mirror, logo, ...) applied to
one sample video, then encoded again with libx264, so every query has really been through a lossy
re-encode as an upload would. The outputs are deterministic (fixed seeds, fixed encoder settings) and
cached under benchmarks/.cache/video-edits/, keyed by a digest of the edit's definition: change an
edit and it is made again.

``EDITS`` are the 28 edits of Meta's samples; ``corpus_edits`` gives one edit of each of
``FAMILIES`` (trims, cuts, logos, watermarks, captions, re-encodes, speed, crop, mirror, borders,
picture-in-picture, concatenation) for a video of benchmarks/video_corpus.py.

Used by benchmarks/video_matching.py; run this file alone to (re)build the cache and list the edits:

    python benchmarks/video_edits.py
"""

from __future__ import annotations

import hashlib
import os
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

Frame = tuple[np.ndarray, float]
"""One decoded frame: an RGB uint8 array (height, width, 3) and its time in seconds."""

CACHE = Path(__file__).resolve().parent / ".cache" / "video-edits"
ENCODE_FPS = 30


@dataclass(frozen=True)
class Trim:
    """Keep the frames from ``start`` to ``end`` seconds (to the end when ``end`` is None)."""

    start: float
    end: float | None = None

    def __call__(self, frames: Iterable[Frame]) -> Iterator[Frame]:
        for rgb, ts in frames:
            if ts >= self.start and (self.end is None or ts < self.end):
                yield rgb, ts - self.start


@dataclass(frozen=True)
class Speed:
    """Play ``factor`` times as fast (1.5 = shorter), resampled to a constant 30 frames a second."""

    factor: float

    def __call__(self, frames: Iterable[Frame]) -> Iterator[Frame]:
        out_index = 0
        previous: np.ndarray | None = None
        for rgb, ts in frames:
            # Emit every output frame whose source time falls before this frame: it shows the previous one.
            while previous is not None and out_index / ENCODE_FPS * self.factor < ts:
                yield previous, out_index / ENCODE_FPS
                out_index += 1
            previous = rgb
        if previous is not None:
            yield previous, out_index / ENCODE_FPS


@dataclass(frozen=True)
class Scale:
    """Resize to ``height`` pixels high, keeping the aspect ratio (a low-resolution re-upload)."""

    height: int

    def __call__(self, frames: Iterable[Frame]) -> Iterator[Frame]:
        for rgb, ts in frames:
            h, w = rgb.shape[:2]
            width = max(2, round(w * self.height / h))
            yield np.asarray(Image.fromarray(rgb).resize((width, self.height), Image.BILINEAR)), ts


@dataclass(frozen=True)
class Pad:
    """Add bars of ``colour``: ``vertical`` of the height above and below, ``horizontal`` of the width
    left and right (letterbox, pillarbox)."""

    vertical: float = 0.0
    horizontal: float = 0.0
    colour: tuple[int, int, int] = (0, 0, 0)

    def __call__(self, frames: Iterable[Frame]) -> Iterator[Frame]:
        for rgb, ts in frames:
            h, w = rgb.shape[:2]
            dy, dx = round(h * self.vertical), round(w * self.horizontal)
            out = np.empty((h + 2 * dy, w + 2 * dx, 3), np.uint8)
            out[:] = self.colour
            out[dy : dy + h, dx : dx + w] = rgb
            yield out, ts


@dataclass(frozen=True)
class Crop:
    """Cut away the given share of the width or height on each side."""

    left: float = 0.0
    top: float = 0.0
    right: float = 0.0
    bottom: float = 0.0

    def __call__(self, frames: Iterable[Frame]) -> Iterator[Frame]:
        for rgb, ts in frames:
            h, w = rgb.shape[:2]
            y0, y1 = round(h * self.top), h - round(h * self.bottom)
            x0, x1 = round(w * self.left), w - round(w * self.right)
            yield rgb[y0:y1, x0:x1], ts


@dataclass(frozen=True)
class Mirror:
    """Flip left to right, the commonest evasion of frame hashing."""

    def __call__(self, frames: Iterable[Frame]) -> Iterator[Frame]:
        for rgb, ts in frames:
            yield rgb[:, ::-1], ts


@dataclass(frozen=True)
class Grey:
    """Convert to greyscale (kept as RGB)."""

    def __call__(self, frames: Iterable[Frame]) -> Iterator[Frame]:
        for rgb, ts in frames:
            grey = np.asarray(Image.fromarray(rgb).convert("L"))
            yield np.repeat(grey[:, :, None], 3, axis=2), ts


@dataclass(frozen=True)
class Logo:
    """Stamp an opaque watermark box with text, ``size`` of the width wide, in one corner."""

    size: float = 0.25
    corner: str = "bottom-right"
    text: str = "@reupload"

    def __call__(self, frames: Iterable[Frame]) -> Iterator[Frame]:
        for rgb, ts in frames:
            image = Image.fromarray(rgb)
            w, h = image.size
            box_w, box_h = round(w * self.size), round(w * self.size * 0.4)
            x = w - box_w - w // 40 if "right" in self.corner else w // 40
            y = h - box_h - h // 40 if "bottom" in self.corner else h // 40
            draw = ImageDraw.Draw(image)
            draw.rectangle((x, y, x + box_w, y + box_h), fill=(230, 40, 90), outline=(255, 255, 255), width=3)
            draw.text((x + box_w // 10, y + box_h // 3), self.text, fill=(255, 255, 255))
            yield np.asarray(image), ts


@dataclass(frozen=True)
class Caption:
    """Burn a wide translucent caption band across the lower part of the picture."""

    def __call__(self, frames: Iterable[Frame]) -> Iterator[Frame]:
        for rgb, ts in frames:
            out = rgb.astype(np.float32)
            h = out.shape[0]
            band = slice(round(h * 0.78), round(h * 0.90))
            out[band] = out[band] * 0.35 + 255 * 0.65
            yield out.astype(np.uint8), ts


@dataclass(frozen=True)
class Tone:
    """Change brightness and contrast: ``gain`` * pixel + ``offset``, clipped."""

    gain: float = 1.0
    offset: float = 0.0

    def __call__(self, frames: Iterable[Frame]) -> Iterator[Frame]:
        for rgb, ts in frames:
            yield np.clip(rgb.astype(np.float32) * self.gain + self.offset, 0, 255).astype(np.uint8), ts


@dataclass(frozen=True)
class Blur:
    """Gaussian blur of ``radius`` pixels."""

    radius: float

    def __call__(self, frames: Iterable[Frame]) -> Iterator[Frame]:
        for rgb, ts in frames:
            yield np.asarray(Image.fromarray(rgb).filter(ImageFilter.GaussianBlur(self.radius))), ts


@dataclass(frozen=True)
class Noise:
    """Add Gaussian noise of standard deviation ``sigma`` grey levels (fixed seed)."""

    sigma: float
    seed: int = 7

    def __call__(self, frames: Iterable[Frame]) -> Iterator[Frame]:
        rng = np.random.default_rng(self.seed)
        for rgb, ts in frames:
            noisy = rgb.astype(np.float32) + rng.normal(0, self.sigma, rgb.shape)
            yield np.clip(noisy, 0, 255).astype(np.uint8), ts


@dataclass(frozen=True)
class Inset:
    """Shrink the picture to ``scale`` and place it on a plain canvas of the original size, off-centre."""

    scale: float = 0.7
    colour: tuple[int, int, int] = (20, 20, 60)

    def __call__(self, frames: Iterable[Frame]) -> Iterator[Frame]:
        for rgb, ts in frames:
            h, w = rgb.shape[:2]
            small = np.asarray(Image.fromarray(rgb).resize((round(w * self.scale), round(h * self.scale))))
            out = np.empty_like(rgb)
            out[:] = self.colour
            y, x = round(h * 0.05), round(w * 0.2)
            sh, sw = small.shape[:2]
            out[y : y + sh, x : x + sw] = small[: h - y, : w - x]
            yield out, ts


@dataclass(frozen=True)
class Intro:
    """Put ``seconds`` of generated, unrelated footage (drifting coloured noise) before the video."""

    seconds: float
    seed: int = 3

    def __call__(self, frames: Iterable[Frame]) -> Iterator[Frame]:
        iterator = iter(frames)
        first = next(iterator, None)
        if first is None:
            return
        h, w = first[0].shape[:2]
        rng = np.random.default_rng(self.seed)
        blocks = rng.integers(0, 256, (h // 40 + 2, w // 40 + 2, 3), dtype=np.uint8)
        count = round(self.seconds * ENCODE_FPS)
        for k in range(count):
            shifted = np.roll(blocks, k // 6, axis=1)
            big = np.asarray(Image.fromarray(shifted).resize((w, h), Image.BICUBIC))
            yield big, k / ENCODE_FPS
        yield first[0], first[1] + self.seconds
        for rgb, ts in iterator:
            yield rgb, ts + self.seconds


@dataclass(frozen=True)
class Cut:
    """Cut ``start`` to ``end`` seconds out of the middle; what follows moves back to close the gap."""

    start: float
    end: float

    def __call__(self, frames: Iterable[Frame]) -> Iterator[Frame]:
        for rgb, ts in frames:
            if ts < self.start:
                yield rgb, ts
            elif ts >= self.end:
                yield rgb, ts - (self.end - self.start)


@dataclass(frozen=True)
class Watermark:
    """Large semi-transparent text across the centre (``opacity`` 0-1), as stock and re-upload sites
    stamp it."""

    text: str = "reupload.example"
    opacity: float = 0.4

    def __call__(self, frames: Iterable[Frame]) -> Iterator[Frame]:
        layer: Image.Image | None = None
        for rgb, ts in frames:
            image = Image.fromarray(rgb).convert("RGBA")
            if layer is None:
                layer = _text_layer(image.size, self.text, round(255 * self.opacity))
            yield np.asarray(Image.alpha_composite(image, layer).convert("RGB")), ts


def _text_layer(size: tuple[int, int], text: str, alpha: int) -> Image.Image:
    """A transparent layer with ``text`` in white, about 70 % of the width wide, centred."""
    layer = Image.new("RGBA", size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    font = ImageFont.load_default(size=max(8, round(size[0] * 1.2 / max(1, len(text)))))
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    x, y = (size[0] - (right - left)) // 2 - left, (size[1] - (bottom - top)) // 2 - top
    draw.text((x, y), text, font=font, fill=(255, 255, 255, alpha), stroke_width=1,
              stroke_fill=(0, 0, 0, alpha))
    return layer


@dataclass(frozen=True)
class CaptionBar:
    """An opaque dark bar of ``share`` of the height over the top or bottom, with a line of text."""

    share: float = 0.15
    top: bool = False
    text: str = "when you see it"

    def __call__(self, frames: Iterable[Frame]) -> Iterator[Frame]:
        for rgb, ts in frames:
            image = Image.fromarray(rgb)
            w, h = image.size
            bar = round(h * self.share)
            y = 0 if self.top else h - bar
            draw = ImageDraw.Draw(image)
            draw.rectangle((0, y, w, y + bar), fill=(15, 15, 15))
            font = ImageFont.load_default(size=max(8, round(bar * 0.6)))
            draw.text((w // 20, y + bar // 5), self.text, font=font, fill=(255, 255, 255))
            yield np.asarray(image), ts


def _footage(path: Path, size: tuple[int, int]) -> list[np.ndarray]:
    """Every frame of another video, resized to ``size`` (width, height)."""
    return [np.asarray(Image.fromarray(rgb).resize(size, Image.BILINEAR)) for rgb, _ in decode(path)]


@dataclass(frozen=True)
class Overlay:
    """Picture-in-picture: another video, ``scale`` of the width wide, looped in a corner over this one
    (a reaction or face-cam window)."""

    other: Path
    scale: float = 0.3
    corner: str = "bottom-right"

    def __call__(self, frames: Iterable[Frame]) -> Iterator[Frame]:
        small: list[np.ndarray] | None = None
        for index, (rgb, ts) in enumerate(frames):
            h, w = rgb.shape[:2]
            if small is None:
                small = _footage(self.other, (round(w * self.scale), round(h * self.scale)))
            window = small[index % len(small)]
            sh, sw = window.shape[:2]
            y = h - sh - h // 30 if "bottom" in self.corner else h // 30
            x = w - sw - w // 30 if "right" in self.corner else w // 30
            out = rgb.copy()
            out[y : y + sh, x : x + sw] = window
            yield out, ts


@dataclass(frozen=True)
class Window:
    """Picture-in-picture the other way round: this video shrunk to ``scale`` in a window over another
    video, which plays (looped) around it."""

    other: Path
    scale: float = 0.7

    def __call__(self, frames: Iterable[Frame]) -> Iterator[Frame]:
        background: list[np.ndarray] | None = None
        for index, (rgb, ts) in enumerate(frames):
            h, w = rgb.shape[:2]
            if background is None:
                background = _footage(self.other, (w, h))
            out = background[index % len(background)].copy()
            small = np.asarray(Image.fromarray(rgb).resize((round(w * self.scale), round(h * self.scale))))
            sh, sw = small.shape[:2]
            y, x = (h - sh) // 3, (w - sw) // 2
            out[y : y + sh, x : x + sw] = small
            yield out, ts


@dataclass(frozen=True)
class Concat:
    """Other videos before and after this one (resized to its frame size): a compilation."""

    before: Path
    after: Path

    def __call__(self, frames: Iterable[Frame]) -> Iterator[Frame]:
        iterator = iter(frames)
        first = next(iterator, None)
        if first is None:
            return
        size = (first[0].shape[1], first[0].shape[0])
        offset = 0.0
        for rgb, ts in _resized(self.before, size):
            offset = ts
            yield rgb, ts
        offset += 1 / ENCODE_FPS
        yield first[0], first[1] + offset
        last = first[1]
        for rgb, ts in iterator:
            last = ts
            yield rgb, ts + offset
        offset += last + 1 / ENCODE_FPS
        for rgb, ts in _resized(self.after, size):
            yield rgb, ts + offset


def _resized(path: Path, size: tuple[int, int]) -> Iterator[Frame]:
    for rgb, ts in decode(path):
        yield np.asarray(Image.fromarray(rgb).resize(size, Image.BILINEAR)), ts


Step = (
    Trim | Speed | Scale | Pad | Crop | Mirror | Grey | Logo | Caption | Tone | Blur | Noise | Inset | Intro
    | Cut | Watermark | CaptionBar | Overlay | Window | Concat
)


@dataclass(frozen=True)
class Edit:
    """One edited copy of a sample video: the steps in order, then an encode at ``bitrate`` (bits/s,
    None for x264's default quality) and ``fps`` frames a second."""

    name: str
    source: str
    steps: tuple[Step, ...]
    bitrate: int | None = None
    fps: int = ENCODE_FPS

    @property
    def key(self) -> str:
        """A digest of the definition, so a changed edit is never served from a stale cache."""
        return hashlib.sha256(repr(self).encode()).hexdigest()[:12]


EDITS: tuple[Edit, ...] = (
    Edit("trim-start-1.3s", "chair-19-sd-bar", (Trim(1.3),)),
    Edit("trim-end-keep-60%", "pattern-hd-no-bar", (Trim(0.0, 4.1),)),
    Edit("clip-5s-from-middle", "chair-orig-22-sd-bar", (Trim(8.0, 13.0),)),
    Edit("clip-3s", "pattern-longer-no-bar", (Trim(2.2, 5.2),)),
    Edit("reencode-150kbps", "pattern-sd-with-small-logo-bar", (), bitrate=150_000),
    Edit("reencode-60kbps", "chair-20-sd-bar", (), bitrate=60_000),
    Edit("downscale-240p", "chair-22-sd-sepia-bar", (Scale(240),)),
    Edit("downscale-144p-100kbps", "doorknob-hd-no-bar", (Scale(144),), bitrate=100_000),
    Edit("fps-12", "chair-22-with-small-logo-bar", (), fps=12),
    Edit("letterbox-15%", "pattern-longer-no-bar", (Pad(vertical=0.15),)),
    Edit("pillarbox-20%", "doorknob-hd-no-bar", (Pad(horizontal=0.20),)),
    Edit("crop-10%", "chair-19-sd-bar", (Crop(0.05, 0.05, 0.05, 0.05),)),
    Edit("crop-10%-one-corner", "pattern-hd-no-bar", (Crop(left=0.10, top=0.10),)),
    Edit("mirror", "chair-22-with-large-logo-bar", (Mirror(),)),
    Edit("mirror-pattern", "pattern-sd-grey-bar", (Mirror(),)),
    Edit("logo-25%", "doorknob-hd-no-bar", (Logo(0.25),)),
    Edit("logo-and-caption", "chair-orig-22-sd-bar", (Logo(0.3, "top-left"), Caption())),
    Edit("speed-0.75x", "pattern-hd-no-bar", (Speed(0.75),)),
    Edit("speed-1.5x", "chair-20-sd-bar", (Speed(1.5),)),
    Edit("speed-2x", "chair-22-sd-grey-bar", (Speed(2.0),)),
    Edit("grey", "pattern-sd-with-large-logo-bar", (Grey(),)),
    Edit("brighter-contrast", "chair-19-sd-bar", (Tone(1.3, 25),)),
    Edit(
        "blur-and-noise",
        "pattern-longer-no-bar",
        (Blur(2.0), Noise(12)),
    ),
    Edit("inset-70%", "chair-22-sd-sepia-bar", (Inset(0.7),)),
    Edit("intro-8s-then-clip", "chair-orig-22-sd-bar", (Trim(3.0, 12.0), Intro(8.0))),
    Edit(
        "combo-trim-crop-mirror-240p",
        "chair-orig-22-sd-bar",
        (Trim(2.5, 14.0), Crop(0.04, 0.04, 0.04, 0.04), Mirror(), Scale(240)),
        bitrate=200_000,
    ),
    Edit(
        "combo-speed-logo-letterbox",
        "pattern-hd-no-bar",
        (Speed(1.25), Logo(0.2, "top-right"), Pad(vertical=0.1), Scale(360)),
        bitrate=300_000,
    ),
    Edit("combo-grey-mirror-speed", "doorknob-hd-no-bar", (Grey(), Mirror(), Speed(0.8), Scale(360))),
)


FAMILIES = (
    "trim-start", "trim-end", "middle-cut", "clip", "logo", "watermark", "caption", "low-bitrate",
    "low-resolution", "frame-rate", "speed+10%", "speed-10%", "crop", "mirror", "letterbox",
    "pip-overlay", "pip-window", "concat",
)
"""The edit families applied to every corpus video, in this order (``corpus_edits``)."""
CORNERS = ("bottom-right", "top-left", "top-right", "bottom-left")


def corpus_edits(source: str, number: int, seconds: float, other: Path, another: Path) -> list[Edit]:
    """One edit of each family of ``FAMILIES`` for the corpus video ``source`` (number ``number``,
    ``seconds`` long). Where a family has a parameter (where a trim falls, the corner of a logo, the
    bit rate...), it is drawn from a generator seeded by ``number``, so trims fall at any point across
    the corpus. ``other`` and ``another`` are other videos, for picture-in-picture and concatenation.
    """
    rng = random.Random(number)
    corner = CORNERS[number % len(CORNERS)]
    cut = round(rng.uniform(0.25, 0.45) * seconds, 2)
    clip = round(rng.uniform(0.3, max(0.4, seconds - 3.0)), 2)
    crops = (Crop(0.05, 0.05, 0.05, 0.05), Crop(left=0.10, top=0.10), Crop(right=0.15))
    boxes = (Pad(vertical=0.12), Pad(horizontal=0.15), Pad(0.08, 0.08, (255, 255, 255)))
    steps: dict[str, tuple[tuple[Step, ...], int | None, int]] = {
        "trim-start": ((Trim(round(rng.uniform(0.8, 0.45 * seconds), 2)),), None, ENCODE_FPS),
        "trim-end": ((Trim(0.0, round(rng.uniform(0.45, 0.7) * seconds, 2)),), None, ENCODE_FPS),
        "middle-cut": ((Cut(cut, cut + round(rng.uniform(1.0, 1.8), 2)),), None, ENCODE_FPS),
        "clip": ((Trim(clip, clip + 2.5),), None, ENCODE_FPS),
        "logo": ((Logo(round(rng.uniform(0.2, 0.3), 2), corner),), None, ENCODE_FPS),
        "watermark": ((Watermark(opacity=round(rng.uniform(0.3, 0.5), 2)),), None, ENCODE_FPS),
        "caption": ((CaptionBar(round(rng.uniform(0.1, 0.2), 2), top=number % 2 == 0),), None, ENCODE_FPS),
        "low-bitrate": ((), rng.choice((40_000, 60_000)), ENCODE_FPS),
        "low-resolution": ((Scale(rng.choice((96, 120))),), None, ENCODE_FPS),
        "frame-rate": ((), None, rng.choice((10, 12, 50))),
        "speed+10%": ((Speed(1.1),), None, ENCODE_FPS),
        "speed-10%": ((Speed(0.9),), None, ENCODE_FPS),
        "crop": ((crops[number % len(crops)],), None, ENCODE_FPS),
        "mirror": ((Mirror(),), None, ENCODE_FPS),
        "letterbox": ((boxes[number % len(boxes)],), None, ENCODE_FPS),
        "pip-overlay": ((Overlay(other, 0.3, corner),), None, ENCODE_FPS),
        "pip-window": ((Window(other, 0.7),), None, ENCODE_FPS),
        "concat": ((Concat(other, another),), None, ENCODE_FPS),
    }
    return [Edit(family, source, *steps[family]) for family in FAMILIES]


def decode(path: Path) -> Iterator[Frame]:
    """Every frame of a video as RGB with its time in seconds."""
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            yield frame.to_ndarray(format="rgb24"), float(frame.time or 0.0)


def encode(frames: Iterable[Frame], path: Path, fps: int, bitrate: int | None) -> None:
    """Encode frames with libx264 (yuv420p, fixed settings, one thread so the output is reproducible)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial.mp4")
    with av.open(str(partial), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.pix_fmt = "yuv420p"
        stream.codec_context.thread_count = 1
        stream.options = {"preset": "veryfast"} | ({} if bitrate else {"crf": "23"})
        if bitrate:
            stream.bit_rate = bitrate
        started = False
        for index, (rgb, _ts) in enumerate(_at_rate(frames, fps)):
            even = rgb[: rgb.shape[0] // 2 * 2, : rgb.shape[1] // 2 * 2]
            if not started:
                stream.height, stream.width = even.shape[:2]
                started = True
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(even), format="rgb24")
            frame.pts = index
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    partial.replace(path)


def _at_rate(frames: Iterable[Frame], fps: int) -> Iterator[Frame]:
    """Resample to a constant ``fps``: each output tick shows the latest frame at or before it."""
    tick = 0
    previous: Frame | None = None
    for frame in frames:
        while previous is not None and tick / fps < frame[1] - 1e-6:
            yield previous[0], tick / fps
            tick += 1
        previous = frame
    if previous is not None:
        yield previous[0], tick / fps


def make(edit: Edit, source: Path) -> Path:
    """The edited video's path, made (once) from the video file ``source``."""
    path = CACHE / f"{edit.source}-{edit.name}-{edit.key}.mp4"
    if not path.exists():
        frames: Iterable[Frame] = decode(source)
        for step in edit.steps:
            frames = step(frames)
        encode(frames, path, edit.fps, edit.bitrate)
    return path


def samples_dir() -> Path:
    """Meta's sample videos: under ``STANCH_CONFORMANCE_DIR`` or ../shared/conformance beside the repo."""
    default = Path(__file__).resolve().parents[2] / "shared" / "conformance"
    return Path(os.environ.get("STANCH_CONFORMANCE_DIR", default)) / "vpdq" / "sample-videos"


def main() -> None:
    samples = samples_dir()
    for edit in EDITS:
        path = make(edit, samples / f"{edit.source}.mp4")
        print(f"{edit.name:32} {edit.source:32} {path.stat().st_size // 1024:6d} KiB")


if __name__ == "__main__":
    main()
