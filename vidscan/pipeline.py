"""The scenes task as a library call: decode -> embed -> detect -> timeline.

Each step has its own module: frame extraction (vidscan.extract), the cache round trip
(vidscan.cache), boundary detection (vidscan.detect) and timeline assembly
(vidscan.segment); this one only strings them together.
"""

from __future__ import annotations

import time
from pathlib import Path

from vidscan.cache import EmbeddingCache
from vidscan.detect.base import BoundaryDetector
from vidscan.embed.base import Embedder
from vidscan.errors import UsageError
from vidscan.extract import default_sampling, embed_requests
from vidscan.options import DecodeSpec, DetectorSpec, EmbedderSpec, built_detector, built_embedder
from vidscan.progress import Progress
from vidscan.segment import segment_video
from vidscan.scene_level import switch_level
from vidscan.timeline import Timeline
from vidscan.video import Sampling


def detect_scenes(
    path: str | Path,
    *,
    embedder: str | EmbedderSpec | Embedder = EmbedderSpec(),
    detector: str | DetectorSpec | BoundaryDetector = DetectorSpec(),
    sampling: Sampling | str | None = None,
    decode: DecodeSpec | str = DecodeSpec(),
    level: str = "shot",
    cache: EmbeddingCache | None = None,
    progress: Progress | None = None,
    keep_embeddings: bool = False,
) -> Timeline:
    """Find the scene boundaries of one video and return its :class:`Timeline`.

    ``embedder``: a name (``"features"``, weight-free, the default; ``"clip"``), an
    :class:`EmbedderSpec` (a model and its options) or a built :class:`Embedder`.
    ``detector``: a name (``"adaptive"`` by default), a :class:`DetectorSpec` (with its
    ``penalty``, ``min_scene_len``) or a built :class:`BoundaryDetector`.
    ``sampling``: a :class:`Sampling` or text like ``"all"``, ``"every:2"``, ``"fps:2"``
    (default: every frame for ``features``, 2/s for CLIP).
    ``decode``: a :class:`DecodeSpec` (the backend, and the strategy) or just the strategy:
    ``"coarse"`` looks at keyframes first and decodes every frame only where they differ (see
    vidscan.video.coarse): faster on broadcast files with regular keyframes, every-frame
    sampling only; ``"full"`` decodes every frame; ``"auto"`` (the default) chooses per file
    (vidscan.video.strategy) and says which in ``timeline.stats["decode_choice"]``.
    ``level``: ``"shot"`` (rows between visual boundaries, the default) or ``"scene"`` (rows
    that group similar consecutive shots); the other level is kept in ``timeline.alternate``.
    ``keep_embeddings`` keeps the sampled frames' embeddings on ``timeline.embedded``.
    """
    t0 = time.perf_counter()
    decode = DecodeSpec.of(decode)
    det = built_detector(detector)  # its options checked before anything is decoded
    emb = built_embedder(embedder)
    sampling = Sampling.parse(sampling) if isinstance(sampling, str) else sampling or default_sampling(emb)
    if decode.strategy == "coarse" and sampling.mode != "all":
        raise UsageError("coarse-to-fine decoding works with every-frame sampling")
    videos, every = embed_requests(path, [(emb, sampling)], decode=decode, progress=progress, cache=cache)
    timeline = segment_video(videos[0], det, emb, decode.backend, t0)
    timeline.embedded = videos[0] if keep_embeddings else None
    if every is not None:
        every.record(timeline)
    return switch_level(timeline, level)

