"""What decoding costs, predicted from the packet index: keyframes first, or every frame?

Keyframes first (vidscan.video.coarse) decodes the keyframes, then the stretches between
keyframes that differ. Whether that beats decoding every frame depends on how much of the
file those stretches hold, and not only in frames: an H.264 decoder's time grows with the
pixels it reconstructs and with the coded bytes it reads (entropy decoding, residuals). On a
grainy high-bitrate broadcast the keyframes held 29% of the bytes, and the stretches with
motion were cheap ones (74% of the frames, 36% of the other bytes): keyframes first took
0.86x a full decode although ``auto``, counting frames, had decoded every frame.

The model, fitted by least squares to one ``vidscan bench --repeat 3`` run (medians) on six
files (real footage at 720p and 1080p, 1 s GOPs and x264 defaults, and the synthetic 1080p
broadcast of benchmarks/throughput.py; full decodes of 9-36 s and fine passes of 6.6-24 s):
a frame costs its pixels plus a per-frame overhead, and a coded byte costs
:data:`BYTE_COST` pixels. The overhead is :data:`FRAME_OVERHEAD` in a full decode and
:data:`SEEKED_FRAME_OVERHEAD` when keyframes first decodes the frame: its frames go one at a
time through conversion and the embedder, where a full decode batches them. Units are
pixels decoded; only ratios are used, so the machine's speed cancels out. Every fine pass
was predicted within 0.04 of its measured share of a full decode (0.67 for 0.71 on the real
long takes, 0.89 for 0.89, 0.84 for 0.86, 1.03 for 0.99, 1.05 for 1.02, 0.69 for 0.66), and
every full decode within 4%. An earlier fit with one pixel penalty for seeked frames instead
(1.14) was optimistic by 0.10 on the 720p file. Below 720p the per-frame work dominates and
the fit does not hold (keyframes first is never chosen there, see vidscan.video.strategy).
"""

from __future__ import annotations

import numpy as np

from vidscan.video.packets import PacketIndex

#: Decoding one coded byte costs as much as reconstructing this many pixels (fit: 39.8).
BYTE_COST = 40.0
#: Per frame in a full decode, whatever its size (conversion, batched embedding, per-frame
#: Python), in pixels (fit: 117k)...
FRAME_OVERHEAD = 120_000
#: ...and per frame decoded by keyframes first: one frame at a time (fit: 281k).
SEEKED_FRAME_OVERHEAD = 280_000
#: Share of a differing stretch a fine pass decodes, on average: a piece stops once its frames
#: look like the closing keyframe (measured on the four 1 s GOP files above: 0.88-0.94).
DECODED_SHARE_OF_A_DIFFERING_GOP = 0.9


class DecodeCost:
    """Predicted decoding costs of one video's frames, from its packet index and frame size.

    Without packet sizes (``index.sizes`` is None) every frame costs the same."""

    def __init__(self, index: PacketIndex, pixels: int) -> None:
        frames = len(index.pts)
        sizes = np.zeros(frames) if index.sizes is None else np.asarray(index.sizes, np.float64)
        self.frames = frames
        self._full = float(frames * (pixels + FRAME_OVERHEAD) + BYTE_COST * sizes.sum())
        seeked = float(pixels + SEEKED_FRAME_OVERHEAD) + BYTE_COST * sizes
        self._seeked_before = np.concatenate([[0.0], np.cumsum(seeked)])

    def full(self) -> float:
        """Decoding every frame in one pass."""
        return self._full

    def seeked(self, start: int, stop: int) -> float:
        """Decoding frames [start, stop) by seeking to ``start`` (a keyframe) and reading on."""
        start, stop = max(0, start), min(self.frames, stop)
        return float(self._seeked_before[stop] - self._seeked_before[start]) if stop > start else 0.0

    def keyframes(self, key_idx: np.ndarray) -> float:
        """The keyframe pass: each keyframe (frame positions ``key_idx``) decoded alone."""
        k = np.clip(np.asarray(key_idx, np.int64), 0, self.frames - 1)
        return float(np.sum(self._seeked_before[k + 1] - self._seeked_before[k]))

    def stretch(self, key_idx: np.ndarray, k: int) -> float:
        """Decoding stretch ``k`` whole: keyframe k (at frame ``key_idx[k]``) up to keyframe
        k + 1, the last one to the end; k = -1: the frames before the first keyframe, which
        are decoded after it."""
        if k < 0:
            return self.seeked(0, int(key_idx[0]) + 1)
        return self.seeked(int(key_idx[k]), int(key_idx[k + 1]) if k + 1 < len(key_idx) else self.frames)

    def fine_pass(self, key_idx: np.ndarray, pieces: list[int]) -> float:
        """A fine pass over ``pieces`` (stretches, see :meth:`stretch`), each stopping early on
        average as measured (:data:`DECODED_SHARE_OF_A_DIFFERING_GOP`)."""
        return DECODED_SHARE_OF_A_DIFFERING_GOP * sum(self.stretch(key_idx, k) for k in pieces)

    def coarse_estimate(self, key_idx: np.ndarray, sampled: np.ndarray, differ: np.ndarray) -> float:
        """Keyframes first, predicted from a sample: the keyframe pass, the frames before the
        first and after the last keyframe (always decoded), and a fine pass over the share of
        the stretches between keyframes that ``differ`` among the ``sampled`` ones (k: keyframe
        k to k + 1), that share weighted by cost."""
        key_idx = np.asarray(key_idx, np.int64)
        last = len(key_idx) - 1
        between = DECODED_SHARE_OF_A_DIFFERING_GOP * self.seeked(int(key_idx[0]), int(key_idx[last]))  # stretches 0 .. last - 1
        sampled_costs = np.array([self.stretch(key_idx, int(k)) for k in sampled])
        differing = float(sampled_costs[np.asarray(differ, bool)].sum() / sampled_costs.sum()) if sampled_costs.sum() else 0.0
        always = self.fine_pass(key_idx, [-1, last] if key_idx[0] > 0 else [last])
        return self.keyframes(key_idx) + always + differing * between
