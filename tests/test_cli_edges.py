"""Edge cases of the command line (issue 12, items 10 and 16, and library argument checks):
every failure is one ``vidscan: error:`` line with its class's exit code, never a traceback,
a raw ffmpeg line or a table of errors with exit 0."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_outputs_safety import subprocess_env
from vidscan.errors import EXIT_INPUT, EXIT_OK, EXIT_OUTPUT, EXIT_USAGE
from vidscan.synth import Program, Shot, Transition, render


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    """A 40-frame, two-shot video: small enough that a bench run of one method takes seconds."""
    path = tmp_path_factory.mktemp("edges") / "clip.mp4"
    render(Program([Shot("studio", 20, 1), Shot("field", 20, 2)], [Transition("cut")], 96, 64), path)
    return path


def vidscan(*args: str, cwd: Path, env: dict[str, str] | None = None, stdout: int | None = subprocess.PIPE) -> subprocess.CompletedProcess:
    """Run the console entry point in a fresh interpreter (stderr as text)."""
    return subprocess.run([sys.executable, "-m", "vidscan.cli.main", *args], cwd=cwd, env=env or subprocess_env(),
                          stdout=stdout, stderr=subprocess.PIPE, text=True, timeout=180)


def one_error_line(done: subprocess.CompletedProcess, code: int) -> str:
    """The run failed with ``code`` and said so in exactly one line (the last on stderr:
    bench logs each run before it)."""
    lines = done.stderr.strip().splitlines()
    errors = [line for line in lines if line.startswith("vidscan: error: ")]
    assert done.returncode == code, done.stderr
    assert len(errors) == 1 and lines[-1] == errors[0], done.stderr
    assert "Traceback" not in done.stderr
    return errors[0]


# -- item 10: bench checks its inputs, and fails when vidscan fails ---------------------------

def bad_input(kind: str, folder: Path) -> Path:
    """An input no command can use, of the given kind."""
    path = folder / f"{kind}.mp4"
    if kind == "missing":
        pass
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "not a video":
        path.write_text("hello\n")
    elif kind == "folder without videos":
        path = folder / "no_videos"
        path.mkdir()
        (path / "notes.txt").write_text("x")
    elif kind == "folder holding a non-video":
        path = folder / "mixed"
        path.mkdir()
        (path / "fake.mkv").write_text("not a video")
    return path


@pytest.mark.parametrize("kind", ["missing", "fifo", "empty", "not a video", "folder without videos", "folder holding a non-video"])
def test_bench_checks_its_inputs_before_any_run(tmp_path, clip, kind):
    target = bad_input(kind, tmp_path)
    done = vidscan("bench", str(clip), str(target), "--methods", "scenes", cwd=tmp_path)
    line = one_error_line(done, EXIT_INPUT)
    assert target.name in line
    assert done.stdout == "" and ": scenes ..." not in done.stderr  # no run, no table


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a file without read permission")
def test_bench_refuses_an_unreadable_file(tmp_path, clip):
    locked = tmp_path / "locked.mp4"
    locked.write_bytes(clip.read_bytes())
    locked.chmod(0)
    line = one_error_line(vidscan("bench", str(locked), "--methods", "scenes", cwd=tmp_path), EXIT_INPUT)
    assert "permission denied" in line


def test_bench_fails_when_vidscans_own_method_fails(tmp_path, clip):
    """A failure mid-run (here the scenes method cannot write its timeline) is the run's failure."""
    video = tmp_path / "v.mp4"
    video.write_bytes(clip.read_bytes())
    (tmp_path / "v.scenes.bench.json").mkdir()
    done = vidscan("bench", str(video), "--methods", "scenes", cwd=tmp_path)
    assert "is a directory" in one_error_line(done, EXIT_OUTPUT)
    assert done.stdout == ""


@pytest.fixture
def broken_peer(tmp_path) -> dict[str, str]:
    """An environment whose PySceneDetect fails on every file."""
    package = tmp_path / "peer" / "scenedetect"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(
        "class AdaptiveDetector:\n    pass\n\n\ndef detect(*args, **kwargs):\n    raise RuntimeError('broken on purpose')\n")
    env = subprocess_env()
    env["PYTHONPATH"] = os.pathsep.join([str(package.parent), env["PYTHONPATH"]])
    return env


def test_bench_fails_when_no_method_works_on_a_file(tmp_path, clip, broken_peer):
    done = vidscan("bench", str(clip), "--methods", "pyscenedetect", cwd=tmp_path, env=broken_peer)
    assert "no method could run on it (pyscenedetect: RuntimeError: broken on purpose)" in one_error_line(done, EXIT_INPUT)
    assert done.stdout == ""


def test_a_failing_peer_does_not_fail_the_run(tmp_path, clip, broken_peer):
    done = vidscan("bench", str(clip), "--methods", "scenes,pyscenedetect", cwd=tmp_path, env=broken_peer)
    assert done.returncode == EXIT_OK, done.stderr
    assert "broken on purpose" in done.stdout and "vidscan: error" not in done.stderr


def test_a_peer_that_is_not_installed_is_left_out(tmp_path, clip, capsys, monkeypatch):
    from vidscan import bench
    from vidscan.cli.main import main

    monkeypatch.setitem(bench.PEERS, "pyscenedetect", "no_such_module_for_vidscan_tests")
    assert main(["bench", str(clip), "--methods", "pyscenedetect"]) == EXIT_USAGE
    err = capsys.readouterr().err.strip()
    assert err.startswith("vidscan: error: nothing to run: pyscenedetect needs pip install") and "\n" not in err
