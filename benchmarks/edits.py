"""The edit suite: what re-uploads of a picture look like, generated deterministically.

Each edit takes a picture and a seeded random generator and returns the edited picture; the upload is
that picture saved as a JPEG of quality 90, the way platforms re-encode uploads (25 for ``jpeg 25``). Random
choices (which side a crop takes, bar sizes, colours, where a watermark goes) come from the generator,
so ``edited(picture, edit, seed)`` always gives the same pixels. Used by benchmarks/robustness.py and by
tests/signals/test_robust*.py.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Callable

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

Edit = Callable[[Image.Image, np.random.Generator], Image.Image]

_CAPTION = "when you finally see it this is why we cannot have nice things look at this lol wait for it"
_WORDS = _CAPTION.split()


def crop(share: float) -> Edit:
    """Remove ``share`` of the width and of the height, split at random between the two sides."""

    def edit(image: Image.Image, rng: np.random.Generator) -> Image.Image:
        width, height = image.size
        cut_w, cut_h = round(width * share), round(height * share)
        left, top = round(cut_w * rng.uniform()), round(cut_h * rng.uniform())
        return image.crop((left, top, left + width - cut_w, top + height - cut_h))

    return edit


def letterbox(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Bars above and below (10-25 % of the height each), black or near-black."""
    width, height = image.size
    bar = round(height * rng.uniform(0.10, 0.25))
    return _paste(image, (width, height + 2 * bar), (0, bar), _dark(rng))


def pillarbox(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Bars left and right (10-25 % of the width each), black or white."""
    width, height = image.size
    bar = round(width * rng.uniform(0.10, 0.25))
    colour = (255, 255, 255) if rng.uniform() < 0.5 else _dark(rng)
    return _paste(image, (width + 2 * bar, height), (bar, 0), colour)


def caption_bar(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """A meme-style caption: a white or black band of 12-22 % of the height, above or below, with text."""
    width, height = image.size
    band = round(height * rng.uniform(0.12, 0.22))
    light = rng.uniform() < 0.5
    background, ink = ((255, 255, 255), (0, 0, 0)) if light else ((0, 0, 0), (255, 255, 255))
    above = rng.uniform() < 0.5
    canvas = _paste(image, (width, height + band), (0, band if above else 0), background)
    draw = ImageDraw.Draw(canvas)
    font = ImageFont.load_default(size=max(8, min(band // 3, width // 16)))
    text = " ".join(rng.choice(_WORDS, size=5))
    top = (0 if above else height) + band // 3
    draw.text((width // 20, top), text, fill=ink, font=font)
    return canvas


def watermark(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Semi-transparent handle text and a logo box in a random corner, about a third of the width."""
    width, height = image.size
    overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    size = max(8, width // 18)
    font = ImageFont.load_default(size=size)
    text = f"@{rng.choice(_WORDS)}{rng.integers(100, 9999)}"
    x = width // 30 if rng.uniform() < 0.5 else width - width // 30 - size * len(text) // 2 - size
    y = height // 30 if rng.uniform() < 0.5 else height - height // 30 - size
    draw.rectangle((x, y, x + size, y + size), fill=(255, 255, 255, 140))
    draw.text((x + size * 1.3, y), text, fill=(255, 255, 255, 160), font=font)
    return Image.alpha_composite(image.convert("RGBA"), overlay).convert("RGB")


def mirror(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    return image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)


def rotate(degrees: int) -> Edit:
    """Rotate counter-clockwise by a multiple of 90 degrees (what a phone's rotate button does)."""
    turn = {90: Image.Transpose.ROTATE_90, 180: Image.Transpose.ROTATE_180, 270: Image.Transpose.ROTATE_270}

    def edit(image: Image.Image, rng: np.random.Generator) -> Image.Image:
        return image.transpose(turn[degrees])

    return edit


def jpeg_25(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Unchanged pixels: ``edited_bytes`` saves this edit at JPEG quality 25 instead of 90."""
    return image


def quarter(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Resized to a quarter of the width and height."""
    width, height = image.size
    return image.resize((max(1, width // 4), max(1, height // 4)), Image.Resampling.BILINEAR)


def screenshot(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """The picture inside a phone screenshot: status bar, app bar, the post, action icons, comments."""
    width, height = image.size
    fill = rng.uniform(0.7, 1.0)
    screen_w = round(width / fill)
    unit = max(4, screen_w // 24)
    top = 5 * unit
    screen_h = max(round(screen_w * 16 / 9), top + height + 9 * unit)
    dark = rng.uniform() < 0.5
    background, ink, muted = ((18, 18, 18), (235, 235, 235), (120, 120, 120)) if dark else _light_theme()
    accent = tuple(int(c) for c in rng.integers(40, 220, size=3))
    canvas = _paste(image, (screen_w, screen_h), ((screen_w - width) // 2, top), background)
    draw = ImageDraw.Draw(canvas)
    font = ImageFont.load_default(size=unit)
    draw.text((unit, unit // 4), f"{rng.integers(0, 24):02d}:{rng.integers(0, 60):02d}", fill=ink, font=font)
    draw.rectangle((screen_w - 4 * unit, unit // 3, screen_w - unit, unit), fill=ink)
    draw.rectangle((0, int(1.5 * unit), screen_w, 4 * unit), fill=accent)
    draw.text((2 * unit, 2 * unit), " ".join(rng.choice(_WORDS, size=2)), fill=(255, 255, 255), font=font)
    y = top + height + unit
    for i in range(4):
        draw.ellipse((unit + 2 * i * unit, y, 2 * unit + 2 * i * unit, y + unit), outline=ink, width=2)
    for line in range(3):
        text = " ".join(rng.choice(_WORDS, size=6))
        draw.text((unit, y + (2 + 1.5 * line) * unit), text, fill=ink if line == 0 else muted, font=font)
    draw.rectangle((0, screen_h - 2 * unit, screen_w, screen_h), fill=background, outline=muted)
    return canvas


def grey(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    return image.convert("L").convert("RGB")


def blur(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Gaussian blur of radius 0.6 % of the longer side (3 pixels on a 500-pixel picture)."""
    return image.filter(ImageFilter.GaussianBlur(max(1.0, 0.006 * max(image.size))))


def noise(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Gaussian noise of standard deviation 12 grey levels on every channel."""
    pixels = np.asarray(image, dtype=np.float32) + rng.normal(0, 12, size=(image.height, image.width, 3))
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


EDITS: dict[str, Edit] = {
    "crop 5%": crop(0.05),
    "crop 10%": crop(0.10),
    "crop 15%": crop(0.15),
    "letterbox": letterbox,
    "pillarbox": pillarbox,
    "caption bar": caption_bar,
    "watermark": watermark,
    "mirror": mirror,
    "rotate 90": rotate(90),
    "rotate 180": rotate(180),
    "rotate 270": rotate(270),
    "jpeg 25": jpeg_25,
    "resize 1/4": quarter,
    "screenshot": screenshot,
    "grey": grey,
    "blur": blur,
    "noise": noise,
}
"""Every edit by name, in the order reports list them."""


def edited_bytes(image: Image.Image, edit: str, seed: str) -> bytes:
    """The JPEG file an upload of ``image`` with the named edit would be; one seed, one result."""
    rng = np.random.default_rng(zlib.crc32(f"{seed}/{edit}".encode()))
    result = EDITS[edit](image.convert("RGB"), rng)
    buffer = io.BytesIO()
    result.convert("RGB").save(buffer, format="JPEG", quality=25 if edit == "jpeg 25" else 90)
    return buffer.getvalue()


def edited(image: Image.Image, edit: str, seed: str) -> Image.Image:
    """``image`` with the named edit, decoded from the upload's JPEG file."""
    return Image.open(io.BytesIO(edited_bytes(image, edit, seed))).convert("RGB")


def _paste(
    image: Image.Image, size: tuple[int, int], at: tuple[int, int], colour: tuple[int, ...]
) -> Image.Image:
    canvas = Image.new("RGB", size, colour)
    canvas.paste(image, at)
    return canvas


def _dark(rng: np.random.Generator) -> tuple[int, int, int]:
    level = int(rng.integers(0, 24))
    return (level, level, level)


def _light_theme() -> tuple[tuple[int, int, int], tuple[int, int, int], tuple[int, int, int]]:
    return (255, 255, 255), (20, 20, 20), (130, 130, 130)
