"""Frame extraction: decode a video once and embed the frames each request samples.

Decoding runs in a background thread that stays a few batches ahead of the embedder
(a bounded queue), so the model always gets full batches and memory stays flat however
long the video is: only the embeddings (a few hundred bytes per sampled frame) are kept.
:func:`embed_requests` is the one entry the tasks use: several (embedder, sampling) requests,
one decode pass, the cache consulted first, every-frame requests decoded coarse-to-fine when
asked.
"""

from __future__ import annotations

import dataclasses
import functools
import queue
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from vidscan.cache import EmbeddingCache, coarse_video_from_entry, store_video, video_from_entry
from vidscan.detect.base import FrameReader
from vidscan.detect.difference import DifferenceTracker
from vidscan.embed.base import Embedder
from vidscan.embedded import EmbeddedVideo
from vidscan.errors import CoarseNotWorthIt, CoarseUnavailable, InputError, UsageError
from vidscan.options import COARSE_BACKEND, DecodeSpec
from vidscan.progress import NullProgress, Progress
from vidscan.timeline import Timeline
from vidscan.video import FrameBatch, Sampling, open_video
from vidscan.video.base import DEFAULT_BACKEND
from vidscan.video.frames import AlsoSize
from vidscan.video.convert import resize_frames
from vidscan.video.strategy import MAX_FINE_COST, StrategyChoice, choose_strategy, gave_up


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


class Collector:
    """Accumulates one embedder's samples during a shared decode pass."""

    def __init__(self, embedder: Embedder, sampling: Sampling, route: bool, size: tuple[int, int] | None = None) -> None:
        self.embedder, self.sampling = embedder, sampling
        self.size = size  # the (width, height) the embedder wants, when not the decoded size
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
        if self.size is not None:
            frames = batch.smaller.get(self.size, frames)
        if self.selector is not None:
            keep = np.array([self.selector.keep(int(i), float(t)) for i, t in zip(idx, times)], bool)
            if not keep.any():
                return
            frames, idx, times = frames[keep], idx[keep], times[keep]
        if self.size is not None and frames.shape[1:3] != (self.size[1], self.size[0]):
            frames = resize_frames(frames, self.size)  # the backend could not make this size
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


def default_sampling(embedder: Embedder) -> Sampling:
    """Every frame for cheap embedders (exact cuts); 2 frames/s for CLIP-sized models."""
    return Sampling.all_frames() if embedder.cheap else Sampling.per_second(2.0)


def also_size(size: tuple[int, int], samplings: list[Sampling]) -> AlsoSize:
    """Frames at ``size`` for the requests sampling them so: only the frames one sampling
    selects, or every frame when several (or every-frame) requests share that size."""
    return AlsoSize(size, samplings[0] if len(set(samplings)) == 1 and samplings[0].mode != "all" else None)


def embed_video(
    path: str | Path,
    embedder: Embedder,
    sampling: Sampling,
    *,
    backend: str = DEFAULT_BACKEND,
    progress: Progress | None = None,
    cache: EmbeddingCache | None = None,
) -> EmbeddedVideo:
    """Decode ``path`` at ``sampling`` and embed every sampled frame (or load it from ``cache``)."""
    return embed_video_multi(path, [(embedder, sampling)], backend=backend, progress=progress, cache=cache)[0]


def embed_video_multi(
    path: str | Path,
    requests: list[tuple[Embedder, Sampling]],
    *,
    backend: str = DEFAULT_BACKEND,
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
            hit = cache.load(keys[i], functools.partial(video_from_entry, sampling=smp))
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
        sizes = {i: tuple(requests[i][0].frame_size(info.width, info.height)) for i in todo}
        # Each embedder sees frames at its own size, each scaled from the decoded picture: a
        # features embedder sharing a pass with a larger request keeps its own size (its output
        # and its cost would otherwise depend on what else was asked for). The size every
        # frame is made at is the densest request's; the others are made only for the frames
        # their sampling selects (on a 10-minute broadcast, converting every frame to the
        # picture cues' 192x108 as well cost 3 s of CPU for 5 frames a second used).
        # A backend that makes one size only decodes at the largest, and smaller requests
        # are scaled down from it (vidscan.video.convert.resize_frames).
        dense = [i for i in todo if requests[i][1].mode == "all"] if source.makes_further_sizes else []
        size = max((sizes[i] for i in dense or todo), key=lambda wh: wh[0] * wh[1])
        collectors = {i: Collector(requests[i][0], requests[i][1], route, sizes[i] if sizes[i] != size else None) for i in todo}
        also = tuple(also_size(s, [requests[i][1] for i in todo if sizes[i] == s]) for s in dict.fromkeys(sizes.values()) if s != size)
        decode_batch = min(64, min(requests[i][0].batch_size for i in todo))
        progress.start(f"decoding + embedding {Path(path).name}", info.duration_s)
        try:
            for batch in prefetch(source.batches(decode_sampling, size=size, batch_size=decode_batch, also=also)):
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
            store_video(cache, keys[i], video)
        results[i] = video
    return results  # type: ignore[return-value]


@dataclass
class EveryFrame:
    """Every frame's embedding, and how it was obtained."""

    video: EmbeddedVideo
    coarse: dict[str, Any] | None = None  # coarse-to-fine statistics, when it ran
    note: str | None = None  # why the requested decoding could not be used
    choice: StrategyChoice | None = None  # what ``auto`` chose, and why

    def record(self, timeline: Timeline) -> None:
        """Say in the timeline's settings and stats how the frames were decoded."""
        timeline.settings["decode"] = "coarse" if self.coarse is not None else "full"
        if self.coarse is not None:
            timeline.stats["coarse"] = self.coarse
        if self.choice is not None:
            timeline.stats["decode_choice"] = self.choice.as_dict()
        if self.note:
            timeline.stats.setdefault("notes", []).append(self.note)


def embed_every_frame(path: str | Path, emb: Embedder, *, decode: DecodeSpec = DecodeSpec(),
                      progress: Progress | None = None, cache: EmbeddingCache | None = None,
                      choice: StrategyChoice | None = None) -> EveryFrame:
    """Embed every frame: by decoding them all (cached), or coarse-to-fine (keyframes first,
    full rate only where they differ; see vidscan.video.coarse), or whichever of the two ``auto``
    chooses for this file. Coarse falls back to a full decode, with a note, on files it cannot
    index (no timestamps). ``choice``: what ``auto`` already chose for this file (a chosen
    keyframes-first pass gives up when it would decode most frames anyway)."""
    note = None
    if decode.strategy == "auto":
        decode, choice = resolved(path, decode)
    if decode.strategy == "coarse":
        from vidscan.video.coarse import (ARRIVED_FRAMES, DEFAULT_THRESHOLD, EARLY_STOP_REACH, PIXEL_THRESHOLD, embed_coarse_to_fine,
                                          sample_keyframe_pairs)

        method = f"pyav-coarse:{DEFAULT_THRESHOLD:g}:{PIXEL_THRESHOLD:g}:{ARRIVED_FRAMES}:{EARLY_STOP_REACH}"  # what the surrogate frames depend on
        key = cache.key(path, emb.identity(), "all", method) if cache is not None else None
        hit = cache.load(key, coarse_video_from_entry) if cache is not None and key is not None else None  # both or neither
        if hit is not None:
            return EveryFrame(*hit, choice=choice)
        if choice is not None and cache is not None and cache.has(cache.key(path, emb.identity(), Sampling.all_frames().describe(), decode.backend)):
            # An earlier run decoded every frame (it gave up on the keyframes, or was asked to):
            # reading the keyframes again would only lead back to that entry.
            choice = StrategyChoice("full", f"{choice.reason.split(':')[0]}: every frame already embedded (cache)")
            return EveryFrame(embed_video(path, emb, Sampling.all_frames(), backend=decode.backend, progress=progress, cache=cache), choice=choice)
        chosen = choice is not None and choice.strategy == "coarse"  # by auto, not asked for
        sample = sample_keyframe_pairs(path, emb) if chosen else None
        sampled_out = sample is not None and sample.every_frame  # no keyframe pass at all
        try:
            if sampled_out:
                raise CoarseNotWorthIt(sample.share, sample.coarse_cost)
            video, stats = embed_coarse_to_fine(path, emb, progress=progress, give_up_above=MAX_FINE_COST if chosen else None,
                                                keyframe_pictures=sample.pictures if sample is not None else None)
        except CoarseNotWorthIt as exc:
            if choice is not None:
                choice = gave_up(choice, exc.share, exc.cost, sampled=sampled_out)
        except CoarseUnavailable as exc:
            note = f"coarse-to-fine decoding is not possible: {exc}; every frame was decoded"
        else:
            summary = {"keyframes": stats.keyframes, "full_rate_fraction": round(stats.full_rate_fraction, 4),
                       "decoded_share": round(stats.decoded_share, 4),
                       "stretches": stats.candidate_stretches, "pieces": stats.pieces, "workers": stats.workers, "timings_s": stats.timings,
                       "predicted_fine_cost": round(stats.predicted_fine_cost, 3)}
            if sample is not None:
                summary["sample"] = {"pairs": sample.pairs, "differ_share": round(sample.share, 3),
                                     "predicted_cost": round(sample.coarse_cost, 3)}
            if cache is not None and key is not None:
                store_video(cache, key, video, {"coarse": summary})  # the summary comes back with a cache hit
            return EveryFrame(video, summary, choice=choice)
    return EveryFrame(embed_video(path, emb, Sampling.all_frames(), backend=decode.backend, progress=progress, cache=cache),
                      note=note, choice=choice)


def resolved(path: str | Path, decode: DecodeSpec) -> tuple[DecodeSpec, StrategyChoice | None]:
    """``decode`` with ``auto`` replaced by the strategy chosen for this file (only the PyAV
    backend can read keyframes first; any other decodes every frame), and the choice."""
    if decode.strategy != "auto":
        return decode, None
    if decode.backend != COARSE_BACKEND:
        choice = StrategyChoice("full", f"the {decode.backend} backend decodes every frame (keyframes first needs {COARSE_BACKEND})")
    else:
        choice = choose_strategy(str(path))
    return dataclasses.replace(decode, strategy=choice.strategy), choice


def embed_requests(path: str | Path, requests: list[tuple[Embedder, Sampling]], *, decode: DecodeSpec = DecodeSpec(),
                   progress: Progress | None = None, cache: EmbeddingCache | None = None) -> tuple[list[EmbeddedVideo], EveryFrame | None]:
    """Embed ``path`` for every (embedder, sampling) request with one decode strategy: the
    entry ``scenes`` and ``classify`` share. ``auto`` is resolved once per file (when a request
    wants every frame; to ``full`` when others want sampled frames). With the ``full`` strategy all requests share one decode pass; with
    ``coarse`` every-frame requests go coarse-to-fine and the others are decoded exactly on their
    own. Returns the videos in request order, and how the (last) every-frame request was
    decoded, when there is one."""
    every: EveryFrame | None = None
    choice = None
    every_frame = [sampling.mode == "all" for _, sampling in requests]
    if decode.strategy == "auto" and all(every_frame):
        decode, choice = resolved(path, decode)
    elif decode.strategy == "auto" and any(every_frame):
        # Sampled requests need their own decode of most GOPs anyway: one shared pass over
        # every frame serves them all, where keyframes first would add a second pass.
        decode = dataclasses.replace(decode, strategy="full")
        choice = StrategyChoice("full", "one pass over every frame also serves the sampled frames")
    if decode.strategy != "coarse":
        if len(requests) == 1 and requests[0][1].mode == "all":
            every = embed_every_frame(path, requests[0][0], decode=decode, progress=progress, cache=cache, choice=choice)
            return [every.video], every
        videos = embed_video_multi(path, requests, backend=decode.backend, progress=progress, cache=cache)
        if any(every_frame):
            every = EveryFrame(videos[len(every_frame) - 1 - every_frame[::-1].index(True)], choice=choice)
        return videos, every
    videos = []
    for emb, sampling in requests:
        if sampling.mode == "all":
            every = embed_every_frame(path, emb, decode=decode, progress=progress, cache=cache, choice=choice)
            videos.append(every.video)
        else:
            videos.append(embed_video(path, emb, sampling, backend=decode.backend, progress=progress, cache=cache))
    return videos, every


def frame_reader(video: EmbeddedVideo, size: tuple[int, int], backend: str = DEFAULT_BACKEND) -> FrameReader:
    """``reader(sample_indices) -> uint8 frames``: decodes just those frames again (exact).

    One source serves every call, so its frame index (a demux pass over the whole file) is
    built once however many windows or chunks a detector asks for.
    """
    source = open_video(video.info.path, backend)

    def read(samples: np.ndarray) -> np.ndarray:
        wanted = video.indices[np.asarray(samples, np.int64)]
        batches = list(source.batches(Sampling.frames(wanted), size=size, batch_size=64))
        frames = np.concatenate([b.frames for b in batches])
        got = np.concatenate([b.indices for b in batches])
        order = {int(f): i for i, f in enumerate(got)}
        return frames[[order[int(f)] for f in wanted]]

    return read
