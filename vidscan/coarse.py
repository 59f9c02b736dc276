"""Coarse-to-fine decoding: look at keyframes first, decode every frame only where it matters.

Decoding every frame of a 1080p broadcast is the bottleneck on a CPU, while decoding only
the keyframes is about ten times cheaper. So:

1. **Index + keyframes.** One demux pass reads every packet's presentation time (no
   decoding), which gives the exact index of every frame (edit-list packets flagged
   "discard" are left out, exactly as the decoder drops them), and decodes and embeds only
   the keyframes.
2. **Candidates.** Where two consecutive keyframes differ by more than ``threshold``, the
   stretch between them may hold a boundary (or a camera move): it is decoded at full rate.
   Stretches whose end keyframes agree are stationary.
3. **Same detector.** A full-rate sequence is assembled: real embeddings in the decoded
   stretches, the keyframe's embedding repeated over the stationary ones. The usual
   detector then runs with its usual settings, so boundaries land on the same exact frames
   as after a full decode wherever something actually changes.

What it cannot see: a change that returns to the same picture before the next keyframe
(a shot A -> B -> A shorter than one GOP), and flashes inside stationary stretches (which
should not count anyway).
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Iterator

import av
import av.error
import numpy as np

from vidscan.embed.base import Embedder
from vidscan.errors import InputError
from vidscan.progress import NullProgress, Progress
from vidscan.video.pyav_backend import PyAVSource, _open_container

#: Keyframe-to-keyframe distance (unit embeddings) above which a stretch is decoded in full.
#: Measured on the accuracy corpus re-encoded with a fixed 1 s GOP (benchmarks/throughput.py
#: --corpus): F1 stayed equal to a full decode (0.970) for thresholds 0.15-0.35 while the
#: share of frames decoded fell 0.56 -> 0.35; at 0.5 F1 fell to 0.962.
DEFAULT_THRESHOLD = 0.3


@dataclass
class PacketIndex:
    """Presentation times of every displayed frame and of the keyframes (stream units)."""

    pts: np.ndarray  # int64, sorted
    key_pts: np.ndarray  # int64, sorted, subset of pts
    time_base: Fraction
    start_pts: int
    last_duration: int

    def index_of(self, pts: int) -> int:
        i = int(np.searchsorted(self.pts, pts))
        if i >= len(self.pts) or self.pts[i] != pts:
            raise KeyError(pts)
        return i

    def seconds(self, pts: np.ndarray | int) -> np.ndarray | float:
        return (np.asarray(pts, dtype=np.float64) - self.start_pts) * float(self.time_base)


@dataclass
class CoarseStats:
    keyframes: int = 0
    frames: int = 0
    decoded_full_rate: int = 0
    candidate_stretches: int = 0
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def full_rate_fraction(self) -> float:
        return self.decoded_full_rate / self.frames if self.frames else 0.0


def _convert(frame: "av.VideoFrame", size: tuple[int, int], turns: int) -> np.ndarray:
    w, h = size
    dec_w, dec_h = (h, w) if turns % 2 else (w, h)
    rgb = frame.to_ndarray(format="rgb24", width=dec_w, height=dec_h, interpolation="AREA")
    return np.rot90(rgb, turns) if turns else rgb


def keyframe_pass(path: str, size: tuple[int, int], turns: int) -> tuple[PacketIndex, list[int], np.ndarray]:
    """Index every packet and decode the keyframes; returns (index, keyframe pts, frames)."""
    container = _open_container(path)
    try:
        stream = container.streams.video[0]
        stream.thread_type = "FRAME"  # frames come out late; the flush below collects the rest
        all_pts: list[int] = []
        key_pts: list[int] = []
        frames: list[np.ndarray] = []
        last_duration = 0
        for packet in container.demux(stream):
            if packet.pts is None:
                continue
            if packet.is_discard:
                continue
            all_pts.append(int(packet.pts))
            last_duration = int(packet.duration or last_duration)
            if not packet.is_keyframe:
                continue
            try:
                decoded = packet.decode()
            except av.error.FFmpegError:
                continue
            for frame in decoded:
                if frame.pts is not None:
                    key_pts.append(int(frame.pts))
                    frames.append(_convert(frame, size, turns))
        try:
            for frame in stream.decode(None):  # flush
                if frame.pts is not None:
                    key_pts.append(int(frame.pts))
                    frames.append(_convert(frame, size, turns))
        except av.error.FFmpegError:
            pass
        tb = stream.time_base
        start = int(stream.start_time) if stream.start_time is not None else (min(all_pts) if all_pts else 0)
    finally:
        container.close()
    if not all_pts:
        raise InputError("video stream has no frames", path=path)
    pts = np.unique(np.asarray(all_pts, np.int64))
    shown = set(pts.tolist())
    by_pts = {p: f for p, f in zip(key_pts, frames) if p in shown}  # displayed keyframes only
    ordered = sorted(by_pts)
    index = PacketIndex(pts, np.asarray(ordered, np.int64), tb, start, last_duration)
    stack = np.stack([by_pts[p] for p in ordered]) if ordered else np.zeros((0, size[1], size[0], 3), np.uint8)
    return index, ordered, stack


class StretchDecoder:
    """Decodes stretches in increasing order with one open file, seeking only to jump ahead."""

    def __init__(self, path: str, index: PacketIndex, size: tuple[int, int], turns: int) -> None:
        self.path, self.index, self.size, self.turns = path, index, size, turns
        self.container = _open_container(path)
        self.stream = self.container.streams.video[0]
        self.stream.thread_type = "AUTO"
        self._frames = None  # iterator over decoded frames, or None before the first seek
        self._last_pts = -(2**62)
        self._pending = None  # a frame read past the previous stretch's end

    def close(self) -> None:
        self.container.close()

    def _decoded(self):
        for packet in self.container.demux(self.stream):
            try:
                yield from packet.decode()
            except av.error.FFmpegError:
                continue

    def _seek(self, start_pts: int) -> None:
        # Seek to the stretch's own keyframe. In an open GOP the frames that need the previous
        # GOP are shown *before* the keyframe, so they are never part of the stretch.
        k = int(np.searchsorted(self.index.key_pts, start_pts, side="right")) - 1
        target = int(self.index.key_pts[max(0, k)])
        self.container.seek(target, stream=self.stream, backward=True, any_frame=False)
        self._frames = self._decoded()
        self._pending = None

    def frames(self, start_pts: int, end_pts: int) -> Iterator[tuple[int, np.ndarray]]:
        """(frame index, upright RGB frame) for every frame with start_pts <= pts <= end_pts,
        in presentation order. The caller may stop early; the next call carries on correctly."""
        keys = self.index.key_pts
        # Keep reading sequentially when the stretch starts within two keyframes of where we are.
        ahead = int(np.searchsorted(keys, start_pts)) - int(np.searchsorted(keys, self._last_pts))
        if self._frames is None or start_pts <= self._last_pts or ahead > 2:
            self._seek(start_pts)
        pending, self._pending = self._pending, None
        while True:
            frame = pending if pending is not None else next(self._frames, None)
            pending = None
            if frame is None:
                return
            if frame.pts is None:
                continue
            if frame.pts > end_pts:
                self._pending = frame
                return
            self._last_pts = int(frame.pts)
            if frame.pts < start_pts:
                continue
            try:
                index = self.index.index_of(int(frame.pts))
            except KeyError:
                continue
            yield index, _convert(frame, self.size, self.turns)


#: A stretch's decoding stops once this many consecutive frames look like its closing keyframe.
ARRIVED_FRAMES = 3


def _decode_stretch(decoder: "StretchDecoder", embedder: Embedder, embeddings: np.ndarray, luma: np.ndarray, index: PacketIndex,
                    key_idx: np.ndarray, key_emb: np.ndarray, a: int, b: int, start: int, end: int, chunk: int = 8) -> int:
    """Decode and embed one candidate stretch in place; returns the number of frames decoded.

    Inside the stretch's last GOP, decoding stops as soon as ``ARRIVED_FRAMES`` frames in a
    row look like the closing keyframe (the change is over: a cut found halfway through a GOP
    costs half a GOP, not a whole one); the frames left are filled in between the last decoded
    frame and that keyframe.
    """
    closing = key_emb[b] if 0 <= b < len(key_idx) else None
    last_gop = int(index.pts[key_idx[b - 1]]) if closing is not None and b - 1 >= max(a, 0) else None
    near = 0.0 if closing is None or last_gop is None else max(0.05, 0.2 * float(np.linalg.norm(key_emb[b - 1] - closing)))
    decoded, arrived, last_index = 0, 0, -1
    buffer: list[tuple[int, np.ndarray]] = []

    def flush() -> bool:
        nonlocal arrived, last_index
        idx = np.array([i for i, _ in buffer], np.int64)
        frames = np.stack([f for _, f in buffer])
        vecs = embedder.embed(frames)
        embeddings[idx] = vecs
        luma[idx] = frames.reshape(len(frames), -1).mean(axis=1, dtype=np.float32)
        buffer.clear()
        last_index = int(idx[-1])
        if closing is None or last_gop is None:
            return False
        for i, v in zip(idx, vecs):
            in_last_gop = index.pts[i] >= last_gop
            arrived = arrived + 1 if in_last_gop and float(np.linalg.norm(v - closing)) < near else 0
            if arrived >= ARRIVED_FRAMES:
                return True
        return False

    stopped = False
    for i, frame in decoder.frames(start, end):
        buffer.append((i, frame))
        decoded += 1
        if len(buffer) == chunk and flush():
            stopped = True
            break
    if buffer and not stopped:
        stopped = flush()
    if stopped and closing is not None and last_index < key_idx[b]:
        gap = np.arange(last_index + 1, key_idx[b])
        if len(gap):
            w = ((gap - last_index) / (key_idx[b] - last_index)).astype(np.float32)[:, None]
            fill = (1 - w) * embeddings[last_index] + w * closing
            embeddings[gap] = fill / np.maximum(np.linalg.norm(fill, axis=1, keepdims=True), 1e-8)
            luma[gap] = (1 - w[:, 0]) * luma[last_index] + w[:, 0] * luma[key_idx[b]]
    return decoded


def interpolate_keyframes(key_idx: np.ndarray, key_emb: np.ndarray, key_luma: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Fill every frame from the keyframes around it, linearly: a slow camera move between
    two similar keyframes becomes a gentle ramp (as it is), not a staircase of steps."""
    frames = np.arange(n)
    right = np.clip(np.searchsorted(key_idx, frames, side="left"), 0, len(key_idx) - 1)
    left = np.clip(np.searchsorted(key_idx, frames, side="right") - 1, 0, len(key_idx) - 1)
    span = (key_idx[right] - key_idx[left]).astype(np.float32)
    w = np.where(span > 0, (frames - key_idx[left]) / np.maximum(span, 1), 0.0).astype(np.float32)[:, None]
    emb = (1 - w) * key_emb[left] + w * key_emb[right]
    emb /= np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-8)
    luma = (1 - w[:, 0]) * key_luma[left] + w[:, 0] * key_luma[right]
    return emb.astype(np.float32), luma.astype(np.float32)


def candidate_pairs(key_embeddings: np.ndarray, threshold: float, drift_ratio: float = 0.0) -> np.ndarray:
    """Which keyframe pairs (k, k+1) may hold a boundary.

    A pair qualifies when its keyframes differ by more than ``threshold``. With
    ``drift_ratio`` > 0, a pair that differs by less than twice the threshold must also stand
    out from its neighbours (differ ``drift_ratio`` times more than the pairs before and after):
    a camera move changes every pair a little, a boundary changes one pair a lot. Pairs over
    two stretches are also compared, so a dissolve split across two pairs still stands out.
    """
    d = np.linalg.norm(np.diff(key_embeddings, axis=0), axis=1)
    big = d > threshold
    if drift_ratio <= 0 or len(d) < 3:
        return big
    before = np.concatenate([[0.0], d[:-1]])
    after = np.concatenate([d[1:], [0.0]])
    peak = d > drift_ratio * np.maximum(before, after)
    d2 = np.linalg.norm(key_embeddings[2:] - key_embeddings[:-2], axis=1)  # pairs (k, k+2)
    two = np.zeros_like(big)
    two_big = d2 > 2 * threshold
    two[:-1] |= two_big
    two[1:] |= two_big
    return (d > 2 * threshold) | (big & (peak | two))


def candidate_stretches(key_embeddings: np.ndarray, threshold: float, drift_ratio: float = 0.0) -> list[tuple[int, int]]:
    """Runs of consecutive keyframe pairs (k, k+1) that may hold a boundary: [(first k, last k + 1)]."""
    if len(key_embeddings) < 2:
        return []
    runs: list[tuple[int, int]] = []
    for k in np.where(candidate_pairs(key_embeddings, threshold, drift_ratio))[0]:
        if runs and runs[-1][1] == k:
            runs[-1] = (runs[-1][0], int(k) + 1)
        else:
            runs.append((int(k), int(k) + 1))
    return runs


def embed_coarse_to_fine(
    path: str | Path,
    embedder: Embedder,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    drift_ratio: float = 0.0,
    progress: Progress | None = None,
):
    """Embed every frame of ``path`` (full-rate surrogate) by coarse-to-fine decoding."""
    from vidscan.pipeline import EmbeddedVideo
    from vidscan.video import Sampling

    progress = progress or NullProgress()
    path = str(path)
    t0 = time.perf_counter()
    source = PyAVSource(path)
    info = source.info
    size = embedder.frame_size(info.width, info.height)
    turns = info.quarter_turns
    index, key_pts, key_frames = keyframe_pass(path, size, turns)
    t_index = time.perf_counter()
    if len(key_pts) == 0:
        raise InputError("no keyframe could be decoded", path=path)
    key_emb = embedder.embed(key_frames)
    key_luma = key_frames.reshape(len(key_frames), -1).mean(axis=1, dtype=np.float32)
    key_idx = np.array([index.index_of(p) for p in key_pts], np.int64)
    n = len(index.pts)
    embeddings, luma = interpolate_keyframes(key_idx, key_emb, key_luma, n)
    stats = CoarseStats(keyframes=len(key_idx), frames=n)
    stretches = candidate_stretches(key_emb, threshold, drift_ratio)
    # Frames before the first keyframe (open GOP at the start) and after the last one (no
    # later keyframe to compare with) are always decoded.
    if key_idx[0] > 0:
        stretches.insert(0, (-1, 0))
    last = len(key_idx) - 1
    if key_idx[last] < n - 1:
        if stretches and stretches[-1][1] == last:
            stretches[-1] = (stretches[-1][0], last + 1)
        else:
            stretches.append((last, last + 1))
    stats.candidate_stretches = len(stretches)
    total = sum((key_idx[b] if b < len(key_idx) else n) - (key_idx[a] if a >= 0 else 0) for a, b in stretches) or 1
    progress.start(Path(path).name + " (fine)", float(total))
    done = 0
    t_fine = time.perf_counter()
    decoder = StretchDecoder(path, index, size, turns)
    for a, b in stretches:
        start = int(index.pts[key_idx[a]]) if a >= 0 else int(index.pts[0])
        end = int(index.pts[key_idx[b]]) if b < len(key_idx) else int(index.pts[-1])
        decoded = _decode_stretch(decoder, embedder, embeddings, luma, index, key_idx, key_emb, a, b, start, end)
        stats.decoded_full_rate += decoded
        done += decoded
        progress.update(float(done))
    decoder.close()
    progress.finish()
    t_end = time.perf_counter()
    stats.timings = {"index_keyframes_s": t_index - t0, "fine_s": t_end - t_fine, "total_s": t_end - t0}
    times = np.asarray(index.seconds(index.pts), np.float64)
    end_s = float(index.seconds(int(index.pts[-1]) + index.last_duration))
    info = dataclasses.replace(info, frame_count=n, frame_count_exact=True, duration_s=round(end_s, 6))
    video = EmbeddedVideo(
        info=info,
        sampling=Sampling.all_frames(),
        embedder=embedder.identity(),
        indices=np.arange(n, dtype=np.int64),
        times=times,
        embeddings=embeddings,
        luma=luma,
        frame_count=n,
        duration_s=end_s,
        timings={"probe_s": 0.0, "decode_s": stats.timings["total_s"], "embed_s": 0.0},
    )
    return video, stats
