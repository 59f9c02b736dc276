"""The scenes pipeline: decode -> embed -> detect -> timeline, as a library.

Decoding runs in a background thread that stays a few batches ahead of the embedder
(a bounded queue), so the model always gets full batches and memory stays flat however
long the video is: only the embeddings (a few hundred bytes per sampled frame) are kept.
"""

from __future__ import annotations

import dataclasses
import queue
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from vidscan.detect import BoundaryDetector, create_detector
from vidscan.detect.base import Boundary
from vidscan.embed.base import Embedder
from vidscan.embed.registry import create_embedder
from vidscan.errors import InputError
from vidscan.progress import NullProgress, Progress
from vidscan.timeline import Segment, Timeline
from vidscan.video import FrameBatch, Sampling, VideoInfo, open_video


@dataclass
class EmbeddedVideo:
    """A video reduced to the embeddings of its sampled frames."""

    info: VideoInfo
    sampling: Sampling
    embedder: str  # the embedder's identity()
    indices: np.ndarray  # int64 [N] frame index of each sample
    times: np.ndarray  # float64 [N] seconds from the start
    embeddings: np.ndarray  # float32 [N, D]
    luma: np.ndarray  # float32 [N] mean brightness (0-255) of each sample: dips to black/white
    frame_count: int  # frames actually decoded
    duration_s: float  # presentation end of the last decoded frame
    damaged: list[tuple[float, float]] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def samples_per_second(self) -> float:
        if len(self.times) >= 2 and self.times[-1] > self.times[0]:
            return (len(self.times) - 1) / float(self.times[-1] - self.times[0])
        return self.sampling.samples_per_second(self.info.fps)


def _prefetch(batches: Iterator[FrameBatch], depth: int = 4) -> Iterator[FrameBatch]:
    """Run ``batches`` in a background thread, ``depth`` batches ahead."""
    q: queue.Queue = queue.Queue(maxsize=depth)
    done = object()
    stop = threading.Event()

    def produce() -> None:
        try:
            for batch in batches:
                while not stop.is_set():
                    try:
                        q.put(batch, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put(done)
        except BaseException as exc:  # re-raised in the consumer
            q.put(exc)

    thread = threading.Thread(target=produce, name="vidscan-decode", daemon=True)
    thread.start()
    try:
        while True:
            item = q.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join(timeout=5)


def embed_video(
    path: str | Path,
    embedder: Embedder,
    sampling: Sampling,
    *,
    backend: str = "pyav",
    progress: Progress | None = None,
) -> EmbeddedVideo:
    """Decode ``path`` at ``sampling`` and embed every sampled frame."""
    progress = progress or NullProgress()
    t0 = time.perf_counter()
    with open_video(path, backend) as source:
        info = source.info
        t_probe = time.perf_counter() - t0
        size = embedder.frame_size(info.width, info.height)
        chunks: list[np.ndarray] = []
        indices: list[np.ndarray] = []
        times: list[np.ndarray] = []
        lumas: list[np.ndarray] = []
        pending: list[FrameBatch] = []
        pending_n = 0
        embed_s = 0.0
        progress.start(Path(path).name, info.duration_s)

        def flush() -> None:
            nonlocal pending, pending_n, embed_s
            if not pending:
                return
            frames = np.concatenate([b.frames for b in pending]) if len(pending) > 1 else pending[0].frames
            t = time.perf_counter()
            chunks.append(embedder.embed(frames))
            embed_s += time.perf_counter() - t
            lumas.append(frames.reshape(len(frames), -1).mean(axis=1, dtype=np.float32))
            indices.append(np.concatenate([b.indices for b in pending]))
            times.append(np.concatenate([b.times for b in pending]))
            pending, pending_n = [], 0

        decode_batch = min(64, embedder.batch_size)
        try:
            for batch in _prefetch(source.batches(sampling, size=size, batch_size=decode_batch)):
                pending.append(batch)
                pending_n += len(batch)
                if pending_n >= embedder.batch_size:
                    flush()
                progress.update(float(batch.times[-1]) if len(batch) else 0.0)
            flush()
        finally:
            progress.finish()
        stats = source.stats
    total_s = time.perf_counter() - t0
    if stats.frames_decoded == 0 or not chunks:
        raise InputError("no frames could be decoded", path=str(path))
    if stats.finished:
        info = dataclasses.replace(info, frame_count=stats.frames_decoded, frame_count_exact=True, duration_s=round(stats.end_time_s, 6))
    return EmbeddedVideo(
        info=info,
        sampling=sampling,
        embedder=embedder.identity(),
        indices=np.concatenate(indices),
        times=np.concatenate(times),
        embeddings=np.concatenate(chunks),
        luma=np.concatenate(lumas),
        frame_count=stats.frames_decoded,
        duration_s=stats.end_time_s,
        damaged=list(stats.damaged),
        timings={"probe_s": t_probe, "decode_s": max(0.0, total_s - t_probe - embed_s), "embed_s": embed_s},
    )


def build_timeline(video: EmbeddedVideo, boundaries: list[Boundary], settings: dict[str, Any] | None = None) -> Timeline:
    """Turn boundaries (in sample indices) into a frame/second timeline covering the video."""
    n = len(video.indices)

    def frame_of(sample: int) -> int:
        return int(video.indices[sample]) if sample < n else video.frame_count

    def time_of(sample: int) -> float:
        return float(video.times[sample]) if sample < n else video.duration_s

    edges = [(0, None)] + [(b.index, b) for b in boundaries if 0 < b.index < n]
    segments: list[Segment] = []
    for k, (sample, boundary) in enumerate(edges):
        next_sample = edges[k + 1][0] if k + 1 < len(edges) else n
        start_frame = 0 if k == 0 else frame_of(sample)
        start_s = 0.0 if k == 0 else time_of(sample)
        seg = Segment(
            index=k,
            start_frame=start_frame,
            end_frame=frame_of(next_sample) if k + 1 < len(edges) else video.frame_count,
            start_s=start_s,
            end_s=time_of(next_sample) if k + 1 < len(edges) else video.duration_s,
            transition="start" if boundary is None else boundary.kind,
            score=None if boundary is None else boundary.score,
        )
        if boundary is not None and boundary.kind != "cut":
            seg.transition_start, seg.transition_end = frame_of(boundary.start), frame_of(boundary.end)
        segments.append(seg)
    stats = {
        "frames_decoded": video.frame_count,
        "samples": n,
        "samples_per_second": round(video.samples_per_second, 6),
        "damaged_ranges_s": [list(r) for r in video.damaged],
        "timings_s": {k: round(v, 4) for k, v in video.timings.items()},
    }
    return Timeline(video=video.info, segments=segments, settings=settings or {}, stats=stats)


def default_sampling(embedder: Embedder) -> Sampling:
    """Every frame for cheap embedders (exact cuts); 2 frames/s for CLIP-sized models."""
    return Sampling.all_frames() if embedder.name == "features" else Sampling.per_second(2.0)


def detect_scenes(
    path: str | Path,
    *,
    embedder: str | Embedder = "features",
    sampling: Sampling | str | None = None,
    detector: str | BoundaryDetector = "kernel",
    backend: str = "pyav",
    progress: Progress | None = None,
    embedder_options: dict[str, Any] | None = None,
    detector_options: dict[str, Any] | None = None,
) -> Timeline:
    """Find the scene boundaries of one video and return its :class:`Timeline`.

    ``embedder``: ``"features"`` (weight-free, default), ``"clip"`` or an :class:`Embedder`.
    ``sampling``: a :class:`Sampling` or text like ``"all"``, ``"every:2"``, ``"fps:2"``
    (default: every frame for ``features``, 2/s for CLIP). ``detector_options`` go to the
    detector (e.g. ``penalty``, ``min_scene_len`` in seconds).
    """
    t0 = time.perf_counter()
    emb = embedder if isinstance(embedder, Embedder) else create_embedder(embedder, **(embedder_options or {}))
    if isinstance(sampling, str):
        sampling = Sampling.parse(sampling)
    sampling = sampling or default_sampling(emb)
    det = detector if isinstance(detector, BoundaryDetector) else create_detector(detector, **(detector_options or {}))
    video = embed_video(path, emb, sampling, backend=backend, progress=progress)
    t1 = time.perf_counter()
    boundaries = det.fit_predict(video.embeddings, video.samples_per_second, video.luma)
    video.timings["detect_s"] = time.perf_counter() - t1
    settings = {
        "sampling": sampling.describe(),
        "backend": backend,
        "embedder": emb.describe(),
        "detector": det.params(),
    }
    timeline = build_timeline(video, boundaries, settings)
    timeline.stats["timings_s"]["total_s"] = round(time.perf_counter() - t0, 4)
    return timeline
