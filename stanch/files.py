"""Reading media files from disk: which files a folder holds, and their bytes under a size limit.

The signals layer never touches files; the commands that take media paths (``stanch hash``,
``stanch match``) and the sweep's workers read them here, so that a file over the size limit is refused
from its size alone, without being read.

Nothing here imports numpy (``stanch.signals`` is imported when a file is refused), so that
``stanch hash`` lists and reads its files while numpy loads.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stanch.signals import Limits


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
    data = read_bounded(path, limits.max_bytes)
    if isinstance(data, str):
        from stanch.signals import MediaError

        raise MediaError(data)
    return data


def read_bounded(path: Path, max_bytes: int) -> bytes | str:
    """A file's bytes, or why they are refused (not a regular file, over ``max_bytes``: checked from
    its size before reading, and again after, as the file may grow); ``OSError`` if it cannot be read."""
    info = path.stat()
    if not stat.S_ISREG(info.st_mode):
        return "not a regular file"
    if info.st_size > max_bytes:
        return f"file of {info.st_size:,} bytes is over the size limit of {max_bytes:,} bytes"
    with path.open("rb") as handle:
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        return f"file is over the size limit of {max_bytes:,} bytes"
    return data
