"""Video sources: exact frame indices and timestamps, sampling, rotation, backends."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest

from tests.conftest import ffprobe, run_ffmpeg
from vidscan.errors import InputError, UsageError
from vidscan.video import Sampling, open_video, probe


def ffprobe_times(path) -> np.ndarray:
    """Presentation times of every frame ffmpeg shows, relative to the stream start."""
    out = subprocess.run(
        [ffprobe(), "-v", "error", "-select_streams", "v:0", "-show_entries", "frame=best_effort_timestamp_time",
         "-of", "csv=p=0", str(path)],
        capture_output=True, text=True, check=True,
    ).stdout.split()
    start = subprocess.run(
        [ffprobe(), "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=start_time", "-of", "csv=p=0", str(path)],
        capture_output=True, text=True, check=True,
    ).stdout.strip()
    values = [t.strip(",") for t in out]
    return np.array([float(t) for t in values if t and t != "N/A"]) - float(start.strip(",") or 0)


def decode_all(path, sampling=Sampling.all_frames(), backend="pyav", size=(64, 36)):
    with open_video(path, backend) as source:
        batches = list(source.batches(sampling, size=size, batch_size=16))
        stats = source.stats
    frames = np.concatenate([b.frames for b in batches])
    return frames, np.concatenate([b.indices for b in batches]), np.concatenate([b.times for b in batches]), stats


@pytest.mark.parametrize("fixture", ["shots_video", "editlist_video"])
def test_indices_and_times_match_ffprobe(request, fixture):
    value = request.getfixturevalue(fixture)
    path = value[0] if isinstance(value, tuple) else value
    expected = ffprobe_times(path)
    _, indices, times, stats = decode_all(path)
    assert stats.frames_decoded == len(expected)
    np.testing.assert_array_equal(indices, np.arange(len(expected)))
    np.testing.assert_allclose(times, expected, atol=1e-6)


@pytest.fixture(scope="module")
def open_gop_video(shots_video, tmp_path_factory):
    """Short GOPs with open-GOP keyframes (leading B-frames shown before their keyframe)."""
    path = tmp_path_factory.mktemp("opengop") / "open.mp4"
    run_ffmpeg("-i", str(shots_video[0]), "-c:v", "libx264", "-bf", "3", "-g", "20", "-keyint_min", "20", "-sc_threshold", "0",
               "-x264-params", "open-gop=1", str(path))
    return path


@pytest.mark.parametrize("fixture", ["shots_video", "editlist_video", "open_gop_video"])
def test_parallel_ranges_decode_the_same_frames_as_one_sequential_decoder(request, fixture, monkeypatch):
    """Every-frame reads split the video into keyframe-to-keyframe ranges on several threads;
    frames, indices and times are bit-identical to one decoder going through it all."""
    from vidscan.video import pyav_backend
    from vidscan.video.pyav_backend import PyAVSource

    value = request.getfixturevalue(fixture)
    path = str(value[0] if isinstance(value, tuple) else value)
    monkeypatch.setattr(pyav_backend, "PARALLEL_RANGE_FRAMES", 30)  # many ranges even on a short file

    def read(workers: int | None):
        src = PyAVSource(path, workers=workers)
        batches = list(src.batches(Sampling.all_frames(), size=(64, 36), batch_size=16))
        return [np.concatenate([getattr(b, k) for b in batches]) for k in ("frames", "indices", "times")], src.stats

    (frames, indices, times), stats = read(None)  # default: one decoder per core, in ranges
    (frames1, indices1, times1), stats1 = read(1)  # one single-threaded decoder
    np.testing.assert_array_equal(indices, indices1)
    np.testing.assert_array_equal(times, times1)
    np.testing.assert_array_equal(frames, frames1)
    assert stats.frames_decoded == stats1.frames_decoded and stats.finished
    if fixture == "open_gop_video":
        assert PyAVSource(path).gop_index().open_keys  # the case this covers


def test_editlist_container_overcounts_but_decode_is_exact(editlist_video):
    info = probe(str(editlist_video))
    _, indices, _, _ = decode_all(editlist_video)
    # The container declares the packets of the trimmed-away GOP head too.
    assert info.frame_count > len(indices)
    assert not info.frame_count_exact


def test_bframes_file_has_bframes_and_all_frames(shots_video):
    path, truth = shots_video
    out = subprocess.run([ffprobe(), "-v", "error", "-select_streams", "v:0", "-show_entries", "frame=pict_type", "-of", "csv=p=0", str(path)],
                         capture_output=True, text=True, check=True).stdout.split()
    assert "B" in out
    _, indices, _, _ = decode_all(path)
    assert len(indices) == truth.frame_count


def test_sampling_every_k_and_per_second(shots_video):
    path, truth = shots_video
    _, idx, _, _ = decode_all(path, Sampling.every(5))
    np.testing.assert_array_equal(idx, np.arange(0, truth.frame_count, 5))
    _, idx, times, _ = decode_all(path, Sampling.per_second(2))
    np.testing.assert_array_equal(idx, np.arange(0, truth.frame_count, 12.5).astype(int) + (np.arange(0, truth.frame_count, 12.5) % 1 > 0))
    assert np.all(np.diff(times) > 0.45)


def test_fps_sampling_on_variable_frame_rate(media):
    path = media / "vfr.mkv"
    # 10 fps for 2 s then 30 fps for 2 s, concatenated with passthrough timestamps.
    run_ffmpeg("-f", "lavfi", "-i", "testsrc2=s=96x64:r=10:d=2", "-f", "lavfi", "-i", "testsrc2=s=96x64:r=30:d=2",
               "-filter_complex", "[0][1]concat=n=2:v=1:a=0", "-fps_mode", "vfr", "-c:v", "libx264", str(path))
    _, idx, times, stats = decode_all(path)
    assert stats.frames_decoded == 80
    np.testing.assert_allclose(times[:20], np.arange(20) / 10, atol=2e-3)
    np.testing.assert_allclose(times[20:], 2 + np.arange(60) / 30, atol=2e-3)
    _, idx, times, _ = decode_all(path, Sampling.per_second(5))
    assert len(idx) == 20  # 5 per second over 4 s, whatever the frame rate
    np.testing.assert_allclose(times, np.arange(20) / 5, atol=0.04)


def test_rotated_video_comes_out_upright(media):
    src = media / "rot_src.mp4"
    run_ffmpeg("-f", "lavfi", "-i", "color=c=black:s=64x32:d=0.4,drawbox=x=0:y=0:w=16:h=32:c=white:t=fill", "-c:v", "libx264", str(src))
    rotated = media / "rot.mp4"
    run_ffmpeg("-display_rotation", "90", "-i", str(src), "-c", "copy", str(rotated))
    info = probe(str(rotated))
    assert (info.width, info.height) == (32, 64)
    frames, _, _, _ = decode_all(rotated, size=(32, 64))
    # ffmpeg's own autorotation is the reference.
    ref = media / "rot_ref.png"
    run_ffmpeg("-i", str(rotated), "-frames:v", "1", str(ref))
    from PIL import Image

    expected = np.asarray(Image.open(ref).convert("RGB"))
    assert expected.shape == frames[0].shape
    assert np.abs(frames[0].astype(int) - expected.astype(int)).mean() < 20


def test_decord_sequential_matches_pyav(shots_video):
    pytest.importorskip("decord")
    path, _ = shots_video
    a, ia, ta, _ = decode_all(path, Sampling.every(3), "pyav", size=(64, 36))
    b, ib, tb, _ = decode_all(path, Sampling.every(3), "decord", size=(64, 36))
    np.testing.assert_array_equal(ia, ib)
    np.testing.assert_allclose(ta, tb, atol=1e-3)
    # Different scalers: same frames, slightly different pixels.
    assert np.abs(a.astype(int) - b.astype(int)).mean() < 6


def test_bad_sampling_values():
    with pytest.raises(UsageError):
        Sampling.every(0)
    with pytest.raises(UsageError):
        Sampling.per_second(-1)
    with pytest.raises(UsageError):
        Sampling.parse("fps:abc")
    assert Sampling.parse("every:4").describe() == "every:4"
    assert Sampling.parse("2").describe() == "fps:2"


def test_probe_errors(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        probe(str(tmp_path / "missing.mp4"))
    with pytest.raises(InputError, match="directory"):
        probe(str(tmp_path))
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match="empty"):
        probe(str(empty))
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    with pytest.raises(InputError, match="not a readable video"):
        probe(str(junk))


@pytest.mark.parametrize("fixture", ["shots_video", "editlist_video"])
@pytest.mark.parametrize("sampling", [Sampling.per_second(2), Sampling.every(5), Sampling.per_second(0.3)])
def test_sparse_sampling_skips_gop_tails_but_returns_the_same_frames(request, fixture, sampling):
    from vidscan.video.pyav_backend import PyAVSource

    value = request.getfixturevalue(fixture)
    path = value[0] if isinstance(value, tuple) else value

    def read(wanted: Sampling, workers: int | None = None):
        src = PyAVSource(str(path), workers=workers)
        batches = list(src.batches(wanted, size=(64, 36)))
        return np.concatenate([b.indices for b in batches]), np.concatenate([b.times for b in batches]), np.concatenate([b.frames for b in batches]), src.stats

    # The oracle: every frame decoded in one sequential pass, then the sampling applied.
    every = read(Sampling.all_frames(), workers=1)
    selector = sampling.selector()
    keep = np.array([selector.keep(int(i), float(t)) for i, t in zip(every[0], every[1])], bool)
    plain = (every[0][keep], every[1][keep], every[2][keep], every[3])
    fast = read(sampling)
    np.testing.assert_array_equal(plain[0], fast[0])
    np.testing.assert_allclose(plain[1], fast[1])
    np.testing.assert_array_equal(plain[2], fast[2])  # unwanted B-frames skipped, the rest bit-identical
    assert plain[3].frames_decoded == fast[3].frames_decoded


@pytest.mark.parametrize("fixture", ["shots_video", "editlist_video"])
def test_torchcodec_backend_matches_pyav(request, fixture):
    try:
        import torchcodec.decoders  # noqa: F401  (needs FFmpeg's shared libraries, e.g. apt ffmpeg)
    except (ImportError, RuntimeError, OSError) as exc:
        pytest.skip(f"torchcodec is not usable here ({type(exc).__name__}); it is an optional extra (vidscan[gpu])")
    value = request.getfixturevalue(fixture)
    path = value[0] if isinstance(value, tuple) else value
    a, ia, ta, _ = decode_all(path, Sampling.per_second(3), "pyav")
    b, ib, tb, stats = decode_all(path, Sampling.per_second(3), "torchcodec")
    np.testing.assert_array_equal(ia, ib)
    np.testing.assert_allclose(ta, tb, atol=1e-6)
    assert np.abs(a.astype(int) - b.astype(int)).mean() < 8  # different scalers, same frames


@pytest.mark.parametrize("turns", [0, 1, 2, 3])
def test_the_kept_scaler_converts_exactly_as_a_fresh_one(shots_video, turns):
    """One swscale context per thread (vidscan.video.convert) instead of one per frame: the
    pixels must not change, turned or not."""
    import av

    from vidscan.video.convert import FrameConverter

    size = (96, 54) if turns % 2 == 0 else (54, 96)
    converter = FrameConverter(size, turns)
    with av.open(str(shots_video[0])) as container:
        for i, frame in enumerate(container.decode(video=0)):
            w, h = (size[1], size[0]) if turns % 2 else size
            fresh = frame.to_ndarray(format="rgb24", width=w, height=h, interpolation="AREA")
            fresh = np.rot90(fresh, turns) if turns else fresh
            kept = converter.rgb(frame)
            assert kept.shape == (size[1], size[0], 3) and np.array_equal(kept, fresh), i
            if i == 40:
                break
