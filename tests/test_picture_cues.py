"""Broadcast cues from the picture (vidscan.broadcast.picture): black frames, letterbox, and the
station logo, on short generated broadcasts with known ground truth."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest

from vidscan.broadcast.picture import (
    COL_BAR_BOTTOM,
    COL_BAR_TOP,
    COL_MEAN,
    DIM,
    PictureMeter,
    picture_cues,
    true_runs,
)
from vidscan.extract import embed_video
from vidscan.ffmpeg_bin import ffmpeg_exe
from vidscan.video import Sampling

SIZE, FPS = "320x180", 25
#: The generated broadcast: (start, end, what). The logo shows in the programme, not in the ad.
BLACK = [(30.0, 31.0), (49.4, 50.0)]
LOGO_ON = [(0.0, 30.0), (50.0, 90.0)]
AD = (31.0, 49.4)
LETTERBOX = (60.0, 75.0)
CHANGES = [0.0, 30.0, 31.0, 49.4, 50.0, 60.0, 75.0, 90.0]


def _render(path, parts: list[str], overlay: str = "") -> None:
    chains = [f"{p},setsar=1,format=yuv420p[v{i}]" for i, p in enumerate(parts)]
    graph = ";".join(chains) + ";" + "".join(f"[v{i}]" for i in range(len(parts))) + f"concat=n={len(parts)}:v=1:a=0{overlay}[out]"
    cmd = [ffmpeg_exe(), "-y", "-v", "error", "-filter_complex", graph, "-map", "[out]",
           "-c:v", "libx264", "-preset", "ultrafast", "-crf", "23", "-g", "50", str(path)]
    subprocess.run(cmd, check=True, capture_output=True)


def _broadcast(path, logo: bool) -> None:
    """90 s: programme (scrolling test pattern), black, an 'ad' (mandelbrot zoom), black,
    programme (life, then a 2.39:1 picture letterboxed into 16:9, then a recoloured pattern).
    The logo: a semi-opaque dark box with opaque shapes, top right, in programme only."""
    parts = [
        f"testsrc2=s={SIZE}:r={FPS}:d=30,scroll=h=0.003:v=0.002",
        f"color=black:s={SIZE}:r={FPS}:d=1",
        f"mandelbrot=s={SIZE}:r={FPS},trim=duration=18.4",
        f"color=black:s={SIZE}:r={FPS}:d=0.6",
        # Seeded: FFmpeg's life source starts from a random board otherwise, and on 2 of 12 random
        # boards the logo box's right edge came out one cell short (x1 0.89 for 0.95).
        f"life=seed=2:s={SIZE}:r={FPS}:mold=10:ratio=0.3:death_color=#302010:life_color=#80c0ff,trim=duration=10",
        f"testsrc2=s=320x134:r={FPS}:d=15,scroll=h=0.004,pad=320:180:0:23:black",
        f"testsrc2=s={SIZE}:r={FPS}:d=15,hue=h=90,scroll=v=0.003",
    ]
    overlay = ""
    if logo:
        on = "enable='between(t,0,30)+between(t,50,90)'"
        overlay = (f",drawbox=x=iw-76:y=8:w=60:h=26:color=black@0.5:t=fill:{on}"
                   f",drawbox=x=iw-70:y=13:w=14:h=16:color=white:t=3:{on}"
                   f",drawbox=x=iw-50:y=13:w=6:h=16:color=yellow:t=fill:{on}"
                   f",drawbox=x=iw-38:y=13:w=16:h=16:color=red@0.8:t=4:{on}")
    _render(path, parts, overlay)


def _cues(path):
    video = embed_video(path, PictureMeter(), Sampling.per_second(5))
    return video, picture_cues(video.times, video.embeddings, frame_aspect=16 / 9)


@pytest.fixture(scope="module")
def with_logo(tmp_path_factory):
    path = tmp_path_factory.mktemp("picture") / "logo.mp4"
    _broadcast(path, logo=True)
    return _cues(path)


@pytest.fixture(scope="module")
def without_logo(tmp_path_factory):
    path = tmp_path_factory.mktemp("picture") / "nologo.mp4"
    _broadcast(path, logo=False)
    return _cues(path)


def _away_from_changes(times: np.ndarray, margin: float = 0.5) -> np.ndarray:
    return np.min(np.abs(times[:, None] - np.array(CHANGES)[None]), axis=1) > margin


def _within(times, spans) -> np.ndarray:
    return np.any([(times >= a) & (times < b) for a, b in spans], axis=0)


def test_rows_shape_and_dtype(with_logo):
    video, _ = with_logo
    assert video.embeddings.shape == (len(video.times), DIM)
    assert video.embeddings.dtype == np.float32
    assert np.isfinite(video.embeddings).all()
    meter = PictureMeter()
    assert meter.frame_size(320, 180) == (192, 108)
    assert meter.frame_size(640, 480) == (192, 144)
    assert meter.identity().startswith("picture-cues-v1:")
    assert meter.embed(np.zeros((0, 108, 192, 3), np.uint8)).shape == (0, DIM)


@pytest.mark.parametrize("shape", [(7, 108, 192), (3, 224, 224), (3, 37, 61)])
def test_batch_equals_frame_by_frame(shape):
    rng = np.random.default_rng(0)
    n, h, w = shape
    frames = rng.integers(0, 256, (n, h, w, 3), dtype=np.uint8)
    frames[1, : h // 5] = 0  # a letterbox bar
    frames[-1] = 0  # a black frame
    meter = PictureMeter()
    batch = meter.embed(frames)
    single = np.concatenate([meter.embed(frames[i:i + 1]) for i in range(n)])
    assert batch.shape == (n, DIM) and batch.dtype == np.float32
    np.testing.assert_allclose(batch, single, rtol=1e-5, atol=1e-4)
    assert batch[-1, COL_MEAN] == 0.0
    assert batch[1, COL_BAR_TOP] == pytest.approx((h // 5) / h)
    assert batch[1, COL_BAR_BOTTOM] == 0.0


def test_black_runs(with_logo):
    _, cues = with_logo
    runs = true_runs(cues.black, cues.times)
    assert len(runs) == len(BLACK)
    for (start, end), (want_start, want_end) in zip(runs, BLACK):
        assert abs(start - want_start) <= 0.2 and abs(end - want_end) <= 0.2
    assert not cues.white.any()


def test_logo_found_and_tracked(with_logo):
    _, cues = with_logo
    assert cues.logo_corner == "top-right"
    x0, y0, x1, y1 = cues.logo_box
    # drawn at x 244-304, y 8-34 of 320 x 180
    assert 0.7 <= x0 <= 0.8 and 0.92 <= x1 <= 1.0 and y0 <= 0.08 and 0.15 <= y1 <= 0.25
    t = cues.times
    keep = _away_from_changes(t) & ~cues.black
    on = keep & _within(t, LOGO_ON)
    off = keep & _within(t, [AD])
    assert np.mean(cues.logo[on] > 0.5) >= 0.9
    assert np.mean(cues.logo[off] < 0.3) >= 0.9
    assert (cues.logo[cues.black] == 0).all()  # black frames: no logo
    assert 0.55 <= cues.logo_share <= 0.85  # ~70 of 88.4 non-black seconds


def test_no_logo_invented(without_logo):
    _, cues = without_logo
    assert cues.logo_corner is None and cues.logo_box is None
    assert np.isnan(cues.logo).all()
    assert cues.logo_note


def test_no_logo_on_a_nearly_static_video(tmp_path):
    path = tmp_path / "static.mp4"
    # A still test card with a running clock and a small moving square: static corners.
    _render(path, [f"testsrc2=s={SIZE}:r={FPS}:d=40"])
    _, cues = _cues(path)
    assert cues.logo_corner is None and np.isnan(cues.logo).all()
    assert "static" in cues.logo_note


def test_active_aspect(with_logo):
    _, cues = with_logo
    t = cues.times
    keep = _away_from_changes(t) & ~cues.black
    boxed = keep & _within(t, [LETTERBOX])
    full = keep & ~_within(t, [LETTERBOX])
    assert np.mean(np.abs(cues.active_aspect[boxed] - 2.39) < 0.06) >= 0.9
    assert np.mean(np.abs(cues.active_aspect[full] - 16 / 9) < 0.03) >= 0.9
    assert np.isnan(cues.active_aspect[cues.black]).all()


def test_true_runs_and_degenerate_rows():
    times = np.arange(10) * 0.2
    mask = np.array([1, 1, 0, 0, 1, 0, 0, 0, 1, 1], bool)
    assert true_runs(mask, times) == [(0.0, 0.4), (0.8, 1.0), (1.6, pytest.approx(2.0))]
    assert true_runs(np.zeros(0, bool), np.zeros(0)) == []
    # All black: every sample black, no logo, no aspect, nothing raised.
    rows = PictureMeter().embed(np.zeros((30, 108, 192, 3), np.uint8))
    cues = picture_cues(np.arange(30) / 5.0, rows, frame_aspect=16 / 9)
    assert cues.black.all() and np.isnan(cues.logo).all() and np.isnan(cues.active_aspect).all()
    with pytest.raises(ValueError):
        picture_cues(np.arange(3.0), rows, frame_aspect=16 / 9)
