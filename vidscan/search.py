"""Semantic search: rank the sampled frames of one video (or a folder of them) against a query.

A query is text (CLIP's text tower) or an image (embedded by the same embedder as the
frames, so image search also works with the weight-free ``features`` embedder). Frames are
ranked by cosine similarity to it. Frame embeddings come from :func:`vidscan.extract.embed_video`
with the embedding cache, so a video that ``scenes`` or ``classify`` already embedded with
the same embedder and sampling is not decoded again, and a second search of the same video
costs only one matrix-vector product.

Near-duplicates: neighbouring frames of one shot are almost the same picture, so they all
score alike and a plain top-10 would be ten frames of the best shot, a fraction of a second
apart. Hits are therefore picked greedily, best first, skipping any frame within
``min_gap`` seconds of a hit already taken from the same video (non-maximum suppression in
time). This needs no scene detection; a shot longer than ``min_gap`` can still give more
than one hit, which is what a long shot that keeps matching deserves.
"""

from __future__ import annotations

import bisect
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

from vidscan.atomic import output_group
from vidscan.cache import EmbeddingCache
from vidscan.checks import finite_number
from vidscan.config import MAX_SECONDS
from vidscan.embed.base import Embedder, l2_normalise
from vidscan.errors import InputError, UsageError
from vidscan.formats import format_for, write_table
from vidscan.images import frame_filename, load_image, resize, write_image
from vidscan.inputs import VIDEO_EXTENSIONS, each_readable, videos_under
from vidscan.extract import embed_video
from vidscan.progress import Progress
from vidscan.timeline import timecode
from vidscan.video import Sampling, read_frames
from vidscan.options import EmbedderSpec, built_embedder
from vidscan.video.base import DEFAULT_BACKEND, check_readable_file
from vidscan.plural import plural

#: A text query is embedded as typed and in CLIP's training-caption style; the two are averaged
#: (prompt ensembling). Bare phrases like "goal celebration" match a little better this way.
DEFAULT_PROMPTS: tuple[str, ...] = ("{}", "a photo of {}.")
DEFAULT_MIN_GAP_S = 2.0
HIT_COLUMNS = ["rank", "file", "frame", "time_s", "timecode", "score"]


@dataclass
class Hit:
    """One search result: a frame of a video and its cosine similarity to the query."""

    rank: int
    file: str
    frame: int
    time_s: float
    score: float
    thumbnail: str | None = None

    @property
    def timecode(self) -> str:
        return timecode(self.time_s)


@dataclass
class SearchResult:
    hits: list[Hit]
    settings: dict[str, Any] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)
    #: (file, one-line reason) for each video of a folder that could not be searched.
    failed: list[tuple[str, str]] = field(default_factory=list)

    def to_dataframe(self) -> pd.DataFrame:
        """One row per hit: rank, file, frame, time_s, timecode, score (and thumbnail if saved)."""
        thumbs = any(h.thumbnail for h in self.hits)
        columns = HIT_COLUMNS + (["thumbnail"] if thumbs else [])
        rows = [
            {"rank": h.rank, "file": h.file, "frame": h.frame, "time_s": round(h.time_s, 6), "timecode": h.timecode,
             "score": round(h.score, 6), **({"thumbnail": h.thumbnail} if thumbs else {})}
            for h in self.hits
        ]
        return pd.DataFrame(rows, columns=columns)

    def to_dict(self) -> dict[str, Any]:
        return {
            "settings": self.settings,
            "stats": self.stats,
            "failed": [{"file": f, "error": e} for f, e in self.failed],
            "hits": self.to_dataframe().to_dict(orient="records"),
        }

    def write(self, path: str | Path, fmt: str | None = None) -> str:
        """Write the hits in ``fmt`` or the format the extension names (:mod:`vidscan.formats`), atomically; returns the format."""
        fmt = format_for(path, fmt)
        write_table(path, fmt, self.to_dataframe(), self.to_dict(), rows_key="hits")
        return fmt


def find_videos(target: str | Path) -> list[Path]:
    """``target`` itself, or every video under a folder (see :func:`vidscan.inputs.videos_under`)."""
    root = Path(target)
    if not root.is_dir():
        check_readable_file(str(target))
        return [root]
    files = videos_under(root)
    if not files:
        raise InputError(f"no videos in this folder (looked for {' '.join(sorted(VIDEO_EXTENSIONS))})", path=str(target))
    return files


def search_sampling(embedder: Embedder) -> Sampling:
    """Default sampling: the same as ``scenes``/``classify`` use, so their cache entries are reused.

    That is every frame for the weight-free features (decoding dominates, and sparse sampling
    at 25 fps saves little of it because every GOP is decoded nearly to its end anyway) and
    2 frames/s for CLIP (the model dominates; a moment that lasts under half a second can be
    missed).
    """
    from vidscan.extract import default_sampling

    return default_sampling(embedder)


def embed_query(
    embedder: Embedder,
    text: str | None = None,
    image: str | Path | np.ndarray | None = None,
    prompts: Sequence[str] = DEFAULT_PROMPTS,
) -> np.ndarray:
    """The query as one unit vector ``float32 [D]`` in the embedder's space (text or image, not both)."""
    if (text is None) == (image is None):
        raise UsageError("give a text query or a query image, not both or neither")
    if image is not None:
        rgb = load_image(image) if not isinstance(image, np.ndarray) else np.asarray(image, np.uint8)
        if rgb.ndim != 3 or rgb.shape[-1] != 3:
            raise UsageError(f"a query image must be [H, W, 3] RGB, got shape {rgb.shape}")
        size = embedder.frame_size(rgb.shape[1], rgb.shape[0])
        return embedder.embed(resize(rgb, size)[None])[0]
    assert text is not None
    text = " ".join(text.split())
    if not text:
        raise UsageError("the query is empty: give some words, or an image with --image")
    if not embedder.has_text:
        raise UsageError(
            f"the {embedder.name!r} embedder has no text tower, so it cannot search by text; "
            "search with an image (--image query.jpg) or use a CLIP model (--embedder clip)"
        )
    texts = [p.format(text) for p in (prompts or ("{}",))]
    return l2_normalise(embedder.embed_text(texts).mean(axis=0))


def pick_peaks(times: np.ndarray, scores: np.ndarray, limit: int, min_gap: float) -> np.ndarray:
    """Indices of up to ``limit`` best scores, no two closer than ``min_gap`` seconds (greedy NMS).

    Ties go to the earlier sample. Each pick costs O(log picks), so scanning a long video is cheap.
    """
    order = np.argsort(-scores, kind="stable")
    if min_gap <= 0:
        return order[:limit]
    chosen: list[int] = []
    taken: list[float] = []  # sorted times of the picks
    for i in order:
        t = float(times[i])
        k = bisect.bisect_left(taken, t)
        if (k < len(taken) and taken[k] - t < min_gap) or (k > 0 and t - taken[k - 1] < min_gap):
            continue
        taken.insert(k, t)
        chosen.append(int(i))
        if len(chosen) == limit:
            break
    return np.asarray(chosen, np.int64)


def search(
    target: str | Path,
    query: str | None = None,
    *,
    image: str | Path | np.ndarray | None = None,
    embedder: str | EmbedderSpec | Embedder | None = None,
    sampling: Sampling | str | None = None,
    top: int = 10,
    min_gap: float = DEFAULT_MIN_GAP_S,
    prompts: Sequence[str] = DEFAULT_PROMPTS,
    cache: EmbeddingCache | None = None,
    backend: str = DEFAULT_BACKEND,
    progress: Progress | None = None,
    warn: Callable[[str], None] | None = None,
) -> SearchResult:
    """Rank the frames of ``target`` (a video, or a folder searched recursively) against a query.

    ``query`` is text (needs CLIP), ``image`` a path or ``uint8 [H, W, 3]`` array. ``embedder``
    defaults as in ``vidscan search``: CLIP for a text query, the weight-free features for an
    image (as every other command). Returns the
    ``top`` hits across all files, at most one per ``min_gap`` seconds of each video (0 turns
    that off). In a folder, a video that cannot be read is skipped, reported through ``warn``
    and listed in :attr:`SearchResult.failed`; a single unreadable video raises.
    """
    t0 = time.perf_counter()
    if finite_number("top", top, min=1) != int(top):  # inf and nan cannot reach int()
        raise UsageError(f"top must be a whole number >= 1, got {top}")
    top = int(top)
    min_gap = finite_number("min_gap", min_gap, min=0, max=MAX_SECONDS)
    if query is not None and image is not None:
        raise UsageError("give either a text query or --image, not both")
    if query is None and image is None:
        raise UsageError("nothing to search for: give a text query or a query image (--image)")
    if query is not None and not " ".join(query.split()):
        raise UsageError("the query is empty: give some words, or an image with --image")
    videos = find_videos(target)
    emb = built_embedder(embedder if embedder is not None else EmbedderSpec("clip") if query is not None else EmbedderSpec())
    if isinstance(sampling, str):
        sampling = Sampling.parse(sampling)
    sampling = sampling or search_sampling(emb)
    q = embed_query(emb, query, image, prompts)

    candidates: list[tuple[float, str, int, float]] = []
    failed: list[tuple[str, str]] = []
    samples = cached = 0
    decode_s = 0.0

    def embed(path: str | Path):
        return embed_video(path, emb, sampling, backend=backend, progress=progress, cache=cache)

    for path, video in each_readable(videos, embed, failed, warn):
        scores = video.embeddings @ q
        for i in pick_peaks(video.times, scores, top, min_gap):
            candidates.append((float(scores[i]), str(path), int(video.indices[i]), float(video.times[i])))
        samples += len(scores)
        cached += int(video.from_cache)
        decode_s += video.timings.get("decode_s", 0.0) + video.timings.get("embed_s", 0.0)
    if not candidates:
        reason = f"; first: {failed[0][1]}" if failed else ""
        raise InputError(f"none of the {plural(len(videos), 'video')} could be searched{reason}", path=str(target))
    candidates.sort(key=lambda c: (-c[0], c[1], c[2]))
    hits = [Hit(rank=k + 1, file=f, frame=fr, time_s=t, score=s) for k, (s, f, fr, t) in enumerate(candidates[:top])]
    settings = {
        "target": str(target),
        "query": None if query is None else " ".join(query.split()),
        "image": None if image is None or isinstance(image, np.ndarray) else str(image),
        "prompts": list(prompts) if query is not None else [],
        "embedder": emb.describe(),
        "sampling": sampling.describe(),
        "top": int(top),
        "min_gap_s": float(min_gap),
        "backend": backend,
    }
    stats = {
        "videos": len(videos) - len(failed),
        "videos_failed": len(failed),
        "videos_from_cache": cached,
        "samples_scored": samples,
        "decode_embed_s": round(decode_s, 4),
        "total_s": round(time.perf_counter() - t0, 4),
    }
    return SearchResult(hits, settings, stats, failed)


def save_thumbnails(result: SearchResult, folder: str | Path, fmt: str = "jpg", backend: str = DEFAULT_BACKEND) -> list[Path]:
    """Save each hit's exact frame (full size, upright) as ``<rank>_<video>_<time>_f<frame>.<fmt>`` in ``folder``.

    Sets :attr:`Hit.thumbnail`. Each video is opened once and only the GOPs holding hits are decoded.
    All of them are put in place together, or none (:class:`vidscan.atomic.Outputs`).
    """
    with output_group(folders=[folder], inputs=[h.file for h in result.hits]):
        return _save_thumbnails(result, folder, fmt, backend)


def _save_thumbnails(result: SearchResult, folder: str | Path, fmt: str, backend: str) -> list[Path]:
    written: list[Path] = []
    by_file: dict[str, list[Hit]] = {}
    for hit in result.hits:
        by_file.setdefault(hit.file, []).append(hit)
    width = len(str(len(result.hits)))
    for file, hits in by_file.items():
        frames, indices = read_frames(file, [h.frame for h in hits], backend=backend)
        lookup = {int(i): f for i, f in zip(indices, frames)}
        for hit in hits:
            if hit.frame not in lookup:
                raise InputError(f"frame {hit.frame} could not be decoded for its thumbnail", path=file)
            name = frame_filename(Path(file).stem, hit.frame, hit.time_s, fmt, prefix=f"{hit.rank:0{width}d}_")
            written.append(write_image(Path(folder) / name, lookup[hit.frame], fmt))
            hit.thumbnail = str(written[-1])
    return written


__all__ = ["DEFAULT_PROMPTS", "Hit", "SearchResult", "embed_query", "find_videos", "pick_peaks", "save_thumbnails", "search", "search_sampling"]
