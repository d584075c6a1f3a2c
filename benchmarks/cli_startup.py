"""How long the ``stanch`` command takes to start: whole processes, against Python loading numpy and Pillow.

    python benchmarks/cli_startup.py [--runs 9]

Each command is run ``--runs`` times as a fresh process (the console script, as a user types it),
the runs of the commands interleaved so a burst of load from other processes falls on all alike; the
figure is the median wall time. The baseline, ``python -c "import numpy, PIL"``, is the least any
command that touches pixels pays. Goal (issue 12): ``stanch --help`` and every ``stanch <command> --help``
in at most 0.3 s on the 2-core machines the project runs on (``--runs`` of 16 commands: use a few).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from stanch.cli import COMMANDS

GOAL_SECONDS = 0.3


def stanch_command() -> list[str]:
    """The installed console script next to this Python, else ``python -m stanch``."""
    script = Path(sys.executable).with_name("stanch")
    if script.exists():
        return [str(script)]
    found = shutil.which("stanch")
    return [found] if found else [sys.executable, "-m", "stanch"]


def wall_seconds(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    stanch = stanch_command()
    commands = {
        'python -c "import numpy, PIL"': [sys.executable, "-c", "import numpy, PIL"],
        "stanch --help": [*stanch, "--help"],
        "stanch --version": [*stanch, "--version"],
        **{f"stanch {name} --help": [*stanch, name, "--help"] for name in COMMANDS},
    }
    for command in commands.values():  # warm the page cache: cold-disk starts are not what we measure
        wall_seconds(command)
    times: dict[str, list[float]] = {label: [] for label in commands}
    load = os.getloadavg()[0]
    for _ in range(args.runs):
        for label, command in commands.items():
            times[label].append(wall_seconds(command))
    base = statistics.median(times['python -c "import numpy, PIL"'])
    print(f"{os.cpu_count()} cores, load average {load:.1f} at the start, "
          f"{os.getloadavg()[0]:.1f} at the end; median of {args.runs} runs")
    met = True
    for label, spent in times.items():
        median = statistics.median(spent)
        goal = ""
        if label.endswith("--help"):
            met = met and median <= GOAL_SECONDS
            goal = f"  goal <= {GOAL_SECONDS} s: {'met' if median <= GOAL_SECONDS else 'NOT met'}"
        print(f"{label:<32} {median:6.3f} s  {median / base:5.2f}x the baseline{goal}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
