"""What decoding costs, predicted from the packet index: keyframes first, or every frame?

Keyframes first (vidscan.video.coarse) decodes the keyframes, then the stretches between
keyframes that differ. Whether that beats decoding every frame depends on how much of the
file those stretches hold, and not only in frames: an H.264 decoder's time grows with the
pixels it reconstructs and with the coded bytes it reads (entropy decoding, residuals). On a
grainy high-bitrate broadcast the keyframes held 29% of the bytes, and the stretches with
motion were cheap ones (74% of the frames, 36% of the other bytes): keyframes first took
0.86x a full decode although ``auto``, counting frames, had decoded every frame.

The model, fitted by least squares to ``vidscan bench`` seconds on six files (real footage
at 720p and 1080p, 1 s GOPs and x264 defaults, and the synthetic 1080p broadcast of
benchmarks/throughput.py; full decodes 9-36 s, fine passes 6.8-24 s): a frame costs its
pixels plus :data:`FRAME_OVERHEAD`, a coded byte costs :data:`BYTE_COST` pixels, and a frame
decoded by keyframes first's seeking, single-threaded decoders costs
:data:`SEEKED_FRAME_PENALTY` times its pixel part. Units are pixels decoded; only ratios are
used, so the machine's speed cancels out. Fitted twice, with the full decodes of two bench runs:
byte cost 38 and 37 pixels, per-frame overhead 197k and 127k pixels, penalty 1.14 both
times. Fine passes were predicted within 4-12% (under on the real long takes and 720p,
over on the synthetic file), full decodes within 6%.
"""

from __future__ import annotations

import numpy as np

from vidscan.video.packets import PacketIndex

#: Decoding one coded byte costs as much as reconstructing this many pixels (fits: 38, 37).
BYTE_COST = 38.0
#: Per frame, whatever its size (conversion, embedding, per-frame Python), in pixels (fits: 197k, 127k).
FRAME_OVERHEAD = 200_000
#: A frame's pixel part costs this much more when keyframes first decodes it (fits: 1.14, 1.14).
SEEKED_FRAME_PENALTY = 1.15
#: Share of a differing stretch a fine pass decodes, on average: a piece stops once its frames
#: look like the closing keyframe (measured on the four 1 s GOP files above: 0.88-0.94).
DECODED_SHARE_OF_A_DIFFERING_GOP = 0.9


class DecodeCost:
    """Predicted decoding costs of one video's frames, from its packet index and frame size.

    Without packet sizes (``index.sizes`` is None) every frame costs the same."""

    def __init__(self, index: PacketIndex, pixels: int) -> None:
        frames = len(index.pts)
        sizes = np.zeros(frames) if index.sizes is None else np.asarray(index.sizes, np.float64)
        per_frame = float(pixels + FRAME_OVERHEAD)
        self.frames = frames
        self._full = float(frames * per_frame + BYTE_COST * sizes.sum())
        seeked = SEEKED_FRAME_PENALTY * per_frame + BYTE_COST * sizes
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
        return float(sum(self.seeked(int(k), int(k) + 1) for k in key_idx))

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
        between = self.fine_pass(key_idx, list(range(last)))
        sampled_costs = np.array([self.stretch(key_idx, int(k)) for k in sampled])
        differing = float(sampled_costs[np.asarray(differ, bool)].sum() / sampled_costs.sum()) if sampled_costs.sum() else 0.0
        always = self.fine_pass(key_idx, [-1, last] if key_idx[0] > 0 else [last])
        return self.keyframes(key_idx) + always + differing * between
