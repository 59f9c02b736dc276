"""The scenes task as a library call: decode -> embed -> detect -> timeline.

Each step has its own module: frame extraction (vidscan.extract), the cache round trip
(vidscan.cache), boundary detection (vidscan.detect) and timeline assembly
(vidscan.segment); this one only strings them together.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from vidscan.cache import EmbeddingCache
from vidscan.detect import DEFAULT_DETECTOR, BoundaryDetector, create_detector
from vidscan.embed.base import Embedder
from vidscan.embed.registry import create_embedder
from vidscan.errors import UsageError
from vidscan.extract import check_decode, default_sampling, embed_requests
from vidscan.progress import Progress
from vidscan.segment import segment_video
from vidscan.scene_level import switch_level
from vidscan.timeline import Timeline
from vidscan.video import Sampling
from vidscan.video.base import DEFAULT_BACKEND


def detect_scenes(
    path: str | Path,
    *,
    embedder: str | Embedder = "features",
    sampling: Sampling | str | None = None,
    detector: str | BoundaryDetector = DEFAULT_DETECTOR,
    backend: str = DEFAULT_BACKEND,
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
    keyframes first and decodes every frame only where they differ (see vidscan.video.coarse):
    faster on broadcast files with regular keyframes, every-frame sampling only.
    ``level``: ``"shot"`` (rows between visual boundaries, the default) or ``"scene"`` (rows
    that group similar consecutive shots); the other level is kept in ``timeline.alternate``.
    ``keep_embeddings`` keeps the sampled frames' embeddings on ``timeline.embedded``.
    """
    t0 = time.perf_counter()
    emb = embedder if isinstance(embedder, Embedder) else create_embedder(embedder, **(embedder_options or {}))
    sampling = Sampling.parse(sampling) if isinstance(sampling, str) else sampling or default_sampling(emb)
    det = detector if isinstance(detector, BoundaryDetector) else create_detector(detector, **(detector_options or {}))
    check_decode(decode, backend)
    if decode == "coarse" and sampling.mode != "all":
        raise UsageError("coarse-to-fine decoding works with every-frame sampling")
    videos, every = embed_requests(path, [(emb, sampling)], decode=decode, backend=backend, progress=progress, cache=cache)
    timeline = segment_video(videos[0], det, emb, backend, t0)
    timeline.embedded = videos[0] if keep_embeddings else None
    if every is not None:
        every.record(timeline)
    return switch_level(timeline, level)
