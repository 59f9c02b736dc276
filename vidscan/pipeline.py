"""The scenes pipeline: decode -> embed -> detect -> timeline, as a library.

Decoding runs in a background thread that stays a few batches ahead of the embedder
(a bounded queue), so the model always gets full batches and memory stays flat however
long the video is: only the embeddings (a few hundred bytes per sampled frame) are kept.
"""

from __future__ import annotations

import dataclasses
import functools
import queue
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from vidscan.detect import DEFAULT_DETECTOR, BoundaryDetector, create_detector
from vidscan.detect.base import Boundary
from vidscan.detect.difference import DifferenceTracker
from vidscan.embed.base import Embedder
from vidscan.embed.registry import create_embedder
from vidscan.cache import EmbeddingCache
from vidscan.errors import InputError, UsageError, VidscanError
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
    from_cache: bool = False
    #: float32 [N] pixel difference of each sample to the one before (vidscan.detect.difference):
    #: cuts between shots whose embeddings are alike. Empty when not measured.
    diffs: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))

    @property
    def samples_per_second(self) -> float:
        if len(self.times) >= 2 and self.times[-1] > self.times[0]:
            return (len(self.times) - 1) / float(self.times[-1] - self.times[0])
        return self.sampling.samples_per_second(self.info.fps)


def prefetch(batches: Iterator[FrameBatch], depth: int = 4) -> Iterator[FrameBatch]:
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


class _Collector:
    """Accumulates one embedder's samples during a shared decode pass."""

    def __init__(self, embedder: Embedder, sampling: Sampling, route: bool) -> None:
        self.embedder, self.sampling = embedder, sampling
        self.selector = sampling.selector() if route else None
        self.pending: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.pending_n = 0
        self.chunks: list[np.ndarray] = []
        self.indices: list[np.ndarray] = []
        self.times: list[np.ndarray] = []
        self.lumas: list[np.ndarray] = []
        self.diffs: list[np.ndarray] = []
        self.difference = DifferenceTracker()
        self.embed_s = 0.0

    def add(self, batch: FrameBatch) -> None:
        frames, idx, times = batch.frames, batch.indices, batch.times
        if self.selector is not None:
            keep = np.array([self.selector.keep(int(i), float(t)) for i, t in zip(idx, times)], bool)
            if not keep.any():
                return
            frames, idx, times = frames[keep], idx[keep], times[keep]
        self.pending.append((frames, idx, times))
        self.pending_n += len(idx)
        if self.pending_n >= self.embedder.batch_size:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        frames = np.concatenate([p[0] for p in self.pending]) if len(self.pending) > 1 else self.pending[0][0]
        t = time.perf_counter()
        self.chunks.append(self.embedder.embed(frames))
        self.embed_s += time.perf_counter() - t
        self.indices.append(np.concatenate([p[1] for p in self.pending]))
        self.times.append(np.concatenate([p[2] for p in self.pending]))
        self.lumas.append(frames.reshape(len(frames), -1).mean(axis=1, dtype=np.float32))
        self.diffs.append(self.difference(frames))
        self.pending, self.pending_n = [], 0


def _from_cache(arrays: dict[str, np.ndarray], meta: dict[str, Any], sampling: Sampling) -> EmbeddedVideo:
    """The video of a cache entry; raises ValueError/TypeError/KeyError on one that does not make
    sense (the cache then drops it and the video is embedded again)."""
    n = len(arrays["indices"])
    if arrays["embeddings"].ndim != 2 or any(len(arrays[k]) != n for k in ("times", "embeddings", "luma")) \
            or len(arrays["diffs"]) not in (0, n):
        raise ValueError("arrays of different lengths")
    damaged = [(float(a), float(b)) for a, b in meta.get("damaged", [])]
    frame_count, duration_s = int(meta["frame_count"]), float(meta["duration_s"])
    if frame_count < n or not np.isfinite(duration_s) or duration_s < 0:
        raise ValueError("impossible frame count or duration")
    if not isinstance(meta["info"], dict) or not isinstance(meta["embedder"], str):
        raise TypeError("malformed metadata")
    return EmbeddedVideo(
        info=VideoInfo(**meta["info"]),
        sampling=sampling,
        embedder=meta["embedder"],
        indices=arrays["indices"],
        times=arrays["times"],
        embeddings=arrays["embeddings"],
        luma=arrays["luma"],
        diffs=arrays["diffs"],
        frame_count=frame_count,
        duration_s=duration_s,
        damaged=damaged,
        timings={"probe_s": 0.0, "decode_s": 0.0, "embed_s": 0.0, "cache_load_s": 0.0},
        from_cache=True,
    )


def _coarse_from_cache(arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> tuple[EmbeddedVideo, dict[str, Any] | None]:
    """A coarse-to-fine cache entry: the video and the summary of how it was decoded."""
    coarse = meta.get("coarse")
    if coarse is not None and not isinstance(coarse, dict):
        raise TypeError("malformed coarse summary")
    return _from_cache(arrays, meta, Sampling.all_frames()), coarse


def _store(cache: EmbeddingCache, key: str, video: EmbeddedVideo, extra: dict[str, Any] | None = None) -> None:
    arrays = {"indices": video.indices, "times": video.times, "embeddings": video.embeddings, "luma": video.luma, "diffs": video.diffs}
    meta = {"info": video.info.to_dict(), "embedder": video.embedder, "frame_count": video.frame_count,
            "duration_s": video.duration_s, "damaged": [list(r) for r in video.damaged], **(extra or {})}
    try:
        cache.store(key, arrays, meta)
    except VidscanError:
        pass  # an unwritable cache must not fail the run


def embed_video(
    path: str | Path,
    embedder: Embedder,
    sampling: Sampling,
    *,
    backend: str = "pyav",
    progress: Progress | None = None,
    cache: EmbeddingCache | None = None,
) -> EmbeddedVideo:
    """Decode ``path`` at ``sampling`` and embed every sampled frame (or load it from ``cache``)."""
    return embed_video_multi(path, [(embedder, sampling)], backend=backend, progress=progress, cache=cache)[0]


def embed_video_multi(
    path: str | Path,
    requests: list[tuple[Embedder, Sampling]],
    *,
    backend: str = "pyav",
    progress: Progress | None = None,
    cache: EmbeddingCache | None = None,
) -> list[EmbeddedVideo]:
    """Embed one video for several (embedder, sampling) requests in a single decode pass.

    Requests found in ``cache`` are not decoded again. Frames are decoded once, at the
    largest size any remaining embedder wants, and each embedder gets the frames its own
    sampling selects.
    """
    progress = progress or NullProgress()
    results: list[EmbeddedVideo | None] = [None] * len(requests)
    keys: list[str | None] = [None] * len(requests)
    if cache is not None:
        for i, (emb, smp) in enumerate(requests):
            t = time.perf_counter()
            keys[i] = cache.key(path, emb.identity(), smp.describe(), backend)
            hit = cache.load(keys[i], functools.partial(_from_cache, sampling=smp))
            if hit is not None:
                hit.timings["cache_load_s"] = time.perf_counter() - t
                results[i] = hit
    todo = [i for i, r in enumerate(results) if r is None]
    if not todo:
        return results  # type: ignore[return-value]
    t0 = time.perf_counter()
    with open_video(path, backend) as source:
        info = source.info
        t_probe = time.perf_counter() - t0
        samplings = {requests[i][1] for i in todo}
        decode_sampling = next(iter(samplings)) if len(samplings) == 1 else Sampling.all_frames()
        route = len(samplings) > 1
        collectors = {i: _Collector(requests[i][0], requests[i][1], route) for i in todo}
        size = max((requests[i][0].frame_size(info.width, info.height) for i in todo), key=lambda wh: wh[0] * wh[1])
        decode_batch = min(64, min(requests[i][0].batch_size for i in todo))
        progress.start(Path(path).name, info.duration_s)
        try:
            for batch in prefetch(source.batches(decode_sampling, size=size, batch_size=decode_batch)):
                for collector in collectors.values():
                    collector.add(batch)
                progress.update(float(batch.times[-1]) if len(batch) else 0.0)
            for collector in collectors.values():
                collector.flush()
        finally:
            progress.finish()
        stats = source.stats
    total_s = time.perf_counter() - t0
    if stats.frames_decoded == 0:
        raise InputError("no frames could be decoded", path=str(path))
    if stats.finished:
        info = dataclasses.replace(info, frame_count=stats.frames_decoded, frame_count_exact=True, duration_s=round(stats.end_time_s, 6))
    embed_total = sum(c.embed_s for c in collectors.values())
    for i, c in collectors.items():
        if not c.chunks:
            raise InputError("no frames could be decoded at the requested sampling", path=str(path))
        video = EmbeddedVideo(
            info=info,
            sampling=c.sampling,
            embedder=c.embedder.identity(),
            indices=np.concatenate(c.indices),
            times=np.concatenate(c.times),
            embeddings=np.concatenate(c.chunks),
            luma=np.concatenate(c.lumas),
            diffs=np.concatenate(c.diffs),
            frame_count=stats.frames_decoded,
            duration_s=stats.end_time_s,
            damaged=list(stats.damaged),
            timings={"probe_s": t_probe, "decode_s": max(0.0, total_s - t_probe - embed_total), "embed_s": c.embed_s},
        )
        if cache is not None and keys[i] is not None and stats.finished:
            _store(cache, keys[i], video)
        results[i] = video
    return results  # type: ignore[return-value]


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


def default_sampling(embedder: Embedder) -> Sampling:
    """Every frame for cheap embedders (exact cuts); 2 frames/s for CLIP-sized models."""
    return Sampling.all_frames() if embedder.name == "features" else Sampling.per_second(2.0)


def detect_scenes(
    path: str | Path,
    *,
    embedder: str | Embedder = "features",
    sampling: Sampling | str | None = None,
    detector: str | BoundaryDetector = DEFAULT_DETECTOR,
    backend: str = "pyav",
    progress: Progress | None = None,
    embedder_options: dict[str, Any] | None = None,
    detector_options: dict[str, Any] | None = None,
    cache: EmbeddingCache | None = None,
    decode: str = "full",
    level: str = "shot",
    keep_embeddings: bool = False,
) -> Timeline:
    """Find the scene boundaries of one video and return its :class:`Timeline`.

    ``embedder``: ``"features"`` (weight-free, default), ``"clip"`` or an :class:`Embedder`.
    ``sampling``: a :class:`Sampling` or text like ``"all"``, ``"every:2"``, ``"fps:2"``
    (default: every frame for ``features``, 2/s for CLIP). ``detector_options`` go to the
    detector (e.g. ``penalty``, ``min_scene_len`` in seconds). ``decode="coarse"`` looks at
    keyframes first and decodes every frame only where they differ (see vidscan.coarse):
    faster on broadcast files with regular keyframes, every-frame sampling only.
    ``level``: ``"shot"`` (rows between visual boundaries, the default) or ``"scene"`` (rows
    that group similar consecutive shots); the other level is kept in ``timeline.alternate``.
    ``keep_embeddings`` keeps the sampled frames' embeddings on ``timeline.embedded``.
    """
    from vidscan.grouping import switch_level

    timeline = _detect_scenes(path, embedder, sampling, detector, backend, progress, embedder_options, detector_options, cache, decode,
                              keep_embeddings)
    return switch_level(timeline, level)


def _detect_scenes(path, embedder, sampling, detector, backend, progress, embedder_options, detector_options, cache, decode,
                   keep_embeddings) -> Timeline:
    t0 = time.perf_counter()
    emb = embedder if isinstance(embedder, Embedder) else create_embedder(embedder, **(embedder_options or {}))
    if isinstance(sampling, str):
        sampling = Sampling.parse(sampling)
    sampling = sampling or default_sampling(emb)
    det = detector if isinstance(detector, BoundaryDetector) else create_detector(detector, **(detector_options or {}))
    check_decode(decode, backend)
    every = None
    if sampling.mode == "all":
        every = embed_every_frame(path, emb, decode=decode, backend=backend, progress=progress, cache=cache)
        video = every.video
    elif decode == "coarse":
        raise UsageError("coarse-to-fine decoding works with every-frame sampling")
    else:
        video = embed_video(path, emb, sampling, backend=backend, progress=progress, cache=cache)
    timeline = segment_video(video, det, emb, backend, t0)
    timeline.embedded = video if keep_embeddings else None
    if every is not None:
        every.record(timeline)
    return timeline


@dataclass
class EveryFrame:
    """Every frame's embedding, and how it was obtained."""

    video: EmbeddedVideo
    coarse: dict[str, Any] | None = None  # coarse-to-fine statistics, when it ran
    note: str | None = None  # why the requested decoding could not be used

    def record(self, timeline: Timeline) -> None:
        """Say in the timeline's settings and stats how the frames were decoded."""
        if self.coarse is not None:
            timeline.settings["decode"] = "coarse"
            timeline.stats["coarse"] = self.coarse
        if self.note:
            timeline.stats.setdefault("notes", []).append(self.note)


def check_decode(decode: str, backend: str) -> None:
    """A usage error for a decode mode that does not exist or that this decoder cannot do."""
    if decode not in ("full", "coarse"):
        raise UsageError(f"decode must be 'full' or 'coarse', got {decode!r}")
    if decode == "coarse" and backend != "pyav":
        raise UsageError("coarse-to-fine decoding works with the pyav decoder")


def embed_every_frame(path: str | Path, emb: Embedder, *, decode: str = "full", backend: str = "pyav",
                      progress: Progress | None = None, cache: EmbeddingCache | None = None) -> EveryFrame:
    """Embed every frame: by decoding them all (cached), or coarse-to-fine (keyframes first,
    full rate only where they differ; see vidscan.coarse). Coarse falls back to a full decode,
    with a note, on files it cannot index (no timestamps)."""
    check_decode(decode, backend)
    note = None
    if decode == "coarse":
        from vidscan.coarse import (ARRIVED_FRAMES, DEFAULT_THRESHOLD, EARLY_STOP_REACH, PIXEL_THRESHOLD, CoarseUnavailable,
                                    embed_coarse_to_fine)

        method = f"pyav-coarse:{DEFAULT_THRESHOLD:g}:{PIXEL_THRESHOLD:g}:{ARRIVED_FRAMES}:{EARLY_STOP_REACH}"  # what the surrogate frames depend on
        key = cache.key(path, emb.identity(), "all", method) if cache is not None else None
        hit = cache.load(key, _coarse_from_cache) if cache is not None and key is not None else None  # both or neither
        if hit is not None:
            return EveryFrame(*hit)
        try:
            video, stats = embed_coarse_to_fine(path, emb, progress=progress)
        except CoarseUnavailable as exc:
            note = f"coarse-to-fine decoding is not possible: {exc}; every frame was decoded"
        else:
            summary = {"keyframes": stats.keyframes, "full_rate_fraction": round(stats.full_rate_fraction, 4),
                       "stretches": stats.candidate_stretches, "pieces": stats.pieces, "workers": stats.workers, "timings_s": stats.timings}
            if cache is not None and key is not None:
                _store(cache, key, video, {"coarse": summary})  # the summary comes back with a cache hit
            return EveryFrame(video, summary)
    return EveryFrame(embed_video(path, emb, Sampling.all_frames(), backend=backend, progress=progress, cache=cache), note=note)


def segment_video(video: EmbeddedVideo, det: BoundaryDetector, emb: Embedder, backend: str, t0: float | None = None) -> Timeline:
    """Run the boundary detector over an embedded video and build its timeline."""
    t0 = time.perf_counter() if t0 is None else t0
    sampling = video.sampling
    if getattr(det, "needs_frames", None):
        det.attach_frames(frame_reader(video, det.needs_frames))
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
    timeline.score_curve = downsample_curve(video.times, getattr(det, "scores_", np.zeros(0)))
    if video.embeddings.dtype == np.float32:
        from vidscan.grouping import add_scene_level

        add_scene_level(timeline, video.times, video.embeddings)
    timeline.stats["timings_s"]["total_s"] = round(time.perf_counter() - t0, 4)
    timeline.stats["from_cache"] = video.from_cache
    return timeline


def frame_reader(video: EmbeddedVideo, size: tuple[int, int]):
    """``reader(sample_indices) -> uint8 frames``: decodes just those frames again (exact).

    One source serves every call, so its frame index (a demux pass over the whole file) is
    built once however many windows or chunks a detector asks for.
    """
    source = open_video(video.info.path)

    def read(samples: np.ndarray) -> np.ndarray:
        wanted = video.indices[np.asarray(samples, np.int64)]
        batches = list(source.batches(Sampling.frames(wanted), size=size, batch_size=64))
        frames = np.concatenate([b.frames for b in batches])
        got = np.concatenate([b.indices for b in batches])
        order = {int(f): i for i, f in enumerate(got)}
        return frames[[order[int(f)] for f in wanted]]

    return read


def downsample_curve(times: np.ndarray, scores: np.ndarray, points: int = 2000) -> list[tuple[float, float]]:
    """At most ``points`` (time, score) pairs, keeping each bucket's peak so boundaries stay visible."""
    if len(scores) == 0 or len(scores) != len(times):
        return []
    if len(scores) <= points:
        return [(round(float(t), 4), round(float(v), 4)) for t, v in zip(times, scores)]
    edges = np.linspace(0, len(scores), points + 1).astype(int)
    out = []
    for a, b in zip(edges[:-1], edges[1:]):
        k = a + int(np.argmax(scores[a:b]))
        out.append((round(float(times[k]), 4), round(float(scores[k]), 4)))
    return out
