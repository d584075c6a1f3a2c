"""Exporting a bank's active entries as Stanch JSON lines, plain PDQ lines, HMA CSV or pytx signal lines."""

from __future__ import annotations

from typing import TextIO

from sqlalchemy.orm import Session

from stanch.exchange import hma, jsonl, pdq_lines, pytx_lines
from stanch.store import Bank, iter_entries

EXPORT_FORMATS = ("jsonl", "pdq", "hma", "pytx")


def export_bank(session: Session, bank: Bank, out: TextIO, *, format: str = "jsonl") -> tuple[int, int]:
    """Write the bank's active entries to ``out``; returns (entries written, entries the format
    cannot express, e.g. videos in a PDQ list)."""
    entries = iter_entries(session, bank)
    if format == "jsonl":
        return jsonl.write(entries, out)
    if format == "pdq":
        return pdq_lines.write(entries, out)
    if format == "hma":
        return hma.write(entries, out, bank.name)
    if format == "pytx":
        return pytx_lines.write(entries, out)
    raise ValueError(f"unknown export format {format!r}; use one of {', '.join(EXPORT_FORMATS)}")
