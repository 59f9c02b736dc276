"""Shared fixtures: small videos generated with ffmpeg, with exact ground truth.

Everything is generated once per test session into a temp folder (a few seconds).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from vidscan.synth import Event, GroundTruth, Program, Shot, Transition, render

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).resolve().parents[1]

# Nothing a test run does may land outside its own folders: caches (vidscan's, and anything
# else that honours XDG_CACHE_HOME) go to one temp folder, inherited by every subprocess, and
# hypothesis keeps no example database in the checkout. pytest_sessionfinish checks it.
_SANDBOX = Path(tempfile.mkdtemp(prefix="vidscan-tests-"))
os.environ["VIDSCAN_CACHE_DIR"] = str(_SANDBOX / "vidscan-cache")
os.environ["XDG_CACHE_HOME"] = str(_SANDBOX / "xdg-cache")
os.environ["HYPOTHESIS_STORAGE_DIRECTORY"] = str(_SANDBOX / "hypothesis")
try:
    from hypothesis import settings as _hypothesis_settings
    from hypothesis.configuration import set_hypothesis_home_dir

    set_hypothesis_home_dir(str(_SANDBOX / "hypothesis"))

    _hypothesis_settings.register_profile("vidscan", database=None)
    _hypothesis_settings.load_profile("vidscan")
except ImportError:
    pass

#: Written by the tools themselves, not by the tests.
_EXPECTED_LITTER = {".pytest_cache", "__pycache__", ".benchmarks"}


def _watched() -> dict[Path, set[str]]:
    """Folders a test run must leave as it found them: the checkout, the working directory,
    the home folder and its cache."""
    home = Path.home()
    folders = {ROOT, Path.cwd(), home, home / ".cache"}
    return {d: {p.name for p in d.iterdir()} if d.is_dir() else set() for d in folders}


_BEFORE = _watched()


def pytest_sessionfinish(session, exitstatus):
    """Fail the run if any test wrote something outside its temp folders."""
    shutil.rmtree(_SANDBOX, ignore_errors=True)
    new = sorted(str(d / name) for d, names in _watched().items() for name in names - _BEFORE.get(d, set()) - _EXPECTED_LITTER)
    if new:
        print(f"\nvidscan tests wrote outside their folders: {', '.join(new)}")
        session.exitstatus = 1


def ffprobe() -> str:
    exe = shutil.which("ffprobe")
    if exe is None:
        pytest.skip("ffprobe is not installed (apt-get install ffmpeg)")
    return exe


def ffmpeg() -> str:
    from vidscan.ffmpeg_bin import ffmpeg_exe

    return ffmpeg_exe()


def run_ffmpeg(*args: str) -> None:
    subprocess.run([ffmpeg(), "-nostdin", "-v", "error", "-y", *args], check=True)


def shots_program() -> Program:
    """Cuts, a dissolve and a dip to black; a flash, a fast pan and a sweeping object
    inside shots (none of which is a boundary)."""
    shots = [
        Shot("studio", 60, seed=1),
        Shot("field", 70, seed=2, events=[Event("flash", 30, 2)]),
        Shot("photo", 75, seed=3, params={"name": "astronaut", "pan": 0.35}),
        Shot("bars", 50, seed=4),
        Shot("gradients", 60, seed=5, events=[Event("sweep", 20, 12)]),
        Shot("ad", 45, seed=6),
        Shot("mandelbrot", 60, seed=7),
        Shot("testsrc", 50, seed=8),
    ]
    transitions = [
        Transition("cut"),
        Transition("cut"),
        Transition("dissolve", 16),
        Transition("cut"),
        Transition("fadeblack", 18),
        Transition("cut"),
        Transition("cut"),
    ]
    return Program(shots, transitions, width=320, height=180, fps=25)


@pytest.fixture(scope="session")
def media(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def shots_video(media) -> tuple[Path, GroundTruth]:
    """An H.264 file with B-frames (x264 default GOP) and known boundaries."""
    path = media / "shots.mp4"
    truth = render(shots_program(), path, bframes=3)
    return path, truth


@pytest.fixture(scope="session")
def editlist_video(media, shots_video) -> Path:
    """An MP4 with an edit list: a stream copy starting between keyframes."""
    src, _ = shots_video
    path = media / "editlist.mp4"
    run_ffmpeg("-ss", "1.37", "-i", str(src), "-c", "copy", "-t", "8", str(path))
    return path


@pytest.fixture(scope="session")
def tiny_clip_model() -> str:
    """Register a 3 M-parameter open_clip architecture (random weights) for plumbing tests."""
    import open_clip

    open_clip.add_model_config(str(DATA / "vidscan-tiny-clip.json"))
    return "vidscan-tiny-clip"


@pytest.fixture(scope="session")
def broadcast(media) -> tuple[Path, GroundTruth, Path]:
    """A 75-second synthetic sports broadcast and a few-shot examples folder (other seeds)."""
    from vidscan.synth.corpus import broadcast_program, write_examples

    path = media / "broadcast.mp4"
    truth = render(broadcast_program(seed=11, minutes=1.25), path)
    examples = media / "examples"
    write_examples(examples, per_label=8)
    return path, truth, examples
