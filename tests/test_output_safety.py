"""Nothing lost, nothing written outside its place (issue "Nothing lost, nothing escaped"):
each class of output hazard on at least two instances (two commands, or two kinds of file).

Commands run in-process through ``vidscan.cli.main.main`` (the real entry point: exit codes
and the one-line error), except SIGTERM, which needs a real process.
"""

from __future__ import annotations

import errno
import os
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import run_ffmpeg
from vidscan.atomic import is_temp_name
from vidscan.cli.main import main
from vidscan.errors import EXIT_OUTPUT, EXIT_TERMINATED, EXIT_USAGE

REAL = Path(__file__).parent / "data" / "real"


@pytest.fixture()
def clip(tmp_path) -> Path:
    video = tmp_path / "in.mp4"
    shutil.copy(REAL / "early_cut.mp4", video)
    return video


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory) -> Path:
    """A 60 s 720p clip: long enough to be interrupted while it decodes."""
    video = tmp_path_factory.mktemp("long") / "long.mkv"
    run_ffmpeg("-f", "lavfi", "-i", "testsrc2=s=1280x720:r=25:d=60", "-c:v", "libx264", "-preset", "ultrafast", str(video))
    return video


def temp_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if is_temp_name(p.name, legacy=True)]


def run(*args: str) -> int:
    return main([*args, "--quiet"])


# 1. A target that is an input, a device or a FIFO, or a folder ---------------------------------

@pytest.mark.parametrize("link", ["same", "hardlink", "symlink"])
@pytest.mark.parametrize("command", ["scenes", "classify"])
def test_an_output_that_is_an_input_is_refused(clip, tmp_path, link, command, capsys):
    before = clip.read_bytes()
    target = clip if link == "same" else tmp_path / "out.csv"
    if link == "hardlink":
        os.link(clip, target)
    elif link == "symlink":
        target.symlink_to(clip)
    extra = ["--examples", str(_examples(tmp_path))] if command == "classify" else []
    assert run(command, str(clip), "-o", str(target), "--no-cache", *extra) == EXIT_OUTPUT
    assert clip.read_bytes() == before
    assert "input" in capsys.readouterr().err


def _examples(tmp_path: Path) -> Path:
    from PIL import Image

    folder = tmp_path / "examples"
    for label, colour in (("a", (200, 30, 30)), ("b", (30, 30, 200))):
        (folder / label).mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (64, 36), colour).save(folder / label / "x.png")
    return folder


def test_dev_null_is_written_through_and_stays_a_device(clip):
    assert run("scenes", str(clip), "-o", os.devnull, "--format", "json", "--no-cache", "--chapters", os.devnull) == 0
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)


@pytest.mark.skipif(os.geteuid() != 0, reason="mknod needs root")
def test_a_character_device_in_a_folder_stays_a_device(clip, tmp_path):
    node = tmp_path / "nul"
    os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    assert run("scenes", str(clip), "-o", str(node), "--no-cache") == 0
    assert stat.S_ISCHR(os.lstat(node).st_mode)


def test_a_fifo_receives_the_output(clip, tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    try:
        assert run("scenes", str(clip), "-o", str(fifo), "--format", "csv", "--no-cache") == 0
    finally:
        reader.join(timeout=30)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert got and got[0].startswith(b"index,") and b"\n1," in got[0]


@pytest.mark.parametrize("option", ["-o", "--edl"])
def test_a_folder_is_not_replaced(clip, tmp_path, option):
    folder = tmp_path / "taken"
    folder.mkdir()
    (folder / "keep.txt").write_text("x")
    args = ["-o", str(tmp_path / "t.csv")] if option == "--edl" else []
    assert run("scenes", str(clip), option, str(folder), *args, "--no-cache") in (EXIT_USAGE, EXIT_OUTPUT)  # -o: click refuses it
    assert (folder / "keep.txt").read_text() == "x"


# 2. Links planted in a batch's --out ---------------------------------------------------------

@pytest.mark.parametrize("planted", [".vidscan-batch.lock", "manifest.sqlite", "summary.csv"])
def test_batch_refuses_links_planted_in_its_folder(clip, tmp_path, planted):
    out, outside = tmp_path / "out", tmp_path / "outside"
    out.mkdir()
    outside.mkdir()
    (out / planted).symlink_to(outside / "target")
    code = run("batch", str(clip), "--out", str(out), "--workers", "1", "--no-cache")
    assert code == EXIT_OUTPUT
    assert list(outside.iterdir()) == []  # nothing was created where the link points
    assert (out / planted).is_symlink()


# 3. A failed run writes none of its outputs ---------------------------------------------------

def fail_writes_to(monkeypatch, part: str, code: int) -> None:
    """Make flushing any file whose temp file sits under a path containing ``part`` fail with
    ``code`` (ENOSPC: the disk filled up while that output was written)."""
    real = os.fsync

    def fsync(fd: int) -> None:
        if part in os.readlink(f"/proc/self/fd/{fd}"):
            raise OSError(code, os.strerror(code))
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)


@pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="needs /proc")
def test_disk_full_while_saving_frames_leaves_no_output(clip, tmp_path, monkeypatch):
    fail_writes_to(monkeypatch, "frames", errno.ENOSPC)
    out = tmp_path / "o"
    code = run("scenes", str(clip), "-o", str(out / "t.csv"), "--chapters", str(out / "c.txt"), "--edl", str(out / "e.edl"),
               "--save-frames", str(out / "frames"), "--no-cache")
    assert code == EXIT_OUTPUT
    assert not out.exists() or list(out.rglob("*")) == []


@pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="needs /proc")
def test_a_failing_export_in_classify_keeps_the_old_outputs(clip, tmp_path, monkeypatch):
    target = tmp_path / "labels.csv"
    target.write_text("old\n")
    examples = _examples(tmp_path)
    (tmp_path / "edl").mkdir()
    fail_writes_to(monkeypatch, "/edl/", errno.EIO)
    code = run("classify", str(clip), "--examples", str(examples), "-o", str(target), "--edl", str(tmp_path / "edl" / "x.edl"),
               "--chapters", str(tmp_path / "x.txt"), "--no-cache")
    assert code == EXIT_OUTPUT
    assert target.read_text() == "old\n"
    assert not (tmp_path / "x.txt").exists() and not (tmp_path / "labels.totals.csv").exists()
    assert temp_files(tmp_path) == []


# 4. SIGTERM and temp files left by killed runs ------------------------------------------------

@pytest.mark.parametrize("command", ["scenes", "collect"])
def test_sigterm_exits_143_and_leaves_nothing(long_clip, tmp_path, command):
    out = tmp_path / "out"
    out.mkdir()
    args = ["-o", str(out / "t.json"), "--no-cache"] if command == "scenes" else ["--out", str(out / "stills")]
    proc = subprocess.Popen([sys.executable, "-m", "vidscan.cli.main", command, str(long_clip), *args, "--quiet"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for_cpu(proc.pid, seconds=4.0)  # imports done (about 2.5 s of CPU), well into decoding
    assert proc.poll() is None, "the run ended before it could be interrupted"
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == EXIT_TERMINATED, err
    assert err.strip().count("\n") == 0 and "terminated" in err
    assert list(out.rglob("*")) == []


def _wait_for_cpu(pid: int, seconds: float, timeout: float = 60.0) -> None:
    """Until process ``pid`` has used ``seconds`` of CPU (so a loaded machine does not matter)."""
    tick = os.sysconf("SC_CLK_TCK")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return
        if (int(fields[11]) + int(fields[12])) / tick >= seconds:
            return
        time.sleep(0.1)


def test_batch_removes_temp_files_a_killed_run_left(clip, tmp_path):
    out = tmp_path / "out"
    (out / "videos" / "x").mkdir(parents=True)
    leftovers = [out / ".vs-0123abcd.tmp", out / ".summary.csv.k2j4h5g6.tmp", out / "videos" / "x" / ".vs-89abcdef.tmp"]
    for path in leftovers:
        path.write_text("partial")
    (out / "notes.txt").write_text("mine")
    assert run("batch", str(clip), "--out", str(out), "--workers", "1", "--no-cache") == 0
    assert not any(p.exists() for p in leftovers)
    assert (out / "notes.txt").read_text() == "mine"
    assert temp_files(out) == []


# 5. Every output checked before any decoding --------------------------------------------------

@pytest.mark.parametrize("command", ["scenes", "search", "collect"])
def test_an_unwritable_output_fails_before_decoding(clip, tmp_path, monkeypatch, command):
    import vidscan.video as video

    def no_decoding(*args, **kwargs):
        raise AssertionError("decoding started")

    monkeypatch.setattr(video, "open_video", no_decoding)
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    bad = str(blocker / "sub" / "x.csv")  # a file where a folder should be
    args = {"scenes": ["scenes", str(clip), "-o", bad, "--no-cache"],
            "search": ["search", str(clip), "--image", str(_examples(tmp_path) / "a" / "x.png"), "--embedder", "features", "-o", bad],
            "collect": ["collect", str(clip), "--out", str(blocker / "stills")]}[command]
    assert run(*args) == EXIT_OUTPUT


# 6. Long names and control characters ---------------------------------------------------------

@pytest.mark.parametrize("command", ["scenes", "classify"])
def test_a_254_character_output_name_works(clip, tmp_path, command):
    target = tmp_path / ("n" * 250 + ".csv")
    extra = ["--examples", str(_examples(tmp_path))] if command == "classify" else []
    if command == "classify":  # the totals beside it add ".totals.csv": keep those within 255 too
        target = tmp_path / ("n" * 240 + ".csv")
    assert run(command, str(clip), "-o", str(target), "--no-cache", *extra) == 0
    assert target.read_text().startswith("index,")


@pytest.mark.parametrize("name", ["a\nvidscan: error: forged.mp4", "b\rvidscan: error: forged\x1b[2K.mp4"])
def test_control_characters_in_a_name_cannot_forge_lines(tmp_path, capsys, name):
    assert main(["scenes", str(tmp_path / name), "--quiet"]) != 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "\r" not in err and "\x1b" not in err
    assert err.startswith("vidscan: error: ")
