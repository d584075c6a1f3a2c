"""Reading media files from disk: which files a folder holds, and their bytes under a size limit.

The signals layer never touches files; the commands that take media paths (``stanch hash``,
``stanch match``) and the sweep's workers read them here, so that a file over the size limit is refused
from its size alone, without being read.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path

from stanch.signals import Limits, MediaError


def media_files(paths: Iterable[Path]) -> list[Path]:
    """The files to hash, in a deterministic order: each argument in turn, folders recursed and sorted.

    Paths that do not exist are kept, so that each gets its error line.
    """
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted((Path(root) / name for root, _, names in os.walk(path) for name in names),
                                key=lambda p: p.as_posix()))
        else:
            found.append(path)
    return found


def read_media_file(path: Path, limits: Limits) -> bytes:
    """A file's bytes, refusing non-regular files and files over ``limits.max_bytes`` before reading."""
    info = path.stat()
    if not stat.S_ISREG(info.st_mode):
        raise MediaError("not a regular file")
    if info.st_size > limits.max_bytes:
        raise MediaError(f"file of {info.st_size:,} bytes is over the size limit of "
                         f"{limits.max_bytes:,} bytes")
    with path.open("rb") as handle:
        data = handle.read(limits.max_bytes + 1)  # the file may grow after stat
    if len(data) > limits.max_bytes:
        raise MediaError(f"file is over the size limit of {limits.max_bytes:,} bytes")
    return data
