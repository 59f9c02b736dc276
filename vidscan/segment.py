"""Segmentation: boundaries found on an embedded video, turned into its timeline."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from vidscan.detect import BoundaryDetector
from vidscan.detect.base import Boundary
from vidscan.embed.base import Embedder
from vidscan.embedded import EmbeddedVideo
from vidscan.extract import frame_reader
from vidscan.scene_level import add_scene_level
from vidscan.timeline import Segment, Timeline


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
        if boundary is not None and boundary.kind not in ("cut", "label"):
            seg.transition_start, seg.transition_end = frame_of(boundary.start), frame_of(boundary.end)
        segments.append(seg)
    stats = {
        "frames_decoded": video.frame_count,
        "samples": n,
        "samples_per_second": round(video.samples_per_second, 6),
        "damaged_ranges_s": [list(r) for r in video.damaged],
        "timings_s": {k: round(v, 4) for k, v in video.timings.items()},
    }
    if video.info.stream_note():
        stats["notes"] = [video.info.stream_note()]
    return Timeline(video=video.info, segments=segments, settings=settings or {}, stats=stats)


def split_at(timeline: Timeline, video: EmbeddedVideo, times: list[float], kind: str = "cut") -> int:
    """Split ``timeline``'s segments at ``times`` (seconds; each moved to the first sample of
    ``video`` at or after it), unless a segment already starts within one sample of it; a
    split segment's second part begins with ``kind``. Returns how many splits were made. Used
    where another analysis knows an edge the shot detector did not find (an ad break's start
    on a cut the detector merged into a neighbour's dissolve)."""
    made = 0
    for t in sorted(times):
        k = int(np.searchsorted(video.times, t - 1e-6))
        if k <= 0 or k >= len(video.times):
            continue
        frame, start_s = int(video.indices[k]), float(video.times[k])
        at = next((i for i, seg in enumerate(timeline.segments) if seg.start_frame <= frame < seg.end_frame), None)
        if at is None:
            continue
        seg = timeline.segments[at]
        if frame - seg.start_frame <= 1 or seg.end_frame - frame <= 1:
            continue
        tail = Segment(index=0, start_frame=frame, end_frame=seg.end_frame, start_s=start_s, end_s=seg.end_s, transition=kind, level=seg.level)
        seg.end_frame, seg.end_s = frame, start_s
        timeline.segments.insert(at + 1, tail)
        made += 1
    for i, seg in enumerate(timeline.segments):
        seg.index = i
    return made


def segment_video(video: EmbeddedVideo, det: BoundaryDetector, emb: Embedder, backend: str, t0: float | None = None) -> Timeline:
    """Run the boundary detector over an embedded video and build its timeline."""
    t0 = time.perf_counter() if t0 is None else t0
    sampling = video.sampling
    if det.needs_frames is not None:
        det.attach_frames(frame_reader(video, det.needs_frames, backend))
    t1 = time.perf_counter()
    boundaries = det.fit_predict(video.embeddings, video.samples_per_second, video.luma, video.diffs)
    video.timings["detect_s"] = time.perf_counter() - t1
    settings = {
        "sampling": sampling.describe(),
        "backend": backend,
        "embedder": emb.describe(),
        "detector": det.params(),
    }
    timeline = build_timeline(video, boundaries, settings)
    picked = peak_indices(det.scores_, len(video.times))
    timeline.score_curve = [(round(float(video.times[k]), 4), round(float(det.scores_[k]), 4)) for k in picked]
    thresholds = getattr(det, "thresholds_", None)
    if thresholds is not None and len(thresholds) == len(det.scores_) and len(picked):
        timeline.score_thresholds = [round(float(thresholds[k]), 4) for k in picked]
    if video.embeddings.dtype == np.float32:
        add_scene_level(timeline, video.times, video.embeddings)
    timeline.stats["timings_s"]["total_s"] = round(time.perf_counter() - t0, 4)
    timeline.stats["from_cache"] = video.from_cache
    return timeline


def peak_indices(scores: np.ndarray, samples: int, points: int = 2000) -> list[int]:
    """Indices of at most ``points`` samples of the score curve, keeping each bucket's peak so
    boundaries stay visible; none when the curve does not cover the ``samples``."""
    if len(scores) == 0 or len(scores) != samples:
        return []
    if len(scores) <= points:
        return list(range(len(scores)))
    edges = np.linspace(0, len(scores), points + 1).astype(int)
    return [int(a + np.argmax(scores[a:b])) for a, b in zip(edges[:-1], edges[1:])]
