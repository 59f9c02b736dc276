"""The right stream, and timestamps that cannot hang, explode or disagree (issue 12, items 7-9).

Every file here is a real H.264 encode (x264 with B-frames) of two 3 s shots with a cut at
frame 75, re-muxed by ffmpeg the ways broken files arrive: a one-frame thumbnail track stored
first, timestamps that jump by days or years, timestamps that reset, timestamps written in
decode order, two captures concatenated. The truth is known from how each was made.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

import vidscan
from tests.conftest import run_ffmpeg
from vidscan.detect.pelt import change_points
from vidscan.scene_level import scene_starts
from vidscan.video import Sampling, open_video, read_frame_batch
from vidscan.video.timestamps import absurd_gaps, rebase_resets, spread_duplicates

ROOT = Path(__file__).resolve().parents[1]
CUT = 75
FRAMES = 150
JUMPS = {"jump_days": 1105920.0, "jump_years": 126230400.0}


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("streams")
    two = d / "two.mp4"
    run_ffmpeg("-f", "lavfi", "-i", "testsrc2=size=192x108:rate=25:duration=3", "-f", "lavfi", "-i", "smptebars=size=192x108:rate=25:duration=3",
               "-filter_complex", "[0][1]concat=n=2:v=1", "-c:v", "libx264", "-g", "50", "-bf", "3", "-pix_fmt", "yuv420p", str(two))
    out = {"two": two}
    for name, codec in (("mjpeg", "mjpeg"), ("png", "png")):
        run_ffmpeg("-f", "lavfi", "-i", "color=red:size=96x54:d=1", "-frames:v", "1", "-c:v", codec, str(d / f"thumb_{name}.mkv"))
    # A one-frame thumbnail track stored first (not default), in MKV and MP4.
    for ext in ("mkv", "mp4"):
        out[f"thumb_first_{ext}"] = d / f"thumb_first.{ext}"
        run_ffmpeg("-i", str(d / "thumb_mjpeg.mkv"), "-i", str(two), "-map", "0:v", "-map", "1:v", "-c", "copy",
                   "-disposition:v:0", "0", "-disposition:v:1", "default", str(out[f"thumb_first_{ext}"]))
    # The thumbnail track even marked default (FFmpeg itself would pick it).
    out["thumb_default"] = d / "thumb_default.mkv"
    run_ffmpeg("-i", str(d / "thumb_png.mkv"), "-i", str(two), "-map", "0:v", "-map", "1:v", "-c", "copy",
               "-disposition:v:0", "default", "-disposition:v:1", "0", str(out["thumb_default"]))
    # Timestamp damage (TB: the stream's time base, so the figures are seconds).
    edits = {"jump_days": f"if(gte(N\\,100)\\,TS+{JUMPS['jump_days']:.0f}/TB\\,TS)",  # +12.8 days after packet 100
             "jump_years": f"if(gte(N\\,100)\\,TS+{JUMPS['jump_years']:.0f}/TB\\,TS)",  # +4 years
             "reset": f"if(gte(N\\,{CUT})\\,TS-2/TB\\,TS)",  # back 2 s at the cut
             "decode_order": "TS"}  # times rewritten in decode order
    for name, expr in edits.items():
        out[name] = d / f"{name}.mkv"
        run_ffmpeg("-i", str(two), "-c", "copy", "-bsf:v", f"setts=ts={expr}", str(out[name]))
    # Two MPEG-TS captures played back to back: the second restarts its clock.
    a, b = d / "a.ts", d / "b.ts"
    run_ffmpeg("-f", "lavfi", "-i", "testsrc2=size=192x108:rate=25:duration=3", "-c:v", "libx264", "-g", "50", "-pix_fmt", "yuv420p", str(a))
    run_ffmpeg("-f", "lavfi", "-i", "smptebars=size=192x108:rate=25:duration=3", "-c:v", "libx264", "-g", "50", "-pix_fmt", "yuv420p", str(b))
    out["concat_ts"] = d / "concat.ts"
    out["concat_ts"].write_bytes(a.read_bytes() + b.read_bytes())
    # A raw y4m whose frame rate is one frame per 11.6 days.
    out["slow_y4m"] = d / "slow.y4m"
    run_ffmpeg("-i", str(two), "-frames:v", "20", "-vf", "scale=64:36", "-pix_fmt", "yuv420p", str(out["slow_y4m"]))
    raw = out["slow_y4m"].read_bytes()
    head, rest = raw.split(b"\n", 1)
    out["slow_y4m"].write_bytes(head.replace(b"F25:1", b"F1:1000000") + b"\n" + rest)
    return out


def starts(timeline) -> list[int]:
    return [s.start_frame for s in timeline.segments[1:]]


# -- 7. the wrong video stream ------------------------------------------------------------

@pytest.mark.parametrize("name", ["thumb_first_mkv", "thumb_first_mp4", "thumb_default"])
def test_the_moving_stream_is_read_not_a_one_frame_thumbnail(clips, name):
    timeline = vidscan.detect_scenes(clips[name])
    assert timeline.frame_count == FRAMES
    assert starts(timeline) == [CUT]
    assert timeline.video.stream_index == 1 and timeline.video.codec == "h264"
    assert "read stream #1 (h264" in timeline.stats["notes"][0]


@pytest.mark.parametrize("command", ["scenes", "batch"])
def test_the_cli_says_which_stream_it_read(clips, tmp_path, command):
    video = clips["thumb_first_mkv"]
    if command == "scenes":
        args = ["scenes", str(video), "-o", str(tmp_path / "t.json"), "--no-cache"]
    else:
        archive = tmp_path / "archive"
        archive.mkdir()
        (archive / video.name).write_bytes(video.read_bytes())
        args = ["batch", str(archive), "--out", str(tmp_path / "out"), "--workers", "1", "--no-cache", "-q"]
    done = subprocess.run([sys.executable, "-m", "vidscan.cli.main", *args], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300)
    assert done.returncode == 0, done.stderr
    if command == "scenes":
        assert "vidscan: note: 2 video streams; read stream #1" in done.stderr
        written = json.loads((tmp_path / "t.json").read_text())
    else:
        result = next((tmp_path / "out" / "videos").glob("*thumb_first*/timeline.json"))
        written = json.loads(result.read_text())
    assert written["video"]["stream_index"] == 1
    assert [s["start_frame"] for s in written["segments"]] == [0, CUT]


def test_every_backend_reads_the_same_stream(clips):
    video = clips["thumb_first_mkv"]
    with open_video(video) as source:
        reference = np.concatenate([b.frames for b in source.batches(Sampling.frames([0, 80, 140]))])
    try:
        with open_video(video, "torchcodec") as source:
            other = np.concatenate([b.frames for b in source.batches(Sampling.frames([0, 80, 140]))])
    except vidscan.errors.UsageError:
        pytest.skip("torchcodec is not available")
    assert other.shape == reference.shape
    assert np.abs(other.astype(int) - reference.astype(int)).mean() < 2  # another colour conversion, the same pictures


def test_a_file_with_only_a_cover_picture_is_not_a_video(tmp_path):
    audio = tmp_path / "song.m4a"
    run_ffmpeg("-f", "lavfi", "-i", "sine=d=2", "-f", "lavfi", "-i", "color=blue:size=64x64:d=1", "-map", "0:a", "-map", "1:v",
               "-frames:v", "1", "-c:a", "aac", "-c:v", "png", "-disposition:v:0", "attached_pic", str(audio))
    with pytest.raises(vidscan.errors.InputError, match="only a cover picture"):
        vidscan.detect_scenes(audio)


# -- 8. timestamp jumps: bounded by frames, reported as damage -----------------------------

@pytest.mark.parametrize("name", ["jump_days", "jump_years"])
@pytest.mark.parametrize("decode", ["full", "coarse"])
def test_a_timestamp_jump_is_damage_not_a_million_rows(clips, name, decode):
    tracemalloc.start()
    try:
        timeline = vidscan.detect_scenes(clips[name], decode=decode, level="scene")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 200 * 2**20  # numpy allocations included; the 12-day jump once took 3.3 GB
    assert timeline.frame_count == FRAMES
    assert starts(timeline) == [CUT]
    damaged = timeline.stats["damaged_ranges_s"]
    assert len(damaged) == 1
    jump = JUMPS[name]
    assert damaged[0][0] == pytest.approx(4.0, abs=0.05) and damaged[0][1] == pytest.approx(4.0 + jump, abs=0.05)


@pytest.mark.parametrize("command", ["scenes", "classify"])
def test_absurd_timestamps_through_the_cli(clips, tmp_path, command):
    """The jump in a command's output: exit 0, one warning naming the gap, the cut in place."""
    video = clips["jump_days"]
    out = tmp_path / "t.json"
    args = [command, str(video), "-o", str(out), "--no-cache"]
    if command == "classify":
        args += ["--labels", "bars,pattern", "--embedder", "clip", "--model", "RN50", "--pretrained", "none", "--level", "shots"]
    done = subprocess.run([sys.executable, "-m", "vidscan.cli.main", *args], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "could not decode 00:00:04.000-307:12:04.000" in done.stderr
    segments = json.loads(out.read_text())["segments"]
    assert segments[-1]["end_s"] == pytest.approx(1105926.0, abs=0.1)


def test_a_frame_rate_of_one_frame_in_days_is_bounded(clips):
    timeline = vidscan.detect_scenes(clips["slow_y4m"], level="scene")
    assert timeline.frame_count == 20
    assert timeline.duration_s == pytest.approx(20e6)


def test_scene_search_works_in_shots_not_seconds():
    """Two shots 4 s and 3 years long: the search is over 2 rows, not 100 million."""
    shots = np.eye(8)[:2]
    tracemalloc.start()
    try:
        found = scene_starts(shots, np.array([4.0, 1e8]), penalty=2.0, min_scene_len=3.0)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert found == [1] and peak < 2**20


def test_weighted_search_equals_repeating_rows_in_ruptures():
    """Where every change falls on a shot boundary, the weighted search and ruptures on rows
    repeated once per unit of weight find the same partition."""
    import ruptures as rpt

    rng = np.random.default_rng(3)
    for _ in range(20):
        centres = rng.normal(size=(3, 16))
        labels = np.sort(rng.integers(0, 3, 12))
        vectors = centres[labels] + 0.05 * rng.normal(size=(12, 16))
        weights = rng.integers(2, 9, 12).astype(float)
        ours = change_points(vectors, 1.0, 2.0, weights=weights)
        rows = np.repeat(vectors, weights.astype(int), axis=0)
        owner = np.repeat(np.arange(12), weights.astype(int))
        theirs = rpt.KernelCPD(kernel="linear", min_size=2).fit(rows).predict(pen=1.0)[:-1]
        assert ours == sorted({int(owner[c]) for c in theirs})
        assert ours == [int(i) for i in np.flatnonzero(np.diff(labels)) + 1]


# -- 9. non-monotonic timestamps: one order on every path ----------------------------------

@pytest.mark.parametrize("name", ["reset", "decode_order", "concat_ts"])
def test_disordered_timestamps_give_one_answer_on_every_path(clips, name):
    video = clips[name]
    full = vidscan.detect_scenes(video)
    coarse = vidscan.detect_scenes(video, decode="coarse")
    assert starts(full) == starts(coarse) == [CUT]
    assert full.frame_count == coarse.frame_count == FRAMES
    assert full.stats["damaged_ranges_s"] == coarse.stats["damaged_ranges_s"] == []
    assert "out of order" in coarse.stats["notes"][0]  # said, not silent
    with open_video(video) as source:
        every = list(source.batches(Sampling.all_frames(), size=(64, 36)))
    frames = np.concatenate([b.frames for b in every])
    times = np.concatenate([b.times for b in every])
    assert np.all(np.diff(times) > 0) and times[-1] == pytest.approx(5.96, abs=0.05)
    # A sparse read (the path thumbnails and stills take) numbers frames the same way.
    sparse = read_frame_batch(video, [10, CUT - 1, CUT, 140], size=(64, 36), strict=True)
    assert np.array_equal(sparse.frames, frames[[10, CUT - 1, CUT, 140]])
    assert np.allclose(sparse.times, times[[10, CUT - 1, CUT, 140]])


def test_well_formed_files_keep_their_fast_paths(clips):
    timeline = vidscan.detect_scenes(clips["two"], decode="coarse")
    assert timeline.settings.get("decode") == "coarse" and "notes" not in timeline.stats


def test_timestamp_rules():
    repaired, resets = rebase_resets(np.array([0, 30, 10, 20, 40, 5000, 0, 20, 10]), step=10)
    assert resets == 1 and repaired.tolist() == [0, 30, 10, 20, 40, 5000, 5010, 5030, 5020]
    assert rebase_resets(np.array([0, 30, 10, 20]), step=10)[1] == 0  # B-frame reordering is not a reset
    assert spread_duplicates(np.array([0, 40, 80, 80, 80, 200]), step=40).tolist() == [0, 40, 80, 120, 160, 200]
    assert absurd_gaps(np.array([0.0, 0.04, 0.08, 100.0, 100.04]), 0.04) == [(pytest.approx(0.12), 100.0)]
    assert absurd_gaps(np.array([0.0, 30.0, 60.0]), 0.04) == []  # a 30 s pause is footage (VFR)
