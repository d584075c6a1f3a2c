"""Bounded fuzzing of what strangers' bytes reach first: the media decoders and the exchange parsers.

    python scripts/fuzz.py [decoders|parsers|api|all] [--seconds 120] [--seed 1]

Each target runs Hypothesis for at most ``--seconds`` and states its rule:

- decoders: any bytes (random, or a conformance picture or generated PNG/GIF/JPEG with bytes flipped,
  cut or inserted) give hashes or ``MediaError``, never another exception;
- parsers: any text given to each exchange format's parser (PDQ lines, Stanch JSONL, StopNCII, HMA
  CSV, pytx lines where present) yields entries or ``FormatError``, never another exception;
- api: the schemathesis suite of tests/security/test_schema_fuzz.py with many more examples.

A failure prints the smallest input Hypothesis found and exits 1. The CI suite runs a few examples of
each (tests/security/test_fuzz_script.py) so this script cannot rot.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

REPO = Path(__file__).resolve().parent.parent


def _seeds() -> list[bytes]:
    """Small real files to mutate: generated pictures in each format, and a few conformance images."""
    from PIL import Image

    seeds = []
    picture = Image.linear_gradient("L").resize((64, 48)).convert("RGB")
    for fmt in ("PNG", "GIF", "JPEG", "WEBP", "BMP", "TIFF"):
        out = io.BytesIO()
        picture.save(out, fmt)
        seeds.append(out.getvalue())
    folder = Path(os.environ.get("STANCH_CONFORMANCE_DIR", REPO.parent / "shared" / "conformance"))
    seeds.extend(p.read_bytes() for p in sorted(folder.glob("pdq/*.jpg"))[:3] if p.stat().st_size < 2**20)
    return seeds


def _mutated(seeds: list[bytes]) -> st.SearchStrategy[bytes]:
    @st.composite
    def mutate(draw: st.DrawFn) -> bytes:
        data = bytearray(draw(st.sampled_from(seeds)))
        for _ in range(draw(st.integers(1, 8))):
            where = draw(st.integers(0, max(0, len(data) - 1)))
            action = draw(st.sampled_from(["flip", "cut", "insert"]))
            if action == "flip" and data:
                data[where] ^= draw(st.integers(1, 255))
            elif action == "cut":
                del data[where: where + draw(st.integers(1, 64))]
            else:
                data[where:where] = draw(st.binary(min_size=1, max_size=32))
        return bytes(data)

    return st.one_of(mutate(), st.binary(max_size=512))


def decoders(examples: int, deadline: float) -> None:
    from stanch.signals import MediaError, hash_media

    @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(data=_mutated(_seeds()))
    def check(data: bytes) -> None:
        if time.monotonic() > deadline:
            return
        with contextlib.suppress(MediaError):
            hash_media(data)

    check()


def parsers(examples: int, deadline: float) -> None:
    import importlib

    from stanch.exchange.records import FormatError

    modules = [importlib.import_module(f"stanch.exchange.{name}")
               for name in ("pdq_lines", "jsonl", "stopncii", "hma", "pytx_lines")
               if importlib.util.find_spec(f"stanch.exchange.{name}")]
    line = st.one_of(
        st.text(max_size=200),
        st.from_regex(r"[0-9a-f]{60,70}( \d{1,3})?", fullmatch=True),
        st.just('{"pdq": "' + "a" * 64 + '"}'), st.just('{"hashValue": "x", "hashStatus": "Withdrawn"}'),
        st.just("[" * 1200), st.just("pdq " + "f" * 64),
    )

    @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(lines=st.lists(line, max_size=12), which=st.sampled_from(modules))
    def check(lines: list[str], which: object) -> None:
        if time.monotonic() > deadline:
            return
        with contextlib.suppress(FormatError):
            list(which.parse(lines, "fuzz", None))  # type: ignore[attr-defined]

    check()


def api(examples: int, seconds: float) -> None:
    env = {**os.environ, "STANCH_FUZZ_EXAMPLES": str(examples)}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "tests/security/test_schema_fuzz.py"],
                          cwd=REPO, env=env, timeout=max(60.0, seconds * 4))
    if done.returncode:
        raise SystemExit(done.returncode)


TARGETS: dict[str, Callable[[int, float], None]] = {"decoders": decoders, "parsers": parsers}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("target", nargs="?", default="all", choices=[*TARGETS, "api", "all"])
    parser.add_argument("--seconds", type=float, default=120.0, help="time budget per target")
    parser.add_argument("--examples", type=int, default=1_000_000, help="stop earlier after this many")
    parser.add_argument("--seed", type=int, default=1)
    options = parser.parse_args()
    names = [*TARGETS, "api"] if options.target == "all" else [options.target]
    for name in names:
        started = time.monotonic()
        if name == "api":
            api(min(options.examples, 200), options.seconds)
        else:
            seed(options.seed)(TARGETS[name])(options.examples, started + options.seconds)
        print(f"{name}: no failure in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
