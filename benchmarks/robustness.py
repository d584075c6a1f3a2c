"""Recall and false matches of Stanch's robustness signals against plain PDQ, on the edit suite.

    python benchmarks/robustness.py [--conformance DIR]

Every photographic original of the conformance set is edited with each edit of benchmarks/edits.py.
Recall: the edited copy matches its own original. False matches: the edited copy matches a picture of
different content; every edited copy is compared with every banked picture of other content (all the
conformance images and a few frames of each sample video, photos or not). Two rules are compared:

- plain PDQ: the upload's PDQ within 31 bits of the banked picture's PDQ;
- Stanch: any of ``query_hashes(upload)`` within 31 bits of any of ``bank_hashes(banked)``.

Both rules leave out hashes of quality below 50, as Meta advises. The conformance set holds only about
fifteen distinct contents, so these figures are indicative, not a statistical guarantee.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageOps

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.edits import EDITS, edited_bytes
from stanch.signals import hash_media, stills
from stanch.signals.levelled import server_views
from stanch.signals.pdq import DIHEDRAL_NAMES, MATCH_DISTANCE, MIN_QUALITY
from stanch.signals.robust import bank_hashes, query_hashes, robust_variants
from stanch.signals.straightened import straightened_views
from stanch.signals.types import PURPOSES, ImageSignals, PdqVariant, Purpose

_EDIT_MAX_SIDE = 1600
"""Larger originals are shrunk to this before being edited (only the 12-megapixel EXIF photo is)."""

PHOTOS = {
    "bridge": "pdq/bridge-mods/aaa-orig.jpg",
    "coaster-c": "pdq/misc-images/c.png",
    "pen-and-coaster": "pdq/reg-test-input/pen-and-coaster.png",
    "desk": "pdq/reg-test-input/exif-rotn/exif-rotn-1.jpg",
    "sea": "pdq/reg-test-input/labelme-subset/q0122.jpg",
    "people": "pdq/reg-test-input/labelme-subset/q0291.jpg",
    "stripes": "pdq/reg-test-input/labelme-subset/q0746.jpg",
    "houses": "pdq/reg-test-input/labelme-subset/q1050.jpg",
    "zebra": "pdq/reg-test-input/labelme-subset/q2821.jpg",
}
"""Photographic originals (quality >= 50) whose edits are measured, by content."""

PHOTO_FRAMES = {
    "chair": "vpdq/sample-videos/chair-orig-22-sd-bar.mp4",
    "doorknob": "vpdq/sample-videos/doorknob-hd-no-bar.mp4",
    "pattern": "vpdq/sample-videos/pattern-hd-no-bar.mp4",
}
"""Videos whose middle frame is a further photographic original."""

FRAME_TIMES = (0.2, 0.5, 0.8)
"""Where in each sample video the banked frames are taken, as shares of its frame count."""


@dataclass(frozen=True)
class Picture:
    """A file as Stanch receives it, with the content it shows."""

    content: str
    name: str
    data: bytes


SECONDS = {(step, purpose): 0.0 for step in ("hashing", "robust_variants") for purpose in PURPOSES}
"""Time spent hashing files for each purpose, and the part of it spent in ``robust_variants``: what
the views cost."""


def _timed_variants(luma: np.ndarray, purpose: Purpose = "query") -> tuple[PdqVariant, ...]:
    started = time.perf_counter()
    variants = robust_variants(luma, purpose)
    SECONDS["robust_variants", purpose] += time.perf_counter() - started
    return variants


def _timed_server_views(luma: np.ndarray, purpose: Purpose = "query") -> tuple[PdqVariant, ...]:
    started = time.perf_counter()
    views = server_views(luma, purpose)
    SECONDS["robust_variants", purpose] += time.perf_counter() - started
    return views


def _timed_straightened(luma: np.ndarray, purpose: Purpose = "query") -> tuple[PdqVariant, ...]:
    started = time.perf_counter()
    views = straightened_views(luma, purpose)
    SECONDS["robust_variants", purpose] += time.perf_counter() - started
    return views


stills.robust_variants = _timed_variants  # measure the views' share of hashing without changing it
stills.server_views = _timed_server_views
stills.straightened_views = _timed_straightened


def signals_of(data: bytes, purpose: Purpose) -> ImageSignals:
    """The signals ``stanch hash --for PURPOSE`` computes for a file: the product's own decoding and
    hashing; banked pictures are hashed for a bank, edited copies for a query."""
    started = time.perf_counter()
    signals = hash_media(data, purpose=purpose)
    SECONDS["hashing", purpose] += time.perf_counter() - started
    assert isinstance(signals, ImageSignals)
    return signals


def plain_hashes(signals: ImageSignals) -> tuple[str, ...]:
    return (signals.pdq,) if signals.quality >= MIN_QUALITY else ()


def distance(queries: tuple[str, ...], banked: tuple[str, ...]) -> int:
    """Smallest Hamming distance between any query hash and any banked hash (257 when either is empty)."""
    if not queries or not banked:
        return 257
    a = np.array([np.frombuffer(bytes.fromhex(h), np.uint8) for h in queries])
    b = np.array([np.frombuffer(bytes.fromhex(h), np.uint8) for h in banked])
    bits = np.unpackbits(a[:, None, :] ^ b[None, :, :], axis=2).sum(axis=2)
    return int(bits.min())


def png(rgb: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="PNG")
    return buffer.getvalue()


def pixels(data: bytes) -> Image.Image:
    """The upright RGB picture of a file, at most ``_EDIT_MAX_SIDE`` a side: what the edits start from."""
    image = ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB")
    image.thumbnail((_EDIT_MAX_SIDE, _EDIT_MAX_SIDE))
    return image


def video_frames(path: Path, shares: tuple[float, ...]) -> list[bytes]:
    """Frames at the given shares of a video, as PNG files."""
    with av.open(str(path)) as container:
        frames = [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]
    return [png(frames[int(share * (len(frames) - 1))]) for share in shares]


def originals(root: Path) -> list[Picture]:
    pictures = [
        Picture(content, Path(path).name, (root / path).read_bytes()) for content, path in PHOTOS.items()
    ]
    for content, path in PHOTO_FRAMES.items():
        pictures.append(Picture(content, f"{Path(path).stem}@0.5", video_frames(root / path, (0.5,))[0]))
    return pictures


def bank(root: Path) -> list[Picture]:
    """Every conformance picture and a few frames of every sample video, labelled by content."""
    pictures = []
    for path in sorted((root / "pdq").rglob("*")):
        if path.suffix.lower() in {".jpg", ".jpeg", ".png", ".webp"}:
            pictures.append(Picture(_content_of_file(path), path.name, path.read_bytes()))
    for path in sorted((root / "vpdq" / "sample-videos").glob("*.mp4")):
        content = path.stem.split("-")[0]
        for share, data in zip(FRAME_TIMES, video_frames(path, FRAME_TIMES), strict=True):
            pictures.append(Picture(content, f"{path.stem}@{share}", data))
    return pictures


def _content_of_file(path: Path) -> str:
    """The bridge photo appears under many names (edits, rotations, colour modes, pytx's sample-b)."""
    parts = set(path.parts)
    if parts & {"bridge-mods", "dih", "modes"} or path.stem in {"sample-b", "letterboxed_sample-b"}:
        return "bridge"
    for content, photo in PHOTOS.items():
        if path.as_posix().endswith(photo.removeprefix("pdq/")):
            return content
    if "exif-rotn" in parts:
        return "desk"
    return path.stem


def conformance_root(description: str) -> Path:
    """The conformance folder from ``--conformance``, ``STANCH_CONFORMANCE_DIR`` or ../shared."""
    parser = argparse.ArgumentParser(description=description)
    default = os.environ.get(
        "STANCH_CONFORMANCE_DIR", Path(__file__).resolve().parents[2] / "shared/conformance"
    )
    parser.add_argument("--conformance", type=Path, default=Path(default))
    return Path(parser.parse_args().conformance)


def main() -> None:
    root = conformance_root(__doc__.splitlines()[0])
    started = time.perf_counter()
    banked = [(picture, signals_of(picture.data, "bank")) for picture in bank(root) + originals(root)]
    photos = [p for p, s in banked[-len(PHOTOS) - len(PHOTO_FRAMES) :] if s.quality >= MIN_QUALITY]
    flat = sorted(
        {p.content for p, s in banked[-len(PHOTOS) - len(PHOTO_FRAMES) :]} - {p.content for p in photos}
    )
    print(
        f"{len(photos)} photographic originals (left out, PDQ quality < {MIN_QUALITY}: {', '.join(flat)}); "
        f"{len(banked)} banked pictures of {len({p.content for p, _ in banked})} contents; {len(EDITS)} edits"
    )

    rows = []
    near_miss_plain: list[int] = []
    near_miss_stanch: list[int] = []
    query_counts: list[int] = []
    for edit in EDITS:
        recall_plain = recall_stanch = false_plain = false_stanch = 0
        for photo in photos:
            upload = signals_of(edited_bytes(pixels(photo.data), edit, photo.name), "query")
            own = next(s for p, s in banked if p is photo)
            query_counts.append(len(query_hashes(upload)))
            recall_plain += distance(plain_hashes(upload), plain_hashes(own)) <= MATCH_DISTANCE
            recall_stanch += distance(query_hashes(upload), bank_hashes(own)) <= MATCH_DISTANCE
            for other, signals in banked:
                if other.content == photo.content:
                    continue
                plain = distance(plain_hashes(upload), plain_hashes(signals))
                stanch = distance(query_hashes(upload), bank_hashes(signals))
                false_plain += plain <= MATCH_DISTANCE
                false_stanch += stanch <= MATCH_DISTANCE
                near_miss_plain.append(plain)
                near_miss_stanch.append(stanch)
        rows.append((edit, recall_plain, recall_stanch, false_plain, false_stanch))

    _print_table(rows, len(photos))
    _print_cost(banked, query_counts)
    _print_margin("plain PDQ", near_miss_plain)
    _print_margin("Stanch", near_miss_stanch)
    print(f"\n{time.perf_counter() - started:.0f} s")


def _print_table(rows: list[tuple[str, int, int, int, int]], photos: int) -> None:
    print(f"\n{'edit':<14}{'plain recall':>14}{'Stanch recall':>15}{'plain false':>13}{'Stanch false':>14}")
    for edit, recall_plain, recall_stanch, false_plain, false_stanch in rows:
        print(
            f"{edit:<14}{recall_plain:>9}/{photos:<4}{recall_stanch:>10}/{photos:<4}"
            f"{false_plain:>13}{false_stanch:>14}"
        )
    total = photos * len(rows)
    sums = [sum(row[i] for row in rows) for i in range(1, 5)]
    print(f"{'total':<14}{sums[0]:>9}/{total:<4}{sums[1]:>10}/{total:<4}{sums[2]:>13}{sums[3]:>14}")
    print(f"{'recall':<14}{sums[0] / total:>14.3f}{sums[1] / total:>15.3f}")


def _print_cost(banked: list[tuple[Picture, ImageSignals]], query_counts: list[int]) -> None:
    bank_counts = [len(bank_hashes(signals)) for _, signals in banked]
    print(
        f"\nhashes per picture: query mean {np.mean(query_counts):.2f} (max {max(query_counts)}), "
        f"bank mean {np.mean(bank_counts):.2f} (max {max(bank_counts)}); plain PDQ uses 1 on each side"
    )
    files: dict[Purpose, int] = {"bank": len(banked), "query": len(query_counts)}
    for purpose in PURPOSES:
        hashing, variants = SECONDS["hashing", purpose], SECONDS["robust_variants", purpose]
        print(
            f"time hashing the {files[purpose]} files for a {purpose} (hash_media): {hashing:.1f} s, "
            f"of which robust_variants {variants:.1f} s ({100 * variants / hashing:.0f} %)"
        )


def _print_margin(rule: str, distances: list[int]) -> None:
    """How far the closest pictures of other content stay from the threshold."""
    values = np.array([d for d in distances if d <= 256])
    quantiles = np.percentile(values, [0, 0.1, 1, 5, 50])
    print(
        f"{rule}: closest other-content distance over {len(values)} pairs: min {quantiles[0]:.0f}, "
        f"0.1% {quantiles[1]:.0f}, 1% {quantiles[2]:.0f}, 5% {quantiles[3]:.0f}, median {quantiles[4]:.0f}"
    )
    histogram = np.histogram(values, bins=[0, 32, 48, 64, 80, 96, 257])[0]
    print(
        "  "
        + ", ".join(
            f"{lo}-{hi - 1}: {n}"
            for lo, hi, n in zip([0, 32, 48, 64, 80, 96], [32, 48, 64, 80, 96, 257], histogram, strict=True)
        )
    )


def _packed(hashes: tuple[str, ...]) -> np.ndarray:
    return np.array([np.frombuffer(bytes.fromhex(h), np.uint8) for h in hashes]).reshape(-1, 32)


RULES = {"plain PDQ": (plain_hashes, plain_hashes), "Stanch": (query_hashes, bank_hashes)}
"""The two rules measured side by side: (hashes an upload is looked up by, hashes a bank indexes)."""


@dataclass
class Tally:
    """What one rule found over the suite: hits per edit, false matches, the closest other content."""

    found: dict[str, int]
    false: int = 0
    closest: int = 257
    pairs: list[str] = field(default_factory=list)
    """Each false match: the edit, the copy's tile and the other tile."""
    own: list[tuple[int, int]] = field(default_factory=list)
    """Per upload, the distance to its own tile over pairs with a whole-picture hash on one side at
    least, and over window-against-window pairs (``WINDOWS`` on both sides)."""
    others: list[int] = field(default_factory=list)
    """Window-against-window distances (<= 40) to other tiles not matched by a whole-picture pair."""
    whole_false: int = 0
    """False matches through a pair with a whole-picture hash on one side at least."""


def corpus_main(
    part: str, limit: int, only: str, share: tuple[int, int] = (1, 1), wallpaper: str = ""
) -> None:
    """Recall and false matches on one half of benchmarks/corpus.py (``heldout`` to report, ``tune``
    to tune), over the wide suite (``benchmarks.edits.SUITE``; ``only``: the edits whose name or family
    contains it). Every tile of PDQ quality >= 50 is banked and edited with every edit; every edited copy
    is compared with every banked tile of other content (tiles of the same wallpaper included).
    ``share`` (i, n) measures every n-th edit from the i-th, to spread one run over n processes."""
    from benchmarks.corpus import half
    from benchmarks.edits import SUITE, suite_bytes

    started = time.perf_counter()
    edits = [name for name, e in SUITE.items() if only in name or only in e.family][share[0] - 1 :: share[1]]
    tiles = [(c, signals_of(c.path.read_bytes(), "bank")) for c in half(part)]
    tiles = [(c, s) for c, s in tiles if s.quality >= MIN_QUALITY and wallpaper in c.wallpaper][:limit]
    owners = {
        rule: np.repeat(np.arange(len(tiles)), [len(b(s)) for _, s in tiles])
        for rule, (_, b) in RULES.items()
    }
    banks = {rule: _packed(tuple(h for _, s in tiles for h in b(s))) for rule, (_, b) in RULES.items()}
    bank_views = {
        rule: [view_names(s).get(h, "?") for _, s in tiles for h in b(s)] for rule, (_, b) in RULES.items()
    }
    print(f"{part}: {len(tiles)} banked tiles of PDQ quality >= {MIN_QUALITY}; {len(edits)} edits")
    tallies = {rule: Tally(dict.fromkeys(edits, 0)) for rule in RULES}
    pairs, query_counts = 0, {rule: 0 for rule in RULES}
    for edit in edits:
        for index, (content, _) in enumerate(tiles):
            upload = signals_of(suite_bytes(pixels(content.path.read_bytes()), edit, content.name), "query")
            for rule, (query, _) in RULES.items():
                hashes = query(upload)
                query_counts[rule] += len(hashes)
                if hashes:
                    names = (view_names(upload), bank_views[rule])
                    _tally(tallies[rule], edit, index, hashes, banks[rule], owners[rule], len(tiles), names)
            pairs += len(tiles) - 1
    _print_families(edits, tallies, len(tiles))
    for rule, tally in tallies.items():
        hits = sum(tally.found.values())
        total = len(tiles) * len(edits)
        print(
            f"{rule}: recall {hits}/{total} = {hits / total:.3f}; false matches {tally.false} over {pairs} "
            f"pairs of different contents; closest different-content distance {tally.closest}"
        )
        for pair in tally.pairs:
            print(f"  false match, {pair} ({tiles[int(pair.split('tile ')[1].split()[0])][0].name})")
        _print_window_thresholds(tally)
    _print_corpus_cost(tiles, query_counts, len(tiles) * len(edits))
    print(f"total {time.perf_counter() - started:.0f} s")


def _tally(
    tally: Tally,
    edit: str,
    index: int,
    hashes: tuple[str, ...],
    bank: np.ndarray,
    owner: np.ndarray,
    n: int,
    names: tuple[dict[str, str], list[str]] = ({}, []),
) -> None:
    """Count one upload: found when a hash is within the threshold of its own tile's; false matches and
    the closest distance over every other tile."""
    d = (
        np.bitwise_count(_packed(hashes)[:, None, :] ^ bank[None, :, :])
        .sum(axis=2, dtype=np.int32)
        .min(axis=0)
    )
    per = np.full(n, 257)
    np.minimum.at(per, owner, d)
    tally.found[edit] += bool(per[index] <= MATCH_DISTANCE)
    per[index] = 257
    tally.false += int((per <= MATCH_DISTANCE).sum())
    tally.pairs += [
        f"{edit}: tile {index} -> tile {other} at {per[other]}{_views_of(hashes, bank, owner, other, names)}"
        for other in np.flatnonzero(per <= MATCH_DISTANCE)
    ]
    tally.closest = min(tally.closest, int(per.min()))
    query_names, bank_names = names
    if bank_names:
        _tally_windows(tally, index, hashes, bank, owner, n, query_names, bank_names)


WINDOWS = ("anchored", "spare", "crop", "part")
"""Views that hash a window of the picture rather than all of it (by name prefix)."""


def _tally_windows(
    tally: Tally,
    index: int,
    hashes: tuple[str, ...],
    bank: np.ndarray,
    owner: np.ndarray,
    n: int,
    query_names: dict[str, str],
    bank_names: list[str],
) -> None:
    """Split each upload's distances into window-against-window pairs and the rest, to weigh a stricter
    threshold for the former (what every traced false match was)."""
    d = np.bitwise_count(_packed(hashes)[:, None, :] ^ bank[None, :, :]).sum(axis=2, dtype=np.int32)
    q_window = np.array([query_names.get(h, "").startswith(WINDOWS) for h in hashes])
    b_window = np.array([name.startswith(WINDOWS) for name in bank_names])
    both = q_window[:, None] & b_window[None, :]
    whole = np.where(both, 257, d).min(axis=0)
    windows = np.where(both, d, 257).min(axis=0)
    per_whole, per_windows = np.full(n, 257), np.full(n, 257)
    np.minimum.at(per_whole, owner, whole)
    np.minimum.at(per_windows, owner, windows)
    tally.own.append((int(per_whole[index]), int(per_windows[index])))
    per_whole[index] = per_windows[index] = 257
    tally.whole_false += int((per_whole <= MATCH_DISTANCE).sum())
    tally.others += [int(x) for x in per_windows[(per_whole > MATCH_DISTANCE) & (per_windows <= 40)]]


def _print_window_thresholds(tally: Tally) -> None:
    """Recall and false matches if window-against-window pairs needed at most T bits (others 31)."""
    if not tally.own:
        return
    own = np.array(tally.own)
    others = np.array(tally.others, np.int64)
    print("window-against-window threshold T (whole-picture pairs keep 31): recall, false matches")
    for limit in range(20, MATCH_DISTANCE + 1):
        found = int(((own[:, 0] <= MATCH_DISTANCE) | (own[:, 1] <= limit)).sum())
        print(
            f"  T={limit}: recall {found}/{len(own)} = {found / len(own):.3f}; "
            f"false {tally.whole_false + int((others <= limit).sum())}"
        )
    closest = int(others.min()) if len(others) else 257
    print(f"  closest window-against-window distance to another content: {closest}")


def view_names(signals: ImageSignals) -> dict[str, str]:
    """Each hash of a picture by the name of its view (``original``, a dihedral turn, a robustness view)."""
    named = dict(zip(signals.pdq_dihedral, DIHEDRAL_NAMES, strict=False)) or {signals.pdq: "original"}
    named.update({v.pdq: v.name for v in signals.variants if v.pdq not in named})
    return named


def _views_of(
    hashes: tuple[str, ...],
    bank: np.ndarray,
    owner: np.ndarray,
    other: int,
    names: tuple[dict[str, str], list[str]],
) -> str:
    """Which of the upload's views met which banked view of tile ``other``: why a false match matched."""
    query_names, bank_names = names
    if not bank_names:
        return ""
    rows = np.flatnonzero(owner == other)
    d = np.bitwise_count(_packed(hashes)[:, None, :] ^ bank[None, rows, :]).sum(axis=2, dtype=np.int32)
    q, b = np.unravel_index(int(d.argmin()), d.shape)
    return f" (upload's {query_names.get(hashes[q], '?')} against {bank_names[rows[b]]})"


def _print_families(edits: list[str], tallies: dict[str, Tally], tiles: int) -> None:
    """Recall per edit, then per family, each rule side by side."""
    from benchmarks.edits import SUITE

    header = f"{'edit':<28}" + "".join(f"{rule:>14}" for rule in tallies)
    print("\n" + header)
    for edit in edits:
        print(f"{edit:<28}" + "".join(f"{t.found[edit]:>10}/{tiles:<3}" for t in tallies.values()))
    families: dict[str, list[str]] = {}
    for edit in edits:
        families.setdefault(SUITE[edit].family, []).append(edit)
    print(f"\n{'family':<28}" + "".join(f"{rule:>14}" for rule in tallies))
    for family, members in families.items():
        total = tiles * len(members)
        cells = "".join(f"{sum(t.found[e] for e in members) / total:>14.3f}" for t in tallies.values())
        print(f"{family:<28}{cells}   ({total} copies)")


def _print_corpus_cost(
    tiles: Sequence[tuple[object, ImageSignals]], query_counts: dict[str, int], uploads: int
) -> None:
    """Hashes per bank entry, the bytes they take, hashes looked up and hashing time per query."""
    for rule, (_, bank_side) in RULES.items():
        counts = [len(bank_side(s)) for _, s in tiles]
        print(
            f"{rule}: hashes per bank entry mean {np.mean(counts):.1f} (max {max(counts)}), "
            f"{32 * np.mean(counts):.0f} bytes of hashes per picture; "
            f"{query_counts[rule] / uploads:.1f} hashes looked up per query"
        )
    hashing, variants = SECONDS["hashing", "query"], SECONDS["robust_variants", "query"]
    print(
        f"query hashing (hash_media) {1000 * hashing / uploads:.1f} ms per picture, of which Stanch's views "
        f"{1000 * variants / uploads:.1f} ms "
        f"(plain PDQ's part: {1000 * (hashing - variants) / uploads:.1f} ms)"
    )


if __name__ == "__main__" and "--corpus" in sys.argv:
    options = argparse.ArgumentParser(description="recall on the wallpaper corpus, over the wide suite")
    options.add_argument("--corpus", choices=("tune", "heldout"), required=True)
    options.add_argument("--limit", type=int, default=10**6, help="at most this many tiles (a quick subset)")
    options.add_argument("--only", default="", help="only the edits whose name or family contains this")
    options.add_argument("--wallpaper", default="", help="only the tiles of wallpapers whose name has this")
    options.add_argument("--share", default="1/1", help="I/N: every N-th edit from the I-th (parallel runs)")
    chosen = options.parse_args()
    first, count = (int(n) for n in chosen.share.split("/"))
    corpus_main(chosen.corpus, chosen.limit, chosen.only, (first, count), chosen.wallpaper)
    sys.exit()


if __name__ == "__main__":
    main()
