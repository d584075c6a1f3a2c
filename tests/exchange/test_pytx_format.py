"""python-threatexchange's signal files round-trip with pytx itself: what Stanch exports, pytx's
local-file exchange reads; what pytx writes (its PDQ hasher's hash, in the line ``threatexchange hash``
prints), Stanch imports without being told the format."""

from __future__ import annotations

import io
import json
from pathlib import Path

from threatexchange.exchanges.impl.file_api import FileCollaborationConfig, LocalFileSignalExchangeAPI
from threatexchange.signal_type.md5 import VideoMD5Signal
from threatexchange.signal_type.pdq.signal import PdqSignal

from stanch.exchange import export_bank, import_lines
from stanch.store import create_bank, get_bank, iter_entries
from tests.api.conftest import encoded, picture

H1, H2 = "1" * 64, "2" * 64
MD5 = "ab" * 16
FRAMES = [f"{'3' * 64},90,0.000", f"{'4' * 64},85,1.000"]


def _pytx_reads(path: Path) -> dict[str, set[str]]:
    """What pytx's file exchange fetches from ``path``: signal-type name -> signals."""
    config = FileCollaborationConfig(name="STANCH", api=LocalFileSignalExchangeAPI.get_name(), enabled=True,
                                     filename=str(path))
    api = LocalFileSignalExchangeAPI.for_collab(config)
    fetched: dict[str, set[str]] = {}
    for delta in api.fetch_iter([PdqSignal, VideoMD5Signal], None):
        by_type = api.naive_convert_to_signal_type([PdqSignal, VideoMD5Signal], config, delta.updates)
        for signal_type, signals in by_type.items():
            fetched.setdefault(signal_type.get_name(), set()).update(signals)
    return fetched


def _import(database, text: str, bank: str = "ncii"):
    with database.write() as session:
        return import_lines(session, create_bank(session, bank), io.StringIO(text), source="pytx.txt")


def _export(database, bank: str = "ncii") -> str:
    out = io.StringIO()
    with database.read() as session:
        export_bank(session, get_bank(session, bank), out, format="pytx")
    return out.getvalue()


def test_pytx_lines_are_sniffed_imported_and_skipped_by_type(database) -> None:
    text = (f"pdq {H1}\npdq {H2.upper()}\nvideo_md5 {MD5}\nvpdq {json.dumps(FRAMES)}\n"
            "url https://example.com/x\npdq 1234\n")  # fmt: skip
    summary = _import(database, text)
    assert (summary.format, summary.added, summary.quarantined) == ("pytx", 4, 1)
    assert summary.skipped == {"pytx url signals (Stanch cannot match them)": 1}
    assert summary.reasons[0].startswith("line 6: pdq: ")
    with database.read() as session:
        stored = list(iter_entries(session, get_bank(session, "ncii")))
    assert [(s.entry.kind, s.entry.pdq.hex() if s.entry.pdq else s.entry.md5) for s in stored[:3]] == [
        ("image", H1), ("image", H2), ("video", MD5)]  # fmt: skip
    frames = [(f.pdq.hex(), f.quality, f.ts) for f in stored[3].frames]
    assert frames == [("3" * 64, 90, 0.0), ("4" * 64, 85, 1.0)]
    again = _import_more(database, text)
    assert (again.added, again.unchanged) == (0, 4)


def _import_more(database, text: str):
    with database.write() as session:
        return import_lines(session, get_bank(session, "ncii"), io.StringIO(text), source="pytx.txt")


def test_what_stanch_exports_pytx_file_exchange_reads(database, tmp_path) -> None:
    _import(database, f"pdq {H1}\nvideo_md5 {MD5}\nvpdq {json.dumps(FRAMES)}\n")
    exported = tmp_path / "stanch.txt"
    exported.write_text(_export(database))
    assert _pytx_reads(exported) == {"pdq": {H1}, "video_md5": {MD5}}  # pytx installs vpdq separately
    assert f"vpdq {json.dumps(FRAMES)}" in exported.read_text().splitlines()


def test_what_pytx_writes_stanch_imports(database, tmp_path) -> None:
    media = tmp_path / "photo.png"
    media.write_bytes(encoded(picture(5)))
    pytx_pdq = PdqSignal.hash_from_file(media)
    written = tmp_path / "pytx.txt"
    # `threatexchange hash photo` prints "<name> <hash>"; the file exchange's report_opinion appends the
    # same shape but cannot run in pytx 1.2 (it opens the file with mode "wta", which Python refuses),
    # so the second line is written here exactly as that method formats it.
    written.write_text(f"{PdqSignal.get_name()} {pytx_pdq}\n{VideoMD5Signal.get_name()} {MD5}\n")
    assert _pytx_reads(written) == {"pdq": {pytx_pdq}, "video_md5": {MD5}}
    summary = _import(database, written.read_text())
    assert (summary.format, summary.added, summary.quarantined) == ("pytx", 2, 0)
    assert _export(database).splitlines() == [f"pdq {pytx_pdq}", f"video_md5 {MD5}"]
