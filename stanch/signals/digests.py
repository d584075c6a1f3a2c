"""Exact digests of a file's bytes: they match only byte-for-byte copies, but they never false-match."""

from __future__ import annotations

import hashlib


def md5_hex(data: bytes) -> str:
    """MD5 of the bytes, as hex: still what many partner lists (and PhotoDNA-less platforms) exchange."""
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def sha256_hex(data: bytes) -> str:
    """SHA-256 of the bytes, as hex: the exact-copy signal to prefer where both sides have it."""
    return hashlib.sha256(data).hexdigest()
