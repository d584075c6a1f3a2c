"""Exact digests of a file's bytes: they match only byte-for-byte copies, but they never false-match.

Outside ``stanch.signals`` (which imports numpy) so that ``stanch hash`` can digest its files while
numpy is still loading (``stanch.cli.hash``)."""

from __future__ import annotations

import hashlib


def md5_hex(data: bytes) -> str:
    """MD5 of the bytes, as hex: still what many partner lists (and PhotoDNA-less platforms) exchange."""
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def sha256_hex(data: bytes) -> str:
    """SHA-256 of the bytes, as hex: the exact-copy signal to prefer where both sides have it."""
    return hashlib.sha256(data).hexdigest()


Digests = tuple[str, str]
"""A file's ``(md5_hex, sha256_hex)``."""


def digests_of(data: bytes) -> Digests:
    """Both digests of the bytes (hashlib lets other threads run while it reads large inputs)."""
    return md5_hex(data), sha256_hex(data)
