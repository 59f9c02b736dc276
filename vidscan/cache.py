"""On-disk cache of per-video embeddings, so ``classify`` after ``scenes`` does not decode again.

An entry is keyed by the file's identity (absolute path, size, modification time), the
embedder's identity (model and weights) and the sampling. Entries are written atomically and
carry a SHA-256 of their arrays; an entry that fails to load or to verify is deleted and
recomputed, never trusted.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from vidscan.atomic import atomic_write_bytes

FORMAT_VERSION = 2
_ARRAYS = ("indices", "times", "embeddings", "luma", "diffs")


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


def _digest(arrays: dict[str, np.ndarray]) -> str:
    h = hashlib.sha256()
    for name in _ARRAYS:
        a = np.ascontiguousarray(arrays[name])
        h.update(name.encode())
        h.update(str(a.dtype).encode() + str(a.shape).encode())
        h.update(a.tobytes())
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

    def load(self, key: str) -> tuple[dict[str, np.ndarray], dict[str, Any]] | None:
        """Arrays and metadata of a verified entry, or None (missing or damaged: then removed)."""
        path = self._path(key)
        if not path.exists():
            self.misses += 1
            return None
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {name: data[name] for name in _ARRAYS}
                meta = json.loads(bytes(data["meta"]).decode())
            if meta.get("format") != FORMAT_VERSION or meta.get("sha256") != _digest(arrays):
                raise ValueError("checksum mismatch")
        except (OSError, ValueError, KeyError, zipfile.BadZipFile, json.JSONDecodeError, EOFError):
            self.rejected += 1
            self.misses += 1
            path.unlink(missing_ok=True)
            return None
        self.hits += 1
        return arrays, meta

    def store(self, key: str, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> Path:
        """Write an entry atomically (never a half-written file under the final name)."""
        meta = dict(meta, format=FORMAT_VERSION, sha256=_digest(arrays))
        buffer = io.BytesIO()
        np.savez(buffer, meta=np.frombuffer(json.dumps(meta).encode(), np.uint8), **{k: arrays[k] for k in _ARRAYS})
        path = self._path(key)
        atomic_write_bytes(path, buffer.getvalue())
        return path
