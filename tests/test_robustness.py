"""The bad-input corpus through every command: a right result, or one line and a documented
exit code; never a traceback, never a half-written output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import run_ffmpeg
from vidscan.cli.main import main
from vidscan.errors import EXIT_INPUT
from vidscan.synth import Program, Shot, Transition, render


def _corrupt_middle(src: Path, dst: Path) -> None:
    data = bytearray(src.read_bytes())
    for k in range(int(len(data) * 0.45), int(len(data) * 0.55), 997):
        data[k : k + 40] = bytes((k * 7 + j) % 256 for j in range(40))
    dst.write_bytes(bytes(data))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    d = tmp_path_factory.mktemp("robust")
    base = d / "base.mp4"
    render(Program([Shot("studio", 75, 1), Shot("field", 75, 2), Shot("ad", 75, 3)], [Transition("cut"), Transition("cut")], 192, 108), base, gop=25)
    fast = d / "faststart.mp4"
    run_ffmpeg("-i", str(base), "-c", "copy", "-movflags", "+faststart", str(fast))
    c: dict[str, Path] = {}
    c["zero_bytes"] = d / "zero.mp4"
    c["zero_bytes"].write_bytes(b"")
    c["random_bytes"] = d / "random.mp4"
    c["random_bytes"].write_bytes(os.urandom(20000))
    c["truncated_at_half"] = d / "truncated.mp4"
    c["truncated_at_half"].write_bytes(base.read_bytes()[: base.stat().st_size // 2])
    c["no_moov_atom"] = d / "nomoov.mp4"
    raw = base.read_bytes()  # x264 in MP4 without faststart: ftyp, mdat, then moov at the end
    c["no_moov_atom"].write_bytes(raw[: raw.rindex(b"moov") - 4])
    c["faststart_truncated"] = d / "fast_trunc.mp4"
    c["faststart_truncated"].write_bytes(fast.read_bytes()[: int(fast.stat().st_size * 0.6)])
    c["audio_only"] = d / "audio.m4a"
    run_ffmpeg("-f", "lavfi", "-i", "sine=d=1", "-c:a", "aac", str(c["audio_only"]))
    c["still_image"] = d / "still.jpg"
    run_ffmpeg("-f", "lavfi", "-i", "testsrc2=s=64x64", "-frames:v", "1", str(c["still_image"]))
    c["directory"] = d / "a_folder"
    c["directory"].mkdir()
    c["missing"] = d / "missing.mp4"
    c["no_permission"] = d / "locked.mp4"
    c["no_permission"].write_bytes(base.read_bytes())
    c["no_permission"].chmod(0)
    c["spaces_and_unicode"] = d / "my vidéo ✓ – final.mp4"
    c["spaces_and_unicode"].write_bytes(base.read_bytes())
    c["one_frame"] = d / "one.mp4"
    run_ffmpeg("-f", "lavfi", "-i", "testsrc2=s=96x64:r=25", "-frames:v", "1", "-c:v", "libx264", str(c["one_frame"]))
    c["variable_frame_rate"] = d / "vfr.mkv"
    run_ffmpeg("-f", "lavfi", "-i", "testsrc2=s=96x64:r=10:d=2", "-f", "lavfi", "-i", "smptebars=s=96x64:r=30:d=2",
               "-filter_complex", "[0][1]concat=n=2:v=1:a=0", "-fps_mode", "vfr", "-c:v", "libx264", str(c["variable_frame_rate"]))
    c["rotated_phone"] = d / "rotated.mp4"
    run_ffmpeg("-display_rotation", "90", "-i", str(base), "-c", "copy", str(c["rotated_phone"]))
    c["edit_list"] = d / "editlist.mp4"
    run_ffmpeg("-ss", "1.3", "-i", str(base), "-c", "copy", str(c["edit_list"]))
    c["hevc_open_gop"] = d / "hevc.mp4"
    run_ffmpeg("-i", str(base), "-c:v", "libx265", "-x265-params", "open-gop=1:keyint=30:min-keyint=30:bframes=4:log-level=error",
               "-tag:v", "hvc1", str(c["hevc_open_gop"]))
    c["interlaced"] = d / "interlaced.mkv"
    run_ffmpeg("-i", str(base), "-c:v", "libx264", "-flags", "+ildct+ilme", "-x264opts", "tff=1", str(c["interlaced"]))
    c["odd_dimensions"] = d / "odd.mkv"
    run_ffmpeg("-f", "lavfi", "-i", "testsrc=s=99x73:r=25:d=2", "-c:v", "ffv1", str(c["odd_dimensions"]))
    c["raw_h264_stream"] = d / "raw.h264"  # Annex B elementary stream: no container, no timestamps
    run_ffmpeg("-i", str(base), "-c", "copy", "-bsf:v", "h264_mp4toannexb", str(c["raw_h264_stream"]))
    c["corrupt_middle"] = d / "damaged.ts"
    ts = d / "clean.ts"
    run_ffmpeg("-i", str(base), "-c", "copy", "-f", "mpegts", str(ts))
    _corrupt_middle(ts, c["corrupt_middle"])
    return c


#: case -> None (must succeed) or (exit code, words of the one-line message)
EXPECTED: dict[str, tuple[int, str] | None] = {
    "zero_bytes": (EXIT_INPUT, "empty"),
    "random_bytes": (EXIT_INPUT, "not a readable video"),
    "truncated_at_half": (EXIT_INPUT, "not a readable video"),
    "no_moov_atom": (EXIT_INPUT, "not a readable video"),
    "audio_only": (EXIT_INPUT, "no video stream"),
    "still_image": (EXIT_INPUT, "still image"),
    "directory": (EXIT_INPUT, "is a directory"),
    "missing": (EXIT_INPUT, "no such file"),
    "no_permission": (EXIT_INPUT, "permission denied"),
    "faststart_truncated": None,
    "spaces_and_unicode": None,
    "one_frame": None,
    "variable_frame_rate": None,
    "rotated_phone": None,
    "edit_list": None,
    "hevc_open_gop": None,
    "interlaced": None,
    "odd_dimensions": None,
    "corrupt_middle": None,
    "raw_h264_stream": None,
}


#: Where a command rightly reads the input differently (search takes folders of videos).
OVERRIDES = {("search", "directory"): (EXIT_INPUT, "no videos in this folder")}


def _command(name: str, video: Path, out: Path, examples: Path) -> list[str]:
    if name == "scenes":
        return ["scenes", str(video), "-o", str(out / "t.json"), "-q", "--no-cache"]
    if name == "scenes-coarse":
        return ["scenes", str(video), "--decode", "coarse", "-o", str(out / "t.json"), "-q"]
    if name == "classify":
        return ["classify", str(video), "--examples", str(examples), "-o", str(out / "t.json"), "-q", "--no-cache", "--level", "shots"]
    if name == "search":
        return ["search", str(video), "--image", str(examples / "ad" / "ad_00.png"), "--embedder", "features", "-o", str(out / "t.json"), "--no-cache"]
    return ["collect", str(video), "--out", str(out / "frames")]


@pytest.fixture(scope="module")
def examples(tmp_path_factory):
    from vidscan.synth.corpus import write_examples

    d = tmp_path_factory.mktemp("ex")
    write_examples(d, per_label=2, width=160, height=90)
    return d


@pytest.mark.parametrize("command", ["scenes", "scenes-coarse", "classify", "search", "collect"])
@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_corpus_through_every_command(capsys, corpus, examples, tmp_path, command, case):
    if case == "no_permission" and os.geteuid() == 0:
        pytest.skip("running as root: file permissions are not enforced")
    out = tmp_path / "out"
    out.mkdir()
    (out / "t.json").write_text("previous result\n")
    code = main(_command(command, corpus[case], out, examples))
    stdout, err = capsys.readouterr()
    assert "Traceback" not in err
    expected = OVERRIDES.get((command, case), EXPECTED[case])
    if expected is None:
        assert code == 0, err
        if command in ("scenes", "classify"):
            raw = json.loads((out / "t.json").read_text())
            segs = raw["segments"]
            assert segs[0]["start_frame"] == 0 and segs[-1]["end_frame"] == raw["video"]["frame_count"] > 0
            assert all(a["end_frame"] == b["start_frame"] for a, b in zip(segs, segs[1:]))
    else:
        assert code == expected[0], err
        lines = err.strip().splitlines()
        assert len(lines) == 1 and expected[1] in lines[0] and lines[0].startswith("vidscan: error: "), err
        assert (out / "t.json").read_text() == "previous result\n"  # an old result is never overwritten
    assert not [p for p in out.rglob(".*tmp")], "temp files left behind"


def test_damage_is_reported_in_json_and_as_a_warning(capsys, corpus, tmp_path):
    for case in ("corrupt_middle", "faststart_truncated"):
        code = main(["scenes", str(corpus[case]), "-o", str(tmp_path / f"{case}.json"), "--no-cache"])
        _, err = capsys.readouterr()
        assert code == 0
        damaged = json.loads((tmp_path / f"{case}.json").read_text())["stats"]["damaged_ranges_s"]
        assert damaged, case
        assert "could not decode" in err and err.count("\n") == 1
        start, end = damaged[0]
        assert 0 <= start < end <= 9.5


def test_special_files_give_right_results(corpus):
    import vidscan

    one = vidscan.detect_scenes(corpus["one_frame"])
    assert one.frame_count == 1 and len(one.segments) == 1
    odd = vidscan.probe(str(corpus["odd_dimensions"]))
    assert (odd.width, odd.height) == (99, 73)
    rot = vidscan.probe(str(corpus["rotated_phone"]))
    assert (rot.width, rot.height) == (108, 192) and rot.rotation in (90, 270)
    vfr = vidscan.detect_scenes(corpus["variable_frame_rate"])
    assert vfr.frame_count == 80
    assert [s.start_s for s in vfr.segments[1:]] == pytest.approx([2.0], abs=0.05)  # presentation time, not index/fps
    hevc = vidscan.detect_scenes(corpus["hevc_open_gop"])
    assert hevc.frame_count == 225 and [s.start_frame for s in hevc.segments[1:]] == [75, 150]


@pytest.mark.parametrize("decode", ["full", "coarse"])
def test_memory_stays_flat_on_long_low_resolution_video(tmp_path, decode):
    """Peak RSS of a 1-minute and a 12-minute run differ by far less than the frames would take."""
    short, long_ = tmp_path / "short.mp4", tmp_path / "long.mp4"
    run_ffmpeg("-f", "lavfi", "-i", "testsrc2=s=64x36:r=25:d=60", "-c:v", "libx264", "-preset", "ultrafast", str(short))
    run_ffmpeg("-stream_loop", "11", "-i", str(short), "-c", "copy", str(long_))

    def peak_rss_mb(video: Path) -> float:
        code = (
            "import resource, vidscan; vidscan.detect_scenes(%r, decode=%r); "
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)" % (str(video), decode)
        )
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        return float(done.stdout.strip().splitlines()[-1])

    growth = peak_rss_mb(long_) - peak_rss_mb(short)
    frames_mb = 11 * 60 * 25 * 64 * 36 * 3 / 2**20  # what keeping the extra frames would cost
    assert growth < 60, growth
    assert growth < frames_mb / 3



def test_corpus_as_an_archive_batch(capsys, corpus, tmp_path):
    """The whole corpus folder as one batch: good files done, bad ones failed with their
    reason, the batch goes on and exits 1 (some files failed)."""
    import pandas as pd

    from vidscan.errors import EXIT_PARTIAL

    folder = corpus["zero_bytes"].parent
    code = main(["batch", str(folder), "--out", str(tmp_path / "out"), "-q", "--workers", "1"])
    _, err = capsys.readouterr()
    assert code == EXIT_PARTIAL, err
    summary = pd.read_csv(tmp_path / "out" / "summary.csv")
    status = {Path(p).name: s for p, s in zip(summary["path"], summary["status"])}
    bad = {"zero.mp4", "random.mp4", "truncated.mp4", "nomoov.mp4"} | ({"locked.mp4"} if os.geteuid() else set())
    assert {name for name, s in status.items() if s == "failed"} == bad
    assert all(s == "done" for name, s in status.items() if name not in bad)
    errors = dict(zip(summary["path"].map(lambda p: Path(p).name), summary["error"].fillna("")))
    assert "empty" in errors["zero.mp4"] and "not a readable video" in errors["random.mp4"]


@pytest.mark.parametrize("case", ["rotated_phone", "edit_list", "hevc_open_gop", "interlaced", "variable_frame_rate", "corrupt_middle",
                                  "faststart_truncated", "raw_h264_stream"])
def test_coarse_decoding_agrees_with_a_full_decode_on_awkward_files(corpus, case):
    """Keyframes-first decoding counts, times and cuts the same frames as decoding them all.

    On damaged files a frame-threaded full decode loses the frames in flight when a packet
    fails (FFmpeg behaviour), while the single-threaded coarse decoders keep them: there the
    counts may differ by the two frames next to the damage."""
    import vidscan

    full = vidscan.detect_scenes(corpus[case])
    coarse = vidscan.detect_scenes(corpus[case], decode="coarse")
    slack = 2 if case in ("corrupt_middle", "faststart_truncated") else 0
    assert abs(coarse.frame_count - full.frame_count) <= slack
    assert coarse.duration_s == pytest.approx(full.duration_s, abs=slack * 0.04 + 1e-3)
    assert [s.start_frame for s in coarse.segments] == [s.start_frame for s in full.segments]
    assert [s.start_s for s in coarse.segments] == pytest.approx([s.start_s for s in full.segments], abs=1e-3)
    assert bool(coarse.stats["damaged_ranges_s"]) == bool(full.stats["damaged_ranges_s"]) == bool(slack)
    # Without timestamps there is nothing to index: it says so and decodes every frame.
    assert ("notes" in coarse.stats) == (case == "raw_h264_stream") == (coarse.settings.get("decode") != "coarse")
