"""What a sweep goes over: the items of a folder, or of a file listing paths and URLs.

An item is named by its key: the absolute path of a file, or a URL exactly as listed. Keys identify
items in the catalog from one sweep to the next, so they do not depend on the current directory.
"""

from __future__ import annotations

import os
from pathlib import Path

from stanch.files import media_files


class SourceError(ValueError):
    """The source is neither a folder nor a readable text list."""


def is_url(key: str) -> bool:
    """Whether an item is fetched (anything with a scheme) rather than read from disk."""
    return "://" in key


def list_items(source: Path) -> list[str]:
    """The keys of ``source``'s items in a stable order: a folder's files recursed and sorted, or the
    lines of a list (blank lines and ``#`` comments skipped; relative paths are relative to the list)."""
    if source.is_dir():
        return [os.path.abspath(path) for path in media_files([source])]
    if not source.is_file():
        raise SourceError(f"{source} does not exist: give a folder, or a file listing paths or URLs")
    try:
        text = source.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise SourceError(f"{source} is not a text file: give a folder, or a file listing paths or URLs "
                          "one per line") from None
    keys = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        keys.append(line if is_url(line) else os.path.abspath(source.parent / line))
    return list(dict.fromkeys(keys))
