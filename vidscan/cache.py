"""On-disk cache of per-video embeddings, so ``classify`` after ``scenes`` does not decode again.

An entry is keyed by the file's identity (absolute path, size, modification time), the
embedder's identity (model and weights) and the sampling. Entries are written atomically and
carry a SHA-256 of everything that is read back (the arrays and the exact bytes of the JSON
metadata), and the caller's parser must accept what was read: an entry that fails to load,
to verify or to parse is deleted and recomputed, never trusted and never an error. The cache
is our own state, but any program (or a disk) can change it.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from pathlib import Path
from typing import Any, Callable, TypeVar

import numpy as np

from vidscan.atomic import atomic_write_bytes
from vidscan.embedded import EmbeddedVideo
from vidscan.errors import VidscanError
from vidscan.video import Sampling, VideoInfo

#: 3: the checksum covers the metadata too; 4: timestamps repaired on disordered files, the video
#: stream chosen as FFmpeg would (entries of older versions are never looked up).
FORMAT_VERSION = 4
_ARRAYS = ("indices", "times", "embeddings", "luma", "diffs")
#: What a parser may raise on an entry that verifies but does not make sense (a bug in an old
#: writer, a hand-made file with a valid checksum): the entry is a miss, not a crash.
INVALID_ENTRY_ERRORS: tuple[type[Exception], ...] = (ValueError, TypeError, KeyError, IndexError, AttributeError)
T = TypeVar("T")


def default_cache_dir() -> Path:
    """``$VIDSCAN_CACHE_DIR``, else ``$XDG_CACHE_HOME/vidscan``, else ``~/.cache/vidscan``."""
    env = os.environ.get("VIDSCAN_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "vidscan"


def file_identity(path: str | Path) -> str:
    p = Path(path).resolve()
    st = p.stat()
    return f"{p}|{st.st_size}|{st.st_mtime_ns}"


def _digest(arrays: dict[str, np.ndarray], meta: bytes) -> str:
    """SHA-256 of the arrays (names, dtypes, shapes, bytes) and of the metadata's exact bytes."""
    h = hashlib.sha256()
    for name in _ARRAYS:
        a = np.ascontiguousarray(arrays[name])
        h.update(name.encode())
        h.update(str(a.dtype).encode() + str(a.shape).encode())
        h.update(a.tobytes())
    h.update(b"meta" + str(len(meta)).encode() + b":" + meta)
    return h.hexdigest()


class EmbeddingCache:
    """A folder of verified ``.npz`` entries; see the module docstring."""

    def __init__(self, folder: str | Path | None = None) -> None:
        self.folder = Path(folder) if folder else default_cache_dir()
        self.hits = 0
        self.misses = 0
        self.rejected = 0

    def key(self, path: str | Path, embedder_identity: str, sampling: str, backend: str) -> str:
        text = "\n".join([f"v{FORMAT_VERSION}", file_identity(path), embedder_identity, sampling, backend])
        return hashlib.sha256(text.encode()).hexdigest()

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.npz"

    def has(self, key: str) -> bool:
        """Whether an entry exists under ``key`` (not yet verified: :meth:`load` does that)."""
        return self._path(key).exists()

    def load(self, key: str, parse: Callable[[dict[str, np.ndarray], dict[str, Any]], T]) -> T | None:
        """``parse(arrays, metadata)`` of a verified entry, or None when it is missing or damaged
        (unreadable, checksum mismatch, or ``parse`` rejects it with one of
        :data:`INVALID_ENTRY_ERRORS`): a damaged entry is deleted, so the caller recomputes it."""
        path = self._path(key)
        if not path.exists():
            self.misses += 1
            return None
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {name: data[name] for name in _ARRAYS}
                raw_meta = bytes(data["meta"])
                checksum = bytes(data["sha256"]).decode("ascii")
            if checksum != _digest(arrays, raw_meta):
                raise ValueError("checksum mismatch")
            meta = json.loads(raw_meta.decode())
            if not isinstance(meta, dict) or meta.get("format") != FORMAT_VERSION:
                raise ValueError("not an entry of this format")
            value = parse(arrays, meta)
        except (OSError, zipfile.BadZipFile, EOFError, UnicodeDecodeError, *INVALID_ENTRY_ERRORS):
            self.rejected += 1
            self.misses += 1
            path.unlink(missing_ok=True)
            return None
        self.hits += 1
        return value

    def store(self, key: str, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> Path:
        """Write an entry atomically (never a half-written file under the final name)."""
        raw_meta = json.dumps(dict(meta, format=FORMAT_VERSION)).encode()
        checksum = _digest(arrays, raw_meta).encode("ascii")
        buffer = io.BytesIO()
        np.savez(buffer, meta=np.frombuffer(raw_meta, np.uint8), sha256=np.frombuffer(checksum, np.uint8),
                 **{k: arrays[k] for k in _ARRAYS})
        path = self._path(key)
        atomic_write_bytes(path, buffer.getvalue())
        return path


# -- the embedded videos vidscan keeps here ---------------------------------------------

def video_from_entry(arrays: dict[str, np.ndarray], meta: dict[str, Any], sampling: Sampling) -> EmbeddedVideo:
    """The video of a cache entry (the parser :meth:`EmbeddingCache.load` takes); raises ValueError/TypeError/KeyError on one that does not make
    sense (the cache then drops it and the video is embedded again)."""
    n = len(arrays["indices"])
    if arrays["embeddings"].ndim != 2 or any(len(arrays[k]) != n for k in ("times", "embeddings", "luma")) \
            or len(arrays["diffs"]) not in (0, n):
        raise ValueError("arrays of different lengths")
    damaged = [(float(a), float(b)) for a, b in meta.get("damaged", [])]
    frame_count, duration_s = int(meta["frame_count"]), float(meta["duration_s"])
    if frame_count < n or not np.isfinite(duration_s) or duration_s < 0:
        raise ValueError("impossible frame count or duration")
    if not isinstance(meta["info"], dict) or not isinstance(meta["embedder"], str):
        raise TypeError("malformed metadata")
    return EmbeddedVideo(
        info=VideoInfo(**meta["info"]),
        sampling=sampling,
        embedder=meta["embedder"],
        indices=arrays["indices"],
        times=arrays["times"],
        embeddings=arrays["embeddings"],
        luma=arrays["luma"],
        diffs=arrays["diffs"],
        frame_count=frame_count,
        duration_s=duration_s,
        damaged=damaged,
        timings={"probe_s": 0.0, "decode_s": 0.0, "embed_s": 0.0, "cache_load_s": 0.0},
        from_cache=True,
    )


def coarse_video_from_entry(arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> tuple[EmbeddedVideo, dict[str, Any] | None]:
    """A coarse-to-fine cache entry: the video and the summary of how it was decoded."""
    coarse = meta.get("coarse")
    if coarse is not None and not isinstance(coarse, dict):
        raise TypeError("malformed coarse summary")
    return video_from_entry(arrays, meta, Sampling.all_frames()), coarse


def store_video(cache: "EmbeddingCache", key: str, video: EmbeddedVideo, extra: dict[str, Any] | None = None) -> None:
    """Store ``video`` (and ``extra`` metadata) under ``key``; an unwritable cache is ignored."""
    arrays = {"indices": video.indices, "times": video.times, "embeddings": video.embeddings, "luma": video.luma, "diffs": video.diffs}
    meta = {"info": video.info.to_dict(), "embedder": video.embedder, "frame_count": video.frame_count,
            "duration_s": video.duration_s, "damaged": [list(r) for r in video.damaged], **(extra or {})}
    try:
        cache.store(key, arrays, meta)
    except VidscanError:
        pass  # an unwritable cache must not fail the run
