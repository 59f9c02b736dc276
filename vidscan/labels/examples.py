"""Few-shot examples: a folder with one sub-folder of images (or short clips) per label."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vidscan.embed.base import Embedder
from vidscan.errors import InputError
from vidscan.inputs import VIDEO_EXTENSIONS

IMAGE_EXTS = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".gif"}
#: Frames taken from each example clip (evenly spread, at most this many).
FRAMES_PER_CLIP = 8


def example_folders(root: str | Path) -> dict[str, Path]:
    """Label name -> folder, from the sub-folders of ``root``."""
    r = Path(root)
    if not r.is_dir():
        raise InputError("examples folder not found (it must hold one sub-folder per label)", path=str(root))
    folders = {p.name: p for p in sorted(r.iterdir()) if p.is_dir() and not p.name.startswith(".")}
    if len(folders) < 2:
        raise InputError("examples folder needs at least two sub-folders, one per label", path=str(root))
    return folders


def _load_image(path: Path, size: tuple[int, int]) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            img = img.convert("RGB")
            img = img.resize(size, Image.Resampling.BOX if img.width > size[0] else Image.Resampling.BILINEAR)
            return np.asarray(img, np.uint8)
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise InputError(f"example image cannot be read ({type(exc).__name__})", path=str(path)) from None


def _load_clip(path: Path, size: tuple[int, int]) -> np.ndarray:
    from vidscan.video import Sampling, open_video

    with open_video(path) as source:
        info = source.info
        step = max(1, int(info.frame_count / FRAMES_PER_CLIP)) if info.frame_count else 1
        frames = [b.frames for b in source.batches(Sampling.every(step), size=size)]
    if not frames:
        raise InputError("example clip has no frames", path=str(path))
    return np.concatenate(frames)[:FRAMES_PER_CLIP]


#: Example embeddings already computed in this process, keyed by the files (path, size,
#: mtime) and the embedder: a batch classifying thousands of videos with the same examples
#: embeds them once per worker, not once per video.
_MEMO: dict[tuple, np.ndarray] = {}


def example_files(folder: Path, label: str) -> list[Path]:
    """The example images and clips under ``folder`` (recursively, sorted); one-line error if none."""
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_EXTS | VIDEO_EXTENSIONS)
    if not files:
        raise InputError(f"no example images for label {label!r} (looked for {', '.join(sorted(IMAGE_EXTS))} and video clips)", path=str(folder))
    return files


def embed_examples(folder: Path, embedder: Embedder, label: str) -> np.ndarray:
    """Embeddings ``[K, D]`` of every image (and clip frame) in ``folder``."""
    size = embedder.frame_size(1280, 720)
    files = example_files(folder, label)
    key = (embedder.identity(), size, tuple((str(f), f.stat().st_size, f.stat().st_mtime_ns) for f in files))
    if key not in _MEMO:
        _MEMO[key] = embed_files(files, embedder)[0]
    return _MEMO[key]


def embed_files(files: list[Path], embedder: Embedder) -> tuple[np.ndarray, np.ndarray]:
    """Embeddings ``[K, D]`` of images and clips (a clip gives up to :data:`FRAMES_PER_CLIP`
    rows), and for each row the index of its file in ``files``; embedded a batch at a time,
    so a large folder is never held as pixels all at once."""
    size = embedder.frame_size(1280, 720)
    vectors: list[np.ndarray] = []
    owners: list[np.ndarray] = []
    pending: list[np.ndarray] = []
    pending_owner: list[int] = []

    def flush() -> None:
        if pending:
            vectors.append(embedder.embed(np.concatenate(pending)))
            owners.append(np.concatenate([np.full(len(p), k, np.int64) for p, k in zip(pending, pending_owner)]))
            pending.clear()
            pending_owner.clear()

    for k, f in enumerate(files):
        frames = _load_image(f, size)[None] if f.suffix.lower() in IMAGE_EXTS else _load_clip(f, size)
        pending.append(frames)
        pending_owner.append(k)
        if sum(len(p) for p in pending) >= embedder.batch_size:
            flush()
    flush()
    if not vectors:
        return np.zeros((0, embedder.dim), np.float32), np.zeros(0, np.int64)
    return np.concatenate(vectors), np.concatenate(owners)

