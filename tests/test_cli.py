"""The command line: results, one-line errors with documented exit codes, no partial files."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from tests.conftest import DATA, run_ffmpeg
from vidscan.cli.main import main
from vidscan.errors import EXIT_INPUT, EXIT_MODEL, EXIT_OUTPUT, EXIT_USAGE


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def bad_inputs(tmp_path_factory, shots_video):
    """The bad-input corpus: each entry is a path that must fail cleanly."""
    d = tmp_path_factory.mktemp("bad")
    src, _ = shots_video
    data = src.read_bytes()
    files = {
        "missing": d / "missing.mp4",
        "directory": d,
        "zero_bytes": d / "empty.mp4",
        "random_bytes": d / "random.mp4",
        "truncated_no_moov": d / "truncated.mp4",
        "audio_only": d / "audio.m4a",
        "zero_frames": d / "noframes.mkv",
        "still_image": d / "still.png",
    }
    files["zero_bytes"].write_bytes(b"")
    files["random_bytes"].write_bytes(bytes(range(256)) * 40)
    files["truncated_no_moov"].write_bytes(data[: len(data) // 2])  # x264 mp4: moov is at the end
    run_ffmpeg("-f", "lavfi", "-i", "sine=d=1", "-c:a", "aac", str(files["audio_only"]))
    run_ffmpeg("-f", "lavfi", "-i", "testsrc2=s=64x64:d=1", "-frames:v", "0", "-c:v", "libx264", str(files["zero_frames"]))
    run_ffmpeg("-f", "lavfi", "-i", "testsrc2=s=64x64", "-frames:v", "1", str(files["still_image"]))
    return files


EXPECTED = {
    "missing": "no such file",
    "directory": "is a directory",
    "zero_bytes": "empty",
    "random_bytes": "not a readable video",
    "truncated_no_moov": "not a readable video",
    "audio_only": "no video stream",
    "zero_frames": "no",
    "still_image": "still image",
}


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_bad_input_fails_with_one_line_and_exit_3(capsys, bad_inputs, tmp_path, case):
    out_file = tmp_path / "out.csv"
    out_file.write_text("previous good result\n")
    code, out, err = run(capsys, "scenes", str(bad_inputs[case]), "-o", str(out_file))
    assert code == EXIT_INPUT, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("vidscan: error: ") and EXPECTED[case] in lines[0], err
    assert "Traceback" not in err
    assert out_file.read_text() == "previous good result\n"  # never overwritten by a failed run
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.csv")]  # no temp leftovers


@pytest.mark.parametrize(
    "args",
    [
        ["--min-scene-len", "-1"],
        ["--sample-fps", "0"],
        ["--penalty", "0"],
        ["--format", "xml"],
        ["--every", "0"],
        ["--every", "2", "--sample-fps", "2"],
        ["--embedder", "nope"],
        ["--device", "tpu"],
    ],
)
def test_bad_option_values_exit_2(capsys, shots_video, args):
    path, _ = shots_video
    code, _, err = run(capsys, "scenes", str(path), *args)
    assert code == EXIT_USAGE, err
    assert len(err.strip().splitlines()) == 1 and err.startswith("vidscan: error: ")


def test_scenes_writes_csv_and_table(capsys, shots_video, tmp_path, monkeypatch):
    path, truth = shots_video
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "scenes", str(path))
    assert code == 0, err
    df = pd.read_csv(tmp_path / "shots.scenes.csv")
    assert len(df) == len(truth.boundaries) + 1 and df["end_frame"].iloc[-1] == truth.frame_count
    assert "segments" in out and "shots.scenes.csv" in out


def test_scenes_json_and_stdout(capsys, shots_video, tmp_path):
    path, truth = shots_video
    code, _, err = run(capsys, "scenes", str(path), "-o", str(tmp_path / "t.json"), "-q")
    assert code == 0 and err == ""
    raw = json.loads((tmp_path / "t.json").read_text())
    assert raw["video"]["frame_count"] == truth.frame_count and raw["settings"]["sampling"] == "all"
    code, out, _ = run(capsys, "scenes", str(path), "-o", "-", "-q")
    assert code == 0 and out.startswith("index,start_frame,end_frame")


def test_unwritable_output_exit_5(capsys, shots_video, tmp_path):
    path, _ = shots_video
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, _, err = run(capsys, "scenes", str(path), "-o", str(blocker / "out.csv"), "-q")
    assert code == EXIT_OUTPUT, err
    assert len(err.strip().splitlines()) == 1


def test_clip_without_weights_offline_exit_4(capsys, shots_video, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", "/nonexistent-vidscan-test")
    path, _ = shots_video
    code, _, err = run(capsys, "scenes", str(path), "--embedder", "clip")
    assert code == EXIT_MODEL
    assert len(err.strip().splitlines()) == 1 and "vidscan models download" in err


def test_clip_random_weights_through_cli(capsys, shots_video, tmp_path):
    path, _ = shots_video
    config = DATA / "vidscan-tiny-clip.json"
    code, _, err = run(capsys, "scenes", str(path), "--embedder", "clip", "--model", str(config), "--pretrained", "none",
                       "--device", "cpu", "--sample-fps", "4", "-o", str(tmp_path / "c.json"), "-q")
    assert code == 0, err
    assert json.loads((tmp_path / "c.json").read_text())["settings"]["embedder"]["weights"] == "random-init"


def test_console_script_never_prints_a_traceback(tmp_path):
    done = subprocess.run([sys.executable, "-m", "vidscan.cli.main", "scenes", str(tmp_path / "nope.mp4")], capture_output=True, text=True)
    assert done.returncode == EXIT_INPUT
    assert done.stderr.strip().count("\n") == 0 and "Traceback" not in done.stderr


def test_demo_video_command(capsys, tmp_path):
    out = tmp_path / "demo.mp4"
    code, _, err = run(capsys, "demo-video", str(out), "--seconds", "6", "--size", "160x90", "-q")
    assert code == 0, err
    truth = json.loads((tmp_path / "demo.truth.json").read_text())
    assert truth["frame_count"] >= 150 and out.stat().st_size > 0
    code, _, err = run(capsys, "demo-video", str(out), "--size", "abc")
    assert code == EXIT_USAGE


def test_help_is_fast_and_lists_commands():
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "vidscan.cli.main", "--help"], capture_output=True, text=True)
    assert done.returncode == 0 and "scenes" in done.stdout and "demo-video" in done.stdout
    assert "torch" not in {line.split("|")[-1].strip().split(".")[0] for line in done.stderr.splitlines() if "|" in line}
