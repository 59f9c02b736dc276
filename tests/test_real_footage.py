"""Shot boundaries on short real recordings (tests/data/real, built by
benchmarks/realset/build.py --fixtures; sources and licences in benchmarks/realset/SOURCES.md).

Synthetic videos cannot decide whether the detector works on real footage: these clips hold
the cases it used to miss (a jump cut in one room under one camera, a 5-frame shot, a cut
0.48 s in) and a real camera move that must not produce a boundary, checked through every
path that finds shots.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

import vidscan
from tests.conftest import run_ffmpeg
from vidscan.cli.main import cli

REAL = Path(__file__).parent / "data" / "real"
TRUTH: dict[str, list[int]] = json.loads((REAL / "truth.json").read_text())
CLIPS = sorted(TRUTH)


def assert_cuts(found: list[int], truth: list[int]) -> None:
    """Every true cut found within one frame, and nothing else."""
    assert len(found) == len(truth), (found, truth)
    assert all(abs(f - t) <= 1 for f, t in zip(found, truth)), (found, truth)


def starts(timeline) -> list[int]:
    return [s.start_frame for s in timeline.segments[1:]]


@pytest.mark.parametrize("name", CLIPS)
def test_default_detector_on_real_footage(name):
    timeline = vidscan.detect_scenes(REAL / f"{name}.mp4")
    assert_cuts(starts(timeline), TRUTH[name])
    assert all(s.transition == "cut" for s in timeline.segments[1:])


@pytest.mark.parametrize("name", CLIPS)
def test_coarse_decoding_on_a_broadcast_gop_finds_the_same(name, tmp_path):
    """Re-encoded with a fixed 1 s GOP and no keyframes at cuts (how broadcasts are encoded),
    coarse-to-fine decoding must still see each cut, same-palette ones included."""
    video = tmp_path / f"{name}.mp4"
    run_ffmpeg("-i", str(REAL / f"{name}.mp4"), "-c:v", "libx264", "-g", "25", "-keyint_min", "25", "-sc_threshold", "0",
               "-pix_fmt", "yuv420p", str(video))
    assert_cuts(starts(vidscan.detect_scenes(video, decode="coarse")), TRUTH[name])


def test_scenes_command_writes_the_cuts(tmp_path):
    out = tmp_path / "x.json"
    result = CliRunner().invoke(cli, ["scenes", str(REAL / "short_shot.mp4"), "-o", str(out), "--quiet", "--no-cache"])
    assert result.exit_code == 0, result.output
    segments = json.loads(out.read_text())["segments"]
    assert_cuts([s["start_frame"] for s in segments[1:]], TRUTH["short_shot"])


def test_classify_shots_use_the_same_detector(tmp_path):
    from PIL import Image

    from vidscan.video import read_frames

    examples = tmp_path / "examples"
    for label, clip, frame in (("signer", "same_palette_cut", 10), ("water", "short_shot", 10)):
        (examples / label).mkdir(parents=True)
        frames, _ = read_frames(str(REAL / f"{clip}.mp4"), [frame])
        Image.fromarray(frames[0]).save(examples / label / "a.png")
    result = vidscan.classify(REAL / "same_palette_cut.mp4", examples=examples, level="shot")
    assert_cuts(starts(result.timeline), TRUTH["same_palette_cut"])


def test_batch_uses_the_same_detector(tmp_path):
    from vidscan.batch import BatchOptions, BatchSettings, discover_inputs, run_batch

    archive = tmp_path / "archive"
    archive.mkdir()
    for name in ("same_palette_cut", "early_cut"):
        shutil.copy(REAL / f"{name}.mp4", archive / f"{name}.mp4")
    report = run_batch(discover_inputs([str(archive)]), tmp_path / "out", BatchSettings(use_cache=False), BatchOptions(workers=1))
    assert report.failed == 0 and report.done == 2
    for name in ("same_palette_cut", "early_cut"):
        [timeline] = list((tmp_path / "out" / "videos").glob(f"*{name}-*/timeline.json"))
        segments = json.loads(timeline.read_text())["segments"]
        assert_cuts([s["start_frame"] for s in segments[1:]], TRUTH[name])


def test_the_old_kernel_default_misses_these_cuts():
    """The fixtures are hard for what the default used to be (so the tests above can fail)."""
    missed = sum(len(TRUTH[n]) - len(set(starts(vidscan.detect_scenes(REAL / f"{n}.mp4", detector="kernel"))) & set(TRUTH[n]))
                 for n in CLIPS)
    assert missed >= 3
