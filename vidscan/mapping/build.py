"""Build the frame map of a collection: embeddings -> (collapsed) points -> clusters, 2-D layout,
labels, thumbnails -> :class:`FrameMap` (the page, the point table and the cluster summary).

Embeddings come from the cache where present: a file ``scenes``/``classify`` already embedded
at every frame is thinned to the map's sampling (the same frames a decode at that sampling
would give) instead of being decoded again.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import numpy as np
import pandas as pd

from vidscan.atomic import atomic_write_text, output_group
from vidscan.cache import EmbeddingCache
from vidscan.embed.base import Embedder
from vidscan.embedded import EmbeddedVideo
from vidscan.errors import InputError, UsageError
from vidscan.extract import default_sampling, embed_video
from vidscan.formats import extension, format_for, write_table
from vidscan.mapping.atlas import build_atlas, tile_size
from vidscan.mapping.clusters import check_choices, cluster, medoids
from vidscan.mapping.data import ClusterSummary, MapData, ThumbnailAtlas
from vidscan.mapping.defaults import DEFAULT_CLUSTER_METHOD, DEFAULT_PROJECTION, DEFAULT_SAMPLE_FPS, DEFAULT_THUMBNAILS, TILE_LONG_SIDE
from vidscan.mapping.page import render_map_page
from vidscan.mapping.projection import describe_projection, project
from vidscan.options import EmbedderSpec, built_embedder
from vidscan.progress import NullProgress, Progress
from vidscan.timeline import timecode
from vidscan.video import Sampling, open_video
from vidscan.video.base import DEFAULT_BACKEND

POINT_COLUMNS = ["video", "frame", "time_s", "timecode", "count", "cluster", "x", "y", "label", "confidence"]
SUMMARY_COLUMNS = ["cluster", "name", "points", "frames", "seconds", "share", "medoids"]


@dataclass
class FrameMap:
    """A built map: what the page draws (:attr:`data`), and the same as tables."""

    data: MapData
    points: pd.DataFrame
    summary: pd.DataFrame
    failed: list[tuple[str, str]] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    def page(self) -> str:
        return render_map_page(self.data)

    @staticmethod
    def output_paths(html_path: str | Path, table_path: str | Path | None = None, fmt: str | None = None) -> tuple[Path, Path, Path]:
        """(page, points table, cluster summary). The table defaults to ``<page stem>.clusters.csv``
        (or the ``fmt`` extension) beside the page; the summary goes beside the table as
        ``<table stem>.summary<ext>`` in the table's format."""
        page = Path(html_path)
        if page.suffix.lower() not in (".html", ".htm"):
            raise UsageError(f"the map is an HTML page: give --out NAME.html (got {str(html_path)!r})")
        table = Path(table_path) if table_path is not None else page.with_name(page.stem + ".clusters" + extension(fmt or "csv"))
        stem = table.name[: -len(table.suffix)] if table.suffix else table.name
        return page, table, table.with_name(f"{stem}.summary{extension(format_for(table, fmt))}")

    def write(self, html_path: str | Path, table_path: str | Path | None = None, fmt: str | None = None) -> list[Path]:
        """Write the page, the point table and the cluster summary (all or none); returns their
        paths (see :meth:`output_paths`)."""
        page, table, summary = self.output_paths(html_path, table_path, fmt)
        fmt = format_for(table, fmt)
        with output_group([page, table, summary]):
            atomic_write_text(page, self.page())
            document = {"settings": self.data.settings, "videos": self.data.videos}
            write_table(table, fmt, self.points, {**document, "points": self.points.to_dict(orient="records")}, rows_key="points")
            write_table(summary, fmt, self.summary, {**document, "clusters": self.summary.to_dict(orient="records")}, rows_key="clusters")
        return [page, table, summary]


def map_sampling(embedder: Embedder) -> Sampling:
    """One frame a second (see :data:`DEFAULT_SAMPLE_FPS`), or the labelling default when that is sparser."""
    default = default_sampling(embedder)
    sparse = default.mode == "fps" and default.value < DEFAULT_SAMPLE_FPS
    return default if sparse else Sampling.per_second(DEFAULT_SAMPLE_FPS)


def embedded_for_map(path: str | Path, emb: Embedder, sampling: Sampling, *, cache: EmbeddingCache | None, backend: str,
                     progress: Progress | None) -> EmbeddedVideo:
    """The video's samples at ``sampling``: thinned from a cached every-frame entry when there is
    one (no decoding), else decoded (and cached) at ``sampling``."""
    every = Sampling.all_frames()
    if cache is not None and sampling != every and cache.has(cache.key(path, emb.identity(), every.describe(), backend)):
        full = embed_video(path, emb, every, backend=backend, cache=cache)
        selector = sampling.selector()
        keep = np.array([selector.keep(int(i), float(t)) for i, t in zip(full.indices, full.times)], bool)
        return EmbeddedVideo(full.info, sampling, full.embedder, full.indices[keep], full.times[keep], full.embeddings[keep], full.luma[keep],
                             full.frame_count, full.duration_s, full.damaged, dict(full.timings), from_cache=True)
    return embed_video(path, emb, sampling, backend=backend, progress=progress, cache=cache)


def collapse_runs(vectors: np.ndarray, similarity: float) -> tuple[np.ndarray, np.ndarray]:
    """Runs of consecutive near-identical samples: (first sample of each run, run length).

    A sample joins the current run while its cosine similarity to the run's first sample is
    at least ``similarity``; a static shot becomes one point that stands for all its frames.
    """
    if len(vectors) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    starts = [0]
    for i in range(1, len(vectors)):
        if float(vectors[i] @ vectors[starts[-1]]) < similarity:
            starts.append(i)
    first = np.array(starts, np.int64)
    return first, np.diff(np.append(first, len(vectors)))


@dataclass
class _Points:
    """The map's points before layout, concatenated over the videos."""

    vectors: list[np.ndarray] = field(default_factory=list)
    video: list[np.ndarray] = field(default_factory=list)
    frame: list[np.ndarray] = field(default_factory=list)
    time_s: list[np.ndarray] = field(default_factory=list)
    count: list[np.ndarray] = field(default_factory=list)
    seconds_per_sample: list[np.ndarray] = field(default_factory=list)

    def add(self, k: int, video: EmbeddedVideo, collapse: float | None) -> None:
        keep, counts = collapse_runs(video.embeddings, collapse) if collapse is not None else (np.arange(len(video.times)), np.ones(len(video.times), np.int64))
        rate = video.samples_per_second or 1.0
        self.vectors.append(video.embeddings[keep])
        self.video.append(np.full(len(keep), k, np.int32))
        self.frame.append(video.indices[keep].astype(np.int64))
        self.time_s.append(video.times[keep].astype(np.float64))
        self.count.append(counts.astype(np.int32))
        self.seconds_per_sample.append(np.full(len(keep), 1.0 / rate))

    def joined(self, name: str) -> np.ndarray:
        return np.concatenate(getattr(self, name))


def map_videos(
    targets: str | Path | Sequence[str | Path],
    *,
    embedder: str | EmbedderSpec | Embedder = EmbedderSpec(),
    sampling: Sampling | str | None = None,
    clusters: int | None = None,
    cluster_method: str = DEFAULT_CLUSTER_METHOD,
    projection: str = DEFAULT_PROJECTION,
    collapse: float | None = None,
    probe: str | Path | Any = None,
    examples: str | Path | None = None,
    thumbnails: int = DEFAULT_THUMBNAILS,
    cache: EmbeddingCache | None = None,
    backend: str = DEFAULT_BACKEND,
    progress: Progress | None = None,
    warn: Callable[[str], None] | None = None,
    seed: int = 0,
    title: str | None = None,
) -> FrameMap:
    """The frame map of ``targets`` (videos, folders searched recursively, globs or list files).

    ``sampling``: the frames put on the map (default one a second); ``collapse`` (a cosine
    similarity such as 0.98): one point per run of consecutive frames at least that alike,
    carrying its count. ``clusters``: k for k-means (default: estimated); ``cluster_method``
    ``kmeans`` or ``hdbscan``; ``projection`` ``umap``, ``tsne`` or ``pca``. With ``probe``
    (a trained probe) or ``examples`` (few-shot folders), each point also gets a label and a
    confidence, and clusters are named after their most common label. ``thumbnails``: how
    many points get a thumbnail of their own (0: none). A video that cannot be read is
    skipped (``warn``, :attr:`FrameMap.failed`) unless it is the only one.
    """
    from vidscan.inputs import discover_inputs, each_readable

    t0 = time.perf_counter()
    if collapse is not None and not 0 < collapse <= 1:
        raise UsageError(f"--collapse must be a similarity in (0, 1], got {collapse}")
    if thumbnails < 0:
        raise UsageError(f"--thumbnails must be 0 or more, got {thumbnails}")
    check_choices(cluster_method, clusters, projection)
    specs = [str(targets)] if isinstance(targets, (str, Path)) else [str(t) for t in targets]
    videos = [v.path for v in discover_inputs(specs)]
    emb = built_embedder(embedder)
    scorer = None
    if probe is not None or examples is not None:  # labels on the points are optional
        from vidscan.classification import frame_scorer

        scorer = frame_scorer(emb, examples=examples, probe=probe)
    if isinstance(sampling, str):
        sampling = Sampling.parse(sampling)
    sampling = sampling or map_sampling(emb)
    progress = progress or NullProgress()

    points, used, durations, failed = _Points(), [], [], []
    def embed(path: str | Path) -> EmbeddedVideo:
        return embedded_for_map(path, emb, sampling, cache=cache, backend=backend, progress=progress)

    for path, video in each_readable(videos, embed, failed, warn):
        if len(video.times) == 0:
            continue
        points.add(len(used), video, collapse)
        used.append(str(Path(path).resolve()))
        durations.append(video.duration_s)
    if not used:
        reason = f"; first: {failed[0][1]}" if failed else ""
        raise InputError(f"none of the {len(videos)} video(s) gave a frame to map{reason}", path=specs[0])
    t_embed = time.perf_counter() - t0

    vectors = points.joined("vectors")
    with stage(progress, f"clustering {len(vectors):,} points ({cluster_method})"):
        ids = cluster(vectors, cluster_method, clusters, seed)
    t_cluster = time.perf_counter() - t0 - t_embed
    with stage(progress, f"laying out {len(vectors):,} points ({describe_projection(projection, len(vectors))})"):
        xy = project(vectors, projection, seed)
    t_project = time.perf_counter() - t0 - t_embed - t_cluster
    label, confidence, names = None, None, []
    if scorer is not None:
        probs = np.exp(scorer.log_probs(vectors))
        label, confidence, names = probs.argmax(axis=1).astype(np.int32), probs.max(axis=1).astype(np.float32), list(scorer.names)

    video_idx, frame, times, count = points.joined("video"), points.joined("frame"), points.joined("time_s"), points.joined("count")
    seconds = count * points.joined("seconds_per_sample")
    central = medoids(vectors, ids)
    summaries = _summaries(ids, count, seconds, float(sum(durations)), central, label, names)
    with stage(progress, f"thumbnails (up to {thumbnails:,})"):
        atlas, thumb = _thumbnails(used, video_idx, frame, times, central, thumbnails, backend)
    settings = {
        "embedder": emb.describe(), "sampling": sampling.describe(), "collapse": collapse,
        "clusters": {"method": cluster_method, "k": clusters if clusters is not None else "estimated", "found": int(len(set(ids.tolist()) - {-1}))},
        "projection": describe_projection(projection, len(vectors)), "seed": seed, "thumbnails": int(atlas.count),
        "labels": {"mode": scorer.mode, "names": names} if scorer is not None else None,
    }
    data = MapData(x=xy[:, 0].copy(), y=xy[:, 1].copy(), video=video_idx, frame=frame, time_s=times, cluster=ids.astype(np.int32),
                   count=count, thumb=thumb, videos=used, clusters=summaries, atlas=atlas, label=label, confidence=confidence,
                   labels=names, title=title or f"vidscan map: {len(used)} video{'s' if len(used) != 1 else ''}", settings=settings)
    timings = {"embed_s": round(t_embed, 4), "cluster_s": round(t_cluster, 4), "project_s": round(t_project, 4),
               "total_s": round(time.perf_counter() - t0, 4)}
    data.settings["timings_s"] = timings
    return FrameMap(data, _point_table(data), _summary_table(data), failed, timings)


@contextlib.contextmanager
def stage(progress: Progress, description: str) -> Iterator[None]:
    """A step with no measurable progress (a model fit): the bar shows what runs and for how long."""
    progress.start(description, 0.0)
    try:
        yield
    finally:
        progress.finish()


def _summaries(ids: np.ndarray, count: np.ndarray, seconds: np.ndarray, runtime: float, central: dict[int, list[int]],
               label: np.ndarray | None, names: list[str]) -> list[ClusterSummary]:
    out = []
    for c in sorted(set(ids.tolist()), key=lambda v: (v < 0, v)):
        members = ids == c
        name = "no cluster" if c < 0 else f"cluster {c}"
        if label is not None and c >= 0:
            votes = np.bincount(label[members], weights=count[members], minlength=len(names))
            top = int(votes.argmax())
            name = f"{c}: {names[top]} ({100 * votes[top] / votes.sum():.0f}%)"
        total = float(seconds[members].sum())
        out.append(ClusterSummary(id=int(c), name=name, points=int(members.sum()), frames=int(count[members].sum()), seconds=round(total, 3),
                                  share=round(total / runtime, 6) if runtime > 0 else 0.0, medoids=central.get(int(c), [])))
    return out


def _thumbnail_points(video_idx: np.ndarray, central: dict[int, list[int]], budget: int) -> np.ndarray:
    """Which points get a thumbnail of their own: all when they fit the budget, else every
    cluster's medoids and points spread evenly over the collection (so over each video)."""
    n = len(video_idx)
    if budget <= 0:
        return np.zeros(0, np.int64)
    if budget >= n:
        return np.arange(n)
    ranked = [ids[rank] for rank in range(max((len(v) for v in central.values()), default=0))
              for _, ids in sorted(central.items()) if rank < len(ids)]  # every cluster's most central frame first
    picked = list(dict.fromkeys(ranked))[:budget]
    spare = budget - len(picked)
    chosen = set(picked) | (set(np.linspace(0, n - 1, spare).round().astype(int).tolist()) if spare > 0 else set())
    return np.array(sorted(chosen), np.int64)


def nearest_in_sorted(sorted_values: np.ndarray, query: np.ndarray) -> np.ndarray:
    """For each query value, the index of the nearest value in ``sorted_values`` (ascending)."""
    right = np.clip(np.searchsorted(sorted_values, query), 0, len(sorted_values) - 1)
    left = np.clip(right - 1, 0, len(sorted_values) - 1)
    return np.where(np.abs(sorted_values[left] - query) <= np.abs(sorted_values[right] - query), left, right)


def _thumbnails(videos: list[str], video_idx: np.ndarray, frame: np.ndarray, times: np.ndarray, central: dict[int, list[int]],
                budget: int, backend: str) -> tuple[ThumbnailAtlas, np.ndarray]:
    """Decode the chosen points' frames small and pack them; every point's tile (its own, or
    the nearest in time of its video that has one; -1 when none)."""
    chosen = _thumbnail_points(video_idx, central, budget)
    thumb = np.full(len(frame), -1, np.int32)
    if len(chosen) == 0:
        return ThumbnailAtlas([], 0, 0, 1, 1, 0), thumb
    with open_video(videos[int(video_idx[chosen[0]])], backend) as source:
        tile_w, tile_h = tile_size(source.info.width, source.info.height, TILE_LONG_SIDE)
    tile_of: dict[tuple[int, int], int] = {}

    def tiles() -> Iterator[np.ndarray]:
        chosen_video = video_idx[chosen]
        for v, path in enumerate(videos):
            wanted = sorted(set(frame[chosen[chosen_video == v]].tolist()))
            if not wanted:
                continue
            with open_video(path, backend) as source:
                w, h = tile_size(source.info.width, source.info.height, TILE_LONG_SIDE)
                w, h = (w * min(tile_w / w, tile_h / h), h * min(tile_w / w, tile_h / h))
                size = (max(2, int(w) // 2 * 2), max(2, int(h) // 2 * 2))
                for batch in source.batches(Sampling.frames(wanted), size=size, batch_size=32):
                    for rgb, index in zip(batch.frames, batch.indices.tolist()):
                        tile_of[(v, int(index))] = len(tile_of)
                        yield _letterbox(rgb, tile_w, tile_h)

    atlas = build_atlas(tiles())
    for v in range(len(videos)):
        mine = np.flatnonzero(video_idx == v)
        have = [i for i in mine if (v, int(frame[i])) in tile_of]
        if not have:
            continue
        for i, j in zip(mine, nearest_in_sorted(times[have], times[mine])):
            thumb[i] = tile_of[(v, int(frame[have[j]]))]
    return atlas, thumb


def _letterbox(rgb: np.ndarray, width: int, height: int) -> np.ndarray:
    """``rgb`` centred on a black ``width`` x ``height`` tile (cropped if larger)."""
    tile = np.zeros((height, width, 3), np.uint8)
    h, w = min(height, rgb.shape[0]), min(width, rgb.shape[1])
    top, left = (height - h) // 2, (width - w) // 2
    tile[top : top + h, left : left + w] = rgb[:h, :w]
    return tile


def _point_table(data: MapData) -> pd.DataFrame:
    frame = pd.DataFrame({
        "video": [data.videos[i] for i in data.video], "frame": data.frame.astype(np.int64), "time_s": np.round(data.time_s, 6),
        "timecode": [timecode(float(t)) for t in data.time_s], "count": data.count.astype(np.int64), "cluster": data.cluster.astype(np.int64),
        "x": np.round(data.x.astype(np.float64), 5), "y": np.round(data.y.astype(np.float64), 5),
        "label": [data.labels[i] if i >= 0 else None for i in data.label] if data.label is not None else None,
        "confidence": np.round(data.confidence.astype(np.float64), 6) if data.confidence is not None else np.nan,
    })
    return frame[POINT_COLUMNS]


def _summary_table(data: MapData) -> pd.DataFrame:
    rows = [{"cluster": c.id, "name": c.name, "points": c.points, "frames": c.frames, "seconds": c.seconds, "share": c.share,
             "medoids": " ".join(f"{Path(data.videos[int(data.video[m])]).name}@{int(data.frame[m])}" for m in c.medoids)} for c in data.clusters]
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


map = map_videos  # noqa: A001 - the public name, vidscan.map(...); nothing below uses the built-in

__all__ = ["FrameMap", "collapse_runs", "embedded_for_map", "map", "map_sampling", "map_videos"]
