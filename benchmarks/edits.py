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
from typing import NamedTuple

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont

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


# --- The wide suite (issue 10): every family re-uploaders use, each edit named by its family. ---


def rotate_small(degrees: float, corners: bool) -> Edit:
    """Rotate by about ``degrees`` (a random angle within half a degree of it; counter-clockwise when
    positive): either the whole turned picture on a canvas with black corners (``corners``), or the
    largest upright rectangle of the original's aspect inside it (the implied crop, what a phone's
    straighten tool does). The angle is drawn at random so that no view can be tuned to the exact
    angles of the suite."""

    def edit(image: Image.Image, rng: np.random.Generator) -> Image.Image:
        angle = degrees + rng.uniform(-0.5, 0.5)
        turned = image.rotate(angle, Image.Resampling.BICUBIC, expand=True, fillcolor=(0, 0, 0))
        if corners:
            return turned
        width, height = image.size
        angle = np.radians(abs(angle))
        scale = 1 / (np.cos(angle) + np.sin(angle) * max(width / height, height / width))
        keep_w, keep_h = width * scale, height * scale
        cx, cy = turned.size[0] / 2, turned.size[1] / 2
        return turned.crop(
            (round(cx - keep_w / 2), round(cy - keep_h / 2), round(cx + keep_w / 2), round(cy + keep_h / 2))
        )

    return edit


def crop_sides(base: float, sides: int) -> Edit:
    """Remove about ``share`` (within 2.5 % of it, at random) of the picture from one side, two sides
    (adjacent or opposite, chosen at random, that share each) or all four sides (that share of each
    dimension, split between its ends)."""

    def edit(image: Image.Image, rng: np.random.Generator) -> Image.Image:
        width, height = image.size
        share = base + rng.uniform(-0.025, 0.025)
        cut = [0.0, 0.0, 0.0, 0.0]  # left, top, right, bottom as shares
        if sides == 4:
            across, down = rng.uniform(0.3, 0.7, size=2)
            cut = [share * across, share * down, share * (1 - across), share * (1 - down)]
        else:
            for side in rng.choice(4, size=sides, replace=False):
                cut[int(side)] = share
        left, top = round(width * cut[0]), round(height * cut[1])
        return image.crop((left, top, width - round(width * cut[2]), height - round(height * cut[3])))

    return edit


def caption(share: float, above: bool) -> Edit:
    """A caption band of ``share`` of the height added above or below, white with black text or black
    with white text, two lines when it is tall enough."""

    def edit(image: Image.Image, rng: np.random.Generator) -> Image.Image:
        width, height = image.size
        band = round(height * share)
        light = rng.uniform() < 0.5
        background, ink = ((255, 255, 255), (0, 0, 0)) if light else ((0, 0, 0), (255, 255, 255))
        canvas = _paste(image, (width, height + band), (0, band if above else 0), background)
        draw = ImageDraw.Draw(canvas)
        lines = 2 if share >= 0.15 else 1
        size = max(8, min(band // (2 * lines + 1), width // 18))
        font = ImageFont.load_default(size=size)
        top = 0 if above else height
        for line in range(lines):
            text = " ".join(rng.choice(_WORDS, size=6))
            draw.text((width // 20, top + size // 2 + line * round(size * 1.4)), text, fill=ink, font=font)
        return canvas

    return edit


def logo(area: float, where: str, opacity: int) -> Edit:
    """A logo (a filled rounded box with a ring and a short name) of ``area`` of the picture, in a
    random corner or the centre, at ``opacity`` (255 opaque)."""

    def edit(image: Image.Image, rng: np.random.Generator) -> Image.Image:
        width, height = image.size
        side = round(np.sqrt(area * width * height))
        box_w, box_h = min(width - 2, round(side * 1.6)), round(side / 1.6)
        margin = round(0.03 * min(width, height))
        if where == "centre":
            x, y = (width - box_w) // 2, (height - box_h) // 2
        else:
            x = margin if rng.uniform() < 0.5 else width - margin - box_w
            y = margin if rng.uniform() < 0.5 else height - margin - box_h
        colour = tuple(int(c) for c in rng.integers(0, 256, size=3))
        overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
        draw = ImageDraw.Draw(overlay)
        draw.rounded_rectangle((x, y, x + box_w, y + box_h), radius=box_h // 5, fill=(*colour, opacity))
        ring = box_h // 2
        draw.ellipse(
            (x + ring // 3, y + ring // 2, x + ring // 3 + ring, y + ring // 2 + ring),
            outline=(255, 255, 255, opacity),
            width=max(2, ring // 8),
        )
        font = ImageFont.load_default(size=max(8, box_h // 3))
        name = str(rng.choice(_WORDS)).upper()
        draw.text((x + ring * 1.6, y + box_h // 3), name, fill=(255, 255, 255, opacity), font=font)
        return Image.alpha_composite(image.convert("RGBA"), overlay).convert("RGB")

    return edit


def text_watermark(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """A semi-transparent handle written large across the centre, as stock-photo sites do."""
    width, height = image.size
    overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    text = f"@{rng.choice(_WORDS)}{rng.integers(10, 99)}"
    size = max(10, width // (len(text) // 2 + 3))
    font = ImageFont.load_default(size=size)
    draw.text((width // 10, height // 2 - size // 2), text, fill=(255, 255, 255, 110), font=font)
    return Image.alpha_composite(image.convert("RGBA"), overlay).convert("RGB")


def frame(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """A picture frame: a coloured border of 3-8 % of the shorter side all round, with a thin inner line."""
    width, height = image.size
    border = round(min(width, height) * rng.uniform(0.03, 0.08))
    colour = tuple(int(c) for c in rng.integers(0, 256, size=3))
    canvas = _paste(image, (width + 2 * border, height + 2 * border), (border, border), colour)
    line = max(1, border // 6)
    ImageDraw.Draw(canvas).rectangle(
        (border - 2 * line, border - 2 * line, border + width + 2 * line, border + height + 2 * line),
        outline=(255, 255, 255),
        width=line,
    )
    return canvas


def border(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """A white (or black) border of different thickness on each side, 2-10 % of the side."""
    width, height = image.size
    left, top, right, bottom = (round(s * rng.uniform(0.02, 0.10)) for s in (width, height, width, height))
    colour = (255, 255, 255) if rng.uniform() < 0.5 else (0, 0, 0)
    return _paste(image, (width + left + right, height + top + bottom), (left, top), colour)


def canvas(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """The picture in a desktop screenshot: a window with a title bar and a sidebar on a larger screen."""
    width, height = image.size
    unit = max(6, width // 40)
    screen = (round(width * rng.uniform(1.4, 1.9)), round(height * rng.uniform(1.3, 1.7)) + 3 * unit)
    grey_level = int(rng.integers(200, 245))
    shot = Image.new("RGB", screen, (grey_level, grey_level, grey_level))
    draw = ImageDraw.Draw(shot)
    draw.rectangle((0, 0, screen[0], 2 * unit), fill=(40, 40, 40))
    sidebar = round((screen[0] - width) * rng.uniform(0.3, 0.7))
    font = ImageFont.load_default(size=unit)
    for line in range(8):
        draw.text((unit, 3 * unit + 2 * line * unit), str(rng.choice(_WORDS)), fill=(60, 60, 60), font=font)
    x, y = sidebar, 3 * unit + round((screen[1] - 3 * unit - height) * rng.uniform(0.2, 0.8))
    shot.paste(image, (x, y))
    draw.rectangle((x - 1, y - 1, x + width, y + height), outline=(150, 150, 150))
    return shot


def resize(factor: float) -> Edit:
    """Resized by ``factor`` on each side (bicubic)."""

    def edit(image: Image.Image, rng: np.random.Generator) -> Image.Image:
        width, height = image.size
        size = (max(1, round(width * factor)), max(1, round(height * factor)))
        return image.resize(size, Image.Resampling.BICUBIC)

    return edit


def sharpen(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    return image.filter(ImageFilter.UnsharpMask(radius=2, percent=150, threshold=2))


def tone(brightness: float = 1.0, contrast: float = 1.0, gamma: float = 1.0, saturation: float = 1.0) -> Edit:
    """Brightness, contrast and saturation as Pillow's enhancers do them, and a gamma curve."""

    def edit(image: Image.Image, rng: np.random.Generator) -> Image.Image:
        result = ImageEnhance.Brightness(image).enhance(brightness)
        result = ImageEnhance.Contrast(result).enhance(contrast)
        result = ImageEnhance.Color(result).enhance(saturation)
        if gamma != 1.0:
            table = [round(255 * (v / 255) ** gamma) for v in range(256)] * 3
            result = result.point(table)
        return result

    return edit


def both(first: Edit, second: Edit) -> Edit:
    """One edit after the other (the file is encoded once, after both)."""

    def edit(image: Image.Image, rng: np.random.Generator) -> Image.Image:
        return second(first(image, rng), rng)

    return edit


def _same(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    return image


class SuiteEdit(NamedTuple):
    """One edit of the wide suite: its family, what it does, and how the upload is encoded (a named
    tuple, not a dataclass: the tests load this file without registering it as a module)."""

    family: str
    edit: Edit
    encoding: str = "JPEG"
    quality: int = 90


def _suite() -> dict[str, SuiteEdit]:
    suite: dict[str, SuiteEdit] = {}
    for degrees in (1, -2, 3, -4, 5, -6):
        suite[f"rotate {degrees:+d} corners"] = SuiteEdit(
            "rotation, black corners", rotate_small(degrees, True)
        )
    for degrees in (-1, 2, -3, 4, -5, 6):
        suite[f"rotate {degrees:+d} cropped"] = SuiteEdit(
            "rotation, implied crop", rotate_small(degrees, False)
        )
    for share in (0.05, 0.10, 0.15, 0.20, 0.25):
        suite[f"crop {share:.0%} one side"] = SuiteEdit("crop, one side", crop_sides(share, 1))
    for share in (0.05, 0.10, 0.15):
        suite[f"crop {share:.0%} two sides"] = SuiteEdit("crop, two sides", crop_sides(share, 2))
    for share in (0.10, 0.15, 0.20, 0.25):
        suite[f"crop {share:.0%} all sides"] = SuiteEdit("crop, all sides", crop_sides(share, 4))
    for share, above in ((0.08, True), (0.12, False), (0.16, True), (0.20, False)):
        place = "top" if above else "bottom"
        suite[f"caption {place} {share:.0%}"] = SuiteEdit("caption band", caption(share, above))
    suite["watermark corner"] = SuiteEdit("logo, watermark", watermark)
    suite["logo corner opaque 5%"] = SuiteEdit("logo, watermark", logo(0.05, "corner", 255))
    suite["logo corner opaque 10%"] = SuiteEdit("logo, watermark", logo(0.10, "corner", 255))
    suite["logo centre 50% 10%"] = SuiteEdit("logo, watermark", logo(0.10, "centre", 128))
    suite["text watermark centre"] = SuiteEdit("logo, watermark", text_watermark)
    for name, bordered in (
        ("letterbox", letterbox),
        ("pillarbox", pillarbox),
        ("frame", frame),
        ("border", border),
    ):
        suite[name] = SuiteEdit("letterbox, frame, border", bordered)
    suite["screenshot phone"] = SuiteEdit("pasted in a larger canvas", screenshot)
    suite["screenshot desktop"] = SuiteEdit("pasted in a larger canvas", canvas)
    suite["mirror"] = SuiteEdit("mirror", mirror)
    for degrees in (90, 180, 270):
        suite[f"rotate {degrees}"] = SuiteEdit("rotation 90/180/270", rotate(degrees))
    suite["downscale 25%"] = SuiteEdit("scale", resize(0.25))
    suite["downscale 50%"] = SuiteEdit("scale", resize(0.5))
    suite["upscale 150%"] = SuiteEdit("scale", resize(1.5))
    for quality in (15, 30, 45, 60):
        suite[f"jpeg {quality}"] = SuiteEdit("JPEG, WebP", _same, "JPEG", quality)
    suite["webp 50"] = SuiteEdit("JPEG, WebP", _same, "WEBP", 50)
    suite["blur"] = SuiteEdit("blur, noise, sharpen", blur)
    suite["noise"] = SuiteEdit("blur, noise, sharpen", noise)
    suite["sharpen"] = SuiteEdit("blur, noise, sharpen", sharpen)
    suite["brighter"] = SuiteEdit("tone, colour", tone(brightness=1.3))
    suite["darker, more contrast"] = SuiteEdit("tone, colour", tone(brightness=0.8, contrast=1.3))
    suite["less contrast"] = SuiteEdit("tone, colour", tone(contrast=0.6))
    suite["gamma 1.6"] = SuiteEdit("tone, colour", tone(gamma=1.6))
    suite["saturated"] = SuiteEdit("tone, colour", tone(saturation=1.8))
    suite["greyscale"] = SuiteEdit("tone, colour", grey)
    suite["crop 10% + caption"] = SuiteEdit("pairs", both(crop_sides(0.10, 4), caption(0.14, False)))
    suite["rotate +3 + jpeg 30"] = SuiteEdit("pairs", rotate_small(3, False), "JPEG", 30)
    suite["mirror + watermark"] = SuiteEdit("pairs", both(mirror, watermark))
    return suite


SUITE: dict[str, SuiteEdit] = _suite()
"""The wide suite by edit name, in report order: every family issue 10 lists."""


def suite_bytes(image: Image.Image, edit: str, seed: str) -> bytes:
    """The file an upload of ``image`` with the named edit of ``SUITE`` would be; one seed, one result."""
    rng = np.random.default_rng(zlib.crc32(f"{seed}/{edit}".encode()))
    chosen = SUITE[edit]
    result = chosen.edit(image.convert("RGB"), rng).convert("RGB")
    buffer = io.BytesIO()
    result.save(buffer, format=chosen.encoding, quality=chosen.quality)
    return buffer.getvalue()
