"""What the map page draws: one record of arrays per point, the clusters, and the thumbnails."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class ClusterSummary:
    """One cluster as the legend shows it."""

    id: int  # -1: points no cluster took (HDBSCAN's noise)
    name: str  # e.g. "cluster 3" or "3: game" (its most common label)
    points: int  # points on the map (after near-duplicates were collapsed)
    frames: int  # sampled frames they stand for
    seconds: float  # runtime they cover (frames x the sampling interval)
    share: float  # seconds / the collection's runtime, 0..1
    medoids: list[int] = field(default_factory=list)  # point indices of its representative frames, most central first


@dataclass
class ThumbnailAtlas:
    """Thumbnails as JPEG sprite sheets: tile ``t`` is on sheet ``t // per_sheet`` at
    column ``(t % per_sheet) % columns`` and row ``(t % per_sheet) // columns``."""

    sheets: list[bytes]  # encoded JPEG sheets
    tile_width: int
    tile_height: int
    columns: int
    per_sheet: int
    count: int  # tiles in all


@dataclass
class MapData:
    """Everything the page needs. Arrays are ``[N]``, one entry per point."""

    x: np.ndarray  # float32 map coordinates
    y: np.ndarray
    video: np.ndarray  # int32 index into ``videos``
    frame: np.ndarray  # int64 frame index in its video
    time_s: np.ndarray  # float64 presentation time in its video
    cluster: np.ndarray  # int32 cluster id (-1: none)
    count: np.ndarray  # int32 sampled frames this point stands for (>1 when near-duplicates were collapsed)
    thumb: np.ndarray  # int32 tile index in ``atlas`` (-1: none)
    videos: list[str]  # absolute paths of the videos
    clusters: list[ClusterSummary]
    atlas: ThumbnailAtlas
    label: np.ndarray | None = None  # int32 index into ``labels`` (-1: unknown), when labelled
    confidence: np.ndarray | None = None  # float32 0..1, with ``label``
    labels: list[str] = field(default_factory=list)
    title: str = "vidscan map"
    settings: dict = field(default_factory=dict)  # shown in the page's footer (embedder, sampling, clustering, projection)

    @property
    def size(self) -> int:
        return int(len(self.x))
