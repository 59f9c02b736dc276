"""Labelled embeddings for training a probe: from a folder of labelled images or a dataset manifest.

Two sources, both what users already have:

* a folder with one sub-folder of images (or short clips) per label, the layout of
  ``classify --examples`` and of one split of a ``vidscan dataset`` ImageFolder tree;
* a dataset manifest (``manifest.csv`` / ``.parquet`` with ``file`` and ``label`` columns and,
  from ``vidscan dataset``, ``split`` and ``video``): the probe trains on the ``train`` rows
  and is scored on the ``val`` rows it never saw.

Where the video of each image is known (the manifest's ``video`` column, or a file name
made by ``collect``/``dataset``), cross-validation keeps each video in one fold.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from vidscan.embed.base import Embedder
from vidscan.errors import InputError, UsageError
from vidscan.images import load_image, resize, video_stem_of
from vidscan.labels.config import check_names
from vidscan.labels.examples import IMAGE_EXTS, embed_files, example_files, example_folders
from vidscan.labels.probe import DEFAULT_C, DEFAULT_FOLDS, LinearProbe, fit_probe
from vidscan.options import EmbedderSpec, built_embedder
from vidscan.progress import NullProgress, Progress
from vidscan.video import Sampling

if TYPE_CHECKING:
    from vidscan.cache import EmbeddingCache

MANIFEST_NAMES = ("manifest.csv", "manifest.parquet")
TRAIN_SPLIT, VALIDATION_SPLIT = "train", "val"


@dataclass
class TrainingSet:
    """Embeddings with a label each; ``groups`` (the video of each row) and ``splits`` when known."""

    vectors: np.ndarray
    labels: list[str]
    names: list[str]
    groups: list[str] | None
    splits: list[str] | None
    source: str
    group_kind: str = "video"  # what ``groups`` names

    def subset(self, keep: np.ndarray) -> tuple[np.ndarray, list[str], list[str] | None]:
        rows = np.flatnonzero(keep)
        return self.vectors[rows], [self.labels[i] for i in rows], None if self.groups is None else [self.groups[i] for i in rows]


def find_manifest(source: Path) -> Path | None:
    """``source`` if it is a manifest file, the manifest inside a dataset folder, or None."""
    if source.is_file():
        return source
    for name in MANIFEST_NAMES:
        if (source / name).is_file():
            return source / name
    return None


def training_set(source: str | Path, embedder: Embedder, progress: Progress | None = None) -> TrainingSet:
    """The labelled embeddings in ``source``: a dataset manifest (or a folder holding one), or
    a folder of per-label sub-folders."""
    path = Path(source)
    if not path.exists():
        raise InputError("no such training folder or manifest", path=str(source))
    manifest = find_manifest(path)
    if manifest is not None:
        return from_manifest(manifest, embedder, progress)
    return from_folder(path, embedder)


def from_folder(folder: Path, embedder: Embedder) -> TrainingSet:
    """One sub-folder per label; the video of an image is read from a collect/dataset file name."""
    folders = example_folders(folder)
    check_names(list(folders))
    files: list[Path] = []
    file_labels: list[str] = []
    for name, sub in folders.items():
        found = example_files(sub, name)
        files += found
        file_labels += [name] * len(found)
    vectors, owner = embed_files(files, embedder)
    stems = [video_stem_of(f.name) if f.suffix.lower() in IMAGE_EXTS else f"clip:{f}" for f in files]  # a clip is its own video
    groups = None if any(s is None for s in stems) else [str(stems[k]) for k in owner]
    return TrainingSet(vectors, [file_labels[k] for k in owner], list(folders), groups, None, str(folder))


def read_manifest(path: Path) -> pd.DataFrame:
    """A manifest with at least ``file`` and ``label`` columns (``split``, ``video`` optional)."""
    try:
        table = pd.read_parquet(path) if path.suffix.lower() == ".parquet" else pd.read_csv(path, dtype=str, keep_default_na=False)
    except ImportError:
        raise UsageError("reading a Parquet manifest needs pyarrow: pip install 'vidscan[parquet]'") from None
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise InputError(f"manifest cannot be read ({type(exc).__name__})", path=str(path)) from None
    missing = [c for c in ("file", "label") if c not in table.columns]
    if missing:
        raise InputError(f"manifest has no {' or '.join(missing)} column (it needs file and label)", path=str(path))
    if table.empty:
        raise InputError("manifest lists no images", path=str(path))
    return table


def from_manifest(path: Path, embedder: Embedder, progress: Progress | None = None) -> TrainingSet:
    """Embed the manifest's images (paths relative to its folder), a batch at a time."""
    table = read_manifest(path)
    progress = progress or NullProgress()
    size = None
    chunks: list[np.ndarray] = []
    batch: list[np.ndarray] = []
    progress.start(f"embedding {len(table)} images", float(len(table)))
    try:
        for k, name in enumerate(table["file"].astype(str)):
            rgb = load_image(path.parent / name)
            size = size or embedder.frame_size(rgb.shape[1], rgb.shape[0])
            batch.append(resize(rgb, size))
            if len(batch) == embedder.batch_size:
                chunks.append(embedder.embed(np.stack(batch)))
                batch.clear()
                progress.update(float(k + 1))
        if batch:
            chunks.append(embedder.embed(np.stack(batch)))
    finally:
        progress.finish()
    labels = table["label"].astype(str).tolist()
    names = sorted(set(labels))
    groups = table["video"].astype(str).tolist() if "video" in table.columns else None
    splits = table["split"].astype(str).tolist() if "split" in table.columns else None
    return TrainingSet(np.concatenate(chunks), labels, names, groups, splits, str(path))


#: Samples this close (seconds) to a change of label in a timeline are not used: a cut placed
#: a frame off, or a dissolve, would teach the probe the wrong label.
TIMELINE_EDGE_S = 0.5


def read_segments(path: Path) -> pd.DataFrame:
    """``start_frame, end_frame, label`` rows of a labelled timeline: classify's CSV, Parquet or
    JSON (edited by hand or not). With both levels in the table, the rows of the first level."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".json":
            from vidscan.timeline import Timeline

            table = Timeline.from_json(path).to_dataframe()
        elif suffix == ".parquet":
            table = pd.read_parquet(path)
        else:
            table = pd.read_csv(path, keep_default_na=False, na_values=[""])
    except ImportError:
        raise UsageError("reading a Parquet timeline needs pyarrow: pip install 'vidscan[parquet]'") from None
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise InputError(f"timeline cannot be read ({type(exc).__name__})", path=str(path)) from None
    missing = [c for c in ("start_frame", "end_frame", "label") if c not in table.columns]
    if missing:
        raise InputError(f"timeline has no {', '.join(missing)} column(s): give classify's output (with labels)", path=str(path))
    if "level" in table.columns and len(table):
        table = table[table["level"] == table["level"].iloc[0]]
    return table[["start_frame", "end_frame", "label"]].sort_values("start_frame", ignore_index=True)


def from_timeline(path: Path, video: str | Path, embedder: Embedder, sampling: Sampling | None = None, cache: EmbeddingCache | None = None,
                  progress: Progress | None = None) -> TrainingSet:
    """The sampled frames of ``video`` labelled by the segments of a (corrected) timeline.

    Frames labelled ``unknown`` or not at all, and frames within :data:`TIMELINE_EDGE_S` of a
    change of label, are left out. Cross-validation is grouped by segment, so the folds do
    not hold neighbouring frames of one shot on both sides.
    """
    from vidscan.collect import collect_sampling
    from vidscan.extract import embed_video
    from vidscan.labels.config import UNKNOWN

    segments = read_segments(Path(path))
    embedded = embed_video(video, embedder, sampling or collect_sampling(embedder), cache=cache, progress=progress)
    starts = segments["start_frame"].to_numpy(np.int64)
    ends = segments["end_frame"].to_numpy(np.int64)
    labels = segments["label"].astype(str).where(segments["label"].notna(), "").tolist()
    fps = embedded.info.fps or 25.0
    edge = TIMELINE_EDGE_S * fps
    changes = np.array([starts[k] for k in range(1, len(starts)) if labels[k] != labels[k - 1]], np.float64)
    frames = embedded.indices.astype(np.int64)
    segment = np.searchsorted(starts, frames, side="right") - 1  # the segment each sample falls in (-1: before the first)
    inside = (segment >= 0) & (frames < ends[np.maximum(segment, 0)])
    named = np.array([labels[k] not in ("", UNKNOWN, "nan") for k in range(len(labels))] + [False], bool)
    keep = inside & named[np.where(segment >= 0, segment, len(labels))]
    if len(changes):
        after = np.clip(np.searchsorted(changes, frames), 0, len(changes) - 1)
        before = np.clip(after - 1, 0, len(changes) - 1)
        keep &= np.minimum(np.abs(changes[after] - frames), np.abs(changes[before] - frames)) > edge
    rows = np.flatnonzero(keep)
    row_labels = [labels[int(segment[r])] for r in rows]
    groups = [f"segment {int(segment[r])}" for r in rows]
    if not len(rows):
        raise InputError("no sampled frame falls inside a labelled segment of the timeline", path=str(path))
    names = sorted(set(row_labels))
    if len(names) < 2:
        raise InputError(f"the timeline's frames are all labelled {names[0]!r}: a probe needs frames of at least two labels "
                         "(correct the labels, or add a timeline of another video)", path=str(path))
    return TrainingSet(embedded.embeddings[rows], row_labels, names, groups, None, str(path), group_kind="segment")


def embedder_record(spec: EmbedderSpec, embedder: Embedder) -> dict[str, Any]:
    """What a probe keeps of its embedder: its description, and the spec to rebuild it with."""
    options = {k: v for k, v in spec.options().items() if k != "device"}
    return {**embedder.describe(), "spec": {"name": spec.name, **options}}


def train_probe(source: str | Path, *, video: str | Path | None = None, embedder: str | EmbedderSpec = EmbedderSpec(),
                sampling: Sampling | None = None, c: float = DEFAULT_C, folds: int = DEFAULT_FOLDS, seed: int = 0,
                cache: EmbeddingCache | None = None, progress: Progress | None = None) -> LinearProbe:
    """Fit a :class:`LinearProbe` on the labelled images in ``source`` (see the module
    docstring), or, with ``video``, on that video's frames labelled by the timeline ``source``.

    A manifest with a ``split`` column trains on its ``train`` rows and reports accuracy on
    its ``val`` rows; otherwise every row trains. Cross-validated accuracy is reported either way.
    """
    spec = EmbedderSpec(embedder) if isinstance(embedder, str) else embedder
    emb = built_embedder(spec)
    if video is not None:
        if not Path(source).is_file():
            raise InputError("no such timeline file (with --video, SOURCE is classify's labelled timeline of that video)", path=str(source))
        data = from_timeline(Path(source), video, emb, sampling, cache, progress)
    else:
        data = training_set(source, emb, progress)
    validation = None
    if data.splits is not None and TRAIN_SPLIT in data.splits:
        split = np.array(data.splits)
        vectors, labels, groups = data.subset(split == TRAIN_SPLIT)
        held_vectors, held_labels, _ = data.subset(split == VALIDATION_SPLIT)
        validation = (held_vectors, held_labels)
    else:
        vectors, labels, groups = data.vectors, data.labels, data.groups
    return fit_probe(vectors, labels, names=data.names, groups=groups, embedder=embedder_record(spec, emb), c=c, folds=folds, seed=seed,
                     validation=validation, sampling=sampling.describe() if sampling is not None else None, group_kind=data.group_kind)


__all__ = ["TrainingSet", "embedder_record", "find_manifest", "from_folder", "from_manifest", "from_timeline", "read_segments", "read_manifest", "train_probe", "training_set"]
