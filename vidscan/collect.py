"""Diverse-frame collection: the few stills of a video that differ from each other, for training data.

What it is for: building an image set (to label, to train or fine-tune a model on, or to use
as few-shot examples with ``classify --examples``) from hours of video. Consecutive frames
are near-duplicates, so exporting every frame (or every N-th) floods the set with copies of
long static shots and costs labelling time for nothing; ``collect`` keeps a frame only if it
looks different from every frame kept so far, so each distinct picture (about one per shot
or camera angle, more for shots that change) is kept once.

How: stream through the video once, embed the sampled frames batch by batch and keep a frame
when its cosine similarity to every kept frame is below ``max_similarity`` (greedy, in time
order). The kept embeddings live in one growing matrix and each batch is compared with it in
one matrix product, so memory is O(kept) rather than O(frames), and the work per sampled
frame is O(kept x dim): fine for hundreds or a few thousand kept frames; a very low
threshold on a very long video keeps few frames and stays fast, a threshold near 1 keeps
almost everything and gets slower as it goes. The kept frames are then decoded once more,
exactly and at full size (only the GOPs holding them), and written as images, with
``manifest.csv`` listing each one and the earlier kept frame it is closest to.

Transitions: the middle of a dissolve (or a flash, or heavy motion blur) is a blend unlike
anything before it, so plain greedy selection keeps it, and a blend is a bad training image.
A sample is therefore only a candidate if the picture still looks the same (similarity at
least ``STEADY_SIMILARITY``) ``hold`` seconds later. On the 40 s demo broadcast (features,
5 frames/s, max similarity 0.9) this took the kept frames from 14 to 9: the 4 dissolve
blends and a second frame of a panning shot went, every shot with a clean frame unlike the
earlier ones was still covered, and the result was the same for max similarity 0.5 to 1.
Within a shot the picture holds far better than 0.9: the similarity over 0.2 s was >= 0.95
for every synthetic look but the chaotic "life" pattern (median 0.97 there). ``hold=0``
turns the check off.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

import numpy as np
import pandas as pd

from vidscan.atomic import atomic_write_text, check_target, discard_output, output_group
from vidscan.embed.base import Embedder
from vidscan.errors import InputError, OutputError, UsageError
from vidscan.images import IMAGE_FORMATS, frame_filename, write_image
from vidscan.progress import NullProgress, Progress
from vidscan.timeline import timecode
from vidscan.video import Sampling, open_video
from vidscan.options import COLLECT_HOLD_S, COLLECT_MAX_SIMILARITY, EmbedderSpec, built_embedder
from vidscan.video.base import DEFAULT_BACKEND, check_readable_file

DEFAULT_MAX_SIMILARITY, DEFAULT_HOLD_S = COLLECT_MAX_SIMILARITY, COLLECT_HOLD_S  # vidscan.options holds the defaults
#: How alike a frame and the one ``hold`` seconds later must be for the frame to count as steady.
STEADY_SIMILARITY = 0.9
MANIFEST = "manifest.csv"
MANIFEST_COLUMNS = ["video", "frame", "time_s", "timecode", "file", "nearest_kept_frame", "similarity"]


class DiverseSelector:
    """Greedy selection of mutually dissimilar unit vectors, fed batch by batch.

    A vector is kept if its cosine similarity to every vector kept before it (in this batch
    or earlier ones) is below ``max_similarity``.
    """

    def __init__(self, max_similarity: float, dim: int) -> None:
        if not 0 < max_similarity <= 1:
            raise UsageError(f"max similarity must be in (0, 1], got {max_similarity}")
        self.max_similarity = float(max_similarity)
        self._kept = np.empty((64, dim), np.float32)
        self.count = 0

    @property
    def kept(self) -> np.ndarray:
        """The kept vectors ``[count, dim]``, in the order they were kept."""
        return self._kept[: self.count]

    def offer(self, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Offer a batch ``[B, dim]``; returns (rows kept, nearest earlier kept id or -1, its similarity).

        Kept ids count from 0 in the order vectors were kept.
        """
        x = np.asarray(vectors, np.float32)
        best = np.full(len(x), -np.inf, np.float32)
        nearest = np.full(len(x), -1, np.int64)
        if self.count and len(x):
            sims = x @ self.kept.T  # the one matrix product per batch: O(B x kept x dim)
            nearest = sims.argmax(axis=1)
            best = sims[np.arange(len(x)), nearest]
        candidates = np.flatnonzero(best < self.max_similarity)
        if candidates.size == 0:
            return candidates, nearest[:0], best[:0]
        within = x[candidates] @ x[candidates].T  # the candidates may resemble each other
        taken: list[int] = []  # positions in ``candidates``
        rows, near, score = [], [], []
        for j, row in enumerate(candidates):
            b, n = float(best[row]), int(nearest[row])
            if taken:
                m = int(np.argmax(within[j, taken]))
                if within[j, taken[m]] > b:
                    b, n = float(within[j, taken[m]]), self.count + m
            if b < self.max_similarity:
                taken.append(j)
                rows.append(int(row))
                near.append(n)
                score.append(b)
        self._append(x[rows])
        return np.asarray(rows, np.int64), np.asarray(near, np.int64), np.asarray(score, np.float32)

    def _append(self, vectors: np.ndarray) -> None:
        need = self.count + len(vectors)
        if need > len(self._kept):
            grown = np.empty((max(need, 2 * len(self._kept)), self._kept.shape[1]), np.float32)
            grown[: self.count] = self.kept
            self._kept = grown
        self._kept[self.count : need] = vectors
        self.count = need


@dataclass
class KeptFrame:
    frame: int
    time_s: float
    file: str  # image name inside the output folder
    nearest_kept_frame: int | None  # the most similar frame kept before this one
    similarity: float | None  # cosine similarity to it (below the threshold)


@dataclass
class CollectResult:
    video: str
    folder: Path
    kept: list[KeptFrame]
    samples: int  # sampled frames looked at
    settings: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def manifest(self) -> Path:
        return self.folder / MANIFEST

    def to_dataframe(self) -> pd.DataFrame:
        rows = [
            {"video": self.video, "frame": k.frame, "time_s": round(k.time_s, 6), "timecode": timecode(k.time_s), "file": k.file,
             "nearest_kept_frame": k.nearest_kept_frame, "similarity": None if k.similarity is None else round(k.similarity, 6)}
            for k in self.kept
        ]
        frame = pd.DataFrame(rows, columns=MANIFEST_COLUMNS)
        frame["nearest_kept_frame"] = frame["nearest_kept_frame"].astype("Int64")
        return frame


def collect_sampling(embedder: Embedder) -> Sampling:
    """Default sampling: 5 frames/s for the weight-free features, 2/s for CLIP.

    Neighbouring frames at 25-60 fps are near-copies, so every frame would only add
    comparisons (the cost is samples x kept); 5/s still sees any shot of 0.2 s or more. CLIP
    costs far more per frame on a CPU, and 2/s matches scenes/classify.
    """
    return Sampling.per_second(5.0) if embedder.cheap else Sampling.per_second(2.0)


def collect(
    video: str | Path,
    out_dir: str | Path,
    *,
    max_similarity: float = DEFAULT_MAX_SIMILARITY,
    embedder: str | EmbedderSpec | Embedder = "features",
    sampling: Sampling | str | None = None,
    hold: float = DEFAULT_HOLD_S,
    fmt: str = "jpg",
    backend: str = DEFAULT_BACKEND,
    progress: Progress | None = None,
) -> CollectResult:
    """Keep the frames of ``video`` that differ from each other and save them to ``out_dir``.

    A sampled frame is kept when its cosine similarity to every frame kept before it is below
    ``max_similarity`` (lower keeps fewer, more different frames) and the picture still looks
    the same ``hold`` seconds later (not a dissolve blend or a flash; 0: no such check).
    Writes one image per kept frame (``<video>_<HH-MM-SS.mmm>_f<frame>.jpg``, exact, full
    size) and ``out_dir/manifest.csv``.
    The manifest's rows for other videos collected into the same folder are kept; this video's
    rows, and the images an earlier run listed for it, are replaced.
    """
    t0 = time.perf_counter()
    if not 0 < max_similarity <= 1:
        raise UsageError(f"--max-similarity must be in (0, 1], got {max_similarity}")
    if not hold >= 0:
        raise UsageError(f"--hold must be >= 0 seconds, got {hold}")
    if fmt not in IMAGE_FORMATS:
        raise UsageError(f"image format must be one of {', '.join(IMAGE_FORMATS)}, got {fmt!r}")
    check_readable_file(str(video))
    folder = Path(out_dir)
    check_target(folder, folder=True)  # before any decoding (exit 5)
    emb = built_embedder(embedder)
    if isinstance(sampling, str):
        sampling = Sampling.parse(sampling)
    sampling = sampling or collect_sampling(emb)
    video_id = str(Path(video).resolve())
    previous = _read_manifest(folder / MANIFEST)

    kept, samples = _select(video, emb, sampling, max_similarity, hold, backend, progress or NullProgress())
    t_select = time.perf_counter() - t0
    stem = Path(video).stem
    for k in kept:
        k.file = frame_filename(stem, k.frame, k.time_s, fmt)
    result = CollectResult(
        video=video_id, folder=folder, kept=kept, samples=samples,
        settings={"max_similarity": float(max_similarity), "hold_s": float(hold), "embedder": emb.describe(), "sampling": sampling.describe(), "format": fmt, "backend": backend},
    )
    with output_group(folders=[folder], inputs=[video]):  # the images and the manifest, or none of them
        _export(video, kept, folder, fmt, backend)
        others = previous[previous["video"] != video_id] if previous is not None else None
        table = result.to_dataframe() if others is None or others.empty else pd.concat([others, result.to_dataframe()], ignore_index=True)
        atomic_write_text(folder / MANIFEST, table.to_csv(index=False))
        if previous is not None:  # images an earlier run kept for this video and this run did not (removed once the new ones are in)
            fresh = {k.file for k in kept}
            for name in previous.loc[previous["video"] == video_id, "file"].astype(str):
                if name not in fresh and Path(name).name == name:
                    discard_output(folder / name)
    result.timings = {"select_s": round(t_select, 4), "total_s": round(time.perf_counter() - t0, 4)}
    return result


def _select(video: str | Path, emb: Embedder, sampling: Sampling, max_similarity: float, hold: float, backend: str,
            progress: Progress) -> tuple[list[KeptFrame], int]:
    """The streaming pass: decode small, embed, keep the steady frames unlike those kept so far."""
    from vidscan.extract import prefetch

    selector = DiverseSelector(max_similarity, emb.dim)
    kept: list[KeptFrame] = []
    samples = 0
    with open_video(video, backend) as source:
        info = source.info
        progress.start(f"decoding + comparing {Path(video).name}", info.duration_s)
        try:
            size = emb.frame_size(info.width, info.height)

            def embedded() -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
                nonlocal samples
                for batch in prefetch(source.batches(sampling, size=size, batch_size=emb.batch_size)):
                    samples += len(batch)
                    progress.update(float(batch.times[-1]) if len(batch) else 0.0)
                    yield emb.embed(batch.frames), batch.indices, batch.times

            for vectors, indices, times in steady_samples(embedded(), hold, STEADY_SIMILARITY):
                rows, nearest, sims = selector.offer(vectors)
                for row, near, sim in zip(rows.tolist(), nearest.tolist(), sims.tolist()):
                    kept.append(KeptFrame(int(indices[row]), float(times[row]), "",
                                          None if near < 0 else kept[near].frame, None if near < 0 else float(sim)))
        finally:
            progress.finish()
    if samples == 0:
        raise InputError("no frames could be decoded", path=str(video))
    return kept, samples


_Samples = tuple[np.ndarray, np.ndarray, np.ndarray]  # (vectors [B, D], frame indices [B], times [B])


def steady_samples(batches: Iterable[_Samples], hold: float, threshold: float) -> Iterator[_Samples]:
    """Pass on the samples whose picture still looks the same (similarity >= ``threshold``) ``hold`` s later.

    Each sample waits until one at least ``hold`` seconds later has arrived (memory: ``hold``
    seconds of samples). The last ``hold`` seconds are compared with the final sample.
    """
    if hold <= 0:
        yield from batches
        return
    pending: _Samples | None = None
    for v, i, t in batches:
        if pending is not None:
            v, i, t = (np.concatenate([p, x]) for p, x in zip(pending, (v, i, t)))
        later = np.searchsorted(t, t + hold - 1e-6)  # first sample at least ``hold`` later
        ready = int((later < len(t)).sum())  # times are sorted, so the ready ones come first
        steady = np.einsum("ij,ij->i", v[:ready], v[later[:ready]]) >= threshold
        yield v[:ready][steady], i[:ready][steady], t[:ready][steady]
        pending = (v[ready:], i[ready:], t[ready:])
    if pending is not None and len(pending[0]):
        v, i, t = pending
        steady = v @ v[-1] >= threshold
        yield v[steady], i[steady], t[steady]


def _export(video: str | Path, kept: list[KeptFrame], folder: Path, fmt: str, backend: str) -> None:
    """Decode the kept frames again, exactly and at full size, and write them as images."""
    by_frame = {k.frame: k for k in kept}
    written: set[int] = set()
    with open_video(video, backend) as source:
        for batch in source.batches(Sampling.frames(by_frame), size=None, batch_size=8):
            for rgb, index in zip(batch.frames, batch.indices.tolist()):
                write_image(folder / by_frame[index].file, rgb, fmt)
                written.add(index)
    missing = sorted(set(by_frame) - written)
    if missing:
        raise InputError(f"{len(missing)} kept frame(s) could not be decoded again (first: frame {missing[0]})", path=str(video))


def _read_manifest(path: Path) -> pd.DataFrame | None:
    """An earlier manifest in the output folder (to merge with), or None."""
    if not path.exists():
        return None
    try:
        table = pd.read_csv(path, dtype={"video": str, "file": str})
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise OutputError(f"an existing manifest cannot be read ({type(exc).__name__}); move it away or use another folder", path=str(path)) from None
    if not set(MANIFEST_COLUMNS) <= set(table.columns):
        raise OutputError("an existing manifest.csv is not a vidscan collect manifest; move it away or use another folder", path=str(path))
    table["nearest_kept_frame"] = table["nearest_kept_frame"].astype("Int64")
    return table[MANIFEST_COLUMNS]


__all__ = ["DEFAULT_HOLD_S", "CollectResult", "DiverseSelector", "KeptFrame", "collect", "collect_sampling", "steady_samples"]
