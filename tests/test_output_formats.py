"""Outputs never lie (issue 13): a file's contents match its name (``.csv``, ``.json``, ``.jsonl``,
``.parquet``) or ``--format``; a disagreement is a usage error before any decoding; every table
format parses back to the same rows, and Parquet carries the JSON's metadata."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest

from vidscan.cli.main import main
from vidscan.errors import EXIT_OK, EXIT_USAGE
from vidscan.formats import FORMATS, PARQUET_METADATA_KEY, format_for, read_parquet_metadata
from vidscan.synth import Program, Shot, Transition, render

EXTENSIONS = {"csv": ".csv", "json": ".json", "jsonl": ".jsonl", "parquet": ".parquet"}


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> dict[str, Path]:
    """A tiny three-shot video (cuts at frames 20 and 40) and few-shot examples."""
    from vidscan.synth.corpus import write_examples

    folder = tmp_path_factory.mktemp("formats")
    program = Program([Shot("studio", 20, 1), Shot("field", 20, 2), Shot("ad", 20, 3)], [Transition("cut"), Transition("cut")], 96, 64)
    video = folder / "clip.mp4"
    render(program, video)
    write_examples(folder / "examples", per_label=2, width=96, height=64)
    return {"video": video, "examples": folder / "examples"}


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def read_rows(path: Path, fmt: str) -> pd.DataFrame:
    """The rows of a written table, read the way a data user would."""
    if fmt == "csv":
        return pd.read_csv(path)
    if fmt == "jsonl":
        return pd.read_json(path, lines=True)
    if fmt == "parquet":
        return pd.read_parquet(path)
    raw = json.loads(path.read_text())
    return pd.DataFrame(raw["segments"] if "segments" in raw else raw["labels"] if "labels" in raw else raw["hits"])


def assert_same_rows(written: pd.DataFrame, expected: pd.DataFrame) -> None:
    columns = [c for c in expected.columns if c in written.columns]  # JSON segments name the scene "parent"
    assert {"index", "start_frame", "end_frame", "start_s", "end_s", "transition"} <= set(columns)
    assert len(written) == len(expected)
    for column in columns:
        assert written[column].astype(str).tolist() == expected[column].astype(str).tolist(), column


def test_the_formats_table_names_its_extensions() -> None:
    assert set(FORMATS) == set(EXTENSIONS)
    for name, ext in EXTENSIONS.items():
        assert format_for(f"x{ext}", None) == name
        assert format_for(f"X{ext.upper()}", name) == name  # case-insensitive, --format may repeat it
    assert format_for(None, None) == "csv" and format_for("-", None) == "csv"


@pytest.mark.parametrize("fmt", list(EXTENSIONS))
def test_scenes_writes_the_format_its_extension_names(clip, tmp_path, capsys, fmt) -> None:
    out = tmp_path / f"timeline{EXTENSIONS[fmt]}"
    code, _, err = run(capsys, "scenes", str(clip["video"]), "-o", str(out), "-q", "--no-cache")
    assert code == EXIT_OK, err
    reference = tmp_path / "reference.csv"
    assert run(capsys, "scenes", str(clip["video"]), "-o", str(reference), "-q", "--no-cache")[0] == EXIT_OK
    expected = pd.read_csv(reference)
    assert expected["start_frame"].tolist()[:3] == [0, 20, 40]
    rows = read_rows(out, fmt)
    assert_same_rows(rows, expected)
    head = out.read_bytes()[:4]
    assert (head == b"PAR1") == (fmt == "parquet")  # the bytes are what the name says
    if fmt in ("parquet", "csv"):
        assert list(rows.columns) == list(expected.columns)


def test_parquet_keeps_the_csv_dtypes_and_the_json_metadata(clip, tmp_path) -> None:
    import vidscan

    timeline = vidscan.detect_scenes(clip["video"])
    timeline.write(tmp_path / "t.parquet")
    timeline.write(tmp_path / "t.json")
    timeline.write(tmp_path / "t.csv")
    frame = pd.read_parquet(tmp_path / "t.parquet")
    assert frame.equals(pd.read_csv(tmp_path / "t.csv"))
    assert str(frame["start_frame"].dtype) == "int64" and str(frame["start_s"].dtype) == "float64"
    document = json.loads((tmp_path / "t.json").read_text())
    document.pop("segments")
    assert read_parquet_metadata(tmp_path / "t.parquet") == document
    import pyarrow.parquet as pq

    assert PARQUET_METADATA_KEY in pq.read_schema(tmp_path / "t.parquet").metadata


@pytest.mark.parametrize("fmt", list(EXTENSIONS))
def test_classify_writes_its_totals_in_the_timelines_format(clip, tmp_path, capsys, fmt) -> None:
    out = tmp_path / "sub" / f"labels{EXTENSIONS[fmt]}"  # a missing folder is created
    code, _, err = run(capsys, "classify", str(clip["video"]), "--examples", str(clip["examples"]), "--level", "shots",
                       "-o", str(out), "-q", "--no-cache")
    assert code == EXIT_OK, err
    totals = out.with_name(f"labels.totals{EXTENSIONS[fmt]}")
    assert sorted(p.name for p in out.parent.iterdir()) == sorted([out.name, totals.name])
    rows = read_rows(totals, fmt)
    assert list(rows.columns)[:5] == ["label", "seconds", "share", "segments", "longest_s"]
    assert rows["seconds"].sum() == pytest.approx(60 / 25, abs=0.05)
    assert set(read_rows(out, fmt)["label"]) <= {"ad", "game", "commentary"}


def test_search_hits_follow_the_extension(clip, tmp_path, capsys) -> None:
    image = next((clip["examples"] / "ad").iterdir())
    out = tmp_path / "hits.parquet"
    code, _, err = run(capsys, "search", str(clip["video"]), "--image", str(image), "--embedder", "features", "-o", str(out),
                       "-q", "--no-cache")
    assert code == EXIT_OK, err
    hits = pd.read_parquet(out)
    assert list(hits.columns)[:6] == ["rank", "file", "frame", "time_s", "timecode", "score"] and len(hits) >= 1


@pytest.mark.parametrize("fmt", ["csv", "json", "jsonl"])
def test_text_formats_go_to_stdout(clip, capsys, fmt) -> None:
    code, out, err = run(capsys, "scenes", str(clip["video"]), "-o", "-", "--format", fmt, "-q", "--no-cache")
    assert code == EXIT_OK, err
    if fmt == "csv":
        rows = pd.read_csv(io.StringIO(out))
    elif fmt == "jsonl":
        rows = pd.read_json(io.StringIO(out), lines=True)
    else:
        rows = pd.DataFrame(json.loads(out)["segments"])
    assert rows["start_frame"].tolist()[:3] == [0, 20, 40]


def _no_decoding(monkeypatch) -> None:
    import importlib

    def boom(*a, **k):
        raise AssertionError("decoding started before the output format was checked")

    for module, name in (("vidscan.pipeline", "detect_scenes"), ("vidscan.classification", "classify"), ("vidscan.search", "search")):
        monkeypatch.setattr(importlib.import_module(module), name, boom)


@pytest.mark.parametrize("command, args, says", [
    ("scenes", ["-o", "{tmp}/t.parquet", "--format", "csv"], "names parquet output but --format is csv"),
    ("scenes", ["-o", "{tmp}/t.json", "--format", "jsonl"], "names json output but --format is jsonl"),
    ("scenes", ["-o", "{tmp}/t.txt"], "names no output format"),
    ("scenes", ["-o", "{tmp}/timeline"], "names no output format"),
    ("scenes", ["-o", "-", "--format", "parquet"], "cannot go to standard output"),
    ("classify", ["-o", "{tmp}/l.csv", "--format", "parquet"], "names csv output but --format is parquet"),
    ("classify", ["-o", "{tmp}/l.xlsx"], "names no output format"),
    ("search", ["-o", "{tmp}/h.csv", "--format", "json"], "names csv output but --format is json"),
], ids=["scenes-mismatch", "scenes-json-jsonl", "scenes-unknown", "scenes-no-ext", "scenes-parquet-stdout", "classify-mismatch",
        "classify-unknown", "search-mismatch"])
def test_a_name_and_format_that_disagree_are_one_usage_error_before_decoding(clip, tmp_path, capsys, monkeypatch, command, args, says):
    _no_decoding(monkeypatch)
    args = [a.format(tmp=tmp_path) for a in args]
    base = {"scenes": ["scenes", str(clip["video"])],
            "classify": ["classify", str(clip["video"]), "--examples", str(clip["examples"])],
            "search": ["search", str(clip["video"]), "--image", str(next((clip["examples"] / "ad").iterdir())), "--embedder", "features"]}
    code, out, err = run(capsys, *base[command], *args, "-q", "--no-cache")
    assert code == EXIT_USAGE
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("vidscan: error: ") and says in lines[0], err
    assert list(tmp_path.iterdir()) == [] and out == ""


def test_an_explicit_format_names_a_file_without_a_known_extension(clip, tmp_path, capsys) -> None:
    out = tmp_path / "timeline.txt"
    code, _, err = run(capsys, "scenes", str(clip["video"]), "-o", str(out), "--format", "jsonl", "-q", "--no-cache")
    assert code == EXIT_OK, err
    assert pd.read_json(out, lines=True)["start_frame"].tolist()[:3] == [0, 20, 40]


def test_parquet_without_pyarrow_says_what_to_install(monkeypatch) -> None:
    import importlib.util

    from vidscan.errors import UsageError

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "pyarrow" else real(name, *a))
    with pytest.raises(UsageError, match=r"pip install 'vidscan\[parquet\]'"):
        format_for("t.parquet", None)


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_batch_writes_every_table_format(clip, tmp_path, capsys, fmt) -> None:
    archive = tmp_path / "archive"
    archive.mkdir()
    (archive / "a.mp4").write_bytes(clip["video"].read_bytes())
    code, _, err = run(capsys, "batch", str(archive), "--out", str(tmp_path / "out"), "--examples", str(clip["examples"]),
                       "--format", fmt, "--workers", "1", "-q", "--no-cache")
    assert code == EXIT_OK, err
    folder = next((tmp_path / "out" / "videos").iterdir())
    assert {f"timeline.{fmt}", f"totals.{fmt}"} <= {p.name for p in folder.iterdir()}
    timeline = read_rows(folder / f"timeline.{fmt}", fmt)  # scene level: the three shots may be one scene
    assert timeline["start_frame"].iloc[0] == 0 and timeline["end_frame"].iloc[-1] == 60 and "label" in timeline
    assert read_rows(folder / f"totals.{fmt}", fmt)["seconds"].sum() == pytest.approx(60 / 25, abs=0.05)


def test_every_output_help_says_missing_folders_are_created() -> None:
    from click.testing import CliRunner

    from vidscan.cli.main import cli

    for command, option in (("scenes", "--output"), ("classify", "--output"), ("search", "--output"), ("search", "--thumbnails"),
                            ("batch", "--out"), ("collect", "--out"), ("scenes", "--report"), ("bench", "--json")):
        text = " ".join(CliRunner().invoke(cli, [command, "--help"], terminal_width=400).output.split())
        options = text[text.index("Options:"):]
        section = options[options.index(option):]
        assert "Missing folders are created." in section[:400], (command, option)
