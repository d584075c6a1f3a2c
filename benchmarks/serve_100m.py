"""The SQLite database of a ``stanch serve`` at up to 100M hashes, built with ``stanch bank import``.

Build (``--keep DIR`` makes it resumable): the bank is imported with ``stanch bank import`` (the
product's bulk path, one CLI process per part of ``--part`` hashes, each under its own list name, each
one transaction), niced. The hashes are random and regenerated from a seed, so DIR keeps them as a raw
``bank.u8`` file (32 bytes a hash) for the planted queries. A run with the same DIR continues the build
where it stopped.

Only the build is written so far: measuring the whole server on the database it builds (start from a
snapshot, RSS/PSS, HTTP lookups with a new connection each, batches, live adds, a cold-disk start) is not
done yet (docs/limitations.md).

    python benchmarks/serve_100m.py --keep /work/bench100m [--hashes 100000000] [--part 5000000]

"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from stanch.store import create_bank, create_key, open_database

STANCH = str(Path(sys.executable).parent / "stanch")


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _stamp() -> str:
    return time.strftime("%H:%M:%S UTC", time.gmtime())


def build(folder: Path, hashes: int, part: int) -> int:
    """Import parts until the bank holds ``hashes`` (or the parts run out); returns how many it holds."""
    folder.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "STANCH_DATABASE_URL": f"sqlite:///{folder}/stanch.db"}
    done_file = folder / "parts.json"
    done: list[int] = json.loads(done_file.read_text()) if done_file.exists() else []
    if not done and not (folder / "key.txt").exists():
        db = open_database(env["STANCH_DATABASE_URL"])
        with db.write() as session:
            create_bank(session, "bench")
            _, key = create_key(session, "benchmark", ["match", "bank"])
        db.dispose()
        (folder / "key.txt").write_text(key)
    bank_file = folder / "bank.u8"
    with bank_file.open("ab") as bank:
        bank.truncate(sum(done) * 32)  # a part whose import did not finish left nothing in the database
    while sum(done) < hashes:
        index, count = len(done), min(part, hashes - sum(done))
        rows = np.random.default_rng([2026, index]).integers(0, 256, (count, 32), dtype=np.uint8)
        lines = folder / f"part-{index:03d}.txt"
        with lines.open("w") as out:
            for start in range(0, count, 100_000):
                out.write("".join(row.hex() + "\n" for row in map(bytes, rows[start : start + 100_000])))
        started = time.perf_counter()
        subprocess.run(["nice", "-n", "10", STANCH, "bank", "import", "bench", str(lines), "--format", "pdq"],
                       env=env, check=True, stdout=subprocess.DEVNULL)
        seconds = time.perf_counter() - started
        with bank_file.open("ab") as bank:
            bank.write(rows.tobytes())
        done.append(count)
        done_file.write_text(json.dumps(done))
        lines.unlink()
        print(f"{_stamp()} part {index}: {count:,} hashes imported in {seconds:.0f} s"
              f" ({count / seconds:,.0f}/s);"
              f" bank {sum(done):,}; database {Path(folder, 'stanch.db').stat().st_size / 2**30:.1f} GiB;"
              f" load {_load()}", flush=True)
    return sum(done)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--keep", type=Path, required=True, help="the folder of the database (reused)")
    parser.add_argument("--hashes", type=int, default=100_000_000)
    parser.add_argument("--part", type=int, default=5_000_000, help="hashes per stanch bank import")
    args = parser.parse_args()
    print(f"{_stamp()} load average {_load()} on {os.cpu_count()} CPUs", flush=True)
    held = build(args.keep, args.hashes, args.part)
    print(f"{_stamp()} the bank holds {held:,} hashes; load average {_load()}")


if __name__ == "__main__":
    main()
