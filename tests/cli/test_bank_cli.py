"""``stanch bank``: create, list, add media, import, export, remove, through the real command."""

from __future__ import annotations

import json

import numpy as np
from PIL import Image
from typer.testing import CliRunner

from stanch.cli import app

H1, H2 = "1" * 64, "2" * 64


def _run(db_url: str, *args: str, input: str | None = None):
    return CliRunner().invoke(app, list(args), env={"STANCH_DATABASE_URL": db_url}, input=input)


def _lines(result) -> list[dict]:
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def test_create_import_export_remove(db_url, tmp_path) -> None:
    created = _run(db_url, "bank", "create", "ncii", "--threshold", "25", "--trust", "review")
    assert created.exit_code == 0, created.output
    assert _lines(created)[0]["threshold"] == 25
    hashes = tmp_path / "partner.txt"
    hashes.write_text(f"{H1}\n{H2}\n")
    imported = _run(db_url, "bank", "import", "ncii", str(hashes), "--trust", "block")
    assert imported.exit_code == 0, imported.output
    summary = _lines(imported)[0]
    assert (summary["added"], summary["source"], summary["trust"], summary["format"]) == (
        2,
        "partner.txt",
        "block",
        "pdq",
    )

    exported = _lines(_run(db_url, "bank", "export", "ncii"))
    assert [(r["pdq"], r["source"], r["trust"]) for r in exported] == [
        (H1, "partner.txt", "block"),
        (H2, "partner.txt", "block"),
    ]
    removed = _run(db_url, "bank", "remove", "ncii", str(exported[0]["id"]))
    assert removed.exit_code == 0 and _lines(removed)[0]["withdrawn_at"]
    assert [r["pdq"] for r in _lines(_run(db_url, "bank", "export", "ncii"))] == [H2]
    pdq_export = _run(db_url, "bank", "export", "ncii", "--format", "pdq")
    assert pdq_export.stdout.split() == [H2]
    listed = _lines(_run(db_url, "bank", "list"))
    assert [(b["name"], b["entries"], b["trust"]) for b in listed] == [("ncii", 1, "review")]


def test_import_reads_stdin_and_quarantines_a_bad_line(db_url, tmp_path) -> None:
    _run(db_url, "bank", "create", "ncii")
    bad = tmp_path / "bad.txt"
    bad.write_text(f"{H1}\nnope\n{H2}\n")
    partial = _run(db_url, "bank", "import", "ncii", str(bad))
    assert partial.exit_code == 1
    assert "quarantined: line 2: " in partial.stderr and "1 records were quarantined" in partial.stderr
    assert (_lines(partial)[0]["added"], _lines(partial)[0]["quarantined"]) == (2, 1)
    assert [r["pdq"] for r in _lines(_run(db_url, "bank", "export", "ncii"))] == [H1, H2]
    piped = _run(db_url, "bank", "import", "ncii", "-", "--source", "piped", input=f"{H1}\n")
    assert piped.exit_code == 0 and _lines(piped)[0]["source"] == "piped"


def test_errors_are_clear(db_url, tmp_path) -> None:
    missing = _run(db_url, "bank", "import", "nope", str(tmp_path / "x.txt"))
    assert missing.exit_code == 1
    assert _run(db_url, "bank", "export", "nope").exit_code == 1
    _run(db_url, "bank", "create", "ncii")
    again = _run(db_url, "bank", "create", "ncii")
    assert again.exit_code == 1 and "already exists" in again.stderr
    assert "no entry 99" in _run(db_url, "bank", "remove", "ncii", "99").stderr
    unreadable = _run(db_url, "bank", "import", "ncii", str(tmp_path / "absent.txt"))
    assert unreadable.exit_code == 1 and "cannot read" in unreadable.stderr
    wrong_format = _run(db_url, "bank", "import", "ncii", "x", "--format", "csv")
    assert wrong_format.exit_code == 2 and "--format" in wrong_format.stderr  # a usage error, as Click's


def test_add_hashes_media_with_file_names_as_sources(db_url, tmp_path) -> None:
    rng = np.random.default_rng(3)
    folder = tmp_path / "photos"
    folder.mkdir()
    for name in ("one.png", "two.png"):
        pixels = (rng.random((64, 64, 3)) * 255).astype(np.uint8).repeat(4, axis=0).repeat(4, axis=1)
        Image.fromarray(pixels).save(folder / name)
    _run(db_url, "bank", "create", "ncii")
    added = _run(db_url, "bank", "add", "ncii", str(folder))
    assert added.exit_code == 0, added.output
    assert [r["source"] for r in _lines(added)] == ["one.png", "two.png"]
    exported = _lines(_run(db_url, "bank", "export", "ncii"))
    assert [len(r["pdq_dihedral"]) for r in exported] == [8, 8]
    for record in exported:  # hashed for a bank: the spare windows and turned pictures are stored
        names = {v["name"] for v in record["pdq_variants"]}
        assert {"mirrored", "flipped", "rotated90"} <= names and any(n.startswith("spare") for n in names)

    (folder / "notes.txt").write_text("not media")
    refused = _run(db_url, "bank", "add", "ncii", str(folder))
    assert refused.exit_code == 1 and "notes.txt" in refused.stderr and "nothing was added" in refused.stderr
    assert len(_lines(_run(db_url, "bank", "export", "ncii"))) == 2


def test_a_list_hashed_for_a_bank_is_imported_with_its_bank_only_views(db_url, tmp_path) -> None:
    rng = np.random.default_rng(4)
    pixels = (rng.random((64, 64, 3)) * 255).astype(np.uint8).repeat(4, axis=0).repeat(4, axis=1)
    Image.fromarray(pixels).save(tmp_path / "one.png")
    hashed = CliRunner().invoke(app, ["hash", "--for", "bank", str(tmp_path / "one.png")])
    assert hashed.exit_code == 0, hashed.output
    (tmp_path / "list.jsonl").write_text(hashed.stdout)
    _run(db_url, "bank", "create", "ncii")
    imported = _run(db_url, "bank", "import", "ncii", str(tmp_path / "list.jsonl"))
    assert imported.exit_code == 0, imported.output
    (exported,) = _lines(_run(db_url, "bank", "export", "ncii"))
    assert exported["pdq_variants"] == json.loads(hashed.stdout)["pdq_variants"]
    assert "mirrored" in {v["name"] for v in exported["pdq_variants"]}


def test_export_and_import_round_trip_entries_with_and_without_the_server_views(db_url, tmp_path) -> None:
    """A picture banked now carries the server-only views (levelled.py: part, tilted); one banked before
    them does not. Both go out with ``bank export`` and come back with ``bank import`` unchanged."""
    rng = np.random.default_rng(5)
    pixels = (rng.random((48, 64, 3)) * 255).astype(np.uint8).repeat(6, axis=0).repeat(6, axis=1)
    Image.fromarray(pixels).save(tmp_path / "new.png")
    hashed = CliRunner().invoke(app, ["hash", "--for", "bank", str(tmp_path / "new.png")])
    assert hashed.exit_code == 0, hashed.output
    new = json.loads(hashed.stdout)
    assert {"part1", "tilted+3", "tilted-6"} <= {v["name"] for v in new["pdq_variants"]}
    old = dict(new, md5="0" * 32, sha256="0" * 64, pdq_variants=[
        v for v in new["pdq_variants"] if not v["name"].startswith(("part", "tilted", "levelled"))])
    (tmp_path / "list.jsonl").write_text(json.dumps(new) + "\n" + json.dumps(old) + "\n")
    for bank in ("first", "second"):
        _run(db_url, "bank", "create", bank)
    assert _run(db_url, "bank", "import", "first", str(tmp_path / "list.jsonl")).exit_code == 0
    exported = _run(db_url, "bank", "export", "first")
    (tmp_path / "export.jsonl").write_text(exported.stdout)
    assert _run(db_url, "bank", "import", "second", str(tmp_path / "export.jsonl")).exit_code == 0
    again = _lines(_run(db_url, "bank", "export", "second"))
    assert [r["pdq_variants"] for r in again] == [new["pdq_variants"], old["pdq_variants"]]
