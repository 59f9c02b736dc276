"""Exports: chapters (checked with ffmpeg/ffprobe), EDL, PySceneDetect CSV, stills, embeddings, CLI."""

from __future__ import annotations

import io
import json
import re
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from tests.conftest import ffprobe, run_ffmpeg
from vidscan.cli.main import main
from vidscan.errors import OutputError
from vidscan.export import (
    chapters_text,
    edl_text,
    edl_timecode,
    embeddings_index_path,
    middle_frame,
    nominal_rate,
    save_frames,
    scenes_csv_text,
    write_chapters,
    write_embeddings,
    write_scenes_csv,
)
from vidscan.pipeline import detect_scenes
from vidscan.synth import Program, Shot, Transition, render
from vidscan.timeline import Segment, Timeline
from vidscan.video import Sampling, VideoInfo, read_frames

CUTS = [40, 70, 115]  # first frames of shots 2-4
FRAMES = 150


@pytest.fixture(scope="module")
def cuts_video(tmp_path_factory) -> Path:
    """Four shots of 1.2-1.8 s at 25 fps, hard cuts at known frames."""
    path = tmp_path_factory.mktemp("exports") / "cuts.mp4"
    program = Program([Shot("studio", 40, seed=1), Shot("bars", 30, seed=2), Shot("mandelbrot", 45, seed=3), Shot("testsrc", 35, seed=4)],
                      [Transition("cut")] * 3, width=320, height=180, fps=25)
    truth = render(program, path)
    assert [b.start for b in truth.boundaries] == CUTS and truth.frame_count == FRAMES
    return path


@pytest.fixture(scope="module")
def timeline(cuts_video) -> Timeline:
    tl = detect_scenes(cuts_video, keep_embeddings=True)
    assert [s.start_frame for s in tl.segments[1:]] == CUTS  # the exports below rely on exact cuts
    return tl


def hand_timeline(fps: float = 25.0, labels: list[str | None] | None = None, path: str = "/media/clip one.mp4") -> Timeline:
    """A timeline with known frames and times, independent of the detector."""
    edges = [0, 40, 70, 115, 150]
    info = VideoInfo(path=path, codec="h264", width=320, height=180, fps=fps, duration_s=150 / fps, frame_count=150,
                     frame_count_exact=True, rotation=0, start_time_s=0.0, size_bytes=1000)
    segs = [Segment(i, a, b, a / fps, b / fps, "start" if i == 0 else "cut") for i, (a, b) in enumerate(zip(edges, edges[1:]))]
    for seg, label in zip(segs, labels or []):
        seg.label, seg.confidence = label, (None if label is None else 0.875)
    return Timeline(video=info, segments=segs)


# --- chapters ---------------------------------------------------------------------------------

def test_chapters_text_escapes_special_characters():
    text = chapters_text(hand_timeline(labels=["game", "a=b;c#d\\e\nf", None, "ad"]))
    assert text.startswith(";FFMETADATA1\n")
    blocks = text.split("\n\n")[1:]
    assert len(blocks) == 4
    assert blocks[0] == "[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=1600\ntitle=game"
    assert blocks[1].endswith("START=1600\nEND=2800\ntitle=a\\=b\\;c\\#d\\\\e\\\nf")
    assert blocks[2].endswith("title=Scene 3")  # unlabelled segment in a labelled timeline


def test_chapters_read_back_by_ffmpeg(timeline, cuts_video, tmp_path):
    timeline = Timeline(timeline.video, [Segment(**vars(s)) for s in timeline.segments], timeline.settings)
    timeline.segments[2].label = "goal = 1; #2 \\ x"
    chapters = write_chapters(timeline, tmp_path / "chapters.txt")
    out = tmp_path / "out.mp4"
    run_ffmpeg("-i", str(cuts_video), "-i", str(chapters), "-map_metadata", "1", "-map_chapters", "1", "-c", "copy", str(out))
    probe = subprocess.run([ffprobe(), "-v", "error", "-show_chapters", "-of", "json", str(out)], capture_output=True, text=True, check=True)
    got = json.loads(probe.stdout)["chapters"]
    assert len(got) == len(timeline.segments) == 4
    for chapter, seg in zip(got, timeline.segments):
        assert float(chapter["start_time"]) == pytest.approx(seg.start_s, abs=1e-3)
        assert float(chapter["end_time"]) == pytest.approx(seg.end_s, abs=1e-3)
    assert [c["tags"]["title"] for c in got] == ["Scene 1", "Scene 2", "goal = 1; #2 \\ x", "Scene 4"]


# --- EDL ----------------------------------------------------------------------------------------

EXPECTED_EDL = """TITLE: clip one
FCM: NON-DROP FRAME

001  AX       V     C        00:00:00:00 00:00:01:15 00:00:00:00 00:00:01:15
* FROM CLIP NAME: clip one.mp4
* COMMENT: game (confidence 0.88)

002  AX       V     C        00:00:01:15 00:00:02:20 00:00:01:15 00:00:02:20
* FROM CLIP NAME: clip one.mp4

003  AX       V     C        00:00:02:20 00:00:04:15 00:00:02:20 00:00:04:15
* FROM CLIP NAME: clip one.mp4
* COMMENT: ad (confidence 0.88)

004  AX       V     C        00:00:04:15 00:00:06:00 00:00:04:15 00:00:06:00
* FROM CLIP NAME: clip one.mp4
"""

EVENT = re.compile(r"^(\d{3})  (\S+)\s+V\s+C\s+(\S+) (\S+) (\S+) (\S+)$")


def parse_edl(text: str, rate: int) -> list[tuple[int, int, int]]:
    """(event, in frame, out frame) per event; source and record sides must agree."""
    def frames(tc: str) -> int:
        h, m, s, f = (int(x) for x in tc.split(":"))
        return ((h * 60 + m) * 60 + s) * rate + f

    events = []
    for line in text.splitlines():
        match = EVENT.match(line)
        if match:
            num, _, src_in, src_out, rec_in, rec_out = match.groups()
            assert (src_in, src_out) == (rec_in, rec_out)
            events.append((int(num), frames(src_in), frames(src_out)))
    return events


def test_edl_exact_text():
    assert edl_text(hand_timeline(labels=["game", None, "ad", None])) == EXPECTED_EDL


def test_edl_parses_back_to_the_segments(timeline):
    events = parse_edl(edl_text(timeline), 25)
    assert events == [(i + 1, s.start_frame, s.end_frame) for i, s in enumerate(timeline.segments)]


def test_edl_fractional_rates_count_nominal_frames():
    assert [nominal_rate(r) for r in (23.976, 24, 25, 29.97, 59.94, 12.5, 0.4, float("nan"))] == [24, 24, 25, 30, 60, 13, 1, 1]
    assert edl_timecode(30 * 3600 + 29, 30) == "01:00:00:29"
    text = edl_text(hand_timeline(fps=30000 / 1001))
    assert parse_edl(text, 30)[-1] == (4, 115, 150)
    assert "00:00:03:25 00:00:05:00" in text  # frame 115 at 30 per timecode second


# --- PySceneDetect CSV --------------------------------------------------------------------------

#: What scenedetect 0.7.2 writes (write_scene_list with the cut list, as `list-scenes` does)
#: for the hand timeline; the next test regenerates it from the package when installed.
EXPECTED_SCENES_CSV = """Timecode List:,00:00:01.600,00:00:02.800,00:00:04.600
Scene Number,Start Frame,Start Timecode,Start Time (seconds),End Frame,End Timecode,End Time (seconds),Length (frames),Length (timecode),Length (seconds)
1,1,00:00:00.000,0.000,40,00:00:01.600,1.600,40,00:00:01.600,1.600
2,41,00:00:01.600,1.600,70,00:00:02.800,2.800,30,00:00:01.200,1.200
3,71,00:00:02.800,2.800,115,00:00:04.600,4.600,45,00:00:01.800,1.800
4,116,00:00:04.600,4.600,150,00:00:06.000,6.000,35,00:00:01.400,1.400
"""


def test_scenes_csv_layout_and_pandas(tmp_path):
    tl = hand_timeline()
    assert scenes_csv_text(tl) == EXPECTED_SCENES_CSV
    path = write_scenes_csv(tl, tmp_path / "scenes.csv")
    df = pd.read_csv(path, skiprows=1)
    assert list(df["Scene Number"]) == [1, 2, 3, 4]
    assert list(df["Start Frame"]) == [s.start_frame + 1 for s in tl.segments]  # 1-based
    assert list(df["End Frame"]) == [s.end_frame for s in tl.segments]  # 1-based inclusive
    assert list(df["Length (frames)"]) == [s.frames for s in tl.segments]
    assert df["End Time (seconds)"].iloc[-1] == pytest.approx(6.0)


def test_scenes_csv_matches_pyscenedetect(timeline):
    scenedetect = pytest.importorskip("scenedetect")
    from scenedetect import FrameTimecode

    fps = timeline.video.fps
    scenes = [(FrameTimecode(s.start_frame, fps), FrameTimecode(s.end_frame, fps)) for s in timeline.segments]
    buf = io.StringIO()
    scenedetect.output.write_scene_list(buf, scenes, cut_list=[start for start, _ in scenes[1:]])
    assert scenes_csv_text(timeline) == buf.getvalue()
    buf = io.StringIO()
    hand = hand_timeline()
    scenes = [(FrameTimecode(s.start_frame, 25.0), FrameTimecode(s.end_frame, 25.0)) for s in hand.segments]
    scenedetect.output.write_scene_list(buf, scenes, cut_list=[start for start, _ in scenes[1:]])
    assert buf.getvalue() == EXPECTED_SCENES_CSV


# --- stills ---------------------------------------------------------------------------------------

def test_save_frames_takes_the_middle_frame(timeline, cuts_video, tmp_path):
    images = save_frames(timeline, tmp_path / "frames")
    assert len(images) == len(timeline.segments)
    assert [p.name for p in images] == sorted(p.name for p in (tmp_path / "frames").glob("*.jpg"))
    index = pd.read_csv(tmp_path / "frames" / "index.csv")
    assert list(index.columns) == ["segment", "frame", "time_s", "file"]
    assert list(index["frame"]) == [middle_frame(s) for s in timeline.segments] == [19, 54, 92, 132]
    assert list(index["time_s"]) == pytest.approx([f / 25 for f in index["frame"]], abs=1e-6)
    assert images[2].name == "scene-0002_00-00-03.680_f92.jpg"
    expected, got_idx = read_frames(str(cuts_video), list(index["frame"]))
    assert list(got_idx) == list(index["frame"])
    for k, (name, frame) in enumerate(zip(index["file"], index["frame"])):
        img = np.asarray(Image.open(tmp_path / "frames" / name).convert("RGB")).astype(int)
        assert img.shape == (180, 320, 3)
        diffs = [np.abs(img - e.astype(int)).mean() for e in expected]
        assert diffs[k] < 6 and int(np.argmin(diffs)) == k  # JPEG noise only, and not another segment's frame
        around, _ = read_frames(str(cuts_video), [frame - 1, frame, frame + 1])
        near = [np.abs(img - e.astype(int)).mean() for e in around]
        assert near[1] <= min(near)  # that exact frame, not a neighbour (moving shots tell them apart)


def test_save_frames_rotated_video_is_upright(tmp_path):
    src, rotated = tmp_path / "src.mp4", tmp_path / "rot.mp4"
    run_ffmpeg("-f", "lavfi", "-i", "color=c=black:s=64x32:d=0.4,drawbox=x=0:y=0:w=16:h=32:c=white:t=fill", "-c:v", "libx264", str(src))
    run_ffmpeg("-display_rotation", "90", "-i", str(src), "-c", "copy", str(rotated))
    tl = detect_scenes(rotated)
    images = save_frames(tl, tmp_path / "frames")
    ref = tmp_path / "ref.png"
    run_ffmpeg("-i", str(rotated), "-frames:v", "1", str(ref))  # ffmpeg's own autorotation
    expected = np.asarray(Image.open(ref).convert("RGB")).astype(int)
    got = np.asarray(Image.open(images[0]).convert("RGB")).astype(int)
    assert got.shape == expected.shape == (64, 32, 3)
    assert np.abs(got - expected).mean() < 20


# --- embeddings -------------------------------------------------------------------------------------

def test_embeddings_and_index(cuts_video, tmp_path):
    tl = detect_scenes(cuts_video, sampling=Sampling.per_second(5), keep_embeddings=True)
    npy, index_path = write_embeddings(tl.embedded, tmp_path / "emb.npy")
    assert index_path == tmp_path / "emb.index.csv" == embeddings_index_path(npy)
    emb = np.load(npy, allow_pickle=False)
    index = pd.read_csv(index_path)
    assert emb.dtype == np.float32 and emb.ndim == 2 and emb.shape == tl.embedded.embeddings.shape
    assert emb.shape[0] == len(index) == 30  # 6 s at 5 per second
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)
    assert list(index["sample"]) == list(range(30))
    assert list(index["frame"]) == [5 * k for k in range(30)]  # 25 fps sampled at 5/s
    np.testing.assert_allclose(index["time_s"], index["frame"] / 25, atol=1e-6)
    assert detect_scenes(cuts_video).embedded is None  # only kept when asked


# --- CLI ------------------------------------------------------------------------------------------

def test_cli_scenes_writes_every_export(cuts_video, tmp_path, capsys):
    out = tmp_path / "out"
    rc = main(["scenes", str(cuts_video), "-o", str(out / "t.json"), "--no-cache", "-q",
               "--chapters", str(out / "ch.txt"), "--edl", str(out / "t.edl"), "--scenes-csv", str(out / "sd.csv"),
               "--save-frames", str(out / "frames"), "--embeddings", str(out / "e.npy"), "--report", str(out / "r.html")])
    assert rc == 0, capsys.readouterr().err
    for name in ("t.json", "ch.txt", "t.edl", "sd.csv", "frames/index.csv", "e.npy", "e.index.csv", "r.html"):
        assert (out / name).is_file(), name
    assert len(list((out / "frames").glob("*.jpg"))) == 4
    assert np.load(out / "e.npy").shape[0] == FRAMES  # features: every frame
    assert not list(out.rglob(".*.tmp"))


def test_cli_classify_report_has_totals(cuts_video, tmp_path, capsys):
    frames, _ = read_frames(str(cuts_video), [5, 10, 50, 60, 80, 100, 120, 140])
    for k, frame in enumerate(frames):
        folder = tmp_path / "examples" / ("first" if k < 2 else "rest")
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(frame).save(folder / f"{k}.png")
    rc = main(["classify", str(cuts_video), "--examples", str(tmp_path / "examples"), "-o", str(tmp_path / "l.csv"), "--no-cache",
               "-q", "--report", str(tmp_path / "r.html"), "--embeddings", str(tmp_path / "e.npy"), "--chapters", str(tmp_path / "c.txt")])
    assert rc == 0, capsys.readouterr().err
    html = (tmp_path / "r.html").read_text()
    assert html.count('class="total-bar"') == 2 and "Time per label" in html
    assert "title=first" in (tmp_path / "c.txt").read_text()
    assert np.load(tmp_path / "e.npy").shape[0] == FRAMES


@pytest.mark.parametrize("flag", ["--chapters", "--edl", "--scenes-csv", "--embeddings", "--report", "--save-frames"])
def test_cli_bad_output_paths_exit_5(cuts_video, tmp_path, capsys, flag):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    bad = str(blocker) if flag == "--save-frames" else str(tmp_path)  # a file where a folder goes, and vice versa
    for target in (bad, str(blocker / "sub" / "x.out")):
        rc = main(["scenes", str(cuts_video), "-o", str(tmp_path / "t.csv"), "-q", "--no-cache", flag, target])
        err = capsys.readouterr().err
        assert rc == 5, err
        assert err.startswith("vidscan: error: ") and err.count("\n") == 1
    assert not (tmp_path / "t.csv").exists()  # stopped before any work


def test_library_writers_raise_output_error(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    tl = hand_timeline()
    with pytest.raises(OutputError):
        write_chapters(tl, tmp_path)  # a directory
    with pytest.raises(OutputError):
        write_scenes_csv(tl, blocker / "x.csv")  # parent is a file
    with pytest.raises(OutputError):
        save_frames(tl, blocker)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_file"]
