"""``stanch hash``: DESIGN.md's contract, driven through the Typer app."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import get_args

import pytest
from typer.testing import CliRunner

from stanch.cli import app, load_command
from stanch.cli import hash as hash_module
from stanch.cli.hash import PROGRESS_MIN_FILES, _with_progress
from stanch.files import read_media_file
from stanch.signals import ImageSignals, Limits, MediaError, signals_from_record
from stanch.signals.robust import _BANK_ONLY, query_hashes
from tests.signals.media_factory import encoded, picture, video

runner = CliRunner()


@pytest.fixture
def media(tmp_path: Path) -> Path:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "photo.jpg").write_bytes(encoded(picture(seed=1), "JPEG"))
    (tmp_path / "b" / "clip.mp4").write_bytes(video(seconds=1, fps=4))
    (tmp_path / "a.png").write_bytes(encoded(picture(seed=2), "PNG"))
    (tmp_path / "notes.txt").write_text("not media\n")
    return tmp_path


def _lines(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines()]


def test_folder_is_recursed_in_sorted_order_with_an_error_line(media: Path) -> None:
    result = runner.invoke(app, ["hash", str(media)])
    lines = _lines(result.stdout)
    assert [Path(line["path"]).relative_to(media).as_posix() for line in lines] == [
        "a.png", "b/clip.mp4", "b/photo.jpg", "notes.txt"]
    assert [line.get("kind") for line in lines] == ["image", "video", "image", None]
    assert "not a supported image or video" in lines[3]["error"]
    assert result.exit_code == 1
    for line in lines[:3]:
        signals_from_record(line)  # every record is valid input for bank import


def test_image_line_holds_the_contract_fields(media: Path) -> None:
    result = runner.invoke(app, ["hash", str(media / "a.png")])
    assert result.exit_code == 0
    (line,) = _lines(result.stdout)
    assert {"path", "kind", "md5", "sha256", "pdq", "quality", "pdq_dihedral"} <= set(line)
    assert len(line["pdq_dihedral"]) == 8


def test_video_sampling_option(media: Path) -> None:
    dense = _lines(runner.invoke(app, ["hash", str(media / "b" / "clip.mp4")]).stdout)[0]
    clip = str(media / "b" / "clip.mp4")
    sparse = _lines(runner.invoke(app, ["hash", "--seconds-per-hash", "0.5", clip]).stdout)[0]
    assert {"path", "kind", "md5", "sha256", "vpdq", "duration"} <= set(dense)
    assert [f["ts"] for f in dense["vpdq"]] == [0.0, 0.25, 0.5, 0.75]
    assert [f["ts"] for f in sparse["vpdq"]] == [0.0, 0.5]


def test_missing_file_is_an_error_line(media: Path) -> None:
    result = runner.invoke(app, ["hash", str(media / "a.png"), str(media / "gone.jpg")])
    lines = _lines(result.stdout)
    assert lines[0]["kind"] == "image"
    assert lines[1] == {"path": str(media / "gone.jpg"),
                        "error": "cannot read the file: No such file or directory"}
    assert result.exit_code == 1


def test_workers_give_the_same_lines_in_the_same_order(media: Path) -> None:
    for index in range(6):
        (media / f"c{index}.jpg").write_bytes(encoded(picture(seed=10 + index), "JPEG"))
    single = runner.invoke(app, ["hash", "--workers", "1", str(media)])
    pooled = runner.invoke(app, ["hash", "--workers", "2", str(media)])
    assert pooled.stdout == single.stdout
    assert pooled.exit_code == single.exit_code == 1


def test_default_uses_every_core_only_for_enough_bytes(media: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda _: {0, 1}, raising=False)
    files = sorted(p for p in media.rglob("*") if p.is_file())
    size = sum(p.stat().st_size for p in files)
    monkeypatch.setattr(hash_module, "PARALLEL_MIN_BYTES", size + 1)
    assert hash_module.auto_workers(files) == 1
    monkeypatch.setattr(hash_module, "PARALLEL_MIN_BYTES", size)
    assert hash_module.auto_workers(files) == 2
    assert hash_module.auto_workers(files[:1]) == 1
    pooled = runner.invoke(app, ["hash", str(media)])  # the default, now pooled: same lines, same order
    single = runner.invoke(app, ["hash", "--workers", "1", str(media)])
    assert pooled.stdout == single.stdout and pooled.exit_code == single.exit_code


def test_limits_are_options(media: Path) -> None:
    result = runner.invoke(app, ["hash", "--max-megapixels", "0.01", str(media / "a.png")])
    assert "over the limit of 10,000 pixels" in _lines(result.stdout)[0]["error"]
    result = runner.invoke(app, ["hash", "--max-video-seconds", "0.5", str(media / "b" / "clip.mp4")])
    assert "longer than the limit of 0.5 seconds" in _lines(result.stdout)[0]["error"]
    assert result.exit_code == 1


def test_oversized_file_is_refused_without_reading_it(tmp_path: Path) -> None:
    huge = tmp_path / "huge.jpg"
    with huge.open("wb") as handle:
        handle.truncate(8 * 1024**3)  # sparse: 8 GiB declared, nothing stored or read
    with pytest.raises(MediaError, match="over the size limit"):
        read_media_file(huge, Limits())
    result = runner.invoke(app, ["hash", str(huge)])
    assert "over the size limit" in _lines(result.stdout)[0]["error"]


def test_a_pipe_is_refused_rather_than_read_forever(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(MediaError, match="not a regular file"):
        read_media_file(fifo, Limits())


def test_progress_bar_passes_every_line_through(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stderr.isatty", lambda: True)
    lines = [{"path": str(i)} for i in range(PROGRESS_MIN_FILES)]
    assert list(_with_progress(iter(lines), len(lines))) == lines


def test_progress_bar_leaves_stdout_to_the_json_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stderr.isatty", lambda: True)
    stdout = sys.stdout
    lines = iter([{"path": str(i)} for i in range(PROGRESS_MIN_FILES)])
    for _ in _with_progress(lines, PROGRESS_MIN_FILES):
        assert sys.stdout is stdout  # redirected output would go to the terminal, not a file


def test_for_bank_adds_the_bank_only_views_and_keeps_what_a_query_looks_up(media: Path) -> None:
    photo = str(media / "b" / "photo.jpg")
    query = signals_from_record(_lines(runner.invoke(app, ["hash", photo]).stdout)[0])
    bank = signals_from_record(_lines(runner.invoke(app, ["hash", "--for", "bank", photo]).stdout)[0])
    assert isinstance(query, ImageSignals) and isinstance(bank, ImageSignals)
    assert not [v for v in query.variants if v.name.startswith(_BANK_ONLY)]
    assert {"mirrored", "rotated270"} <= {v.name for v in bank.variants}
    assert query_hashes(query) == query_hashes(bank)


def test_for_takes_query_or_bank_only(media: Path) -> None:
    result = runner.invoke(app, ["hash", "--for", "banks", str(media / "a.png")])
    assert result.exit_code == 2 and "'banks' is not one of" in result.output


def _console(args: list[str], *, lean: bool) -> subprocess.CompletedProcess[str]:
    """``stanch ARGS`` in a fresh Python: through ``main`` (lean parser first) or straight to Typer."""
    entry = "main()" if lean else "root.app()"
    code = f"import sys\nsys.argv = ['stanch', *{args!r}]\nfrom stanch.cli import main, root\n{entry}"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)


@pytest.mark.parametrize("args", [
    ["--workers", "2", "--for", "bank", "{media}"],
    ["--seconds-per-hash=1", "--max-megapixels", "0.01", "{media}/b", "--", "{media}/a.png"],
    ["-w", "1", "--max-video-seconds", "0.5", "{media}/b/clip.mp4", "{media}/missing.jpg"],
])
def test_the_lean_parser_prints_what_typer_prints(media: Path, args: list[str]) -> None:
    args = ["hash", *(a.format(media=media) for a in args)]
    lean, typer_run = _console(args, lean=True), _console(args, lean=False)
    assert (lean.stdout, lean.stderr, lean.returncode) == (typer_run.stdout, typer_run.stderr,
                                                          typer_run.returncode)
    assert lean.stdout.count("\n") >= 2


def test_stanch_hash_loads_neither_typer_nor_click_nor_pydantic(media: Path) -> None:
    probe = (f"import sys\nsys.argv = ['stanch', 'hash', {str(media)!r}]\nfrom stanch.cli import main\n"
             "try:\n    main()\nexcept SystemExit:\n    pass\n"
             "print('loaded:', *sorted({m.split('.')[0] for m in sys.modules} "
             "& {'typer', 'click', 'pydantic', 'rich', 'sqlalchemy'}))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.rpartition("loaded:")[2].split() == []


NOT_SURE = [
    ["hash"], ["hash", "--help"], ["hash", "-w4", "x"], ["hash", "--workers", "-1", "x"],
    ["hash", "--workers", "1.5", "x"], ["hash", "--for", "banks", "x"], ["hash", "--max-file-mb", "0", "x"],
    ["hash", "--seconds-per-hash", "nan", "x"], ["hash", "-w", " 1", "x"], ["hash", "-w", "1_0", "x"],
    ["hash", "--max-file-mb", "1e3", "x"], ["hash", "x", "--workers"], ["hash", "--unknown", "x"],
    ["hash", "-w=2", "x"], ["--version"], ["match", "x"],
]


@pytest.mark.parametrize("args", NOT_SURE)
def test_what_the_lean_parser_is_not_sure_of_goes_to_typer(args: list[str]) -> None:
    assert hash_module.lean_arguments(args) is None


def test_the_lean_parser_reads_options_as_click_does() -> None:
    paths, options = hash_module.lean_arguments(
        ["hash", "a", "--workers=3", "-", "--for", "bank", "-w", "2", "--", "--max-file-mb", "b"]) or ([], {})
    assert paths == [Path("a"), Path("-"), Path("--max-file-mb"), Path("b")]
    assert options == {**hash_module.DEFAULTS, "workers": 2, "purpose": "bank"}


def test_the_lean_parser_knows_every_option_of_the_typer_command() -> None:
    command = load_command("hash")
    declared = {}
    for param in command.params:
        if param.param_type_name == "option":
            kind = param.type_descriptor.annotation  # type: ignore[attr-defined]
            kind = get_args(kind) if get_args(kind) else kind
            for flag in param.opts:
                declared[flag] = (param.name, kind, param.default, param.min)  # type: ignore[attr-defined]
    lean = {flag: (name, kind, hash_module.DEFAULTS[name], least) for flag, (name, kind, least)
            in hash_module.HASH_OPTIONS.items()}
    assert lean == declared


def test_threads_give_the_same_lines_in_the_same_order(media: Path) -> None:
    files = sorted(p for p in media.rglob("*") if p.is_file())
    assert list(hash_module.hash_files(files, threads=2)) == list(hash_module.hash_files(files))


def test_files_read_ahead_give_the_same_lines_and_errors(media: Path, tmp_path: Path) -> None:
    """A file refused or gone when it was read ahead is read again, and refused in the usual words."""
    (media / "big.jpg").write_bytes(encoded(picture(seed=3), "JPEG") + b"\0" * 50_000)
    os.mkfifo(media / "pipe")
    files = [*sorted(p for p in media.rglob("*") if p.is_file() or p.is_fifo()), media / "gone.jpg"]
    limits = Limits(max_bytes=40_000)
    ahead = hash_module.ReadAhead(files, limits.max_bytes)
    early = list(hash_module.hash_files(files, threads=2, limits=limits, ahead=ahead))
    assert early == list(hash_module.hash_files(files, limits=limits))
    errors = {Path(line["path"]).name: line["error"] for line in early if "error" in line}
    assert "over the size limit of 40,000 bytes" in errors["big.jpg"]
    assert errors["pipe"] == "not a regular file"
    assert "cannot read the file" in errors["gone.jpg"]
    assert [f.result() for f in ahead.futures if f.result() is None] and sum(
        f.result() is not None for f in ahead.futures) >= 3


def test_digests_handed_in_are_the_records(media: Path) -> None:
    from stanch.digests import digests_of
    from stanch.signals import hash_media

    data = (media / "b" / "photo.jpg").read_bytes()
    given = hash_media(data, digests=digests_of(data))
    assert given == hash_media(data)
    assert hash_media(data, digests=("m", "s")).md5 == "m"  # taken as they are: the caller's promise


def test_stanch_hash_reads_ahead_before_numpy_loads(media: Path) -> None:
    """In threads (a small job), the reading and digests start before the hashing code is imported."""
    code = ("import sys\nimport stanch.cli.hash as h\nseen = []\nstart = h.ReadAhead.__init__\n"
            "def init(self, files, max_bytes):\n    seen.append('numpy' in sys.modules)\n"
            "    start(self, files, max_bytes)\n"
            "h.ReadAhead.__init__ = init\nh.os.sched_getaffinity = lambda pid: {0, 1}\n"
            "h.run_hash([__import__('pathlib').Path(sys.argv[1])])\nprint(seen, file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", code, str(media)], capture_output=True, text=True,
                          check=False)
    assert done.stderr.strip().splitlines()[-1] == "[False]"
    assert len(done.stdout.splitlines()) == 4
