"""Outputs never destroy data and never land outside their place (issue 12, "Data loss and
writes outside their place"), one test per class, each on at least two commands or files:

1. a target that is an input is refused; devices and FIFOs are written through; nothing but
   a regular file is replaced;
2. symlinks planted in a batch's --out are not followed;
3. a failed run writes none of its outputs;
4. no temp file outlives a run (SIGTERM included), and a batch sweeps old ones;
5. every output is checked before decoding;
6. long names fit, and control characters in names cannot forge error lines.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import run_ffmpeg
from vidscan.cli.main import main
from vidscan.errors import EXIT_OK, EXIT_OUTPUT, EXIT_TERMINATED
from vidscan.synth import Program, Shot, Transition, render

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, Path]:
    """Two tiny videos (an MP4 and an MKV, three shots each) and a few-shot examples folder."""
    from vidscan.synth.corpus import write_examples

    d = tmp_path_factory.mktemp("safety")
    program = Program([Shot("studio", 20, 1), Shot("field", 20, 2), Shot("ad", 20, 3)], [Transition("cut"), Transition("cut")], 96, 64)
    out = {"mp4": d / "clip.mp4", "mkv": d / "clip.mkv"}
    for path in out.values():
        render(program, path)
    out["examples"] = d / "examples"
    write_examples(out["examples"], per_label=2, width=96, height=64)
    return out


def run(capsys, *args: str) -> tuple[int, str]:
    code = main(list(args))
    return code, capsys.readouterr().err


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("vidscan: error: "), err
    return lines[0]


def temp_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.name.endswith(".tmp") or ".tmp." in p.name]


def scenes(video: Path, *extra: str) -> list[str]:
    return ["scenes", str(video), "-q", "--no-cache", *extra]


def classify(video: Path, examples: Path, *extra: str) -> list[str]:
    return ["classify", str(video), "--examples", str(examples), "--level", "shots", "-q", "--no-cache", *extra]


def is_video(path: Path) -> bool:
    import vidscan

    return vidscan.probe(str(path)).frame_count == 60


def subprocess_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


# -- 1. targets: inputs refused, devices written through, only regular files replaced ---------

@pytest.mark.parametrize("kind", ["mp4", "mkv"])
@pytest.mark.parametrize("command", ["scenes", "classify"])
@pytest.mark.parametrize("how", ["same path", "hard link", "symlink"])
def test_an_output_that_is_an_input_is_refused(clips, tmp_path, capsys, kind, command, how):
    video = tmp_path / f"v.{kind}"
    video.write_bytes(clips[kind].read_bytes())
    before = video.read_bytes()
    target = {"same path": video, "hard link": tmp_path / "hard.csv", "symlink": tmp_path / "link.csv"}[how]
    if how == "hard link":
        os.link(video, target)
    elif how == "symlink":
        target.symlink_to(video)
    named = ["--format", "csv"] if how == "same path" else []  # a .mp4 name alone is already a usage error (no such format)
    args = scenes(video, "-o", str(target), *named) if command == "scenes" else classify(video, clips["examples"], "-o", str(target), *named)
    code, err = run(capsys, *args)
    assert code == EXIT_OUTPUT
    assert "is an input of this run" in one_error_line(err)
    assert video.read_bytes() == before and is_video(video)
    assert target.read_bytes() == before  # the link (or the file) is untouched too
    # an export that is the input is refused the same way
    code, err = run(capsys, *scenes(video, "-o", str(tmp_path / "t.csv"), "--chapters", str(target)))
    assert code == EXIT_OUTPUT and "is an input" in one_error_line(err) and is_video(video)


def _char_device(path: Path) -> Path:
    try:
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, 3))  # a private /dev/null
    except (PermissionError, OSError) as exc:
        pytest.skip(f"cannot create a character device here ({exc})")
    return path


@pytest.mark.parametrize("option", ["-o", "--report", "--embeddings"])
def test_a_character_device_is_written_through_and_stays_a_device(clips, tmp_path, capsys, option):
    nul = _char_device(tmp_path / "nul")
    args = [option, str(nul)] if option == "-o" else ["-o", str(tmp_path / "t.csv"), option, str(nul)]
    assert run(capsys, *scenes(clips["mp4"], *args))[0] == EXIT_OK
    assert stat.S_ISCHR(os.lstat(nul).st_mode)
    assert not temp_files(tmp_path)


@pytest.mark.parametrize("command", ["scenes", "classify"])
def test_a_fifo_is_written_through_and_stays_a_fifo(clips, tmp_path, capsys, command):
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    args = (scenes(clips["mkv"], "-o", str(fifo), "--format", "json") if command == "scenes"
            else classify(clips["mkv"], clips["examples"], "-o", str(tmp_path / "l.csv"), "--report", str(fifo)))
    code, err = run(capsys, *args)
    reader.join(timeout=30)
    assert code == EXIT_OK, err
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    if command == "scenes":
        assert json.loads(received[0])["video"]["frame_count"] == 60
    else:
        assert received[0].startswith(b"<!DOCTYPE html>") or b"<html" in received[0][:200]
    assert not temp_files(tmp_path)


@pytest.mark.parametrize("command", ["scenes", "classify"])
def test_a_symlink_to_a_pipe_is_written_through(clips, tmp_path, command):
    """Like ``-o /dev/stdout`` (a link to /proc/self/fd/1, a pipe here), with a link of our own."""
    if not Path("/proc/self/fd/1").exists():
        pytest.skip("needs /proc")
    link = tmp_path / "stdout.txt"
    link.symlink_to("/proc/self/fd/1")
    args = (scenes(clips["mp4"], "-o", str(link), "--format", "csv") if command == "scenes"
            else classify(clips["mkv"], clips["examples"], "-o", str(tmp_path / "l.csv"), "--chapters", str(link)))
    done = subprocess.run([sys.executable, "-m", "vidscan.cli.main", *args], cwd=tmp_path, env=subprocess_env(),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == EXIT_OK, done.stderr
    assert done.stdout.startswith("index,start_frame" if command == "scenes" else ";FFMETADATA1")
    assert link.is_symlink() and os.readlink(link) == "/proc/self/fd/1"
    assert not temp_files(tmp_path)


def test_only_regular_files_are_replaced(clips, tmp_path, capsys):
    folder = tmp_path / "a_folder"
    folder.mkdir()
    sock_path = tmp_path / "s.sock"
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(sock_path))
    try:
        for option, target in (("--chapters", folder), ("--edl", sock_path), ("--report", sock_path)):
            code, err = run(capsys, *scenes(clips["mp4"], "-o", str(tmp_path / "t.csv"), option, str(target)))
            assert code == EXIT_OUTPUT, err
            line = one_error_line(err)
            assert "directory" in line or "socket" in line
        assert folder.is_dir() and stat.S_ISSOCK(os.lstat(sock_path).st_mode)
        code, err = run(capsys, "search", str(clips["mp4"]), "--image", str(clips["examples"] / "ad" / "ad_00.png"),
                        "--embedder", "features", "-q", "--no-cache", "-o", str(sock_path))
        assert code == EXIT_OUTPUT and "socket" in one_error_line(err)
        assert stat.S_ISSOCK(os.lstat(sock_path).st_mode) and not (tmp_path / "t.csv").exists()
    finally:
        sock.close()


# -- 2. symlinks planted in a batch's --out ----------------------------------------------------

@pytest.mark.parametrize("planted", [".vidscan-batch.lock", "manifest.sqlite", "manifest.sqlite-wal", "summary.csv"])
def test_batch_refuses_symlinks_planted_at_its_run_files(clips, tmp_path, capsys, planted):
    outside = tmp_path / "outside"
    outside.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    (out / planted).symlink_to(outside / "target")
    code, err = run(capsys, "batch", str(clips["mp4"]), str(clips["mkv"]), "--out", str(out), "-q", "--no-cache", "--workers", "1")
    assert code == EXIT_OUTPUT
    assert "symlink" in one_error_line(err) and planted in err
    assert list(outside.iterdir()) == []  # nothing created at the link's target
    assert (out / planted).is_symlink()


def test_manifest_and_lock_are_opened_without_following_links(tmp_path):
    from vidscan.batch.manifest import BatchLock, Manifest
    from vidscan.errors import OutputError

    outside = tmp_path / "outside"
    outside.mkdir()
    (tmp_path / "m.sqlite").symlink_to(outside / "m.sqlite")
    with pytest.raises(OutputError, match="symlink"):
        Manifest(tmp_path / "m.sqlite")
    (tmp_path / "n.sqlite-shm").symlink_to(outside / "shm")
    with pytest.raises(OutputError, match="symlink"):
        Manifest(tmp_path / "n.sqlite")
    (tmp_path / ".vidscan-batch.lock").symlink_to(outside / "lock")
    with pytest.raises(OutputError, match="symlink"):
        BatchLock(tmp_path).acquire()
    assert list(outside.iterdir()) == []


# -- 3. a failed run writes none of its outputs -------------------------------------------------

def _fsync_fails_in(folder: Path, monkeypatch) -> None:
    """Disk full: fsync of any file inside ``folder`` fails with ENOSPC (as delayed allocation does)."""
    real = os.fsync
    folder = folder.resolve()

    def fsync(fd: int) -> None:
        if Path(os.readlink(f"/proc/self/fd/{fd}")).parent == folder:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real(fd)

    if not Path("/proc/self/fd").is_dir():
        pytest.skip("needs /proc")
    monkeypatch.setattr(os, "fsync", fsync)


@pytest.mark.parametrize("command", ["scenes", "classify"])
def test_disk_full_during_save_frames_leaves_no_outputs(clips, tmp_path, capsys, monkeypatch, command):
    (tmp_path / "c.txt").write_text("old chapters\n")  # an earlier result stays as it was
    _fsync_fails_in(tmp_path / "frames", monkeypatch)
    outputs = ["-o", str(tmp_path / "t.csv"), "--chapters", str(tmp_path / "c.txt"), "--edl", str(tmp_path / "e.edl"),
               "--save-frames", str(tmp_path / "frames"), "--report", str(tmp_path / "r.html")]
    args = scenes(clips["mp4"], *outputs) if command == "scenes" else classify(clips["mkv"], clips["examples"], *outputs)
    code, err = run(capsys, *args)
    assert code == EXIT_OUTPUT
    assert "No space left" in one_error_line(err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.txt"]  # no frames folder, no timeline, no EDL, no report, no temp
    assert (tmp_path / "c.txt").read_text() == "old chapters\n"


@pytest.mark.parametrize("command", ["scenes", "classify"])
def test_a_file_size_limit_hit_mid_run_leaves_no_outputs(clips, tmp_path, command):
    """A real write failure (RLIMIT_FSIZE: EFBIG) on the largest output: the small ones that
    were written before it must not appear either."""
    import resource

    outputs = ["-o", str(tmp_path / "out" / "t.csv"), "--chapters", str(tmp_path / "out" / "c.txt"),
               "--edl", str(tmp_path / "out" / "e.edl"), "--embeddings", str(tmp_path / "out" / "e.npy")]
    args = scenes(clips["mp4"], *outputs) if command == "scenes" else classify(clips["mkv"], clips["examples"], *outputs)

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (8192, resource.RLIM_INFINITY))  # the .npy is ~40 kB, the rest < 2 kB

    done = subprocess.run([sys.executable, "-m", "vidscan.cli.main", *args], cwd=tmp_path, env=subprocess_env(),
                          capture_output=True, text=True, preexec_fn=limit, timeout=120)
    assert done.returncode == EXIT_OUTPUT, done.stderr
    assert "e.npy: cannot write" in one_error_line(done.stderr)
    assert not (tmp_path / "out").exists()  # the folder made for them is gone too
    assert not temp_files(tmp_path)


def test_library_save_frames_is_all_or_nothing(clips, tmp_path, monkeypatch):
    import vidscan
    from vidscan.errors import OutputError
    from vidscan.export import save_frames

    timeline = vidscan.detect_scenes(clips["mp4"])
    _fsync_fails_in(tmp_path / "frames", monkeypatch)
    with pytest.raises(OutputError, match="No space"):
        save_frames(timeline, tmp_path / "frames")
    assert list(tmp_path.iterdir()) == []


# -- 4. temp files: SIGTERM, and a batch sweeps leftovers -----------------------------------------

_SIGTERM_WHILE_WRITING = """
import os, signal, sys
from pathlib import Path
real = os.fsync
folder = Path(sys.argv[1]).resolve()
def fsync(fd):
    path = Path(os.readlink(f"/proc/self/fd/{fd}"))
    if path.parent == folder and path.name.startswith(".vs-"):
        os.kill(os.getpid(), signal.SIGTERM)  # SIGTERM in the middle of the final write
    real(fd)
os.fsync = fsync
from vidscan.cli.main import main
sys.exit(main(sys.argv[2:]))
"""


@pytest.mark.parametrize("command", ["scenes", "classify"])
def test_sigterm_during_the_final_write_cleans_up_and_exits_143(clips, tmp_path, command):
    out = tmp_path / "out"
    outputs = ["-o", str(out / "t.json"), "--chapters", str(out / "c.txt")]
    args = scenes(clips["mp4"], *outputs) if command == "scenes" else classify(clips["mkv"], clips["examples"], *outputs)
    done = subprocess.run([sys.executable, "-c", _SIGTERM_WHILE_WRITING, str(out), *args], cwd=tmp_path, env=subprocess_env(),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == EXIT_TERMINATED, done.stderr
    assert "terminated" in one_error_line(done.stderr)
    assert not out.exists() and not temp_files(tmp_path)


def test_sigterm_while_a_batch_writes_its_summary_then_a_rerun_finishes(clips, tmp_path):
    out = tmp_path / "out"
    args = ["batch", str(clips["mp4"]), str(clips["mkv"]), "--out", str(out), "--workers", "1", "--no-cache", "-q"]
    done = subprocess.run([sys.executable, "-c", _SIGTERM_WHILE_WRITING, str(out), *args], cwd=tmp_path, env=subprocess_env(),
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == EXIT_TERMINATED, done.stderr
    assert "terminated" in one_error_line(done.stderr)
    assert not temp_files(out) and not (out / "summary.csv").exists()
    rerun = subprocess.run([sys.executable, "-m", "vidscan.cli.main", *args], cwd=tmp_path, env=subprocess_env(),
                           capture_output=True, text=True, timeout=180)
    assert rerun.returncode == EXIT_OK, rerun.stderr
    assert (out / "summary.csv").is_file() and not temp_files(out)


def test_a_batch_sweeps_vidscan_temp_files_left_under_its_folder(clips, tmp_path, capsys):
    out = tmp_path / "out"
    nested = out / "videos" / "someone-0123456789ab"
    nested.mkdir(parents=True)
    ours = [out / ".vs-0123abcd.tmp", nested / ".vs-deadbeef.tmp", out / ".vs-0123abcd.tmp.mp4",
            out / ".summary.csv.k3j4h5g6.tmp", out / ".index.html.a1b2c3d4.tmp"]  # the last two: vidscan 0.1's names
    theirs = [out / "notes.tmp", out / ".vs-not-hex.tmp", nested / "keep.txt", out / ".summary.csv.tmp"]
    for p in ours + theirs:
        p.write_text("x")
    code, err = run(capsys, "batch", str(clips["mp4"]), "--out", str(out), "-q", "--no-cache", "--workers", "1")
    assert code == EXIT_OK, err
    assert not any(p.exists() for p in ours)
    assert all(p.exists() for p in theirs)


# -- 5. every output is checked before any decoding ---------------------------------------------

def _no_decoding(monkeypatch) -> None:
    def boom(*a, **k):
        raise AssertionError("decoding started before the outputs were checked")

    import importlib

    for module, name in (("vidscan.pipeline", "detect_scenes"), ("vidscan.classification", "classify"), ("vidscan.search", "search"),
                         ("vidscan.collect", "_select"), ("vidscan.batch.runner", "_process")):
        monkeypatch.setattr(importlib.import_module(module), name, boom)


@pytest.mark.parametrize("case", ["scenes -o", "scenes --report", "scenes --embeddings", "scenes --save-frames", "classify -o",
                                  "classify --chapters", "search -o", "search --thumbnails", "collect --out", "batch --out"])
def test_every_output_is_checked_before_decoding(clips, tmp_path, capsys, monkeypatch, case):
    _no_decoding(monkeypatch)
    blocker = tmp_path / "a_file"  # a file where a folder should be: nothing can be written under it (ENOTDIR)
    blocker.write_text("x")
    bad = str(blocker / "sub" / "x.out")
    bad_table = str(blocker / "sub" / "x.csv")  # -o's name must also name a format
    image = str(clips["examples"] / "ad" / "ad_00.png")
    ok = str(tmp_path / "ok.csv")
    args = {
        "scenes -o": scenes(clips["mp4"], "-o", bad_table),
        "scenes --report": scenes(clips["mp4"], "-o", ok, "--report", bad),
        "scenes --embeddings": scenes(clips["mkv"], "-o", ok, "--embeddings", bad),
        "scenes --save-frames": scenes(clips["mkv"], "-o", ok, "--save-frames", bad),
        "classify -o": classify(clips["mp4"], clips["examples"], "-o", bad_table),
        "classify --chapters": classify(clips["mkv"], clips["examples"], "-o", ok, "--chapters", bad),
        "search -o": ["search", str(clips["mp4"]), "--image", image, "--embedder", "features", "-q", "-o", bad_table],
        "search --thumbnails": ["search", str(clips["mkv"]), "--image", image, "--embedder", "features", "-q", "--thumbnails", bad],
        "collect --out": ["collect", str(clips["mp4"]), "--out", bad, "-q"],
        "batch --out": ["batch", str(clips["mp4"]), "--out", bad, "-q"],
    }[case]
    code, err = run(capsys, *args)
    assert code == EXIT_OUTPUT, err
    assert "AssertionError" not in err and "a_file" in one_error_line(err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_file"]


@pytest.mark.skipif(os.geteuid() == 0, reason="running as root: folder permissions are not enforced")
@pytest.mark.parametrize("command", ["scenes", "collect"])
def test_a_read_only_folder_is_refused_before_decoding(clips, tmp_path, capsys, monkeypatch, command):
    _no_decoding(monkeypatch)
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        args = scenes(clips["mp4"], "-o", str(ro / "t.csv")) if command == "scenes" else ["collect", str(clips["mp4"]), "--out", str(ro), "-q"]
        code, err = run(capsys, *args)
        assert code == EXIT_OUTPUT and "permission denied" in one_error_line(err)
    finally:
        ro.chmod(0o755)


# -- 6. names: long ones fit, control characters are escaped ---------------------------------------

@pytest.mark.parametrize("option", ["-o", "--chapters", "--save-frames"])
def test_a_255_byte_output_name_works(clips, tmp_path, capsys, option):
    name = "n" * 251 + ".csv"
    assert len(name) == 255
    args = ["-o", str(tmp_path / name)] if option == "-o" else ["-o", str(tmp_path / "t.csv"), option, str(tmp_path / name)]
    code, err = run(capsys, *scenes(clips["mp4"], *args))
    assert code == EXIT_OK, err
    assert (tmp_path / name).exists() and not temp_files(tmp_path)


def test_a_name_that_cannot_fit_is_refused_before_decoding(clips, tmp_path, capsys, monkeypatch):
    _no_decoding(monkeypatch)
    long_csv = str(tmp_path / ("n" * 252 + ".csv"))  # 256 bytes
    code, err = run(capsys, *scenes(clips["mp4"], "-o", long_csv))
    assert code == EXIT_OUTPUT and "too long" in one_error_line(err)
    fits = str(tmp_path / ("n" * 250 + ".csv"))  # fits, but <stem>.totals.json beside it would not
    code, err = run(capsys, *classify(clips["mp4"], clips["examples"], "-o", fits))
    assert code == EXIT_OUTPUT and "too long" in one_error_line(err)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", ["scenes", "collect", "search"])
def test_control_characters_in_names_cannot_forge_error_lines(clips, tmp_path, capsys, command):
    evil = tmp_path / "a\nvidscan: error: forged\x1b[31m.mp4"  # missing input
    args = {"scenes": scenes(evil), "collect": ["collect", str(evil), "--out", str(tmp_path / "o")],
            "search": ["search", str(evil), "--image", str(clips["examples"] / "ad" / "ad_00.png"), "--embedder", "features"]}[command]
    code, err = run(capsys, *args)
    assert code != 0
    line = one_error_line(err)
    assert "\\nvidscan: error: forged\\x1b[31m" in line and "\x1b" not in err
    # and an output name with a newline in an error about the output
    blocker = tmp_path / "f"
    blocker.write_text("x")
    code, err = run(capsys, *scenes(clips["mp4"], "-o", str(blocker / "x\nvidscan: error: forged.csv")))
    assert code == EXIT_OUTPUT and "\\nvidscan: error: forged" in one_error_line(err)


# SIGTERM while decoding (not only during the final write) ------------------------------------

@pytest.fixture(scope="module")
def long_clip(tmp_path_factory) -> Path:
    """A 60 s 720p clip: long enough to be interrupted while it decodes."""
    video = tmp_path_factory.mktemp("long") / "long.mkv"
    run_ffmpeg("-f", "lavfi", "-i", "testsrc2=s=1280x720:r=25:d=60", "-c:v", "libx264", "-preset", "ultrafast", str(video))
    return video


#: Runs a command with SIGTERM sent to itself once the decoder has delivered its first batch:
#: the signal lands while decoding, whatever the machine's speed.
_SIGTERM_WHILE_DECODING = """
import os, signal, sys
from vidscan.video.pyav_backend import PyAVSource
batches = PyAVSource.batches
def first_then_terminate(self, *args, **kwargs):
    for n, batch in enumerate(batches(self, *args, **kwargs)):
        yield batch
        if n == 0:
            os.kill(os.getpid(), signal.SIGTERM)
PyAVSource.batches = first_then_terminate
from vidscan.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("command", ["scenes", "collect"])
def test_sigterm_while_decoding_exits_143_and_leaves_nothing(long_clip, tmp_path, command):
    out = tmp_path / "out"
    out.mkdir()
    args = ["-o", str(out / "t.json"), "--no-cache"] if command == "scenes" else ["--out", str(out / "stills")]
    done = subprocess.run([sys.executable, "-c", _SIGTERM_WHILE_DECODING, command, str(long_clip), *args, "--quiet"],
                          cwd=tmp_path, env=subprocess_env(), capture_output=True, text=True, timeout=120)
    assert done.returncode == EXIT_TERMINATED, done.stderr
    assert done.stderr.strip().count("\n") == 0 and "terminated" in done.stderr
    assert list(out.rglob("*")) == []


def _comparable(folder: Path) -> dict[str, object]:
    """Every file under a batch's --out, with what differs between any two runs left out: the
    timings (and attempts, in the summary; the run state, in the manifest)."""
    import pandas as pd

    out: dict[str, object] = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        name = path.relative_to(folder).as_posix()
        if name in ("manifest.sqlite", ".vidscan-batch.lock"):
            out[name] = "state"
        elif name == "summary.csv":
            out[name] = pd.read_csv(path).drop(columns=["wall_s", "x_realtime", "attempts"]).astype(object).fillna("").to_dict("list")
        elif name == "summary.parquet":
            out[name] = pd.read_parquet(path).drop(columns=["wall_s", "x_realtime", "attempts"]).astype(object).fillna("").to_dict("list")
        elif path.suffix == ".json":
            data = json.loads(path.read_text())
            data.get("stats", {}).pop("timings_s", None)
            out[name] = data
        else:
            out[name] = path.read_bytes()
    return out


def test_a_batch_interrupted_between_files_then_rerun_equals_an_uninterrupted_run(tmp_path):
    """SIGTERM once the first video's results are in, then the same command again: the --out
    folder holds exactly what a run that was never interrupted writes (byte for byte, timings
    aside), and nothing else."""
    archive = tmp_path / "archive"
    archive.mkdir()
    for k, look in enumerate(["bars", "testsrc", "gradients"]):
        render(Program([Shot(look, 150, seed=k), Shot("studio", 150, seed=k + 3)], [Transition("cut")], width=320, height=180, fps=25),
               archive / f"v{k}.mp4")
    clean, broken = tmp_path / "clean", tmp_path / "broken"
    command = [sys.executable, "-m", "vidscan.cli.main", "batch", str(archive), "--workers", "1", "--no-cache", "-q", "--out"]
    assert subprocess.run([*command, str(clean)], cwd=tmp_path, env=subprocess_env(), capture_output=True, timeout=300).returncode == EXIT_OK
    running = subprocess.Popen([*command, str(broken)], cwd=tmp_path, env=subprocess_env(), stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not list(broken.glob("videos/*/timeline.json")) and time.monotonic() < deadline and running.poll() is None:
        time.sleep(0.02)
    running.send_signal(signal.SIGTERM)
    assert running.wait(timeout=60) == EXIT_TERMINATED, running.stderr.read()
    assert len(list(broken.glob("videos/*/timeline.json"))) < 3  # it really stopped part-way
    rerun = subprocess.run([*command, str(broken)], cwd=tmp_path, env=subprocess_env(), capture_output=True, text=True, timeout=300)
    assert rerun.returncode == EXIT_OK, rerun.stderr
    assert _comparable(broken) == _comparable(clean)
