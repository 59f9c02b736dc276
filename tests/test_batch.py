"""vidscan batch: inputs, output naming and safety, failures and exit codes, resume after SIGKILL.

Everything runs on a generated mini-archive of 160x90 videos a few seconds long.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import run_ffmpeg
from vidscan.inputs import InputVideo, discover_inputs
from vidscan.batch.manifest import MANIFEST_NAME, BatchLock, Manifest
from vidscan.batch.naming import inside, output_name, readable_part
from vidscan.cli.main import main
from vidscan.errors import EXIT_INPUT, EXIT_OK, EXIT_OUTPUT, EXIT_PARTIAL, EXIT_USAGE, OutputError, UsageError
from vidscan.synth import Program, Shot, Transition, render

ROOT = Path(__file__).resolve().parent.parent
LOOKS = ["bars", "testsrc", "gradients", "mandelbrot", "cells", "studio", "field", "ad"]


def program(seed: int, shots: int = 3, frames: int = 33) -> Program:
    """``shots`` clearly different shots joined by cuts: the batch should find exactly ``shots`` segments."""
    chosen = [Shot(LOOKS[(seed + k) % len(LOOKS)], frames, seed=seed * 10 + k) for k in range(shots)]
    return Program(chosen, [Transition("cut")] * (shots - 1), width=160, height=90, fps=25)


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Path:
    """a/match.mp4 and b/match.mp4 (same name, different videos), c/ep1.mkv, a corrupt file,
    an audio-only file, and things a folder walk must skip (hidden file, sidecar text)."""
    root = tmp_path_factory.mktemp("archive") / "archive"
    render(program(0), root / "a" / "match.mp4")
    render(program(3), root / "b" / "match.mp4")
    render(program(5, shots=2), root / "c" / "ep1.mkv")
    (root / "corrupt.mp4").write_bytes(bytes(range(256)) * 20)
    run_ffmpeg("-f", "lavfi", "-i", "sine=d=1", "-c:a", "aac", str(root / "audio_only.mp4"))
    (root / "c" / ".hidden.mp4").write_bytes(b"not looked at")
    (root / "c" / "notes.txt").write_text("sidecar, not a video\n")
    return root


def run(capsys, *args: str) -> tuple[int, str]:
    code = main(["batch", *args])
    return code, capsys.readouterr().err


def manifest_rows(out: Path, root: Path) -> dict[str, dict]:
    """The manifest's rows keyed by each video's path relative to ``root``."""
    conn = sqlite3.connect(out / MANIFEST_NAME)
    conn.row_factory = sqlite3.Row
    try:
        return {Path(r["path"]).relative_to(root).as_posix(): dict(r) for r in conn.execute("SELECT * FROM videos")}
    finally:
        conn.close()


def leftovers(out: Path) -> list[str]:
    """Staging folders, set-aside folders and atomic-write temp files anywhere under ``out``."""
    return [str(p) for p in out.rglob("*") if p.name.startswith((".tmp-", ".old-")) or p.name.endswith(".tmp")]


# -- inputs and naming ---------------------------------------------------------------------

def test_inputs_from_folders_globs_and_list_files(archive, tmp_path):
    videos = discover_inputs([str(archive)])
    names = sorted(Path(v.path).relative_to(archive).as_posix() for v in videos)
    assert names == ["a/match.mp4", "audio_only.mp4", "b/match.mp4", "c/ep1.mkv", "corrupt.mp4"]
    assert len(discover_inputs([str(archive / "**" / "*.mp4")])) == 4
    listing = tmp_path / "paths.txt"
    listing.write_text(f"# the two matches, one twice\n{archive}/a/match.mp4\n\n{os.path.relpath(archive / 'b', tmp_path)}\n{archive}/a/match.mp4\n"
                       f"{tmp_path}/gone.mp4\n")
    listed = discover_inputs([str(listing), str(archive / "a" / "match.mp4")])
    assert [Path(v.path).name for v in listed] == ["match.mp4", "match.mp4", "gone.mp4"]  # de-duplicated; a missing entry is kept
    with pytest.raises(UsageError, match="matches no files"):
        discover_inputs([str(archive / "*.nothing")])


def test_output_names_are_unique_and_cannot_escape(tmp_path):
    a = InputVideo("/x/a/match.mp4", "/x/a/match.mp4", "arch/a/match.mp4")
    b = InputVideo("/x/b/match.mp4", "/x/b/match.mp4", "arch/b/match.mp4")
    assert output_name(a) != output_name(b) and output_name(a).startswith("arch__a__match-")
    for rel in ["../../etc/passwd", "/etc/passwd", "..", ".", "", "a/../../b", "..\\..\\win", ".hidden.mp4", "x/\0y", "名前 (1).mp4"]:
        name = output_name(InputVideo("/p", "/p", rel))
        assert "/" not in name and "\\" not in name and not name.startswith(".") and ".." not in name.replace("...", "")
        assert inside(tmp_path, name).parent == tmp_path
    assert readable_part("../Archive 2024/match.final.mp4") == "Archive_2024__match.final"
    for bad in ["..", "../x", "/abs", "a/b", ""]:
        with pytest.raises(OutputError):
            inside(tmp_path, bad)


# -- a whole batch: outputs, failures, exit code ---------------------------------------------

@pytest.fixture(scope="module")
def first_run(archive, tmp_path_factory) -> tuple[Path, int]:
    out = tmp_path_factory.mktemp("batch") / "out"
    code = main(["batch", str(archive), "--out", str(out), "--workers", "2", "--no-cache", "-q"])
    return out, code


def test_batch_writes_outputs_and_records_failures(first_run, archive):
    out, code = first_run
    assert code == EXIT_PARTIAL
    summary = pd.read_csv(out / "summary.csv", keep_default_na=False)
    by_name = {Path(p).relative_to(archive).as_posix(): row for p, row in zip(summary["path"], summary.to_dict("records"))}
    assert by_name["corrupt.mp4"]["status"] == "failed" and "not a readable video" in by_name["corrupt.mp4"]["error"]
    assert by_name["audio_only.mp4"]["status"] == "failed" and "no video stream" in by_name["audio_only.mp4"]["error"]
    expected_segments = {"a/match.mp4": 3, "b/match.mp4": 3, "c/ep1.mkv": 2}
    outputs = set()
    for name, segments in expected_segments.items():
        row = by_name[name]
        assert row["status"] == "done" and row["error"] == ""
        assert int(row["segments"]) == segments
        folder = out / row["output"]
        outputs.add(folder)
        timeline = pd.read_csv(folder / "timeline.csv")
        assert len(timeline) == segments and timeline["end_s"].iloc[-1] == pytest.approx(float(row["duration_s"]))
        data = json.loads((folder / "timeline.json").read_text())
        assert data["video"]["path"] == str(archive / name) and len(data["segments"]) == segments
        assert not (folder / "totals.csv").exists()  # no labels: scenes only
        assert float(row["x_realtime"]) > 0 and float(row["wall_s"]) > 0
    assert len(outputs) == 3  # the two match.mp4 did not collide
    assert all(p.parent == out / "videos" for p in outputs)
    parquet = pd.read_parquet(out / "summary.parquet")
    assert list(parquet["status"]) == list(summary["status"]) and list(parquet["path"]) == list(summary["path"])
    assert leftovers(out) == []


def test_rerun_skips_done_keeps_failed_and_redoes_on_change(first_run, archive, capsys, tmp_path):
    out, _ = first_run
    before = manifest_rows(out, archive)
    match_csv = next((out / "videos").glob("archive__a__match-*")) / "timeline.csv"
    inode = match_csv.stat().st_ino
    code, err = run(capsys, str(archive), "--out", str(out), "--workers", "2", "--no-cache")
    assert code == EXIT_PARTIAL and "3 already up to date" in err and "2 failed in an earlier run, not retried" in err
    assert "this run processed 0" in err
    after = manifest_rows(out, archive)
    assert {k: (r["state"], r["attempts"], r["completions"]) for k, r in after.items()} == \
           {k: (r["state"], r["attempts"], r["completions"]) for k, r in before.items()}
    assert match_csv.stat().st_ino == inode

    # A changed input is redone, and only that one.
    os.utime(archive / "c" / "ep1.mkv", ns=(time.time_ns(), time.time_ns()))
    assert run(capsys, str(archive), "--out", str(out), "--no-cache", "-q")[0] == EXIT_PARTIAL
    after = manifest_rows(out, archive)
    assert after["c/ep1.mkv"]["completions"] == 2 and after["a/match.mp4"]["completions"] == 1

    # Failed files are retried only when asked.
    assert run(capsys, str(archive), "--out", str(out), "--no-cache", "-q", "--retry-failed")[0] == EXIT_PARTIAL
    after = manifest_rows(out, archive)
    assert after["corrupt.mp4"]["attempts"] == 2 and after["a/match.mp4"]["attempts"] == 1

    # Settings that change results redo everything that was done.
    assert run(capsys, str(archive), "--out", str(out), "--no-cache", "-q", "--penalty", "0.5")[0] == EXIT_PARTIAL
    after = manifest_rows(out, archive)
    assert [after[k]["completions"] for k in ("a/match.mp4", "b/match.mp4", "c/ep1.mkv")] == [2, 2, 3]
    assert match_csv.stat().st_ino != inode and after["corrupt.mp4"]["attempts"] == 3
    assert leftovers(out) == []


def test_all_good_is_exit_0_and_timeouts_are_failures(archive, capsys, tmp_path):
    good = [str(archive / "a" / "match.mp4"), str(archive / "c" / "ep1.mkv")]
    code, err = run(capsys, *good, "--out", str(tmp_path / "ok"), "--workers", "1", "--no-cache", "--format", "csv")
    assert code == EXIT_OK and "2 done" in err and "0 failed" in err
    assert sorted(p.name for p in (tmp_path / "ok" / "videos").glob("*/*")) == ["timeline.csv", "timeline.csv"]
    code, err = run(capsys, good[0], "--out", str(tmp_path / "slow"), "--no-cache", "--timeout-per-file", "0.001")
    assert code == EXIT_PARTIAL and "timed out after 0.001 s" in err
    assert err.strip().splitlines()[-1].startswith("vidscan: error: 1 of 1 video failed")
    assert list((tmp_path / "slow" / "videos").iterdir()) == []


def test_coarse_decoding_in_a_batch_is_part_of_the_settings(archive, capsys, tmp_path):
    good = [str(archive / "a" / "match.mp4"), str(archive / "c" / "ep1.mkv")]
    out = tmp_path / "coarse"
    code, err = run(capsys, *good, "--out", str(out), "--workers", "1", "--no-cache", "--format", "json", "--decode", "coarse")
    assert code == EXIT_OK and "2 done" in err
    for timeline in (out / "videos").glob("*/timeline.json"):
        assert json.loads(timeline.read_text())["settings"]["decode"] == "coarse"
    code, err = run(capsys, *good, "--out", str(out), "--workers", "1", "--no-cache", "--format", "json", "--decode", "coarse")
    assert "2 already up to date" in err
    code, err = run(capsys, *good, "--out", str(out), "--workers", "1", "--no-cache", "--format", "json")
    assert code == EXIT_OK and "2 done" in err  # a full decode is other settings: redone


def test_labelled_batch_writes_totals(archive, tmp_path, capsys):
    from vidscan.synth.corpus import write_examples

    examples = tmp_path / "examples"
    write_examples(examples, per_label=3, width=160, height=90)
    config = tmp_path / "batch.toml"
    config.write_text('[classify]\nmerge = true\n[batch]\nworkers = 1\nformats = ["csv"]\n')
    code, _ = run(capsys, str(archive / "b" / "match.mp4"), "--out", str(tmp_path / "out"), "--config", str(config),
                  "--examples", str(examples), "--no-cache", "-q")
    assert code == EXIT_OK
    summary = pd.read_csv(tmp_path / "out" / "summary.csv")
    label_cols = [c for c in summary.columns if c.startswith("seconds_")]
    assert sorted(label_cols) == ["seconds_ad", "seconds_commentary", "seconds_game"]
    assert summary[label_cols].iloc[0].sum() == pytest.approx(summary["duration_s"].iloc[0], abs=1e-3)
    folder = tmp_path / "out" / summary["output"].iloc[0]
    assert sorted(p.name for p in folder.iterdir()) == ["timeline.csv", "totals.csv"]
    totals = pd.read_csv(folder / "totals.csv")
    assert totals["seconds"].sum() == pytest.approx(summary["duration_s"].iloc[0], abs=1e-3)


def test_bad_config_and_busy_output_folder(archive, tmp_path, capsys):
    config = tmp_path / "bad.toml"
    config.write_text("[batch]\nworkerz = 2\n")
    code, err = run(capsys, str(archive), "--out", str(tmp_path / "out"), "--config", str(config))
    assert code == EXIT_USAGE and "workerz" in err and len(err.strip().splitlines()) == 1
    code, err = run(capsys, str(tmp_path / "nothing-here"), "--out", str(tmp_path / "out"))
    assert code == EXIT_INPUT and "no such file or folder" in err
    (tmp_path / "busy").mkdir()
    with BatchLock(tmp_path / "busy"):
        code, err = run(capsys, str(archive / "a" / "match.mp4"), "--out", str(tmp_path / "busy"), "-q")
    assert code == EXIT_USAGE and "another 'vidscan batch' is running" in err


def test_outputs_never_follow_symlinks_out_of_the_folder(archive, tmp_path, capsys):
    video = str(archive / "a" / "match.mp4")
    outside = tmp_path / "outside"
    outside.mkdir()
    out = tmp_path / "out"
    (out / "videos").mkdir(parents=True)
    name = output_name(discover_inputs([video])[0])
    (out / "videos" / name).symlink_to(outside, target_is_directory=True)  # planted: must not be written through
    assert run(capsys, video, "--out", str(out), "--no-cache", "-q")[0] == EXIT_OK
    assert list(outside.iterdir()) == []
    final = out / "videos" / name
    assert final.is_dir() and not final.is_symlink() and (final / "timeline.csv").is_file()

    out2 = tmp_path / "out2"
    out2.mkdir()
    (out2 / "videos").symlink_to(outside, target_is_directory=True)
    code, err = run(capsys, video, "--out", str(out2), "--no-cache", "-q")
    assert code == EXIT_OUTPUT and "symlink" in err and list(outside.iterdir()) == []


def test_stale_running_rows_are_reset(tmp_path):
    m = Manifest(tmp_path / MANIFEST_NAME)
    m.mark_pending("/k", "/k", "k-1")
    m.mark_running("/k", 1, 2, "s", 1)
    m.close()
    m = Manifest(tmp_path / MANIFEST_NAME)
    assert m.reset_stale() == 1 and m.get("/k").state == "pending" and m.get("/k").attempts == 1
    m.close()


# -- resume after SIGKILL --------------------------------------------------------------------

@pytest.fixture(scope="module")
def resume_archive(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("resume") / "shows"
    for i in range(8):
        render(program(i, frames=50), root / f"s{i % 2}" / f"ep{i}.mp4")
    return root


def _done_count(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        conn = sqlite3.connect(db, timeout=1)
        try:
            return conn.execute("SELECT COUNT(*) FROM videos WHERE state = 'done'").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.OperationalError:
        return 0


def _comparable(folder: Path) -> dict[str, object]:
    """A video folder's outputs, minus run timings (which differ between any two runs)."""
    data = json.loads((folder / "timeline.json").read_text())
    data.pop("stats")
    return {"csv": (folder / "timeline.csv").read_bytes(), "json": data}


def test_resume_after_sigkill_finishes_without_redoing(resume_archive, tmp_path, capsys):
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "vidscan.cli.main", "batch", str(resume_archive), "--out", str(out), "--workers", "1", "--no-cache", "-q"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline:
        if _done_count(out / MANIFEST_NAME) >= 1:
            os.killpg(proc.pid, signal.SIGKILL)  # the driver and its workers, mid-batch
            break
        time.sleep(0.02)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, f"the batch ended before it was killed: {proc.stderr.read().decode()[-500:]}"
    proc.stderr.close()

    killed = manifest_rows(out, resume_archive)
    done_before = {k: r for k, r in killed.items() if r["state"] == "done"}
    assert 1 <= len(done_before) < 8
    stamps = {k: (out / "videos" / r["output"] / "timeline.csv").stat() for k, r in done_before.items()}

    assert run(capsys, str(resume_archive), "--out", str(out), "--workers", "1", "--no-cache", "-q")[0] == EXIT_OK
    resumed = manifest_rows(out, resume_archive)
    assert len(resumed) == 8 and all(r["state"] == "done" for r in resumed.values())
    assert all(r["completions"] == 1 for r in resumed.values())  # nothing was processed twice
    interrupted = [k for k, r in killed.items() if r["state"] == "running"]  # its worker was killed mid-video
    assert all(resumed[k]["attempts"] == 2 for k in interrupted)
    for k, st in stamps.items():
        now = (out / "videos" / resumed[k]["output"] / "timeline.csv").stat()
        assert (now.st_ino, now.st_mtime_ns) == (st.st_ino, st.st_mtime_ns)
    assert leftovers(out) == []
    assert sorted(p.name for p in (out / "videos").iterdir()) == sorted(r["output"] for r in resumed.values())

    ref = tmp_path / "uninterrupted"
    assert run(capsys, str(resume_archive), "--out", str(ref), "--workers", "2", "--no-cache", "-q")[0] == EXIT_OK
    for folder in (ref / "videos").iterdir():
        assert _comparable(folder) == _comparable(out / "videos" / folder.name)
    volatile = ["wall_s", "x_realtime", "attempts"]
    assert pd.read_csv(ref / "summary.csv").drop(columns=volatile).equals(pd.read_csv(out / "summary.csv").drop(columns=volatile))


def test_clip_on_a_gpu_gets_one_local_worker(monkeypatch):
    """One CLIP model per GPU: the local engine does not start N copies of it on one device."""
    import vidscan.batch.local as local
    import vidscan.batch.runner as runner
    from vidscan.batch import BatchOptions, BatchSettings
    from vidscan.options import EmbedderSpec

    started = []
    monkeypatch.setattr(local, "LocalEngine", lambda settings, workers, timeout: started.append(workers) or workers)
    monkeypatch.setattr(runner, "_cuda_available", lambda: True)
    warnings: list[str] = []
    runner._make_engine(BatchSettings(embedder="clip"), BatchOptions(workers=4), 10, warnings.append)
    runner._make_engine(BatchSettings(embedder=EmbedderSpec("clip", device="cpu")), BatchOptions(workers=4), 10, warnings.append)
    runner._make_engine(BatchSettings(), BatchOptions(workers=4), 3, warnings.append)
    assert started == [1, 4, 3] and len(warnings) == 1 and "1 worker" in warnings[0]


def test_html_reports_and_index_page(capsys, archive, tmp_path):
    """--format html writes a report per video and an index page linking them."""
    out = tmp_path / "out"
    code, err = run(capsys, str(archive / "a"), str(archive / "b"), "--out", str(out), "-q", "--format", "csv", "--format", "html")
    assert code == 0, err
    reports = sorted(out.rglob("report.html"))
    index = (out / "index.html").read_text()
    assert reports and all(f'href="{r.relative_to(out).as_posix()}"' in index for r in reports)
