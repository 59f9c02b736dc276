"""A weight-free embedder: a colour histogram plus a coarse luma layout, in numpy.

Needs no download and embeds thousands of frames/s on a CPU, so it is the default for shot
detection and lets few-shot labelling work offline. Two blocks:

* ``colour``: joint Y/Cb/Cr histogram (4 x 6 x 6 bins), square-rooted, so the Euclidean
  distance between two frames is the Hellinger distance between their colour
  distributions. Motion, pans and zooms barely move it; a change of content does.
* ``layout``: mean luma of an 8 x 4 grid (centred, in [-0.5, 0.5]): where light and dark
  are, so two shots with the same palette but a different composition still differ.

Measured on the synthetic corpus (benchmarks/accuracy.py; 12 videos, 147 boundaries), as
the separation between 12-frame windows inside shots and across cuts (AUC): colour
histogram 0.988, 8x4 luma 0.939, 16x9 normalised luma thumbnail 0.930, chroma grid 0.919,
gradient-energy grid 0.853. Spatial blocks move with the camera, so they only get a small
weight (0.25 of the colour block); with it, change-point F1 was equal to colour alone
(0.952) while keeping sensitivity to same-palette cuts that the corpus under-represents.
"""

from __future__ import annotations

import numpy as np

from vidscan.embed.base import Embedder, check_frames, l2_normalise

DEFAULT_WEIGHTS = {"colour": 1.0, "layout": 0.25}
#: Width of the frames embedded (16:9, so 128x72)...
DEFAULT_WIDTH = 128
#: ...and for sources whose larger side is under SMALL_SOURCE pixels, 96 (96x54). Measured
#: (benchmarks/accuracy.py; `vidscan bench` on benchmarks/realset/speedset.py): on the 31 real
#: clips (384x216), the synthetic corpus (320x180) and 5 minutes of the real footage at
#: 160x90, 96x54 found exactly the boundaries 128x72 found; on the same footage at 640x360
#: and 1920x1080 it made 1-3 more errors in 3 of 4 files (F1 0.944 -> 0.930 at 360p web).
#: On small sources the embedding is half the run (160x90: 1.1 of 2.2 s; at 96x54 it takes
#: 0.88-1.08 s instead of 1.45-1.64 s), on large ones a fifteenth (1080p: 0.6-0.8 of 11-13 s).
#: At 64x36 the real clips' F1 fell 0.906 -> 0.890 (two more false cuts in in-shot motion).
SMALL_SOURCE_WIDTH = 96
SMALL_SOURCE = 640
_Y_BINS, _C_BINS = 4, 6
_GRID_ROWS, _GRID_COLS = 4, 8
#: Pixels embedded at once (16 frames of 128x72, 28 of 96x54), whose float32 copies (1.8 MB)
#: fit the cache.
_CACHED_PIXELS = 16 * 128 * 72


def block_means(plane: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Mean of ``plane [N, H, W]`` over a rows x cols grid of near-equal blocks."""
    n, h, w = plane.shape
    r_edges = np.linspace(0, h, rows + 1).astype(int)[:-1]
    c_edges = np.linspace(0, w, cols + 1).astype(int)[:-1]
    sums = np.add.reduceat(np.add.reduceat(plane, r_edges, axis=1), c_edges, axis=2)
    counts = np.outer(np.diff(np.append(r_edges, h)), np.diff(np.append(c_edges, w)))
    return sums / counts


def colour_histogram(y: np.ndarray, cb: np.ndarray, cr: np.ndarray) -> np.ndarray:
    """Square-rooted joint Y/Cb/Cr histograms, one unit-norm row per frame. Works in place
    on ``cb`` and ``cr`` (their values are lost)."""
    n = y.shape[0]
    codes = (y * (_Y_BINS / 256.0)).astype(np.int32)
    np.minimum(codes, _Y_BINS - 1, out=codes)
    for chroma in (cb, cr):
        # Chroma beyond +-72 is rare and very saturated: clip into the outer bins.
        chroma += 72.0
        chroma *= _C_BINS / 144.0
        bins = chroma.astype(np.int32)
        np.clip(bins, 0, _C_BINS - 1, out=bins)
        codes *= _C_BINS
        codes += bins
    per_frame = _Y_BINS * _C_BINS * _C_BINS
    codes = codes.reshape(n, -1)
    codes += (np.arange(n, dtype=np.int32) * per_frame)[:, None]
    hist = np.bincount(codes.ravel(), minlength=n * per_frame).reshape(n, per_frame)
    return np.sqrt(hist / float(codes.shape[1])).astype(np.float32)


class FeatureEmbedder(Embedder):
    """Weight-free colour + layout embedder; see the module docstring."""

    name = "features"
    cheap = True
    has_text = False
    batch_size = 256

    def __init__(self, width: int | None = None, weights: dict[str, float] | None = None) -> None:
        """``width``: of the frames embedded; None (the default) chooses by the source's size
        (:data:`DEFAULT_WIDTH`, or :data:`SMALL_SOURCE_WIDTH` for small sources)."""
        self.width = None if width is None else int(width)
        self.weights = dict(DEFAULT_WEIGHTS if weights is None else weights)
        unknown = set(self.weights) - set(DEFAULT_WEIGHTS)
        if unknown:
            raise ValueError(f"unknown feature blocks {sorted(unknown)}")

    @property
    def dim(self) -> int:
        return _Y_BINS * _C_BINS**2 + _GRID_ROWS * _GRID_COLS

    def frame_size(self, width: int, height: int) -> tuple[int, int]:
        # A 16:9 input whatever the source's shape: the features are per-area statistics, so
        # squashing other aspect ratios costs nothing and keeps ``dim`` constant.
        w = self.width or (SMALL_SOURCE_WIDTH if 0 < max(width, height) < SMALL_SOURCE else DEFAULT_WIDTH)
        return w, max(16, int(round(w * 9 / 16 / 2)) * 2)

    def identity(self) -> str:
        weights = ",".join(f"{k}={v:g}" for k, v in sorted(self.weights.items()))
        width = self.width or f"{DEFAULT_WIDTH},{SMALL_SOURCE_WIDTH}<{SMALL_SOURCE}"
        return f"features-v2:w{width}:{weights}"

    def embed(self, frames: np.ndarray) -> np.ndarray:
        frames = check_frames(frames)
        if frames.shape[0] == 0:
            return np.zeros((0, self.dim), np.float32)
        # A few frames at a time, so the float copies stay in the CPU cache, with the same
        # values: in a 5-minute 160x90 run at 128x72 the embedding took 1.25-1.33 s instead of
        # 1.64 s (8 frames at a time: 1.39 s; 32: 2.1 s).
        step = max(1, _CACHED_PIXELS // (frames.shape[1] * frames.shape[2]))
        if len(frames) > step:
            return np.concatenate([self._embed(frames[i : i + step]) for i in range(0, len(frames), step)])
        return self._embed(frames)

    def _embed(self, frames: np.ndarray) -> np.ndarray:
        x = frames.astype(np.float32)
        y = x @ np.array([0.299, 0.587, 0.114], np.float32)
        layout = block_means(y, _GRID_ROWS, _GRID_COLS).reshape(len(y), -1) / 255.0 - 0.5
        # Cb and Cr: one subtraction reads the blue (red) plane out of the interleaved float
        # copy into a contiguous array, and every later step (here and in the histogram) works
        # in place on it. The same values as working in place on the strided planes, whose
        # every step paid for the stride: the embedding took 50 instead of 70 us a frame at
        # 96x54 and 91 instead of 125 at 128x72 (real frames).
        cb = np.subtract(x[..., 2], y)
        cb *= 0.564
        cr = np.subtract(x[..., 0], y)
        cr *= 0.713
        colour = colour_histogram(y, cb, cr)
        parts = [colour * self.weights.get("colour", 0.0), layout.astype(np.float32) * self.weights.get("layout", 0.0)]
        return l2_normalise(np.concatenate(parts, axis=1))
