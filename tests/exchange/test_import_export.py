"""Hash-list exchange: each format imports, bad lines are quarantined by number while every good one
goes in, StopNCII withdrawals are honoured, and exports read back to the same bank."""

from __future__ import annotations

import io
import json
import re

import pytest

from stanch.exchange import FormatError, detect_format, export_bank, import_lines
from stanch.signals import ImageSignals, PdqVariant
from stanch.store import add_entry, create_bank, entry_from_signals, iter_entries, iter_index_rows

H1, H2, H3 = "1" * 64, "2" * 64, "3" * 64


def _import(database, text: str, **options):
    with database.write() as session:
        bank = create_bank(session, "ncii") if options.pop("create", True) else None
        from stanch.store import get_bank

        bank = bank or get_bank(session, "ncii")
        return import_lines(
            session, bank, io.StringIO(text), source=options.pop("source", "list.txt"), **options
        )


def _entries(database, include_withdrawn=False):
    from stanch.store import get_bank

    with database.read() as session:
        return [
            s.entry
            for s in iter_entries(session, get_bank(session, "ncii"), include_withdrawn=include_withdrawn)
        ]


def test_pdq_lines_import_with_quality_and_names(database) -> None:
    summary = _import(database, f"# partner list\n{H1}\n\n{H2.upper()},87,beach.jpg\n", format="auto")
    assert (summary.format, summary.added, summary.trust) == ("pdq", 2, "block")
    entries = _entries(database)
    assert [(e.pdq.hex(), e.quality, e.source, e.import_id) for e in entries] == [
        (H1, None, "list.txt", summary.import_id),
        (H2, 87, "beach.jpg", summary.import_id),
    ]


def test_reimporting_a_list_adds_nothing_twice(database) -> None:
    _import(database, f"{H1}\n{H2}\n")
    again = _import(database, f"{H1}\n{H2}\n{H3}\n", create=False)
    assert (again.added, again.unchanged) == (1, 2)
    assert len(_entries(database)) == 3


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        (f"{H1}\n{H2}\nnot-a-hash\n", "line 3", "hex"),
        (f"{H1}\n{H2[:-1]}\n", "line 2", "64 hex digits"),
        (f"{H1},101\n", "line 1", "quality"),
    ],
)
def test_bad_pdq_line_is_quarantined_and_the_good_ones_go_in(database, text, line, problem) -> None:
    summary = _import(database, text, format="pdq")
    assert summary.quarantined == 1
    assert summary.reasons[0].startswith(f"{line}: ") and problem in summary.reasons[0]
    good = text.count("\n") - 1
    assert summary.added == good and len(_entries(database)) == good


def test_bad_line_after_many_good_ones_loses_none_of_them(database) -> None:
    good = "".join(f"{i:064x}\n" for i in range(30_050))
    summary = _import(database, good + "zz\n" + f"{H1}\n", format="pdq")
    assert (summary.added, summary.quarantined) == (30_051, 1)
    assert summary.reasons[0].startswith("line 30051: ")
    with database.read() as session:
        assert len(list(iter_index_rows(session))) == 30_051


def test_jsonl_from_stanch_hash_and_partial_records(database) -> None:
    dihedral = [f"{i:064x}" for i in range(1, 9)]
    full = {"path": "/media/a.jpg", "kind": "image", "md5": "a" * 32, "sha256": "b" * 64, "pdq": dihedral[0],
            "quality": 90, "pdq_dihedral": dihedral, "pdq_variants": []}  # fmt: skip
    partial = {"id": 7, "source": "other.png", "pdq": H3, "quality": 75}
    video = {"kind": "video", "md5": "c" * 32}
    text = "\n".join(json.dumps(r) for r in (full, partial, video)) + "\n"
    summary = _import(database, text)
    assert (summary.format, summary.added) == ("jsonl", 3)
    a, other, clip = _entries(database)
    assert (a.source, a.md5, a.external_id) == ("a.jpg", "a" * 32, None)
    assert (other.source, other.external_list, other.external_id) == ("other.png", "list.txt", "7")
    assert (clip.kind, clip.md5, clip.pdq) == ("video", "c" * 32, None)


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ('{"pdq": "12"}', "64 hex digits"),
        ("[1, 2]", "JSON object"),
        ('{"path": "x.jpg", "error": "not an image"}', "could not hash"),
        ('{"kind": "image", "pdq_dihedral": []}', "md5|pdq_dihedral"),
        ("{not json", "not JSON"),
    ],
)
def test_bad_jsonl_line_is_quarantined(database, line, problem) -> None:
    summary = _import(database, json.dumps({"pdq": H1}) + "\n" + line + "\n", format="jsonl")
    assert (summary.added, summary.quarantined) == (1, 1)
    assert summary.reasons[0].startswith("line 2: ")
    assert re.search(problem, summary.reasons[0])


def _stopncii(signal_type: str, value: str, status: str = "Active") -> dict:
    return {"lastModtimestamp": 1700000000, "signalType": signal_type, "hashValue": value,
            "hashStatus": status, "caseNumbers": {"c1": status}, "CSPFeedbacks": []}  # fmt: skip


def test_stopncii_records_add_skip_and_honour_withdrawals(database) -> None:
    page = {"count": 4, "nextPageToken": "", "nextSetTimestamp": 1, "hasMoreRecords": False, "hashRecords": [
        _stopncii("ImagePDQ", H1), _stopncii("ImagePDQ", H2), _stopncii("VideoMD5", "d" * 32),
        _stopncii("VideoTMK", "ab" * 100)]}  # fmt: skip
    first = _import(database, json.dumps(page, indent=2), source="stopncii", trust="review")
    assert (first.format, first.added, first.trust) == ("stopncii", 3, "review")
    assert first.skipped == {"StopNCII VideoTMK records (Stanch cannot match them)": 1}
    entries = {e.external_id: e for e in _entries(database)}
    assert set(entries) == {f"ImagePDQ:{H1}", f"ImagePDQ:{H2}", f"VideoMD5:{'d' * 32}"}
    assert {e.trust for e in entries.values()} == {"review"}

    updates = [_stopncii("ImagePDQ", H1, "Withdrawn"), _stopncii("VideoMD5", "d" * 32, "Deleted"),
               _stopncii("ImagePDQ", H3, "Deleted"), _stopncii("ImagePDQ", H2)]  # fmt: skip
    second = _import(
        database, "".join(json.dumps(r) + "\n" for r in updates), source="stopncii", create=False
    )
    assert (second.withdrawn, second.not_held, second.unchanged, second.added) == (2, 1, 1, 0)
    left = _entries(database)
    assert [e.external_id for e in left] == [f"ImagePDQ:{H2}"]
    reasons = {e.external_id: e.withdrawn_reason for e in _entries(database, include_withdrawn=True)}
    assert reasons[f"ImagePDQ:{H1}"] == "stopncii withdrawn"
    with database.read() as session:
        assert {row[1] for row in iter_index_rows(session)} == {left[0].id}


def test_stopncii_bad_records_are_quarantined_and_the_rest_imported(database) -> None:
    records = [_stopncii("ImagePDQ", H1), {"signalType": "ImagePDQ"}, "not a record",
               _stopncii("ImagePDQ", "0" * 32), _stopncii("ImagePDQ", H2)]  # fmt: skip
    lines = "".join(json.dumps(r) + "\n" for r in records) + "{broken\n"
    summary = _import(database, lines, format="stopncii")
    assert (summary.added, summary.quarantined) == (2, 4)
    assert [reason.split(":")[0] for reason in summary.reasons] == ["line 2", "line 3", "line 4", "line 6"]
    assert "hashValue" in summary.reasons[0] and "JSON object" in summary.reasons[1]
    # ThreatExchange issue #1609: StopNCII served an all-zero 32-digit "PDQ"; it is corrupt, not an MD5
    assert "32 hex digits where a PDQ has 64" in summary.reasons[2]
    assert summary.reasons[3] == "line 6: not JSON"
    assert [e.external_id for e in _entries(database)] == [f"ImagePDQ:{H1}", f"ImagePDQ:{H2}"]


def test_stopncii_page_with_a_bad_record_keeps_the_page(database) -> None:
    page = {"hashRecords": [_stopncii("ImagePDQ", H1), {"hashValue": H2}, _stopncii("ImagePDQ", H3)]}
    summary = _import(database, json.dumps(page, indent=2), format="stopncii")
    assert (summary.added, summary.quarantined, summary.reasons) == (
        2, 1, ['record 2: a StopNCII record needs "signalType" and "hashValue" strings'])


def test_hma_bank_table_csv_and_data_files(database) -> None:
    table = ("bank_name,content_id,signal_type,signal_val\n"
             f"B,1,pdq,{H1}\nB,2,video_md5,{'e' * 32}\nB,2,video_tmk_pdqf,xyz\nB,3,pdq,{H2}\n")  # fmt: skip
    summary = _import(database, table, source="hma")
    assert (summary.format, summary.added, sum(summary.skipped.values())) == ("hma", 3, 1)
    assert [(e.external_id, e.kind) for e in _entries(database)] == [
        ("1", "image"),
        ("2", "video"),
        ("3", "image"),
    ]

    data_file = (
        f"{H3},2880742865368386,2020-07-31T18:47:52+0000,media_priority_pdq_samples media_type_photo\n"
        f"{'f' * 32},3085044528211555,2020-07-31T20:23:47+0000,media_type_video disputed\n"
    )
    more = _import(database, data_file, source="te", create=False)
    assert (more.format, more.added) == ("hma", 2)
    assert [(e.external_id, e.kind, e.md5) for e in _entries(database)[3:]] == [
        ("2880742865368386", "image", None),
        ("3085044528211555", "video", "f" * 32),
    ]


def test_hma_bad_rows_are_quarantined(database) -> None:
    text = f"content_id,signal_type,signal_val\n1,pdq,{H1}\n2,pdq,nothex\n3,pdq\n4,pdq,{H2}\n"
    summary = _import(database, text, format="hma")
    assert (summary.added, summary.quarantined) == (2, 2)
    bad_hash, short_row = sorted(summary.reasons)
    assert bad_hash.startswith("line 3: ") and "64 hex digits" in bad_hash
    assert short_row == "line 4: expected 3 columns, got 2"


def test_export_round_trip_in_every_format(database) -> None:
    dihedral = tuple(f"{i:064x}" for i in range(11, 19))
    signals = ImageSignals("a" * 32, "b" * 64, dihedral[0], 90, dihedral, (PdqVariant("trimmed", H3, 80),))
    _import(database, f"{H1}\n{H2},60,x.jpg\n")
    with database.write() as session:
        from stanch.store import get_bank

        add_entry(session, get_bank(session, "ncii"), entry_from_signals(signals))
    exports = {}
    with database.read() as session:
        from stanch.store import get_bank

        bank = get_bank(session, "ncii")
        for format in ("jsonl", "pdq", "hma"):
            out = io.StringIO()
            assert export_bank(session, bank, out, format=format) == (3, 0)
            exports[format] = out.getvalue()
    records = [json.loads(line) for line in exports["jsonl"].splitlines()]
    assert [r["id"] for r in records] == [1, 2, 3] and records[1]["source"] == "x.jpg"
    assert records[2]["pdq_dihedral"] == list(dihedral) and records[2]["pdq_variants"][0]["pdq"] == H3
    assert exports["pdq"].split() == [H1, H2, dihedral[0]]

    for format, text in exports.items():
        with database.write() as session:
            copy = create_bank(session, f"copy-{format}")
            assert import_lines(session, copy, io.StringIO(text), source="export").added == 3
        with database.read() as session:
            from stanch.store import get_bank

            copied = [s for s in iter_entries(session, get_bank(session, f"copy-{format}"))]
            assert [s.entry.pdq.hex() for s in copied] == [H1, H2, dihedral[0]]
            if format == "jsonl":
                assert [h.role for h in copied[2].hashes][-1] == "trimmed"
                assert copied[2].entry.md5 == "a" * 32


def test_format_detection() -> None:
    assert detect_format([f"{H1}\n"]) == "pdq"
    assert detect_format(["\n", f"{H1},90,a.jpg\n"]) == "pdq"
    assert detect_format(['{"pdq": "x"}\n']) == "jsonl"
    assert detect_format(['{"signalType": "ImagePDQ"}\n']) == "stopncii"
    assert detect_format(["{\n"]) == "stopncii"
    assert detect_format(["content_id,signal_type,signal_val\n"]) == "hma"
    with pytest.raises(FormatError, match="--format"):
        detect_format(["hello\n"])
