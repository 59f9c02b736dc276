"""Labelled training sets from footage: ``vidscan dataset``.

Per video: sample frames, label each one (prompts, examples or a probe, as ``classify``
scores them), keep the confident, steady ones (not a dissolve blend or a flash), keep only
frames unlike those already kept for the same label (``collect``'s greedy selection, so a
long static shot gives one image, not 500), cap each label, and write the exact decoded
frames (full size, PNG by default: lossless) into one split. Splits are **by video**
(seeded): every frame of a video is in one split, so near-copies of a training frame can
never sit in validation or test and flatter the model.

Layouts loaded without conversion::

    OUT/train/<label>/<video>_<HH-MM-SS.mmm>_f<frame>.png   torchvision.datasets.ImageFolder(OUT/"train")
    OUT/<split>/metadata.csv  (file_name, label, ...)       datasets.load_dataset("imagefolder", data_dir=OUT)
    OUT/manifest.csv (+ .parquet with pyarrow)              one row per image: file, label, split, video, frame, ...
    OUT/labels.json                                         the label order, the settings, the videos and their splits

A re-run with more videos adds them: videos already in the manifest are not read again and
their images are left as they are; each video's images and the updated manifest are put in
place together, so an interrupted run keeps every video it finished.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

from vidscan.atomic import Outputs, atomic_write_bytes, atomic_write_text, check_target, discard_output, output_group
from vidscan.cache import EmbeddingCache
from vidscan.collect import STEADY_SIMILARITY, DiverseSelector, collect_sampling, steady_samples
from vidscan.embed.base import Embedder
from vidscan.errors import InputError, OutputError, UsageError
from vidscan.extract import embed_video
from vidscan.images import IMAGE_FORMATS, frame_filename, write_image
from vidscan.labels.probe import LinearProbe
from vidscan.labels.smoothing import viterbi
from vidscan.options import (COLLECT_HOLD_S, COLLECT_MAX_SIMILARITY, DATASET_MIN_CONFIDENCE, DATASET_PER_LABEL, DATASET_SPLITS,
                             EmbedderSpec, LabellingSpec, built_embedder)
from vidscan.progress import NullProgress, Progress
from vidscan.timeline import timecode
from vidscan.video import Sampling, open_video
from vidscan.video.base import DEFAULT_BACKEND

SPLITS = ("train", "val", "test")
# The defaults live in vidscan.options (each written once; the command line reads them there).
DEFAULT_SPLIT_SHARES, DEFAULT_MIN_CONFIDENCE, DEFAULT_PER_LABEL = DATASET_SPLITS, DATASET_MIN_CONFIDENCE, DATASET_PER_LABEL
DEFAULT_MAX_SIMILARITY, DEFAULT_HOLD_S = COLLECT_MAX_SIMILARITY, COLLECT_HOLD_S
#: Samples this close (seconds) to a change of smoothed label are not used (see :func:`agrees_with_its_run`).
EDGE_S = 0.5
MANIFEST = "manifest.csv"
MANIFEST_COLUMNS = ["file", "label", "split", "video", "frame", "time_s", "timecode", "confidence"]
METADATA = "metadata.csv"
#: WebDataset shards (``--webdataset``): ``OUT/webdataset/<split>-000000.tar``, this many images each.
SHARD_FOLDER = "webdataset"
SHARD_SIZE = 1000
LABELS_FILE = "labels.json"


@dataclass
class DatasetResult:
    folder: Path
    manifest: pd.DataFrame  # every image of the dataset, earlier runs' included
    added: dict[str, int]  # video -> images added by this run
    skipped: list[str]  # videos already in the dataset, left as they were
    failed: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    def counts(self) -> pd.DataFrame:
        """Images per label (rows) and split (columns)."""
        table = self.manifest.pivot_table(index="label", columns="split", values="file", aggfunc="count", fill_value=0)
        return table.reindex(columns=[s for s in SPLITS if s in table.columns])


def parse_split_shares(text: str | Sequence[float]) -> tuple[float, float, float]:
    """``"0.8,0.1,0.1"`` -> the train/val/test shares (they must be >= 0 and sum to 1, train > 0)."""
    parts = text.split(",") if isinstance(text, str) else list(text)
    try:
        shares = tuple(float(p) for p in parts)
    except ValueError:
        raise UsageError(f"--splits takes three numbers for train,val,test, e.g. 0.8,0.1,0.1; got {text!r}") from None
    if len(shares) != 3 or any(not np.isfinite(s) or s < 0 for s in shares) or abs(sum(shares) - 1) > 1e-6 or shares[0] <= 0:
        raise UsageError(f"--splits takes three shares >= 0 for train,val,test that sum to 1 (train above 0), got {text!r}")
    return shares  # type: ignore[return-value]


def assign_splits(new_videos: list[str], existing: dict[str, str], shares: tuple[float, float, float], seed: int) -> dict[str, str]:
    """A split for each new video, keeping those already assigned.

    The new videos are shuffled (seeded) and each goes to the split furthest below its target
    number of videos (share x all videos, and at least one for a split with a share once there
    are enough videos for every such split), so earlier assignments never move and the
    proportions hold as a collection grows.
    """
    order = sorted(new_videos)
    np.random.default_rng(seed).shuffle(order)
    total = len(existing) + len(order)
    wanted = [s for s, share in zip(SPLITS, shares) if share > 0]
    target = {s: max(share * total, 1.0 if total >= len(wanted) else 0.0) if share > 0 else 0.0 for s, share in zip(SPLITS, shares)}
    count = {s: sum(1 for v in existing.values() if v == s) for s in SPLITS}
    out: dict[str, str] = {}
    for video in order:
        split = max(wanted, key=lambda s: (target[s] - count[s], -SPLITS.index(s)))
        out[video] = split
        count[split] += 1
    return out


def make_dataset(
    targets: str | Path | Sequence[str | Path],
    out_dir: str | Path,
    *,
    labels: Any = None,
    config: str | Path | None = None,
    examples: str | Path | None = None,
    probe: str | Path | LinearProbe | None = None,
    embedder: str | EmbedderSpec | Embedder | None = None,
    sampling: Sampling | str | None = None,
    min_confidence: float = DEFAULT_MIN_CONFIDENCE,
    max_similarity: float = DEFAULT_MAX_SIMILARITY,
    hold: float = DEFAULT_HOLD_S,
    per_label: int = DEFAULT_PER_LABEL,
    splits: str | Sequence[float] = DEFAULT_SPLIT_SHARES,
    seed: int = 0,
    fmt: str = "png",
    webdataset: bool = False,
    cache: EmbeddingCache | None = None,
    backend: str = DEFAULT_BACKEND,
    progress: Progress | None = None,
    warn: Callable[[str], None] | None = None,
) -> DatasetResult:
    """Add the labelled, diverse, confident frames of ``targets`` to the dataset in ``out_dir``
    (see the module docstring). Labels come from ``labels``/``config``/``examples`` (as
    classify) or a trained ``probe``. ``webdataset`` also writes the whole dataset as WebDataset
    tar shards (rewritten from the manifest after each video). A video that cannot be read is
    skipped (``warn``, :attr:`DatasetResult.failed`) unless it is the only one.
    """
    from vidscan.inputs import discover_inputs, each_readable

    t0 = time.perf_counter()
    if not 0 <= min_confidence <= 1:
        raise UsageError(f"--min-confidence must be in [0, 1], got {min_confidence}")
    if not 0 < max_similarity <= 1:
        raise UsageError(f"--max-similarity must be in (0, 1], got {max_similarity}")
    if not hold >= 0:
        raise UsageError(f"--hold must be >= 0 seconds, got {hold}")
    if int(per_label) != per_label or per_label < 1:
        raise UsageError(f"--per-label must be a whole number >= 1, got {per_label}")
    if fmt not in IMAGE_FORMATS:
        raise UsageError(f"image format must be one of {', '.join(IMAGE_FORMATS)}, got {fmt!r}")
    shares = parse_split_shares(splits)
    folder = Path(out_dir)
    check_target(folder, folder=True)
    specs = [str(targets)] if isinstance(targets, (str, Path)) else [str(t) for t in targets]
    videos = [v.path for v in discover_inputs(specs)]
    from vidscan.classification import frame_scorer, labelling_embedder

    emb = built_embedder(embedder if embedder is not None else labelling_embedder(labels, config, examples, probe))
    scorer = frame_scorer(emb, labels, config, examples, probe, warn)
    if isinstance(sampling, str):
        sampling = Sampling.parse(sampling)
    sampling = sampling or collect_sampling(emb)
    progress = progress or NullProgress()

    previous = read_manifest(folder)
    described = read_labels_file(folder)
    if described is not None and described.get("labels") != list(scorer.names):
        raise UsageError(f"{folder} holds a dataset with labels {', '.join(described.get('labels', []))}; "
                         f"this run's labels are {', '.join(scorer.names)}: use another folder")
    known = dict(described.get("videos", {})) if described else {}
    keys = {v: str(Path(v).resolve()) for v in videos}
    skipped = [v for v in videos if keys[v] in known]
    new = [v for v in videos if keys[v] not in known]
    split_of = {**known, **assign_splits([keys[v] for v in new], known, shares, seed)}
    settings = {"embedder": emb.describe(), "sampling": sampling.describe(), "mode": scorer.mode, "min_confidence": float(min_confidence),
                "max_similarity": float(max_similarity), "hold_s": float(hold), "per_label": int(per_label), "splits": dict(zip(SPLITS, shares)),
                "seed": int(seed), "format": fmt}
    state = {"manifest": previous}
    added: dict[str, int] = {}
    failed: list[tuple[str, str]] = []

    def add(video: str | Path) -> pd.DataFrame:
        """This video's images, written with the manifest that lists them (all or none)."""
        key = keys[str(video)]
        rows = _video_rows(str(video), key, split_of[key], emb, scorer, sampling, min_confidence, max_similarity, hold, per_label,
                           state["manifest"], seed, fmt, cache, backend, progress)
        combined = pd.concat([state["manifest"], rows], ignore_index=True) if len(state["manifest"]) else rows
        described = {"labels": list(scorer.names), "settings": settings, "videos": {**known, key: split_of[key]}}
        _write_video(folder, str(video), rows, combined, described, fmt, backend)
        state["manifest"] = combined
        return rows

    for video, rows in each_readable(new, add, failed, warn):
        known[keys[str(video)]] = split_of[keys[str(video)]]
        added[str(video)] = len(rows)
    manifest = state["manifest"]
    if webdataset and len(manifest) and (added or not (folder / SHARD_FOLDER).is_dir()):
        with output_group(folders=[folder / SHARD_FOLDER]):
            write_shards(folder, manifest, list(scorer.names))
    result = DatasetResult(folder, manifest, added, skipped, failed)
    result.warnings = _layout_warnings(result, scorer.names)
    if warn is not None:
        for message in result.warnings:
            warn(message)
    result.timings = {"total_s": round(time.perf_counter() - t0, 4)}
    return result


def _video_rows(video: str, key: str, split: str, emb: Embedder, scorer, sampling: Sampling, min_confidence: float, max_similarity: float,
                hold: float, per_label: int, manifest: pd.DataFrame, seed: int, fmt: str, cache: EmbeddingCache | None, backend: str,
                progress: Progress) -> pd.DataFrame:
    """The images this video adds: confident, steady, diverse within each label, under the cap."""
    embedded = embed_video(video, emb, sampling, backend=backend, progress=progress, cache=cache)
    log_p = scorer.log_probs(embedded.embeddings)
    probs = np.exp(log_p)
    best, confidence = probs.argmax(axis=1), probs.max(axis=1)
    best[~agrees_with_its_run(log_p, embedded.times, embedded.samples_per_second)] = -1
    position = {int(i): k for k, i in enumerate(embedded.indices)}
    steady = steady_samples([(embedded.embeddings, embedded.indices, embedded.times)], hold, STEADY_SIMILARITY)
    steady_rows = np.array([position[int(i)] for _, indices, _ in steady for i in indices], np.int64)
    have = manifest["label"].value_counts().to_dict() if len(manifest) else {}
    rng = np.random.default_rng([seed, int(hashlib.sha1(key.encode()).hexdigest()[:8], 16)])
    stem = _stem(video, key, manifest)
    rows = []
    for k, name in enumerate(scorer.names):
        mine = steady_rows[(best[steady_rows] == k) & (confidence[steady_rows] >= min_confidence)]
        if not len(mine):
            continue
        selector = DiverseSelector(max_similarity, embedded.embeddings.shape[1])
        kept = mine[selector.offer(embedded.embeddings[mine])[0]]
        room = max(0, per_label - int(have.get(name, 0)))
        if len(kept) > room:
            kept = np.sort(rng.choice(kept, room, replace=False))
        for r in kept.tolist():
            frame, t = int(embedded.indices[r]), float(embedded.times[r])
            rows.append({"file": f"{split}/{name}/{frame_filename(stem, frame, t, fmt)}", "label": name, "split": split, "video": key,
                         "frame": frame, "time_s": round(t, 6), "timecode": timecode(t), "confidence": round(float(confidence[r]), 6)})
    return pd.DataFrame(rows, columns=MANIFEST_COLUMNS).sort_values(["frame", "label"], ignore_index=True)


def agrees_with_its_run(log_p: np.ndarray, times: np.ndarray, samples_per_second: float) -> np.ndarray:
    """Which samples to trust: the frame's own label is the label of its smoothed run (Viterbi,
    the per-frame smoothing classify uses), and the frame is not within :data:`EDGE_S` of a
    change of run (a dissolve between an ad and the game is half of each).

    Why: a training set is built from the frames that look most unlike the others, which is
    exactly where a single-frame labeller errs: on three generated broadcasts (few-shot
    features) the kept frames' labels went from 37 of 40 right (a blend at an ad's edge, a
    game frame called commentary, an ad called game) to 35 of 36 (the ad, which its whole
    spot was called, remains).
    """
    penalty = LabellingSpec().smooth * max(samples_per_second, 1e-6)
    path = viterbi(log_p, penalty)
    keep = np.argmax(log_p, axis=1) == path
    changes = times[1:][np.diff(path) != 0]
    if len(changes):
        after = np.clip(np.searchsorted(changes, times), 0, len(changes) - 1)
        before = np.clip(after - 1, 0, len(changes) - 1)
        keep &= np.minimum(np.abs(times - changes[after]), np.abs(times - changes[before])) > EDGE_S
    return keep


def _stem(video: str, key: str, manifest: pd.DataFrame) -> str:
    """The video's name in its images' names; with a short hash when another video of the
    dataset has the same name (two ``match.mp4`` in different folders)."""
    stem = Path(video).stem
    if len(manifest) and ((manifest["video"] != key) & (manifest["video"].map(lambda v: Path(v).stem) == stem)).any():
        stem = f"{stem}-{hashlib.sha1(key.encode()).hexdigest()[:6]}"
    return stem


def _write_video(folder: Path, video: str, rows: pd.DataFrame, manifest: pd.DataFrame, described: dict[str, Any], fmt: str, backend: str) -> None:
    """This video's images, the manifest, the per-split metadata and labels.json: all or none."""
    outputs = Outputs([video])
    outputs.folder(folder)
    for sub in sorted({str(Path(f).parent) for f in rows["file"]}):
        outputs.folder(folder / Path(sub).parts[0])
        outputs.folder(folder / sub)
    with outputs:
        by_frame: dict[int, list[str]] = {}
        for frame, file in zip(rows["frame"].tolist(), rows["file"].tolist()):
            by_frame.setdefault(int(frame), []).append(file)
        written: set[int] = set()
        if by_frame:
            with open_video(video, backend) as source:
                for batch in source.batches(Sampling.frames(by_frame), size=None, batch_size=8):
                    for rgb, index in zip(batch.frames, batch.indices.tolist()):
                        for file in by_frame[int(index)]:
                            write_image(folder / file, rgb, fmt)
                        written.add(int(index))
        missing = sorted(set(by_frame) - written)
        if missing:
            raise InputError(f"{len(missing)} chosen frame(s) could not be decoded again (first: frame {missing[0]})", path=video)
        _write_tables(folder, manifest, described)


def write_shards(folder: Path, manifest: pd.DataFrame, labels: list[str], size: int = SHARD_SIZE) -> list[Path]:
    """The dataset as WebDataset shards: per split, ``<split>-NNNNNN.tar`` of ``size`` samples,
    each sample ``<key>.<png|jpg>`` (the image), ``<key>.cls`` (the label's index in
    labels.json) and ``<key>.json`` (its manifest row). Keys carry no dots (WebDataset splits
    a name at its first dot). Images are read back from the dataset's files, a shard at a time."""
    import io
    import tarfile

    from vidscan.atomic import atomic_open

    written: list[Path] = []
    for split in SPLITS:
        rows = manifest[manifest["split"] == split].reset_index(drop=True)
        for shard, start in enumerate(range(0, len(rows), size)):
            path = folder / SHARD_FOLDER / f"{split}-{shard:06d}.tar"
            with atomic_open(path, "wb", encoding=None) as handle, tarfile.open(fileobj=handle, mode="w") as tar:
                for _, row in rows.iloc[start : start + size].iterrows():
                    key = Path(row["file"]).with_suffix("").as_posix().replace("/", "_").replace(".", "-")
                    record = {k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()}
                    parts = {Path(row["file"]).suffix.lstrip("."): (folder / row["file"]).read_bytes(),
                             "cls": str(labels.index(row["label"])).encode(), "json": json.dumps(record).encode()}
                    for ext, data in parts.items():
                        info = tarfile.TarInfo(f"{key}.{ext}")
                        info.size = len(data)
                        tar.addfile(info, io.BytesIO(data))
            written.append(path)
    for old in sorted(set((folder / SHARD_FOLDER).glob("*.tar")) - set(written)):  # an earlier layout's extra shards
        discard_output(old)
    return written


def _write_tables(folder: Path, manifest: pd.DataFrame, described: dict[str, Any]) -> None:
    atomic_write_text(folder / MANIFEST, manifest.to_csv(index=False))
    try:
        from vidscan.formats import parquet_bytes

        atomic_write_bytes(folder / "manifest.parquet", parquet_bytes(manifest, {"labels": described["labels"]}))
    except ImportError:  # pyarrow is an extra; the CSV has the same rows
        pass
    for split in SPLITS:
        mine = manifest[manifest["split"] == split]
        if len(mine):
            meta = mine.assign(file_name=[f.split("/", 1)[1] for f in mine["file"]])
            atomic_write_text(folder / split / METADATA, meta[["file_name", *[c for c in MANIFEST_COLUMNS if c not in ("file", "split")]]].to_csv(index=False))
    atomic_write_text(folder / LABELS_FILE, json.dumps(described, indent=2) + "\n")


def read_manifest(folder: Path) -> pd.DataFrame:
    """The dataset's manifest so far (empty when new)."""
    path = folder / MANIFEST
    if not path.exists():
        return pd.DataFrame(columns=MANIFEST_COLUMNS)
    try:
        table = pd.read_csv(path, dtype={"file": str, "label": str, "split": str, "video": str})
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise OutputError(f"the dataset's manifest cannot be read ({type(exc).__name__}); move it away or use another folder", path=str(path)) from None
    if list(table.columns) != MANIFEST_COLUMNS:
        raise OutputError("manifest.csv here is not a vidscan dataset manifest; use another folder", path=str(path))
    return table


def read_labels_file(folder: Path) -> dict[str, Any] | None:
    path = folder / LABELS_FILE
    if not path.exists():
        if (folder / MANIFEST).exists():
            raise OutputError(f"{MANIFEST} without {LABELS_FILE}: not a vidscan dataset (or a damaged one); use another folder", path=str(folder))
        return None
    try:
        described = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise OutputError(f"{LABELS_FILE} cannot be read ({type(exc).__name__}); use another folder", path=str(path)) from None
    if not isinstance(described, dict) or not isinstance(described.get("labels"), list) or not isinstance(described.get("videos"), dict):
        raise OutputError(f"{LABELS_FILE} is not a vidscan dataset description; use another folder", path=str(path))
    return described


def _layout_warnings(result: DatasetResult, names: list[str]) -> list[str]:
    """What would trip a trainer: a label with no image at all, or a split that lacks a label
    (ImageFolder numbers classes per folder, so a split without some label numbers them differently)."""
    out = []
    if len(result.manifest) == 0:
        return ["no frame was confident (>= min confidence) for any label: the dataset is empty"]
    present = set(result.manifest["label"])
    missing = [n for n in names if n not in present]
    if missing:
        out.append(f"no images for label(s) {', '.join(missing)}: give videos that show them, or lower --min-confidence")
    for split in SPLITS:
        labels = set(result.manifest.loc[result.manifest["split"] == split, "label"])
        if labels and labels != present:
            out.append(f"the {split} split has no images of {', '.join(sorted(present - labels))}: ImageFolder would number its classes "
                       f"differently; use labels.json's order (class_to_idx) or add videos")
    return out


__all__ = ["write_shards", "DEFAULT_MIN_CONFIDENCE", "DEFAULT_PER_LABEL", "DatasetResult", "SPLITS", "assign_splits", "make_dataset", "parse_split_shares",
           "read_manifest"]
